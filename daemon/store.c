/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The store: opening and checking the database, migrations, prepared
 * statements and batched writes (contract in store.h).
 *
 * DESIGN
 * Opening is careful not to write before it knows what it opened:
 * "PRAGMA journal_mode=WAL" rewrites the file header, so the identity
 * (application_id, user_version, whether any schema exists) is read
 * first, and a file that is not a linkq database is refused untouched.
 * Each migration runs in its own IMMEDIATE transaction that re-reads
 * user_version, so two processes opening one new file cannot apply a
 * migration twice.
 *
 * Probe results are the bulk of the writes. Their rollups are summed in
 * an array of (run, kind) entries and written by one upsert per entry
 * just before the COMMIT. A batch holds probes from a few dozen runs at
 * most, so a linear search that starts at the last entry used is enough.
 */

#include <errno.h>
#include <inttypes.h>
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

/* How long a write waits for another process holding the write lock. */
#define STORE_BUSY_TIMEOUT_MS	1000

enum store_stmt {
	STMT_HOST,
	STMT_PORT,
	STMT_PORT_LABEL,
	STMT_CABLE,
	STMT_DEVICE,
	STMT_ATTACH_BEGIN,
	STMT_ATTACH_CABLE,
	STMT_ATTACH_END,
	STMT_RUN_BEGIN,
	STMT_RUN_END,
	STMT_RUN_TRIALS,
	STMT_RUN_WINDOW,
	STMT_PROBE,
	STMT_EVENT,
	STMT_ROLLUP,
	STMT_PRUNE_PROBES,
	STMT_PRUNE_EVENTS,
	STMT_COUNT
};

/* Indexed by enum store_stmt. */
static const char *const store_sql[STMT_COUNT] = {
	[STMT_HOST] =
	    "INSERT INTO hosts (machine_id, hostname, first_seen_us) "
	    "VALUES (?1, ?2, ?3) ON CONFLICT (machine_id) "
	    "DO UPDATE SET hostname = excluded.hostname RETURNING id",
	[STMT_PORT] =
	    "INSERT INTO ports (host_id, path, hub_depth, first_seen_us) "
	    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (host_id, path) "
	    "DO UPDATE SET hub_depth = coalesce(excluded.hub_depth, "
	    "hub_depth) RETURNING id",
	[STMT_PORT_LABEL] =
	    "UPDATE ports SET label = ?2 WHERE id = ?1",
	[STMT_CABLE] =
	    "INSERT INTO cables (label, first_seen_us) VALUES (?1, ?2) "
	    "ON CONFLICT (label) DO UPDATE SET label = excluded.label "
	    "RETURNING id",
	[STMT_DEVICE] =
	    "INSERT INTO devices (udid, usb_serial, name, product_type, "
	    "ios_version, first_seen_us, last_seen_us) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) ON CONFLICT (udid) "
	    "DO UPDATE SET "
	    "usb_serial = coalesce(excluded.usb_serial, usb_serial), "
	    "name = coalesce(excluded.name, name), "
	    "product_type = coalesce(excluded.product_type, product_type), "
	    "ios_version = coalesce(excluded.ios_version, ios_version), "
	    "last_seen_us = max(last_seen_us, excluded.last_seen_us) "
	    "RETURNING id",
	[STMT_ATTACH_BEGIN] =
	    "INSERT INTO attachments (device_id, port_id, cable_id, "
	    "previous_id, mode, speed_mbps, bus, devnum, location_id, "
	    "started_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	[STMT_ATTACH_CABLE] =
	    "UPDATE attachments SET cable_id = ?2, cable_fixed = ?3 "
	    "WHERE id = ?1",
	[STMT_ATTACH_END] =
	    "UPDATE attachments SET ended_us = ?2, end_reason = ?3 "
	    "WHERE id = ?1",
	[STMT_RUN_BEGIN] =
	    "INSERT INTO runs (attachment_id, profile, started_us) "
	    "VALUES (?1, ?2, ?3)",
	[STMT_RUN_END] =
	    "UPDATE runs SET state = ?2, verdict = ?3, reasons = ?4, "
	    "ended_us = ?5 WHERE id = ?1",
	[STMT_RUN_TRIALS] =
	    "UPDATE runs SET trials = ?2 WHERE id = ?1",
	[STMT_RUN_WINDOW] =
	    "INSERT INTO run_windows (run_id, started_us, ended_us, "
	    "verdict, reasons) VALUES (?1, ?2, ?3, ?4, ?5)",
	[STMT_PROBE] =
	    "INSERT INTO probes (run_id, kind, ts_us, latency_us, bytes, "
	    "status, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[STMT_EVENT] =
	    "INSERT INTO events (ts_us, source, kind, host_id, port_id, "
	    "attachment_id, run_id, errno, detail) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[STMT_ROLLUP] =
	    "INSERT INTO run_rollups (run_id, kind, probes, failures, "
	    "timeouts, bytes, latency_sum_us, latency_min_us, "
	    "latency_max_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
	    "ON CONFLICT (run_id, kind) DO UPDATE SET "
	    "probes = probes + excluded.probes, "
	    "failures = failures + excluded.failures, "
	    "timeouts = timeouts + excluded.timeouts, "
	    "bytes = bytes + excluded.bytes, "
	    "latency_sum_us = latency_sum_us + excluded.latency_sum_us, "
	    "latency_min_us = min(latency_min_us, excluded.latency_min_us), "
	    "latency_max_us = max(latency_max_us, excluded.latency_max_us)",
	/*
	 * Raw rows older than ?1, at most ?2 at a time. Probes go by the
	 * runs that started before (runs_started, probes_run), events by
	 * their time (events_ts); runs, rollups and attachments stay.
	 */
	[STMT_PRUNE_PROBES] =
	    "DELETE FROM probes WHERE id IN (SELECT p.id FROM runs r "
	    "JOIN probes p ON p.run_id = r.id WHERE r.started_us < ?1 "
	    "LIMIT ?2)",
	[STMT_PRUNE_EVENTS] =
	    "DELETE FROM events WHERE id IN (SELECT id FROM events "
	    "WHERE ts_us < ?1 LIMIT ?2)",
};

