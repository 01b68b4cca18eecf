/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The schema migrations, compiled from schema/NNNN-name.sql into
 * store-schema.c by scripts/embed-schema at build time. Entry i holds
 * migration number i + 1; applying entries 0..n-1 in order to an empty
 * database yields schema version n (PRAGMA user_version).
 */

#ifndef LQ_STORE_SCHEMA_H
#define LQ_STORE_SCHEMA_H

struct store_migration {
	int		 version;
	const char	*name;	/* "0001-init" */
	const char	*sql;
};

extern const struct store_migration	store_migrations[];
extern const int			store_migration_count;

#endif /* LQ_STORE_SCHEMA_H */
