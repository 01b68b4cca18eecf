/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * linkq show RUN [--db FILE]: one run (GET /v1/runs/ID, any run ever
 * recorded) with where it ran, its numbers, verdict and every reason,
 * then the run's events as a timeline (GET /v1/events?run=ID); or the
 * same from a database file read here (lq-history.h).
 */

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "compat/compat.h"
#include "client.h"
#include "http.h"
#include "lq-history.h"
#include "lq-table.h"
#include "xmalloc.h"

struct show_events {
	json_int_t	 run;
	json_t		*list;		/* the run's events */
};

/* One of the run's events. */
static int
keep_event(json_t *ev, void *arg)
{
	struct show_events	*se = arg;

	(void)json_array_append(se->list, ev);
	return (0);
}

/*
 * The device, with its name and model if linkqd still knows it (devices
 * is NULL with --db), and where the run was: port and cable.
 */
static void
print_device(json_t *run, json_t *devices, size_t width)
{
	json_t		*d;
	const char	*udid = client_str(run, "udid", "?");
	char		*line, *tmp, where[256];
	size_t		 i;

	(void)xasprintf(&line, "device    %s", udid);
	json_array_foreach(json_object_get(devices, "devices"), i, d) {
		if (strcmp(client_str(d, "udid", ""), udid) != 0 ||
		    json_object_get(d, "name") == NULL)
			continue;
		(void)xasprintf(&tmp, "%s, %s (%s)", line, client_str(d,
		    "name", "?"), client_str(d, "product_type", "?"));
		free(line);
		line = tmp;
	}
	lq_text_wrap(stdout, 2, line, width);
	free(line);
	client_where(run, where, sizeof(where));
	(void)xasprintf(&line, "where     %s", where);
	lq_text_wrap(stdout, 2, line, width);
	free(line);
	printf("  attachment %lld\n", (long long)json_integer_value(
	    json_object_get(run, "attachment_id")));
}

/*
 * A restore-watch run: how the restore ended, the command, the link
 * events; it moves no probe and earns no verdict.
 */
static void
print_restore(json_t *run, size_t width)
{
	json_int_t	 links;
	char		 outcome[512], *line;

	/* Until the command ends, there is no outcome to tell. */
	if (client_str(run, "outcome", NULL) == NULL)
		(void)strlcpy(outcome, "not ended yet", sizeof(outcome));
	else
		client_restore_outcome(run, NULL, outcome, sizeof(outcome));
	(void)xasprintf(&line, "restore   %s", outcome);
	lq_text_wrap(stdout, 2, line, width);
	free(line);
	(void)xasprintf(&line, "command   %s", client_str(run, "command",
	    "?"));
	lq_text_wrap(stdout, 2, line, width);
	free(line);
	links = json_integer_value(json_object_get(run, "link_events"));
	printf("  link      %lld link event%s%s\n", (long long)links,
	    links == 1 ? "" : "s", links == 0 ? " (a clean link)" : "");
}

/* A run's probes: their count and failures, and the bound they give. */
static void
print_probes(json_t *run, size_t width)
{
	json_int_t	 probes, bulk;
	char		 bound[64] = "", rate[48] = "", *line;

	probes = json_integer_value(json_object_get(run, "probes"));
	/* No probe bounds nothing: "below 100%" would only look like one. */
	if (probes > 0)
		(void)snprintf(bound, sizeof(bound), ", failure rate below "
		    "%.2f%% (95%%)", json_number_value(json_object_get(run,
		    "cp_upper")) * 100.0);
	(void)xasprintf(&line, "probes    %lld, failures %lld%s",
	    (long long)probes, (long long)json_integer_value(
	    json_object_get(run, "failures")), bound);
	lq_text_wrap(stdout, 2, line, width);
	free(line);
	/* The mean of the bulk probes, as the live line's bulk avg. */
	bulk = json_integer_value(json_object_get(run, "bulk_bytes"));
	if (bulk > 0)
		(void)snprintf(rate, sizeof(rate), " at %.1f MB/s on average",
		    json_number_value(json_object_get(run, "mb_s")));
	(void)xasprintf(&line, "bytes     %lld, bulk %lld%s",
	    (long long)json_integer_value(json_object_get(run, "bytes")),
	    (long long)bulk, rate);
	lq_text_wrap(stdout, 2, line, width);
	free(line);
}

