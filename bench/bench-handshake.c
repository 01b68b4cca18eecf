/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * bench-handshake: full lockdown handshakes per second through
 * libimobiledevice alone (no linkq code), the baseline of linkqd's
 * lockdown-handshake probe. Each handshake is
 * lockdownd_client_new_with_handshake (connect, QueryType, GetValue
 * ProductVersion, the pair record from usbmuxd, StartSession and the
 * TLS handshake) and lockdownd_client_free (StopSession, close): what
 * the probe does with lockdownd_client_new, lockdownd_query_type and
 * lockdownd_start_session, then lockdownd_stop_session. One handshake
 * is made first, outside the timing, as linkqd's first probe of a run
 * is left out.
 *
 *	bench-handshake [-n count] [-u udid]
 *
 * Prints "N handshakes in S s: R/s" (wall time of the loop).
 */

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <libimobiledevice/libimobiledevice.h>
#include <libimobiledevice/lockdown.h>

#include "compat/compat.h"

static __dead void
usage(void)
{
	(void)fprintf(stderr, "usage: bench-handshake [-n count] "
	    "[-u udid]\n");
	exit(2);
}

/* Monotonic time in seconds. */
static double
now_s(void)
{
	struct timespec	ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/* One handshake and its end; 0 or -1. */
static int
handshake(idevice_t dev)
{
	lockdownd_client_t	ld = NULL;
	lockdownd_error_t	le;

	le = lockdownd_client_new_with_handshake(dev, &ld, "bench-handshake");
	if (le != LOCKDOWN_E_SUCCESS) {
		(void)fprintf(stderr, "bench-handshake: "
		    "lockdownd_client_new_with_handshake: error %d\n", le);
		return (-1);
	}
	(void)lockdownd_client_free(ld);
	return (0);
}

int
main(int argc, char **argv)
{
	idevice_t	 dev = NULL;
	const char	*udid = NULL, *errstr;
	double		 start, secs;
	long long	 n = 20, i;
	int		 ch, ret = 1;

	while ((ch = getopt(argc, argv, "n:u:")) != -1) {
		switch (ch) {
		case 'n':
			n = strtonum(optarg, 1, 1000000, &errstr);
			if (errstr != NULL)
				usage();
			break;
		case 'u':
			udid = optarg;
			break;
		default:
			usage();
		}
	}
	if (argc != optind)
		usage();
	if (idevice_new(&dev, udid) != IDEVICE_E_SUCCESS) {
		(void)fprintf(stderr, "bench-handshake: no device\n");
		return (1);
	}
	if (handshake(dev) == -1)
		goto out;
	start = now_s();
	for (i = 0; i < n; i++) {
		if (handshake(dev) == -1)
			goto out;
	}
	secs = now_s() - start;
	(void)printf("%lld handshakes in %.3f s: %.2f/s\n", n, secs,
	    (double)n / secs);
	ret = 0;
out:
	idevice_free(dev);
	return (ret);
}
