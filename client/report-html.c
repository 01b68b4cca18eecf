/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The HTML report's page (contract in report-html.h): the cable x port
 * matrix coloured by verdict, each cell a link to its section; the
 * results as the text report gives them, with each verdict's exposure
 * and reasons; the blame with its evidence; the restores; then one
 * section per cell with its newest runs and their timelines.
 */

#include <sys/param.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "compat/compat.h"
#include "client.h"
#include "linkq.h"
#include "lq-exposure.h"
#include "lq-report.h"
#include "lq-time.h"
#include "report-html.h"
#include "xmalloc.h"

/*
 * The page's style: the verdict colours of the matrix, tables that
 * print, charts that keep their colours on paper. No URL anywhere: the
 * policy below forbids every fetch.
 */
static const char html_style[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}\n"
    "h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;"
    "border-bottom:1px solid #ccc}h3{font-size:1.05em}\n"
    "table{border-collapse:collapse;margin:.5em 0}\n"
    "td,th{border:1px solid #bbb;padding:.25em .5em;text-align:left;"
    "vertical-align:top}\n"
    "th{background:#f2f2f2}\n"
    ".matrix td{text-align:center;min-width:7em}\n"
    ".matrix td a{color:inherit;display:block;text-decoration:none}\n"
    ".v-PASS{background:#c8e6c9;color:#1b5e20}\n"
    ".v-MARGINAL{background:#fff3c4;color:#7a5a00}\n"
    ".v-FAIL{background:#ffcdd2;color:#b71c1c}\n"
    ".v-none{background:#e0e0e0;color:#444}\n"
    ".v-untested{background:#fff;color:#999}\n"
    ".verdict{font-weight:bold}\n"
    ".b-bad{color:#b71c1c;font-weight:bold}.b-good{color:#1b5e20}"
    ".b-unknown{color:#7a5a00}\n"
    ".note{color:#555;font-size:.9em}\n"
    "ul.reasons{margin:.2em 0 .6em 1.2em;padding:0}\n"
    ".run{margin:1em 0 2em;break-inside:avoid}\n"
    ".chart{max-width:100%;height:auto;font-size:10px}\n"
    ".chart .frame{fill:#fafafa;stroke:#bbb}\n"
    ".chart .mb{fill:none;stroke:#1565c0;stroke-width:1.5}\n"
    ".chart .lat{fill:none;stroke:#6a1b9a;stroke-width:1.5}\n"
    ".chart .latmax{fill:none;stroke:#ce93d8;stroke-width:1}\n"
    ".chart .fail{fill:#c62828}\n"
    ".chart .mb.dot{fill:#1565c0}.chart .lat.dot{fill:#6a1b9a}"
    ".chart .latmax.dot{fill:#ce93d8}\n"
    ".chart .ev{stroke:#888;stroke-dasharray:3 2}\n"
    ".chart .ev.hard{stroke:#c62828;stroke-dasharray:none}\n"
    ".chart .lbl{fill:#333}.chart .none{fill:#999;text-anchor:middle}\n"
    ".chart .ax,.chart .t2{text-anchor:end}.chart .t1{text-anchor:middle}"
    "\n"
    "table.events{font-size:.9em}tr.hard td{color:#b71c1c}\n"
    "@media print{body{margin:0;font-size:11px}a{color:inherit;"
    "text-decoration:none}h2{break-after:avoid}section.cell{"
    "break-before:page}*{-webkit-print-color-adjust:exact;"
    "print-color-adjust:exact}}\n";

/* The cables and ports of the matrix, in order. */
struct axes {
	const char	**cables;	/* NULL: runs without a cable */
	size_t		  ncables;
	const struct lq_report_row **ports;	/* a row naming the port */
	size_t		  nports;
};

static int
str_cmp_null(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == NULL ? (b == NULL ? 0 : 1) : -1);
	return (strcmp(a, b));
}

static int
cmp_cable(const void *a, const void *b)
{
	return (str_cmp_null(*(const char *const *)a,
	    *(const char *const *)b));
}

static int
cmp_port(const void *a, const void *b)
{
	const struct lq_report_row *const	*x = a, *const *y = b;

	return (str_cmp_null((*x)->port, (*y)->port));
}

