/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Unit tests for common/verdict.c: the Clopper-Pearson bound and the
 * sequential test against the worked tables of
 * research/linux-usb-signals-and-performance.md A6 and against values
 * computed with mpmath at 60 digits, then every verdict rule with the
 * exact words a technician reads, and the JSON of the reasons.
 */

#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "compat/compat.h"
#include "linkq.h"
#include "lq-verdict.h"

#define MIB	(UINT64_C(1) << 20)

/* Assert that got is within rel of want, relatively. */
static void
assert_rel(double got, double want, double rel)
{
	if (!(fabs(got - want) <= rel * fabs(want)))
		fail_msg("got %.17g, want %.17g (relative error %.3g > %.3g)",
		    got, want, fabs(got - want) / fabs(want), rel);
}

/*
 * Assert that n is the smallest sample size whose bound reaches p:
 * lq_cp_upper(n, k) <= p < lq_cp_upper(n - 1, k).
 */
static void
assert_crosses(uint64_t n, uint64_t k, double alpha, double p)
{
	double	before, at;

	before = lq_cp_upper(n - 1, k, alpha);
	at = lq_cp_upper(n, k, alpha);
	if (!(before > p && at <= p))
		fail_msg("k=%" PRIu64 " p=%g: bound %.9g at n-1=%" PRIu64
		    ", %.9g at n=%" PRIu64, k, p, before, n - 1, at, n);
}

/* A6 worked table, exact one-sided k = 0: 299, 2995, 29956. */
static void
test_cp_exact_k0(void **state __unused)
{
	static const struct {
		double		p;
		uint64_t	n;
	} rows[] = {
		{ 1e-2, 299 }, { 1e-3, 2995 }, { 1e-4, 29956 },
	};
	size_t		i;
	uint64_t	n;

	for (i = 0; i < nitems(rows); i++) {
		assert_crosses(rows[i].n, 0, 0.05, rows[i].p);
		/* n >= ln(alpha) / ln(1 - p*) */
		assert_int_equal(rows[i].n,
		    (uint64_t)ceil(log(0.05) / log1p(-rows[i].p)));
	}
	/* The closed form 1 - alpha^(1/n). */
	for (n = 1; n < 100000; n = n * 3 + 1)
		assert_rel(lq_cp_upper(n, 0, 0.05), 1 - pow(0.05, 1.0 / n),
		    1e-11);
}

/* A6: 0 failures in 1 000 / 10 000 / 100 000 bound 3.0e-3/-4/-5. */
static void
test_cp_reverse_check(void **state __unused)
{
	char	buf[32];

	(void)snprintf(buf, sizeof buf, "%.1e", lq_cp_upper(1000, 0, 0.05));
	assert_string_equal(buf, "3.0e-03");
	(void)snprintf(buf, sizeof buf, "%.1e", lq_cp_upper(10000, 0, 0.05));
	assert_string_equal(buf, "3.0e-04");
	(void)snprintf(buf, sizeof buf, "%.1e", lq_cp_upper(100000, 0,
	    0.05));
	assert_string_equal(buf, "3.0e-05");
}

/* A6 worked table, exact with k = 1, 2, 3 failures allowed. */
static void
test_cp_k_columns(void **state __unused)
{
	static const struct {
		double		p;
		uint64_t	n[3];
	} rows[] = {
		{ 1e-2, { 473, 628, 773 } },
		{ 1e-3, { 4742, 6294, 7752 } },
		{ 1e-4, { 47437, 62956, 77535 } },
	};
	size_t	i, k;

	for (i = 0; i < nitems(rows); i++) {
		for (k = 1; k <= 3; k++)
			assert_crosses(rows[i].n[k - 1], k, 0.05, rows[i].p);
	}
}

/* A6: exact two-sided k = 0, which is the one-sided bound at 0.025. */
static void
test_cp_two_sided_column(void **state __unused)
{
	assert_crosses(368, 0, 0.025, 1e-2);
	assert_crosses(3688, 0, 0.025, 1e-3);
	assert_crosses(36887, 0, 0.025, 1e-4);
}

/*
 * A6's Poisson factors: n p_U tends to chi2(0.95; 2k + 2) / 2, that is
 * 2.996, 4.744, 6.296 and 7.754 for k = 0 to 3.
 */
static void
test_cp_poisson_limit(void **state __unused)
{
	static const double	factor[] = { 2.996, 4.744, 6.296, 7.754 };
	char			buf[32], want[32];
	uint64_t		k;

	for (k = 0; k < nitems(factor); k++) {
		(void)snprintf(buf, sizeof buf, "%.3f",
		    1e9 * lq_cp_upper(1000000000, k, 0.05));
		(void)snprintf(want, sizeof want, "%.3f", factor[k]);
		assert_string_equal(buf, want);
	}
}

/* Against mpmath, 60 digits: relative accuracy 1e-9 or better. */
static void
test_cp_reference_values(void **state __unused)
{
	static const struct {
		uint64_t	n, k;
		double		p;
	} refs[] = {
		{ 1000, 5, 0.010484076911415654 },
		{ 10, 3, 0.60662421610541343 },
		{ 7, 2, 0.65873856384466403 },
		{ 20, 1, 0.21610616420684735 },
		{ 100, 50, 0.58637828536908824 },
		{ 3000, 10, 0.0056475123900622794 },
		{ 473, 1, 0.0099897074742246948 },
		{ 472, 1, 0.010010788208807356 },
		{ 581, 1, 0.0081387393812262356 },
		{ 200, 0, 0.014867039231272058 },
		{ 5000, 2500, 0.51172867404094371 },
		{ 10000, 3000, 0.30763012639109757 },
		{ 1000000, 1, 4.7438556382068105e-6 },
		{ UINT64_C(1000000000), 0, 2.9957322690667851e-9 },
		{ UINT64_C(1000000000000), 5, 1.0513034908712553e-11 },
		{ UINT64_C(1000000000000000), 100, 1.1807927278209599e-13 },
		{ UINT64_MAX, 0, 1.6239897195860882e-19 },
		{ UINT64_MAX, 3, 4.2032656261455379e-19 },
		{ UINT64_MAX, 1000000, 5.4299361381349209e-14 },
		{ 10, 9, 0.9948838031081763 },
		{ 50, 49, 0.99897466013276794 },
		{ 1000, 999, 0.99994870802109098 },
		/*
		 * Past 1e12 on both sides, where the continued fraction
		 * takes over: the Poisson limit (within 1e-13 at n = 2^64)
		 * and the normal one with continuity correction (1e-12).
		 */
		{ UINT64_MAX, UINT64_C(1000000000001), 5.4210197792108249e-8 },
		{ UINT64_MAX, UINT64_C(2000000000000), 1.0842034335079735e-7 },
		{ UINT64_C(4000000000001), UINT64_C(2000000000000),
		    0.50000041121340674 },
	};
	size_t	i;

	for (i = 0; i < nitems(refs); i++)
		assert_rel(lq_cp_upper(refs[i].n, refs[i].k, 0.05), refs[i].p,
		    1e-9);
}

/* Closed forms: k = n - 1 gives (1 - alpha)^(1/n). */
static void
test_cp_closed_forms(void **state __unused)
{
	uint64_t	n;

	assert_rel(lq_cp_upper(2, 1, 0.05), sqrt(0.95), 1e-12);
	for (n = 2; n < 2000000; n = n * 7 + 3)
		assert_rel(lq_cp_upper(n, n - 1, 0.05),
		    exp(log1p(-0.05) / (double)n), 1e-12);
	assert_rel(lq_cp_upper(UINT64_MAX, UINT64_MAX - 1, 0.05),
	    exp(log1p(-0.05) / 0x1p64), 1e-12);
}

static void
test_cp_edges(void **state __unused)
{
	double		prev, v;
	uint64_t	n, k;

	/* No trials bound nothing; all failed bounds nothing. */
	assert_rel(lq_cp_upper(0, 0, 0.05), 1.0, 0);
	assert_rel(lq_cp_upper(1, 1, 0.05), 1.0, 0);
	assert_rel(lq_cp_upper(UINT64_MAX, UINT64_MAX, 0.05), 1.0, 0);
	assert_rel(lq_cp_upper(1, 0, 0.05), 0.95, 1e-15);
	/* Not a question. */
	assert_true(isnan(lq_cp_upper(1, 2, 0.05)));
	assert_true(isnan(lq_cp_upper(0, 1, 0.05)));
	assert_true(isnan(lq_cp_upper(10, 1, 0.0)));
	assert_true(isnan(lq_cp_upper(10, 1, 0.5)));
	assert_true(isnan(lq_cp_upper(10, 1, 1.0)));
	assert_true(isnan(lq_cp_upper(10, 1, -0.05)));
	assert_true(isnan(lq_cp_upper(10, 1, NAN)));

	/* Falls as clean trials add up, rises with failures. */
	for (k = 0; k < 40; k += 3) {
		prev = 1.0;
		for (n = k + 1; n < 5000; n += n / 3 + 1) {
			v = lq_cp_upper(n, k, 0.05);
			assert_true(v > 0.0 && v < prev);
			if (k > 0)
				assert_true(v > lq_cp_upper(n, k - 1, 0.05));
			assert_true(v >= (double)k / (double)n);
			prev = v;
		}
	}

	/* Huge counts on both sides: finite, sane, quick. */
	v = lq_cp_upper(UINT64_MAX, UINT64_MAX / 2, 0.05);
	assert_true(v > 0.5 && v < 0.5 + 1e-9);
	v = lq_cp_upper(UINT64_C(1000000000000), UINT64_C(500000000000),
	    0.05);
	/* Normal approximation: 1/2 + 1.6449 * sqrt(1/4 / n). */
	assert_rel(v, 0.5 + 1.6448536 * 0.5e-6, 1e-9);
}

