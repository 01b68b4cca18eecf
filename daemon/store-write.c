/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The store's writes (contract in store.h): the journal, the commits
 * that replay it, the faults that stop them and the timer that retries.
 *
 * DESIGN
 * A write is an entry in the journal: its statement and its values,
 * copied. Nothing is written to SQLite until a commit, which replays the
 * oldest entries in one BEGIN IMMEDIATE ... COMMIT and drops them only
 * once the COMMIT succeeded; so the write lock is held for the replay
 * alone, and a commit that fails for any reason of the disk or of
 * another process (full, locked, read-only, I/O) rolls back and leaves
 * the journal whole for the next try. Ids do not come from SQLite at
 * the insert but from next_id, seeded at the open from the largest id
 * each table has (or ever had: sqlite_sequence), so the id a write
 * returns is the one its row gets whenever it lands, and no id is given
 * twice. A find-or-add (host, port, cable, device) must answer with the
 * id of an existing row, so it runs at once while commits succeed; when
 * they fail it looks in the journal and the database, and only then
 * hands out a new id.
 *
 * Probe results are the bulk of the writes. Their rollups are summed in
 * an array of (run, kind) entries, from the probes a commit replays, and
 * written by one upsert per entry just before its COMMIT. A commit holds
 * probes from a few dozen runs at most, so a linear search that starts
 * at the last entry used is enough.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <sqlite3.h>

#include "compat/compat.h"
#include "linkq.h"
#include "log.h"
#include "lq-status.h"
#include "lq-time.h"
#include "store-int.h"
#include "store.h"
#include "xmalloc.h"

/* The backoff of the retries after a failed commit. */
#define STORE_RETRY_MIN_US	(250 * LQ_USEC_PER_MSEC)
#define STORE_RETRY_MAX_US	(8 * LQ_USEC_PER_SEC)

/* Indexed by enum store_table. */
static const char *const store_table_names[TBL_COUNT] = {
	[TBL_HOSTS] = "hosts",
	[TBL_PORTS] = "ports",
	[TBL_CABLES] = "cables",
	[TBL_DEVICES] = "devices",
	[TBL_ATTACHMENTS] = "attachments",
	[TBL_RUNS] = "runs",
	[TBL_PROBES] = "probes",
	[TBL_EVENTS] = "events",
};

/*
 * What a failed commit means and what to do, by SQLite's primary result
 * code; "%s" is the database's path. Other codes are the database's
 * refusal of one write (a constraint), which no retry mends.
 */
static const struct store_fault_word {
	int		 code;
	const char	*problem;
	const char	*advice;
} store_fault_words[] = {
	{ SQLITE_FULL, "database is full",
	    "free space on the file system holding %s; linkqd keeps the "
	    "results in memory and writes them when it can" },
	{ SQLITE_BUSY, "database locked by another process",
	    "end the other program's transaction on %s (a sqlite3 shell "
	    "left in BEGIN?); linkqd keeps the results in memory and "
	    "retries" },
	{ SQLITE_LOCKED, "database locked by another process",
	    "end the other program's transaction on %s; linkqd keeps the "
	    "results in memory and retries" },
	{ SQLITE_READONLY, "database is read-only",
	    "make %s and its directory writable again (file mode, mount, "
	    "chattr); linkqd keeps the results in memory and retries" },
	{ SQLITE_IOERR, "I/O error on the database",
	    "check the disk holding %s and the kernel log; linkqd keeps "
	    "the results in memory and retries" },
	{ SQLITE_CANTOPEN, "cannot open the database's files",
	    "check that %s and its directory (its -wal and -shm files) are "
	    "there and writable; linkqd keeps the results in memory and "
	    "retries" },
	{ SQLITE_NOMEM, "out of memory in SQLite",
	    "free memory on this machine; linkqd keeps the results and "
	    "retries" },
	{ SQLITE_PROTOCOL, "database locking failed",
	    "check what else uses %s; linkqd keeps the results in memory "
	    "and retries" },
	{ SQLITE_CORRUPT, "database is corrupt",
	    "stop linkqd, save %s and check it with sqlite3's PRAGMA "
	    "integrity_check; linkqd keeps the results in memory" },
	{ SQLITE_NOTADB, "database is corrupt",
	    "stop linkqd, save %s and check it with sqlite3's PRAGMA "
	    "integrity_check; linkqd keeps the results in memory" },
};

static void	store_arm(struct store *, int64_t);
static int	store_commit(struct store *, size_t);

/* The words for a transient failure, or NULL: the write was refused. */
static const struct store_fault_word *
store_fault_word(int rc)
{
	size_t	i;

	for (i = 0; i < nitems(store_fault_words); i++) {
		if (store_fault_words[i].code == (rc & 0xff))
			return (&store_fault_words[i]);
	}
	return (NULL);
}

