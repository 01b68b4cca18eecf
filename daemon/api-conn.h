/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The connections of the control API, guarded against hostile and
 * broken clients (api-conn.c): a deadline from the connection to the
 * whole request, a check of each request's head before evhttp parses
 * it (so that what evhttp would refuse in HTML is refused in the JSON
 * error shape), one request per connection, and a pause in accepting
 * at the descriptor limit instead of a spin.
 *
 * Threads: the loop thread only. The module keeps a reference to each
 * connection's bufferevent until its request is complete or its
 * deadline passes; api_conn_stop() releases what is left.
 */

#ifndef LQ_API_CONN_H
#define LQ_API_CONN_H

#include <stddef.h>
#include <stdint.h>

#include <event2/http.h>

/* What a request may be, and how long a client may take. */
struct api_conn_limits {
	size_t		 max_head;	/* request line and headers */
	size_t		 max_body;	/* Content-Length */
	int64_t		 timeout_us;	/* connection to whole request; and
					 * each stall of a reply's writing */
};

/*
 * Guard the connections that http accepts on bound from now on. The
 * caller answers requests; the module answers only the malformed ones.
 */
void	api_conn_start(struct event_base *, struct evhttp *,
	    struct evhttp_bound_socket *, const struct api_conn_limits *);
/* Guard a second socket of the same http (the TCP listener) too. */
void	api_conn_listen(struct evhttp_bound_socket *);
/* Whether req came through a TCP listener, not the unix socket. */
int	api_conn_tcp(struct evhttp_request *);
/* A new client timeout, for connections accepted from now on. */
void	api_conn_set_timeout(int64_t);
/*
 * The whole request is in: its deadline is gone, and the reply closes
 * the connection. Call it first thing in the request callback.
 */
void	api_conn_request(struct evhttp_request *);
/*
 * The reply is a stream that goes on for as long as a run does: a
 * client that only reads is not idle, so only a stalled write of the
 * stream times out.
 */
void	api_conn_stream(struct evhttp_request *);
/* Release every connection's state; after evhttp_free(). */
void	api_conn_stop(void);

#endif /* LQ_API_CONN_H */
