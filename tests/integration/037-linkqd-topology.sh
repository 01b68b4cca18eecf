#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# The USB topology through libusb: linkq-sim keeps a umockdev testbed and
# linkqd runs in it, so the real libusb sees the simulated iPhones on
# their ports. Checked: devices show in linkq status on their port paths
# with their speed; unplugged and plugged into another port they are a
# new attachment there; a reset is the kernel's, on the same port; a
# device switched to recovery mode shows that mode, gets a usb-control
# only run whose verdict says so, and back in normal mode is a mode
# change; a port that negotiates 12 Mb/s gets a speed-fallback finding
# and fails the run; a device usbmuxd drops while it stays on the bus is
# stranded: the run fails and status says to replug.

. "$(dirname "$0")/lib.sh"
require_umockdev
SIM_UMOCKDEV=1		# the simulator and linkqd share its testbed

LQ="$BUILD/linkq"

cat > "$T/bench.scn" <<'SCN'
device phone
port a path=1-4.2
port b path=1-3
port slow path=1-5 speed=12
cable good
at 0s plug phone a good
SCN

cat > "$T/linkqd.conf" <<'CONF'
[profile quick]
duration = 3s
bulk = 16M

[verdict]
min-bulk = 16M

[profile ctl]
kinds = usb-control lockdown-query
duration = 3s
CONF

# Attachments of the device as "port|mode|linked" lines, oldest first.
attachments() {
	sql "SELECT p.path, a.mode, a.previous_id IS NOT NULL FROM attachments a JOIN ports p ON p.id = a.port_id ORDER BY a.id"
}

# linkq status must have a line matching $1 (grep), or fail with $2.
status_says() {
	"$LQ" -s "$T/linkqd.sock" status > "$T/status" ||
	    fail "linkq status failed"
	grep -q "$1" "$T/status" || fail "$2: $(cat "$T/status")"
}

# Wait until the device is attached in mode $1 on port $2.
wait_on() {
	wait_for "get /v1/devices | jq -e '.devices[] | select(.attached and .mode == \"$1\" and .port == \"$2\")' > /dev/null" 30 ||
	    fail "device not in $1 mode on $2: $(get /v1/devices)"
}

trace "linkqd in the simulator's testbed sees the device on its port"
start_sim --control "$T/control" "$T/bench.scn"
u=$(sim_udid phone)
start_linkqd "$T/linkqd.conf"
wait_trusted "$u"
expect_eq "$(get /v1/status | jq -r .usb)" watching "usb status"
get /v1/devices | jq -e ".devices[] | select(.udid == \"$u\" and .port == \"1-4.2\" and .speed_mbps == 480 and .bus == 1 and .devnum > 1)" > /dev/null ||
    fail "the device's topology: $(get /v1/devices)"
status_says '^1-4.2 .*normal mode, 480 Mb/s, trusted' "linkq status"

trace "a usb-control run talks to the device on endpoint 0"
id=$(start_run "$u" ctl)
run=$(wait_run "$id")
wait_sql "SELECT count(*) > 10, sum(status != 0) FROM probes WHERE run_id = $id AND kind = 6" '1|0'
sql "SELECT detail FROM probes WHERE run_id = $id AND kind = 6 LIMIT 1" |
    jq -e '.transfers | map(.status) == ["completed", "completed", "completed"]' > /dev/null ||
    fail "a usb-control probe's transfers: $(sql "SELECT detail FROM probes WHERE run_id = $id AND kind = 6 LIMIT 1")"

trace "unplugged and plugged into another port: a new attachment there"
ctl '{"cmd":"unplug","device":"phone"}' > /dev/null
ctl '{"cmd":"plug","device":"phone","port":"b","cable":"good"}' > /dev/null
wait_on normal 1-3
wait_trusted "$u"
wait_sql "SELECT count(*) FROM attachments a JOIN ports p ON p.id = a.port_id WHERE p.path = '1-3' AND a.previous_id IS NULL" 1

trace "a reset: the same port, a new device number, the kernel's reset"
devnum=$(get /v1/devices | jq -r ".devices[] | select(.udid == \"$u\") | .devnum")
ctl '{"cmd":"reset","device":"phone"}' > /dev/null
wait_for "get /v1/devices | jq -e '.devices[] | select(.attached and .port == \"1-3\" and .devnum != $devnum)' > /dev/null" 30 ||
    fail "no new device number after the reset: $(get /v1/devices)"
wait_sql "SELECT count(*), min(e.source) FROM events e JOIN ports p ON p.id = e.port_id WHERE e.kind = 'reset' AND p.path = '1-3'" '1|kmsg'
wait_sql "SELECT count(*) FROM events WHERE kind = 'reenumeration'" 0
wait_trusted "$u"

trace "recovery mode: seen on USB only, a usb-control run, a verdict that says so"
ctl '{"cmd":"mode","device":"phone","mode":"recovery"}' > /dev/null
wait_on recovery 1-3
get /v1/devices | jq -e '.devices[] | select(.mode == "recovery") | .action | test("endpoint 0 only")' > /dev/null ||
    fail "recovery mode's action: $(get /v1/devices)"
