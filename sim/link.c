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
#include "compat/compat.h"
#include "evlog.h"
#include "kernel.h"
#include "link.h"
#include "lq-time.h"
#include "rng.h"
#include "sim.h"

/*
 * What a healthy phone moves through usbmuxd and AFC at each negotiated
 * speed, in MB/s (bytes per microsecond), writing to it (the device
 * reads) and reading from it (the device writes). The phone's own mux
 * and AFC stack is the bottleneck, not the wire:
 * - high speed: 21.9 MB/s written and 32.4 MB/s read through
 *   libimobiledevice's AFC (nikias, libimobiledevice#1126), well under
 *   the 53 MB/s a 480 Mb/s bulk pipe allows;
 * - full speed: 12 Mb/s carries at most 19 bulk packets of 64 bytes a
 *   frame, 1.216 MB/s; take about two thirds of that for writes and
 *   three quarters for reads, the share high speed keeps of its wire
 *   once mux, AFC headers and host scheduling are paid;
 * - SuperSpeed: usbmux and AFC get no USB 3 speed. An iPad Pro at
 *   10 Gb/s did about 35 MB/s (libimobiledevice#1126), an iPhone 15 Pro
 *   up to 40 MB/s after buffer tuning (iDescriptor#95): 30 and 40.
 */
static const struct link_ceiling {
	int		mbps;
	double		to_device;
	double		to_host;
} link_ceilings[] = {
	{ 12, 0.8, 0.9 },
	{ 480, 22.0, 32.0 },
	{ 5000, 30.0, 40.0 },
	{ 10000, 30.0, 40.0 }
};

/*
 * A marginal link: retry-rate is the chance that one 512-byte bulk
 * packet arrives garbled (CRC16) and is sent again. The host controller
 * tries a transaction four times in all (xHCI ERROR_COUNT(3), EHCI
 * CERR 3) before the URB fails. A retry costs the packet again plus the
 * host's wait for the handshake that never came and its next turn on
 * the bus, taken as one microframe (125 us), a 1 ms frame at full speed.
 */
#define LINK_PACKET		512.0
#define LINK_TRIES		4
#define LINK_TURNAROUND_US	125.0
#define LINK_TURNAROUND_FS_US	1000.0

/*
 * Sleeping costs tens of microseconds however short the sleep, more
 * than a small transfer models: a wait of bandwidth alone shorter than
 * LINK_SLEEP_MIN_US is left on busy_until for a later transfer to sleep
 * off. And a bus that fell idle less than LINK_SLACK_US ago counts as
 * busy still: the ceilings are measured end to end, the phone's and the
 * host's time between two requests included, so the simulator's own
 * (the socket copies, AFC's work, a sleep's overshoot) must not be paid
 * on top of them.
 */
#define LINK_SLEEP_MIN_US	1000
#define LINK_SLACK_US		10000.0

/* Set once at start, before any connection. */
static link_drop_fn	drop_handler;
static int		no_ceiling;

/* Set who takes a device off the bench when the link drops it. */
void
link_set_drop_handler(link_drop_fn fn)
{
	drop_handler = fn;
}

/* Whether the speeds' ceilings apply (on: the default). */
void
link_set_ceiling(int on)
{
	no_ceiling = !on;
}

/* Draw the byte distances to the next drop, flipped bit and retry. */
void
link_relink(struct sim_device *dev)
{
	struct fault	*f = &dev->fault;

	dev->bytes_to_drop = f->drop_per_mb > 0 ?
	    rng_exp(&dev->rng_bytes, 1e6 / f->drop_per_mb) : 0;
	dev->bytes_to_corrupt = f->corrupt_per_mb > 0 ?
	    rng_exp(&dev->rng_bytes, 1e6 / f->corrupt_per_mb) : 0;
	dev->bytes_to_retry = f->retry_rate > 0 ?
	    rng_exp(&dev->rng_bytes, LINK_PACKET / f->retry_rate) : 0;
	dev->bytes_to_drop_out = f->drop_per_mb_out > 0 ?
	    rng_exp(&dev->rng_bytes, 1e6 / f->drop_per_mb_out) : 0;
	dev->bytes_to_corrupt_out = f->corrupt_out_per_mb > 0 ?
	    rng_exp(&dev->rng_bytes, 1e6 / f->corrupt_out_per_mb) : 0;
}

/*
 * The rate of one direction in MB/s: the speed's ceiling and cap-mbps,
 * whichever is lower; 0 for no limit. Lock held.
 */
