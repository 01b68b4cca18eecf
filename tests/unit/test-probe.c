/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Unit tests for what the probes share (daemon/probe.c) and for the
 * parts of the session that need no device (daemon/session.c): the
 * seeded stream against its definition, at every alignment, and its
 * verifier finding the exact byte of a flipped bit; the ops table; the
 * mapping of library errors to lq_status and their detail sentences;
 * folder paths and the job's watch and cancel flag.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libimobiledevice/afc.h>
#include <libimobiledevice/libimobiledevice.h>
#include <libimobiledevice/lockdown.h>
#include <libimobiledevice/syslog_relay.h>

#include "compat/compat.h"
#include "linkq.h"
#include "log.h"
#include "lq-status.h"
#include "probe.h"
#include "session.h"

#define BIG	(1024 * 1024 + 13)

/* Byte i of the stream of seed, straight from the definition. */
static unsigned char
reference_byte(uint64_t seed, uint64_t i)
{
	uint64_t	z;

	z = seed ^ ((i / 8) * UINT64_C(0x9e3779b97f4a7c15));
	z += UINT64_C(0x9e3779b97f4a7c15);
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	z ^= z >> 31;
	return ((unsigned char)(z >> (8 * (i % 8))));
}

/* The stream is its definition, and the same every time. */
static void
test_stream_definition(void **state)
{
	unsigned char	a[4096], b[4096];
	uint64_t	seeds[] = { 0, 1, 42, UINT64_MAX };
	size_t		i, k;

	(void)state;
	for (k = 0; k < nitems(seeds); k++) {
		stream_fill(seeds[k], 0, a, sizeof(a));
		stream_fill(seeds[k], 0, b, sizeof(b));
		assert_memory_equal(a, b, sizeof(a));
		for (i = 0; i < sizeof(a); i++)
			assert_int_equal(a[i], reference_byte(seeds[k], i));
	}
	/* Far into the stream too: a 64 GiB offset. */
	stream_fill(7, UINT64_C(1) << 36, a, 64);
	for (i = 0; i < 64; i++)
		assert_int_equal(a[i], reference_byte(7,
		    (UINT64_C(1) << 36) + i));
}

/* Different seeds give different streams. */
static void
test_stream_seeds_differ(void **state)
{
	unsigned char	a[4096], b[4096];
	size_t		i, same;
	uint64_t	seed;

	(void)state;
	for (seed = 0; seed < 16; seed++) {
		stream_fill(seed, 0, a, sizeof(a));
		stream_fill(seed + 1, 0, b, sizeof(b));
		for (i = 0, same = 0; i < sizeof(a); i++)
			same += a[i] == b[i];
		/* 1 in 256 by chance; far fewer than 1 in 64. */
		assert_true(same < sizeof(a) / 64);
	}
}

/* A fill at any offset and length is the slice of an aligned fill. */
static void
test_stream_unaligned(void **state)
{
	unsigned char	 whole[256], part[256];
	size_t		 off, len;

	(void)state;
	stream_fill(99, 1000, whole, sizeof(whole));
	for (off = 0; off < 40; off++) {
		for (len = 0; len + off <= sizeof(whole); len += len < 20 ?
		    1 : 37) {
			memset(part, 0xaa, sizeof(part));
			stream_fill(99, 1000 + off, part, len);
			assert_memory_equal(part, whole + off, len);
			/* Nothing beyond len is touched. */
			if (len < sizeof(part))
				assert_int_equal(part[len], 0xaa);
			assert_int_equal(stream_verify(99, 1000 + off, part,
			    len), -1);
		}
	}
}

/* The verifier names the exact stream offset of a flipped bit. */
static void
test_stream_verify(void **state)
{
	unsigned char	*buf;
	uint64_t	 base = 12345;
	size_t		 at[] = { 0, 1, 7, 8, 9, 4095, 65536, BIG / 2,
			    BIG - 2, BIG - 1 };
	size_t		 k, bit;

	(void)state;
	buf = malloc(BIG);
	assert_non_null(buf);
	stream_fill(5, base, buf, BIG);
	assert_int_equal(stream_verify(5, base, buf, BIG), -1);
	assert_int_equal(stream_verify(5, base, buf, 0), -1);
	/* The wrong seed or offset is caught at the first byte. */
	assert_int_equal(stream_verify(6, base, buf, BIG), (int64_t)base);
	assert_int_equal(stream_verify(5, base + 1, buf, BIG),
	    (int64_t)base + 1);
	for (k = 0; k < nitems(at); k++) {
		for (bit = 0; bit < 8; bit += 7) {
			buf[at[k]] ^= (unsigned char)(1 << bit);
			assert_int_equal(stream_verify(5, base, buf, BIG),
			    (int64_t)(base + at[k]));
			/* From an offset past the flip it is not seen. */
			if (at[k] + 1 < BIG)
				assert_int_equal(stream_verify(5, base +
				    at[k] + 1, buf + at[k] + 1,
				    BIG - at[k] - 1), -1);
			buf[at[k]] ^= (unsigned char)(1 << bit);
		}
	}
	/* Two flips: the first one counts. */
	buf[700] ^= 0x10;
	buf[300] ^= 0x01;
	assert_int_equal(stream_verify(5, base, buf, BIG),
	    (int64_t)base + 300);
	free(buf);
}

