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

/* Evidence that passes the default rules, to spoil one way at a time. */
static void
clean_run(struct lq_run_evidence *ev)
{
	memset(ev, 0, sizeof *ev);
	ev->probes = 326;
	ev->bulk_bytes_out = 64 * MIB;
	ev->bulk_bytes_in = 64 * MIB;
	ev->speed_mbps = 480;
	ev->best_speed_mbps = 480;
	ev->mode = LQ_MODE_NORMAL;
	ev->finished = 1;
}

/* Decide with the default rules; check the verdict and the reasons. */
static void
check_verdict(const struct lq_run_evidence *ev, enum lq_verdict want,
    const char *const *reasons)
{
	struct lq_verdict_rules		rules;
	struct lq_verdict_result	res;
	int				i;

	lq_verdict_rules_default(&rules);
	lq_verdict_decide(&rules, ev, &res);
	for (i = 0; reasons[i] != NULL; i++) {
		if (i >= res.nreasons)
			fail_msg("reason %d missing: \"%s\"", i, reasons[i]);
		assert_string_equal(res.reasons[i], reasons[i]);
	}
	if (res.nreasons > i)
		fail_msg("extra reason: \"%s\"", res.reasons[i]);
	assert_int_equal(res.verdict, want);
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

static void
test_verdict_pass(void **state __unused)
{
	struct lq_run_evidence	ev;
	static const char *const	r1[] = {
		"326 probes and 64 MiB each way without a failure; failure "
		"rate below 0.92% (95% upper bound)", NULL
	};
	static const char *const	r2[] = {
		"1 of 1200 probes failed (1 timeout), with 64 MiB to the "
		"device and 70.5 MiB back; failure rate below 0.40% (95% "
		"upper bound)", NULL
	};
	static const char *const	r3[] = {
		"1000 probes and 1.5 GiB each way without a failure; failure "
		"rate below 0.30% (95% upper bound)", NULL
	};

	clean_run(&ev);
	check_verdict(&ev, LQ_VERDICT_PASS, r1);
	/* An early pass: the plan has not finished. */
	ev.finished = 0;
	check_verdict(&ev, LQ_VERDICT_PASS, r1);

	clean_run(&ev);
	ev.probes = 1200;
	ev.failures = 1;
	ev.timeouts = 1;
	ev.bulk_bytes_in = 70 * MIB + MIB / 2;
	check_verdict(&ev, LQ_VERDICT_PASS, r2);

	clean_run(&ev);
	ev.probes = 1000;
	ev.bulk_bytes_out = ev.bulk_bytes_in = 1536 * MIB;
	check_verdict(&ev, LQ_VERDICT_PASS, r3);
}

/* Each hard signal alone fails the run with its own sentence. */
static void
test_verdict_hard_each(void **state __unused)
{
	static const struct {
		size_t		 offset;
		unsigned int	 count;
		const char	*reason;
	} kinds[] = {
#define F(x)	offsetof(struct lq_run_evidence, x)
		{ F(dropouts), 1, "the device dropped out once" },
		{ F(dropouts), 2, "the device dropped out 2 times" },
		{ F(stranded), 1, "the device was stranded once: usbmuxd "
		    "dropped it after a failed transfer, only a replug brings "
		    "it back" },
		{ F(resets), 3, "the kernel reset the device 3 times" },
		{ F(reenumerations), 1, "the device re-enumerated once (it "
		    "reset and came back with a new device number)" },
		{ F(link_errors), 1, "the kernel reported a USB link error" },
		{ F(link_errors), 3, "the kernel reported USB link errors 3 "
		    "times" },
		{ F(urb_errors), 1, "a USB transfer failed with a link "
		    "error" },
		{ F(urb_errors), 4, "USB transfers failed with link errors 4 "
		    "times" },
		{ F(corruptions), 1, "data read back differed from what was "
		    "written (1 corruption)" },
		{ F(corruptions), 2, "data read back differed from what was "
		    "written (2 corruptions)" },
		{ F(speed_fallbacks), 1, "the link fell back to a lower speed "
		    "once" },
		{ F(enum_failures), 2, "the computer could not enumerate "
		    "(recognise) the device 2 times" },
		{ F(emi_reenables), 1, "the port was disabled by interference "
		    "or a loose contact and re-enabled once" },
		{ F(over_currents), 1, "over-current on the port once: that "
		    "points to the port or the hub's power, not the cable" },
		{ F(hc_failures), 2, "the host controller failed 2 times: that "
		    "points to the port or the computer, not the cable" },
#undef F
	};
	struct lq_run_evidence	ev;
	const char		*reasons[2];
	size_t			i;

	for (i = 0; i < nitems(kinds); i++) {
		clean_run(&ev);
		ev.probes = 5000;	/* plenty of clean probes */
		memcpy((char *)&ev + kinds[i].offset, &kinds[i].count,
		    sizeof kinds[i].count);
		reasons[0] = kinds[i].reason;
		reasons[1] = NULL;
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
		NULL
	};
	static const char *const	r2[] = {
		"the kernel reported a USB link error (-62, no response)",
		"USB transfers failed with link errors 2 times (first: -75, "
		"babble)", NULL
	};
	static const char *const	r3[] = {
		"the kernel reported a USB link error (-5)", NULL
	};

	clean_run(&ev);
	ev.link_errors = 3;
	ev.link_errno = -71;
	ev.urb_errors = 1;
	ev.urb_errno = -84;
	check_verdict(&ev, LQ_VERDICT_FAIL, r1);
	ev.link_errors = 1;
	ev.link_errno = -62;
	ev.urb_errors = 2;
	ev.urb_errno = -75;
	check_verdict(&ev, LQ_VERDICT_FAIL, r2);
	clean_run(&ev);
	ev.link_errors = 1;
	ev.link_errno = -5;
	check_verdict(&ev, LQ_VERDICT_FAIL, r3);
}

/* Below the best speed seen elsewhere is a hard signal. */
static void
test_verdict_speed(void **state __unused)
{
	struct lq_run_evidence		ev;
	static const char *const	r1[] = {
		"negotiated 12 Mb/s although this device reached 480 Mb/s "
		"elsewhere", NULL
	};
	static const char *const	r2[] = {
		"negotiated 5 Gb/s although this device reached 10 Gb/s "
		"elsewhere", NULL
	};
	static const char *const	r3[] = {
		"negotiated 1.5 Mb/s although this device reached 480 Mb/s "
		"elsewhere", NULL
	};
	static const char *const	pass[] = {
		"326 probes and 64 MiB each way without a failure; failure "
		"rate below 0.92% (95% upper bound)", NULL
	};

	clean_run(&ev);
	ev.speed_mbps = 12;
	check_verdict(&ev, LQ_VERDICT_FAIL, r1);
	/* The numbers say more than the fallback event: one reason. */
	ev.speed_fallbacks = 1;
	check_verdict(&ev, LQ_VERDICT_FAIL, r1);
	ev.speed_fallbacks = 0;
	ev.speed_mbps = 5000;
	ev.best_speed_mbps = 10000;
	check_verdict(&ev, LQ_VERDICT_FAIL, r2);
	ev.speed_mbps = 1;
	ev.best_speed_mbps = 480;
	check_verdict(&ev, LQ_VERDICT_FAIL, r3);

	/* Unknown on either side, or faster than before: nothing. */
	ev.speed_mbps = 0;
	check_verdict(&ev, LQ_VERDICT_PASS, pass);
	ev.speed_mbps = 12;
	ev.best_speed_mbps = 0;
	check_verdict(&ev, LQ_VERDICT_PASS, pass);
	ev.speed_mbps = 5000;
	ev.best_speed_mbps = 480;
	check_verdict(&ev, LQ_VERDICT_PASS, pass);
}

/* Every kind at once: host blame first, one reason each, mode last. */
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
		"the device was in DFU mode, where lockdown and AFC are "
		"unavailable: only USB control probes could run",
		NULL
	};

	memset(&ev, 0, sizeof ev);
	ev.probes = 10;
	ev.failures = 10;
	ev.dropouts = 2;
	ev.stranded = 1;
	ev.resets = 1;
	ev.reenumerations = 1;
	ev.link_errors = 3;
	ev.link_errno = -71;
	ev.urb_errors = 1;
	ev.urb_errno = -84;
	ev.corruptions = 1;
	ev.speed_mbps = 12;
	ev.best_speed_mbps = 480;
	ev.speed_fallbacks = 1;
	ev.enum_failures = 2;
	ev.emi_reenables = 1;
	ev.over_currents = 1;
	ev.hc_failures = 1;
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

