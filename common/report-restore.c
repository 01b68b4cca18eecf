/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Restores in the report (lq-report.h): the restore-watch runs that
 * linkq watch recorded, beside the qualification verdict of the same
 * cable and port, and what they blame (DESIGN.md, Blame):
 *
 *  - a restore that failed with link events on its port blames the
 *    link: the cable if the qualification blame already finds it bad,
 *    else the port if that is bad, else the two of them;
 *  - failures with a clean link at one failure point, on at least two
 *    cables and two ports, blame the phone: the same step, or the same
 *    percentage within RESTORE_PCT_TOLERANCE points where a step is
 *    missing on either side;
 *  - failures with a clean link that do not spread that far yet ask for
 *    another cable and port.
 *
 * A restore-watch run is never a qualification run: it earns no PASS
 * or FAIL of the link and no row of the report counts it.
 */

#include <sys/param.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "compat/compat.h"
#include "linkq.h"
#include "lq-report.h"
#include "lq-table.h"
#include "xmalloc.h"

/* Two failures this close in percent are at one point (no step known). */
#define RESTORE_PCT_TOLERANCE	2.0
/* A phone is blamed on at least this many cables and ports. */
#define RESTORE_MIN_CABLES	2
#define RESTORE_MIN_PORTS	2

static char *
col_text(sqlite3_stmt *st, int col)
{
	const unsigned char	*s = sqlite3_column_text(st, col);

	return (s != NULL ? xstrdup((const char *)s) : NULL);
}

int
lq_restore_load(sqlite3 *db, int64_t since, struct lq_report *rep,
    char **cause)
{
	static const char	*q =
	    "SELECT r.id, c.label, " LQ_REPORT_PORT_SQL(2) ", d.udid,"
	    " r.outcome,"
	    " coalesce(r.exit_status, -1), coalesce(r.exit_signal, 0),"
	    " r.percent, r.step, coalesce(r.link_events, 0), r.started_us,"
	    " (SELECT q.verdict FROM runs q JOIN attachments qa"
	    "  ON qa.id = q.attachment_id WHERE q.kind = 'qualify'"
	    "  AND q.verdict IS NOT NULL AND qa.port_id = a.port_id"
	    "  AND qa.cable_id IS a.cable_id AND q.started_us < r.started_us"
	    "  ORDER BY q.started_us DESC LIMIT 1)"
	    " FROM runs r JOIN attachments a ON a.id = r.attachment_id"
	    " JOIN ports p ON p.id = a.port_id"
	    " JOIN hosts h ON h.id = p.host_id"
	    " JOIN devices d ON d.id = a.device_id"
	    " LEFT JOIN cables c ON c.id = a.cable_id"
	    " WHERE r.kind = 'restore-watch' AND r.state = 'done'"
	    " AND r.outcome IS NOT NULL AND r.started_us >= ?1 ORDER BY r.id";
	struct lq_restore_row	*v = NULL, *r;
	sqlite3_stmt		*st = NULL;
	size_t			 n = 0, cap = 0;
	int			 rc;

	if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK) {
		xasprintf(cause, "report: restores: %s", sqlite3_errmsg(db));
		return (-1);
	}
	sqlite3_bind_int64(st, 1, since);
	sqlite3_bind_int(st, 2, rep->hosts > 1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		r = &v[n++];
		memset(r, 0, sizeof(*r));
		r->run = sqlite3_column_int64(st, 0);
		r->cable = col_text(st, 1);
		r->port = col_text(st, 2);
		r->udid = col_text(st, 3);
		r->outcome = col_text(st, 4);
		r->exit_status = sqlite3_column_int(st, 5);
		r->exit_signal = sqlite3_column_int(st, 6);
		r->percent = sqlite3_column_type(st, 7) == SQLITE_NULL ? NAN :
		    sqlite3_column_double(st, 7);
		r->step = col_text(st, 8);
		r->link_events = sqlite3_column_int64(st, 9);
		r->started_us = sqlite3_column_int64(st, 10);
		r->qualification = col_text(st, 11);
	}
	sqlite3_finalize(st);
	rep->restores = v;
	rep->nrestores = n;
	if (rc != SQLITE_DONE) {
		xasprintf(cause, "report: restores: %s", sqlite3_errmsg(db));
		return (-1);
	}
	return (0);
}

static int
restore_failed(const struct lq_restore_row *r)
{
	return (r->outcome != NULL && strcmp(r->outcome, "failed") == 0);
}

/* Whether two restores failed at one point. */
static int
restore_same_point(const struct lq_restore_row *a,
    const struct lq_restore_row *b)
{
	if (a->step != NULL && b->step != NULL)
		return (strcmp(a->step, b->step) == 0);
	return (!isnan(a->percent) && !isnan(b->percent) &&
	    fabs(a->percent - b->percent) <= RESTORE_PCT_TOLERANCE);
}

