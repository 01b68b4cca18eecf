/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * linkq test and linkq qualify: wait for the phone (wait.c), start a
 * run (POST /v1/runs), follow its progress to the end (follow.c), print
 * the verdict and its reasons, and exit with the status linkq(1)
 * documents, so that `linkq qualify && idevicerestore ...` gates a
 * restore. Ctrl-C cancels the run. On a terminal, a device whose cable
 * nobody has named since it was plugged is asked about first (ask.c).
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

/* Follow run id to its verdict; Ctrl-C cancels it. */
static int
follow_to_verdict(json_int_t id)
{
	json_t	*end;
	int	 how, ret = LQ_EXIT_USAGE;

	how = follow_run(id, NULL, NULL, &end);
	if (how == FOLLOW_INTERRUPTED)
		follow_cancel(id);
	else if (how == FOLLOW_END)
		ret = follow_verdict(end, !opt_json && isatty(STDOUT_FILENO));
	json_decref(end);
	return (ret);
}

static int
run_follow(const char *name, const char *default_profile, int argc,
    char **argv)
{
	static const struct option longopts[] = {
		CLIENT_LONG_OPTIONS,
		{ "cable", required_argument, NULL, 'c' },
		{ "max-age", required_argument, NULL, 'm' },
		{ "no-wait", no_argument, NULL, 'n' },
		{ "profile", required_argument, NULL, 'p' },
		{ "udid", required_argument, NULL, 'u' },
		{ "wait", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 }
	};
	struct qualify_target	 target;
	struct wait_target	 wt;
	json_t			*body;
	int64_t			 max_age = -1, wait = WAIT_DEFAULT_S;
	int			 qualify = strcmp(name, "qualify") == 0;
	const char	*profile = default_profile, *cable = NULL;
	const char	*udid = NULL, *port = NULL, *why;
	json_int_t	 id;
	char		 asked[LQ_LABEL_MAX + 2];
	int		 ch, ret = LQ_EXIT_USAGE;

	while ((ch = getopt_long(argc, argv, "hu:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			cable = optarg;
			break;
		case 'm':
			if (!qualify || (max_age = client_span(optarg)) < 0) {
				fprintf(stderr, "linkq: %s: --max-age takes a "
				    "span such as 30m, 2h or 1d\n", name);
				return (client_usage(name));
			}
			break;
		case 'n':
			wait = 0;
			break;
		case 'p':
			profile = optarg;
			break;
		case 'u':
			udid = optarg;
			break;
		case 'w':
			if ((wait = wait_span(optarg)) < 0) {
				fprintf(stderr, "linkq: %s: --wait takes a "
				    "span such as 30s or 5m, 0 or forever\n",
				    name);
				return (client_usage(name));
			}
			break;
		default:
			client_option(name, ch);
			break;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1 || (argc == 1 && udid != NULL))
		return (client_usage(name));
	if (argc == 1)
		port = argv[0];
	if (cable != NULL && (why = lq_label_invalid(cable)) != NULL) {
		fprintf(stderr, "linkq: bad cable label: %s\n", why);
		return (LQ_EXIT_USAGE);
	}

	/* The questions below are about the phone once it is there. */
	if ((ret = wait_testable(udid, port, wait, &wt)) != 0)
		return (ret);
	memset(&target, 0, sizeof(target));
	if ((qualify || (cable == NULL && ask_possible())) &&
	    qualify_target(wt.udid, NULL, &target) == -1)
		memset(&target, 0, sizeof(target));
	/* A cable unconfirmed since a replug: ask, on a terminal. */
	if (cable == NULL && ask_possible() && target.port[0] != '\0' &&
	    target.cable[0] == '\0' && ask_cable(target.port,
	    target.last_cable, asked, sizeof(asked)))
		cable = asked;
	if (qualify && max_age >= 0 &&
	    (ret = fresh_pass(&target, profile, max_age)) != -1)
		return (ret);

	body = json_pack("{s:s}", "profile", profile);
	if (cable != NULL)
		(void)json_object_set_new(body, "cable", json_string(cable));
	if ((id = wait_run_start(body, wt.udid, wait, &ret)) != -1) {
		ret = follow_to_verdict(id);
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
	return (run_follow("test", "quick", argc, argv));
}

int
cmd_qualify(int argc, char **argv)
{
	return (run_follow("qualify", "restore", argc, argv));
}