/* A truncated test accepts below L = 0; the bound still has to hold. */
static void
test_verdict_truncated_pass(void **state __unused)
{
	struct lq_run_evidence		ev;
	static const char *const	reasons[] = {
		"11 of 3000 probes failed, with 64 MiB each way; failure rate "
		"below 0.61% (95% upper bound)", NULL
	};

	clean_run(&ev);
	ev.probes = 3000;
	ev.failures = 11;
	check_verdict(&ev, LQ_VERDICT_PASS, reasons);
}

/* Short of evidence: MARGINAL when finished, NONE while it runs. */
static void
test_verdict_not_enough(void **state __unused)
{
	struct lq_verdict_rules		rules;
	struct lq_verdict_result	res;
	struct lq_run_evidence		ev;
	static const char *const	r1[] = {
		"not enough evidence: 150 probes (a pass needs at least 326), "
		"12 MiB to the device (needs 64 MiB), 0 bytes from the device "
		"(needs 64 MiB)",
		"so far 0 of 150 probes failed; the failure rate may be as "
		"high as 2.0% (95% upper bound)", NULL
	};
	static const char *const	r2[] = {
		"no verdict yet: 150 probes (a pass needs at least 326), 12 "
		"MiB to the device (needs 64 MiB), 0 bytes from the device "
		"(needs 64 MiB)",
		"so far 0 of 150 probes failed; the failure rate may be as "
		"high as 2.0% (95% upper bound)", NULL
	};
	static const char *const	r3[] = {
		"not enough evidence: 63.9 MiB from the device (needs 64 MiB)",
		"so far 0 of 326 probes failed; the failure rate may be as "
		"high as 0.92% (95% upper bound)", NULL
	};
	static const char *const	r4[] = {
		"not enough evidence: 1 byte to the device (needs 64 MiB), "
		"1023 bytes from the device (needs 64 MiB)",
		"so far 0 of 326 probes failed; the failure rate may be as "
		"high as 0.92% (95% upper bound)", NULL
	};
	static const char *const	r5[] = {
		"no verdict yet: 0 probes (a pass needs at least 326), 0 "
		"bytes to the device (needs 64 MiB), 0 bytes from the device "
		"(needs 64 MiB)", NULL
	};
	static const char *const	r6[] = {
		"not enough evidence: 0 probes (a pass needs at least 326), 0 "
		"bytes to the device (needs 64 MiB), 0 bytes from the device "
		"(needs 64 MiB)",
		"the run ended before any probe completed", NULL
	};

	clean_run(&ev);
	ev.probes = 150;
	ev.bulk_bytes_out = 12 * MIB;
	ev.bulk_bytes_in = 0;
	check_verdict(&ev, LQ_VERDICT_MARGINAL, r1);
	ev.finished = 0;
	check_verdict(&ev, LQ_VERDICT_NONE, r2);
	lq_verdict_rules_default(&rules);
	lq_verdict_decide(&rules, &ev, &res);
	assert_int_equal(res.more_probes, 326 - 150);
	assert_int_equal(res.sprt, LQ_SPRT_CONTINUE);

	/* One byte short is short: sizes are rounded down. */
	clean_run(&ev);
	ev.bulk_bytes_in = 64 * MIB - 1;
	check_verdict(&ev, LQ_VERDICT_MARGINAL, r3);
	lq_verdict_decide(&rules, &ev, &res);
	assert_int_equal(res.sprt, LQ_SPRT_ACCEPT);
	assert_int_equal(res.more_probes, 0);
	ev.bulk_bytes_out = 1;
	ev.bulk_bytes_in = 1023;
	check_verdict(&ev, LQ_VERDICT_MARGINAL, r4);

	/* The minimum probe count binds when it is above the test's. */
	rules.min_probes = 1000;
	clean_run(&ev);
	lq_verdict_decide(&rules, &ev, &res);
	assert_int_equal(res.verdict, LQ_VERDICT_MARGINAL);
	assert_string_equal(res.reasons[0], "not enough evidence: 326 probes "
	    "(a pass needs at least 1000)");
	assert_int_equal(res.more_probes, 1000 - 326);

	memset(&ev, 0, sizeof ev);
	check_verdict(&ev, LQ_VERDICT_NONE, r5);
	ev.finished = 1;
	check_verdict(&ev, LQ_VERDICT_MARGINAL, r6);
}

