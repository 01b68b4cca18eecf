#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# linkq, the client, against linkqd and linkq-sim: the one line when the
# daemon is down; status; cable assignment, listing and clearing, with a
# bad label refused locally; test in pipe mode and with --json; qualify's
# exit status on a bad cable (1) and with no device (3); usage errors.

. "$(dirname "$0")/lib.sh"

LQ="$BUILD/linkq"

trace "daemon down: one line naming the socket, exit 2"
lq status
expect_eq "$rc" 2 "exit status with no daemon"
expect_eq "$(wc -l < "$T/err")" 1 "lines on stderr"
grep -q "^linkq: cannot reach linkqd at $T/linkqd.sock: .*start it with 'linkqd'" \
    "$T/err" || fail "message: $(cat "$T/err")"
LINKQ_SOCKET="$T/none.sock" "$LQ" status 2> "$T/err" && fail "LINKQ_SOCKET"
grep -q "at $T/none.sock:" "$T/err" || fail "LINKQ_SOCKET ignored: $(cat "$T/err")"

trace "usage errors: exit 2 with the command's usage"
lq frobnicate
expect_eq "$rc" 2 "unknown command"
grep -q '^usage: linkq' "$T/err" || fail "no usage: $(cat "$T/err")"
lq status --bogus
expect_eq "$rc" 2 "unknown option"
grep -q '^usage: linkq status' "$T/err" || fail "no status usage"
lq cable 1-1
expect_eq "$rc" 2 "missing argument"
grep -q '^usage: linkq cable' "$T/err" || fail "no cable usage"
lq test --profile
expect_eq "$rc" 2 "missing option argument"
lq test -h
expect_eq "$rc" 0 "-h"
grep -q '^usage: linkq test' "$T/out" || fail "no help on stdout"
lq --version
grep -q '^linkq [0-9]' "$T/out" || fail "--version: $(cat "$T/out")"

trace "the simulator and linkqd"
start_sim --control "$T/control"
udid=$(sim_udid phone)
[ -n "$udid" ] || fail "no UDID"
# quick keeps its duration: 3 s here, not 30.
quick_conf "$T/linkqd.conf"
start_linkqd "$T/linkqd.conf"
short=$(echo "$udid" | tail -c 9)	# the last 8 characters
wait_for "'$LQ' -s '$T/linkqd.sock' status | grep -q 'trusted'" 30 ||
    fail "never trusted: $("$LQ" -s "$T/linkqd.sock" status)"

trace "status lists the device"
lq status
expect_eq "$rc" 0 "status"
grep -q '^linkqd .*usbmuxd connected' "$T/out" || fail "status: $(cat "$T/out")"
grep -q "$short" "$T/out" || fail "no device line: $(cat "$T/out")"
lq --json status
jq -e ".usbmuxd == \"connected\" and (.devices[0].udid == \"$udid\")" \
    "$T/out" > /dev/null || fail "status --json: $(cat "$T/out")"
port=$(jq -r '.devices[0].port' "$T/out")

trace "cable assignment, listing, clearing; a bad label refused"
lq cable "$port" A-01
expect_eq "$rc" 0 "cable"
lq cables
grep -q "^A-01  *$port  *-  *0  *0/0/0  *never" "$T/out" ||
    fail "cables: $(cat "$T/out")"
lq ports
grep -q "^$port  *-  *A-01 " "$T/out" || fail "ports: $(cat "$T/out")"
lq status
grep -q "A-01" "$T/out" || fail "status has no cable: $(cat "$T/out")"
lq cable "$port" "$(printf 'bad\tlabel')"
expect_eq "$rc" 2 "a label with a tab"
grep -q 'control characters' "$T/err" || fail "rule not stated: $(cat "$T/err")"
lq cable "$port" "$(printf '%070d' 0)"
expect_eq "$rc" 2 "a long label"
grep -q 'at most 64' "$T/err" || fail "rule not stated: $(cat "$T/err")"
lq cable "$port" --clear
expect_eq "$rc" 0 "clear"
lq ports
grep -q "^$port  *-  *- " "$T/out" || fail "not cleared: $(cat "$T/out")"
lq cables
if grep -q '^A-01 ' "$T/out"; then
	fail "an untested cable listed after its clearing: $(cat "$T/out")"
fi

