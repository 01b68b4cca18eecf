/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * libFuzzer harness: the control API's parsing of a request (daemon/api.c
 * through api-parse.h): the path and its ids, the query string and the
 * JSON body. The input is "PATH[?QUERY]\nBODY": the path is split and
 * matched against the routes that take an argument or a body, the body
 * parsed with each route's fields and their types checked as the
 * handlers check them, the query's numbers read as /v1/events and
 * /v1/report read them. A refusal must be the one error shape with its
 * status; nothing may crash or leak.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <jansson.h>

#include "compat/queue.h"
#include "api-parse.h"
#include "linkq.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * The routes with an argument or a body, from api.c's table and
 * handlers: the pattern, the body's fields, each 's' (string or null)
 * or 'b' (boolean). A route added to api.c need not be added here:
 * what is fuzzed is the parsing, not the table.
 */
static const struct {
	const char	*pattern;
	const char	*fields[5];
	const char	*types;
} routes[] = {
	{ "/v1/devices/*/pair", { NULL }, "" },
	{ "/v1/ports/*", { "label", NULL }, "s" },
	{ "/v1/ports/*/cable", { "cable", "fixed", NULL }, "sb" },
	{ "/v1/runs", { "profile", "udid", "port", "cable", NULL }, "ssss" },
	{ "/v1/runs/*", { NULL }, "" },
	{ "/v1/runs/*/cancel", { NULL }, "" },
	{ "/v1/runs/*/progress", { NULL }, "" },
};

/* The numbers of the queries, with api.c's ranges. */
static const struct {
	const char	*key;
	long long	 min;
	long long	 max;
} numbers[] = {
	{ "since", 0, INT64_MAX },
	{ "limit", 1, 10000 },
	{ "follow", 0, 1 },
	{ "run", 0, INT64_MAX },
};

/* A refusal: the one error shape, its status the code. */
static void
refused(int code, json_t *reply)
{
	json_t	*status, *message;

	if (reply == NULL || code != 400)
		abort();
	status = json_object_get(json_object_get(reply, "error"), "status");
	message = json_object_get(json_object_get(reply, "error"),
	    "message");
	if (json_integer_value(status) != code || !json_is_string(message))
		abort();
	json_decref(reply);
}

/* The body as route i takes it. */
static void
body(size_t i, const char *data, size_t len)
{
	json_t		*o, *reply = NULL;
	const char	*value;
	size_t		 f;
	int		 code = 0, flag, ok;

	if ((o = api_parse_body(data, len, routes[i].fields, &code,
	    &reply)) == NULL) {
		refused(code, reply);
		return;
	}
	if (!json_is_object(o) || reply != NULL)
		abort();
	for (f = 0; routes[i].fields[f] != NULL; f++) {
		reply = NULL;
		if (routes[i].types[f] == 'b')
			ok = api_flag(o, routes[i].fields[f], &flag, &code,
			    &reply);
		else {
			ok = api_field(o, routes[i].fields[f], 1, &value,
			    &code, &reply);
			if (ok && value != NULL)
				(void)lq_label_invalid(value);
		}
		if (!ok)
			refused(code, reply);
		else if (reply != NULL)
			abort();
	}
	json_decref(o);
}

/* The path's segments against each route; ids as run ids. */
static void
path(const char *p, const char *data, size_t len)
{
	char		 buf[512], *seg[API_MAX_SEGMENTS];
	char		*args[API_MAX_ARGS];
	size_t		 i;
	int		 nseg, a;

	if ((nseg = api_split(p, buf, sizeof(buf), seg)) == -1)
		return;
	if (nseg < 0 || nseg > API_MAX_SEGMENTS)
		abort();
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		memset(args, 0, sizeof(args));
		if (!api_match(routes[i].pattern, seg, nseg, args))
			continue;
		for (a = 0; a < API_MAX_ARGS && args[a] != NULL; a++) {
			if (args[a][0] == '\0' || api_run_id(args[a]) < 0)
				abort();
		}
		body(i, data, len);
	}
}

/* The query's numbers; a number read is within its range. */
static void
query(const char *q)
{
	struct evkeyvalq	 kv;
	long long		 v;
	size_t			 i;

	TAILQ_INIT(&kv);
	if (evhttp_parse_query_str(q, &kv) == 0) {
		for (i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
			if (api_query_number(&kv, numbers[i].key,
			    numbers[i].min, numbers[i].max, 0, &v) == 0 &&
			    v != 0 && (v < numbers[i].min ||
			    v > numbers[i].max))
				abort();
		}
	}
	evhttp_clear_headers(&kv);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*nl;
	char		*head, *q;
	size_t		 n;

	nl = memchr(data, '\n', size);
	n = nl != NULL ? (size_t)(nl - (const char *)data) : size;
	if ((head = strndup((const char *)data, n)) == NULL)
		return (0);
	if ((q = strchr(head, '?')) != NULL) {
		*q++ = '\0';
		query(q);
	}
	/* The body as evhttp hands it: exactly its bytes. */
	if (nl != NULL)
		path(head, nl + 1, size - n - 1);
	else
		path(head, "", 0);
	free(head);
	return (0);
}
