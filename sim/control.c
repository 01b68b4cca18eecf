/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The control socket (--control PATH): JSON lines. Each request is one
 * JSON object on one line, each answer one line:
 *
 *	{"cmd": "plug", "device": "phone", "port": "left", "cable": "A-01"}
 *	{"ok": true}
 *	{"cmd": "fault", "target": "A-01", "params": "corrupt-per-mb=0.01"}
 *	{"ok": false, "error": "no port or cable called A-01"}
 *
 * Commands (linkq-sim(1), CONTROL SOCKET): status, plug, unplug, move,
 * fault, drop, reset, link-error, stall, trust, mode, hostile, oplog,
 * oplog-clear, events; and, naming no device, flex, hc-died,
 * hc-recover, over-current, hub-reset, usbmuxd-garbage,
 * usbmuxd-restart.
 * A line longer than CONTROL_LINE_MAX, or one that is not a JSON object,
 * ends that client's connection with a log line; nothing else is
 * touched. Each client runs on a thread of its own.
 */

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "afc.h"
#include "bench.h"
#include "compat/compat.h"
#include "conn.h"
#include "control.h"
#include "evlog.h"
#include "hostfault.h"
#include "hostile.h"
#include "log.h"
#include "sim.h"
#include "xmalloc.h"

#define CONTROL_LINE_MAX	(64 * 1024)

/* Bind a unix socket at path, replacing a stale one. */
static int
control_bind(const char *path, char **cause)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		xasprintf(cause, "control socket path %s is too long", path);
		return (-1);
	}
	(void)unlink(path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(fd, 64) == -1) {
		xasprintf(cause, "control socket %s: %s", path,
		    strerror(errno));
		if (fd != -1)
			(void)close(fd);
		return (-1);
	}
	return (fd);
}

/* Append each oplog or event line to a JSON array. */
static void
control_collect(void *arg, const char *line)
{
	(void)json_array_append_new(arg, json_string(line));
}

/* A hostile phone's kind and how many malformed replies it sent. */
static void
control_status_hostile(json_t *d, struct sim_device *dev)
{
	(void)json_object_set_new(d, "hostile",
	    json_string(hostile_name(hostile_get(dev))));
	(void)json_object_set_new(d, "hostile_replies",
	    json_integer((json_int_t)atomic_load(&dev->hostile_replies)));
}

/* The devices, where they are and what they show. */
static json_t *
control_status(void)
{
	struct sim_device	*dev;
	json_t			*list, *d;

	list = json_array();
	sim_lock();
	for (dev = device_first(); dev != NULL; dev = device_next(dev)) {
		d = json_pack("{s:s, s:s, s:b, s:b, s:b, s:b, s:s}",
		    "device", dev->bench_name, "udid", dev->udid,
		    "plugged", dev->port != NULL,
		    "attached", dev->plugged,
		    "stranded", dev->stranded,
		    "trust_prompt", dev->trust_prompt,
		    "mode", sim_mode_name(dev->mode));
		/* What usbmuxd shows, and who asked the phone to pair. */
		(void)json_object_set_new(d, "visible",
		    json_boolean(dev->visible));
		(void)json_object_set_new(d, "preflight_wait",
		    json_boolean(dev->preflight_wait));
		(void)json_object_set_new(d, "pair_requests",
		    json_integer(dev->pair_requests));
		control_status_hostile(d, dev);
		if (dev->port != NULL) {
			(void)json_object_set_new(d, "port",
			    json_string(dev->port->name));
			(void)json_object_set_new(d, "path",
			    json_string(dev->port->path));
			(void)json_object_set_new(d, "cable",
			    json_string(dev->cable->name));
		}
		/* Numbers only while on the bus: none of a failed one. */
		if (dev->port != NULL && dev->on_bus) {
			(void)json_object_set_new(d, "bus",
			    json_integer(dev->bus));
			(void)json_object_set_new(d, "devnum",
			    json_integer(dev->devnum));
			(void)json_object_set_new(d, "speed_mbps",
			    json_integer((json_int_t)(dev->speed_bps /
			    1000000)));
		}
		if (dev->plugged)
			(void)json_object_set_new(d, "device_id",
			    json_integer(dev->mux_id));
		(void)json_array_append_new(list, d);
	}
	sim_unlock();
	return (list);
}

/* Return the string member key, or NULL. */
static const char *
member(json_t *req, const char *key)
{
	return (json_string_value(json_object_get(req, key)));
}

