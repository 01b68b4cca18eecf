/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * usbmon (contract and design in usbmon.h). The text format is the one
 * drivers/usb/mon/mon_text.c prints for the 'u' files and
 * Documentation/usb/usbmon.rst describes; the binary header is its
 * struct mon_bin_hdr, and the ioctls are mon_bin.c's, which no uapi
 * header exports. An isochronous URB's status says nothing of its
 * frames' errors; iPhones carry usbmuxd over bulk pipes, so those are
 * not looked at.
 */

#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <linux/magic.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "compat/compat.h"
#include "compat/queue.h"
#include "follow.h"
#include "log.h"
#include "lq-time.h"
#include "usbmon.h"
#include "xmalloc.h"

/* The binary interface's ioctls (mon_bin.c). */
struct usbmon_get {
	void	*hdr;		/* USBMON_BIN_HDR bytes */
	void	*data;
	size_t	 alloc;		/* data wanted: none */
};
#define USBMON_IOC_MAGIC	0x92
#define USBMON_IOCT_RING_SIZE	_IO(USBMON_IOC_MAGIC, 4)
#define USBMON_IOCX_GETX	_IOW(USBMON_IOC_MAGIC, 10, struct usbmon_get)
/* The ring asked for: 1 MiB, within every kernel's range (8 KiB-1.2 MiB). */
#define USBMON_RING		(1024 * 1024)
/*
 * The signal that interrupts the thread's read(2) or poll(2) when it must
 * stop: a real-time one, which nothing else in linkqd uses. Sent again
 * every USBMON_WAKE_US until the thread is gone, in case the first came
 * between its look at the stop flag and the call.
 */
#define USBMON_WAKE_SIGNAL	SIGRTMIN
#define USBMON_WAKE_US		(20 * 1000)

/* One device's counts. */
struct usbmon_dev {
	int			 bus;
	int			 devnum;
	struct usbmon_counts	 counts;
	int			 gone;
	lq_mono_t		 gone_at;	/* its last disconnect */
	lq_mono_t		 last;		/* its last event counted */
	TAILQ_ENTRY(usbmon_dev)	 entry;
};

/* The statuses of a link error, in the order of by_status[]. */
static const int usbmon_link_statuses[] = { -71, -84, -62, -75 };

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

/* The name of a status, or "". */
static const char *
usbmon_errno_name(int status)
{
	switch (status) {
	case -71:
		return (" EPROTO");
	case -84:
		return (" EILSEQ");
	case -62:
		return (" ETIME");
	case -75:
		return (" EOVERFLOW");
	default:
		return ("");
	}
}

/* The tracker. */

void
usbmon_tracker_init(struct usbmon_tracker *t)
{
	TAILQ_INIT(&t->devs);
	TAILQ_INIT(&t->bursts);
}

/* Whether d is gone and quiet for long enough to be forgotten. */
static int
usbmon_dev_stale(const struct usbmon_dev *d, lq_mono_t now)
{
	return (d->gone && lq_mono_sub(now, d->last) >= USBMON_FORGET_US);
}

/*
 * The counts of bus/devnum, made if need be. Devices forgotten go on the
 * way: the kernel gives a device number to another device only after it
 * went through the rest, so a gone device's counts are no one's.
 */
static struct usbmon_dev *
usbmon_dev_get(struct usbmon_tracker *t, int bus, int devnum, lq_mono_t now)
{
	struct usbmon_dev	*d, *next, *found = NULL;

	TAILQ_FOREACH_SAFE(d, &t->devs, entry, next) {
		if (usbmon_dev_stale(d, now)) {
			TAILQ_REMOVE(&t->devs, d, entry);
			free(d);
		} else if (d->bus == bus && d->devnum == devnum)
			found = d;
	}
	if (found != NULL)
		return (found);
	d = xcalloc(1, sizeof(*d));
	d->bus = bus;
	d->devnum = devnum;
	TAILQ_INSERT_TAIL(&t->devs, d, entry);
	return (d);
}

/* Drop the held bursts of bus/devnum; the link errors they held. */
static unsigned int
usbmon_drop(struct usbmon_tracker *t, int bus, int devnum)
{
	struct usbmon_burst	*b, *next;
	unsigned int		 n = 0;

	TAILQ_FOREACH_SAFE(b, &t->bursts, entry, next) {
		if (b->bus == bus && b->devnum == devnum) {
			n += b->count;
			TAILQ_REMOVE(&t->bursts, b, entry);
			free(b);
		}
	}
	return (n);
}

