#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# usbmuxd 1.1.1 reports a phone on a 10 Gb/s link with ConnectionSpeed
# 480000000: its usb.c knows no speed above SuperSpeed (upstream fixed
# that in 2024). linkqd takes the kernel's speed from sysfs where it has
# it, and without sysfs takes 1.1.1's 480 for what it is, so neither
# records a speed-fallback finding for the phone.

. "$(dirname "$0")/lib.sh"

RAW=$BUILD/tests/tools/lq-raw

cat > "$T/bench.scn" <<'SCN'
device fast max-speed=10000
port a path=1-1
cable good
at 0s plug fast a good
SCN

# A little-endian 32-bit number as bytes (POSIX printf has no \x).
u32le() {
	# shellcheck disable=SC2059 # the format is the data
	printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $(($1 & 255)) \
	    $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)))"
}

# The ConnectionSpeed the simulated usbmuxd lists for its device.
mux_speed() {
	_body='<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict><key>MessageType</key>
<string>ListDevices</string></dict></plist>'
	{
		u32le $((16 + ${#_body}))
		u32le 1
		u32le 8
		u32le 1
		printf '%s' "$_body"
	} > "$T/in"
	"$RAW" -t 1000 "${USBMUXD_SOCKET_ADDRESS#UNIX:}" < "$T/in" \
	    > "$T/reply" || [ $? -eq 3 ]
	_key='<key>ConnectionSpeed<\/key><integer>'
	LC_ALL=C tr -d '\n\t ' < "$T/reply" |
	    LC_ALL=C sed -n "s/.*$_key\\([0-9]*\\)<.*/\\1/p"
}

trace "1.1.1's speeds: a 10 Gb/s phone says 480000000"
start_sim --control "$T/control" "$T/bench.scn"
fast=$(sim_udid fast)
wait_for "[ -n \"\$(mux_speed)\" ]" 10 || fail "no device listed"
expect_eq "$(mux_speed)" 480000000 "ConnectionSpeed of 1.1.1"

trace "linkqd takes the kernel's 10000 Mb/s from sysfs"
start_linkqd /dev/null
wait_sql "SELECT count(*) FROM attachments WHERE speed_mbps = 10000" 1
stop_linkqd

trace "without sysfs, 1.1.1's 480 is no fallback from 10 Gb/s"
ctl '{"cmd":"unplug","device":"fast"}' > /dev/null
printf '[daemon]\nsysfs = %s\nkmsg = %s\nusbmon = %s\n' "$T/no-sysfs" \
    "$T/kmsg" "$T/usbmon" > "$T/linkqd-run.conf"
"$BUILD/linkqd" -d -v $LINKQD_V -f "$T/linkqd-run.conf" \
    -s "$T/linkqd.sock" --db "$T/linkq.db" 2>> "$T/linkqd.err" &
LINKQD_PID=$!
wait_for "[ -S '$T/linkqd.sock' ]" 20 || fail "linkqd did not start"
ctl '{"cmd":"plug","device":"fast","port":"a","cable":"good"}' > /dev/null
wait_sql "SELECT count(*) FROM attachments" 2
wait_sql "SELECT speed_mbps FROM attachments ORDER BY id DESC LIMIT 1" 480
grep -q "device $fast: usbmuxd says 480 Mb/s" "$T/linkqd.err" ||
    fail "linkqd did not weigh 1.1.1's speed: $(tail -n 20 "$T/linkqd.err")"
expect_eq "$(sql "SELECT count(*) FROM events WHERE kind = 'speed-fallback'")" \
    0 "speed-fallback findings"
stop_linkqd
stop_sim

trace "upstream's speeds: the same phone says 10000000000"
start_sim --control "$T/control" --usbmuxd speeds=upstream "$T/bench.scn"
wait_for "[ -n \"\$(mux_speed)\" ]" 10 || fail "no device listed"
expect_eq "$(mux_speed)" 10000000000 "ConnectionSpeed upstream"
stop_sim
