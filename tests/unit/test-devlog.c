/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Unit tests for the device syslog reader (daemon/devlog.c): the
 * statistics line linkq-sim prints (sim/services.c), the three-line form
 * of a real restore log (idevicerestore issue 254) and the
 * duplicate-packet line of a real syslog (libimobiledevice issue 1399),
 * copied from those logs; lines that are almost ours; cutting a
 * NUL-terminated stream into lines in any chunks; and the events a run
 * makes of the samples.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "compat/compat.h"
#include "devlog.h"

#define HEAD		"Nov 25 15:40:01 linkq-sim-iPhone kernel[0] <Notice>: "
#define SIM_STATS	HEAD "AppleUSBDeviceMux::reportStats: USB2.0 reads " \
			    "1234, errors 1; writes 5678, errors 2; " \
			    "duplicate packets 3\n"
#define SIM_ORDINARY	"Nov 25 15:40:01 linkq-sim-iPhone " \
			    "SpringBoard(FrontBoard)[58] <Notice>: " \
			    "[FBSystemService] Received request to activate " \
			    "com.apple.Preferences\n"
/* idevicerestore issue 254, the trailing blank included. */
#define IOS_HEAD	"Jan  1 16:34:18 localhost kernel[0] <Notice>: " \
			    "AppleUSBDeviceMux::reportStats: USB mux " \
			    "statistics: "
#define IOS_RW		"Jan  1 16:34:18 localhost kernel[0] <Notice>: " \
			    "USB mux: 10 reads / 1 errors, 20 writes / 2 errors"
#define IOS_PACKETS	"Jan  1 16:34:18 localhost kernel[0] <Notice>: " \
			    "USB mux: 4 short packets, 5 dups"
/* libimobiledevice issue 1399. */
#define IOS_DUP		"Jan  5 23:41:46 iPhone kernel(AppleUSBDeviceMux)[0] " \
			    "<Notice>: detected duplicate packet. Expected " \
			    "14992 received 15361"

/* Parse a string. */
static enum devlog_kind
parse(const char *s, struct devlog_line *l)
{
	return (devlog_parse(s, strlen(s), l));
}

/* Feed a string with its NUL, as syslog_relay sends each message. */
static void
feed(struct devlog *d, const char *s, struct devlog_found *f)
{
	devlog_input(d, s, strlen(s) + 1, f);
}

static void
test_parse_sim(void **state)
{
	struct devlog_line	l;

	(void)state;
	assert_int_equal(parse(SIM_STATS, &l), DEVLOG_STATS);
	assert_int_equal(l.kind, DEVLOG_STATS);
	assert_int_equal(l.stats.usb, 2);
	assert_true(l.stats.reads == 1234);
	assert_true(l.stats.read_errors == 1);
	assert_true(l.stats.writes == 5678);
	assert_true(l.stats.write_errors == 2);
	assert_true(l.stats.duplicates == 3);
	assert_int_equal(l.stats.has_short, 0);

	assert_int_equal(parse(HEAD "AppleUSBDeviceMux::reportStats: USB3.0 "
	    "reads 0, errors 0; writes 0, errors 0; duplicate packets "
	    "18446744073709551615", &l), DEVLOG_STATS);
	assert_int_equal(l.stats.usb, 3);
	assert_true(l.stats.reads == 0);
	assert_true(l.stats.duplicates == UINT64_MAX);

	/* The day of the month padded with a blank; a CR LF end. */
	assert_int_equal(parse("Nov  5 09:00:00 Bench-iPhone-2 kernel[0] "
	    "<Notice>: AppleUSBDeviceMux::reportStats: USB2.0 reads 7, "
	    "errors 0; writes 8, errors 0; duplicate packets 0\r\n", &l),
	    DEVLOG_STATS);
	assert_true(l.stats.reads == 7 && l.stats.writes == 8);
}

