/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Merging linkq databases (issue 18, item 4): the history of several
 * benches in one file, for linkq merge and for linkq report over
 * several --db files, which merges into a database in memory and
 * reports on that with the one report engine.
 *
 * Rows are matched by their natural keys, never by their ids, so a
 * merge run again adds nothing: a host by machine_id, a port by (host,
 * path), a cable by label, a device by udid, an attachment by (device,
 * port, started_us), a run by (attachment, started_us); a run's probes,
 * rollups and windows come with the run when it is added, and an event
 * by all it says (time, source, kind, where, errno, detail). A run
 * still running in a source is left out, and counted, until a later
 * merge finds it ended.
 *
 * A source is opened read-only, never written; one of an older schema
 * is upgraded in a temporary copy, one of a newer schema refused. Each
 * source is merged in one transaction: a failure leaves the target as
 * it was.
 *
 * Threads: none of its own; the caller owns the connection. Errors: -1
 * with *cause, an allocated sentence (what, and what to do) that the
 * caller frees.
 */

#ifndef LQ_MERGE_H
#define LQ_MERGE_H

#include <stdint.h>

#include <sqlite3.h>

/* Flags for lq_merge_file. */
#define LQ_MERGE_NO_PROBES	0x1	/* runs without their raw probes
					 * and rollups (the report reads
					 * neither) */

/* What a merge added, by table; lq_merge_count_name names each. */
enum lq_merge_count {
	LQ_MERGE_RUNS,
	LQ_MERGE_PROBES,
	LQ_MERGE_EVENTS,
	LQ_MERGE_HOSTS,
	LQ_MERGE_PORTS,
	LQ_MERGE_CABLES,
	LQ_MERGE_DEVICES,
	LQ_MERGE_ATTACHMENTS,
	LQ_MERGE_RUNNING,	/* runs still running, left out */
	LQ_MERGE_NCOUNTS
};

/* "runs", "probes"... as the JSON of linkq merge names them. */
const char	*lq_merge_count_name(enum lq_merge_count);

/*
 * Open the target for writing, made with the current schema if it is
 * missing or empty, upgraded if older; ":memory:" for a private one.
 * NULL with *cause if it is not a linkq database, a newer one, or
 * cannot be written.
 */
sqlite3		*lq_merge_open_into(const char *, char **);
/*
 * Merge the database file src into into (whose path, into_path, tells
 * a source that is the target itself). counts (LQ_MERGE_NCOUNTS) gets
 * what was added. 0, or -1 with *cause and into as it was.
 */
int		 lq_merge_file(sqlite3 *, const char *, const char *, int,
		    int64_t *, char **);

#endif /* LQ_MERGE_H */
