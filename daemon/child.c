/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Worker processes, the loop's side (contract in child.h), after the
 * parent processes of OpenBSD's privilege-separated daemons.
 *
 * DESIGN: jobs come back in the order sent, so the jobs a process has
 * are one FIFO and every message about a job names the head (a message
 * for any other is a broken protocol). A dead process's jobs move to a
 * list of their own that a zero-timeout event completes, so that done()
 * never runs inside child_submit or child_cancel, and the completion
 * loop never touches c again once it has started calling done(), which
 * may free c. Reaping after SIGKILL waits (waitpid without WNOHANG):
 * the process is gone or going, and a zombie must not stay.
 */

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "child-main.h"
#include "child.h"
#include "compat/compat.h"
#include "compat/queue.h"
#include "log.h"
#include "lq-status.h"
#include "lq-time.h"
#include "msg.h"
#include "xmalloc.h"

/* The worker's end of the socketpair and its shared page, in it. */
#define CHILD_FD		3
#define CHILD_SHM_FD		4

TAILQ_HEAD(child_jobs, child_job);

struct child {
	char			 udid[44];
	char			*folder;
	pid_t			 pid;		/* -1: no process */
	int			 fd;		/* our end, or -1 */
	struct msg_shared	*shared;	/* its page, or NULL */
	struct event		*read_ev;
	struct event		*kill_ev;	/* the earliest due job */
	struct event		*fail_ev;	/* completes failed jobs */
	struct event		*send_ev;	/* sends the outbox */
	struct msg_out		 outbox[MSG_BATCH_MAX]; /* jobs to send */
	u_int			 nout;
	struct child_jobs	 jobs;		/* sent, in order */
	struct child_jobs	 failed;	/* of a dead process */
	int32_t			 epoch;		/* cancels so far */
	int			 killed;	/* by us, for a deadline */
	TAILQ_ENTRY(child)	 entry;
};
TAILQ_HEAD(children, child);

extern char			**environ;

static struct event_base	*base;
static int			 to_stderr;
static uint32_t			 last_id;
static struct children		 children = TAILQ_HEAD_INITIALIZER(children);
static struct msg		 inbox;		/* loop thread only */

static void	child_read_cb(evutil_socket_t, short, void *);
static void	child_kill_cb(evutil_socket_t, short, void *);
static void	child_fail_cb(evutil_socket_t, short, void *);
static void	child_send_cb(evutil_socket_t, short, void *);
static void	child_send(struct child *);
static void	child_dead(struct child *, const char *);

void
children_init(struct event_base *b, int use_stderr)
{
	base = b;
	to_stderr = use_stderr;
}

void
child_job_init(struct child_job *job, int type,
    void (*done)(struct child_job *))
{
	memset(job, 0, sizeof(*job));
	job->req.type = type;
	job->done = done;
}

