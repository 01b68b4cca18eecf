/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Unit tests for daemon/run-plan.c: the order of a cycle, bulk slices
 * and the bytes target, handshakes every N cycles, the plan out of
 * normal mode, the interval, the rewind after a probe that never ran,
 * that a kind counts as run only when a probe of it ended, and when a
 * run ends: a profile keeps its duration and its bytes, and stops
 * early only where it may and after every kind ran.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "compat/compat.h"
#include "config.h"
#include "linkq.h"
#include "run-plan.h"

#define MIB	(UINT64_C(1) << 20)
#define SEC	INT64_C(1000000)
#define ALL	(PROFILE_KIND(LQ_PROBE_MUX_CONNECT) | \
		 PROFILE_KIND(LQ_PROBE_LOCKDOWN_QUERY) | \
		 PROFILE_KIND(LQ_PROBE_LOCKDOWN_HANDSHAKE) | \
		 PROFILE_KIND(LQ_PROBE_AFC_ROUNDTRIP) | \
		 PROFILE_KIND(LQ_PROBE_BULK) | \
		 PROFILE_KIND(LQ_PROBE_USB_CONTROL))

static char	profile_name[] = "test";

static struct profile
profile(unsigned int kinds, int64_t duration, uint64_t bulk)
{
	struct profile	pr;

	memset(&pr, 0, sizeof pr);
	pr.name = profile_name;
	pr.kinds = kinds;
	pr.duration_us = duration;
	pr.bulk_bytes = bulk;
	pr.chunk_bytes = MIB;
	return (pr);
}

/* Plan the next kind and end it at once, as a probe that worked. */
static int
step(struct run_plan *plan)
{
	int	kind;

	kind = run_plan_next(plan);
	if (kind > 0)
		run_plan_ended(plan, kind, kind == LQ_PROBE_BULK ?
		    run_plan_bulk_size(plan) : 0);
	return (kind);
}

static void
test_cycle_order(void **state __unused)
{
	struct profile	pr = profile(ALL, 30 * SEC, 64 * MIB);
	struct run_plan	plan;
	static const int want[] = {
		LQ_PROBE_BULK, LQ_PROBE_USB_CONTROL, LQ_PROBE_MUX_CONNECT,
		LQ_PROBE_LOCKDOWN_QUERY, LQ_PROBE_LOCKDOWN_HANDSHAKE,
		LQ_PROBE_AFC_ROUNDTRIP,
		/* With a duration, the bulk stream goes on past its bytes. */
		LQ_PROBE_BULK, LQ_PROBE_USB_CONTROL
	};
	size_t		i;

	run_plan_init(&plan, &pr, LQ_MODE_NORMAL, 1);
	for (i = 0; i < nitems(want); i++)
		assert_int_equal(step(&plan), want[i]);
	assert_int_equal(plan.pos.cycle, 1);
	assert_int_equal(plan.bulk_moved, 128 * MIB);

	/* libusb does not see the device: no usb-control. */
	run_plan_init(&plan, &pr, LQ_MODE_NORMAL, 0);
	assert_int_equal(step(&plan), LQ_PROBE_BULK);
	assert_int_equal(step(&plan), LQ_PROBE_MUX_CONNECT);
}

static void
test_bulk_slices(void **state __unused)
{
	struct profile	pr = profile(PROFILE_KIND(LQ_PROBE_BULK) |
	    PROFILE_KIND(LQ_PROBE_MUX_CONNECT), 0, 100 * MIB);
	struct run_plan	plan;

	run_plan_init(&plan, &pr, LQ_MODE_NORMAL, 1);
	assert_int_equal(run_plan_bulk_size(&plan), RUN_PLAN_BULK_SLICE);
	assert_int_equal(run_plan_next(&plan), LQ_PROBE_BULK);
	/* A probe cut short moves what it moved. */
	run_plan_ended(&plan, LQ_PROBE_BULK, 10 * MIB);
	assert_false(run_plan_bulk_done(&plan));
	assert_int_equal(run_plan_bulk_size(&plan), 64 * MIB);
	run_plan_ended(&plan, LQ_PROBE_BULK, 64 * MIB);
	assert_int_equal(run_plan_bulk_size(&plan), 26 * MIB);
	run_plan_ended(&plan, LQ_PROBE_BULK, 26 * MIB);
	assert_true(run_plan_bulk_done(&plan));
	/* Without a duration, no more bulk once the bytes are moved. */
	assert_int_equal(step(&plan), LQ_PROBE_MUX_CONNECT);
	assert_int_equal(step(&plan), LQ_PROBE_MUX_CONNECT);
	assert_int_equal(plan.bulk_moved, 100 * MIB);

	/* No bulk kind, no bulk whatever the bytes say. */
	pr = profile(PROFILE_KIND(LQ_PROBE_MUX_CONNECT), 0, 64 * MIB);
	run_plan_init(&plan, &pr, LQ_MODE_NORMAL, 1);
	assert_int_equal(run_plan_bulk_size(&plan), 0);
	assert_true(run_plan_bulk_done(&plan));
}

