/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Merging linkq databases (include/lq-merge.h).
 *
 * DESIGN
 * The source is attached to the target's connection, read-only (a URI
 * with mode=ro), and copied with INSERT ... SELECT, so that ten million
 * probes never pass through C. Ids differ between files: temporary
 * tables map each source id to the target's (m_host, m_port...), filled
 * after each table by its natural key. The columns copied are read from
 * the target's schema, so a column a later migration adds is merged
 * without a change here; a table this file does not know is refused
 * when the source has rows in it, rather than dropped without a word.
 *
 * Each run's probe totals (schema 0005, 0006) are kept by triggers on
 * run_rollups: copying the rollups adds them to the totals the run came
 * with, so the totals are set again from the source's afterwards.
 */

#include <sys/stat.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "compat/compat.h"
#include "linkq.h"
#include "lq-merge.h"
#include "lq-schema.h"
#include "xmalloc.h"

/* How long a merge waits for another process's lock. */
#define MERGE_BUSY_MS		5000

/* The tables merged, and the vocabularies every schema seeds alike. */
static const char *const merge_tables[] = {
	"hosts", "ports", "cables", "devices", "attachments", "runs",
	"run_rollups", "run_windows", "probes", "events",
	"probe_kinds", "statuses", "event_kinds"
};

/*
 * The report's summaries (schema 0009): derived from the tables above,
 * so never copied; the target's triggers mark what the merge adds and
 * the refresh before COMMIT recomputes it, as the store does.
 */
static const char *const merge_derived[] = {
	"report_runs", "report_cells", "report_cell_events", "report_dirty",
	"report_dirty_cells"
};

static const char *const merge_count_names[LQ_MERGE_NCOUNTS] = {
	[LQ_MERGE_RUNS] = "runs",
	[LQ_MERGE_PROBES] = "probes",
	[LQ_MERGE_EVENTS] = "events",
	[LQ_MERGE_HOSTS] = "hosts",
	[LQ_MERGE_PORTS] = "ports",
	[LQ_MERGE_CABLES] = "cables",
	[LQ_MERGE_DEVICES] = "devices",
	[LQ_MERGE_ATTACHMENTS] = "attachments",
	[LQ_MERGE_RUNNING] = "running_left_out",
};

/* How a step's SQL gets its column lists (@D and @S). */
enum cols_mode {
	COLS_NONE,	/* plain SQL */
	COLS_COPY,	/* target's columns, then the source's as s.x */
	COLS_TOTALS	/* "total_x = s.total_x, ..." */
};

/* A step: SQL, the table whose columns it copies, and what it counts. */
struct merge_step {
	const char	*sql;
	const char	*table;
	const char	*skip;		/* columns the step sets itself */
	enum cols_mode	 mode;
	int		 count;		/* enum lq_merge_count; -1 none */
	int		 probes;	/* left out with LQ_MERGE_NO_PROBES */
};

static const char merge_maps_sql[] =
	"DROP TABLE IF EXISTS temp.m_host; DROP TABLE IF EXISTS temp.m_port;"
	"DROP TABLE IF EXISTS temp.m_cable;"
	"DROP TABLE IF EXISTS temp.m_device;"
	"DROP TABLE IF EXISTS temp.m_attach; DROP TABLE IF EXISTS temp.m_run;"
	"DROP TABLE IF EXISTS temp.new_runs;"
	"CREATE TEMP TABLE m_host (sid INTEGER PRIMARY KEY, did INTEGER);"
	"CREATE TEMP TABLE m_port (sid INTEGER PRIMARY KEY, did INTEGER);"
	"CREATE TEMP TABLE m_cable (sid INTEGER PRIMARY KEY, did INTEGER);"
	"CREATE TEMP TABLE m_device (sid INTEGER PRIMARY KEY, did INTEGER);"
	"CREATE TEMP TABLE m_attach (sid INTEGER PRIMARY KEY, did INTEGER);"
	"CREATE TEMP TABLE m_run (sid INTEGER PRIMARY KEY, did INTEGER);"
	"CREATE TEMP TABLE new_runs (sid INTEGER PRIMARY KEY);";

