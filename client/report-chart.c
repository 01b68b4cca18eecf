/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * A run's timeline (GET /v1/runs/ID/timeline) as an inline SVG chart
 * for the HTML report: bulk throughput above, lockdown-query latency
 * below, on one time axis; failed probes as red ticks under the latency
 * and the run's events as vertical lines through both, each with a
 * <title> for a pointer and listed under the chart for print. A bucket
 * where nothing of a kind ran breaks its line rather than drawing zero:
 * no line is drawn where nothing was measured.
 */

#include <sys/param.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "compat/compat.h"
#include "client.h"
#include "linkq.h"
#include "report-html.h"

/* The chart's geometry, in SVG user units. */
#define CH_W		760
#define CH_LEFT		64
#define CH_RIGHT	12
#define CH_PANEL	100	/* each panel's height */
#define CH_TOP1		14	/* throughput panel */
#define CH_TOP2		144	/* latency panel */
#define CH_AXIS		(CH_TOP2 + CH_PANEL + 16)
#define CH_H		(CH_AXIS + 8)
#define CH_PLOT_W	(CH_W - CH_LEFT - CH_RIGHT)

void
html_puts(FILE *f, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

/* A real member, or NAN for null or none. */
static double
num(json_t *o, const char *key)
{
	json_t	*v = json_object_get(o, key);

	return (json_is_number(v) ? json_number_value(v) : NAN);
}

static double
chart_x(double t_ms, double span_ms)
{
	return (CH_LEFT + (span_ms > 0 ? t_ms / span_ms : 0) * CH_PLOT_W);
}

/* The top of a scale for key: above its largest value; NAN if none. */
static double
chart_max(json_t *points, const char *key)
{
	json_t	*p;
	double	 m = NAN, v;
	size_t	 i;

	json_array_foreach(points, i, p) {
		if (isfinite(v = num(p, key)) && !(v <= m))
			m = v;
	}
	return (m > 0 ? m * 1.1 : m == 0 ? 1 : m);
}

/* Whether point i of key has a value. */
static int
chart_has(json_t *points, size_t i, const char *key)
{
	return (isfinite(num(json_array_get(points, i), key)));
}

/* Where point p of value v goes, at the middle of its bucket. */
static void
chart_xy(json_t *p, double v, double span_ms, double bucket_ms, int top,
    double ymax, double *x, double *y)
{
	*x = chart_x(num(p, "t_ms") + bucket_ms / 2, span_ms);
	if (*x > CH_LEFT + CH_PLOT_W)
		*x = CH_LEFT + CH_PLOT_W;
	*y = top + CH_PANEL - (ymax > 0 ? v / ymax : 0) * CH_PANEL;
}

/*
 * One series as a path in the panel at top scaled to ymax; a point
 * without a value lifts the pen, and a point alone between two such is
 * a dot, which a path of one point would not show.
 */
static void
chart_path(FILE *f, json_t *points, const char *key, double span_ms,
    double bucket_ms, int top, double ymax, const char *cls)
{
	json_t	*p;
	double	 v, x, y;
	size_t	 i;
	int	 pen = 0, any = 0;

	json_array_foreach(points, i, p) {
		if (!isfinite(v = num(p, key))) {
			pen = 0;
			continue;
		}
		if (!any)
			fprintf(f, "<path class=\"%s\" d=\"", cls);
		any = 1;
		chart_xy(p, v, span_ms, bucket_ms, top, ymax, &x, &y);
		fprintf(f, "%s%.1f %.1f", pen ? " L" : " M", x, y);
		pen = 1;
	}
	if (any)
		fputs("\"/>\n", f);
	json_array_foreach(points, i, p) {
		if (!isfinite(v = num(p, key)) || (i > 0 &&
		    chart_has(points, i - 1, key)) ||
		    chart_has(points, i + 1, key))
			continue;
		chart_xy(p, v, span_ms, bucket_ms, top, ymax, &x, &y);
		fprintf(f, "<circle class=\"%s dot\" cx=\"%.1f\" cy=\"%.1f\" "
		    "r=\"2.5\"/>\n", cls, x, y);
	}
}

/* A panel's frame, its name and its scale. */
static void
chart_panel(FILE *f, int top, const char *name, double ymax, int any)
{
	fprintf(f, "<rect class=\"frame\" x=\"%d\" y=\"%d\" width=\"%d\" "
	    "height=\"%d\"/>\n", CH_LEFT, top, CH_PLOT_W, CH_PANEL);
	fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"lbl\">%s</text>\n",
	    CH_LEFT + 4, top + 11, name);
	if (!any) {
		fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"none\">none "
		    "measured</text>\n", CH_LEFT + CH_PLOT_W / 2,
		    top + CH_PANEL / 2);
		return;
	}
	fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"ax\">%.3g</text>\n",
	    CH_LEFT - 4, top + 8, ymax);
	fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"ax\">0</text>\n",
	    CH_LEFT - 4, top + CH_PANEL);
}

/* The time axis: start, middle, end. */
static void
chart_axis(FILE *f, double span_ms)
{
	char	buf[32];
	int	i;

	for (i = 0; i <= 2; i++) {
		client_duration((json_int_t)(span_ms * i / 2), buf,
		    sizeof(buf));
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" class=\"t%d\">%s</text>"
		    "\n", chart_x(span_ms * i / 2, span_ms), CH_AXIS, i, buf);
	}
}

