/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Exposure statistics (include/lq-exposure.h).
 *
 * The Poisson upper bound solves P(X <= k; m) = alpha for m, where
 * P(X <= k; m) = sum_{i <= k} e^-m m^i / i! falls as m grows with slope
 * -e^-m m^k / k!, the top term. The sum runs down from that term by
 * the recurrence p(i - 1) = p(i) i / m, so every term is relative to
 * it and the sum is as accurate as the top term. That term is computed
 * in Loader's saddle-point form, e^-(stirling(k) + deviance(k, m)) /
 * sqrt(2 pi k), which keeps k ln m and m from cancelling when both are
 * large (research/linux-usb-signals-and-performance.md, A6, and
 * common/verdict.c do the same for the binomial). Newton's method on a
 * bisection bracket finds the root: the tail is convex there, so the
 * steps from below converge without overshooting.
 */

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "compat/compat.h"
#include "lq-exposure.h"

/* ln sqrt(2 pi) */
#define LN_SQRT_2PI	0.9189385332046727417803297364056

#define POISSON_RTOL	1e-14
#define POISSON_MAXIT	200

/* Past this many events the sum is too long to run; none is expected. */
#define POISSON_K_MAX	UINT64_C(100000000)

#define US_PER_MINUTE	60e6
#define BYTES_PER_GB	1e9

/*
 * Stirling's error: ln k! - (k ln k - k + ln sqrt(2 pi k)); exact from
 * lgamma for small k, where nothing cancels, and its asymptotic series
 * past 15, where the series is exact to double precision.
 */
static double
stirling_error(double k)
{
	double	k2;

	if (k <= 15.0)
		return (lgamma(k + 1.0) - (k * log(k) - k + LN_SQRT_2PI +
		    0.5 * log(k)));
	k2 = k * k;
	return ((1.0 / 12.0 - (1.0 / 360.0 - 1.0 / 1260.0 / k2) / k2) / k);
}

/* k ln(k / m) + m - k, without cancellation when k is near m. */
static double
deviance(double k, double m)
{
	double	r;

	r = (k - m) / m;
	if (fabs(r) < 0.5)
		return (m * ((1.0 + r) * log1p(r) - r));
	return (k * log(k / m) + m - k);
}

/* e^-m m^k / k!, the Poisson probability of exactly k. */
static double
poisson_term(uint64_t k, double m)
{
	double	dk = (double)k;

	if (k == 0)
		return (exp(-m));
	return (exp(-stirling_error(dk) - deviance(dk, m)) /
	    sqrt(2.0 * M_PI * dk));
}

/* P(X <= k) for X Poisson of mean m; the top term in *top. */
static double
poisson_cdf(uint64_t k, double m, double *top)
{
	double	term, sum;
	uint64_t i;

	*top = term = poisson_term(k, m);
	sum = term;
	for (i = k; i > 0; i--) {
		term *= (double)i / m;
		sum += term;
		if (term < sum * 1e-17)
			break;
	}
	return (sum);
}

/* The upper bound of a Poisson mean after k events (lq-exposure.h). */
double
lq_poisson_upper(uint64_t k, double alpha)
{
	double	lo, hi, m, f, top, next;
	int	i;

	if (!(alpha > 0.0 && alpha < 0.5) || k > POISSON_K_MAX)
		return (NAN);
	if (k == 0)
		return (-log(alpha));
	/* P(X <= k; k) is at least 1/2: the root lies above k. */
	lo = (double)k;
	hi = (double)k + 1.0;
	while (poisson_cdf(k, hi, &top) > alpha)
		hi = (double)k + 2.0 * (hi - (double)k);
	m = lo;
	for (i = 0; i < POISSON_MAXIT; i++) {
		f = poisson_cdf(k, m, &top) - alpha;
		if (f > 0.0)
			lo = m;
		else
			hi = m;
		next = top > 0.0 ? m + f / top : hi;
		if (!(next > lo && next < hi))
			next = 0.5 * (lo + hi);
		if (fabs(next - m) <= POISSON_RTOL * m)
			return (next);
		m = next;
	}
	return (m);
}

