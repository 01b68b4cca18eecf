/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Unit tests for the store (daemon/store.c) and the schema: migrations on
 * :memory: and on files, re-opening, upgrading an older database,
 * refusing files that are not linkq databases without touching them,
 * batching, rollups and the summary views.
 */

#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
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
#include "lq-status.h"
#include "store-schema.h"
#include "store.h"
#include "xmalloc.h"

/* A private directory per test, removed with everything in it. */
struct fixture {
	char	 dir[64];
	char	*db_path;
};

static int
setup(void **state)
{
	struct fixture	*f;

	f = xcalloc(1, sizeof(*f));
	(void)strlcpy(f->dir, "/tmp/lq-test-store-XXXXXX", sizeof(f->dir));
	if (mkdtemp(f->dir) == NULL)
		return (-1);
	xasprintf(&f->db_path, "%s/linkq.db", f->dir);
	*state = f;
	return (0);
}

/* The directory holds only files (the database and its WAL files). */
static int
teardown(void **state)
{
	struct fixture	*f = *state;
	struct dirent	*de;
	DIR		*dir;
	int		 fd, ret = 0;

	if ((dir = opendir(f->dir)) == NULL)
		return (-1);
	fd = dirfd(dir);
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(fd, de->d_name, 0) == -1)
			ret = -1;
	}
	(void)closedir(dir);
	if (rmdir(f->dir) == -1)
		ret = -1;
	free(f->db_path);
	free(f);
	return (ret);
}

/* Return the integer that a one-row, one-column query yields. */
static int64_t
query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt	*stmt;
	int64_t		 value;

	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(stmt) != SQLITE_ROW)
		fail_msg("%s: no row: %s", sql, sqlite3_errmsg(db));
	value = sqlite3_column_int64(stmt, 0);
	(void)sqlite3_finalize(stmt);
	return (value);
}

/* Return the text of a one-row query, allocated. */
static char *
query_text(sqlite3 *db, const char *sql)
{
	sqlite3_stmt		*stmt;
	const unsigned char	*text;
	char			*value;

	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(stmt) != SQLITE_ROW)
		fail_msg("%s: no row", sql);
	text = sqlite3_column_text(stmt, 0);
	value = xstrdup(text != NULL ? (const char *)text : "(null)");
	(void)sqlite3_finalize(stmt);
	return (value);
}

static struct store *
open_ok(const char *path, int flags)
{
	struct store	*s;
	char		*cause = NULL;

	s = store_open(path, flags, &cause);
	if (s == NULL)
		fail_msg("store_open %s: %s", path, cause);
	assert_null(cause);
	return (s);
}

static const char *const schema_objects[] = {
	"hosts", "ports", "cables", "devices", "attachments", "runs",
	"probes", "events", "run_rollups", "probe_kinds", "statuses",
	"event_kinds", "pair_summary", "cable_summary", "port_summary",
	"run_summary", "probe_results", "run_windows",
};

static void
assert_schema_complete(sqlite3 *db)
{
	char	*sql;
	size_t	 i;

	for (i = 0; i < nitems(schema_objects); i++) {
		xasprintf(&sql, "SELECT count(*) FROM sqlite_schema WHERE "
		    "name = '%s' AND type IN ('table', 'view')",
		    schema_objects[i]);
		if (query_int(db, sql) != 1)
			fail_msg("schema object %s missing", schema_objects[i]);
		free(sql);
	}
	assert_int_equal(query_int(db, "PRAGMA user_version"),
	    store_schema_latest());
	assert_int_equal(query_int(db, "PRAGMA application_id"),
	    STORE_APPLICATION_ID);
}

static void
test_migrate_memory(void **state __unused)
{
	struct store	*s;

	s = open_ok(":memory:", 0);
	assert_int_equal(store_schema_latest(), store_migration_count);
	assert_true(store_schema_latest() >= 2);
	assert_int_equal(store_schema_version(s), store_schema_latest());
	assert_schema_complete(store_handle(s));
	assert_int_equal(query_int(store_handle(s), "PRAGMA foreign_keys"),
	    1);
	store_close(s);
}

static void
test_migrate_file(void **state)
{
	struct fixture	*f = *state;
	struct store	*s;
	sqlite3		*db;
	char		*mode;

	s = open_ok(f->db_path, 0);
	db = store_handle(s);
	assert_schema_complete(db);
	mode = query_text(db, "PRAGMA journal_mode");
	assert_string_equal(mode, "wal");
	free(mode);
	/* synchronous=NORMAL is 1. */
	assert_int_equal(query_int(db, "PRAGMA synchronous"), 1);
	assert_int_equal(query_int(db, "PRAGMA foreign_keys"), 1);
	mode = query_text(db, "PRAGMA integrity_check");
	assert_string_equal(mode, "ok");
	free(mode);
	store_close(s);
}

/* A run's totals (schemas 0005 and 0006), in the order of its columns. */
struct run_totals {
	int64_t	probes, failures, timeouts, bulk_bytes, bulk_us;
	int64_t	query_probes, query_us;
	int64_t	load_us, bytes, bulk_probes;
};

/* Check the totals schemas 0005 and 0006 keep on run id. */
static void
assert_run_totals(sqlite3 *db, int64_t id, const struct run_totals *want)
{
	sqlite3_stmt	*stmt;

	if (sqlite3_prepare_v2(db, "SELECT total_probes, total_failures, "
	    "total_timeouts, total_bulk_bytes, total_bulk_us, "
	    "total_query_probes, total_query_us, total_load_us, total_bytes, "
	    "total_bulk_probes FROM runs WHERE id = ?1", -1, &stmt,
	    NULL) != SQLITE_OK)
		fail_msg("%s", sqlite3_errmsg(db));
	(void)sqlite3_bind_int64(stmt, 1, id);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int64(stmt, 0), want->probes);
	assert_int_equal(sqlite3_column_int64(stmt, 1), want->failures);
	assert_int_equal(sqlite3_column_int64(stmt, 2), want->timeouts);
	assert_int_equal(sqlite3_column_int64(stmt, 3), want->bulk_bytes);
	assert_int_equal(sqlite3_column_int64(stmt, 4), want->bulk_us);
	assert_int_equal(sqlite3_column_int64(stmt, 5), want->query_probes);
	assert_int_equal(sqlite3_column_int64(stmt, 6), want->query_us);
	assert_int_equal(sqlite3_column_int64(stmt, 7), want->load_us);
	assert_int_equal(sqlite3_column_int64(stmt, 8), want->bytes);
	assert_int_equal(sqlite3_column_int64(stmt, 9), want->bulk_probes);
	(void)sqlite3_finalize(stmt);
}

/*
 * A database written before schema 0005, with rollups, is brought up to
 * date with each run's totals summed from them; rollups written after
 * keep the totals (the triggers).
 */
