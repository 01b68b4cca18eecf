#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# monitor passes and fails on its own kinds, a verdict per window
# (issue 13): on a healthy phone its windows PASS, stating their
# exposure, though it moves no bulk; a link-error episode fails the
# window it falls in, with the kernel's words, and the run goes on; the
# next window passes again; every window is in the database; cancelled,
# the run itself has no verdict, and its windows stay.

. "$(dirname "$0")/lib.sh"

cat > "$T/bench.scn" <<'SCN'
device phone
port a path=1-1
cable good
at 0s plug phone a good
SCN

# Windows of 3 s instead of an hour, probes every 200 ms.
cat > "$T/linkqd.conf" <<'CONF'
[profile monitor]
window = 3s
interval = 200ms
CONF

# The verdicts of run $1's windows, space-separated, oldest first.
windows() {
	get /v1/runs/$1 | jq -r '[.windows[] | .verdict // "none"] | join(" ")'
}

start_sim --control "$T/control" "$T/bench.scn"
u=$(sim_udid phone)
start_linkqd "$T/linkqd.conf"
wait_trusted "$u"

trace "monitor on a healthy phone: its first window passes"
id=$(start_run "$u" monitor)
wait_for "[ -n \"\$(windows $id)\" ]" 20 || fail "no window: $(get /v1/runs/$id)"
run=$(get /v1/runs/$id)
echo "$run" | jq -e '.state == "running" and .verdict == "PASS" and
    .windows[0].verdict == "PASS" and
    (.windows[0].reasons | join(" ") | test("under load, .* round trips without a fault")) and
    .percent == null' > /dev/null ||
    fail "the first window: $run"

trace "a link-error episode fails its window; the run goes on"
n=$(get /v1/runs/$id | jq '.windows | length')
ctl '{"cmd":"link-error","device":"phone"}' | jq -e .ok > /dev/null ||
    fail "the link error was refused"
wait_for "get /v1/runs/$id | jq -e '.windows | length > $n and (.[$n].verdict == \"FAIL\")' > /dev/null" 20 ||
    fail "the window with the episode did not fail: $(get /v1/runs/$id)"
get /v1/runs/$id | jq -e ".state == \"running\" and
    (.windows[$n].reasons | join(\" \") | test(\"the kernel said on port 1-1\"))" > /dev/null ||
    fail "the failed window: $(get /v1/runs/$id)"

trace "the next window passes again"
wait_for "get /v1/runs/$id | jq -e '.windows | length > $n + 1 and (.[$n + 1].verdict == \"PASS\")' > /dev/null" 20 ||
    fail "no passing window after the episode: $(get /v1/runs/$id)"
get /v1/runs/$id | jq -e '.verdict == "PASS"' > /dev/null ||
    fail "the run does not show its last window's verdict: $(get /v1/runs/$id)"

trace "every window is stored; cancelled, the run has no verdict"
api POST /v1/runs/$id/cancel > /dev/null
run=$(wait_run "$id")
echo "$run" | jq -e '.state == "cancelled" and .verdict == null' > /dev/null ||
    fail "the cancelled monitor: $run"
want=$(echo "$run" | jq '.windows | length')
wait_sql "SELECT count(*), sum(verdict = 'FAIL') > 0, sum(verdict = 'PASS') > 1 FROM run_windows WHERE run_id = $id" "$want|1|1"
