/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * A hostile or broken phone's malformed replies (contract in hostile.h).
 *
 * Each kind is made to meet one path of libimobiledevice 1.3.0's
 * readers, afc_receive_data (src/afc.c:209-352) for AFC and
 * internal_plist_receive_timeout (src/property_list_service.c) for
 * lockdown; the comment on each builder says which, and linkq-sim(1),
 * HOSTILE PHONES, what the library then does. Every reply goes out
 * with one conn_write, as the honest ones do (afc.c), so that what the
 * client's single recv(2) sees is decided here and not by timing.
 */

#include <sys/socket.h>

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <plist/plist.h>

#include "compat/compat.h"
#include "log.h"
#include "xmalloc.h"

#include "afc.h"
#include "hostile.h"
#include "sim.h"

#define H_AFC_MAGIC		"CFA6LPAA"
#define H_AFC_BAD_MAGIC		"CFA6LPXX"
#define H_AFC_HEADER		40
#define H_AFC_OP_STATUS		0x01
#define H_AFC_OP_DATA		0x02
/* No AFC operation has this code (libimobiledevice 1.3.0 afc.h). */
#define H_AFC_OP_UNKNOWN	0x7f
/* No afcd sends this status; the client passes it on as it is. */
#define H_AFC_STATUS_CODE	99
/*
 * Header-data beyond entire_length: a heap overflow of this much. Kept
 * small so that it lands in memory the client has mapped: a larger
 * one may reach an unmapped page, and then the kernel fails the whole
 * recv(2) with EFAULT and nothing is overwritten at all.
 */
#define H_AFC_OVERFLOW		1024
/* The entire_length that makes the client's receive loop spin. */
#define H_AFC_HUGE		(UINT64_C(1) << 63)
/* Bytes of the 40-byte header a short reply sends. */
#define H_AFC_SHORT		20
#define H_LOCKDOWN_HUGE		(UINT32_C(1) << 31)
#define H_GARBAGE_LEN		64

enum hostile_layer {
	HOSTILE_LAYER_NONE,
	HOSTILE_LAYER_AFC,
	HOSTILE_LAYER_LOCKDOWN
};

/* The vocabulary: every kind, its name and the service it breaks. */
static const struct {
	enum hostile_kind	 kind;
	const char		*name;
	enum hostile_layer	 layer;
} hostile_kinds[] = {
	{ HOSTILE_NONE, "none", HOSTILE_LAYER_NONE },
	{ HOSTILE_AFC_THIS_GT_ENTIRE, "afc-this-gt-entire",
	    HOSTILE_LAYER_AFC },
	{ HOSTILE_AFC_HUGE_ENTIRE, "afc-huge-entire", HOSTILE_LAYER_AFC },
	{ HOSTILE_AFC_SHORT, "afc-short", HOSTILE_LAYER_AFC },
	{ HOSTILE_AFC_BAD_MAGIC, "afc-bad-magic", HOSTILE_LAYER_AFC },
	{ HOSTILE_AFC_OP, "afc-op", HOSTILE_LAYER_AFC },
	{ HOSTILE_AFC_STATUS, "afc-status", HOSTILE_LAYER_AFC },
	{ HOSTILE_AFC_CUT, "afc-cut", HOSTILE_LAYER_AFC },
	{ HOSTILE_LOCKDOWN_GARBAGE, "lockdown-garbage",
	    HOSTILE_LAYER_LOCKDOWN },
	{ HOSTILE_LOCKDOWN_HUGE_LENGTH, "lockdown-huge-length",
	    HOSTILE_LAYER_LOCKDOWN },
	{ HOSTILE_LOCKDOWN_WRONG_TYPE, "lockdown-wrong-type",
	    HOSTILE_LAYER_LOCKDOWN },
	{ HOSTILE_LOCKDOWN_MISSING, "lockdown-missing",
	    HOSTILE_LAYER_LOCKDOWN },
};

