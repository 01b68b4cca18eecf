# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# Shared helpers for the integration tests, sourced by each NNN-name.sh.
# tests/run sets BUILD to the build directory whose programs are tested.
# Each test gets a private directory $T, removed when it exits.

set -eu

: "${BUILD:=build/default}"
# The top of the source tree, for files the tests use: above the test
# script's directory, else here (where BUILD is relative to).
LQ_TOP=$(cd "$(dirname "$0")/../.." && pwd)
[ -f "$LQ_TOP/tests/run" ] || LQ_TOP=$(pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/lq-it.XXXXXX")

# Say what the test is doing; shows in the log of a failed test.
trace() {
	echo "--- $*"
}

# Stop the test as failed.
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# Show what a program's log says of its end: the sanitizers' reports,
# which may come long before its last lines, then those lines.
show_log() {
	sed -n '/^WARNING: ThreadSanitizer/,/^SUMMARY:/p
	    /^==[0-9]*==ERROR: /,/^SUMMARY:/p
	    /runtime error: /p' "$1" | head -n 200 >&2
	tail -n 40 "$1" >&2
}

# Fail unless "$1" equals "$2"; $3 says what was compared.
expect_eq() {
	[ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"
}

# Poll until the shell condition $1 holds, for at most $2 seconds.
wait_for() {
	_deadline=$(($(date +%s) + $2))
	while ! eval "$1"; do
		if [ "$(date +%s)" -ge "$_deadline" ]; then
			return 1
		fi
		sleep 0.05
	done
}

# Whether the programs under test are a sanitizer build, where a test
# that repeats something many times may repeat it fewer: the plain
# build checks the documented count once.
sanitized() {
	case $BUILD in
	*/default) return 1 ;;
	*) return 0 ;;
	esac
}

# Skip a test that takes minutes (exit 0 with a reason, as tests/run
# counts a pass) under the sanitizers, where it would take many more,
# unless LINKQ_SLOW_TESTS is set: it runs in the plain build.
slow_test() {
	case $BUILD in
	*/default) ;;
	*)	if [ -z "${LINKQ_SLOW_TESTS:-}" ]; then
			echo "skipped under $BUILD (set LINKQ_SLOW_TESTS to" \
			    "run it)"
			exit 0
		fi ;;
	esac
}

# Run linkq on the private socket: its status in $rc, its output in
# $T/out and $T/err.
lq() {
	rc=0
	"$BUILD/linkq" -s "$T/linkqd.sock" "$@" > "$T/out" 2> "$T/err" ||
	    rc=$?
}