/* restore: bulk alone, a handshake every ten cycles. */
static void
test_handshake_every(void **state __unused)
{
	struct profile	pr = profile(PROFILE_KIND(LQ_PROBE_BULK), 0,
	    UINT64_C(8000000000));
	struct run_plan	plan;
	unsigned int	i, handshakes = 0, bulk = 0;
	int		kind;

	pr.handshake_every = 10;
	run_plan_init(&plan, &pr, LQ_MODE_NORMAL, 1);
	assert_true(run_plan_expected(&plan) ==
	    (PROFILE_KIND(LQ_PROBE_BULK) |
	    PROFILE_KIND(LQ_PROBE_LOCKDOWN_HANDSHAKE)));
	for (i = 0; i < 40; i++) {
		kind = step(&plan);
		if (kind == LQ_PROBE_LOCKDOWN_HANDSHAKE) {
			handshakes++;
			assert_int_equal(plan.pos.cycle % 10, 0);
		} else {
			assert_int_equal(kind, LQ_PROBE_BULK);
			bulk++;
		}
	}
	/* In cycles 0, 10, 20 and 30 of the first 36. */
	assert_int_equal(handshakes, 4);
	assert_int_equal(bulk, 36);
}

static void
test_modes(void **state __unused)
{
	struct profile	pr = profile(ALL, 30 * SEC, 64 * MIB);
	struct run_plan	plan;

	pr.handshake_every = 2;
	run_plan_init(&plan, &pr, LQ_MODE_RECOVERY, 1);
	assert_int_equal(step(&plan), LQ_PROBE_USB_CONTROL);
	assert_int_equal(step(&plan), LQ_PROBE_USB_CONTROL);
	assert_true(run_plan_bulk_done(&plan));
	assert_true(run_plan_all_ran(&plan));

	/* Nothing it can do: the plan is empty. */
	run_plan_init(&plan, &pr, LQ_MODE_DFU, 0);
	assert_int_equal(run_plan_next(&plan), 0);
}

static void
test_interval(void **state __unused)
{
	struct profile	pr = profile(PROFILE_KIND(LQ_PROBE_MUX_CONNECT) |
	    PROFILE_KIND(LQ_PROBE_LOCKDOWN_QUERY), 0, 0);
	struct run_plan	plan;

	pr.interval_us = 10 * SEC;
	pr.forever = 1;
	run_plan_init(&plan, &pr, LQ_MODE_NORMAL, 1);
	assert_int_equal(step(&plan), LQ_PROBE_MUX_CONNECT);
	assert_int_equal(step(&plan), LQ_PROBE_LOCKDOWN_QUERY);
	assert_int_equal(run_plan_next(&plan), -1);
	assert_int_equal(step(&plan), LQ_PROBE_MUX_CONNECT);
}

