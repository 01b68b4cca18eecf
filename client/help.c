/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * linkq CMD -h: the vocabularies of the help, each in one table. An
 * option is described once, in help_options, whichever commands take
 * it; where one name means something else to one command, that
 * command's row comes first and wins. The exit statuses likewise, as
 * linkq(1) lists them in EXIT STATUS. The command table in linkq.c
 * says which options and statuses a command has, and its example.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat/compat.h"
#include "client.h"
#include "lq-table.h"
#include "xmalloc.h"

struct help_option {
	const char	*cmd;		/* NULL: every command with it */
	const char	*name;		/* the long option */
	char		 shortopt;	/* 0: none */
	const char	*arg;		/* NULL: takes none */
	const char	*text;
};

static const struct help_option help_options[] = {
	{ "cable", "clear", 0, NULL, "no cable is known to be in PORT" },
	{ "events", "since", 0, "ID", "only the events after event ID" },
	{ NULL, "since", 0, "TIME",
	  "only runs since TIME: a span back (7d, 24h) or a date "
	  "(2026-01-31)" },
	{ "runs", "cable", 0, "LABEL", "only runs with this cable" },
	{ "runs", "port", 0, "PORT", "only runs on this port (its path or "
	  "its label)" },
	{ "runs", "verdict", 0, "V", "only runs with this verdict: pass, "
	  "marginal or fail" },
	{ "runs", "limit", 0, "N", "at most N runs (default 50, at most "
	  "1000)" },
	{ "bundle", "cable", 0, "LABEL", "the runs with this cable" },
	{ "bundle", "port", 0, "PORT", "the runs on this port (its path "
	  "or its label)" },
	{ "bundle", "db", 0, "FILE", "read this database file instead of "
	  "asking linkqd" },
	{ NULL, "output", 'o', "FILE", "write the bundle to FILE "
	  "(a .tar.gz)" },
	{ NULL, "keep-ids", 0, NULL, "keep UDIDs, serial numbers and "
	  "phone names (hashed otherwise)" },
	{ NULL, "force", 0, NULL, "replace FILE if it exists" },
	{ "drawer", "profile", 0, "NAME", "the profile of each test "
	  "(default quick)" },
	{ "qualify", "profile", 0, "NAME", "the profile to run "
	  "(default restore)" },
	{ "wiggle", "profile", 0, "NAME", "the profile to run "
	  "(default wiggle)" },
	{ NULL, "help", 'h', NULL, "show this help and exit" },
	{ NULL, "json", 0, NULL, "print JSON, one document a line, "
	  "with format_version" },
	{ NULL, "udid", 'u', "UDID", "the device with this UDID "
	  "(instead of PORT)" },
	{ NULL, "profile", 0, "NAME", "the profile to run (default quick; "
	  "linkq.conf(5) lists them)" },
	{ NULL, "cable", 0, "LABEL", "the cable in the device's port "
	  "(1 to 64 bytes)" },
	{ NULL, "wait", 0, "SPAN", "wait this long for the phone: 30s, "
	  "5m, 0 or forever (default 1m)" },
	{ NULL, "no-wait", 0, NULL, "do not wait for the phone (--wait 0)" },
	{ NULL, "max-age", 0, "SPAN", "a PASS this recent on the same "
	  "attachment stands: 30m, 2h, 1d" },
	{ NULL, "fixed", 0, NULL, "the cable stays with the port across "
	  "unplugs until cleared" },
	{ NULL, "label", 0, "NAME", "name the port" },
	{ NULL, "clear-label", 0, NULL, "clear the port's name" },
	{ NULL, "follow", 0, NULL, "then print each new event until "
	  "Ctrl-C" },
	{ NULL, "by", 0, "WHAT", "group by pair, cable, port or device "
	  "(default pair)" },
	{ NULL, "csv", 0, NULL, "print CSV" },
	{ "report", "db", 0, "FILE", "read this database file instead of "
	  "asking linkqd; given twice or more, their history together" },
	{ NULL, "html", 0, "FILE", "write the report as one self-contained "
	  "HTML page to FILE" },
	{ NULL, "db", 0, "FILE", "read this database file instead of "
	  "asking linkqd" },
	{ NULL, "into", 0, "FILE", "the database to merge into, made if it "
	  "does not exist" },
	{ NULL, "prefix", 0, "P", "labels are P and a number "
	  "(default D-)" },
	{ NULL, "start", 0, "N", "the first number (default 1)" },
	{ NULL, "count", 0, "N", "end after N new cables" },
	{ NULL, "resume", 0, NULL, "continue the session in --session" },
	{ NULL, "session", 0, "FILE", "keep the session in FILE "
	  "(default ~/.local/state/linkq/drawer.json)" },
};

