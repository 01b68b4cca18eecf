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
#include "lq-time.h"
#include "xmalloc.h"

/*
 * TIME as the epoch second it means: a span back from now ("7d", "24h",
 * "30m", "90s") or a date, "2026-01-31", "2026-01-31T08:00:00" (local
 * time) or with a trailing "Z" (UTC). -1 if it is none of these.
 */
static int64_t
parse_since(const char *s, int64_t now)
{
	struct tm	 tm;
	const char	*end;
	int64_t		 span;
	time_t		 t;

	if ((span = client_span(s)) >= 0)
		return (now - span);
	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL) {
		memset(&tm, 0, sizeof(tm));
		if ((end = strptime(s, "%Y-%m-%d", &tm)) == NULL)
			return (-1);
	}
	if (strcmp(end, "Z") == 0)
		t = timegm(&tm);
	else if (*end == '\0') {
		tm.tm_isdst = -1;
		t = mktime(&tm);
	} else
		return (-1);
	return (t == (time_t)-1 ? -1 : (int64_t)t);
}

/*
 * Whether file can be the database --db wants, else say why: SQLite
 * opens a directory and then fails with "disk I/O error", and the
 * read-only open of a missing file says only "unable to open".
 */
static int
report_db_usable(const char *file)
{
	struct stat	sb;

	if (stat(file, &sb) == -1) {
		fprintf(stderr, "linkq: --db %s: %s; --db takes the database "
		    "file linkqd writes, such as %s\n", file,
		    strerror(errno), LINKQ_DB);
		return (0);
	}
	if (S_ISDIR(sb.st_mode)) {
		fprintf(stderr, "linkq: --db %s is a directory, not a "
		    "database file; --db takes the file linkqd writes, such "
		    "as %s\n", file, LINKQ_DB);
		return (0);
	}
	return (1);
}

static int
report_local(const char *file, enum lq_report_by by, int64_t since,
    struct lq_report **rep)
{
	sqlite3	*db = NULL;
	char	*cause;
	int	 rc;

	if (!report_db_usable(file))
		return (-1);
	rc = sqlite3_open_v2(file, &db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		fprintf(stderr, "linkq: %s: %s\n", file, db != NULL ?
		    sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return (-1);
	}
	sqlite3_busy_timeout(db, 5000);
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
			since = parse_since(optarg, lq_wall_now_us() /
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
		lq_report_print_text(stdout, rep, color);
		lq_report_print_blame(stdout, rep, color);
	}
	lq_report_free(rep);
	return (0);
}