/* Probe totals of one (run, kind) not yet written to run_rollups. */
struct rollup {
	int64_t	run_id;
	int	kind;
	int64_t	probes;
	int64_t	failures;
	int64_t	timeouts;
	int64_t	bytes;
	int64_t	latency_sum_us;
	int64_t	latency_min_us;
	int64_t	latency_max_us;
};

struct store {
	sqlite3		*db;
	char		*path;
	int		 flags;
	int		 in_batch;	/* our transaction is open */
	unsigned int	 batch_rows;
	sqlite3_stmt	*stmt[STMT_COUNT];

	struct rollup	*rollups;	/* pending, for the open batch */
	size_t		 nrollups;
	size_t		 rollups_size;
	size_t		 rollup_last;	/* where the last search ended */
};

static int	store_exec(struct store *, const char *);
static int	store_check_identity(struct store *, int *, char **);
static int	store_configure(struct store *, char **);
static int	store_migrate(struct store *, int, char **);
static int	store_prepare(struct store *, char **);
static int	store_write_begin(struct store *, enum store_stmt);
static void	store_write_end(struct store *);
static int	store_step(struct store *, enum store_stmt, int64_t *);
static int	store_write_rollups(struct store *);
static void	store_rollup_add(struct store *, const struct store_probe *);

/* Bind a string, or NULL for a NULL pointer. */
static int
bind_text(sqlite3_stmt *stmt, int col, const char *value)
{
	if (value == NULL)
		return (sqlite3_bind_null(stmt, col));
	return (sqlite3_bind_text(stmt, col, value, -1, SQLITE_STATIC));
}

/* Bind an id or count, or NULL where 0 means "none". */
static int
bind_id(sqlite3_stmt *stmt, int col, int64_t value)
{
	if (value == 0)
		return (sqlite3_bind_null(stmt, col));
	return (sqlite3_bind_int64(stmt, col, value));
}

/* Log a failed bind, reset the statement and return -1. */
static int
store_bind_failed(struct store *s, enum store_stmt which)
{
	log_warnx("store: %s: binding \"%s\": %s", s->path, store_sql[which],
	    sqlite3_errmsg(s->db));
	(void)sqlite3_reset(s->stmt[which]);
	(void)sqlite3_clear_bindings(s->stmt[which]);
	return (-1);
}

/* Run SQL without results, logging the error. */
static int
store_exec(struct store *s, const char *sql)
{
	char	*errmsg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &errmsg) != SQLITE_OK) {
		log_warnx("store: %s: \"%s\": %s", s->path, sql,
		    errmsg != NULL ? errmsg : sqlite3_errmsg(s->db));
		sqlite3_free(errmsg);
		return (-1);
	}
	return (0);
}

/* Read one integer from a query such as a PRAGMA. */
static int
store_query_int(struct store *s, const char *sql, int64_t *value)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	if (sqlite3_prepare_v2(s->db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return (sqlite3_errcode(s->db));
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		*value = sqlite3_column_int64(stmt, 0);
		rc = SQLITE_OK;
	}
	(void)sqlite3_finalize(stmt);
	return (rc);
}

