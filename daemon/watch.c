/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Restore-watch runs: see watch.h. The run's row is written at the
 * start (kind 'restore-watch', no verdict ever) and at the end with
 * the outcome the client reports and the link events counted here.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "compat/compat.h"
#include "compat/queue.h"
#include "devices.h"
#include "linkq.h"
#include "log.h"
#include "lq-time.h"
#include "store.h"
#include "watch.h"
#include "xmalloc.h"

/* A client that says nothing for this long has gone: interrupted. */
#define WATCH_LEASE_US		(90 * LQ_USEC_PER_SEC)
/*
 * After the command ended, events still come for this long: the
 * kernel's messages of the fault that ended it are read a moment later.
 */
#define WATCH_TAIL_US		(2 * LQ_USEC_PER_SEC)
/* A reset or drop-out this close to a mode change is part of it. */
#define WATCH_MODE_GRACE_US	(15 * LQ_USEC_PER_SEC)
/* Events kept per watch for its JSON and the grace rule. */
#define WATCH_EVENTS_MAX	64
#define WATCH_MODES_MAX		16
/* Ended watches kept in memory for GET /v1/runs/ID. */
#define WATCH_KEEP		16

struct watch_ev {
	int64_t		 ts_us;
	char		 kind[24];
	char		 detail[128];
};

struct watch {
	int64_t		 id;		/* the run's id */
	char		 udid[44];
	char		 port[64];
	int64_t		 port_id;
	int64_t		 attachment_id;
	int64_t		 started_us;
	int64_t		 ended_us;
	char		*command;
	const char	*state;		/* "running", "finishing" (the tail),
					 * "done", "interrupted" */
	const char	*outcome;	/* "ok", "failed", NULL */
	struct watch_outcome out;	/* out.step, out.command: unused */
	char		*step;
	struct watch_ev	 evs[WATCH_EVENTS_MAX];
	unsigned int	 nevs;
	unsigned int	 lost;		/* link events past evs */
	int64_t		 modes[WATCH_MODES_MAX];
	unsigned int	 nmodes;
	struct event	*lease;
	struct event	*tail;
	TAILQ_ENTRY(watch) entry;
};
TAILQ_HEAD(watches, watch);

static struct watches	 watches = TAILQ_HEAD_INITIALIZER(watches);
static struct event_base *base;
static struct store	*store;
static int		 shutting_down;	/* devices are going: leave them */

/* Whether w still takes events: running, or in its tail. */
static int
watch_open(const struct watch *w)
{
	return (strcmp(w->state, "running") == 0 ||
	    strcmp(w->state, "finishing") == 0);
}

void
watch_init(struct event_base *b, struct store *s)
{
	base = b;
	store = s;
}

/* Whether ts is within the grace of one of w's mode changes. */
static int
watch_near_mode(const struct watch *w, int64_t ts)
{
	unsigned int	i;
	int64_t		d;

	for (i = 0; i < w->nmodes; i++) {
		d = ts - w->modes[i];
		if (d < 0)
			d = -d;
		if (d <= WATCH_MODE_GRACE_US)
			return (1);
	}
	return (0);
}

/* Whether a mode change explains an event of this kind. */
static int
watch_kind_forgiven(const char *kind)
{
	return (strcmp(kind, "reset") == 0 ||
	    strcmp(kind, "reenumeration") == 0 ||
	    strcmp(kind, "dropout") == 0);
}

/* The link events of w: those no mode change explains. */
static int64_t
watch_link_events(const struct watch *w)
{
	unsigned int	i;
	int64_t		n = w->lost;

	for (i = 0; i < w->nevs; i++) {
		if (watch_kind_forgiven(w->evs[i].kind) &&
		    watch_near_mode(w, w->evs[i].ts_us))
			continue;
		n++;
	}
	return (n);
}

/* End w as state, write it down and stop its lease. */
static void
watch_end(struct watch *w, const char *state)
{
	struct store_watch_end	e;

	w->state = state;
	w->ended_us = lq_wall_now_us();
	if (w->lease != NULL)
		(void)evtimer_del(w->lease);
	if (w->tail != NULL)
		(void)evtimer_del(w->tail);
	memset(&e, 0, sizeof(e));
	e.state = state;
	e.outcome = w->outcome;
	e.exit_status = w->outcome != NULL ? w->out.exit_status : -1;
	e.exit_signal = w->outcome != NULL ? w->out.exit_signal : 0;
	e.percent_tenths = w->outcome != NULL ? w->out.percent_tenths : -1;
	e.step = w->outcome != NULL ? w->step : NULL;
	e.command = w->command;
	e.link_events = watch_link_events(w);
	e.ended_us = w->ended_us;
	if (store != NULL)
		(void)store_watch_end(store, w->id, &e);
	log_info("run %lld (restore-watch): %s, %s, %lld link events",
	    (long long)w->id, state, w->outcome != NULL ? w->outcome :
	    "no outcome", (long long)e.link_events);
	if (!shutting_down)
		devices_watch_ended(w->port_id);
}