/* Seed next_id: above the largest id each table has or ever had. */
int
store_ids_load(struct store *s, char **cause)
{
	char	*sql;
	int64_t	 max;
	int	 i, rc;

	for (i = 0; i < TBL_COUNT; i++) {
		xasprintf(&sql, "SELECT max(coalesce((SELECT max(id) FROM %s), "
		    "0), coalesce((SELECT seq FROM sqlite_sequence WHERE "
		    "name = '%s'), 0))", store_table_names[i],
		    store_table_names[i]);
		max = 0;
		rc = store_query_int(s, sql, &max);
		free(sql);
		if (rc != SQLITE_OK) {
			xasprintf(cause, "%s: reading the largest id of %s: %s",
			    s->path, store_table_names[i],
			    sqlite3_errmsg(s->db));
			return (-1);
		}
		s->next_id[i] = max + 1;
	}
	return (0);
}

/* Hand out the next id of a table. */
static int64_t
store_next_id(struct store *s, enum store_table t)
{
	return (s->next_id[t]++);
}

/* An id SQLite gave (a find-or-add that ran at once) is taken. */
static void
store_id_taken(struct store *s, enum store_table t, int64_t id)
{
	if (id >= s->next_id[t])
		s->next_id[t] = id + 1;
}

/* Free one entry's copies. */
static void
store_op_clear(struct store_op *op)
{
	int	i;

	for (i = 0; i < op->nvals; i++)
		free(op->v[i].t);
}

/* Drop the first n entries of the journal: they are in the database. */
static void
store_journal_drop(struct store *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		store_op_clear(&s->ops[i]);
	if (n < s->nops)
		memmove(s->ops, s->ops + n, (s->nops - n) * sizeof(*s->ops));
	s->nops -= n;
	s->seq_base += n;
	s->journal_full_said = 0;
}

/* Free the journal (the store is closing). */
void
store_journal_free(struct store *s)
{
	store_journal_drop(s, s->nops);
	free(s->ops);
	s->ops = NULL;
	s->ops_size = 0;
	if (s->timer != NULL)
		event_free(s->timer);
	s->timer = NULL;
	free(s->fault_msg);
	s->fault_msg = NULL;
}

/* A new entry in the journal, or NULL (read-only, full). */
static struct store_op *
store_op_new(struct store *s, enum store_stmt which)
{
	struct store_op	*op;

	if (s->flags & STORE_READONLY) {
		log_warnx("store: %s: read-only, cannot run \"%s\"",
		    s->path, store_sql[which]);
		return (NULL);
	}
	/* A full batch goes at once, timer or not, while commits work. */
	if (s->fault == 0 && s->nops >= STORE_BATCH_MAX)
		(void)store_commit(s, s->nops);
	if (s->nops >= STORE_JOURNAL_MAX) {
		if (!s->journal_full_said)
			log_warnx("store: %s: %zu writes wait in memory, the "
			    "most linkqd keeps; dropping new ones until the "
			    "database takes them", s->path, s->nops);
		s->journal_full_said = 1;
		return (NULL);
	}
	if (s->nops == s->ops_size) {
		s->ops_size = s->ops_size * 2 + 64;
		s->ops = xreallocarray(s->ops, s->ops_size, sizeof(*s->ops));
	}
	op = &s->ops[s->nops++];
	memset(op, 0, sizeof(*op));
	op->which = which;
	store_arm(s, s->fault ? s->backoff_us : s->flush_us);
	return (op);
}

/* Set value col (from 1) of op. */
static struct store_val *
store_op_val(struct store_op *op, int col)
{
	if (col < 1 || col > STORE_OP_VALS)
		fatalx("%s: column %d", __func__, col);
	if (col > op->nvals)
		op->nvals = col;
	return (&op->v[col - 1]);
}

static void
op_int(struct store_op *op, int col, int64_t value)
{
	struct store_val	*v = store_op_val(op, col);

	v->type = VAL_INT;
	v->i = value;
}

/* An id or count, NULL where 0 means "none". */
static void
op_id(struct store_op *op, int col, int64_t value)
{
	struct store_val	*v = store_op_val(op, col);

	v->type = value == 0 ? VAL_NULL : VAL_INT;
	v->i = value;
}

static void
op_text(struct store_op *op, int col, const char *value)
{
	struct store_val	*v = store_op_val(op, col);

	v->type = value == NULL ? VAL_NULL : VAL_TEXT;
	v->t = value == NULL ? NULL : xstrdup(value);
}

