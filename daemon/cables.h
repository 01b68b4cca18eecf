/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Cable assignments: which cable label the user said is in which port
 * (PUT /v1/ports/PORT/cable). An assignment belongs to the port until
 * the device there is unplugged; devices.c applies it to attachments.
 *
 * Threads: the loop thread only.
 */

#ifndef LQ_CABLES_H
#define LQ_CABLES_H

/* Assign label to the port (replacing any), or with NULL clear it. */
void		 cables_assign(const char *, const char *);
/* The label assigned to the port, or NULL. */
const char	*cables_of_port(const char *);
/* Forget every assignment. */
void		 cables_clear(void);

#endif /* LQ_CABLES_H */
