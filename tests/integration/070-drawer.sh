#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# linkq drawer against linkq-sim, the test playing the technician: it
# plugs the cable the drawer names into the port it names and unplugs
# when told, through the simulator's control socket. Through a pipe: a
# drawer of eight cables with two that drop the link; the summary names
# all eight with their verdicts, the throw-away line exactly the two bad
# ones, exit 1. Three cables, then two more with --resume, which
# continues the numbering at D-04, and the summary has all five.
# Through a pseudo-terminal: the label taken with Enter, a banner and
# the bell on a FAIL, Ctrl-C ends with a summary fitted to the
# terminal's 50 columns. With two ports, a FAIL nobody can explain yet
# plans the swap and names what it showed: a bad cable, then a bad
# port.

. "$(dirname "$0")/lib.sh"

LQ="$BUILD/linkq"

# Cables by the labels the drawer gives them, lowercase without the
# dash; the bad ones drop the link within a few megabytes.
{
	printf 'device phone\nport a path=1-2\nport b path=1-3\n'
	# A port that drops the link, as a worn socket does.
	printf 'port c path=1-4 drop-per-mb=0.5 drop-mode=stranded\n'
	for c in d01 d02 d04 d05 d07 d08 p01 p03 s01 j01 w01 w02; do
		printf 'cable %s\n' "$c"
	done
	for c in d03 d06 p02 s02; do
		printf 'cable %s drop-per-mb=0.5 drop-mode=stranded\n' "$c"
	done
} > "$T/bench.scn"
start_sim --control "$T/control" "$T/bench.scn"
printf '%s\n' '[profile quick]' 'duration = 1s' 'bulk = 8M' '' \
    '[verdict]' 'min-bulk = 8M' > "$T/linkqd.conf"
start_linkqd "$T/linkqd.conf"
ctl '{"cmd":"unplug","device":"phone"}' > /dev/null 2>&1 || :

# The technician for the drawer writing to file $1, until $1.done
# exists: takes its lines in order (a phone a cable stranded leaves
# the port at once, so "unplug it" and the next "plug cable" may come
# together), unplugs when told and plugs the cable named into the port
# named; in words or in --json lines.
STEP='plug cable |unplug it|"type":"(un)?plug",'
technician() {
	_out=$1
	_done=0
	while :; do
		wait_for "[ -e '$_out.done' ] ||
		    [ \$(grep -cE '$STEP' '$_out') -gt $_done ]" 60 ||
		    { echo "technician: nothing to do" >&2; return 1; }
		[ ! -e "$_out.done" ] || return 0
		_done=$((_done + 1))
		_line=$(grep -E "$STEP" "$_out" | tr -d '\r' | sed -n "${_done}p" |
		    sed 's/^{.*"type":"plug","label":"\([^"]*\)","port":"\([^"]*\)".*/plug cable \1 into \2/')
		# Out before in: also a phone a cable stranded.
		ctl '{"cmd":"unplug","device":"phone"}' > /dev/null 2>&1 || :
		case $_line in
		*"plug cable "*) ;;
		*) continue ;;
		esac
		set -- $(echo "$_line" |
		    sed 's/.*plug cable \([^ ]*\) into \([^ ]*\).*/\1 \2/')
		_cable=$(echo "$1" | tr 'A-Z' 'a-z' | tr -d -)
		case $2 in 1-3) _port=b ;; 1-4) _port=c ;; *) _port=a ;; esac
		ctl "{\"cmd\":\"plug\",\"device\":\"phone\",\"port\":\"$_port\",\"cable\":\"$_cable\"}" > /dev/null
		set -- "$_out"
	done
}

# Run the drawer with arguments "$@" through a pipe, output in $T/out,
# with the technician; its exit status in $rc.
drawer() {
	rm -f "$T/out.done"
	: > "$T/out"
	"$LQ" -s "$T/linkqd.sock" drawer "$@" < /dev/null > "$T/out" \
	    2> "$T/err" &
	_pid=$!
	technician "$T/out" &
	_tpid=$!
	rc=0
	wait "$_pid" || rc=$?
	touch "$T/out.done"
	wait "$_tpid" || fail "the technician: $(cat "$T/out" "$T/err")"
}

# The summary's verdict of cable $1 (its first row).
verdict_of() {
	sed -n '/^drawer summary/,$p' "$T/out" | awk -v c="$1" '$1 == c { print $3; exit }'
}

