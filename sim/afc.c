/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The simulated device's AFC service: an in-memory filesystem and the
 * afcd side of the protocol (contract in afc.h, wire format in
 * protocols.md section 3).
 *
 * DESIGN
 * The filesystem is a tree of nodes; a directory keeps its entries in a
 * red-black tree by name, so READ_DIR lists them sorted and a lookup is
 * logarithmic. A file's bytes are one buffer that grows geometrically,
 * so a long run of appends costs linear time. Paths from the wire are
 * normalised first ("//", "." and ".." folded, ".." stops at the root)
 * and the normalised form is what the lookup walks and the oplog shows.
 *
 * One mutex guards the whole filesystem and is held only while a request
 * is carried out in memory, never across socket I/O: a request is read
 * whole, answered into a buffer under the lock, and the answer written
 * after. File handles belong to the connection that opened them. A
 * removed file that is still open lingers, and keeps its bytes counted,
 * until its last handle is closed, as on Unix.
 *
 * Every reply goes out with one conn_write, header and header-data
 * together, because libimobiledevice reads each with a single recv().
 * The data of FILE_READ, READ_DIR, GET_FILE_INFO and GET_DEVINFO travels
 * as payload (this_length 40), where a device puts it: go-ios reads
 * these answers from the payload alone (ios/afc/client.go, readPacket
 * and List, Stat, DeviceInfo), pymobiledevice3 reads entire_length - 40
 * bytes whatever this_length says (services/afc.py _receive_data), and
 * libimobiledevice 1.3.0 joins header-data and payload (afc.c
 * afc_receive_data) and reads the payload in a loop.
 *
 * A FILE_WRITE is not read whole: its payload is stored a chunk at a
 * time as it arrives (afc_write_stream), so a write of any size holds
 * one chunk of memory besides the file itself.
 */

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat/compat.h"
#include "compat/queue.h"
#include "compat/tree.h"
#include "log.h"
#include "lq-time.h"
#include "xmalloc.h"

#include "afc.h"
#include "conn.h"
#include "hostile.h"

#define AFC_MAGIC		"CFA6LPAA"
#define AFC_MAGIC_LEN		8
#define AFC_HEADER_LEN		40
#define AFC_NAME_MAX		255	/* bytes in one path component */
#define AFC_PATH_MAX		1024	/* bytes in a normalised path */
#define AFC_HANDLES_MAX		1024	/* open files per connection */
#define AFC_BLOCK_SIZE		4096
#define AFC_MODEL		"iPhone12,1"
#define AFC_REPLY_INIT		256
/* A streamed FILE_WRITE is read and stored this much at a time. */
#define AFC_WRITE_CHUNK		(1024 * 1024)
/* Files grow by doubling up to this size, then by half. */
#define AFC_GROW_DOUBLE		(UINT64_C(64) * 1024 * 1024)

/* Operations (libimobiledevice 1.3.0 src/afc.h). */
#define AFC_OP_STATUS			0x01
#define AFC_OP_DATA			0x02
#define AFC_OP_READ_DIR			0x03
#define AFC_OP_TRUNCATE			0x07
#define AFC_OP_REMOVE_PATH		0x08
#define AFC_OP_MAKE_DIR			0x09
#define AFC_OP_GET_FILE_INFO		0x0a
#define AFC_OP_GET_DEVINFO		0x0b
#define AFC_OP_FILE_OPEN		0x0d
#define AFC_OP_FILE_OPEN_RES		0x0e
#define AFC_OP_FILE_READ		0x0f
#define AFC_OP_FILE_WRITE		0x10
#define AFC_OP_FILE_SEEK		0x11
#define AFC_OP_FILE_TELL		0x12
#define AFC_OP_FILE_TELL_RES		0x13
#define AFC_OP_FILE_CLOSE		0x14
#define AFC_OP_FILE_SET_SIZE		0x15
#define AFC_OP_RENAME_PATH		0x18
#define AFC_OP_FILE_LOCK		0x1b
#define AFC_OP_SET_FILE_MOD_TIME	0x1e
#define AFC_OP_REMOVE_PATH_AND_CONTENTS	0x22

/* Status codes (libimobiledevice 1.3.0 afc.h, afc_error_t). */
#define AFC_E_SUCCESS		0
#define AFC_E_UNKNOWN		1	/* REMOVE_PATH: directory not empty */
#define AFC_E_NO_RESOURCES	3
#define AFC_E_INVALID_ARG	7
#define AFC_E_NOT_FOUND		8
#define AFC_E_IS_DIR		9
#define AFC_E_PERM_DENIED	10
#define AFC_E_NOT_SUPPORTED	15
#define AFC_E_EXISTS		16
#define AFC_E_NO_SPACE		18

/* FILE_OPEN modes, 1 to 6. */
#define AFC_MODE_RDONLY		1
#define AFC_MODE_RW		2
#define AFC_MODE_WRONLY		3
#define AFC_MODE_WR		4
#define AFC_MODE_APPEND		5
#define AFC_MODE_RDAPPEND	6

/* Seek origins. */
#define AFC_SEEK_SET		0
#define AFC_SEEK_CUR		1
#define AFC_SEEK_END		2

struct afc_node;
RB_HEAD(afc_nodes, afc_node);

struct afc_node {
	char			*name;
	struct afc_node		*parent;	/* NULL: the root, or removed */
	RB_ENTRY(afc_node)	 entry;
	int			 dir;
	struct afc_nodes	 children;	/* directories only */
	unsigned char		*data;		/* files only */
	uint64_t		 size;
	uint64_t		 alloc;
	uint64_t		 mtime_ns;
	uint64_t		 btime_ns;
	unsigned int		 refs;		/* open handles */
};

struct afc_fs {
	pthread_mutex_t		 lock;
	struct afc_node		*root;
	uint64_t		 capacity;
	uint64_t		 used;		/* sum of file sizes */
	uint64_t		 next_handle;

	char			**oplog;	/* ring once full */
	size_t			 oplog_first;
	size_t			 oplog_count;
	size_t			 oplog_size;
	uint64_t		 oplog_dropped;
};

struct afc_handle {
	uint64_t		 id;
	struct afc_node		*node;
	char			*path;		/* as opened, for the oplog */
	uint64_t		 pos;
	int			 flags;
#define AFC_H_READ	0x1
#define AFC_H_WRITE	0x2
#define AFC_H_APPEND	0x4
	TAILQ_ENTRY(afc_handle)	 entry;
};
TAILQ_HEAD(afc_handles, afc_handle);

/* One connection being served. */
struct afc_session {
	struct sim_conn		*conn;
	struct afc_fs		*fs;
	struct afc_handles	 handles;
	unsigned int		 nhandles;
};

/* A request: header-data and payload together, as the client sees it. */
struct afc_req {
	uint64_t		 num;
	uint64_t		 op;
	const char		*name;
	unsigned char		*body;
	size_t			 len;
	size_t			 args;		/* this_length - 40 */
	uint64_t		 payload;	/* entire - this_length */
};

/* A reply being built: the header is filled in when it is sent. */
struct afc_reply {
	uint64_t		 op;		/* 0 until a handler sets it */
	int			 payload;	/* data after this_length */
	unsigned char		*buf;
	size_t			 len;
	size_t			 size;
};

struct afc_op {
	uint64_t		 code;
	const char		*name;
	uint64_t		(*fn)(struct afc_session *, struct afc_req *,
				    struct afc_reply *);
};

static int	 afc_node_cmp(struct afc_node *, struct afc_node *);
RB_PROTOTYPE_STATIC(afc_nodes, afc_node, entry, afc_node_cmp);

static void	 afc_lock(struct afc_fs *);
static void	 afc_unlock(struct afc_fs *);
static uint64_t	 afc_now_ns(void);
static uint64_t	 afc_get64(const unsigned char *);
static uint64_t	 afc_free_space(struct afc_fs *);
static void	 afc_oplog_add(struct afc_fs *, const char *, ...)
		    printflike(2, 3);
static void	 afc_oplog_reset(struct afc_fs *);