static const struct lq_sprt sprt_default = { 1e-3, 1e-2, 0.05, 0.05, 3000 };

/* A6 "Sequential test" worked table, alpha = beta = 0.05. */
static void
test_sprt_worked_table(void **state __unused)
{
	static const struct {
		double		p0, p1;
		uint64_t	pass0;	/* A6: real boundary, rounded */
		uint64_t	exact;	/* the first n that passes */
		uint64_t	per_failure;
		uint64_t	en_good, en_bad;
	} rows[] = {
		{ 1e-3, 1e-2, 325, 326, 255, 393, 188 },
		{ 1e-4, 1e-3, 3270, 3270, 2558, 3954, 1889 },
		{ 1e-5, 1e-4, 32714, 32715, 25584, 39565, 18893 },
		{ 2e-3, 1e-2, 366, 366, 201, 551, 326 },
		{ 2e-4, 1e-3, 3678, 3679, 2012, 5539, 3273 },
	};
	struct lq_sprt	t;
	uint64_t	n0, n1;
	size_t		i;

	for (i = 0; i < nitems(rows); i++) {
		t.p0 = rows[i].p0;
		t.p1 = rows[i].p1;
		t.alpha = t.beta = 0.05;
		t.n_max = 0;
		assert_true(lq_sprt_valid(&t));

		/* Pass at 0 failures after n: A6 rounds -B/c to nearest. */
		n0 = lq_sprt_pass_n(&t, 0);
		assert_int_equal(n0, rows[i].exact);
		assert_true(n0 - rows[i].pass0 <= 1);
		assert_int_equal(lq_sprt_decide(&t, n0 - 1, 0),
		    LQ_SPRT_CONTINUE);
		assert_int_equal(lq_sprt_decide(&t, n0, 0), LQ_SPRT_ACCEPT);

		/* Each failure adds (d + c) / c probes, a real number. */
		assert_int_equal((uint64_t)floor((lq_sprt_pass_n(&t, 100) -
		    n0) / 100.0 + 0.5), rows[i].per_failure);
		n1 = lq_sprt_pass_n(&t, 1) - n0;
		assert_true(n1 + 1 >= rows[i].per_failure &&
		    n1 <= rows[i].per_failure + 1);

		/* Fails immediately at k >= 2. */
		assert_int_equal(lq_sprt_decide(&t, 1, 1), LQ_SPRT_CONTINUE);
		assert_int_equal(lq_sprt_decide(&t, 2, 2), LQ_SPRT_REJECT);
		assert_int_equal(lq_sprt_decide(&t, 3, 2), LQ_SPRT_REJECT);

		/* Expected sample sizes. */
		assert_int_equal((uint64_t)floor(lq_sprt_expected_n(&t, 0) +
		    0.5), rows[i].en_good);
		assert_int_equal((uint64_t)floor(lq_sprt_expected_n(&t, 1) +
		    0.5), rows[i].en_bad);
	}
}

/* A6: p0 1e-4, p1 1e-3: 2 failures fail up to n = 1846; 0 pass at 3270. */
static void
test_sprt_worked_example(void **state __unused)
{
	struct lq_sprt	t = { 1e-4, 1e-3, 0.05, 0.05, 0 };

	assert_int_equal(lq_sprt_decide(&t, 1846, 2), LQ_SPRT_REJECT);
	assert_int_equal(lq_sprt_decide(&t, 1847, 2), LQ_SPRT_CONTINUE);
	assert_int_equal(lq_sprt_decide(&t, 3269, 0), LQ_SPRT_CONTINUE);
	assert_int_equal(lq_sprt_decide(&t, 3270, 0), LQ_SPRT_ACCEPT);
}

/* Truncated at n_max: L < 0 accepts, else rejects. */
static void
test_sprt_truncation(void **state __unused)
{
	struct lq_sprt	t = sprt_default;
	uint64_t	k, n;

	/* At 3000, L < 0 while k < 3000 c / (d + c) = 11.74. */
	assert_int_equal(lq_sprt_decide(&t, 2999, 11), LQ_SPRT_CONTINUE);
	assert_int_equal(lq_sprt_decide(&t, 3000, 11), LQ_SPRT_ACCEPT);
	assert_int_equal(lq_sprt_decide(&t, 3000, 12), LQ_SPRT_REJECT);
	assert_int_equal(lq_sprt_decide(&t, 5000, 19), LQ_SPRT_ACCEPT);
	assert_int_equal(lq_sprt_decide(&t, 5000, 20), LQ_SPRT_REJECT);
	assert_int_equal(lq_sprt_pass_n(&t, 10), 2880);
	assert_int_equal(lq_sprt_pass_n(&t, 11), 3000);
	assert_int_equal(lq_sprt_pass_n(&t, 12), 3066);

	/* pass_n is the first n that accepts, truncated or not. */
	for (k = 0; k < 40; k++) {
		n = lq_sprt_pass_n(&t, k);
		assert_int_not_equal(lq_sprt_decide(&t, n - 1, k),
		    LQ_SPRT_ACCEPT);
		assert_int_equal(lq_sprt_decide(&t, n, k), LQ_SPRT_ACCEPT);
	}
	t.n_max = 0;
	for (k = 0; k < 40; k++) {
		n = lq_sprt_pass_n(&t, k);
		assert_int_not_equal(lq_sprt_decide(&t, n - 1, k),
		    LQ_SPRT_ACCEPT);
		assert_int_equal(lq_sprt_decide(&t, n, k), LQ_SPRT_ACCEPT);
	}
}

static void
test_sprt_edges(void **state __unused)
{
	static const struct lq_sprt	bad[] = {
		{ 1e-2, 1e-3, 0.05, 0.05, 0 },	/* p0 > p1 */
		{ 1e-2, 1e-2, 0.05, 0.05, 0 },
		{ 0.0, 1e-2, 0.05, 0.05, 0 },
		{ 1e-3, 1.0, 0.05, 0.05, 0 },
		{ 1e-3, 1e-2, 0.0, 0.05, 0 },
		{ 1e-3, 1e-2, 0.05, 1.0, 0 },
		{ 1e-3, 1e-2, 0.6, 0.5, 0 },	/* alpha + beta >= 1 */
		{ NAN, 1e-2, 0.05, 0.05, 0 },
		{ 1e-3, 1e-2, NAN, 0.05, 0 },
	};
	struct lq_sprt	t = sprt_default;
	size_t		i;

	for (i = 0; i < nitems(bad); i++) {
		assert_false(lq_sprt_valid(&bad[i]));
		assert_int_equal(lq_sprt_decide(&bad[i], 100, 50),
		    LQ_SPRT_CONTINUE);
		assert_int_equal(lq_sprt_pass_n(&bad[i], 0), UINT64_MAX);
		assert_true(isnan(lq_sprt_expected_n(&bad[i], 0)));
	}
	/* No evidence, or impossible evidence: no decision. */
	assert_int_equal(lq_sprt_decide(&t, 0, 0), LQ_SPRT_CONTINUE);
	t.n_max = 0;
	assert_int_equal(lq_sprt_decide(&t, 0, 0), LQ_SPRT_CONTINUE);
	assert_int_equal(lq_sprt_decide(&t, 5, 6), LQ_SPRT_CONTINUE);
	/* Without truncation a middling rate may never decide... */
	assert_int_equal(lq_sprt_decide(&t, 1000000, 3915),
	    LQ_SPRT_CONTINUE);
	/* ...and huge counts stay in range. */
	assert_int_equal(lq_sprt_decide(&t, UINT64_MAX, 0), LQ_SPRT_ACCEPT);
	assert_int_equal(lq_sprt_decide(&t, UINT64_MAX, UINT64_MAX),
	    LQ_SPRT_REJECT);
	assert_int_equal(lq_sprt_pass_n(&t, UINT64_MAX / 2), UINT64_MAX);
	assert_int_equal(lq_sprt_pass_n(&t, UINT64_MAX), UINT64_MAX);
	t.n_max = 3000;
	assert_int_equal(lq_sprt_decide(&t, UINT64_MAX, UINT64_MAX / 2),
	    LQ_SPRT_REJECT);
}

#define GB	UINT64_C(1000000000)
#define MINUTE	INT64_C(60000000)	/* in microseconds */

/*
 * The words of the clean run below: 5 minutes of load, 1 GB each way,
 * 300 round trips. Without a fault the 95% bound is -ln 0.05 = 3.0
 * faults, over 5 minutes and 2 GB, rounded up; the power is 1 - e^-5
 * and 1 - e^-0.5, rounded down.
 */
#define CLEAN_WORDS	"5 min 0 s under load, 1.0 GB each way, 300 " \
			"round trips"
#define CLEAN_BOUNDS	"at most 0.60 faults per minute of load and 1.5 per " \
			"GB (95% upper bound)"
#define CLEAN_POWER	"a cable that faults once a minute would have shown " \
			"with 99.3% probability; one that faults once in ten " \
			"minutes, 39%"
#define TRIAGE		"triage: this rules out only frequent faults; run " \
			"the restore profile before a restore"

/* What the clean run passes with. */
static const char *const	clean_pass[] = {
	CLEAN_WORDS " without a fault", CLEAN_BOUNDS, CLEAN_POWER, NULL
};

/*
 * Move bulk data: the bulk counters and the exposure's bytes agree (the
 * few bytes of the round trips are left out).
 */
static void
set_bulk(struct lq_run_evidence *ev, uint64_t out, uint64_t in)
{
	ev->bulk_bytes_out = ev->exposure.bytes_out = out;
	ev->bulk_bytes_in = ev->exposure.bytes_in = in;
}

