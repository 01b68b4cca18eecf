/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The report engine's insides, shared by common/report.c (grouping,
 * deciding, the output) and common/report-cells.c (reading the
 * summaries of schema 0009). Nothing else includes this file.
 *
 * Ownership: a struct run's per-run values live in a struct report_vals
 * pool that the caller of the loaders owns; runs keep offsets into it,
 * so that the pool may grow. No threads of its own: one report is
 * built on one thread.
 */

#ifndef LQ_REPORT_INT_H
#define LQ_REPORT_INT_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "lq-verdict.h"

/* A period of the summaries, 28 days, in microseconds (schema 0009). */
#define REPORT_PERIOD_US	INT64_C(2419200000000)

/* Doubles, appended to; the runs' bulk MB/s and round trips in ms. */
struct report_vals {
	double		*v;
	size_t		 n, cap;
};

/*
 * Runs summed: one run read from the runs table (id its id), or the
 * runs of one cell (cable, port, device) and period read from
 * report_cells (id 0). Everything in it adds up or is a maximum, a
 * minimum or a first by run id, so that a group of these gives what
 * the group of their runs gives.
 */
struct run {
	int64_t		id;			/* 0: a summary */
	int64_t		cable, port, device;	/* cable 0: none */
	int64_t		period;			/* a summary's */
	uint64_t	runs, passed, marginal, failed;
	uint64_t	probes, failures, timeouts;	/* probes: or trials */
	uint64_t	bulk_bytes;
	/* The exposure of the runs that ended with a verdict (0006). */
	uint64_t	load_us, bytes, round_trips;
	int		speed_max;
	int		speed_min;		/* slowest negotiated; 0 none */
	int64_t		speed_min_run;		/* the first run at it */
	int64_t		last;			/* newest start */
	uint64_t	fixed;			/* runs charged to their cable
						 * by a fixed declaration */
	uint64_t	stalls;			/* latency-outlier events */
	unsigned int	hard[LQ_HARD_MAX];	/* by enum lq_hard_kind */
	int		link_errno, urb_errno;	/* of the first run with one */
	int64_t		link_run, urb_run;	/* that run */
	/* Per run, at these offsets of the pool. */
	size_t		bulk_off, nbulk;	/* MB/s of the bulk probes */
	size_t		lat_off, nlat;		/* ms, lockdown-query's mean */
	uint64_t	lat_trips;		/* round trips behind them */
	int		best;			/* the device's best speed
						 * among what was loaded */
	int64_t		key[3];			/* the group, set per pass */
};

/* Append v to the pool. */
void	report_vals_add(struct report_vals *, double);

/*
 * Whether the summaries of db can be read: schema 0009 or later and
 * nothing left to refresh (1), or not (0); -1 with *cause on error.
 */
int	report_cells_usable(sqlite3 *, char **);
/*
 * Append to *v (of *n) the summaries of the periods from period on, with
 * their events, their per-run values in vals. 0, or -1 with *cause.
 */
int	report_cells_load(sqlite3 *, int64_t, struct run **, size_t *,
	    struct report_vals *, char **);

#endif /* LQ_REPORT_INT_H */
