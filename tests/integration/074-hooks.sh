#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# [hooks] (linkq.conf(5), HOOKS): linkqd -n refuses a command it cannot
# split, or a relative one, with its line; a PASS runs no hook; a FAIL
# runs the command with the facts in its environment (and nothing of
# linkqd's), its shell metacharacters taken as plain words, and its
# output and exit status in linkqd's log; a FAIL after a PASS on the
# same port is also "degraded", and so is a monitor window that fails
# after one that passed; a hook that hangs is killed at its timeout,
# with the program it left in the background; after a reload, new
# events use the new [hooks] (shell = yes); a hook still running when
# linkqd stops is ended and reaped.

. "$(dirname "$0")/lib.sh"

# The hook: records its words and environment in
# $T/hook-EVENT-RUN.env, writes a line to each output and exits 3; with
# $T/hang, first waits on a sleep in the background for ever.
cat > "$T/hook.sh" <<EOF
#!/bin/sh
out="$T/hook-\$LINKQ_EVENT-\$LINKQ_RUN"
{
	echo "argc=\$#"
	for a in "\$@"; do echo "arg=\$a"; done
	env | sort
} > "\$out.tmp"
mv "\$out.tmp" "\$out.env"
echo "hello from the \$LINKQ_EVENT hook"
echo "and from its standard error" >&2
if [ -e "$T/hang" ]; then
	echo \$\$ > "$T/hang.pid"
	sleep 1000 &
	echo \$! > "$T/sleep.pid"
	wait
fi
exit 3
EOF
chmod +x "$T/hook.sh"

# Whether process $1 is gone: no such process, or a zombie.
gone() {
	[ ! -e "/proc/$1" ] ||
	    [ "$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)" = Z ]
}

trace "linkqd -n refuses a [hooks] it cannot use, with the line"
check_bad() {
	printf '[hooks]\n%s\n' "$1" > "$T/bad.conf"
	rc=0
	"$BUILD/linkqd" -n -f "$T/bad.conf" 2> "$T/err" || rc=$?
	[ "$rc" -ne 0 ] || fail "'$1' was accepted"
	grep -q "bad.conf:2: \[hooks\] $2" "$T/err" ||
	    fail "'$1': no line or message '$2': $(cat "$T/err")"
}
check_bad "command = $T/hook.sh \"unclosed" \
    "command: cannot split it into words: a double quote is not closed"
check_bad "command = hook.sh a" \
    "command: the program 'hook.sh' must be an absolute path"
check_bad "on = fail" "has settings but no command"
printf '[hooks]\ncommand = /bin/true\non = fail, sometimes\n' > "$T/bad.conf"
rc=0
"$BUILD/linkqd" -n -f "$T/bad.conf" 2> "$T/err" || rc=$?
[ "$rc" -ne 0 ] && grep -q "bad.conf:3: \[hooks\] on: unknown event 'sometimes'" "$T/err" ||
    fail "an unknown event: $(cat "$T/err")"

trace "the simulator and linkqd with a hook for every event"
# The [hooks] section comes last: the reload below replaces it.
cat > "$T/linkqd.conf" <<EOF
[profile quick]
duration = 3s
bulk = 16M

# Windows of 3 s instead of an hour, probes every 200 ms.
[profile monitor]
window = 3s
interval = 200ms

[hooks]
command = $T/hook.sh 'two words' \$(id) a|b * >$T/redirected
on = fail, marginal, stranded, degraded
timeout = 1s
EOF
start_sim --control "$T/control"
udid=$(sim_udid phone)
start_linkqd "$T/linkqd.conf"
wait_trusted "$udid"
api PUT /v1/ports/1-1 '{"label":"bench-left"}' | tail -n 1 | grep -q 200 ||
    fail "port label refused"
api PUT /v1/ports/1-1/cable '{"cable":"C-07"}' | tail -n 1 | grep -q 200 ||
    fail "cable assignment refused"

trace "a PASS runs no hook"
pass=$(start_run "$udid" quick)
wait_run "$pass" | jq -e '.verdict == "PASS"' > /dev/null ||
    fail "quick did not pass: $(get /v1/runs/$pass)"

trace "a FAIL runs the hook with the facts, and as degraded after a PASS"
ctl '{"cmd":"fault","target":"sim-good","params":"corrupt-per-mb=2"}' > /dev/null
id=$(start_run "$udid" quick)
run=$(wait_run "$id")
echo "$run" | jq -e '.verdict == "FAIL"' > /dev/null ||
    fail "corruption did not fail the run: $run"
env=$T/hook-fail-$id.env
wait_for "[ -e '$env' ] && [ -e '$T/hook-degraded-$id.env' ]" 20 ||
    fail "no fail and degraded hooks: $(ls "$T"; grep hook "$T/linkqd.err")"
cat "$env"
for want in LINKQ_EVENT=fail LINKQ_VERDICT=FAIL LINKQ_PORT=1-1 \
    LINKQ_PORT_LABEL=bench-left LINKQ_CABLE=C-07 "LINKQ_UDID=$udid" \
    "LINKQ_RUN=$id" "LINKQ_REASON=$(echo "$run" | jq -r '.reasons[0]')" \
    HOME=/ argc=5 "arg=two words" 'arg=$(id)' 'arg=a|b' 'arg=*' \
    "arg=>$T/redirected"; do
	grep -qxF "$want" "$env" || fail "the hook did not get $want"
done
# Nothing of linkqd's environment: the test's own variables are there.
! grep -q '^USBMUXD_SOCKET_ADDRESS=' "$env" ||
    fail "the hook got linkqd's environment"
