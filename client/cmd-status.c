/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * linkq status: the daemon, its usbmuxd connection, one line per
 * evidence source and one per attached device, from GET /v1/status and
 * GET /v1/devices.
 */

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "compat/compat.h"
#include "client.h"
#include "http.h"

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
print_sources(json_t *st)
{
	json_t		*src;
	size_t		 i;
	int		 on;

	json_array_foreach(json_object_get(st, "sources"), i, src) {
		on = json_is_true(json_object_get(src, "on"));
		printf("  %-14s %-3s  %s%s%s\n", str(src, "name", "?"),
		    on ? "on" : "off", str(src, "reason", ""),
		    on ? "" : "; ", on ? "" : str(src, "advice", ""));
		if (!on && json_is_true(json_object_get(src, "verdicts")))
			(void)fprintf(stderr, "linkq: warning: %s is off, so "
			    "verdicts lack its evidence: %s; %s\n",
			    str(src, "name", "?"), str(src, "reason", ""),
			    str(src, "advice", ""));
	}
}

/*
 * The database, when it is not simply recording: what is wrong and what
 * to do, or what mended.
 */
static void
print_store(json_t *st)
{
	json_t		*db = json_object_get(st, "store");
	char		 when[32];

	if (!json_is_object(db))
		return;
	if (!json_is_true(json_object_get(db, "recording"))) {
		printf("  database NOT RECORDING: %s; %lld results wait in "
		    "memory\n  %s\n", str(db, "problem", "?"),
		    (long long)json_integer_value(json_object_get(db,
		    "pending")), str(db, "advice", ""));
		return;
	}
	if (json_object_get(db, "recovered_from") == NULL)
		return;
	client_time(json_integer_value(json_object_get(db, "recovered_us")),
	    when, sizeof(when));
	printf("  database recording again since %s (it was: %s)\n", when,
	    str(db, "recovered_from", "?"));
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

static void
print_device(json_t *d)
{
	json_t		*run, *pct;
	const char	*trust, *action, *name, *verdict, *label;
	char		 udid[9], port[160];

	(void)strlcpy(udid, client_udid_short(str(d, "udid", "?")),
	    sizeof(udid));
	name = str(d, "name", "(unnamed)");
	if ((label = str(d, "port_label", NULL)) != NULL)
		(void)snprintf(port, sizeof(port), "%s (%s)", str(d, "port",
		    "?"), label);
	else
		(void)strlcpy(port, str(d, "port", "?"), sizeof(port));
	printf("%-8s %-10s %s (%s) %s, %s mode", port, str(d, "cable", "-"),
	    name, str(d, "product_type", "?"), udid, str(d, "mode", "?"));
	if (json_integer_value(json_object_get(d, "speed_mbps")) > 0)
		printf(", %lld Mb/s", (long long)json_integer_value(
		    json_object_get(d, "speed_mbps")));
	if (strcmp(str(d, "connection", "usb"), "network") == 0)
		printf(", network (not tested)");
	action = str(d, "action", NULL);
	if ((trust = str(d, "trust", NULL)) != NULL) {
		printf(", %s", trust);
		if (strcmp(trust, "trusted") != 0 && action != NULL)
			printf(" (%s)", action);
	} else if (action != NULL)
		printf(", %s", action);	/* recovery, DFU: no lockdown */
	if ((run = json_object_get(d, "run")) != NULL) {
		printf(", run %lld %s",
		    (long long)json_integer_value(json_object_get(run, "id")),
		    str(run, "profile", "?"));
		pct = json_object_get(run, "percent");
		if (json_is_integer(pct))
			printf(" %lld%%", (long long)json_integer_value(pct));
	}
	if ((verdict = str(d, "last_verdict", NULL)) != NULL)
		printf(", last %s%s%s", client_verdict_color(verdict), verdict,
		    client_color_end());
	printf("\n");
}

int
cmd_status(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLIENT_LONG_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	json_t		*st = NULL, *devs = NULL, *list, *d;
	size_t		 i, n = 0;
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
		printf("  %s\n", str(st, "usbmuxd_detail", ""));
	if (strcmp(str(st, "usb", "watching"), "watching") != 0)
		printf("  usb topology %s\n", str(st, "usb", ""));
	print_sources(st);
	print_store(st);
	json_array_foreach(list, i, d) {
		if (json_is_true(json_object_get(d, "attached"))) {
			print_device(d);
			n++;
		} else if (json_is_true(json_object_get(d, "stranded"))) {
			printf("%-8s stranded: %s %s (%s)\n",
			    str(d, "port", "?"), str(d, "name", "(unnamed)"),
			    client_udid_short(str(d, "udid", "?")),
			    str(d, "action", ""));
			n++;
		}
	}
	if (n == 0)
		printf("no device attached\n");
	ret = 0;
out:
	json_decref(st);
	json_decref(devs);
	return (ret);
}
