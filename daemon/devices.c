/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The device registry (contract in devices.h): a red-black tree of the
 * devices usbmuxd has reported since linkqd started. A device stays in
 * the tree when it goes away, marked detached, so that its history in
 * this process (how often it came and went) is kept; the store keeps it
 * for good.
 *
 * An attachment begins once the device's LocationID and speed are
 * known: libusbmuxd does not pass them on, so a job on the registry's
 * worker thread asks usbmuxd itself (muxquery.c), and the answer comes
 * back to the loop. Until the USB topology replaces it (issue 6), the
 * port is keyed by that LocationID, in devices_port_key() alone. A
 * device that comes back within the reattach window continues the
 * attachment it left: the two are linked and the first one's end is
 * recorded as a reset.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "compat/compat.h"
#include "compat/tree.h"
#include "devices.h"
#include "log.h"
#include "lq-time.h"
#include "muxquery.h"
#include "store.h"
#include "worker.h"
#include "xmalloc.h"

struct device {
	char			 udid[44];
	uint32_t		 handle;	/* usbmuxd id, if attached */
	uint32_t		 product_id;
	int			 network;
	int			 attached;
	unsigned int		 attaches;	/* times seen arriving */
	int64_t			 since_us;	/* wall clock, last change */
	int64_t			 store_id;	/* devices.id, or 0 */
	int64_t			 attachment_id;	/* current, or 0 */
	int64_t			 last_attachment_id; /* the one before */
	int64_t			 detached_us;	/* when it last left */
	uint32_t		 location_id;	/* of the attachment, or 0 */
	uint64_t		 speed_bps;
	RB_ENTRY(device)	 entry;
};

/* A LocationID query on the worker, for the device that arrived. */
struct locate_job {
	struct worker_job	 job;		/* first: the worker's part */
	char			 udid[44];
	uint32_t		 handle;
	struct mux_location	 found[64];
	size_t			 nfound;
	int			 ret;
	char			*cause;
};

static int	device_cmp(struct device *, struct device *);
static void	devices_locate(struct device *);
RB_HEAD(device_tree, device);
RB_GENERATE_STATIC(device_tree, device, entry, device_cmp)

static struct device_tree	 tree = RB_INITIALIZER(&tree);
static struct store		*store;
static void			(*store_touched)(void);
static struct worker		*locator;
static int64_t			 host_id;
static int64_t			 reattach_window_us;

/* Order devices by UDID. */
static int
device_cmp(struct device *a, struct device *b)
{
	return (strcmp(a->udid, b->udid));
}

/* Read /etc/machine-id, the host's stable identity. */
static void
devices_machine_id(char *buf, size_t size)
{
	FILE	*fp;

	(void)strlcpy(buf, "unknown-machine", size);
	if ((fp = fopen("/etc/machine-id", "r")) == NULL)
		return;
	if (fgets(buf, (int)size, fp) == NULL)
		(void)strlcpy(buf, "unknown-machine", size);
	buf[strcspn(buf, "\n")] = '\0';
	(void)fclose(fp);
}

/*
 * Set the store, the function that says it has rows to commit, and the
 * reattach window; start the worker that asks usbmuxd for locations.
 */
