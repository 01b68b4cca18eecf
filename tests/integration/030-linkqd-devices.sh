#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# linkqd follows usbmuxd: the simulator's device shows up in the API and
# in the database, leaves and comes back with the simulator's plugs, and
# after the simulated usbmuxd is killed and restarted the daemon
# reconnects by itself. Bad requests get the one JSON error shape.

. "$(dirname "$0")/lib.sh"

api() {
	curl -sS --unix-socket "$T/linkqd.sock" "$@"
}
ctl() {
	"$BUILD/linkq-sim" --control "$T/control" --send "$1" > /dev/null
}

trace "-n checks the configuration; errors name the file and line"
printf '[daemon]\nflush = 250ms\n' > "$T/good.conf"
"$BUILD/linkqd" -n -f "$T/good.conf" 2> "$T/out" || fail "a good file refused"
"$BUILD/linkqd" -nv -f "$T/good.conf" 2> /dev/null |
    grep -q '^flush = 250ms$' || fail "-nv does not print the configuration"
printf '[daemon]\nflush = soon\n' > "$T/bad.conf"
if "$BUILD/linkqd" -n -f "$T/bad.conf" 2> "$T/out"; then
	fail "a bad file was accepted"
fi
grep -q "^linkqd: $T/bad.conf:2: " "$T/out" || fail "no file:line: $(cat "$T/out")"
if "$BUILD/linkqd" -n -f "$T/missing.conf" 2> "$T/out"; then
	fail "a missing -f file was accepted"
fi

trace "the simulator, then linkqd with a private socket and database"
start_sim --control "$T/control"
udid=$(idevice_id -l)
# No sysfs with the device in it: the port falls back to usbmuxd's
# LocationID (032 and later see the simulator's sysfs port paths).
mkdir "$T/empty"
printf '[daemon]\nsysfs = %s\n' "$T/empty" > "$T/linkqd.conf"
"$BUILD/linkqd" -d -f "$T/linkqd.conf" -s "$T/linkqd.sock" \
    --db "$T/linkq.db" 2> "$T/linkqd.err" &
LINKQD_PID=$!
trap 'kill $LINKQD_PID 2>/dev/null || :; cleanup' EXIT
wait_for "[ -S '$T/linkqd.sock' ]" 20 ||
    { cat "$T/linkqd.err"; fail "linkqd did not start"; }

trace "the device is seen, in the API and in the database"
wait_for "api http://linkq/v1/devices | grep -q '\"udid\":\"$udid\",\"attached\":true'" 20 ||
    fail "the device never showed up: $(api http://linkq/v1/devices)"
api http://linkq/v1/status | grep -q '"devices_attached":1' ||
    fail "status: $(api http://linkq/v1/status)"
wait_for "[ \"\$(sqlite3 '$T/linkq.db' \"SELECT count(*) FROM devices WHERE udid = '$udid'\")\" = 1 ]" 10 ||
    fail "the device is not in the database"

trace "an attachment at usbmuxd's LocationID, 480 Mb/s"
wait_for "api http://linkq/v1/devices | grep -q '\"attachment_id\":1,\"location_id\":65538,\"speed_mbps\":480'" 10 ||
    fail "no attachment: $(api http://linkq/v1/devices)"
q="SELECT p.path || ' ' || a.speed_mbps || ' ' || a.bus || ' ' || a.devnum
    FROM attachments a JOIN ports p ON p.id = a.port_id WHERE a.id = 1"
wait_for "[ \"\$(sqlite3 '$T/linkq.db' \"$q\")\" = 'usbmuxd-location-0x10002 480 1 2' ]" 10 ||
    fail "attachment row: $(sqlite3 "$T/linkq.db" "$q")"

# usbmuxd's Detached and Attached are all linkqd sees here (no kernel
# log): as far as it can tell an unplug and a replug, never a reset
# (issue 13); the attachments are linked as history.
trace "back within the window: linked, an unplug, no re-enumeration"
ctl '{"cmd":"reset","device":"phone"}'
wait_for "api http://linkq/v1/devices | grep -q '\"attaches\":2.*\"attachment_id\":2'" 20 ||
    fail "no second attachment: $(api http://linkq/v1/devices)"
q="SELECT a1.end_reason || ' ' || a2.previous_id FROM attachments a1, attachments a2
    WHERE a1.id = 1 AND a2.id = 2"
wait_for "[ \"\$(sqlite3 '$T/linkq.db' \"$q\")\" = 'unplug 1' ]" 10 ||
    fail "not linked as an unplug: $(sqlite3 "$T/linkq.db" "$q")"
expect_eq "$(sqlite3 "$T/linkq.db" "SELECT count(*) FROM events WHERE kind IN ('reenumeration', 'reset')")" \
    0 "resets and re-enumerations"

trace "unplug and plug"
ctl '{"cmd":"unplug","device":"phone"}'
wait_for "api http://linkq/v1/devices | grep -q '\"attached\":false'" 10 ||
    fail "the unplug was not seen"
ctl '{"cmd":"plug","device":"phone","port":"1-1","cable":"sim-good"}'
wait_for "api http://linkq/v1/devices | grep -q '\"attached\":true.*\"attaches\":3'" 10 ||
    fail "the third arrival was not seen: $(api http://linkq/v1/devices)"

trace "usbmuxd killed and restarted: linkqd reconnects"
stop_sim
wait_for "api http://linkq/v1/status | grep -q '\"devices_attached\":0'" 10 ||
    fail "the device stayed attached after usbmuxd went away"
start_sim --control "$T/control"
wait_for "api http://linkq/v1/devices | grep -q '\"attached\":true.*\"attaches\":4'" 20 ||
    fail "linkqd did not reconnect: $(api http://linkq/v1/devices)"

trace "bad requests get the JSON error shape, and linkqd keeps serving"
api -o "$T/body" -w '%{http_code}' http://linkq/v1/nonsense > "$T/code"
expect_eq "$(cat "$T/code")" 404 "unknown path"
grep -q '^{"error":{"status":404,"message":"no such path /v1/nonsense' \
    "$T/body" || fail "404 body: $(cat "$T/body")"
api -o "$T/body" -w '%{http_code}' -X DELETE http://linkq/v1/status \
    > "$T/code"
expect_eq "$(cat "$T/code")" 405 "wrong method"
head -c 100000 /dev/zero | tr '\0' x > "$T/big"
api -o /dev/null -w '%{http_code}' -X POST --data-binary @"$T/big" \
    http://linkq/v1/status > "$T/code" 2> "$T/curl.err" || :
# evhttp answers 413 and closes; curl may still be sending and see the
# connection closed instead of the answer. Either way it was refused.
case $(cat "$T/code") in
4*) ;;
000) grep -q "Send failure\|Recv failure" "$T/curl.err" ||
	fail "a 100 kB body: $(cat "$T/curl.err")" ;;
*) fail "a 100 kB body got $(cat "$T/code")" ;;
esac
api http://linkq/v1/status | grep -q '"version"' ||
    fail "linkqd stopped serving"

trace "SIGTERM: a clean stop that removes the socket"
kill -TERM "$LINKQD_PID"
status=0
wait "$LINKQD_PID" || status=$?
expect_eq "$status" 0 "linkqd exit status"
[ ! -e "$T/linkqd.sock" ] || fail "the socket was left behind"
stop_sim
