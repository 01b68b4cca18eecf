/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Hooks (contract in hooks.h): the spawn, the timeout, the output.
 *
 * DESIGN: a hook ends when its process is reaped, not when its pipe
 * closes: a program it left in the background (mail(1) may) can hold
 * the pipe for long, and that is not linkqd's to wait for. The pidfd
 * becomes readable when the process ends; then what it wrote is read
 * (bounded) and the pipe is closed. Without pidfds (an old kernel or a
 * seccomp filter), a timer asks waitpid(pid, WNOHANG) instead. The
 * process group is signalled only while the process is unreaped, so
 * the group id cannot have been reused.
 */

#include <sys/types.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "compat/compat.h"
#include "compat/queue.h"
#include "config.h"
#include "hooks.h"
#include "log.h"
#include "lq-time.h"
#include "xmalloc.h"

/* The vocabulary of events (linkq.conf(5), HOOKS). */
static const char *const hook_event_names[] = {
	[HOOK_FAIL] = "fail",
	[HOOK_MARGINAL] = "marginal",
	[HOOK_STRANDED] = "stranded",
	[HOOK_DEGRADED] = "degraded"
};

/* The PATH a command gets: systemd's default for services. */
#define HOOK_PATH	"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:" \
			"/sbin:/bin"
/* A line of output longer than this is logged in pieces. */
#define HOOK_LINE_MAX	512
/* Lines logged per hook; the rest is read and counted, not logged. */
#define HOOK_LINES_MAX	100
/* Read at its end at most: a background program may still write. */
#define HOOK_DRAIN_MAX	(64 * 1024)
/* How often waitpid is asked without a pidfd. */
#define HOOK_POLL_US	(100 * 1000)

struct hook {
	char			 what[96];	/* "hook fail run 12" */
	char			**argv;
	char			**envp;
	int64_t			 timeout_us;
	pid_t			 pid;		/* -1: not started */
	int			 pidfd;		/* -1: polled */
	int			 out;		/* the pipe, or -1 */
	struct event		*out_ev;
	struct event		*exit_ev;
	struct event		*timer_ev;
	int			 signalled;	/* 0, SIGTERM, SIGKILL */
	char			 line[HOOK_LINE_MAX + 1];
	size_t			 len;
	unsigned int		 lines;		/* read so far */
	TAILQ_ENTRY(hook)	 entry;
};
TAILQ_HEAD(hooks, hook);

static struct event_base	*base;
static const struct config	*config;
static struct hooks		 queued = TAILQ_HEAD_INITIALIZER(queued);
static struct hooks		 running = TAILQ_HEAD_INITIALIZER(running);
static u_int			 nqueued, nrunning;
static int			 stopping;

static void	hook_start_next(void);
static void	hook_end(struct hook *, int);

const char *
hook_event_name(int e)
{
	if (e < 0 || e > HOOK_EVENT_MAX)
		return (NULL);
	return (hook_event_names[e]);
}

int
hook_event_from_name(const char *name)
{
	int	e;

	for (e = 0; e <= HOOK_EVENT_MAX; e++) {
		if (strcmp(hook_event_names[e], name) == 0)
			return (e);
	}
	return (-1);
}

void
hooks_init(struct event_base *b, const struct config *cfg)
{
	base = b;
	config = cfg;
}

void
hooks_set_config(const struct config *cfg)
{
	config = cfg;
}

int
hooks_wanted(enum hook_event e)
{
	return (!stopping && config != NULL && config->hook_command != NULL &&
	    (config->hook_events & HOOK_EVENT_BIT(e)) != 0);
}

