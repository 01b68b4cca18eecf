#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# Each fault of linkq-sim's link model, injected through the control
# socket, and the reaction of the real client libraries that
# protocols.md section 5 predicts: a USB error strands the device (gone
# from usbmuxd, Detached, mid-transfer AFC fails with a mux error) or
# resets it (Detached, then Attached with a new DeviceID and a new
# device number); unplug and plug; a link-error episode that drops
# nothing; corruption that reaches AFC's reader. The kernel and usbmon
# lines land in their files in the documented formats.

. "$(dirname "$0")/lib.sh"

ctl() {
	"$BUILD/linkq-sim" --control "$T/control" --send "$1"
}
status_has() {
	ctl '{"cmd":"status"}' | grep -q "$1"
}

trace "start the simulator with a control socket, kmsg and usbmon files"
start_sim --control "$T/control" --kmsg "$T/kmsg" --usbmon "$T/usbmon"
udid=$(idevice_id -l)
"$BUILD/tests/tools/lq-mux-events" > "$T/events" &
EVENTS_PID=$!
trap 'kill $EVENTS_PID 2>/dev/null || :; cleanup' EXIT
wait_for "grep -q '^add 1 $udid\$' '$T/events'" 10 ||
    fail "the Listen subscriber did not see the device"
grep -q '^6,[0-9]*,[0-9]*,-;usb 1-1: new high-speed USB device number 2 using xhci_hcd$' \
    "$T/kmsg" || fail "no enumeration record in kmsg"
grep -q '^ SUBSYSTEM=usb$' "$T/kmsg" || fail "no SUBSYSTEM continuation line"
grep -q '^ DEVICE=c189:1$' "$T/kmsg" || fail "no DEVICE continuation line"

trace "a USB error strands the device: Detached, gone until replugged"
ctl '{"cmd":"drop","device":"phone","mode":"stranded"}'
wait_for "grep -q '^remove 1\$' '$T/events'" 10 || fail "no Detached"
expect_eq "$(idevice_id -l)" "" "devices while stranded"
status_has '"stranded":true' || fail "status does not say stranded"
grep -q ' C Bi:1:002:1 -71 0$' "$T/usbmon" || fail "no -71 in usbmon"
if ctl '{"cmd":"drop","device":"phone"}' > "$T/out"; then
	fail "a stranded device was dropped again"
fi
grep -q "not attached" "$T/out" || fail "no reason given: $(cat "$T/out")"

trace "unplug and plug: a new device number and a new DeviceID"
ctl '{"cmd":"unplug","device":"phone"}'
grep -q 'usb 1-1: USB disconnect, device number 2$' "$T/kmsg" ||
    fail "no disconnect record"
ctl '{"cmd":"plug","device":"phone","port":"1-1","cable":"sim-good"}'
wait_for "grep -q '^add 2 $udid\$' '$T/events'" 10 || fail "no Attached"
grep -q 'usb 1-1: new high-speed USB device number 3 ' "$T/kmsg" ||
    fail "no new device number"

trace "a drop during a transfer fails AFC with a mux error, then a reset"
ctl '{"cmd":"fault","target":"sim-good","params":"drop-per-mb=0.1 drop-mode=reset reset-delay-ms=200"}'
if "$BUILD/tests/tools/lq-afc-check" -s 256 roundtrip > "$T/afc" \
    2> "$T/afc.err"; then
	fail "a 256 MiB transfer survived a link that drops every 10 MB"
fi
cat "$T/afc.err"
grep -q "error 30 (usbmux error)" "$T/afc.err" ||
    fail "the AFC client did not fail with a mux error"
wait_for "grep -q '^remove 2\$' '$T/events'" 10 || fail "no Detached"
wait_for "grep -q '^add 3 $udid\$' '$T/events'" 10 ||
    fail "no Attached with a new DeviceID after the reset"
grep -q 'usb 1-1: reset high-speed USB device number 3 using xhci_hcd$' \
    "$T/kmsg" || fail "no reset record"
grep -q 'usb 1-1: new high-speed USB device number 4 ' "$T/kmsg" ||
    fail "no re-enumeration"
ctl '{"cmd":"fault","target":"sim-good","params":"drop-per-mb=0"}'

trace "a link-error episode drops nothing"
ctl '{"cmd":"link-error","device":"phone"}'
grep -q '^3,[0-9]*,[0-9]*,-;usb usb1-port1: disabled by hub (EMI?), re-enabling...$' \
    "$T/kmsg" || fail "no EMI record"
expect_eq "$(idevice_id -l)" "$udid" "device after a link error"

