/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The store: linkqd's one read-write SQLite connection (DESIGN.md,
 * Storage), and every line of SQL linkqd runs but the reads it shares
 * with the client (common/report.c, common/history.c), which run on
 * store_handle(). Tables and views are described in schema/.
 *
 * Threads: a store is used by one thread only, the loop thread in linkqd.
 * Workers never touch it; a reader on another thread opens its own
 * connection with STORE_READONLY (WAL lets it read beside the writer).
 *
 * Writes go to a journal in memory and return at once, with the row's id
 * where there is one: the store hands ids out itself, from the largest
 * the database ever gave (AUTOINCREMENT), so an id is never given twice
 * even while nothing can be written. A commit replays the journal in one
 * short transaction (at most STORE_BATCH_MAX writes), so the write lock
 * is held only while it runs and other processes get in between. With
 * a loop (store_attach_loop) the store commits by itself one flush
 * interval after a write; without one (tests, tools) store_flush() does.
 * A journal that reaches STORE_BATCH_MAX writes is committed at once.
 * The per-run rollups of probe results are summed from the probes each
 * commit writes, so they always agree with the probes table.
 *
 * Faults: a commit that fails because the disk is full, the database is
 * locked by another process, read-only or unreadable rolls back and
 * keeps the whole journal, and is retried with a growing backoff on the
 * timer, never by sleeping; store_health() says what is wrong and what
 * to do, and when it mended. A write the database refuses for itself
 * (a constraint: a probe of a run that does not exist) is logged and
 * dropped alone; so a row whose parent was refused is never written
 * with a dangling id. store_recorded() says whether a write is in the
 * database, so that nothing is reported as recorded that is not.
 *
 * Errors: store_open() explains a failure in *cause. The writes return
 * -1 only on a read-only store or a full journal (STORE_JOURNAL_MAX);
 * the reads return -1 after logging SQLite's message. Ids are positive;
 * 0 passed as an id in a struct below means "none" and is stored as
 * NULL.
 */

#ifndef LQ_STORE_H
#define LQ_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "linkq.h"
#include "lq-schema.h"

/* Writes per transaction: a longer journal commits in several. */
#define STORE_BATCH_MAX		10000
/* Writes held in memory while nothing can be committed (~300 MB). */
#define STORE_JOURNAL_MAX	1000000

/* PRAGMA application_id of a linkq database: "lnkq". */
#define STORE_APPLICATION_ID	LQ_SCHEMA_APPLICATION_ID

/* Flags for store_open. */
#define STORE_READONLY		0x1

struct event_base;
struct store;

/* What store_health says. */
struct store_health {
	const char	*problem;	/* "database is full", or NULL */
	char		 advice[512];	/* what to do about it */
	const char	*detail;	/* SQLite's words, or NULL */
	size_t		 pending;	/* writes not yet in the database */
	int64_t		 since_us;	/* when the problem began */
	const char	*recovered_from;/* the last problem that ended */
	int64_t		 recovered_us;	/* when; 0: never */
};

struct store_device {
	const char	*udid;
	const char	*usb_serial;	/* NULL: unknown, keeps the old one */
	const char	*name;		/* NULL: unknown, keeps the old one */
	const char	*product_type;	/* NULL: unknown, keeps the old one */
	const char	*ios_version;	/* NULL: unknown, keeps the old one */
	int64_t		 seen_us;
};

struct store_attachment {
	int64_t			 device_id;
	int64_t			 port_id;
	int64_t			 cable_id;	/* 0: no cable assigned */
	int64_t			 previous_id;	/* 0: not a re-attach */
	enum lq_device_mode	 mode;
	int			 speed_mbps;	/* 0: unknown */
	int			 bus;		/* 0: unknown */
	int			 devnum;	/* 0: unknown */
	int64_t			 location_id;	/* 0: unknown */
	int64_t			 started_us;
};

