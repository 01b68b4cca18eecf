#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# The fault kinds of issue 14 that need no linkqd: a charge-only cable
# never enumerates and the kernel says nothing; a flex raises a cable's
# link errors for its window only; a burst brings its link errors
# together; faults on a hub reach every port below it, an over-current
# on the hub cuts them all off and a hub reset brings them back; bit
# flips on the OUT pipe land in the file the phone stores, which a
# read-back finds, while drops on it show on usbmon's Bo pipe.

. "$(dirname "$0")/lib.sh"

check=$BUILD/tests/tools/lq-afc-check
[ -x "$check" ] || fail "$check is not built"

cat > "$T/bench.scn" <<'SCN'
seed 60
device phone
device phone2
device phone3
port a path=1-1
port b path=1-4.1
port c path=1-4.2
port e path=2-1
cable co label=CO data=no
cable wig link-error-per-min=0.6
cable c2
cable wout
at 0s plug phone a co
at 0s plug phone2 b wig
at 0s plug phone3 c c2
SCN

# The simulator's event log, one event a line.
events() {
	ctl '{"cmd":"events"}' | jq -r '.events[]'
}

# How many events match the extended regular expression $1.
count() {
	events | grep -Ec "$1" || :
}

# Whether the simulator shows device $1 attached: "true" or "false".
sim_attached() {
	ctl '{"cmd":"status"}' | jq -r ".devices[] | select(.device == \"$1\") | .attached"
}

start_sim --control "$T/control" "$T/bench.scn"

trace "a charge-only cable: plugged, never seen, nothing in the log"
ctl '{"cmd":"status"}' | jq -e '.devices[] | select(.device == "phone") | .plugged and (.attached | not) and (has("devnum") | not)' \
    > /dev/null || fail "the phone enumerated: $(ctl '{"cmd":"status"}')"
events | grep -qx 'charge-only phone' || fail "no charge-only event: $(events)"
grep -q 'usb 1-1\|usb1-port1' "$T/kmsg" &&
    fail "the kernel said something of 1-1: $(cat "$T/kmsg")"
[ ! -e "$T/sysfs/bus/usb/devices/1-1" ] || fail "1-1 is in sysfs"
idevice_id -l > "$T/ids"
grep -q "$(sim_udid phone)" "$T/ids" && fail "usbmuxd lists the phone"

trace "flex: a cable's link errors rise for its window, then fall back"
ctl '{"cmd":"flex","cable":"wig","ms":3000,"factor":1000}' |
    jq -e .ok > /dev/null || fail "flex refused"
wait_for "events | grep -qx 'flex-end wig'" 20 ||
    fail "the flex did not end: $(events)"
events | grep -qx 'flex-start wig factor=1000 for=3000ms' ||
    fail "no flex-start event: $(events)"
during=$(events | sed -n '/^flex-start wig/,/^flex-end wig/p' |
    grep -cx 'link-error phone2' || :)
[ "$during" -ge 5 ] ||
    fail "only $during link errors during the flex (0.6/min times 1000)"
grep -q 'usb 1-4-port1: disabled by hub (EMI?), re-enabling...' "$T/kmsg" ||
    fail "no link error of 1-4.1 in the kernel log"
ctl '{"cmd":"flex","cable":"nothing","ms":10}' |
    jq -e '.ok == false and (.error | test("no cable called nothing"))' \
    > /dev/null || fail "a flex of no cable was accepted"
ctl '{"cmd":"flex","cable":"wig","ms":0}' | jq -e '.ok == false' \
    > /dev/null || fail "a flex of 0 ms was accepted"

trace "a burst: four link errors within 200 ms"
ctl '{"cmd":"fault","target":"phone3","params":"burst-per-min=60 burst-len=4 burst-ms=200"}' |
    jq -e .ok > /dev/null || fail "burst fault refused"
wait_for "events | grep -qx 'burst phone3 4 in 200ms'" 30 ||
    fail "no burst: $(events)"
wait_for "[ \$(events | sed -n '/^burst phone3/,\$p' | grep -cx 'link-error phone3') -ge 4 ]" 10 ||
    fail "the burst's link errors: $(events)"
ctl '{"cmd":"fault","target":"phone3","params":"burst-per-min=0"}' \
    > /dev/null

