/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Waiting for a phone. Right after a plug, usbmuxd takes a moment to
 * list the phone (Debian's 1.1.1 first pairs and validates it:
 * research/real-usbmuxd.md) and linkqd another to identify it over
 * lockdown; a phone that does not trust this host yet waits for a tap
 * on the phone. A technician who types `linkq test` at that moment
 * means "test it once it is ready", so the commands wait, saying for
 * what, and give up only after their --wait.
 *
 * The wait polls GET /v1/devices five times a second: the list is small
 * and linkqd answers it from memory.
 */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "compat/compat.h"
#include "client.h"
#include "http.h"
#include "lq-time.h"
#include "wait.h"

#define WAIT_POLL_MS		200

static volatile sig_atomic_t	 wait_stop;

static void
wait_sigint(int sig)
{
	(void)sig;
	wait_stop = 1;
}

/* Sleep ms unless Ctrl-C comes first. */
static void
wait_nap(int ms)
{
	struct timespec	ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR && !wait_stop)
		continue;
}

/* One look at the list: the callback's answer, or -1 after an error. */
static int
wait_look(wait_check_cb cb, void *arg, char *why, size_t size)
{
	json_t	*reply;
	int	 state;

	if (client_call("GET", "/v1/devices", NULL, &reply) == -1)
		return (-1);
	state = cb(json_object_get(reply, "devices"), arg, why, size);
	json_decref(reply);
	return (state);
}

int
wait_devices(wait_check_cb cb, void *arg, int64_t timeout)
{
	struct sigaction	 sa, old;
	char			 why[256], said[256] = "";
	lq_mono_t		 deadline;
	int			 state, ret;

	deadline = lq_mono_add(lq_mono_now(), timeout == WAIT_FOREVER ? 0 :
	    timeout * LQ_USEC_PER_SEC);
	/* No SA_RESTART: the nap ends at once. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = wait_sigint;
	(void)sigemptyset(&sa.sa_mask);
	wait_stop = 0;
	(void)sigaction(SIGINT, &sa, &old);
	for (;;) {
		why[0] = '\0';
		if ((state = wait_look(cb, arg, why, sizeof(why))) == -1) {
			ret = LQ_EXIT_USAGE;
			break;
		}
		if (state == WAIT_READY) {
			ret = 0;
			break;
		}
		if (state == WAIT_GIVE_UP) {
			fprintf(stderr, "linkq: %s\n", why);
			ret = LQ_EXIT_USAGE;
			break;
		}
		if (timeout != WAIT_FOREVER &&
		    lq_mono_passed(deadline, lq_mono_now())) {
			if (timeout == 0)
				fprintf(stderr, "linkq: not ready: it needs "
				    "%s (--wait SPAN waits for it)\n", why);
			else
				fprintf(stderr, "linkq: gave up waiting for "
				    "%s (--wait SPAN waits longer)\n", why);
			ret = LQ_EXIT_NO_DEVICE;
			break;
		}
		/* Say what it waits for once, and again when it changes. */
		if (strcmp(why, said) != 0) {
			fprintf(stderr, "linkq: waiting for %s\n", why);
			(void)strlcpy(said, why, sizeof(said));
		}
		wait_nap(WAIT_POLL_MS);
		if (wait_stop) {
			fprintf(stderr, "linkq: stopped waiting\n");
			ret = LQ_EXIT_USAGE;
			break;
		}
	}
	(void)sigaction(SIGINT, &old, NULL);
	return (ret);
}

int
wait_interrupted(void)
{
	return (wait_stop);
}

struct testable {
	const char		*udid;
	const char		*port;
	struct wait_target	*t;
};

/* Whether d is the device asked for (any one if neither is given). */
static int
testable_match(struct testable *w, json_t *d)
{
	if (w->udid != NULL)
		return (strcmp(client_str(d, "udid", ""), w->udid) == 0);
	if (w->port != NULL)
		return (strcmp(client_str(d, "port", ""), w->port) == 0);
	return (1);
}

/* Where a device is, for the reasons: "the phone on 1-2". */
static void
testable_where(json_t *d, char *buf, size_t size)
{
	const char	*port = client_str(d, "port", NULL);

	if (port != NULL)
		(void)snprintf(buf, size, "the phone on %s", port);
	else
		(void)snprintf(buf, size, "phone %s",
		    client_udid_short(client_str(d, "udid", "?")));
}

