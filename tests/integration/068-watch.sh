#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# linkq watch around a stand-in restore (fake-idevicerestore), through
# a pipe and through a pseudo-terminal: a restore that succeeds across
# its mode changes is outcome ok with a clean link, no probe and no AFC
# operation (linkqd identifies the phone only after the watch); three
# that fail at one step on three cables and two ports blame the phone;
# one with a kernel link error blames the link; linkq exits with the
# command's status every time, and passes SIGTERM on to it.

. "$(dirname "$0")/lib.sh"
require_umockdev
SIM_UMOCKDEV=1

FAKE="$LQ_TOP/tests/integration/fake-idevicerestore"
STEP="Sending filesystem now..."

cat > "$T/bench.scn" <<'SCN'
device phone
port a path=1-4.2
port b path=1-3
cable good
at 0s plug phone a good
SCN

# linkq watch ARGS... -- the stand-in, failing at $FAIL (step, percent,
# status and fault, separated by '|') if set; status in $rc.
watch() {
	rc=0
	_IFS=$IFS IFS='|'
	# shellcheck disable=SC2086
	set -- "$@" -- "$FAKE" "$BUILD/linkq-sim" "$T/control" phone $FAIL
	IFS=$_IFS
	"$BUILD/linkq" -s "$T/linkqd.sock" watch "$@" > "$T/out" \
	    2> "$T/err" || rc=$?
}

# The newest run's id.
last_run() {
	sql "SELECT max(id) FROM runs"
}

# Wait until the phone is back in normal mode on port $1, trusted.
wait_back() {
	wait_for "get /v1/devices | jq -e '.devices[] | select(.attached and .mode == \"normal\" and .port == \"$1\" and .trust == \"trusted\")' > /dev/null" 30 ||
	    fail "the phone is not back on $1: $(get /v1/devices)"
}

# Move the phone to port $1 (sim name) at path $2.
move_to() {
	ctl "{\"cmd\":\"move\",\"device\":\"phone\",\"port\":\"$1\",\"cable\":\"good\"}" > /dev/null
	wait_back "$2"
}

LINKQD_SOCK=$T/linkqd.sock
export LINKQD_SOCK
start_sim --control "$T/control" "$T/bench.scn"
u=$(sim_udid phone)
start_linkqd "$T/linkqd.conf"
wait_trusted "$u"

trace "a restore that succeeds, through a pipe: outcome ok, no probe"
ctl '{"cmd":"oplog-clear","device":"phone"}' > /dev/null
FAIL=
FAKE_OPLOG=$T/oplog watch --cable C-1
expect_eq "$(jq ".oplog | length" "$T/oplog")" 0 \
    "AFC operations on the phone during the watch"

expect_eq "$rc" 0 "linkq watch's status for a restore that succeeded"
grep -q "Verifying restore" "$T/out" || fail "the output: $(cat "$T/out")"
grep -q "restore OK" "$T/err" || fail "the summary: $(cat "$T/err")"
id=$(last_run)
wait_sql "SELECT kind, state, outcome, exit_status, link_events, verdict IS NULL FROM runs WHERE id = $id" "restore-watch|done|ok|0|0|1"
expect_eq "$(sql "SELECT count(*) FROM probes WHERE run_id = $id")" 0 \
    "probes during the watch"
wait_for "[ \$(sql \"SELECT count(*) FROM events WHERE run_id = $id AND kind = 'mode-change'\") -ge 2 ]" 10 ||
    fail "mode changes of the run: $(sql "SELECT kind, detail FROM events WHERE run_id = $id")"
wait_back 1-4.2

trace "three failures at one step on three cables and two ports"
FAIL="$STEP|40|14"
watch 1-4.2 --cable C-2
expect_eq "$rc" 14 "linkq watch's status for a failed restore"
grep -q "ERROR: Unable" "$T/err" || fail "stderr passed on: $(cat "$T/err")"
wait_sql "SELECT outcome, exit_status, percent, step, link_events FROM runs WHERE id = $(last_run)" "failed|14|40.0|$STEP|0"
wait_back 1-4.2
move_to b 1-3
watch 1-3 --cable C-3
expect_eq "$rc" 14 "second failure"
wait_back 1-3
move_to a 1-4.2
# The third through a pseudo-terminal: the status comes through too.
rc=0
script -qec "'$BUILD/linkq' -s '$T/linkqd.sock' watch --cable C-4 -- '$FAKE' '$BUILD/linkq-sim' '$T/control' phone '$STEP' 40 14" /dev/null > "$T/pty" 2>&1 || rc=$?
expect_eq "$rc" 14 "linkq watch's status through a pty"
grep -q "restore FAILED" "$T/pty" || fail "the pty's output: $(cat "$T/pty")"
wait_sql "SELECT count(*) FROM runs WHERE kind = 'restore-watch' AND outcome = 'failed' AND link_events = 0" 3
wait_back 1-4.2