static struct afc_node *afc_node_new(struct afc_node *, const char *, int);
static void	 afc_node_destroy(struct afc_fs *, struct afc_node *);
static void	 afc_node_unlink(struct afc_node *);
static void	 afc_node_drop(struct afc_fs *, struct afc_node *);
static void	 afc_node_reserve(struct afc_node *, uint64_t);
static uint64_t	 afc_node_resize(struct afc_fs *, struct afc_node *,
		    uint64_t);
static uint64_t	 afc_node_store(struct afc_fs *, struct afc_node *,
		    uint64_t, const unsigned char *, size_t, int);

static uint64_t	 afc_path_norm(const char *, char **);
static struct afc_node *afc_child(struct afc_node *, const char *, size_t);
static struct afc_node *afc_walk(struct afc_fs *, const char *, size_t);
static struct afc_node *afc_lookup(struct afc_fs *, const char *);
static struct afc_node *afc_lookup_parent(struct afc_fs *, const char *,
		    const char **);
static uint64_t	 afc_mkdirs(struct afc_fs *, const char *, size_t);
static void	 afc_put_file(struct afc_fs *, const char *,
		    const unsigned char *, size_t);

static void	 afc_reply_init(struct afc_reply *);
static void	 afc_reply_reserve(struct afc_reply *, size_t);
static void	 afc_reply_add(struct afc_reply *, const void *, size_t);
static void	 afc_reply_str(struct afc_reply *, const char *);
static void	 afc_reply_kv(struct afc_reply *, const char *, uint64_t);
static void	 afc_reply_u64(struct afc_reply *, uint64_t);
static void	 afc_reply_status(struct afc_reply *, uint64_t);
static int	 afc_reply_send(struct sim_conn *, struct afc_req *,
		    struct afc_reply *);
static int	 afc_reply_send_as(struct sim_conn *, struct afc_req *,
		    struct afc_reply *);

static char	*afc_arg_str(struct afc_req *, size_t, size_t *);
static uint64_t	 afc_arg_path(struct afc_req *, size_t, char **, size_t *);
static struct afc_handle *afc_handle_find(struct afc_session *, uint64_t);
static const char *afc_handle_name(struct afc_handle *, uint64_t, char *,
		    size_t);
static void	 afc_handle_close(struct afc_session *, struct afc_handle *);
static int	 afc_req_streams(uint64_t, uint64_t);
static int	 afc_req_header(const unsigned char *, struct afc_req *);
static uint64_t	 afc_write_check(struct afc_fs *, struct afc_handle *,
		    uint64_t);
static uint64_t	 afc_write_chunk(struct afc_fs *, struct afc_handle *,
		    const unsigned char *, size_t);
static int	 afc_write_stream(struct afc_session *, struct afc_req *,
		    struct afc_reply *);
static void	 afc_dispatch(struct afc_session *, struct afc_req *,
		    struct afc_reply *);

static uint64_t	 afc_op_devinfo(struct afc_session *, struct afc_req *,
		    struct afc_reply *);
static uint64_t	 afc_op_read_dir(struct afc_session *, struct afc_req *,
		    struct afc_reply *);
static uint64_t	 afc_op_file_info(struct afc_session *, struct afc_req *,
		    struct afc_reply *);
static uint64_t	 afc_op_make_dir(struct afc_session *, struct afc_req *,
		    struct afc_reply *);
static uint64_t	 afc_op_remove(struct afc_session *, struct afc_req *,
		    struct afc_reply *);
static uint64_t	 afc_op_rename(struct afc_session *, struct afc_req *,
		    struct afc_reply *);
static uint64_t	 afc_op_truncate(struct afc_session *, struct afc_req *,
		    struct afc_reply *);
static uint64_t	 afc_op_mod_time(struct afc_session *, struct afc_req *,
		    struct afc_reply *);
static uint64_t	 afc_op_open(struct afc_session *, struct afc_req *,
		    struct afc_reply *);
static uint64_t	 afc_op_read(struct afc_session *, struct afc_req *,
		    struct afc_reply *);
static uint64_t	 afc_op_write(struct afc_session *, struct afc_req *,
		    struct afc_reply *);
static uint64_t	 afc_op_seek(struct afc_session *, struct afc_req *,
		    struct afc_reply *);
static uint64_t	 afc_op_tell(struct afc_session *, struct afc_req *,
		    struct afc_reply *);
static uint64_t	 afc_op_set_size(struct afc_session *, struct afc_req *,
		    struct afc_reply *);
static uint64_t	 afc_op_close(struct afc_session *, struct afc_req *,
		    struct afc_reply *);
static uint64_t	 afc_op_lock(struct afc_session *, struct afc_req *,
		    struct afc_reply *);

static const struct afc_op afc_ops[] = {
	{ AFC_OP_READ_DIR, "READ_DIR", afc_op_read_dir },
	{ AFC_OP_TRUNCATE, "TRUNCATE", afc_op_truncate },
	{ AFC_OP_REMOVE_PATH, "REMOVE_PATH", afc_op_remove },
	{ AFC_OP_MAKE_DIR, "MAKE_DIR", afc_op_make_dir },
	{ AFC_OP_GET_FILE_INFO, "GET_FILE_INFO", afc_op_file_info },
	{ AFC_OP_GET_DEVINFO, "GET_DEVINFO", afc_op_devinfo },
	{ AFC_OP_FILE_OPEN, "FILE_OPEN", afc_op_open },
	{ AFC_OP_FILE_READ, "FILE_READ", afc_op_read },
	{ AFC_OP_FILE_WRITE, "FILE_WRITE", afc_op_write },
	{ AFC_OP_FILE_SEEK, "FILE_SEEK", afc_op_seek },
	{ AFC_OP_FILE_TELL, "FILE_TELL", afc_op_tell },
	{ AFC_OP_FILE_CLOSE, "FILE_CLOSE", afc_op_close },
	{ AFC_OP_FILE_SET_SIZE, "FILE_SET_SIZE", afc_op_set_size },
	{ AFC_OP_RENAME_PATH, "RENAME_PATH", afc_op_rename },
	{ AFC_OP_FILE_LOCK, "FILE_LOCK", afc_op_lock },
	{ AFC_OP_SET_FILE_MOD_TIME, "SET_FILE_MOD_TIME", afc_op_mod_time },
	{ AFC_OP_REMOVE_PATH_AND_CONTENTS, "REMOVE_PATH_AND_CONTENTS",
	    afc_op_remove },
};

RB_GENERATE_STATIC(afc_nodes, afc_node, entry, afc_node_cmp);

/* Order directory entries by name, bytewise. */
static int
afc_node_cmp(struct afc_node *a, struct afc_node *b)
{
	return (strcmp(a->name, b->name));
}

/* Take the filesystem lock. */
static void
afc_lock(struct afc_fs *fs)
{
	int	error;

	if ((error = pthread_mutex_lock(&fs->lock)) != 0)
		fatalx("%s: %s", __func__, strerror(error));
}

/* Release the filesystem lock. */
static void
afc_unlock(struct afc_fs *fs)
{
	int	error;

	if ((error = pthread_mutex_unlock(&fs->lock)) != 0)
		fatalx("%s: %s", __func__, strerror(error));
}

/* Return wall-clock time in nanoseconds since the epoch. */
static uint64_t
afc_now_ns(void)
{
	int64_t	us;

	us = lq_wall_now_us();
	return (us > 0 ? (uint64_t)us * 1000 : 0);
}

/* Decode a little-endian uint64. */
static uint64_t
afc_get64(const unsigned char *p)
{
	uint64_t	v = 0;
	int		i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return (v);
}

void
afc_put64(unsigned char *p, uint64_t v)
{
	int	i;

	for (i = 0; i < 8; i++) {
		p[i] = v & 0xff;
		v >>= 8;
	}
}

/* Return the free space; the lock is held. */
static uint64_t
afc_free_space(struct afc_fs *fs)
{
	return (fs->capacity > fs->used ? fs->capacity - fs->used : 0);
}

