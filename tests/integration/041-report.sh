#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# linkq report against linkqd and linkq-sim: three cables and two ports,
# one cable that corrupts data (C-03) and one port that does (2-1). One
# quick run per pair through the control socket's moves; then --by
# cable ranks the good cables first and fails C-03 with a reason, --by
# port fails 2-1, blame names C-03 and 2-1 and nothing good, --csv has
# its header and one line per row, and --json from the daemon is the
# same as --db on the database once linkqd is stopped.

. "$(dirname "$0")/lib.sh"

cat > "$T/bench.scn" <<'SCN'
device phone
port a path=1-1
port b path=2-1 corrupt-per-mb=2
cable c1 label=C-01
cable c2 label=C-02
cable c3 label=C-03 corrupt-per-mb=2
at 0s plug phone a c1
SCN

# Move the phone to scenario port $1 through cable $2, wait until it is
# back and trusted on sysfs path $3, and run the quick profile with
# label $4; the verdict is checked against $5.
run_on() {
	ctl "{\"cmd\":\"move\",\"device\":\"phone\",\"port\":\"$1\",\"cable\":\"$2\"}" \
	    > /dev/null
	wait_for "get /v1/devices | jq -e '.devices[] | select(.port == \"$3\" and .trust == \"trusted\")' > /dev/null" 30 ||
	    fail "phone not trusted on $3: $(get /v1/devices)"
	lq test -u "$udid" --profile quick --cable "$4"
	grep -q "^$5\$" "$T/out" ||
	    fail "$4 on $3: expected $5: $(cat "$T/out" "$T/err")"
}

start_sim --control "$T/control" "$T/bench.scn"
udid=$(sim_udid phone)
# quick keeps its duration: 3 s here, not 30.
quick_conf "$T/linkqd.conf"
start_linkqd "$T/linkqd.conf"

trace "the three cables on the good port"
run_on a c1 1-1 C-01 PASS
run_on a c2 1-1 C-02 PASS
run_on a c3 1-1 C-03 FAIL

trace "--by cable: the good cables first, C-03 FAIL with a reason"
lq report --by cable
expect_eq "$rc" 0 "report --by cable: $(cat "$T/err")"
# The rows, without the lines under them: a PASS may have a note saying
# why it ranks below the other (its round trips' time on this run).
grep -v '^    ' "$T/out" > "$T/rows"
sed -n 2p "$T/rows" | grep -q '^C-0[12]  *PASS' || fail "row 1: $(cat "$T/out")"
sed -n 3p "$T/rows" | grep -q '^C-0[12]  *PASS' || fail "row 2: $(cat "$T/out")"
sed -n 4p "$T/rows" | grep -q '^C-03  *FAIL' || fail "row 3: $(cat "$T/out")"
grep -A1 '^C-03  *FAIL' "$T/out" | grep -qi '^    .*corrupt' ||
    fail "no reason: $(cat "$T/out")"

trace "the good cables on the bad port"
run_on b c1 2-1 C-01 FAIL
run_on b c2 2-1 C-02 FAIL

trace "--by port: 2-1 fails with a reason"
lq report --by port
expect_eq "$rc" 0 "report --by port"
grep -q '^2-1  *FAIL' "$T/out" || fail "2-1 not FAIL: $(cat "$T/out")"
grep -A1 '^2-1  *FAIL' "$T/out" | grep -qi '^    .*corrupt' ||
    fail "no reason for 2-1: $(cat "$T/out")"

trace "blame: C-03 and 2-1, nothing good"
lq report
# The blame line names what the failure was, in its first reason.
grep -q '^  cable   C-03  *bad  *C-03 failed on 1-1 (data read back differed from what was written (1 corruption)), where C-01 and C-02 passed' \
    "$T/out" || fail "C-03 not blamed: $(cat "$T/out")"
grep -q '^  port    2-1  *bad ' "$T/out" || fail "2-1 not blamed: $(cat "$T/out")"
expect_eq "$(grep -c '^  [a-z]* .* bad ' "$T/out")" 2 "bad ones"
for good in C-01 C-02 1-1; do
	grep -q "^  [a-z]*  *$good  *good " "$T/out" ||
	    fail "$good not good: $(cat "$T/out")"
done

trace "--csv: the header and one line per row"
lq report --by pair --csv
expect_eq "$rc" 0 "report --csv"
head -n 1 "$T/out" | grep -q '^cable,port,port_label,host,udid,device,verdict,runs,' ||
    fail "header: $(head -n 1 "$T/out")"
expect_eq "$(wc -l < "$T/out")" 6 "CSV lines (header and five pairs)"
lq report --by pair --json
expect_eq "$(jq '.rows | length' "$T/out")" 5 "JSON rows"

trace "--json from the daemon is --db on the database"
for by in pair cable port device; do
	lq --json report --by "$by"
	expect_eq "$rc" 0 "report --json --by $by"
	cp "$T/out" "$T/daemon-$by.json"
done
stop_linkqd
for by in pair cable port device; do
	lq report --by "$by" --json --db "$T/linkq.db"
	expect_eq "$rc" 0 "report --db --by $by: $(cat "$T/err")"
	cmp -s "$T/out" "$T/daemon-$by.json" ||
	    fail "--by $by differs: $(diff "$T/out" "$T/daemon-$by.json")"
done
jq -e '.by == "device" and (.rows | length) == 1 and .rows[0].verdict == "FAIL"' \
    "$T/out" > /dev/null || fail "device report: $(cat "$T/out")"

trace "usage: a bad --by, --since and a missing database"
lq report --by nothing --db "$T/linkq.db"
expect_eq "$rc" 2 "bad --by"
lq report --since yesterday --db "$T/linkq.db"
expect_eq "$rc" 2 "bad --since"
lq report --since 1h --db "$T/linkq.db"
expect_eq "$rc" 0 "--since 1h"
lq report --since 2000-01-01 --db "$T/nonesuch.db"
expect_eq "$rc" 2 "no such database"

trace "--db on a database linkqd has not brought up to date, or not linkq's"
cp "$T/linkq.db" "$T/old.db"
sqlite3 "$T/old.db" 'PRAGMA user_version = 4'
lq report --db "$T/old.db"
expect_eq "$rc" 2 "an old schema"
grep -q 'schema version 4 .*let linkqd open it' "$T/err" ||
    fail "the old schema is not explained: $(cat "$T/err")"
sqlite3 "$T/other.db" 'CREATE TABLE t (a)'
lq report --db "$T/other.db"
expect_eq "$rc" 2 "not a linkq database"
grep -q 'no linkq schema' "$T/err" ||
    fail "a foreign database is not explained: $(cat "$T/err")"
stop_sim
