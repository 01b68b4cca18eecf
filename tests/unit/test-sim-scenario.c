/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Unit tests for scenario files (sim/scenario.c): every statement and
 * key lands in the right field, defaults and the hub depth from the
 * path, the word rules (comments, quotes, escapes, CRLF, line length),
 * each class of error with its line number and the words of its
 * message, the timeline checks played in time order, stable event
 * order, the fault key parser, combiner and formatter, and the example
 * files of examples/ (read from the source tree: tests run from the
 * repository root).
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "compat/compat.h"
#include "xmalloc.h"

#include "hostile.h"
#include "scenario.h"

#define FILE_NAME	"t.scn"

/* Parse text that must be valid. */
static struct scenario *
parse_ok(const char *text)
{
	struct scenario	*scn;
	char		*cause = NULL;

	if ((scn = scenario_parse(text, FILE_NAME, &cause)) == NULL) {
		print_error("unexpected error: %s\n", cause);
		free(cause);
		fail();
	}
	return (scn);
}

/* Parse text that must fail at line with a message containing want. */
static void
parse_err(const char *text, int line, const char *want)
{
	char	*cause = NULL, prefix[64];

	if (scenario_parse(text, FILE_NAME, &cause) != NULL) {
		print_error("no error for:\n%s\n", text);
		fail();
	}
	assert_non_null(cause);
	(void)snprintf(prefix, sizeof(prefix), "%s:%d: ", FILE_NAME, line);
	if (strncmp(cause, prefix, strlen(prefix)) != 0 ||
	    strstr(cause, want) == NULL) {
		print_error("for:\n%s\ngot:  %s\nwant: %s...%s...\n", text,
		    cause, prefix, want);
		free(cause);
		fail();
	}
	free(cause);
}

/* Count a scenario's events. */
static int
count_events(const struct scenario *scn)
{
	const struct scn_event	*ev;
	int			 n = 0;

	TAILQ_FOREACH(ev, &scn->events, entry)
		n++;
	return (n);
}

/* Return event i (from 0) in time order. */
static const struct scn_event *
event_at(const struct scenario *scn, int i)
{
	const struct scn_event	*ev;

	TAILQ_FOREACH(ev, &scn->events, entry)
		if (i-- == 0)
			return (ev);
	fail();
	return (NULL);
}

/* A device with every key, and one with none (the defaults). */
static void
test_device(__unused void **state)
{
	struct scenario		*scn;
	struct scn_device	*d;

	scn = parse_ok(
	    "device full udid=00008030-001A1C3E0A38802E "
	    "name=\"Bench \\\"big\\\" \\\\ iPhone\" product=iPhone15,4 "
	    "version=16.7.5 trust=unpaired max-speed=5000 "
	    "hostile=lockdown-missing\n"
	    "device bare\n"
	    "device old udid=0123456789abcdef0123456789ABCDEF01234567 "
	    "trust=locked max-speed=10000 version=10.0\n");
	assert_int_equal(scn->has_seed, 0);
	d = TAILQ_FIRST(&scn->devices);
	assert_string_equal(d->name, "full");
	assert_string_equal(d->udid, "00008030-001A1C3E0A38802E");
	assert_string_equal(d->device_name, "Bench \"big\" \\ iPhone");
	assert_string_equal(d->product_type, "iPhone15,4");
	assert_string_equal(d->version, "16.7.5");
	assert_int_equal(d->trust, SIM_TRUST_UNPAIRED);
	assert_int_equal(d->max_speed_mbps, 5000);
	assert_int_equal(d->hostile, HOSTILE_LOCKDOWN_MISSING);

	d = TAILQ_NEXT(d, entry);
	assert_string_equal(d->name, "bare");
	assert_int_equal(d->hostile, HOSTILE_NONE);
	assert_null(d->udid);
	assert_null(d->device_name);
	assert_null(d->product_type);
	assert_null(d->version);
	assert_int_equal(d->trust, SIM_TRUST_PAIRED);
	assert_int_equal(d->max_speed_mbps, 480);

	d = TAILQ_NEXT(d, entry);
	assert_string_equal(d->udid,
	    "0123456789abcdef0123456789ABCDEF01234567");
	assert_int_equal(d->trust, SIM_TRUST_LOCKED);
	assert_int_equal(d->max_speed_mbps, 10000);
	assert_string_equal(d->version, "10.0");
	assert_null(TAILQ_NEXT(d, entry));
	scenario_free(scn);
}

/* Every hostile kind's name parses back to it; a bad one lists them. */
static void
test_hostile_names(__unused void **state)
{
	enum hostile_kind	 k, back;
	char			*cause = NULL;

	for (k = HOSTILE_NONE; k <= HOSTILE_LOCKDOWN_MISSING; k++) {
		assert_int_equal(hostile_parse(hostile_name(k), &back,
		    &cause), 0);
		assert_int_equal(back, k);
	}
	assert_int_equal(hostile_parse("", &back, &cause), -1);
	assert_non_null(strstr(cause, "afc-cut, lockdown-garbage"));
	free(cause);
}

