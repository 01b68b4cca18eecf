#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# Several benches (issue 18, item 4): bench 1 runs, stops, and its
# database becomes another machine's (linkqd reads the one
# /etc/machine-id of this machine, so its host row is rewritten as
# bench-1's); bench 2 runs and is merged while its linkqd still runs,
# with a run going on, which is left out until it has ended. Merging
# twice adds nothing (every table's row count), the sources are never
# written, a report across the benches names each port with its host,
# and report --db A --db B says what the merged file says. Refused,
# with FLEET.db as it was: a newer schema, the file itself, a missing
# file, a directory, a file that is no database, and a source that
# fails half-way (one transaction). An older schema is upgraded in a
# temporary copy.

. "$(dirname "$0")/lib.sh"

cat > "$T/bench.scn" <<'SCN'
device phone
port a path=1-1
cable good
at 0s plug phone a good
SCN
quick_conf "$T/linkqd.conf"

TABLES="hosts ports cables devices attachments runs run_rollups run_windows
    probes events"
# Every table's row count in database $1, on one line.
counts() {
	for _t in $TABLES; do
		printf '%s=%s ' "$_t" "$(sqlite3 "$1" "SELECT count(*) FROM $_t")"
	done
}

# One bench: sim and linkqd, cable $1 on 1-1, one quick run that ends.
bench() {
	start_sim --control "$T/control" "$T/bench.scn"
	udid=$(sim_udid phone)
	start_linkqd "$T/linkqd.conf"
	wait_trusted "$udid"
	lq cable 1-1 "$1"
	[ "$rc" = 0 ] || fail "cable $1 refused: $(cat "$T/err")"
	r=$(start_run "$udid" quick)
	wait_run "$r" | jq -e '.verdict == "PASS"' > /dev/null ||
	    fail "run $r on $1 did not pass: $(get /v1/runs/$r)"
}

trace "bench 1: a run with A-01, then its database is bench-1's"
bench A-01
stop_linkqd
stop_sim
mv "$T/linkq.db" "$T/bench-1.db"
sqlite3 "$T/bench-1.db" "UPDATE hosts SET machine_id = \
    'b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1', hostname = 'bench-1'"
b1sum=$(md5sum < "$T/bench-1.db")

trace "bench 2: a run with B-01, and a monitor run going on"
bench B-01
host2=$(sql "SELECT hostname FROM hosts")
[ -n "$host2" ] && [ "$host2" != bench-1 ] || fail "bench 2's host: $host2"
long=$(start_run "$udid" monitor)
wait_sql "SELECT state FROM runs WHERE id = $long" running

trace "merge both, bench 2 read while its linkqd writes it"
lq merge --into "$T/fleet.db" "$T/bench-1.db" "$T/linkq.db"
[ "$rc" = 0 ] || fail "merge: status $rc: $(cat "$T/err")"
grep -Eq "bench-1.db: added 1 run, [1-9][0-9]* probes, [0-9]+ events? \
\(1 host, 1 port, 1 cable, 1 device, 1 attachment\)$" "$T/out" ||
    fail "merge of bench 1: $(cat "$T/out")"
# The same phone on both benches: its UDID is known by then.
grep -Eq "linkq.db: added 1 run, [1-9][0-9]* probes, [0-9]+ events? \
\(1 host, 1 port, 1 cable, (1 device, )?1 attachment\)$" "$T/out" ||
    fail "merge of bench 2: $(cat "$T/out")"
grep -q "linkq.db: 1 run still running, left out: merge again once it has ended" \
    "$T/out" || fail "the running run: $(cat "$T/out")"
expect_eq "$(sqlite3 "$T/fleet.db" "SELECT count(*) FROM runs")" 2 \
    "runs in fleet.db"
expect_eq "$(sqlite3 "$T/fleet.db" "SELECT group_concat(hostname, ' ') \
    FROM (SELECT hostname FROM hosts ORDER BY hostname)")" \
    "$(printf '%s\n' bench-1 "$host2" | sort | tr '\n' ' ' | sed 's/ $//')" \
    "hosts in fleet.db"
# The probes came with their runs, and each run's totals are its own.
expect_eq "$(sqlite3 "$T/fleet.db" "SELECT sum(total_probes) FROM runs")" \
    "$(sqlite3 "$T/fleet.db" "SELECT count(*) FROM probes")" \
    "run totals against the probes"
