/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * linkq runs: the recent runs linkqd keeps in memory, newest first, one
 * line each (GET /v1/runs). Older runs are in the database, for report.
 */

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "compat/compat.h"
#include "client.h"
#include "http.h"

static void
print_run(json_t *r)
{
	json_t		*pct;
	const char	*verdict;
	char		 udid[9], elapsed[32], percent[8];

	(void)strlcpy(udid, client_udid_short(client_str(r, "udid", "-")),
	    sizeof(udid));
	client_duration(json_integer_value(json_object_get(r, "elapsed_ms")),
	    elapsed, sizeof(elapsed));
	pct = json_object_get(r, "percent");
	if (json_is_integer(pct))
		(void)snprintf(percent, sizeof(percent), "%lld%%",
		    (long long)json_integer_value(pct));
	else
		(void)strlcpy(percent, "-", sizeof(percent));
	verdict = client_str(r, "verdict", "-");
	/* Padded by hand: the colour codes would count in a width. */
	printf("%5lld %-9s %-11s %s%s%s%*s %4s %-8s %8s %6lld %8lld\n",
	    (long long)json_integer_value(json_object_get(r, "id")),
	    client_str(r, "profile", "?"), client_str(r, "state", "?"),
	    client_verdict_color(verdict), verdict, client_color_end(),
	    (int)(strlen(verdict) < 8 ? 8 - strlen(verdict) : 0), "",
	    percent, udid, elapsed,
	    (long long)json_integer_value(json_object_get(r, "probes")),
	    (long long)json_integer_value(json_object_get(r, "failures")));
}

int
cmd_runs(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLIENT_LONG_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	json_t	*reply = NULL, *list, *r;
	size_t	 i;
	int	 ch, ret = LQ_EXIT_USAGE;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1)
		client_option("runs", ch);
	if (optind != argc)
		return (client_usage("runs"));

	if (client_call("GET", "/v1/runs", NULL, &reply) == -1)
		goto out;
	ret = 0;
	if (opt_json) {
		client_print_json(reply);
		goto out;
	}
	list = json_object_get(reply, "runs");
	if (json_array_size(list) == 0) {
		printf("no runs since linkqd started\n");
		goto out;
	}
	printf("%5s %-9s %-11s %-8s %4s %-8s %8s %6s %8s\n", "RUN",
	    "PROFILE", "STATE", "VERDICT", "PCT", "DEVICE", "ELAPSED",
	    "PROBES", "FAILURES");
	json_array_foreach(list, i, r)
		print_run(r);
out:
	json_decref(reply);
	return (ret);
}
