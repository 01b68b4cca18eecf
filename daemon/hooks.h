/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Hooks (linkq.conf(5), HOOKS), after smartd's -M exec: linkqd is quiet
 * until a link fails or degrades, then runs the user's command with the
 * facts in its environment. The events are named in one table
 * (hooks.c); run.c and devices-usb.c say when one happens.
 *
 * Firing: hooks_fire() takes the command of the configuration in force
 * and the facts, copies them and returns at once; it never blocks the
 * loop. At most HOOKS_RUNNING_MAX commands run at once and at most
 * HOOKS_QUEUED_MAX wait; beyond that an event's hook is dropped, and
 * the log says so.
 *
 * Running: posix_spawn(3) (linkqd has threads: never a bare fork), in
 * a process group of its own, from /, with standard input /dev/null,
 * standard output and error on one pipe that an event reads, and an
 * environment of its own (PATH, HOME and the LINKQ_ facts), not
 * linkqd's. Each line it writes is logged as "hook EVENT run N: LINE"
 * (or "device UDID" where no run is concerned), and so is how it ended.
 * At its timeout its process group gets SIGTERM, and SIGKILL
 * HOOKS_GRACE_US later if the command is still there.
 *
 * Reaping: by pid only (a pidfd tells when it ended), never
 * waitpid(-1): the worker processes of child.c are linkqd's children
 * too, and each side reaps only its own.
 *
 * Configuration: hooks_set_config() applies to the next events; hooks
 * queued or running keep the command and timeout they were fired with.
 * Shutdown: hooks_shutdown() drops the queued ones, sends SIGTERM to
 * the process groups of those running, reaps them within HOOKS_GRACE_US
 * (SIGKILL after), and makes later events no-ops.
 *
 * Threads: the loop thread only. Ownership: nothing passed in is kept.
 */

#ifndef LQ_HOOKS_H
#define LQ_HOOKS_H

#include <stdint.h>

#include <event2/event.h>

struct config;

/* Commands running at once, and waiting their turn, at most. */
#define HOOKS_RUNNING_MAX	4
#define HOOKS_QUEUED_MAX	16
/* From SIGTERM to SIGKILL, at a timeout or at shutdown. */
#define HOOKS_GRACE_US		(2 * 1000 * 1000)

/* The events, named in hooks.c's table (linkq.conf(5)). */
enum hook_event {
	HOOK_FAIL,
	HOOK_MARGINAL,
	HOOK_STRANDED,
	HOOK_DEGRADED,
	HOOK_EVENT_MAX = HOOK_DEGRADED
};
#define HOOK_EVENT_BIT(e)	(1U << (e))
#define HOOK_EVENTS_DEFAULT	(HOOK_EVENT_BIT(HOOK_FAIL) | \
				 HOOK_EVENT_BIT(HOOK_STRANDED) | \
				 HOOK_EVENT_BIT(HOOK_DEGRADED))

/* The facts of one event; a NULL string is unknown, passed as "". */
struct hook_facts {
	enum hook_event	 event;
	int64_t		 run_id;	/* 0: no run concerned */
	const char	*verdict;	/* PASS, MARGINAL, FAIL */
	const char	*reason;	/* the verdict's first, or why */
	const char	*udid;
	const char	*port;		/* port path, such as 1-2 */
	const char	*port_label;	/* NULL: the port has none */
	const char	*cable;		/* cable label */
};

/* An event's name, or NULL; and back, or -1. */
const char	*hook_event_name(int);
int		 hook_event_from_name(const char *);

/* Use base and cfg's [hooks]. */
void		 hooks_init(struct event_base *, const struct config *);
/* The next events use cfg's [hooks] (a reload). */
void		 hooks_set_config(const struct config *);
/* Whether an event would run a command: facts worth gathering. */
int		 hooks_wanted(enum hook_event);
/* Run the command for an event, if the configuration asks (above). */
void		 hooks_fire(const struct hook_facts *);
/* End every hook, bounded (above); later events run nothing. */
void		 hooks_shutdown(void);

#endif /* LQ_HOOKS_H */
