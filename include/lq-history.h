/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The history of runs and events as the store keeps it (issue 18, item
 * 1): every run ever recorded, with where it ran (port path and label,
 * cable label, host), and the event log with the port named by its path
 * rather than its row id.
 *
 * It lives in common/ beside the report engine, for the same reason:
 * linkqd's GET /v1/runs, /v1/runs/ID and /v1/events and `linkq runs |
 * show | events --db FILE` run the same SQL on a database and build the
 * same JSON, so both print the same lines. linkqd passes its own
 * connection (store_handle), the client a read-only one.
 *
 * It reads runs with their per-run totals, attachments, ports, cables,
 * devices and events, never the probes table: a filtered list over 100k
 * runs walks the runs table newest first and stops at the limit.
 *
 * Threads: one connection per thread, as SQLite wants; nothing here
 * keeps state between calls. Errors: -1 with *cause allocated, saying
 * what failed in SQLite's words.
 */

#ifndef LQ_HISTORY_H
#define LQ_HISTORY_H

#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

/* Default and largest number of runs a list returns. */
#define LQ_HISTORY_LIMIT	50
#define LQ_HISTORY_LIMIT_MAX	1000

/* Which runs a list keeps; NULL and 0 fields select everything. */
struct lq_history_filter {
	const char	*cable;		/* a cable label */
	const char	*port;		/* a port path, or its label */
	const char	*verdict;	/* "PASS", "MARGINAL" or "FAIL" */
	int64_t		 since_us;	/* runs started at or after */
	unsigned int	 limit;		/* 0: LQ_HISTORY_LIMIT */
};

/*
 * Append to list (a JSON array) the recorded runs f selects, newest
 * first, as run objects (the fields of GET /v1/runs/ID). 0, or -1.
 */
int	 lq_history_runs(sqlite3 *, const struct lq_history_filter *,
	    json_t *, char **);
/* Run id into *run (new reference): 1, 0 if never recorded, or -1. */
int	 lq_history_run(sqlite3 *, int64_t, json_t **, char **);
/*
 * Append to list the events after event id since (0: from the first),
 * of run run (0: of all), oldest first, at most limit. 0, or -1.
 */
int	 lq_history_events(sqlite3 *, int64_t, unsigned int, int64_t,
	    json_t *, char **);
/*
 * Append to list the probe results of run run after probe id after,
 * oldest first, at most limit: id, kind and status by name, ts_us,
 * latency_us, bytes, detail. 0, or -1. For evidence bundles: it reads
 * the probes table, by its (run_id, kind) index.
 */
int	 lq_history_probes(sqlite3 *, int64_t, int64_t, unsigned int,
	    json_t *, char **);
/*
 * The device run run was on, into *dev (new reference): udid,
 * usb_serial, name, product_type, ios_version (null where unknown).
 * 1, 0 if the run was never recorded, or -1.
 */
int	 lq_history_device(sqlite3 *, int64_t, json_t **, char **);
/* Whether run (a run object) is one f selects. */
int	 lq_history_match(const struct lq_history_filter *, json_t *);
/*
 * Merge into live (the runs in linkqd's memory, whose state is newer)
 * the stored runs it lacks, keep those f selects, newest first, at most
 * f's limit. Takes stored's reference.
 */
void	 lq_history_merge(const struct lq_history_filter *, json_t *,
	    json_t *);

/*
 * The timeline of run (common/history-timeline.c), for the HTML report:
 * its time cut into at most LQ_TIMELINE_POINTS buckets of whole seconds,
 * each with its probes, failed probes, bulk MB/s (both ways, the mean
 * of the seconds a bulk probe moved in it) and lockdown-query latency
 * (mean and max, ms); and its first LQ_TIMELINE_EVENTS events, with
 * events_total saying how many there were. Times are ms from the run's
 * start. Reads the run's probes (GET /v1/runs/ID/timeline documents the
 * JSON). 1 with *out (new reference), 0 if the run was never recorded,
 * or -1.
 */
#define LQ_TIMELINE_POINTS	600
#define LQ_TIMELINE_EVENTS	200
int	 lq_history_timeline(sqlite3 *, int64_t, json_t **, char **);

#endif /* LQ_HISTORY_H */
