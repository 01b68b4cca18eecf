#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# The built-in standard profile keeps its word, checked once at its
# documented length (every other test shortens its profiles): on a
# healthy phone it lasts its five minutes, a probe of every kind of the
# profile ends, and its PASS states the exposure it stands on, the bound
# and the detection power, and is not triage. Before it, on a cable that
# throws a USB link-error episode about once a minute, standard FAILs
# with the kernel's words. The two phones run one after the other, so
# that the healthy one does not share the simulator with a faulty one;
# the ten minutes overlap the other tests (tests/run), which at a real
# phone's speed leave the machine mostly idle. The plain build only,
# like the demo: under the sanitizers it runs when LINKQ_SLOW_TESTS is
# set.
# linkq-test: alongside

. "$(dirname "$0")/lib.sh"

slow_test
require_umockdev
SIM_UMOCKDEV=1		# libusb sees the phones: usb-control runs too

# The seed fixes when the flaky cable's episodes come: the first within
# the run, not in the seconds before it starts.
cat > "$T/bench.scn" <<'SCN'
seed 13
device phone
device phone2
port a path=1-4.1
port b path=1-4.2
cable good
cable flaky link-error-per-min=1
at 0s plug phone a good
at 0s plug phone2 b flaky
SCN

trace "the simulator's testbed with a healthy and a flaky cable"
start_sim --control "$T/control" "$T/bench.scn"
good=$(sim_udid phone)
flaky=$(sim_udid phone2)
start_linkqd "$T/none.conf"
wait_trusted "$good"
wait_trusted "$flaky"

trace "the flaky cable fails standard with the kernel's words"
idf=$(start_run "$flaky" standard)
wait_for "get /v1/runs/$idf | jq -e '.state != \"running\"' > /dev/null" 330 ||
    fail "the flaky run did not end: $(get /v1/runs/$idf)"
run=$(get /v1/runs/$idf)
# The episode is the hub's: the port disabled, a reset whose descriptor
# read fails with -71; the reasons quote the first line that counted.
echo "$run" | jq -e '.verdict == "FAIL" and
    (.reasons | join(" ") | test("the kernel said on port 1-4.2: usb 1-4.2: ")) and
    (.reasons | join(" ") | test("fault.? in .* under load"))' > /dev/null ||
    fail "the flaky cable's run: $run"
ctl '{"cmd":"unplug","device":"phone2"}' > /dev/null

trace "the healthy phone alone: standard lasts its five minutes and passes"
t0=$(date +%s)
id=$(start_run "$good" standard)
wait_for "get /v1/runs/$id | jq -e '.state != \"running\"' > /dev/null" 400 ||
    fail "the healthy run did not end: $(get /v1/runs/$id)"
t1=$(date +%s)
run=$(get /v1/runs/$id)
echo "$run" | jq -e '.verdict == "PASS" and .state == "done" and
    .elapsed_ms >= 300000 and .exposure.faults == 0 and
    .exposure.load_ms >= 240000 and .exposure.round_trips > 0 and
    .exposure.bytes_out >= 268435456 and .exposure.bytes_in >= 268435456 and
    .exposure.power_once_a_minute > 0.98 and
    (.reasons | join(" ") | test("under load, .* each way, .* round trips without a fault")) and
    (.reasons | join(" ") | test("at most .* faults per minute of load and .* per GB")) and
    (.reasons | join(" ") | test("once a minute would have shown with 9[89]")) and
    (any(.reasons[]; startswith("triage")) | not)' > /dev/null ||
    fail "the healthy run: $run"
[ $((t1 - t0)) -ge 300 ] || fail "standard ended after $((t1 - t0)) s"
# Every kind of the profile: mux-connect to usb-control, 1 to 6.
wait_sql "SELECT count(DISTINCT kind), min(kind), max(kind) FROM probes
    WHERE run_id = $id AND status = 0" '6|1|6'
