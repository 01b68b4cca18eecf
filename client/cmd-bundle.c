/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * linkq bundle RUN | --cable C | --port P -o FILE.tar.gz [--keep-ids]
 * [--force] [--db FILE]: the evidence of a run, or of every run of a
 * cable or a port, in one .tar.gz for an RMA or a bug report, with the
 * phones' identifiers hashed unless --keep-ids (bundle.h says how it is
 * made, bundle-ids.h how identifiers are hashed).
 */

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "compat/compat.h"
#include "bundle.h"
#include "bundle-ids.h"
#include "bundle-tar.h"
#include "client.h"
#include "lq-time.h"
#include "xmalloc.h"

struct bundle_opts {
	const char	*out;
	int		 force;
	int		 keep;
};

/* The archive's top directory: linkq-bundle-20261206T215000Z. */
static void
bundle_dir_name(int64_t us, char *buf, size_t size)
{
	struct tm	tm;
	time_t		t = (time_t)(us / 1000000);

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, size, "linkq-bundle-%Y%m%dT%H%M%SZ", &tm) == 0)
		(void)strlcpy(buf, "linkq-bundle", size);
}

/* Refuse before any work what would fail at the end. */
static int
bundle_check_out(const struct bundle_opts *o)
{
	char	*copy, *dir;
	int	 ok;

	if (!o->force && access(o->out, F_OK) == 0) {
		fprintf(stderr, "linkq: %s exists: --force replaces it\n",
		    o->out);
		return (-1);
	}
	copy = xstrdup(o->out);
	dir = dirname(copy);
	if (!(ok = access(dir, W_OK | X_OK) == 0))
		fprintf(stderr, "linkq: cannot write in %s: %s; -o takes a "
		    "file in a directory you can write\n", dir,
		    strerror(errno));
	free(copy);
	return (ok ? 0 : -1);
}

/* README.txt and the members into a .tar.gz at o->out. */
static int
bundle_pack(struct bundle *b, const struct bundle_opts *o)
{
	struct bundle_tar	*t;
	char			 dir[64], *name, *readme, *text, *cause;
	size_t			 i;

	if ((readme = bundle_readme(b)) == NULL) {
		fprintf(stderr, "linkq: README.txt: %s\n", strerror(errno));
		return (-1);
	}
	text = bundle_ids_text(b->ids, readme);
	free(readme);
	bundle_dir_name(b->made_us, dir, sizeof(dir));
	if ((t = bundle_tar_open(o->out, o->force, b->made_us / 1000000,
	    &cause)) == NULL)
		goto fail;
	(void)xasprintf(&name, "%s/README.txt", dir);
	if (bundle_tar_dir(t, dir, &cause) == -1 ||
	    bundle_tar_add(t, name, text, strlen(text), &cause) == -1) {
		free(name);
		goto fail_tar;
	}
	free(name);
	for (i = 0; i < b->nmembers; i++) {
		(void)xasprintf(&name, "%s/%s", dir, b->members[i].name);
		if (bundle_tar_add_stream(t, name, b->members[i].f,
		    &cause) == -1) {
			free(name);
			goto fail_tar;
		}
		free(name);
	}
	free(text);
	text = NULL;
	if (bundle_tar_close(t, &cause) == -1)
		goto fail;
	return (0);
fail_tar:
	bundle_tar_abort(t);
fail:
	free(text);
	fprintf(stderr, "linkq: %s\n", cause);
	free(cause);
	return (-1);
}

/* What the bundle holds, as a phrase for README.txt and messages. */
static void
bundle_what(struct bundle *b)
{
	if (b->sel.run != 0)
		(void)snprintf(b->what, sizeof(b->what), "run %lld",
		    (long long)b->sel.run);
	else if (b->sel.cable != NULL)
		(void)snprintf(b->what, sizeof(b->what), "the runs with "
		    "cable %s", b->sel.cable);
	else
		(void)snprintf(b->what, sizeof(b->what), "the runs on port "
		    "%s", b->sel.port);
}

