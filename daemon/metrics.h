/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The metrics of GET /metrics, in the Prometheus text exposition format
 * 0.0.4 (linkqd(8), METRICS, lists every family): counted here as runs
 * end, probes come back and events are recorded, and written out on a
 * scrape with the state of the daemon read at that moment.
 *
 * What survives a restart: the runs by verdict are seeded at the start
 * from the database by one grouped query, so they count every ended
 * run of this host; everything else counts from the start of this
 * process (Prometheus takes a counter that drops for a reset).
 *
 * Labels: runs and events are counted by attachment and named, at the
 * next scrape, by the attachment's port path and cable label as the
 * database has them; from then on they add to that (port, cable)
 * series. Ids never change their names, so a series never moves.
 *
 * Threads: the loop thread only. The module owns its counters; the
 * store it reads is borrowed from metrics_init() to metrics_free().
 */

#ifndef LQ_METRICS_H
#define LQ_METRICS_H

#include <stdint.h>

struct evbuffer;
struct store;
struct store_event;

/*
 * Start counting, with the runs by verdict of host host_id read from
 * the store (NULL: none, and nothing is named). Once, at the start.
 */
void	metrics_init(struct store *, int64_t);
/*
 * A qualification run on attachment_id (port port_id) ended with a
 * verdict name ("PASS"; NULL: none), or its verdict was revised after
 * its end: the new one counts too.
 */
void	metrics_run_end(int64_t, int64_t, const char *);
/*
 * A probe of a kind (enum lq_probe_kind) came back after latency_us,
 * having moved bytes, with an lq_status.
 */
void	metrics_probe(int, int64_t, int64_t, int);
/* An event was recorded (its kind, port and attachment count). */
void	metrics_event(const struct store_event *);
/* Append the exposition, every family, to buf. */
void	metrics_write(struct evbuffer *);
/* Forget every counter (at shutdown). */
void	metrics_free(void);

#endif /* LQ_METRICS_H */
