/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Monotonic instants and wall-clock timestamps in microseconds (contract
 * in include/lq-time.h).
 */

#include <time.h>

#include "log.h"
#include "lq-time.h"

/* Return the current monotonic instant. */
lq_mono_t
lq_mono_now(void)
{
	struct timespec	ts;
	lq_mono_t	now;

	/* CLOCK_MONOTONIC cannot fail on Linux with a valid pointer. */
	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		fatal("clock_gettime(CLOCK_MONOTONIC)");
	now.us = (int64_t)ts.tv_sec * LQ_USEC_PER_SEC + ts.tv_nsec / 1000;
	return (now);
}

/* Return t moved by usec microseconds (which may be negative). */
lq_mono_t
lq_mono_add(lq_mono_t t, int64_t usec)
{
	t.us += usec;
	return (t);
}

/* Return a - b in microseconds. */
int64_t
lq_mono_sub(lq_mono_t a, lq_mono_t b)
{
	return (a.us - b.us);
}

/* Compare two instants like strcmp. */
int
lq_mono_cmp(lq_mono_t a, lq_mono_t b)
{
	return (a.us < b.us ? -1 : a.us > b.us);
}

/* Say whether deadline has been reached at now. */
int
lq_mono_passed(lq_mono_t deadline, lq_mono_t now)
{
	return (now.us >= deadline.us);
}

/* Return wall-clock time in microseconds since the epoch. */
int64_t
lq_wall_now_us(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		fatal("clock_gettime(CLOCK_REALTIME)");
	return ((int64_t)ts.tv_sec * LQ_USEC_PER_SEC + ts.tv_nsec / 1000);
}
