/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * What linkq qualify adds to a run: a PASS young enough on the same
 * attachment (the same phone on the same port through the same cable,
 * since an attachment ends when the phone is unplugged) stands for a new
 * run, and after anything but a PASS the history names the best cable
 * and port pair to try instead. Both only read the API.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "client.h"
#include "compat/compat.h"
#include "http.h"
#include "lq-time.h"

int
qualify_exit(int status, int no_verdict)
{
	switch (status) {
	case LQ_EXIT_PASS:
		return (0);
	case LQ_EXIT_FAIL:
		return (LQ_QUALIFY_FAIL);
	case LQ_EXIT_MARGINAL:
		return (LQ_QUALIFY_MARGINAL);
	case LQ_EXIT_NO_DEVICE:
		return (LQ_QUALIFY_NO_DEVICE);
	default:
		return (no_verdict ? LQ_QUALIFY_NO_VERDICT :
		    LQ_QUALIFY_ERROR);
	}
}

/* The reply of a GET, or NULL (the error is printed). */
static json_t *
qualify_get(const char *path)
{
	json_t	*reply;

	return (client_call("GET", path, NULL, &reply) == 0 ? reply : NULL);
}

/*
 * The device a run would go to (by udid, else port, else the only one
 * on USB): its attachment, port and cable into t. 0, or -1 if none.
 */
int
qualify_target(const char *udid, const char *port, struct qualify_target *t)
{
	json_t		*reply, *d, *found = NULL;
	size_t		 i;
	unsigned int	 usb = 0;
	int		 ret = -1;

	memset(t, 0, sizeof(*t));
	if ((reply = qualify_get("/v1/devices")) == NULL)
		return (-1);
	json_array_foreach(json_object_get(reply, "devices"), i, d) {
		if (!json_is_true(json_object_get(d, "attached")) ||
		    strcmp(client_str(d, "connection", ""), "usb") != 0)
			continue;
		usb++;
		if ((udid != NULL && strcmp(client_str(d, "udid", ""),
		    udid) == 0) || (udid == NULL && port != NULL &&
		    strcmp(client_str(d, "port", ""), port) == 0) ||
		    (udid == NULL && port == NULL))
			found = d;
	}
	if (found != NULL && (udid != NULL || port != NULL || usb == 1)) {
		t->attachment = json_integer_value(json_object_get(found,
		    "attachment_id"));
		(void)strlcpy(t->port, client_str(found, "port", ""),
		    sizeof(t->port));
		(void)strlcpy(t->cable, client_str(found, "cable", ""),
		    sizeof(t->cable));
		(void)strlcpy(t->last_cable, client_str(found, "last_cable",
		    ""), sizeof(t->last_cable));
		ret = 0;
	}
	json_decref(reply);
	return (ret);
}

/* A fresh PASS of profile on the target's current attachment. */
json_t *
qualify_fresh_pass(const struct qualify_target *t, const char *profile,
    int64_t max_age)
{
	json_t		*runs, *r, *found = NULL;
	json_int_t	 ended_us;
	int64_t		 oldest;
	size_t		 i;

	if (t->attachment == 0 || (runs = qualify_get("/v1/runs")) == NULL)
		return (NULL);
	oldest = lq_wall_now_us() - max_age * LQ_USEC_PER_SEC;
	/* Newest first: only the latest run of the profile counts. */
	json_array_foreach(json_object_get(runs, "runs"), i, r) {
		if (json_integer_value(json_object_get(r, "attachment_id")) !=
		    t->attachment ||
		    strcmp(client_str(r, "profile", ""), profile) != 0 ||
		    strcmp(client_str(r, "state", ""), "done") != 0)
			continue;
		ended_us = json_integer_value(json_object_get(r,
		    "started_us")) + json_integer_value(json_object_get(r,
		    "elapsed_ms")) * 1000;
		if (strcmp(client_str(r, "verdict", ""), "PASS") == 0 &&
		    ended_us >= oldest)
			found = json_incref(r);
		break;
	}
	json_decref(runs);
	return (found);
}

/* Print the best pair of the history other than the target's. */
void
qualify_alternative(const struct qualify_target *t)
{
	const char	*cable = t->cable[0] != '\0' ? t->cable : NULL;
	const char	*port = t->port[0] != '\0' ? t->port : NULL;
	json_t		*report, *row;
	const char	*c, *p;
	size_t		 i;

	if ((report = qualify_get("/v1/report?by=pair")) == NULL)
		return;
	/* Rows come best first. */
	json_array_foreach(json_object_get(report, "rows"), i, row) {
		if (strcmp(client_str(row, "verdict", ""), "PASS") != 0)
			break;
		c = client_str(row, "cable", NULL);
		p = client_str(row, "port", NULL);
		if (c == NULL || p == NULL ||
		    (cable != NULL && port != NULL && strcmp(c, cable) == 0 &&
		    strcmp(p, port) == 0))
			continue;
		printf("best known alternative: cable %s on port %s "
		    "(PASS in %lld of %lld runs)\n", c, p,
		    (long long)json_integer_value(json_object_get(row,
		    "passed")), (long long)json_integer_value(
		    json_object_get(row, "runs")));
		json_decref(report);
		return;
	}
	printf("no cable and port pair has passed here yet: try another "
	    "cable, then another port\n");
	json_decref(report);
}
