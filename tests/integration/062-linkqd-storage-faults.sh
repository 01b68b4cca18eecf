#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# Storage faults: a database locked by another process (sqlite3 holding
# BEGIN EXCLUSIVE), a full file system (a small tmpfs) and a read-only
# database. While linkqd cannot commit it keeps the results, reports no
# verdict that is not stored (the run says "not recorded: ..." and
# linkq test exits 2), starts no run (503), and says in linkq status
# what is wrong and what to do; when the fault goes the results land,
# the API's counts and verdict agree with the database and the status
# says it recovered. A read-only database stops linkqd at the start
# with what to do. The tmpfs parts need mount (root); they are skipped
# with a reason where it is not permitted.

. "$(dirname "$0")/lib.sh"

cat > "$T/bench.scn" <<'SCN'
device phone
port a path=1-1
cable good
at 0s plug phone a good
SCN

cat > "$T/linkqd.conf" <<'CONF'
[profile quick]
duration = 3s
bulk = 16M
CONF

# linkqd goes before its file system does, and that before $T; so do
# the immutable attributes.
MOUNTS=
IMMUTABLE=
unmount_all() {
	if [ -n "$LINKQD_PID" ]; then
		kill -TERM "$LINKQD_PID" 2>/dev/null || :
		wait "$LINKQD_PID" 2>/dev/null || :
		LINKQD_PID=
	fi
	[ -z "$IMMUTABLE" ] || chattr -i $IMMUTABLE 2>/dev/null || :
	for _m in $MOUNTS; do
		umount "$_m" 2>/dev/null || umount -l "$_m" 2>/dev/null || :
	done
}
trap 'unmount_all; cleanup' EXIT

# Mount a tmpfs of size $2 on $1, or fail (status 1) quietly.
mount_tmpfs() {
	mkdir -p "$1"
	mount -t tmpfs -o "size=$2" linkq-test "$1" 2>/dev/null || return 1
	MOUNTS="$1 $MOUNTS"
}

# A query on the database linkqd uses now.
DB=$T/linkq.db
dbq() {
	sqlite3 "$DB" "$1"
}

# The store's state in /v1/status.
store_status() {
	get /v1/status | jq -c .store
}

# Run $1 in the API agrees with the database: counts and verdict.
check_recorded() {
	_run=$(get /v1/runs/$1)
	echo "$_run" | jq -e '.recorded and .verdict != null' > /dev/null ||
	    fail "run $1 not recorded after the fault: $_run"
	expect_eq "$(echo "$_run" | jq -r '.verdict + " " + (.probes | tostring)')" \
	    "$(dbq "SELECT verdict || ' ' || total_probes FROM runs WHERE id = $1")" \
	    "the verdict and probes of run $1 in the API and the database"
	expect_eq "$(dbq "SELECT count(*) FROM probes WHERE run_id = $1")" \
	    "$(echo "$_run" | jq -r .probes)" "probe rows of run $1"
}

# A run that ended during fault $2: no verdict, "not recorded: $2".
check_unrecorded() {
	_run=$(wait_run "$1")
	echo "$_run" | jq -e --arg p "$2" '(.recorded | not) and
	    .verdict == null and (.not_recorded | startswith("not recorded: " + $p))' \
	    > /dev/null || fail "run $1 during the fault: $_run"
	expect_eq "$(dbq "SELECT coalesce(verdict, 'none') FROM runs WHERE id = $1")" \
	    none "the verdict of run $1 in the database during the fault"
}

# While fault $1 lasts: status explains, no run starts, linkq test exits 2.
check_refusals() {
	lq status
	grep -q "NOT RECORDING: $1" "$T/out" ||
	    fail "linkq status does not say '$1': $(cat "$T/out")"
	lq test -u "$u"
	expect_eq "$rc" 2 "linkq test during the fault: $(cat "$T/out" "$T/err")"
	grep -q "not recorded, so not started: $1" "$T/err" ||
	    fail "linkq test does not say why: $(cat "$T/err")"
}

trace "linkqd and one phone"
start_sim --control "$T/control" "$T/bench.scn"
u=$(sim_udid phone)
start_linkqd "$T/linkqd.conf"
wait_trusted "$u"
store_status | jq -e '.recording and .pending == 0' > /dev/null ||
    fail "status: $(store_status)"

trace "a database locked by another process"
id=$(start_run "$u" quick)
mkfifo "$T/lock"
sqlite3 "$T/linkq.db" < "$T/lock" > /dev/null 2>&1 &
LOCKER=$!
exec 3> "$T/lock"
echo "BEGIN EXCLUSIVE;" >&3
wait_for "! sqlite3 '$T/linkq.db' 'BEGIN IMMEDIATE; ROLLBACK' 2> /dev/null" 10 ||
    fail "sqlite3 did not take the lock"
wait_for "store_status | jq -e '.recording | not' > /dev/null" 10 ||
    fail "status during the lock: $(store_status)"
