/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * lq-raw: a raw unix-socket client for the integration tests, which
 * feed the simulator's parsers bytes no real client would send.
 *
 *	printf '...' | lq-raw [-s] [-i interval-ms] [-t timeout-ms] socket
 *
 * It connects to the unix stream socket, writes all of standard input,
 * and copies what the peer sends to standard output until the peer
 * closes the connection or the timeout (default 3000 ms, counted from
 * the connection) expires. Writing and reading go on together, so a
 * peer that answers before it has read everything cannot deadlock it.
 * A peer that closes while input is still unsent is not an error: the
 * rest is dropped. With -s the writing side is shut down once standard
 * input is sent, so that the peer reads EOF; without it the connection
 * stays open, and a peer that keeps it open runs into the timeout.
 * With -i the input is sent one byte per interval, as a client that
 * dribbles its request would.
 *
 * Exit status: 0 if the peer closed the connection (EOF) before the
 * timeout, 3 if the timeout expired with the connection still open,
 * 1 on an I/O error after connecting, 2 on usage or connect errors.
 */

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compat/compat.h"

#define RAW_NAME		"lq-raw"
#define RAW_TIMEOUT_MS		3000
#define RAW_TIMEOUT_MAX_MS	3600000
#define RAW_INPUT_MAX		(256 * 1024 * 1024)
#define RAW_BUF			65536

#define RAW_EXIT_EOF		0
#define RAW_EXIT_ERROR		1
#define RAW_EXIT_USAGE		2
#define RAW_EXIT_TIMEOUT	3

static __dead void usage(void);
static char	*read_input(size_t *);
static int	 connect_unix(const char *);
static long long now_ms(void);
static int	 write_all(int, const char *, size_t);

/* Print the usage and exit 2. */
static __dead void
usage(void)
{
	(void)fprintf(stderr, "usage: %s [-hs] [-i interval-ms] "
	    "[-t timeout-ms] socket\n", RAW_NAME);
	exit(RAW_EXIT_USAGE);
}

/* Read all of standard input into memory; exits 2 on failure. */
static char *
read_input(size_t *lenp)
{
	char	*buf = NULL, *nbuf;
	size_t	 len = 0, size = 0;
	ssize_t	 n;

	for (;;) {
		if (len == size) {
			if (size == RAW_INPUT_MAX) {
				(void)fprintf(stderr, "%s: standard input is "
				    "larger than %d bytes\n", RAW_NAME,
				    RAW_INPUT_MAX);
				exit(RAW_EXIT_USAGE);
			}
			size = size == 0 ? RAW_BUF : size * 2;
			if ((nbuf = realloc(buf, size)) == NULL) {
				(void)fprintf(stderr, "%s: out of memory\n",
				    RAW_NAME);
				exit(RAW_EXIT_USAGE);
			}
			buf = nbuf;
		}
		n = read(STDIN_FILENO, buf + len, size - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			(void)fprintf(stderr, "%s: standard input: %s\n",
			    RAW_NAME, strerror(errno));
			exit(RAW_EXIT_USAGE);
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*lenp = len;
	return (buf);
}

/* Connect to the unix stream socket at path; exits 2 on failure. */
static int
connect_unix(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		(void)fprintf(stderr, "%s: %s: path too long\n", RAW_NAME,
		    path);
		exit(RAW_EXIT_USAGE);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		(void)fprintf(stderr, "%s: %s: %s\n", RAW_NAME, path,
		    strerror(errno));
		exit(RAW_EXIT_USAGE);
	}
	return (fd);
}

/* The monotonic clock in milliseconds. */
static long long
now_ms(void)
{
	struct timespec	ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Write all of buf to a blocking fd; 0 or -1. */
static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return (-1);
		buf += n;
		len -= (size_t)n;
	}
	return (0);
}

int
main(int argc, char *argv[])
{
	struct pollfd	 pfd;
	const char	*errstr;
	char		*in, buf[RAW_BUF];
	size_t		 in_len, sent = 0;
	long long	 timeout = RAW_TIMEOUT_MS, deadline, left;
	long long	 interval = 0, next_write = 0;
	ssize_t		 n;
	int		 ch, fd, shut = 0, writing;

	while ((ch = getopt(argc, argv, "hi:st:")) != -1) {
		switch (ch) {
		case 'i':
			interval = strtonum(optarg, 1, RAW_TIMEOUT_MAX_MS,
			    &errstr);
			if (errstr != NULL) {
				(void)fprintf(stderr, "%s: interval \"%s\" is "
				    "%s (1 to %d ms)\n", RAW_NAME, optarg,
				    errstr, RAW_TIMEOUT_MAX_MS);
				usage();
			}
			break;
		case 's':
			shut = 1;
			break;
		case 't':
			timeout = strtonum(optarg, 1, RAW_TIMEOUT_MAX_MS,
			    &errstr);
			if (errstr != NULL) {
				(void)fprintf(stderr, "%s: timeout \"%s\" is "
				    "%s (1 to %d ms)\n", RAW_NAME, optarg,
				    errstr, RAW_TIMEOUT_MAX_MS);
				usage();
			}
			break;
		case 'h':
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		usage();

	in = read_input(&in_len);
	fd = connect_unix(argv[0]);
	deadline = now_ms() + timeout;
	writing = 1;
	if (in_len == 0) {
		writing = 0;
		if (shut)
			(void)shutdown(fd, SHUT_WR);
	}

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0) {
			free(in);
			(void)close(fd);
			return (RAW_EXIT_TIMEOUT);
		}
		/* Dribbling: wait for the next byte's time, not POLLOUT. */
		if (writing && interval > 0 && next_write - now_ms() > 0 &&
		    next_write - now_ms() < left)
			left = next_write - now_ms();
		pfd.fd = fd;
		pfd.events = POLLIN | (writing && now_ms() >= next_write ?
		    POLLOUT : 0);
		pfd.revents = 0;
		if (poll(&pfd, 1, (int)left) == -1) {
			if (errno == EINTR)
				continue;
			(void)fprintf(stderr, "%s: poll: %s\n", RAW_NAME,
			    strerror(errno));
			break;
		}
		if (writing && (pfd.revents & (POLLOUT | POLLERR))) {
			n = send(fd, in + sent, interval > 0 ? 1 :
			    in_len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
			next_write = now_ms() + interval;
			if (n == -1 && (errno == EPIPE ||
			    errno == ECONNRESET)) {
				/* The peer has closed; read what it said. */
				writing = 0;
			} else if (n == -1 && errno != EINTR &&
			    errno != EAGAIN) {
				(void)fprintf(stderr, "%s: send: %s\n",
				    RAW_NAME, strerror(errno));
				break;
			} else if (n > 0) {
				sent += (size_t)n;
				if (sent == in_len) {
					writing = 0;
					if (shut)
						(void)shutdown(fd, SHUT_WR);
				}
			}
		}
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (n == -1 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n == 0 || (n == -1 && errno == ECONNRESET)) {
				free(in);
				(void)close(fd);
				return (RAW_EXIT_EOF);
			}
			if (n == -1) {
				(void)fprintf(stderr, "%s: recv: %s\n",
				    RAW_NAME, strerror(errno));
				break;
			}
			if (write_all(STDOUT_FILENO, buf, (size_t)n) == -1) {
				(void)fprintf(stderr, "%s: standard output: "
				    "%s\n", RAW_NAME, strerror(errno));
				break;
			}
		}
	}
	free(in);
	(void)close(fd);
	return (RAW_EXIT_ERROR);
}
