/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The schema of a linkq database (include/lq-schema.h): its identity,
 * read first and without writing, and the migrations.
 *
 * DESIGN
 * Migrations run as SQLite's documented table rebuild asks: foreign
 * keys off (only outside a transaction does that take) and checked
 * before each commit, and the legacy ALTER TABLE rules, under which
 * renaming a rebuilt table leaves the views, triggers and REFERENCES
 * that name it alone.
 */

#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>

#include <sqlite3.h>

#include "lq-schema.h"
#include "store-schema.h"
#include "xmalloc.h"

/* Read one integer from a query such as a PRAGMA. */
static int
schema_query_int(sqlite3 *db, const char *sql, int64_t *value)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return (sqlite3_extended_errcode(db));
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		*value = sqlite3_column_int64(stmt, 0);
		rc = SQLITE_OK;
	}
	(void)sqlite3_finalize(stmt);
	return (rc);
}

int
lq_schema_latest(void)
{
	return (store_migration_count);
}

int
lq_schema_identity(sqlite3 *db, const char *path, int *version,
    char **cause)
{
	int64_t	app_id = 0, user_version = 0, objects = 0;
	int	rc;

	if ((rc = schema_query_int(db, "PRAGMA application_id",
	    &app_id)) != SQLITE_OK ||
	    (rc = schema_query_int(db, "PRAGMA user_version",
	    &user_version)) != SQLITE_OK ||
	    (rc = schema_query_int(db, "SELECT count(*) FROM sqlite_schema",
	    &objects)) != SQLITE_OK) {
		if ((rc & 0xff) == SQLITE_NOTADB ||
		    (rc & 0xff) == SQLITE_CORRUPT)
			xasprintf(cause, "%s is not a linkq database (%s); "
			    "it was left untouched: move it away or choose "
			    "another database path", path,
			    sqlite3_errstr(rc));
		else
			xasprintf(cause, "%s: cannot read the database: %s",
			    path, sqlite3_errmsg(db));
		return (-1);
	}

	if (app_id == 0 && user_version == 0 && objects == 0) {
		*version = 0;
		return (0);
	}
	if (app_id != LQ_SCHEMA_APPLICATION_ID) {
		xasprintf(cause, "%s is an SQLite database of another program "
		    "(application_id 0x%08" PRIx64 ", %" PRId64 " schema "
		    "objects), not a linkq database; it was left untouched: "
		    "choose another database path", path,
		    (uint64_t)app_id, objects);
		return (-1);
	}
	if (user_version > lq_schema_latest()) {
		xasprintf(cause, "%s was written by a newer linkq (schema "
		    "version %" PRId64 ", this one knows up to %d); it was "
		    "left untouched: upgrade linkq to use it", path,
		    user_version, lq_schema_latest());
		return (-1);
	}
	if (user_version < 1) {
		xasprintf(cause, "%s has the linkq application id but no "
		    "schema version; it was left untouched: move it away",
		    path);
		return (-1);
	}
	*version = (int)user_version;
	return (0);
}

/* Apply one migration in its own transaction unless already applied. */
static int
schema_apply(sqlite3 *db, const char *path, const struct store_migration *m,
    char **cause)
{
	char	*errmsg = NULL, *sql;
	int64_t	 current, orphans;

	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		xasprintf(cause, "%s: cannot start migration %s: %s",
		    path, m->name, sqlite3_errmsg(db));
		return (-1);
	}
	/* Another process may have migrated while we waited for the lock. */
	if (schema_query_int(db, "PRAGMA user_version", &current) != SQLITE_OK)
		goto fail;
	if (current >= m->version) {
		if (sqlite3_exec(db, "COMMIT", NULL, NULL, &errmsg) !=
		    SQLITE_OK)
			goto fail;
		return (0);
	}

	if (sqlite3_exec(db, m->sql, NULL, NULL, &errmsg) != SQLITE_OK)
		goto fail;
	/* A rebuilt table must leave no row pointing nowhere. */
	orphans = 0;
	if (schema_query_int(db, "SELECT count(*) FROM "
	    "pragma_foreign_key_check", &orphans) != SQLITE_OK)
		goto fail;
	if (orphans > 0) {
		errmsg = sqlite3_mprintf("%lld rows would refer to rows that "
		    "do not exist", (long long)orphans);
		goto fail;
	}
	xasprintf(&sql, "PRAGMA application_id = %d; "
	    "PRAGMA user_version = %d", LQ_SCHEMA_APPLICATION_ID, m->version);
	if (sqlite3_exec(db, sql, NULL, NULL, &errmsg) != SQLITE_OK) {
		free(sql);
		goto fail;
	}
	free(sql);
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, &errmsg) != SQLITE_OK)
		goto fail;
	return (0);

fail:
	xasprintf(cause, "%s: migration %s failed: %s", path, m->name,
	    errmsg != NULL ? errmsg : sqlite3_errmsg(db));
	sqlite3_free(errmsg);
	(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return (-1);
}

int
lq_schema_migrate(sqlite3 *db, const char *path, int from, char **cause)
{
	int	i, ret = 0;

	if (from >= store_migration_count)
		return (0);
	if (sqlite3_exec(db, "PRAGMA foreign_keys = OFF", NULL, NULL,
	    NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA legacy_alter_table = ON", NULL, NULL,
	    NULL) != SQLITE_OK) {
		xasprintf(cause, "%s: %s", path, sqlite3_errmsg(db));
		return (-1);
	}
	for (i = from; i < store_migration_count && ret == 0; i++)
		ret = schema_apply(db, path, &store_migrations[i], cause);
	if (sqlite3_exec(db, "PRAGMA legacy_alter_table = OFF", NULL, NULL,
	    NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL,
	    NULL) != SQLITE_OK) {
		if (ret == 0)
			xasprintf(cause, "%s: %s", path, sqlite3_errmsg(db));
		return (-1);
	}
	return (ret);
}
