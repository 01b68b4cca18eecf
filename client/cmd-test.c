/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * linkq test and linkq qualify: start a run (POST /v1/runs), follow its
 * progress stream (GET /v1/runs/ID/progress) to the end, print the
 * verdict and its reasons, and exit with the status linkq(1) documents,
 * so that `linkq qualify && idevicerestore ...` gates a restore.
 *
 * On a terminal the progress is one line redrawn in place, cut to the
 * terminal's width so that it never wraps (a wrapped line cannot be
 * redrawn with \r); otherwise one plain line per progress object, and
 * with --json the stream's lines as they come. Ctrl-C cancels the run.
 * On a terminal, a device whose cable nobody has named since it was
 * plugged is asked about first (ask.c).
 */

#include <sys/ioctl.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "compat/compat.h"
#include "client.h"
#include "http.h"
#include "linkq.h"
#include "lq-time.h"
#include "xmalloc.h"

struct follow {
	int	 tty;		/* redraw one line in place */
	int	 drawn;		/* a progress line is on the screen */
	json_t	*last;		/* the last object of the stream */
};

/* The terminal's width, 80 if unknown. */
static size_t
term_width(void)
{
	struct winsize	ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return (ws.ws_col);
	return (80);
}

/* One progress object in words, into buf. */
static void
progress_line(json_t *o, char *buf, size_t size)
{
	json_t		*pct, *errors, *v;
	const char	*kind;
	json_int_t	 p, ms;
	size_t		 len;

	pct = json_object_get(o, "percent");
	len = (size_t)snprintf(buf, size, "run %lld %s %s",
	    (long long)json_integer_value(json_object_get(o, "id")),
	    json_string_value(json_object_get(o, "profile")) != NULL ?
	    json_string_value(json_object_get(o, "profile")) : "?",
	    json_string_value(json_object_get(o, "state")) != NULL ?
	    json_string_value(json_object_get(o, "state")) : "?");
	if (json_is_integer(pct) && len < size)
		len += (size_t)snprintf(buf + len, size - len, " %3lld%%",
		    (long long)json_integer_value(pct));
	/* The time left, from the pace so far; none until it means much. */
	p = json_integer_value(pct);
	ms = json_integer_value(json_object_get(o, "elapsed_ms"));
	if (json_is_integer(pct) && p >= 5 && p < 100 && ms >= 1000 &&
	    len < size)
		len += (size_t)snprintf(buf + len, size - len, " eta %llds",
		    (long long)((ms * (100 - p) / p + 999) / 1000));
	if (len < size)
		len += (size_t)snprintf(buf + len, size - len,
		    " %.1fs %.1f MB/s probes %lld failures %lld",
		    (double)json_integer_value(json_object_get(o,
		    "elapsed_ms")) / 1000.0,
		    json_number_value(json_object_get(o, "mb_s")),
		    (long long)json_integer_value(json_object_get(o,
		    "probes")),
		    (long long)json_integer_value(json_object_get(o,
		    "failures")));
	errors = json_object_get(o, "errors");
	json_object_foreach(errors, kind, v) {
		if (len >= size)
			break;
		len += (size_t)snprintf(buf + len, size - len, " %s %lld",
		    kind, (long long)json_integer_value(v));
	}
}

/* Each line of the progress stream. */
static int
follow_line(const char *line, size_t len, void *arg)
{
	struct follow	*f = arg;
	json_t		*o;
	char		 buf[512];
	size_t		 width;

	if (opt_json) {
		printf("%.*s\n", (int)len, line);
		(void)fflush(stdout);
	}
	if ((o = json_loadb(line, len, 0, NULL)) == NULL)
		return (0);
	json_decref(f->last);
	f->last = o;
	if (opt_json)
		return (0);
	progress_line(o, buf, sizeof(buf));
	if (f->tty) {
		/* One column spare: a full line would wrap on some. */
		width = term_width();
		if (width > 1 && strlen(buf) > width - 1)
			buf[width - 1] = '\0';
		printf("\r%s\033[K", buf);
		f->drawn = 1;
	} else
		printf("%s\n", buf);
	(void)fflush(stdout);
	return (0);
}

