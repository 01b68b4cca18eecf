/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Guarding the control API's connections (contract in api-conn.h).
 *
 * libevent 2.1.12 gives no hook when a request starts (no
 * evhttp_set_newreqcb) and none for its own errors (no
 * evhttp_set_errorcb): it answers a malformed request line, an unknown
 * method or a body above its cap with an HTML page of its own. What it
 * does give is evhttp_set_bevcb(), which lets us make each connection's
 * bufferevent. On its input buffer we add a callback, which runs when
 * bytes arrive, before evhttp's read callback parses them: it checks
 * each line of the head as evhttp will read it (evhttp drains whole
 * lines, so the buffer starts at a line while the head is read), and
 * refuses what is malformed in the JSON shape itself, writing the
 * answer straight to the socket and shutting it down, with the input
 * drained so that evhttp sees nothing to answer. Every reply carries
 * "Connection: close", so each connection holds one request and each
 * request is checked. What evhttp could still refuse on its own after
 * the head passed here is a chunked body, which the check refuses
 * (411), and a body above its cap, which the check refuses from the
 * Content-Length (413) before it is read.
 *
 * A deadline timer per connection drops a client that has not sent its
 * whole request in time: one that sends nothing, half a head, or less
 * body than its Content-Length, however slowly it dribbles. Dropping
 * is done as evhttp's own read timeout would (its event callback with
 * BEV_EVENT_TIMEOUT). evhttp's inactivity timeout (evhttp_set_timeout)
 * is set too, for a reply the client does not read.
 *
 * We hold a reference to each bufferevent until the request is
 * complete or the deadline fired: evhttp may free the connection
 * before (a client gone), and the timer must not touch freed memory.
 *
 * At the descriptor limit, accept(2) fails with EMFILE; libevent's
 * listener would try again at once, for ever, logging each failure.
 * Its error callback here disables the listener for ACCEPT_PAUSE_MS
 * and counts the failures; one line is logged when such an episode
 * starts and one when accepting works again. Connections already open
 * are served meanwhile, and the closing of some makes room.
 */

#include <sys/socket.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <jansson.h>

#include "compat/compat.h"
#include "compat/queue.h"
#include "api.h"
#include "api-conn.h"
#include "log.h"
#include "lq-time.h"
#include "xmalloc.h"

/* How long accepting pauses at the descriptor limit. */
#define ACCEPT_PAUSE_MS		250
/*
 * How long a refused connection is read and its input dropped before
 * it closes. Closing a socket with unread input sends a reset, which
 * can reach the client before it has read our answer (curl then sees
 * none at all, as 033 did for a 413 sent while the body still came):
 * the lingering close of RFC 9112, section 9.6.
 */
#define CONN_LINGER_US		(1000 * 1000)

enum conn_state {
	CONN_HEAD,		/* checking the head's lines */
	CONN_BODY,		/* the head passed; evhttp reads the body */
	CONN_REFUSED		/* answered here; input is dropped */
};

struct conn {
	struct bufferevent		*bev;	/* a reference of ours */
	struct evbuffer_cb_entry	*check;
	struct event			*deadline;
	enum conn_state			 state;
	size_t				 checked;	/* head bytes passed,
							 * still in the
							 * buffer */
	size_t				 head;		/* head bytes in
							 * whole lines */
	unsigned int			 lines;
	TAILQ_ENTRY(conn)		 entry;
};

static TAILQ_HEAD(, conn)	 conns = TAILQ_HEAD_INITIALIZER(conns);
static struct evhttp		*http;
static struct api_conn_limits	 limits;

/* The listeners' pause at the descriptor limit. */
#define ACCEPT_LISTENERS	2	/* the socket, the TCP listener */
static struct {
	struct evconnlistener	*listeners[ACCEPT_LISTENERS];
	int			 nlisteners;
	struct event		*timer;
	int			 paused;	/* disabled, timer to resume */
	int			 episode;	/* failures not yet over */
	unsigned long		 failures;
	lq_mono_t		 since;
} acc;

/* The timeout as a timeval. */
static struct timeval
conn_tv(int64_t us)
{
	struct timeval	tv;

	tv.tv_sec = us / LQ_USEC_PER_SEC;
	tv.tv_usec = us % LQ_USEC_PER_SEC;
	return (tv);
}

/* Forget c: no deadline, no check, no reference. */
static void
conn_free(struct conn *c)
{
	TAILQ_REMOVE(&conns, c, entry);
	event_free(c->deadline);
	if (c->check != NULL)
		(void)evbuffer_remove_cb_entry(bufferevent_get_input(c->bev),
		    c->check);
	(void)bufferevent_decref(c->bev);
	free(c);
}