static void
test_migrate_run_totals(void **state)
{
	struct fixture		*f = *state;
	struct store		*s;
	struct store_probe	 p;
	struct run_totals	 want;
	sqlite3			*db;
	char			*sql;
	int			 i;

	assert_int_equal(sqlite3_open(f->db_path, &db), SQLITE_OK);
	for (i = 0; i < 4; i++) {
		assert_int_equal(store_migrations[i].version, i + 1);
		if (sqlite3_exec(db, store_migrations[i].sql, NULL, NULL,
		    NULL) != SQLITE_OK)
			fail_msg("%s: %s", store_migrations[i].name,
			    sqlite3_errmsg(db));
	}
	xasprintf(&sql, "PRAGMA application_id = %d; PRAGMA user_version = 4;"
	    "INSERT INTO hosts (id, machine_id, hostname, first_seen_us) "
	    "VALUES (1, 'm', 'h', 1);"
	    "INSERT INTO ports (id, host_id, path, first_seen_us) "
	    "VALUES (1, 1, '1-1', 1);"
	    "INSERT INTO devices (id, udid, first_seen_us, last_seen_us) "
	    "VALUES (1, 'u', 1, 1);"
	    "INSERT INTO attachments (id, device_id, port_id, started_us) "
	    "VALUES (1, 1, 1, 1);"
	    "INSERT INTO runs (id, attachment_id, profile, started_us) "
	    "VALUES (7, 1, 'quick', 1);"
	    "INSERT INTO run_rollups VALUES (7, 2, 10, 1, 1, 0, 900, 50, 150),"
	    " (7, 5, 3, 0, 0, 3145728, 40000, 9000, 20000),"
	    " (7, 1, 5, 2, 0, 0, 500, 80, 120);", STORE_APPLICATION_ID);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("%s", sqlite3_errmsg(db));
	free(sql);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);

	s = open_ok(f->db_path, 0);
	db = store_handle(s);
	assert_int_equal(store_schema_version(s), store_schema_latest());
	want = (struct run_totals){ 18, 3, 1, 3145728, 40000, 10, 900, 41400,
	    3145728, 3 };
	assert_run_totals(db, 7, &want);
	/*
	 * The report's summaries (0009) filled for the history there was:
	 * run 7, closed as interrupted at the start, with its probes.
	 */
	assert_int_equal(query_int(db, "SELECT count(*) FROM report_dirty"),
	    0);
	assert_int_equal(query_int(db, "SELECT sum(runs) FROM report_cells"),
	    1);
	assert_int_equal(query_int(db, "SELECT sum(probes) FROM "
	    "report_cells"), 18);

	/* One more lockdown-query through the store: an upsert. */
	memset(&p, 0, sizeof(p));
	p.run_id = 7;
	p.kind = LQ_PROBE_LOCKDOWN_QUERY;
	p.ts_us = 2;
	p.latency_us = 100;
	p.status = LQ_ETIMEDOUT;
	assert_true(store_probe(s, &p) > 0);
	assert_int_equal(store_flush(s), 0);
	want = (struct run_totals){ 19, 4, 2, 3145728, 40000, 11, 1000, 41500,
	    3145728, 3 };
	assert_run_totals(db, 7, &want);
	/* And they follow a probe of an ended run, in its commit. */
	assert_int_equal(query_int(db, "SELECT sum(probes) FROM "
	    "report_cells"), 19);
	store_close(s);
}

/* Opening again changes nothing: no migration, no duplicate seeds. */
static void
test_reopen_idempotent(void **state)
{
	struct fixture	*f = *state;
	struct store	*s;
	int64_t		 host, host2, kinds;

	s = open_ok(f->db_path, 0);
	host = store_host(s, "machine-1", "bench");
	assert_true(host > 0);
	kinds = query_int(store_handle(s), "SELECT count(*) FROM statuses");
	store_close(s);

	s = open_ok(f->db_path, 0);
	assert_int_equal(store_schema_version(s), store_schema_latest());
	assert_int_equal(query_int(store_handle(s),
	    "SELECT count(*) FROM statuses"), kinds);
	assert_int_equal(query_int(store_handle(s),
	    "SELECT count(*) FROM hosts"), 1);
	host2 = store_host(s, "machine-1", "bench-renamed");
	assert_int_equal(host2, host);
	assert_int_equal(store_flush(s), 0);
	store_close(s);

	s = open_ok(f->db_path, STORE_READONLY);
	assert_int_equal(query_int(store_handle(s),
	    "SELECT count(*) FROM hosts WHERE hostname = 'bench-renamed'"),
	    1);
	store_close(s);
}

/* The vocabulary tables seeded by the schema match the C tables. */
static void
test_vocabulary_matches_schema(void **state __unused)
{
	const struct lq_event_kind	*kinds;
	struct store			*s;
	sqlite3				*db;
	char				*sql, *text;
	unsigned int			 n, i;
	int				 code;

	s = open_ok(":memory:", 0);
	db = store_handle(s);

	assert_int_equal(query_int(db, "SELECT count(*) FROM statuses"),
	    1 - LQ_STATUS_MIN);
	for (code = LQ_OK; code >= LQ_STATUS_MIN; code--) {
		xasprintf(&sql, "SELECT name || '|' || message FROM statuses "
		    "WHERE code = %d", code);
		text = query_text(db, sql);
		free(sql);
		xasprintf(&sql, "%s|%s", lq_status_name(code),
		    lq_strerror(code));
		assert_string_equal(text, sql);
		free(text);
		free(sql);
	}

	assert_int_equal(query_int(db, "SELECT count(*) FROM probe_kinds"),
	    LQ_PROBE_KIND_MAX);
	for (code = 1; code <= LQ_PROBE_KIND_MAX; code++) {
		xasprintf(&sql, "SELECT name FROM probe_kinds WHERE id = %d",
		    code);
		text = query_text(db, sql);
		assert_string_equal(text, lq_probe_kind_name(code));
		free(text);
		free(sql);
	}

	kinds = lq_event_kinds(&n);
	assert_int_equal(query_int(db, "SELECT count(*) FROM event_kinds"),
	    n);
	for (i = 0; i < n; i++) {
		xasprintf(&sql, "SELECT class || '|' || description FROM "
		    "event_kinds WHERE name = '%s'", kinds[i].name);
		text = query_text(db, sql);
		free(sql);
		xasprintf(&sql, "%s|%s", lq_event_class_name(kinds[i].class),
		    kinds[i].description);
		assert_string_equal(text, sql);
		free(text);
		free(sql);
	}
	store_close(s);
}

/* Ids of one device on one port through one cable, with one run. */
struct world {
	int64_t	host, port, cable, device, attachment, run;
};

