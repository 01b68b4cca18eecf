/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Worker threads and the completion path back to the loop (contract in
 * worker.h), after Redis bio.c.
 *
 * DESIGN: locks are taken in one order only: a worker's mutex, then
 * cut_mutex or done_mutex; run() holds none while it runs. The worker
 * clears w->running under w->mutex before it posts the job to the done
 * list, and worker_cancel shuts down the running job's cut_fd under the
 * same mutex (and cut_mutex), so it never touches a job that has
 * finished; run() clears cut_fd under cut_mutex before it closes the
 * socket, so a reused descriptor is never shut down either. Cancelled
 * queued jobs go straight to the done list rather than waiting behind a
 * stuck running job. The event base stays single-threaded: no
 * evthread_use_pthreads, only the eventfd crosses threads.
 */

#include <sys/eventfd.h>
#include <sys/socket.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "compat/compat.h"
#include "compat/queue.h"
#include "log.h"
#include "worker.h"
#include "xmalloc.h"

TAILQ_HEAD(worker_jobs, worker_job);

struct worker {
	pthread_t		 thread;
	pthread_mutex_t		 mutex;
	pthread_cond_t		 cond;
	/* Guarded by mutex. */
	struct worker_jobs	 jobs;
	struct worker_job	*running;
	int			 stopping;
	char			 name[16];
};

/* Finished jobs of every worker, in completion order. */
static pthread_mutex_t		 done_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct worker_jobs	 done_jobs = TAILQ_HEAD_INITIALIZER(done_jobs);

/* Guards cut_fd of every submitted job. */
static pthread_mutex_t		 cut_mutex = PTHREAD_MUTEX_INITIALIZER;

/* Loop thread only, but for wake_fd: written once before any worker. */
static int			 wake_fd = -1;
static struct event		*wake_ev;

static void	 worker_lock(pthread_mutex_t *);
static void	 worker_unlock(pthread_mutex_t *);
static void	 worker_post(struct worker_job *);
static void	 worker_drop_queued(struct worker *);
static void	*worker_main(void *);
static int	 worker_drain(void);
static void	 worker_wake_cb(evutil_socket_t, short, void *);

/* Lock m or die. */
static void
worker_lock(pthread_mutex_t *m)
{
	if (pthread_mutex_lock(m) != 0)
		fatalx("%s: pthread_mutex_lock", __func__);
}

/* Unlock m or die. */
static void
worker_unlock(pthread_mutex_t *m)
{
	if (pthread_mutex_unlock(m) != 0)
		fatalx("%s: pthread_mutex_unlock", __func__);
}

/* Put job on the done list and wake the loop. Any thread. */
static void
worker_post(struct worker_job *job)
{
	uint64_t	one = 1;

	worker_lock(&done_mutex);
	TAILQ_INSERT_TAIL(&done_jobs, job, entry);
	worker_unlock(&done_mutex);
	/* EAGAIN: the counter is already non-zero, the loop will run. */
	if (write(wake_fd, &one, sizeof(one)) == -1 && errno != EAGAIN)
		log_warn("%s: eventfd", __func__);
}

/* Cancel the queued jobs of w and post them. Caller holds w->mutex. */
static void
worker_drop_queued(struct worker *w)
{
	struct worker_job	*job;

	while ((job = TAILQ_FIRST(&w->jobs)) != NULL) {
		TAILQ_REMOVE(&w->jobs, job, entry);
		__atomic_store_n(&job->cancelled, 1, __ATOMIC_RELEASE);
		worker_post(job);
	}
}

/* Run the jobs of w in order until told to stop. Worker thread. */
static void *
worker_main(void *arg)
{
	struct worker		*w = arg;
	struct worker_job	*job;
	int			 error;

	if ((error = pthread_setname_np(pthread_self(), w->name)) != 0)
		log_debug("%s: pthread_setname_np: %s", __func__,
		    strerror(error));
	for (;;) {
		worker_lock(&w->mutex);
		while (TAILQ_EMPTY(&w->jobs) && !w->stopping) {
			if (pthread_cond_wait(&w->cond, &w->mutex) != 0)
				fatalx("%s: pthread_cond_wait", __func__);
		}
		if ((job = TAILQ_FIRST(&w->jobs)) == NULL) {
			worker_unlock(&w->mutex);
			break;
		}
		TAILQ_REMOVE(&w->jobs, job, entry);
		w->running = job;
		worker_unlock(&w->mutex);

		if (!worker_job_cancelled(job))
			job->run(job);

		worker_lock(&w->mutex);
		w->running = NULL;
		worker_unlock(&w->mutex);
		worker_post(job);
	}
	return (NULL);
}

/* Call done() of the finished jobs in completion order; count them. */
static int
worker_drain(void)
{
	struct worker_jobs	 batch;
	struct worker_job	*job;
	int			 n = 0;

	TAILQ_INIT(&batch);
	worker_lock(&done_mutex);
	TAILQ_CONCAT(&batch, &done_jobs, entry);
	worker_unlock(&done_mutex);
	while ((job = TAILQ_FIRST(&batch)) != NULL) {
		TAILQ_REMOVE(&batch, job, entry);
		job->done(job);
		n++;
	}
	return (n);
}

/* The eventfd is readable: reset it and drain. Loop thread. */
static void
worker_wake_cb(evutil_socket_t fd, __unused short what,
    __unused void *arg)
{
	uint64_t	n;

	if (read(fd, &n, sizeof(n)) == -1 && errno != EAGAIN)
		log_warn("%s: eventfd", __func__);
	(void)worker_drain();
}

