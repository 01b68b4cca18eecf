/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Runs (contract in run.h).
 *
 * A run walks its profile's plan (run-plan.h): which kind is due, how
 * much a bulk probe moves, and when the run has seen enough.
 *
 * Evidence (lq-verdict.h): every probe that ended adds its time to the
 * run's time under load and its bytes to the bytes moved, and is one
 * trial of the sequential test on soft failures. The chunks of a bulk
 * probe are not trials: a link fault is an event in time and bytes.
 *
 * A run ends when its plan says so (run_plan_end): at a FAIL; when its
 * duration is up and its bulk bytes are moved; early at a PASS only
 * where the profile allows it and after every kind ran; when it is
 * cancelled; or when its device goes away (a dropout). A run that lasts
 * forever ends only when it fails, is cancelled or loses its device.
 *
 * Probes run in the attachment's worker process (child.h), usb-control
 * alone on the loop. The loop queues the next quick probes (not bulk,
 * not usb-control, not across the interval), up to RUN_AHEAD_MAX, on
 * the worker behind the one in flight (run_send_ahead), so that storing
 * a result and deciding overlap the next round trips instead of sitting
 * between two: that gap was a tenth of a lockdown-query. With several
 * queued, the worker may also hold the results of a few and send them
 * together (MSG_JOB_HOLD), so that the loop wakes once for them and not
 * once each. The plan stays the same: a probe behind one that failed
 * does not run (the worker's halt flag), one a cancel took off the
 * queue never ran, and for either the plan goes back to it
 * (run_job_unrun). When the run ends, a probe still in flight is cut
 * and is not evidence.
 *
 * A probe that lost its connection holds the run for a moment: usbmuxd
 * drops a device after one failed transfer and says so a little after
 * the probe's error, and then the run must end as a dropout rather than
 * as a count of failed probes.
 *
 * After each probe the worker also reads what the device's syslog sent
 * (session_devlog), and the loop records the device's own mux counters
 * as events (devlog.h). That is side evidence: it never fails a probe
 * or a run and is not in the verdict.
 *
 * Hooks (hooks.h): a run that ends FAIL or MARGINAL says so, once per
 * verdict (a report decided after the end may make it worse); a verdict
 * worse than the one before it, of the previous window of the same run
 * or at a run's end of the previous run on the same port, is a port
 * that degrades.
 */

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>

#include "child.h"
#include "compat/compat.h"
#include "compat/queue.h"
#include "config.h"
#include "devlog.h"
#include "events.h"
#include "feed.h"
#include "hooks.h"
#include "linkq.h"
#include "log.h"
#include "lq-status.h"
#include "lq-time.h"
#include "lq-verdict.h"
#include "metrics.h"
#include "probe.h"
#include "run-plan.h"
#include "run.h"
#include "service.h"
#include "sources.h"
#include "store.h"
#include "xmalloc.h"

/*
 * How long a run waits after a probe lost its connection before it goes
 * on: usbmuxd drops a device after a failed transfer, and its Detached
 * arrives a moment after the probe's error. The run should end as a
 * dropout then, not as a count of failed probes.
 */
#define RUN_DISCONNECT_GRACE_US	(2 * LQ_USEC_PER_SEC)

/*
 * Quick probes queued on the worker behind the one in flight: twice
 * what the worker may hold back (msg.h), so that it still has work
 * while the loop takes a batch of results and sends more.
 */
#define RUN_AHEAD_MAX		(2 * MSG_HOLD_MAX)

/*
 * A probe kind whose deadline is shorter than this never has its
 * result held: MSG_HOLD_US would be a noticeable part of it.
 */
#define RUN_HOLD_DEADLINE_MIN_US	(100 * LQ_USEC_PER_MSEC)
/*
 * A stall: a round trip that worked, but took more than RUN_STALL_FACTOR
 * times its kind's mean in this run, and at least RUN_STALL_FLOOR_US,
 * once RUN_STALL_MIN_N of them set the mean. A marginal link retries
 * transactions before anything errors: the time is lost, not the data
 * (research/linux-usb-signals-and-performance.md, degradation signals).
 * The floor is far above what a busy host's scheduler costs a round
 * trip (tens of ms on a loaded 2-core machine), so that a stall is the
 * link's, not the computer's.
 */
#define RUN_STALL_FACTOR	10
#define RUN_STALL_FLOOR_US	(250 * LQ_USEC_PER_MSEC)
#define RUN_STALL_MIN_N		20
#define RUN_STALL_EPISODE_US	(5 * LQ_USEC_PER_SEC)
/* The windows of a run that lasts forever kept for the API. */
#define RUN_WINDOWS_KEPT	24
/* Ended runs kept in memory for the API; older ones are in the store. */
#define RUN_KEEP_ENDED		64

enum run_state {
	RUN_RUNNING,
	RUN_DONE,
	RUN_CANCELLED,
	RUN_INTERRUPTED,
	RUN_ERROR
};

static const char *const run_state_names[] = {
	"running", "done", "cancelled", "interrupted", "error"
};

struct run_job;

/* One window of a run that lasts forever, decided at its end. */
struct run_window {
	int64_t			 started_us;
	int64_t			 ended_us;
	struct lq_verdict_result result;
};

struct run_job;
TAILQ_HEAD(run_jobs, run_job);

struct run {
	int64_t			 id;
	enum run_state		 state;
	char			 profile_name[CONFIG_NAME_MAX + 1];
	struct profile		 profile;	/* copy; name is ours */
	struct lq_verdict_rules	 rules;
	int64_t			 deadline_us[LQ_PROBE_KIND_MAX + 1];
	uint64_t		 max_bytes;
	unsigned int		 max_free_share_pct;
	struct run_target	 target;

	lq_mono_t		 started;
	int64_t			 started_us;
	int64_t			 ended_us;
	uint64_t		 end_seq;	/* the store's write number
						 * after its end's writes */
	char			*error;		/* state error: why */

	struct run_plan		 plan;
	uint32_t		 sequence;	/* probes sent */

	/*
	 * The probe in flight (the oldest), or NULL, and the quick probes
	 * queued on the worker behind it, oldest first (run_send_ahead).
	 */
	struct run_job		*job;
	struct run_jobs		 ahead;
	u_int			 nahead;
	int			 halt;		/* a probe failed, so none is
						 * sent ahead behind it */
	struct event		*deadline_ev;
	struct event		*tick_ev;	/* 1 s: progress, bulk stall */
	struct event		*next_ev;	/* interval between cycles */
	struct event		*resume_ev;	/* after a lost connection */
	int			 timed_out;
	struct run_job		*timed_out_job;	/* the one cut for it */
	int			 gone;		/* the device left */
	int			 cut;		/* we cut the probe in flight:
						 * its failure is ours */
	char			 said[LQ_VERDICT_REASON_LEN];
					/* the first report of the kernel
					 * or libusb that counted, in its
					 * words, as a reason, or "" */
	/*
	 * Windows (a profile's window, for one that lasts forever): the
	 * evidence at the start of this one, its start, and the last ones
	 * decided, newest at windows[(nwindows - 1) % RUN_WINDOWS_KEPT].
	 */
	struct event		*window_ev;
	struct lq_run_evidence	 window_base;
	int64_t			 window_started_us;
	struct run_window	 windows[RUN_WINDOWS_KEPT];
	unsigned int		 nwindows;
	struct devlog_track	 devlog;	/* the device's mux counters */
	int			 devlog_off;	/* its syslog failed: unread */

	/* What the run saw. */
	struct lq_run_evidence	 ev;
	struct lq_verdict_result result;
	uint64_t		 probes_by_kind[LQ_PROBE_KIND_MAX + 1];
	uint64_t		 errors_by_kind[LQ_PROBE_KIND_MAX + 1];
	/* Round trips that worked, but for stalls: their usual time. */
	uint64_t		 usual_n[LQ_PROBE_KIND_MAX + 1];
	int64_t			 usual_us[LQ_PROBE_KIND_MAX + 1];
	int64_t			 failed_at;	/* monotonic us of the last
						 * failed probe's end, or 0 */
	uint64_t		 tick_bytes;	/* at the last tick */
	double			 mb_s;		/* over the last tick */
	int64_t			 bulk_us;	/* bulk probes counted: their
						 * time, as the store sums it */
	int			 end_pct;	/* percent when it ended */
	int			 pct_shown;	/* the most a tick showed: a
						 * percent never goes back */
	uint64_t		 end_probes;	/* probes at its end's record */
	/* Bulk chunks of the probes that ended, as their progress said. */
	uint64_t		 chunks_done;
	int64_t			 chunk_us_done;
	uint64_t		 tick_chunks;	/* at the last tick */
	int64_t			 tick_chunk_us;
	double			 chunk_ms;	/* mean over the last tick;
						 * < 0 if none moved */
	int			 stopping;	/* run_stop: no new probe */
	enum lq_verdict		 hooked;	/* worst verdict hooks saw */
	enum lq_verdict		 window_verdict; /* the last window's
						 * with a verdict */

	struct feed		*feed;
	TAILQ_ENTRY(run)	 entry;
};
TAILQ_HEAD(runs, run);

/*
 * One probe in the worker process (its progress in job.progress), or
 * on the loop (usbctl).
 */
struct run_job {
	struct child_job	 job;		/* first: the worker's part */
	TAILQ_ENTRY(run_job)	 ahead_entry;	/* in run's ahead */
	struct run		*run;
	const struct probe_ops	*ops;
	struct usbctl		*usbctl;	/* a loop probe in flight */
	struct probe_plan	 plan;
	struct probe_result	 result;
	int64_t			 ts_us;		/* when it started (if it
						 * never did: was queued) */
	lq_mono_t		 started;
	int			 in_time;	/* returned before any cut */
	int			 ran;		/* run() was called on it */
	int			 cancelled;	/* sent before a cancel */
	/* Where the plan stood before this probe: for a rewind. */
	struct run_plan_pos	 plan_pos;
	/* The device's syslog, read after the probe (session_devlog). */
	int			 devlog_want;
	int			 devlog_fresh;	/* the run's first read */
	int			 devlog_status;
	char			*devlog_detail;
	struct devlog_found	 devlog;
};

static struct runs		 runs = TAILQ_HEAD_INITIALIZER(runs);
static struct event_base	*base;
static struct store		*store;

static void	run_next(struct run *);
static void	run_job_done(struct run_job *);
static void	run_progress(struct run *, const char *);
static void	run_job_unrun(struct run *, struct run_job *);
static void	run_continue(struct run *);
static void	run_end(struct run *, enum run_state, int);
static void	run_end_told(struct run *);
static void	runs_trim(void);

/*
 * A run an earlier linkqd left open, closed as interrupted by the store
 * at this start: kept among the ended runs, so that linkq runs and show
 * say what became of it.
 */
static void
run_recovered(const struct store_run_row *row, void *unused)
{
	struct run	*r;

	(void)unused;
	r = xcalloc(1, sizeof(*r));
	TAILQ_INIT(&r->ahead);
	r->id = row->id;
	r->state = RUN_INTERRUPTED;
	(void)strlcpy(r->profile_name, row->profile != NULL ? row->profile :
	    "?", sizeof(r->profile_name));
	r->profile.name = r->profile_name;
	(void)strlcpy(r->target.udid, row->udid != NULL ? row->udid : "",
	    sizeof(r->target.udid));
	r->target.attachment_id = row->attachment_id;
	r->started_us = row->started_us;
	r->ended_us = row->ended_us;
	r->ev.probes = (uint64_t)row->probes;
	r->ev.failures = (uint64_t)row->failures;
	r->end_pct = -1;	/* how far it came died with linkqd */
	r->result.nreasons = 1;
	(void)strlcpy(r->result.reasons[0], "linkqd stopped without ending "
	    "this run (killed or crashed); closed at its next start",
	    sizeof(r->result.reasons[0]));
	TAILQ_INSERT_HEAD(&runs, r, entry);
}

/* Use base and store s; the runs the store closed at its open. */
void
runs_init(struct event_base *b, struct store *s)
{
	base = b;
	store = s;
	if (store != NULL)
		(void)store_recovered_each(store, run_recovered, NULL);
	runs_trim();
}

/*
 * Why r is not (yet) wholly in the database, or NULL: a verdict that is
 * not stored is not shown as one (store.h). An ended run is recorded
 * once the writes of its end are; a running one while commits succeed.
 */
static const char *
run_unrecorded(const struct run *r, struct store_health *h)
{
	if (store == NULL)
		return (NULL);
	store_health(store, h);
	if (r->state == RUN_RUNNING)
		return (h->problem);
	if (store_recorded(store, r->end_seq))
		return (NULL);
	return (h->problem != NULL ? h->problem : "not yet committed");
}

/* Say in o that r is not recorded, and why, hiding its verdict. */
static void
run_json_unrecorded(const struct run *r, json_t *o)
{
	struct store_health	 h;
	const char		*why;
	char			*s;

	if ((why = run_unrecorded(r, &h)) == NULL) {
		(void)json_object_set_new(o, "recorded", json_true());
		return;
	}
	(void)json_object_set_new(o, "recorded", json_false());
	xasprintf(&s, "not recorded: %s%s%s", why,
	    h.advice[0] != '\0' ? ": " : "", h.advice);
	(void)json_object_set_new(o, "not_recorded", json_string(s));
	free(s);
	if (r->state != RUN_RUNNING)
		(void)json_object_set_new(o, "verdict", json_null());
}

/* The verdict rules of a configuration. */
static void
run_rules(const struct config *cfg, struct lq_verdict_rules *rules)
{
	lq_verdict_rules_default(rules);
	rules->sprt.p0 = cfg->p0;
	rules->sprt.p1 = cfg->p1;
	rules->sprt.alpha = cfg->alpha;
	rules->sprt.beta = cfg->beta;
	rules->sprt.n_max = cfg->max_probes;
	rules->min_probes = cfg->min_probes;
	rules->min_bulk_bytes = cfg->min_bulk_bytes;
	rules->marginal_upper = cfg->marginal_upper;
}

/* An event of r's attachment. */
static void
run_event(struct run *r, const char *source, const char *kind, int errnum,
    const char *detail)
{
	struct store_event	se;

	memset(&se, 0, sizeof(se));
	se.source = source;
	se.kind = kind;
	se.host_id = r->target.host_id;
	se.port_id = r->target.port_id;
	se.attachment_id = r->target.attachment_id;
	se.run_id = r->id;
	se.errnum = errnum;
	se.detail = detail;
	(void)events_record(&se);
}

/*
 * A FAIL that the kernel's messages helped decide quotes the first of
 * them, with its port: the verdict's own reasons count kinds, and the
 * technician wants the kernel's words.
 */
static void
run_quote(const struct run *r, struct lq_verdict_result *res)
{
	if (r->said[0] != '\0' && res->verdict == LQ_VERDICT_FAIL &&
	    res->nreasons < LQ_VERDICT_REASONS)
		(void)strlcpy(res->reasons[res->nreasons++], r->said,
		    sizeof(res->reasons[0]));
}

/*
 * Decide on the evidence so far (of the window so far, for a run with
 * windows), quoting the kernel where a FAIL rests on it.
 */
static void
run_decide(struct run *r, int finished)
{
	struct lq_verdict_result	*res = &r->result;
	struct lq_run_evidence		 w;

	r->ev.finished = finished;
	if (r->profile.window_us > 0) {
		lq_run_evidence_since(&r->ev, &r->window_base, &w);
		w.finished = finished;
		lq_verdict_decide(&r->rules, &w, res);
	} else
		lq_verdict_decide(&r->rules, &r->ev, res);
	if (res->verdict == LQ_VERDICT_FAIL) {
		run_quote(r, res);
		return;
	}
	/* Until its window fails, a run shows the last window's verdict. */
	if (r->profile.window_us > 0 && r->nwindows > 0)
		*res = r->windows[(r->nwindows - 1) % RUN_WINDOWS_KEPT].result;
}

/* Fire the hook of event e for r, whose verdict is res's. */
static void
run_hook(struct run *r, enum hook_event e,
    const struct lq_verdict_result *res)
{
	struct hook_facts	f;
	char			label[LQ_LABEL_MAX + 1];

	if (!hooks_wanted(e))
		return;
	memset(&f, 0, sizeof(f));
	f.event = e;
	f.run_id = r->id;
	f.verdict = lq_verdict_name(res->verdict);
	f.reason = res->nreasons > 0 ? res->reasons[0] : NULL;
	f.udid = r->target.udid;
	f.port = r->target.port;
	f.cable = r->target.cable;
	if (store != NULL && r->target.port_id != 0 &&
	    store_port_label_get(store, r->target.port_id, label,
	    sizeof(label)) == 1)
		f.port_label = label;
	hooks_fire(&f);
}

/*
 * The verdict of the run before r on its port, of those in memory with
 * a verdict, or LQ_VERDICT_NONE.
 */
static enum lq_verdict
run_port_before(const struct run *r)
{
	const struct run	*o = r;

	if (r->target.port_id == 0)
		return (LQ_VERDICT_NONE);
	/* The list is newest first. */
	while ((o = TAILQ_NEXT(o, entry)) != NULL) {
		if (o->target.port_id == r->target.port_id &&
		    o->state != RUN_RUNNING &&
		    o->result.verdict != LQ_VERDICT_NONE)
			return (o->result.verdict);
	}
	return (LQ_VERDICT_NONE);
}

/*
 * r ended, or was decided again after its end: the hooks its verdict
 * calls for, each once. A run cut short by a shutdown or an error
 * calls for none.
 */
static void
run_hook_end(struct run *r)
{
	enum lq_verdict	v = r->result.verdict, before;

	if (r->state != RUN_DONE && r->state != RUN_CANCELLED)
		return;
	if (v > r->hooked && v == LQ_VERDICT_FAIL)
		run_hook(r, HOOK_FAIL, &r->result);
	else if (v > r->hooked && v == LQ_VERDICT_MARGINAL)
		run_hook(r, HOOK_MARGINAL, &r->result);
	before = run_port_before(r);
	if (before != LQ_VERDICT_NONE && v > before && r->hooked <= before)
		run_hook(r, HOOK_DEGRADED, &r->result);
	if (v > r->hooked)
		r->hooked = v;
}

/*
 * A window of r is over: decide it on its own evidence, as finished,
 * record it, and start the next afresh. A FAIL in one window does not
 * end a run that lasts forever: the next may pass, and a port that
 * degrades over a day shows as its windows go from PASS to FAIL.
 */
static void
run_window_cb(evutil_socket_t fd, short what, void *arg)
{
	struct run		*r = arg;
	struct run_window	*w;
	struct lq_run_evidence	 ev;
	char			*reasons;

	(void)fd;
	(void)what;
	if (r->state != RUN_RUNNING)
		return;
	w = &r->windows[r->nwindows % RUN_WINDOWS_KEPT];
	w->started_us = r->window_started_us;
	w->ended_us = lq_wall_now_us();
	lq_run_evidence_since(&r->ev, &r->window_base, &ev);
	ev.finished = 1;
	lq_verdict_decide(&r->rules, &ev, &w->result);
	run_quote(r, &w->result);
	r->nwindows++;
	r->result = w->result;
	reasons = lq_verdict_reasons_json(&w->result);
	if (store != NULL)
		(void)store_run_window(store, r->id, w->started_us,
		    w->ended_us, lq_verdict_name(w->result.verdict), reasons);
	free(reasons);
	log_info("run %lld: window %u %s", (long long)r->id, r->nwindows,
	    w->result.verdict == LQ_VERDICT_NONE ? "without a verdict" :
	    lq_verdict_name(w->result.verdict));
	if (w->result.verdict != LQ_VERDICT_NONE) {
		if (r->window_verdict != LQ_VERDICT_NONE &&
		    w->result.verdict > r->window_verdict)
			run_hook(r, HOOK_DEGRADED, &w->result);
		r->window_verdict = w->result.verdict;
	}
	r->window_base = r->ev;
	r->window_started_us = w->ended_us;
	r->said[0] = '\0';
	run_progress(r, "window");
}

/*
 * Where r stands against what ends it (run_plan_estimate) at now: the
 * plan's duration and bytes, the bulk probe in flight, and for a run
 * that the evidence ends (no duration, round trips to make) the probes
 * the sequential test needs at least.
 */
static void
run_estimate(const struct run *r, lq_mono_t now,
    struct run_plan_estimate *est)
{
	struct run_plan_now	 pn;
	const struct run_job	*rj = r->job;

	memset(&pn, 0, sizeof(pn));
	pn.elapsed_us = lq_mono_sub(now, r->started);
	pn.ways = r->profile.write_only ? 1 : 2;
	if (rj != NULL && rj->ops->kind == LQ_PROBE_BULK) {
		pn.inflight_done = rj->job.progress.bytes_out +
		    rj->job.progress.bytes_in;
		pn.inflight_total = rj->plan.bulk_bytes * pn.ways;
		pn.inflight_us = lq_mono_sub(now, rj->started);
	}
	pn.probes = r->ev.probes;
	pn.probes_need = lq_sprt_pass_n(&r->rules.sprt, r->ev.failures);
	if (pn.probes_need == UINT64_MAX)
		pn.probes_need = 0;
	run_plan_estimate(&r->plan, &pn, est);
}

/*
 * Percent done, or -1 for a run without an end. A running run is at 99
 * at most: 100 is its end. An ended run that ran its plan through, or
 * was stopped by the evidence, is at 100; one cut short (cancelled,
 * failed, an error) stays where it was.
 */
static int
run_percent(const struct run *r, lq_mono_t now)
{
	struct run_plan_estimate	est;
	int				pct;

	if (r->state != RUN_RUNNING)
		return (r->end_pct);
	if (r->profile.forever)
		return (-1);
	run_estimate(r, now, &est);
	pct = est.done >= 0.99 ? 99 : (int)(est.done * 100);
	return (pct > r->pct_shown ? pct : r->pct_shown);
}

/* Time left in ms, rounded up; -1 if nobody can tell or r has ended. */
static int64_t
run_eta_ms(const struct run *r, lq_mono_t now)
{
	struct run_plan_estimate	est;

	if (r->state != RUN_RUNNING || r->profile.forever)
		return (-1);
	run_estimate(r, now, &est);
	return (est.left_us < 0 ? -1 : (est.left_us + 999) / 1000);
}

/*
 * The mean throughput of the bulk probes, with the one in flight, in
 * MB/s both ways: what the store's totals give for the ended run
 * (lq-history.h), so that the last progress line and the record agree.
 */
static double
run_bulk_mb_s(const struct run *r, lq_mono_t now)
{
	uint64_t	bytes = r->ev.bulk_bytes_out + r->ev.bulk_bytes_in;
	int64_t		us = r->bulk_us;

	if (r->state == RUN_RUNNING && r->job != NULL &&
	    r->job->ops->kind == LQ_PROBE_BULK) {
		bytes += r->job->job.progress.bytes_out +
		    r->job->job.progress.bytes_in;
		us += lq_mono_sub(now, r->job->started);
	}
	return (us > 0 ? (double)bytes / (double)us : 0.0);
}

/* Bytes moved so far, with the probe in flight. */
static uint64_t
run_bytes_now(const struct run *r)
{
	uint64_t	n = r->ev.exposure.bytes_out + r->ev.exposure.bytes_in;

	if (r->job != NULL)
		n += r->job->job.progress.bytes_out +
		    r->job->job.progress.bytes_in;
	return (n);
}

/* Bulk chunks moved so far and their time, with the probe in flight. */
static void
run_chunks_now(const struct run *r, uint64_t *chunks, int64_t *us)
{
	*chunks = r->chunks_done;
	*us = r->chunk_us_done;
	if (r->job != NULL) {
		*chunks += r->job->job.progress.chunks;
		*us += r->job->job.progress.chunk_us;
	}
}

/* A bound or a power for JSON: null where there is none (infinite). */
static json_t *
run_json_real(double v)
{
	return (isfinite(v) ? json_real(v) : json_null());
}

/*
 * The run's exposure (lq-exposure.h) and, once decided on it, the 95%
 * upper bounds of the fault rate and the detection power.
 */
static json_t *
run_exposure_json(const struct run *r)
{
	const struct lq_exposure	*e = &r->result.exposure;
	const struct lq_exposure_bounds	*b = &r->result.bounds;

	return (json_pack("{s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o}",
	    "load_ms", (json_int_t)(e->load_us / 1000),
	    "bytes_out", (json_int_t)e->bytes_out,
	    "bytes_in", (json_int_t)e->bytes_in,
	    "round_trips", (json_int_t)e->round_trips,
	    "faults", (json_int_t)e->faults,
	    "faults_per_minute_upper", run_json_real(b->per_minute),
	    "faults_per_gb_upper", run_json_real(b->per_gb),
	    "power_once_a_minute", json_real(b->power_fast),
	    "power_once_in_ten_minutes", json_real(b->power_slow)));
}

/* The windows decided and kept, oldest first. */
static json_t *
run_windows_json(const struct run *r)
{
	const struct run_window	*w;
	json_t			*list, *reasons;
	unsigned int		 i, first;
	int			 k;

	list = json_array();
	first = r->nwindows > RUN_WINDOWS_KEPT ?
	    r->nwindows - RUN_WINDOWS_KEPT : 0;
	for (i = first; i < r->nwindows; i++) {
		w = &r->windows[i % RUN_WINDOWS_KEPT];
		reasons = json_array();
		for (k = 0; k < w->result.nreasons; k++)
			(void)json_array_append_new(reasons,
			    json_string(w->result.reasons[k]));
		(void)json_array_append_new(list, json_pack("{s:I, s:I, s:o, "
		    "s:o}", "started_us", (json_int_t)w->started_us,
		    "ended_us", (json_int_t)w->ended_us, "verdict",
		    w->result.verdict == LQ_VERDICT_NONE ? json_null() :
		    json_string(lq_verdict_name(w->result.verdict)),
		    "reasons", reasons));
	}
	return (list);
}

/*
 * Where r runs: the port by path and label, the cable by label (null:
 * none), as the history from the store says it (lq-history.h).
 */
static void
run_json_where(const struct run *r, json_t *o)
{
	char	label[LQ_LABEL_MAX + 1];

	(void)json_object_set_new(o, "kind", json_string("qualify"));
	(void)json_object_set_new(o, "port", r->target.port[0] != '\0' ?
	    json_string(r->target.port) : json_null());
	if (store != NULL && r->target.port_id != 0 &&
	    store_port_label_get(store, r->target.port_id, label,
	    sizeof(label)) == 1)
		(void)json_object_set_new(o, "port_label", json_string(label));
	else
		(void)json_object_set_new(o, "port_label", json_null());
	(void)json_object_set_new(o, "cable", r->target.cable[0] != '\0' ?
	    json_string(r->target.cable) : json_null());
}

/* The run as the API shows it. */
json_t *
run_json(const struct run *r)
{
	json_t		*o, *errors, *reasons;
	lq_mono_t	 now = lq_mono_now();
	int64_t		 elapsed_us, eta;
	int		 k, pct;

	errors = json_object();
	for (k = 1; k <= LQ_PROBE_KIND_MAX; k++) {
		if (r->errors_by_kind[k] > 0)
			(void)json_object_set_new(errors,
			    lq_probe_kind_name(k),
			    json_integer((json_int_t)r->errors_by_kind[k]));
	}
	reasons = json_array();
	for (k = 0; k < r->result.nreasons; k++)
		(void)json_array_append_new(reasons,
		    json_string(r->result.reasons[k]));
	/* The clock of the plan: elapsed and eta add up to its duration. */
	elapsed_us = r->state == RUN_RUNNING ? lq_mono_sub(now, r->started) :
	    r->ended_us - r->started_us;
	o = json_pack("{s:I, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, "
	    "s:I, s:o, s:f, s:f, s:o}",
	    "id", (json_int_t)r->id,
	    "state", run_state_names[r->state],
	    "profile", r->profile_name,
	    "udid", r->target.udid,
	    "attachment_id", (json_int_t)r->target.attachment_id,
	    "started_us", (json_int_t)r->started_us,
	    "elapsed_ms", (json_int_t)(elapsed_us / 1000),
	    "probes", (json_int_t)r->ev.probes,
	    "failures", (json_int_t)r->ev.failures,
	    "bytes", (json_int_t)run_bytes_now(r),
	    "bulk_bytes", (json_int_t)(r->ev.bulk_bytes_out +
	    r->ev.bulk_bytes_in),
	    "errors", errors,
	    "mb_s", run_bulk_mb_s(r, now),
	    "cp_upper", r->result.cp_upper,
	    "reasons", reasons);
	run_json_where(r, o);
	(void)json_object_set_new(o, "chunk_ms", r->state != RUN_RUNNING ||
	    r->chunk_ms <= 0 ? json_null() : json_real(r->chunk_ms));
	if (r->stopping && r->state == RUN_RUNNING)
		(void)json_object_set_new(o, "stopping", json_true());
	(void)json_object_set_new(o, "exposure", run_exposure_json(r));
	(void)json_object_set_new(o, "stalls",
	    json_integer((json_int_t)r->ev.stalls));
	if (r->profile.window_us > 0)
		(void)json_object_set_new(o, "windows", run_windows_json(r));
	(void)json_object_set_new(o, "last_mb_s", r->state != RUN_RUNNING ?
	    json_null() : json_real(r->mb_s));
	pct = run_percent(r, now);
	(void)json_object_set_new(o, "percent", pct < 0 ? json_null() :
	    json_integer(pct));
	eta = run_eta_ms(r, now);
	(void)json_object_set_new(o, "eta_ms", eta < 0 ? json_null() :
	    json_integer((json_int_t)eta));
	(void)json_object_set_new(o, "verdict",
	    r->result.verdict == LQ_VERDICT_NONE ? json_null() :
	    json_string(lq_verdict_name(r->result.verdict)));
	if (r->error != NULL)
		(void)json_object_set_new(o, "error", json_string(r->error));
	run_json_unrecorded(r, o);
	return (o);
}

/* Tell the followers where r stands. */
static void
run_progress(struct run *r, const char *type)
{
	json_t	*o;

	if (r->feed == NULL || feed_followers(r->feed) == 0)
		return;
	o = run_json(r);
	(void)json_object_set_new(o, "type", json_string(type));
	feed_send(r->feed, o);
}

/*
 * Stop r's probe in flight, on its worker or on the loop. The cancel
 * reaches the probes queued ahead too: they come back not run, unless
 * one had started, and nothing may be queued behind them meanwhile
 * (run_send_ahead), or that would run first and break the plan's order.
 */
static void
run_cancel_probe(struct run *r)
{
	struct run_job	*rj;

	if (r->job == NULL)
		return;
	r->job->cancelled = 1;
	TAILQ_FOREACH(rj, &r->ahead, ahead_entry)
		rj->cancelled = 1;
	if (r->job->usbctl != NULL)
		usbctl_cancel(r->job->usbctl);
	else
		child_cancel(r->target.child);
}

/* End r's probe in flight ourselves: its result is not evidence. */
static void
run_cut(struct run *r)
{
	if (r->job == NULL)
		return;
	r->cut = 1;
	run_cancel_probe(r);
}

/*
 * The loop cuts rj, r's probe in flight or one queued behind it that
 * the worker is running, for missing its deadline: rj's result is the
 * timeout, the ones before it (held, msg.h) are what they were.
 */
static void
run_timeout(struct run *r, struct run_job *rj)
{
	if (r->job == NULL || r->timed_out)
		return;
	r->timed_out = 1;
	r->timed_out_job = rj;
	log_info("run %lld: %s missed its deadline; cutting it",
	    (long long)r->id, lq_probe_kind_name(rj->ops->kind));
	run_cancel_probe(r);
}

/*
 * The probe of r the worker is running now, and its start in *started,
 * from the worker's shared page; NULL if it runs none of r's.
 */
static struct run_job *
run_job_running(struct run *r, int64_t *started)
{
	struct run_job	*rj;
	uint32_t	 id;

	if (r->job == NULL || r->job->usbctl != NULL ||
	    (id = child_running(r->target.child, started)) == 0)
		return (NULL);
	if (r->job->job.id == id)
		return (r->job);
	TAILQ_FOREACH(rj, &r->ahead, ahead_entry)
		if (rj->job.id == id)
			return (rj);
	return (NULL);
}

/*
 * When the quick probe rj started (monotonic us), or 0 if it has not
 * started yet, as far as the loop knows (child.h): when the one before
 * it ended, which the worker may say a little late (MSG_JOB_HOLD).
 */
static int64_t
run_job_started(struct run_job *rj)
{
	return (rj->job.started_us);
}

/* Arm r's deadline for us from now (at least 0). */
static void
run_deadline_add(struct run *r, int64_t us)
{
	struct timeval	tv;

	if (us < 0)
		us = 0;
	tv.tv_sec = us / LQ_USEC_PER_SEC;
	tv.tv_usec = us % LQ_USEC_PER_SEC;
	if (evtimer_add(r->deadline_ev, &tv) == -1)
		log_warnx("run %lld: cannot arm a deadline", (long long)r->id);
}

/*
 * Arm the deadline of r's quick probe in flight. A probe's deadline
 * counts from its own start, and a probe that was queued ahead may have
 * started before the loop saw the one before it come back; one that has
 * not started is given its whole deadline from now.
 */
static void
run_deadline_arm(struct run *r)
{
	int64_t	started, limit;

	limit = r->deadline_us[r->job->ops->kind];
	if ((started = run_job_started(r->job)) == 0)
		run_deadline_add(r, limit);
	else
		run_deadline_add(r, started + limit - lq_mono_now().us);
}

/*
 * A quick probe's deadline timer fired. A probe that started late has
 * the rest of its own deadline; one that has not started at all is
 * stuck behind something on its worker, which is a timeout too. The
 * worker may be past it, its result held (msg.h, MSG_JOB_HOLD) while
 * a later probe blocks: then the one timed is the one it runs, from
 * its own start.
 */
static void
run_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct run	*r = arg;
	struct run_job	*rj;
	int64_t		 started, left, now = lq_mono_now().us;

	(void)fd;
	(void)what;
	if (r->job == NULL)
		return;
	started = run_job_started(r->job);
	left = started + r->deadline_us[r->job->ops->kind] - now;
	if (started != 0 && left > 0) {
		run_deadline_add(r, left);
		return;
	}
	if ((rj = run_job_running(r, &started)) == NULL)
		rj = r->job;
	else if ((left = started + r->deadline_us[rj->ops->kind] - now) > 0) {
		run_deadline_add(r, left);
		return;
	}
	run_timeout(r, rj);
}

