/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * lq-notify-listen: stands in for systemd's end of NOTIFY_SOCKET
 * (sd_notify(3)) in the integration tests. It binds a datagram socket
 * at the path given and prints each notification on one line, its
 * assignments separated by spaces, flushed at once, until it is
 * killed:
 *
 *	READY=1 MAINPID=123 STATUS=0 devices, 0 runs
 *	WATCHDOG=1
 */

#include <sys/socket.h>
#include <sys/un.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct sockaddr_un	 sun;
	char			 buf[4096];
	ssize_t			 n, i;
	int			 fd;

	if (argc != 2) {
		(void)fprintf(stderr, "usage: lq-notify-listen path\n");
		return (2);
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(argv[1]) >= sizeof(sun.sun_path)) {
		(void)fprintf(stderr, "lq-notify-listen: path too long\n");
		return (1);
	}
	memcpy(sun.sun_path, argv[1], strlen(argv[1]) + 1);
	(void)unlink(argv[1]);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		perror("lq-notify-listen");
		return (1);
	}
	for (;;) {
		if ((n = recv(fd, buf, sizeof(buf) - 1, 0)) == -1) {
			perror("lq-notify-listen: recv");
			return (1);
		}
		for (i = 0; i < n; i++)
			if (buf[i] == '\n')
				buf[i] = ' ';
		buf[n] = '\0';
		(void)printf("%s\n", buf);
		(void)fflush(stdout);
	}
}