static void
test_parse_ios(void **state)
{
	struct devlog_line	l;

	(void)state;
	assert_int_equal(parse(IOS_HEAD, &l), DEVLOG_STATS_HEAD);
	assert_int_equal(parse(IOS_RW, &l), DEVLOG_STATS_RW);
	assert_true(l.stats.reads == 10 && l.stats.read_errors == 1 &&
	    l.stats.writes == 20 && l.stats.write_errors == 2);
	assert_int_equal(l.stats.usb, 0);
	assert_int_equal(parse(IOS_PACKETS, &l), DEVLOG_STATS_PACKETS);
	assert_true(l.stats.short_packets == 4 && l.stats.duplicates == 5);
	assert_int_equal(l.stats.has_short, 1);

	assert_int_equal(parse(IOS_DUP, &l), DEVLOG_DUPLICATE);
	assert_int_equal(l.has_seq, 1);
	assert_true(l.expected == 14992 && l.received == 15361);
	/* Without the numbers it is still a duplicate packet. */
	assert_int_equal(parse("Jan  5 23:41:46 iPhone "
	    "kernel(AppleUSBDeviceMux)[0] <Notice>: detected duplicate "
	    "packet", &l), DEVLOG_DUPLICATE);
	assert_int_equal(l.has_seq, 0);
	assert_true(l.expected == 0 && l.received == 0);
	/* The driver named in the text instead of the process. */
	assert_int_equal(parse(HEAD "AppleUSBDeviceMux: detected duplicate "
	    "packet. Expected 1 received 3", &l), DEVLOG_DUPLICATE);
	assert_true(l.expected == 1 && l.received == 3);
}

static void
test_parse_not_ours(void **state)
{
	struct devlog_line	l;
	char			long_line[DEVLOG_LINE_MAX + 16];
	size_t			n;

	(void)state;
	assert_int_equal(parse(SIM_ORDINARY, &l), DEVLOG_NONE);
	assert_int_equal(parse("", &l), DEVLOG_NONE);
	assert_int_equal(parse("\n", &l), DEVLOG_NONE);
	/* No syslog head. */
	assert_int_equal(parse("AppleUSBDeviceMux::reportStats: USB2.0 reads "
	    "1, errors 0; writes 1, errors 0; duplicate packets 0", &l),
	    DEVLOG_NONE);
	/* Not the kernel. */
	assert_int_equal(parse("Nov 25 15:40:01 iPhone SpringBoard[58] "
	    "<Notice>: AppleUSBDeviceMux::reportStats: USB2.0 reads 1, "
	    "errors 0; writes 1, errors 0; duplicate packets 0", &l),
	    DEVLOG_NONE);
	assert_int_equal(parse("Nov 25 15:40:01 iPhone kernelx[0] "
	    "<Notice>: AppleUSBDeviceMux::reportStats: USB2.0 reads 1, "
	    "errors 0; writes 1, errors 0; duplicate packets 0", &l),
	    DEVLOG_NONE);
	assert_int_equal(parse("Jan  5 23:41:46 iPhone powerd[51] <Notice>: "
	    "AppleUSBDeviceMux detected duplicate packet. Expected 1 "
	    "received 2", &l), DEVLOG_NONE);
	/* A duplicate packet of some other driver. */
	assert_int_equal(parse("Jan  5 23:41:46 iPhone kernel(AppleBCMWLAN)"
	    "[0] <Notice>: detected duplicate packet. Expected 1 received "
	    "2", &l), DEVLOG_NONE);
	/* Almost the statistics. */
	assert_int_equal(parse(HEAD "AppleUSBDeviceMux::reportStats: USB1.1 "
	    "reads 1, errors 0; writes 1, errors 0; duplicate packets 0",
	    &l), DEVLOG_NONE);
	assert_int_equal(parse(HEAD "AppleUSBDeviceMux::reportStats: USB2.0 "
	    "reads 1, errors 0; writes 1, errors 0", &l), DEVLOG_NONE);
	assert_int_equal(parse(HEAD "AppleUSBDeviceMux::reportStats: USB2.0 "
	    "reads 1, errors 0; writes 1, errors 0; duplicate packets 0 "
	    "more", &l), DEVLOG_NONE);
	assert_int_equal(parse(HEAD "AppleUSBDeviceMux::reportStats: USB2.0 "
	    "reads -1, errors 0; writes 1, errors 0; duplicate packets 0",
	    &l), DEVLOG_NONE);
	assert_int_equal(parse(HEAD "AppleUSBDeviceMux::reportStats: USB2.0 "
	    "reads 18446744073709551616, errors 0; writes 1, errors 0; "
	    "duplicate packets 0", &l), DEVLOG_NONE);
	assert_true(l.stats.reads == 0);
	assert_int_equal(parse(HEAD "USB mux: 1 reads / 0 errors", &l),
	    DEVLOG_NONE);
	assert_int_equal(parse(HEAD "USB mux: 1 short packets", &l),
	    DEVLOG_NONE);
	assert_int_equal(parse(HEAD "USB mux statistics: 1 reads", &l),
	    DEVLOG_NONE);
	/* Too long to be ours, even if it ends like a statistics line. */
	n = sizeof(long_line) - 1;
	memset(long_line, 'x', n);
	long_line[n] = '\0';
	assert_int_equal(devlog_parse(long_line, n, &l), DEVLOG_NONE);
}

