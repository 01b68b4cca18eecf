/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The control API: HTTP/1.1 with JSON bodies on a unix socket (DESIGN.md,
 * Control API), served by libevent's evhttp on the loop thread.
 *
 * Every path is under /v1/, but /metrics, and listed in one routing
 * table with the method it accepts; "*" in a pattern is one path
 * segment, handed to the handler. Every answer is JSON (the progress
 * and event streams are newline-delimited JSON, feed.c), but that of
 * /metrics, in the Prometheus text format (metrics.h); every error has
 * one shape,
 *
 *	{"error": {"status": 404, "message": "no such path /v1/x ..."}}
 *
 * with a message a person can act on. Bodies are JSON objects whose
 * fields are checked by name and type; an unknown field is an error, so
 * a typo never passes silently. api-conn.c checks each request's head
 * before evhttp parses it and answers what is malformed in this shape
 * too (a bad request line, an unknown method, a head above
 * CONTROL_MAX_HEADERS, a Content-Length above CONTROL_MAX_BODY, a
 * chunked body), drops a client that takes longer than the [daemon]
 * client-timeout to send its request, and pauses accepting at the
 * descriptor limit; each connection carries one request.
 * The socket is created with umask 0117, so it is born with mode 0660,
 * and a socket at the path that still answers belongs to a running
 * linkqd and is left alone. The TCP listener of metrics-listen, on a
 * loopback address alone, is a second socket of the same evhttp whose
 * requests get GET answered and any other method refused (403).
 */

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "compat/compat.h"
#include "compat/queue.h"
#include "api.h"
#include "api-conn.h"
#include "api-parse.h"
#include "config.h"
#include "devices.h"
#include "dircheck.h"
#include "events.h"
#include "kmsg.h"
#include "usb.h"
#include "linkq.h"
#include "log.h"
#include "lq-history.h"
#include "lq-report.h"
#include "lq-status.h"
#include "lq-time.h"
#include "metrics.h"
#include "muxquery.h"
#include "run.h"
#include "sources.h"
#include "store.h"
#include "usbmon.h"
#include "watch.h"
#include "xmalloc.h"

#define CONTROL_MAX_HEADERS	(8 * 1024)
/* Bodies above this get the JSON error; evhttp's own cap, far above. */
#define CONTROL_MAX_BODY	(64 * 1024)
#define CONTROL_MAX_READ	(1024 * 1024)

/*
 * A route: a path pattern where "*" matches one segment (passed to the
 * handler in args), and a method. A handler returns the reply body and
 * sets *code, or returns NULL when it took the request for a stream.
 * A route that is not JSON has a text handler instead, which answers
 * the request itself, to HEAD as well as GET.
 */
struct route {
	const char	*pattern;
	int		 method;	/* EVHTTP_REQ_GET ... */
	json_t		*(*handler)(struct evhttp_request *, char **, int *);
	void		 (*text)(struct evhttp_request *);
};

static json_t	*api_status(struct evhttp_request *, char **, int *);
static json_t	*api_devices(struct evhttp_request *, char **, int *);
static json_t	*api_pair(struct evhttp_request *, char **, int *);
static json_t	*api_ports(struct evhttp_request *, char **, int *);
static json_t	*api_port_put(struct evhttp_request *, char **, int *);
static json_t	*api_cable_put(struct evhttp_request *, char **, int *);
static json_t	*api_cable_delete(struct evhttp_request *, char **, int *);
static json_t	*api_profiles(struct evhttp_request *, char **, int *);
static json_t	*api_runs(struct evhttp_request *, char **, int *);
static json_t	*api_run_start(struct evhttp_request *, char **, int *);
static json_t	*api_run_get(struct evhttp_request *, char **, int *);
static json_t	*api_run_cancel(struct evhttp_request *, char **, int *);
static json_t	*api_run_stop(struct evhttp_request *, char **, int *);
static json_t	*api_run_progress(struct evhttp_request *, char **, int *);
static json_t	*api_run_finish(struct evhttp_request *, char **, int *);
static json_t	*api_run_alive(struct evhttp_request *, char **, int *);
static json_t	*api_run_timeline(struct evhttp_request *, char **, int *);
static json_t	*api_events(struct evhttp_request *, char **, int *);
static json_t	*api_run_probes(struct evhttp_request *, char **, int *);
static json_t	*api_run_device(struct evhttp_request *, char **, int *);
static json_t	*api_report(struct evhttp_request *, char **, int *);
static void	 api_metrics(struct evhttp_request *);

static const struct route routes[] = {
	{ "/v1/status", EVHTTP_REQ_GET, api_status, NULL },
	{ "/v1/devices", EVHTTP_REQ_GET, api_devices, NULL },
	{ "/v1/devices/*/pair", EVHTTP_REQ_POST, api_pair, NULL },
	{ "/v1/ports", EVHTTP_REQ_GET, api_ports, NULL },
	{ "/v1/ports/*", EVHTTP_REQ_PUT, api_port_put, NULL },
	{ "/v1/ports/*/cable", EVHTTP_REQ_PUT, api_cable_put, NULL },
	{ "/v1/ports/*/cable", EVHTTP_REQ_DELETE, api_cable_delete, NULL },
	{ "/v1/profiles", EVHTTP_REQ_GET, api_profiles, NULL },
	{ "/v1/runs", EVHTTP_REQ_GET, api_runs, NULL },
	{ "/v1/runs", EVHTTP_REQ_POST, api_run_start, NULL },
	{ "/v1/runs/*", EVHTTP_REQ_GET, api_run_get, NULL },
	{ "/v1/runs/*", EVHTTP_REQ_DELETE, api_run_cancel, NULL },
	{ "/v1/runs/*/cancel", EVHTTP_REQ_POST, api_run_cancel, NULL },
	{ "/v1/runs/*/stop", EVHTTP_REQ_POST, api_run_stop, NULL },
	{ "/v1/runs/*/progress", EVHTTP_REQ_GET, api_run_progress, NULL },
	{ "/v1/runs/*/finish", EVHTTP_REQ_POST, api_run_finish, NULL },
	{ "/v1/runs/*/alive", EVHTTP_REQ_POST, api_run_alive, NULL },
	{ "/v1/runs/*/probes", EVHTTP_REQ_GET, api_run_probes, NULL },
	{ "/v1/runs/*/device", EVHTTP_REQ_GET, api_run_device, NULL },
	{ "/v1/runs/*/timeline", EVHTTP_REQ_GET, api_run_timeline, NULL },
	{ "/v1/events", EVHTTP_REQ_GET, api_events, NULL },
	{ "/v1/report", EVHTTP_REQ_GET, api_report, NULL },
	{ "/metrics", EVHTTP_REQ_GET, NULL, api_metrics },
};

/*
 * The HTTP status of each outcome the device registry returns: the one
 * place where an lq_status becomes HTTP. One not listed is a 500.
 */
