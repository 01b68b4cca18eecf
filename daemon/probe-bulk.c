/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The bulk probe (DESIGN.md, Probes): plan->bulk_bytes of the seeded
 * stream to the phone and back through AFC, plan->chunk_bytes per AFC
 * call, each chunk read back checked against the stream at its offset;
 * with plan->write_only, to the phone only, as a restore streams its
 * image (USB's CRC and retries guard each packet; nothing is read back).
 * The result's detail is a JSON object: chunk and segment sizes, the
 * time spent writing and reading, the MB/s of each wall second of the
 * transfer, and the error or the corrupt offset if there was one. The
 * latency is the whole probe.
 *
 * DESIGN: the phone never holds more than one segment of ours: the
 * smaller of plan->max_bytes and max_free_share_pct of the free space
 * it reports, in whole chunks (DESIGN.md, Safety). Each segment is
 * written to one file, read back and checked, and the next replaces it
 * (opening for writing truncates); the file is removed at the end,
 * after a failure too unless the link is gone, in which case the next
 * attach's cleanup removes it. The MB/s series counts the bytes of each
 * chunk in the wall second it completed in, writing and reading apart,
 * so a stall shows as seconds with nothing moved.
 */

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libimobiledevice/afc.h>

#include "log.h"
#include "lq-status.h"
#include "lq-time.h"
#include "probe.h"
#include "session.h"
#include "xmalloc.h"

#define BULK_SERIES_MAX		3600	/* seconds in a series */

struct bulk {
	struct session		*s;
	const struct probe_plan	*plan;
	struct probe_progress	*progress;
	afc_client_t		 afc;
	char			 path[1024];
	unsigned char		*buf;		/* one chunk */
	uint64_t		 segment;	/* bytes on the phone at most */
	uint64_t		 out;		/* bytes written so far */
	uint64_t		 in;		/* bytes read and checked */
	lq_mono_t		 t0;		/* start of the transfer */
	lq_mono_t		 t1;		/* its end */
	int64_t			 write_us;	/* in afc_file_write */
	int64_t			 read_us;	/* in afc_file_read */
	uint64_t		 chunks;	/* moved, each way */
	int64_t			 chunk_us;	/* the time they took */
	uint64_t		*wsec;		/* bytes written per second */
	uint64_t		*rsec;		/* bytes read per second */
	size_t			 nsec;
	int			 truncated;	/* longer than the series */
	int64_t			 corrupt_offset;
	char			*why;		/* what failed, or NULL */
};

static int	 bulk_run(struct session *, const struct probe_plan *,
		    struct probe_progress *, struct probe_result *);
static int	 bulk_space(struct bulk *);
static void	 bulk_count(struct bulk *, int, size_t, lq_mono_t, lq_mono_t);
static int	 bulk_write(struct bulk *, uint64_t, uint64_t);
static int	 bulk_read(struct bulk *, uint64_t, uint64_t);
static int	 bulk_link_alive(int);
static json_t	*bulk_series(const struct bulk *, const uint64_t *);
static char	*bulk_detail(struct bulk *);

const struct probe_ops probe_bulk_ops = {
	LQ_PROBE_BULK,
	bulk_run
};

/*
 * The free-space guard: set b->segment to what may be on the phone at
 * once, in whole chunks, or fail with LQ_ENOSPACE if that is less than
 * one chunk.
 */
static int
bulk_space(struct bulk *b)
{
	const struct probe_plan	*plan = b->plan;
	afc_error_t		 ae;
	uint64_t		 free_bytes, share;
	char			*value = NULL, *end;

	ae = afc_get_device_info_key(b->afc, "FSFreeBytes", &value);
	if (ae != AFC_E_SUCCESS)
		return (session_afc_error(&b->why, ae,
		    "afc_get_device_info_key FSFreeBytes"));
	if (value == NULL) {
		xasprintf(&b->why, "afc_get_device_info_key: the device "
		    "does not say FSFreeBytes");
		return (LQ_EPROTO);
	}
	errno = 0;
	free_bytes = strtoull(value, &end, 10);
	if (value[0] < '0' || value[0] > '9' || *end != '\0' || errno != 0) {
		xasprintf(&b->why, "afc_get_device_info_key: FSFreeBytes "
		    "\"%s\" is not a number", value);
		free(value);
		return (LQ_EPROTO);
	}
	free(value);
	/* free * pct / 100 without overflowing. */
	share = free_bytes / 100 * plan->max_free_share_pct +
	    free_bytes % 100 * plan->max_free_share_pct / 100;
	b->segment = plan->max_bytes < share ? plan->max_bytes : share;
	b->segment -= b->segment % plan->chunk_bytes;
	if (b->segment < plan->chunk_bytes) {
		xasprintf(&b->why, "%" PRIu64 " bytes free on the device: "
		    "%u%% of it (%" PRIu64 " bytes, at most %" PRIu64 ") "
		    "is less than one chunk of %" PRIu32 " bytes",
		    free_bytes, plan->max_free_share_pct, share,
		    plan->max_bytes, plan->chunk_bytes);
		return (LQ_ENOSPACE);
	}
	return (LQ_OK);
}

/*
 * Count n bytes of a chunk that started at then and completed at now,
 * written or (reading) read, and publish the progress.
 */
static void
bulk_count(struct bulk *b, int reading, size_t n, lq_mono_t then,
    lq_mono_t now)
{
	uint64_t	sec;

	sec = (uint64_t)(lq_mono_sub(now, b->t0) / LQ_USEC_PER_SEC);
	if (sec >= BULK_SERIES_MAX)
		b->truncated = 1;
	else {
		if (reading)
			b->rsec[sec] += n;
		else
			b->wsec[sec] += n;
		if (b->nsec < sec + 1)
			b->nsec = sec + 1;
	}
	if (reading) {
		b->in += n;
		__atomic_store_n(&b->progress->bytes_in, b->in,
		    __ATOMIC_RELAXED);
	} else {
		b->out += n;
		__atomic_store_n(&b->progress->bytes_out, b->out,
		    __ATOMIC_RELAXED);
	}
	b->chunks++;
	b->chunk_us += lq_mono_sub(now, then);
	__atomic_store_n(&b->progress->chunks, b->chunks, __ATOMIC_RELAXED);
	__atomic_store_n(&b->progress->chunk_us, b->chunk_us,
	    __ATOMIC_RELAXED);
	__atomic_store_n(&b->progress->moved_us, now.us, __ATOMIC_RELAXED);
	session_progress(b->s, b->progress);
}

/* Write len bytes of the stream, from off, as the file's content. */
static int
bulk_write(struct bulk *b, uint64_t off, uint64_t len)
{
	uint64_t	handle = 0, done;
	afc_error_t	ae;
	lq_mono_t	before, after;
	size_t		n;
	int		rv = LQ_OK;

	ae = afc_file_open(b->afc, b->path, AFC_FOPEN_WRONLY, &handle);
	if (ae != AFC_E_SUCCESS)
		return (session_afc_error(&b->why, ae, "afc_file_open %s",
		    b->path));
	for (done = 0; done < len; done += n) {
		if (session_cancelled(b->s)) {
			xasprintf(&b->why, "cancelled after %" PRIu64
			    " bytes written", b->out);
			rv = LQ_ECANCELED;
			break;
		}
		n = len - done < b->plan->chunk_bytes ?
		    (size_t)(len - done) : b->plan->chunk_bytes;
		stream_fill(b->plan->seed, off + done, b->buf, n);
		before = lq_mono_now();
		rv = session_afc_write(b->afc, handle, b->path, b->buf, n,
		    &b->why);
		after = lq_mono_now();
		b->write_us += lq_mono_sub(after, before);
		if (rv != LQ_OK)
			break;
		bulk_count(b, 0, n, before, after);
	}
	if (rv == LQ_OK || bulk_link_alive(rv)) {
		ae = afc_file_close(b->afc, handle);
		if (ae != AFC_E_SUCCESS && rv == LQ_OK)
			rv = session_afc_error(&b->why, ae,
			    "afc_file_close %s", b->path);
	}
	return (rv);
}

/* Read the file back and check it against the stream from off. */
static int
bulk_read(struct bulk *b, uint64_t off, uint64_t len)
{
	uint64_t	handle = 0, done;
	afc_error_t	ae;
	lq_mono_t	before, after;
	int64_t		bad;
	size_t		n, got;
	int		rv = LQ_OK;

	ae = afc_file_open(b->afc, b->path, AFC_FOPEN_RDONLY, &handle);
	if (ae != AFC_E_SUCCESS)
		return (session_afc_error(&b->why, ae, "afc_file_open %s",
		    b->path));
	for (done = 0; done < len; done += n) {
		if (session_cancelled(b->s)) {
			xasprintf(&b->why, "cancelled after %" PRIu64
			    " bytes read back", b->in);
			rv = LQ_ECANCELED;
			break;
		}
		n = len - done < b->plan->chunk_bytes ?
		    (size_t)(len - done) : b->plan->chunk_bytes;
		before = lq_mono_now();
		rv = session_afc_read(b->afc, handle, b->path, b->buf, n,
		    &got, &b->why);
		after = lq_mono_now();
		b->read_us += lq_mono_sub(after, before);
		if (rv != LQ_OK)
			break;
		bad = stream_verify(b->plan->seed, off + done, b->buf, got);
		if (bad == -1 && got < n)
			bad = (int64_t)(off + done + got);
		if (bad != -1) {
			b->corrupt_offset = bad;
			xasprintf(&b->why, "%s: stream byte %" PRId64 " read "
			    "back differs%s", b->path, bad, got < n &&
			    (uint64_t)bad == off + done + got ?
			    " (the file ended there)" : "");
			rv = LQ_ECORRUPT;
			break;
		}
		bulk_count(b, 1, n, before, after);
	}
	if (rv == LQ_OK || bulk_link_alive(rv)) {
		ae = afc_file_close(b->afc, handle);
		if (ae != AFC_E_SUCCESS && rv == LQ_OK)
			rv = session_afc_error(&b->why, ae,
			    "afc_file_close %s", b->path);
	}
	return (rv);
}

/*
 * Whether AFC calls may still be made after a failure with status: not
 * after the link went away, timed out or lost its framing.
 */
static int
bulk_link_alive(int status)
{
	return (status != LQ_EDISCONNECTED && status != LQ_ETIMEDOUT &&
	    status != LQ_EPROTO && status != LQ_EINTERNAL);
}

/* MB/s of each second in bytes (the last one as long as it lasted). */
static json_t *
bulk_series(const struct bulk *b, const uint64_t *bytes)
{
	json_t	*a;
	double	 secs, mb_s;
	size_t	 i;

	a = json_array();
	for (i = 0; i < b->nsec; i++) {
		secs = 1;
		if (i + 1 == b->nsec && !b->truncated) {
			secs = (double)lq_mono_sub(b->t1, b->t0) /
			    LQ_USEC_PER_SEC - (double)i;
			if (secs < 0.001)
				secs = 0.001;
			if (secs > 1)
				secs = 1;
		}
		mb_s = (double)bytes[i] / 1e6 / secs;
		json_array_append_new(a, json_real(round(mb_s * 10) / 10));
	}
	return (a);
}

/* The JSON detail of a transfer that started. */
static char *
bulk_detail(struct bulk *b)
{
	json_t	*o;
	char	*text;

	o = json_object();
	json_object_set_new(o, "chunk", json_integer(b->plan->chunk_bytes));
	json_object_set_new(o, "segment", json_integer((json_int_t)
	    b->segment));
	json_object_set_new(o, "write_us", json_integer(b->write_us));
	json_object_set_new(o, "read_us", json_integer(b->read_us));
	json_object_set_new(o, "write_mb_s", bulk_series(b, b->wsec));
	json_object_set_new(o, "read_mb_s", bulk_series(b, b->rsec));
	if (b->truncated)
		json_object_set_new(o, "series_truncated", json_true());
	if (b->corrupt_offset != -1)
		json_object_set_new(o, "corrupt_offset",
		    json_integer(b->corrupt_offset));
	if (b->why != NULL)
		json_object_set_new(o, "error", json_string(b->why));
	if ((text = json_dumps(o, JSON_COMPACT |
	    JSON_REAL_PRECISION(10))) == NULL)
		fatalx("%s: json_dumps", __func__);
	json_decref(o);
	return (text);
}

/* Move bulk_bytes each way, segment by segment. */
static int
bulk_run(struct session *s, const struct probe_plan *plan,
    struct probe_progress *progress, struct probe_result *result)
{
	struct bulk	 b;
	afc_error_t	 ae;
	lq_mono_t	 start;
	uint64_t	 off, len;
	char		 name[64];
	int		 rv, started = 0;

	start = lq_mono_now();
	__atomic_store_n(&progress->moved_us, start.us, __ATOMIC_RELAXED);
	memset(&b, 0, sizeof(b));
	b.s = s;
	b.plan = plan;
	b.progress = progress;
	b.corrupt_offset = -1;
	if (plan->chunk_bytes == 0) {
		xasprintf(&b.why, "bulk: a chunk of 0 bytes");
		rv = LQ_EINVAL;
		goto out;
	}
	if ((rv = session_folder(s, &b.afc, &b.why)) != LQ_OK)
		goto out;
	xsnprintf(name, sizeof(name), "bulk-%" PRId64 "-%" PRIu32,
	    plan->run_id, plan->sequence);
	session_path(s, name, b.path, sizeof(b.path));

	session_watch(s, session_afc_fd(b.afc));
	if ((rv = bulk_space(&b)) != LQ_OK)
		goto unwatch;
	b.buf = xmalloc(plan->chunk_bytes);
	b.wsec = xcalloc(BULK_SERIES_MAX, sizeof(*b.wsec));
	b.rsec = xcalloc(BULK_SERIES_MAX, sizeof(*b.rsec));
	started = 1;
	b.t0 = lq_mono_now();
	for (off = 0; off < plan->bulk_bytes && rv == LQ_OK; off += len) {
		len = plan->bulk_bytes - off < b.segment ?
		    plan->bulk_bytes - off : b.segment;
		if ((rv = bulk_write(&b, off, len)) == LQ_OK &&
		    !plan->write_only)
			rv = bulk_read(&b, off, len);
	}
	b.t1 = lq_mono_now();
	if (bulk_link_alive(rv)) {
		ae = afc_remove_path(b.afc, b.path);
		if (ae != AFC_E_SUCCESS && rv == LQ_OK)
			rv = session_afc_error(&b.why, ae,
			    "afc_remove_path %s", b.path);
	}
unwatch:
	session_watch(s, -1);
out:
	result->bytes_out = b.out;
	result->bytes_in = b.in;
	result->corrupt_offset = b.corrupt_offset;
	if (started) {
		result->detail = bulk_detail(&b);
		free(b.why);
	} else
		result->detail = b.why;
	free(b.buf);
	free(b.wsec);
	free(b.rsec);
	result->latency_us = lq_mono_sub(lq_mono_now(), start);
	result->status = rv;
	return (rv);
}
