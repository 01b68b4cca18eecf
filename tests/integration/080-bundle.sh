#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# Evidence bundles (issue 18, item 3): a wiggle run that a kernel -71
# fails and a quick run, both with cable A-01 on port 1-1; linkq bundle
# of the first run and of the cable writes a .tar.gz whose directory
# holds README.txt, the runs, devices, events, kernel lines, the device
# syslog's account, probes, the report, versions and config. Without
# --keep-ids no file holds the phone's UDID (as such or as the USB
# serial number spells it) or its serial number, and the token that
# replaces the UDID is the same in runs, events and devices; with it
# they are there. The errors: an existing file (unless --force), a run
# never recorded, a cable with no run, no -o, a directory that is not
# there; none leaves a file behind. --db gives the bundle from the
# database file, and a kernel line holding the serial is hashed too.

. "$(dirname "$0")/lib.sh"

cat > "$T/bench.scn" <<'SCN'
device phone
port a path=1-1
cable good
at 0s plug phone a good
SCN
quick_conf "$T/linkqd.conf"
# No usbmon: the -71 below is the kernel log's alone (035 says why).
LINKQD_USBMON=$T/no-usbmon

# Extract bundle $1 into directory $2; print its one top directory.
unpack() {
	rm -rf "$2"
	mkdir "$2"
	tar -xzf "$1" -C "$2" || fail "tar cannot read $1"
	[ "$(ls "$2" | wc -l)" = 1 ] || fail "$1: not one directory: $(ls "$2")"
	echo "$2/$(ls "$2")"
}

# Fail if any file under $1 holds $2 ($3 names it), ignoring case.
absent() {
	if grep -rqiF -- "$2" "$1"; then
		fail "$3 $2 leaks: $(grep -rniF -- "$2" "$1" | head -n 3)"
	fi
}

start_sim --control "$T/control" "$T/bench.scn"
u=$(sim_udid phone)
start_linkqd "$T/linkqd.conf"
wait_trusted "$u"
serial=$(sql "SELECT usb_serial FROM devices WHERE udid = '$u'")
[ -n "$serial" ] || fail "no serial number recorded for $u"
plain=$(echo "$u" | tr -d -)

trace "a run that a kernel -71 fails, then a quick run, cable A-01"
lq cable 1-1 A-01
[ "$rc" = 0 ] || fail "cable A-01 refused: $(cat "$T/err")"
r1=$(start_wiggle "$u")
printf '%s\n' "3,900001,1,-;usb 1-1: device descriptor read/64, error -71" \
    " SUBSYSTEM=usb" " DEVICE=+usb:1-1" >> "$T/kmsg"
wait_run "$r1" | jq -e '.verdict == "FAIL"' > /dev/null ||
    fail "the -71 did not fail run $r1: $(get /v1/runs/$r1)"
wait_sql "SELECT count(*) > 0 FROM events WHERE run_id = $r1 AND source = 'kmsg' AND errno = -71" 1
wait_trusted "$u"
lq cable 1-1 A-01
r2=$(start_run "$u" quick)
wait_run "$r2" > /dev/null

trace "bundle of run $r1: the files, and no raw identifier"
lq bundle "$r1" -o "$T/run.tar.gz"
[ "$rc" = 0 ] || fail "bundle $r1: status $rc: $(cat "$T/err")"
grep -q "run $r1, 1 run, .* identifiers hashed" "$T/out" ||
    fail "bundle's line: $(cat "$T/out")"
tar -tzf "$T/run.tar.gz" > "$T/list" || fail "tar -t failed"
for f in README.txt runs.jsonl devices.jsonl events.jsonl probes.csv \
    kernel.txt device-syslog.txt report.txt report.json report.html \
    versions.txt config.json; do
	grep -Eq "^linkq-bundle-[0-9]{8}T[0-9]{6}Z/$f\$" "$T/list" ||
	    fail "no $f in the bundle: $(cat "$T/list")"