/*
 * The deadline passed (or a refused connection is to go): end the
 * connection as evhttp's read timeout would. If evhttp has freed it
 * already, its callbacks are gone and this does nothing.
 */
static void
conn_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	(void)fd;
	(void)what;
	if (c->state != CONN_REFUSED)
		log_debug("api: a client did not send its request within "
		    "%lld ms; dropped", (long long)(limits.timeout_us / 1000));
	bufferevent_trigger_event(c->bev, BEV_EVENT_READING |
	    BEV_EVENT_TIMEOUT, 0);
	conn_free(c);
}

/*
 * Answer with the JSON error and close: written straight to the socket
 * (small, into an empty socket buffer: it fits), our direction shut
 * down, the input dropped as it comes so that evhttp parses nothing;
 * the deadline event then frees the connection CONN_LINGER_US later,
 * or evhttp does first, when the client closes.
 */
static void printflike(3, 4)
conn_refuse(struct conn *c, int code, const char *fmt, ...)
{
	struct timeval	 linger;
	va_list		 ap;
	json_t		*o;
	char		*message, *body, *text;
	int		 fd, len;

	va_start(ap, fmt);
	(void)xvasprintf(&message, fmt, ap);
	va_end(ap);
	log_debug("api: %d %s", code, message);
	o = api_error_json(code, message);
	body = json_dumps(o, API_JSON_FLAGS);
	json_decref(o);
	if (body == NULL)
		fatalx("%s: json_dumps", __func__);
	len = xasprintf(&text, "HTTP/1.1 %d Error\r\nContent-Type: "
	    "application/json\r\nContent-Length: %zu\r\nConnection: "
	    "close\r\n\r\n%s\n", code, strlen(body) + 1, body);
	if ((fd = bufferevent_getfd(c->bev)) != -1) {
		(void)send(fd, text, (size_t)len, MSG_NOSIGNAL |
		    MSG_DONTWAIT);
		(void)shutdown(fd, SHUT_WR);
	}
	free(text);
	free(body);
	free(message);
	c->state = CONN_REFUSED;
	(void)evbuffer_drain(bufferevent_get_input(c->bev),
	    evbuffer_get_length(bufferevent_get_input(c->bev)));
	linger = conn_tv(CONN_LINGER_US);
	(void)evtimer_add(c->deadline, &linger);
}

/* Whether s (len bytes) is a method evhttp knows. */
static int
conn_method_known(const char *s, size_t len)
{
	static const char *const methods[] = {
		"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE",
		"CONNECT", "PATCH"
	};
	size_t	i;

	for (i = 0; i < nitems(methods); i++) {
		if (strlen(methods[i]) == len &&
		    memcmp(methods[i], s, len) == 0)
			return (1);
	}
	return (0);
}

/* The request line, as evhttp will split it; 0, or -1 if refused. */
static int
conn_request_line(struct conn *c, char *line)
{
	struct evhttp_uri	*uri;
	char			*sp, *version;

	if ((sp = strchr(line, ' ')) == NULL ||
	    (version = strrchr(line, ' ')) == sp) {
		conn_refuse(c, 400, "malformed request line: expected "
		    "METHOD /path HTTP/1.1");
		return (-1);
	}
	if (!conn_method_known(line, (size_t)(sp - line))) {
		conn_refuse(c, 501, "method \"%.*s\" is not supported; the "
		    "API uses GET, POST, PUT and DELETE (linkqd(8))",
		    (int)(sp - line > 32 ? 32 : sp - line), line);
		return (-1);
	}
	if (strcmp(version + 1, "HTTP/1.0") != 0 &&
	    strcmp(version + 1, "HTTP/1.1") != 0) {
		conn_refuse(c, 400, "malformed request line: the version "
		    "must be HTTP/1.0 or HTTP/1.1");
		return (-1);
	}
	*version = '\0';
	uri = evhttp_uri_parse_with_flags(sp + 1, EVHTTP_URI_NONCONFORMANT);
	if (uri == NULL || sp[1] != '/') {
		if (uri != NULL)
			evhttp_uri_free(uri);
		conn_refuse(c, 400, "malformed request line: the target "
		    "must be a path such as /v1/status");
		return (-1);
	}
	evhttp_uri_free(uri);
	return (0);
}

