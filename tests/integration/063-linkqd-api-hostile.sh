#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# The control API against hostile and broken clients: a SIGHUP reload
# leaves the status intact (the reload used to free the database path
# the API showed: heap-use-after-free under ASan); run ids are parsed
# strictly (+1, 01, 1x, " 1", -1 and an overflow are no run 1); the
# errors libevent would answer itself in HTML (a malformed request line,
# an unknown method, a huge Content-Length, an oversized head) come in
# the JSON shape; a connection carries one request; a client that sends
# nothing, half a head, half a body or a head a byte at a time is
# dropped after the [daemon] client-timeout, while a progress stream
# outlives it; 1,000 clients at a descriptor limit of 128 neither make
# linkqd spin nor flood its log, and it serves again once they are gone.

. "$(dirname "$0")/lib.sh"

# A short client timeout; a run that streams its progress for longer.
LINKQD_DAEMON='client-timeout = 2s'
cat > "$T/linkqd.conf" <<'CONF'
[profile quick]
duration = 5s
bulk = 16M

[verdict]
min-bulk = 16M
CONF
start_sim --control "$T/control"
start_linkqd "$T/linkqd.conf"

# Send standard input to linkqd on a connection of its own; the answer
# in $T/reply, lq-raw's exit status in $rc (0: linkqd closed it).
raw() {
	rc=0
	"$BUILD/tests/tools/lq-raw" -t 30000 "$T/linkqd.sock" > "$T/reply" ||
	    rc=$?
}

# An error answer: its status line code is $1 and its body the one JSON
# error shape with that status; the answer is in $T/reply.
expect_json_error() {
	head -n 1 "$T/reply" | grep -q "^HTTP/1.1 $1 " ||
	    fail "expected a $1: $(cat "$T/reply")"
	sed '1,/^\r*$/d' "$T/reply" | jq -e ".error.status == $1 and
	    (.error.message | length > 0)" > /dev/null ||
	    fail "not the JSON error shape: $(cat "$T/reply")"
}

trace "SIGHUP reloads; the status still shows the database"
kill -HUP "$LINKQD_PID"
wait_for "grep -q 'reload: configuration' '$T/linkqd.err'" 10 ||
    fail "no reload: $(tail -n 5 "$T/linkqd.err")"
get /v1/status > "$T/status"
expect_eq "$(jq -r .db "$T/status")" "$T/linkq.db" "the database after HUP"
kill -HUP "$LINKQD_PID"
wait_for "[ \$(grep -c 'reload: configuration' '$T/linkqd.err') = 2 ]" 10 ||
    fail "no second reload: $(tail -n 5 "$T/linkqd.err")"
lq status
expect_eq "$rc" 0 "linkq status after two reloads: $(cat "$T/err")"
grep -q '^linkqd .*usbmuxd connected' "$T/out" ||
    fail "linkq status: $(cat "$T/out")"
lq status --json
expect_eq "$(jq -r .db "$T/out")" "$T/linkq.db" "linkq status --json .db"

trace "run ids in their one decimal form; nothing else is run 1"
for id in +1 01 1x %201 -1 0 99999999999999999999 0x1; do
	for path in "/v1/runs/$id" "/v1/runs/$id/progress"; do
		api GET "$path" > "$T/out"
		expect_eq "$(tail -n 1 "$T/out")" 400 "GET $path"
		head -n 1 "$T/out" | jq -e '.error.status == 400 and
		    (.error.message | test("bad run id"))' > /dev/null ||
		    fail "GET $path: $(cat "$T/out")"
	done
	api POST "/v1/runs/$id/cancel" > "$T/out"
	expect_eq "$(tail -n 1 "$T/out")" 400 "POST /v1/runs/$id/cancel"
	api DELETE "/v1/runs/$id" > "$T/out"
	expect_eq "$(tail -n 1 "$T/out")" 400 "DELETE /v1/runs/$id"
done
api GET /v1/runs/1 > "$T/out"
expect_eq "$(tail -n 1 "$T/out")" 404 "GET /v1/runs/1 with no runs"
api GET '/v1/events?since=+1' > "$T/out"
expect_eq "$(tail -n 1 "$T/out")" 400 "GET /v1/events?since=+1"

trace "what evhttp would refuse in HTML is refused in JSON"
printf 'FOO /v1/status HTTP/1.1\r\n\r\n' | raw
expect_json_error 501
printf 'GET\r\n\r\n' | raw
expect_json_error 400
printf 'GET /v1/status HTTP/9.9\r\n\r\n' | raw
expect_json_error 400
printf 'GET /v1/status HTTP/1.1\r\nno colon here\r\n\r\n' | raw
expect_json_error 400
printf 'POST /v1/runs HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n' | raw
expect_json_error 413
printf 'POST /v1/runs HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n' | raw
expect_json_error 411
{ printf 'GET /v1/status HTTP/1.1\r\nX-Big: '; head -c 9000 /dev/zero |
    tr '\0' a; printf '\r\n\r\n'; } | raw