static const struct {
	int	status;		/* enum lq_status */
	int	http;
} api_codes[] = {
	{ LQ_OK, 200 },
	{ LQ_EPAIRPENDING, 202 },	/* accepted: the prompt waits */
	{ LQ_EINVAL, 400 },
	{ LQ_ENOTFOUND, 404 },
	{ LQ_ENODEVICE, 404 },
	{ LQ_EBUSY, 409 },		/* the state forbids it now */
	/* The database takes no writes now: the disk's fault, not the
	 * request's, and it may pass (linkqd(8), STORAGE). */
	{ LQ_ESTORE, 503 }
};

static struct evhttp		*http;
static char			*socket_path;
static lq_mono_t		 started;
static char			*db_path;	/* a copy: reloads free it */
static const struct config	*config;
static struct store		*store;

/* The HTTP code of an lq_status. */
static int
api_http_code(int status)
{
	size_t	i;

	for (i = 0; i < nitems(api_codes); i++) {
		if (api_codes[i].status == status)
			return (api_codes[i].http);
	}
	return (500);
}

/* Send a JSON body with a status code; takes the reference to body. */
static void
api_reply(struct evhttp_request *req, int code, json_t *body)
{
	struct evbuffer	*buf;
	char		*text;

	text = json_dumps(body, API_JSON_FLAGS);
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

/* The one error shape. */
json_t *
api_error_json(int code, const char *message)
{
	return (json_pack("{s:{s:i, s:s}}", "error", "status", code,
	    "message", message));
}

/* The one error shape, with *code set; for handlers to return. */
static json_t * printflike(2, 3)
api_fail(int *code, const char *fmt, ...)
{
	va_list	 ap;
	char	*message;
	json_t	*o;

	va_start(ap, fmt);
	(void)xvasprintf(&message, fmt, ap);
	va_end(ap);
	log_debug("api: %d %s", *code, message);
	o = api_error_json(*code, message);
	free(message);
	return (o);
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
	api_reply(req, code, api_fail(&code, "%s", message));
	free(message);
}

/*
 * The request's body as a JSON object whose keys are all in allowed
 * (NULL-terminated); NULL with *reply set to the error otherwise.
 */
static json_t *
api_body(struct evhttp_request *req, const char *const *allowed,
    int *code, json_t **reply)
{
	struct evbuffer	*in = evhttp_request_get_input_buffer(req);
	size_t		 len = evbuffer_get_length(in);

	return (api_parse_body((const char *)evbuffer_pullup(in,
	    (ssize_t)len), len, allowed, code, reply));
}

/* The body of len bytes at data as api_body() takes it; api-parse.h. */
json_t *
api_parse_body(const char *data, size_t len, const char *const *allowed,
    int *code, json_t **reply)
{
	json_error_t	 jerr;
	json_t		*o, *v;
	const char	*key;
	size_t		 i;

	*code = 400;
	if (len == 0)
		return (json_object());
	if ((o = json_loadb(data, len, JSON_REJECT_DUPLICATES,
	    &jerr)) == NULL) {
		*reply = api_fail(code, "the body is not valid JSON: %s "
		    "(line %d, column %d)", jerr.text, jerr.line, jerr.column);
		return (NULL);
	}
	if (!json_is_object(o)) {
		json_decref(o);
		*reply = api_fail(code, "the body must be a JSON object");
		return (NULL);
	}
	json_object_foreach(o, key, v) {
		for (i = 0; allowed[i] != NULL; i++) {
			if (strcmp(allowed[i], key) == 0)
				break;
		}
		if (allowed[i] == NULL) {
			*reply = api_fail(code, "unknown field \"%.64s\"; "
			    "linkqd(8) lists the fields of each request", key);
			json_decref(o);
			return (NULL);
		}
	}
	return (o);
}

/*
 * A string field of a body: 1 with *value (NULL if absent or null and
 * nullable), or 0 with *reply set when it has the wrong type.
 */
int
api_field(json_t *body, const char *key, int nullable, const char **value,
    int *code, json_t **reply)
{
	json_t	*v = json_object_get(body, key);

	*value = NULL;
	if (v == NULL || (nullable && json_is_null(v)))
		return (1);
	if (!json_is_string(v)) {
		*code = 400;
		*reply = api_fail(code, "field \"%s\" must be a string%s",
		    key, nullable ? " or null" : "");
		return (0);
	}
	*value = json_string_value(v);
	return (1);
}

/*
 * A boolean field of a body: 1 with *value (0 if absent), or 0 with
 * *reply set when it has the wrong type.
 */
int
api_flag(json_t *body, const char *key, int *value, int *code,
    json_t **reply)
{
	json_t	*v = json_object_get(body, key);

	*value = 0;
	if (v == NULL)
		return (1);
	if (!json_is_boolean(v)) {
		*code = 400;
		*reply = api_fail(code, "field \"%s\" must be true or false",
		    key);
		return (0);
	}
	*value = json_is_true(v);
	return (1);
}

/*
 * A number in [min, max] written in its one canonical form: decimal
 * digits, no sign, no space, no leading zero. strtonum(3) alone takes
 * "+1", " 1" and "01" for 1, so that /v1/runs/+1 was run 1. 0, or -1.
 */
static int
api_number(const char *s, long long min, long long max, long long *out)
{
	const char	*errstr;
	size_t		 len = strlen(s);

	if (len == 0 || strspn(s, "0123456789") != len ||
	    (s[0] == '0' && len > 1))
		return (-1);
	*out = strtonum(s, min, max, &errstr);
	return (errstr != NULL ? -1 : 0);
}

/* A run id from a path segment, or 0. */
int64_t
api_run_id(const char *s)
{
	long long	 id;

	return (api_number(s, 1, INT64_MAX, &id) == -1 ? 0 : (int64_t)id);
}

/* The database: whether it records, what is wrong, what to do. */
static json_t *
api_store_json(void)
{
	struct store_health	 h;
	json_t			*o;

	if (store == NULL)
		return (json_null());
	store_health(store, &h);
	o = json_pack("{s:b, s:I}", "recording", h.problem == NULL,
	    "pending", (json_int_t)h.pending);
	if (h.problem != NULL) {
		(void)json_object_set_new(o, "problem",
		    json_string(h.problem));
		(void)json_object_set_new(o, "advice", json_string(h.advice));
		(void)json_object_set_new(o, "since_us",
		    json_integer(h.since_us));
		if (h.detail != NULL)
			(void)json_object_set_new(o, "detail",
			    json_string(h.detail));
	}
	if (h.recovered_from != NULL) {
		(void)json_object_set_new(o, "recovered_from",
		    json_string(h.recovered_from));
		(void)json_object_set_new(o, "recovered_us",
		    json_integer(h.recovered_us));
	}
	return (o);
}

/* GET /v1/status: the daemon and what it sees. */
static json_t *
api_status(struct evhttp_request *req, char **args, int *code)
{
	json_t			*o;
	char			*cause = NULL;
	enum muxquery_state	 mux;

	(void)req;
	(void)args;
	*code = 200;
	o = json_pack("{s:s, s:i, s:I, s:s, s:i}",
	    "version", LINKQ_VERSION,
	    "pid", (int)getpid(),
	    "uptime_s", (json_int_t)(lq_mono_sub(lq_mono_now(), started) /
	    LQ_USEC_PER_SEC),
	    "db", db_path,
	    "devices_attached", (int)devices_attached());
	(void)json_object_set_new(o, "kmsg", json_string(kmsg_status()));
	(void)json_object_set_new(o, "usb", json_string(usb_status()));
	(void)json_object_set_new(o, "usbmon", json_string(usbmon_status()));
	(void)json_object_set_new(o, "sources", sources_json());
	(void)json_object_set_new(o, "store", api_store_json());
	mux = muxquery_reachable(&cause);
	if (mux == MUXQUERY_UP)
		(void)json_object_set_new(o, "usbmuxd",
		    json_string("connected"));
	else if (mux == MUXQUERY_GONE) {
		(void)json_object_set_new(o, "usbmuxd",
		    json_string("not running"));
		(void)json_object_set_new(o, "usbmuxd_detail",
		    json_sprintf("usbmuxd not running: it starts when a "
		    "phone is plugged, and linkqd reconnects within a second "
		    "(%s)", cause));
		free(cause);
	} else {
		(void)json_object_set_new(o, "usbmuxd",
		    json_string("unreachable"));
		(void)json_object_set_new(o, "usbmuxd_detail",
		    json_sprintf("%s; linkqd reconnects by itself once "
		    "usbmuxd runs (systemctl start usbmuxd, or plug in an "
		    "iPhone)", cause));
		free(cause);
	}
	return (o);
}

/* GET /v1/devices: every device seen since the start. */
static json_t *
api_devices(struct evhttp_request *req, char **args, int *code)
{
	(void)req;
	(void)args;
	*code = 200;
	return (json_pack("{s:o}", "devices", devices_json()));
}

/* POST /v1/devices/UDID/pair: ask the device to trust this host. */
static json_t *
api_pair(struct evhttp_request *req, char **args, int *code)
{
	static const char *const allowed[] = { NULL };
	json_t		*body, *reply;
	char		*message;

	if ((body = api_body(req, allowed, code, &reply)) == NULL)
		return (reply);
	json_decref(body);
	*code = api_http_code(devices_pair(args[0], &message));
	reply = *code >= 400 ? api_fail(code, "%s", message) :
	    json_pack("{s:s, s:s}", "udid", args[0], "message", message);
	free(message);
	return (reply);
}

/* GET /v1/ports: this host's ports, their labels and cables. */
static json_t *
api_ports(struct evhttp_request *req, char **args, int *code)
{
	(void)req;
	(void)args;
	*code = 200;
	return (json_pack("{s:o}", "ports", devices_ports_json()));
}

/* PUT /v1/ports/PORT {"label": "front-left" | null}. */
static json_t *
api_port_put(struct evhttp_request *req, char **args, int *code)
{
	static const char *const allowed[] = { "label", NULL };
	json_t		*body, *reply = NULL;
	const char	*label;
	char		*cause;
	int		 status;

	if ((body = api_body(req, allowed, code, &reply)) == NULL)
		return (reply);
	if (json_object_get(body, "label") == NULL) {
		json_decref(body);
		return (api_fail(code, "give \"label\": a name, or null to "
		    "clear it"));
	}
	if (api_field(body, "label", 1, &label, code, &reply) &&
	    (status = devices_set_port_label(args[0], label, &cause)) !=
	    LQ_OK) {
		*code = api_http_code(status);
		reply = api_fail(code, "%s", cause);
		free(cause);
	}
	if (reply == NULL) {
		*code = 200;
		reply = json_pack("{s:s, s:o}", "port", args[0], "label",
		    label != NULL ? json_string(label) : json_null());
	}
	json_decref(body);
	return (reply);
}

/*
 * PUT /v1/ports/PORT/cable {"cable": "A-03", "fixed": false}: which
 * cable is there; fixed, it stays across unplugs until cleared.
 */
static json_t *
api_cable_put(struct evhttp_request *req, char **args, int *code)
{
	static const char *const allowed[] = { "cable", "fixed", NULL };
	json_t		*body, *reply = NULL;
	const char	*cable;
	char		*cause;
	int		 fixed, status;

	if ((body = api_body(req, allowed, code, &reply)) == NULL)
		return (reply);
	if (api_field(body, "cable", 1, &cable, code, &reply) &&
	    api_flag(body, "fixed", &fixed, code, &reply)) {
		if ((status = devices_set_cable(args[0], cable, fixed,
		    &cause)) != LQ_OK) {
			*code = api_http_code(status);
			reply = api_fail(code, "%s", cause);
			free(cause);
		} else {
			*code = 200;
			reply = json_pack("{s:s, s:o, s:b}", "port", args[0],
			    "cable", cable != NULL ? json_string(cable) :
			    json_null(), "fixed", cable != NULL && fixed);
		}
	}
	json_decref(body);
	return (reply);
}

/* DELETE /v1/ports/PORT/cable: no cable assigned there. */
static json_t *
api_cable_delete(struct evhttp_request *req, char **args, int *code)
{
	char	*cause;
	json_t	*reply;
	int	 status;

	(void)req;
	if ((status = devices_set_cable(args[0], NULL, 0, &cause)) !=
	    LQ_OK) {
		*code = api_http_code(status);
		reply = api_fail(code, "%s", cause);
		free(cause);
		return (reply);
	}
	*code = 200;
	return (json_pack("{s:s, s:n}", "port", args[0], "cable"));
}

/* GET /v1/profiles: the profiles runs can use. */
static json_t *
api_profiles(struct evhttp_request *req, char **args, int *code)
{
	const struct profile	*pr;
	json_t			*list, *kinds;
	int			 k;

	(void)req;
	(void)args;
	list = json_array();
	TAILQ_FOREACH(pr, &config->profiles, entry) {
		kinds = json_array();
		for (k = 1; k <= LQ_PROBE_KIND_MAX; k++) {
			if (pr->kinds & PROFILE_KIND(k))
				(void)json_array_append_new(kinds,
				    json_string(lq_probe_kind_name(k)));
		}
		(void)json_array_append_new(list, json_pack("{s:s, s:o, "
		    "s:I, s:I, s:i, s:b, s:b, s:b, s:I}", "name", pr->name,
		    "kinds", kinds, "duration_s", (json_int_t)(pr->duration_us /
		    LQ_USEC_PER_SEC), "bulk_bytes", (json_int_t)pr->bulk_bytes,
		    "chunk_bytes", (int)pr->chunk_bytes, "forever",
		    pr->forever, "stop_early", pr->stop_early, "triage",
		    pr->triage, "window_s", (json_int_t)(pr->window_us /
		    LQ_USEC_PER_SEC)));
	}
	*code = 200;
	return (json_pack("{s:o}", "profiles", list));
}

/*
 * Below this, since= is seconds back from now; from it on, an epoch
 * second (2001-09-09): no one asks for 31 years back.
 */
#define REPORT_SINCE_EPOCH	1000000000LL

/* since= of /v1/report and /v1/runs as a wall time in us (0: all). */
static int64_t
api_since_us(long long since)
{
	if (since >= REPORT_SINCE_EPOCH)
		return (since * LQ_USEC_PER_SEC);
	if (since > 0)
		return (lq_wall_now_us() - since * LQ_USEC_PER_SEC);
	return (0);
}

/* The filter of GET /v1/runs from q (whose strings it borrows). */
static json_t *
api_runs_filter(struct evkeyvalq *q, struct lq_history_filter *f,
    int *code)
{
	const char	*v;
	long long	 since, limit;
	int		 verdict = LQ_VERDICT_NONE;

	memset(f, 0, sizeof(*f));
	if (api_query_number(q, "since", 0, INT64_MAX / LQ_USEC_PER_SEC, 0,
	    &since) == -1)
		return (api_fail(code, "since must be seconds back from now "
		    "or an epoch second"));
	if (api_query_number(q, "limit", 1, LQ_HISTORY_LIMIT_MAX,
	    LQ_HISTORY_LIMIT, &limit) == -1)
		return (api_fail(code, "limit must be from 1 to %d",
		    LQ_HISTORY_LIMIT_MAX));
	if ((v = evhttp_find_header(q, "verdict")) != NULL &&
	    (verdict = lq_verdict_from_name(v)) <= LQ_VERDICT_NONE)
		return (api_fail(code, "verdict must be PASS, MARGINAL or "
		    "FAIL"));
	f->verdict = verdict != LQ_VERDICT_NONE ? lq_verdict_name(verdict) :
	    NULL;
	f->cable = evhttp_find_header(q, "cable");
	f->port = evhttp_find_header(q, "port");
	f->since_us = api_since_us(since);
	f->limit = (unsigned int)limit;
	return (NULL);
}

/*
 * GET /v1/runs?cable=LABEL&port=PATH_OR_LABEL&since=S&verdict=V&limit=N:
 * the runs in memory, whose live state wins, and the recorded ones
 * (lq-history.h), newest first.
 */
static json_t *
api_runs(struct evhttp_request *req, char **args, int *code)
{
	struct lq_history_filter	 f;
	struct evkeyvalq		 q;
	const char			*query;
	json_t				*list, *stored, *reply;
	char				*cause;

	(void)args;
	TAILQ_INIT(&q);
	query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	*code = 400;
	if (query != NULL && evhttp_parse_query_str(query, &q) == -1)
		return (api_fail(code, "the query string is malformed"));
	if ((reply = api_runs_filter(&q, &f, code)) != NULL) {
		evhttp_clear_headers(&q);
		return (reply);
	}
	list = runs_json();
	watch_list_json(list);
	stored = json_array();
	if (store != NULL && lq_history_runs(store_handle(store), &f, stored,
	    &cause) == -1) {
		*code = 500;
		reply = api_fail(code, "%s", cause);
		free(cause);
		json_decref(stored);
		json_decref(list);
		evhttp_clear_headers(&q);
		return (reply);
	}
	lq_history_merge(&f, list, stored);
	evhttp_clear_headers(&q);
	*code = 200;
	return (json_pack("{s:o}", "runs", list));
}

/* GET /v1/runs/ID of a run no longer in memory: from the store. */
static json_t *
api_run_stored(int64_t id, int *code)
{
	json_t	*run, *reply;
	char	*cause;
	int	 found = 0;

	*code = 404;
	if (store != NULL && (found = lq_history_run(store_handle(store), id,
	    &run, &cause)) == -1) {
		*code = 500;
		reply = api_fail(code, "%s", cause);
		free(cause);
		return (reply);
	}
	if (found == 0)
		return (api_fail(code, "run %lld was never recorded: linkq "
		    "runs lists the runs there are", (long long)id));
	*code = 200;
	return (run);
}

/* Start a restore-watch run (watch.h) for api_run_start. */
static json_t *
api_watch_start(const char *udid, const char *port, const char *cable,
    const char *command, int *code)
{
	struct watch	*w;
	char		*cause;
	int		 status;
	json_t		*reply;

	if ((w = devices_start_watch(udid, port, cable, command, &status,
	    &cause)) == NULL) {
		*code = api_http_code(status);
		reply = api_fail(code, "%s", cause);
		free(cause);
		return (reply);
	}
	*code = 201;
	return (watch_json(w));
}

/*
 * POST /v1/runs {"profile", "udid" | "port", "cable", "kind",
 * "command"}: start a run; kind (or profile) "restore-watch" starts a
 * passive watch around a restore the client runs.
 */
static json_t *
api_run_start(struct evhttp_request *req, char **args, int *code)
{
	static const char *const allowed[] = {
		"profile", "udid", "port", "cable", "kind", "command", NULL
	};
	json_t		*body, *reply = NULL;
	const char	*profile, *udid, *port, *cable, *why, *kind;
	const char	*command;
	struct run	*r;
	char		*cause;
	int		 status;

	(void)args;
	if ((body = api_body(req, allowed, code, &reply)) == NULL)
		return (reply);
	if (!api_field(body, "profile", 0, &profile, code, &reply) ||
	    !api_field(body, "udid", 1, &udid, code, &reply) ||
	    !api_field(body, "port", 1, &port, code, &reply) ||
	    !api_field(body, "cable", 1, &cable, code, &reply) ||
	    !api_field(body, "kind", 1, &kind, code, &reply) ||
	    !api_field(body, "command", 1, &command, code, &reply))
		goto out;
	if (cable != NULL && (why = lq_label_invalid(cable)) != NULL) {
		reply = api_fail(code, "bad cable label: %s", why);
		goto out;
	}
	if (kind != NULL && strcmp(kind, "qualify") != 0 &&
	    strcmp(kind, "restore-watch") != 0) {
		reply = api_fail(code, "bad kind \"%.32s\": expected "
		    "\"qualify\" or \"restore-watch\"", kind);
		goto out;
	}
	if ((kind != NULL && strcmp(kind, "restore-watch") == 0) ||
	    (profile != NULL && strcmp(profile, "restore-watch") == 0)) {
		reply = api_watch_start(udid, port, cable, command, code);
		goto out;
	}
	if (command != NULL) {
		reply = api_fail(code, "field \"command\" goes only with "
		    "kind \"restore-watch\"");
		goto out;
	}
	if ((r = devices_start_run(udid, port, profile != NULL ? profile :
	    "quick", cable, &status, &cause)) == NULL) {
		*code = api_http_code(status);
		reply = api_fail(code, "%s", cause);
		free(cause);
		goto out;
	}
	*code = 201;
	reply = run_json(r);
out:
	json_decref(body);
	return (reply);
}

/*
 * A run has ended, as one of the run objects says: 409 with its state
 * and verdict, for what only a running run can do (what).
 */
static json_t *
api_run_ended(json_t *run, const char *what, int *code)
{
	const char	*verdict;

	verdict = json_string_value(json_object_get(run, "verdict"));
	*code = api_http_code(LQ_EBUSY);
	return (api_fail(code, "run %lld cannot be %s: it has already "
	    "ended (%s, %s%s); linkq show %lld says how",
	    (long long)json_integer_value(json_object_get(run, "id")), what,
	    json_string_value(json_object_get(run, "state")) != NULL ?
	    json_string_value(json_object_get(run, "state")) : "?",
	    verdict != NULL ? "verdict " : "no verdict",
	    verdict != NULL ? verdict : "",
	    (long long)json_integer_value(json_object_get(run, "id"))));
}

/*
 * The run named by a path segment, in memory; else NULL with *reply:
 * a 400 for a bad id, a 409 for a restore-watch run (what only a run
 * of a profile can do: what), and for any other run the store's answer
 * (api_run_stored) with *code 200, or its 404 or 500.
 */
static struct run *
api_find_run(const char *arg, const char *what, int *code, json_t **reply)
{
	struct run	*r;
	int64_t		 id;

	*code = 404;
	if ((id = api_run_id(arg)) == 0) {
		*code = 400;
		*reply = api_fail(code, "bad run id \"%.32s\": a run id is "
		    "a positive number in decimal digits, such as 12", arg);
		return (NULL);
	}
	if ((r = run_find(id)) != NULL)
		return (r);
	if (watch_find(id) != NULL) {
		*code = api_http_code(LQ_EBUSY);
		*reply = api_fail(code, "run %lld watches a restore: it "
		    "cannot be %s; it ends with the command linkq watch "
		    "runs", (long long)id, what);
		return (NULL);
	}
	*reply = api_run_stored(id, code);
	return (NULL);
}

/* GET /v1/runs/ID. */
static json_t *
api_run_get(struct evhttp_request *req, char **args, int *code)
{
	struct watch	*w;
	struct run	*r;
	json_t		*reply;

	(void)req;
	if ((w = watch_find(api_run_id(args[0]))) != NULL) {
		*code = 200;
		return (watch_json(w));
	}
	if ((r = api_find_run(args[0], "shown", code, &reply)) == NULL)
		return (reply);
	*code = 200;
	return (run_json(r));
}

/*
 * What a cancel or a stop answers when there is no running run to end:
 * reply is a run object that has ended (taken), or an error as it is.
 */
static json_t *
api_not_running(json_t *reply, const char *what, int *code)
{
	json_t	*ended;

	if (*code != 200 && json_object_get(reply, "id") == NULL)
		return (reply);
	ended = api_run_ended(reply, what, code);
	json_decref(reply);
	return (ended);
}

/* POST /v1/runs/ID/cancel, DELETE /v1/runs/ID. */
static json_t *
api_run_cancel(struct evhttp_request *req, char **args, int *code)
{
	struct run	*r;
	json_t		*reply;

	(void)req;
	if ((r = api_find_run(args[0], "cancelled", code, &reply)) == NULL)
		return (api_not_running(reply, "cancelled", code));
	if (run_cancel(r) == -1)
		return (api_not_running(run_json(r), "cancelled", code));
	*code = 200;
	return (run_json(r));
}

/* POST /v1/runs/ID/stop: end a run that lasts until stopped. */
static json_t *
api_run_stop(struct evhttp_request *req, char **args, int *code)
{
	struct run	*r;
	json_t		*reply;
	const char	*why;

	(void)req;
	if ((r = api_find_run(args[0], "stopped", code, &reply)) == NULL)
		return (api_not_running(reply, "stopped", code));
	if (strcmp(run_state(r), "running") != 0)
		return (api_not_running(run_json(r), "stopped", code));
	if (run_stop(r, &why) == -1) {
		*code = api_http_code(LQ_EBUSY);
		return (api_fail(code, "run %s cannot be stopped: %s",
		    args[0], why));
	}
	*code = 200;
	return (run_json(r));
}

/* The open or recent restore-watch run of a path segment, or NULL. */
static struct watch *
api_find_watch(const char *arg, int *code, json_t **reply)
{
	struct watch	*w;
	int64_t		 id;

	*code = 404;
	if ((id = api_run_id(arg)) == 0) {
		*code = 400;
		*reply = api_fail(code, "bad run id \"%.32s\": a run id is "
		    "a positive number in decimal digits, such as 12", arg);
		return (NULL);
	}
	if ((w = watch_find(id)) == NULL)
		*reply = api_fail(code, "run %lld is not a recent "
		    "restore-watch run", (long long)id);
	return (w);
}

/* An integer field in [min, max]: 1 with *value (dflt if absent or null). */
static int
api_int_field(json_t *body, const char *key, long long min, long long max,
    long long dflt, long long *value, int *code, json_t **reply)
{
	json_t	*v = json_object_get(body, key);

	*value = dflt;
	if (v == NULL || json_is_null(v))
		return (1);
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max) {
		*code = 400;
		*reply = api_fail(code, "field \"%s\" must be an integer "
		    "from %lld to %lld, or null", key, min, max);
		return (0);
	}
	*value = json_integer_value(v);
	return (1);
}

