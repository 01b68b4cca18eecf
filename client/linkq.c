/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * linkq: the client of linkqd. Global options, then one command from
 * one table, which parses its own options (linkq(1)).
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "compat/compat.h"
#include "client.h"
#include "http.h"
#include "linkq.h"

struct command {
	int			 (*fn)(int, char **);
	struct help_command	 help;
};

/* The commands and, for -h, their options, example and exit statuses. */
static const struct command commands[] = {
	{ cmd_status, { "status", "status [--json]",
	  "the daemon, usbmuxd and each attached device",
	  "", "linkq status", "02" } },
	{ cmd_cable, { "cable",
	  "cable PORT LABEL [--fixed] | cable PORT --clear",
	  "say which cable is in a port, or clear it",
	  "fixed clear", "linkq cable 1-2 A-03", "02" } },
	{ cmd_cables, { "cables", "cables [--json]",
	  "every known cable: where it is and its record",
	  "", "linkq cables", "02" } },
	{ cmd_test, { "test", "test [PORT | -u UDID] [--profile NAME] "
	  "[--cable LABEL] [--wait SPAN | --no-wait] [--json]",
	  "run a profile on a device and follow it to its verdict",
	  "udid profile cable wait no-wait",
	  "linkq test 1-2 --cable A-03 --profile standard", "01234" } },
	{ cmd_qualify, { "qualify", "qualify [PORT | -u UDID] "
	  "[--profile NAME] [--cable LABEL] [--max-age SPAN] "
	  "[--wait SPAN | --no-wait] [--json]",
	  "the pre-restore gate: the restore profile, exit 0 on PASS",
	  "udid profile cable max-age wait no-wait",
	  "linkq qualify && idevicerestore --latest", "0unvfm" } },
	{ cmd_drawer, { "drawer", "drawer [PORT ...] [--prefix P] "
	  "[--start N] [--count N] [--profile NAME] [--resume] "
	  "[--session FILE] [--json]",
	  "test a drawer of cables with one phone, guided, to a summary",
	  "prefix start count profile resume session",
	  "linkq drawer 1-2 2-1 --prefix B- --count 10", "01234" } },
	{ cmd_wiggle, { "wiggle", "wiggle [PORT | -u UDID] "
	  "[--cable LABEL] [--profile NAME] [--wait SPAN | --no-wait] "
	  "[--json]",
	  "flex the cable under load: a line a second, errors marked",
	  "udid cable profile wait no-wait", "linkq wiggle 1-2", "01234" } },
	{ cmd_watch, { "watch", "watch [PORT | -u UDID] [--cable LABEL] "
	  "[--json] -- COMMAND [ARGS...]",
	  "run a restore command, watch the link, exit with its status",
	  "udid cable", "linkq watch 1-2 -- idevicerestore --latest",
	  "c23" } },
	{ cmd_events, { "events", "events [--follow] [--since ID] [--json] "
	  "[--db FILE]",
	  "the event log, and with --follow what happens next",
	  "follow since db", "linkq events --follow", "02" } },
	{ cmd_runs, { "runs", "runs [--cable C] [--port P] [--since TIME] "
	  "[--verdict V] [--limit N] [--json] [--db FILE]",
	  "every recorded run, newest first, with its port and cable",
	  "cable port since verdict limit db",
	  "linkq runs --port 1-2 --verdict fail --since 7d", "02" } },
	{ cmd_show, { "show", "show RUN [--json] [--db FILE]",
	  "one run: where, its numbers, verdict, reasons and events",
	  "db", "linkq show 8", "02" } },
	{ cmd_pair, { "pair", "pair [PORT | -u UDID] [--json]",
	  "ask a device to trust this host and wait for the answer",
	  "udid", "linkq pair 1-2", "0123" } },
	{ cmd_ports, { "ports", "ports [--json]",
	  "the ports with their labels, devices and cables",
	  "", "linkq ports", "02" } },
	{ cmd_port, { "port",
	  "port PORT --label NAME | port PORT --clear-label",
	  "name a port, or clear its name",
	  "label clear-label", "linkq port 1-2 --label front-left", "02" } },
	{ cmd_report, { "report", "report [--by pair|cable|port|device] "
	  "[--since TIME] [--json | --csv | --html FILE] [--db FILE]",
	  "results by pair, cable, port or device, best first, and blame",
	  "by since csv html db", "linkq report --by cable --since 7d",
	  "02" } },
	{ cmd_merge, { "merge", "merge --into FILE DB... [--json]",
	  "copy the history of bench databases into one file",
	  "into", "linkq merge --into fleet.db bench-1.db bench-2.db",
	  "02" } },
	{ cmd_bundle, { "bundle", "bundle RUN | --cable LABEL | --port PORT "
	  "-o FILE.tar.gz [--keep-ids] [--force] [--json] [--db FILE]",
	  "the evidence of runs in one .tar.gz, phone identifiers hashed",
	  "cable port output keep-ids force db",
	  "linkq bundle --cable A-03 -o A-03.tar.gz", "02" } },
};