struct help_exit {
	const char	*cmd;		/* NULL: every command with it */
	char		 status;	/* '0'..'4'; 'c': watch's command;
					 * qualify's bits 'u' 'n' 'v' 'f' 'm' */
	const char	*text;
};

/* The statuses that are not their own digit, as -h prints them. */
static const struct {
	char		 status;
	const char	*value;
} help_exit_values[] = {
	{ 'c', "N" },
	{ 'u', "1" }, { 'n', "2" }, { 'v', "4" }, { 'f', "8" }, { 'm', "16" },
};

/*
 * qualify's rows first: its statuses are bits (client.h), as
 * smartctl(8)'s; 0 is PASS, each other outcome sets its own bit.
 */
static const struct help_exit help_exits[] = {
	{ "qualify", '0', "PASS: no bit set; restore" },
	{ "qualify", 'u', "bit 0: a usage error, an error from linkqd "
	  "or linkqd not running" },
	{ "qualify", 'n', "bit 1: no device: none attached, none with "
	  "that UDID or on that port, or none ready when the wait ran out" },
	{ "qualify", 'v', "bit 2: no verdict: the run was cancelled, "
	  "ended without one, or its verdict is not in the database" },
	{ "qualify", 'f', "bit 3: the verdict is FAIL" },
	{ "qualify", 'm', "bit 4: the verdict is MARGINAL" },
	{ "pair", '0', "the device trusts this host" },
	{ "pair", '1', "the device was not paired (Don't Trust, no answer)" },
	{ "merge", '0', "every database was merged" },
	{ "merge", '2', "a usage error, or a database that could not be "
	  "merged (the others were)" },
	{ "drawer", '0', "a test passed and none failed or was MARGINAL" },
	{ "drawer", '1', "a test of the session failed" },
	{ "drawer", '3', "no cable was tested" },
	{ "drawer", '4', "a test was MARGINAL and none failed" },
	{ "bundle", '0', "the bundle is written, whatever the runs' "
	  "verdicts" },
	{ "watch", 'c', "the restore command's own status (128 + signal "
	  "if killed)" },
	{ NULL, '0', "success; for a run, the verdict is PASS" },
	{ NULL, '1', "the verdict is FAIL" },
	{ NULL, '2', "a usage error, an error from linkqd or linkqd not "
	  "running, or a run ended without a verdict" },
	{ NULL, '3', "no device: none attached, none with that UDID or on "
	  "that port, or none ready when the wait ran out" },
	{ NULL, '4', "the verdict is MARGINAL" },
};

static const struct help_option *
help_option_find(const char *cmd, const char *name)
{
	size_t	i;

	for (i = 0; i < nitems(help_options); i++) {
		if ((help_options[i].cmd == NULL ||
		    strcmp(help_options[i].cmd, cmd) == 0) &&
		    strcmp(help_options[i].name, name) == 0)
			return (&help_options[i]);
	}
	return (NULL);
}

