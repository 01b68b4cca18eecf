/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The registry's side of the USB topology (devices-int.h): a device
 * libusb sees out of normal mode, which usbmuxd never lists, gets an
 * attachment of libusb's own; a device usbmuxd dropped that stays on the
 * bus is stranded (protocols.md 7). Loop thread.
 */



#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include <event2/event.h>

#include "cables.h"
#include "compat/compat.h"
#include "devices.h"
#include "devices-int.h"
#include "events.h"
#include "hooks.h"
#include "linkq.h"
#include "log.h"
#include "lq-time.h"
#include "run.h"
#include "service.h"
#include "store.h"
#include "usb.h"
#include "xmalloc.h"

/*
 * How long a device usbmuxd dropped may stay on the bus before it counts
 * as stranded: a user's unplug takes it off the bus at the same moment,
 * and libusb reports that a little after usbmuxd.
 */
#define STRAND_GRACE_US		(2 * LQ_USEC_PER_SEC)
/* Where d is, as libusb sees it. */
void
devices_where_usb(const struct usb_info *u, struct attach_where *w)
{
	memset(w, 0, sizeof(*w));
	(void)strlcpy(w->port, u->port, sizeof(w->port));
	w->hub_depth = u->hub_depth;
	w->bus = u->bus;
	w->devnum = u->devnum;
	w->speed_mbps = u->speed_mbps;
	w->mode = u->mode;
	w->source = "libusb";
}

/*
 * Run the stranded hook of d, at port u->port (store id port_id), for
 * the run the stranding joined if any (f has its facts then).
 */
static void
devices_strand_hook(struct device *d, const struct usb_info *u,
    int64_t port_id, struct hook_facts *f)
{
	char	label[LQ_LABEL_MAX + 1];
	int	fixed;

	if (!hooks_wanted(HOOK_STRANDED))
		return;
	f->udid = d->udid;
	f->port = u->port;
	/* Without a run, only a fixed cable is still known to be there. */
	if (f->run_id == 0)
		f->cable = cables_of_port(u->port, &fixed);
	if (reg.store != NULL && port_id > 0 &&
	    store_port_label_get(reg.store, port_id, label,
	    sizeof(label)) == 1)
		f->port_label = label;
	hooks_fire(f);
}

/* d is no longer a candidate for stranded. */
void
devices_strand_clear(struct device *d)
{
	if (d->strand_ev != NULL)
		(void)evtimer_del(d->strand_ev);
	d->stranded = 0;
}

/*
 * The grace is over: if d is still on the bus as the same device, the
 * way usbmuxd left it, it is stranded (protocols.md 7): usbmuxd drops a
 * device after one failed transfer and takes it back only when it
 * re-enumerates. A hard failure of the attachment it left, and of that
 * attachment's run; only a replug brings it back.
 */
static void
devices_strand_cb(evutil_socket_t fd, short what, void *arg)
{
	struct device		*d = arg;
	const struct usb_info	*u;
	struct log_ctx		 ctx;
	struct store_event	 se;
	struct hook_facts	 f;
	char			 detail[192];

	(void)fd;
	(void)what;
	u = usb_find(d->udid);
	if (d->attached || u == NULL || u->mode != LQ_MODE_NORMAL ||
	    u->devnum != d->strand_devnum)
		return;
	d->stranded = 1;
	(void)snprintf(detail, sizeof(detail), "still on the USB bus at %s "
	    "(device number %d) %lld s after usbmuxd dropped it: replug "
	    "the cable", u->port, u->devnum,
	    (long long)(STRAND_GRACE_US / LQ_USEC_PER_SEC));
	devices_log_ctx(d, &ctx);
	log_fields(LOG_WARNING, &ctx, "device %s: stranded: %s", d->udid,
	    detail);
	memset(&se, 0, sizeof(se));
	se.source = "libusb";
	se.kind = "stranded";
	se.host_id = reg.host_id;
	se.port_id = reg.store != NULL ? store_port(reg.store, reg.host_id,
	    u->port, u->hub_depth) : 0;
	se.attachment_id = d->last_attachment_id;
	se.detail = detail;
	(void)events_record(&se);
	if (reg.store != NULL && d->last_attachment_id != 0)
		(void)store_attachment_end(reg.store, d->last_attachment_id,
		    d->detached_us, "stranded");
	memset(&f, 0, sizeof(f));
	f.event = HOOK_STRANDED;
	f.reason = detail;
	run_device_stranded(d->last_attachment_id, detail, &f);
	devices_strand_hook(d, u, se.port_id, &f);
}