/* A probe planned ahead that never ran: the plan goes back to it. */
static void
test_rewind(void **state __unused)
{
	struct profile		pr;
	struct run_plan		plan;
	struct run_plan_pos	before;

	pr = profile(PROFILE_KIND(LQ_PROBE_MUX_CONNECT) |
	    PROFILE_KIND(LQ_PROBE_LOCKDOWN_QUERY) |
	    PROFILE_KIND(LQ_PROBE_AFC_ROUNDTRIP), 6 * SEC, 0);

	run_plan_init(&plan, &pr, LQ_MODE_NORMAL, 1);
	assert_int_equal(step(&plan), LQ_PROBE_MUX_CONNECT);
	assert_int_equal(run_plan_next(&plan), LQ_PROBE_LOCKDOWN_QUERY);
	before = plan.planned;
	assert_int_equal(run_plan_next(&plan), LQ_PROBE_AFC_ROUNDTRIP);
	run_plan_rewind(&plan, &before);
	assert_int_equal(run_plan_next(&plan), LQ_PROBE_LOCKDOWN_QUERY);

	/* Across a cycle's end. */
	run_plan_init(&plan, &pr, LQ_MODE_NORMAL, 1);
	(void)step(&plan);
	(void)step(&plan);
	(void)step(&plan);
	assert_int_equal(run_plan_next(&plan), LQ_PROBE_MUX_CONNECT);
	assert_int_equal(plan.pos.cycle, 1);
	before = plan.planned;
	run_plan_rewind(&plan, &before);
	assert_int_equal(plan.pos.cycle, 0);
	assert_int_equal(run_plan_next(&plan), LQ_PROBE_MUX_CONNECT);
	assert_int_equal(plan.pos.cycle, 1);
}

/*
 * A kind counts as run when a probe of it ended, not when it was
 * planned: a probe queued ahead may never run (issue 13).
 */
static void
test_all_ran_counts_ended(void **state __unused)
{
	struct profile		pr;
	struct run_plan		plan;
	struct run_plan_state	st;

	pr = profile(PROFILE_KIND(LQ_PROBE_LOCKDOWN_QUERY) |
	    PROFILE_KIND(LQ_PROBE_AFC_ROUNDTRIP), 0, 0);
	pr.stop_early = 1;
	run_plan_init(&plan, &pr, LQ_MODE_NORMAL, 1);
	memset(&st, 0, sizeof st);
	st.passed = st.decided = 1;
	assert_int_equal(step(&plan), LQ_PROBE_LOCKDOWN_QUERY);
	/* afc-roundtrip is planned (queued ahead) but has not ended. */
	assert_int_equal(run_plan_next(&plan), LQ_PROBE_AFC_ROUNDTRIP);
	assert_false(run_plan_all_ran(&plan));
	assert_int_equal(run_plan_end(&plan, &st), RUN_PLAN_GO_ON);
	run_plan_ended(&plan, LQ_PROBE_AFC_ROUNDTRIP, 0);
	assert_true(run_plan_all_ran(&plan));
	assert_int_equal(run_plan_end(&plan, &st), RUN_PLAN_STOP);
	/* Out of range kinds are ignored. */
	run_plan_ended(&plan, 0, 0);
	run_plan_ended(&plan, LQ_PROBE_KIND_MAX + 1, 0);
	assert_true(run_plan_all_ran(&plan));
}

/* A profile keeps its word: duration and bytes both. */
static void
test_end_duration(void **state __unused)
{
	struct profile		pr = profile(ALL, 300 * SEC, 256 * MIB);
	struct run_plan		plan;
	struct run_plan_state	st;
	int			i;

	run_plan_init(&plan, &pr, LQ_MODE_NORMAL, 1);
	memset(&st, 0, sizeof st);
	for (i = 0; i < 6; i++)
		(void)step(&plan);
	assert_true(run_plan_all_ran(&plan));
	/* A PASS does not stop a profile that may not stop early. */
	st.passed = st.decided = 1;
	st.elapsed_us = 299 * SEC;
	assert_int_equal(run_plan_end(&plan, &st), RUN_PLAN_GO_ON);
	/* The time is up but the bytes are not moved. */
	st.elapsed_us = 300 * SEC;
	assert_false(run_plan_bulk_done(&plan));
	assert_int_equal(run_plan_end(&plan, &st), RUN_PLAN_GO_ON);
	while (!run_plan_bulk_done(&plan))
		(void)step(&plan);
	assert_int_equal(run_plan_end(&plan, &st), RUN_PLAN_FINISHED);

	/* The time ran out inside the first bulk probe: every kind first. */
	run_plan_init(&plan, &pr, LQ_MODE_NORMAL, 1);
	while (!run_plan_bulk_done(&plan))
		run_plan_ended(&plan, LQ_PROBE_BULK, RUN_PLAN_BULK_SLICE);
	st.elapsed_us = 400 * SEC;
	assert_int_equal(run_plan_end(&plan, &st), RUN_PLAN_GO_ON);
	run_plan_ended(&plan, LQ_PROBE_USB_CONTROL, 0);
	run_plan_ended(&plan, LQ_PROBE_MUX_CONNECT, 0);
	run_plan_ended(&plan, LQ_PROBE_LOCKDOWN_QUERY, 0);
	run_plan_ended(&plan, LQ_PROBE_LOCKDOWN_HANDSHAKE, 0);
	assert_int_equal(run_plan_end(&plan, &st), RUN_PLAN_GO_ON);
	run_plan_ended(&plan, LQ_PROBE_AFC_ROUNDTRIP, 0);
	assert_int_equal(run_plan_end(&plan, &st), RUN_PLAN_FINISHED);
	/* A FAIL ends it at any time. */
	st.failed = 1;
	st.elapsed_us = 1;
	assert_int_equal(run_plan_end(&plan, &st), RUN_PLAN_STOP);

	/* Where the profile allows it, a PASS stops it early. */
	pr.stop_early = 1;
	run_plan_init(&plan, &pr, LQ_MODE_NORMAL, 1);
	memset(&st, 0, sizeof st);
	st.passed = 1;
	st.elapsed_us = 10 * SEC;
	while (!run_plan_bulk_done(&plan) || !run_plan_all_ran(&plan)) {
		assert_int_equal(run_plan_end(&plan, &st), RUN_PLAN_GO_ON);
		(void)step(&plan);
	}
	assert_int_equal(run_plan_end(&plan, &st), RUN_PLAN_STOP);
}

