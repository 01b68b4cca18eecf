/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * linkq report: one row per pair, cable, port or device, best first,
 * then the blame section (GET /v1/report). With --db FILE it opens a
 * database file read-only and builds the same report here, with the
 * engine linkqd uses (common/report.c), for a database copied from
 * another bench. Either way the report goes through the same struct
 * and the same printers, so both print the same bytes. With --html
 * FILE it writes the page of report-html.c instead, its runs and
 * timelines from the same database or linkqd.
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
#include "lq-time.h"
#include "report-html.h"
#include "xmalloc.h"

/* The report of a database file, which stays open in *dbp. */
static int
report_local(const char *file, enum lq_report_by by, int64_t since,
    struct lq_report **rep, sqlite3 **dbp)
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
	*dbp = db;
	return (0);
}

/*
 * The page into file, through a temporary file renamed over it once
 * complete, so that a failure leaves no half page behind. 0, or -1.
 */
static int
report_html(const char *file, const struct lq_report *rep, sqlite3 *db)
{
	struct report_html_source	 src;
	FILE				*f;
	char				*tmp;
	int				 fd, ret = -1;

	if (db != NULL)
		report_html_source_db(&src, db);
	else
		report_html_source_daemon(&src);
	(void)xasprintf(&tmp, "%s.XXXXXX", file);
	if ((fd = mkstemp(tmp)) == -1 || (f = fdopen(fd, "w")) == NULL) {
		fprintf(stderr, "linkq: --html %s: cannot create it: %s\n",
		    file, strerror(errno));
		if (fd != -1) {
			(void)close(fd);
			(void)unlink(tmp);
		}
		free(tmp);
		return (-1);
	}
	(void)fchmod(fd, 0644);
	if (report_html_write(f, rep, &src) == 0 && fflush(f) == 0 &&
	    fsync(fd) == 0)
		ret = 0;
	if (fclose(f) != 0)
		ret = -1;
	if (ret == 0 && rename(tmp, file) == -1)
		ret = -1;
	if (ret == -1) {
		fprintf(stderr, "linkq: --html %s: cannot write it: %s\n",
		    file, strerror(errno));
		(void)unlink(tmp);
	}
	free(tmp);
	return (ret);
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
		{ "html", required_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 }
	};
	struct lq_report	*rep = NULL;
	sqlite3			*dbh = NULL;
	const char		*db = NULL, *html = NULL;
	int64_t			 since = 0;
	int			 ch, by = LQ_REPORT_PAIR, csv = 0, color;
	int			 ret = 0;

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
		case 'H':
			html = optarg;
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

	if (html != NULL && (csv || opt_json || by != LQ_REPORT_PAIR)) {
		fprintf(stderr, "linkq: --html draws the cable x port matrix "
		    "of the pairs: it takes neither --csv, --json nor --by\n");
		return (client_usage("report"));
	}
	if (html != NULL && *html == '\0') {
		fprintf(stderr, "linkq: --html takes the file to write, such "
		    "as report.html\n");
		return (client_usage("report"));
	}

	if (db != NULL) {
		if (report_local(db, (enum lq_report_by)by, since, &rep,
		    &dbh) == -1)
			return (LQ_EXIT_USAGE);
	} else if (report_daemon((enum lq_report_by)by, since, &rep) == -1)
		return (LQ_EXIT_USAGE);

	color = *client_verdict_color("PASS") != '\0';
	if (html != NULL) {
		if (report_html(html, rep, dbh) == -1)
			ret = LQ_EXIT_USAGE;
	} else if (opt_json)
		report_print_json(rep);
	else if (csv)
		lq_report_print_csv(stdout, rep);
	else {
		lq_report_print_text(stdout, rep, color);
		lq_report_print_blame(stdout, rep, color);
	}
	lq_report_free(rep);
	sqlite3_close(dbh);
	return (ret);
}