/*
 * Evidence that passes the default rules, to spoil one way at a time: a
 * plan that moves bulk data has run to its end, 326 probes (the test's
 * first pass), 300 of them round trips, in 5 minutes of load with 1 GB
 * each way.
 */
static void
clean_run(struct lq_run_evidence *ev)
{
	memset(ev, 0, sizeof *ev);
	ev->probes = 326;
	ev->exposure.load_us = 5 * MINUTE;
	ev->exposure.round_trips = 300;
	set_bulk(ev, GB, GB);
	ev->speed_mbps = 480;
	ev->best_speed_mbps = 480;
	ev->mode = LQ_MODE_NORMAL;
	ev->finished = 1;
	ev->bulk_planned = 1;
}

/*
 * Decide with rules; check the verdict and every reason in order, and
 * leave the result in res for the caller to look at further.
 */
static void
check_rules_verdict(const struct lq_verdict_rules *rules,
    const struct lq_run_evidence *ev, enum lq_verdict want,
    const char *const *reasons, struct lq_verdict_result *res)
{
	int	i;

	lq_verdict_decide(rules, ev, res);
	for (i = 0; reasons[i] != NULL; i++) {
		if (i >= res->nreasons)
			fail_msg("reason %d missing: \"%s\"", i, reasons[i]);
		assert_string_equal(res->reasons[i], reasons[i]);
	}
	if (res->nreasons > i)
		fail_msg("extra reason: \"%s\"", res->reasons[i]);
	assert_int_equal(res->verdict, want);
}

/* The same with the default rules. */
static void
check_verdict(const struct lq_run_evidence *ev, enum lq_verdict want,
    const char *const *reasons)
{
	struct lq_verdict_rules		rules;
	struct lq_verdict_result	res;

	lq_verdict_rules_default(&rules);
	check_rules_verdict(&rules, ev, want, reasons, &res);
}

static void
test_rules(void **state __unused)
{
	struct lq_verdict_rules	r;

	lq_verdict_rules_default(&r);
	assert_rel(r.sprt.p0, 1e-3, 0);
	assert_rel(r.sprt.p1, 1e-2, 0);
	assert_rel(r.sprt.alpha, 0.05, 0);
	assert_rel(r.sprt.beta, 0.05, 0);
	assert_int_equal(r.sprt.n_max, 3000);
	assert_int_equal(r.min_probes, 200);
	assert_int_equal(r.min_bulk_bytes, 64 * MIB);
	assert_rel(r.marginal_upper, 0.01, 0);
	assert_null(lq_verdict_rules_check(&r));
	/* The defaults agree: the test's first pass is below 1% already. */
	assert_true(lq_cp_upper(lq_sprt_pass_n(&r.sprt, 0), 0,
	    LQ_VERDICT_CP_ALPHA) < r.marginal_upper);

	r.sprt.p1 = 1e-4;
	assert_string_equal(lq_verdict_rules_check(&r),
	    "the failure rates must satisfy 0 < p0 < p1 < 1");
	lq_verdict_rules_default(&r);
	r.sprt.beta = 0.96;
	assert_string_equal(lq_verdict_rules_check(&r), "the risks alpha and "
	    "beta must be between 0 and 1 and add up to less than 1");
	lq_verdict_rules_default(&r);
	r.marginal_upper = 0.0;
	assert_non_null(lq_verdict_rules_check(&r));
	r.marginal_upper = 1.5;
	assert_non_null(lq_verdict_rules_check(&r));
	r.marginal_upper = NAN;
	assert_non_null(lq_verdict_rules_check(&r));
}

/*
 * A PASS states the exposure, the bounds of the fault rate and the power
 * to have caught a bad cable; soft failures, if any, with their bound.
 */
static void
test_verdict_pass(void **state __unused)
{
	struct lq_run_evidence		ev;
	static const char *const	r2[] = {
		"20 min 0 s under load, 2.5 GB to the device and 3.1 GB back, "
		"1,150 round trips without a fault",
		"1 of 1200 probes failed (1 timeout): a failure rate below "
		"0.40% (95% upper bound)",
		"at most 0.15 faults per minute of load and 0.54 per GB (95% "
		"upper bound)",
		"a cable that faults once a minute would have shown with more "
		"than 99.9% probability; one that faults once in ten minutes, "
		"86%", NULL
	};
	static const char *const	r3[] = {
		"2 h 05 min under load, 1.6 GB each way, 12,345 round trips "
		"without a fault",
		"at most 0.024 faults per minute of load and 0.93 per GB (95% "
		"upper bound)",
		"a cable that faults once a minute would have shown with more "
		"than 99.9% probability; one that faults once in ten minutes, "
		"more than 99.9%", NULL
	};

	clean_run(&ev);
	check_verdict(&ev, LQ_VERDICT_PASS, clean_pass);
	/* At the plan's end, whether it could have stopped early is moot. */
	ev.stop_early = 1;
	check_verdict(&ev, LQ_VERDICT_PASS, clean_pass);

	/* A soft failure below the bound; unequal bytes each way. */
	clean_run(&ev);
	ev.probes = 1200;
	ev.failures = 1;
	ev.timeouts = 1;
	ev.exposure.load_us = 20 * MINUTE;
	ev.exposure.round_trips = 1150;
	set_bulk(&ev, UINT64_C(2500000000), UINT64_C(3100000000));
	check_verdict(&ev, LQ_VERDICT_PASS, r2);

	/* A long soak: tighter bounds, a power past what the words show. */
	clean_run(&ev);
	ev.probes = 12400;
	ev.exposure.load_us = 125 * MINUTE + 30000000;
	ev.exposure.round_trips = 12345;
	set_bulk(&ev, 1536 * MIB, 1536 * MIB);
	check_verdict(&ev, LQ_VERDICT_PASS, r3);
}

/*
 * Each hard signal alone fails the run with its own sentence, then the
 * faults against the exposure; at once, before the plan's end too.
 */
static void
test_verdict_hard_each(void **state __unused)
{
	static const struct {
		enum lq_hard_kind kind;
		unsigned int	 count;
		const char	*faults;
		const char	*reason;
	} kinds[] = {
		{ LQ_HARD_DROPOUT, 1, "1 fault",
		    "the device dropped out once" },
		{ LQ_HARD_DROPOUT, 2, "2 faults",
		    "the device dropped out 2 times" },
		{ LQ_HARD_STRANDED, 1, "1 fault",
		    "the device was stranded once: usbmuxd dropped it after a "
		    "failed transfer, only a replug brings it back" },
		{ LQ_HARD_RESET, 3, "3 faults",
		    "the kernel reset the device 3 times" },
		{ LQ_HARD_REENUMERATION, 1, "1 fault",
		    "the device re-enumerated once (it reset and came back "
		    "with a new device number)" },
		{ LQ_HARD_LINK_ERROR, 1, "1 fault",
		    "the kernel reported a USB link error" },
		{ LQ_HARD_LINK_ERROR, 3, "3 faults",
		    "the kernel reported USB link errors 3 times" },
		{ LQ_HARD_URB_ERROR, 1, "1 fault",
		    "a USB transfer failed with a link error" },
		{ LQ_HARD_URB_ERROR, 4, "4 faults",
		    "USB transfers failed with link errors 4 times" },
		{ LQ_HARD_CORRUPTION, 1, "1 fault",
		    "data read back differed from what was written (1 "
		    "corruption)" },
		{ LQ_HARD_CORRUPTION, 2, "2 faults",
		    "data read back differed from what was written (2 "
		    "corruptions)" },
		{ LQ_HARD_SPEED_FALLBACK, 1, "1 fault",
		    "the link fell back to a lower speed once" },
		{ LQ_HARD_ENUM_FAILURE, 2, "2 faults",
		    "the computer could not enumerate (recognise) the device 2 "
		    "times" },
		{ LQ_HARD_EMI_REENABLE, 1, "1 fault",
		    "the port was disabled by interference or a loose contact "
		    "and re-enabled once" },
		{ LQ_HARD_OVER_CURRENT, 1, "1 fault",
		    "over-current on the port once: that points to the port or "
		    "the hub's power, not the cable" },
		{ LQ_HARD_HC_FAILURE, 2, "2 faults",
		    "the host controller failed 2 times: that points to the "
		    "port or the computer, not the cable" },
	};
	struct lq_run_evidence	ev;
	char			faults[LQ_VERDICT_REASON_LEN];
	const char		*reasons[3];
	size_t			i;

	for (i = 0; i < nitems(kinds); i++) {
		clean_run(&ev);
		ev.probes = 5000;	/* plenty of clean probes */
		ev.hard[kinds[i].kind] = kinds[i].count;
		(void)snprintf(faults, sizeof faults, "%s in " CLEAN_WORDS,
		    kinds[i].faults);
		reasons[0] = kinds[i].reason;
		reasons[1] = faults;
		reasons[2] = NULL;
		check_verdict(&ev, LQ_VERDICT_FAIL, reasons);
		/* Where an early pass was allowed as well. */
		ev.finished = 0;
		ev.stop_early = 1;
		check_verdict(&ev, LQ_VERDICT_FAIL, reasons);
	}
}

