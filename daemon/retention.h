/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Retention (linkq.conf(5), retention-days): raw probe results and
 * events older than the configured number of days are deleted, a few
 * thousand rows per step so the loop never stalls, at the start and
 * then once a day. Runs, their rollups and attachments are kept, so the
 * history of every cable and port stays. Loop thread only.
 */

#ifndef LQ_RETENTION_H
#define LQ_RETENTION_H

#include <event2/event.h>

struct store;

void	retention_start(struct event_base *, struct store *, unsigned int);
/* The configuration changed: keep this many days (0: everything). */
void	retention_set_days(unsigned int);
void	retention_stop(void);

#endif /* LQ_RETENTION_H */