/* Append a line to the oplog, dropping the oldest when it is full. */
static void
afc_oplog_add(struct afc_fs *fs, const char *fmt, ...)
{
	va_list	 ap;
	char	*line;
	size_t	 size;

	va_start(ap, fmt);
	(void)xvasprintf(&line, fmt, ap);
	va_end(ap);

	if (fs->oplog_count == AFC_OPLOG_MAX) {
		free(fs->oplog[fs->oplog_first]);
		fs->oplog[fs->oplog_first] = line;
		fs->oplog_first = (fs->oplog_first + 1) % AFC_OPLOG_MAX;
		fs->oplog_dropped++;
		return;
	}
	if (fs->oplog_count == fs->oplog_size) {
		size = fs->oplog_size == 0 ? 64 : fs->oplog_size * 2;
		if (size > AFC_OPLOG_MAX)
			size = AFC_OPLOG_MAX;
		fs->oplog = xreallocarray(fs->oplog, size, sizeof(*fs->oplog));
		fs->oplog_size = size;
	}
	/* Not full yet, so the ring has not turned: oplog_first is 0. */
	fs->oplog[fs->oplog_count++] = line;
}

/* Empty the oplog; the lock is held. */
static void
afc_oplog_reset(struct afc_fs *fs)
{
	size_t	i;

	for (i = 0; i < fs->oplog_count; i++)
		free(fs->oplog[i]);
	free(fs->oplog);
	fs->oplog = NULL;
	fs->oplog_first = fs->oplog_count = fs->oplog_size = 0;
	fs->oplog_dropped = 0;
}

/* Create a node and enter it in parent (NULL for the root). */
static struct afc_node *
afc_node_new(struct afc_node *parent, const char *name, int dir)
{
	struct afc_node	*n;

	n = xcalloc(1, sizeof(*n));
	n->name = xstrdup(name);
	n->dir = dir;
	RB_INIT(&n->children);
	n->mtime_ns = n->btime_ns = afc_now_ns();
	if (parent != NULL) {
		n->parent = parent;
		if (RB_INSERT(afc_nodes, &parent->children, n) != NULL)
			fatalx("%s: %s exists", __func__, name);
		parent->mtime_ns = n->mtime_ns;
	}
	return (n);
}

/* Free a node that is out of the tree and has no children or handles. */
static void
afc_node_destroy(struct afc_fs *fs, struct afc_node *n)
{
	fs->used -= n->size;
	free(n->data);
	free(n->name);
	free(n);
}

/* Take a node out of its directory. */
static void
afc_node_unlink(struct afc_node *n)
{
	RB_REMOVE(afc_nodes, &n->parent->children, n);
	n->parent->mtime_ns = afc_now_ns();
	n->parent = NULL;
}

/*
 * Free an unlinked node and everything under it, without recursion (a
 * tree can be made deeper than any path by renames). Open files stay
 * until their last handle is closed.
 */
static void
afc_node_drop(struct afc_fs *fs, struct afc_node *top)
{
	struct afc_node	*n = top, *c, *up;

	for (;;) {
		if ((c = RB_ROOT(&n->children)) != NULL) {
			RB_REMOVE(afc_nodes, &n->children, c);
			c->parent = n;
			n = c;
			continue;
		}
		up = n == top ? NULL : n->parent;
		n->parent = NULL;
		if (n->refs == 0)
			afc_node_destroy(fs, n);
		if (up == NULL)
			break;
		n = up;
	}
}

/* Make room for need bytes of file data, growing geometrically. */
static void
afc_node_reserve(struct afc_node *n, uint64_t need)
{
	uint64_t	size;

	if (need <= n->alloc)
		return;
	if (n->alloc < AFC_GROW_DOUBLE)
		size = n->alloc * 2;
	else
		size = n->alloc + n->alloc / 2;
	if (size < need)
		size = need;
	if (size < AFC_REPLY_INIT)
		size = AFC_REPLY_INIT;
	if (size > AFC_FILE_MAX)
		size = AFC_FILE_MAX;
	n->data = xreallocarray(n->data, (size_t)size, 1);
	n->alloc = size;
}

/* Set a file's size; new bytes are zero. Returns 0 or an AFC status. */
static uint64_t
afc_node_resize(struct afc_fs *fs, struct afc_node *n, uint64_t size)
{
	if (size > AFC_FILE_MAX)
		return (AFC_E_NO_SPACE);
	if (size > n->size) {
		if (size - n->size > afc_free_space(fs))
			return (AFC_E_NO_SPACE);
		afc_node_reserve(n, size);
		memset(n->data + n->size, 0, (size_t)(size - n->size));
		fs->used += size - n->size;
	} else {
		fs->used -= n->size - size;
		if (size == 0) {
			free(n->data);
			n->data = NULL;
			n->alloc = 0;
		}
	}
	n->size = size;
	n->mtime_ns = afc_now_ns();
	return (AFC_E_SUCCESS);
}

/*
 * Write len bytes at pos, filling any gap with zeros. Unless force is
 * set, fail with "no space left" and change nothing if the growth does
 * not fit.
 */
static uint64_t
afc_node_store(struct afc_fs *fs, struct afc_node *n, uint64_t pos,
    const unsigned char *buf, size_t len, int force)
{
	uint64_t	end;

	if (len == 0)
		return (AFC_E_SUCCESS);
	if (pos > AFC_FILE_MAX || len > AFC_FILE_MAX - pos)
		return (AFC_E_NO_SPACE);
	end = pos + len;
	if (end > n->size) {
		if (!force && end - n->size > afc_free_space(fs))
			return (AFC_E_NO_SPACE);
		afc_node_reserve(n, end);
		if (pos > n->size)
			memset(n->data + n->size, 0, (size_t)(pos - n->size));
		fs->used += end - n->size;
		n->size = end;
	}
	memcpy(n->data + pos, buf, len);
	n->mtime_ns = afc_now_ns();
	return (AFC_E_SUCCESS);
}

/*
 * Normalise a client path into *out (always set, "/" or "/a/b", for the
 * oplog). Returns 0, or "invalid argument" if a component or the whole
 * is too long.
 */
