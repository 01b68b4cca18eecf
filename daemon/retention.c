/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Retention (contract in retention.h). One timer: a pass of steps runs
 * back to back (RETENTION_STEP_ROWS each, with the loop free between
 * them) until a step deletes less than a full step, then the timer
 * waits a day.
 */

#include <stdint.h>

#include <event2/event.h>

#include "log.h"
#include "lq-time.h"
#include "retention.h"
#include "store.h"

#define RETENTION_STEP_ROWS	5000
#define RETENTION_DAY_US	(INT64_C(86400) * LQ_USEC_PER_SEC)

static struct event	*timer;
static struct store	*store;
static unsigned int	 days;
static int64_t		 pass_rows;

/* Arm the timer to fire after us microseconds. */
static void
retention_arm(int64_t us)
{
	struct timeval	tv;

	tv.tv_sec = us / LQ_USEC_PER_SEC;
	tv.tv_usec = us % LQ_USEC_PER_SEC;
	if (evtimer_add(timer, &tv) == -1)
		log_warnx("retention: cannot arm the timer");
}

/* One step of a pass. */
static void
retention_cb(evutil_socket_t fd, short what, void *unused)
{
	int64_t	n, before;

	(void)fd;
	(void)what;
	(void)unused;
	if (days == 0)
		return;
	before = lq_wall_now_us() - (int64_t)days * RETENTION_DAY_US;
	if ((n = store_prune(store, before, RETENTION_STEP_ROWS)) < 0) {
		retention_arm(RETENTION_DAY_US);
		return;
	}
	pass_rows += n;
	if (n == RETENTION_STEP_ROWS) {
		retention_arm(0);
		return;
	}
	if (pass_rows > 0)
		log_info("retention: deleted %lld raw rows older than %u days",
		    (long long)pass_rows, days);
	pass_rows = 0;
	retention_arm(RETENTION_DAY_US);
}

/* Start pruning to ndays (0: keep everything). */
void
retention_start(struct event_base *base, struct store *s,
    unsigned int ndays)
{
	store = s;
	if ((timer = evtimer_new(base, retention_cb, NULL)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	retention_set_days(ndays);
}

/* Keep ndays from now on; a change starts a pass at once. */
void
retention_set_days(unsigned int ndays)
{
	if (timer == NULL || ndays == days)
		return;
	days = ndays;
	(void)evtimer_del(timer);
	pass_rows = 0;
	if (days > 0)
		retention_arm(0);
}

void
retention_stop(void)
{
	if (timer != NULL)
		event_free(timer);
	timer = NULL;
}
