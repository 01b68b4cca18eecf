/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Unit tests for common/exposure.c: the Poisson upper bound and the
 * detection power against values computed with mpmath at 60 digits
 * (mp.findroot on the regularised upper incomplete gamma function,
 * 1 - e^-x), the bounds of an exposure, and the words a technician
 * reads, rounded so that the evidence is never overstated.
 */

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "compat/compat.h"
#include "lq-exposure.h"

static void
assert_rel(double got, double want, double rel)
{
	if (!(fabs(got - want) <= rel * fabs(want)))
		fail_msg("got %.17g, want %.17g (relative error %.3g > %.3g)",
		    got, want, fabs(got - want) / fabs(want), rel);
}

/* mpmath: findroot(gammainc(k + 1, m, inf, regularized) - alpha). */
static void
test_poisson_upper_exact(void **state __unused)
{
	static const struct {
		uint64_t	k;
		double		alpha, want, rel;
	} t[] = {
		{ 0, 0.05, 2.9957322735539909934, 1e-15 },
		{ 1, 0.05, 4.7438645183905783759, 1e-13 },
		{ 2, 0.05, 6.2957936218719897418, 1e-13 },
		{ 3, 0.05, 7.7536565279327269111, 1e-13 },
		{ 5, 0.05, 10.513034908741532698, 1e-13 },
		{ 10, 0.05, 16.962219235721901468, 1e-12 },
		{ 100, 0.05, 118.07927278209706, 1e-12 },
		{ 1000, 0.05, 1053.6031221333008295, 1e-12 },
		{ 100000, 0.05, 100521.71888230443935, 1e-9 },
		{ 0, 0.01, 4.605170185988091368, 1e-15 },
		{ 1, 0.01, 6.6383520679938122694, 1e-13 },
		{ 3, 0.01, 10.045117514831616587, 1e-13 },
		{ 10, 0.01, 20.144680218796932026, 1e-12 },
		{ 1000, 0.01, 1076.069607438307858, 1e-12 },
		{ 0, 0.001, 6.9077552789821370521, 1e-15 },
		{ 2, 0.001, 11.22887224241266263, 1e-13 },
		{ 100, 0.001, 134.92431906126447707, 1e-12 },
		{ 100000, 0.001, 100981.07267802988376, 1e-9 },
	};
	size_t	i;

	for (i = 0; i < nitems(t); i++)
		assert_rel(lq_poisson_upper(t[i].k, t[i].alpha), t[i].want,
		    t[i].rel);
}

/* The bound grows with k and with the confidence. */
static void
test_poisson_upper_monotone(void **state __unused)
{
	uint64_t	k;
	double		prev = 0, m;

	for (k = 0; k < 300; k++) {
		m = lq_poisson_upper(k, 0.05);
		assert_true(m > prev);
		assert_true(m > (double)k);
		assert_true(lq_poisson_upper(k, 0.01) > m);
		prev = m;
	}
}

static void
test_poisson_upper_edges(void **state __unused)
{
	assert_true(isnan(lq_poisson_upper(0, 0.0)));
	assert_true(isnan(lq_poisson_upper(0, 0.5)));
	assert_true(isnan(lq_poisson_upper(3, -1.0)));
	assert_true(isnan(lq_poisson_upper(3, NAN)));
	assert_true(isnan(lq_poisson_upper(UINT64_MAX, 0.05)));
}

/* mpmath: 1 - e^-T and 1 - e^-(T/10), T in minutes. */
static void
test_detect_power_exact(void **state __unused)
{
	assert_rel(lq_detect_power(1.0, 298.0 / 60.0),
	    0.99303366952253208493, 1e-15);
	assert_rel(lq_detect_power(0.1, 298.0 / 60.0),
	    0.3914441980597431042, 1e-15);
	assert_rel(lq_detect_power(1.0, 0.5), 0.3934693402873665764, 1e-15);
	assert_rel(lq_detect_power(0.1, 0.5), 0.048770575499285990909,
	    1e-15);
	assert_rel(lq_detect_power(1.0, 10.0), 0.99995460007023751515,
	    1e-15);
	assert_rel(lq_detect_power(0.1, 30.0), 0.95021293163213605702,
	    1e-15);
	/* Tiny exposures keep their digits (expm1). */
	assert_rel(lq_detect_power(1.0, 1e-12), 1e-12, 1e-9);
	assert_true(lq_detect_power(1.0, 0.0) == 0.0);
	assert_true(lq_detect_power(0.0, 5.0) == 0.0);
}

/* 4 min 58 s, 8.6 GB each way, no fault. */
static void
test_exposure_bounds(void **state __unused)
{
	struct lq_exposure		e;
	struct lq_exposure_bounds	b;

	memset(&e, 0, sizeof e);
	e.load_us = 298 * INT64_C(1000000);
	e.bytes_out = e.bytes_in = UINT64_C(8600000000);
	lq_exposure_bounds(&e, 0.05, &b);
	assert_rel(b.per_minute, 2.9957322735539909934 / (298.0 / 60.0),
	    1e-14);
	assert_rel(b.per_gb, 2.9957322735539909934 / 17.2, 1e-14);
	assert_rel(b.power_fast, 0.99303366952253208493, 1e-15);
	assert_rel(b.power_slow, 0.3914441980597431042, 1e-15);

	/* Two faults in one minute and 1 GB. */
	e.load_us = 60 * INT64_C(1000000);
	e.bytes_out = UINT64_C(1000000000);
	e.bytes_in = 0;
	e.faults = 2;
	lq_exposure_bounds(&e, 0.05, &b);
	assert_rel(b.per_minute, 6.2957936218719897418, 1e-13);
	assert_rel(b.per_gb, 6.2957936218719897418, 1e-13);

	/* Nothing moved, no load: no bound, no power. */
	memset(&e, 0, sizeof e);
	lq_exposure_bounds(&e, 0.05, &b);
	assert_true(isinf(b.per_minute) && isinf(b.per_gb));
	assert_true(b.power_fast == 0.0 && b.power_slow == 0.0);
}