/* Free w, out of the list. */
static void
watch_release(struct watch *w)
{
	if (w->lease != NULL)
		event_free(w->lease);
	if (w->tail != NULL)
		event_free(w->tail);
	free(w->command);
	free(w->step);
	free(w);
}

/* Drop ended watches past the newest WATCH_KEEP. */
static void
watch_trim(void)
{
	struct watch	*w, *tmp;
	unsigned int	 n = 0;

	TAILQ_FOREACH_SAFE(w, &watches, entry, tmp) {
		if (++n <= WATCH_KEEP || watch_open(w))
			continue;
		TAILQ_REMOVE(&watches, w, entry);
		watch_release(w);
	}
}

static void
watch_tail_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	watch_end(arg, "done");
}

static void
watch_lease_cb(evutil_socket_t fd, short what, void *arg)
{
	struct watch	*w = arg;

	(void)fd;
	(void)what;
	if (strcmp(w->state, "finishing") == 0)
		return;
	log_warnx("run %lld (restore-watch): the client went away without "
	    "finishing it: interrupted", (long long)w->id);
	watch_end(w, "interrupted");
}

/* (Re)arm the lease of w. */
static void
watch_lease_arm(struct watch *w)
{
	struct timeval	tv;

	if (w->lease == NULL)
		return;
	tv.tv_sec = WATCH_LEASE_US / LQ_USEC_PER_SEC;
	tv.tv_usec = 0;
	(void)evtimer_add(w->lease, &tv);
}

struct watch *
watch_start(const char *udid, const char *port, int64_t port_id,
    int64_t attachment_id, const char *command, char **cause)
{
	struct watch	*w;
	int64_t		 id;

	if (store == NULL || attachment_id == 0 || port_id == 0) {
		xasprintf(cause, "the device has no recorded attachment yet "
		    "(or the database is not open); try again in a moment");
		return (NULL);
	}
	if (watch_on_port(port_id) != NULL) {
		xasprintf(cause, "port %s is already being watched (run "
		    "%lld)", port, (long long)watch_on_port(port_id)->id);
		return (NULL);
	}
	if ((id = store_watch_begin(store, attachment_id, lq_wall_now_us(),
	    command)) < 0) {
		xasprintf(cause, "the database did not take the run");
		return (NULL);
	}
	w = xcalloc(1, sizeof(*w));
	w->id = id;
	(void)strlcpy(w->udid, udid, sizeof(w->udid));
	(void)strlcpy(w->port, port, sizeof(w->port));
	w->port_id = port_id;
	w->attachment_id = attachment_id;
	w->started_us = lq_wall_now_us();
	w->command = command != NULL ? xstrdup(command) : NULL;
	w->state = "running";
	if (base != NULL) {
		w->lease = evtimer_new(base, watch_lease_cb, w);
		w->tail = evtimer_new(base, watch_tail_cb, w);
	}
	watch_lease_arm(w);
	TAILQ_INSERT_HEAD(&watches, w, entry);
	watch_trim();
	log_info("run %lld (restore-watch): watching %s on %s",
	    (long long)id, udid, port);
	return (w);
}

struct watch *
watch_find(int64_t id)
{
	struct watch	*w;

	TAILQ_FOREACH(w, &watches, entry) {
		if (w->id == id)
			return (w);
	}
	return (NULL);
}

struct watch *
watch_on_port(int64_t port_id)
{
	struct watch	*w;

	TAILQ_FOREACH(w, &watches, entry) {
		if (w->port_id == port_id && watch_open(w))
			return (w);
	}
	return (NULL);
}

int
watch_finish(struct watch *w, const struct watch_outcome *o,
    const char **cause)
{
	struct timeval	tv;

	if (strcmp(w->state, "running") != 0) {
		*cause = "it has already ended";
		return (-1);
	}
	w->out = *o;
	if (w->out.percent_tenths > 1000)
		w->out.percent_tenths = 1000;
	w->out.step = w->out.command = NULL;
	free(w->step);
	w->step = o->step != NULL ? xstrdup(o->step) : NULL;
	if (o->command != NULL) {
		free(w->command);
		w->command = xstrdup(o->command);
	}
	w->outcome = o->exit_status == 0 && o->exit_signal == 0 ? "ok" :
	    "failed";
	if (w->tail == NULL) {
		watch_end(w, "done");
		return (0);
	}
	w->state = "finishing";
	if (w->lease != NULL)
		(void)evtimer_del(w->lease);
	tv.tv_sec = WATCH_TAIL_US / LQ_USEC_PER_SEC;
	tv.tv_usec = WATCH_TAIL_US % LQ_USEC_PER_SEC;
	(void)evtimer_add(w->tail, &tv);
	return (0);
}

int
watch_alive(struct watch *w)
{
	if (!watch_open(w))
		return (-1);
	if (strcmp(w->state, "running") == 0)
		watch_lease_arm(w);
	return (0);
}

