/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The report and blame engine (common/report.c, common/blame.c): rows
 * and their sums from small databases written through the store, the
 * sort order, the Clopper-Pearson bound, percentiles, the JSON round
 * trip, and every blame rule on hand-made cells.
 */

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "compat/compat.h"
#include "linkq.h"
#include "lq-report.h"
#include "lq-status.h"
#include "lq-verdict.h"
#include "store.h"
#include "xmalloc.h"

/*
 * One run of the quick profile: device udid with cable on port,
 * probes probes of which failures failed, bulk bytes in bulk_us,
 * run_queries lockdown queries of lat_us each, verdict (NULL: the run
 * was cancelled), and one event of kind (NULL none).
 */
/* The speed the next add_run's attachment negotiated, in Mb/s. */
static int	run_speed = 480;
/* The lockdown queries among the next add_run's probes. */
static int	run_queries = 1;

static void
add_run(struct store *s, const char *port, const char *cable,
    const char *udid, int probes, int failures, int64_t bulk,
    int64_t bulk_us, int64_t lat_us, const char *verdict, const char *kind,
    int64_t t)
{
	struct store_device	d = { 0 };
	struct store_attachment	a = { 0 };
	struct store_probe	p;
	struct store_event	e;
	int64_t			host, run;
	int			i;

	host = store_host(s, "machine-1", "bench");
	d.udid = udid;
	d.seen_us = t;
	a.device_id = store_device(s, &d);
	a.port_id = store_port(s, host, port, 1);
	a.cable_id = cable != NULL ? store_cable(s, cable) : 0;
	a.speed_mbps = run_speed;
	a.started_us = t;
	a.previous_id = store_attachment_begin(s, &a);
	run = store_run_begin(s, a.previous_id, "quick", t);
	for (i = 0; i < probes; i++) {
		memset(&p, 0, sizeof(p));
		p.run_id = run;
		p.ts_us = t + i;
		p.kind = i == 0 ? LQ_PROBE_BULK : i <= run_queries ?
		    LQ_PROBE_LOCKDOWN_QUERY : LQ_PROBE_MUX_CONNECT;
		p.latency_us = i == 0 ? bulk_us : i <= run_queries ? lat_us :
		    100;
		p.bytes = i == 0 ? bulk : 0;
		p.status = i > run_queries && i <= run_queries + failures ?
		    LQ_ETIMEDOUT : LQ_OK;
		assert_true(store_probe(s, &p) > 0);
	}
	if (kind != NULL) {
		memset(&e, 0, sizeof(e));
		e.ts_us = t + 1;
		e.source = "probe";
		e.kind = kind;
		e.run_id = run;
		e.attachment_id = a.previous_id;
		assert_true(store_event(s, &e) > 0);
	}
	assert_int_equal(store_run_end(s, run, verdict != NULL ? "done" :
	    "cancelled", verdict, NULL, t + 10), 0);
}

static struct lq_report *
build(struct store *s, enum lq_report_by by, int64_t since)
{
	struct lq_report	*rep;
	char			*cause = NULL;

	assert_int_equal(store_flush(s), 0);
	assert_int_equal(lq_report_build(store_handle(s), by, since, &rep,
	    &cause), 0);
	assert_null(cause);
	return (rep);
}

static const struct lq_report_row *
row_of(const struct lq_report *rep, const char *cable, const char *port)
{
	size_t	i;

	for (i = 0; i < rep->nrows; i++) {
		if ((cable == NULL || (rep->rows[i].cable != NULL &&
		    strcmp(rep->rows[i].cable, cable) == 0)) &&
		    (port == NULL || (rep->rows[i].port != NULL &&
		    strcmp(rep->rows[i].port, port) == 0)))
			return (&rep->rows[i]);
	}
	fail_msg("no row %s %s", cable ? cable : "-", port ? port : "-");
	return (NULL);
}

static struct store *
world(void)
{
	struct store	*s;
	char		*cause = NULL;

	s = store_open(":memory:", 0, &cause);
	assert_non_null(s);
	/* pass on 1-1 and 1-2; A-03 corrupts on 1-1. */
	add_run(s, "1-1", "A-01", "udid-1", 400, 0, 40000000, 1000000, 2000,
	    "PASS", NULL, 1000000);
	add_run(s, "1-1", "A-01", "udid-1", 400, 1, 20000000, 1000000, 4000,
	    "PASS", NULL, 2000000);
	add_run(s, "1-2", "A-01", "udid-1", 400, 0, 30000000, 1000000, 3000,
	    "PASS", NULL, 3000000);
	add_run(s, "1-1", "A-02", "udid-1", 100, 0, 10000000, 1000000, 1000,
	    "PASS", NULL, 4000000);
	add_run(s, "1-2", "A-02", "udid-1", 100, 0, 10000000, 1000000, 1000,
	    "PASS", NULL, 5000000);
	add_run(s, "1-1", "A-03", "udid-1", 50, 0, 10000000, 1000000, 1000,
	    "FAIL", "corruption", 6000000);
	return (s);
}