static void
test_fmt(void **state __unused)
{
	char	buf[64];

	assert_string_equal(lq_fmt_duration(buf, sizeof buf, 298999999),
	    "4 min 58 s");
	assert_string_equal(lq_fmt_duration(buf, sizeof buf, 1890000),
	    "1.8 s");
	assert_string_equal(lq_fmt_duration(buf, sizeof buf, 30000000),
	    "30 s");
	assert_string_equal(lq_fmt_duration(buf, sizeof buf,
	    INT64_C(7500) * 1000000), "2 h 05 min");
	assert_string_equal(lq_fmt_duration(buf, sizeof buf, -5), "0.0 s");
	assert_string_equal(lq_fmt_si_bytes(buf, sizeof buf,
	    UINT64_C(8699999999)), "8.6 GB");
	assert_string_equal(lq_fmt_si_bytes(buf, sizeof buf,
	    UINT64_C(268435456)), "268 MB");
	assert_string_equal(lq_fmt_si_bytes(buf, sizeof buf, 999), "999 bytes");
	assert_string_equal(lq_fmt_si_bytes(buf, sizeof buf, 1), "1 byte");
	assert_string_equal(lq_fmt_si_bytes(buf, sizeof buf, 12345), "12 kB");
	assert_string_equal(lq_fmt_count(buf, sizeof buf, 41213), "41,213");
	assert_string_equal(lq_fmt_count(buf, sizeof buf, 999), "999");
	assert_string_equal(lq_fmt_count(buf, sizeof buf, 1000000),
	    "1,000,000");
	assert_string_equal(lq_fmt_count(buf, sizeof buf, 0), "0");
	/* Cut short, still terminated. */
	assert_string_equal(lq_fmt_count(buf, 4, 1000000), "1,0");
}

/* The words of a PASS: the example. */
static void
test_words(void **state __unused)
{
	struct lq_exposure		e;
	struct lq_exposure_bounds	b;
	char				buf[256];

	memset(&e, 0, sizeof e);
	e.load_us = 298 * INT64_C(1000000);
	e.bytes_out = e.bytes_in = UINT64_C(8600000000);
	e.round_trips = 41213;
	assert_string_equal(lq_exposure_words(buf, sizeof buf, &e),
	    "4 min 58 s under load, 8.6 GB each way, 41,213 round trips");
	lq_exposure_bounds(&e, 0.05, &b);
	/* 0.6032 per minute and 0.1742 per GB, rounded up. */
	assert_string_equal(lq_exposure_bound_words(buf, sizeof buf, &b,
	    0.05), "at most 0.61 faults per minute of load and 0.18 per GB "
	    "(95% upper bound)");
	assert_string_equal(lq_exposure_power_words(buf, sizeof buf, &b),
	    "a cable that faults once a minute would have shown with 99.3% "
	    "probability; one that faults once in ten minutes, 39%");

	/* Round trips alone, in recovery mode: no bytes, no per-GB bound. */
	e.bytes_out = e.bytes_in = 0;
	e.round_trips = 1;
	e.load_us = 1500000;
	assert_string_equal(lq_exposure_words(buf, sizeof buf, &e),
	    "1.5 s under load, 1 round trip");
	lq_exposure_bounds(&e, 0.05, &b);
	assert_string_equal(lq_exposure_bound_words(buf, sizeof buf, &b,
	    0.05), "at most 120 faults per minute of load (95% upper bound)");
	assert_string_equal(lq_exposure_power_words(buf, sizeof buf, &b),
	    "a cable that faults once a minute would have shown with 2% "
	    "probability; one that faults once in ten minutes, less than 1%");

	/* A restore's stream: to the device only. */
	e.bytes_out = UINT64_C(8000000000);
	e.bytes_in = 0;
	e.round_trips = 80;
	e.load_us = 364 * INT64_C(1000000);
	assert_string_equal(lq_exposure_words(buf, sizeof buf, &e),
	    "6 min 4 s under load, 8.0 GB to the device, 80 round trips");
	e.bytes_out = 0;
	e.bytes_in = 5000;
	assert_string_equal(lq_exposure_words(buf, sizeof buf, &e),
	    "6 min 4 s under load, 5.0 kB from the device, 80 round trips");

	/* Unequal ways; an hour of load. */
	e.bytes_out = UINT64_C(8000000000);
	e.bytes_in = UINT64_C(64000000);
	e.round_trips = 0;
	e.load_us = INT64_C(3600) * 1000000;
	assert_string_equal(lq_exposure_words(buf, sizeof buf, &e),
	    "1 h 00 min under load, 8.0 GB to the device and 64 MB back");
	lq_exposure_bounds(&e, 0.05, &b);
	assert_string_equal(lq_exposure_power_words(buf, sizeof buf, &b),
	    "a cable that faults once a minute would have shown with more "
	    "than 99.9% probability; one that faults once in ten minutes, "
	    "99.7%");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_poisson_upper_exact),
		cmocka_unit_test(test_poisson_upper_monotone),
		cmocka_unit_test(test_poisson_upper_edges),
		cmocka_unit_test(test_detect_power_exact),
		cmocka_unit_test(test_exposure_bounds),
		cmocka_unit_test(test_fmt),
		cmocka_unit_test(test_words),
	};

	return (cmocka_run_group_tests_name("exposure", tests, NULL, NULL));
}
