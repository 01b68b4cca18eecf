-- SPDX-License-Identifier: ISC
-- Copyright (c) 2026 The linkq authors
--
-- The report's summaries (issue 18, item 7): what the report needs of
-- the ended qualification runs, summed per cell (cable, port, device)
-- and period, so that `linkq report` reads a few thousand rows instead
-- of every run (include/lq-report.h says how it combines them).
--
-- A period is 28 days: started_us / 2419200000000, periods since the
-- epoch (UTC, each from a Thursday 00:00). A report --since sums the
-- whole periods in its range from report_cells and reads the runs of
-- its partial first period directly. Why not a day, or a week: on the
-- benchmark's history (100k runs over two years, 192 cells) a day holds
-- less than one run per cell, so its summaries would be as many rows as
-- the runs, and weeks (19k rows) cost most of the report's 100 ms in
-- reading and memory; 28 days make 4.8k rows, and the partial period
-- read run by run is at most 28 days of runs.
--
-- How they stay current: triggers only mark what changed (a run that
-- ended or changed after it ended, an event that counts for an ended
-- run, an attachment whose cable or speed changed) in report_dirty,
-- and the store writes `INSERT INTO report_refresh VALUES (1)` before
-- each COMMIT, which recomputes the marked runs and their cells from
-- scratch in that same transaction (the trigger at the end). Every
-- figure is thereby what a computation from the runs gives, whichever
-- change made it, retention's deletions of events included. A writer
-- that does not refresh leaves report_dirty non-empty, and the report
-- then reads the runs, as it did before this migration. The marks are
-- guarded with NOT EXISTS, not INSERT OR IGNORE: inside the DO UPDATE
-- of the store's rollup upsert, whose triggers update runs, SQLite
-- applies the upsert's ABORT to the trigger's OR IGNORE.
--
-- Kept per cell and period (report_cells), exactly:
--   runs, passed, marginal, failed: runs and their verdicts
--   probes: each run's probes, or its trials where more (schema 0003)
--   failures, timeouts, bulk_bytes: summed over the runs
--   load_us, bytes, round_trips: the exposure of the runs that ended
--     with a verdict (round trips: probes but bulk ones)
--   speed_max; speed_min (of the runs that negotiated one) and
--     speed_min_run, the first run at it; last_us, the newest start;
--     fixed, the runs whose cable rests on a fixed declaration
--   bulk_vals, lat_vals: each run's bulk throughput and mean
--     lockdown-query round trip as exact fractions "BYTES/US" and
--     "US/N", separated by spaces, for the percentiles across runs
-- and per cell, period and event kind (report_cell_events) the hard and
-- latency-outlier events of the runs, with the errno of the first
-- event of the first run whose first event of that kind had one.

CREATE TABLE report_runs (
	run_id		INTEGER PRIMARY KEY,
	cable_id	INTEGER NOT NULL,	-- 0: no cable
	port_id		INTEGER NOT NULL,
	device_id	INTEGER NOT NULL,
	period		INTEGER NOT NULL,
	started_us	INTEGER NOT NULL,
	verdict		TEXT,
	probes		INTEGER NOT NULL,
	failures	INTEGER NOT NULL,
	timeouts	INTEGER NOT NULL,
	bulk_bytes	INTEGER NOT NULL,
	bulk_us		INTEGER NOT NULL,
	query_probes	INTEGER NOT NULL,
	query_us	INTEGER NOT NULL,
	load_us		INTEGER NOT NULL,	-- 0 without a verdict
	bytes		INTEGER NOT NULL,	-- 0 without a verdict
	round_trips	INTEGER NOT NULL,	-- 0 without a verdict
	speed		INTEGER NOT NULL,	-- 0: unknown
	fixed		INTEGER NOT NULL
);
CREATE INDEX report_runs_cell ON report_runs (cable_id, port_id,
    device_id, period);

