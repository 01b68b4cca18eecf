/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * linkq report: one row per pair, cable, port or device, best first,
 * then the blame section (GET /v1/report). With --db FILE it opens a
 * database file read-only and builds the same report here, with the
 * engine linkqd uses (common/report.c), for a database copied from
 * another bench. Several --db files are merged into a database in
 * memory (common/merge.c, as linkq merge does, without the raw probes
 * the report never reads unless the page needs them) and reported on
 * together. Either way the report goes through the same struct and the
 * same printers, so both print the same bytes. With --html FILE it
 * writes the page of report-html.c instead, its runs and timelines from
 * the same database or linkqd.
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
#include "lq-table.h"
#include "lq-time.h"
#include "report-html.h"
#include "xmalloc.h"

/*
 * The database of the --db files: the one file read-only, or several
 * merged in memory, with their raw probes only if probes is set. NULL
 * once the error is printed.
 */
static sqlite3 *
report_open(char **files, int nfiles, int probes)
{
	sqlite3	*db;
	int64_t	 counts[LQ_MERGE_NCOUNTS];
	char	*cause;
	int	 i;

	if (nfiles == 1)
		return (client_db_open(files[0]));
	if ((db = lq_merge_open_into(":memory:", &cause)) == NULL) {
		fprintf(stderr, "linkq: report: %s\n", cause);
		free(cause);
		return (NULL);
	}
	for (i = 0; i < nfiles; i++) {
		if (lq_merge_file(db, ":memory:", files[i],
		    probes ? 0 : LQ_MERGE_NO_PROBES, counts, &cause) == -1) {
			fprintf(stderr, "linkq: report: --db %s\n", cause);
			free(cause);
			sqlite3_close(db);
			return (NULL);
		}
	}
	return (db);
}

/* The report of an open database; 0, or -1 once the error is printed. */
static int
report_local(sqlite3 *db, enum lq_report_by by, int64_t since,
    struct lq_report **rep)
{
	char	*cause;

	if (lq_report_build(db, by, since * LQ_USEC_PER_SEC, rep,
	    &cause) == -1) {
		fprintf(stderr, "linkq: report: %s\n", cause);
		free(cause);
		return (-1);
	}
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
	sqlite3			*db = NULL;
	char			**dbs;
	const char		*html = NULL;
	int64_t			 since = 0;
	size_t			 width;
	int			 ch, by = LQ_REPORT_PAIR, csv = 0, color;
	int			 ndbs = 0, ret = LQ_EXIT_USAGE;

	/* No more --db than arguments. */
	dbs = xcalloc((size_t)argc + 1, sizeof(*dbs));
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			if ((by = lq_report_by_from_name(optarg)) == -1) {
				fprintf(stderr, "linkq: --by takes pair, "
				    "cable, port or device\n");
				goto usage;
			}
			break;
		case 'S':
			since = client_since(optarg, lq_wall_now_us() /
			    LQ_USEC_PER_SEC);
			if (since < 0) {
				fprintf(stderr, "linkq: --since takes a span "
				    "such as 7d, 24h or 30m, or a date such "
				    "as 2026-01-31\n");
				goto usage;
			}
			break;
		case 'c':
			csv = 1;
			break;
		case 'd':
			dbs[ndbs++] = optarg;
			break;
		case 'H':
			html = optarg;
			break;
		default:
			client_option("report", ch);
		}
	}
	if (optind != argc)
		goto usage;
	if (csv && opt_json) {
		fprintf(stderr, "linkq: --csv and --json exclude each other\n");
		goto usage;
	}
	if (html != NULL && (csv || opt_json || by != LQ_REPORT_PAIR)) {
		fprintf(stderr, "linkq: --html draws the cable x port matrix "
		    "of the pairs: it takes neither --csv, --json nor --by\n");
		goto usage;
	}
	if (html != NULL && *html == '\0') {
		fprintf(stderr, "linkq: --html takes the file to write, such "
		    "as report.html\n");
		goto usage;
	}

	if (ndbs > 0) {
		/* The page draws timelines from the raw probes. */
		if ((db = report_open(dbs, ndbs, html != NULL)) == NULL ||
		    report_local(db, (enum lq_report_by)by, since, &rep) == -1)
			goto out;
	} else if (report_daemon((enum lq_report_by)by, since, &rep) == -1)
		goto out;

	ret = 0;
	color = *client_verdict_color("PASS") != '\0';
	if (html != NULL) {
		if (report_html(html, rep, db) == -1)
			ret = LQ_EXIT_USAGE;
	} else if (opt_json)
		report_print_json(rep);
	else if (csv)
		lq_report_print_csv(stdout, rep);
	else {
		width = lq_term_width(STDOUT_FILENO);
		lq_report_print_text(stdout, rep, color, width);
		lq_report_print_blame(stdout, rep, color, width);
	}
out:
	lq_report_free(rep);
	sqlite3_close(db);
	free(dbs);
	return (ret);
usage:
	free(dbs);
	return (client_usage("report"));
}
