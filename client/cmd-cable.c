/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * linkq cable PORT LABEL [--fixed], linkq cable PORT --clear: which
 * cable is in a port (PUT and DELETE /v1/ports/PORT/cable). linkq
 * cables: the ports with their labels, cables and devices (GET
 * /v1/ports).
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "compat/compat.h"
#include "client.h"
#include "http.h"
#include "linkq.h"
#include "xmalloc.h"

int
cmd_cable(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLIENT_LONG_OPTIONS,
		{ "clear", no_argument, NULL, 'c' },
		{ "fixed", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 }
	};
	json_t		*body = NULL, *reply = NULL;
	const char	*port, *label = NULL, *why;
	char		*path, *esc;
	int		 ch, clear = 0, fixed = 0, ret = LQ_EXIT_USAGE;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (ch == 'c')
			clear = 1;
		else if (ch == 'f')
			fixed = 1;
		else
			client_option("cable", ch);
	}
	argc -= optind;
	argv += optind;
	if (argc != (clear ? 1 : 2) || (clear && fixed))
		return (client_usage("cable"));
	port = argv[0];
	if (!clear) {
		label = argv[1];
		/* The daemon checks too; saying it here needs no daemon. */
		if ((why = lq_label_invalid(label)) != NULL) {
			fprintf(stderr, "linkq: bad cable label: %s\n", why);
			return (LQ_EXIT_USAGE);
		}
		body = json_pack("{s:s, s:b}", "cable", label, "fixed", fixed);
	}

	esc = http_escape(port);
	(void)xasprintf(&path, "/v1/ports/%s/cable", esc);
	free(esc);
	if (client_call(clear ? "DELETE" : "PUT", path, body, &reply) == -1)
		goto out;
	if (opt_json)
		client_print_json(reply);
	else if (clear)
		printf("%s: no cable assigned\n", port);
	else
		printf("%s: cable %s%s\n", port, label, fixed ?
		    ", fixed until cleared" : "");
	ret = 0;
out:
	free(path);
	json_decref(body);
	json_decref(reply);
	return (ret);
}

/* The port a cable is assigned to, from GET /v1/ports, or NULL. */
static const char *
cable_port(json_t *ports, const char *cable)
{
	json_t		*p;
	size_t		 i;

	json_array_foreach(ports, i, p) {
		if (strcmp(client_str(p, "cable", ""), cable) == 0)
			return (client_str(p, "port", NULL));
	}
	return (NULL);
}

/* Whether the report by cable has a row for cable. */
static int
cable_tested(json_t *rows, const char *cable)
{
	json_t	*row;
	size_t	 i;

	json_array_foreach(rows, i, row) {
		if (strcmp(client_str(row, "cable", ""), cable) == 0)
			return (1);
	}
	return (0);
}

/*
 * linkq cables: every cable linkqd has recorded, with where it is now
 * and its record from the report by cable (runs, verdict, last tested).
 */
int
cmd_cables(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLIENT_LONG_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	json_t		*ports = NULL, *report = NULL, *row, *out;
	const char	*cable, *port;
	char		 when[64];
	size_t		 i;
	int		 ch, ret = LQ_EXIT_USAGE;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1)
		client_option("cables", ch);
	if (optind != argc)
		return (client_usage("cables"));

	if (client_call("GET", "/v1/ports", NULL, &ports) == -1)
		goto out;
	if (client_call("GET", "/v1/report?by=cable", NULL, &report) == -1)
		goto out;
	ret = 0;
	if (opt_json) {
		out = json_pack("{s:O, s:O}", "ports", json_object_get(ports,
		    "ports"), "cables", json_object_get(report, "rows"));
		client_print_json(out);
		json_decref(out);
		goto out;
	}
	printf("%-16s %-10s %-8s %5s %-8s %s\n", "CABLE", "PORT", "VERDICT",
	    "RUNS", "P/M/F", "LAST TESTED");
	json_array_foreach(json_object_get(report, "rows"), i, row) {
		if ((cable = client_str(row, "cable", NULL)) == NULL)
			continue;
		port = cable_port(json_object_get(ports, "ports"), cable);
		client_time(json_integer_value(json_object_get(row,
		    "last_tested_us")), when, sizeof(when));
		printf("%-16s %-10s %s%-8s%s %5lld %lld/%lld/%lld %s\n", cable,
		    port != NULL ? port : "-",
		    client_verdict_color(client_str(row, "verdict", "")),
		    client_str(row, "verdict", "-"), client_color_end(),
		    (long long)json_integer_value(json_object_get(row, "runs")),
		    (long long)json_integer_value(json_object_get(row,
		    "passed")), (long long)json_integer_value(
		    json_object_get(row, "marginal")), (long long)
		    json_integer_value(json_object_get(row, "failed")), when);
	}
	/* Cables in a port that have no run yet. */
	json_array_foreach(json_object_get(ports, "ports"), i, row) {
		if ((cable = client_str(row, "cable", NULL)) == NULL ||
		    cable_tested(json_object_get(report, "rows"), cable))
			continue;
		printf("%-16s %-10s %-8s %5d %-8s %s\n", cable,
		    client_str(row, "port", "?"), "-", 0, "0/0/0", "never");
	}
out:
	json_decref(ports);
	json_decref(report);
	return (ret);
}