/*
 * Decide whether the file holds a linkq database, an empty one, or
 * something else, without writing to it. Sets *version to the schema
 * version (0 for an empty database).
 */
static int
store_check_identity(struct store *s, int *version, char **cause)
{
	int64_t	app_id = 0, user_version = 0, objects = 0;
	int	rc;

	if ((rc = store_query_int(s, "PRAGMA application_id",
	    &app_id)) != SQLITE_OK ||
	    (rc = store_query_int(s, "PRAGMA user_version",
	    &user_version)) != SQLITE_OK ||
	    (rc = store_query_int(s, "SELECT count(*) FROM sqlite_schema",
	    &objects)) != SQLITE_OK) {
		if ((rc & 0xff) == SQLITE_NOTADB ||
		    (rc & 0xff) == SQLITE_CORRUPT)
			xasprintf(cause, "%s is not a linkq database (%s); "
			    "it was left untouched: move it away or choose "
			    "another database path", s->path,
			    sqlite3_errstr(rc));
		else
			xasprintf(cause, "%s: cannot read the database: %s",
			    s->path, sqlite3_errmsg(s->db));
		return (-1);
	}

	if (app_id == 0 && user_version == 0 && objects == 0) {
		*version = 0;
		return (0);
	}
	if (app_id != STORE_APPLICATION_ID) {
		xasprintf(cause, "%s is an SQLite database of another program "
		    "(application_id 0x%08" PRIx64 ", %" PRId64 " schema "
		    "objects), not a linkq database; it was left untouched: "
		    "choose another database path", s->path,
		    (uint64_t)app_id, objects);
		return (-1);
	}
	if (user_version > store_schema_latest()) {
		xasprintf(cause, "%s was written by a newer linkq (schema "
		    "version %" PRId64 ", this one knows up to %d); it was "
		    "left untouched: upgrade linkq to use it", s->path,
		    user_version, store_schema_latest());
		return (-1);
	}
	if (user_version < 1) {
		xasprintf(cause, "%s has the linkq application id but no "
		    "schema version; it was left untouched: move it away",
		    s->path);
		return (-1);
	}
	*version = (int)user_version;
	return (0);
}

/* Set the connection's pragmas for a writer. */
static int
store_configure(struct store *s, char **cause)
{
	sqlite3_stmt	*stmt;
	const char	*mode;
	int		 ok;

	/* journal_mode answers with the mode in force: check it took. */
	if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1,
	    &stmt, NULL) != SQLITE_OK) {
		xasprintf(cause, "%s: %s", s->path, sqlite3_errmsg(s->db));
		return (-1);
	}
	ok = sqlite3_step(stmt) == SQLITE_ROW;
	mode = ok ? (const char *)sqlite3_column_text(stmt, 0) : NULL;
	ok = mode != NULL &&
	    (strcmp(mode, "wal") == 0 || strcmp(mode, "memory") == 0);
	if (!ok)
		xasprintf(cause, "%s: cannot switch to WAL mode (%s)",
		    s->path, mode != NULL ? mode : sqlite3_errmsg(s->db));
	(void)sqlite3_finalize(stmt);
	if (!ok)
		return (-1);

	if (store_exec(s, "PRAGMA synchronous = NORMAL") == -1 ||
	    store_exec(s, "PRAGMA foreign_keys = ON") == -1) {
		xasprintf(cause, "%s: %s", s->path, sqlite3_errmsg(s->db));
		return (-1);
	}
	return (0);
}

