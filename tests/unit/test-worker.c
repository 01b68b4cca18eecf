/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Unit tests for the worker threads (daemon/worker.c) on a real libevent
 * base: FIFO order, many workers at once, done() on the loop thread,
 * cancelling a run() blocked on a socket, cancelled queued jobs,
 * worker_free with jobs queued and worker_shutdown with jobs not yet
 * drained. The loop runs with a deadline until the expected number of
 * done() calls arrived; nothing waits with a bare sleep.
 */

#include <sys/socket.h>

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "compat/compat.h"
#include "log.h"
#include "worker.h"
#include "xmalloc.h"

#define DEADLINE_SEC	10

struct test_job {
	struct worker_job	 job;
	int			 index;
	int			 ran;		/* run() was called */
	int			 run_seq;	/* order of run() calls */
	pthread_t		 run_thread;
	char			 run_name[16];
	ssize_t			 nread;		/* what read() returned */
	int			 read_errno;
	struct test_job		*wait_for;	/* run() waits for its cancel */
};

/* Loop thread only, but for run_count (atomics). */
static struct event_base	*base;
static pthread_t		 loop_thread;
static int			 run_count;
static int			 ndone;
static int			 done_off_loop;
static struct test_job		*done_order[1000];	/* maybe freed */
static int			 done_index[1000];

/* A blocking run() has started (read_run, wait_cancel_run). */
static pthread_mutex_t		 started_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t		 started_cond = PTHREAD_COND_INITIALIZER;
static int			 run_started;

static int
setup(void **state)
{
	(void)state;
	if ((base = event_base_new()) == NULL)
		return (-1);
	loop_thread = pthread_self();
	run_count = 0;
	ndone = 0;
	done_off_loop = 0;
	run_started = 0;
	memset(done_order, 0, sizeof(done_order));
	memset(done_index, 0, sizeof(done_index));
	return (worker_init(base));
}

static int
teardown(void **state)
{
	(void)state;
	worker_shutdown();
	event_base_free(base);
	base = NULL;
	return (0);
}

/* Record the order and thread of the call. Worker thread. */
static void
record_run(struct worker_job *job)
{
	struct test_job	*tj = (struct test_job *)job;

	tj->ran = 1;
	tj->run_seq = __atomic_fetch_add(&run_count, 1, __ATOMIC_RELAXED);
	tj->run_thread = pthread_self();
	if (pthread_getname_np(pthread_self(), tj->run_name,
	    sizeof(tj->run_name)) != 0)
		tj->run_name[0] = '\0';
}

/* Tell wait_started that run() has started. Worker thread. */
static void
mark_started(void)
{
	if (pthread_mutex_lock(&started_mutex) != 0)
		abort();
	run_started = 1;
	if (pthread_cond_signal(&started_cond) != 0)
		abort();
	if (pthread_mutex_unlock(&started_mutex) != 0)
		abort();
}

/* Block in read() on cut_fd until data, EOF or shutdown. */
static void
read_run(struct worker_job *job)
{
	struct test_job	*tj = (struct test_job *)job;
	char		 c;

	record_run(job);
	mark_started();
	/* The loop does not change cut_fd once the job is submitted. */
	tj->nread = read(job->cut_fd, &c, 1);
	tj->read_errno = tj->nread == -1 ? errno : 0;
}

/* Wait, with a deadline, until tj->wait_for is cancelled. */
static void
wait_cancel_run(struct worker_job *job)
{
	struct test_job	*tj = (struct test_job *)job;
	struct timespec	 ms = { 0, 1000000 };
	time_t		 end = time(NULL) + DEADLINE_SEC;

	record_run(job);
	mark_started();
	while (!worker_job_cancelled(&tj->wait_for->job) &&
	    time(NULL) < end)
		(void)nanosleep(&ms, NULL);
}

/* Record the completion and free the job. Loop thread. */
static void
record_done(struct worker_job *job)
{
	struct test_job	*tj = (struct test_job *)job;

	if (!pthread_equal(pthread_self(), loop_thread))
		done_off_loop++;
	if (ndone < (int)nitems(done_order)) {
		done_order[ndone] = tj;
		done_index[ndone] = tj->index;
	}
	ndone++;
}

/* Like record_done, and free the job. */
static void
free_done(struct worker_job *job)
{
	record_done(job);
	free(job);
}