/*
 * In order: each table after those it refers to, each map after its
 * table. A run is new when no run of its attachment started at its
 * time; its probes, rollups and windows come with it, and only then.
 */
static const struct merge_step merge_steps[] = {
	{ "INSERT INTO main.hosts (@D) SELECT @S FROM src.hosts s "
	  "WHERE NOT EXISTS (SELECT 1 FROM main.hosts d "
	  "WHERE d.machine_id = s.machine_id) ORDER BY s.id",
	  "hosts", "id", COLS_COPY, LQ_MERGE_HOSTS, 0 },
	{ "INSERT INTO temp.m_host SELECT s.id, d.id FROM src.hosts s "
	  "JOIN main.hosts d ON d.machine_id = s.machine_id",
	  NULL, NULL, COLS_NONE, -1, 0 },
	{ "INSERT INTO main.cables (@D) SELECT @S FROM src.cables s "
	  "WHERE NOT EXISTS (SELECT 1 FROM main.cables d "
	  "WHERE d.label = s.label) ORDER BY s.id",
	  "cables", "id", COLS_COPY, LQ_MERGE_CABLES, 0 },
	{ "INSERT INTO temp.m_cable SELECT s.id, d.id FROM src.cables s "
	  "JOIN main.cables d ON d.label = s.label",
	  NULL, NULL, COLS_NONE, -1, 0 },
	{ "INSERT INTO main.devices (@D) SELECT @S FROM src.devices s "
	  "WHERE NOT EXISTS (SELECT 1 FROM main.devices d "
	  "WHERE d.udid = s.udid) ORDER BY s.id",
	  "devices", "id", COLS_COPY, LQ_MERGE_DEVICES, 0 },
	{ "INSERT INTO temp.m_device SELECT s.id, d.id FROM src.devices s "
	  "JOIN main.devices d ON d.udid = s.udid",
	  NULL, NULL, COLS_NONE, -1, 0 },
	{ "INSERT INTO main.ports (@D, host_id) SELECT @S, m.did "
	  "FROM src.ports s JOIN temp.m_host m ON m.sid = s.host_id "
	  "WHERE NOT EXISTS (SELECT 1 FROM main.ports d "
	  "WHERE d.host_id = m.did AND d.path = s.path) ORDER BY s.id",
	  "ports", "id host_id", COLS_COPY, LQ_MERGE_PORTS, 0 },
	{ "INSERT INTO temp.m_port SELECT s.id, d.id FROM src.ports s "
	  "JOIN temp.m_host m ON m.sid = s.host_id "
	  "JOIN main.ports d ON d.host_id = m.did AND d.path = s.path",
	  NULL, NULL, COLS_NONE, -1, 0 },
	{ "INSERT INTO main.attachments (@D, device_id, port_id, cable_id) "
	  "SELECT @S, md.did, mp.did, mc.did FROM src.attachments s "
	  "JOIN temp.m_device md ON md.sid = s.device_id "
	  "JOIN temp.m_port mp ON mp.sid = s.port_id "
	  "LEFT JOIN temp.m_cable mc ON mc.sid = s.cable_id "
	  "WHERE NOT EXISTS (SELECT 1 FROM main.attachments d "
	  "WHERE d.device_id = md.did AND d.port_id = mp.did "
	  "AND d.started_us = s.started_us) ORDER BY s.id",
	  "attachments", "id device_id port_id cable_id previous_id",
	  COLS_COPY, LQ_MERGE_ATTACHMENTS, 0 },
	{ "INSERT INTO temp.m_attach SELECT s.id, min(d.id) "
	  "FROM src.attachments s "
	  "JOIN temp.m_device md ON md.sid = s.device_id "
	  "JOIN temp.m_port mp ON mp.sid = s.port_id "
	  "JOIN main.attachments d ON d.device_id = md.did "
	  "AND d.port_id = mp.did AND d.started_us = s.started_us "
	  "GROUP BY s.id",
	  NULL, NULL, COLS_NONE, -1, 0 },
	/* A re-attach points at the one it continues, in the target too. */
	{ "UPDATE main.attachments SET previous_id = mp.did "
	  "FROM temp.m_attach m JOIN src.attachments s ON s.id = m.sid "
	  "JOIN temp.m_attach mp ON mp.sid = s.previous_id "
	  "WHERE attachments.id = m.did AND attachments.previous_id IS NULL",
	  NULL, NULL, COLS_NONE, -1, 0 },
	/* An attachment merged while it lasted gets its end. */
	{ "UPDATE main.attachments SET ended_us = s.ended_us, "
	  "end_reason = s.end_reason "
	  "FROM temp.m_attach m JOIN src.attachments s ON s.id = m.sid "
	  "WHERE attachments.id = m.did AND attachments.ended_us IS NULL "
	  "AND s.ended_us IS NOT NULL",
	  NULL, NULL, COLS_NONE, -1, 0 },
	{ "INSERT INTO temp.new_runs SELECT s.id FROM src.runs s "
	  "JOIN temp.m_attach m ON m.sid = s.attachment_id "
	  "WHERE s.state <> 'running' AND NOT EXISTS (SELECT 1 "
	  "FROM main.runs d WHERE d.attachment_id = m.did "
	  "AND d.started_us = s.started_us)",
	  NULL, NULL, COLS_NONE, -1, 0 },
	{ "INSERT INTO main.runs (@D, attachment_id) SELECT @S, m.did "
	  "FROM temp.new_runs n JOIN src.runs s ON s.id = n.sid "
	  "JOIN temp.m_attach m ON m.sid = s.attachment_id ORDER BY s.id",
	  "runs", "id attachment_id", COLS_COPY, LQ_MERGE_RUNS, 0 },
	{ "INSERT INTO temp.m_run SELECT s.id, min(d.id) FROM src.runs s "
	  "JOIN temp.m_attach m ON m.sid = s.attachment_id "
	  "JOIN main.runs d ON d.attachment_id = m.did "
	  "AND d.started_us = s.started_us GROUP BY s.id",
	  NULL, NULL, COLS_NONE, -1, 0 },
	{ "INSERT INTO main.run_rollups (@D, run_id) SELECT @S, m.did "
	  "FROM temp.new_runs n JOIN src.run_rollups s ON s.run_id = n.sid "
	  "JOIN temp.m_run m ON m.sid = n.sid",
	  "run_rollups", "run_id", COLS_COPY, -1, 1 },
	/* The rollups' triggers added to the totals: the source's again. */
	{ "UPDATE main.runs SET @D FROM temp.new_runs n "
	  "JOIN temp.m_run m ON m.sid = n.sid JOIN src.runs s ON s.id = n.sid "
	  "WHERE runs.id = m.did",
	  "runs", NULL, COLS_TOTALS, -1, 1 },
	{ "INSERT INTO main.run_windows (@D, run_id) SELECT @S, m.did "
	  "FROM temp.new_runs n JOIN src.run_windows s ON s.run_id = n.sid "
	  "JOIN temp.m_run m ON m.sid = n.sid",
	  "run_windows", "run_id", COLS_COPY, -1, 0 },
	{ "INSERT INTO main.probes (@D, run_id) SELECT @S, m.did "
	  "FROM temp.new_runs n JOIN src.probes s ON s.run_id = n.sid "
	  "JOIN temp.m_run m ON m.sid = n.sid",
	  "probes", "id run_id", COLS_COPY, LQ_MERGE_PROBES, 1 },
	/*
	 * An event of a run left out (still running) waits for that run;
	 * one the target has, with all it says, is not added again.
	 */
	{ "INSERT INTO main.events (@D, host_id, port_id, attachment_id, "
	  "run_id) SELECT @S, mh.did, mp.did, ma.did, mr.did "
	  "FROM src.events s "
	  "LEFT JOIN temp.m_host mh ON mh.sid = s.host_id "
	  "LEFT JOIN temp.m_port mp ON mp.sid = s.port_id "
	  "LEFT JOIN temp.m_attach ma ON ma.sid = s.attachment_id "
	  "LEFT JOIN temp.m_run mr ON mr.sid = s.run_id "
	  "WHERE (s.run_id IS NULL OR mr.did IS NOT NULL) "
	  "AND (s.attachment_id IS NULL OR ma.did IS NOT NULL) "
	  "AND (s.port_id IS NULL OR mp.did IS NOT NULL) "
	  "AND (s.host_id IS NULL OR mh.did IS NOT NULL) "
	  "AND NOT EXISTS (SELECT 1 FROM main.events d "
	  "WHERE d.ts_us = s.ts_us AND d.source = s.source "
	  "AND d.kind = s.kind AND d.host_id IS mh.did "
	  "AND d.port_id IS mp.did AND d.attachment_id IS ma.did "
	  "AND d.run_id IS mr.did AND d.errno IS s.errno "
	  "AND d.detail IS s.detail) ORDER BY s.id",
	  "events", "id host_id port_id attachment_id run_id", COLS_COPY,
	  LQ_MERGE_EVENTS, 0 },
};

