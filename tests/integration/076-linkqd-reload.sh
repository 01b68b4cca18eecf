#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# SIGHUP reloads linkq.conf while a run goes on (issue 17): the run
# keeps the profile it started with and ends done; a profile the new
# file adds can be run, and a cable it declares on a port shows; a bad
# file is refused with the error logged, the old configuration stays
# and linkqd still answers.

. "$(dirname "$0")/lib.sh"

cat > "$T/bench.scn" <<'SCN'
device phone
port a path=1-1
cable good
at 0s plug phone a good
SCN

cat > "$T/linkqd.conf" <<'CONF'
[profile slow]
kinds = bulk lockdown-query
chunk = 1M
duration = 4s
bulk = 16M

[verdict]
min-bulk = 16M

[cables]
port 1-1 = C-01
CONF

start_sim --control "$T/control" "$T/bench.scn"
phone=$(sim_udid phone)
start_linkqd "$T/linkqd.conf"
wait_trusted "$phone"
get /v1/devices | jq -e '.devices[0].cable == "C-01"' > /dev/null ||
    fail "the declared cable: $(get /v1/devices)"

trace "a run of profile slow, then a reload in the middle of it"
id=$(start_run "$phone" slow)
# start_linkqd's file is the one read at a reload.
{
	printf '[daemon]\nsysfs = %s\nkmsg = %s\nusbmon = %s\n' "$T/sysfs" \
	    "$T/kmsg" "$T/usbmon"
	cat <<'CONF'
[profile extra]
kinds = bulk lockdown-query
chunk = 1M
duration = 2s
bulk = 16M

[verdict]
min-bulk = 16M

[cables]
port 1-1 = C-02
CONF
} > "$T/linkqd-run.conf"
kill -HUP "$LINKQD_PID"
wait_for "grep -q 'reload: configuration .* read' '$T/linkqd.err'" 10 ||
    fail "no reload: $(tail -n 20 "$T/linkqd.err")"
get /v1/runs/$id | jq -e '.state == "running" and .profile == "slow"' \
    > /dev/null || fail "the run did not go on: $(get /v1/runs/$id)"
run=$(wait_run "$id")
echo "$run" | jq -e '.state == "done" and .profile == "slow"' > /dev/null ||
    fail "the run begun before the reload: $run"
# The run read the phone's syslog: the source says so.
get /v1/status | jq -e --arg r "the last, run $id on $phone, read it" \
    '.sources[] | select(.name == "device syslog") | .on and (.reason | endswith($r))' \
    > /dev/null || fail "device syslog source: $(get /v1/status | jq -c .sources)"

trace "the new file's cable and profile"
wait_for "get /v1/devices | jq -e '.devices[0].cable == \"C-02\"' > /dev/null" 10 ||
    fail "the cable declared at the reload: $(get /v1/devices)"
get /v1/ports | jq -e '.ports[] | select(.port == "1-1") | .cable == "C-02"' \
    > /dev/null || fail "GET /v1/ports: $(get /v1/ports)"
id=$(start_run "$phone" extra)
run=$(wait_run "$id")
echo "$run" | jq -e '.state == "done"' > /dev/null ||
    fail "the new profile's run: $run"

trace "a bad file: the error is logged and the old configuration stays"
sed 's/^duration = 2s$/duration = soon/' "$T/linkqd-run.conf" > "$T/bad.conf"
mv "$T/bad.conf" "$T/linkqd-run.conf"
lines=$(wc -l < "$T/linkqd.err")
kill -HUP "$LINKQD_PID"
wait_for "tail -n +$((lines + 1)) '$T/linkqd.err' | grep -q 'reload: .*linkqd-run.conf:[0-9]*: .*soon.*keeping the running configuration'" 10 ||
    fail "the bad file's error: $(tail -n 20 "$T/linkqd.err")"
id=$(start_run "$phone" extra)
run=$(wait_run "$id")
echo "$run" | jq -e '.state == "done"' > /dev/null ||
    fail "the old configuration's profile after the bad reload: $run"
get /v1/devices | jq -e '.devices[0].cable == "C-02"' > /dev/null ||
    fail "the cable after the bad reload: $(get /v1/devices)"
stop_linkqd
stop_sim
