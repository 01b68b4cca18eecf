/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * lq-gendb: write a synthetic test history into a linkq database through
 * the store, the same code path linkqd uses. It makes the large
 * databases the report benchmarks need (10M probes, 100k runs) and the
 * small ones the integration tests inspect with sqlite3(1).
 *
 * The history is a drawer of cables tried on a row of ports by a few
 * phones. Some cables and one port are bad: their runs see failed
 * probes, link errors and dropouts and get a FAIL, so that summaries and
 * blame have something to find. The verdicts are the generator's own
 * rule, not linkq's verdict engine. The same seed gives the same rows.
 */

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat/compat.h"
#include "linkq.h"
#include "log.h"
#include "lq-status.h"
#include "lq-time.h"
#include "store.h"
#include "xmalloc.h"

#define GEN_DEVICES	4
#define GEN_EPOCH_US	INT64_C(1767225600000000)	/* 2026-01-01 */

struct gen_options {
	uint64_t	seed;
	long long	runs;
	long long	probes_per_run;
	long long	cables;
	long long	ports;
	int		quiet;
};

struct gen_ids {
	int64_t		 host;
	int64_t		*ports;
	int64_t		*cables;
	int64_t		 devices[GEN_DEVICES];
};

struct gen_totals {
	long long	runs;
	long long	probes;
	long long	events;
};

static uint64_t	gen_state;

static __dead void
usage(void)
{
	(void)fprintf(stderr, "usage: lq-gendb [-q] [-c cables] [-P ports] "
	    "[-p probes-per-run] [-r runs] [-s seed] database\n");
	exit(2);
}

/* xorshift64*: small, fast and the same everywhere for a given seed. */
static uint64_t
gen_random(void)
{
	gen_state ^= gen_state >> 12;
	gen_state ^= gen_state << 25;
	gen_state ^= gen_state >> 27;
	return (gen_state * UINT64_C(2685821657736338717));
}

/* Return a number in [0, n). */
static int64_t
gen_below(int64_t n)
{
	return ((int64_t)(gen_random() % (uint64_t)n));
}

static long long
parse_number(const char *arg, long long min, long long max, const char *what)
{
	const char	*errstr;
	long long	 n;

	n = strtonum(arg, min, max, &errstr);
	if (errstr != NULL) {
		(void)fprintf(stderr, "lq-gendb: %s \"%s\" is %s (%lld to "
		    "%lld)\n", what, arg, errstr, min, max);
		exit(2);
	}
	return (n);
}

/* Create the host, ports, cables and devices. */
static void
gen_world(struct store *s, const struct gen_options *o, struct gen_ids *ids)
{
	struct store_device	 d;
	char			 name[64];
	long long		 i;

	ids->host = store_host(s, "lq-gendb-0000", "gendb-bench");
	ids->ports = xcalloc((size_t)o->ports, sizeof(*ids->ports));
	ids->cables = xcalloc((size_t)o->cables, sizeof(*ids->cables));
	for (i = 0; i < o->ports; i++) {
		/* Two root ports, the rest behind a hub on the second. */
		if (i < 2)
			xsnprintf(name, sizeof(name), "1-%lld", i + 1);
		else
			xsnprintf(name, sizeof(name), "1-2.%lld", i - 1);
		ids->ports[i] = store_port(s, ids->host, name, i < 2 ? 0 : 1);
	}
	for (i = 0; i < o->cables; i++) {
		xsnprintf(name, sizeof(name), "%c-%02lld",
		    (char)('A' + i / 100 % 26), i % 100 + 1);
		ids->cables[i] = store_cable(s, name);
	}
	for (i = 0; i < GEN_DEVICES; i++) {
		memset(&d, 0, sizeof(d));
		xsnprintf(name, sizeof(name), "00008030-%016llX",
		    (unsigned long long)(0xA11CE0 + i));
		d.udid = name;
		d.name = "Bench iPhone";
		d.product_type = i % 2 ? "iPhone15,2" : "iPhone12,1";
		d.ios_version = "17.4";
		d.seen_us = GEN_EPOCH_US;
		ids->devices[i] = store_device(s, &d);
	}
	if (ids->host < 0)
		fatalx("lq-gendb: cannot create the host row");
}

/* Add one event of kind to a run. */
static void
gen_event(struct store *s, int64_t attachment, int64_t run, int64_t ts,
    const char *source, const char *kind, int errnum,
    struct gen_totals *t)
{
	struct store_event	e;

	memset(&e, 0, sizeof(e));
	e.ts_us = ts;
	e.source = source;
	e.kind = kind;
	e.attachment_id = attachment;
	e.run_id = run;
	e.errnum = errnum;
	if (store_event(s, &e) > 0)
		t->events++;
}

/*
 * One run: an attachment of a random device on a random port through a
 * random cable, then its probes, events and verdict.
 */
