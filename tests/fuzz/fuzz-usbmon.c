/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * libFuzzer harness: the usbmon parsers (daemon/usbmon-parse.c) and the
 * tracker they feed (usbmon-track.c). The input is a stream of text
 * lines as the reader gets them; each line is parsed, a parsed event
 * written back with usbmon_format() must parse to the same event, and
 * the wanted ones go through the tracker on a clock of 10 ms a line.
 * The input's bytes are also taken as binary headers.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lq-time.h"
#include "usbmon.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Whether two events say the same. */
static int
same(const struct usbmon_event *a, const struct usbmon_event *b)
{
	return (a->tag == b->tag && a->stamp == b->stamp &&
	    a->type == b->type && a->xfer == b->xfer && a->in == b->in &&
	    a->bus == b->bus && a->devnum == b->devnum && a->ep == b->ep &&
	    a->has_status == b->has_status &&
	    (!a->has_status || a->status == b->status) &&
	    a->has_setup == b->has_setup && (!a->has_setup ||
	    memcmp(&a->setup, &b->setup, sizeof(a->setup)) == 0) &&
	    a->length == b->length);
}

/* Format ev and parse it back. */
static void
round_trip(const struct usbmon_event *ev)
{
	struct usbmon_event	back;
	char			line[USBMON_LINE_MAX];
	int			n;

	n = usbmon_format(ev, line, sizeof(line));
	if (n < 0 || (size_t)n >= sizeof(line))
		abort();
	if (usbmon_parse(line, (size_t)n, &back) == -1 || !same(ev, &back))
		abort();
}

/* Count ev and take what falls due. */
static void
track(struct usbmon_tracker *t, const struct usbmon_event *ev,
    lq_mono_t now)
{
	struct usbmon_burst	*b;
	struct usbmon_counts	 c;
	char			 detail[256];
	int64_t			 wait;

	if (!usbmon_wanted(ev))
		return;
	(void)usbmon_tracker_add(t, ev, now, now.us);
	usbmon_tracker_counts(t, ev->bus, ev->devnum, now, &c);
	if (usbmon_tracker_wait(t, now, &wait) == 0 && wait < 0)
		abort();
	while ((b = usbmon_tracker_due(t, now)) != NULL) {
		usbmon_burst_detail(b, detail, sizeof(detail));
		free(b);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct usbmon_tracker	 t;
	struct usbmon_event	 ev;
	const char		*buf = (const char *)data;
	char			*line;
	size_t			 n, left = size;
	lq_mono_t		 now = { 0 };

	usbmon_tracker_init(&t);
	while (left > 0) {
		if ((n = usbmon_line_end(buf, left)) == 0)
			n = left;
		if ((line = malloc(n)) == NULL)
			break;
		memcpy(line, buf, n);
		if (usbmon_parse(line, n, &ev) == 0) {
			round_trip(&ev);
			track(&t, &ev, now);
		}
		free(line);
		buf += n;
		left -= n;
		now.us += 10 * 1000;
	}
	if (size >= 2)
		(void)usbmon_tracker_gone(&t, data[0], data[1], now);
	now.us += USBMON_HOLD_US + USBMON_FORGET_US;
	track(&t, &(struct usbmon_event){ .type = 'C', .has_status = 1,
	    .status = -71, .bus = 1, .devnum = 1 }, now);
	usbmon_tracker_clear(&t);
	for (n = 0; n + USBMON_BIN_HDR_MIN <= size; n += USBMON_BIN_HDR)
		if (usbmon_parse_bin(data + n, size - n < USBMON_BIN_HDR ?
		    size - n : USBMON_BIN_HDR, &ev) == 0)
			(void)usbmon_wanted(&ev);
	return (0);
}