/*
 * A database with no run yet: every grouping is empty, with an empty
 * blame, and nothing is handed to qsort or memcpy as NULL (UBSan).
 */
static void
test_empty(void **state)
{
	struct lq_report	*rep;
	struct store		*s;
	char			*cause = NULL;
	int			 by;

	(void)state;
	s = store_open(":memory:", 0, &cause);
	assert_non_null(s);
	for (by = LQ_REPORT_PAIR; by <= LQ_REPORT_DEVICE; by++) {
		rep = build(s, (enum lq_report_by)by, 0);
		assert_int_equal(rep->nrows, 0);
		assert_int_equal(rep->blame.ncables + rep->blame.nports +
		    rep->blame.ndevices + rep->blame.ntests, 0);
		lq_report_free(rep);
	}
	store_close(s);
}

/*
 * Runs that measured no bulk throughput and no round trip (a dropout at
 * once): the rows have no figure, and no empty pool of figures is
 * handed to memcpy as NULL (UBSan; 059 saw linkqd stop so).
 */
static void
test_no_figures(void **state)
{
	struct lq_report	*rep;
	struct store		*s;
	char			*cause = NULL;
	int			 by;

	(void)state;
	s = store_open(":memory:", 0, &cause);
	assert_non_null(s);
	add_run(s, "1-1", "A-01", "udid-1", 0, 0, 0, 0, 0, "FAIL", "dropout",
	    1000000);
	for (by = LQ_REPORT_PAIR; by <= LQ_REPORT_DEVICE; by++) {
		rep = build(s, (enum lq_report_by)by, 0);
		assert_int_equal(rep->nrows, 1);
		assert_true(isnan(rep->rows[0].bulk_p50));
		assert_true(isnan(rep->rows[0].lat_p99));
		assert_int_equal(rep->rows[0].verdict, LQ_VERDICT_FAIL);
		lq_report_free(rep);
	}
	store_close(s);
}

/*
 * Latency ranks a row only on RANK_MIN_TRIPS (20) round trips, its own
 * and the best row's, and the reason gives both counts: B-01's 30 round
 * trips of 4 ms against B-02's 20 of 1 ms; B-03's one round trip of
 * 0.5 ms is neither the best nor ranked.
 */
static void
test_rank_trips(void **state)
{
	struct store			*s;
	struct lq_report		*rep;
	const struct lq_report_row	*r;
	char				*cause = NULL;

	(void)state;
	s = store_open(":memory:", 0, &cause);
	assert_non_null(s);
	run_queries = 10;
	add_run(s, "1-1", "B-01", "udid-1", 100, 0, 10000000, 1000000, 4000,
	    "PASS", NULL, 1000000);
	add_run(s, "1-1", "B-01", "udid-1", 100, 0, 10000000, 1000000, 4000,
	    "PASS", NULL, 2000000);
	add_run(s, "1-1", "B-01", "udid-1", 100, 0, 10000000, 1000000, 4000,
	    "PASS", NULL, 3000000);
	run_queries = 20;
	add_run(s, "1-1", "B-02", "udid-1", 100, 0, 10000000, 1000000, 1000,
	    "PASS", NULL, 4000000);
	run_queries = 1;
	add_run(s, "1-1", "B-03", "udid-1", 100, 0, 10000000, 1000000, 500,
	    "PASS", NULL, 5000000);
	rep = build(s, LQ_REPORT_CABLE, 0);
	r = row_of(rep, "B-01", NULL);
	assert_int_equal(r->lat_trips, 30);
	assert_int_equal(r->rank_soft, 1);
	assert_string_equal(r->reasons[r->nreasons - 1], "ranked lower: "
	    "lockdown round trips p99 4.00 ms against 1.00 ms on the best "
	    "cable (per-run means of 30 and 20 round trips)");
	r = row_of(rep, "B-02", NULL);
	assert_int_equal(r->rank_soft, 0);
	r = row_of(rep, "B-03", NULL);
	assert_int_equal(r->lat_trips, 1);
	assert_int_equal(r->rank_soft, 0);
	lq_report_free(rep);
	store_close(s);
}