static void
make_world(struct store *s, struct world *w, const char *port,
    const char *cable, const char *udid)
{
	struct store_device	d = { 0 };
	struct store_attachment	a = { 0 };

	w->host = store_host(s, "machine-1", "bench");
	w->port = store_port(s, w->host, port, 1);
	w->cable = store_cable(s, cable);
	d.udid = udid;
	d.seen_us = 1000;
	w->device = store_device(s, &d);
	a.device_id = w->device;
	a.port_id = w->port;
	a.cable_id = w->cable;
	a.mode = LQ_MODE_NORMAL;
	a.speed_mbps = 480;
	a.started_us = 2000;
	w->attachment = store_attachment_begin(s, &a);
	w->run = store_run_begin(s, w->attachment, "quick", 3000);
	assert_true(w->host > 0 && w->port > 0 && w->cable > 0);
	assert_true(w->device > 0 && w->attachment > 0 && w->run > 0);
}

/* Expected totals of one (run, kind), computed independently. */
struct expect {
	int64_t	probes, failures, timeouts, bytes, sum, min, max;
};

/*
 * Insert more probes than one batch holds, across runs and kinds, with
 * failures and timeouts, and check that run_rollups agrees both with
 * totals computed here and with a GROUP BY over the raw probes.
 */
static void
test_batched_insert_and_rollups(void **state)
{
	struct fixture		*f = *state;
	struct store		*s;
	struct world		 w1, w2;
	struct store_probe	 p;
	struct expect		 exp[2][LQ_PROBE_KIND_MAX + 1];
	struct run_totals	 want;
	struct expect		*e;
	sqlite3			*db;
	sqlite3_stmt		*stmt;
	const int		 total = STORE_BATCH_MAX * 2 + 777;
	unsigned int		 seed = 12345;
	int			 i, r, k, rows;

	memset(exp, 0, sizeof(exp));
	s = open_ok(f->db_path, 0);
	make_world(s, &w1, "1-1", "A-01", "udid-1");
	make_world(s, &w2, "1-2", "A-02", "udid-2");
	for (i = 0; i < total; i++) {
		memset(&p, 0, sizeof(p));
		r = rand_r(&seed) % 2;
		k = 1 + rand_r(&seed) % LQ_PROBE_KIND_MAX;
		p.run_id = r == 0 ? w1.run : w2.run;
		p.kind = k;
		p.ts_us = 10000 + i;
		p.latency_us = 50 + rand_r(&seed) % 100000;
		p.bytes = k == LQ_PROBE_BULK ? 131072 : 0;
		switch (rand_r(&seed) % 50) {
		case 0:
			p.status = LQ_ETIMEDOUT;
			break;
		case 1:
			p.status = LQ_EDISCONNECTED;
			p.detail = "connection reset";
			break;
		default:
			p.status = LQ_OK;
		}
		assert_true(store_probe(s, &p) > 0);

		e = &exp[r][k];
		if (e->probes == 0 || p.latency_us < e->min)
			e->min = p.latency_us;
		if (p.latency_us > e->max)
			e->max = p.latency_us;
		e->probes++;
		e->failures += p.status != LQ_OK;
		e->timeouts += p.status == LQ_ETIMEDOUT;
		e->bytes += p.bytes;
		e->sum += p.latency_us;
	}
	/* Two full batches were committed on their own along the way. */
	assert_true(store_pending(s) < STORE_BATCH_MAX);
	assert_true(store_pending(s) > 0);
	assert_int_equal(store_flush(s), 0);
	assert_int_equal(store_pending(s), 0);
	db = store_handle(s);

	assert_int_equal(query_int(db, "SELECT count(*) FROM probes"), total);
	if (sqlite3_prepare_v2(db, "SELECT run_id, kind, probes, failures, "
	    "timeouts, bytes, latency_sum_us, latency_min_us, latency_max_us "
	    "FROM run_rollups", -1, &stmt, NULL) != SQLITE_OK)
		fail_msg("%s", sqlite3_errmsg(db));
	rows = 0;
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		r = sqlite3_column_int64(stmt, 0) == w1.run ? 0 : 1;
		k = sqlite3_column_int(stmt, 1);
		e = &exp[r][k];
		assert_int_equal(sqlite3_column_int64(stmt, 2), e->probes);
		assert_int_equal(sqlite3_column_int64(stmt, 3), e->failures);
		assert_int_equal(sqlite3_column_int64(stmt, 4), e->timeouts);
		assert_int_equal(sqlite3_column_int64(stmt, 5), e->bytes);
		assert_int_equal(sqlite3_column_int64(stmt, 6), e->sum);
		assert_int_equal(sqlite3_column_int64(stmt, 7), e->min);
		assert_int_equal(sqlite3_column_int64(stmt, 8), e->max);
		rows++;
	}
	(void)sqlite3_finalize(stmt);
	assert_int_equal(rows, 2 * LQ_PROBE_KIND_MAX);

	/* And the rollups agree with the raw rows, whatever we computed. */
	assert_int_equal(query_int(db,
	    "SELECT count(*) FROM run_rollups ru JOIN (SELECT run_id, kind, "
	    "count(*) AS n, sum(status != 0) AS f, sum(status = -6) AS t, "
	    "sum(bytes) AS b, sum(latency_us) AS s, min(latency_us) AS lo, "
	    "max(latency_us) AS hi FROM probes GROUP BY run_id, kind) g "
	    "ON g.run_id = ru.run_id AND g.kind = ru.kind WHERE "
	    "ru.probes = g.n AND ru.failures = g.f AND ru.timeouts = g.t AND "
	    "ru.bytes = g.b AND ru.latency_sum_us = g.s AND "
	    "ru.latency_min_us = g.lo AND ru.latency_max_us = g.hi"),
	    2 * LQ_PROBE_KIND_MAX);

	/*
	 * Each run's totals (schemas 0005 and 0006, kept by triggers over three
	 * batches, so through inserts and upserts) agree with the raw rows.
	 */
	for (r = 0; r < 2; r++) {
		memset(&want, 0, sizeof(want));
		for (k = 1; k <= LQ_PROBE_KIND_MAX; k++) {
			want.probes += exp[r][k].probes;
			want.failures += exp[r][k].failures;
			want.timeouts += exp[r][k].timeouts;
			want.load_us += exp[r][k].sum;
			want.bytes += exp[r][k].bytes;
		}
		want.bulk_probes = exp[r][LQ_PROBE_BULK].probes;
		want.bulk_bytes = exp[r][LQ_PROBE_BULK].bytes;
		want.bulk_us = exp[r][LQ_PROBE_BULK].sum;
		want.query_probes = exp[r][LQ_PROBE_LOCKDOWN_QUERY].probes;
		want.query_us = exp[r][LQ_PROBE_LOCKDOWN_QUERY].sum;
		assert_run_totals(db, r == 0 ? w1.run : w2.run, &want);
	}
	store_close(s);
}

