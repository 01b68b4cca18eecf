#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# usbmuxd sends garbage (issue 15): on linkqd's Listen connection each
# kind is logged with its reason, the connection is closed, the phone
# counts as detached, and linkqd listens again and sees the phone once
# usbmuxd behaves; garbage in answer to ListDevices fails that query
# with a reason. linkqd never dies of it (this runs under ASan too).
# Before linkqd had its own connection, libusbmuxd 2.0.2's thread read a
# binary-protocol Detached without its DeviceID from address 0.

. "$(dirname "$0")/lib.sh"

cat > "$T/bench.scn" <<'SCN'
device phone
port a path=1-1
cable good
at 0s plug phone a good
SCN

start_sim --control "$T/control" "$T/bench.scn"
phone=$(sim_udid phone)
quick_conf "$T/linkqd.conf" 'usbmuxd-retry = 10ms'
start_linkqd "$T/linkqd.conf"
wait_trusted "$phone"

# How many times linkqd has seen the phone attach.
attaches() {
	get /v1/devices | jq ".devices[] | select(.udid == \"$phone\") | .attaches"
}

# Send garbage $1 (then $2: close or keep) to linkqd's Listen
# connection; expect the log to give reason $3, and the phone back.
garbage() {
	trace "garbage $1, then $2"
	_n=$(attaches)
	_lines=$(wc -l < "$T/linkqd.err")
	ctl "{\"cmd\":\"usbmuxd-garbage\",\"kind\":\"$1\",\"then\":\"$2\"}" |
	    jq -e .ok > /dev/null || fail "usbmuxd-garbage $1 refused"
	wait_for "tail -n +$((_lines + 1)) '$T/linkqd.err' | grep -qF -- '$3'" 10 ||
	    fail "$1: no '$3' in the log: $(tail -n 20 "$T/linkqd.err")"
	kill -0 "$LINKQD_PID" || fail "linkqd died of $1"
	wait_for "get /v1/devices | jq -e '.devices[] | select(.udid == \"$phone\" and .attached and .attaches == $((_n + 1)))' > /dev/null" 20 ||
	    fail "$1: linkqd did not see the phone again: $(get /v1/devices)"
}

garbage huge-length keep 'usbmuxd: message length 4294967280 is out of range'
garbage short-length close 'usbmuxd: message length 4 is out of range'
garbage truncated close 'usbmuxd: the connection ended in the middle of a message'
garbage not-plist keep 'usbmuxd: payload of 20 bytes is not an XML plist'
garbage wrong-type keep 'usbmuxd: payload is a plist but not a dict'
garbage bad-message close 'usbmuxd: message of version 0, type 5'
garbage unknown-type keep 'usbmuxd: unknown MessageType "Rumour"'
garbage bad-attached keep 'usbmuxd: Attached without an integer DeviceID'
garbage random close 'closing the connection and listening again'

trace "garbage for ListDevices: the query fails with a reason"
# The worker's identify asks usbmuxd for ListDevices too (libusbmuxd's
# usbmuxd_get_device_list): let the last reattach's finish first, or it
# may take the garbage meant for the locate.
wait_trusted "$phone"
lines=$(wc -l < "$T/linkqd.err")
ctl '{"cmd":"usbmuxd-garbage","kind":"not-plist","to":"list-devices","count":1}' |
    jq -e .ok > /dev/null || fail "usbmuxd-garbage to list-devices refused"
garbage wrong-type close 'usbmuxd: payload is a plist but not a dict'
wait_for "tail -n +$((lines + 1)) '$T/linkqd.err' | grep -q 'no location: usbmuxd: ListDevices answer: payload of 20 bytes is not an XML plist'" 10 ||
    fail "no reason for the failed ListDevices: $(tail -n 20 "$T/linkqd.err")"

# linkqd asks again a moment later (devices.c), without waiting for
# the phone to attach again.
trace "the location is asked again: the phone is tested"
wait_trusted "$phone"
lq test -u "$phone" --profile quick
expect_eq "$rc" 0 "linkq test after the garbage: $(cat "$T/out" "$T/err")"
stop_linkqd
stop_sim
