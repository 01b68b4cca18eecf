#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# The device's own USB mux counters through linkqd: during a run linkqd
# reads the simulated phone's syslog (com.apple.syslog_relay) and
# records the AppleUSBDeviceMux statistics as events of the run: the
# first sample (USB2.0, or USB3.0 for a device at 5 Gb/s), the growth
# of the read errors after a link-error episode (which the simulator
# counts in mux_read_errors without dropping the device), and the
# counters over the whole run at its end. They are info: the run is
# not failed by them. linkqd reads a kernel log and usbmon of its own
# here, so that the simulator's messages about the same episode, hard
# events, do not end the run before the device reports the error.

. "$(dirname "$0")/lib.sh"

cat > "$T/bench.scn" <<'SCN'
device phone
device phone3 max-speed=5000
port a path=1-1
port b path=2-1
cable good
cable good3
at 0s plug phone a good
at 0s plug phone3 b good3
SCN

cat > "$T/linkqd.conf" <<'CONF'
[profile devlog]
kinds = lockdown-query mux-connect
duration = 12s
CONF

# The events of run $1 of kind $2, their details one per line.
details() {
	get "/v1/events?run=$1" |
	    jq -r ".events[] | select(.kind == \"$2\") | .detail"
}

# Wait until run $1 has an event of kind $2 whose detail matches $3.
wait_detail() {
	wait_for "get '/v1/events?run=$1' | jq -e '.events | map(select(.kind == \"$2\" and .source == \"probe\" and (.detail | test(\"$3\")))) | length > 0' > /dev/null" 20 ||
	    fail "run $1: no $2 event matching /$3/: $(get "/v1/events?run=$1")"
}

trace "the simulator writes another kernel log and usbmon than linkqd reads"
start_sim --control "$T/control" "$T/bench.scn" --kmsg "$T/sim-kmsg"
: > "$T/kmsg"
: > "$T/quiet-usbmon"
u1=$(sim_udid phone)
u3=$(sim_udid phone3)
LINKQD_USBMON="$T/quiet-usbmon" start_linkqd "$T/linkqd.conf"
wait_trusted "$u1"
wait_trusted "$u3"

trace "a run's first sample: USB2.0, traffic counted, no errors"
id=$(start_run "$u1" devlog)
id3=$(start_run "$u3" devlog)
n='[1-9][0-9]*'
wait_detail "$id" device-mux-stats \
    "^first sample: USB2\\\\.0 reads $n, read errors 0, writes $n, write errors 0, duplicate packets 0\$"

trace "a link-error episode: the read errors grow by one"
ctl '{"cmd":"link-error","device":"phone"}' > /dev/null
wait_detail "$id" device-mux-errors \
    "^errors grew: USB2\\\\.0 reads $n \\\\(\\\\+$n\\\\), read errors 1 \\\\(\\\\+1\\\\), writes $n \\\\(\\\\+$n\\\\), write errors 0 \\\\(\\\\+0\\\\), duplicate packets 0 \\\\(\\\\+0\\\\)\$"

trace "at the end, the counters over the run; the verdict ignores them"
run=$(wait_run "$id")
echo "$run" | jq -e '.state == "done" and .verdict != "FAIL" and .failures == 0' > /dev/null ||
    fail "the device's counters changed the run: $run"
wait_detail "$id" device-mux-stats \
    "^over the run, [2-9][0-9]* samples: USB2\\\\.0 reads $n \\\\(\\\\+$n\\\\), read errors 1 \\\\(\\\\+1\\\\), writes $n \\\\(\\\\+$n\\\\), write errors 0 \\\\(\\\\+0\\\\), duplicate packets 0 \\\\(\\\\+0\\\\)\$"
expect_eq "$(details "$id" device-mux-errors | wc -l)" 1 "error events"
wait_sql "SELECT count(*) FROM events WHERE run_id = $id AND kind LIKE 'device-mux-%' AND source = 'probe' AND port_id IS NOT NULL AND attachment_id IS NOT NULL" 3
expect_eq "$(sql "SELECT class FROM event_kinds WHERE name = 'device-mux-errors'")" \
    info "the class of device-mux-errors"

trace "a device at 5 Gb/s says USB3.0; nothing grew on it"
run=$(wait_run "$id3")
echo "$run" | jq -e '.state == "done" and .verdict != "FAIL"' > /dev/null ||
    fail "the USB 3 run: $run"
wait_detail "$id3" device-mux-stats "^first sample: USB3\\\\.0 reads $n, read errors 0"
wait_detail "$id3" device-mux-stats "^over the run, .* read errors 0 \\\\(\\\\+0\\\\), writes"
expect_eq "$(details "$id3" device-mux-errors)" "" "error events on the USB 3 device"

stop_linkqd
stop_sim