[ ! -e "$T/redirected" ] || fail "a shell ran the command"
grep -qx LINKQ_EVENT=degraded "$T/hook-degraded-$id.env" ||
    fail "degraded: $(cat "$T/hook-degraded-$id.env")"
# The PASS ended before the FAIL started: its hook would have come first.
! ls "$T"/hook-*-"$pass".env > /dev/null 2>&1 || fail "a PASS ran a hook"
! grep -q "hook [a-z]* run $pass:" "$T/linkqd.err" || fail "a PASS ran a hook"

trace "the hook's output and exit status are in linkqd's log"
wait_for "grep -q 'hook fail run $id: exited with status 3' '$T/linkqd.err'" 10 ||
    fail "no exit status: $(grep hook "$T/linkqd.err")"
grep -q "hook fail run $id: hello from the fail hook$" "$T/linkqd.err" ||
    fail "no standard output: $(grep hook "$T/linkqd.err")"
grep -q "hook fail run $id: and from its standard error$" "$T/linkqd.err" ||
    fail "no standard error: $(grep hook "$T/linkqd.err")"

trace "a hook that hangs is killed at its timeout, with its background"
touch "$T/hang"
id=$(start_run "$udid" quick)
wait_run "$id" > /dev/null
wait_for "[ -s '$T/sleep.pid' ]" 20 || fail "the hanging hook did not start"
hang=$(cat "$T/hang.pid")
sleeper=$(cat "$T/sleep.pid")
wait_for "grep -q 'hook fail run $id: ended by signal 15' '$T/linkqd.err'" 20 ||
    fail "not killed: $(grep hook "$T/linkqd.err")"
grep -q "hook fail run $id: still running after its timeout of 1000 ms: SIGTERM to its process group $hang" \
    "$T/linkqd.err" || fail "no timeout said: $(grep hook "$T/linkqd.err")"
gone "$hang" || fail "the hook's process $hang is still there"
wait_for "gone $sleeper" 10 || fail "its background sleep $sleeper is still there"
rm "$T/hang"

trace "a monitor window that fails after one that passed: degraded"
ctl '{"cmd":"fault","target":"sim-good","params":"corrupt-per-mb=0"}' > /dev/null
id=$(start_run "$udid" monitor)
wait_for "get /v1/runs/$id | jq -e '.windows[0].verdict == \"PASS\"' > /dev/null" 20 ||
    fail "no first window that passed: $(get /v1/runs/$id)"
[ ! -e "$T/hook-degraded-$id.env" ] || fail "a passing window ran a hook"
ctl '{"cmd":"link-error","device":"phone"}' | jq -e .ok > /dev/null ||
    fail "the link error was refused"
wait_for "[ -e '$T/hook-degraded-$id.env' ]" 20 ||
    fail "no degraded hook: $(get /v1/runs/$id)"
get /v1/runs/$id | jq -e '.state == "running" and
    any(.windows[]; .verdict == "FAIL")' > /dev/null ||
    fail "the hook came before a window failed: $(get /v1/runs/$id)"
reason=$(get /v1/runs/$id |
    jq -r '[.windows[] | select(.verdict == "FAIL")][0].reasons[0]')
grep -qx LINKQ_VERDICT=FAIL "$T/hook-degraded-$id.env" &&
    grep -qxF "LINKQ_REASON=$reason" "$T/hook-degraded-$id.env" ||
    fail "degraded window, not '$reason': $(cat "$T/hook-degraded-$id.env")"
api POST /v1/runs/$id/cancel > /dev/null
wait_run "$id" > /dev/null

trace "after a reload, new events use the new [hooks]: shell = yes"
sed -i '/^\[hooks\]/,$d' "$T/linkqd-run.conf"
cat >> "$T/linkqd-run.conf" <<EOF
[hooks]
command = echo "\$LINKQ_EVENT \$LINKQ_RUN via a shell" > $T/shell.out
shell = yes
on = fail
EOF
kill -HUP "$LINKQD_PID"
ctl '{"cmd":"fault","target":"sim-good","params":"corrupt-per-mb=2"}' > /dev/null
wait_for "grep -q 'reload: configuration' '$T/linkqd.err'" 10 ||
    fail "no reload: $(tail -n 5 "$T/linkqd.err")"
id=$(start_run "$udid" quick)
wait_run "$id" > /dev/null
wait_for "[ -s '$T/shell.out' ]" 20 || fail "the shell hook did not run"
expect_eq "$(cat "$T/shell.out")" "fail $id via a shell" "the shell hook"
[ ! -e "$T/hook-fail-$id.env" ] || fail "the old command ran after a reload"

trace "linkqd stops: a hook still running is ended and reaped"
sed -i '/^\[hooks\]/,$d' "$T/linkqd-run.conf"
cat >> "$T/linkqd-run.conf" <<EOF
[hooks]
command = /bin/sh -c 'echo \$\$ > $T/stop.pid && exec sleep 1000'
timeout = 1h
EOF
kill -HUP "$LINKQD_PID"
wait_for "[ \$(grep -c 'reload: configuration' '$T/linkqd.err') = 2 ]" 10 ||
    fail "no second reload: $(tail -n 5 "$T/linkqd.err")"
id=$(start_run "$udid" quick)
wait_run "$id" > /dev/null
wait_for "[ -s '$T/stop.pid' ]" 20 || fail "the last hook did not start"
stop_linkqd
grep -q "hook fail run $id: linkqd is stopping: SIGTERM" "$T/linkqd.err" ||
    fail "no SIGTERM at the stop: $(grep hook "$T/linkqd.err" | tail -n 3)"
gone "$(cat "$T/stop.pid")" || fail "a hook outlived linkqd"
stop_sim
