/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The report engine (include/lq-report.h): runs grouped by cable, port,
 * pair or device, with their pooled evidence decided by the verdict
 * engine.
 *
 * Why the grouping is done here and not in SQL: the percentiles need
 * every run's figure in C anyway. What is grouped are struct runs
 * (report-int.h): the summaries of whole periods per cell (cable, port,
 * device) that the store keeps (schema 0009, read by report-cells.c)
 * and the runs of a partial first period, read here by two plain scans
 * (runs with their attachment and probe totals, the hard events by run
 * and kind). Each sums exactly, so the groups are those of the runs;
 * the groups are a hash and a counting sort of that array, and the
 * same array gives the blame engine its (cable, port, device) cells
 * without a second pass over the database. Where the summaries are not
 * current (a foreign writer's marks) every run is read, as before.
 */

#include <sys/param.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sqlite3.h>

#include "compat/compat.h"
#include "linkq.h"
#include "lq-exposure.h"
#include "lq-report.h"
#include "lq-table.h"
#include "lq-verdict.h"
#include "report-int.h"
#include "xmalloc.h"

/* Room for the events query: the hard kinds' names and the rest. */
#define EVENTS_QUERY_LEN	1024

/* A name table row: id and up to three strings. */
struct named {
	int64_t		 id;
	char		*s[3];
};

struct names {
	struct named	*v;
	size_t		 n;
};

/* The start of a row's note on why it ranks below others of its verdict. */
#define RANK_NOTE	"ranked lower: "

/* The end of a row's note on the runs a fixed cable declaration charged. */
#define FIXED_NOTE	" declared fixed, not confirmed per attachment"

/* The internal grouping for blame: (cable, port, device). */
#define BY_CELL		((enum lq_report_by)-1)

static int	db_fail(sqlite3 *, const char *, char **);
static int	load_names(sqlite3 *, const char *, int, struct names *,
		    char **);
static void	free_names(struct names *);
static const struct named *find_name(const struct names *, int64_t);
static int	cmp_named(const void *, const void *);
static void	events_query(char *, size_t);
static int	load_runs(sqlite3 *, int64_t, int64_t, struct run **,
		    size_t *, struct report_vals *, char **);
static struct run *find_run(struct run *, size_t, int64_t);
static uint64_t	key_hash(const int64_t [3]);
static size_t	bucket(struct run **, size_t, size_t **);
static size_t	group(struct run *, size_t, const struct report_vals *,
		    double *, enum lq_report_by, struct lq_report_row **,
		    int64_t (**)[3]);
static void	row_hard(struct lq_report_row *,
		    const struct lq_run_evidence *);
static void	row_fill(struct lq_report_row *, struct run **, size_t,
		    const struct report_vals *, double *);
static void	row_clear(struct lq_report_row *);
static int	cmp_row(const void *, const void *);
static int	cmp_str(const char *, const char *);
static char	*dup_or_null(const char *);

static char *
dup_or_null(const char *s)
{
	return (s != NULL ? xstrdup(s) : NULL);
}

static int
db_fail(sqlite3 *db, const char *what, char **cause)
{
	(void)xasprintf(cause, "report: %s: %s", what, sqlite3_errmsg(db));
	return (-1);
}

/*
 * The oldest schema the report reads (schema/0005-run-totals.sql keeps
 * each run's probe totals on the run, 0006 its exposure, 0008 the
 * kind of run and the outcome of a watched restore). linkqd
 * migrates its database when it opens it; `linkq report --db` only
 * reads.
 */
#define REPORT_SCHEMA_MIN	8

/* Whether db has a schema the report can read; if not, say why. */
static int
schema_check(sqlite3 *db, char **cause)
{
	sqlite3_stmt	*st;
	int64_t		 version = 0;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st,
	    NULL) != SQLITE_OK)
		return (db_fail(db, "schema version", cause));
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (version >= REPORT_SCHEMA_MIN)
		return (0);
	if (version <= 0)
		(void)xasprintf(cause, "report: no linkq schema in it");
	else
		(void)xasprintf(cause, "report: the database has schema "
		    "version %lld and the report needs %d; let linkqd open "
		    "it once to bring it up to date", (long long)version,
		    REPORT_SCHEMA_MIN);
	return (-1);
}

static int
cmp_named(const void *a, const void *b)
{
	const struct named	*x = a, *y = b;

	return (x->id < y->id ? -1 : x->id > y->id);
}

/* Load "SELECT id, s0[, s1, s2] ..." ordered by id into names. */
static int
load_names(sqlite3 *db, const char *sql, int ns, struct names *out,
    char **cause)
{
	sqlite3_stmt	*st;
	size_t		 cap = 0;
	int		 rc, i;

	memset(out, 0, sizeof(*out));
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return (db_fail(db, "prepare", cause));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (out->n == cap) {
			cap = cap ? cap * 2 : 16;
			out->v = xreallocarray(out->v, cap, sizeof(*out->v));
		}
		memset(&out->v[out->n], 0, sizeof(out->v[0]));
		out->v[out->n].id = sqlite3_column_int64(st, 0);
		for (i = 0; i < ns; i++) {
			out->v[out->n].s[i] = dup_or_null((const char *)
			    sqlite3_column_text(st, i + 1));
		}
		out->n++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free_names(out);
		return (db_fail(db, "names", cause));
	}
	return (0);
}

static void
free_names(struct names *n)
{
	size_t	i;
	int	j;

	for (i = 0; i < n->n; i++) {
		for (j = 0; j < 3; j++)
			free(n->v[i].s[j]);
	}
	free(n->v);
	memset(n, 0, sizeof(*n));
}

static const struct named *
find_name(const struct names *n, int64_t id)
{
	struct named	key;

	key.id = id;
	if (n->n == 0)
		return (NULL);
	return (bsearch(&key, n->v, n->n, sizeof(*n->v), cmp_named));
}

struct device_speed {
	int64_t	device;
	int	speed;
};

static int
cmp_device_speed(const void *a, const void *b)
{
	const struct device_speed	*x = a, *y = b;

	return (x->device < y->device ? -1 : x->device > y->device);
}

/*
 * Give every run its device's best negotiated speed among the runs: a
 * run below it was on a link that fell back (a bad cable or port at
 * enumeration), which the kernel said at attach time, before the run.
 */
static void
runs_best_speed(struct run *v, size_t n)
{
	struct device_speed	*ds, key, *hit;
	size_t			 i, m = 0;

	ds = xcalloc(n + 1, sizeof(*ds));
	for (i = 0; i < n; i++) {
		ds[i].device = v[i].device;
		ds[i].speed = v[i].speed_max;
	}
	if (n > 1)
		qsort(ds, n, sizeof(*ds), cmp_device_speed);
	for (i = 0; i < n; i++) {
		if (m > 0 && ds[m - 1].device == ds[i].device) {
			if (ds[i].speed > ds[m - 1].speed)
				ds[m - 1].speed = ds[i].speed;
		} else
			ds[m++] = ds[i];
	}
	for (i = 0; i < n; i++) {
		key.device = v[i].device;
		hit = bsearch(&key, ds, m, sizeof(*ds), cmp_device_speed);
		v[i].best = hit != NULL ? hit->speed : 0;
	}
	free(ds);
}

static struct run *
find_run(struct run *v, size_t n, int64_t id)
{
	size_t	lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (v[mid].id < id)
			lo = mid + 1;
		else if (v[mid].id > id)
			hi = mid;
		else
			return (&v[mid]);
	}
	return (NULL);
}

/*
 * Write at q the query of the events that load_runs counts, by run and
 * kind: the hard kinds of the vocabulary's table, so that the two never
 * disagree, and latency-outlier (stalls). The bare errno comes from the
 * row of min(id): the first one.
 */
static void
events_query(char *q, size_t len)
{
	const struct lq_hard	*hard = lq_hard_kinds();
	size_t			 off;
	int			 k;

	off = (size_t)xsnprintf(q, len, "SELECT run_id, kind, count(*), "
	    "errno, min(id) FROM events WHERE run_id BETWEEN ?1 AND ?2 "
	    "AND kind IN (");
	for (k = 0; k < LQ_HARD_MAX; k++)
		off += (size_t)xsnprintf(q + off, len - off, "'%s', ",
		    hard[k].name);
	(void)xsnprintf(q + off, len - off, "'latency-outlier') "
	    "GROUP BY run_id, kind");
}

/*
 * One run as the report sums it (struct run, report-int.h), from a row
 * of load_runs' query: its verdict counted, its exposure if it ended
 * with one, its figures for the percentiles into the pool.
 */