/* Once a second: throughput, progress, and the bulk stall deadline. */
static void
run_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct run	*r = arg;
	uint64_t	 now_bytes, chunks;
	int64_t		 moved, chunk_us;

	(void)fd;
	(void)what;
	now_bytes = run_bytes_now(r);
	r->mb_s = (double)(now_bytes - r->tick_bytes) / 1e6;
	r->tick_bytes = now_bytes;
	run_chunks_now(r, &chunks, &chunk_us);
	r->chunk_ms = chunks > r->tick_chunks ? (double)(chunk_us -
	    r->tick_chunk_us) / (double)(chunks - r->tick_chunks) / 1000.0 :
	    -1;
	r->tick_chunks = chunks;
	r->tick_chunk_us = chunk_us;
	if (r->job != NULL && r->job->ops->kind == LQ_PROBE_BULK) {
		moved = r->job->job.progress.moved_us;
		/* Not started yet: stuck behind something, from its send. */
		if (moved == 0)
			moved = r->job->started.us;
		/*
		 * The worker says how far it came at most every
		 * MSG_PROGRESS_US, so its last chunk may be that much newer
		 * than what the loop knows.
		 */
		if (lq_mono_now().us - moved > r->deadline_us[LQ_PROBE_BULK] +
		    MSG_PROGRESS_US)
			run_timeout(r, r->job);
	}
	/* The evidence's share can go back (a failure asks for more). */
	r->pct_shown = run_percent(r, lq_mono_now());
	run_progress(r, "progress");
}

