#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# usbmuxd 1.1.1's preflight, as Debian runs it: an unpaired phone shows
# the Trust prompt at plug time without any client asking, and usbmuxd
# shows it to its clients anyway while it waits. When the user taps
# Trust, usbmuxd pairs the phone itself, saves the pair record and sends
# Paired; linkqd then identifies the phone with that record and tests
# it. linkqd never sends Pair.

. "$(dirname "$0")/lib.sh"

cat > "$T/bench.scn" <<'SCN'
device fresh trust=unpaired
port b path=1-2
cable c2
at 0s plug fresh b c2
SCN

# The simulator's view of the device: field $1.
dev_field() {
	ctl '{"cmd":"status"}' |
	    jq -r ".devices[] | select(.device == \"fresh\") | .$1"
}

trace "the Trust prompt shows at plug, before any client connects"
start_sim --control "$T/control" "$T/bench.scn"
fresh=$(sim_udid fresh)
wait_for "ctl '{\"cmd\":\"status\"}' | jq -e '.devices[] | select(.device == \"fresh\") | .trust_prompt and .preflight_wait and .visible' > /dev/null" 10 ||
    fail "no Trust prompt at plug: $(ctl '{"cmd":"status"}')"
expect_eq "$(dev_field pair_requests)" 0 "Pair requests before any client"

trace "linkqd sees it waiting for trust and leaves the pairing alone"
printf '[auto-test]\ndefault = off\nport 1-2 = quick\n%s' \
    '[profile quick]
duration = 3s
bulk = 16M

[verdict]
min-bulk = 16M
' > "$T/linkqd.conf"
start_linkqd "$T/linkqd.conf"
wait_for "get /v1/devices | jq -e '.devices[] | select(.udid == \"$fresh\") | .trust == \"not-paired\"' > /dev/null" 30 ||
    fail "linkqd does not see the untrusted phone: $(get /v1/devices)"
expect_eq "$(sql "SELECT count(*) FROM runs")" 0 "runs before Trust"

trace "Trust: usbmuxd pairs, sends Paired, linkqd tests the phone"
"$BUILD/tests/tools/lq-mux-events" > "$T/events" &
EVENTS_PID=$!
trap 'kill $EVENTS_PID 2>/dev/null || :; cleanup' EXIT
wait_for "grep -q '^add ' '$T/events'" 10 ||
    fail "the Listen subscriber saw no device: $(cat "$T/events")"
ctl '{"cmd":"trust","device":"fresh","accept":true}' > /dev/null
wait_for "grep -q '^paired ' '$T/events'" 10 ||
    fail "usbmuxd sent no Paired: $(cat "$T/events")"
kill "$EVENTS_PID"
wait "$EVENTS_PID" 2> /dev/null || :
trap cleanup EXIT
expect_eq "$(dev_field trust_prompt)" false "the prompt after Trust"
wait_for "[ \"\$(sql \"SELECT count(*) FROM runs WHERE verdict = 'PASS'\")\" = 1 ]" 60 ||
    fail "no passing run after Trust: $(get /v1/devices)"
grep -q "device $fresh: paired (usbmuxd id" "$T/linkqd.err" ||
    fail "linkqd did not take usbmuxd's Paired: $(tail -n 20 "$T/linkqd.err")"
expect_eq "$(dev_field pair_requests)" 0 "Pair requests from clients"
stop_linkqd
stop_sim
