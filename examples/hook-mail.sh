#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# A hook for linkqd (linkq.conf(5), HOOKS): mails what happened to the
# address given as its argument with mail(1) if it is installed, and
# logs it with logger(1) otherwise (or when no address is given).
#
#	[hooks]
#	command = /usr/local/bin/linkq-hook-mail bench@example.com
#	on = fail, marginal, stranded, degraded
#
# Try it by hand:
#	LINKQ_EVENT=fail LINKQ_PORT=1-2 LINKQ_VERDICT=FAIL \
#	    LINKQ_REASON='a test' sh examples/hook-mail.sh you@example.com

set -u

to=${1:-}
event=${LINKQ_EVENT:-unknown}
port=${LINKQ_PORT:-?}
[ -z "${LINKQ_PORT_LABEL:-}" ] || port="$port ($LINKQ_PORT_LABEL)"
subject="linkq: $event on port $port"

body() {
	echo "Event:   $event"
	echo "Verdict: ${LINKQ_VERDICT:-none}"
	echo "Reason:  ${LINKQ_REASON:-}"
	echo "Port:    $port"
	echo "Cable:   ${LINKQ_CABLE:-not labelled}"
	echo "Device:  ${LINKQ_UDID:-}"
	if [ -n "${LINKQ_RUN:-}" ]; then
		echo "Run:     $LINKQ_RUN (linkq show $LINKQ_RUN)"
	fi
	echo "Host:    $(uname -n)"
}

if [ -n "$to" ] && command -v mail > /dev/null 2>&1; then
	body | mail -s "$subject" "$to"
	exit
fi
# One line for the system log; linkqd's log has this hook's output too.
what="${LINKQ_VERDICT:-}${LINKQ_REASON:+: }${LINKQ_REASON:-}"
logger -t linkq-hook "$subject: $what" || { body; exit 1; }
