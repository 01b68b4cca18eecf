/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * linkq runs [--cable C] [--port P] [--since S] [--verdict V] [--limit
 * N] [--db FILE]: every recorded run the filters select, newest first,
 * one line each with its port and cable (GET /v1/runs, which merges the
 * runs in linkqd's memory with the database's), or from a database file
 * read here with the same engine (lq-history.h).
 */

#include <ctype.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "compat/compat.h"
#include "client.h"
#include "http.h"
#include "linkq.h"
#include "lq-history.h"
#include "lq-table.h"
#include "lq-time.h"
#include "lq-verdict.h"
#include "xmalloc.h"

/* The columns of linkq runs, in order (lq-table.h). */
static const struct {
	const char	*head;
	int		 flags;
} runs_columns[] = {
	{ "RUN", LQ_TABLE_RIGHT }, { "PROFILE", LQ_TABLE_FLEX },
	{ "STATE", 0 }, { "VERDICT", 0 }, { "PCT", LQ_TABLE_RIGHT },
	{ "DEVICE", 0 }, { "ELAPSED", LQ_TABLE_RIGHT },
	{ "PROBES", LQ_TABLE_RIGHT }, { "FAILURES", LQ_TABLE_RIGHT },
	{ "PORT", LQ_TABLE_FLEX }, { "CABLE", LQ_TABLE_FLEX },
	{ "PORT-LABEL", LQ_TABLE_FLEX }
};

static void
runs_row(struct lq_table *t, json_t *r)
{
	json_t		*pct;
	const char	*verdict;
	char		 elapsed[32];

	lq_table_row(t);
	lq_table_cell(t, NULL, "%lld",
	    (long long)json_integer_value(json_object_get(r, "id")));
	lq_table_cell(t, NULL, "%s", client_str(r, "profile", "?"));
	lq_table_cell(t, NULL, "%s", client_str(r, "state", "?"));
	verdict = client_str(r, "verdict", "-");
	lq_table_cell(t, client_verdict_escape(verdict), "%s", verdict);
	pct = json_object_get(r, "percent");
	if (json_is_integer(pct))
		lq_table_cell(t, NULL, "%lld%%",
		    (long long)json_integer_value(pct));
	else
		lq_table_cell(t, NULL, "-");
	lq_table_cell(t, NULL, "%s",
	    client_udid_short(client_str(r, "udid", "-")));
	client_duration(json_integer_value(json_object_get(r, "elapsed_ms")),
	    elapsed, sizeof(elapsed));
	lq_table_cell(t, NULL, "%s", elapsed);
	lq_table_cell(t, NULL, "%lld",
	    (long long)json_integer_value(json_object_get(r, "probes")));
	lq_table_cell(t, NULL, "%lld",
	    (long long)json_integer_value(json_object_get(r, "failures")));
	lq_table_cell(t, NULL, "%s", client_str(r, "port", "-"));
	lq_table_cell(t, NULL, "%s", client_str(r, "cable", "-"));
	lq_table_cell(t, NULL, "%s", client_str(r, "port_label", "-"));
}

/* The runs as a table that fits the terminal, whole in a pipe. */
static void
runs_print(json_t *list)
{
	struct lq_table	*t = lq_table_new();
	json_t		*r;
	size_t		 i;

	for (i = 0; i < nitems(runs_columns); i++)
		lq_table_column(t, runs_columns[i].head,
		    runs_columns[i].flags);
	json_array_foreach(list, i, r)
		runs_row(t, r);
	lq_table_print(stdout, t, lq_term_width(STDOUT_FILENO));
	lq_table_free(t);
}

/* The runs f selects, from linkqd; 0 with *reply, or -1. */
static int
runs_daemon(const struct lq_history_filter *f, int64_t since,
    json_t **reply)
{
	char	*path, *q, *esc;
	int	 ret;

	(void)xasprintf(&path, "/v1/runs?limit=%u&since=%lld", f->limit,
	    (long long)since);
	if (f->verdict != NULL) {
		(void)xasprintf(&q, "%s&verdict=%s", path, f->verdict);
		free(path);
		path = q;
	}
	if (f->cable != NULL && (esc = http_escape(f->cable)) != NULL) {
		(void)xasprintf(&q, "%s&cable=%s", path, esc);
		free(esc);
		free(path);
		path = q;
	}
	if (f->port != NULL && (esc = http_escape(f->port)) != NULL) {
		(void)xasprintf(&q, "%s&port=%s", path, esc);
		free(esc);
		free(path);
		path = q;
	}
	ret = client_call("GET", path, NULL, reply);
	free(path);
	return (ret);
}

