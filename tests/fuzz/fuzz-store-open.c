/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * libFuzzer harness: store_open() on a file holding arbitrary bytes must
 * either open it or refuse it with a message, never crash, leak or write
 * to a file it refuses (but an empty SQLite database, adopted as a new
 * one, and one of an older linkq schema, migrated before it can be
 * refused). Each input is tried read-only, then read-write.
 *
 *   make fuzz, or build/fuzz/fuzz-store-open build/fuzz/corpus/store-open \
 *       tests/fuzz/corpus/store-open
 *
 * Random bytes rarely make an SQLite header, so the seeds are real
 * databases that reach the schema checks: linkq-gendb, made by
 * build/default/bench/lq-gendb -q -r 1 -p 1 and then VACUUMed to
 * 512-byte pages (32 KiB), and foreign, a database of some other
 * program.
 */

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "log.h"
#include "store.h"
#include "xmalloc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	db_path[64];

/* The database and its side files, at exit. */
static void
cleanup(void)
{
	char	side[80];

	(void)unlink(db_path);
	(void)snprintf(side, sizeof(side), "%s-wal", db_path);
	(void)unlink(side);
	(void)snprintf(side, sizeof(side), "%s-shm", db_path);
	(void)unlink(side);
}

static void
write_input(const uint8_t *data, size_t size)
{
	char	side[80];
	int	fd;

	(void)snprintf(side, sizeof(side), "%s-wal", db_path);
	(void)unlink(side);
	(void)snprintf(side, sizeof(side), "%s-shm", db_path);
	(void)unlink(side);
	(void)unlink(db_path);
	if ((fd = open(db_path, O_WRONLY | O_CREAT | O_EXCL, 0600)) == -1)
		fatal("open %s", db_path);
	if (write(fd, data, size) != (ssize_t)size)
		fatal("write %s", db_path);
	(void)close(fd);
}

/* Return whether the file still holds exactly data. */
static int
unchanged(const uint8_t *data, size_t size)
{
	uint8_t	*buf;
	ssize_t	 n;
	int	 fd, same;

	if ((fd = open(db_path, O_RDONLY)) == -1)
		fatal("open %s", db_path);
	buf = xmalloc(size + 1);
	n = read(fd, buf, size + 1);
	(void)close(fd);
	same = n == (ssize_t)size && memcmp(buf, data, size) == 0;
	free(buf);
	return (same);
}

/* A big-endian 32-bit field of the SQLite header. */
static uint32_t
header_u32(const uint8_t *data, size_t off)
{
	return ((uint32_t)data[off] << 24 | (uint32_t)data[off + 1] << 16 |
	    (uint32_t)data[off + 2] << 8 | data[off + 3]);
}

/*
 * Whether the header says a linkq database of an older schema: opened
 * read-write it is migrated, which writes, before statements that do
 * not prepare can refuse it.
 */
static int
older_linkq(const uint8_t *data, size_t size)
{
	uint32_t	version;

	if (size < 100 || header_u32(data, 68) != STORE_APPLICATION_ID)
		return (0);
	version = header_u32(data, 60);
	return (version < (uint32_t)store_schema_latest());
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store	*s;
	char		*cause;
	int		 flags, adopted = 0;

	if (db_path[0] == '\0') {
		fuzz_scratch_path(db_path, sizeof(db_path), "store", ".db");
		log_init(LOG_TO_STDERR, 0, "fuzz-store-open");
		(void)atexit(cleanup);
	}
	for (flags = STORE_READONLY; flags >= 0; flags -= STORE_READONLY) {
		write_input(data, size);
		s = store_open(db_path, flags, &cause);
		if (s == NULL) {
			if (cause == NULL)
				abort();	/* a refusal must say why */
			/*
			 * An empty SQLite database (no objects, no ids) is
			 * adopted read-write as a new one, which writes.
			 */
			if (flags == STORE_READONLY &&
			    strstr(cause, " is empty, ") != NULL)
				adopted = 1;
			free(cause);
			if (size > 0 && !unchanged(data, size) && !adopted &&
			    !older_linkq(data, size))
				abort();	/* a refused file was changed */
			continue;
		}
		if (store_schema_version(s) != store_schema_latest())
			abort();
		store_close(s);
	}
	return (0);
}