/* Free a NULL-terminated vector of strings. */
static void
hook_strv_free(char **v)
{
	size_t	i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* The command of cfg as an argv to spawn: split, or through sh -c. */
static char **
hook_argv(const struct config *cfg)
{
	char	**argv;
	size_t	  n;

	if (cfg->hook_shell) {
		argv = xcalloc(4, sizeof(*argv));
		argv[0] = xstrdup("/bin/sh");
		argv[1] = xstrdup("-c");
		argv[2] = xstrdup(cfg->hook_command);
		return (argv);
	}
	for (n = 0; cfg->hook_argv[n] != NULL; n++)
		;
	argv = xcalloc(n + 1, sizeof(*argv));
	for (n = 0; cfg->hook_argv[n] != NULL; n++)
		argv[n] = xstrdup(cfg->hook_argv[n]);
	return (argv);
}

/* The environment of a hook: its own, not linkqd's. */
static char **
hook_envp(const struct hook_facts *f)
{
	char	**envp;
	char	  run[32];
	size_t	  n = 0;

	envp = xcalloc(12, sizeof(*envp));
	envp[n++] = xstrdup("PATH=" HOOK_PATH);
	envp[n++] = xstrdup("HOME=/");
	xasprintf(&envp[n++], "LINKQ_EVENT=%s", hook_event_name(f->event));
	xasprintf(&envp[n++], "LINKQ_VERDICT=%s",
	    f->verdict != NULL ? f->verdict : "");
	xasprintf(&envp[n++], "LINKQ_PORT=%s", f->port != NULL ? f->port : "");
	if (f->port_label != NULL && *f->port_label != '\0')
		xasprintf(&envp[n++], "LINKQ_PORT_LABEL=%s", f->port_label);
	xasprintf(&envp[n++], "LINKQ_CABLE=%s",
	    f->cable != NULL ? f->cable : "");
	xasprintf(&envp[n++], "LINKQ_UDID=%s", f->udid != NULL ? f->udid : "");
	xasprintf(&envp[n++], "LINKQ_REASON=%s",
	    f->reason != NULL ? f->reason : "");
	run[0] = '\0';
	if (f->run_id > 0)
		(void)snprintf(run, sizeof(run), "%lld", (long long)f->run_id);
	xasprintf(&envp[n++], "LINKQ_RUN=%s", run);
	return (envp);
}

/* Free h, its events and descriptors; it is in no list. */
static void
hook_free(struct hook *h)
{
	if (h->out_ev != NULL)
		event_free(h->out_ev);
	if (h->exit_ev != NULL)
		event_free(h->exit_ev);
	if (h->timer_ev != NULL)
		event_free(h->timer_ev);
	if (h->out != -1)
		(void)close(h->out);
	if (h->pidfd != -1)
		(void)close(h->pidfd);
	hook_strv_free(h->argv);
	hook_strv_free(h->envp);
	free(h);
}

/* Log the line h has gathered, if any. */
static void
hook_flush_line(struct hook *h)
{
	if (h->len == 0)
		return;
	h->line[h->len] = '\0';
	if (++h->lines <= HOOK_LINES_MAX)
		log_info("%s: %s", h->what, h->line);
	else if (h->lines == HOOK_LINES_MAX + 1)
		log_info("%s: more output than %d lines; the rest is not "
		    "logged", h->what, HOOK_LINES_MAX);
	h->len = 0;
}

/* Take n bytes of h's output: one log line per line. */
static void
hook_take(struct hook *h, const char *buf, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			hook_flush_line(h);
			continue;
		}
		h->line[h->len++] = buf[i];
		if (h->len == HOOK_LINE_MAX)
			hook_flush_line(h);
	}
}

/* Read what h's pipe holds, up to max bytes: 0, or -1 at its end. */
static int
hook_read(struct hook *h, size_t max)
{
	char	buf[4096];
	size_t	total = 0;
	ssize_t	n;

	while (total < max) {
		n = read(h->out, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return (0);
		if (n <= 0) {
			if (n == -1)
				log_warn("%s: read", h->what);
			return (-1);
		}
		hook_take(h, buf, (size_t)n);
		total += (size_t)n;
	}
	return (0);
}

/* Close h's pipe, logging any unfinished line. */
static void
hook_close_out(struct hook *h)
{
	hook_flush_line(h);
	if (h->out_ev != NULL)
		event_free(h->out_ev);
	h->out_ev = NULL;
	if (h->out != -1)
		(void)close(h->out);
	h->out = -1;
}

/* h's output is readable. */
static void
hook_out_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hook	*h = arg;

	(void)fd;
	(void)what;
	if (hook_read(h, HOOK_DRAIN_MAX) == -1)
		hook_close_out(h);
}