/* Rows are invisible to another connection until the batch commits. */
static void
test_batch_commits_on_flush(void **state)
{
	struct fixture		*f = *state;
	struct store		*s;
	struct world		 w;
	struct store_probe	 p = { 0 };
	sqlite3			*reader;

	s = open_ok(f->db_path, 0);
	make_world(s, &w, "2-1", "B-01", "udid-b");
	assert_int_equal(store_flush(s), 0);
	assert_int_equal(sqlite3_open_v2(f->db_path, &reader,
	    SQLITE_OPEN_READONLY, NULL), SQLITE_OK);

	p.run_id = w.run;
	p.kind = LQ_PROBE_LOCKDOWN_QUERY;
	p.ts_us = 5000;
	p.latency_us = 900;
	assert_true(store_probe(s, &p) > 0);
	assert_true(store_probe(s, &p) > 0);
	assert_int_equal(store_pending(s), 2);
	assert_int_equal(query_int(reader, "SELECT count(*) FROM probes"), 0);
	assert_int_equal(query_int(reader,
	    "SELECT count(*) FROM run_rollups"), 0);

	assert_int_equal(store_flush(s), 0);
	assert_int_equal(query_int(reader, "SELECT count(*) FROM probes"), 2);
	assert_int_equal(query_int(reader,
	    "SELECT probes FROM run_rollups"), 2);

	/* Closing commits what is pending. */
	assert_true(store_probe(s, &p) > 0);
	store_close(s);
	assert_int_equal(query_int(reader, "SELECT count(*) FROM probes"), 3);
	assert_int_equal(query_int(reader,
	    "SELECT probes FROM run_rollups"), 3);
	(void)sqlite3_close(reader);
}

/*
 * A write the database refuses is dropped alone when it is committed;
 * the rest of its commit is kept, rollups count only the probes written.
 */
static void
test_bad_row_keeps_batch(void **state __unused)
{
	struct store		*s;
	struct world		 w;
	struct store_probe	 p = { 0 };
	struct store_event	 e = { 0 };
	sqlite3			*db;

	log_init(LOG_TO_STDERR, 0, "test-store");
	s = open_ok(":memory:", 0);
	make_world(s, &w, "3-1", "C-01", "udid-c");
	db = store_handle(s);

	p.run_id = w.run;
	p.kind = LQ_PROBE_BULK;
	p.latency_us = 100;
	p.bytes = 4096;
	assert_true(store_probe(s, &p) > 0);
	p.run_id = w.run + 1000;		/* no such run */
	assert_true(store_probe(s, &p) > 0);
	p.run_id = w.run;
	p.kind = 99;				/* no such kind */
	assert_true(store_probe(s, &p) > 0);
	p.kind = LQ_PROBE_BULK;
	p.latency_us = -5;			/* impossible latency */
	assert_true(store_probe(s, &p) > 0);

	e.ts_us = 1;
	e.source = "kmsg";
	e.kind = "link-error";
	e.attachment_id = w.attachment;
	e.run_id = w.run;
	e.errnum = -71;
	e.detail = "usb 1-1: device descriptor read/64, error -71";
	assert_true(store_event(s, &e) > 0);
	e.kind = "not-a-kind";
	assert_true(store_event(s, &e) > 0);
	e.kind = "reset";
	e.source = "nowhere";
	assert_true(store_event(s, &e) > 0);

	assert_int_equal(store_run_end(s, w.run + 1000, "done", "PASS", NULL,
	    9), 0);
	assert_int_equal(store_run_end(s, w.run, "finished", NULL, NULL, 9),
	    0);
	assert_int_equal(store_run_end(s, w.run, "done", "OK", NULL, 9), 0);
	assert_int_equal(store_attachment_end(s, w.attachment, 9, "gone"), 0);
	assert_int_equal(store_port_label(s, w.port + 1000, "x"), 0);

	assert_int_equal(store_flush(s), 0);
	assert_false(store_failing(s));
	assert_int_equal(store_pending(s), 0);
	assert_int_equal(query_int(db, "SELECT count(*) FROM probes"), 1);
	assert_int_equal(query_int(db, "SELECT probes FROM run_rollups"), 1);
	assert_int_equal(query_int(db, "SELECT bytes FROM run_rollups"), 4096);
	assert_int_equal(query_int(db, "SELECT errno FROM events"), -71);
	assert_int_equal(query_int(db, "SELECT count(*) FROM runs WHERE "
	    "state = 'running'"), 1);
	/* A find-or-add runs at once, so its refusal is immediate. */
	assert_int_equal(store_cable(s, ""), -1);
	store_close(s);
}

/*
 * Commits that fail for the disk's or another process's reason (here a
 * lock held by another connection) keep every write in memory, hand out
 * no id twice, report nothing as recorded, say what is wrong, and land
 * whole when the fault goes.
 */
static void
test_fault_keeps_journal(void **state)
{
	struct fixture		*f = *state;
	struct store		*s;
	struct store_health	 h;
	struct world		 w;
	struct store_probe	 p = { 0 };
	sqlite3			*other, *db;
	uint64_t		 end_seq;
	int64_t			 run2, cable, probe1, probe2;
	int			 i;

	s = open_ok(f->db_path, 0);
	make_world(s, &w, "4-1", "D-01", "udid-d");
	assert_int_equal(store_flush(s), 0);
	db = store_handle(s);

	assert_int_equal(sqlite3_open(f->db_path, &other), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL,
	    NULL), SQLITE_OK);

	p.run_id = w.run;
	p.kind = LQ_PROBE_LOCKDOWN_QUERY;
	p.latency_us = 300;
	probe1 = store_probe(s, &p);
	probe2 = store_probe(s, &p);
	assert_true(probe1 > 0 && probe2 == probe1 + 1);
	assert_int_equal(store_run_end(s, w.run, "done", "PASS", "[]", 9000),
	    0);
	end_seq = store_seq(s);
	assert_int_equal(store_flush(s), -1);
	assert_true(store_failing(s));
	assert_false(store_recorded(s, end_seq));
	store_health(s, &h);
	assert_string_equal(h.problem, "database locked by another process");
	assert_non_null(strstr(h.advice, f->db_path));
	assert_int_equal(h.pending, 3);

	/* Ids go on: a new run and a new cable, the same cable again. */
	run2 = store_run_begin(s, w.attachment, "quick", 9500);
	assert_true(run2 > w.run);
	cable = store_cable(s, "E-01");
	assert_true(cable > w.cable);
	assert_int_equal(store_cable(s, "E-01"), cable);
	assert_int_equal(store_cable(s, "D-01"), w.cable);
	for (i = 0; i < 3; i++)
		assert_int_equal(store_flush(s), -1);
	assert_int_equal(query_int(db, "SELECT count(*) FROM probes"), 0);

	/* The other process lets go: everything lands, in order. */
	assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(store_flush(s), 0);
	assert_false(store_failing(s));
	assert_true(store_recorded(s, end_seq));
	store_health(s, &h);
	assert_null(h.problem);
	assert_string_equal(h.recovered_from,
	    "database locked by another process");
	assert_int_equal(query_int(db, "SELECT count(*) FROM probes"), 2);
	assert_int_equal(query_int(db, "SELECT max(id) FROM probes"), probe2);
	assert_int_equal(query_int(db, "SELECT probes FROM run_rollups"), 2);
	assert_int_equal(query_int(db, "SELECT total_probes FROM runs WHERE "
	    "verdict = 'PASS'"), 2);
	assert_int_equal(query_int(db, "SELECT count(*) FROM runs"), 2);
	assert_int_equal(query_int(db, "SELECT max(id) FROM runs"), run2);
	assert_int_equal(query_int(db, "SELECT id FROM cables WHERE "
	    "label = 'E-01'"), cable);
	assert_int_equal(query_int(db, "SELECT count(*) FROM cables"), 2);
	(void)sqlite3_close(other);
	store_close(s);
}

