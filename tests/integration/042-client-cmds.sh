#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# linkq's commands beyond test: runs and show of a finished run; events
# with the dropout of a device unplugged in the middle of a run, also as
# it happens with --follow, which Ctrl-C ends with status 0; pair with an
# unpaired device and the simulated Trust, and a declined prompt (exit
# 1); ports, port labels set and cleared, a bad label refused (exit 2);
# the completion of a port from the daemon.

. "$(dirname "$0")/lib.sh"

LQ="$BUILD/linkq"

cat > "$T/bench.scn" <<'SCN'
device phone
device fresh trust=unpaired
device shy trust=unpaired
port a path=1-1
port b path=1-2
port c path=1-3
cable good
cable c2
cable c3
at 0s plug phone a good
at 0s plug fresh b c2
SCN

trace "usage errors"
lq show
expect_eq "$rc" 2 "show without a run"
grep -q '^usage: linkq show RUN' "$T/err" || fail "no usage: $(cat "$T/err")"
lq show abc
expect_eq "$rc" 2 "show abc"
lq port 1-1
expect_eq "$rc" 2 "port without --label"
lq port 1-1 --label x --clear-label
expect_eq "$rc" 2 "port with both"
lq events --since x
expect_eq "$rc" 2 "events --since x"
lq pair 1-1 -u 0000
expect_eq "$rc" 2 "pair with a port and a UDID"
lq port 1-1 --label "$(printf 'front\tleft')"
expect_eq "$rc" 2 "a port label with a tab"
grep -q 'bad port label: .*control characters' "$T/err" ||
    fail "rule not stated: $(cat "$T/err")"
for c in events runs show pair ports port; do
	lq "$c" -h
	expect_eq "$rc" 0 "$c -h"
	grep -q "^usage: linkq $c" "$T/out" || fail "$c -h: $(cat "$T/out")"
done

trace "the simulator and linkqd"
start_sim --control "$T/control" "$T/bench.scn"
phone=$(sim_udid phone)
fresh=$(sim_udid fresh)
shy=$(sim_udid shy)
# quick keeps its duration: 3 s here, not 30.
quick_conf "$T/quick.conf"
start_linkqd "$T/quick.conf"
wait_for "get /v1/devices | jq -e '.devices[] | select(.udid == \"$phone\") | .trust == \"trusted\"' > /dev/null" 30 ||
    fail "never trusted: $(get /v1/devices)"
wait_for "get /v1/devices | jq -e '.devices[] | select(.udid == \"$fresh\") | .trust == \"not-paired\"' > /dev/null" 30 ||
    fail "the unpaired device: $(get /v1/devices)"

trace "runs before any: says so"
lq runs
expect_eq "$rc" 0 "runs"
grep -q '^no runs' "$T/out" || fail "runs: $(cat "$T/out")"

trace "ports, and a port label set and cleared"
lq ports
expect_eq "$rc" 0 "ports"
grep -q '^1-1  *-  *-  *[0-9A-F]\{8\} ' "$T/out" || fail "ports: $(cat "$T/out")"
grep -q '^1-2 .*not-paired' "$T/out" || fail "ports: $(cat "$T/out")"
lq port 1-1 --label front-left
expect_eq "$rc" 0 "port --label: $(cat "$T/err")"
grep -q '^1-1: label front-left$' "$T/out" || fail "port: $(cat "$T/out")"
lq ports
grep -q '^1-1  *front-left ' "$T/out" || fail "no label: $(cat "$T/out")"
lq --json ports
jq -e '.ports[] | select(.port == "1-1") | .label == "front-left"' \
    "$T/out" > /dev/null || fail "ports --json: $(cat "$T/out")"
lq port 1-1 --label "$(printf '%070d' 0)"
expect_eq "$rc" 2 "a long port label"
grep -q 'at most 64' "$T/err" || fail "rule not stated: $(cat "$T/err")"
lq port 1-1 --clear-label
expect_eq "$rc" 0 "port --clear-label"
lq --json ports
jq -e '.ports[] | select(.port == "1-1") | has("label") | not' \
    "$T/out" > /dev/null || fail "not cleared: $(cat "$T/out")"