struct child *
child_new(const char *udid, const char *folder)
{
	struct child	*c;

	c = xcalloc(1, sizeof(*c));
	(void)strlcpy(c->udid, udid, sizeof(c->udid));
	c->folder = xstrdup(folder);
	c->pid = -1;
	c->fd = -1;
	TAILQ_INIT(&c->jobs);
	TAILQ_INIT(&c->failed);
	if ((c->kill_ev = evtimer_new(base, child_kill_cb, c)) == NULL ||
	    (c->fail_ev = evtimer_new(base, child_fail_cb, c)) == NULL ||
	    (c->send_ev = evtimer_new(base, child_send_cb, c)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	TAILQ_INSERT_TAIL(&children, c, entry);
	return (c);
}

pid_t
child_pid(const struct child *c)
{
	return (c->pid);
}

uint32_t
child_running(const struct child *c, int64_t *started_us)
{
	uint32_t	id;
	int64_t		started;

	if (c->shared == NULL)
		return (0);
	/* The process writes the start, then the id: read until stable. */
	do {
		id = __atomic_load_n(&c->shared->running, __ATOMIC_ACQUIRE);
		started = __atomic_load_n(&c->shared->started_us,
		    __ATOMIC_ACQUIRE);
	} while (id != __atomic_load_n(&c->shared->running,
	    __ATOMIC_ACQUIRE));
	if (started_us != NULL)
		*started_us = started;
	return (id);
}

/*
 * fd, or a copy of it above the worker's fixed descriptors, so that
 * neither dup2 in the worker overwrites the other's source nor lands
 * on itself (which keeps close-on-exec); -1 if it cannot be copied.
 * The caller closes what it gets when it is not fd.
 */
static int
child_fd_high(int fd)
{
	if (fd > CHILD_SHM_FD)
		return (fd);
	return (fcntl(fd, F_DUPFD_CLOEXEC, CHILD_SHM_FD + 1));
}

/* The shared page of a new worker, mapped; its descriptor in *fd. */
static struct msg_shared *
child_shared_new(int *fd)
{
	void	*p;

	*fd = memfd_create("linkqd-worker", MFD_CLOEXEC);
	if (*fd == -1)
		return (NULL);
	if (ftruncate(*fd, sizeof(struct msg_shared)) == -1 ||
	    (p = mmap(NULL, sizeof(struct msg_shared), PROT_READ |
	    PROT_WRITE, MAP_SHARED, *fd, 0)) == MAP_FAILED) {
		(void)close(*fd);
		*fd = -1;
		return (NULL);
	}
	return (p);
}

/* Start c's process; -1 with *cause (allocated) if it cannot. */
static int
child_spawn(struct child *c, char **cause)
{
	static char			 arg0[] = "linkqd";
	static char			 mode[] = CHILD_ARG;
	static char			 dest_stderr[] = "stderr";
	static char			 dest_syslog[] = "syslog";
	posix_spawn_file_actions_t	 fa;
	posix_spawnattr_t		 sa;
	sigset_t			 none;
	char				 fdarg[16], shmarg[16], ppid[16];
	char				 verbose[16];
	char				*argv[10];
	int				 sv[2], theirs, shm, shm_high, error;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0, sv) == -1) {
		xasprintf(cause, "cannot start the worker process: "
		    "socketpair: %s", strerror(errno));
		return (-1);
	}
	if ((c->shared = child_shared_new(&shm)) == NULL) {
		xasprintf(cause, "cannot start the worker process: shared "
		    "memory: %s", strerror(errno));
		(void)close(sv[0]);
		(void)close(sv[1]);
		return (-1);
	}
	theirs = child_fd_high(sv[1]);
	shm_high = child_fd_high(shm);
	/* The worker blocks on its end; only ours is non-blocking. */
	if (theirs != -1)
		(void)fcntl(theirs, F_SETFL, 0);
	(void)snprintf(fdarg, sizeof(fdarg), "%d", CHILD_FD);
	(void)snprintf(shmarg, sizeof(shmarg), "%d", CHILD_SHM_FD);
	(void)snprintf(ppid, sizeof(ppid), "%ld", (long)getpid());
	(void)snprintf(verbose, sizeof(verbose), "%d", log_getverbose());
	argv[0] = arg0;
	argv[1] = mode;
	argv[2] = fdarg;
	argv[3] = shmarg;
	argv[4] = ppid;
	argv[5] = verbose;
	argv[6] = to_stderr ? dest_stderr : dest_syslog;
	argv[7] = c->udid;
	argv[8] = c->folder;
	argv[9] = NULL;

	(void)sigemptyset(&none);
	if ((error = posix_spawn_file_actions_init(&fa)) != 0 ||
	    (error = posix_spawnattr_init(&sa)) != 0 ||
	    (error = posix_spawnattr_setsigmask(&sa, &none)) != 0 ||
	    (error = posix_spawnattr_setflags(&sa,
	    POSIX_SPAWN_SETSIGMASK)) != 0)
		fatalx("%s: posix_spawn setup: %s", __func__, strerror(error));
	if (theirs == -1 || shm_high == -1)
		error = errno;
	else if ((error = posix_spawn_file_actions_adddup2(&fa, theirs,
	    CHILD_FD)) == 0 && (error = posix_spawn_file_actions_adddup2(&fa,
	    shm_high, CHILD_SHM_FD)) == 0)
		error = posix_spawn(&c->pid, "/proc/self/exe", &fa, &sa,
		    argv, environ);
	(void)posix_spawn_file_actions_destroy(&fa);
	(void)posix_spawnattr_destroy(&sa);
	if (theirs != -1 && theirs != sv[1])
		(void)close(theirs);
	if (shm_high != -1 && shm_high != shm)
		(void)close(shm_high);
	(void)close(sv[1]);
	(void)close(shm);
	if (error != 0) {
		c->pid = -1;
		(void)close(sv[0]);
		(void)munmap(c->shared, sizeof(*c->shared));
		c->shared = NULL;
		xasprintf(cause, "cannot start the worker process: %s",
		    strerror(error));
		return (-1);
	}
	c->fd = sv[0];
	c->killed = 0;
	c->read_ev = event_new(base, c->fd, EV_READ | EV_PERSIST,
	    child_read_cb, c);
	if (c->read_ev == NULL || event_add(c->read_ev, NULL) == -1)
		fatalx("%s: cannot watch the worker's socket", __func__);
	log_debug("device %s: worker process %ld started", c->udid,
	    (long)c->pid);
	return (0);
}

