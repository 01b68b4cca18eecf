/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * usbmon's reader (contract and design in usbmon.h): the kernel's text
 * file or binary device read on a thread of its own, or a regular file
 * followed on the loop; what it finds goes through the parser
 * (usbmon-parse.c) and the tracker (usbmon-track.c) on the loop. The
 * binary device's ioctls are mon_bin.c's, which no uapi header exports.
 */

#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <linux/magic.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "compat/compat.h"
#include "follow.h"
#include "log.h"
#include "lq-time.h"
#include "sources.h"
#include "usbmon.h"
#include "xmalloc.h"

/* The binary interface's ioctls (mon_bin.c). */
struct usbmon_get {
	void	*hdr;		/* USBMON_BIN_HDR bytes */
	void	*data;
	size_t	 alloc;		/* data wanted: none */
};
#define USBMON_IOC_MAGIC	0x92
#define USBMON_IOCT_RING_SIZE	_IO(USBMON_IOC_MAGIC, 4)
#define USBMON_IOCX_GETX	_IOW(USBMON_IOC_MAGIC, 10, struct usbmon_get)
/* The ring asked for: 1 MiB, within every kernel's range (8 KiB-1.2 MiB). */
#define USBMON_RING		(1024 * 1024)
/*
 * The signal that interrupts the thread's read(2) or poll(2) when it must
 * stop: a real-time one, which nothing else in linkqd uses. Sent again
 * every USBMON_WAKE_US until the thread is gone, in case the first came
 * between its look at the stop flag and the call.
 */
#define USBMON_WAKE_SIGNAL	SIGRTMIN
#define USBMON_WAKE_US		(20 * 1000)

/*
 * The reader. The loop owns u. The thread's part, k, is set before the
 * thread starts and read-only until it has been joined.
 */

static struct {
	struct event_base	*base;
	usbmon_fn		 fn;
	char			 path[PATH_MAX];
	char			 status[PATH_MAX + 256];
	const char		*hint;		/* what to do, or NULL */
	int			 reading;
	int			 failed;	/* said why not, once */
	struct follow		*follow;	/* a file, or the pipe */
	struct event		*hold_ev;
	struct usbmon_tracker	 tracker;
	pthread_t		 thread;
	int			 thread_started;
} u;

static struct {
	int			 fd;		/* the kernel's interface */
	int			 binary;
	int			 wfd;		/* the pipe's write end */
	atomic_int		 stop;		/* the loop's, to the thread */
} k = { -1, 0, -1, 0 };

/* Say, once, why usbmon is not read; hint is what to do, or NULL. */
static void
usbmon_unreadable(const char *path, const char *why, const char *hint)
{
	if (u.failed)
		return;
	u.failed = 1;
	u.reading = 0;
	u.hint = hint;
	(void)snprintf(u.status, sizeof(u.status), "unreadable: %s: %s",
	    path, why);
	log_warnx("usbmon: %s: %s; linkqd goes on without usbmon%s%s%s",
	    path, why, hint != NULL ? " (" : "", hint != NULL ? hint : "",
	    hint != NULL ? ")" : "");
}

/* Arm the hold timer for the next burst due. */
static void
usbmon_hold_arm(void)
{
	struct timeval	tv;
	int64_t		left = 0;

	if (usbmon_tracker_wait(&u.tracker, lq_mono_now(), &left) == -1) {
		(void)evtimer_del(u.hold_ev);
		return;
	}
	tv.tv_sec = left / LQ_USEC_PER_SEC;
	tv.tv_usec = left % LQ_USEC_PER_SEC;
	if (evtimer_add(u.hold_ev, &tv) == -1)
		log_warnx("usbmon: cannot arm the hold timer");
}

/* Bursts whose hold is over go on. */
static void
usbmon_hold_cb(evutil_socket_t fd, short what, void *unused)
{
	struct usbmon_burst	*b;
	char			 detail[256];

	(void)fd;
	(void)what;
	(void)unused;
	while ((b = usbmon_tracker_due(&u.tracker, lq_mono_now())) != NULL) {
		usbmon_burst_detail(b, detail, sizeof(detail));
		log_info("%s", detail);
		u.fn(b->bus, b->devnum, b->first_status, b->wall_us, detail);
		free(b);
	}
	usbmon_hold_arm();
}

/* Say that n held link errors of bus/devnum were an unplug's. */
static void
usbmon_dropped(unsigned int n, int bus, int devnum)
{
	if (n == 0)
		return;
	log_info("usbmon: %u link error%s on bus %d device %d came with an "
	    "unplug: not counted", n, n == 1 ? "" : "s", bus, devnum);
	usbmon_hold_arm();
}

