/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Faults of the host's side (contract in hostfault.h).
 *
 * DESIGN
 * An xHCI controller drives two buses, a high-speed one and its
 * SuperSpeed twin (odd bus 2k-1 and even bus 2k here), so when it dies
 * both go. The lines are the kernel's: xhci_hc_died (xhci-ring.c) warns
 * "xHCI host controller not responding, assume dead" and calls
 * usb_hc_died (hcd.c), "HC died; cleaning up", after which the hub
 * driver disconnects every device below the root hubs. They come with
 * the controller's PCI name, "xhci_hcd 0000:00:14.0: ...". A dead bus
 * stays dead, whatever is plugged into it, until hc-recover binds the
 * driver again (usb_add_hcd's "xHCI Host Controller" and hcd.c
 * usb_register_bus's "new USB bus registered, assigned bus number N").
 *
 * An over-current is hub.c port_event's: it bumps the port's
 * over_current_count, re-powers the port after a cool-down and, if the
 * condition is still there, says "over-current condition" on the port
 * device ("usb usb1-port2: ..."). The line means the fault persists, so
 * the device stays off until it is unplugged. On a hub, hub_event says
 * it on the hub's interface ("hub 1-4:1.0: ...") and every port below
 * loses power; no port's counter moves.
 *
 * A hub reset is a hub dropping off the bus and coming back, as one on
 * a marginal supply does: usb_disconnect prints the hub's line and then
 * each child's, and the devices enumerate again after their reset
 * delay.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "compat/compat.h"
#include "evlog.h"
#include "hostfault.h"
#include "kernel.h"
#include "sim.h"
#include "sysfs.h"
#include "xmalloc.h"

#define HF_BUS_MAX	128

/* Guarded by sim_lock. */
static int	hf_dead[HF_BUS_MAX];		/* by bus */
static int	hf_hub_devnum[HF_BUS_MAX][256];	/* 1-N hubs only */

/* The twin of a bus on the same xHCI controller. */
static int
hf_twin(int bus)
{
	return (bus % 2 == 1 ? bus + 1 : bus - 1);
}

/* The controller's PCI name: the first is the usual Intel one. */
static void
hf_controller(int bus, char *buf, size_t size)
{
	int	k = (bus - 1) / 2;

	if (k == 0)
		(void)strlcpy(buf, "0000:00:14.0", size);
	else
		(void)snprintf(buf, size, "0000:%02x:00.0", k);
}

/* Whether bus's controller is dead. Lock held. */
int
hostfault_bus_dead(int bus)
{
	return (bus > 0 && bus < HF_BUS_MAX && hf_dead[bus]);
}

/* Whether a bus number is one a port may have. */
static int
hf_bus_ok(int bus, char **cause)
{
	if (bus >= 1 && bus < HF_BUS_MAX - 1)
		return (1);
	xasprintf(cause, "bus %d: expected a bus from 1 to %d", bus,
	    HF_BUS_MAX - 2);
	return (0);
}

/* Announce the devices cut off as Detached, without the lock. */
static void
hf_notify(uint32_t *ids, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (ids[i] != 0)
			mux_notify_detached(ids[i]);
	free(ids);
}

/*
 * Cut off the device on every port that match() accepts; collect the
 * DeviceIDs to announce. Lock held.
 */
static size_t
hf_cut(int (*match)(const struct bench_port *, const void *),
    const void *arg, uint32_t **ids, const char *why)
{
	struct bench_port	*p;
	size_t			 n = 0;

	*ids = NULL;
	for (p = bench_port_next(NULL); p != NULL; p = bench_port_next(p)) {
		if (p->device == NULL || !match(p, arg))
			continue;
		*ids = xreallocarray(*ids, n + 1, sizeof(**ids));
		(*ids)[n++] = bench_power_off(p->device);
		evlog_add("%s %s", why, p->device->bench_name);
	}
	return (n);
}

/* A port on bus *arg or its twin. */
static int
hf_match_controller(const struct bench_port *p, const void *arg)
{
	int	bus = *(const int *)arg;

	return (p->bus == bus || p->bus == hf_twin(bus));
}

/* A port below hub arg. */
static int
hf_match_hub(const struct bench_port *p, const void *arg)
{
	return (scn_path_under(p->path, arg));
}

/* The port arg itself. */
static int
hf_match_port(const struct bench_port *p, const void *arg)
{
	return (p == arg);
}

/* The controller of bus dies. */
int
hostfault_hc_died(int bus, char **cause)
{
	char		 name[32];
	uint32_t	*ids;
	size_t		 n;

	*cause = NULL;
	if (!hf_bus_ok(bus, cause))
		return (-1);
	sim_lock();
	if (hf_dead[bus]) {
		sim_unlock();
		xasprintf(cause, "the host controller of bus %d is dead "
		    "already", bus);
		return (-1);
	}
	hf_controller(bus, name, sizeof(name));
	/* xhci-ring.c: a command timed out, then xhci_hc_died. */
	kmsg(4, NULL, "xhci_hcd %s: xHCI host not responding to stop "
	    "endpoint command", name);
	kmsg(3, NULL, "xhci_hcd %s: xHCI host controller not responding, "
	    "assume dead", name);
	/* hcd.c usb_hc_died. */
	kmsg(3, NULL, "xhci_hcd %s: HC died; cleaning up", name);
	hf_dead[bus] = hf_dead[hf_twin(bus)] = 1;
	evlog_add("hc-died %d %d", bus < hf_twin(bus) ? bus : hf_twin(bus),
	    bus < hf_twin(bus) ? hf_twin(bus) : bus);
	n = hf_cut(hf_match_controller, &bus, &ids, "hc-lost");
	sim_unlock();
	hf_notify(ids, n);
	return (0);
}

/* The controller of bus is bound again; its devices enumerate. */
int
hostfault_hc_recover(int bus, char **cause)
{
	struct bench_port	*p;
	char			 name[32];
	int			 b;

	*cause = NULL;
	if (!hf_bus_ok(bus, cause))
		return (-1);
	sim_lock();
	if (!hf_dead[bus]) {
		sim_unlock();
		xasprintf(cause, "the host controller of bus %d is not dead",
		    bus);
		return (-1);
	}
	hf_controller(bus, name, sizeof(name));
	kmsg(6, NULL, "xhci_hcd %s: xHCI Host Controller", name);
	for (b = bus < hf_twin(bus) ? bus : hf_twin(bus);
	    b <= (bus < hf_twin(bus) ? hf_twin(bus) : bus); b++) {
		kmsg(6, NULL, "xhci_hcd %s: new USB bus registered, assigned "
		    "bus number %d", name, b);
		hf_dead[b] = 0;
	}
	evlog_add("hc-recover %d", bus);
	for (p = bench_port_next(NULL); p != NULL; p = bench_port_next(p))
		if (p->device != NULL && hf_match_controller(p, &bus))
			bench_power_on(p->device);
	sim_unlock();
	return (0);
}

/* Bump a port's over_current_count, in sysfs too. Lock held. */
static void
hf_count_over_current(struct bench_port *p)
{
	char	v[16];

	p->over_current_count++;
	(void)snprintf(v, sizeof(v), "%u", p->over_current_count);
	sysfs_port_attr(p->path, "over_current_count", v);
}

/* An over-current on a port, or on every port below a hub. */
int
hostfault_over_current(const char *target, char **cause)
{
	struct bench_port	*p;
	char			 port_dev[64];
	const char		*dot;
	uint32_t		*ids;
	size_t			 n;

	*cause = NULL;
	sim_lock();
	if ((p = bench_port_find(target)) != NULL) {
		hf_count_over_current(p);
		kernel_port_name(p->path, port_dev, sizeof(port_dev));
		kmsg(3, NULL, "usb %s: over-current condition", port_dev);
		evlog_add("over-current %s", p->name);
		n = hf_cut(hf_match_port, p, &ids, "power-lost");
	} else {
		for (p = bench_port_next(NULL); p != NULL;
		    p = bench_port_next(p))
			if (scn_path_under(p->path, target))
				break;
		if (p == NULL) {
			sim_unlock();
			xasprintf(cause, "no port called %s, nor a port below "
			    "a hub %s", target, target);
			return (-1);
		}
		/* hub_event names the hub's interface, B-0:1.0 at the root. */
		dot = strncmp(target, "usb", 3) == 0 ? target + 3 : NULL;
		kmsg(3, NULL, "hub %s%s:1.0: over-current condition",
		    dot != NULL ? dot : target, dot != NULL ? "-0" : "");
		evlog_add("over-current %s", target);
		n = hf_cut(hf_match_hub, target, &ids, "power-lost");
	}
	sim_unlock();
	hf_notify(ids, n);
	return (0);
}

/* The device number of the hub at path on bus: made up at first use. */
static int
hf_hub_number(const char *path, int bus, int fresh)
{
	const char	*dash = strchr(path, '-');
	int		 port;

	/* Only a hub on a root port keeps a number here; deeper, a new one. */
	port = dash != NULL && strchr(path, '.') == NULL ?
	    (int)strtol(dash + 1, NULL, 10) : 0;
	if (port <= 0 || port > 255)
		return (bench_next_devnum(bus));
	if (fresh || hf_hub_devnum[bus][port] == 0)
		hf_hub_devnum[bus][port] = bench_next_devnum(bus);
	return (hf_hub_devnum[bus][port]);
}

/* A hub drops off the bus; it and the devices below come back. */
int
hostfault_hub_reset(const char *hub, char **cause)
{
	struct bench_port	*p;
	char			 devt[32];
	uint32_t		*ids;
	size_t			 n;
	int			 bus, devnum;

	*cause = NULL;
	if (strncmp(hub, "usb", 3) == 0) {
		xasprintf(cause, "hub-reset %s: a root hub is its controller; "
		    "use hc-died", hub);
		return (-1);
	}
	sim_lock();
	for (p = bench_port_next(NULL); p != NULL; p = bench_port_next(p))
		if (scn_path_under(p->path, hub))
			break;
	if (p == NULL) {
		sim_unlock();
		xasprintf(cause, "no port below a hub %s", hub);
		return (-1);
	}
	bus = p->bus;
	if (hostfault_bus_dead(bus)) {
		sim_unlock();
		xasprintf(cause, "bus %d is dead: hub %s is gone already", bus,
		    hub);
		return (-1);
	}
	/* usb_disconnect: the hub's line first, then each child's. */
	devnum = hf_hub_number(hub, bus, 0);
	kernel_devt(bus, devnum, devt, sizeof(devt));
	kmsg(6, devt, "usb %s: USB disconnect, device number %d", hub,
	    devnum);
	evlog_add("hub-reset %s", hub);
	n = hf_cut(hf_match_hub, hub, &ids, "hub-lost");
	devnum = hf_hub_number(hub, bus, 1);
	(void)snprintf(devt, sizeof(devt), "+usb:%s", hub);
	kmsg(6, devt, "usb %s: new high-speed USB device number %d using "
	    "xhci_hcd", hub, devnum);
	for (p = bench_port_next(NULL); p != NULL; p = bench_port_next(p))
		if (p->device != NULL && scn_path_under(p->path, hub))
			bench_power_on(p->device);
	sim_unlock();
	hf_notify(ids, n);
	return (0);
}
