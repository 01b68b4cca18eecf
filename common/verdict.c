/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The verdict engine (include/lq-verdict.h): the statistics of a run and
 * the rules that turn what it saw into PASS, MARGINAL or FAIL, with
 * reasons for a repair technician. Pure functions: linkqd decides with
 * them as a run goes, `linkq report --db` recomputes the same answers.
 *
 * EXPOSURE. Hard signals (a dropout, a link error, a reset) are faults
 * in time and in bytes moved; one fails the run, and a run without one
 * bounds the fault rate per minute of load and per GB it moved
 * (common/exposure.c). That is what a PASS states.
 *
 * STATISTICS of the soft signals (research/linux-usb-signals-and-
 * performance.md, A6). Each probe is a Bernoulli trial that fails with
 * an unknown rate p; the chunks of a bulk probe are not trials.
 *
 * - The figure reported is the exact one-sided 95% Clopper-Pearson upper
 *   bound of p: the largest p under which k or fewer failures in n
 *   probes still happen 5% of the time. Exact means never optimistic:
 *   the normal approximation gives a bound of 0 at k = 0 and Wilson's
 *   score bound is anti-conservative there, yet k = 0 is what a good
 *   cable shows. The bound is the 1 - alpha quantile of Beta(k + 1,
 *   n - k): the x at which the binomial tail P(X <= k) = 1 - I_x(k + 1,
 *   n - k) falls to alpha, found by a safeguarded Newton iteration. The
 *   tail is summed from its largest term, each term computed in Loader's
 *   saddle-point form (Stirling's error plus a deviance), so that no huge
 *   logarithms cancel and n up to 2^64 keeps its precision. The textbook
 *   route, the continued fraction of the incomplete beta function I_x,
 *   loses about log10(n/k) digits when k is much smaller than n (a third
 *   of the value at n = 2^64, k = 3), so it only serves when both k and
 *   n - k pass 1e12, where a sum would be long and the loss is ~1e-9.
 * - The decision is Wald's sequential probability ratio test (SPRT) of
 *   p = p0 (good) against p = p1 (bad): a bad link is failed as soon as
 *   it shows itself, a good one is passed after far fewer probes than a
 *   fixed-size test needs for the same risks (326 clean probes for p0 =
 *   1e-3 against p1 = 1e-2 at 5% each way), and the truncation at n_max
 *   bounds the length of a run.
 * - Caveat: probes are not independent. Cable faults come in bursts
 *   (flexing, heat, a moving connector), so both figures are optimistic
 *   about a link that fails rarely but in clusters. That is one reason
 *   why hard signals fail a run at once instead of feeding the test, and
 *   why no figure here is a probability that a restore will succeed: a
 *   short soak cannot show that (A6, last part).
 *
 * The daemon calls lq_verdict_decide() again as evidence grows. A run
 * passes when its plan has run to the end (a profile keeps its word);
 * only a profile that allows it stops at the test's acceptance, and
 * then not before the evidence minimums are met, so a later failure can
 * still undo an acceptance. That departs from Wald's stopping rule in
 * the safe direction only.
 */

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat/compat.h"
#include "linkq.h"
#include "lq-exposure.h"
#include "lq-verdict.h"
#include "xmalloc.h"

#define LN_2PI		1.8378770664093454835606594728112	/* ln(2 pi) */
#define LN_SQRT_2PI	0.9189385332046727417803297364056	/* its half */

/* Continued fraction: convergence, guard against division by 0, cap. */
#define CF_EPS		(4 * DBL_EPSILON)
#define CF_TINY		(DBL_MIN / DBL_EPSILON)
#define CF_MAXIT	10000000UL

/* The quantile solve stops at this relative step. */
#define CP_RTOL		1e-13
#define CP_MAXIT	400

/* Past this many terms on both sides the tail is a continued fraction. */
#define BINOM_SUM_MAX	UINT64_C(1000000000000)

#define MIB		(UINT64_C(1) << 20)

enum round_mode {
	ROUND_UP,	/* an upper bound: never understate it */
	ROUND_NEAR,	/* an observed rate */
	ROUND_TRIM	/* a configured threshold: shortest form */
};

static double	stirling_error(double);
static double	deviance(double, double, double);
static double	log_binom_term(double, double, double, double);
static double	beta_cf(double, double, double);
static double	beta_upper(double, double, double, double, double *);
static double	binom_sum(double, uint64_t, double, double, double *);
static double	binom_cdf(uint64_t, uint64_t, double, double, double *);
static double	cp_solve(uint64_t, uint64_t, double);
static void	sprt_terms(const struct lq_sprt *, double *, double *,
		    double *, double *);
static double	sprt_llr(double, double, uint64_t, uint64_t);
static void	reason_add(struct lq_verdict_result *, const char *, ...)
		    printflike(2, 3);
static const char *fmt_u64(char *, size_t, uint64_t);
static const char *fmt_times(char *, size_t, unsigned int);
static const char *fmt_bytes(char *, size_t, uint64_t);
static const char *fmt_percent(char *, size_t, double, enum round_mode);
static const char *fmt_speed(char *, size_t, int);
static const char *fmt_errno(char *, size_t, const char *, int);
static const char *fmt_timeouts(char *, size_t, uint64_t, uint64_t);
static int	verdict_slower(const struct lq_run_evidence *);
static const char *fmt_hard(char *, size_t, const char *, const char *);
static void	verdict_hard_one(const struct lq_run_evidence *,
		    enum lq_hard_kind, struct lq_verdict_result *);
static int	verdict_hard(const struct lq_run_evidence *,
		    struct lq_verdict_result *);
static void	verdict_soft(const struct lq_verdict_rules *,
		    const struct lq_run_evidence *, uint64_t, uint64_t,
		    struct lq_verdict_result *);
static size_t	utf8_len(const unsigned char *, size_t);
static char	*json_escape(char *, const char *, size_t);

/*
 * Return ln(x!) - ((x + 1/2) ln x - x + ln sqrt(2 pi)), the error of
 * Stirling's formula, for x > 0: directly for small x, by its
 * asymptotic series (error below 1e-16 from 15 on) for large x.
 */
static double
stirling_error(double x)
{
	double	x2;
	int	sign;

	if (x <= 15.0) {
		/* lgamma_r: lgamma() writes the global signgam. */
		return (lgamma_r(x + 1.0, &sign) - (x + 0.5) * log(x) + x -
		    LN_SQRT_2PI);
	}
	x2 = x * x;
	return ((1.0 / 12 - (1.0 / 360 - (1.0 / 1260 - (1.0 / 1680 -
	    1.0 / (1188 * x2)) / x2) / x2) / x2) / x);
}

/*
 * Return x ln(x/m) + m - x for x, m > 0, given diff = x - m computed by
 * the caller without cancellation. Near x = m it is the series
 * diff * v + 2x (v^3/3 + v^5/5 + ...), v = diff / (x + m), which keeps
 * full precision where the direct form would cancel.
 */
static double
deviance(double x, double m, double diff)
{
	double	v, v2, s, term, next;
	int	j;

	if (fabs(diff) >= 0.1 * (x + m))
		return (x * log(x / m) + m - x);
	v = diff / (x + m);
	v2 = v * v;
	s = diff * v;
	term = 2.0 * x * v;
	for (j = 1; j < 100; j++) {
		term *= v2;
		next = s + term / (2 * j + 1);
		if (fabs(next - s) <= DBL_EPSILON * fabs(next))
			return (next);
		s = next;
	}
	return (s);
}

/*
 * Return ln(C(a + b, a) p^a q^b) for a, b > 0 and q = 1 - p, in Loader's
 * saddle-point form ("Fast and accurate computation of binomial
 * probabilities", 2000): Stirling errors and deviances, all small, so
 * nothing of size n ln n has to cancel.
 */
static double
log_binom_term(double a, double b, double p, double q)
{
	double	n, da, lc, lf;

	n = a + b;
	/* b - n q = -(a - n p); take the difference of the small pair. */
	if (a <= b)
		da = a - n * p;
	else
		da = n * q - b;
	lc = stirling_error(n) - stirling_error(a) - stirling_error(b) -
	    deviance(a, n * p, da) - deviance(b, n * q, -da);
	/* ln(2 pi a b / n), with ln(b / n) = -ln(1 + a / b). */
	if (a <= b)
		lf = LN_2PI + log(a) - log1p(a / b);
	else
		lf = LN_2PI + log(b) - log1p(b / a);
	return (lc - 0.5 * lf);
}

/*
 * Return the continued fraction of the incomplete beta function I_x(a,
 * b) = x^a (1 - x)^b / (a B(a, b)) * cf, evaluated by the modified Lentz
 * method. It converges fast for x < (a + 1) / (a + b + 2) and ends after
 * about 2b terms when b is an integer.
 */
static double
beta_cf(double a, double b, double x)
{
	double		c, d, h, aa, del, m, m2;
	unsigned long	i;

	c = 1.0;
	d = 1.0 - (a + b) * x / (a + 1.0);
	if (fabs(d) < CF_TINY)
		d = CF_TINY;
	d = 1.0 / d;
	h = d;
	for (i = 1; i <= CF_MAXIT; i++) {
		m = (double)i;
		m2 = 2.0 * m;
		/* Even term: m (b - m) x / ((a + 2m - 1)(a + 2m)). */
		aa = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
		d = 1.0 + aa * d;
		if (fabs(d) < CF_TINY)
			d = CF_TINY;
		c = 1.0 + aa / c;
		if (fabs(c) < CF_TINY)
			c = CF_TINY;
		d = 1.0 / d;
		h *= d * c;
		/* Odd term: -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)). */
		aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
		d = 1.0 + aa * d;
		if (fabs(d) < CF_TINY)
			d = CF_TINY;
		c = 1.0 + aa / c;
		if (fabs(c) < CF_TINY)
			c = CF_TINY;
		d = 1.0 / d;
		del = d * c;
		h *= del;
		if (fabs(del - 1.0) <= CF_EPS)
			break;
	}
	return (h);
}

/*
 * Return 1 - I_x(a, b), the upper tail of the regularized incomplete
 * beta function, for 0 < x < 1 and y = 1 - x, and the Beta(a, b)
 * density at x in *density.
 */
static double
beta_upper(double a, double b, double x, double y, double *density)
{
	double	term;

	/* C(a + b, a) x^a y^b; the density is term a b / ((a + b) x y). */
	term = exp(log_binom_term(a, b, x, y));
	*density = term * (a / (x * y)) * (b / (a + b));
	if (x < (a + 1.0) / (a + b + 2.0))
		return (1.0 - term * (b / (a + b)) * beta_cf(a, b, x));
	/* I_x(a, b) = 1 - I_y(b, a): the fraction converges on this side. */
	return (term * (a / (a + b)) * beta_cf(b, a, y));
}

/*
 * Return P(X <= k) for X binomial(n, p), q = 1 - p, 0 <= k < n, and the
 * term P(X = k) in *top, summing the terms from k downward. The caller
 * keeps k at or below the mean n p, where the terms only fall from k on,
 * faster than geometrically: the sum ends after some ten standard
 * deviations, at most about 10 sqrt(k) terms, and all terms are
 * positive, so nothing cancels. A top term that underflows means a sum
 * that does too.
 */
static double
binom_sum(double n, uint64_t k, double p, double q, double *top)
{
	double		t, s;
	uint64_t	i;

	if (k == 0)
		t = exp(n * (q < 0.5 ? log(q) : log1p(-p)));
	else
		t = exp(log_binom_term((double)k, n - (double)k, p, q));
	*top = t;
	s = t;
	for (i = k; i > 0 && t > 0.25 * DBL_EPSILON * s; i--) {
		t *= (double)i / (n - (double)i + 1.0) * (q / p);
		s += t;
	}
	return (s);
}

/*
 * Return P(X <= k) for X binomial(n, x), y = 1 - x and 0 < k < n: the
 * tail that the Clopper-Pearson bound sets to alpha. In *density goes
 * minus its derivative in x, the Beta(k + 1, n - k) density.
 *
 * It sums binomial terms away from the mean: below k when k is at or
 * below the mean, else P(X >= k + 1) as the n - k - 1 or fewer
 * successes of y, and takes one minus that. The incomplete beta
 * continued fraction would lose about log10(n/k) digits to cancellation
 * when k is much smaller than n, so it serves only when both k and n - k
 * pass BINOM_SUM_MAX, where the loss stays near 1e-9 and a sum could
 * take millions of terms.
 */
static double
binom_cdf(uint64_t n, uint64_t k, double x, double y, double *density)
{
	double		top, s;
	uint64_t	j;

	*density = 0.0;
	if (!(x > 0.0))
		return (1.0);
	if (!(y > 0.0))
		return (0.0);
	j = n - k - 1;
	if (k > BINOM_SUM_MAX && j > BINOM_SUM_MAX) {
		return (beta_upper((double)k + 1.0, (double)(n - k), x, y,
		    density));
	}
	if ((double)k <= (double)n * x) {
		s = binom_sum((double)n, k, x, y, &top);
		/* n C(n - 1, k) x^k y^(n-k-1) = (n - k) P(X = k) / y */
		*density = (double)(n - k) * (top / y);
		return (s);
	}
	/* n - X is binomial(n, y), and X <= k is n - X > j. */
	s = binom_sum((double)n, j, y, x, &top);
	/* top is P(X = k + 1); the density is (k + 1) top / x. */
	*density = ((double)k + 1.0) * (top / x);
	return (1.0 - s);
}

/*
 * Return the x at which P(X <= k) = alpha for X binomial(n, x), 0 < k <
 * n, 0 < alpha < 1/2. Newton's method from k/n, which is below the root
 * (k is a median of binomial(n, k/n), so the tail there is at least
 * 1/2), falling back to bisection (geometric while the bracket spans
 * decades) whenever a step would leave the bracket.
 */
static double
cp_solve(uint64_t n, uint64_t k, double alpha)
{
	double	lo, hi, x, f, density, next;
	int	i;

	lo = (double)k / (double)n;
	hi = 1.0;
	x = lo;
	for (i = 0; i < CP_MAXIT; i++) {
		f = binom_cdf(n, k, x, 1.0 - x, &density) - alpha;
		/* The tail falls as x grows. */
		if (f > 0.0)
			lo = x;
		else
			hi = x;
		next = density > 0.0 ? x + f / density : -1.0;
		if (!(next > lo && next < hi)) {
			if (lo > 0.0 && hi > 4.0 * lo)
				next = sqrt(lo * hi);
			else
				next = lo + 0.5 * (hi - lo);
		}
		if (fabs(next - x) <= CP_RTOL * next ||
		    hi - lo <= CP_RTOL * hi)
			return (next);
		x = next;
	}
	return (x);
}

/* Return the one-sided (1 - alpha) Clopper-Pearson upper bound. */
double
lq_cp_upper(uint64_t n, uint64_t k, double alpha)
{
	if (!(alpha > 0.0 && alpha < 0.5) || k > n)
		return (NAN);
	if (n == 0 || k == n)
		return (1.0);
	/* k = 0: (1 - p)^n = alpha. expm1 keeps the digits for large n. */
	if (k == 0)
		return (-expm1(log(alpha) / (double)n));
	return (cp_solve(n, k, alpha));
}

/* Say whether an SPRT's parameters make a test. */
int
lq_sprt_valid(const struct lq_sprt *t)
{
	return (t->p0 > 0.0 && t->p0 < t->p1 && t->p1 < 1.0 &&
	    t->alpha > 0.0 && t->alpha < 1.0 &&
	    t->beta > 0.0 && t->beta < 1.0 && t->alpha + t->beta < 1.0);
}

/*
 * Compute the log-likelihood ratio weights of a failure (d) and a
 * success (-c), and the boundaries: reject at upper, accept at lower.
 */
static void
sprt_terms(const struct lq_sprt *t, double *d, double *c, double *upper,
    double *lower)
{
	*d = log(t->p1 / t->p0);
	*c = log1p(-t->p0) - log1p(-t->p1);
	*upper = log1p(-t->beta) - log(t->alpha);
	*lower = log(t->beta) - log1p(-t->alpha);
}

/* Return the log-likelihood ratio of k failures in n trials. */
static double
sprt_llr(double d, double c, uint64_t n, uint64_t k)
{
	return ((double)k * d - (double)(n - k) * c);
}

/* Decide the test after n trials with k failures. */
enum lq_sprt_decision
lq_sprt_decide(const struct lq_sprt *t, uint64_t n, uint64_t k)
{
	double	d, c, upper, lower, llr;

	if (!lq_sprt_valid(t) || n == 0 || k > n)
		return (LQ_SPRT_CONTINUE);
	sprt_terms(t, &d, &c, &upper, &lower);
	llr = sprt_llr(d, c, n, k);
	if (t->n_max != 0 && n >= t->n_max)
		return (llr < 0.0 ? LQ_SPRT_ACCEPT : LQ_SPRT_REJECT);
	if (llr >= upper)
		return (LQ_SPRT_REJECT);
	if (llr <= lower)
		return (LQ_SPRT_ACCEPT);
	return (LQ_SPRT_CONTINUE);
}

/* Return the smallest n at which k failures are accepted. */
uint64_t
lq_sprt_pass_n(const struct lq_sprt *t, uint64_t k)
{
	double		d, c, upper, lower, w;
	uint64_t	n;
	int		i;

	if (!lq_sprt_valid(t))
		return (UINT64_MAX);
	sprt_terms(t, &d, &c, &upper, &lower);
	/* Wald: L <= lower from n = k + (k d - lower) / c on. */
	w = ceil((double)k + ((double)k * d - lower) / c);
	if (t->n_max != 0 && !(w < (double)t->n_max)) {
		/* Truncated: from n_max on, accepted once L < 0. */
		w = floor((double)k + (double)k * d / c) + 1.0;
		if (w < (double)t->n_max)
			w = (double)t->n_max;
	}
	if (!(w < 0x1p64))
		return (UINT64_MAX);
	n = (uint64_t)w;
	/* Settle rounding by the decision itself; acceptance is monotone. */
	for (i = 0; i < 8 && n > 1 &&
	    lq_sprt_decide(t, n - 1, k) == LQ_SPRT_ACCEPT; i++)
		n--;
	for (i = 0; i < 8 && n < UINT64_MAX &&
	    lq_sprt_decide(t, n, k) != LQ_SPRT_ACCEPT; i++)
		n++;
	return (n);
}

/* Return Wald's expected number of trials for a good or a bad link. */
double
lq_sprt_expected_n(const struct lq_sprt *t, int bad)
{
	double	d, c, upper, lower;

	if (!lq_sprt_valid(t))
		return (NAN);
	sprt_terms(t, &d, &c, &upper, &lower);
	if (bad) {
		return ((t->beta * lower + (1.0 - t->beta) * upper) /
		    (t->p1 * d - (1.0 - t->p1) * c));
	}
	return (((1.0 - t->alpha) * lower + t->alpha * upper) /
	    (t->p0 * d - (1.0 - t->p0) * c));
}

/* Fill in the documented default rules. */
void
lq_verdict_rules_default(struct lq_verdict_rules *rules)
{
	memset(rules, 0, sizeof *rules);
	rules->sprt.p0 = 1e-3;
	rules->sprt.p1 = 1e-2;
	rules->sprt.alpha = 0.05;
	rules->sprt.beta = 0.05;
	rules->sprt.n_max = 3000;
	rules->min_probes = 200;
	rules->min_bulk_bytes = 64 * MIB;
	rules->marginal_upper = 0.01;
}

/* Return why rules are unusable, or NULL. */
const char *
lq_verdict_rules_check(const struct lq_verdict_rules *rules)
{
	const struct lq_sprt	*t = &rules->sprt;

	if (!(t->p0 > 0.0 && t->p0 < t->p1 && t->p1 < 1.0))
		return ("the failure rates must satisfy 0 < p0 < p1 < 1");
	if (!lq_sprt_valid(t)) {
		return ("the risks alpha and beta must be between 0 and 1 "
		    "and add up to less than 1");
	}
	if (!(rules->marginal_upper > 0.0 && rules->marginal_upper <= 1.0))
		return ("the marginal upper bound must be above 0, at most 1");
	return (NULL);
}

/* Append a reason; past LQ_VERDICT_REASONS they are dropped. */
static void
reason_add(struct lq_verdict_result *res, const char *fmt, ...)
{
	va_list	ap;

	if (res->nreasons < 0 || res->nreasons >= LQ_VERDICT_REASONS)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(res->reasons[res->nreasons], LQ_VERDICT_REASON_LEN,
	    fmt, ap);
	va_end(ap);
	res->nreasons++;
}

/* Format a count. */
static const char *
fmt_u64(char *buf, size_t len, uint64_t v)
{
	(void)snprintf(buf, len, "%" PRIu64, v);
	return (buf);
}

/* Format how often something happened: "once", "3 times". */
static const char *
fmt_times(char *buf, size_t len, unsigned int n)
{
	if (n == 1)
		(void)strlcpy(buf, "once", len);
	else
		(void)snprintf(buf, len, "%u times", n);
	return (buf);
}

/*
 * Format a byte count in binary units, rounded down so that a shortfall
 * never looks met: "512 bytes", "64 MiB", "63.9 MiB".
 */
static const char *
fmt_bytes(char *buf, size_t len, uint64_t bytes)
{
	static const char *const units[] = {
		"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"
	};
	uint64_t	unit;
	size_t		i;

	if (bytes < 1024) {
		(void)snprintf(buf, len, "%" PRIu64 " %s", bytes,
		    bytes == 1 ? "byte" : "bytes");
		return (buf);
	}
	unit = 1024;
	for (i = 0; i + 1 < nitems(units) && bytes / unit >= 1024; i++)
		unit *= 1024;
	if (bytes % unit == 0) {
		(void)snprintf(buf, len, "%" PRIu64 " %s", bytes / unit,
		    units[i]);
	} else {
		/* The remainder is below 2^60, times 10 fits. */
		(void)snprintf(buf, len, "%" PRIu64 ".%" PRIu64 " %s",
		    bytes / unit, bytes % unit * 10 / unit, units[i]);
	}
	return (buf);
}

/*
 * Format a rate as a percentage with two significant digits ("0.92%",
 * "2.5%", "30%"), rounded as mode says.
 */
static const char *
fmt_percent(char *buf, size_t len, double p, enum round_mode mode)
{
	double	pct, scale, v;
	int	digits;
	char	*end;

	pct = p * 100.0;
	if (!(pct > 0.0)) {
		(void)strlcpy(buf, "0%", len);
		return (buf);
	}
	if (pct >= 100.0) {
		(void)strlcpy(buf, "100%", len);
		return (buf);
	}
	digits = 1 - (int)floor(log10(pct));
	if (digits < 0)
		digits = 0;
	scale = pow(10.0, digits);
	v = pct * scale;
	if (mode == ROUND_UP)
		v = ceil(v * (1.0 - 1e-12));
	else
		v = floor(v + 0.5);
	(void)snprintf(buf, len, "%.*f%%", digits, v / scale);
	if (mode == ROUND_TRIM && strchr(buf, '.') != NULL) {
		end = buf + strlen(buf) - 1;	/* the '%' */
		while (end[-1] == '0')
			end--;
		if (end[-1] == '.')
			end--;
		end[0] = '%';
		end[1] = '\0';
	}
	return (buf);
}

/* Format a USB speed given in Mb/s (1 stands for low speed, 1.5). */
static const char *
fmt_speed(char *buf, size_t len, int mbps)
{
	if (mbps == 1)
		(void)strlcpy(buf, "1.5 Mb/s", len);
	else if (mbps < 1000)
		(void)snprintf(buf, len, "%d Mb/s", mbps);
	else
		(void)snprintf(buf, len, "%g Gb/s", mbps / 1000.0);
	return (buf);
}

/*
 * Format a USB error status after prefix: " (-71, protocol error)"; an
 * empty string if it is unknown (0). The meanings are those of the
 * kernel's Documentation/driver-api/usb/error-codes.rst.
 */
static const char *
fmt_errno(char *buf, size_t len, const char *prefix, int status)
{
	static const struct {
		int		 status;
		const char	*meaning;
	} table[] = {
		{ -71, "protocol error" },		/* EPROTO */
		{ -84, "CRC mismatch" },		/* EILSEQ */
		{ -62, "no response" },			/* ETIME */
		{ -75, "babble" },			/* EOVERFLOW */
		{ -110, "timeout" },			/* ETIMEDOUT */
		{ -32, "stall" },			/* EPIPE */
		{ -70, "host controller overrun" },	/* ECOMM */
		{ -63, "host controller underrun" },	/* ENOSR */
	};
	size_t	i;

	buf[0] = '\0';
	if (status == 0)
		return (buf);
	for (i = 0; i < nitems(table); i++) {
		if (table[i].status == status) {
			(void)snprintf(buf, len, " (%s%d, %s)", prefix,
			    status, table[i].meaning);
			return (buf);
		}
	}
	(void)snprintf(buf, len, " (%s%d)", prefix, status);
	return (buf);
}

/*
 * Format how many failures were timeouts and stalls: "", " (1
 * timeout)", " (2 stalls)", " (1 timeout, 2 stalls)".
 */
static const char *
fmt_timeouts(char *buf, size_t len, uint64_t timeouts, uint64_t stalls)
{
	char	t[40], s[40];

	buf[0] = t[0] = s[0] = '\0';
	if (timeouts > 0)
		(void)snprintf(t, sizeof t, "%" PRIu64 " timeout%s", timeouts,
		    timeouts == 1 ? "" : "s");
	if (stalls > 0)
		(void)snprintf(s, sizeof s, "%" PRIu64 " stall%s", stalls,
		    stalls == 1 ? "" : "s");
	if (t[0] != '\0' || s[0] != '\0')
		(void)snprintf(buf, len, " (%s%s%s)", t, t[0] != '\0' &&
		    s[0] != '\0' ? ", " : "", s);
	return (buf);
}

/*
 * Whether the device negotiated less than it reached elsewhere: a hard
 * signal of its own, as the speeds say more than a fallback event.
 */
static int
verdict_slower(const struct lq_run_evidence *ev)
{
	return (ev->speed_mbps > 0 && ev->best_speed_mbps > 0 &&
	    ev->speed_mbps < ev->best_speed_mbps);
}

/*
 * Write fmt at buf with its one "%s" replaced by words. Not printf: the
 * formats come from a table (lq_hard_kinds), which the compiler cannot
 * check against the arguments (-Wformat=2 refuses them); test-common
 * checks that each has one "%s" and no other '%' instead.
 */
static const char *
fmt_hard(char *buf, size_t len, const char *fmt, const char *words)
{
	const char	*at;

	if ((at = strstr(fmt, "%s")) == NULL) {
		(void)strlcpy(buf, fmt, len);
		return (buf);
	}
	(void)snprintf(buf, len, "%.*s%s%s", (int)(at - fmt), fmt, words,
	    at + 2);
	return (buf);
}

/* The reason of a hard kind k that the run saw ev->hard[k] times. */
static void
verdict_hard_one(const struct lq_run_evidence *ev, enum lq_hard_kind k,
    struct lq_verdict_result *res)
{
	const struct lq_hard	*h = &lq_hard_kinds()[k];
	unsigned int		 n = ev->hard[k];
	char			 words[32], e[64];
	char			 sentence[LQ_VERDICT_REASON_LEN];

	if (k == LQ_HARD_CORRUPTION)
		(void)snprintf(words, sizeof words, "%u corruption%s", n,
		    n == 1 ? "" : "s");
	else
		fmt_times(words, sizeof words, n);
	if (n == 1 && h->once != NULL)
		(void)strlcpy(sentence, h->once, sizeof sentence);
	else
		fmt_hard(sentence, sizeof sentence, h->reason, words);
	/* The status of the first error, in the kernel's words. */
	e[0] = '\0';
	if (k == LQ_HARD_LINK_ERROR)
		fmt_errno(e, sizeof e, n == 1 ? "" : "first: ",
		    ev->link_errno);
	else if (k == LQ_HARD_URB_ERROR)
		fmt_errno(e, sizeof e, n == 1 ? "" : "first: ", ev->urb_errno);
	reason_add(res, "%s%s", sentence, e);
}

/*
 * Add one reason per kind of hard signal the run saw, in the order of
 * enum lq_hard_kind; return how many. Faults that blame the host or the
 * port come first, as they change how the others read.
 */
static int
verdict_hard(const struct lq_run_evidence *ev, struct lq_verdict_result *res)
{
	char	s1[32], s2[32];
	int	before, k;

	before = res->nreasons;
	for (k = 0; k < LQ_HARD_MAX; k++) {
		/* The speeds say more than the fallback events. */
		if (k == LQ_HARD_SPEED_FALLBACK && verdict_slower(ev)) {
			reason_add(res, "negotiated %s although this device "
			    "reached %s elsewhere", fmt_speed(s1, sizeof s1,
			    ev->speed_mbps), fmt_speed(s2, sizeof s2,
			    ev->best_speed_mbps));
		} else if (ev->hard[k] > 0)
			verdict_hard_one(ev, k, res);
	}
	return (res->nreasons - before);
}

/* Whether the device's mode lets bulk data move (recovery, DFU: no). */
static int
verdict_bulk_possible(const struct lq_run_evidence *ev)
{
	return (ev->mode != LQ_MODE_RECOVERY && ev->mode != LQ_MODE_DFU &&
	    ev->mode != LQ_MODE_WTF);
}

/*
 * What an early PASS still lacks, as parts of a sentence; how many. The
 * probes the test needs and the minimum, and the bulk minimum where the
 * plan moves bulk.
 */
static int
verdict_early_missing(const struct lq_verdict_rules *rules,
    const struct lq_run_evidence *ev, uint64_t n, uint64_t k,
    struct lq_verdict_result *res, char parts[3][128])
{
	char		sn[24], sneed[24], b1[48], b2[48];
	uint64_t	need;
	int		nparts = 0;

	need = lq_sprt_pass_n(&rules->sprt, k);
	if (need < rules->min_probes)
		need = rules->min_probes;
	res->more_probes = need > n ? need - n : 0;
	if (n < need) {
		(void)snprintf(parts[nparts++], 128, "%s of %s probes",
		    fmt_u64(sn, sizeof sn, n), fmt_u64(sneed, sizeof sneed,
		    need));
	}
	/* Out of normal mode no bulk can move: the minimum cannot apply. */
	if (ev->bulk_planned && verdict_bulk_possible(ev) &&
	    ev->bulk_bytes_out < rules->min_bulk_bytes) {
		(void)snprintf(parts[nparts++], 128, "%s of %s to the device",
		    fmt_bytes(b1, sizeof b1, ev->bulk_bytes_out),
		    fmt_bytes(b2, sizeof b2, rules->min_bulk_bytes));
	}
	if (ev->bulk_planned && verdict_bulk_possible(ev) &&
	    ev->bulk_bytes_in < rules->min_bulk_bytes) {
		(void)snprintf(parts[nparts++], 128,
		    "%s of %s from the device",
		    fmt_bytes(b1, sizeof b1, ev->bulk_bytes_in),
		    fmt_bytes(b2, sizeof b2, rules->min_bulk_bytes));
	}
	return (nparts);
}

/*
 * A PASS: the exposure, the soft failures if any, the bounds of the
 * fault rate and the detection power; triage says what it rules out.
 */
static void
verdict_pass(const struct lq_run_evidence *ev, uint64_t n, uint64_t k,
    struct lq_verdict_result *res)
{
	char	words[LQ_VERDICT_REASON_LEN], sn[24], sk[24], to[48];
	char	bound[32];

	res->verdict = LQ_VERDICT_PASS;
	lq_exposure_words(words, sizeof words, &res->exposure);
	reason_add(res, "%s without a fault", words);
	if (k > 0) {
		reason_add(res, "%s of %s probes failed%s: a failure rate "
		    "below %s (95%% upper bound)", fmt_u64(sk, sizeof sk, k),
		    fmt_u64(sn, sizeof sn, n), fmt_timeouts(to, sizeof to,
		    ev->timeouts, ev->stalls), fmt_percent(bound, sizeof bound,
		    res->cp_upper, ROUND_UP));
	}
	reason_add(res, "%s", lq_exposure_bound_words(words, sizeof words,
	    &res->bounds, LQ_VERDICT_CP_ALPHA));
	reason_add(res, "%s", lq_exposure_power_words(words, sizeof words,
	    &res->bounds));
	if (ev->triage)
		reason_add(res, "triage: this rules out only frequent faults; "
		    "run the restore profile before a restore");
}

/*
 * Decide by the soft signals: the sequential test on (n, k), then an
 * early PASS where the profile allows it, or the finished run's PASS or
 * MARGINAL.
 */
static void
verdict_soft(const struct lq_verdict_rules *rules,
    const struct lq_run_evidence *ev, uint64_t n, uint64_t k,
    struct lq_verdict_result *res)
{
	char	sn[24], sk[24], to[48], rate[32], bound[32], limit[32];
	char	parts[3][128], words[LQ_VERDICT_REASON_LEN];
	int	nparts;

	fmt_u64(sn, sizeof sn, n);
	fmt_u64(sk, sizeof sk, k);
	fmt_timeouts(to, sizeof to, ev->timeouts, ev->stalls);
	fmt_percent(bound, sizeof bound, res->cp_upper, ROUND_UP);

	if (res->sprt == LQ_SPRT_REJECT) {
		res->verdict = LQ_VERDICT_FAIL;
		reason_add(res, "%s of %s probes failed%s: a failure rate of "
		    "%s, above the %s a good connection may have%s", sk, sn,
		    to, fmt_percent(rate, sizeof rate, (double)k / (double)n,
		    ROUND_NEAR), fmt_percent(limit, sizeof limit,
		    rules->sprt.p0, ROUND_TRIM),
		    rules->sprt.n_max != 0 && n >= rules->sprt.n_max ?
		    " (decided at the probe limit)" : "");
		return;
	}

	nparts = verdict_early_missing(rules, ev, n, k, res, parts);
	if (!ev->finished) {
		if (ev->stop_early && res->sprt == LQ_SPRT_ACCEPT &&
		    nparts == 0 && res->cp_upper < rules->marginal_upper) {
			verdict_pass(ev, n, k, res);
			return;
		}
		res->verdict = LQ_VERDICT_NONE;
		reason_add(res, "no verdict yet: %s so far, %s of %s probes "
		    "failed%s", lq_exposure_words(words, sizeof words,
		    &res->exposure), sk, sn, to);
		if (ev->stop_early && nparts > 0)
			reason_add(res, "an early pass needs more: %s%s%s%s%s",
			    parts[0], nparts > 1 ? ", " : "",
			    nparts > 1 ? parts[1] : "", nparts > 2 ? ", " : "",
			    nparts > 2 ? parts[2] : "");
		return;
	}

	if (n == 0) {
		res->verdict = LQ_VERDICT_MARGINAL;
		reason_add(res, "the run ended before any probe completed");
		return;
	}
	/* Probes that took no time bound nothing: no PASS on them. */
	if (res->exposure.load_us <= 0) {
		res->verdict = LQ_VERDICT_MARGINAL;
		reason_add(res, "the run measured no time under load");
		return;
	}
	if (k > 0 && res->cp_upper >= rules->marginal_upper) {
		res->verdict = LQ_VERDICT_MARGINAL;
		reason_add(res, "%s of %s probes failed%s; the failure rate "
		    "may be as high as %s (95%% upper bound), a pass needs it "
		    "below %s", sk, sn, to, bound, fmt_percent(limit,
		    sizeof limit, rules->marginal_upper, ROUND_TRIM));
		reason_add(res, "%s", lq_exposure_words(words, sizeof words,
		    &res->exposure));
		return;
	}
	verdict_pass(ev, n, k, res);
}

/* The hard faults of ev: every hard counter added up. */
static uint64_t
verdict_faults(const struct lq_run_evidence *ev)
{
	uint64_t	f = 0;
	int		k;

	for (k = 0; k < LQ_HARD_MAX; k++)
		f += ev->hard[k];
	/* A speed below the device's best, where no fallback was seen. */
	if (ev->hard[LQ_HARD_SPEED_FALLBACK] == 0 && verdict_slower(ev))
		f++;
	return (f);
}

/* After the hard reasons: how many faults in how much exposure. */
static void
verdict_fault_exposure(struct lq_verdict_result *res)
{
	char	words[LQ_VERDICT_REASON_LEN], n[24];

	lq_exposure_words(words, sizeof words, &res->exposure);
	reason_add(res, "%s fault%s in %s", lq_fmt_count(n, sizeof n,
	    res->exposure.faults), res->exposure.faults == 1 ? "" : "s",
	    words);
}

/* Decide a run from its evidence under rules. */
void
lq_verdict_decide(const struct lq_verdict_rules *rules,
    const struct lq_run_evidence *ev, struct lq_verdict_result *res)
{
	const char	*cause, *mode;
	uint64_t	 n, k;

	memset(res, 0, sizeof *res);
	n = ev->probes;
	/* A stall worked, slowly: a soft failure all the same. */
	k = ev->failures + ev->stalls;
	if (k > n)
		n = k;	/* a failure counted before its probe */
	res->cp_upper = lq_cp_upper(n, k, LQ_VERDICT_CP_ALPHA);
	res->exposure = ev->exposure;
	res->exposure.faults = verdict_faults(ev);
	lq_exposure_bounds(&res->exposure, LQ_VERDICT_CP_ALPHA, &res->bounds);
	cause = lq_verdict_rules_check(rules);
	res->sprt = cause == NULL ? lq_sprt_decide(&rules->sprt, n, k) :
	    LQ_SPRT_CONTINUE;

	if (verdict_hard(ev, res) > 0) {
		res->verdict = LQ_VERDICT_FAIL;
		verdict_fault_exposure(res);
	} else if (cause != NULL) {
		res->verdict = LQ_VERDICT_NONE;
		reason_add(res, "no verdict: the verdict rules are invalid "
		    "(%s)", cause);
	} else
		verdict_soft(rules, ev, n, k, res);

	switch (ev->mode) {
	case LQ_MODE_RECOVERY:
		mode = "recovery";
		break;
	case LQ_MODE_DFU:
		mode = "DFU";
		break;
	case LQ_MODE_WTF:
		mode = "WTF";
		break;
	default:
		mode = NULL;
		break;
	}
	if (mode != NULL) {
		reason_add(res, "the device was in %s mode, where lockdown and "
		    "AFC are unavailable: only USB control probes could run",
		    mode);
	}
}

/* a - b, or 0 if b is not smaller (a copy taken later is never). */
static uint64_t
since_u64(uint64_t a, uint64_t b)
{
	return (a > b ? a - b : 0);
}

static unsigned int
since_uint(unsigned int a, unsigned int b)
{
	return (a > b ? a - b : 0);
}

/* The evidence of now since base. */
void
lq_run_evidence_since(const struct lq_run_evidence *now,
    const struct lq_run_evidence *base, struct lq_run_evidence *out)
{
	int	k;

	*out = *now;
	out->probes = since_u64(now->probes, base->probes);
	out->failures = since_u64(now->failures, base->failures);
	out->timeouts = since_u64(now->timeouts, base->timeouts);
	out->stalls = since_u64(now->stalls, base->stalls);
	out->bulk_bytes_out = since_u64(now->bulk_bytes_out,
	    base->bulk_bytes_out);
	out->bulk_bytes_in = since_u64(now->bulk_bytes_in,
	    base->bulk_bytes_in);
	out->exposure.load_us = now->exposure.load_us >
	    base->exposure.load_us ? now->exposure.load_us -
	    base->exposure.load_us : 0;
	out->exposure.bytes_out = since_u64(now->exposure.bytes_out,
	    base->exposure.bytes_out);
	out->exposure.bytes_in = since_u64(now->exposure.bytes_in,
	    base->exposure.bytes_in);
	out->exposure.round_trips = since_u64(now->exposure.round_trips,
	    base->exposure.round_trips);
	out->exposure.faults = 0;
	for (k = 0; k < LQ_HARD_MAX; k++)
		out->hard[k] = since_uint(now->hard[k], base->hard[k]);
}

/* Return the stored name of a verdict, or NULL for none. */
const char *
lq_verdict_name(enum lq_verdict verdict)
{
	switch (verdict) {
	case LQ_VERDICT_NONE:
		return (NULL);
	case LQ_VERDICT_PASS:
		return ("PASS");
	case LQ_VERDICT_MARGINAL:
		return ("MARGINAL");
	case LQ_VERDICT_FAIL:
		return ("FAIL");
	}
	return (NULL);
}

/* Return the verdict called name (NULL: none), or -1. */
int
lq_verdict_from_name(const char *name)
{
	if (name == NULL)
		return (LQ_VERDICT_NONE);
	if (strcmp(name, "PASS") == 0)
		return (LQ_VERDICT_PASS);
	if (strcmp(name, "MARGINAL") == 0)
		return (LQ_VERDICT_MARGINAL);
	if (strcmp(name, "FAIL") == 0)
		return (LQ_VERDICT_FAIL);
	return (-1);
}

/*
 * Return the length of the well-formed UTF-8 sequence at s, of at most n
 * bytes, or 0 if it is not one (overlong, surrogate, beyond U+10FFFF).
 */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	uint32_t	cp;
	size_t		len, i;

	if (s[0] < 0x80)
		return (1);
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
	} else
		return (0);
	if (len > n)
		return (0);
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return (0);
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
	    (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return (0);
	return (len);
}