/* usbmuxd dropped d: watch whether it stays on the bus. */
void
devices_strand_watch(struct device *d)
{
	const struct usb_info	*u;
	struct timeval		 tv;

	if ((u = usb_find(d->udid)) == NULL || u->mode != LQ_MODE_NORMAL)
		return;
	if (d->strand_ev == NULL && (d->strand_ev = evtimer_new(reg.base,
	    devices_strand_cb, d)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	d->strand_devnum = u->devnum;
	tv.tv_sec = STRAND_GRACE_US / LQ_USEC_PER_SEC;
	tv.tv_usec = STRAND_GRACE_US % LQ_USEC_PER_SEC;
	if (evtimer_add(d->strand_ev, &tv) == -1)
		log_warnx("device %s: cannot watch for stranding", d->udid);
}

/* Find a device by a UDID libusb derived (case and dashes may differ). */
static struct device *
devices_find_usb(const char *udid)
{
	struct device	*d;

	RB_FOREACH(d, device_tree, &reg.tree) {
		if (usb_udid_equal(d->udid, udid))
			return (d);
	}
	return (NULL);
}

/*
 * libusb sees a device arrive. In normal mode usbmuxd drives the
 * attachment (its Attached follows); out of it, usbmuxd never sees the
 * device, and the attachment is libusb's.
 */
static void
devices_usb_arrived(struct device *d, const struct usb_info *u)
{
	struct store_device	sd;
	struct attach_where	w;

	if (d != NULL && d->devnum != u->devnum)
		devices_strand_clear(d);	/* re-enumerated */
	if (u->mode == LQ_MODE_NORMAL || (d != NULL && d->attached))
		return;
	if (d == NULL) {
		d = xcalloc(1, sizeof(*d));
		(void)strlcpy(d->udid, u->udid, sizeof(d->udid));
		d->mode = u->mode;
		RB_INSERT(device_tree, &reg.tree, d);
	}
	d->usb_only = 1;
	d->attached = 1;
	d->attaches++;
	d->handle = 0;
	d->product_id = u->product_id;
	d->since_us = lq_wall_now_us();
	log_info("device %s attached in %s mode on %s (libusb only)",
	    d->udid, lq_device_mode_name(u->mode), u->port);
	if (reg.store == NULL)
		return;
	memset(&sd, 0, sizeof(sd));
	sd.udid = d->udid;
	sd.usb_serial = u->serial;
	sd.seen_us = d->since_us;
	if ((d->store_id = store_device(reg.store, &sd)) < 0) {
		d->store_id = 0;
		return;
	}
	devices_where_usb(u, &w);
	devices_attach(d, &w);
}

/* libusb sees a device leave the bus. */
static void
devices_usb_left(struct device *d, const struct usb_info *u)
{
	devices_strand_clear(d);	/* off the bus: unplugged */
	if (!d->usb_only || !d->attached || d->devnum != u->devnum)
		return;
	d->attached = 0;
	d->usb_only = 0;
	d->since_us = lq_wall_now_us();
	log_info("device %s left the bus (%s mode)", d->udid,
	    lq_device_mode_name(d->mode));
	if (d->attachment_id != 0)
		devices_detach(d);
}

/* Take one report of the USB topology (a usb_fn). */
void
devices_usb_event(int arrived, const struct usb_info *u)
{
	struct device	*d;

	if (u->mode == -1 || u->udid[0] == '\0') {
		log_debug("usb %s: Apple device %04x without a UDID we can "
		    "name; not followed", u->port, u->product_id);
		return;
	}
	d = devices_find_usb(u->udid);
	if (arrived)
		devices_usb_arrived(d, u);
	else if (d != NULL)
		devices_usb_left(d, u);
	service_changed();
}