/* Ports: path, label, hub depth from the path or given, faults. */
static void
test_port(__unused void **state)
{
	struct scenario	*scn;
	struct scn_port	*p;

	scn = parse_ok(
	    "port root path=1-1\n"
	    "port hub path=1-4.2 label=\"desk hub\"\n"
	    "port deep path=127-255.1.2.3.4.5.6 hub-depth=2 "
	    "link-error-per-min=6 reset-per-min=1 latency-ms=0.5\n"
	    "port flat path=2-3.1 hub-depth=0\n");
	p = TAILQ_FIRST(&scn->ports);
	assert_string_equal(p->name, "root");
	assert_string_equal(p->path, "1-1");
	assert_null(p->label);
	assert_int_equal(p->hub_depth, 0);
	assert_int_equal(p->fault.link_error_per_min == 0, 1);

	p = TAILQ_NEXT(p, entry);
	assert_string_equal(p->path, "1-4.2");
	assert_string_equal(p->label, "desk hub");
	assert_int_equal(p->hub_depth, 1);

	p = TAILQ_NEXT(p, entry);
	assert_string_equal(p->path, "127-255.1.2.3.4.5.6");
	assert_int_equal(p->hub_depth, 2);
	assert_true(p->fault.link_error_per_min == 6);
	assert_true(p->fault.reset_per_min == 1);
	assert_int_equal(p->fault.latency_us, 500);

	p = TAILQ_NEXT(p, entry);
	assert_int_equal(p->hub_depth, 0);
	scenario_free(scn);

	scn = parse_ok("port p path=1-2.3.4\n");
	assert_int_equal(TAILQ_FIRST(&scn->ports)->hub_depth, 2);
	scenario_free(scn);
}

/* Cables: the label, and every fault key into its field and unit. */
static void
test_cable(__unused void **state)
{
	struct scenario		*scn;
	struct scn_cable	*c;
	const struct fault	*f;

	scn = parse_ok(
	    "cable plain\n"
	    "cable all label=B-01 latency-ms=20 jitter-ms=1.5 cap-mbps=35 "
	    "speed=12 drop-per-mb=0.002 drop-per-min=0.5 drop-mode=reset "
	    "reset-delay-ms=1500 link-error-per-min=3 reset-per-min=0.25 "
	    "stall-per-min=2 stall-ms=250 corrupt-per-mb=1e-2\n"
	    "cable stranded drop-mode=stranded speed=10000\n");
	c = TAILQ_FIRST(&scn->cables);
	assert_string_equal(c->name, "plain");
	assert_null(c->label);
	f = &c->fault;
	assert_int_equal(f->latency_us, 0);
	assert_true(f->cap_mb_s == 0);
	assert_int_equal(f->speed_mbps, 0);
	assert_int_equal(f->drop_mode, FAULT_DROP_STRANDED);

	c = TAILQ_NEXT(c, entry);
	assert_string_equal(c->label, "B-01");
	f = &c->fault;
	assert_int_equal(f->latency_us, 20000);
	assert_int_equal(f->jitter_us, 1500);
	assert_true(f->cap_mb_s == 35);
	assert_int_equal(f->speed_mbps, 12);
	assert_true(f->drop_per_mb == 0.002);
	assert_true(f->drop_per_min == 0.5);
	assert_int_equal(f->drop_mode, FAULT_DROP_RESET);
	assert_int_equal(f->reset_delay_us, 1500000);
	assert_true(f->link_error_per_min == 3);
	assert_true(f->reset_per_min == 0.25);
	assert_true(f->stall_per_min == 2);
	assert_int_equal(f->stall_us, 250000);
	assert_true(f->corrupt_per_mb == 0.01);

	c = TAILQ_NEXT(c, entry);
	assert_int_equal(c->fault.drop_mode, FAULT_DROP_STRANDED);
	assert_int_equal(c->fault.speed_mbps, 10000);
	scenario_free(scn);
}

/* seed, once. */
static void
test_seed(__unused void **state)
{
	struct scenario	*scn;

	scn = parse_ok("seed 18446744\n");
	assert_int_equal(scn->has_seed, 1);
	assert_true(scn->seed == 18446744);
	scenario_free(scn);
	scn = parse_ok("seed 0\n");
	assert_int_equal(scn->has_seed, 1);
	assert_true(scn->seed == 0);
	scenario_free(scn);
}

/* Every action, time units, names declared after their use. */
static void
test_events(__unused void **state)
{
	struct scenario		*scn;
	const struct scn_event	*ev;

	scn = parse_ok(
	    "at 0s plug d p c\n"
	    "at 250ms trust d deny\n"
	    "at 1.5s trust d accept\n"
	    "at 2m fault c  drop-per-mb=0.002   drop-mode=\"reset\"  # bad\n"
	    "at 1h unplug d\n"
	    "at 2h mode d dfu\n"
	    "\n"
	    "device d\nport p path=1-1\ncable c\n");
	assert_int_equal(count_events(scn), 6);

	ev = event_at(scn, 0);
	assert_int_equal(ev->action, SCN_PLUG);
	assert_true(ev->at_us == 0);
	assert_string_equal(ev->device, "d");
	assert_string_equal(ev->port, "p");
	assert_string_equal(ev->cable, "c");
	assert_null(ev->target);
	assert_null(ev->params);
	assert_int_equal(ev->line, 1);

	ev = event_at(scn, 1);
	assert_int_equal(ev->action, SCN_TRUST);
	assert_true(ev->at_us == 250000);
	assert_string_equal(ev->device, "d");
	assert_int_equal(ev->accept, 0);

	ev = event_at(scn, 2);
	assert_int_equal(ev->action, SCN_TRUST);
	assert_true(ev->at_us == 1500000);
	assert_int_equal(ev->accept, 1);

	ev = event_at(scn, 3);
	assert_int_equal(ev->action, SCN_FAULT);
	assert_true(ev->at_us == INT64_C(120000000));
	assert_string_equal(ev->target, "c");
	assert_string_equal(ev->params,
	    "drop-per-mb=0.002   drop-mode=\"reset\"");
	assert_null(ev->device);
	assert_int_equal(ev->line, 4);

	ev = event_at(scn, 4);
	assert_int_equal(ev->action, SCN_UNPLUG);
	assert_true(ev->at_us == INT64_C(3600000000));
	assert_string_equal(ev->device, "d");
	assert_null(ev->port);

	ev = event_at(scn, 5);
	assert_int_equal(ev->action, SCN_MODE);
	assert_string_equal(ev->device, "d");
	assert_int_equal(ev->mode, SIM_MODE_DFU);
	scenario_free(scn);
}

