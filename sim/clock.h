/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The simulator's clock: one thread that runs scheduled actions (the
 * scenario's timeline, time-driven faults, re-enumeration after a reset)
 * at their time, in time order, one at a time. An action runs on the
 * clock thread without any lock held and may schedule others.
 */

#ifndef LQ_SIM_CLOCK_H
#define LQ_SIM_CLOCK_H

#include <stdint.h>

#include "lq-time.h"

typedef void (*clock_fn)(void *, uint64_t);

/* Start the clock thread. */
void	clock_start(void);
/* Stop it, waiting for the action running; pending ones never run. */
void	clock_stop(void);
/* Run fn(arg, cookie) at when (or at once if when has passed). */
void	clock_at(lq_mono_t, clock_fn, void *, uint64_t);
/*
 * The instant to schedule from: inside an action, the time it was due,
 * so that a clock thread running late does not shift what follows and
 * a scenario replays in the same order; elsewhere, now.
 */
lq_mono_t clock_base(void);

#endif /* LQ_SIM_CLOCK_H */
