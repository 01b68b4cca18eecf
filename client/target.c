/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The device a command tests: its options, and getting it ready
 * (target.h).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "compat/compat.h"
#include "client.h"
#include "linkq.h"
#include "target.h"
#include "wait.h"

void
target_init(struct target_opts *o, const char *profile)
{
	memset(o, 0, sizeof(*o));
	o->profile = profile;
	o->wait = WAIT_DEFAULT_S;
}

int
target_option(const char *name, int ch, const char *arg,
    struct target_opts *o)
{
	switch (ch) {
	case 'c':
		o->cable = arg;
		return (1);
	case 'n':
		o->wait = 0;
		return (1);
	case 'p':
		o->profile = arg;
		return (1);
	case 'u':
		o->udid = arg;
		return (1);
	case 'w':
		if ((o->wait = wait_span(arg)) < 0) {
			fprintf(stderr, "linkq: %s: --wait takes a span such "
			    "as 30s or 5m, 0 or forever\n", name);
			client_usage_exit(name);
		}
		return (1);
	default:
		return (0);
	}
}

int
target_args(const char *name, int argc, char **argv, struct target_opts *o)
{
	const char	*why;

	if (argc > 1 || (argc == 1 && o->udid != NULL))
		return (client_usage(name));
	if (argc == 1)
		o->port = argv[0];
	if (o->cable != NULL && (why = lq_label_invalid(o->cable)) != NULL) {
		fprintf(stderr, "linkq: bad cable label: %s\n", why);
		return (LQ_EXIT_USAGE);
	}
	return (0);
}

int
target_ready(struct target_opts *o, struct wait_target *wt,
    struct qualify_target *qt)
{
	int	ret;

	/* The questions below are about the phone once it is there. */
	if ((ret = wait_testable(o->udid, o->port, o->wait, wt)) != 0)
		return (ret);
	if (qualify_target(wt->udid, NULL, qt) == -1)
		memset(qt, 0, sizeof(*qt));
	/* A cable unconfirmed since a replug: ask, on a terminal. */
	if (o->cable == NULL && ask_possible() && qt->port[0] != '\0' &&
	    qt->cable[0] == '\0' && ask_cable(qt->port, qt->last_cable,
	    o->asked, sizeof(o->asked)))
		o->cable = o->asked;
	return (0);
}