/* A header line, or the head's end; 0, or -1 if refused. */
static int
conn_header_line(struct conn *c, char *line)
{
	const char	*errstr;
	char		*colon, *value;

	if (*line == ' ' || *line == '\t') {
		if (c->lines == 1) {
			conn_refuse(c, 400, "malformed header: a continued "
			    "line with no header before it");
			return (-1);
		}
		return (0);
	}
	if ((colon = strchr(line, ':')) == NULL || colon == line) {
		conn_refuse(c, 400, "malformed header \"%.32s\": expected "
		    "Name: value", line);
		return (-1);
	}
	*colon = '\0';
	value = colon + 1 + strspn(colon + 1, " \t");
	value[strcspn(value, " \t")] = '\0';
	if (strcasecmp(line, "Transfer-Encoding") == 0) {
		conn_refuse(c, 411, "a body must come with a Content-Length "
		    "(at most %zu bytes), not in chunks", limits.max_body);
		return (-1);
	}
	if (strcasecmp(line, "Content-Length") == 0) {
		if (strspn(value, "0123456789") != strlen(value) ||
		    *value == '\0') {
			conn_refuse(c, 400, "Content-Length must be a number "
			    "of bytes");
			return (-1);
		}
		(void)strtonum(value, 0, (long long)limits.max_body, &errstr);
		if (errstr != NULL) {
			conn_refuse(c, 413, "the request body is larger than "
			    "%zu bytes", limits.max_body);
			return (-1);
		}
	}
	return (0);
}

/*
 * Check one whole line of the head (without its end of line), as the
 * lines'th; 0 to go on, or -1 when refused.
 */
static int
conn_check_line(struct conn *c, char *line)
{
	if (++c->lines == 1)
		return (conn_request_line(c, line));
	if (*line == '\0') {
		c->state = CONN_BODY;
		return (0);
	}
	return (conn_header_line(c, line));
}

/*
 * Bytes came in or went out of the input buffer. While the head is
 * read, check each line that is whole and not yet checked. Drains are
 * evhttp's, of lines checked here.
 */
