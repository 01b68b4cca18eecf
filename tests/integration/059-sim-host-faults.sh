#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# Faults of the host's side (issue 14) through linkq-sim and linkqd: an
# over-current on a port writes hub.c's exact line, bumps the port's
# over_current_count in sysfs and cuts the phone off; the host
# controller dying writes xhci-ring.c's and hcd.c's exact lines and a
# USB disconnect for each device on its buses, which leave usbmuxd while
# a phone on another controller stays; a phone plugged into the dead
# bus enumerates nothing until hc-recover brings both back. linkqd
# records the kernel's lines as over-current and hc-failure events,
# fails the runs they cut short for the host's reason, and linkq report
# blames the ports, not the cables.

. "$(dirname "$0")/lib.sh"

cat > "$T/bench.scn" <<'SCN'
seed 59
device p1
device p2
device p3
port a path=1-2
port b path=1-4.1
port c path=3-1
port d path=1-3
cable c1 label=C-01
cable c2 label=C-02
cable c3 label=C-03
at 0s plug p1 a c1
at 0s plug p2 b c2
at 0s plug p3 c c3
SCN

: > "$T/linkqd.conf"
# The URBs the faults end with -108 are no link errors; without usbmon
# the run's reasons are the kernel log's alone.
LINKQD_USBMON=$T/no-usbmon

# The text of the simulator's kernel records, without their dictionary.
kmsg_text() {
	grep -v '^ ' "$T/kmsg" | cut -d ';' -f 2-
}

# Kernel events of kind $1 on port $2, as "source|run_id" lines.
kernel_events() {
	sql "SELECT e.source, ifnull(e.run_id, 0) FROM events e JOIN ports p ON p.id = e.port_id WHERE e.kind = '$1' AND p.path = '$2' ORDER BY e.id"
}

# Whether linkqd shows UDID $1 attached: "true" or "false".
attached() {
	get /v1/devices | jq -r ".devices[] | select(.udid == \"$1\") | .attached"
}

start_sim --control "$T/control" "$T/bench.scn"
u1=$(sim_udid p1)
u2=$(sim_udid p2)
u3=$(sim_udid p3)
start_linkqd "$T/linkqd.conf"
wait_trusted "$u1"
wait_trusted "$u2"
wait_trusted "$u3"
for pc in 1-2:C-01 1-4.1:C-02 3-1:C-03; do
	api PUT "/v1/ports/${pc%%:*}/cable" "{\"cable\":\"${pc#*:}\"}" |
	    tail -n 1 | grep -q '^200$' || fail "cannot assign $pc"
done

trace "an over-current on port 1-2 during a run"
id=$(start_wiggle "$u1")
devnum=$(ctl '{"cmd":"status"}' | jq -r '.devices[] | select(.device == "p1") | .devnum')
ctl '{"cmd":"over-current","target":"a"}' | jq -e .ok > /dev/null ||
    fail "over-current refused"
kmsg_text | grep -A1 -x 'usb usb1-port2: over-current condition' |
    grep -qx "usb 1-2: USB disconnect, device number $devnum" ||
    fail "no over-current and disconnect lines: $(kmsg_text)"
grep -q '^3,' "$T/kmsg" || fail "no record at level 3 (err)"
expect_eq "$(cat "$T/sysfs/bus/usb/devices/1-0:1.0/usb1-port2/over_current_count")" \
    1 "over_current_count"
wait_for '[ "$(attached "$u1")" = false ]' 20 ||
    fail "p1 is still attached: $(get /v1/devices)"
run=$(wait_run "$id")
wait_for "get /v1/runs/$id | jq -e '.verdict == \"FAIL\" and (.reasons | join(\" \") | test(\"over-current\"))' > /dev/null" 10 ||
    fail "the over-current did not fail the run: $(get /v1/runs/$id)"
wait_for "[ \"\$(kernel_events over-current 1-2)\" = 'kmsg|$id' ]" 10 ||
    fail "no over-current event on 1-2: $(kernel_events over-current 1-2)"
# Still off: the condition persists until the phone is unplugged.
ctl '{"cmd":"status"}' | jq -e '.devices[] | select(.device == "p1") | .plugged and (.attached | not) and (has("devnum") | not)' \
    > /dev/null || fail "p1 came back: $(ctl '{"cmd":"status"}')"

