/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The store: opening and checking the database, migrations, closing
 * what an earlier linkqd left open, the SQL of every statement, and the
 * reads (contract in store.h; the writes are in store-write.c).
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
 * A database linkqd cannot write to is refused at the start, with what
 * to do, rather than opened to fail every write after: SQLite opens a
 * write-protected file (mode, read-only mount, immutable attribute)
 * read-only without a word, so the store asks, and then writes once (the
 * closing of what an earlier linkqd left open) in the same way.
 *
 * Inserts name the id (the last value bound) that the store handed out;
 * a find-or-add binds NULL there when it runs at once (store-write.c).
 */

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "compat/compat.h"
#include "dircheck.h"
#include "linkq.h"
#include "log.h"
#include "lq-schema.h"
#include "lq-status.h"
#include "lq-time.h"
#include "store-int.h"
#include "store.h"
#include "xmalloc.h"

/*
 * How long opening waits for another process's write lock (migrations,
 * closing what was left open); after that, a commit waits no longer
 * than STORE_BUSY_TIMEOUT_MS, so the loop never stalls, and one that
 * finds the database locked is retried on the timer (store-write.c).
 */
#define STORE_OPEN_BUSY_MS	5000
#define STORE_BUSY_TIMEOUT_MS	10

/* Indexed by enum store_stmt. */
const char *const store_sql[STMT_COUNT] = {
	[STMT_HOST] =
	    "INSERT INTO hosts (machine_id, hostname, first_seen_us, id) "
	    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (machine_id) "
	    "DO UPDATE SET hostname = excluded.hostname RETURNING id",
	[STMT_PORT] =
	    "INSERT INTO ports (host_id, path, hub_depth, first_seen_us, id) "
	    "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (host_id, path) "
	    "DO UPDATE SET hub_depth = coalesce(excluded.hub_depth, "
	    "hub_depth) RETURNING id",
	[STMT_PORT_LABEL] =
	    "UPDATE ports SET label = ?2 WHERE id = ?1",
	[STMT_CABLE] =
	    "INSERT INTO cables (label, first_seen_us, id) VALUES (?1, ?2, ?3) "
	    "ON CONFLICT (label) DO UPDATE SET label = excluded.label "
	    "RETURNING id",
	[STMT_DEVICE] =
	    "INSERT INTO devices (udid, usb_serial, name, product_type, "
	    "ios_version, first_seen_us, last_seen_us, id) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7) ON CONFLICT (udid) "
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
	    "started_us, id) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[STMT_ATTACH_CABLE] =
	    "UPDATE attachments SET cable_id = ?2, cable_fixed = ?3 "
	    "WHERE id = ?1",
	[STMT_ATTACH_END] =
	    "UPDATE attachments SET ended_us = ?2, end_reason = ?3 "
	    "WHERE id = ?1",
	[STMT_RUN_BEGIN] =
	    "INSERT INTO runs (attachment_id, profile, started_us, id) "
	    "VALUES (?1, ?2, ?3, ?4)",
	[STMT_RUN_END] =
	    "UPDATE runs SET state = ?2, verdict = ?3, reasons = ?4, "
	    "ended_us = ?5 WHERE id = ?1",
	[STMT_RUN_TRIALS] =
	    "UPDATE runs SET trials = ?2 WHERE id = ?1",
	[STMT_RUN_WINDOW] =
	    "INSERT INTO run_windows (run_id, started_us, ended_us, "
	    "verdict, reasons) VALUES (?1, ?2, ?3, ?4, ?5)",
	[STMT_WATCH_BEGIN] =
	    "INSERT INTO runs (attachment_id, profile, started_us, id, kind, "
	    "command) VALUES (?1, 'restore-watch', ?2, ?3, 'restore-watch', "
	    "?4)",
	[STMT_WATCH_END] =
	    "UPDATE runs SET state = ?2, outcome = ?3, exit_status = ?4, "
	    "exit_signal = ?5, percent = ?6 / 10.0, step = ?7, "
	    "link_events = ?8, ended_us = ?9, "
	    "command = coalesce(?10, command) WHERE id = ?1",
	[STMT_PROBE] =
	    "INSERT INTO probes (run_id, kind, ts_us, latency_us, bytes, "
	    "status, detail, id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[STMT_EVENT] =
	    "INSERT INTO events (ts_us, source, kind, host_id, port_id, "
	    "attachment_id, run_id, errno, detail, id) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
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
	[STMT_FIND_HOST] =
	    "SELECT id FROM hosts WHERE machine_id = ?1",
	[STMT_FIND_PORT] =
	    "SELECT id FROM ports WHERE host_id = ?1 AND path = ?2",
	[STMT_FIND_CABLE] =
	    "SELECT id FROM cables WHERE label = ?1",
	[STMT_FIND_DEVICE] =
	    "SELECT id FROM devices WHERE udid = ?1",
	[STMT_PORTS] =
	    "SELECT path, label FROM ports WHERE host_id = ?1 ORDER BY path",
	[STMT_PORT_LABEL_GET] =
	    "SELECT label FROM ports WHERE id = ?1",
	[STMT_ATTACH_PORT] =
	    "SELECT a.port_id, p.path FROM attachments a "
	    "JOIN ports p ON p.id = a.port_id "
	    "WHERE a.id = ?1 AND a.bus = ?2 AND a.devnum = ?3",
	[STMT_BEST_SPEED] =
	    "SELECT a.speed_mbps, p.path FROM attachments a "
	    "JOIN ports p ON p.id = a.port_id "
	    "WHERE a.device_id = ?1 AND a.speed_mbps IS NOT NULL "
	    "ORDER BY a.speed_mbps DESC, a.id DESC LIMIT 1",
	[STMT_RECOVERED] =
	    "SELECT r.id, r.profile, r.attachment_id, r.started_us, "
	    "r.ended_us, r.total_probes, r.total_failures, d.udid "
	    "FROM temp.recovered t JOIN runs r ON r.id = t.id "
	    "JOIN attachments a ON a.id = r.attachment_id "
	    "JOIN devices d ON d.id = a.device_id ORDER BY r.id",
	/*
	 * The ended qualification runs of a host by port, cable and
	 * verdict: read once at the start (metrics.c), a scan of runs with
	 * their attachments' ports and cables (attachments by id).
	 */
	[STMT_VERDICT_COUNTS] =
	    "SELECT p.path, coalesce(c.label, ''), coalesce(r.verdict, ''), "
	    "count(*) FROM runs r JOIN attachments a ON a.id = r.attachment_id "
	    "JOIN ports p ON p.id = a.port_id "
	    "LEFT JOIN cables c ON c.id = a.cable_id "
	    "WHERE p.host_id = ?1 AND r.kind = 'qualify' "
	    "AND r.state <> 'running' GROUP BY 1, 2, 3",
	[STMT_ATTACH_WHERE] =
	    "SELECT p.path, coalesce(c.label, '') FROM attachments a "
	    "JOIN ports p ON p.id = a.port_id "
	    "LEFT JOIN cables c ON c.id = a.cable_id WHERE a.id = ?1",
	[STMT_PORT_PATH] =
	    "SELECT path FROM ports WHERE id = ?1",
};

