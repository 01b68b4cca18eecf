/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * linkq status: the daemon, its usbmuxd connection, one line per
 * evidence source and one per attached device, from GET /v1/status and
 * GET /v1/devices.
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "compat/compat.h"
#include "client.h"
#include "http.h"
#include "log.h"
#include "lq-table.h"
#include "xmalloc.h"

/* A string member, or def. */
static const char *
str(json_t *o, const char *key, const char *def)
{
	const char	*s = json_string_value(json_object_get(o, key));

	return (s != NULL ? s : def);
}

/*
 * One line per evidence source, and a warning on standard error for
 * each that verdicts rely on and that is off: its verdicts lack that
 * evidence.
 */
static void
print_sources(json_t *st, size_t width)
{
	struct lq_table	*t = lq_table_new();
	json_t		*src;
	size_t		 i;
	int		 on;

	/* No header; the empty first column indents by its gap. */
	lq_table_column(t, "", 0);
	lq_table_column(t, "", 0);
	lq_table_column(t, "", 0);
	lq_table_column(t, "", LQ_TABLE_FLEX);
	json_array_foreach(json_object_get(st, "sources"), i, src) {
		on = json_is_true(json_object_get(src, "on"));
		lq_table_row(t);
		lq_table_cell(t, NULL, "%s", "");
		lq_table_cell(t, NULL, "%s", str(src, "name", "?"));
		lq_table_cell(t, NULL, "%-3s", on ? "on" : "off");
		lq_table_cell(t, NULL, "%s%s%s", str(src, "reason", ""),
		    on ? "" : "; ", on ? "" : str(src, "advice", ""));
		if (!on && json_is_true(json_object_get(src, "verdicts")))
			(void)fprintf(stderr, "linkq: warning: %s is off, so "
			    "verdicts lack its evidence: %s; %s\n",
			    str(src, "name", "?"), str(src, "reason", ""),
			    str(src, "advice", ""));
	}
	lq_table_print(stdout, t, width);
	lq_table_free(t);
}

/*
 * The database, when it is not simply recording: what is wrong and what
 * to do, or what mended.
 */
static void
print_store(json_t *st, size_t width)
{
	json_t		*db = json_object_get(st, "store");
	char		*line, when[32];

	if (!json_is_object(db))
		return;
	if (!json_is_true(json_object_get(db, "recording"))) {
		(void)xasprintf(&line, "database NOT RECORDING: %s; %lld "
		    "results wait in memory", str(db, "problem", "?"),
		    (long long)json_integer_value(json_object_get(db,
		    "pending")));
		lq_text_wrap(stdout, 2, line, width);
		lq_text_wrap(stdout, 2, str(db, "advice", ""), width);
		free(line);
		return;
	}
	if (json_object_get(db, "recovered_from") == NULL)
		return;
	client_time(json_integer_value(json_object_get(db, "recovered_us")),
	    when, sizeof(when));
	(void)xasprintf(&line, "database recording again since %s (it was: "
	    "%s)", when, str(db, "recovered_from", "?"));
	lq_text_wrap(stdout, 2, line, width);
	free(line);
}

/* "1d 2h", "3m 4s": an uptime at a glance. */
static void
print_uptime(json_int_t s)
{
	if (s >= 86400)
		printf("%lldd %lldh", (long long)(s / 86400),
		    (long long)(s % 86400 / 3600));
	else if (s >= 3600)
		printf("%lldh %lldm", (long long)(s / 3600),
		    (long long)(s % 3600 / 60));
	else if (s >= 60)
		printf("%lldm %llds", (long long)(s / 60), (long long)(s % 60));
	else
		printf("%llds", (long long)s);
}

/* What linkqd knows of device d, after its port and cable, into m. */
static void
device_text(FILE *m, json_t *d)
{
	json_t		*run, *pct;
	const char	*trust, *action;

	fprintf(m, "%s (%s) %s, %s mode", str(d, "name", "(unnamed)"),
	    str(d, "product_type", "?"), client_udid_short(str(d, "udid",
	    "?")), str(d, "mode", "?"));
	if (json_integer_value(json_object_get(d, "speed_mbps")) > 0)
		fprintf(m, ", %lld Mb/s", (long long)json_integer_value(
		    json_object_get(d, "speed_mbps")));
	if (strcmp(str(d, "connection", "usb"), "network") == 0)
		fprintf(m, ", network (not tested)");
	action = str(d, "action", NULL);
	if ((trust = str(d, "trust", NULL)) != NULL) {
		fprintf(m, ", %s", trust);
		if (strcmp(trust, "trusted") != 0 && action != NULL)
			fprintf(m, " (%s)", action);
	} else if (action != NULL)
		fprintf(m, ", %s", action);	/* recovery, DFU: no lockdown */
	if ((run = json_object_get(d, "run")) != NULL) {
		fprintf(m, ", run %lld %s",
		    (long long)json_integer_value(json_object_get(run, "id")),
		    str(run, "profile", "?"));
		pct = json_object_get(run, "percent");
		if (json_is_integer(pct))
			fprintf(m, " %lld%%",
			    (long long)json_integer_value(pct));
	}
}