static void
run_one(sqlite3_stmt *st, struct run *r, struct report_vals *pool)
{
	const char	*s;
	int64_t		 trials;
	uint64_t	 bulk_us, lq_n, lq_us, bulk_n;
	int		 verdict;

	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(st, 0);
	r->cable = sqlite3_column_int64(st, 1);
	r->port = sqlite3_column_int64(st, 2);
	r->device = sqlite3_column_int64(st, 3);
	s = (const char *)sqlite3_column_text(st, 4);
	verdict = s != NULL ? lq_verdict_from_name(s) : LQ_VERDICT_NONE;
	if (verdict < 0)
		verdict = LQ_VERDICT_NONE;
	r->runs = 1;
	r->passed = verdict == LQ_VERDICT_PASS;
	r->marginal = verdict == LQ_VERDICT_MARGINAL;
	r->failed = verdict == LQ_VERDICT_FAIL;
	r->last = sqlite3_column_int64(st, 5);
	r->speed_max = sqlite3_column_int(st, 6);
	if (r->speed_max > 0) {
		r->speed_min = r->speed_max;
		r->speed_min_run = r->id;
	}
	trials = sqlite3_column_int64(st, 7);
	r->probes = (uint64_t)sqlite3_column_int64(st, 8);
	r->failures = (uint64_t)sqlite3_column_int64(st, 9);
	r->timeouts = (uint64_t)sqlite3_column_int64(st, 10);
	r->bulk_bytes = (uint64_t)sqlite3_column_int64(st, 11);
	bulk_us = (uint64_t)sqlite3_column_int64(st, 12);
	lq_n = (uint64_t)sqlite3_column_int64(st, 13);
	lq_us = (uint64_t)sqlite3_column_int64(st, 14);
	bulk_n = (uint64_t)sqlite3_column_int64(st, 17);
	r->fixed = r->cable != 0 && sqlite3_column_int(st, 18) != 0;
	/* The verdict's own count of trials, where it is known. */
	if (trials >= 0 && (uint64_t)trials > r->probes)
		r->probes = (uint64_t)trials;
	if (verdict != LQ_VERDICT_NONE) {
		r->load_us = (uint64_t)sqlite3_column_int64(st, 15);
		r->bytes = (uint64_t)sqlite3_column_int64(st, 16);
		r->round_trips = r->probes - (bulk_n < r->probes ? bulk_n :
		    r->probes);
	}
	/* Bytes per microsecond are MB/s. */
	r->bulk_off = pool->n;
	if (bulk_us > 0 && r->bulk_bytes > 0) {
		report_vals_add(pool, (double)r->bulk_bytes / (double)bulk_us);
		r->nbulk = 1;
	}
	r->lat_off = pool->n;
	if (lq_n > 0) {
		report_vals_add(pool, (double)lq_us / (double)lq_n / 1000.0);
		r->nlat = 1;
		r->lat_trips = lq_n;
	}
}

/* Count one row of the events query into its run. */
static void
run_event(sqlite3_stmt *st, struct run *r)
{
	const char	*s;
	int		 h;

	s = (const char *)sqlite3_column_text(st, 1);
	if (s != NULL && strcmp(s, "latency-outlier") == 0) {
		r->stalls += (uint64_t)sqlite3_column_int64(st, 2);
		return;
	}
	if ((h = lq_hard_from_name(s)) == -1)
		return;
	r->hard[h] += (unsigned int)sqlite3_column_int(st, 2);
	if (h == LQ_HARD_LINK_ERROR) {
		r->link_errno = sqlite3_column_int(st, 3);
		r->link_run = r->id;
	} else if (h == LQ_HARD_URB_ERROR) {
		r->urb_errno = sqlite3_column_int(st, 3);
		r->urb_run = r->id;
	}
}

/*
 * Append to *out the runs that have ended (a running run's verdict and
 * evidence are not in yet), started in [since, until), with their probe
 * totals (kept on the run, schema 0005) and hard events.
 */
