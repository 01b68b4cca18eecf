/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Probes (DESIGN.md, Probes): one file daemon/probe-<kind>.c per kind,
 * each with one ops table. A probe runs on the worker thread of its
 * attachment, through the blocking libimobiledevice calls of the
 * session (session.h), and fills a result that the loop stores.
 *
 * Threads: run() is called on the attachment's worker thread only. It
 * reads the plan, writes the result, and writes the progress counters
 * with atomic stores (the loop reads them once a second for the live
 * throughput and the bulk stall deadline). It never touches the store
 * or anything else of the loop.
 *
 * Deadlines: the loop owns them. Before a probe blocks on a socket it
 * hands that socket to session_watch() (session.h), so that the loop can
 * shut it down when the deadline passes; the blocked call then fails,
 * and the loop records the probe as a timeout whatever run() returned.
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
};

/* The result; the loop owns and frees detail. */
struct probe_result {
	int		 status;	/* enum lq_status */
	int64_t		 latency_us;	/* the whole probe */
	uint64_t	 bytes_out;	/* host to device */
	uint64_t	 bytes_in;	/* device to host, verified */
	int64_t		 corrupt_offset; /* first differing byte; -1 none */
	char		*detail;	/* NULL, or an allocated string: what
					 * failed and why, or for bulk a JSON
					 * object with the throughput series */
};

struct probe_ops {
	enum lq_probe_kind	 kind;
	/*
	 * Run one probe; return its status (also in result->status). On
	 * a failure the caller closes the session: the next probe opens
	 * fresh connections.
	 */
	int	(*run)(struct session *, const struct probe_plan *,
		    struct probe_progress *, struct probe_result *);
	/* NULL: a loop probe (usb-control), started by usbctl_start. */
};

extern const struct probe_ops	probe_mux_connect_ops;
extern const struct probe_ops	probe_lockdown_query_ops;
extern const struct probe_ops	probe_lockdown_handshake_ops;
extern const struct probe_ops	probe_afc_roundtrip_ops;
extern const struct probe_ops	probe_bulk_ops;
extern const struct probe_ops	probe_usb_control_ops;	/* run is NULL */

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
