#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# linkq-sim's umockdev testbed as the real libusb sees it (lq-usb-list):
# devices on their port paths behind their hubs, with the speed a port
# allows; an unplug and a replug on another port through hotplug; the
# serial number read over ep0; a reboot into recovery mode (product ID
# 0x1281, iBoot's serial string, out of usbmuxd) and back; and the
# control-pipe faults: latency, STALL, -EPROTO with its kernel lines,
# and a timeout. Skipped when umockdev is not installed.

. "$(dirname "$0")/lib.sh"

require_umockdev

LIST=$BUILD/tests/tools/lq-usb-list

ctl() {
	"$BUILD/linkq-sim" --control "$T/control" --send "$1"
}
# The value of key $2 of device $1 in the simulator's status.
sim_field() {
	ctl '{"cmd":"status"}' |
	    jq -r ".devices[] | select(.device == \"$1\") | .$2"
}

cat > "$T/bench.scn" <<'EOF'
device phone udid=00008030-001A2C3D4E5F802E
device pad
port left path=1-4.2
port right path=1-4.3 speed=12
port far path=2-1 reset-delay-ms=100
cable c1
cable c2
at 0s plug phone left c1
at 0s plug pad right c2
EOF

trace "start the simulator with a umockdev testbed"
SIM_UMOCKDEV=1 start_sim --control "$T/control" --usbmon "$T/usbmon" \
    "$T/bench.scn"
case $UMOCKDEV_DIR in
"$T"/umockdev.*) ;;
*) fail "testbed $UMOCKDEV_DIR is not in TMPDIR" ;;
esac
grep -n '' "$T/sim.out" | head -n 1 | grep -q '^1:UMOCKDEV_DIR=' ||
    fail "UMOCKDEV_DIR= is not the first line: $(cat "$T/sim.out")"

trace "libusb lists both on their port paths, each at its port's speed"
phone_dev=$(sim_field phone devnum)
pad_dev=$(sim_field pad devnum)
umockdev_env "$LIST" > "$T/list" 2> "$T/list.err" ||
    fail "lq-usb-list failed: $(cat "$T/list.err")"
grep -qx "1 $phone_dev 1-4.2 480 12a8" "$T/list" ||
    fail "phone not on 1-4.2 at 480: $(cat "$T/list")"
grep -qx "1 $pad_dev 1-4.3 12 12a8" "$T/list" ||
    fail "pad not on 1-4.3 at 12: $(cat "$T/list")"
expect_eq "$(wc -l < "$T/list" | tr -d ' ')" 2 "devices listed"

trace "sysfs in the testbed: the port path links to the device"
expect_eq "$(umockdev_env cat /sys/bus/usb/devices/1-4.2/serial)" \
    00008030001A2C3D4E5F802E "serial through /sys/bus/usb/devices"
expect_eq "$(umockdev_env cat /sys/bus/usb/devices/1-4/bDeviceClass)" \
    09 "class of hub 1-4"
expect_eq "$(umockdev_env cat /sys/bus/usb/devices/usb2/devnum)" 1 \
    "device number of root hub usb2"

trace "the serial number string, read over ep0"
umockdev_env "$LIST" -s > "$T/serial" 2>&1 || fail "$(cat "$T/serial")"
grep -qx "1 $phone_dev 1-4.2 480 12a8 00008030001A2C3D4E5F802E" \
    "$T/serial" || fail "phone's serial: $(cat "$T/serial")"

trace "follow hotplug: unplug, then replug on another port"
umockdev_env "$LIST" -f > "$T/follow" 2> "$T/follow.err" &
FOLLOW_PID=$!
trap 'kill $FOLLOW_PID 2>/dev/null || :; cleanup' EXIT
wait_for "[ \$(wc -l < '$T/follow') -ge 2 ]" 10 ||
    fail "the follower listed nothing: $(cat "$T/follow.err")"
ctl '{"cmd":"unplug","device":"phone"}' > /dev/null
wait_for "grep -qx -- '- 1 $phone_dev 1-4.2' '$T/follow'" 10 ||
    fail "no departure: $(cat "$T/follow")"
ctl '{"cmd":"plug","device":"phone","port":"far","cable":"c1"}' > /dev/null
phone_dev=$(sim_field phone devnum)
wait_for "grep -qx -- '+ 2 $phone_dev 2-1 480 12a8' '$T/follow'" 10 ||
    fail "no arrival on 2-1: $(cat "$T/follow")"

trace "recovery mode: out of usbmuxd, back on 2-1 as 0x1281"
wait_for "[ \"\$(sim_field phone attached)\" = true ]" 10 ||
    fail "the phone is not in usbmuxd"
ctl '{"cmd":"mode","device":"phone","mode":"recovery"}' > /dev/null
wait_for "grep -qx -- '- 2 $phone_dev 2-1' '$T/follow'" 10 ||
    fail "no departure for the reboot: $(cat "$T/follow")"