status_says '^1-3 .*recovery mode, 480 Mb/s, lockdown and AFC are unavailable' \
    "linkq status in recovery"
id=$(start_run "$u" quick)
run=$(wait_run "$id")
echo "$run" | jq -e '.verdict == "PASS" and (.reasons | join(" ") | test("recovery mode, where lockdown and AFC are unavailable"))' > /dev/null ||
    fail "the recovery run: $run"
wait_sql "SELECT count(DISTINCT kind), min(kind) FROM probes WHERE run_id = $id" '1|6'
# restore: bulk without a duration and handshakes every 10 cycles, none
# of which recovery mode has; the evidence ends it.
id=$(start_run "$u" restore)
run=$(wait_run "$id")
echo "$run" | jq -e '.verdict == "PASS"' > /dev/null ||
    fail "the recovery run of restore: $run"
wait_sql "SELECT count(DISTINCT kind), min(kind) FROM probes WHERE run_id = $id" '1|6'
wait_sql "SELECT count(*) FROM events WHERE kind = 'mode-change'" 1

trace "recovery mode: control transfers failing with -71 are a link error"
ctl '{"cmd":"fault","target":"good","params":"control-error=1"}' |
    jq -e .ok > /dev/null || fail "the control-error fault was refused"
id=$(start_run "$u" quick)
run=$(wait_run "$id")
echo "$run" | jq -e '.verdict == "FAIL" and
    (.reasons | join(" ") | test("the kernel reported a USB link error")) and
    (.reasons | join(" ") | test("libusb said: usb-control probe 1: GET_DESCRIPTOR")) and
    (.reasons | join(" ") | test("probes failed") | not)' > /dev/null ||
    fail "the link error in recovery mode: $run"
wait_sql "SELECT count(*) FROM events WHERE run_id = $id AND kind = 'link-error' AND source = 'libusb'" 1
wait_sql "SELECT count(*) FROM probes p JOIN statuses s ON s.code = p.status WHERE p.run_id = $id AND s.name = 'usb-link'" 1
ctl '{"cmd":"fault","target":"good","params":"control-error=0"}' > /dev/null

trace "back in normal mode: a mode change, not a fault"
ctl '{"cmd":"mode","device":"phone","mode":"normal"}' > /dev/null
wait_on normal 1-3
wait_trusted "$u"
wait_sql "SELECT count(*) FROM events WHERE kind = 'mode-change'" 2
expect_eq "$(attachments | tail -n 3 | tr '\n' ' ')" \
    "1-3|normal|1 1-3|recovery|1 1-3|normal|1 " "the mode changes' attachments"

trace "a port that negotiates 12 Mb/s: speed fallback, and the run fails"
ctl '{"cmd":"unplug","device":"phone"}' > /dev/null
ctl '{"cmd":"plug","device":"phone","port":"slow","cable":"good"}' > /dev/null
wait_on normal 1-5
wait_trusted "$u"
wait_sql "SELECT count(*) FROM events e JOIN ports p ON p.id = e.port_id WHERE e.kind = 'speed-fallback' AND p.path = '1-5' AND e.detail LIKE '12 Mb/s on 1-5;%'" 1
id=$(start_run "$u" ctl)
run=$(wait_run "$id")
echo "$run" | jq -e '.verdict == "FAIL" and (.reasons | join(" ") | test("12 Mb/s"))' > /dev/null ||
    fail "the run at 12 Mb/s: $run"

trace "usbmuxd drops the device, which stays on the bus: stranded"
ctl '{"cmd":"unplug","device":"phone"}' > /dev/null
ctl '{"cmd":"plug","device":"phone","port":"a","cable":"good"}' > /dev/null
wait_on normal 1-4.2
wait_trusted "$u"
id=$(start_run "$u" ctl)
ctl '{"cmd":"drop","device":"phone","mode":"stranded"}' > /dev/null
run=$(wait_run "$id")
wait_for "get /v1/runs/$id | jq -e '.reasons | join(\" \") | test(\"stranded\")' > /dev/null" 10 ||
    fail "the run does not say stranded: $(get /v1/runs/$id)"
get /v1/runs/$id | jq -e '.verdict == "FAIL"' > /dev/null ||
    fail "the stranded run did not fail: $(get /v1/runs/$id)"
get /v1/devices | jq -e ".devices[] | select(.udid == \"$u\" and .stranded and (.action | test(\"replug\")))" > /dev/null ||
    fail "the device is not shown stranded: $(get /v1/devices)"
wait_sql "SELECT source, count(*) FROM events WHERE kind = 'stranded'" 'libusb|1'
status_says '^1-4.2 *stranded: .*replug the cable' \
    "linkq status of a stranded device"

trace "replugged, it is back"
ctl '{"cmd":"unplug","device":"phone"}' > /dev/null
ctl '{"cmd":"plug","device":"phone","port":"a","cable":"good"}' > /dev/null
wait_trusted "$u"
get /v1/devices | jq -e ".devices[] | select(.udid == \"$u\") | .stranded | not" > /dev/null ||
    fail "still stranded after the replug: $(get /v1/devices)"

stop_linkqd
stop_sim
