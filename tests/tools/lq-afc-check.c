/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * lq-afc-check: exercise a device's AFC service (com.apple.afc) through
 * libimobiledevice's public API only, as any third-party tool would, so
 * that the integration tests learn whether the real client library is
 * content with linkq-sim's AFC server. It uses no linkq code.
 *
 * "roundtrip" writes a file of pseudo-random bytes in fixed-size chunks,
 * reads it back in the same chunks and checks every byte. The bytes come
 * from a seeded xorshift64* stream that is generated again while
 * reading, so only one chunk is ever held in memory. "listing" makes a
 * directory and creates, lists, stats, renames and removes in it; it
 * refuses a directory that already exists, since it ends by removing it
 * with its contents. "untouched" checks the user content linkq-sim
 * ships (sim/afc.h, afc_fs_populate) and must pass after the others.
 *
 * Each command prints one line per step on stdout. The exit status is 0
 * on success, 1 on any failure (a libimobiledevice error is named with
 * the function, its code and the code's meaning on stderr) and 2 on bad
 * arguments. Throughput is printed, never judged.
 */

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libimobiledevice/afc.h>
#include <libimobiledevice/libimobiledevice.h>
#include <libimobiledevice/lockdown.h>

#include "compat/compat.h"

#define CHECK_NAME		"lq-afc-check"
#define CHECK_DIR		"/linkq-test"
#define CHECK_FILE		"roundtrip.bin"
#define CHECK_SIZE_MIB		64
#define CHECK_SIZE_MAX_MIB	1024
#define CHECK_CHUNK		1048576
#define CHECK_CHUNK_MAX		(64 * 1024 * 1024)	/* sim AFC_MAX_DATA */
#define CHECK_SEED		UINT64_C(0x6c696e6b712d6166)
#define CHECK_PATH_MAX		1024
#define CHECK_LIST_MAX		1024	/* bytes of a printed listing */

/* The user content linkq-sim ships (sim/afc.h). */
#define UNTOUCHED_PATH		"/DCIM/100APPLE/IMG_0001.JPG"
#define UNTOUCHED_SIZE		4096

struct check {
	const char	*udid;
	const char	*dir;
	uint64_t	 size;
	uint32_t	 chunk;
	idevice_t	 dev;
	afc_client_t	 afc;
};

/* A seeded xorshift64* stream, handed out a byte at a time. */
struct stream {
	uint64_t	 state;
	unsigned char	 word[8];
	size_t		 avail;
};

struct errname {
	int		 code;
	const char	*text;
};

static const struct errname afc_errnames[] = {
	{ AFC_E_SUCCESS, "success" },
	{ AFC_E_UNKNOWN_ERROR, "unknown error" },
	{ AFC_E_OP_HEADER_INVALID, "operation header invalid" },
	{ AFC_E_NO_RESOURCES, "no resources" },
	{ AFC_E_READ_ERROR, "read error" },
	{ AFC_E_WRITE_ERROR, "write error" },
	{ AFC_E_UNKNOWN_PACKET_TYPE, "unknown packet type" },
	{ AFC_E_INVALID_ARG, "invalid argument" },
	{ AFC_E_OBJECT_NOT_FOUND, "object not found" },
	{ AFC_E_OBJECT_IS_DIR, "object is a directory" },
	{ AFC_E_PERM_DENIED, "permission denied" },
	{ AFC_E_SERVICE_NOT_CONNECTED, "service not connected" },
	{ AFC_E_OP_TIMEOUT, "operation timed out" },
	{ AFC_E_TOO_MUCH_DATA, "too much data" },
	{ AFC_E_END_OF_DATA, "end of data" },
	{ AFC_E_OP_NOT_SUPPORTED, "operation not supported" },
	{ AFC_E_OBJECT_EXISTS, "object exists" },
	{ AFC_E_OBJECT_BUSY, "object busy" },
	{ AFC_E_NO_SPACE_LEFT, "no space left" },
	{ AFC_E_OP_WOULD_BLOCK, "operation would block" },
	{ AFC_E_IO_ERROR, "I/O error" },
	{ AFC_E_OP_INTERRUPTED, "operation interrupted" },
	{ AFC_E_OP_IN_PROGRESS, "operation in progress" },
	{ AFC_E_INTERNAL_ERROR, "internal error" },
	{ AFC_E_MUX_ERROR, "usbmux error" },
	{ AFC_E_NO_MEM, "out of memory" },
	{ AFC_E_NOT_ENOUGH_DATA, "not enough data" },
	{ AFC_E_DIR_NOT_EMPTY, "directory not empty" },
};

static const struct errname idevice_errnames[] = {
	{ IDEVICE_E_SUCCESS, "success" },
	{ IDEVICE_E_INVALID_ARG, "invalid argument" },
	{ IDEVICE_E_UNKNOWN_ERROR, "unknown error" },
	{ IDEVICE_E_NO_DEVICE, "no device" },
	{ IDEVICE_E_NOT_ENOUGH_DATA, "not enough data" },
	{ IDEVICE_E_SSL_ERROR, "SSL error" },
	{ IDEVICE_E_TIMEOUT, "timeout" },
};

static __dead void usage(void);
static uint64_t	 parse_number(const char *, long long, long long,
		    const char *);
static const char *errname_find(const struct errname *, size_t, int);
static void	 afc_fail(const char *, const char *, afc_error_t);
static void	 check_fail(const char *, ...) printflike(1, 2);
static double	 now_s(void);
static double	 mb_per_s(uint64_t, double);
static void	 stream_init(struct stream *);
static void	 stream_fill(struct stream *, unsigned char *, size_t);
static int	 path_join(char *, size_t, const char *, const char *);
static int	 check_connect(struct check *);
static void	 check_disconnect(struct check *);
static int	 file_info(struct check *, const char *, uint64_t *,
		    char *, size_t);
static int	 file_put(struct check *, const char *, size_t);
static int	 name_cmp(const void *, const void *);
static int	 dir_expect(struct check *, const char *, const char *);
static int	 dir_make(struct check *, char *, size_t);
static int	 dir_unmake(struct check *, const char *, int);
static int	 roundtrip_write(struct check *, const char *,
		    unsigned char *);
static int	 roundtrip_read(struct check *, const char *,
		    unsigned char *, unsigned char *);
static int	 cmd_roundtrip(struct check *);
static int	 cmd_listing(struct check *);
static int	 cmd_untouched(struct check *);

/* Print the usage and exit 2. */
static __dead void
usage(void)
{
	(void)fprintf(stderr, "usage: %s [-u udid] [-s size-MiB] "
	    "[-c chunk-bytes] [-d dir] roundtrip | listing | untouched\n",
	    CHECK_NAME);
	exit(2);
}

/* Parse a number option in [min, max], or exit 2. */
static uint64_t
parse_number(const char *arg, long long min, long long max, const char *what)
{
	const char	*errstr;
	long long	 n;

	n = strtonum(arg, min, max, &errstr);
	if (errstr != NULL) {
		(void)fprintf(stderr, "%s: %s \"%s\" is %s (%lld to %lld)\n",
		    CHECK_NAME, what, arg, errstr, min, max);
		exit(2);
	}
	return ((uint64_t)n);
}

/* Look a library error code up in a table. */
static const char *
errname_find(const struct errname *t, size_t n, int code)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (t[i].code == code)
			return (t[i].text);
	}
	return ("unknown code");
}

