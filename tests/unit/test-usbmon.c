/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Unit tests for usbmon (daemon/usbmon*.c): text lines of every event
 * type and transfer type as mon_text.c prints them (setup words, data
 * words, interrupt and isochronous status words), malformed lines,
 * binary headers laid out as struct mon_bin_hdr, every status class,
 * the tracker's bursts and its unplug rule on an explicit clock, and
 * the reader following a file as linkq-sim writes it, on a real loop.
 */

#include <sys/stat.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <jansson.h>

#include "compat/compat.h"
#include "log.h"
#include "lq-time.h"
#include "usbmon.h"

/* Parse a string as a line. */
static int
parse(const char *s, struct usbmon_event *ev)
{
	return (usbmon_parse(s, strlen(s), ev));
}

static void
test_parse_complete(void **state)
{
	struct usbmon_event	ev;

	(void)state;
	/* linkq-sim's line (sim/kernel.c). */
	assert_int_equal(parse("ffff888004a3c040 123456 C Bi:1:005:1 -71 0\n",
	    &ev), 0);
	assert_true(ev.tag == UINT64_C(0xffff888004a3c040));
	assert_true(ev.stamp == 123456);
	assert_int_equal(ev.type, 'C');
	assert_int_equal(ev.xfer, USBMON_BULK);
	assert_int_equal(ev.in, 1);
	assert_int_equal(ev.bus, 1);
	assert_int_equal(ev.devnum, 5);
	assert_int_equal(ev.ep, 1);
	assert_int_equal(ev.has_status, 1);
	assert_int_equal(ev.status, -71);
	assert_int_equal(ev.has_setup, 0);
	assert_true(ev.length == 0);

	/* An OUT completion: '>' as the data tag; no newline. */
	assert_int_equal(parse("d5ea89a0 3575914555 C Bo:3:005:2 0 31 >",
	    &ev), 0);
	assert_int_equal(ev.in, 0);
	assert_int_equal(ev.bus, 3);
	assert_int_equal(ev.ep, 2);
	assert_int_equal(ev.status, 0);
	assert_true(ev.length == 31);

	/* An IN completion with data words; bus numbers above 9. */
	assert_int_equal(parse("ffff8880 1 C Ci:12:007:0 0 18 = 12010002 "
	    "00000040 ac051a13 00100102 0301\n", &ev), 0);
	assert_int_equal(ev.xfer, USBMON_CONTROL);
	assert_int_equal(ev.bus, 12);
	assert_int_equal(ev.devnum, 7);
	assert_true(ev.length == 18);
	/* A stall; tabs; a data tag another kernel might add. */
	assert_int_equal(parse("a\t1\tC\tCi:1:007:0\t-32\t0\tL\n", &ev), 0);
	assert_int_equal(ev.status, -32);
}

static void
test_parse_submit_error(void **state)
{
	struct usbmon_event	ev;

	(void)state;
	/* A bulk submit: -115, the length asked for, '<' for IN. */
	assert_int_equal(parse("dd65f0e8 4128379752 S Bi:1:005:1 -115 16384 "
	    "<\n", &ev), 0);
	assert_int_equal(ev.type, 'S');
	assert_int_equal(ev.status, -115);
	assert_true(ev.length == 16384);
	assert_int_equal(usbmon_event_class(&ev), USBMON_OK);
	/* An OUT submit with data. */
	assert_int_equal(parse("dd65f0e8 1 S Bo:1:005:2 -115 31 = 55534243 "
	    "5e000000 00000000 00000600 00000000 00000000 00000000 000000\n",
	    &ev), 0);
	assert_true(ev.length == 31);
	/* A submission refused: E, then the error and 0. */
	assert_int_equal(parse("ffff9a 0 E Ci:3:005:0 -19 0\n", &ev), 0);
	assert_int_equal(ev.type, 'E');
	assert_int_equal(ev.status, -19);
	assert_int_equal(usbmon_event_class(&ev), USBMON_DISCONNECT);
}