/* d disconnects at now: what it held was the unplug's. */
static unsigned int
usbmon_disconnect(struct usbmon_tracker *t, struct usbmon_dev *d,
    lq_mono_t now)
{
	d->gone = 1;
	d->gone_at = now;
	return (usbmon_drop(t, d->bus, d->devnum));
}

/* Hold a link error of d: in its open burst, or in a new one. */
static void
usbmon_hold(struct usbmon_tracker *t, struct usbmon_dev *d, int status,
    lq_mono_t now, int64_t wall_us)
{
	struct usbmon_burst	*b;
	size_t			 i;

	/* Just after a disconnect: the unplug's as well. */
	if (d->gone && lq_mono_sub(now, d->gone_at) <= USBMON_HOLD_US)
		return;
	TAILQ_FOREACH(b, &t->bursts, entry) {
		if (b->bus == d->bus && b->devnum == d->devnum &&
		    lq_mono_sub(now, b->first) < USBMON_BURST_US)
			break;
	}
	if (b == NULL) {
		b = xcalloc(1, sizeof(*b));
		b->bus = d->bus;
		b->devnum = d->devnum;
		b->first_status = status;
		b->first = now;
		b->wall_us = wall_us;
		TAILQ_INSERT_TAIL(&t->bursts, b, entry);
	}
	b->count++;
	b->last = now;
	for (i = 0; i < nitems(usbmon_link_statuses); i++) {
		if (usbmon_link_statuses[i] == status)
			b->by_status[i]++;
	}
}

/* Count ev; hold a link error; drop what a disconnect explains. */
unsigned int
usbmon_tracker_add(struct usbmon_tracker *t, const struct usbmon_event *ev,
    lq_mono_t now, int64_t wall_us)
{
	enum usbmon_class	 c;
	struct usbmon_dev	*d;

	if ((c = usbmon_event_class(ev)) == USBMON_OK)
		return (0);
	d = usbmon_dev_get(t, ev->bus, ev->devnum, now);
	d->last = now;
	switch (c) {
	case USBMON_OK:
		break;
	case USBMON_LINK_ERROR:
		d->counts.link_errors++;
		usbmon_hold(t, d, ev->status, now, wall_us);
		break;
	case USBMON_CANCEL:
		d->counts.cancels++;
		break;
	case USBMON_DISCONNECT:
		d->counts.disconnects++;
		return (usbmon_disconnect(t, d, now));
	case USBMON_OTHER_ERROR:
		d->counts.other_errors++;
		break;
	}
	return (0);
}

/* The kernel removed bus/devnum. */
unsigned int
usbmon_tracker_gone(struct usbmon_tracker *t, int bus, int devnum,
    lq_mono_t now)
{
	struct usbmon_dev	*d;

	d = usbmon_dev_get(t, bus, devnum, now);
	d->last = now;
	return (usbmon_disconnect(t, d, now));
}

/* The next burst due, taken out. */
struct usbmon_burst *
usbmon_tracker_due(struct usbmon_tracker *t, lq_mono_t now)
{
	struct usbmon_burst	*b;

	TAILQ_FOREACH(b, &t->bursts, entry) {
		if (lq_mono_sub(now, b->last) >= USBMON_HOLD_US) {
			TAILQ_REMOVE(&t->bursts, b, entry);
			return (b);
		}
	}
	return (NULL);
}

/* How long until the next burst is due. */
int
usbmon_tracker_wait(const struct usbmon_tracker *t, lq_mono_t now,
    int64_t *left)
{
	const struct usbmon_burst	*b;
	int64_t				 l;
	int				 found = 0;

	*left = 0;
	TAILQ_FOREACH(b, &t->bursts, entry) {
		l = USBMON_HOLD_US - lq_mono_sub(now, b->last);
		if (l < 0)
			l = 0;
		if (!found || l < *left)
			*left = l;
		found = 1;
	}
	return (found ? 0 : -1);
}

/* The counts of bus/devnum. */
void
usbmon_tracker_counts(const struct usbmon_tracker *t, int bus, int devnum,
    lq_mono_t now, struct usbmon_counts *c)
{
	const struct usbmon_dev	*d;

	memset(c, 0, sizeof(*c));
	TAILQ_FOREACH(d, &t->devs, entry) {
		if (d->bus == bus && d->devnum == devnum &&
		    !usbmon_dev_stale(d, now)) {
			*c = d->counts;
			return;
		}
	}
}

