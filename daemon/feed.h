/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Feeds: newline-delimited JSON streamed over chunked HTTP replies, one
 * object per line, to every client that follows a run's progress or the
 * event log. A client that goes away is dropped from its feed by
 * evhttp's close callback; nothing else needs to know.
 *
 * Threads: the loop thread only.
 */

#ifndef LQ_FEED_H
#define LQ_FEED_H

#include <event2/http.h>
#include <jansson.h>

struct feed;

struct feed	*feed_new(void);
/* End every reply in the feed and free it. */
void		 feed_free(struct feed *);
/* Start a chunked 200 reply on req and add it to the feed. */
void		 feed_add(struct feed *, struct evhttp_request *);
/* Send one line to every follower; takes the reference to obj. */
void		 feed_send(struct feed *, json_t *);
/* Send one line to req alone, which feed_add() took; steals obj. */
void		 feed_send_one(struct feed *, struct evhttp_request *,
		    json_t *);
unsigned int	 feed_followers(const struct feed *);

#endif /* LQ_FEED_H */