CREATE TABLE report_cells (
	cable_id	INTEGER NOT NULL,
	port_id		INTEGER NOT NULL,
	device_id	INTEGER NOT NULL,
	period		INTEGER NOT NULL,
	runs		INTEGER NOT NULL,
	passed		INTEGER NOT NULL,
	marginal	INTEGER NOT NULL,
	failed		INTEGER NOT NULL,
	probes		INTEGER NOT NULL,
	failures	INTEGER NOT NULL,
	timeouts	INTEGER NOT NULL,
	bulk_bytes	INTEGER NOT NULL,
	load_us		INTEGER NOT NULL,
	bytes		INTEGER NOT NULL,
	round_trips	INTEGER NOT NULL,
	speed_max	INTEGER NOT NULL,
	speed_min	INTEGER,		-- NULL: none negotiated
	speed_min_run	INTEGER,
	last_us		INTEGER NOT NULL,
	fixed		INTEGER NOT NULL,
	bulk_vals	TEXT,
	lat_vals	TEXT,
	-- Week first: a report reads a range of periods, in this order.
	PRIMARY KEY (period, cable_id, port_id, device_id)
) WITHOUT ROWID;

CREATE TABLE report_cell_events (
	cable_id	INTEGER NOT NULL,
	port_id		INTEGER NOT NULL,
	device_id	INTEGER NOT NULL,
	period		INTEGER NOT NULL,
	kind		TEXT NOT NULL,
	n		INTEGER NOT NULL,
	errno		INTEGER NOT NULL,	-- 0: none
	errno_run	INTEGER,		-- the run it came from
	PRIMARY KEY (period, cable_id, port_id, device_id, kind)
) WITHOUT ROWID;

-- Runs to recompute, and the cells and periods they were and are in.
CREATE TABLE report_dirty (
	run_id		INTEGER PRIMARY KEY
);
CREATE TABLE report_dirty_cells (
	cable_id	INTEGER NOT NULL,
	port_id		INTEGER NOT NULL,
	device_id	INTEGER NOT NULL,
	period		INTEGER NOT NULL,
	PRIMARY KEY (cable_id, port_id, device_id, period)
) WITHOUT ROWID;

CREATE TRIGGER runs_report_insert AFTER INSERT ON runs
WHEN NEW.state <> 'running'
BEGIN
	INSERT INTO report_dirty (run_id) SELECT NEW.id WHERE NOT EXISTS
	    (SELECT 1 FROM report_dirty WHERE run_id = NEW.id);
END;

-- A run's end, and its totals written after it (the rollups come last
-- in a commit).
CREATE TRIGGER runs_report_update AFTER UPDATE ON runs
WHEN OLD.state <> 'running' OR NEW.state <> 'running'
BEGIN
	INSERT INTO report_dirty (run_id) SELECT OLD.id WHERE NOT EXISTS
	    (SELECT 1 FROM report_dirty WHERE run_id = OLD.id);
	INSERT INTO report_dirty (run_id) SELECT NEW.id WHERE NOT EXISTS
	    (SELECT 1 FROM report_dirty WHERE run_id = NEW.id);
END;

CREATE TRIGGER runs_report_delete AFTER DELETE ON runs
BEGIN
	INSERT INTO report_dirty (run_id) SELECT OLD.id WHERE NOT EXISTS
	    (SELECT 1 FROM report_dirty WHERE run_id = OLD.id);
END;

CREATE TRIGGER events_report_insert AFTER INSERT ON events
WHEN NEW.run_id IS NOT NULL AND (NEW.kind = 'latency-outlier' OR
    NEW.kind IN (SELECT name FROM event_kinds WHERE class = 'hard'))
BEGIN
	INSERT INTO report_dirty (run_id) SELECT NEW.run_id WHERE NOT EXISTS
	    (SELECT 1 FROM report_dirty WHERE run_id = NEW.run_id);
END;

CREATE TRIGGER events_report_delete AFTER DELETE ON events
WHEN OLD.run_id IS NOT NULL AND (OLD.kind = 'latency-outlier' OR
    OLD.kind IN (SELECT name FROM event_kinds WHERE class = 'hard'))