/* Loop thread: a loop probe (usb-control) is back. */
static void
run_loop_probe_done(void *arg)
{
	struct run_job	*rj = arg;

	rj->result.latency_us = lq_mono_sub(lq_mono_now(), rj->started);
	rj->usbctl = NULL;
	run_job_done(rj);
}

/* Loop thread: a probe is back from the worker process. */
static void
run_child_done(struct child_job *job)
{
	struct run_job		*rj = (struct run_job *)job;
	const struct msg_done	*rep = &job->rep;

	rj->ran = rep->ran;
	rj->in_time = rep->in_time;
	if (rep->ran)
		rj->ts_us = rep->ts_us;
	rj->result.status = rep->status;
	rj->result.latency_us = rep->latency_us;
	rj->result.bytes_out = rep->bytes_out;
	rj->result.bytes_in = rep->bytes_in;
	rj->result.corrupt_offset = rep->corrupt_offset;
	rj->result.detail = job->detail;
	rj->devlog_status = rep->devlog_status;
	rj->devlog_detail = job->devlog_detail;
	rj->devlog = rep->devlog;
	job->detail = job->devlog_detail = NULL;
	if (rep->halted)
		rj->run->halt = 1;
	run_job_done(rj);
}

/* Whether a probe of kind is quick and runs on the worker. */
static int
run_kind_quick(int kind)
{
	const struct probe_ops	*ops;

	ops = probe_ops_find(kind);
	return (ops != NULL && ops->run != NULL && kind != LQ_PROBE_BULK);
}

