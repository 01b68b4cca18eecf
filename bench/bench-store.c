/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * bench-store: probe results per second into SQLite through the store
 * (store_probe, batched, with rollups) against a baseline of bare SQLite
 * doing the least the same rows need: one prepared INSERT into the same
 * table, in transactions of the same size, on the same pragmas. The two
 * alternate, A B A B, each round on a fresh file, and the medians are
 * compared so that machine noise falls on both alike.
 *
 * Prints one tab-separated line for bench/run: name, baseline, linkq,
 * ratio, budget, held. Details go to standard error.
 */

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "compat/compat.h"
#include "linkq.h"
#include "log.h"
#include "lq-status.h"
#include "lq-time.h"
#include "store-schema.h"
#include "store.h"
#include "xmalloc.h"

#define BENCH_RUNS		4	/* devices probing at once */
#define BENCH_BUDGET		200000	/* rows/s, DESIGN.md */
#define BENCH_MAX_ROUNDS	21

static __dead void
usage(void)
{
	(void)fprintf(stderr, "usage: bench-store [-d directory] [-n rows] "
	    "[-r rounds]\n");
	exit(2);
}

/* Fill probe i of a run the same way for both sides. */
static void
bench_probe(struct store_probe *p, long long i, const int64_t *runs)
{
	memset(p, 0, sizeof(*p));
	p->run_id = runs[i % BENCH_RUNS];
	p->kind = 1 + (int)(i / BENCH_RUNS % LQ_PROBE_KIND_MAX);
	p->ts_us = INT64_C(1767225600000000) + i * 100;
	p->latency_us = 250 + i % 997;
	p->bytes = p->kind == LQ_PROBE_BULK ? 131072 : 0;
	p->status = i % 100 == 99 ? LQ_ETIMEDOUT : LQ_OK;
}

static void
bench_exec(sqlite3 *db, const char *sql)
{
	char	*errmsg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &errmsg) != SQLITE_OK)
		fatalx("bench-store: %s: %s", sql, errmsg);
}

/* The baseline: bare SQLite, timed from the first INSERT to the last COMMIT. */
static double
bench_baseline(const char *path, long long rows)
{
	struct store_probe	 p;
	sqlite3			*db;
	sqlite3_stmt		*stmt;
	lq_mono_t		 start;
	int64_t			 runs[BENCH_RUNS];
	long long		 i;
	int			 m;

	if (sqlite3_open(path, &db) != SQLITE_OK)
		fatalx("bench-store: %s: %s", path, sqlite3_errmsg(db));
	/* Migrations as the store runs them (store.c, store_migrate). */
	bench_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = "
	    "NORMAL; PRAGMA legacy_alter_table = ON");
	for (m = 0; m < store_migration_count; m++)
		bench_exec(db, store_migrations[m].sql);
	bench_exec(db, "PRAGMA legacy_alter_table = OFF; "
	    "PRAGMA foreign_keys = ON");
	bench_exec(db, "INSERT INTO hosts VALUES (1, 'm', 'h', 0);"
	    "INSERT INTO ports (id, host_id, path, first_seen_us) "
	    "VALUES (1, 1, '1-1', 0);"
	    "INSERT INTO devices (id, udid, first_seen_us, last_seen_us) "
	    "VALUES (1, 'u', 0, 0);"
	    "INSERT INTO attachments (id, device_id, port_id, started_us) "
	    "VALUES (1, 1, 1, 0);"
	    "INSERT INTO runs (id, attachment_id, profile, started_us) "
	    "VALUES (1, 1, 'quick', 0), (2, 1, 'quick', 0),"
	    "(3, 1, 'quick', 0), (4, 1, 'quick', 0)");
	for (m = 0; m < BENCH_RUNS; m++)
		runs[m] = m + 1;
	if (sqlite3_prepare_v2(db, "INSERT INTO probes (run_id, kind, ts_us, "
	    "latency_us, bytes, status, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
	    -1, &stmt, NULL) != SQLITE_OK)
		fatalx("bench-store: prepare: %s", sqlite3_errmsg(db));

	start = lq_mono_now();
	bench_exec(db, "BEGIN IMMEDIATE");
	for (i = 0; i < rows; i++) {
		bench_probe(&p, i, runs);
		(void)sqlite3_bind_int64(stmt, 1, p.run_id);
		(void)sqlite3_bind_int(stmt, 2, p.kind);
		(void)sqlite3_bind_int64(stmt, 3, p.ts_us);
		(void)sqlite3_bind_int64(stmt, 4, p.latency_us);
		(void)sqlite3_bind_int64(stmt, 5, p.bytes);
		(void)sqlite3_bind_int(stmt, 6, p.status);
		(void)sqlite3_bind_null(stmt, 7);
		if (sqlite3_step(stmt) != SQLITE_DONE)
			fatalx("bench-store: insert: %s", sqlite3_errmsg(db));
		(void)sqlite3_reset(stmt);
		if ((i + 1) % STORE_BATCH_MAX == 0)
			bench_exec(db, "COMMIT; BEGIN IMMEDIATE");
	}
	bench_exec(db, "COMMIT");
	(void)sqlite3_finalize(stmt);
	(void)sqlite3_close(db);
	return ((double)rows * 1e6 /
	    (double)lq_mono_sub(lq_mono_now(), start));
}

