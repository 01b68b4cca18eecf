/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The verdict engine: the statistics of a run and the rules that turn
 * what a run saw into PASS, MARGINAL or FAIL with reasons in words a
 * repair technician understands (DESIGN.md, Verdict). common/verdict.c
 * has the statistical background.
 *
 * Every function here is pure: no I/O, no global state, safe on any
 * thread, and the same inputs give the same answer in linkqd and in
 * `linkq report --db`. Only lq_verdict_reasons_json() allocates.
 */

#ifndef LQ_VERDICT_H
#define LQ_VERDICT_H

#include <stdint.h>

#include "linkq.h"
#include "lq-exposure.h"

/*
 * One-sided (1 - alpha) Clopper-Pearson upper bound of a failure rate
 * after k failures in n independent trials (arguments n, k, alpha):
 * the largest rate p at which k or fewer failures would still happen
 * with probability alpha or more. Exact, relative accuracy 1e-9 or
 * better for any n. n = 0 or k = n gives 1; k > n, or alpha outside
 * (0, 1/2) (a confidence below 50% bounds nothing), gives NaN.
 */
double	lq_cp_upper(uint64_t, uint64_t, double);

/*
 * Wald's sequential probability ratio test of a failure rate: H0 "good",
 * p = p0, against H1 "bad", p = p1. alpha is the risk of calling a good
 * link bad, beta that of calling a bad one good. After n trials with k
 * failures the log-likelihood ratio is
 *	L = k ln(p1/p0) - (n - k) ln((1 - p0)/(1 - p1));
 * the test rejects H0 when L >= ln((1 - beta)/alpha), accepts it when
 * L <= ln(beta/(1 - alpha)), and otherwise continues. At n >= n_max it
 * is truncated: L < 0 accepts, anything else rejects.
 */
struct lq_sprt {
	double		p0;	/* failure rate of a good link, 0 < p0 < p1 */
	double		p1;	/* failure rate of a bad link, p1 < 1 */
	double		alpha;	/* risk of failing a good link */
	double		beta;	/* risk of passing a bad link */
	uint64_t	n_max;	/* truncation; 0 never truncates */
};

enum lq_sprt_decision {
	LQ_SPRT_CONTINUE,	/* no decision yet: keep probing */
	LQ_SPRT_ACCEPT,		/* good: p = p0 */
	LQ_SPRT_REJECT		/* bad: p = p1 */
};

/* 1 if 0 < p0 < p1 < 1, alpha and beta are in (0, 1) and sum below 1. */
int	lq_sprt_valid(const struct lq_sprt *);
/* CONTINUE for an invalid test, n = 0 or k > n. */
enum lq_sprt_decision lq_sprt_decide(const struct lq_sprt *, uint64_t,
	    uint64_t);
/*
 * The smallest n at which k failures are accepted, truncation included:
 * with n probes and k failures so far, at least (that - n) more clean
 * probes are needed for a pass. UINT64_MAX if there is none (or the
 * test is invalid). For the default test it is 326 at k = 0: A6's
 * "pass at 0 failures after n = 325" rounds the real boundary 325.36
 * to the nearest integer, and 326 is the first n that passes.
 */
uint64_t lq_sprt_pass_n(const struct lq_sprt *, uint64_t);
/*
 * Wald's approximation of the expected number of trials to a decision
 * when the link is good (bad = 0, p = p0) or bad (bad = 1, p = p1),
 * ignoring overshoot and truncation. NaN for an invalid test.
 */
double	lq_sprt_expected_n(const struct lq_sprt *, int);

/* As stored in runs.verdict; NONE is SQL NULL: no verdict yet. */
enum lq_verdict {
	LQ_VERDICT_NONE,
	LQ_VERDICT_PASS,
	LQ_VERDICT_MARGINAL,
	LQ_VERDICT_FAIL
};

/*
 * Thresholds from the configuration. lq_verdict_rules_default() fills in
 * the documented defaults; lq_verdict_rules_check() validates a set read
 * from the configuration file.
 */
struct lq_verdict_rules {
	struct lq_sprt	sprt;		/* soft signals: p0 1e-3, p1 1e-2,
					 * alpha = beta = 0.05, n_max 3000 */
	uint64_t	min_probes;	/* probes before an early PASS: 200 */
	uint64_t	min_bulk_bytes;	/* bulk bytes each way before an
					 * early PASS: 64 MiB; only where
					 * the plan moves bulk */
	double		marginal_upper;	/* a PASS needs the 95% upper bound
					 * of the soft failure rate below
					 * this, else MARGINAL: 0.01 */
};

/*
 * What a run saw, counted by the daemon from the probes and events of
 * its attachment. Each hard event kind of the vocabulary (enum
 * lq_hard_kind, include/linkq.h) has a counter here, and any of them
 * above 0 fails the run. The verdict does not look at timestamps:
 * counting an event once per burst or per probe is the caller's choice.
 *
 * The evidence of a run that saw no hard event is its exposure: time
 * under load, bytes moved, round trips (lq-exposure.h). The soft
 * signals are trials of the sequential test, one per probe: the chunks
 * of a bulk probe are not independent trials.
 */