/* The runs a merge leaves out because they are still running. */
static const char merge_running_sql[] =
	"SELECT count(*) FROM src.runs s "
	"JOIN temp.m_attach m ON m.sid = s.attachment_id "
	"WHERE s.state = 'running' AND NOT EXISTS (SELECT 1 FROM main.runs d "
	"WHERE d.attachment_id = m.did AND d.started_us = s.started_us)";

const char *
lq_merge_count_name(enum lq_merge_count c)
{
	if ((unsigned int)c >= LQ_MERGE_NCOUNTS)
		return (NULL);
	return (merge_count_names[c]);
}

/* Whether name is a word of the blank-separated list. */
static int
word_in(const char *name, const char *list)
{
	size_t		 n = strlen(name);
	const char	*p;

	for (p = list; p != NULL && *p != '\0'; p += strcspn(p, " ")) {
		p += strspn(p, " ");
		if (strncmp(p, name, n) == 0 && (p[n] == ' ' || p[n] == '\0'))
			return (1);
	}
	return (0);
}

/* tmpl with @D replaced by d and @S by s. */
static char *
subst(const char *tmpl, const char *d, const char *s)
{
	const char	*p, *with;
	char		*out, *tmp;

	out = xstrdup("");
	while ((p = strchr(tmpl, '@')) != NULL &&
	    (p[1] == 'D' || p[1] == 'S')) {
		with = p[1] == 'D' ? d : s;
		xasprintf(&tmp, "%s%.*s%s", out, (int)(p - tmpl), tmpl, with);
		free(out);
		out = tmp;
		tmpl = p + 2;
	}
	xasprintf(&tmp, "%s%s", out, tmpl);
	free(out);
	return (tmp);
}

