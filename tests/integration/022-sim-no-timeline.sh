#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# --no-timeline sets up a scenario's bench without playing its "at"
# lines: the drawer's phone stays unplugged until the control socket
# plugs it, and then shows up in usbmuxd and in the simulated sysfs at
# its port path.

. "$(dirname "$0")/lib.sh"

start_sim --control "$T/control" --no-timeline \
    "$(dirname "$0")/../../examples/drawer.scn"
ctl '{"cmd":"status"}' | jq -e '.devices[0].plugged == false' > /dev/null ||
    fail "the timeline was played: $(ctl '{"cmd":"status"}')"
expect_eq "$(idevice_id -l)" "" "devices before the plug"
ctl '{"cmd":"plug","device":"phone","port":"hub3","cable":"a01"}' > /dev/null
wait_for "[ \"\$(idevice_id -l)\" = 00008030-001A1C3E0A38802E ]" 10 ||
    fail "the plugged phone is not in usbmuxd"
wait_for "[ -d '$T/sysfs/bus/usb/devices/1-4.3' ]" 10 ||
    fail "no sysfs directory at the port path"
expect_eq "$(cat "$T/sysfs/bus/usb/devices/1-4.3/idVendor")" 05ac "idVendor"
expect_eq "$(cat "$T/sysfs/bus/usb/devices/1-4.3/busnum")" 1 "busnum"
ctl '{"cmd":"unplug","device":"phone"}' > /dev/null
wait_for "[ ! -e '$T/sysfs/bus/usb/devices/1-4.3' ]" 10 ||
    fail "the sysfs directory stayed after the unplug"
stop_sim