/* The five worker kinds have ops; usb-control and others do not. */
static void
test_ops_find(void **state)
{
	const struct probe_ops	*ops;
	int			 kind;

	(void)state;
	for (kind = LQ_PROBE_MUX_CONNECT; kind <= LQ_PROBE_BULK; kind++) {
		ops = probe_ops_find(kind);
		assert_non_null(ops);
		assert_int_equal(ops->kind, kind);
		assert_non_null(ops->run);
	}
	assert_ptr_equal(probe_ops_find(LQ_PROBE_BULK), &probe_bulk_ops);
	/* usb-control runs on the loop, through usbctl_start. */
	ops = probe_ops_find(LQ_PROBE_USB_CONTROL);
	assert_non_null(ops);
	assert_int_equal(ops->kind, LQ_PROBE_USB_CONTROL);
	assert_null(ops->run);
	assert_null(probe_ops_find(0));
	assert_null(probe_ops_find(-1));
	assert_null(probe_ops_find(LQ_PROBE_KIND_MAX + 1));
}

/* A fresh result says ok, no offset, no detail. */
static void
test_result_init(void **state)
{
	struct probe_result	r;

	(void)state;
	memset(&r, 0x5a, sizeof(r));
	probe_result_init(&r);
	assert_int_equal(r.status, LQ_OK);
	assert_int_equal(r.latency_us, 0);
	assert_int_equal(r.bytes_out, 0);
	assert_int_equal(r.bytes_in, 0);
	assert_int_equal(r.corrupt_offset, -1);
	assert_null(r.detail);
}

/* The codes that decide what a technician is told. */
static void
test_status_mapping(void **state)
{
	int	code;

	(void)state;
	assert_int_equal(session_status_lockdown(LOCKDOWN_E_SUCCESS), LQ_OK);
	assert_int_equal(session_status_lockdown(LOCKDOWN_E_INVALID_HOST_ID),
	    LQ_ENOTPAIRED);
	assert_int_equal(session_status_lockdown(
	    LOCKDOWN_E_USER_DENIED_PAIRING), LQ_ENOTPAIRED);
	assert_int_equal(session_status_lockdown(
	    LOCKDOWN_E_PASSWORD_PROTECTED), LQ_ELOCKED);
	assert_int_equal(session_status_lockdown(
	    LOCKDOWN_E_PAIRING_DIALOG_RESPONSE_PENDING), LQ_EPAIRPENDING);
	assert_int_equal(session_status_lockdown(LOCKDOWN_E_SSL_ERROR),
	    LQ_ETLS);
	assert_int_equal(session_status_lockdown(LOCKDOWN_E_MUX_ERROR),
	    LQ_EDISCONNECTED);
	assert_int_equal(session_status_lockdown(LOCKDOWN_E_RECEIVE_TIMEOUT),
	    LQ_ETIMEDOUT);
	assert_int_equal(session_status_lockdown(LOCKDOWN_E_PLIST_ERROR),
	    LQ_EPROTO);
	assert_int_equal(session_status_lockdown(LOCKDOWN_E_INVALID_SERVICE),
	    LQ_ELOCKDOWN);

	assert_int_equal(session_status_idevice(IDEVICE_E_SUCCESS), LQ_OK);
	assert_int_equal(session_status_idevice(IDEVICE_E_NO_DEVICE),
	    LQ_ENODEVICE);
	assert_int_equal(session_status_idevice(IDEVICE_E_SSL_ERROR),
	    LQ_ETLS);
	assert_int_equal(session_status_idevice(IDEVICE_E_TIMEOUT),
	    LQ_ETIMEDOUT);
	assert_int_equal(session_status_idevice(IDEVICE_E_UNKNOWN_ERROR),
	    LQ_EDISCONNECTED);

	assert_int_equal(session_status_afc(AFC_E_SUCCESS), LQ_OK);
	assert_int_equal(session_status_afc(AFC_E_MUX_ERROR),
	    LQ_EDISCONNECTED);
	assert_int_equal(session_status_afc(AFC_E_NOT_ENOUGH_DATA),
	    LQ_EDISCONNECTED);
	assert_int_equal(session_status_afc(AFC_E_NO_SPACE_LEFT),
	    LQ_ENOSPACE);
	assert_int_equal(session_status_afc(AFC_E_OBJECT_NOT_FOUND),
	    LQ_ENOTFOUND);
	assert_int_equal(session_status_afc(AFC_E_PERM_DENIED), LQ_EPERM);
	assert_int_equal(session_status_afc(AFC_E_UNKNOWN_ERROR), LQ_EAFC);

	assert_int_equal(session_status_syslog(SYSLOG_RELAY_E_SUCCESS), LQ_OK);
	assert_int_equal(session_status_syslog(SYSLOG_RELAY_E_TIMEOUT),
	    LQ_ETIMEDOUT);
	assert_int_equal(session_status_syslog(SYSLOG_RELAY_E_MUX_ERROR),
	    LQ_EDISCONNECTED);
	assert_int_equal(session_status_syslog(SYSLOG_RELAY_E_UNKNOWN_ERROR),
	    LQ_EDISCONNECTED);

	/* Every code, known or not, gets a status that exists. */
	for (code = -300; code <= 300; code++) {
		assert_true(lq_status_valid(session_status_lockdown(code)));
		assert_true(lq_status_valid(session_status_idevice(code)));
		assert_true(lq_status_valid(session_status_afc(code)));
		assert_true(lq_status_valid(session_status_syslog(code)));
	}
}

