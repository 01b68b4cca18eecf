/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The control API: HTTP/1.1 with JSON bodies on a unix socket (DESIGN.md,
 * Control API), served by libevent's evhttp on the loop thread.
 *
 * Every path is under /v1/ and listed in one routing table with the
 * method it accepts. Every answer is JSON; every error has one shape,
 *
 *	{"error": {"status": 404, "message": "no such path /v1/x ..."}}
 *
 * with a message a person can act on. Requests are capped in header
 * and body size by evhttp, so a huge request never reaches a handler.
 * The socket is created with umask 0117, so it is born with mode 0660,
 * and a socket at the path that still answers belongs to a running
 * linkqd and is left alone.
 */

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>

#include "compat/compat.h"
#include "api.h"
#include "devices.h"
#include "linkq.h"
#include "log.h"
#include "lq-time.h"
#include "xmalloc.h"

#define CONTROL_MAX_HEADERS	(8 * 1024)
#define CONTROL_MAX_BODY	(64 * 1024)

struct route {
	const char	*path;
	int		 method;	/* EVHTTP_REQ_GET ... */
	json_t		*(*handler)(struct evhttp_request *, int *);
};

static json_t	*api_status(struct evhttp_request *, int *);
static json_t	*api_devices(struct evhttp_request *, int *);

static const struct route routes[] = {
	{ "/v1/status", EVHTTP_REQ_GET, api_status },
	{ "/v1/devices", EVHTTP_REQ_GET, api_devices },
};

static struct evhttp	*http;
static char		*socket_path;
static lq_mono_t	 started;
static const char	*db_path;

/* Send a JSON body with a status code; takes the reference to body. */
static void
api_reply(struct evhttp_request *req, int code, json_t *body)
{
	struct evbuffer	*buf;
	char		*text;

	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (text == NULL)
		fatalx("%s: json_dumps", __func__);
	if ((buf = evbuffer_new()) == NULL)
		fatalx("%s: evbuffer_new", __func__);
	if (evbuffer_add_printf(buf, "%s\n", text) == -1)
		fatalx("%s: evbuffer_add", __func__);
	free(text);
	(void)evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	evhttp_send_reply(req, code, code < 300 ? "OK" : "Error", buf);
	evbuffer_free(buf);
}

/* Send the one error shape. */
static void printflike(3, 4)
api_error(struct evhttp_request *req, int code, const char *fmt, ...)
{
	va_list	 ap;
	char	*message;

	va_start(ap, fmt);
	(void)xvasprintf(&message, fmt, ap);
	va_end(ap);
	log_debug("api: %d %s", code, message);
	api_reply(req, code, json_pack("{s:{s:i, s:s}}", "error",
	    "status", code, "message", message));
	free(message);
}

/* GET /v1/status: the daemon and what it sees. */
static json_t *
api_status(struct evhttp_request *req, int *code)
{
	(void)req;
	*code = 200;
	return (json_pack("{s:s, s:i, s:I, s:s, s:i}",
	    "version", LINKQ_VERSION,
	    "pid", (int)getpid(),
	    "uptime_s", (json_int_t)(lq_mono_sub(lq_mono_now(), started) /
	    LQ_USEC_PER_SEC),
	    "db", db_path,
	    "devices_attached", (int)devices_attached()));
}

/* GET /v1/devices: every device seen since the start. */
static json_t *
api_devices(struct evhttp_request *req, int *code)
{
	(void)req;
	*code = 200;
	return (json_pack("{s:o}", "devices", devices_json()));
}

/* The method's name, for messages. */
static const char *
api_method_name(int method)
{
	switch (method) {
	case EVHTTP_REQ_GET:
		return ("GET");
	case EVHTTP_REQ_POST:
		return ("POST");
	case EVHTTP_REQ_PUT:
		return ("PUT");
	case EVHTTP_REQ_DELETE:
		return ("DELETE");
	default:
		return ("this method");
	}
}

/* Route a request to its handler, or answer 404 or 405. */
static void
api_request_cb(struct evhttp_request *req, void *unused)
{
	const struct evhttp_uri	*uri;
	const char		*path;
	json_t			*body;
	size_t			 i;
	int			 code, method, path_known = 0;

	(void)unused;
	uri = evhttp_request_get_evhttp_uri(req);
	path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	method = (int)evhttp_request_get_command(req);
	if (path == NULL) {
		api_error(req, 400, "the request has no path");
		return;
	}
	for (i = 0; i < nitems(routes); i++) {
		if (strcmp(routes[i].path, path) != 0)
			continue;
		path_known = 1;
		if (routes[i].method != method)
			continue;
		body = routes[i].handler(req, &code);
		api_reply(req, code, body);
		return;
	}
	if (path_known)
		api_error(req, 405, "%s is not allowed on %s",
		    api_method_name(method), path);
	else
		api_error(req, 404, "no such path %s; the API is "
		    "described in linkqd(8)", path);
}

/*
 * Bind the socket: refuse if a linkqd answers there, replace a stale
 * one. Born 0660 through the umask, never chmod'ed afterwards.
 */
static int
api_bind(const char *path, char **cause)
{
	struct sockaddr_un	sun;
	struct stat		sb;
	mode_t			old_mask;
	int			fd, probe, ret;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		xasprintf(cause, "socket path %s is too long", path);
		return (-1);
	}
	if (lstat(path, &sb) == 0) {
		if (!S_ISSOCK(sb.st_mode)) {
			xasprintf(cause, "%s exists and is not a socket; "
			    "move it or choose another path with -s", path);
			return (-1);
		}
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		ret = probe == -1 ? -1 : connect(probe,
		    (struct sockaddr *)&sun, sizeof(sun));
		if (probe != -1)
			(void)close(probe);
		if (ret == 0) {
			xasprintf(cause, "another linkqd is listening on %s",
			    path);
			return (-1);
		}
		(void)unlink(path);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1) {
		xasprintf(cause, "socket: %s", strerror(errno));
		return (-1);
	}
	old_mask = umask(0117);
	ret = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	(void)umask(old_mask);
	if (ret == -1 || listen(fd, 128) == -1) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		(void)close(fd);
		return (-1);
	}
	return (fd);
}

/* Listen on path and serve the API on base. */
int
api_start(struct event_base *base, const char *path, const char *db,
    char **cause)
{
	int	fd;

	*cause = NULL;
	if ((fd = api_bind(path, cause)) == -1)
		return (-1);
	if ((http = evhttp_new(base)) == NULL)
		fatalx("%s: evhttp_new", __func__);
	evhttp_set_max_headers_size(http, CONTROL_MAX_HEADERS);
	evhttp_set_max_body_size(http, CONTROL_MAX_BODY);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
	evhttp_set_gencb(http, api_request_cb, NULL);
	if (evhttp_accept_socket(http, fd) == -1) {
		xasprintf(cause, "%s: cannot serve HTTP on it", path);
		(void)close(fd);
		return (-1);
	}
	socket_path = xstrdup(path);
	db_path = db;
	started = lq_mono_now();
	return (0);
}

/* Stop serving and remove the socket. */
void
api_stop(void)
{
	if (http != NULL)
		evhttp_free(http);
	http = NULL;
	if (socket_path != NULL)
		(void)unlink(socket_path);
	free(socket_path);
	socket_path = NULL;
}
