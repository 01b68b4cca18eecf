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

#include <jansson.h>

#include "muxwatch.h"

struct store;

/*
 * Remember the store (may be NULL), the function to call when it has
 * rows to commit and the reattach window; start the registry's worker
 * (worker_init must have run). Loop thread.
 */
void	 devices_init(struct store *, void (*)(void), int64_t);
/* Take one usbmuxd event (a muxwatch_fn). */
void	 devices_mux_event(const struct mux_event *, void *);
/* The devices as a JSON array, for the control API (new reference). */
json_t	*devices_json(void);
/* How many devices are attached now. */
unsigned int devices_attached(void);
/* Stop the worker and forget every device (at shutdown). */
void	 devices_clear(void);

#endif /* LQ_DEVICES_H */
