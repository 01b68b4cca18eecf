/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The afc-roundtrip probe: write a small patterned file in linkq's
 * folder on the phone, read it back, compare, delete it (DESIGN.md,
 * Probes). The pattern is the stream of seed + sequence, so two probes
 * never write the same bytes; a difference is LQ_ECORRUPT with its
 * offset in the file. The latency is the whole probe.
 */

#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include <libimobiledevice/afc.h>

#include "lq-status.h"
#include "lq-time.h"
#include "probe.h"
#include "session.h"
#include "xmalloc.h"

#define ROUNDTRIP_BYTES	4096

static int	afc_roundtrip_run(struct session *, const struct probe_plan *,
		    struct probe_progress *, struct probe_result *);
static int	afc_roundtrip_file(afc_client_t, const char *, uint64_t,
		    struct probe_progress *, struct probe_result *);

const struct probe_ops probe_afc_roundtrip_ops = {
	LQ_PROBE_AFC_ROUNDTRIP,
	afc_roundtrip_run
};

/* Write, read back and check the file at path. */
static int
afc_roundtrip_file(afc_client_t afc, const char *path, uint64_t seed,
    struct probe_progress *progress, struct probe_result *result)
{
	unsigned char	 out[ROUNDTRIP_BYTES], in[ROUNDTRIP_BYTES];
	uint64_t	 handle = 0;
	afc_error_t	 ae;
	size_t		 got = 0;
	int64_t		 bad;
	int		 rv;

	stream_fill(seed, 0, out, sizeof(out));
	ae = afc_file_open(afc, path, AFC_FOPEN_WRONLY, &handle);
	if (ae != AFC_E_SUCCESS)
		return (session_afc_error(&result->detail, ae,
		    "afc_file_open %s", path));
	rv = session_afc_write(afc, handle, path, out, sizeof(out),
	    &result->detail);
	ae = afc_file_close(afc, handle);
	if (rv != LQ_OK)
		return (rv);
	if (ae != AFC_E_SUCCESS)
		return (session_afc_error(&result->detail, ae,
		    "afc_file_close %s", path));
	result->bytes_out = sizeof(out);
	__atomic_store_n(&progress->bytes_out, result->bytes_out,
	    __ATOMIC_RELAXED);
	__atomic_store_n(&progress->moved_us, lq_mono_now().us,
	    __ATOMIC_RELAXED);

	ae = afc_file_open(afc, path, AFC_FOPEN_RDONLY, &handle);
	if (ae != AFC_E_SUCCESS)
		return (session_afc_error(&result->detail, ae,
		    "afc_file_open %s", path));
	rv = session_afc_read(afc, handle, path, in, sizeof(in), &got,
	    &result->detail);
	ae = afc_file_close(afc, handle);
	if (rv != LQ_OK)
		return (rv);
	if (ae != AFC_E_SUCCESS)
		return (session_afc_error(&result->detail, ae,
		    "afc_file_close %s", path));
	if ((bad = stream_verify(seed, 0, in, got)) == -1 && got < sizeof(in))
		bad = (int64_t)got;
	if (bad != -1) {
		result->corrupt_offset = bad;
		xasprintf(&result->detail, "%s: byte %" PRId64 " of %d read "
		    "back differs%s", path, bad, ROUNDTRIP_BYTES,
		    (size_t)bad == got ? " (the file ended there)" : "");
		return (LQ_ECORRUPT);
	}
	result->bytes_in = got;
	__atomic_store_n(&progress->bytes_in, result->bytes_in,
	    __ATOMIC_RELAXED);
	__atomic_store_n(&progress->moved_us, lq_mono_now().us,
	    __ATOMIC_RELAXED);
	return (LQ_OK);
}

/* Make the file, check it, and remove it unless the link is gone. */
static int
afc_roundtrip_run(struct session *s, const struct probe_plan *plan,
    struct probe_progress *progress, struct probe_result *result)
{
	afc_client_t	 afc;
	afc_error_t	 ae;
	lq_mono_t	 start;
	char		 name[64], path[1024];
	int		 rv;

	start = lq_mono_now();
	__atomic_store_n(&progress->moved_us, start.us, __ATOMIC_RELAXED);
	if ((rv = session_folder(s, &afc, &result->detail)) != LQ_OK)
		goto out;
	xsnprintf(name, sizeof(name), "rt-%" PRId64 "-%" PRIu32,
	    plan->run_id, plan->sequence);
	session_path(s, name, path, sizeof(path));
	session_watch(s, session_afc_fd(afc));
	rv = afc_roundtrip_file(afc, path, plan->seed + plan->sequence,
	    progress, result);
	if (rv != LQ_EDISCONNECTED && rv != LQ_ETIMEDOUT &&
	    rv != LQ_EPROTO) {
		ae = afc_remove_path(afc, path);
		if (ae != AFC_E_SUCCESS && rv == LQ_OK)
			rv = session_afc_error(&result->detail, ae,
			    "afc_remove_path %s", path);
	}
	session_watch(s, -1);
out:
	result->latency_us = lq_mono_sub(lq_mono_now(), start);
	result->status = rv;
	return (rv);
}
