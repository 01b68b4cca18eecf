#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# kill -9 of linkqd, then a restart: a run answered with 201 an instant
# before the kill is in the database with its id; a run killed in the
# middle is closed as interrupted at its last probe, with its attachment
# and an event; the next run gets a new id; nothing stays running.

. "$(dirname "$0")/lib.sh"

cat > "$T/bench.scn" <<'SCN'
device phone
port a path=1-1
cable good
at 0s plug phone a good
SCN

cat > "$T/linkqd.conf" <<'CONF'
[profile quick]
duration = 3s
bulk = 16M

[profile standard]
duration = 60s
bulk = 16M
CONF

# kill -9 linkqd and restart it on the same database.
crash_restart() {
	kill -KILL "$LINKQD_PID"
	wait "$LINKQD_PID" 2>/dev/null || :
	LINKQD_PID=
	rm -f "$T/linkqd.sock"
	start_linkqd "$T/linkqd.conf"
}

trace "linkqd and one phone"
start_sim --control "$T/control" "$T/bench.scn"
u=$(sim_udid phone)
start_linkqd "$T/linkqd.conf"
wait_trusted "$u"

trace "kill -9 right after a 201: the run is in the database"
id1=$(start_run "$u" quick)
kill -KILL "$LINKQD_PID"
wait "$LINKQD_PID" 2>/dev/null || :
LINKQD_PID=
expect_eq "$(sql "SELECT count(*) FROM runs WHERE id = $id1")" 1 \
    "rows of run $id1 after the kill"
rm -f "$T/linkqd.sock"
start_linkqd "$T/linkqd.conf"
expect_eq "$(sql "SELECT state FROM runs WHERE id = $id1")" interrupted \
    "run $id1 after the restart"
expect_eq "$(sql "SELECT a.end_reason FROM runs r JOIN attachments a
    ON a.id = r.attachment_id WHERE r.id = $id1")" interrupted \
    "the attachment of run $id1"
get /v1/runs/$id1 | jq -e '.state == "interrupted" and .recorded and
    (.reasons[0] | test("killed or crashed"))' > /dev/null ||
    fail "run $id1 in the API: $(get /v1/runs/$id1)"
lq show "$id1"
grep -q interrupted "$T/out" || fail "linkq show $id1: $(cat "$T/out")"
wait_trusted "$u"

trace "kill -9 in the middle of a run: interrupted at its last evidence"
id2=$(start_run "$u" standard)
[ "$id2" -gt "$id1" ] || fail "run $id2 after run $id1"
wait_for "[ \"\$(sql 'SELECT count(*) > 2 FROM probes WHERE run_id = $id2')\" = 1 ]" 30 ||
    fail "no probes of run $id2 in the database"
crash_restart
expect_eq "$(sql "SELECT state FROM runs WHERE id = $id2")" interrupted \
    "run $id2 after the restart"
expect_eq "$(sql "SELECT ended_us >= (SELECT max(ts_us) FROM probes
    WHERE run_id = $id2) FROM runs WHERE id = $id2")" 1 \
    "run $id2 ends at its last evidence"
expect_eq "$(sql "SELECT count(*) FROM events WHERE kind = 'interrupted'
    AND run_id = $id2")" 1 "interrupted events of run $id2"
expect_eq "$(sql "SELECT count(*) FROM attachments WHERE ended_us IS NULL
    AND id <= (SELECT attachment_id FROM runs WHERE id = $id2)")" 0 \
    "attachments left open"
expect_eq "$(sql "SELECT count(*) FROM runs WHERE state = 'running'")" 0 \
    "runs left running"
lq runs
grep "^ *$id2 " "$T/out" | grep -q interrupted ||
    fail "linkq runs does not say run $id2 was interrupted: $(cat "$T/out")"

trace "the next run gets a new id and passes"
wait_trusted "$u"
id3=$(start_run "$u" quick)
[ "$id3" -gt "$id2" ] || fail "run $id3 after run $id2"
wait_run "$id3" | jq -e '.verdict == "PASS" and .recorded' > /dev/null ||
    fail "run $id3: $(get /v1/runs/$id3)"
wait_sql "SELECT verdict FROM runs WHERE id = $id3" PASS
stop_linkqd