/* Events sort by time; equal times keep the file's order. */
static void
test_event_order(__unused void **state)
{
	struct scenario		*scn;
	static const int	 lines[] = { 4, 1, 2, 5, 6, 3, 7 };
	size_t			 i;

	scn = parse_ok(
	    "at 10s trust d accept\n"		/* 1 */
	    "at 10s trust d deny\n"		/* 2 */
	    "at 20s unplug d\n"			/* 3 */
	    "at 5s plug d p c\n"		/* 4 */
	    "at 10000ms fault c latency-ms=1\n"	/* 5 */
	    "at 10s fault p latency-ms=2\n"	/* 6 */
	    "at 1m plug d p c\n"		/* 7 */
	    "device d\nport p path=1-1\ncable c\n");
	assert_int_equal(count_events(scn), (int)nitems(lines));
	for (i = 0; i < nitems(lines); i++)
		assert_int_equal(event_at(scn, (int)i)->line, lines[i]);
	scenario_free(scn);

	/* The timeline is played in time order, not file order. */
	scn = parse_ok(
	    "device d\nport p path=1-1\ncable c\n"
	    "at 10s unplug d\n"
	    "at 5s plug d p c\n"
	    "at 20s unplug d\n"
	    "at 15s plug d p c\n");
	scenario_free(scn);
}

/* Comments, blanks, CRLF, quotes, a 4096-byte line, one kind's names. */
static void
test_words(__unused void **state)
{
	struct scenario		*scn;
	char			*text;
	size_t			 len;

	scn = parse_ok(
	    "# comment\n"
	    "\n"
	    "   \t  \n"
	    "\tdevice\td  name=\"a # b\"# comment\r\n"
	    "port d path=1-1 label=x#y\n"
	    "cable d label=\"\"\"q\"\n"
	    "at 0s plug d d d\n"
	    "device e name=no-newline-at-end");
	assert_string_equal(TAILQ_FIRST(&scn->devices)->device_name,
	    "a # b");
	assert_string_equal(TAILQ_FIRST(&scn->ports)->label, "x");
	assert_string_equal(TAILQ_FIRST(&scn->cables)->label, "q");
	assert_string_equal(TAILQ_NEXT(TAILQ_FIRST(&scn->devices),
	    entry)->device_name, "no-newline-at-end");
	scenario_free(scn);

	/* A line of exactly 4096 bytes is fine; the newline is extra. */
	len = 4096;
	text = xmalloc(len + 2);
	memset(text, 'x', len);
	memcpy(text, "cable c label=", 14);
	text[len] = '\n';
	text[len + 1] = '\0';
	scn = parse_ok(text);
	assert_int_equal(strlen(TAILQ_FIRST(&scn->cables)->label), len - 14);
	scenario_free(scn);
	free(text);

	/* A name may be spelt like a key. */
	scn = parse_ok("device name name=x\nport path path=1-1\n"
	    "cable label label=A-01\n");
	assert_string_equal(TAILQ_FIRST(&scn->devices)->name, "name");
	assert_string_equal(TAILQ_FIRST(&scn->devices)->device_name, "x");
	assert_string_equal(TAILQ_FIRST(&scn->ports)->path, "1-1");
	assert_string_equal(TAILQ_FIRST(&scn->cables)->label, "A-01");
	scenario_free(scn);

	scn = parse_ok("");
	assert_true(TAILQ_EMPTY(&scn->devices));
	assert_true(TAILQ_EMPTY(&scn->events));
	assert_string_equal(scn->file, FILE_NAME);
	scenario_free(scn);
	scenario_free(NULL);
}

struct err_case {
	const char	*text;
	int		 line;
	const char	*want;
};