static void
test_rows(void **state)
{
	struct store			*s = world();
	struct lq_report		*rep;
	const struct lq_report_row	*r;

	(void)state;
	rep = build(s, LQ_REPORT_CABLE, 0);
	assert_int_equal(rep->nrows, 3);
	/*
	 * Sorted: PASS before FAIL. Within PASS, A-02's bulk (10 MB/s) is a
	 * third of A-01's (30); A-01's round trips (p99 4 ms) are four
	 * times A-02's (1 ms), but 3 and 2 round trips rank nothing.
	 */
	assert_string_equal(rep->rows[0].cable, "A-01");
	assert_string_equal(rep->rows[1].cable, "A-02");
	assert_string_equal(rep->rows[2].cable, "A-03");
	assert_int_equal(rep->rows[0].rank_soft, 0);
	assert_int_equal(rep->rows[1].rank_soft, 1);
	assert_string_equal(rep->rows[1].reasons[rep->rows[1].nreasons - 1],
	    "ranked lower: bulk 10.0 MB/s against 30.0 MB/s on the best "
	    "cable");
	/* Nothing to hold a FAIL against: it is the only one. */
	assert_int_equal(rep->rows[2].rank_soft, 0);
	r = row_of(rep, "A-01", NULL);
	assert_int_equal(r->runs, 3);
	assert_int_equal(r->passed, 3);
	assert_int_equal(r->probes, 1200);
	assert_int_equal(r->failures, 1);
	assert_int_equal(r->timeouts, 1);
	assert_true(fabs(r->cp_upper - lq_cp_upper(1200, 1, 0.05)) < 1e-12);
	assert_int_equal(r->verdict, LQ_VERDICT_PASS);
	/* Per-run MB/s 40, 20, 30: p50 30, p5 20; latency 2, 4, 3 ms. */
	assert_true(fabs(r->bulk_p50 - 30.0) < 1e-9);
	assert_true(fabs(r->bulk_p5 - 20.0) < 1e-9);
	assert_true(fabs(r->lat_p50 - 3.0) < 1e-9);
	assert_true(fabs(r->lat_p99 - 4.0) < 1e-9);
	assert_int_equal(r->speed_mbps, 480);
	assert_int_equal(r->last_us, 3000000);
	/*
	 * The exposure: every probe's time (a bulk probe of 1 s, a query,
	 * 398 others of 100 us, three runs), every byte, the round trips.
	 */
	assert_int_equal(r->load_us, 3 * 1000000 + 2000 + 4000 + 3000 +
	    3 * 398 * 100);
	assert_int_equal(r->bytes, 90000000);
	assert_int_equal(r->round_trips, 1197);
	assert_int_equal(r->lat_trips, 3);
	assert_int_equal(r->nreasons, 4);
	assert_string_equal(r->reasons[0], "all 3 runs passed; 1 failures in "
	    "1200 probes");
	assert_string_equal(r->reasons[1], "3.1 s under load, 45 MB each way, "
	    "1,197 round trips without a fault");
	assert_non_null(strstr(r->reasons[2], "faults per minute of load"));
	assert_non_null(strstr(r->reasons[3], "once a minute"));
	r = row_of(rep, "A-03", NULL);
	assert_int_equal(r->verdict, LQ_VERDICT_FAIL);
	assert_int_equal(r->corruptions, 1);
	assert_true(r->nreasons >= 1);
	assert_non_null(strstr(r->reasons[0], "corruption"));
	lq_report_free(rep);

	rep = build(s, LQ_REPORT_PAIR, 0);
	assert_int_equal(rep->nrows, 5);
	r = row_of(rep, "A-01", "1-1");
	assert_int_equal(r->runs, 2);
	assert_string_equal(r->host, "bench");
	lq_report_free(rep);

	rep = build(s, LQ_REPORT_PORT, 0);
	assert_int_equal(rep->nrows, 2);
	assert_null(rep->rows[0].cable);
	/*
	 * 1-1 saw A-03's corruption, but the blame found A-03 bad: its run
	 * is left out of the port's row, which says so, and 1-1 passes.
	 */
	r = row_of(rep, NULL, "1-1");
	assert_int_equal(r->verdict, LQ_VERDICT_PASS);
	assert_int_equal(r->runs, 3);
	assert_int_equal(r->corruptions, 0);
	assert_true(r->nreasons >= 1);
	assert_non_null(strstr(r->reasons[r->nreasons - 1],
	    "1 run with cable A-03, found bad, left out"));
	lq_report_free(rep);

	rep = build(s, LQ_REPORT_DEVICE, 0);
	assert_int_equal(rep->nrows, 1);
	assert_string_equal(rep->rows[0].udid, "udid-1");
	assert_int_equal(rep->rows[0].runs, 6);
	lq_report_free(rep);

	/* since leaves out the older runs. */
	rep = build(s, LQ_REPORT_CABLE, 4000000);
	assert_int_equal(rep->nrows, 2);
	lq_report_free(rep);
	store_close(s);
}