struct store_probe {
	int64_t		 run_id;
	int		 kind;		/* enum lq_probe_kind */
	int64_t		 ts_us;		/* wall clock when it started */
	int64_t		 latency_us;
	int64_t		 bytes;
	int		 status;	/* enum lq_status */
	const char	*detail;	/* NULL: none */
};

struct store_event {
	int64_t		 ts_us;
	const char	*source;	/* lq_event_source_valid() */
	const char	*kind;		/* lq_event_kind_find() */
	int64_t		 host_id;	/* 0: none, likewise below */
	int64_t		 port_id;
	int64_t		 attachment_id;
	int64_t		 run_id;
	int		 errnum;	/* 0: none; kernel style (-71) */
	const char	*detail;	/* NULL: none */
};

/*
 * Open or create the database at path (":memory:" for a private one),
 * check that it is a linkq database and bring its schema up to date.
 * A file that is not a linkq database, or that a newer linkq wrote, is
 * refused and left untouched; so is one that cannot be written to
 * without STORE_READONLY. Opened for writing, runs and attachments that
 * an earlier linkqd left open are closed as interrupted. On failure
 * returns NULL and sets *cause to an allocated message for the user,
 * which the caller frees.
 */
struct store	*store_open(const char *, int, char **);
/* Commit the store's writes on base's timer, every interval us. */
void		 store_attach_loop(struct store *, struct event_base *,
		    int64_t);
/* Change the commit interval. */
void		 store_set_interval(struct store *, int64_t);
/* Commit what is pending and close; NULL is a no-op. */
void		 store_close(struct store *);
/* Return the schema version (PRAGMA user_version) of an open store. */
int		 store_schema_version(struct store *);
/* Return the newest schema version this build knows. */
int		 store_schema_latest(void);
/*
 * Borrow the connection, for read-only queries on the owning thread;
 * call store_flush first to see the journal's rows.
 */
sqlite3		*store_handle(struct store *);

/* Commit the whole journal now; -1 if it stays (store_health says why). */
int		 store_flush(struct store *);
/* Return the number of writes not yet committed. */
unsigned int	 store_pending(struct store *);
/* The number the next write gets; writes are numbered from 0. */
uint64_t	 store_seq(struct store *);
/* Whether every write numbered below seq is in the database. */
int		 store_recorded(struct store *, uint64_t);
/* Whether commits are failing now. */
int		 store_failing(struct store *);
/* What is wrong, what to do, and what mended last. */
void		 store_health(struct store *, struct store_health *);

/* Find or add the host with this machine id; returns its id. */
int64_t		 store_host(struct store *, const char *, const char *);
/* Find or add a port by (host id, path); hub depth -1 means unknown. */
int64_t		 store_port(struct store *, int64_t, const char *, int);
/* Set or, with NULL, clear a port's label. */
int		 store_port_label(struct store *, int64_t, const char *);
/* Find or add the cable with this label; returns its id. */
int64_t		 store_cable(struct store *, const char *);
/* Find or add a device by UDID, updating what is known of it. */
int64_t		 store_device(struct store *, const struct store_device *);

/* Record the start of an attachment; returns its id. */
int64_t		 store_attachment_begin(struct store *,
		    const struct store_attachment *);
/*
 * Say which cable (0: none) an attachment is through, and whether that
 * rests on a fixed declaration for its port.
 */
int		 store_attachment_cable(struct store *, int64_t, int64_t, int);
/* Record the end of an attachment and why (end_reason in the schema). */
int		 store_attachment_end(struct store *, int64_t, int64_t,
		    const char *);

/* Record the start of a run of a profile on an attachment. */
int64_t		 store_run_begin(struct store *, int64_t, const char *,
		    int64_t);
/*
 * Record the end of a run: its state, verdict (NULL: none), reasons as
 * a JSON array (NULL: none) and the time.
 */
int		 store_run_end(struct store *, int64_t, const char *,
		    const char *, const char *, int64_t);

