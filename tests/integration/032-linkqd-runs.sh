#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# Runs through linkqd against linkq-sim: a clean cable passes the quick
# profile with its evidence in the database; the progress stream ends
# with the verdict; each fault the simulator injects fails a run with the
# reason a technician needs (a USB error that strands the device, a
# reset, corruption, a stall beyond the bulk deadline, a stall during TLS
# handshakes), and the other device and the daemon carry on; an unplug
# in the middle of a bulk transfer is a dropout while the second device
# passes; nothing outside /linkq/ is touched; the event log and its
# follow stream, cancelling, and SIGTERM in the middle of a run.
# linkq-test: alone

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

# Short deadlines so that stalls are seen within seconds; quick kept
# short (it keeps its duration); a profile of TLS handshakes alone.
cat > "$T/linkqd.conf" <<'CONF'
[profile quick]
duration = 3s

[profile restore]
bulk = 200M

# A usbmux Connect waits out a stall of the link as the rest does, so
# every kind gets a short deadline.
[deadlines]
bulk = 1s
lockdown-handshake = 1s
mux-connect = 1s
lockdown-query = 1s
afc-roundtrip = 1s

[profile tls]
kinds = lockdown-handshake
duration = 60s
CONF

# Replug the simulator's device $1 on port $2 with cable $3.
replug() {
	ctl "{\"cmd\":\"unplug\",\"device\":\"$1\"}" > /dev/null
	ctl "{\"cmd\":\"plug\",\"device\":\"$1\",\"port\":\"$2\",\"cable\":\"$3\"}" > /dev/null
}

trace "the simulator with two devices, linkqd on private paths"
start_sim --control "$T/control" "$T/bench.scn"
u1=$(sim_udid phone)
u2=$(sim_udid phone2)
[ -n "$u1" ] && [ -n "$u2" ] || fail "no UDIDs: $(ctl '{"cmd":"status"}')"
start_linkqd "$T/linkqd.conf"
wait_trusted "$u1"
wait_trusted "$u2"
get /v1/devices | jq -e ".devices[] | select(.udid == \"$u1\") | .name and .product_type and .ios_version" > /dev/null ||
    fail "no device info through lockdown: $(get /v1/devices)"
ctl '{"cmd":"oplog-clear","device":"phone"}' > /dev/null

trace "ports are the sysfs port paths of the simulator's bench"
port1=$(get /v1/devices | jq -r ".devices[] | select(.udid == \"$u1\") | .port")
expect_eq "$port1" 1-1 "the first device's port"
expect_eq "$(get /v1/devices | jq -r ".devices[] | select(.udid == \"$u2\") | .port")" \
    1-2 "the second device's port"
wait_sql "SELECT group_concat(path || ':' || hub_depth, ' ') FROM (SELECT * FROM ports ORDER BY path)" \
    "1-1:0 1-2:0"

trace "a clean cable passes quick, with its cable, evidence and throughput"
api PUT "/v1/ports/$port1/cable" '{"cable":"A-01"}' | tail -n 1 | grep -q 200 ||
    fail "cable assignment refused"
id=$(start_run "$u1" quick)
curl -sS -N --max-time 120 --unix-socket "$T/linkqd.sock" \
    "http://linkq/v1/runs/$id/progress" > "$T/progress"
tail -n 1 "$T/progress" | jq -e '.type == "end" and .verdict == "PASS"' > /dev/null ||
    fail "the progress stream did not end with PASS: $(tail -n 3 "$T/progress")"
run=$(wait_run "$id")
echo "$run" | jq -e '.verdict == "PASS" and .state == "done"' > /dev/null ||
    fail "quick did not pass: $run"
# The evidence is exposure: the run kept its 3 s and states its time
# under load, bytes and round trips, the bounds and the power.
echo "$run" | jq -e '.bulk_bytes >= 134217728 and .elapsed_ms >= 3000 and
    .exposure.load_ms > 0 and .exposure.round_trips >= 4 and
    .exposure.bytes_out >= 67108864 and .exposure.faults == 0 and
    .exposure.faults_per_minute_upper > 0 and
    .exposure.power_once_a_minute > 0 and
    (.reasons | join(" ") | test("under load.*without a fault")) and
    (.reasons | join(" ") | test("faults per minute of load")) and
    any(.reasons[]; startswith("triage: "))' > /dev/null ||
    fail "the PASS does not state its exposure: $run"
wait_sql "SELECT state || ' ' || verdict FROM runs WHERE id = $id" "done PASS"
for k in 1 2 3 4 5; do
	n=$(sql "SELECT count(*) FROM probes WHERE run_id = $id AND kind = $k AND status = 0")
	[ "$n" -ge 1 ] || fail "no successful probe of kind $k"
