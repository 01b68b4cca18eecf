#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# The simulator moves what a real phone moves at each negotiated speed,
# through libimobiledevice's AFC (lq-afc-check): under 1 MB/s at 12 Mb/s;
# never more than 10% above 22 MB/s writing and 32 MB/s reading at 480
# Mb/s; and more with --no-ceiling, which lifts the ceilings. A ceiling
# holds on any machine; how close a busy machine comes to it does not,
# so the rates' lower bounds (the ceilings reached, --no-ceiling going
# past them) are checked in the plain build only, not under the
# sanitizers, and generously (bench/run measures them within 10%).
# linkq-test: alone

. "$(dirname "$0")/lib.sh"

check=$BUILD/tests/tools/lq-afc-check
[ -x "$check" ] || fail "$check is not built"

# A roundtrip of $1 MiB; the write and read rates (MB/s, times 10, as
# integers) in $wr and $rd.
roundtrip() {
	"$check" -u "$(idevice_id -l)" -s "$1" roundtrip > "$T/out" ||
	    fail "lq-afc-check roundtrip failed: $(cat "$T/out")"
	cat "$T/out"
	wr=$(sed -n 's/.* (\([0-9.]*\) MB\/s write.*/\1/p' "$T/out" |
	    awk '{ printf "%d", $1 * 10 }')
	rd=$(sed -n 's/.* MB\/s write, \([0-9.]*\) MB\/s read.*/\1/p' \
	    "$T/out" | awk '{ printf "%d", $1 * 10 }')
	[ -n "$wr" ] && [ -n "$rd" ] || fail "no rates in $(cat "$T/out")"
}

trace "12 Mb/s: under 1 MB/s either way"
cat > "$T/slow.scn" <<SCN
device phone
port p path=1-1
cable slow speed=12
at 0s plug phone p slow
SCN
start_sim "$T/slow.scn"
grep -q 'new full-speed USB device' "$T/kmsg" || fail "not at full speed"
roundtrip 1
[ "$wr" -lt 10 ] || fail "12 Mb/s wrote $wr/10 MB/s"
[ "$rd" -lt 10 ] || fail "12 Mb/s read $rd/10 MB/s"
stop_sim

case $BUILD in
*/default)	plain=1 ;;
*)		plain= ;;
esac

trace "480 Mb/s: 22 MB/s writing and 32 MB/s reading at most"
start_sim
roundtrip 64
[ "$wr" -le 242 ] || fail "480 Mb/s wrote $wr/10 MB/s"
[ "$rd" -le 352 ] || fail "480 Mb/s read $rd/10 MB/s"
if [ -n "$plain" ]; then
	[ "$wr" -ge 110 ] || fail "480 Mb/s wrote only $wr/10 MB/s"
	[ "$rd" -ge 160 ] || fail "480 Mb/s read only $rd/10 MB/s"
fi
stop_sim

if [ -n "$plain" ]; then
	trace "--no-ceiling: more than the ceiling"
	start_sim --no-ceiling
	roundtrip 64
	[ "$wr" -ge 300 ] || fail "--no-ceiling wrote only $wr/10 MB/s"
	[ "$rd" -ge 400 ] || fail "--no-ceiling read only $rd/10 MB/s"
	stop_sim
fi