/* One line: from the file, or the thread's through the pipe. */
static void
usbmon_line(const char *buf, size_t len, void *from_thread)
{
	struct usbmon_event	ev;
	char			why[160];
	unsigned int		n;

	if (from_thread != NULL && len > 0 && buf[0] == '!') {
		/* The thread stopped, and said why. */
		len -= buf[len - 1] == '\n';
		(void)snprintf(why, sizeof(why), "%.*s", (int)(len - 1),
		    buf + 1);
		usbmon_unreadable(u.path, why, NULL);
		return;
	}
	if (usbmon_parse(buf, len, &ev) == -1) {
		log_debug("usbmon: malformed line: %.*s", (int)(len > 80 ? 80 :
		    len), buf);
		return;
	}
	n = usbmon_tracker_add(&u.tracker, &ev, lq_mono_now(),
	    lq_wall_now_us());
	if (n > 0)
		usbmon_dropped(n, ev.bus, ev.devnum);
	else if (usbmon_event_class(&ev) == USBMON_LINK_ERROR &&
	    !evtimer_pending(u.hold_ev, NULL))
		usbmon_hold_arm();
}

/* The file or the pipe could not be read on. */
static void
usbmon_follow_error(const char *why, void *unused)
{
	(void)unused;
	usbmon_unreadable(u.path, why, NULL);
	follow_free(u.follow);
	u.follow = NULL;
}

/* Thread: pass a line on to the loop; -1 if the pipe is closed. */
static int
usbmon_forward(const char *buf, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(k.wfd, buf, len)) == -1) {
			if (errno == EINTR && !atomic_load(&k.stop))
				continue;
			return (-1);
		}
		buf += n;
		len -= (size_t)n;
	}
	return (0);
}

/* Thread: tell the loop why it stops. */
static void
usbmon_thread_fail(const char *why)
{
	char	line[160];
	int	n;

	n = snprintf(line, sizeof(line), "!%s\n", why);
	if (n > 0 && (size_t)n < sizeof(line))
		(void)usbmon_forward(line, (size_t)n);
}

/* Thread: read the text interface, one line per read(2). */
static void
usbmon_thread_text(void)
{
	struct usbmon_event	 ev;
	char			 buf[USBMON_LINE_MAX * 8], e[128];
	size_t			 have = 0, off, len;
	ssize_t			 n;
	int			 told = 0;

	while (!atomic_load(&k.stop)) {
		if (have == sizeof(buf))
			have = 0;	/* no line in all that */
		n = read(k.fd, buf + have, sizeof(buf) - have);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			usbmon_thread_fail(n == 0 ? "end of file" :
			    strerror_r(errno, e, sizeof(e)));
			return;
		}
		have += (size_t)n;
		for (off = 0; (len = usbmon_line_end(buf + off, have - off)) >
		    0; off += len) {
			if (usbmon_parse(buf + off, len, &ev) == -1) {
				if (!told)
					log_debug("usbmon: malformed line: "
					    "%.*s", (int)(len - 1), buf + off);
				told = 1;
				continue;
			}
			if (usbmon_wanted(&ev) &&
			    usbmon_forward(buf + off, len) == -1)
				return;
		}
		memmove(buf, buf + off, have - off);
		have -= off;
	}
}

/* Thread: read the binary interface, one header per MON_IOCX_GETX. */
static void
usbmon_thread_binary(void)
{
	struct usbmon_event	 ev;
	struct usbmon_get	 get;
	struct pollfd		 pfd;
	unsigned char		 hdr[USBMON_BIN_HDR];
	char			 line[USBMON_LINE_MAX], e[128];
	int			 n;

	memset(&get, 0, sizeof(get));
	get.hdr = hdr;
	pfd.fd = k.fd;
	pfd.events = POLLIN;
	while (!atomic_load(&k.stop)) {
		n = poll(&pfd, 1, -1);
		if (n == -1 && errno != EINTR) {
			usbmon_thread_fail(strerror_r(errno, e, sizeof(e)));
			return;
		}
		while (ioctl(k.fd, USBMON_IOCX_GETX, &get) == 0) {
			if (usbmon_parse_bin(hdr, sizeof(hdr), &ev) == -1 ||
			    !usbmon_wanted(&ev))
				continue;
			n = usbmon_format(&ev, line, sizeof(line));
			if (n > 0 && (size_t)n < sizeof(line) &&
			    usbmon_forward(line, (size_t)n) == -1)
				return;
		}
		if (errno != EAGAIN && errno != EINTR) {
			usbmon_thread_fail(strerror_r(errno, e, sizeof(e)));
			return;
		}
	}
}