static const struct err_case err_cases[] = {
	/* Statements and words. */
	{ "# x\nfrobnicate d\n", 2, "unknown statement \"frobnicate\"; "
	    "the statements are seed, usbmuxd, device, port, cable and at" },
	{ "usbmuxd preflight=maybe\n", 1, "preflight=maybe: expected yes "
	    "or no" },
	{ "usbmuxd speeds=1.1.2\n", 1, "speeds=1.1.2: expected 1.1.1 or "
	    "upstream" },
	{ "usbmuxd exit=no\nusbmuxd exit=yes\n", 2, "usbmuxd is already "
	    "given at line 1; give it once" },
	{ "usbmuxd colour=red\n", 1, "unknown usbmuxd key colour; the keys "
	    "are preflight, exit and speeds" },
	{ "device d name=\"open\n", 1, "unterminated quote: the \" at "
	    "column 15" },
	{ "\n\ndevice d name=\"a\\nb\"\n", 3, "unknown escape" },
	{ "device d colour=red\n", 1, "unknown device key colour; the keys "
	    "are udid, name, product, version, trust, max-speed" },
	{ "port p path=1-1 colour=red\n", 1, "unknown port key colour; the "
	    "keys are path, label, hub-depth and the fault keys latency-ms, "
	    "jitter-ms, cap-mbps, speed, drop-per-mb, drop-per-min, "
	    "drop-mode, reset-delay-ms, link-error-per-min, reset-per-min, "
	    "stall-per-min, stall-ms, corrupt-per-mb, enum-fail, "
	    "control-stall, control-error, control-timeout, retry-rate, "
	    "fallback" },
	{ "cable c path=1-1\n", 1, "unknown cable key path; the keys are "
	    "label and the fault keys latency-ms" },
	{ "cable c label=a label=b\n", 1, "key label is given twice" },
	{ "cable c latency-ms=1 latency-ms=1\n", 1,
	    "key latency-ms is given twice" },
	{ "device d udid\n", 1, "\"udid\" is not KEY=VALUE" },
	{ "device d name=\n", 1, "name= has no value" },
	{ "device d name=\"\"\n", 1, "name= has no value" },
	{ "device d =x\n", 1, "has no key before '='" },
	{ "device\n", 1, "device needs a name" },
	{ "port path=1-1\n", 1, "port needs a name before its keys" },
	{ "cable c/d\n", 1, "bad cable name \"c/d\"" },
	{ "cable \"c d\"\n", 1, "bad cable name \"c d\"" },

	/* seed. */
	{ "seed 1\nseed 2\n", 2, "seed is already given at line 1" },
	{ "seed -1\n", 1, "seed -1: expected a whole number" },
	{ "seed 1x\n", 1, "seed 1x: expected a whole number" },
	{ "seed\n", 1, "seed takes one number" },

	/* Device values. */
	{ "device d version=9.3\n", 1, "version 9.3 is too old: iOS 10" },
	{ "device d version=17\n", 1, "bad version \"17\": expected "
	    "MAJOR.MINOR[.PATCH]" },
	{ "device d version=17.4.1.2\n", 1, "bad version" },
	{ "device d version=17.x\n", 1, "bad version" },
	{ "device d udid=1234\n", 1, "bad udid 1234: expected 8 and 16" },
	{ "device d udid=00008030001A1C3E0A38802E-\n", 1, "bad udid" },
	{ "device d udid=00008030-001A1C3E0A38802_\n", 1, "bad udid" },
	{ "device d udid=0123456789abcdef0123456789abcdef0123456g\n", 1,
	    "bad udid" },
	{ "device d product=iPhone\n", 1, "bad product \"iPhone\"" },
	{ "device d trust=maybe\n", 1, "trust=maybe: expected paired, "
	    "unpaired or locked" },
	{ "device d max-speed=12\n", 1, "max-speed=12: expected 480, 5000 "
	    "or 10000" },
	{ "device d hostile=evil\n", 1, "hostile=evil: expected one of "
	    "none, afc-this-gt-entire, " },

	/* Numbers, rates, speeds. */
	{ "cable c latency-ms=12abc\n", 1, "latency-ms=12abc: not a number; "
	    "expected milliseconds" },
	{ "cable c drop-per-mb=0x10\n", 1, "drop-per-mb=0x10: not a number" },
	{ "cable c drop-per-mb=nan\n", 1, "drop-per-mb=nan: not a number" },
	{ "cable c drop-per-mb=inf\n", 1, "drop-per-mb=inf: not a number" },
	{ "cable c drop-per-mb=.\n", 1, "not a number" },
	{ "cable c drop-per-mb=1e\n", 1, "not a number" },
	{ "cable c drop-per-mb=1e999\n", 1, "number out of range" },
	{ "cable c drop-per-mb=-0.1\n", 1, "drop-per-mb=-0.1: must not be "
	    "negative" },
	{ "port p path=1-1 reset-per-min=-1\n", 1, "must not be negative" },
	{ "cable c stall-ms=-5\n", 1, "must not be negative" },
	{ "cable c latency-ms=3600001\n", 1, "at most 3600000" },
	{ "cable c cap-mbps=-1\n", 1, "must not be negative" },
	{ "cable c cap-mbps=fast\n", 1, "expected megabytes per second" },
	{ "cable c speed=100\n", 1, "speed=100: expected 12, 480, 5000 or "
	    "10000" },
	{ "cable c speed=1\n", 1, "speed=1: expected" },
	{ "cable c drop-mode=sometimes\n", 1, "drop-mode=sometimes: expected "
	    "stranded or reset" },

	/* Paths and hub depth. */
	{ "port p path=1-0\n", 1, "bad path 1-0: each port must be a number "
	    "from 1 to 255" },
	{ "port p path=0-1\n", 1, "bad path 0-1: the bus must be" },
	{ "port p path=128-1\n", 1, "the bus must be a number from 1 to "
	    "127" },
	{ "port p path=1\n", 1, "the bus must be followed by '-'" },
	{ "port p path=1-256\n", 1, "from 1 to 255" },
	{ "port p path=1-01\n", 1, "without leading zeros" },
	{ "port p path=1-1..2\n", 1, "bad path" },
	{ "port p path=1-1.\n", 1, "bad path" },
	{ "port p path=1-1:2\n", 1, "separated by '.'" },
	{ "port p path=1-1.2.3.4.5.6.7.8\n", 1, "at most 7 ports" },
	{ "port p label=x\n", 1, "port p has no path" },
	{ "port p path=1-1 hub-depth=7\n", 1, "hub-depth=7: expected a "
	    "number from 0 to 6" },

	/* Times and actions. */
	{ "at soon unplug d\n", 1, "bad time soon: expected a number and a "
	    "unit" },
	{ "at 1.2.3s unplug d\n", 1, "bad time 1.2.3s" },
	{ "at 30 unplug d\n", 1, "time 30 has no unit: write 30ms, 30s, "
	    "30m or 30h" },
	{ "at 30x unplug d\n", 1, "unknown unit \"x\"" },
	{ "at 30sec unplug d\n", 1, "unknown unit \"sec\"" },
	{ "at -1s unplug d\n", 1, "time -1s is negative" },
	{ "at 8761h unplug d\n", 1, "at most 8760h" },
	{ "at 0s\n", 1, "at needs a time and an action" },
	{ "at 0s dance d\n", 1, "unknown action \"dance\"" },
	{ "at 0s plug d p\n", 1, "plug takes three names" },
	{ "at 0s unplug\n", 1, "unplug takes one name" },
	{ "at 0s trust d\n", 1, "trust takes a device and an answer" },
	{ "at 0s trust d maybe\n", 1, "trust maybe: expected accept or "
	    "deny" },
	{ "at 0s fault c\n", 1, "fault takes a port, cable, device or "
	    "hub and parameters" },
	{ "at 0s mode d\n", 1, "mode takes a device and a mode" },
	{ "at 0s mode d sleep\n", 1, "mode sleep: expected normal, "
	    "recovery or dfu" },
	{ "at 0s mode nod recovery\n", 1, "mode: no device named nod" },
	{ "cable c\nat 0s fault c label=x\n", 2, "unknown fault key label" },
	{ "cable c\nat 0s fault c drop-per-mb=-1\n", 2,
	    "must not be negative" },
	{ "cable c\nat 0s fault c speed=480 speed=480\n", 2,
	    "given twice" },

	/* Declarations. */
	{ "device d\n#\ndevice d\n", 3, "device d is already declared at "
	    "line 1" },
	{ "port p path=1-1\nport p path=1-2\n", 2, "port p is already "
	    "declared at line 1" },
	{ "cable c\n\n\ncable c\n", 4, "cable c is already declared at "
	    "line 1" },
	{ "device a udid=00008030-001A1C3E0A38802E\n"
	    "device b udid=00008030-001A1C3E0A38802E\n", 2,
	    "udid 00008030-001A1C3E0A38802E is already device a's (line 1)" },
	{ "port a path=1-4.2\nport b path=1-4.2\n", 2, "path 1-4.2 is "
	    "already port a's (line 1)" },

	/* Names the timeline uses. */
	{ "device d\nport p path=1-1\nat 0s plug d p nocable\ncable c\n",
	    3, "plug: no cable named nocable is declared" },
	{ "at 0s unplug ghost\n", 1, "unplug: no device named ghost" },
	{ "at 0s trust ghost accept\n", 1, "trust: no device named ghost" },
	{ "device d\ncable c\nport p path=1-1\nat 0s plug p p c\n", 4,
	    "plug: p is a port (line 3), not a device" },
	{ "at 5s unplug x\nat 1s unplug y\n", 1, "no device named x" },
	{ "at 0s fault nothing latency-ms=1\n", 1, "fault: no port, "
	    "cable or device named nothing is declared, and it is not a hub "
	    "path" },
	{ "device x\ncable x\nat 0s fault x latency-ms=1\n", 3,
	    "fault: x is both a device (line 1) and a cable (line 2)" },
	{ "port p path=1-1\nat 0s fault 1-4 latency-ms=1\n", 2,
	    "fault: no declared port is below hub 1-4" },
	{ "cable c\nat 0s flex c\n", 2, "flex takes a cable, a duration "
	    "and maybe a factor" },
	{ "cable c\nat 0s flex c 10\n", 2, "time 10 has no unit" },
	{ "cable c\nat 0s flex c 1s 0.5\n", 2, "flex factor 0.5: expected "
	    "a number from 1 to 1000000" },
	{ "port p path=1-1\nat 0s flex p 1s\n", 2, "flex: p is a port "
	    "(line 1), not a cable" },
	{ "port p path=1-1\nat 0s hc-died 0\n", 2, "hc-died 0: expected a "
	    "bus number from 1 to 127" },
	{ "port p path=1-1\nat 0s hc-recover 3\n", 2, "hc-recover: no "
	    "port is on bus 3" },
	{ "port p path=1-1\nat 0s over-current q\n", 2, "over-current: no "
	    "port named q is declared" },
	{ "port p path=1-4.1\nat 0s over-current 2-4\n", 2,
	    "over-current: no declared port is below hub 2-4" },
	{ "port p path=1-4.1\nat 0s hub-reset p\n", 2, "hub-reset p: "
	    "expected a hub as a port path" },
	{ "device d burst-len=1001\n", 1, "burst-len=1001: expected a "
	    "whole number from 0 to 1000" },
	{ "cable c data=maybe\n", 1, "data=maybe: expected yes or no" },
	{ "device d frobs=1\n", 1, "unknown device key frobs; the keys are "
	    "udid, name, product, version, trust, max-speed, hostile and the "
	    "fault keys latency-ms" },
	{ "port x path=1-1\ncable x\nat 0s fault x latency-ms=1\n", 3,
	    "fault: x is both a port (line 1) and a cable (line 2)" },

	/* The timeline played. */
	{ "device d\nport p path=1-1\nport q path=1-2\ncable c\ncable e\n"
	    "at 0s plug d p c\nat 1s plug d q e\n", 7, "plug: device d is "
	    "already plugged into port p (line 6); unplug it first" },
	{ "device d\nport p path=1-1\ncable c\n"
	    "at 0s plug d p c\nat 1s unplug d\nat 2s unplug d\n", 6,
	    "unplug: device d is not plugged in" },
	{ "device d\nat 0s unplug d\n", 2, "device d is not plugged in" },
	{ "device d\nport p path=1-1\ncable c\n"
	    "at 5s unplug d\nat 5s plug d p c\n", 4,
	    "device d is not plugged in" },
	{ "device d\ndevice e\nport p path=1-1\ncable c\ncable k\n"
	    "at 0s plug d p c\nat 1s plug e p k\n", 7, "plug: port p "
	    "already holds device d (line 6)" },
	{ "device d\ndevice e\nport p path=1-1\nport q path=1-2\ncable c\n"
	    "at 0s plug d p c\nat 1s plug e q c\n", 7, "plug: cable c is "
	    "already in port p with device d (line 6)" },
	{ "device d\ndevice e\nport p path=1-1\nport q path=1-2\ncable c\n"
	    "at 9s plug d p c\nat 1s plug e q c\n", 6, "cable c is already "
	    "in port q with device e (line 7)" },
};