/* The test has not decided when the run ends: MARGINAL. */
static void
test_verdict_undecided(void **state __unused)
{
	struct lq_run_evidence		ev;
	static const char *const	r1[] = {
		"not enough evidence: 500 probes (a pass needs at least 837)",
		"so far 2 of 500 probes failed (1 timeout); the failure rate "
		"may be as high as 1.3% (95% upper bound)", NULL
	};
	static const char *const	r2[] = {
		"no verdict yet: 500 probes (a pass needs at least 837)",
		"so far 2 of 500 probes failed (1 timeout); the failure rate "
		"may be as high as 1.3% (95% upper bound)", NULL
	};

	clean_run(&ev);
	ev.probes = 500;
	ev.failures = 2;
	ev.timeouts = 1;
	check_verdict(&ev, LQ_VERDICT_MARGINAL, r1);
	ev.finished = 0;
	check_verdict(&ev, LQ_VERDICT_NONE, r2);
}

/* Accepted and enough evidence, but the bound is above the limit. */
static void
test_verdict_bound_too_high(void **state __unused)
{
	struct lq_verdict_rules		rules;
	struct lq_verdict_result	res;
	struct lq_run_evidence		ev;

	lq_verdict_rules_default(&rules);
	rules.marginal_upper = 0.005;
	clean_run(&ev);
	ev.probes = 400;
	lq_verdict_decide(&rules, &ev, &res);
	assert_int_equal(res.verdict, LQ_VERDICT_MARGINAL);
	assert_int_equal(res.sprt, LQ_SPRT_ACCEPT);
	assert_int_equal(res.nreasons, 1);
	assert_string_equal(res.reasons[0], "0 of 400 probes failed; the "
	    "failure rate may be as high as 0.75% (95% upper bound), a pass "
	    "needs it below 0.5%");
	/* More clean probes will bring it down: keep going. */
	ev.finished = 0;
	lq_verdict_decide(&rules, &ev, &res);
	assert_int_equal(res.verdict, LQ_VERDICT_NONE);
	ev.probes = 600;
	lq_verdict_decide(&rules, &ev, &res);
	assert_int_equal(res.verdict, LQ_VERDICT_PASS);
}

