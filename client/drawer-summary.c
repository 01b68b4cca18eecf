/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * What linkq drawer shows of its results (drawer.h): each verdict large
 * and unmistakable on a terminal (a banner in colour, the bell on a
 * FAIL) and in plain words in a pipe, and the summary that ends a
 * session: each test, the cables to throw away, the MARGINAL ones to
 * retest or retire, and the exit status linkq(1) gives it.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "compat/compat.h"
#include "client.h"
#include "drawer.h"
#include "follow.h"
#include "lq-table.h"
#include "xmalloc.h"

/* The banner's colours: white on green, black on yellow, white on red. */
static const char *
banner_color(const char *verdict)
{
	if (!opt_color)
		return ("");
	if (strcmp(verdict, "PASS") == 0)
		return ("\033[1;97;42m");
	if (strcmp(verdict, "MARGINAL") == 0)
		return ("\033[1;30;43m");
	if (strcmp(verdict, "FAIL") == 0)
		return ("\033[1;97;41m");
	return ("\033[1;7m");
}

/* The verdict, large on a terminal, in plain words in a pipe. */
void
drawer_show_verdict(const struct drawer_result *r, json_t *end)
{
	char		 text[160], mb[32] = "";
	const char	*on, *off;
	size_t		 i, width, max;
	json_t		*reason;
	int		 tty = !opt_json && isatty(STDOUT_FILENO);

	if (r->mb_s >= 0)
		(void)snprintf(mb, sizeof(mb), ", %.1f MB/s", r->mb_s);
	if (!tty) {
		printf("%s on %s: %s%s\n", r->label, r->port, r->verdict, mb);
	} else {
		(void)snprintf(text, sizeof(text), "   %s   %s on %s%s",
		    r->verdict, r->label, r->port, mb);
		/* The bars fit the terminal; a longer text wraps in colour. */
		max = follow_term_width() - 1;
		width = max > 60 ? 60 : max;
		if (strlen(text) + 3 > width)
			width = strlen(text) + 3 < max ? strlen(text) + 3 : max;
		on = banner_color(r->verdict);
		off = opt_color ? "\033[0m" : "";
		if (opt_color) {
			printf("\n%s%*s%s\n", on, (int)width, "", off);
			printf("%s%-*s%s\n", on, (int)width, text, off);
			printf("%s%*s%s\n", on, (int)width, "", off);
		} else {
			for (i = 0; i < width; i++)
				putchar('#');
			printf("\n%s\n", text);
			for (i = 0; i < width; i++)
				putchar('#');
			putchar('\n');
		}
		if (strcmp(r->verdict, "FAIL") == 0)
			putchar('\a');
	}
	json_array_foreach(json_object_get(end, "reasons"), i, reason)
		follow_reason(json_string_value(reason), tty);
	if (json_array_size(json_object_get(end, "reasons")) == 0 &&
	    r->reason[0] != '\0')
		follow_reason(r->reason, tty);
	(void)fflush(stdout);
}


/* Join the labels of v with ", " into buf. */
static void
join(const char **v, size_t n, char *buf, size_t len)
{
	size_t	i;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0)
			(void)strlcat(buf, ", ", len);
		(void)strlcat(buf, v[i], len);
	}
}

/* Whether label is already in v. */
static int
seen(const char **v, size_t n, const char *label)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (strcmp(v[i], label) == 0)
			return (1);
	}
	return (0);
}

/* What each cable comes to: the FAILs to throw away, MARGINALs. */
static void
drawer_verdicts(const struct drawer_session *s, const char **bad,
    size_t *nbad, const char **retest, size_t *nretest)
{
	const struct drawer_result	*r;
	size_t				 i;

	*nbad = *nretest = 0;
	for (i = 0; i < s->nresults; i++) {
		r = &s->results[i];
		if (strcmp(r->verdict, "FAIL") == 0 &&
		    !drawer_swap_cleared(s, r) &&
		    !seen(bad, *nbad, r->label))
			bad[(*nbad)++] = r->label;
	}
	for (i = 0; i < s->nresults; i++) {
		r = &s->results[i];
		if (strcmp(r->verdict, "MARGINAL") == 0 &&
		    !seen(bad, *nbad, r->label) &&
		    !seen(retest, *nretest, r->label))
			retest[(*nretest)++] = r->label;
	}
}

/* The ports a finding put a FAIL on, into v (room for each finding). */
static void
drawer_bad_ports(const struct drawer_session *s, const char **v, size_t *n)
{
	size_t	i;

	*n = 0;
	for (i = 0; i < s->nfindings; i++) {
		if (strcmp(s->findings[i].fault, "port") == 0 &&
		    !seen(v, *n, s->findings[i].port))
			v[(*n)++] = s->findings[i].port;
	}
}

