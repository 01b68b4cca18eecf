/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The report's summaries (schema/0009-report-summaries.sql, common/
 * report-cells.c): on one random history written through the store,
 * the report built from the summaries is the report built from every
 * run, byte for byte in its JSON, for each grouping and for --since on
 * and off period boundaries; and it stays so after runs that end in a
 * later commit, events that come after a run ended, retention's
 * pruning, a cable named after the runs, and the summaries filled
 * again from scratch as the migration does (which gives the same rows).
 */

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
#include "store.h"
#include "xmalloc.h"

#define WEEK_US		INT64_C(604800000000)
#define PERIOD_US	(4 * WEEK_US)		/* of the summaries */
#define T0_US		INT64_C(1767225600000000)	/* a week's start */
/* The first start of a period after T0_US. */
#define P0_US		((T0_US / PERIOD_US + 1) * PERIOD_US)
#define HOUR_US		INT64_C(3600000000)
#define NRUNS		240

static uint64_t	rnd_state = 18;

static uint64_t
rnd(uint64_t n)
{
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return (rnd_state * UINT64_C(2685821657736338717) % n);
}

struct world {
	struct store	*s;
	int64_t		 host, ports[3], cables[3], devices[2];
	int64_t		 late_run, late_att;	/* ends in a later commit */
	int64_t		 named_att;		/* its cable named later */
};

static void
add_event(struct world *w, int64_t att, int64_t run, int64_t t,
    const char *kind, int errnum)
{
	struct store_event	e;

	memset(&e, 0, sizeof(e));
	e.ts_us = t;
	e.source = "kmsg";
	e.kind = kind;
	e.attachment_id = att;
	e.run_id = run;
	e.errnum = errnum;
	assert_true(store_event(w->s, &e) > 0);
}

static void
add_probes(struct world *w, int64_t run, int64_t t, int n)
{
	struct store_probe	p;
	int			i;

	for (i = 0; i < n; i++) {
		memset(&p, 0, sizeof(p));
		p.run_id = run;
		p.kind = 1 + i % LQ_PROBE_KIND_MAX;
		p.ts_us = t + i;
		p.latency_us = 200 + (int64_t)rnd(3000);
		if (p.kind == LQ_PROBE_BULK)
			p.bytes = 65536 * (1 + (int64_t)rnd(8));
		if (rnd(20) == 0)
			p.status = rnd(2) ? LQ_ETIMEDOUT : LQ_EDISCONNECTED;
		assert_true(store_probe(w->s, &p) > 0);
	}
}

static void
add_events(struct world *w, int64_t att, int64_t run, int64_t t)
{
	static const char *const kinds[] = { "link-error", "urb-error",
	    "dropout", "latency-outlier", "corruption", "hc-failure",
	    "reset", "unplug" };
	static const int errnos[] = { -71, -84, 0, -62 };
	int		 i, n = (int)rnd(4);

	for (i = 0; i < n; i++)
		add_event(w, att, run, t + 5 + i,
		    kinds[rnd(nitems(kinds))], errnos[rnd(nitems(errnos))]);
}

/* One run i: a random cell, speed, verdict, probes, trials, events. */
static void
add_run(struct world *w, int i)
{
	static const char *const verdicts[] = { "PASS", "PASS", "PASS",
	    "MARGINAL", "FAIL", NULL };
	struct store_attachment	 a;
	const char		*verdict;
	int64_t			 t, run, att;
	int			 c;

	t = T0_US + (int64_t)i * 13 * HOUR_US + (int64_t)rnd(HOUR_US);
	memset(&a, 0, sizeof(a));
	a.device_id = w->devices[rnd(2)];
	a.port_id = w->ports[rnd(3)];
	/* Run NRUNS / 3 without a cable: one is named for it later. */
	c = i == NRUNS / 3 ? 3 : (int)rnd(4);
	a.cable_id = c < 3 ? w->cables[c] : 0;
	a.speed_mbps = rnd(6) == 0 ? 12 : rnd(4) == 0 ? 5000 : 480;
	a.mode = LQ_MODE_NORMAL;
	a.started_us = t;
	att = store_attachment_begin(w->s, &a);
	if (a.cable_id != 0 && rnd(5) == 0)
		assert_int_equal(store_attachment_cable(w->s, att, a.cable_id,
		    1), 0);
	run = store_run_begin(w->s, att, "quick", t);
	assert_true(att > 0 && run > 0);
	add_probes(w, run, t, 3 + (int)rnd(20));
	if (rnd(4) == 0)
		assert_int_equal(store_run_trials(w->s, run,
		    (int64_t)rnd(60)), 0);
	add_events(w, att, run, t);
	if (i == NRUNS / 2) {
		/* Ended later, after commits with it running. */
		w->late_run = run;
		w->late_att = att;
		assert_int_equal(store_flush(w->s), 0);
		return;
	}
	if (i == NRUNS / 3)
		w->named_att = att;
	verdict = verdicts[rnd(nitems(verdicts))];
	assert_int_equal(store_run_end(w->s, run, verdict != NULL ? "done" :
	    "cancelled", verdict, NULL, t + 100), 0);
	assert_int_equal(store_attachment_end(w->s, att, t + 200, "unplug"),
	    0);
	if (rnd(10) == 0) {
		/* An event for a run that has ended, in a later commit. */
		assert_int_equal(store_flush(w->s), 0);
		add_event(w, att, run, t + 150, "link-error", -71);
	}
	if (rnd(7) == 0)
		assert_int_equal(store_flush(w->s), 0);
}

