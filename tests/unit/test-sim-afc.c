/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Unit tests for the simulator's AFC service (sim/afc.c). Each test runs
 * afc_serve() on a thread at one end of a socketpair and talks to it from
 * the other end with a small AFC client written here, packets built by
 * hand, so that the wire format is checked against protocols.md section
 * 3 rather than against afc.c's own constants: devinfo and free space,
 * directories, files of several MiB, modes, seeks, renames, removals,
 * every error code linkq can meet, malformed and oversized requests,
 * the oplog, and the user content linkq must never touch.
 */

#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "compat/compat.h"
#include "log.h"
#include "xmalloc.h"

#include "afc.h"
#include "conn.h"

/* Written out again from libimobiledevice 1.3.0, not taken from afc.c. */
#define OP_STATUS		0x01
#define OP_DATA			0x02
#define OP_READ_DIR		0x03
#define OP_TRUNCATE		0x07
#define OP_REMOVE_PATH		0x08
#define OP_MAKE_DIR		0x09
#define OP_GET_FILE_INFO	0x0a
#define OP_GET_DEVINFO		0x0b
#define OP_FILE_OPEN		0x0d
#define OP_FILE_OPEN_RES	0x0e
#define OP_FILE_READ		0x0f
#define OP_FILE_WRITE		0x10
#define OP_FILE_SEEK		0x11
#define OP_FILE_TELL		0x12
#define OP_FILE_TELL_RES	0x13
#define OP_FILE_CLOSE		0x14
#define OP_FILE_SET_SIZE	0x15
#define OP_RENAME_PATH		0x18
#define OP_FILE_LOCK		0x1b
#define OP_GET_FILE_HASH	0x1d
#define OP_SET_FILE_MOD_TIME	0x1e
#define OP_REMOVE_ALL		0x22

#define E_SUCCESS		0
#define E_UNKNOWN		1
#define E_INVALID_ARG		7
#define E_NOT_FOUND		8
#define E_IS_DIR		9
#define E_NOT_SUPPORTED		15
#define E_EXISTS		16
#define E_NO_SPACE		18

#define M_R			1
#define M_RPLUS			2
#define M_W			3
#define M_WPLUS			4
#define M_A			5
#define M_APLUS			6

#define HDR			40
#define CAPACITY		(UINT64_C(256) * 1024 * 1024)
#define KIB			1024
#define MIB			(1024 * 1024)
#define TIMEOUT_MS		20000

/* One connection to a serving thread. */
struct fix {
	struct afc_fs	*fs;
	int		 own_fs;
	struct sim_conn	 conn;		/* the device's end */
	int		 fd;		/* the client's end */
	pthread_t	 thread;
	uint64_t	 num;
};

/* A reply: header-data and payload together, plus a NUL. */
struct reply {
	uint64_t	 op;
	uint64_t	 this_len;
	unsigned char	*data;
	size_t		 len;
};

/* Oplog lines collected by a callback. */
struct lines {
	char		**v;
	size_t		  n;
};

static void
put64(unsigned char *p, uint64_t v)
{
	int	i;

	for (i = 0; i < 8; i++) {
		p[i] = v & 0xff;
		v >>= 8;
	}
}

static uint64_t
get64(const unsigned char *p)
{
	uint64_t	v = 0;
	int		i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return (v);
}

/* Byte i of a test pattern; seed picks the pattern. */
static unsigned char
pattern(size_t i, unsigned int seed)
{
	return ((unsigned char)((i * 131 + (i >> 11) * 7 + seed) & 0xff));
}

static void
fill(unsigned char *buf, size_t off, size_t len, unsigned int seed)
{
	size_t	i;

	for (i = 0; i < len; i++)
		buf[i] = pattern(off + i, seed);
}

/* Run afc_serve, then shut the socket so that the client sees EOF. */
static void *
serve_thread(void *arg)
{
	struct fix	*f = arg;

	afc_serve(&f->conn, f->fs);
	(void)shutdown(f->conn.fd, SHUT_RDWR);
	return (NULL);
}

static struct fix *
fix_start(struct afc_fs *fs, int own_fs)
{
	struct fix	*f;
	int		 sv[2];

	f = xcalloc(1, sizeof(*f));
	f->fs = fs;
	f->own_fs = own_fs;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		fail_msg("socketpair: %s", strerror(errno));
	f->fd = sv[0];
	f->conn.fd = sv[1];
	if (pthread_create(&f->thread, NULL, serve_thread, f) != 0)
		fail_msg("pthread_create");
	return (f);
}

static void
fix_stop(struct fix *f)
{
	(void)close(f->fd);
	(void)pthread_join(f->thread, NULL);
	(void)close(f->conn.fd);
	if (f->own_fs)
		afc_fs_free(f->fs);
	free(f);
}

static int
setup(void **state)
{
	struct afc_fs	*fs;

	fs = afc_fs_create(CAPACITY);
	afc_fs_populate(fs);
	*state = fix_start(fs, 1);
	return (0);
}

static int
teardown(void **state)
{
	fix_stop(*state);
	return (0);
}

/* Write all of buf; -1 on error. */
static int
write_all(int fd, const void *buf, size_t len)
{
	const unsigned char	*p = buf;
	ssize_t			 n;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return (-1);
		p += n;
		len -= (size_t)n;
	}
	return (0);
}

/* Read exactly len bytes; 1 on EOF at the start, -1 on error or timeout. */
static int
read_full(int fd, void *buf, size_t len)
{
	struct pollfd	 pfd;
	unsigned char	*p = buf;
	size_t		 done = 0;
	ssize_t		 n;

	while (done < len) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, TIMEOUT_MS) != 1)
			return (-1);
		n = read(fd, p + done, len - done);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == 0 && done == 0)
			return (1);
		if (n <= 0)
			return (-1);
		done += (size_t)n;
	}
	return (0);
}

/* Send a raw 40-byte header with the given lengths. */
static void
send_header(struct fix *f, const char *magic, uint64_t entire, uint64_t this,
    uint64_t op)
{
	unsigned char	hdr[HDR];

	memcpy(hdr, magic, 8);
	put64(hdr + 8, entire);
	put64(hdr + 16, this);
	put64(hdr + 24, ++f->num);
	put64(hdr + 32, op);
	assert_int_equal(write_all(f->fd, hdr, sizeof(hdr)), 0);
}

/*
 * Send a request (args as header-data, payload after) and read the reply,
 * checking its framing. No cmocka calls: threads use it too.
 */
static int
try_call(struct fix *f, uint64_t op, const void *args, size_t alen,
    const void *payload, size_t plen, struct reply *rep)
{
	unsigned char	*pkt, hdr[HDR];
	uint64_t	 entire;
	size_t		 len = HDR + alen + plen;
	int		 r;

	memset(rep, 0, sizeof(*rep));
	pkt = xmalloc(len);
	memcpy(pkt, "CFA6LPAA", 8);
	put64(pkt + 8, len);
	put64(pkt + 16, HDR + alen);
	put64(pkt + 24, ++f->num);
	put64(pkt + 32, op);
	if (alen != 0)
		memcpy(pkt + HDR, args, alen);
	if (plen != 0)
		memcpy(pkt + HDR + alen, payload, plen);
	r = write_all(f->fd, pkt, len);
	free(pkt);
	if (r != 0 || read_full(f->fd, hdr, sizeof(hdr)) != 0)
		return (-1);
	if (memcmp(hdr, "CFA6LPAA", 8) != 0 || get64(hdr + 24) != f->num)
		return (-1);
	entire = get64(hdr + 8);
	rep->this_len = get64(hdr + 16);
	rep->op = get64(hdr + 32);
	if (rep->this_len < HDR || entire < rep->this_len ||
	    entire > HDR + (uint64_t)AFC_MAX_DATA + AFC_MAX_ARGS)
		return (-1);
	/* A reply with nothing in it must be DATA (the client's rule). */
	if (entire == HDR && rep->op != OP_DATA)
		return (-1);
	rep->len = (size_t)(entire - HDR);
	rep->data = xmalloc(rep->len + 1);
	rep->data[rep->len] = '\0';
	if (rep->len != 0 && read_full(f->fd, rep->data, rep->len) != 0) {
		free(rep->data);
		rep->data = NULL;
		return (-1);
	}
	return (0);
}

