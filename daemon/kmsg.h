/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The kernel's USB messages (research/linux-usb-signals-and-performance.md,
 * B1): records read from /dev/kmsg, or from a regular file that
 * linkq-sim appends them to, parsed, classified into findings and handed
 * to a callback.
 *
 * kmsg_parse(), kmsg_classify(), kmsg_record_end() and kmsg_lost() are
 * pure: no I/O, no global state, any thread. The reader (kmsg_start()
 * and the rest) runs on the loop thread and never busy-polls: the
 * character device is polled for input, a regular file through
 * inotify(7) IN_MODIFY (follow.h).
 *
 * Findings that a user pulling the cable also produces (link errors,
 * EMI re-enables, enumeration failures) are held for KMSG_HOLD_US: a
 * "USB disconnect" of the same port within that time hands them on at
 * once, their text marked "before an unplug: ", with the time they were
 * read. They stay evidence of the run they happened in; the mark says
 * that the unplug may have been their cause.
 */

#ifndef LQ_KMSG_H
#define LQ_KMSG_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#define KMSG_TEXT_MAX		1024	/* kept of a record's text */
#define KMSG_PORT_MAX		64
#define KMSG_HOLD_US		(1000 * 1000)

/* One /dev/kmsg record: "prio,seq,usec,flags[,more];text\n" + lines. */
struct kmsg_record {
	int		 level;		/* syslog level, 0-7 */
	int		 facility;
	uint64_t	 seq;
	uint64_t	 usec;		/* CLOCK_MONOTONIC, microseconds */
	int		 cont;		/* flag 'c': a continuation fragment */
	char		 text[KMSG_TEXT_MAX];	/* escapes left as they are */
	char		 subsystem[32];	/* SUBSYSTEM=, or "" */
	char		 device[64];	/* DEVICE=, or "" */
};

/* What a record means to linkq. */
enum kmsg_class {
	KMSG_NOT_OURS,		/* not a USB message linkq knows */
	KMSG_INFO,		/* known, logged, not evidence */
	KMSG_FINDING		/* an event of kind f->kind */
};

struct kmsg_finding {
	const char	*kind;		/* event kind (vocab.c), or NULL */
	char		 port[KMSG_PORT_MAX]; /* port path (1-4.3), or "" */
	int		 bus;		/* bus number, or -1 if unknown */
	char		 controller[64]; /* host controller named, or "" */
	int		 devnum;	/* device number given, or -1 */
	int		 errnum;	/* kernel errno given (-71), or 0 */
	int		 hold;		/* an unplug makes this too: held */
	int		 disconnect;	/* "USB disconnect" */
};

/*
 * Parse one record of len bytes (header line and its continuation
 * lines; a trailing newline is optional). 0, or -1 if it is malformed.
 */
int		 kmsg_parse(const char *, size_t, struct kmsg_record *);
/* Classify the text of a record; fills in f for every class. */
enum kmsg_class	 kmsg_classify(const char *, struct kmsg_finding *);
/*
 * The length of the first whole record in buf (its newline and its
 * continuation lines included), or 0 if none is complete yet. A record
 * at the end of buf counts as whole, since a writer appends a record
 * with its lines in one write(2).
 */
size_t		 kmsg_record_end(const char *, size_t);
/* Records lost between the one with seq last and the one with seq. */
uint64_t	 kmsg_lost(uint64_t, uint64_t);
/* Whether port path port is parent or below it (1-4.3 under 1-4). */
int		 kmsg_port_under(const char *, const char *);

/* What the reader hands on: a finding, its record's text, wall time. */
typedef void	(*kmsg_fn)(const struct kmsg_finding *, const char *,
		    int64_t);

/*
 * Start reading path on the loop; fn gets each finding once it is no
 * longer held. A path that cannot be read is logged once and said in
 * kmsg_status(); linkqd runs on without it.
 */
void		 kmsg_start(struct event_base *, const char *, kmsg_fn);
/* Stop reading and drop what is held. */
void		 kmsg_stop(void);
/* "reading PATH" or "unreadable: why" (static until the next call). */
const char	*kmsg_status(void);
/* The same, with what to do, for GET /v1/status (sources.h). */
struct source_state;
void		 kmsg_source(struct source_state *);

#endif /* LQ_KMSG_H */
