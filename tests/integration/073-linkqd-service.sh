#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# linkqd explains itself (issue 17): --version and -h; startup errors
# that name the missing or closed directory and what to do; sd_notify
# READY, STATUS with the device count, RELOADING, WATCHDOG pings and
# STOPPING on a notify socket the test listens on itself; the evidence
# sources of GET /v1/status and linkq status, kmsg on with a readable
# file and off, with the reason and what to do, with a missing one; the
# journal's fields of a device and a run, where a private /run can hold
# a journal socket the test listens on.

. "$(dirname "$0")/lib.sh"

trace "--version, -h, a bad option"
rc=0; "$BUILD/linkqd" --version > "$T/out" 2> "$T/err" || rc=$?
expect_eq "$rc" 0 "linkqd --version"
grep -q '^linkqd [0-9]' "$T/out" || fail "--version: $(cat "$T/out")"
for lib in libevent SQLite libusb; do
	grep -q "^$lib [0-9]" "$T/out" || fail "--version lacks $lib"
done
rc=0; "$BUILD/linkqd" -V > "$T/out2" 2>&1 || rc=$?
expect_eq "$rc" 0 "linkqd -V"
cmp -s "$T/out" "$T/out2" || fail "-V and --version differ"
rc=0; "$BUILD/linkqd" -h > "$T/out" 2> "$T/err" || rc=$?
expect_eq "$rc" 0 "linkqd -h"
for opt in -d -f -h -n -s -V -v --db; do
	grep -q -- "^  $opt[ ,]" "$T/out" || fail "-h does not explain $opt"
done
rc=0; "$BUILD/linkqd" --help > "$T/out2" 2>&1 || rc=$?
expect_eq "$rc" 0 "linkqd --help"
rc=0; "$BUILD/linkqd" -x > "$T/out" 2> "$T/err" || rc=$?
expect_eq "$rc" 2 "linkqd -x"
grep -q '^usage: linkqd' "$T/err" || fail "-x: no usage on stderr"
[ ! -s "$T/out" ] || fail "-x wrote to stdout: $(cat "$T/out")"

trace "startup errors: a missing directory"
printf '[daemon]\nkmsg = %s\nusbmon = %s\nsysfs = %s\n' "$T/kmsg" \
    "$T/usbmon" "$T/sysfs" > "$T/min.conf"
rc=0; "$BUILD/linkqd" -d -f "$T/min.conf" -s "$T/linkqd.sock" \
    --db "$T/nodir/linkq.db" 2> "$T/err" || rc=$?
expect_eq "$rc" 1 "linkqd with no database directory"
grep -q "directory $T/nodir does not exist: create it .*install -d .*--db PATH" \
    "$T/err" || fail "no database directory: $(cat "$T/err")"
rc=0; "$BUILD/linkqd" -d -f "$T/min.conf" -s "$T/nodir/linkqd.sock" \
    --db "$T/linkq.db" 2> "$T/err" || rc=$?
expect_eq "$rc" 1 "linkqd with no socket directory"
grep -q "directory $T/nodir does not exist: create it (install -d -o linkq -g linkq -m 0750 $T/nodir), or run linkqd from its systemd unit, which makes it, or pass -s PATH" \
    "$T/err" || fail "no socket directory: $(cat "$T/err")"