/* Say how h ended, from its wait status. */
static void
hook_log_status(struct hook *h, int status)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		log_info("%s: exited with status 0", h->what);
	else if (WIFEXITED(status))
		log_warnx("%s: exited with status %d", h->what,
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		log_warnx("%s: ended by signal %d (%s)%s", h->what,
		    WTERMSIG(status), strsignal(WTERMSIG(status)),
		    h->signalled != 0 ? ", sent at its timeout" : "");
	else
		log_warnx("%s: ended (wait status %#x)", h->what, status);
}

/*
 * Whether h's process ended: reap it and finish h. Called when its
 * pidfd is readable or on the polling timer.
 */
static void
hook_exit_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hook	*h = arg;
	pid_t		 pid;
	int		 status;

	(void)fd;
	(void)what;
	while ((pid = waitpid(h->pid, &status, WNOHANG)) == -1 &&
	    errno == EINTR)
		;
	if (pid == 0) {
		/* Not yet: a spurious wake-up, or the poll. */
		if (h->pidfd != -1 && event_add(h->exit_ev, NULL) == -1)
			log_warnx("%s: cannot watch its end", h->what);
		return;
	}
	if (pid == -1) {
		log_warn("%s: waitpid", h->what);
		hook_end(h, -1);
		return;
	}
	hook_end(h, status);
}

/* h's timeout, then its grace: signal its process group. */
static void
hook_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hook	*h = arg;
	struct timeval	 tv;

	(void)fd;
	(void)what;
	if (h->signalled == 0) {
		log_warnx("%s: still running after its timeout of %lld ms: "
		    "SIGTERM to its process group %ld", h->what,
		    (long long)(h->timeout_us / LQ_USEC_PER_MSEC),
		    (long)h->pid);
		h->signalled = SIGTERM;
		tv.tv_sec = HOOKS_GRACE_US / LQ_USEC_PER_SEC;
		tv.tv_usec = HOOKS_GRACE_US % LQ_USEC_PER_SEC;
		if (evtimer_add(h->timer_ev, &tv) == -1)
			log_warnx("%s: cannot arm its grace", h->what);
	} else {
		log_warnx("%s: still running %d s after SIGTERM: SIGKILL to "
		    "its process group %ld", h->what,
		    (int)(HOOKS_GRACE_US / LQ_USEC_PER_SEC), (long)h->pid);
		h->signalled = SIGKILL;
	}
	if (kill(-h->pid, h->signalled) == -1 && errno != ESRCH)
		log_warn("%s: kill", h->what);
}

/* h ended (its wait status, or -1 if unknown): log, free, go on. */
static void
hook_end(struct hook *h, int status)
{
	if (h->out != -1 && hook_read(h, HOOK_DRAIN_MAX) == 0)
		log_debug("%s: its output stays open in a program it "
		    "left behind; not read further", h->what);
	hook_close_out(h);
	if (status != -1)
		hook_log_status(h, status);
	TAILQ_REMOVE(&running, h, entry);
	nrunning--;
	hook_free(h);
	hook_start_next();
}

/* The attributes of a spawn: default signals, own process group. */
static int
hook_spawnattr(posix_spawnattr_t *sa)
{
	sigset_t	none, all;
	int		error;

	(void)sigemptyset(&none);
	(void)sigfillset(&all);
	if ((error = posix_spawnattr_init(sa)) != 0)
		return (error);
	/* linkqd ignores SIGPIPE; a command's pipelines must not. */
	if ((error = posix_spawnattr_setsigmask(sa, &none)) != 0 ||
	    (error = posix_spawnattr_setsigdefault(sa, &all)) != 0 ||
	    (error = posix_spawnattr_setpgroup(sa, 0)) != 0 ||
	    (error = posix_spawnattr_setflags(sa, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP)) != 0)
		(void)posix_spawnattr_destroy(sa);
	return (error);
}

/*
 * Spawn h's command with its output on the pipe's write end w: 0, or
 * an errno.
 */
