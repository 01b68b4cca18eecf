#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# A client that explains itself (issue 18, item 5): each command's -h
# lists its options, an example and its exit statuses; report --db on a
# directory or a missing file says so; a socket the user may not open
# says to join group linkq; an unknown profile lists the profiles; a
# cable on a port linkqd has never seen is refused before anything is
# written; hints name linkq commands, not HTTP paths; --json pair prints
# JSON; every JSON document has format_version 1, and the progress
# stream no 17-digit reals.

. "$(dirname "$0")/lib.sh"

LQ="$BUILD/linkq"

trace "-h of each command: usage, its options, an example, EXIT STATUS"
# The options of each command, as the bash completion offers them.
for spec in "status:" "cable:--fixed --clear" "cables:" \
    "test:--udid --profile --cable --wait --no-wait" \
    "qualify:--udid --profile --cable --max-age --wait --no-wait" \
    "drawer:--prefix --start --count --profile --resume --session" \
    "wiggle:--udid --profile --cable --wait --no-wait" \
    "watch:--udid --cable" "events:--follow --since" "runs:" "show:" \
    "pair:--udid" "ports:" "port:--label --clear-label" \
    "report:--by --since --csv --html --db" "merge:--into" \
    "bundle:--cable --port --output --keep-ids --force --db"; do
	c=${spec%%:*}
	lq "$c" -h
	expect_eq "$rc" 0 "$c -h"
	grep -q "^usage: linkq $c" "$T/out" || fail "$c -h: $(cat "$T/out")"
	for o in --help --json ${spec#*:}; do
		grep -q -- "^ .*$o\\b" "$T/out" ||
		    fail "$c -h does not list $o: $(cat "$T/out")"
	done
	grep -q '^example:' "$T/out" || fail "$c -h: no example"
	grep -q "^  linkq $c" "$T/out" || fail "$c -h: example: $(cat "$T/out")"
	grep -q '^EXIT STATUS' "$T/out" || fail "$c -h: no EXIT STATUS"
	grep -q '^  2 ' "$T/out" || fail "$c -h: no status 2: $(cat "$T/out")"
done
lq qualify -h
grep -q '^  16  bit 4: .*MARGINAL' "$T/out" || fail "qualify's 16: $(cat "$T/out")"
lq status --bogus
expect_eq "$rc" 2 "an unknown option"
grep -q 'linkq status -h lists its options' "$T/err" ||
    fail "usage error without the way to help: $(cat "$T/err")"

trace "report --db on a directory, on a missing file"
lq report --db "$T"
expect_eq "$rc" 2 "report --db DIR"
grep -q "^linkq: --db $T is a directory, not a database file; --db takes the file linkqd writes" \
    "$T/err" || fail "--db DIR: $(cat "$T/err")"
lq report --db "$T/nonesuch.db"
expect_eq "$rc" 2 "report --db on a missing file"
grep -q "^linkq: --db $T/nonesuch.db: No such file or directory; --db takes" \
    "$T/err" || fail "--db missing: $(cat "$T/err")"
[ ! -e "$T/nonesuch.db" ] || fail "report --db created the missing file"

start_sim --control "$T/control"
udid=$(sim_udid phone)
cat > "$T/linkqd.conf" <<'CONF'
[profile quick]
duration = 3s
bulk = 16M

[verdict]
min-bulk = 16M

[cables]
port 7-7 = F-07
CONF
start_linkqd "$T/linkqd.conf"
wait_trusted "$udid"

trace "a socket without permission: join group linkq, not start linkqd"
if [ "$(id -u)" = 0 ]; then
	chmod 711 "$T"
	chown root:root "$T/linkqd.sock"
	chmod 660 "$T/linkqd.sock"
	rc=0
	setpriv --reuid=65534 --regid=65534 --clear-groups \
	    "$LQ" -s "$T/linkqd.sock" status > "$T/out" 2> "$T/err" || rc=$?
	chmod 700 "$T"
	expect_eq "$rc" 2 "status on a socket it may not open"
	grep -q "^linkq: permission denied on $T/linkqd.sock: add yourself to group linkq (sudo usermod -aG linkq \$USER) and log in again\$" \
	    "$T/err" || fail "EACCES: $(cat "$T/err")"
else
	trace "not root: no other user to try the socket as"
fi

trace "an unknown profile lists the profiles there are"
lq test --profile nosuch --no-wait
expect_eq "$rc" 2 "an unknown profile"
grep -q '^linkq: no profile called nosuch; the profiles are: .*quick.*restore' \
    "$T/err" || fail "no list of profiles: $(cat "$T/err")"

trace "hints name linkq commands, not HTTP paths"
api POST /v1/runs '{"port":"9-9","profile":"quick"}' > "$T/start"
grep -q 'no device on port 9-9; linkq ports lists them' "$T/start" ||
    fail "the hint for a port: $(cat "$T/start")"
lq test 9-9 --no-wait
expect_eq "$rc" 3 "test on a port with no device"
! grep -q 'GET /v1' "$T/err" || fail "an HTTP path as a hint: $(cat "$T/err")"

trace "a cable on a port linkqd has never seen is refused, nothing written"
lq cable 9-9 X-1
expect_eq "$rc" 2 "cable on an unknown port"
grep -q '^linkq: no port 9-9 on this host: .*plug a phone into it first, or name it in \[cables\]' \
    "$T/err" || fail "the unknown port: $(cat "$T/err")"
lq port 9-9 --label nowhere
expect_eq "$rc" 2 "label on an unknown port"
get /v1/ports | jq -e 'all(.ports[]; .port != "9-9")' > /dev/null ||
    fail "9-9 was written: $(get /v1/ports)"
expect_eq "$(sql "SELECT count(*) FROM ports WHERE path = '9-9'")" 0 \
    "rows of port 9-9"
lq cables
! grep -q 'X-1' "$T/out" || fail "X-1 was recorded: $(cat "$T/out")"
port=$(get /v1/devices | jq -r '.devices[0].port')
lq cable "$port" A-01
expect_eq "$rc" 0 "cable on the phone's port: $(cat "$T/err")"
lq cable 7-7 F-08 --fixed
expect_eq "$rc" 0 "cable on a port [cables] names: $(cat "$T/err")"
lq cable 9-9 --clear
expect_eq "$rc" 0 "clearing stays open to any port: $(cat "$T/err")"

trace "--json pair prints JSON"
lq --json pair -u "$udid"
expect_eq "$rc" 0 "pair of a trusted device: $(cat "$T/err")"
jq -e ".format_version == 1 and .type == \"paired\" and .udid == \"$udid\"" \
    "$T/out" > /dev/null || fail "pair --json: $(cat "$T/out")"

trace "format_version on each document; reals with sensible digits"
for c in status runs ports cables "report --by cable"; do
	# shellcheck disable=SC2086 # the command and its arguments
	lq --json $c
	expect_eq "$rc" 0 "--json $c: $(cat "$T/err")"
	jq -e '.format_version == 1' "$T/out" > /dev/null ||
	    fail "--json $c: no format_version: $(head -c 300 "$T/out")"
done
lq --json test -u "$udid" --no-wait
expect_eq "$rc" 0 "test --json: $(cat "$T/err")"
[ "$(wc -l < "$T/out")" -ge 2 ] || fail "no progress lines: $(cat "$T/out")"
jq -se 'all(.[]; .format_version == 1)' "$T/out" > /dev/null ||
    fail "a progress line without format_version: $(cat "$T/out")"
# The digits of each real (mantissa), at most 10 of them.
long=$(grep -Eo '[0-9]+\.[0-9]+' "$T/out" |
    awk '{ d = $0; gsub(/[^0-9]/, "", d); sub(/^0+/, "", d)
	if (length(d) > 10) print }')
[ -z "$long" ] || fail "reals with too many digits: $long"