/* Forget everything. */
void
usbmon_tracker_clear(struct usbmon_tracker *t)
{
	struct usbmon_dev	*d;
	struct usbmon_burst	*b;

	while ((d = TAILQ_FIRST(&t->devs)) != NULL) {
		TAILQ_REMOVE(&t->devs, d, entry);
		free(d);
	}
	while ((b = TAILQ_FIRST(&t->bursts)) != NULL) {
		TAILQ_REMOVE(&t->bursts, b, entry);
		free(b);
	}
}

/* "usbmon: bus 1 device 5: 3 transfers failed with link errors (...)". */
void
usbmon_burst_detail(const struct usbmon_burst *b, char *buf, size_t size)
{
	char	statuses[96];
	size_t	i, off = 0;
	int	n;

	statuses[0] = '\0';
	for (i = 0; i < nitems(usbmon_link_statuses); i++) {
		if (b->by_status[i] == 0)
			continue;
		if (b->count == 1)
			n = snprintf(statuses + off, sizeof(statuses) - off,
			    "%d%s", usbmon_link_statuses[i],
			    usbmon_errno_name(usbmon_link_statuses[i]));
		else
			n = snprintf(statuses + off, sizeof(statuses) - off,
			    "%s%d%s: %u", off > 0 ? ", " : "",
			    usbmon_link_statuses[i],
			    usbmon_errno_name(usbmon_link_statuses[i]),
			    b->by_status[i]);
		if (n < 0 || (size_t)n >= sizeof(statuses) - off)
			break;
		off += (size_t)n;
	}
	if (b->count == 1)
		(void)snprintf(buf, size, "usbmon: bus %d device %d: a "
		    "transfer failed with a link error (%s)", b->bus,
		    b->devnum, statuses);
	else
		(void)snprintf(buf, size, "usbmon: bus %d device %d: %u "
		    "transfers failed with link errors within %lld ms (%s)",
		    b->bus, b->devnum, b->count,
		    (long long)(lq_mono_sub(b->last, b->first) /
		    LQ_USEC_PER_MSEC), statuses);
}

/*
 * The reader. The loop owns u. The thread's part, k, is set before the
 * thread starts and read-only until it has been joined.
 */

static struct {
	struct event_base	*base;
	usbmon_fn		 fn;
	char			 path[PATH_MAX];
	char			 status[PATH_MAX + 256];
	int			 reading;
	int			 failed;	/* said why not, once */
	struct follow		*follow;	/* a file, or the pipe */
	struct event		*hold_ev;
	struct usbmon_tracker	 tracker;
	pthread_t		 thread;
	int			 thread_started;
} u;

static struct {
	int			 fd;		/* the kernel's interface */
	int			 binary;
	int			 wfd;		/* the pipe's write end */
	atomic_int		 stop;		/* the loop's, to the thread */
} k = { -1, 0, -1, 0 };

/* Say, once, why usbmon is not read; hint is what to do, or NULL. */
static void
usbmon_unreadable(const char *path, const char *why, const char *hint)
{
	if (u.failed)
		return;
	u.failed = 1;
	u.reading = 0;
	(void)snprintf(u.status, sizeof(u.status), "unreadable: %s: %s",
	    path, why);
	log_warnx("usbmon: %s: %s; linkqd goes on without usbmon%s%s%s",
	    path, why, hint != NULL ? " (" : "", hint != NULL ? hint : "",
	    hint != NULL ? ")" : "");
}

/* Arm the hold timer for the next burst due. */
static void
usbmon_hold_arm(void)
{
	struct timeval	tv;
	int64_t		left = 0;

	if (usbmon_tracker_wait(&u.tracker, lq_mono_now(), &left) == -1) {
		(void)evtimer_del(u.hold_ev);
		return;
	}
	tv.tv_sec = left / LQ_USEC_PER_SEC;
	tv.tv_usec = left % LQ_USEC_PER_SEC;
	if (evtimer_add(u.hold_ev, &tv) == -1)
		log_warnx("usbmon: cannot arm the hold timer");
}

/* Bursts whose hold is over go on. */
static void
usbmon_hold_cb(evutil_socket_t fd, short what, void *unused)
{
	struct usbmon_burst	*b;
	char			 detail[256];

	(void)fd;
	(void)what;
	(void)unused;
	while ((b = usbmon_tracker_due(&u.tracker, lq_mono_now())) != NULL) {
		usbmon_burst_detail(b, detail, sizeof(detail));
		log_info("%s", detail);
		u.fn(b->bus, b->devnum, b->first_status, b->wall_us, detail);
		free(b);
	}
	usbmon_hold_arm();
}

