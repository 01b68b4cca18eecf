#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# What linkqd must never do and must always say: an untrusted phone gets
# no run and a status telling the user to tap Trust, and is paired only
# on an API request; a daemon killed with SIGKILL in the middle of a bulk
# transfer leaves files in /linkq/ that the next attach removes; the
# auto-test starts on attach, also after usbmuxd (the simulator) was
# killed and restarted; malformed requests get a 4xx JSON error and the
# daemon keeps serving.

. "$(dirname "$0")/lib.sh"

# usbmuxd runs without preflight (-p): a Trust prompt can then come
# only from a pairing request, which is linkqd's to refuse (051 covers
# the prompt usbmuxd's preflight raises itself).
cat > "$T/bench.scn" <<'SCN'
usbmuxd preflight=no
device phone
device fresh trust=unpaired
port a path=1-1
port b path=1-2
cable good
cable c2
at 0s plug phone a good
at 0s plug fresh b c2
SCN

# Expect request "$@" to answer HTTP $1 with the JSON error shape.
expect_error() {
	_code=$1
	shift
	api "$@" > "$T/reply" 2> "$T/curl.err" || :
	expect_eq "$(tail -n 1 "$T/reply")" "$_code" "status of $*"
	sed '$d' "$T/reply" | jq -e ".error.status == $_code and (.error.message | length) > 10" \
	    > /dev/null || fail "not the error shape: $(cat "$T/reply")"
}

trace "an untrusted phone: no run, a status saying what to do"
start_sim --control "$T/control" "$T/bench.scn"
phone=$(sim_udid phone)
fresh=$(sim_udid fresh)
# Auto-test by port: both of the bench's ports, nothing elsewhere.
printf '[auto-test]\ndefault = off\nport 1-1 = quick\nport 1-2 = quick\n%s' \
    '[profile quick]
duration = 3s
bulk = 16M

[verdict]
min-bulk = 16M
' > "$T/linkqd.conf"
start_linkqd "$T/linkqd.conf"
wait_for "get /v1/devices | jq -e '.devices[] | select(.udid == \"$fresh\") | .trust == \"not-paired\"' > /dev/null" 30 ||
    fail "the untrusted device: $(get /v1/devices)"
get /v1/devices | jq -r ".devices[] | select(.udid == \"$fresh\") | .action" |
    grep -q 'unlock the phone and tap Trust' || fail "no advice: $(get /v1/devices)"
wait_for "[ \"\$(sql \"SELECT count(*) FROM runs r JOIN attachments a ON a.id = r.attachment_id JOIN devices d ON d.id = a.device_id WHERE d.udid = '$phone' AND r.verdict = 'PASS'\")\" = 1 ]" 60 ||
    fail "the trusted phone was not auto-tested: $(get /v1/runs)"
expect_eq "$(sql "SELECT count(*) FROM runs r JOIN attachments a ON a.id = r.attachment_id JOIN devices d ON d.id = a.device_id WHERE d.udid = '$fresh'")" \
    0 "runs on the untrusted device"
expect_error 409 POST /v1/runs "{\"udid\":\"$fresh\",\"profile\":\"quick\"}"
grep -q 'tap Trust' "$T/reply" || fail "the refusal does not say what to do"
ctl '{"cmd":"status"}' | jq -e '.devices[] | select(.device == "fresh") | .trust_prompt != true' \
    > /dev/null || fail "a Trust prompt appeared without a pairing request"

trace "pairing on request, the simulated Trust, then the run"
api POST "/v1/devices/$fresh/pair" > "$T/reply"
expect_eq "$(tail -n 1 "$T/reply")" 202 "pairing request"
wait_for "get /v1/devices | jq -e '.devices[] | select(.udid == \"$fresh\") | .trust == \"pair-pending\"' > /dev/null" 20 ||
    fail "no pending pairing: $(get /v1/devices)"
