#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# linkqd's probes, run by lq-probe through the session and the probe
# ops against linkq-sim: every kind is ok on a healthy link, with the
# same TLS as libimobiledevice's own handshake; bulk moves 8 MiB in
# 128 KiB and in 1 MiB chunks, in segments when the phone may hold
# less, and checks every byte; a corrupting cable gives "corrupt" with
# the offset; nothing outside /linkq is touched and the user's files are
# intact; --cleanup removes what a bulk probe killed mid-way left; an
# unpaired device is reported and never paired behind the user's back,
# pairs on request once Trust is tapped; a locked one refuses to pair.
# Throughput is printed for the log, never judged.

. "$(dirname "$0")/lib.sh"

probe=$BUILD/bench/lq-probe
[ -x "$probe" ] || fail "$probe is not built"

cat > "$T/bench.scn" <<'SCN'
device phone
device fresh trust=unpaired
device locked trust=locked
port a path=1-1
port b path=1-2
port c path=1-3
cable good
cable c2
cable c3
at 0s plug phone a good
at 0s plug fresh b c2
at 0s plug locked c c3
SCN

ctl() {
	"$BUILD/linkq-sim" --control "$T/control" --send "$1"
}
udid_of() {
	ctl '{"cmd":"status"}' | tr '{' '\n' |
	    sed -n "s/.*\"device\":\"$1\",\"udid\":\"\\([^\"]*\\)\".*/\\1/p"
}
# The AFC operation log of device $1, one operation a line.
oplog() {
	ctl "{\"cmd\":\"oplog\",\"device\":\"$1\"}" |
	    sed 's/^{"ok":true,"oplog":\["//; s/"\]}$//; s/","/\n/g'
}
# Run lq-probe; output in $T/out and $T/err, exit status in $rc.
lqp() {
	rc=0
	"$probe" "$@" > "$T/out" 2> "$T/err" || rc=$?
	cat "$T/out"
	cat "$T/err" >&2
}
# Fail unless $T/out holds a line matching the extended regex $1.
has_line() {
	grep -Eq "$1" "$T/out" || fail "no line like '$1' in: $(cat "$T/out")"
}

trace "start the simulator: a paired, an unpaired and a locked phone"
start_sim -v --control "$T/control" "$T/bench.scn"
phone=$(udid_of phone)
fresh=$(udid_of fresh)
locked=$(udid_of locked)
[ -n "$phone" ] && [ -n "$fresh" ] && [ -n "$locked" ] ||
    fail "no UDIDs in status"

trace "every kind, three times each, is ok on a healthy link"
lqp -n 3 "$phone"
expect_eq "$rc" 0 "lq-probe status"
for kind in mux-connect lockdown-query lockdown-handshake afc-roundtrip \
    bulk; do
	expect_eq "$(grep -c "^$kind ok [0-9]* " "$T/out")" 3 "$kind ok lines"
done
has_line '^afc-roundtrip ok [0-9]+ 4096 4096 -1$'
has_line '^bulk ok [0-9]+ 8388608 8388608 -1$'
has_line '^summary lockdown-query probes 3 ok 3 probes/s [0-9.]+$'
[ ! -s "$T/err" ] || fail "lq-probe wrote to stderr"
# The manual handshake tells libimobiledevice the iOS version, as its
# own handshake does, so TLS is not held down to 1.0.
grep -q 'TLS session TLSv1.3$' "$T/sim.err" || fail "no TLS 1.3 session"
if grep -q 'TLS session TLSv1$' "$T/sim.err"; then
	fail "a TLS 1.0 session: the device version was not set"
fi

trace "bulk: 8 MiB each way in 128 KiB chunks"
lqp -v -k bulk -b 8M -c 128K "$phone"
expect_eq "$rc" 0 "bulk status"
has_line '^bulk ok [0-9]+ 8388608 8388608 -1$'
has_line '^summary bulk probes 1 ok 1 probes/s [0-9.]+ chunk 131072 '
grep -q '"chunk":131072,"segment":67108864,' "$T/err" ||
    fail "no bulk detail with the chunk and the segment"
grep -Eq '"write_mb_s":\[[0-9.]+' "$T/err" || fail "no write series"
grep -Eq '"read_mb_s":\[[0-9.]+' "$T/err" || fail "no read series"

trace "bulk: 8 MiB each way in 1 MiB chunks"
lqp -k bulk -b 8M -c 1M "$phone"
expect_eq "$rc" 0 "bulk status"
has_line '^bulk ok [0-9]+ 8388608 8388608 -1$'
has_line '^summary bulk probes 1 ok 1 probes/s [0-9.]+ chunk 1048576 '

trace "bulk: at most 3 MiB on the phone at once, in three segments"
ctl "{\"cmd\":\"oplog-clear\",\"device\":\"phone\"}" > /dev/null
lqp -v -k bulk -b 8M -c 1M -m 3M "$phone"
expect_eq "$rc" 0 "bulk status"
has_line '^bulk ok [0-9]+ 8388608 8388608 -1$'
grep -q '"segment":3145728,' "$T/err" || fail "not 3 MiB segments"
oplog phone > "$T/oplog"
expect_eq "$(grep -c '^FILE_OPEN w /linkq/bulk-' "$T/oplog")" 3 \
    "files written"
expect_eq "$(grep -c '^REMOVE_PATH /linkq/bulk-' "$T/oplog")" 1 \
    "removals at the end"