/* Say that n held link errors of bus/devnum were an unplug's. */
static void
usbmon_dropped(unsigned int n, int bus, int devnum)
{
	if (n == 0)
		return;
	log_info("usbmon: %u link error%s on bus %d device %d came with an "
	    "unplug: not counted", n, n == 1 ? "" : "s", bus, devnum);
	usbmon_hold_arm();
}

/* One line: from the file, or the thread's through the pipe. */
static void
usbmon_line(const char *buf, size_t len, void *from_thread)
{
	struct usbmon_event	ev;
	char			why[160];
	unsigned int		n;

	if (from_thread != NULL && len > 0 && buf[0] == '!') {
		/* The thread stopped, and said why. */
		len -= buf[len - 1] == '\n';
		(void)snprintf(why, sizeof(why), "%.*s", (int)(len - 1),
		    buf + 1);
		usbmon_unreadable(u.path, why, NULL);
		return;
	}
	if (usbmon_parse(buf, len, &ev) == -1) {
		log_debug("usbmon: malformed line: %.*s", (int)(len > 80 ? 80 :
		    len), buf);
		return;
	}
	n = usbmon_tracker_add(&u.tracker, &ev, lq_mono_now(),
	    lq_wall_now_us());
	if (n > 0)
		usbmon_dropped(n, ev.bus, ev.devnum);
	else if (usbmon_event_class(&ev) == USBMON_LINK_ERROR &&
	    !evtimer_pending(u.hold_ev, NULL))
		usbmon_hold_arm();
}

/* The file or the pipe could not be read on. */
static void
usbmon_follow_error(const char *why, void *unused)
{
	(void)unused;
	usbmon_unreadable(u.path, why, NULL);
	follow_free(u.follow);
	u.follow = NULL;
}

/* Thread: pass a line on to the loop; -1 if the pipe is closed. */
static int
usbmon_forward(const char *buf, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(k.wfd, buf, len)) == -1) {
			if (errno == EINTR && !atomic_load(&k.stop))
				continue;
			return (-1);
		}
		buf += n;
		len -= (size_t)n;
	}
	return (0);
}

/* Thread: tell the loop why it stops. */
static void
usbmon_thread_fail(const char *why)
{
	char	line[160];
	int	n;

	n = snprintf(line, sizeof(line), "!%s\n", why);
	if (n > 0 && (size_t)n < sizeof(line))
		(void)usbmon_forward(line, (size_t)n);
}

/* Thread: read the text interface, one line per read(2). */
static void
usbmon_thread_text(void)
{
	struct usbmon_event	 ev;
	char			 buf[USBMON_LINE_MAX * 8], e[128];
	size_t			 have = 0, off, len;
	ssize_t			 n;
	int			 told = 0;

	while (!atomic_load(&k.stop)) {
		if (have == sizeof(buf))
			have = 0;	/* no line in all that */
		n = read(k.fd, buf + have, sizeof(buf) - have);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			usbmon_thread_fail(n == 0 ? "end of file" :
			    strerror_r(errno, e, sizeof(e)));
			return;
		}
		have += (size_t)n;
		for (off = 0; (len = usbmon_line_end(buf + off, have - off)) >
		    0; off += len) {
			if (usbmon_parse(buf + off, len, &ev) == -1) {
				if (!told)
					log_debug("usbmon: malformed line: "
					    "%.*s", (int)(len - 1), buf + off);
				told = 1;
				continue;
			}
			if (usbmon_wanted(&ev) &&
			    usbmon_forward(buf + off, len) == -1)
				return;
		}
		memmove(buf, buf + off, have - off);
		have -= off;
	}
}

/* Thread: read the binary interface, one header per MON_IOCX_GETX. */
static void
usbmon_thread_binary(void)
{
	struct usbmon_event	 ev;
	struct usbmon_get	 get;
	struct pollfd		 pfd;
	unsigned char		 hdr[USBMON_BIN_HDR];
	char			 line[USBMON_LINE_MAX], e[128];
	int			 n;

	memset(&get, 0, sizeof(get));
	get.hdr = hdr;
	pfd.fd = k.fd;
	pfd.events = POLLIN;
	while (!atomic_load(&k.stop)) {
		n = poll(&pfd, 1, -1);
		if (n == -1 && errno != EINTR) {
			usbmon_thread_fail(strerror_r(errno, e, sizeof(e)));
			return;
		}
		while (ioctl(k.fd, USBMON_IOCX_GETX, &get) == 0) {
			if (usbmon_parse_bin(hdr, sizeof(hdr), &ev) == -1 ||
			    !usbmon_wanted(&ev))
				continue;
			n = usbmon_format(&ev, line, sizeof(line));
			if (n > 0 && (size_t)n < sizeof(line) &&
			    usbmon_forward(line, (size_t)n) == -1)
				return;
		}
		if (errno != EAGAIN && errno != EINTR) {
			usbmon_thread_fail(strerror_r(errno, e, sizeof(e)));
			return;
		}
	}
}