/*
 * POST /v1/runs/ID/finish {"exit_status", "signal", "percent", "step",
 * "command"}: the client says how the watched command ended.
 */
static json_t *
api_run_finish(struct evhttp_request *req, char **args, int *code)
{
	static const char *const allowed[] = {
		"exit_status", "signal", "percent", "step", "command", NULL
	};
	struct watch_outcome	 o;
	struct watch		*w;
	json_t			*body, *reply = NULL, *pv;
	long long		 st, sig;
	double			 pct = -1;
	const char		*why;

	if ((w = api_find_watch(args[0], code, &reply)) == NULL)
		return (reply);
	if ((body = api_body(req, allowed, code, &reply)) == NULL)
		return (reply);
	memset(&o, 0, sizeof(o));
	if (!api_int_field(body, "exit_status", 0, 255, -1, &st, code,
	    &reply) ||
	    !api_int_field(body, "signal", 0, 128, 0, &sig, code, &reply) ||
	    !api_field(body, "step", 1, &o.step, code, &reply) ||
	    !api_field(body, "command", 1, &o.command, code, &reply))
		goto out;
	pv = json_object_get(body, "percent");
	if (pv != NULL && !json_is_null(pv)) {
		if (!json_is_number(pv) || (pct = json_number_value(pv)) < 0 ||
		    pct > 100) {
			*code = 400;
			reply = api_fail(code, "field \"percent\" must be a "
			    "number from 0 to 100, or null");
			goto out;
		}
	}
	if ((st == -1) == (sig == 0)) {
		*code = 400;
		reply = api_fail(code, "give either \"exit_status\" (the "
		    "command exited) or \"signal\" (a signal killed it)");
		goto out;
	}
	o.exit_status = (int)st;
	o.exit_signal = (int)sig;
	o.percent_tenths = pct < 0 ? -1 : (int)(pct * 10 + 0.5);
	if (watch_finish(w, &o, &why) == -1) {
		*code = api_http_code(LQ_EBUSY);
		reply = api_fail(code, "run %s cannot be finished: %s",
		    args[0], why);
		goto out;
	}
	*code = 200;
	reply = watch_json(w);
out:
	json_decref(body);
	return (reply);
}

