/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The link model (contract in link.h).
 *
 * DESIGN
 * Byte-driven faults (a drop or a flipped bit every so many megabytes
 * on average) are exponential distances in bytes drawn from the
 * device's byte stream, counted down by every transfer. Waiting is a
 * sleep until an absolute CLOCK_MONOTONIC instant, outside the lock: the
 * connection's own thread sleeps, never the clock thread or umockdev's.
 */

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "bench.h"		/* struct bench_port: the path */
#include "evlog.h"
#include "kernel.h"
#include "link.h"
#include "lq-time.h"
#include "rng.h"
#include "sim.h"

/* Set once at start, before any connection. */
static link_drop_fn	drop_handler;

/* Set who takes a device off the bench when the link drops it. */
void
link_set_drop_handler(link_drop_fn fn)
{
	drop_handler = fn;
}

/* Draw the byte distances to the next drop and flipped bit. */
void
link_relink(struct sim_device *dev)
{
	struct fault	*f = &dev->fault;

	dev->bytes_to_drop = f->drop_per_mb > 0 ?
	    rng_exp(&dev->rng_bytes, 1e6 / f->drop_per_mb) : 0;
	dev->bytes_to_corrupt = f->corrupt_per_mb > 0 ?
	    rng_exp(&dev->rng_bytes, 1e6 / f->corrupt_per_mb) : 0;
}

/* Shape one transfer on dev's link; -1 if the link drops the device. */
int
link_transfer(struct sim_device *dev, size_t n, int to_host)
{
	struct timespec		 ts;
	struct fault		*f = &dev->fault;
	enum fault_drop_mode	 mode;
	int64_t			 now, until, start;

	sim_lock();
	if (dev->port == NULL || !dev->plugged) {
		sim_unlock();
		return (-1);
	}
	now = lq_mono_now().us;
	until = dev->stall_until_us > now ? dev->stall_until_us : now;
	if (f->drop_per_mb > 0) {
		dev->bytes_to_drop -= (double)n;
		if (dev->bytes_to_drop <= 0) {
			mode = f->drop_mode;
			sim_unlock();
			if (drop_handler != NULL)
				drop_handler(dev, mode, to_host);
			return (-1);
		}
	}
	if (f->cap_mb_s > 0) {
		/* One bus for both directions: MB/s is bytes per us. */
		start = dev->busy_until_us > until ? dev->busy_until_us :
		    until;
		dev->busy_until_us = start + (int64_t)((double)n /
		    f->cap_mb_s);
		until = dev->busy_until_us;
	}
	if (to_host && (f->latency_us > 0 || f->jitter_us > 0))
		until += f->latency_us + (int64_t)(rng_unit(&dev->rng_bytes) *
		    (double)f->jitter_us);
	sim_unlock();
	atomic_fetch_add(to_host ? &dev->mux_writes : &dev->mux_reads, 1);
	if (until <= now)
		return (0);
	ts.tv_sec = until / 1000000;
	ts.tv_nsec = (long)(until % 1000000) * 1000;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	    EINTR)
		continue;
	return (0);
}

/* Flip bits in data bound for the host at the link's rate. */
void
link_corrupt(struct sim_device *dev, void *buf, size_t n)
{
	unsigned char	*p = buf;
	double		 left = (double)n;
	size_t		 at = 0;

	sim_lock();
	if (dev->fault.corrupt_per_mb <= 0) {
		sim_unlock();
		return;
	}
	while (dev->bytes_to_corrupt < left) {
		at += (size_t)dev->bytes_to_corrupt;
		left -= dev->bytes_to_corrupt + 1;
		p[at] ^= (unsigned char)(1u << (rng_next(&dev->rng_bytes) %
		    8));
		evlog_add("corrupt %s", dev->bench_name);
		at++;
		dev->bytes_to_corrupt = rng_exp(&dev->rng_bytes,
		    1e6 / dev->fault.corrupt_per_mb);
	}
	dev->bytes_to_corrupt -= left;
	sim_unlock();
}

/* Decide the fate of one control transfer on dev's ep0. */
enum link_ctrl
link_control(struct sim_device *dev, uint64_t usb_gen, int in,
    int64_t *due_us)
{
	struct fault	*f = &dev->fault;
	enum link_ctrl	 fate = LINK_CTRL_OK;
	char		 port_dev[64];
	int64_t		 now;

	sim_lock();
	if (dev->port == NULL || !dev->on_bus || dev->usb_gen != usb_gen) {
		sim_unlock();
		return (LINK_CTRL_GONE);
	}
	now = lq_mono_now().us;
	*due_us = (dev->stall_until_us > now ? dev->stall_until_us : now) +
	    f->latency_us;
	if (f->jitter_us > 0)
		*due_us += (int64_t)(rng_unit(&dev->rng_control) *
		    (double)f->jitter_us);
	if (f->control_timeout > 0 &&
	    rng_unit(&dev->rng_control) < f->control_timeout) {
		fate = LINK_CTRL_TIMEOUT;
		evlog_add("control-timeout %s", dev->bench_name);
	} else if (f->control_error > 0 &&
	    rng_unit(&dev->rng_control) < f->control_error) {
		/* As a link error: the hub port hiccups, the URB ends -71. */
		fate = LINK_CTRL_ERROR;
		kernel_port_name(dev->port->path, port_dev,
		    sizeof(port_dev));
		kmsg(3, NULL, "usb %s: disabled by hub (EMI?), "
		    "re-enabling...", port_dev);
		usbmon('C', in ? "Ci" : "Co", dev->bus, dev->devnum, 0, -71,
		    0);
		evlog_add("control-error %s", dev->bench_name);
	} else if (f->control_stall > 0 &&
	    rng_unit(&dev->rng_control) < f->control_stall) {
		fate = LINK_CTRL_STALL;
		evlog_add("control-stall %s", dev->bench_name);
	}
	sim_unlock();
	return (fate);
}
