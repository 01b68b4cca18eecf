/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * usbmuxd's messages, built and checked (contract in muxproto.h). The
 * checks are those of libusbmuxd 2.0.2's receive_packet and
 * device_info_from_plist (src/libusbmuxd.c:228-465), made strict: a
 * length out of range, another version or message type, a payload that
 * is not an XML dict, or a key missing or of the wrong type is refused
 * with a reason instead of being read past or guessed at.
 */

#include <ctype.h>
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <plist/plist.h>

#include "compat/compat.h"
#include "log.h"
#include "muxproto.h"
#include "xmalloc.h"

#define MUXPROTO_DEFAULT_PATH	"/var/run/usbmuxd"
#define MUXPROTO_VERSION_PLIST	1
#define MUXPROTO_MESSAGE_PLIST	8

/* Where usbmuxd listens, as libusbmuxd finds it (unix sockets only). */
const char *
muxproto_path(void)
{
	const char	*env;

	if ((env = getenv("USBMUXD_SOCKET_ADDRESS")) != NULL &&
	    strncmp(env, "UNIX:", 5) == 0 && env[5] != '\0')
		return (env + 5);
	return (MUXPROTO_DEFAULT_PATH);
}

/* The address of usbmuxd's socket, for connect(2). */
int
muxproto_sockaddr(struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlcpy(sun->sun_path, muxproto_path(), sizeof(sun->sun_path)) >=
	    sizeof(sun->sun_path)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	return (0);
}

/* Build a request with the keys libusbmuxd sends (protocols.md 1.2). */
void
muxproto_request(const char *type, uint32_t tag, char **buf, size_t *len)
{
	plist_t		 req;
	uint32_t	 hdr[4], xml_len = 0;
	char		*xml = NULL;

	req = plist_new_dict();
	plist_dict_set_item(req, "MessageType", plist_new_string(type));
	plist_dict_set_item(req, "ClientVersionString",
	    plist_new_string("linkqd"));
	plist_dict_set_item(req, "ProgName", plist_new_string("linkqd"));
	plist_dict_set_item(req, "kLibUSBMuxVersion", plist_new_uint(3));
	plist_to_xml(req, &xml, &xml_len);
	plist_free(req);
	if (xml == NULL)
		fatalx("%s: plist_to_xml", __func__);
	*len = sizeof(hdr) + xml_len;
	hdr[0] = htole32((uint32_t)*len);
	hdr[1] = htole32(MUXPROTO_VERSION_PLIST);
	hdr[2] = htole32(MUXPROTO_MESSAGE_PLIST);
	hdr[3] = htole32(tag);
	*buf = xmalloc(*len);
	memcpy(*buf, hdr, sizeof(hdr));
	memcpy(*buf + sizeof(hdr), xml, xml_len);
	free(xml);
}

/* Check a header; the payload's length and the tag. */
int
muxproto_header(const void *buf, uint32_t max, uint32_t *len,
    uint32_t *tag, char **cause)
{
	uint32_t	hdr[4], total, version, message;

	memcpy(hdr, buf, sizeof(hdr));
	total = le32toh(hdr[0]);
	version = le32toh(hdr[1]);
	message = le32toh(hdr[2]);
	if (version != MUXPROTO_VERSION_PLIST ||
	    message != MUXPROTO_MESSAGE_PLIST) {
		xasprintf(cause, "message of version %u, type %u: only "
		    "plist messages (version 1, type 8) are expected",
		    version, message);
		return (-1);
	}
	if (total <= MUXPROTO_HEADER || total > max) {
		xasprintf(cause, "message length %u is out of range (%u to "
		    "%u bytes)", total, MUXPROTO_HEADER + 1, max);
		return (-1);
	}
	*len = total - MUXPROTO_HEADER;
	*tag = le32toh(hdr[3]);
	return (0);
}

/* Parse a payload; only a dict is a message. */
plist_t
muxproto_dict(const void *buf, uint32_t len, char **cause)
{
	plist_t	plist = NULL;

	/* plist_from_xml takes any bytes; it stops at len. */
	plist_from_xml(buf, len, &plist);
	if (plist == NULL) {
		xasprintf(cause, "payload of %u bytes is not an XML plist",
		    len);
		return (NULL);
	}
	if (plist_get_node_type(plist) != PLIST_DICT) {
		xasprintf(cause, "payload is a plist but not a dict");
		plist_free(plist);
		return (NULL);
	}
	return (plist);
}

/* An unsigned integer key that must be there; 0 or -1. */
static int
muxproto_uint(plist_t dict, const char *key, uint64_t max, uint64_t *val,
    const char *what, char **cause)
{
	plist_t	node;

	node = plist_dict_get_item(dict, key);
	if (node == NULL || plist_get_node_type(node) != PLIST_UINT) {
		xasprintf(cause, "%s without an integer %s", what, key);
		return (-1);
	}
	plist_get_uint_val(node, val);
	if (*val > max) {
		xasprintf(cause, "%s with %s %llu out of range", what, key,
		    (unsigned long long)*val);
		return (-1);
	}
	return (0);
}