done
d=$(unpack "$T/run.tar.gz" "$T/run")
absent "$d" "$u" "the UDID"
absent "$d" "$plain" "the UDID as a USB serial"
absent "$d" "$serial" "the serial number"
grep -q '^Hashed' "$d/README.txt" || fail "README: $(cat "$d/README.txt")"
grep -q 'HMAC-SHA-256' "$d/README.txt" || fail "README names no scheme"
expect_eq "$(wc -l < "$d/runs.jsonl")" 1 "runs in the run's bundle"
tok=$(jq -r .udid "$d/runs.jsonl")
echo "$tok" | grep -Eq '^udid-[0-9a-f]{16}$' || fail "the UDID's token: $tok"
jq -e --arg t "$tok" 'select(.kind == "link-error" and .udid == $t and
    .source == "kmsg" and .port == "1-1" and .cable == "A-01")' \
    "$d/events.jsonl" > /dev/null ||
    fail "no kernel event joined by $tok: $(cat "$d/events.jsonl")"
expect_eq "$(jq -r .udid "$d/devices.jsonl")" "$tok" "the device's token"
jq -e '.usb_serial | test("^(serial|udid)-[0-9a-f]{16}$")' \
    "$d/devices.jsonl" > /dev/null || fail "serial: $(cat "$d/devices.jsonl")"
grep -q "run $r1 port 1-1, cable A-01: link-error (errno -71): .*error -71" \
    "$d/kernel.txt" || fail "kernel.txt: $(cat "$d/kernel.txt")"
grep -q 'does not keep the syslog' "$d/device-syslog.txt" ||
    fail "device-syslog.txt: $(cat "$d/device-syslog.txt")"
expect_eq "$(sed 1d "$d/probes.csv" | grep -c "^$r1,")" \
    "$(sql "SELECT count(*) FROM probes WHERE run_id = $r1")" "run $r1's probes"
expect_eq "$(sed 1d "$d/probes.csv" | grep -vc "^$r1,")" 0 "other runs' probes"
jq -e '.format_version == 1 and (.rows | length == 1) and
    .rows[0].cable == "A-01" and .rows[0].port == "1-1"' \
    "$d/report.json" > /dev/null || fail "report.json: $(cat "$d/report.json")"
grep -q 'A-01' "$d/report.txt" || fail "report.txt: $(cat "$d/report.txt")"
grep -q 'data-verdict="FAIL"' "$d/report.html" ||
    fail "report.html has no FAIL cell: $(head -c 2000 "$d/report.html")"
grep -q "^linkqd $(get /v1/status | jq -r .version)" "$d/versions.txt" ||
    fail "versions.txt: $(cat "$d/versions.txt")"
jq -e '.profiles | map(.name) | index("quick")' "$d/config.json" \
    > /dev/null || fail "config.json: $(cat "$d/config.json")"

trace "bundle of cable A-01: both runs, a token of its own"
lq bundle --cable A-01 -o "$T/cable.tar.gz"
[ "$rc" = 0 ] || fail "bundle --cable: status $rc: $(cat "$T/err")"
d=$(unpack "$T/cable.tar.gz" "$T/cable")
expect_eq "$(jq -r .id "$d/runs.jsonl" | tr '\n' ' ')" "$r1 $r2 " \
    "the cable's runs, oldest first"
absent "$d" "$u" "the UDID"
absent "$d" "$serial" "the serial number"
n=$(sql "SELECT count(*) FROM probes WHERE run_id IN ($r1, $r2)")
[ "$n" -gt 0 ] || fail "the quick run $r2 recorded no probe"
expect_eq "$(sed 1d "$d/probes.csv" | wc -l)" "$n" "the cable's probes"
sed 1d "$d/probes.csv" | grep -q "^$r2,[0-9]*,bulk,[0-9]*,[0-9]*,[0-9]*,ok,0," ||
    fail "no bulk probe of $r2: $(head -n 4 "$d/probes.csv")"
tok2=$(jq -r .udid "$d/runs.jsonl" | sort -u)
expect_eq "$(echo "$tok2" | wc -l)" 1 "one token for one phone"
[ "$tok2" != "$tok" ] || fail "two bundles share the token $tok"
expect_eq "$(jq -r .udid "$d/events.jsonl" | sort -u)" "$tok2" \
    "the events' token"
lq --json bundle --port 1-1 -o "$T/port.tar.gz"
[ "$rc" = 0 ] || fail "bundle --port: status $rc: $(cat "$T/err")"
jq -e --arg f "$T/port.tar.gz" '.format_version == 1 and .file == $f and
    .runs == 2 and .hashed' "$T/out" > /dev/null ||
    fail "bundle --json: $(cat "$T/out")"