/* Link and URB errors name their status in the kernel's words. */
static void
test_verdict_error_statuses(void **state __unused)
{
	struct lq_run_evidence		ev;
	static const char *const	r1[] = {
		"the kernel reported USB link errors 3 times (first: -71, "
		"protocol error)",
		"a USB transfer failed with a link error (-84, CRC mismatch)",
		"4 faults in " CLEAN_WORDS, NULL
	};
	static const char *const	r2[] = {
		"the kernel reported a USB link error (-62, no response)",
		"USB transfers failed with link errors 2 times (first: -75, "
		"babble)",
		"3 faults in " CLEAN_WORDS, NULL
	};
	static const char *const	r3[] = {
		"the kernel reported a USB link error (-5)",
		"1 fault in " CLEAN_WORDS, NULL
	};

	clean_run(&ev);
	ev.hard[LQ_HARD_LINK_ERROR] = 3;
	ev.link_errno = -71;
	ev.hard[LQ_HARD_URB_ERROR] = 1;
	ev.urb_errno = -84;
	check_verdict(&ev, LQ_VERDICT_FAIL, r1);
	ev.hard[LQ_HARD_LINK_ERROR] = 1;
	ev.link_errno = -62;
	ev.hard[LQ_HARD_URB_ERROR] = 2;
	ev.urb_errno = -75;
	check_verdict(&ev, LQ_VERDICT_FAIL, r2);
	clean_run(&ev);
	ev.hard[LQ_HARD_LINK_ERROR] = 1;
	ev.link_errno = -5;
	check_verdict(&ev, LQ_VERDICT_FAIL, r3);
}

/*
 * Below the best speed seen elsewhere is a hard signal, and a fault when
 * no counter says how many there were.
 */
static void
test_verdict_speed(void **state __unused)
{
	struct lq_run_evidence		ev;
	static const char *const	r1[] = {
		"negotiated 12 Mb/s although this device reached 480 Mb/s "
		"elsewhere",
		"1 fault in " CLEAN_WORDS, NULL
	};
	static const char *const	r2[] = {
		"negotiated 5 Gb/s although this device reached 10 Gb/s "
		"elsewhere",
		"1 fault in " CLEAN_WORDS, NULL
	};
	static const char *const	r3[] = {
		"negotiated 1.5 Mb/s although this device reached 480 Mb/s "
		"elsewhere",
		"1 fault in " CLEAN_WORDS, NULL
	};
	static const char *const	r4[] = {
		"negotiated 12 Mb/s although this device reached 480 Mb/s "
		"elsewhere",
		"2 faults in " CLEAN_WORDS, NULL
	};

	clean_run(&ev);
	ev.speed_mbps = 12;
	check_verdict(&ev, LQ_VERDICT_FAIL, r1);
	/* The numbers say more than the fallback event: one reason. */
	ev.hard[LQ_HARD_SPEED_FALLBACK] = 1;
	check_verdict(&ev, LQ_VERDICT_FAIL, r1);
	/* The fallbacks are the faults; the speed is not one more. */
	ev.hard[LQ_HARD_SPEED_FALLBACK] = 2;
	check_verdict(&ev, LQ_VERDICT_FAIL, r4);
	ev.hard[LQ_HARD_SPEED_FALLBACK] = 0;
	ev.speed_mbps = 5000;
	ev.best_speed_mbps = 10000;
	check_verdict(&ev, LQ_VERDICT_FAIL, r2);
	ev.speed_mbps = 1;
	ev.best_speed_mbps = 480;
	check_verdict(&ev, LQ_VERDICT_FAIL, r3);

	/* Unknown on either side, or faster than before: nothing. */
	ev.speed_mbps = 0;
	check_verdict(&ev, LQ_VERDICT_PASS, clean_pass);
	ev.speed_mbps = 12;
	ev.best_speed_mbps = 0;
	check_verdict(&ev, LQ_VERDICT_PASS, clean_pass);
	ev.speed_mbps = 5000;
	ev.best_speed_mbps = 480;
	check_verdict(&ev, LQ_VERDICT_PASS, clean_pass);
}

/*
 * Every kind at once: host blame first, one reason each, then all the
 * faults (the speed reason stands for the fallback's), mode last.
 */
static void
test_verdict_hard_all(void **state __unused)
{
	struct lq_run_evidence		ev;
	static const char *const	reasons[] = {
		"the host controller failed once: that points to the port or "
		"the computer, not the cable",
		"over-current on the port once: that points to the port or "
		"the hub's power, not the cable",
		"the device dropped out 2 times",
		"the device was stranded once: usbmuxd dropped it after a "
		"failed transfer, only a replug brings it back",
		"the kernel reset the device once",
		"the device re-enumerated once (it reset and came back with a "
		"new device number)",
		"the kernel reported USB link errors 3 times (first: -71, "
		"protocol error)",
		"a USB transfer failed with a link error (-84, CRC mismatch)",
		"data read back differed from what was written (1 "
		"corruption)",
		"negotiated 12 Mb/s although this device reached 480 Mb/s "
		"elsewhere",
		"the computer could not enumerate (recognise) the device 2 "
		"times",
		"the port was disabled by interference or a loose contact and "
		"re-enabled once",
		/* No exposure was counted: DFU mode, evidence zeroed. */
		"16 faults in 0.0 s under load",
		"the device was in DFU mode, where lockdown and AFC are "
		"unavailable: only USB control probes could run",
		NULL
	};

	memset(&ev, 0, sizeof ev);
	ev.probes = 10;
	ev.failures = 10;
	ev.hard[LQ_HARD_DROPOUT] = 2;
	ev.hard[LQ_HARD_STRANDED] = 1;
	ev.hard[LQ_HARD_RESET] = 1;
	ev.hard[LQ_HARD_REENUMERATION] = 1;
	ev.hard[LQ_HARD_LINK_ERROR] = 3;
	ev.link_errno = -71;
	ev.hard[LQ_HARD_URB_ERROR] = 1;
	ev.urb_errno = -84;
	ev.hard[LQ_HARD_CORRUPTION] = 1;
	ev.speed_mbps = 12;
	ev.best_speed_mbps = 480;
	ev.hard[LQ_HARD_SPEED_FALLBACK] = 1;
	ev.hard[LQ_HARD_ENUM_FAILURE] = 2;
	ev.hard[LQ_HARD_EMI_REENABLE] = 1;
	ev.hard[LQ_HARD_OVER_CURRENT] = 1;
	ev.hard[LQ_HARD_HC_FAILURE] = 1;
	ev.mode = LQ_MODE_DFU;
	check_verdict(&ev, LQ_VERDICT_FAIL, reasons);
}

/* The sequential test fails a run that fails too often. */
static void
test_verdict_sprt_reject(void **state __unused)
{
	struct lq_run_evidence		ev;
	static const char *const	r1[] = {
		"3 of 120 probes failed (2 timeouts): a failure rate of 2.5%, "
		"above the 0.1% a good connection may have", NULL
	};
	static const char *const	r2[] = {
		"2 of 2 probes failed (1 timeout): a failure rate of 100%, "
		"above the 0.1% a good connection may have", NULL
	};
	static const char *const	r3[] = {
		"12 of 3000 probes failed: a failure rate of 0.40%, above the "
		"0.1% a good connection may have (decided at the probe limit)",
		NULL
	};

	clean_run(&ev);
	ev.probes = 120;
	ev.failures = 3;
	ev.timeouts = 2;
	check_verdict(&ev, LQ_VERDICT_FAIL, r1);
	/* Unfinished makes no difference: FAIL at once. */
	ev.finished = 0;
	check_verdict(&ev, LQ_VERDICT_FAIL, r1);

	clean_run(&ev);
	ev.probes = 2;
	ev.failures = 2;
	ev.timeouts = 1;
	ev.bulk_bytes_out = ev.bulk_bytes_in = 0;
	ev.finished = 0;
	check_verdict(&ev, LQ_VERDICT_FAIL, r2);

	clean_run(&ev);
	ev.probes = 3000;
	ev.failures = 12;
	check_verdict(&ev, LQ_VERDICT_FAIL, r3);
}

/*
 * A truncated test accepts below L = 0; the bound still has to hold. The
 * probe limit ends the test even where the plan would go on.
 */
static void
test_verdict_truncated_pass(void **state __unused)
{
	struct lq_run_evidence		ev;
	static const char *const	reasons[] = {
		CLEAN_WORDS " without a fault",
		"11 of 3000 probes failed: a failure rate below 0.61% (95% "
		"upper bound)",
		CLEAN_BOUNDS, CLEAN_POWER, NULL
	};

	clean_run(&ev);
	ev.probes = 3000;
	ev.failures = 11;
	check_verdict(&ev, LQ_VERDICT_PASS, reasons);
	ev.finished = 0;
	ev.stop_early = 1;
	check_verdict(&ev, LQ_VERDICT_PASS, reasons);
}

#define SHORT_WORDS	"40 s under load, 12 MB to the device, 140 round " \
			"trips"

/*
 * Short of the evidence minimums: no early pass, and the reasons say
 * what it lacks where the profile may stop early. A run at its plan's
 * end does not need them: its exposure says what it showed.
 */