# The report's summaries (schema 0009) are rebuilt, not copied: none
# left marked, and one cell for each bench's ended run.
expect_eq "$(sqlite3 "$T/fleet.db" "SELECT count(*) FROM report_dirty")" 0 \
    "runs left for the report's summaries"
expect_eq "$(sqlite3 "$T/fleet.db" "SELECT sum(runs) FROM report_cells")" 2 \
    "runs in the report's summaries"
expect_eq "$(sqlite3 "$T/fleet.db" "PRAGMA foreign_key_check")" "" \
    "foreign keys in fleet.db"

trace "merge again: nothing added, every table as it was"
before=$(counts "$T/fleet.db")
lq merge --into "$T/fleet.db" "$T/bench-1.db" "$T/linkq.db"
[ "$rc" = 0 ] || fail "merge again: status $rc: $(cat "$T/err")"
expect_eq "$(grep -c 'added 0 runs, 0 probes, 0 events$' "$T/out")" 2 \
    "merge again: $(cat "$T/out")"
expect_eq "$(counts "$T/fleet.db")" "$before" "row counts after merge again"
lq --json merge --into "$T/fleet.db" "$T/bench-1.db"
echo "$(cat "$T/out")" | jq -e '.format_version == 1 and
    .sources[0].added.runs == 0 and .sources[0].added.events == 0 and
    .sources[0].running_left_out == 0' > /dev/null ||
    fail "merge --json: $(cat "$T/out")"

trace "the monitor run ends: the next merge adds it, and only it"
api DELETE "/v1/runs/$long" > /dev/null
wait_sql "SELECT state <> 'running' FROM runs WHERE id = $long" 1
lq merge --into "$T/fleet.db" "$T/linkq.db"
[ "$rc" = 0 ] || fail "merge after the end: $(cat "$T/err")"
grep -q "linkq.db: added 1 run, " "$T/out" ||
    fail "the ended run was not added: $(cat "$T/out")"
grep -q "still running" "$T/out" && fail "a run left out: $(cat "$T/out")"
stop_linkqd
stop_sim
expect_eq "$(md5sum < "$T/bench-1.db")" "$b1sum" "bench-1.db after merges"

trace "a report across the benches names each port with its host"
lq report --by port --db "$T/fleet.db"
[ "$rc" = 0 ] || fail "report: $(cat "$T/err")"
grep -q "^1-1 on bench-1 " "$T/out" || fail "no 1-1 on bench-1: $(cat "$T/out")"
grep -q "^1-1 on $host2 " "$T/out" ||
    fail "no 1-1 on $host2: $(cat "$T/out")"
grep -Eq "^  port +1-1 on bench-1 +good " "$T/out" ||
    fail "blame does not name the host: $(cat "$T/out")"
cp "$T/out" "$T/report.fleet"
lq --json report --by port --db "$T/fleet.db"
echo "$(cat "$T/out")" | jq -e '.hosts == 2 and
    ([.rows[] | select(.port == "1-1" and .host == "bench-1")] | length)
    == 1' > /dev/null || fail "report JSON: $(cat "$T/out")"
# One bench alone names no host.
lq report --by port --db "$T/bench-1.db"
grep -q "^1-1 " "$T/out" && ! grep -q " on bench-1" "$T/out" ||
    fail "one bench named its host: $(cat "$T/out")"

trace "report --db A --db B says what the merged file says"
lq report --by port --db "$T/bench-1.db" --db "$T/linkq.db"
[ "$rc" = 0 ] || fail "report --db --db: $(cat "$T/err")"
cmp -s "$T/out" "$T/report.fleet" ||
    fail "report --db --db differs: $(diff "$T/report.fleet" "$T/out")"

trace "refused, fleet.db as it was"
fleetsum=$(md5sum < "$T/fleet.db")
cp "$T/bench-1.db" "$T/newer.db"
sqlite3 "$T/newer.db" "PRAGMA user_version = 99"
lq merge --into "$T/fleet.db" "$T/newer.db"
expect_eq "$rc" 2 "merge of a newer schema"
grep -q "newer.db was written by a newer linkq (schema version 99" \
    "$T/err" || fail "newer schema: $(cat "$T/err")"
