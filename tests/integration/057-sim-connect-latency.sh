#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# A usbmux Connect crosses the device's link: its SYN/ACK comes back
# after the link's latency, waits out a stall, and is refused when the
# link drops the device meanwhile. Margins are generous: only "at least
# the latency" and "far less without it" are judged.
# linkq-test: alone

. "$(dirname "$0")/lib.sh"

RAW=$BUILD/tests/tools/lq-raw
[ -x "$RAW" ] || fail "$RAW is not built"

# Emit a 32-bit little-endian number as four octal printf escapes.
u32le() {
	# shellcheck disable=SC2059 # the format is the data
	printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $(($1 & 255)) \
	    $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)))"
}

# A usbmuxd Connect to lockdownd (62078, 32498 once swapped) of device
# $1, in $T/in.
connect_request() {
	_body="<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<plist version=\"1.0\"><dict><key>MessageType</key><string>Connect\
</string><key>DeviceID</key><integer>$1</integer><key>PortNumber</key>\
<integer>32498</integer></dict></plist>"
	{
		u32le $((16 + $(printf '%s' "$_body" | wc -c)))
		u32le 1
		u32le 8
		u32le 1
		printf '%s' "$_body"
	} > "$T/in"
}

# Connect once; the milliseconds it took in $ms, the reply in $T/out.
# lq-raw shuts its side down after the request, so lockdownd reads EOF
# and closes as soon as the Connect is answered.
timed_connect() {
	_t0=$(date +%s%N)
	"$RAW" -s -t 20000 "$T/usbmuxd" < "$T/in" > "$T/out" ||
	    fail "lq-raw: the connection was not closed"
	ms=$((($(date +%s%N) - _t0) / 1000000))
	echo "Connect took $ms ms"
}

# The Number of the Connect's reply: 0 accepted, 3 refused.
connect_result() {
	tr -d '\n\t ' < "$T/out" |
	    sed -n 's/.*<key>Number<\/key><integer>\([0-9]*\)<.*/\1/p'
}

device_id() {
	ctl '{"cmd":"status"}' | jq -r '.devices[] | select(.device ==
	    "phone") | .device_id'
}

# -v: the simulator logs each Connect's handshake as it starts.
start_sim -v --control "$T/control"
connect_request "$(device_id)"

# No upper bound on the healthy Connect's time: that would be a timing
# threshold a loaded machine breaks. The latency and the stall are lower
# bounds the link enforces by sleeping, which a Connect that ignores the
# link (2-4 ms before) fails.
trace "a healthy link answers a Connect"
timed_connect
expect_eq "$(connect_result)" 0 "Connect result"

trace "latency-ms=300: the SYN/ACK takes the latency"
ctl '{"cmd":"fault","target":"sim-good","params":"latency-ms=300"}'
timed_connect
expect_eq "$(connect_result)" 0 "Connect result"
[ "$ms" -ge 300 ] || fail "a Connect with 300 ms latency took $ms ms"
ctl '{"cmd":"fault","target":"sim-good","params":"latency-ms=0"}'

trace "a stall of 4 s: the Connect waits it out"
ctl '{"cmd":"stall","device":"phone","ms":4000}'
timed_connect
expect_eq "$(connect_result)" 0 "Connect result"
[ "$ms" -ge 3500 ] || fail "a Connect during a 4 s stall took $ms ms"

trace "the link drops the device during the handshake: refused"
ctl '{"cmd":"stall","device":"phone","ms":3000}'
connect_request "$(device_id)"
"$RAW" -s -t 20000 "$T/usbmuxd" < "$T/in" > "$T/out" &
raw=$!
# Once the handshake is on the stalled link, drop the device; the
# answer must be a refusal.
wait_for "grep -c 'handshake on the link' '$T/sim.err' | grep -qx 4" 10 ||
    fail "the Connect did not reach the link"
ctl '{"cmd":"drop","device":"phone"}'
wait "$raw" || fail "lq-raw: the connection was not closed"
expect_eq "$(connect_result)" 3 "Connect result after a drop"

stop_sim