static void
call(struct fix *f, uint64_t op, const void *args, size_t alen,
    const void *payload, size_t plen, struct reply *rep)
{
	assert_int_equal(try_call(f, op, args, alen, payload, plen, rep), 0);
}

static void
reply_free(struct reply *rep)
{
	free(rep->data);
	rep->data = NULL;
}

/* The status code of a STATUS reply, which must be 8 bytes. */
static uint64_t
status_of(struct reply *rep)
{
	uint64_t	st;

	assert_int_equal(rep->op, OP_STATUS);
	assert_int_equal(rep->len, 8);
	assert_int_equal(rep->this_len, HDR + 8);
	st = get64(rep->data);
	reply_free(rep);
	return (st);
}

/* Send a request whose answer is a STATUS and return the code. */
static uint64_t
call_status(struct fix *f, uint64_t op, const void *args, size_t alen,
    const void *payload, size_t plen)
{
	struct reply	rep;

	call(f, op, args, alen, payload, plen, &rep);
	return (status_of(&rep));
}

/* An operation on one path. */
static uint64_t
path_op(struct fix *f, uint64_t op, const char *path)
{
	return (call_status(f, op, path, strlen(path) + 1, NULL, 0));
}

/* An operation on a u64 and a path (TRUNCATE, SET_FILE_MOD_TIME). */
static uint64_t
u64_path_op(struct fix *f, uint64_t op, uint64_t v, const char *path)
{
	unsigned char	buf[8 + 512];
	size_t		len = strlen(path) + 1;

	assert_true(len <= sizeof(buf) - 8);
	put64(buf, v);
	memcpy(buf + 8, path, len);
	return (call_status(f, op, buf, 8 + len, NULL, 0));
}

static uint64_t
rename_op(struct fix *f, const char *from, const char *to)
{
	char	buf[1024];
	size_t	a = strlen(from) + 1, b = strlen(to) + 1;

	assert_true(a + b <= sizeof(buf));
	memcpy(buf, from, a);
	memcpy(buf + a, to, b);
	return (call_status(f, OP_RENAME_PATH, buf, a + b, NULL, 0));
}

/* Open a file; 0 and *h, or the status. */
static uint64_t
open_file(struct fix *f, uint64_t mode, const char *path, uint64_t *h)
{
	struct reply	rep;
	unsigned char	buf[8 + 512];
	size_t		len = strlen(path) + 1;

	assert_true(len <= sizeof(buf) - 8);
	put64(buf, mode);
	memcpy(buf + 8, path, len);
	*h = 0;
	call(f, OP_FILE_OPEN, buf, 8 + len, NULL, 0, &rep);
	if (rep.op == OP_STATUS)
		return (status_of(&rep));
	assert_int_equal(rep.op, OP_FILE_OPEN_RES);
	assert_int_equal(rep.len, 8);
	assert_int_equal(rep.this_len, HDR + 8);
	*h = get64(rep.data);
	reply_free(&rep);
	assert_int_not_equal(*h, 0);
	return (E_SUCCESS);
}

static uint64_t
open_ok(struct fix *f, uint64_t mode, const char *path)
{
	uint64_t	h;

	assert_int_equal(open_file(f, mode, path, &h), E_SUCCESS);
	return (h);
}

/* FILE_WRITE: the handle as header-data, the bytes as payload. */
static uint64_t
write_file(struct fix *f, uint64_t h, const void *buf, size_t len)
{
	unsigned char	args[8];

	put64(args, h);
	return (call_status(f, OP_FILE_WRITE, args, 8, buf, len));
}

/* Handle plus one or two u64s: seek, set size, lock, close, tell. */
static uint64_t
handle_op(struct fix *f, uint64_t op, uint64_t h, size_t nargs, uint64_t a,
    uint64_t b)
{
	unsigned char	args[24];

	put64(args, h);
	put64(args + 8, a);
	put64(args + 16, b);
	return (call_status(f, op, args, 8 + nargs * 8, NULL, 0));
}

/*
 * FILE_READ: returns the byte count, or -status. The data must come as
 * payload (this_length 40), as a DATA packet.
 */
static long long
read_file(struct fix *f, uint64_t h, void *buf, size_t want)
{
	struct reply	rep;
	unsigned char	args[16];
	size_t		len;

	put64(args, h);
	put64(args + 8, want);
	call(f, OP_FILE_READ, args, sizeof(args), NULL, 0, &rep);
	if (rep.op == OP_STATUS)
		return (-(long long)status_of(&rep));
	assert_int_equal(rep.op, OP_DATA);
	assert_int_equal(rep.this_len, HDR);
	assert_true(rep.len <= want);
	len = rep.len;
	if (len != 0)
		memcpy(buf, rep.data, len);
	reply_free(&rep);
	return ((long long)len);
}

static uint64_t
tell(struct fix *f, uint64_t h)
{
	struct reply	rep;
	unsigned char	args[8];
	uint64_t	pos;

	put64(args, h);
	call(f, OP_FILE_TELL, args, sizeof(args), NULL, 0, &rep);
	assert_int_equal(rep.op, OP_FILE_TELL_RES);
	assert_int_equal(rep.len, 8);
	pos = get64(rep.data);
	reply_free(&rep);
	return (pos);
}

/* Join a DATA reply's NUL-terminated strings with spaces. */
static char *
join(struct reply *rep)
{
	char	*out;
	size_t	 i;

	/* The data is payload, after this_length, as a device sends it. */
	assert_int_equal(rep->op, OP_DATA);
	assert_int_equal(rep->this_len, HDR);
	assert_true(rep->len > 0);
	assert_int_equal(rep->data[rep->len - 1], '\0');
	out = xmalloc(rep->len);
	for (i = 0; i + 1 < rep->len; i++)
		out[i] = rep->data[i] == '\0' ? ' ' : (char)rep->data[i];
	out[rep->len - 1] = '\0';
	return (out);
}

/* The value after key in a list of NUL-terminated key/value strings. */
static const char *
kv_get(struct reply *rep, const char *key)
{
	const char	*p = (const char *)rep->data;
	const char	*end = p + rep->len;

	while (p < end) {
		if (strcmp(p, key) == 0)
			return (p + strlen(p) + 1 < end ?
			    p + strlen(p) + 1 : NULL);
		p += strlen(p) + 1;
		if (p < end)
			p += strlen(p) + 1;
	}
	return (NULL);
}

static uint64_t
kv_u64(struct reply *rep, const char *key)
{
	const char	*v;
	char		*end;
	uint64_t	 n;

	v = kv_get(rep, key);
	assert_non_null(v);
	errno = 0;
	n = strtoull(v, &end, 10);
	assert_int_equal(errno, 0);
	assert_true(*v != '\0' && *end == '\0');
	return (n);
}

/* GET_FILE_INFO: 0 and *rep, or the status. */
static uint64_t
stat_path(struct fix *f, const char *path, struct reply *rep)
{
	call(f, OP_GET_FILE_INFO, path, strlen(path) + 1, NULL, 0, rep);
	if (rep->op == OP_STATUS)
		return (status_of(rep));
	assert_int_equal(rep->op, OP_DATA);
	return (E_SUCCESS);
}

/* The st_ifmt of a path, or NULL if it does not exist (freed by caller). */
static char *
ifmt(struct fix *f, const char *path)
{
	struct reply	 rep;
	char		*s;

	if (stat_path(f, path, &rep) != E_SUCCESS)
		return (NULL);
	assert_non_null(kv_get(&rep, "st_ifmt"));
	s = xstrdup(kv_get(&rep, "st_ifmt"));
	reply_free(&rep);
	return (s);
}