/* Recovery, DFU and WTF modes say why lockdown and AFC are missing. */
static void
test_verdict_modes(void **state __unused)
{
	struct lq_verdict_rules		rules;
	struct lq_verdict_result	res;
	struct lq_run_evidence		ev;

	lq_verdict_rules_default(&rules);
	rules.min_bulk_bytes = 0;	/* a profile for recovery mode */
	clean_run(&ev);
	ev.bulk_bytes_out = ev.bulk_bytes_in = 0;
	ev.mode = LQ_MODE_RECOVERY;
	lq_verdict_decide(&rules, &ev, &res);
	assert_int_equal(res.verdict, LQ_VERDICT_PASS);
	assert_int_equal(res.nreasons, 2);
	assert_string_equal(res.reasons[0], "326 probes without a failure; "
	    "failure rate below 0.92% (95% upper bound)");
	assert_string_equal(res.reasons[1], "the device was in recovery "
	    "mode, where lockdown and AFC are unavailable: only USB control "
	    "probes could run");

	ev.mode = LQ_MODE_WTF;
	lq_verdict_decide(&rules, &ev, &res);
	assert_string_equal(res.reasons[1], "the device was in WTF mode, "
	    "where lockdown and AFC are unavailable: only USB control probes "
	    "could run");

	/*
	 * The default rules want bulk data, which DFU mode cannot move:
	 * out of normal mode that minimum does not apply.
	 */
	lq_verdict_rules_default(&rules);
	ev.mode = LQ_MODE_DFU;
	lq_verdict_decide(&rules, &ev, &res);
	assert_int_equal(res.verdict, LQ_VERDICT_PASS);
	assert_int_equal(res.nreasons, 2);
	assert_string_equal(res.reasons[1], "the device was in DFU mode, "
	    "where lockdown and AFC are unavailable: only USB control probes "
	    "could run");

	/* In normal mode it does. */
	ev.mode = LQ_MODE_NORMAL;
	lq_verdict_decide(&rules, &ev, &res);
	assert_int_equal(res.verdict, LQ_VERDICT_MARGINAL);
	assert_int_equal(res.nreasons, 2);
	ev.mode = 42;
	lq_verdict_decide(&rules, &ev, &res);
	assert_int_equal(res.nreasons, 2);
}