/* Each class of error: its line and its message. */
static void
test_errors(__unused void **state)
{
	size_t	i;

	for (i = 0; i < nitems(err_cases); i++)
		parse_err(err_cases[i].text, err_cases[i].line,
		    err_cases[i].want);
}

/* Lines longer than 4096 bytes are refused, with their line number. */
static void
test_long_line(__unused void **state)
{
	char	*text;
	size_t	 len = 4097;

	text = xmalloc(len + 32);
	(void)strlcpy(text, "# one\n# two\n", len + 32);
	memset(text + 12, '#', len);
	text[12 + len] = '\0';
	parse_err(text, 3, "line is 4097 bytes long; at most 4096");
	free(text);
}

/* scenario_load: the file name in messages, missing files, NUL bytes. */
static void
test_load(__unused void **state)
{
	struct scenario	*scn;
	char		 path[] = "/tmp/test-sim-scenario-XXXXXX";
	char		*cause = NULL;
	FILE		*fp;
	int		 fd;

	assert_null(scenario_load("/nonexistent/x.scn", &cause));
	assert_string_equal(cause, "/nonexistent/x.scn: No such file or "
	    "directory");
	free(cause);

	assert_int_not_equal(fd = mkstemp(path), -1);
	assert_non_null(fp = fdopen(fd, "w"));
	assert_int_equal(fwrite("cable c\ncable d\0\n", 1, 17, fp), 17);
	assert_int_equal(fclose(fp), 0);
	assert_null(scenario_load(path, &cause));
	assert_non_null(strstr(cause, ":2: a NUL byte"));
	assert_int_equal(strncmp(cause, path, strlen(path)), 0);
	free(cause);

	assert_non_null(fp = fopen(path, "w"));
	assert_true(fputs("cable c\ncable c\n", fp) >= 0);
	assert_int_equal(fclose(fp), 0);
	assert_null(scenario_load(path, &cause));
	assert_non_null(strstr(cause, ":2: cable c is already declared"));
	assert_int_equal(strncmp(cause, path, strlen(path)), 0);
	free(cause);

	assert_non_null(fp = fopen(path, "w"));
	assert_true(fputs("seed 3\ncable c\n", fp) >= 0);
	assert_int_equal(fclose(fp), 0);
	assert_non_null(scn = scenario_load(path, &cause));
	assert_string_equal(scn->file, path);
	assert_true(scn->seed == 3);
	scenario_free(scn);
	assert_int_equal(unlink(path), 0);
}

