#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# Malformed input to each of linkq-sim's parsers, sent raw with lq-raw:
# usbmuxd's headers and plists, lockdownd's frames (reached through a
# usbmuxd Connect), and the control socket's JSON lines. AFC needs a TLS
# session first and has unit tests instead. For each case:
#
#  (a) the simulator closes that one connection, or answers with the
#      error the protocol has for it and keeps the connection usable;
#  (b) a new line in its stderr says what was wrong (it runs with -v,
#      so a debug line counts);
#  (c) it is still alive and serves idevice_id -l and ideviceinfo.
#
# A failed (a) or (b) is noted and the cases go on, so that one run
# lists every problem; a failed (c) stops the test at once.

. "$(dirname "$0")/lib.sh"

RAW=$BUILD/tests/tools/lq-raw
[ -x "$RAW" ] || fail "$RAW is not built"

# --- bytes ----------------------------------------------------------------
# POSIX printf has no \x: each byte goes out as an octal escape.

# Emit the bytes given as decimal numbers.
bytes() {
	_fmt=
	for _b in "$@"; do
		_fmt=$_fmt$(printf '\\%03o' "$_b")
	done
	# shellcheck disable=SC2059 # the format is the data
	printf "$_fmt"
}
u32le() {
	bytes $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) \
	    $(($1 >> 24 & 255))
}
u32be() {
	bytes $(($1 >> 24 & 255)) $(($1 >> 16 & 255)) $(($1 >> 8 & 255)) \
	    $(($1 & 255))
}
# AFC's header fields are 64-bit little-endian (protocols.md 3.2); no
# case reaches AFC yet (it needs TLS first), but these are ready.
u64le() {
	u32le $(($1 & 4294967295))
	u32le $(($1 >> 32 & 4294967295))
}
u64be() {
	u32be $(($1 >> 32 & 4294967295))
	u32be $(($1 & 4294967295))
}

# An XML plist around $1.
plist() {
	printf '<?xml version="1.0" encoding="UTF-8"?>\n'
	printf '<plist version="1.0">%s</plist>\n' "$1"
}

# usbmuxd: a 16-byte little-endian header: length version message tag.
mux_header() {
	u32le "$1"
	u32le "$2"
	u32le "$3"
	u32le "$4"
}
# A plist message (version 1, message 8) with tag $1 and body $2.
mux_message() {
	mux_header $((16 + $(printf '%s' "$2" | wc -c))) 1 8 "$1"
	printf '%s' "$2"
}
# A request with tag $1, MessageType $2 and the dict entries $3.
mux_request() {
	mux_message "$1" "$(plist "<dict><key>MessageType</key>\
<string>$2</string>${3:-}</dict>")"
}
# Connect with tag $1 to DeviceID $2 and PortNumber $3 (htons(port)).
mux_connect() {
	mux_request "$1" Connect "<key>DeviceID</key><integer>$2</integer>\
<key>PortNumber</key><integer>$3</integer>"
}
# lockdownd: a 4-byte big-endian length, then the body $1.
ld_message() {
	u32be "$(printf '%s' "$1" | wc -c)"
	printf '%s' "$1"
}
ld_request() {
	ld_message "$(plist "<dict><key>Label</key><string>lq-raw</string>\
<key>Request</key><string>$1</string></dict>")"
}
# The usbmuxd Connect that turns a connection into a lockdownd stream:
# lockdownd's port 62078 is 32498 once swapped by htons.
ld_connect() {
	mux_connect 1 "$device_id" 32498
}

# Split the reply in $T/out into one line per message, whitespace out
# of the XML: "mux TAG <plist...>" for the first $1 messages (all if
# not given), usbmuxd's framing, then "lockdown <plist...>" for
# lockdownd's. A message cut short ends with a "partial" line.
frames() {
	od -An -v -tu1 "$T/out" | awk -v nmux="${1:-1000000}" '
	{ for (i = 1; i <= NF; i++) b[n++] = $i }
	END {
		for (p = 0; p < n; m++) {
			if (m < nmux) {
				hl = 16
				if (p + hl > n)
					break
				len = b[p] + b[p + 1] * 256 + \
				    b[p + 2] * 65536 + b[p + 3] * 16777216
				what = sprintf("mux %d", b[p + 12] + \
				    b[p + 13] * 256 + b[p + 14] * 65536 + \
				    b[p + 15] * 16777216)
				len -= hl
			} else {
				hl = 4
				if (p + hl > n)
					break
				len = b[p] * 16777216 + b[p + 1] * 65536 + \
				    b[p + 2] * 256 + b[p + 3]
				what = "lockdown"
			}
			if (len < 0 || p + hl + len > n)
				break
			s = ""
			for (i = p + hl; i < p + hl + len; i++)
				if (b[i] != 9 && b[i] != 10 && b[i] != 13)
					s = s sprintf("%c", b[i])
			print what, s
			p += hl + len
		}
		if (p < n)
			print "partial", n - p, "bytes"
	}'
}

