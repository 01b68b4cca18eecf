#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# A program that opens the store on a file that is not a linkq database
# fails with a message that names the file and says what to do, and the
# file is left byte for byte as it was; a linkq database it has written
# is reopened and extended, not replaced.

. "$(dirname "$0")/lib.sh"

check_refused() {
	file=$1 why=$2
	before=$(cksum < "$file")
	if "$BUILD/bench/lq-gendb" -q -r 1 "$file" 2> "$T/err"; then
		fail "$file was accepted"
	fi
	cat "$T/err"
	grep -q "$file" "$T/err" || fail "the message does not name $file"
	grep -q "$why" "$T/err" || fail "the message does not say '$why'"
	grep -q "left untouched" "$T/err" || fail "no word on the file's fate"
	expect_eq "$(cksum < "$file")" "$before" "contents of $file"
	[ ! -e "$file-wal" ] || fail "a WAL file appeared next to $file"
}

trace "a text file"
printf 'cable A-03 is in port 1-4\n' > "$T/notes.db"
check_refused "$T/notes.db" "not a linkq database"

trace "another program's SQLite database"
sqlite3 "$T/other.db" "CREATE TABLE contacts (name TEXT);
    INSERT INTO contacts VALUES ('x')"
check_refused "$T/other.db" "another program"

trace "a linkq database from a newer linkq"
"$BUILD/bench/lq-gendb" -q -r 2 "$T/future.db"
sqlite3 "$T/future.db" "PRAGMA user_version = 999"
check_refused "$T/future.db" "newer linkq"

trace "a linkq database is reopened and extended"
"$BUILD/bench/lq-gendb" -q -r 5 -p 10 "$T/mine.db"
"$BUILD/bench/lq-gendb" -q -r 5 -p 10 "$T/mine.db"
expect_eq "$(sqlite3 "$T/mine.db" 'SELECT count(*) FROM runs')" 10 "runs"
expect_eq "$(sqlite3 "$T/mine.db" 'SELECT count(*) FROM hosts')" 1 "hosts"