/*
 * The step's SQL with its column lists, from the target's schema:
 * allocated, or NULL with *cause.
 */
static char *
step_sql(sqlite3 *db, const struct merge_step *st, char **cause)
{
	sqlite3_stmt	*q;
	const char	*name;
	char		*dst = xstrdup(""), *src = xstrdup(""), *tmp, *sql;
	int		 rc;

	if (st->mode == COLS_NONE) {
		free(dst);
		free(src);
		return (xstrdup(st->sql));
	}
	if (sqlite3_prepare_v2(db, "SELECT name FROM pragma_table_info(?1, "
	    "'main') ORDER BY cid", -1, &q, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(q, 1, st->table, -1, SQLITE_STATIC) !=
	    SQLITE_OK)
		goto fail;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		name = (const char *)sqlite3_column_text(q, 0);
		if (name == NULL || word_in(name, st->skip) ||
		    (st->mode == COLS_TOTALS && strncmp(name, "total_", 6)))
			continue;
		if (st->mode == COLS_TOTALS)
			xasprintf(&tmp, "%s%s\"%s\" = s.\"%s\"", dst,
			    *dst != '\0' ? ", " : "", name, name);
		else
			xasprintf(&tmp, "%s%s\"%s\"", dst,
			    *dst != '\0' ? ", " : "", name);
		free(dst);
		dst = tmp;
		xasprintf(&tmp, "%s%ss.\"%s\"", src, *src != '\0' ? ", " : "",
		    name);
		free(src);
		src = tmp;
	}
	if (rc != SQLITE_DONE || *dst == '\0')
		goto fail;
	(void)sqlite3_finalize(q);
	sql = subst(st->sql, dst, src);
	free(dst);
	free(src);
	return (sql);

fail:
	xasprintf(cause, "the columns of table %s: %s", st->table,
	    sqlite3_errmsg(db));
	(void)sqlite3_finalize(q);
	free(dst);
	free(src);
	return (NULL);
}

