/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * usbmuxd's client protocol as linkqd speaks it (protocols.md 1): a
 * 16-byte little-endian header (total length, version 1, message 8 for
 * plist, tag) and an XML plist. Building requests and checking what
 * usbmuxd sends, with bounds: no I/O here, so that anything usbmuxd
 * sends is judged in one place. Pure functions; any thread.
 */

#ifndef LQ_MUXPROTO_H
#define LQ_MUXPROTO_H

#include <sys/socket.h>
#include <sys/un.h>

#include <stddef.h>
#include <stdint.h>

#include <plist/plist.h>

#include "muxwatch.h"

#define MUXPROTO_HEADER		16
/* One notification: an Attached is under 1 KiB. */
#define MUXPROTO_MAX_EVENT	(64 * 1024)
/* One ListDevices reply: a few KiB per device. */
#define MUXPROTO_MAX_REPLY	(4 * 1024 * 1024)

/* usbmuxd's socket: USBMUXD_SOCKET_ADDRESS=UNIX:path, else the usual. */
const char *muxproto_path(void);
/*
 * That socket's address into *sun: 0, or -1 with errno ENAMETOOLONG
 * when its path does not fit.
 */
int	muxproto_sockaddr(struct sockaddr_un *);

/*
 * A request: "ListDevices" or "Listen". Returns the whole message,
 * header included, in *buf (freed by the caller), and its length.
 */
void	muxproto_request(const char *, uint32_t, char **, size_t *);

/*
 * Check a header: version 1, plist, total length from 17 bytes to max.
 * Sets *len (the payload's) and *tag. 0, or -1 with *cause allocated.
 */
int	muxproto_header(const void *, uint32_t, uint32_t *, uint32_t *,
	    char **);

/* A payload as an XML plist dict. The plist, or NULL with *cause. */
plist_t	muxproto_dict(const void *, uint32_t, char **);

/* What a message on a Listen connection says. */
enum muxproto_kind {
	MUXPROTO_RESULT,	/* number: 0 is success */
	MUXPROTO_EVENT,		/* ev */
	MUXPROTO_OTHER		/* a MessageType linkqd does not know */
};
struct muxproto_msg {
	enum muxproto_kind	 kind;
	uint32_t		 number;
	struct mux_event	 ev;
	char			 type[32];	/* MessageType, cut */
};

/*
 * Decode a message of a Listen connection: Result, Attached, Detached
 * or Paired, each with the keys it needs, of the right types. 0, or -1
 * with *cause allocated.
 */
int	muxproto_decode(const void *, uint32_t, struct muxproto_msg *,
	    char **);

#endif /* LQ_MUXPROTO_H */