/* Arm kill_ev for the earliest due job of c, if any. */
static void
child_arm(struct child *c)
{
	struct child_job	*job;
	struct timeval		 tv;
	int64_t			 due = 0, left;

	TAILQ_FOREACH(job, &c->jobs, entry)
		if (job->due_us != 0 && (due == 0 || job->due_us < due))
			due = job->due_us;
	(void)evtimer_del(c->kill_ev);
	if (due == 0)
		return;
	if ((left = due - lq_mono_now().us) < 0)
		left = 0;
	tv.tv_sec = left / LQ_USEC_PER_SEC;
	tv.tv_usec = left % LQ_USEC_PER_SEC;
	if (evtimer_add(c->kill_ev, &tv) == -1)
		log_warnx("device %s: cannot arm the worker's deadline",
		    c->udid);
}

/* Fail job with nothing run (a dead process, or none to start). */
static void
child_fail_later(struct child *c, struct child_job *job, int status,
    const char *detail)
{
	memset(&job->rep, 0, sizeof(job->rep));
	job->rep.status = status;
	job->rep.corrupt_offset = -1;
	job->detail = detail != NULL ? xstrdup(detail) : NULL;
	TAILQ_INSERT_TAIL(&c->failed, job, entry);
	event_active(c->fail_ev, EV_TIMEOUT, 0);
}

/* How long a job of job's kind may take from its sending, or 0. */
static int64_t
child_job_deadline(const struct child_job *job)
{
	switch (job->req.type) {
	case MSG_JOB_CLOSE:
		return (CHILD_CLOSE_US);
	case MSG_JOB_IDENTIFY:
	case MSG_JOB_PAIR:
		return (CHILD_IDENTIFY_US);
	default:
		return (0);	/* a probe: the run's deadlines cancel it */
	}
}