/* POST /v1/runs/ID/alive: the client of a restore-watch run is there. */
static json_t *
api_run_alive(struct evhttp_request *req, char **args, int *code)
{
	struct watch	*w;
	json_t		*reply;

	(void)req;
	if ((w = api_find_watch(args[0], code, &reply)) == NULL)
		return (reply);
	if (watch_alive(w) == -1) {
		*code = api_http_code(LQ_EBUSY);
		return (api_fail(code, "run %s has already ended", args[0]));
	}
	*code = 200;
	return (watch_json(w));
}

/* GET /v1/runs/ID/progress: NDJSON, one line a second, until the end. */
static json_t *
api_run_progress(struct evhttp_request *req, char **args, int *code)
{
	struct run	*r;
	json_t		*reply;

	if ((r = api_find_run(args[0], "followed", code, &reply)) == NULL) {
		if (*code != 200)
			return (reply);
		/* Long ended: its last line, from the store, at once. */
		api_conn_stream(req);
		run_follow_ended(reply, req);
		return (NULL);
	}
	api_conn_stream(req);
	run_follow(r, req);
	return (NULL);
}

/* A query parameter as a number in [min, max]; def if absent. */
int
api_query_number(struct evkeyvalq *q, const char *key, long long min,
    long long max, long long def, long long *out)
{
	const char	*v;

	if ((v = evhttp_find_header(q, key)) == NULL) {
		*out = def;
		return (0);
	}
	return (api_number(v, min, max, out));
}