/* Send rj to r's worker process; go: with nothing of r in flight. */
static void
run_job_submit(struct run *r, struct run_job *rj, int go)
{
	rj->job.req.kind = rj->ops->kind;
	rj->job.req.plan = rj->plan;
	rj->job.req.flags = (go ? MSG_JOB_GO : 0) |
	    (rj->devlog_want ? MSG_JOB_DEVLOG : 0) |
	    (rj->devlog_fresh ? MSG_JOB_DEVLOG_FRESH : 0) |
	    (run_kind_quick(rj->ops->kind) && r->deadline_us[rj->ops->kind] >=
	    RUN_HOLD_DEADLINE_MIN_US ? MSG_JOB_HOLD : 0);
	child_submit(r->target.child, &rj->job);
}

/* A probe of kind for r, just planned by run_next_kind. */
static struct run_job *
run_job_new(struct run *r, int kind)
{
	struct run_job	*rj;

	rj = xcalloc(1, sizeof(*rj));
	child_job_init(&rj->job, MSG_JOB_PROBE, run_child_done);
	rj->run = r;
	rj->ops = probe_ops_find(kind);
	probe_result_init(&rj->result);
	rj->plan_pos = r->plan.planned;
	rj->plan.run_id = r->id;
	rj->plan.sequence = ++r->sequence;
	rj->plan.seed = (uint64_t)r->id << 32 ^ rj->plan.sequence ^
	    (uint64_t)r->started_us;
	rj->plan.bulk_bytes = run_plan_bulk_size(&r->plan);
	rj->plan.chunk_bytes = r->profile.chunk_bytes;
	rj->plan.write_only = r->profile.write_only;
	rj->plan.max_bytes = r->max_bytes;
	rj->plan.max_free_share_pct = r->max_free_share_pct;
	rj->devlog_want = !r->devlog_off && rj->ops->run != NULL;
	rj->devlog_fresh = rj->plan.sequence == 1;
	rj->ts_us = lq_wall_now_us();
	return (rj);
}