static void
test_json_round_trip(void **state)
{
	struct store		*s = world();
	struct lq_report	*rep, *back;
	json_t			*o, *again;
	char			*cause, *a, *b;

	(void)state;
	rep = build(s, LQ_REPORT_PAIR, 0);
	o = lq_report_to_json(rep);
	assert_int_equal(lq_report_from_json(o, &back, &cause), 0);
	again = lq_report_to_json(back);
	a = json_dumps(o, JSON_COMPACT);
	b = json_dumps(again, JSON_COMPACT);
	assert_string_equal(a, b);
	assert_non_null(strstr(a, "\"by\":\"pair\""));
	free(a);
	free(b);
	json_decref(o);
	json_decref(again);
	lq_report_free(back);
	o = json_pack("{s:s}", "by", "nothing");
	assert_int_equal(lq_report_from_json(o, &back, &cause), -1);
	assert_null(back);
	free(cause);
	json_decref(o);
	lq_report_free(rep);
	store_close(s);
}

static void
test_csv_quoting(void **state)
{
	struct lq_report	 rep;
	struct lq_report_row	 row;
	char			*buf = NULL, *reasons[2];
	size_t			 len = 0;
	FILE			*f;

	(void)state;
	memset(&rep, 0, sizeof(rep));
	memset(&row, 0, sizeof(row));
	row.cable = xstrdup("A,\"1\"");
	row.verdict = LQ_VERDICT_FAIL;
	row.cp_upper = 0.5;
	row.bulk_p50 = row.bulk_p5 = row.lat_p50 = row.lat_p99 = NAN;
	reasons[0] = xstrdup("one");
	reasons[1] = NULL;
	row.reasons = reasons;
	row.nreasons = 1;
	rep.rows = &row;
	rep.nrows = 1;
	f = open_memstream(&buf, &len);
	lq_report_print_csv(f, &rep);
	fclose(f);
	assert_non_null(strstr(buf, "\r\n\"A,\"\"1\"\"\",,,,,,FAIL,0,"));
	assert_non_null(strstr(buf, ",0.5,"));
	free(buf);
	free(row.cable);
	free(reasons[0]);
}

static void
test_percentile(void **state)
{
	double	v[100];
	int	i;

	(void)state;
	assert_true(isnan(lq_percentile(v, 0, 50)));
	for (i = 0; i < 100; i++)
		v[i] = (double)((i * 37) % 100) + 1;	/* 1..100, shuffled */
	assert_true(lq_percentile(v, 100, 50) == 50.0);
	assert_true(lq_percentile(v, 100, 5) == 5.0);
	assert_true(lq_percentile(v, 100, 99) == 99.0);
	assert_true(lq_percentile(v, 100, 100) == 100.0);
	assert_true(lq_percentile(v, 100, 0) == 1.0);
	v[0] = 7;
	assert_true(lq_percentile(v, 1, 99) == 7.0);
	for (i = 0; i < 10; i++)
		v[i] = 3;			/* all equal */
	assert_true(lq_percentile(v, 10, 50) == 3.0);
}

static void
test_sort(void **state)
{
	struct lq_report_row	r[4];

	(void)state;
	memset(r, 0, sizeof(r));
	r[0].verdict = LQ_VERDICT_FAIL;
	r[1].verdict = LQ_VERDICT_PASS;
	r[1].cp_upper = 0.02;
	r[2].verdict = LQ_VERDICT_PASS;
	r[2].cp_upper = 0.01;
	r[2].probes = 10;
	r[3].verdict = LQ_VERDICT_MARGINAL;
	lq_report_sort(r, 4);
	assert_int_equal(r[0].probes, 10);
	assert_true(r[1].cp_upper == 0.02);
	assert_int_equal(r[2].verdict, LQ_VERDICT_MARGINAL);
	assert_int_equal(r[3].verdict, LQ_VERDICT_FAIL);
}

#define P	LQ_VERDICT_PASS
#define F	LQ_VERDICT_FAIL
#define M	LQ_VERDICT_MARGINAL

static const struct lq_blame_item *
item(const struct lq_blame_item *v, size_t n, const char *name)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (strcmp(v[i].name, name) == 0)
			return (&v[i]);
	}
	fail_msg("no blame item %s", name);
	return (NULL);
}