trace "--keep-ids: the identifiers are there"
lq bundle "$r1" --keep-ids -o "$T/keep.tar.gz"
[ "$rc" = 0 ] || fail "bundle --keep-ids: status $rc: $(cat "$T/err")"
d=$(unpack "$T/keep.tar.gz" "$T/keep")
grep -rqF "$u" "$d" || fail "--keep-ids: no UDID"
grep -rqF "$serial" "$d" || fail "--keep-ids: no serial number"
expect_eq "$(jq -r .udid "$d/runs.jsonl")" "$u" "--keep-ids: the run's UDID"
grep -q '^Kept as recorded' "$d/README.txt" || fail "README: --keep-ids"

trace "errors: each says what is wrong, exits 2, leaves nothing"
lq bundle "$r1" -o "$T/run.tar.gz"
expect_eq "$rc" 2 "an existing file"
grep -q 'run.tar.gz exists: --force replaces it' "$T/err" ||
    fail "an existing file: $(cat "$T/err")"
lq bundle "$r2" -o "$T/run.tar.gz" --force
[ "$rc" = 0 ] || fail "--force: status $rc: $(cat "$T/err")"
d=$(unpack "$T/run.tar.gz" "$T/forced")
expect_eq "$(jq -r .id "$d/runs.jsonl")" "$r2" "--force replaced the file"
lq bundle 99999 -o "$T/none.tar.gz"
expect_eq "$rc" 2 "a run never recorded"
grep -q 'run 99999 was never recorded' "$T/err" || fail "99999: $(cat "$T/err")"
lq bundle --cable NOPE -o "$T/none.tar.gz"
expect_eq "$rc" 2 "a cable with no run"
grep -q 'no run was recorded with cable NOPE' "$T/err" ||
    fail "NOPE: $(cat "$T/err")"
lq bundle "$r1"
expect_eq "$rc" 2 "no -o"
grep -q -- '-o FILE is missing' "$T/err" || fail "no -o: $(cat "$T/err")"
lq bundle "$r1" --cable A-01 -o "$T/none.tar.gz"
expect_eq "$rc" 2 "a run and a cable"
lq bundle "$r1" -o "$T/nodir/x.tar.gz"
expect_eq "$rc" 2 "a directory that is not there"
grep -q "cannot write in $T/nodir" "$T/err" || fail "nodir: $(cat "$T/err")"
[ ! -e "$T/none.tar.gz" ] || fail "a failed bundle left a file"
ls -a "$T" | grep -q '^\.linkq-bundle' && fail "a temporary file is left"

trace "bundle -h"
lq bundle -h
expect_eq "$rc" 0 "bundle -h"
for o in --cable --port --output --keep-ids --force --db; do
	grep -q -- "^ .*$o\\b" "$T/out" || fail "-h lacks $o: $(cat "$T/out")"
done

trace "--db: the database file, with a kernel line that holds the serial"
stop_linkqd
cp "$T/linkq.db" "$T/copy.db"
sqlite3 "$T/copy.db" "INSERT INTO events (ts_us, source, kind, port_id, attachment_id, run_id, detail) SELECT ts_us + 1, 'kmsg', 'link-error', port_id, attachment_id, run_id, 'usb 1-1: SerialNumber: $plain, $serial' FROM events WHERE run_id = $r1 AND source = 'kmsg' LIMIT 1"
lq bundle "$r1" --db "$T/copy.db" -o "$T/db.tar.gz"
[ "$rc" = 0 ] || fail "bundle --db: status $rc: $(cat "$T/err")"
d=$(unpack "$T/db.tar.gz" "$T/db")
absent "$d" "$u" "--db: the UDID"
absent "$d" "$plain" "--db: the UDID as a USB serial"
absent "$d" "$serial" "--db: the serial number"
t=$(jq -r .udid "$d/runs.jsonl")
grep -Eq "SerialNumber: $t, (serial|udid)-[0-9a-f]{16}\$" "$d/kernel.txt" ||
    fail "the kernel's serial line: $(cat "$d/kernel.txt")"
grep -q '^linkqd: not asked' "$d/versions.txt" ||
    fail "--db versions: $(cat "$d/versions.txt")"
[ ! -e "$d/config.json" ] || fail "--db made a config.json"

stop_sim