/*
 * Queue r's next probes on the worker behind the one in flight, up to
 * RUN_AHEAD_MAX, while they are quick: the worker starts each the
 * moment the one before it is done, and the loop's work on a result
 * (store, verdict, the wake-up itself) overlaps the next round trips
 * rather than sitting between two (bench/README.md, lockdown-query).
 * Never behind a probe that failed or timed out, nor across the
 * profile's interval, a bulk probe or a loop probe, nor behind one that
 * a cancel will take off the queue: the one sent now would run first.
 */
static void
run_send_ahead(struct run *r)
{
	struct run_plan_pos	 pos;
	struct run_job		*rj;
	int			 kind;

	if (r->job == NULL || r->timed_out || r->job->cancelled ||
	    !run_kind_quick(r->job->ops->kind) || r->halt || r->stopping)
		return;
	while (r->nahead < RUN_AHEAD_MAX) {
		pos = r->plan.pos;
		kind = run_plan_next(&r->plan);
		if (kind <= 0 || !run_kind_quick(kind)) {
			run_plan_rewind(&r->plan, &pos);
			return;
		}
		rj = run_job_new(r, kind);
		TAILQ_INSERT_TAIL(&r->ahead, rj, ahead_entry);
		r->nahead++;
		run_job_submit(r, rj, 0);
	}
}

/*
 * Send the next probe of r, with nothing of r in flight, to its worker
 * or start it on the loop.
 */
static void
run_send(struct run *r, int kind)
{
	struct run_job	*rj;

	rj = run_job_new(r, kind);
	rj->started = lq_mono_now();
	r->job = rj;
	r->timed_out = 0;
	r->timed_out_job = NULL;
	r->halt = 0;
	if (rj->ops->run == NULL) {
		/* Each of its transfers has the deadline as its timeout. */
		rj->ran = 1;
		rj->started = lq_mono_now();
		rj->usbctl = usbctl_start(r->target.bus, r->target.devnum,
		    r->deadline_us[kind], &rj->result, run_loop_probe_done,
		    rj);
		return;
	}
	if (kind != LQ_PROBE_BULK)
		run_deadline_arm(r);
	run_job_submit(r, rj, 1);
	run_send_ahead(r);
}

/* Count a finished probe into the evidence of r. */
static void
run_count(struct run *r, int kind, const struct probe_result *res)
{
	struct lq_exposure	*e = &r->ev.exposure;

	if (kind == LQ_PROBE_BULK) {
		r->ev.bulk_bytes_out += res->bytes_out;
		r->ev.bulk_bytes_in += res->bytes_in;
		r->bulk_us += res->latency_us;
	} else
		e->round_trips++;
	e->load_us += res->latency_us;
	e->bytes_out += res->bytes_out;
	e->bytes_in += res->bytes_in;
	/* Each way: written and read back, or written only. */
	run_plan_ended(&r->plan, kind, r->profile.write_only ?
	    res->bytes_out : res->bytes_in < res->bytes_out ? res->bytes_in :
	    res->bytes_out);
	r->ev.probes++;
	r->probes_by_kind[kind]++;
	if (res->status == LQ_OK)
		return;
	r->ev.failures++;
	r->errors_by_kind[kind]++;
	if (res->status == LQ_ETIMEDOUT)
		r->ev.timeouts++;
	if (res->status == LQ_ECORRUPT)
		r->ev.hard[LQ_HARD_CORRUPTION]++;
	if (res->status == LQ_ELINK)
		r->ev.hard[LQ_HARD_LINK_ERROR]++;
}

/*
 * What a probe that failed with a USB link error (usb-control, through
 * libusb) saw: its request and libusb's status, from the probe's
 * detail. libusb cannot tell the kernel's -71, -84 and -62 apart, so
 * the words name no single one.
 */
static void
run_link_words(const struct run_job *rj, char *buf, size_t len)
{
	json_t		*o;
	const char	*why = NULL;

	o = rj->result.detail != NULL ? json_loads(rj->result.detail, 0,
	    NULL) : NULL;
	if (o != NULL)
		why = json_string_value(json_object_get(o, "error"));
	(void)snprintf(buf, len, "%s probe %u: %s", lq_probe_kind_name(
	    rj->ops->kind), rj->plan.sequence, why != NULL ? why :
	    "a transfer failed with a link error");
	json_decref(o);
}

/*
 * Whether rj, a round trip that worked, stalled; if so record it as a
 * latency-outlier event. The mean it is held against leaves stalls out.
 */
static int
run_stall(struct run *r, const struct run_job *rj)
{
	int		 kind = rj->ops->kind;
	int64_t		 us = rj->result.latency_us, mean;
	char		 detail[160];

	/*
	 * A failure closes the session (child-jobs.c): the probes after it
	 * open their connections anew, a TLS handshake and all, and sit in
	 * the tail of whatever the failure was (a link that froze for 2.5 s
	 * times out one probe at its 2 s deadline and slows the next by the
	 * rest). Within RUN_STALL_EPISODE_US of a failure they are that
	 * episode, already counted, and say nothing of the usual pace.
	 */
	if (rj->result.status != LQ_OK) {
		r->failed_at = lq_mono_now().us;
		return (0);
	}
	if (kind == LQ_PROBE_BULK || (r->failed_at != 0 &&
	    lq_mono_now().us - r->failed_at < RUN_STALL_EPISODE_US))
		return (0);
	if (r->usual_n[kind] >= RUN_STALL_MIN_N) {
		mean = r->usual_us[kind] / (int64_t)r->usual_n[kind];
		if (us >= RUN_STALL_FLOOR_US && us > RUN_STALL_FACTOR * mean) {
			(void)snprintf(detail, sizeof(detail), "%s probe %u: "
			    "%lld ms, against its usual %.1f ms",
			    lq_probe_kind_name(kind), rj->plan.sequence,
			    (long long)(us / 1000), (double)mean / 1000.0);
			run_event(r, "probe", "latency-outlier", 0, detail);
			return (1);
		}
	}
	r->usual_n[kind]++;
	r->usual_us[kind] += us;
	return (0);
}

/* Write the probe to the store; events for what it found. */
static void
run_record(struct run *r, struct run_job *rj)
{
	struct store_probe	 sp;
	struct probe_result	*res = &rj->result;
	char			 detail[160];

	memset(&sp, 0, sizeof(sp));
	sp.run_id = r->id;
	sp.kind = rj->ops->kind;
	sp.ts_us = rj->ts_us;
	sp.latency_us = res->latency_us;
	sp.bytes = (int64_t)(res->bytes_out + res->bytes_in);
	sp.status = res->status;
	sp.detail = res->detail;
	if (store != NULL)
		(void)store_probe(store, &sp);
	metrics_probe(sp.kind, sp.latency_us, sp.bytes, sp.status);
	if (res->status == LQ_ECORRUPT) {
		(void)snprintf(detail, sizeof(detail), "%s probe %u: the "
		    "data read back differs at byte %lld",
		    lq_probe_kind_name(rj->ops->kind), rj->plan.sequence,
		    (long long)res->corrupt_offset);
		run_event(r, "probe", "corruption", 0, detail);
	} else if (res->status == LQ_ETIMEDOUT) {
		(void)snprintf(detail, sizeof(detail), "%s probe %u: no "
		    "answer within %lld ms", lq_probe_kind_name(
		    rj->ops->kind), rj->plan.sequence,
		    (long long)(r->deadline_us[rj->ops->kind] / 1000));
		run_event(r, "probe", "timeout", 0, detail);
	} else if (res->status == LQ_ELINK) {
		run_link_words(rj, detail, sizeof(detail));
		run_event(r, "libusb", "link-error", 0, detail);
		if (r->state == RUN_RUNNING && r->said[0] == '\0')
			(void)snprintf(r->said, sizeof(r->said),
			    "libusb said: %.140s", detail);
	}
}

/*
 * The last run that tried to read its device's syslog, for the evidence
 * sources of GET /v1/status (run_devlog_source).
 */
static struct {
	int64_t		 run_id;	/* 0: none tried yet */
	char		 udid[44];
	int		 failed;
	char		 detail[256];
} devlog_last;

/*
 * What the device's syslog said after a probe: events for its mux
 * counters. A stream that fails is dropped for the rest of the run,
 * said once in the log; the run goes on without it.
 */
static void
run_devlog(struct run *r, struct run_job *rj)
{
	struct devlog_event	ev[DEVLOG_EVENTS_MAX];
	int			i, n;

	if (!rj->devlog_want || r->devlog_off)
		return;
	devlog_last.run_id = r->id;
	(void)strlcpy(devlog_last.udid, r->target.udid,
	    sizeof(devlog_last.udid));
	devlog_last.failed = rj->devlog_status != LQ_OK;
	if (rj->devlog_status != LQ_OK) {
		r->devlog_off = 1;
		(void)strlcpy(devlog_last.detail, rj->devlog_detail != NULL ?
		    rj->devlog_detail : lq_strerror(rj->devlog_status),
		    sizeof(devlog_last.detail));
		log_info("run %lld: the device's syslog is not read for the "
		    "rest of the run: %s", (long long)r->id,
		    devlog_last.detail);
		return;
	}
	n = devlog_track(&r->devlog, &rj->devlog, ev);
	for (i = 0; i < n; i++)
		run_event(r, "probe", ev[i].kind, 0, ev[i].detail);
}

/* The end of r: its device's counters over the run, if it saw them. */
static void
run_devlog_end(struct run *r)
{
	struct devlog_event	ev;

	if (devlog_track_end(&r->devlog, &ev) > 0)
		run_event(r, "probe", ev.kind, 0, ev.detail);
}

