/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * linkq report --html (issue 18, item 2): the report as one
 * self-contained HTML page. No network and no script: the CSS and the
 * SVG charts are inline, and a Content-Security-Policy forbids the page
 * any fetch, so a page mailed with an RMA reads the same anywhere and
 * prints (@media print). Every string from the database or linkqd is
 * HTML-escaped: labels are user input.
 *
 * The page is built from the struct lq_report the text and JSON
 * printers use, and from a source of runs and timelines: the database
 * (--db) or linkqd (GET /v1/runs, GET /v1/runs/ID/timeline). Its size
 * is bounded: the newest REPORT_HTML_RUNS runs of each cell are drawn,
 * at most REPORT_HTML_RUNS_MAX in all, each in at most
 * LQ_TIMELINE_POINTS points, and the page says what it left out.
 *
 * Single-threaded; the writer owns nothing it is given.
 */

#ifndef LQ_REPORT_HTML_H
#define LQ_REPORT_HTML_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "lq-report.h"

/* Runs drawn per cable x port cell, and in the whole page. */
#define REPORT_HTML_RUNS	3
#define REPORT_HTML_RUNS_MAX	120

/*
 * Where the runs and timelines come from. Each call returns a new
 * reference the writer releases, or NULL with *cause allocated (the
 * page then says the part is missing, and why).
 */
struct report_html_source {
	/*
	 * The ended qualification runs of cable (NULL: runs without one)
	 * on port (a path) started at or after since_us, newest first, at
	 * most limit: a JSON array of run objects (GET /v1/runs/ID).
	 */
	json_t	*(*runs)(void *, const char *, const char *, int64_t,
		    unsigned int, char **);
	/* The run's timeline (GET /v1/runs/ID/timeline, lq-history.h). */
	json_t	*(*timeline)(void *, int64_t, char **);
	void	*arg;
};

/* report-source.c: a source on an open database, or on linkqd. */
struct sqlite3;
void	report_html_source_db(struct report_html_source *,
	    struct sqlite3 *);
void	report_html_source_daemon(struct report_html_source *);

/*
 * Write rep (grouped by pair: the page draws the cable x port matrix)
 * as a page on f. 0, or -1 (rep not by pair, or f failed: errno).
 */
int	report_html_write(FILE *, const struct lq_report *,
	    const struct report_html_source *);

/* report-chart.c: a timeline as an inline SVG chart and event list. */
void	report_chart_write(FILE *, json_t *);
/* s HTML-escaped (text and attribute values alike); NULL as "". */
void	html_puts(FILE *, const char *);

#endif /* LQ_REPORT_HTML_H */
