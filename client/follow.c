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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "compat/compat.h"
#include "client.h"
#include "follow.h"
#include "http.h"
#include "lq-table.h"
#include "xmalloc.h"

struct follow_state {
	follow_cb	 cb;
	void		*arg;
	int		 draw_end;	/* the standard line: its end too */
	json_t		*last;		/* the last object of the stream */
};

size_t
follow_term_width(void)
{
	size_t	width = lq_term_width(STDOUT_FILENO);

	return (width > 0 ? width : 80);
}

/*
 * The fields of the progress line, in the order printed, each with the
 * rank it keeps when the line is cut to a terminal's width (0 goes
 * last): which run and how far, then the counts the report will give,
 * the time left, the profile, and only then the elapsed time, the
 * rates, the state and the errors by kind.
 */
enum {
	FIELD_RUN, FIELD_PROFILE, FIELD_STATE, FIELD_PERCENT, FIELD_PROBES,
	FIELD_FAILURES, FIELD_ETA, FIELD_ELAPSED, FIELD_BULK, FIELD_LAST,
	FIELD_ERRORS, FIELD_MAX
};
static const int field_rank[FIELD_MAX] = {
	[FIELD_RUN] = 0, [FIELD_PERCENT] = 1, [FIELD_PROBES] = 2,
	[FIELD_FAILURES] = 2, [FIELD_ETA] = 3, [FIELD_PROFILE] = 4,
	[FIELD_ELAPSED] = 5, [FIELD_BULK] = 6, [FIELD_STATE] = 7,
	[FIELD_LAST] = 8, [FIELD_ERRORS] = 9
};
#define FIELD_RANKS	10
#define FIELD_LEN	160

/* The errors by probe kind: "afc-roundtrip 2 mux-connect 1". */
static void
follow_errors(json_t *o, char *buf, size_t size)
{
	json_t		*v;
	const char	*kind;
	size_t		 len = 0;

	buf[0] = '\0';
	json_object_foreach(json_object_get(o, "errors"), kind, v) {
		if (len >= size)
			break;
		len += (size_t)snprintf(buf + len, size - len, "%s%s %lld",
		    len > 0 ? " " : "", kind,
		    (long long)json_integer_value(v));
	}
}

/* Each field of o in words; "" for one it does not have. */
static void
follow_fields(json_t *o, char f[FIELD_MAX][FIELD_LEN])
{
	json_t	*pct = json_object_get(o, "percent");
	json_t	*eta = json_object_get(o, "eta_ms");
	json_t	*last = json_object_get(o, "last_mb_s");

	memset(f, 0, sizeof(char[FIELD_MAX][FIELD_LEN]));
	(void)snprintf(f[FIELD_RUN], FIELD_LEN, "run %lld",
	    (long long)json_integer_value(json_object_get(o, "id")));
	if (json_is_integer(pct))
		(void)snprintf(f[FIELD_PERCENT], FIELD_LEN, "%3lld%%",
		    (long long)json_integer_value(pct));
	(void)snprintf(f[FIELD_PROBES], FIELD_LEN, "probes %lld",
	    (long long)json_integer_value(json_object_get(o, "probes")));
	(void)snprintf(f[FIELD_FAILURES], FIELD_LEN, "failures %lld",
	    (long long)json_integer_value(json_object_get(o, "failures")));
	/* linkqd's own: from what ends the run; none where none can tell. */
	if (json_is_integer(eta))
		(void)snprintf(f[FIELD_ETA], FIELD_LEN, "eta %llds",
		    (long long)((json_integer_value(eta) + 999) / 1000));
	(void)snprintf(f[FIELD_ELAPSED], FIELD_LEN, "%.1fs",
	    (double)json_integer_value(json_object_get(o, "elapsed_ms")) /
	    1000.0);
	if (json_integer_value(json_object_get(o, "bulk_bytes")) > 0)
		(void)snprintf(f[FIELD_BULK], FIELD_LEN, "bulk avg %.1f MB/s",
		    json_number_value(json_object_get(o, "mb_s")));
	if (json_is_number(last))
		(void)snprintf(f[FIELD_LAST], FIELD_LEN, "last 1s %.1f MB/s",
		    json_number_value(last));
	(void)snprintf(f[FIELD_PROFILE], FIELD_LEN, "%s",
	    client_str(o, "profile", "?"));
	(void)snprintf(f[FIELD_STATE], FIELD_LEN, "%s",
	    client_str(o, "state", "?"));
	follow_errors(o, f[FIELD_ERRORS], FIELD_LEN);
}

/* The fields ranked up to rank, in their order, into buf; its length. */
static size_t
follow_join(char f[FIELD_MAX][FIELD_LEN], int rank, char *buf, size_t size)
{
	size_t	len = 0;
	int	i;

	buf[0] = '\0';
	for (i = 0; i < FIELD_MAX && len < size; i++) {
		if (f[i][0] == '\0' || field_rank[i] > rank)
			continue;
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
		    len > 0 ? " " : "", f[i]);
	}
	return (len);
}

void
follow_text(json_t *o, size_t width, char *buf, size_t size)
{
	char	f[FIELD_MAX][FIELD_LEN];
	int	rank;

	follow_fields(o, f);
	/* Drop whole fields, least needed first, until the line fits. */
	for (rank = FIELD_RANKS - 1; rank > 0; rank--) {
		if (width == 0 || follow_join(f, rank, buf, size) <= width)
			break;
	}
	(void)follow_join(f, rank, buf, size);
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
	size_t			 width = 0;

	/* One column spare: a full line would wrap on some. */
	if (fl->tty && (width = follow_term_width()) > 1)
		width--;
	follow_text(o, width, buf, sizeof(buf));
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
	/* The end's numbers are final: the standard line ends on them. */
	if (!opt_json && fs->cb != NULL && (fs->draw_end ||
	    strcmp(client_str(o, "type", ""), "end") != 0))
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
	fs.draw_end = cb == NULL;
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