static void
test_stream(void **state)
{
	struct devlog		d;
	struct devlog_found	f, g;
	char			all[4096];
	size_t			len, i;

	(void)state;
	devlog_reset(&d);
	memset(&f, 0, sizeof(f));
	feed(&d, SIM_ORDINARY, &f);
	feed(&d, SIM_STATS, &f);
	feed(&d, IOS_DUP, &f);
	feed(&d, IOS_DUP, &f);
	assert_int_equal(f.nstats, 1);
	assert_true(f.stats.reads == 1234 && f.stats.duplicates == 3);
	assert_int_equal(f.ndups, 2);
	assert_true(f.dup.expected == 14992);
	assert_true(f.bytes == strlen(SIM_ORDINARY) + strlen(SIM_STATS) +
	    2 * strlen(IOS_DUP) + 4);

	/* The same bytes one at a time, and in chunks of 7. */
	len = 0;
	memcpy(all + len, SIM_ORDINARY, strlen(SIM_ORDINARY) + 1);
	len += strlen(SIM_ORDINARY) + 1;
	memcpy(all + len, SIM_STATS, strlen(SIM_STATS) + 1);
	len += strlen(SIM_STATS) + 1;
	devlog_reset(&d);
	memset(&g, 0, sizeof(g));
	for (i = 0; i < len; i++)
		devlog_input(&d, all + i, 1, &g);
	assert_int_equal(g.nstats, 1);
	assert_memory_equal(&g.stats, &f.stats, sizeof(g.stats));
	devlog_reset(&d);
	memset(&g, 0, sizeof(g));
	for (i = 0; i < len; i += 7)
		devlog_input(&d, all + i, len - i < 7 ? len - i : 7, &g);
	assert_int_equal(g.nstats, 1);
	assert_true(g.bytes == len);

	/* Newlines alone end lines too; a line cut short waits. */
	devlog_reset(&d);
	memset(&g, 0, sizeof(g));
	devlog_input(&d, SIM_STATS, strlen(SIM_STATS) - 10, &g);
	assert_int_equal(g.nstats, 0);
	devlog_input(&d, SIM_STATS + strlen(SIM_STATS) - 10, 10, &g);
	assert_int_equal(g.nstats, 1);

	/* A reset drops the partial line. */
	devlog_reset(&d);
	memset(&g, 0, sizeof(g));
	len = strlen(HEAD) + 10;
	devlog_input(&d, SIM_STATS, len, &g);
	devlog_reset(&d);
	devlog_input(&d, SIM_STATS + len, strlen(SIM_STATS) - len, &g);
	assert_int_equal(g.nstats, 0);
}

static void
test_stream_long(void **state)
{
	struct devlog		d;
	struct devlog_found	f;
	char			junk[3 * DEVLOG_LINE_MAX];

	(void)state;
	devlog_reset(&d);
	memset(&f, 0, sizeof(f));
	/* An overlong line is dropped whole, even its statistics tail. */
	memset(junk, 'x', sizeof(junk));
	devlog_input(&d, junk, sizeof(junk), &f);
	devlog_input(&d, SIM_STATS, strlen(SIM_STATS), &f);
	assert_int_equal(f.nstats, 0);
	/* The next line is read. */
	feed(&d, SIM_STATS, &f);
	assert_int_equal(f.nstats, 1);
}

