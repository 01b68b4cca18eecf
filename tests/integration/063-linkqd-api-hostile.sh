#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# The control API against hostile and broken clients: a SIGHUP reload
# leaves the status intact (the reload used to free the database path
# the API showed: heap-use-after-free under ASan); run ids are parsed
# strictly (+1, 01, 1x, " 1", -1 and an overflow are no run 1); the
# errors libevent would answer itself in HTML (a malformed request line,
# an unknown method, a huge Content-Length) come in the JSON shape; a
# client that sends nothing, half a head or half a body is dropped after
# the [daemon] client-timeout; 1,000 clients at a descriptor limit of
# 128 neither make linkqd spin nor flood its log, and it serves again
# once they are gone.

. "$(dirname "$0")/lib.sh"

: > "$T/linkqd.conf"
start_sim --control "$T/control"
start_linkqd "$T/linkqd.conf"

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
