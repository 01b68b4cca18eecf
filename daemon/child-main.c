/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The worker process's start and main loop (contract in child-main.h).
 *
 * DESIGN: a cancel applies to every job sent before it, so the loop
 * numbers its cancels (epochs) and stamps each job with the epoch it
 * was sent in; a job older than the highest cancel seen is cancelled.
 * Each MSG_CANCEL is followed by SIGUSR1 with the epoch: the handler
 * cuts the watched socket of a running job, and before the next job
 * starts every message already on the socket is read, so a MSG_CANCEL
 * sent behind queued jobs reaches them first (without a cancel, jobs
 * are read only when none is queued, a batch at a time, which saves a
 * read per probe). Standard
 * signals do not queue, so a second SIGUSR1 sent while one is pending
 * is lost: its message is read all the same, the first one's cut is
 * then all there is, and the loop's kill deadline covers the rest.
 * The watch is cleared before a socket is closed (session.c), so the
 * handler never shuts down a reused descriptor.
 *
 * Every message to the loop wakes it, and on a small machine the loop
 * then takes the CPU from the next probe (bench/README.md,
 * lockdown-query). So the result of a MSG_JOB_HOLD job that worked is
 * held while the job queued behind it runs, and sent with the next
 * ones in one sendmmsg when a result must not wait (a failure, a
 * string, nothing queued), at MSG_HOLD_MAX, or once the first has
 * waited MSG_HOLD_US, all decided between jobs. No timer sends them
 * while a probe blocks: a signal would cut short the library's own
 * sleeps (libimobiledevice 1.3.0 sleeps 100 ms in its TLS handshake
 * loop) and change what the probe measures. The loop times the probe
 * the process says it runs (struct msg_shared), not the oldest it has
 * no result for. A job that crashes the process loses the results held
 * before it: the loop counts one probe as the crash and the rest as
 * never run, so nothing is counted that was not seen.
 */

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "child-main.h"
#include "compat/compat.h"
#include "compat/queue.h"
#include "log.h"
#include "lq-status.h"
#include "lq-time.h"
#include "msg.h"
#include "probe.h"
#include "session.h"
#include "xmalloc.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CHILD_SANITIZED		1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define CHILD_SANITIZED		1
#endif
#endif

/* A job read off the socket, waiting for its turn. */
struct child_queued {
	uint32_t		 id;
	struct msg_job		 job;
	TAILQ_ENTRY(child_queued) entry;
};
TAILQ_HEAD(child_queue, child_queued);

/* Shared with the SIGUSR1 handler: sig_atomic_t only. */
static volatile sig_atomic_t	 cut_epoch;	/* highest cancel seen */
static volatile sig_atomic_t	 job_epoch = INT_MAX; /* running job's */
static volatile sig_atomic_t	 watch_fd = -1;
static volatile sig_atomic_t	 cancel_seen;	/* read the socket */

/* Results held back (see above), oldest first. */
static struct msg_done		 held[MSG_HOLD_MAX];
static uint32_t			 held_id[MSG_HOLD_MAX];
static struct msg_out		 held_out[MSG_HOLD_MAX];
static u_int			 nheld;
static int64_t			 held_since_us;	/* the first's end */

static int			 sock = -1;
static struct msg_shared	*shared;	/* the loop reads it */
static uint32_t			 running_id;
static int64_t			 progress_sent_us;
static struct child_queue	 queue = TAILQ_HEAD_INITIALIZER(queue);
static struct msg		 inbox;

/* SIGUSR1 from the loop: a cancel; cut the running job if older. */
static void
child_cancel_handler(int sig, siginfo_t *si, void *uc)
{
	int	saved = errno;

	(void)sig;
	(void)uc;
	if (si->si_code != SI_QUEUE || si->si_pid != getppid())
		return;
	cancel_seen = 1;
	if (si->si_value.sival_int > cut_epoch)
		cut_epoch = si->si_value.sival_int;
	if (cut_epoch > job_epoch && watch_fd != -1)
		(void)shutdown(watch_fd, SHUT_RDWR);
	errno = saved;
}

/* Send the held results, oldest first. */
static void
child_flush(void)
{
	static const char *const	 none[2] = { NULL, NULL };
	u_int				 i;

	/* Held results have no strings, but MSG_DONE carries two. */
	for (i = 0; i < nheld; i++)
		if (msg_pack(&held_out[i], MSG_DONE, held_id[i], &held[i],
		    sizeof(held[i]), none, 2) == -1)
			fatalx("worker: msg_pack");
	if (nheld > 0 && msg_send_packed(sock, held_out, nheld) == -1)
		fatal("worker: cannot send results");
	nheld = 0;
}

