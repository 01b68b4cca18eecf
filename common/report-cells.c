/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Reading the report's summaries (schema/0009-report-summaries.sql):
 * one struct run per cell (cable, port, device) and period, with its
 * events and each of its runs' bulk throughput and round trip, so that
 * the report groups a few thousand of these instead of every run.
 * common/report.c reads the runs of a partial first period itself.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "compat/compat.h"
#include "lq-verdict.h"
#include "report-int.h"
#include "xmalloc.h"

/* The schema that has the summaries. */
#define CELLS_SCHEMA_MIN	9

static int
cells_fail(sqlite3 *db, const char *what, char **cause)
{
	(void)xasprintf(cause, "report: %s: %s", what, sqlite3_errmsg(db));
	return (-1);
}

void
report_vals_add(struct report_vals *p, double v)
{
	if (p->n == p->cap) {
		/* Large steps: the figures of 100k runs are 1.6 MB. */
		p->cap = p->cap ? p->cap * 2 : 65536;
		p->v = xreallocarray(p->v, p->cap, sizeof(*p->v));
	}
	p->v[p->n++] = v;
}

/* The first integer of a query without parameters; -1 on error. */
static int
cells_query_int(sqlite3 *db, const char *sql, int64_t *out)
{
	sqlite3_stmt	*st;
	int		 rc;

	*out = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return (-1);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return (rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1);
}

/*
 * A writer that does not refresh the summaries (one that is not the
 * store) leaves report_dirty non-empty: then the runs are the truth.
 */
int
report_cells_usable(sqlite3 *db, char **cause)
{
	int64_t	version, dirty;

	if (cells_query_int(db, "PRAGMA user_version", &version) == -1)
		return (cells_fail(db, "schema version", cause));
	if (version < CELLS_SCHEMA_MIN)
		return (0);
	if (cells_query_int(db, "SELECT EXISTS (SELECT 1 FROM report_dirty)",
	    &dirty) == -1)
		return (cells_fail(db, "summaries", cause));
	return (dirty == 0);
}

/*
 * Parse "A/B A/B ..." (exact fractions, schema 0009) into the pool as
 * A / B / div, the same double as report.c computes from a run, adding
 * each B to *sum when sum is not NULL; 0 or -1 if it is not that.
 */
static int
cells_vals(const char *s, double div, struct report_vals *pool,
    size_t *off, size_t *n, uint64_t *sum)
{
	unsigned long long	 a, b;
	char			*end;

	*off = pool->n;
	*n = 0;
	while (s != NULL && *s != '\0') {
		errno = 0;
		a = strtoull(s, &end, 10);
		if (end == s || *end != '/' || errno != 0)
			return (-1);
		s = end + 1;
		b = strtoull(s, &end, 10);
		if (end == s || (*end != ' ' && *end != '\0') || errno != 0 ||
		    b == 0)
			return (-1);
		s = *end == ' ' ? end + 1 : end;
		report_vals_add(pool, (double)a / (double)b / div);
		(*n)++;
		if (sum != NULL)
			*sum += b;
	}
	return (0);
}

/* The order of report_cells' primary key: period, cable, port, device. */
static int
cmp_cell(const void *a, const void *b)
{
	const struct run	*x = a, *y = b;

	if (x->period != y->period)
		return (x->period < y->period ? -1 : 1);
	if (x->cable != y->cable)
		return (x->cable < y->cable ? -1 : 1);
	if (x->port != y->port)
		return (x->port < y->port ? -1 : 1);
	return (x->device < y->device ? -1 : x->device > y->device);
}

/* Whether v[0..n) is in cmp_cell's order already, as SQLite reads it. */
static int
cells_sorted(const struct run *v, size_t n)
{
	size_t	i;

	for (i = 1; i < n; i++) {
		if (cmp_cell(&v[i - 1], &v[i]) > 0)
			return (0);
	}
	return (1);
}

/* Add one row of report_cell_events to its cell among v[0..n). */
static void
cells_event(sqlite3_stmt *st, struct run *v, size_t n)
{
	struct run	 key, *r;
	const char	*kind;
	int		 h, err;
	int64_t		 first;

	memset(&key, 0, sizeof(key));
	key.cable = sqlite3_column_int64(st, 0);
	key.port = sqlite3_column_int64(st, 1);
	key.device = sqlite3_column_int64(st, 2);
	key.period = sqlite3_column_int64(st, 3);
	if (n == 0 || (r = bsearch(&key, v, n, sizeof(*v), cmp_cell)) == NULL)
		return;
	kind = (const char *)sqlite3_column_text(st, 4);
	if (kind != NULL && strcmp(kind, "latency-outlier") == 0) {
		r->stalls += (uint64_t)sqlite3_column_int64(st, 5);
		return;
	}
	if ((h = lq_hard_from_name(kind)) == -1)
		return;
	r->hard[h] += (unsigned int)sqlite3_column_int64(st, 5);
	err = sqlite3_column_int(st, 6);
	first = sqlite3_column_int64(st, 7);
	if (h == LQ_HARD_LINK_ERROR && err != 0) {
		r->link_errno = err;
		r->link_run = first;
	} else if (h == LQ_HARD_URB_ERROR && err != 0) {
		r->urb_errno = err;
		r->urb_run = first;
	}
}