/* Apply one migration in its own transaction unless already applied. */
static int
store_apply(struct store *s, const struct store_migration *m, char **cause)
{
	char	*errmsg = NULL, *sql;
	int64_t	 current;

	if (store_exec(s, "BEGIN IMMEDIATE") == -1) {
		xasprintf(cause, "%s: cannot start migration %s: %s",
		    s->path, m->name, sqlite3_errmsg(s->db));
		return (-1);
	}
	/* Another process may have migrated while we waited for the lock. */
	if (store_query_int(s, "PRAGMA user_version", &current) != SQLITE_OK)
		goto fail;
	if (current >= m->version) {
		if (store_exec(s, "COMMIT") == -1)
			goto fail;
		return (0);
	}

	if (sqlite3_exec(s->db, m->sql, NULL, NULL, &errmsg) != SQLITE_OK)
		goto fail;
	xasprintf(&sql, "PRAGMA application_id = %d; "
	    "PRAGMA user_version = %d", STORE_APPLICATION_ID, m->version);
	if (sqlite3_exec(s->db, sql, NULL, NULL, &errmsg) != SQLITE_OK) {
		free(sql);
		goto fail;
	}
	free(sql);
	if (store_exec(s, "COMMIT") == -1)
		goto fail;
	log_debug("store: %s: applied migration %s", s->path, m->name);
	return (0);

fail:
	xasprintf(cause, "%s: migration %s failed: %s", s->path, m->name,
	    errmsg != NULL ? errmsg : sqlite3_errmsg(s->db));
	sqlite3_free(errmsg);
	(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return (-1);
}

/* Bring the schema from version `from` to the latest. */
static int
store_migrate(struct store *s, int from, char **cause)
{
	int	i;

	for (i = from; i < store_migration_count; i++) {
		if (store_apply(s, &store_migrations[i], cause) == -1)
			return (-1);
	}
	/* An upgrade is worth a line in the log; a new file is not. */
	if (from > 0 && from < store_migration_count)
		log_info("store: %s: upgraded schema from version %d to %d",
		    s->path, from, store_migration_count);
	return (0);
}

/* Prepare every statement once, for the life of the connection. */
static int
store_prepare(struct store *s, char **cause)
{
	int	i;

	for (i = 0; i < STMT_COUNT; i++) {
		if (sqlite3_prepare_v3(s->db, store_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &s->stmt[i], NULL) !=
		    SQLITE_OK) {
			xasprintf(cause, "%s: preparing \"%s\": %s", s->path,
			    store_sql[i], sqlite3_errmsg(s->db));
			return (-1);
		}
	}
	return (0);
}

/* Open, check, configure and migrate. */
struct store *
store_open(const char *path, int flags, char **cause)
{
	struct store	*s;
	int		 oflags, version;

	*cause = NULL;
	s = xcalloc(1, sizeof(*s));
	s->path = xstrdup(path);
	s->flags = flags;

	if (flags & STORE_READONLY)
		oflags = SQLITE_OPEN_READONLY;
	else
		oflags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	if (sqlite3_open_v2(path, &s->db, oflags, NULL) != SQLITE_OK) {
		if (s->db == NULL)
			fatalx("store: sqlite3_open_v2: out of memory");
		xasprintf(cause, "cannot open database %s: %s", path,
		    sqlite3_errmsg(s->db));
		goto fail;
	}
	(void)sqlite3_extended_result_codes(s->db, 1);
	(void)sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);

	if (store_check_identity(s, &version, cause) == -1)
		goto fail;
	if (flags & STORE_READONLY) {
		if (version == 0) {
			xasprintf(cause, "%s is empty, not a linkq database",
			    path);
			goto fail;
		}
		if (version < store_schema_latest()) {
			xasprintf(cause, "%s has schema version %d, older "
			    "than this linkq's %d: open it once with linkqd "
			    "(or a copy of it) to upgrade it", path, version,
			    store_schema_latest());
			goto fail;
		}
		return (s);
	}

	/*
	 * Configuring writes (WAL rewrites the header), so a file of the
	 * latest schema whose statements do not prepare, a damaged one, is
	 * refused first and left untouched. An older one is migrated
	 * before its statements can prepare.
	 */
	if (version == store_schema_latest() && store_prepare(s, cause) == -1)
		goto fail;
	if (store_configure(s, cause) == -1 ||
	    store_migrate(s, version, cause) == -1 ||
	    (version != store_schema_latest() &&
	    store_prepare(s, cause) == -1))
		goto fail;
	return (s);

fail:
	store_close(s);
	return (NULL);
}