/* GET /v1/events?since=ID&limit=N&run=ID&follow=1. */
static json_t *
api_events(struct evhttp_request *req, char **args, int *code)
{
	struct evkeyvalq	 q;
	const char		*query;
	long long		 since = 0, limit = 0, follow = 0, run = 0;
	json_t			*reply = NULL;

	(void)args;
	TAILQ_INIT(&q);
	query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	*code = 400;
	if (query != NULL && evhttp_parse_query_str(query, &q) == -1)
		return (api_fail(code, "the query string is malformed"));
	if (api_query_number(&q, "since", 0, INT64_MAX, 0, &since) == -1)
		reply = api_fail(code, "since must be an event id, 0 or more");
	else if (api_query_number(&q, "limit", 1, 10000, 1000, &limit) == -1)
		reply = api_fail(code, "limit must be from 1 to 10000");
	else if (api_query_number(&q, "follow", 0, 1, 0, &follow) == -1)
		reply = api_fail(code, "follow must be 0 or 1");
	else if (api_query_number(&q, "run", 0, INT64_MAX, 0, &run) == -1)
		reply = api_fail(code, "run must be a run id");
	else if (follow && run != 0)
		reply = api_fail(code, "follow and run do not go together: "
		    "the progress stream of a run is /v1/runs/ID/progress");
	evhttp_clear_headers(&q);
	if (reply != NULL)
		return (reply);
	if (follow) {
		api_conn_stream(req);
		events_follow(req, (int64_t)since);
		return (NULL);
	}
	*code = 200;
	return (json_pack("{s:o}", "events", events_since((int64_t)since,
	    (unsigned int)limit, (int64_t)run)));
}