/* linkq: the store's own write path, timed the same way. */
static double
bench_store(const char *path, long long rows)
{
	struct store_device	 d;
	struct store_attachment	 a;
	struct store_probe	 p;
	struct store		*s;
	lq_mono_t		 start;
	int64_t			 host, attachment, runs[BENCH_RUNS];
	long long		 i;
	char			*cause;
	int			 m;

	if ((s = store_open(path, 0, &cause)) == NULL)
		fatalx("bench-store: %s", cause);
	host = store_host(s, "m", "h");
	memset(&d, 0, sizeof(d));
	d.udid = "u";
	memset(&a, 0, sizeof(a));
	a.device_id = store_device(s, &d);
	a.port_id = store_port(s, host, "1-1", 0);
	a.started_us = 0;
	attachment = store_attachment_begin(s, &a);
	for (m = 0; m < BENCH_RUNS; m++)
		runs[m] = store_run_begin(s, attachment, "quick", 0);
	if (store_flush(s) == -1)
		fatalx("bench-store: setting up %s failed", path);

	start = lq_mono_now();
	for (i = 0; i < rows; i++) {
		bench_probe(&p, i, runs);
		if (store_probe(s, &p) < 0)
			fatalx("bench-store: store_probe failed");
	}
	if (store_flush(s) == -1)
		fatalx("bench-store: final flush failed");
	store_close(s);
	return ((double)rows * 1e6 /
	    (double)lq_mono_sub(lq_mono_now(), start));
}

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return (x < y ? -1 : x > y);
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2);
}

/* Remove a database file and its WAL companions. */
static void
remove_db(const char *path)
{
	char	*side;

	(void)unlink(path);
	xasprintf(&side, "%s-wal", path);
	(void)unlink(side);
	free(side);
	xasprintf(&side, "%s-shm", path);
	(void)unlink(side);
	free(side);
}

int
main(int argc, char **argv)
{
	double		 base[BENCH_MAX_ROUNDS], lq[BENCH_MAX_ROUNDS];
	double		 mbase, mlq;
	const char	*dir = ".", *errstr;
	char		*path;
	long long	 rows = 1000000;
	int		 ch, rounds = 5, r;

	log_init(LOG_TO_STDERR, 0, "bench-store");
	while ((ch = getopt(argc, argv, "d:n:r:")) != -1) {
		switch (ch) {
		case 'd':
			dir = optarg;
			break;
		case 'n':
			rows = strtonum(optarg, 1000, 1000000000, &errstr);
			if (errstr != NULL)
				fatalx("rows \"%s\" is %s", optarg, errstr);
			break;
		case 'r':
			rounds = (int)strtonum(optarg, 1, BENCH_MAX_ROUNDS,
			    &errstr);
			if (errstr != NULL)
				fatalx("rounds \"%s\" is %s", optarg, errstr);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	xasprintf(&path, "%s/bench-store-%ld.db", dir, (long)getpid());
	for (r = 0; r < rounds; r++) {
		remove_db(path);
		base[r] = bench_baseline(path, rows);
		remove_db(path);
		lq[r] = bench_store(path, rows);
		remove_db(path);
		(void)fprintf(stderr, "bench-store: round %d: baseline %.0f "
		    "rows/s, linkq %.0f rows/s\n", r + 1, base[r], lq[r]);
	}
	free(path);
	mbase = median(base, rounds);
	mlq = median(lq, rounds);
	(void)printf("store insert (%lld probes, batches of %d)\t"
	    "%.0f rows/s\t%.0f rows/s\t%.2f\t>= %d rows/s\t%s\n", rows,
	    STORE_BATCH_MAX, mbase, mlq, mlq / mbase, BENCH_BUDGET,
	    mlq >= BENCH_BUDGET ? "held" : "NOT held");
	return (0);
}