# --- cases ----------------------------------------------------------------

ctl() {
	"$BUILD/linkq-sim" --control "$T/control" --send "$1"
}

: > "$T/problems"
# Note a failure of (a) or (b) and go on.
problem() {
	echo "PROBLEM: $case_name: $*" >&2
	echo "$case_name: $*" >> "$T/problems"
}

# Start a case: name it, and mark where the simulator's stderr is.
begin() {
	case_name=$1
	trace "$1"
	mark=$(wc -l < "$T/sim.err")
}

# Send $T/in to the socket $2 with lq-raw and the options after it,
# the reply to $T/out. $1 says what the simulator must do (a): eof,
# close the connection; open, keep it open until lq-raw's timeout.
send() {
	_want=$1 _sock=$2
	shift 2
	_rc=0
	"$RAW" "$@" "$_sock" < "$T/in" > "$T/out" || _rc=$?
	case $_want in
	eof)	[ "$_rc" -eq 0 ] || problem "the connection was not closed" \
		    "(lq-raw exit $_rc, 0 expected)" ;;
	open)	[ "$_rc" -eq 3 ] || problem "the connection did not stay" \
		    "open (lq-raw exit $_rc, 3 expected)" ;;
	esac
}

# The simulator's stderr lines since the case began.
new_log() {
	sed -n "$((mark + 1)),\$p" "$T/sim.err"
}

# (b): a new line of stderr matches the extended regular expression $1
# (case ignored), the fact the line must state.
logged() {
	_pat=$1
	# shellcheck disable=SC2016 # wait_for evaluates it
	if ! wait_for 'new_log | grep -Eqi -- "$_pat"' 2; then
		problem "no line in the simulator's stderr says what was" \
		    "wrong (none matches '$_pat'); new lines:" \
		    "$(new_log | tr '\n' '|')"
	fi
	new_log | sed 's/^/    stderr: /'
}

# A reply line that must be there, as an extended regular expression.
replied() {
	if ! grep -Eq -- "$1" "$T/reply"; then
		problem "no reply matches '$1'; got: $(tr '\n' '|' < \
		    "$T/reply")"
	fi
}

# (c): the simulator is alive and serves the stock tools.
alive() {
	if ! kill -0 "$SIM_PID" 2>/dev/null; then
		tail -n 40 "$T/sim.err" >&2
		fail "$case_name: the simulator is gone"
	fi
	expect_eq "$(idevice_id -l)" "$udid" "$case_name: idevice_id -l"
	expect_eq "$(ideviceinfo -k ProductVersion)" 17.4 \
	    "$case_name: ideviceinfo -k ProductVersion"
}

trace "start the simulator with a control socket"
start_sim -v --control "$T/control"
udid=$(idevice_id -l)
echo "udid: $udid"
expect_eq "$(printf '%s\n' "$udid" | wc -l | tr -d ' ')" 1 "device count"
device_id=$(ctl '{"cmd":"status"}' |
    sed -n 's/.*"device_id":\([0-9]*\).*/\1/p')
echo "DeviceID: $device_id"
[ -n "$device_id" ] || fail "no DeviceID in status"
mux=$T/usbmuxd

# --- usbmuxd --------------------------------------------------------------

begin "usbmuxd: a length of 8, smaller than the header"
{ mux_header 8 1 8 1; printf 'ab'; } > "$T/in"
send eof "$mux"
logged 'length 8([^0-9]|$)'
alive

begin "usbmuxd: a length of 1 MiB, above usbmuxd's 64 KiB"
{ mux_header 1048576 1 8 2; printf '<?xml'; } > "$T/in"
send eof "$mux"
logged 'length 1048576([^0-9]|$)'
alive

begin "usbmuxd: version 0, the binary protocol (a CONNECT)"
{
	mux_header 24 0 2 3
	u32le "$device_id"
	bytes 242 126 0 0	# port 62078 in network order, reserved
} > "$T/in"
send eof "$mux"
logged 'version 0([^0-9]|$)'
alive

begin "usbmuxd: a body that is not XML"
mux_message 4 'ListDevices, please' > "$T/in"
send eof "$mux"
logged 'not a usbmuxd plist|not.*(xml|plist)'
alive

begin "usbmuxd: an XML plist that is an array"
mux_message 5 "$(plist '<array><string>ListDevices</string></array>')" \
    > "$T/in"
send eof "$mux"
logged 'not a usbmuxd plist|array|dict'
alive

begin "usbmuxd: a dict without MessageType"
no_type='<dict><key>ProgName</key><string>lq-raw</string></dict>'
mux_message 6 "$(plist "$no_type")" > "$T/in"
send eof "$mux"
logged 'not a usbmuxd plist|MessageType'
alive

