/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Newline-delimited JSON over chunked HTTP replies (contract in feed.h).
 *
 * When a client goes away in the middle of a chunked reply, libevent
 * 2.1 detaches the request from its dying connection and leaves it to
 * us (evhttp_connection_incoming_fail), then calls the connection's
 * close callback. That callback takes the follower out of the feed and
 * ends the reply, which frees the detached request. When the feed ends
 * first, the callback is removed before the reply is ended.
 */

#include <stdlib.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <jansson.h>

#include "compat/queue.h"
#include "api.h"
#include "feed.h"
#include "log.h"
#include "xmalloc.h"

struct follower {
	struct evhttp_request		*req;
	struct evhttp_connection	*conn;
	struct feed			*feed;
	TAILQ_ENTRY(follower)		 entry;
};

struct feed {
	TAILQ_HEAD(, follower)	 followers;
	unsigned int		 n;
};

/* Create an empty feed. */
struct feed *
feed_new(void)
{
	struct feed	*f;

	f = xcalloc(1, sizeof(*f));
	TAILQ_INIT(&f->followers);
	return (f);
}

/* Forget a follower; its request is ended or gone. */
static void
feed_drop(struct follower *fl)
{
	evhttp_connection_set_closecb(fl->conn, NULL, NULL);
	TAILQ_REMOVE(&fl->feed->followers, fl, entry);
	fl->feed->n--;
	free(fl);
}

/* The client closed its connection: evhttp frees the request next. */
static void
feed_closed_cb(struct evhttp_connection *conn, void *arg)
{
	struct follower		*fl = arg;
	struct evhttp_request	*req = fl->req;

	(void)conn;
	log_debug("feed: a follower went away");
	feed_drop(fl);
	/* Detached: ours to end and free. Still attached: evhttp's. */
	if (evhttp_request_get_connection(req) == NULL)
		evhttp_send_reply_end(req);
}

/* End every reply and free f. */
void
feed_free(struct feed *f)
{
	struct follower	*fl;

	if (f == NULL)
		return;
	while ((fl = TAILQ_FIRST(&f->followers)) != NULL) {
		struct evhttp_request	*req = fl->req;

		feed_drop(fl);
		evhttp_send_reply_end(req);
	}
	free(f);
}

/* Start a chunked reply on req and follow f with it. */
void
feed_add(struct feed *f, struct evhttp_request *req)
{
	struct follower	*fl;

	fl = xcalloc(1, sizeof(*fl));
	fl->req = req;
	fl->conn = evhttp_request_get_connection(req);
	fl->feed = f;
	TAILQ_INSERT_TAIL(&f->followers, fl, entry);
	f->n++;
	(void)evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/x-ndjson");
	evhttp_send_reply_start(req, 200, "OK");
	evhttp_connection_set_closecb(fl->conn, feed_closed_cb, fl);
}

/* One chunk: obj's compact text and a newline. */
static void
feed_write(struct evhttp_request *req, const char *text)
{
	struct evbuffer	*buf;

	if ((buf = evbuffer_new()) == NULL)
		fatalx("%s: evbuffer_new", __func__);
	if (evbuffer_add_printf(buf, "%s\n", text) == -1)
		fatalx("%s: evbuffer_add_printf", __func__);
	evhttp_send_reply_chunk(req, buf);
	evbuffer_free(buf);
}

/* The text of obj, whose reference is taken. */
static char *
feed_text(json_t *obj)
{
	char	*text;

	text = json_dumps(obj, API_JSON_FLAGS);
	json_decref(obj);
	if (text == NULL)
		fatalx("%s: json_dumps", __func__);
	return (text);
}

/* Send obj to every follower of f. */
void
feed_send(struct feed *f, json_t *obj)
{
	struct follower	*fl;
	char		*text;

	text = feed_text(obj);
	TAILQ_FOREACH(fl, &f->followers, entry)
		feed_write(fl->req, text);
	free(text);
}

/* Send obj to req, one of f's followers. */
void
feed_send_one(struct feed *f, struct evhttp_request *req, json_t *obj)
{
	char	*text;

	(void)f;
	text = feed_text(obj);
	feed_write(req, text);
	free(text);
}

/* How many follow f. */
unsigned int
feed_followers(const struct feed *f)
{
	return (f->n);
}