/* The wake signal only interrupts what the thread is blocked in. */
static void
usbmon_wake(int sig)
{
	(void)sig;
}

/* Thread: read until told to stop, or until the interface fails. */
static void *
usbmon_thread_main(void *unused)
{
	sigset_t	wake;

	(void)unused;
	if (sigemptyset(&wake) == -1 || sigaddset(&wake, USBMON_WAKE_SIGNAL) ==
	    -1 || pthread_sigmask(SIG_UNBLOCK, &wake, NULL) != 0) {
		usbmon_thread_fail("cannot take the wake signal");
		return (NULL);
	}
	if (k.binary)
		usbmon_thread_binary();
	else
		usbmon_thread_text();
	return (NULL);
}

/* Start the thread on the kernel's interface fd; 0, or -1 and *cause. */
static int
usbmon_thread_start(int fd, int binary, const char **cause)
{
	static const struct follow_cb cb = {
		"usbmon", USBMON_LINE_MAX * 8, usbmon_line_end, usbmon_line,
		usbmon_follow_error, &u
	};
	struct sigaction sa;
	sigset_t	 all, old;
	int		 p[2], error;

	if (pipe2(p, O_CLOEXEC) == -1) {
		*cause = strerror(errno);
		return (-1);
	}
	if (fcntl(p[0], F_SETFL, O_NONBLOCK) == -1) {
		*cause = strerror(errno);
		(void)close(p[0]);
		(void)close(p[1]);
		return (-1);
	}
	k.fd = fd;
	k.binary = binary;
	k.wfd = p[1];
	atomic_store(&k.stop, 0);
	/* No SA_RESTART: the wake signal must interrupt the thread. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = usbmon_wake;
	if (sigemptyset(&sa.sa_mask) == -1 ||
	    sigaction(USBMON_WAKE_SIGNAL, &sa, NULL) == -1)
		fatal("%s: sigaction", __func__);
	/* Other signals are the loop's (the worker's rule, worker.c). */
	if (sigfillset(&all) == -1)
		fatal("%s: sigfillset", __func__);
	if ((error = pthread_sigmask(SIG_SETMASK, &all, &old)) != 0)
		fatalx("%s: pthread_sigmask: %s", __func__, strerror(error));
	if ((error = pthread_create(&u.thread, NULL, usbmon_thread_main,
	    NULL)) != 0)
		fatalx("%s: pthread_create: %s", __func__, strerror(error));
	if ((error = pthread_sigmask(SIG_SETMASK, &old, NULL)) != 0)
		fatalx("%s: pthread_sigmask: %s", __func__, strerror(error));
	u.thread_started = 1;
	u.follow = follow_pipe(u.base, p[0], &cb);
	return (0);
}

/* Open what path is and start reading it; 0, or -1 said. */
static int
usbmon_open(const char *path)
{
	static const struct follow_cb cb = {
		"usbmon", USBMON_LINE_MAX * 8, usbmon_line_end, usbmon_line,
		usbmon_follow_error, NULL
	};
	struct stat	 st;
	struct statfs	 sf;
	const char	*cause = NULL, *hint = NULL;
	int		 fd, flags;

	/* Non-blocking, or a FIFO would block the open itself. */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			hint = "mount debugfs and run modprobe usbmon";
		else if (errno == EACCES || errno == EPERM)
			hint = "usbmon is root's only";
		usbmon_unreadable(path, strerror(errno), hint);
		return (-1);
	}
	if (fstat(fd, &st) == -1 || fstatfs(fd, &sf) == -1)
		cause = strerror(errno);
	else if (S_ISCHR(st.st_mode)) {
		/* A bigger ring loses fewer events; the default will do. */
		if (ioctl(fd, USBMON_IOCT_RING_SIZE, USBMON_RING) == -1 &&
		    errno == ENOTTY)
			cause = "a character device, but not usbmon's";
		else
			(void)usbmon_thread_start(fd, 1, &cause);
	} else if (S_ISFIFO(st.st_mode) || (S_ISREG(st.st_mode) &&
	    sf.f_type == DEBUGFS_MAGIC)) {
		/*
		 * The text interface, or a FIFO a privileged process copies
		 * it into: its read(2) blocks, in the thread.
		 */
		if ((flags = fcntl(fd, F_GETFL)) == -1 ||
		    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == -1)
			cause = strerror(errno);
		else
			(void)usbmon_thread_start(fd, 0, &cause);
	} else if (S_ISREG(st.st_mode)) {
		/* Lines from before the start are not this run's. */
		if (lseek(fd, 0, SEEK_END) == -1)
			cause = strerror(errno);
		else {
			u.follow = follow_file(u.base, path, fd, &cb, &cause);
			fd = -1;	/* the follower's now */
		}
	} else
		cause = "neither usbmon's text file or device, nor a FIFO or "
		    "a regular file";
	if (cause == NULL)
		return (0);
	if (fd != -1)
		(void)close(fd);
	k.fd = -1;
	usbmon_unreadable(path, cause, NULL);
	return (-1);
}