/* The chance of at least one event at rate over exposure. */
double
lq_detect_power(double rate, double exposure)
{
	if (!(rate > 0.0) || !(exposure > 0.0))
		return (0.0);
	return (-expm1(-rate * exposure));
}

/* The bounds and powers of e at confidence 1 - alpha. */
void
lq_exposure_bounds(const struct lq_exposure *e, double alpha,
    struct lq_exposure_bounds *b)
{
	double	mean, minutes, gb;

	mean = lq_poisson_upper(e->faults, alpha);
	minutes = (double)e->load_us / US_PER_MINUTE;
	gb = ((double)e->bytes_out + (double)e->bytes_in) / BYTES_PER_GB;
	b->per_minute = minutes > 0.0 ? mean / minutes : INFINITY;
	b->per_gb = gb > 0.0 ? mean / gb : INFINITY;
	b->power_fast = lq_detect_power(LQ_EXPOSURE_REF_FAST, minutes);
	b->power_slow = lq_detect_power(LQ_EXPOSURE_REF_SLOW, minutes);
}

/* Format a duration, rounded down. */
char *
lq_fmt_duration(char *buf, size_t len, int64_t us)
{
	int64_t	s;

	if (us < 0)
		us = 0;
	s = us / 1000000;
	if (s < 10)
		(void)snprintf(buf, len, "%" PRId64 ".%" PRId64 " s", s,
		    us % 1000000 / 100000);
	else if (s < 60)
		(void)snprintf(buf, len, "%" PRId64 " s", s);
	else if (s < 3600)
		(void)snprintf(buf, len, "%" PRId64 " min %" PRId64 " s",
		    s / 60, s % 60);
	else
		(void)snprintf(buf, len, "%" PRId64 " h %02" PRId64 " min",
		    s / 3600, s % 3600 / 60);
	return (buf);
}

/* Format a byte count in SI units, one decimal below 10, rounded down. */
char *
lq_fmt_si_bytes(char *buf, size_t len, uint64_t bytes)
{
	static const char *const units[] = { "kB", "MB", "GB", "TB", "PB" };
	uint64_t	unit = 1000;
	size_t		i;

	if (bytes < 1000) {
		(void)snprintf(buf, len, "%" PRIu64 " %s", bytes,
		    bytes == 1 ? "byte" : "bytes");
		return (buf);
	}
	for (i = 0; i + 1 < nitems(units) && bytes / unit >= 1000; i++)
		unit *= 1000;
	if (bytes / unit < 10)
		(void)snprintf(buf, len, "%" PRIu64 ".%" PRIu64 " %s",
		    bytes / unit, bytes % unit / (unit / 10), units[i]);
	else
		(void)snprintf(buf, len, "%" PRIu64 " %s", bytes / unit,
		    units[i]);
	return (buf);
}