# Write to file $1 a linkq.conf whose quick profile lasts 3 s and moves
# 16M each way (not the built-in 30 s and 64M), with a min-bulk to
# match; the lines after $1 (global keys) come first.
quick_conf() {
	_f=$1
	shift
	{
		if [ $# -gt 0 ]; then
			printf '%s\n' "$@" ''
		fi
		printf '[profile quick]\nduration = 3s\nbulk = 16M\n\n'
		printf '[verdict]\nmin-bulk = 16M\n'
	} > "$_f"
}

# Run linkq on a pseudo-terminal $1 columns wide (script(1), COLUMNS
# unset) with the arguments after it: the screen's lines in $T/tty,
# carriage returns and colours out.
lq_tty() {
	_w=$1
	shift
	env -u COLUMNS script -qec "stty cols $_w rows 50; '$BUILD/linkq' -s '$T/linkqd.sock' $*" \
	    /dev/null < /dev/null | tr -d '\r' |
	    sed 's/\x1b\[[0-9;]*[A-Za-z]//g' > "$T/tty"
}

# Fail unless every line of file $1 fits in $2 columns; $3 names it.
expect_fits() {
	awk -v w="$2" 'length($0) > w { print; bad = 1 } END { exit bad }' \
	    "$1" > "$T/long" ||
	    fail "$3: lines longer than $2 columns: $(cat "$T/long")"
}

# Fail unless files $1 and $2 hold the same characters, blanks and line
# ends aside: a table fitted to a terminal lost no cell of its pipe
# form. $3 names it.
expect_same_chars() {
	tr -d ' \n' < "$1" | fold -w 1 | sort > "$T/chars.1"
	tr -d ' \n' < "$2" | fold -w 1 | sort > "$T/chars.2"
	cmp -s "$T/chars.1" "$T/chars.2" ||
	    fail "$3 lost or added text: $(cat "$2") against $(cat "$1")"
}

# Skip the test (exit 0 with a reason, as tests/run counts a pass)
# unless umockdev is installed: umockdev-wrapper and its preload.
require_umockdev() {
	if ! command -v umockdev-wrapper > /dev/null 2>&1; then
		echo "skipped: umockdev is not installed (umockdev-wrapper)"
		exit 0
	fi
	if [ -n "$(umockdev-wrapper true 2>&1)" ]; then
		echo "skipped: umockdev's preload library does not load"
		exit 0
	fi
}

# Run a command under umockdev's preload library, with what the
# sanitizers need there: ASan insists on coming first among the
# libraries a program loads, which a preload defeats, so
# verify_asan_link_order=0 lets an ASan program run anyway; under TSan,
# GLib's and umockdev's own synchronisation (linkq-sim --umockdev) needs
# the suppressions in tests/umockdev-tsan.supp. Programs built without
# a sanitizer ignore both. Started in the background
# (umockdev_preload cmd &), the function execs the command in the
# background subshell, so that $! is the command's pid.
umockdev_preload() {
	set -- env \
	    LD_PRELOAD="libumockdev-preload.so.0${LD_PRELOAD:+:$LD_PRELOAD}" \
	    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	    TSAN_OPTIONS="${TSAN_OPTIONS:+$TSAN_OPTIONS:}suppressions=$LQ_TOP/tests/umockdev-tsan.supp" \
	    "$@"
	# A child's parent is this shell itself unless we are a subshell.
	if [ "$(exec sh -c 'echo "$PPID"')" = "$$" ]; then
		"$@"
	else
		exec "$@"
	fi
}

# Run a command in the umockdev testbed of start_sim (UMOCKDEV_DIR): it
# sees the testbed's /sys, USB device nodes and uevents in place of the
# host's, e.g.
#	umockdev_env "$BUILD/linkqd" -d ... 2> "$T/linkqd.err" &
#	LINKQD_PID=$!
umockdev_env() {
	umockdev_preload UMOCKDEV_DIR="$UMOCKDEV_DIR" "$@"
}

SIM_PID=
# Start linkq-sim on a private socket and state directory, sysfs tree,
# kernel log ($T/kmsg) and usbmon text ($T/usbmon), with any extra
# arguments, wait until it listens, and point libusbmuxd at it. With
# SIM_UMOCKDEV=1 it runs under umockdev's preload with --umockdev, its
# testbed in $T, and UMOCKDEV_DIR is exported for umockdev_env.
start_sim() {
	: > "$T/sim.out"
	if [ -n "${SIM_UMOCKDEV:-}" ]; then
		umockdev_preload env -u UMOCKDEV_DIR TMPDIR="$T" \
		    "$BUILD/linkq-sim" --umockdev --socket "$T/usbmuxd" \
		    --state "$T/sim-state" --sysfs "$T/sysfs" \
		    --kmsg "$T/kmsg" --usbmon "$T/usbmon" "$@" \
		    > "$T/sim.out" 2> "$T/sim.err" &
	else
		"$BUILD/linkq-sim" --socket "$T/usbmuxd" \
		    --state "$T/sim-state" --sysfs "$T/sysfs" \
		    --kmsg "$T/kmsg" --usbmon "$T/usbmon" "$@" \
		    > "$T/sim.out" 2> "$T/sim.err" &
	fi
	SIM_PID=$!
	if ! wait_for "grep -q '^USBMUXD_SOCKET_ADDRESS=' '$T/sim.out'" 20
	then
		cat "$T/sim.err" >&2
		fail "linkq-sim did not start"
	fi
	USBMUXD_SOCKET_ADDRESS=$(sed -n 's/^USBMUXD_SOCKET_ADDRESS=//p' \
	    "$T/sim.out")
	export USBMUXD_SOCKET_ADDRESS
	if [ -n "${SIM_UMOCKDEV:-}" ]; then
		UMOCKDEV_DIR=$(sed -n 's/^UMOCKDEV_DIR=//p' "$T/sim.out")
		[ -d "$UMOCKDEV_DIR" ] ||
		    fail "linkq-sim announced no testbed: $(cat "$T/sim.out")"
		export UMOCKDEV_DIR
	fi
}

# Stop linkq-sim with SIGTERM and check that it exits cleanly.
stop_sim() {
	[ -n "$SIM_PID" ] || return 0
	kill -TERM "$SIM_PID"
	_status=0
	wait "$SIM_PID" || _status=$?
	SIM_PID=
	if [ "$_status" -ne 0 ]; then
		show_log "$T/sim.err"
		fail "linkq-sim exited with status $_status"
	fi
}

# Send one request to the simulator's control socket at $T/control.
ctl() {
	"$BUILD/linkq-sim" --control "$T/control" --send "$1"
}

# The UDID of the simulator's device called $1.
sim_udid() {
	ctl '{"cmd":"status"}' | jq -r ".devices[] | select(.device == \"$1\") | .udid"
}

# Start linkqd in the foreground with the settings of file $1 (if it
# exists) and the simulator's sysfs, kernel log and usbmon text (or the
# path in $LINKQD_USBMON), more [daemon] lines from $LINKQD_DAEMON, a
# private socket and database; wait for its socket.
LINKQD_PID=
# LINKQD_V=-v logs more (debug), for a test being investigated.
LINKQD_V=${LINKQD_V:-}
start_linkqd() {
	_sysfs=$T/sysfs
	[ -z "${SIM_UMOCKDEV:-}" ] || _sysfs=/sys	# the testbed's
	{
		printf '[daemon]\nsysfs = %s\nkmsg = %s\nusbmon = %s\n%s\n' \
		    "$_sysfs" "$T/kmsg" "${LINKQD_USBMON:-$T/usbmon}" \
		    "${LINKQD_DAEMON:-}"
		[ ! -e "$1" ] || cat "$1"
	} > "$T/linkqd-run.conf"
	if [ -n "${SIM_UMOCKDEV:-}" ]; then
		umockdev_env "$BUILD/linkqd" -d -v $LINKQD_V \
		    -f "$T/linkqd-run.conf" -s "$T/linkqd.sock" \
		    --db "$T/linkq.db" 2>> "$T/linkqd.err" &
	else
		"$BUILD/linkqd" -d -v $LINKQD_V -f "$T/linkqd-run.conf" \
		    -s "$T/linkqd.sock" --db "$T/linkq.db" \
		    2>> "$T/linkqd.err" &
	fi
	LINKQD_PID=$!
	wait_for "[ -S '$T/linkqd.sock' ]" 20 ||
	    { tail -n 40 "$T/linkqd.err" >&2; fail "linkqd did not start"; }
}

# Stop linkqd with SIGTERM and check that it exits cleanly.
stop_linkqd() {
	[ -n "$LINKQD_PID" ] || return 0
	kill -TERM "$LINKQD_PID"
	_status=0
	wait "$LINKQD_PID" || _status=$?
	LINKQD_PID=
	if [ "$_status" -ne 0 ]; then
		show_log "$T/linkqd.err"
		fail "linkqd exited with status $_status"
	fi
}

# Call linkqd's API: api METHOD PATH [BODY]; prints the body, and the
# HTTP status on the last line.
api() {
	if [ $# -ge 3 ]; then
		curl -sS --unix-socket "$T/linkqd.sock" -X "$1" \
		    -H 'Content-Type: application/json' --data-binary "$3" \
		    -w '\n%{http_code}\n' "http://linkq$2"
	else
		curl -sS --unix-socket "$T/linkqd.sock" -X "$1" \
		    -w '\n%{http_code}\n' "http://linkq$2"
	fi
}

# The body of a GET, without the status line.
get() {
	api GET "$1" | sed '$d'
}

# Run a query on the daemon's database.
sql() {
	sqlite3 "$T/linkq.db" "$1"
}

# Wait for run $1 to end; print its JSON.
wait_run() {
	wait_for "get /v1/runs/$1 | jq -e '.state != \"running\"' > /dev/null" 90 ||
	    fail "run $1 did not end: $(get /v1/runs/$1)"
	get /v1/runs/$1
}

# Start profile $2 on device $1 (a UDID); print the run id.
start_run() {
	api POST /v1/runs "{\"udid\":\"$1\",\"profile\":\"$2\"}" > "$T/start"
	[ "$(tail -n 1 "$T/start")" = 201 ] ||
	    fail "run $2 not started: $(cat "$T/start")"
	head -n 1 "$T/start" | jq -r .id
}

# Start a wiggle run on device $1 and wait until bulk data moves; print
# its id.
start_wiggle() {
	_id=$(start_run "$1" wiggle)
	wait_for "get /v1/runs/$_id | jq -e '.bytes > 0' > /dev/null" 30 ||
	    fail "no bulk bytes moved"
	echo "$_id"
}

# Wait until device $1 is attached and trusted in linkqd.
wait_trusted() {
	wait_for "get /v1/devices | jq -e '.devices[] | select(.udid == \"$1\" and .attached and .trust == \"trusted\")' > /dev/null" 30 ||
	    fail "device $1 never became testable: $(get /v1/devices)"
}

# Wait until query $1 on the daemon's database gives $2: linkqd commits
# in batches, so a row shows up within a flush interval.
wait_sql() {
	wait_for "[ \"\$(sqlite3 '$T/linkq.db' \"$1\")\" = '$2' ]" 10 ||
	    fail "$1: expected '$2', got '$(sql "$1")'"
}

cleanup() {
	if [ -n "$LINKQD_PID" ]; then
		kill -TERM "$LINKQD_PID" 2>/dev/null || :
		wait "$LINKQD_PID" 2>/dev/null || :
	fi
	if [ -n "$SIM_PID" ]; then
		kill -TERM "$SIM_PID" 2>/dev/null || :
		wait "$SIM_PID" 2>/dev/null || :
	fi
	# KEEP_T=1 keeps the files for a look, not the processes.
	if [ -n "${KEEP_T:-}" ]; then
		echo "kept $T" >&2
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
