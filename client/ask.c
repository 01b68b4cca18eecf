/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Asking the technician on a terminal which cable is in a port (issue
 * 13, attribution): after a replug the cable is unconfirmed, and a run
 * is charged to a cable only when somebody said which it is. On a
 * terminal that should cost one key: the last label seen on the port is
 * offered, Enter takes it. Off a terminal nothing is asked; --cable says
 * it, or the run is charged to no cable.
 */

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "compat/compat.h"
#include "client.h"
#include "linkq.h"

/* Whether to ask: both ends a terminal, and not --json. */
int
ask_possible(void)
{
	return (!opt_json && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO));
}

/*
 * Ask which cable is in port, offering last ("" for none). 1 with the
 * label in buf, or 0 if the answer is none (an empty line without an
 * offer, "-", or end of input). A label that breaks the rules is asked
 * again, saying why.
 */
int
ask_cable(const char *port, const char *last, char *buf, size_t len)
{
	const char	*why;
	size_t		 n;

	for (;;) {
		if (last[0] != '\0')
			printf("Which cable is in %s? Enter for %s, - for "
			    "none: ", port, last);
		else
			printf("Which cable is in %s? Its label, or Enter for "
			    "none: ", port);
		(void)fflush(stdout);
		if (fgets(buf, (int)len, stdin) == NULL) {
			printf("\n");
			return (0);
		}
		n = strcspn(buf, "\r\n");
		buf[n] = '\0';
		if (n == 0 && last[0] != '\0') {
			(void)strlcpy(buf, last, len);
			return (1);
		}
		if (n == 0 || strcmp(buf, "-") == 0)
			return (0);
		if ((why = lq_label_invalid(buf)) == NULL)
			return (1);
		printf("%s; try again\n", why);
	}
}