/* fault_parse applies on top of f, and leaves it alone on error. */
static void
test_fault_parse(__unused void **state)
{
	struct fault	 f, before;
	char		*cause = NULL;

	memset(&f, 0, sizeof(f));
	assert_int_equal(fault_parse(&f, "latency-ms=20 cap-mbps=35", &cause),
	    0);
	assert_int_equal(fault_parse(&f, "\tlatency-ms=\"5\"  speed=480 ",
	    &cause), 0);
	assert_int_equal(f.latency_us, 5000);
	assert_true(f.cap_mb_s == 35);
	assert_int_equal(f.speed_mbps, 480);
	assert_int_equal(fault_parse(&f, "", &cause), 0);
	assert_int_equal(fault_parse(&f, "latency-ms=0", &cause), 0);
	assert_int_equal(f.latency_us, 0);
	assert_int_equal(fault_parse(&f, "latency-ms=0.0004", &cause), 0);
	assert_int_equal(f.latency_us, 0);
	assert_int_equal(fault_parse(&f, "latency-ms=0.0006", &cause), 0);
	assert_int_equal(f.latency_us, 1);

	before = f;
	assert_int_equal(fault_parse(&f, "jitter-ms=3 bogus=1", &cause), -1);
	assert_string_equal(cause, "unknown fault key bogus; the keys are "
	    "latency-ms, jitter-ms, cap-mbps, speed, drop-per-mb, "
	    "drop-per-min, drop-mode, reset-delay-ms, link-error-per-min, "
	    "reset-per-min, stall-per-min, stall-ms, corrupt-per-mb, "
	    "enum-fail, control-stall, control-error, control-timeout, "
	    "retry-rate, fallback, burst-per-min, burst-len, burst-ms, "
	    "drop-per-mb-out, corrupt-out-per-mb, data");
	free(cause);
	assert_memory_equal(&f, &before, sizeof(f));

	assert_int_equal(fault_parse(&f, "enum-fail=1.5", &cause), -1);
	assert_string_equal(cause, "enum-fail=1.5: a probability is at most 1");
	free(cause);
	assert_memory_equal(&f, &before, sizeof(f));
	assert_int_equal(fault_parse(&f, "enum-fail=0.25", &cause), 0);
	assert_true(f.enum_fail == 0.25);
	f.enum_fail = 0;

	assert_int_equal(fault_parse(&f, "speed=480 speed=12", &cause), -1);
	assert_non_null(strstr(cause, "key speed is given twice"));
	free(cause);
	assert_int_equal(fault_parse(&f, "drop-per-min=NaN", &cause), -1);
	assert_non_null(strstr(cause, "not a number"));
	free(cause);
	assert_int_equal(fault_parse(&f, "drop-per-min=-inf", &cause), -1);
	free(cause);
	assert_int_equal(fault_parse(&f, "corrupt-per-mb=\"0.1", &cause),
	    -1);
	assert_non_null(strstr(cause, "unterminated quote"));
	free(cause);
	assert_int_equal(fault_parse(&f, "latency-ms", &cause), -1);
	assert_non_null(strstr(cause, "is not KEY=VALUE"));
	free(cause);
	assert_memory_equal(&f, &before, sizeof(f));
	assert_int_equal(fault_parse(&f, "x=1", NULL), -1);
}