static void
test_verdict_not_enough(void **state __unused)
{
	struct lq_verdict_rules		rules;
	struct lq_verdict_result	res;
	struct lq_run_evidence		ev;
	static const char *const	r1[] = {
		"no verdict yet: " SHORT_WORDS " so far, 0 of 150 probes "
		"failed",
		"an early pass needs more: 150 of 326 probes"
		", 12 MiB of 64 MiB to the device, 0 bytes of 64 MiB "
		"from the device", NULL
	};
	static const char *const	r2[] = {
		"no verdict yet: " SHORT_WORDS " so far, 0 of 150 probes "
		"failed", NULL
	};
	static const char *const	r3[] = {
		SHORT_WORDS " without a fault",
		"at most 4.5 faults per minute of load and 239 per GB (95% "
		"upper bound)",
		"a cable that faults once a minute would have shown with 48% "
		"probability; one that faults once in ten minutes, 6%", NULL
	};
	static const char *const	r4[] = {
		"no verdict yet: 5 min 0 s under load, 67 MB to the device "
		"and 67 MB back, 300 round trips so far, 0 of 326 probes "
		"failed",
		"an early pass needs more: 63.9 MiB of 64 MiB from the "
		"device", NULL
	};
	static const char *const	r5[] = {
		"no verdict yet: 5 min 0 s under load, 1 byte to the device "
		"and 1.0 kB back, 300 round trips so far, 0 of 326 probes "
		"failed",
		"an early pass needs more: 1 byte of 64 MiB to the device"
		", 1023 bytes of 64 MiB from the device", NULL
	};
	static const char *const	r6[] = {
		"no verdict yet: " CLEAN_WORDS " so far, 0 of 326 probes "
		"failed",
		"an early pass needs more: 326 of 1000 probes", NULL
	};
	static const char *const	r7[] = {
		"no verdict yet: 0.0 s under load so far, 0 of 0 probes failed",
		NULL
	};
	static const char *const	r8[] = {
		"no verdict yet: 0.0 s under load so far, 0 of 0 probes failed",
		"an early pass needs more: 0 of 326 probes"
		", 0 bytes of 64 MiB to the device, 0 bytes of 64 MiB "
		"from the device", NULL
	};
	static const char *const	r9[] = {
		"the run ended before any probe completed", NULL
	};

	lq_verdict_rules_default(&rules);
	clean_run(&ev);
	ev.probes = 150;
	ev.exposure.load_us = 40000000;
	ev.exposure.round_trips = 140;
	set_bulk(&ev, 12 * MIB, 0);
	ev.finished = 0;
	ev.stop_early = 1;
	check_rules_verdict(&rules, &ev, LQ_VERDICT_NONE, r1, &res);
	assert_int_equal(res.more_probes, 326 - 150);
	assert_int_equal(res.sprt, LQ_SPRT_CONTINUE);
	/* A profile that runs to its end has no early pass to wait for. */
	ev.stop_early = 0;
	check_verdict(&ev, LQ_VERDICT_NONE, r2);
	/* At the end the minimums do not apply; the bounds say little. */
	ev.finished = 1;
	check_verdict(&ev, LQ_VERDICT_PASS, r3);

	/* One byte short is short: sizes are rounded down. */
	clean_run(&ev);
	set_bulk(&ev, 64 * MIB, 64 * MIB - 1);
	ev.finished = 0;
	ev.stop_early = 1;
	check_rules_verdict(&rules, &ev, LQ_VERDICT_NONE, r4, &res);
	assert_int_equal(res.sprt, LQ_SPRT_ACCEPT);
	assert_int_equal(res.more_probes, 0);
	/* The last byte makes it. */
	set_bulk(&ev, 64 * MIB, 64 * MIB);
	lq_verdict_decide(&rules, &ev, &res);
	assert_int_equal(res.verdict, LQ_VERDICT_PASS);
	set_bulk(&ev, 1, 1023);
	check_verdict(&ev, LQ_VERDICT_NONE, r5);

	/* The minimum probe count binds when it is above the test's... */
	rules.min_probes = 1000;
	clean_run(&ev);
	ev.finished = 0;
	ev.stop_early = 1;
	check_rules_verdict(&rules, &ev, LQ_VERDICT_NONE, r6, &res);
	assert_int_equal(res.more_probes, 1000 - 326);
	/* ...for an early pass only. */
	ev.finished = 1;
	check_rules_verdict(&rules, &ev, LQ_VERDICT_PASS, clean_pass, &res);

	/* Nothing at all yet; then a run that ended with nothing. */
	memset(&ev, 0, sizeof ev);
	check_verdict(&ev, LQ_VERDICT_NONE, r7);
	ev.stop_early = 1;
	ev.bulk_planned = 1;
	check_verdict(&ev, LQ_VERDICT_NONE, r8);
	ev.finished = 1;
	check_verdict(&ev, LQ_VERDICT_MARGINAL, r9);
}

#undef SHORT_WORDS

/*
 * Soft failures the test has not decided on when the run ends leave the
 * bound too high: MARGINAL. While the run goes on: NONE.
 */
static void
test_verdict_undecided(void **state __unused)
{
	struct lq_verdict_rules		rules;
	struct lq_verdict_result	res;
	struct lq_run_evidence		ev;
	static const char *const	r1[] = {
		"2 of 500 probes failed (1 timeout); the failure rate may be "
		"as high as 1.3% (95% upper bound), a pass needs it below 1%",
		CLEAN_WORDS, NULL
	};
	static const char *const	r2[] = {
		"no verdict yet: " CLEAN_WORDS " so far, 2 of 500 probes "
		"failed (1 timeout)", NULL
	};
	static const char *const	r3[] = {
		"no verdict yet: " CLEAN_WORDS " so far, 2 of 500 probes "
		"failed (1 timeout)",
		"an early pass needs more: 500 of 837 probes", NULL
	};

	lq_verdict_rules_default(&rules);
	clean_run(&ev);
	ev.probes = 500;
	ev.failures = 2;
	ev.timeouts = 1;
	check_rules_verdict(&rules, &ev, LQ_VERDICT_MARGINAL, r1, &res);
	assert_int_equal(res.sprt, LQ_SPRT_CONTINUE);
	ev.finished = 0;
	check_verdict(&ev, LQ_VERDICT_NONE, r2);
	ev.stop_early = 1;
	check_rules_verdict(&rules, &ev, LQ_VERDICT_NONE, r3, &res);
	assert_int_equal(res.more_probes, 837 - 500);
}

/*
 * Soft failures the test accepts, but their bound is above the limit:
 * MARGINAL at the end, keep going before it. Without a soft failure the
 * limit only holds an early pass back.
 */
static void
test_verdict_bound_too_high(void **state __unused)
{
	struct lq_verdict_rules		rules;
	struct lq_verdict_result	res;
	struct lq_run_evidence		ev;
	static const char *const	r1[] = {
		"1 of 600 probes failed; the failure rate may be as high as "
		"0.79% (95% upper bound), a pass needs it below 0.5%",
		CLEAN_WORDS, NULL
	};
	static const char *const	r2[] = {
		"no verdict yet: " CLEAN_WORDS " so far, 1 of 600 probes "
		"failed", NULL
	};
	static const char *const	r3[] = {
		CLEAN_WORDS " without a fault",
		"1 of 1000 probes failed: a failure rate below 0.48% (95% "
		"upper bound)",
		CLEAN_BOUNDS, CLEAN_POWER, NULL
	};
	static const char *const	r4[] = {
		"no verdict yet: " CLEAN_WORDS " so far, 0 of 400 probes "
		"failed", NULL
	};

	lq_verdict_rules_default(&rules);
	rules.marginal_upper = 0.005;
	clean_run(&ev);
	ev.probes = 600;
	ev.failures = 1;
	check_rules_verdict(&rules, &ev, LQ_VERDICT_MARGINAL, r1, &res);
	assert_int_equal(res.sprt, LQ_SPRT_ACCEPT);
	/* More clean probes will bring it down: keep going. */
	ev.finished = 0;
	ev.stop_early = 1;
	check_rules_verdict(&rules, &ev, LQ_VERDICT_NONE, r2, &res);
	assert_int_equal(res.more_probes, 0);
	ev.probes = 1000;
	check_rules_verdict(&rules, &ev, LQ_VERDICT_PASS, r3, &res);

	/* Bound 0.75% after 400 clean probes: not early, but at the end. */
	ev.probes = 400;
	ev.failures = 0;
	check_rules_verdict(&rules, &ev, LQ_VERDICT_NONE, r4, &res);
	assert_int_equal(res.sprt, LQ_SPRT_ACCEPT);
	ev.finished = 1;
	check_rules_verdict(&rules, &ev, LQ_VERDICT_PASS, clean_pass, &res);
	/* 600 bring it to 0.498%. */
	ev.finished = 0;
	ev.probes = 600;
	check_rules_verdict(&rules, &ev, LQ_VERDICT_PASS, clean_pass, &res);
}

/*
 * Recovery, DFU and WTF modes say why lockdown and AFC are missing, and
 * an early pass there does not wait for bulk data that cannot move.
 */
static void
test_verdict_modes(void **state __unused)
{
	struct lq_verdict_rules		rules;
	struct lq_verdict_result	res;
	struct lq_run_evidence		ev;
	static const char *const	r1[] = {
		"5 min 0 s under load, 326 round trips without a fault",
		"at most 0.60 faults per minute of load (95% upper bound)",
		CLEAN_POWER,
		"the device was in recovery mode, where lockdown and AFC are "
		"unavailable: only USB control probes could run", NULL
	};
	static const char *const	r2[] = {
		"5 min 0 s under load, 326 round trips without a fault",
		"at most 0.60 faults per minute of load (95% upper bound)",
		CLEAN_POWER,
		"the device was in WTF mode, where lockdown and AFC are "
		"unavailable: only USB control probes could run", NULL
	};
	static const char *const	r3[] = {
		"5 min 0 s under load, 326 round trips without a fault",
		"at most 0.60 faults per minute of load (95% upper bound)",
		CLEAN_POWER,
		"the device was in DFU mode, where lockdown and AFC are "
		"unavailable: only USB control probes could run", NULL
	};
	static const char *const	r4[] = {
		"no verdict yet: 5 min 0 s under load, 326 round trips so "
		"far, 0 of 326 probes failed",
		"an early pass needs more: 0 bytes of 64 MiB to the device"
		", 0 bytes of 64 MiB from the device", NULL
	};

	/* A profile for recovery mode: control probes only. */
	lq_verdict_rules_default(&rules);
	rules.min_bulk_bytes = 0;
	clean_run(&ev);
	set_bulk(&ev, 0, 0);
	ev.exposure.round_trips = 326;
	ev.bulk_planned = 0;
	ev.mode = LQ_MODE_RECOVERY;
	check_rules_verdict(&rules, &ev, LQ_VERDICT_PASS, r1, &res);
	ev.mode = LQ_MODE_WTF;
	check_rules_verdict(&rules, &ev, LQ_VERDICT_PASS, r2, &res);

	/*
	 * A plan with bulk data under the default rules: DFU mode cannot
	 * move it, so out of normal mode the minimum does not hold an
	 * early pass back.
	 */
	ev.bulk_planned = 1;
	ev.finished = 0;
	ev.stop_early = 1;
	ev.mode = LQ_MODE_DFU;
	check_verdict(&ev, LQ_VERDICT_PASS, r3);

	/* In normal mode it does, and in a mode this does not know. */
	ev.mode = LQ_MODE_NORMAL;
	check_verdict(&ev, LQ_VERDICT_NONE, r4);
	ev.mode = 42;
	check_verdict(&ev, LQ_VERDICT_NONE, r4);
}