/* Format a count with thousands separators. */
char *
lq_fmt_count(char *buf, size_t len, uint64_t n)
{
	char	digits[24];
	size_t	nd, i, o = 0;

	nd = (size_t)snprintf(digits, sizeof digits, "%" PRIu64, n);
	for (i = 0; i < nd && o + 1 < len; i++) {
		if (i > 0 && (nd - i) % 3 == 0 && o + 2 < len)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	if (len > 0)
		buf[o < len ? o : len - 1] = '\0';
	return (buf);
}

/*
 * Format a rate with two significant digits, rounded up; below 0.001 as
 * 0.001, which still bounds it.
 */
static char *
fmt_rate_up(char *buf, size_t len, double v)
{
	int	digits;
	double	scale;

	if (isinf(v)) {
		(void)strlcpy(buf, "unbounded", len);
		return (buf);
	}
	if (v < 0.001) {
		(void)strlcpy(buf, "0.001", len);
		return (buf);
	}
	if (v >= 100.0) {
		(void)snprintf(buf, len, "%.0f", ceil(v * (1.0 - 1e-12)));
		return (buf);
	}
	digits = v > 0.0 ? 1 - (int)floor(log10(v)) : 1;
	if (digits < 0)
		digits = 0;
	scale = pow(10.0, digits);
	(void)snprintf(buf, len, "%.*f", digits,
	    ceil(v * scale * (1.0 - 1e-12)) / scale);
	return (buf);
}

/* Format a probability as a percentage, rounded down. */
static char *
fmt_power_down(char *buf, size_t len, double p)
{
	if (p >= 0.999)
		(void)strlcpy(buf, "more than 99.9%", len);
	else if (p >= 0.99)
		(void)snprintf(buf, len, "%.1f%%", floor(p * 1000.0) / 10.0);
	else if (p >= 0.01)
		(void)snprintf(buf, len, "%.0f%%", floor(p * 100.0));
	else
		(void)strlcpy(buf, "less than 1%", len);
	return (buf);
}

/* Append ", <n bytes><what>" to buf. */
static void
words_bytes(char *buf, size_t len, uint64_t n, const char *what)
{
	char	a[32];

	(void)strlcat(buf, ", ", len);
	(void)strlcat(buf, lq_fmt_si_bytes(a, sizeof a, n), len);
	(void)strlcat(buf, what, len);
}

/* The exposure in words. */
char *
lq_exposure_words(char *buf, size_t len, const struct lq_exposure *e)
{
	char	t[32], b[32], n[32];

	(void)snprintf(buf, len, "%s under load",
	    lq_fmt_duration(t, sizeof t, e->load_us));
	if (e->bytes_out == 0 && e->bytes_in == 0)
		;	/* round trips alone */
	else if (e->bytes_out == e->bytes_in)
		words_bytes(buf, len, e->bytes_out, " each way");
	else if (e->bytes_in == 0)
		words_bytes(buf, len, e->bytes_out, " to the device");
	else if (e->bytes_out == 0)
		words_bytes(buf, len, e->bytes_in, " from the device");
	else {
		words_bytes(buf, len, e->bytes_out, " to the device and ");
		(void)strlcat(buf, lq_fmt_si_bytes(b, sizeof b, e->bytes_in),
		    len);
		(void)strlcat(buf, " back", len);
	}
	if (e->round_trips > 0) {
		(void)strlcat(buf, ", ", len);
		(void)strlcat(buf, lq_fmt_count(n, sizeof n, e->round_trips),
		    len);
		(void)strlcat(buf, e->round_trips == 1 ? " round trip" :
		    " round trips", len);
	}
	return (buf);
}

/* The upper bounds in words; confidence is 1 - alpha. */
char *
lq_exposure_bound_words(char *buf, size_t len,
    const struct lq_exposure_bounds *b, double alpha)
{
	char	m[32], g[32];

	if (isinf(b->per_gb))
		(void)snprintf(buf, len, "at most %s faults per minute of "
		    "load (%.0f%% upper bound)", fmt_rate_up(m, sizeof m,
		    b->per_minute), (1.0 - alpha) * 100.0);
	else
		(void)snprintf(buf, len, "at most %s faults per minute of "
		    "load and %s per GB (%.0f%% upper bound)", fmt_rate_up(m,
		    sizeof m, b->per_minute), fmt_rate_up(g, sizeof g,
		    b->per_gb), (1.0 - alpha) * 100.0);
	return (buf);
}

/* The detection power at the reference rates in words. */
char *
lq_exposure_power_words(char *buf, size_t len,
    const struct lq_exposure_bounds *b)
{
	char	f[32], s[32];

	(void)snprintf(buf, len, "a cable that faults once a minute would "
	    "have shown with %s probability; one that faults once in ten "
	    "minutes, %s", fmt_power_down(f, sizeof f, b->power_fast),
	    fmt_power_down(s, sizeof s, b->power_slow));
	return (buf);
}
