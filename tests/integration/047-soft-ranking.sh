#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# Soft signals rank (issue 13): the same phone and cable pass on a clean
# port and on a hub slot that adds 10 ms to every packet. A 3 s quick
# run has a lockdown round trip or two: too few to rank by (one slow
# round trip on the clean port, 2.7 ms, was seen), so the report does
# not. A 3 s run of lockdown queries alone has dozens: in the report by
# port the hub slot then ranks below the clean port, and says why, with
# the round trips behind each figure, in the JSON and under its PASS in
# the text.
# linkq-test: alone

. "$(dirname "$0")/lib.sh"

cat > "$T/bench.scn" <<'SCN'
device phone
port clean path=1-1
port hub path=1-4.2 latency-ms=10
cable good
at 0s plug phone clean good
SCN

cat > "$T/linkqd.conf" <<'CONF'
[profile quick]
duration = 3s
bulk = 16M

[profile queries]
kinds = mux-connect lockdown-query
duration = 3s

[verdict]
min-bulk = 16M
CONF

# Run profile $2 on the phone on sysfs path $1 with cable label A-01.
run_on() {
	wait_for "get /v1/devices | jq -e '.devices[] | select(.port == \"$1\" and .attached and .trust == \"trusted\")' > /dev/null" 30 ||
	    fail "the phone is not on $1: $(get /v1/devices)"
	lq test "$1" --profile "$2" --cable A-01
	expect_eq "$rc" 0 "$2 on $1: $(cat "$T/out" "$T/err")"
}

# Move the phone to port $1 of the scenario.
move_to() {
	ctl "{\"cmd\":\"move\",\"device\":\"phone\",\"port\":\"$1\",\"cable\":\"good\"}" > /dev/null
}

start_sim --control "$T/control" "$T/bench.scn"
start_linkqd "$T/linkqd.conf"

trace "quick passes on the clean port and on the slow hub slot"
run_on 1-1 quick
move_to hub
run_on 1-4.2 quick

trace "a round trip or two per port: no rank by latency"
lq report --by port --json
expect_eq "$rc" 0 "report: $(cat "$T/err")"
jq -e '([.rows[].verdict] | unique) == ["PASS"] and
    all(.rows[]; .latency_round_trips < 20 and
    (.reasons | all(test("lockdown round trips") | not))) and
    ([.rows[] | select(.port == "1-4.2") | .latency_ms_p99][0] >
    2 * [.rows[] | select(.port == "1-1") | .latency_ms_p99][0])' \
    "$T/out" > /dev/null || fail "ranked on a few round trips: $(cat "$T/out")"

trace "lockdown queries alone: the hub slot ranks below the clean port"
run_on 1-4.2 queries
move_to clean
run_on 1-1 queries
lq report --by port --json
expect_eq "$rc" 0 "report: $(cat "$T/err")"
jq -e '[.rows[].port] == ["1-1", "1-4.2"] and
    ([.rows[].verdict] | unique) == ["PASS"] and
    all(.rows[]; .latency_round_trips >= 20) and
    (.rows[1].reasons | any(test("^ranked lower: lockdown round trips p99 [0-9.]+ ms against [0-9.]+ ms on the best port \\(per-run means of [0-9]+ and [0-9]+ round trips\\)$")))' \
    "$T/out" > /dev/null || fail "the ranking: $(cat "$T/out")"
lq report --by port
grep -A4 '^1-4.2 ' "$T/out" | grep -q '^    ranked lower: lockdown round trips' ||
    fail "the text report does not say why: $(cat "$T/out")"
