/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * usbmon's tracker (contract in usbmon.h): the events of each device
 * counted by class, and its link errors held in bursts until they are
 * known not to be an unplug's. Pure: no I/O, the time passed in.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat/compat.h"
#include "compat/queue.h"
#include "lq-time.h"
#include "usbmon.h"
#include "xmalloc.h"

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