trace "a drawer of eight through a pipe: D-03 and D-06 bad"
drawer 1-2 --count 8 --session "$T/d.json"
expect_eq "$rc" 1 "exit status: $(cat "$T/out" "$T/err")"
grep -q '^plug cable D-01 into 1-2$' "$T/out" || fail "no prompt: $(cat "$T/out")"
grep -q '^D-03 on 1-2: FAIL' "$T/out" || fail "no FAIL of D-03: $(cat "$T/out")"
grep -q '^unplug it; next: D-02$' "$T/out" || fail "no unplug: $(cat "$T/out")"
expect_eq "$(sed -n '/^drawer summary/,$p' "$T/out" | grep -c '^D-0[1-8] ')" 8 \
    "summary rows"
for c in 1 2 3 4 5 6 7 8; do
	case $c in 3|6) want=FAIL ;; *) want=PASS ;; esac
	expect_eq "$(verdict_of D-0$c)" "$want" "D-0$c in $(cat "$T/out")"
done
grep -q '^throw away: D-03, D-06$' "$T/out" ||
    fail "throw away: $(cat "$T/out")"
sed -n '/^drawer summary/,$p' "$T/out" | grep '^D-06 ' | grep -q 'drop' ||
    fail "no reason for D-06: $(cat "$T/out")"
# Throughput of the good ones, from their bulk.
sed -n '/^drawer summary/,$p' "$T/out" | awk '$1 == "D-01" { ok = $4 + 0 > 0 } END { exit !ok }' ||
    fail "no throughput for D-01: $(cat "$T/out")"

trace "a resumed drawer: three cables, then --resume continues at D-04"
drawer 1-2 --count 3 --session "$T/r.json"
expect_eq "$rc" 1 "exit status: $(cat "$T/out" "$T/err")"
expect_eq "$(sed -n '/^drawer summary/,$p' "$T/out" | grep -c '^D-0[1-3] ')" 3 \
    "summary rows"
grep -q '^throw away: D-03$' "$T/out" || fail "throw away: $(cat "$T/out")"
expect_eq "$(jq -r .next "$T/r.json")" 4 "the session's next number"
drawer 1-2 --resume --count 2 --session "$T/r.json"
expect_eq "$rc" 1 "exit status: $(cat "$T/out" "$T/err")"
expect_eq "$(grep 'plug cable ' "$T/out" | head -n 1)" \
    "plug cable D-04 into 1-2" "the first prompt after --resume"
expect_eq "$(sed -n '/^drawer summary/,$p' "$T/out" | grep '^D-0' | awk '{ print $1 }' | tr '\n' ' ')" \
    "D-01 D-02 D-03 D-04 D-05 " "the resumed summary"
grep -q '^throw away: D-03$' "$T/out" || fail "throw away: $(cat "$T/out")"

trace "without --resume a new session starts, saying the old one is replaced"
jq '.finished = false' "$T/r.json" > "$T/d2.json"
"$LQ" -s "$T/linkqd.sock" drawer 1-2 --count 1 --session "$T/d2.json" \
    < /dev/null > "$T/new.out" 2> "$T/new.err" &
pid=$!
wait_for "grep -q 'plug cable D-01 into 1-2' '$T/new.out'" 10 ||
    fail "no new session: $(cat "$T/new.out" "$T/new.err")"
grep -q 'unfinished session of 5 tests' "$T/new.err" ||
    fail "not said: $(cat "$T/new.err")"

trace "Ctrl-C while waiting for a plug: a summary of nothing, exit 3"
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
expect_eq "$rc" 3 "exit status: $(cat "$T/new.out" "$T/new.err")"
grep -q '^throw away: none$' "$T/new.out" || fail "summary: $(cat "$T/new.out")"

trace "on a terminal: Enter takes the label, a banner and the bell on FAIL"
rm -f "$T/tty.done"
: > "$T/tty.out"
{
	printf '\n'
	wait_for "[ \$(grep -c 'Enter for' '$T/tty.out') -ge 2 ]" 60 || :
	printf '\n'
	wait_for "[ -e '$T/tty.done' ]" 90 || :
} | script -qfec "stty cols 50 rows 50; '$LQ' -s '$T/linkqd.sock' drawer 1-2 --prefix P- --session '$T/p.json'" \
    /dev/null > "$T/tty.out" 2>&1 &
spid=$!
technician "$T/tty.out" &
tpid=$!
# Ctrl-C once P-03 is plugged and its label asked: the next drawer
# finds the phone plugged.
wait_for "[ \$(grep -c 'Enter for' '$T/tty.out') -ge 3 ]" 60 ||
    fail "the drawer on a terminal: $(cat -A "$T/tty.out" | tail -c 1500)"
lpid=$(pgrep -f -- "--session $T/p.json" | while read -r p; do
	[ "$(cat /proc/$p/comm)" = linkq ] && echo "$p"; done)
