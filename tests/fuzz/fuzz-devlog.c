/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * libFuzzer harness: the device syslog parser (daemon/devlog.c). The
 * input is a syslog_relay stream fed in reads of the sizes its first
 * bytes choose, as a session reads it, with the run's tracker taking
 * each read's findings; then every line of it is parsed on its own.
 * Nothing may crash, count more bytes than fed, or make more events
 * than DEVLOG_EVENTS_MAX or an unterminated detail.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devlog.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Check the events made. */
static void
events(const struct devlog_event *ev, int n)
{
	int	i;

	if (n < 0 || n > DEVLOG_EVENTS_MAX)
		abort();
	for (i = 0; i < n; i++) {
		if (ev[i].kind == NULL ||
		    memchr(ev[i].detail, '\0', sizeof(ev[i].detail)) == NULL)
			abort();
	}
}

/* Feed the stream in reads of 1 to 256 bytes, sized by seed. */
static void
stream(const char *buf, size_t len, uint8_t seed)
{
	struct devlog		 d;
	struct devlog_found	 f;
	struct devlog_track	 t;
	struct devlog_event	 ev[DEVLOG_EVENTS_MAX];
	size_t			 n, fed = 0;
	char			*copy;

	memset(&t, 0, sizeof(t));
	devlog_reset(&d);
	while (fed < len) {
		n = (size_t)seed + 1;
		seed = (uint8_t)(seed * 37 + 11);
		if (n > len - fed)
			n = len - fed;
		/* A read of exactly n bytes, so ASan sees past it. */
		if ((copy = malloc(n)) == NULL)
			return;
		memcpy(copy, buf + fed, n);
		memset(&f, 0, sizeof(f));
		devlog_input(&d, copy, n, &f);
		free(copy);
		if (f.bytes > n)
			abort();
		events(ev, devlog_track(&t, &f, ev));
		fed += n;
	}
	events(ev, devlog_track_end(&t, ev));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct devlog_line	 l;
	const char		*p, *end, *nl;
	char			*line;
	size_t			 n;

	if (size < 1)
		return (0);
	stream((const char *)data + 1, size - 1, data[0]);
	for (p = (const char *)data + 1, end = (const char *)data + size;
	    p < end; p += n) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl != NULL ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		if ((line = malloc(n)) == NULL)
			break;
		memcpy(line, p, n);
		if (devlog_parse(line, n, &l) != l.kind)
			abort();
		free(line);
	}
	return (0);
}