/* fault_combine: add, smaller non-zero, reset wins, max. */
static void
test_fault_combine(__unused void **state)
{
	struct fault	p, c, d, out;

	memset(&p, 0, sizeof(p));
	memset(&c, 0, sizeof(c));
	memset(&d, 0, sizeof(d));
	p.latency_us = 1000;
	c.latency_us = 250;
	p.jitter_us = 10;
	c.jitter_us = 5;
	p.cap_mb_s = 0;
	c.cap_mb_s = 20;
	p.speed_mbps = 480;
	c.speed_mbps = 0;
	p.drop_per_mb = 0.001;
	c.drop_per_mb = 0.002;
	p.drop_per_min = 1;
	c.drop_per_min = 0.5;
	p.drop_mode = FAULT_DROP_STRANDED;
	c.drop_mode = FAULT_DROP_RESET;
	p.reset_delay_us = 100;
	c.reset_delay_us = 300;
	p.link_error_per_min = 6;
	c.link_error_per_min = 1;
	p.reset_per_min = 1;
	c.reset_per_min = 2;
	p.stall_per_min = 0.5;
	c.stall_per_min = 0.25;
	p.stall_us = 700;
	c.stall_us = 200;
	p.corrupt_per_mb = 0.01;
	c.corrupt_per_mb = 0.02;
	p.enum_fail = 0.5;
	c.enum_fail = 0.5;
	fault_combine(&out, &p, &c, &d);
	assert_true(out.enum_fail == 0.75);
	assert_int_equal(out.latency_us, 1250);
	assert_int_equal(out.jitter_us, 15);
	assert_true(out.cap_mb_s == 20);
	assert_int_equal(out.speed_mbps, 480);
	assert_true(out.drop_per_mb == 0.001 + 0.002);
	assert_true(out.drop_per_min == 1.5);
	assert_int_equal(out.drop_mode, FAULT_DROP_RESET);
	assert_int_equal(out.reset_delay_us, 300);
	assert_true(out.link_error_per_min == 7);
	assert_true(out.reset_per_min == 3);
	assert_true(out.stall_per_min == 0.75);
	assert_int_equal(out.stall_us, 700);
	assert_true(out.corrupt_per_mb == 0.01 + 0.02);

	/* Both set: the smaller; both stranded: stranded; aliasing. */
	p.cap_mb_s = 10;
	c.cap_mb_s = 30;
	p.speed_mbps = 5000;
	c.speed_mbps = 480;
	c.drop_mode = FAULT_DROP_STRANDED;
	fault_combine(&p, &p, &c, &d);
	assert_true(p.cap_mb_s == 10);
	assert_int_equal(p.speed_mbps, 480);
	assert_int_equal(p.drop_mode, FAULT_DROP_STRANDED);
	assert_int_equal(p.latency_us, 1250);

	/* Nothing and nothing is nothing. */
	memset(&p, 0, sizeof(p));
	memset(&c, 0, sizeof(c));
	fault_combine(&out, &p, &c, &d);
	assert_memory_equal(&out, &p, sizeof(out));

	/* The device's own faults join whatever port and cable it is on. */
	d.corrupt_per_mb = 0.5;
	d.enum_fail = 0.5;
	d.burst_len = 3;
	c.burst_len = 7;
	c.enum_fail = 0.5;
	c.charge_only = 1;
	d.drop_per_mb_out = 0.25;
	fault_combine(&out, &p, &c, &d);
	assert_true(out.corrupt_per_mb == 0.5);
	assert_true(out.enum_fail == 0.75);
	assert_int_equal(out.burst_len, 7);
	assert_int_equal(out.charge_only, 1);
	assert_true(out.drop_per_mb_out == 0.25);

	/* A flex: rates times the factor, probabilities over its tries. */
	fault_scale(&out, 2);
	assert_true(out.corrupt_per_mb == 1);
	assert_true(out.drop_per_mb_out == 0.5);
	assert_true(out.enum_fail == 1 - 0.25 * 0.25);
	assert_int_equal(out.burst_len, 7);

	/* Hubs: a path prefix, or a root hub's whole bus. */
	assert_true(scn_path_under("1-4.2", "1-4"));
	assert_true(scn_path_under("1-4.2.3", "1-4"));
	assert_false(scn_path_under("1-4", "1-4"));
	assert_false(scn_path_under("1-42.1", "1-4"));
	assert_true(scn_path_under("1-4", "usb1"));
	assert_false(scn_path_under("11-4", "usb1"));
}

