#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# linkqd queues a run's next quick probe on the worker behind the one in
# flight. That must change nothing a run records: the probes follow the
# plan in order, with no kind skipped or repeated, across a probe that
# timed out (the one queued behind it is dropped and sent again); a probe
# that never ran is never stored; each probe has its own deadline from
# its own start, so the probe after a stall still succeeds; and a probe
# that lost its connection holds the run, so that an unplug is one
# dropout and at most one failed probe, not a count of them. (The
# unplug is met by mux-connect probes: a lockdown-query cut mid-way by
# it fails with a TLS error, which is not known to be a lost connection,
# and the run goes on to the next probe, which is.)
# linkq-test: alone

. "$(dirname "$0")/lib.sh"

cat > "$T/bench.scn" <<'SCN'
device phone
port a path=1-1
cable good
at 0s plug phone a good
SCN

cat > "$T/linkqd.conf" <<'CONF'
[deadlines]
mux-connect = 2s
lockdown-query = 2s
afc-roundtrip = 2s

# Long enough for probes after a 2.5 s stall and its 2 s deadline, even
# on a loaded machine where getting going takes a few seconds.
[profile chain]
kinds = mux-connect lockdown-query afc-roundtrip
duration = 10s

[profile connects]
kinds = mux-connect
duration = 120s
CONF

# The probes of run $1 that break the plan's order: mux-connect (1),
# lockdown-query (2), afc-roundtrip (4), again and again.
off_plan() {
	sql "SELECT count(*) FROM (SELECT kind, row_number() OVER
	    (ORDER BY id) - 1 AS n FROM probes WHERE run_id = $1)
	    WHERE kind != CASE n % 3 WHEN 0 THEN 1 WHEN 1 THEN 2 ELSE 4 END"
}
# Probes of run $1 stored without having run: no time at all.
unrun() {
	sql "SELECT count(*) FROM probes WHERE run_id = $1 AND latency_us = 0"
}

# Start profile $1 on the phone and wait until it has made 30 probes;
# print the run id.
start_going() {
	_id=$(start_run "$u" "$1")
	wait_for "get /v1/runs/$_id | jq -e '.probes >= 30' > /dev/null" 30 ||
	    fail "the run did not get going: $(get /v1/runs/$_id)"
	echo "$_id"
}

trace "the simulator with one device, linkqd with 2 s deadlines"
start_sim --control "$T/control" "$T/bench.scn"
u=$(sim_udid phone)
[ -n "$u" ] || fail "no UDID: $(ctl '{"cmd":"status"}')"
start_linkqd "$T/linkqd.conf"
wait_trusted "$u"

trace "a stall past the deadline: one timeout, the plan kept, then success"
id=$(start_going chain)
ctl '{"cmd":"stall","device":"phone","ms":2500}' > /dev/null
run=$(wait_run "$id")
echo "$run" | jq -e '.state == "done"' > /dev/null ||
    fail "the run did not end by its duration: $run"
wait_sql "SELECT state FROM runs WHERE id = $id" done
n=$(sql "SELECT count(*) FROM probes WHERE run_id = $id AND status = -6")
[ "$n" -ge 1 ] || fail "no probe recorded as a timeout in run $id"
n=$(sql "SELECT count(*) FROM probes WHERE run_id = $id AND status = 0
    AND id > (SELECT min(id) FROM probes WHERE run_id = $id AND
    status = -6)")
[ "$n" -ge 3 ] || fail "only $n probes succeeded after the timeout"
expect_eq "$(off_plan "$id")" 0 "probes out of the plan's order"
expect_eq "$(unrun "$id")" 0 "probes stored that never ran"
expect_eq "$(sql "SELECT count(*) FROM probes WHERE run_id = $id")" \
    "$(get /v1/runs/$id | jq .probes)" "probes stored against counted"

trace "an unplug: one dropout, at most one failed probe"
id=$(start_going connects)
ctl '{"cmd":"unplug","device":"phone"}' > /dev/null
run=$(wait_run "$id")
echo "$run" | jq -e '.verdict == "FAIL" and
    (.reasons | join(" ") | test("dropped out"))' > /dev/null ||
    fail "the unplug was not a dropout FAIL: $run"
echo "$run" | jq -e '.failures <= 1' > /dev/null ||
    fail "the unplug counted as several failed probes: $run"
wait_sql "SELECT count(*) FROM events WHERE kind = 'dropout' AND run_id = $id" 1
n=$(sql "SELECT count(*) FROM probes WHERE run_id = $id AND status != 0")
[ "$n" -le 1 ] || fail "$n failed probes stored for one unplug"
expect_eq "$(unrun "$id")" 0 "probes stored that never ran"

stop_linkqd