/*
 * Close what an earlier linkqd left open when it died without its
 * shutdown (kill -9, a crash, the power): its runs end interrupted and
 * its attachments with end_reason 'interrupted', each at the time of
 * its last evidence (the end of its last probe, its last event), with
 * an event that says so. One transaction: all or nothing.
 */
/*
 * The runs store_recover closed, which a statement reads: made with the
 * statements, in the connection's temporary schema, which never writes
 * to the database file.
 */
static const char store_recovered_sql[] =
	"CREATE TEMP TABLE IF NOT EXISTS recovered (id INTEGER PRIMARY KEY, "
	"    ended_us INTEGER NOT NULL);";
static const char store_recover_sql[] =
	"DELETE FROM temp.recovered;"
	"INSERT INTO temp.recovered (id, ended_us) "
	"SELECT r.id, max(r.started_us, "
	"    coalesce((SELECT max(p.ts_us + p.latency_us) FROM probes p "
	"    WHERE p.run_id = r.id), 0), "
	"    coalesce((SELECT max(e.ts_us) FROM events e "
	"    WHERE e.run_id = r.id), 0)) "
	"FROM runs r WHERE r.state = 'running';"
	"UPDATE runs SET state = 'interrupted', "
	"    ended_us = (SELECT ended_us FROM temp.recovered t "
	"    WHERE t.id = runs.id), "
	"    reasons = coalesce(reasons, json_array('linkqd stopped without "
	"ending this run (killed or crashed); closed at its next start')) "
	"WHERE id IN (SELECT id FROM temp.recovered);"
	"INSERT INTO events (ts_us, source, kind, attachment_id, run_id, "
	"    detail) "
	"SELECT t.ended_us, 'daemon', 'interrupted', r.attachment_id, r.id, "
	"    'linkqd stopped without ending this run (killed or crashed); "
	"closed at its next start, at its last evidence' "
	"FROM temp.recovered t JOIN runs r ON r.id = t.id;"
	"UPDATE attachments SET end_reason = 'interrupted', "
	"    ended_us = max(started_us, "
	"    coalesce((SELECT max(r.ended_us) FROM runs r "
	"    WHERE r.attachment_id = attachments.id), 0), "
	"    coalesce((SELECT max(e.ts_us) FROM events e "
	"    WHERE e.attachment_id = attachments.id), 0)) "
	"WHERE ended_us IS NULL;";