static void
test_parse_setup(void **state)
{
	struct usbmon_event	ev;

	(void)state;
	/* GET_DESCRIPTOR(device), as usbmon.rst shows it. */
	assert_int_equal(parse("d5ea89a0 3575914555 S Ci:1:001:0 s a3 00 0000 "
	    "0003 0004 4 <\n", &ev), 0);
	assert_int_equal(ev.xfer, USBMON_CONTROL);
	assert_int_equal(ev.has_status, 0);
	assert_int_equal(ev.has_setup, 1);
	assert_int_equal(ev.setup.request_type, 0xa3);
	assert_int_equal(ev.setup.request, 0);
	assert_int_equal(ev.setup.value, 0);
	assert_int_equal(ev.setup.index, 3);
	assert_int_equal(ev.setup.length, 4);
	assert_true(ev.length == 4);
	assert_int_equal(parse("1 2 S Ci:1:007:0 s 80 06 0100 0000 0012 18 "
	    "<\n", &ev), 0);
	assert_int_equal(ev.setup.request_type, 0x80);
	assert_int_equal(ev.setup.request, 6);
	assert_int_equal(ev.setup.value, 0x100);
	assert_int_equal(ev.setup.length, 0x12);
	assert_int_equal(usbmon_event_class(&ev), USBMON_OK);
	/* SET_CONFIGURATION, OUT, no data stage. */
	assert_int_equal(parse("1 2 S Co:1:007:0 s 00 09 0001 0000 0000 0\n",
	    &ev), 0);
	assert_int_equal(ev.in, 0);
	assert_int_equal(ev.setup.request, 9);
	/* The setup packet could not be captured. */
	assert_int_equal(parse("1 2 S Ci:1:007:0 Z __ __ ____ ____ ____ 8 "
	    "<\n", &ev), 0);
	assert_int_equal(ev.has_status, 0);
	assert_int_equal(ev.has_setup, 0);
	assert_true(ev.length == 8);
}

static void
test_parse_intr_iso(void **state)
{
	struct usbmon_event	ev;

	(void)state;
	/* Interrupt: "status:interval". */
	assert_int_equal(parse("f7c1 1 C Ii:2:003:1 0:8 4 = 00010000\n", &ev),
	    0);
	assert_int_equal(ev.xfer, USBMON_INTR);
	assert_int_equal(ev.status, 0);
	assert_true(ev.length == 4);
	assert_int_equal(parse("f7c1 1 C Ii:2:003:1 -84:8 0\n", &ev), 0);
	assert_int_equal(ev.status, -84);
	/* Isochronous: status:interval:frame:errors, count, descriptors. */
	assert_int_equal(parse("f7c1 1 C Zi:1:004:3 0:1:1234:0 2 0:0:192 "
	    "-18:192:0 384 = 01020304\n", &ev), 0);
	assert_int_equal(ev.xfer, USBMON_ISO);
	assert_int_equal(ev.status, 0);
	assert_true(ev.length == 384);
	assert_int_equal(parse("f7c1 1 S Zo:1:004:3 -115:1:1234 1 0:0:192 "
	    "192 =\n", &ev), 0);
	assert_true(ev.length == 192);
	/* An isochronous E line has no descriptors. */
	assert_int_equal(parse("f7c1 1 E Zo:1:004:3 -18 0\n", &ev), 0);
	assert_int_equal(ev.status, -18);
}

