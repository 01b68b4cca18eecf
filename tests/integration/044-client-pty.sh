#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# linkq test's progress on a terminal: under a pseudo-terminal (script(1)
# of util-linux) 40 columns wide, the progress line is redrawn in place
# with carriage returns, never runs past the 40th column (a wrapped line
# cannot be redrawn), and the run ends with its verdict. After a replug
# the cable is unconfirmed: on a terminal linkq test asks which it is,
# offering the last (Enter takes it) or taking a label typed; in a pipe
# it asks nothing and the run is charged to no cable.

. "$(dirname "$0")/lib.sh"

LQ="$BUILD/linkq"

start_sim --control "$T/control"
udid=$(sim_udid phone)
# quick keeps its duration: 3 s here, not 30.
quick_conf "$T/quick.conf"
start_linkqd "$T/quick.conf"
wait_for "get /v1/devices | jq -e '.devices[] | select(.udid == \"$udid\") | .trust == \"trusted\"' > /dev/null" 30 ||
    fail "never trusted: $(get /v1/devices)"

trace "linkq test --profile quick on a 40-column terminal"
rc=0
script -qec "stty cols 40 rows 24; '$LQ' -s '$T/linkqd.sock' test -u '$udid' --profile quick --cable A-01" \
    /dev/null < /dev/null > "$T/tty.out" 2> "$T/tty.err" || rc=$?
expect_eq "$rc" 0 "script: $(cat "$T/tty.err")"

# The screen's lines: split at \r and \n, colours and erase codes out.
tr '\r' '\n' < "$T/tty.out" | sed 's/\x1b\[[0-9;]*[A-Za-z]//g' > "$T/lines"
# 40 columns keep the run, percent and counts; the profile may go.
[ "$(grep -c '^run [0-9]*  *[0-9]*% probes [0-9]* failures [0-9]*' "$T/lines")" -ge 2 ] ||
    fail "not redrawn: $(cat -A "$T/tty.out" | head -c 600)"
grep -q "$(printf '\r')run [0-9]* " "$T/tty.out" ||
    fail "no carriage return before a redraw: $(cat -A "$T/tty.out" | head -c 600)"
expect_fits "$T/lines" 40 "linkq test"
last=$(grep -v '^ *$' "$T/lines" | grep -v '^  ' | tail -n 1)
expect_eq "$last" "PASS" "the last line but the reasons"

# The newest run's cable label, or nothing.
run_cable() {
	sql "SELECT ifnull(c.label, '') FROM runs r JOIN attachments a ON a.id = r.attachment_id LEFT JOIN cables c ON c.id = a.cable_id ORDER BY r.id DESC LIMIT 1"
}

# Replug the phone and wait for its new attachment.
replug() {
	att=$(get /v1/devices | jq -r ".devices[] | select(.udid == \"$udid\") | .attachment_id")
	ctl '{"cmd":"unplug","device":"phone"}' > /dev/null
	ctl "{\"cmd\":\"plug\",\"device\":\"phone\",\"port\":\"$port\",\"cable\":\"sim-good\"}" > /dev/null
	wait_for "get /v1/devices | jq -e '.devices[] | select(.udid == \"$udid\" and .attached and .attachment_id != $att and .trust == \"trusted\")' > /dev/null" 30 ||
	    fail "the phone is not back: $(get /v1/devices)"
}

trace "after a replug linkq test asks which cable, offering the last"
port=1-1		# the default scenario's port, named as its path
replug
get /v1/devices | jq -e ".devices[] | select(.udid == \"$udid\") | (has(\"cable\") | not) and .last_cable == \"A-01\"" > /dev/null ||
    fail "the replugged phone's cable: $(get /v1/devices)"
rc=0
printf '\n' | script -qec "'$LQ' -s '$T/linkqd.sock' test -u '$udid' --profile quick" \
    /dev/null > "$T/ask.out" 2> "$T/ask.err" || rc=$?
expect_eq "$rc" 0 "script: $(cat "$T/ask.err" "$T/ask.out")"
grep -q "Which cable is in $port? Enter for A-01, - for none:" "$T/ask.out" ||
    fail "no question: $(cat -A "$T/ask.out" | head -c 600)"
expect_eq "$(run_cable)" A-01 "Enter takes the last cable"

trace "a label typed is the cable; off a terminal nothing is asked"
replug
rc=0
printf 'P-02\n' | script -qec "'$LQ' -s '$T/linkqd.sock' test -u '$udid' --profile quick" \
    /dev/null > "$T/ask.out" 2> "$T/ask.err" || rc=$?
expect_eq "$rc" 0 "script: $(cat "$T/ask.err" "$T/ask.out")"
expect_eq "$(run_cable)" P-02 "the label typed"
replug
rc=0
"$LQ" -s "$T/linkqd.sock" test -u "$udid" --profile quick < /dev/null \
    > "$T/plain.out" 2>&1 || rc=$?
expect_eq "$rc" 0 "linkq test in a pipe: $(cat "$T/plain.out")"
grep -q "Which cable" "$T/plain.out" && fail "asked in a pipe: $(cat "$T/plain.out")"
expect_eq "$(run_cable)" "" "no cable charged without an answer"
stop_linkqd
stop_sim
