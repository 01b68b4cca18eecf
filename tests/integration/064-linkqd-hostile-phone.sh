#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# A hostile or broken phone (issue 15): linkq-sim's hostile kinds
# (linkq-sim(1), HOSTILE PHONES) answer AFC or lockdown with malformed
# replies. First the simulator alone: each kind does to the stock
# client library what the manual says (lq-afc-check, ideviceinfo);
# afc-this-gt-entire overflows a heap buffer in libimobiledevice 1.3.0
# (valgrind or ASan see it), afc-huge-entire spins it. Then linkqd
# with a healthy phone and four hostile ones, each of a kind of its
# own, four kinds at a time: linkqd survives (under ASan too), every
# hostile phone ends up with a clear reason (a trust detail and a
# refused run, or a run that fails with reasons and a detail for each
# failed probe), a run on the healthy phone beside them passes, and
# SIGTERM stops linkqd within seconds. Every kind meets linkqd from the
# attach on (identify and the cleanup of /linkq); the lockdown kinds
# also meet the runs of a phone that turns hostile once trusted.
#
# LQ_HOSTILE_KINDS="afc-status ..." limits the kinds, to look at one.

. "$(dirname "$0")/lib.sh"

# A linkqd stuck in a library call may never end on SIGTERM (issue 15):
# at the end, give it 10 s and then kill it, so the test cannot hang.
hard_stop() {
	[ -n "$LINKQD_PID" ] || return 0
	kill -TERM "$LINKQD_PID" 2> /dev/null || :
	wait_for "! kill -0 $LINKQD_PID 2> /dev/null" 10 ||
	    kill -KILL "$LINKQD_PID" 2> /dev/null || :
}
trap 'hard_stop; cleanup' EXIT

# Four at a time, the kinds that crash or hang today's linkqd last.
# Every kind in the plain build; under the sanitizers, where each group
# takes several times as long, one group: the two that crashed and hung
# linkqd before its worker processes, and one of AFC and of lockdown.
ALL_KINDS="afc-status afc-op afc-short afc-bad-magic lockdown-garbage \
    lockdown-huge-length lockdown-wrong-type lockdown-missing afc-cut \
    afc-this-gt-entire afc-huge-entire"
! sanitized || ALL_KINDS="afc-status lockdown-garbage afc-this-gt-entire \
    afc-huge-entire"
KINDS=$(echo ${LQ_HOSTILE_KINDS:-$ALL_KINDS})
PHONES="h1 h2 h3 h4"
CHECK=$BUILD/tests/tools/lq-afc-check
[ -x "$CHECK" ] || fail "$CHECK is not built"

# A bench: the healthy phone and four phones to make hostile, each on
# a port and cable of its own (pN, cN); h4 is hostile from the start.
{
	n=1
	for d in good $PHONES; do
		echo "device $d$([ $d != h4 ] || echo ' hostile=afc-status')"
		echo "port p$n path=1-$n"
		echo "cable c$n"
		echo "at 0s plug $d p$n c$n"
		n=$((n + 1))
	done
} > "$T/bench.scn"

# Short probes, and deadlines that cut a silent phone within seconds.
cat > "$T/linkqd.conf" <<'CONF'
[profile quick]
duration = 3s
bulk = 16M

[deadlines]
mux-connect = 3s
lockdown-query = 3s
lockdown-handshake = 3s
afc-roundtrip = 3s
bulk = 3s
CONF

is_afc() {
	case $1 in afc-*) return 0 ;; esac
	return 1
}

# Make the simulator's device $1 hostile of kind $2 (or none).
hostile() {
	ctl "{\"cmd\":\"hostile\",\"device\":\"$1\",\"kind\":\"$2\"}" \
	    > /dev/null || fail "hostile $1 $2 refused"
}

# How many malformed replies device $1 has sent.
replies() {
	ctl '{"cmd":"status"}' |
	    jq -r ".devices[] | select(.device == \"$1\") | .hostile_replies"
}

# The CPU ticks process $1 has used (utime + stime).
ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat" 2> /dev/null || echo -1
}

