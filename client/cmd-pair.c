/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * linkq pair [PORT | -u UDID]: ask a device to trust this host (POST
 * /v1/devices/UDID/pair), tell the user to tap Trust, and wait for the
 * answer by asking GET /v1/devices once a second.
 *
 * linkqd answers 202 before it has asked the phone, so a device that is
 * still "not-paired" at first is only being asked. It counts as declined
 * once it was seen waiting for the prompt ("pair-pending" or "locked")
 * and then went back. The wait is bounded as linkqd's own is: after
 * PAIR_WAIT_S it stops asking the phone too.
 */

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "compat/compat.h"
#include "client.h"
#include "http.h"
#include "xmalloc.h"

/* linkqd asks the phone for two minutes; a little more to hear it. */
#define PAIR_WAIT_S	125

static volatile sig_atomic_t	stop;

static void
pair_sigint(int sig)
{
	(void)sig;
	stop = 1;
}

/*
 * Say a step of the pairing: the text, or with --json an object with
 * its type, the device and the same words as message.
 */
static void
pair_say(const char *type, const char *udid, const char *text)
{
	json_t	*o;

	if (opt_json) {
		o = json_pack("{s:s, s:s, s:s}", "type", type, "udid", udid,
		    "message", text);
		client_print_json(o);
		json_decref(o);
	} else
		printf("%s\n", text);
	(void)fflush(stdout);
}

/* The attached device of udid, else on port, else the only one. */
static int
pick_device(json_t *devices, const char *udid, const char *port,
    json_t **found)
{
	json_t	*d;
	size_t	 i;
	int	 n = 0;

	*found = NULL;
	json_array_foreach(json_object_get(devices, "devices"), i, d) {
		if (!json_is_true(json_object_get(d, "attached")))
			continue;
		if (udid != NULL &&
		    strcmp(client_str(d, "udid", ""), udid) != 0)
			continue;
		if (port != NULL &&
		    strcmp(client_str(d, "port", ""), port) != 0)
			continue;
		/* Pairing is over USB; a network device is paired already. */
		if (udid == NULL && port == NULL &&
		    strcmp(client_str(d, "connection", "usb"), "usb") != 0)
			continue;
		*found = d;
		n++;
	}
	if (n == 1)
		return (0);
	if (n > 1) {
		fprintf(stderr, "linkq: several devices are attached; say "
		    "which by PORT or -u UDID\n");
		return (LQ_EXIT_USAGE);
	}
	if (udid != NULL)
		fprintf(stderr, "linkq: no device with UDID %s is attached\n",
		    udid);
	else if (port != NULL)
		fprintf(stderr, "linkq: no device on port %s; linkq ports "
		    "lists them\n", port);
	else
		fprintf(stderr, "linkq: no device attached\n");
	return (LQ_EXIT_NO_DEVICE);
}

/* The device's trust now: 0 and *trust set, or an exit status. */
static int
poll_trust(const char *udid, char *trust, size_t size, char *action,
    size_t asize)
{
	json_t	*devices = NULL, *d;
	long	 code;
	int	 ret;

	if (http_json("GET", "/v1/devices", NULL, &code, &devices) == -1)
		return (LQ_EXIT_USAGE);
	if (code != 200) {
		ret = client_api_error(devices, code);
		json_decref(devices);
		return (ret);
	}
	if (pick_device(devices, udid, NULL, &d) != 0) {
		json_decref(devices);
		fprintf(stderr, "linkq: the device left before it answered\n");
		return (LQ_EXIT_NO_DEVICE);
	}
	(void)strlcpy(trust, client_str(d, "trust", "?"), size);
	(void)strlcpy(action, client_str(d, "action", ""), asize);
	json_decref(devices);
	return (0);
}

