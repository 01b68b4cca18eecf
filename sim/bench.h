/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The simulated bench: ports and cables with their fault profiles, which
 * device is plugged where, and what happens when it is plugged,
 * unplugged, dropped by a USB error or reset. How the link between a
 * device and the host shapes each transfer is link.c's.
 *
 * Everything random comes from per-device streams seeded by --seed and
 * the device's index, one for byte-driven and one for time-driven
 * faults, so a scenario replays identically. What happens is written
 * to the event log (evlog.h).
 *
 * Functions take the simulator lock themselves unless they say "call
 * with the lock held"; none is called with it held.
 */

#ifndef LQ_SIM_BENCH_H
#define LQ_SIM_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "compat/queue.h"
#include "scenario.h"

struct sim_device;

struct bench_port {
	char			*name;
	char			*path;		/* "1-4.2" */
	char			*label;
	int			 bus;
	int			 hub_depth;
	struct fault		 fault;
	unsigned int		 over_current_count; /* as sysfs shows */
	struct sim_device	*device;	/* plugged here, or NULL */
	TAILQ_ENTRY(bench_port)	 entry;
};

struct bench_cable {
	char			*name;
	char			*label;
	struct fault		 fault;
	double			 flex;		/* rates times this; 0: none */
	uint64_t		 flex_gen;	/* voids an old flex's end */
	struct sim_device	*device;	/* through it, or NULL */
	TAILQ_ENTRY(bench_cable) entry;
};

/* Set the seed of every random stream. Call before adding devices. */
void	bench_init(uint64_t);
void	bench_add_port(const struct scn_port *);
void	bench_add_cable(const struct scn_cable *);
/* Make a device; NULL udid: one derived from the seed. */
struct sim_device *bench_add_device(const struct scn_device *, const char *,
	    const char *, char **);
/* Schedule a scenario's timeline from now on. */
void	bench_schedule(const struct scenario *);

struct sim_device *bench_find_device(const char *);

/* Actions; each returns 0, or -1 with *cause allocated. */
int	bench_plug(struct sim_device *, const char *, const char *, char **);
int	bench_unplug(struct sim_device *, char **);
int	bench_drop(struct sim_device *, enum fault_drop_mode, char **);
int	bench_link_error(struct sim_device *, char **);
int	bench_stall(struct sim_device *, int64_t, char **);
int	bench_set_fault(const char *, const char *, char **);
/* Wiggle a cable: its rates times factor for us microseconds. */
int	bench_flex(const char *, int64_t, double, char **);
int	bench_trust(struct sim_device *, int, char **);
/* Boot the device into a mode: it leaves the bus and enumerates again. */
int	bench_mode(struct sim_device *, enum sim_mode, char **);
/*
 * Show the bench's hubs to umockdev (--umockdev): a root hub per bus
 * and a hub per inner component of every port path. Call once, after
 * the ports and devices are added and before anything is plugged.
 */
void	bench_add_hubs(void);

/*
 * For hostfault.c, which cuts the power or the controller of many
 * ports at once. Call with the lock held.
 */
struct bench_port *bench_port_next(struct bench_port *); /* NULL: first */
struct bench_port *bench_port_find(const char *);
int	bench_next_devnum(int);
/*
 * The device loses power or its host: off the bus and out of usbmuxd
 * at once, still on its port. Returns the DeviceID to announce as
 * Detached (mux_notify_detached, without the lock), or 0.
 */
uint32_t bench_power_off(struct sim_device *);
/* Power is back: the device enumerates after its reset delay. */
void	bench_power_on(struct sim_device *);

#endif /* LQ_SIM_BENCH_H */