# Root writes anywhere: a closed directory needs another user.
if [ "$(id -u)" = 0 ]; then
	trace "startup errors: directories another user may not write in"
	nobody="setpriv --reuid=65534 --regid=65534 --clear-groups"
	chmod 711 "$T"
	mkdir -m 755 "$T/closed"
	mkdir -m 777 "$T/open"
	chmod 644 "$T/min.conf"
	rc=0; $nobody "$BUILD/linkqd" -d -f "$T/min.conf" \
	    -s "$T/open/linkqd.sock" --db "$T/closed/linkq.db" \
	    2> "$T/err" || rc=$?
	expect_eq "$rc" 1 "linkqd as uid 65534, database in a closed dir"
	grep -q "directory $T/closed is not writable by .*uid 65534).*--db PATH" \
	    "$T/err" || fail "closed database directory: $(cat "$T/err")"
	rc=0; $nobody "$BUILD/linkqd" -d -f "$T/min.conf" \
	    -s "$T/closed/linkqd.sock" --db "$T/open/linkq.db" \
	    2> "$T/err" || rc=$?
	expect_eq "$rc" 1 "linkqd as uid 65534, socket in a closed dir"
	grep -q "directory $T/closed is not writable by .*uid 65534).*-s PATH" \
	    "$T/err" || fail "closed socket directory: $(cat "$T/err")"
	chmod 700 "$T"
fi

cat > "$T/bench.scn" <<'SCN'
device phone
port a path=1-1
cable good
SCN
start_sim --control "$T/control" "$T/bench.scn"
phone=$(sim_udid phone)

# What systemd would do: a notify socket, a watchdog for linkqd's pid
# (the shell's, which execs linkqd).
"$BUILD/tests/tools/lq-notify-listen" "$T/notify" > "$T/notify.log" &
LISTEN_PID=$!
trap 'kill "$LISTEN_PID" $(cat "$T/journal.pid" "$T/caps.pid" \
    2> /dev/null) 2> /dev/null || :; cleanup' EXIT
wait_for "[ -S '$T/notify' ]" 10 || fail "lq-notify-listen did not start"
start_notified() {
	NOTIFY_SOCKET=$T/notify WATCHDOG_USEC=400000 sh -c \
	    'WATCHDOG_PID=$$; export WATCHDOG_PID; exec "$@"' sh \
	    "$BUILD/linkqd" -d -v $LINKQD_V -f "$1" -s "$T/linkqd.sock" \
	    --db "$T/linkq.db" 2>> "$T/linkqd.err" &
	LINKQD_PID=$!
	wait_for "[ -S '$T/linkqd.sock' ]" 20 ||
	    { tail -n 40 "$T/linkqd.err" >&2; fail "linkqd did not start"; }
}
notified() {
	wait_for "grep -q -- '$1' '$T/notify.log'" "$2" ||
	    fail "no '$1' notification: $(cat "$T/notify.log")"
}

trace "sd_notify: READY, then STATUS with the device count"
start_notified "$T/min.conf"
notified "^READY=1 MAINPID=$LINKQD_PID STATUS=0 devices, 0 runs\$" 10
ctl '{"cmd":"plug","device":"phone","port":"a","cable":"good"}' > /dev/null
notified '^STATUS=1 device, 0 runs$' 20
trace "watchdog: pings from the loop, every 200 ms"
wait_for "[ \$(grep -c '^WATCHDOG=1\$' '$T/notify.log') -ge 3 ]" 20 ||
    fail "no watchdog pings: $(cat "$T/notify.log")"
trace "SIGHUP: RELOADING, then READY again"
kill -HUP "$LINKQD_PID"
notified '^RELOADING=1 MONOTONIC_USEC=[0-9]*$' 10
wait_for "[ \$(grep -c '^READY=1' '$T/notify.log') -ge 2 ]" 10 ||
    fail "no READY after the reload: $(cat "$T/notify.log")"

trace "sources: kmsg readable is on"
get /v1/status > "$T/status"
jq -e '.sources | map(.name) == ["usbmuxd", "libusb", "kmsg", "usbmon", "device syslog"]' \
    "$T/status" > /dev/null || fail "sources: $(jq -c .sources "$T/status")"
jq -e '.sources[] | select(.name == "kmsg") | .on and .verdicts and (has("advice") | not)' \
    "$T/status" > /dev/null || fail "kmsg not on: $(jq -c .sources "$T/status")"
