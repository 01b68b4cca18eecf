#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# The simulated device's syslog_relay and diagnostics_relay, through
# libimobiledevice's own idevicesyslog and idevicediagnostics: syslog
# lines that idevicesyslog parses (time, process[pid], level), the
# AppleUSBDeviceMux statistics line in its documented form, the stream
# ending when the client hangs up, GasGauge diagnostics, MobileGestalt,
# an IORegistry entry, and restart acknowledged.

. "$(dirname "$0")/lib.sh"

trace "start the simulator"
start_sim --seed 7 -v
udid=$(idevice_id -l)
echo "udid: $udid"
[ -n "$udid" ] || fail "no device listed"

trace "idevicesyslog shows syslog lines and the AppleUSBDeviceMux line"
# idevicesyslog never exits by itself: timeout bounds it if the test
# dies first; it is stopped as soon as the statistics line is seen.
timeout 5 idevicesyslog -u "$udid" --no-colors > "$T/syslog" \
    2> "$T/syslog.err" &
syslog_pid=$!
if ! wait_for "grep -q 'AppleUSBDeviceMux::reportStats' '$T/syslog'" 10
then
	cat "$T/syslog" "$T/syslog.err" "$T/sim.err"
	fail "no AppleUSBDeviceMux statistics line from idevicesyslog"
fi
kill -TERM "$syslog_pid" 2>/dev/null || :
wait "$syslog_pid" || :
cat "$T/syslog"
grep -qx '\[connected\]' "$T/syslog" || fail "idevicesyslog not connected"
# idevicesyslog prints the time (16 columns), process[pid] and level
# only when it could parse them out of the device's line.
stamp='[A-Z][a-z][a-z] [ 1-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9]'
lines=$(grep -Ec "^$stamp [A-Za-z][^ ]*\[[0-9]+\] \
<(Notice|Warning|Error|Debug)>: " "$T/syslog") || :
[ "$lines" -ge 5 ] || fail "only $lines well-formed syslog lines"
grep -Eq "^$stamp kernel\[0\] <Notice>: AppleUSBDeviceMux::reportStats: \
USB2\.0 reads [0-9]+, errors [0-9]+; writes [0-9]+, errors [0-9]+; \
duplicate packets [0-9]+$" "$T/syslog" ||
    fail "statistics line not in the documented form"
expect_eq "$(tr -d '\000' < "$T/syslog" | wc -c)" "$(wc -c < "$T/syslog")" \
    "bytes without NULs"

trace "the stream ends when the client hangs up"
wait_for "grep -q 'syslog_relay: $udid: client gone' '$T/sim.err'" 10 ||
    { cat "$T/sim.err"; fail "syslog_relay did not notice the hangup"; }

trace "idevicediagnostics diagnostics GasGauge"
idevicediagnostics -u "$udid" diagnostics GasGauge > "$T/gas" ||
    { cat "$T/gas"; fail "idevicediagnostics diagnostics GasGauge"; }
cat "$T/gas"
flat=$(tr -d ' \t\n' < "$T/gas")
for kv in '<key>GasGauge</key><dict>' \
    '<key>CycleCount</key><integer>312</integer>' \
    '<key>CurrentCapacity</key><integer>87</integer>' \
    '<key>DesignCapacity</key><integer>3110</integer>' \
    '<key>FullChargeCapacity</key><integer>2797</integer>' \
    '<key>Status</key><string>Success</string>'; do
	case $flat in
	*"$kv"*) ;;
	*) fail "GasGauge: no $kv" ;;
	esac
done

trace "idevicediagnostics diagnostics All has every area"
idevicediagnostics -u "$udid" diagnostics All > "$T/all" ||
    { cat "$T/all"; fail "idevicediagnostics diagnostics All"; }
for area in GasGauge HDMI NAND WiFi; do
	grep -q "<key>$area</key>" "$T/all" || fail "All: no $area"
done

trace "idevicediagnostics mobilegestalt and ioregentry"
# The device runs iOS 17.4, where MobileGestalt answers no values, only
# its status (053 asks an older one for values).
idevicediagnostics -u "$udid" mobilegestalt ProductType NoSuchKey \
    > "$T/mg" || { cat "$T/mg"; fail "mobilegestalt"; }
cat "$T/mg"
flat=$(tr -d ' \t\n' < "$T/mg")
case $flat in
*'<key>Status</key><string>MobileGestaltDeprecated</string>'*) ;;
*) fail "mobilegestalt: not MobileGestaltDeprecated on iOS 17.4" ;;
esac
case $flat in
*ProductType*|*NoSuchKey*) fail "mobilegestalt: values on iOS 17.4" ;;
esac
idevicediagnostics -u "$udid" ioregentry AppleARMPMUCharger > "$T/ioreg" ||
    { cat "$T/ioreg"; fail "ioregentry AppleARMPMUCharger"; }
grep -q '<key>CycleCount</key>' "$T/ioreg" || fail "ioregentry: no battery"
if idevicediagnostics -u "$udid" ioregentry NoSuchEntry > "$T/ioreg2"
then
	fail "ioregentry of an unknown entry succeeded"
fi

trace "idevicediagnostics restart is acknowledged"
expect_eq "$(idevicediagnostics -u "$udid" restart)" "Restarting device." \
    "restart"
grep -q "Restart acknowledged" "$T/sim.err" || fail "restart not logged"

trace "the device is still there and the simulator exits cleanly"
expect_eq "$(idevice_id -l)" "$udid" "UDID after restart"
stop_sim
if grep -E 'Sanitizer|runtime error|not simulated|diag_read|_serve:' \
    "$T/sim.err"; then
	fail "the simulator complained"
fi
