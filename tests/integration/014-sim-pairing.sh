#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# Pairing as idevicepair sees it: an untrusted device answers Pair with
# the Trust prompt until it is accepted through the control socket; then
# it pairs (usbmuxd keeps the record and sends Paired), validates and
# serves a TLS session; Unpair forgets the host; a denied prompt and a
# passcode-locked device are refused with the real errors.
#
# usbmuxd's own preflight is off: it would pair the phone with a host of
# its own when the prompt is accepted, and a phone keeps every host it
# trusts, so after idevicepair's Unpair the phone would still trust
# usbmuxd's host (051 covers the preflight).

. "$(dirname "$0")/lib.sh"

cat > "$T/bench.scn" <<'SCN'
usbmuxd preflight=no
device fresh trust=unpaired
device locked trust=locked
port a path=1-1
port b path=1-2
cable c1
cable c2
at 0s plug fresh a c1
at 0s plug locked b c2
SCN

ctl() {
	"$BUILD/linkq-sim" --control "$T/control" --send "$1"
}
udid_of() {
	ctl '{"cmd":"status"}' | tr '{' '\n' |
	    sed -n "s/.*\"device\":\"$1\",\"udid\":\"\\([^\"]*\\)\".*/\\1/p"
}

start_sim --control "$T/control" "$T/bench.scn"
fresh=$(udid_of fresh)
locked=$(udid_of locked)
[ -n "$fresh" ] && [ -n "$locked" ] || fail "no UDIDs in status"
"$BUILD/tests/tools/lq-mux-events" > "$T/events" &
EVENTS_PID=$!
trap 'kill $EVENTS_PID 2>/dev/null || :; cleanup' EXIT
wait_for "grep -q ' $fresh\$' '$T/events'" 10 || fail "no Attached"
id=$(sed -n "s/^add \\([0-9]*\\) $fresh\$/\\1/p" "$T/events")

trace "an untrusted device: validate fails, pair shows the Trust prompt"
if idevicepair -u "$fresh" validate > "$T/out" 2>&1; then
	fail "validate succeeded without a pairing"
fi
if idevicepair -u "$fresh" pair > "$T/out" 2>&1; then
	fail "pair succeeded before Trust was tapped"
fi
expect_eq "$(cat "$T/out")" "ERROR: Please accept the trust dialog on the \
screen of device $fresh, then attempt to pair again." "pair before Trust"
ctl '{"cmd":"status"}' | grep -q '"device":"fresh"[^}]*"trust_prompt":true' ||
    fail "status does not show the waiting Trust prompt"

trace "Trust accepted: pair, Paired event, validate, a TLS session"
ctl '{"cmd":"trust","device":"fresh","accept":true}'
expect_eq "$(idevicepair -u "$fresh" pair)" \
    "SUCCESS: Paired with device $fresh" "pair after Trust"
wait_for "grep -q '^paired $id\$' '$T/events'" 10 ||
    fail "no Paired notification"
expect_eq "$(idevicepair -u "$fresh" validate)" \
    "SUCCESS: Validated pairing with device $fresh" "validate"
expect_eq "$(ideviceinfo -u "$fresh" -k ProductVersion)" 17.4 \
    "ProductVersion over the new pairing"

trace "unpair: the device forgets the host"
expect_eq "$(idevicepair -u "$fresh" unpair)" \
    "SUCCESS: Unpaired with device $fresh" "unpair"
if idevicepair -u "$fresh" validate > "$T/out" 2>&1; then
	fail "validate succeeded after unpair"
fi

trace "a denied Trust prompt"
ctl '{"cmd":"trust","device":"fresh","accept":false}'
if idevicepair -u "$fresh" pair > "$T/out" 2>&1; then
	fail "pair succeeded although Trust was denied"
fi
expect_eq "$(cat "$T/out")" "ERROR: Device $fresh said that the user \
denied the trust dialog." "pair after deny"

trace "a passcode-locked device refuses to pair"
if idevicepair -u "$locked" pair > "$T/out" 2>&1; then
	fail "a locked device paired"
fi
expect_eq "$(cat "$T/out")" "ERROR: Could not validate with device \
$locked because a passcode is set. Please enter the passcode on the \
device and retry." "pair while locked"
stop_sim
