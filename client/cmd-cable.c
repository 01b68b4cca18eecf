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
#include <unistd.h>

#include <jansson.h>

#include "compat/compat.h"
#include "client.h"
#include "http.h"
#include "linkq.h"
#include "lq-table.h"
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

/* One cable's row: where it is and its record. */
static void
cables_row(struct lq_table *t, const char *cable, const char *port,
    json_t *row)
{
	const char	*verdict = client_str(row, "verdict", "-");
	char		 when[64];

	lq_table_row(t);
	lq_table_cell(t, NULL, "%s", cable);
	lq_table_cell(t, NULL, "%s", port != NULL ? port : "-");
	lq_table_cell(t, client_verdict_escape(verdict), "%s", verdict);
	lq_table_cell(t, NULL, "%lld",
	    (long long)json_integer_value(json_object_get(row, "runs")));
	lq_table_cell(t, NULL, "%lld/%lld/%lld",
	    (long long)json_integer_value(json_object_get(row, "passed")),
	    (long long)json_integer_value(json_object_get(row, "marginal")),
	    (long long)json_integer_value(json_object_get(row, "failed")));
	if (row == NULL)
		(void)strlcpy(when, "never", sizeof(when));
	else
		client_time(json_integer_value(json_object_get(row,
		    "last_tested_us")), when, sizeof(when));
	lq_table_cell(t, NULL, "%s", when);
}

/* The cables, tested first, as a table that fits the terminal. */
static void
cables_print(json_t *ports, json_t *rows)
{
	struct lq_table	*t = lq_table_new();
	json_t		*row;
	const char	*cable;
	size_t		 i;

	lq_table_column(t, "CABLE", LQ_TABLE_FLEX);
	lq_table_column(t, "PORT", LQ_TABLE_FLEX);
	lq_table_column(t, "VERDICT", 0);
	lq_table_column(t, "RUNS", LQ_TABLE_RIGHT);
	lq_table_column(t, "P/M/F", LQ_TABLE_RIGHT);
	lq_table_column(t, "LAST TESTED", LQ_TABLE_FLEX);
	json_array_foreach(rows, i, row) {
		if ((cable = client_str(row, "cable", NULL)) != NULL)
			cables_row(t, cable, cable_port(ports, cable), row);
	}
	/* Cables in a port that have no run yet. */
	json_array_foreach(ports, i, row) {
		if ((cable = client_str(row, "cable", NULL)) != NULL &&
		    !cable_tested(rows, cable))
			cables_row(t, cable, client_str(row, "port", "?"),
			    NULL);
	}
	lq_table_print(stdout, t, lq_term_width(STDOUT_FILENO));
	lq_table_free(t);
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
	json_t		*ports = NULL, *report = NULL, *out;
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
	cables_print(json_object_get(ports, "ports"),
	    json_object_get(report, "rows"));
out:
	json_decref(ports);
	json_decref(report);
	return (ret);
}