/*
 * Runs and attachments an earlier linkqd left open are closed as
 * interrupted at their last evidence, with an event; ids are never
 * given again, even of rows since deleted.
 */
static void
test_crash_recovery(void **state)
{
	struct fixture		*f = *state;
	struct store		*s;
	struct world		 w;
	struct store_probe	 p = { 0 };
	struct store_event	 e = { 0 };
	sqlite3			*db;
	int64_t			 run2, run3;

	s = open_ok(f->db_path, 0);
	make_world(s, &w, "5-1", "F-01", "udid-f");
	p.run_id = w.run;
	p.kind = LQ_PROBE_MUX_CONNECT;
	p.ts_us = 5000;
	p.latency_us = 700;
	assert_true(store_probe(s, &p) > 0);
	e.ts_us = 4000;
	e.source = "kmsg";
	e.kind = "link-error";
	e.attachment_id = w.attachment;
	e.run_id = w.run;
	assert_true(store_event(s, &e) > 0);
	run2 = store_run_begin(s, w.attachment, "quick", 6000);
	store_close(s);		/* as a kill -9 after the commit would */

	/* The newest run is deleted by hand: its id stays taken. */
	assert_int_equal(sqlite3_open(f->db_path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DELETE FROM runs WHERE id = (SELECT "
	    "max(id) FROM runs)", NULL, NULL, NULL), SQLITE_OK);
	(void)sqlite3_close(db);

	s = open_ok(f->db_path, 0);
	db = store_handle(s);
	assert_int_equal(query_int(db, "SELECT count(*) FROM runs WHERE "
	    "state = 'interrupted' AND ended_us = 5700"), 1);
	assert_int_equal(query_int(db, "SELECT count(*) FROM attachments "
	    "WHERE end_reason = 'interrupted' AND ended_us = 5700"), 1);
	assert_int_equal(query_int(db, "SELECT count(*) FROM events WHERE "
	    "kind = 'interrupted' AND source = 'daemon' AND ts_us = 5700"),
	    1);
	assert_int_equal(query_int(db, "SELECT count(*) FROM runs WHERE "
	    "reasons LIKE '%killed or crashed%'"), 1);
	run3 = store_run_begin(s, w.attachment, "quick", 7000);
	assert_true(run3 > run2);
	assert_int_equal(store_flush(s), 0);
	store_close(s);

	/* A second start finds nothing more to close. */
	s = open_ok(f->db_path, 0);
	db = store_handle(s);
	assert_int_equal(query_int(db, "SELECT count(*) FROM events WHERE "
	    "kind = 'interrupted'"), 2);
	assert_int_equal(query_int(db, "SELECT count(*) FROM runs WHERE "
	    "state = 'running'"), 0);
	store_close(s);
}

/*
 * Make the fixture's file a database of schema version n, as a linkqd
 * of that version left it, with one host, port and device (id 1 each)
 * and the rows of sql; the migrations run as the store runs them
 * (0007-durable-ids.sql says why).
 */
static void
db_at_version(const char *path, int n, const char *rows)
{
	sqlite3	*db;
	char	*sql;
	int	 i;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA foreign_keys = OFF; "
	    "PRAGMA legacy_alter_table = ON", NULL, NULL, NULL), SQLITE_OK);
	for (i = 0; i < n; i++) {
		if (sqlite3_exec(db, store_migrations[i].sql, NULL, NULL,
		    NULL) != SQLITE_OK)
			fail_msg("%s: %s", store_migrations[i].name,
			    sqlite3_errmsg(db));
	}
	xasprintf(&sql, "PRAGMA application_id = %d; PRAGMA user_version = %d;"
	    "INSERT INTO hosts (id, machine_id, hostname, first_seen_us) "
	    "VALUES (1, 'm', 'h', 1);"
	    "INSERT INTO ports (id, host_id, path, first_seen_us) "
	    "VALUES (1, 1, '1-1', 1);"
	    "INSERT INTO devices (id, udid, first_seen_us, last_seen_us) "
	    "VALUES (1, 'u', 1, 1);%s", STORE_APPLICATION_ID, n, rows);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("%s", sqlite3_errmsg(db));
	free(sql);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

/*
 * A database of schema version 6 (no AUTOINCREMENT) is rebuilt in
 * place: rows, views and triggers kept, foreign keys whole, the largest
 * ids remembered.
 */
static void
test_upgrade_from_version_6(void **state)
{
	struct fixture	*f = *state;
	struct store	*s;
	sqlite3		*db;

	db_at_version(f->db_path, 6,
	    "INSERT INTO attachments (id, device_id, port_id, started_us, "
	    "ended_us, end_reason) VALUES (4, 1, 1, 1, 50, 'unplug'), "
	    "(5, 1, 1, 60, NULL, NULL);"
	    "INSERT INTO runs (id, attachment_id, profile, started_us, state, "
	    "verdict, ended_us) VALUES (7, 4, 'quick', 2, 'done', 'PASS', 40),"
	    " (8, 5, 'quick', 70, 'running', NULL, NULL);"
	    "INSERT INTO run_rollups VALUES (7, 2, 10, 1, 1, 0, 900, 50, 150);"
	    "INSERT INTO probes (run_id, kind, ts_us, latency_us, status) "
	    "VALUES (8, 1, 100, 5, 0);"
	    "INSERT INTO events (id, ts_us, source, kind, attachment_id, "
	    "run_id) VALUES (12, 30, 'kmsg', 'reset', 4, 7);");

	s = open_ok(f->db_path, 0);
	db = store_handle(s);
	assert_int_equal(store_schema_version(s), store_schema_latest());
	assert_schema_complete(db);
	assert_int_equal(query_int(db, "SELECT count(*) FROM "
	    "pragma_foreign_key_check"), 0);
	assert_int_equal(query_int(db, "SELECT count(*) FROM sqlite_schema "
	    "WHERE sql LIKE '%AUTOINCREMENT%'"), 3);
	assert_int_equal(query_int(db, "SELECT seq FROM sqlite_sequence "
	    "WHERE name = 'runs'"), 8);
	assert_int_equal(query_int(db, "SELECT total_probes FROM runs "
	    "WHERE id = 7"), 10);
	assert_int_equal(query_int(db, "SELECT count(*) FROM run_summary "
	    "WHERE verdict = 'PASS' AND resets = 1"), 1);
	/* The open run of version 6 is closed at its last evidence. */
	assert_int_equal(query_int(db, "SELECT ended_us FROM runs WHERE "
	    "id = 8 AND state = 'interrupted'"), 105);
	assert_int_equal(query_int(db, "SELECT ended_us FROM attachments "
	    "WHERE id = 5 AND end_reason = 'interrupted'"), 105);
	assert_int_equal(query_int(db, "SELECT ended_us FROM attachments "
	    "WHERE id = 4 AND end_reason = 'unplug'"), 50);
	assert_true(store_run_begin(s, 5, "quick", 200) == 9);
	assert_true(store_event(s, &(struct store_event){ .ts_us = 1,
	    .source = "user", .kind = "unplug" }) == 14);
	assert_int_equal(store_flush(s), 0);
	store_close(s);
}

