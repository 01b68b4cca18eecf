/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * lq-flood: many idle clients at once, for the integration tests of a
 * server at its descriptor limit.
 *
 *	lq-flood [-n connections] [-t hold-ms] socket
 *
 * It opens up to n (default 1000) connections to the unix stream
 * socket, without blocking: a connection the listen queue has no room
 * for is refused (EAGAIN) rather than waited for. It sends nothing on
 * them, holds them for the hold time (default 3000 ms), closes them
 * and prints "connected N refused M". It raises its own soft descriptor
 * limit to the hard one first, so that it is the server that runs out.
 *
 * Exit status: 0, or 2 on usage errors or if not one connection could
 * be made.
 */

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat/compat.h"

#define FLOOD_NAME	"lq-flood"
#define FLOOD_MAX	100000
#define FLOOD_HOLD_MAX	3600000

static __dead void
usage(void)
{
	(void)fprintf(stderr, "usage: %s [-n connections] [-t hold-ms] "
	    "socket\n", FLOOD_NAME);
	exit(2);
}

/* A number option in [1, max]; exits 2 if it is not. */
static long long
number(const char *what, const char *s, long long max)
{
	const char	*errstr;
	long long	 n;

	n = strtonum(s, 1, max, &errstr);
	if (errstr != NULL) {
		(void)fprintf(stderr, "%s: %s \"%s\" is %s (1 to %lld)\n",
		    FLOOD_NAME, what, s, errstr, max);
		usage();
	}
	return (n);
}

int
main(int argc, char *argv[])
{
	struct sockaddr_un	 sun;
	struct rlimit		 rl;
	int			*fds;
	long long		 n = 1000, hold = 3000, i;
	long long		 connected = 0, refused = 0;
	int			 ch, fd;

	while ((ch = getopt(argc, argv, "hn:t:")) != -1) {
		switch (ch) {
		case 'n':
			n = number("connections", optarg, FLOOD_MAX);
			break;
		case 't':
			hold = number("hold time", optarg, FLOOD_HOLD_MAX);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		usage();
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, argv[0], sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		(void)fprintf(stderr, "%s: %s: path too long\n", FLOOD_NAME,
		    argv[0]);
		return (2);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if ((fds = calloc((size_t)n, sizeof(*fds))) == NULL) {
		(void)fprintf(stderr, "%s: out of memory\n", FLOOD_NAME);
		return (2);
	}
	for (i = 0; i < n; i++) {
		fds[i] = -1;
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0)) == -1) {
			(void)fprintf(stderr, "%s: socket: %s\n", FLOOD_NAME,
			    strerror(errno));
			break;
		}
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
			refused++;
			(void)close(fd);
			continue;
		}
		fds[i] = fd;
		connected++;
	}
	(void)poll(NULL, 0, (int)hold);
	for (i = 0; i < n; i++) {
		if (fds[i] != -1)
			(void)close(fds[i]);
	}
	free(fds);
	(void)printf("connected %lld refused %lld\n", connected, refused);
	return (connected > 0 ? 0 : 2);
}