static void
test_parse_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"\n",
		"hello\n",
		"ffff 1 C Bi:1:005:1 -71\n",		/* no length */
		"ffff 1 C Bi:1:005:1\n",		/* no status */
		"ffff 1 X Bi:1:005:1 0 0\n",		/* event type */
		"ffff 1 CC Bi:1:005:1 0 0\n",
		"ffff 1 C Xi:1:005:1 0 0\n",		/* transfer type */
		"ffff 1 C Bx:1:005:1 0 0\n",		/* direction */
		"ffff 1 C Bi:005:01 0 0\n",		/* 't' format */
		"ffff 1 C Bi:1:005:1:2 0 0\n",
		"ffff 1 C Bi:0:005:1 0 0\n",		/* bus 0 */
		"ffff 1 C Bi:1:005:16 0 0\n",		/* endpoint 16 */
		"ffff 1 C Bi:1:256:1 0 0\n",		/* devnum 256 */
		"ffff 1 C Bi:1::1 0 0\n",
		"ffff 1 C Bi:1:005: 0 0\n",
		"ffff 1 C Bi 0 0\n",
		"zzzz 1 C Bi:1:005:1 0 0\n",		/* tag */
		"11112222333344445 1 C Bi:1:005:1 0 0\n",	/* 17 digits */
		"ffff x C Bi:1:005:1 0 0\n",		/* timestamp */
		"ffff 4294967296 C Bi:1:005:1 0 0\n",	/* above 32 bits */
		"ffff 1 C Bi:1:005:1 -7x1 0\n",
		"ffff 1 C Bi:1:005:1 - 0\n",
		"ffff 1 C Bi:1:005:1 99999999999 0\n",	/* int overflow */
		"ffff 1 C Bi:1:005:1 0: 0\n",
		"ffff 1 C Bi:1:005:1 0:1:2:3:4 0\n",
		"ffff 1 C Bi:1:005:1 0 -5\n",		/* negative length */
		"ffff 1 C Bi:1:005:1 0 x\n",
		"ffff 1 S Bi:1:005:1 s 80 06 0100 0000 0012 18\n", /* bulk */
		"ffff 1 C Ci:1:005:0 s 80 06 0100 0000 0012 18\n", /* C */
		"ffff 1 S Ci:1:005:0 s 80 06 0100 0000\n",	/* short */
		"ffff 1 S Ci:1:005:0 s 80 6g 0100 0000 0012 18\n",
		"ffff 1 S Ci:1:005:0 s 800 06 0100 0000 0012 18\n",
		"ffff 1 S Ci:1:005:0 Z __ __ ____ __x_ ____ 8\n",
		"ffff 1 C Zi:1:004:3 0:1:1234:0 x 384\n",	/* ISO count */
		"ffff 1 C Zi:1:004:3 0:1:1234:0 1 0:0:192\n",
		"ffff 1 C Bi:1:005:1 -71 0\n\n",	/* two lines */
		"ffff 1 C Bi:1:005:1 -71 0\nffff 1 C Bi:1:005:1 0 0\n",
	};
	struct usbmon_event	ev;
	char			nul[] = "ffff 1 C Bi:1:0\0005:1 -71 0\n";
	size_t			i;

	(void)state;
	for (i = 0; i < nitems(bad); i++) {
		if (parse(bad[i], &ev) != -1)
			fail_msg("accepted: \"%s\"", bad[i]);
	}
	assert_int_equal(usbmon_parse(nul, sizeof(nul) - 1, &ev), -1);
	/* Cut short anywhere, a line is refused or still whole. */
	for (i = 0; i < strlen(bad[nitems(bad) - 1]); i++)
		(void)usbmon_parse(bad[nitems(bad) - 1], i, &ev);
}

static void
test_classify(void **state)
{
	static const struct {
		int			status;
		enum usbmon_class	class;
	} t[] = {
		{ 0, USBMON_OK }, { -115, USBMON_OK },
		{ -71, USBMON_LINK_ERROR }, { -84, USBMON_LINK_ERROR },
		{ -62, USBMON_LINK_ERROR }, { -75, USBMON_LINK_ERROR },
		{ -2, USBMON_CANCEL }, { -104, USBMON_CANCEL },
		{ -108, USBMON_DISCONNECT }, { -19, USBMON_DISCONNECT },
		{ -32, USBMON_OTHER_ERROR }, { -110, USBMON_OTHER_ERROR },
		{ -70, USBMON_OTHER_ERROR }, { -63, USBMON_OTHER_ERROR },
		{ -121, USBMON_OTHER_ERROR }, { -18, USBMON_OTHER_ERROR },
		{ 5, USBMON_OTHER_ERROR },
	};
	struct usbmon_event	ev;
	size_t			i;

	(void)state;
	for (i = 0; i < nitems(t); i++) {
		if (usbmon_classify(t[i].status) != t[i].class)
			fail_msg("%d: class %d, not %d", t[i].status,
			    usbmon_classify(t[i].status), t[i].class);
	}
	/* A completion's link error is one; a refused submit's is not. */
	assert_int_equal(parse("1 1 C Bi:1:005:1 -84 0\n", &ev), 0);
	assert_int_equal(usbmon_event_class(&ev), USBMON_LINK_ERROR);
	assert_true(usbmon_wanted(&ev));
	assert_int_equal(parse("1 1 E Bi:1:005:1 -71 0\n", &ev), 0);
	assert_int_equal(usbmon_event_class(&ev), USBMON_OTHER_ERROR);
	assert_int_equal(parse("1 1 C Bi:1:005:1 -2 0\n", &ev), 0);
	assert_int_equal(usbmon_event_class(&ev), USBMON_CANCEL);
	assert_true(usbmon_wanted(&ev));
	assert_int_equal(parse("1 1 C Bi:1:005:1 0 512 = 00\n", &ev), 0);
	assert_false(usbmon_wanted(&ev));
	/* A submit has no outcome, whatever its status word says. */
	assert_int_equal(parse("1 1 S Bi:1:005:1 -71 0\n", &ev), 0);
	assert_false(usbmon_wanted(&ev));
}