/* session_watcher: the socket the next blocking call waits on. */
static void
child_watch(void *arg, int fd)
{
	(void)arg;
	watch_fd = fd;
	/* A cancel that came first cuts this socket at once. */
	if (fd != -1 && cut_epoch > job_epoch)
		(void)shutdown(fd, SHUT_RDWR);
}

/* session_watcher: whether the running job was cancelled. */
static int
child_cancelled(void *arg)
{
	(void)arg;
	return (cut_epoch > job_epoch);
}

/* session_watcher: a probe moved; tell the loop, at most so often. */
static void
child_progress(void *arg, const struct probe_progress *p)
{
	int64_t	now = lq_mono_now().us;

	(void)arg;
	if (progress_sent_us != 0 && now - progress_sent_us < MSG_PROGRESS_US)
		return;
	progress_sent_us = now;
	/* The loop hears of a job only once the ones before it are in. */
	child_flush();
	if (msg_send(sock, MSG_PROGRESS, running_id, p, sizeof(*p), NULL,
	    0) == -1)
		fatal("worker: cannot send progress");
}

static const struct session_watcher	child_watcher = {
	child_watch, child_cancelled, child_progress, NULL
};

/* One message from the loop: a cancel takes effect, a job queues. */
static void
child_take(const struct msg *m)
{
	struct child_queued	*q;
	struct msg_cancel	 mc;

	switch (m->hdr.type) {
	case MSG_CANCEL:
		if (msg_get(m, &mc, sizeof(mc), NULL, 0) == -1)
			fatalx("worker: malformed cancel");
		if (mc.epoch > cut_epoch)
			cut_epoch = mc.epoch;
		break;
	case MSG_JOB:
		q = xcalloc(1, sizeof(*q));
		if (msg_get(m, &q->job, sizeof(q->job), NULL, 0) == -1)
			fatalx("worker: malformed job");
		q->id = m->hdr.id;
		TAILQ_INSERT_TAIL(&queue, q, entry);
		break;
	default:
		fatalx("worker: unknown message %u", m->hdr.type);
	}
}

/*
 * Read the messages waiting on the socket, as many as one recvmmsg
 * takes (flags: MSG_DONTWAIT, or MSG_WAITFORONE to wait for one): the
 * loop sends a batch of jobs at once. The count, 0 if none was there;
 * exits when the loop has gone or sent something it cannot parse.
 */
static int
child_read(int flags)
{
	static struct msg_small	 got[MSG_BATCH_MAX];
	int			 i, n;

	n = msg_recv_small(sock, got, nitems(got), flags);
	if (n == -1 && errno == EAGAIN)
		return (0);
	if (n == 0)
		exit(0);	/* the loop closed its end */
	if (n == -1)
		fatal("worker: cannot read from linkqd");
	for (i = 0; i < n; i++) {
		msg_from_small(&inbox, &got[i]);
		child_take(&inbox);
	}
	return (n);
}

/*
 * Whether the result of q, done, may wait: a probe that worked, asked
 * to hold, with no string, a job queued behind it and room left.
 */
static int
child_may_hold(const struct child_queued *q, const struct msg_done *done,
    char *const *strs)
{
	if ((q->job.flags & MSG_JOB_HOLD) == 0 || !done->ran ||
	    done->status != LQ_OK || done->halted || strs[0] != NULL ||
	    strs[1] != NULL || nheld >= MSG_HOLD_MAX || (nheld > 0 &&
	    done->ended_us - held_since_us >= MSG_HOLD_US))
		return (0);
	if (TAILQ_EMPTY(&queue))
		(void)child_read(MSG_DONTWAIT);
	return (!TAILQ_EMPTY(&queue));
}

/* Run q (or answer that it was cancelled) and send or hold its result. */
static void
child_run(struct session *s, struct child_queued *q, int *halt)
{
	struct msg_done	 done;
	char		*strs[2] = { NULL, NULL };

	if (q->job.epoch < cut_epoch) {
		memset(&done, 0, sizeof(done));
		done.status = LQ_ECANCELED;
		done.corrupt_offset = -1;
	} else {
		running_id = q->id;
		progress_sent_us = 0;
		job_epoch = q->job.epoch;
		__atomic_store_n(&shared->started_us, lq_mono_now().us,
		    __ATOMIC_RELEASE);
		__atomic_store_n(&shared->running, q->id, __ATOMIC_RELEASE);
		child_job_exec(s, &q->job, &done, &strs[0], &strs[1], halt);
		__atomic_store_n(&shared->running, 0, __ATOMIC_RELEASE);
		job_epoch = INT_MAX;
		watch_fd = -1;
	}
	done.ended_us = lq_mono_now().us;
	if (child_may_hold(q, &done, strs)) {
		if (nheld == 0)
			held_since_us = done.ended_us;
		held[nheld] = done;
		held_id[nheld++] = q->id;
		return;
	}
	/* Strings are not held: the held ones go first, this one after. */
	child_flush();
	if (msg_send(sock, MSG_DONE, q->id, &done, sizeof(done),
	    (const char *const *)strs, 2) == -1)
		fatal("worker: cannot send a result");
	free(strs[0]);
	free(strs[1]);
}

