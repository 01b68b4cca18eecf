/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * A .tar.gz written without a shell: POSIX ustar members, gzip through
 * zlib, into a temporary file beside the target that is renamed over it
 * only when whole, so a failure leaves nothing half-written. Without
 * force an existing target is refused, also when one appears while the
 * archive is written (renameat2 RENAME_NOREPLACE).
 *
 * One struct bundle_tar per archive, one thread. Errors: -1 (or NULL)
 * with *cause allocated, in words for the user; after one, call
 * bundle_tar_abort.
 */

#ifndef LQ_BUNDLE_TAR_H
#define LQ_BUNDLE_TAR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct bundle_tar;

/* Start the archive for path; members dated mtime (epoch seconds). */
struct bundle_tar *bundle_tar_open(const char *, int, int64_t, char **);
/* A directory member (name without a trailing slash). */
int	 bundle_tar_dir(struct bundle_tar *, const char *, char **);
/* A file member of len bytes at data. */
int	 bundle_tar_add(struct bundle_tar *, const char *, const void *,
	    size_t, char **);
/* A file member with the contents of f, read from its start. */
int	 bundle_tar_add_stream(struct bundle_tar *, const char *, FILE *,
	    char **);
/* End the archive and put it in place; frees t either way. */
int	 bundle_tar_close(struct bundle_tar *, char **);
/* Remove the temporary file and free t. */
void	 bundle_tar_abort(struct bundle_tar *);

#endif /* LQ_BUNDLE_TAR_H */
