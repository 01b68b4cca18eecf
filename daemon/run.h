/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Runs (DESIGN.md, Profiles and Verdict): a profile's probe plan on one
 * attachment, driven from the loop. Probes go to the attachment's
 * worker process (child.h) in the plan's order, and run there one at a
 * time; each result
 * comes back to the loop, which stores it, adds it to the run's
 * evidence, asks common/verdict.c for a decision, and sends the next
 * probe or ends the run. Between two quick probes the next is already
 * queued on the worker, so that the loop's work overlaps the next round
 * trip. The loop owns every deadline, counted from the probe's own
 * start: a probe that misses its own (for bulk: no chunk moved for that
 * long) has its socket shut down, or its worker killed, and is recorded
 * as a timeout.
 *
 * Threads: the loop thread only; the worker sees a probe's plan alone.
 * Ownership: a run lives in the run list until it has ended, its last
 * probe has come back and newer runs pushed it out; the worker process
 * of its target belongs to devices.c and is used only while the run is
 * running.
 */

#ifndef LQ_RUN_H
#define LQ_RUN_H

#include <stdint.h>

#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>

#include "linkq.h"

struct config;
struct hook_facts;
struct profile;
struct child;
struct store;
struct run;

/* What devices.c lends a run: the attachment and how to reach it. */
struct run_target {
	char		 udid[44];
	struct child	*child;		/* the worker process (child.h) */
	int64_t		 host_id;
	int64_t		 port_id;
	int64_t		 attachment_id;
	int		 speed_mbps;	/* negotiated now; 0 unknown */
	int		 best_speed_mbps; /* best seen for the device */
	int		 mode;		/* enum lq_device_mode; out of
					 * normal mode, no worker
					 * process: usb-control only */
	int		 bus;		/* from libusb; devnum 0: libusb */
	int		 devnum;	/* does not see it */
	char		 port[64];	/* port path (key), or "": hooks, log */
	char		 cable[LQ_LABEL_MAX + 1]; /* label, or "" */
};

void		 runs_init(struct event_base *, struct store *);
/* Shutdown: end running runs as interrupted and cut their probes. */
void		 runs_shutdown(void);
/* After the workers are freed and drained: free every run. */
void		 runs_free(void);

/*
 * Start pr on target with the thresholds of cfg (both copied). Returns
 * the run, or NULL with *cause allocated.
 */
struct run	*run_start(const struct config *, const struct profile *,
		    const struct run_target *, char **);
/* Cancel a running run (API); 0, or -1 if it had ended. */
int		 run_cancel(struct run *);
/*
 * End a run of a profile that lasts until stopped (wiggle, monitor) now,
 * as done, with the verdict its evidence so far earns (API). 0, or -1
 * with *cause (static) if it had ended or its profile ends by itself.
 */
int		 run_stop(struct run *, const char **);
/* The device of this attachment went away in the middle of its run. */
void		 run_device_gone(int64_t);
/*
 * It stayed on the bus out of usbmuxd's sight: stranded (the detail).
 * If that joins a run, f (hooks.h) gets the run's id, verdict and cable.
 */
void		 run_device_stranded(int64_t, const char *,
		    struct hook_facts *);
/* The attachment's cable is now this label ("": none). */
void		 run_cable_changed(int64_t, const char *);
/*
 * The kernel reported a hard event (read at a wall time, kind, errno or
 * 0, port path or "", the message) on the attachment: add it to the
 * evidence of the run it belongs to (run_episode), which fails at once.
 */
void		 run_kernel_event(int64_t, int64_t, const char *, int,
		    const char *, const char *);

struct run	*run_find(int64_t);
/*
 * The run a kernel report about this attachment, read at a wall time,
 * belongs to: the running one, the one whose time span holds it, or the
 * one the kernel failed a moment ago (same episode); NULL.
 */
struct run	*run_episode(int64_t, int64_t);
/* The running run on an attachment, or NULL. */
struct run	*run_active(int64_t);
/* How many runs are running. */
unsigned int	 runs_running(void);
/*
 * Whether the last run that tried could read its device's syslog, as an
 * evidence source (sources.h).
 */
struct source_state;
void		 run_devlog_source(struct source_state *);
int64_t		 run_id(const struct run *);
/* "running", "done", "cancelled", "interrupted", "error". */
const char	*run_state(const struct run *);
/* The last verdict name of an attachment's runs, or NULL. */
const char	*run_last_verdict(int64_t);

json_t		*run_json(const struct run *);
/* The runs in memory, newest first. */
json_t		*runs_json(void);
/* Stream req the progress of r as NDJSON until r ends. */
void		 run_follow(struct run *, struct evhttp_request *);
/*
 * Stream req the last line of a run that has ended, o (a run object, as
 * the store gives one no longer in memory; taken), and end the stream.
 */
void		 run_follow_ended(json_t *, struct evhttp_request *);

#endif /* LQ_RUN_H */
