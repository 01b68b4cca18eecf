/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * What linkq's commands share: the global options, the exit statuses
 * linkq(1) documents, and the option handling every command has (-h,
 * --json, usage on error). One cmd-<name>.c per command.
 */

#ifndef LQ_CLIENT_H
#define LQ_CLIENT_H

#include <getopt.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "compat/compat.h"

/* Exit statuses, as linkq(1) documents them; qualify's gate uses all. */
#define LQ_EXIT_PASS		0
#define LQ_EXIT_FAIL		1
#define LQ_EXIT_USAGE		2	/* usage or daemon error */
#define LQ_EXIT_NO_DEVICE	3
#define LQ_EXIT_MARGINAL	4

/*
 * qualify's exit status is a bitmask, as smartctl(8)'s, so that a
 * restore script can test each reason not to restore on its own
 * ($((status & 8))); 0 is PASS and only PASS. The other commands keep
 * the statuses above.
 */
#define LQ_QUALIFY_ERROR	0x01	/* usage, linkqd error or down */
#define LQ_QUALIFY_NO_DEVICE	0x02
#define LQ_QUALIFY_NO_VERDICT	0x04	/* the run ended without one */
#define LQ_QUALIFY_FAIL		0x08
#define LQ_QUALIFY_MARGINAL	0x10

extern int	opt_json;	/* --json */
extern int	opt_color;	/* colours on a terminal, no NO_COLOR */

/* Options every command takes; add to a command's table. */
#define CLIENT_LONG_OPTIONS \
	{ "help", no_argument, NULL, 'h' }, \
	{ "json", no_argument, NULL, 'J' }

/*
 * Handle -h, --json and an unknown option for command name: returns 0
 * if ch was one of them and handled, exits otherwise for -h (0) and
 * errors (2).
 */
void	 client_option(const char *, int);
/* The command's usage on stderr; returns 2 for the caller to exit. */
int	 client_usage(const char *);
/* The same, then exit with the command's usage status (qualify: 1). */
__dead void client_usage_exit(const char *);
/* Print a daemon reply's error and return 2. */
int	 client_api_error(json_t *, long);
/*
 * Send a request that must answer 200: 0 with *reply (the caller's), or
 * -1 once the error is printed (*reply then NULL).
 */
int	 client_call(const char *, const char *, json_t *, json_t **);
/*
 * A command's help (help.c): usage, summary, its options' long names
 * separated by blanks (-h and --json are every command's), one example,
 * and its exit statuses as the characters '0' to '4', 'c' for a status
 * that is a child command's, and for qualify's bits 'u', 'n', 'v', 'f'
 * and 'm' (help.c).
 */
struct help_command {
	const char	*name;
	const char	*usage;
	const char	*summary;
	const char	*options;
	const char	*example;
	const char	*exits;
};
/* Print linkq CMD -h from the vocabularies of help.c. */
void	 help_print(FILE *, const struct help_command *);

/* The format_version of linkq's JSON; a change that breaks a reader
 * raises it. */
#define LQ_CLIENT_FORMAT_VERSION	1
/*
 * Print o as JSON on standard output, one line; an object gets
 * format_version first (o itself is left as it was).
 */
void	 client_print_json(json_t *);
/* A verdict, coloured when stdout is a terminal and colour is on. */
const char *client_verdict_color(const char *);
const char *client_color_end(void);
/* The same for a table's cell (lq-table.h): NULL for no colour. */
const char *client_verdict_escape(const char *);
/* A string member of o, or def. */
const char *client_str(json_t *, const char *, const char *);
/*
 * The last 8 characters of a UDID: the first 8 of a current one are the
 * chip id, the same on every phone of a model.
 */
const char *client_udid_short(const char *);
/* A span such as 90s, 30m, 24h, 7d or 2w in seconds; -1 if none. */
int64_t	 client_span(const char *);

/* history.c: the options of the commands that read the history. */
/*
 * --since TIME as an epoch second, given now (one): a span back ("7d")
 * or a date ("2026-01-31", "2026-01-31T08:00:00", with "Z" for UTC);
 * -1 if it is none of these.
 */
int64_t	 client_since(const char *, int64_t);
/* --db FILE opened read-only, or NULL once the error is printed. */
struct sqlite3;
struct sqlite3	*client_db_open(const char *);
/*
 * Where a run or event was: "port 1-1 (front-left), cable A-03", from
 * its port, port_label and cable members, into buf.
 */
void	 client_where(json_t *, char *, size_t);
/*
 * How a restore-watch run's restore ended, from its outcome,
 * exit_status, exit_signal, step (or step, when not NULL) and percent:
 * "FAILED, exit status 14, at \"Sending filesystem now...\" 40.0%".
 */
void	 client_restore_outcome(json_t *, const char *, char *, size_t);

/* qualify.c: what linkq qualify adds to a run (cmd-test.c). */
struct qualify_target {
	json_int_t	 attachment;
	char		 port[64];
	char		 cable[80];	/* "" if none */
	char		 last_cable[80]; /* the port's last, "" if none */
};
/*
 * qualify's status from the status test would exit with; no_verdict: a
 * run ended without a verdict (cancelled, an error, not recorded).
 */
int	 qualify_exit(int, int);
/* The device a run would go to: by UDID, else port, else the only one. */
int	 qualify_target(const char *, const char *, struct qualify_target *);
/*
 * The newest run of profile on the target's attachment if it passed at
 * most max_age seconds ago (a new reference), else NULL.
 */
json_t	*qualify_fresh_pass(const struct qualify_target *, const char *,
	    int64_t);
/* After anything but a PASS: the best other pair the history knows. */
void	 qualify_alternative(const struct qualify_target *);
/* ask.c: which cable is in a port, asked on a terminal. */
int	 ask_possible(void);
int	 ask_cable(const char *, const char *, char *, size_t);

/* Microseconds since the epoch as local time, 2026-11-26 14:03:05.123. */
void	 client_time(json_int_t, char *, size_t);
/* Milliseconds as 12.3s, 4m05s or 2h03m. */
void	 client_duration(json_int_t, char *, size_t);

/*
 * The events after an id, of one run if run is not 0, oldest first,
 * page by page (cmd-events.c): cb gets each; -1 from cb stops. *last is
 * the id of the last one seen. 0, or -1 after an error, already printed
 * (*status set for a reply).
 */
typedef int (*client_event_cb)(json_t *, void *);
int	 client_events(json_int_t, json_int_t, client_event_cb, void *,
	    json_int_t *, long *, json_t **);
/* An event but its time: source, kind, ids, errno and detail. */
void	 client_event_text(json_t *, char *, size_t);

int	 cmd_status(int, char **);
int	 cmd_cable(int, char **);
int	 cmd_cables(int, char **);
int	 cmd_test(int, char **);
int	 cmd_qualify(int, char **);
int	 cmd_wiggle(int, char **);
int	 cmd_events(int, char **);
int	 cmd_runs(int, char **);
int	 cmd_show(int, char **);
int	 cmd_pair(int, char **);
int	 cmd_ports(int, char **);
int	 cmd_port(int, char **);
int	 cmd_report(int, char **);
int	 cmd_drawer(int, char **);
int	 cmd_watch(int, char **);
int	 cmd_merge(int, char **);
int	 cmd_bundle(int, char **);

#endif /* LQ_CLIENT_H */
