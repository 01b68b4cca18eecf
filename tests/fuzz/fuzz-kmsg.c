/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * libFuzzer harness: the kernel log parser (daemon/kmsg.c). The input is
 * what the reader gets from /dev/kmsg or the simulator's file: it is cut
 * into records as the reader cuts a file, each record parsed and its
 * text classified. Nothing may crash, read past a record, or leave a
 * field unterminated; a finding always names its kind.
 *
 *   make fuzz, or build/fuzz/fuzz-kmsg build/fuzz/corpus/kmsg \
 *       tests/fuzz/corpus/kmsg
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kmsg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Check what kmsg_classify() said of one record's text. */
static void
classify(const char *text)
{
	struct kmsg_finding	f;
	enum kmsg_class		c;

	c = kmsg_classify(text, &f);
	if (c == KMSG_FINDING && f.kind == NULL)
		abort();
	if (memchr(f.port, '\0', sizeof(f.port)) == NULL ||
	    memchr(f.controller, '\0', sizeof(f.controller)) == NULL)
		abort();
	if (f.port[0] != '\0' && !kmsg_port_under(f.port, f.port))
		abort();
}

/* Parse one record; the buffer is exactly its bytes (ASan sees past). */
static void
record(const char *buf, size_t len)
{
	struct kmsg_record	 rec;
	char			*copy;

	copy = malloc(len > 0 ? len : 1);
	if (copy == NULL)
		return;
	memcpy(copy, buf, len);
	if (kmsg_parse(copy, len, &rec) == 0) {
		if (rec.level < 0 || rec.level > 7 ||
		    memchr(rec.text, '\0', sizeof(rec.text)) == NULL ||
		    memchr(rec.subsystem, '\0', sizeof(rec.subsystem)) ==
		    NULL || memchr(rec.device, '\0', sizeof(rec.device)) ==
		    NULL)
			abort();
		classify(rec.text);
	}
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*buf = (const char *)data;
	size_t		 n;
	char		*text;

	/* As the reader of a file cuts it; the rest is one whole record. */
	while (size > 0) {
		if ((n = kmsg_record_end(buf, size)) == 0)
			n = size;
		if (n > size)
			abort();
		record(buf, n);
		buf += n;
		size -= n;
	}
	/* The whole input as a message text, as no header would limit it. */
	if ((text = strndup((const char *)data, (size_t)(buf -
	    (const char *)data))) != NULL) {
		classify(text);
		free(text);
	}
	return (0);
}