trace "a cable that flips bits: bulk says corrupt, with the offset"
ctl '{"cmd":"fault","target":"good","params":"corrupt-per-mb=4"}'
lqp -k bulk -b 8M -c 128K "$phone"
expect_eq "$rc" 1 "bulk status through a corrupting cable"
has_line '^bulk corrupt [0-9]+ [0-9]+ [0-9]+ [0-9]+$'
offset=$(sed -n 's/^bulk corrupt [0-9]* [0-9]* [0-9]* //p' "$T/out")
[ "$offset" -lt 8388608 ] || fail "offset $offset is past the stream"
grep -q "\"corrupt_offset\":$offset," "$T/err" ||
    fail "the detail does not name offset $offset"
ctl '{"cmd":"fault","target":"good","params":"corrupt-per-mb=0"}'
oplog phone | tail -n 1 | grep -q '^REMOVE_PATH /linkq/bulk-' ||
    fail "the corrupt file was not removed"

trace "nothing outside /linkq was touched"
oplog phone > "$T/oplog"
grep -q '^MAKE_DIR /linkq$' "$T/oplog" || fail "no MAKE_DIR /linkq"
if grep -v '^GET_DEVINFO$' "$T/oplog" |
    grep -Ev '^[A-Z_]+ ([a-z+]+ )?/linkq(/[a-z0-9-]+)?( [0-9]+)?$'; then
	fail "operations outside /linkq (above)"
fi
"$BUILD/tests/tools/lq-afc-check" -u "$phone" untouched > "$T/out" ||
    fail "lq-afc-check untouched"
grep -qx 'untouched: /DCIM/100APPLE/IMG_0001.JPG: 4096 bytes intact' \
    "$T/out" || fail "user content: $(cat "$T/out")"

trace "cleanup of a folder that was never made is a no-op"
lqp --cleanup "$locked"
expect_eq "$rc" 0 "cleanup status"
has_line '^cleanup ok 0$'
expect_eq "$(oplog locked)" "READ_DIR /linkq" "oplog of the cleanup"

trace "a bulk probe killed mid-way leaves a file; --cleanup removes it"
ctl '{"cmd":"fault","target":"good","params":"cap-mbps=2"}'
"$probe" -k bulk -b 64M -c 128K "$phone" > "$T/killed" 2>&1 &
killed=$!
if ! wait_for "oplog phone | grep -q '^FILE_WRITE /linkq/bulk-$killed-1 '" \
    20; then
	kill -KILL "$killed" 2>/dev/null || :
	fail "the bulk probe did not start writing"
fi
kill -KILL "$killed"
wait "$killed" 2>/dev/null || :
ctl '{"cmd":"fault","target":"good","params":"cap-mbps=0"}'
ctl "{\"cmd\":\"oplog-clear\",\"device\":\"phone\"}" > /dev/null
lqp --cleanup "$phone"
expect_eq "$rc" 0 "cleanup status"
has_line '^cleanup ok 1$'
oplog phone > "$T/oplog"
grep -qx "REMOVE_PATH /linkq/bulk-$killed-1" "$T/oplog" ||
    fail "the leftover was not removed: $(cat "$T/oplog")"
lqp --cleanup "$phone"
has_line '^cleanup ok 0$'

trace "an unpaired device is reported, and no pair record is made"
lqp --identify "$fresh"
expect_eq "$rc" 1 "identify status"
has_line '^identify not-paired '
grep -q "usbmuxd has no pair record for $fresh" "$T/err" ||
    fail "no reason given"
for kind in lockdown-query lockdown-handshake afc-roundtrip bulk; do
	lqp -k "$kind" "$fresh"
	has_line "^$kind not-paired "
done
# usbmuxd's preflight shows the Trust prompt at plug; no probe may
# send Pair itself.
ctl '{"cmd":"status"}' | grep -q '"device":"fresh"[^}]*"pair_requests":0' ||
    fail "something asked the unpaired device to pair"
lqp --identify "$fresh"
grep -q "usbmuxd has no pair record for $fresh" "$T/err" ||
    fail "a pair record appeared"

trace "--pair: the Trust prompt, then paired once it is accepted"
lqp --pair "$fresh"
expect_eq "$rc" 1 "pair status before Trust"
has_line '^pair pair-pending$'
ctl '{"cmd":"status"}' | grep -q '"device":"fresh"[^}]*"trust_prompt":true' ||
    fail "no Trust prompt waiting"
ctl '{"cmd":"trust","device":"fresh","accept":true}'
lqp --pair --identify "$fresh"
expect_eq "$rc" 0 "pair and identify status after Trust"
has_line '^pair ok$'
has_line '^identify ok name="[^"]+" product=iPhone[0-9]+,[0-9]+ version=17\.4 serial=[A-Z0-9]+$'
lqp -k lockdown-handshake "$fresh"
expect_eq "$rc" 0 "a handshake with the new pairing"

trace "a locked device refuses to pair"
lqp --pair "$locked"
expect_eq "$rc" 1 "pair status while locked"
has_line '^pair locked$'
grep -q "is locked with a passcode" "$T/err" || fail "no reason given"

trace "usage errors exit 2"
for args in "" "-k usb-control $phone" "-k nonsense $phone" \
    "-c 0 $phone" "-n 0 $phone" "-F /a/b $phone"; do
	_status=0
	# shellcheck disable=SC2086 # split the arguments
	"$probe" $args > /dev/null 2> "$T/err" || _status=$?
	expect_eq "$_status" 2 "lq-probe $args"
done

stop_sim
