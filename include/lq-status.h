/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Outcomes that leave a module: probe results, API errors, store errors.
 * Library codes (idevice_error_t, lockdownd_error_t, afc_error_t, libusb
 * and SQLite codes) are mapped to one of these once, at the boundary
 * where the library is called, together with a detail string.
 *
 * The numbers are stored in the database (probes.status, and the
 * statuses table seeded by schema/0001-init.sql) and travel in the
 * control API: never renumber or reuse one. To add a status: append it
 * here, add its row to the table in common/status.c, add a migration
 * that inserts it into the statuses table, and document it where the
 * client's exit statuses are described.
 */

#ifndef LQ_STATUS_H
#define LQ_STATUS_H

enum lq_status {
	LQ_OK = 0,
	LQ_EINVAL = -1,		/* invalid argument or request */
	LQ_ENOTFOUND = -2,	/* no such object */
	LQ_EEXIST = -3,		/* already exists */
	LQ_EPERM = -4,		/* not permitted */
	LQ_EBUSY = -5,		/* resource busy */
	LQ_ETIMEDOUT = -6,	/* deadline passed */
	LQ_ECANCELED = -7,	/* cancelled */
	LQ_EIO = -8,		/* system input/output error */
	LQ_EPROTO = -9,		/* malformed or unexpected message */
	LQ_EVERSION = -10,	/* version mismatch */
	LQ_ESTORE = -11,	/* database error */
	LQ_ECONFIG = -12,	/* configuration error */
	LQ_ENODEVICE = -13,	/* no device attached */
	LQ_EDISCONNECTED = -14,	/* device or connection went away */
	LQ_ENOMUX = -15,	/* usbmuxd not reachable */
	LQ_ENOTPAIRED = -16,	/* device does not trust this host */
	LQ_ELOCKED = -17,	/* device is passcode locked */
	LQ_EPAIRPENDING = -18,	/* Trust prompt not answered yet */
	LQ_ETLS = -19,		/* TLS session failed */
	LQ_ELOCKDOWN = -20,	/* lockdownd refused or failed */
	LQ_EAFC = -21,		/* AFC service error */
	LQ_ECORRUPT = -22,	/* data read back differs */
	LQ_ENOSPACE = -23,	/* not enough free space on the device */
	LQ_EUSB = -24,		/* USB transfer error */
	LQ_EUNSUPPORTED = -25,	/* not possible in this mode */
	LQ_EINTERNAL = -26,	/* bug: an impossible state */
	LQ_ELINK = -27		/* USB link error: a bus error on the
				 * wire (-71, -84, -62) or babble (-75) */
};

#define LQ_STATUS_MIN	LQ_ELINK

const char	*lq_strerror(int);
const char	*lq_status_name(int);
int		 lq_status_from_name(const char *);
int		 lq_status_valid(int);

#endif /* LQ_STATUS_H */
