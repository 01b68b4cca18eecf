/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * libFuzzer harness: what linkqd accepts from usbmuxd (daemon/muxproto.c),
 * the one place that judges the bytes of a Listen connection and of a
 * ListDevices answer. The input is one message as it comes off the
 * socket: a 16-byte header, then the payload the header announces. A
 * header accepted must announce a payload within its bound; a message
 * decoded must be of a known kind with its strings terminated; every
 * refusal must give its cause.
 *
 *   make fuzz, or build/fuzz/fuzz-muxproto build/fuzz/corpus/muxproto \
 *       tests/fuzz/corpus/muxproto
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "muxproto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Decode a payload of exactly len bytes (ASan sees a read past it). */
static void
payload(const uint8_t *data, uint32_t len)
{
	struct muxproto_msg	 m;
	uint8_t			*copy;
	char			*cause = NULL;
	plist_t			 dict;

	if ((copy = malloc(len > 0 ? len : 1)) == NULL)
		return;
	memcpy(copy, data, len);
	memset(&m, 0, sizeof(m));
	if (muxproto_decode(copy, len, &m, &cause) == 0) {
		if (cause != NULL || m.kind > MUXPROTO_OTHER ||
		    memchr(m.ev.udid, '\0', sizeof(m.ev.udid)) == NULL ||
		    memchr(m.type, '\0', sizeof(m.type)) == NULL)
			abort();
	} else if (cause == NULL)
		abort();
	free(cause);
	cause = NULL;
	if ((dict = muxproto_dict(copy, len, &cause)) != NULL)
		plist_free(dict);
	else if (cause == NULL)
		abort();
	free(cause);
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t	 len, tag;
	char		*cause = NULL;

	if (size < MUXPROTO_HEADER)
		return (0);
	if (muxproto_header(data, MUXPROTO_MAX_EVENT, &len, &tag,
	    &cause) == 0) {
		if (cause != NULL || len == 0 ||
		    len > MUXPROTO_MAX_EVENT - MUXPROTO_HEADER)
			abort();
	} else if (cause == NULL)
		abort();
	free(cause);
	/* The payload is judged whatever the header said of it. */
	size -= MUXPROTO_HEADER;
	if (size > MUXPROTO_MAX_EVENT)
		size = MUXPROTO_MAX_EVENT;
	payload(data + MUXPROTO_HEADER, (uint32_t)size);
	return (0);
}
