#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# The history survives a restart (issue 18, item 1): two runs on two
# ports through two cables, then a new linkqd, and `linkq runs`, `show`
# and `events` still give both runs with their ports (path and label)
# and cables, the events name the port by path and the cable, the
# filters select, --db FILE gives the same from the
# database file, and a run that never was says so (exit 2).

. "$(dirname "$0")/lib.sh"

cat > "$T/bench.scn" <<'SCN'
device phone
device phone2
port a path=1-1
port b path=1-2
cable good
cable good2
at 0s plug phone a good
at 0s plug phone2 b good2
SCN
quick_conf "$T/linkqd.conf"

start_sim --control "$T/control" "$T/bench.scn"
u1=$(sim_udid phone)
u2=$(sim_udid phone2)
start_linkqd "$T/linkqd.conf"
wait_trusted "$u1"
wait_trusted "$u2"

trace "two runs: 1-1 (labelled front) with A-01, 1-2 with B-02 corrupting"
lq port 1-1 --label front
[ "$rc" = 0 ] || fail "port label refused: $(cat "$T/err")"
lq cable 1-1 A-01
[ "$rc" = 0 ] || fail "cable A-01 refused: $(cat "$T/err")"
lq cable 1-2 B-02
[ "$rc" = 0 ] || fail "cable B-02 refused: $(cat "$T/err")"
ctl '{"cmd":"fault","target":"good2","params":"corrupt-per-mb=2"}' > /dev/null
r1=$(start_run "$u1" quick)
r2=$(start_run "$u2" quick)
run1=$(wait_run "$r1")
wait_run "$r2" | jq -e '.verdict == "FAIL"' > /dev/null ||
    fail "corruption did not fail run $r2: $(get /v1/runs/$r2)"
echo "$run1" | jq -e '.verdict == "PASS"' > /dev/null ||
    fail "run $r1 did not pass: $run1"
# The run in memory names where it runs too.
echo "$run1" | jq -e '.kind == "qualify" and .port == "1-1" and
    .port_label == "front" and .cable == "A-01" and .verdict != null' \
    > /dev/null || fail "run JSON lacks where it ran: $run1"
verdict1=$(echo "$run1" | jq -r .verdict)
reason1=$(echo "$run1" | jq -r '.reasons[0]')
[ -n "$reason1" ] && [ "$reason1" != null ] || fail "no reason: $run1"

trace "a new linkqd: its memory holds no run, the database both"
stop_linkqd
start_linkqd "$T/linkqd.conf"
lq runs
[ "$rc" = 0 ] || fail "runs: status $rc: $(cat "$T/err")"
grep -Eq "^ *$r1 +quick .* 1-1 +A-01 +front\$" "$T/out" ||
    fail "run $r1 not listed with its port and cable: $(cat "$T/out")"
grep -Eq "^ *$r2 +quick .* 1-2 +B-02 +-\$" "$T/out" ||
    fail "run $r2 not listed with its port and cable: $(cat "$T/out")"
# Newest first.
expect_eq "$(sed -n 2p "$T/out" | awk '{ print $1 }')" "$r2" "newest run"

trace "show of the old run: where, verdict and reasons, exit 0"
lq show "$r1"
[ "$rc" = 0 ] || fail "show $r1: status $rc: $(cat "$T/err")"
grep -q "where     port 1-1 (front), cable A-01" "$T/out" ||
    fail "show does not say where: $(cat "$T/out")"
grep -q "verdict   $verdict1" "$T/out" || fail "no verdict: $(cat "$T/out")"
grep -qF "$reason1" "$T/out" || fail "no reason: $(cat "$T/out")"

trace "events name ports by path and label, and the cable"
lq events
[ "$rc" = 0 ] || fail "events: status $rc: $(cat "$T/err")"
grep -Eq " corruption .* port 1-2, cable B-02 .*run $r2" "$T/out" ||
    fail "no event names port 1-2 and B-02: $(cat "$T/out")"
if grep -Eq " port [0-9]+( |$)" "$T/out"; then
	fail "an event names a port by its row id: $(cat "$T/out")"
fi

trace "the filters select"
lq runs --cable A-01
expect_eq "$(sed 1d "$T/out" | awk '{ print $1 }' | tr '\n' ' ')" "$r1 " \
    "runs --cable A-01"
lq runs --port 1-2
expect_eq "$(sed 1d "$T/out" | awk '{ print $1 }' | tr '\n' ' ')" "$r2 " \
    "runs --port 1-2"
lq runs --port front
expect_eq "$(sed 1d "$T/out" | awk '{ print $1 }' | tr '\n' ' ')" "$r1 " \
    "runs --port front (a label)"
lq runs --limit 1
expect_eq "$(sed 1d "$T/out" | awk '{ print $1 }' | tr '\n' ' ')" "$r2 " \
    "runs --limit 1"
lq runs --since 1h --verdict pass
expect_eq "$(sed 1d "$T/out" | awk '{ print $1 }' | tr '\n' ' ')" "$r1 " \
    "runs --since 1h --verdict pass"
lq runs --verdict FAIL --cable B-02
expect_eq "$(sed 1d "$T/out" | awk '{ print $1 }' | tr '\n' ' ')" "$r2 " \
    "runs --verdict FAIL --cable B-02"
lq runs --verdict FAIL --cable A-01
expect_eq "$(cat "$T/out")" "no recorded run matches" \
    "runs --verdict FAIL --cable A-01"
lq runs --since 2099-01-01
expect_eq "$(cat "$T/out")" "no recorded run matches" "runs --since future"
lq runs --verdict maybe
expect_eq "$rc" 2 "runs --verdict maybe"
grep -q "PASS, MARGINAL or FAIL" "$T/err" || fail "bad --verdict: $(cat "$T/err")"
api GET "/v1/runs?verdict=maybe" | tail -n 1 | grep -q 400 ||
    fail "the API took verdict=maybe"

trace "--db reads the same from the database file"
lq runs
cp "$T/out" "$T/runs.daemon"
lq runs --db "$T/linkq.db"
[ "$rc" = 0 ] || fail "runs --db: status $rc: $(cat "$T/err")"
cmp -s "$T/out" "$T/runs.daemon" ||
    fail "runs --db differs: $(diff "$T/runs.daemon" "$T/out")"
lq --json show "$r1"
cp "$T/out" "$T/show.daemon"
lq --json show "$r1" --db "$T/linkq.db"
[ "$rc" = 0 ] || fail "show --db: status $rc: $(cat "$T/err")"
cmp -s "$T/out" "$T/show.daemon" ||
    fail "show --db differs: $(diff "$T/show.daemon" "$T/out")"
# The database first: linkqd may have committed more events since.
lq events --db "$T/linkq.db"
[ "$rc" = 0 ] || fail "events --db: status $rc: $(cat "$T/err")"
cp "$T/out" "$T/events.db"
lq events
head -n "$(wc -l < "$T/events.db")" "$T/out" | cmp -s - "$T/events.db" ||
    fail "events --db differs: $(diff "$T/events.db" "$T/out")"

trace "a run that never was says so, exit 2"
lq show 99999
expect_eq "$rc" 2 "show 99999"
grep -q "run 99999 was never recorded" "$T/err" ||
    fail "show 99999: $(cat "$T/err")"
lq show 99999 --db "$T/linkq.db"
expect_eq "$rc" 2 "show 99999 --db"
grep -q "run 99999 was never recorded" "$T/err" ||
    fail "show 99999 --db: $(cat "$T/err")"

stop_linkqd
stop_sim
