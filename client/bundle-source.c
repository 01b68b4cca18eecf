/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * What a bundle holds, read through linkqd's API or, with --db, from a
 * database file with the same SQL (lq-history.h, lq-report.h), so both
 * give the same bundle (contract in bundle.h).
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "compat/compat.h"
#include "bundle.h"
#include "bundle-ids.h"
#include "client.h"
#include "http.h"
#include "lq-history.h"
#include "lq-report.h"
#include "xmalloc.h"

/* Rows a page of events or probes asks linkqd for. */
#define SOURCE_PAGE	10000

static int
source_db_fail(struct bundle *b, char *cause)
{
	fprintf(stderr, "linkq: %s: %s\n", b->db_file, cause);
	free(cause);
	return (-1);
}

/* GET path with the query of the selection; the runs into *list. */
static int
source_runs_daemon(struct bundle *b, json_t **list)
{
	json_t	*reply;
	char	*path, *esc;
	int	 ret;

	if (b->sel.run != 0) {
		(void)xasprintf(&path, "/v1/runs/%lld",
		    (long long)b->sel.run);
		ret = client_call("GET", path, NULL, &reply);
		free(path);
		if (ret == -1)
			return (-1);
		*list = json_pack("[o]", reply);
		return (0);
	}
	esc = http_escape(b->sel.cable != NULL ? b->sel.cable : b->sel.port);
	if (esc == NULL)
		return (-1);
	(void)xasprintf(&path, "/v1/runs?limit=%d&%s=%s", LQ_HISTORY_LIMIT_MAX,
	    b->sel.cable != NULL ? "cable" : "port", esc);
	free(esc);
	ret = client_call("GET", path, NULL, &reply);
	free(path);
	if (ret == -1)
		return (-1);
	*list = json_incref(json_object_get(reply, "runs"));
	json_decref(reply);
	return (*list != NULL ? 0 : -1);
}

static int
source_runs_db(struct bundle *b, json_t **list)
{
	struct lq_history_filter	 f;
	json_t				*run;
	char				*cause;
	int				 found;

	if (b->sel.run != 0) {
		if ((found = lq_history_run(b->db, b->sel.run, &run,
		    &cause)) == -1)
			return (source_db_fail(b, cause));
		if (found == 0) {
			fprintf(stderr, "linkq: run %lld was never recorded: "
			    "linkq runs --db %s lists the runs there are\n",
			    (long long)b->sel.run, b->db_file);
			return (-1);
		}
		*list = json_pack("[o]", run);
		return (0);
	}
	memset(&f, 0, sizeof(f));
	f.cable = b->sel.cable;
	f.port = b->sel.port;
	f.limit = LQ_HISTORY_LIMIT_MAX;
	*list = json_array();
	if (lq_history_runs(b->db, &f, *list, &cause) == -1) {
		json_decref(*list);
		return (source_db_fail(b, cause));
	}
	return (0);
}

int
bundle_select_runs(struct bundle *b)
{
	json_t	*list = NULL;
	size_t	 i, n;

	if ((b->db != NULL ? source_runs_db(b, &list) :
	    source_runs_daemon(b, &list)) == -1)
		return (-1);
	if ((n = json_array_size(list)) == 0) {
		fprintf(stderr, "linkq: no run was recorded %s %s: linkq runs "
		    "lists the runs there are, with their ports and cables\n",
		    b->sel.cable != NULL ? "with cable" : "on port",
		    b->sel.cable != NULL ? b->sel.cable : b->sel.port);
		json_decref(list);
		return (-1);
	}
	b->truncated = b->sel.run == 0 && n >= LQ_HISTORY_LIMIT_MAX;
	if (b->truncated)
		fprintf(stderr, "linkq: %s has more than %d runs: the bundle "
		    "holds the newest %d\n", b->what, LQ_HISTORY_LIMIT_MAX,
		    LQ_HISTORY_LIMIT_MAX);
	/* Newest first as listed; the bundle tells the story in order. */
	b->runs = json_array();
	for (i = n; i > 0; i--)
		(void)json_array_append(b->runs, json_array_get(list, i - 1));
	json_decref(list);
	return (0);
}

/* The device of run into *dev. */
static int
source_device(struct bundle *b, int64_t run, json_t **dev)
{
	char	*path, *cause;
	int	 ret;

	if (b->db == NULL) {
		(void)xasprintf(&path, "/v1/runs/%lld/device", (long long)run);
		ret = client_call("GET", path, NULL, dev);
		free(path);
		return (ret);
	}
	if ((ret = lq_history_device(b->db, run, dev, &cause)) == -1)
		return (source_db_fail(b, cause));
	if (ret == 0) {
		fprintf(stderr, "linkq: run %lld: its device is not "
		    "recorded\n", (long long)run);
		return (-1);
	}
	return (0);
}