/* A string key that must be there, 1 to size - 1 bytes; 0 or -1. */
static int
muxproto_string(plist_t dict, const char *key, char *out, size_t size,
    const char *what, char **cause)
{
	plist_t		 node;
	const char	*s;
	uint64_t	 i, n = 0;

	node = plist_dict_get_item(dict, key);
	if (node == NULL || plist_get_node_type(node) != PLIST_STRING) {
		xasprintf(cause, "%s without a string %s", what, key);
		return (-1);
	}
	/*
	 * By pointer and length: libplist 2.2's plist_get_string_val
	 * asserts that the length is the string's strlen, so a string
	 * with a NUL byte in it would abort linkqd (found by
	 * fuzz-muxproto).
	 */
	s = plist_get_string_ptr(node, &n);
	if (s == NULL || n == 0 || n >= size) {
		xasprintf(cause, "%s with a %s of %llu bytes", what, key,
		    (unsigned long long)n);
		return (-1);
	}
	for (i = 0; i < n; i++) {
		if (!isprint((unsigned char)s[i])) {
			xasprintf(cause, "%s with a %s that is not text",
			    what, key);
			return (-1);
		}
	}
	memcpy(out, s, n);
	out[n] = '\0';
	return (0);
}

/*
 * The UDID as libusbmuxd gives it (sanitize_udid): usbmuxd reports a
 * 24-digit serial without the dash that the UDID has after 8 digits,
 * and an all-f serial is made unique with the DeviceID.
 */
static void
muxproto_udid(char *udid, size_t size, uint32_t handle)
{
	if (strlen(udid) == 24) {
		memmove(udid + 9, udid + 8, 17);
		udid[8] = '-';
	}
	if (strcasecmp(udid, "ffffffffffffffffffffffffffffffffffffffff") == 0)
		(void)snprintf(udid + 32, size - 32, "%08x", handle);
}

/* Attached: the device's Properties. */
static int
muxproto_attached(plist_t msg, struct mux_event *ev, char **cause)
{
	plist_t		props;
	uint64_t	val;
	char		conn[16];

	props = plist_dict_get_item(msg, "Properties");
	if (props == NULL || plist_get_node_type(props) != PLIST_DICT) {
		xasprintf(cause, "Attached without a Properties dict");
		return (-1);
	}
	ev->kind = MUX_EVENT_ADD;
	if (muxproto_uint(props, "DeviceID", UINT32_MAX, &val, "Attached",
	    cause) == -1)
		return (-1);
	ev->handle = (uint32_t)val;
	/* Optional in libusbmuxd, so here. */
	if (plist_dict_get_item(props, "ProductID") != NULL) {
		if (muxproto_uint(props, "ProductID", UINT16_MAX, &val,
		    "Attached", cause) == -1)
			return (-1);
		ev->product_id = (uint32_t)val;
	}
	if (muxproto_string(props, "SerialNumber", ev->udid,
	    sizeof(ev->udid), "Attached", cause) == -1 ||
	    muxproto_string(props, "ConnectionType", conn, sizeof(conn),
	    "Attached", cause) == -1)
		return (-1);
	if (strcmp(conn, "USB") == 0)
		ev->network = 0;
	else if (strcmp(conn, "Network") == 0)
		ev->network = 1;
	else {
		xasprintf(cause, "Attached with ConnectionType \"%s\": USB or "
		    "Network are expected", conn);
		return (-1);
	}
	muxproto_udid(ev->udid, sizeof(ev->udid), ev->handle);
	return (0);
}

/* Decode one message of a Listen connection. */
int
muxproto_decode(const void *buf, uint32_t len, struct muxproto_msg *m,
    char **cause)
{
	plist_t		 msg;
	uint64_t	 val;
	char		 type[32];
	int		 ret = -1;

	memset(m, 0, sizeof(*m));
	if ((msg = muxproto_dict(buf, len, cause)) == NULL)
		return (-1);
	if (muxproto_string(msg, "MessageType", type, sizeof(type),
	    "message", cause) == -1)
		goto out;
	if (strcmp(type, "Result") == 0) {
		m->kind = MUXPROTO_RESULT;
		if (muxproto_uint(msg, "Number", UINT32_MAX, &val, "Result",
		    cause) == -1)
			goto out;
		m->number = (uint32_t)val;
	} else if (strcmp(type, "Attached") == 0) {
		m->kind = MUXPROTO_EVENT;
		if (muxproto_attached(msg, &m->ev, cause) == -1)
			goto out;
	} else if (strcmp(type, "Detached") == 0 ||
	    strcmp(type, "Paired") == 0) {
		m->kind = MUXPROTO_EVENT;
		m->ev.kind = type[0] == 'D' ? MUX_EVENT_REMOVE :
		    MUX_EVENT_PAIRED;
		if (muxproto_uint(msg, "DeviceID", UINT32_MAX, &val, type,
		    cause) == -1)
			goto out;
		m->ev.handle = (uint32_t)val;
	} else
		m->kind = MUXPROTO_OTHER;
	(void)strlcpy(m->type, type, sizeof(m->type));
	ret = 0;
out:
	plist_free(msg);
	return (ret);
}
