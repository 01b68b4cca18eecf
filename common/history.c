/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The history of runs and events from the store (contract in
 * include/lq-history.h).
 */

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "compat/compat.h"
#include "lq-history.h"
#include "lq-verdict.h"
#include "xmalloc.h"

/* The oldest schema with runs.kind and the restore columns (0008). */
#define HISTORY_SCHEMA_MIN	8

/* A run with where it ran: the columns row_run reads. */
#define Q_RUNS_FROM \
    "SELECT r.id, r.kind, r.profile, r.state, r.verdict, r.reasons," \
    " r.started_us, r.ended_us, r.total_probes, r.total_failures," \
    " r.total_bytes, r.total_bulk_bytes, r.total_bulk_us," \
    " r.attachment_id, d.udid, p.path, p.label, c.label, h.hostname," \
    " r.outcome, r.exit_status, r.exit_signal, r.percent, r.step," \
    " r.command, r.link_events " \
    "FROM runs r JOIN attachments a ON a.id = r.attachment_id" \
    " JOIN devices d ON d.id = a.device_id" \
    " JOIN ports p ON p.id = a.port_id" \
    " JOIN hosts h ON h.id = p.host_id" \
    " LEFT JOIN cables c ON c.id = a.cable_id "

/*
 * The runs a filter selects: ?1 cable label, ?2 port path or label, ?3
 * started at or after, ?4 verdict, ?5 limit. Newest first by id: the
 * primary key, walked backwards, stopping at the limit.
 */
static const char *const q_runs = Q_RUNS_FROM
    "WHERE (?1 IS NULL OR c.label = ?1)"
    " AND (?2 IS NULL OR p.path = ?2 OR p.label = ?2)"
    " AND r.started_us >= ?3 AND (?4 IS NULL OR r.verdict = ?4) "
    "ORDER BY r.id DESC LIMIT ?5";

/*
 * With a verdict (and no cable): newest first along runs_verdict (schema
 * 0009), so that a rare verdict is found without a walk of every run.
 */
static const char *const q_runs_verdict = Q_RUNS_FROM
    "WHERE r.verdict = ?4 AND (?1 IS NULL OR c.label = ?1)"
    " AND (?2 IS NULL OR p.path = ?2 OR p.label = ?2)"
    " AND r.started_us >= ?3 "
    "ORDER BY r.id DESC LIMIT ?5";

/*
 * With a cable: its attachments (attachments_cable), their runs
 * (runs_attachment), the newest ids of those chosen first; then only
 * these are joined. A cable with few runs no longer walks them all.
 */
static const char *const q_runs_cable = Q_RUNS_FROM
    "WHERE r.id IN (SELECT r2.id FROM cables c2"
    " CROSS JOIN attachments a2 CROSS JOIN runs r2"
    " JOIN ports p2 ON p2.id = a2.port_id"
    " WHERE c2.label = ?1 AND a2.cable_id = c2.id"
    " AND r2.attachment_id = a2.id"
    " AND (?2 IS NULL OR p2.path = ?2 OR p2.label = ?2)"
    " AND r2.started_us >= ?3 AND (?4 IS NULL OR r2.verdict = ?4)"
    " ORDER BY r2.id DESC LIMIT ?5) "
    "ORDER BY r.id DESC";

/* One run by id (?1): by its primary key, not a walk of the runs. */
static const char *const q_run = Q_RUNS_FROM "WHERE r.id = ?1";

/*
 * The events after ?1, at most ?2, (of run ?3,) with the port of the
 * event, else of its attachment, and the attachment's cable. Two
 * statements: an "?3 = 0 OR" would keep the run's index unused.
 */
#define Q_EVENTS_FROM \
    "SELECT e.id, e.ts_us, e.source, e.kind, e.port_id," \
    " e.attachment_id, e.run_id, e.errno, e.detail, p.path, p.label," \
    " c.label " \
    "FROM events e LEFT JOIN attachments a ON a.id = e.attachment_id" \
    " LEFT JOIN ports p ON p.id = coalesce(e.port_id, a.port_id)" \
    " LEFT JOIN cables c ON c.id = a.cable_id "