/* Bind op's values to its statement. */
static int
store_op_bind(struct store *s, const struct store_op *op)
{
	sqlite3_stmt	*st = s->stmt[op->which];
	int		 i, rc = SQLITE_OK;

	for (i = 0; i < op->nvals && rc == SQLITE_OK; i++) {
		switch (op->v[i].type) {
		case VAL_INT:
			rc = sqlite3_bind_int64(st, i + 1, op->v[i].i);
			break;
		case VAL_TEXT:
			rc = store_bind_text(st, i + 1, op->v[i].t);
			break;
		default:
			rc = sqlite3_bind_null(st, i + 1);
			break;
		}
	}
	return (rc);
}

/*
 * Run a bound statement to completion; *id receives the id RETURNING
 * gave, if any. Returns SQLite's code: SQLITE_DONE on success. Resets.
 */
static int
store_step(struct store *s, enum store_stmt which, int64_t *id)
{
	sqlite3_stmt	*st = s->stmt[which];
	int		 rc;

	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (id != NULL)
			*id = sqlite3_column_int64(st, 0);
		rc = sqlite3_step(st);
	}
	if (rc != SQLITE_DONE && s->fault_msg == NULL)
		s->fault_msg = xstrdup(sqlite3_errmsg(s->db));
	(void)sqlite3_reset(st);
	(void)sqlite3_clear_bindings(st);
	return (rc);
}

/* Add one probe result to the pending rollup of its run and kind. */
static void
store_rollup_add(struct store *s, int64_t run_id, int kind,
    int64_t latency_us, int64_t bytes, int status)
{
	struct rollup	*r = NULL;
	size_t		 i, n = s->nrollups;

	for (i = 0; i < n; i++) {
		r = &s->rollups[(s->rollup_last + i) % n];
		if (r->run_id == run_id && r->kind == kind)
			break;
	}
	if (i < n)
		s->rollup_last = (s->rollup_last + i) % n;
	else {
		if (s->nrollups == s->rollups_size) {
			s->rollups_size = s->rollups_size * 2 + 16;
			s->rollups = xreallocarray(s->rollups,
			    s->rollups_size, sizeof(*s->rollups));
		}
		s->rollup_last = s->nrollups++;
		r = &s->rollups[s->rollup_last];
		memset(r, 0, sizeof(*r));
		r->run_id = run_id;
		r->kind = kind;
		r->latency_min_us = latency_us;
		r->latency_max_us = latency_us;
	}
	r->probes++;
	if (status != LQ_OK)
		r->failures++;
	if (status == LQ_ETIMEDOUT)
		r->timeouts++;
	r->bytes += bytes;
	r->latency_sum_us += latency_us;
	if (latency_us < r->latency_min_us)
		r->latency_min_us = latency_us;
	if (latency_us > r->latency_max_us)
		r->latency_max_us = latency_us;
}

/* Write the rollups of the commit under way: its last step. */
static int
store_write_rollups(struct store *s)
{
	sqlite3_stmt	*st = s->stmt[STMT_ROLLUP];
	struct rollup	*r;
	size_t		 i;
	int		 rc;

	for (i = 0; i < s->nrollups; i++) {
		r = &s->rollups[i];
		if ((rc = sqlite3_bind_int64(st, 1, r->run_id)) != SQLITE_OK ||
		    (rc = sqlite3_bind_int(st, 2, r->kind)) != SQLITE_OK ||
		    (rc = sqlite3_bind_int64(st, 3, r->probes)) != SQLITE_OK ||
		    (rc = sqlite3_bind_int64(st, 4, r->failures)) !=
		    SQLITE_OK ||
		    (rc = sqlite3_bind_int64(st, 5, r->timeouts)) !=
		    SQLITE_OK ||
		    (rc = sqlite3_bind_int64(st, 6, r->bytes)) != SQLITE_OK ||
		    (rc = sqlite3_bind_int64(st, 7, r->latency_sum_us)) !=
		    SQLITE_OK ||
		    (rc = sqlite3_bind_int64(st, 8, r->latency_min_us)) !=
		    SQLITE_OK ||
		    (rc = sqlite3_bind_int64(st, 9, r->latency_max_us)) !=
		    SQLITE_OK ||
		    (rc = store_step(s, STMT_ROLLUP, NULL)) != SQLITE_DONE) {
			(void)sqlite3_reset(st);
			return (rc);
		}
	}
	return (SQLITE_DONE);
}

/*
 * Whether the kernel lets linkqd write the database and its WAL (SQLite
 * does not always keep the errno of a refused write).
 */
static int
store_files_writable(struct store *s)
{
	char	*wal;
	int	 ok;

	xasprintf(&wal, "%s-wal", s->path);
	ok = (access(s->path, W_OK) == 0 || errno == ENOENT) &&
	    (access(wal, W_OK) == 0 || errno == ENOENT);
	free(wal);
	return (ok);
}