/* The exit status of the session, as linkq(1) documents it. */
int
drawer_status(const struct drawer_session *s)
{
	int	pass = 0, marginal = 0;
	size_t	i;

	for (i = 0; i < s->nresults; i++) {
		if (strcmp(s->results[i].verdict, "FAIL") == 0)
			return (LQ_EXIT_FAIL);
		marginal |= strcmp(s->results[i].verdict, "MARGINAL") == 0;
		pass |= strcmp(s->results[i].verdict, "PASS") == 0;
	}
	if (marginal)
		return (LQ_EXIT_MARGINAL);
	return (pass ? LQ_EXIT_PASS : LQ_EXIT_NO_DEVICE);
}

static void
summary_json(const struct drawer_session *s, const char **bad, size_t nbad,
    const char **retest, size_t nretest, int status)
{
	json_t	*rows, *b, *m, *f;
	size_t	 i;

	rows = json_array();
	for (i = 0; i < s->nresults; i++)
		(void)json_array_append_new(rows,
		    drawer_result_json(&s->results[i]));
	b = json_array();
	for (i = 0; i < nbad; i++)
		(void)json_array_append_new(b, json_string(bad[i]));
	m = json_array();
	for (i = 0; i < nretest; i++)
		(void)json_array_append_new(m, json_string(retest[i]));
	f = json_array();
	for (i = 0; i < s->nfindings; i++)
		(void)json_array_append_new(f, json_pack("{s:s, s:s, s:s, "
		    "s:s}", "cable", s->findings[i].cable, "port",
		    s->findings[i].port, "fault", s->findings[i].fault,
		    "text", s->findings[i].text));
	drawer_json_line("summary", json_pack("{s:o, s:o, s:o, s:o, s:i}",
	    "cables", rows, "throw_away", b, "retest", m, "findings", f,
	    "status", status));
}

/*
 * The tests as a table fitted to width (0: each row one line); the
 * verdict coloured only on a terminal.
 */
static void
summary_table(const struct drawer_session *s, size_t width)
{
	const struct drawer_result	*r;
	struct lq_table			*t;
	const char			*color;
	size_t				 i;

	t = lq_table_new();
	lq_table_column(t, "CABLE", LQ_TABLE_FLEX);
	lq_table_column(t, "PORT", LQ_TABLE_FLEX);
	lq_table_column(t, "VERDICT", 0);
	lq_table_column(t, "MB/S", LQ_TABLE_RIGHT);
	lq_table_column(t, "REASON", LQ_TABLE_FLEX);
	for (i = 0; i < s->nresults; i++) {
		r = &s->results[i];
		lq_table_row(t);
		lq_table_cell(t, NULL, "%s", r->label);
		lq_table_cell(t, NULL, "%s", r->port);
		color = client_verdict_color(r->verdict);
		lq_table_cell(t, *color != '\0' ? color : NULL, "%s",
		    r->verdict);
		if (r->mb_s >= 0)
			lq_table_cell(t, NULL, "%.1f", r->mb_s);
		else
			lq_table_cell(t, NULL, "%s", "-");
		lq_table_cell(t, NULL, "%s%s", r->swap ? "(swap) " : "",
		    r->reason[0] != '\0' ? r->reason : "-");
	}
	lq_table_print(stdout, t, width);
	lq_table_free(t);
}

/* "what: a, b" wrapped to width, or "what: none" when n is 0. */
static void
summary_list(const char *what, const char **v, size_t n, size_t width)
{
	char	*line, list[1024];

	join(v, n, list, sizeof(list));
	(void)xasprintf(&line, "%s: %s", what, n > 0 ? list : "none");
	lq_text_wrap(stdout, 0, line, width);
	free(line);
}

/* The summary: each cable, its port, verdict, throughput and reason. */
void
drawer_summary(const struct drawer_session *s, int status)
{
	const char	**bad, **retest;
	char		 *line;
	size_t		  i, nbad, nretest, width;

	/* Room for the cables, and for the ports of the findings. */
	bad = xcalloc(s->nresults + s->nfindings + 1, sizeof(*bad));
	retest = xcalloc(s->nresults + 1, sizeof(*retest));
	drawer_verdicts(s, bad, &nbad, retest, &nretest);
	if (opt_json) {
		summary_json(s, bad, nbad, retest, nretest, status);
		goto out;
	}
	width = lq_term_width(STDOUT_FILENO);
	printf("\ndrawer summary: %zu test%s\n", s->nresults,
	    s->nresults == 1 ? "" : "s");
	if (s->nresults > 0)
		summary_table(s, width);
	for (i = 0; i < s->nfindings; i++) {
		(void)xasprintf(&line, "found: %s", s->findings[i].text);
		lq_text_wrap(stdout, 0, line, width);
		free(line);
	}
	summary_list("throw away", bad, nbad, width);
	drawer_bad_ports(s, bad, &nbad);
	if (nbad > 0)
		summary_list(nbad > 1 ? "ports at fault" : "port at fault",
		    bad, nbad, width);
	if (nretest > 0)
		summary_list("retest or retire", retest, nretest, width);
out:
	(void)fflush(stdout);
	free(bad);
	free(retest);
}