trace "completion of a port from the daemon"
words="linkq -s $T/linkqd.sock port "
got=$(PATH="$BUILD:$PATH" bash -c '
	. client/linkq.bash-completion
	read -ra COMP_WORDS <<< "$1"
	COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	_linkq
	echo "${COMPREPLY[*]}"' sh "$words")
expect_eq "$got" "1-1 1-2" "ports completed"

trace "runs and show of a finished run"
lq test 1-1 --profile quick
expect_eq "$rc" 0 "test: $(cat "$T/err")"
lq runs
expect_eq "$rc" 0 "runs"
grep -q '^ *1  *quick  *done  *PASS  *100% ' "$T/out" || fail "runs: $(cat "$T/out")"
lq --json runs
jq -e '.runs[0].id == 1 and .runs[0].verdict == "PASS"' "$T/out" \
    > /dev/null || fail "runs --json: $(cat "$T/out")"
lq show 1
expect_eq "$rc" 0 "show 1"
grep -q '^run 1: quick, done' "$T/out" || fail "show: $(cat "$T/out")"
grep -q "device  *$phone" "$T/out" || fail "no device: $(cat "$T/out")"
grep -q '^  verdict  *PASS' "$T/out" || fail "no verdict: $(cat "$T/out")"
get /v1/runs/1 | jq -r '.reasons[]' > "$T/reasons"
[ -s "$T/reasons" ] || fail "run 1 has no reasons"
while read -r reason; do
	grep -qF "    $reason" "$T/out" || fail "reason '$reason' not shown"
done < "$T/reasons"
lq show 99
expect_eq "$rc" 2 "show of an unknown run"
grep -q '^linkq: run 99 ' "$T/err" || fail "message: $(cat "$T/err")"

trace "events --follow sees the dropout of a device unplugged in a run"
"$LQ" -s "$T/linkqd.sock" events --follow > "$T/follow.out" \
    2> "$T/follow.err" &
follow=$!
"$LQ" -s "$T/linkqd.sock" test 1-1 --profile wiggle > "$T/wiggle.out" \
    2>&1 &
tester=$!
wait_for "get /v1/runs | jq -e '.runs[0].id == 2 and .runs[0].bytes > 0' > /dev/null" 30 ||
    fail "the wiggle run did not start: $(cat "$T/wiggle.out")"
ctl '{"cmd":"unplug","device":"phone"}' > /dev/null
rc=0
wait "$tester" || rc=$?
expect_eq "$rc" 1 "test of an unplugged device: $(cat "$T/wiggle.out")"
wait_for "grep -q ' usbmuxd  *dropout .*run 2: the device left' '$T/follow.out'" 20 ||
    fail "no dropout followed: $(cat "$T/follow.out" "$T/follow.err")"
kill -INT "$follow"
rc=0
wait "$follow" || rc=$?
expect_eq "$rc" 0 "events --follow after Ctrl-C: $(cat "$T/follow.err")"

trace "events: the dropout, as text and JSON; --since skips it"
lq events
expect_eq "$rc" 0 "events"
grep -q '^[0-9-]* [0-9:.]*  *[0-9]* usbmuxd  *dropout  *port 1-1, cable none attachment [0-9]* run 2: ' \
    "$T/out" || fail "events: $(cat "$T/out")"
lq --json events
id=$(jq -r 'select(.kind == "dropout") | .id' "$T/out")
[ -n "$id" ] || fail "events --json: $(cat "$T/out")"
jq -e -s 'all(.[]; .ts_us > 0 and .source and .kind)' "$T/out" \
    > /dev/null || fail "events --json: $(cat "$T/out")"
lq events --since "$id"
expect_eq "$rc" 0 "events --since"
if grep -q 'dropout.*run 2' "$T/out"; then
	fail "--since $id shows event $id"
fi

trace "show: the run's reasons and its events as a timeline"
lq show 2
expect_eq "$rc" 0 "show 2"
grep -q '^  verdict  *FAIL' "$T/out" || fail "show 2: $(cat "$T/out")"
grep -q '^    the device dropped out' "$T/out" || fail "no reason: $(cat "$T/out")"
sed -n '/^events:/,$p' "$T/out" | grep -q '^  [0-9-]* [0-9:.]*  *+[0-9.]*s usbmuxd  *dropout ' ||
    fail "no timeline: $(cat "$T/out")"
lq --json show 2
jq -e '.id == 2 and (.events | length) >= 1 and all(.events[]; .run_id == 2)' \
    "$T/out" > /dev/null || fail "show --json: $(cat "$T/out")"

# Wait until the simulator's device $1 shows its Trust prompt for
# linkqd's pairing request: usbmuxd's preflight shows it at plug time
# already.
wait_prompt() {
	wait_for "ctl '{\"cmd\":\"status\"}' | jq -e '.devices[] | select(.device == \"$1\") | .trust_prompt and .pair_requests > 0' > /dev/null" 20 ||
	    fail "no Trust prompt on $1: $(cat "$T/pair.out" "$T/pair.err")"
}

trace "pair: no device on a port, exit 3"
lq pair 1-3
expect_eq "$rc" 3 "pair on an empty port"
grep -q '^linkq: no device on port 1-3' "$T/err" || fail "message: $(cat "$T/err")"

trace "pair: the only device, the Trust prompt accepted"
"$LQ" -s "$T/linkqd.sock" pair > "$T/pair.out" 2> "$T/pair.err" &
pairer=$!
wait_prompt fresh
grep -q "^pairing $fresh on port 1-2: unlock the phone and tap Trust" \
    "$T/pair.out" || fail "not told: $(cat "$T/pair.out")"
ctl '{"cmd":"trust","device":"fresh","accept":true}' > /dev/null
rc=0
wait "$pairer" || rc=$?
expect_eq "$rc" 0 "pair accepted: $(cat "$T/pair.out" "$T/pair.err")"
grep -q "^paired: $fresh trusts this host" "$T/pair.out" ||
    fail "pair: $(cat "$T/pair.out")"
get /v1/devices | jq -e ".devices[] | select(.udid == \"$fresh\") | .trust == \"trusted\"" \
    > /dev/null || fail "not trusted: $(get /v1/devices)"
lq pair -u "$fresh"
expect_eq "$rc" 0 "pair of a trusted device"
grep -q 'already trusts' "$T/out" || fail "pair again: $(cat "$T/out")"

trace "pair: two devices need a choice; Don't Trust gives exit 1"
ctl '{"cmd":"plug","device":"shy","port":"c","cable":"c3"}' > /dev/null
wait_for "get /v1/devices | jq -e '.devices[] | select(.udid == \"$shy\") | .trust == \"not-paired\"' > /dev/null" 30 ||
    fail "the shy device: $(get /v1/devices)"
lq pair
expect_eq "$rc" 2 "pair with two devices"
grep -q 'several devices' "$T/err" || fail "message: $(cat "$T/err")"
"$LQ" -s "$T/linkqd.sock" pair 1-3 > "$T/pair.out" 2> "$T/pair.err" &
pairer=$!
wait_prompt shy
ctl '{"cmd":"trust","device":"shy","accept":false}' > /dev/null
rc=0
wait "$pairer" || rc=$?
expect_eq "$rc" 1 "pair declined: $(cat "$T/pair.out" "$T/pair.err")"
grep -q "^linkq: $shy was not paired: Don't Trust" "$T/pair.err" ||
    fail "message: $(cat "$T/pair.err")"

trace "pair with no device attached: exit 3"
ctl '{"cmd":"unplug","device":"fresh"}' > /dev/null
ctl '{"cmd":"unplug","device":"shy"}' > /dev/null
wait_for "get /v1/status | jq -e '.devices_attached == 0' > /dev/null" 20 ||
    fail "the devices did not leave"
lq pair
expect_eq "$rc" 3 "pair with no device"
grep -q '^linkq: no device attached' "$T/err" || fail "message: $(cat "$T/err")"
lq pair -u "$shy"
expect_eq "$rc" 3 "pair of an unplugged device"

trace "the daemon down: one line, exit 2"
stop_linkqd
for c in events runs "show 1" pair ports "port 1-1 --clear-label"; do
	# shellcheck disable=SC2086 # the command and its arguments
	lq $c
	expect_eq "$rc" 2 "$c with no daemon"
	grep -q '^linkq: cannot reach linkqd' "$T/err" || fail "$c: $(cat "$T/err")"
done
stop_sim
