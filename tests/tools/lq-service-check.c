/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * lq-service-check: ask a device's lockdownd to start a service, through
 * libimobiledevice alone, and print what it answered:
 *
 *	lq-service-check [-u udid] com.apple.afc
 *	started com.apple.afc on port 49152
 *	lq-service-check com.apple.nonexistent
 *	refused com.apple.nonexistent: error -27 (LOCKDOWN_E_INVALID_SERVICE)
 *
 * Exit status 0 when started, 1 when refused, 2 on other errors.
 */

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <libimobiledevice/libimobiledevice.h>
#include <libimobiledevice/lockdown.h>

#include "compat/compat.h"

static __dead void
usage(void)
{
	(void)fprintf(stderr, "usage: lq-service-check [-u udid] service\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	idevice_t			 dev = NULL;
	lockdownd_client_t		 ld = NULL;
	lockdownd_service_descriptor_t	 service = NULL;
	lockdownd_error_t		 err;
	const char			*udid = NULL;
	int				 ch, ret = 2;

	while ((ch = getopt(argc, argv, "u:")) != -1) {
		switch (ch) {
		case 'u':
			udid = optarg;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1)
		usage();
	if (idevice_new(&dev, udid) != IDEVICE_E_SUCCESS) {
		(void)fprintf(stderr, "lq-service-check: no device\n");
		return (2);
	}
	err = lockdownd_client_new_with_handshake(dev, &ld, "lq-service-check");
	if (err != LOCKDOWN_E_SUCCESS) {
		(void)fprintf(stderr, "lq-service-check: handshake: error %d\n",
		    err);
		goto out;
	}
	err = lockdownd_start_service(ld, argv[optind], &service);
	if (err == LOCKDOWN_E_SUCCESS) {
		(void)printf("started %s on port %u\n", argv[optind],
		    service->port);
		ret = 0;
	} else {
		(void)printf("refused %s: error %d\n", argv[optind], err);
		ret = 1;
	}
out:
	lockdownd_service_descriptor_free(service);
	lockdownd_client_free(ld);
	idevice_free(dev);
	return (ret);
}
