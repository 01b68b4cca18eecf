/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The device's own USB mux counters, read from its syslog
 * (com.apple.syslog_relay) during a run: side evidence, never a verdict.
 *
 * The lines read, after the "<stamp> <host> <process> <Level>: " head
 * that syslog_relay puts on every message (the process must be the
 * kernel):
 * - "AppleUSBDeviceMux::reportStats: USB2.0 reads R, errors RE; writes
 *   W, errors WE; duplicate packets D" ("USB3.0" too), one line, as
 *   linkq-sim prints it (sim/services.c). No real iOS log of this form
 *   has been seen: it is the simulator's.
 * - The real form (a restore log of 2016, idevicerestore issue 254):
 *   three kernel lines, "AppleUSBDeviceMux::reportStats: USB mux
 *   statistics:", "USB mux: R reads / RE errors, W writes / WE errors"
 *   and "USB mux: S short packets, D dups", other lines allowed in
 *   between. iOS printed it when the mux interface was deactivated;
 *   whether a normal-mode device ever prints it while its link is up,
 *   for syslog_relay to carry, is unverified.
 * - "detected duplicate packet. Expected E received R" from process
 *   "kernel(AppleUSBDeviceMux)[0]" (a normal-mode syslog of 2023,
 *   libimobiledevice issue 1399): the device saw a mux packet out of
 *   sequence.
 * The counters are taken to be cumulative, as they look in that log and
 * are in the simulator, so a run compares each sample with its first
 * one, and counters that go back start over.
 *
 * Every function here is pure: no I/O, no global state, any thread.
 * A struct devlog belongs to whoever reads the stream (a session, on
 * its worker); a struct devlog_track to its run, on the loop.
 */

#ifndef LQ_DEVLOG_H
#define LQ_DEVLOG_H

#include <stddef.h>
#include <stdint.h>

#define DEVLOG_LINE_MAX		1024	/* longer lines are not ours */
#define DEVLOG_DETAIL_MAX	512
#define DEVLOG_EVENTS_MAX	3	/* events of one devlog_track() */

/* The event kinds (common/vocab.c). */
#define DEVLOG_KIND_STATS	"device-mux-stats"
#define DEVLOG_KIND_ERRORS	"device-mux-errors"

enum devlog_kind {
	DEVLOG_NONE,		/* not a line linkq reads */
	DEVLOG_STATS,		/* the one-line statistics */
	DEVLOG_STATS_HEAD,	/* "reportStats: USB mux statistics:" */
	DEVLOG_STATS_RW,	/* "USB mux: R reads / RE errors, ..." */
	DEVLOG_STATS_PACKETS,	/* "USB mux: S short packets, D dups" */
	DEVLOG_DUPLICATE	/* "detected duplicate packet. ..." */
};

/* The device's counters at one moment. */
struct devlog_stats {
	int		 usb;		/* 2 (USB2.0), 3 (USB3.0), 0 unsaid */
	int		 has_short;	/* short_packets was said */
	uint64_t	 reads;
	uint64_t	 read_errors;
	uint64_t	 writes;
	uint64_t	 write_errors;
	uint64_t	 duplicates;
	uint64_t	 short_packets;
};

/* What one line says. */
struct devlog_line {
	enum devlog_kind	 kind;
	struct devlog_stats	 stats;	/* STATS; the part RW and PACKETS
					 * say */
	int			 has_seq; /* DUPLICATE said the numbers */
	uint64_t		 expected;
	uint64_t		 received;
};

/*
 * Parse one line of len bytes (no terminator needed; a trailing "\n"
 * or "\r" is ignored). Returns its kind, also in line->kind.
 */
enum devlog_kind devlog_parse(const char *, size_t, struct devlog_line *);

/* What the lines fed since the caller cleared it said. */
struct devlog_found {
	unsigned int		 nstats;	/* whole samples */
	struct devlog_stats	 stats;		/* the last one */
	unsigned int		 ndups;		/* duplicate-packet lines */
	struct devlog_line	 dup;		/* the first of them */
	uint64_t		 bytes;		/* fed, terminators included */
};

/* A syslog_relay byte stream being cut into lines. */
struct devlog {
	char			 line[DEVLOG_LINE_MAX];
	size_t			 len;
	int			 overlong;	/* dropping to the next end */
	int			 stage;		/* of the three-line form: 0,
						 * head seen, RW seen */
	struct devlog_stats	 part;
};

/* Forget any partial line: a new stream starts. */
void	devlog_reset(struct devlog *);
/*
 * Feed len bytes of the stream. A message ends at a NUL (how
 * syslog_relay ends each one) or a newline; empty lines are skipped.
 * Adds what each whole line says to *found.
 */
void	devlog_input(struct devlog *, const char *, size_t,
	    struct devlog_found *);

/* A run's view of the counters. Zeroed at the start of the run. */
struct devlog_track {
	unsigned int		 samples;	/* since base */
	unsigned int		 restarts;	/* counters went back */
	struct devlog_stats	 base;		/* the first sample */
	struct devlog_stats	 last;
	uint64_t		 dups;		/* duplicate-packet lines */
};

/* An event to record: a kind above and its detail. */
struct devlog_event {
	const char	*kind;
	char		 detail[DEVLOG_DETAIL_MAX];
};

/*
 * Take what one read of the stream found into t; fill ev (room for
 * DEVLOG_EVENTS_MAX) with the events it makes and return their number:
 * DEVLOG_KIND_STATS for the run's first sample (or a new first one
 * when the counters went back, as after a device restart);
 * DEVLOG_KIND_ERRORS when read errors, write errors or duplicate
 * packets grew since the last sample, and for duplicate-packet lines.
 * Details give the counters with their growth since the first sample:
 * "errors grew: USB2.0 reads 120 (+100), read errors 1 (+1), writes
 * 130 (+110), write errors 0 (+0), duplicate packets 0 (+0)".
 */
int	devlog_track(struct devlog_track *, const struct devlog_found *,
	    struct devlog_event *);
/*
 * At the end of a run: one DEVLOG_KIND_STATS event with the last
 * sample and its growth over the run (1), or none if the run saw fewer
 * than two samples (0).
 */
int	devlog_track_end(const struct devlog_track *, struct devlog_event *);

#endif /* LQ_DEVLOG_H */