/* Commit, finalise every statement and close. */
void
store_close(struct store *s)
{
	int	i;

	if (s == NULL)
		return;
	if (s->in_batch)
		(void)store_flush(s);
	if (s->in_batch) {
		log_warnx("store: %s: closing with %u uncommitted rows",
		    s->path, s->batch_rows);
		(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	}
	for (i = 0; i < STMT_COUNT; i++)
		(void)sqlite3_finalize(s->stmt[i]);
	if (s->db != NULL && sqlite3_close(s->db) != SQLITE_OK)
		log_warnx("store: %s: close: %s", s->path,
		    sqlite3_errmsg(s->db));
	free(s->rollups);
	free(s->path);
	free(s);
}

/* Return the schema version of the open database. */
int
store_schema_version(struct store *s)
{
	int64_t	version;

	if (store_query_int(s, "PRAGMA user_version", &version) != SQLITE_OK)
		return (-1);
	return ((int)version);
}

/* Return the newest schema version this build knows. */
int
store_schema_latest(void)
{
	return (store_migration_count);
}

/* Borrow the connection. */
sqlite3 *
store_handle(struct store *s)
{
	return (s->db);
}

/* Return the number of rows written in the open batch. */
unsigned int
store_pending(struct store *s)
{
	return (s->batch_rows);
}

/* Start a write: refuse on a read-only store, open the batch if needed. */
static int
store_write_begin(struct store *s, enum store_stmt which)
{
	if (s->flags & STORE_READONLY) {
		log_warnx("store: %s: read-only, cannot run \"%s\"",
		    s->path, store_sql[which]);
		return (-1);
	}
	if (s->in_batch)
		return (0);
	if (store_exec(s, "BEGIN IMMEDIATE") == -1)
		return (-1);
	s->in_batch = 1;
	return (0);
}

/*
 * Finish a write: count it and commit a full batch. The row itself was
 * written, so a failed commit is the flush's to report, not the row's.
 */
static void
store_write_end(struct store *s)
{
	if (++s->batch_rows >= STORE_BATCH_MAX)
		(void)store_flush(s);
}

/*
 * Run a bound statement to completion. For an INSERT, *id receives the
 * new row's id (or the id RETURNING gave); for an UPDATE, a statement
 * that changed no row is an error ("no such ..."). Always resets.
 */
static int
store_step(struct store *s, enum store_stmt which, int64_t *id)
{
	sqlite3_stmt	*stmt = s->stmt[which];
	int		 rc, ret = 0;

	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		if (id != NULL)
			*id = sqlite3_column_int64(stmt, 0);
		rc = sqlite3_step(stmt);
	} else if (rc == SQLITE_DONE && id != NULL)
		*id = sqlite3_last_insert_rowid(s->db);
	if (rc != SQLITE_DONE) {
		log_warnx("store: %s: \"%s\": %s", s->path, store_sql[which],
		    sqlite3_errmsg(s->db));
		ret = -1;
	} else if (id == NULL && sqlite3_changes(s->db) == 0) {
		log_warnx("store: %s: \"%s\": no such row", s->path,
		    store_sql[which]);
		ret = -1;
	}
	(void)sqlite3_reset(stmt);
	(void)sqlite3_clear_bindings(stmt);
	return (ret);
}

/* Run an INSERT that yields an id, inside the batch. */
static int64_t
store_insert(struct store *s, enum store_stmt which)
{
	int64_t	id;

	if (store_step(s, which, &id) == -1)
		return (-1);
	store_write_end(s);
	return (id);
}

/* Run an UPDATE of exactly one row, inside the batch. */
static int
store_update(struct store *s, enum store_stmt which)
{
	if (store_step(s, which, NULL) == -1)
		return (-1);
	store_write_end(s);
	return (0);
}

/* Write the pending rollups: the last step of a batch. */
static int
store_write_rollups(struct store *s)
{
	sqlite3_stmt	*stmt = s->stmt[STMT_ROLLUP];
	struct rollup	*r;
	size_t		 i;

	for (i = 0; i < s->nrollups; i++) {
		r = &s->rollups[i];
		if (sqlite3_bind_int64(stmt, 1, r->run_id) != SQLITE_OK ||
		    sqlite3_bind_int(stmt, 2, r->kind) != SQLITE_OK ||
		    sqlite3_bind_int64(stmt, 3, r->probes) != SQLITE_OK ||
		    sqlite3_bind_int64(stmt, 4, r->failures) != SQLITE_OK ||
		    sqlite3_bind_int64(stmt, 5, r->timeouts) != SQLITE_OK ||
		    sqlite3_bind_int64(stmt, 6, r->bytes) != SQLITE_OK ||
		    sqlite3_bind_int64(stmt, 7, r->latency_sum_us) !=
		    SQLITE_OK ||
		    sqlite3_bind_int64(stmt, 8, r->latency_min_us) !=
		    SQLITE_OK ||
		    sqlite3_bind_int64(stmt, 9, r->latency_max_us) !=
		    SQLITE_OK ||
		    store_step(s, STMT_ROLLUP, NULL) == -1) {
			(void)sqlite3_reset(stmt);
			return (-1);
		}
	}
	s->nrollups = 0;
	s->rollup_last = 0;
	return (0);
}

/*
 * Commit the batch. A commit that fails with the transaction still open
 * (SQLITE_BUSY, for one) keeps the batch for the next flush; one that
 * SQLite rolled back is reported as lost.
 */