done
sql "SELECT detail FROM probes WHERE run_id = $id AND kind = 5" |
    jq -e '(.write_mb_s | length) >= 1 and (.read_mb_s | length) >= 1' > /dev/null ||
    fail "no throughput series in the bulk probe"
wait_sql "SELECT count(*) FROM pair_summary WHERE cable = 'A-01'" 1

trace "nothing outside /linkq/ was touched, user files are unchanged"
ctl '{"cmd":"oplog","device":"phone"}' | jq -r '.oplog[]' > "$T/oplog"
[ -s "$T/oplog" ] || fail "empty oplog"
if tr ' ' '\n' < "$T/oplog" | grep '^/' | grep -v '^/linkq\(/\|$\)'; then
	fail "an AFC operation outside /linkq/"
fi
"$BUILD/tests/tools/lq-afc-check" -u "$u1" untouched > "$T/out" 2>&1 ||
    fail "user files changed: $(cat "$T/out")"

trace "restore streams to the phone only, in 128 KiB writes, with handshakes"
id=$(start_run "$u1" restore)
run=$(wait_run "$id")
echo "$run" | jq -e '.verdict == "PASS" and .exposure.bytes_in == 0 and
    .exposure.bytes_out >= 209715200 and
    (.reasons | join(" ") | test("under load, [0-9.]+ MB to the device, [0-9]+ round trips? without a fault"))' > /dev/null ||
    fail "restore: $run"
# 200M in slices of 64M: four bulk probes; a handshake in cycle 0.
wait_sql "SELECT count(*) FROM probes WHERE run_id = $id AND kind = 5 AND status = 0" 4
wait_sql "SELECT count(*) > 0 FROM probes WHERE run_id = $id AND kind = 3" 1
sql "SELECT detail FROM probes WHERE run_id = $id AND kind = 5 LIMIT 1" |
    jq -e '.chunk == 131072 and .read_us == 0' > /dev/null ||
    fail "not 128 KiB writes without reads: $(sql "SELECT detail FROM probes WHERE run_id = $id AND kind = 5 LIMIT 1")"

trace "unplug in the middle of a bulk transfer: dropout; the other passes"
id1=$(start_run "$u1" wiggle)
id2=$(start_run "$u2" quick)
wait_for "get /v1/runs/$id1 | jq -e '.bytes > 0' > /dev/null" 30 ||
    fail "no bulk bytes moved"
ctl '{"cmd":"unplug","device":"phone"}' > /dev/null
run=$(wait_run "$id1")
echo "$run" | jq -e '.verdict == "FAIL" and (.reasons | join(" ") | test("dropped out"))' > /dev/null ||
    fail "the unplug was not a dropout FAIL: $run"
wait_for "[ \"\$(sql \"SELECT count(*) FROM events WHERE kind = 'dropout' AND run_id = $id1\")\" = 1 ]" 10 ||
    fail "no dropout event"
run=$(wait_run "$id2")
echo "$run" | jq -e '.verdict == "PASS"' > /dev/null ||
    fail "the second device was affected: $run"
ctl "{\"cmd\":\"plug\",\"device\":\"phone\",\"port\":\"a\",\"cable\":\"good\"}" > /dev/null
wait_trusted "$u1"

trace "a USB error strands the device: FAIL"
id=$(start_run "$u1" wiggle)
wait_for "get /v1/runs/$id | jq -e '.bytes > 0' > /dev/null" 30 ||
    fail "no bulk bytes moved"
ctl '{"cmd":"drop","device":"phone","mode":"stranded"}' > /dev/null
run=$(wait_run "$id")
echo "$run" | jq -e '.verdict == "FAIL" and (.reasons | join(" ") | test("dropped out"))' > /dev/null ||
    fail "a stranding drop did not fail the run: $run"
replug phone a good
wait_trusted "$u1"

trace "a reset: FAIL, and the new attachment is linked to the old one"
id=$(start_run "$u1" wiggle)
att=$(get /v1/runs/$id | jq -r .attachment_id)
wait_for "get /v1/runs/$id | jq -e '.bytes > 0' > /dev/null" 30 ||
    fail "no bulk bytes moved"
ctl '{"cmd":"reset","device":"phone"}' > /dev/null
run=$(wait_run "$id")
echo "$run" | jq -e '.verdict == "FAIL"' > /dev/null || fail "a reset passed: $run"
wait_for "[ \"\$(sql \"SELECT count(*) FROM attachments WHERE previous_id = $att\")\" = 1 ]" 20 ||
    fail "the attachments are not linked"
# The kernel's reset line names it; usbmuxd's Detached is a dropout.
wait_for "get /v1/runs/$id | jq -e '.reasons | join(\" \") | test(\"the kernel reset the device\")' > /dev/null" 20 ||
    fail "the reasons do not name the reset: $(get /v1/runs/$id)"
