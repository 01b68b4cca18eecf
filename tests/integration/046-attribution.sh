#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# Attribution (issue 13): an unplug is never a reset, and a cable is
# charged only with what happened while it was said to be in the port.
# A bad cable fails its run; a technician swaps it for a good one on the
# same port within a second: the failed run gains no reset reason, no
# re-enumeration is recorded, and the new attachment has no cable until
# somebody says which it is, so nothing of it is charged to the bad
# one. A port whose cable is declared fixed (a farm; in linkq.conf or
# with linkq cable --fixed) keeps it across a replug.

. "$(dirname "$0")/lib.sh"

cat > "$T/bench.scn" <<'SCN'
device phone
device phone2
port a path=1-1
port b path=1-2
cable bad corrupt-per-mb=1
cable good
cable farm
at 0s plug phone a bad
at 0s plug phone2 b farm
SCN

# Port 1-2's cable is declared fixed in the file, as a farm would.
cat > "$T/linkqd.conf" <<'CONF'
[profile quick]
duration = 3s
bulk = 16M

[verdict]
min-bulk = 16M

[cables]
port 1-2 = F-00
CONF

start_sim --control "$T/control" "$T/bench.scn"
u=$(sim_udid phone)
u2=$(sim_udid phone2)
start_linkqd "$T/linkqd.conf"
wait_trusted "$u"
wait_trusted "$u2"

trace "the bad cable B-01 fails its run"
lq cable 1-1 B-01
expect_eq "$rc" 0 "linkq cable: $(cat "$T/err")"
id=$(start_run "$u" quick)
run=$(wait_run "$id")
echo "$run" | jq -e '.verdict == "FAIL"' > /dev/null || fail "B-01 passed: $run"
att=$(echo "$run" | jq -r .attachment_id)

trace "a fast swap on the same port: no reset, no cable"
ctl '{"cmd":"unplug","device":"phone"}' > /dev/null
ctl '{"cmd":"plug","device":"phone","port":"a","cable":"good"}' > /dev/null
wait_for "get /v1/devices | jq -e '.devices[] | select(.udid == \"$u\" and .attached and .attachment_id != $att and .trust == \"trusted\")' > /dev/null" 30 ||
    fail "the phone is not back: $(get /v1/devices)"
run=$(get /v1/runs/$id)
echo "$run" | jq -e '.reasons | join(" ") | test("re-enumerated|reset") | not' > /dev/null ||
    fail "the unplug was taken for a reset: $run"
wait_sql "SELECT count(*) FROM events WHERE kind IN ('reenumeration', 'reset')" 0
wait_sql "SELECT end_reason FROM attachments WHERE id = $att" unplug
get /v1/devices | jq -e ".devices[] | select(.udid == \"$u\") | has(\"cable\") | not" > /dev/null ||
    fail "the replugged phone kept a cable nobody named: $(get /v1/devices)"
id2=$(start_run "$u" quick)
run=$(wait_run "$id2")
echo "$run" | jq -e '.verdict == "PASS"' > /dev/null || fail "the good cable failed: $run"
expect_eq "$(sql "SELECT count(*) FROM runs r JOIN attachments a ON a.id = r.attachment_id JOIN cables c ON c.id = a.cable_id WHERE c.label = 'B-01'")" \
    1 "runs charged to B-01"
lq report --by cable --json
echo "$(cat "$T/out")" | jq -e '.rows[] | select(.cable == "B-01") | .runs == 1 and .verdict == "FAIL"' > /dev/null ||
    fail "B-01's report row: $(cat "$T/out")"

trace "a cable declared fixed in linkq.conf is the port's from the start"
wait_for "get /v1/devices | jq -e '.devices[] | select(.udid == \"$u2\") | .cable == \"F-00\" and .cable_fixed' > /dev/null" 10 ||
    fail "the declared cable: $(get /v1/devices)"

trace "a fixed cable stays with its port across a replug"
lq cable 1-2 F-01 --fixed
expect_eq "$rc" 0 "linkq cable --fixed: $(cat "$T/err")"
att2=$(get /v1/devices | jq -r ".devices[] | select(.udid == \"$u2\") | .attachment_id")
ctl '{"cmd":"unplug","device":"phone2"}' > /dev/null
ctl '{"cmd":"plug","device":"phone2","port":"b","cable":"farm"}' > /dev/null
wait_for "get /v1/devices | jq -e '.devices[] | select(.udid == \"$u2\" and .attached and .attachment_id != $att2 and .trust == \"trusted\")' > /dev/null" 30 ||
    fail "phone2 is not back: $(get /v1/devices)"
get /v1/devices | jq -e ".devices[] | select(.udid == \"$u2\") | .cable == \"F-01\" and .cable_fixed" > /dev/null ||
    fail "the fixed cable was lost: $(get /v1/devices)"
id3=$(start_run "$u2" quick)
run=$(wait_run "$id3")
echo "$run" | jq -e '.verdict == "PASS"' > /dev/null || fail "F-01 failed: $run"
lq report --by cable --json
echo "$(cat "$T/out")" | jq -e '.rows[] | select(.cable == "F-01") | any(.reasons[]; test("declared fixed"))' > /dev/null ||
    fail "the report does not say the attribution rests on a declaration: $(cat "$T/out")"
lq cable 1-2 --clear
expect_eq "$rc" 0 "linkq cable --clear: $(cat "$T/err")"
get /v1/ports | jq -e '.ports[] | select(.port == "1-2") | has("cable") | not' > /dev/null ||
    fail "the fixed cable is still assigned: $(get /v1/ports)"