/* Parse a kind's name. */
int
hostile_parse(const char *name, enum hostile_kind *kind, char **cause)
{
	char	*list = NULL, *next;
	size_t	 i;

	for (i = 0; i < nitems(hostile_kinds); i++) {
		if (strcmp(hostile_kinds[i].name, name) == 0) {
			*kind = hostile_kinds[i].kind;
			return (0);
		}
	}
	for (i = 0; i < nitems(hostile_kinds); i++) {
		xasprintf(&next, "%s%s%s", list != NULL ? list : "",
		    list != NULL ? ", " : "", hostile_kinds[i].name);
		free(list);
		list = next;
	}
	xasprintf(cause, "hostile=%s: expected one of %s (linkq-sim(1), "
	    "HOSTILE PHONES)", name, list);
	free(list);
	return (-1);
}

/* The name of a kind. */
const char *
hostile_name(enum hostile_kind kind)
{
	size_t	i;

	for (i = 0; i < nitems(hostile_kinds); i++) {
		if (hostile_kinds[i].kind == kind)
			return (hostile_kinds[i].name);
	}
	return ("none");
}

/* The layer a kind breaks. */
static enum hostile_layer
hostile_layer(enum hostile_kind kind)
{
	size_t	i;

	for (i = 0; i < nitems(hostile_kinds); i++) {
		if (hostile_kinds[i].kind == kind)
			return (hostile_kinds[i].layer);
	}
	return (HOSTILE_LAYER_NONE);
}

enum hostile_kind
hostile_get(struct sim_device *dev)
{
	return ((enum hostile_kind)atomic_load(&dev->hostile));
}

void
hostile_set(struct sim_device *dev, enum hostile_kind kind)
{
	atomic_store(&dev->hostile, (int)kind);
}

enum hostile_kind
hostile_afc(struct sim_device *dev)
{
	enum hostile_kind	kind;

	if (dev == NULL)
		return (HOSTILE_NONE);
	kind = hostile_get(dev);
	return (hostile_layer(kind) == HOSTILE_LAYER_AFC ? kind :
	    HOSTILE_NONE);
}

enum hostile_kind
hostile_lockdown(struct sim_device *dev)
{
	enum hostile_kind	kind;

	if (dev == NULL)
		return (HOSTILE_NONE);
	kind = hostile_get(dev);
	return (hostile_layer(kind) == HOSTILE_LAYER_LOCKDOWN ? kind :
	    HOSTILE_NONE);
}

/* Count and log one malformed reply, so that tests can wait for it. */
static void
hostile_note(struct sim_conn *c, enum hostile_kind kind, const char *what)
{
	if (c->dev == NULL)
		return;
	atomic_fetch_add(&c->dev->hostile_replies, 1);
	log_debug("hostile: %s: %s: %s", c->dev->udid, hostile_name(kind),
	    what);
}

/* Read and drop whatever the client sends until it leaves. */
static void
hostile_silence(struct sim_conn *c)
{
	unsigned char	b;

	while (conn_read(c, &b, 1) == 0)
		continue;
}

/* Fill in a 40-byte AFC header. */
static void
hostile_afc_header(unsigned char *p, const char *magic, uint64_t entire,
    uint64_t this, uint64_t num, uint64_t op)
{
	memcpy(p, magic, 8);
	afc_put64(p + 8, entire);
	afc_put64(p + 16, this);
	afc_put64(p + 24, num);
	afc_put64(p + 32, op);
}

/*
 * The reply as afc.c would send it, with magic, op and status swapped
 * as the kind says: afc-bad-magic, afc-op, afc-status. The client
 * checks the magic with a debug message only (afc.c:237-239), answers
 * an unknown op with AFC_E_OP_NOT_SUPPORTED (afc.c:330-342) and
 * returns any non-zero status as it is (afc.c:311-319).
 */