/*
 * Write s (len bytes) as the inside of a JSON string at out, which has
 * room for 6 bytes per input byte; return the new end. Control
 * characters and DEL are escaped, a byte that is not UTF-8 becomes
 * U+FFFD.
 */
static char *
json_escape(char *out, const char *s, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i, n;

	for (i = 0; i < len; i += n) {
		n = utf8_len(p + i, len - i);
		if (n == 0) {
			memcpy(out, "\\ufffd", 6);
			out += 6;
			n = 1;
		} else if (n > 1) {
			memcpy(out, p + i, n);
			out += n;
		} else if (p[i] == '"' || p[i] == '\\') {
			*out++ = '\\';
			*out++ = (char)p[i];
		} else if (p[i] == '\n') {
			memcpy(out, "\\n", 2);
			out += 2;
		} else if (p[i] == '\r') {
			memcpy(out, "\\r", 2);
			out += 2;
		} else if (p[i] == '\t') {
			memcpy(out, "\\t", 2);
			out += 2;
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			memcpy(out, "\\u00", 4);
			out[4] = hex[p[i] >> 4];
			out[5] = hex[p[i] & 0xf];
			out += 6;
		} else
			*out++ = (char)p[i];
	}
	return (out);
}

/* Return the reasons as an allocated JSON array of strings. */
char *
lq_verdict_reasons_json(const struct lq_verdict_result *res)
{
	char	*json, *p;
	size_t	 size, len;
	int	 i, n;

	n = res->nreasons;
	if (n < 0)
		n = 0;
	if (n > LQ_VERDICT_REASONS)
		n = LQ_VERDICT_REASONS;
	size = sizeof "[]";
	for (i = 0; i < n; i++) {
		len = strnlen(res->reasons[i], LQ_VERDICT_REASON_LEN);
		size += 3 + 6 * len;	/* quotes, comma, escapes */
	}
	json = p = xmalloc(size);
	*p++ = '[';
	for (i = 0; i < n; i++) {
		if (i > 0)
			*p++ = ',';
		*p++ = '"';
		len = strnlen(res->reasons[i], LQ_VERDICT_REASON_LEN);
		p = json_escape(p, res->reasons[i], len);
		*p++ = '"';
	}
	*p++ = ']';
	*p = '\0';
	return (json);
}
