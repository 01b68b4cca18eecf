/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The mux-connect probe: open a usbmux connection to lockdownd's port
 * and close it again. It catches a broken usbmuxd path and a device
 * that has gone (DESIGN.md, Probes). The latency is the whole probe.
 *
 * Nothing is watched: idevice_connect blocks inside libusbmuxd before
 * there is a socket to hand over (its answer from usbmuxd is bounded
 * by libusbmuxd's own timeout), and closing does not block.
 */

#include <libimobiledevice/libimobiledevice.h>

#include "lq-status.h"
#include "lq-time.h"
#include "probe.h"
#include "session.h"
#include "xmalloc.h"

#define MUX_CONNECT_PORT	62078	/* lockdownd */

static int	mux_connect_run(struct session *, const struct probe_plan *,
		    struct probe_progress *, struct probe_result *);

const struct probe_ops probe_mux_connect_ops = {
	LQ_PROBE_MUX_CONNECT,
	mux_connect_run
};

/* Connect to lockdownd's port through usbmuxd and disconnect. */
static int
mux_connect_run(struct session *s, __unused const struct probe_plan *plan,
    struct probe_progress *progress, struct probe_result *result)
{
	idevice_connection_t	conn = NULL;
	idevice_error_t		ie;
	idevice_t		device;
	lq_mono_t		start;
	int			rv, fd = -1;

	start = lq_mono_now();
	__atomic_store_n(&progress->moved_us, start.us, __ATOMIC_RELAXED);
	if ((rv = session_device(s, &device, &result->detail)) != LQ_OK)
		goto out;
	ie = idevice_connect(device, MUX_CONNECT_PORT, &conn);
	if (ie != IDEVICE_E_SUCCESS) {
		rv = session_idevice_error(&result->detail, ie,
		    "idevice_connect port %d", MUX_CONNECT_PORT);
		goto out;
	}
	ie = idevice_connection_get_fd(conn, &fd);
	if (ie != IDEVICE_E_SUCCESS)
		rv = session_idevice_error(&result->detail, ie,
		    "idevice_connection_get_fd");
	else if (fd < 0) {
		xasprintf(&result->detail, "idevice_connect: no socket");
		rv = LQ_EINTERNAL;
	}
	(void)idevice_disconnect(conn);
out:
	result->latency_us = lq_mono_sub(lq_mono_now(), start);
	result->status = rv;
	return (rv);
}