static int
hook_spawn(struct hook *h, int w)
{
	posix_spawn_file_actions_t	fa;
	posix_spawnattr_t		sa;
	int				error;

	if ((error = posix_spawn_file_actions_init(&fa)) != 0)
		return (error);
	if ((error = hook_spawnattr(&sa)) != 0) {
		(void)posix_spawn_file_actions_destroy(&fa);
		return (error);
	}
	if ((error = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null",
	    O_RDONLY, 0)) == 0 &&
	    (error = posix_spawn_file_actions_adddup2(&fa, w, 1)) == 0 &&
	    (error = posix_spawn_file_actions_adddup2(&fa, w, 2)) == 0 &&
	    (error = posix_spawn_file_actions_addclosefrom_np(&fa, 3)) == 0 &&
	    (error = posix_spawn_file_actions_addchdir_np(&fa, "/")) == 0)
		error = posix_spawn(&h->pid, h->argv[0], &fa, &sa, h->argv,
		    h->envp);
	(void)posix_spawn_file_actions_destroy(&fa);
	(void)posix_spawnattr_destroy(&sa);
	return (error);
}

/* Watch h's end: its pidfd, or a polling timer. */
static void
hook_watch_exit(struct hook *h)
{
	struct timeval	tv;

	h->pidfd = (int)syscall(SYS_pidfd_open, h->pid, 0);
	if (h->pidfd != -1) {
		h->exit_ev = event_new(base, h->pidfd, EV_READ, hook_exit_cb,
		    h);
		if (h->exit_ev == NULL || event_add(h->exit_ev, NULL) == -1)
			fatalx("%s: cannot watch a hook's end", __func__);
		return;
	}
	log_debug("%s: pidfd_open: %s; polling for its end", h->what,
	    strerror(errno));
	tv.tv_sec = 0;
	tv.tv_usec = HOOK_POLL_US;
	h->exit_ev = event_new(base, -1, EV_PERSIST, hook_exit_cb, h);
	if (h->exit_ev == NULL || event_add(h->exit_ev, &tv) == -1)
		fatalx("%s: cannot watch a hook's end", __func__);
}

/* Start h: 0, or -1 (logged) if its command cannot run. */
static int
hook_start(struct hook *h)
{
	struct timeval	 tv;
	int		 p[2], error;

	if (pipe2(p, O_CLOEXEC) == -1) {
		log_warn("%s: not run: pipe", h->what);
		return (-1);
	}
	/* Only our end: the command writes to a blocking pipe. */
	if (fcntl(p[0], F_SETFL, O_NONBLOCK) == -1)
		log_warn("%s: fcntl", h->what);
	error = hook_spawn(h, p[1]);
	(void)close(p[1]);
	if (error != 0) {
		(void)close(p[0]);
		log_warnx("%s: cannot run %s: %s", h->what, h->argv[0],
		    strerror(error));
		return (-1);
	}
	h->out = p[0];
	log_info("%s: started %s (pid %ld)", h->what, h->argv[0],
	    (long)h->pid);
	h->out_ev = event_new(base, h->out, EV_READ | EV_PERSIST,
	    hook_out_cb, h);
	h->timer_ev = evtimer_new(base, hook_timer_cb, h);
	if (h->out_ev == NULL || event_add(h->out_ev, NULL) == -1 ||
	    h->timer_ev == NULL)
		fatalx("%s: cannot watch a hook", __func__);
	tv.tv_sec = h->timeout_us / LQ_USEC_PER_SEC;
	tv.tv_usec = h->timeout_us % LQ_USEC_PER_SEC;
	if (evtimer_add(h->timer_ev, &tv) == -1)
		log_warnx("%s: cannot arm its timeout", h->what);
	hook_watch_exit(h);
	return (0);
}

/* Start queued hooks while there is room. */
static void
hook_start_next(void)
{
	struct hook	*h;

	while (!stopping && nrunning < HOOKS_RUNNING_MAX &&
	    (h = TAILQ_FIRST(&queued)) != NULL) {
		TAILQ_REMOVE(&queued, h, entry);
		nqueued--;
		if (hook_start(h) == -1) {
			hook_free(h);
			continue;
		}
		TAILQ_INSERT_TAIL(&running, h, entry);
		nrunning++;
	}
}