/*
 * A version 7 database takes the restore-watch columns: its runs become
 * qualification runs; a watch run is written and ended with its outcome.
 */
static void
test_upgrade_from_version_7(void **state)
{
	struct fixture		*f = *state;
	struct store_watch_end	 e = { 0 };
	struct store		*s;
	sqlite3			*db;
	int64_t			 id;

	db_at_version(f->db_path, 7,
	    "INSERT INTO attachments (id, device_id, port_id, started_us, "
	    "ended_us, end_reason) VALUES (4, 1, 1, 1, 50, 'unplug');"
	    "INSERT INTO runs (id, attachment_id, profile, started_us, state, "
	    "verdict, ended_us) VALUES (7, 4, 'quick', 2, 'done', 'PASS', "
	    "40);");

	s = open_ok(f->db_path, 0);
	db = store_handle(s);
	assert_int_equal(store_schema_version(s), store_schema_latest());
	assert_int_equal(query_int(db, "SELECT count(*) FROM runs WHERE "
	    "id = 7 AND kind = 'qualify' AND outcome IS NULL AND "
	    "verdict = 'PASS'"), 1);
	id = store_watch_begin(s, 4, 60, "idevicerestore -e x.ipsw");
	assert_true(id == 8);
	e.state = "done";
	e.outcome = "failed";
	e.exit_status = 14;
	e.percent_tenths = 453;
	e.step = "Sending filesystem now...";
	e.link_events = 2;
	e.ended_us = 90;
	assert_int_equal(store_watch_end(s, id, &e), 0);
	assert_int_equal(store_flush(s), 0);
	assert_int_equal(query_int(db, "SELECT count(*) FROM runs WHERE "
	    "id = 8 AND kind = 'restore-watch' AND verdict IS NULL AND "
	    "outcome = 'failed' AND exit_status = 14 AND exit_signal IS NULL "
	    "AND percent = 45.3 AND step = 'Sending filesystem now...' AND "
	    "link_events = 2 AND command = 'idevicerestore -e x.ipsw' AND "
	    "ended_us = 90"), 1);
	/* The schema refuses an outcome that is not one. */
	assert_int_not_equal(sqlite3_exec(db, "UPDATE runs SET outcome = "
	    "'PASS' WHERE id = 8", NULL, NULL, NULL), SQLITE_OK);
	store_close(s);
}

static void
test_upserts(void **state __unused)
{
	struct store		*s;
	struct store_device	 d = { 0 };
	sqlite3			*db;
	int64_t			 host, port, dev;
	char			*text;

	s = open_ok(":memory:", 0);
	db = store_handle(s);
	host = store_host(s, "m", "h");
	port = store_port(s, host, "1-4.2", -1);
	assert_int_equal(store_port(s, host, "1-4.2", 2), port);
	assert_int_equal(query_int(db, "SELECT hub_depth FROM ports"), 2);
	/* An unknown depth keeps the known one. */
	assert_int_equal(store_port(s, host, "1-4.2", -1), port);
	assert_int_equal(query_int(db, "SELECT hub_depth FROM ports"), 2);
	assert_true(store_port(s, host, "1-4.3", -1) != port);

	assert_int_equal(store_port_label(s, port, "front-left"), 0);
	assert_int_equal(store_flush(s), 0);
	text = query_text(db, "SELECT label FROM ports WHERE path = '1-4.2'");
	assert_string_equal(text, "front-left");
	free(text);
	assert_int_equal(store_port_label(s, port, NULL), 0);
	assert_int_equal(store_flush(s), 0);
	assert_int_equal(query_int(db, "SELECT count(*) FROM ports WHERE "
	    "label IS NULL"), 2);

	assert_int_equal(store_cable(s, "A-03"), store_cable(s, "A-03"));
	assert_true(store_cable(s, "A-04") != store_cable(s, "A-03"));

	d.udid = "00008030-001A";
	d.name = "Bench iPhone";
	d.product_type = "iPhone12,1";
	d.seen_us = 100;
	dev = store_device(s, &d);
	memset(&d, 0, sizeof(d));
	d.udid = "00008030-001A";
	d.ios_version = "17.4";
	d.seen_us = 200;
	assert_int_equal(store_device(s, &d), dev);
	text = query_text(db, "SELECT name || ',' || product_type || ',' || "
	    "ios_version || ',' || first_seen_us || ',' || last_seen_us "
	    "FROM devices");
	assert_string_equal(text, "Bench iPhone,iPhone12,1,17.4,100,200");
	free(text);
	store_close(s);
}

