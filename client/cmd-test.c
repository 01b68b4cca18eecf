/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * linkq test and linkq qualify: wait for the phone (wait.c), start a
 * run (POST /v1/runs), follow its progress to the end (follow.c), print
 * the verdict and its reasons, and exit with the status linkq(1)
 * documents, so that `linkq qualify && idevicerestore ...` gates a
 * restore. Ctrl-C cancels the run. On a terminal, a device whose cable
 * nobody has named since it was plugged is asked about first
 * (target.c).
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "compat/compat.h"
#include "client.h"
#include "follow.h"
#include "linkq.h"
#include "lq-time.h"
#include "target.h"
#include "wait.h"

/* A PASS young enough stands for a new run (qualify --max-age). */
static int
fresh_pass(const struct qualify_target *target, const char *profile,
    int64_t max_age)
{
	json_t	*fresh;
	int	 ret;

	if ((fresh = qualify_fresh_pass(target, profile, max_age)) == NULL)
		return (-1);
	if (opt_json)
		client_print_json(fresh);
	else
		printf("run %lld passed %lld s ago on this phone, port and "
		    "cable; not run again (--max-age)\n",
		    (long long)json_integer_value(json_object_get(fresh, "id")),
		    (long long)((lq_wall_now_us() - json_integer_value(
		    json_object_get(fresh, "started_us"))) / LQ_USEC_PER_SEC));
	ret = follow_verdict(fresh, !opt_json && isatty(STDOUT_FILENO));
	json_decref(fresh);
	return (ret);
}

/*
 * Follow run id to its verdict; Ctrl-C cancels it. *no_verdict: the run
 * ended, or was cancelled, without a verdict.
 */
static int
follow_to_verdict(json_int_t id, int *no_verdict)
{
	json_t	*end;
	int	 how, ret = LQ_EXIT_USAGE;

	how = follow_run(id, NULL, NULL, &end);
	if (how == FOLLOW_INTERRUPTED) {
		follow_cancel(id);
		*no_verdict = 1;
	} else if (how == FOLLOW_END) {
		ret = follow_verdict(end, !opt_json && isatty(STDOUT_FILENO));
		*no_verdict = ret == LQ_EXIT_USAGE;
	}
	json_decref(end);
	return (ret);
}

/* test's status (linkq(1)); *no_verdict as follow_to_verdict's. */
static int
run_follow(const char *name, const char *default_profile, int argc,
    char **argv, int *no_verdict)
{
	static const struct option longopts[] = {
		CLIENT_LONG_OPTIONS,
		TARGET_LONG_OPTIONS,
		{ "max-age", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 }
	};
	struct target_opts	 o;
	struct qualify_target	 target;
	struct wait_target	 wt;
	json_t			*body;
	int64_t			 max_age = -1;
	int			 qualify = strcmp(name, "qualify") == 0;
	json_int_t		 id;
	int			 ch, ret;

	target_init(&o, default_profile);
	while ((ch = getopt_long(argc, argv, "h" TARGET_SHORT_OPTIONS,
	    longopts, NULL)) != -1) {
		if (target_option(name, ch, optarg, &o))
			continue;
		if (ch == 'm') {
			if (!qualify || (max_age = client_span(optarg)) < 0) {
				fprintf(stderr, "linkq: %s: --max-age takes a "
				    "span such as 30m, 2h or 1d\n", name);
				return (client_usage(name));
			}
			continue;
		}
		client_option(name, ch);
	}
	if ((ret = target_args(name, argc - optind, argv + optind, &o)) != 0)
		return (ret);
	if ((ret = target_ready(&o, &wt, &target)) != 0)
		return (ret);
	if (qualify && max_age >= 0 &&
	    (ret = fresh_pass(&target, o.profile, max_age)) != -1)
		return (ret);

	body = json_pack("{s:s}", "profile", o.profile);
	if (o.cable != NULL)
		(void)json_object_set_new(body, "cable", json_string(o.cable));
	if ((id = wait_run_start(body, wt.udid, o.wait, &ret)) != -1) {
		ret = follow_to_verdict(id, no_verdict);
		if (qualify && !opt_json && ret != LQ_EXIT_PASS &&
		    ret != LQ_EXIT_USAGE)
			qualify_alternative(&target);
	}
	json_decref(body);
	return (ret);
}

int
cmd_test(int argc, char **argv)
{
	int	no_verdict = 0;

	return (run_follow("test", "quick", argc, argv, &no_verdict));
}

/* The same run, its status as qualify's bitmask (client.h). */
int
cmd_qualify(int argc, char **argv)
{
	int	no_verdict = 0, ret;

	ret = run_follow("qualify", "restore", argc, argv, &no_verdict);
	return (qualify_exit(ret, no_verdict));
}