/*
 * Commits fail for reason rc: say so once, and retry later. A write the
 * kernel refused for want of permission (chattr +i on the open file, a
 * file system remounted read-only) is an I/O error to SQLite but a
 * read-only database to the user; sys is the errno of the failed call
 * (sqlite3_system_errno, read before a ROLLBACK).
 */
static void
store_fault_set(struct store *s, int rc, int sys)
{
	const struct store_fault_word	*w;

	if ((rc & 0xff) == SQLITE_IOERR && (sys == EPERM || sys == EACCES ||
	    sys == EROFS || !store_files_writable(s)))
		rc = SQLITE_READONLY;
	w = store_fault_word(rc);

	if (s->fault == 0) {
		s->fault_since_us = lq_wall_now_us();
		s->backoff_us = STORE_RETRY_MIN_US;
		log_warnx("store: %s: %s (%s, %s): %zu writes kept in "
		    "memory; retrying", s->path, w != NULL ? w->problem :
		    "cannot commit", s->fault_msg != NULL ? s->fault_msg :
		    sqlite3_errstr(rc), sys != 0 ? strerror(sys) : "no errno",
		    s->nops);
	} else if (s->backoff_us < STORE_RETRY_MAX_US)
		s->backoff_us *= 2;
	s->fault = rc;
	store_arm(s, s->backoff_us);
}

/* A commit went through: whatever was wrong has mended. */
static void
store_fault_clear(struct store *s)
{
	free(s->fault_msg);
	s->fault_msg = NULL;
	if (s->fault == 0)
		return;
	log_warnx("store: %s: writing again after %lld ms; the results kept "
	    "in memory are recorded", s->path,
	    (long long)(lq_wall_now_us() - s->fault_since_us) / 1000);
	s->last_fault = s->fault;
	s->recovered_us = lq_wall_now_us();
	s->fault = 0;
}

/*
 * Replay one entry inside the commit. SQLITE_DONE: written (a probe goes
 * into its rollup); a refusal of the database is logged and the entry
 * marked bad, and the commit goes on; any other code ends the commit.
 */
static int
store_replay(struct store *s, struct store_op *op)
{
	int	rc;

	if ((rc = store_op_bind(s, op)) == SQLITE_OK)
		rc = store_step(s, op->which, NULL);
	else {
		(void)sqlite3_reset(s->stmt[op->which]);
		(void)sqlite3_clear_bindings(s->stmt[op->which]);
	}
	if (rc == SQLITE_DONE) {
		free(s->fault_msg);
		s->fault_msg = NULL;
		if (op->which == STMT_PROBE)
			store_rollup_add(s, op->v[0].i, (int)op->v[1].i,
			    op->v[3].i, op->v[4].i, (int)op->v[5].i);
		else if (op->which != STMT_RUN_WINDOW &&
		    store_sql[op->which][0] == 'U' &&
		    sqlite3_changes(s->db) == 0)
			log_warnx("store: %s: \"%s\": no such row", s->path,
			    store_sql[op->which]);
		return (rc);
	}
	if (store_fault_word(rc) != NULL)
		return (rc);
	log_warnx("store: %s: \"%s\": %s; that write is dropped", s->path,
	    store_sql[op->which], s->fault_msg != NULL ? s->fault_msg :
	    sqlite3_errstr(rc));
	free(s->fault_msg);
	s->fault_msg = NULL;
	op->bad = 1;
	return (SQLITE_DONE);
}

/*
 * The report's summaries follow the runs in the same transaction: the
 * schema's triggers mark what changed, this recomputes it (schema
 * 0009). Nothing marked: one cheap statement.
 */
int
store_summaries_refresh(struct store *s)
{
	return (sqlite3_exec(s->db, "INSERT INTO report_refresh (go) "
	    "VALUES (1)", NULL, NULL, NULL));
}

/* Commit the oldest n entries of the journal in one transaction. */
static int
store_commit(struct store *s, size_t n)
{
	size_t	i;
	int	rc, sys;

	s->nrollups = 0;
	s->rollup_last = 0;
	if ((rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL,
	    NULL)) != SQLITE_OK)
		goto fail;
	for (i = 0; i < n; i++) {
		if (!s->ops[i].bad &&
		    (rc = store_replay(s, &s->ops[i])) != SQLITE_DONE)
			goto fail;
	}
	if ((rc = store_write_rollups(s)) != SQLITE_DONE ||
	    (rc = store_summaries_refresh(s)) != SQLITE_OK ||
	    (rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL)) !=
	    SQLITE_OK)
		goto fail;
	log_trace("store: %s: committed %zu writes", s->path, n);
	store_journal_drop(s, n);
	store_fault_clear(s);
	return (0);