/* A struct mon_bin_hdr, laid out field by field. */
static void
bin_hdr(unsigned char *b, char type, int xfer, int epnum, int devnum,
    int bus, int status, uint32_t len)
{
	uint64_t	id = UINT64_C(0xffff888012345678);
	uint16_t	bus16 = (uint16_t)bus;
	int64_t		sec = 4097;
	int32_t		usec = 250, st = status;

	memset(b, 0, USBMON_BIN_HDR);
	memcpy(b, &id, sizeof(id));
	b[8] = (unsigned char)type;
	b[9] = (unsigned char)xfer;
	b[10] = (unsigned char)epnum;
	b[11] = (unsigned char)devnum;
	memcpy(b + 12, &bus16, sizeof(bus16));
	b[14] = '-';
	memcpy(b + 16, &sec, sizeof(sec));
	memcpy(b + 24, &usec, sizeof(usec));
	memcpy(b + 28, &st, sizeof(st));
	memcpy(b + 32, &len, sizeof(len));
}

static void
test_parse_binary(void **state)
{
	struct usbmon_event	ev, back;
	unsigned char		b[USBMON_BIN_HDR];
	char			line[USBMON_LINE_MAX];

	(void)state;
	bin_hdr(b, 'C', USBMON_BULK, 0x81, 5, 1, -71, 0);
	assert_int_equal(usbmon_parse_bin(b, USBMON_BIN_HDR, &ev), 0);
	assert_true(ev.tag == UINT64_C(0xffff888012345678));
	assert_int_equal(ev.type, 'C');
	assert_int_equal(ev.xfer, USBMON_BULK);
	assert_int_equal(ev.in, 1);
	assert_int_equal(ev.ep, 1);
	assert_int_equal(ev.devnum, 5);
	assert_int_equal(ev.bus, 1);
	assert_int_equal(ev.status, -71);
	assert_true(ev.stamp == 1000250);	/* 4097 s wraps to 1 s */
	assert_int_equal(usbmon_event_class(&ev), USBMON_LINK_ERROR);
	/* The 48 bytes of read(2) do as well. */
	assert_int_equal(usbmon_parse_bin(b, USBMON_BIN_HDR_MIN, &ev), 0);
	assert_int_equal(usbmon_parse_bin(b, USBMON_BIN_HDR_MIN - 1, &ev),
	    -1);
	/* What the thread writes to the loop reads back the same. */
	assert_int_equal(usbmon_parse_bin(b, USBMON_BIN_HDR, &ev), 0);
	assert_true(usbmon_format(&ev, line, sizeof(line)) > 0);
	assert_string_equal(line, "ffff888012345678 1000250 C Bi:1:005:1 -71 "
	    "0\n");
	assert_int_equal(parse(line, &back), 0);
	assert_int_equal(back.status, -71);
	assert_int_equal(back.bus, 1);
	assert_int_equal(back.devnum, 5);
	assert_int_equal(back.in, 1);

	/* A control submit with its setup captured (flag_setup 0). */
	bin_hdr(b, 'S', USBMON_CONTROL, 0x80, 7, 2, -115, 18);
	b[14] = 0;
	memcpy(b + 40, "\x80\x06\x00\x01\x00\x00\x12\x00", 8);
	assert_int_equal(usbmon_parse_bin(b, USBMON_BIN_HDR, &ev), 0);
	assert_int_equal(ev.has_setup, 1);
	assert_int_equal(ev.setup.request_type, 0x80);
	assert_int_equal(ev.setup.request, 6);
	assert_int_equal(ev.setup.value, 0x100);
	assert_int_equal(ev.setup.length, 18);
	assert_true(ev.length == 18);
	/* An isochronous OUT completion formats with its count. */
	bin_hdr(b, 'C', USBMON_ISO, 0x03, 4, 1, 0, 192);
	assert_int_equal(usbmon_parse_bin(b, USBMON_BIN_HDR, &ev), 0);
	assert_true(usbmon_format(&ev, line, sizeof(line)) > 0);
	assert_int_equal(parse(line, &back), 0);
	assert_int_equal(back.xfer, USBMON_ISO);
	assert_true(back.length == 192);

	/* Malformed: type, transfer type, bus 0, microseconds. */
	bin_hdr(b, '@', USBMON_BULK, 0x81, 5, 1, 0, 0);
	assert_int_equal(usbmon_parse_bin(b, USBMON_BIN_HDR, &ev), -1);
	bin_hdr(b, 'C', 4, 0x81, 5, 1, 0, 0);
	assert_int_equal(usbmon_parse_bin(b, USBMON_BIN_HDR, &ev), -1);
	bin_hdr(b, 'C', USBMON_BULK, 0x81, 5, 0, 0, 0);
	assert_int_equal(usbmon_parse_bin(b, USBMON_BIN_HDR, &ev), -1);
	bin_hdr(b, 'C', USBMON_BULK, 0x81, 5, 1, 0, 0);
	memcpy(b + 24, "\x40\x42\x0f\x00", 4);		/* 1000000 */
	assert_int_equal(usbmon_parse_bin(b, USBMON_BIN_HDR, &ev), -1);
}

