/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The bench's event log (contract in evlog.h).
 */

#include <stdarg.h>
#include <stdlib.h>

#include "compat/queue.h"
#include "evlog.h"
#include "log.h"
#include "sim.h"
#include "xmalloc.h"

/* Enough for hours of a busy bench; past it lines are not kept. */
#define EVLOG_MAX	100000

struct evlog_line {
	char				*text;
	TAILQ_ENTRY(evlog_line)		 entry;
};

/* Guarded by sim_lock(). */
static TAILQ_HEAD(, evlog_line)	lines = TAILQ_HEAD_INITIALIZER(lines);
static unsigned int		nlines;

/* Append a line to the log. */
void
evlog_add(const char *fmt, ...)
{
	struct evlog_line	*l;
	va_list			 ap;

	if (nlines >= EVLOG_MAX)
		return;
	l = xcalloc(1, sizeof(*l));
	va_start(ap, fmt);
	(void)xvasprintf(&l->text, fmt, ap);
	va_end(ap);
	TAILQ_INSERT_TAIL(&lines, l, entry);
	nlines++;
	log_info("event: %s", l->text);
}

/* Call fn for every line. */
void
evlog_foreach(void (*fn)(void *, const char *), void *arg)
{
	struct evlog_line	*l;

	sim_lock();
	TAILQ_FOREACH(l, &lines, entry)
		fn(arg, l->text);
	sim_unlock();
}
