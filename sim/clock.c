/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The clock thread (contract in clock.h): a list of actions sorted by
 * time, a condition variable to wake the thread when an earlier one is
 * added, and CLOCK_MONOTONIC for the waits, as for lq_mono_t.
 */

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"
#include "compat/queue.h"
#include "log.h"
#include "xmalloc.h"

struct clock_action {
	lq_mono_t			 when;
	uint64_t			 order;	/* ties run in order added */
	clock_fn			 fn;
	void				*arg;
	uint64_t			 cookie;
	TAILQ_ENTRY(clock_action)	 entry;
};

static pthread_mutex_t	clock_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	clock_cond;
static TAILQ_HEAD(, clock_action) clock_actions =
    TAILQ_HEAD_INITIALIZER(clock_actions);
static uint64_t		clock_order;
static int		clock_stopping;
static pthread_t	clock_tid;
/* The action running on the clock thread, if any: when it was due. */
static _Thread_local int	clock_in_action;
static _Thread_local lq_mono_t	clock_action_due;

/* Schedule an action. Any thread. */
void
clock_at(lq_mono_t when, clock_fn fn, void *arg, uint64_t cookie)
{
	struct clock_action	*a, *before;

	a = xcalloc(1, sizeof(*a));
	a->when = when;
	a->fn = fn;
	a->arg = arg;
	a->cookie = cookie;
	if (pthread_mutex_lock(&clock_mutex) != 0)
		fatalx("%s: lock", __func__);
	a->order = clock_order++;
	TAILQ_FOREACH(before, &clock_actions, entry) {
		if (lq_mono_cmp(a->when, before->when) < 0)
			break;
	}
	if (before != NULL)
		TAILQ_INSERT_BEFORE(before, a, entry);
	else
		TAILQ_INSERT_TAIL(&clock_actions, a, entry);
	(void)pthread_cond_signal(&clock_cond);
	if (pthread_mutex_unlock(&clock_mutex) != 0)
		fatalx("%s: unlock", __func__);
}

/* Run actions as they fall due, forever. */
static void *
clock_thread(void *unused)
{
	struct clock_action	*a;
	struct timespec		 ts;
	lq_mono_t		 now;

	(void)unused;
	if (pthread_mutex_lock(&clock_mutex) != 0)
		fatalx("%s: lock", __func__);
	while (!clock_stopping) {
		a = TAILQ_FIRST(&clock_actions);
		now = lq_mono_now();
		if (a == NULL) {
			(void)pthread_cond_wait(&clock_cond, &clock_mutex);
			continue;
		}
		if (!lq_mono_passed(a->when, now)) {
			ts.tv_sec = a->when.us / 1000000;
			ts.tv_nsec = (long)(a->when.us % 1000000) * 1000;
			(void)pthread_cond_timedwait(&clock_cond,
			    &clock_mutex, &ts);
			continue;
		}
		TAILQ_REMOVE(&clock_actions, a, entry);
		if (pthread_mutex_unlock(&clock_mutex) != 0)
			fatalx("%s: unlock", __func__);
		clock_in_action = 1;
		clock_action_due = a->when;
		a->fn(a->arg, a->cookie);
		clock_in_action = 0;
		free(a);
		if (pthread_mutex_lock(&clock_mutex) != 0)
			fatalx("%s: lock", __func__);
	}
	while ((a = TAILQ_FIRST(&clock_actions)) != NULL) {
		TAILQ_REMOVE(&clock_actions, a, entry);
		free(a);
	}
	if (pthread_mutex_unlock(&clock_mutex) != 0)
		fatalx("%s: unlock", __func__);
	return (NULL);
}

/*
 * The time to count new timers from: inside an action, when that action
 * was due; elsewhere, now.
 */
lq_mono_t
clock_base(void)
{
	if (clock_in_action)
		return (clock_action_due);
	return (lq_mono_now());
}

/* Start the clock thread; its waits use CLOCK_MONOTONIC. */
void
clock_start(void)
{
	pthread_condattr_t	attr;

	if (pthread_condattr_init(&attr) != 0 ||
	    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&clock_cond, &attr) != 0)
		fatalx("%s: condition variable", __func__);
	(void)pthread_condattr_destroy(&attr);
	if (pthread_create(&clock_tid, NULL, clock_thread, NULL) != 0)
		fatalx("%s: pthread_create", __func__);
}

/*
 * Stop the clock: the action running, if any, finishes; the others are
 * dropped. Afterwards nothing scheduled runs, so what actions point at
 * may be freed.
 */
void
clock_stop(void)
{
	if (pthread_mutex_lock(&clock_mutex) != 0)
		fatalx("%s: lock", __func__);
	clock_stopping = 1;
	(void)pthread_cond_signal(&clock_cond);
	if (pthread_mutex_unlock(&clock_mutex) != 0)
		fatalx("%s: unlock", __func__);
	if (pthread_join(clock_tid, NULL) != 0)
		fatalx("%s: pthread_join", __func__);
}
