-- SPDX-License-Identifier: ISC
-- Copyright (c) 2026 The linkq authors
--
-- Views that make `sqlite3 linkq.db` useful on its own. They read the
-- per-run rollups, never the raw probes, so they stay fast on a large
-- history. Event counts are those tagged with the run they happened in.

-- Raw probe results with their names spelled out.
CREATE VIEW probe_results AS
SELECT	p.id, p.run_id, k.name AS kind,
	strftime('%Y-%m-%d %H:%M:%f', p.ts_us / 1e6, 'unixepoch') AS time,
	p.latency_us, p.bytes, s.name AS status, p.detail
FROM probes p
JOIN probe_kinds k ON k.id = p.kind
LEFT JOIN statuses s ON s.code = p.status;

-- One row per run: where it ran, its verdict, probe totals from the
-- rollups and hard events by kind.
CREATE VIEW run_summary AS
SELECT	r.id AS run_id, r.profile, r.state, r.verdict, r.reasons,
	r.started_us, r.ended_us,
	a.id AS attachment_id, a.device_id, a.port_id, a.cable_id,
	a.mode, a.speed_mbps,
	coalesce(ro.probes, 0) AS probes,
	coalesce(ro.failures, 0) AS failures,
	coalesce(ro.timeouts, 0) AS timeouts,
	coalesce(ro.bytes, 0) AS bytes,
	coalesce(ro.bulk_bytes, 0) AS bulk_bytes,
	coalesce(ro.bulk_us, 0) AS bulk_us,
	coalesce(ev.dropouts, 0) AS dropouts,
	coalesce(ev.resets, 0) AS resets,
	coalesce(ev.link_errors, 0) AS link_errors,
	coalesce(ev.corruptions, 0) AS corruptions
FROM runs r
JOIN attachments a ON a.id = r.attachment_id
LEFT JOIN (
	SELECT	run_id, sum(probes) AS probes, sum(failures) AS failures,
		sum(timeouts) AS timeouts, sum(bytes) AS bytes,
		sum(CASE WHEN kind = 5 THEN bytes END) AS bulk_bytes,
		sum(CASE WHEN kind = 5 THEN latency_sum_us END) AS bulk_us
	FROM run_rollups GROUP BY run_id
) ro ON ro.run_id = r.id
LEFT JOIN (
	SELECT	run_id,
		sum(kind IN ('dropout', 'stranded')) AS dropouts,
		sum(kind IN ('reset', 'reenumeration')) AS resets,
		sum(kind IN ('link-error', 'urb-error')) AS link_errors,
		sum(kind = 'corruption') AS corruptions
	FROM events WHERE run_id IS NOT NULL GROUP BY run_id
) ev ON ev.run_id = r.id;

-- One row per (cable, port) pair that has been tested.
CREATE VIEW pair_summary AS
SELECT	c.label AS cable, p.path AS port, p.label AS port_label,
	h.hostname AS host,
	count(*) AS runs,
	sum(rs.verdict = 'PASS') AS passed,
	sum(rs.verdict = 'MARGINAL') AS marginal,
	sum(rs.verdict = 'FAIL') AS failed,
	sum(rs.probes) AS probes, sum(rs.failures) AS failures,
	sum(rs.timeouts) AS timeouts, sum(rs.bytes) AS bytes,
	sum(rs.dropouts) AS dropouts, sum(rs.resets) AS resets,
	sum(rs.link_errors) AS link_errors,
	sum(rs.corruptions) AS corruptions,
	round(sum(rs.bulk_bytes) / nullif(sum(rs.bulk_us), 0), 2)
	    AS bulk_mb_s,
	max(rs.speed_mbps) AS best_speed_mbps,
	datetime(max(rs.started_us) / 1000000, 'unixepoch') AS last_tested,
	(SELECT	r2.verdict FROM runs r2
	    JOIN attachments a2 ON a2.id = r2.attachment_id
	    WHERE a2.port_id = rs.port_id AND a2.cable_id IS rs.cable_id
	    AND r2.verdict IS NOT NULL
	    ORDER BY r2.started_us DESC LIMIT 1) AS last_verdict
FROM run_summary rs
JOIN ports p ON p.id = rs.port_id
JOIN hosts h ON h.id = p.host_id
LEFT JOIN cables c ON c.id = rs.cable_id
GROUP BY rs.cable_id, rs.port_id;

-- One row per cable that has been tested, on whatever port.
CREATE VIEW cable_summary AS
SELECT	c.label AS cable,
	count(DISTINCT rs.port_id) AS ports,
	count(*) AS runs,
	sum(rs.verdict = 'PASS') AS passed,
	sum(rs.verdict = 'MARGINAL') AS marginal,
	sum(rs.verdict = 'FAIL') AS failed,
	sum(rs.probes) AS probes, sum(rs.failures) AS failures,
	sum(rs.timeouts) AS timeouts, sum(rs.bytes) AS bytes,
	sum(rs.dropouts) AS dropouts, sum(rs.resets) AS resets,
	sum(rs.link_errors) AS link_errors,
	sum(rs.corruptions) AS corruptions,
	round(sum(rs.bulk_bytes) / nullif(sum(rs.bulk_us), 0), 2)
	    AS bulk_mb_s,
	max(rs.speed_mbps) AS best_speed_mbps,
	datetime(max(rs.started_us) / 1000000, 'unixepoch') AS last_tested
FROM run_summary rs
JOIN cables c ON c.id = rs.cable_id
GROUP BY rs.cable_id;

-- One row per port that has been tested, with whatever cable.
CREATE VIEW port_summary AS
SELECT	p.path AS port, p.label AS port_label, p.hub_depth,
	h.hostname AS host,
	count(DISTINCT rs.cable_id) AS cables,
	count(*) AS runs,
	sum(rs.verdict = 'PASS') AS passed,
	sum(rs.verdict = 'MARGINAL') AS marginal,
	sum(rs.verdict = 'FAIL') AS failed,
	sum(rs.probes) AS probes, sum(rs.failures) AS failures,
	sum(rs.timeouts) AS timeouts, sum(rs.bytes) AS bytes,
	sum(rs.dropouts) AS dropouts, sum(rs.resets) AS resets,
	sum(rs.link_errors) AS link_errors,
	sum(rs.corruptions) AS corruptions,
	round(sum(rs.bulk_bytes) / nullif(sum(rs.bulk_us), 0), 2)
	    AS bulk_mb_s,
	max(rs.speed_mbps) AS best_speed_mbps,
	datetime(max(rs.started_us) / 1000000, 'unixepoch') AS last_tested
FROM run_summary rs
JOIN ports p ON p.id = rs.port_id
JOIN hosts h ON h.id = p.host_id
GROUP BY rs.port_id;
