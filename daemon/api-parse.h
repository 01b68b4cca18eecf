/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The control API's parsing of what a client sends: the path, its ids,
 * the query and the JSON body (api.c). Pure: no I/O, no evhttp request,
 * no global state; any thread. Apart from api.h so that the fuzz
 * harness (tests/fuzz/fuzz-api-request.c) and unit tests reach them.
 *
 * Errors: the functions that take int *code and json_t **reply set
 * *code (400) and *reply to the one error body (api.c) when they refuse;
 * the caller owns *reply.
 */

#ifndef LQ_API_PARSE_H
#define LQ_API_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include <event2/keyvalq_struct.h>
#include <jansson.h>

#define API_MAX_ARGS		2
#define API_MAX_SEGMENTS	6

/*
 * Split path into at most API_MAX_SEGMENTS segments, copied into buf of
 * size bytes; the segment count, or -1 if there are more, an empty one,
 * or it does not fit.
 */
int	 api_split(const char *, char *, size_t, char **);
/*
 * Whether a route pattern ("*" is one segment) matches the nseg
 * segments; fills args (API_MAX_ARGS) with the segments "*" matched.
 */
int	 api_match(const char *, char **, int, char **);
/* A run id from a path segment, or 0 if it is not one. */
int64_t	 api_run_id(const char *);
/* A query parameter as a number in [min, max]; def if absent. 0, or -1. */
int	 api_query_number(struct evkeyvalq *, const char *, long long,
	    long long, long long, long long *);
/*
 * A body of len bytes as a JSON object whose keys are all in allowed
 * (NULL-terminated); NULL with *reply set otherwise. An empty body is an
 * empty object. The caller owns the object.
 */
json_t	*api_parse_body(const char *, size_t, const char *const *, int *,
	    json_t **);
/*
 * A string field of a body: 1 with *value (NULL if absent, or null and
 * nullable), borrowed from body; or 0 with *reply set when it has the
 * wrong type.
 */
int	 api_field(json_t *, const char *, int, const char **, int *,
	    json_t **);
/* A boolean field: 1 with *value (0 if absent), or 0 with *reply set. */
int	 api_flag(json_t *, const char *, int *, int *, json_t **);

#endif /* LQ_API_PARSE_H */