expect_json_error 431
printf 'PATCH /v1/status HTTP/1.1\r\n\r\n' | raw
expect_json_error 405
printf 'HEAD /v1/status HTTP/1.1\r\n\r\n' | raw
head -n 1 "$T/reply" | grep -q '^HTTP/1.1 405 ' || fail "HEAD: $(cat "$T/reply")"

trace "one request per connection: a second one is not read"
printf 'GET /v1/status HTTP/1.1\r\n\r\nGET /v1/x HTTP/1.1\r\n\r\n' | raw
expect_eq "$rc" 0 "two requests on one connection"
expect_eq "$(grep -c '^HTTP/1.1 ' "$T/reply")" 1 "answers to two requests"

trace "clients that send nothing, half a head, half a body, or dribble"
i=0
pids=
for req in '' 'GET /v1/status HTTP/1.1\r\nHost: x' \
    'POST /v1/runs HTTP/1.1\r\nContent-Length: 10\r\n\r\n{}'; do
	i=$((i + 1))
	# shellcheck disable=SC2059
	{ printf "$req" | "$BUILD/tests/tools/lq-raw" -t 30000 \
	    "$T/linkqd.sock" > "$T/stuck$i"; echo $? > "$T/stuck$i.rc"; } &
	pids="$pids $!"
done
# A whole head, dribbled a byte each 100 ms: it keeps coming, 10 s long.
{ printf 'GET /v1/status HTTP/1.1\r\nX-Slow: %s\r\n\r\n' \
    "$(head -c 60 /dev/zero | tr '\0' a)" | "$BUILD/tests/tools/lq-raw" \
    -i 100 -t 30000 "$T/linkqd.sock" > "$T/stuck4"
    echo $? > "$T/stuck4.rc"; } &
pids="$pids $!"
# shellcheck disable=SC2086
wait $pids
for i in 1 2 3 4; do
	expect_eq "$(cat "$T/stuck$i.rc")" 0 "stuck client $i closed by linkqd"
	[ ! -s "$T/stuck$i" ] || fail "stuck client $i got $(cat "$T/stuck$i")"
done

trace "a progress stream outlives the client timeout"
udid=$(get /v1/devices | jq -r '.devices[0].udid')
wait_trusted "$udid"
lq test -u "$udid" --profile quick
expect_eq "$rc" 0 "linkq test, 5 s of progress: $(cat "$T/err")"
grep -q '^PASS$' "$T/out" || fail "no verdict streamed: $(cat "$T/out")"

trace "1,000 clients at a descriptor limit of 128: no spin, no flood"
# utime + stime of linkqd, in clock ticks.
cpu_ticks() {
	sed 's/^.*) //' "/proc/$LINKQD_PID/stat" | awk '{ print $12 + $13 }'
}
prlimit --pid "$LINKQD_PID" --nofile=128:128
lines=$(wc -l < "$T/linkqd.err")
ticks=$(cpu_ticks)
start=$(date +%s%N)
"$BUILD/tests/tools/lq-flood" -n 1000 -t 6000 "$T/linkqd.sock" > "$T/flood"
ticks=$(($(cpu_ticks) - ticks))
wall=$(($(date +%s%N) - start))
trace "$(cat "$T/flood"); linkqd used $ticks ticks in $((wall / 1000000)) ms"
tail -n +"$((lines + 1))" "$T/linkqd.err" > "$T/flood.log"
grep -q 'cannot accept clients (Too many open files)' "$T/flood.log" ||
    fail "linkqd never reached its limit: $(tail -n 5 "$T/flood.log")"
# A spin costs as much CPU time as the loaded machine gives it (a
# quarter of the wall time and more); a pause at the limit, almost none.
[ $((ticks * 1000000000 / $(getconf CLK_TCK))) -lt $((wall / 10)) ] ||
    fail "linkqd spun: $ticks ticks over $((wall / 1000000)) ms"
[ "$(grep -c 'accept' "$T/flood.log")" -le 10 ] ||
    fail "the log floods: $(grep -c accept "$T/flood.log") lines"
wait_for "grep -q 'accepting clients again' '$T/linkqd.err'" 30 ||
    fail "linkqd does not accept again: $(tail -n 5 "$T/linkqd.err")"
api GET /v1/status > "$T/out"
expect_eq "$(tail -n 1 "$T/out")" 200 "status after the flood"

stop_linkqd
stop_sim
