/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * One ListDevices request on the usbmuxd socket (contract in
 * muxquery.h): a 16-byte little-endian header (length, version 1,
 * message 8 for plist, tag) and an XML plist each way.
 */

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <plist/plist.h>

#include "compat/compat.h"
#include "log.h"
#include "muxproto.h"
#include "muxquery.h"
#include "xmalloc.h"

#define MUXQUERY_TIMEOUT_S	5

/*
 * Connect to the usbmuxd socket, with send and receive timeouts. On
 * failure errno is connect's (or socket's).
 */
static int
muxquery_connect(char **cause)
{
	struct sockaddr_un	 sun;
	struct timeval		 tv;
	const char		*path = muxproto_path();
	int			 fd, saved_errno;

	if (muxproto_sockaddr(&sun) == -1) {
		xasprintf(cause, "usbmuxd socket path %s is too long", path);
		return (-1);
	}
	tv.tv_sec = MUXQUERY_TIMEOUT_S;
	tv.tv_usec = 0;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		saved_errno = errno;
		xasprintf(cause, "usbmuxd at %s: %s", path,
		    strerror(saved_errno));
		if (fd != -1)
			(void)close(fd);
		errno = saved_errno;
		return (-1);
	}
	return (fd);
}

static time_t	muxquery_now(void);

/*
 * Read exactly len bytes; 0 or -1. SO_RCVTIMEO bounds each read, and
 * the deadline the whole answer, so that a usbmuxd sending a byte at a
 * time cannot hold the worker.
 */
static int
muxquery_read(int fd, void *buf, size_t len, time_t deadline)
{
	unsigned char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		if (muxquery_now() > deadline)
			return (-1);
		n = read(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return (-1);
		p += n;
		len -= (size_t)n;
	}
	return (0);
}

/* Seconds on the monotonic clock. */
static time_t
muxquery_now(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		fatal("clock_gettime");
	return (ts.tv_sec);
}

/* Send ListDevices and read the reply plist, checked (muxproto.c). */
static plist_t
muxquery_exchange(int fd, char **cause)
{
	plist_t		 reply;
	unsigned char	 hdr[MUXPROTO_HEADER];
	uint32_t	 len, tag;
	char		*buf, *why;
	size_t		 total;
	time_t		 deadline;

	deadline = muxquery_now() + MUXQUERY_TIMEOUT_S;
	muxproto_request("ListDevices", 1, &buf, &total);
	if (send(fd, buf, total, MSG_NOSIGNAL) != (ssize_t)total) {
		xasprintf(cause, "usbmuxd: send: %s", strerror(errno));
		free(buf);
		return (NULL);
	}
	free(buf);
	if (muxquery_read(fd, hdr, sizeof(hdr), deadline) == -1) {
		xasprintf(cause, "usbmuxd: no answer to ListDevices");
		return (NULL);
	}
	if (muxproto_header(hdr, MUXPROTO_MAX_REPLY, &len, &tag, &why) ==
	    -1) {
		xasprintf(cause, "usbmuxd: ListDevices answered with a %s",
		    why);
		free(why);
		return (NULL);
	}
	buf = xmalloc(len);
	if (muxquery_read(fd, buf, len, deadline) == -1) {
		xasprintf(cause, "usbmuxd: ListDevices answer cut short");
		free(buf);
		return (NULL);
	}
	reply = muxproto_dict(buf, len, &why);
	free(buf);
	if (reply == NULL) {
		xasprintf(cause, "usbmuxd: ListDevices answer: %s", why);
		free(why);
	}
	return (reply);
}

/* Read an unsigned integer key; 0 or -1. */
static int
muxquery_uint(plist_t dict, const char *key, uint64_t *value)
{
	plist_t	node;

	node = plist_dict_get_item(dict, key);
	if (node == NULL || plist_get_node_type(node) != PLIST_UINT)
		return (-1);
	plist_get_uint_val(node, value);
	return (0);
}

/* List the USB devices with their location and speed. */
int
muxquery_list(struct mux_location *out, size_t max, size_t *n,
    char **cause)
{
	plist_t		reply, list, props;
	uint64_t	handle, location, speed;
	uint32_t	i, count;
	int		fd;

	*n = 0;
	*cause = NULL;
	if ((fd = muxquery_connect(cause)) == -1)
		return (-1);
	reply = muxquery_exchange(fd, cause);
	(void)close(fd);
	if (reply == NULL)
		return (-1);
	list = plist_dict_get_item(reply, "DeviceList");
	if (list == NULL || plist_get_node_type(list) != PLIST_ARRAY) {
		xasprintf(cause, "usbmuxd: ListDevices reply has no "
		    "DeviceList");
		plist_free(reply);
		return (-1);
	}
	count = plist_array_get_size(list);
	for (i = 0; i < count && *n < max; i++) {
		props = plist_dict_get_item(plist_array_get_item(list, i),
		    "Properties");
		if (props == NULL || plist_get_node_type(props) != PLIST_DICT ||
		    muxquery_uint(props, "DeviceID", &handle) == -1 ||
		    muxquery_uint(props, "LocationID", &location) == -1)
			continue;	/* a network device has no LocationID */
		if (muxquery_uint(props, "ConnectionSpeed", &speed) == -1)
			speed = 0;
		out[*n].handle = (uint32_t)handle;
		out[*n].location_id = (uint32_t)location;
		out[*n].speed_bps = speed;
		(*n)++;
	}
	plist_free(reply);
	return (0);
}

/*
 * Whether usbmuxd accepts connections now. A unix socket connect does
 * not wait, so the loop may call this.
 */
enum muxquery_state
muxquery_reachable(char **cause)
{
	int	fd;

	if ((fd = muxquery_connect(cause)) != -1) {
		(void)close(fd);
		return (MUXQUERY_UP);
	}
	/*
	 * No socket, or nobody listening on it: Debian's usbmuxd 1.1.1
	 * exits when the last phone leaves and leaves its socket behind
	 * (main.c at tag 1.1.1); udev starts it at the next plug.
	 */
	if (errno == ENOENT || errno == ECONNREFUSED)
		return (MUXQUERY_GONE);
	return (MUXQUERY_ERROR);
}
