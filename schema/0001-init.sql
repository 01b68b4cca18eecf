-- SPDX-License-Identifier: ISC
-- Copyright (c) 2026 The linkq authors
--
-- The linkq store: who was plugged where, through which cable, what was
-- tested and what was seen. Times are microseconds since the epoch (UTC),
-- in columns ending in _us. Migrations are append-only: never edit this
-- file once released, add schema/NNNN-name.sql instead.

-- Vocabulary, seeded here and checked against include/linkq.h and
-- include/lq-status.h by tests/unit/test-store.c.

CREATE TABLE probe_kinds (
	id		INTEGER PRIMARY KEY,
	name		TEXT NOT NULL UNIQUE
);
INSERT INTO probe_kinds (id, name) VALUES
	(1, 'mux-connect'),
	(2, 'lockdown-query'),
	(3, 'lockdown-handshake'),
	(4, 'afc-roundtrip'),
	(5, 'bulk'),
	(6, 'usb-control');

CREATE TABLE statuses (
	code		INTEGER PRIMARY KEY,
	name		TEXT NOT NULL UNIQUE,
	message		TEXT NOT NULL
);
INSERT INTO statuses (code, name, message) VALUES
	(0, 'ok', 'success'),
	(-1, 'invalid', 'invalid argument or request'),
	(-2, 'not-found', 'no such object'),
	(-3, 'exists', 'already exists'),
	(-4, 'permission', 'permission denied'),
	(-5, 'busy', 'resource busy'),
	(-6, 'timeout', 'operation timed out'),
	(-7, 'cancelled', 'operation cancelled'),
	(-8, 'io', 'input/output error'),
	(-9, 'protocol', 'malformed or unexpected message'),
	(-10, 'version', 'version mismatch'),
	(-11, 'store', 'database error'),
	(-12, 'config', 'configuration error'),
	(-13, 'no-device', 'no device attached'),
	(-14, 'disconnected', 'device or connection went away'),
	(-15, 'no-usbmuxd', 'usbmuxd is not reachable'),
	(-16, 'not-paired', 'device does not trust this host'),
	(-17, 'locked', 'device is locked with a passcode'),
	(-18, 'pair-pending', 'waiting for Trust on the device'),
	(-19, 'tls', 'TLS session failed'),
	(-20, 'lockdown', 'lockdownd refused the request'),
	(-21, 'afc', 'AFC service error'),
	(-22, 'corrupt', 'data read back differs from data written'),
	(-23, 'no-space', 'not enough free space on the device'),
	(-24, 'usb', 'USB transfer error'),
	(-25, 'unsupported', 'not possible in this mode'),
	(-26, 'internal', 'internal error');

