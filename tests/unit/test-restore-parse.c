/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The reading of idevicerestore's output (client/restore-parse.c), one
 * table row per kind of output: what is fed on which stream, and the
 * percentage, step and error read from it.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "compat/compat.h"
#include "restore-parse.h"

struct parse_case {
	const char	*name;
	const char	*out;		/* fed on stdout */
	const char	*err;		/* then on stderr */
	int		 tenths;	/* -1: none */
	const char	*step;
	const char	*error;
};

static const struct parse_case cases[] = {
	{ "nothing", "", "", -1, "", "" },
	{ "bar of 2023", "\r[=====                   ]  45.0%", "", 450, "",
	  "" },
	{ "bar redrawn, last wins", "\r[==   ]  12.5%\r[===  ]  33.3%"
	  "\r[==== ]  47.1%", "", 471, "", "" },
	{ "bar at 100 with newline", "\r[=====] 100.0%\n", "", 1000, "", "" },
	{ "labelled bar of later versions", "\rSending filesystem [=====   ] "
	  " 62.5% ", "", 625, "Sending filesystem", "" },
	{ "step with dots", "About to send filesystem...\n", "", -1,
	  "About to send filesystem...", "" },
	{ "step clears the percentage", "\r[=====]  80.0%\nSending filesystem "
	  "now...\n", "", -1, "Sending filesystem now...", "" },
	{ "progress of the step", "Sending filesystem now...\n"
	  "\r[==   ]  45.0%", "", 450, "Sending filesystem now...", "" },
	{ "restore operation", "Verifying restore (14)\n\r[=]  3.0%", "", 30,
	  "Verifying restore", "" },
	{ "same step again keeps the percentage", "Verifying restore (14)\n"
	  "\r[=]  3.0%\nVerifying restore (14)\n", "", 30,
	  "Verifying restore", "" },
	{ "error on stderr", "Waiting for device to enter restore mode...\n",
	  "ERROR: Unable to connect to device\n", -1,
	  "Waiting for device to enter restore mode...",
	  "Unable to connect to device" },
	{ "line without an end", "Checking filesystem (15)", "", -1,
	  "Checking filesystem", "" },
	{ "other lines skipped", "Found device in Recovery mode\n"
	  "Identified device as n841ap, iPhone11,8\nECID: 123 (42)x\n", "",
	  -1, "", "" },
	{ "not a bar: no percent", "[info] 45 apples\n", "", -1, "", "" },
	{ "not a bar: over 100", "[==] 145.0%\n", "", -1, "", "" },
	{ "colours dropped", "\033[1;32mSending filesystem now...\033[0m\n",
	  "", -1, "Sending filesystem now...", "" },
	{ "CRLF", "About to send NORData...\r\n", "", -1,
	  "About to send NORData...", "" },
	{ "streams do not mix", "Sending filesys", "ERROR: x\n", -1, "", "x" },
};

static void
feed_all(struct restore_parse *p, const struct parse_case *c)
{
	size_t	i;

	/* A byte at a time: a line may come in any number of reads. */
	for (i = 0; c->out[i] != '\0'; i++)
		restore_parse_feed(p, 0, c->out + i, 1);
	restore_parse_feed(p, 1, c->err, strlen(c->err));
}

static void
test_table(void **state)
{
	struct restore_parse	p;
	size_t			i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		restore_parse_init(&p);
		feed_all(&p, &cases[i]);
		if (strcmp(cases[i].name, "streams do not mix") != 0)
			restore_parse_end(&p);
		if (p.percent_tenths != cases[i].tenths ||
		    strcmp(p.step, cases[i].step) != 0 ||
		    strcmp(p.error, cases[i].error) != 0)
			fail_msg("%s: got %d \"%s\" \"%s\", expected %d "
			    "\"%s\" \"%s\"", cases[i].name, p.percent_tenths,
			    p.step, p.error, cases[i].tenths, cases[i].step,
			    cases[i].error);
	}
}

/* A line longer than the buffer is cut, not overrun. */
static void
test_long_line(void **state)
{
	struct restore_parse	p;
	char			buf[4 * RESTORE_LINE_MAX];

	(void)state;
	restore_parse_init(&p);
	memset(buf, 'x', sizeof(buf));
	restore_parse_feed(&p, 0, buf, sizeof(buf));
	restore_parse_feed(&p, 0, "...\n", 4);
	assert_int_equal(p.lines, 1);
	assert_int_equal(p.percent_tenths, -1);
	restore_parse_feed(&p, 5, "x\n", 2);	/* no such stream */
	assert_int_equal(p.lines, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_long_line),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