static uint64_t
afc_path_norm(const char *in, char **out)
{
	const char	*p = in, *seg;
	char		*buf;
	size_t		 n, o = 0;
	uint64_t	 st = AFC_E_SUCCESS;

	buf = xmalloc(strlen(in) + 2);
	for (;;) {
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		seg = p;
		while (*p != '\0' && *p != '/')
			p++;
		n = (size_t)(p - seg);
		if (n == 1 && seg[0] == '.')
			continue;
		if (n == 2 && seg[0] == '.' && seg[1] == '.') {
			while (o > 0 && buf[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
			continue;
		}
		if (n > AFC_NAME_MAX)
			st = AFC_E_INVALID_ARG;
		buf[o++] = '/';
		memcpy(buf + o, seg, n);
		o += n;
	}
	if (o == 0)
		buf[o++] = '/';
	buf[o] = '\0';
	if (o > AFC_PATH_MAX)
		st = AFC_E_INVALID_ARG;
	*out = buf;
	return (st);
}

/* Find the entry name[0..len) of a directory. */
static struct afc_node *
afc_child(struct afc_node *dir, const char *name, size_t len)
{
	struct afc_node	 key;
	char		 buf[AFC_NAME_MAX + 1];

	if (!dir->dir || len > AFC_NAME_MAX)
		return (NULL);
	memcpy(buf, name, len);
	buf[len] = '\0';
	key.name = buf;
	return (RB_FIND(afc_nodes, &dir->children, &key));
}

/* Resolve the first len bytes of a normalised path. */
static struct afc_node *
afc_walk(struct afc_fs *fs, const char *path, size_t len)
{
	struct afc_node	*n = fs->root;
	const char	*p = path, *end = path + len, *seg;

	while (p < end) {
		if (*p == '/') {
			p++;
			continue;
		}
		seg = p;
		while (p < end && *p != '/')
			p++;
		if ((n = afc_child(n, seg, (size_t)(p - seg))) == NULL)
			return (NULL);
	}
	return (n);
}

/* Resolve a normalised path. */
static struct afc_node *
afc_lookup(struct afc_fs *fs, const char *path)
{
	return (afc_walk(fs, path, strlen(path)));
}

/*
 * Find the directory that holds a normalised path's last component and
 * point *name at that component. NULL if the directory is missing.
 */
static struct afc_node *
afc_lookup_parent(struct afc_fs *fs, const char *path, const char **name)
{
	struct afc_node	*dir;
	const char	*last;

	last = strrchr(path, '/');
	*name = last + 1;
	dir = afc_walk(fs, path, (size_t)(last - path));
	if (dir == NULL || !dir->dir)
		return (NULL);
	return (dir);
}

/* Create the directory path[0..len) and any missing parents. */
static uint64_t
afc_mkdirs(struct afc_fs *fs, const char *path, size_t len)
{
	struct afc_node	*n = fs->root, *c;
	const char	*p = path, *end = path + len, *seg;
	char		 name[AFC_NAME_MAX + 1];

	while (p < end) {
		if (*p == '/') {
			p++;
			continue;
		}
		seg = p;
		while (p < end && *p != '/')
			p++;
		if ((size_t)(p - seg) > AFC_NAME_MAX)
			return (AFC_E_INVALID_ARG);
		if ((c = afc_child(n, seg, (size_t)(p - seg))) == NULL) {
			memcpy(name, seg, (size_t)(p - seg));
			name[p - seg] = '\0';
			c = afc_node_new(n, name, 1);
		} else if (!c->dir)
			return (AFC_E_EXISTS);
		n = c;
	}
	return (AFC_E_SUCCESS);
}

/* Create or replace a file with the given bytes, ignoring capacity. */
static void
afc_put_file(struct afc_fs *fs, const char *path, const unsigned char *buf,
    size_t len)
{
	struct afc_node	*dir, *n;
	const char	*name;

	if (afc_mkdirs(fs, path, (size_t)(strrchr(path, '/') - path)) != 0 ||
	    (dir = afc_lookup_parent(fs, path, &name)) == NULL)
		fatalx("%s: cannot create %s", __func__, path);
	if ((n = afc_child(dir, name, strlen(name))) == NULL)
		n = afc_node_new(dir, name, 0);
	else if (n->dir)
		fatalx("%s: %s is a directory", __func__, path);
	(void)afc_node_resize(fs, n, 0);
	(void)afc_node_store(fs, n, 0, buf, len, 1);
}

/* Create an empty filesystem. */
struct afc_fs *
afc_fs_create(uint64_t capacity)
{
	struct afc_fs	*fs;
	int		 error;

	fs = xcalloc(1, sizeof(*fs));
	if ((error = pthread_mutex_init(&fs->lock, NULL)) != 0)
		fatalx("%s: %s", __func__, strerror(error));
	fs->capacity = capacity;
	fs->root = afc_node_new(NULL, "", 1);
	return (fs);
}

/* Free a filesystem and everything in it. */
void
afc_fs_free(struct afc_fs *fs)
{
	if (fs == NULL)
		return;
	afc_node_drop(fs, fs->root);
	afc_oplog_reset(fs);
	(void)pthread_mutex_destroy(&fs->lock);
	free(fs);
}

/* Add the user content. */
void
afc_fs_populate(struct afc_fs *fs)
{
	static const char	 notes[] =
	    "Call the shop about the cracked screen on Tuesday.\n";
	unsigned char		 jpg[4096], mov[8192];
	size_t			 i;

	for (i = 0; i < sizeof(jpg); i++)
		jpg[i] = (i * 31 + 7) & 0xff;
	for (i = 0; i < sizeof(mov); i++)
		mov[i] = (i * 7 + 3) & 0xff;

	afc_lock(fs);
	afc_put_file(fs, "/DCIM/100APPLE/IMG_0001.JPG", jpg, sizeof(jpg));
	afc_put_file(fs, "/DCIM/100APPLE/IMG_0002.MOV", mov, sizeof(mov));
	afc_put_file(fs, "/Downloads/notes.txt",
	    (const unsigned char *)notes, sizeof(notes) - 1);
	(void)afc_mkdirs(fs, "/Books", strlen("/Books"));
	afc_unlock(fs);
}

/* Walk the oplog, oldest first. */
void
afc_fs_oplog(struct afc_fs *fs, void (*fn)(void *, const char *), void *arg)
{
	char	line[64];
	size_t	i;

	afc_lock(fs);
	if (fs->oplog_dropped != 0) {
		(void)snprintf(line, sizeof(line), "OPLOG_DROPPED %" PRIu64,
		    fs->oplog_dropped);
		fn(arg, line);
	}
	for (i = 0; i < fs->oplog_count; i++)
		fn(arg, fs->oplog[(fs->oplog_first + i) % AFC_OPLOG_MAX]);
	afc_unlock(fs);
}

/* Empty the oplog. */
void
afc_fs_oplog_clear(struct afc_fs *fs)
{
	afc_lock(fs);
	afc_oplog_reset(fs);
	afc_unlock(fs);
}

/* Return the free space. */
uint64_t
afc_fs_free_bytes(struct afc_fs *fs)
{
	uint64_t	free_bytes;

	afc_lock(fs);
	free_bytes = afc_free_space(fs);
	afc_unlock(fs);
	return (free_bytes);
}

/* Copy a whole file out. */
int
afc_fs_read_file(struct afc_fs *fs, const char *path, unsigned char **data,
    size_t *len)
{
	struct afc_node	*n;
	char		*norm;
	int		 ret = -1;

	*data = NULL;
	*len = 0;
	(void)afc_path_norm(path, &norm);
	afc_lock(fs);
	if ((n = afc_lookup(fs, norm)) == NULL || n->dir)
		goto out;
	if (n->size != 0) {
		*data = xmalloc((size_t)n->size);
		memcpy(*data, n->data, (size_t)n->size);
	}
	*len = (size_t)n->size;
	ret = 0;
out:
	afc_unlock(fs);
	free(norm);
	return (ret);
}

/* Start an empty reply, with room for the header. */
static void
afc_reply_init(struct afc_reply *rep)
{
	memset(rep, 0, sizeof(*rep));
	rep->buf = xmalloc(AFC_REPLY_INIT);
	rep->size = AFC_REPLY_INIT;
	rep->len = AFC_HEADER_LEN;
}

/* Make room for len more bytes in a reply. */
static void
afc_reply_reserve(struct afc_reply *rep, size_t len)
{
	size_t	size;

	if (len <= rep->size - rep->len)
		return;
	size = rep->size * 2;
	if (size - rep->len < len)
		size = rep->len + len;
	rep->buf = xreallocarray(rep->buf, size, 1);
	rep->size = size;
}

/* Append bytes to a reply. */
static void
afc_reply_add(struct afc_reply *rep, const void *buf, size_t len)
{
	afc_reply_reserve(rep, len);
	memcpy(rep->buf + rep->len, buf, len);
	rep->len += len;
}

/* Append a string and its NUL. */
static void
afc_reply_str(struct afc_reply *rep, const char *s)
{
	afc_reply_add(rep, s, strlen(s) + 1);
}

/* Append a key and a decimal value, as GET_DEVINFO and stat lists go. */
static void
afc_reply_kv(struct afc_reply *rep, const char *key, uint64_t value)
{
	char	buf[32];

	afc_reply_str(rep, key);
	(void)snprintf(buf, sizeof(buf), "%" PRIu64, value);
	afc_reply_str(rep, buf);
}

/* Append a little-endian uint64. */
static void
afc_reply_u64(struct afc_reply *rep, uint64_t v)
{
	unsigned char	buf[8];

	afc_put64(buf, v);
	afc_reply_add(rep, buf, sizeof(buf));
}

/* Replace whatever a reply holds with a STATUS packet. */
static void
afc_reply_status(struct afc_reply *rep, uint64_t status)
{
	rep->len = AFC_HEADER_LEN;
	rep->payload = 0;
	rep->op = AFC_OP_STATUS;
	afc_reply_u64(rep, status);
}

/* Fill in the header and send a reply with one write. */
static int
afc_reply_send(struct sim_conn *c, struct afc_req *r, struct afc_reply *rep)
{
	unsigned char	*p = rep->buf;

	memcpy(p, AFC_MAGIC, AFC_MAGIC_LEN);
	afc_put64(p + 8, rep->len);
	afc_put64(p + 16, rep->payload ? AFC_HEADER_LEN : rep->len);
	afc_put64(p + 24, r->num);
	afc_put64(p + 32, rep->op);
	/* Corruption faults hit file contents, not the listings. */
	if (rep->payload && r->op == AFC_OP_FILE_READ &&
	    rep->len > AFC_HEADER_LEN)
		conn_corrupt(c, p + AFC_HEADER_LEN, rep->len - AFC_HEADER_LEN);
	return (conn_write(c, p, rep->len));
}

/*
 * Send a reply as the device is set to: honest, or malformed as a
 * hostile phone's kind says (hostile.h).
 */
static int
afc_reply_send_as(struct sim_conn *c, struct afc_req *r,
    struct afc_reply *rep)
{
	struct hostile_afc_reply	hr;
	enum hostile_kind		kind;

	if ((kind = hostile_afc(c->dev)) == HOSTILE_NONE)
		return (afc_reply_send(c, r, rep));
	hr.num = r->num;
	hr.op = rep->op;
	hr.payload = rep->payload;
	hr.data = rep->buf + AFC_HEADER_LEN;
	hr.len = rep->len - AFC_HEADER_LEN;
	return (hostile_afc_send(c, kind, &hr));
}

/*
 * Find the string at off in the arguments and copy it into *out. It ends
 * at a NUL or, without one, at the end of the header-data (the whole
 * body if there is none): a device takes a path that fills the header
 * part without a NUL, and go-ios sends READ_DIR, GET_FILE_INFO and
 * REMOVE_PATH paths so (go-ios ios/afc/client.go, List, Stat and
 * removePath: []byte(p) with no 0 appended). *next is where the next
 * string starts. NULL if there is no string at off.
 */
static char *
afc_arg_str(struct afc_req *r, size_t off, size_t *next)
{
	const unsigned char	*end;
	size_t			 limit, len;
	char			*s;

	limit = r->args > off ? r->args : r->len;
	if (off >= limit)
		return (NULL);
	if ((end = memchr(r->body + off, '\0', limit - off)) != NULL)
		len = (size_t)(end - (r->body + off));
	else
		len = limit - off;
	if (next != NULL)
		*next = off + len + (end != NULL ? 1 : 0);
	s = xmalloc(len + 1);
	memcpy(s, r->body + off, len);
	s[len] = '\0';
	return (s);
}

/*
 * Normalise the path argument at off into *path. *path is NULL only if
 * there is no string there.
 */
static uint64_t
afc_arg_path(struct afc_req *r, size_t off, char **path, size_t *next)
{
	char		*s;
	uint64_t	 st;

	*path = NULL;
	if ((s = afc_arg_str(r, off, next)) == NULL)
		return (AFC_E_INVALID_ARG);
	st = afc_path_norm(s, path);
	free(s);
	return (st);
}

/* Find one of this connection's handles. */
static struct afc_handle *
afc_handle_find(struct afc_session *s, uint64_t id)
{
	struct afc_handle	*h;

	TAILQ_FOREACH(h, &s->handles, entry) {
		if (h->id == id)
			return (h);
	}
	return (NULL);
}

/* Name a handle for the oplog: its path, or "#id" if it is unknown. */
static const char *
afc_handle_name(struct afc_handle *h, uint64_t id, char *buf, size_t len)
{
	if (h != NULL)
		return (h->path);
	(void)snprintf(buf, len, "#%" PRIu64, id);
	return (buf);
}

/* Close a handle; a removed file goes with its last handle. */
static void
afc_handle_close(struct afc_session *s, struct afc_handle *h)
{
	struct afc_node	*n = h->node;

	TAILQ_REMOVE(&s->handles, h, entry);
	s->nhandles--;
	if (--n->refs == 0 && n->parent == NULL)
		afc_node_destroy(s->fs, n);
	free(h->path);
	free(h);
}

/*
 * Whether a request's payload is stored as it arrives rather than read
 * whole first: a FILE_WRITE with the handle in the header-data, as
 * libimobiledevice 1.3.0 (afc_file_write), pymobiledevice3 (fwrite,
 * this_length=48) and go-ios (File.Write) all send it. A device takes
 * any size in one packet, and pymobiledevice3 sends up to 1 GiB at once
 * (services/afc.py MAXIMUM_WRITE_SIZE = 1 << 30), so the size must not
 * decide how much memory a request holds.
 */
static int
afc_req_streams(uint64_t this, uint64_t op)
{
	return (op == AFC_OP_FILE_WRITE && this >= AFC_HEADER_LEN + 8);
}

/*
 * Check a request header and fill in r. Returns -1, after a warning, if
 * the request cannot be framed.
 */
static int
afc_req_header(const unsigned char *hdr, struct afc_req *r)
{
	uint64_t	entire, this;

	memset(r, 0, sizeof(*r));
	if (memcmp(hdr, AFC_MAGIC, AFC_MAGIC_LEN) != 0) {
		log_warnx("%s: bad magic", __func__);
		return (-1);
	}
	entire = afc_get64(hdr + 8);
	this = afc_get64(hdr + 16);
	r->num = afc_get64(hdr + 24);
	r->op = afc_get64(hdr + 32);
	if (this < AFC_HEADER_LEN || this > entire) {
		log_warnx("%s: packet %" PRIu64 ": bad lengths (entire %"
		    PRIu64 ", this %" PRIu64 ")", __func__, r->num, entire,
		    this);
		return (-1);
	}
	if (this - AFC_HEADER_LEN > AFC_MAX_ARGS || (entire - this >
	    AFC_MAX_DATA && !afc_req_streams(this, r->op))) {
		log_warnx("%s: packet %" PRIu64 ": too large (entire %" PRIu64
		    ", this %" PRIu64 ")", __func__, r->num, entire, this);
		return (-1);
	}
	r->args = (size_t)(this - AFC_HEADER_LEN);
	r->payload = entire - this;
	r->len = r->args + (afc_req_streams(this, r->op) ? 0 :
	    (size_t)r->payload);
	return (0);
}

/* Carry out a request under the lock and leave the answer in rep. */
static void
afc_dispatch(struct afc_session *s, struct afc_req *r, struct afc_reply *rep)
{
	const struct afc_op	*op = NULL;
	uint64_t		 st;
	size_t			 i;

	for (i = 0; i < nitems(afc_ops); i++) {
		if (afc_ops[i].code == r->op) {
			op = &afc_ops[i];
			break;
		}
	}
	afc_lock(s->fs);
	if (op == NULL) {
		afc_oplog_add(s->fs, "UNSUPPORTED 0x%" PRIx64, r->op);
		st = AFC_E_NOT_SUPPORTED;
	} else {
		r->name = op->name;
		st = op->fn(s, r, rep);
	}
	afc_unlock(s->fs);
	if (st != AFC_E_SUCCESS || rep->op == 0)
		afc_reply_status(rep, st);
}

/*
 * Whether len bytes fit through handle h: it must be open for writing,
 * and the file must stay within AFC_FILE_MAX and the free space.
 */
static uint64_t
afc_write_check(struct afc_fs *fs, struct afc_handle *h, uint64_t len)
{
	uint64_t	start;

	if (h == NULL || (h->flags & AFC_H_WRITE) == 0)
		return (AFC_E_INVALID_ARG);
	start = (h->flags & AFC_H_APPEND) ? h->node->size : h->pos;
	if (start > AFC_FILE_MAX || len > AFC_FILE_MAX - start)
		return (AFC_E_NO_SPACE);
	if (start + len > h->node->size &&
	    start + len - h->node->size > afc_free_space(fs))
		return (AFC_E_NO_SPACE);
	return (AFC_E_SUCCESS);
}

/* Store bytes through a handle at its position, or the end. */
static uint64_t
afc_write_chunk(struct afc_fs *fs, struct afc_handle *h,
    const unsigned char *buf, size_t len)
{
	uint64_t	st;

	if (h->flags & AFC_H_APPEND)
		h->pos = h->node->size;
	st = afc_node_store(fs, h->node, h->pos, buf, len, 0);
	if (st == AFC_E_SUCCESS)
		h->pos += len;
	return (st);
}

/*
 * Carry out a streamed FILE_WRITE (afc_req_streams): check the handle
 * and the room once, then store the payload a chunk at a time as it
 * arrives, under the lock for each chunk only, so that memory stays at
 * one chunk whatever the size. A write that cannot be stored is still
 * read to its end, to stay in step with the client, and answered with
 * its status. Returns -1 if the connection fails.
 */
static int
afc_write_stream(struct afc_session *s, struct afc_req *r,
    struct afc_reply *rep)
{
	struct afc_handle	*h;
	unsigned char		*buf;
	char			 hbuf[32];
	uint64_t		 id, st, left;
	size_t			 n, extra;
	int			 ret = 0;

	id = afc_get64(r->body);
	extra = r->args - 8;	/* data in the header part, if any */
	/* The bytes crossed the OUT pipe; a flip there lands in the file. */
	conn_corrupt_out(s->conn, r->body + 8, extra);
	afc_lock(s->fs);
	h = afc_handle_find(s, id);
	afc_oplog_add(s->fs, "FILE_WRITE %s %" PRIu64,
	    afc_handle_name(h, id, hbuf, sizeof(hbuf)), extra + r->payload);
	st = afc_write_check(s->fs, h, extra + r->payload);
	if (st == AFC_E_SUCCESS)
		st = afc_write_chunk(s->fs, h, r->body + 8, extra);
	afc_unlock(s->fs);

	buf = xmalloc(AFC_WRITE_CHUNK);
	for (left = r->payload; left > 0; left -= n) {
		n = left < AFC_WRITE_CHUNK ? (size_t)left : AFC_WRITE_CHUNK;
		if (conn_read(s->conn, buf, n) == -1) {
			log_warnx("%s: packet %" PRIu64 ": short read",
			    __func__, r->num);
			ret = -1;
			break;
		}
		if (st != AFC_E_SUCCESS)
			continue;
		conn_corrupt_out(s->conn, buf, n);
		afc_lock(s->fs);
		st = afc_write_chunk(s->fs, h, buf, n);
		afc_unlock(s->fs);
	}
	free(buf);
	afc_reply_status(rep, st);
	return (ret);
}

/* Serve one client until it goes away or misbehaves. */
void
afc_serve(struct sim_conn *c, struct afc_fs *fs)
{
	struct afc_session	 s;
	struct afc_req		 req;
	struct afc_reply	 rep;
	struct afc_handle	*h;
	unsigned char		 hdr[AFC_HEADER_LEN];
	int			 r;

	memset(&s, 0, sizeof(s));
	s.conn = c;
	s.fs = fs;
	TAILQ_INIT(&s.handles);

	for (;;) {
		if (conn_read(c, hdr, sizeof(hdr)) == -1) {
			log_debug("%s: connection closed", __func__);
			break;
		}
		if (afc_req_header(hdr, &req) == -1)
			break;
		if (req.len != 0) {
			req.body = xmalloc(req.len);
			if (conn_read(c, req.body, req.len) == -1) {
				log_warnx("%s: packet %" PRIu64 ": short "
				    "read", __func__, req.num);
				free(req.body);
				break;
			}
		}
		afc_reply_init(&rep);
		if (afc_req_streams(AFC_HEADER_LEN + req.args, req.op))
			r = afc_write_stream(&s, &req, &rep);
		else {
			afc_dispatch(&s, &req, &rep);
			r = 0;
		}
		free(req.body);
		if (r == 0)
			r = afc_reply_send_as(c, &req, &rep);
		free(rep.buf);
		if (r == -1) {
			log_debug("%s: write failed", __func__);
			break;
		}
	}

	afc_lock(fs);
	while ((h = TAILQ_FIRST(&s.handles)) != NULL)
		afc_handle_close(&s, h);
	afc_unlock(fs);
}

/* Answer GET_DEVINFO: model, capacity, free space, block size. */
static uint64_t
afc_op_devinfo(struct afc_session *s, __unused struct afc_req *r,
    struct afc_reply *rep)
{
	afc_oplog_add(s->fs, "GET_DEVINFO");
	rep->op = AFC_OP_DATA;
	rep->payload = 1;
	afc_reply_str(rep, "Model");
	afc_reply_str(rep, AFC_MODEL);
	afc_reply_kv(rep, "FSTotalBytes", s->fs->capacity);
	afc_reply_kv(rep, "FSFreeBytes", afc_free_space(s->fs));
	afc_reply_kv(rep, "FSBlockSize", AFC_BLOCK_SIZE);
	return (AFC_E_SUCCESS);
}

/* List a directory (READ_DIR): ".", ".." and the entries, sorted. */
static uint64_t
afc_op_read_dir(struct afc_session *s, struct afc_req *r,
    struct afc_reply *rep)
{
	struct afc_node	*n, *c;
	char		*path;
	uint64_t	 st;

	st = afc_arg_path(r, 0, &path, NULL);
	afc_oplog_add(s->fs, "%s %s", r->name, path != NULL ? path : "?");
	if (st != AFC_E_SUCCESS)
		goto out;
	if ((n = afc_lookup(s->fs, path)) == NULL) {
		st = AFC_E_NOT_FOUND;
		goto out;
	}
	if (!n->dir) {
		st = AFC_E_INVALID_ARG;
		goto out;
	}
	rep->op = AFC_OP_DATA;
	rep->payload = 1;
	afc_reply_str(rep, ".");
	afc_reply_str(rep, "..");
	RB_FOREACH(c, afc_nodes, &n->children)
		afc_reply_str(rep, c->name);
out:
	free(path);
	return (st);
}

/* Stat a path (GET_FILE_INFO): afcd's keys, times in nanoseconds. */
static uint64_t
afc_op_file_info(struct afc_session *s, struct afc_req *r,
    struct afc_reply *rep)
{
	struct afc_node	*n, *c;
	char		*path;
	uint64_t	 st, nlink = 2, entries = 2;

	st = afc_arg_path(r, 0, &path, NULL);
	afc_oplog_add(s->fs, "%s %s", r->name, path != NULL ? path : "?");
	if (st != AFC_E_SUCCESS)
		goto out;
	if ((n = afc_lookup(s->fs, path)) == NULL) {
		st = AFC_E_NOT_FOUND;
		goto out;
	}
	rep->op = AFC_OP_DATA;
	rep->payload = 1;
	if (n->dir) {
		RB_FOREACH(c, afc_nodes, &n->children) {
			entries++;
			if (c->dir)
				nlink++;
		}
		afc_reply_kv(rep, "st_size", entries * 32);
		afc_reply_kv(rep, "st_blocks", 0);
		afc_reply_kv(rep, "st_nlink", nlink);
		afc_reply_str(rep, "st_ifmt");
		afc_reply_str(rep, "S_IFDIR");
	} else {
		afc_reply_kv(rep, "st_size", n->size);
		afc_reply_kv(rep, "st_blocks", (n->size + AFC_BLOCK_SIZE - 1) /
		    AFC_BLOCK_SIZE * (AFC_BLOCK_SIZE / 512));
		afc_reply_kv(rep, "st_nlink", 1);
		afc_reply_str(rep, "st_ifmt");
		afc_reply_str(rep, "S_IFREG");
	}
	afc_reply_kv(rep, "st_mtime", n->mtime_ns);
	afc_reply_kv(rep, "st_birthtime", n->btime_ns);
out:
	free(path);
	return (st);
}

/* Create a directory and any missing parents (MAKE_DIR). */
static uint64_t
afc_op_make_dir(struct afc_session *s, struct afc_req *r,
    __unused struct afc_reply *rep)
{
	char		*path;
	uint64_t	 st;

	st = afc_arg_path(r, 0, &path, NULL);
	afc_oplog_add(s->fs, "%s %s", r->name, path != NULL ? path : "?");
	if (st == AFC_E_SUCCESS)
		st = afc_mkdirs(s->fs, path, strlen(path));
	free(path);
	return (st);
}

/*
 * Remove a path: REMOVE_PATH takes a file or an empty directory (status
 * 1 for one that is not, which the client reports as "directory not
 * empty"), REMOVE_PATH_AND_CONTENTS anything. Not the root.
 */
static uint64_t
afc_op_remove(struct afc_session *s, struct afc_req *r,
    __unused struct afc_reply *rep)
{
	struct afc_node	*n;
	char		*path;
	uint64_t	 st;

	st = afc_arg_path(r, 0, &path, NULL);
	afc_oplog_add(s->fs, "%s %s", r->name, path != NULL ? path : "?");
	if (st != AFC_E_SUCCESS)
		goto out;
	if ((n = afc_lookup(s->fs, path)) == NULL) {
		st = AFC_E_NOT_FOUND;
		goto out;
	}
	if (n == s->fs->root) {
		st = AFC_E_PERM_DENIED;
		goto out;
	}
	if (r->op == AFC_OP_REMOVE_PATH && !RB_EMPTY(&n->children)) {
		st = AFC_E_UNKNOWN;
		goto out;
	}
	afc_node_unlink(n);
	afc_node_drop(s->fs, n);
out:
	free(path);
	return (st);
}

/*
 * Rename a path as rename(2) does: a file replaces a file and a
 * directory an empty directory; anything else in the way is "object
 * exists". Not the root, nor a directory into itself.
 */
static uint64_t
afc_op_rename(struct afc_session *s, struct afc_req *r,
    __unused struct afc_reply *rep)
{
	struct afc_node	*n, *dir, *old;
	const char	*name;
	char		*from = NULL, *to = NULL;
	size_t		 next = 0, flen;
	uint64_t	 st, st2;

	st = afc_arg_path(r, 0, &from, &next);
	if (from != NULL && (st2 = afc_arg_path(r, next, &to, NULL)) != 0 &&
	    st == AFC_E_SUCCESS)
		st = st2;
	afc_oplog_add(s->fs, "%s %s %s", r->name, from != NULL ? from : "?",
	    to != NULL ? to : "?");
	if (st != AFC_E_SUCCESS)
		goto out;
	if ((n = afc_lookup(s->fs, from)) == NULL) {
		st = AFC_E_NOT_FOUND;
		goto out;
	}
	flen = strlen(from);
	if (n == s->fs->root || strcmp(to, "/") == 0 ||
	    (strncmp(to, from, flen) == 0 && to[flen] == '/')) {
		st = AFC_E_INVALID_ARG;
		goto out;
	}
	if ((dir = afc_lookup_parent(s->fs, to, &name)) == NULL) {
		st = AFC_E_NOT_FOUND;
		goto out;
	}
	if ((old = afc_child(dir, name, strlen(name))) == n)
		goto out;
	if (old != NULL) {
		if (old->dir != n->dir ||
		    (old->dir && !RB_EMPTY(&old->children))) {
			st = AFC_E_EXISTS;
			goto out;
		}
		afc_node_unlink(old);
		afc_node_drop(s->fs, old);
	}
	afc_node_unlink(n);
	free(n->name);
	n->name = xstrdup(name);
	n->parent = dir;
	if (RB_INSERT(afc_nodes, &dir->children, n) != NULL)
		fatalx("%s: %s exists", __func__, to);
	dir->mtime_ns = afc_now_ns();
out:
	free(from);
	free(to);
	return (st);
}

/* Set a file's size by path (TRUNCATE). */
static uint64_t
afc_op_truncate(struct afc_session *s, struct afc_req *r,
    __unused struct afc_reply *rep)
{
	struct afc_node	*n;
	char		*path = NULL;
	uint64_t	 st, size = 0;

	if (r->len >= 8) {
		size = afc_get64(r->body);
		st = afc_arg_path(r, 8, &path, NULL);
	} else
		st = AFC_E_INVALID_ARG;
	afc_oplog_add(s->fs, "%s %s %" PRIu64, r->name,
	    path != NULL ? path : "?", size);
	if (st != AFC_E_SUCCESS)
		goto out;
	if ((n = afc_lookup(s->fs, path)) == NULL)
		st = AFC_E_NOT_FOUND;
	else if (n->dir)
		st = AFC_E_IS_DIR;
	else
		st = afc_node_resize(s->fs, n, size);
out:
	free(path);
	return (st);
}

/* Set a file's or a directory's mtime (SET_FILE_MOD_TIME). */
static uint64_t
afc_op_mod_time(struct afc_session *s, struct afc_req *r,
    __unused struct afc_reply *rep)
{
	struct afc_node	*n;
	char		*path = NULL;
	uint64_t	 st, mtime = 0;

	if (r->len >= 8) {
		mtime = afc_get64(r->body);
		st = afc_arg_path(r, 8, &path, NULL);
	} else
		st = AFC_E_INVALID_ARG;
	afc_oplog_add(s->fs, "%s %s %" PRIu64, r->name,
	    path != NULL ? path : "?", mtime);
	if (st != AFC_E_SUCCESS)
		goto out;
	if ((n = afc_lookup(s->fs, path)) == NULL)
		st = AFC_E_NOT_FOUND;
	else
		n->mtime_ns = mtime;
out:
	free(path);
	return (st);
}

/*
 * Open a file (FILE_OPEN) in mode 1 r (must exist), 2 r+, 3 w
 * (truncates), 4 w+ (truncates), 5 a or 6 a+; all but r create it.
 */
static uint64_t
afc_op_open(struct afc_session *s, struct afc_req *r, struct afc_reply *rep)
{
	static const char *const modes[] = {
	    "?", "r", "r+", "w", "w+", "a", "a+"
	};
	static const int flags[] = {
		0,
		AFC_H_READ,
		AFC_H_READ | AFC_H_WRITE,
		AFC_H_WRITE,
		AFC_H_READ | AFC_H_WRITE,
		AFC_H_WRITE | AFC_H_APPEND,
		AFC_H_READ | AFC_H_WRITE | AFC_H_APPEND
	};
	struct afc_fs		*fs = s->fs;
	struct afc_node		*dir, *n;
	struct afc_handle	*h;
	const char		*name;
	char			*path = NULL;
	uint64_t		 st, mode = 0;

	if (r->len >= 8) {
		mode = afc_get64(r->body);
		st = afc_arg_path(r, 8, &path, NULL);
	} else
		st = AFC_E_INVALID_ARG;
	if (mode >= nitems(modes))
		mode = 0;
	afc_oplog_add(fs, "%s %s %s", r->name, modes[mode],
	    path != NULL ? path : "?");
	if (st != AFC_E_SUCCESS)
		goto out;
	if (mode == 0) {
		st = AFC_E_INVALID_ARG;
		goto out;
	}
	if (s->nhandles >= AFC_HANDLES_MAX) {
		st = AFC_E_NO_RESOURCES;
		goto out;
	}
	if (strcmp(path, "/") == 0) {
		st = AFC_E_IS_DIR;
		goto out;
	}
	if ((dir = afc_lookup_parent(fs, path, &name)) == NULL) {
		st = AFC_E_NOT_FOUND;
		goto out;
	}
	if ((n = afc_child(dir, name, strlen(name))) == NULL) {
		if (mode == AFC_MODE_RDONLY) {
			st = AFC_E_NOT_FOUND;
			goto out;
		}
		n = afc_node_new(dir, name, 0);
	} else if (n->dir) {
		st = AFC_E_IS_DIR;
		goto out;
	} else if (mode == AFC_MODE_WRONLY || mode == AFC_MODE_WR)
		(void)afc_node_resize(fs, n, 0);

	h = xcalloc(1, sizeof(*h));
	h->id = ++fs->next_handle;
	h->node = n;
	h->path = path;
	path = NULL;
	h->flags = flags[mode];
	n->refs++;
	TAILQ_INSERT_TAIL(&s->handles, h, entry);
	s->nhandles++;
	rep->op = AFC_OP_FILE_OPEN_RES;
	afc_reply_u64(rep, h->id);
out:
	free(path);
	return (st);
}

/* Read up to the asked length at the position, as payload. */
static uint64_t
afc_op_read(struct afc_session *s, struct afc_req *r, struct afc_reply *rep)
{
	struct afc_handle	*h;
	struct afc_node		*n;
	char			 hbuf[32];
	uint64_t		 id, want, len = 0;

	if (r->len < 16) {
		afc_oplog_add(s->fs, "%s ?", r->name);
		return (AFC_E_INVALID_ARG);
	}
	id = afc_get64(r->body);
	want = afc_get64(r->body + 8);
	h = afc_handle_find(s, id);
	afc_oplog_add(s->fs, "%s %s %" PRIu64, r->name,
	    afc_handle_name(h, id, hbuf, sizeof(hbuf)), want);
	if (h == NULL || (h->flags & AFC_H_READ) == 0)
		return (AFC_E_INVALID_ARG);
	n = h->node;
	if (h->pos < n->size)
		len = n->size - h->pos;
	if (len > want)
		len = want;
	if (len > AFC_MAX_DATA)
		len = AFC_MAX_DATA;
	rep->op = AFC_OP_DATA;
	rep->payload = 1;
	if (len != 0) {
		afc_reply_add(rep, n->data + h->pos, (size_t)len);
		h->pos += len;
	}
	return (AFC_E_SUCCESS);
}

/* Write the bytes after the handle at the position, or the end. */
static uint64_t
afc_op_write(struct afc_session *s, struct afc_req *r,
    __unused struct afc_reply *rep)
{
	struct afc_handle	*h;
	char			 hbuf[32];
	uint64_t		 id, st;
	size_t			 len;

	if (r->len < 8) {
		afc_oplog_add(s->fs, "%s ?", r->name);
		return (AFC_E_INVALID_ARG);
	}
	id = afc_get64(r->body);
	len = r->len - 8;
	h = afc_handle_find(s, id);
	afc_oplog_add(s->fs, "%s %s %zu", r->name,
	    afc_handle_name(h, id, hbuf, sizeof(hbuf)), len);
	if (h == NULL || (h->flags & AFC_H_WRITE) == 0)
		return (AFC_E_INVALID_ARG);
	if (h->flags & AFC_H_APPEND)
		h->pos = h->node->size;
	/* The bytes crossed the OUT pipe; a flip there lands in the file. */
	conn_corrupt_out(s->conn, r->body + 8, len);
	st = afc_node_store(s->fs, h->node, h->pos, r->body + 8, len, 0);
	if (st == AFC_E_SUCCESS)
		h->pos += len;
	return (st);
}

/* Seek from the start (0), the position (1) or the end (2). */
static uint64_t
afc_op_seek(struct afc_session *s, struct afc_req *r,
    __unused struct afc_reply *rep)
{
	struct afc_handle	*h;
	char			 hbuf[32];
	uint64_t		 id, whence, base, mag;
	int64_t			 off;

	if (r->len < 24) {
		afc_oplog_add(s->fs, "%s ?", r->name);
		return (AFC_E_INVALID_ARG);
	}
	id = afc_get64(r->body);
	whence = afc_get64(r->body + 8);
	mag = afc_get64(r->body + 16);
	off = mag <= INT64_MAX ? (int64_t)mag : -(int64_t)(~mag) - 1;
	h = afc_handle_find(s, id);
	afc_oplog_add(s->fs, "%s %s %" PRIu64 " %" PRId64, r->name,
	    afc_handle_name(h, id, hbuf, sizeof(hbuf)), whence, off);
	if (h == NULL)
		return (AFC_E_INVALID_ARG);
	switch (whence) {
	case AFC_SEEK_SET:
		base = 0;
		break;
	case AFC_SEEK_CUR:
		base = h->pos;
		break;
	case AFC_SEEK_END:
		base = h->node->size;
		break;
	default:
		return (AFC_E_INVALID_ARG);
	}
	if (off < 0) {
		mag = (uint64_t)0 - mag;
		if (mag > base)
			return (AFC_E_INVALID_ARG);
		h->pos = base - mag;
	} else {
		if (mag > (uint64_t)INT64_MAX - base)
			return (AFC_E_INVALID_ARG);
		h->pos = base + mag;
	}
	return (AFC_E_SUCCESS);
}

/* Tell a handle's position (FILE_TELL). */
static uint64_t
afc_op_tell(struct afc_session *s, struct afc_req *r, struct afc_reply *rep)
{
	struct afc_handle	*h;
	char			 hbuf[32];
	uint64_t		 id;

	if (r->len < 8) {
		afc_oplog_add(s->fs, "%s ?", r->name);
		return (AFC_E_INVALID_ARG);
	}
	id = afc_get64(r->body);
	h = afc_handle_find(s, id);
	afc_oplog_add(s->fs, "%s %s", r->name,
	    afc_handle_name(h, id, hbuf, sizeof(hbuf)));
	if (h == NULL)
		return (AFC_E_INVALID_ARG);
	rep->op = AFC_OP_FILE_TELL_RES;
	afc_reply_u64(rep, h->pos);
	return (AFC_E_SUCCESS);
}

/* Set the size through a handle open for writing (FILE_SET_SIZE). */
static uint64_t
afc_op_set_size(struct afc_session *s, struct afc_req *r,
    __unused struct afc_reply *rep)
{
	struct afc_handle	*h;
	char			 hbuf[32];
	uint64_t		 id, size;

	if (r->len < 16) {
		afc_oplog_add(s->fs, "%s ?", r->name);
		return (AFC_E_INVALID_ARG);
	}
	id = afc_get64(r->body);
	size = afc_get64(r->body + 8);
	h = afc_handle_find(s, id);
	afc_oplog_add(s->fs, "%s %s %" PRIu64, r->name,
	    afc_handle_name(h, id, hbuf, sizeof(hbuf)), size);
	if (h == NULL || (h->flags & AFC_H_WRITE) == 0)
		return (AFC_E_INVALID_ARG);
	return (afc_node_resize(s->fs, h->node, size));
}

/* Close a handle (FILE_CLOSE). */
static uint64_t
afc_op_close(struct afc_session *s, struct afc_req *r,
    __unused struct afc_reply *rep)
{
	struct afc_handle	*h;
	char			 hbuf[32];
	uint64_t		 id;

	if (r->len < 8) {
		afc_oplog_add(s->fs, "%s ?", r->name);
		return (AFC_E_INVALID_ARG);
	}
	id = afc_get64(r->body);
	h = afc_handle_find(s, id);
	afc_oplog_add(s->fs, "%s %s", r->name,
	    afc_handle_name(h, id, hbuf, sizeof(hbuf)));
	if (h == NULL)
		return (AFC_E_INVALID_ARG);
	afc_handle_close(s, h);
	return (AFC_E_SUCCESS);
}

/* Accept FILE_LOCK on any valid handle; nothing is locked. */
static uint64_t
afc_op_lock(struct afc_session *s, struct afc_req *r,
    __unused struct afc_reply *rep)
{
	struct afc_handle	*h;
	char			 hbuf[32];
	uint64_t		 id, op;

	if (r->len < 16) {
		afc_oplog_add(s->fs, "%s ?", r->name);
		return (AFC_E_INVALID_ARG);
	}
	id = afc_get64(r->body);
	op = afc_get64(r->body + 8);
	h = afc_handle_find(s, id);
	afc_oplog_add(s->fs, "%s %s %" PRIu64, r->name,
	    afc_handle_name(h, id, hbuf, sizeof(hbuf)), op);
	return (h == NULL ? AFC_E_INVALID_ARG : AFC_E_SUCCESS);
}
