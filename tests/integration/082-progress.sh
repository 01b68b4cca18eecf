#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# Live progress that is true (issue 18, item 6). A fixed-duration run
# (4 s) through a cable capped at 16 MB/s, whose bulk slices take
# seconds, followed with --json: the percentage never goes back, is
# never ahead of the duration's share and is 100 only on the end line;
# there is an eta, and every one adds up with the elapsed time to the
# duration at least (a slice that outlasts it adds to it);
# the end line's probes, failures, bulk bytes and mean bulk rate are
# the store's totals. On a 50-column terminal the line keeps the
# failure count. A dropout in the middle of a bulk probe: the end line
# counts what the store records, and the run cut short is not at 100%.
# After a restart, cancel, stop and progress of an old run say it has
# ended, with its state and verdict, from the store.

. "$(dirname "$0")/lib.sh"

LQ="$BUILD/linkq"

cat > "$T/bench.scn" <<'SCN'
device phone
port a path=1-1
cable c1 cap-mbps=16
at 0s plug phone a c1
SCN
printf '%s\n' '[profile quick]' 'duration = 4s' 'bulk = 16M' '' \
    '[profile soak]' 'kinds = bulk' 'duration = 60s' 'bulk = 16M' \
    'chunk = 1M' '' \
    '[verdict]' 'min-bulk = 16M' > "$T/linkqd.conf"
start_sim --control "$T/control" "$T/bench.scn"
udid=$(sim_udid phone)
start_linkqd "$T/linkqd.conf"
wait_trusted "$udid"

trace "a 4 s run followed with --json"
lq test -u "$udid" --profile quick --json
expect_eq "$rc" 0 "test: $(cat "$T/err")"
jq -c 'select(.type == "progress" or .type == "end")' "$T/out" \
    > "$T/stream" || fail "not JSON lines: $(cat "$T/out")"
jq -c 'select(.type == "end")' "$T/stream" > "$T/end"
expect_eq "$(wc -l < "$T/end")" 1 "end lines: $(cat "$T/stream")"
[ "$(jq -s 'length' "$T/stream")" -ge 3 ] ||
    fail "too few progress lines: $(cat "$T/stream")"
id=$(jq -r .id "$T/end")

# Monotone, below 100 while running, 100 at the end of a run through.
jq -se '[.[].percent] as $p |
    all(range(1; $p | length); $p[.] >= $p[. - 1])' "$T/stream" \
    > /dev/null || fail "the percentage went back: $(jq -c .percent "$T/stream")"
jq -se 'all(.[] | select(.type == "progress"); .percent < 100)' \
    "$T/stream" > /dev/null ||
    fail "100% before the end: $(jq -c .percent "$T/stream")"
jq -e '.percent == 100 and .state == "done" and .eta_ms == null and
    .elapsed_ms >= 4000 and .last_mb_s == null' "$T/end" > /dev/null ||
    fail "the end line: $(cat "$T/end")"

# The eta: never before the duration.
jq -se 'all(.[] | select(.eta_ms != null); .elapsed_ms + .eta_ms >= 4000)' \
    "$T/stream" > /dev/null ||
    fail "an eta before the duration: $(jq -c '[.elapsed_ms, .eta_ms]' "$T/stream")"
# Exactly it where nothing else is later: slow builds make the bulk
# slices outlast it (run-plan's unit test has the exact case).
jq -se 'any(.[]; .type == "progress" and .eta_ms != null)' \
    "$T/stream" > /dev/null ||
    fail "no eta at all: $(jq -c '[.elapsed_ms, .eta_ms]' "$T/stream")"
# The percentage is the duration's share (bytes may hold it back).
jq -se 'all(.[] | select(.type == "progress");
    .percent <= (100 * .elapsed_ms / 4000 + 1))' "$T/stream" > /dev/null ||
    fail "percent ahead of the duration: $(jq -c '[.percent, .elapsed_ms]' "$T/stream")"

trace "the end line's numbers are the store's"
run=$(wait_run "$id")
wait_sql "SELECT total_probes || ' ' || total_failures || ' ' || total_bulk_bytes FROM runs WHERE id = $id" \
    "$(jq -r '"\(.probes) \(.failures) \(.bulk_bytes)"' "$T/end")"
echo "$run" | jq -e --slurpfile e "$T/end" '.probes == $e[0].probes and
    .failures == $e[0].failures' > /dev/null ||
    fail "the run says $(echo "$run" | jq -c '[.probes, .failures]'), its end line $(jq -c '[.probes, .failures]' "$T/end")"