-- class: hard fails a run at once, soft feeds the sequential test,
-- info is recorded only.
CREATE TABLE event_kinds (
	name		TEXT PRIMARY KEY,
	class		TEXT NOT NULL CHECK (class IN ('hard', 'soft', 'info')),
	description	TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO event_kinds (name, class, description) VALUES
	('dropout', 'hard',
	    'device vanished from usbmuxd or a connection broke'),
	('stranded', 'hard',
	    'device on the USB bus but dropped by usbmuxd until replugged'),
	('reset', 'hard', 'the kernel reset the device'),
	('reenumeration', 'hard',
	    'device re-enumerated on the same port (new device number)'),
	('link-error', 'hard',
	    'kernel reported a USB link error (-71, -84, -62, -75)'),
	('urb-error', 'hard',
	    'usbmon saw a transfer fail with a link error status'),
	('corruption', 'hard', 'data read back differs'),
	('speed-fallback', 'hard',
	    'lower speed than this device negotiated elsewhere'),
	('enumeration-failure', 'hard',
	    'the kernel could not enumerate the device'),
	('emi-reenable', 'hard',
	    'the kernel re-enabled a port disabled by interference'),
	('over-current', 'hard', 'over-current on the port'),
	('hc-failure', 'hard',
	    'the host controller failed (blames the port, not the cable)'),
	('timeout', 'soft', 'an operation missed its deadline'),
	('latency-outlier', 'soft', 'a round trip took far too long'),
	('speed-change', 'info', 'negotiated speed changed'),
	('mode-change', 'info', 'device changed mode (normal, recovery, DFU)'),
	('pairing', 'info', 'device untrusted, locked or waiting for Trust'),
	('unplug', 'info', 'device unplugged by the user'),
	('records-lost', 'info',
	    'kernel log records were lost before linkqd read them'),
	('interrupted', 'info', 'a run was interrupted by shutdown');

-- Things in the world.

-- A machine with USB ports; a database copied from another bench keeps
-- its hosts apart.
CREATE TABLE hosts (
	id		INTEGER PRIMARY KEY,
	machine_id	TEXT NOT NULL UNIQUE,	-- /etc/machine-id
	hostname	TEXT NOT NULL,
	first_seen_us	INTEGER NOT NULL
);

-- A physical USB port, identified by its sysfs path ("1-4.2").
CREATE TABLE ports (
	id		INTEGER PRIMARY KEY,
	host_id		INTEGER NOT NULL REFERENCES hosts (id),
	path		TEXT NOT NULL CHECK (path <> ''),
	label		TEXT,			-- "front-left", "hub-A slot 3"
	hub_depth	INTEGER CHECK (hub_depth IS NULL OR hub_depth >= 0),
	first_seen_us	INTEGER NOT NULL,
	UNIQUE (host_id, path)
);

-- A cable, known only by the label the user gave it ("A-03").
CREATE TABLE cables (
	id		INTEGER PRIMARY KEY,
	label		TEXT NOT NULL UNIQUE CHECK (label <> ''),
	note		TEXT,
	first_seen_us	INTEGER NOT NULL
);

CREATE TABLE devices (
	id		INTEGER PRIMARY KEY,
	udid		TEXT NOT NULL UNIQUE CHECK (udid <> ''),
	usb_serial	TEXT,
	name		TEXT,			-- "Bench iPhone"
	product_type	TEXT,			-- "iPhone14,5"
	ios_version	TEXT,
	first_seen_us	INTEGER NOT NULL,
	last_seen_us	INTEGER NOT NULL
);

-- One continuous period of one device on one port through one cable. It
-- ends with an unplug, a dropout, a reset, a mode change or a shutdown; a
-- re-attach of the same device soon after a dropout or reset points back
-- at the attachment it continues.
CREATE TABLE attachments (
	id		INTEGER PRIMARY KEY,
	device_id	INTEGER NOT NULL REFERENCES devices (id),
	port_id		INTEGER NOT NULL REFERENCES ports (id),
	cable_id	INTEGER REFERENCES cables (id),
	mode		TEXT NOT NULL DEFAULT 'normal'
	    CHECK (mode IN ('normal', 'recovery', 'dfu', 'wtf')),
	speed_mbps	INTEGER,		-- 12, 480, 5000, 10000
	bus		INTEGER,
	devnum		INTEGER,
	location_id	INTEGER,		-- usbmuxd's bus << 16 | devnum
	started_us	INTEGER NOT NULL,
	ended_us	INTEGER,
	end_reason	TEXT CHECK (end_reason IS NULL OR end_reason IN
	    ('unplug', 'dropout', 'reset', 'stranded', 'mode-change',
	    'shutdown')),
	previous_id	INTEGER REFERENCES attachments (id)
);
CREATE INDEX attachments_device ON attachments (device_id, started_us);
CREATE INDEX attachments_port ON attachments (port_id, started_us);
CREATE INDEX attachments_cable ON attachments (cable_id, started_us);

-- A profile executed on an attachment. reasons is a JSON array of
-- sentences a technician understands.
CREATE TABLE runs (
	id		INTEGER PRIMARY KEY,
	attachment_id	INTEGER NOT NULL REFERENCES attachments (id),
	profile		TEXT NOT NULL CHECK (profile <> ''),		-- quick, standard, restore...
	state		TEXT NOT NULL DEFAULT 'running' CHECK (state IN
	    ('running', 'done', 'cancelled', 'interrupted', 'error')),
	verdict		TEXT CHECK (verdict IS NULL OR verdict IN
	    ('PASS', 'MARGINAL', 'FAIL')),
	reasons		TEXT,
	started_us	INTEGER NOT NULL,
	ended_us	INTEGER
);
CREATE INDEX runs_attachment ON runs (attachment_id);
CREATE INDEX runs_started ON runs (started_us);

-- Raw probe results, kept for audit and re-analysis. status is an
-- enum lq_status (0 ok, negative failure; see the statuses table).
CREATE TABLE probes (
	id		INTEGER PRIMARY KEY,
	run_id		INTEGER NOT NULL REFERENCES runs (id),
	kind		INTEGER NOT NULL REFERENCES probe_kinds (id),
	ts_us		INTEGER NOT NULL,	-- when it started
	latency_us	INTEGER NOT NULL CHECK (latency_us >= 0),
	bytes		INTEGER NOT NULL DEFAULT 0 CHECK (bytes >= 0),
	status		INTEGER NOT NULL,
	detail		TEXT			-- "mismatch at offset 1048576"
);
CREATE INDEX probes_run ON probes (run_id, kind);

-- What was observed that is not a probe result. errno is the kernel or
-- libusb error number where there is one (-71 for EPROTO).
CREATE TABLE events (
	id		INTEGER PRIMARY KEY,
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
CREATE INDEX events_ts ON events (ts_us);
CREATE INDEX events_attachment ON events (attachment_id);
CREATE INDEX events_run ON events (run_id);

-- Per-run, per-kind totals of the probes table, maintained by the store
-- in the same transaction as the probes they sum, so that reports need
-- not scan raw results.
CREATE TABLE run_rollups (
	run_id		INTEGER NOT NULL REFERENCES runs (id),
	kind		INTEGER NOT NULL REFERENCES probe_kinds (id),
	probes		INTEGER NOT NULL,
	failures	INTEGER NOT NULL,	-- status != 0
	timeouts	INTEGER NOT NULL,	-- status = -6
	bytes		INTEGER NOT NULL,
	latency_sum_us	INTEGER NOT NULL,
	latency_min_us	INTEGER NOT NULL,
	latency_max_us	INTEGER NOT NULL,
	PRIMARY KEY (run_id, kind)
) WITHOUT ROWID;
