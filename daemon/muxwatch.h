/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The usbmuxd subscription: linkqd's own Listen connection to usbmuxd,
 * on the loop, instead of libusbmuxd's usbmuxd_events_subscribe. That
 * thread of libusbmuxd 2.0.2 keeps the old socket open each time it
 * reconnects (device_monitor, src/libusbmuxd.c:1096-1130, never closes
 * listenfd before usbmuxd_listen replaces it: a descriptor per usbmuxd
 * restart), and its parser reads past short legacy messages and
 * allocates whatever length usbmuxd's header says (receive_packet,
 * get_next_event), inside linkqd. Here every message is checked by
 * muxproto.c with bounds, and what usbmuxd sends wrong closes the
 * connection with the reason logged.
 *
 * Everything runs on the loop thread, handler calls included. When the
 * connection goes (usbmuxd exits or restarts, or sent garbage) each
 * device it reported is handed over as removed, as libusbmuxd did.
 * Then linkqd connects again: at once after a clean close, every
 * usbmuxd-retry while nobody listens (without a log line per try), and
 * with a backoff doubling up to 30 s after garbage, until usbmuxd sends
 * a well-formed event again.
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

/*
 * Follow usbmuxd's devices on the loop of base, trying again every
 * retry_us while it is absent; events reach fn. 0 or -1 (logged).
 */
int	muxwatch_start(struct event_base *, int64_t, muxwatch_fn, void *);
/* Close the connection; no more events. Loop thread. */
void	muxwatch_stop(void);

#endif /* LQ_MUXWATCH_H */
