/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Restore-watch runs (linkq watch, DESIGN.md Verdict): a passive run
 * around a restore command that the client runs. It sends nothing to
 * the device; it takes the link events that the kernel, usbmon, libusb
 * and usbmuxd report on the port of the device (events_record() hands
 * every event to watch_event()), across the attachments of the mode
 * changes a restore makes. Mode changes, and the resets, drop-outs and
 * re-enumerations within WATCH_MODE_GRACE of one, are expected and not
 * counted. The client ends the run with the command's outcome
 * (watch_finish), which takes the port's events for WATCH_TAIL more
 * (state "finishing": the kernel's report of the fault that ended the
 * command comes a moment later) before it is done. A client that
 * stops saying it is alive (watch_alive) leaves it ended as
 * interrupted, with no outcome.
 *
 * Threads: the loop thread only.
 * Ownership: a watch lives in the watch list from watch_start() until
 * newer ones push it out after its end, or watch_free().
 */

#ifndef LQ_WATCH_H
#define LQ_WATCH_H

#include <stdint.h>

#include <event2/event.h>
#include <jansson.h>

struct store;
struct store_event;
struct watch;

/* How the command of a watch ended, as the client saw it. */
struct watch_outcome {
	int		 exit_status;	/* -1: killed by exit_signal */
	int		 exit_signal;	/* 0: none */
	int		 percent_tenths; /* last progress, 0..1000; -1 none */
	const char	*step;		/* last step printed; NULL none */
	const char	*command;	/* NULL: as given at the start */
};

void		 watch_init(struct event_base *, struct store *);
/* Shutdown: end every open watch as interrupted. */
void		 watch_shutdown(void);
void		 watch_free(void);

/*
 * Start watching the device udid on its attachment and port (store
 * ids). Returns the watch, or NULL with *cause allocated.
 */
struct watch	*watch_start(const char *, const char *, int64_t, int64_t,
		    const char *, char **);
struct watch	*watch_find(int64_t);
/* The open watch on a port, or NULL: nothing may probe it meanwhile. */
struct watch	*watch_on_port(int64_t);
/* End w with the command's outcome; -1 with *cause if it had ended. */
int		 watch_finish(struct watch *, const struct watch_outcome *,
		    const char **);
/* The client is still there: extend w's lease; -1 if it had ended. */
int		 watch_alive(struct watch *);
/* Every recorded event, before it is stored: tag and count it. */
void		 watch_event(struct store_event *);

json_t		*watch_json(const struct watch *);
/* The watches in memory, newest first, appended to list. */
void		 watch_list_json(json_t *);

#endif /* LQ_WATCH_H */