fail:
	sys = sqlite3_system_errno(s->db);
	if (s->fault_msg == NULL)
		s->fault_msg = xstrdup(sqlite3_errmsg(s->db));
	/* Whatever happened, the write lock goes: others must get in. */
	if (!sqlite3_get_autocommit(s->db))
		(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	s->nrollups = 0;
	store_fault_set(s, rc, sys);
	return (-1);
}

/* Commit the whole journal now. */
int
store_flush(struct store *s)
{
	while (s->nops > 0) {
		if (store_commit(s, s->nops < STORE_BATCH_MAX ? s->nops :
		    STORE_BATCH_MAX) == -1)
			return (-1);
	}
	return (0);
}

/* Before a read: commit the journal unless commits fail. */
void
store_read_begin(struct store *s)
{
	if (s->fault == 0 && s->nops > 0)
		(void)store_flush(s);
}

/* The timer: commit a batch; more at once, or retry after the backoff. */
static void
store_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct store	*s = arg;

	(void)fd;
	(void)what;
	s->timer_armed = 0;
	if (s->nops == 0)
		return;
	if (store_commit(s, s->nops < STORE_BATCH_MAX ? s->nops :
	    STORE_BATCH_MAX) == 0 && s->nops > 0)
		store_arm(s, 0);
}

/* Arm the timer, unless it is armed or there is no loop. */
static void
store_arm(struct store *s, int64_t us)
{
	struct timeval	tv;

	if (s->timer == NULL || (s->timer_armed && us > 0))
		return;
	tv.tv_sec = us / LQ_USEC_PER_SEC;
	tv.tv_usec = us % LQ_USEC_PER_SEC;
	if (evtimer_add(s->timer, &tv) == -1)
		log_warnx("store: %s: cannot arm the commit timer", s->path);
	else
		s->timer_armed = 1;
}

