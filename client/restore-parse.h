/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Reading idevicerestore's output (linkq watch): the last progress
 * percentage, the last step and the last error it printed, from the
 * bytes of its stdout and stderr as they come. Tolerant: a line it does
 * not know is skipped, never an error. The rules are in linkq(1),
 * WATCH, and restore-parse.c.
 *
 * Threads: any; a parser is used by one thread at a time.
 * Ownership: the caller owns the struct; it holds no pointers.
 */

#ifndef LQ_RESTORE_PARSE_H
#define LQ_RESTORE_PARSE_H

#include <stddef.h>

#define RESTORE_LINE_MAX	512
#define RESTORE_STEP_MAX	128
#define RESTORE_STREAMS		2	/* stdout, stderr */

struct restore_parse {
	char		 line[RESTORE_STREAMS][RESTORE_LINE_MAX];
	size_t		 len[RESTORE_STREAMS];
	int		 esc[RESTORE_STREAMS];	/* 1 after ESC, 2 in CSI */
	int		 percent_tenths;	/* -1: none since the step */
	char		 step[RESTORE_STEP_MAX];	/* "": none yet */
	char		 error[RESTORE_STEP_MAX];	/* "": none */
	unsigned int	 lines;		/* lines read, for tests */
};

void	restore_parse_init(struct restore_parse *);
/* Feed len bytes of stream (0 stdout, 1 stderr). */
void	restore_parse_feed(struct restore_parse *, int, const char *, size_t);
/* The command ended: read what is left of each stream's last line. */
void	restore_parse_end(struct restore_parse *);
/* Read one whole line, without its \r or \n (tests, and the above). */
void	restore_parse_line(struct restore_parse *, const char *);

#endif /* LQ_RESTORE_PARSE_H */
