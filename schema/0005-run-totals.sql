-- SPDX-License-Identifier: ISC
-- Copyright (c) 2026 The linkq authors
--
-- Each run's probe totals, kept on the run itself, so that a report
-- over 100k runs reads 100k rows rather than the 600k of run_rollups
-- (bench/README.md, report). Two triggers keep them equal to the sums
-- of the run's rollups, whoever writes those; the rollups stay for the
-- figures per kind. Rollups are never deleted, and an update never
-- moves one to another run (run_id and kind are its key).
--
--   total_probes, total_failures, total_timeouts: over every kind
--   total_bulk_bytes, total_bulk_us: bulk probes' bytes and time
--   total_query_probes, total_query_us: lockdown-query's count and time

ALTER TABLE runs ADD COLUMN total_probes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN total_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN total_timeouts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN total_bulk_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN total_bulk_us INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN total_query_probes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN total_query_us INTEGER NOT NULL DEFAULT 0;

UPDATE runs SET
	total_probes = t.probes,
	total_failures = t.failures,
	total_timeouts = t.timeouts,
	total_bulk_bytes = t.bulk_bytes,
	total_bulk_us = t.bulk_us,
	total_query_probes = t.query_probes,
	total_query_us = t.query_us
FROM (
	SELECT	run_id,
		sum(probes) AS probes,
		sum(failures) AS failures,
		sum(timeouts) AS timeouts,
		coalesce(sum(CASE WHEN kind = 5 THEN bytes END), 0) AS bulk_bytes,
		coalesce(sum(CASE WHEN kind = 5 THEN latency_sum_us END),
		    0) AS bulk_us,
		coalesce(sum(CASE WHEN kind = 2 THEN probes END), 0) AS query_probes,
		coalesce(sum(CASE WHEN kind = 2 THEN latency_sum_us END),
		    0) AS query_us
	FROM run_rollups GROUP BY run_id
) AS t
WHERE runs.id = t.run_id;

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
		    iif(NEW.kind = 2, NEW.latency_sum_us, 0)
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
		    iif(OLD.kind = 2, OLD.latency_sum_us, 0)
	WHERE id = NEW.run_id;
END;