/*
 * The store of a recorded run, its journal committed, for the routes
 * that read what the run left (probes, timeline, device); NULL with
 * *reply set.
 */
static sqlite3 *
api_run_store(const char *arg, int64_t *id, int *code, json_t **reply)
{
	struct store_health	 health;

	/* The journal first: a run just started may be in it alone. */
	if (store != NULL && store_flush(store) == -1) {
		store_health(store, &health);
		*code = 503;
		*reply = api_fail(code, "the run's newest results are not yet "
		    "in the database: %s: %s", health.problem != NULL ?
		    health.problem : "cannot commit", health.advice);
		return (NULL);
	}
	if ((*id = api_run_id(arg)) == 0) {
		*code = 400;
		*reply = api_fail(code, "bad run id \"%.32s\": a run id is a "
		    "positive number in decimal digits, such as 12", arg);
		return (NULL);
	}
	*reply = api_run_stored(*id, code);
	if (*code != 200)
		return (NULL);
	json_decref(*reply);
	*reply = NULL;
	return (store_handle(store));
}

/*
 * The 500 of a route that read a recorded run's what from the store and
 * failed with cause, or found none (cause NULL); frees cause.
 */
static json_t *
api_run_unreadable(int *code, int64_t id, const char *what, char *cause)
{
	json_t	*reply;

	*code = 500;
	if (cause != NULL)
		reply = api_fail(code, "run %lld: %s", (long long)id, cause);
	else
		reply = api_fail(code, "run %lld: its %s is not recorded",
		    (long long)id, what);
	free(cause);
	return (reply);
}

/*
 * GET /v1/runs/ID/probes?after=PROBE_ID&limit=N: a recorded run's probe
 * results, oldest first, a page at a time (linkq bundle).
 */
static json_t *
api_run_probes(struct evhttp_request *req, char **args, int *code)
{
	struct evkeyvalq	 q;
	const char		*query;
	long long		 after = 0, limit = 0;
	int64_t			 id;
	json_t			*reply = NULL, *list;
	sqlite3			*db;
	char			*cause;

	TAILQ_INIT(&q);
	query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	*code = 400;
	if (query != NULL && evhttp_parse_query_str(query, &q) == -1)
		return (api_fail(code, "the query string is malformed"));
	if (api_query_number(&q, "after", 0, INT64_MAX, 0, &after) == -1)
		reply = api_fail(code, "after must be a probe id, 0 or more");
	else if (api_query_number(&q, "limit", 1, 10000, 1000, &limit) == -1)
		reply = api_fail(code, "limit must be from 1 to 10000");
	evhttp_clear_headers(&q);
	if (reply != NULL)
		return (reply);
	if ((db = api_run_store(args[0], &id, code, &reply)) == NULL)
		return (reply);
	list = json_array();
	if (lq_history_probes(db, id, (int64_t)after, (unsigned int)limit,
	    list, &cause) == -1) {
		json_decref(list);
		return (api_run_unreadable(code, id, "probes", cause));
	}
	*code = 200;
	return (json_pack("{s:o}", "probes", list));
}

