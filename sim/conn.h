/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * One client connection of the simulator, seen from the device side.
 *
 * DESIGN
 * The simulator gives every accepted connection its own thread with
 * blocking I/O. A device's side of a protocol is sequential (read a
 * request, answer it, perhaps after an injected delay), so each protocol
 * is a straight-line function over conn_read/conn_write, stalls and
 * latency are plain sleeps, and lockdownd's switch from plaintext to TLS
 * and back on the same socket is a few OpenSSL calls. Hundreds of
 * connections are hundreds of small-stack threads, which Linux handles
 * well on two cores.
 *
 * conn_read and conn_write move exactly the number of bytes asked for,
 * through TLS when it is on, and apply the link model of the device the
 * connection is relayed to (latency, bandwidth cap, stalls). Another
 * thread cuts a connection by shutting its socket down (shutdown(2)):
 * device.c when the device goes away, conn_live_drain() at exit; blocked
 * calls then return -1.
 */

#ifndef LQ_SIM_CONN_H
#define LQ_SIM_CONN_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "compat/queue.h"

struct sim_device;

struct sim_conn {
	int			 fd;
	SSL			*ssl;	/* non-NULL while TLS is on */
	struct sim_device	*dev;	/* relayed to, or NULL */
	uint64_t		 bytes_in;
	uint64_t		 bytes_out;
};

/*
 * The client sockets whose threads are alive, so that shutdown can cut
 * them all and wait for the threads to finish. A thread registers its
 * socket with a node of its own (on its stack) and removes it before it
 * closes the socket, so no socket number is cut after being reused.
 */
struct conn_live {
	int			 fd;
	TAILQ_ENTRY(conn_live)	 entry;
};

void	conn_live_add(struct conn_live *, int);
void	conn_live_remove(struct conn_live *);
/* Cut every live socket and wait up to ms for their threads to end. */
int	conn_live_drain(int);

/* Read exactly len bytes. Returns 0, or -1 on EOF, error or a cut. */
int	conn_read(struct sim_conn *, void *, size_t);
/* Write exactly len bytes. Returns 0, or -1 on error or a cut. */
int	conn_write(struct sim_conn *, const void *, size_t);
/*
 * Apply the link's corruption to data about to be sent to the host (AFC
 * read payloads): flips bits at the rate the link model sets. Without a
 * link model (dev NULL) the data is left alone.
 */
void	conn_corrupt(struct sim_conn *, void *, size_t);
/* Corrupt data the host wrote, as the link model says (OUT pipe). */
void	conn_corrupt_out(struct sim_conn *, void *, size_t);

#endif /* LQ_SIM_CONN_H */