static void
expect_state(const struct lq_blame *b, const char *what, const char *name,
    enum lq_blame_state st)
{
	const struct lq_blame_item	*it;

	if (strcmp(what, "cable") == 0)
		it = item(b->cables, b->ncables, name);
	else if (strcmp(what, "port") == 0)
		it = item(b->ports, b->nports, name);
	else
		it = item(b->devices, b->ndevices, name);
	if (it->state != st)
		fail_msg("%s %s: %s (%s), expected %s", what, name,
		    lq_blame_state_name(it->state), it->evidence,
		    lq_blame_state_name(st));
}

/* The cable fails where others pass, and passes nowhere: the cable. */
static void
test_blame_cable(void **state)
{
	static const struct lq_blame_cell c[] = {
		{ "A-01", "1-1", "d", P, 0, NULL },
		{ "A-02", "1-1", "d", P, 0, NULL },
		{ "A-04", "1-1", "d", P, 0, NULL },
		{ "A-06", "1-1", "d", P, 0, NULL },
		{ "A-03", "1-1", "d", F, 0, NULL },
	};
	struct lq_blame	b;

	(void)state;
	lq_blame_build(c, nitems(c), &b);
	expect_state(&b, "cable", "A-03", LQ_BLAME_BAD);
	assert_string_equal(b.cables[0].evidence,
	    "A-03 failed on 1-1, where A-01, A-02, A-04 and A-06 passed");
	expect_state(&b, "cable", "A-01", LQ_BLAME_GOOD);
	expect_state(&b, "port", "1-1", LQ_BLAME_GOOD);
	expect_state(&b, "device", "d", LQ_BLAME_GOOD);
	assert_int_equal(b.ntests, 0);
	lq_blame_clear(&b);
}

/* The cable passes elsewhere, no cable passes on the port: the port. */
static void
test_blame_port(void **state)
{
	static const struct lq_blame_cell c[] = {
		{ "A-01", "1-1", "d", P, 0, NULL },
		{ "A-01", "1-2", "d", F, 0, NULL },
	};
	struct lq_blame	b;

	(void)state;
	lq_blame_build(c, nitems(c), &b);
	expect_state(&b, "port", "1-2", LQ_BLAME_BAD);
	assert_non_null(strstr(b.ports[0].evidence,
	    "A-01 failed on 1-2 but passed on 1-1"));
	assert_non_null(strstr(b.ports[0].evidence, "no cable has passed"));
	expect_state(&b, "cable", "A-01", LQ_BLAME_GOOD);
	expect_state(&b, "port", "1-1", LQ_BLAME_GOOD);
	lq_blame_clear(&b);
}

/*
 * A failure the host controller caused blames the port and leaves the
 * cable unjudged, even where other cables passed on that port.
 */
static void
test_blame_host_side(void **state)
{
	static const struct lq_blame_cell c[] = {
		{ "A-01", "1-2", "d", F, 1, NULL },
		{ "A-02", "1-2", "d", P, 0, NULL },
	};
	struct lq_blame	b;

	(void)state;
	lq_blame_build(c, nitems(c), &b);
	expect_state(&b, "port", "1-2", LQ_BLAME_BAD);
	assert_non_null(strstr(b.ports[0].evidence, "host controller"));
	assert_non_null(strstr(b.ports[0].evidence, "not the cable"));
	expect_state(&b, "cable", "A-01", LQ_BLAME_UNKNOWN);
	expect_state(&b, "cable", "A-02", LQ_BLAME_GOOD);
	lq_blame_clear(&b);
}

/* Both pass elsewhere: intermittent, test the pair once more. */
static void
test_blame_intermittent(void **state)
{
	static const struct lq_blame_cell c[] = {
		{ "A-01", "1-1", "d", F, 0, NULL },
		{ "A-01", "1-2", "d", P, 0, NULL },
		{ "A-02", "1-1", "d", P, 0, NULL },
	};
	struct lq_blame	b;

	(void)state;
	lq_blame_build(c, nitems(c), &b);
	expect_state(&b, "cable", "A-01", LQ_BLAME_UNKNOWN);
	assert_non_null(strstr(item(b.cables, b.ncables, "A-01")->evidence,
	    "needs one more test"));
	expect_state(&b, "port", "1-1", LQ_BLAME_UNKNOWN);
	assert_int_equal(b.ntests, 1);
	assert_string_equal(b.tests[0].cable, "A-01");
	assert_string_equal(b.tests[0].port, "1-1");
	lq_blame_clear(&b);
}