static void
test_line_end(void **state)
{
	static const char	two[] = "1 1 C Bi:1:005:1 -71 0\n1 2 C";
	size_t			n;

	(void)state;
	n = usbmon_line_end(two, strlen(two));
	assert_int_equal(n, strlen("1 1 C Bi:1:005:1 -71 0\n"));
	assert_int_equal(usbmon_line_end(two + n, strlen(two) - n), 0);
	assert_int_equal(usbmon_line_end("", 0), 0);
}

/* Add the line s to t at now (ms). */
static unsigned int
add(struct usbmon_tracker *t, const char *s, int64_t ms)
{
	struct usbmon_event	ev;
	lq_mono_t		now = { ms * 1000 };

	if (parse(s, &ev) == -1)
		fail_msg("malformed: %s", s);
	return (usbmon_tracker_add(t, &ev, now, 1000000 + ms * 1000));
}

/* The burst due at ms, or NULL. */
static struct usbmon_burst *
due(struct usbmon_tracker *t, int64_t ms)
{
	lq_mono_t	now = { ms * 1000 };

	return (usbmon_tracker_due(t, now));
}

static void
test_burst(void **state)
{
	struct usbmon_tracker	 t;
	struct usbmon_burst	*b;
	struct usbmon_counts	 c;
	lq_mono_t		 now;
	int64_t			 left;
	char			 detail[256];

	(void)state;
	usbmon_tracker_init(&t);
	now.us = 0;
	assert_int_equal(usbmon_tracker_wait(&t, now, &left), -1);
	/* Successes and submits hold nothing. */
	assert_int_equal(add(&t, "1 0 S Bi:1:005:1 -115 16384 <", 0), 0);
	assert_int_equal(add(&t, "1 0 C Bi:1:005:1 0 16384 = 00", 0), 0);
	assert_int_equal(usbmon_tracker_wait(&t, now, &left), -1);

	/* Three link errors within a second: one burst. */
	assert_int_equal(add(&t, "1 0 C Bi:1:005:1 -71 0", 100), 0);
	assert_int_equal(add(&t, "1 0 C Bo:1:005:2 -84 0", 300), 0);
	assert_int_equal(add(&t, "1 0 C Bi:1:005:1 -71 0", 500), 0);
	/* Another device's error is its own burst. */
	assert_int_equal(add(&t, "1 0 C Bi:2:005:1 -62 0", 600), 0);
	now.us = 700 * 1000;
	assert_int_equal(usbmon_tracker_wait(&t, now, &left), 0);
	assert_true(left == 800 * 1000);	/* 500 + 1000 - 700 ms */
	assert_null(due(&t, 1499));
	assert_non_null(b = due(&t, 1500));
	assert_int_equal(b->bus, 1);
	assert_int_equal(b->devnum, 5);
	assert_int_equal(b->count, 3);
	assert_int_equal(b->first_status, -71);
	assert_int_equal(b->by_status[0], 2);
	assert_int_equal(b->by_status[1], 1);
	assert_true(b->wall_us == 1100000);
	usbmon_burst_detail(b, detail, sizeof(detail));
	assert_string_equal(detail, "usbmon: bus 1 device 5: 3 transfers "
	    "failed with link errors within 400 ms (-71 EPROTO: 2, "
	    "-84 EILSEQ: 1)");
	free(b);
	assert_null(due(&t, 1500));
	assert_non_null(b = due(&t, 1600));
	assert_int_equal(b->bus, 2);
	usbmon_burst_detail(b, detail, sizeof(detail));
	assert_string_equal(detail, "usbmon: bus 2 device 5: a transfer "
	    "failed with a link error (-62 ETIME)");
	free(b);
	assert_null(due(&t, 99999));

	/* Errors a second or more after the first start a new burst. */
	assert_int_equal(add(&t, "1 0 C Bi:1:005:1 -75 0", 10000), 0);
	assert_int_equal(add(&t, "1 0 C Bi:1:005:1 -75 0", 10900), 0);
	assert_int_equal(add(&t, "1 0 C Bi:1:005:1 -75 0", 11000), 0);
	assert_non_null(b = due(&t, 12000));
	assert_int_equal(b->count, 2);
	free(b);
	assert_non_null(b = due(&t, 12000));
	assert_int_equal(b->count, 1);
	free(b);

	/* Every class is counted, per device. */
	assert_int_equal(add(&t, "1 0 C Bi:1:005:1 -2 0", 13000), 0);
	assert_int_equal(add(&t, "1 0 C Bi:1:005:1 -104 0", 13000), 0);
	assert_int_equal(add(&t, "1 0 C Ci:1:005:0 -32 0", 13000), 0);
	now.us = 13000 * 1000;
	usbmon_tracker_counts(&t, 1, 5, now, &c);
	assert_true(c.link_errors == 6);
	assert_true(c.cancels == 2);
	assert_true(c.disconnects == 0);
	assert_true(c.other_errors == 1);
	usbmon_tracker_counts(&t, 2, 5, now, &c);
	assert_true(c.link_errors == 1);
	usbmon_tracker_counts(&t, 1, 6, now, &c);
	assert_true(c.link_errors == 0 && c.cancels == 0);
	usbmon_tracker_clear(&t);
}

