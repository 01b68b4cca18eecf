/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The event log: every event linkqd records goes through events_record(),
 * which writes it to the store's journal and sends it to the clients
 * that follow the log (GET /v1/events?follow=1). Reading back goes
 * through the store, which commits its journal first when it can.
 *
 * Threads: the loop thread only.
 */

#ifndef LQ_EVENTS_H
#define LQ_EVENTS_H

#include <stdint.h>

#include <event2/http.h>
#include <jansson.h>

struct store;
struct store_event;

void	 events_init(struct store *);
void	 events_done(void);
/* Record ev (ts_us 0: now); returns its id, or -1. */
int64_t	 events_record(struct store_event *);
/*
 * Events with an id above since, oldest first, at most limit; with a
 * run id (not 0), only that run's.
 */
json_t	*events_since(int64_t, unsigned int, int64_t);
/* Send req the events after since, then every new one as it comes. */
void	 events_follow(struct evhttp_request *, int64_t);

#endif /* LQ_EVENTS_H */
