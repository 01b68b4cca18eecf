/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * What the simulated kernel says: records in /dev/kmsg format and
 * usbmon text lines, each written to a file of its own (--kmsg PATH,
 * --usbmon PATH).
 *
 * Both files are regular files opened for appending; each record goes
 * out with one write(2), so a reader sees whole records. A reader
 * follows them without busy-polling by waiting for IN_MODIFY with
 * inotify(7) (as `tail -F` does) and reading what was appended. A kmsg
 * record is "prio,seq,usec,-;text\n" followed by " SUBSYSTEM=usb\n" and
 * " DEVICE=..." continuation lines, usec being CLOCK_MONOTONIC in
 * microseconds, as the kernel's. Safe on any thread.
 */

#ifndef LQ_SIM_KERNEL_H
#define LQ_SIM_KERNEL_H

#include <stddef.h>

#include "compat/compat.h"

/* Open the outputs (either may be NULL: not written). 0 or -1 + cause. */
int	kernel_open(const char *, const char *, char **);
/*
 * Write one kmsg record at a syslog level (3 err, 4 warning, 6 info);
 * device is the DEVICE= value ("c189:1", "+usb:1-1") or NULL for none.
 */
void	kmsg(int, const char *, const char *, ...) printflike(3, 4);
/* Write one usbmon text event: URB tag, type S/C/E, address word, status,
 * length, e.g. usbmon('C', "Bi", 1, 5, 1, -71, 0). */
void	usbmon(char, const char *, int, int, int, int, int);

/*
 * How the kernel names things in its lines: the hub port a device path
 * hangs off ("1-4-port2", "usb1-port4"), a device's character device as
 * DEVICE= gives it ("c189:4"), and a speed in the words of "new ... USB
 * device number" ("high-speed").
 */
void	kernel_port_name(const char *, char *, size_t);
void	kernel_devt(int, int, char *, size_t);
const char *kernel_speed_words(int);

#endif /* LQ_SIM_KERNEL_H */
