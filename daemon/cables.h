/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Cable assignments: which cable label the user said is in which port
 * (PUT /v1/ports/PORT/cable). An assignment belongs to the port until
 * the device there is unplugged: a replug may be another cable, so the
 * next attachment's cable is unconfirmed until somebody says. A fixed
 * assignment (a farm wires one cable per port for good) stays across
 * unplugs until it is cleared. devices.c applies them to attachments.
 *
 * Threads: the loop thread only.
 */

#ifndef LQ_CABLES_H
#define LQ_CABLES_H

/*
 * Assign label to the port (replacing any), fixed or not, or with NULL
 * clear it.
 */
void		 cables_assign(const char *, const char *, int);
/* The label assigned to the port, or NULL; *fixed if declared so. */
const char	*cables_of_port(const char *, int *);
/* The device left the port: its assignment ends unless it is fixed. */
void		 cables_release(const char *);
/* Forget every assignment. */
void		 cables_clear(void);

#endif /* LQ_CABLES_H */