/* Runs with verdicts and events show up in the summary views. */
static void
test_summary_views(void **state __unused)
{
	struct store		*s;
	struct world		 good, bad, bad2;
	struct store_probe	 p = { 0 };
	struct store_event	 e = { 0 };
	sqlite3			*db;
	char			*text;
	int			 i;

	s = open_ok(":memory:", 0);
	db = store_handle(s);
	make_world(s, &good, "1-1", "A-01", "udid-1");
	make_world(s, &bad, "1-2", "A-02", "udid-1");
	make_world(s, &bad2, "1-1", "A-02", "udid-1");

	for (i = 0; i < 10; i++) {
		p.kind = LQ_PROBE_BULK;
		p.latency_us = 1000;		/* 1 MB in 1 ms: 1000 MB/s */
		p.bytes = 1000000;
		p.run_id = good.run;
		assert_true(store_probe(s, &p) > 0);
		p.run_id = bad.run;
		p.status = i < 3 ? LQ_ETIMEDOUT : LQ_OK;
		assert_true(store_probe(s, &p) > 0);
		p.status = LQ_OK;
	}
	e.source = "kmsg";
	e.kind = "link-error";
	e.run_id = bad.run;
	e.attachment_id = bad.attachment;
	assert_true(store_event(s, &e) > 0);
	e.kind = "dropout";
	e.source = "usbmuxd";
	assert_true(store_event(s, &e) > 0);
	e.run_id = bad2.run;
	e.attachment_id = bad2.attachment;
	assert_true(store_event(s, &e) > 0);

	assert_int_equal(store_run_end(s, good.run, "done", "PASS",
	    "[]", 4000), 0);
	assert_int_equal(store_run_end(s, bad.run, "done", "FAIL",
	    "[\"kernel reported error -71 once\"]", 4000), 0);
	assert_int_equal(store_run_end(s, bad2.run, "done", "FAIL",
	    "[\"device dropped out\"]", 5000), 0);
	assert_int_equal(store_flush(s), 0);

	text = query_text(db, "SELECT group_concat(cable || '@' || port || "
	    "':' || runs || ',' || probes || ',' || failures || ',' || "
	    "timeouts || ',' || dropouts || ',' || link_errors || ',' || "
	    "coalesce(bulk_mb_s, '') || ',' || last_verdict, ' ') FROM "
	    "(SELECT * FROM pair_summary ORDER BY cable, port)");
	assert_string_equal(text, "A-01@1-1:1,10,0,0,0,0,1000.0,PASS "
	    "A-02@1-1:1,0,0,0,1,0,,FAIL A-02@1-2:1,10,3,3,1,1,1000.0,FAIL");
	free(text);

	text = query_text(db, "SELECT group_concat(cable || ':' || ports || "
	    "',' || runs || ',' || passed || ',' || failed, ' ') FROM "
	    "(SELECT * FROM cable_summary ORDER BY cable)");
	assert_string_equal(text, "A-01:1,1,1,0 A-02:2,2,0,2");
	free(text);

	text = query_text(db, "SELECT group_concat(port || ':' || cables || "
	    "',' || runs || ',' || passed || ',' || failed || ',' || "
	    "dropouts, ' ') FROM (SELECT * FROM port_summary ORDER BY port)");
	assert_string_equal(text, "1-1:2,2,1,1,1 1-2:1,1,0,1,1");
	free(text);

	text = query_text(db, "SELECT kind || ',' || status FROM "
	    "probe_results WHERE status != 'ok' LIMIT 1");
	assert_string_equal(text, "bulk,timeout");
	free(text);
	store_close(s);
}

/*
 * Retention: store_prune deletes the raw probes of runs started before
 * the cut and the events before it, in steps of at most max rows, and
 * keeps the runs, their rollups and everything newer.
 */
static void
test_prune(void **state __unused)
{
	struct store		*s;
	struct world		 old, young;
	struct store_probe	 p = { 0 };
	struct store_event	 e = { 0 };
	sqlite3			*db;
	int			 i;

	s = open_ok(":memory:", 0);
	db = store_handle(s);
	make_world(s, &old, "1-1", "A-01", "udid-1");
	make_world(s, &young, "1-2", "A-02", "udid-2");
	assert_int_equal(store_run_end(s, young.run, "done", "PASS", "[]",
	    9000), 0);
	assert_int_equal(store_flush(s), 0);
	assert_int_equal(sqlite3_exec(db, "UPDATE runs SET started_us = "
	    "8000 WHERE id = (SELECT max(id) FROM runs)", NULL, NULL, NULL),
	    SQLITE_OK);
	p.kind = LQ_PROBE_LOCKDOWN_QUERY;
	for (i = 0; i < 7; i++) {
		p.run_id = old.run;
		assert_true(store_probe(s, &p) > 0);
		p.run_id = young.run;
		assert_true(store_probe(s, &p) > 0);
	}
	e.source = "usbmuxd";
	e.kind = "unplug";
	e.ts_us = 3500;
	assert_true(store_event(s, &e) > 0);
	e.ts_us = 8500;
	assert_true(store_event(s, &e) > 0);
	assert_int_equal(store_flush(s), 0);

	assert_int_equal(store_prune(s, 5000, 4), 4);
	assert_int_equal(store_prune(s, 5000, 4), 4);	/* 3 probes, 1 ev */
	assert_int_equal(store_prune(s, 5000, 4), 0);
	assert_int_equal(store_flush(s), 0);
	assert_int_equal(query_int(db, "SELECT count(*) FROM probes"), 7);
	assert_int_equal(query_int(db, "SELECT count(*) FROM probes WHERE "
	    "run_id = (SELECT min(id) FROM runs)"), 0);
	assert_int_equal(query_int(db, "SELECT count(*) FROM events"), 1);
	assert_int_equal(query_int(db, "SELECT count(*) FROM runs"), 2);
	assert_int_equal(query_int(db, "SELECT sum(probes) FROM "
	    "run_rollups"), 14);
	store_close(s);
}

/*
 * A database written by an older linkq (schema version 1) is upgraded
 * in place, keeping its rows.
 */
static void
test_upgrade_from_version_1(void **state)
{
	struct fixture	*f = *state;
	struct store	*s;
	sqlite3		*db;
	char		*sql;

	assert_int_equal(sqlite3_open(f->db_path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, store_migrations[0].sql, NULL,
	    NULL, NULL), SQLITE_OK);
	xasprintf(&sql, "PRAGMA application_id = %d; PRAGMA user_version = 1;"
	    "INSERT INTO hosts VALUES (7, 'old-machine', 'old', 1);"
	    "INSERT INTO cables VALUES (3, 'Z-9', 'frayed', 1);",
	    STORE_APPLICATION_ID);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	free(sql);
	assert_int_equal(query_int(db, "SELECT count(*) FROM sqlite_schema "
	    "WHERE name = 'pair_summary'"), 0);
	(void)sqlite3_close(db);

	/* Read-only access refuses to guess at an old schema. */
	assert_null(store_open(f->db_path, STORE_READONLY, &sql));
	assert_non_null(strstr(sql, "older than this linkq"));
	free(sql);

	s = open_ok(f->db_path, 0);
	db = store_handle(s);
	assert_schema_complete(db);
	assert_int_equal(query_int(db, "SELECT id FROM hosts WHERE "
	    "machine_id = 'old-machine'"), 7);
	assert_int_equal(store_cable(s, "Z-9"), 3);
	assert_int_equal(query_int(db, "SELECT count(*) FROM cable_summary"),
	    0);
	store_close(s);
}

/* Read a whole file, to prove a refused one was not modified. */
static char *
slurp(const char *path, size_t *len)
{
	struct stat	 sb;
	char		*buf;
	int		 fd;

	fd = open(path, O_RDONLY);
	assert_true(fd != -1);
	assert_int_equal(fstat(fd, &sb), 0);
	*len = (size_t)sb.st_size;
	buf = xmalloc(*len + 1);
	assert_int_equal(read(fd, buf, *len), (ssize_t)*len);
	(void)close(fd);
	return (buf);
}

static void
write_file(const char *path, const void *data, size_t len)
{
	int	fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd != -1);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	(void)close(fd);
}