static int
load_runs(sqlite3 *db, int64_t since, int64_t until, struct run **out,
    size_t *nout, struct report_vals *pool, char **cause)
{
	static const char	*q_runs =
	    "SELECT r.id, coalesce(a.cable_id, 0), a.port_id, a.device_id,"
	    " r.verdict, r.started_us, coalesce(a.speed_mbps, 0),"
	    " coalesce(r.trials, -1), r.total_probes, r.total_failures,"
	    " r.total_timeouts, r.total_bulk_bytes, r.total_bulk_us,"
	    " r.total_query_probes, r.total_query_us, r.total_load_us,"
	    " r.total_bytes, r.total_bulk_probes, a.cable_fixed"
	    " FROM runs r JOIN attachments a ON a.id = r.attachment_id"
	    " WHERE r.state <> 'running' AND r.started_us >= ?1"
	    " AND r.started_us < ?2 AND r.kind = 'qualify' ORDER BY r.id";
	sqlite3_stmt	*st = NULL;
	struct run	*v = *out, *r;
	size_t		 first = *nout, n = *nout, cap = *nout;
	char		 q_events[EVENTS_QUERY_LEN];
	int		 rc;

	if (sqlite3_prepare_v2(db, q_runs, -1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(st, 1, since);
	sqlite3_bind_int64(st, 2, until);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		run_one(st, &v[n++], pool);
	}
	*out = v;
	*nout = n;
	if (rc != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	st = NULL;
	if (n == first)
		return (0);

	events_query(q_events, sizeof q_events);
	if (sqlite3_prepare_v2(db, q_events, -1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(st, 1, v[first].id);
	sqlite3_bind_int64(st, 2, v[n - 1].id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((r = find_run(v + first, n - first,
		    sqlite3_column_int64(st, 0))) != NULL)
			run_event(st, r);
	}
	if (rc != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	return (0);
fail:
	db_fail(db, "runs", cause);
	sqlite3_finalize(st);
	return (-1);
}

static uint64_t
key_hash(const int64_t key[3])
{
	uint64_t	h = 0x9e3779b97f4a7c15ULL;
	int		i;

	for (i = 0; i < 3; i++) {
		h ^= (uint64_t)key[i];
		h *= 0xff51afd7ed558ccdULL;
		h ^= h >> 33;
	}
	return (h);
}

/*
 * Reorder idx so that the runs of each group are together and return
 * the number of groups, the group g at idx[start[g]] to idx[start[g +
 * 1]]: a hash of the keys and a counting sort, linear where a sort by
 * key was a fifth of the report's time.
 */
static size_t
bucket(struct run **idx, size_t n, size_t **startp)
{
	struct slot {
		const int64_t	*key;
		size_t		 group;
	}		*tab;
	struct run	**out;
	size_t		*gid, *start, size = 16, mask, h, i, ng = 0;

	while (size < 2 * n + 2)
		size *= 2;
	mask = size - 1;
	tab = xcalloc(size, sizeof(*tab));
	gid = xreallocarray(NULL, n + 1, sizeof(*gid));
	for (i = 0; i < n; i++) {
		h = (size_t)key_hash(idx[i]->key) & mask;
		while (tab[h].key != NULL &&
		    memcmp(tab[h].key, idx[i]->key, sizeof(idx[i]->key)) != 0)
			h = (h + 1) & mask;
		if (tab[h].key == NULL) {
			tab[h].key = idx[i]->key;
			tab[h].group = ng++;
		}
		gid[i] = tab[h].group;
	}
	free(tab);
	start = xcalloc(ng + 2, sizeof(*start));
	for (i = 0; i < n; i++)
		start[gid[i] + 2]++;
	for (i = 2; i < ng + 2; i++)
		start[i] += start[i - 1];
	out = xreallocarray(NULL, n + 1, sizeof(*out));
	for (i = 0; i < n; i++)
		out[start[gid[i] + 1]++] = idx[i];
	if (n > 0)
		memcpy(idx, out, n * sizeof(*idx));
	free(out);
	free(gid);
	*startp = start;
	return (ng);
}

/*
 * Nearest rank: the smallest value with at least p% at or below it.
 * Hoare's selection, not a sort: the report takes three percentiles of
 * up to 100k runs and a sort was a fifth of its time.
 */
double
lq_percentile(double *v, size_t n, double p)
{
	double		rank, pivot, tmp;
	long long	k, lo, hi, i, j;

	if (n == 0)
		return (NAN);
	rank = ceil(p / 100.0 * (double)n);
	k = rank < 1.0 ? 0 : (long long)rank - 1;
	if (k >= (long long)n)
		k = (long long)n - 1;
	lo = 0;
	hi = (long long)n - 1;
	while (lo < hi) {
		pivot = v[lo + (hi - lo) / 2];
		i = lo;
		j = hi;
		while (i <= j) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j) {
				tmp = v[i];
				v[i++] = v[j];
				v[j--] = tmp;
			}
		}
		/* Now v[lo..j] <= pivot <= v[i..hi], pivots between. */
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			break;
	}
	return (v[k]);
}

/*
 * The verdict of a group whose runs did not fail: MARGINAL if any was,
 * PASS if any passed, stating the pooled exposure, its bounds and the
 * detection power; with no run that ended with a verdict (cancelled,
 * interrupted, stopped by an error), none: such a run is no evidence.
 */
static void
row_verdict_clean(const struct lq_report_row *row,
    struct lq_verdict_result *res)
{
	char	words[LQ_VERDICT_REASON_LEN];
	uint64_t none;

	res->nreasons = 0;
	none = row->runs - row->passed - row->marginal - row->failed;
	if (row->marginal > 0) {
		res->verdict = LQ_VERDICT_MARGINAL;
		(void)snprintf(res->reasons[res->nreasons++],
		    sizeof(res->reasons[0]), "%" PRIu64 " of %" PRIu64
		    " runs were marginal", row->marginal, row->runs);
		return;
	}
	if (row->passed == 0) {
		res->verdict = LQ_VERDICT_NONE;
		(void)snprintf(res->reasons[res->nreasons++],
		    sizeof(res->reasons[0]), "no run ended with a verdict: "
		    "%" PRIu64 " cancelled, interrupted or stopped", none);
		return;
	}
	res->verdict = LQ_VERDICT_PASS;
	if (none == 0)
		(void)snprintf(res->reasons[res->nreasons++],
		    sizeof(res->reasons[0]), "all %" PRIu64 " runs passed; "
		    "%" PRIu64 " failures in %" PRIu64 " probes", row->runs,
		    row->failures, row->probes);
	else
		(void)snprintf(res->reasons[res->nreasons++],
		    sizeof(res->reasons[0]), "%" PRIu64 " of %" PRIu64
		    " runs passed, %" PRIu64 " ended without a verdict; %"
		    PRIu64 " failures in %" PRIu64 " probes", row->passed,
		    row->runs, none, row->failures, row->probes);
	(void)snprintf(res->reasons[res->nreasons++], sizeof(res->reasons[0]),
	    "%s without a fault", lq_exposure_words(words, sizeof words,
	    &res->exposure));
	(void)strlcpy(res->reasons[res->nreasons++], lq_exposure_bound_words(
	    words, sizeof words, &res->bounds, LQ_VERDICT_CP_ALPHA),
	    sizeof(res->reasons[0]));
	(void)strlcpy(res->reasons[res->nreasons++], lq_exposure_power_words(
	    words, sizeof words, &res->bounds), sizeof(res->reasons[0]));
}

/*
 * The row's columns of hard events, from its group's pooled counters: a
 * dropout with the stranding that may follow it, resets with
 * re-enumerations, link errors (the kernel's and libusb's) with
 * usbmon's URB errors, and the faults that blame the port or the host
 * rather than the link.
 */
static void
row_hard(struct lq_report_row *row, const struct lq_run_evidence *ev)
{
	const struct lq_hard	*hard = lq_hard_kinds();
	const unsigned int	*c = ev->hard;
	unsigned int		 host = 0;
	int			 k;

	row->dropouts = c[LQ_HARD_DROPOUT] + c[LQ_HARD_STRANDED];
	row->resets = c[LQ_HARD_RESET] + c[LQ_HARD_REENUMERATION];
	row->link_errors = c[LQ_HARD_LINK_ERROR] + c[LQ_HARD_URB_ERROR];
	row->corruptions = c[LQ_HARD_CORRUPTION];
	for (k = 0; k < LQ_HARD_MAX; k++) {
		if (hard[k].blames != LQ_HARD_BLAMES_LINK)
			host += c[k];
	}
	row->host_faults = host;
}

/* What a group's first run with an errno of a kind said. */
static void
first_errno(int *err, int64_t *from, int e, int64_t run)
{
	if (e != 0 && (*err == 0 || run < *from)) {
		*err = e;
		*from = run;
	}
}

/*
 * Sum a group's runs (or summaries of runs) into row and ev, the bulk
 * bytes into *bulk, the bytes of the runs with a verdict into *bytes.
 * What is a first among runs is the first by run id, what the runs
 * give in the order they were recorded.
 */
static void
row_sum(struct lq_report_row *row, struct run **g, size_t n,
    struct lq_run_evidence *ev, uint64_t *bulk, uint64_t *bytes)
{
	const struct run	*p;
	int64_t			 link_run = 0, urb_run = 0, slow_run = 0;
	size_t			 i;
	int			 j;

	for (i = 0; i < n; i++) {
		p = g[i];
		row->runs += p->runs;
		row->passed += p->passed;
		row->marginal += p->marginal;
		row->failed += p->failed;
		row->probes += p->probes;
		row->failures += p->failures;
		row->timeouts += p->timeouts;
		row->stalls += p->stalls;
		*bulk += p->bulk_bytes;
		ev->exposure.load_us += (int64_t)p->load_us;
		ev->exposure.round_trips += p->round_trips;
		*bytes += p->bytes;
		if (p->speed_max > row->speed_mbps)
			row->speed_mbps = p->speed_max;
		if (i == 0 || p->last > row->last_us)
			row->last_us = p->last;
		for (j = 0; j < LQ_HARD_MAX; j++)
			ev->hard[j] += p->hard[j];
		first_errno(&ev->link_errno, &link_run, p->link_errno,
		    p->link_run);
		first_errno(&ev->urb_errno, &urb_run, p->urb_errno,
		    p->urb_run);
		/* The slowest fallback of the group, against that best. */
		if (p->speed_min > 0 && p->speed_min < p->best &&
		    (ev->speed_mbps == 0 || p->speed_min < ev->speed_mbps ||
		    (p->speed_min == ev->speed_mbps &&
		    p->speed_min_run < slow_run))) {
			ev->speed_mbps = p->speed_min;
			ev->best_speed_mbps = p->best;
			slow_run = p->speed_min_run;
		}
	}
}

/*
 * Sum a group's runs, take the percentiles across them and decide. The
 * pooled hard events decide as for a finished run, with the verdict
 * engine's reasons; a failed run fails its group. Otherwise the group's
 * verdict comes from its runs' verdicts (row_verdict_clean): the pooled
 * probe rows alone could not, as only runs that reached a verdict are
 * evidence, and a cancelled run is never evidence for a PASS. The
 * exposure is what the runs with a verdict held the link through.
 */
static void
row_fill(struct lq_report_row *row, struct run **g, size_t n,
    const struct report_vals *pool, double *scratch)
{
	struct lq_verdict_rules		rules;
	struct lq_run_evidence		ev;
	struct lq_verdict_result	res;
	uint64_t			bulk = 0, bytes = 0, fixed = 0;
	size_t				i, nb = 0, nl = 0;
	int				j;

	memset(&ev, 0, sizeof(ev));
	row_sum(row, g, n, &ev, &bulk, &bytes);
	row_hard(row, &ev);
	if (row->failures > row->probes)
		row->failures = row->probes;
	row->cp_upper = lq_cp_upper(row->probes, row->failures,
	    LQ_VERDICT_CP_ALPHA);

	/*
	 * Each run's figure, in the pool; scratch has room for all. The
	 * pool has no array at all while no run has a figure.
	 */
	for (i = 0; i < n; i++) {
		if (g[i]->nbulk > 0)
			memcpy(scratch + nb, pool->v + g[i]->bulk_off,
			    g[i]->nbulk * sizeof(*scratch));
		nb += g[i]->nbulk;
	}
	row->bulk_p50 = lq_percentile(scratch, nb, 50);
	row->bulk_p5 = lq_percentile(scratch, nb, 5);
	for (i = 0; i < n; i++) {
		if (g[i]->nlat > 0)
			memcpy(scratch + nl, pool->v + g[i]->lat_off,
			    g[i]->nlat * sizeof(*scratch));
		nl += g[i]->nlat;
		row->lat_trips += g[i]->lat_trips;
	}
	row->lat_p50 = lq_percentile(scratch, nl, 50);
	row->lat_p99 = lq_percentile(scratch, nl, 99);

	/*
	 * The totals do not split bytes by direction; a bulk probe writes
	 * and reads back the same stream, so half each way.
	 */
	ev.probes = row->probes;
	ev.failures = row->failures;
	ev.timeouts = row->timeouts;
	ev.stalls = row->stalls;
	ev.bulk_bytes_out = bulk / 2;
	ev.bulk_bytes_in = bulk / 2;
	ev.exposure.bytes_out = bytes / 2;
	ev.exposure.bytes_in = bytes / 2;
	ev.mode = LQ_MODE_NORMAL;
	ev.finished = 1;
	lq_verdict_rules_default(&rules);
	lq_verdict_decide(&rules, &ev, &res);
	if (res.verdict != LQ_VERDICT_FAIL && row->failed > 0) {
		res.verdict = LQ_VERDICT_FAIL;
		res.nreasons = 0;
		(void)snprintf(res.reasons[res.nreasons++],
		    sizeof(res.reasons[0]), "%" PRIu64 " of %" PRIu64
		    " runs failed", row->failed, row->runs);
	} else if (res.verdict != LQ_VERDICT_FAIL)
		row_verdict_clean(row, &res);
	row->load_us = res.exposure.load_us;
	row->bytes = bytes;
	row->round_trips = res.exposure.round_trips;
	for (i = 0; i < n; i++)
		fixed += g[i]->fixed;
	if (fixed > 0 && res.nreasons < LQ_VERDICT_REASONS)
		(void)snprintf(res.reasons[res.nreasons++],
		    sizeof(res.reasons[0]), "%" PRIu64 " of %" PRIu64 " runs "
		    "charged to their cable by a port's cable" FIXED_NOTE,
		    fixed, row->runs);
	row->verdict = res.verdict;
	row->nreasons = res.nreasons;
	row->reasons = xcalloc((size_t)res.nreasons + 1,
	    sizeof(*row->reasons));
	for (j = 0; j < res.nreasons; j++)
		row->reasons[j] = xstrdup(res.reasons[j]);
}

/*
 * Group runs by the key of by into rows, their key ids in *keys; names
 * are the caller's. CABLE and the blame cells leave out runs without a
 * cable.
 */
static size_t
group(struct run *v, size_t n, const struct report_vals *pool,
    double *scratch, enum lq_report_by by, struct lq_report_row **out,
    int64_t (**keys)[3])
{
	struct run		**idx;
	struct lq_report_row	*rows;
	int64_t			(*k)[3];
	struct run		*r;
	size_t			*start, ngroups, i, m = 0, nrows = 0;

	idx = xreallocarray(NULL, n + 1, sizeof(*idx));
	for (i = 0; i < n; i++) {
		r = &v[i];
		memset(r->key, 0, sizeof(r->key));
		switch ((int)by) {
		case LQ_REPORT_PAIR:
			r->key[0] = r->cable;
			r->key[1] = r->port;
			break;
		case LQ_REPORT_CABLE:
			r->key[0] = r->cable;
			break;
		case LQ_REPORT_PORT:
			r->key[1] = r->port;
			break;
		case LQ_REPORT_DEVICE:
			r->key[2] = r->device;
			break;
		default:
			r->key[0] = r->cable;
			r->key[1] = r->port;
			r->key[2] = r->device;
			break;
		}
		if (r->cable == 0 && (by == LQ_REPORT_CABLE || by == BY_CELL))
			continue;
		idx[m++] = r;
	}
	ngroups = bucket(idx, m, &start);
	rows = xcalloc(ngroups + 1, sizeof(*rows));
	k = xcalloc(ngroups + 1, sizeof(*k));
	for (i = 0; i < ngroups; i++) {
		row_fill(&rows[nrows], idx + start[i], start[i + 1] - start[i],
		    pool, scratch);
		memcpy(k[nrows], idx[start[i]]->key, sizeof(k[nrows]));
		nrows++;
	}
	free(start);
	free(idx);
	*out = rows;
	*keys = k;
	return (nrows);
}

static void
row_clear(struct lq_report_row *row)
{
	int	i;

	free(row->cable);
	free(row->port);
	free(row->port_label);
	free(row->host);
	free(row->udid);
	free(row->device);
	for (i = 0; i < row->nreasons; i++)
		free(row->reasons[i]);
	free(row->reasons);
}

static int
verdict_rank(enum lq_verdict v)
{
	switch (v) {
	case LQ_VERDICT_PASS:
		return (0);
	case LQ_VERDICT_MARGINAL:
		return (1);
	case LQ_VERDICT_FAIL:
		return (2);
	default:
		return (3);
	}
}

static int
cmp_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return ((a != NULL) - (b != NULL));
	return (strcmp(a, b));
}

/* Best first; the names last, so that the order never depends on ids. */
static int
cmp_row(const void *a, const void *b)
{
	const struct lq_report_row	*x = a, *y = b;
	int				 c;

	if ((c = verdict_rank(x->verdict) - verdict_rank(y->verdict)) != 0)
		return (c);
	if (x->rank_soft != y->rank_soft)
		return (x->rank_soft - y->rank_soft);
	if (x->cp_upper != y->cp_upper)
		return (x->cp_upper < y->cp_upper ? -1 : 1);
	if (x->probes != y->probes)
		return (x->probes > y->probes ? -1 : 1);
	if ((c = cmp_str(x->cable, y->cable)) != 0)
		return (c);
	if ((c = cmp_str(x->port, y->port)) != 0)
		return (c);
	if ((c = cmp_str(x->host, y->host)) != 0)
		return (c);
	return (cmp_str(x->udid, y->udid));
}

/* A row's soft signals held against the best of its verdict. */
#define RANK_SLOWER	2.0	/* p99 round trip: this many times worse */
#define RANK_THINNER	0.5	/* bulk MB/s: below this share of the best */
/*
 * Lockdown-query round trips a row needs, in all its runs, before its
 * latency ranks it or is the best: a 3 s quick run has one or two, and
 * one slow round trip (a page fault, a busy phone) would rank a cable
 * or port on nothing but chance.
 */
#define RANK_MIN_TRIPS	20
#define RANK_VERDICTS	(LQ_VERDICT_FAIL + 1)	/* by enum lq_verdict */

/* Append a reason to row. */
static void
row_add_reason(struct lq_report_row *row, char *reason)
{
	row->reasons = xreallocarray(row->reasons, (size_t)row->nreasons + 2,
	    sizeof(*row->reasons));
	row->reasons[row->nreasons++] = reason;
	row->reasons[row->nreasons] = NULL;
}

/* Whether row's latency has the round trips to rank by. */
static int
rank_has_lat(const struct lq_report_row *row)
{
	return (!isnan(row->lat_p99) && row->lat_trips >= RANK_MIN_TRIPS);
}

/*
 * The best p99 round trip (with its row's round trips in trips) and bulk
 * p50 among the rows of each verdict, indexed by enum lq_verdict; NAN
 * where no row has one.
 */
static void
rank_best(const struct lq_report_row *rows, size_t n,
    double lat[RANK_VERDICTS], uint64_t trips[RANK_VERDICTS],
    double bulk[RANK_VERDICTS])
{
	size_t	i;
	int	v;

	for (v = 0; v < RANK_VERDICTS; v++) {
		lat[v] = bulk[v] = NAN;
		trips[v] = 0;
	}
	for (i = 0; i < n; i++) {
		v = rows[i].verdict;
		if (v < 0 || v >= RANK_VERDICTS)
			continue;
		if (rank_has_lat(&rows[i]) && (isnan(lat[v]) ||
		    rows[i].lat_p99 < lat[v])) {
			lat[v] = rows[i].lat_p99;
			trips[v] = rows[i].lat_trips;
		}
		if (!isnan(rows[i].bulk_p50) && (isnan(bulk[v]) ||
		    rows[i].bulk_p50 > bulk[v]))
			bulk[v] = rows[i].bulk_p50;
	}
}

/* Rank rows within their verdict by their soft signals (lq-report.h). */
void
lq_report_rank(struct lq_report_row *rows, size_t n, const char *what)
{
	struct lq_report_row	*r;
	double			 best_lat[RANK_VERDICTS];
	double			 best_bulk[RANK_VERDICTS], lat, bulk;
	uint64_t		 best_trips[RANK_VERDICTS];
	size_t			 i;
	char			*s;

	rank_best(rows, n, best_lat, best_trips, best_bulk);
	for (i = 0; i < n; i++) {
		r = &rows[i];
		r->rank_soft = 0;
		if (r->verdict == LQ_VERDICT_NONE)
			continue;
		lat = best_lat[r->verdict];
		bulk = best_bulk[r->verdict];
		if (rank_has_lat(r) && lat > 0 &&
		    r->lat_p99 > RANK_SLOWER * lat) {
			r->rank_soft++;
			xasprintf(&s, RANK_NOTE "lockdown round trips p99 %.2f "
			    "ms against %.2f ms on the best %s (per-run means "
			    "of %" PRIu64 " and %" PRIu64 " round trips)",
			    r->lat_p99, lat, what, r->lat_trips,
			    best_trips[r->verdict]);
			row_add_reason(r, s);
		}
		if (r->stalls > 0) {
			r->rank_soft++;
			xasprintf(&s, RANK_NOTE "%" PRIu64 " stall%s (round "
			    "trips far beyond their usual time)", r->stalls,
			    r->stalls == 1 ? "" : "s");
			row_add_reason(r, s);
		}
		if (!isnan(r->bulk_p50) && bulk > 0 &&
		    r->bulk_p50 < RANK_THINNER * bulk) {
			r->rank_soft++;
			xasprintf(&s, RANK_NOTE "bulk %.1f MB/s against %.1f "
			    "MB/s on the best %s", r->bulk_p50, bulk, what);
			row_add_reason(r, s);
		}
	}
}

void
lq_report_sort(struct lq_report_row *rows, size_t n)
{
	if (n > 1)
		qsort(rows, n, sizeof(*rows), cmp_row);
}

/* Name a row from its key ids. */
static void
row_name(struct lq_report_row *row, const int64_t key[3],
    const struct names *cables, const struct names *ports,
    const struct names *devices)
{
	const struct named	*nm;

	if (key[0] != 0 && (nm = find_name(cables, key[0])) != NULL)
		row->cable = dup_or_null(nm->s[0]);
	if (key[1] != 0 && (nm = find_name(ports, key[1])) != NULL) {
		row->port = dup_or_null(nm->s[0]);
		row->port_label = dup_or_null(nm->s[1]);
		row->host = dup_or_null(nm->s[2]);
	}
	if (key[2] != 0 && (nm = find_name(devices, key[2])) != NULL) {
		row->udid = dup_or_null(nm->s[0]);
		row->device = dup_or_null(nm->s[1]);
	}
}

/*
 * Runs left out of one row: the key of the row they would have counted
 * in, the partner blamed, and how many. Ends with a zero count.
 */
struct left_out {
	int64_t		 key;		/* cable id (CABLE) or port id (PORT) */
	int64_t		 partner;	/* the bad port or cable */
	unsigned int	 n;
};

/* Whether the blame item called name is bad. */
static int
blamed_bad(const struct lq_blame_item *v, size_t n, const char *name)
{
	size_t	i;

	for (i = 0; name != NULL && i < n; i++) {
		if (v[i].state == LQ_BLAME_BAD && strcmp(v[i].name, name) == 0)
			return (1);
	}
	return (0);
}

static int
cmp_left_out(const void *a, const void *b)
{
	const struct left_out	*x = a, *y = b;

	if (x->key != y->key)
		return (x->key < y->key ? -1 : 1);
	return (x->partner < y->partner ? -1 : x->partner > y->partner);
}

/*
 * For CABLE, drop from runs those on a bad port; for PORT, those with a
 * bad cable. Returns what was dropped, counted per (row, partner).
 */
static struct left_out *
report_leave_out(struct run *runs, size_t *nruns, enum lq_report_by by,
    const struct lq_blame *b, const struct names *cables,
    const struct names *ports)
{
	struct left_out		*left;
	const struct named	*nm;
	size_t			 i, j, k, nleft = 0;
	int64_t			 key, partner;
	int			 bad;

	left = xcalloc(*nruns + 1, sizeof(*left));
	if (by != LQ_REPORT_CABLE && by != LQ_REPORT_PORT)
		return (left);
	for (i = j = 0; i < *nruns; i++) {
		if (by == LQ_REPORT_CABLE) {
			key = runs[i].cable;
			partner = runs[i].port;
			nm = find_name(ports, partner);
			bad = nm != NULL && blamed_bad(b->ports, b->nports,
			    nm->s[0]);
		} else {
			key = runs[i].port;
			partner = runs[i].cable;
			nm = find_name(cables, partner);
			bad = nm != NULL && blamed_bad(b->cables, b->ncables,
			    nm->s[0]);
		}
		if (!bad) {
			runs[j++] = runs[i];
			continue;
		}
		for (k = 0; k < nleft; k++) {
			if (left[k].key == key && left[k].partner == partner)
				break;
		}
		if (k == nleft) {
			left[k].key = key;
			left[k].partner = partner;
			nleft++;
		}
		left[k].n += (unsigned int)runs[i].runs;
	}
	*nruns = j;
	/* In the partners' order, whether runs or summaries were read. */
	if (nleft > 1)
		qsort(left, nleft, sizeof(*left), cmp_left_out);
	return (left);
}

#define LEFT_OUT_NOTE	", found bad, left out"

/* Whether reason ends with note. */
static int
ends_with(const char *reason, const char *note)
{
	size_t	len = strlen(reason), n = strlen(note);

	return (len >= n && strcmp(reason + len - n, note) == 0);
}

/*
 * Whether a reason is a note (runs left out, attributions that rest on a
 * declaration): a passing row shows its notes, not its verdict's
 * reasons. Told by its words, so that a report read back from the
 * daemon's JSON prints the same.
 */
static int
is_left_out_note(const char *reason)
{
	return (ends_with(reason, LEFT_OUT_NOTE) ||
	    ends_with(reason, FIXED_NOTE) ||
	    strncmp(reason, RANK_NOTE, sizeof(RANK_NOTE) - 1) == 0);
}

/* Say under row which runs were left out of it, and why. */
static void
report_note_left(struct lq_report_row *row, const int64_t key[3],
    const struct left_out *left, enum lq_report_by by,
    const struct names *cables, const struct names *ports)
{
	const struct named	*nm;
	int64_t			 id;
	char			*note;

	if (by != LQ_REPORT_CABLE && by != LQ_REPORT_PORT)
		return;
	id = by == LQ_REPORT_CABLE ? key[0] : key[1];
	for (; left->n > 0; left++) {
		if (left->key != id)
			continue;
		nm = find_name(by == LQ_REPORT_CABLE ? ports : cables,
		    left->partner);
		xasprintf(&note, "%u run%s with %s %s%s", left->n,
		    left->n == 1 ? "" : "s",
		    by == LQ_REPORT_CABLE ? "port" : "cable",
		    nm != NULL && nm->s[0] != NULL ? nm->s[0] : "?",
		    LEFT_OUT_NOTE);
		row->reasons = xreallocarray(row->reasons,
		    (size_t)row->nreasons + 2, sizeof(*row->reasons));
		row->reasons[row->nreasons++] = note;
		row->reasons[row->nreasons] = NULL;
	}
}

/*
 * The ports as blame names them (bports): by path, or where the ports
 * are of several hosts (benches merged), "1-1 on bench-2", so that one
 * bench's port 1-1 is not blamed for another's. Returns the number of
 * hosts.
 */
static int
ports_hosts(const struct names *ports, struct names *bports)
{
	const struct named	*nm;
	size_t			 i, j;
	int			 hosts = 0, several;

	for (i = 0; i < ports->n; i++) {
		for (j = 0; j < i; j++) {
			if (cmp_str(ports->v[i].s[2], ports->v[j].s[2]) == 0)
				break;
		}
		hosts += j == i;
	}
	several = hosts > 1;
	bports->n = ports->n;
	bports->v = xcalloc(ports->n + 1, sizeof(*bports->v));
	for (i = 0; i < ports->n; i++) {
		nm = &ports->v[i];
		bports->v[i].id = nm->id;
		if (several && nm->s[0] != NULL && nm->s[2] != NULL)
			(void)xasprintf(&bports->v[i].s[0], "%s on %s",
			    nm->s[0], nm->s[2]);
		else
			bports->v[i].s[0] = dup_or_null(nm->s[0]);
		bports->v[i].s[1] = dup_or_null(nm->s[1]);
		bports->v[i].s[2] = dup_or_null(nm->s[2]);
	}
	return (hosts);
}

/*
 * The runs started at or after since: from the summaries where they can
 * be read and from is not LQ_REPORT_FROM_RUNS, the whole periods in range
 * (the first from the period that starts at or after since) and the runs
 * of the partial period before it; else every run.
 */
static int
load_all(sqlite3 *db, int64_t since, enum lq_report_source from,
    struct run **v, size_t *n, struct report_vals *pool, char **cause)
{
	int64_t	period;
	int	usable = 0;

	if (from != LQ_REPORT_FROM_RUNS &&
	    (usable = report_cells_usable(db, cause)) == -1)
		return (-1);
	if (!usable)
		return (load_runs(db, since, INT64_MAX, v, n, pool, cause));
	period = since <= 0 ? 0 : since / REPORT_PERIOD_US +
	    (since % REPORT_PERIOD_US != 0);
	if (period > 0 && load_runs(db, since, period * REPORT_PERIOD_US, v, n,
	    pool, cause) == -1)
		return (-1);
	return (report_cells_load(db, period, v, n, pool, cause));
}

int
lq_report_build(sqlite3 *db, enum lq_report_by by, int64_t since_us,
    struct lq_report **out, char **cause)
{
	return (lq_report_build_from(db, by, since_us, LQ_REPORT_FROM_ANY,
	    out, cause));
}

int
lq_report_build_from(sqlite3 *db, enum lq_report_by by, int64_t since_us,
    enum lq_report_source from, struct lq_report **out, char **cause)
{
	struct names		 cables, ports, bports, devices;
	struct lq_report	*rep;
	struct lq_report_row	*cells = NULL;
	struct lq_blame_cell	*bc;
	struct run		*runs = NULL;
	struct report_vals	 pool;
	struct left_out		*left;
	double			*scratch;
	int64_t			(*keys)[3] = NULL;
	size_t			 nruns = 0, ncells, i;
	int			 hosts;

	*out = NULL;
	*cause = NULL;
	if (by != LQ_REPORT_PAIR && by != LQ_REPORT_CABLE &&
	    by != LQ_REPORT_PORT && by != LQ_REPORT_DEVICE) {
		*cause = xstrdup("report: no such grouping");
		return (-1);
	}
	if (schema_check(db, cause) == -1)
		return (-1);
	if (load_names(db, "SELECT id, label FROM cables ORDER BY id", 1,
	    &cables, cause) == -1)
		return (-1);
	if (load_names(db, "SELECT p.id, p.path, p.label, "
	    LQ_REPORT_HOST_SQL " FROM ports p JOIN hosts h "
	    "ON h.id = p.host_id ORDER BY p.id", 3, &ports, cause) == -1) {
		free_names(&cables);
		return (-1);
	}
	hosts = ports_hosts(&ports, &bports);
	memset(&pool, 0, sizeof(pool));
	if (load_names(db, "SELECT id, udid, name FROM devices ORDER BY id",
	    2, &devices, cause) == -1 ||
	    load_all(db, since_us, from, &runs, &nruns, &pool, cause) == -1) {
		free_names(&cables);
		free_names(&ports);
		free_names(&bports);
		free_names(&devices);
		free(runs);
		free(pool.v);
		return (-1);
	}
	runs_best_speed(runs, nruns);
	/* Room for every figure of a group, for both groupings below. */
	scratch = xreallocarray(NULL, pool.n + 1, sizeof(*scratch));

	rep = xcalloc(1, sizeof(*rep));
	rep->by = by;
	rep->since_us = since_us;
	rep->hosts = hosts;

	/* Blame works on (cable, port, device) cells of the same runs. */
	ncells = group(runs, nruns, &pool, scratch, BY_CELL, &cells,
	    &keys);
	bc = xcalloc(ncells + 1, sizeof(*bc));
	for (i = 0; i < ncells; i++) {
		row_name(&cells[i], keys[i], &cables, &bports, &devices);
		bc[i].cable = cells[i].cable;
		bc[i].port = cells[i].port;
		bc[i].device = cells[i].udid;
		bc[i].verdict = cells[i].verdict;
		bc[i].finding = cells[i].verdict == LQ_VERDICT_FAIL &&
		    cells[i].nreasons > 0 ? cells[i].reasons[0] : NULL;
		bc[i].host_faults = cells[i].host_faults;
	}
	lq_blame_build(bc, ncells, &rep->blame);
	free(bc);
	for (i = 0; i < ncells; i++)
		row_clear(&cells[i]);
	free(cells);
	free(keys);

	/*
	 * A cable's row leaves out its runs on ports the blame found bad,
	 * and a port's its runs with bad cables: a good cable is not to
	 * fail for the hub port it was tried on.
	 */
	left = report_leave_out(runs, &nruns, by, &rep->blame, &cables,
	    &bports);
	rep->nrows = group(runs, nruns, &pool, scratch, by, &rep->rows,
	    &keys);
	for (i = 0; i < rep->nrows; i++) {
		row_name(&rep->rows[i], keys[i], &cables, &ports, &devices);
		report_note_left(&rep->rows[i], keys[i], left, by, &cables,
		    &bports);
	}
	free(keys);
	lq_report_rank(rep->rows, rep->nrows, lq_report_by_name(by));
	lq_report_sort(rep->rows, rep->nrows);
	free(left);
	free(runs);
	free(pool.v);
	free(scratch);
	free_names(&cables);
	free_names(&ports);
	free_names(&bports);
	free_names(&devices);
	/* Restores are no qualification runs: beside them, not in them. */
	if (lq_restore_load(db, since_us, rep, cause) == -1) {
		lq_report_free(rep);
		return (-1);
	}
	lq_restore_blame_build(rep);
	*out = rep;
	return (0);
}

void
lq_report_free(struct lq_report *rep)
{
	size_t	i;

	if (rep == NULL)
		return;
	for (i = 0; i < rep->nrows; i++)
		row_clear(&rep->rows[i]);
	free(rep->rows);
	lq_blame_clear(&rep->blame);
	lq_restore_free(rep);
	free(rep);
}

static const char *const by_names[] = { "pair", "cable", "port", "device" };

const char *
lq_report_by_name(enum lq_report_by by)
{
	if ((size_t)by >= nitems(by_names))
		return (NULL);
	return (by_names[by]);
}

int
lq_report_by_from_name(const char *s)
{
	size_t	i;

	for (i = 0; s != NULL && i < nitems(by_names); i++) {
		if (strcmp(s, by_names[i]) == 0)
			return ((int)i);
	}
	return (-1);
}

/* --- JSON ---------------------------------------------------------- */

static json_t *
jstr(const char *s)
{
	return (s != NULL ? json_string(s) : json_null());
}

static json_t *
jreal(double d)
{
	return (isfinite(d) ? json_real(d) : json_null());
}

static json_t *
jint(uint64_t v)
{
	return (json_integer((json_int_t)v));
}

/* "2026-01-01T00:00:00Z", or "" for 0. */
static void
fmt_time(char *buf, size_t len, int64_t us)
{
	struct tm	tm;
	time_t		t = (time_t)(us / 1000000);

	buf[0] = '\0';
	if (us <= 0 || gmtime_r(&t, &tm) == NULL)
		return;
	if (strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		buf[0] = '\0';
}

static json_t *
blame_items_json(const struct lq_blame_item *v, size_t n)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = 0; i < n; i++) {
		(void)json_array_append_new(a, json_pack("{s:o, s:s, s:o}",
		    "name", jstr(v[i].name),
		    "state", lq_blame_state_name(v[i].state),
		    "evidence", jstr(v[i].evidence)));
	}
	return (a);
}

json_t *
lq_report_to_json(const struct lq_report *rep)
{
	const struct lq_report_row	*r;
	json_t				*rows, *o, *reasons, *tests;
	char				 when[32];
	size_t				 i;
	int				 j;

	rows = json_array();
	for (i = 0; i < rep->nrows; i++) {
		r = &rep->rows[i];
		reasons = json_array();
		for (j = 0; j < r->nreasons; j++)
			(void)json_array_append_new(reasons,
			    json_string(r->reasons[j]));
		fmt_time(when, sizeof(when), r->last_us);
		o = json_object();
		(void)json_object_set_new(o, "cable", jstr(r->cable));
		(void)json_object_set_new(o, "port", jstr(r->port));
		(void)json_object_set_new(o, "port_label", jstr(r->port_label));
		(void)json_object_set_new(o, "host", jstr(r->host));
		(void)json_object_set_new(o, "udid", jstr(r->udid));
		(void)json_object_set_new(o, "device", jstr(r->device));
		(void)json_object_set_new(o, "verdict",
		    jstr(lq_verdict_name(r->verdict)));
		(void)json_object_set_new(o, "runs", jint(r->runs));
		(void)json_object_set_new(o, "passed", jint(r->passed));
		(void)json_object_set_new(o, "marginal", jint(r->marginal));
		(void)json_object_set_new(o, "failed", jint(r->failed));
		(void)json_object_set_new(o, "probes", jint(r->probes));
		(void)json_object_set_new(o, "failures", jint(r->failures));
		(void)json_object_set_new(o, "timeouts", jint(r->timeouts));
		(void)json_object_set_new(o, "cp_upper", jreal(r->cp_upper));
		(void)json_object_set_new(o, "dropouts", jint(r->dropouts));
		(void)json_object_set_new(o, "resets", jint(r->resets));
		(void)json_object_set_new(o, "link_errors",
		    jint(r->link_errors));
		(void)json_object_set_new(o, "corruptions",
		    jint(r->corruptions));
		(void)json_object_set_new(o, "bulk_mb_s_p50",
		    jreal(r->bulk_p50));
		(void)json_object_set_new(o, "bulk_mb_s_p5", jreal(r->bulk_p5));
		(void)json_object_set_new(o, "latency_ms_p50",
		    jreal(r->lat_p50));
		(void)json_object_set_new(o, "latency_ms_p99",
		    jreal(r->lat_p99));
		(void)json_object_set_new(o, "latency_round_trips",
		    json_integer((json_int_t)r->lat_trips));
		(void)json_object_set_new(o, "speed_mbps",
		    r->speed_mbps > 0 ? json_integer(r->speed_mbps) :
		    json_null());
		(void)json_object_set_new(o, "last_tested",
		    when[0] != '\0' ? json_string(when) : json_null());
		(void)json_object_set_new(o, "last_tested_us",
		    json_integer(r->last_us));
		(void)json_object_set_new(o, "load_ms",
		    json_integer(r->load_us / 1000));
		(void)json_object_set_new(o, "bytes",
		    json_integer((json_int_t)r->bytes));
		(void)json_object_set_new(o, "round_trips",
		    json_integer((json_int_t)r->round_trips));
		(void)json_object_set_new(o, "stalls",
		    json_integer((json_int_t)r->stalls));
		(void)json_object_set_new(o, "reasons", reasons);
		(void)json_array_append_new(rows, o);
	}
	tests = json_array();
	for (i = 0; i < rep->blame.ntests; i++) {
		(void)json_array_append_new(tests, json_pack("{s:o, s:o, s:o}",
		    "cable", jstr(rep->blame.tests[i].cable),
		    "port", jstr(rep->blame.tests[i].port),
		    "why", jstr(rep->blame.tests[i].why)));
	}
	o = json_pack("{s:s, s:I, s:i, s:o, s:{s:o, s:o, s:o, s:o}}",
	    "by", lq_report_by_name(rep->by),
	    "since_us", (json_int_t)rep->since_us,
	    "hosts", rep->hosts,
	    "rows", rows,
	    "blame",
	    "cables", blame_items_json(rep->blame.cables, rep->blame.ncables),
	    "ports", blame_items_json(rep->blame.ports, rep->blame.nports),
	    "devices", blame_items_json(rep->blame.devices,
	    rep->blame.ndevices),
	    "next_tests", tests);
	if (o != NULL)
		lq_restore_to_json(rep, o);
	return (o);
}

static char *
get_str(json_t *o, const char *key)
{
	return (dup_or_null(json_string_value(json_object_get(o, key))));
}

static uint64_t
get_u64(json_t *o, const char *key)
{
	json_int_t	v = json_integer_value(json_object_get(o, key));

	return (v > 0 ? (uint64_t)v : 0);
}

static double
get_real(json_t *o, const char *key)
{
	json_t	*v = json_object_get(o, key);

	return (json_is_number(v) ? json_number_value(v) : NAN);
}

static size_t
items_from_json(json_t *a, struct lq_blame_item **out)
{
	struct lq_blame_item	*v;
	json_t			*o;
	size_t			 i, n = json_array_size(a);
	const char		*s;

	v = xcalloc(n + 1, sizeof(*v));
	json_array_foreach(a, i, o) {
		v[i].name = get_str(o, "name");
		s = json_string_value(json_object_get(o, "state"));
		v[i].state = LQ_BLAME_UNKNOWN;
		if (s != NULL && strcmp(s, "good") == 0)
			v[i].state = LQ_BLAME_GOOD;
		else if (s != NULL && strcmp(s, "bad") == 0)
			v[i].state = LQ_BLAME_BAD;
		v[i].evidence = get_str(o, "evidence");
	}
	*out = v;
	return (n);
}

int
lq_report_from_json(json_t *o, struct lq_report **out, char **cause)
{
	struct lq_report	*rep;
	struct lq_report_row	*r;
	json_t			*rows, *row, *reasons, *blame, *t;
	const char		*s;
	size_t			 i, j;
	int			 by, v;

	*out = NULL;
	*cause = NULL;
	rows = json_object_get(o, "rows");
	blame = json_object_get(o, "blame");
	by = lq_report_by_from_name(json_string_value(json_object_get(o,
	    "by")));
	if (by == -1 || !json_is_array(rows) || !json_is_object(blame)) {
		*cause = xstrdup("the report is not in linkq's report format");
		return (-1);
	}
	rep = xcalloc(1, sizeof(*rep));
	rep->by = (enum lq_report_by)by;
	rep->since_us = json_integer_value(json_object_get(o, "since_us"));
	rep->hosts = (int)json_integer_value(json_object_get(o, "hosts"));
	rep->nrows = json_array_size(rows);
	rep->rows = xcalloc(rep->nrows + 1, sizeof(*rep->rows));
	json_array_foreach(rows, i, row) {
		r = &rep->rows[i];
		r->cable = get_str(row, "cable");
		r->port = get_str(row, "port");
		r->port_label = get_str(row, "port_label");
		r->host = get_str(row, "host");
		r->udid = get_str(row, "udid");
		r->device = get_str(row, "device");
		s = json_string_value(json_object_get(row, "verdict"));
		v = lq_verdict_from_name(s);
		r->verdict = v > 0 ? (enum lq_verdict)v : LQ_VERDICT_NONE;
		r->runs = get_u64(row, "runs");
		r->passed = get_u64(row, "passed");
		r->marginal = get_u64(row, "marginal");
		r->failed = get_u64(row, "failed");
		r->probes = get_u64(row, "probes");
		r->failures = get_u64(row, "failures");
		r->timeouts = get_u64(row, "timeouts");
		r->cp_upper = get_real(row, "cp_upper");
		r->dropouts = get_u64(row, "dropouts");
		r->resets = get_u64(row, "resets");
		r->link_errors = get_u64(row, "link_errors");
		r->corruptions = get_u64(row, "corruptions");
		r->bulk_p50 = get_real(row, "bulk_mb_s_p50");
		r->bulk_p5 = get_real(row, "bulk_mb_s_p5");
		r->lat_p50 = get_real(row, "latency_ms_p50");
		r->lat_p99 = get_real(row, "latency_ms_p99");
		r->lat_trips = get_u64(row, "latency_round_trips");
		r->speed_mbps = (int)get_u64(row, "speed_mbps");
		r->last_us = json_integer_value(json_object_get(row,
		    "last_tested_us"));
		r->load_us = json_integer_value(json_object_get(row,
		    "load_ms")) * 1000;
		r->bytes = get_u64(row, "bytes");
		r->round_trips = get_u64(row, "round_trips");
		r->stalls = get_u64(row, "stalls");
		reasons = json_object_get(row, "reasons");
		r->reasons = xcalloc(json_array_size(reasons) + 1,
		    sizeof(*r->reasons));
		json_array_foreach(reasons, j, t) {
			if ((s = json_string_value(t)) != NULL)
				r->reasons[r->nreasons++] = xstrdup(s);
		}
	}
	rep->blame.ncables = items_from_json(json_object_get(blame, "cables"),
	    &rep->blame.cables);
	rep->blame.nports = items_from_json(json_object_get(blame, "ports"),
	    &rep->blame.ports);
	rep->blame.ndevices = items_from_json(json_object_get(blame,
	    "devices"), &rep->blame.devices);
	t = json_object_get(blame, "next_tests");
	rep->blame.ntests = json_array_size(t);
	rep->blame.tests = xcalloc(rep->blame.ntests + 1,
	    sizeof(*rep->blame.tests));
	json_array_foreach(t, i, row) {
		rep->blame.tests[i].cable = get_str(row, "cable");
		rep->blame.tests[i].port = get_str(row, "port");
		rep->blame.tests[i].why = get_str(row, "why");
	}
	lq_restore_from_json(o, rep);
	*out = rep;
	return (0);
}

/*
 * Six significant digits: what a person can use, and what survives the
 * daemon's JSON and back unchanged, so both paths print the same.
 */
void
lq_report_print_json(FILE *f, const struct lq_report *rep)
{
	json_t	*o = lq_report_to_json(rep);
	char	*text;

	text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
	json_decref(o);
	if (text != NULL)
		fprintf(f, "%s\n", text);
	free(text);
}

/* --- CSV ----------------------------------------------------------- */

/* One RFC 4180 field: quoted when it holds a comma, quote or newline. */
static void
csv_field(FILE *f, const char *s, int last)
{
	const char	*p;

	if (s == NULL)
		s = "";
	if (strpbrk(s, ",\"\r\n") != NULL) {
		fputc('"', f);
		for (p = s; *p != '\0'; p++) {
			if (*p == '"')
				fputc('"', f);
			fputc(*p, f);
		}
		fputc('"', f);
	} else
		fputs(s, f);
	fputs(last ? "\r\n" : ",", f);
}

static void
csv_u64(FILE *f, uint64_t v)
{
	fprintf(f, "%" PRIu64 ",", v);
}

static void
csv_real(FILE *f, double d)
{
	if (isfinite(d))
		fprintf(f, "%.6g", d);
	fputc(',', f);
}

void
lq_report_print_csv(FILE *f, const struct lq_report *rep)
{
	const struct lq_report_row	*r;
	char				*reasons, *tmp, when[32];
	size_t				 i;
	int				 j;

	fputs("cable,port,port_label,host,udid,device,verdict,runs,passed,"
	    "marginal,failed,probes,failures,timeouts,cp_upper,dropouts,"
	    "resets,link_errors,corruptions,bulk_mb_s_p50,bulk_mb_s_p5,"
	    "latency_ms_p50,latency_ms_p99,speed_mbps,last_tested,reasons"
	    "\r\n", f);
	for (i = 0; i < rep->nrows; i++) {
		r = &rep->rows[i];
		csv_field(f, r->cable, 0);
		csv_field(f, r->port, 0);
		csv_field(f, r->port_label, 0);
		csv_field(f, r->host, 0);
		csv_field(f, r->udid, 0);
		csv_field(f, r->device, 0);
		csv_field(f, lq_verdict_name(r->verdict), 0);
		csv_u64(f, r->runs);
		csv_u64(f, r->passed);
		csv_u64(f, r->marginal);
		csv_u64(f, r->failed);
		csv_u64(f, r->probes);
		csv_u64(f, r->failures);
		csv_u64(f, r->timeouts);
		csv_real(f, r->cp_upper);
		csv_u64(f, r->dropouts);
		csv_u64(f, r->resets);
		csv_u64(f, r->link_errors);
		csv_u64(f, r->corruptions);
		csv_real(f, r->bulk_p50);
		csv_real(f, r->bulk_p5);
		csv_real(f, r->lat_p50);
		csv_real(f, r->lat_p99);
		if (r->speed_mbps > 0)
			fprintf(f, "%d", r->speed_mbps);
		fputc(',', f);
		fmt_time(when, sizeof(when), r->last_us);
		csv_field(f, when, 0);
		reasons = xstrdup("");
		for (j = 0; j < r->nreasons; j++) {
			(void)xasprintf(&tmp, "%s%s%s", reasons,
			    j > 0 ? "; " : "", r->reasons[j]);
			free(reasons);
			reasons = tmp;
		}
		csv_field(f, reasons, 1);
		free(reasons);
	}
}

/* --- text ---------------------------------------------------------- */

/* d with prec digits after the point, or "-" for none. */
static char *
fmt_real(double d, int prec)
{
	char	*s;

	if (!isfinite(d))
		return (xstrdup("-"));
	(void)xasprintf(&s, "%.*f", prec, d);
	return (s);
}

static const char *
color_of(enum lq_verdict v, int color)
{
	if (!color)
		return (NULL);
	switch (v) {
	case LQ_VERDICT_PASS:
		return ("\033[32m");
	case LQ_VERDICT_MARGINAL:
		return ("\033[33m");
	case LQ_VERDICT_FAIL:
		return ("\033[31m");
	default:
		return (NULL);
	}
}

/* The columns of the text report after the group's key. */
static const struct {
	const char	*head;
	int		 flags;
} text_columns[] = {
	{ "VERDICT", 0 }, { "RUNS", LQ_TABLE_RIGHT },
	{ "P/M/F", LQ_TABLE_RIGHT }, { "PROBES", LQ_TABLE_RIGHT },
	{ "FAILS", LQ_TABLE_RIGHT }, { "CP95", LQ_TABLE_RIGHT },
	{ "DROP", LQ_TABLE_RIGHT }, { "RESET", LQ_TABLE_RIGHT },
	{ "LINK", LQ_TABLE_RIGHT }, { "CORR", LQ_TABLE_RIGHT },
	{ "MB/s p50/p5", LQ_TABLE_RIGHT },
	{ "LAT ms p50/p99", LQ_TABLE_RIGHT }, { "SPEED", LQ_TABLE_RIGHT },
	{ "LAST TESTED", 0 }	/* a time in one piece, no blank */
};

/* The group's key cells of row r: cable, port or device. */
static void
text_key(struct lq_table *t, const struct lq_report *rep,
    const struct lq_report_row *r)
{
	if (rep->by == LQ_REPORT_PAIR || rep->by == LQ_REPORT_CABLE)
		lq_table_cell(t, NULL, "%s", r->cable != NULL ? r->cable : "-");
	/* "1-1 (front)", and " on bench-2" where there are several hosts. */
	if (rep->by == LQ_REPORT_PAIR || rep->by == LQ_REPORT_PORT)
		lq_table_cell(t, NULL, "%s%s%s%s%s%s",
		    r->port != NULL ? r->port : "-",
		    r->port_label != NULL ? " (" : "",
		    r->port_label != NULL ? r->port_label : "",
		    r->port_label != NULL ? ")" : "",
		    rep->hosts > 1 && r->host != NULL ? " on " : "",
		    rep->hosts > 1 && r->host != NULL ? r->host : "");
	if (rep->by == LQ_REPORT_DEVICE)
		lq_table_cell(t, NULL, "%s", r->device != NULL ? r->device :
		    r->udid != NULL ? r->udid : "-");
}

/* Row r's figures, after its key. */
static void
text_figures(struct lq_table *t, const struct lq_report_row *r, int color)
{
	const char	*vn = lq_verdict_name(r->verdict);
	char		*a, *b, when[32];

	lq_table_cell(t, color_of(r->verdict, color), "%s",
	    vn != NULL ? vn : "-");
	lq_table_cell(t, NULL, "%" PRIu64, r->runs);
	lq_table_cell(t, NULL, "%" PRIu64 "/%" PRIu64 "/%" PRIu64,
	    r->passed, r->marginal, r->failed);
	lq_table_cell(t, NULL, "%" PRIu64, r->probes);
	lq_table_cell(t, NULL, "%" PRIu64, r->failures);
	lq_table_cell(t, NULL, "%.3g%%", r->cp_upper * 100);
	lq_table_cell(t, NULL, "%" PRIu64, r->dropouts);
	lq_table_cell(t, NULL, "%" PRIu64, r->resets);
	lq_table_cell(t, NULL, "%" PRIu64, r->link_errors);
	lq_table_cell(t, NULL, "%" PRIu64, r->corruptions);
	a = fmt_real(r->bulk_p50, 1);
	b = fmt_real(r->bulk_p5, 1);
	lq_table_cell(t, NULL, "%s/%s", a, b);
	free(a);
	free(b);
	a = fmt_real(r->lat_p50, 2);
	b = fmt_real(r->lat_p99, 2);
	lq_table_cell(t, NULL, "%s/%s", a, b);
	free(a);
	free(b);
	if (r->speed_mbps > 0)
		lq_table_cell(t, NULL, "%d", r->speed_mbps);
	else
		lq_table_cell(t, NULL, "-");
	fmt_time(when, sizeof(when), r->last_us);
	lq_table_cell(t, NULL, "%s", when[0] != '\0' ? when : "-");
}

/*
 * Aligned columns (lq-table.h): the group's key, the verdict, the counts
 * and the figures; under a row that did not pass, its reasons indented.
 * The key and the time wrap first when width is short.
 */
void
lq_report_print_text(FILE *f, const struct lq_report *rep, int color,
    size_t width)
{
	const struct lq_report_row	*r;
	struct lq_table			*t;
	size_t				 i;
	int				 j;
	char				*line;

	/* A header over nothing would look like a report that lost rows. */
	if (rep->nrows == 0) {
		(void)xasprintf(&line, "No test, qualify, drawer or wiggle run "
		    "has ended %s: the rows come from those runs.",
		    rep->since_us != 0 ? "in this period" : "yet");
		lq_text_wrap(f, 0, line, width);
		free(line);
		return;
	}
	t = lq_table_new();
	if (rep->by == LQ_REPORT_PAIR || rep->by == LQ_REPORT_CABLE)
		lq_table_column(t, "CABLE", LQ_TABLE_FLEX);
	if (rep->by == LQ_REPORT_PAIR || rep->by == LQ_REPORT_PORT)
		lq_table_column(t, "PORT", LQ_TABLE_FLEX);
	if (rep->by == LQ_REPORT_DEVICE)
		lq_table_column(t, "DEVICE", LQ_TABLE_FLEX);
	for (i = 0; i < nitems(text_columns); i++)
		lq_table_column(t, text_columns[i].head,
		    text_columns[i].flags);
	for (i = 0; i < rep->nrows; i++) {
		r = &rep->rows[i];
		lq_table_row(t);
		text_key(t, rep, r);
		text_figures(t, r, color);
		for (j = 0; j < r->nreasons; j++) {
			if (r->verdict != LQ_VERDICT_PASS ||
			    is_left_out_note(r->reasons[j]))
				lq_table_note(t, r->reasons[j]);
		}
	}
	lq_table_print(f, t, width);
	lq_table_free(t);
}

/* Each cable, port or device and its state, evidence wrapping. */
static void
blame_items(struct lq_table *t, const char *what,
    const struct lq_blame_item *v, size_t n, int color)
{
	static const char *const colors[] = { "\033[32m", "\033[31m",
	    "\033[33m" };
	size_t	i;

	for (i = 0; i < n; i++) {
		lq_table_row(t);
		lq_table_cell(t, NULL, "%s", "");
		/*
		 * Padded as before the table printer, for scripts; not the
		 * state, which may end a folded line.
		 */
		lq_table_cell(t, NULL, "%-6s", what);
		lq_table_cell(t, NULL, "%-4s", v[i].name);
		lq_table_cell(t, color ? colors[v[i].state] : NULL, "%s",
		    lq_blame_state_name(v[i].state));
		lq_table_cell(t, NULL, "%s", v[i].evidence);
	}
}

/* The blame section: each cable, port and device, then the next tests. */
void
lq_report_print_blame(FILE *f, const struct lq_report *rep, int color,
    size_t width)
{
	const struct lq_blame	*b = &rep->blame;
	struct lq_table		*t = lq_table_new();
	char			*line;
	size_t			 i;

	fprintf(f, "\nBlame:\n");
	if (b->ncables + b->nports + b->ndevices == 0)
		fprintf(f, "  no cable has been tested yet\n");
	/* No header; the empty first column indents by its gap. */
	lq_table_column(t, "", 0);
	lq_table_column(t, "", 0);
	lq_table_column(t, "", 0);
	lq_table_column(t, "", 0);
	lq_table_column(t, "", LQ_TABLE_FLEX);
	blame_items(t, "cable", b->cables, b->ncables, color);
	blame_items(t, "port", b->ports, b->nports, color);
	blame_items(t, "device", b->devices, b->ndevices, color);
	lq_table_print(f, t, width);
	lq_table_free(t);
	lq_restore_print(f, rep, width);
	if (b->ntests == 0)
		return;
	fprintf(f, "\nNext tests:\n");
	for (i = 0; i < b->ntests; i++) {
		(void)xasprintf(&line, "%s on %s: %s",
		    b->tests[i].cable != NULL ? b->tests[i].cable :
		    "another cable",
		    b->tests[i].port != NULL ? b->tests[i].port :
		    "another port", b->tests[i].why);
		lq_text_wrap(f, 2, line, width);
		free(line);
	}
}
