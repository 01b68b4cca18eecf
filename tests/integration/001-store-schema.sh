#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The linkq authors
#
# A database written through the store is a plain SQLite file that
# sqlite3(1) can read on its own: every table and the three summary views
# are there, integrity and foreign keys check out, and the views add up
# to the raw rows.

. "$(dirname "$0")/lib.sh"

db=$T/linkq.db
trace "write a history of 300 runs through the store"
"$BUILD/bench/lq-gendb" -q -r 300 -p 50 -c 10 -P 4 "$db"

trace "tables and views"
tables=$(sqlite3 "$db" "SELECT group_concat(name, ' ') FROM (SELECT name
    FROM sqlite_schema WHERE type = 'table' ORDER BY name)")
expect_eq "$tables" "attachments cables devices event_kinds events hosts \
ports probe_kinds probes report_cell_events report_cells report_dirty \
report_dirty_cells report_runs run_rollups run_windows runs sqlite_sequence \
statuses" "tables"
views=$(sqlite3 "$db" "SELECT group_concat(name, ' ') FROM (SELECT name
    FROM sqlite_schema WHERE type = 'view' ORDER BY name)")
expect_eq "$views" "cable_summary pair_summary port_summary probe_results \
report_refresh run_summary" "views"

trace "integrity"
expect_eq "$(sqlite3 "$db" 'PRAGMA integrity_check')" ok "integrity_check"
expect_eq "$(sqlite3 "$db" 'PRAGMA foreign_key_check')" "" \
    "foreign_key_check"
expect_eq "$(sqlite3 "$db" 'PRAGMA journal_mode')" wal "journal_mode"

trace "the views add up to the raw rows"
expect_eq "$(sqlite3 "$db" 'SELECT sum(runs) FROM pair_summary')" 300 \
    "runs in pair_summary"
expect_eq "$(sqlite3 "$db" 'SELECT sum(probes) FROM cable_summary')" \
    "$(sqlite3 "$db" 'SELECT count(*) FROM probes')" "probes in cables"
expect_eq "$(sqlite3 "$db" 'SELECT sum(failures) FROM port_summary')" \
    "$(sqlite3 "$db" 'SELECT count(*) FROM probes WHERE status != 0')" \
    "failures in ports"
expect_eq "$(sqlite3 "$db" 'SELECT sum(link_errors) FROM pair_summary')" \
    "$(sqlite3 "$db" "SELECT count(*) FROM events
        WHERE kind = 'link-error'")" "link errors in pairs"
# The report's summaries (schema 0009), current after the last commit.
expect_eq "$(sqlite3 "$db" 'SELECT count(*) FROM report_dirty')" 0 \
    "runs left to refresh"
expect_eq "$(sqlite3 "$db" 'SELECT sum(runs) FROM report_cells')" \
    "$(sqlite3 "$db" "SELECT count(*) FROM runs WHERE kind = 'qualify'")" \
    "runs in the report's summaries"
# lq-gendb makes the last port bad: it must fail most where others pass.
worst=$(sqlite3 "$db" 'SELECT port FROM port_summary
    ORDER BY 1.0 * failed / runs DESC LIMIT 1')
expect_eq "$worst" "1-2.2" "worst port"

trace "the same seed writes the same history"
"$BUILD/bench/lq-gendb" -q -r 300 -p 50 -c 10 -P 4 "$T/again.db"
q='SELECT group_concat(cable || port || failed || probes || failures)
    FROM pair_summary'
expect_eq "$(sqlite3 "$T/again.db" "$q")" "$(sqlite3 "$db" "$q")" \
    "second history"
