/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * linkq merge --into FLEET.db A.db B.db...: the history of several
 * benches in one database file (common/merge.c does the merging), and
 * a line per source of what it added: runs, probes, events, and the
 * hosts, ports, cables, devices and attachments that came with them.
 * Each source is merged on its own: one that fails leaves FLEET.db as
 * it was before it, and the others are still merged.
 */

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "compat/compat.h"
#include "client.h"
#include "lq-merge.h"

/* "3 runs", "1 run": every count's name is a plural in -s. */
static void
merge_print_count(const int64_t *n, int c)
{
	const char	*name = lq_merge_count_name((enum lq_merge_count)c);

	printf("%lld %.*s", (long long)n[c],
	    (int)strlen(name) - (n[c] == 1), name);
}

/* "A.db: added 3 runs, 120 probes, 8 events (1 host, ...)". */
static void
merge_print_text(const char *src, const int64_t *n)
{
	int	c, more = 0;

	printf("%s: added ", src);
	merge_print_count(n, LQ_MERGE_RUNS);
	fputs(", ", stdout);
	merge_print_count(n, LQ_MERGE_PROBES);
	fputs(", ", stdout);
	merge_print_count(n, LQ_MERGE_EVENTS);
	for (c = LQ_MERGE_HOSTS; c <= LQ_MERGE_ATTACHMENTS; c++) {
		if (n[c] == 0)
			continue;
		fputs(more++ ? ", " : " (", stdout);
		merge_print_count(n, c);
	}
	printf("%s\n", more ? ")" : "");
	if (n[LQ_MERGE_RUNNING] > 0)
		printf("%s: %lld run%s still running, left out: merge again "
		    "once %s ended\n", src, (long long)n[LQ_MERGE_RUNNING],
		    n[LQ_MERGE_RUNNING] == 1 ? "" : "s",
		    n[LQ_MERGE_RUNNING] == 1 ? "it has" : "they have");
}

static json_t *
merge_json(const char *src, const int64_t *n, const char *error)
{
	json_t	*o, *added;
	int	 c;

	o = json_pack("{s:s}", "file", src);
	if (error != NULL) {
		(void)json_object_set_new(o, "error", json_string(error));
		return (o);
	}
	added = json_object();
	for (c = 0; c < LQ_MERGE_NCOUNTS; c++) {
		if (c == LQ_MERGE_RUNNING)
			continue;
		(void)json_object_set_new(added,
		    lq_merge_count_name((enum lq_merge_count)c),
		    json_integer(n[c]));
	}
	(void)json_object_set_new(o, "added", added);
	(void)json_object_set_new(o, "running_left_out",
	    json_integer(n[LQ_MERGE_RUNNING]));
	return (o);
}

int
cmd_merge(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLIENT_LONG_OPTIONS,
		{ "into", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*into = NULL;
	json_t		*sources, *o;
	sqlite3		*db;
	int64_t		 n[LQ_MERGE_NCOUNTS];
	char		*cause;
	int		 ch, i, ret = 0;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'i':
			into = optarg;
			break;
		default:
			client_option("merge", ch);
		}
	}
	if (into == NULL || optind == argc) {
		fprintf(stderr, "linkq: merge needs --into FILE and at least "
		    "one database file to merge into it\n");
		return (client_usage("merge"));
	}
	if ((db = lq_merge_open_into(into, &cause)) == NULL) {
		fprintf(stderr, "linkq: merge: %s\n", cause);
		free(cause);
		return (LQ_EXIT_USAGE);
	}
	sources = json_array();
	for (i = optind; i < argc; i++) {
		if (lq_merge_file(db, into, argv[i], 0, n, &cause) == -1) {
			fprintf(stderr, "linkq: merge: %s (%s unchanged)\n",
			    cause, into);
			(void)json_array_append_new(sources,
			    merge_json(argv[i], n, cause));
			free(cause);
			ret = LQ_EXIT_USAGE;
			continue;
		}
		if (opt_json)
			(void)json_array_append_new(sources,
			    merge_json(argv[i], n, NULL));
		else
			merge_print_text(argv[i], n);
	}
	if (sqlite3_close(db) != SQLITE_OK) {
		fprintf(stderr, "linkq: merge: closing %s: %s\n", into,
		    sqlite3_errmsg(db));
		ret = LQ_EXIT_USAGE;
	}
	if (opt_json) {
		o = json_pack("{s:s, s:o}", "into", into, "sources", sources);
		client_print_json(o);
		json_decref(o);
	} else
		json_decref(sources);
	return (ret);
}