static void
gen_run(struct store *s, const struct gen_options *o,
    const struct gen_ids *ids, long long n, struct gen_totals *t)
{
	struct store_attachment	 a;
	struct store_probe	 p;
	int64_t			 attachment, run, ts;
	long long		 i, failures = 0;
	long long		 cable = gen_below(o->cables);
	long long		 port = gen_below(o->ports);
	/* Every seventh cable and the last port are bad: 1 in 200. */
	int			 bad = cable % 7 == 3 || port == o->ports - 1;
	const char		*verdict;

	ts = GEN_EPOCH_US + n * 600 * LQ_USEC_PER_SEC;
	memset(&a, 0, sizeof(a));
	a.device_id = ids->devices[gen_below(GEN_DEVICES)];
	a.port_id = ids->ports[port];
	a.cable_id = ids->cables[cable];
	a.mode = LQ_MODE_NORMAL;
	a.speed_mbps = 480;
	a.started_us = ts;
	attachment = store_attachment_begin(s, &a);
	run = store_run_begin(s, attachment, n % 10 == 0 ? "restore" :
	    "quick", ts);
	if (attachment < 0 || run < 0)
		fatalx("lq-gendb: cannot create run %lld", n);

	for (i = 0; i < o->probes_per_run; i++) {
		memset(&p, 0, sizeof(p));
		p.run_id = run;
		p.kind = 1 + (int)(i % LQ_PROBE_KIND_MAX);
		p.ts_us = ts + i * 1000;
		p.latency_us = 300 + gen_below(700);
		if (p.kind == LQ_PROBE_BULK) {
			p.bytes = 128 * 1024;
			p.latency_us = 3000 + gen_below(500);
		}
		if (bad && gen_below(200) == 0) {
			p.status = gen_below(2) ? LQ_ETIMEDOUT :
			    LQ_EDISCONNECTED;
			p.latency_us += 1000000;
			failures++;
		}
		if (store_probe(s, &p) > 0)
			t->probes++;
	}
	if (failures > 0) {
		gen_event(s, attachment, run, ts + 500, "kmsg", "link-error",
		    -71, t);
		if (failures > 1)
			gen_event(s, attachment, run, ts + 900, "usbmuxd",
			    "dropout", 0, t);
	}
	verdict = failures > 0 ? "FAIL" : bad ? "MARGINAL" : "PASS";
	ts += o->probes_per_run * 1000;
	if (store_run_end(s, run, "done", verdict, failures > 0 ?
	    "[\"kernel reported error -71\"]" : "[]", ts) == -1 ||
	    store_attachment_end(s, attachment, ts + 1000, "unplug") == -1)
		fatalx("lq-gendb: cannot finish run %lld", n);
	t->runs++;
}

int
main(int argc, char **argv)
{
	struct gen_options	 o;
	struct gen_ids		 ids;
	struct gen_totals	 t;
	struct store		*s;
	lq_mono_t		 start;
	double			 secs;
	char			*cause;
	long long		 n;
	int			 ch;

	memset(&o, 0, sizeof(o));
	memset(&t, 0, sizeof(t));
	o.seed = 1;
	o.runs = 100;
	o.probes_per_run = 100;
	o.cables = 12;
	o.ports = 4;
	log_init(LOG_TO_STDERR, 0, "lq-gendb");
	while ((ch = getopt(argc, argv, "c:P:p:qr:s:")) != -1) {
		switch (ch) {
		case 'c':
			o.cables = parse_number(optarg, 1, 2600, "cables");
			break;
		case 'P':
			o.ports = parse_number(optarg, 1, 127, "ports");
			break;
		case 'p':
			o.probes_per_run = parse_number(optarg, 0, 10000000,
			    "probes per run");
			break;
		case 'q':
			o.quiet = 1;
			break;
		case 'r':
			o.runs = parse_number(optarg, 0, 100000000, "runs");
			break;
		case 's':
			o.seed = (uint64_t)parse_number(optarg, 1, LLONG_MAX,
			    "seed");
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		usage();
	gen_state = o.seed;

	if ((s = store_open(argv[0], 0, &cause)) == NULL) {
		(void)fprintf(stderr, "lq-gendb: %s\n", cause);
		free(cause);
		return (1);
	}
	start = lq_mono_now();
	gen_world(s, &o, &ids);
	for (n = 0; n < o.runs; n++)
		gen_run(s, &o, &ids, n, &t);
	if (store_flush(s) == -1)
		fatalx("lq-gendb: %s: the last batch was not committed",
		    argv[0]);
	secs = (double)lq_mono_sub(lq_mono_now(), start) / 1e6;
	store_close(s);
	free(ids.ports);
	free(ids.cables);

	if (!o.quiet)
		(void)printf("lq-gendb: %s: %lld runs, %lld probes, %lld "
		    "events in %.2f s (%.0f probes/s)\n", argv[0], t.runs,
		    t.probes, t.events, secs, secs > 0 ? t.probes / secs : 0);
	if (t.probes != o.runs * o.probes_per_run) {
		(void)fprintf(stderr, "lq-gendb: only %lld of %lld probes "
		    "were stored\n", t.probes, o.runs * o.probes_per_run);
		return (1);
	}
	return (0);
}
