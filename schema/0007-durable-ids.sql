-- SPDX-License-Identifier: ISC
-- Copyright (c) 2026 The linkq authors
--
-- Ids that are handed out are never handed out again. A run's id goes to
-- its client in the 201 and into reports, an attachment's into runs and
-- the API, an event's to the clients that follow the log: without
-- AUTOINCREMENT SQLite gives the largest id again once that row is gone
-- (retention prunes events), and a client would take a new row for the
-- old one. SQLite adds AUTOINCREMENT only by rebuilding a table: the
-- store runs every migration with foreign keys off and checked before
-- the commit (PRAGMA foreign_key_check), and with the legacy ALTER TABLE
-- rules, so that the views, triggers and the other tables' REFERENCES
-- name the rebuilt table as they named the old one. Probes keep plain
-- ids: nothing outside the store ever holds one, and their table is the
-- largest by far.
--
-- And an attachment that an earlier linkqd left open (killed, crashed,
-- lost its power) is closed at the next start with end_reason
-- 'interrupted', as its runs are closed with state 'interrupted'.

CREATE TABLE attachments_new (
	id		INTEGER PRIMARY KEY AUTOINCREMENT,
	device_id	INTEGER NOT NULL REFERENCES devices (id),
	port_id		INTEGER NOT NULL REFERENCES ports (id),
	cable_id	INTEGER REFERENCES cables (id),
	mode		TEXT NOT NULL DEFAULT 'normal'
	    CHECK (mode IN ('normal', 'recovery', 'dfu', 'wtf')),
	speed_mbps	INTEGER,
	bus		INTEGER,
	devnum		INTEGER,
	location_id	INTEGER,
	started_us	INTEGER NOT NULL,
	ended_us	INTEGER,
	end_reason	TEXT CHECK (end_reason IS NULL OR end_reason IN
	    ('unplug', 'dropout', 'reset', 'stranded', 'mode-change',
	    'shutdown', 'interrupted')),
	previous_id	INTEGER REFERENCES attachments (id),
	cable_fixed	INTEGER NOT NULL DEFAULT 0
	    CHECK (cable_fixed IN (0, 1))
);
INSERT INTO attachments_new (id, device_id, port_id, cable_id, mode,
    speed_mbps, bus, devnum, location_id, started_us, ended_us, end_reason,
    previous_id, cable_fixed)
SELECT id, device_id, port_id, cable_id, mode, speed_mbps, bus, devnum,
    location_id, started_us, ended_us, end_reason, previous_id, cable_fixed
FROM attachments;
DROP TABLE attachments;
ALTER TABLE attachments_new RENAME TO attachments;
CREATE INDEX attachments_device ON attachments (device_id, started_us);
CREATE INDEX attachments_port ON attachments (port_id, started_us);
CREATE INDEX attachments_cable ON attachments (cable_id, started_us);

CREATE TABLE runs_new (
	id		INTEGER PRIMARY KEY AUTOINCREMENT,
	attachment_id	INTEGER NOT NULL REFERENCES attachments (id),
	profile		TEXT NOT NULL CHECK (profile <> ''),
	state		TEXT NOT NULL DEFAULT 'running' CHECK (state IN
	    ('running', 'done', 'cancelled', 'interrupted', 'error')),
	verdict		TEXT CHECK (verdict IS NULL OR verdict IN
	    ('PASS', 'MARGINAL', 'FAIL')),
	reasons		TEXT,
	started_us	INTEGER NOT NULL,
	ended_us	INTEGER,
	trials		INTEGER CHECK (trials IS NULL OR trials >= 0),
	total_probes	INTEGER NOT NULL DEFAULT 0,
	total_failures	INTEGER NOT NULL DEFAULT 0,
	total_timeouts	INTEGER NOT NULL DEFAULT 0,
	total_bulk_bytes INTEGER NOT NULL DEFAULT 0,
	total_bulk_us	INTEGER NOT NULL DEFAULT 0,
	total_query_probes INTEGER NOT NULL DEFAULT 0,
	total_query_us	INTEGER NOT NULL DEFAULT 0,
	total_load_us	INTEGER NOT NULL DEFAULT 0,
	total_bytes	INTEGER NOT NULL DEFAULT 0,
	total_bulk_probes INTEGER NOT NULL DEFAULT 0
);
INSERT INTO runs_new (id, attachment_id, profile, state, verdict, reasons,
    started_us, ended_us, trials, total_probes, total_failures,
    total_timeouts, total_bulk_bytes, total_bulk_us, total_query_probes,
    total_query_us, total_load_us, total_bytes, total_bulk_probes)
SELECT id, attachment_id, profile, state, verdict, reasons, started_us,
    ended_us, trials, total_probes, total_failures, total_timeouts,
    total_bulk_bytes, total_bulk_us, total_query_probes, total_query_us,
    total_load_us, total_bytes, total_bulk_probes
FROM runs;
DROP TABLE runs;
ALTER TABLE runs_new RENAME TO runs;
CREATE INDEX runs_attachment ON runs (attachment_id);
CREATE INDEX runs_started ON runs (started_us);

CREATE TABLE events_new (
	id		INTEGER PRIMARY KEY AUTOINCREMENT,
	ts_us		INTEGER NOT NULL,
	source		TEXT NOT NULL CHECK (source IN ('usbmuxd', 'libusb',
	    'kmsg', 'usbmon', 'probe', 'daemon', 'user')),
	kind		TEXT NOT NULL REFERENCES event_kinds (name),
	host_id		INTEGER REFERENCES hosts (id),
	port_id		INTEGER REFERENCES ports (id),
	attachment_id	INTEGER REFERENCES attachments (id),
	run_id		INTEGER REFERENCES runs (id),
	errno		INTEGER,
	detail		TEXT
);
INSERT INTO events_new (id, ts_us, source, kind, host_id, port_id,
    attachment_id, run_id, errno, detail)
SELECT id, ts_us, source, kind, host_id, port_id, attachment_id, run_id,
    errno, detail
FROM events;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
CREATE INDEX events_ts ON events (ts_us);
CREATE INDEX events_attachment ON events (attachment_id);
CREATE INDEX events_run ON events (run_id);

-- The largest id each table ever gave, even of rows since deleted.
INSERT INTO sqlite_sequence (name, seq)
SELECT 'attachments', max(id) FROM attachments WHERE id IS NOT NULL
UNION ALL SELECT 'runs', max(id) FROM runs WHERE id IS NOT NULL
UNION ALL SELECT 'events', max(id) FROM events WHERE id IS NOT NULL;
DELETE FROM sqlite_sequence WHERE seq IS NULL;

UPDATE event_kinds SET description =
    'a run was interrupted by a shutdown or a crash of linkqd'
WHERE name = 'interrupted';
