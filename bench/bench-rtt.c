/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * bench-rtt: lockdown GetValue round trips on one lockdown session,
 * through libimobiledevice alone (no linkq code). It is the baseline of
 * the probe-overhead benchmark, the bare loop of what linkqd's
 * lockdown-query probe does: lockdownd_client_new_with_handshake once,
 * outside the timing, then count times lockdownd_get_value
 * ProductVersion, each answer checked to be a string. bench/run also
 * uses it to check that linkq-sim's injected latency is what it says.
 *
 *	bench-rtt [-n count] [-u udid]
 *
 * Prints "N round trips in S s: M us each" (wall time of the loop).
 */

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <libimobiledevice/libimobiledevice.h>
#include <libimobiledevice/lockdown.h>
#include <plist/plist.h>

#include "compat/compat.h"

static __dead void
usage(void)
{
	(void)fprintf(stderr, "usage: bench-rtt [-n count] [-u udid]\n");
	exit(2);
}

/* Monotonic time in microseconds. */
static double
now_us(void)
{
	struct timespec	ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3);
}

int
main(int argc, char **argv)
{
	idevice_t		 dev = NULL;
	lockdownd_client_t	 ld = NULL;
	plist_t			 value;
	const char		*udid = NULL, *errstr;
	double			 start, secs;
	long long		 n = 1000, i;
	int			 ch, ret = 1;

	while ((ch = getopt(argc, argv, "n:u:")) != -1) {
		switch (ch) {
		case 'n':
			n = strtonum(optarg, 1, 10000000, &errstr);
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
	if (idevice_new(&dev, udid) != IDEVICE_E_SUCCESS) {
		(void)fprintf(stderr, "bench-rtt: no device\n");
		return (1);
	}
	if (lockdownd_client_new_with_handshake(dev, &ld, "bench-rtt") !=
	    LOCKDOWN_E_SUCCESS) {
		(void)fprintf(stderr, "bench-rtt: lockdown handshake failed\n");
		goto out;
	}
	start = now_us();
	for (i = 0; i < n; i++) {
		value = NULL;
		if (lockdownd_get_value(ld, NULL, "ProductVersion", &value) !=
		    LOCKDOWN_E_SUCCESS) {
			(void)fprintf(stderr, "bench-rtt: GetValue failed\n");
			goto out;
		}
		if (value == NULL || plist_get_node_type(value) !=
		    PLIST_STRING) {
			(void)fprintf(stderr, "bench-rtt: GetValue "
			    "ProductVersion is not a string\n");
			plist_free(value);
			goto out;
		}
		plist_free(value);
	}
	secs = (now_us() - start) / 1e6;
	(void)printf("%lld round trips in %.3f s: %.1f us each\n", n, secs,
	    secs * 1e6 / (double)n);
	ret = 0;
out:
	lockdownd_client_free(ld);
	idevice_free(dev);
	return (ret);
}