static int	store_configure(struct store *, char **);
static int	store_migrate(struct store *, int, char **);
static int	store_prepare(struct store *, char **);

/* Bind a string, or NULL for a NULL pointer. */
int
store_bind_text(sqlite3_stmt *stmt, int col, const char *value)
{
	if (value == NULL)
		return (sqlite3_bind_null(stmt, col));
	return (sqlite3_bind_text(stmt, col, value, -1, SQLITE_STATIC));
}

/* Run SQL without results, logging the error. */
int
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
int
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

/*
 * Bring the schema from version `from` to the latest, with the
 * migrations linkq merge also applies (common/schema.c).
 */
static int
store_migrate(struct store *s, int from, char **cause)
{
	if (lq_schema_migrate(s->db, s->path, from, cause) == -1)
		return (-1);
	/* An upgrade is worth a line in the log; a new file is not. */
	if (from > 0 && from < lq_schema_latest())
		log_info("store: %s: upgraded schema from version %d to %d",
		    s->path, from, lq_schema_latest());
	return (0);
}

/* Prepare every statement once, for the life of the connection. */
static int
store_prepare(struct store *s, char **cause)
{
	int	i;

	if (sqlite3_exec(s->db, store_recovered_sql, NULL, NULL, NULL) !=
	    SQLITE_OK) {
		xasprintf(cause, "%s: %s", s->path, sqlite3_errmsg(s->db));
		return (-1);
	}
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

/*
 * A database opened for writing must take writes: SQLite quietly opens
 * a write-protected file read-only, and a directory linkqd cannot write
 * in fails only at the first write, so ask, then write once.
 */
static int
store_check_writable(struct store *s, char **cause)
{
	char	*dir, *slash;
	int	 ro = 0;

	/* The -wal and -shm files are made beside the database. */
	if (strcmp(s->path, ":memory:") != 0 && s->path[0] != '\0') {
		dir = xstrdup(s->path);
		if ((slash = strrchr(dir, '/')) == NULL)
			(void)strlcpy(dir, ".", 2);
		else if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
		if ((access(s->path, W_OK) == -1 && errno != ENOENT) ||
		    (access(dir, W_OK) == -1 && errno != ENOENT))
			ro = 1;
		free(dir);
	}
	if (ro || sqlite3_db_readonly(s->db, "main") == 1) {
		xasprintf(cause, "database %s is read-only (its or its "
		    "directory's mode, a read-only mount or an immutable "
		    "attribute): linkqd "
		    "records every run there; make it writable, or give "
		    "another path with --db PATH or db in linkq.conf's "
		    "[daemon] section",
		    s->path);
		return (-1);
	}
	return (0);
}

/* Close the runs and attachments an earlier linkqd left open. */
static int
store_recover(struct store *s, char **cause)
{
	char	*errmsg = NULL;
	int64_t	 runs = 0, attachments;

	if (sqlite3_exec(s->db, store_recovered_sql, NULL, NULL, &errmsg) !=
	    SQLITE_OK ||
	    sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, &errmsg) !=
	    SQLITE_OK)
		goto fail;
	if (store_query_int(s, "SELECT count(*) FROM attachments WHERE "
	    "ended_us IS NULL", &attachments) != SQLITE_OK)
		goto fail;
	if (sqlite3_exec(s->db, store_recover_sql, NULL, NULL, &errmsg) !=
	    SQLITE_OK ||
	    store_query_int(s, "SELECT count(*) FROM temp.recovered",
	    &runs) != SQLITE_OK ||
	    store_summaries_refresh(s) != SQLITE_OK ||
	    sqlite3_exec(s->db, "COMMIT", NULL, NULL, &errmsg) != SQLITE_OK)
		goto fail;
	if (runs > 0 || attachments > 0)
		log_warnx("store: %s: closed %lld runs and %lld attachments "
		    "that an earlier linkqd left open (killed or crashed) as "
		    "interrupted", s->path, (long long)runs,
		    (long long)attachments);
	return (0);

fail:
	xasprintf(cause, "cannot write to database %s: %s: linkqd needs to "
	    "write there; %s", s->path, errmsg != NULL ? errmsg :
	    sqlite3_errmsg(s->db),
	    (sqlite3_errcode(s->db) & 0xff) == SQLITE_BUSY ?
	    "another process holds its write lock: end that process's "
	    "transaction" : (sqlite3_errcode(s->db) & 0xff) == SQLITE_FULL ?
	    "free space on the file system that holds it" :
	    "check that the file and its directory are writable");
	sqlite3_free(errmsg);
	(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return (-1);
}

/*
 * Say why SQLite could not open the database, and what to do. Its own
 * words, "unable to open database file", name no directory; what is
 * wrong is most often the directory: missing, or not ours to write in.
 */
static void
store_open_failed(struct store *s, char **cause)
{
	char	dir[PATH_MAX], why[PATH_MAX + 160];

	if ((s->flags & STORE_READONLY) || dircheck(s->path, dir,
	    sizeof(dir), why, sizeof(why)) == DIRCHECK_OK) {
		xasprintf(cause, "cannot open database %s: %s", s->path,
		    sqlite3_errmsg(s->db));
		return;
	}
	xasprintf(cause, "cannot open database %s: %s: create it or make it "
	    "writable by linkqd's user (install -d -o linkq -g linkq -m 0750 "
	    "%s; the systemd unit makes it), or give another path with "
	    "--db PATH or db in linkq.conf's [daemon] section", s->path, why,
	    dir);
}

/* Open, check, configure and migrate. */
struct store *
store_open(const char *path, int flags, char **cause)
{
	struct store	*s;
	int		 oflags, version;

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
		store_open_failed(s, cause);
		goto fail;
	}
	(void)sqlite3_extended_result_codes(s->db, 1);
	(void)sqlite3_busy_timeout(s->db, STORE_OPEN_BUSY_MS);

	if (!(flags & STORE_READONLY) && store_check_writable(s, cause) == -1)
		goto fail;
	if (lq_schema_identity(s->db, s->path, &version, cause) == -1)
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
	    store_recover(s, cause) == -1 ||
	    (version != store_schema_latest() &&
	    store_prepare(s, cause) == -1) ||
	    store_ids_load(s, cause) == -1)
		goto fail;
	(void)sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
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
	if (s->nops > 0 && store_flush(s) == -1)
		log_warnx("store: %s: closing with %zu writes not recorded",
		    s->path, s->nops);
	store_journal_free(s);
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
	return (lq_schema_latest());
}