/* Neither passes elsewhere: undetermined; test on known-good ones. */
static void
test_blame_undetermined(void **state)
{
	static const struct lq_blame_cell c[] = {
		{ "A-01", "1-1", "d", F, 0, NULL },
		{ "A-02", "1-2", "d", P, 0, NULL },
	};
	static const struct lq_blame_cell lonely[] = {
		{ "A-01", "1-1", "d", F, 0, NULL },
	};
	struct lq_blame	b;

	(void)state;
	lq_blame_build(c, nitems(c), &b);
	expect_state(&b, "cable", "A-01", LQ_BLAME_UNKNOWN);
	expect_state(&b, "port", "1-1", LQ_BLAME_UNKNOWN);
	expect_state(&b, "cable", "A-02", LQ_BLAME_GOOD);
	assert_int_equal(b.ntests, 2);
	assert_string_equal(b.tests[0].cable, "A-01");
	assert_string_equal(b.tests[0].port, "1-2");
	assert_string_equal(b.tests[1].cable, "A-02");
	assert_string_equal(b.tests[1].port, "1-1");
	lq_blame_clear(&b);

	/* Nothing known good: another port, another cable. */
	lq_blame_build(lonely, nitems(lonely), &b);
	assert_int_equal(b.ntests, 2);
	assert_null(b.tests[0].port);
	assert_null(b.tests[1].cable);
	lq_blame_clear(&b);
}

/* Two ports where others pass: bad, though it passed on a third. */
static void
test_blame_two_failures(void **state)
{
	static const struct lq_blame_cell cable[] = {
		{ "A-01", "1-1", "d", F, 0, NULL },
		{ "A-01", "1-2", "d", F, 0, NULL },
		{ "A-01", "1-3", "d", P, 0, NULL },
		{ "A-02", "1-1", "d", P, 0, NULL },
		{ "A-02", "1-2", "d", P, 0, NULL },
	};
	static const struct lq_blame_cell port[] = {
		{ "A-01", "1-1", "d", F, 0, NULL },
		{ "A-02", "1-1", "d", F, 0, NULL },
		{ "A-01", "1-2", "d", P, 0, NULL },
		{ "A-02", "1-2", "d", P, 0, NULL },
		{ "A-03", "1-1", "d", P, 0, NULL },
	};
	struct lq_blame	b;

	(void)state;
	lq_blame_build(cable, nitems(cable), &b);
	expect_state(&b, "cable", "A-01", LQ_BLAME_BAD);
	expect_state(&b, "cable", "A-02", LQ_BLAME_GOOD);
	expect_state(&b, "port", "1-1", LQ_BLAME_GOOD);
	expect_state(&b, "port", "1-2", LQ_BLAME_GOOD);
	lq_blame_clear(&b);

	lq_blame_build(port, nitems(port), &b);
	expect_state(&b, "port", "1-1", LQ_BLAME_BAD);
	expect_state(&b, "cable", "A-01", LQ_BLAME_GOOD);
	expect_state(&b, "cable", "A-02", LQ_BLAME_GOOD);
	lq_blame_clear(&b);
}

/* A device failing with every cable on every port: the device. */
static void
test_blame_device(void **state)
{
	static const struct lq_blame_cell c[] = {
		{ "A-01", "1-1", "bad", F, 0, NULL },
		{ "A-02", "1-1", "bad", F, 0, NULL },
		{ "A-01", "1-2", "bad", F, 0, NULL },
		{ "A-02", "1-2", "bad", F, 0, NULL },
		{ "A-01", "1-1", "good", P, 0, NULL },
		{ "A-02", "1-2", "good", P, 0, NULL },
		{ "A-03", "1-1", "good", M, 0, NULL },
	};
	struct lq_blame	b;

	(void)state;
	lq_blame_build(c, nitems(c), &b);
	expect_state(&b, "device", "bad", LQ_BLAME_BAD);
	assert_non_null(strstr(b.devices[0].evidence, "every cable"));
	expect_state(&b, "device", "good", LQ_BLAME_GOOD);
	/* Its failures blame no cable or port. */
	expect_state(&b, "cable", "A-01", LQ_BLAME_GOOD);
	expect_state(&b, "cable", "A-02", LQ_BLAME_GOOD);
	expect_state(&b, "port", "1-1", LQ_BLAME_GOOD);
	expect_state(&b, "port", "1-2", LQ_BLAME_GOOD);
	expect_state(&b, "cable", "A-03", LQ_BLAME_UNKNOWN);
	assert_int_equal(b.ntests, 0);
	lq_blame_clear(&b);
}

/*
 * A cable whose only run was cancelled has no verdict in the report
 * and is not good in the blame: a cancelled run is no evidence, however
 * clean its probes were (issue 13). Beside a passed run it does not
 * count as one.
 */
