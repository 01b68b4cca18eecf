/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * lq-probe: run linkqd's probes against one device directly, through
 * the session and the probe ops on the calling thread (no worker, no
 * deadlines), for the integration tests and the benchmarks.
 *
 *	lq-probe [-v] [-n count] [-b bytes] [-c chunk] [-k kind]
 *	    [-m max-bytes] [-F folder] [--identify] [--cleanup] [--pair]
 *	    udid
 *
 * --pair, --identify and --cleanup run first, in that order, one line
 * each; then count probes of kind (default: each kind in turn), one line
 * each: "kind status latency_us bytes_out bytes_in corrupt_offset". With
 * one of those three, probes run only if -k or -n asks for them. A
 * failed probe's detail goes to standard error (every probe's with -v),
 * and the session is closed after it, as linkqd does. The last lines
 * sum up each kind: probes per second of wall time and, for bulk, MB/s
 * writing and reading (bytes over the time spent in the AFC calls,
 * without filling and checking the stream).
 *
 * Exit status: 0 if everything was ok, 1 if not, 2 on a usage error.
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "compat/compat.h"
#include "linkq.h"
#include "log.h"
#include "lq-status.h"
#include "lq-time.h"
#include "probe.h"
#include "session.h"
#include "xmalloc.h"

#define PROBE_NAME		"lq-probe"
#define PROBE_FOLDER		"/linkq"
#define PROBE_BULK		(8 * 1024 * 1024)
#define PROBE_CHUNK		131072
#define PROBE_MAX_BYTES		(64 * 1024 * 1024)
#define PROBE_SHARE_PCT		10
#define PROBE_SEED		UINT64_C(0x6c696e6b71)

/* What one kind added up to. */
struct tally {
	long long	probes;
	long long	ok;
	int64_t		wall_us;
	uint64_t	bulk_out;
	uint64_t	bulk_in;
	int64_t		write_us;
	int64_t		read_us;
};

static int	verbose;

static __dead void	 usage(void);
static uint64_t		 parse_size(const char *, uint64_t, uint64_t,
			    const char *);
static int		 run_kind(struct session *, const struct probe_ops *,
			    struct probe_plan *, long long, struct tally *);
static void		 bulk_times(const char *, struct tally *);
static double		 mb_per_s(uint64_t, int64_t);

/* Print the usage and exit 2. */
static __dead void
usage(void)
{
	(void)fprintf(stderr, "usage: %s [-v] [-n count] [-b bytes] "
	    "[-c chunk] [-k kind] [-m max-bytes]\n"
	    "\t[-F folder] [--identify] [--cleanup] [--pair] udid\n",
	    PROBE_NAME);
	exit(2);
}

/* Parse a size with an optional K, M or G (binary) suffix, or exit 2. */
static uint64_t
parse_size(const char *arg, uint64_t min, uint64_t max, const char *what)
{
	unsigned long long	 n;
	uint64_t		 unit = 1;
	char			*end;

	errno = 0;
	n = strtoull(arg, &end, 10);
	if (*end == 'K' || *end == 'k')
		unit = 1024;
	else if (*end == 'M' || *end == 'm')
		unit = 1024 * 1024;
	else if (*end == 'G' || *end == 'g')
		unit = 1024 * 1024 * 1024;
	if (unit != 1)
		end++;
	if (arg[0] < '0' || arg[0] > '9' || *end != '\0' || errno != 0 ||
	    n > max / unit || n * unit < min) {
		(void)fprintf(stderr, "%s: %s \"%s\" is invalid (%" PRIu64
		    " to %" PRIu64 ")\n", PROBE_NAME, what, arg, min, max);
		exit(2);
	}
	return (n * unit);
}

/* MB (10^6 bytes) per second. */
static double
mb_per_s(uint64_t bytes, int64_t us)
{
	if (us <= 0)
		return (0);
	return ((double)bytes / (double)us);
}

