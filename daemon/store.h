/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The store: linkqd's one read-write SQLite connection (DESIGN.md,
 * Storage). Tables and views are described in schema/.
 *
 * Threads: a store is used by one thread only, the loop thread in linkqd.
 * Workers never touch it; a reader on another thread opens its own
 * connection with STORE_READONLY (WAL lets it read beside the writer).
 *
 * Batching: the first write opens a transaction and later writes join
 * it; store_flush() commits it (linkqd calls it from a timer about every
 * 250 ms) and a batch that reaches STORE_BATCH_MAX rows is committed at
 * once, so one transaction stays bounded. Row ids are valid at once;
 * rows become durable and visible to other connections at the commit.
 * The per-run rollups of probe results are summed in memory and written
 * in the same transaction as the probes they count, so they always agree
 * with the probes table.
 *
 * Errors: store_open() explains a failure in *cause. Every other function
 * returns -1 on failure after logging SQLite's message with log_warnx;
 * a failed write loses only its own row, never the rest of the batch.
 * Writes on a read-only store fail. Ids are positive; 0 passed as an id
 * in a struct below means "none" and is stored as NULL.
 */

#ifndef LQ_STORE_H
#define LQ_STORE_H

#include <stdint.h>

#include <sqlite3.h>

#include "linkq.h"

/* Rows per transaction before a batch is committed without waiting. */
#define STORE_BATCH_MAX		10000

/* PRAGMA application_id of a linkq database: "lnkq". */
#define STORE_APPLICATION_ID	0x6c6e6b71

/* Flags for store_open. */
#define STORE_READONLY		0x1

struct store;

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
 * refused and left untouched. On failure returns NULL and sets *cause
 * to an allocated message for the user, which the caller frees.
 */
struct store	*store_open(const char *, int, char **);
/* Commit what is pending and close; NULL is a no-op. */
void		 store_close(struct store *);
/* Return the schema version (PRAGMA user_version) of an open store. */
int		 store_schema_version(struct store *);
/* Return the newest schema version this build knows. */
int		 store_schema_latest(void);
/* Borrow the connection, for read-only queries on the owning thread. */
sqlite3		*store_handle(struct store *);

/* Commit the open batch, if any. */
int		 store_flush(struct store *);
/* Return the number of rows written in the open batch. */
unsigned int	 store_pending(struct store *);

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
/* Add a probe result to the batch and to its run's rollup. */
int64_t		 store_probe(struct store *, const struct store_probe *);
/*
 * Delete up to max raw probe results (of runs started before before_us)
 * and events (before before_us) in the batch; the runs, their rollups
 * and the attachments stay. Returns the rows deleted, or -1.
 */
int64_t		 store_prune(struct store *, int64_t, int64_t);
/* Add an event to the batch. */
int64_t		 store_event(struct store *, const struct store_event *);

#endif /* LQ_STORE_H */
