#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# A fault of the phone itself (issue 14: a worn connector) follows it
# to another cable and port: the simulator's events and kernel log show
# its faults on both placements, and a fault set on the device through
# the control socket joins them. linkqd fails the phone's runs with
# either cable on either port while a clean phone passes with both, and
# linkq report blames the phone, not the cables or ports. A scenario
# with a bad device fault key names the file and line.

. "$(dirname "$0")/lib.sh"

cat > "$T/bench.scn" <<'SCN'
seed 58
device worn corrupt-per-mb=2 link-error-per-min=60
device clean
port a path=1-1
port b path=2-1
cable c1 label=C-01
cable c2 label=C-02
at 0s plug worn a c1
at 0s plug clean b c2
SCN

# Wait until device $1 (a UDID) is trusted on sysfs path $2.
wait_on() {
	wait_for "get /v1/devices | jq -e '.devices[] | select(.udid == \"$1\" and .port == \"$2\" and .attached and .trust == \"trusted\")' > /dev/null" 30 ||
	    fail "$1 not trusted on $2: $(get /v1/devices)"
}

# Run the quick profile on UDID $1 with cable label $2; expect $3.
run_expect() {
	lq test -u "$1" --profile quick --cable "$2"
	grep -q "^$3\$" "$T/out" ||
	    fail "$1 with $2: expected $3: $(cat "$T/out" "$T/err")"
}

trace "a bad device fault key names the file and line"
printf 'device p\ndevice q burst-len=x\n' > "$T/bad.scn"
"$BUILD/linkq-sim" --socket "$T/bad.sock" --state "$T/bad-state" \
    "$T/bad.scn" > /dev/null 2> "$T/bad.err" &&
    fail "a bad burst-len was accepted"
grep -q "bad.scn:2: burst-len=x: expected a whole number from 0 to 1000" \
    "$T/bad.err" || fail "message: $(cat "$T/bad.err")"

start_sim --control "$T/control" "$T/bench.scn"
uw=$(sim_udid worn)
uc=$(sim_udid clean)
quick_conf "$T/linkqd.conf"
start_linkqd "$T/linkqd.conf"

trace "the worn phone on port 1-1 through C-01: its faults show there"
wait_on "$uw" 1-1
wait_on "$uc" 2-1
run_expect "$uw" C-01 FAIL
run_expect "$uc" C-02 PASS
wait_for "grep -q 'usb usb1-port1: disabled by hub (EMI?)' '$T/kmsg'" 30 ||
    fail "no link error of the worn phone on 1-1: $(cat "$T/kmsg")"
ctl '{"cmd":"events"}' | jq -e '.events | index("link-error worn") != null' \
    > /dev/null || fail "no link error event on 1-1: $(ctl '{"cmd":"events"}')"

trace "swapped: the worn phone on 2-1 through C-02, its faults follow it"
ctl '{"cmd":"unplug","device":"clean"}' > /dev/null
ctl '{"cmd":"move","device":"worn","port":"b","cable":"c2"}' > /dev/null
ctl '{"cmd":"plug","device":"clean","port":"a","cable":"c1"}' > /dev/null
ctl '{"cmd":"oplog-clear","device":"worn"}' > /dev/null
wait_on "$uw" 2-1
wait_on "$uc" 1-1
run_expect "$uw" C-02 FAIL
run_expect "$uc" C-01 PASS
wait_for "grep -q 'usb usb2-port1: disabled by hub (EMI?)' '$T/kmsg'" 30 ||
    fail "no link error of the worn phone on 2-1: $(cat "$T/kmsg")"
ctl '{"cmd":"events"}' | jq -e '.events | (index("plug worn b c2") as $p | $p != null and (.[$p:] | index("link-error worn") != null))' \
    > /dev/null || fail "no link error event on 2-1: $(ctl '{"cmd":"events"}')"
# None on the clean phone, on either placement. (Whether the worn
# phone's bit flips show depends on how much data its runs move before
# a link error ends them, so they are not counted on.)
ctl '{"cmd":"events"}' | jq -e '.events | map(select(test("^(corrupt|link-error) clean"))) | length == 0' \
    > /dev/null || fail "the clean phone has faults: $(ctl '{"cmd":"events"}')"

trace "a fault set on the device by the control socket"
ctl '{"cmd":"fault","target":"worn","params":"stall-per-min=600 stall-ms=5"}' |
    jq -e .ok > /dev/null || fail "fault on a device refused"
wait_for "ctl '{\"cmd\":\"events\"}' | jq -e '.events | index(\"stall worn 5ms\") != null' > /dev/null" 20 ||
    fail "no stall of the worn phone: $(ctl '{"cmd":"events"}')"
ctl '{"cmd":"fault","target":"nothing","params":"stall-ms=5"}' |
    jq -e '.ok == false and (.error | test("no port, cable or device called nothing"))' \
    > /dev/null || fail "a fault on no such thing was accepted"

trace "linkq report blames the phone, not the cables or ports"
lq report
expect_eq "$rc" 0 "report: $(cat "$T/err")"
cat "$T/out"
grep -q "^  device  $uw  *bad  *failed with every cable (C-01 and C-02) on every port (1-1 and 2-1)" \
    "$T/out" || fail "the phone is not blamed: $(cat "$T/out")"
grep -q "^  device  $uc  *good " "$T/out" ||
    fail "the clean phone is not good: $(cat "$T/out")"
for good in C-01 C-02 1-1 2-1; do
	grep -q "^  [a-z]*  *$good  *bad " "$T/out" &&
	    fail "$good blamed for the phone: $(cat "$T/out")"
done
stop_linkqd
stop_sim