void
devices_init(struct store *s, void (*touched)(void), int64_t window_us)
{
	char	machine[64], host[256];

	store = s;
	store_touched = touched;
	reattach_window_us = window_us;
	locator = worker_create("linkqd-locate");
	if (store == NULL)
		return;
	devices_machine_id(machine, sizeof(machine));
	if (gethostname(host, sizeof(host)) == -1)
		(void)strlcpy(host, "unknown-host", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	if ((host_id = store_host(store, machine, host)) < 0)
		host_id = 0;
	if (store_touched != NULL)
		store_touched();
}

/*
 * The port an attachment is on. Until linkqd reads the USB topology,
 * the only location it has is usbmuxd's LocationID (bus and device
 * number), so that is the key; this function is the one place to
 * change when the sysfs port path (issue 6) replaces it.
 */
static void
devices_port_key(uint32_t location_id, char *buf, size_t size)
{
	(void)snprintf(buf, size, "usbmuxd-location-0x%05x", location_id);
}

/* Find a device by UDID. */
static struct device *
device_find(const char *udid)
{
	struct device	key;

	(void)strlcpy(key.udid, udid, sizeof(key.udid));
	return (RB_FIND(device_tree, &tree, &key));
}

/* Worker thread: ask usbmuxd where its devices are. */
static void
devices_locate_run(struct worker_job *job)
{
	struct locate_job	*lj = (struct locate_job *)job;

	lj->ret = muxquery_list(lj->found, nitems(lj->found), &lj->nfound,
	    &lj->cause);
}

/* Begin the attachment of d at a location. */
static void
devices_attach(struct device *d, const struct mux_location *loc)
{
	struct store_attachment	 sa;
	struct store_event	 se;
	char			 key[64], detail[96];
	int64_t			 port_id, now = lq_wall_now_us();

	d->location_id = loc->location_id;
	d->speed_bps = loc->speed_bps;
	if (store == NULL || d->store_id == 0)
		return;
	devices_port_key(loc->location_id, key, sizeof(key));
	if ((port_id = store_port(store, host_id, key, -1)) < 0)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.device_id = d->store_id;
	sa.port_id = port_id;
	sa.mode = LQ_MODE_NORMAL;	/* usbmuxd sees normal mode only */
	sa.speed_mbps = (int)(loc->speed_bps / 1000000);
	sa.bus = (int)(loc->location_id >> 16);
	sa.devnum = (int)(loc->location_id & 0xffff);
	sa.location_id = loc->location_id;
	sa.started_us = now;
	if (d->last_attachment_id != 0 && d->detached_us != 0 &&
	    now - d->detached_us <= reattach_window_us)
		sa.previous_id = d->last_attachment_id;
	if ((d->attachment_id = store_attachment_begin(store, &sa)) < 0) {
		d->attachment_id = 0;
		return;
	}
	if (sa.previous_id != 0) {
		/* Back so soon: the device was reset, not unplugged. */
		(void)store_attachment_end(store, sa.previous_id,
		    d->detached_us, "reset");
		memset(&se, 0, sizeof(se));
		se.ts_us = now;
		se.source = "usbmuxd";
		se.kind = "reenumeration";
		se.host_id = host_id;
		se.port_id = port_id;
		se.attachment_id = d->attachment_id;
		(void)snprintf(detail, sizeof(detail), "back after %lld ms",
		    (long long)((now - d->detached_us) / 1000));
		se.detail = detail;
		(void)store_event(store, &se);
		log_info("device %s: %s, linked to attachment %lld",
		    d->udid, detail, (long long)sa.previous_id);
	}
	if (store_touched != NULL)
		store_touched();
	log_info("device %s: attachment %lld on %s at %llu Mb/s", d->udid,
	    (long long)d->attachment_id, key,
	    (unsigned long long)(loc->speed_bps / 1000000));
}

/* Loop thread: the locations are known; attach if still there. */
static void
devices_locate_done(struct worker_job *job)
{
	struct locate_job	*lj = (struct locate_job *)job;
	struct device		*d;
	size_t			 i;

	d = device_find(lj->udid);
	if (lj->ret == -1)
		log_warnx("device %s: no location: %s", lj->udid, lj->cause);
	else if (d != NULL && d->attached && d->handle == lj->handle &&
	    d->attachment_id == 0) {
		for (i = 0; i < lj->nfound; i++) {
			if (lj->found[i].handle == lj->handle) {
				devices_attach(d, &lj->found[i]);
				break;
			}
		}
		if (i == lj->nfound)
			log_warnx("device %s: usbmuxd did not list it",
			    lj->udid);
	}
	free(lj->cause);
	free(lj);
}

/* Ask, on the worker, where the device just attached is. */
static void
devices_locate(struct device *d)
{
	struct locate_job	*lj;

	if (locator == NULL)
		return;
	lj = xcalloc(1, sizeof(*lj));
	worker_job_init(&lj->job, devices_locate_run, devices_locate_done);
	(void)strlcpy(lj->udid, d->udid, sizeof(lj->udid));
	lj->handle = d->handle;
	worker_submit(locator, &lj->job);
}

/* A device appeared: remember it, write it to the store. */
static void
devices_add(const struct mux_event *ev)
{
	struct store_device	 sd;
	struct device		*d;

	if ((d = device_find(ev->udid)) == NULL) {
		d = xcalloc(1, sizeof(*d));
		(void)strlcpy(d->udid, ev->udid, sizeof(d->udid));
		RB_INSERT(device_tree, &tree, d);
	}
	d->handle = ev->handle;
	d->product_id = ev->product_id;
	d->network = ev->network;
	d->attached = 1;
	d->attaches++;
	d->since_us = lq_wall_now_us();
	log_info("device %s attached (usbmuxd id %u%s)", d->udid, d->handle,
	    d->network ? ", network: not tested" : "");
	if (store == NULL || d->network)
		return;
	memset(&sd, 0, sizeof(sd));
	sd.udid = d->udid;
	sd.seen_us = d->since_us;
	if ((d->store_id = store_device(store, &sd)) < 0)
		d->store_id = 0;
	else if (store_touched != NULL)
		store_touched();
	devices_locate(d);
}

/* A device went away; usbmuxd names it by handle only. */
static void
devices_remove(const struct mux_event *ev)
{
	struct device	*d;

	RB_FOREACH(d, device_tree, &tree) {
		if (d->attached && d->handle == ev->handle)
			break;
	}
	if (d == NULL) {
		log_debug("usbmuxd removed unknown device id %u", ev->handle);
		return;
	}
	d->attached = 0;
	d->since_us = lq_wall_now_us();
	log_info("device %s detached (usbmuxd id %u)", d->udid, d->handle);
	if (d->attachment_id == 0)
		return;
	/* An unplug unless it comes back within the reattach window. */
	if (store_attachment_end(store, d->attachment_id, d->since_us,
	    "unplug") == 0 && store_touched != NULL)
		store_touched();
	d->last_attachment_id = d->attachment_id;
	d->detached_us = d->since_us;
	d->attachment_id = 0;
	d->location_id = 0;
	d->speed_bps = 0;
}

/* Take one usbmuxd event. */
void
devices_mux_event(const struct mux_event *ev, void *unused)
{
	(void)unused;
	switch (ev->kind) {
	case MUX_EVENT_ADD:
		devices_add(ev);
		break;
	case MUX_EVENT_REMOVE:
		devices_remove(ev);
		break;
	case MUX_EVENT_PAIRED:
		log_info("usbmuxd id %u: paired", ev->handle);
		break;
	}
}

/* The devices as JSON. */
json_t *
devices_json(void)
{
	struct device	*d;
	json_t		*list, *o;

	list = json_array();
	RB_FOREACH(d, device_tree, &tree) {
		o = json_pack("{s:s, s:b, s:s, s:i, s:I, s:i}",
		    "udid", d->udid,
		    "attached", d->attached,
		    "connection", d->network ? "network" : "usb",
		    "product_id", (int)d->product_id,
		    "since_us", (json_int_t)d->since_us,
		    "attaches", (int)d->attaches);
		if (d->attached)
			(void)json_object_set_new(o, "usbmuxd_id",
			    json_integer(d->handle));
		if (d->attachment_id != 0) {
			(void)json_object_set_new(o, "attachment_id",
			    json_integer(d->attachment_id));
			(void)json_object_set_new(o, "location_id",
			    json_integer(d->location_id));
			(void)json_object_set_new(o, "speed_mbps",
			    json_integer((json_int_t)(d->speed_bps /
			    1000000)));
		}
		(void)json_array_append_new(list, o);
	}
	return (list);
}

/* How many devices are attached now. */
unsigned int
devices_attached(void)
{
	struct device	*d;
	unsigned int	 n = 0;

	RB_FOREACH(d, device_tree, &tree)
		n += d->attached;
	return (n);
}

/* Stop the worker and forget every device. */
void
devices_clear(void)
{
	struct device	*d, *next;

	worker_free(locator);
	locator = NULL;

	RB_FOREACH_SAFE(d, device_tree, &tree, next) {
		RB_REMOVE(device_tree, &tree, d);
		free(d);
	}
}
