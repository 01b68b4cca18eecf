/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * usbmon's events (contract in usbmon.h): one text line or binary
 * header parsed into a usbmon_event, formatted back, and classified by
 * its status. The text format is the one drivers/usb/mon/mon_text.c
 * prints for the 'u' files and Documentation/usb/usbmon.rst describes;
 * the binary header is its struct mon_bin_hdr. An isochronous URB's
 * status says nothing of its frames' errors; iPhones carry usbmuxd over
 * bulk pipes, so those are not looked at. Pure: no I/O, no state.
 */

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "compat/compat.h"
#include "usbmon.h"

/* A word of a line: p points at it, len is its length. */
struct usbmon_word {
	const char	*p;
	size_t		 len;
};

/* Cut the next space-separated word out of [*pp, end); 0 if none. */
static int
usbmon_word(const char **pp, const char *end, struct usbmon_word *w)
{
	const char	*p = *pp;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p == end)
		return (0);
	w->p = p;
	while (p < end && *p != ' ' && *p != '\t')
		p++;
	w->len = (size_t)(p - w->p);
	*pp = p;
	return (1);
}

/* Parse a hexadecimal number of 1 to digits digits. */
static int
usbmon_hex(const char *p, size_t len, size_t digits, uint64_t *out)
{
	uint64_t	v = 0;
	size_t		i;
	int		c;

	if (len == 0 || len > digits)
		return (-1);
	for (i = 0; i < len; i++) {
		c = (unsigned char)p[i];
		if (c >= '0' && c <= '9')
			c -= '0';
		else if (c >= 'a' && c <= 'f')
			c -= 'a' - 10;
		else if (c >= 'A' && c <= 'F')
			c -= 'A' - 10;
		else
			return (-1);
		v = v << 4 | (uint64_t)c;
	}
	*out = v;
	return (0);
}

/* Parse an unsigned decimal number up to max. */
static int
usbmon_udec(const char *p, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t	v = 0;
	size_t		i;

	if (len == 0)
		return (-1);
	for (i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9' || v > (max - (uint64_t)(p[i] -
		    '0')) / 10)
			return (-1);
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	*out = v;
	return (0);
}

/* Parse a signed decimal int. */
static int
usbmon_sdec(const char *p, size_t len, int *out)
{
	uint64_t	v;
	int		neg = len > 0 && p[0] == '-';

	if (usbmon_udec(p + neg, len - (size_t)neg, (uint64_t)INT_MAX + neg,
	    &v) == -1)
		return (-1);
	*out = neg ? (int)(0 - (int64_t)v) : (int)v;
	return (0);
}

/* The address word "Bi:1:005:1": type, direction, bus, device, ep. */
static int
usbmon_address(const struct usbmon_word *w, struct usbmon_event *ev)
{
	static const char	 types[] = "ZICB";	/* enum usbmon_xfer */
	const char		*p = w->p, *end = w->p + w->len, *colon;
	const char		*t;
	uint64_t		 v[3];
	int			 i;

	if (w->len < 3 || p[0] == '\0' || (t = strchr(types, p[0])) ==
	    NULL || (p[1] != 'i' && p[1] != 'o') || p[2] != ':')
		return (-1);
	ev->xfer = (enum usbmon_xfer)(t - types);
	ev->in = p[1] == 'i';
	p += 3;
	for (i = 0; i < 3; i++) {
		if ((colon = memchr(p, ':', (size_t)(end - p))) == NULL)
			colon = end;
		if ((i < 2) != (colon != end) ||
		    usbmon_udec(p, (size_t)(colon - p), i == 0 ? 65535 :
		    i == 1 ? 255 : 15, &v[i]) == -1)
			return (-1);
		p = colon + 1;
	}
	if (v[0] == 0)
		return (-1);
	ev->bus = (int)v[0];
	ev->devnum = (int)v[1];
	ev->ep = (int)v[2];
	return (0);
}

/*
 * The status word: "-71", or an interrupt's "status:interval", or an
 * isochronous URB's "status:interval:start_frame[:error_count]".
 */
static int
usbmon_status_word(const struct usbmon_word *w, struct usbmon_event *ev)
{
	const char	*p = w->p, *end = w->p + w->len, *colon;
	int		 v, i;

	for (i = 0; p < end; i++) {
		if ((colon = memchr(p, ':', (size_t)(end - p))) == NULL)
			colon = end;
		if (i > 3 || usbmon_sdec(p, (size_t)(colon - p), &v) == -1 ||
		    (colon != end && colon + 1 == end))
			return (-1);
		if (i == 0)
			ev->status = v;
		p = colon + 1;
	}
	ev->has_status = 1;
	return (0);
}