/* Return the string member key, or "" (which names nothing). */
static const char *
arg(json_t *req, const char *key)
{
	const char	*value;

	value = member(req, key);
	return (value != NULL ? value : "");
}

/* Make dev hostile (or honest again) from its next reply on. */
static int
control_hostile(struct sim_device *dev, json_t *req, char **cause)
{
	enum hostile_kind	 kind;
	const char		*name;

	if ((name = member(req, "kind")) == NULL) {
		xasprintf(cause, "hostile needs a \"kind\" (none to heal; "
		    "linkq-sim(1), HOSTILE PHONES)");
		return (-1);
	}
	if (hostile_parse(name, &kind, cause) == -1)
		return (-1);
	hostile_set(dev, kind);
	log_info("control: %s: hostile=%s", dev->bench_name, name);
	return (0);
}

/* The commands, for telling an unknown one from a missing argument. */
static const char *const control_commands[] = {
	"status", "events", "plug", "unplug", "move", "fault", "drop",
	"reset", "link-error", "stall", "trust", "mode", "hostile", "oplog",
	"oplog-clear", "flex", "hc-died", "hc-recover", "over-current",
	"hub-reset", "usbmuxd-garbage", "usbmuxd-restart"
};

/* usbmuxd-garbage: what, to whom, and whether usbmuxd closes after. */
static int
control_garbage(json_t *req, char **cause)
{
	const char	*then;
	json_t		*v;
	json_int_t	 count = 1;

	then = member(req, "then");
	if (then != NULL && strcmp(then, "close") != 0 &&
	    strcmp(then, "keep") != 0) {
		xasprintf(cause, "usbmuxd-garbage: \"then\" is close or keep");
		return (-1);
	}
	if ((v = json_object_get(req, "count")) != NULL)
		count = json_is_integer(v) ? json_integer_value(v) : 0;
	return (mux_garbage(member(req, "kind"), member(req, "to"),
	    (long long)count, then == NULL || strcmp(then, "close") == 0,
	    cause));
}

/*
 * The commands that name a cable, a bus or a hub rather than a device.
 * Returns 0 or -1 (with *cause) if cmd is one of them, 1 if not.
 */
static int
control_host(const char *cmd, json_t *req, char **cause)
{
	json_t		*v;
	json_int_t	 ms, bus;
	double		 factor = 50;

	if (strcmp(cmd, "flex") == 0) {
		ms = json_integer_value(json_object_get(req, "ms"));
		if ((v = json_object_get(req, "factor")) != NULL)
			factor = json_number_value(v);
		if (ms <= 0 || ms > 3600000 || factor < 1 || factor > 1e6) {
			xasprintf(cause, "flex needs a \"cable\", \"ms\" from "
			    "1 to 3600000 and maybe a \"factor\" from 1 to "
			    "1000000");
			return (-1);
		}
		return (bench_flex(arg(req, "cable"), ms * 1000, factor,
		    cause));
	}
	if (strcmp(cmd, "hc-died") == 0 || strcmp(cmd, "hc-recover") == 0) {
		bus = json_integer_value(json_object_get(req, "bus"));
		if (cmd[3] == 'd')
			return (hostfault_hc_died((int)bus, cause));
		return (hostfault_hc_recover((int)bus, cause));
	}
	if (strcmp(cmd, "over-current") == 0)
		return (hostfault_over_current(arg(req, "target"), cause));
	if (strcmp(cmd, "hub-reset") == 0)
		return (hostfault_hub_reset(arg(req, "hub"), cause));
	if (strcmp(cmd, "usbmuxd-garbage") == 0)
		return (control_garbage(req, cause));
	if (strcmp(cmd, "usbmuxd-restart") == 0)
		return (muxd_restart(cause));
	return (1);
}

/* Whether cmd is a command. */
static int
control_known(const char *cmd)
{
	size_t	i;

	for (i = 0; i < nitems(control_commands); i++) {
		if (strcmp(control_commands[i], cmd) == 0)
			return (1);
	}
	return (0);
}

