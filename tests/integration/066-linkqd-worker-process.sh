#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# Each attached device's libimobiledevice calls run in a worker process
# of linkqd's own (issue 15): it holds no database and no control
# socket and runs with no new privileges. Killed mid-run, its probe
# fails with the reason and a new worker serves the next probe; stopped,
# it misses its deadline and is killed, and the probe is a timeout;
# SIGTERM of linkqd while a worker is stopped ends linkqd within a few
# seconds and leaves no worker behind.

. "$(dirname "$0")/lib.sh"

# Round trips of 50 ms: a kill lands inside a probe, not in the
# moment between two (a probe that never started is no evidence).
cat > "$T/bench.scn" <<'SCN'
device phone
port a path=1-1
cable good latency-ms=50
at 0s plug phone a good
SCN

# A run of lockdown queries that outlasts the test; a short deadline.
cat > "$T/linkqd.conf" <<'CONF'
[profile soak]
kinds = lockdown-query
duration = 10m

[deadlines]
lockdown-query = 2s
CONF

# The one worker process of linkqd, or nothing.
worker() {
	pgrep -P "$LINKQD_PID" || :
}

# Whether process $1 runs (a zombie does not).
alive() {
	[ -e "/proc/$1" ] &&
	    [ "$(awk '{ print $3 }' "/proc/$1/stat" 2> /dev/null)" != Z ]
}

# Wait for a worker other than $1 and print it.
new_worker() {
	wait_for "[ -n \"\$(worker)\" ] && [ \"\$(worker)\" != '$1' ]" 20 ||
	    fail "no new worker process (was $1): $(ps -o pid,stat,args --ppid "$LINKQD_PID")"
	worker
}

# Wait until run $1 has more than $2 probes that worked.
wait_probes() {
	wait_for "[ \"\$(get /v1/runs/$1 | jq '.probes - .failures')\" -gt $2 ]" 30 ||
	    fail "run $1 made no progress: $(get /v1/runs/$1)"
}

# Wait for a failed probe of run $1 whose detail has $2; print it.
wait_failed_probe() {
	wait_for "[ -n \"\$(sql \"SELECT 1 FROM probes WHERE run_id = $1 AND status != 0 AND detail LIKE '%$2%'\")\" ]" 20 ||
	    fail "no failed probe saying '$2': $(sql "SELECT status, detail FROM probes WHERE run_id = $1 AND status != 0")"
	sql "SELECT status || ' ' || detail FROM probes WHERE run_id = $1 AND status != 0 AND detail LIKE '%$2%' LIMIT 1"
}

trace "a worker process per device, without the daemon's descriptors"
start_sim --control "$T/control" "$T/bench.scn"
phone=$(sim_udid phone)
start_linkqd "$T/linkqd.conf"
wait_trusted "$phone"
w1=$(new_worker "")
tr '\0' ' ' < "/proc/$w1/cmdline" | grep -q -- "--worker-fd 3 4 $LINKQD_PID " ||
    fail "worker $w1 is not linkqd's worker mode: $(tr '\0' ' ' < "/proc/$w1/cmdline")"
fds=$(ls -l "/proc/$w1/fd" | grep -- '->' | sed 's/.*-> //')
echo "$fds" | grep -e linkq.db -e linkqd.sock &&
    fail "the worker holds the daemon's files: $fds"
[ "$(echo "$fds" | grep -c socket:)" -le 1 ] ||
    fail "the worker holds more than its socketpair: $fds"
grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$w1/status" ||
    fail "the worker may gain privileges: $(grep NoNewPrivs "/proc/$w1/status")"

trace "kill -9 the worker mid-run: that probe fails, a new worker goes on"
id=$(start_run "$phone" soak)
wait_probes "$id" 3
kill -KILL "$w1"
w2=$(new_worker "$w1")
said=$(wait_failed_probe "$id" 'worker process was killed (signal 9')
echo "$said"
expect_eq "${said%% *}" -9 "the status of the killed worker's probe"
n=$(get /v1/runs/$id | jq '.probes - .failures')
wait_probes "$id" "$n"
grep -q "device $phone: the worker process was killed (signal 9" \
    "$T/linkqd.err" || fail "linkqd does not say the worker died"

trace "SIGSTOP the worker: the deadline kills it, the probe is a timeout"
kill -STOP "$w2"
said=$(wait_failed_probe "$id" 'did not answer by its deadline and was killed')
echo "$said"
expect_eq "${said%% *}" -6 "the status of the stopped worker's probe"
wait_for "! alive $w2" 5 || fail "the stopped worker $w2 still runs"
# Two failures in a few probes may have failed the run by now.
if [ "$(get /v1/runs/$id | jq -r .state)" = running ]; then
	new_worker "$w2" > /dev/null
	n=$(get /v1/runs/$id | jq '.probes - .failures')
	wait_probes "$id" "$n"
	api DELETE "/v1/runs/$id" > /dev/null
fi
wait_run "$id" > /dev/null
kill -0 "$LINKQD_PID" || fail "linkqd died"

trace "SIGTERM of linkqd while its worker is stopped: it ends, no worker left"
id=$(start_run "$phone" soak)
wait_probes "$id" 2
w4=$(worker)
[ -n "$w4" ] || fail "no worker for the second run"
kill -STOP "$w4"
kill -TERM "$LINKQD_PID"
wait_for "! alive $LINKQD_PID" 20 ||
    fail "linkqd did not end within 20 s of SIGTERM: $(tail -n 20 "$T/linkqd.err")"
_status=0
wait "$LINKQD_PID" || _status=$?
LINKQD_PID=
if [ "$_status" -ne 0 ]; then
	show_log "$T/linkqd.err"
	fail "linkqd exited with status $_status"
fi
wait_for "! alive $w4" 5 ||
    fail "worker $w4 outlived linkqd: $(cat "/proc/$w4/stat")"
wait_sql "SELECT state FROM runs WHERE id = $id" interrupted
stop_sim
