#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# Every finding reaches the report and the blame (issue 13): a cable
# that negotiates 12 Mb/s, found when the phone attaches and before any
# run, is named by its speed in its report row and its blame line, not
# only "1 of 1 runs failed"; a cable whose only run was cancelled is no
# PASS in the report and not good in the blame.

. "$(dirname "$0")/lib.sh"

cat > "$T/bench.scn" <<'SCN'
device phone
port a path=1-1
port b path=1-2
cable good label=A-01
cable slow label=S-12 speed=12
at 0s plug phone a good
SCN

# quick kept short, in time and in bytes: S-12 moves under 1 MB/s, as
# a real phone at 12 Mb/s does, and quick's 64 MiB each way would take
# it minutes.
cat > "$T/linkqd.conf" <<'CONF'
[profile quick]
duration = 3s
bulk = 4M

[verdict]
min-bulk = 4M
CONF

# Move the phone to port $1 (sysfs path $2) through cable $3 (label $4)
# and run quick there; the verdict is in $T/out.
quick_on() {
	ctl "{\"cmd\":\"move\",\"device\":\"phone\",\"port\":\"$1\",\"cable\":\"$3\"}" \
	    > /dev/null
	wait_for "get /v1/devices | jq -e '.devices[] | select(.port == \"$2\" and .attached and .trust == \"trusted\")' > /dev/null" 30 ||
	    fail "the phone is not on $2: $(get /v1/devices)"
	lq test "$2" --profile quick --cable "$4"
}

start_sim --control "$T/control" "$T/bench.scn"
start_linkqd "$T/linkqd.conf"

trace "A-01 passes at 480 Mb/s on both ports; S-12 fails at 12 Mb/s"
quick_on b 1-2 good A-01
expect_eq "$rc" 0 "A-01 on 1-2: $(cat "$T/out")"
quick_on a 1-1 slow S-12
expect_eq "$rc" 1 "S-12 on 1-1: $(cat "$T/out")"
quick_on a 1-1 good A-01
expect_eq "$rc" 0 "A-01 on 1-1: $(cat "$T/out")"

trace "the speed in S-12's row and in its blame line"
lq report --by cable --json
jq -e '.rows[] | select(.cable == "S-12") | .verdict == "FAIL" and
    (.reasons[0] == "negotiated 12 Mb/s although this device reached 480 Mb/s elsewhere")' \
    "$T/out" > /dev/null || fail "S-12's row: $(cat "$T/out")"
jq -e '.blame.cables[] | select(.name == "S-12") | .state == "bad" and
    (.evidence | test("S-12 failed on 1-1 \\(negotiated 12 Mb/s"))' \
    "$T/out" > /dev/null || fail "S-12's blame: $(cat "$T/out")"

trace "a cable whose only run was cancelled: no PASS, not good"
ctl '{"cmd":"move","device":"phone","port":"b","cable":"good"}' > /dev/null
wait_for "get /v1/devices | jq -e '.devices[] | select(.port == \"1-2\" and .attached and .trust == \"trusted\")' > /dev/null" 30 ||
    fail "the phone is not on 1-2: $(get /v1/devices)"
id=$(api POST /v1/runs '{"port":"1-2","profile":"wiggle","cable":"C-09"}' | head -n 1 | jq -r .id)
wait_for "get /v1/runs/$id | jq -e '.probes >= 2' > /dev/null" 90 ||
    fail "the run did not get going: $(get /v1/runs/$id)"
api POST /v1/runs/$id/cancel > /dev/null
run=$(wait_run "$id")
echo "$run" | jq -e '.state == "cancelled" and .verdict == null' > /dev/null ||
    fail "the cancelled run: $run"
lq report --by cable --json
jq -e '.rows[] | select(.cable == "C-09") | .verdict == null' "$T/out" \
    > /dev/null || fail "C-09's row: $(cat "$T/out")"
jq -e '[.blame.cables[] | select(.name == "C-09" and .state == "good")] | length == 0' \
    "$T/out" > /dev/null || fail "C-09 is good in the blame: $(cat "$T/out")"
lq report --by cable
grep -q '^C-09  *-  ' "$T/out" || fail "C-09's text row: $(cat "$T/out")"
