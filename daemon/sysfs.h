/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * A USB device's port from sysfs: the directory of
 * ROOT/bus/usb/devices whose busnum and devnum match is named after the
 * port path (1-4.3: bus 1, root port 4, hub port 3). This is how linkqd
 * turns usbmuxd's LocationID (bus << 16 | device number) into a port
 * that stays the same from one plug to the next. Any thread; it only
 * reads files.
 */

#ifndef LQ_SYSFS_H
#define LQ_SYSFS_H

#include <stddef.h>

/* Find the port of (bus, devnum) below root; 0, or -1 if none. */
int	sysfs_port_path(const char *, int, int, char *, size_t);
/*
 * The speed the kernel negotiated with the device on port (its sysfs
 * "speed", in Mb/s), or -1 if unknown or below 12 (1.5: low speed).
 */
int	sysfs_speed(const char *, const char *);

#endif /* LQ_SYSFS_H */