static const char *const q_events = Q_EVENTS_FROM
    "WHERE e.id > ?1 ORDER BY e.id LIMIT ?2";
static const char *const q_events_run = Q_EVENTS_FROM
    "WHERE e.id > ?1 AND e.run_id = ?3 ORDER BY e.id LIMIT ?2";

/* A run's probes after ?2, at most ?3, with kinds and statuses named. */
static const char *const q_probes =
    "SELECT p.id, k.name, p.ts_us, p.latency_us, p.bytes, p.status,"
    " s.name, p.detail "
    "FROM probes p JOIN probe_kinds k ON k.id = p.kind"
    " LEFT JOIN statuses s ON s.code = p.status "
    "WHERE p.run_id = ?1 AND p.id > ?2 ORDER BY p.id LIMIT ?3";

/* The device of run ?1. */
static const char *const q_device =
    "SELECT d.udid, d.usb_serial, d.name, d.product_type, d.ios_version "
    "FROM runs r JOIN attachments a ON a.id = r.attachment_id"
    " JOIN devices d ON d.id = a.device_id WHERE r.id = ?1";

static int
history_fail(sqlite3 *db, const char *what, char **cause)
{
	(void)xasprintf(cause, "history: %s: %s", what, sqlite3_errmsg(db));
	return (-1);
}

/* A database older than the history's columns says so, not "no such". */
static int
history_schema(sqlite3 *db, char **cause)
{
	sqlite3_stmt	*st;
	int		 v = 0;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st,
	    NULL) != SQLITE_OK)
		return (history_fail(db, "schema version", cause));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (v >= HISTORY_SCHEMA_MIN)
		return (0);
	(void)xasprintf(cause, "the database has schema version %d, older "
	    "than the history needs (%d): open it once with this linkqd to "
	    "migrate it", v, HISTORY_SCHEMA_MIN);
	return (-1);
}

/* Column i as a JSON string, or null. */
static json_t *
col_str(sqlite3_stmt *st, int i)
{
	const unsigned char	*s;

	if ((s = sqlite3_column_text(st, i)) == NULL)
		return (json_null());
	return (json_string((const char *)s));
}

/* Column i as a JSON integer, or null. */
static json_t *
col_int(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return (json_null());
	return (json_integer(sqlite3_column_int64(st, i)));
}

/* The stored reasons (a JSON array as text), or an empty array. */
static json_t *
col_reasons(sqlite3_stmt *st, int i)
{
	const unsigned char	*s;
	json_t			*a;

	if ((s = sqlite3_column_text(st, i)) == NULL ||
	    (a = json_loads((const char *)s, 0, NULL)) == NULL)
		return (json_array());
	if (!json_is_array(a)) {
		json_decref(a);
		return (json_array());
	}
	return (a);
}

/*
 * The 95% upper bound of the failure rate, as run_json gives it; null
 * for totals that make none (more failures than probes).
 */
static json_t *
col_cp_upper(int64_t probes, int64_t failures)
{
	double	cp;

	if (probes < 0 || failures < 0)
		return (json_null());
	cp = lq_cp_upper((uint64_t)probes, (uint64_t)failures, 0.05);
	return (isfinite(cp) ? json_real(cp) : json_null());
}

/* The restore-watch fields of a stored run of that kind. */
static void
row_watch(sqlite3_stmt *st, json_t *o)
{
	(void)json_object_set_new(o, "outcome", col_str(st, 19));
	(void)json_object_set_new(o, "exit_status", col_int(st, 20));
	(void)json_object_set_new(o, "exit_signal", col_int(st, 21));
	(void)json_object_set_new(o, "percent",
	    sqlite3_column_type(st, 22) == SQLITE_NULL ? json_null() :
	    json_real(sqlite3_column_double(st, 22)));
	(void)json_object_set_new(o, "step", col_str(st, 23));
	(void)json_object_set_new(o, "command", col_str(st, 24));
	(void)json_object_set_new(o, "link_events", col_int(st, 25));
}