static const struct help_exit *
help_exit_find(const char *cmd, char status)
{
	size_t	i;

	for (i = 0; i < nitems(help_exits); i++) {
		if ((help_exits[i].cmd == NULL ||
		    strcmp(help_exits[i].cmd, cmd) == 0) &&
		    help_exits[i].status == status)
			return (&help_exits[i]);
	}
	return (NULL);
}

/* The option's left column: "-u, --udid UDID", padded to line up. */
static void
help_option_row(struct lq_table *t, const char *cmd, const char *name)
{
	const struct help_option	*o;
	char				 left[64], sh[8] = "    ";

	if ((o = help_option_find(cmd, name)) == NULL)
		return;
	if (o->shortopt != 0)
		(void)snprintf(sh, sizeof(sh), "-%c, ", o->shortopt);
	(void)snprintf(left, sizeof(left), "%s--%s%s%s", sh, o->name,
	    o->arg != NULL ? " " : "", o->arg != NULL ? o->arg : "");
	lq_table_row(t);
	lq_table_cell(t, NULL, "%s", "");
	/* The same column in every command's help. */
	lq_table_cell(t, NULL, "%-23s", left);
	lq_table_cell(t, NULL, "%s", o->text);
}

/* A headerless table: an indent, a left column, a text that wraps. */
static struct lq_table *
help_table(void)
{
	struct lq_table	*t = lq_table_new();

	lq_table_column(t, "", 0);
	lq_table_column(t, "", 0);
	lq_table_column(t, "", LQ_TABLE_FLEX);
	return (t);
}

static void
help_print_options(FILE *f, const struct help_command *c, size_t width)
{
	struct lq_table	*t = help_table();
	const char	*p, *sp;
	char		 name[32];
	size_t		 n;

	help_option_row(t, c->name, "help");
	for (p = c->options; *p != '\0'; p = sp) {
		if ((sp = strchr(p, ' ')) == NULL)
			sp = p + strlen(p);
		n = (size_t)(sp - p);
		if (n > 0 && n < sizeof(name)) {
			memcpy(name, p, n);
			name[n] = '\0';
			help_option_row(t, c->name, name);
		}
		while (*sp == ' ')
			sp++;
	}
	help_option_row(t, c->name, "json");
	lq_table_print(f, t, width);
	lq_table_free(t);
}

/* The status as printed: its digit, or its value (qualify's bits). */
static const char *
help_exit_value(char status, char *buf, size_t size)
{
	size_t	i;

	for (i = 0; i < nitems(help_exit_values); i++) {
		if (help_exit_values[i].status == status)
			return (help_exit_values[i].value);
	}
	(void)snprintf(buf, size, "%c", status);
	return (buf);
}

static void
help_print_exits(FILE *f, const struct help_command *c, size_t width)
{
	struct lq_table		*t = help_table();
	const struct help_exit	*e;
	const char		*p;
	char			 value[8];

	for (p = c->exits; *p != '\0'; p++) {
		if ((e = help_exit_find(c->name, *p)) == NULL)
			continue;
		lq_table_row(t);
		lq_table_cell(t, NULL, "%s", "");
		lq_table_cell(t, NULL, "%-2s", help_exit_value(e->status,
		    value, sizeof(value)));
		lq_table_cell(t, NULL, "%s", e->text);
	}
	lq_table_print(f, t, width);
	lq_table_free(t);
}

/* Fitted to the terminal, whole lines in a pipe, as every table. */
void
help_print(FILE *f, const struct help_command *c)
{
	size_t	 width = lq_term_width(fileno(f));
	char	*line;

	(void)xasprintf(&line, "usage: linkq %s", c->usage);
	lq_text_wrap(f, 0, line, width);
	free(line);
	lq_text_wrap(f, 0, c->summary, width);
	fprintf(f, "\noptions:\n");
	help_print_options(f, c, width);
	fprintf(f, "\nexample:\n");
	lq_text_wrap(f, 2, c->example, width);
	fprintf(f, "\nEXIT STATUS\n");
	help_print_exits(f, c, width);
}
