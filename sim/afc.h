/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The simulated device's AFC service (com.apple.afc): an in-memory
 * filesystem and the server that speaks the AFC protocol over it, close
 * enough to an iPhone's afcd that libimobiledevice 1.3.0 cannot tell them
 * apart (packet layout, replies and error codes as in protocols.md,
 * section 3).
 *
 * THREADS
 * An afc_fs has its own mutex. Every function below takes it, so any
 * thread may call them, and several connections may be served from the
 * same filesystem at once. afc_serve() blocks on its connection and runs
 * on that connection's thread; the lock is never held across socket I/O.
 *
 * OWNERSHIP
 * afc_fs_create() returns a filesystem the caller owns; afc_fs_free()
 * releases it (NULL is a no-op) and must not be called while a connection
 * is still being served from it. afc_serve() borrows both of its
 * arguments; file handles a client opened are closed when it returns,
 * and the caller still closes the connection.
 *
 * ERRORS
 * Problems with a request's arguments are answered with an AFC status
 * code, as afcd does. A request that cannot be framed (bad magic,
 * this_length under 40 or over entire_length, header-data over
 * AFC_MAX_ARGS or payload over AFC_MAX_DATA, FILE_WRITE with its handle
 * in the header-data aside, which is streamed) is logged with log_warnx
 * and ends afc_serve() before anything is allocated for it; so does a
 * failed conn_read or conn_write. Allocation failure ends the process
 * (xmalloc).
 *
 * SIZES
 * The capacity is what GET_DEVINFO reports as FSTotalBytes; free space is
 * the capacity minus the bytes stored in files (directories cost
 * nothing), and a write or resize that would exceed it fails with "no
 * space left" (18) without changing anything. Files live in memory, so
 * the capacity should fit in it; a single file is further limited to
 * AFC_FILE_MAX bytes.
 */

#ifndef LQ_SIM_AFC_H
#define LQ_SIM_AFC_H

#include <stddef.h>
#include <stdint.h>

/* The largest bulk data (a FILE_READ result, a request read whole). */
#define AFC_MAX_DATA	(64U * 1024 * 1024)
/* The largest argument block (header-data) besides the bulk data. */
#define AFC_MAX_ARGS	(64U * 1024)
/* The largest single file. */
#define AFC_FILE_MAX	(UINT64_C(1) << 30)
/* Oplog lines kept; older ones are dropped first and counted. */
#define AFC_OPLOG_MAX	(1U << 18)

struct afc_fs;
struct sim_conn;

/* Create an empty filesystem (only "/") of the given capacity in bytes. */
struct afc_fs	*afc_fs_create(uint64_t);
void		 afc_fs_free(struct afc_fs *);
/*
 * Add the "user content" linkq must never touch: /DCIM/100APPLE/
 * IMG_0001.JPG (4096 bytes, byte i is (i * 31 + 7) & 0xff),
 * /DCIM/100APPLE/IMG_0002.MOV (8192 bytes, byte i is (i * 7 + 3) & 0xff),
 * /Downloads/notes.txt (a line of text) and an empty /Books. Nothing is
 * logged in the oplog.
 */
void		 afc_fs_populate(struct afc_fs *);
/*
 * Serve one AFC client until it disconnects, a read or write fails or a
 * request cannot be framed. Runs on the connection's thread. If the
 * connection's device is hostile (hostile.h), each reply is replaced by
 * its kind's malformed one, which may also end the connection.
 */
void		 afc_serve(struct sim_conn *, struct afc_fs *);
/*
 * Call fn(arg, line) for each oplog line, oldest first, under the
 * filesystem's lock (fn must not call back into this module). One line
 * per request: the operation's name and its normalised path(s), e.g.
 * "FILE_OPEN w /linkq/x", "READ_DIR /", "RENAME_PATH /a /b"; operations
 * on a handle name the path it was opened with and their byte count or
 * arguments, e.g. "FILE_WRITE /linkq/x 131072" ("#n" for an unknown
 * handle n). If lines were dropped, the first line says how many.
 */
void		 afc_fs_oplog(struct afc_fs *, void (*)(void *, const char *),
		    void *);
void		 afc_fs_oplog_clear(struct afc_fs *);
uint64_t	 afc_fs_free_bytes(struct afc_fs *);
/*
 * Copy a whole file's bytes into *data (allocated, the caller frees it;
 * NULL for an empty file) and its size into *len. Returns 0, or -1 if the
 * path is absent or a directory.
 */
int		 afc_fs_read_file(struct afc_fs *, const char *,
		    unsigned char **, size_t *);

/*
 * Encode v as the little-endian uint64 of an AFC header into p[0..7]
 * (also for hostile.c's malformed replies).
 */
void		 afc_put64(unsigned char *, uint64_t);

#endif /* LQ_SIM_AFC_H */
