#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# libimobiledevice's AFC client, driven through its public API by
# lq-afc-check, gets back every byte it wrote to linkq-sim (64 MiB in
# 1 MiB and in 128 KiB chunks), can make, list, stat, rename and remove
# files and directories, and finds the user content intact afterwards.
# Throughput is printed for the log, never judged.

. "$(dirname "$0")/lib.sh"

check=$BUILD/tests/tools/lq-afc-check
[ -x "$check" ] || fail "$check is not built"

trace "start the simulator"
start_sim --seed 11
udid=$(idevice_id -l)
echo "udid: $udid"

# Run lq-afc-check with the arguments; keep its output in $T/out.
afc_check() {
	_status=0
	"$check" -u "$udid" "$@" > "$T/out" 2> "$T/err" || _status=$?
	cat "$T/out"
	cat "$T/err" >&2
	expect_eq "$_status" 0 "lq-afc-check $* exit status"
	[ ! -s "$T/err" ] || fail "lq-afc-check $* wrote to stderr"
}

trace "roundtrip: 64 MiB in 1 MiB chunks"
afc_check -s 64 roundtrip
grep -Eq '^roundtrip: 67108864 bytes written and verified in [0-9.]+ s' \
    "$T/out" || fail "no verified 64 MiB roundtrip (1 MiB chunks)"

trace "roundtrip: 64 MiB in 128 KiB chunks"
afc_check -s 64 -c 131072 roundtrip
head='roundtrip: /linkq-test/roundtrip.bin, 67108864 bytes in'
grep -qx "$head 131072-byte chunks" "$T/out" || fail "not 128 KiB chunks"
grep -Eq '^roundtrip: 67108864 bytes written and verified in [0-9.]+ s' \
    "$T/out" || fail "no verified 64 MiB roundtrip (128 KiB chunks)"

trace "listing: make, list, stat, rename, remove"
afc_check listing
grep -qx 'listing: /linkq-test holds \. \.\. a b c' "$T/out" ||
    fail "first listing"
grep -qx 'listing: /linkq-test/b has st_size 2000, st_ifmt S_IFREG' \
    "$T/out" || fail "file info"
grep -qx 'listing: /linkq-test holds \. \.\. b c renamed' "$T/out" ||
    fail "listing after the rename"
grep -qx 'listing: /linkq-test is gone' "$T/out" || fail "directory left"

trace "a directory that exists is refused by listing, not emptied"
_status=0
"$check" -u "$udid" -d /DCIM listing > "$T/out" 2> "$T/err" || _status=$?
cat "$T/out" "$T/err"
expect_eq "$_status" 1 "listing of an existing directory"
grep -q '/DCIM exists' "$T/err" || fail "no refusal message"

trace "bad arguments give the usage and status 2"
_status=0
"$check" -c 0 roundtrip 2> "$T/err" || _status=$?
expect_eq "$_status" 2 "status for -c 0"
_status=0
"$check" frobnicate 2> "$T/err" || _status=$?
expect_eq "$_status" 2 "status for an unknown command"
grep -q '^usage: lq-afc-check' "$T/err" || fail "no usage line"

trace "untouched: the user content is intact"
afc_check untouched
grep -qx 'untouched: /DCIM/100APPLE/IMG_0001.JPG: 4096 bytes intact' \
    "$T/out" || fail "user content"

stop_sim