/* One row of q_runs as a run object. */
static json_t *
row_run(sqlite3_stmt *st)
{
	json_t		*o;
	int64_t		 started, ended, probes, failures, bulk_us;
	const char	*kind;

	started = sqlite3_column_int64(st, 6);
	ended = sqlite3_column_type(st, 7) == SQLITE_NULL ? started :
	    sqlite3_column_int64(st, 7);
	probes = sqlite3_column_int64(st, 8);
	failures = sqlite3_column_int64(st, 9);
	bulk_us = sqlite3_column_int64(st, 12);
	kind = (const char *)sqlite3_column_text(st, 1);
	o = json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:I, s:o, s:I, s:I, "
	    "s:I, s:I, s:I, s:f, s:o, s:o, s:o, s:o, s:o, s:o}",
	    "id", (json_int_t)sqlite3_column_int64(st, 0),
	    "kind", col_str(st, 1),
	    "profile", col_str(st, 2),
	    "state", col_str(st, 3),
	    "verdict", col_str(st, 4),
	    "reasons", col_reasons(st, 5),
	    "started_us", (json_int_t)started,
	    "ended_us", col_int(st, 7),
	    "elapsed_ms", (json_int_t)((ended - started) / 1000),
	    "probes", (json_int_t)probes,
	    "failures", (json_int_t)failures,
	    "bytes", (json_int_t)sqlite3_column_int64(st, 10),
	    "bulk_bytes", (json_int_t)sqlite3_column_int64(st, 11),
	    "mb_s", bulk_us > 0 ? (double)sqlite3_column_int64(st, 11) /
	    (double)bulk_us : 0.0,
	    "cp_upper", col_cp_upper(probes, failures),
	    "attachment_id", col_int(st, 13),
	    "udid", col_str(st, 14),
	    "port", col_str(st, 15),
	    "port_label", col_str(st, 16),
	    "cable", col_str(st, 17));
	if (o == NULL)
		return (NULL);
	(void)json_object_set_new(o, "host", col_str(st, 18));
	(void)json_object_set_new(o, "recorded", json_true());
	if (kind != NULL && strcmp(kind, "restore-watch") == 0)
		row_watch(st, o);
	else
		(void)json_object_set_new(o, "percent", json_null());
	return (o);
}

/* Bind the filter to q_runs and its kin, or the run id to q_run. */
static int
bind_runs(sqlite3_stmt *st, const struct lq_history_filter *f, int64_t id)
{
	unsigned int	limit = LQ_HISTORY_LIMIT;

	if (id != 0)
		return (sqlite3_bind_int64(st, 1, id) == SQLITE_OK ? 0 : -1);
	if (f->limit > 0)
		limit = f->limit < LQ_HISTORY_LIMIT_MAX ? f->limit :
		    LQ_HISTORY_LIMIT_MAX;
	if ((f->cable != NULL &&
	    sqlite3_bind_text(st, 1, f->cable, -1, SQLITE_STATIC) !=
	    SQLITE_OK) ||
	    (f->port != NULL &&
	    sqlite3_bind_text(st, 2, f->port, -1, SQLITE_STATIC) !=
	    SQLITE_OK) ||
	    sqlite3_bind_int64(st, 3, f->since_us) != SQLITE_OK ||
	    (f->verdict != NULL &&
	    sqlite3_bind_text(st, 4, f->verdict, -1, SQLITE_STATIC) !=
	    SQLITE_OK) ||
	    sqlite3_bind_int64(st, 5, limit) != SQLITE_OK)
		return (-1);
	return (0);
}