static void
test_verdict_odd_input(void **state __unused)
{
	struct lq_verdict_rules		rules;
	struct lq_verdict_result	res;
	struct lq_run_evidence		ev;
	static const char *const	r1[] = {
		"no verdict: the verdict rules are invalid (the failure rates "
		"must satisfy 0 < p0 < p1 < 1)", NULL
	};
	static const char *const	r2[] = {
		"the device dropped out once",
		"1 fault in " CLEAN_WORDS, NULL
	};
	static const char *const	r3[] = {
		"2562047788 h 00 min under load, 18446 PB each way, "
		"18,446,744,073,709,551,615 round trips without a fault",
		"at most 0.001 faults per minute of load and 0.001 per GB "
		"(95% upper bound)",
		"a cable that faults once a minute would have shown with more "
		"than 99.9% probability; one that faults once in ten minutes, "
		"more than 99.9%", NULL
	};
	static const char *const	r4[] = {
		"the run measured no time under load", NULL
	};

	/* Invalid rules decide nothing, early or not... */
	lq_verdict_rules_default(&rules);
	rules.sprt.p0 = 0.5;
	clean_run(&ev);
	check_rules_verdict(&rules, &ev, LQ_VERDICT_NONE, r1, &res);
	ev.finished = 0;
	ev.stop_early = 1;
	check_rules_verdict(&rules, &ev, LQ_VERDICT_NONE, r1, &res);
	/* ...but hard signals still fail. */
	ev.finished = 1;
	ev.hard[LQ_HARD_DROPOUT] = 1;
	check_rules_verdict(&rules, &ev, LQ_VERDICT_FAIL, r2, &res);

	/* The exposure's faults are the verdict's to count, not input. */
	lq_verdict_rules_default(&rules);
	clean_run(&ev);
	ev.exposure.faults = 5;
	check_rules_verdict(&rules, &ev, LQ_VERDICT_PASS, clean_pass, &res);
	assert_int_equal(res.exposure.faults, 0);

	/* More failures than probes: every probe failed. */
	clean_run(&ev);
	ev.probes = 1;
	ev.failures = 3;
	lq_verdict_decide(&rules, &ev, &res);
	assert_int_equal(res.verdict, LQ_VERDICT_FAIL);
	assert_rel(res.cp_upper, 1.0, 0);
	assert_string_equal(res.reasons[0], "3 of 3 probes failed: a failure "
	    "rate of 100%, above the 0.1% a good connection may have");

	/*
	 * Huge counts: still sentences that fit, and the two directions
	 * added up without wrapping around.
	 */
	clean_run(&ev);
	ev.probes = UINT64_MAX;
	ev.exposure.load_us = INT64_MAX;
	ev.exposure.round_trips = UINT64_MAX;
	set_bulk(&ev, UINT64_MAX, UINT64_MAX);
	check_rules_verdict(&rules, &ev, LQ_VERDICT_PASS, r3, &res);
	ev.failures = UINT64_MAX / 2;
	lq_verdict_decide(&rules, &ev, &res);
	assert_int_equal(res.verdict, LQ_VERDICT_FAIL);

	/*
	 * No load time, or less than none: nothing bounded per minute, and
	 * no PASS on it.
	 */
	clean_run(&ev);
	ev.exposure.load_us = 0;
	check_rules_verdict(&rules, &ev, LQ_VERDICT_MARGINAL, r4, &res);
	assert_true(isinf(res.bounds.per_minute));
	assert_rel(res.bounds.power_fast, 0.0, 0);
	ev.exposure.load_us = -1;
	check_rules_verdict(&rules, &ev, LQ_VERDICT_MARGINAL, r4, &res);

	/* Probes that ended, but no exposure at all. */
	memset(&ev, 0, sizeof ev);
	ev.probes = 10;
	ev.finished = 1;
	check_rules_verdict(&rules, &ev, LQ_VERDICT_MARGINAL, r4, &res);
	assert_true(isinf(res.bounds.per_gb));
}

/*
 * Check that no reason of res is cut short or speaks of a restore's
 * chances: the one sentence with "probability" is the power to have
 * caught a cable that faults, the one with "restore" is the advice of a
 * triage PASS.
 */
static void
check_wording(const struct lq_run_evidence *ev,
    const struct lq_verdict_result *res)
{
	static const char	power[] = "a cable that faults once a minute "
	    "would have shown with ";
	const char		*r;
	int			 i;

	assert_true(res->nreasons > 0);
	for (i = 0; i < res->nreasons; i++) {
		r = res->reasons[i];
		assert_true(strlen(r) < LQ_VERDICT_REASON_LEN - 1);
		if (strstr(r, "probability") != NULL)
			assert_memory_equal(r, power, sizeof power - 1);
		if (strstr(r, "restore") != NULL) {
			assert_string_equal(r, TRIAGE);
			assert_int_equal(res->verdict, LQ_VERDICT_PASS);
			assert_true(ev->triage);
		}
		assert_null(strstr(r, "succeed"));
		assert_null(strstr(r, "chance"));
	}
}

/* Every verdict on a spread of evidence and profiles reads right. */
static void
test_verdict_wording(void **state __unused)
{
	struct lq_verdict_rules		rules;
	struct lq_verdict_result	res;
	struct lq_run_evidence		ev;
	uint64_t			n, k;
	int				flags;

	lq_verdict_rules_default(&rules);
	for (flags = 0; flags < 16; flags++) {
		for (n = 0; n < 20000; n = n * 2 + 7) {
			for (k = 0; k <= n && k < 40; k = k * 2 + 1) {
				clean_run(&ev);
				ev.probes = n;
				ev.failures = k;
				ev.timeouts = k / 2;
				ev.exposure.load_us = (int64_t)n * 40000;
				ev.exposure.round_trips = n - n / 8;
				set_bulk(&ev, n * 100000, n * 300000);
				ev.finished = (flags & 1) != 0;
				ev.stop_early = (flags & 2) != 0;
				ev.triage = (flags & 4) != 0;
				ev.bulk_planned = (flags & 8) != 0;
				ev.mode = (int)(k % 4);
				ev.hard[LQ_HARD_DROPOUT] =
				    (unsigned int)(n % 3 == 0);
				lq_verdict_decide(&rules, &ev, &res);
				check_wording(&ev, &res);
			}
		}
	}
}

/*
 * Before the plan's end a PASS needs a profile that may stop early: the
 * test accepts, the minimums are met, the bound is low enough. Until
 * then the run goes on, and a failure can undo an acceptance.
 */
static void
test_verdict_early_pass(void **state __unused)
{
	struct lq_verdict_rules		rules;
	struct lq_verdict_result	res;
	struct lq_run_evidence		ev;
	static const char *const	r1[] = {
		"no verdict yet: " CLEAN_WORDS " so far, 0 of 326 probes "
		"failed", NULL
	};
	static const char *const	r2[] = {
		"no verdict yet: " CLEAN_WORDS " so far, 0 of 325 probes "
		"failed",
		"an early pass needs more: 325 of 326 probes", NULL
	};
	static const char *const	r3[] = {
		"no verdict yet: " CLEAN_WORDS " so far, 1 of 326 probes "
		"failed",
		"an early pass needs more: 326 of 581 probes", NULL
	};
	static const char *const	r4[] = {
		CLEAN_WORDS " without a fault",
		"1 of 581 probes failed: a failure rate below 0.82% (95% upper "
		"bound)",
		CLEAN_BOUNDS, CLEAN_POWER, NULL
	};

	/* Accepted with every minimum met: the profile keeps its word. */
	lq_verdict_rules_default(&rules);
	clean_run(&ev);
	ev.finished = 0;
	check_rules_verdict(&rules, &ev, LQ_VERDICT_NONE, r1, &res);
	assert_int_equal(res.sprt, LQ_SPRT_ACCEPT);
	assert_int_equal(res.more_probes, 0);
	ev.stop_early = 1;
	check_rules_verdict(&rules, &ev, LQ_VERDICT_PASS, clean_pass, &res);
	assert_int_equal(res.sprt, LQ_SPRT_ACCEPT);

	/* One probe short of the test's first pass. */
	ev.probes = 325;
	check_rules_verdict(&rules, &ev, LQ_VERDICT_NONE, r2, &res);
	assert_int_equal(res.sprt, LQ_SPRT_CONTINUE);
	assert_int_equal(res.more_probes, 1);

	/* A failure after the acceptance: 255 more clean probes. */
	ev.probes = 326;
	ev.failures = 1;
	check_rules_verdict(&rules, &ev, LQ_VERDICT_NONE, r3, &res);
	assert_int_equal(res.sprt, LQ_SPRT_CONTINUE);
	assert_int_equal(res.more_probes, 581 - 326);
	ev.probes = 581;
	check_rules_verdict(&rules, &ev, LQ_VERDICT_PASS, r4, &res);
	assert_int_equal(res.sprt, LQ_SPRT_ACCEPT);
}

/*
 * A triage PASS says what it rules out, before the mode's reason, which
 * is always last; a verdict that is not a PASS rules nothing out.
 */
