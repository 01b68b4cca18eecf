/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Unit tests for merging databases (common/merge.c): two benches
 * written through the store, merged, merged again (nothing added), a
 * run still running left out, a re-attach still pointing at the
 * attachment it continues, each run's totals its own.
 */

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "compat/compat.h"
#include "linkq.h"
#include "log.h"
#include "lq-merge.h"
#include "lq-status.h"
#include "store.h"
#include "xmalloc.h"

#define T0	INT64_C(1767225600000000)	/* 2026-01-01 */

struct fixture {
	char	 dir[64];
	char	 a[96], b[96], fleet[96];
};

static int
setup(void **state)
{
	struct fixture	*f;

	f = xcalloc(1, sizeof(*f));
	(void)strlcpy(f->dir, "/tmp/lq-test-merge-XXXXXX", sizeof(f->dir));
	if (mkdtemp(f->dir) == NULL)
		return (-1);
	(void)snprintf(f->a, sizeof(f->a), "%s/a.db", f->dir);
	(void)snprintf(f->b, sizeof(f->b), "%s/b.db", f->dir);
	(void)snprintf(f->fleet, sizeof(f->fleet), "%s/fleet.db", f->dir);
	*state = f;
	return (0);
}

/* The directory holds only files (the databases and their journals). */
static int
teardown(void **state)
{
	struct fixture	*f = *state;
	struct dirent	*de;
	DIR		*dir;
	int		 ret = 0;

	if ((dir = opendir(f->dir)) == NULL)
		return (-1);
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0 &&
		    unlinkat(dirfd(dir), de->d_name, 0) == -1)
			ret = -1;
	}
	(void)closedir(dir);
	if (rmdir(f->dir) == -1)
		ret = -1;
	free(f);
	return (ret);
}

/* Three probes of run, one failed. */
static void
add_probes(struct store *s, int64_t run, int64_t t)
{
	struct store_probe	p;
	int			i;

	for (i = 0; i < 3; i++) {
		memset(&p, 0, sizeof(p));
		p.run_id = run;
		p.kind = LQ_PROBE_LOCKDOWN_QUERY;
		p.ts_us = t + i * 1000;
		p.latency_us = 500;
		p.status = i == 2 ? LQ_ETIMEDOUT : LQ_OK;
		assert_true(store_probe(s, &p) > 0);
	}
}

/*
 * A bench: one phone on 1-1 through cable, an attachment and its
 * re-attach, a run that ended on the first with its probes and events,
 * and a run still running on the second.
 */
static void
make_bench(const char *path, const char *machine, const char *cable)
{
	struct store_device	 d = { "UDID-PHONE", NULL, "phone", NULL,
				    NULL, T0 };
	struct store_attachment	 a;
	struct store_event	 e;
	struct store		*s;
	char			*cause = NULL;
	int64_t			 host, port, dev, cab, a1, a2, r1, r2;

	s = store_open(path, 0, &cause);
	assert_non_null(s);
	host = store_host(s, machine, machine);
	port = store_port(s, host, "1-1", 1);
	cab = store_cable(s, cable);
	dev = store_device(s, &d);
	memset(&a, 0, sizeof(a));
	a.device_id = dev;
	a.port_id = port;
	a.cable_id = cab;
	a.mode = LQ_MODE_NORMAL;
	a.started_us = T0;
	a1 = store_attachment_begin(s, &a);
	r1 = store_run_begin(s, a1, "quick", T0 + 10);
	add_probes(s, r1, T0 + 20);
	memset(&e, 0, sizeof(e));
	e.ts_us = T0 + 30;
	e.source = "probe";
	e.kind = "timeout";
	e.host_id = host;
	e.port_id = port;
	e.attachment_id = a1;
	e.run_id = r1;
	assert_true(store_event(s, &e) > 0);
	assert_int_equal(store_run_end(s, r1, "done", "FAIL",
	    "[\"a timeout\"]", T0 + 40), 0);
	assert_int_equal(store_attachment_end(s, a1, T0 + 50, "dropout"), 0);
	a.previous_id = a1;
	a.started_us = T0 + 60;
	a2 = store_attachment_begin(s, &a);
	r2 = store_run_begin(s, a2, "monitor", T0 + 70);
	add_probes(s, r2, T0 + 80);
	e.ts_us = T0 + 90;
	e.attachment_id = a2;
	e.run_id = r2;
	assert_true(store_event(s, &e) > 0);
	/* An event of the port alone. */
	e.ts_us = T0 + 95;
	e.source = "kmsg";
	e.kind = "reset";
	e.attachment_id = e.run_id = 0;
	assert_true(store_event(s, &e) > 0);
	store_close(s);
}