/* Borrow the connection. */
sqlite3 *
store_handle(struct store *s)
{
	return (s->db);
}

/* Start a read: the journal goes in first, unless commits fail. */
static sqlite3_stmt *
store_read(struct store *s, enum store_stmt which)
{
	store_read_begin(s);
	return (s->stmt[which]);
}

/* Finish a read: log an error, reset; rc is the last step's. */
static int
store_read_end(struct store *s, enum store_stmt which, int rc)
{
	int	ret = 0;

	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		log_warnx("store: %s: \"%s\": %s", s->path, store_sql[which],
		    sqlite3_errmsg(s->db));
		ret = -1;
	}
	(void)sqlite3_reset(s->stmt[which]);
	(void)sqlite3_clear_bindings(s->stmt[which]);
	return (ret);
}

/* Copy a text column, or "" for NULL. */
static void
store_column_copy(sqlite3_stmt *st, int col, char *buf, size_t size)
{
	const char	*text;

	text = (const char *)sqlite3_column_text(st, col);
	(void)strlcpy(buf, text != NULL ? text : "", size);
}

/* Each port of a host. */
int
store_ports_each(struct store *s, int64_t host_id,
    void (*fn)(const char *, const char *, void *), void *arg)
{
	sqlite3_stmt	*st;
	int		 rc;

	st = store_read(s, STMT_PORTS);
	if ((rc = sqlite3_bind_int64(st, 1, host_id)) == SQLITE_OK) {
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			fn((const char *)sqlite3_column_text(st, 0),
			    (const char *)sqlite3_column_text(st, 1), arg);
	}
	return (store_read_end(s, STMT_PORTS, rc));
}

/* A port's label. */
int
store_port_label_get(struct store *s, int64_t port_id, char *buf,
    size_t size)
{
	sqlite3_stmt	*st;
	int		 rc, found = 0;

	st = store_read(s, STMT_PORT_LABEL_GET);
	if ((rc = sqlite3_bind_int64(st, 1, port_id)) == SQLITE_OK &&
	    (rc = sqlite3_step(st)) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL) {
		store_column_copy(st, 0, buf, size);
		found = 1;
	}
	if (store_read_end(s, STMT_PORT_LABEL_GET, rc) == -1)
		return (-1);
	return (found);
}

