/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Time. Durations and deadlines use CLOCK_MONOTONIC, wrapped in a
 * one-member struct so that a monotonic instant cannot be mixed up with a
 * wall-clock timestamp or a plain duration without the compiler noticing
 * (the idea of bgpd's monotime_t). Wall-clock time is used only for
 * timestamps that are stored or shown: microseconds since the epoch.
 */

#ifndef LQ_TIME_H
#define LQ_TIME_H

#include <stdint.h>

typedef struct {
	int64_t	us;	/* microseconds since an arbitrary fixed point */
} lq_mono_t;

#define LQ_USEC_PER_SEC		INT64_C(1000000)
#define LQ_USEC_PER_MSEC	INT64_C(1000)

lq_mono_t	lq_mono_now(void);
lq_mono_t	lq_mono_add(lq_mono_t, int64_t);
int64_t		lq_mono_sub(lq_mono_t, lq_mono_t);
int		lq_mono_cmp(lq_mono_t, lq_mono_t);
int		lq_mono_passed(lq_mono_t, lq_mono_t);

int64_t		lq_wall_now_us(void);

#endif /* LQ_TIME_H */
