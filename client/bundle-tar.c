/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The .tar.gz of linkq bundle (contract in bundle-tar.h). ustar as
 * POSIX.1-1988 defines it: a 512-byte header per member, the data
 * padded to 512 bytes, two zero blocks at the end. Names here are
 * short (the bundle's own), so the 100-byte name field is enough.
 */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "compat/compat.h"
#include "bundle-tar.h"
#include "xmalloc.h"

#define TAR_BLOCK	512

struct bundle_tar {
	char		*path;		/* the target */
	char		*tmp;		/* the file written */
	int		 fd;		/* tmp's, kept for fsync */
	gzFile		 gz;
	int		 force;
	int64_t		 mtime;
};

static int printflike(2, 3)
tar_fail(char **cause, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	(void)xvasprintf(cause, fmt, ap);
	va_end(ap);
	return (-1);
}

/* v in octal, zero-filled, in a field of width bytes with its NUL. */
static void
tar_octal(unsigned char *field, size_t width, unsigned long long v)
{
	char	tmp[32];

	(void)snprintf(tmp, sizeof(tmp), "%0*llo", (int)(width - 1), v);
	memcpy(field, tmp + strlen(tmp) - (width - 1), width - 1);
	field[width - 1] = '\0';
}

/* The gzip stream's error, in zlib's words or errno's. */
static int
tar_gz_fail(struct bundle_tar *t, char **cause)
{
	int		 zerr;
	const char	*msg = gzerror(t->gz, &zerr);

	return (tar_fail(cause, "cannot write %s: %s", t->tmp,
	    zerr == Z_ERRNO ? strerror(errno) : msg));
}

struct bundle_tar *
bundle_tar_open(const char *path, int force, int64_t mtime, char **cause)
{
	struct bundle_tar	*t;
	char			*copy, *dir;
	mode_t			 mask;
	int			 gzfd;

	if (!force && access(path, F_OK) == 0) {
		(void)tar_fail(cause, "%s exists: --force replaces it", path);
		return (NULL);
	}
	copy = xstrdup(path);
	dir = dirname(copy);
	t = xcalloc(1, sizeof(*t));
	t->path = xstrdup(path);
	(void)xasprintf(&t->tmp, "%s/.linkq-bundle.XXXXXX", dir);
	free(copy);
	t->force = force;
	t->mtime = mtime;
	if ((t->fd = mkstemp(t->tmp)) == -1) {
		(void)xasprintf(cause, "cannot write in the directory of %s: "
		    "%s", path, strerror(errno));
		free(t->tmp);
		t->tmp = NULL;
		bundle_tar_abort(t);
		return (NULL);
	}
	/* As any file the user makes: mkstemp gives 0600. */
	mask = umask(0);
	(void)umask(mask);
	(void)fchmod(t->fd, 0666 & ~mask);
	if ((gzfd = dup(t->fd)) == -1 ||
	    (t->gz = gzdopen(gzfd, "wb6")) == NULL) {
		(void)tar_fail(cause, "cannot write %s: %s", t->tmp,
		    strerror(errno ? errno : ENOMEM));
		if (gzfd != -1)
			(void)close(gzfd);
		bundle_tar_abort(t);
		return (NULL);
	}
	return (t);
}

/* Write len bytes, or fail. */
static int
tar_write(struct bundle_tar *t, const void *data, size_t len, char **cause)
{
	const char	*p = data;
	unsigned int	 n;

	while (len > 0) {
		n = len > (1U << 30) ? (1U << 30) : (unsigned int)len;
		if (gzwrite(t->gz, p, n) != (int)n)
			return (tar_gz_fail(t, cause));
		p += n;
		len -= n;
	}
	return (0);
}

/* Zeros up to the next block after len bytes of data. */
static int
tar_pad(struct bundle_tar *t, uint64_t len, char **cause)
{
	static const char	zero[TAR_BLOCK];
	size_t			n = (size_t)(len % TAR_BLOCK);

	return (n == 0 ? 0 : tar_write(t, zero, TAR_BLOCK - n, cause));
}

/* A ustar header; type '0' a file, '5' a directory. */
static int
tar_header(struct bundle_tar *t, const char *name, uint64_t size,
    char type, char **cause)
{
	unsigned char	h[TAR_BLOCK];
	unsigned int	sum = 0;
	size_t		i;

	if (strlen(name) >= 100)
		return (tar_fail(cause, "member name too long: %s", name));
	if (size > 077777777777ULL)
		return (tar_fail(cause, "member %s too large for ustar",
		    name));
	memset(h, 0, sizeof(h));
	memcpy(h, name, strlen(name));
	tar_octal(h + 100, 8, type == '5' ? 0755 : 0644);
	tar_octal(h + 108, 8, 0);
	tar_octal(h + 116, 8, 0);
	tar_octal(h + 124, 12, size);
	tar_octal(h + 136, 12, (unsigned long long)(t->mtime > 0 ?
	    t->mtime : 0));
	memset(h + 148, ' ', 8);
	h[156] = (unsigned char)type;
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memcpy(h + 265, "linkq", 5);
	memcpy(h + 297, "linkq", 5);
	for (i = 0; i < sizeof(h); i++)
		sum += h[i];
	tar_octal(h + 148, 7, sum);
	h[155] = ' ';
	return (tar_write(t, h, sizeof(h), cause));
}

int
bundle_tar_dir(struct bundle_tar *t, const char *name, char **cause)
{
	char	*dir;
	int	 ret;

	(void)xasprintf(&dir, "%s/", name);
	ret = tar_header(t, dir, 0, '5', cause);
	free(dir);
	return (ret);
}

int
bundle_tar_add(struct bundle_tar *t, const char *name, const void *data,
    size_t len, char **cause)
{
	if (tar_header(t, name, len, '0', cause) == -1 ||
	    tar_write(t, data, len, cause) == -1)
		return (-1);
	return (tar_pad(t, len, cause));
}

int
bundle_tar_add_stream(struct bundle_tar *t, const char *name, FILE *f,
    char **cause)
{
	char		 buf[65536];
	struct stat	 sb;
	uint64_t	 left;
	size_t		 n;

	if (fflush(f) == EOF || fstat(fileno(f), &sb) == -1 ||
	    fseeko(f, 0, SEEK_SET) == -1)
		return (tar_fail(cause, "%s: %s", name, strerror(errno)));
	left = (uint64_t)sb.st_size;
	if (tar_header(t, name, left, '0', cause) == -1)
		return (-1);
	while (left > 0) {
		n = fread(buf, 1, left < sizeof(buf) ? (size_t)left :
		    sizeof(buf), f);
		if (n == 0)
			return (tar_fail(cause, "%s: %s", name, ferror(f) ?
			    strerror(errno) : "shorter than it was"));
		if (tar_write(t, buf, n, cause) == -1)
			return (-1);
		left -= n;
	}
	return (tar_pad(t, (uint64_t)sb.st_size, cause));
}

/* Put tmp at path: never over a file unless force. */
static int
tar_place(struct bundle_tar *t, char **cause)
{
	if (t->force) {
		if (rename(t->tmp, t->path) == -1)
			return (tar_fail(cause, "cannot rename to %s: %s",
			    t->path, strerror(errno)));
		return (0);
	}
	if (renameat2(AT_FDCWD, t->tmp, AT_FDCWD, t->path,
	    RENAME_NOREPLACE) == 0)
		return (0);
	/* A file system without the flag: link(2) refuses as well. */
	if ((errno == EINVAL || errno == ENOSYS) &&
	    link(t->tmp, t->path) == 0) {
		(void)unlink(t->tmp);
		return (0);
	}
	if (errno == EEXIST)
		return (tar_fail(cause, "%s exists (it appeared while the "
		    "bundle was written): --force replaces it", t->path));
	return (tar_fail(cause, "cannot rename to %s: %s", t->path,
	    strerror(errno)));
}

int
bundle_tar_close(struct bundle_tar *t, char **cause)
{
	static const char	zero[2 * TAR_BLOCK];
	int			zret;

	if (tar_write(t, zero, sizeof(zero), cause) == -1)
		goto fail;
	zret = gzclose(t->gz);
	t->gz = NULL;
	if (zret != Z_OK) {
		(void)tar_fail(cause, "cannot write %s: %s", t->tmp,
		    zret == Z_ERRNO ? strerror(errno) : zError(zret));
		goto fail;
	}
	if (fsync(t->fd) == -1 || close(t->fd) == -1) {
		t->fd = -1;
		(void)tar_fail(cause, "cannot write %s: %s", t->tmp,
		    strerror(errno));
		goto fail;
	}
	t->fd = -1;
	if (tar_place(t, cause) == -1)
		goto fail;
	free(t->tmp);
	t->tmp = NULL;
	bundle_tar_abort(t);
	return (0);
fail:
	bundle_tar_abort(t);
	return (-1);
}

void
bundle_tar_abort(struct bundle_tar *t)
{
	if (t == NULL)
		return;
	if (t->gz != NULL)
		(void)gzclose(t->gz);
	if (t->fd != -1)
		(void)close(t->fd);
	if (t->tmp != NULL)
		(void)unlink(t->tmp);
	free(t->tmp);
	free(t->path);
	free(t);
}