/* Run one request; returns the answer object. */
static json_t *
control_run(json_t *req)
{
	struct sim_device	*dev = NULL;
	const char		*cmd, *name, *mode;
	enum sim_mode		 sm;
	json_t			*reply, *lines;
	char			*cause = NULL;
	json_int_t		 ms;
	int			 ret = 0;

	if ((cmd = member(req, "cmd")) == NULL) {
		cause = xstrdup("a request needs a \"cmd\" string");
		goto fail;
	}
	if (!control_known(cmd)) {
		xasprintf(&cause, "unknown command %s; see linkq-sim(1)",
		    cmd);
		goto fail;
	}
	if ((name = member(req, "device")) != NULL &&
	    (dev = bench_find_device(name)) == NULL) {
		xasprintf(&cause, "no device called %s", name);
		goto fail;
	}
	if ((ret = control_host(cmd, req, &cause)) != 1) {
		if (ret == -1)
			goto fail;
		return (json_pack("{s:b}", "ok", 1));
	}
	ret = 0;
	if (dev == NULL && strcmp(cmd, "status") != 0 &&
	    strcmp(cmd, "events") != 0 && strcmp(cmd, "fault") != 0) {
		xasprintf(&cause, "%s needs a \"device\"", cmd);
		goto fail;
	}

	reply = json_pack("{s:b}", "ok", 1);
	if (strcmp(cmd, "status") == 0) {
		(void)json_object_set_new(reply, "devices", control_status());
		/* false while usbmuxd has exited (exit=yes) */
		(void)json_object_set_new(reply, "usbmuxd_running",
		    json_boolean(muxd_running()));
		(void)json_object_set_new(reply, "usbmuxd_listens",
		    json_integer(mux_listens()));
	} else if (strcmp(cmd, "events") == 0) {
		lines = json_array();
		evlog_foreach(control_collect, lines);
		(void)json_object_set_new(reply, "events", lines);
	} else if (strcmp(cmd, "plug") == 0)
		ret = bench_plug(dev, arg(req, "port"), arg(req, "cable"),
		    &cause);
	else if (strcmp(cmd, "unplug") == 0)
		ret = bench_unplug(dev, &cause);
	else if (strcmp(cmd, "move") == 0) {
		ret = bench_unplug(dev, &cause);
		if (ret == 0)
			ret = bench_plug(dev, arg(req, "port"),
			    arg(req, "cable"), &cause);
	} else if (strcmp(cmd, "fault") == 0)
		ret = bench_set_fault(arg(req, "target"), arg(req, "params"),
		    &cause);
	else if (strcmp(cmd, "drop") == 0) {
		mode = member(req, "mode");
		ret = bench_drop(dev, mode != NULL && strcmp(mode, "reset") ==
		    0 ? FAULT_DROP_RESET : FAULT_DROP_STRANDED, &cause);
	} else if (strcmp(cmd, "reset") == 0)
		ret = bench_drop(dev, FAULT_DROP_RESET, &cause);
	else if (strcmp(cmd, "link-error") == 0)
		ret = bench_link_error(dev, &cause);
	else if (strcmp(cmd, "stall") == 0) {
		ms = json_integer_value(json_object_get(req, "ms"));
		if (ms <= 0 || ms > 3600000) {
			xasprintf(&cause, "stall needs \"ms\" from 1 to "
			    "3600000");
			ret = -1;
		} else
			ret = bench_stall(dev, ms, &cause);
	} else if (strcmp(cmd, "trust") == 0)
		ret = bench_trust(dev, json_is_true(json_object_get(req,
		    "accept")), &cause);
	else if (strcmp(cmd, "mode") == 0) {
		if ((mode = member(req, "mode")) == NULL ||
		    sim_mode_parse(mode, &sm) == -1) {
			xasprintf(&cause, "mode needs a \"mode\": normal, "
			    "recovery or dfu");
			ret = -1;
		} else
			ret = bench_mode(dev, sm, &cause);
	} else if (strcmp(cmd, "hostile") == 0)
		ret = control_hostile(dev, req, &cause);
	else if (strcmp(cmd, "oplog") == 0) {
		lines = json_array();
		afc_fs_oplog(dev->fs, control_collect, lines);
		(void)json_object_set_new(reply, "oplog", lines);
	} else if (strcmp(cmd, "oplog-clear") == 0)
		afc_fs_oplog_clear(dev->fs);
	if (ret == -1) {
		json_decref(reply);
		goto fail;
	}
	return (reply);

fail:
	log_info("control: %s: %s", cmd != NULL ? cmd : "(no cmd)", cause);
	reply = json_pack("{s:b, s:s}", "ok", 0, "error", cause);
	free(cause);
	return (reply);
}

/* Write one JSON line. */
static int
control_reply(int fd, json_t *reply)
{
	char	*text;
	size_t	 len;
	ssize_t	 n;
	int	 ret = 0;

	text = json_dumps(reply, JSON_COMPACT);
	json_decref(reply);
	if (text == NULL)
		return (-1);
	len = strlen(text);
	text[len] = '\n';	/* the newline takes the NUL's place */
	n = send(fd, text, len + 1, MSG_NOSIGNAL);
	if (n != (ssize_t)len + 1)
		ret = -1;
	free(text);
	return (ret);
}

