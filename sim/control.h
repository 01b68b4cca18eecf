/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The simulator's control socket: JSON lines to plug, unplug and move
 * devices, change faults, inject drops, answer Trust prompts and read
 * the AFC operation log and the event log (protocol in control.c and
 * linkq-sim(1)).
 */

#ifndef LQ_SIM_CONTROL_H
#define LQ_SIM_CONTROL_H

/* Listen at path on a thread of its own. 0, or -1 with *cause. */
int	control_start(const char *, char **);
/* Stop accepting; clients already connected are cut with the others. */
void	control_stop(void);
/* Client side: send one request, print the answer; an exit status. */
int	control_send(const char *, const char *);

#endif /* LQ_SIM_CONTROL_H */
