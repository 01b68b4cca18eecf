/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * libimobiledevice's property_list_service framing, which lockdownd and
 * diagnostics_relay speak: a 4-byte big-endian length, then a plist
 * (the client sends XML; binary is accepted too). Replies are XML, the
 * length and the body written with one conn_write.
 */

#ifndef LQ_SIM_PLIST_SERVICE_H
#define LQ_SIM_PLIST_SERVICE_H

#include <stddef.h>

#include <plist/plist.h>

#include "conn.h"

/*
 * Read one message of at most max bytes that must be a dictionary.
 * Returns it (the caller frees it), or NULL on EOF, error, or a
 * malformed message, which is logged with who ("lockdown: UDID").
 */
plist_t	 plist_service_read(struct sim_conn *, size_t, const char *);
/* Send one message; msg stays the caller's. 0 or -1. */
int	 plist_service_send(struct sim_conn *, plist_t);
/* The string value of key in dict, allocated, or NULL. */
char	*plist_service_string(plist_t, const char *);

#endif /* LQ_SIM_PLIST_SERVICE_H */