static void
conn_input_cb(struct evbuffer *in, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct conn		*c = arg;
	struct evbuffer_ptr	 start, eol;
	size_t			 len, eol_len;
	char			*line;

	c->checked -= info->n_deleted < c->checked ? info->n_deleted :
	    c->checked;
	if (c->state == CONN_REFUSED) {
		if (info->n_added > 0)
			(void)evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	while (c->state == CONN_HEAD) {
		if (evbuffer_ptr_set(in, &start, c->checked,
		    EVBUFFER_PTR_SET) == -1)
			return;
		eol = evbuffer_search_eol(in, &start, &eol_len,
		    EVBUFFER_EOL_CRLF);
		if (eol.pos == -1)
			break;
		len = (size_t)eol.pos - c->checked;
		line = xmalloc(len + 1);
		if (evbuffer_copyout_from(in, &start, line, len) !=
		    (ev_ssize_t)len) {
			free(line);
			return;
		}
		line[len] = '\0';
		c->checked += len + eol_len;
		c->head += len + eol_len;
		if (c->head > limits.max_head) {
			free(line);
			conn_refuse(c, 431, "the request head is larger than "
			    "%zu bytes", limits.max_head);
			return;
		}
		if (conn_check_line(c, line) == -1) {
			free(line);
			return;
		}
		free(line);
	}
	if (c->state == CONN_HEAD && c->head + evbuffer_get_length(in) -
	    c->checked > limits.max_head)
		conn_refuse(c, 431, "the request head is larger than %zu "
		    "bytes", limits.max_head);
	else if (c->state == CONN_BODY)
		evbuffer_cb_clear_flags(in, c->check, EVBUFFER_CB_ENABLED);
}

/* evhttp accepted a client: its bufferevent, with our guard on it. */
static struct bufferevent *
conn_bev_cb(struct event_base *b, void *unused)
{
	struct conn	*c;
	struct timeval	 tv = conn_tv(limits.timeout_us);

	(void)unused;
	c = xcalloc(1, sizeof(*c));
	if ((c->bev = bufferevent_socket_new(b, -1, BEV_OPT_CLOSE_ON_FREE))
	    == NULL || (c->deadline = evtimer_new(b, conn_deadline_cb, c))
	    == NULL || (c->check = evbuffer_add_cb(bufferevent_get_input(
	    c->bev), conn_input_cb, c)) == NULL)
		fatalx("%s: out of memory", __func__);
	bufferevent_incref(c->bev);
	if (evtimer_add(c->deadline, &tv) == -1)
		fatalx("%s: evtimer_add", __func__);
	TAILQ_INSERT_TAIL(&conns, c, entry);
	return (c->bev);
}

/* The guard of req's connection, or NULL. */
static struct conn *
conn_of(struct evhttp_request *req)
{
	struct evhttp_connection	*evcon;
	struct bufferevent		*bev;
	struct conn			*c;

	if ((evcon = evhttp_request_get_connection(req)) == NULL ||
	    (bev = evhttp_connection_get_bufferevent(evcon)) == NULL)
		return (NULL);
	TAILQ_FOREACH(c, &conns, entry) {
		if (c->bev == bev)
			return (c);
	}
	return (NULL);
}

void
api_conn_request(struct evhttp_request *req)
{
	struct conn	*c;

	if ((c = conn_of(req)) != NULL)
		conn_free(c);
	(void)evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Connection", "close");
}

void
api_conn_stream(struct evhttp_request *req)
{
	struct evhttp_connection	*evcon;
	struct timeval			 tv = conn_tv(limits.timeout_us);

	if ((evcon = evhttp_request_get_connection(req)) != NULL)
		(void)bufferevent_set_timeouts(
		    evhttp_connection_get_bufferevent(evcon), NULL, &tv);
}

/* Accept again after a pause; the episode ends if that works. */
static void
conn_resume_cb(evutil_socket_t fd, short what, void *unused)
{
	struct timeval	tv = conn_tv(ACCEPT_PAUSE_MS * 1000);
	int		i;

	(void)fd;
	(void)what;
	(void)unused;
	if (acc.paused) {
		acc.paused = 0;
		for (i = 0; i < acc.nlisteners; i++)
			(void)evconnlistener_enable(acc.listeners[i]);
		/* No failure until this fires again: the episode is over. */
		(void)evtimer_add(acc.timer, &tv);
		return;
	}
	log_warnx("api: accepting clients again; accept(2) failed %lu "
	    "times over %lld ms", acc.failures, (long long)(lq_mono_sub(
	    lq_mono_now(), acc.since) / 1000));
	acc.episode = 0;
	acc.failures = 0;
}

/*
 * accept(2) failed, at the descriptor limit as a rule: pause instead of
 * trying again at once, and say so once. Every listener pauses: the
 * limit is the process's.
 */
static void
conn_accept_error_cb(struct evconnlistener *listener, void *unused)
{
	struct timeval	tv = conn_tv(ACCEPT_PAUSE_MS * 1000);
	int		saved = errno, i;

	(void)unused;
	acc.failures++;
	if (!acc.episode) {
		acc.episode = 1;
		acc.since = lq_mono_now();
		log_warnx("api: cannot accept clients (%s): pausing %d ms at "
		    "a time until it works; raise the descriptor limit "
		    "(LimitNOFILE) if this recurs", strerror(saved),
		    ACCEPT_PAUSE_MS);
	}
	(void)listener;
	for (i = 0; i < acc.nlisteners; i++)
		(void)evconnlistener_disable(acc.listeners[i]);
	acc.paused = 1;
	(void)evtimer_add(acc.timer, &tv);
}

void
api_conn_start(struct event_base *b, struct evhttp *h,
    struct evhttp_bound_socket *bound, const struct api_conn_limits *l)
{
	http = h;
	limits = *l;
	evhttp_set_bevcb(h, conn_bev_cb, NULL);
	api_conn_set_timeout(l->timeout_us);
	if ((acc.timer = evtimer_new(b, conn_resume_cb, NULL)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	api_conn_listen(bound);
}

void
api_conn_listen(struct evhttp_bound_socket *bound)
{
	struct evconnlistener	*l;

	if (acc.nlisteners == ACCEPT_LISTENERS)
		fatalx("%s: too many listeners", __func__);
	l = evhttp_bound_socket_get_listener(bound);
	acc.listeners[acc.nlisteners++] = l;
	evconnlistener_set_error_cb(l, conn_accept_error_cb);
}

int
api_conn_tcp(struct evhttp_request *req)
{
	struct evhttp_connection	*evcon;
	struct sockaddr_storage		 ss;
	socklen_t			 len = sizeof(ss);
	evutil_socket_t			 fd;

	if ((evcon = evhttp_request_get_connection(req)) == NULL ||
	    (fd = bufferevent_getfd(evhttp_connection_get_bufferevent(
	    evcon))) == -1 || getsockname(fd, (struct sockaddr *)&ss,
	    &len) == -1)
		return (0);
	return (ss.ss_family == AF_INET || ss.ss_family == AF_INET6);
}

/* evhttp's inactivity timeout goes with the deadline, for new ones. */
void
api_conn_set_timeout(int64_t us)
{
	struct timeval	tv = conn_tv(us);

	limits.timeout_us = us;
	evhttp_set_timeout_tv(http, &tv);
}

void
api_conn_stop(void)
{
	struct conn	*c;

	while ((c = TAILQ_FIRST(&conns)) != NULL)
		conn_free(c);
	if (acc.timer != NULL)
		event_free(acc.timer);
	acc.timer = NULL;
	acc.nlisteners = 0;
	http = NULL;
}
