/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * A run's plan (contract in run-plan.h).
 *
 * What ran is counted when a probe ends and is counted as evidence
 * (run_plan_ended), never when it is planned: run.c queues the next
 * quick probe on the worker ahead of the one in flight, and a probe so
 * queued may never run (it is halted behind a failure, or the run ends
 * first). Counting it as tried when planned let an early stop skip a
 * kind altogether (issue 13: standard never ran an AFC round trip).
 */

#include <stdint.h>
#include <string.h>

#include "compat/compat.h"
#include "config.h"
#include "linkq.h"
#include "run-plan.h"

/* The kinds of a cycle, in order. */
static const int plan_cycle[] = {
	LQ_PROBE_BULK,
	LQ_PROBE_USB_CONTROL,
	LQ_PROBE_MUX_CONNECT,
	LQ_PROBE_LOCKDOWN_QUERY,
	LQ_PROBE_LOCKDOWN_HANDSHAKE,
	LQ_PROBE_AFC_ROUNDTRIP
};

/* Plan pr for a device in mode, seen by libusb or not. */
void
run_plan_init(struct run_plan *plan, const struct profile *pr, int mode,
    int usb_visible)
{
	unsigned int	kinds = pr->kinds;

	memset(plan, 0, sizeof(*plan));
	plan->duration_us = pr->duration_us;
	plan->interval_us = pr->interval_us;
	plan->stop_early = pr->stop_early;
	plan->forever = pr->forever;
	if (mode != LQ_MODE_NORMAL) {
		plan->kinds = usb_visible ?
		    PROFILE_KIND(LQ_PROBE_USB_CONTROL) : 0;
		return;
	}
	if (!usb_visible)
		kinds &= ~PROFILE_KIND(LQ_PROBE_USB_CONTROL);
	plan->kinds = kinds;
	plan->handshake_every = pr->handshake_every;
	if (kinds & PROFILE_KIND(LQ_PROBE_BULK))
		plan->bulk_bytes = pr->bulk_bytes;
}

/* Whether the bulk bytes are moved, or the plan has none. */
int
run_plan_bulk_done(const struct run_plan *plan)
{
	return (plan->bulk_moved >= plan->bulk_bytes);
}

/*
 * Bytes each way for the next bulk probe: what is left of the bulk
 * bytes, and past them (a run with a duration, or forever) a slice.
 */
uint64_t
run_plan_bulk_size(const struct run_plan *plan)
{
	uint64_t	left;

	if (plan->bulk_bytes == 0)
		return (0);
	if (run_plan_bulk_done(plan))
		left = plan->bulk_bytes;
	else
		left = plan->bulk_bytes - plan->bulk_moved;
	return (left < RUN_PLAN_BULK_SLICE ? left : RUN_PLAN_BULK_SLICE);
}

/* Whether a handshake is due this cycle without being one of the kinds. */
static int
plan_handshake_cycle(const struct run_plan *plan)
{
	return (plan->handshake_every > 0 &&
	    plan->pos.cycle % plan->handshake_every == 0);
}

/* Whether kind is due at this step of the cycle. */
static int
plan_kind_due(const struct run_plan *plan, int kind)
{
	if (kind == LQ_PROBE_LOCKDOWN_HANDSHAKE && plan_handshake_cycle(plan))
		return (1);
	if ((plan->kinds & PROFILE_KIND(kind)) == 0)
		return (0);
	if (kind == LQ_PROBE_BULK)
		return (plan->bulk_bytes > 0 && (plan->forever ||
		    plan->duration_us > 0 || !run_plan_bulk_done(plan)));
	return (1);
}

/* The next kind of the plan. */
int
run_plan_next(struct run_plan *plan)
{
	int	kind, wrapped = 0;

	plan->planned = plan->pos;
	for (;;) {
		if (plan->pos.step >= (int)nitems(plan_cycle)) {
			if (wrapped)
				return (0);
			wrapped = 1;
			plan->pos.step = 0;
			plan->pos.cycle++;
			if (plan->interval_us > 0)
				return (-1);
		}
		kind = plan_cycle[plan->pos.step++];
		if (plan_kind_due(plan, kind))
			return (kind);
	}
}

/* Go back to pos. */
void
run_plan_rewind(struct run_plan *plan, const struct run_plan_pos *pos)
{
	plan->pos = *pos;
}

/* A probe of kind ended and counted. */
void
run_plan_ended(struct run_plan *plan, int kind, uint64_t moved)
{
	if (kind < 1 || kind > LQ_PROBE_KIND_MAX)
		return;
	plan->ran |= PROFILE_KIND(kind);
	if (kind == LQ_PROBE_BULK)
		plan->bulk_moved += moved;
}

/* The kinds the plan will run. */
unsigned int
run_plan_expected(const struct run_plan *plan)
{
	unsigned int	kinds = plan->kinds;

	if (plan->bulk_bytes == 0)
		kinds &= ~PROFILE_KIND(LQ_PROBE_BULK);
	if (plan->handshake_every > 0)
		kinds |= PROFILE_KIND(LQ_PROBE_LOCKDOWN_HANDSHAKE);
	return (kinds);
}

/* Whether every kind the plan will run has ended at least once. */
int
run_plan_all_ran(const struct run_plan *plan)
{
	unsigned int	want = run_plan_expected(plan);

	return ((plan->ran & want) == want);
}