begin "usbmuxd: an unknown MessageType, then ListDevices"
{ mux_request 7 Frobnicate; mux_request 8 ListDevices; } > "$T/in"
send open "$mux" -t 1500
frames > "$T/reply"
cat "$T/reply"
replied '^mux 7 .*<key>MessageType</key><string>Result</string>'
replied '^mux 7 .*<key>Number</key><integer>1</integer>'
replied "^mux 8 .*<key>DeviceList</key>.*<string>$udid</string>"
logged 'Frobnicate'
alive

begin "usbmuxd: Connect to a DeviceID that does not exist"
mux_connect 9 4242 32498 > "$T/in"
send eof "$mux" -s
frames > "$T/reply"
cat "$T/reply"
replied '^mux 9 .*<key>Number</key><integer>2</integer>'
logged '4242'
alive

begin "usbmuxd: Connect to port 1234, where nothing listens"
mux_connect 10 "$device_id" 53764 > "$T/in"	# htons(1234)
send eof "$mux" -s
frames > "$T/reply"
cat "$T/reply"
replied '^mux 10 .*<key>Number</key><integer>3</integer>'
logged '1234'
alive

begin "usbmuxd: a header cut short by EOF"
{ mux_header 300 1 8 11; } | dd bs=1 count=10 2>/dev/null > "$T/in"
send eof "$mux" -s
logged 'header|truncat|short|eof|incomplete|10 (of|bytes)'
alive

# --- lockdownd ------------------------------------------------------------

begin "lockdownd: a length of 0"
{ ld_connect; u32be 0; } > "$T/in"
send eof "$mux"
frames 1 > "$T/reply"
cat "$T/reply"
replied '^mux 1 .*<key>Number</key><integer>0</integer>'
logged 'length 0([^0-9]|$)'
alive

begin "lockdownd: a length of 16 MiB"
{ ld_connect; u32be 16777216; printf '<?xml'; } > "$T/in"
send eof "$mux"
logged 'length 16777216([^0-9]|$)'
alive

begin "lockdownd: a body that is not a plist"
{ ld_connect; ld_message 'QueryType, please'; } > "$T/in"
send eof "$mux"
logged 'not a plist'
alive

begin "lockdownd: a plist without Request"
no_request='<dict><key>Label</key><string>lq-raw</string></dict>'
{ ld_connect; ld_message "$(plist "$no_request")"; } > "$T/in"
send eof "$mux"
logged 'without Request|no Request|Request'
alive

begin "lockdownd: an unknown Request, then QueryType"
{ ld_connect; ld_request Frobnicate; ld_request QueryType; } > "$T/in"
send open "$mux" -t 1500
frames 1 > "$T/reply"
cat "$T/reply"
replied '^lockdown .*<key>Request</key><string>Frobnicate</string>'
replied '^lockdown .*Frobnicate.*<key>Error</key>|^lockdown .*<key>Error</key>.*Frobnicate'
replied '^lockdown .*<key>Type</key><string>com\.apple\.mobile\.lockdown</string>'
logged 'Frobnicate'
alive

# --- the control socket ---------------------------------------------------

status_line='^\{"ok":true,"devices":\['

begin "control: a line that is not JSON"
printf 'status, please\n' > "$T/in"
send eof "$T/control"
logged 'not a JSON'
alive

begin "control: a JSON array"
printf '["status"]\n' > "$T/in"
send eof "$T/control"
logged 'not a JSON object|array|wrong type'
alive

begin "control: an object without cmd, then status"
printf '{"device":"phone"}\n{"cmd":"status"}\n' > "$T/in"
send open "$T/control" -t 1500
cp "$T/out" "$T/reply"
cat "$T/reply"
replied '^\{"ok":false,"error":".*cmd'
replied "$status_line"
logged 'cmd'
alive

begin "control: an unknown cmd, then status"
printf '{"cmd":"frobnicate"}\n{"cmd":"status"}\n' > "$T/in"
send open "$T/control" -t 1500
cp "$T/out" "$T/reply"
cat "$T/reply"
replied '^\{"ok":false,"error":"[^"]*frobnicate'
replied "$status_line"
logged 'frobnicate'
alive

begin "control: a device that does not exist, then status"
printf '{"cmd":"unplug","device":"nosuchphone"}\n{"cmd":"status"}\n' \
    > "$T/in"
send open "$T/control" -t 1500
cp "$T/out" "$T/reply"
cat "$T/reply"
replied '^\{"ok":false,"error":"[^"]*nosuchphone'
replied "$status_line"
logged 'nosuchphone'
alive

begin "control: a 70 KiB line without a newline"
dd if=/dev/zero bs=1024 count=70 2>/dev/null | tr '\000' x > "$T/in"
send eof "$T/control"
logged 'too long'
alive

# --- the end --------------------------------------------------------------

trace "stop the simulator"
stop_sim
if [ -s "$T/problems" ]; then
	echo "$(wc -l < "$T/problems" | tr -d ' ') problems:" >&2
	sed 's/^/  /' "$T/problems" >&2
	fail "the simulator mishandled malformed input (see above)"
fi
