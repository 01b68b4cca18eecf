-- SPDX-License-Identifier: ISC
-- Copyright (c) 2026 The linkq authors
--
-- Each run's exposure (DESIGN.md, Verdict: evidence is exposure), kept
-- on the run beside its other totals (0005) so that the report pools
-- time under load and bytes moved without reading run_rollups:
--
--   total_load_us: every probe's time, the run's time under load
--   total_bytes: every probe's bytes, both ways
--   total_bulk_probes: bulk probes; the others are round trips
--
-- The triggers of 0005 are replaced by ones that keep these too.
--
-- And a status: a USB transfer that failed with a link error, as libusb
-- reports the kernel's -71, -84, -62 (LIBUSB_TRANSFER_ERROR) and -75
-- (OVERFLOW), apart from other USB errors such as a stall.

INSERT INTO statuses (code, name, message) VALUES
	(-27, 'usb-link', 'USB link error');

-- And whether an attachment's cable rests on a fixed declaration for its
-- port (a farm's one cable per port) rather than on somebody saying so
-- for this attachment: the report says which attributions do.

ALTER TABLE attachments ADD COLUMN cable_fixed INTEGER NOT NULL DEFAULT 0
    CHECK (cable_fixed IN (0, 1));

ALTER TABLE runs ADD COLUMN total_load_us INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN total_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN total_bulk_probes INTEGER NOT NULL DEFAULT 0;

UPDATE runs SET
	total_load_us = t.load_us,
	total_bytes = t.bytes,
	total_bulk_probes = t.bulk_probes
FROM (
	SELECT	run_id,
		sum(latency_sum_us) AS load_us,
		sum(bytes) AS bytes,
		coalesce(sum(CASE WHEN kind = 5 THEN probes END), 0)
		    AS bulk_probes
	FROM run_rollups GROUP BY run_id
) AS t
WHERE runs.id = t.run_id;

DROP TRIGGER run_rollups_totals_insert;
DROP TRIGGER run_rollups_totals_update;

CREATE TRIGGER run_rollups_totals_insert AFTER INSERT ON run_rollups
BEGIN
	UPDATE runs SET
		total_probes = total_probes + NEW.probes,
		total_failures = total_failures + NEW.failures,
		total_timeouts = total_timeouts + NEW.timeouts,
		total_bulk_bytes = total_bulk_bytes +
		    iif(NEW.kind = 5, NEW.bytes, 0),
		total_bulk_us = total_bulk_us +
		    iif(NEW.kind = 5, NEW.latency_sum_us, 0),
		total_query_probes = total_query_probes +
		    iif(NEW.kind = 2, NEW.probes, 0),
		total_query_us = total_query_us +
		    iif(NEW.kind = 2, NEW.latency_sum_us, 0),
		total_load_us = total_load_us + NEW.latency_sum_us,
		total_bytes = total_bytes + NEW.bytes,
		total_bulk_probes = total_bulk_probes +
		    iif(NEW.kind = 5, NEW.probes, 0)
	WHERE id = NEW.run_id;
END;

CREATE TRIGGER run_rollups_totals_update AFTER UPDATE ON run_rollups
BEGIN
	UPDATE runs SET
		total_probes = total_probes + NEW.probes - OLD.probes,
		total_failures = total_failures + NEW.failures - OLD.failures,
		total_timeouts = total_timeouts + NEW.timeouts - OLD.timeouts,
		total_bulk_bytes = total_bulk_bytes +
		    iif(NEW.kind = 5, NEW.bytes, 0) -
		    iif(OLD.kind = 5, OLD.bytes, 0),
		total_bulk_us = total_bulk_us +
		    iif(NEW.kind = 5, NEW.latency_sum_us, 0) -
		    iif(OLD.kind = 5, OLD.latency_sum_us, 0),
		total_query_probes = total_query_probes +
		    iif(NEW.kind = 2, NEW.probes, 0) -
		    iif(OLD.kind = 2, OLD.probes, 0),
		total_query_us = total_query_us +
		    iif(NEW.kind = 2, NEW.latency_sum_us, 0) -
		    iif(OLD.kind = 2, OLD.latency_sum_us, 0),
		total_load_us = total_load_us + NEW.latency_sum_us -
		    OLD.latency_sum_us,
		total_bytes = total_bytes + NEW.bytes - OLD.bytes,
		total_bulk_probes = total_bulk_probes +
		    iif(NEW.kind = 5, NEW.probes, 0) -
		    iif(OLD.kind = 5, OLD.probes, 0)
	WHERE id = NEW.run_id;
END;

-- And the verdict of each window of a run that lasts forever (monitor:
-- an hour), so that a port that degrades over a day shows.

CREATE TABLE run_windows (
	run_id		INTEGER NOT NULL REFERENCES runs (id),
	started_us	INTEGER NOT NULL,
	ended_us	INTEGER NOT NULL CHECK (ended_us >= started_us),
	verdict		TEXT CHECK (verdict IS NULL OR verdict IN
	    ('PASS', 'MARGINAL', 'FAIL')),
	reasons		TEXT,
	PRIMARY KEY (run_id, started_us)
) WITHOUT ROWID;