wait_for "grep -q -- '^+ 2 [0-9]* 2-1 480 1281\$' '$T/follow'" 10 ||
    fail "no recovery device on 2-1: $(cat "$T/follow")"
old_dev=$phone_dev
phone_dev=$(sim_field phone devnum)
[ "$phone_dev" != "$old_dev" ] || fail "no new device number"
expect_eq "$(sim_field phone attached)" false "usbmuxd's view in recovery"
expect_eq "$(sim_field phone mode)" recovery "mode in status"
idevice_id -l > "$T/ids"
! grep -q 001A2C3D4E5F802E "$T/ids" || fail "recovery device in usbmuxd"
umockdev_env "$LIST" -s > "$T/serial" 2>&1 || fail "$(cat "$T/serial")"
grep -qx "2 $phone_dev 2-1 480 1281 CPID:8030 CPRV:11 CPFM:03 SCEP:01 BDID:0C ECID:001A2C3D4E5F802E IBFL:3C SRNM:\[F2LZK0ABN72J\]" \
    "$T/serial" || fail "recovery serial: $(cat "$T/serial")"
grep -q "usb 2-1: New USB device found, idVendor=05ac, idProduct=1281" \
    "$T/kmsg" || fail "no kmsg line for the recovery device"
expect_eq "$(cat "$T/sysfs/bus/usb/devices/2-1/idProduct")" 1281 \
    "sysfs idProduct in recovery"

trace "back to normal mode: 0x12a8, in usbmuxd again"
ctl '{"cmd":"mode","device":"phone","mode":"normal"}' > /dev/null
wait_for "grep -q -- '^+ 2 [0-9]* 2-1 480 12a8\$' '$T/follow'" 10 ||
    fail "no normal device on 2-1: $(cat "$T/follow")"
wait_for "idevice_id -l | grep -q 001A2C3D4E5F802E" 10 ||
    fail "the phone did not come back to usbmuxd"

trace "control faults: latency, then STALL on every request"
ctl '{"cmd":"fault","target":"right","params":"latency-ms=30"}' > /dev/null
umockdev_env "$LIST" -n 3 > "$T/status" 2>&1 || fail "$(cat "$T/status")"
# The pad is listed first or second: its three lines follow its own.
sed -n "/^1 $pad_dev 1-4.3 /,/^[12] /p" "$T/status" |
    grep '^get-status' > "$T/pad"
expect_eq "$(grep -c ' COMPLETED$' "$T/pad")" 3 "pad's transfers"
awk '$3 < 30000 { exit 1 }' "$T/pad" ||
    fail "a transfer took less than the 30 ms latency: $(cat "$T/pad")"
ctl '{"cmd":"fault","target":"right","params":"latency-ms=0 control-stall=1"}' > /dev/null
umockdev_env "$LIST" -n 3 > "$T/status" 2>&1 || fail "$(cat "$T/status")"
expect_eq "$(grep -c '^get-status [0-9]* [0-9]* STALL$' "$T/status")" 3 \
    "STALLs"
expect_eq "$(grep -c '^get-status [0-9]* [0-9]* COMPLETED$' "$T/status")" \
    3 "the phone's transfers"

trace "control-error: -EPROTO, with the kernel's and usbmon's lines"
ctl '{"cmd":"fault","target":"right","params":"control-stall=0 control-error=1"}' > /dev/null
umockdev_env "$LIST" -n 2 > "$T/status" 2>&1 || fail "$(cat "$T/status")"
expect_eq "$(grep -c '^get-status [0-9]* [0-9]* ERROR$' "$T/status")" 2 \
    "errors"
grep -q 'usb 1-4-port3: disabled by hub (EMI?), re-enabling...' \
    "$T/kmsg" || fail "no kmsg line for the control error"
grep -q " C Ci:1:$(printf %03d "$pad_dev"):0 -71 0\$" "$T/usbmon" ||
    fail "no usbmon line: $(cat "$T/usbmon")"

trace "control-timeout: libusb times out and discards the URB"
ctl '{"cmd":"fault","target":"right","params":"control-error=0 control-timeout=1"}' > /dev/null
umockdev_env "$LIST" -n 2 -t 200 > "$T/status" 2>&1 ||
    fail "$(cat "$T/status")"
expect_eq "$(grep -c '^get-status [0-9]* [0-9]* TIMED_OUT$' "$T/status")" \
    2 "timeouts"
ctl '{"cmd":"events"}' | grep -q '"control-timeout pad"' ||
    fail "no control-timeout event"

trace "stop: the testbed goes with the simulator"
kill "$FOLLOW_PID"
wait "$FOLLOW_PID" || :
stop_sim
[ ! -e "$UMOCKDEV_DIR" ] || fail "the testbed $UMOCKDEV_DIR is left"
