/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * linkq events [--follow] [--since ID] [--db FILE]: the event log, one
 * line per event with its port (path, label) and cable, from GET
 * /v1/events or a database file read here (lq-history.h); --follow then
 * keeps the stream open (follow=1) and prints each new event until
 * Ctrl-C.
 *
 * The history is read page by page rather than through the follow
 * stream: linkqd sends a new follower at most the last 1000 old events,
 * and a log with more would lose its middle. The stream then starts
 * after the last event read, so that none is printed twice.
 */

#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
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

/* linkqd's cap on limit; a shorter page is the last one. */
#define EVENTS_PAGE	10000

struct events_follow {
	json_int_t	 last;		/* the newest event printed */
	int		 failed;	/* a line that was not an event */
};

/* Append to buf at *len what fmt says, as far as it fits. */
static void printflike(4, 5)
append(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (*len >= size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *len, size - *len, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len += (size_t)n;
}

void
client_event_text(json_t *ev, char *buf, size_t size)
{
	static const struct {
		const char	*key;
		const char	*name;
	} ids[] = {
		{ "attachment_id", "attachment" },
		{ "run_id", "run" },
	};
	json_t		*v;
	size_t		 i, len = 0;
	char		 where[256];

	buf[0] = '\0';
	append(buf, size, &len, "%-8s %-14s", client_str(ev, "source", "?"),
	    client_str(ev, "kind", "?"));
	/* The port by its path and label: its row id means nothing here. */
	if (json_object_get(ev, "port") != NULL) {
		client_where(ev, where, sizeof(where));
		append(buf, size, &len, " %s", where);
	}
	for (i = 0; i < nitems(ids); i++) {
		if ((v = json_object_get(ev, ids[i].key)) != NULL)
			append(buf, size, &len, " %s %lld", ids[i].name,
			    (long long)json_integer_value(v));
	}
	/* linkqd runs on this host: its errno means the same here. */
	if ((v = json_object_get(ev, "errno")) != NULL)
		append(buf, size, &len, " errno %lld (%s)",
		    (long long)json_integer_value(v),
		    strerror((int)json_integer_value(v)));
	if (json_is_string(json_object_get(ev, "detail")))
		append(buf, size, &len, ": %s", client_str(ev, "detail", ""));
	/* The kind is padded for the columns; a line ends in no blank. */
	while (len > 0 && len < size && buf[len - 1] == ' ')
		buf[--len] = '\0';
}

int
client_events(json_int_t since, json_int_t run, client_event_cb cb,
    void *arg, json_int_t *last, long *status, json_t **reply)
{
	json_t	*list, *ev;
	char	*path;
	size_t	 i, n;
	int	 stop = 0;

	*last = since;
	*reply = NULL;
	do {
		(void)xasprintf(&path, "/v1/events?since=%lld&limit=%d"
		    "&run=%lld", (long long)*last, EVENTS_PAGE,
		    (long long)run);
		if (http_json("GET", path, NULL, status, reply) == -1) {
			free(path);
			return (-1);
		}
		free(path);
		if (*status != 200) {
			(void)client_api_error(*reply, *status);
			return (-1);
		}
		list = json_object_get(*reply, "events");
		n = json_array_size(list);
		json_array_foreach(list, i, ev) {
			*last = json_integer_value(json_object_get(ev, "id"));
			if (cb(ev, arg) == -1) {
				stop = 1;
				break;
			}
		}
		json_decref(*reply);
		*reply = NULL;
	} while (!stop && n == EVENTS_PAGE);
	return (0);
}

/* One event as a line of text, or of JSON. */
static int
print_event(json_t *ev, void *arg)
{
	char	when[64], text[1024], *line;

	(void)arg;
	if (opt_json) {
		client_print_json(ev);
		return (0);
	}
	client_time(json_integer_value(json_object_get(ev, "ts_us")), when,
	    sizeof(when));
	client_event_text(ev, text, sizeof(text));
	/* Wrapped on a terminal, as events come: no table to measure. */
	(void)xasprintf(&line, "%s %6lld %s", when,
	    (long long)json_integer_value(json_object_get(ev, "id")), text);
	lq_text_wrap(stdout, 0, line, lq_term_width(STDOUT_FILENO));
	free(line);
	return (0);
}

/* The events after since from a database file, page by page. */
static int
events_local(const char *file, json_int_t since)
{
	sqlite3	*db;
	json_t	*list, *ev;
	char	*cause;
	size_t	 i, n;

	if ((db = client_db_open(file)) == NULL)
		return (LQ_EXIT_USAGE);
	do {
		list = json_array();
		if (lq_history_events(db, since, EVENTS_PAGE, 0, list,
		    &cause) == -1) {
			fprintf(stderr, "linkq: %s: %s\n", file, cause);
			free(cause);
			json_decref(list);
			sqlite3_close(db);
			return (LQ_EXIT_USAGE);
		}
		n = json_array_size(list);
		json_array_foreach(list, i, ev) {
			since = json_integer_value(json_object_get(ev, "id"));
			(void)print_event(ev, NULL);
		}
		json_decref(list);
	} while (n == EVENTS_PAGE);
	sqlite3_close(db);
	return (0);
}

/* Each line of the follow stream. */
static int
follow_line(const char *line, size_t len, void *arg)
{
	struct events_follow	*f = arg;
	json_t			*ev;

	if ((ev = json_loadb(line, len, 0, NULL)) == NULL) {
		f->failed = 1;
		return (-1);
	}
	f->last = json_integer_value(json_object_get(ev, "id"));
	(void)print_event(ev, NULL);
	json_decref(ev);
	/* Whoever reads a pipe wants each event as it happens. */
	(void)fflush(stdout);
	return (0);
}

int
cmd_events(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLIENT_LONG_OPTIONS,
		{ "follow", no_argument, NULL, 'f' },
		{ "since", required_argument, NULL, 'S' },
		{ "db", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 }
	};
	struct events_follow	 f;
	json_t			*reply = NULL;
	json_int_t		 since = 0;
	const char		*errstr, *db = NULL;
	char			*path;
	long			 code;
	int			 ch, follow = 0, how;

	while ((ch = getopt_long(argc, argv, "hf", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			follow = 1;
			break;
		case 'd':
			db = optarg;
			break;
		case 'S':
			since = strtonum(optarg, 0, LLONG_MAX, &errstr);
			if (errstr != NULL) {
				fprintf(stderr, "linkq: --since %s: an event "
				    "id is a number, 0 or more\n", optarg);
				return (LQ_EXIT_USAGE);
			}
			break;
		default:
			client_option("events", ch);
			break;
		}
	}
	if (optind != argc)
		return (client_usage("events"));

	if (db != NULL && follow) {
		fprintf(stderr, "linkq: --follow and --db do not go together: "
		    "a database file takes no new events from here\n");
		return (client_usage("events"));
	}
	if (db != NULL)
		return (events_local(db, since));
	memset(&f, 0, sizeof(f));
	if (client_events(since, 0, print_event, NULL, &f.last, &code,
	    &reply) == -1) {
		json_decref(reply);
		return (LQ_EXIT_USAGE);
	}
	if (!follow)
		return (0);

	(void)fflush(stdout);
	(void)xasprintf(&path, "/v1/events?since=%lld&follow=1",
	    (long long)f.last);
	how = http_stream(path, follow_line, &f, &code, &reply);
	free(path);
	if (how == HTTP_INTERRUPTED) {
		json_decref(reply);
		return (0);
	}
	if (how == HTTP_DONE && code >= 400)
		(void)client_api_error(reply, code);
	else if (f.failed)
		fprintf(stderr, "linkq: linkqd sent a line that is not an "
		    "event\n");
	else if (how == HTTP_DONE)
		fprintf(stderr, "linkq: linkqd ended the event stream after "
		    "event %lld (did it stop?)\n", (long long)f.last);
	json_decref(reply);
	return (LQ_EXIT_USAGE);
}