void
hooks_fire(const struct hook_facts *f)
{
	struct hook	*h;
	char		 what[sizeof(h->what)];

	if (f->run_id > 0)
		(void)snprintf(what, sizeof(what), "hook %s run %lld",
		    hook_event_name(f->event), (long long)f->run_id);
	else
		(void)snprintf(what, sizeof(what), "hook %s device %s",
		    hook_event_name(f->event), f->udid != NULL ? f->udid :
		    "(unknown)");
	if (stopping) {
		if (config != NULL && config->hook_command != NULL)
			log_info("%s: not run: linkqd is stopping", what);
		return;
	}
	if (!hooks_wanted(f->event))
		return;
	if (nrunning + nqueued >= HOOKS_RUNNING_MAX + HOOKS_QUEUED_MAX) {
		log_warnx("%s: dropped: %u hooks run and %u wait already (at "
		    "most %d and %d)", what, nrunning, nqueued,
		    HOOKS_RUNNING_MAX, HOOKS_QUEUED_MAX);
		return;
	}
	h = xcalloc(1, sizeof(*h));
	(void)strlcpy(h->what, what, sizeof(h->what));
	h->argv = hook_argv(config);
	h->envp = hook_envp(f);
	h->timeout_us = config->hook_timeout_us;
	h->pid = -1;
	h->pidfd = -1;
	h->out = -1;
	TAILQ_INSERT_TAIL(&queued, h, entry);
	nqueued++;
	if (nrunning >= HOOKS_RUNNING_MAX)
		log_info("%s: waits for one of %d hooks running to end",
		    what, HOOKS_RUNNING_MAX);
	hook_start_next();
}

/* Reap what ended of the running hooks, without waiting. */
static void
hooks_reap_ended(void)
{
	struct hook	*h, *next;
	pid_t		 pid;
	int		 status;

	TAILQ_FOREACH_SAFE(h, &running, entry, next) {
		pid = waitpid(h->pid, &status, WNOHANG);
		if (pid == 0 || (pid == -1 && errno == EINTR))
			continue;
		TAILQ_REMOVE(&running, h, entry);
		nrunning--;
		hook_close_out(h);
		if (pid == -1)
			log_warn("%s: waitpid", h->what);
		else
			hook_log_status(h, status);
		hook_free(h);
	}
}

void
hooks_shutdown(void)
{
	struct hook	*h;
	struct timespec	 pause = { 0, 10 * 1000 * 1000 };
	int64_t		 until;
	int		 status;

	stopping = 1;
	while ((h = TAILQ_FIRST(&queued)) != NULL) {
		TAILQ_REMOVE(&queued, h, entry);
		nqueued--;
		log_info("%s: not run: linkqd is stopping", h->what);
		hook_free(h);
	}
	TAILQ_FOREACH(h, &running, entry) {
		log_info("%s: linkqd is stopping: SIGTERM to its process "
		    "group %ld", h->what, (long)h->pid);
		h->signalled = SIGTERM;
		if (kill(-h->pid, SIGTERM) == -1 && errno != ESRCH)
			log_warn("%s: kill", h->what);
	}
	until = lq_mono_now().us + HOOKS_GRACE_US;
	while (!TAILQ_EMPTY(&running) && lq_mono_now().us < until) {
		hooks_reap_ended();
		if (!TAILQ_EMPTY(&running))
			(void)nanosleep(&pause, NULL);
	}
	while ((h = TAILQ_FIRST(&running)) != NULL) {
		log_warnx("%s: still running %d s after SIGTERM: SIGKILL",
		    h->what, (int)(HOOKS_GRACE_US / LQ_USEC_PER_SEC));
		if (kill(-h->pid, SIGKILL) == -1 && errno != ESRCH)
			log_warn("%s: kill", h->what);
		while (waitpid(h->pid, &status, 0) == -1 && errno == EINTR)
			;
		TAILQ_REMOVE(&running, h, entry);
		nrunning--;
		hook_close_out(h);
		hook_free(h);
	}
}
