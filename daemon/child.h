/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Worker processes, the loop's side: each attached device gets one
 * (struct child), which runs the jobs that talk to the phone through
 * libimobiledevice (child-main.h), so that a crash, a hang or a runaway
 * allocation in the library costs a probe, not linkqd. This file
 * starts, feeds, supervises, kills and reaps them; the messages are in
 * msg.h.
 *
 * Start: lazily, at the first job after child_new or after the last
 * process died, by posix_spawn(3) of /proc/self/exe in worker mode
 * (never a bare fork: linkqd has threads), with one end of a
 * SOCK_SEQPACKET socketpair as its descriptor 3.
 *
 * Jobs: the caller embeds struct child_job at the head of its own job,
 * sets req (child_job_init) and submits it; the job is sent to the
 * process at once (jobs queue there, so a probe sent ahead starts the
 * moment the one before it ends) and its done() is called once, on the
 * loop, in the order submitted, never inside child_submit, with rep,
 * detail and devlog_detail filled. done() owns and frees the job and
 * its strings. started_us says when the job started: when it was sent
 * if nothing was before it, else when the one before it ended (the
 * process says when in its result), 0 until then; a probe's result may
 * reach the loop later than its end (msg.h, MSG_JOB_HOLD). While a
 * bulk probe runs, progress holds the last counters the process sent
 * (moved_us 0 until the first).
 *
 * Cancel and deadlines: child_cancel cancels every job submitted so
 * far: queued ones come back not run (rep.status LQ_ECANCELED, rep.ran
 * 0), the running one is cut (its socket shut down) and returns. A job
 * not back CHILD_GRACE_US after its cancel, or a job of a kind that
 * has a deadline of its own (identify, pair, close: CHILD_*_US) not
 * back by then from when it was sent, is the process's death: it is
 * killed (SIGKILL). Probes have the run's deadlines, which cancel.
 *
 * Death (a crash, an exit, a kill, a broken or malformed message): the
 * process is reaped at once, and every job it had gets its done(), in
 * order, on a later loop turn: the running one (a probe that had
 * started: rep.ran 1) with rep.status LQ_ETIMEDOUT if it was killed
 * for its deadline and LQ_EPROTO otherwise, the others not run
 * (LQ_ECANCELED, rep.ran 0), each with detail saying what happened
 * ("the worker process died (signal 11, Segmentation fault)"). The
 * next job starts a new process. None is lost or done twice.
 *
 * Threads: loop thread only. The processes are linkqd's children:
 * nothing else may wait(2) for them.
 */

#ifndef LQ_CHILD_H
#define LQ_CHILD_H

#include <event2/event.h>

#include "compat/queue.h"
#include "msg.h"

/* A cancelled job is back within this, or its process is killed. */
#define CHILD_GRACE_US		(1000 * 1000)
/* A close job (session_close) is back within this. */
#define CHILD_CLOSE_US		(5 * 1000 * 1000)
/*
 * An identify (lockdown's QueryType and GetValue, then the removal of
 * the folder's leftovers) or a pair request is back within this: a
 * phone answers each in well under a second, and a pair request
 * returns at once while the Trust prompt waits. Without it, a phone
 * whose AFC reply makes libimobiledevice spin (linkq-sim(1), HOSTILE
 * PHONES) would stay "identifying" for ever.
 */
#define CHILD_IDENTIFY_US	(20 * 1000 * 1000)

struct child_job {
	struct msg_job		 req;		/* the caller's */
	struct msg_done		 rep;		/* filled before done() */
	char			*detail;	/* done() frees */
	char			*devlog_detail;	/* done() frees */
	struct probe_progress	 progress;	/* the last sent */
	int64_t			 started_us;	/* monotonic, or 0 */
	void			(*done)(struct child_job *);
	/* child.c's: */
	uint32_t		 id;
	int64_t			 sent_us;	/* monotonic */
	int64_t			 due_us;	/* monotonic, or 0 */
	TAILQ_ENTRY(child_job)	 entry;
};

/* One device's worker process, started when needed. */
struct child;

/* Use base; log to standard error (1) or syslog (0) in the workers. */
void		 children_init(struct event_base *, int);
/* Kill and reap every worker process left (at shutdown). */
void		 children_shutdown(void);

/* Zero job, set its type (enum msg_job_type) and done. */
void		 child_job_init(struct child_job *, int,
		    void (*)(struct child_job *));

/* A supervisor for the device udid, with the AFC folder; no process. */
struct child	*child_new(const char *, const char *);
/* Send job to c's process, starting one if need be. Takes the job. */
void		 child_submit(struct child *, struct child_job *);
/* Cancel every job submitted to c so far (see above). */
void		 child_cancel(struct child *);
/* The process's id, or -1 if none runs now. */
pid_t		 child_pid(const struct child *);

/*
 * The id of the job the process is running now, or 0, and when it
 * started it in *started_us (monotonic; NULL allowed): its page says.
 */
uint32_t	 child_running(const struct child *, int64_t *);
/*
 * Kill and reap c's process and free c. Call it once every job is back
 * (from the last one's done(), as devices.c does); jobs still out are
 * a bug, logged, and get done() here. NULL-safe.
 */
void		 child_free(struct child *);

#endif /* LQ_CHILD_H */