int
store_flush(struct store *s)
{
	unsigned int	rows = s->batch_rows;

	if (!s->in_batch)
		return (0);
	if (s->nrollups > 0 && store_write_rollups(s) == -1) {
		/* Rollups that disagree with their probes would lie. */
		log_warnx("store: %s: rolling back %u rows", s->path, rows);
		goto rollback;
	}
	if (store_exec(s, "COMMIT") == -1) {
		if (!sqlite3_get_autocommit(s->db)) {
			log_warnx("store: %s: commit of %u rows deferred",
			    s->path, rows);
			return (-1);
		}
		log_warnx("store: %s: lost %u rows", s->path, rows);
		goto reset;
	}
	log_trace("store: %s: committed %u rows", s->path, rows);
	s->in_batch = 0;
	s->batch_rows = 0;
	return (0);

rollback:
	(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
reset:
	s->in_batch = 0;
	s->batch_rows = 0;
	s->nrollups = 0;
	s->rollup_last = 0;
	return (-1);
}

/* Find or add a host. */
int64_t
store_host(struct store *s, const char *machine_id, const char *hostname)
{
	sqlite3_stmt	*stmt = s->stmt[STMT_HOST];

	if (store_write_begin(s, STMT_HOST) == -1)
		return (-1);
	if (bind_text(stmt, 1, machine_id) != SQLITE_OK ||
	    bind_text(stmt, 2, hostname) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 3, lq_wall_now_us()) != SQLITE_OK)
		return (store_bind_failed(s, STMT_HOST));
	return (store_insert(s, STMT_HOST));
}

/* Find or add a port. */
int64_t
store_port(struct store *s, int64_t host_id, const char *path, int hub_depth)
{
	sqlite3_stmt	*stmt = s->stmt[STMT_PORT];
	int		 rc;

	if (store_write_begin(s, STMT_PORT) == -1)
		return (-1);
	if (hub_depth < 0)
		rc = sqlite3_bind_null(stmt, 3);
	else
		rc = sqlite3_bind_int(stmt, 3, hub_depth);
	if (rc != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 1, host_id) != SQLITE_OK ||
	    bind_text(stmt, 2, path) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 4, lq_wall_now_us()) != SQLITE_OK)
		return (store_bind_failed(s, STMT_PORT));
	return (store_insert(s, STMT_PORT));
}

/* Set or clear a port's label. */
int
store_port_label(struct store *s, int64_t port_id, const char *label)
{
	sqlite3_stmt	*stmt = s->stmt[STMT_PORT_LABEL];

	if (store_write_begin(s, STMT_PORT_LABEL) == -1)
		return (-1);
	if (sqlite3_bind_int64(stmt, 1, port_id) != SQLITE_OK ||
	    bind_text(stmt, 2, label) != SQLITE_OK)
		return (store_bind_failed(s, STMT_PORT_LABEL));
	return (store_update(s, STMT_PORT_LABEL));
}

/* Find or add a cable. */
int64_t
store_cable(struct store *s, const char *label)
{
	sqlite3_stmt	*stmt = s->stmt[STMT_CABLE];

	if (store_write_begin(s, STMT_CABLE) == -1)
		return (-1);
	if (bind_text(stmt, 1, label) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 2, lq_wall_now_us()) != SQLITE_OK)
		return (store_bind_failed(s, STMT_CABLE));
	return (store_insert(s, STMT_CABLE));
}

/* Find or add a device, keeping what is already known. */
int64_t
store_device(struct store *s, const struct store_device *d)
{
	sqlite3_stmt	*stmt = s->stmt[STMT_DEVICE];

	if (store_write_begin(s, STMT_DEVICE) == -1)
		return (-1);
	if (bind_text(stmt, 1, d->udid) != SQLITE_OK ||
	    bind_text(stmt, 2, d->usb_serial) != SQLITE_OK ||
	    bind_text(stmt, 3, d->name) != SQLITE_OK ||
	    bind_text(stmt, 4, d->product_type) != SQLITE_OK ||
	    bind_text(stmt, 5, d->ios_version) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 6, d->seen_us) != SQLITE_OK)
		return (store_bind_failed(s, STMT_DEVICE));
	return (store_insert(s, STMT_DEVICE));
}

/* Record the start of an attachment. */
int64_t
store_attachment_begin(struct store *s, const struct store_attachment *a)
{
	sqlite3_stmt	*stmt = s->stmt[STMT_ATTACH_BEGIN];

	if (store_write_begin(s, STMT_ATTACH_BEGIN) == -1)
		return (-1);
	if (sqlite3_bind_int64(stmt, 1, a->device_id) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 2, a->port_id) != SQLITE_OK ||
	    bind_id(stmt, 3, a->cable_id) != SQLITE_OK ||
	    bind_id(stmt, 4, a->previous_id) != SQLITE_OK ||
	    bind_text(stmt, 5, lq_device_mode_name(a->mode)) != SQLITE_OK ||
	    bind_id(stmt, 6, a->speed_mbps) != SQLITE_OK ||
	    bind_id(stmt, 7, a->bus) != SQLITE_OK ||
	    bind_id(stmt, 8, a->devnum) != SQLITE_OK ||
	    bind_id(stmt, 9, a->location_id) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 10, a->started_us) != SQLITE_OK)
		return (store_bind_failed(s, STMT_ATTACH_BEGIN));
	return (store_insert(s, STMT_ATTACH_BEGIN));
}

