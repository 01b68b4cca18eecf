/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The USB devices of the simulated bench as sysfs shows them
 * (--sysfs DIR): DIR/bus/usb/devices/<port path>/ with the attribute
 * files a host reads to find a device's port (busnum, devnum, devpath,
 * speed, idVendor, idProduct, serial, product, manufacturer). A device
 * is there from its enumeration until it leaves the bus, so a stranded
 * device stays, as on a real host. Each directory is written under a
 * hidden name and renamed into place, so a reader never sees half a
 * device. Safe on any thread; without --sysfs nothing is written.
 */

#ifndef LQ_SIM_SYSFS_H
#define LQ_SIM_SYSFS_H

#include <stdint.h>

/* Create DIR/bus/usb/devices (path NULL: off). 0, or -1 and *cause. */
int	sysfs_open(const char *, char **);
/*
 * Add the device at port path with its bus, device number, speed,
 * product ID, product string and serial number string.
 */
void	sysfs_add(const char *, int, int, int, uint16_t, const char *,
	    const char *);
/* Remove the device at port path. */
void	sysfs_remove(const char *);
/*
 * Write an attribute of the hub port a device path hangs off, where the
 * kernel keeps it: below the hub's interface, as in
 * 1-0:1.0/usb1-port2/over_current_count (drivers/usb/core/port.c).
 */
void	sysfs_port_attr(const char *, const char *, const char *);

#endif /* LQ_SIM_SYSFS_H */
