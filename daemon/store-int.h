/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The store's insides, shared by store.c (opening, migrations, recovery,
 * reads) and store-write.c (the journal of writes, commits, faults and
 * the commit timer). Nothing else includes this file.
 *
 * Threads: as store.h, the loop thread only.
 */

#ifndef LQ_STORE_INT_H
#define LQ_STORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

struct event;
struct event_base;

enum store_stmt {
	/* Writes: journalled, then replayed inside a commit. */
	STMT_HOST,
	STMT_PORT,
	STMT_PORT_LABEL,
	STMT_CABLE,
	STMT_DEVICE,
	STMT_ATTACH_BEGIN,
	STMT_ATTACH_CABLE,
	STMT_ATTACH_END,
	STMT_RUN_BEGIN,
	STMT_RUN_END,
	STMT_RUN_TRIALS,
	STMT_RUN_WINDOW,
	STMT_WATCH_BEGIN,
	STMT_WATCH_END,
	STMT_PROBE,
	STMT_EVENT,
	STMT_ROLLUP,
	/* Retention: run at once, in a transaction of its own. */
	STMT_PRUNE_PROBES,
	STMT_PRUNE_EVENTS,
	/* Reads. */
	STMT_FIND_HOST,
	STMT_FIND_PORT,
	STMT_FIND_CABLE,
	STMT_FIND_DEVICE,
	STMT_PORTS,
	STMT_PORT_LABEL_GET,
	STMT_ATTACH_PORT,
	STMT_BEST_SPEED,
	STMT_RECOVERED,
	STMT_VERDICT_COUNTS,
	STMT_ATTACH_WHERE,
	STMT_PORT_PATH,
	STMT_COUNT
};

/* The tables whose ids the store hands out (store_next_id). */
enum store_table {
	TBL_HOSTS,
	TBL_PORTS,
	TBL_CABLES,
	TBL_DEVICES,
	TBL_ATTACHMENTS,
	TBL_RUNS,
	TBL_PROBES,
	TBL_EVENTS,
	TBL_COUNT
};

/* The most values one journalled write binds. */
#define STORE_OP_VALS	11

enum store_val_type {
	VAL_NULL,
	VAL_INT,
	VAL_TEXT
};

struct store_val {
	int64_t		 i;
	char		*t;		/* owned */
	unsigned char	 type;		/* enum store_val_type */
};

/* One write in the journal, with its values bound as ?1, ?2... */
struct store_op {
	unsigned char	 which;		/* enum store_stmt */
	unsigned char	 nvals;
	unsigned char	 bad;		/* the database refused it: skip */
	struct store_val v[STORE_OP_VALS];
};

/* Probe totals of one (run, kind) not yet written to run_rollups. */
struct rollup {
	int64_t	run_id;
	int	kind;
	int64_t	probes;
	int64_t	failures;
	int64_t	timeouts;
	int64_t	bytes;
	int64_t	latency_sum_us;
	int64_t	latency_min_us;
	int64_t	latency_max_us;
};

struct store {
	sqlite3		*db;
	char		*path;
	int		 flags;
	sqlite3_stmt	*stmt[STMT_COUNT];
	int64_t		 next_id[TBL_COUNT];

	/*
	 * The journal: writes not yet committed, oldest first. ops[0] is
	 * write number seq_base; every write before it is in the database
	 * (or was refused by it and logged).
	 */
	struct store_op	*ops;
	size_t		 nops;
	size_t		 ops_size;
	uint64_t	 seq_base;
	int		 journal_full_said;

	/* Rollups of the probes replayed in the commit under way. */
	struct rollup	*rollups;
	size_t		 nrollups;
	size_t		 rollups_size;
	size_t		 rollup_last;

	/* Why commits fail, or 0; and since when. */
	int		 fault;
	char		*fault_msg;	/* SQLite's words */
	int64_t		 fault_since_us;
	int		 last_fault;	/* the one before, after recovery */
	int64_t		 recovered_us;
	int64_t		 backoff_us;

	/* The commit timer, once store_attach_loop gave a loop. */
	struct event	*timer;
	int		 timer_armed;
	int64_t		 flush_us;
};

extern const char *const	store_sql[STMT_COUNT];

int	store_exec(struct store *, const char *);
int	store_query_int(struct store *, const char *, int64_t *);
int	store_bind_text(sqlite3_stmt *, int, const char *);
/* Run every pending write; store-write.c. */
void	store_journal_free(struct store *);
/* Seed next_id from the database; store-write.c. */
int	store_ids_load(struct store *, char **);
/* Flush first when the store is healthy, so that a read sees the writes. */
void	store_read_begin(struct store *);
/*
 * Bring the report's summaries up to date with what the transaction
 * under way changed (schema/0009-report-summaries.sql), just before its
 * COMMIT: an SQLite result code, SQLITE_OK on success; store-write.c.
 */
int	store_summaries_refresh(struct store *);

#endif /* LQ_STORE_INT_H */
