#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# The kernel's USB messages through linkqd against linkq-sim's --kmsg
# file: GET /v1/status says the log is read; a link-error episode (the
# simulator's "disabled by hub (EMI?)" on the hub port 1-4-port3) in
# the middle of a wiggle run fails it with a reason quoting the kernel
# and is an event of source kmsg on port 1-4.3; a descriptor read error
# (-71) appended to the log fails a run naming the errno; the host
# controller dying blames the port, not the cable; an error burst
# followed by an unplug stays evidence of the run it happened in, marked
# as before the unplug (issue 13: never silently dropped); a log that
# cannot be read leaves linkqd running and says why in status.

. "$(dirname "$0")/lib.sh"

cat > "$T/bench.scn" <<'SCN'
device phone
device phone2
port a path=1-4.3
port b path=1-2
cable good
cable good2
at 0s plug phone a good
at 0s plug phone2 b good2
SCN

: > "$T/linkqd.conf"
# No usbmon (036 tests it): the simulator's link-error fault writes a -71
# there too, whose urb-error would race the EMI re-enable to fail the run.
LINKQD_USBMON=$T/no-usbmon

# Append kernel records to the simulator's log, as the kernel would.
kernel() {
	printf '%s\n' "$@" >> "$T/kmsg"
}

# Kernel events of kind $1 on port $2, as "source errno run_id" lines.
kernel_events() {
	sql "SELECT e.source, ifnull(e.errno, 0), ifnull(e.run_id, 0) FROM events e JOIN ports p ON p.id = e.port_id WHERE e.kind = '$1' AND p.path = '$2' ORDER BY e.id"
}

trace "the simulator writes its kernel log; linkqd reads it"
start_sim --control "$T/control" "$T/bench.scn"
u1=$(sim_udid phone)
u2=$(sim_udid phone2)
start_linkqd "$T/linkqd.conf"
wait_trusted "$u1"
wait_trusted "$u2"
expect_eq "$(get /v1/status | jq -r .kmsg)" "reading $T/kmsg" "kmsg status"
expect_eq "$(get /v1/devices | jq -r ".devices[] | select(.udid == \"$u1\") | .port")" \
    1-4.3 "the first device's port"

trace "a link-error episode during a wiggle run: FAIL quoting the kernel"
id=$(start_wiggle "$u1")
ctl '{"cmd":"link-error","device":"phone"}' > /dev/null
wait_run "$id" > /dev/null
# The kernel tells of the episode in three messages; the first to come
# fails the run, and the others join it within the moment.
wait_for "get /v1/runs/$id | jq -e '.verdict == \"FAIL\" and (.reasons | join(\" \") | test(\"interference\")) and (.reasons | join(\" \") | test(\"link error \\\\(-71, protocol error\\\\)\")) and (.reasons | join(\" \") | test(\"reset the device\")) and (.reasons | join(\" \") | test(\"the kernel said on port 1-4.3: usb 1-4\"))' > /dev/null" 10 ||
    fail "the link-error episode did not fail the run: $(get /v1/runs/$id)"
wait_for "[ \"\$(kernel_events emi-reenable 1-4.3)\" = 'kmsg|0|$id' ]" 10 ||
    fail "no emi-reenable event of source kmsg on 1-4.3: $(kernel_events emi-reenable 1-4.3)"
get '/v1/events?since=0&limit=10000' |
    jq -e '.events | map(select(.source == "kmsg" and .kind == "emi-reenable" and .port_id and .attachment_id and .detail == "usb 1-4-port3: disabled by hub (EMI?), re-enabling...")) | length == 1' \
    > /dev/null || fail "the event through the API: $(get '/v1/events?since=0&limit=10000')"

trace "a descriptor read error on the device's port: FAIL with -71"
wait_trusted "$u1"
id=$(start_wiggle "$u1")
kernel "3,900001,1,-;usb 1-4.3: device descriptor read/64, error -71" \
    " SUBSYSTEM=usb" " DEVICE=+usb:1-4.3"