/* The distinct cables and ports of the rows, sorted; NULL cable last. */
static void
axes_build(const struct lq_report *rep, struct axes *ax)
{
	size_t	i, j;

	ax->cables = xcalloc(rep->nrows + 1, sizeof(*ax->cables));
	ax->ports = xcalloc(rep->nrows + 1, sizeof(*ax->ports));
	ax->ncables = ax->nports = 0;
	for (i = 0; i < rep->nrows; i++) {
		for (j = 0; j < ax->ncables; j++) {
			if (str_cmp_null(ax->cables[j],
			    rep->rows[i].cable) == 0)
				break;
		}
		if (j == ax->ncables)
			ax->cables[ax->ncables++] = rep->rows[i].cable;
		for (j = 0; j < ax->nports; j++) {
			if (str_cmp_null(ax->ports[j]->port,
			    rep->rows[i].port) == 0)
				break;
		}
		if (j == ax->nports)
			ax->ports[ax->nports++] = &rep->rows[i];
	}
	qsort(ax->cables, ax->ncables, sizeof(*ax->cables), cmp_cable);
	qsort(ax->ports, ax->nports, sizeof(*ax->ports), cmp_port);
}

/* The row of cable on port, and its index, or NULL. */
static const struct lq_report_row *
cell_find(const struct lq_report *rep, const char *cable, const char *port,
    size_t *idx)
{
	size_t	i;

	for (i = 0; i < rep->nrows; i++) {
		if (str_cmp_null(rep->rows[i].cable, cable) == 0 &&
		    str_cmp_null(rep->rows[i].port, port) == 0) {
			*idx = i;
			return (&rep->rows[i]);
		}
	}
	return (NULL);
}

static const char *
verdict_of(const struct lq_report_row *r)
{
	const char	*v = lq_verdict_name(r->verdict);

	return (v != NULL ? v : "none");
}

/* "1-1 (front-left)" */
static void
port_name(FILE *f, const struct lq_report_row *r)
{
	html_puts(f, r->port != NULL ? r->port : "?");
	if (r->port_label != NULL) {
		fputs(" (", f);
		html_puts(f, r->port_label);
		fputc(')', f);
	}
}

static void
cable_name(FILE *f, const char *cable)
{
	if (cable != NULL)
		html_puts(f, cable);
	else
		fputs("<i>no cable named</i>", f);
}

static void
page_head(FILE *f, const struct lq_report *rep)
{
	char	now[40], since[40];

	client_time(lq_wall_now_us(), now, sizeof(now));
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n"
	    "<meta http-equiv=\"Content-Security-Policy\" content=\""
	    "default-src 'none'; style-src 'unsafe-inline'\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width\">\n"
	    "<meta name=\"generator\" content=\"linkq\">\n", f);
	fprintf(f, "<title>linkq report %s</title>\n<style>\n%s</style>\n"
	    "</head>\n<body>\n<h1>linkq report</h1>\n<p>Written %s, "
	    "from the runs ", now, html_style, now);
	if (rep->since_us > 0) {
		client_time(rep->since_us, since, sizeof(since));
		fprintf(f, "started since %s.", since);
	} else
		fputs("of all the history.", f);
	fputs(" Only ended qualification runs count: a cancelled or "
	    "interrupted run is no evidence.</p>\n", f);
}

/* One cell of the matrix. */
static void
matrix_cell(FILE *f, const struct lq_report *rep, const char *cable,
    const struct lq_report_row *port)
{
	const struct lq_report_row	*r;
	size_t				 i;

	if ((r = cell_find(rep, cable, port->port, &i)) == NULL) {
		fputs("<td class=\"v-untested\" data-verdict=\"untested\" "
		    "data-cable=\"", f);
		html_puts(f, cable);
		fputs("\" data-port=\"", f);
		html_puts(f, port->port);
		fputs("\">not tested</td>", f);
		return;
	}
	fprintf(f, "<td class=\"v-%s\" data-verdict=\"%s\" data-cable=\"",
	    verdict_of(r), verdict_of(r));
	html_puts(f, cable);
	fputs("\" data-port=\"", f);
	html_puts(f, port->port);
	fprintf(f, "\"><a href=\"#cell-%zu\"><span class=\"verdict\">%s"
	    "</span><br>%" PRIu64 " run%s</a></td>", i, verdict_of(r),
	    r->runs, r->runs == 1 ? "" : "s");
}

static void
page_matrix(FILE *f, const struct lq_report *rep, const struct axes *ax)
{
	size_t	i, j;

	fputs("<h2 id=\"matrix\">Cables &times; ports</h2>\n", f);
	if (ax->ncables == 0) {
		fputs("<p>No qualification run has ended yet.</p>\n", f);
		return;
	}
	fputs("<table class=\"matrix\">\n<tr><th>cable \\ port</th>", f);
	for (j = 0; j < ax->nports; j++) {
		fputs("<th>", f);
		port_name(f, ax->ports[j]);
		fputs("</th>", f);
	}
	fputs("</tr>\n", f);
	for (i = 0; i < ax->ncables; i++) {
		fputs("<tr><th>", f);
		cable_name(f, ax->cables[i]);
		fputs("</th>", f);
		for (j = 0; j < ax->nports; j++)
			matrix_cell(f, rep, ax->cables[i], ax->ports[j]);
		fputs("</tr>\n", f);
	}
	fputs("</table>\n<p class=\"note\">PASS green, MARGINAL amber, "
	    "FAIL red, grey: runs without a verdict. A cell links to its "
	    "runs.</p>\n", f);
}