BEGIN
	INSERT INTO report_dirty (run_id) SELECT OLD.run_id WHERE NOT EXISTS
	    (SELECT 1 FROM report_dirty WHERE run_id = OLD.run_id);
END;

CREATE TRIGGER events_report_update AFTER UPDATE OF run_id, kind, errno
ON events
BEGIN
	INSERT INTO report_dirty (run_id) SELECT OLD.run_id
	WHERE OLD.run_id IS NOT NULL AND NOT EXISTS
	    (SELECT 1 FROM report_dirty WHERE run_id = OLD.run_id);
	INSERT INTO report_dirty (run_id) SELECT NEW.run_id
	WHERE NEW.run_id IS NOT NULL AND NOT EXISTS
	    (SELECT 1 FROM report_dirty WHERE run_id = NEW.run_id);
END;

CREATE TRIGGER attachments_report_update AFTER UPDATE OF cable_id,
    cable_fixed, port_id, device_id, speed_mbps ON attachments
BEGIN
	INSERT INTO report_dirty (run_id)
	SELECT id FROM runs WHERE attachment_id = NEW.id
	AND state <> 'running' AND id NOT IN (SELECT run_id FROM report_dirty);
END;

-- Insert a row here to recompute what report_dirty names.
CREATE VIEW report_refresh (go) AS SELECT 1;