/* The runs f selects, from the database file; 0 with *reply, or -1. */
static int
runs_local(const char *file, const struct lq_history_filter *f,
    json_t **reply)
{
	sqlite3	*db;
	json_t	*list;
	char	*cause;

	if ((db = client_db_open(file)) == NULL)
		return (-1);
	list = json_array();
	if (lq_history_runs(db, f, list, &cause) == -1) {
		fprintf(stderr, "linkq: %s: %s\n", file, cause);
		free(cause);
		json_decref(list);
		sqlite3_close(db);
		return (-1);
	}
	sqlite3_close(db);
	*reply = json_pack("{s:o}", "runs", list);
	return (0);
}

/* --verdict in any case, as the store writes it; NULL if none. */
static const char *
runs_verdict(const char *arg)
{
	char	v[16];
	size_t	i;
	int	verdict;

	for (i = 0; arg[i] != '\0' && i < sizeof(v) - 1; i++)
		v[i] = (char)toupper((unsigned char)arg[i]);
	v[i] = '\0';
	if ((verdict = lq_verdict_from_name(v)) <= LQ_VERDICT_NONE)
		return (NULL);
	return (lq_verdict_name(verdict));
}

/* Parse the options into f, *since and *db; 0, or an exit status. */
static int
runs_options(int argc, char **argv, struct lq_history_filter *f,
    int64_t *since, const char **db)
{
	static const struct option longopts[] = {
		CLIENT_LONG_OPTIONS,
		{ "cable", required_argument, NULL, 'c' },
		{ "port", required_argument, NULL, 'p' },
		{ "since", required_argument, NULL, 'S' },
		{ "verdict", required_argument, NULL, 'v' },
		{ "limit", required_argument, NULL, 'n' },
		{ "db", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*errstr;
	int		 ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			f->cable = optarg;
			break;
		case 'p':
			f->port = optarg;
			break;
		case 'S':
			if ((*since = client_since(optarg, lq_wall_now_us() /
			    LQ_USEC_PER_SEC)) < 0) {
				fprintf(stderr, "linkq: --since takes a span "
				    "such as 7d, 24h or 30m, or a date such "
				    "as 2026-01-31\n");
				return (client_usage("runs"));
			}
			break;
		case 'v':
			if ((f->verdict = runs_verdict(optarg)) == NULL) {
				fprintf(stderr, "linkq: --verdict takes PASS, "
				    "MARGINAL or FAIL\n");
				return (client_usage("runs"));
			}
			break;
		case 'n':
			f->limit = strtonum(optarg, 1, LQ_HISTORY_LIMIT_MAX,
			    &errstr);
			if (errstr != NULL) {
				fprintf(stderr, "linkq: --limit takes a number "
				    "from 1 to %d\n", LQ_HISTORY_LIMIT_MAX);
				return (client_usage("runs"));
			}
			break;
		case 'd':
			*db = optarg;
			break;
		default:
			client_option("runs", ch);
		}
	}
	if (optind != argc)
		return (client_usage("runs"));
	return (0);
}

int
cmd_runs(int argc, char **argv)
{
	struct lq_history_filter	 f;
	json_t				*reply = NULL, *list;
	const char			*db = NULL;
	int64_t				 since = 0;
	int				 ret;

	memset(&f, 0, sizeof(f));
	f.limit = LQ_HISTORY_LIMIT;
	if ((ret = runs_options(argc, argv, &f, &since, &db)) != 0)
		return (ret);
	f.since_us = since * LQ_USEC_PER_SEC;
	if ((db != NULL ? runs_local(db, &f, &reply) :
	    runs_daemon(&f, since, &reply)) == -1)
		return (LQ_EXIT_USAGE);
	if (opt_json) {
		client_print_json(reply);
		goto out;
	}
	list = json_object_get(reply, "runs");
	if (json_array_size(list) == 0) {
		printf("%s\n", f.cable != NULL || f.port != NULL ||
		    f.verdict != NULL || since != 0 ?
		    "no recorded run matches" : "no runs recorded yet");
		goto out;
	}
	runs_print(list);
out:
	json_decref(reply);
	return (0);
}