/* Read one integer. */
static int
query_int(sqlite3 *db, const char *sql, int64_t *value)
{
	sqlite3_stmt	*q;
	int		 rc;

	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
		return (-1);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		*value = sqlite3_column_int64(q, 0);
	(void)sqlite3_finalize(q);
	return (rc == SQLITE_ROW ? 0 : -1);
}

/* Whether name is one of the n in list. */
static int
name_in(const char *name, const char *const *list, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (strcmp(list[i], name) == 0)
			return (1);
	}
	return (0);
}

/*
 * A table of the source this file does not know, with rows, is refused:
 * a later migration's, which merge must learn before it can copy it.
 */
static int
merge_known_tables(sqlite3 *db, const char *src, char **cause)
{
	sqlite3_stmt	*q;
	const char	*name;
	char		*sql;
	int64_t		 rows;
	int		 ret = 0;

	if (sqlite3_prepare_v2(db, "SELECT name FROM src.sqlite_schema "
	    "WHERE type = 'table' AND name NOT LIKE 'sqlite_%'", -1, &q,
	    NULL) != SQLITE_OK) {
		xasprintf(cause, "%s: %s", src, sqlite3_errmsg(db));
		return (-1);
	}
	while (ret == 0 && sqlite3_step(q) == SQLITE_ROW) {
		name = (const char *)sqlite3_column_text(q, 0);
		if (name_in(name, merge_tables, nitems(merge_tables)) ||
		    name_in(name, merge_derived, nitems(merge_derived)))
			continue;
		xasprintf(&sql, "SELECT count(*) FROM src.\"%s\"", name);
		rows = 0;
		if (query_int(db, sql, &rows) == -1 || rows > 0) {
			xasprintf(cause, "%s has rows in table %s, which this "
			    "linkq cannot merge; nothing of it was merged: "
			    "report a bug", src, name);
			ret = -1;
		}
		free(sql);
	}
	(void)sqlite3_finalize(q);
	return (ret);
}

/* Run the steps in the open transaction; counts get what each added. */
static int
merge_run_steps(sqlite3 *db, const char *src, int flags, int64_t *counts,
    char **cause)
{
	const struct merge_step	*st;
	char			*sql, *errmsg = NULL;
	size_t			 i;

	if (sqlite3_exec(db, merge_maps_sql, NULL, NULL, &errmsg) !=
	    SQLITE_OK)
		goto fail;
	for (i = 0; i < nitems(merge_steps); i++) {
		st = &merge_steps[i];
		if (st->probes && (flags & LQ_MERGE_NO_PROBES))
			continue;
		if ((sql = step_sql(db, st, cause)) == NULL)
			return (-1);
		if (sqlite3_exec(db, sql, NULL, NULL, &errmsg) != SQLITE_OK) {
			free(sql);
			goto fail;
		}
		free(sql);
		if (st->count >= 0)
			counts[st->count] += sqlite3_changes64(db);
	}
	if (query_int(db, merge_running_sql, &counts[LQ_MERGE_RUNNING]) == -1)
		goto fail;
	if (sqlite3_exec(db, "INSERT INTO report_refresh (go) VALUES (1)",
	    NULL, NULL, &errmsg) != SQLITE_OK)
		goto fail;
	return (0);

fail:
	xasprintf(cause, "merging %s: %s", src, errmsg != NULL ? errmsg :
	    sqlite3_errmsg(db));
	sqlite3_free(errmsg);
	return (-1);
}

/*
 * path as a read-only URI: "file:" and the path with every byte but the
 * unreserved ones percent-encoded, so that '?', '#' and '%' in a file
 * name stay in it.
 */