/* Open must fail, name the file, say why, and leave it byte for byte. */
static void
assert_refused(const char *path, const char *why)
{
	char	*before, *after, *cause = NULL, *wal;
	size_t	 len_before, len_after;
	int	 flags;

	for (flags = 0; flags <= STORE_READONLY; flags += STORE_READONLY) {
		before = slurp(path, &len_before);
		assert_null(store_open(path, flags, &cause));
		assert_non_null(cause);
		if (strstr(cause, path) == NULL || strstr(cause, why) == NULL)
			fail_msg("cause \"%s\" lacks \"%s\"", cause, why);
		after = slurp(path, &len_after);
		assert_int_equal(len_before, len_after);
		assert_memory_equal(before, after, len_before);
		free(before);
		free(after);
		free(cause);
		cause = NULL;
	}
	xasprintf(&wal, "%s-wal", path);
	assert_int_equal(access(wal, F_OK), -1);
	free(wal);
}

static void
test_refuse_foreign_files(void **state)
{
	struct fixture	*f = *state;
	unsigned char	 noise[8192];
	const char	*text = "cable A-03 is in port 1-4\n";
	sqlite3		*db;
	char		*sql;
	size_t		 i;

	write_file(f->db_path, text, strlen(text));
	assert_refused(f->db_path, "not a linkq database");

	for (i = 0; i < sizeof(noise); i++)
		noise[i] = (unsigned char)(i * 7919 + 13);
	write_file(f->db_path, noise, sizeof(noise));
	assert_refused(f->db_path, "not a linkq database");

	/* A valid SQLite header on a damaged file. */
	(void)unlink(f->db_path);
	assert_int_equal(sqlite3_open(f->db_path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE t (x); "
	    "INSERT INTO t VALUES (1)", NULL, NULL, NULL), SQLITE_OK);
	(void)sqlite3_close(db);
	{
		size_t	 len;
		char	*buf = slurp(f->db_path, &len);

		memset(buf + 100, 0xa5, len - 100);
		write_file(f->db_path, buf, len);
		free(buf);
	}
	assert_refused(f->db_path, "not a linkq database");

	/* Somebody else's database. */
	(void)unlink(f->db_path);
	assert_int_equal(sqlite3_open(f->db_path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE contacts (name);"
	    "PRAGMA user_version = 3", NULL, NULL, NULL), SQLITE_OK);
	(void)sqlite3_close(db);
	assert_refused(f->db_path, "another program");

	/* A linkq database from the future. */
	(void)unlink(f->db_path);
	assert_int_equal(sqlite3_open(f->db_path, &db), SQLITE_OK);
	xasprintf(&sql, "CREATE TABLE hosts (id); PRAGMA application_id = %d;"
	    "PRAGMA user_version = %d", STORE_APPLICATION_ID,
	    store_schema_latest() + 1);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	free(sql);
	(void)sqlite3_close(db);
	assert_refused(f->db_path, "newer linkq");
}

/*
 * A database of the latest schema whose statements do not prepare (a
 * damaged schema: found by fuzz-store-open, a CHECK constraint's text
 * changed to call an unknown function) is refused before linkqd writes
 * to it: it used to be switched to WAL first, which rewrites the header.
 */
static void
test_refuse_broken_schema(void **state)
{
	struct fixture	*f = *state;
	struct store	*s;
	sqlite3		*db;
	char		*before, *after, *cause = NULL;
	size_t		 len_before, len_after;

	s = open_ok(f->db_path, 0);
	store_close(s);
	assert_int_equal(sqlite3_open(f->db_path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA journal_mode = DELETE; "
	    "CREATE TRIGGER broken AFTER INSERT ON run_windows "
	    "BEGIN SELECT no_such_function(); END", NULL, NULL, NULL),
	    SQLITE_OK);
	(void)sqlite3_close(db);

	before = slurp(f->db_path, &len_before);
	assert_null(store_open(f->db_path, 0, &cause));
	assert_non_null(cause);
	assert_non_null(strstr(cause, f->db_path));
	assert_non_null(strstr(cause, "no_such_function"));
	after = slurp(f->db_path, &len_after);
	assert_int_equal(len_before, len_after);
	assert_memory_equal(before, after, len_before);
	free(before);
	free(after);
	free(cause);

	/* Repaired, it opens and is switched to WAL as before. */
	assert_int_equal(sqlite3_open(f->db_path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP TRIGGER broken", NULL, NULL,
	    NULL), SQLITE_OK);
	(void)sqlite3_close(db);
	s = open_ok(f->db_path, 0);
	store_close(s);
	assert_int_equal(sqlite3_open(f->db_path, &db), SQLITE_OK);
	before = query_text(db, "PRAGMA journal_mode");
	assert_string_equal(before, "wal");
	free(before);
	(void)sqlite3_close(db);
}

static void
test_open_errors(void **state)
{
	struct fixture	*f = *state;
	struct store	*s;
	char		*cause, *path;

	/* Read-only needs an existing database. */
	assert_null(store_open(f->db_path, STORE_READONLY, &cause));
	assert_non_null(strstr(cause, f->db_path));
	free(cause);

	write_file(f->db_path, "", 0);
	assert_null(store_open(f->db_path, STORE_READONLY, &cause));
	assert_non_null(strstr(cause, "empty"));
	free(cause);

	xasprintf(&path, "%s/no/such/dir/linkq.db", f->dir);
	assert_null(store_open(path, 0, &cause));
	assert_non_null(strstr(cause, "cannot open database"));
	free(cause);
	free(path);

	/* An empty file is a new database. */
	s = open_ok(f->db_path, 0);
	store_close(s);

	/* Writes through a read-only store fail and change nothing. */
	s = open_ok(f->db_path, STORE_READONLY);
	assert_int_equal(store_cable(s, "A-1"), -1);
	assert_int_equal(store_flush(s), 0);
	assert_int_equal(query_int(store_handle(s),
	    "SELECT count(*) FROM cables"), 0);
	store_close(s);
	store_close(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_migrate_memory),
		cmocka_unit_test_setup_teardown(test_migrate_file, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reopen_idempotent, setup,
		    teardown),
		cmocka_unit_test(test_vocabulary_matches_schema),
		cmocka_unit_test_setup_teardown(
		    test_batched_insert_and_rollups, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_migrate_run_totals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_commits_on_flush,
		    setup, teardown),
		cmocka_unit_test(test_bad_row_keeps_batch),
		cmocka_unit_test_setup_teardown(test_fault_keeps_journal,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_recovery, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_from_version_6,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_from_version_7,
		    setup, teardown),
		cmocka_unit_test(test_upserts),
		cmocka_unit_test(test_summary_views),
		cmocka_unit_test(test_prune),
		cmocka_unit_test_setup_teardown(test_upgrade_from_version_1,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_foreign_files,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_broken_schema,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup,
		    teardown),
	};

	log_init(LOG_TO_STDERR, 0, "test-store");
	return (cmocka_run_group_tests_name("store", tests, NULL, NULL));
}
