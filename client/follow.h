/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Following a run to its end (follow.c): the progress stream drawn as
 * it comes, the verdict with its reasons, and the exit status linkq(1)
 * gives each verdict. test, qualify, wiggle and drawer share it.
 */

#ifndef LQ_CLIENT_FOLLOW_H
#define LQ_CLIENT_FOLLOW_H

#include <stddef.h>

#include <jansson.h>

/* What follow_run() returns. */
#define FOLLOW_END		0	/* the stream's last line is in *end */
#define FOLLOW_INTERRUPTED	1	/* SIGINT: the run goes on */
#define FOLLOW_FAILED		-1	/* an error, already printed */

/*
 * Called with each object of the stream but the last; draws it. With
 * --json the stream's lines are printed as they come, before cb.
 */
typedef void (*follow_cb)(json_t *, void *);

/*
 * Follow run id's progress to its end. cb NULL draws the standard line
 * (follow_draw), the end's final numbers last; cb is not called with
 * the end. On FOLLOW_END *end is the "end" object (the caller's).
 */
int	 follow_run(json_int_t, follow_cb, void *, json_t **);

/* The standard line: redrawn in place on a terminal, else one a line. */
struct follow_line {
	int	 tty;
	int	 drawn;		/* a line is on the screen, not ended */
};
void	 follow_draw(json_t *, void *);
/* End the line drawn in place, if any. */
void	 follow_line_end(struct follow_line *);
/*
 * One progress object in words: run, profile, state, percent, probes,
 * failures, eta, elapsed, mean bulk rate, the last second's rate,
 * errors by kind. Cut to width columns (0: no limit), fields are left
 * out whole, the least needed first: the counts stay to the last.
 */
void	 follow_text(json_t *, size_t, char *, size_t);
/* Print buf as the line drawn in place on a terminal, cut to its width. */
void	 follow_redraw(struct follow_line *, const char *);

/*
 * Print the verdict of an end object (or a stored run) and its reasons,
 * wrapped on a terminal; returns the exit status that goes with it.
 */
int	 follow_verdict(json_t *, int);
/* The exit status of a verdict name, LQ_EXIT_USAGE for none. */
int	 follow_exit_status(const char *);
/* A reason on its own line, indented; wrapped at words on a terminal. */
void	 follow_reason(const char *, int);
/* Ask linkqd to cancel run id; says so. */
void	 follow_cancel(json_int_t);
/* The width to fit on standard output (lq_term_width), 80 off a terminal. */
size_t	 follow_term_width(void);

#endif /* LQ_CLIENT_FOLLOW_H */