/*
 * Statuses that are not the link's fault: the run cannot go on, and
 * says why, without a verdict.
 */
static const char *
run_blocker(int status)
{
	switch (status) {
	case LQ_ENOSPACE:
		return ("the phone has too little free space for the bulk "
		    "probe; free some space or lower max-bytes");
	case LQ_ENOTPAIRED:
		return ("the phone does not trust this computer; unlock the "
		    "phone and tap Trust (linkq pair)");
	case LQ_ELOCKED:
		return ("the phone is locked; unlock it");
	case LQ_EPAIRPENDING:
		return ("the Trust prompt is waiting on the phone; tap Trust");
	default:
		return (NULL);
	}
}

/* Whether r has seen enough to end now; *finished if its plan is done. */
static int
run_should_end(struct run *r, int *finished)
{
	struct run_plan_state	st;
	enum run_plan_end	end;

	if (r->stopping) {
		*finished = 1;
		return (1);
	}
	/* A run with windows fails a window, not itself (run_window_cb). */
	st.failed = r->result.verdict == LQ_VERDICT_FAIL &&
	    r->profile.window_us == 0;
	st.passed = r->result.verdict == LQ_VERDICT_PASS;
	st.decided = r->result.sprt != LQ_SPRT_CONTINUE ||
	    (r->rules.sprt.n_max > 0 && r->ev.probes >= r->rules.sprt.n_max);
	st.elapsed_us = lq_mono_sub(lq_mono_now(), r->started);
	end = run_plan_end(&r->plan, &st);
	*finished = end == RUN_PLAN_FINISHED;
	return (end != RUN_PLAN_GO_ON);
}

/*
 * r's probe in flight is back: the oldest queued ahead, if any, is in
 * flight now, with its own deadline.
 */
static void
run_promote(struct run *r)
{
	/* A cut for a deadline is over once the probe cut is back. */
	if (r->job == r->timed_out_job) {
		r->timed_out = 0;
		r->timed_out_job = NULL;
	}
	if ((r->job = TAILQ_FIRST(&r->ahead)) != NULL) {
		TAILQ_REMOVE(&r->ahead, r->job, ahead_entry);
		r->nahead--;
	}
	(void)evtimer_del(r->deadline_ev);
	if (r->job != NULL && r->state == RUN_RUNNING && !r->timed_out)
		run_deadline_arm(r);
}

/*
 * Loop thread: a probe that never ran came back. It was queued ahead
 * behind one that failed, or a cancel took it off the worker's queue.
 * It is no evidence: the plan goes back to it, and if nothing else of r
 * is in flight or waited for, the run goes on.
 */
static void
run_job_unrun(struct run *r, struct run_job *rj)
{
	if (rj != r->job) {
		TAILQ_REMOVE(&r->ahead, rj, ahead_entry);
		r->nahead--;
	} else
		run_promote(r);
	if (r->state == RUN_RUNNING && rj->plan.sequence <= r->sequence) {
		run_plan_rewind(&r->plan, &rj->plan_pos);
		r->sequence = rj->plan.sequence - 1;
	}
	/* A dead worker says why it never ran; nobody asks. */
	free(rj->result.detail);
	free(rj->devlog_detail);
	free(rj);
	if (r->state != RUN_RUNNING)
		run_end_told(r);
	else if (r->job == NULL &&
	    !evtimer_pending(r->resume_ev, NULL) &&
	    !evtimer_pending(r->next_ev, NULL))
		run_continue(r);
}

/* Loop thread: a probe came back. */
static void
run_job_done(struct run_job *rj)
{
	struct run	*r = rj->run;
	struct timeval	 tv;
	const char	*blocker;
	char		*detail;
	int		 lost, timed_out;

	/* Chunks moved count for the latency shown, whatever comes next. */
	r->chunks_done += rj->job.progress.chunks;
	r->chunk_us_done += rj->job.progress.chunk_us;
	/* The probe cut for a deadline; those before it were done. */
	timed_out = r->timed_out && rj == r->timed_out_job;
	/*
	 * One that never started within its deadline is a timeout. One
	 * queued behind it that started before the worker saw the cancel
	 * and failed, cut by it, failed because of us: it says nothing of
	 * the link, and the plan goes back to it as to one never run.
	 */
	if ((!rj->ran && !timed_out) || (!timed_out && rj->cancelled &&
	    !rj->in_time && rj->result.status != LQ_OK)) {
		run_job_unrun(r, rj);
		return;
	}
	/* Jobs come back in order: this one is r->job. */
	run_promote(r);
	/*
	 * The probe was done, but the device did not start its syslog
	 * before the deadline: that stall is still the probe's timeout,
	 * as the next probe would have met it, but say where it was.
	 */
	if (timed_out && rj->in_time && rj->result.status == LQ_OK) {
		free(rj->result.detail);
		rj->result.detail = xstrdup("the probe was done; the device's "
		    "syslog was being started");
	}
	if (timed_out) {
		xasprintf(&detail, "no answer within %lld ms; the connection "
		    "was cut%s%s", (long long)(r->deadline_us[rj->ops->kind] /
		    1000), rj->result.detail != NULL ? ": " : "",
		    rj->result.detail != NULL ? rj->result.detail : "");
		free(rj->result.detail);
		rj->result.detail = detail;
		rj->result.status = LQ_ETIMEDOUT;
	}
	/*
	 * A probe cut because its run had ended (cancelled, failed by the
	 * kernel, stopped with linkqd) fails because of the cut, which says
	 * nothing about the link; so does one cancelled for a dropout.
	 * What is recorded is counted, even back after the end (the probe
	 * in flight at a dropout): the run's numbers are the store's.
	 */
	if (!r->cut && !(r->state != RUN_RUNNING && rj->result.status ==
	    LQ_ECANCELED)) {
		run_record(r, rj);
		run_count(r, rj->ops->kind, &rj->result);
		if (r->state == RUN_RUNNING && run_stall(r, rj))
			r->ev.stalls++;
	}
	if (r->state == RUN_RUNNING)
		run_devlog(r, rj);
	blocker = run_blocker(rj->result.status);
	lost = rj->result.status == LQ_EDISCONNECTED ||
	    rj->result.status == LQ_ENODEVICE;
	free(rj->result.detail);
	free(rj->devlog_detail);
	free(rj);

	if (r->state != RUN_RUNNING) {
		run_end_told(r);
		return;
	}
	if (blocker != NULL) {
		r->error = xstrdup(blocker);
		run_end(r, RUN_ERROR, 0);
		return;
	}
	if (lost) {
		tv.tv_sec = RUN_DISCONNECT_GRACE_US / LQ_USEC_PER_SEC;
		tv.tv_usec = RUN_DISCONNECT_GRACE_US % LQ_USEC_PER_SEC;
		if (evtimer_add(r->resume_ev, &tv) == 0)
			return;
	}
	run_continue(r);
}

/* Decide, then end r or send its next probe. */
static void
run_continue(struct run *r)
{
	int	finished;

	run_decide(r, 0);
	if (run_should_end(r, &finished)) {
		/* A probe queued ahead of the decision is not the run's. */
		run_cut(r);
		run_end(r, RUN_DONE, finished);
		return;
	}
	if (r->job != NULL)
		run_send_ahead(r);
	else
		run_next(r);
}

/* The device stayed after a lost connection: go on. */
static void
run_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct run	*r = arg;

	(void)fd;
	(void)what;
	if (r->state == RUN_RUNNING && r->job == NULL)
		run_continue(r);
}

/* The interval between cycles is over. */
static void
run_next_cb(evutil_socket_t fd, short what, void *arg)
{
	struct run	*r = arg;
	int		 kind;

	(void)fd;
	(void)what;
	if (r->state != RUN_RUNNING || r->job != NULL)
		return;
	if ((kind = run_plan_next(&r->plan)) > 0)
		run_send(r, kind);
	else
		run_end(r, RUN_DONE, 1);
}

/* Send the next probe, or wait for the interval, or end. */
static void
run_next(struct run *r)
{
	struct timeval	tv;
	int		kind;

	kind = run_plan_next(&r->plan);
	if (kind > 0) {
		run_send(r, kind);
		return;
	}
	if (kind == 0) {
		run_end(r, RUN_DONE, 1);
		return;
	}
	tv.tv_sec = r->profile.interval_us / LQ_USEC_PER_SEC;
	tv.tv_usec = r->profile.interval_us % LQ_USEC_PER_SEC;
	if (evtimer_add(r->next_ev, &tv) == -1) {
		log_warnx("run %lld: cannot arm the interval",
		    (long long)r->id);
		run_end(r, RUN_ERROR, 0);
	}
}

/* Free r; it has ended and no probe of it is in flight. */
static void
run_free(struct run *r)
{
	TAILQ_REMOVE(&runs, r, entry);
	if (r->deadline_ev != NULL)
		event_free(r->deadline_ev);
	if (r->tick_ev != NULL)
		event_free(r->tick_ev);
	if (r->next_ev != NULL)
		event_free(r->next_ev);
	if (r->resume_ev != NULL)
		event_free(r->resume_ev);
	if (r->window_ev != NULL)
		event_free(r->window_ev);
	feed_free(r->feed);
	free(r->error);
	free(r);
}

/* Keep the newest RUN_KEEP_ENDED ended runs in memory (newest first). */
static void
runs_trim(void)
{
	struct run	*r, *next;
	unsigned int	 ended = 0;

	TAILQ_FOREACH_SAFE(r, &runs, entry, next) {
		if (r->state == RUN_RUNNING)
			continue;
		if (++ended > RUN_KEEP_ENDED && r->job == NULL)
			run_free(r);
	}
}

/* Loop thread: the connections are closed. */
static void
run_close_done(struct child_job *job)
{
	free(job->detail);
	free(job->devlog_detail);
	free(job);
}