/* The wake signal only interrupts what the thread is blocked in. */
static void
usbmon_wake(int sig)
{
	(void)sig;
}

/* Thread: read until told to stop, or until the interface fails. */
static void *
usbmon_thread_main(void *unused)
{
	sigset_t	wake;

	(void)unused;
	if (sigemptyset(&wake) == -1 || sigaddset(&wake, USBMON_WAKE_SIGNAL) ==
	    -1 || pthread_sigmask(SIG_UNBLOCK, &wake, NULL) != 0) {
		usbmon_thread_fail("cannot take the wake signal");
		return (NULL);
	}
	if (k.binary)
		usbmon_thread_binary();
	else
		usbmon_thread_text();
	return (NULL);
}

/* Start the thread on the kernel's interface fd; 0, or -1 and *cause. */
static int
usbmon_thread_start(int fd, int binary, const char **cause)
{
	static const struct follow_cb cb = {
		"usbmon", USBMON_LINE_MAX * 8, usbmon_line_end, usbmon_line,
		usbmon_follow_error, &u
	};
	struct sigaction sa;
	sigset_t	 all, old;
	int		 p[2], error;

	if (pipe2(p, O_CLOEXEC) == -1) {
		*cause = strerror(errno);
		return (-1);
	}
	if (fcntl(p[0], F_SETFL, O_NONBLOCK) == -1) {
		*cause = strerror(errno);
		(void)close(p[0]);
		(void)close(p[1]);
		return (-1);
	}
	k.fd = fd;
	k.binary = binary;
	k.wfd = p[1];
	atomic_store(&k.stop, 0);
	/* No SA_RESTART: the wake signal must interrupt the thread. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = usbmon_wake;
	if (sigemptyset(&sa.sa_mask) == -1 ||
	    sigaction(USBMON_WAKE_SIGNAL, &sa, NULL) == -1)
		fatal("%s: sigaction", __func__);
	/* Other signals are the loop's (the worker's rule, worker.c). */
	if (sigfillset(&all) == -1)
		fatal("%s: sigfillset", __func__);
	if ((error = pthread_sigmask(SIG_SETMASK, &all, &old)) != 0)
		fatalx("%s: pthread_sigmask: %s", __func__, strerror(error));
	if ((error = pthread_create(&u.thread, NULL, usbmon_thread_main,
	    NULL)) != 0)
		fatalx("%s: pthread_create: %s", __func__, strerror(error));
	if ((error = pthread_sigmask(SIG_SETMASK, &old, NULL)) != 0)
		fatalx("%s: pthread_sigmask: %s", __func__, strerror(error));
	u.thread_started = 1;
	u.follow = follow_pipe(u.base, p[0], &cb);
	return (0);
}

/* Open what path is and start reading it; 0, or -1 said. */
static int
usbmon_open(const char *path)
{
	static const struct follow_cb cb = {
		"usbmon", USBMON_LINE_MAX * 8, usbmon_line_end, usbmon_line,
		usbmon_follow_error, NULL
	};
	struct stat	 st;
	struct statfs	 sf;
	const char	*cause = NULL, *hint = NULL;
	int		 fd, flags;

	/* Non-blocking, or a FIFO would block the open itself. */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			hint = "mount debugfs and run modprobe usbmon";
		else if (errno == EACCES || errno == EPERM)
			hint = "usbmon is root's only: run linkqd as root, or "
			    "give its group read access to the usbmon files";
		usbmon_unreadable(path, strerror(errno), hint);
		return (-1);
	}
	if (fstat(fd, &st) == -1 || fstatfs(fd, &sf) == -1)
		cause = strerror(errno);
	else if (S_ISCHR(st.st_mode)) {
		/* A bigger ring loses fewer events; the default will do. */
		if (ioctl(fd, USBMON_IOCT_RING_SIZE, USBMON_RING) == -1 &&
		    errno == ENOTTY)
			cause = "a character device, but not usbmon's";
		else
			(void)usbmon_thread_start(fd, 1, &cause);
	} else if (S_ISFIFO(st.st_mode) || (S_ISREG(st.st_mode) &&
	    sf.f_type == DEBUGFS_MAGIC)) {
		/*
		 * The text interface, or a FIFO a privileged process copies
		 * it into: its read(2) blocks, in the thread.
		 */
		if ((flags = fcntl(fd, F_GETFL)) == -1 ||
		    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == -1)
			cause = strerror(errno);
		else
			(void)usbmon_thread_start(fd, 0, &cause);
	} else if (S_ISREG(st.st_mode)) {
		/* Lines from before the start are not this run's. */
		if (lseek(fd, 0, SEEK_END) == -1)
			cause = strerror(errno);
		else {
			u.follow = follow_file(u.base, path, fd, &cb, &cause);
			fd = -1;	/* the follower's now */
		}
	} else
		cause = "neither usbmon's text file or device, nor a FIFO or "
		    "a regular file";
	if (cause == NULL)
		return (0);
	if (fd != -1)
		(void)close(fd);
	k.fd = -1;
	usbmon_unreadable(path, cause, NULL);
	return (-1);
}

