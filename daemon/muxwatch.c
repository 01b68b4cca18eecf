/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * linkqd's Listen connection to usbmuxd (contract in muxwatch.h). The
 * state is file-static and touched on the loop thread only.
 */

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "compat/compat.h"
#include "log.h"
#include "lq-exposure.h"
#include "muxproto.h"
#include "muxwatch.h"
#include "xmalloc.h"

/* How long usbmuxd may take to answer Listen. */
#define MUXWATCH_ANSWER_S	5
/* The longest wait between tries after garbage. */
#define MUXWATCH_BACKOFF_MAX_US	(30 * INT64_C(1000000))
/* More devices at once than any hub holds is garbage too. */
#define MUXWATCH_MAX_DEVICES	1024

static struct event_base	*base;
static int64_t			 retry_us;
static muxwatch_fn		 handler;
static void			*handler_arg;

static struct bufferevent	*bev;		/* NULL: not connected */
static struct event		*retry_ev;
static int			 listening;	/* Listen answered 0 */
static int			 absent;	/* said it is not running */
static unsigned int		 faults;	/* garbage in a row */
static uint32_t			 last_tag;
/* The DeviceIDs usbmuxd reported on this connection. */
static uint32_t			*handles;
static size_t			 nhandles;

static void	muxwatch_connect(void);

/* Try again after delay_us. */
static void
muxwatch_schedule(int64_t delay_us)
{
	struct timeval	tv;

	tv.tv_sec = (time_t)(delay_us / 1000000);
	tv.tv_usec = (suseconds_t)(delay_us % 1000000);
	if (evtimer_add(retry_ev, &tv) == -1)
		fatalx("%s: evtimer_add", __func__);
}

/* The wait after the latest garbage: doubling, capped. */
static int64_t
muxwatch_backoff(void)
{
	int64_t		delay = retry_us, cap;
	unsigned int	i;

	cap = retry_us > MUXWATCH_BACKOFF_MAX_US ? retry_us :
	    MUXWATCH_BACKOFF_MAX_US;
	for (i = 1; i < faults && delay < cap; i++)
		delay *= 2;
	return (delay < cap ? delay : cap);
}

/* Where handle is in handles, or nhandles. */
static size_t
muxwatch_find(uint32_t handle)
{
	size_t	i;

	for (i = 0; i < nhandles; i++) {
		if (handles[i] == handle)
			break;
	}
	return (i);
}

/*
 * Close the connection; every device it reported is removed (usbmuxd
 * without us knows nothing of them), and a try follows after delay_us.
 */
static void
muxwatch_drop(int64_t delay_us)
{
	struct mux_event	ev;
	size_t			i;

	if (bev != NULL)
		bufferevent_free(bev);
	bev = NULL;
	listening = 0;
	for (i = 0; i < nhandles; i++) {
		memset(&ev, 0, sizeof(ev));
		ev.kind = MUX_EVENT_REMOVE;
		ev.handle = handles[i];
		handler(&ev, handler_arg);
	}
	nhandles = 0;
	muxwatch_schedule(delay_us);
}

/* usbmuxd sent something wrong: say what, close, back off. */
static void
muxwatch_fault(char *cause)
{
	char	when[32];

	faults++;
	log_warnx("usbmuxd: %s; closing the connection and listening again "
	    "in %s", cause, lq_fmt_duration(when, sizeof(when),
	    muxwatch_backoff()));
	free(cause);
	muxwatch_drop(muxwatch_backoff());
}

/* Hand an event over, keeping the list of devices. 0, or -1 fault. */
static int
muxwatch_event(const struct mux_event *ev)
{
	size_t	i;

	i = muxwatch_find(ev->handle);
	switch (ev->kind) {
	case MUX_EVENT_ADD:
		if (i < nhandles) {
			log_debug("usbmuxd: device %u attached twice",
			    ev->handle);
			return (0);
		}
		if (nhandles == MUXWATCH_MAX_DEVICES) {
			muxwatch_fault(xstrdup("more than 1024 devices "
			    "attached"));
			return (-1);
		}
		handles = xreallocarray(handles, nhandles + 1,
		    sizeof(*handles));
		handles[nhandles++] = ev->handle;
		break;
	case MUX_EVENT_REMOVE:
	case MUX_EVENT_PAIRED:
		/* As libusbmuxd: an unknown DeviceID is ignored. */
		if (i == nhandles) {
			log_debug("usbmuxd: event for unknown device %u",
			    ev->handle);
			return (0);
		}
		if (ev->kind == MUX_EVENT_REMOVE)
			handles[i] = handles[--nhandles];
		break;
	}
	handler(ev, handler_arg);
	return (0);
}

/* Act on one well-formed message. 0, or -1 if the connection went. */
static int
muxwatch_message(const struct muxproto_msg *m)
{
	char	*cause;

	if (m->kind == MUXPROTO_OTHER) {
		xasprintf(&cause, "unknown MessageType \"%s\"", m->type);
		muxwatch_fault(cause);
		return (-1);
	}
	if (!listening) {
		if (m->kind != MUXPROTO_RESULT) {
			muxwatch_fault(xstrdup("an event came before the "
			    "answer to Listen"));
			return (-1);
		}
		if (m->number != 0) {
			xasprintf(&cause, "Listen was refused with result "
			    "%u", m->number);
			muxwatch_fault(cause);
			return (-1);
		}
		listening = 1;
		bufferevent_set_timeouts(bev, NULL, NULL);
		log_debug("usbmuxd: listening");
		return (0);
	}
	if (m->kind == MUXPROTO_RESULT) {
		log_debug("usbmuxd: a Result %u on a Listen connection",
		    m->number);
		return (0);
	}
	/* usbmuxd talks sense again: the next garbage starts over. */
	faults = 0;
	return (muxwatch_event(&m->ev));
}