/*
 * GET /v1/runs/ID/timeline: the run's probes and events over time, as
 * recorded so far (lq-history.h), for the HTML report.
 */
static json_t *
api_run_timeline(struct evhttp_request *req, char **args, int *code)
{
	json_t	*reply;
	sqlite3	*db;
	int64_t	 id;
	char	*cause = NULL;

	(void)req;
	if ((db = api_run_store(args[0], &id, code, &reply)) == NULL)
		return (reply);
	if (lq_history_timeline(db, id, &reply, &cause) != 1)
		return (api_run_unreadable(code, id, "timeline", cause));
	*code = 200;
	return (reply);
}

/*
 * GET /v1/runs/ID/device: the device a recorded run was on, as the
 * store knows it, serial number and name included (linkq bundle hashes
 * them).
 */
static json_t *
api_run_device(struct evhttp_request *req, char **args, int *code)
{
	int64_t		 id;
	json_t		*reply, *dev;
	sqlite3		*db;
	char		*cause = NULL;

	(void)req;
	if ((db = api_run_store(args[0], &id, code, &reply)) == NULL)
		return (reply);
	if (lq_history_device(db, id, &dev, &cause) != 1)
		return (api_run_unreadable(code, id, "device", cause));
	*code = 200;
	return (dev);
}

/*
 * GET /v1/report?by=pair|cable|port|device&since=SECONDS_AGO_OR_EPOCH:
 * the report engine on the store's own connection. The store keeps its
 * writes in a journal until the commit, so the journal is committed
 * first: else the report would miss the probes of the last quarter
 * second and differ from `linkq report --db`; while the database takes
 * no commit, there is no report (503, with why). It blocks the loop for
 * the report's time, some 100 ms on 100k runs.
 */
static json_t *
api_report(struct evhttp_request *req, char **args, int *code)
{
	struct evkeyvalq	 q;
	struct lq_report	*rep;
	struct store_health	 health;
	const char		*query, *v;
	char			*cause;
	long long		 since = 0;
	int64_t			 since_us;
	int			 by = LQ_REPORT_PAIR;
	json_t			*reply = NULL;

	(void)args;
	TAILQ_INIT(&q);
	query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	*code = 400;
	if (query != NULL && evhttp_parse_query_str(query, &q) == -1)
		return (api_fail(code, "the query string is malformed"));
	if ((v = evhttp_find_header(&q, "by")) != NULL &&
	    (by = lq_report_by_from_name(v)) == -1)
		reply = api_fail(code, "by must be pair, cable, port or "
		    "device");
	else if (api_query_number(&q, "since", 0, INT64_MAX /
	    LQ_USEC_PER_SEC, 0, &since) == -1)
		reply = api_fail(code, "since must be seconds back from now "
		    "or an epoch second");
	evhttp_clear_headers(&q);
	if (reply != NULL)
		return (reply);
	since_us = api_since_us(since);
	if (store == NULL) {
		*code = 503;
		return (api_fail(code, "no database is open"));
	}
	if (store_flush(store) == -1) {
		store_health(store, &health);
		*code = 503;
		return (api_fail(code, "the report would leave out results "
		    "not yet in the database: %s: %s", health.problem != NULL ?
		    health.problem : "cannot commit", health.advice));
	}
	if (lq_report_build(store_handle(store), (enum lq_report_by)by,
	    since_us, &rep, &cause) == -1) {
		*code = 500;
		reply = api_fail(code, "%s", cause);
		free(cause);
		return (reply);
	}
	*code = 200;
	reply = lq_report_to_json(rep);
	lq_report_free(rep);
	return (reply);
}

/*
 * GET /metrics: the Prometheus text format (metrics.h), which is what a
 * Prometheus server scrapes; HEAD gets the headers alone (evhttp sends
 * no body to a HEAD).
 */
static void
api_metrics(struct evhttp_request *req)
{
	struct evbuffer	*buf;

	if ((buf = evbuffer_new()) == NULL)
		fatalx("%s: evbuffer_new", __func__);
	metrics_write(buf);
	(void)evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, 200, "OK", buf);
	evbuffer_free(buf);
}

/* The method's name, for messages. */
static const char *
api_method_name(int method)
{
	static const struct {
		int		 method;
		const char	*name;
	} names[] = {
		{ EVHTTP_REQ_GET, "GET" }, { EVHTTP_REQ_POST, "POST" },
		{ EVHTTP_REQ_HEAD, "HEAD" }, { EVHTTP_REQ_PUT, "PUT" },
		{ EVHTTP_REQ_DELETE, "DELETE" },
		{ EVHTTP_REQ_OPTIONS, "OPTIONS" },
		{ EVHTTP_REQ_TRACE, "TRACE" },
		{ EVHTTP_REQ_CONNECT, "CONNECT" },
		{ EVHTTP_REQ_PATCH, "PATCH" }
	};
	size_t	i;

	for (i = 0; i < nitems(names); i++) {
		if (names[i].method == method)
			return (names[i].name);
	}
	return ("this method");
}

/*
 * Split path into at most API_MAX_SEGMENTS segments in buf; -1 if it
 * has more, or an empty segment.
 */
int
api_split(const char *path, char *buf, size_t size, char **seg)
{
	char	*p, *s;
	int	 n = 0;

	if (path[0] != '/' || strlcpy(buf, path + 1, size) >= size)
		return (-1);
	for (p = buf; (s = strsep(&p, "/")) != NULL; ) {
		if (*s == '\0' || n == API_MAX_SEGMENTS)
			return (-1);
		seg[n++] = s;
	}
	return (n);
}

/* Whether the pattern matches the segments; fills args. */
int
api_match(const char *pattern, char **seg, int nseg, char **args)
{
	char	 buf[128], *pseg[API_MAX_SEGMENTS];
	int	 n, i, nargs = 0;

	if ((n = api_split(pattern, buf, sizeof(buf), pseg)) != nseg)
		return (0);
	for (i = 0; i < n; i++) {
		if (strcmp(pseg[i], "*") == 0) {
			if (nargs == API_MAX_ARGS)
				return (0);
			args[nargs++] = seg[i];
		} else if (strcmp(pseg[i], seg[i]) != 0)
			return (0);
	}
	return (1);
}