static void
assert_ifmt(struct fix *f, const char *path, const char *want)
{
	char	*s;

	s = ifmt(f, path);
	assert_non_null(s);
	assert_string_equal(s, want);
	free(s);
}

/* READ_DIR joined with spaces, or NULL with *st set. */
static char *
list_dir(struct fix *f, const char *path, uint64_t *st)
{
	struct reply	 rep;
	char		*s;

	call(f, OP_READ_DIR, path, strlen(path) + 1, NULL, 0, &rep);
	if (rep.op == OP_STATUS) {
		*st = status_of(&rep);
		return (NULL);
	}
	*st = E_SUCCESS;
	s = join(&rep);
	reply_free(&rep);
	return (s);
}

static uint64_t
devinfo_free(struct fix *f)
{
	struct reply	rep;
	uint64_t	n;

	call(f, OP_GET_DEVINFO, NULL, 0, NULL, 0, &rep);
	assert_int_equal(rep.op, OP_DATA);
	n = kv_u64(&rep, "FSFreeBytes");
	reply_free(&rep);
	return (n);
}

/* Write a whole file with pattern seed in one request. */
static void
make_file(struct fix *f, const char *path, size_t len, unsigned int seed)
{
	unsigned char	*buf;
	uint64_t	 h;

	buf = xmalloc(len + 1);
	fill(buf, 0, len, seed);
	h = open_ok(f, M_W, path);
	assert_int_equal(write_file(f, h, buf, len), E_SUCCESS);
	assert_int_equal(handle_op(f, OP_FILE_CLOSE, h, 0, 0, 0), E_SUCCESS);
	free(buf);
}

/* A file's bytes straight from the filesystem match pattern seed. */
static void
assert_file(struct fix *f, const char *path, size_t len, unsigned int seed)
{
	unsigned char	*data, *want;
	size_t		 n;

	assert_int_equal(afc_fs_read_file(f->fs, path, &data, &n), 0);
	assert_int_equal(n, len);
	want = xmalloc(len + 1);
	fill(want, 0, len, seed);
	if (len != 0)
		assert_memory_equal(data, want, len);
	free(want);
	free(data);
}

static size_t
user_bytes(struct afc_fs *fs)
{
	static const char *const paths[] = {
		"/DCIM/100APPLE/IMG_0001.JPG",
		"/DCIM/100APPLE/IMG_0002.MOV",
		"/Downloads/notes.txt",
	};
	unsigned char	*data;
	size_t		 i, n, total = 0;

	for (i = 0; i < nitems(paths); i++) {
		assert_int_equal(afc_fs_read_file(fs, paths[i], &data, &n), 0);
		free(data);
		total += n;
	}
	return (total);
}

static void
lines_cb(void *arg, const char *line)
{
	struct lines	*l = arg;

	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = xstrdup(line);
}

