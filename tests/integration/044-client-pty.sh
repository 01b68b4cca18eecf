#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# linkq test's progress on a terminal: under a pseudo-terminal (script(1)
# of util-linux) 40 columns wide, the progress line is redrawn in place
# with carriage returns, never runs past the 40th column (a wrapped line
# cannot be redrawn), and the run ends with its verdict.

. "$(dirname "$0")/lib.sh"

LQ="$BUILD/linkq"

start_sim --control "$T/control"
udid=$(sim_udid phone)
# quick keeps its duration: 3 s here, not 30.
printf '[profile quick]\nduration = 3s\n' > "$T/quick.conf"
start_linkqd "$T/quick.conf"
wait_for "get /v1/devices | jq -e '.devices[] | select(.udid == \"$udid\") | .trust == \"trusted\"' > /dev/null" 30 ||
    fail "never trusted: $(get /v1/devices)"

trace "linkq test --profile quick on a 40-column terminal"
rc=0
script -qec "stty cols 40 rows 24; '$LQ' -s '$T/linkqd.sock' test -u '$udid' --profile quick" \
    /dev/null < /dev/null > "$T/tty.out" 2> "$T/tty.err" || rc=$?
expect_eq "$rc" 0 "script: $(cat "$T/tty.err")"

# The screen's lines: split at \r and \n, colours and erase codes out.
tr '\r' '\n' < "$T/tty.out" | sed 's/\x1b\[[0-9;]*[A-Za-z]//g' > "$T/lines"
[ "$(grep -c '^run [0-9]* quick ' "$T/lines")" -ge 2 ] ||
    fail "not redrawn: $(cat -A "$T/tty.out" | head -c 600)"
grep -q "$(printf '\r')run [0-9]* quick" "$T/tty.out" ||
    fail "no carriage return before a redraw: $(cat -A "$T/tty.out" | head -c 600)"
awk 'length($0) > 40 { print; bad = 1 } END { exit bad }' "$T/lines" ||
    fail "a line longer than 40 columns: $(cat -A "$T/tty.out" | head -c 600)"
last=$(grep -v '^ *$' "$T/lines" | grep -v '^  ' | tail -n 1)
expect_eq "$last" "PASS" "the last line but the reasons"
stop_linkqd
stop_sim