static int64_t
count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt	*st;
	int64_t		 n = -1;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
	    SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return (n);
}

static void
test_merge_twice(void **state)
{
	struct fixture	*f = *state;
	sqlite3		*db;
	int64_t		 n[LQ_MERGE_NCOUNTS];
	char		*cause = NULL;

	make_bench(f->a, "machine-a", "A-01");
	make_bench(f->b, "machine-b", "B-01");
	db = lq_merge_open_into(f->fleet, &cause);
	assert_non_null(db);

	assert_int_equal(lq_merge_file(db, f->fleet, f->a, 0, n, &cause), 0);
	assert_int_equal(n[LQ_MERGE_HOSTS], 1);
	assert_int_equal(n[LQ_MERGE_PORTS], 1);
	assert_int_equal(n[LQ_MERGE_CABLES], 1);
	assert_int_equal(n[LQ_MERGE_DEVICES], 1);
	assert_int_equal(n[LQ_MERGE_ATTACHMENTS], 2);
	assert_int_equal(n[LQ_MERGE_RUNS], 1);
	assert_int_equal(n[LQ_MERGE_RUNNING], 1);
	assert_int_equal(n[LQ_MERGE_PROBES], 3);
	/* The running run's event waits for it; the port's comes. */
	assert_int_equal(n[LQ_MERGE_EVENTS], 2);

	assert_int_equal(lq_merge_file(db, f->fleet, f->b, 0, n, &cause), 0);
	assert_int_equal(n[LQ_MERGE_HOSTS], 1);
	assert_int_equal(n[LQ_MERGE_PORTS], 1);
	assert_int_equal(n[LQ_MERGE_DEVICES], 0);
	assert_int_equal(n[LQ_MERGE_RUNS], 1);

	/* Again: nothing. */
	assert_int_equal(lq_merge_file(db, f->fleet, f->a, 0, n, &cause), 0);
	assert_int_equal(n[LQ_MERGE_HOSTS] + n[LQ_MERGE_PORTS] +
	    n[LQ_MERGE_CABLES] + n[LQ_MERGE_DEVICES] +
	    n[LQ_MERGE_ATTACHMENTS] + n[LQ_MERGE_RUNS] + n[LQ_MERGE_PROBES] +
	    n[LQ_MERGE_EVENTS], 0);
	assert_int_equal(n[LQ_MERGE_RUNNING], 1);

	assert_int_equal(count(db, "SELECT count(*) FROM ports"), 2);
	assert_int_equal(count(db, "SELECT count(*) FROM events"), 4);
	assert_int_equal(count(db, "SELECT sum(total_probes) FROM runs"),
	    count(db, "SELECT count(*) FROM probes"));
	assert_int_equal(count(db, "SELECT sum(total_failures) FROM runs"), 2);
	/* Each re-attach points at its bench's first attachment. */
	assert_int_equal(count(db, "SELECT count(*) FROM attachments a "
	    "JOIN attachments p ON p.id = a.previous_id "
	    "WHERE p.port_id = a.port_id AND p.ended_us IS NOT NULL"), 2);
	assert_int_equal(count(db, "SELECT count(*) FROM "
	    "pragma_foreign_key_check"), 0);
	sqlite3_close(db);
}

static void
test_merge_refuses(void **state)
{
	struct fixture	*f = *state;
	sqlite3		*db;
	int64_t		 n[LQ_MERGE_NCOUNTS];
	char		*cause = NULL;

	make_bench(f->a, "machine-a", "A-01");
	db = lq_merge_open_into(f->fleet, &cause);
	assert_non_null(db);
	assert_int_equal(lq_merge_file(db, f->fleet, f->fleet, 0, n,
	    &cause), -1);
	assert_non_null(strstr(cause, "not merged into itself"));
	free(cause);
	assert_int_equal(lq_merge_file(db, f->fleet, f->dir, 0, n, &cause),
	    -1);
	assert_non_null(strstr(cause, "is a directory"));
	free(cause);
	assert_int_equal(lq_merge_file(db, f->fleet, f->b, 0, n, &cause), -1);
	assert_non_null(strstr(cause, "No such file"));
	free(cause);
	sqlite3_close(db);
	/* A directory is no target. */
	assert_null(lq_merge_open_into(f->dir, &cause));
	assert_non_null(strstr(cause, "is a directory"));
	free(cause);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_merge_twice, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_merge_refuses, setup,
		    teardown),
	};

	log_init(LOG_TO_STDERR, 0, "test-merge");
	return (cmocka_run_group_tests_name("merge", tests, NULL, NULL));
}
