/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The link model: how the USB link between a simulated device and the
 * host shapes each transfer. conn.c asks it about every transfer on a
 * connection relayed to a device, umockdev.c about every control
 * transfer on ep0; the link waits as the fault profile says (stall,
 * bandwidth, latency), flips bits, or decides that a USB error drops the
 * device. It changes nothing on the bench itself: a drop is handed to
 * the handler the bench set (link_set_drop_handler), which takes the
 * device off usbmuxd, so that conn.c and umockdev.c depend on the link
 * only.
 *
 * The link's state lives in struct sim_device (sim.h) under sim_lock:
 * the combined fault, the byte distances to the next drop and flipped
 * bit, when the bus is busy until and when a stall ends. Functions take
 * the lock themselves unless they say otherwise.
 */

#ifndef LQ_SIM_LINK_H
#define LQ_SIM_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "scenario.h"

struct sim_device;

/*
 * Called by the link, without the lock, when a transfer on the pipe of
 * one direction (to_host: the device writes) drops the device; the last
 * argument is the status the failed URB ends with (-71, -84).
 */
typedef void (*link_drop_fn)(struct sim_device *, enum fault_drop_mode,
    int, int);

void	link_set_drop_handler(link_drop_fn);
/*
 * Whether each negotiated speed caps throughput at what a real phone
 * moves (the default), or only cap-mbps does (--no-ceiling). Set once
 * at start.
 */
void	link_set_ceiling(int);

/*
 * The device's combined fault changed: draw the byte distances to the
 * next drop and the next flipped bit afresh. Call with the lock held.
 */
void	link_relink(struct sim_device *);

/*
 * One transfer of n bytes on a connection relayed to dev: waits as the
 * link says (stall, bandwidth, and the latency of a reply for to_host)
 * and returns -1 when the link dropped the device, before or during it.
 */
int	link_transfer(struct sim_device *, size_t, int);
/*
 * One round trip of a small packet on dev's link and its answer, as the
 * SYN and the SYN/ACK or RST of a usbmux Connect: waits out a stall and
 * the latency. Returns -1 if the device left usbmuxd meanwhile.
 */
int	link_round_trip(struct sim_device *);
/* Flip bits in data on its way to the host, at the link's rate. */
void	link_corrupt(struct sim_device *, void *, size_t);
/* Flip bits in data the host writes, at corrupt-out-per-mb. */
void	link_corrupt_out(struct sim_device *, void *, size_t);

/* What becomes of one control transfer (link_control). */
enum link_ctrl {
	LINK_CTRL_OK,
	LINK_CTRL_STALL,	/* the device STALLs: -EPIPE */
	LINK_CTRL_ERROR,	/* the link fails it: -EPROTO */
	LINK_CTRL_TIMEOUT,	/* it never completes */
	LINK_CTRL_GONE		/* the device left the bus */
};

/*
 * The link model for one control transfer on ep0 of dev as enumerated
 * at usb_gen, in (device to host) or not: its fate, drawn from the
 * control-* faults, and in *due_us (CLOCK_MONOTONIC microseconds) when
 * it completes: after a stall of the link and the latency of a round
 * trip. An error writes the kernel's lines and an event. Takes the lock
 * briefly and never sleeps, so umockdev's worker thread may call it.
 */
enum link_ctrl link_control(struct sim_device *, uint64_t, int, int64_t *);

#endif /* LQ_SIM_LINK_H */
