/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The report and blame engine (DESIGN.md, Verdict; issue 5): one row
 * per cable, port, (cable, port) pair or device with its pooled
 * evidence and verdict, and blame across the cable x port results.
 *
 * It lives in common/ so that linkqd's /v1/report and `linkq report
 * --db FILE` compute the same answer from the same database, and so
 * that both print it through the same formatters: the client turns the
 * daemon's JSON back into a struct lq_report (lq_report_from_json) and
 * prints that, byte for byte what --db prints.
 *
 * The report reads the summaries the store keeps per cable, port,
 * device and period (schema/0009-report-summaries.sql), the runs of a
 * partial first period, and never the raw probes table, which is too
 * large to scan in the report's budget (100 ms over 100k runs and 10M
 * probes). Percentiles are across runs, exact: of each run's bulk
 * throughput and of each run's mean lockdown-query latency, which the
 * summaries keep run by run.
 */

#ifndef LQ_REPORT_H
#define LQ_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>
#include <sqlite3.h>

#include "lq-verdict.h"

enum lq_report_by {
	LQ_REPORT_PAIR,
	LQ_REPORT_CABLE,
	LQ_REPORT_PORT,
	LQ_REPORT_DEVICE
};

struct lq_report_row {
	/* The group's key; NULL where the grouping does not use it. */
	char		*cable;		/* label; PAIR and CABLE */
	char		*port;		/* sysfs path; PAIR and PORT */
	char		*port_label;	/* NULL: none */
	char		*host;		/* the port's host name */
	char		*udid;		/* DEVICE */
	char		*device;	/* the device's name; NULL: unknown */

	uint64_t	 runs, passed, marginal, failed;
	uint64_t	 probes, failures, timeouts;
	uint64_t	 stalls;	/* round trips far beyond their usual
					 * time (latency-outlier events) */
	double		 cp_upper;	/* one-sided 95% Clopper-Pearson
					 * bound of failures / probes */
	uint64_t	 dropouts, resets, link_errors, corruptions;
	uint64_t	 host_faults;	/* host controller failures and
					 * over-currents: the host side */
	/* Across runs; NAN when no run measured it. */
	double		 bulk_p50, bulk_p5;	/* MB/s (10^6 bytes) */
	double		 lat_p50, lat_p99;	/* ms, of per-run means */
	uint64_t	 lat_trips;	/* lockdown-query round trips in them */
	int		 speed_mbps;	/* best negotiated; 0 unknown */
	int64_t		 last_us;	/* newest run's start */
	/* The exposure of the runs that ended with a verdict. */
	int64_t		 load_us;	/* time under load */
	uint64_t	 bytes;		/* moved, both ways */
	uint64_t	 round_trips;	/* probes but bulk */

	int		 rank_soft;	/* within its verdict: 0 best, more
					 * for each soft signal that puts it
					 * below (lq_report_rank) */
	enum lq_verdict	 verdict;	/* FAIL: a run failed or the pooled
					 * hard events; else from the runs'
					 * verdicts; NONE: no run had one */
	char		**reasons;
	int		 nreasons;
};

enum lq_blame_state {
	LQ_BLAME_GOOD,
	LQ_BLAME_BAD,
	LQ_BLAME_UNKNOWN
};

/* A cable, port or device and what the results say of it. */
struct lq_blame_item {
	char			*name;
	enum lq_blame_state	 state;
	char			*evidence;	/* a sentence */
};

/* The next test to run: cable on port; why says what it decides. */
struct lq_blame_test {
	char		*cable;
	char		*port;
	char		*why;
};

struct lq_blame {
	struct lq_blame_item	*cables, *ports, *devices;
	size_t			 ncables, nports, ndevices;
	struct lq_blame_test	*tests;
	size_t			 ntests;
};

/*
 * One result of a device with a cable on a port, the blame engine's
 * input: the verdict of the pooled evidence of its runs.
 */
struct lq_blame_cell {
	const char	*cable;
	const char	*port;
	const char	*device;
	enum lq_verdict	 verdict;
	uint64_t	 host_faults;	/* a failure the host side caused
					 * (hc-failure, over-current): the
					 * port is bad, the cable is not
					 * judged by it */
	const char	*finding;	/* the first reason of a FAIL, for
					 * the blame line; NULL none */
};

/*
 * A restore watched by linkq watch (runs of kind restore-watch): its
 * outcome, where it stopped, the link events on its port, and the
 * verdict of the newest qualification run of the same cable and port
 * before it, which tells in time whether a PASS predicts a restore.
 */
struct lq_restore_row {
	int64_t		 run;
	char		*cable;		/* NULL: none said */
	char		*port;
	char		*udid;
	char		*outcome;	/* "ok", "failed" */
	int		 exit_status;	/* -1: a signal */
	int		 exit_signal;	/* 0: none */
	double		 percent;	/* NAN: none printed */
	char		*step;		/* NULL: none printed */
	int64_t		 link_events;
	int64_t		 started_us;
	char		*qualification;	/* "PASS"...; NULL: none before */
};

/* What the restores blame: "device" or "link", or "next" (a test). */
struct lq_restore_blame {
	char		*target;
	char		*name;		/* the device, or "CABLE on PORT" */
	char		*evidence;	/* a sentence */
};

struct lq_report {
	enum lq_report_by	 by;
	int64_t			 since_us;	/* 0: all history */
	int			 hosts;		/* hosts with ports in the
						 * database; above 1 (benches
						 * merged), the text names
						 * each port with its host,
						 * and blame and restores
						 * name them "1-1 on bench-2"
						 * (LQ_REPORT_PORT_SQL) */
	struct lq_report_row	*rows;		/* best first */
	size_t			 nrows;
	struct lq_blame		 blame;
	struct lq_restore_row	*restores;	/* oldest first */
	size_t			 nrestores;
	struct lq_restore_blame	*rblame;
	size_t			 nrblame;
};

/*
 * The name of the host of alias h in a report: its hostname, and the
 * start of its machine id where another host has the same hostname.
 */
#define LQ_REPORT_HOST_SQL \
	"CASE WHEN (SELECT count(*) FROM hosts h2 " \
	"WHERE h2.hostname = h.hostname) > 1 THEN h.hostname || ' (' || " \
	"substr(h.machine_id, 1, 8) || ')' ELSE h.hostname END"
/*
 * A port of alias p on host h as blame and restores name it: its path,
 * and " on HOST" where the database has ports of several hosts (the
 * statement binds that as a boolean, ?N).
 */
#define LQ_REPORT_PORT_SQL(n) \
	"CASE WHEN ?" #n " THEN p.path || ' on ' || " LQ_REPORT_HOST_SQL \
	" ELSE p.path END"

/*
 * Restores (common/report-restore.c): load the ended restore-watch
 * runs started at or after since into rep and blame from them, with
 * rep's blame of cables and ports (0, or -1 with *cause); to and from
 * the report's JSON ("restores", "blame"."restores"); print them.
 */
int	lq_restore_load(sqlite3 *, int64_t, struct lq_report *, char **);
void	lq_restore_blame_build(struct lq_report *);
void	lq_restore_to_json(const struct lq_report *, json_t *);
void	lq_restore_from_json(json_t *, struct lq_report *);
void	lq_restore_print(FILE *, const struct lq_report *, size_t);
void	lq_restore_free(struct lq_report *);

/*
 * Build the report of the runs started at or after since_us (0: all)
 * from an open linkq database. 0, or -1 with *cause allocated.
 */
int	lq_report_build(sqlite3 *, enum lq_report_by, int64_t,
	    struct lq_report **, char **);
/*
 * Where a report reads its runs: the summaries schema 0009 keeps where
 * they are current (lq_report_build), or every run, as before them; both
 * give the same report (tests/unit/test-summaries.c holds them equal).
 */
enum lq_report_source {
	LQ_REPORT_FROM_ANY,
	LQ_REPORT_FROM_RUNS
};
int	lq_report_build_from(sqlite3 *, enum lq_report_by, int64_t,
	    enum lq_report_source, struct lq_report **, char **);
void	lq_report_free(struct lq_report *);
/*
 * Within each verdict, hold each row's soft signals against the best row
 * of that verdict: round trips whose p99 is more than twice the best's,
 * stalls, bulk throughput below half the best's. Each sets rank_soft
 * higher and adds a reason that says why ("ranked lower: ...", a note
 * the text report shows under a PASS too). what names the rows: "port",
 * "cable", "pair", "device".
 */
void	lq_report_rank(struct lq_report_row *, size_t, const char *);
/*
 * Sort rows best first: PASS, MARGINAL, FAIL, then rank_soft, then the
 * bound, then probes; rows without a verdict last.
 */
void	lq_report_sort(struct lq_report_row *, size_t);
/* The p-th percentile (0..100) by nearest rank; sorts v; NAN if n = 0. */
double	lq_percentile(double *, size_t, double);

/* Blame from cells; the result's strings are its own. */
void	lq_blame_build(const struct lq_blame_cell *, size_t,
	    struct lq_blame *);
void	lq_blame_clear(struct lq_blame *);

const char *lq_report_by_name(enum lq_report_by);
int	lq_report_by_from_name(const char *);
const char *lq_blame_state_name(enum lq_blame_state);

/* The documented JSON (linkq(1)); the caller owns the reference. */
json_t	*lq_report_to_json(const struct lq_report *);
/* Back from that JSON; 0, or -1 with *cause allocated. */
int	lq_report_from_json(json_t *, struct lq_report **, char **);
/*
 * Print as one line of JSON, as CSV (RFC 4180), or as tables: in
 * colour or not, fitted to a width (0: none, each row a line).
 */
void	lq_report_print_json(FILE *, const struct lq_report *);
void	lq_report_print_csv(FILE *, const struct lq_report *);
void	lq_report_print_text(FILE *, const struct lq_report *, int, size_t);
void	lq_report_print_blame(FILE *, const struct lq_report *, int,
	    size_t);

#endif /* LQ_REPORT_H */
