/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The kernel's evidence in the registry (devices-int.h): findings of
 * the kernel's log (kmsg.c) and of usbmon (usbmon.c) become events of
 * the port and the attachment they name, and evidence of its run.
 * Loop thread.
 */



#include <stdint.h>
#include <stdio.h>
#include <string.h>


#include "compat/compat.h"
#include "devices.h"
#include "devices-int.h"
#include "events.h"
#include "kmsg.h"
#include "log.h"
#include "run.h"
#include "store.h"

/*
 * The attachment of d that a kernel message about its port belongs to:
 * the current one, or the one it left within the reattach window (the
 * kernel and usbmuxd tell of the same episode in either order); else 0.
 */
static int64_t
devices_kernel_attachment(struct device *d, int64_t now)
{
	if (d->attached && d->attachment_id != 0)
		return (d->attachment_id);
	if (!d->attached && d->last_attachment_id != 0 &&
	    now - d->detached_us <= reg.reattach_window_us)
		return (d->last_attachment_id);
	return (0);
}

/* Whether finding f is about d's port (or the hub port above it). */
static int
devices_kernel_match(struct device *d, const struct kmsg_finding *f)
{
	char	bus[16];

	if (d->network || d->port_key[0] == '\0')
		return (0);
	if (f->port[0] != '\0')
		return (kmsg_port_under(d->port_key, f->port));
	/* The host controller or root hub: each device on its bus. */
	if (strcmp(f->kind, "hc-failure") != 0 &&
	    strcmp(f->kind, "over-current") != 0)
		return (0);
	if (f->bus < 0)
		return (1);	/* which bus is not known: all of them */
	(void)snprintf(bus, sizeof(bus), "%d-", f->bus);
	return (strncmp(d->port_key, bus, strlen(bus)) == 0);
}

/* Record one kernel event; add it to the run going on, if any. */
static void
devices_kernel_event(const struct kmsg_finding *f, const char *text,
    int64_t ts_us, int64_t port_id, int64_t attachment_id)
{
	struct store_event	 se;
	struct run		*r;

	memset(&se, 0, sizeof(se));
	se.ts_us = ts_us;
	se.source = "kmsg";
	se.kind = f->kind;
	se.host_id = reg.host_id;
	se.port_id = port_id;
	se.attachment_id = attachment_id;
	se.errnum = f->errnum;
	se.detail = text;
	if (attachment_id != 0 &&
	    (r = run_episode(attachment_id, ts_us)) != NULL)
		se.run_id = run_id(r);
	(void)events_record(&se);
	if (attachment_id != 0 && !f->disconnect)
		run_kernel_event(attachment_id, ts_us, f->kind, f->errnum,
		    f->port, text);
}

/*
 * A finding of the kernel's log: an event of the port it names, once
 * for each attachment there (or once without one), and evidence of the
 * runs going on. A port is recorded even if no device is on it: a port
 * that fails to enumerate anything is worth knowing about.
 */
void
devices_kernel_finding(const struct kmsg_finding *f, const char *text,
    int64_t ts_us)
{
	struct device	*d;
	int64_t		 port_id = 0, att, devport;
	int		 n = 0, depth = -1;
	const char	*p;

	if (reg.store == NULL)
		return;
	if (f->port[0] != '\0') {
		for (depth = 0, p = f->port; *p != '\0'; p++)
			depth += *p == '.';
		if ((port_id = store_port(reg.store, reg.host_id, f->port,
		    depth)) < 0)
			port_id = 0;
	}
	RB_FOREACH(d, device_tree, &reg.tree) {
		if (!devices_kernel_match(d, f) ||
		    (att = devices_kernel_attachment(d, ts_us)) == 0)
			continue;
		devport = port_id;
		if (devport == 0)
			devport = d->port_id != 0 ? d->port_id :
			    store_port(reg.store, reg.host_id, d->port_key, -1);
		devices_kernel_event(f, text, ts_us, devport < 0 ? 0 :
		    devport, att);
		n++;
	}
	if (n == 0)
		devices_kernel_event(f, text, ts_us, port_id, 0);
}

/*
 * The attachment of d with bus and devnum: its current one, or the one
 * it left within the reattach window (usbmuxd drops a device after the
 * failed transfer usbmon saw, before the burst is handed on); else 0.
 * *port_id and port get its port.
 */
static int64_t
devices_usbmon_attachment(struct device *d, int bus, int devnum,
    int64_t now, int64_t *port_id, char *port, size_t size)
{
	int64_t	ids[2], id = 0;
	size_t	i;

	if (d->network)
		return (0);
	ids[0] = d->attached ? d->attachment_id : 0;
	ids[1] = d->last_attachment_id != 0 && d->detached_us != 0 &&
	    now - d->detached_us <= reg.reattach_window_us ?
	    d->last_attachment_id : 0;
	for (i = 0; i < nitems(ids) && id == 0; i++) {
		if (ids[i] != 0 && store_attachment_port(reg.store, ids[i],
		    bus, devnum, port_id, port, size) == 1)
			id = ids[i];
	}
	return (id);
}

/*
 * A burst of link errors usbmon saw on bus/devnum: an urb-error event of
 * the attachment there and evidence of its run. A device linkqd does
 * not track (a keyboard's errors) records nothing.
 */
void
devices_usbmon_finding(int bus, int devnum, int status, int64_t ts_us,
    const char *detail)
{
	struct store_event	 se;
	struct device		*d;
	struct run		*r;
	char			 port[64];
	int64_t			 att = 0, port_id = 0;

	if (reg.store == NULL)
		return;
	RB_FOREACH(d, device_tree, &reg.tree) {
		if ((att = devices_usbmon_attachment(d, bus, devnum, ts_us,
		    &port_id, port, sizeof(port))) != 0)
			break;
	}
	if (d == NULL) {
		log_debug("usbmon: bus %d device %d is no attachment's: %s",
		    bus, devnum, detail);
		return;
	}
	memset(&se, 0, sizeof(se));
	se.ts_us = ts_us;
	se.source = "usbmon";
	se.kind = "urb-error";
	se.host_id = reg.host_id;
	se.port_id = port_id;
	se.attachment_id = att;
	se.errnum = status;
	se.detail = detail;
	if ((r = run_episode(att, ts_us)) != NULL)
		se.run_id = run_id(r);
	(void)events_record(&se);
	run_kernel_event(att, ts_us, "urb-error", status, port, detail);
}