static void
test_verdict_triage(void **state __unused)
{
	struct lq_run_evidence		ev;
	static const char *const	r1[] = {
		CLEAN_WORDS " without a fault", CLEAN_BOUNDS, CLEAN_POWER,
		TRIAGE, NULL
	};
	static const char *const	r2[] = {
		"5 min 0 s under load, 326 round trips without a fault",
		"at most 0.60 faults per minute of load (95% upper bound)",
		CLEAN_POWER, TRIAGE,
		"the device was in recovery mode, where lockdown and AFC are "
		"unavailable: only USB control probes could run", NULL
	};
	static const char *const	r3[] = {
		"no verdict yet: " CLEAN_WORDS " so far, 0 of 326 probes "
		"failed", NULL
	};
	static const char *const	r4[] = {
		"the device dropped out once",
		"1 fault in " CLEAN_WORDS, NULL
	};
	static const char *const	r5[] = {
		"2 of 500 probes failed (1 timeout); the failure rate may be "
		"as high as 1.3% (95% upper bound), a pass needs it below 1%",
		CLEAN_WORDS, NULL
	};

	clean_run(&ev);
	ev.triage = 1;
	check_verdict(&ev, LQ_VERDICT_PASS, r1);
	ev.finished = 0;
	ev.stop_early = 1;
	check_verdict(&ev, LQ_VERDICT_PASS, r1);
	ev.stop_early = 0;
	check_verdict(&ev, LQ_VERDICT_NONE, r3);

	clean_run(&ev);
	ev.triage = 1;
	set_bulk(&ev, 0, 0);
	ev.exposure.round_trips = 326;
	ev.bulk_planned = 0;
	ev.mode = LQ_MODE_RECOVERY;
	check_verdict(&ev, LQ_VERDICT_PASS, r2);

	clean_run(&ev);
	ev.triage = 1;
	ev.hard[LQ_HARD_DROPOUT] = 1;
	check_verdict(&ev, LQ_VERDICT_FAIL, r4);

	clean_run(&ev);
	ev.triage = 1;
	ev.probes = 500;
	ev.failures = 2;
	ev.timeouts = 1;
	check_verdict(&ev, LQ_VERDICT_MARGINAL, r5);
}

/*
 * Soft failures pass at the plan's end while their bound stays below
 * the limit, whether the test has decided or not: 1 failure needs 473
 * probes for a bound under 1% (A6). An early pass needs the test's
 * acceptance as well: 1092 probes for 3 failures.
 */
static void
test_verdict_soft_pass(void **state __unused)
{
	struct lq_verdict_rules		rules;
	struct lq_verdict_result	res;
	struct lq_run_evidence		ev;
	static const char *const	r1[] = {
		CLEAN_WORDS " without a fault",
		"1 of 473 probes failed: a failure rate below 1.00% (95% upper "
		"bound)",
		CLEAN_BOUNDS, CLEAN_POWER, NULL
	};
	static const char *const	r2[] = {
		"1 of 472 probes failed; the failure rate may be as high as "
		"1.1% (95% upper bound), a pass needs it below 1%",
		CLEAN_WORDS, NULL
	};
	static const char *const	r3[] = {
		"no verdict yet: " CLEAN_WORDS " so far, 3 of 1091 probes "
		"failed (2 timeouts)",
		"an early pass needs more: 1091 of 1092 probes", NULL
	};
	static const char *const	r4[] = {
		CLEAN_WORDS " without a fault",
		"3 of 1092 probes failed (2 timeouts): a failure rate below "
		"0.71% (95% upper bound)",
		CLEAN_BOUNDS, CLEAN_POWER, NULL
	};

	lq_verdict_rules_default(&rules);
	clean_run(&ev);
	ev.probes = 473;
	ev.failures = 1;
	check_rules_verdict(&rules, &ev, LQ_VERDICT_PASS, r1, &res);
	assert_int_equal(res.sprt, LQ_SPRT_CONTINUE);
	assert_true(res.cp_upper < rules.marginal_upper);
	ev.probes = 472;
	check_rules_verdict(&rules, &ev, LQ_VERDICT_MARGINAL, r2, &res);
	assert_false(res.cp_upper < rules.marginal_upper);

	/* The bound is low enough at 1091, the test not yet satisfied. */
	ev.probes = 1091;
	ev.failures = 3;
	ev.timeouts = 2;
	ev.finished = 0;
	ev.stop_early = 1;
	check_rules_verdict(&rules, &ev, LQ_VERDICT_NONE, r3, &res);
	assert_true(res.cp_upper < rules.marginal_upper);
	assert_int_equal(res.more_probes, 1);
	ev.probes = 1092;
	check_rules_verdict(&rules, &ev, LQ_VERDICT_PASS, r4, &res);
}

/*
 * The result carries the exposure with its faults counted from the hard
 * counters, whatever the evidence said, and the 95% bounds: the Poisson
 * bound of the faults over the minutes of load and the GB moved.
 */
static void
test_verdict_exposure_fields(void **state __unused)
{
	struct lq_verdict_rules		rules;
	struct lq_verdict_result	res;
	struct lq_run_evidence		ev;
	int				k;

	lq_verdict_rules_default(&rules);
	clean_run(&ev);
	ev.exposure.faults = 99;	/* not the evidence's to say */
	lq_verdict_decide(&rules, &ev, &res);
	assert_int_equal(res.verdict, LQ_VERDICT_PASS);
	assert_int_equal(res.exposure.load_us, 5 * MINUTE);
	assert_int_equal(res.exposure.bytes_out, GB);
	assert_int_equal(res.exposure.bytes_in, GB);
	assert_int_equal(res.exposure.round_trips, 300);
	assert_int_equal(res.exposure.faults, 0);
	/* No fault: -ln 0.05 = ln 20 over 5 minutes and 2 GB. */
	assert_rel(res.bounds.per_minute, log(20.0) / 5.0, 1e-12);
	assert_rel(res.bounds.per_gb, log(20.0) / 2.0, 1e-12);
	assert_rel(res.bounds.power_fast, -expm1(-5.0), 1e-12);
	assert_rel(res.bounds.power_slow, -expm1(-0.5), 1e-12);

	/* 7 faults of 4 kinds. */
	ev.hard[LQ_HARD_DROPOUT] = 2;
	ev.hard[LQ_HARD_RESET] = 3;
	ev.hard[LQ_HARD_LINK_ERROR] = 1;
	ev.hard[LQ_HARD_HC_FAILURE] = 1;
	lq_verdict_decide(&rules, &ev, &res);
	assert_int_equal(res.verdict, LQ_VERDICT_FAIL);
	assert_int_equal(res.exposure.faults, 7);
	assert_int_equal(res.exposure.load_us, 5 * MINUTE);
	assert_rel(res.bounds.per_minute, lq_poisson_upper(7, 0.05) / 5.0,
	    1e-12);
	/* chi2(0.95; 16) / 2 */
	assert_rel(res.bounds.per_minute, 13.148114 / 5.0, 1e-6);
	assert_rel(res.bounds.per_gb, lq_poisson_upper(7, 0.05) / 2.0,
	    1e-12);
	/* The power is that of the load alone, faults or not. */
	assert_rel(res.bounds.power_fast, -expm1(-5.0), 1e-12);
	assert_string_equal(res.reasons[res.nreasons - 1],
	    "7 faults in " CLEAN_WORDS);

	/* Every counter counts: distinct powers of two, a distinct sum. */
	clean_run(&ev);
	for (k = 0; k < LQ_HARD_MAX; k++)
		ev.hard[k] = 1U << k;
	lq_verdict_decide(&rules, &ev, &res);
	assert_int_equal(res.exposure.faults, (1U << LQ_HARD_MAX) - 1);

	/* A speed below the best is one fault when nothing else counts. */
	clean_run(&ev);
	ev.speed_mbps = 12;
	lq_verdict_decide(&rules, &ev, &res);
	assert_int_equal(res.exposure.faults, 1);
	assert_rel(res.bounds.per_minute, lq_poisson_upper(1, 0.05) / 5.0,
	    1e-12);
	ev.hard[LQ_HARD_SPEED_FALLBACK] = 2;
	lq_verdict_decide(&rules, &ev, &res);
	assert_int_equal(res.exposure.faults, 2);
	/* A dropout and the speed below the best: two faults, two reasons. */
	ev.hard[LQ_HARD_SPEED_FALLBACK] = 0;
	ev.hard[LQ_HARD_DROPOUT] = 1;
	lq_verdict_decide(&rules, &ev, &res);
	assert_int_equal(res.exposure.faults, 2);

	/* No exposure: nothing bounded, nothing caught. */
	memset(&ev, 0, sizeof ev);
	ev.hard[LQ_HARD_RESET] = 1;
	lq_verdict_decide(&rules, &ev, &res);
	assert_int_equal(res.exposure.faults, 1);
	assert_true(isinf(res.bounds.per_minute));
	assert_true(isinf(res.bounds.per_gb));
	assert_rel(res.bounds.power_fast, 0.0, 0);
	assert_rel(res.bounds.power_slow, 0.0, 0);
}

#define MONITOR_WORDS	"5 min 0 s under load, 1.3 MB to the device and " \
			"2.6 MB back"

/*
 * A plan that moves no bulk data (monitor-like: round trips only)
 * passes at its end, and its early pass does not wait for bulk bytes.
 */
