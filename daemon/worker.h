/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Worker threads for blocking calls (STYLE.md 4.7) that never touch a
 * phone: the device registry's locator, which asks usbmuxd where a
 * device is (devices.c). Whatever talks to a phone through
 * libimobiledevice runs in a worker process instead (child.h), since
 * a broken phone can crash or hang the library, and a thread cannot be
 * killed. A worker is one thread and its FIFO of jobs. The loop
 * thread submits a job; the worker runs job->run(job), which may block
 * and cannot fail (it records errors in the job); the finished job goes
 * onto one shared, mutex-protected done list and one 8-byte write to an
 * eventfd (EAGAIN ignored) wakes the loop, whose persistent read event
 * drains the list and calls job->done(job) on the loop thread, in
 * completion order, never inline in the call that submitted it.
 *
 * Ownership: once worker_submit returns, the loop must not touch the job
 * until done() runs; done() owns and frees it. run() touches only its
 * job. Every submitted job gets exactly one done() call, whether it ran,
 * was cancelled before it ran, or was left over at worker_free or
 * worker_shutdown.
 *
 * Threads and locks: each worker's queue and its running job are guarded
 * by the worker's mutex and condition variable; the done list, by a
 * file-static mutex. cancelled is read and written with atomics
 * (worker_job_cancelled); cut_fd, once the job is submitted, only under
 * a file-static mutex (worker_job_set_cut_fd), so the loop can never
 * shut down a socket run() has already closed. Everything but run() and
 * worker_job_cancelled/worker_job_set_cut_fd is loop thread only.
 *
 * Failures: worker_init returns -1 (logged); a pthread or eventfd
 * failure elsewhere is a broken process and calls fatalx.
 */

#ifndef LQ_WORKER_H
#define LQ_WORKER_H

#include <event2/event.h>

#include "compat/queue.h"

struct worker_job {
	/* Worker thread; may block; touches only the job. */
	void	(*run)(struct worker_job *);
	/* Loop thread; owns and frees the job. */
	void	(*done)(struct worker_job *);
	/* Set by worker_cancel or worker_free; atomics only. */
	int	 cancelled;
	/*
	 * A socket run() may block on, or -1: worker_cancel shuts it down
	 * (SHUT_RDWR) if the job is running. The loop may set it before
	 * submitting; after that, only run() changes it, through
	 * worker_job_set_cut_fd, and clears it before closing the socket.
	 * A socket set after the cancel is shut down at once.
	 */
	int	 cut_fd;
	TAILQ_ENTRY(worker_job) entry;
	/* Callers embed this struct at the head of their own job struct. */
};

/* One thread and its FIFO of jobs. */
struct worker;

/* Set run and done, cancelled to 0 and cut_fd to -1. */
void	 worker_job_init(struct worker_job *,
	    void (*)(struct worker_job *), void (*)(struct worker_job *));
/* Whether the job was cancelled. Any thread; run() may poll it. */
int	 worker_job_cancelled(struct worker_job *);
/* Set or clear (-1) the job's cut_fd. Worker thread, from run(). */
void	 worker_job_set_cut_fd(struct worker_job *, int);

/* Create the shared eventfd and its event on base. 0 or -1 (logged). */
int	 worker_init(struct event_base *);
/*
 * Start a worker thread named name (cut to 15 characters) with signals
 * blocked. worker_init must have succeeded.
 */
struct worker	*worker_create(const char *);
/* Queue job on w. Takes ownership of job until its done() runs. */
void	 worker_submit(struct worker *, struct worker_job *);
/*
 * Ask the running and queued jobs of w to stop: set cancelled on each;
 * for the running one, shut down its cut_fd (shutdown(2), SHUT_RDWR)
 * so a blocked call returns. Queued jobs are taken off the queue and
 * get done() with cancelled set on a later loop turn; their run() is
 * never called. Jobs submitted afterwards run as usual.
 */
void	 worker_cancel(struct worker *);
/*
 * Stop the thread after its current job (not cancelled: call
 * worker_cancel first for that), cancel the queued jobs as
 * worker_cancel does, join the thread and free w. done() of those jobs
 * runs later, on the loop. NULL-safe. Blocks until run() returns.
 */
void	 worker_free(struct worker *);
/*
 * After every worker_free: call done() of the finished jobs still on the
 * done list, then free the event and close the eventfd. Idempotent.
 */
void	 worker_shutdown(void);

#endif /* LQ_WORKER_H */
