/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Following a file or a pipe on the loop (contract in follow.h). A file
 * is read to its end at each IN_MODIFY, as its writer (a test's
 * simulator) is bounded; a pipe is read at most FOLLOW_BATCH times per
 * wake-up, so that a flood cannot starve the loop: its event is
 * level-triggered and fires again.
 */

#include <sys/inotify.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "follow.h"
#include "log.h"
#include "xmalloc.h"

#define FOLLOW_BATCH	16

struct follow {
	struct follow_cb	 cb;
	int			 fd;
	int			 ifd;		/* inotify (a file), or -1 */
	struct event		*ev;
	char			*buf;
	size_t			 have;
};

/* Hand on the whole records of the buffer; keep the part after them. */
static void
follow_records(struct follow *f)
{
	size_t	off = 0, len;

	while ((len = f->cb.end(f->buf + off, f->have - off)) > 0) {
		f->cb.record(f->buf + off, len, f->cb.arg);
		off += len;
	}
	if (off > 0) {
		memmove(f->buf, f->buf + off, f->have - off);
		f->have -= off;
	}
}

/*
 * Read what is there, at most limit times (0: until there is nothing),
 * handing on whole records; the last read(2)'s result, errno intact.
 */
static ssize_t
follow_read(struct follow *f, int limit)
{
	ssize_t	n = 0;
	int	i;

	for (i = 0; limit == 0 || i < limit; i++) {
		if (f->have == f->cb.max) {
			log_warnx("%s: a record longer than %zu bytes; "
			    "skipped", f->cb.name, f->cb.max);
			f->have = 0;
		}
		n = read(f->fd, f->buf + f->have, f->cb.max - f->have);
		if (n <= 0)
			break;
		f->have += (size_t)n;
		follow_records(f);
	}
	return (n);
}

/* Stop and say why; the callback may free f, so nothing comes after. */
static void
follow_fail(struct follow *f, const char *why)
{
	(void)event_del(f->ev);
	f->cb.error(why, f->cb.arg);
}

/* The file changed: read what was appended. */
static void
follow_file_cb(evutil_socket_t ifd, short what, void *arg)
{
	struct follow	*f = arg;
	char		 ibuf[4096];
	struct stat	 st;
	off_t		 pos;

	(void)what;
	while (read(ifd, ibuf, sizeof(ibuf)) > 0)
		;	/* the events only say "look" */
	/* Truncated (the simulator started again): from the start. */
	if (fstat(f->fd, &st) == 0 && (pos = lseek(f->fd, 0, SEEK_CUR)) !=
	    -1 && st.st_size < pos) {
		(void)lseek(f->fd, 0, SEEK_SET);
		f->have = 0;
	}
	if (follow_read(f, 0) == -1 && errno != EAGAIN && errno != EINTR)
		follow_fail(f, strerror(errno));
}

/* The pipe is readable, or its writer closed it. */
static void
follow_pipe_cb(evutil_socket_t fd, short what, void *arg)
{
	struct follow	*f = arg;
	ssize_t		 n;

	(void)fd;
	(void)what;
	if ((n = follow_read(f, FOLLOW_BATCH)) == 0)
		follow_fail(f, "the writer closed the pipe");
	else if (n == -1 && errno != EAGAIN && errno != EINTR)
		follow_fail(f, strerror(errno));
}

/* A follower of fd without its event yet. */
static struct follow *
follow_new(int fd, const struct follow_cb *cb)
{
	struct follow	*f;

	f = xcalloc(1, sizeof(*f));
	f->cb = *cb;
	f->fd = fd;
	f->ifd = -1;
	f->buf = xmalloc(cb->max);
	return (f);
}

/* Arm f's event, on fd, with fn. */
static void
follow_arm(struct follow *f, struct event_base *base, int fd,
    event_callback_fn fn)
{
	if ((f->ev = event_new(base, fd, EV_READ | EV_PERSIST, fn, f)) ==
	    NULL || event_add(f->ev, NULL) == -1)
		fatalx("%s: event_new", __func__);
}

/* Follow the regular file path, open on fd. */
struct follow *
follow_file(struct event_base *base, const char *path, int fd,
    const struct follow_cb *cb, const char **cause)
{
	struct follow	*f;

	f = follow_new(fd, cb);
	if ((f->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1 ||
	    inotify_add_watch(f->ifd, path, IN_MODIFY) == -1) {
		*cause = strerror(errno);
		follow_free(f);
		return (NULL);
	}
	follow_arm(f, base, f->ifd, follow_file_cb);
	return (f);
}

/* Follow the read end of a pipe. */
struct follow *
follow_pipe(struct event_base *base, int fd, const struct follow_cb *cb)
{
	struct follow	*f;

	f = follow_new(fd, cb);
	follow_arm(f, base, fd, follow_pipe_cb);
	return (f);
}

/* Stop following; close and free. */
void
follow_free(struct follow *f)
{
	if (f == NULL)
		return;
	if (f->ev != NULL)
		event_free(f->ev);
	if (f->fd != -1)
		(void)close(f->fd);
	if (f->ifd != -1)
		(void)close(f->ifd);
	free(f->buf);
	free(f);
}
