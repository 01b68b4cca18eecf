/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Exact-length blocking I/O on a simulator connection, plain or TLS
 * (contract in conn.h).
 */

#include <sys/socket.h>

#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "link.h"
#include "conn.h"
#include "log.h"
#include "lq-time.h"

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

/* Corrupt outgoing data as the link model says; none without one. */
void
conn_corrupt(struct sim_conn *c, void *buf, size_t len)
{
	if (c->dev != NULL)
		link_corrupt(c->dev, buf, len);
}

/* Corrupt data the host wrote as the link model says; none without one. */
void
conn_corrupt_out(struct sim_conn *c, void *buf, size_t len)
{
	if (c->dev != NULL)
		link_corrupt_out(c->dev, buf, len);
}

static pthread_mutex_t	live_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	live_cond = PTHREAD_COND_INITIALIZER;
static TAILQ_HEAD(, conn_live) live = TAILQ_HEAD_INITIALIZER(live);
static int		live_draining;

/* Register the socket of a client thread. */
void
conn_live_add(struct conn_live *node, int fd)
{
	node->fd = fd;
	if (pthread_mutex_lock(&live_mutex) != 0)
		fatalx("%s: lock", __func__);
	TAILQ_INSERT_TAIL(&live, node, entry);
	/* A client accepted while draining is cut at once. */
	if (live_draining)
		(void)shutdown(fd, SHUT_RDWR);
	if (pthread_mutex_unlock(&live_mutex) != 0)
		fatalx("%s: unlock", __func__);
}

/* Forget a client's socket; call before closing it. */
void
conn_live_remove(struct conn_live *node)
{
	if (pthread_mutex_lock(&live_mutex) != 0)
		fatalx("%s: lock", __func__);
	TAILQ_REMOVE(&live, node, entry);
	(void)pthread_cond_broadcast(&live_cond);
	if (pthread_mutex_unlock(&live_mutex) != 0)
		fatalx("%s: unlock", __func__);
}

/* Cut every live socket; wait up to ms for their threads. */
int
conn_live_drain(int ms)
{
	struct conn_live	*node;
	struct timespec		 ts;
	int			 left = 0;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	if (pthread_mutex_lock(&live_mutex) != 0)
		fatalx("%s: lock", __func__);
	live_draining = 1;
	TAILQ_FOREACH(node, &live, entry)
		(void)shutdown(node->fd, SHUT_RDWR);
	while (!TAILQ_EMPTY(&live) &&
	    pthread_cond_timedwait(&live_cond, &live_mutex, &ts) == 0)
		continue;
	TAILQ_FOREACH(node, &live, entry)
		left++;
	if (pthread_mutex_unlock(&live_mutex) != 0)
		fatalx("%s: unlock", __func__);
	return (left);
}