/*
 * A reason on a line of its own after two blanks; on a terminal wrapped
 * at the words to its width, with the same indent, so that a narrow one
 * shows no line cut by the terminal.
 */
static void
print_reason(const char *s, int tty)
{
	size_t	width, room, n, col;

	if (s == NULL)
		return;
	if (!tty || (width = term_width()) <= 12) {
		printf("  %s\n", s);
		return;
	}
	room = width - 1 - 2;
	col = 0;
	while (*s != '\0') {
		while (*s == ' ')
			s++;
		if ((n = strcspn(s, " ")) == 0)
			break;
		if (col > 0 && col + 1 + n > room) {
			printf("\n");
			col = 0;
		}
		if (col == 0)
			printf("  ");
		else {
			printf(" ");
			col++;
		}
		/* A word longer than the line is cut, not let wrap. */
		if (n > room - col)
			n = room - col;
		printf("%.*s", (int)n, s);
		col += n;
		s += n;
	}
	printf("\n");
}

/* The verdict and its reasons; the exit status that goes with it. */
static int
print_end(json_t *run, int tty)
{
	json_t		*r;
	const char	*verdict, *state;
	size_t		 i;

	verdict = json_string_value(json_object_get(run, "verdict"));
	state = json_string_value(json_object_get(run, "state"));
	/* A verdict the database does not hold is no verdict to trust. */
	if (json_is_string(json_object_get(run, "not_recorded"))) {
		if (!opt_json)
			printf("%s\n", json_string_value(json_object_get(run,
			    "not_recorded")));
		return (LQ_EXIT_USAGE);
	}
	if (!opt_json) {
		if (verdict != NULL)
			printf("%s%s%s\n", client_verdict_color(verdict),
			    verdict, client_color_end());
		else
			printf("no verdict: the run ended %s\n",
			    state != NULL ? state : "without one");
		json_array_foreach(json_object_get(run, "reasons"), i, r)
			print_reason(json_string_value(r), tty);
		if (json_is_string(json_object_get(run, "error")))
			print_reason(json_string_value(json_object_get(run,
			    "error")), tty);
	}
	if (verdict == NULL)
		return (LQ_EXIT_USAGE);
	if (strcmp(verdict, "PASS") == 0)
		return (LQ_EXIT_PASS);
	if (strcmp(verdict, "FAIL") == 0)
		return (LQ_EXIT_FAIL);
	if (strcmp(verdict, "MARGINAL") == 0)
		return (LQ_EXIT_MARGINAL);
	return (LQ_EXIT_USAGE);
}

/* Ask linkqd to cancel run id after Ctrl-C. */
static void
cancel_run(json_int_t id)
{
	json_t	*reply = NULL;
	char	*path;
	long	 code;

	(void)xasprintf(&path, "/v1/runs/%lld/cancel", (long long)id);
	if (http_json("POST", path, NULL, &code, &reply) == 0) {
		if (code == 200)
			fprintf(stderr, "linkq: run %lld cancelled\n",
			    (long long)id);
		else
			(void)client_api_error(reply, code);
	}
	json_decref(reply);
	free(path);
}