/* Details name the call and the error; the first failure is kept. */
static void
test_error_detail(void **state)
{
	char	*detail = NULL;

	(void)state;
	assert_int_equal(session_afc_error(&detail, AFC_E_MUX_ERROR,
	    "afc_file_write %s", "/linkq/bulk-1-2"), LQ_EDISCONNECTED);
	assert_string_equal(detail,
	    "afc_file_write /linkq/bulk-1-2: usbmux error (30)");
	assert_int_equal(session_lockdown_error(&detail,
	    LOCKDOWN_E_SSL_ERROR, "lockdownd_start_session"), LQ_ETLS);
	assert_string_equal(detail,
	    "afc_file_write /linkq/bulk-1-2: usbmux error (30)");
	free(detail);
	detail = NULL;
	assert_int_equal(session_idevice_error(&detail, IDEVICE_E_NO_DEVICE,
	    "idevice_new_with_options %s", "X"), LQ_ENODEVICE);
	assert_string_equal(detail,
	    "idevice_new_with_options X: no device (-3)");
	free(detail);
	detail = NULL;
	assert_int_equal(session_lockdown_error(&detail,
	    LOCKDOWN_E_PASSWORD_PROTECTED, "lockdownd_pair"), LQ_ELOCKED);
	assert_non_null(strstr(detail, "lockdownd_pair: "));
	assert_non_null(strstr(detail, "(-17)"));
	free(detail);
	detail = NULL;
	assert_int_equal(session_syslog_error(&detail,
	    SYSLOG_RELAY_E_MUX_ERROR, "syslog_relay_client_new"),
	    LQ_EDISCONNECTED);
	assert_string_equal(detail,
	    "syslog_relay_client_new: usbmux error (-2)");
	free(detail);
	/* No detail wanted: only the status. */
	assert_int_equal(session_afc_error(NULL, AFC_E_OBJECT_EXISTS, "x"),
	    LQ_EEXIST);
}

/* The watcher of a job, as the worker process sets it. */
struct test_watch {
	int		 fd;
	int		 cancelled;
	uint64_t	 bytes_out;
};

static void
test_watch_fd(void *arg, int fd)
{
	((struct test_watch *)arg)->fd = fd;
}

static int
test_watch_cancelled(void *arg)
{
	return (((struct test_watch *)arg)->cancelled);
}

static void
test_watch_progress(void *arg, const struct probe_progress *p)
{
	((struct test_watch *)arg)->bytes_out = p->bytes_out;
}

/* Paths stay in the folder; the watch and the cancel flag are the job's. */
static void
test_session_job(void **state)
{
	struct test_watch	 tw = { -1, 0, 0 };
	struct session_watcher	 w = { test_watch_fd, test_watch_cancelled,
				    test_watch_progress, &tw };
	struct probe_progress	 p;
	struct session		*s;
	char			 path[64];

	(void)state;
	s = session_new("00008030-001A1C3E0A38802E", "/linkq/");
	session_path(s, "rt-1-2", path, sizeof(path));
	assert_string_equal(path, "/linkq/rt-1-2");
	assert_int_equal(session_cancelled(s), 0);
	session_watch(s, 5);		/* no watcher: nothing to arm */
	memset(&p, 0, sizeof(p));
	p.bytes_out = 42;
	session_progress(s, &p);

	session_set_watcher(s, &w);
	session_watch(s, 7);
	assert_int_equal(tw.fd, 7);
	session_watch(s, -1);
	assert_int_equal(tw.fd, -1);
	assert_int_equal(session_cancelled(s), 0);
	tw.cancelled = 1;
	assert_int_equal(session_cancelled(s), 1);
	session_progress(s, &p);
	assert_int_equal(tw.bytes_out, 42);
	session_set_watcher(s, NULL);
	assert_int_equal(session_cancelled(s), 0);

	/* No client, no socket. */
	assert_int_equal(session_lockdown_fd(NULL), -1);
	assert_int_equal(session_afc_fd(NULL), -1);
	session_close(s);
	session_free(s);
	session_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stream_definition),
		cmocka_unit_test(test_stream_seeds_differ),
		cmocka_unit_test(test_stream_unaligned),
		cmocka_unit_test(test_stream_verify),
		cmocka_unit_test(test_ops_find),
		cmocka_unit_test(test_result_init),
		cmocka_unit_test(test_status_mapping),
		cmocka_unit_test(test_error_detail),
		cmocka_unit_test(test_session_job),
	};

	log_init(LOG_TO_STDERR, 0, "test-probe");
	return (cmocka_run_group_tests_name("probe", tests, NULL, NULL));
}