stored=$(sql "SELECT total_bulk_bytes * 1.0 / total_bulk_us FROM runs WHERE id = $id")
# The client prints 6 significant digits.
jq -e --arg s "$stored" '.mb_s > 0 and
    ((.mb_s - ($s | tonumber)) / .mb_s | if . < 0 then -. else . end) < 1e-5' \
    "$T/end" > /dev/null ||
    fail "mean bulk rate $(jq .mb_s "$T/end"), the store's $stored"
# While running, the last second's rate is its own field.
jq -se 'any(.[]; .type == "progress" and .last_mb_s != null)' \
    "$T/stream" > /dev/null || fail "no last second's rate: $(cat "$T/stream")"

# COLUMNS=50 on a terminal 200 wide: the line fits COLUMNS, as tables do
# (044 checks the terminal's own width).
trace "50 columns (COLUMNS) keep the failure count"
rc=0
script -qec "stty cols 200 rows 24; COLUMNS=50 '$LQ' -s '$T/linkqd.sock' test -u '$udid' --profile quick" \
    /dev/null < /dev/null > "$T/tty.out" 2> "$T/tty.err" || rc=$?
expect_eq "$rc" 0 "script: $(cat "$T/tty.err")"
tr '\r' '\n' < "$T/tty.out" | sed 's/\x1b\[[0-9;]*[A-Za-z]//g' |
    grep '^run ' > "$T/lines"
[ -s "$T/lines" ] || fail "no progress line: $(cat -A "$T/tty.out" | head -c 600)"
awk 'length($0) > 49 || $0 !~ / failures [0-9]+/ { print; bad = 1 }
    END { exit bad }' "$T/lines" ||
    fail "a line cut or too wide: $(cat "$T/lines")"
grep -Eq '^run [0-9]+ (quick )?(done )?100% probes [0-9]+ failures 0' "$T/lines" ||
    fail "the line does not end on the run's end: $(cat "$T/lines")"

trace "a dropout in a bulk probe: the end line counts what is recorded"
sid=$(start_run "$udid" soak)
curl -sS -N --unix-socket "$T/linkqd.sock" \
    "http://linkq/v1/runs/$sid/progress" > "$T/soak" 2>&1 &
curl_pid=$!
wait_for "get /v1/runs/$sid | jq -e '.bytes > .bulk_bytes' > /dev/null" 30 ||
    fail "no bulk probe in flight: $(get "/v1/runs/$sid")"
ctl '{"cmd":"unplug","device":"phone"}' > /dev/null
wait_for "! kill -0 $curl_pid 2>/dev/null" 30 ||
    fail "the progress stream did not end: $(tail -n 2 "$T/soak")"
wait "$curl_pid" || :
jq -c 'select(.type == "end")' "$T/soak" > "$T/soak-end"
jq -e '.state == "done" and .verdict == "FAIL" and .percent < 100' \
    "$T/soak-end" > /dev/null || fail "the dropout's end: $(cat "$T/soak-end")"
wait_sql "SELECT total_probes || ' ' || total_failures FROM runs WHERE id = $sid" \
    "$(jq -r '"\(.probes) \(.failures)"' "$T/soak-end")"

trace "after a restart, an old run has ended, says its state and verdict"
stop_linkqd
start_linkqd "$T/linkqd.conf"
for req in "POST /v1/runs/$id/cancel" "DELETE /v1/runs/$id" \
    "POST /v1/runs/$id/stop"; do
	# shellcheck disable=SC2086
	api $req > "$T/reply"
	expect_eq "$(tail -n 1 "$T/reply")" 409 "$req: $(cat "$T/reply")"
	head -n 1 "$T/reply" | jq -e '.error.message | test("has already ended \\(done, verdict PASS\\)")' \
	    > /dev/null || fail "$req: $(cat "$T/reply")"
done
get "/v1/runs/$id/progress" > "$T/old"
expect_eq "$(jq -s length "$T/old")" 1 "lines of an old run's progress: $(cat "$T/old")"
jq -e --slurpfile e "$T/end" '.type == "end" and .state == "done" and
    .verdict == "PASS" and .probes == $e[0].probes' "$T/old" > /dev/null ||
    fail "an old run's progress: $(cat "$T/old")"
api POST /v1/runs/9999/cancel > "$T/reply"
expect_eq "$(tail -n 1 "$T/reply")" 404 "a run never recorded: $(cat "$T/reply")"
head -n 1 "$T/reply" | jq -e '.error.message | test("never recorded")' > /dev/null ||
    fail "a run never recorded: $(cat "$T/reply")"

stop_linkqd
stop_sim