CREATE TRIGGER report_refresh INSTEAD OF INSERT ON report_refresh
WHEN EXISTS (SELECT 1 FROM report_dirty)
BEGIN
	-- The cells and periods the runs counted in before.
	INSERT INTO report_dirty_cells
	SELECT DISTINCT cable_id, port_id, device_id, period FROM report_runs
	WHERE run_id IN (SELECT run_id FROM report_dirty);
	DELETE FROM report_runs WHERE run_id IN
	    (SELECT run_id FROM report_dirty);
	INSERT INTO report_runs (run_id, cable_id, port_id, device_id, period,
	    started_us, verdict, probes, failures, timeouts, bulk_bytes,
	    bulk_us, query_probes, query_us, load_us, bytes, round_trips,
	    speed, fixed)
	SELECT r.id, coalesce(a.cable_id, 0), a.port_id, a.device_id,
	    r.started_us / 2419200000000, r.started_us, r.verdict,
	    max(r.total_probes, coalesce(r.trials, 0)),
	    r.total_failures, r.total_timeouts, r.total_bulk_bytes,
	    r.total_bulk_us, r.total_query_probes, r.total_query_us,
	    iif(r.verdict IS NULL, 0, r.total_load_us),
	    iif(r.verdict IS NULL, 0, r.total_bytes),
	    iif(r.verdict IS NULL, 0,
	    max(r.total_probes, coalesce(r.trials, 0)) -
	    min(r.total_bulk_probes, max(r.total_probes,
	    coalesce(r.trials, 0)))),
	    coalesce(a.speed_mbps, 0),
	    a.cable_id IS NOT NULL AND a.cable_fixed <> 0
	FROM runs r JOIN attachments a ON a.id = r.attachment_id
	WHERE r.id IN (SELECT run_id FROM report_dirty)
	AND r.state <> 'running' AND r.kind = 'qualify';
	-- And the ones they count in now.
	INSERT INTO report_dirty_cells
	SELECT DISTINCT cable_id, port_id, device_id, period FROM report_runs
	WHERE run_id IN (SELECT run_id FROM report_dirty)
	AND (cable_id, port_id, device_id, period) NOT IN
	    (SELECT cable_id, port_id, device_id, period
	    FROM report_dirty_cells);
	DELETE FROM report_dirty;

	DELETE FROM report_cells WHERE (period, cable_id, port_id, device_id)
	    IN (SELECT period, cable_id, port_id, device_id
	    FROM report_dirty_cells);
	INSERT INTO report_cells (cable_id, port_id, device_id, period, runs,
	    passed, marginal, failed, probes, failures, timeouts,
	    bulk_bytes, load_us, bytes, round_trips, speed_max, speed_min,
	    speed_min_run, last_us, fixed, bulk_vals, lat_vals)
	SELECT cable_id, port_id, device_id, period, count(*),
	    sum(verdict IS 'PASS'), sum(verdict IS 'MARGINAL'),
	    sum(verdict IS 'FAIL'), sum(probes), sum(failures),
	    sum(timeouts), sum(bulk_bytes), sum(load_us), sum(bytes),
	    sum(round_trips), max(speed),
	    min(iif(speed > 0, speed, NULL)), NULL, max(started_us),
	    sum(fixed),
	    group_concat(iif(bulk_us > 0 AND bulk_bytes > 0,
	    bulk_bytes || '/' || bulk_us, NULL), ' '),
	    group_concat(iif(query_probes > 0,
	    query_us || '/' || query_probes, NULL), ' ')
	FROM report_runs
	WHERE (cable_id, port_id, device_id, period) IN
	    (SELECT cable_id, port_id, device_id, period
	    FROM report_dirty_cells)
	GROUP BY cable_id, port_id, device_id, period;
	UPDATE report_cells SET speed_min_run = (SELECT min(rr.run_id)
	    FROM report_runs rr WHERE rr.cable_id = report_cells.cable_id
	    AND rr.port_id = report_cells.port_id
	    AND rr.device_id = report_cells.device_id
	    AND rr.period = report_cells.period
	    AND rr.speed = report_cells.speed_min)
	WHERE speed_min IS NOT NULL AND (period, cable_id, port_id, device_id)
	    IN (SELECT period, cable_id, port_id, device_id
	    FROM report_dirty_cells);

	-- Events by run and kind first, with the errno of each run's first
	-- event of the kind (SQLite's rule: a bare column beside the one
	-- min() of a query comes from the row of that min()); then by cell
	-- and period, where first is the first run with an errno and its
	-- errno in one number (errno + 2^19 below 2^20).
	DELETE FROM report_cell_events WHERE (period, cable_id, port_id,
	    device_id) IN (SELECT period, cable_id, port_id, device_id
	    FROM report_dirty_cells);
	INSERT INTO report_cell_events (cable_id, port_id, device_id, period,
	    kind, n, errno, errno_run)
	SELECT cable_id, port_id, device_id, period, kind, n,
	    iif(first IS NULL, 0, first % 1048576 - 524288),
	    first / 1048576
	FROM (SELECT cable_id, port_id, device_id, period, kind, sum(n) AS n,
		min(iif(errno <> 0 AND abs(errno) < 524288,
		run_id * 1048576 + errno + 524288, NULL)) AS first
	    FROM (SELECT rr.cable_id, rr.port_id, rr.device_id, rr.period,
		    e.kind, e.run_id, count(*) AS n,
		    coalesce(e.errno, 0) AS errno, min(e.id)
		FROM report_runs rr JOIN events e ON e.run_id = rr.run_id
		WHERE (rr.cable_id, rr.port_id, rr.device_id, rr.period) IN
		    (SELECT cable_id, port_id, device_id, period
		    FROM report_dirty_cells)
		AND (e.kind = 'latency-outlier' OR e.kind IN
		    (SELECT name FROM event_kinds WHERE class = 'hard'))
		GROUP BY e.run_id, e.kind)
	    GROUP BY cable_id, port_id, device_id, period, kind);
	DELETE FROM report_dirty_cells;
END;

-- Fill them for the history there is.
INSERT INTO report_dirty (run_id)
SELECT id FROM runs WHERE state <> 'running' AND kind = 'qualify';
INSERT INTO report_refresh (go) VALUES (1);

-- And `linkq runs --verdict` finds a rare verdict newest first without
-- walking every run (common/history.c).
CREATE INDEX runs_verdict ON runs (verdict);