/* A control submit's setup: "s" and five hex words, or a flag and "_"s. */
static int
usbmon_setup(const struct usbmon_word *flag, const char **pp,
    const char *end, struct usbmon_event *ev)
{
	static const size_t	 digits[] = { 2, 2, 4, 4, 4 };
	struct usbmon_word	 w;
	uint64_t		 v[5];
	size_t			 i, j;

	for (i = 0; i < nitems(digits); i++) {
		if (!usbmon_word(pp, end, &w))
			return (-1);
		if (flag->p[0] != 's') {
			/* Not captured: "Z __ __ ____ ____ ____". */
			if (w.len != digits[i])
				return (-1);
			for (j = 0; j < w.len; j++)
				if (w.p[j] != '_')
					return (-1);
			continue;
		}
		if (usbmon_hex(w.p, w.len, digits[i], &v[i]) == -1)
			return (-1);
	}
	if (flag->p[0] != 's')
		return (0);
	ev->has_setup = 1;
	ev->setup.request_type = (uint8_t)v[0];
	ev->setup.request = (uint8_t)v[1];
	ev->setup.value = (uint16_t)v[2];
	ev->setup.index = (uint16_t)v[3];
	ev->setup.length = (uint16_t)v[4];
	return (0);
}

/* Parse one text line. */
int
usbmon_parse(const char *buf, size_t len, struct usbmon_event *ev)
{
	const char		*p = buf, *end = buf + len;
	struct usbmon_word	 w;
	uint64_t		 v;

	memset(ev, 0, sizeof(*ev));
	if (len == 0 || memchr(buf, '\0', len) != NULL)
		return (-1);
	if (end[-1] == '\n')
		end--;
	if (memchr(buf, '\n', (size_t)(end - buf)) != NULL)
		return (-1);
	/* URB tag, timestamp, event type, address. */
	if (!usbmon_word(&p, end, &w) || usbmon_hex(w.p, w.len, 16,
	    &ev->tag) == -1)
		return (-1);
	if (!usbmon_word(&p, end, &w) || usbmon_udec(w.p, w.len, UINT32_MAX,
	    &v) == -1)
		return (-1);
	ev->stamp = (uint32_t)v;
	if (!usbmon_word(&p, end, &w) || w.len != 1 || (w.p[0] != 'S' &&
	    w.p[0] != 'C' && w.p[0] != 'E'))
		return (-1);
	ev->type = w.p[0];
	if (!usbmon_word(&p, end, &w) || usbmon_address(&w, ev) == -1)
		return (-1);
	/* The status, or a control submit's setup. */
	if (!usbmon_word(&p, end, &w))
		return (-1);
	if (w.len == 1 && w.p[0] != '-' && (w.p[0] < '0' || w.p[0] > '9')) {
		if (ev->type != 'S' || ev->xfer != USBMON_CONTROL ||
		    usbmon_setup(&w, &p, end, ev) == -1)
			return (-1);
	} else if (usbmon_status_word(&w, ev) == -1)
		return (-1);
	/* An isochronous URB's descriptor count and descriptors. */
	if (ev->xfer == USBMON_ISO && ev->type != 'E') {
		if (!usbmon_word(&p, end, &w) || usbmon_udec(w.p, w.len,
		    INT_MAX, &v) == -1)
			return (-1);
		while (usbmon_word(&p, end, &w) && memchr(w.p, ':', w.len) !=
		    NULL)
			;
	} else if (!usbmon_word(&p, end, &w))
		return (-1);
	/* The length; the data that may follow is not looked at. */
	if (usbmon_udec(w.p, w.len, UINT32_MAX, &v) == -1)
		return (-1);
	ev->length = (uint32_t)v;
	return (0);
}