void
child_submit(struct child *c, struct child_job *job)
{
	char	*cause = NULL;

	job->id = ++last_id;
	job->req.epoch = c->epoch;
	job->due_us = 0;
	job->started_us = 0;
	memset(&job->progress, 0, sizeof(job->progress));
	if (c->pid == -1 && job->req.type == MSG_JOB_CLOSE) {
		/* Nothing is open without a process. */
		child_fail_later(c, job, LQ_OK, NULL);
		return;
	}
	if (c->pid == -1 && child_spawn(c, &cause) == -1) {
		log_warnx("device %s: %s", c->udid, cause);
		child_fail_later(c, job, LQ_EIO, cause);
		free(cause);
		return;
	}
	job->sent_us = lq_mono_now().us;
	if (child_job_deadline(job) != 0)
		job->due_us = job->sent_us + child_job_deadline(job);
	/* With nothing before it, it starts now (child.h). */
	if (TAILQ_EMPTY(&c->jobs))
		job->started_us = job->sent_us;
	TAILQ_INSERT_TAIL(&c->jobs, job, entry);
	if (job->due_us != 0)
		child_arm(c);
	/*
	 * Sent at the end of this loop turn, with the others submitted in
	 * it (a batch of results brings a batch of jobs): one wake-up.
	 */
	if (msg_pack(&c->outbox[c->nout++], MSG_JOB, job->id, &job->req,
	    sizeof(job->req), NULL, 0) == -1)
		fatalx("%s: msg_pack", __func__);
	if (c->nout == nitems(c->outbox))
		child_send(c);
	else
		event_active(c->send_ev, EV_TIMEOUT, 0);
}

/*
 * Send the jobs in c's outbox. Their payloads are in the jobs, which
 * stay in c->jobs until done() (child_dead clears the outbox first).
 */
static void
child_send(struct child *c)
{
	u_int	n = c->nout;

	if (n == 0 || c->fd == -1)
		return;
	c->nout = 0;
	if (msg_send_packed(c->fd, c->outbox, n) == -1)
		/* Else it died and its wait status says how. */
		child_dead(c, errno == EAGAIN ? "stopped reading its jobs" :
		    NULL);
}

/* The loop turn that submitted jobs is over: send them. */
static void
child_send_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	child_send(arg);
}

void
child_cancel(struct child *c)
{
	struct child_job	*job;
	struct msg_cancel	 mc;
	union sigval		 sv;
	int64_t			 due;

	if (c->pid == -1 || TAILQ_EMPTY(&c->jobs))
		return;
	/* The jobs before the cancel reach the process before it. */
	child_send(c);
	if (c->pid == -1)
		return;
	mc.epoch = ++c->epoch;
	due = lq_mono_now().us + CHILD_GRACE_US;
	TAILQ_FOREACH(job, &c->jobs, entry)
		if (job->due_us == 0 || job->due_us > due)
			job->due_us = due;
	/* The message first: the signal's handler may find it queued. */
	if (msg_send(c->fd, MSG_CANCEL, 0, &mc, sizeof(mc), NULL, 0) == -1)
		log_warn("device %s: cannot send a cancel", c->udid);
	sv.sival_int = mc.epoch;
	if (sigqueue(c->pid, SIGUSR1, sv) == -1)
		log_warn("device %s: cannot signal the worker", c->udid);
	child_arm(c);
}

/*
 * Kill and reap c's process; its wait status in *status and, from its
 * shared page, what it was running in *running (id, 0 if none; NULL
 * allowed). The kill comes before the close, which would have the
 * worker exit on its own (and, in a sanitizer's build, report what it
 * never freed).
 */
static void
child_reap(struct child *c, int *status, struct msg_shared *running)
{
	if (c->pid != -1 && kill(c->pid, SIGKILL) == -1 && errno != ESRCH)
		log_warn("device %s: kill", c->udid);
	if (c->read_ev != NULL)
		event_free(c->read_ev);
	c->read_ev = NULL;
	if (c->fd != -1)
		(void)close(c->fd);
	c->fd = -1;
	c->nout = 0;		/* its jobs fail with it */
	*status = 0;
	if (c->pid != -1) {
		while (waitpid(c->pid, status, 0) == -1) {
			if (errno != EINTR) {
				log_warn("device %s: waitpid", c->udid);
				break;
			}
		}
		c->pid = -1;
	}
	/* Dead, it writes no more: the page is read as it was left. */
	if (running != NULL)
		memset(running, 0, sizeof(*running));
	if (c->shared == NULL)
		return;
	if (running != NULL) {
		running->started_us = c->shared->started_us;
		running->running = c->shared->running;
	}
	(void)munmap(c->shared, sizeof(*c->shared));
	c->shared = NULL;
}