/*
 * What a row's verdict rests on, in the words of the verdict's reasons
 * (lq-exposure.h: rounded down, never overstated).
 */
static void
row_exposure(FILE *f, const struct lq_report_row *r)
{
	char	load[32], bytes[32], n[32];

	fprintf(f, "%s under load, %s moved both ways, %s round trip%s",
	    lq_fmt_duration(load, sizeof(load), r->load_us),
	    lq_fmt_si_bytes(bytes, sizeof(bytes), r->bytes),
	    lq_fmt_count(n, sizeof(n), r->round_trips),
	    r->round_trips == 1 ? "" : "s");
}

static void
row_reasons(FILE *f, const struct lq_report_row *r)
{
	int	i;

	if (r->nreasons == 0)
		return;
	fputs("<ul class=\"reasons\">", f);
	for (i = 0; i < r->nreasons; i++) {
		fputs("<li>", f);
		html_puts(f, r->reasons[i]);
		fputs("</li>", f);
	}
	fputs("</ul>", f);
}

/* d with prec decimals, or "-". */
static void
real_cell(FILE *f, double a, double b, int prec)
{
	fputs("<td>", f);
	if (isfinite(a))
		fprintf(f, "%.*f", prec, a);
	else
		fputc('-', f);
	fputc('/', f);
	if (isfinite(b))
		fprintf(f, "%.*f", prec, b);
	else
		fputc('-', f);
	fputs("</td>", f);
}

static void
results_row(FILE *f, const struct lq_report_row *r, size_t i)
{
	char	when[40];

	fprintf(f, "<tr><td><a href=\"#cell-%zu\">", i);
	cable_name(f, r->cable);
	fputs("</a></td><td>", f);
	port_name(f, r);
	fprintf(f, "</td><td class=\"v-%s verdict\">%s</td>"
	    "<td>%" PRIu64 " (%" PRIu64 "/%" PRIu64 "/%" PRIu64 ")</td>"
	    "<td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>%.3g%%</td>"
	    "<td>%" PRIu64 "/%" PRIu64 "/%" PRIu64 "/%" PRIu64 "</td>",
	    verdict_of(r), verdict_of(r), r->runs, r->passed, r->marginal,
	    r->failed, r->probes, r->failures, r->cp_upper * 100,
	    r->dropouts, r->resets, r->link_errors, r->corruptions);
	real_cell(f, r->bulk_p50, r->bulk_p5, 1);
	real_cell(f, r->lat_p50, r->lat_p99, 2);
	client_time(r->last_us, when, sizeof(when));
	fputs("<td>", f);
	row_exposure(f, r);
	fprintf(f, "</td><td>%s</td></tr>\n", when);
	if (r->nreasons > 0) {
		fputs("<tr><td></td><td colspan=\"10\">", f);
		row_reasons(f, r);
		fputs("</td></tr>\n", f);
	}
}

static void
page_results(FILE *f, const struct lq_report *rep)
{
	size_t	i;

	fputs("<h2 id=\"results\">Results, best first</h2>\n<table>\n"
	    "<tr><th>cable</th><th>port</th><th>verdict</th>"
	    "<th>runs (P/M/F)</th><th>probes</th><th>failed</th>"
	    "<th>CP95</th><th>drop/reset/link/corrupt</th>"
	    "<th>MB/s p50/p5</th><th>lat ms p50/p99</th>"
	    "<th>exposure</th><th>last tested</th></tr>\n", f);
	for (i = 0; i < rep->nrows; i++)
		results_row(f, &rep->rows[i], i);
	fputs("</table>\n<p class=\"note\">CP95: the one-sided 95% upper "
	    "bound of the failure rate. MB/s and latency percentiles are "
	    "across runs.</p>\n", f);
}

static void
blame_items(FILE *f, const char *what, const struct lq_blame_item *v,
    size_t n)
{
	const char	*st;
	size_t		 i;

	for (i = 0; i < n; i++) {
		st = lq_blame_state_name(v[i].state);
		fprintf(f, "<tr><td>%s</td><td>", what);
		html_puts(f, v[i].name);
		fprintf(f, "</td><td class=\"b-%s\">%s</td><td>", st, st);
		html_puts(f, v[i].evidence);
		fputs("</td></tr>\n", f);
	}
}

