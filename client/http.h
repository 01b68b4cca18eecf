/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * linkq's side of the control API: HTTP/1.1 requests to linkqd's unix
 * socket, JSON in and out, and the NDJSON streams line by line.
 *
 * A daemon that cannot be reached ends the program with one line that
 * names the socket and says how to start linkqd (exit 2): no caller has
 * anything better to do. Every other failure is returned.
 */

#ifndef LQ_CLIENT_HTTP_H
#define LQ_CLIENT_HTTP_H

#include <signal.h>
#include <stddef.h>

#include <jansson.h>

/* What http_stream() returns. */
#define HTTP_DONE		0	/* the reply ended */
#define HTTP_FAILED		-1	/* transport error, already printed */
#define HTTP_INTERRUPTED	1	/* SIGINT while streaming */

/* Called with each line of a stream, without its newline; -1 stops. */
typedef int (*http_line_cb)(const char *, size_t, void *);

void	 http_init(const char *);
void	 http_cleanup(void);
/*
 * method path with body (NULL: none); *status is the HTTP status and
 * *reply the decoded JSON answer (NULL if it was not JSON). -1 on a
 * transport error, already printed.
 */
int	 http_json(const char *, const char *, json_t *, long *, json_t **);
/*
 * GET path and hand each line to cb. A reply with status 400 or more is
 * not streamed: *status is set and *reply is its JSON, as for
 * http_json(). SIGINT ends the stream with HTTP_INTERRUPTED.
 */
int	 http_stream(const char *, http_line_cb, void *, long *, json_t **);
/* The message of the API's one error shape, or a fallback. */
const char *http_error_message(json_t *, long);
/* s escaped for one path segment; the caller frees it. */
char	*http_escape(const char *);

#endif /* LQ_CLIENT_HTTP_H */