/* Route a request to its handler, or answer 404 or 405. */
static void
api_request_cb(struct evhttp_request *req, void *unused)
{
	const struct evhttp_uri	*uri;
	const char		*path;
	char			 buf[512], *seg[API_MAX_SEGMENTS];
	char			*args[API_MAX_ARGS];
	json_t			*body;
	size_t			 i;
	int			 code, method, nseg, path_known = 0;

	(void)unused;
	api_conn_request(req);
	uri = evhttp_request_get_evhttp_uri(req);
	path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	method = (int)evhttp_request_get_command(req);
	if (path == NULL) {
		api_error(req, 400, "the request has no path");
		return;
	}
	if (evbuffer_get_length(evhttp_request_get_input_buffer(req)) >
	    CONTROL_MAX_BODY) {
		api_error(req, 413, "the request body is larger than %d "
		    "bytes", CONTROL_MAX_BODY);
		return;
	}
	if (api_conn_tcp(req) && method != EVHTTP_REQ_GET &&
	    method != EVHTTP_REQ_HEAD) {
		api_error(req, 403, "the TCP listener (metrics-listen) is "
		    "read-only: it answers GET alone; send %s to the control "
		    "socket %s", api_method_name(method), socket_path);
		return;
	}
	if ((nseg = api_split(path, buf, sizeof(buf), seg)) == -1) {
		api_error(req, 404, "no such path %.200s; the API is "
		    "described in linkqd(8)", path);
		return;
	}
	for (i = 0; i < nitems(routes); i++) {
		if (!api_match(routes[i].pattern, seg, nseg, args))
			continue;
		path_known = 1;
		if (routes[i].method != method &&
		    (method != EVHTTP_REQ_HEAD || routes[i].text == NULL))
			continue;
		if (routes[i].text != NULL) {
			routes[i].text(req);
			return;
		}
		code = 500;
		if ((body = routes[i].handler(req, args, &code)) != NULL)
			api_reply(req, code, body);
		return;
	}
	if (path_known)
		api_error(req, 405, "%s is not allowed on %.200s",
		    api_method_name(method), path);
	else
		api_error(req, 404, "no such path %.200s; the API is "
		    "described in linkqd(8)", path);
}


/*
 * Say why the socket could not be made at path, and what to do: the
 * directory, not the socket, is what is missing or closed to us.
 */
static void
api_bind_failed(const char *path, int errnum, char **cause)
{
	char	dir[PATH_MAX], why[PATH_MAX + 160];

	switch (dircheck(path, dir, sizeof(dir), why, sizeof(why))) {
	case DIRCHECK_MISSING:
		xasprintf(cause, "cannot listen on %s: %s: create it "
		    "(install -d -o linkq -g linkq -m 0750 %s), or run linkqd "
		    "from its systemd unit, which makes it, or pass -s PATH",
		    path, why, dir);
		break;
	case DIRCHECK_DENIED:
		xasprintf(cause, "cannot listen on %s: %s: run linkqd as "
		    "the user that owns it (the systemd unit does), or pass "
		    "-s PATH", path, why);
		break;
	default:
		xasprintf(cause, "cannot listen on %s: %s", path,
		    strerror(errnum));
		break;
	}
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
		api_bind_failed(path, errno, cause);
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
	struct evhttp_bound_socket	*bound;
	struct api_conn_limits		 limits;
	int				 fd;

	*cause = NULL;
	if ((fd = api_bind(path, cause)) == -1)
		return (-1);
	if ((http = evhttp_new(base)) == NULL)
		fatalx("%s: evhttp_new", __func__);
	/*
	 * api-conn.c refuses a head above CONTROL_MAX_HEADERS, in JSON,
	 * before evhttp's cap (HTML) is reached; and every method, so
	 * that the routing answers 405 in JSON rather than evhttp 501.
	 */
	evhttp_set_max_headers_size(http, 2 * CONTROL_MAX_HEADERS);
	evhttp_set_max_body_size(http, CONTROL_MAX_READ);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |
	    EVHTTP_REQ_PATCH);
	evhttp_set_gencb(http, api_request_cb, NULL);
	if ((bound = evhttp_accept_socket_with_handle(http, fd)) == NULL) {
		xasprintf(cause, "%s: cannot serve HTTP on it", path);
		(void)close(fd);
		return (-1);
	}
	limits.max_head = CONTROL_MAX_HEADERS;
	limits.max_body = CONTROL_MAX_BODY;
	limits.timeout_us = config->client_timeout_us;
	api_conn_start(base, http, bound, &limits);
	socket_path = xstrdup(path);
	db_path = xstrdup(db);
	started = lq_mono_now();
	return (0);
}

/*
 * Listen on the loopback address of metrics-listen too, on the same
 * evhttp: the same routes, guards and limits, with only GET and HEAD
 * answered (api_request_cb). Port 0 takes the port the kernel gives,
 * which the log says.
 */
int
api_listen_tcp(const char *spec, char **cause)
{
	struct evhttp_bound_socket	*bound;
	struct sockaddr_storage		 ss;
	socklen_t			 len;
	char				 host[INET6_ADDRSTRLEN];
	const char			*why;
	int				 fd, on = 1;

	*cause = NULL;
	if (config_listen_addr(spec, &ss, &len, &why) == -1) {
		xasprintf(cause, "metrics-listen %s: %s", spec, why);
		return (-1);
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1 || setsockopt(fd, SOL_SOCKET,
	    SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    listen(fd, 128) == -1 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) == -1) {
		xasprintf(cause, "metrics-listen %s: %s", spec,
		    strerror(errno));
		if (fd != -1)
			(void)close(fd);
		return (-1);
	}
	if ((bound = evhttp_accept_socket_with_handle(http, fd)) == NULL) {
		xasprintf(cause, "metrics-listen %s: cannot serve HTTP on it",
		    spec);
		(void)close(fd);
		return (-1);
	}
	api_conn_listen(bound);
	if (ss.ss_family == AF_INET6)
		(void)inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->
		    sin6_addr, host, sizeof(host));
	else
		(void)inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->
		    sin_addr, host, sizeof(host));
	log_info("metrics: read-only HTTP on %s%s%s:%u (GET /metrics)",
	    ss.ss_family == AF_INET6 ? "[" : "", host,
	    ss.ss_family == AF_INET6 ? "]" : "", ntohs(ss.ss_family ==
	    AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port));
	return (0);
}

/* The store /v1/report reads. */
void
api_set_store(struct store *s)
{
	store = s;
}

/* Serve the profiles and client timeout of cfg from now on. */
void
api_set_config(const struct config *cfg)
{
	config = cfg;
	if (http != NULL)
		api_conn_set_timeout(cfg->client_timeout_us);
}

/* Stop serving and remove the socket. */
void
api_stop(void)
{
	if (http != NULL)
		evhttp_free(http);
	http = NULL;
	api_conn_stop();
	if (socket_path != NULL)
		(void)unlink(socket_path);
	free(socket_path);
	socket_path = NULL;
	free(db_path);
	db_path = NULL;
}