static void
make_world(struct world *w)
{
	struct store_device	d;
	char			*cause = NULL, name[32];
	int			 i;

	memset(w, 0, sizeof(*w));
	w->s = store_open(":memory:", 0, &cause);
	assert_non_null(w->s);
	w->host = store_host(w->s, "machine-1", "bench");
	for (i = 0; i < 3; i++) {
		(void)snprintf(name, sizeof(name), "1-%d", i + 1);
		w->ports[i] = store_port(w->s, w->host, name, 1);
		(void)snprintf(name, sizeof(name), "C-%02d", i + 1);
		w->cables[i] = store_cable(w->s, name);
	}
	for (i = 0; i < 2; i++) {
		memset(&d, 0, sizeof(d));
		(void)snprintf(name, sizeof(name), "udid-%d", i + 1);
		d.udid = name;
		d.seen_us = T0_US;
		w->devices[i] = store_device(w->s, &d);
	}
	for (i = 0; i < NRUNS; i++)
		add_run(w, i);
	assert_int_equal(store_flush(w->s), 0);
}

static int64_t
sql_int(struct store *s, const char *sql)
{
	sqlite3_stmt	*st;
	int64_t		 v = -1;

	assert_int_equal(sqlite3_prepare_v2(store_handle(s), sql, -1, &st,
	    NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return (v);
}

static char *
report_json(struct store *s, enum lq_report_by by, int64_t since,
    enum lq_report_source from)
{
	struct lq_report	*rep;
	json_t			*j;
	char			*cause = NULL, *out;

	assert_int_equal(lq_report_build_from(store_handle(s), by, since,
	    from, &rep, &cause), 0);
	assert_null(cause);
	j = lq_report_to_json(rep);
	out = json_dumps(j, JSON_SORT_KEYS | JSON_INDENT(1));
	json_decref(j);
	lq_report_free(rep);
	return (out);
}

/* Both ways, every grouping, since on and off period boundaries. */
static void
same_both_ways(struct store *s)
{
	const int64_t	since[] = { 0, T0_US, T0_US + 1, P0_US, P0_US - 1,
	    P0_US + 1, P0_US + PERIOD_US, P0_US + PERIOD_US + 5 * HOUR_US,
	    T0_US + 3 * WEEK_US - 1, T0_US + 100 * WEEK_US };
	char		*a, *b;
	size_t		 i;
	int		 by;

	/* The summaries are current, so that they are what is read. */
	assert_int_equal(sql_int(s, "SELECT count(*) FROM report_dirty"), 0);
	assert_true(sql_int(s, "SELECT count(*) FROM report_cells") > 0);
	for (by = LQ_REPORT_PAIR; by <= LQ_REPORT_DEVICE; by++) {
		for (i = 0; i < nitems(since); i++) {
			a = report_json(s, by, since[i], LQ_REPORT_FROM_ANY);
			b = report_json(s, by, since[i], LQ_REPORT_FROM_RUNS);
			if (strcmp(a, b) != 0)
				fail_msg("by %s since %lld: summaries\n%s\n"
				    "runs\n%s", lq_report_by_name(by),
				    (long long)since[i], a, b);
			free(a);
			free(b);
		}
	}
}

static void
test_summaries_match_runs(void **state)
{
	struct world	w;

	(void)state;
	make_world(&w);
	/* The run still running counts nowhere yet. */
	assert_int_equal(sql_int(w.s, "SELECT count(*) FROM runs WHERE "
	    "state = 'running'"), 1);
	same_both_ways(w.s);
	store_close(w.s);
}

static void
test_summaries_follow_changes(void **state)
{
	struct world	w;

	(void)state;
	make_world(&w);
	/* A run that ends now, long after its start. */
	add_probes(&w, w.late_run, T0_US + 19 * WEEK_US, 7);
	assert_int_equal(store_run_end(w.s, w.late_run, "done", "FAIL",
	    NULL, T0_US + 19 * WEEK_US), 0);
	assert_int_equal(store_flush(w.s), 0);
	same_both_ways(w.s);
	/* Retention: the events of the first five weeks go. */
	assert_true(store_prune(w.s, T0_US + 5 * WEEK_US, 1000000) > 0);
	same_both_ways(w.s);
	/* A cable named for an attachment whose run has ended. */
	if (w.named_att != 0) {
		assert_int_equal(store_attachment_cable(w.s, w.named_att,
		    w.cables[0], 0), 0);
		assert_int_equal(store_flush(w.s), 0);
		same_both_ways(w.s);
	}
	store_close(w.s);
}

/* The summaries' rows, in one string. */
static char *
summary_rows(struct store *s)
{
	static const char *const q[] = {
	    "SELECT * FROM report_runs ORDER BY run_id",
	    "SELECT * FROM report_cells ORDER BY 1, 2, 3, 4",
	    "SELECT * FROM report_cell_events ORDER BY 1, 2, 3, 4, 5" };
	sqlite3_stmt	*st;
	char		*out = xstrdup(""), *t;
	const char	*v;
	size_t		 i;
	int		 c;

	for (i = 0; i < nitems(q); i++) {
		assert_int_equal(sqlite3_prepare_v2(store_handle(s), q[i], -1,
		    &st, NULL), SQLITE_OK);
		while (sqlite3_step(st) == SQLITE_ROW) {
			for (c = 0; c < sqlite3_column_count(st); c++) {
				v = (const char *)sqlite3_column_text(st, c);
				xasprintf(&t, "%s%s%c", out, v ? v : "NULL",
				    c + 1 < sqlite3_column_count(st) ? '|' :
				    '\n');
				free(out);
				out = t;
			}
		}
		sqlite3_finalize(st);
	}
	return (out);
}

static void
test_summaries_refill(void **state)
{
	struct world	 w;
	char		*before, *after;

	(void)state;
	make_world(&w);
	before = summary_rows(w.s);
	/* As the migration fills them, twice. */
	assert_int_equal(sqlite3_exec(store_handle(w.s),
	    "DELETE FROM report_runs; DELETE FROM report_cells; "
	    "DELETE FROM report_cell_events; "
	    "INSERT INTO report_dirty (run_id) SELECT id FROM runs; "
	    "INSERT INTO report_refresh (go) VALUES (1); "
	    "INSERT INTO report_dirty (run_id) SELECT id FROM runs; "
	    "INSERT INTO report_refresh (go) VALUES (1);", NULL, NULL,
	    NULL), SQLITE_OK);
	after = summary_rows(w.s);
	assert_string_equal(before, after);
	free(before);
	free(after);
	/*
	 * A writer that left marks and wrong sums behind: the report
	 * reads the runs instead, and is right.
	 */
	assert_int_equal(sqlite3_exec(store_handle(w.s),
	    "INSERT INTO report_dirty (run_id) VALUES (1); "
	    "UPDATE report_cells SET runs = runs + 5, failed = failed + 5",
	    NULL, NULL, NULL), SQLITE_OK);
	before = report_json(w.s, LQ_REPORT_PAIR, 0, LQ_REPORT_FROM_ANY);
	after = report_json(w.s, LQ_REPORT_PAIR, 0, LQ_REPORT_FROM_RUNS);
	assert_string_equal(before, after);
	free(before);
	free(after);
	store_close(w.s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_summaries_match_runs),
		cmocka_unit_test(test_summaries_follow_changes),
		cmocka_unit_test(test_summaries_refill),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