/* One row of report_cells. */
static int
cells_row(sqlite3_stmt *st, struct run *r, struct report_vals *pool)
{
	memset(r, 0, sizeof(*r));
	r->cable = sqlite3_column_int64(st, 0);
	r->port = sqlite3_column_int64(st, 1);
	r->device = sqlite3_column_int64(st, 2);
	r->period = sqlite3_column_int64(st, 3);
	r->runs = (uint64_t)sqlite3_column_int64(st, 4);
	r->passed = (uint64_t)sqlite3_column_int64(st, 5);
	r->marginal = (uint64_t)sqlite3_column_int64(st, 6);
	r->failed = (uint64_t)sqlite3_column_int64(st, 7);
	r->probes = (uint64_t)sqlite3_column_int64(st, 8);
	r->failures = (uint64_t)sqlite3_column_int64(st, 9);
	r->timeouts = (uint64_t)sqlite3_column_int64(st, 10);
	r->bulk_bytes = (uint64_t)sqlite3_column_int64(st, 11);
	r->load_us = (uint64_t)sqlite3_column_int64(st, 12);
	r->bytes = (uint64_t)sqlite3_column_int64(st, 13);
	r->round_trips = (uint64_t)sqlite3_column_int64(st, 14);
	r->speed_max = sqlite3_column_int(st, 15);
	r->speed_min = sqlite3_column_int(st, 16);
	r->speed_min_run = sqlite3_column_int64(st, 17);
	r->last = sqlite3_column_int64(st, 18);
	r->fixed = (uint64_t)sqlite3_column_int64(st, 19);
	/* Bytes per microsecond are MB/s; microseconds to ms. */
	if (cells_vals((const char *)sqlite3_column_text(st, 20), 1.0, pool,
	    &r->bulk_off, &r->nbulk, NULL) == -1 ||
	    cells_vals((const char *)sqlite3_column_text(st, 21), 1000.0,
	    pool, &r->lat_off, &r->nlat, &r->lat_trips) == -1)
		return (-1);
	return (0);
}

int
report_cells_load(sqlite3 *db, int64_t period, struct run **vp, size_t *np,
    struct report_vals *pool, char **cause)
{
	static const char	*q_cells =
	    "SELECT cable_id, port_id, device_id, period, runs, passed,"
	    " marginal, failed, probes, failures, timeouts, bulk_bytes,"
	    " load_us, bytes, round_trips, speed_max,"
	    " coalesce(speed_min, 0), coalesce(speed_min_run, 0), last_us,"
	    " fixed, bulk_vals, lat_vals FROM report_cells WHERE period >= ?1"
	    " ORDER BY period, cable_id, port_id, device_id";
	static const char	*q_events =
	    "SELECT cable_id, port_id, device_id, period, kind, n, errno,"
	    " coalesce(errno_run, 0) FROM report_cell_events"
	    " WHERE period >= ?1";
	sqlite3_stmt	*st = NULL;
	struct run	*v = *vp, *cells;
	size_t		 n = *np, first = *np, cap = *np;
	int		 rc;

	if (sqlite3_prepare_v2(db, q_cells, -1, &st, NULL) != SQLITE_OK)
		return (cells_fail(db, "summaries", cause));
	sqlite3_bind_int64(st, 1, period);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		if (cells_row(st, &v[n], pool) == -1) {
			sqlite3_finalize(st);
			*vp = v;
			(void)xasprintf(cause, "report: the summaries of a "
			    "cell hold values that are not fractions: let "
			    "linkqd refresh them");
			return (-1);
		}
		n++;
	}
	sqlite3_finalize(st);
	*vp = v;
	*np = n;
	if (rc != SQLITE_DONE)
		return (cells_fail(db, "summaries", cause));

	/* The events, each to its cell: the cells sorted by key. */
	cells = v + first;
	if (!cells_sorted(cells, n - first))
		qsort(cells, n - first, sizeof(*cells), cmp_cell);
	if (sqlite3_prepare_v2(db, q_events, -1, &st, NULL) != SQLITE_OK)
		return (cells_fail(db, "summaries' events", cause));
	sqlite3_bind_int64(st, 1, period);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		cells_event(st, cells, n - first);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return (cells_fail(db, "summaries' events", cause));
	return (0);
}