static void
test_stream_ios(void **state)
{
	struct devlog		d;
	struct devlog_found	f;

	(void)state;
	devlog_reset(&d);
	memset(&f, 0, sizeof(f));
	/* Parts without their head are not a sample. */
	feed(&d, IOS_RW, &f);
	feed(&d, IOS_PACKETS, &f);
	assert_int_equal(f.nstats, 0);
	/* Other lines in between are fine. */
	feed(&d, IOS_HEAD, &f);
	feed(&d, SIM_ORDINARY, &f);
	feed(&d, IOS_RW, &f);
	feed(&d, SIM_ORDINARY, &f);
	feed(&d, IOS_PACKETS, &f);
	assert_int_equal(f.nstats, 1);
	assert_int_equal(f.stats.usb, 0);
	assert_int_equal(f.stats.has_short, 1);
	assert_true(f.stats.reads == 10 && f.stats.read_errors == 1 &&
	    f.stats.writes == 20 && f.stats.write_errors == 2 &&
	    f.stats.short_packets == 4 && f.stats.duplicates == 5);
	/* The packets line without the reads line. */
	feed(&d, IOS_HEAD, &f);
	feed(&d, IOS_PACKETS, &f);
	assert_int_equal(f.nstats, 1);
	/* A new head starts over. */
	feed(&d, IOS_HEAD, &f);
	feed(&d, IOS_RW, &f);
	feed(&d, IOS_HEAD, &f);
	feed(&d, IOS_PACKETS, &f);
	assert_int_equal(f.nstats, 1);
}

/* One sample as a drain would find it. */
static void
sample(struct devlog_found *f, int usb, uint64_t r, uint64_t re,
    uint64_t w, uint64_t we, uint64_t dup)
{
	memset(f, 0, sizeof(*f));
	f->nstats = 1;
	f->stats.usb = usb;
	f->stats.reads = r;
	f->stats.read_errors = re;
	f->stats.writes = w;
	f->stats.write_errors = we;
	f->stats.duplicates = dup;
}

static void
test_track(void **state)
{
	struct devlog_track	t;
	struct devlog_found	f;
	struct devlog_event	ev[DEVLOG_EVENTS_MAX];

	(void)state;
	memset(&t, 0, sizeof(t));
	/* Nothing found, nothing at the end. */
	memset(&f, 0, sizeof(f));
	assert_int_equal(devlog_track(&t, &f, ev), 0);
	assert_int_equal(devlog_track_end(&t, ev), 0);

	sample(&f, 2, 20, 0, 22, 0, 0);
	assert_int_equal(devlog_track(&t, &f, ev), 1);
	assert_string_equal(ev[0].kind, DEVLOG_KIND_STATS);
	assert_string_equal(ev[0].detail, "first sample: USB2.0 reads 20, "
	    "read errors 0, writes 22, write errors 0, duplicate packets 0");
	/* One sample is no run summary. */
	assert_int_equal(devlog_track_end(&t, ev), 0);

	/* Traffic alone makes no event. */
	sample(&f, 2, 120, 0, 130, 0, 0);
	assert_int_equal(devlog_track(&t, &f, ev), 0);
	/* An error does. */
	sample(&f, 2, 220, 1, 230, 0, 0);
	assert_int_equal(devlog_track(&t, &f, ev), 1);
	assert_string_equal(ev[0].kind, DEVLOG_KIND_ERRORS);
	assert_string_equal(ev[0].detail, "errors grew: USB2.0 reads 220 "
	    "(+200), read errors 1 (+1), writes 230 (+208), write errors 0 "
	    "(+0), duplicate packets 0 (+0)");
	/* The same error again is not news. */
	sample(&f, 2, 320, 1, 330, 0, 0);
	assert_int_equal(devlog_track(&t, &f, ev), 0);
	sample(&f, 3, 420, 1, 430, 2, 1);
	assert_int_equal(devlog_track(&t, &f, ev), 1);
	assert_string_equal(ev[0].detail, "errors grew: USB3.0 reads 420 "
	    "(+400), read errors 1 (+1), writes 430 (+408), write errors 2 "
	    "(+2), duplicate packets 1 (+1)");

	assert_int_equal(devlog_track_end(&t, ev), 1);
	assert_string_equal(ev[0].kind, DEVLOG_KIND_STATS);
	assert_string_equal(ev[0].detail, "over the run, 5 samples: USB3.0 "
	    "reads 420 (+400), read errors 1 (+1), writes 430 (+408), write "
	    "errors 2 (+2), duplicate packets 1 (+1)");
}

