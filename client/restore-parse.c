/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * idevicerestore's output, read tolerantly (restore-parse.h). What it
 * prints, from its sources (src/common.c print_progress_bar, src/
 * restore.c, src/idevicerestore.c, release 1.0.0 to 2026):
 *
 *  - a progress bar, redrawn after a carriage return:
 *    "\r[=====      ] 45.0%" (1.0.0, as Debian 12 ships it, to 2023), or
 *    "\rLabel [=====      ]  45.0% " (later versions, with a label);
 *  - the steps: "About to send filesystem...", "Sending filesystem
 *    now...", "Waiting for device to enter restore mode...", and the
 *    restore operations as "Verifying restore (14)" (text, then the
 *    operation's number in parentheses);
 *  - errors as "ERROR: ..." lines, mostly on stderr.
 *
 * So a line ends at \n or \r; a line with "[", "]" and then a number
 * and "%" is progress (a label before "[" is a step too); a line
 * ending with "..." or with "(N)" is a step, and a new step clears the
 * percentage, which belongs to its step; "ERROR:" starts an error.
 * Everything else is skipped. Escape sequences and other control bytes
 * are dropped; a line too long is cut.
 */

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "compat/compat.h"
#include "restore-parse.h"

void
restore_parse_init(struct restore_parse *p)
{
	memset(p, 0, sizeof(*p));
	p->percent_tenths = -1;
}

/* Copy s[0..len) to dst, spaces at both ends trimmed. */
static void
restore_trim_copy(char *dst, size_t size, const char *s, size_t len)
{
	while (len > 0 && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	if (len >= size)
		len = size - 1;
	memcpy(dst, s, len);
	dst[len] = '\0';
}

/* A new step: the percentage so far was the old one's. */
static void
restore_step(struct restore_parse *p, const char *s, size_t len)
{
	char	step[RESTORE_STEP_MAX];

	restore_trim_copy(step, sizeof(step), s, len);
	if (step[0] == '\0')
		return;
	if (strcmp(step, p->step) != 0)
		p->percent_tenths = -1;
	(void)strlcpy(p->step, step, sizeof(p->step));
}

/*
 * "[...] 45.0%": 1 with the percentage in tenths, and where "[" is;
 * 0 if the line is no progress bar.
 */
static int
restore_bar(const char *s, int *tenths, const char **open)
{
	const char	*lb, *rb, *num;
	char		*end;
	double		 v;

	if ((lb = strchr(s, '[')) == NULL || (rb = strchr(lb, ']')) == NULL)
		return (0);
	num = rb + 1;
	while (*num == ' ')
		num++;
	if (!isdigit((unsigned char)*num))
		return (0);
	v = strtod(num, &end);
	if (end == num || *end != '%' || v < 0 || v > 100)
		return (0);
	*tenths = (int)(v * 10 + 0.5);
	*open = lb;
	return (1);
}

/* Whether s (trimmed, len > 0) ends with "(N)": a restore operation. */
static const char *
restore_operation(const char *s, size_t len)
{
	size_t	i;

	if (len < 4 || s[len - 1] != ')')
		return (NULL);
	for (i = len - 2; i > 0 && isdigit((unsigned char)s[i]); i--)
		;
	if (i == len - 2 || s[i] != '(')
		return (NULL);
	return (s + i);
}

void
restore_parse_line(struct restore_parse *p, const char *line)
{
	char		 t[RESTORE_LINE_MAX];
	const char	*open, *op;
	size_t		 len;
	int		 tenths;

	restore_trim_copy(t, sizeof(t), line, strlen(line));
	if ((len = strlen(t)) == 0)
		return;
	p->lines++;
	if (strncmp(t, "ERROR:", 6) == 0 || strncmp(t, "Error:", 6) == 0) {
		restore_trim_copy(p->error, sizeof(p->error), t + 6, len - 6);
		return;
	}
	if (restore_bar(t, &tenths, &open)) {
		if (open > t)
			restore_step(p, t, (size_t)(open - t));
		p->percent_tenths = tenths;
		return;
	}
	if ((op = restore_operation(t, len)) != NULL) {
		restore_step(p, t, (size_t)(op - t));
		return;
	}
	if (len > 3 && strcmp(t + len - 3, "...") == 0)
		restore_step(p, t, len);
}

/* Byte c of stream s: a line ends at \r or \n. */
static void
restore_parse_byte(struct restore_parse *p, int s, unsigned char c)
{
	if (c == '\n' || c == '\r') {
		p->line[s][p->len[s]] = '\0';
		restore_parse_line(p, p->line[s]);
		p->len[s] = 0;
		return;
	}
	/* ESC [ ... letter: a terminal's colour or cursor, not text. */
	if (p->esc[s] == 1) {
		p->esc[s] = c == '[' ? 2 : 0;
		return;
	}
	if (p->esc[s] == 2) {
		if (c >= 0x40 && c <= 0x7e)
			p->esc[s] = 0;
		return;
	}
	if (c == 0x1b) {
		p->esc[s] = 1;
		return;
	}
	if (c < 0x20 || c == 0x7f)
		return;
	if (p->len[s] < RESTORE_LINE_MAX - 1)
		p->line[s][p->len[s]++] = (char)c;
}

void
restore_parse_feed(struct restore_parse *p, int stream, const char *buf,
    size_t len)
{
	size_t	i;

	if (stream < 0 || stream >= RESTORE_STREAMS)
		return;
	for (i = 0; i < len; i++)
		restore_parse_byte(p, stream, (unsigned char)buf[i]);
}

void
restore_parse_end(struct restore_parse *p)
{
	int	s;

	for (s = 0; s < RESTORE_STREAMS; s++) {
		if (p->len[s] == 0)
			continue;
		p->line[s][p->len[s]] = '\0';
		restore_parse_line(p, p->line[s]);
		p->len[s] = 0;
	}
}