static void
test_unplug(void **state)
{
	struct usbmon_tracker	 t;
	struct usbmon_burst	*b;
	struct usbmon_counts	 c;
	lq_mono_t		 now;

	(void)state;
	usbmon_tracker_init(&t);
	/* linkq-sim's unplug: -71 twice, then -108: not counted. */
	assert_int_equal(add(&t, "1 0 C Bi:1:005:1 -71 0", 0), 0);
	assert_int_equal(add(&t, "1 0 C Bo:1:005:2 -71 0", 0), 0);
	assert_int_equal(add(&t, "1 0 C Bi:2:003:1 -71 0", 0), 0);
	assert_int_equal(add(&t, "1 0 C Bi:1:005:1 -108 0", 800), 2);
	/* Only that device's burst went. */
	assert_non_null(b = due(&t, 1000));
	assert_int_equal(b->bus, 2);
	free(b);
	assert_null(due(&t, 5000));
	/* Errors just after the disconnect are the unplug's too. */
	assert_int_equal(add(&t, "1 0 C Bi:1:005:1 -71 0", 1500), 0);
	assert_int_equal(add(&t, "1 0 E Bi:1:005:1 -19 0", 1600), 0);
	assert_null(due(&t, 9000));
	now.us = 2000 * 1000;
	usbmon_tracker_counts(&t, 1, 5, now, &c);
	assert_true(c.link_errors == 3);
	assert_true(c.disconnects == 2);
	/* Quiet long enough, a gone device's counts are forgotten. */
	now.us = (1600 + 10000) * 1000;
	usbmon_tracker_counts(&t, 1, 5, now, &c);
	assert_true(c.link_errors == 0 && c.disconnects == 0);
	assert_int_equal(add(&t, "1 0 C Bi:1:005:1 -2 0", 11600), 0);
	usbmon_tracker_counts(&t, 1, 5, now, &c);
	assert_true(c.link_errors == 0 && c.cancels == 1);

	/* The kernel's "USB disconnect" (a kmsg finding) does the same. */
	assert_int_equal(add(&t, "1 0 C Bi:1:007:1 -84 0", 20000), 0);
	now.us = 20900 * 1000;
	assert_int_equal(usbmon_tracker_gone(&t, 1, 7, now), 1);
	assert_null(due(&t, 30000));
	/* A disconnect later than the hold comes too late. */
	assert_int_equal(add(&t, "1 0 C Bi:1:009:1 -71 0", 40000), 0);
	assert_non_null(b = due(&t, 41000));
	free(b);
	assert_int_equal(add(&t, "1 0 C Bi:1:009:1 -108 0", 41100), 0);
	usbmon_tracker_clear(&t);
}

