/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Exposure (DESIGN.md, Verdict: evidence is exposure). A link fault is
 * an event in time and in bytes moved: a marginal cable throws errors
 * per minute of load and per GB, and what kills a restore is one such
 * event in a 5-10 minute, multi-GB stream. So the evidence of a run is
 * how long it held the link under load and how much it moved, and a
 * run without a fault bounds the fault rate per minute and per GB; the
 * 1 MiB chunks of a bulk transfer are not independent trials.
 *
 * Faults are modelled as a Poisson process in load time (and in bytes).
 * After k faults in an exposure t, the one-sided (1 - alpha) upper bound
 * of the rate is lq_poisson_upper(k, alpha) / t (Garwood's exact bound);
 * with no fault at 95% that is -ln 0.05 / t, about 3 / t. A cable that
 * faults at rate r shows at least once in t with probability
 * 1 - e^(-r t): the detection power. Faults come in bursts rather than
 * independently, so both figures are optimistic about a cable that
 * faults rarely but in clusters; neither is a probability that a
 * restore will succeed, and nothing here says that.
 *
 * Pure functions, safe on any thread, no allocation.
 */

#ifndef LQ_EXPOSURE_H
#define LQ_EXPOSURE_H

#include <stddef.h>
#include <stdint.h>

/*
 * The one-sided (1 - alpha) upper bound of the mean of a Poisson count
 * after k events: the mean m at which k or fewer events happen with
 * probability alpha. k = 0 gives -ln(alpha). Relative accuracy 1e-12
 * for k up to 10^4, 1e-9 up to 10^7. NaN for alpha outside (0, 1/2).
 */
double	lq_poisson_upper(uint64_t, double);

/*
 * The probability that a process of rate events per unit shows at least
 * once in exposure units: 1 - e^(-rate * exposure). 0 for no exposure.
 */
double	lq_detect_power(double, double);

/* What a run (or a group of runs) held the link through. */
struct lq_exposure {
	int64_t		load_us;	/* time with a probe in flight */
	uint64_t	bytes_out;	/* host to device, every kind */
	uint64_t	bytes_in;	/* device to host, every kind */
	uint64_t	round_trips;	/* probes of the round-trip kinds */
	uint64_t	faults;		/* hard events seen in it */
};

/* The reference rates the power is stated at: per minute of load. */
#define LQ_EXPOSURE_REF_FAST	1.0	/* a fault a minute */
#define LQ_EXPOSURE_REF_SLOW	0.1	/* a fault in ten minutes */

struct lq_exposure_bounds {
	double		per_minute;	/* upper bound, faults per minute of
					 * load; INFINITY with no load */
	double		per_gb;		/* per GB (10^9 bytes, either way);
					 * INFINITY with nothing moved */
	double		power_fast;	/* at LQ_EXPOSURE_REF_FAST */
	double		power_slow;	/* at LQ_EXPOSURE_REF_SLOW */
};

/* The (1 - alpha) bounds and powers of an exposure. */
void	lq_exposure_bounds(const struct lq_exposure *, double,
	    struct lq_exposure_bounds *);

/*
 * Words for a technician, NUL-terminated in buf of len, rounded so that
 * the evidence is never overstated (exposure and power down, bounds up):
 *
 * lq_exposure_words: "4 min 58 s under load, 8.6 GB each way, 41,213
 *     round trips" (the parts that are not zero);
 * lq_exposure_bound_words: "at most 0.61 faults per minute of load and
 *     0.35 per GB (95% upper bound)";
 * lq_exposure_power_words: "a cable that faults once a minute would
 *     have shown with 99.3% probability; one that faults once in ten
 *     minutes, 39%".
 */
char	*lq_exposure_words(char *, size_t, const struct lq_exposure *);
char	*lq_exposure_bound_words(char *, size_t,
	    const struct lq_exposure_bounds *, double);
char	*lq_exposure_power_words(char *, size_t,
	    const struct lq_exposure_bounds *);

/* "4 min 58 s", "12 s", "1.5 s", "2 h 05 min"; rounded down. */
char	*lq_fmt_duration(char *, size_t, int64_t);
/* "8.6 GB", "256 MB", "12 kB", "512 bytes" (SI); rounded down. */
char	*lq_fmt_si_bytes(char *, size_t, uint64_t);
/* "41,213". */
char	*lq_fmt_count(char *, size_t, uint64_t);

#endif /* LQ_EXPOSURE_H */
