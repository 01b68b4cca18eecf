#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# usbmuxd restarts 100 times (Debian's usbmuxd exits when the last phone
# leaves and udev starts it at the next plug): linkqd reconnects every
# time without keeping a descriptor per reconnect (libusbmuxd 2.0.2
# leaked one each time, issue 15), and still sees and tests the phone.

. "$(dirname "$0")/lib.sh"

cat > "$T/bench.scn" <<'SCN'
usbmuxd exit=yes preflight=no
device phone
port a path=1-1
cable good
at 0s plug phone a good
SCN

start_sim --control "$T/control" "$T/bench.scn"
phone=$(sim_udid phone)
printf 'usbmuxd-retry = 10ms\n\n[profile quick]\nduration = 3s\nbulk = 16M\n\n[verdict]\nmin-bulk = 16M\n' > "$T/linkqd.conf"
start_linkqd "$T/linkqd.conf"
wait_trusted "$phone"

# Open descriptors of linkqd now.
fds() {
	ls "/proc/$LINKQD_PID/fd" | wc -l
}

# Unplug (usbmuxd exits) and plug (usbmuxd starts again); wait until
# linkqd has seen the phone attach for the $1th time (and, to count
# descriptors with no probe under way, trusted it if $2 is given).
restart() {
	_trust=
	[ $# -lt 2 ] || _trust='and .trust == "trusted"'
	ctl '{"cmd":"unplug","device":"phone"}' > /dev/null
	wait_for "ctl '{\"cmd\":\"status\"}' | jq -e '.usbmuxd_running == false' > /dev/null" 10 ||
	    fail "usbmuxd did not exit: $(ctl '{"cmd":"status"}')"
	ctl '{"cmd":"plug","device":"phone","port":"a","cable":"good"}' > /dev/null
	wait_for "get /v1/devices | jq -e '.devices[] | select(.udid == \"$phone\" and .attached and .attaches == $1 $_trust)' > /dev/null" 10 ||
	    fail "restart $1: linkqd did not see the phone again: $(get /v1/devices)"
}

trace "a few restarts settle the descriptors linkqd keeps"
i=2
while [ $i -le 4 ]; do
	restart $i trusted
	i=$((i + 1))
done
base=$(fds)

trace "100 restarts: no descriptor more ($base after the first few)"
while [ $i -le 101 ]; do
	if [ $((i % 10)) -ne 0 ]; then
		restart $i
		i=$((i + 1))
		continue
	fi
	# Every tenth: a leak shows after minutes, not after all 100.
	restart $i trusted
	n=$(fds)
	[ "$n" -le "$base" ] ||
	    fail "restart $i: linkqd holds $n descriptors, $base before: $(ls -l /proc/$LINKQD_PID/fd)"
	i=$((i + 1))
done
kill -0 "$LINKQD_PID" || fail "linkqd exited"

trace "the phone is still testable"
wait_trusted "$phone"
lq test -u "$phone" --profile quick
expect_eq "$rc" 0 "linkq test after 100 restarts: $(cat "$T/out" "$T/err")"
stop_linkqd
stop_sim