/* fault_format: key order, ms back from us, round trip through parse. */
static void
test_fault_format(__unused void **state)
{
	struct fault	 f, g;
	char		*s, *cause = NULL;

	memset(&f, 0, sizeof(f));
	s = fault_format(&f);
	assert_string_equal(s, "");
	free(s);

	f.corrupt_per_mb = 0.01;
	f.latency_us = 20000;
	f.drop_mode = FAULT_DROP_RESET;
	f.speed_mbps = 480;
	f.stall_us = 250500;
	f.cap_mb_s = 35;
	s = fault_format(&f);
	assert_string_equal(s, "latency-ms=20 cap-mbps=35 speed=480 "
	    "drop-mode=reset stall-ms=250.5 corrupt-per-mb=0.01");
	free(s);

	f.latency_us = 1500;
	f.jitter_us = 1;
	f.cap_mb_s = 1e6;
	f.speed_mbps = 10000;
	f.drop_per_mb = 0.002;
	f.drop_per_min = 0.5;
	f.reset_delay_us = 3600000000LL;
	f.link_error_per_min = 6;
	f.reset_per_min = 1;
	f.stall_per_min = 2.25;
	f.stall_us = 999;
	f.corrupt_per_mb = 1e-7;
	s = fault_format(&f);
	assert_string_equal(s, "latency-ms=1.5 jitter-ms=0.001 "
	    "cap-mbps=1e+06 speed=10000 drop-per-mb=0.002 drop-per-min=0.5 "
	    "drop-mode=reset reset-delay-ms=3.6e+06 link-error-per-min=6 "
	    "reset-per-min=1 stall-per-min=2.25 stall-ms=0.999 "
	    "corrupt-per-mb=1e-07");
	memset(&g, 0, sizeof(g));
	if (fault_parse(&g, s, &cause) != 0) {
		print_error("%s\n", cause);
		free(cause);
		fail();
	}
	free(s);
	assert_memory_equal(&f, &g, sizeof(f));
}

/* The example files load, with the bench they describe. */
static void
test_examples(__unused void **state)
{
	struct scenario		*scn;
	struct scn_port		*p;
	struct scn_cable	*c;
	const struct scn_event	*ev;
	char			*cause = NULL;
	int			 n, bad;

	if ((scn = scenario_load("examples/drawer.scn", &cause)) == NULL) {
		print_error("%s\n", cause);
		free(cause);
		fail();
	}
	n = 0;
	TAILQ_FOREACH(p, &scn->ports, entry)
		n++;
	assert_int_equal(n, 3);
	n = bad = 0;
	TAILQ_FOREACH(c, &scn->cables, entry) {
		n++;
		bad += c->fault.drop_per_mb != 0 ||
		    c->fault.retry_rate != 0;
	}
	assert_int_equal(n, 6);
	assert_int_equal(bad, 2);
	assert_non_null(TAILQ_FIRST(&scn->devices));
	assert_null(TAILQ_NEXT(TAILQ_FIRST(&scn->devices), entry));
	n = 0;
	TAILQ_FOREACH(ev, &scn->events, entry)
		n += ev->action == SCN_PLUG;
	assert_int_equal(n, 8);
	scenario_free(scn);

	if ((scn = scenario_load("examples/farm.scn", &cause)) == NULL) {
		print_error("%s\n", cause);
		free(cause);
		fail();
	}
	n = bad = 0;
	TAILQ_FOREACH(p, &scn->ports, entry) {
		n++;
		assert_int_equal(p->hub_depth,
		    strcmp(p->path, "1-3") == 0 ? 0 : 1);
		bad += p->fault.link_error_per_min != 0;
	}
	assert_int_equal(n, 8);
	assert_int_equal(bad, 1);
	n = 0;
	TAILQ_FOREACH(ev, &scn->events, entry) {
		if (ev->action == SCN_PLUG) {
			assert_true(ev->at_us == 0);
			n++;
		}
	}
	assert_int_equal(n, 8);
	scenario_free(scn);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_device),
		cmocka_unit_test(test_hostile_names),
		cmocka_unit_test(test_port),
		cmocka_unit_test(test_cable),
		cmocka_unit_test(test_seed),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_event_order),
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_fault_parse),
		cmocka_unit_test(test_fault_combine),
		cmocka_unit_test(test_fault_format),
		cmocka_unit_test(test_examples),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
