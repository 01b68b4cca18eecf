#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# Soft signals rank (issue 13): the same phone and cable pass on a clean
# port and on a hub slot that adds latency to every packet; in the
# report by port the hub slot ranks below the clean port, and says why
# in the JSON and under its PASS in the text. The rank needs a p99
# twice the best port's, and a 3 s run has a lockdown round trip or
# two: the hub adds 10 ms, so that one slow round trip on the clean
# port (2.7 ms was seen, against 3.9 ms on a 3 ms hub) cannot hide it.
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

[verdict]
min-bulk = 16M
CONF

# Run quick on the phone on sysfs path $1 with cable label A-01.
quick_on() {
	wait_for "get /v1/devices | jq -e '.devices[] | select(.port == \"$1\" and .attached and .trust == \"trusted\")' > /dev/null" 30 ||
	    fail "the phone is not on $1: $(get /v1/devices)"
	lq test "$1" --profile quick --cable A-01
	expect_eq "$rc" 0 "quick on $1: $(cat "$T/out" "$T/err")"
}

start_sim --control "$T/control" "$T/bench.scn"
start_linkqd "$T/linkqd.conf"

trace "quick passes on the clean port and on the slow hub slot"
quick_on 1-1
ctl '{"cmd":"move","device":"phone","port":"hub","cable":"good"}' > /dev/null
quick_on 1-4.2

trace "the hub slot ranks below the clean port, saying why"
lq report --by port --json
expect_eq "$rc" 0 "report: $(cat "$T/err")"
jq -e '[.rows[].port] == ["1-1", "1-4.2"] and
    ([.rows[].verdict] | unique) == ["PASS"] and
    (.rows[1].reasons | any(test("^ranked lower: lockdown round trips p99 [0-9.]+ ms against [0-9.]+ ms on the best port$")))' \
    "$T/out" > /dev/null || fail "the ranking: $(cat "$T/out")"
lq report --by port
grep -A3 '^1-4.2 ' "$T/out" | grep -q '^    ranked lower: lockdown round trips' ||
    fail "the text report does not say why: $(cat "$T/out")"
