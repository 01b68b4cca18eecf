#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# usbmon through linkqd against linkq-sim's --usbmon file: GET /v1/status
# says it is read and each attached device shows its counts; link-error
# completions on the device's bus and device number during a wiggle run
# fail it with the urb-error reason, as one event of source usbmon on
# its port, attachment and run; a burst followed by a disconnect status
# (the simulator's unplug) is the unplug's and records no urb-error; the
# simulator's drop fault, whose -71 makes usbmuxd drop the device, is an
# urb-error of the attachment it left; a usbmon path linkqd cannot read
# leaves it running and says why in status.

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

# Device $1's bus and device number as usbmon writes them ("1:003"),
# from its LocationID; with $2, as linkqd's log does ("bus 1 device 3").
address() {
	_loc=$(get /v1/devices | jq -r ".devices[] | select(.udid == \"$1\") | .location_id")
	if [ $# -gt 1 ]; then
		printf 'bus %d device %d' $((_loc >> 16)) $((_loc & 65535))
	else
		printf '%d:%03d' $((_loc >> 16)) $((_loc & 65535))
	fi
}

# Append usbmon text lines to the simulator's file, as the kernel would.
usbmon() {
	printf '%s\n' "$@" >> "$T/usbmon"
}

# urb-error events of device $1's attachments, as "source errno run"
# lines.
urb_events() {
	sql "SELECT e.source, e.errno, ifnull(e.run_id, 0) FROM events e JOIN attachments a ON a.id = e.attachment_id JOIN devices d ON d.id = a.device_id WHERE e.kind = 'urb-error' AND d.udid = '$1' ORDER BY e.id"
}

trace "the simulator writes usbmon lines; linkqd reads them"
start_sim --control "$T/control" "$T/bench.scn"
u1=$(sim_udid phone)
u2=$(sim_udid phone2)
start_linkqd "$T/linkqd.conf"
wait_trusted "$u1"
wait_trusted "$u2"
expect_eq "$(get /v1/status | jq -r .usbmon)" "reading $T/usbmon" \
    "usbmon status"
get /v1/devices | jq -e ".devices[] | select(.udid == \"$u1\") | .usbmon == {\"link_errors\": 0, \"cancels\": 0, \"disconnects\": 0, \"other_errors\": 0}" \
    > /dev/null || fail "no usbmon counts: $(get /v1/devices)"

trace "link errors on the device's bus and number: FAIL with urb-error"
a1=$(address "$u1")
id=$(start_wiggle "$u1")
# Another device's errors, a submit and a cancel are not the run's.
usbmon "ffff888004a3c000 1000 C Bi:9:042:1 -71 0" \
    "ffff888004a3c040 1001 S Bi:$a1:1 -115 16384 <" \
    "ffff888004a3c040 1002 C Bi:$a1:1 -2 0" \
    "ffff888004a3c080 1003 C Bi:$a1:1 -71 0" \
    "ffff888004a3c0c0 1004 C Bo:$a1:2 -84 0 >"
run=$(wait_run "$id")
echo "$run" | jq -e '.verdict == "FAIL" and (.reasons | join(" ") | test("a USB transfer failed with a link error \\(-71, protocol error\\)")) and (.reasons | join(" ") | test("on port 1-4.3: usbmon: bus [0-9]+ device [0-9]+: 2 transfers failed with link errors"))' > /dev/null ||
    fail "the link errors did not fail the run: $run"
wait_for "[ \"\$(urb_events $u1)\" = 'usbmon|-71|$id' ]" 10 ||
    fail "no urb-error event of the run: $(urb_events "$u1")"
get "/v1/events?run=$id&limit=10000" |
    jq -e '.events | map(select(.source == "usbmon" and .kind == "urb-error" and .errno == -71 and .port_id and .attachment_id and (.detail | test("-71 EPROTO: 1, -84 EILSEQ: 1")))) | length == 1' \
    > /dev/null || fail "the event through the API: $(get "/v1/events?run=$id&limit=10000")"
get /v1/devices | jq -e ".devices[] | select(.udid == \"$u1\") | .usbmon.link_errors == 2 and .usbmon.cancels == 1" \
    > /dev/null || fail "the counts: $(get /v1/devices)"

trace "an error burst, then the unplug: a dropout, not an urb-error"
bd=$(address "$u2" log)
id=$(start_wiggle "$u2")
ctl '{"cmd":"unplug","device":"phone2"}' > /dev/null
run=$(wait_run "$id")
echo "$run" | jq -e '.verdict == "FAIL" and (.reasons | join(" ") | test("dropped out")) and (.reasons | join(" ") | test("transfer|usbmon") | not)' > /dev/null ||
    fail "the unplug was not a plain dropout: $run"
wait_for "grep -q 'usbmon: 2 link errors on $bd came with an unplug: not counted' '$T/linkqd.err'" 10 ||
    fail "the burst was not dropped"
expect_eq "$(urb_events "$u2")" "" "urb-errors of the unplugged device"

trace "the simulator's drop: an urb-error of the attachment it left"
wait_trusted "$u1"
ctl '{"cmd":"drop","device":"phone"}' > /dev/null
# (No run is going; it may count for the run a usbmon burst failed a
# moment ago, as one episode.)
wait_for "[ \"\$(urb_events $u1 | sed -n 2p | cut -d '|' -f 1,2)\" = 'usbmon|-71' ]" 10 ||
    fail "the drop's -71 is not an urb-error: $(urb_events "$u1")"
# Stranded until replugged.
ctl '{"cmd":"unplug","device":"phone"}' > /dev/null
ctl '{"cmd":"plug","device":"phone","port":"a","cable":"good"}' > /dev/null

trace "a usbmon path linkqd cannot read: it runs on and says why"
stop_linkqd
rm -f "$T/linkqd.sock"
printf '[daemon]\nsysfs = %s\nkmsg = %s\nusbmon = %s\n' "$T/sysfs" \
    "$T/kmsg" "$T/absent" > "$T/absent.conf"
"$BUILD/linkqd" -d -v -f "$T/absent.conf" -s "$T/linkqd.sock" \
    --db "$T/linkq.db" 2>> "$T/linkqd.err" &
LINKQD_PID=$!
wait_for "[ -S '$T/linkqd.sock' ]" 20 || fail "linkqd did not start"
get /v1/status | jq -e ".usbmon == \"unreadable: $T/absent: No such file or directory\"" > /dev/null ||
    fail "status: $(get /v1/status)"
expect_eq "$(grep -c "usbmon: $T/absent: No such file or directory" "$T/linkqd.err")" \
    1 "the warnings about the unreadable path"
wait_trusted "$u1"
get /v1/devices | jq -e ".devices[] | select(.udid == \"$u1\") | has(\"usbmon\") | not" \
    > /dev/null || fail "counts without usbmon: $(get /v1/devices)"
stop_linkqd
stop_sim
