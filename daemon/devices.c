/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The device registry (contract in devices.h): a red-black tree of the
 * devices usbmuxd has reported since linkqd started. A device stays in
 * the tree when it goes away, marked detached, so that its history in
 * this process (how often it came and went) is kept; the store keeps it
 * for good.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "compat/compat.h"
#include "compat/tree.h"
#include "devices.h"
#include "log.h"
#include "lq-time.h"
#include "store.h"
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
	RB_ENTRY(device)	 entry;
};

static int	device_cmp(struct device *, struct device *);
RB_HEAD(device_tree, device);
RB_GENERATE_STATIC(device_tree, device, entry, device_cmp)

static struct device_tree	 tree = RB_INITIALIZER(&tree);
static struct store		*store;
static void			(*store_touched)(void);

/* Order devices by UDID. */
static int
device_cmp(struct device *a, struct device *b)
{
	return (strcmp(a->udid, b->udid));
}

/* Set the store and the function that says it has rows to commit. */
void
devices_init(struct store *s, void (*touched)(void))
{
	store = s;
	store_touched = touched;
}

/* Find a device by UDID. */
static struct device *
device_find(const char *udid)
{
	struct device	key;

	(void)strlcpy(key.udid, udid, sizeof(key.udid));
	return (RB_FIND(device_tree, &tree, &key));
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

/* Forget every device. */
void
devices_clear(void)
{
	struct device	*d, *next;

	RB_FOREACH_SAFE(d, device_tree, &tree, next) {
		RB_REMOVE(device_tree, &tree, d);
		free(d);
	}
}
