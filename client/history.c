/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * What the commands that read the history share (report, runs, show,
 * events): the --since argument, --db FILE, a database read here,
 * read-only, with the engines linkqd uses (lq-report.h, lq-history.h),
 * and the words for where a run was and how a watched restore ended
 * (show, and watch's summary).
 */

#include <sys/stat.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sqlite3.h>

#include "compat/compat.h"
#include "client.h"
#include "linkq.h"

/*
 * Whether file can be the database --db wants, else say why: SQLite
 * opens a directory and then fails with "disk I/O error", and the
 * read-only open of a missing file says only "unable to open".
 */
static int
client_db_usable(const char *file)
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

/*
 * TIME as the epoch second it means: a span back from now ("7d", "24h",
 * "30m", "90s") or a date, "2026-01-31", "2026-01-31T08:00:00" (local
 * time) or with a trailing "Z" (UTC). -1 if it is none of these.
 */
int64_t
client_since(const char *s, int64_t now)
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

sqlite3 *
client_db_open(const char *file)
{
	sqlite3	*db = NULL;
	int	 rc;

	if (!client_db_usable(file))
		return (NULL);
	rc = sqlite3_open_v2(file, &db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		fprintf(stderr, "linkq: %s: %s\n", file, db != NULL ?
		    sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return (NULL);
	}
	/* linkqd may be committing to it: wait for the lock a while. */
	sqlite3_busy_timeout(db, 5000);
	return (db);
}

void
client_restore_outcome(json_t *run, const char *step, char *buf, size_t size)
{
	json_t		*pct = json_object_get(run, "percent");
	json_t		*status = json_object_get(run, "exit_status");
	const char	*how = "exit status";
	char		 at[64] = "";

	if (!json_is_integer(status)) {
		status = json_object_get(run, "exit_signal");
		how = "signal";
	}
	if (step == NULL)
		step = client_str(run, "step", NULL);
	if (json_is_number(pct))
		(void)snprintf(at, sizeof(at), "%s%.1f%%", step != NULL ?
		    " " : ", at ", json_number_value(pct));
	(void)snprintf(buf, size, "%s, %s %lld%s%s%s%s",
	    strcmp(client_str(run, "outcome", ""), "ok") == 0 ? "OK" :
	    "FAILED", how, (long long)json_integer_value(status),
	    step != NULL ? ", at \"" : "", step != NULL ? step : "",
	    step != NULL ? "\"" : "", at);
}

void
client_where(json_t *o, char *buf, size_t size)
{
	const char	*port, *label, *cable;

	port = client_str(o, "port", NULL);
	label = client_str(o, "port_label", NULL);
	cable = client_str(o, "cable", NULL);
	(void)snprintf(buf, size, "port %s%s%s%s, cable %s",
	    port != NULL ? port : "?", label != NULL ? " (" : "",
	    label != NULL ? label : "", label != NULL ? ")" : "",
	    cable != NULL ? cable : "none");
}