static struct test_job *
new_job(int index, void (*run)(struct worker_job *),
    void (*done)(struct worker_job *))
{
	struct test_job	*tj;

	tj = xcalloc(1, sizeof(*tj));
	worker_job_init(&tj->job, run, done);
	tj->index = index;
	return (tj);
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

/* Run the loop until n done() calls arrived or the deadline passed. */
static void
run_until(int n)
{
	struct event	*timer;
	struct timeval	 tv = { DEADLINE_SEC, 0 };
	time_t		 end = time(NULL) + DEADLINE_SEC;

	timer = evtimer_new(base, deadline_cb, NULL);
	assert_non_null(timer);
	assert_int_equal(evtimer_add(timer, &tv), 0);
	while (ndone < n && time(NULL) <= end)
		assert_int_not_equal(event_base_loop(base, EVLOOP_ONCE), -1);
	event_free(timer);
	assert_int_equal(ndone, n);
}

/* Wait until read_run has started. Loop thread. */
static void
wait_started(void)
{
	struct timespec	 end;

	assert_int_equal(clock_gettime(CLOCK_REALTIME, &end), 0);
	end.tv_sec += DEADLINE_SEC;
	assert_int_equal(pthread_mutex_lock(&started_mutex), 0);
	while (!run_started) {
		if (pthread_cond_timedwait(&started_cond, &started_mutex,
		    &end) == ETIMEDOUT)
			break;
	}
	assert_int_equal(pthread_mutex_unlock(&started_mutex), 0);
	assert_true(run_started);
}

/* One worker runs and completes its jobs in submission order. */
static void
test_fifo(void **state)
{
	struct test_job	*jobs[50];
	struct worker	*w;
	size_t		 i;

	(void)state;
	w = worker_create("lq-fifo");
	for (i = 0; i < nitems(jobs); i++) {
		jobs[i] = new_job(i, record_run, record_done);
		worker_submit(w, &jobs[i]->job);
	}
	run_until(nitems(jobs));
	for (i = 0; i < nitems(jobs); i++) {
		assert_ptr_equal(done_order[i], jobs[i]);
		assert_true(jobs[i]->ran);
		assert_int_equal(jobs[i]->run_seq, (int)i);
		assert_false(worker_job_cancelled(&jobs[i]->job));
		assert_string_equal(jobs[i]->run_name, "lq-fifo");
	}
	worker_free(w);
	for (i = 0; i < nitems(jobs); i++)
		free(jobs[i]);
	assert_int_equal(done_off_loop, 0);
}

/* 8 workers × 100 jobs: every job runs and completes exactly once. */
static void
test_parallel(void **state)
{
	struct test_job	*jobs[8][100];
	struct worker	*w[8];
	int		 seen[8][100];
	char		 name[32];
	int		 i, j;

	(void)state;
	for (i = 0; i < 8; i++) {
		(void)snprintf(name, sizeof(name), "lq-parallel-%d", i);
		w[i] = worker_create(name);
	}
	for (j = 0; j < 100; j++) {
		for (i = 0; i < 8; i++) {
			jobs[i][j] = new_job(i * 100 + j, record_run,
			    record_done);
			worker_submit(w[i], &jobs[i][j]->job);
		}
	}
	run_until(800);
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < 800; i++)
		seen[done_index[i] / 100][done_index[i] % 100]++;
	for (i = 0; i < 8; i++) {
		worker_free(w[i]);
		for (j = 0; j < 100; j++) {
			assert_int_equal(seen[i][j], 1);
			assert_true(jobs[i][j]->ran);
			/* Named, and the name cut to 15 characters. */
			assert_int_equal(strncmp(jobs[i][j]->run_name,
			    "lq-parallel-", 12), 0);
			free(jobs[i][j]);
		}
	}
	assert_int_equal(__atomic_load_n(&run_count, __ATOMIC_RELAXED), 800);
	assert_int_equal(done_off_loop, 0);
}

/* run() is on the worker thread, done() on the loop thread. */
static void
test_threads(void **state)
{
	struct test_job	*tj;
	struct worker	*w;

	(void)state;
	w = worker_create("a-name-longer-than-fifteen");
	tj = new_job(0, record_run, record_done);
	worker_submit(w, &tj->job);
	run_until(1);
	assert_int_equal(done_off_loop, 0);
	assert_false(pthread_equal(tj->run_thread, loop_thread));
	assert_string_equal(tj->run_name, "a-name-longer-t");
	worker_free(w);
	free(tj);
}

/*
 * A run() blocked in read() returns when worker_cancel shuts down its
 * cut_fd; the queued jobs behind it get done() with cancelled set and
 * their run() is never called; a job submitted later runs.
 */