/* What became of the process, for people. */
static void
child_why(struct child *c, int status, const char *cause, char *buf,
    size_t len)
{
	if (c->killed)
		(void)snprintf(buf, len, "the worker process did not answer "
		    "by its deadline and was killed");
	else if (cause != NULL)
		(void)snprintf(buf, len, "the worker process %s and was "
		    "killed", cause);
	else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		(void)snprintf(buf, len, "the worker process was killed "
		    "(signal %d, %s) by something other than linkqd; the "
		    "kernel's out-of-memory killer, or a person",
		    WTERMSIG(status), strsignal(WTERMSIG(status)));
	else if (WIFSIGNALED(status))
		/* Its memory limit makes a runaway allocation one, too. */
		(void)snprintf(buf, len, "the worker process died (signal "
		    "%d, %s); the phone's reply may have been malformed",
		    WTERMSIG(status), strsignal(WTERMSIG(status)));
	else if (WIFEXITED(status))
		/* A fatal error, or a sanitizer's report, in the log. */
		(void)snprintf(buf, len, "the worker process exited with "
		    "status %d (its error is in linkqd's log); the phone's "
		    "reply may have been malformed", WEXITSTATUS(status));
	else
		(void)snprintf(buf, len, "the worker process ended");
}

/*
 * c's process is dead or broken (cause, or NULL to read the wait
 * status): reap it and fail its jobs, on a later loop turn. The job it
 * was running (its shared page says which) failed with it; the others
 * never ran, or ran and had their results held (msg.h), which are
 * lost: neither is evidence. With none running, a first job that is
 * not a probe (an identify, say) fails with the process all the same.
 */
static void
child_dead(struct child *c, const char *cause)
{
	struct child_job	*job;
	struct msg_shared	 running;
	char			 why[256];
	int			 status, first = 1;

	child_reap(c, &status, &running);
	child_why(c, status, cause, why, sizeof(why));
	log_warnx("device %s: %s", c->udid, why);
	(void)evtimer_del(c->kill_ev);
	while ((job = TAILQ_FIRST(&c->jobs)) != NULL) {
		TAILQ_REMOVE(&c->jobs, job, entry);
		child_fail_later(c, job, LQ_ECANCELED, why);
		if (job->id == running.running || (first &&
		    running.running == 0 && job->req.type != MSG_JOB_PROBE)) {
			job->rep.status = c->killed ? LQ_ETIMEDOUT :
			    LQ_EPROTO;
			job->rep.halted = 1;
		}
		if (job->id == running.running &&
		    job->req.type == MSG_JOB_PROBE) {
			job->rep.ran = 1;
			job->rep.latency_us = lq_mono_now().us -
			    running.started_us;
			job->rep.ts_us = lq_wall_now_us() -
			    job->rep.latency_us;
		}
		first = 0;
	}
	c->killed = 0;
}

/* A job of c is past due: the process is stuck; kill it. */
static void
child_kill_cb(evutil_socket_t fd, short what, void *arg)
{
	struct child		*c = arg;
	struct child_job	*job;
	int64_t			 now = lq_mono_now().us;

	(void)fd;
	(void)what;
	TAILQ_FOREACH(job, &c->jobs, entry) {
		if (job->due_us != 0 && job->due_us <= now) {
			c->killed = 1;
			child_dead(c, NULL);
			return;
		}
	}
	child_arm(c);
}