static void
print_run(json_t *run, json_t *devices, json_t *events)
{
	json_t		*v, *ev;
	const char	*verdict, *kind;
	char		 when[64], elapsed[32], text[1024], *line;
	size_t		 width = lq_term_width(STDOUT_FILENO);
	json_int_t	 started, ts;
	size_t		 i;
	int		 n, running, restore;

	verdict = client_str(run, "verdict", NULL);
	running = strcmp(client_str(run, "state", ""), "running") == 0;
	restore = strcmp(client_str(run, "kind", ""), "restore-watch") == 0;
	printf("run %lld: %s, %s", (long long)json_integer_value(
	    json_object_get(run, "id")), client_str(run, "profile", "?"),
	    client_str(run, "state", "?"));
	if (json_is_integer(json_object_get(run, "percent")) && running)
		printf(" %lld%%", (long long)json_integer_value(
		    json_object_get(run, "percent")));
	printf("\n");
	print_device(run, devices, width);
	started = json_integer_value(json_object_get(run, "started_us"));
	client_time(started, when, sizeof(when));
	client_duration(json_integer_value(json_object_get(run,
	    "elapsed_ms")), elapsed, sizeof(elapsed));
	printf("  started   %s, for %s\n", when, elapsed);
	if (restore)
		print_restore(run, width);
	else
		print_probes(run, width);
	/* The database keeps the failures by probe, not these counts. */
	if (json_object_get(run, "errors") != NULL) {
		printf("  errors   ");
		n = 0;
		json_object_foreach(json_object_get(run, "errors"), kind, v)
			printf("%s %s %lld", n++ > 0 ? "," : "", kind,
			    (long long)json_integer_value(v));
		printf("%s\n", n == 0 ? " none" : "");
	}
	if (verdict != NULL)
		printf("  verdict   %s%s%s\n", client_verdict_color(verdict),
		    verdict, client_color_end());
	else if (restore)
		printf("  verdict   none: a watched restore earns none\n");
	else
		printf("  verdict   %s\n", running ? "none yet" : "none");
	json_array_foreach(json_object_get(run, "reasons"), i, v)
		lq_text_wrap(stdout, 4, json_string_value(v), width);
	if (json_is_string(json_object_get(run, "error"))) {
		(void)xasprintf(&line, "error     %s", client_str(run, "error",
		    ""));
		lq_text_wrap(stdout, 2, line, width);
		free(line);
	}

	if (json_array_size(events) == 0) {
		printf("events: none\n");
		return;
	}
	printf("events:\n");
	json_array_foreach(events, i, ev) {
		ts = json_integer_value(json_object_get(ev, "ts_us"));
		client_time(ts, when, sizeof(when));
		client_event_text(ev, text, sizeof(text));
		/* The offset says where in the run; the time, when. */
		(void)xasprintf(&line, "%s %+8.3fs %s", when,
		    (double)(ts - started) / 1e6, text);
		lq_text_wrap(stdout, 2, line, width);
		free(line);
	}
}

/* The run and its events from linkqd; 0, or -1 once said why. */
static int
show_daemon(struct show_events *se, json_t **run, json_t **devices)
{
	json_t		*reply = NULL;
	json_int_t	 last;
	char		*path;
	long		 code;
	int		 ret = -1;

	(void)xasprintf(&path, "/v1/runs/%lld", (long long)se->run);
	if (client_call("GET", path, NULL, run) == -1 ||
	    client_call("GET", "/v1/devices", NULL, devices) == -1)
		goto out;
	if (client_events(0, se->run, keep_event, se, &last, &code,
	    &reply) == -1)
		goto out;
	ret = 0;
out:
	free(path);
	json_decref(reply);
	return (ret);
}

/* The run and its events from a database file; 0, or -1. */
static int
show_local(const char *file, struct show_events *se, json_t **run)
{
	sqlite3	*db;
	char	*cause = NULL;
	int	 found, ret = -1;

	if ((db = client_db_open(file)) == NULL)
		return (-1);
	if ((found = lq_history_run(db, se->run, run, &cause)) == 0)
		fprintf(stderr, "linkq: run %lld was never recorded in %s: "
		    "linkq runs --db %s lists the runs there are\n",
		    (long long)se->run, file, file);
	else if (found == 1 && lq_history_events(db, 0, UINT_MAX, se->run,
	    se->list, &cause) == 0)
		ret = 0;
	if (cause != NULL) {
		fprintf(stderr, "linkq: %s: %s\n", file, cause);
		free(cause);
	}
	sqlite3_close(db);
	return (ret);
}

int
cmd_show(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLIENT_LONG_OPTIONS,
		{ "db", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 }
	};
	struct show_events	 se;
	json_t			*run = NULL, *devices = NULL;
	const char		*errstr, *db = NULL;
	int			 ch, ret = LQ_EXIT_USAGE;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (ch == 'd')
			db = optarg;
		else
			client_option("show", ch);
	}
	if (optind != argc - 1)
		return (client_usage("show"));
	memset(&se, 0, sizeof(se));
	se.run = strtonum(argv[optind], 1, LLONG_MAX, &errstr);
	if (errstr != NULL) {
		fprintf(stderr, "linkq: bad run \"%s\": a run is a number, as "
		    "linkq runs lists them\n", argv[optind]);
		return (LQ_EXIT_USAGE);
	}

	se.list = json_array();
	if ((db != NULL ? show_local(db, &se, &run) :
	    show_daemon(&se, &run, &devices)) == -1)
		goto out;
	ret = 0;
	if (opt_json) {
		(void)json_object_set(run, "events", se.list);
		client_print_json(run);
	} else
		print_run(run, devices, se.list);
out:
	json_decref(se.list);
	json_decref(run);
	json_decref(devices);
	return (ret);
}
