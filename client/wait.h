/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Waiting for a phone (wait.c): the commands that test a phone wait for
 * one that is being plugged, identified or trusted instead of failing,
 * and say on standard error what they wait for. They poll GET
 * /v1/devices; nothing here changes anything in linkqd.
 */

#ifndef LQ_CLIENT_WAIT_H
#define LQ_CLIENT_WAIT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define WAIT_FOREVER		INT64_MAX
/* What test, qualify and wiggle wait by default, in seconds. */
#define WAIT_DEFAULT_S		60

/* What a wait_check_cb makes of the device list. */
enum wait_state {
	WAIT_READY,		/* done waiting */
	WAIT_MORE,		/* why says for what, in a few words */
	WAIT_GIVE_UP		/* why says what is wrong; no use waiting */
};

/*
 * Look at the devices array of GET /v1/devices. On WAIT_READY the
 * callback keeps what it needs from it in arg.
 */
typedef enum wait_state (*wait_check_cb)(json_t *, void *, char *, size_t);

/*
 * Poll the device list until cb says ready (0), for at most timeout
 * seconds (0: look once, WAIT_FOREVER; then LQ_EXIT_NO_DEVICE). Each
 * new reason to wait is printed once. A callback that gives up (the
 * request cannot be met: name one of several phones), Ctrl-C and an
 * error end it with LQ_EXIT_USAGE, its reason printed.
 */
int	 wait_devices(wait_check_cb, void *, int64_t);
/* Whether the last wait ended with Ctrl-C. */
int	 wait_interrupted(void);

/* What wait_testable() found: the device a run can go to now. */
struct wait_target {
	char		 udid[128];
	char		 port[64];
	json_int_t	 attachment;
	int		 waited;	/* it was not ready at the first look */
};

/*
 * Wait for the device a run would go to (by UDID, else port, else the
 * only one on USB) to be attached, identified and trusted, or reachable
 * on endpoint 0 alone in recovery or DFU mode.
 */
int	 wait_testable(const char *, const char *, int64_t,
	    struct wait_target *);
/*
 * POST /v1/runs with body once udid is ready: wait for it, and again if
 * the start is refused because it stopped being ready in between (409),
 * all within wait seconds. The run's id, or -1 with *ret set to the exit
 * status (the error printed).
 */
json_int_t wait_run_start(json_t *, const char *, int64_t, int *);
/* Parse --wait's argument: a span, "0" or "forever"; -1 if bad. */
int64_t	 wait_span(const char *);

#endif /* LQ_CLIENT_WAIT_H */