static int
bad_item(const struct lq_blame_item *v, size_t n, const char *name)
{
	size_t	i;

	for (i = 0; name != NULL && i < n; i++) {
		if (strcmp(v[i].name, name) == 0)
			return (v[i].state == LQ_BLAME_BAD);
	}
	return (0);
}

static void
rblame_add(struct lq_report *rep, const char *target, char *name,
    char *evidence)
{
	struct lq_restore_blame	*b;

	rep->rblame = xreallocarray(rep->rblame, rep->nrblame + 1,
	    sizeof(*rep->rblame));
	b = &rep->rblame[rep->nrblame++];
	b->target = xstrdup(target);
	b->name = name;
	b->evidence = evidence;
}

/*
 * Where r stopped, as words: "\"STEP\" at 40.0%", "40.0%", or that the
 * command printed neither.
 */
static void
restore_point(const struct lq_restore_row *r, char *buf, size_t len)
{
	char	pct[32] = "";

	if (!isnan(r->percent))
		(void)snprintf(pct, sizeof(pct), "%.1f%%", r->percent);
	if (r->step != NULL)
		(void)snprintf(buf, len, "\"%s\"%s%s", r->step,
		    pct[0] != '\0' ? " at " : "", pct);
	else if (pct[0] != '\0')
		(void)strlcpy(buf, pct, len);
	else
		(void)strlcpy(buf, "a point it did not print", len);
}

/* A failure with link events: the link, in the blame's own words. */
static void
restore_blame_link(struct lq_report *rep, const struct lq_restore_row *r)
{
	const struct lq_blame	*b = &rep->blame;
	const char		*cable = r->cable != NULL ? r->cable :
				    "an unlabelled cable";
	char			 point[192], *name, *ev;

	restore_point(r, point, sizeof(point));
	xasprintf(&name, "%s on %s", cable, r->port);
	if (bad_item(b->cables, b->ncables, r->cable))
		xasprintf(&ev, "restore run %lld failed at %s with %lld link "
		    "events: cable %s, which the qualification runs blame "
		    "too", (long long)r->run, point,
		    (long long)r->link_events, cable);
	else if (bad_item(b->ports, b->nports, r->port))
		xasprintf(&ev, "restore run %lld failed at %s with %lld link "
		    "events: port %s, which the qualification runs blame "
		    "too", (long long)r->run, point,
		    (long long)r->link_events, r->port);
	else
		xasprintf(&ev, "restore run %lld failed at %s with %lld link "
		    "events: the link, cable %s or port %s; swap one to tell",
		    (long long)r->run, point, (long long)r->link_events,
		    cable, r->port);
	rblame_add(rep, "link", name, ev);
}

/* Count the distinct names in v[0..n). */
static size_t
distinct(const char **v, size_t n)
{
	size_t	i, j, d = 0;

	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++) {
			if (strcmp(v[i], v[j]) == 0)
				break;
		}
		if (j == i)
			d++;
	}
	return (d);
}

/* The clean failures of one device at seed's point: its spread. */
static void
restore_cluster(const struct lq_report *rep, const struct lq_restore_row *s,
    size_t *nfail, size_t *ncables, size_t *nports)
{
	const struct lq_restore_row	*r;
	const char			**cables, **ports;
	size_t				 i, nc = 0, np = 0;

	cables = xcalloc(rep->nrestores + 1, sizeof(*cables));
	ports = xcalloc(rep->nrestores + 1, sizeof(*ports));
	*nfail = 0;
	for (i = 0; i < rep->nrestores; i++) {
		r = &rep->restores[i];
		if (!restore_failed(r) || r->link_events > 0 ||
		    strcmp(r->udid, s->udid) != 0 ||
		    !restore_same_point(r, s))
			continue;
		(*nfail)++;
		if (r->cable != NULL)
			cables[nc++] = r->cable;
		ports[np++] = r->port;
	}
	*ncables = distinct(cables, nc);
	*nports = distinct(ports, np);
	free(cables);
	free(ports);
}