/* Serve one control client until it leaves or misbehaves. */
static void *
control_client(void *arg)
{
	struct conn_live live;
	json_error_t	 err;
	json_t		*req;
	char		*buf;
	size_t		 have = 0;
	ssize_t		 n;
	char		*nl;
	int		 fd = *(int *)arg;

	free(arg);
	conn_live_add(&live, fd);
	buf = xmalloc(CONTROL_LINE_MAX);
	for (;;) {
		while ((nl = memchr(buf, '\n', have)) == NULL) {
			if (have == CONTROL_LINE_MAX) {
				log_warnx("control: request line too long");
				goto out;
			}
			n = read(fd, buf + have, CONTROL_LINE_MAX - have);
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0)
				goto out;
			have += (size_t)n;
		}
		*nl = '\0';
		req = json_loads(buf, 0, &err);
		if (req == NULL || !json_is_object(req)) {
			log_warnx("control: not a JSON object: %s",
			    req == NULL ? err.text : "wrong type");
			json_decref(req);
			goto out;
		}
		if (control_reply(fd, control_run(req)) == -1) {
			json_decref(req);
			goto out;
		}
		json_decref(req);
		have -= (size_t)(nl + 1 - buf);
		memmove(buf, nl + 1, have);
	}
out:
	free(buf);
	conn_live_remove(&live);
	(void)close(fd);
	return (NULL);
}

static int		control_fd = -1;
static pthread_t	control_tid;

/* Accept control clients until control_stop() shuts the socket down. */
static void *
control_accept(void *unused)
{
	pthread_t	 tid;
	int		 fd, *p;

	(void)unused;
	for (;;) {
		fd = accept4(control_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EINVAL)
				break;	/* shut down */
			if (errno != EINTR && errno != ECONNABORTED)
				log_warn("control: accept");
			continue;
		}
		p = xmalloc(sizeof(*p));
		*p = fd;
		if (pthread_create(&tid, NULL, control_client, p) != 0) {
			log_warnx("control: cannot start a thread");
			(void)close(fd);
			free(p);
			continue;
		}
		(void)pthread_detach(tid);
	}
	return (NULL);
}

/* Listen on the control socket. */
int
control_start(const char *path, char **cause)
{
	if ((control_fd = control_bind(path, cause)) == -1)
		return (-1);
	if (pthread_create(&control_tid, NULL, control_accept, NULL) != 0)
		fatalx("control: pthread_create");
	return (0);
}

/* Stop accepting control clients (those connected are conn_live's). */
void
control_stop(void)
{
	if (control_fd == -1)
		return;
	/* shutdown(2) wakes a thread blocked in accept(2); close does not. */
	(void)shutdown(control_fd, SHUT_RDWR);
	if (pthread_join(control_tid, NULL) != 0)
		fatalx("control: pthread_join");
	(void)close(control_fd);
	control_fd = -1;
}

/*
 * Send one request to a running simulator and print the answer. Exit
 * status: 0 if it says ok, 1 if not, 2 if it cannot be asked.
 */
int
control_send(const char *path, const char *request)
{
	struct sockaddr_un	 sun;
	json_error_t		 err;
	json_t			*reply;
	char			 buf[CONTROL_LINE_MAX];
	size_t			 have = 0;
	ssize_t			 n;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	(void)strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		(void)fprintf(stderr, "linkq-sim: %s: %s\n", path,
		    strerror(errno));
		return (2);
	}
	if (send(fd, request, strlen(request), MSG_NOSIGNAL) == -1 ||
	    send(fd, "\n", 1, MSG_NOSIGNAL) == -1) {
		(void)fprintf(stderr, "linkq-sim: %s: %s\n", path,
		    strerror(errno));
		(void)close(fd);
		return (2);
	}
	while (have < sizeof(buf) - 1 && (memchr(buf, '\n', have) == NULL)) {
		n = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	(void)close(fd);
	buf[have] = '\0';
	if (have == 0) {
		(void)fprintf(stderr, "linkq-sim: %s: no answer (was the "
		    "request a JSON object?)\n", path);
		return (2);
	}
	(void)fputs(buf, stdout);
	reply = json_loads(buf, 0, &err);
	n = json_is_true(json_object_get(reply, "ok"));
	json_decref(reply);
	return (n ? 0 : 1);
}
