/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * A hostile or broken phone (issue 15): a device that answers its
 * host's AFC or lockdown requests with malformed replies, one kind at a
 * time, to show what a daemon built on libimobiledevice 1.3.0 meets on
 * a repair bench. The kinds, their bytes and what the library does with
 * each are in one table (hostile.c) and in linkq-sim(1), HOSTILE PHONES.
 *
 * A device's kind is set by the scenario (device NAME hostile=KIND) and
 * changed at any time by the control socket; it is read, without the
 * simulator lock, before each reply, so a change applies from the next
 * reply on. The request itself is always read and carried out as usual
 * (a FILE_WRITE stores its data); only the answer is replaced.
 *
 * THREADS: hostile_afc_send and hostile_lockdown_send run on the
 * connection's thread and block on its socket, as every reply does.
 */

#ifndef LQ_SIM_HOSTILE_H
#define LQ_SIM_HOSTILE_H

#include <stddef.h>
#include <stdint.h>

struct sim_conn;
struct sim_device;

enum hostile_kind {
	HOSTILE_NONE,
	HOSTILE_AFC_THIS_GT_ENTIRE,
	HOSTILE_AFC_HUGE_ENTIRE,
	HOSTILE_AFC_SHORT,
	HOSTILE_AFC_BAD_MAGIC,
	HOSTILE_AFC_OP,
	HOSTILE_AFC_STATUS,
	HOSTILE_AFC_CUT,
	HOSTILE_LOCKDOWN_GARBAGE,
	HOSTILE_LOCKDOWN_HUGE_LENGTH,
	HOSTILE_LOCKDOWN_WRONG_TYPE,
	HOSTILE_LOCKDOWN_MISSING
};

/* What a hostile AFC reply replaces: the reply afc.c built. */
struct hostile_afc_reply {
	uint64_t		 num;		/* the request's packet_num */
	uint64_t		 op;		/* the reply's operation */
	int			 payload;	/* data after this_length */
	const unsigned char	*data;		/* header-data or payload */
	size_t			 len;
};

/*
 * Parse a kind's name ("afc-status", "none"). Returns 0, or -1 with
 * *cause allocated, listing the kinds.
 */
int		 hostile_parse(const char *, enum hostile_kind *, char **);
const char	*hostile_name(enum hostile_kind);

/* The device's kind now, and a new one (any thread, no lock). */
enum hostile_kind hostile_get(struct sim_device *);
void		 hostile_set(struct sim_device *, enum hostile_kind);
/* The device's kind if it replaces AFC replies, else HOSTILE_NONE. */
enum hostile_kind hostile_afc(struct sim_device *);
/* The device's kind if it replaces lockdown replies, else NONE. */
enum hostile_kind hostile_lockdown(struct sim_device *);

/*
 * Send kind's malformed version of an AFC reply. Returns 0 if the
 * connection goes on, -1 if it is to end (the kind closes it, or the
 * client left).
 */
int		 hostile_afc_send(struct sim_conn *, enum hostile_kind,
		    const struct hostile_afc_reply *);
/*
 * Answer the lockdown request named request (NULL if it had none) with
 * kind's malformed reply. Returns 0 or -1 as hostile_afc_send does.
 */
int		 hostile_lockdown_send(struct sim_conn *, enum hostile_kind,
		    const char *);

#endif /* LQ_SIM_HOSTILE_H */