int	opt_json;
int	opt_color = 1;

static void
usage_all(FILE *f)
{
	size_t	i;

	fprintf(f, "usage: linkq [-h] [--version] [-s SOCKET] [--json] "
	    "[--no-color] COMMAND [ARGS]\n\ncommands:\n");
	for (i = 0; i < nitems(commands); i++)
		fprintf(f, "  %-8s %s\n", commands[i].help.name,
		    commands[i].help.summary);
	fprintf(f, "\nlinkq COMMAND -h shows a command's options; "
	    "linkq(1) has the rest.\n");
}

static const struct command *
command_find(const char *name)
{
	size_t	i;

	for (i = 0; i < nitems(commands); i++) {
		if (strcmp(commands[i].help.name, name) == 0)
			return (&commands[i]);
	}
	return (NULL);
}

int
client_usage(const char *name)
{
	const struct command	*c = command_find(name);

	if (c != NULL)
		fprintf(stderr, "usage: linkq %s\nlinkq %s -h lists its "
		    "options\n", c->help.usage, name);
	else
		usage_all(stderr);
	return (LQ_EXIT_USAGE);
}

void
client_usage_exit(const char *name)
{
	(void)client_usage(name);
	/* qualify's statuses are bits: a usage error is its bit 0. */
	exit(strcmp(name, "qualify") == 0 ? LQ_QUALIFY_ERROR :
	    LQ_EXIT_USAGE);
}

void
client_option(const char *name, int ch)
{
	switch (ch) {
	case 'h':
		help_print(stdout, &command_find(name)->help);
		exit(0);
	case 'J':
		opt_json = 1;
		return;
	default:
		client_usage_exit(name);
	}
}

int
client_api_error(json_t *reply, long status)
{
	fprintf(stderr, "linkq: %s\n", http_error_message(reply, status));
	return (LQ_EXIT_USAGE);
}

/* A request that must answer 200. */
int
client_call(const char *method, const char *path, json_t *body,
    json_t **reply)
{
	long	code;

	*reply = NULL;
	if (http_json(method, path, body, &code, reply) == -1)
		return (-1);
	if (code == 200)
		return (0);
	(void)client_api_error(*reply, code);
	json_decref(*reply);
	*reply = NULL;
	return (-1);
}

/*
 * Every document linkq prints starts with its format's version, so that
 * a script can tell a change coming. Reals are rates, percentages and
 * bounds: 6 significant digits, as the report's own printer, rather
 * than the 17 that make 134.26688 read 134.26687999999999.
 */
void
client_print_json(json_t *o)
{
	json_t	*doc = o;
	char	*text;

	if (json_is_object(o)) {
		doc = json_pack("{s:i}", "format_version",
		    LQ_CLIENT_FORMAT_VERSION);
		(void)json_object_update(doc, o);
	} else
		json_incref(o);
	text = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(6));
	json_decref(doc);
	if (text == NULL)
		return;
	printf("%s\n", text);
	free(text);
}

const char *
client_verdict_color(const char *verdict)
{
	if (!opt_color || !isatty(STDOUT_FILENO) || verdict == NULL)
		return ("");
	if (strcmp(verdict, "PASS") == 0)
		return ("\033[32m");
	if (strcmp(verdict, "FAIL") == 0)
		return ("\033[31m");
	if (strcmp(verdict, "MARGINAL") == 0)
		return ("\033[33m");
	return ("");
}

