/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * usbmuxd events from libusbmuxd's thread to the loop (contract in
 * muxwatch.h). The queue is file-static and guarded by queue_mutex; the
 * callback takes no other lock and never calls back into libusbmuxd.
 */

#include <sys/eventfd.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <usbmuxd.h>

#include "compat/compat.h"
#include "compat/queue.h"
#include "log.h"
#include "muxwatch.h"
#include "xmalloc.h"

struct queued_event {
	struct mux_event		 ev;
	STAILQ_ENTRY(queued_event)	 entry;
};

static pthread_mutex_t		queue_mutex = PTHREAD_MUTEX_INITIALIZER;
static STAILQ_HEAD(, queued_event) queue = STAILQ_HEAD_INITIALIZER(queue);

/* Loop thread only. */
static int				wake_fd = -1;
static struct event			*wake_ev;
static usbmuxd_subscription_context_t	sub;
static muxwatch_fn			handler;
static void				*handler_arg;

/* libusbmuxd's callback: copy, queue, wake the loop. Its thread. */
static void
muxwatch_cb(const usbmuxd_event_t *event, void *unused)
{
	struct queued_event	*q;
	uint64_t		 one = 1;

	(void)unused;
	q = xcalloc(1, sizeof(*q));
	switch (event->event) {
	case UE_DEVICE_ADD:
		q->ev.kind = MUX_EVENT_ADD;
		break;
	case UE_DEVICE_REMOVE:
		q->ev.kind = MUX_EVENT_REMOVE;
		break;
	case UE_DEVICE_PAIRED:
		q->ev.kind = MUX_EVENT_PAIRED;
		break;
	default:
		free(q);
		return;
	}
	q->ev.handle = event->device.handle;
	q->ev.product_id = event->device.product_id;
	(void)strlcpy(q->ev.udid, event->device.udid, sizeof(q->ev.udid));
	q->ev.network = event->device.conn_type == CONNECTION_TYPE_NETWORK;
	if (pthread_mutex_lock(&queue_mutex) != 0)
		fatalx("%s: lock", __func__);
	STAILQ_INSERT_TAIL(&queue, q, entry);
	if (pthread_mutex_unlock(&queue_mutex) != 0)
		fatalx("%s: unlock", __func__);
	/* EAGAIN: the counter is already non-zero, the loop will run. */
	if (write(wake_fd, &one, sizeof(one)) == -1 && errno != EAGAIN)
		log_warn("%s: eventfd", __func__);
}

/* The loop's side: take the whole queue, then handle each event. */
static void
muxwatch_wake_cb(evutil_socket_t fd, short what, void *unused)
{
	STAILQ_HEAD(, queued_event)	 batch;
	struct queued_event		*q;
	uint64_t			 n;

	(void)what;
	(void)unused;
	if (read(fd, &n, sizeof(n)) == -1 && errno != EAGAIN)
		log_warn("%s: eventfd", __func__);
	STAILQ_INIT(&batch);
	if (pthread_mutex_lock(&queue_mutex) != 0)
		fatalx("%s: lock", __func__);
	STAILQ_CONCAT(&batch, &queue);
	if (pthread_mutex_unlock(&queue_mutex) != 0)
		fatalx("%s: unlock", __func__);
	while ((q = STAILQ_FIRST(&batch)) != NULL) {
		STAILQ_REMOVE_HEAD(&batch, entry);
		handler(&q->ev, handler_arg);
		free(q);
	}
}

/* Subscribe to usbmuxd's events. */
int
muxwatch_start(struct event_base *base, muxwatch_fn fn, void *arg)
{
	handler = fn;
	handler_arg = arg;
	if ((wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		log_warn("%s: eventfd", __func__);
		return (-1);
	}
	wake_ev = event_new(base, wake_fd, EV_READ | EV_PERSIST,
	    muxwatch_wake_cb, NULL);
	if (wake_ev == NULL || event_add(wake_ev, NULL) == -1) {
		log_warnx("%s: cannot watch the eventfd", __func__);
		return (-1);
	}
	/*
	 * Debian's libusbmuxd waits for /var/run/usbmuxd with inotify when
	 * the socket is gone and never looks at USBMUXD_SOCKET_ADDRESS
	 * again; polling reconnects to any path (protocols.md 0.2).
	 */
	libusbmuxd_set_use_inotify(0);
	if (usbmuxd_events_subscribe(&sub, muxwatch_cb, NULL) != 0) {
		log_warnx("cannot subscribe to usbmuxd events");
		return (-1);
	}
	return (0);
}

/* Unsubscribe and drop what is queued. */
void
muxwatch_stop(void)
{
	struct queued_event	*q;

	if (sub != NULL)
		(void)usbmuxd_events_unsubscribe(sub);
	sub = NULL;
	if (wake_ev != NULL)
		event_free(wake_ev);
	wake_ev = NULL;
	if (wake_fd != -1)
		(void)close(wake_fd);
	wake_fd = -1;
	while ((q = STAILQ_FIRST(&queue)) != NULL) {
		STAILQ_REMOVE_HEAD(&queue, entry);
		free(q);
	}
}