struct lq_run_evidence {
	/* Soft signals, all probe kinds together. */
	uint64_t	probes;		/* probes that ended */
	uint64_t	failures;	/* of those, the failed ones: any
					 * status but LQ_OK, timeouts and
					 * latency outliers included */
	uint64_t	timeouts;	/* of the failures, missed deadlines */
	uint64_t	stalls;		/* probes that worked, but far beyond
					 * the run's usual time for their
					 * kind: soft failures too */
	uint64_t	bulk_bytes_out;	/* bulk bytes written, host to device */
	uint64_t	bulk_bytes_in;	/* bulk bytes read back and verified,
					 * device to host */
	struct lq_exposure exposure;	/* every probe kind; its faults are
					 * the verdict's to count, from the
					 * hard signals below */

	/* Hard signals. */
	unsigned int	hard[LQ_HARD_MAX]; /* events of each hard kind */
	int		link_errno;	/* the first link error's status,
					 * e.g. -71; 0 unknown */
	int		urb_errno;	/* the first URB error's status;
					 * 0 unknown */

	int		speed_mbps;	/* negotiated speed in Mb/s, 1 for
					 * low speed (1.5); 0 unknown */
	int		best_speed_mbps; /* the best speed this device has
					 * negotiated elsewhere; 0 unknown.
					 * Less than that fails the run. */
	int		mode;		/* enum lq_device_mode */
	int		finished;	/* the plan ran to its end or its
					 * limit: no more evidence comes */
	int		stop_early;	/* the profile allows a PASS before
					 * the plan's end */
	int		triage;		/* the profile is triage: its PASS
					 * rules out only frequent faults */
	int		bulk_planned;	/* the plan moves bulk data */
};

#define LQ_VERDICT_CP_ALPHA	0.05	/* the reported bound is 95% */
#define LQ_VERDICT_REASONS	16	/* room for every hard kind at once */
#define LQ_VERDICT_REASON_LEN	160

struct lq_verdict_result {
	enum lq_verdict		 verdict;
	enum lq_sprt_decision	 sprt;		/* the sequential test alone */
	double			 cp_upper;	/* one-sided 95% Clopper-
						 * Pearson upper bound of the
						 * failure rate */
	uint64_t		 more_probes;	/* clean probes still needed
						 * at least before an early
						 * PASS; 0 when enough */
	struct lq_exposure	 exposure;	/* the evidence's, faults
						 * counted */
	struct lq_exposure_bounds bounds;	/* its 95% bounds and the
						 * detection power */
	char			 reasons[LQ_VERDICT_REASONS]
				     [LQ_VERDICT_REASON_LEN];
						/* sentences for a technician,
						 * NUL-terminated ASCII */
	int			 nreasons;
};

void	lq_verdict_rules_default(struct lq_verdict_rules *);
/* NULL if the rules are usable, else why not (a static string). */
const char *lq_verdict_rules_check(const struct lq_verdict_rules *);
/*
 * Decide a run; call it again whenever the evidence grows. In order:
 * - any hard signal: FAIL, one reason per kind with its count (a host
 *   controller failure or an over-current says it blames the port or
 *   the host, not the cable), then the faults against the exposure;
 * - rules that fail lq_verdict_rules_check(): NONE;
 * - the sequential test on (probes, failures) rejects: FAIL;
 * - a run that has not finished: PASS only where the profile may stop
 *   early, the test accepts, the evidence minimums are met and the
 *   upper bound is below marginal_upper; otherwise NONE (keep going);
 * - a finished run: MARGINAL if no probe ended, or if soft failures
 *   leave the upper bound at or above marginal_upper; otherwise PASS.
 * A PASS states its exposure, the 95% upper bound of the fault rate per
 * minute of load and per GB, and the detection power at a fault a
 * minute and a fault in ten minutes; triage says what it rules out.
 * A device in recovery, DFU or WTF mode adds a reason saying that
 * lockdown and AFC were unavailable. failures > probes counts as
 * failures probes.
 */
void	lq_verdict_decide(const struct lq_verdict_rules *,
	    const struct lq_run_evidence *, struct lq_verdict_result *);
/*
 * The evidence gathered since base, an earlier copy of now: counters
 * and exposure as differences (a window of a run that lasts forever),
 * the rest (speeds, mode, flags, the first errnos) as now has them.
 */
void	lq_run_evidence_since(const struct lq_run_evidence *,
	    const struct lq_run_evidence *, struct lq_run_evidence *);

/* "PASS", "MARGINAL", "FAIL" as stored in runs.verdict; NONE gives NULL. */
const char *lq_verdict_name(enum lq_verdict);
/* The verdict called name; NULL gives NONE; -1 if unknown. */
int	lq_verdict_from_name(const char *);
/*
 * The reasons as a JSON array of strings, for runs.reasons: quotes,
 * backslashes and control characters escaped, bytes that are not UTF-8
 * replaced by U+FFFD. Never NULL; the caller frees it.
 */
char	*lq_verdict_reasons_json(const struct lq_verdict_result *);

#endif /* LQ_VERDICT_H */
