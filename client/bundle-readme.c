/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * README.txt of a bundle: what it holds, how it was made, whether the
 * phones' identifiers are hashed and how, and what it could not hold
 * because linkqd never stored it. It claims no more than the files
 * show.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "compat/compat.h"
#include "bundle.h"
#include "bundle-ids.h"
#include "client.h"
#include "linkq.h"
#include "xmalloc.h"

/* The run ids, "3, 5, 8", at most a line's worth. */
static void
readme_run_ids(FILE *f, struct bundle *b)
{
	json_t	*run;
	size_t	 i, n = json_array_size(b->runs);

	json_array_foreach(b->runs, i, run) {
		if (i == 12 && n > 14) {
			fprintf(f, ", ... (%zu more)", n - 12);
			break;
		}
		fprintf(f, "%s%lld", i > 0 ? ", " : "",
		    (long long)json_integer_value(json_object_get(run, "id")));
	}
}

/* How many of the runs had not ended when the bundle was made. */
static size_t
readme_running(struct bundle *b)
{
	json_t	*run;
	size_t	 i, n = 0;

	json_array_foreach(b->runs, i, run)
		n += strcmp(client_str(run, "state", ""), "running") == 0;
	return (n);
}

static void
readme_head(FILE *f, struct bundle *b)
{
	char	when[40];
	size_t	running;

	bundle_time(b->made_us, when, sizeof(when));
	fprintf(f, "linkq evidence bundle: %s\n\n", b->what);
	fprintf(f, "Made %s by linkq %s (linkq bundle) from %s.\n", when,
	    LINKQ_VERSION, b->db != NULL ? "a database file, read-only" :
	    "linkqd, through its API");
	fprintf(f, "Runs: %zu (", json_array_size(b->runs));
	readme_run_ids(f, b);
	fprintf(f, ")%s.\n", b->truncated ? ", the newest of more" : "");
	if ((running = readme_running(b)) > 0)
		fprintf(f, "%zu of them had not ended when the bundle was "
		    "made: their evidence\nstops there.\n", running);
	fprintf(f, "Times are UTC in the text files and microseconds since "
	    "the epoch (UTC)\nin the JSON and CSV (fields ending in _us).\n");
}

/* How identifiers are hashed (bundle-ids.h). */
static const char readme_hashed[] =
    "Hashed. Each phone's UDID, the UDID as its USB serial number spells "
    "it\n(no dash) and its recorded serial number, wherever they appear "
    "in any\nfile (kernel lines included), and its name, wherever it "
    "stands as a\nword, are replaced, in any case, by a token: the kind "
    "(udid, serial,\nname) and the first 16 hex digits of HMAC-SHA-256 "
    "of the identifier\n(lower case) under a 256-bit key drawn at random "
    "for this bundle and\nthen discarded. The same identifier has the "
    "same token in every file\nof this bundle, so rows still join (runs, "
    "events and devices by\n\"udid\"), and a different one in any other "
    "bundle; no one can test a\nguessed UDID against a token without the "
    "key.\n";

static void
readme_ids(FILE *f, struct bundle *b)
{
	fprintf(f, "\nIdentifiers\n-----------\n");
	if (bundle_ids_kept(b->ids)) {
		fprintf(f, "Kept as recorded (--keep-ids): this bundle names "
		    "the phones by UDID,\nserial number and name.\n");
		return;
	}
	fputs(readme_hashed, f);
	fprintf(f, "%zu identifiers of %zu phone%s are replaced. Ports, "
	    "cables and the host\nname are not hashed: they name the bench, "
	    "not a phone.\n", bundle_ids_count(b->ids),
	    json_array_size(b->devices),
	    json_array_size(b->devices) == 1 ? "" : "s");
}

static void
readme_files(FILE *f, struct bundle *b)
{
	fprintf(f, "\nFiles\n-----\n");
	fprintf(f, "README.txt         this file\n");
	fprintf(f, "runs.jsonl         each run, one a line, oldest first: "
	    "where (port,\n                   cable, host), profile, state, "
	    "verdict, reasons, totals\n");
	fprintf(f, "devices.jsonl      the phones of the runs: udid, "
	    "usb_serial, name,\n                   product_type, "
	    "ios_version\n");
	fprintf(f, "events.jsonl       the runs' events (%llu), with the "
	    "run's \"udid\"\n", (unsigned long long)b->nevents);
	fprintf(f, "probes.csv         every probe result of the runs "
	    "(%llu rows)\n", (unsigned long long)b->nprobes);
	fprintf(f, "kernel.txt         the kernel lines recorded as events "
	    "of the runs (%llu)\n", (unsigned long long)b->nkernel);
	fprintf(f, "device-syslog.txt  what the phones' syslogs gave "
	    "(%llu events); see below\n", (unsigned long long)b->nsyslog);
	fprintf(f, "report.txt, .json  linkq report --by pair, kept to "
	    "the runs' pairs; below\n");
	fprintf(f, "versions.txt       linkq and its libraries, linkqd, "
	    "the system\n");
	if (b->db == NULL)
		fprintf(f, "config.json        linkqd's status and its "
		    "effective profiles (GET /v1/status,\n                   "
		    "/v1/profiles)\n");
}

static void
readme_limits(FILE *f, struct bundle *b)
{
	fprintf(f, "\nWhat is and is not here\n-----------------------\n");
	fprintf(f,
	    "- Kernel lines: linkqd keeps a kernel line only when it is "
	    "evidence (a\n  link error, reset, disconnect, over-current...), "
	    "as the detail of an\n  event; kernel.txt lists those of these "
	    "runs. Other lines (the\n  enumeration's, for one) were never "
	    "stored and are not here.\n");
	fprintf(f,
	    "- Device syslog: linkqd reads a phone's syslog during a run "
	    "only for\n  its USB mux counters and keeps what it finds as "
	    "events\n  (device-mux-stats, device-mux-errors). The syslog's "
	    "lines are not\n  stored, so no excerpt of them is here; "
	    "device-syslog.txt has those\n  events.\n");
	fprintf(f,
	    "- Report: a pair's row pools every recorded run of that cable "
	    "on that\n  port, those outside this bundle included, as linkq "
	    "report does;\n  runs.jsonl has each run's own verdict. The "
	    "blame is kept to the\n  bundle's cables, ports and phones.\n");
	fprintf(f, "- report.html is the same report as a page, as linkq "
	    "report --html\n  writes it: its timelines draw the newest "
	    "runs of each pair, which\n  may be runs outside this "
	    "bundle.\n");
	if (b->db != NULL)
		fprintf(f, "- Configuration: made from a database file, so "
		    "linkqd was not asked;\n  the file keeps no "
		    "configuration.\n");
	else
		fprintf(f, "- Configuration: linkqd's API shows its status "
		    "and profiles, not the\n  whole effective "
		    "configuration (linkqd -n prints that on the bench;\n  "
		    "its [hooks] command may hold secrets and is never "
		    "included).\n");
}

char *
bundle_readme(struct bundle *b)
{
	char	*text;
	size_t	 len;
	FILE	*f;

	if ((f = open_memstream(&text, &len)) == NULL)
		return (NULL);
	readme_head(f, b);
	readme_ids(f, b);
	readme_files(f, b);
	readme_limits(f, b);
	if (fclose(f) == EOF)
		return (NULL);
	return (text);
}
