/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * linkq report: one row per pair, cable, port or device, best first,
 * then the blame section (GET /v1/report). With --db FILE it opens a
 * database file read-only and builds the same report here, with the
 * engine linkqd uses (common/report.c), for a database copied from
 * another bench. Several --db files are merged into a database in
 * memory (common/merge.c, as linkq merge does, without the raw probes
 * the report never reads) and reported on together. Either way the
 * report goes through the same struct and the same printers, so both
 * print the same bytes.
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
#include "lq-merge.h"
#include "lq-report.h"
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

/* The report over several database files, merged in memory. */
static int
report_several(char **files, int nfiles, enum lq_report_by by,
    int64_t since, struct lq_report **rep)
{
	sqlite3	*db;
	int64_t	 counts[LQ_MERGE_NCOUNTS];
	char	*cause;
	int	 i;

	if ((db = lq_merge_open_into(":memory:", &cause)) == NULL) {
		fprintf(stderr, "linkq: report: %s\n", cause);
		free(cause);
		return (-1);
	}
	for (i = 0; i < nfiles; i++) {
		if (lq_merge_file(db, ":memory:", files[i],
		    LQ_MERGE_NO_PROBES, counts, &cause) == -1) {
			fprintf(stderr, "linkq: report: --db %s\n", cause);
			free(cause);
			sqlite3_close(db);
			return (-1);
		}
	}
	if (lq_report_build(db, by, since * LQ_USEC_PER_SEC, rep,
	    &cause) == -1) {
		fprintf(stderr, "linkq: report: %s\n", cause);
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
	char			**dbs;
	int64_t			 since = 0;
	int			 ch, by = LQ_REPORT_PAIR, csv = 0, color;
	int			 ndbs = 0, ret;

	/* No more --db than arguments. */
	dbs = xcalloc((size_t)argc + 1, sizeof(*dbs));
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
			dbs[ndbs++] = optarg;
			break;
		default:
			client_option("report", ch);
		}
	}
	if (optind != argc) {
		free(dbs);
		return (client_usage("report"));
	}
	if (csv && opt_json) {
		fprintf(stderr, "linkq: --csv and --json exclude each other\n");
		free(dbs);
		return (client_usage("report"));
	}

	if (ndbs == 1)
		ret = report_local(dbs[0], (enum lq_report_by)by, since, &rep);
	else if (ndbs > 1)
		ret = report_several(dbs, ndbs, (enum lq_report_by)by, since,
		    &rep);
	else
		ret = report_daemon((enum lq_report_by)by, since, &rep);
	free(dbs);
	if (ret == -1)
		return (LQ_EXIT_USAGE);

	color = *client_verdict_color("PASS") != '\0';
	if (opt_json)
		report_print_json(rep);
	else if (csv)
		lq_report_print_csv(stdout, rep);
	else {
		lq_report_print_text(stdout, rep, color);
		lq_report_print_blame(stdout, rep, color);
	}
	lq_report_free(rep);
	return (0);
}