static double
link_rate(struct sim_device *dev, int to_host)
{
	double	rate = 0, cap = dev->fault.cap_mb_s;
	size_t	i;

	for (i = 0; !no_ceiling && i < nitems(link_ceilings); i++) {
		if ((uint64_t)link_ceilings[i].mbps * 1000000 ==
		    dev->speed_bps) {
			rate = to_host ? link_ceilings[i].to_host :
			    link_ceilings[i].to_device;
			break;
		}
	}
	if (cap > 0 && (rate == 0 || cap < rate))
		rate = cap;
	return (rate);
}

/*
 * Add the retries of n bytes' packets to *cost_us, drawn from the byte
 * stream. Returns 0, or the status its URB fails with (-71 or -84) if
 * one packet failed all its tries. Lock held.
 */
static int
link_retries(struct sim_device *dev, size_t n, double rate,
    double *cost_us)
{
	double	p = dev->fault.retry_rate, left = (double)n, retry_us;
	int	failed;

	retry_us = rate > 0 ? LINK_PACKET / rate : 0;
	retry_us += dev->speed_bps <= 12000000 ? LINK_TURNAROUND_FS_US :
	    LINK_TURNAROUND_US;
	while (dev->bytes_to_retry < left) {
		left -= dev->bytes_to_retry;
		dev->bytes_to_retry = rng_exp(&dev->rng_bytes,
		    LINK_PACKET / p);
		/* This packet failed once; each retry fails again with p. */
		failed = 1;
		while (failed < LINK_TRIES && rng_unit(&dev->rng_bytes) < p)
			failed++;
		if (failed == LINK_TRIES)
			return (rng_next(&dev->rng_bytes) % 2 ? -71 : -84);
		*cost_us += failed * retry_us;
	}
	dev->bytes_to_retry -= left;
	return (0);
}

/*
 * A bulk transaction failed every try: the URB ends with status, and
 * the hub finds the port disabled by the noise and resets the device,
 * whose first descriptor read fails too (hub.c, the kernel's lines as
 * bench_link_error writes them). Lock held.
 */
static void
link_retries_failed(struct sim_device *dev, int status)
{
	char	port_dev[64], devt[32];

	kernel_port_name(dev->port->path, port_dev, sizeof(port_dev));
	kernel_devt(dev->bus, dev->devnum, devt, sizeof(devt));
	kmsg(3, NULL, "usb %s: disabled by hub (EMI?), re-enabling...",
	    port_dev);
	kmsg(6, devt, "usb %s: reset %s USB device number %d using xhci_hcd",
	    dev->port->path, kernel_speed_words((int)(dev->speed_bps /
	    1000000)), dev->devnum);
	kmsg(3, devt, "usb %s: device descriptor read/64, error -71",
	    dev->port->path);
	evlog_add("retries-failed %s %d", dev->bench_name, status);
}

/* Sleep until the CLOCK_MONOTONIC instant until (us). */
static void
link_sleep_until(int64_t until)
{
	struct timespec	ts;

	ts.tv_sec = until / 1000000;
	ts.tv_nsec = (long)(until % 1000000) * 1000;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	    EINTR)
		continue;
}

/* Drop dev as the link says, without the lock; returns -1. */
static int
link_drop(struct sim_device *dev, enum fault_drop_mode mode, int to_host,
    int status)
{
	if (drop_handler != NULL)
		drop_handler(dev, mode, to_host, status);
	return (-1);
}

