#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# linkq wiggle: a line a second while bulk data moves; a stall of the
# link is marked with its time (and the bell on a terminal); Ctrl-C
# stops the run instead of cancelling it: the probe in flight ends, the
# run is decided on what it saw, and linkq prints a summary and the
# verdict with the exit status of test. Through a pipe and through a
# pseudo-terminal. POST /v1/runs/ID/stop refuses a profile that ends by
# itself.

. "$(dirname "$0")/lib.sh"

LQ="$BUILD/linkq"

start_sim --control "$T/control"
udid=$(sim_udid phone)
# Slices of 16M each way keep the wait after Ctrl-C short; a stall of
# the link longer than the bulk deadline is one failed probe.
printf '%s\n' '[profile wiggle]' 'bulk = 16M' '' '[profile quick]' \
    'duration = 30s' '' '[deadlines]' 'bulk = 1s' > "$T/linkqd.conf"
start_linkqd "$T/linkqd.conf"
wait_trusted "$udid"

# Start linkq wiggle in a pipe, output in $T/$1.out and .err.
wiggle() {
	"$LQ" -s "$T/linkqd.sock" wiggle 1-1 "$@" < /dev/null \
	    > "$T/w.out" 2> "$T/w.err" &
	pid=$!
}
# Wait for at least $1 per-second lines in file $2.
lines() {
	wait_for "[ \$(grep -c '^ *[0-9.]*s  *[0-9.]* MB/s  chunk ' '$2') -ge $1 ]" 30 ||
	    fail "fewer than $1 lines a second: $(cat "$2")"
}
# Ctrl-C: send SIGINT to pid $1 and wait for it; rc its status.
ctrl_c() {
	kill -INT "$1"
	rc=0
	wait "$1" || rc=$?
}
last_run() {
	get /v1/runs | jq -r '.runs[0].id'
}

trace "in a pipe: a line a second, Ctrl-C stops it with a verdict"
wiggle --cable W-01
lines 3 "$T/w.out"
grep -q 'chunk  *[0-9.]* ms' "$T/w.out" ||
    fail "no chunk time while bulk moves: $(cat "$T/w.out")"
ctrl_c "$pid"
cat "$T/w.out"
grep -q '^stopping: the probe in flight ends first' "$T/w.out" ||
    fail "not stopping: $(cat "$T/w.out" "$T/w.err")"
grep -q '^wiggled [0-9]* s: [0-9.]* MB moved, [0-9.]* MB/s on average, no error$' "$T/w.out" ||
    fail "no summary: $(cat "$T/w.out")"
expect_eq "$(grep -c '<<<' "$T/w.out" || :)" 0 "error marks"
grep -q '^PASS$' "$T/w.out" || fail "no PASS: $(cat "$T/w.out" "$T/w.err")"
expect_eq "$rc" 0 "exit status of a PASS"
run=$(get /v1/runs/$(last_run))
echo "$run" | jq -e '.state == "done" and .verdict == "PASS" and .profile == "wiggle" and .bulk_bytes > 0' > /dev/null ||
    fail "the run stopped: $run"
expect_eq "$(sql "SELECT state || ' ' || verdict FROM runs ORDER BY id DESC LIMIT 1")" \
    "done PASS" "the run in the database"

trace "a stall of the link is marked with its time; the verdict follows it"
wiggle --cable W-01
lines 2 "$T/w.out"
ctl '{"cmd":"stall","device":"phone","ms":2500}' > /dev/null
wait_for "grep -q '<<< [0-9]* new at [0-9-]* [0-9:.]*$' '$T/w.out'" 30 ||
    fail "no mark: $(cat "$T/w.out")"
# Past the stall, data moves again (or the run has failed already).
wait_for "! kill -0 $pid 2>/dev/null || [ \$(sed -n '/<<</,\$p' '$T/w.out' | grep -c 'MB/s') -ge 3 ]" 30 ||
    fail "no lines after the mark: $(cat "$T/w.out")"
ctrl_c "$pid"
cat "$T/w.out"
verdict=$(get /v1/runs/$(last_run) | jq -r .verdict)
case $verdict in
FAIL) want=1 ;;
MARGINAL) want=4 ;;
*) fail "a stalled link got $verdict: $(get /v1/runs/$(last_run))" ;;
esac
expect_eq "$rc" "$want" "exit status of $verdict"
grep -q "^$verdict\$" "$T/w.out" || fail "no verdict line: $(cat "$T/w.out")"
grep -q '^    [0-9:.]* probe  *timeout .*bulk probe [0-9]*: no answer within 1000 ms' "$T/w.out" ||
    fail "the timeout is not shown at its time: $(cat "$T/w.out")"
grep -q 'device-mux-stats' "$T/w.out" &&
    fail "an informational event shown as an error: $(cat "$T/w.out")"
grep -q '^wiggled [0-9]* s: .*[1-9][0-9]* error marks\{0,1\}:' "$T/w.out" ||
    fail "the summary names no mark: $(cat "$T/w.out")"
wait_trusted "$udid"

trace "on a terminal: the bell with the mark, Ctrl-C to the verdict"
script -qec "'$LQ' -s '$T/linkqd.sock' wiggle 1-1" /dev/null \
    < /dev/null > "$T/tty.out" 2>&1 &
spid=$!
lines 2 "$T/tty.out"
lq_pid=$(pgrep -f "linkq -s $T/linkqd.sock wiggle 1-1" | while read -r p; do
	[ "$(cat /proc/$p/comm 2>/dev/null)" = linkq ] && echo "$p"
done | head -n 1)
[ -n "$lq_pid" ] || fail "no linkq process under script"
ctl '{"cmd":"stall","device":"phone","ms":2500}' > /dev/null
wait_for "grep -q '<<< .*$(printf '\a')' '$T/tty.out'" 30 ||
    fail "no bell with the mark: $(cat -A "$T/tty.out" | head -c 900)"
kill -INT "$lq_pid"
rc=0
wait "$spid" || rc=$?
tr '\r' '\n' < "$T/tty.out" | sed 's/\x1b\[[0-9;]*[A-Za-z]//g' > "$T/tty.lines"
grep -q '^wiggled ' "$T/tty.lines" || fail "no summary: $(cat "$T/tty.lines")"
grep -Eq '^(PASS|MARGINAL|FAIL)' "$T/tty.lines" ||
    fail "no verdict: $(cat "$T/tty.lines")"
wait_trusted "$udid"

trace "a profile that ends by itself is not stopped"
id=$(start_run "$udid" quick)
api POST "/v1/runs/$id/stop" > "$T/stop"
expect_eq "$(tail -n 1 "$T/stop")" 409 "stop of a quick run"
grep -q 'its profile ends by itself; cancel it instead' "$T/stop" ||
    fail "says: $(cat "$T/stop")"
api POST "/v1/runs/$id/cancel" > /dev/null
wait_run "$id" > /dev/null