static char *
ro_uri(const char *path)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const unsigned char	*p;
	char			*uri, *q;
	size_t			 size;

	size = strlen(path) * 3 + sizeof("file:?mode=ro");
	uri = xcalloc(1, size);
	q = uri + strlcpy(uri, "file:", size);
	for (p = (const unsigned char *)path; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~/", *p) != NULL)
			*q++ = (char)*p;
		else {
			*q++ = '%';
			*q++ = hex[*p >> 4];
			*q++ = hex[*p & 0xf];
		}
	}
	(void)strlcpy(q, "?mode=ro", size - (size_t)(q - uri));
	return (uri);
}

/*
 * Whether src can be merged into into_path: a file, not a directory, and
 * not the target itself.
 */
static int
merge_check_file(const char *into_path, const char *src, char **cause)
{
	struct stat	sb, tb;

	if (stat(src, &sb) == -1) {
		xasprintf(cause, "%s: %s; give the database file a linkqd "
		    "wrote, such as %s", src, strerror(errno), LINKQ_DB);
		return (-1);
	}
	if (S_ISDIR(sb.st_mode)) {
		xasprintf(cause, "%s is a directory, not a database file; "
		    "give the file a linkqd wrote, such as %s", src,
		    LINKQ_DB);
		return (-1);
	}
	if (stat(into_path, &tb) == 0 && tb.st_dev == sb.st_dev &&
	    tb.st_ino == sb.st_ino) {
		xasprintf(cause, "%s is the file merged into: a database "
		    "is not merged into itself", src);
		return (-1);
	}
	return (0);
}

/*
 * Open src read-only and check what it is: its version in *version, at
 * least 1 (an empty file is no history to merge).
 */
static sqlite3 *
merge_open_source(const char *src, int *version, char **cause)
{
	sqlite3	*db = NULL;
	char	*uri;
	int	 rc;

	uri = ro_uri(src);
	rc = sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_URI, NULL);
	free(uri);
	if (rc != SQLITE_OK) {
		xasprintf(cause, "cannot open %s: %s", src, db != NULL ?
		    sqlite3_errmsg(db) : sqlite3_errstr(rc));
		(void)sqlite3_close(db);
		return (NULL);
	}
	(void)sqlite3_busy_timeout(db, MERGE_BUSY_MS);
	if (lq_schema_identity(db, src, version, cause) == -1) {
		(void)sqlite3_close(db);
		return (NULL);
	}
	if (*version == 0) {
		xasprintf(cause, "%s is empty, not a linkq database", src);
		(void)sqlite3_close(db);
		return (NULL);
	}
	return (db);
}

/*
 * An older source, copied to a temporary file and upgraded there: the
 * source itself is never written. Returns the copy's path, allocated,
 * or NULL with *cause.
 */
static char *
merge_upgrade_copy(sqlite3 *sdb, const char *src, int version,
    char **cause)
{
	sqlite3_backup	*bk;
	sqlite3		*tdb = NULL;
	const char	*tmpdir;
	char		*tmp;
	int		 fd, rc;

	if ((tmpdir = getenv("TMPDIR")) == NULL || *tmpdir == '\0')
		tmpdir = "/tmp";
	xasprintf(&tmp, "%s/linkq-merge.XXXXXX", tmpdir);
	if ((fd = mkstemp(tmp)) == -1) {
		xasprintf(cause, "%s has schema version %d, older than this "
		    "linkq's %d, and no temporary copy can be made to upgrade "
		    "it: %s: %s", src, version, lq_schema_latest(), tmp,
		    strerror(errno));
		free(tmp);
		return (NULL);
	}
	(void)close(fd);
	rc = sqlite3_open_v2(tmp, &tdb, SQLITE_OPEN_READWRITE, NULL);
	if (rc == SQLITE_OK) {
		if ((bk = sqlite3_backup_init(tdb, "main", sdb, "main")) !=
		    NULL) {
			(void)sqlite3_backup_step(bk, -1);
			(void)sqlite3_backup_finish(bk);
		}
		rc = sqlite3_errcode(tdb);
	}
	if (rc != SQLITE_OK) {
		xasprintf(cause, "%s: copying it to %s to upgrade it: %s", src,
		    tmp, tdb != NULL ? sqlite3_errmsg(tdb) :
		    sqlite3_errstr(rc));
		goto fail;
	}
	if (lq_schema_migrate(tdb, src, version, cause) == -1)
		goto fail;
	(void)sqlite3_close(tdb);
	return (tmp);

fail:
	(void)sqlite3_close(tdb);
	(void)unlink(tmp);
	free(tmp);
	return (NULL);
}