run=$(wait_run "$id")
echo "$run" | jq -e '.verdict == "FAIL" and (.reasons | join(" ") | test("link error \\(-71, protocol error\\)")) and (.reasons | join(" ") | test("on port 1-4.3"))' > /dev/null ||
    fail "the -71 did not fail the run: $run"
wait_for "[ \"\$(kernel_events link-error 1-4.3 | tail -n 1)\" = 'kmsg|-71|$id' ]" 10 ||
    fail "no link-error event with -71: $(kernel_events link-error 1-4.3)"

trace "the host controller dies during a run: the port is blamed, not the cable"
wait_trusted "$u1"
api PUT /v1/ports/1-4.3/cable '{"cable":"C-9"}' | tail -n 1 | grep -q '^200$' ||
    fail "cannot assign cable C-9 to 1-4.3"
id=$(start_wiggle "$u1")
kernel "3,900004,4,-;xhci_hcd 0000:00:14.0: HC died; cleaning up"
run=$(wait_run "$id")
echo "$run" | jq -e '.verdict == "FAIL" and (.reasons | join(" ") | test("host controller"))' > /dev/null ||
    fail "the host controller's failure did not fail the run: $run"
report=$(get '/v1/report?by=cable')
echo "$report" | jq -e '.blame.ports | map(select(.name == "1-4.3" and .state == "bad" and (.evidence | test("host controller.*not the cable")))) | length == 1' > /dev/null ||
    fail "the port is not blamed for the host controller: $report"
echo "$report" | jq -e '.blame.cables | map(select(.name == "C-9" and .state == "bad")) | length == 0' > /dev/null ||
    fail "the cable is blamed for the host controller: $report"
api DELETE /v1/ports/1-4.3/cable > /dev/null

trace "an error burst, then the unplug: evidence of the run, marked so"
id=$(start_wiggle "$u2")
kernel "3,900002,2,-;usb usb1-port2: disabled by hub (EMI?), re-enabling..." \
    "3,900003,3,-;usb 1-2: device descriptor read/64, error -71"
ctl '{"cmd":"unplug","device":"phone2"}' > /dev/null
run=$(wait_run "$id")
wait_for "get /v1/runs/$id | jq -e '.reasons | join(\" \") | test(\"link error\")' > /dev/null" 10 ||
    fail "the burst is not in the run's reasons: $(get /v1/runs/$id)"
run=$(get /v1/runs/$id)
echo "$run" | jq -e '.verdict == "FAIL" and (.reasons | join(" ") | test("the kernel said on port 1-2: before an unplug: "))' > /dev/null ||
    fail "the burst is not marked as before the unplug: $run"
wait_for "grep -q 'kmsg: 2 kernel errors on 1-2 came before an unplug' '$T/linkqd.err'" 10 ||
    fail "the burst was not handed on at the unplug"
wait_for "[ \"\$(kernel_events unplug 1-2 | cut -d '|' -f 1)\" = kmsg ]" 10 ||
    fail "no unplug event of source kmsg on 1-2"
expect_eq "$(kernel_events link-error 1-2)" "kmsg|-71|$id" "link errors on 1-2"
expect_eq "$(kernel_events emi-reenable 1-2)" "kmsg|0|$id" "EMI re-enables on 1-2"
wait_sql "SELECT count(*) FROM events WHERE run_id = $id AND kind IN ('link-error', 'emi-reenable') AND detail LIKE 'before an unplug: %'" 2

trace "a kernel log linkqd cannot read: it runs on and says why"
stop_linkqd
rm -f "$T/linkqd.sock"
printf '[daemon]\nsysfs = %s\nkmsg = %s\n' "$T/sysfs" "$T/absent" \
    > "$T/absent.conf"
"$BUILD/linkqd" -d -v -f "$T/absent.conf" -s "$T/linkqd.sock" \
    --db "$T/linkq.db" 2>> "$T/linkqd.err" &
LINKQD_PID=$!
wait_for "[ -S '$T/linkqd.sock' ]" 20 || fail "linkqd did not start"
get /v1/status | jq -e ".kmsg == \"unreadable: $T/absent: No such file or directory\"" > /dev/null ||
    fail "status: $(get /v1/status)"
wait_trusted "$u1"
stop_linkqd
stop_sim
