/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * What libusbmuxd does not pass on: each device's LocationID (bus << 16
 * | device number) and ConnectionSpeed, read with a ListDevices request
 * of our own on the usbmuxd socket (protocols.md 0.5 and 1.4). The
 * query blocks: run it on a worker thread.
 */

#ifndef LQ_MUXQUERY_H
#define LQ_MUXQUERY_H

#include <stddef.h>
#include <stdint.h>

struct mux_location {
	uint32_t	handle;		/* usbmuxd's DeviceID */
	uint32_t	location_id;	/* bus << 16 | device number */
	uint64_t	speed_bps;	/* ConnectionSpeed, 0 unknown */
};

/*
 * Ask usbmuxd (at USBMUXD_SOCKET_ADDRESS=UNIX:path, else
 * /var/run/usbmuxd) for its USB devices; fills up to max entries and
 * *n. Any thread; blocks for at most about 10 s. 0, or -1 with *cause.
 */
int	muxquery_list(struct mux_location *, size_t, size_t *, char **);

/* Whether usbmuxd accepts a connection now. */
enum muxquery_state {
	MUXQUERY_UP,
	MUXQUERY_GONE,		/* not running: no socket, or refused */
	MUXQUERY_ERROR		/* anything else, with *cause */
};
/* The state of usbmuxd now; *cause set unless MUXQUERY_UP. */
enum muxquery_state muxquery_reachable(char **);

#endif /* LQ_MUXQUERY_H */
