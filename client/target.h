/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The device a command tests (target.c): the options that name it
 * (PORT, -u UDID), its cable and profile, how long to wait for it, and
 * getting it ready: waiting for it (wait.c), then on a terminal asking
 * which cable is in its port (ask.c). test, qualify and wiggle share
 * them.
 */

#ifndef LQ_CLIENT_TARGET_H
#define LQ_CLIENT_TARGET_H

#include <getopt.h>
#include <stdint.h>

#include "client.h"
#include "linkq.h"
#include "wait.h"

struct target_opts {
	const char	*udid;		/* -u */
	const char	*port;		/* the argument */
	const char	*cable;		/* --cable, or the one asked */
	const char	*profile;	/* --profile */
	int64_t		 wait;		/* --wait, --no-wait */
	char		 asked[LQ_LABEL_MAX + 2];
};

/* Add to a command's option table. */
#define TARGET_LONG_OPTIONS \
	{ "cable", required_argument, NULL, 'c' }, \
	{ "no-wait", no_argument, NULL, 'n' }, \
	{ "profile", required_argument, NULL, 'p' }, \
	{ "udid", required_argument, NULL, 'u' }, \
	{ "wait", required_argument, NULL, 'w' }
#define TARGET_SHORT_OPTIONS	"u:"

void	 target_init(struct target_opts *, const char *);
/*
 * Take option ch of command name: 1 if it was one of the target's, 0
 * if not. A bad value ends the program with the usage (exit 2).
 */
int	 target_option(const char *, int, const char *, struct target_opts *);
/*
 * The arguments after the options: at most a PORT, not with -u. 0, or
 * the exit status after the error is printed.
 */
int	 target_args(const char *, int, char **, struct target_opts *);
/*
 * Wait for the device; then, on a terminal, ask which cable is in its
 * port if nobody has said since it was plugged and --cable was not
 * given. 0 with *wt and *qt (its port, cable and attachment), or the
 * exit status of the wait.
 */
int	 target_ready(struct target_opts *, struct wait_target *,
	    struct qualify_target *);

#endif /* LQ_CLIENT_TARGET_H */