store_status | jq -e '.problem == "database locked by another process" and
    (.advice | contains("linkq.db"))' > /dev/null ||
    fail "status during the lock: $(store_status)"
check_unrecorded "$id" "database locked by another process"
check_refusals "database locked by another process"

trace "the lock goes: everything lands"
echo "COMMIT;" >&3
exec 3>&-
wait "$LOCKER" || :
wait_for "store_status | jq -e '.recording and .pending == 0' > /dev/null" 20 ||
    fail "status after the lock: $(store_status)"
store_status | jq -e '.recovered_from == "database locked by another process"' \
    > /dev/null || fail "status after the lock: $(store_status)"
check_recorded "$id"
lq status
grep -q "recording again since" "$T/out" ||
    fail "linkq status does not say it recovered: $(cat "$T/out")"

trace "the database made read-only under linkqd (chattr +i)"
touch "$T/attr"
if chattr +i "$T/attr" 2> /dev/null; then
	chattr -i "$T/attr"
	# At once after the 201, which comes once the run's row is in:
	# a run of 3 s may be over, and everything of it written, by the
	# time its first probes show in the database on a slow machine
	# (TSan), and a database nothing writes to shows no fault.
	id=$(start_run "$u" quick)
	expect_eq "$(dbq "SELECT count(*) FROM runs WHERE id = $id")" 1 \
	    "run $id in the database after its 201"
	IMMUTABLE="$DB $DB-wal"
	chattr +i $IMMUTABLE
	wait_for "store_status | jq -e '.recording | not' > /dev/null" 10 ||
	    fail "status of a read-only database: $(store_status)"
	store_status | jq -e '.problem == "database is read-only"' \
	    > /dev/null || fail "status of a read-only database: $(store_status)"
	check_unrecorded "$id" "database is read-only"
	check_refusals "database is read-only"
	chattr -i $IMMUTABLE
	IMMUTABLE=
	wait_for "store_status | jq -e '.recording and .pending == 0' > /dev/null" 20 ||
	    fail "status after the read-only database: $(store_status)"
	store_status | jq -e '.recovered_from == "database is read-only"' \
	    > /dev/null || fail "status after read-only: $(store_status)"
	check_recorded "$id"
else
	echo "skipped the read-only file under linkqd: chattr +i not" \
	    "permitted here ($(id -un))" >&2
fi

trace "a database that is read-only at the start stops linkqd"
stop_linkqd
if mount_tmpfs "$T/ro" 8M; then
	sqlite3 "$T/linkq.db" "PRAGMA wal_checkpoint(TRUNCATE)" > /dev/null
	cp "$T/linkq.db" "$T/ro/linkq.db"
	mount -o remount,ro "$T/ro" || fail "cannot remount $T/ro read-only"
	rodb=$T/ro/linkq.db
else
	echo "mount not permitted: a read-only file instead" >&2
	mkdir "$T/ro"
	cp "$T/linkq.db" "$T/ro/linkq.db"
	chmod 444 "$T/ro/linkq.db"
	chmod 555 "$T/ro"
	rodb=$T/ro/linkq.db
fi
rc=0
"$BUILD/linkqd" -d -f "$T/linkqd-run.conf" -s "$T/ro.sock" --db "$rodb" \
    2> "$T/ro.err" || rc=$?
[ "$rc" -ne 0 ] || fail "linkqd started on a read-only database"
grep -q "read-only.*make it writable" "$T/ro.err" ||
    fail "no clear refusal: $(cat "$T/ro.err")"

trace "a full file system"
if ! mount_tmpfs "$T/full" 4M; then
	echo "skipped the full disk: mount not permitted ($(id -un))" >&2
	exit 0
fi
DB=$T/full/linkq.db
"$BUILD/linkqd" -d -v -f "$T/linkqd-run.conf" -s "$T/linkqd.sock" \
    --db "$T/full/linkq.db" 2>> "$T/linkqd.err" &
LINKQD_PID=$!
wait_for "[ -S '$T/linkqd.sock' ]" 20 || fail "linkqd did not start"
wait_trusted "$u"
id=$(start_run "$u" quick)
dd if=/dev/zero of="$T/full/filler" bs=64k 2> /dev/null || :
wait_for "store_status | jq -e '.recording | not' > /dev/null" 20 ||
    fail "status on a full disk: $(store_status)"
store_status | jq -e '.problem == "database is full" and
    (.advice | contains("free space"))' > /dev/null ||
    fail "status on a full disk: $(store_status)"
check_unrecorded "$id" "database is full"
check_refusals "database is full"

trace "space again: everything lands"
rm -f "$T/full/filler"
wait_for "store_status | jq -e '.recording and .pending == 0' > /dev/null" 20 ||
    fail "status after the full disk: $(store_status)"
check_recorded "$id"
expect_eq "$(dbq 'PRAGMA integrity_check')" ok \
    "integrity"
stop_linkqd