/*
 * A run that ended with its device still there closes its connections:
 * a lockdown session left idle until the next run could be gone by then
 * and fail that run's first probe for nothing.
 */
static void
run_close_session(struct run *r)
{
	struct child_job	*job;

	if (r->target.child == NULL)
		return;		/* no session: recovery or DFU mode */
	job = xmalloc(sizeof(*job));
	child_job_init(job, MSG_JOB_CLOSE, run_close_done);
	child_submit(r->target.child, job);
}

/*
 * Store r's end and commit it at once, so that what the API says of the
 * ended run is what the database holds (run_unrecorded).
 */
static void
run_record_end(struct run *r, const char *verdict, const char *reasons)
{
	if (store == NULL)
		return;
	(void)store_run_end(store, r->id, run_state_names[r->state], verdict,
	    reasons, r->ended_us);
	(void)store_run_trials(store, r->id, (int64_t)r->ev.probes);
	r->end_probes = r->ev.probes;
	r->end_seq = store_seq(store);
	(void)store_flush(store);
}

/*
 * Store r's start and commit it before its id goes to anyone (the 201):
 * an id must outlive a crash. A store that cannot commit starts no run:
 * its verdict could not be recorded. One that fails at this very commit
 * keeps the run in its journal, ended as an error.
 */
static int
run_record_start(struct run *r, char **cause)
{
	struct store_health	h;

	if (store == NULL) {
		xasprintf(cause, "linkqd has no database");
		return (-1);
	}
	store_health(store, &h);
	if (h.problem == NULL) {
		if ((r->id = store_run_begin(store, r->target.attachment_id,
		    r->profile_name, r->started_us)) < 0) {
			xasprintf(cause, "the database refused the run; see "
			    "the log");
			return (-1);
		}
		if (store_flush(store) == 0)
			return (0);
		store_health(store, &h);
		(void)store_run_end(store, r->id, "error", NULL, "[\"the "
		    "database could not record the run's start\"]",
		    r->started_us);
	}
	xasprintf(cause, "not recorded, so not started: %s: %s",
	    h.problem != NULL ? h.problem : "the database failed", h.advice);
	return (-1);
}

/* The facts of r for the journal (log.h); verdict may be NULL. */
static void
run_log_ctx(const struct run *r, const char *verdict, struct log_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->run_id = r->id;
	ctx->udid = r->target.udid;
	ctx->port = r->target.port;
	ctx->cable = r->target.cable;
	ctx->verdict = verdict;
}

/*
 * Tell r's followers that it has ended, once no probe of it that would
 * count is in flight: the last line has the numbers the store keeps. A
 * probe counted after the end goes into the store's trials too.
 */
static void
run_end_told(struct run *r)
{
	if (r->feed == NULL || (r->job != NULL && !r->cut))
		return;
	if (store != NULL && r->ev.probes != r->end_probes) {
		(void)store_run_trials(store, r->id, (int64_t)r->ev.probes);
		r->end_seq = store_seq(store);
		(void)store_flush(store);
	}
	run_progress(r, "end");
	feed_free(r->feed);
	r->feed = NULL;
}

/* End r: decide, store, tell the followers. */
static void
run_end(struct run *r, enum run_state state, int finished)
{
	struct log_ctx	 ctx;
	const char	*verdict;
	char		*reasons;

	if (r->state != RUN_RUNNING)
		return;
	run_devlog_end(r);
	r->end_pct = state == RUN_DONE && (finished ||
	    r->result.verdict == LQ_VERDICT_PASS) ? 100 :
	    run_percent(r, lq_mono_now());
	r->state = state;
	r->ended_us = lq_wall_now_us();
	(void)evtimer_del(r->tick_ev);
	(void)evtimer_del(r->next_ev);
	(void)evtimer_del(r->resume_ev);
	(void)evtimer_del(r->window_ev);
	if (state == RUN_ERROR) {
		memset(&r->result, 0, sizeof(r->result));
		r->result.nreasons = 1;
		(void)strlcpy(r->result.reasons[0], r->error != NULL ?
		    r->error : "the run could not go on",
		    sizeof(r->result.reasons[0]));
	} else
		run_decide(r, finished);
	/* Cut short by a person or a shutdown: no verdict but a FAIL. */
	if ((state == RUN_CANCELLED || state == RUN_INTERRUPTED) &&
	    r->result.verdict != LQ_VERDICT_FAIL)
		r->result.verdict = LQ_VERDICT_NONE;
	verdict = lq_verdict_name(r->result.verdict);
	reasons = lq_verdict_reasons_json(&r->result);
	run_record_end(r, verdict, reasons);
	metrics_run_end(r->target.attachment_id, r->target.port_id, verdict);
	free(reasons);
	run_log_ctx(r, verdict, &ctx);
	log_fields(LOG_INFO, &ctx, "run %lld %s: %s%s%s", (long long)r->id,
	    run_state_names[state], verdict != NULL ? verdict : "no verdict",
	    r->result.nreasons > 0 ? ": " : "",
	    r->result.nreasons > 0 ? r->result.reasons[0] : "");
	run_hook_end(r);
	service_changed();
	/* Those in flight come back soon, and count if they ran. */
	if (r->job != NULL && !r->cut && !r->job->cancelled)
		run_cancel_probe(r);
	run_end_told(r);
	if (!r->gone && state != RUN_INTERRUPTED)
		run_close_session(r);
	runs_trim();
}

/* Start pr on target. */
struct run *
run_start(const struct config *cfg, const struct profile *pr,
    const struct run_target *target, char **cause)
{
	struct run	*r;
	struct log_ctx	 ctx;
	struct timeval	 one = { 1, 0 }, window;
	const char	*why;

	if (run_active(target->attachment_id) != NULL) {
		xasprintf(cause, "a run is already going on this device");
		return (NULL);
	}
	r = xcalloc(1, sizeof(*r));
	TAILQ_INIT(&r->ahead);
	(void)strlcpy(r->profile_name, pr->name, sizeof(r->profile_name));
	r->profile = *pr;
	r->profile.name = r->profile_name;
	run_rules(cfg, &r->rules);
	if ((why = lq_verdict_rules_check(&r->rules)) != NULL) {
		xasprintf(cause, "the [verdict] settings are unusable: %s",
		    why);
		free(r);
		return (NULL);
	}
	memcpy(r->deadline_us, cfg->deadline_us, sizeof(r->deadline_us));
	r->max_bytes = cfg->max_bytes;
	r->max_free_share_pct = cfg->max_free_share_pct;
	r->target = *target;
	r->ev.speed_mbps = target->speed_mbps;
	r->ev.best_speed_mbps = target->best_speed_mbps;
	r->ev.mode = target->mode;
	r->ev.stop_early = pr->stop_early;
	r->ev.triage = pr->triage;
	r->started = lq_mono_now();
	r->started_us = lq_wall_now_us();
	if (run_record_start(r, cause) == -1) {
		free(r);
		return (NULL);
	}
	r->deadline_ev = evtimer_new(base, run_deadline_cb, r);
	r->tick_ev = event_new(base, -1, EV_PERSIST, run_tick_cb, r);
	r->next_ev = evtimer_new(base, run_next_cb, r);
	r->resume_ev = evtimer_new(base, run_resume_cb, r);
	r->window_ev = event_new(base, -1, EV_PERSIST, run_window_cb, r);
	if (r->deadline_ev == NULL || r->tick_ev == NULL ||
	    r->next_ev == NULL || r->resume_ev == NULL || r->window_ev == NULL)
		fatalx("%s: evtimer_new", __func__);
	r->feed = feed_new();
	run_plan_init(&r->plan, &r->profile, target->mode,
	    target->devnum > 0);
	r->ev.bulk_planned = r->plan.bulk_bytes > 0;
	TAILQ_INSERT_HEAD(&runs, r, entry);
	if (evtimer_add(r->tick_ev, &one) == -1)
		log_warnx("run %lld: no progress timer", (long long)r->id);
	r->window_started_us = r->started_us;
	if (r->profile.window_us > 0) {
		window.tv_sec = r->profile.window_us / LQ_USEC_PER_SEC;
		window.tv_usec = r->profile.window_us % LQ_USEC_PER_SEC;
		if (evtimer_add(r->window_ev, &window) == -1)
			log_warnx("run %lld: no window timer",
			    (long long)r->id);
	}
	run_log_ctx(r, NULL, &ctx);
	log_fields(LOG_INFO, &ctx, "run %lld: %s on %s (attachment %lld)",
	    (long long)r->id, r->profile_name, target->udid,
	    (long long)target->attachment_id);
	service_changed();
	run_next(r);
	return (r);
}

/* Cancel r. */
int
run_cancel(struct run *r)
{
	if (r->state != RUN_RUNNING)
		return (-1);
	run_cut(r);
	run_end(r, RUN_CANCELLED, 0);
	return (0);
}

/*
 * Stop r: the end of a profile that has none of its own. No probe
 * starts after this; the one in flight ends as it would have and counts
 * (cutting it would throw away the exposure of a bulk slice that moved
 * its data, and a cut says nothing of the link), and then the run is
 * decided as finished (run_should_end). A profile with a duration or a
 * byte target keeps its word (DESIGN.md, Verdict): it is cancelled, not
 * stopped.
 */
int
run_stop(struct run *r, const char **cause)
{
	if (r->state != RUN_RUNNING) {
		*cause = "it has already ended";
		return (-1);
	}
	if (!r->profile.forever) {
		*cause = "its profile ends by itself; cancel it instead";
		return (-1);
	}
	r->stopping = 1;
	if (r->job == NULL) {
		run_cut(r);
		run_end(r, RUN_DONE, 1);
	}
	return (0);
}

/*
 * The device left in the middle of its run: a dropout. One that left
 * right after its run failed (a kernel message about the same episode
 * came first and failed the run) is marked gone, so that what is learnt
 * of the episode afterwards (stranded) still joins that run; one that
 * left after a pass was simply unplugged. Coming back is no evidence:
 * an unplug is never a reset (devices.c).
 */