/* Keep ev in w: a mode change's time, or a hard event. */
static void
watch_take(struct watch *w, const struct store_event *ev)
{
	const struct lq_event_kind	*k;
	struct watch_ev			*we;

	if (strcmp(ev->kind, "mode-change") == 0) {
		if (w->nmodes < WATCH_MODES_MAX)
			w->modes[w->nmodes++] = ev->ts_us;
		return;
	}
	if ((k = lq_event_kind_find(ev->kind)) == NULL ||
	    k->class != LQ_EVENT_HARD)
		return;
	if (w->nevs == WATCH_EVENTS_MAX) {
		w->lost++;
		return;
	}
	we = &w->evs[w->nevs++];
	we->ts_us = ev->ts_us;
	(void)strlcpy(we->kind, ev->kind, sizeof(we->kind));
	(void)strlcpy(we->detail, ev->detail != NULL ? ev->detail : "",
	    sizeof(we->detail));
}

void
watch_event(struct store_event *ev)
{
	struct watch	*w;

	if (ev->port_id == 0 || (w = watch_on_port(ev->port_id)) == NULL)
		return;
	if (ev->run_id == 0)
		ev->run_id = w->id;
	if (ev->run_id == w->id)
		watch_take(w, ev);
}

/*
 * The port's label and the attachment's cable, as the store has them
 * (null where it has none, or not yet), as run_json gives them.
 */
static void
watch_json_where(const struct watch *w, json_t *o)
{
	char	label[LQ_LABEL_MAX + 1], port[64];

	if (store != NULL && w->port_id != 0 &&
	    store_port_label_get(store, w->port_id, label,
	    sizeof(label)) == 1)
		(void)json_object_set_new(o, "port_label", json_string(label));
	else
		(void)json_object_set_new(o, "port_label", json_null());
	if (store != NULL && store_attachment_where(store, w->attachment_id,
	    port, sizeof(port), label, sizeof(label)) == 1 &&
	    label[0] != '\0')
		(void)json_object_set_new(o, "cable", json_string(label));
	else
		(void)json_object_set_new(o, "cable", json_null());
}

json_t *
watch_json(const struct watch *w)
{
	json_t		*o, *evs, *e;
	unsigned int	 i;

	o = json_object();
	(void)json_object_set_new(o, "id", json_integer(w->id));
	(void)json_object_set_new(o, "kind", json_string("restore-watch"));
	(void)json_object_set_new(o, "profile",
	    json_string("restore-watch"));
	(void)json_object_set_new(o, "state", json_string(w->state));
	(void)json_object_set_new(o, "udid", json_string(w->udid));
	(void)json_object_set_new(o, "port", json_string(w->port));
	watch_json_where(w, o);
	(void)json_object_set_new(o, "attachment_id",
	    json_integer(w->attachment_id));
	(void)json_object_set_new(o, "started_us",
	    json_integer(w->started_us));
	if (w->ended_us != 0)
		(void)json_object_set_new(o, "ended_us",
		    json_integer(w->ended_us));
	(void)json_object_set_new(o, "verdict", json_null());
	(void)json_object_set_new(o, "outcome", w->outcome != NULL ?
	    json_string(w->outcome) : json_null());
	if (w->outcome != NULL) {
		(void)json_object_set_new(o, "exit_status",
		    w->out.exit_status >= 0 ?
		    json_integer(w->out.exit_status) : json_null());
		(void)json_object_set_new(o, "exit_signal",
		    json_integer(w->out.exit_signal));
		(void)json_object_set_new(o, "percent",
		    w->out.percent_tenths >= 0 ?
		    json_real(w->out.percent_tenths / 10.0) : json_null());
		(void)json_object_set_new(o, "step", w->step != NULL ?
		    json_string(w->step) : json_null());
	}
	if (w->command != NULL)
		(void)json_object_set_new(o, "command",
		    json_string(w->command));
	(void)json_object_set_new(o, "link_events",
	    json_integer(watch_link_events(w)));
	(void)json_object_set_new(o, "mode_changes",
	    json_integer(w->nmodes));
	evs = json_array();
	for (i = 0; i < w->nevs; i++) {
		e = json_object();
		(void)json_object_set_new(e, "ts_us",
		    json_integer(w->evs[i].ts_us));
		(void)json_object_set_new(e, "kind",
		    json_string(w->evs[i].kind));
		(void)json_object_set_new(e, "detail",
		    json_string(w->evs[i].detail));
		(void)json_object_set_new(e, "expected", json_boolean(
		    watch_kind_forgiven(w->evs[i].kind) &&
		    watch_near_mode(w, w->evs[i].ts_us)));
		(void)json_array_append_new(evs, e);
	}
	(void)json_object_set_new(o, "events", evs);
	return (o);
}

void
watch_list_json(json_t *list)
{
	struct watch	*w;

	TAILQ_FOREACH(w, &watches, entry)
		(void)json_array_append_new(list, watch_json(w));
}

void
watch_shutdown(void)
{
	struct watch	*w;

	shutting_down = 1;
	TAILQ_FOREACH(w, &watches, entry) {
		if (strcmp(w->state, "running") == 0)
			watch_end(w, "interrupted");
		else if (strcmp(w->state, "finishing") == 0)
			watch_end(w, "done");
	}
}

void
watch_free(void)
{
	struct watch	*w;

	while ((w = TAILQ_FIRST(&watches)) != NULL) {
		TAILQ_REMOVE(&watches, w, entry);
		watch_release(w);
	}
}