trace "a fault on hub 1-4 reaches both of its ports"
ctl '{"cmd":"fault","target":"1-4","params":"latency-ms=1"}' |
    jq -e .ok > /dev/null || fail "a hub fault refused"
events | grep -qx 'fault 1-4 latency-ms=1' || fail "no hub fault event"
ctl '{"cmd":"fault","target":"3-9","params":"latency-ms=1"}' |
    jq -e '.ok == false' > /dev/null || fail "a fault on no hub accepted"

trace "after the flex the cable is back to 0.6 link errors a minute"
after=$(events | sed -n '/^flex-end wig/,$p' | grep -cx 'link-error phone2' || :)
[ "$after" -le 1 ] || fail "$after link errors after the flex: $(events)"

trace "a hub reset: both phones below 1-4 leave and come back"
ctl '{"cmd":"hub-reset","hub":"1-4"}' | jq -e .ok > /dev/null ||
    fail "hub-reset refused"
grep -v '^ ' "$T/kmsg" | cut -d ';' -f 2- > "$T/text"
grep -A2 -E '^usb 1-4: USB disconnect, device number [0-9]+$' "$T/text" |
    grep -cE '^usb 1-4\.[12]: USB disconnect' > "$T/n" || :
expect_eq "$(cat "$T/n")" 2 "children disconnected after the hub"
events | grep -qx 'hub-lost phone2' || fail "phone2 not lost"
events | grep -qx 'hub-lost phone3' || fail "phone3 not lost"
wait_for '[ "$(sim_attached phone2)" = true ] && [ "$(sim_attached phone3)" = true ]' 20 ||
    fail "the phones did not come back: $(ctl '{"cmd":"status"}')"

trace "an over-current on hub 1-4 cuts both phones off"
ctl '{"cmd":"over-current","target":"1-4"}' | jq -e .ok > /dev/null ||
    fail "over-current refused"
grep -q ';hub 1-4:1.0: over-current condition$' "$T/kmsg" ||
    fail "no hub over-current line: $(cat "$T/kmsg")"
expect_eq "$(sim_attached phone2)" false "phone2 after the over-current"
expect_eq "$(sim_attached phone3)" false "phone3 after the over-current"
events | grep -qx 'power-lost phone2' || fail "phone2 kept its power"

trace "bit flips on the OUT pipe land in the stored file"
ctl '{"cmd":"move","device":"phone","port":"e","cable":"wout"}' |
    jq -e .ok > /dev/null || fail "move refused"
wait_for '[ "$(sim_attached phone)" = true ]' 20 || fail "phone not back"
udid=$(sim_udid phone)
ctl '{"cmd":"fault","target":"wout","params":"corrupt-out-per-mb=2"}' \
    > /dev/null
"$check" -u "$udid" -s 4 roundtrip > "$T/out" 2> "$T/err" &&
    fail "a roundtrip through flipped writes passed: $(cat "$T/out")"
events | grep -qx 'corrupt-out phone' || fail "no corrupt-out: $(events)"
[ "$(count '^corrupt phone$')" = 0 ] || fail "reads were corrupted"
ctl '{"cmd":"fault","target":"wout","params":"corrupt-out-per-mb=0"}' \
    > /dev/null
"$check" -u "$udid" -s 4 roundtrip > "$T/out" 2> "$T/err" ||
    fail "a clean roundtrip failed: $(cat "$T/out" "$T/err")"

trace "drops on the OUT pipe: usbmon's Bo fails"
bo=$(grep -c ' C Bo:2:[0-9]*:2 -71 ' "$T/usbmon" || :)
ctl '{"cmd":"fault","target":"wout","params":"drop-per-mb-out=4"}' \
    > /dev/null
"$check" -u "$udid" -s 4 roundtrip > "$T/out" 2> "$T/err" &&
    fail "a roundtrip through OUT drops passed"
wait_for "[ \$(grep -c ' C Bo:2:[0-9]*:2 -71 ' '$T/usbmon') -gt $bo ]" 10 ||
    fail "no failed Bo in usbmon: $(tail "$T/usbmon")"
expect_eq "$(sim_attached phone)" false "phone after an OUT drop"
stop_sim