# --- the simulator alone -------------------------------------------------

# Check what lq-afc-check meets on phone h1 of AFC kind $1.
sim_check_afc() {
	rc=0
	pre=
	case $1/$BUILD in
	afc-this-gt-entire/*/default)
		command -v valgrind > /dev/null ||
		    { trace "$1: skipped, no valgrind"; return 0; }
		pre="valgrind -q" ;;
	esac
	$pre "$CHECK" -u "$uh" listing > "$T/check.out" 2> "$T/check.err" ||
	    rc=$?
	case $1 in
	afc-status)	want="error 99 " ;;
	afc-op)		want="error 15 " ;;
	afc-short)	want="error 30 " ;;
	afc-cut)	want="error 32 " ;;
	esac
	case $1 in
	afc-bad-magic)
		# libimobiledevice only logs a bad magic: all goes on.
		[ "$rc" -eq 0 ] || fail "$1: lq-afc-check failed:" \
		    "$(cat "$T/check.err")" ;;
	afc-this-gt-entire)
		# The client receives more than it allocated: ASan sees it
		# at once; glibc's malloc only maybe, later, so the plain
		# build asks valgrind, which checks recv's buffer itself.
		case $BUILD in
		*/default)
			grep -q 'Invalid write\|recvfrom(buf) points to unaddressable' \
			    "$T/check.err" || fail "$1: no overflow seen by" \
			    "valgrind: $(tail -n 20 "$T/check.err")" ;;
		*address*)
			grep -q heap-buffer-overflow "$T/check.err" ||
			    fail "$1: no overflow seen by ASan ($rc):" \
			    "$(tail -n 20 "$T/check.err")" ;;
		*)	trace "$1: nothing here sees the overflow" ;;
		esac ;;
	*)	[ "$rc" -eq 1 ] && grep -q "$want" "$T/check.err" ||
		    fail "$1: expected '$want' from lq-afc-check, got" \
		    "$rc: $(cat "$T/check.err")" ;;
	esac
}

# afc-huge-entire: the reply goes out, the simulator closes, and the
# client keeps a core busy: it gains CPU time long after the close,
# which a client that stopped at the close cannot.
sim_check_huge() {
	before=$(replies h1)
	"$CHECK" -u "$uh" listing > "$T/check.out" 2> "$T/check.err" &
	pid=$!
	wait_for "[ \$(replies h1) -gt $before ]" 20 ||
	    fail "afc-huge-entire: no malformed reply sent"
	t0=$(ticks "$pid")
	[ "$t0" -ge 0 ] || fail "afc-huge-entire: lq-afc-check ended:" \
	    "$(cat "$T/check.err")"
	wait_for "[ \$(ticks $pid) -ge $((t0 + 100)) ]" 30 ||
	    fail "afc-huge-entire: lq-afc-check does not spin"
	kill -KILL "$pid"
	wait "$pid" 2> /dev/null || :
}

# Check what ideviceinfo meets on phone h1 of lockdown kind $1.
sim_check_lockdown() {
	rc=0
	ideviceinfo -u "$uh" -k ProductVersion > "$T/info.out" \
	    2> "$T/info.err" || rc=$?
	case $1 in
	lockdown-garbage)	want="(-3)" ;;
	lockdown-wrong-type|lockdown-missing) want="(-4)" ;;
	# -8 once the 2 GiB allocation succeeded, another error if not.
	*)			want="Could not connect to lockdownd" ;;
	esac
	[ "$rc" -ne 0 ] && grep -qF "$want" "$T/info.err" ||
	    fail "$1: expected '$want' from ideviceinfo, got $rc:" \
	    "$(cat "$T/info.out" "$T/info.err")"
}

trace "the simulator: a bad hostile kind is refused with the list"
printf 'device p hostile=evil\n' > "$T/bad.scn"
"$BUILD/linkq-sim" --socket "$T/bad.sock" --state "$T/bad-state" \
    "$T/bad.scn" > /dev/null 2> "$T/bad.err" &&
    fail "hostile=evil was accepted"