static int
hostile_afc_swapped(struct sim_conn *c, enum hostile_kind kind,
    const struct hostile_afc_reply *r)
{
	unsigned char	*buf;
	size_t		 len = r->len;
	uint64_t	 op = r->op;
	int		 ret;

	if (kind == HOSTILE_AFC_STATUS) {
		op = H_AFC_OP_STATUS;
		len = 8;
	} else if (kind == HOSTILE_AFC_OP)
		op = H_AFC_OP_UNKNOWN;
	buf = xmalloc(H_AFC_HEADER + len);
	hostile_afc_header(buf, kind == HOSTILE_AFC_BAD_MAGIC ?
	    H_AFC_BAD_MAGIC : H_AFC_MAGIC, H_AFC_HEADER + len,
	    r->payload && kind != HOSTILE_AFC_STATUS ? H_AFC_HEADER :
	    H_AFC_HEADER + len, r->num, op);
	if (kind == HOSTILE_AFC_STATUS)
		afc_put64(buf + H_AFC_HEADER, H_AFC_STATUS_CODE);
	else if (len > 0)
		memcpy(buf + H_AFC_HEADER, r->data, len);
	ret = conn_write(c, buf, H_AFC_HEADER + len);
	free(buf);
	return (ret);
}

/*
 * afc-this-gt-entire: entire_length 48, this_length 40 + 1 KiB, and
 * the 1 KiB. The client allocates entire_length - 40 = 8 bytes and
 * receives this_length - 40 into them (afc.c:266-280): a heap overflow
 * of 1016 bytes of 0xff, which ASan and valgrind report at once and
 * glibc's malloc may find later as a corrupted chunk size.
 */
static int
hostile_afc_overflow(struct sim_conn *c, const struct hostile_afc_reply *r)
{
	unsigned char	*buf;
	int		 ret;

	buf = xmalloc(H_AFC_HEADER + H_AFC_OVERFLOW);
	hostile_afc_header(buf, H_AFC_MAGIC, H_AFC_HEADER + 8,
	    H_AFC_HEADER + H_AFC_OVERFLOW, r->num, H_AFC_OP_DATA);
	memset(buf + H_AFC_HEADER, 0xff, H_AFC_OVERFLOW);
	ret = conn_write(c, buf, H_AFC_HEADER + H_AFC_OVERFLOW);
	free(buf);
	return (ret);
}

/*
 * afc-huge-entire: entire_length 2^63, this_length 48 and 8 bytes, then
 * the connection closes. The client casts entire_length to 32 bits and
 * allocates 0 - 40 = 4294967256 bytes (afc.c:263-266), then loops until
 * it has that many (afc.c:284-296). After the close, each read fails,
 * and service_receive leaves the count of the last good read (8) where
 * it was (service.c:165-172), so the loop adds 8 per failed read:
 * half a billion reads, minutes of one core, without a timeout.
 */
static int
hostile_afc_huge(struct sim_conn *c, const struct hostile_afc_reply *r)
{
	unsigned char	buf[H_AFC_HEADER + 8];

	memset(buf, 0, sizeof(buf));
	hostile_afc_header(buf, H_AFC_MAGIC, H_AFC_HUGE, H_AFC_HEADER + 8,
	    r->num, r->op);
	memcpy(buf + H_AFC_HEADER, r->data, r->len < 8 ? r->len : 8);
	(void)conn_write(c, buf, sizeof(buf));
	return (-1);
}

/*
 * afc-cut: the reply but its last byte, then the connection closes, as
 * a phone that resets in the middle of a reply. A header cut short is
 * AFC_E_MUX_ERROR, header-data cut short AFC_E_NOT_ENOUGH_DATA
 * (afc.c:226-280); a payload cut short is counted again by the receive
 * loop as afc-huge-entire's is, so the client returns more bytes than
 * arrived, and than it allocated (afc.c:284-296): uninitialised data
 * from afc_file_read, an over-read in afc_read_directory.
 */
static int
hostile_afc_cut(struct sim_conn *c, const struct hostile_afc_reply *r)
{
	unsigned char	*buf;

	buf = xmalloc(H_AFC_HEADER + r->len);
	hostile_afc_header(buf, H_AFC_MAGIC, H_AFC_HEADER + r->len,
	    r->payload ? H_AFC_HEADER : H_AFC_HEADER + r->len, r->num, r->op);
	if (r->len > 0)
		memcpy(buf + H_AFC_HEADER, r->data, r->len);
	(void)conn_write(c, buf, H_AFC_HEADER + r->len - 1);
	free(buf);
	return (-1);
}

