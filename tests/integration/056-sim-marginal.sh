#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# A marginal link, as USB shows it: at a low retry-rate packets are
# retried and the phone moves data slower, with no error anywhere; at a
# high one a packet fails all four tries, the kernel logs -71, usbmon
# sees the bulk transfer fail, and usbmuxd drops the phone, which stays
# stranded until it is replugged.
# linkq-test: alone

. "$(dirname "$0")/lib.sh"

check=$BUILD/tests/tools/lq-afc-check
[ -x "$check" ] || fail "$check is not built"

start_sim --seed 56 --control "$T/control"
udid=$(idevice_id -l)

trace "retry-rate=0.03: slower than 22 and 32 MB/s, no error"
ctl '{"cmd":"fault","target":"sim-good","params":"retry-rate=0.03"}'
"$check" -u "$udid" -s 16 roundtrip > "$T/out" ||
    fail "a slightly marginal link failed: $(cat "$T/out")"
cat "$T/out"
wr=$(sed -n 's/.* (\([0-9.]*\) MB\/s write.*/\1/p' "$T/out" |
    awk '{ printf "%d", $1 * 10 }')
rd=$(sed -n 's/.* MB\/s write, \([0-9.]*\) MB\/s read.*/\1/p' "$T/out" |
    awk '{ printf "%d", $1 * 10 }')
[ "$wr" -lt 200 ] || fail "retries cost no write throughput: $wr/10 MB/s"
[ "$rd" -lt 290 ] || fail "retries cost no read throughput: $rd/10 MB/s"
! grep -q 'error -7[14]' "$T/kmsg" || fail "an error at a low retry-rate"
expect_eq "$(idevice_id -l)" "$udid" "devices on a slow link"

trace "retry-rate=0.3: a packet fails every try, the phone is stranded"
ctl '{"cmd":"fault","target":"sim-good","params":"retry-rate=0.3"}'
if "$check" -u "$udid" -s 16 roundtrip > "$T/out" 2>&1; then
	fail "16 MiB crossed a link that fails its packets"
fi
wait_for "[ -z \"\$(idevice_id -l)\" ]" 10 || fail "usbmuxd still lists it"
grep -q 'usb usb1-port1: disabled by hub (EMI?), re-enabling' "$T/kmsg" ||
    fail "no port disabled in kmsg"
grep -q '^3,[0-9]*,[0-9]*,-;usb 1-1: device descriptor read/64, error -71$' \
    "$T/kmsg" || fail "no -71 line in kmsg"
grep -Eq ' C B[io]:1:002:[12] -(71|84) 0$' "$T/usbmon" ||
    fail "no failed bulk transfer in usbmon"
ctl '{"cmd":"status"}' | grep -q '"stranded":true' ||
    fail "status does not say stranded"

trace "a replug on a good link brings it back"
ctl '{"cmd":"fault","target":"sim-good","params":"retry-rate=0"}'
ctl '{"cmd":"unplug","device":"phone"}'
ctl '{"cmd":"plug","device":"phone","port":"1-1","cable":"sim-good"}'
wait_for "[ \"\$(idevice_id -l)\" = '$udid' ]" 10 || fail "not back"

stop_sim