grep -q "bad.scn:1: hostile=evil: expected one of none, afc-" \
    "$T/bad.err" || fail "message: $(cat "$T/bad.err")"

# start_sim allows 20 s, and the first start makes three RSA keys for
# each of the five phones: on a busy machine that takes longer.
: > "$T/sim.out"
"$BUILD/linkq-sim" --socket "$T/usbmuxd" --state "$T/sim-state" \
    --sysfs "$T/sysfs" --kmsg "$T/kmsg" --usbmon "$T/usbmon" \
    --control "$T/control" "$T/bench.scn" > "$T/sim.out" 2> "$T/sim.err" &
# shellcheck disable=SC2034 # stop_sim and cleanup (lib.sh) use it
SIM_PID=$!
wait_for "grep -q '^USBMUXD_SOCKET_ADDRESS=' '$T/sim.out'" 120 ||
    { tail -n 40 "$T/sim.err" >&2; fail "linkq-sim did not start"; }
USBMUXD_SOCKET_ADDRESS=$(sed -n 's/^USBMUXD_SOCKET_ADDRESS=//p' \
    "$T/sim.out")
export USBMUXD_SOCKET_ADDRESS
ug=$(sim_udid good)
uh=$(sim_udid h1)
ctl '{"cmd":"hostile","device":"h1","kind":"evil"}' > "$T/out" &&
    fail "the control socket took hostile evil"
grep -q 'expected one of none' "$T/out" || fail "answer: $(cat "$T/out")"

for k in $KINDS; do
	trace "the simulator: $k, seen by the stock client library"
	hostile h1 "$k"
	case $k in
	afc-huge-entire) sim_check_huge ;;
	afc-*) sim_check_afc "$k" ;;
	*) sim_check_lockdown "$k" ;;
	esac
done
hostile h1 none
"$CHECK" -u "$uh" untouched > "$T/out" 2>&1 ||
    fail "the phone did not heal: $(cat "$T/out")"

# --- linkqd ----------------------------------------------------------------

# Fail unless linkqd is alive and answers.
alive() {
	if ! kill -0 "$LINKQD_PID" 2> /dev/null; then
		_st=0
		wait "$LINKQD_PID" || _st=$?
		LINKQD_PID=
		show_log "$T/linkqd.err"
		fail "linkqd died with status $_st ($1)"
	fi
	get /v1/status > /dev/null || fail "linkqd does not answer ($1)"
}

# The device JSON of the phone called $1 in the simulator.
device_of() {
	get /v1/devices |
	    jq -c ".devices[] | select(.udid == \"$(sim_udid "$1")\")"
}

