#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# libimobiledevice's own tools, unchanged, cannot tell linkq-sim from
# usbmuxd and an iPhone: listing, the full lockdown handshake with its
# TLS session, pairing validation, and keys stable across restarts.

. "$(dirname "$0")/lib.sh"

trace "start the simulator"
start_sim --seed 7 -v

trace "idevice_id -l lists the device"
udid=$(idevice_id -l)
echo "udid: $udid"
expect_eq "$(printf '%s\n' "$udid" | wc -l | tr -d ' ')" 1 "device count"
printf '%s\n' "$udid" | grep -Eq '^00008030-[0-9A-F]{16}$' ||
    fail "UDID '$udid' is not in usbmuxd's dashed form"

trace "ideviceinfo prints the full default output over TLS"
ideviceinfo -u "$udid" > "$T/info" || fail "ideviceinfo failed"
cat "$T/info"
grep -qx "UniqueDeviceID: $udid" "$T/info" || fail "no UniqueDeviceID"
grep -qx "ProductVersion: 17.4" "$T/info" || fail "no ProductVersion"
grep -qx "DeviceName: linkq-sim iPhone" "$T/info" || fail "no DeviceName"
grep -q "^DevicePublicKey: " "$T/info" || fail "no DevicePublicKey"
grep -q "TLS session TLSv1.3" "$T/sim.err" ||
    { cat "$T/sim.err"; fail "no TLS session seen"; }

trace "one key, and a domain"
expect_eq "$(ideviceinfo -u "$udid" -k ProductVersion)" 17.4 \
    "ProductVersion"
ideviceinfo -u "$udid" -q com.apple.disk_usage -k TotalDiskCapacity |
    grep -qx 64000000000 || fail "no disk usage domain"

trace "idevicepair validate"
expect_eq "$(idevicepair -u "$udid" validate)" \
    "SUCCESS: Validated pairing with device $udid" "validate"

trace "StartService: known services start, an unknown one is refused"
"$BUILD/tests/tools/lq-service-check" -u "$udid" com.apple.afc |
    grep -q '^started com.apple.afc on port [0-9]*$' || fail "no AFC port"
if "$BUILD/tests/tools/lq-service-check" -u "$udid" com.apple.nonexistent \
    > "$T/out"; then
	fail "an unknown service was started"
fi
# -27 is LOCKDOWN_E_INVALID_SERVICE: lockdownd answered InvalidService.
expect_eq "$(cat "$T/out")" "refused com.apple.nonexistent: error -27" \
    "unknown service"

trace "a restart with the same state keeps the device and its pairing"
stop_sim
start_sim --seed 7 -v
expect_eq "$(idevice_id -l)" "$udid" "UDID after restart"
expect_eq "$(idevicepair -u "$udid" validate)" \
    "SUCCESS: Validated pairing with device $udid" "validate after restart"
stop_sim