static void
lines_free(struct lines *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Expect EOF from the server: afc_serve returned and the thread ended. */
static void
assert_served_out(struct fix *f)
{
	unsigned char	c;

	assert_int_equal(read_full(f->fd, &c, 1), 1);
}

static void
test_devinfo_and_space(void **state)
{
	struct fix	*f = *state;
	struct reply	 rep;
	unsigned char	*buf;
	uint64_t	 h, base;
	char		*s;

	call(f, OP_GET_DEVINFO, NULL, 0, NULL, 0, &rep);
	s = join(&rep);
	/* The keys come in afcd's order. */
	assert_non_null(strstr(s, "Model "));
	assert_true(strstr(s, "Model ") < strstr(s, "FSTotalBytes "));
	assert_true(strstr(s, "FSTotalBytes ") < strstr(s, "FSFreeBytes "));
	assert_true(strstr(s, "FSFreeBytes ") < strstr(s, "FSBlockSize "));
	free(s);
	assert_true(strlen(kv_get(&rep, "Model")) > 0);
	assert_int_equal(kv_u64(&rep, "FSTotalBytes"), CAPACITY);
	assert_int_equal(kv_u64(&rep, "FSBlockSize"), 4096);
	base = kv_u64(&rep, "FSFreeBytes");
	reply_free(&rep);
	assert_true(user_bytes(f->fs) > 12288);
	assert_int_equal(base, CAPACITY - user_bytes(f->fs));
	assert_int_equal(afc_fs_free_bytes(f->fs), base);

	/* A new file costs its size; directories cost nothing. */
	assert_int_equal(path_op(f, OP_MAKE_DIR, "/linkq/a/b"), E_SUCCESS);
	assert_int_equal(devinfo_free(f), base);
	buf = xcalloc(1, 100000);
	h = open_ok(f, M_WPLUS, "/linkq/acct");
	assert_int_equal(write_file(f, h, buf, 100000), E_SUCCESS);
	assert_int_equal(devinfo_free(f), base - 100000);
	/* Overwriting in place costs nothing more. */
	assert_int_equal(handle_op(f, OP_FILE_SEEK, h, 2, 0, 1000),
	    E_SUCCESS);
	assert_int_equal(write_file(f, h, buf, 50000), E_SUCCESS);
	assert_int_equal(devinfo_free(f), base - 100000);
	/* Growing past the end costs only the growth. */
	assert_int_equal(handle_op(f, OP_FILE_SEEK, h, 2, 2, 0), E_SUCCESS);
	assert_int_equal(write_file(f, h, buf, 1000), E_SUCCESS);
	assert_int_equal(afc_fs_free_bytes(f->fs), base - 101000);
	assert_int_equal(handle_op(f, OP_FILE_CLOSE, h, 0, 0, 0), E_SUCCESS);
	/* Removing gives it back. */
	assert_int_equal(path_op(f, OP_REMOVE_PATH, "/linkq/acct"),
	    E_SUCCESS);
	assert_int_equal(devinfo_free(f), base);
	free(buf);
}

static void
test_make_dir(void **state)
{
	struct fix	*f = *state;

	assert_int_equal(path_op(f, OP_MAKE_DIR, "/linkq/a/b/c"), E_SUCCESS);
	assert_ifmt(f, "/linkq", "S_IFDIR");
	assert_ifmt(f, "/linkq/a", "S_IFDIR");
	assert_ifmt(f, "/linkq/a/b/c", "S_IFDIR");
	/* An existing directory is success, as is the root. */
	assert_int_equal(path_op(f, OP_MAKE_DIR, "/linkq/a/b/c"), E_SUCCESS);
	assert_int_equal(path_op(f, OP_MAKE_DIR, "/linkq/a"), E_SUCCESS);
	assert_int_equal(path_op(f, OP_MAKE_DIR, "/"), E_SUCCESS);
	/* Relative to the root. */
	assert_int_equal(path_op(f, OP_MAKE_DIR, "linkq/rel"), E_SUCCESS);
	assert_ifmt(f, "/linkq/rel", "S_IFDIR");
	/* A file in the way. */
	assert_int_equal(path_op(f, OP_MAKE_DIR, "/Downloads/notes.txt"),
	    E_EXISTS);
	assert_int_equal(path_op(f, OP_MAKE_DIR, "/Downloads/notes.txt/x"),
	    E_EXISTS);
	assert_ifmt(f, "/Downloads/notes.txt", "S_IFREG");
}

/* 4 MiB in 128 KiB writes, read back in 128 KiB and odd-sized reads. */
static void
test_write_read_4mib(void **state)
{
	struct fix	*f = *state;
	unsigned char	*buf, *got;
	size_t		 size = 4 * MIB, chunk = 128 * KIB, off;
	long long	 n;
	uint64_t	 h, base;

	base = afc_fs_free_bytes(f->fs);
	buf = xmalloc(size);
	got = xmalloc(size);
	fill(buf, 0, size, 1);
	assert_int_equal(path_op(f, OP_MAKE_DIR, "/linkq"), E_SUCCESS);
	h = open_ok(f, M_W, "/linkq/stream.bin");
	for (off = 0; off < size; off += chunk)
		assert_int_equal(write_file(f, h, buf + off, chunk),
		    E_SUCCESS);
	assert_int_equal(tell(f, h), size);
	assert_int_equal(handle_op(f, OP_FILE_CLOSE, h, 0, 0, 0), E_SUCCESS);
	assert_int_equal(afc_fs_free_bytes(f->fs), base - size);
	assert_file(f, "/linkq/stream.bin", size, 1);

	h = open_ok(f, M_R, "/linkq/stream.bin");
	memset(got, 0, size);
	for (off = 0; off < size; off += (size_t)n) {
		n = read_file(f, h, got + off, chunk);
		assert_int_equal(n, chunk);
	}
	assert_memory_equal(got, buf, size);
	/* At the end: an empty DATA packet, success with 0 bytes. */
	assert_int_equal(read_file(f, h, got, chunk), 0);
	/* A read larger than what is left returns what is left. */
	assert_int_equal(handle_op(f, OP_FILE_SEEK, h, 2, 2,
	    (uint64_t)-1000), E_SUCCESS);
	memset(got, 0, 1000);
	assert_int_equal(read_file(f, h, got, 5000), 1000);
	assert_memory_equal(got, buf + size - 1000, 1000);
	assert_int_equal(handle_op(f, OP_FILE_CLOSE, h, 0, 0, 0), E_SUCCESS);
	free(buf);
	free(got);
}

/* 64 MiB: the largest single write, then large reads; must be quick. */
static void
test_write_read_64mib(void **state)
{
	struct fix	*f = *state;
	unsigned char	*buf, *got;
	size_t		 size = AFC_MAX_DATA - 8, off;
	long long	 n;
	uint64_t	 h;

	buf = xmalloc(size);
	got = xmalloc(16 * MIB);
	fill(buf, 0, size, 2);
	h = open_ok(f, M_W, "/big.bin");
	/* The handle's 8 bytes of header-data plus the payload. */
	assert_int_equal(write_file(f, h, buf, size), E_SUCCESS);
	assert_int_equal(handle_op(f, OP_FILE_CLOSE, h, 0, 0, 0), E_SUCCESS);
	h = open_ok(f, M_R, "/big.bin");
	for (off = 0; off < size; off += (size_t)n) {
		n = read_file(f, h, got, 16 * MIB);
		assert_true(n > 0);
		assert_memory_equal(got, buf + off, (size_t)n);
	}
	assert_int_equal(off, size);
	assert_int_equal(handle_op(f, OP_FILE_CLOSE, h, 0, 0, 0), E_SUCCESS);
	/* Many small appends to one file stay linear. */
	h = open_ok(f, M_A, "/big.bin");
	for (off = 0; off < 4096; off++)
		assert_int_equal(write_file(f, h, buf, 4096), E_SUCCESS);
	assert_int_equal(handle_op(f, OP_FILE_CLOSE, h, 0, 0, 0), E_SUCCESS);
	assert_int_equal(path_op(f, OP_REMOVE_PATH, "/big.bin"), E_SUCCESS);
	free(buf);
	free(got);
}

static void
test_read_dir(void **state)
{
	struct fix	*f = *state;
	uint64_t	 st;
	char		*s;

	s = list_dir(f, "/", &st);
	assert_non_null(s);
	assert_string_equal(s, ". .. Books DCIM Downloads");
	free(s);
	s = list_dir(f, "/DCIM/100APPLE", &st);
	assert_non_null(s);
	assert_string_equal(s, ". .. IMG_0001.JPG IMG_0002.MOV");
	free(s);
	s = list_dir(f, "/Books", &st);
	assert_non_null(s);
	assert_string_equal(s, ". ..");
	free(s);

	assert_int_equal(path_op(f, OP_MAKE_DIR, "/linkq/sub"), E_SUCCESS);
	make_file(f, "/linkq/b", 10, 0);
	make_file(f, "/linkq/a", 10, 0);
	s = list_dir(f, "/linkq", &st);
	assert_non_null(s);
	assert_string_equal(s, ". .. a b sub");
	free(s);
	s = list_dir(f, "/", &st);
	assert_string_equal(s, ". .. Books DCIM Downloads linkq");
	free(s);

	assert_null(list_dir(f, "/nope", &st));
	assert_int_equal(st, E_NOT_FOUND);
	assert_null(list_dir(f, "/linkq/a", &st));
	assert_int_equal(st, E_INVALID_ARG);
}

static void
test_file_info(void **state)
{
	struct fix	*f = *state;
	struct reply	 rep;
	uint64_t	 mtime, now_ns;
	char		*s;

	now_ns = (uint64_t)time(NULL) * UINT64_C(1000000000);
	assert_int_equal(stat_path(f, "/DCIM/100APPLE/IMG_0001.JPG", &rep),
	    E_SUCCESS);
	s = join(&rep);
	assert_true(strncmp(s, "st_size 4096 st_blocks 8 st_nlink 1 "
	    "st_ifmt S_IFREG st_mtime ", strlen("st_size 4096 st_blocks 8 "
	    "st_nlink 1 st_ifmt S_IFREG st_mtime ")) == 0);
	free(s);
	mtime = kv_u64(&rep, "st_mtime");
	/* Nanoseconds: within a minute of now. */
	assert_true(mtime + UINT64_C(60000000000) > now_ns);
	assert_true(mtime < now_ns + UINT64_C(60000000000));
	assert_true(kv_u64(&rep, "st_birthtime") <= mtime);
	assert_true(kv_u64(&rep, "st_birthtime") + UINT64_C(60000000000) >
	    now_ns);
	reply_free(&rep);

	assert_int_equal(stat_path(f, "/DCIM", &rep), E_SUCCESS);
	assert_string_equal(kv_get(&rep, "st_ifmt"), "S_IFDIR");
	assert_int_equal(kv_u64(&rep, "st_nlink"), 3);
	reply_free(&rep);
	assert_ifmt(f, "/", "S_IFDIR");
	assert_int_equal(stat_path(f, "/DCIM/nope", &rep), E_NOT_FOUND);
	assert_int_equal(stat_path(f, "/Downloads/notes.txt/x", &rep),
	    E_NOT_FOUND);

	/* A size of 4097 takes two 4 KiB blocks. */
	make_file(f, "/x", 4097, 0);
	assert_int_equal(stat_path(f, "/x", &rep), E_SUCCESS);
	assert_int_equal(kv_u64(&rep, "st_size"), 4097);
	assert_int_equal(kv_u64(&rep, "st_blocks"), 16);
	reply_free(&rep);

	assert_int_equal(u64_path_op(f, OP_SET_FILE_MOD_TIME,
	    UINT64_C(1234567890123456789), "/x"), E_SUCCESS);
	assert_int_equal(stat_path(f, "/x", &rep), E_SUCCESS);
	assert_int_equal(kv_u64(&rep, "st_mtime"),
	    UINT64_C(1234567890123456789));
	reply_free(&rep);
	assert_int_equal(u64_path_op(f, OP_SET_FILE_MOD_TIME, 1, "/nope"),
	    E_NOT_FOUND);
}

static void
test_rename(void **state)
{
	struct fix	*f = *state;
	uint64_t	 base;

	assert_int_equal(path_op(f, OP_MAKE_DIR, "/linkq/d"), E_SUCCESS);
	make_file(f, "/linkq/a", 1000, 3);
	assert_int_equal(rename_op(f, "/linkq/a", "/linkq/b"), E_SUCCESS);
	assert_null(ifmt(f, "/linkq/a"));
	assert_file(f, "/linkq/b", 1000, 3);

	/* A file replaces a file, and the old one's space comes back. */
	make_file(f, "/linkq/c", 500, 4);
	base = afc_fs_free_bytes(f->fs);
	assert_int_equal(rename_op(f, "/linkq/b", "/linkq/c"), E_SUCCESS);
	assert_file(f, "/linkq/c", 1000, 3);
	assert_null(ifmt(f, "/linkq/b"));
	assert_int_equal(afc_fs_free_bytes(f->fs), base + 500);

	/* Directories move with what is in them. */
	assert_int_equal(rename_op(f, "/linkq/c", "/linkq/d/c"), E_SUCCESS);
	assert_int_equal(rename_op(f, "/linkq/d", "/moved"), E_SUCCESS);
	assert_file(f, "/moved/c", 1000, 3);
	assert_null(ifmt(f, "/linkq/d"));

	assert_int_equal(rename_op(f, "/linkq/nope", "/linkq/x"),
	    E_NOT_FOUND);
	assert_int_equal(rename_op(f, "/moved/c", "/nodir/c"), E_NOT_FOUND);
	assert_int_equal(rename_op(f, "/moved", "/moved/inside"),
	    E_INVALID_ARG);
	/* A file onto a directory, or onto a directory with entries. */
	assert_int_equal(rename_op(f, "/moved/c", "/Books"), E_EXISTS);
	assert_int_equal(rename_op(f, "/Books", "/DCIM"), E_EXISTS);
	/* Onto itself. */
	assert_int_equal(rename_op(f, "/moved/c", "/moved/./c"), E_SUCCESS);
	assert_file(f, "/moved/c", 1000, 3);
	assert_ifmt(f, "/DCIM/100APPLE", "S_IFDIR");
}

static void
test_remove(void **state)
{
	struct fix	*f = *state;
	uint64_t	 base;
	char		*s;
	uint64_t	 st;

	base = afc_fs_free_bytes(f->fs);
	assert_int_equal(path_op(f, OP_MAKE_DIR, "/linkq/d/e"), E_SUCCESS);
	make_file(f, "/linkq/d/f", 10, 0);
	make_file(f, "/linkq/d/e/g", 20, 0);
	assert_int_equal(afc_fs_free_bytes(f->fs), base - 30);

	/* Status 1, which the client reports as "directory not empty". */
	assert_int_equal(path_op(f, OP_REMOVE_PATH, "/linkq/d"), E_UNKNOWN);
	assert_ifmt(f, "/linkq/d/f", "S_IFREG");
	assert_int_equal(path_op(f, OP_REMOVE_ALL, "/linkq/d"), E_SUCCESS);
	assert_null(ifmt(f, "/linkq/d"));
	assert_null(ifmt(f, "/linkq/d/e/g"));
	assert_int_equal(afc_fs_free_bytes(f->fs), base);

	assert_int_equal(path_op(f, OP_REMOVE_PATH, "/linkq/nope"),
	    E_NOT_FOUND);
	assert_int_equal(path_op(f, OP_REMOVE_ALL, "/linkq/nope"),
	    E_NOT_FOUND);
	assert_int_equal(path_op(f, OP_REMOVE_PATH, "/linkq"), E_SUCCESS);
	/* The root stays, whatever is asked. */
	assert_int_not_equal(path_op(f, OP_REMOVE_ALL, "/"), E_SUCCESS);
	assert_int_not_equal(path_op(f, OP_REMOVE_PATH, "/../.."),
	    E_SUCCESS);
	s = list_dir(f, "/", &st);
	assert_string_equal(s, ". .. Books DCIM Downloads");
	free(s);
}

static void
test_open_errors(void **state)
{
	struct fix	*f = *state;
	unsigned char	 buf[64];
	uint64_t	 h1, h2, h;

	assert_int_equal(open_file(f, M_R, "/Downloads/missing.txt", &h),
	    E_NOT_FOUND);
	assert_null(ifmt(f, "/Downloads/missing.txt"));
	assert_int_equal(open_file(f, M_W, "/nodir/x", &h), E_NOT_FOUND);
	assert_int_equal(open_file(f, M_R, "/DCIM", &h), E_IS_DIR);
	assert_int_equal(open_file(f, M_W, "/DCIM", &h), E_IS_DIR);
	assert_int_equal(open_file(f, M_R, "/", &h), E_IS_DIR);
	assert_int_equal(open_file(f, 0, "/Downloads/notes.txt", &h),
	    E_INVALID_ARG);
	assert_int_equal(open_file(f, 7, "/Downloads/notes.txt", &h),
	    E_INVALID_ARG);

	/* Handles are non-zero and unique. */
	h1 = open_ok(f, M_R, "/Downloads/notes.txt");
	h2 = open_ok(f, M_R, "/Downloads/notes.txt");
	assert_int_not_equal(h1, h2);

	/* A read-only handle cannot write; the file is unchanged. */
	assert_int_equal(write_file(f, h1, "x", 1), E_INVALID_ARG);
	assert_true(read_file(f, h1, buf, sizeof(buf)) > 0);
	assert_int_equal(memcmp(buf, "Call", 4), 0);

	/* Unknown handles. */
	assert_int_equal(read_file(f, 999999, buf, 10), -E_INVALID_ARG);
	assert_int_equal(write_file(f, 999999, "x", 1), E_INVALID_ARG);
	assert_int_equal(handle_op(f, OP_FILE_SEEK, 999999, 2, 0, 0),
	    E_INVALID_ARG);
	assert_int_equal(handle_op(f, OP_FILE_CLOSE, 999999, 0, 0, 0),
	    E_INVALID_ARG);
	assert_int_equal(handle_op(f, OP_FILE_CLOSE, h1, 0, 0, 0), E_SUCCESS);
	assert_int_equal(handle_op(f, OP_FILE_CLOSE, h1, 0, 0, 0),
	    E_INVALID_ARG);
	assert_int_equal(handle_op(f, OP_FILE_CLOSE, h2, 0, 0, 0), E_SUCCESS);

	/*
	 * A path without its NUL ends with the header-data, as on a
	 * device (go-ios sends READ_DIR and GET_FILE_INFO paths so).
	 */
	{
		struct reply	 rep;
		char		*s;

		call(f, OP_READ_DIR, "/Books", 6, NULL, 0, &rep);
		s = join(&rep);
		assert_string_equal(s, ". ..");
		free(s);
		reply_free(&rep);
		call(f, OP_GET_FILE_INFO, "/DCIM", 5, NULL, 0, &rep);
		assert_int_equal(rep.op, OP_DATA);
		assert_string_equal(kv_get(&rep, "st_ifmt"), "S_IFDIR");
		reply_free(&rep);
	}

	/* Malformed arguments: an error, and the connection goes on. */
	assert_int_equal(call_status(f, OP_FILE_OPEN, "\1\0\0", 3, NULL, 0),
	    E_INVALID_ARG);
	put64(buf, 1);
	assert_int_equal(call_status(f, OP_FILE_READ, buf, 8, NULL, 0),
	    E_INVALID_ARG);
	assert_int_equal(call_status(f, OP_FILE_WRITE, buf, 4, NULL, 0),
	    E_INVALID_ARG);
	assert_int_equal(call_status(f, OP_RENAME_PATH, "/a", 3, NULL, 0),
	    E_INVALID_ARG);
	assert_int_equal(call_status(f, OP_GET_FILE_INFO, NULL, 0, NULL, 0),
	    E_INVALID_ARG);
	assert_int_equal(devinfo_free(f), afc_fs_free_bytes(f->fs));
}

static void
test_modes_and_seek(void **state)
{
	struct fix	*f = *state;
	unsigned char	 buf[64], zero[9], *data;
	uint64_t	 h, h2;
	size_t		 n;

	/* r+ creates; seeks; whence 0, 1, 2. */
	h = open_ok(f, M_RPLUS, "/m");
	assert_int_equal(write_file(f, h, "hello world", 11), E_SUCCESS);
	assert_int_equal(handle_op(f, OP_FILE_SEEK, h, 2, 0, 6), E_SUCCESS);
	assert_int_equal(write_file(f, h, "WORLD", 5), E_SUCCESS);
	assert_int_equal(tell(f, h), 11);
	assert_int_equal(handle_op(f, OP_FILE_SEEK, h, 2, 2, (uint64_t)-5),
	    E_SUCCESS);
	assert_int_equal(tell(f, h), 6);
	assert_int_equal(handle_op(f, OP_FILE_SEEK, h, 2, 1, (uint64_t)-2),
	    E_SUCCESS);
	assert_int_equal(tell(f, h), 4);
	assert_int_equal(handle_op(f, OP_FILE_SEEK, h, 2, 1, (uint64_t)-5),
	    E_INVALID_ARG);
	assert_int_equal(handle_op(f, OP_FILE_SEEK, h, 2, 3, 0),
	    E_INVALID_ARG);
	assert_int_equal(tell(f, h), 4);
	assert_int_equal(handle_op(f, OP_FILE_SEEK, h, 2, 0, 0), E_SUCCESS);
	assert_int_equal(read_file(f, h, buf, sizeof(buf)), 11);
	assert_memory_equal(buf, "hello WORLD", 11);
	assert_int_equal(handle_op(f, OP_FILE_LOCK, h, 1, 6, 0), E_SUCCESS);
	assert_int_equal(handle_op(f, OP_FILE_LOCK, h, 1, 12, 0), E_SUCCESS);
	assert_int_equal(handle_op(f, OP_FILE_LOCK, 4242, 1, 6, 0),
	    E_INVALID_ARG);
	assert_int_equal(handle_op(f, OP_FILE_CLOSE, h, 0, 0, 0), E_SUCCESS);

	/* a writes at the end whatever the position; it cannot read. */
	h = open_ok(f, M_A, "/m");
	assert_int_equal(handle_op(f, OP_FILE_SEEK, h, 2, 0, 0), E_SUCCESS);
	assert_int_equal(write_file(f, h, "!", 1), E_SUCCESS);
	assert_int_equal(read_file(f, h, buf, 1), -E_INVALID_ARG);
	assert_int_equal(handle_op(f, OP_FILE_CLOSE, h, 0, 0, 0), E_SUCCESS);
	/* a+ reads from the position. */
	h = open_ok(f, M_APLUS, "/m");
	assert_int_equal(read_file(f, h, buf, sizeof(buf)), 12);
	assert_memory_equal(buf, "hello WORLD!", 12);
	assert_int_equal(handle_op(f, OP_FILE_CLOSE, h, 0, 0, 0), E_SUCCESS);
	/* w cannot read; w+ truncates. */
	h = open_ok(f, M_W, "/m2");
	assert_int_equal(read_file(f, h, buf, 1), -E_INVALID_ARG);
	assert_int_equal(handle_op(f, OP_FILE_CLOSE, h, 0, 0, 0), E_SUCCESS);
	h = open_ok(f, M_WPLUS, "/m");
	assert_int_equal(read_file(f, h, buf, sizeof(buf)), 0);

	/* FILE_SET_SIZE shrinks and grows with zeros. */
	assert_int_equal(write_file(f, h, "abcdef", 6), E_SUCCESS);
	assert_int_equal(handle_op(f, OP_FILE_SET_SIZE, h, 1, 3, 0),
	    E_SUCCESS);
	assert_int_equal(handle_op(f, OP_FILE_SET_SIZE, h, 1, 6, 0),
	    E_SUCCESS);
	assert_int_equal(handle_op(f, OP_FILE_SEEK, h, 2, 0, 0), E_SUCCESS);
	assert_int_equal(read_file(f, h, buf, sizeof(buf)), 6);
	assert_memory_equal(buf, "abc\0\0\0", 6);
	/* A write past the end leaves zeros in the gap. */
	assert_int_equal(handle_op(f, OP_FILE_SEEK, h, 2, 0, 10), E_SUCCESS);
	assert_int_equal(write_file(f, h, "z", 1), E_SUCCESS);
	assert_int_equal(handle_op(f, OP_FILE_SEEK, h, 2, 0, 0), E_SUCCESS);
	assert_int_equal(read_file(f, h, buf, sizeof(buf)), 11);
	memset(zero, 0, sizeof(zero));
	assert_memory_equal(buf, "abc", 3);
	assert_memory_equal(buf + 3, zero, 7);
	assert_int_equal(buf[10], 'z');

	/* Two handles on one file see each other's writes. */
	h2 = open_ok(f, M_R, "/m");
	assert_int_equal(read_file(f, h2, buf, sizeof(buf)), 11);
	assert_int_equal(buf[10], 'z');
	assert_int_equal(handle_op(f, OP_FILE_CLOSE, h2, 0, 0, 0), E_SUCCESS);
	assert_int_equal(handle_op(f, OP_FILE_CLOSE, h, 0, 0, 0), E_SUCCESS);

	/* TRUNCATE by path. */
	assert_int_equal(u64_path_op(f, OP_TRUNCATE, 1, "/m"), E_SUCCESS);
	assert_int_equal(afc_fs_read_file(f->fs, "/m", &data, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(data[0], 'a');
	free(data);
	assert_file(f, "/m2", 0, 0);
	assert_int_equal(u64_path_op(f, OP_TRUNCATE, 0, "/nope"),
	    E_NOT_FOUND);
	assert_int_equal(u64_path_op(f, OP_TRUNCATE, 0, "/DCIM"), E_IS_DIR);
}

static void
test_no_space(void **state)
{
	struct fix	*f;
	struct lines	 l = { NULL, 0 };
	unsigned char	*buf;
	uint64_t	 h;

	(void)state;
	f = fix_start(afc_fs_create(MIB), 1);
	buf = xmalloc(MIB);
	fill(buf, 0, MIB, 0);
	assert_int_equal(devinfo_free(f), MIB);
	h = open_ok(f, M_W, "/fill");
	assert_int_equal(write_file(f, h, buf, 768 * KIB), E_SUCCESS);
	assert_int_equal(devinfo_free(f), 256 * KIB);

	/* Too big: error 18 and nothing written. */
	afc_fs_oplog_clear(f->fs);
	assert_int_equal(write_file(f, h, buf, 512 * KIB), E_NO_SPACE);
	assert_int_equal(devinfo_free(f), 256 * KIB);
	assert_int_equal(tell(f, h), 768 * KIB);
	assert_file(f, "/fill", 768 * KIB, 0);
	afc_fs_oplog(f->fs, lines_cb, &l);
	assert_true(l.n >= 1);
	assert_string_equal(l.v[0], "FILE_WRITE /fill 524288");
	lines_free(&l);

	assert_int_equal(handle_op(f, OP_FILE_SET_SIZE, h, 1, 2 * MIB, 0),
	    E_NO_SPACE);
	assert_int_equal(u64_path_op(f, OP_TRUNCATE, 2 * MIB, "/fill"),
	    E_NO_SPACE);
	assert_int_equal(handle_op(f, OP_FILE_SEEK, h, 2, 0, 4 * MIB),
	    E_SUCCESS);
	assert_int_equal(write_file(f, h, buf, 1), E_NO_SPACE);
	assert_int_equal(handle_op(f, OP_FILE_SEEK, h, 2, 2, 0), E_SUCCESS);
	assert_int_equal(afc_fs_free_bytes(f->fs), 256 * KIB);

	/* Exactly full is fine; one byte more is not. */
	assert_int_equal(write_file(f, h, buf, 256 * KIB), E_SUCCESS);
	assert_int_equal(devinfo_free(f), 0);
	assert_int_equal(write_file(f, h, buf, 1), E_NO_SPACE);
	/* Overwriting in place needs no space. */
	assert_int_equal(handle_op(f, OP_FILE_SEEK, h, 2, 0, 0), E_SUCCESS);
	assert_int_equal(write_file(f, h, buf, 4096), E_SUCCESS);
	assert_int_equal(handle_op(f, OP_FILE_CLOSE, h, 0, 0, 0), E_SUCCESS);
	assert_int_equal(path_op(f, OP_REMOVE_PATH, "/fill"), E_SUCCESS);
	assert_int_equal(devinfo_free(f), MIB);
	free(buf);
	fix_stop(f);
}

static void
test_unknown_op(void **state)
{
	struct fix	*f = *state;

	assert_int_equal(path_op(f, OP_GET_FILE_HASH, "/Downloads/notes.txt"),
	    E_NOT_SUPPORTED);
	assert_int_equal(call_status(f, 0x12345, NULL, 0, NULL, 0),
	    E_NOT_SUPPORTED);
	assert_int_equal(call_status(f, 0, NULL, 0, NULL, 0),
	    E_NOT_SUPPORTED);
	assert_int_equal(call_status(f, OP_STATUS, "\0\0\0\0\0\0\0\0", 8,
	    NULL, 0), E_NOT_SUPPORTED);
	/* The connection is still good. */
	assert_int_equal(devinfo_free(f), afc_fs_free_bytes(f->fs));
}

/* Each malformed header ends afc_serve, on a fresh connection. */
static void
test_malformed(void **state)
{
	struct fix	*f;
	struct afc_fs	*fs;
	uint64_t	 cap = HDR + (uint64_t)AFC_MAX_ARGS + AFC_MAX_DATA;

	(void)state;
	fs = afc_fs_create(CAPACITY);
	afc_fs_populate(fs);

	/* this_length > entire_length. */
	f = fix_start(fs, 0);
	assert_int_equal(devinfo_free(f), afc_fs_free_bytes(fs));
	send_header(f, "CFA6LPAA", HDR + 8, HDR + 16, OP_FILE_CLOSE);
	assert_served_out(f);
	fix_stop(f);

	/* this_length < 40. */
	f = fix_start(fs, 0);
	send_header(f, "CFA6LPAA", HDR, 8, OP_GET_DEVINFO);
	assert_served_out(f);
	fix_stop(f);

	/*
	 * entire_length over the cap, and absurd. A FILE_WRITE with its
	 * handle in the header-data is streamed whatever its size, so it
	 * ends only when the client does, without its data.
	 */
	f = fix_start(fs, 0);
	send_header(f, "CFA6LPAA", HDR + 8 + (uint64_t)AFC_MAX_DATA + 1,
	    HDR + 8, OP_FILE_WRITE);
	assert_int_equal(write(f->fd, "\1\0\0\0\0\0\0\0", 8), 8);
	assert_int_equal(shutdown(f->fd, SHUT_WR), 0);
	assert_served_out(f);
	fix_stop(f);
	f = fix_start(fs, 0);
	send_header(f, "CFA6LPAA", UINT64_MAX, HDR, OP_FILE_WRITE);
	assert_served_out(f);
	fix_stop(f);
	f = fix_start(fs, 0);
	send_header(f, "CFA6LPAA", cap + 1, cap + 1, OP_READ_DIR);
	assert_served_out(f);
	fix_stop(f);

	/* Header-data over its cap. */
	f = fix_start(fs, 0);
	send_header(f, "CFA6LPAA", HDR + AFC_MAX_ARGS + 1,
	    HDR + AFC_MAX_ARGS + 1, OP_READ_DIR);
	assert_served_out(f);
	fix_stop(f);

	/* Bad magic. */
	f = fix_start(fs, 0);
	send_header(f, "CFA6LPAB", HDR, HDR, OP_GET_DEVINFO);
	assert_served_out(f);
	fix_stop(f);

	/* A body cut short by the client going away. */
	f = fix_start(fs, 0);
	send_header(f, "CFA6LPAA", HDR + 100, HDR + 100, OP_READ_DIR);
	fix_stop(f);

	/* The filesystem is untouched and still served. */
	f = fix_start(fs, 0);
	assert_int_equal(devinfo_free(f), CAPACITY - user_bytes(fs));
	fix_stop(f);
	afc_fs_free(fs);
}

static void
test_oplog(void **state)
{
	static const char *const want[] = {
		"MAKE_DIR /linkq",
		"FILE_OPEN w+ /linkq/x",
		"FILE_WRITE /linkq/x 131072",
		"FILE_SEEK /linkq/x 0 0",
		"FILE_READ /linkq/x 65536",
		"FILE_TELL /linkq/x",
		"FILE_SET_SIZE /linkq/x 100",
		"FILE_LOCK /linkq/x 6",
		"FILE_CLOSE /linkq/x",
		"READ_DIR /",
		"GET_FILE_INFO /linkq/x",
		"RENAME_PATH /linkq/x /linkq/y",
		"TRUNCATE /linkq/y 0",
		"SET_FILE_MOD_TIME /linkq/y 5",
		"REMOVE_PATH /linkq/y",
		"REMOVE_PATH_AND_CONTENTS /linkq",
		"FILE_CLOSE #4242",
		"FILE_OPEN r /Downloads/missing",
		"GET_DEVINFO",
		"UNSUPPORTED 0x1d",
		"READ_DIR /x",
	};
	struct fix	*f = *state;
	struct lines	 l = { NULL, 0 };
	struct reply	 rep;
	unsigned char	*buf;
	uint64_t	 h;
	size_t		 i;
	char		*s;
	uint64_t	 st;

	/* Populating logs nothing. */
	afc_fs_oplog(f->fs, lines_cb, &l);
	assert_int_equal(l.n, 0);

	buf = xcalloc(1, 128 * KIB);
	assert_int_equal(path_op(f, OP_MAKE_DIR, "//linkq/"), E_SUCCESS);
	h = open_ok(f, M_WPLUS, "/linkq/./x");
	assert_int_equal(write_file(f, h, buf, 128 * KIB), E_SUCCESS);
	assert_int_equal(handle_op(f, OP_FILE_SEEK, h, 2, 0, 0), E_SUCCESS);
	assert_int_equal(read_file(f, h, buf, 64 * KIB), 64 * KIB);
	assert_int_equal(tell(f, h), 64 * KIB);
	assert_int_equal(handle_op(f, OP_FILE_SET_SIZE, h, 1, 100, 0),
	    E_SUCCESS);
	assert_int_equal(handle_op(f, OP_FILE_LOCK, h, 1, 6, 0), E_SUCCESS);
	assert_int_equal(handle_op(f, OP_FILE_CLOSE, h, 0, 0, 0), E_SUCCESS);
	s = list_dir(f, "/", &st);
	free(s);
	assert_int_equal(stat_path(f, "/linkq/../linkq/x", &rep), E_SUCCESS);
	reply_free(&rep);
	assert_int_equal(rename_op(f, "/linkq/x", "linkq/y"), E_SUCCESS);
	assert_int_equal(u64_path_op(f, OP_TRUNCATE, 0, "/linkq/y"),
	    E_SUCCESS);
	assert_int_equal(u64_path_op(f, OP_SET_FILE_MOD_TIME, 5, "/linkq/y"),
	    E_SUCCESS);
	assert_int_equal(path_op(f, OP_REMOVE_PATH, "/linkq/y"), E_SUCCESS);
	assert_int_equal(path_op(f, OP_REMOVE_ALL, "/linkq"), E_SUCCESS);
	assert_int_equal(handle_op(f, OP_FILE_CLOSE, 4242, 0, 0, 0),
	    E_INVALID_ARG);
	assert_int_equal(open_file(f, M_R, "/Downloads/missing", &h),
	    E_NOT_FOUND);
	(void)devinfo_free(f);
	assert_int_equal(path_op(f, OP_GET_FILE_HASH, "/x"), E_NOT_SUPPORTED);
	/* A path without its NUL is still a path. */
	assert_int_equal(call_status(f, OP_READ_DIR, "/x", 2, NULL, 0),
	    E_NOT_FOUND);

	afc_fs_oplog(f->fs, lines_cb, &l);
	for (i = 0; i < l.n && i < nitems(want); i++)
		assert_string_equal(l.v[i], want[i]);
	assert_int_equal(l.n, nitems(want));
	lines_free(&l);

	afc_fs_oplog_clear(f->fs);
	afc_fs_oplog(f->fs, lines_cb, &l);
	assert_int_equal(l.n, 0);
	free(buf);
}

/* The populated user content is there, readable and exact. */
static void
test_user_content(void **state)
{
	struct fix	*f = *state;
	unsigned char	*data, buf[16384];
	size_t		 n, i;
	uint64_t	 h, st;
	char		*s;

	assert_int_equal(afc_fs_read_file(f->fs,
	    "/DCIM/100APPLE/IMG_0001.JPG", &data, &n), 0);
	assert_true(n >= 1024);
	for (i = 0; i < n; i++)
		assert_int_equal(data[i], (i * 31 + 7) & 0xff);
	free(data);

	/* Over the wire too, in one read of more than the file. */
	h = open_ok(f, M_R, "/DCIM/100APPLE/IMG_0001.JPG");
	assert_int_equal(read_file(f, h, buf, sizeof(buf)), n);
	for (i = 0; i < n; i++)
		assert_int_equal(buf[i], (i * 31 + 7) & 0xff);
	assert_int_equal(read_file(f, h, buf, sizeof(buf)), 0);
	assert_int_equal(handle_op(f, OP_FILE_CLOSE, h, 0, 0, 0), E_SUCCESS);

	assert_int_equal(afc_fs_read_file(f->fs,
	    "/DCIM/100APPLE/IMG_0002.MOV", &data, &n), 0);
	assert_true(n > 0);
	free(data);
	assert_int_equal(afc_fs_read_file(f->fs, "/Downloads/notes.txt",
	    &data, &n), 0);
	assert_true(n > 0);
	assert_int_equal(data[n - 1], '\n');
	free(data);
	assert_ifmt(f, "/Books", "S_IFDIR");
	s = list_dir(f, "/Books", &st);
	assert_string_equal(s, ". ..");
	free(s);

	/* Absent paths and directories are -1. */
	assert_int_equal(afc_fs_read_file(f->fs, "/nope", &data, &n), -1);
	assert_null(data);
	assert_int_equal(afc_fs_read_file(f->fs, "/Books", &data, &n), -1);
}

/* Paths are normalised and never leave the root. */
static void
test_paths(void **state)
{
	struct fix	*f = *state;
	struct lines	 l = { NULL, 0 };
	char		 longname[300], path[310];
	uint64_t	 st;
	char		*s;

	assert_ifmt(f, "/../../Downloads/notes.txt", "S_IFREG");
	assert_ifmt(f, "Downloads/notes.txt", "S_IFREG");
	assert_ifmt(f, "//DCIM///100APPLE/./IMG_0001.JPG", "S_IFREG");
	assert_ifmt(f, "/DCIM/100APPLE/../../Downloads/notes.txt",
	    "S_IFREG");
	assert_ifmt(f, "..", "S_IFDIR");
	assert_ifmt(f, "", "S_IFDIR");
	s = list_dir(f, "/..", &st);
	assert_string_equal(s, ". .. Books DCIM Downloads");
	free(s);

	afc_fs_oplog_clear(f->fs);
	assert_int_equal(path_op(f, OP_MAKE_DIR, "/linkq/../../../escape"),
	    E_SUCCESS);
	assert_ifmt(f, "/escape", "S_IFDIR");
	afc_fs_oplog(f->fs, lines_cb, &l);
	assert_true(l.n >= 1);
	assert_string_equal(l.v[0], "MAKE_DIR /escape");
	lines_free(&l);

	/* A component over 255 bytes is an invalid argument. */
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	(void)snprintf(path, sizeof(path), "/%s", longname);
	assert_int_equal(path_op(f, OP_MAKE_DIR, path), E_INVALID_ARG);
	assert_null(ifmt(f, path));
}

/* What one client thread does on its own connection (no cmocka here). */
struct worker {
	struct fix	*f;
	const char	*path;
	unsigned int	 seed;
	int		 errors;
};

static void *
worker_thread(void *arg)
{
	struct worker	*w = arg;
	struct reply	 rep;
	unsigned char	*buf, args[8 + 64];
	size_t		 off, chunk = 64 * KIB, size = 2 * MIB;
	uint64_t	 h;

	buf = xmalloc(size);
	fill(buf, 0, size, w->seed);
	put64(args, M_W);
	(void)strlcpy((char *)args + 8, w->path, sizeof(args) - 8);
	if (try_call(w->f, OP_FILE_OPEN, args, 8 + strlen(w->path) + 1,
	    NULL, 0, &rep) != 0 || rep.op != OP_FILE_OPEN_RES ||
	    rep.len != 8) {
		free(rep.data);
		w->errors++;
		goto out;
	}
	h = get64(rep.data);
	free(rep.data);
	put64(args, h);
	for (off = 0; off < size; off += chunk) {
		if (try_call(w->f, OP_FILE_WRITE, args, 8, buf + off, chunk,
		    &rep) != 0 || rep.op != OP_STATUS || rep.len != 8 ||
		    get64(rep.data) != E_SUCCESS)
			w->errors++;
		free(rep.data);
	}
	if (try_call(w->f, OP_FILE_CLOSE, args, 8, NULL, 0, &rep) != 0 ||
	    rep.op != OP_STATUS || rep.len != 8 ||
	    get64(rep.data) != E_SUCCESS)
		w->errors++;
	free(rep.data);
out:
	free(buf);
	return (NULL);
}

/* Two connections on one filesystem, at once; handles are per client. */
static void
test_two_clients(void **state)
{
	struct fix	*a = *state, *b;
	struct worker	 wa = { a, "/one", 5, 0 }, wb = { NULL, "/two", 6, 0 };
	pthread_t	 ta, tb;
	unsigned char	 buf[16];
	uint64_t	 h, base;

	b = fix_start(a->fs, 0);
	wb.f = b;
	base = afc_fs_free_bytes(a->fs);
	assert_int_equal(pthread_create(&ta, NULL, worker_thread, &wa), 0);
	assert_int_equal(pthread_create(&tb, NULL, worker_thread, &wb), 0);
	assert_int_equal(pthread_join(ta, NULL), 0);
	assert_int_equal(pthread_join(tb, NULL), 0);
	assert_int_equal(wa.errors, 0);
	assert_int_equal(wb.errors, 0);
	assert_file(a, "/one", 2 * MIB, 5);
	assert_file(a, "/two", 2 * MIB, 6);

	/* A handle is good only on the connection that opened it. */
	h = open_ok(a, M_R, "/one");
	assert_int_equal(read_file(b, h, buf, sizeof(buf)), -E_INVALID_ARG);
	/* A removed file stays readable, and counted, until closed. */
	assert_int_equal(path_op(b, OP_REMOVE_PATH, "/one"), E_SUCCESS);
	assert_null(ifmt(b, "/one"));
	assert_int_equal(read_file(a, h, buf, sizeof(buf)), sizeof(buf));
	assert_int_equal(buf[0], pattern(0, 5));
	assert_int_equal(afc_fs_free_bytes(a->fs), base - 4 * MIB);
	assert_int_equal(handle_op(a, OP_FILE_CLOSE, h, 0, 0, 0), E_SUCCESS);
	assert_int_equal(afc_fs_free_bytes(a->fs), base - 2 * MIB);

	/* Handles left open are closed when the client goes. */
	h = open_ok(b, M_R, "/two");
	assert_int_equal(path_op(a, OP_REMOVE_PATH, "/two"), E_SUCCESS);
	assert_int_equal(afc_fs_free_bytes(a->fs), base - 2 * MIB);
	fix_stop(b);
	assert_int_equal(afc_fs_free_bytes(a->fs), base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_devinfo_and_space, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_make_dir, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_write_read_4mib, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_write_read_64mib, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_read_dir, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_file_info, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rename, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_modes_and_seek, setup,
		    teardown),
		cmocka_unit_test(test_no_space),
		cmocka_unit_test_setup_teardown(test_unknown_op, setup,
		    teardown),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test_setup_teardown(test_oplog, setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_content, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_clients, setup,
		    teardown),
	};

	log_init(LOG_TO_STDERR, 0, "test-sim-afc");
	return (cmocka_run_group_tests_name("sim-afc", tests, NULL, NULL));
}
