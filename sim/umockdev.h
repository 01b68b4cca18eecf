/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The simulated bench as the real libusb sees it (--umockdev): a
 * umockdev testbed with a root hub per bus, a hub for every inner
 * component of a port path, and each enumerated device at its port path
 * (/sys/devices/usbB/1-4/1-4.2, node /dev/bus/usb/BBB/DDD) with its
 * sysfs attributes and descriptors. A process run with umockdev's
 * preload and UMOCKDEV_DIR set to umockdev_root() sees those devices
 * come and go through udev, and its usbdevfs calls on a device's node
 * are answered here: ep0 control transfers (descriptors, GET_STATUS,
 * SET_CONFIGURATION), shaped by the device's link (link_control).
 *
 * The simulator itself must run under the preload (umockdev-wrapper),
 * or the testbed cannot send uevents; umockdev_open refuses otherwise.
 *
 * Threading: umockdev_add_hub, umockdev_add and umockdev_remove are
 * called with the simulator lock held (bench.c), which orders them.
 * The usbdevfs calls are answered on umockdev's worker thread, which
 * takes the simulator lock only inside link_control and never waits for
 * anything else. Without --umockdev every function does nothing.
 */

#ifndef LQ_SIM_UMOCKDEV_H
#define LQ_SIM_UMOCKDEV_H

#include <stdint.h>

#include "scenario.h"

struct sim_device;

/* One enumeration of a device, as umockdev_add shows it. */
struct umockdev_dev {
	struct sim_device	*dev;		/* whose link shapes ep0 */
	uint64_t		 usb_gen;	/* dev->usb_gen of this one */
	const char		*path;		/* port path, "1-4.2" */
	int			 bus;
	int			 devnum;
	int			 speed_mbps;	/* 12, 480, 5000, 10000 */
	enum sim_mode		 mode;
	uint16_t		 product_id;
	const char		*product;	/* string descriptor 2 */
	const char		*serial;	/* string descriptor 3 */
};

/*
 * Make the testbed and set UMOCKDEV_DIR. Returns 0, or -1 with *cause
 * allocated (not under the preload, or umockdev not built in).
 */
int		 umockdev_open(char **);
/* The testbed's directory, or NULL when --umockdev is off. */
const char	*umockdev_root(void);
/*
 * Add a hub: a root hub "usbB" (parent NULL, devnum 1) or the hub at
 * an inner port path ("1-4", parent "usb1" or "1-4" for "1-4.2"). Lock.
 */
void		 umockdev_add_hub(const char *, const char *, int, int, int);
/* Add an enumerated device; its parent hubs exist. Lock held. */
void		 umockdev_add(const struct umockdev_dev *);
/* Remove the device at a port path: uevent "remove", then gone. Lock. */
void		 umockdev_remove(const char *);
/* Remove the testbed and its directory. */
void		 umockdev_close(void);

#endif /* LQ_SIM_UMOCKDEV_H */
