/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The evidence sources, one table (contract in sources.h).
 */

#include <stdlib.h>
#include <string.h>

#include "compat/compat.h"
#include "kmsg.h"
#include "muxquery.h"
#include "run.h"
#include "sources.h"
#include "usb.h"
#include "usbmon.h"

static void	sources_usbmuxd(struct source_state *);

static const struct {
	const char	*name;
	int		 verdicts;	/* verdicts rely on it */
	void		(*state)(struct source_state *);
} sources[] = {
	{ "usbmuxd",		0, sources_usbmuxd },
	{ "libusb",		0, usb_source },
	{ "kmsg",		1, kmsg_source },
	{ "usbmon",		0, usbmon_source },
	{ "device syslog",	0, run_devlog_source }
};

/* Fill st as off: the reason after status's "word: ", and advice. */
void
source_off(struct source_state *st, const char *status, const char *advice)
{
	const char	*colon = strstr(status, ": ");

	st->on = 0;
	(void)strlcpy(st->reason, colon != NULL ? colon + 2 : status,
	    sizeof(st->reason));
	st->advice = advice;
}

/* usbmuxd: the devices and the probes' way to them. */
static void
sources_usbmuxd(struct source_state *st)
{
	char	*cause = NULL;

	switch (muxquery_reachable(&cause)) {
	case MUXQUERY_UP:
		st->on = 1;
		(void)strlcpy(st->reason, "connected", sizeof(st->reason));
		break;
	case MUXQUERY_GONE:
		source_off(st, "", "usbmuxd starts when a phone is plugged, "
		    "and linkqd reconnects within a second");
		(void)strlcpy(st->reason, cause, sizeof(st->reason));
		break;
	default:
		source_off(st, "", "systemctl start usbmuxd, or plug in an "
		    "iPhone; linkqd reconnects by itself");
		(void)strlcpy(st->reason, cause, sizeof(st->reason));
		break;
	}
	free(cause);
}

/* Call cb with each source's name and state, in the table's order. */
void
sources_each(void (*cb)(const char *, int, const struct source_state *,
    void *), void *arg)
{
	struct source_state	 st;
	size_t			 i;

	for (i = 0; i < nitems(sources); i++) {
		memset(&st, 0, sizeof(st));
		sources[i].state(&st);
		cb(sources[i].name, sources[i].verdicts, &st, arg);
	}
}

static void
sources_json_add(const char *name, int verdicts,
    const struct source_state *st, void *arg)
{
	json_t	*list = arg, *o;

	o = json_pack("{s:s, s:b, s:b, s:s}", "name", name, "on", st->on,
	    "verdicts", verdicts, "reason", st->reason);
	if (!st->on && st->advice != NULL)
		(void)json_object_set_new(o, "advice",
		    json_string(st->advice));
	(void)json_array_append_new(list, o);
}

/* The sources as JSON (sources.h). */
json_t *
sources_json(void)
{
	json_t	*list = json_array();

	sources_each(sources_json_add, list);
	return (list);
}