# Check that run $1 on the phone of kind $2 failed with clear reasons.
expect_failed() {
	run=$(wait_run "$1")
	alive "run on $2"
	if [ "$2" = afc-bad-magic ]; then
		return 0	# the library accepts it; any verdict will do
	fi
	echo "$run" | jq -e '.verdict == "FAIL" and (.reasons | length) > 0' \
	    > /dev/null || fail "$2: the run did not fail with reasons: $run"
	n=$(sql "SELECT count(*) FROM probes WHERE run_id = $1 AND
	    status != 0 AND coalesce(detail, '') = ''")
	expect_eq "$n" 0 "$2: failed probes without a detail"
}

# Replug phones hN (port pN, cable cN) named in the arguments, and
# wait until linkqd has seen them leave and identified them again:
# trusted, or an error.
replug() {
	for _h in "$@"; do
		ctl "{\"cmd\":\"unplug\",\"device\":\"$_h\"}" > /dev/null
	done
	for _h in "$@"; do
		_u=$(sim_udid "$_h")
		wait_for "get /v1/devices | jq -e '[.devices[] | select(.udid == \"$_u\" and .attached)] | length == 0' > /dev/null" 30 ||
		    fail "$_h: linkqd did not see it leave: $(device_of "$_h")"
	done
	for _h in "$@"; do
		_n=$((${_h#h} + 1))
		ctl "{\"cmd\":\"plug\",\"device\":\"$_h\",\"port\":\"p$_n\",\"cable\":\"c$_n\"}" \
		    > /dev/null
	done
	for _h in "$@"; do
		wait_for "device_of $_h | jq -e '.attached and .trust != \"identifying\"' > /dev/null" 60 ||
		    { alive "identify $_h"; fail "$_h: never identified: $(device_of "$_h")"; }
		alive "identify $_h"
	done
}

# Start quick on phone $1 of kind $2, or check that linkqd refuses it
# with a reason; add "kind=id" to $ids.
try_run() {
	_u=$(sim_udid "$1")
	if [ "$(device_of "$1" | jq -r .trust)" = trusted ]; then
		ids="$ids $2=$(start_run "$_u" quick)"
		return 0
	fi
	device_of "$1" | jq -e '(.detail | length) > 0' > /dev/null ||
	    fail "$2: not trusted, and no reason: $(device_of "$1")"
	api POST /v1/runs "{\"udid\":\"$_u\",\"profile\":\"quick\"}" \
	    > "$T/start"
	expect_eq "$(tail -n 1 "$T/start")" 409 "$2: a run on it"
	head -n 1 "$T/start" | jq -e '.error | length > 0' > /dev/null ||
	    fail "$2: refused without a reason: $(cat "$T/start")"
}

# Wait for the runs in $ids and one on the healthy phone started
# beside them: each hostile one fails with reasons, the healthy passes.
end_runs() {
	for _ki in $ids; do
		expect_failed "${_ki#*=}" "${_ki%%=*}"
	done
	wait_run "$good" | jq -e '.verdict == "PASS"' > /dev/null ||
	    fail "the healthy phone did not pass: $(get "/v1/runs/$good")"
}

start_linkqd "$T/linkqd.conf"
wait_trusted "$ug"
set -- $KINDS
while [ $# -gt 0 ]; do
	group=
	for h in $PHONES; do
		[ $# -gt 0 ] || break
		group="$group $h=$1"
		shift
	done
	trace "linkqd beside phones of kinds$(echo "$group" | sed 's/ h[0-9]=/ /g')"
	# Lockdown kinds first on a trusted phone, during its runs.
	ids=
	sick=
	for hk in $group; do
		h=${hk%%=*} k=${hk#*=}
		is_afc "$k" ||
		    [ "$(device_of "$h" | jq -r .trust)" = trusted ] ||
		    sick="$sick $h"
	done
	[ -z "$sick" ] || replug $sick
	for hk in $group; do
		h=${hk%%=*} k=${hk#*=}
		is_afc "$k" && continue
		hostile "$h" "$k"
		ids="$ids $k=$(start_run "$(sim_udid "$h")" quick)"
	done
	if [ -n "$ids" ]; then
		good=$(start_run "$ug" quick)
		end_runs
	fi
	# Then every kind from the attach on: identify, the cleanup of
	# /linkq, and a run if the phone is trusted.
	ids=
	phones=
	for hk in $group; do
		hostile "${hk%%=*}" "${hk#*=}"
		phones="$phones ${hk%%=*}"
	done
	replug $phones
	for hk in $group; do
		try_run "${hk%%=*}" "${hk#*=}"
	done
	good=$(start_run "$ug" quick)
	end_runs
	for h in $phones; do
		hostile "$h" none
	done
done
alive "the end"

trace "SIGTERM stops linkqd within seconds, whatever its phones do"
kill -TERM "$LINKQD_PID"
if ! wait_for "! kill -0 $LINKQD_PID 2> /dev/null" 10; then
	kill -KILL "$LINKQD_PID"
	wait "$LINKQD_PID" 2> /dev/null || :
	LINKQD_PID=
	show_log "$T/linkqd.err"
	fail "linkqd did not stop within 10 s of SIGTERM"
fi
status=0
wait "$LINKQD_PID" || status=$?
LINKQD_PID=
[ "$status" -eq 0 ] ||
    { show_log "$T/linkqd.err"; fail "linkqd exited with status $status"; }
stop_sim
