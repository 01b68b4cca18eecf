/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Exact-length blocking I/O on a simulator connection, plain or TLS
 * (contract in conn.h).
 */

#include <sys/socket.h>

#include <errno.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "bench.h"
#include "conn.h"

/* Read exactly len bytes. */
int
conn_read(struct sim_conn *c, void *buf, size_t len)
{
	unsigned char	*p = buf;
	ssize_t		 n;
	size_t		 done = 0;
	int		 r;

	if (len == 0)
		return (0);
	while (done < len) {
		if (c->ssl != NULL) {
			r = SSL_read(c->ssl, p + done, (int)(len - done));
			if (r <= 0) {
				ERR_clear_error();
				return (-1);
			}
			n = r;
		} else {
			n = read(c->fd, p + done, len - done);
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0)
				return (-1);
		}
		done += (size_t)n;
	}
	c->bytes_in += len;
	/* The bytes crossed the link: it may delay them, or drop the device. */
	if (c->dev != NULL && link_transfer(c->dev, len, 0) == -1)
		return (-1);
	return (0);
}

/* Write exactly len bytes. */
int
conn_write(struct sim_conn *c, const void *buf, size_t len)
{
	const unsigned char	*p = buf;
	ssize_t			 n;
	size_t			 done = 0;
	int			 r;

	if (c->dev != NULL && link_transfer(c->dev, len, 1) == -1)
		return (-1);
	while (done < len) {
		if (c->ssl != NULL) {
			r = SSL_write(c->ssl, p + done, (int)(len - done));
			if (r <= 0) {
				ERR_clear_error();
				return (-1);
			}
			n = r;
		} else {
			n = send(c->fd, p + done, len - done, MSG_NOSIGNAL);
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0)
				return (-1);
		}
		done += (size_t)n;
	}
	c->bytes_out += len;
	return (0);
}

/* Shut the socket down; blocked reads and writes return. */
void
conn_cut(struct sim_conn *c)
{
	(void)shutdown(c->fd, SHUT_RDWR);
}

/* Corrupt outgoing data as the link model says; none without one. */
void
conn_corrupt(struct sim_conn *c, void *buf, size_t len)
{
	if (c->dev != NULL)
		link_corrupt(c->dev, buf, len);
}
