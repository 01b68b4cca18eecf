#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# Debian's usbmuxd exits when the last phone leaves (udev runs
# "usbmuxd -x") and udev starts it again at the next plug. Meanwhile
# its socket file stays and refuses connections. linkqd stays up, says
# usbmuxd is not running and that it starts when a phone is plugged,
# reconnects once it is back and tests the replugged phone.

. "$(dirname "$0")/lib.sh"

cat > "$T/bench.scn" <<'SCN'
usbmuxd exit=yes
device phone
port a path=1-1
cable good
at 0s plug phone a good
SCN

start_sim --control "$T/control" "$T/bench.scn"
phone=$(sim_udid phone)
quick_conf "$T/linkqd.conf"
start_linkqd "$T/linkqd.conf"
wait_trusted "$phone"
get /v1/status | jq -e '.usbmuxd == "connected"' > /dev/null ||
    fail "usbmuxd is not connected: $(get /v1/status)"

trace "the last phone leaves: usbmuxd exits, linkqd says so"
lines=$(wc -l < "$T/linkqd.err")
ctl '{"cmd":"unplug","device":"phone"}' > /dev/null
wait_for "ctl '{\"cmd\":\"status\"}' | jq -e '.usbmuxd_running == false' > /dev/null" 10 ||
    fail "usbmuxd did not exit: $(ctl '{"cmd":"status"}')"
[ -S "$T/usbmuxd" ] || fail "usbmuxd 1.1.1 leaves its socket file behind"
wait_for "get /v1/status | jq -e '.usbmuxd == \"not running\"' > /dev/null" 10 ||
    fail "status does not say usbmuxd is gone: $(get /v1/status)"
lq status
expect_eq "$rc" 0 "linkq status while usbmuxd is gone"
grep -q 'usbmuxd not running: it starts when a phone is plugged' \
    "$T/out" || fail "linkq status: $(cat "$T/out")"
kill -0 "$LINKQD_PID" || fail "linkqd exited with usbmuxd"
# Waiting is quiet: the detach, not a line per retry.
[ $(($(wc -l < "$T/linkqd.err") - lines)) -lt 15 ] ||
    fail "linkqd logs while usbmuxd is gone: $(tail -n 20 "$T/linkqd.err")"

trace "the phone is back: usbmuxd starts, linkqd reconnects and tests"
ctl '{"cmd":"plug","device":"phone","port":"a","cable":"good"}' > /dev/null
wait_for "get /v1/devices | jq -e '.devices[] | select(.udid == \"$phone\") | .attached and .attaches == 2' > /dev/null" 10 ||
    fail "linkqd did not see the phone again: $(get /v1/devices)"
get /v1/status | jq -e '.usbmuxd == "connected"' > /dev/null ||
    fail "usbmuxd is not connected again: $(get /v1/status)"
# A new usbmuxd numbers its devices from 1 again.
expect_eq "$(ctl '{"cmd":"status"}' | jq '.devices[0].device_id')" 1 \
    "DeviceID after the restart"
wait_trusted "$phone"
lq test -u "$phone" --profile quick
expect_eq "$rc" 0 "linkq test after the restart: $(cat "$T/out" "$T/err")"
wait_sql "SELECT count(*) FROM runs WHERE verdict = 'PASS'" 1
stop_linkqd
stop_sim