trace "the device's syslog counts the read errors"
idevicesyslog -u "$udid" --no-colors > "$T/syslog" 2>&1 &
SYSLOG_PID=$!
stats='AppleUSBDeviceMux::reportStats: USB2.0 reads [0-9]*, errors [1-9]'
if ! wait_for "grep -q '$stats' '$T/syslog'" 10; then
	kill "$SYSLOG_PID"
	fail "no statistics line with read errors: $(tail -3 "$T/syslog")"
fi
kill "$SYSLOG_PID"
wait "$SYSLOG_PID" || :

trace "corruption reaches the AFC reader"
ctl '{"cmd":"fault","target":"sim-good","params":"corrupt-per-mb=0.5"}'
if "$BUILD/tests/tools/lq-afc-check" -s 64 roundtrip > "$T/afc" \
    2> "$T/afc.err"; then
	fail "64 MiB came back intact through a corrupting link"
fi
grep -q "first differing byte at offset" "$T/afc" "$T/afc.err" ||
    fail "no corruption reported: $(cat "$T/afc" "$T/afc.err")"
ctl '{"cmd":"fault","target":"sim-good","params":"corrupt-per-mb=0"}'
"$BUILD/tests/tools/lq-afc-check" -s 8 roundtrip ||
    fail "a clean link still corrupts"

trace "a cable that fails enumeration: the kernel's lines, no device"
ctl '{"cmd":"unplug","device":"phone"}'
ctl '{"cmd":"fault","target":"sim-good","params":"enum-fail=1"}'
ctl '{"cmd":"plug","device":"phone","port":"1-1","cable":"sim-good"}'
for line in 'usb 1-1: device descriptor read/64, error -[0-9]*$' \
    'usb usb1-port1: Cannot enable. Maybe the USB cable is bad?$' \
    'usb usb1-port1: attempt power cycle$' \
    'usb usb1-port1: unable to enumerate USB device$'; do
	grep -q "$line" "$T/kmsg" || fail "no kmsg line like '$line'"
done
expect_eq "$(idevice_id -l)" "" "devices after a failed enumeration"
status_has '"attached":false' || fail "status says attached"
ctl '{"cmd":"unplug","device":"phone"}'
ctl '{"cmd":"fault","target":"sim-good","params":"enum-fail=0"}'
ctl '{"cmd":"plug","device":"phone","port":"1-1","cable":"sim-good"}'
expect_eq "$(idevice_id -l)" "$udid" "device on a good cable again"

trace "a full-speed cable: the device falls back to 12 Mb/s"
ctl '{"cmd":"fault","target":"sim-good","params":"speed=12"}'
ctl '{"cmd":"move","device":"phone","port":"1-1","cable":"sim-good"}'
grep -q 'usb 1-1: new full-speed USB device number [0-9]* using xhci_hcd$' \
    "$T/kmsg" || fail "no full-speed enumeration"
status_has '"speed_mbps":12' || fail "status does not show 12 Mb/s"
grep -q ' C Bi:1:[0-9]*:1 -108 0$' "$T/usbmon" ||
    fail "no -108 in usbmon for the unplug"
ctl '{"cmd":"fault","target":"sim-good","params":"speed=0"}'

trace "latency, jitter, a cap and a stall slow the link but break nothing"
ctl '{"cmd":"fault","target":"sim-good","params":"latency-ms=20 jitter-ms=10 cap-mbps=40"}'
expect_eq "$(ideviceinfo -u "$udid" -k ProductVersion)" 17.4 \
    "ProductVersion through a slow link"
ctl '{"cmd":"stall","device":"phone","ms":300}'
"$BUILD/tests/tools/lq-afc-check" -s 8 roundtrip ||
    fail "AFC failed through a slow link with a short stall"
ctl '{"cmd":"fault","target":"sim-good","params":"latency-ms=0 jitter-ms=0 cap-mbps=0"}'

trace "the AFC operation log names every path touched"
ctl '{"cmd":"oplog","device":"phone"}' > "$T/oplog"
grep -q '"FILE_OPEN [^"]* /linkq-test/roundtrip.bin"' "$T/oplog" ||
    fail "no FILE_OPEN of the test file: $(head -c 300 "$T/oplog")"
grep -q '"FILE_WRITE /linkq-test/roundtrip.bin 1048576"' "$T/oplog" ||
    fail "no FILE_WRITE in the oplog"
if grep -q '/DCIM' "$T/oplog"; then
	fail "something touched the user's photos"
fi

trace "the event log tells the story"
ctl '{"cmd":"events"}' > "$T/log"
for e in "plug phone 1-1 sim-good" "attach phone speed=480" \
    "drop phone stranded" "enumeration-failed phone" \
    "unplug phone" "drop phone reset" "reenumerate phone" \
    "link-error phone" "corrupt phone" "stall phone 300ms"; do
	grep -q "\"$e" "$T/log" || fail "event '$e' missing: $(cat "$T/log")"
done
stop_sim
