/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The worker process of one attached device: linkqd started again by
 * the loop (child.c) as
 *
 *	linkqd --worker-fd FD SHMFD PPID VERBOSE LOGDEST UDID FOLDER
 *
 * an internal mode of linkqd, never for people (linkqd(8)). It holds
 * the device's session (session.h) and runs the jobs the loop sends on
 * the socket FD (msg.h), one at a time, in order, saying which it runs
 * in the shared memory SHMFD (struct msg_shared), which it maps and
 * closes; it is the only place where linkqd calls libimobiledevice.
 *
 * Hygiene, first thing: PR_SET_PDEATHSIG(SIGKILL) and a check that
 * PPID is still the parent, so that it never outlives linkqd; every
 * descriptor but 0, 1, 2 and FD closed (no database, no control
 * socket); PR_SET_NO_NEW_PRIVS; no core files; a limit on its address
 * space (CHILD_MEM_MAX) unless built with a sanitizer, whose shadow
 * memory needs far more.
 *
 * Cancels: the loop sends MSG_CANCEL and SIGUSR1 with the cancel's
 * epoch (sigqueue). The handler only records the epoch and shuts down
 * (shutdown(2)) the socket the running job waits on, if the job is
 * older than the cancel; both are async-signal-safe. The loop kills the
 * process if that is not enough.
 *
 * Results: a quick probe's result may be held while the next job runs
 * and sent with later ones (msg.h, MSG_JOB_HOLD), decided between jobs;
 * the shared page says which job runs meanwhile.
 *
 * Exit: 0 when the loop closes its end; 1 on a broken socket or a
 * message it cannot parse. Logs go to standard error or syslog, as
 * linkqd's own, named after the device.
 */

#ifndef LQ_CHILD_MAIN_H
#define LQ_CHILD_MAIN_H

#include "compat/compat.h"

struct msg_done;
struct msg_job;
struct session;

/* The hidden first argument of the worker mode. */
#define CHILD_ARG		"--worker-fd"
/* The address space a worker may use. */
#define CHILD_MEM_MAX		(1024ULL * 1024 * 1024)

/* linkqd's main in worker mode (argv[1] is CHILD_ARG); never returns. */
__dead void	 child_main(int, char **);

/*
 * Run one job (child-jobs.c) on session s: fill done, and *detail and
 * *devlog_detail (allocated or NULL). *halt is the process's halt flag:
 * set when a probe fails, so that the probe queued behind it does not
 * run until the loop sends one with MSG_JOB_GO. Worker process only.
 */
void	 child_job_exec(struct session *, const struct msg_job *,
	    struct msg_done *, char **, char **, int *);

#endif /* LQ_CHILD_MAIN_H */