/* Failed probes: a tick under the latency panel where they were. */
static void
chart_failures(FILE *f, json_t *points, double span_ms, double bucket_ms)
{
	json_t		*p;
	json_int_t	 n;
	char		 at[32];
	size_t		 i;

	json_array_foreach(points, i, p) {
		if ((n = json_integer_value(json_object_get(p,
		    "failures"))) <= 0)
			continue;
		client_duration((json_int_t)num(p, "t_ms"), at, sizeof(at));
		fprintf(f, "<rect class=\"fail\" x=\"%.1f\" y=\"%d\" "
		    "width=\"%.1f\" height=\"8\"><title>%lld failed probe%s "
		    "at %s</title></rect>\n", chart_x(num(p, "t_ms"), span_ms),
		    CH_TOP2 + CH_PANEL - 8, MAX(2.0, bucket_ms / span_ms *
		    CH_PLOT_W), (long long)n, n == 1 ? "" : "s", at);
	}
}

/* Whether an event kind is one of the hard faults (linkq.h's table). */
static int
event_hard(json_t *e)
{
	return (lq_hard_from_name(client_str(e, "kind", "")) != -1);
}

/* The events as lines through both panels. */
static void
chart_events(FILE *f, json_t *events, double span_ms)
{
	json_t	*e;
	double	 x;
	char	 at[32];
	size_t	 i;

	json_array_foreach(events, i, e) {
		x = chart_x(num(e, "t_ms"), span_ms);
		x = MAX(CH_LEFT, MIN(x, CH_LEFT + CH_PLOT_W));
		client_duration((json_int_t)num(e, "t_ms"), at, sizeof(at));
		fprintf(f, "<line class=\"%s\" x1=\"%.1f\" x2=\"%.1f\" "
		    "y1=\"%d\" y2=\"%d\"><title>%s ", event_hard(e) ?
		    "ev hard" : "ev", x, x, CH_TOP1, CH_TOP2 + CH_PANEL, at);
		html_puts(f, client_str(e, "kind", "?"));
		fputs(": ", f);
		html_puts(f, client_str(e, "detail", ""));
		fputs("</title></line>\n", f);
	}
}

/* The events as a table, for print and for what a line hides. */
static void
chart_event_list(FILE *f, json_t *t)
{
	json_t		*events = json_object_get(t, "events"), *e;
	json_int_t	 total;
	char		 at[32];
	size_t		 i;

	total = json_integer_value(json_object_get(t, "events_total"));
	if (json_array_size(events) == 0) {
		fputs("<p class=\"note\">No event was recorded in this run."
		    "</p>\n", f);
		return;
	}
	fputs("<table class=\"events\"><tr><th>at</th><th>source</th>"
	    "<th>event</th><th>errno</th><th>detail</th></tr>\n", f);
	json_array_foreach(events, i, e) {
		client_duration((json_int_t)num(e, "t_ms"), at, sizeof(at));
		fprintf(f, "<tr%s><td>%s</td><td>", event_hard(e) ?
		    " class=\"hard\"" : "", at);
		html_puts(f, client_str(e, "source", ""));
		fputs("</td><td>", f);
		html_puts(f, client_str(e, "kind", ""));
		fputs("</td><td>", f);
		if (json_is_integer(json_object_get(e, "errno")))
			fprintf(f, "%lld", (long long)json_integer_value(
			    json_object_get(e, "errno")));
		fputs("</td><td>", f);
		html_puts(f, client_str(e, "detail", ""));
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
	if ((size_t)total > json_array_size(events))
		fprintf(f, "<p class=\"note\">%lld more events are not shown: "
		    "linkq events lists them all.</p>\n",
		    (long long)(total - (json_int_t)json_array_size(events)));
}

void
report_chart_write(FILE *f, json_t *t)
{
	json_t	*points = json_object_get(t, "points");
	double	 span = num(t, "span_ms"), bucket = num(t, "bucket_ms");
	double	 mb = chart_max(points, "mb_s");
	double	 lat = chart_max(points, "lat_max_ms");

	if (!isfinite(span) || span <= 0)
		span = 1;
	if (!isfinite(bucket))
		bucket = 1000;
	fprintf(f, "<svg class=\"chart\" viewBox=\"0 0 %d %d\" width=\"%d\" "
	    "height=\"%d\" role=\"img\" aria-label=\"throughput and latency "
	    "over time\">\n", CH_W, CH_H, CH_W, CH_H);
	chart_panel(f, CH_TOP1, "bulk MB/s (both ways)", mb, isfinite(mb));
	chart_panel(f, CH_TOP2, "lockdown-query ms (mean, max)", lat,
	    isfinite(lat));
	chart_path(f, points, "mb_s", span, bucket, CH_TOP1, mb, "mb");
	chart_path(f, points, "lat_max_ms", span, bucket, CH_TOP2, lat,
	    "latmax");
	chart_path(f, points, "lat_ms", span, bucket, CH_TOP2, lat, "lat");
	chart_failures(f, points, span, bucket);
	chart_events(f, json_object_get(t, "events"), span);
	chart_axis(f, span);
	fputs("</svg>\n", f);
	fprintf(f, "<p class=\"note\">Each point is %.0f s; red ticks are "
	    "failed probes, lines are the run's events (red: a hard fault)."
	    "</p>\n", bucket / 1000);
	chart_event_list(f, t);
}
