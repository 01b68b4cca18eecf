/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * linkq drawer (cmd-drawer.c): one phone, many cables, guided. The
 * session (drawer-session.c) is what a drawer remembers between
 * invocations, in a small JSON file, so that --resume continues it and
 * its summary needs no run linkqd may have forgotten. The swap
 * (drawer-swap.c) tells a cable fault from a port fault after a FAIL;
 * drawer-summary.c shows the verdicts and the summary.
 * Single-threaded; the session owns everything in it.
 */

#ifndef LQ_CLIENT_DRAWER_H
#define LQ_CLIENT_DRAWER_H

#include <stddef.h>

#include <jansson.h>

#include "linkq.h"

#define DRAWER_PORTS_MAX	16
#define DRAWER_PORT_LEN		64
#define DRAWER_REASON_LEN	256
#define DRAWER_STEPS_MAX	4
#define DRAWER_TEXT_LEN		512

/* One cable tested on one port: a row of the summary. */
struct drawer_result {
	char		 label[LQ_LABEL_MAX + 1];
	char		 port[DRAWER_PORT_LEN];
	json_int_t	 run;
	char		 verdict[16];	/* PASS, MARGINAL, FAIL or "-" */
	char		 reason[DRAWER_REASON_LEN];	/* the first */
	double		 mb_s;		/* bulk median; < 0 unknown */
	int		 swap;		/* a step of a swap, not a new cable */
};

/* A step still to do: a cable named by the swap, into a port. */
struct drawer_step {
	char		 label[LQ_LABEL_MAX + 1];
	char		 port[DRAWER_PORT_LEN];
};

/* After cable failed on port: cable on other, good on port. */
struct drawer_swap {
	int		 active;
	char		 cable[LQ_LABEL_MAX + 1];
	char		 port[DRAWER_PORT_LEN];
	char		 other[DRAWER_PORT_LEN];
	char		 good[LQ_LABEL_MAX + 1];	/* "" if none known */
};

/* What a swap or the blame engine concluded after a FAIL. */
struct drawer_finding {
	char		 cable[LQ_LABEL_MAX + 1];
	char		 port[DRAWER_PORT_LEN];
	char		 fault[8];	/* "cable", "port" or "" unsure */
	char		 text[DRAWER_TEXT_LEN];
};

struct drawer_session {
	char			 path[1024];
	char			 prefix[LQ_LABEL_MAX + 1];
	int			 next;		/* the next number */
	char			 profile[64];
	char			 ports[DRAWER_PORTS_MAX][DRAWER_PORT_LEN];
	size_t			 nports;
	struct drawer_result	*results;
	size_t			 nresults;
	struct drawer_step	 steps[DRAWER_STEPS_MAX];
	size_t			 nsteps;
	struct drawer_swap	 swap;
	struct drawer_finding	*findings;
	size_t			 nfindings;
	int			 finished;	/* its summary was shown */
};

/* drawer-session.c */
/* The default session file: $XDG_STATE_HOME/linkq/drawer.json. */
int	 drawer_session_default(char *, size_t);
/*
 * Load the session at s->path into s: 1 loaded, 0 no file, -1 a file
 * that cannot be read (said on stderr).
 */
int	 drawer_session_load(struct drawer_session *);
/* Write s atomically (a temporary file renamed over); -1 said. */
int	 drawer_session_save(const struct drawer_session *);
/* Append a zeroed result or finding; returns it. */
struct drawer_result *drawer_session_add(struct drawer_session *);
struct drawer_finding *drawer_session_finding(struct drawer_session *);
void	 drawer_session_free(struct drawer_session *);
/* One result as JSON, for the file and --json. */
json_t	*drawer_result_json(const struct drawer_result *);

/* drawer-swap.c */
/*
 * After r, a FAIL of a new cable with two ports or more: what the blame
 * engine says of its cable and port, said; a swap planned into s->steps
 * when the evidence does not settle it. -1 on an API error (said).
 */
int	 drawer_swap_plan(struct drawer_session *,
	    const struct drawer_result *);
/* Once the swap's steps are done: what they showed, said; swap ends. */
void	 drawer_swap_outcome(struct drawer_session *);
/* Whether a FAIL was found to be its port's fault, not its cable's. */
int	 drawer_swap_cleared(const struct drawer_session *,
	    const struct drawer_result *);
/* Print one line of --json output: type and the members of o. */
void	 drawer_json_line(const char *, json_t *);

/* drawer-summary.c */
/* The verdict of r with the reasons of the run's end object. */
void	 drawer_show_verdict(const struct drawer_result *, json_t *);
/* The exit status of the session, as linkq(1) documents it. */
int	 drawer_status(const struct drawer_session *);
/* The summary that ends a session, with its status (in --json). */
void	 drawer_summary(const struct drawer_session *, int);

#endif /* LQ_CLIENT_DRAWER_H */