static void
test_verdict_odd_input(void **state __unused)
{
	struct lq_verdict_rules		rules;
	struct lq_verdict_result	res;
	struct lq_run_evidence		ev;

	/* Invalid rules decide nothing, but hard signals still fail. */
	lq_verdict_rules_default(&rules);
	rules.sprt.p0 = 0.5;
	clean_run(&ev);
	lq_verdict_decide(&rules, &ev, &res);
	assert_int_equal(res.verdict, LQ_VERDICT_NONE);
	assert_int_equal(res.nreasons, 1);
	assert_string_equal(res.reasons[0], "no verdict: the verdict rules "
	    "are invalid (the failure rates must satisfy 0 < p0 < p1 < 1)");
	ev.dropouts = 1;
	lq_verdict_decide(&rules, &ev, &res);
	assert_int_equal(res.verdict, LQ_VERDICT_FAIL);

	/* More failures than probes: every probe failed. */
	lq_verdict_rules_default(&rules);
	clean_run(&ev);
	ev.probes = 1;
	ev.failures = 3;
	lq_verdict_decide(&rules, &ev, &res);
	assert_int_equal(res.verdict, LQ_VERDICT_FAIL);
	assert_rel(res.cp_upper, 1.0, 0);
	assert_string_equal(res.reasons[0], "3 of 3 probes failed: a failure "
	    "rate of 100%, above the 0.1% a good connection may have");

	/* Huge counts: still sentences that fit. */
	clean_run(&ev);
	ev.probes = UINT64_MAX;
	ev.bulk_bytes_out = ev.bulk_bytes_in = UINT64_MAX;
	lq_verdict_decide(&rules, &ev, &res);
	assert_int_equal(res.verdict, LQ_VERDICT_PASS);
	assert_string_equal(res.reasons[0], "18446744073709551615 probes and "
	    "15.9 EiB each way without a failure; failure rate below "
	    "0.000000000000000017% (95% upper bound)");
	ev.failures = UINT64_MAX / 2;
	lq_verdict_decide(&rules, &ev, &res);
	assert_int_equal(res.verdict, LQ_VERDICT_FAIL);
}

/* No sentence is cut short or speaks of a restore's chances. */
static void
test_verdict_wording(void **state __unused)
{
	struct lq_verdict_rules		rules;
	struct lq_verdict_result	res;
	struct lq_run_evidence		ev;
	uint64_t			n, k;
	int				i, finished;

	lq_verdict_rules_default(&rules);
	for (finished = 0; finished < 2; finished++) {
		for (n = 0; n < 20000; n = n * 2 + 7) {
			for (k = 0; k <= n && k < 40; k = k * 2 + 1) {
				clean_run(&ev);
				ev.probes = n;
				ev.failures = k;
				ev.timeouts = k / 2;
				ev.bulk_bytes_out = n * 100000;
				ev.bulk_bytes_in = n * 300000;
				ev.finished = finished;
				ev.mode = (int)(k % 4);
				ev.dropouts = (unsigned int)(n % 3 == 0);
				lq_verdict_decide(&rules, &ev, &res);
				assert_true(res.nreasons > 0 ||
				    res.verdict == LQ_VERDICT_NONE);
				for (i = 0; i < res.nreasons; i++) {
					assert_true(strlen(res.reasons[i]) <
					    LQ_VERDICT_REASON_LEN - 1);
					assert_null(strstr(res.reasons[i],
					    "probability"));
					assert_null(strstr(res.reasons[i],
					    "restore"));
				}
			}
		}
	}
}

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
	ev.dropouts = 1;
	ev.hc_failures = 1;
	lq_verdict_decide(&rules, &ev, &res);
	json = lq_verdict_reasons_json(&res);
	assert_string_equal(json, "[\"the host controller failed once: that "
	    "points to the port or the computer, not the cable\","
	    "\"the device dropped out once\"]");
	free(json);
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
		cmocka_unit_test(test_verdict_modes),
		cmocka_unit_test(test_verdict_odd_input),
		cmocka_unit_test(test_verdict_wording),
		cmocka_unit_test(test_verdict_names),
		cmocka_unit_test(test_reasons_json),
		cmocka_unit_test(test_reasons_json_of_a_verdict),
	};

	return (cmocka_run_group_tests_name("verdict", tests, NULL, NULL));
}
