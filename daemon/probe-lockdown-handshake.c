/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The lockdown-handshake probe: a new lockdown client with the full
 * handshake (connect, QueryType, StartSession, TLS), closed again with
 * StopSession, beside the session's live one. It exercises TLS setup
 * under load (DESIGN.md, Probes). The latency is the whole probe.
 */

#include "lq-status.h"
#include "lq-time.h"
#include "probe.h"
#include "session.h"

static int	lockdown_handshake_run(struct session *,
		    const struct probe_plan *, struct probe_progress *,
		    struct probe_result *);

const struct probe_ops probe_lockdown_handshake_ops = {
	LQ_PROBE_LOCKDOWN_HANDSHAKE,
	lockdown_handshake_run
};

/* One handshake; session_handshake watches its socket throughout. */
static int
lockdown_handshake_run(struct session *s,
    __unused const struct probe_plan *plan, struct probe_progress *progress,
    struct probe_result *result)
{
	lq_mono_t	start;
	int		rv;

	start = lq_mono_now();
	__atomic_store_n(&progress->moved_us, start.us, __ATOMIC_RELAXED);
	rv = session_handshake(s, &result->detail);
	result->latency_us = lq_mono_sub(lq_mono_now(), start);
	result->status = rv;
	return (rv);
}
