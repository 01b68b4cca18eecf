/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The schema of a linkq database (schema/NNNN-name.sql, embedded at
 * build time into store-schema.c): what a file is, read without writing
 * to it, and the migrations that bring it to the latest version. One
 * code path for linkqd's store (daemon/store.c) and for linkq merge,
 * which makes a database, or upgrades a temporary copy of an old one,
 * with the same migrations.
 *
 * Threads: none of its own; the caller owns the connection. Errors: -1
 * with *cause, an allocated sentence that names the file (path), says
 * what is wrong and what to do; the caller frees it.
 */

#ifndef LQ_SCHEMA_H
#define LQ_SCHEMA_H

#include <sqlite3.h>

/* PRAGMA application_id of a linkq database: "lnkq". */
#define LQ_SCHEMA_APPLICATION_ID	0x6c6e6b71

/* The newest schema version this build knows. */
int	lq_schema_latest(void);
/*
 * Whether the file open on db holds a linkq database of a version this
 * build knows (*version, 1 to lq_schema_latest()) or an empty one
 * (*version 0); never writes. Another program's database, a newer
 * linkq's and a damaged one are refused.
 */
int	lq_schema_identity(sqlite3 *, const char *, int *, char **);
/*
 * Apply the migrations after version from, each in its own IMMEDIATE
 * transaction that re-reads user_version (two processes opening one new
 * file never apply one twice), with foreign keys checked before each
 * commit. db must not be in a transaction.
 */
int	lq_schema_migrate(sqlite3 *, const char *, int, char **);

#endif /* LQ_SCHEMA_H */
