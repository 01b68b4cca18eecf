/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * linkq report: one row per pair, cable, port or device, best first,
 * then the blame section (GET /v1/report). With --db FILE it opens a
 * database file read-only and builds the same report here, with the
 * engine linkqd uses (common/report.c), for a database copied from
 * another bench. Either way the report goes through the same struct
 * and the same printers, so both print the same bytes.
 */

#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "compat/compat.h"
#include "client.h"
#include "http.h"
#include "linkq.h"
#include "lq-report.h"
#include "lq-table.h"
#include "lq-time.h"
#include "xmalloc.h"

static int
report_local(const char *file, enum lq_report_by by, int64_t since,
    struct lq_report **rep)
{
	sqlite3	*db;
	char	*cause;

	if ((db = client_db_open(file)) == NULL)
		return (-1);
	if (lq_report_build(db, by, since * LQ_USEC_PER_SEC, rep,
	    &cause) == -1) {
		fprintf(stderr, "linkq: %s: %s\n", file, cause);
		free(cause);
		sqlite3_close(db);
		return (-1);
	}
	sqlite3_close(db);
	return (0);
}

static int
report_daemon(enum lq_report_by by, int64_t since, struct lq_report **rep)
{
	json_t	*reply = NULL;
	char	*path, *cause;
	int	 ret = -1;

	(void)xasprintf(&path, "/v1/report?by=%s&since=%lld",
	    lq_report_by_name(by), (long long)since);
	if (client_call("GET", path, NULL, &reply) == -1)
		goto out;
	if (lq_report_from_json(reply, rep, &cause) == -1) {
		fprintf(stderr, "linkq: linkqd's report: %s\n", cause);
		free(cause);
		goto out;
	}
	ret = 0;
out:
	free(path);
	json_decref(reply);
	return (ret);
}

/* The report as every JSON document of linkq: with format_version. */
static void
report_print_json(const struct lq_report *rep)
{
	json_t	*o = lq_report_to_json(rep);

	client_print_json(o);
	json_decref(o);
}

int
cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLIENT_LONG_OPTIONS,
		{ "by", required_argument, NULL, 'b' },
		{ "since", required_argument, NULL, 'S' },
		{ "csv", no_argument, NULL, 'c' },
		{ "db", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 }
	};
	struct lq_report	*rep = NULL;
	const char		*db = NULL;
	int64_t			 since = 0;
	size_t			 width;
	int			 ch, by = LQ_REPORT_PAIR, csv = 0, color;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			if ((by = lq_report_by_from_name(optarg)) == -1) {
				fprintf(stderr, "linkq: --by takes pair, "
				    "cable, port or device\n");
				return (client_usage("report"));
			}
			break;
		case 'S':
			since = client_since(optarg, lq_wall_now_us() /
			    LQ_USEC_PER_SEC);
			if (since < 0) {
				fprintf(stderr, "linkq: --since takes a span "
				    "such as 7d, 24h or 30m, or a date such "
				    "as 2026-01-31\n");
				return (client_usage("report"));
			}
			break;
		case 'c':
			csv = 1;
			break;
		case 'd':
			db = optarg;
			break;
		default:
			client_option("report", ch);
		}
	}
	if (optind != argc)
		return (client_usage("report"));
	if (csv && opt_json) {
		fprintf(stderr, "linkq: --csv and --json exclude each other\n");
		return (client_usage("report"));
	}

	if (db != NULL) {
		if (report_local(db, (enum lq_report_by)by, since, &rep) == -1)
			return (LQ_EXIT_USAGE);
	} else if (report_daemon((enum lq_report_by)by, since, &rep) == -1)
		return (LQ_EXIT_USAGE);

	color = *client_verdict_color("PASS") != '\0';
	if (opt_json)
		report_print_json(rep);
	else if (csv)
		lq_report_print_csv(stdout, rep);
	else {
		width = lq_term_width(STDOUT_FILENO);
		lq_report_print_text(stdout, rep, color, width);
		lq_report_print_blame(stdout, rep, color, width);
	}
	lq_report_free(rep);
	return (0);
}