trace "the host controller of bus 1 dies during a run"
id=$(start_wiggle "$u2")
devnum=$(ctl '{"cmd":"status"}' | jq -r '.devices[] | select(.device == "p2") | .devnum')
ctl '{"cmd":"hc-died","bus":1}' | jq -e .ok > /dev/null ||
    fail "hc-died refused"
kmsg_text > "$T/text"
grep -A3 -x 'xhci_hcd 0000:00:14.0: xHCI host not responding to stop endpoint command' "$T/text" > "$T/hc"
cat > "$T/hc-want" <<TXT
xhci_hcd 0000:00:14.0: xHCI host not responding to stop endpoint command
xhci_hcd 0000:00:14.0: xHCI host controller not responding, assume dead
xhci_hcd 0000:00:14.0: HC died; cleaning up
usb 1-4.1: USB disconnect, device number $devnum
TXT
cmp -s "$T/hc" "$T/hc-want" ||
    fail "the controller's lines: $(cat "$T/hc") in $(cat "$T/text")"
wait_for '[ "$(attached "$u2")" = false ]' 20 ||
    fail "p2 is still attached: $(get /v1/devices)"
expect_eq "$(attached "$u3")" true "p3, on another controller, attached"
run=$(wait_run "$id")
wait_for "get /v1/runs/$id | jq -e '.verdict == \"FAIL\" and (.reasons | join(\" \") | test(\"host controller\"))' > /dev/null" 10 ||
    fail "the controller's death did not fail the run: $(get /v1/runs/$id)"
wait_for "kernel_events hc-failure 1-4.1 | grep -qx 'kmsg|$id'" 10 ||
    fail "no hc-failure event on 1-4.1: $(kernel_events hc-failure 1-4.1)"

trace "a phone plugged into the dead bus enumerates nothing"
lines=$(wc -l < "$T/kmsg")
ctl '{"cmd":"unplug","device":"p1"}' > /dev/null
ctl '{"cmd":"plug","device":"p1","port":"d","cable":"c1"}' | jq -e .ok \
    > /dev/null || fail "plug into the dead bus refused"
ctl '{"cmd":"events"}' | jq -e '.events | index("dead-bus p1 1") != null' \
    > /dev/null || fail "no dead-bus event: $(ctl '{"cmd":"events"}')"
ctl '{"cmd":"status"}' | jq -e '.devices[] | select(.device == "p1") | .plugged and (.attached | not) and (has("devnum") | not)' \
    > /dev/null || fail "p1 enumerated on a dead bus: $(ctl '{"cmd":"status"}')"
tail -n +"$((lines + 1))" "$T/kmsg" | grep -q 'usb 1-3' &&
    fail "the dead bus said something of 1-3: $(tail -n +"$((lines + 1))" "$T/kmsg")"
ctl '{"cmd":"hub-reset","hub":"1-4"}' |
    jq -e '.ok == false and (.error | test("bus 1 is dead"))' > /dev/null ||
    fail "a hub reset on a dead bus was accepted"

trace "hc-recover: both phones on bus 1 come back"
ctl '{"cmd":"hc-recover","bus":1}' | jq -e .ok > /dev/null ||
    fail "hc-recover refused"
kmsg_text | grep -qx 'xhci_hcd 0000:00:14.0: new USB bus registered, assigned bus number 1' ||
    fail "no bus registered: $(kmsg_text)"
wait_for "get /v1/devices | jq -e '.devices[] | select(.udid == \"$u1\" and .port == \"1-3\" and .attached and .trust == \"trusted\")' > /dev/null" 30 ||
    fail "p1 is not back on 1-3: $(get /v1/devices)"
wait_trusted "$u2"

trace "linkq report blames the ports, not the cables"
lq report
expect_eq "$rc" 0 "report: $(cat "$T/err")"
cat "$T/out"
for port in 1-2 1-4.1; do
	grep -q "^  port    $port  *bad  *the host controller failed or the port had an over-current while .* was tested on $port: the port or its controller is at fault, not the cable" \
	    "$T/out" || fail "$port is not blamed: $(cat "$T/out")"
done
for cable in C-01 C-02; do
	grep -q "^  cable   $cable  *bad " "$T/out" &&
	    fail "$cable blamed for the host: $(cat "$T/out")"
done
stop_linkqd
stop_sim