static void
test_cancelled_is_no_evidence(void **state)
{
	struct store			*s = world();
	struct lq_report		*rep;
	const struct lq_report_row	*r;
	size_t				 i;

	(void)state;
	add_run(s, "1-2", "A-04", "udid-1", 400, 0, 40000000, 1000000, 2000,
	    NULL, NULL, 7000000);
	add_run(s, "1-2", "A-02", "udid-1", 400, 0, 40000000, 1000000, 2000,
	    NULL, NULL, 8000000);
	rep = build(s, LQ_REPORT_CABLE, 0);
	r = row_of(rep, "A-04", NULL);
	assert_int_equal(r->verdict, LQ_VERDICT_NONE);
	assert_int_equal(r->runs, 1);
	assert_int_equal(r->passed, 0);
	assert_int_equal(r->load_us, 0);
	assert_int_equal(r->nreasons, 1);
	assert_string_equal(r->reasons[0], "no run ended with a verdict: 1 "
	    "cancelled, interrupted or stopped");
	/* Last: after the FAIL, as nothing is known of it. */
	assert_string_equal(rep->rows[rep->nrows - 1].cable, "A-04");
	for (i = 0; i < rep->blame.ncables; i++)
		if (strcmp(rep->blame.cables[i].name, "A-04") == 0)
			assert_int_not_equal(rep->blame.cables[i].state,
			    LQ_BLAME_GOOD);
	/* A-02 passed twice; its cancelled run adds no exposure. */
	r = row_of(rep, "A-02", NULL);
	assert_int_equal(r->verdict, LQ_VERDICT_PASS);
	assert_int_equal(r->runs, 3);
	assert_int_equal(r->load_us, 2 * (1000000 + 1000 + 98 * 100));
	assert_string_equal(r->reasons[0], "2 of 3 runs passed, 1 ended "
	    "without a verdict; 0 failures in 600 probes");
	lq_report_free(rep);
	store_close(s);
}

/*
 * A cable that negotiated 12 Mb/s where the device reaches 480: the
 * speed is found at attach time, before any run, yet the cable's row
 * and its blame line name it, not only "1 of 1 runs failed".
 */
static void
test_speed_fallback_named(void **state)
{
	struct store			*s = world();
	struct lq_report		*rep;
	const struct lq_report_row	*r;
	size_t				 i;
	int				 found = 0;

	(void)state;
	run_speed = 12;
	add_run(s, "1-1", "C-12", "udid-1", 50, 0, 1000000, 1000000, 1000,
	    "FAIL", NULL, 7000000);
	run_speed = 480;
	rep = build(s, LQ_REPORT_CABLE, 0);
	r = row_of(rep, "C-12", NULL);
	assert_int_equal(r->verdict, LQ_VERDICT_FAIL);
	assert_string_equal(r->reasons[0], "negotiated 12 Mb/s although "
	    "this device reached 480 Mb/s elsewhere");
	for (i = 0; i < rep->blame.ncables; i++) {
		if (strcmp(rep->blame.cables[i].name, "C-12") != 0)
			continue;
		found = 1;
		assert_int_equal(rep->blame.cables[i].state, LQ_BLAME_BAD);
		assert_non_null(strstr(rep->blame.cables[i].evidence,
		    "C-12 failed on 1-1 (negotiated 12 Mb/s although this "
		    "device reached 480 Mb/s elsewhere), where "));
	}
	assert_true(found);
	/* The cables at 480 Mb/s are not touched by it. */
	assert_int_equal(row_of(rep, "A-01", NULL)->verdict, LQ_VERDICT_PASS);
	lq_report_free(rep);
	store_close(s);
}

/* The report's blame comes from the database's cells. */
static void
test_report_blame(void **state)
{
	struct store		*s = world();
	struct lq_report	*rep;

	(void)state;
	rep = build(s, LQ_REPORT_PORT, 0);
	expect_state(&rep->blame, "cable", "A-03", LQ_BLAME_BAD);
	expect_state(&rep->blame, "cable", "A-01", LQ_BLAME_GOOD);
	expect_state(&rep->blame, "port", "1-1", LQ_BLAME_GOOD);
	lq_report_free(rep);
	store_close(s);
}

/* One restore of the table below: cable, port, outcome, point, links. */
struct restore_case {
	const char	*cable, *port, *outcome, *step;
	double		 percent;
	int64_t		 links;
};

