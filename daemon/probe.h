/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Probes (DESIGN.md, Probes): one file daemon/probe-<kind>.c per kind,
 * each with one ops table. A probe runs in the worker process of its
 * attachment (child-main.h), through the blocking libimobiledevice
 * calls of the session (session.h), and fills a result that goes back
 * to the loop (msg.h), which stores it.
 *
 * Process: run() is called in the attachment's worker process only. It
 * reads the plan, writes the result, and writes the progress counters
 * (atomic stores, which cost nothing and keep a single-process caller
 * such as bench/lq-probe safe); bulk hands them to session_progress()
 * after each chunk, and the worker sends them to the loop at most every
 * MSG_PROGRESS_US for the live throughput and the bulk stall deadline.
 * Bulk data is generated and checked in the worker; only results and
 * counters cross. It never touches the store or anything of the loop.
 *
 * Deadlines: the loop owns them. Before a probe blocks on a socket it
 * hands that socket to session_watch() (session.h), so that a cancel at
 * the deadline can shut it down; the blocked call then fails, and the
 * loop records the probe as a timeout whatever run() returned. A worker
 * that does not answer within CHILD_GRACE_US of the cancel is killed
 * (child.h), and the probe is a timeout all the same.
 */

#ifndef LQ_PROBE_H
#define LQ_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "linkq.h"

struct session;

/* What the run asks of one probe. Read-only for the probe. */
struct probe_plan {
	int64_t		 run_id;	/* names the probe's files */
	uint32_t	 sequence;	/* probe number in the run, from 1 */
	uint64_t	 seed;		/* of the bulk stream */
	uint64_t	 bulk_bytes;	/* bulk: bytes each way */
	uint32_t	 chunk_bytes;	/* bulk: bytes per AFC call */
	int		 write_only;	/* bulk: to the phone only, as a
					 * restore streams, nothing read
					 * back */
	uint64_t	 max_bytes;	/* most bytes on the phone at once */
	unsigned int	 max_free_share_pct; /* of the phone's free space */
};

/*
 * Live counters of a running probe. Worker: __atomic_store_n; loop:
 * __atomic_load_n. moved_us is the monotonic time of the last chunk
 * that completed, or of the probe's start.
 */
struct probe_progress {
	uint64_t	 bytes_out;	/* host to device so far */
	uint64_t	 bytes_in;	/* device to host, verified, so far */
	int64_t		 moved_us;
	uint64_t	 chunks;	/* bulk chunks moved so far */
	int64_t		 chunk_us;	/* the time they took, in all */
};

/*
 * The result; the loop owns and frees detail. How each field counts in
 * the run's evidence is said at struct probe_ops.
 */
struct probe_result {
	int		 status;	/* enum lq_status */
	int64_t		 latency_us;	/* the whole probe, as the caller
					 * timed it: time under load */
	uint64_t	 bytes_out;	/* host to device: bytes moved */
	uint64_t	 bytes_in;	/* device to host, verified: bytes
					 * moved */
	int64_t		 corrupt_offset; /* first differing byte; -1 none */
	char		*detail;	/* NULL, or an allocated string: what
					 * failed and why, or for bulk a JSON
					 * object with the throughput series */
};

/*
 * One probe kind: where it runs and how its result counts. One table
 * per kind, in daemon/probe-<kind>.c; probe.c lists them.
 *
 * Every probe that ends is evidence of its run (run.c: run_job_done,
 * then run_record, run_count and run_stall; lq-verdict.h), whichever
 * thread ran it:
 * - its latency_us adds to the run's time under load and its bytes_out
 *   and bytes_in to the bytes moved: the exposure (lq-exposure.h), in
 *   which a run without a hard fault bounds the fault rate;
 * - it is one trial of the sequential test, which counts any status but
 *   LQ_OK as a soft failure;
 * - all kinds but bulk are one round trip of the exposure each. A bulk
 *   probe is not a round trip, and its chunks are not trials, however
 *   many: they are one transfer and do not fail independently, and a
 *   fault in a long transfer is an event in time and bytes. Its bytes
 *   also count toward the bulk minimums of an early PASS;
 * - LQ_ETIMEDOUT is a timeout, a soft failure ("timeout" event);
 * - LQ_ECORRUPT is also a hard corruption event ("corruption"), which
 *   fails the run;
 * - LQ_ELINK is also a hard link error ("link-error", source libusb),
 *   which fails the run, the probe's words quoted in its reasons. Only
 *   usb-control returns it: libusb's TRANSFER_ERROR and OVERFLOW,
 *   which stand for the kernel's -71, -84, -62 and -75 and cannot tell
 *   them apart (usb.c). It leaves the run's link_errno unknown;
 * - LQ_EDISCONNECTED and LQ_ENODEVICE are soft failures too, and hold
 *   the run for a moment, so that usbmuxd's word ends it as a dropout,
 *   a hard event of its own;
 * - a round trip that worked, but took far beyond its kind's usual time
 *   in this run, is a stall: a soft failure ("latency-outlier" event),
 *   left out of the mean it is held against. Far beyond is more than
 *   RUN_STALL_FACTOR times the mean and at least RUN_STALL_FLOOR_US,
 *   once RUN_STALL_MIN_N round trips of the kind set the mean (run.c).
 *   A marginal link retries before anything errors: the time is lost,
 *   not the data. Bulk never stalls this way; see its deadline below.
 * A probe that never ran (queued behind one that failed, or taken off
 * the queue by a cancel) is no evidence, nor is one that comes back
 * after its run ended: the end cuts it, and its failure says nothing
 * about the link.
 */