const char *
client_verdict_escape(const char *verdict)
{
	const char	*c = client_verdict_color(verdict);

	return (*c != '\0' ? c : NULL);
}

const char *
client_color_end(void)
{
	return (opt_color && isatty(STDOUT_FILENO) ? "\033[0m" : "");
}

/* A span such as 90s, 30m, 24h, 7d or 2w in seconds; -1 if it is none. */
int64_t
client_span(const char *s)
{
	static const struct {
		char	unit;
		int64_t	secs;
	} units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 },
	    { 'd', 86400 }, { 'w', 7 * 86400 } };
	const char	*errstr;
	char		 num[32];
	size_t		 len = strlen(s), i;
	long long	 n;

	if (len < 2 || len >= sizeof(num))
		return (-1);
	for (i = 0; i < nitems(units); i++) {
		if (s[len - 1] != units[i].unit)
			continue;
		memcpy(num, s, len - 1);
		num[len - 1] = '\0';
		n = strtonum(num, 0, INT32_MAX, &errstr);
		return (errstr != NULL ? -1 : n * units[i].secs);
	}
	return (-1);
}

/* The tail of a UDID that tells phones apart. */
const char *
client_udid_short(const char *udid)
{
	size_t	len = strlen(udid);

	return (len > 8 ? udid + len - 8 : udid);
}

/* A string member of o, or def. */
const char *
client_str(json_t *o, const char *key, const char *def)
{
	const char	*s = json_string_value(json_object_get(o, key));

	return (s != NULL ? s : def);
}

void
client_time(json_int_t us, char *buf, size_t size)
{
	struct tm	tm;
	time_t		t = (time_t)(us / 1000000);
	size_t		n;

	if (us <= 0 || localtime_r(&t, &tm) == NULL ||
	    (n = strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm)) == 0) {
		(void)strlcpy(buf, "-", size);
		return;
	}
	(void)snprintf(buf + n, size - n, ".%03d", (int)(us / 1000 % 1000));
}

void
client_duration(json_int_t ms, char *buf, size_t size)
{
	long long	s = (long long)(ms / 1000);

	if (ms < 0)
		(void)strlcpy(buf, "-", size);
	else if (s < 60)
		(void)snprintf(buf, size, "%.1fs", (double)ms / 1000.0);
	else if (s < 3600)
		(void)snprintf(buf, size, "%lldm%02llds", s / 60, s % 60);
	else
		(void)snprintf(buf, size, "%lldh%02lldm", s / 3600,
		    s % 3600 / 60);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'J' },
		{ "no-color", no_argument, NULL, 'C' },
		{ "socket", required_argument, NULL, 's' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const struct command	*c;
	const char		*sock, *env;
	int			 ch, ret;

	if ((sock = getenv("LINKQ_SOCKET")) == NULL || *sock == '\0')
		sock = LINKQ_SOCKET;
	if ((env = getenv("NO_COLOR")) != NULL && *env != '\0')
		opt_color = 0;

	/* "+": the options after the command are the command's. */
	while ((ch = getopt_long(argc, argv, "+hs:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage_all(stdout);
			return (0);
		case 'J':
			opt_json = 1;
			break;
		case 'C':
			opt_color = 0;
			break;
		case 's':
			sock = optarg;
			break;
		case 'V':
			printf("linkq %s\n", LINKQ_VERSION);
			return (0);
		default:
			usage_all(stderr);
			return (LQ_EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		usage_all(stderr);
		return (LQ_EXIT_USAGE);
	}
	if ((c = command_find(argv[0])) == NULL) {
		fprintf(stderr, "linkq: unknown command \"%s\"\n", argv[0]);
		usage_all(stderr);
		return (LQ_EXIT_USAGE);
	}

	/* Each command runs getopt_long afresh from argv[1]. */
	optind = 0;
	http_init(sock);
	ret = c->fn(argc, argv);
	http_cleanup();
	return (ret);
}
