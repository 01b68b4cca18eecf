/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * A run's timeline from the store (contract in include/lq-history.h):
 * its probes and events over time, in at most LQ_TIMELINE_POINTS
 * buckets, for the HTML report's charts.
 *
 * Unlike the rest of the history it reads the probes table, but only
 * the rows of one run, through the probes_run index: a 1-hour run is
 * some 10^4 to 10^5 rows. Throughput comes from each bulk probe's own
 * per-second series (probe-bulk.c), so a stall inside a long transfer
 * shows as the seconds with nothing moved; a probe without the series
 * counts as one sample of its bytes over its time.
 */

#include <sys/param.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "compat/compat.h"
#include "linkq.h"
#include "lq-history.h"
#include "lq-time.h"
#include "xmalloc.h"

/* What one bucket gathers. */
struct tl_bucket {
	uint64_t	probes, failures;
	uint64_t	lq_n;		/* lockdown-query round trips */
	int64_t		lq_us, lq_max_us;
	double		mb_sum;		/* of per-second MB/s samples */
	uint64_t	mb_n;
};

struct tl {
	int64_t			 start, end, bucket_us;
	size_t			 n;
	struct tl_bucket	*b;
};

static int
tl_fail(sqlite3 *db, const char *what, char **cause)
{
	(void)xasprintf(cause, "timeline: %s: %s", what, sqlite3_errmsg(db));
	return (-1);
}

/* The bucket of time t, clamped: a probe may start before the run. */
static struct tl_bucket *
tl_at(struct tl *t, int64_t ts)
{
	int64_t	i = (ts - t->start) / t->bucket_us;

	if (i < 0)
		i = 0;
	if ((size_t)i >= t->n)
		i = (int64_t)t->n - 1;
	return (&t->b[i]);
}

/*
 * The run's start and end (its last probe's end while it runs, so that
 * the timeline of a running run stops at what is recorded). 1, 0 if the
 * run was never recorded, or -1.
 */
static int
tl_span(sqlite3 *db, int64_t run, struct tl *t, int64_t *ended,
    char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(db, "SELECT r.started_us, r.ended_us,"
	    " (SELECT max(p.ts_us + p.latency_us) FROM probes p"
	    " WHERE p.run_id = r.id) FROM runs r WHERE r.id = ?1", -1, &st,
	    NULL) != SQLITE_OK)
		return (tl_fail(db, "run", cause));
	(void)sqlite3_bind_int64(st, 1, run);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return (rc == SQLITE_DONE ? 0 : tl_fail(db, "run", cause));
	}
	t->start = sqlite3_column_int64(st, 0);
	*ended = -1;
	if (sqlite3_column_type(st, 1) != SQLITE_NULL)
		*ended = t->end = sqlite3_column_int64(st, 1);
	else if (sqlite3_column_type(st, 2) != SQLITE_NULL)
		t->end = sqlite3_column_int64(st, 2);
	else
		t->end = t->start;
	sqlite3_finalize(st);
	return (1);
}

/* Whole seconds a bucket, so that no more than the bound are needed. */
static void
tl_buckets(struct tl *t)
{
	int64_t	span = t->end > t->start ? t->end - t->start : 1;
	int64_t	per = (span + LQ_TIMELINE_POINTS - 1) / LQ_TIMELINE_POINTS;

	t->bucket_us = (per + LQ_USEC_PER_SEC - 1) / LQ_USEC_PER_SEC *
	    LQ_USEC_PER_SEC;
	if (t->bucket_us < LQ_USEC_PER_SEC)
		t->bucket_us = LQ_USEC_PER_SEC;
	t->n = (size_t)((span + t->bucket_us - 1) / t->bucket_us);
	if (t->n == 0)
		t->n = 1;
	t->b = xcalloc(t->n, sizeof(*t->b));
}

/* A bulk probe's MB/s, second by second, both ways summed. */
static void
tl_bulk(struct tl *t, int64_t ts, int64_t lat_us, int64_t bytes,
    const char *detail)
{
	struct tl_bucket	*b;
	json_t			*o = NULL, *w, *r;
	size_t			 i, n;
	double			 mb;

	if (detail != NULL)
		o = json_loads(detail, 0, NULL);
	w = json_object_get(o, "write_mb_s");
	r = json_object_get(o, "read_mb_s");
	n = MAX(json_array_size(w), json_array_size(r));
	for (i = 0; i < n; i++) {
		mb = json_number_value(json_array_get(w, i)) +
		    json_number_value(json_array_get(r, i));
		b = tl_at(t, ts + (int64_t)i * LQ_USEC_PER_SEC);
		b->mb_sum += mb;
		b->mb_n++;
	}
	json_decref(o);
	if (n == 0 && lat_us > 0 && bytes > 0) {
		b = tl_at(t, ts);
		b->mb_sum += (double)bytes / (double)lat_us;
		b->mb_n++;
	}
}