static int
run_follow(const char *name, const char *default_profile, int argc,
    char **argv)
{
	static const struct option longopts[] = {
		CLIENT_LONG_OPTIONS,
		{ "cable", required_argument, NULL, 'c' },
		{ "max-age", required_argument, NULL, 'm' },
		{ "profile", required_argument, NULL, 'p' },
		{ "udid", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 }
	};
	struct follow		 f;
	struct qualify_target	 target;
	json_t			*body, *reply = NULL, *fresh;
	int64_t			 max_age = -1;
	int			 qualify = strcmp(name, "qualify") == 0;
	const char	*profile = default_profile, *cable = NULL;
	const char	*udid = NULL, *port = NULL, *why;
	json_int_t	 id;
	char		*path = NULL, asked[LQ_LABEL_MAX + 2];
	long		 code;
	int		 ch, ret = LQ_EXIT_USAGE, how;

	while ((ch = getopt_long(argc, argv, "hu:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			cable = optarg;
			break;
		case 'm':
			if (!qualify || (max_age = client_span(optarg)) < 0) {
				fprintf(stderr, "linkq: %s: --max-age takes a "
				    "span such as 30m, 2h or 1d\n", name);
				return (client_usage(name));
			}
			break;
		case 'p':
			profile = optarg;
			break;
		case 'u':
			udid = optarg;
			break;
		default:
			client_option(name, ch);
			break;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1 || (argc == 1 && udid != NULL))
		return (client_usage(name));
	if (argc == 1)
		port = argv[0];
	if (cable != NULL && (why = lq_label_invalid(cable)) != NULL) {
		fprintf(stderr, "linkq: bad cable label: %s\n", why);
		return (LQ_EXIT_USAGE);
	}

	memset(&target, 0, sizeof(target));
	if ((qualify || (cable == NULL && ask_possible())) &&
	    qualify_target(udid, port, &target) == -1)
		memset(&target, 0, sizeof(target));
	/* A cable unconfirmed since a replug: ask, on a terminal. */
	if (cable == NULL && ask_possible() && target.port[0] != '\0' &&
	    target.cable[0] == '\0' && ask_cable(target.port,
	    target.last_cable, asked, sizeof(asked)))
		cable = asked;
	if (qualify && max_age >= 0 &&
	    (fresh = qualify_fresh_pass(&target, profile, max_age)) != NULL) {
		if (opt_json)
			client_print_json(fresh);
		else
			printf("run %lld passed %lld s ago on this phone, port "
			    "and cable; not run again (--max-age)\n",
			    (long long)json_integer_value(json_object_get(fresh,
			    "id")), (long long)((lq_wall_now_us() -
			    json_integer_value(json_object_get(fresh,
			    "started_us"))) / LQ_USEC_PER_SEC));
		ret = print_end(fresh, !opt_json && isatty(STDOUT_FILENO));
		json_decref(fresh);
		return (ret);
	}

	body = json_pack("{s:s}", "profile", profile);
	if (udid != NULL)
		(void)json_object_set_new(body, "udid", json_string(udid));
	if (port != NULL)
		(void)json_object_set_new(body, "port", json_string(port));
	if (cable != NULL)
		(void)json_object_set_new(body, "cable", json_string(cable));
	if (http_json("POST", "/v1/runs", body, &code, &reply) == -1)
		goto out;
	if (code != 201) {
		/* 404: no such device, or none at all. */
		ret = client_api_error(reply, code);
		if (code == 404)
			ret = LQ_EXIT_NO_DEVICE;
		goto out;
	}
	id = json_integer_value(json_object_get(reply, "id"));
	json_decref(reply);
	reply = NULL;

	memset(&f, 0, sizeof(f));
	f.tty = !opt_json && isatty(STDOUT_FILENO);
	(void)xasprintf(&path, "/v1/runs/%lld/progress", (long long)id);
	how = http_stream(path, follow_line, &f, &code, &reply);
	if (f.drawn)
		printf("\n");
	if (how == HTTP_INTERRUPTED) {
		cancel_run(id);
		ret = LQ_EXIT_USAGE;
	} else if (how == HTTP_DONE && code >= 400)
		ret = client_api_error(reply, code);
	else if (how == HTTP_DONE && f.last != NULL &&
	    json_is_string(json_object_get(f.last, "type")) &&
	    strcmp(json_string_value(json_object_get(f.last, "type")),
	    "end") == 0)
		ret = print_end(f.last, f.tty);
	else if (how == HTTP_DONE)
		fprintf(stderr, "linkq: the progress of run %lld ended "
		    "without its last line\n", (long long)id);
	if (qualify && !opt_json && ret != LQ_EXIT_PASS &&
	    how != HTTP_INTERRUPTED)
		qualify_alternative(&target);
	json_decref(f.last);
out:
	free(path);
	json_decref(body);
	json_decref(reply);
	return (ret);
}

int
cmd_test(int argc, char **argv)
{
	return (run_follow("test", "quick", argc, argv));
}

int
cmd_qualify(int argc, char **argv)
{
	return (run_follow("qualify", "restore", argc, argv));
}