static void
test_end_without_duration(void **state __unused)
{
	struct profile		pr = profile(PROFILE_KIND(LQ_PROBE_BULK), 0,
	    128 * MIB);
	struct run_plan		plan;
	struct run_plan_state	st;

	/* Bulk alone: finished when the bytes are moved. */
	pr.handshake_every = 10;
	run_plan_init(&plan, &pr, LQ_MODE_NORMAL, 1);
	memset(&st, 0, sizeof st);
	assert_int_equal(step(&plan), LQ_PROBE_BULK);
	assert_int_equal(run_plan_end(&plan, &st), RUN_PLAN_GO_ON);
	assert_int_equal(step(&plan), LQ_PROBE_LOCKDOWN_HANDSHAKE);
	assert_int_equal(run_plan_end(&plan, &st), RUN_PLAN_GO_ON);
	assert_int_equal(step(&plan), LQ_PROBE_BULK);
	assert_int_equal(run_plan_end(&plan, &st), RUN_PLAN_FINISHED);

	/* Round trips: finished when the sequential test decided. */
	pr = profile(PROFILE_KIND(LQ_PROBE_MUX_CONNECT), 0, 0);
	run_plan_init(&plan, &pr, LQ_MODE_NORMAL, 1);
	memset(&st, 0, sizeof st);
	(void)step(&plan);
	assert_int_equal(run_plan_end(&plan, &st), RUN_PLAN_GO_ON);
	st.decided = 1;
	assert_int_equal(run_plan_end(&plan, &st), RUN_PLAN_FINISHED);

	/* Forever: only a FAIL ends it. */
	pr.forever = 1;
	run_plan_init(&plan, &pr, LQ_MODE_NORMAL, 1);
	(void)step(&plan);
	st.passed = 1;
	assert_int_equal(run_plan_end(&plan, &st), RUN_PLAN_GO_ON);
	st.failed = 1;
	assert_int_equal(run_plan_end(&plan, &st), RUN_PLAN_STOP);
}

static void
test_progress(void **state __unused)
{
	struct profile	pr = profile(ALL, 100 * SEC, 100 * MIB);
	struct run_plan	plan;

	run_plan_init(&plan, &pr, LQ_MODE_NORMAL, 1);
	/* The slower of time and bytes. */
	assert_true(run_plan_progress(&plan, 50 * SEC, 0) == 0.0);
	run_plan_ended(&plan, LQ_PROBE_BULK, 25 * MIB);
	assert_true(run_plan_progress(&plan, 50 * SEC, 0) == 0.25);
	assert_true(run_plan_progress(&plan, 10 * SEC, 25 * MIB) == 0.1);
	run_plan_ended(&plan, LQ_PROBE_BULK, 100 * MIB);
	assert_true(run_plan_progress(&plan, 50 * SEC, 0) == 0.5);
	assert_true(run_plan_progress(&plan, 500 * SEC, 0) == 1.0);
}

