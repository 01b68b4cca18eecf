#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# linkq test waits for a phone instead of failing: started before the
# phone is plugged, it says what it waits for and runs once the phone is
# identified; started right after a plug, it waits and passes; a phone
# that needs Trust is waited for, saying so, until it is tapped. Through
# a pipe and through a pseudo-terminal (script(1)). --no-wait and a
# --wait that runs out end with exit 3 and a line saying what was
# missing; Ctrl-C stops the wait with no run started.

. "$(dirname "$0")/lib.sh"

LQ="$BUILD/linkq"

cat > "$T/bench.scn" <<'SCN'
device phone
device fresh trust=unpaired
port a path=1-2
port b path=1-3
cable c1
cable c2
SCN
start_sim --control "$T/control" "$T/bench.scn"
phone=$(sim_udid phone)
fresh=$(sim_udid fresh)
printf '%s\n' '[profile quick]' 'duration = 2s' 'bulk = 8M' '' \
    '[verdict]' 'min-bulk = 8M' > "$T/linkqd.conf"
start_linkqd "$T/linkqd.conf"

plug() {
	ctl "{\"cmd\":\"plug\",\"device\":\"$1\",\"port\":\"$2\",\"cable\":\"$3\"}" > /dev/null
}
unplug() {
	ctl "{\"cmd\":\"unplug\",\"device\":\"$1\"}" > /dev/null
	wait_for "get /v1/devices | jq -e '[.devices[] | select(.udid == \"$2\" and .attached)] | length == 0' > /dev/null" 20 ||
	    fail "$1 still attached: $(get /v1/devices)"
}
runs() {
	sql "SELECT count(*) FROM runs"
}

trace "nothing plugged: --no-wait and a short --wait end with exit 3"
lq test 1-2 --profile quick --no-wait
expect_eq "$rc" 3 "--no-wait: $(cat "$T/err")"
grep -q "not ready: it needs a phone on port 1-2" "$T/err" ||
    fail "--no-wait says: $(cat "$T/err")"
lq test 1-2 --profile quick --wait 1s
expect_eq "$rc" 3 "--wait 1s: $(cat "$T/err")"
grep -q "waiting for a phone on port 1-2" "$T/err" ||
    fail "no line saying what it waits for: $(cat "$T/err")"
grep -q "gave up waiting for a phone on port 1-2" "$T/err" ||
    fail "no line saying it gave up: $(cat "$T/err")"
lq test 1-2 --wait soon
expect_eq "$rc" 2 "a bad --wait: $(cat "$T/err")"
expect_eq "$(runs)" 0 "runs started"

trace "in a pipe, started before the plug: waits, then passes"
"$LQ" -s "$T/linkqd.sock" test 1-2 --profile quick --cable W-01 \
    < /dev/null > "$T/pipe.out" 2> "$T/pipe.err" &
pid=$!
wait_for "grep -q 'waiting for a phone on port 1-2' '$T/pipe.err'" 10 ||
    fail "not waiting: $(cat "$T/pipe.err")"
plug phone a c1
rc=0
wait "$pid" || rc=$?
expect_eq "$rc" 0 "linkq test: $(cat "$T/pipe.out" "$T/pipe.err")"
expect_eq "$(tail -n 1 "$T/pipe.out" | grep -c '^PASS' || :)" 0 \
    "the reasons come after the verdict"
grep -q '^PASS$' "$T/pipe.out" || fail "no PASS: $(cat "$T/pipe.out")"
expect_eq "$(sql "SELECT c.label FROM runs r JOIN attachments a ON a.id = r.attachment_id JOIN cables c ON c.id = a.cable_id ORDER BY r.id DESC LIMIT 1")" \
    W-01 "the cable of the run"
unplug phone "$phone"

trace "right after a plug: waits and passes"
plug phone b c2
lq test 1-3 --profile quick
expect_eq "$rc" 0 "linkq test right after the plug: $(cat "$T/out" "$T/err")"
grep -q '^PASS$' "$T/out" || fail "no PASS: $(cat "$T/out")"
unplug phone "$phone"

trace "a phone that needs Trust: says so, waits, runs once tapped"
before=$(runs)
"$LQ" -s "$T/linkqd.sock" test -u "$fresh" --profile quick \
    < /dev/null > "$T/trust.out" 2> "$T/trust.err" &
pid=$!
wait_for "grep -q 'waiting for phone $fresh to be plugged in' '$T/trust.err'" 10 ||
    fail "not waiting for the phone: $(cat "$T/trust.err")"
plug fresh a c1
wait_for "grep -q 'waiting for Trust on the phone on 1-2: unlock the phone and tap Trust' '$T/trust.err'" 30 ||
    fail "not waiting for Trust: $(cat "$T/trust.err")"
expect_eq "$(runs)" "$before" "runs before Trust"
ctl "{\"cmd\":\"trust\",\"device\":\"fresh\",\"accept\":true}" > /dev/null
rc=0
wait "$pid" || rc=$?
expect_eq "$rc" 0 "linkq test after Trust: $(cat "$T/trust.out" "$T/trust.err")"
grep -q '^PASS$' "$T/trust.out" || fail "no PASS: $(cat "$T/trust.out")"
unplug fresh "$fresh"

trace "Ctrl-C while waiting: stops, exit 2, no run"
before=$(runs)
"$LQ" -s "$T/linkqd.sock" test 1-2 < /dev/null > "$T/int.out" \
    2> "$T/int.err" &
pid=$!
wait_for "grep -q 'waiting for a phone on port 1-2' '$T/int.err'" 10 ||
    fail "not waiting: $(cat "$T/int.err")"
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
expect_eq "$rc" 2 "after Ctrl-C: $(cat "$T/int.err")"
grep -q 'stopped waiting' "$T/int.err" || fail "says: $(cat "$T/int.err")"
expect_eq "$(runs)" "$before" "runs after Ctrl-C"

trace "on a terminal: the same wait, then the progress and PASS"
script -qec "'$LQ' -s '$T/linkqd.sock' test 1-2 --profile quick --cable W-02" \
    /dev/null < /dev/null > "$T/tty.out" 2>&1 &
pid=$!
wait_for "grep -q 'waiting for a phone on port 1-2' '$T/tty.out'" 10 ||
    fail "not waiting on the terminal: $(cat -A "$T/tty.out" | head -c 600)"
plug phone a c1
rc=0
wait "$pid" || rc=$?
expect_eq "$rc" 0 "on a terminal: $(cat -A "$T/tty.out" | head -c 900)"
tr '\r' '\n' < "$T/tty.out" | sed 's/\x1b\[[0-9;]*[A-Za-z]//g' |
    grep -q '^PASS' || fail "no PASS: $(cat -A "$T/tty.out" | head -c 900)"

trace "two phones and none named: no wait, exit 2 saying to name one"
plug fresh b c2
wait_for "get /v1/devices | jq -e '[.devices[] | select(.attached)] | length == 2' > /dev/null" 20 ||
    fail "the second phone is not seen: $(get /v1/devices)"
lq test --profile quick
expect_eq "$rc" 2 "two phones: $(cat "$T/err")"
grep -q '2 phones are attached: name one by its port or with -u UDID' "$T/err" ||
    fail "says: $(cat "$T/err")"
