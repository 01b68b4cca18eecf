/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * What the probe kinds share (contract in probe.h): the table of their
 * ops, the result's initial state, and the seeded stream the bulk and
 * afc-roundtrip probes write and check.
 *
 * DESIGN: the stream is made of 8-byte words, word w being
 * splitmix64(seed ^ w * golden ratio) stored little-endian, so any byte
 * can be computed from its offset alone: a segment read back is checked
 * in place, whatever was written before it, and a flipped bit is found
 * to the byte. splitmix64 is a few multiplies per word, which keeps
 * filling and checking well above the link's speed (the unit test
 * checks the value of every byte against that definition).
 */

#include <endian.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "compat/compat.h"
#include "lq-status.h"
#include "probe.h"

#define STREAM_GOLDEN	UINT64_C(0x9e3779b97f4a7c15)

static const struct probe_ops *const probe_table[] = {
	&probe_mux_connect_ops,
	&probe_lockdown_query_ops,
	&probe_lockdown_handshake_ops,
	&probe_afc_roundtrip_ops,
	&probe_bulk_ops,
	&probe_usb_control_ops,
};

static uint64_t	stream_word(uint64_t, uint64_t);

/* Return the ops of kind, or NULL. */
const struct probe_ops *
probe_ops_find(int kind)
{
	size_t	i;

	for (i = 0; i < nitems(probe_table); i++) {
		if ((int)probe_table[i]->kind == kind)
			return (probe_table[i]);
	}
	return (NULL);
}

/* Set result to "not run yet". */
void
probe_result_init(struct probe_result *result)
{
	memset(result, 0, sizeof(*result));
	result->status = LQ_OK;
	result->corrupt_offset = -1;
	result->detail = NULL;
}

/* Word w of the stream of seed, as a number (stored little-endian). */
static uint64_t
stream_word(uint64_t seed, uint64_t w)
{
	uint64_t	z;

	z = (seed ^ (w * STREAM_GOLDEN)) + STREAM_GOLDEN;
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return (z ^ (z >> 31));
}

/* Write len bytes of the stream of seed, from offset, into buf. */
void
stream_fill(uint64_t seed, uint64_t offset, void *buf, size_t len)
{
	unsigned char	*p = buf;
	uint64_t	 w, v;
	size_t		 skip, n;

	w = offset / 8;
	if ((skip = (size_t)(offset % 8)) != 0 && len > 0) {
		v = htole64(stream_word(seed, w++));
		n = 8 - skip < len ? 8 - skip : len;
		memcpy(p, (unsigned char *)&v + skip, n);
		p += n;
		len -= n;
	}
	for (; len >= 8; len -= 8, p += 8) {
		v = htole64(stream_word(seed, w++));
		memcpy(p, &v, 8);
	}
	if (len > 0) {
		v = htole64(stream_word(seed, w));
		memcpy(p, &v, len);
	}
}

/*
 * Return the stream offset of the first byte of buf (len bytes, from
 * offset) that differs from the stream of seed, or -1.
 */
int64_t
stream_verify(uint64_t seed, uint64_t offset, const void *buf, size_t len)
{
	const unsigned char	*p = buf, *e;
	uint64_t		 w, v, got;
	size_t			 pos = 0, skip, n, i;

	w = offset / 8;
	skip = (size_t)(offset % 8);
	/*
	 * The common case, whole words from a word boundary, in a tight
	 * loop: the general one below is slower per byte, and what it
	 * costs the bulk probe's reads pay (bench/README.md). A
	 * word that differs is looked at again byte by byte below.
	 */
	if (skip == 0) {
		for (; len - pos >= 8; pos += 8, w++) {
			memcpy(&got, p + pos, 8);
			if (got != htole64(stream_word(seed, w)))
				break;
		}
	}
	while (pos < len) {
		v = htole64(stream_word(seed, w++));
		e = (const unsigned char *)&v + skip;
		n = 8 - skip < len - pos ? 8 - skip : len - pos;
		if (n == 8) {
			memcpy(&got, p + pos, 8);
			if (got == v) {
				pos += 8;
				continue;
			}
		}
		for (i = 0; i < n; i++) {
			if (p[pos + i] != e[i])
				return ((int64_t)(offset + pos + i));
		}
		pos += n;
		skip = 0;
	}
	return (-1);
}