int
hostile_afc_send(struct sim_conn *c, enum hostile_kind kind,
    const struct hostile_afc_reply *r)
{
	unsigned char	hdr[H_AFC_HEADER];
	char		what[64];

	(void)snprintf(what, sizeof(what), "reply to AFC packet %" PRIu64,
	    r->num);
	hostile_note(c, kind, what);
	switch (kind) {
	case HOSTILE_AFC_THIS_GT_ENTIRE:
		return (hostile_afc_overflow(c, r));
	case HOSTILE_AFC_HUGE_ENTIRE:
		return (hostile_afc_huge(c, r));
	case HOSTILE_AFC_SHORT:
		/*
		 * Half a header, then silence: the client's one recv of
		 * the header comes back short, AFC_E_MUX_ERROR
		 * (afc.c:226-233); its next request waits for ever.
		 */
		hostile_afc_header(hdr, H_AFC_MAGIC, H_AFC_HEADER + r->len,
		    H_AFC_HEADER, r->num, r->op);
		if (conn_write(c, hdr, H_AFC_SHORT) == 0)
			hostile_silence(c);
		return (-1);
	case HOSTILE_AFC_CUT:
		return (hostile_afc_cut(c, r));
	default:
		return (hostile_afc_swapped(c, kind, r));
	}
}

/* Send a length prefix and len bytes, in one write. */
static int
hostile_frame(struct sim_conn *c, uint32_t prefix, const void *body,
    size_t len)
{
	unsigned char	*buf;
	uint32_t	 be;
	int		 ret;

	buf = xmalloc(4 + len);
	be = htonl(prefix);
	memcpy(buf, &be, 4);
	memcpy(buf + 4, body, len);
	ret = conn_write(c, buf, 4 + len);
	free(buf);
	return (ret);
}

/* Send a plist as XML behind the length prefix, which may lie. */
static int
hostile_plist(struct sim_conn *c, plist_t msg, int huge)
{
	char		*xml = NULL;
	uint32_t	 len = 0;
	int		 ret;

	plist_to_xml(msg, &xml, &len);
	plist_free(msg);
	if (xml == NULL)
		return (-1);
	ret = hostile_frame(c, huge ? H_LOCKDOWN_HUGE : len, xml, len);
	free(xml);
	return (ret);
}

int
hostile_lockdown_send(struct sim_conn *c, enum hostile_kind kind,
    const char *request)
{
	unsigned char	 junk[H_GARBAGE_LEN];
	plist_t		 msg;
	size_t		 i;

	if (request == NULL)
		request = "";
	hostile_note(c, kind, request);
	switch (kind) {
	case HOSTILE_LOCKDOWN_GARBAGE:
		/*
		 * Neither "bplist00" nor "<?xml": the client parses
		 * nothing and returns LOCKDOWN_E_PLIST_ERROR.
		 */
		for (i = 0; i < sizeof(junk); i++)
			junk[i] = (unsigned char)(i * 37 + 1);
		return (hostile_frame(c, sizeof(junk), junk, sizeof(junk)));
	case HOSTILE_LOCKDOWN_HUGE_LENGTH:
		/*
		 * 2^31 announced, a short reply sent, then the close: the
		 * client allocates 2 GiB, reads what came and fails at the
		 * close (LOCKDOWN_E_MUX_ERROR or a receive error).
		 */
		msg = plist_new_dict();
		plist_dict_set_item(msg, "Request", plist_new_string(request));
		plist_dict_set_item(msg, "Result", plist_new_string("Success"));
		(void)hostile_plist(c, msg, 1);
		return (-1);
	case HOSTILE_LOCKDOWN_WRONG_TYPE:
		/* An array where every reader looks up a dictionary. */
		msg = plist_new_array();
		plist_array_append_item(msg, plist_new_string("Request"));
		plist_array_append_item(msg, plist_new_string(request));
		return (hostile_plist(c, msg, 0));
	case HOSTILE_LOCKDOWN_MISSING:
		/* A dictionary, with none of Request, Result or Error. */
		msg = plist_new_dict();
		plist_dict_set_item(msg, "Hostile", plist_new_string(request));
		return (hostile_plist(c, msg, 0));
	default:
		return (-1);
	}
}