jq -e '.sources[] | select(.name == "usbmuxd") | .on' "$T/status" \
    > /dev/null || fail "usbmuxd not on: $(jq -c .sources "$T/status")"
jq -e '.kmsg and .usb and .usbmon' "$T/status" > /dev/null ||
    fail "the older fields are gone: $(cat "$T/status")"
lq status
expect_eq "$rc" 0 "linkq status"
grep -q "^  kmsg  *on   reading $T/kmsg\$" "$T/out" ||
    fail "linkq status: $(cat "$T/out")"
[ ! -s "$T/err" ] || fail "linkq status warns: $(cat "$T/err")"

trace "SIGTERM: STOPPING"
stop_linkqd
notified '^STOPPING=1' 5

# As the unit runs it: an unprivileged user holding CAP_SYSLOG as an
# ambient capability, which would pass to every child through execve.
if [ "$(id -u)" = 0 ]; then
	trace "as the unit: CAP_SYSLOG kept but not passed on, kmsg unreadable"
	chmod 711 "$T"
	mkdir -m 777 "$T/caps"
	chmod 666 "${USBMUXD_SOCKET_ADDRESS#UNIX:}"
	# A kernel log only root may read: CAP_SYSLOG does not pass file
	# modes, so kmsg is off, for want of permission.
	install -m 600 /dev/null "$T/kmsg-root"
	printf '[daemon]\nkmsg = %s\nusbmon = %s\nsysfs = %s\n' \
	    "$T/kmsg-root" "$T/usbmon" "$T/sysfs" > "$T/caps.conf"
	chmod 644 "$T/caps.conf"
	setpriv --reuid=65534 --regid=65534 --clear-groups \
	    --inh-caps=+syslog --ambient-caps=+syslog "$BUILD/linkqd" -d \
	    -f "$T/caps.conf" -s "$T/caps/linkqd.sock" \
	    --db "$T/caps/linkq.db" 2> "$T/caps.err" &
	caps_pid=$!
	echo "$caps_pid" > "$T/caps.pid"
	wait_for "[ -S '$T/caps/linkqd.sock' ]" 20 ||
	    fail "linkqd as uid 65534 did not start: $(cat "$T/caps.err")"
	curl -sS --unix-socket "$T/caps/linkqd.sock" http://linkq/v1/status \
	    > "$T/caps.status"
	jq -e --arg p "$T/kmsg-root" '.sources[] | select(.name == "kmsg") |
	    (.on | not) and .reason == ($p + ": Permission denied") and
	    (.advice | test("CAP_SYSLOG"))' "$T/caps.status" > /dev/null ||
	    fail "kmsg unreadable is not off: $(jq -c .sources "$T/caps.status")"
	children() {
		cat /proc/[0-9]*/stat 2> /dev/null |
		    awk -v p="$caps_pid" '$4 == p { print $1 }'
	}
	wait_for '[ -n "$(children)" ]' 20 ||
	    fail "no worker for the phone: $(cat "$T/caps.err")"
	worker=$(children | head -n 1)
	caps() {
		awk '/^Cap(Prm|Eff|Amb):/ { printf "%s %s ", $1, $2 }' \
		    "/proc/$1/status"
	}
	expect_eq "$(caps "$caps_pid")" "CapPrm: 0000000400000000 CapEff: 0000000400000000 CapAmb: 0000000000000000 " \
	    "linkqd's capabilities"
	expect_eq "$(caps "$worker")" "CapPrm: 0000000000000000 CapEff: 0000000000000000 CapAmb: 0000000000000000 " \
	    "its worker's capabilities"
	kill "$caps_pid"
	wait "$caps_pid" 2> /dev/null || :
	rm "$T/caps.pid"
	chmod 700 "$T"
fi

trace "sources: a kmsg path that does not exist is off, with what to do"
printf '[daemon]\nkmsg = %s\nusbmon = %s\nsysfs = %s\n' "$T/no-kmsg" \
    "$T/usbmon" "$T/sysfs" > "$T/nokmsg.conf"