/* Estimate with nothing in flight but the given elapsed time. */
static struct run_plan_estimate
estimate(const struct run_plan *plan, int64_t elapsed)
{
	struct run_plan_now		now;
	struct run_plan_estimate	est;

	memset(&now, 0, sizeof(now));
	now.elapsed_us = elapsed;
	run_plan_estimate(plan, &now, &est);
	return (est);
}

static void
test_estimate_duration(void **state __unused)
{
	struct profile			pr = profile(ALL, 4 * SEC, 16 * MIB);
	struct run_plan			plan;
	struct run_plan_now		now;
	struct run_plan_estimate	est;

	run_plan_init(&plan, &pr, LQ_MODE_NORMAL, 1);
	/* Nothing moved yet: the bytes cannot be timed. */
	est = estimate(&plan, 1 * SEC);
	assert_true(est.left_us < 0);
	run_plan_ended(&plan, LQ_PROBE_BULK, 16 * MIB);
	while (!run_plan_all_ran(&plan))
		(void)step(&plan);
	/* The duration decides: elapsed and left add up to it. */
	est = estimate(&plan, 1 * SEC);
	assert_int_equal(est.left_us, 3 * SEC);
	assert_true(est.done == 0.25);
	/* Past it, a bulk slice in flight is what the end waits for. */
	memset(&now, 0, sizeof(now));
	now.elapsed_us = 5 * SEC;
	now.inflight_done = 16 * MIB;	/* written, none read back */
	now.inflight_total = 32 * MIB;
	now.inflight_us = 2 * SEC;
	run_plan_estimate(&plan, &now, &est);
	assert_int_equal(est.left_us, 2 * SEC);
	assert_true(est.done == 1.0);
	/* One that moved nothing yet: nobody can tell. */
	now.inflight_done = 0;
	run_plan_estimate(&plan, &now, &est);
	assert_true(est.left_us < 0);
	assert_true(est.done == 1.0);
	/* Before the end of the duration, a slice that ends sooner. */
	now.elapsed_us = 1 * SEC;
	now.inflight_done = 8 * MIB;
	now.inflight_us = SEC / 10;
	run_plan_estimate(&plan, &now, &est);
	assert_int_equal(est.left_us, 3 * SEC);
}

static void
test_estimate_evidence(void **state __unused)
{
	struct profile			pr = profile(ALL, 0, 16 * MIB);
	struct run_plan			plan;
	struct run_plan_now		now;
	struct run_plan_estimate	est;

	run_plan_init(&plan, &pr, LQ_MODE_NORMAL, 1);
	run_plan_ended(&plan, LQ_PROBE_BULK, 16 * MIB);
	memset(&now, 0, sizeof(now));
	now.elapsed_us = 2 * SEC;
	now.probes = 30;
	now.probes_need = 120;
	run_plan_estimate(&plan, &now, &est);
	/* The sequential test decides: a share, and no time left. */
	assert_true(est.done == 0.25);
	assert_true(est.left_us < 0);

	/* Bulk only, no duration: the bytes at the run's pace. */
	pr = profile(PROFILE_KIND(LQ_PROBE_BULK), 0, 100 * MIB);
	run_plan_init(&plan, &pr, LQ_MODE_NORMAL, 1);
	run_plan_ended(&plan, LQ_PROBE_BULK, 25 * MIB);
	est = estimate(&plan, 1 * SEC);
	assert_int_equal(est.left_us, 3 * SEC);
	assert_true(est.done == 0.25);

	/* Forever: no end. */
	pr.forever = 1;
	run_plan_init(&plan, &pr, LQ_MODE_NORMAL, 1);
	est = estimate(&plan, 1 * SEC);
	assert_true(est.done < 0 && est.left_us < 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cycle_order),
		cmocka_unit_test(test_bulk_slices),
		cmocka_unit_test(test_handshake_every),
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_interval),
		cmocka_unit_test(test_rewind),
		cmocka_unit_test(test_all_ran_counts_ended),
		cmocka_unit_test(test_end_duration),
		cmocka_unit_test(test_end_without_duration),
		cmocka_unit_test(test_progress),
		cmocka_unit_test(test_estimate_duration),
		cmocka_unit_test(test_estimate_evidence),
	};

	return (cmocka_run_group_tests_name("run-plan", tests, NULL, NULL));
}