/* A device's clean failures: the phone, or the next test to tell. */
static void
restore_blame_device(struct lq_report *rep, const char *udid)
{
	const struct lq_restore_row	*r, *best = NULL;
	size_t				 i, nf, nc, np, bf = 0, bc = 0, bp = 0;
	char				 point[192], *ev;

	for (i = 0; i < rep->nrestores; i++) {
		r = &rep->restores[i];
		if (!restore_failed(r) || r->link_events > 0 ||
		    strcmp(r->udid, udid) != 0)
			continue;
		restore_cluster(rep, r, &nf, &nc, &np);
		if (best == NULL || MIN(nc, np) > MIN(bc, bp) ||
		    (MIN(nc, np) == MIN(bc, bp) && nf > bf)) {
			best = r;
			bf = nf;
			bc = nc;
			bp = np;
		}
	}
	if (best == NULL)
		return;
	restore_point(best, point, sizeof(point));
	if (bc >= RESTORE_MIN_CABLES && bp >= RESTORE_MIN_PORTS) {
		xasprintf(&ev, "consistent failure point %s on %zu cables and "
		    "%zu ports with a clean link: phone hardware", point, bc,
		    bp);
		rblame_add(rep, "device", xstrdup(udid), ev);
		return;
	}
	xasprintf(&ev, "%zu restores failed at %s with a clean link on %zu "
	    "cables and %zu ports: try another cable and port (%d and %d "
	    "tell the phone)", bf, point, bc, bp, RESTORE_MIN_CABLES,
	    RESTORE_MIN_PORTS);
	rblame_add(rep, "next", xstrdup(udid), ev);
}

void
lq_restore_blame_build(struct lq_report *rep)
{
	const struct lq_restore_row	*r;
	size_t				 i, j;

	for (i = 0; i < rep->nrestores; i++) {
		r = &rep->restores[i];
		if (restore_failed(r) && r->link_events > 0)
			restore_blame_link(rep, r);
	}
	for (i = 0; i < rep->nrestores; i++) {
		for (j = 0; j < i; j++) {
			if (strcmp(rep->restores[j].udid,
			    rep->restores[i].udid) == 0)
				break;
		}
		if (j == i)
			restore_blame_device(rep, rep->restores[i].udid);
	}
}

static json_t *
jstr_or_null(const char *s)
{
	return (s != NULL ? json_string(s) : json_null());
}

void
lq_restore_to_json(const struct lq_report *rep, json_t *o)
{
	const struct lq_restore_row	*r;
	json_t				*list, *blame, *e;
	size_t				 i;

	list = json_array();
	for (i = 0; i < rep->nrestores; i++) {
		r = &rep->restores[i];
		e = json_object();
		(void)json_object_set_new(e, "run", json_integer(r->run));
		(void)json_object_set_new(e, "cable", jstr_or_null(r->cable));
		(void)json_object_set_new(e, "port", jstr_or_null(r->port));
		(void)json_object_set_new(e, "udid", jstr_or_null(r->udid));
		(void)json_object_set_new(e, "outcome",
		    jstr_or_null(r->outcome));
		(void)json_object_set_new(e, "exit_status",
		    r->exit_status >= 0 ? json_integer(r->exit_status) :
		    json_null());
		(void)json_object_set_new(e, "exit_signal",
		    json_integer(r->exit_signal));
		(void)json_object_set_new(e, "percent", isnan(r->percent) ?
		    json_null() : json_real(r->percent));
		(void)json_object_set_new(e, "step", jstr_or_null(r->step));
		(void)json_object_set_new(e, "link_events",
		    json_integer(r->link_events));
		(void)json_object_set_new(e, "started_us",
		    json_integer(r->started_us));
		(void)json_object_set_new(e, "qualification",
		    jstr_or_null(r->qualification));
		(void)json_array_append_new(list, e);
	}
	(void)json_object_set_new(o, "restores", list);
	blame = json_array();
	for (i = 0; i < rep->nrblame; i++)
		(void)json_array_append_new(blame, json_pack("{s:s, s:s, s:s}",
		    "target", rep->rblame[i].target, "name",
		    rep->rblame[i].name, "evidence", rep->rblame[i].evidence));
	if ((e = json_object_get(o, "blame")) != NULL)
		(void)json_object_set_new(e, "restores", blame);
	else
		json_decref(blame);
}

static char *
jdup(json_t *o, const char *key)
{
	const char	*s = json_string_value(json_object_get(o, key));

	return (s != NULL ? xstrdup(s) : NULL);
}