/* Take every whole message in the input. */
static void
muxwatch_read_cb(struct bufferevent *b, void *unused)
{
	struct evbuffer		*in = bufferevent_get_input(b);
	struct muxproto_msg	 m;
	unsigned char		 hdr[MUXPROTO_HEADER], *payload;
	uint32_t		 len, tag;
	char			*cause;
	int			 ret;

	(void)unused;
	while (evbuffer_get_length(in) >= sizeof(hdr)) {
		(void)evbuffer_copyout(in, hdr, sizeof(hdr));
		if (muxproto_header(hdr, MUXPROTO_MAX_EVENT, &len, &tag,
		    &cause) == -1) {
			muxwatch_fault(cause);
			return;
		}
		if (evbuffer_get_length(in) < sizeof(hdr) + len)
			return;
		(void)evbuffer_drain(in, sizeof(hdr));
		if ((payload = evbuffer_pullup(in, len)) == NULL)
			fatalx("%s: evbuffer_pullup", __func__);
		ret = muxproto_decode(payload, len, &m, &cause);
		(void)evbuffer_drain(in, len);
		if (ret == -1) {
			muxwatch_fault(cause);
			return;
		}
		if (muxwatch_message(&m) == -1)
			return;
	}
}

/* The connection ended: usbmuxd went, or sent half a message. */
static void
muxwatch_event_cb(struct bufferevent *b, short what, void *unused)
{
	size_t	left;

	(void)unused;
	left = evbuffer_get_length(bufferevent_get_input(b));
	if (what & BEV_EVENT_TIMEOUT) {
		muxwatch_fault(xstrdup("no answer to Listen within 5 s"));
		return;
	}
	if (left > 0) {
		muxwatch_fault(xstrdup("the connection ended in the middle "
		    "of a message"));
		return;
	}
	if (what & BEV_EVENT_ERROR)
		log_info("usbmuxd: connection lost: %s; listening again",
		    strerror(EVUTIL_SOCKET_ERROR()));
	else
		log_info("usbmuxd closed the connection; listening again");
	muxwatch_drop(0);
}

/* Connect, with the socket refusing or missing as the quiet case. */
static int
muxwatch_socket(void)
{
	struct sockaddr_un	 sun;
	int			 fd, saved_errno;

	if (muxproto_sockaddr(&sun) == -1)
		return (-1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		saved_errno = errno;
		(void)close(fd);
		errno = saved_errno;
		return (-1);
	}
	return (fd);
}

/* Connect and send Listen; on failure, try again later. */
static void
muxwatch_connect(void)
{
	struct timeval	 tv = { MUXWATCH_ANSWER_S, 0 };
	char		*req, every[32];
	size_t		 len;
	int		 fd;

	if ((fd = muxwatch_socket()) == -1) {
		/*
		 * Debian's usbmuxd leaves its socket behind when it exits
		 * (muxquery.c): gone, not broken. A full backlog, likewise.
		 */
		if (!absent)
			log_info("usbmuxd at %s: %s; trying again every %s",
			    muxproto_path(), strerror(errno),
			    lq_fmt_duration(every, sizeof(every), retry_us));
		absent = 1;
		muxwatch_schedule(retry_us);
		return;
	}
	if (absent)
		log_info("usbmuxd at %s is back", muxproto_path());
	absent = 0;
	if ((bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE)) ==
	    NULL)
		fatalx("%s: bufferevent_socket_new", __func__);
	bufferevent_setcb(bev, muxwatch_read_cb, NULL, muxwatch_event_cb,
	    NULL);
	/* Past one whole message, stop reading until it is taken. */
	bufferevent_setwatermark(bev, EV_READ, 0,
	    MUXPROTO_HEADER + MUXPROTO_MAX_EVENT);
	muxproto_request("Listen", ++last_tag, &req, &len);
	if (bufferevent_write(bev, req, len) == -1)
		fatalx("%s: bufferevent_write", __func__);
	free(req);
	bufferevent_set_timeouts(bev, &tv, NULL);
	if (bufferevent_enable(bev, EV_READ) == -1)
		fatalx("%s: bufferevent_enable", __func__);
}

/* The timer: try to connect. */
static void
muxwatch_retry_cb(evutil_socket_t fd, short what, void *unused)
{
	(void)fd;
	(void)what;
	(void)unused;
	muxwatch_connect();
}

/* Start following usbmuxd. */
int
muxwatch_start(struct event_base *b, int64_t retry, muxwatch_fn fn,
    void *arg)
{
	base = b;
	retry_us = retry;
	handler = fn;
	handler_arg = arg;
	if ((retry_ev = evtimer_new(base, muxwatch_retry_cb, NULL)) == NULL) {
		log_warnx("%s: evtimer_new", __func__);
		return (-1);
	}
	muxwatch_connect();
	return (0);
}

/* Close the connection; no event is handed over any more. */
void
muxwatch_stop(void)
{
	if (bev != NULL)
		bufferevent_free(bev);
	bev = NULL;
	if (retry_ev != NULL)
		event_free(retry_ev);
	retry_ev = NULL;
	free(handles);
	handles = NULL;
	nhandles = 0;
	listening = 0;
}