/* The port of an attachment at bus and device number. */
int
store_attachment_port(struct store *s, int64_t attachment_id, int bus,
    int devnum, int64_t *port_id, char *path, size_t size)
{
	sqlite3_stmt	*st;
	int		 rc, found = 0;

	st = store_read(s, STMT_ATTACH_PORT);
	if ((rc = sqlite3_bind_int64(st, 1, attachment_id)) == SQLITE_OK &&
	    (rc = sqlite3_bind_int(st, 2, bus)) == SQLITE_OK &&
	    (rc = sqlite3_bind_int(st, 3, devnum)) == SQLITE_OK &&
	    (rc = sqlite3_step(st)) == SQLITE_ROW) {
		*port_id = sqlite3_column_int64(st, 0);
		store_column_copy(st, 1, path, size);
		found = 1;
	}
	if (store_read_end(s, STMT_ATTACH_PORT, rc) == -1)
		return (-1);
	return (found);
}

/* The best speed a device negotiated, and where. */
int
store_device_best_speed(struct store *s, int64_t device_id, int *speed,
    char *path, size_t size)
{
	sqlite3_stmt	*st;
	int		 rc, found = 0;

	st = store_read(s, STMT_BEST_SPEED);
	if ((rc = sqlite3_bind_int64(st, 1, device_id)) == SQLITE_OK &&
	    (rc = sqlite3_step(st)) == SQLITE_ROW) {
		*speed = sqlite3_column_int(st, 0);
		store_column_copy(st, 1, path, size);
		found = 1;
	}
	if (store_read_end(s, STMT_BEST_SPEED, rc) == -1)
		return (-1);
	return (found);
}

/* Each run closed as interrupted at this open. */
int
store_recovered_each(struct store *s,
    void (*fn)(const struct store_run_row *, void *), void *arg)
{
	struct store_run_row	 row;
	sqlite3_stmt		*st = s->stmt[STMT_RECOVERED];
	int			 rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&row, 0, sizeof(row));
		row.id = sqlite3_column_int64(st, 0);
		row.profile = (const char *)sqlite3_column_text(st, 1);
		row.attachment_id = sqlite3_column_int64(st, 2);
		row.started_us = sqlite3_column_int64(st, 3);
		row.ended_us = sqlite3_column_int64(st, 4);
		row.probes = sqlite3_column_int64(st, 5);
		row.failures = sqlite3_column_int64(st, 6);
		row.udid = (const char *)sqlite3_column_text(st, 7);
		fn(&row, arg);
	}
	return (store_read_end(s, STMT_RECOVERED, rc));
}

/* The ended qualification runs of a host by port, cable and verdict. */
int
store_verdict_counts_each(struct store *s, int64_t host_id,
    void (*fn)(const char *, const char *, const char *, int64_t, void *),
    void *arg)
{
	sqlite3_stmt	*st;
	int		 rc;

	st = store_read(s, STMT_VERDICT_COUNTS);
	if ((rc = sqlite3_bind_int64(st, 1, host_id)) == SQLITE_OK) {
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			fn((const char *)sqlite3_column_text(st, 0),
			    (const char *)sqlite3_column_text(st, 1),
			    (const char *)sqlite3_column_text(st, 2),
			    sqlite3_column_int64(st, 3), arg);
	}
	return (store_read_end(s, STMT_VERDICT_COUNTS, rc));
}

/* The port path and cable label ("" if none) of an attachment. */
int
store_attachment_where(struct store *s, int64_t attachment_id, char *port,
    size_t port_size, char *cable, size_t cable_size)
{
	sqlite3_stmt	*st;
	int		 rc, found = 0;

	st = store_read(s, STMT_ATTACH_WHERE);
	if ((rc = sqlite3_bind_int64(st, 1, attachment_id)) == SQLITE_OK &&
	    (rc = sqlite3_step(st)) == SQLITE_ROW) {
		store_column_copy(st, 0, port, port_size);
		store_column_copy(st, 1, cable, cable_size);
		found = 1;
	}
	if (store_read_end(s, STMT_ATTACH_WHERE, rc) == -1)
		return (-1);
	return (found);
}

/* The path of a port. */
int
store_port_path(struct store *s, int64_t port_id, char *buf, size_t size)
{
	sqlite3_stmt	*st;
	int		 rc, found = 0;

	st = store_read(s, STMT_PORT_PATH);
	if ((rc = sqlite3_bind_int64(st, 1, port_id)) == SQLITE_OK &&
	    (rc = sqlite3_step(st)) == SQLITE_ROW) {
		store_column_copy(st, 0, buf, size);
		found = 1;
	}
	if (store_read_end(s, STMT_PORT_PATH, rc) == -1)
		return (-1);
	return (found);
}