void
run_device_gone(int64_t attachment_id)
{
	struct run	*r;
	char		 detail[128];

	if ((r = run_active(attachment_id)) == NULL) {
		TAILQ_FOREACH(r, &runs, entry) {
			if (r->target.attachment_id == attachment_id)
				break;
		}
		if (r != NULL && r->state == RUN_DONE &&
		    r->result.verdict == LQ_VERDICT_FAIL &&
		    lq_wall_now_us() - r->ended_us <=
		    RUN_DISCONNECT_GRACE_US)
			r->gone = 1;
		return;
	}
	(void)snprintf(detail, sizeof(detail), "the device left usbmuxd "
	    "%lld ms into the run, during %s",
	    (long long)(lq_mono_sub(lq_mono_now(), r->started) / 1000),
	    r->job != NULL ? lq_probe_kind_name(r->job->ops->kind) :
	    "a pause");
	r->ev.hard[LQ_HARD_DROPOUT]++;
	r->gone = 1;
	run_event(r, "usbmuxd", "dropout", 0, detail);
	run_cancel_probe(r);
	run_end(r, RUN_DONE, 0);
}

/*
 * The run of attachment_id that ended when its device went: evidence
 * learnt about that episode afterwards still belongs to it.
 */
static struct run *
run_gone_with(int64_t attachment_id)
{
	struct run	*r;

	TAILQ_FOREACH(r, &runs, entry) {
		if (r->target.attachment_id == attachment_id)
			break;
	}
	if (r == NULL || !r->gone || r->state != RUN_DONE)
		return (NULL);
	return (r);
}

/* Decide r again after the fact and store the new verdict. */
static void
run_decide_again(struct run *r)
{
	enum lq_verdict	 was = r->result.verdict;
	char		*reasons;

	run_decide(r, 0);
	if (r->result.verdict != was)
		metrics_run_end(r->target.attachment_id, r->target.port_id,
		    lq_verdict_name(r->result.verdict));
	reasons = lq_verdict_reasons_json(&r->result);
	run_record_end(r, lq_verdict_name(r->result.verdict), reasons);
	free(reasons);
	run_hook_end(r);
}

/*
 * The device of attachment_id stayed on the bus after usbmuxd dropped
 * it: its run's dropout left it stranded, which only a replug mends.
 */
void
run_device_stranded(int64_t attachment_id, const char *detail,
    struct hook_facts *f)
{
	struct run	*r;

	if ((r = run_gone_with(attachment_id)) == NULL)
		return;
	r->ev.hard[LQ_HARD_STRANDED]++;
	log_info("run %lld: %s", (long long)r->id, detail);
	run_decide_again(r);
	f->run_id = r->id;
	f->verdict = lq_verdict_name(r->result.verdict);
	f->cable = r->target.cable;
}

/* The cable of the attachment's runs is now label. */
void
run_cable_changed(int64_t attachment_id, const char *label)
{
	struct run	*r;

	TAILQ_FOREACH(r, &runs, entry) {
		if (r->target.attachment_id == attachment_id)
			(void)strlcpy(r->target.cable, label,
			    sizeof(r->target.cable));
	}
}

/*
 * The run a kernel report about attachment_id, read at ts_us, belongs
 * to: the one going on; else the newest one of the attachment if ts_us
 * falls in its time span (a report held for a moment, or delivered at an
 * unplug, joins the run it happened in); else the one the kernel failed
 * a moment ago. The kernel tells of one episode in several messages (a
 * reset, then the descriptor read that failed in it), and the first to
 * arrive may already have ended the run.
 */
struct run *
run_episode(int64_t attachment_id, int64_t ts_us)
{
	struct run	*r;

	if ((r = run_active(attachment_id)) != NULL)
		return (r);
	TAILQ_FOREACH(r, &runs, entry) {
		if (r->target.attachment_id == attachment_id)
			break;
	}
	if (r == NULL || r->state != RUN_DONE)
		return (NULL);
	if (ts_us >= r->started_us && ts_us <= r->ended_us)
		return (r);
	if (r->said[0] == '\0' ||
	    lq_wall_now_us() - r->ended_us > RUN_DISCONNECT_GRACE_US)
		return (NULL);
	return (r);
}

/*
 * The kernel reported kind on the port of the attachment's running run:
 * if it is a hard kind of the vocabulary, count it and decide again.
 * The first link or URB error's status goes with the verdict's words.
 */
void
run_kernel_event(int64_t attachment_id, int64_t ts_us, const char *kind,
    int errnum, const char *port, const char *text)
{
	struct run	*r;
	int		 k;

	if ((r = run_episode(attachment_id, ts_us)) == NULL)
		return;
	if ((k = lq_hard_from_name(kind)) == -1)
		return;
	if (r->ev.hard[k]++ == 0) {
		if (k == LQ_HARD_LINK_ERROR)
			r->ev.link_errno = errnum;
		else if (k == LQ_HARD_URB_ERROR)
			r->ev.urb_errno = errnum;
	}
	if (r->said[0] == '\0')
		(void)snprintf(r->said, sizeof(r->said), "the kernel "
		    "said%s%s: %s", port[0] != '\0' ? " on port " : "", port,
		    text);
	log_info("run %lld: the kernel reported %s%s%s", (long long)r->id,
	    kind, port[0] != '\0' ? " on port " : "", port);
	if (r->state != RUN_RUNNING) {
		run_decide_again(r);
		return;
	}
	run_decide(r, 0);
	/* A run with windows fails the window and goes on. */
	if (r->result.verdict != LQ_VERDICT_FAIL || r->profile.window_us > 0)
		return;
	run_cut(r);
	run_end(r, RUN_DONE, 0);
}

/* The run with this id in memory, or NULL. */
struct run *
run_find(int64_t id)
{
	struct run	*r;

	TAILQ_FOREACH(r, &runs, entry) {
		if (r->id == id)
			return (r);
	}
	return (NULL);
}

/* The running run on an attachment. */
struct run *
run_active(int64_t attachment_id)
{
	struct run	*r;

	TAILQ_FOREACH(r, &runs, entry) {
		if (r->state == RUN_RUNNING &&
		    r->target.attachment_id == attachment_id)
			return (r);
	}
	return (NULL);
}

/* The device syslog as an evidence source (run.h). */
void
run_devlog_source(struct source_state *st)
{
	if (devlog_last.run_id == 0) {
		st->on = 1;
		(void)strlcpy(st->reason, "read from each device during its "
		    "runs (com.apple.syslog_relay); no run has read one yet",
		    sizeof(st->reason));
		return;
	}
	if (!devlog_last.failed) {
		st->on = 1;
		(void)snprintf(st->reason, sizeof(st->reason), "read from "
		    "each device during its runs; the last, run %lld on %s, "
		    "read it", (long long)devlog_last.run_id,
		    devlog_last.udid);
		return;
	}
	st->on = 0;
	(void)snprintf(st->reason, sizeof(st->reason), "run %lld could not "
	    "read the syslog of %s: %s", (long long)devlog_last.run_id,
	    devlog_last.udid, devlog_last.detail);
	st->advice = "side evidence only, verdicts do not need it; replug "
	    "or restart the phone for its USB counters in the next run";
}

/* How many runs are running (run.h). */
unsigned int
runs_running(void)
{
	struct run	*r;
	unsigned int	 n = 0;

	TAILQ_FOREACH(r, &runs, entry)
		n += r->state == RUN_RUNNING;
	return (n);
}

int64_t
run_id(const struct run *r)
{
	return (r->id);
}

const char *
run_state(const struct run *r)
{
	return (run_state_names[r->state]);
}

/* The verdict of the newest ended run on an attachment. */
const char *
run_last_verdict(int64_t attachment_id)
{
	struct run	*r;

	TAILQ_FOREACH(r, &runs, entry) {
		if (r->target.attachment_id == attachment_id &&
		    r->state != RUN_RUNNING)
			return (lq_verdict_name(r->result.verdict));
	}
	return (NULL);
}

/* The runs in memory, newest first. */
json_t *
runs_json(void)
{
	struct run	*r;
	json_t		*list;

	list = json_array();
	TAILQ_FOREACH(r, &runs, entry)
		(void)json_array_append_new(list, run_json(r));
	return (list);
}

/* Follow r's progress; an ended run gets its last line at once. */
void
run_follow(struct run *r, struct evhttp_request *req)
{
	json_t	*o;

	if (r->feed != NULL) {
		feed_add(r->feed, req);
		/* Ended, a probe still to count: its end line comes next. */
		if (r->state != RUN_RUNNING)
			return;
		o = run_json(r);
		(void)json_object_set_new(o, "type", json_string("progress"));
		feed_send_one(r->feed, req, o);
		return;
	}
	run_follow_ended(run_json(r), req);
}

/* The last line of an ended run, o (taken), and the stream's end. */
void
run_follow_ended(json_t *o, struct evhttp_request *req)
{
	struct feed	*once;

	once = feed_new();
	feed_add(once, req);
	(void)json_object_set_new(o, "type", json_string("end"));
	feed_send_one(once, req, o);
	feed_free(once);
}

/*
 * Shutdown, first half: running runs end interrupted and their probes
 * are cut. The jobs still come back to run_job_done() when the workers
 * answer or are killed (child.h), so the runs stay until runs_free().
 */
void
runs_shutdown(void)
{
	struct run	*r;

	TAILQ_FOREACH(r, &runs, entry) {
		if (r->state != RUN_RUNNING)
			continue;
		run_event(r, "daemon", "interrupted", 0, "linkqd stopped");
		run_cut(r);
		run_end(r, RUN_INTERRUPTED, 0);
	}
}

/* Shutdown, second half: every worker is gone; free every run. */
void
runs_free(void)
{
	struct run	*r;

	while ((r = TAILQ_FIRST(&runs)) != NULL)
		run_free(r);
}