start_notified "$T/nokmsg.conf"
get /v1/status > "$T/status"
jq -e --arg p "$T/no-kmsg" '.sources[] | select(.name == "kmsg") | (.on | not) and .reason == ($p + ": No such file or directory") and (.advice | test("kmsg in linkq.conf"))' \
    "$T/status" > /dev/null || fail "kmsg not off: $(jq -c .sources "$T/status")"
lq status
expect_eq "$rc" 0 "linkq status, kmsg off"
grep -q "^  kmsg  *off  $T/no-kmsg: No such file or directory; the path does not exist" \
    "$T/out" || fail "linkq status, kmsg off: $(cat "$T/out")"
grep -q "warning: kmsg is off, so verdicts lack its evidence" "$T/err" ||
    fail "linkq status does not warn: $(cat "$T/err")"
stop_linkqd
kill "$LISTEN_PID"
wait "$LISTEN_PID" 2> /dev/null || :

# journald's socket is at a fixed path, /run/systemd/journal/socket: a
# mount namespace with its own /run lets the test listen there.
if [ "$(id -u)" != 0 ] || ! unshare -m true 2> /dev/null; then
	echo "the journal's fields not tested: no mount namespace here"
	stop_sim
	exit 0
fi
trace "the journal: the fields of a device and of a run"
cat "$T/min.conf" - > "$T/journal.conf" <<'CONF'
[profile quick]
duration = 3s
bulk = 16M

[verdict]
min-bulk = 16M
CONF
: > "$T/journal.err"
stream=$(stat -c '%d:%i' "$T/journal.err")
unshare -m sh -c '
	mount -t tmpfs tmpfs /run || exit 1
	mkdir -p /run/systemd/journal
	"$1" /run/systemd/journal/socket > "$2" &
	echo $! > "$3"
	i=0
	while [ ! -S /run/systemd/journal/socket ] && [ $i -lt 200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	shift 3
	exec "$@"' sh "$BUILD/tests/tools/lq-notify-listen" "$T/journal.log" \
    "$T/journal.pid" env JOURNAL_STREAM="$stream" "$BUILD/linkqd" -d \
    -f "$T/journal.conf" -s "$T/linkqd.sock" --db "$T/linkq.db" \
    2>> "$T/journal.err" &
LINKQD_PID=$!
wait_for "[ -S '$T/linkqd.sock' ]" 20 ||
    fail "linkqd did not start: $(cat "$T/journal.err" "$T/journal.log")"
wait_trusted "$phone"
lq cable 1-1 J-01
expect_eq "$rc" 0 "linkq cable: $(cat "$T/err")"
id=$(start_run "$phone" quick)
wait_run "$id" > /dev/null
wait_for "grep -q '^PRIORITY=6 SYSLOG_IDENTIFIER=linkqd RUN_ID=$id PORT=1-1 CABLE=J-01 UDID=$phone VERDICT=PASS MESSAGE=run $id done: PASS' '$T/journal.log'" 10 ||
    fail "the run's end in the journal: $(cat "$T/journal.log")"
grep -q "^PRIORITY=6 SYSLOG_IDENTIFIER=linkqd RUN_ID=$id PORT=1-1 CABLE=J-01 UDID=$phone MESSAGE=run $id: quick on $phone" \
    "$T/journal.log" || fail "the run's start: $(cat "$T/journal.log")"
grep -q "^PRIORITY=6 SYSLOG_IDENTIFIER=linkqd PORT=1-1 UDID=$phone MESSAGE=device $phone: attachment" \
    "$T/journal.log" || fail "the attachment: $(cat "$T/journal.log")"
! grep -q "run $id done" "$T/journal.err" ||
    fail "the journal's lines went to stderr too: $(cat "$T/journal.err")"
stop_linkqd
kill "$(cat "$T/journal.pid")"
stop_sim