/* Set run and done, cancelled to 0 and cut_fd to -1. */
void
worker_job_init(struct worker_job *job, void (*run)(struct worker_job *),
    void (*done)(struct worker_job *))
{
	job->run = run;
	job->done = done;
	job->cancelled = 0;
	job->cut_fd = -1;
}

/* Return whether job was cancelled. Any thread. */
int
worker_job_cancelled(struct worker_job *job)
{
	return (__atomic_load_n(&job->cancelled, __ATOMIC_ACQUIRE));
}

/*
 * Set or clear (-1) the cut_fd of job. Worker thread, from run(). A job
 * already cancelled has its new socket shut down at once: the cut that
 * cancelled it came before, and it must not block again.
 */
void
worker_job_set_cut_fd(struct worker_job *job, int fd)
{
	worker_lock(&cut_mutex);
	job->cut_fd = fd;
	if (fd != -1 && worker_job_cancelled(job) &&
	    shutdown(fd, SHUT_RDWR) == -1 && errno != ENOTCONN)
		log_warn("%s: shutdown", __func__);
	worker_unlock(&cut_mutex);
}

/* Create the shared eventfd and its event on base. */
int
worker_init(struct event_base *base)
{
	if (wake_fd != -1)
		fatalx("%s: already initialised", __func__);
	if ((wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		log_warn("%s: eventfd", __func__);
		return (-1);
	}
	wake_ev = event_new(base, wake_fd, EV_READ | EV_PERSIST,
	    worker_wake_cb, NULL);
	if (wake_ev == NULL || event_add(wake_ev, NULL) == -1) {
		log_warnx("%s: cannot watch the eventfd", __func__);
		if (wake_ev != NULL)
			event_free(wake_ev);
		wake_ev = NULL;
		(void)close(wake_fd);
		wake_fd = -1;
		return (-1);
	}
	return (0);
}

/* Start a worker thread named name. Loop thread. */
struct worker *
worker_create(const char *name)
{
	struct worker	*w;
	sigset_t	 all, old;
	int		 error;

	if (wake_fd == -1)
		fatalx("%s: worker_init not called", __func__);
	w = xcalloc(1, sizeof(*w));
	if (pthread_mutex_init(&w->mutex, NULL) != 0 ||
	    pthread_cond_init(&w->cond, NULL) != 0)
		fatalx("%s: pthread_mutex_init", __func__);
	TAILQ_INIT(&w->jobs);
	(void)strlcpy(w->name, name, sizeof(w->name));

	/* Signals belong to the loop (evsignal_new); the thread inherits. */
	if (sigfillset(&all) == -1)
		fatal("%s: sigfillset", __func__);
	if ((error = pthread_sigmask(SIG_SETMASK, &all, &old)) != 0)
		fatalx("%s: pthread_sigmask: %s", __func__, strerror(error));
	if ((error = pthread_create(&w->thread, NULL, worker_main, w)) != 0)
		fatalx("%s: pthread_create: %s", __func__, strerror(error));
	if ((error = pthread_sigmask(SIG_SETMASK, &old, NULL)) != 0)
		fatalx("%s: pthread_sigmask: %s", __func__, strerror(error));
	log_debug("%s: %s", __func__, w->name);
	return (w);
}

/* Queue job on w. Takes ownership of job. Loop thread. */
void
worker_submit(struct worker *w, struct worker_job *job)
{
	if (job->run == NULL || job->done == NULL)
		fatalx("%s: job without run or done", __func__);
	worker_lock(&w->mutex);
	if (w->stopping)
		fatalx("%s: worker %s is stopping", __func__, w->name);
	TAILQ_INSERT_TAIL(&w->jobs, job, entry);
	if (pthread_cond_signal(&w->cond) != 0)
		fatalx("%s: pthread_cond_signal", __func__);
	worker_unlock(&w->mutex);
}

/* Cancel the running and queued jobs of w. Loop thread. */
void
worker_cancel(struct worker *w)
{
	struct worker_job	*job;

	worker_lock(&w->mutex);
	/* Queued first: they complete before the running job can. */
	worker_drop_queued(w);
	if ((job = w->running) != NULL) {
		__atomic_store_n(&job->cancelled, 1, __ATOMIC_RELEASE);
		worker_lock(&cut_mutex);
		if (job->cut_fd != -1 &&
		    shutdown(job->cut_fd, SHUT_RDWR) == -1 &&
		    errno != ENOTCONN)
			log_warn("%s: %s: shutdown", __func__, w->name);
		worker_unlock(&cut_mutex);
	}
	worker_unlock(&w->mutex);
}

/* Stop w after its current job, join its thread and free it. */
void
worker_free(struct worker *w)
{
	int	error;

	if (w == NULL)
		return;
	worker_lock(&w->mutex);
	w->stopping = 1;
	worker_drop_queued(w);
	if (pthread_cond_signal(&w->cond) != 0)
		fatalx("%s: pthread_cond_signal", __func__);
	worker_unlock(&w->mutex);
	if ((error = pthread_join(w->thread, NULL)) != 0)
		fatalx("%s: pthread_join: %s", __func__, strerror(error));
	log_debug("%s: %s", __func__, w->name);
	if (pthread_cond_destroy(&w->cond) != 0 ||
	    pthread_mutex_destroy(&w->mutex) != 0)
		fatalx("%s: pthread_mutex_destroy", __func__);
	free(w);
}

/* Drain the done list, then free the event and close the eventfd. */
void
worker_shutdown(void)
{
	if (wake_fd == -1)
		return;
	if (wake_ev != NULL)
		event_free(wake_ev);
	wake_ev = NULL;
	/* No worker is left to post; loop all the same. */
	while (worker_drain() > 0)
		continue;
	(void)close(wake_fd);
	wake_fd = -1;
}