trace "test in pipe mode: PASS with reasons, exit 0"
lq test -u "$udid" --profile quick
expect_eq "$rc" 0 "test quick: $(cat "$T/err")"
grep -q '^run [0-9]* quick running' "$T/out" || fail "no progress: $(cat "$T/out")"
grep -q '^PASS$' "$T/out" || fail "no PASS: $(cat "$T/out")"
grep -q '^  [^ ]' "$T/out" || fail "no reasons: $(cat "$T/out")"
if grep -q "$(printf '\r')" "$T/out"; then
	fail "carriage returns in pipe mode"
fi

trace "--json: NDJSON ending with the end line"
lq --json test -u "$udid" --profile quick --cable A-02
expect_eq "$rc" 0 "test --json"
jq -e -s 'length >= 2 and all(.[]; .type)' "$T/out" > /dev/null ||
    fail "not NDJSON: $(head -c 400 "$T/out")"
tail -n 1 "$T/out" | jq -e '.type == "end" and .verdict == "PASS"' \
    > /dev/null || fail "last line: $(tail -n 1 "$T/out")"

trace "Ctrl-C cancels the run, exit 2"
"$LQ" -s "$T/linkqd.sock" test -u "$udid" --profile wiggle \
    > "$T/int.out" 2> "$T/int.err" &
pid=$!
wait_for "grep -q '^run [0-9]* wiggle running' '$T/int.out'" 30 ||
    fail "no progress: $(cat "$T/int.out" "$T/int.err")"
id=$(sed -n '1s/^run \([0-9]*\) .*/\1/p' "$T/int.out")
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
expect_eq "$rc" 2 "exit status after Ctrl-C"
grep -q "^linkq: run $id cancelled" "$T/int.err" ||
    fail "not said: $(cat "$T/int.err")"
wait_for "get /v1/runs/$id | jq -e '.state == \"cancelled\"' > /dev/null" 20 ||
    fail "run $id not cancelled: $(get /v1/runs/$id)"

trace "qualify --max-age: a fresh PASS on the same attachment stands"
lq qualify "$port" --profile quick
expect_eq "$rc" 0 "qualify on a good cable: $(cat "$T/out" "$T/err")"
nruns=$(get /v1/runs | jq '.runs | length')
lq qualify "$port" --profile quick --max-age 1h
expect_eq "$rc" 0 "qualify with a fresh PASS: $(cat "$T/out" "$T/err")"
grep -q 'not run again (--max-age)' "$T/out" || fail "not said: $(cat "$T/out")"
expect_eq "$(get /v1/runs | jq '.runs | length')" "$nruns" "runs after --max-age"
lq qualify "$port" --profile quick --max-age soon
# qualify's status is a bitmask (linkq(1)): bit 0, usage.
expect_eq "$rc" 1 "a bad --max-age"

trace "qualify on a corrupting cable: FAIL (bit 3, 8), and the alternative"
ctl '{"cmd":"fault","target":"sim-good","params":"corrupt-per-mb=2"}' > /dev/null
lq qualify "$port" --profile quick
expect_eq "$rc" 8 "qualify on a bad cable: $(cat "$T/out" "$T/err")"
grep -q '^FAIL$' "$T/out" || fail "no FAIL: $(cat "$T/out")"
grep -q '^best known alternative: cable .* on port \|^no cable and port pair has passed' \
    "$T/out" || fail "no alternative: $(cat "$T/out")"
ctl '{"cmd":"fault","target":"sim-good","params":"corrupt-per-mb=0"}' > /dev/null

trace "qualify with no device: bit 1 (2)"
ctl '{"cmd":"unplug","device":"phone"}' > /dev/null
wait_for "get /v1/status | jq -e '.devices_attached == 0' > /dev/null" 20 ||
    fail "the device did not leave"
# Not waiting for one to be plugged in (069 tests the wait).
lq qualify --profile quick --no-wait
expect_eq "$rc" 2 "qualify with no device: $(cat "$T/err")"
grep -q '^linkq: ' "$T/err" || fail "no message: $(cat "$T/err")"
lq test -u 0000 --profile quick --no-wait
expect_eq "$rc" 3 "test on an unknown UDID"

trace "an error from the daemon is its message"
ctl '{"cmd":"plug","device":"phone","port":"1-1","cable":"sim-good"}' > /dev/null
wait_for "'$LQ' -s '$T/linkqd.sock' status | grep -q 'trusted'" 30 ||
    fail "not back"
lq test -u "$udid" --profile nosuch
expect_eq "$rc" 2 "unknown profile"
expect_eq "$(wc -l < "$T/err")" 1 "lines on stderr"
grep -q '^linkq: .*nosuch' "$T/err" || fail "message: $(cat "$T/err")"
