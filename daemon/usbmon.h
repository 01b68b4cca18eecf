/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * usbmon, the kernel's USB monitor (research/linux-usb-signals-and-
 * performance.md, B2): the status of every URB that completes, read from
 * the text interface (/sys/kernel/debug/usb/usbmon/0u), the binary one
 * (/dev/usbmon0), a FIFO that a privileged process copies the text into,
 * or a regular file that linkq-sim appends text lines to.
 * Statuses are counted per bus and device number by class, and the
 * completions that failed with a link error are handed on in bursts.
 *
 * usbmon_parse(), usbmon_parse_bin(), usbmon_format() and the
 * classifiers (usbmon-parse.c) and the tracker (usbmon_tracker_*,
 * usbmon-track.c) are pure: no I/O, no global state, the time passed
 * in; any thread. The reader (usbmon_start() and the rest, usbmon.c)
 * runs on the loop thread.
 *
 * DESIGN. The loop must never block, and neither kernel interface can
 * simply be polled on it: a text file of debugfs has no poll method
 * (mon_text.c), so select(2) says it is always readable and epoll(7)
 * refuses it, and its read(2) sleeps until an event comes. The binary
 * device polls, but its ring (300 KiB by default) fills within tens of
 * milliseconds of a bulk transfer, less than a database commit on the
 * loop may take. So a thread of its own, which touches nothing else,
 * reads the kernel's interface: blocked in read(2) on the text file (or
 * a FIFO), in poll(2) and then MON_IOCX_GETX (the 64-byte header, no
 * data) on the binary device. It keeps the events whose status is not
 * a success (usbmon_wanted()), a handful among thousands a second, and
 * writes them as text lines into a pipe that the loop follows
 * (follow.h), with a line "!why" if it has to stop. usbmon_stop()
 * closes the pipe, which frees the thread from a write(2), sets its
 * stop flag and interrupts its read(2) or poll(2) with a real-time
 * signal whose handler does nothing. (Not pthread_cancel(3): its
 * unwinding of a thread in read(2) is a stack overflow to
 * AddressSanitizer.) A regular file elsewhere than in debugfs (the
 * simulator's) needs no thread: the loop follows it through
 * inotify(7), as kmsg.c does its file.
 *
 * Bursts. A pulled cable also makes the transfers in flight fail with
 * -71 before the hub notices, then -108 or -19 as the device goes. So a
 * link error is held: the link errors of one device within
 * USBMON_BURST_US of the first make a burst, handed on USBMON_HOLD_US
 * after its last error unless the device disconnects first (a -108 or
 * -19, or the kernel's "USB disconnect" through usbmon_device_gone());
 * then the burst was the unplug's and is dropped, as are link errors
 * within USBMON_HOLD_US after a disconnect. usbmuxd leaving the device
 * is not a disconnect: usbmuxd drops a device after any failed bulk
 * transfer, so that is the link error's doing.
 */

#ifndef LQ_USBMON_H
#define LQ_USBMON_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <jansson.h>

#include "compat/queue.h"
#include "lq-time.h"

#define USBMON_LINE_MAX		512	/* longest text line read */
#define USBMON_BIN_HDR_MIN	48	/* struct mon_bin_hdr, read(2) */
#define USBMON_BIN_HDR		64	/* the same, MON_IOCX_GETX */
#define USBMON_BURST_US		(1000 * 1000)
#define USBMON_HOLD_US		(1000 * 1000)
/* Counts of a device gone and quiet this long start again from 0. */
#define USBMON_FORGET_US	(10 * 1000 * 1000)

/* Transfer types, numbered as the binary interface numbers them. */
enum usbmon_xfer {
	USBMON_ISO,			/* 'Z' in text */
	USBMON_INTR,			/* 'I' */
	USBMON_CONTROL,			/* 'C' */
	USBMON_BULK			/* 'B' */
};

/* One URB event. */
struct usbmon_event {
	uint64_t	 tag;		/* URB id: pairs S with C or E */
	uint32_t	 stamp;		/* microseconds, wrapping at 4096 s */
	char		 type;		/* 'S' submit, 'C' complete, 'E' */
	enum usbmon_xfer xfer;
	int		 in;		/* device to host */
	int		 bus;
	int		 devnum;
	int		 ep;		/* endpoint number, 0-15 */
	int		 has_status;	/* 0: a control submit's setup */
	int		 status;	/* URB status, kernel errno (-71) */
	int		 has_setup;	/* setup captured (control S) */
	struct {
		uint8_t	 request_type;
		uint8_t	 request;
		uint16_t value;
		uint16_t index;
		uint16_t length;
	}		 setup;
	uint32_t	 length;	/* requested (S) or actual (C, E) */
};

/* What a status means (B2's table). */
enum usbmon_class {
	USBMON_OK,		/* 0, or a submit's -115 */
	USBMON_LINK_ERROR,	/* -71, -84, -62, -75 */
	USBMON_CANCEL,		/* -2, -104: unlinked, as libusb cancels */
	USBMON_DISCONNECT,	/* -108, -19: the device is going */
	USBMON_OTHER_ERROR	/* a stall (-32) and the rest */
};

/* Events of one device by class, since linkqd read them. */
struct usbmon_counts {
	uint64_t	 link_errors;
	uint64_t	 cancels;
	uint64_t	 disconnects;
	uint64_t	 other_errors;
};

/* Link-error completions of one device close together. */
struct usbmon_burst {
	int		 bus;
	int		 devnum;
	unsigned int	 count;
	unsigned int	 by_status[4];	/* -71, -84, -62, -75 */
	int		 first_status;
	lq_mono_t	 first;
	lq_mono_t	 last;
	int64_t		 wall_us;	/* of the first error */
	TAILQ_ENTRY(usbmon_burst) entry;
};

struct usbmon_dev;
/* The state of the counts and the held bursts; usbmon_tracker_init(). */
struct usbmon_tracker {
	TAILQ_HEAD(, usbmon_dev)	devs;
	TAILQ_HEAD(, usbmon_burst)	bursts;
};

/*
 * Parse one text line of the 'u' format, with or without its newline,
 * tolerating what follows the length (data words, fields a later kernel
 * adds). 0, or -1 if it is malformed.
 */
int		 usbmon_parse(const char *, size_t, struct usbmon_event *);
/* Parse a binary header of len bytes (at least 48). 0, or -1. */
int		 usbmon_parse_bin(const void *, size_t, struct usbmon_event *);
/* Write ev as a text line with its newline; snprintf's result. */
int		 usbmon_format(const struct usbmon_event *, char *, size_t);
/* The class of a status; of an event (a completion's only is a link error). */
enum usbmon_class usbmon_classify(int);
enum usbmon_class usbmon_event_class(const struct usbmon_event *);
/* Whether the reader keeps ev: an outcome other than a success. */
int		 usbmon_wanted(const struct usbmon_event *);
/* The length of the first whole line of buf, or 0 (a follow_cb end). */
size_t		 usbmon_line_end(const char *, size_t);

void		 usbmon_tracker_init(struct usbmon_tracker *);
/*
 * Count ev, which arrived at now (wall_us on the wall clock), and hold
 * it if it is a link error. Returns the number of held link errors it
 * dropped, as a disconnect shows they were an unplug's.
 */
unsigned int	 usbmon_tracker_add(struct usbmon_tracker *,
		    const struct usbmon_event *, lq_mono_t, int64_t);
/* The kernel removed bus/devnum at now: the same as a disconnect. */
unsigned int	 usbmon_tracker_gone(struct usbmon_tracker *, int, int,
		    lq_mono_t);
/* The next burst due at now, taken out (free(3) it), or NULL. */
struct usbmon_burst *usbmon_tracker_due(struct usbmon_tracker *, lq_mono_t);
/* 0 and how long until the next burst is due, or -1 if none is held. */
int		 usbmon_tracker_wait(const struct usbmon_tracker *,
		    lq_mono_t, int64_t *);
/* The counts of bus/devnum at now (all 0 if none). */
void		 usbmon_tracker_counts(const struct usbmon_tracker *, int,
		    int, lq_mono_t, struct usbmon_counts *);
void		 usbmon_tracker_clear(struct usbmon_tracker *);
/* Say what a burst was, for an event's detail. */
void		 usbmon_burst_detail(const struct usbmon_burst *, char *,
		    size_t);

/*
 * What the reader hands on, once a burst is no longer held: bus and
 * device number, the first error's status, its wall time, the detail.
 */
typedef void	(*usbmon_fn)(int, int, int, int64_t, const char *);

/*
 * Start reading path on the loop. A path that cannot be read is logged
 * once and said in usbmon_status(); linkqd runs on without it.
 */
void		 usbmon_start(struct event_base *, const char *, usbmon_fn);
/* Stop reading (and the thread, if any) and drop what is held. */
void		 usbmon_stop(void);
/* The kernel said bus/devnum is disconnected (kmsg "USB disconnect"). */
void		 usbmon_device_gone(int, int);
/* "reading PATH" or "unreadable: PATH: why" (static until next call). */
const char	*usbmon_status(void);
/* The same, with what to do, for GET /v1/status (sources.h). */
struct source_state;
void		 usbmon_source(struct source_state *);
/* Add "usbmon": the counts of bus/devnum, to o, while reading. */
void		 usbmon_json(json_t *, int, int);

#endif /* LQ_USBMON_H */