/* Whether a run can go to d now; why not if it cannot. */
static enum wait_state
testable_device(json_t *d, char *why, size_t size)
{
	const char	*trust;
	char		 where[96];

	testable_where(d, where, sizeof(where));
	if (json_is_true(json_object_get(d, "stranded"))) {
		(void)snprintf(why, size, "%s to be replugged: %s", where,
		    client_str(d, "action", "usbmuxd dropped it"));
		return (WAIT_MORE);
	}
	if (json_integer_value(json_object_get(d, "attachment_id")) == 0) {
		(void)snprintf(why, size, "usbmuxd to take on %s, just "
		    "plugged in", where);
		return (WAIT_MORE);
	}
	/* Recovery and DFU: no lockdown, endpoint 0 is what there is. */
	if ((trust = client_str(d, "trust", NULL)) == NULL ||
	    strcmp(trust, "trusted") == 0)
		return (WAIT_READY);
	if (strcmp(trust, "identifying") == 0)
		(void)snprintf(why, size, "%s to be identified", where);
	else
		(void)snprintf(why, size, "Trust on %s: %s", where,
		    client_str(d, "action", "unlock it and tap Trust"));
	return (WAIT_MORE);
}

static enum wait_state
testable_check(json_t *devices, void *arg, char *why, size_t size)
{
	struct testable	*w = arg;
	json_t		*d, *found = NULL;
	size_t		 i;
	unsigned int	 usb = 0;
	enum wait_state	 state;

	json_array_foreach(devices, i, d) {
		if (!json_is_true(json_object_get(d, "attached")))
			continue;
		if (strcmp(client_str(d, "connection", ""), "usb") != 0) {
			if (w->udid != NULL && testable_match(w, d)) {
				(void)snprintf(why, size, "device %s is "
				    "connected over the network; linkq tests "
				    "USB links only", w->udid);
				return (WAIT_GIVE_UP);
			}
			continue;
		}
		usb++;
		if (testable_match(w, d))
			found = d;
	}
	if (found == NULL || (w->udid == NULL && w->port == NULL &&
	    usb > 1)) {
		if (usb > 1 && w->udid == NULL && w->port == NULL) {
			(void)snprintf(why, size, "%u phones are attached: "
			    "name one by its port or with -u UDID", usb);
			return (WAIT_GIVE_UP);
		}
		if (w->udid != NULL)
			(void)snprintf(why, size, "phone %s to be plugged in",
			    w->udid);
		else if (w->port != NULL)
			(void)snprintf(why, size, "a phone on port %s",
			    w->port);
		else
			(void)snprintf(why, size, "a phone to be plugged in");
		w->t->waited = 1;
		return (WAIT_MORE);
	}
	if ((state = testable_device(found, why, size)) != WAIT_READY) {
		w->t->waited = 1;
		return (state);
	}
	(void)strlcpy(w->t->udid, client_str(found, "udid", ""),
	    sizeof(w->t->udid));
	(void)strlcpy(w->t->port, client_str(found, "port", ""),
	    sizeof(w->t->port));
	w->t->attachment = json_integer_value(json_object_get(found,
	    "attachment_id"));
	return (WAIT_READY);
}

int
wait_testable(const char *udid, const char *port, int64_t timeout,
    struct wait_target *t)
{
	struct testable	w;

	memset(t, 0, sizeof(*t));
	w.udid = udid;
	w.port = port;
	w.t = t;
	return (wait_devices(testable_check, &w, timeout));
}

json_int_t
wait_run_start(json_t *body, const char *udid, int64_t wait, int *ret)
{
	struct wait_target	 wt;
	lq_mono_t		 start = lq_mono_now();
	json_t			*reply = NULL;
	json_int_t		 id = -1;
	int64_t			 left;
	long			 code;

	for (;;) {
		left = wait;
		if (wait != WAIT_FOREVER && (left -= lq_mono_sub(lq_mono_now(),
		    start) / LQ_USEC_PER_SEC) < 0)
			left = 0;
		if ((*ret = wait_testable(udid, NULL, left, &wt)) != 0)
			return (-1);
		/* The device waited for, whatever plugs in meanwhile. */
		(void)json_object_set_new(body, "udid", json_string(wt.udid));
		(void)json_object_del(body, "port");
		json_decref(reply);
		if (http_json("POST", "/v1/runs", body, &code, &reply) == -1) {
			*ret = LQ_EXIT_USAGE;
			return (-1);
		}
		if (code == 201)
			break;
		/* Ready at a look, refused at once: not a thing to wait on. */
		if (code != 409 || !wt.waited) {
			*ret = client_api_error(reply, code);
			if (code == 404)
				*ret = LQ_EXIT_NO_DEVICE;
			json_decref(reply);
			return (-1);
		}
	}
	id = json_integer_value(json_object_get(reply, "id"));
	json_decref(reply);
	return (id);
}

int64_t
wait_span(const char *s)
{
	if (strcmp(s, "forever") == 0)
		return (WAIT_FOREVER);
	if (strcmp(s, "0") == 0)
		return (0);
	return (client_span(s));
}