/* Parse a binary header: struct mon_bin_hdr's first len bytes. */
int
usbmon_parse_bin(const void *hdr, size_t len, struct usbmon_event *ev)
{
	const unsigned char	*b = hdr;
	uint64_t		 id;
	int64_t			 sec;
	int32_t			 usec, status;
	uint32_t		 len_urb;
	uint16_t		 bus;

	memset(ev, 0, sizeof(*ev));
	if (len < USBMON_BIN_HDR_MIN)
		return (-1);
	memcpy(&id, b, sizeof(id));
	memcpy(&bus, b + 12, sizeof(bus));
	memcpy(&sec, b + 16, sizeof(sec));
	memcpy(&usec, b + 24, sizeof(usec));
	memcpy(&status, b + 28, sizeof(status));
	memcpy(&len_urb, b + 32, sizeof(len_urb));
	if ((b[8] != 'S' && b[8] != 'C' && b[8] != 'E') || b[9] > 3 ||
	    bus == 0 || usec < 0 || usec >= 1000000)
		return (-1);
	ev->tag = id;
	ev->type = (char)b[8];
	ev->xfer = (enum usbmon_xfer)b[9];
	ev->in = (b[10] & 0x80) != 0;
	ev->ep = b[10] & 0x0f;
	ev->devnum = b[11];
	ev->bus = bus;
	/* The text interface's stamp: seconds modulo 4096. */
	ev->stamp = (uint32_t)(((uint64_t)sec & 0xfff) * 1000000 +
	    (uint64_t)usec);
	ev->has_status = 1;
	ev->status = status;
	ev->length = len_urb;
	/* flag_setup 0: the setup packet is there (a control submit). */
	if (ev->type == 'S' && ev->xfer == USBMON_CONTROL && b[14] == 0) {
		ev->has_setup = 1;
		ev->setup.request_type = b[40];
		ev->setup.request = b[41];
		ev->setup.value = (uint16_t)(b[42] | b[43] << 8);
		ev->setup.index = (uint16_t)(b[44] | b[45] << 8);
		ev->setup.length = (uint16_t)(b[46] | b[47] << 8);
	}
	return (0);
}

/* Write ev as a text line. */
int
usbmon_format(const struct usbmon_event *ev, char *buf, size_t size)
{
	static const char	 types[] = "ZICB";
	char			 status[40];

	if (ev->has_status)
		(void)snprintf(status, sizeof(status), "%d", ev->status);
	else if (ev->has_setup)
		(void)snprintf(status, sizeof(status),
		    "s %02x %02x %04x %04x %04x", ev->setup.request_type,
		    ev->setup.request, ev->setup.value, ev->setup.index,
		    ev->setup.length);
	else
		(void)strlcpy(status, "Z __ __ ____ ____ ____",
		    sizeof(status));
	return (snprintf(buf, size, "%llx %u %c %c%c:%d:%03d:%d %s %s%u\n",
	    (unsigned long long)ev->tag, ev->stamp, ev->type,
	    types[ev->xfer & 3], ev->in ? 'i' : 'o', ev->bus, ev->devnum,
	    ev->ep, status, ev->xfer == USBMON_ISO && ev->type != 'E' ?
	    "0 " : "", ev->length));
}

/* The class of a status. */
enum usbmon_class
usbmon_classify(int status)
{
	switch (status) {
	case 0:
	case -115:		/* EINPROGRESS: a submit's */
		return (USBMON_OK);
	case -71:		/* EPROTO */
	case -84:		/* EILSEQ */
	case -62:		/* ETIME */
	case -75:		/* EOVERFLOW */
		return (USBMON_LINK_ERROR);
	case -2:		/* ENOENT */
	case -104:		/* ECONNRESET */
		return (USBMON_CANCEL);
	case -108:		/* ESHUTDOWN */
	case -19:		/* ENODEV */
		return (USBMON_DISCONNECT);
	default:
		return (USBMON_OTHER_ERROR);
	}
}

/*
 * The class of an event: a submit has no outcome yet, and a link
 * error's status on a failed submission (E) is not the wire's.
 */
enum usbmon_class
usbmon_event_class(const struct usbmon_event *ev)
{
	enum usbmon_class	c;

	if (ev->type == 'S' || !ev->has_status)
		return (USBMON_OK);
	c = usbmon_classify(ev->status);
	if (c == USBMON_LINK_ERROR && ev->type != 'C')
		return (USBMON_OTHER_ERROR);
	return (c);
}

/* Whether the reader keeps ev. */
int
usbmon_wanted(const struct usbmon_event *ev)
{
	return (usbmon_event_class(ev) != USBMON_OK);
}

/* The length of the first whole line. */
size_t
usbmon_line_end(const char *buf, size_t len)
{
	const char	*nl;

	if ((nl = memchr(buf, '\n', len)) == NULL)
		return (0);
	return ((size_t)(nl - buf) + 1);
}
