/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * linkqd's control API: HTTP/1.1 and JSON on a unix socket, on the loop
 * thread (paths and error shape in api.c and linkqd(8)).
 */

#ifndef LQ_API_H
#define LQ_API_H

#include <event2/event.h>
#include <jansson.h>

/*
 * How linkqd writes JSON, replies and streams alike: one line, reals
 * with 6 significant digits (rates, percentages, bounds; the client
 * prints the same), not jansson's 17 that print 134.26688 as
 * 134.26687999999999. No real linkqd serves needs more: times and
 * counts are integers.
 */
#define API_JSON_FLAGS	(JSON_COMPACT | JSON_REAL_PRECISION(6))

/*
 * Listen on the socket at path and serve the API; db, the database's
 * path shown in the status, is copied (a reload frees the configuration
 * it came from). 0, or -1 with *cause allocated.
 */
int	api_start(struct event_base *, const char *, const char *,
	    char **);
/*
 * Serve the API read-only (GET and HEAD) on the loopback ADDRESS:PORT
 * of metrics-listen too; after api_start(). 0, or -1 with *cause.
 */
int	api_listen_tcp(const char *, char **);
struct config;

/*
 * The configuration to serve profiles from, and the client timeout of
 * connections accepted from now on; cfg must outlive its use (until the
 * next call). Called before api_start().
 */
void	api_set_config(const struct config *);
struct store;

/* The store /v1/report reads; s must outlive its use. */
void	api_set_store(struct store *);
/*
 * The one error shape, {"error": {"status": code, "message": message}};
 * a new reference.
 */
json_t	*api_error_json(int, const char *);
/* Stop serving and remove the socket. */
void	api_stop(void);

#endif /* LQ_API_H */