wait_trusted "$u1"

trace "corruption on the cable: FAIL naming it, with the offset"
ctl '{"cmd":"fault","target":"good","params":"corrupt-per-mb=2"}' > /dev/null
id=$(start_run "$u1" quick)
run=$(wait_run "$id")
echo "$run" | jq -e '.verdict == "FAIL" and (.reasons | join(" ") | test("differed"))' > /dev/null ||
    fail "corruption did not fail the run: $run"
wait_for "sql \"SELECT detail FROM events WHERE kind = 'corruption' AND run_id = $id\" | grep -q 'differs at byte [0-9]'" 10 ||
    fail "no corruption event with its offset"
ctl '{"cmd":"fault","target":"good","params":"corrupt-per-mb=0"}' > /dev/null

# A timeout is a soft failure: the sequential test fails a run for two
# of them within its first hundred or so trials, not late in a long one.
trace "a stall longer than the bulk deadline: FAIL by timeouts"
ctl '{"cmd":"stall","device":"phone","ms":8000}' > /dev/null
id=$(start_run "$u1" quick)
run=$(wait_run "$id")
echo "$run" | jq -e '.verdict == "FAIL" and (.reasons | join(" ") | test("timeout"))' > /dev/null ||
    fail "a stall did not fail the run by timeouts: $run"
wait_for "[ \"\$(sql 'SELECT count(*) FROM probes WHERE run_id = $id AND status = -6')\" -ge 1 ]" 10 ||
    fail "no probe recorded as a timeout"
replug phone a good
wait_trusted "$u1"

trace "a stall during TLS handshakes: FAIL by handshake timeouts"
ctl '{"cmd":"stall","device":"phone2","ms":8000}' > /dev/null
id=$(start_run "$u2" tls)
run=$(wait_run "$id")
echo "$run" | jq -e '.verdict == "FAIL" and .errors["lockdown-handshake"] >= 2' > /dev/null ||
    fail "stalled handshakes did not fail the run: $run"

trace "the event log, with a follow stream that starts with the backlog"
get '/v1/events?since=0&limit=10000' |
    jq -e '[.events[].kind] | index("dropout") and index("corruption") and index("timeout")' \
    > /dev/null || fail "events: $(get '/v1/events?since=0' | head -c 500)"
get "/v1/events?run=$id1" |
    jq -e "(.events | length) >= 1 and all(.events[]; .run_id == $id1) and any(.events[]; .kind == \"dropout\")" \
    > /dev/null || fail "events of run $id1: $(get "/v1/events?run=$id1")"
expect_eq "$(api GET "/v1/events?run=$id1&follow=1" | tail -n 1)" 400 \
    "follow with run"
first=$(get '/v1/events?since=0&limit=1' | jq -r '.events[0].id')
# The stream stays open: its first line is all this needs (head(1)
# would end curl only at the next event, or at --max-time).
curl -sS -N --max-time 20 --unix-socket "$T/linkqd.sock" \
    "http://linkq/v1/events?since=$first&follow=1" > "$T/follow" \
    2> /dev/null &
follow_pid=$!
wait_for "[ \$(wc -l < '$T/follow') -ge 1 ]" 20 || :
kill "$follow_pid" 2> /dev/null || :
wait "$follow_pid" 2> /dev/null || :
head -n 1 "$T/follow" | jq -e ".id == $first + 1" > /dev/null ||
    fail "the follow stream: $(head -n 3 "$T/follow")"

trace "a run cancelled by request ends without a verdict"
wait_trusted "$u1"
id=$(start_run "$u1" wiggle)
api POST "/v1/runs/$id/cancel" | tail -n 1 | grep -q 200 || fail "cancel refused"
run=$(wait_run "$id")
echo "$run" | jq -e '.state == "cancelled" and .verdict == null' > /dev/null ||
    fail "cancelled run: $run"
expect_eq "$(api POST "/v1/runs/$id/cancel" | tail -n 1)" 409 "a second cancel"

trace "SIGTERM in the middle of a run: interrupted, then a clean stop"
get /v1/status | jq -e '.devices_attached == 2' > /dev/null ||
    fail "status: $(get /v1/status)"
id=$(start_run "$u1" wiggle)
wait_for "get /v1/runs/$id | jq -e '.bytes > 0' > /dev/null" 30 ||
    fail "no bulk bytes moved"
stop_linkqd
expect_eq "$(sql "SELECT state FROM runs WHERE id = $id")" interrupted \
    "the run stopped by SIGTERM"
expect_eq "$(sql "SELECT count(*) FROM events WHERE kind = 'interrupted' AND run_id = $id")" \
    1 "interrupted events"
expect_eq "$(sql "SELECT count(*) FROM runs WHERE state = 'running'")" 0 \
    "runs left running after a clean stop"
