/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Names and messages of enum lq_status. The name is the stable token used
 * in JSON and in the database; the message is for people.
 */

#include <string.h>

#include "compat/compat.h"
#include "lq-status.h"

struct status_entry {
	int		 code;
	const char	*name;
	const char	*message;
};

/* Indexed by -code: keep in enum order. */
static const struct status_entry status_table[] = {
	{ LQ_OK, "ok", "success" },
	{ LQ_EINVAL, "invalid", "invalid argument or request" },
	{ LQ_ENOTFOUND, "not-found", "no such object" },
	{ LQ_EEXIST, "exists", "already exists" },
	{ LQ_EPERM, "permission", "permission denied" },
	{ LQ_EBUSY, "busy", "resource busy" },
	{ LQ_ETIMEDOUT, "timeout", "operation timed out" },
	{ LQ_ECANCELED, "cancelled", "operation cancelled" },
	{ LQ_EIO, "io", "input/output error" },
	{ LQ_EPROTO, "protocol", "malformed or unexpected message" },
	{ LQ_EVERSION, "version", "version mismatch" },
	{ LQ_ESTORE, "store", "database error" },
	{ LQ_ECONFIG, "config", "configuration error" },
	{ LQ_ENODEVICE, "no-device", "no device attached" },
	{ LQ_EDISCONNECTED, "disconnected", "device or connection went away" },
	{ LQ_ENOMUX, "no-usbmuxd", "usbmuxd is not reachable" },
	{ LQ_ENOTPAIRED, "not-paired", "device does not trust this host" },
	{ LQ_ELOCKED, "locked", "device is locked with a passcode" },
	{ LQ_EPAIRPENDING, "pair-pending", "waiting for Trust on the device" },
	{ LQ_ETLS, "tls", "TLS session failed" },
	{ LQ_ELOCKDOWN, "lockdown", "lockdownd refused the request" },
	{ LQ_EAFC, "afc", "AFC service error" },
	{ LQ_ECORRUPT, "corrupt", "data read back differs from data written" },
	{ LQ_ENOSPACE, "no-space", "not enough free space on the device" },
	{ LQ_EUSB, "usb", "USB transfer error" },
	{ LQ_EUNSUPPORTED, "unsupported", "not possible in this mode" },
	{ LQ_EINTERNAL, "internal", "internal error" },
	{ LQ_ELINK, "usb-link", "USB link error" },
};

static const struct status_entry *
status_lookup(int code)
{
	if (code > 0 || -code >= (int)nitems(status_table))
		return (NULL);
	return (&status_table[-code]);
}

/* Say whether code is a known status. */
int
lq_status_valid(int code)
{
	return (status_lookup(code) != NULL);
}

/* Return the message of a status; never NULL. */
const char *
lq_strerror(int code)
{
	const struct status_entry	*e;

	if ((e = status_lookup(code)) == NULL)
		return ("unknown status");
	return (e->message);
}

/* Return the stable name of a status; never NULL. */
const char *
lq_status_name(int code)
{
	const struct status_entry	*e;

	if ((e = status_lookup(code)) == NULL)
		return ("unknown");
	return (e->name);
}

/* Return the status called name, or 1 (never a status) if there is none. */
int
lq_status_from_name(const char *name)
{
	size_t	i;

	for (i = 0; i < nitems(status_table); i++) {
		if (strcmp(status_table[i].name, name) == 0)
			return (status_table[i].code);
	}
	return (1);
}