/* Attach, check, merge in one transaction, detach. */
static int
merge_attached(sqlite3 *db, const char *file, const char *src, int flags,
    int64_t *counts, char **cause)
{
	char	*uri, *sql;
	int	 ret = -1;

	uri = ro_uri(file);
	sql = sqlite3_mprintf("ATTACH %Q AS src", uri);
	free(uri);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		xasprintf(cause, "cannot open %s: %s", src,
		    sqlite3_errmsg(db));
		sqlite3_free(sql);
		return (-1);
	}
	sqlite3_free(sql);
	if (merge_known_tables(db, src, cause) == -1)
		goto out;
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		xasprintf(cause, "cannot write to the database merged into: "
		    "%s", sqlite3_errmsg(db));
		goto out;
	}
	if (merge_run_steps(db, src, flags, counts, cause) == -1 ||
	    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		if (*cause == NULL)
			xasprintf(cause, "merging %s: %s", src,
			    sqlite3_errmsg(db));
		(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		memset(counts, 0, LQ_MERGE_NCOUNTS * sizeof(*counts));
		goto out;
	}
	ret = 0;
out:
	(void)sqlite3_exec(db, "DROP TABLE IF EXISTS temp.m_host; "
	    "DROP TABLE IF EXISTS temp.m_port; "
	    "DROP TABLE IF EXISTS temp.m_cable; "
	    "DROP TABLE IF EXISTS temp.m_device; "
	    "DROP TABLE IF EXISTS temp.m_attach; "
	    "DROP TABLE IF EXISTS temp.m_run; "
	    "DROP TABLE IF EXISTS temp.new_runs; DETACH src", NULL, NULL,
	    NULL);
	return (ret);
}

int
lq_merge_file(sqlite3 *db, const char *into_path, const char *src,
    int flags, int64_t *counts, char **cause)
{
	sqlite3	*sdb;
	char	*copy = NULL;
	int	 version, ret;

	*cause = NULL;
	memset(counts, 0, LQ_MERGE_NCOUNTS * sizeof(*counts));
	if (merge_check_file(into_path, src, cause) == -1)
		return (-1);
	if ((sdb = merge_open_source(src, &version, cause)) == NULL)
		return (-1);
	if (version < lq_schema_latest() &&
	    (copy = merge_upgrade_copy(sdb, src, version, cause)) == NULL) {
		(void)sqlite3_close(sdb);
		return (-1);
	}
	(void)sqlite3_close(sdb);
	ret = merge_attached(db, copy != NULL ? copy : src, src, flags,
	    counts, cause);
	if (copy != NULL) {
		(void)unlink(copy);
		free(copy);
	}
	return (ret);
}

sqlite3 *
lq_merge_open_into(const char *path, char **cause)
{
	struct stat	 sb;
	sqlite3		*db = NULL;
	int		 rc, version;

	*cause = NULL;
	if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		xasprintf(cause, "%s is a directory: give the database file "
		    "to merge into (made if it does not exist)", path);
		return (NULL);
	}
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_URI, NULL);
	if (rc != SQLITE_OK) {
		xasprintf(cause, "cannot open or make %s: %s", path,
		    db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		goto fail;
	}
	(void)sqlite3_extended_result_codes(db, 1);
	(void)sqlite3_busy_timeout(db, MERGE_BUSY_MS);
	if (lq_schema_identity(db, path, &version, cause) == -1 ||
	    lq_schema_migrate(db, path, version, cause) == -1)
		goto fail;
	if (sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		xasprintf(cause, "%s: %s", path, sqlite3_errmsg(db));
		goto fail;
	}
	return (db);

fail:
	(void)sqlite3_close(db);
	return (NULL);
}
