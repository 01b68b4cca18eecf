/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Following a run (GET /v1/runs/ID/progress) to its last line, and
 * printing its verdict.
 *
 * On a terminal the progress is one line redrawn in place, cut to the
 * terminal's width so that it never wraps (a wrapped line cannot be
 * redrawn with \r); otherwise one plain line per progress object, and
 * with --json the stream's lines as they come.
 */

#include <sys/ioctl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "compat/compat.h"
#include "client.h"
#include "follow.h"
#include "http.h"
#include "xmalloc.h"

struct follow_state {
	follow_cb	 cb;
	void		*arg;
	json_t		*last;		/* the last object of the stream */
};

size_t
follow_term_width(void)
{
	struct winsize	ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return (ws.ws_col);
	return (80);
}

void
follow_text(json_t *o, char *buf, size_t size)
{
	json_t		*pct, *errors, *v;
	const char	*kind;
	json_int_t	 p, ms;
	size_t		 len;

	pct = json_object_get(o, "percent");
	len = (size_t)snprintf(buf, size, "run %lld %s %s",
	    (long long)json_integer_value(json_object_get(o, "id")),
	    client_str(o, "profile", "?"), client_str(o, "state", "?"));
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
		    (double)ms / 1000.0,
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

void
follow_redraw(struct follow_line *fl, const char *text)
{
	char	buf[512];
	size_t	width;

	if (!fl->tty) {
		printf("%s\n", text);
		(void)fflush(stdout);
		return;
	}
	(void)strlcpy(buf, text, sizeof(buf));
	/* One column spare: a full line would wrap on some. */
	width = follow_term_width();
	if (width > 1 && strlen(buf) > width - 1)
		buf[width - 1] = '\0';
	printf("\r%s\033[K", buf);
	fl->drawn = 1;
	(void)fflush(stdout);
}

void
follow_line_end(struct follow_line *fl)
{
	if (fl->drawn)
		printf("\n");
	fl->drawn = 0;
}

void
follow_draw(json_t *o, void *arg)
{
	struct follow_line	*fl = arg;
	char			 buf[512];

	follow_text(o, buf, sizeof(buf));
	follow_redraw(fl, buf);
}

/* Each line of the progress stream. */
static int
follow_stream_line(const char *line, size_t len, void *arg)
{
	struct follow_state	*fs = arg;
	json_t			*o;

	if ((o = json_loadb(line, len, 0, NULL)) == NULL) {
		if (opt_json)
			printf("%.*s\n", (int)len, line);
		return (0);
	}
	/* As every document of linkq: format_version, 6 digits. */
	if (opt_json) {
		client_print_json(o);
		(void)fflush(stdout);
	}
	json_decref(fs->last);
	fs->last = o;
	if (!opt_json && fs->cb != NULL &&
	    strcmp(client_str(o, "type", ""), "end") != 0)
		fs->cb(o, fs->arg);
	return (0);
}

int
follow_run(json_int_t id, follow_cb cb, void *arg, json_t **end)
{
	struct follow_state	 fs;
	struct follow_line	 fl;
	json_t			*reply = NULL;
	char			*path;
	long			 code;
	int			 how, ret = FOLLOW_FAILED;

	*end = NULL;
	memset(&fs, 0, sizeof(fs));
	memset(&fl, 0, sizeof(fl));
	fl.tty = !opt_json && isatty(STDOUT_FILENO);
	fs.cb = cb != NULL ? cb : follow_draw;
	fs.arg = cb != NULL ? arg : &fl;
	(void)xasprintf(&path, "/v1/runs/%lld/progress", (long long)id);
	how = http_stream(path, follow_stream_line, &fs, &code, &reply);
	free(path);
	follow_line_end(&fl);
	if (how == HTTP_INTERRUPTED)
		ret = FOLLOW_INTERRUPTED;
	else if (how == HTTP_DONE && code >= 400)
		(void)client_api_error(reply, code);
	else if (how == HTTP_DONE && fs.last != NULL &&
	    strcmp(client_str(fs.last, "type", ""), "end") == 0) {
		*end = fs.last;
		fs.last = NULL;
		ret = FOLLOW_END;
	} else if (how == HTTP_DONE)
		fprintf(stderr, "linkq: the progress of run %lld ended "
		    "without its last line\n", (long long)id);
	json_decref(fs.last);
	json_decref(reply);
	return (ret);
}

void
follow_reason(const char *s, int tty)
{
	size_t	width, room, n, col;

	if (s == NULL)
		return;
	if (!tty || (width = follow_term_width()) <= 12) {
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

int
follow_exit_status(const char *verdict)
{
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

int
follow_verdict(json_t *run, int tty)
{
	json_t		*r;
	const char	*verdict, *state;
	size_t		 i;

	verdict = json_string_value(json_object_get(run, "verdict"));
	state = json_string_value(json_object_get(run, "state"));
	/* A verdict the database does not hold is no verdict to trust. */
	if (json_is_string(json_object_get(run, "not_recorded"))) {
		if (!opt_json)
			printf("%s\n", client_str(run, "not_recorded", ""));
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
			follow_reason(json_string_value(r), tty);
		if (json_is_string(json_object_get(run, "error")))
			follow_reason(client_str(run, "error", NULL), tty);
	}
	return (follow_exit_status(verdict));
}

void
follow_cancel(json_int_t id)
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