/* The runs the filter selects, appended to list. */
static int
history_select(sqlite3 *db, const struct lq_history_filter *f, int64_t id,
    json_t *list, char **cause)
{
	sqlite3_stmt	*st;
	json_t		*o;
	int		 rc;

	if (history_schema(db, cause) == -1)
		return (-1);
	if (sqlite3_prepare_v2(db, id != 0 ? q_run : f->cable != NULL ?
	    q_runs_cable : f->verdict != NULL ? q_runs_verdict : q_runs, -1,
	    &st, NULL) != SQLITE_OK)
		return (history_fail(db, "runs", cause));
	if (bind_runs(st, f, id) == -1) {
		sqlite3_finalize(st);
		return (history_fail(db, "runs", cause));
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((o = row_run(st)) != NULL)
			(void)json_array_append_new(list, o);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return (history_fail(db, "runs", cause));
	return (0);
}

int
lq_history_runs(sqlite3 *db, const struct lq_history_filter *f,
    json_t *list, char **cause)
{
	return (history_select(db, f, 0, list, cause));
}

int
lq_history_run(sqlite3 *db, int64_t id, json_t **run, char **cause)
{
	json_t	*list;

	*run = NULL;
	list = json_array();
	if (history_select(db, NULL, id, list, cause) == -1) {
		json_decref(list);
		return (-1);
	}
	if (json_array_size(list) > 0)
		*run = json_incref(json_array_get(list, 0));
	json_decref(list);
	return (*run != NULL);
}

/* One row of q_events as an event object; ids and NULLs left out. */
static json_t *
row_event(sqlite3_stmt *st)
{
	static const struct {
		int		 col;
		const char	*key;
	} opt[] = {
		{ 4, "port_id" }, { 5, "attachment_id" }, { 6, "run_id" },
		{ 7, "errno" }, { 8, "detail" }, { 9, "port" },
		{ 10, "port_label" }, { 11, "cable" },
	};
	json_t	*o, *v;
	size_t	 i;

	o = json_pack("{s:I, s:I, s:o, s:o}",
	    "id", (json_int_t)sqlite3_column_int64(st, 0),
	    "ts_us", (json_int_t)sqlite3_column_int64(st, 1),
	    "source", col_str(st, 2), "kind", col_str(st, 3));
	for (i = 0; o != NULL && i < nitems(opt); i++) {
		if (sqlite3_column_type(st, opt[i].col) == SQLITE_NULL)
			continue;
		if (sqlite3_column_type(st, opt[i].col) == SQLITE_INTEGER)
			v = col_int(st, opt[i].col);
		else
			v = col_str(st, opt[i].col);
		(void)json_object_set_new(o, opt[i].key, v);
	}
	return (o);
}

int
lq_history_events(sqlite3 *db, int64_t since, unsigned int limit,
    int64_t run, json_t *list, char **cause)
{
	sqlite3_stmt	*st;
	json_t		*o;
	int		 rc;

	if (sqlite3_prepare_v2(db, run != 0 ? q_events_run : q_events, -1,
	    &st, NULL) != SQLITE_OK)
		return (history_fail(db, "events", cause));
	if (sqlite3_bind_int64(st, 1, since) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, limit) != SQLITE_OK ||
	    (run != 0 && sqlite3_bind_int64(st, 3, run) != SQLITE_OK)) {
		sqlite3_finalize(st);
		return (history_fail(db, "events", cause));
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((o = row_event(st)) != NULL)
			(void)json_array_append_new(list, o);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return (history_fail(db, "events", cause));
	return (0);
}

/* Whether o's string field key is s. */
static int
field_is(json_t *o, const char *key, const char *s)
{
	const char	*v;

	return ((v = json_string_value(json_object_get(o, key))) != NULL &&
	    strcmp(v, s) == 0);
}

int
lq_history_match(const struct lq_history_filter *f, json_t *run)
{
	if (f->cable != NULL && !field_is(run, "cable", f->cable))
		return (0);
	if (f->port != NULL && !field_is(run, "port", f->port) &&
	    !field_is(run, "port_label", f->port))
		return (0);
	if (f->verdict != NULL && !field_is(run, "verdict", f->verdict))
		return (0);
	return (json_integer_value(json_object_get(run, "started_us")) >=
	    f->since_us);
}

/* Newest first. */
static int
cmp_id_desc(const void *a, const void *b)
{
	json_int_t	x, y;

	x = json_integer_value(json_object_get(*(json_t *const *)a, "id"));
	y = json_integer_value(json_object_get(*(json_t *const *)b, "id"));
	return (x < y ? 1 : x > y ? -1 : 0);
}

/* Whether list holds a run with this id. */
static int
has_id(json_t *list, json_int_t id)
{
	json_t	*r;
	size_t	 i;

	json_array_foreach(list, i, r) {
		if (json_integer_value(json_object_get(r, "id")) == id)
			return (1);
	}
	return (0);
}

void
lq_history_merge(const struct lq_history_filter *f, json_t *live,
    json_t *stored)
{
	json_t		**v, *r;
	size_t		 i, n = 0, limit;

	limit = f->limit > 0 ? f->limit : LQ_HISTORY_LIMIT;
	v = xcalloc(json_array_size(live) + json_array_size(stored) + 1,
	    sizeof(*v));
	json_array_foreach(live, i, r) {
		if (lq_history_match(f, r))
			v[n++] = json_incref(r);
	}
	json_array_foreach(stored, i, r) {
		if (!has_id(live, json_integer_value(json_object_get(r,
		    "id"))))
			v[n++] = json_incref(r);
	}
	json_decref(stored);
	qsort(v, n, sizeof(*v), cmp_id_desc);
	(void)json_array_clear(live);
	for (i = 0; i < n; i++) {
		if (i < limit)
			(void)json_array_append(live, v[i]);
		json_decref(v[i]);
	}
	free(v);
}

/* One row of q_probes; a status without a name keeps its number. */
static json_t *
row_probe(sqlite3_stmt *st)
{
	json_t	*o;

	o = json_pack("{s:I, s:o, s:I, s:I, s:I, s:I}",
	    "id", (json_int_t)sqlite3_column_int64(st, 0),
	    "kind", col_str(st, 1),
	    "ts_us", (json_int_t)sqlite3_column_int64(st, 2),
	    "latency_us", (json_int_t)sqlite3_column_int64(st, 3),
	    "bytes", (json_int_t)sqlite3_column_int64(st, 4),
	    "status_code", (json_int_t)sqlite3_column_int64(st, 5));
	if (o == NULL)
		return (NULL);
	(void)json_object_set_new(o, "status", col_str(st, 6));
	(void)json_object_set_new(o, "detail", col_str(st, 7));
	return (o);
}

int
lq_history_probes(sqlite3 *db, int64_t run, int64_t after,
    unsigned int limit, json_t *list, char **cause)
{
	sqlite3_stmt	*st;
	json_t		*o;
	int		 rc;

	if (sqlite3_prepare_v2(db, q_probes, -1, &st, NULL) != SQLITE_OK)
		return (history_fail(db, "probes", cause));
	if (sqlite3_bind_int64(st, 1, run) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, after) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, limit) != SQLITE_OK) {
		sqlite3_finalize(st);
		return (history_fail(db, "probes", cause));
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((o = row_probe(st)) != NULL)
			(void)json_array_append_new(list, o);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return (history_fail(db, "probes", cause));
	return (0);
}

int
lq_history_device(sqlite3 *db, int64_t run, json_t **dev, char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	*dev = NULL;
	if (sqlite3_prepare_v2(db, q_device, -1, &st, NULL) != SQLITE_OK)
		return (history_fail(db, "device", cause));
	if (sqlite3_bind_int64(st, 1, run) != SQLITE_OK) {
		sqlite3_finalize(st);
		return (history_fail(db, "device", cause));
	}
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*dev = json_pack("{s:o, s:o, s:o, s:o, s:o}",
		    "udid", col_str(st, 0), "usb_serial", col_str(st, 1),
		    "name", col_str(st, 2), "product_type", col_str(st, 3),
		    "ios_version", col_str(st, 4));
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return (history_fail(db, "device", cause));
	return (*dev != NULL);
}