/* Report a failed afc_* call on arg (NULL for none). */
static void
afc_fail(const char *fn, const char *arg, afc_error_t e)
{
	(void)fprintf(stderr, "%s: %s%s%s: error %d (%s)\n", CHECK_NAME, fn,
	    arg != NULL ? " " : "", arg != NULL ? arg : "", (int)e,
	    errname_find(afc_errnames, nitems(afc_errnames), (int)e));
}

/* Report a failed check that is not a library error. */
static void
check_fail(const char *fmt, ...)
{
	va_list	ap;

	(void)fprintf(stderr, "%s: ", CHECK_NAME);
	va_start(ap, fmt);
	(void)vfprintf(stderr, fmt, ap);
	va_end(ap);
	(void)fputc('\n', stderr);
}

/* Return the monotonic clock in seconds. */
static double
now_s(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return (0);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/* Return a throughput in MB (10^6 bytes) per second. */
static double
mb_per_s(uint64_t bytes, double secs)
{
	if (secs <= 0)
		return (0);
	return ((double)bytes / 1e6 / secs);
}

/* Start the stream at the fixed seed. */
static void
stream_init(struct stream *s)
{
	memset(s, 0, sizeof(*s));
	s->state = CHECK_SEED;
}

/* Fill buf with the stream's next len bytes. */
static void
stream_fill(struct stream *s, unsigned char *buf, size_t len)
{
	uint64_t	x;
	size_t		i;

	while (len > 0) {
		if (s->avail == 0) {
			s->state ^= s->state >> 12;
			s->state ^= s->state << 25;
			s->state ^= s->state >> 27;
			x = s->state * UINT64_C(2685821657736338717);
			for (i = 0; i < sizeof(s->word); i++)
				s->word[i] = (unsigned char)(x >> (8 * i));
			s->avail = sizeof(s->word);
		}
		*buf++ = s->word[sizeof(s->word) - s->avail];
		s->avail--;
		len--;
	}
}

/* Write dir/name into buf; return -1 if it does not fit. */
static int
path_join(char *buf, size_t size, const char *dir, const char *name)
{
	int	n;

	n = snprintf(buf, size, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= size) {
		check_fail("path %s/%s is too long", dir, name);
		return (-1);
	}
	return (0);
}

/* Connect to the device, lockdownd (with TLS) and then AFC. */
static int
check_connect(struct check *c)
{
	lockdownd_client_t		 ld = NULL;
	lockdownd_service_descriptor_t	 svc = NULL;
	idevice_error_t			 ie;
	lockdownd_error_t		 le;
	afc_error_t			 ae;
	int				 rv = -1;

	c->dev = NULL;
	c->afc = NULL;
	if ((ie = idevice_new(&c->dev, c->udid)) != IDEVICE_E_SUCCESS) {
		(void)fprintf(stderr, "%s: idevice_new %s: error %d (%s)\n",
		    CHECK_NAME, c->udid != NULL ? c->udid : "(any)", (int)ie,
		    errname_find(idevice_errnames, nitems(idevice_errnames),
		    (int)ie));
		c->dev = NULL;
		goto out;
	}
	le = lockdownd_client_new_with_handshake(c->dev, &ld, CHECK_NAME);
	if (le != LOCKDOWN_E_SUCCESS) {
		(void)fprintf(stderr, "%s: lockdownd_client_new_with_handshake:"
		    " error %d (%s)\n", CHECK_NAME, (int)le,
		    lockdownd_strerror(le));
		ld = NULL;
		goto out;
	}
	le = lockdownd_start_service(ld, AFC_SERVICE_NAME, &svc);
	if (le != LOCKDOWN_E_SUCCESS) {
		(void)fprintf(stderr, "%s: lockdownd_start_service %s: error "
		    "%d (%s)\n", CHECK_NAME, AFC_SERVICE_NAME, (int)le,
		    lockdownd_strerror(le));
		svc = NULL;
		goto out;
	}
	if ((ae = afc_client_new(c->dev, svc, &c->afc)) != AFC_E_SUCCESS) {
		afc_fail("afc_client_new", NULL, ae);
		c->afc = NULL;
		goto out;
	}
	rv = 0;
out:
	if (svc != NULL)
		(void)lockdownd_service_descriptor_free(svc);
	if (ld != NULL)
		(void)lockdownd_client_free(ld);
	if (rv == -1)
		check_disconnect(c);
	return (rv);
}

/* Release the AFC client and the device; safe on a partial connect. */
static void
check_disconnect(struct check *c)
{
	if (c->afc != NULL)
		(void)afc_client_free(c->afc);
	c->afc = NULL;
	if (c->dev != NULL)
		(void)idevice_free(c->dev);
	c->dev = NULL;
}

/*
 * Stat path: its st_size into *size and its st_ifmt into ifmt. Returns
 * 0, -1 after reporting an error, or the AFC error code (positive) if
 * the path does not exist, which is left to the caller to report.
 */
static int
file_info(struct check *c, const char *path, uint64_t *size, char *ifmt,
    size_t ifmtsize)
{
	char		**info = NULL;
	const char	 *errstr, *sz = NULL, *fmt = NULL;
	afc_error_t	  e;
	size_t		  i;
	int		  rv = -1;

	if ((e = afc_get_file_info(c->afc, path, &info)) != AFC_E_SUCCESS) {
		info = NULL;
		if (e == AFC_E_OBJECT_NOT_FOUND) {
			rv = (int)e;
			goto out;
		}
		afc_fail("afc_get_file_info", path, e);
		goto out;
	}
	for (i = 0; info != NULL && info[i] != NULL && info[i + 1] != NULL;
	    i += 2) {
		if (strcmp(info[i], "st_size") == 0)
			sz = info[i + 1];
		else if (strcmp(info[i], "st_ifmt") == 0)
			fmt = info[i + 1];
	}
	if (sz == NULL || fmt == NULL) {
		check_fail("afc_get_file_info %s: no st_size or st_ifmt",
		    path);
		goto out;
	}
	*size = (uint64_t)strtonum(sz, 0, INT64_MAX, &errstr);
	if (errstr != NULL) {
		check_fail("afc_get_file_info %s: st_size \"%s\" is %s", path,
		    sz, errstr);
		goto out;
	}
	(void)strlcpy(ifmt, fmt, ifmtsize);
	rv = 0;
out:
	if (info != NULL)
		(void)afc_dictionary_free(info);
	return (rv);
}

/* Create path holding len bytes of the stream, in one write. */
static int
file_put(struct check *c, const char *path, size_t len)
{
	struct stream	 s;
	unsigned char	*buf;
	uint64_t	 h = 0;
	uint32_t	 w = 0;
	afc_error_t	 e;
	int		 rv = -1;

	if ((buf = malloc(len)) == NULL) {
		check_fail("out of memory");
		return (-1);
	}
	stream_init(&s);
	stream_fill(&s, buf, len);
	e = afc_file_open(c->afc, path, AFC_FOPEN_WRONLY, &h);
	if (e != AFC_E_SUCCESS) {
		afc_fail("afc_file_open", path, e);
		h = 0;
		goto out;
	}
	e = afc_file_write(c->afc, h, (const char *)buf, (uint32_t)len, &w);
	if (e != AFC_E_SUCCESS) {
		afc_fail("afc_file_write", path, e);
		goto out;
	}
	if (w != len) {
		check_fail("afc_file_write %s: %" PRIu32 " of %zu bytes",
		    path, w, len);
		goto out;
	}
	rv = 0;
out:
	/* After a failure, close quietly: the first error is the one. */
	if (h != 0 && (e = afc_file_close(c->afc, h)) != AFC_E_SUCCESS &&
	    rv == 0) {
		afc_fail("afc_file_close", path, e);
		rv = -1;
	}
	free(buf);
	return (rv);
}

/* Order two names bytewise, for qsort. */
static int
name_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/*
 * List dir and check that it holds exactly the names in want, "." and
 * ".." included; want has them sorted bytewise and separated by single
 * spaces, the device may list them in any order.
 */
static int
dir_expect(struct check *c, const char *dir, const char *want)
{
	char		**list = NULL;
	char		  got[CHECK_LIST_MAX];
	afc_error_t	  e;
	size_t		  n, i, len = 0;
	int		  rv = -1, k;

	if ((e = afc_read_directory(c->afc, dir, &list)) != AFC_E_SUCCESS) {
		afc_fail("afc_read_directory", dir, e);
		list = NULL;
		goto out;
	}
	for (n = 0; list != NULL && list[n] != NULL; n++)
		continue;
	if (n > 1)
		qsort(list, n, sizeof(*list), name_cmp);
	got[0] = '\0';
	for (i = 0; i < n; i++) {
		k = snprintf(got + len, sizeof(got) - len, "%s%s",
		    i == 0 ? "" : " ", list[i]);
		if (k < 0 || (size_t)k >= sizeof(got) - len) {
			check_fail("afc_read_directory %s: listing too long",
			    dir);
			goto out;
		}
		len += (size_t)k;
	}
	if (strcmp(got, want) != 0) {
		check_fail("afc_read_directory %s: expected \"%s\", got "
		    "\"%s\"", dir, want, got);
		goto out;
	}
	(void)printf("listing: %s holds %s\n", dir, got);
	rv = 0;
out:
	if (list != NULL)
		(void)afc_dictionary_free(list);
	return (rv);
}

/*
 * Make c->dir, which is missing, and any missing parents, as afcd does;
 * put the topmost directory this makes into top, for dir_unmake.
 */
static int
dir_make(struct check *c, char *top, size_t topsize)
{
	char		 ifmt[32];
	uint64_t	 size;
	afc_error_t	 e;
	size_t		 len;
	int		 r;

	for (len = 1;; len++) {
		if (c->dir[len] != '/' && c->dir[len] != '\0')
			continue;
		if (len >= topsize) {
			check_fail("path %s is too long", c->dir);
			return (-1);
		}
		memcpy(top, c->dir, len);
		top[len] = '\0';
		if ((r = file_info(c, top, &size, ifmt, sizeof(ifmt))) == -1)
			return (-1);
		if (r != 0 || c->dir[len] == '\0')
			break;
	}
	if ((e = afc_make_directory(c->afc, c->dir)) != AFC_E_SUCCESS) {
		afc_fail("afc_make_directory", c->dir, e);
		return (-1);
	}
	return (0);
}

/*
 * Remove c->dir, if still there, and its parents up to top, each only if
 * empty; quiet leaves errors unreported.
 */
static int
dir_unmake(struct check *c, const char *top, int quiet)
{
	char		 p[CHECK_PATH_MAX];
	char		*slash;
	afc_error_t	 e;

	(void)strlcpy(p, c->dir, sizeof(p));
	for (;;) {
		e = afc_remove_path(c->afc, p);
		if (e != AFC_E_SUCCESS && e != AFC_E_OBJECT_NOT_FOUND) {
			if (!quiet)
				afc_fail("afc_remove_path", p, e);
			return (-1);
		}
		if (strlen(p) <= strlen(top) ||
		    (slash = strrchr(p, '/')) == NULL || slash == p)
			break;
		*slash = '\0';
	}
	return (0);
}

/* Write c->size bytes of the stream to path in c->chunk-byte writes. */
static int
roundtrip_write(struct check *c, const char *path, unsigned char *buf)
{
	struct stream	s;
	uint64_t	h = 0, off;
	uint32_t	n, w;
	afc_error_t	e;
	int		rv = -1;

	stream_init(&s);
	e = afc_file_open(c->afc, path, AFC_FOPEN_WRONLY, &h);
	if (e != AFC_E_SUCCESS) {
		afc_fail("afc_file_open", path, e);
		h = 0;
		goto out;
	}
	for (off = 0; off < c->size; off += n) {
		n = c->size - off < c->chunk ? (uint32_t)(c->size - off) :
		    c->chunk;
		stream_fill(&s, buf, n);
		w = 0;
		e = afc_file_write(c->afc, h, (const char *)buf, n, &w);
		if (e != AFC_E_SUCCESS) {
			afc_fail("afc_file_write", path, e);
			(void)fprintf(stderr, "%s: at offset %" PRIu64 "\n",
			    CHECK_NAME, off);
			goto out;
		}
		if (w != n) {
			check_fail("afc_file_write %s: %" PRIu32 " of %" PRIu32
			    " bytes at offset %" PRIu64, path, w, n, off);
			goto out;
		}
	}
	rv = 0;
out:
	/* After a failure, close quietly: the first error is the one. */
	if (h != 0 && (e = afc_file_close(c->afc, h)) != AFC_E_SUCCESS &&
	    rv == 0) {
		afc_fail("afc_file_close", path, e);
		rv = -1;
	}
	return (rv);
}

/*
 * Read path back in c->chunk-byte reads, checking every byte against the
 * stream and that the file ends where it should.
 */
static int
roundtrip_read(struct check *c, const char *path, unsigned char *buf,
    unsigned char *want)
{
	struct stream	s;
	uint64_t	h = 0, off = 0;
	uint32_t	n, i;
	afc_error_t	e;
	int		rv = -1;

	stream_init(&s);
	e = afc_file_open(c->afc, path, AFC_FOPEN_RDONLY, &h);
	if (e != AFC_E_SUCCESS) {
		afc_fail("afc_file_open", path, e);
		h = 0;
		goto out;
	}
	for (;;) {
		n = 0;
		e = afc_file_read(c->afc, h, (char *)buf, c->chunk, &n);
		if (e != AFC_E_SUCCESS) {
			afc_fail("afc_file_read", path, e);
			(void)fprintf(stderr, "%s: at offset %" PRIu64 "\n",
			    CHECK_NAME, off);
			goto out;
		}
		if (n == 0)
			break;
		if (n > c->chunk || n > c->size - off) {
			check_fail("afc_file_read %s: %" PRIu32 " bytes at "
			    "offset %" PRIu64 ", past the %" PRIu64 " written",
			    path, n, off, c->size);
			goto out;
		}
		stream_fill(&s, want, n);
		if (memcmp(buf, want, n) != 0) {
			for (i = 0; i < n && buf[i] == want[i]; i++)
				continue;
			check_fail("%s: first differing byte at offset %"
			    PRIu64 ": read 0x%02x, expected 0x%02x", path,
			    off + i, buf[i], want[i]);
			goto out;
		}
		off += n;
	}
	if (off != c->size) {
		check_fail("afc_file_read %s: end of file after %" PRIu64
		    " of %" PRIu64 " bytes", path, off, c->size);
		goto out;
	}
	rv = 0;
out:
	/* After a failure, close quietly: the first error is the one. */
	if (h != 0 && (e = afc_file_close(c->afc, h)) != AFC_E_SUCCESS &&
	    rv == 0) {
		afc_fail("afc_file_close", path, e);
		rv = -1;
	}
	return (rv);
}

/*
 * Write a file in chunks, check its size, read it back and verify it,
 * then remove it (and the directories this made), on every path.
 */
static int
cmd_roundtrip(struct check *c)
{
	unsigned char	*buf = NULL, *want = NULL;
	char		 path[CHECK_PATH_MAX], top[CHECK_PATH_MAX];
	char		 ifmt[32];
	uint64_t	 size;
	double		 t, tw = 0, tr = 0;
	afc_error_t	 e;
	int		 rv = -1, made_dir = 0, wrote = 0, r;

	if (path_join(path, sizeof(path), c->dir, CHECK_FILE) == -1)
		return (-1);
	if ((buf = malloc(c->chunk)) == NULL ||
	    (want = malloc(c->chunk)) == NULL) {
		check_fail("out of memory");
		goto out;
	}
	if ((r = file_info(c, c->dir, &size, ifmt, sizeof(ifmt))) == -1)
		goto out;
	if (r == 0 && strcmp(ifmt, "S_IFDIR") != 0) {
		check_fail("%s is not a directory (%s)", c->dir, ifmt);
		goto out;
	}
	if (r != 0) {
		if (dir_make(c, top, sizeof(top)) == -1)
			goto out;
		made_dir = 1;
	}
	(void)printf("roundtrip: %s, %" PRIu64 " bytes in %" PRIu32
	    "-byte chunks\n", path, c->size, c->chunk);

	wrote = 1;
	t = now_s();
	if (roundtrip_write(c, path, buf) == -1)
		goto out;
	tw = now_s() - t;
	if ((r = file_info(c, path, &size, ifmt, sizeof(ifmt))) != 0) {
		if (r > 0)
			afc_fail("afc_get_file_info", path, (afc_error_t)r);
		goto out;
	}
	if (size != c->size || strcmp(ifmt, "S_IFREG") != 0) {
		check_fail("afc_get_file_info %s: st_size %" PRIu64 " st_ifmt "
		    "%s, expected %" PRIu64 " S_IFREG", path, size, ifmt,
		    c->size);
		goto out;
	}
	t = now_s();
	if (roundtrip_read(c, path, buf, want) == -1)
		goto out;
	tr = now_s() - t;
	rv = 0;
out:
	/* After a failure, clean up quietly: the first error is the one. */
	if (wrote && (e = afc_remove_path(c->afc, path)) != AFC_E_SUCCESS &&
	    rv == 0) {
		afc_fail("afc_remove_path", path, e);
		rv = -1;
	}
	if (made_dir && dir_unmake(c, top, rv != 0) == -1)
		rv = -1;
	if (rv == 0) {
		(void)printf("roundtrip: %" PRIu64 " bytes written and "
		    "verified in %.2f s (%.1f MB/s write, %.1f MB/s read)\n",
		    c->size, tw + tr, mb_per_s(c->size, tw),
		    mb_per_s(c->size, tr));
	}
	free(buf);
	free(want);
	return (rv);
}

/*
 * Make a new directory, create a, b and c in it, list it, stat b, rename
 * a, list again, remove the renamed file, check that the directory
 * cannot be removed while not empty, remove it with its contents and
 * check that it is gone.
 */
static int
cmd_listing(struct check *c)
{
	static const struct {
		const char	*name;
		size_t		 len;
	} files[] = {
		{ "a", 1000 }, { "b", 2000 }, { "c", 3000 }
	};
	char		 path[CHECK_PATH_MAX], to[CHECK_PATH_MAX];
	char		 top[CHECK_PATH_MAX], ifmt[32];
	uint64_t	 size;
	afc_error_t	 e;
	size_t		 i;
	int		 rv = -1, r;

	if ((r = file_info(c, c->dir, &size, ifmt, sizeof(ifmt))) == -1)
		return (-1);
	if (r == 0) {
		check_fail("%s exists; listing needs a directory it can make "
		    "and remove", c->dir);
		return (-1);
	}
	if (dir_make(c, top, sizeof(top)) == -1)
		return (-1);
	(void)printf("listing: made %s\n", c->dir);

	for (i = 0; i < nitems(files); i++) {
		if (path_join(path, sizeof(path), c->dir,
		    files[i].name) == -1 || file_put(c, path,
		    files[i].len) == -1)
			goto out;
		(void)printf("listing: created %s (%zu bytes)\n", path,
		    files[i].len);
	}
	if (dir_expect(c, c->dir, ". .. a b c") == -1)
		goto out;

	if (path_join(path, sizeof(path), c->dir, "b") == -1)
		goto out;
	if ((r = file_info(c, path, &size, ifmt, sizeof(ifmt))) != 0) {
		if (r > 0)
			afc_fail("afc_get_file_info", path, (afc_error_t)r);
		goto out;
	}
	if (size != files[1].len || strcmp(ifmt, "S_IFREG") != 0) {
		check_fail("afc_get_file_info %s: st_size %" PRIu64 " st_ifmt "
		    "%s, expected %zu S_IFREG", path, size, ifmt,
		    files[1].len);
		goto out;
	}
	(void)printf("listing: %s has st_size %" PRIu64 ", st_ifmt %s\n",
	    path, size, ifmt);

	if (path_join(path, sizeof(path), c->dir, "a") == -1 ||
	    path_join(to, sizeof(to), c->dir, "renamed") == -1)
		goto out;
	if ((e = afc_rename_path(c->afc, path, to)) != AFC_E_SUCCESS) {
		afc_fail("afc_rename_path", path, e);
		goto out;
	}
	(void)printf("listing: renamed %s to %s\n", path, to);
	if (dir_expect(c, c->dir, ". .. b c renamed") == -1)
		goto out;

	if ((e = afc_remove_path(c->afc, to)) != AFC_E_SUCCESS) {
		afc_fail("afc_remove_path", to, e);
		goto out;
	}
	(void)printf("listing: removed %s\n", to);
	if ((e = afc_remove_path(c->afc, c->dir)) != AFC_E_DIR_NOT_EMPTY) {
		if (e == AFC_E_SUCCESS)
			check_fail("afc_remove_path %s: removed a directory "
			    "that is not empty", c->dir);
		else
			afc_fail("afc_remove_path", c->dir, e);
		goto out;
	}
	(void)printf("listing: afc_remove_path %s refused: directory not "
	    "empty\n", c->dir);
	if ((e = afc_remove_path_and_contents(c->afc, c->dir)) !=
	    AFC_E_SUCCESS) {
		afc_fail("afc_remove_path_and_contents", c->dir, e);
		goto out;
	}
	(void)printf("listing: removed %s and its contents\n", c->dir);

	if ((r = file_info(c, c->dir, &size, ifmt, sizeof(ifmt))) == -1)
		goto out;
	if (r != AFC_E_OBJECT_NOT_FOUND) {
		check_fail("afc_get_file_info %s: still there (%s)", c->dir,
		    ifmt);
		goto out;
	}
	(void)printf("listing: %s is gone\n", c->dir);
	rv = 0;
out:
	/*
	 * Remove what this made: parents of the directory too. After a
	 * failure, quietly: the first error is the one.
	 */
	if (rv != 0)
		(void)afc_remove_path_and_contents(c->afc, c->dir);
	if (dir_unmake(c, top, rv != 0) == -1)
		rv = -1;
	return (rv);
}

/* Check the user content: its size and every byte. */
static int
cmd_untouched(struct check *c)
{
	unsigned char	buf[2 * UNTOUCHED_SIZE];
	char		ifmt[32];
	uint64_t	h = 0, size;
	uint32_t	n, off = 0, i;
	afc_error_t	e;
	int		rv = -1, r;

	if ((r = file_info(c, UNTOUCHED_PATH, &size, ifmt,
	    sizeof(ifmt))) != 0) {
		if (r > 0)
			afc_fail("afc_get_file_info", UNTOUCHED_PATH,
			    (afc_error_t)r);
		goto out;
	}
	if (size != UNTOUCHED_SIZE || strcmp(ifmt, "S_IFREG") != 0) {
		check_fail("afc_get_file_info %s: st_size %" PRIu64 " st_ifmt "
		    "%s, expected %d S_IFREG", UNTOUCHED_PATH, size, ifmt,
		    UNTOUCHED_SIZE);
		goto out;
	}
	(void)printf("untouched: %s has st_size %" PRIu64 ", st_ifmt %s\n",
	    UNTOUCHED_PATH, size, ifmt);

	e = afc_file_open(c->afc, UNTOUCHED_PATH, AFC_FOPEN_RDONLY, &h);
	if (e != AFC_E_SUCCESS) {
		afc_fail("afc_file_open", UNTOUCHED_PATH, e);
		h = 0;
		goto out;
	}
	/* Ask for more than there is, to see the end of the file. */
	while (off < sizeof(buf)) {
		n = 0;
		e = afc_file_read(c->afc, h, (char *)buf + off,
		    (uint32_t)sizeof(buf) - off, &n);
		if (e != AFC_E_SUCCESS) {
			afc_fail("afc_file_read", UNTOUCHED_PATH, e);
			goto out;
		}
		if (n == 0)
			break;
		off += n;
	}
	if (off != UNTOUCHED_SIZE) {
		check_fail("afc_file_read %s: %" PRIu32 " bytes, expected %d",
		    UNTOUCHED_PATH, off, UNTOUCHED_SIZE);
		goto out;
	}
	for (i = 0; i < off; i++) {
		if (buf[i] != ((i * 31 + 7) & 0xff)) {
			check_fail("%s: first differing byte at offset %" PRIu32
			    ": read 0x%02x, expected 0x%02x", UNTOUCHED_PATH,
			    i, buf[i], (i * 31 + 7) & 0xff);
			goto out;
		}
	}
	(void)printf("untouched: %s: %" PRIu32 " bytes intact\n",
	    UNTOUCHED_PATH, off);
	rv = 0;
out:
	/* After a failure, close quietly: the first error is the one. */
	if (h != 0 && (e = afc_file_close(c->afc, h)) != AFC_E_SUCCESS &&
	    rv == 0) {
		afc_fail("afc_file_close", UNTOUCHED_PATH, e);
		rv = -1;
	}
	return (rv);
}

/* Parse the arguments and run one command against the device. */
int
main(int argc, char **argv)
{
	struct check	 c;
	const char	*cmd;
	char		 dir[CHECK_PATH_MAX - 64];
	size_t		 len;
	int		 ch, rv;

	memset(&c, 0, sizeof(c));
	c.dir = CHECK_DIR;
	c.size = (uint64_t)CHECK_SIZE_MIB << 20;
	c.chunk = CHECK_CHUNK;
	while ((ch = getopt(argc, argv, "c:d:s:u:")) != -1) {
		switch (ch) {
		case 'c':
			c.chunk = (uint32_t)parse_number(optarg, 1,
			    CHECK_CHUNK_MAX, "chunk size");
			break;
		case 'd':
			c.dir = optarg;
			break;
		case 's':
			c.size = parse_number(optarg, 1, CHECK_SIZE_MAX_MIB,
			    "size in MiB") << 20;
			break;
		case 'u':
			c.udid = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		usage();
	cmd = argv[0];
	if (strcmp(cmd, "roundtrip") != 0 && strcmp(cmd, "listing") != 0 &&
	    strcmp(cmd, "untouched") != 0)
		usage();
	if (c.dir[0] != '/' || strspn(c.dir, "/") == strlen(c.dir) ||
	    strlcpy(dir, c.dir, sizeof(dir)) >= sizeof(dir)) {
		(void)fprintf(stderr, "%s: -d needs an absolute path other "
		    "than /, under %zu bytes\n", CHECK_NAME, sizeof(dir));
		usage();
	}
	for (len = strlen(dir); len > 1 && dir[len - 1] == '/'; len--)
		dir[len - 1] = '\0';
	c.dir = dir;
	/* Keep steps and errors in order when both go to one log. */
	(void)setvbuf(stdout, NULL, _IOLBF, 0);

	if (check_connect(&c) == -1)
		return (1);
	if (strcmp(cmd, "roundtrip") == 0)
		rv = cmd_roundtrip(&c);
	else if (strcmp(cmd, "listing") == 0)
		rv = cmd_listing(&c);
	else
		rv = cmd_untouched(&c);
	check_disconnect(&c);
	return (rv == 0 ? 0 : 1);
}
