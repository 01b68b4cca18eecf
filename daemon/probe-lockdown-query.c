/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The lockdown-query probe: one GetValue ProductVersion round trip on
 * the session's live lockdown session, opened with a full handshake if
 * there is none yet (after an attach or a failed probe). The latency is
 * the whole probe, so the first one after a (re)open includes the
 * handshake.
 */

#include <libimobiledevice/lockdown.h>
#include <plist/plist.h>

#include "lq-status.h"
#include "lq-time.h"
#include "probe.h"
#include "session.h"
#include "xmalloc.h"

static int	lockdown_query_run(struct session *,
		    const struct probe_plan *, struct probe_progress *,
		    struct probe_result *);

const struct probe_ops probe_lockdown_query_ops = {
	LQ_PROBE_LOCKDOWN_QUERY,
	lockdown_query_run
};

/* GetValue ProductVersion: it must come back as a string. */
static int
lockdown_query_run(struct session *s, __unused const struct probe_plan *plan,
    struct probe_progress *progress, struct probe_result *result)
{
	lockdownd_client_t	client;
	lockdownd_error_t	le;
	plist_t			value = NULL;
	lq_mono_t		start;
	int			rv;

	start = lq_mono_now();
	__atomic_store_n(&progress->moved_us, start.us, __ATOMIC_RELAXED);
	if ((rv = session_lockdown(s, &client, &result->detail)) != LQ_OK)
		goto out;
	session_watch(s, session_lockdown_fd(client));
	le = lockdownd_get_value(client, NULL, "ProductVersion", &value);
	session_watch(s, -1);
	if (le != LOCKDOWN_E_SUCCESS)
		rv = session_lockdown_error(&result->detail, le,
		    "lockdownd_get_value ProductVersion");
	else if (value == NULL || plist_get_node_type(value) != PLIST_STRING) {
		xasprintf(&result->detail, "lockdownd_get_value "
		    "ProductVersion: the value is not a string");
		rv = LQ_EPROTO;
	}
	plist_free(value);
out:
	result->latency_us = lq_mono_sub(lq_mono_now(), start);
	result->status = rv;
	return (rv);
}