static void
test_track_restart(void **state)
{
	struct devlog_track	t;
	struct devlog_found	f;
	struct devlog_event	ev[DEVLOG_EVENTS_MAX];

	(void)state;
	memset(&t, 0, sizeof(t));
	sample(&f, 2, 500, 3, 600, 0, 0);
	assert_int_equal(devlog_track(&t, &f, ev), 1);
	/* Counters that go back start over: no negative growth. */
	sample(&f, 2, 10, 0, 12, 0, 0);
	assert_int_equal(devlog_track(&t, &f, ev), 1);
	assert_string_equal(ev[0].kind, DEVLOG_KIND_STATS);
	assert_string_equal(ev[0].detail, "the counters went back (the "
	    "device restarted them); new first sample: USB2.0 reads 10, "
	    "read errors 0, writes 12, write errors 0, duplicate packets 0");
	sample(&f, 2, 40, 1, 52, 0, 0);
	assert_int_equal(devlog_track(&t, &f, ev), 1);
	assert_string_equal(ev[0].detail, "errors grew: USB2.0 reads 40 "
	    "(+30), read errors 1 (+1), writes 52 (+40), write errors 0 "
	    "(+0), duplicate packets 0 (+0)");
	assert_int_equal(devlog_track_end(&t, ev), 1);
	assert_string_equal(ev[0].detail, "since the counters went back, 2 "
	    "samples: USB2.0 reads 40 (+30), read errors 1 (+1), writes 52 "
	    "(+40), write errors 0 (+0), duplicate packets 0 (+0)");
}

static void
test_track_ios(void **state)
{
	struct devlog		d;
	struct devlog_track	t;
	struct devlog_found	f;
	struct devlog_event	ev[DEVLOG_EVENTS_MAX];

	(void)state;
	memset(&t, 0, sizeof(t));
	devlog_reset(&d);
	memset(&f, 0, sizeof(f));
	feed(&d, IOS_HEAD, &f);
	feed(&d, IOS_RW, &f);
	feed(&d, IOS_PACKETS, &f);
	feed(&d, IOS_DUP, &f);
	assert_int_equal(devlog_track(&t, &f, ev), 2);
	assert_string_equal(ev[0].kind, DEVLOG_KIND_STATS);
	assert_string_equal(ev[0].detail, "first sample: reads 10, read "
	    "errors 1, writes 20, write errors 2, duplicate packets 5, short "
	    "packets 4");
	assert_string_equal(ev[1].kind, DEVLOG_KIND_ERRORS);
	assert_string_equal(ev[1].detail, "the device detected a duplicate "
	    "packet: expected 14992, received 15361");

	/* Several duplicate lines in one read: the first, counted. */
	memset(&f, 0, sizeof(f));
	feed(&d, IOS_DUP, &f);
	feed(&d, HEAD "AppleUSBDeviceMux: detected duplicate packet", &f);
	feed(&d, HEAD "AppleUSBDeviceMux: detected duplicate packet", &f);
	assert_int_equal(devlog_track(&t, &f, ev), 1);
	assert_string_equal(ev[0].detail, "the device detected a duplicate "
	    "packet: expected 14992, received 15361 (3 such lines)");
	memset(&f, 0, sizeof(f));
	feed(&d, HEAD "AppleUSBDeviceMux: detected duplicate packet", &f);
	assert_int_equal(devlog_track(&t, &f, ev), 1);
	assert_string_equal(ev[0].detail, "the device detected a duplicate "
	    "packet");
	assert_true(t.dups == 5);

	/* Growth of short packets shows; it is not an error. */
	memset(&f, 0, sizeof(f));
	feed(&d, IOS_HEAD, &f);
	feed(&d, IOS_RW, &f);
	feed(&d, HEAD "USB mux: 9 short packets, 5 dups", &f);
	assert_int_equal(devlog_track(&t, &f, ev), 0);
	assert_int_equal(devlog_track_end(&t, ev), 1);
	assert_string_equal(ev[0].detail, "over the run, 2 samples: reads 10 "
	    "(+0), read errors 1 (+0), writes 20 (+0), write errors 2 (+0), "
	    "duplicate packets 5 (+0), short packets 9 (+5)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_sim),
		cmocka_unit_test(test_parse_ios),
		cmocka_unit_test(test_parse_not_ours),
		cmocka_unit_test(test_stream),
		cmocka_unit_test(test_stream_long),
		cmocka_unit_test(test_stream_ios),
		cmocka_unit_test(test_track),
		cmocka_unit_test(test_track_restart),
		cmocka_unit_test(test_track_ios),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