trace "the report blames the phone: one step, three cables, two ports"
lq report --json
expect_eq "$rc" 0 "linkq report --json"
jq -e '.blame.restores[] | select(.target == "device" and (.evidence | test("consistent failure point .*Sending filesystem now.* on 3 cables and 2 ports.*phone hardware")))' "$T/out" > /dev/null ||
    fail "the restores' blame: $(jq -c .blame.restores "$T/out")"
expect_eq "$(jq '[.restores[] | select(.outcome == "failed")] | length' "$T/out")" 3 \
    "failed restores in the report"
expect_eq "$(jq -r '.rows | length' "$T/out")" 0 \
    "qualification rows from restore-watch runs"
lq report
grep -q "blame device .*phone hardware" "$T/out" ||
    fail "the report's text: $(cat "$T/out")"
cp "$T/out" "$T/pipe"
grep -q "^  *RUN  *CABLE  *PORT  *RESTORE" "$T/pipe" ||
    fail "no restores table: $(cat "$T/pipe")"
# Restores alone make no qualification row: said, not an empty table.
grep -q "^No test, qualify, drawer or wiggle run has ended yet" "$T/pipe" ||
    fail "no word on the empty rows: $(cat "$T/pipe")"
for w in 50 80; do
	trace "the restores on a $w-column terminal: fitted, nothing lost"
	lq_tty "$w" report
	grep -q "FAILED  *14 " "$T/tty" ||
	    fail "no restore in the report: $(cat "$T/tty")"
	expect_fits "$T/tty" "$w" "report with restores"
	expect_same_chars "$T/pipe" "$T/tty" "report with restores in $w columns"
done
lq runs
grep -q "restore-watch *done" "$T/out" || fail "linkq runs: $(cat "$T/out")"

trace "show: how the watched restore ended, and no bound from no probe"
lq show "$(last_run)"
expect_eq "$rc" 0 "linkq show: $(cat "$T/err")"
grep -q "^  restore   FAILED, exit status 14, at \"$STEP\" 40.0%\$" "$T/out" ||
    fail "the restore's end: $(cat "$T/out")"
grep -q "^  link      0 link events (a clean link)\$" "$T/out" ||
    fail "the link: $(cat "$T/out")"
! grep -q "failure rate" "$T/out" || fail "a bound from no probe: $(cat "$T/out")"

trace "a failure with a kernel link error blames the link"
FAIL="$STEP|40|9|link-error"
watch --cable C-5
expect_eq "$rc" 9 "linkq watch's status with a link error"
grep -q "blame: the link" "$T/err" || fail "the summary: $(cat "$T/err")"
id=$(last_run)
wait_sql "SELECT outcome, link_events > 0 FROM runs WHERE id = $id" "failed|1"
expect_eq "$(sql "SELECT count(*) FROM probes WHERE run_id = $id")" 0 \
    "probes during the watch"
lq report --json
jq -e ".blame.restores[] | select(.target == \"link\" and .name == \"C-5 on 1-4.2\" and (.evidence | test(\"restore run $id failed\")))" "$T/out" > /dev/null ||
    fail "the link's blame: $(jq -c .blame.restores "$T/out")"
wait_back 1-4.2

trace "SIGTERM to linkq goes to the command; its signal is the outcome"
"$BUILD/linkq" -s "$T/linkqd.sock" watch -- sleep 600 > "$T/out" \
    2> "$T/err" &
lqpid=$!
wait_for "pgrep -P $lqpid -x sleep > /dev/null" 20 ||
    fail "the command did not start: $(cat "$T/err")"
# While it runs, show has no outcome to tell, and does not make one up.
wait_for "get /v1/runs | jq -e '.runs[0].kind == \"restore-watch\" and .runs[0].state == \"running\"' > /dev/null" 10 ||
    fail "no running restore-watch run: $(get /v1/runs)"
lq show "$(get /v1/runs | jq -r '.runs[0].id')"
grep -q "^  restore   not ended yet\$" "$T/out" ||
    fail "show of a running watch: $(cat "$T/out" "$T/err")"
kill -TERM "$lqpid"
rc=0
wait "$lqpid" || rc=$?
expect_eq "$rc" 143 "linkq watch's status for a command killed by SIGTERM"
wait_sql "SELECT outcome, exit_status IS NULL, exit_signal FROM runs WHERE id = $(last_run)" "failed|1|15"
stop_linkqd
stop_sim