static void
page_blame(FILE *f, const struct lq_report *rep)
{
	const struct lq_blame	*b = &rep->blame;
	size_t			 i;

	fputs("<h2 id=\"blame\">Blame</h2>\n", f);
	if (b->ncables + b->nports + b->ndevices == 0) {
		fputs("<p>No cable has been tested yet.</p>\n", f);
		return;
	}
	fputs("<table>\n<tr><th></th><th>name</th><th>state</th>"
	    "<th>evidence</th></tr>\n", f);
	blame_items(f, "cable", b->cables, b->ncables);
	blame_items(f, "port", b->ports, b->nports);
	blame_items(f, "device", b->devices, b->ndevices);
	fputs("</table>\n", f);
	if (b->ntests == 0)
		return;
	fputs("<h3>Next tests</h3>\n<ul>\n", f);
	for (i = 0; i < b->ntests; i++) {
		fputs("<li>", f);
		html_puts(f, b->tests[i].cable != NULL ? b->tests[i].cable :
		    "another cable");
		fputs(" on ", f);
		html_puts(f, b->tests[i].port != NULL ? b->tests[i].port :
		    "another port");
		fputs(": ", f);
		html_puts(f, b->tests[i].why);
		fputs("</li>\n", f);
	}
	fputs("</ul>\n", f);
}

static void
restore_row(FILE *f, const struct lq_restore_row *r)
{
	char	when[40];

	client_time(r->started_us, when, sizeof(when));
	fprintf(f, "<tr><td>%lld</td><td>%s</td><td>", (long long)r->run,
	    when);
	cable_name(f, r->cable);
	fputs("</td><td>", f);
	html_puts(f, r->port);
	fprintf(f, "</td><td class=\"%s\">", r->outcome == NULL ?
	    "b-unknown" : strcmp(r->outcome, "ok") == 0 ? "b-good" :
	    "b-bad");
	html_puts(f, r->outcome != NULL ? r->outcome : "?");
	if (r->exit_signal != 0)
		fprintf(f, "</td><td>signal %d", r->exit_signal);
	else
		fprintf(f, "</td><td>%d", r->exit_status);
	fputs("</td><td>", f);
	html_puts(f, r->step);
	if (isfinite(r->percent))
		fprintf(f, " %.1f%%", r->percent);
	fprintf(f, "</td><td>%lld</td><td>", (long long)r->link_events);
	html_puts(f, r->qualification != NULL ? r->qualification : "never");
	fputs("</td></tr>\n", f);
}

static void
page_restores(FILE *f, const struct lq_report *rep)
{
	size_t	i;

	if (rep->nrestores == 0)
		return;
	fputs("<h2 id=\"restores\">Restores</h2>\n<table>\n<tr><th>run</th>"
	    "<th>started</th><th>cable</th><th>port</th><th>outcome</th>"
	    "<th>exit</th><th>stopped at</th><th>link events</th>"
	    "<th>qualified</th></tr>\n", f);
	for (i = 0; i < rep->nrestores; i++)
		restore_row(f, &rep->restores[i]);
	fputs("</table>\n", f);
	if (rep->nrblame > 0)
		fputs("<ul>\n", f);
	for (i = 0; i < rep->nrblame; i++) {
		fputs("<li><b>", f);
		html_puts(f, rep->rblame[i].target);
		fputs("</b> ", f);
		html_puts(f, rep->rblame[i].name);
		fputs(": ", f);
		html_puts(f, rep->rblame[i].evidence);
		fputs("</li>\n", f);
	}
	if (rep->nrblame > 0)
		fputs("</ul>\n", f);
}

/* One run of a cell: its line and its timeline. */
static void
cell_run(FILE *f, json_t *run, const struct report_html_source *src)
{
	json_t		*t;
	json_int_t	 id = json_integer_value(json_object_get(run, "id"));
	const char	*v = client_str(run, "verdict", NULL);
	char		 when[40], took[32], *cause = NULL;

	client_time(json_integer_value(json_object_get(run, "started_us")),
	    when, sizeof(when));
	client_duration(json_integer_value(json_object_get(run,
	    "elapsed_ms")), took, sizeof(took));
	fprintf(f, "<div class=\"run\" id=\"run-%lld\">\n<h3>Run %lld, ",
	    (long long)id, (long long)id);
	html_puts(f, client_str(run, "profile", "?"));
	fprintf(f, ", %s, %s: <span class=\"v-%s verdict\">", when, took,
	    v != NULL ? v : "none");
	html_puts(f, v != NULL ? v : client_str(run, "state", "?"));
	fputs("</span></h3>\n", f);
	if ((t = src->timeline(src->arg, id, &cause)) == NULL) {
		fputs("<p class=\"note\">No timeline: ", f);
		html_puts(f, cause);
		fputs(".</p>\n</div>\n", f);
		free(cause);
		return;
	}
	report_chart_write(f, t);
	json_decref(t);
	fputs("</div>\n", f);
}

