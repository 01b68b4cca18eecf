/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * libFuzzer harness: store_open() on a file holding arbitrary bytes must
 * either open it or refuse it with a message, never crash, leak or write
 * to a file it refuses. Each input is tried read-only, then read-write.
 *
 *   make fuzz && build/fuzz/fuzz-store-open -max_total_time=60 corpus/
 *
 * Random bytes rarely make an SQLite header; seed the corpus directory
 * with real databases to reach the schema checks, for instance
 * build/default/bench/lq-gendb -q -r 1 -p 1 corpus/linkq.db and a
 * database of some other program.
 */

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "store.h"
#include "xmalloc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	db_path[64];

static void
write_input(const uint8_t *data, size_t size)
{
	char	side[80];
	int	fd;

	(void)snprintf(side, sizeof(side), "%s-wal", db_path);
	(void)unlink(side);
	(void)snprintf(side, sizeof(side), "%s-shm", db_path);
	(void)unlink(side);
	if ((fd = open(db_path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store	*s;
	char		*cause;
	int		 flags;

	if (db_path[0] == '\0') {
		(void)snprintf(db_path, sizeof(db_path),
		    "/tmp/lq-fuzz-store-%ld.db", (long)getpid());
		log_init(LOG_TO_STDERR, 0, "fuzz-store-open");
	}
	for (flags = STORE_READONLY; flags >= 0; flags -= STORE_READONLY) {
		write_input(data, size);
		s = store_open(db_path, flags, &cause);
		if (s == NULL) {
			if (cause == NULL)
				abort();	/* a refusal must say why */
			free(cause);
			if (size > 0 && !unchanged(data, size))
				abort();	/* a refused file was changed */
			continue;
		}
		if (store_schema_version(s) != store_schema_latest())
			abort();
		store_close(s);
	}
	return (0);
}