/* Close every descriptor above 2 but keep. */
static void
child_close_fds(int keep)
{
	DIR		*dir;
	struct dirent	*de;
	const char	*errstr;
	int		 fd;

	if ((keep == 3 || close_range(3, (unsigned int)keep - 1, 0) == 0) &&
	    close_range((unsigned int)keep + 1, ~0U, 0) == 0)
		return;
	/* Kernels before 5.9: walk the open descriptors. */
	if ((dir = opendir("/proc/self/fd")) == NULL)
		fatal("worker: /proc/self/fd");
	while ((de = readdir(dir)) != NULL) {
		fd = (int)strtonum(de->d_name, 3, INT_MAX, &errstr);
		if (errstr == NULL && fd != keep && fd != dirfd(dir))
			(void)close(fd);
	}
	(void)closedir(dir);
}

/* Drop what a worker does not need; die with linkqd. */
static void
child_harden(pid_t ppid, int keep)
{
	struct rlimit	rl;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1)
		fatal("worker: PR_SET_PDEATHSIG");
	/* linkqd may have died before the line above. */
	if (getppid() != ppid)
		exit(1);
	child_close_fds(keep);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("worker: PR_SET_NO_NEW_PRIVS");
	rl.rlim_cur = rl.rlim_max = 0;
	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		fatal("worker: RLIMIT_CORE");
#ifndef CHILD_SANITIZED
	/* A runaway allocation in the library fails here, not the host. */
	rl.rlim_cur = rl.rlim_max = CHILD_MEM_MAX;
	if (setrlimit(RLIMIT_AS, &rl) == -1)
		fatal("worker: RLIMIT_AS");
#endif
}

/* SIGUSR1 cuts; a write to a socket the phone closed must not kill. */
static void
child_signals(void)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		fatal("worker: sigaction");
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = child_cancel_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	(void)sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) == -1)
		fatal("worker: sigaction");
}

void
child_main(int argc, char **argv)
{
	static char		 name[64];
	struct child_queued	*q;
	struct session		*s;
	const char		*errstr;
	pid_t			 ppid;
	int			 verbose, shm, halt = 0;

	if (argc != 9)
		errx(1, "%s is internal to linkqd", CHILD_ARG);
	sock = (int)strtonum(argv[2], 3, INT_MAX, &errstr);
	if (errstr != NULL)
		errx(1, "worker: descriptor %s", errstr);
	shm = (int)strtonum(argv[3], 3, INT_MAX, &errstr);
	if (errstr != NULL)
		errx(1, "worker: shared memory descriptor %s", errstr);
	ppid = (pid_t)strtonum(argv[4], 1, INT_MAX, &errstr);
	if (errstr != NULL)
		errx(1, "worker: parent %s", errstr);
	verbose = (int)strtonum(argv[5], 0, 9, &errstr);
	if (errstr != NULL)
		errx(1, "worker: verbosity %s", errstr);
	(void)snprintf(name, sizeof(name), "linkqd-worker[%.12s]", argv[7]);
	log_init(strcmp(argv[6], "stderr") == 0 ? LOG_TO_STDERR :
	    LOG_TO_SYSLOG, verbose, name);
	shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
	    MAP_SHARED, shm, 0);
	if (shared == MAP_FAILED)
		fatal("worker: cannot map the shared page");
	(void)close(shm);
	child_harden(ppid, sock);
	child_signals();

	s = session_new(argv[7], argv[8]);
	session_set_watcher(s, &child_watcher);
	log_debug("worker for %s started", argv[7]);
	for (;;) {
		while (TAILQ_EMPTY(&queue))
			(void)child_read(MSG_WAITFORONE);
		/* A cancel behind the queued jobs reaches them first. */
		if (cancel_seen) {
			cancel_seen = 0;
			while (child_read(MSG_DONTWAIT) > 0)
				continue;
		}
		q = TAILQ_FIRST(&queue);
		TAILQ_REMOVE(&queue, q, entry);
		child_run(s, q, &halt);
		free(q);
	}
}
