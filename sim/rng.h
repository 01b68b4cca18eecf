/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The simulator's random streams: small, fast and seeded, so that a
 * scenario with a given --seed replays identically. A stream is one
 * uint64_t of state that must never be zero; whoever owns the stream
 * guards it (the device's streams are locked by sim_lock).
 */

#ifndef LQ_SIM_RNG_H
#define LQ_SIM_RNG_H

#include <math.h>
#include <stdint.h>

/* splitmix64: spreads a seed over all bits. */
static inline uint64_t
rng_mix(uint64_t x)
{
	x += UINT64_C(0x9e3779b97f4a7c15);
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return (x ^ (x >> 31));
}

/* xorshift64*: the next number of a stream. */
static inline uint64_t
rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (*s * UINT64_C(2685821657736338717));
}

/* A uniform number in (0, 1). */
static inline double
rng_unit(uint64_t *s)
{
	return (((double)(rng_next(s) >> 11) + 0.5) / 9007199254740992.0);
}

/* An exponentially distributed number with the given mean. */
static inline double
rng_exp(uint64_t *s, double mean)
{
	return (-mean * log(rng_unit(s)));
}

#endif /* LQ_SIM_RNG_H */
