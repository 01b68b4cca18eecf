/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The usbmuxd subscription. libusbmuxd calls back on its own thread
 * (device_monitor) with its listener mutex held; the callback only
 * copies the event onto a queue and writes one wake-up to an eventfd.
 * The loop thread drains the queue and hands each event to the
 * function given to muxwatch_start, so that everything else runs on
 * the loop. If usbmuxd is absent or restarts, libusbmuxd reports every
 * device removed and keeps reconnecting by itself (once a second, with
 * inotify off so that a socket path of its own is watched too).
 */

#ifndef LQ_MUXWATCH_H
#define LQ_MUXWATCH_H

#include <stdint.h>

#include <event2/event.h>

enum mux_event_kind {
	MUX_EVENT_ADD,
	MUX_EVENT_REMOVE,
	MUX_EVENT_PAIRED
};

struct mux_event {
	enum mux_event_kind	 kind;
	uint32_t		 handle;	/* usbmuxd's DeviceID */
	uint32_t		 product_id;
	char			 udid[44];
	int			 network;	/* connected over Wi-Fi */
};

/* Runs on the loop thread for each event, in order. */
typedef void (*muxwatch_fn)(const struct mux_event *, void *);

/* Subscribe; events reach fn on the loop of base. 0 or -1 (logged). */
int	muxwatch_start(struct event_base *, muxwatch_fn, void *);
/* Unsubscribe and drop what is queued. Loop thread. */
void	muxwatch_stop(void);

#endif /* LQ_MUXWATCH_H */
