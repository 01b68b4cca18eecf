/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * bench-afc: the bare AFC loop that linkqd's bulk probe is measured
 * against, through libimobiledevice alone (no linkq code). One session
 * is set up outside the timing: lockdownd_client_new_with_handshake,
 * lockdownd_start_service com.apple.afc, afc_client_new and the folder.
 * Then count transfers, each what one bulk probe does with a volume
 * that fits in one segment:
 *
 *	afc_get_device_info_key FSFreeBytes
 *	afc_file_open for writing, then size bytes in afc_file_write
 *	calls of chunk bytes, each chunk filled from a seeded stream
 *	first, and afc_file_close
 *	afc_file_open for reading, the same chunks through afc_file_read,
 *	each checked against the stream, and afc_file_close
 *	afc_remove_path
 *
 * The stream is made of 8-byte words, word w being the splitmix64
 * finaliser of seed ^ w * 0x9e3779b97f4a7c15: the same arithmetic per
 * byte as linkqd's bulk stream (written here on its own), so that both
 * sides pay the same to fill and to check.
 *
 *	bench-afc [-c chunk] [-n count] [-s size] [-u udid]
 *
 * chunk and size are bytes with an optional K, M or G (powers of 1024);
 * the defaults are 1M, 2 transfers and 256M. One line per transfer:
 *
 *	transfer N: write_us W read_us R whole_us T bytes B
 *
 * write_us and read_us are the time inside the afc_file_write and
 * afc_file_read calls alone (what linkqd's bulk probe reports as
 * write_us and read_us in its detail); whole_us is the whole transfer,
 * from FSFreeBytes to the removal (what linkqd stores as the probe's
 * latency); bytes is each way. The exit status is 1 on any failure or
 * corrupt byte, 2 on bad arguments.
 */

#include <endian.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libimobiledevice/afc.h>
#include <libimobiledevice/libimobiledevice.h>
#include <libimobiledevice/lockdown.h>

#include "compat/compat.h"

#define AFC_DIR		"/linkq-bench"
#define AFC_GOLDEN	UINT64_C(0x9e3779b97f4a7c15)
#define AFC_CHUNK_MAX	(64 * 1024 * 1024)	/* linkq-sim's AFC_MAX_DATA */

struct bench {
	afc_client_t	 afc;
	unsigned char	*buf;
	uint64_t	 size;
	uint32_t	 chunk;
	uint64_t	 seed;
	int64_t		 write_us;
	int64_t		 read_us;
};

static __dead void
usage(void)
{
	(void)fprintf(stderr, "usage: bench-afc [-c chunk] [-n count] "
	    "[-s size] [-u udid]\n");
	exit(2);
}

