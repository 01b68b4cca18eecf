/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * A run's plan (DESIGN.md, Profiles): which probe kind is due next, how
 * much a bulk probe moves, the rewind after a probe that never ran, and
 * whether the run has seen enough to end. A profile keeps its word: a
 * run with a duration lasts that long and moves at least its bulk bytes
 * each way, keeping the bulk stream going for the whole duration; it
 * stops early only where the profile allows it and only after a probe
 * of every kind of its plan has really ended.
 *
 * The plan walks in cycles. A cycle is, in this order and as far as the
 * plan's kinds allow: one bulk probe (while the bulk bytes are not yet
 * moved, or for the whole of a run that has a duration or lasts
 * forever), usb-control, mux-connect, lockdown-query, lockdown-handshake
 * (every cycle if it is one of the kinds, else every handshake-every
 * cycles) and afc-roundtrip. A bulk probe moves at most
 * RUN_PLAN_BULK_SLICE each way, so that a long volume (restore: 8 GB)
 * is many probes with the other kinds between them.
 *
 * Pure: no clock (the caller says how long the run has lasted), no I/O,
 * no allocation. Used by run.c on the loop thread only.
 */

#ifndef LQ_RUN_PLAN_H
#define LQ_RUN_PLAN_H

#include <stdint.h>

struct profile;

/* Most bytes each way of one bulk probe. */
#define RUN_PLAN_BULK_SLICE	(UINT64_C(64) << 20)

/* A place in the plan: the cycle and the next step of it. */
struct run_plan_pos {
	unsigned int	 cycle;
	int		 step;
};

struct run_plan {
	/* What it plans, fixed by run_plan_init. */
	unsigned int	 kinds;		/* PROFILE_KIND bits it may run */
	unsigned int	 handshake_every; /* 0: only if a kind */
	uint64_t	 bulk_bytes;	/* each way, at least; 0: no bulk */
	int64_t		 duration_us;	/* 0: until the evidence decides */
	int64_t		 interval_us;	/* pause between cycles */
	int		 stop_early;	/* the profile allows it */
	int		 forever;

	/* Where it stands. */
	struct run_plan_pos pos;	/* the next step to consider */
	struct run_plan_pos planned;	/* before the kind last planned */
	uint64_t	 bulk_moved;	/* each way, probes that ended */
	unsigned int	 ran;		/* kinds a probe of which ended */
};

/*
 * Plan pr for a device in mode (enum lq_device_mode) that libusb sees
 * (usb_visible) or not. Out of normal mode a device answers on endpoint
 * 0 only: usb-control is the whole plan, whatever the profile lists.
 */
void		 run_plan_init(struct run_plan *, const struct profile *, int,
		    int);
/*
 * The next kind, moving on to the next cycle when this one is through;
 * 0 if a whole cycle has nothing to do, -1 if the next cycle must wait
 * for the interval. The place before it is kept in plan->planned.
 */
int		 run_plan_next(struct run_plan *);
/* Go back to pos: the probe planned at it never ran. */
void		 run_plan_rewind(struct run_plan *,
		    const struct run_plan_pos *);
/* Bytes each way for the next bulk probe. */
uint64_t	 run_plan_bulk_size(const struct run_plan *);
/* Whether the bulk bytes are moved (or the plan has none). */
int		 run_plan_bulk_done(const struct run_plan *);
/* A probe of kind ended and counted; moved bytes each way (bulk). */
void		 run_plan_ended(struct run_plan *, int, uint64_t);
/* Whether a probe of every kind the plan will run has ended. */
int		 run_plan_all_ran(const struct run_plan *);
/* The kinds the plan will run, as PROFILE_KIND bits. */
unsigned int	 run_plan_expected(const struct run_plan *);

/* Where the verdict stands, as run_plan_end needs it. */
struct run_plan_state {
	int		 failed;	/* the verdict is FAIL */
	int		 passed;	/* an early PASS: the evidence
					 * minimums are met */
	int		 decided;	/* the sequential test decided or
					 * reached its probe limit */
	int64_t		 elapsed_us;	/* since the run started */
};

enum run_plan_end {
	RUN_PLAN_GO_ON,
	RUN_PLAN_STOP,		/* by the evidence, before the end */
	RUN_PLAN_FINISHED	/* the plan ran to its end */
};

/*
 * Whether the run ends now. A FAIL ends it at once. A run that lasts
 * forever ends no other way. A PASS stops it early only if the profile
 * allows it, the bulk bytes are moved and every kind has run. Otherwise
 * it has finished when its duration is up, its bulk bytes are moved and
 * a probe of every kind has ended; a run without a duration, when its
 * bulk bytes are moved, every kind has run and, if it has kinds other
 * than bulk, the sequential test has decided.
 */
enum run_plan_end run_plan_end(const struct run_plan *,
		    const struct run_plan_state *);
/* How far the plan's duration and bytes are met, 0..1. */
double		 run_plan_progress(const struct run_plan *, int64_t, uint64_t);

/* What the run knows now, for run_plan_estimate. */
struct run_plan_now {
	int64_t		 elapsed_us;	/* since the run started */
	unsigned int	 ways;		/* 2: read back; 1: write-only */
	/*
	 * The bulk probe in flight: its bytes both ways moved so far and
	 * in all (0: none in flight), and how long it has been moving. It
	 * writes a segment, then reads it back: its pace is both ways'.
	 */
	uint64_t	 inflight_done;
	uint64_t	 inflight_total;
	int64_t		 inflight_us;
	/* Probes that ended, and the fewest the sequential test needs to
	 * pass (0: it cannot tell yet). */
	uint64_t	 probes;
	uint64_t	 probes_need;
};

/* How far the run is and how long it has left. */
struct run_plan_estimate {
	double		 done;		/* 0..1; < 0: the run has no end */
	int64_t		 left_us;	/* < 0: nobody can tell */
};

/*
 * Where the run stands against what ends it. The share done is the
 * least of the profile's targets met: the duration, the bulk bytes,
 * and for a run without a duration that has round trips to make the
 * probes the sequential test needs. The time left is the latest of the
 * duration, the bytes at the run's pace and the bulk probe in flight,
 * which the run waits for even when the duration is up; it is unknown
 * where the evidence decides the end, where a kind has still to run
 * after the duration, and for a probe in flight that has moved nothing
 * yet past the duration.
 */
void		 run_plan_estimate(const struct run_plan *,
		    const struct run_plan_now *, struct run_plan_estimate *);

#endif /* LQ_RUN_PLAN_H */
