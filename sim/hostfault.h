/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Faults of the host's side of the bench, which hit many ports at once
 * and no cable: a host controller that dies (and recovers), an
 * over-current on a port or a hub, and a hub that drops off the bus and
 * comes back. Each writes the kernel's lines (kernel.h), the sysfs
 * counter where the kernel keeps one, and an event (evlog.h), and takes
 * the devices it cuts off out of usbmuxd.
 *
 * The actions take the simulator lock themselves and return 0, or -1
 * with *cause allocated.
 */

#ifndef LQ_SIM_HOSTFAULT_H
#define LQ_SIM_HOSTFAULT_H

/* The controller of a bus dies: every device on it (and its twin) goes. */
int	hostfault_hc_died(int, char **);
/* It is bound again: the devices on its ports enumerate. */
int	hostfault_hc_recover(int, char **);
/* An over-current on a port (by name) or a hub ("1-4", "usb1"). */
int	hostfault_over_current(const char *, char **);
/* A hub drops off the bus and comes back; the devices below with it. */
int	hostfault_hub_reset(const char *, char **);
/* Whether bus's controller is dead. Call with the lock held. */
int	hostfault_bus_dead(int);

#endif /* LQ_SIM_HOSTFAULT_H */
