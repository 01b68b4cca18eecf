#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# The simulated phone accepts what a real one does from clients other
# than libimobiledevice (lq-lenient speaks as pymobiledevice3 and go-ios
# do): TLS with the pair record's HostCertificate, only the public
# values before StartSession, AFC paths without a NUL, listings as
# payload, a FILE_WRITE over 64 MiB; a second host pairing keeps the
# first trusted; SetValue DeviceName (idevicename), MobileGestalt values
# before iOS 17.4 and its deprecation from 17.4, EnterRecovery
# (ideviceenterrecovery).

. "$(dirname "$0")/lib.sh"

cat > "$T/bench.scn" <<'SCN'
device phone
device old version=17.3
port a path=1-1
port b path=1-2
cable c1
cable c2
at 0s plug phone a c1
at 0s plug old b c2
SCN

start_sim --control "$T/control" "$T/bench.scn"
wait_for '[ -n "$(sim_udid phone)" ] && [ -n "$(sim_udid old)" ]' 10 ||
    fail "no UDIDs in status"
phone=$(sim_udid phone)
old=$(sim_udid old)
wait_for "idevice_id -l | grep -q '^$phone\$'" 10 || fail "phone not listed"
lenient=$BUILD/tests/tools/lq-lenient

trace "lockdown: public values only before StartSession, TLS with HostCertificate"
"$lenient" -w "$T/host-a.plist" "$phone" lockdown > "$T/ld" 2> "$T/ld.err" ||
    { cat "$T/ld" "$T/ld.err"; fail "lq-lenient lockdown"; }
cat "$T/ld"
grep -q '^public:.* ProductVersion' "$T/ld" || fail "no public ProductVersion"
grep -q '^public:.* UniqueDeviceID' "$T/ld" || fail "no public UniqueDeviceID"
grep -q '^public:.* DevicePublicKey' "$T/ld" ||
    fail "no public DevicePublicKey, which pairing needs"
if grep -q '^public:.*\(SerialNumber\|InternationalMobileEquipment\)' \
    "$T/ld"; then
	fail "private values outside a session"
fi
expect_eq "$(sed -n 's/^public SerialNumber: //p' "$T/ld")" \
    "error MissingValue" "SerialNumber outside a session"
grep -q '^tls: TLS' "$T/ld" || fail "no TLS session with the HostCertificate"
[ -n "$(sed -n 's/^session SerialNumber: //p' "$T/ld" | grep -v '^error')" ] ||
    fail "no SerialNumber inside the session"

trace "AFC: paths without a NUL, listings as payload, a 65 MiB write"
size=$((65 * 1024 * 1024 + 3))
"$lenient" "$phone" afc "$size" > "$T/afc" 2> "$T/afc.err" ||
    { cat "$T/afc" "$T/afc.err"; fail "lq-lenient afc"; }
cat "$T/afc"
grep -q '^devinfo: payload Model .* FSTotalBytes ' "$T/afc" ||
    fail "GET_DEVINFO not as payload"
grep -q '^readdir: payload \. \.\. IMG_0001.JPG IMG_0002.MOV$' "$T/afc" ||
    fail "READ_DIR without a NUL, or not as payload"
grep -q '^fileinfo: payload st_size 51 .*st_ifmt S_IFREG' "$T/afc" ||
    fail "GET_FILE_INFO without a NUL, or not as payload"
expect_eq "$(sed -n 's/^write: //p' "$T/afc")" "status 0" "65 MiB FILE_WRITE"
grep -q "^written: payload st_size $size " "$T/afc" ||
    fail "the written file has not all of its bytes"

trace "a second host pairs; the first stays trusted"
expect_eq "$(idevicepair -u "$phone" pair)" \
    "SUCCESS: Paired with device $phone" "pair a second host"
"$lenient" -r "$T/host-a.plist" "$phone" lockdown > "$T/ld2" \
    2> "$T/ld2.err" || { cat "$T/ld2" "$T/ld2.err"; \
    fail "the first host is not trusted after a second paired"; }
grep -q '^tls: TLS' "$T/ld2" || fail "no TLS session for the first host"
expect_eq "$(ideviceinfo -u "$phone" -k ProductVersion)" 17.4 \
    "the second host's session"

trace "SetValue DeviceName"
idevicename -u "$phone" "Renamed Phone" > /dev/null ||
    fail "idevicename could not set the name"
expect_eq "$(idevicename -u "$phone")" "Renamed Phone" "DeviceName"

trace "MobileGestalt: values before iOS 17.4, deprecated from 17.4"
idevicediagnostics -u "$old" mobilegestalt ProductType > "$T/mg" ||
    { cat "$T/mg"; fail "mobilegestalt on 17.3"; }
tr -d ' \t\n' < "$T/mg" |
    grep -q '<key>ProductType</key><string>iPhone12,1</string>' ||
    fail "no MobileGestalt ProductType on iOS 17.3"
idevicediagnostics -u "$phone" mobilegestalt ProductType > "$T/mg" ||
    { cat "$T/mg"; fail "mobilegestalt on 17.4"; }
grep -q 'MobileGestaltDeprecated' "$T/mg" ||
    fail "MobileGestalt is not deprecated on iOS 17.4"

trace "EnterRecovery: the phone reboots into recovery mode"
ideviceenterrecovery "$phone" > "$T/rec" 2>&1 ||
    { cat "$T/rec"; fail "ideviceenterrecovery"; }
wait_for "ctl '{\"cmd\":\"status\"}' |
    jq -e '.devices[] | select(.device == \"phone\") |
    .mode == \"recovery\"' > /dev/null" 10 ||
    { ctl '{"cmd":"status"}'; fail "the phone is not in recovery mode"; }
stop_sim
