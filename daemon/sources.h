/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The evidence sources linkqd reads, for GET /v1/status's "sources":
 * usbmuxd, libusb, kmsg, usbmon and the device's syslog, each on or off
 * with the reason, and what to do when it is off. The names, and which
 * sources verdicts rely on, are in one table in sources.c; each module
 * says its own state (kmsg_source() and the rest). Loop thread only.
 */

#ifndef LQ_SOURCES_H
#define LQ_SOURCES_H

#include <limits.h>

#include <jansson.h>

#define SOURCE_REASON_MAX	(PATH_MAX + 256)

/* What a module says of itself. */
struct source_state {
	int		 on;
	char		 reason[SOURCE_REASON_MAX];
	const char	*advice;	/* static; NULL when on */
};

/* Fill st from the "unreadable: why" or "unavailable: why" of status. */
void	 source_off(struct source_state *, const char *, const char *);

/*
 * Call the function with each source's name, whether verdicts rely on
 * it, and its state now, in the order of the table.
 */
void	 sources_each(void (*)(const char *, int,
	    const struct source_state *, void *), void *);
/*
 * The sources as a JSON array of {"name", "on", "verdicts", "reason",
 * "advice"} (advice only when off); a new reference.
 */
json_t	*sources_json(void);

#endif /* LQ_SOURCES_H */