static void
test_verdict_no_bulk(void **state __unused)
{
	struct lq_run_evidence		ev;
	static const char *const	r1[] = {
		MONITOR_WORDS ", 326 round trips without a fault",
		"at most 0.60 faults per minute of load and 766 per GB (95% "
		"upper bound)",
		CLEAN_POWER, NULL
	};
	static const char *const	r2[] = {
		"no verdict yet: " MONITOR_WORDS ", 326 round trips so far, 0 "
		"of 326 probes failed",
		"an early pass needs more: 0 bytes of 64 MiB to the device"
		", 0 bytes of 64 MiB from the device", NULL
	};
	static const char *const	r3[] = {
		"no verdict yet: " MONITOR_WORDS ", 200 round trips so far, 0 "
		"of 200 probes failed",
		"an early pass needs more: 200 of 326 probes", NULL
	};

	clean_run(&ev);
	ev.bulk_planned = 0;
	set_bulk(&ev, 0, 0);
	/* What the round trips carried: 4 kB out, 8 kB back each. */
	ev.exposure.bytes_out = 326 * 4000;
	ev.exposure.bytes_in = 326 * 8000;
	ev.exposure.round_trips = 326;
	check_verdict(&ev, LQ_VERDICT_PASS, r1);
	ev.finished = 0;
	ev.stop_early = 1;
	check_verdict(&ev, LQ_VERDICT_PASS, r1);

	/* The same evidence where the plan moves bulk: not yet. */
	ev.bulk_planned = 1;
	check_verdict(&ev, LQ_VERDICT_NONE, r2);

	/* Without bulk the probes still have to be there. */
	ev.bulk_planned = 0;
	ev.probes = 200;
	ev.exposure.round_trips = 200;
	check_verdict(&ev, LQ_VERDICT_NONE, r3);
}

#undef MONITOR_WORDS

static void
test_verdict_names(void **state __unused)
{
	assert_null(lq_verdict_name(LQ_VERDICT_NONE));
	assert_string_equal(lq_verdict_name(LQ_VERDICT_PASS), "PASS");
	assert_string_equal(lq_verdict_name(LQ_VERDICT_MARGINAL), "MARGINAL");
	assert_string_equal(lq_verdict_name(LQ_VERDICT_FAIL), "FAIL");
	assert_int_equal(lq_verdict_from_name(NULL), LQ_VERDICT_NONE);
	assert_int_equal(lq_verdict_from_name("PASS"), LQ_VERDICT_PASS);
	assert_int_equal(lq_verdict_from_name("MARGINAL"),
	    LQ_VERDICT_MARGINAL);
	assert_int_equal(lq_verdict_from_name("FAIL"), LQ_VERDICT_FAIL);
	assert_int_equal(lq_verdict_from_name("pass"), -1);
	assert_int_equal(lq_verdict_from_name(""), -1);
}

static void
test_reasons_json(void **state __unused)
{
	struct lq_verdict_result	res;
	char				*json;

	memset(&res, 0, sizeof res);
	json = lq_verdict_reasons_json(&res);
	assert_string_equal(json, "[]");
	free(json);

	(void)strlcpy(res.reasons[0], "plain", sizeof res.reasons[0]);
	(void)strlcpy(res.reasons[1], "say \"hi\" \\ back",
	    sizeof res.reasons[1]);
	(void)strlcpy(res.reasons[2], "tab\there\nnew\r\x01\x1f\x7f",
	    sizeof res.reasons[2]);
	/* Valid UTF-8 passes, the rest becomes U+FFFD. */
	(void)strlcpy(res.reasons[3], "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94"
	    "\x8c", sizeof res.reasons[3]);
	(void)strlcpy(res.reasons[4], "bad \xff \xc3 \xc0\xaf \xed\xa0\x80 "
	    "\xe2\x82", sizeof res.reasons[4]);
	res.nreasons = 5;
	json = lq_verdict_reasons_json(&res);
	assert_string_equal(json, "[\"plain\","
	    "\"say \\\"hi\\\" \\\\ back\","
	    "\"tab\\there\\nnew\\r\\u0001\\u001f\\u007f\","
	    "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x8c\","
	    "\"bad \\ufffd \\ufffd \\ufffd\\ufffd \\ufffd\\ufffd\\ufffd "
	    "\\ufffd\\ufffd\"]");
	free(json);

	/* A reason without its NUL ends at the buffer. */
	memset(&res, 0, sizeof res);
	memset(res.reasons[0], '"', sizeof res.reasons[0]);
	res.nreasons = 1;
	json = lq_verdict_reasons_json(&res);
	assert_int_equal(strlen(json), 2 + 2 + 2 * LQ_VERDICT_REASON_LEN);
	free(json);

	/* An out-of-range count is clamped. */
	res.nreasons = -3;
	json = lq_verdict_reasons_json(&res);
	assert_string_equal(json, "[]");
	free(json);
}

/* The decided result's JSON is what goes into runs.reasons. */
static void
test_reasons_json_of_a_verdict(void **state __unused)
{
	struct lq_verdict_rules		rules;
	struct lq_verdict_result	res;
	struct lq_run_evidence		ev;
	char				*json;

	lq_verdict_rules_default(&rules);
	clean_run(&ev);
	ev.hard[LQ_HARD_DROPOUT] = 1;
	ev.hard[LQ_HARD_HC_FAILURE] = 1;
	lq_verdict_decide(&rules, &ev, &res);
	json = lq_verdict_reasons_json(&res);
	assert_string_equal(json, "[\"the host controller failed once: that "
	    "points to the port or the computer, not the cable\","
	    "\"the device dropped out once\","
	    "\"2 faults in " CLEAN_WORDS "\"]");
	free(json);

	/* A triage PASS: four sentences in order, nothing to escape. */
	clean_run(&ev);
	ev.triage = 1;
	lq_verdict_decide(&rules, &ev, &res);
	json = lq_verdict_reasons_json(&res);
	assert_string_equal(json, "[\"" CLEAN_WORDS " without a fault\",\""
	    CLEAN_BOUNDS "\",\"" CLEAN_POWER "\",\"" TRIAGE "\"]");
	free(json);
}

/*
 * A window's evidence: what grew since the copy taken at its start;
 * what is not a count (speeds, mode, flags, the first errnos) as now.
 */
static void
test_evidence_since(void **state __unused)
{
	struct lq_run_evidence	base, now, w;

	memset(&base, 0, sizeof base);
	base.probes = 100;
	base.failures = 2;
	base.stalls = 1;
	base.hard[LQ_HARD_LINK_ERROR] = 1;
	base.link_errno = -71;
	base.exposure.load_us = 60000000;
	base.exposure.bytes_out = 1000;
	base.exposure.round_trips = 90;
	now = base;
	now.probes = 150;
	now.failures = 2;
	now.timeouts = 1;
	now.hard[LQ_HARD_DROPOUT] = 1;
	now.exposure.load_us = 90000000;
	now.exposure.bytes_out = 1500;
	now.exposure.round_trips = 130;
	now.exposure.faults = 7;
	now.speed_mbps = 480;
	now.mode = LQ_MODE_RECOVERY;
	now.stop_early = 1;
	lq_run_evidence_since(&now, &base, &w);
	assert_int_equal(w.probes, 50);
	assert_int_equal(w.failures, 0);
	assert_int_equal(w.timeouts, 1);
	assert_int_equal(w.stalls, 0);
	assert_int_equal(w.hard[LQ_HARD_LINK_ERROR], 0);
	assert_int_equal(w.hard[LQ_HARD_DROPOUT], 1);
	assert_int_equal(w.exposure.load_us, 30000000);
	assert_int_equal(w.exposure.bytes_out, 500);
	assert_int_equal(w.exposure.round_trips, 40);
	assert_int_equal(w.exposure.faults, 0);
	assert_int_equal(w.speed_mbps, 480);
	assert_int_equal(w.mode, LQ_MODE_RECOVERY);
	assert_int_equal(w.stop_early, 1);
	assert_int_equal(w.link_errno, -71);
	/* A base newer than now (never so) gives zeros, not wraps. */
	lq_run_evidence_since(&base, &now, &w);
	assert_int_equal(w.probes, 0);
	assert_int_equal(w.hard[LQ_HARD_DROPOUT], 0);
	assert_int_equal(w.exposure.load_us, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cp_exact_k0),
		cmocka_unit_test(test_cp_reverse_check),
		cmocka_unit_test(test_cp_k_columns),
		cmocka_unit_test(test_cp_two_sided_column),
		cmocka_unit_test(test_cp_poisson_limit),
		cmocka_unit_test(test_cp_reference_values),
		cmocka_unit_test(test_cp_closed_forms),
		cmocka_unit_test(test_cp_edges),
		cmocka_unit_test(test_sprt_worked_table),
		cmocka_unit_test(test_sprt_worked_example),
		cmocka_unit_test(test_sprt_truncation),
		cmocka_unit_test(test_sprt_edges),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_verdict_pass),
		cmocka_unit_test(test_verdict_hard_each),
		cmocka_unit_test(test_verdict_error_statuses),
		cmocka_unit_test(test_verdict_speed),
		cmocka_unit_test(test_verdict_hard_all),
		cmocka_unit_test(test_verdict_sprt_reject),
		cmocka_unit_test(test_verdict_truncated_pass),
		cmocka_unit_test(test_verdict_not_enough),
		cmocka_unit_test(test_verdict_undecided),
		cmocka_unit_test(test_verdict_bound_too_high),
		cmocka_unit_test(test_verdict_early_pass),
		cmocka_unit_test(test_verdict_triage),
		cmocka_unit_test(test_verdict_soft_pass),
		cmocka_unit_test(test_verdict_exposure_fields),
		cmocka_unit_test(test_verdict_no_bulk),
		cmocka_unit_test(test_verdict_modes),
		cmocka_unit_test(test_verdict_odd_input),
		cmocka_unit_test(test_verdict_wording),
		cmocka_unit_test(test_verdict_names),
		cmocka_unit_test(test_reasons_json),
		cmocka_unit_test(test_reasons_json_of_a_verdict),
		cmocka_unit_test(test_evidence_since),
	};

	return (cmocka_run_group_tests_name("verdict", tests, NULL, NULL));
}