struct probe_ops {
	/* The kind, as stored in probes.kind. */
	enum lq_probe_kind	 kind;

	/*
	 * Run one probe of this kind to its end and return its status,
	 * also in result->status.
	 *
	 * Process: the attachment's worker (child-main.h), through the
	 * blocking calls of the session (session.h); never the loop. It
	 * reads plan, fills result and stores the progress counters.
	 *
	 * Time: the worker times the call and sets result->latency_us to
	 * that, over whatever run set; a probe queued ahead (run.c,
	 * run_send_ahead) is timed from its own start.
	 *
	 * Deadline: the loop's. A quick probe (every kind but bulk) has
	 * its kind's deadline from its start, or from when it was sent if
	 * it has not started by then; bulk must only keep moving, a chunk
	 * within the deadline (progress->moved_us, checked once a second).
	 * When it passes, the loop has the worker shut the socket handed
	 * to session_watch(), or kills the worker (child.h), and records
	 * LQ_ETIMEDOUT, whatever run returns.
	 *
	 * Failure: any status but LQ_OK makes the worker close the
	 * session, so that the next probe opens fresh connections, and
	 * keeps the probe queued behind this one from running.
	 *
	 * NULL for usb-control alone: it runs on the loop thread through
	 * libusb's asynchronous API, started by usbctl_start (below) with
	 * the deadline as each transfer's timeout, so that its timeout is
	 * libusb's LIBUSB_TRANSFER_TIMED_OUT. The loop times it from that
	 * start to its done callback.
	 */
	int	(*run)(struct session *, const struct probe_plan *,
		    struct probe_progress *, struct probe_result *);
};

/*
 * The kinds (DESIGN.md, Probes). All but usb-control run in the
 * attachment's worker process; all but bulk are round trips, one trial
 * each.
 *
 * mux-connect: a usbmux connection to lockdownd's port, closed again;
 * usbmuxd's path and a device that has gone. No bytes.
 */
extern const struct probe_ops	probe_mux_connect_ops;
/*
 * lockdown-query: one GetValue on the live lockdown session; the first
 * after a reopen has the handshake in its time. No bytes.
 */
extern const struct probe_ops	probe_lockdown_query_ops;
/* lockdown-handshake: a full handshake with TLS. No bytes. */
extern const struct probe_ops	probe_lockdown_handshake_ops;
/*
 * afc-roundtrip: a small file written through AFC, read back and
 * checked; its bytes count, and a difference is LQ_ECORRUPT.
 */
extern const struct probe_ops	probe_afc_roundtrip_ops;
/*
 * bulk: plan->bulk_bytes of the seeded stream through AFC each way, or
 * to the phone only (write_only). One trial and no round trip, however
 * many chunks; a chunk read back that differs is LQ_ECORRUPT.
 */
extern const struct probe_ops	probe_bulk_ops;
/*
 * usb-control: three requests on endpoint 0, on the loop thread (run
 * is NULL). One round trip, no bytes; libusb's link errors are LQ_ELINK.
 */
extern const struct probe_ops	probe_usb_control_ops;

/*
 * usb-control is the one probe that runs on the loop thread, through
 * libusb's asynchronous API (probe-usb-control.c): usbctl_start opens
 * the device at bus/devnum and sends its round trips, each with
 * timeout_us; done(arg) is called once, on the loop, from a callback of
 * its own (never inside usbctl_start), with result filled in. The probe
 * frees itself after done returns. usbctl_cancel cuts it (the result is
 * LQ_ECANCELED unless it was already complete).
 */
struct usbctl;
struct usbctl	*usbctl_start(int, int, int64_t, struct probe_result *,
		    void (*)(void *), void *);
void		 usbctl_cancel(struct usbctl *);

/* The ops of kind, or NULL if linkqd has no such probe. */
const struct probe_ops *probe_ops_find(int);

/* Set result to "not run yet": status LQ_OK, offsets -1, no detail. */
void	probe_result_init(struct probe_result *);

/*
 * The bulk stream: byte i of the stream of seed is a pure function of
 * (seed, i), so a chunk read back is checked without a stored copy.
 * stream_fill writes len bytes starting at offset; stream_verify
 * returns the offset of the first byte that differs, or -1.
 */
void	 stream_fill(uint64_t, uint64_t, void *, size_t);
int64_t	 stream_verify(uint64_t, uint64_t, const void *, size_t);

#endif /* LQ_PROBE_H */