/* Monotonic time in microseconds. */
static int64_t
now_us(void)
{
	struct timespec	ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

/* A size: digits and an optional K, M or G; 0 if it is not one. */
static uint64_t
parse_size(const char *s)
{
	const char	*errstr;
	char		 digits[32];
	size_t		 len;
	long long	 n;
	int		 shift = 0;

	len = strlen(s);
	if (len == 0 || len >= sizeof(digits))
		return (0);
	(void)memcpy(digits, s, len + 1);
	switch (digits[len - 1]) {
	case 'K':
		shift = 10;
		break;
	case 'M':
		shift = 20;
		break;
	case 'G':
		shift = 30;
		break;
	}
	if (shift != 0)
		digits[len - 1] = '\0';
	n = strtonum(digits, 1, 1LL << 33, &errstr);
	if (errstr != NULL)
		return (0);
	return ((uint64_t)n << shift);
}

/* Word w of the stream, as stored (little-endian). */
static uint64_t
stream_word(uint64_t seed, uint64_t w)
{
	uint64_t	z;

	z = (seed ^ (w * AFC_GOLDEN)) + AFC_GOLDEN;
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return (htole64(z ^ (z >> 31)));
}

/* Fill len bytes (a multiple of 8) of the stream from offset off. */
static void
fill(uint64_t seed, uint64_t off, unsigned char *p, size_t len)
{
	uint64_t	v, w = off / 8;
	size_t		i;

	for (i = 0; i < len; i += 8) {
		v = stream_word(seed, w++);
		(void)memcpy(p + i, &v, 8);
	}
}

/* Whether len bytes (a multiple of 8) are the stream from off. */
static int
check(uint64_t seed, uint64_t off, const unsigned char *p, size_t len)
{
	uint64_t	v, w = off / 8;
	size_t		i;

	for (i = 0; i < len; i += 8) {
		(void)memcpy(&v, p + i, 8);
		if (v != stream_word(seed, w++))
			return (0);
	}
	return (1);
}

/* Report a failed AFC call; return -1. */
static int
afc_fail(const char *what, afc_error_t ae)
{
	(void)fprintf(stderr, "bench-afc: %s: AFC error %d\n", what, ae);
	return (-1);
}

/* Write the file: size bytes of the stream, chunk by chunk. */
static int
bench_write(struct bench *b, const char *path)
{
	uint64_t	handle = 0, off;
	uint32_t	written;
	int64_t		t;
	afc_error_t	ae;

	ae = afc_file_open(b->afc, path, AFC_FOPEN_WRONLY, &handle);
	if (ae != AFC_E_SUCCESS)
		return (afc_fail("afc_file_open", ae));
	for (off = 0; off < b->size; off += b->chunk) {
		fill(b->seed, off, b->buf, b->chunk);
		written = 0;
		t = now_us();
		ae = afc_file_write(b->afc, handle, (const char *)b->buf,
		    b->chunk, &written);
		b->write_us += now_us() - t;
		if (ae != AFC_E_SUCCESS)
			return (afc_fail("afc_file_write", ae));
		if (written != b->chunk) {
			(void)fprintf(stderr, "bench-afc: afc_file_write: "
			    "%" PRIu32 " of %" PRIu32 " bytes\n", written,
			    b->chunk);
			return (-1);
		}
	}
	if ((ae = afc_file_close(b->afc, handle)) != AFC_E_SUCCESS)
		return (afc_fail("afc_file_close", ae));
	return (0);
}

/* Read the file back, chunk by chunk, and check every byte. */
static int
bench_read(struct bench *b, const char *path)
{
	uint64_t	handle = 0, off;
	uint32_t	got, n;
	int64_t		t;
	afc_error_t	ae;

	ae = afc_file_open(b->afc, path, AFC_FOPEN_RDONLY, &handle);
	if (ae != AFC_E_SUCCESS)
		return (afc_fail("afc_file_open", ae));
	for (off = 0; off < b->size; off += b->chunk) {
		for (got = 0; got < b->chunk; got += n) {
			n = 0;
			t = now_us();
			ae = afc_file_read(b->afc, handle,
			    (char *)b->buf + got, b->chunk - got, &n);
			b->read_us += now_us() - t;
			if (ae != AFC_E_SUCCESS)
				return (afc_fail("afc_file_read", ae));
			if (n == 0 || n > b->chunk - got) {
				(void)fprintf(stderr, "bench-afc: the file "
				    "ends early\n");
				return (-1);
			}
		}
		if (!check(b->seed, off, b->buf, b->chunk)) {
			(void)fprintf(stderr, "bench-afc: corrupt chunk at "
			    "byte %" PRIu64 "\n", off);
			return (-1);
		}
	}
	if ((ae = afc_file_close(b->afc, handle)) != AFC_E_SUCCESS)
		return (afc_fail("afc_file_close", ae));
	return (0);
}

/* One transfer: free space, write, read back, remove. */
static int
bench_transfer(struct bench *b, const char *path)
{
	afc_error_t	 ae;
	char		*value = NULL;

	ae = afc_get_device_info_key(b->afc, "FSFreeBytes", &value);
	if (ae != AFC_E_SUCCESS || value == NULL ||
	    strtoull(value, NULL, 10) < b->size) {
		(void)fprintf(stderr, "bench-afc: FSFreeBytes: %s\n",
		    value != NULL ? value : "no answer");
		free(value);
		return (-1);
	}
	free(value);
	if (bench_write(b, path) == -1 || bench_read(b, path) == -1)
		return (-1);
	if ((ae = afc_remove_path(b->afc, path)) != AFC_E_SUCCESS)
		return (afc_fail("afc_remove_path", ae));
	return (0);
}

int
main(int argc, char **argv)
{
	struct bench			 b;
	idevice_t			 dev = NULL;
	lockdownd_client_t		 ld = NULL;
	lockdownd_service_descriptor_t	 svc = NULL;
	const char			*udid = NULL, *errstr;
	char				 path[64];
	int64_t				 t;
	long long			 count = 2, i;
	int				 ch, ret = 1;

	memset(&b, 0, sizeof(b));
	b.chunk = 1 << 20;
	b.size = UINT64_C(256) << 20;
	while ((ch = getopt(argc, argv, "c:n:s:u:")) != -1) {
		switch (ch) {
		case 'c':
			b.chunk = (uint32_t)parse_size(optarg);
			if (b.chunk == 0 || b.chunk % 8 != 0 ||
			    b.chunk > AFC_CHUNK_MAX)
				usage();
			break;
		case 'n':
			count = strtonum(optarg, 1, 1000, &errstr);
			if (errstr != NULL)
				usage();
			break;
		case 's':
			if ((b.size = parse_size(optarg)) == 0)
				usage();
			break;
		case 'u':
			udid = optarg;
			break;
		default:
			usage();
		}
	}
	if (argc != optind || b.size % b.chunk != 0)
		usage();
	if (idevice_new(&dev, udid) != IDEVICE_E_SUCCESS) {
		(void)fprintf(stderr, "bench-afc: no device\n");
		return (1);
	}
	if (lockdownd_client_new_with_handshake(dev, &ld, "bench-afc") !=
	    LOCKDOWN_E_SUCCESS ||
	    lockdownd_start_service(ld, AFC_SERVICE_NAME, &svc) !=
	    LOCKDOWN_E_SUCCESS ||
	    afc_client_new(dev, svc, &b.afc) != AFC_E_SUCCESS) {
		(void)fprintf(stderr, "bench-afc: cannot start AFC\n");
		goto out;
	}
	(void)afc_make_directory(b.afc, AFC_DIR);
	if ((b.buf = malloc(b.chunk)) == NULL) {
		perror("bench-afc: malloc");
		goto out;
	}
	for (i = 1; i <= count; i++) {
		(void)snprintf(path, sizeof(path), AFC_DIR "/bulk-%ld-%lld",
		    (long)getpid(), i);
		b.seed = (uint64_t)getpid() << 32 ^ (uint64_t)i;
		b.write_us = b.read_us = 0;
		t = now_us();
		if (bench_transfer(&b, path) == -1)
			goto out;
		(void)printf("transfer %lld: write_us %" PRId64 " read_us %"
		    PRId64 " whole_us %" PRId64 " bytes %" PRIu64 "\n", i,
		    b.write_us, b.read_us, now_us() - t, b.size);
		(void)fflush(stdout);
	}
	ret = 0;
out:
	free(b.buf);
	if (b.afc != NULL)
		(void)afc_client_free(b.afc);
	if (svc != NULL)
		(void)lockdownd_service_descriptor_free(svc);
	if (ld != NULL)
		(void)lockdownd_client_free(ld);
	idevice_free(dev);
	return (ret);
}
