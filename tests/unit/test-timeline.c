/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * A run's timeline (common/history-timeline.c): an hour-long run stays
 * within LQ_TIMELINE_POINTS whole-second buckets; bulk throughput comes
 * from each bulk probe's per-second series, so a stall inside one shows
 * where it was; latency is lockdown-query's alone; failed probes and
 * events land in their buckets; the events are capped and counted; a
 * running run ends at its last probe; a run never recorded is 0.
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
#include "lq-history.h"
#include "lq-status.h"
#include "store.h"

#define T0	1800000000000000LL	/* a run's start, us */
#define SEC	1000000LL

static int64_t
begin_run(struct store *s, int64_t t)
{
	struct store_device	d = { 0 };
	struct store_attachment	a = { 0 };
	int64_t			host;

	host = store_host(s, "machine-1", "bench");
	d.udid = "udid-1";
	d.seen_us = t;
	a.device_id = store_device(s, &d);
	a.port_id = store_port(s, host, "1-1", 1);
	a.cable_id = store_cable(s, "A-01");
	a.speed_mbps = 480;
	a.started_us = t;
	a.previous_id = store_attachment_begin(s, &a);
	return (store_run_begin(s, a.previous_id, "quick", t));
}

static void
probe(struct store *s, int64_t run, int kind, int64_t ts, int64_t lat,
    int status, const char *detail)
{
	struct store_probe	p;

	memset(&p, 0, sizeof(p));
	p.run_id = run;
	p.kind = kind;
	p.ts_us = ts;
	p.latency_us = lat;
	p.bytes = kind == LQ_PROBE_BULK ? 8000000 : 0;
	p.status = status;
	p.detail = detail;
	assert_true(store_probe(s, &p) > 0);
}

static json_t *
timeline(struct store *s, int64_t run)
{
	json_t	*t = NULL;
	char	*cause = NULL;

	assert_int_equal(store_flush(s), 0);
	assert_int_equal(lq_history_timeline(store_handle(s), run, &t,
	    &cause), 1);
	assert_null(cause);
	return (t);
}

static double
point(json_t *t, size_t i, const char *key)
{
	json_t	*v = json_object_get(json_array_get(json_object_get(t,
	    "points"), i), key);

	return (json_is_number(v) ? json_number_value(v) : NAN);
}

/* An hour: 600 buckets of 6 s, the events capped at 200 of 300. */
static void
test_hour_bounded(void **state)
{
	struct store_event	 e;
	struct store		*s;
	json_t			*t;
	int64_t			 run;
	char			*cause = NULL;
	int			 i;

	(void)state;
	assert_non_null(s = store_open(":memory:", 0, &cause));
	run = begin_run(s, T0);
	for (i = 0; i < 3600; i += 10)
		probe(s, run, LQ_PROBE_LOCKDOWN_QUERY, T0 + i * SEC, 2000,
		    i == 1800 ? LQ_ETIMEDOUT : LQ_OK, NULL);
	for (i = 0; i < 300; i++) {
		memset(&e, 0, sizeof(e));
		e.ts_us = T0 + i * SEC;
		e.source = "probe";
		e.kind = "latency-outlier";
		e.run_id = run;
		assert_true(store_event(s, &e) > 0);
	}
	assert_int_equal(store_run_end(s, run, "done", "PASS", NULL,
	    T0 + 3600 * SEC), 0);
	t = timeline(s, run);
	assert_int_equal(json_array_size(json_object_get(t, "points")),
	    LQ_TIMELINE_POINTS);
	assert_int_equal(json_integer_value(json_object_get(t, "bucket_ms")),
	    6000);
	assert_int_equal(json_array_size(json_object_get(t, "events")),
	    LQ_TIMELINE_EVENTS);
	assert_int_equal(json_integer_value(json_object_get(t,
	    "events_total")), 300);
	/* 1800 s is bucket 300: its one failure; latency in ms. */
	assert_true(point(t, 300, "failures") == 1);
	assert_true(point(t, 299, "failures") == 0);
	assert_true(fabs(point(t, 0, "lat_ms") - 2.0) < 1e-9);
	/* No bulk ran: no throughput, not zero. */
	assert_true(isnan(point(t, 0, "mb_s")));
	json_decref(t);
	store_close(s);
}

/*
 * A 10 s run: one bulk probe moving for 4 s, stalled in its third
 * second, then latency; the timeline of the running run ends at its
 * last probe, and the series places each second.
 */
static void
test_bulk_series(void **state)
{
	struct store	*s;
	json_t		*t;
	int64_t		 run;
	char		*cause = NULL;

	(void)state;
	assert_non_null(s = store_open(":memory:", 0, &cause));
	run = begin_run(s, T0);
	probe(s, run, LQ_PROBE_BULK, T0, 4 * SEC, LQ_OK,
	    "{\"write_mb_s\":[30,30,0,10],\"read_mb_s\":[0,10,0,20]}");
	probe(s, run, LQ_PROBE_LOCKDOWN_QUERY, T0 + 5 * SEC, 3000, LQ_OK,
	    NULL);
	probe(s, run, LQ_PROBE_LOCKDOWN_QUERY, T0 + 5 * SEC + 1, 5000,
	    LQ_OK, NULL);
	probe(s, run, LQ_PROBE_MUX_CONNECT, T0 + 9 * SEC, SEC / 2,
	    LQ_ETIMEDOUT, NULL);
	t = timeline(s, run);
	assert_true(json_is_null(json_object_get(t, "ended_us")));
	assert_int_equal(json_integer_value(json_object_get(t, "span_ms")),
	    9500);
	assert_int_equal(json_integer_value(json_object_get(t, "bucket_ms")),
	    1000);
	assert_int_equal(json_array_size(json_object_get(t, "points")), 10);
	assert_true(point(t, 0, "mb_s") == 30);
	assert_true(point(t, 1, "mb_s") == 40);
	assert_true(point(t, 2, "mb_s") == 0);	/* the stall */
	assert_true(point(t, 3, "mb_s") == 30);
	assert_true(isnan(point(t, 4, "mb_s")));
	assert_true(point(t, 5, "lat_ms") == 4);
	assert_true(point(t, 5, "lat_max_ms") == 5);
	assert_true(point(t, 9, "failures") == 1);
	assert_true(point(t, 0, "probes") == 1);
	json_decref(t);
	store_close(s);
}

/* A run never recorded is 0, with nothing allocated. */
static void
test_never_recorded(void **state)
{
	struct store	*s;
	json_t		*t = NULL;
	char		*cause = NULL;

	(void)state;
	assert_non_null(s = store_open(":memory:", 0, &cause));
	assert_int_equal(lq_history_timeline(store_handle(s), 42, &t,
	    &cause), 0);
	assert_null(t);
	assert_null(cause);
	store_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hour_bounded),
		cmocka_unit_test(test_bulk_series),
		cmocka_unit_test(test_never_recorded),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
