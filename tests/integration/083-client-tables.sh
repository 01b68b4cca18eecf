#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# The client's tables and statuses (issue 18, item 5): on a terminal
# (script(1)'s pseudo-terminal) 50, 80 and 200 columns wide, and with
# COLUMNS, report, runs, ports, cables, status, show, events and -h
# print no line longer than the width, and report, runs, ports and
# cables lose no character: the same ones as in a pipe, where each row
# is one line, whatever COLUMNS says. --json of each command parses and
# has format_version; linkqd's own JSON has no 17-digit reals; qualify
# exits with its bits: 0 PASS, 1 usage, 2 no device, 8 FAIL.

. "$(dirname "$0")/lib.sh"

LQ="$BUILD/linkq"

cat > "$T/bench.scn" <<'SCN'
device phone
port a path=1-1
cable c1 label=C-01
cable c3 label=C-03-with-a-long-label corrupt-per-mb=2
at 0s plug phone a c1
SCN
start_sim --control "$T/control" "$T/bench.scn"
udid=$(sim_udid phone)
# quick keeps its duration: 3 s here, not 30.
quick_conf "$T/linkqd.conf"
start_linkqd "$T/linkqd.conf"
wait_trusted "$udid"

trace "qualify: PASS is 0, FAIL bit 3 (8), with --json documents"
lq port 1-1 --label "front left, by the window"
expect_eq "$rc" 0 "port --label: $(cat "$T/err")"
lq qualify -u "$udid" --profile quick --cable C-01
expect_eq "$rc" 0 "qualify on a good cable: $(cat "$T/out" "$T/err")"
att=$(get /v1/devices | jq -r ".devices[] | select(.udid == \"$udid\") | .attachment_id")
ctl '{"cmd":"move","device":"phone","port":"a","cable":"c3"}' > /dev/null
wait_for "get /v1/devices | jq -e '.devices[] | select(.udid == \"$udid\" and .attached and .attachment_id != $att and .trust == \"trusted\")' > /dev/null" 30 ||
    fail "the phone is not back: $(get /v1/devices)"
lq --json qualify -u "$udid" --profile quick --cable C-03-with-a-long-label
expect_eq "$rc" 8 "qualify on a corrupting cable: $(cat "$T/out" "$T/err")"
jq -se 'length > 0 and all(.format_version == 1)' "$T/out" > /dev/null ||
    fail "qualify --json: $(cat "$T/out")"
run=$(get '/v1/runs?limit=1' | jq -r '.runs[0].id')

trace "qualify: a usage error is bit 0 (1)"
lq qualify --max-age soon
expect_eq "$rc" 1 "a bad --max-age"
lq qualify --bogus
expect_eq "$rc" 1 "an unknown option"

trace "linkqd's JSON: reals with 6 significant digits, not 17"
get "/v1/runs/$run" > "$T/run.json"
jq -e '.cp_upper > 0' "$T/run.json" > /dev/null ||
    fail "no bound to print: $(cat "$T/run.json")"
# Each real's significant digits: the dot and leading zeros out.
grep -oE '[0-9]+\.[0-9]+' "$T/run.json" | tr -d . | sed 's/^0*//' |
    awk 'length($0) > 6 { print; bad = 1 } END { exit bad }' > "$T/long" ||
    fail "reals with more than 6 digits: $(cat "$T/long") in $(cat "$T/run.json")"
grep -q '"faults_per_minute_upper":[0-9]' "$T/run.json" ||
    fail "no real to check: $(cat "$T/run.json")"

for c in "report" "report --by port" "runs" "ports" "cables"; do
	lq $c
	expect_eq "$rc" 0 "$c in a pipe: $(cat "$T/err")"
	cp "$T/out" "$T/pipe"
	for w in 50 80 200; do
		trace "$c, $w columns: every line fits, no character lost"
		lq_tty "$w" "$c"
		expect_fits "$T/tty" "$w" "$c"
		expect_same_chars "$T/pipe" "$T/tty" "$c in $w columns"
	done
done

trace "report: the failure counts on a 50-column terminal"
lq --json report --by cable
failures=$(jq -r '.rows[] | select(.cable == "C-03-with-a-long-label") | .failures' "$T/out")
[ "${failures:-0}" -gt 0 ] || fail "C-03 has no failures: $(cat "$T/out")"
lq_tty 50 report --by cable
grep -Eq "(^| )$failures( |\$)" "$T/tty" ||
    fail "$failures failures not shown: $(cat "$T/tty")"
grep -q "0/0/1" "$T/tty" || fail "P/M/F not shown: $(cat "$T/tty")"

trace "in a pipe, whole rows whatever COLUMNS says"
COLUMNS=50 "$LQ" -s "$T/linkqd.sock" report --by cable > "$T/pipe"
grep -Eq "^C-03-with-a-long-label +FAIL +1 +0/0/1 +[0-9]+ +$failures " "$T/pipe" ||
    fail "the C-03 row is not one line: $(cat "$T/pipe")"
awk 'length($0) > 80 { n++ } END { exit n == 0 }' "$T/pipe" ||
    fail "the table was fitted in a pipe: $(cat "$T/pipe")"

trace "COLUMNS on a terminal wins over its size"
script -qec "stty cols 200 rows 50; COLUMNS=50 '$LQ' -s '$T/linkqd.sock' report" \
    /dev/null < /dev/null | tr -d '\r' | sed 's/\x1b\[[0-9;]*[A-Za-z]//g' > "$T/tty"
expect_fits "$T/tty" 50 "COLUMNS=50"

trace "status, show, events and -h fit too"
for c in "status" "show $run" "events" "qualify -h" "drawer -h"; do
	for w in 50 80; do
		lq_tty "$w" "$c"
		expect_fits "$T/tty" "$w" "$c"
	done
done

trace "--json of each command: it parses and has format_version 1"
for c in "status" "cables" "ports" "runs" "show $run" "events" "report" \
    "report --by port" "port 1-1 --label front" "cable 1-1 C-09" \
    "pair -u $udid"; do
	lq --json $c
	expect_eq "$rc" 0 "$c --json: $(cat "$T/err")"
	jq -se 'length > 0 and all(.format_version == 1)' "$T/out" \
	    > /dev/null || fail "$c --json: $(cat "$T/out")"
	# The option after the command too.
	lq $c --json
	jq -se 'length > 0 and all(.format_version == 1)' "$T/out" \
	    > /dev/null || fail "$c --json: $(cat "$T/out")"
done

lq --json watch -u "$udid" -- true
expect_eq "$rc" 0 "watch --json: $(cat "$T/err")"
jq -se 'length > 0 and all(.format_version == 1)' "$T/out" > /dev/null ||
    fail "watch --json: $(cat "$T/out")"

trace "qualify with no device: bit 1 (2)"
ctl '{"cmd":"unplug","device":"phone"}' > /dev/null
wait_for "get /v1/status | jq -e '.devices_attached == 0' > /dev/null" 20 ||
    fail "the device did not leave"
lq qualify --profile quick --no-wait
expect_eq "$rc" 2 "qualify with no device: $(cat "$T/err")"

stop_linkqd
stop_sim