/* Say which cable an attachment is through. */
int
store_attachment_cable(struct store *s, int64_t attachment_id,
    int64_t cable_id, int fixed)
{
	sqlite3_stmt	*stmt = s->stmt[STMT_ATTACH_CABLE];

	if (store_write_begin(s, STMT_ATTACH_CABLE) == -1)
		return (-1);
	if (sqlite3_bind_int64(stmt, 1, attachment_id) != SQLITE_OK ||
	    bind_id(stmt, 2, cable_id) != SQLITE_OK ||
	    sqlite3_bind_int(stmt, 3, fixed != 0) != SQLITE_OK)
		return (store_bind_failed(s, STMT_ATTACH_CABLE));
	return (store_update(s, STMT_ATTACH_CABLE));
}

/* Record the end of an attachment. */
int
store_attachment_end(struct store *s, int64_t attachment_id,
    int64_t ended_us, const char *reason)
{
	sqlite3_stmt	*stmt = s->stmt[STMT_ATTACH_END];

	if (store_write_begin(s, STMT_ATTACH_END) == -1)
		return (-1);
	if (sqlite3_bind_int64(stmt, 1, attachment_id) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 2, ended_us) != SQLITE_OK ||
	    bind_text(stmt, 3, reason) != SQLITE_OK)
		return (store_bind_failed(s, STMT_ATTACH_END));
	return (store_update(s, STMT_ATTACH_END));
}

/* Record the start of a run. */
int64_t
store_run_begin(struct store *s, int64_t attachment_id, const char *profile,
    int64_t started_us)
{
	sqlite3_stmt	*stmt = s->stmt[STMT_RUN_BEGIN];

	if (store_write_begin(s, STMT_RUN_BEGIN) == -1)
		return (-1);
	if (sqlite3_bind_int64(stmt, 1, attachment_id) != SQLITE_OK ||
	    bind_text(stmt, 2, profile) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 3, started_us) != SQLITE_OK)
		return (store_bind_failed(s, STMT_RUN_BEGIN));
	return (store_insert(s, STMT_RUN_BEGIN));
}

/* Record the end of a run. */
int
store_run_end(struct store *s, int64_t run_id, const char *state,
    const char *verdict, const char *reasons, int64_t ended_us)
{
	sqlite3_stmt	*stmt = s->stmt[STMT_RUN_END];

	if (store_write_begin(s, STMT_RUN_END) == -1)
		return (-1);
	if (sqlite3_bind_int64(stmt, 1, run_id) != SQLITE_OK ||
	    bind_text(stmt, 2, state) != SQLITE_OK ||
	    bind_text(stmt, 3, verdict) != SQLITE_OK ||
	    bind_text(stmt, 4, reasons) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 5, ended_us) != SQLITE_OK)
		return (store_bind_failed(s, STMT_RUN_END));
	return (store_update(s, STMT_RUN_END));
}

/* Add one probe result to the pending rollup of its run and kind. */
static void
store_rollup_add(struct store *s, const struct store_probe *p)
{
	struct rollup	*r = NULL;
	size_t		 i, n = s->nrollups;

	for (i = 0; i < n; i++) {
		r = &s->rollups[(s->rollup_last + i) % n];
		if (r->run_id == p->run_id && r->kind == p->kind)
			break;
	}
	if (i < n)
		s->rollup_last = (s->rollup_last + i) % n;
	else {
		if (s->nrollups == s->rollups_size) {
			s->rollups_size = s->rollups_size * 2 + 16;
			s->rollups = xreallocarray(s->rollups,
			    s->rollups_size, sizeof(*s->rollups));
		}
		s->rollup_last = s->nrollups++;
		r = &s->rollups[s->rollup_last];
		memset(r, 0, sizeof(*r));
		r->run_id = p->run_id;
		r->kind = p->kind;
		r->latency_min_us = p->latency_us;
		r->latency_max_us = p->latency_us;
	}
	r->probes++;
	if (p->status != LQ_OK)
		r->failures++;
	if (p->status == LQ_ETIMEDOUT)
		r->timeouts++;
	r->bytes += p->bytes;
	r->latency_sum_us += p->latency_us;
	if (p->latency_us < r->latency_min_us)
		r->latency_min_us = p->latency_us;
	if (p->latency_us > r->latency_max_us)
		r->latency_max_us = p->latency_us;
}