/* An attached device's row: port, cable, the rest, its last verdict. */
static void
device_row(struct lq_table *t, json_t *d)
{
	const char	*verdict, *label;
	char		*text = NULL;
	size_t		 len = 0;
	FILE		*m;

	lq_table_row(t);
	if ((label = str(d, "port_label", NULL)) != NULL)
		lq_table_cell(t, NULL, "%s (%s)", str(d, "port", "?"), label);
	else
		lq_table_cell(t, NULL, "%s", str(d, "port", "?"));
	lq_table_cell(t, NULL, "%s", str(d, "cable", "-"));
	if ((m = open_memstream(&text, &len)) == NULL)
		fatal("%s: open_memstream", __func__);
	device_text(m, d);
	if (fclose(m) != 0)
		fatal("%s: fclose", __func__);
	lq_table_cell(t, NULL, "%s", text);
	free(text);
	if ((verdict = str(d, "last_verdict", NULL)) != NULL)
		lq_table_cell(t, client_verdict_escape(verdict), "last %s",
		    verdict);
}

/*
 * The attached devices as a table that fits the terminal, then the
 * stranded ones; the number listed.
 */
static size_t
print_devices(json_t *list, size_t width)
{
	struct lq_table	*t = lq_table_new();
	json_t		*d;
	char		*line;
	size_t		 i, n = 0;

	lq_table_column(t, "", LQ_TABLE_FLEX);
	lq_table_column(t, "", LQ_TABLE_FLEX);
	lq_table_column(t, "", LQ_TABLE_FLEX);
	lq_table_column(t, "", 0);
	json_array_foreach(list, i, d) {
		if (json_is_true(json_object_get(d, "attached"))) {
			device_row(t, d);
			n++;
		}
	}
	lq_table_print(stdout, t, width);
	lq_table_free(t);
	json_array_foreach(list, i, d) {
		if (json_is_true(json_object_get(d, "attached")) ||
		    !json_is_true(json_object_get(d, "stranded")))
			continue;
		(void)xasprintf(&line, "%-8s stranded: %s %s (%s)",
		    str(d, "port", "?"), str(d, "name", "(unnamed)"),
		    client_udid_short(str(d, "udid", "?")),
		    str(d, "action", ""));
		lq_text_wrap(stdout, 0, line, width);
		free(line);
		n++;
	}
	return (n);
}

int
cmd_status(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLIENT_LONG_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	json_t		*st = NULL, *devs = NULL, *list;
	size_t		 width = lq_term_width(STDOUT_FILENO);
	int		 ch, ret = LQ_EXIT_USAGE;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1)
		client_option("status", ch);
	if (optind != argc)
		return (client_usage("status"));

	if (client_call("GET", "/v1/status", NULL, &st) == -1)
		goto out;
	if (client_call("GET", "/v1/devices", NULL, &devs) == -1)
		goto out;
	list = json_object_get(devs, "devices");
	if (opt_json) {
		(void)json_object_set(st, "devices", list);
		client_print_json(st);
		ret = 0;
		goto out;
	}

	printf("linkqd %s, up ", str(st, "version", "?"));
	print_uptime(json_integer_value(json_object_get(st, "uptime_s")));
	printf(", usbmuxd %s\n", str(st, "usbmuxd", "?"));
	if (json_object_get(st, "usbmuxd_detail") != NULL)
		lq_text_wrap(stdout, 2, str(st, "usbmuxd_detail", ""), width);
	if (strcmp(str(st, "usb", "watching"), "watching") != 0)
		printf("  usb topology %s\n", str(st, "usb", ""));
	print_sources(st, width);
	print_store(st, width);
	if (print_devices(list, width) == 0)
		printf("no device attached\n");
	ret = 0;
out:
	json_decref(st);
	json_decref(devs);
	return (ret);
}