/* Commit on base's timer. */
void
store_attach_loop(struct store *s, struct event_base *base, int64_t us)
{
	if ((s->timer = evtimer_new(base, store_timer_cb, s)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	s->flush_us = us;
	if (s->nops > 0)
		store_arm(s, s->flush_us);
}

/* Change the commit interval. */
void
store_set_interval(struct store *s, int64_t us)
{
	s->flush_us = us;
}

/* Return the number of writes not yet committed. */
unsigned int
store_pending(struct store *s)
{
	return ((unsigned int)s->nops);
}

/* The number the next write gets. */
uint64_t
store_seq(struct store *s)
{
	return (s->seq_base + s->nops);
}

/* Whether every write below seq is in the database. */
int
store_recorded(struct store *s, uint64_t seq)
{
	return (seq <= s->seq_base);
}

/* Whether commits fail now. */
int
store_failing(struct store *s)
{
	return (s->fault != 0);
}

/* Write advice into buf with the path where it says %s. */
static void
store_advice(char *buf, size_t size, const char *advice, const char *path)
{
	const char	*at;

	if ((at = strstr(advice, "%s")) == NULL)
		(void)strlcpy(buf, advice, size);
	else
		(void)snprintf(buf, size, "%.*s%s%s", (int)(at - advice),
		    advice, path, at + 2);
}

/* What is wrong and what to do. */
void
store_health(struct store *s, struct store_health *h)
{
	const struct store_fault_word	*w;

	memset(h, 0, sizeof(*h));
	h->pending = s->nops;
	if (s->fault != 0) {
		w = store_fault_word(s->fault);
		h->problem = w != NULL ? w->problem : "cannot write to the "
		    "database";
		store_advice(h->advice, sizeof(h->advice), w != NULL ?
		    w->advice : "see linkqd's log about %s", s->path);
		h->detail = s->fault_msg;
		h->since_us = s->fault_since_us;
	}
	if (s->recovered_us != 0) {
		w = store_fault_word(s->last_fault);
		h->recovered_from = w != NULL ? w->problem : "a database error";
		h->recovered_us = s->recovered_us;
	}
}

/* A find-or-add: its key's values, lookup and table. */
static const struct store_upsert {
	enum store_stmt	 which;
	enum store_stmt	 find;		/* binds the first nkey values */
	enum store_table table;
	int		 nkey;
	int		 idcol;		/* the id's value, from 1 */
} store_upserts[] = {
	{ STMT_HOST, STMT_FIND_HOST, TBL_HOSTS, 1, 4 },
	{ STMT_PORT, STMT_FIND_PORT, TBL_PORTS, 2, 5 },
	{ STMT_CABLE, STMT_FIND_CABLE, TBL_CABLES, 1, 3 },
	{ STMT_DEVICE, STMT_FIND_DEVICE, TBL_DEVICES, 1, 7 },
};

static const struct store_upsert *
store_upsert_of(enum store_stmt which)
{
	size_t	i;

	for (i = 0; i < nitems(store_upserts); i++) {
		if (store_upserts[i].which == which)
			return (&store_upserts[i]);
	}
	fatalx("%s: statement %d", __func__, which);
}

/* Whether two entries of one find-or-add have the same key. */
static int
store_same_key(const struct store_op *a, const struct store_op *b, int nkey)
{
	int	i;

	if (a->which != b->which || a->bad)
		return (0);
	for (i = 0; i < nkey; i++) {
		if (a->v[i].type != b->v[i].type)
			return (0);
		if (a->v[i].type == VAL_INT && a->v[i].i != b->v[i].i)
			return (0);
		if (a->v[i].type == VAL_TEXT &&
		    strcmp(a->v[i].t, b->v[i].t) != 0)
			return (0);
	}
	return (1);
}

/* The id of a key already in the journal or the database, or 0. */
static int64_t
store_upsert_known(struct store *s, const struct store_upsert *u,
    const struct store_op *op)
{
	struct store_op	 find;
	size_t		 i;
	int64_t		 id = 0;

	for (i = s->nops; i > 0; i--) {
		if (store_same_key(&s->ops[i - 1], op, u->nkey))
			return (s->ops[i - 1].v[u->idcol - 1].i);
	}
	find = *op;
	find.which = u->find;
	find.nvals = (unsigned char)u->nkey;
	if (store_op_bind(s, &find) == SQLITE_OK &&
	    sqlite3_step(s->stmt[u->find]) == SQLITE_ROW)
		id = sqlite3_column_int64(s->stmt[u->find], 0);
	(void)sqlite3_reset(s->stmt[u->find]);
	(void)sqlite3_clear_bindings(s->stmt[u->find]);
	return (id);
}

/*
 * Run a find-or-add: at once while commits succeed (the row's id, old or
 * new, comes back); while they fail, into the journal with the id of the
 * same key found in the journal or the database, or a new one. Frees
 * op's copies or hands them to the journal.
 */
static int64_t
store_upsert(struct store *s, struct store_op *op)
{
	const struct store_upsert	*u = store_upsert_of(op->which);
	struct store_op			*j;
	int64_t				 id = -1;
	int				 rc;

	if (s->flags & STORE_READONLY) {
		store_op_clear(op);
		(void)store_op_new(s, op->which);	/* says why */
		return (-1);
	}
	if (s->fault == 0 && store_flush(s) == 0) {
		if ((rc = store_op_bind(s, op)) == SQLITE_OK)
			rc = store_step(s, op->which, &id);
		if (rc == SQLITE_DONE) {
			store_id_taken(s, u->table, id);
			store_op_clear(op);
			return (id);
		}
		(void)sqlite3_reset(s->stmt[op->which]);
		(void)sqlite3_clear_bindings(s->stmt[op->which]);
		if (store_fault_word(rc) == NULL) {
			log_warnx("store: %s: \"%s\": %s", s->path,
			    store_sql[op->which], s->fault_msg != NULL ?
			    s->fault_msg : sqlite3_errstr(rc));
			free(s->fault_msg);
			s->fault_msg = NULL;
			store_op_clear(op);
			return (-1);
		}
		store_fault_set(s, rc, sqlite3_system_errno(s->db));
	}
	if ((id = store_upsert_known(s, u, op)) <= 0)
		id = store_next_id(s, u->table);
	op_int(op, u->idcol, id);
	if ((j = store_op_new(s, op->which)) == NULL) {
		store_op_clear(op);
		return (-1);
	}
	*j = *op;
	return (id);
}

/* Find or add a host. */
int64_t
store_host(struct store *s, const char *machine_id, const char *hostname)
{
	struct store_op	op = { .which = STMT_HOST };

	op_text(&op, 1, machine_id);
	op_text(&op, 2, hostname);
	op_int(&op, 3, lq_wall_now_us());
	op_id(&op, 4, 0);
	return (store_upsert(s, &op));
}

/* Find or add a port. */
int64_t
store_port(struct store *s, int64_t host_id, const char *path, int hub_depth)
{
	struct store_op	op = { .which = STMT_PORT };

	op_int(&op, 1, host_id);
	op_text(&op, 2, path);
	if (hub_depth < 0)
		op_id(&op, 3, 0);
	else
		op_int(&op, 3, hub_depth);
	op_int(&op, 4, lq_wall_now_us());
	op_id(&op, 5, 0);
	return (store_upsert(s, &op));
}

/* Find or add a cable. */
int64_t
store_cable(struct store *s, const char *label)
{
	struct store_op	op = { .which = STMT_CABLE };

	op_text(&op, 1, label);
	op_int(&op, 2, lq_wall_now_us());
	op_id(&op, 3, 0);
	return (store_upsert(s, &op));
}

/* Find or add a device, keeping what is already known. */
int64_t
store_device(struct store *s, const struct store_device *d)
{
	struct store_op	op = { .which = STMT_DEVICE };

	op_text(&op, 1, d->udid);
	op_text(&op, 2, d->usb_serial);
	op_text(&op, 3, d->name);
	op_text(&op, 4, d->product_type);
	op_text(&op, 5, d->ios_version);
	op_int(&op, 6, d->seen_us);
	op_id(&op, 7, 0);
	return (store_upsert(s, &op));
}

/* Set or clear a port's label. */
int
store_port_label(struct store *s, int64_t port_id, const char *label)
{
	struct store_op	*op;

	if ((op = store_op_new(s, STMT_PORT_LABEL)) == NULL)
		return (-1);
	op_int(op, 1, port_id);
	op_text(op, 2, label);
	return (0);
}

/* Record the start of an attachment. */
int64_t
store_attachment_begin(struct store *s, const struct store_attachment *a)
{
	struct store_op	*op;
	int64_t		 id;

	if ((op = store_op_new(s, STMT_ATTACH_BEGIN)) == NULL)
		return (-1);
	id = store_next_id(s, TBL_ATTACHMENTS);
	op_int(op, 1, a->device_id);
	op_int(op, 2, a->port_id);
	op_id(op, 3, a->cable_id);
	op_id(op, 4, a->previous_id);
	op_text(op, 5, lq_device_mode_name(a->mode));
	op_id(op, 6, a->speed_mbps);
	op_id(op, 7, a->bus);
	op_id(op, 8, a->devnum);
	op_id(op, 9, a->location_id);
	op_int(op, 10, a->started_us);
	op_int(op, 11, id);
	return (id);
}

/* Say which cable an attachment is through. */
int
store_attachment_cable(struct store *s, int64_t attachment_id,
    int64_t cable_id, int fixed)
{
	struct store_op	*op;

	if ((op = store_op_new(s, STMT_ATTACH_CABLE)) == NULL)
		return (-1);
	op_int(op, 1, attachment_id);
	op_id(op, 2, cable_id);
	op_int(op, 3, fixed != 0);
	return (0);
}

/* Record the end of an attachment. */
int
store_attachment_end(struct store *s, int64_t attachment_id,
    int64_t ended_us, const char *reason)
{
	struct store_op	*op;

	if ((op = store_op_new(s, STMT_ATTACH_END)) == NULL)
		return (-1);
	op_int(op, 1, attachment_id);
	op_int(op, 2, ended_us);
	op_text(op, 3, reason);
	return (0);
}

/* Record the start of a run. */
int64_t
store_run_begin(struct store *s, int64_t attachment_id, const char *profile,
    int64_t started_us)
{
	struct store_op	*op;
	int64_t		 id;

	if ((op = store_op_new(s, STMT_RUN_BEGIN)) == NULL)
		return (-1);
	id = store_next_id(s, TBL_RUNS);
	op_int(op, 1, attachment_id);
	op_text(op, 2, profile);
	op_int(op, 3, started_us);
	op_int(op, 4, id);
	return (id);
}

/* Record the end of a run. */
int
store_run_end(struct store *s, int64_t run_id, const char *state,
    const char *verdict, const char *reasons, int64_t ended_us)
{
	struct store_op	*op;

	if ((op = store_op_new(s, STMT_RUN_END)) == NULL)
		return (-1);
	op_int(op, 1, run_id);
	op_text(op, 2, state);
	op_text(op, 3, verdict);
	op_text(op, 4, reasons);
	op_int(op, 5, ended_us);
	return (0);
}

/* Record the start of a restore-watch run on an attachment. */
int64_t
store_watch_begin(struct store *s, int64_t attachment_id, int64_t started_us,
    const char *command)
{
	struct store_op	*op;
	int64_t		 id;

	if ((op = store_op_new(s, STMT_WATCH_BEGIN)) == NULL)
		return (-1);
	id = store_next_id(s, TBL_RUNS);
	op_int(op, 1, attachment_id);
	op_int(op, 2, started_us);
	op_int(op, 3, id);
	op_text(op, 4, command);
	return (id);
}

/* Record how a restore-watch run ended. */
int
store_watch_end(struct store *s, int64_t run_id,
    const struct store_watch_end *e)
{
	struct store_op	*op;

	if ((op = store_op_new(s, STMT_WATCH_END)) == NULL)
		return (-1);
	op_int(op, 1, run_id);
	op_text(op, 2, e->state);
	op_text(op, 3, e->outcome);
	if (e->exit_status >= 0)
		op_int(op, 4, e->exit_status);
	op_id(op, 5, e->exit_signal);
	if (e->percent_tenths >= 0)
		op_int(op, 6, e->percent_tenths);
	op_text(op, 7, e->step);
	op_int(op, 8, e->link_events);
	op_int(op, 9, e->ended_us);
	op_text(op, 10, e->command);
	return (0);
}

/* Record the trials of a run's sequential test. */
int
store_run_trials(struct store *s, int64_t run_id, int64_t trials)
{
	struct store_op	*op;

	if ((op = store_op_new(s, STMT_RUN_TRIALS)) == NULL)
		return (-1);
	op_int(op, 1, run_id);
	op_int(op, 2, trials);
	return (0);
}

/* Record the verdict of one window of a run that lasts forever. */
int
store_run_window(struct store *s, int64_t run_id, int64_t started_us,
    int64_t ended_us, const char *verdict, const char *reasons)
{
	struct store_op	*op;

	if ((op = store_op_new(s, STMT_RUN_WINDOW)) == NULL)
		return (-1);
	op_int(op, 1, run_id);
	op_int(op, 2, started_us);
	op_int(op, 3, ended_us);
	op_text(op, 4, verdict);
	op_text(op, 5, reasons);
	return (0);
}

/* Add a probe result; its rollup is summed when it is committed. */
int64_t
store_probe(struct store *s, const struct store_probe *p)
{
	struct store_op	*op;
	int64_t		 id;

	if ((op = store_op_new(s, STMT_PROBE)) == NULL)
		return (-1);
	id = store_next_id(s, TBL_PROBES);
	op_int(op, 1, p->run_id);
	op_int(op, 2, p->kind);
	op_int(op, 3, p->ts_us);
	op_int(op, 4, p->latency_us);
	op_int(op, 5, p->bytes);
	op_int(op, 6, p->status);
	op_text(op, 7, p->detail);
	op_int(op, 8, id);
	return (id);
}

/* Add an event. */
int64_t
store_event(struct store *s, const struct store_event *e)
{
	struct store_op	*op;
	int64_t		 id;

	if ((op = store_op_new(s, STMT_EVENT)) == NULL)
		return (-1);
	id = store_next_id(s, TBL_EVENTS);
	op_int(op, 1, e->ts_us);
	op_text(op, 2, e->source);
	op_text(op, 3, e->kind);
	op_id(op, 4, e->host_id);
	op_id(op, 5, e->port_id);
	op_id(op, 6, e->attachment_id);
	op_id(op, 7, e->run_id);
	op_id(op, 8, e->errnum);
	op_text(op, 9, e->detail);
	op_int(op, 10, id);
	return (id);
}

/*
 * Delete up to max raw probe results and events older than before_us,
 * at once: the journal first, then one short transaction.
 */
int64_t
store_prune(struct store *s, int64_t before_us, int64_t max)
{
	static const enum store_stmt	 which[] = {
		STMT_PRUNE_PROBES, STMT_PRUNE_EVENTS
	};
	sqlite3_stmt			*st;
	int64_t				 n = 0;
	size_t				 i;
	int				 rc, sys;

	if ((s->flags & STORE_READONLY) || s->fault != 0 ||
	    store_flush(s) == -1)
		return (-1);
	if ((rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL,
	    NULL)) != SQLITE_OK)
		goto fail;
	for (i = 0; i < nitems(which) && n < max; i++) {
		st = s->stmt[which[i]];
		if ((rc = sqlite3_bind_int64(st, 1, before_us)) != SQLITE_OK ||
		    (rc = sqlite3_bind_int64(st, 2, max - n)) != SQLITE_OK ||
		    (rc = store_step(s, which[i], NULL)) != SQLITE_DONE)
			goto fail;
		n += sqlite3_changes(s->db);
	}
	if ((rc = store_summaries_refresh(s)) != SQLITE_OK ||
	    (rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL)) !=
	    SQLITE_OK)
		goto fail;
	return (n);

fail:
	sys = sqlite3_system_errno(s->db);
	log_warnx("store: %s: pruning: %s", s->path, sqlite3_errmsg(s->db));
	if (!sqlite3_get_autocommit(s->db))
		(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	for (i = 0; i < nitems(which); i++) {
		(void)sqlite3_reset(s->stmt[which[i]]);
		(void)sqlite3_clear_bindings(s->stmt[which[i]]);
	}
	if (store_fault_word(rc) != NULL)
		store_fault_set(s, rc, sys);
	return (-1);
}