void
lq_restore_from_json(json_t *o, struct lq_report *rep)
{
	json_t			*list, *e, *v;
	struct lq_restore_row	*r;
	size_t			 i;

	list = json_object_get(o, "restores");
	rep->nrestores = json_array_size(list);
	rep->restores = xcalloc(rep->nrestores + 1, sizeof(*rep->restores));
	json_array_foreach(list, i, e) {
		r = &rep->restores[i];
		r->run = json_integer_value(json_object_get(e, "run"));
		r->cable = jdup(e, "cable");
		r->port = jdup(e, "port");
		r->udid = jdup(e, "udid");
		r->outcome = jdup(e, "outcome");
		v = json_object_get(e, "exit_status");
		r->exit_status = json_is_integer(v) ?
		    (int)json_integer_value(v) : -1;
		r->exit_signal = (int)json_integer_value(json_object_get(e,
		    "exit_signal"));
		v = json_object_get(e, "percent");
		r->percent = json_is_number(v) ? json_number_value(v) : NAN;
		r->step = jdup(e, "step");
		r->link_events = json_integer_value(json_object_get(e,
		    "link_events"));
		r->started_us = json_integer_value(json_object_get(e,
		    "started_us"));
		r->qualification = jdup(e, "qualification");
	}
	list = json_object_get(json_object_get(o, "blame"), "restores");
	json_array_foreach(list, i, e) {
		rblame_add(rep, json_string_value(json_object_get(e,
		    "target")) != NULL ? json_string_value(json_object_get(e,
		    "target")) : "?", jdup(e, "name"), jdup(e, "evidence"));
		if (rep->rblame[rep->nrblame - 1].name == NULL)
			rep->rblame[rep->nrblame - 1].name = xstrdup("?");
		if (rep->rblame[rep->nrblame - 1].evidence == NULL)
			rep->rblame[rep->nrblame - 1].evidence = xstrdup("");
	}
}

/* One restore as a row: where it ran, how it ended, and where it stopped. */
static void
restore_row(struct lq_table *t, const struct lq_restore_row *r)
{
	char	point[192];

	lq_table_row(t);
	lq_table_cell(t, NULL, "%s", "");
	lq_table_cell(t, NULL, "%lld", (long long)r->run);
	lq_table_cell(t, NULL, "%s", r->cable != NULL ? r->cable : "-");
	lq_table_cell(t, NULL, "%s", r->port);
	lq_table_cell(t, NULL, "%s",
	    strcmp(r->outcome, "ok") == 0 ? "OK" : "FAILED");
	if (r->exit_status >= 0)
		lq_table_cell(t, NULL, "%d", r->exit_status);
	else
		lq_table_cell(t, NULL, "signal %d", r->exit_signal);
	lq_table_cell(t, NULL, "%lld", (long long)r->link_events);
	lq_table_cell(t, NULL, "%s",
	    r->qualification != NULL ? r->qualification : "never");
	if (restore_failed(r)) {
		restore_point(r, point, sizeof(point));
		lq_table_cell(t, NULL, "%s", point);
	} else
		lq_table_cell(t, NULL, "%s", "-");
}

/*
 * The restores as a table fitted to width (0: each row one line), then
 * what they blame, each a wrapped line.
 */
void
lq_restore_print(FILE *f, const struct lq_report *rep, size_t width)
{
	struct lq_table	*t;
	char		*line;
	size_t		 i;

	if (rep->nrestores == 0 && rep->nrblame == 0)
		return;
	fputc('\n', f);
	lq_text_wrap(f, 0, "Restores (linkq watch), beside the qualification "
	    "before each:", width);
	if (rep->nrestores > 0) {
		t = lq_table_new();
		/* The empty first column indents by its gap. */
		lq_table_column(t, "", 0);
		lq_table_column(t, "RUN", LQ_TABLE_RIGHT);
		lq_table_column(t, "CABLE", LQ_TABLE_FLEX);
		lq_table_column(t, "PORT", LQ_TABLE_FLEX);
		lq_table_column(t, "RESTORE", 0);
		lq_table_column(t, "EXIT", 0);
		lq_table_column(t, "LINK EVENTS", LQ_TABLE_RIGHT);
		lq_table_column(t, "QUALIFIED", 0);
		lq_table_column(t, "STOPPED AT", LQ_TABLE_FLEX);
		for (i = 0; i < rep->nrestores; i++)
			restore_row(t, &rep->restores[i]);
		lq_table_print(f, t, width);
		lq_table_free(t);
	}
	for (i = 0; i < rep->nrblame; i++) {
		(void)xasprintf(&line, "blame %s %s: %s", rep->rblame[i].target,
		    rep->rblame[i].name, rep->rblame[i].evidence);
		lq_text_wrap(f, 2, line, width);
		free(line);
	}
}

void
lq_restore_free(struct lq_report *rep)
{
	size_t	i;

	for (i = 0; i < rep->nrestores; i++) {
		free(rep->restores[i].cable);
		free(rep->restores[i].port);
		free(rep->restores[i].udid);
		free(rep->restores[i].outcome);
		free(rep->restores[i].step);
		free(rep->restores[i].qualification);
	}
	free(rep->restores);
	for (i = 0; i < rep->nrblame; i++) {
		free(rep->rblame[i].target);
		free(rep->rblame[i].name);
		free(rep->rblame[i].evidence);
	}
	free(rep->rblame);
	rep->restores = NULL;
	rep->rblame = NULL;
	rep->nrestores = rep->nrblame = 0;
}