static void
test_cancel(void **state)
{
	struct test_job	*blocked, *queued[5], *later;
	struct worker	*w;
	int		 sv[2];
	size_t		 i;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	w = worker_create("lq-cancel");
	blocked = new_job(0, read_run, record_done);
	blocked->job.cut_fd = sv[0];
	worker_submit(w, &blocked->job);
	for (i = 0; i < nitems(queued); i++) {
		queued[i] = new_job(1 + i, record_run, record_done);
		worker_submit(w, &queued[i]->job);
	}
	wait_started();
	worker_cancel(w);

	/* The queued jobs are posted before the blocked one can return. */
	run_until(1 + nitems(queued));
	assert_true(blocked->ran);
	assert_true(worker_job_cancelled(&blocked->job));
	assert_int_equal(blocked->nread, 0);	/* EOF after SHUT_RDWR */
	for (i = 0; i < nitems(queued); i++) {
		assert_false(queued[i]->ran);
		assert_true(worker_job_cancelled(&queued[i]->job));
	}
	for (i = 0; i < nitems(queued); i++)
		assert_ptr_equal(done_order[i], queued[i]);

	later = new_job(9, record_run, record_done);
	worker_submit(w, &later->job);
	run_until(2 + nitems(queued));
	assert_true(later->ran);
	assert_false(worker_job_cancelled(&later->job));
	assert_int_equal(done_off_loop, 0);

	worker_free(w);
	free(blocked);
	for (i = 0; i < nitems(queued); i++)
		free(queued[i]);
	free(later);
	(void)close(sv[0]);
	(void)close(sv[1]);
}

/* A cancel with nothing to cancel, and of a job without cut_fd. */
static void
test_cancel_idle(void **state)
{
	struct test_job	*tj;
	struct worker	*w;

	(void)state;
	w = worker_create("lq-idle");
	worker_cancel(w);
	tj = new_job(0, record_run, record_done);
	worker_submit(w, &tj->job);
	/* Queued, running or finished: one done() in every case. */
	worker_cancel(w);
	run_until(1);
	worker_free(w);
	free(tj);
	worker_free(NULL);
}

/*
 * worker_free lets the running job finish, cancels the queued ones and
 * joins; their done() runs afterwards on the loop.
 */
static void
test_free_queued(void **state)
{
	struct test_job	*first, *queued[4];
	struct worker	*w;
	size_t		 i;

	(void)state;
	w = worker_create("lq-free");
	first = new_job(0, wait_cancel_run, free_done);
	for (i = 0; i < nitems(queued); i++)
		queued[i] = new_job(1 + i, record_run, free_done);
	/* first runs until worker_free has cancelled queued[0]. */
	first->wait_for = queued[0];
	worker_submit(w, &first->job);
	for (i = 0; i < nitems(queued); i++)
		worker_submit(w, &queued[i]->job);
	wait_started();
	worker_free(w);
	assert_int_equal(ndone, 0);
	assert_int_equal(__atomic_load_n(&run_count, __ATOMIC_RELAXED), 1);
	run_until(1 + nitems(queued));
	assert_int_equal(done_off_loop, 0);
	/* Cancelled while queued, so before first finished. */
	for (i = 0; i < nitems(queued); i++)
		assert_int_equal(done_index[i], 1 + (int)i);
	assert_int_equal(done_index[nitems(queued)], 0);
}

/* worker_shutdown calls done() of the jobs the loop has not drained. */
static void
test_shutdown_undrained(void **state)
{
	struct test_job	*tj;
	struct worker	*w[3];
	int		 i, j;

	(void)state;
	for (i = 0; i < 3; i++)
		w[i] = worker_create("lq-shutdown");
	for (j = 0; j < 20; j++) {
		for (i = 0; i < 3; i++) {
			tj = new_job(j, record_run, free_done);
			worker_submit(w[i], &tj->job);
		}
	}
	for (i = 0; i < 3; i++)
		worker_free(w[i]);
	assert_int_equal(ndone, 0);
	worker_shutdown();
	assert_int_equal(ndone, 60);
	assert_int_equal(done_off_loop, 0);
	worker_shutdown();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fifo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parallel, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_idle, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_free_queued, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_undrained,
		    setup, teardown),
	};

	log_init(LOG_TO_STDERR, 0, "test-worker");
	return (cmocka_run_group_tests_name("worker", tests, NULL, NULL));
}