/* Whether the run ends now. */
enum run_plan_end
run_plan_end(const struct run_plan *plan, const struct run_plan_state *st)
{
	unsigned int	others;

	if (st->failed)
		return (RUN_PLAN_STOP);
	if (plan->forever)
		return (RUN_PLAN_GO_ON);
	if (!run_plan_bulk_done(plan))
		return (RUN_PLAN_GO_ON);
	if (st->passed && plan->stop_early && run_plan_all_ran(plan))
		return (RUN_PLAN_STOP);
	/*
	 * Like its bytes, every kind of the plan holds past the duration:
	 * a run whose time ran out inside its first bulk probe (a slow
	 * link) goes on until a probe of each other kind has ended too.
	 */
	if (plan->duration_us > 0)
		return (st->elapsed_us >= plan->duration_us &&
		    run_plan_all_ran(plan) ? RUN_PLAN_FINISHED :
		    RUN_PLAN_GO_ON);
	/* Handshakes every N cycles serve the bulk stream: not a kind. */
	others = plan->kinds & ~PROFILE_KIND(LQ_PROBE_BULK);
	if (others == 0 || st->decided)
		return (run_plan_all_ran(plan) ? RUN_PLAN_FINISHED :
		    RUN_PLAN_GO_ON);
	return (RUN_PLAN_GO_ON);
}

/* How far the plan's own targets are met, 0..1. */
double
run_plan_progress(const struct run_plan *plan, int64_t elapsed_us,
    uint64_t bulk_inflight)
{
	double	t = 1.0, b = 1.0;

	if (plan->duration_us > 0)
		t = (double)elapsed_us / (double)plan->duration_us;
	if (!run_plan_bulk_done(plan))
		b = (double)(plan->bulk_moved + bulk_inflight) /
		    (double)plan->bulk_bytes;
	if (t > 1.0)
		t = 1.0;
	if (b > 1.0)
		b = 1.0;
	return (t < b ? t : b);
}

/*
 * The time left for the bulk bytes, at the pace the run has kept (the
 * other kinds between the bulk probes take their share of it); -1 if
 * nothing moved yet. *frac is how far the bytes are. Paced on the bytes
 * both ways: a bulk probe writes a segment before it reads it back.
 */
static int64_t
plan_bytes_left(const struct run_plan *plan, const struct run_plan_now *now,
    double *frac)
{
	uint64_t	ways = now->ways > 1 ? now->ways : 1, total, done;

	*frac = 1.0;
	if (run_plan_bulk_done(plan))
		return (0);
	total = plan->bulk_bytes * ways;
	done = plan->bulk_moved * ways + now->inflight_done;
	if (done > total)
		done = total;
	*frac = (double)done / (double)total;
	if (done == 0)
		return (-1);
	return ((int64_t)((double)(total - done) *
	    (double)now->elapsed_us / (double)done));
}

/*
 * The time left for the bulk probe in flight at its own pace, 0 if none
 * is in flight, -1 if it has moved nothing yet.
 */
static int64_t
plan_inflight_left(const struct run_plan_now *now)
{
	uint64_t	rest;

	if (now->inflight_total == 0)
		return (0);
	if (now->inflight_done == 0 || now->inflight_us <= 0)
		return (-1);
	rest = now->inflight_total > now->inflight_done ?
	    now->inflight_total - now->inflight_done : 0;
	return ((int64_t)((double)rest * (double)now->inflight_us /
	    (double)now->inflight_done));
}

/* Where the run stands against what ends it. */
void
run_plan_estimate(const struct run_plan *plan, const struct run_plan_now *now,
    struct run_plan_estimate *est)
{
	int64_t	el = now->elapsed_us > 0 ? now->elapsed_us : 0;
	int64_t	left = 0, bytes, flight;
	double	b, t = 1.0, e = 1.0;
	int	known = 1;

	est->done = -1;
	est->left_us = -1;
	if (plan->forever)
		return;
	if (plan->duration_us > 0 && plan->duration_us > el)
		left = plan->duration_us - el;
	if ((bytes = plan_bytes_left(plan, now, &b)) < 0)
		known = 0;
	else if (bytes > left)
		left = bytes;
	/* The end is looked for when a probe ends: not before this one. */
	if ((flight = plan_inflight_left(now)) > left)
		left = flight;
	else if (flight < 0 && left == 0)
		known = 0;
	if (plan->duration_us > 0 && el >= plan->duration_us &&
	    !run_plan_all_ran(plan))
		known = 0;
	/*
	 * The share is of the profile's own targets, never going back: a
	 * slice found to outlast the duration shows in the time left.
	 */
	if (plan->duration_us > 0) {
		t = (double)el / (double)plan->duration_us;
		if (t > 1.0)
			t = 1.0;
	}
	/* Where the sequential test decides the end, nobody knows when. */
	if (plan->duration_us == 0 &&
	    (plan->kinds & ~PROFILE_KIND(LQ_PROBE_BULK)) != 0) {
		known = 0;
		e = now->probes_need > 0 ? (double)now->probes /
		    (double)now->probes_need : 0.0;
		if (e > 1.0)
			e = 1.0;
	}
	est->done = t < b ? t : b;
	if (e < est->done)
		est->done = e;
	est->left_us = known ? left : -1;
}
