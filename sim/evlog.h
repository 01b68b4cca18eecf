/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The bench's event log: one line per thing that happened to a device
 * or its link (plug, unplug, drop, reset, re-enumeration, link error,
 * stall, fault change, ...), kept for the control socket's "events",
 * which tests compare between runs of a scenario.
 *
 * The log is guarded by sim_lock: evlog_add is called with it held, so
 * that a line is in the log in the same order as the change it tells.
 */

#ifndef LQ_SIM_EVLOG_H
#define LQ_SIM_EVLOG_H

#include "compat/compat.h"

/* Append a line. Call with the lock held. */
void	evlog_add(const char *, ...) printflike(1, 2);
/* Call fn for each line, in order; takes the lock. */
void	evlog_foreach(void (*)(void *, const char *), void *);

#endif /* LQ_SIM_EVLOG_H */