ctl '{"cmd":"trust","device":"fresh","accept":true}' > /dev/null
wait_for "[ \"\$(sql \"SELECT count(*) FROM runs r JOIN attachments a ON a.id = r.attachment_id JOIN devices d ON d.id = a.device_id WHERE d.udid = '$fresh' AND r.verdict = 'PASS'\")\" = 1 ]" 60 ||
    fail "no passing run after pairing: $(get /v1/devices)"

trace "malformed requests: 4xx with the JSON error, the daemon serves on"
expect_error 400 POST /v1/runs '{"udid": '
expect_error 400 POST /v1/runs '[1, 2]'
expect_error 400 POST /v1/runs '{"profile":"quick","colour":"red"}'
expect_error 400 POST /v1/runs '{"profile":7}'
expect_error 409 POST /v1/runs '{"profile":"no-such-profile","udid":"'"$phone"'"}'
expect_error 404 POST /v1/runs '{"udid":"0000"}'
expect_error 400 GET /v1/runs/abc
expect_error 400 GET /v1/runs/-1
expect_error 404 GET /v1/runs/99999
expect_error 400 GET '/v1/events?since=x'
expect_error 404 POST /v1/devices/nope/pair
expect_error 400 PUT /v1/ports/1-1/cable "$(printf '{"cable":"A\\u0007B"}')"
expect_error 400 PUT /v1/ports/1-1/cable "{\"cable\":\"$(head -c 10240 /dev/zero | tr '\0' x)\"}"
expect_error 400 PUT /v1/ports/1-1 '{"label":""}'
expect_error 400 PUT '/v1/ports/a%20b' '{"label":"x"}'
head -c 200000 /dev/zero | tr '\0' x > "$T/big"
expect_error 413 POST /v1/runs @"$T/big"
expect_error 405 DELETE /v1/devices
expect_error 404 GET /v1/runs/1/nonsense
get /v1/status | jq -e '.usbmuxd == "connected"' > /dev/null ||
    fail "linkqd stopped serving: $(get /v1/status)"

trace "SIGKILL in the middle of a bulk transfer leaves files in /linkq/"
id=$(api POST /v1/runs "{\"udid\":\"$phone\",\"profile\":\"wiggle\"}" | head -n 1 | jq -r .id)
wait_for "get /v1/runs/$id | jq -e '.bytes > 0' > /dev/null" 30 ||
    fail "no bulk bytes moved"
kill -KILL "$LINKQD_PID"
wait "$LINKQD_PID" 2> /dev/null || :
LINKQD_PID=
ctl '{"cmd":"oplog","device":"phone"}' | jq -r '.oplog[]' |
    grep -q 'FILE_OPEN .*/linkq/bulk-' || fail "no bulk file was opened"
ctl '{"cmd":"oplog-clear","device":"phone"}' > /dev/null

trace "the next attach removes them"
rm -f "$T/linkqd.sock"
start_linkqd "$T/linkqd.conf"
wait_for "ctl '{\"cmd\":\"oplog\",\"device\":\"phone\"}' | jq -r '.oplog[]' | grep -q 'REMOVE_PATH /linkq/bulk-'" 30 ||
    fail "the leftover was not removed: $(ctl '{"cmd":"oplog","device":"phone"}')"
grep -q 'removed [0-9]* leftover file' "$T/linkqd.err" ||
    fail "the removal was not logged"

trace "usbmuxd killed and restarted: linkqd reconnects, the next attach is tested"
before=$(sql "SELECT count(*) FROM runs WHERE verdict = 'PASS'")
stop_sim
wait_for "get /v1/status | jq -e '.usbmuxd == \"not running\"' > /dev/null" 20 ||
    fail "status does not say usbmuxd is gone: $(get /v1/status)"
start_sim --control "$T/control" "$T/bench.scn"
wait_for "[ \"\$(sql \"SELECT count(*) FROM runs WHERE verdict = 'PASS'\")\" -gt $before ]" 90 ||
    fail "no run after the restart: $(get /v1/devices)"
stop_linkqd