/* Each probe of the run into its bucket. */
static int
tl_probes(sqlite3 *db, int64_t run, struct tl *t, char **cause)
{
	sqlite3_stmt		*st;
	struct tl_bucket	*b;
	int64_t			 ts, lat;
	int			 rc, kind;

	if (sqlite3_prepare_v2(db, "SELECT ts_us, kind, status, latency_us,"
	    " bytes, CASE WHEN kind = ?2 THEN detail END FROM probes"
	    " WHERE run_id = ?1", -1, &st, NULL) != SQLITE_OK)
		return (tl_fail(db, "probes", cause));
	(void)sqlite3_bind_int64(st, 1, run);
	(void)sqlite3_bind_int(st, 2, LQ_PROBE_BULK);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ts = sqlite3_column_int64(st, 0);
		kind = sqlite3_column_int(st, 1);
		lat = sqlite3_column_int64(st, 3);
		b = tl_at(t, ts);
		b->probes++;
		if (sqlite3_column_int(st, 2) != 0)
			b->failures++;
		if (kind == LQ_PROBE_LOCKDOWN_QUERY) {
			b->lq_n++;
			b->lq_us += lat;
			b->lq_max_us = MAX(b->lq_max_us, lat);
		} else if (kind == LQ_PROBE_BULK)
			tl_bulk(t, ts, lat, sqlite3_column_int64(st, 4),
			    (const char *)sqlite3_column_text(st, 5));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return (tl_fail(db, "probes", cause));
	return (0);
}

static json_t *
tl_points(const struct tl *t)
{
	const struct tl_bucket	*b;
	json_t			*a = json_array(), *o;
	size_t			 i;

	for (i = 0; i < t->n; i++) {
		b = &t->b[i];
		o = json_pack("{s:I, s:I, s:I}",
		    "t_ms", (json_int_t)((int64_t)i * t->bucket_us / 1000),
		    "probes", (json_int_t)b->probes,
		    "failures", (json_int_t)b->failures);
		(void)json_object_set_new(o, "mb_s", b->mb_n > 0 ?
		    json_real(b->mb_sum / (double)b->mb_n) : json_null());
		(void)json_object_set_new(o, "lat_ms", b->lq_n > 0 ?
		    json_real((double)b->lq_us / (double)b->lq_n / 1000) :
		    json_null());
		(void)json_object_set_new(o, "lat_max_ms", b->lq_n > 0 ?
		    json_real((double)b->lq_max_us / 1000) : json_null());
		(void)json_array_append_new(a, o);
	}
	return (a);
}

/* The run's events, oldest first, at most LQ_TIMELINE_EVENTS. */
static int
tl_events(sqlite3 *db, int64_t run, const struct tl *t, json_t *out,
    char **cause)
{
	sqlite3_stmt	*st;
	json_t		*a = json_array(), *o;
	int64_t		 total = 0;
	int		 rc;

	if (sqlite3_prepare_v2(db, "SELECT ts_us, source, kind, errno,"
	    " detail FROM events WHERE run_id = ?1 ORDER BY id", -1, &st,
	    NULL) != SQLITE_OK) {
		json_decref(a);
		return (tl_fail(db, "events", cause));
	}
	(void)sqlite3_bind_int64(st, 1, run);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (total++ >= LQ_TIMELINE_EVENTS)
			continue;
		o = json_pack("{s:I, s:s?, s:s?}", "t_ms", (json_int_t)
		    ((sqlite3_column_int64(st, 0) - t->start) / 1000),
		    "source", (const char *)sqlite3_column_text(st, 1),
		    "kind", (const char *)sqlite3_column_text(st, 2));
		if (sqlite3_column_type(st, 3) != SQLITE_NULL)
			(void)json_object_set_new(o, "errno", json_integer(
			    sqlite3_column_int64(st, 3)));
		if (sqlite3_column_type(st, 4) != SQLITE_NULL)
			(void)json_object_set_new(o, "detail", json_string(
			    (const char *)sqlite3_column_text(st, 4)));
		(void)json_array_append_new(a, o);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(a);
		return (tl_fail(db, "events", cause));
	}
	(void)json_object_set_new(out, "events", a);
	(void)json_object_set_new(out, "events_total", json_integer(total));
	return (0);
}

int
lq_history_timeline(sqlite3 *db, int64_t run, json_t **out, char **cause)
{
	struct tl	 t;
	json_t		*o;
	int64_t		 ended;
	int		 rc;

	*out = NULL;
	memset(&t, 0, sizeof(t));
	if ((rc = tl_span(db, run, &t, &ended, cause)) != 1)
		return (rc);
	tl_buckets(&t);
	if (tl_probes(db, run, &t, cause) == -1) {
		free(t.b);
		return (-1);
	}
	o = json_pack("{s:I, s:I, s:o, s:I, s:I, s:o}",
	    "run", (json_int_t)run, "started_us", (json_int_t)t.start,
	    "ended_us", ended >= 0 ? json_integer(ended) : json_null(),
	    "span_ms", (json_int_t)((t.end - t.start) / 1000),
	    "bucket_ms", (json_int_t)(t.bucket_us / 1000),
	    "points", tl_points(&t));
	if (tl_events(db, run, &t, o, cause) == -1) {
		json_decref(o);
		free(t.b);
		return (-1);
	}
	free(t.b);
	*out = o;
	return (1);
}