/*
 * How many runs each row may draw within REPORT_HTML_RUNS_MAX: the
 * failures first, then MARGINAL, then rows without a verdict, then
 * PASS, which needs its timelines least.
 */
static size_t *
page_budget(const struct lq_report *rep)
{
	static const enum lq_verdict order[] = { LQ_VERDICT_FAIL,
	    LQ_VERDICT_MARGINAL, LQ_VERDICT_NONE, LQ_VERDICT_PASS };
	size_t	*budget, i, k, n, left = REPORT_HTML_RUNS_MAX;

	budget = xcalloc(rep->nrows + 1, sizeof(*budget));
	for (k = 0; k < nitems(order); k++) {
		for (i = 0; i < rep->nrows; i++) {
			if (rep->rows[i].verdict != order[k])
				continue;
			n = MIN(REPORT_HTML_RUNS, rep->rows[i].runs);
			budget[i] = MIN(n, left);
			left -= budget[i];
		}
	}
	return (budget);
}

/* What a cell leaves out of the page, and why. */
static void
cell_omitted(FILE *f, const struct lq_report_row *r, size_t drawn)
{
	if (drawn >= r->runs)
		return;
	if (drawn == 0)
		fprintf(f, "<p class=\"note\">None of the %" PRIu64 " runs is "
		    "drawn: the page draws at most %d, those of failures "
		    "first (linkq runs lists them).</p>\n", r->runs,
		    REPORT_HTML_RUNS_MAX);
	else
		fprintf(f, "<p class=\"note\">%zu of the %" PRIu64 " runs "
		    "are drawn, the newest; older ones are omitted (linkq "
		    "runs lists them).</p>\n", drawn, r->runs);
}

/* A cell's section: its verdict, exposure, reasons and newest runs. */
static void
page_cell(FILE *f, const struct lq_report *rep, size_t i,
    const struct report_html_source *src, size_t budget)
{
	const struct lq_report_row	*r = &rep->rows[i];
	json_t				*runs = NULL, *run;
	char				*cause = NULL;
	size_t				 j;

	fprintf(f, "<section class=\"cell\" id=\"cell-%zu\">\n<h2>", i);
	cable_name(f, r->cable);
	fputs(" on port ", f);
	port_name(f, r);
	fprintf(f, ": <span class=\"v-%s verdict\">%s</span></h2>\n<p>",
	    verdict_of(r), verdict_of(r));
	fprintf(f, "%" PRIu64 " run%s, ", r->runs, r->runs == 1 ? "" : "s");
	row_exposure(f, r);
	fputs(". <a href=\"#matrix\">Back to the matrix</a>.</p>\n", f);
	row_reasons(f, r);
	if (budget > 0 && (runs = src->runs(src->arg, r->cable, r->port,
	    rep->since_us, (unsigned int)budget, &cause)) == NULL) {
		fputs("<p class=\"note\">The runs could not be read: ", f);
		html_puts(f, cause);
		fputs(".</p>\n", f);
		free(cause);
	}
	json_array_foreach(runs, j, run)
		cell_run(f, run, src);
	cell_omitted(f, r, json_array_size(runs));
	json_decref(runs);
	fputs("</section>\n", f);
}

int
report_html_write(FILE *f, const struct lq_report *rep,
    const struct report_html_source *src)
{
	struct axes	 ax;
	size_t		*budget, i;

	if (rep->by != LQ_REPORT_PAIR) {
		errno = EINVAL;
		return (-1);
	}
	axes_build(rep, &ax);
	page_head(f, rep);
	page_matrix(f, rep, &ax);
	page_results(f, rep);
	page_blame(f, rep);
	page_restores(f, rep);
	budget = page_budget(rep);
	for (i = 0; i < rep->nrows; i++)
		page_cell(f, rep, i, src, budget[i]);
	free(budget);
	fputs("<p class=\"note\">linkq " LINKQ_VERSION "</p>\n</body>\n"
	    "</html>\n", f);
	free(ax.cables);
	free(ax.ports);
	return (ferror(f) ? -1 : 0);
}