/* Shape one transfer on dev's link; -1 if the link drops the device. */
int
link_transfer(struct sim_device *dev, size_t n, int to_host)
{
	struct fault		*f = &dev->fault;
	enum fault_drop_mode	 mode;
	double			 rate, cost = 0, floor;
	int64_t			 now, until, extra = 0;
	int			 status, stalled;

	sim_lock();
	if (dev->port == NULL || !dev->plugged) {
		sim_unlock();
		return (-1);
	}
	now = lq_mono_now().us;
	if (f->drop_per_mb > 0) {
		dev->bytes_to_drop -= (double)n;
		if (dev->bytes_to_drop <= 0) {
			mode = f->drop_mode;
			sim_unlock();
			return (link_drop(dev, mode, to_host, -71));
		}
	}
	/* The OUT pipe's own drops: a fault of the host's writes only. */
	if (!to_host && f->drop_per_mb_out > 0) {
		dev->bytes_to_drop_out -= (double)n;
		if (dev->bytes_to_drop_out <= 0) {
			mode = f->drop_mode;
			sim_unlock();
			return (link_drop(dev, mode, 0, -71));
		}
	}
	rate = link_rate(dev, to_host);
	if (rate > 0)
		cost = (double)n / rate;
	if (f->retry_rate > 0 &&
	    (status = link_retries(dev, n, rate, &cost)) != 0) {
		link_retries_failed(dev, status);
		mode = f->drop_mode;
		sim_unlock();
		return (link_drop(dev, mode, to_host, status));
	}
	/* One bus for both directions: USB 2.0 is half duplex. */
	floor = dev->stall_until_us > now ? (double)dev->stall_until_us :
	    (double)now - LINK_SLACK_US;
	if (dev->busy_until_us < floor)
		dev->busy_until_us = floor;
	dev->busy_until_us += cost;
	until = (int64_t)dev->busy_until_us;
	stalled = dev->stall_until_us > now;
	if (dev->stall_until_us > until)
		until = dev->stall_until_us;
	if (to_host && (f->latency_us > 0 || f->jitter_us > 0))
		extra = f->latency_us + (int64_t)(rng_unit(&dev->rng_bytes) *
		    (double)f->jitter_us);
	sim_unlock();
	atomic_fetch_add(to_host ? &dev->mux_writes : &dev->mux_reads, 1);
	if (extra == 0 && !stalled && until - now < LINK_SLEEP_MIN_US)
		return (0);
	/*
	 * The reply's latency counts from when its bytes are on the wire,
	 * or from now on a bus idle within the slack: never absorbed by it.
	 */
	if (extra > 0 && until < now)
		until = now;
	link_sleep_until(until + extra);
	return (0);
}

/*
 * One small round trip: the latency (and jitter) of the link after any
 * stall, which may be extended while we wait; -1 if the device left
 * usbmuxd, by a drop or an unplug, before the answer came.
 */
int
link_round_trip(struct sim_device *dev)
{
	struct fault	*f = &dev->fault;
	uint32_t	 id;
	int64_t		 now, until;

	sim_lock();
	id = dev->mux_id;
	for (;;) {
		if (dev->port == NULL || !dev->plugged || dev->mux_id != id) {
			sim_unlock();
			return (-1);
		}
		now = lq_mono_now().us;
		if (dev->stall_until_us <= now)
			break;
		until = dev->stall_until_us;
		sim_unlock();
		link_sleep_until(until);
		sim_lock();
	}
	until = now + f->latency_us;
	if (f->jitter_us > 0)
		until += (int64_t)(rng_unit(&dev->rng_bytes) *
		    (double)f->jitter_us);
	sim_unlock();
	if (until > now)
		link_sleep_until(until);
	sim_lock();
	if (dev->port == NULL || !dev->plugged || dev->mux_id != id) {
		sim_unlock();
		return (-1);
	}
	sim_unlock();
	return (0);
}

/*
 * Flip a bit every so many bytes of data, the distance to the next
 * flip kept in *next and drawn with the mean 1e6 / per_mb; each flip
 * is an event. Lock held.
 */
static void
link_flip(struct sim_device *dev, unsigned char *p, size_t n,
    double *next, double per_mb, const char *event)
{
	double	left = (double)n;
	size_t	at = 0;

	while (*next < left) {
		at += (size_t)*next;
		left -= *next + 1;
		p[at] ^= (unsigned char)(1u << (rng_next(&dev->rng_bytes) %
		    8));
		evlog_add("%s %s", event, dev->bench_name);
		at++;
		*next = rng_exp(&dev->rng_bytes, 1e6 / per_mb);
	}
	*next -= left;
}

/* Flip bits in data bound for the host at the link's rate. */
void
link_corrupt(struct sim_device *dev, void *buf, size_t n)
{
	sim_lock();
	if (dev->fault.corrupt_per_mb > 0)
		link_flip(dev, buf, n, &dev->bytes_to_corrupt,
		    dev->fault.corrupt_per_mb, "corrupt");
	sim_unlock();
}

/*
 * Flip bits in data the host writes to the device (an AFC file write):
 * the file on the phone differs from what was sent. Real USB would
 * catch it (CRC16 on every data packet, three retries), as it would a
 * flip on the way in; both are for testing end-to-end checks.
 */
void
link_corrupt_out(struct sim_device *dev, void *buf, size_t n)
{
	sim_lock();
	if (dev->fault.corrupt_out_per_mb > 0)
		link_flip(dev, buf, n, &dev->bytes_to_corrupt_out,
		    dev->fault.corrupt_out_per_mb, "corrupt-out");
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