/* How a restore-watch run ended (linkq watch); -1: unknown. */
struct store_watch_end {
	const char	*state;		/* "done", "interrupted" */
	const char	*outcome;	/* "ok", "failed", NULL: none */
	int		 exit_status;	/* -1: none (a signal, no end) */
	int		 exit_signal;	/* 0: none */
	int		 percent_tenths; /* 0..1000, -1: none printed */
	const char	*step;		/* NULL: none printed */
	const char	*command;	/* NULL: keep the one at the start */
	int64_t		 link_events;
	int64_t		 ended_us;
};

/* Record the start of a restore-watch run (command: NULL if unknown). */
int64_t		 store_watch_begin(struct store *, int64_t, int64_t,
		    const char *);
int		 store_watch_end(struct store *, int64_t,
		    const struct store_watch_end *);

/*
 * Record the trials of a run's sequential test (its probes and the
 * chunks of its bulk probes), which the rollups do not count.
 */
int		 store_run_trials(struct store *, int64_t, int64_t);
/*
 * Record the verdict (NULL: none) and reasons (a JSON array) of one
 * window, from its start to its end, of a run that lasts forever.
 */
int		 store_run_window(struct store *, int64_t, int64_t, int64_t,
		    const char *, const char *);
/* Add a probe result; its run's rollup counts it at the commit. */
int64_t		 store_probe(struct store *, const struct store_probe *);
/*
 * Delete up to max raw probe results (of runs started before before_us)
 * and events (before before_us) at once, in a transaction of their own;
 * the runs, their rollups and the attachments stay. Returns the rows
 * deleted, or -1 (also while commits fail).
 */
int64_t		 store_prune(struct store *, int64_t, int64_t);
/* Add an event. */
int64_t		 store_event(struct store *, const struct store_event *);

/* A run closed as interrupted at the open (store_recovered_each). */
struct store_run_row {
	int64_t		 id;
	const char	*profile;
	int64_t		 attachment_id;
	int64_t		 started_us;
	int64_t		 ended_us;
	int64_t		 probes;
	int64_t		 failures;
	const char	*udid;
};

/*
 * Reads. They see every write committed, and commit the journal first
 * while the store is healthy.
 */

/* Call fn with each port (path, label or NULL) of a host, by path. */
int		 store_ports_each(struct store *, int64_t,
		    void (*)(const char *, const char *, void *), void *);
/* Copy a port's label into buf: 1, or 0 if it has none. */
int		 store_port_label_get(struct store *, int64_t, char *, size_t);
/*
 * If the attachment is at bus and device number, set its port's id and
 * copy its path: 1, else 0.
 */
int		 store_attachment_port(struct store *, int64_t, int, int,
		    int64_t *, char *, size_t);
/*
 * The best speed a device negotiated on any port, with that port's path:
 * 1, or 0 if none is known.
 */
int		 store_device_best_speed(struct store *, int64_t, int *,
		    char *, size_t);
/*
 * Call fn with each run an earlier linkqd left open, which this open
 * closed as interrupted, oldest first; the strings last for the call.
 */
int		 store_recovered_each(struct store *,
		    void (*)(const struct store_run_row *, void *), void *);
/*
 * Call fn with each (port path, cable label or "", verdict or "", runs)
 * of the ended qualification runs on a host's ports: a scan of the runs
 * table, for once at the start (metrics.h).
 */
int		 store_verdict_counts_each(struct store *, int64_t,
		    void (*)(const char *, const char *, const char *, int64_t,
		    void *), void *);
/*
 * Copy the port path and the cable label ("" if none) of an attachment:
 * 1, or 0 if it is not in the database.
 */
int		 store_attachment_where(struct store *, int64_t, char *, size_t,
		    char *, size_t);
/* Copy the path of a port: 1, or 0 if it is not in the database. */
int		 store_port_path(struct store *, int64_t, char *, size_t);

#endif /* LQ_STORE_H */