/* Gather, write and pack. */
static int
bundle_make(struct bundle *b, const struct bundle_opts *o)
{
	char	*cause;
	json_t	*done;

	if ((b->ids = bundle_ids_new(o->keep, &cause)) == NULL) {
		fprintf(stderr, "linkq: %s\n", cause);
		free(cause);
		return (-1);
	}
	if (b->db_file != NULL &&
	    (b->db = client_db_open(b->db_file)) == NULL)
		return (-1);
	b->made_us = lq_wall_now_us();
	bundle_what(b);
	if (bundle_select_runs(b) == -1 || bundle_devices(b) == -1)
		return (-1);
	bundle_daemon_info(b);
	if (bundle_write_members(b) == -1 || bundle_pack(b, o) == -1)
		return (-1);
	if (opt_json) {
		done = json_pack("{s:s, s:I, s:I, s:I, s:b}", "file", o->out,
		    "runs", (json_int_t)json_array_size(b->runs),
		    "events", (json_int_t)b->nevents,
		    "probes", (json_int_t)b->nprobes,
		    "hashed", bundle_ids_kept(b->ids) ? 0 : 1);
		client_print_json(done);
		json_decref(done);
	} else
		printf("%s: %s, %zu run%s, %llu events, %llu probes, "
		    "identifiers %s\n", o->out, b->what,
		    json_array_size(b->runs),
		    json_array_size(b->runs) == 1 ? "" : "s",
		    (unsigned long long)b->nevents,
		    (unsigned long long)b->nprobes,
		    bundle_ids_kept(b->ids) ? "kept" : "hashed");
	return (0);
}

static void
bundle_free(struct bundle *b)
{
	bundle_members_free(b);
	json_decref(b->runs);
	json_decref(b->devices);
	json_decref(b->status);
	json_decref(b->profiles);
	bundle_ids_free(b->ids);
	if (b->db != NULL)
		sqlite3_close(b->db);
}

/* The selection: exactly one of RUN, --cable, --port. */
static int
bundle_args(struct bundle *b, int argc, char **argv)
{
	const char	*errstr;
	int		 n;

	if (argc > 1)
		return (client_usage("bundle"));
	if (argc == 1) {
		b->sel.run = strtonum(argv[0], 1, INT64_MAX, &errstr);
		if (errstr != NULL) {
			fprintf(stderr, "linkq: RUN is a run number, not "
			    "\"%s\": linkq runs lists them\n", argv[0]);
			return (client_usage("bundle"));
		}
	}
	n = (b->sel.run != 0) + (b->sel.cable != NULL) +
	    (b->sel.port != NULL);
	if (n != 1) {
		fprintf(stderr, "linkq: bundle takes %s of RUN, --cable LABEL "
		    "and --port PORT\n", n == 0 ? "one" : "only one");
		return (client_usage("bundle"));
	}
	return (0);
}

int
cmd_bundle(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLIENT_LONG_OPTIONS,
		{ "cable", required_argument, NULL, 'c' },
		{ "port", required_argument, NULL, 'p' },
		{ "output", required_argument, NULL, 'o' },
		{ "keep-ids", no_argument, NULL, 'k' },
		{ "force", no_argument, NULL, 'f' },
		{ "db", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 }
	};
	struct bundle		b;
	struct bundle_opts	o;
	int			ch, ret;

	memset(&b, 0, sizeof(b));
	memset(&o, 0, sizeof(o));
	while ((ch = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			b.sel.cable = optarg;
			break;
		case 'p':
			b.sel.port = optarg;
			break;
		case 'o':
			o.out = optarg;
			break;
		case 'k':
			o.keep = 1;
			break;
		case 'f':
			o.force = 1;
			break;
		case 'd':
			b.db_file = optarg;
			break;
		default:
			client_option("bundle", ch);
		}
	}
	if (bundle_args(&b, argc - optind, argv + optind) != 0)
		return (LQ_EXIT_USAGE);
	if (o.out == NULL || *o.out == '\0') {
		fprintf(stderr, "linkq: -o FILE is missing: the bundle is "
		    "written to a .tar.gz file, such as -o run-8.tar.gz\n");
		return (client_usage("bundle"));
	}
	if (bundle_check_out(&o) == -1)
		return (LQ_EXIT_USAGE);
	ret = bundle_make(&b, &o) == -1 ? LQ_EXIT_USAGE : 0;
	bundle_free(&b);
	return (ret);
}
