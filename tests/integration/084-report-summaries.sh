#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# The report's summaries (schema 0009) after real runs, a restart,
# changes another program made to the database, and retention: the
# report linkq builds from them is, for every grouping and with
# --since, the one it builds from every run (a copy of the database
# with a stale mark, which makes the report read the runs; since_us
# left out, each client computes it from its own now), and nothing is
# left to refresh.

. "$(dirname "$0")/lib.sh"

cat > "$T/bench.scn" <<'SCN'
device phone
device phone2
port a path=1-1
port b path=1-2
cable good
cable bad
at 0s plug phone a good
at 0s plug phone2 b bad
SCN
quick_conf "$T/linkqd.conf"

# Both ways on the database as it is now: the summaries, and the runs.
same_both_ways() {
	expect_eq "$(sql 'SELECT count(*) FROM report_dirty')" 0 \
	    "runs left to refresh ($1)"
	expect_eq "$(sql 'SELECT coalesce(sum(runs), 0) FROM report_cells')" \
	    "$(sql "SELECT count(*) FROM runs WHERE kind = 'qualify' AND
	    state <> 'running'")" "runs in the summaries ($1)"
	rm -f "$T/runs.db"
	sqlite3 "$T/linkq.db" ".backup '$T/runs.db'"
	sqlite3 "$T/runs.db" "INSERT INTO report_dirty VALUES (0)"
	for by in pair cable port device; do
		for since in "" 1h 3d; do
			report_json "$T/linkq.db" > "$T/cells.json"
			report_json "$T/runs.db" > "$T/runs.json"
			cmp -s "$T/cells.json" "$T/runs.json" ||
			    fail "$1: by $by since '$since': summaries
$(cat "$T/cells.json")
runs
$(cat "$T/runs.json")"
		done
	done
}
# The report of database $1 by $by since $since, as JSON without
# since_us (each client computes it from its own now).
report_json() {
	"$BUILD/linkq" report --json --by "$by" ${since:+--since "$since"} \
	    --db "$1" > "$T/report.raw" 2> "$T/err" ||
	    fail "report --db $1: $(cat "$T/err")"
	jq -S 'del(.since_us)' "$T/report.raw"
}

start_sim --control "$T/control" "$T/bench.scn"
u1=$(sim_udid phone)
u2=$(sim_udid phone2)
start_linkqd "$T/linkqd.conf"
wait_trusted "$u1"
wait_trusted "$u2"
lq cable 1-1 A-01
lq cable 1-2 B-02

trace "a passing run and a run with corruption"
ctl '{"cmd":"fault","target":"bad","params":"corrupt-per-mb=2"}' > /dev/null
r1=$(start_run "$u1" quick)
r2=$(start_run "$u2" quick)
wait_run "$r1" > /dev/null
wait_run "$r2" | jq -e '.verdict == "FAIL"' > /dev/null ||
    fail "corruption did not fail run $r2"
wait_sql "SELECT count(*) FROM runs WHERE state = 'running'" 0
same_both_ways "two runs"
[ "$(sql "SELECT count(*) FROM report_cell_events
    WHERE kind = 'corruption'")" -ge 1 ] ||
    fail "the corruption is not in the summaries"

trace "another program moves the history ten days back; linkqd prunes"
stop_linkqd
sql "UPDATE runs SET started_us = started_us - 864000000000,
    ended_us = ended_us - 864000000000;
    UPDATE events SET ts_us = ts_us - 864000000000"
[ "$(sql 'SELECT count(*) FROM report_dirty')" -ge 2 ] ||
    fail "moving the runs left no mark"
LINKQD_DAEMON="retention-days = 1"
start_linkqd "$T/linkqd.conf"
wait_sql "SELECT count(*) FROM events WHERE kind = 'corruption'" 0
wait_sql "SELECT count(*) FROM report_cell_events
    WHERE kind = 'corruption'" 0
same_both_ways "after retention"

trace "a third run, after the restart"
wait_trusted "$u1"
r3=$(start_run "$u1" quick)
wait_run "$r3" > /dev/null
wait_sql "SELECT count(*) FROM runs WHERE state = 'running'" 0
same_both_ways "three runs"