/* Add the AFC call times of a bulk probe's JSON detail to t. */
static void
bulk_times(const char *detail, struct tally *t)
{
	json_error_t	 error;
	json_t		*o, *w, *r;

	if (detail == NULL || detail[0] != '{')
		return;
	if ((o = json_loads(detail, 0, &error)) == NULL)
		return;
	w = json_object_get(o, "write_us");
	r = json_object_get(o, "read_us");
	if (json_is_integer(w))
		t->write_us += json_integer_value(w);
	if (json_is_integer(r))
		t->read_us += json_integer_value(r);
	json_decref(o);
}

/* Run count probes of one kind; return how many failed. */
static int
run_kind(struct session *s, const struct probe_ops *ops,
    struct probe_plan *plan, long long count, struct tally *t)
{
	struct probe_progress	progress;
	struct probe_result	result;
	const char		*kind = lq_probe_kind_name((int)ops->kind);
	lq_mono_t		start;
	long long		i;
	int			failed = 0;

	start = lq_mono_now();
	for (i = 0; i < count; i++) {
		plan->sequence++;
		memset(&progress, 0, sizeof(progress));
		probe_result_init(&result);
		(void)ops->run(s, plan, &progress, &result);
		(void)printf("%s %s %" PRId64 " %" PRIu64 " %" PRIu64 " %"
		    PRId64 "\n", kind, lq_status_name(result.status),
		    result.latency_us, result.bytes_out, result.bytes_in,
		    result.corrupt_offset);
		(void)fflush(stdout);
		if (result.detail != NULL &&
		    (verbose || result.status != LQ_OK))
			(void)fprintf(stderr, "%s: %s: %s\n", PROBE_NAME,
			    kind, result.detail);
		t->probes++;
		if (result.status == LQ_OK) {
			t->ok++;
			if (ops->kind == LQ_PROBE_BULK) {
				t->bulk_out += result.bytes_out;
				t->bulk_in += result.bytes_in;
				bulk_times(result.detail, t);
			}
		} else {
			failed++;
			/* As linkqd: the next probe opens fresh connections. */
			session_close(s);
		}
		free(result.detail);
	}
	t->wall_us += lq_mono_sub(lq_mono_now(), start);
	return (failed);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "identify", no_argument, NULL, 'I' },
		{ "cleanup", no_argument, NULL, 'C' },
		{ "pair", no_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 }
	};
	struct tally		 tally[LQ_PROBE_KIND_MAX + 1];
	struct probe_plan	 plan;
	struct session_info	 info;
	struct sigaction	 sa;
	struct session		*s;
	const struct probe_ops	*ops;
	const char		*folder = PROBE_FOLDER, *errstr;
	char			*detail;
	unsigned int		 removed;
	long long		 count = 1;
	int			 ch, kind = 0, identify = 0, cleanup = 0;
	int			 pair = 0, probes = 0, failed = 0, rv, k;
	struct tally		*t;

	memset(&plan, 0, sizeof(plan));
	plan.run_id = (int64_t)getpid();
	plan.seed = PROBE_SEED;
	plan.bulk_bytes = PROBE_BULK;
	plan.chunk_bytes = PROBE_CHUNK;
	plan.max_bytes = PROBE_MAX_BYTES;
	plan.max_free_share_pct = PROBE_SHARE_PCT;
	while ((ch = getopt_long(argc, argv, "b:c:F:k:m:n:v", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'b':
			plan.bulk_bytes = parse_size(optarg, 1,
			    UINT64_C(1) << 40, "bulk bytes");
			break;
		case 'c':
			plan.chunk_bytes = (uint32_t)parse_size(optarg, 1,
			    64 * 1024 * 1024, "chunk bytes");
			break;
		case 'F':
			folder = optarg;
			if (folder[0] != '/' || folder[1] == '\0' ||
			    strchr(folder + 1, '/') != NULL) {
				(void)fprintf(stderr, "%s: folder \"%s\" is "
				    "not one level below /\n", PROBE_NAME,
				    folder);
				exit(2);
			}
			break;
		case 'k':
			if ((kind = lq_probe_kind_from_name(optarg)) == -1 ||
			    probe_ops_find(kind) == NULL ||
			    probe_ops_find(kind)->run == NULL) {
				(void)fprintf(stderr, "%s: no probe kind "
				    "\"%s\" runs here\n", PROBE_NAME, optarg);
				exit(2);
			}
			probes = 1;
			break;
		case 'm':
			plan.max_bytes = parse_size(optarg, 1,
			    UINT64_C(1) << 40, "max bytes");
			break;
		case 'n':
			count = strtonum(optarg, 1, 100000000, &errstr);
			if (errstr != NULL) {
				(void)fprintf(stderr, "%s: count \"%s\" is "
				    "%s\n", PROBE_NAME, optarg, errstr);
				exit(2);
			}
			probes = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'I':
			identify = 1;
			break;
		case 'C':
			cleanup = 1;
			break;
		case 'P':
			pair = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1 || argv[0][0] == '\0')
		usage();
	if (!identify && !cleanup && !pair)
		probes = 1;

	log_init(LOG_TO_STDERR, verbose, PROBE_NAME);
	/* A deadline or a dead link leaves writes to shut-down sockets. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		fatal("sigaction");

	s = session_new(argv[0], folder);
	session_set_watcher(s, NULL);
	if (pair) {
		detail = NULL;
		rv = session_pair(s, &detail);
		(void)printf("pair %s\n", lq_status_name(rv));
		if (detail != NULL)
			(void)fprintf(stderr, "%s: pair: %s\n", PROBE_NAME,
			    detail);
		free(detail);
		failed += rv != LQ_OK;
	}
	if (identify) {
		detail = NULL;
		rv = session_identify(s, &info, &detail);
		(void)printf("identify %s name=\"%s\" product=%s version=%s "
		    "serial=%s\n", lq_status_name(rv), info.name,
		    info.product_type, info.ios_version, info.serial);
		if (detail != NULL)
			(void)fprintf(stderr, "%s: identify: %s\n",
			    PROBE_NAME, detail);
		free(detail);
		failed += rv != LQ_OK;
	}
	if (cleanup) {
		detail = NULL;
		rv = session_cleanup(s, &removed, &detail);
		(void)printf("cleanup %s %u\n", lq_status_name(rv), removed);
		if (detail != NULL)
			(void)fprintf(stderr, "%s: cleanup: %s\n", PROBE_NAME,
			    detail);
		free(detail);
		failed += rv != LQ_OK;
		if (rv != LQ_OK)
			session_close(s);
	}
	(void)fflush(stdout);

	memset(tally, 0, sizeof(tally));
	for (k = 1; probes && k <= LQ_PROBE_KIND_MAX; k++) {
		if ((kind != 0 && k != kind) || (ops = probe_ops_find(k)) ==
		    NULL || ops->run == NULL)
			continue;	/* usb-control runs on a loop */
		failed += run_kind(s, ops, &plan, count, &tally[k]);
	}
	for (k = 1; k <= LQ_PROBE_KIND_MAX; k++) {
		t = &tally[k];
		if (t->probes == 0)
			continue;
		(void)printf("summary %s probes %lld ok %lld probes/s %.1f",
		    lq_probe_kind_name(k), t->probes, t->ok,
		    t->wall_us > 0 ? (double)t->probes * 1e6 /
		    (double)t->wall_us : 0.0);
		if (k == LQ_PROBE_BULK)
			(void)printf(" chunk %" PRIu32 " write_mb_s %.1f "
			    "read_mb_s %.1f", plan.chunk_bytes,
			    mb_per_s(t->bulk_out, t->write_us),
			    mb_per_s(t->bulk_in, t->read_us));
		(void)printf("\n");
	}
	session_free(s);
	return (failed == 0 ? 0 : 1);
}