/* Whether list has a device with dev's udid. */
static int
source_has_device(json_t *list, json_t *dev)
{
	const char	*udid = client_str(dev, "udid", "");
	json_t		*d;
	size_t		 i;

	json_array_foreach(list, i, d) {
		if (strcmp(client_str(d, "udid", ""), udid) == 0)
			return (1);
	}
	return (0);
}

int
bundle_devices(struct bundle *b)
{
	json_t	*run, *dev;
	size_t	 i;

	b->devices = json_array();
	json_array_foreach(b->runs, i, run) {
		if (source_device(b, json_integer_value(json_object_get(run,
		    "id")), &dev) == -1)
			return (-1);
		if (source_has_device(b->devices, dev)) {
			json_decref(dev);
			continue;
		}
		bundle_ids_device(b->ids, dev);
		(void)json_array_append_new(b->devices, dev);
	}
	return (0);
}

int
bundle_events(struct bundle *b, int64_t run, int (*cb)(json_t *, void *),
    void *arg)
{
	json_t		*list, *ev, *reply;
	json_int_t	 last = 0;
	char		*cause;
	long		 status;
	size_t		 i, n;

	if (b->db == NULL) {
		if (client_events(0, run, cb, arg, &last, &status,
		    &reply) == -1) {
			json_decref(reply);
			return (-1);
		}
		return (0);
	}
	do {
		list = json_array();
		if (lq_history_events(b->db, last, SOURCE_PAGE, run, list,
		    &cause) == -1) {
			json_decref(list);
			return (source_db_fail(b, cause));
		}
		n = json_array_size(list);
		json_array_foreach(list, i, ev) {
			last = json_integer_value(json_object_get(ev, "id"));
			(void)cb(ev, arg);
		}
		json_decref(list);
	} while (n == SOURCE_PAGE);
	return (0);
}

/* A page of run's probes after after into *list. */
static int
source_probe_page(struct bundle *b, int64_t run, json_int_t after,
    json_t **list)
{
	json_t	*reply;
	char	*path, *cause;
	int	 ret;

	if (b->db != NULL) {
		*list = json_array();
		if (lq_history_probes(b->db, run, after, SOURCE_PAGE, *list,
		    &cause) == -1) {
			json_decref(*list);
			return (source_db_fail(b, cause));
		}
		return (0);
	}
	(void)xasprintf(&path, "/v1/runs/%lld/probes?after=%lld&limit=%d",
	    (long long)run, (long long)after, SOURCE_PAGE);
	ret = client_call("GET", path, NULL, &reply);
	free(path);
	if (ret == -1)
		return (-1);
	*list = json_incref(json_object_get(reply, "probes"));
	json_decref(reply);
	return (*list != NULL ? 0 : -1);
}

int
bundle_probes(struct bundle *b, int64_t run, int (*cb)(json_t *, void *),
    void *arg)
{
	json_t		*list, *p;
	json_int_t	 last = 0;
	size_t		 i, n;

	do {
		if (source_probe_page(b, run, last, &list) == -1)
			return (-1);
		n = json_array_size(list);
		json_array_foreach(list, i, p) {
			last = json_integer_value(json_object_get(p, "id"));
			(void)cb(p, arg);
		}
		json_decref(list);
	} while (n == SOURCE_PAGE);
	return (0);
}

json_t *
bundle_report(struct bundle *b)
{
	struct lq_report	*rep;
	json_t			*o;
	char			*cause;

	if (b->db == NULL) {
		if (client_call("GET", "/v1/report?by=pair", NULL, &o) == -1)
			return (NULL);
		return (o);
	}
	if (lq_report_build(b->db, LQ_REPORT_PAIR, 0, &rep, &cause) == -1) {
		(void)source_db_fail(b, cause);
		return (NULL);
	}
	o = lq_report_to_json(rep);
	lq_report_free(rep);
	return (o);
}

void
bundle_daemon_info(struct bundle *b)
{
	if (b->db != NULL)
		return;
	if (client_call("GET", "/v1/status", NULL, &b->status) == -1)
		b->status = NULL;
	if (client_call("GET", "/v1/profiles", NULL, &b->profiles) == -1)
		b->profiles = NULL;
}
