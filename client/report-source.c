/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The runs and timelines of the HTML report (report-html.h): from a
 * database through the history's SQL (common/history*.c), or from
 * linkqd, which runs the same SQL. Either way the writer gets the same
 * JSON.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "compat/compat.h"
#include "client.h"
#include "http.h"
#include "lq-history.h"
#include "lq-time.h"
#include "report-html.h"
#include "xmalloc.h"

/* Runs fetched per cell, to keep REPORT_HTML_RUNS after the filter. */
#define SOURCE_FETCH	LQ_HISTORY_LIMIT

/*
 * Keep of list the runs the report counts (ended qualification runs)
 * that have cable (NULL: none), at most limit; takes list's reference.
 */
static json_t *
source_keep(json_t *list, const char *cable, unsigned int limit)
{
	json_t		*out = json_array(), *r;
	const char	*c, *kind, *state;
	size_t		 i;

	json_array_foreach(list, i, r) {
		if (json_array_size(out) >= limit)
			break;
		kind = client_str(r, "kind", "qualify");
		state = client_str(r, "state", "");
		c = client_str(r, "cable", NULL);
		if (strcmp(kind, "qualify") != 0 ||
		    strcmp(state, "running") == 0)
			continue;
		if (cable == NULL ? c != NULL : c == NULL ||
		    strcmp(c, cable) != 0)
			continue;
		(void)json_array_append(out, r);
	}
	json_decref(list);
	return (out);
}

static json_t *
db_runs(void *arg, const char *cable, const char *port, int64_t since_us,
    unsigned int limit, char **cause)
{
	struct lq_history_filter	 f;
	json_t				*list = json_array();

	memset(&f, 0, sizeof(f));
	f.cable = cable;
	f.port = port;
	f.since_us = since_us;
	f.limit = SOURCE_FETCH;
	if (lq_history_runs(arg, &f, list, cause) == -1) {
		json_decref(list);
		return (NULL);
	}
	return (source_keep(list, cable, limit));
}

static json_t *
db_timeline(void *arg, int64_t run, char **cause)
{
	json_t	*t;
	int	 rc;

	if ((rc = lq_history_timeline(arg, run, &t, cause)) == 1)
		return (t);
	if (rc == 0)
		(void)xasprintf(cause, "run %lld is not in the database",
		    (long long)run);
	return (NULL);
}

void
report_html_source_db(struct report_html_source *src, struct sqlite3 *db)
{
	src->runs = db_runs;
	src->timeline = db_timeline;
	src->arg = db;
}

/* GET path from linkqd: the reply, or NULL with *cause. */
static json_t *
daemon_get(const char *path, char **cause)
{
	json_t	*reply;
	long	 code;

	if (http_json("GET", path, NULL, &code, &reply) == -1) {
		*cause = xstrdup("linkqd did not answer");
		return (NULL);
	}
	if (code == 200)
		return (reply);
	*cause = xstrdup(http_error_message(reply, code));
	json_decref(reply);
	return (NULL);
}

static json_t *
daemon_runs(void *arg, const char *cable, const char *port,
    int64_t since_us, unsigned int limit, char **cause)
{
	json_t	*reply, *list;
	char	*path, *c = NULL, *p;

	(void)arg;
	p = http_escape(port);
	if (cable != NULL)
		c = http_escape(cable);
	(void)xasprintf(&path, "/v1/runs?port=%s%s%s&since=%lld&limit=%d",
	    p, c != NULL ? "&cable=" : "", c != NULL ? c : "",
	    (long long)(since_us / LQ_USEC_PER_SEC), SOURCE_FETCH);
	free(p);
	free(c);
	reply = daemon_get(path, cause);
	free(path);
	if (reply == NULL)
		return (NULL);
	list = json_incref(json_object_get(reply, "runs"));
	json_decref(reply);
	if (!json_is_array(list)) {
		json_decref(list);
		*cause = xstrdup("linkqd's list of runs has no \"runs\"");
		return (NULL);
	}
	return (source_keep(list, cable, limit));
}

static json_t *
daemon_timeline(void *arg, int64_t run, char **cause)
{
	json_t	*reply;
	char	*path;

	(void)arg;
	(void)xasprintf(&path, "/v1/runs/%lld/timeline", (long long)run);
	reply = daemon_get(path, cause);
	free(path);
	return (reply);
}

void
report_html_source_daemon(struct report_html_source *src)
{
	src->runs = daemon_runs;
	src->timeline = daemon_timeline;
	src->arg = NULL;
}