/* Wait for the answer to the pairing of udid. */
static int
wait_trust(const char *udid)
{
	struct sigaction	 sa, old;
	struct timespec		 ts;
	char			 trust[32], action[256], said[256] = "";
	int			 asked = 0, ret = LQ_EXIT_FAIL, i;

	/* No SA_RESTART: nanosleep returns at once. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = pair_sigint;
	(void)sigemptyset(&sa.sa_mask);
	stop = 0;
	(void)sigaction(SIGINT, &sa, &old);
	for (i = 0; i < PAIR_WAIT_S && !stop; i++) {
		ts.tv_sec = 1;
		ts.tv_nsec = 0;
		while (nanosleep(&ts, &ts) == -1 && errno == EINTR && !stop)
			continue;
		if (stop)
			break;
		if ((ret = poll_trust(udid, trust, sizeof(trust), action,
		    sizeof(action))) != 0)
			goto out;
		if (strcmp(trust, "trusted") == 0) {
			(void)snprintf(said, sizeof(said), "paired: %s trusts "
			    "this host", udid);
			pair_say("paired", udid, said);
			ret = 0;
			goto out;
		}
		if (strcmp(trust, "pair-pending") == 0 ||
		    strcmp(trust, "locked") == 0) {
			asked = 1;
			/* Say it when it changes: locked, then the prompt. */
			if (strcmp(action, said) != 0 && action[0] != '\0') {
				pair_say("prompt", udid, action);
				(void)strlcpy(said, action, sizeof(said));
			}
		} else if (strcmp(trust, "not-paired") == 0 && asked) {
			fprintf(stderr, "linkq: %s was not paired: Don't "
			    "Trust was tapped on the phone\n", udid);
			ret = LQ_EXIT_FAIL;
			goto out;
		} else if (strcmp(trust, "error") == 0) {
			fprintf(stderr, "linkq: %s: %s\n", udid, action);
			ret = LQ_EXIT_FAIL;
			goto out;
		}
	}
	if (stop) {
		fprintf(stderr, "linkq: stopped waiting; linkqd keeps asking "
		    "the phone for up to two minutes\n");
		ret = LQ_EXIT_USAGE;
	} else {
		fprintf(stderr, "linkq: %s did not answer within %d s; run "
		    "linkq pair again to ask again\n", udid, PAIR_WAIT_S);
		ret = LQ_EXIT_FAIL;
	}
out:
	(void)sigaction(SIGINT, &old, NULL);
	return (ret);
}

/* "pairing UDID (name) on port P: unlock the phone and tap Trust ...". */
static const char *
pair_intro(json_t *d, const char *udid, char *buf, size_t size)
{
	size_t	n;

	n = (size_t)snprintf(buf, size, "pairing %s", udid);
	if (n < size && json_object_get(d, "name") != NULL)
		n += (size_t)snprintf(buf + n, size - n, " (%s)",
		    client_str(d, "name", ""));
	if (n < size && json_object_get(d, "port") != NULL)
		n += (size_t)snprintf(buf + n, size - n, " on port %s",
		    client_str(d, "port", ""));
	if (n < size)
		(void)snprintf(buf + n, size - n, ": unlock the phone and tap "
		    "Trust; waiting up to %d s (Ctrl-C stops waiting)",
		    PAIR_WAIT_S);
	return (buf);
}

int
cmd_pair(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLIENT_LONG_OPTIONS,
		{ "udid", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 }
	};
	json_t		*devices = NULL, *reply = NULL, *d;
	const char	*udid = NULL, *port = NULL;
	char		*path = NULL, *esc, *target = NULL, text[512];
	long		 code;
	int		 ch, ret = LQ_EXIT_USAGE;

	while ((ch = getopt_long(argc, argv, "hu:", longopts, NULL)) != -1) {
		if (ch == 'u')
			udid = optarg;
		else
			client_option("pair", ch);
	}
	argc -= optind;
	argv += optind;
	if (argc > 1 || (argc == 1 && udid != NULL))
		return (client_usage("pair"));
	if (argc == 1)
		port = argv[0];

	if (client_call("GET", "/v1/devices", NULL, &devices) == -1)
		goto out;
	if ((ret = pick_device(devices, udid, port, &d)) != 0)
		goto out;
	target = xstrdup(client_str(d, "udid", ""));

	esc = http_escape(target);
	(void)xasprintf(&path, "/v1/devices/%s/pair", esc);
	free(esc);
	ret = LQ_EXIT_USAGE;
	if (http_json("POST", path, NULL, &code, &reply) == -1)
		goto out;
	if (code == 200) {
		(void)snprintf(text, sizeof(text), "%s already trusts this "
		    "host", target);
		pair_say("paired", target, text);
		ret = 0;
		goto out;
	}
	if (code != 202) {
		ret = client_api_error(reply, code);
		if (code == 404)
			ret = LQ_EXIT_NO_DEVICE;
		goto out;
	}
	pair_say("pairing", target, pair_intro(d, target, text,
	    sizeof(text)));
	ret = wait_trust(target);
out:
	free(path);
	free(target);
	json_decref(devices);
	json_decref(reply);
	return (ret);
}
