/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The device registry: every device usbmuxd reports, keyed by UDID, with
 * its current usbmuxd handle while it is attached. Loop thread only.
 * The store learns of each device as it appears.
 */

#ifndef LQ_DEVICES_H
#define LQ_DEVICES_H

#include <stdint.h>

#include <event2/event.h>
#include <jansson.h>

#include "muxwatch.h"

struct config;
struct kmsg_finding;
struct run;
struct store;

/*
 * Remember the loop, the store (may be NULL) and the configuration;
 * start the registry's worker (worker_init must have run). Loop thread.
 */
void	 devices_init(struct event_base *, struct store *,
	    const struct config *);
void	 devices_set_config(const struct config *);
/*
 * Take one finding of the kernel's log (a kmsg_fn): an event of the port
 * it names and of the attachment there, and evidence of its run.
 */
void	 devices_kernel_finding(const struct kmsg_finding *, const char *,
	    int64_t);
/* Take one report of the USB topology (a usb_fn, usb.h). */
struct usb_info;
void	 devices_usb_event(int, const struct usb_info *);
/* Take one usbmuxd event (a muxwatch_fn). */
void	 devices_mux_event(const struct mux_event *, void *);
/* The devices as a JSON array, for the control API (new reference). */
json_t	*devices_json(void);
json_t	*devices_ports_json(void);
/*
 * The API's actions return an lq_status (include/lq-status.h), which
 * api.c alone maps to HTTP, with *message or *cause allocated to say
 * what happened: pairing is LQ_OK (trusted already) or LQ_EPAIRPENDING
 * (the Trust prompt waits), else an error.
 */
int	 devices_pair(const char *, char **);
/* Start a run by UDID, else port, else the only device; *status, *cause. */
struct run *devices_start_run(const char *, const char *, const char *,
	    const char *, int *, char **);
struct run *devices_active_run(const char *);
/* A restore-watch of this port (store id) ended (watch.h). */
void	 devices_watch_ended(int64_t);
/*
 * Start a restore-watch run (watch.h) likewise, with the command it
 * watches (NULL: unknown); *status, *cause.
 */
struct watch *devices_start_watch(const char *, const char *, const char *,
	    const char *, int *, char **);
/* Label NULL clears; LQ_OK, or an error status with *cause. */
int	 devices_set_cable(const char *, const char *, int, char **);
int	 devices_set_port_label(const char *, const char *, char **);
/* This host's id in the store (0: none). */
int64_t	 devices_host_id(void);
/* How many devices are attached now. */
unsigned int devices_attached(void);
/* Stop the workers and forget every device (at shutdown). */
void	 devices_clear(void);
/*
 * Take one burst of usbmon's link errors (a usbmon_fn): bus, device
 * number, the first status, its wall time and the detail. An event of
 * the attachment with that bus and device number (or the one it left
 * within the reattach window), and evidence of its run.
 */
void	 devices_usbmon_finding(int, int, int, int64_t, const char *);

#endif /* LQ_DEVICES_H */