/* The bursts the reader hands on. */
static int	found_bus, found_devnum, found_status, found;
static char	found_detail[256];

static void
finding(int bus, int devnum, int status, int64_t when, const char *detail)
{
	(void)when;
	found_bus = bus;
	found_devnum = devnum;
	found_status = status;
	(void)strlcpy(found_detail, detail, sizeof(found_detail));
	found++;
}

/* Append s to the file at path. */
static void
append(const char *path, const char *s)
{
	FILE	*fp;

	assert_non_null(fp = fopen(path, "a"));
	assert_int_equal(fputs(s, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

/* A timer that only wakes the loop. */
static void
wake(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

/*
 * Run base, waking at least every 100 ms, until done(arg) holds or
 * seconds pass; return whether it holds.
 */
static int
loop_until(struct event_base *base, int (*done)(const void *),
    const void *arg, int seconds)
{
	struct event	*ev;
	struct timeval	 tv = { 0, 100 * 1000 };
	lq_mono_t	 until;
	int		 held;

	assert_non_null(ev = evtimer_new(base, wake, NULL));
	until = lq_mono_add(lq_mono_now(), seconds * LQ_USEC_PER_SEC);
	while (!(held = done(arg)) && !lq_mono_passed(until, lq_mono_now())) {
		assert_int_equal(evtimer_add(ev, &tv), 0);
		assert_int_not_equal(event_base_loop(base, EVLOOP_ONCE), -1);
	}
	event_free(ev);
	return (held);
}

/* Whether found has reached *n. */
static int
found_reached(const void *n)
{
	return (found >= *(const int *)n);
}

/* Run base until found reaches n or seconds pass. */
static void
run_until(struct event_base *base, int n, int seconds)
{
	(void)loop_until(base, found_reached, &n, seconds);
}

/* What usbmon_json() counts of bus/devnum as what ("link_errors"...). */
static json_int_t
counted(int bus, int devnum, const char *what)
{
	json_t		*o;
	json_int_t	 n;

	o = json_object();
	usbmon_json(o, bus, devnum);
	n = json_integer_value(json_object_get(json_object_get(o, "usbmon"),
	    what));
	json_decref(o);
	return (n);
}

/* Whether bus 1 device *devnum has a link error counted. */
static int
link_counted(const void *devnum)
{
	return (counted(1, *(const int *)devnum, "link_errors") > 0);
}

static void
test_reader_file(void **state)
{
	struct event_base	*base;
	char			 path[] = "/tmp/test-usbmon.XXXXXX";
	json_t			*o;
	int			 fd, devnum;

	(void)state;
	assert_non_null(base = event_base_new());
	assert_true((fd = mkstemp(path)) != -1);
	(void)close(fd);
	/* From the end: what was there before is not read. */
	append(path, "1 0 C Bi:1:005:1 -84 0\n");
	usbmon_start(base, path, finding);
	assert_true(strncmp(usbmon_status(), "reading ", 8) == 0);
	append(path, "1 0 C Bi:1:005:1 -71 0\n1 0 C Bo:1:005:2 -71 0\n"
	    "garbage\n1 0 C Bi:1:005:1 -2 0\n");
	run_until(base, 1, 10);
	assert_int_equal(found, 1);
	assert_int_equal(found_bus, 1);
	assert_int_equal(found_devnum, 5);
	assert_int_equal(found_status, -71);
	assert_string_equal(found_detail, "usbmon: bus 1 device 5: 2 "
	    "transfers failed with link errors within 0 ms (-71 EPROTO: 2)");
	assert_int_equal(counted(1, 5, "link_errors"), 2);
	assert_int_equal(counted(1, 5, "cancels"), 1);

	/* A burst and then the kernel's disconnect: nothing handed on. */
	append(path, "1 0 C Bi:1:006:1 -71 0\n");
	devnum = 6;
	if (!loop_until(base, link_counted, &devnum, 10))
		fail_msg("bus 1 device 6: nothing counted");
	usbmon_device_gone(1, 6);
	run_until(base, 2, 2);
	assert_int_equal(found, 1);
	usbmon_stop();
	(void)unlink(path);

	/* A path that cannot be read: said, and nothing to add. */
	usbmon_start(base, "/nonexistent/usbmon/0u", finding);
	assert_string_equal(usbmon_status(), "unreadable: "
	    "/nonexistent/usbmon/0u: No such file or directory");
	o = json_object();
	usbmon_json(o, 1, 5);
	assert_null(json_object_get(o, "usbmon"));
	json_decref(o);
	usbmon_device_gone(1, 5);
	usbmon_stop();
	event_base_free(base);
}

/* Whether usbmon_status() starts with prefix. */
static int
status_is(const void *prefix)
{
	return (strncmp(usbmon_status(), prefix, strlen(prefix)) == 0);
}

/*
 * A FIFO goes through the thread that reads the kernel's text file: a
 * blocking read(2), the lines it keeps through the pipe; stopped while
 * it blocks, or ending when the writer goes.
 */
static void
test_reader_thread(void **state)
{
	static const char	 lines[] =
	    "1 0 S Bi:1:005:1 -115 16384 <\n"
	    "1 0 C Bi:1:005:1 0 16384 = 00000000\n"
	    "1 0 C Bi:1:005:1 -75 0\n"
	    "not usbmon\n"
	    "1 0 C Bo:1:005:2 -104 0\n";
	struct event_base	*base;
	char			 dir[] = "/tmp/test-usbmon.XXXXXX", path[64];
	char			 want[128];
	int			 fd;

	(void)state;
	assert_non_null(base = event_base_new());
	assert_non_null(mkdtemp(dir));
	(void)snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_true((fd = open(path, O_RDWR | O_CLOEXEC)) != -1);

	found = 0;
	usbmon_start(base, path, finding);
	assert_true(strncmp(usbmon_status(), "reading ", 8) == 0);
	assert_true(write(fd, lines, sizeof(lines) - 1) ==
	    (ssize_t)sizeof(lines) - 1);
	run_until(base, 1, 10);
	assert_int_equal(found, 1);
	assert_int_equal(found_status, -75);
	assert_string_equal(found_detail, "usbmon: bus 1 device 5: a "
	    "transfer failed with a link error (-75 EOVERFLOW)");
	assert_int_equal(counted(1, 5, "cancels"), 1);
	/* The thread blocks in read(2): stopping cancels it. */
	usbmon_stop();

	/* The writer goes: the thread says so, once, and stops. */
	usbmon_start(base, path, finding);
	assert_int_equal(close(fd), 0);
	(void)snprintf(want, sizeof(want), "unreadable: %s: end of file",
	    path);
	if (!loop_until(base, status_is, want, 10))
		fail_msg("status \"%s\", not \"%s\"", usbmon_status(), want);
	assert_string_equal(usbmon_status(), want);
	usbmon_stop();

	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_complete),
		cmocka_unit_test(test_parse_submit_error),
		cmocka_unit_test(test_parse_setup),
		cmocka_unit_test(test_parse_intr_iso),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_parse_binary),
		cmocka_unit_test(test_line_end),
		cmocka_unit_test(test_burst),
		cmocka_unit_test(test_unplug),
		cmocka_unit_test(test_reader_file),
		cmocka_unit_test(test_reader_thread),
	};

	log_init(LOG_TO_STDERR, 0, "test-usbmon");
	return (cmocka_run_group_tests_name("usbmon", tests, NULL, NULL));
}