/* Start reading path. */
void
usbmon_start(struct event_base *base, const char *path, usbmon_fn fn)
{
	u.base = base;
	u.fn = fn;
	u.reading = u.failed = 0;
	u.status[0] = '\0';
	(void)strlcpy(u.path, path, sizeof(u.path));
	usbmon_tracker_init(&u.tracker);
	if ((u.hold_ev = evtimer_new(base, usbmon_hold_cb, NULL)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	if (usbmon_open(path) == -1)
		return;
	u.reading = 1;
	(void)snprintf(u.status, sizeof(u.status), "reading %s", path);
	log_info("usbmon: reading %s%s", path, u.thread_started ?
	    " on a thread of its own" : "");
}

/*
 * Tell the thread to stop and wait until it has: it may be blocked in
 * read(2) or poll(2), which the wake signal interrupts, or in write(2) to
 * the pipe, whose read end is closed by then.
 */
static void
usbmon_thread_stop(void)
{
	struct timespec	ts;
	int		error;

	atomic_store(&k.stop, 1);
	for (;;) {
		if ((error = pthread_kill(u.thread, USBMON_WAKE_SIGNAL)) != 0 &&
		    error != ESRCH)
			fatalx("%s: pthread_kill: %s", __func__,
			    strerror(error));
		if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
			fatal("%s: clock_gettime", __func__);
		ts.tv_nsec += USBMON_WAKE_US * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		if ((error = pthread_timedjoin_np(u.thread, NULL, &ts)) == 0)
			break;
		if (error != ETIMEDOUT)
			fatalx("%s: pthread_timedjoin_np: %s", __func__,
			    strerror(error));
	}
	u.thread_started = 0;
	(void)close(k.wfd);
	k.wfd = -1;
}

/* Stop reading: the follower, the thread; drop what is held. */
void
usbmon_stop(void)
{
	/* Closing the read end frees the thread from a write(2). */
	follow_free(u.follow);
	u.follow = NULL;
	if (u.thread_started)
		usbmon_thread_stop();
	if (k.fd != -1)
		(void)close(k.fd);
	k.fd = -1;
	usbmon_tracker_clear(&u.tracker);
	if (u.hold_ev != NULL) {
		event_free(u.hold_ev);
		u.hold_ev = NULL;
	}
	u.reading = 0;
}

/* The kernel removed bus/devnum: its held link errors were the unplug. */
void
usbmon_device_gone(int bus, int devnum)
{
	if (!u.reading)
		return;
	usbmon_dropped(usbmon_tracker_gone(&u.tracker, bus, devnum,
	    lq_mono_now()), bus, devnum);
}

/* What the reader is doing. */
const char *
usbmon_status(void)
{
	return (u.status[0] != '\0' ? u.status : "not started");
}

/* Add the counts of bus/devnum to o. */
void
usbmon_json(json_t *o, int bus, int devnum)
{
	struct usbmon_counts	c;

	if (!u.reading)
		return;
	usbmon_tracker_counts(&u.tracker, bus, devnum, lq_mono_now(), &c);
	(void)json_object_set_new(o, "usbmon", json_pack(
	    "{s:I, s:I, s:I, s:I}",
	    "link_errors", (json_int_t)c.link_errors,
	    "cancels", (json_int_t)c.cancels,
	    "disconnects", (json_int_t)c.disconnects,
	    "other_errors", (json_int_t)c.other_errors));
}