/* Start reading path. */
void
usbmon_start(struct event_base *base, const char *path, usbmon_fn fn)
{
	u.base = base;
	u.fn = fn;
	u.reading = u.failed = 0;
	u.status[0] = '\0';
	(void)strlcpy(u.path, path, sizeof(u.path));
	usbmon_tracker_init(&u.tracker);
	if ((u.hold_ev = evtimer_new(base, usbmon_hold_cb, NULL)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	if (usbmon_open(path) == -1)
		return;
	u.reading = 1;
	(void)snprintf(u.status, sizeof(u.status), "reading %s", path);
	log_info("usbmon: reading %s%s", path, u.thread_started ?
	    " on a thread of its own" : "");
}

/*
 * Tell the thread to stop and wait until it has: it may be blocked in
 * read(2) or poll(2), which the wake signal interrupts, or in write(2) to
 * the pipe, whose read end is closed by then.
 */
static void
usbmon_thread_stop(void)
{
	struct timespec	ts;
	int		error;

	atomic_store(&k.stop, 1);
	for (;;) {
		if ((error = pthread_kill(u.thread, USBMON_WAKE_SIGNAL)) != 0 &&
		    error != ESRCH)
			fatalx("%s: pthread_kill: %s", __func__,
			    strerror(error));
		if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
			fatal("%s: clock_gettime", __func__);
		ts.tv_nsec += USBMON_WAKE_US * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		if ((error = pthread_timedjoin_np(u.thread, NULL, &ts)) == 0)
			break;
		if (error != ETIMEDOUT)
			fatalx("%s: pthread_timedjoin_np: %s", __func__,
			    strerror(error));
	}
	u.thread_started = 0;
	(void)close(k.wfd);
	k.wfd = -1;
}

/* Stop reading: the follower, the thread; drop what is held. */
void
usbmon_stop(void)
{
	/* Closing the read end frees the thread from a write(2). */
	follow_free(u.follow);
	u.follow = NULL;
	if (u.thread_started)
		usbmon_thread_stop();
	if (k.fd != -1)
		(void)close(k.fd);
	k.fd = -1;
	usbmon_tracker_clear(&u.tracker);
	if (u.hold_ev != NULL) {
		event_free(u.hold_ev);
		u.hold_ev = NULL;
	}
	u.reading = 0;
}

/* The kernel removed bus/devnum: its held link errors were the unplug. */
void
usbmon_device_gone(int bus, int devnum)
{
	if (!u.reading)
		return;
	usbmon_dropped(usbmon_tracker_gone(&u.tracker, bus, devnum,
	    lq_mono_now()), bus, devnum);
}

/* What the reader is doing. */
const char *
usbmon_status(void)
{
	return (u.status[0] != '\0' ? u.status : "not started");
}

/* The reader as an evidence source (sources.h). */
void
usbmon_source(struct source_state *st)
{
	if (!u.reading) {
		source_off(st, usbmon_status(), u.hint != NULL ? u.hint :
		    "check usbmon in linkq.conf's [daemon] section");
		return;
	}
	st->on = 1;
	(void)strlcpy(st->reason, u.status, sizeof(st->reason));
}

/* Add the counts of bus/devnum to o. */
void
usbmon_json(json_t *o, int bus, int devnum)
{
	struct usbmon_counts	c;

	if (!u.reading)
		return;
	usbmon_tracker_counts(&u.tracker, bus, devnum, lq_mono_now(), &c);
	(void)json_object_set_new(o, "usbmon", json_pack(
	    "{s:I, s:I, s:I, s:I}",
	    "link_errors", (json_int_t)c.link_errors,
	    "cancels", (json_int_t)c.cancels,
	    "disconnects", (json_int_t)c.disconnects,
	    "other_errors", (json_int_t)c.other_errors));
}
