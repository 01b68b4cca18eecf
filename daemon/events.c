/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The event log (contract in events.h).
 */

#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "events.h"
#include "feed.h"
#include "linkq.h"
#include "log.h"
#include "lq-history.h"
#include "lq-time.h"
#include "metrics.h"
#include "store.h"
#include "watch.h"

/* How many old events a new follower is sent before the live ones. */
#define EVENTS_BACKLOG_MAX	1000

static struct store	*store;
static struct feed	*followers;

/* Use store s. */
void
events_init(struct store *s)
{
	store = s;
	followers = feed_new();
}

/* End every follow stream. */
void
events_done(void)
{
	feed_free(followers);
	followers = NULL;
}

/*
 * The port of a live event by path and label, and its attachment's
 * cable, as lq_history_events gives them for the events read back.
 */
static void
events_json_where(const struct store_event *ev, json_t *o)
{
	char	port[64], label[LQ_LABEL_MAX + 1];
	int	found = 0;

	if (store == NULL)
		return;
	if (ev->attachment_id != 0 && store_attachment_where(store,
	    ev->attachment_id, port, sizeof(port), label,
	    sizeof(label)) == 1) {
		found = 1;
		if (label[0] != '\0')
			(void)json_object_set_new(o, "cable",
			    json_string(label));
	}
	if (ev->port_id != 0)
		found = store_port_path(store, ev->port_id, port,
		    sizeof(port)) == 1;
	if (found)
		(void)json_object_set_new(o, "port", json_string(port));
	if (found && ev->port_id != 0 && store_port_label_get(store,
	    ev->port_id, label, sizeof(label)) == 1)
		(void)json_object_set_new(o, "port_label", json_string(label));
}

/* One event as the API shows it; ids 0 are left out. */
static json_t *
events_json(int64_t id, const struct store_event *ev)
{
	json_t	*o;

	o = json_pack("{s:I, s:I, s:s, s:s}", "id", (json_int_t)id,
	    "ts_us", (json_int_t)ev->ts_us, "source", ev->source,
	    "kind", ev->kind);
	if (ev->port_id != 0)
		(void)json_object_set_new(o, "port_id",
		    json_integer(ev->port_id));
	if (ev->attachment_id != 0)
		(void)json_object_set_new(o, "attachment_id",
		    json_integer(ev->attachment_id));
	if (ev->run_id != 0)
		(void)json_object_set_new(o, "run_id",
		    json_integer(ev->run_id));
	if (ev->errnum != 0)
		(void)json_object_set_new(o, "errno",
		    json_integer(ev->errnum));
	if (ev->detail != NULL)
		(void)json_object_set_new(o, "detail",
		    json_string(ev->detail));
	events_json_where(ev, o);
	return (o);
}

/* Record ev and tell the followers. */
int64_t
events_record(struct store_event *ev)
{
	int64_t	id;

	if (ev->ts_us == 0)
		ev->ts_us = lq_wall_now_us();
	watch_event(ev);
	metrics_event(ev);
	log_info("event %s (%s)%s%s", ev->kind, ev->source,
	    ev->detail != NULL ? ": " : "",
	    ev->detail != NULL ? ev->detail : "");
	if (store == NULL || (id = store_event(store, ev)) < 0)
		return (-1);
	if (followers != NULL && feed_followers(followers) > 0)
		feed_send(followers, events_json(id, ev));
	return (id);
}

/*
 * The events after since, oldest first, with their ports and cables
 * (lq-history.h), as `linkq events --db` reads them.
 */
json_t *
events_since(int64_t since, unsigned int limit, int64_t run_id)
{
	json_t	*list;
	char	*cause;

	list = json_array();
	if (store != NULL && lq_history_events(store_handle(store), since,
	    limit, run_id, list, &cause) == -1) {
		log_warnx("events: %s", cause);
		free(cause);
	}
	return (list);
}

/* Follow the log from since on. */
void
events_follow(struct evhttp_request *req, int64_t since)
{
	json_t	*old, *ev;
	size_t	 i;

	feed_add(followers, req);
	old = events_since(since, EVENTS_BACKLOG_MAX, 0);
	json_array_foreach(old, i, ev)
		feed_send_one(followers, req, json_incref(ev));
	json_decref(old);
}