lq report --db "$T/bench-1.db" --db "$T/newer.db"
expect_eq "$rc" 2 "report over a newer schema"
lq merge --into "$T/fleet.db" "$T/fleet.db"
expect_eq "$rc" 2 "merge into itself"
grep -q "is the file merged into: a database is not merged into itself" \
    "$T/err" || fail "merge into itself: $(cat "$T/err")"
ln -s fleet.db "$T/link.db"
lq merge --into "$T/fleet.db" "$T/link.db"
expect_eq "$rc" 2 "merge into itself through a link"
lq merge --into "$T/fleet.db" "$T/nosuch.db"
expect_eq "$rc" 2 "merge of a missing file"
grep -q "nosuch.db: No such file or directory" "$T/err" ||
    fail "missing file: $(cat "$T/err")"
[ ! -e "$T/nosuch.db" ] || fail "merge made the missing file"
lq merge --into "$T/fleet.db" "$T"
grep -q "is a directory, not a database file" "$T/err" ||
    fail "directory: $(cat "$T/err")"
echo "not a database" > "$T/text.db"
lq merge --into "$T/fleet.db" "$T/text.db"
grep -q "text.db is not a linkq database" "$T/err" ||
    fail "text file: $(cat "$T/err")"
lq merge --into "$T/fleet.db"
expect_eq "$rc" 2 "merge with no file"
# Half-way: a new cable goes in before an event of no known kind fails.
cp "$T/bench-1.db" "$T/bad.db"
sqlite3 "$T/bad.db" "INSERT INTO cables (label, first_seen_us) \
    VALUES ('Z-99', 1); INSERT INTO events (ts_us, source, kind) \
    VALUES (1, 'user', 'no-such-kind')"
lq merge --into "$T/fleet.db" "$T/bad.db" "$T/bench-1.db"
expect_eq "$rc" 2 "merge of a bad source"
grep -q "merging .*bad.db: FOREIGN KEY constraint failed" "$T/err" ||
    fail "bad source: $(cat "$T/err")"
grep -q "bench-1.db: added 0 runs" "$T/out" ||
    fail "the good source after the bad: $(cat "$T/out")"
expect_eq "$(md5sum < "$T/fleet.db")" "$fleetsum" "fleet.db after refusals"

trace "an older schema is upgraded in a copy, the file left as it was"
{
	echo "PRAGMA legacy_alter_table = ON;"
	cat "$LQ_TOP"/schema/000[1-7]-*.sql
	echo "PRAGMA application_id = $((0x6c6e6b71)); PRAGMA user_version = 7;"
	echo "INSERT INTO hosts VALUES (1, 'old-machine', 'old-bench', 1);"
	echo "INSERT INTO ports (id, host_id, path, first_seen_us) VALUES (1, 1, '1-1', 1);"
	echo "INSERT INTO devices (id, udid, first_seen_us, last_seen_us) VALUES (1, 'OLD-UDID', 1, 1);"
	echo "INSERT INTO attachments (id, device_id, port_id, started_us) VALUES (1, 1, 1, 5);"
	echo "INSERT INTO runs (id, attachment_id, profile, state, verdict, started_us, ended_us) VALUES (1, 1, 'quick', 'done', 'PASS', 6, 7);"
} | sqlite3 "$T/old.db"
oldsum=$(md5sum < "$T/old.db")
lq merge --into "$T/fleet.db" "$T/old.db"
[ "$rc" = 0 ] || fail "merge of schema 7: $(cat "$T/err")"
grep -q "old.db: added 1 run, 0 probes, 0 events (1 host, 1 port, 1 device, 1 attachment)" \
    "$T/out" || fail "merge of schema 7: $(cat "$T/out")"
expect_eq "$(md5sum < "$T/old.db")" "$oldsum" "old.db after its merge"
expect_eq "$(sqlite3 "$T/old.db" "PRAGMA user_version")" 7 "old.db's schema"

trace "-h and completion"
lq merge -h
grep -q "^usage: linkq merge --into FILE" "$T/out" && grep -q -- "--into FILE" \
    "$T/out" || fail "merge -h: $(cat "$T/out")"
got=$(bash -c '. "$1"; COMP_WORDS=(linkq merge --i); COMP_CWORD=2; _linkq
    echo "${COMPREPLY[*]}"' sh "$LQ_TOP/client/linkq.bash-completion")
expect_eq "$got" "--into" "completion of merge --i"