/* Blame what restores[0..n) say, with cable "BAD" already blamed. */
static void
restore_blame(const struct restore_case *c, size_t n, struct lq_report *rep)
{
	static char			bad_name[] = "BAD", bad_ev[] = "x";
	static struct lq_blame_item	bad = {
		bad_name, LQ_BLAME_BAD, bad_ev
	};
	size_t				i;

	memset(rep, 0, sizeof(*rep));
	rep->blame.cables = &bad;
	rep->blame.ncables = 1;
	rep->restores = xcalloc(n + 1, sizeof(*rep->restores));
	rep->nrestores = n;
	for (i = 0; i < n; i++) {
		rep->restores[i].run = (int64_t)i + 1;
		rep->restores[i].cable = c[i].cable != NULL ?
		    xstrdup(c[i].cable) : NULL;
		rep->restores[i].port = xstrdup(c[i].port);
		rep->restores[i].udid = xstrdup("phone");
		rep->restores[i].outcome = xstrdup(c[i].outcome);
		rep->restores[i].step = c[i].step != NULL ?
		    xstrdup(c[i].step) : NULL;
		rep->restores[i].percent = c[i].percent;
		rep->restores[i].link_events = c[i].links;
	}
	lq_restore_blame_build(rep);
}

static void
expect_rblame(struct lq_report *rep, const char *target, const char *words)
{
	size_t	i;

	for (i = 0; i < rep->nrblame; i++) {
		if (strcmp(rep->rblame[i].target, target) == 0 &&
		    strstr(rep->rblame[i].evidence, words) != NULL)
			return;
	}
	fail_msg("no %s blame with \"%s\" among %zu", target, words,
	    rep->nrblame);
}

/*
 * Restores blame the phone for one failure point on two cables and two
 * ports with a clean link, the link for a failure with link events,
 * and ask for more where the spread is short; a success is no failure.
 */
static void
test_restore_blame(void **state)
{
	static const struct restore_case phone[] = {
		{ "C-1", "1-1", "failed", "Sending filesystem now...", 40, 0 },
		{ "C-2", "1-2", "failed", "Sending filesystem now...", 70, 0 },
		{ "C-3", "1-1", "failed", "Sending filesystem now...", 40, 0 },
		{ "C-4", "1-2", "ok", NULL, 100, 0 },
		{ "C-5", "1-2", "failed", "Verifying restore", 10, 0 },
	};
	static const struct restore_case link[] = {
		{ "BAD", "1-1", "failed", "Sending filesystem now...", 40, 3 },
		{ "C-1", "1-2", "failed", NULL, NAN, 1 },
	};
	static const struct restore_case pct[] = {
		{ "C-1", "1-1", "failed", NULL, 40.0, 0 },
		{ "C-2", "1-2", "failed", NULL, 41.5, 0 },
	};
	static const struct restore_case far[] = {
		{ "C-1", "1-1", "failed", NULL, 40.0, 0 },
		{ "C-2", "1-2", "failed", NULL, 45.0, 0 },
	};
	struct lq_report	rep;

	(void)state;
	restore_blame(phone, nitems(phone), &rep);
	expect_rblame(&rep, "device", "consistent failure point \"Sending "
	    "filesystem now...\" at 40.0% on 3 cables and 2 ports with a "
	    "clean link: phone hardware");
	assert_int_equal(rep.nrblame, 1);
	lq_restore_free(&rep);

	restore_blame(link, nitems(link), &rep);
	expect_rblame(&rep, "link", "cable BAD, which the qualification");
	expect_rblame(&rep, "link", "cable C-1 or port 1-2");
	assert_int_equal(rep.nrblame, 2);
	lq_restore_free(&rep);

	restore_blame(pct, nitems(pct), &rep);
	expect_rblame(&rep, "device", "on 2 cables and 2 ports");
	lq_restore_free(&rep);

	restore_blame(far, nitems(far), &rep);
	expect_rblame(&rep, "next", "1 cables and 1 ports");
	lq_restore_free(&rep);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_no_figures),
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_rank_trips),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_csv_quoting),
		cmocka_unit_test(test_percentile),
		cmocka_unit_test(test_sort),
		cmocka_unit_test(test_blame_cable),
		cmocka_unit_test(test_blame_port),
		cmocka_unit_test(test_blame_host_side),
		cmocka_unit_test(test_blame_intermittent),
		cmocka_unit_test(test_blame_undetermined),
		cmocka_unit_test(test_blame_two_failures),
		cmocka_unit_test(test_blame_device),
		cmocka_unit_test(test_report_blame),
		cmocka_unit_test(test_cancelled_is_no_evidence),
		cmocka_unit_test(test_speed_fallback_named),
		cmocka_unit_test(test_restore_blame),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