/* Add a probe result to the batch. */
int64_t
store_probe(struct store *s, const struct store_probe *p)
{
	sqlite3_stmt	*stmt = s->stmt[STMT_PROBE];
	int64_t		 id;

	if (store_write_begin(s, STMT_PROBE) == -1)
		return (-1);
	if (sqlite3_bind_int64(stmt, 1, p->run_id) != SQLITE_OK ||
	    sqlite3_bind_int(stmt, 2, p->kind) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 3, p->ts_us) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 4, p->latency_us) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 5, p->bytes) != SQLITE_OK ||
	    sqlite3_bind_int(stmt, 6, p->status) != SQLITE_OK ||
	    bind_text(stmt, 7, p->detail) != SQLITE_OK)
		return (store_bind_failed(s, STMT_PROBE));
	if (store_step(s, STMT_PROBE, &id) == -1)
		return (-1);
	/* Only a row that is in the table may count in its rollup. */
	store_rollup_add(s, p);
	store_write_end(s);
	return (id);
}

/* Record the trials of a run's sequential test. */
int
store_run_trials(struct store *s, int64_t run_id, int64_t trials)
{
	sqlite3_stmt	*stmt = s->stmt[STMT_RUN_TRIALS];

	if (store_write_begin(s, STMT_RUN_TRIALS) == -1)
		return (-1);
	if (sqlite3_bind_int64(stmt, 1, run_id) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 2, trials) != SQLITE_OK)
		return (store_bind_failed(s, STMT_RUN_TRIALS));
	return (store_update(s, STMT_RUN_TRIALS));
}

/* Record the verdict of one window of a run that lasts forever. */
int
store_run_window(struct store *s, int64_t run_id, int64_t started_us,
    int64_t ended_us, const char *verdict, const char *reasons)
{
	sqlite3_stmt	*stmt = s->stmt[STMT_RUN_WINDOW];

	if (store_write_begin(s, STMT_RUN_WINDOW) == -1)
		return (-1);
	if (sqlite3_bind_int64(stmt, 1, run_id) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 2, started_us) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 3, ended_us) != SQLITE_OK ||
	    bind_text(stmt, 4, verdict) != SQLITE_OK ||
	    bind_text(stmt, 5, reasons) != SQLITE_OK)
		return (store_bind_failed(s, STMT_RUN_WINDOW));
	return (store_insert(s, STMT_RUN_WINDOW) < 0 ? -1 : 0);
}

/*
 * Delete up to max raw probe results and events older than before_us,
 * inside the batch; return how many rows went, or -1.
 */
int64_t
store_prune(struct store *s, int64_t before_us, int64_t max)
{
	static const enum store_stmt	 which[] = {
		STMT_PRUNE_PROBES, STMT_PRUNE_EVENTS
	};
	sqlite3_stmt			*stmt;
	int64_t				 n = 0, id;
	size_t				 i;

	for (i = 0; i < nitems(which) && n < max; i++) {
		stmt = s->stmt[which[i]];
		if (store_write_begin(s, which[i]) == -1)
			return (-1);
		if (sqlite3_bind_int64(stmt, 1, before_us) != SQLITE_OK ||
		    sqlite3_bind_int64(stmt, 2, max - n) != SQLITE_OK)
			return (store_bind_failed(s, which[i]));
		/* An id pointer: deleting nothing is no error here. */
		if (store_step(s, which[i], &id) == -1)
			return (-1);
		n += sqlite3_changes(s->db);
		s->batch_rows += (unsigned int)sqlite3_changes(s->db);
		store_write_end(s);
	}
	return (n);
}

/* Add an event to the batch. */
int64_t
store_event(struct store *s, const struct store_event *e)
{
	sqlite3_stmt	*stmt = s->stmt[STMT_EVENT];

	if (store_write_begin(s, STMT_EVENT) == -1)
		return (-1);
	if (sqlite3_bind_int64(stmt, 1, e->ts_us) != SQLITE_OK ||
	    bind_text(stmt, 2, e->source) != SQLITE_OK ||
	    bind_text(stmt, 3, e->kind) != SQLITE_OK ||
	    bind_id(stmt, 4, e->host_id) != SQLITE_OK ||
	    bind_id(stmt, 5, e->port_id) != SQLITE_OK ||
	    bind_id(stmt, 6, e->attachment_id) != SQLITE_OK ||
	    bind_id(stmt, 7, e->run_id) != SQLITE_OK ||
	    bind_id(stmt, 8, e->errnum) != SQLITE_OK ||
	    bind_text(stmt, 9, e->detail) != SQLITE_OK)
		return (store_bind_failed(s, STMT_EVENT));
	return (store_insert(s, STMT_EVENT));
}