/* Complete the jobs of a dead process, in order. */
static void
child_fail_cb(evutil_socket_t fd, short what, void *arg)
{
	struct child		*c = arg;
	struct child_jobs	 batch;
	struct child_job	*job;

	(void)fd;
	(void)what;
	TAILQ_INIT(&batch);
	TAILQ_CONCAT(&batch, &c->failed, entry);
	/* done() may free c: it is not touched again. */
	while ((job = TAILQ_FIRST(&batch)) != NULL) {
		TAILQ_REMOVE(&batch, job, entry);
		job->done(job);
	}
}

/*
 * The job after one that ended at ended_us (the process's monotonic
 * clock, the same as ours) started then, or when it was sent if later.
 */
static void
child_next_started(struct child *c, int64_t ended_us)
{
	struct child_job	*next = TAILQ_FIRST(&c->jobs);
	int64_t			 now = lq_mono_now().us;

	if (next == NULL || next->started_us != 0)
		return;
	next->started_us = ended_us > next->sent_us ? ended_us :
	    next->sent_us;
	if (next->started_us > now)
		next->started_us = now;
}

/*
 * One message from c's process: 0, 1 if c may be gone (its last job's
 * done() ran), or -1 if the process broke the protocol.
 */
static int
child_take(struct child *c, const struct msg *m)
{
	struct child_job	*job = TAILQ_FIRST(&c->jobs);
	char			*strs[2];
	int			 last;

	if (job == NULL || m->hdr.id != job->id)
		return (-1);
	switch (m->hdr.type) {
	case MSG_PROGRESS:
		if (msg_get(m, &job->progress, sizeof(job->progress), NULL,
		    0) == -1)
			return (-1);
		return (0);
	case MSG_DONE:
		if (msg_get(m, &job->rep, sizeof(job->rep), strs, 2) == -1)
			return (-1);
		job->detail = strs[0];
		job->devlog_detail = strs[1];
		TAILQ_REMOVE(&c->jobs, job, entry);
		child_next_started(c, job->rep.ended_us);
		child_arm(c);
		/* done() may free c once no job is left (child.h). */
		last = TAILQ_EMPTY(&c->jobs);
		job->done(job);
		return (last);
	default:
		return (-1);
	}
}

/*
 * c's socket is readable: the messages there (a batch of held results
 * comes at once), up to the end or an error.
 */
static void
child_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct child	*c = arg;
	pid_t		 pid = c->pid;
	int		 rv, taken, n;

	(void)what;
	for (n = 0; n < MSG_BATCH_MAX; n++) {
		/* A done() may have had this process die and another start. */
		if (n > 0 && c->pid != pid)
			return;
		rv = msg_recv(fd, &inbox, MSG_DONTWAIT);
		if (rv == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (rv != 1)
			break;
		if ((taken = child_take(c, &inbox)) == 1)
			return;
		if (taken == -1) {
			child_dead(c, "sent a malformed message");
			return;
		}
	}
	if (n == MSG_BATCH_MAX)
		return;		/* the rest on the next turn */
	if (rv == -1 && errno == EPROTO)
		child_dead(c, "sent a malformed message");
	else
		child_dead(c, NULL);
}

void
child_free(struct child *c)
{
	struct child_job	*job;
	int			 status;

	if (c == NULL)
		return;
	child_reap(c, &status, NULL);
	TAILQ_CONCAT(&c->failed, &c->jobs, entry);
	while ((job = TAILQ_FIRST(&c->failed)) != NULL) {
		log_warnx("device %s: %s: a job was still out", c->udid,
		    __func__);
		TAILQ_REMOVE(&c->failed, job, entry);
		memset(&job->rep, 0, sizeof(job->rep));
		job->rep.status = LQ_ECANCELED;
		job->done(job);
	}
	TAILQ_REMOVE(&children, c, entry);
	event_free(c->kill_ev);
	event_free(c->fail_ev);
	event_free(c->send_ev);
	free(c->folder);
	free(c);
}

void
children_shutdown(void)
{
	struct child	*c;
	int		 status;

	TAILQ_FOREACH(c, &children, entry)
		child_reap(c, &status, NULL);
}