[ -n "$lpid" ] || fail "no linkq process"
kill -INT "$lpid"
wait_for "grep -q 'throw away' '$T/tty.out'" 20 ||
    fail "no summary after Ctrl-C: $(cat -A "$T/tty.out" | tail -c 1500)"
touch "$T/tty.done" "$T/tty.out.done"
wait "$spid" || :
wait "$tpid" || fail "the technician on a terminal"
grep -q 'Cable in 1-2: Enter for P-01' "$T/tty.out" ||
    fail "no label offered: $(cat -A "$T/tty.out" | head -c 1500)"
grep -q "$(printf '\033')\[1;97;41m   FAIL   P-02 on 1-2" "$T/tty.out" ||
    fail "no FAIL banner: $(cat -A "$T/tty.out" | tail -c 2000)"
grep -q "$(printf '\a')" "$T/tty.out" || fail "no bell"
grep -q "$(printf '\033')\[1;97;42m   PASS   P-01 on 1-2" "$T/tty.out" ||
    fail "no PASS banner: $(cat -A "$T/tty.out" | tail -c 2000)"
tr -d '\r' < "$T/tty.out" | sed 's/\x1b\[[0-9;]*[A-Za-z]//g' |
    sed -n '/^drawer summary/,$p' > "$T/summary"
grep -q '^throw away: P-02$' "$T/summary" ||
    fail "summary: $(cat -A "$T/tty.out" | tail -c 1500)"
grep -q '^P-02  *1-2  *FAIL ' "$T/summary" || fail "summary: $(cat "$T/summary")"
expect_fits "$T/summary" 50 "the summary on a 50-column terminal"

trace "two ports: a FAIL on 1-3 plans the swap and names the cable"
drawer 1-2 1-3 --prefix S- --count 2 --session "$T/s.json"
expect_eq "$rc" 1 "exit status: $(cat "$T/out" "$T/err")"
# The terminal's drawer was stopped with P-03 plugged, a phone it had
# not yet asked about: the next drawer has it unplugged first.
grep -q '^the phone is in 1-2 already: unplug it; next: S-01$' "$T/out" ||
    fail "a phone plugged at the start: $(cat "$T/out")"
grep -q '^S-02 failed on 1-3: try S-02 on 1-2 and a good cable (S-01) on 1-3$' "$T/out" ||
    fail "no swap: $(cat "$T/out")"
grep -q '^plug cable S-02 into 1-2$' "$T/out" || fail "no swap step: $(cat "$T/out")"
grep -q '^plug cable S-01 into 1-3$' "$T/out" || fail "no swap step: $(cat "$T/out")"
grep -q '^S-02 fails on both ports (1-3 and 1-2): the cable$' "$T/out" ||
    fail "no outcome: $(cat "$T/out")"
grep -q '^throw away: S-02$' "$T/out" || fail "throw away: $(cat "$T/out")"

trace "two ports, the second bad: the swap names the port, no cable is thrown"
drawer 1-2 1-4 --prefix W- --count 2 --session "$T/w.json"
expect_eq "$rc" 1 "exit status: $(cat "$T/out" "$T/err")"
grep -q '^W-02 failed on 1-4: try W-02 on 1-2 and a good cable (W-01) on 1-4$' "$T/out" ||
    fail "no swap: $(cat "$T/out")"
grep -q '^1-4 fails with W-01 too, and W-02 passed on 1-2: the port$' "$T/out" ||
    fail "no outcome: $(cat "$T/out")"
grep -q '^throw away: none$' "$T/out" || fail "throw away: $(cat "$T/out")"
grep -q '^port at fault: 1-4$' "$T/out" || fail "the port: $(cat "$T/out")"

trace "--json: one object a line, from the plug to the summary"
drawer 1-2 --json --prefix J- --count 1 --session "$T/j.json"
expect_eq "$rc" 0 "exit status: $(cat "$T/out" "$T/err")"
jq -e . "$T/out" > /dev/null || fail "not JSON lines: $(cat "$T/out")"
expect_eq "$(jq -r 'select(.type != "progress" and .type != "end") | .type' "$T/out" | tr '\n' ' ')" \
    "plug plugged result unplug summary " "the lines' types"
expect_eq "$(jq -r 'select(.type == "result") | .label + " " + .port + " " + .verdict' "$T/out")" \
    "J-01 1-2 PASS" "the result"
expect_eq "$(jq -c 'select(.type == "summary") | [.throw_away, .status]' "$T/out")" \
    '[[],0]' "the summary"

stop_linkqd
stop_sim
