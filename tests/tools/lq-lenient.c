/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * lq-lenient: talk to a device the way clients other than
 * libimobiledevice do (pymobiledevice3, go-ios), to check that the
 * simulated phone accepts what a real one accepts. It speaks lockdown
 * and AFC itself, over libusbmuxd's Connect, with OpenSSL for TLS.
 *
 *	lq-lenient [-r record] [-w record] udid lockdown
 *	lq-lenient [-r record] udid afc size-in-bytes
 *
 * The pair record comes from usbmuxd (ReadPairRecord), or from the file
 * given with -r; -w saves the one used, so that a later run can present
 * it after another host has paired.
 *
 * lockdown: QueryType; GetValue outside a session (the whole default
 * domain, then SerialNumber); StartSession with the record's HostID and
 * TLS with its HostCertificate and HostPrivateKey, as pymobiledevice3
 * (lockdown.py ssl_file) and go-ios do; GetValue SerialNumber inside.
 *
 * afc: in a session, StartService com.apple.afc, then GET_DEVINFO,
 * READ_DIR and GET_FILE_INFO with paths that have no NUL, as go-ios
 * sends them, and one FILE_WRITE of size bytes.
 *
 * Each result is one "name: value" line on standard output; an answer
 * that is an error prints "error NAME". Exit status 0 when the exchange
 * ran to its end, 1 on a protocol failure, 2 on usage errors.
 */

#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <plist/plist.h>
#include <usbmuxd.h>

#include "compat/compat.h"

#define LEN_NAME		"lq-lenient"
#define LEN_LOCKDOWN_PORT	62078
#define LEN_MSG_MAX		(1024 * 1024)
#define LEN_TIMEOUT_S		20
#define LEN_AFC_HDR		40
#define LEN_AFC_MAGIC		"CFA6LPAA"
#define LEN_CHUNK		(1024 * 1024)

#define AFC_STATUS		0x01
#define AFC_DATA		0x02
#define AFC_READ_DIR		0x03
#define AFC_GET_FILE_INFO	0x0a
#define AFC_GET_DEVINFO		0x0b
#define AFC_FILE_OPEN		0x0d
#define AFC_FILE_OPEN_RES	0x0e
#define AFC_FILE_WRITE		0x10
#define AFC_FILE_CLOSE		0x14

/* One connection: plaintext until ssl is set. */
struct len_conn {
	int		 fd;
	SSL		*ssl;
};

static uint64_t	 afc_num;

static __dead void
usage(void)
{
	(void)fprintf(stderr, "usage: %s [-r record] [-w record] udid "
	    "lockdown | afc size\n", LEN_NAME);
	exit(2);
}

/* Print a failure and exit 1. */
static __dead void
die(const char *what)
{
	unsigned long	e = ERR_get_error();

	(void)fprintf(stderr, "%s: %s%s%s\n", LEN_NAME, what,
	    e != 0 ? ": " : "", e != 0 ? ERR_error_string(e, NULL) : "");
	exit(1);
}

/* Read exactly len bytes. */
static void
conn_read(struct len_conn *c, void *buf, size_t len)
{
	unsigned char	*p = buf;
	ssize_t		 n;
	int		 r;

	while (len > 0) {
		if (c->ssl != NULL) {
			if ((r = SSL_read(c->ssl, p, (int)(len > INT32_MAX ?
			    INT32_MAX : len))) <= 0)
				die("TLS read");
			n = r;
		} else if ((n = read(c->fd, p, len)) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			die(n == 0 ? "connection closed" : "read");
		}
		p += n;
		len -= (size_t)n;
	}
}

/* Write all of len bytes. */
static void
conn_write(struct len_conn *c, const void *buf, size_t len)
{
	const unsigned char	*p = buf;
	ssize_t			 n;
	int			 r;

	while (len > 0) {
		if (c->ssl != NULL) {
			if ((r = SSL_write(c->ssl, p, (int)(len > INT32_MAX ?
			    INT32_MAX : len))) <= 0)
				die("TLS write");
			n = r;
		} else if ((n = write(c->fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			die("write");
		}
		p += n;
		len -= (size_t)n;
	}
}

/* Connect to a device port through usbmuxd; blocking, with timeouts. */
static void
conn_open(struct len_conn *c, uint32_t handle, uint16_t port)
{
	struct timeval	tv = { LEN_TIMEOUT_S, 0 };
	int		flags;

	memset(c, 0, sizeof(*c));
	if ((c->fd = usbmuxd_connect(handle, port)) < 0)
		die("usbmuxd Connect");
	/* libusbmuxd leaves the socket non-blocking. */
	if ((flags = fcntl(c->fd, F_GETFL)) == -1 ||
	    fcntl(c->fd, F_SETFL, flags & ~O_NONBLOCK) == -1 ||
	    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ==
	    -1 ||
	    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1)
		die("socket options");
}

/* Send one lockdown message: a 4-byte big-endian length, XML. */
static void
ld_send(struct len_conn *c, plist_t msg)
{
	char		*xml = NULL;
	uint32_t	 len = 0;
	unsigned char	 hdr[4];

	plist_to_xml(msg, &xml, &len);
	plist_free(msg);
	if (xml == NULL)
		die("plist_to_xml");
	hdr[0] = len >> 24;
	hdr[1] = len >> 16;
	hdr[2] = len >> 8;
	hdr[3] = len;
	conn_write(c, hdr, sizeof(hdr));
	conn_write(c, xml, len);
	free(xml);
}

/* Receive one lockdown message. */
static plist_t
ld_recv(struct len_conn *c)
{
	unsigned char	 hdr[4];
	char		*buf;
	uint32_t	 len;
	plist_t		 msg = NULL;

	conn_read(c, hdr, sizeof(hdr));
	len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
	    (uint32_t)hdr[2] << 8 | hdr[3];
	if (len == 0 || len > LEN_MSG_MAX)
		die("lockdown message length");
	if ((buf = malloc(len)) == NULL)
		die("malloc");
	conn_read(c, buf, len);
	if (memcmp(buf, "bplist00", 8) == 0)
		plist_from_bin(buf, len, &msg);
	else
		plist_from_xml(buf, len, &msg);
	free(buf);
	if (msg == NULL || plist_get_node_type(msg) != PLIST_DICT)
		die("lockdown message is not a dictionary");
	return (msg);
}

/* A request dictionary with Label and Request. */
static plist_t
ld_request(const char *request)
{
	plist_t	msg;

	msg = plist_new_dict();
	plist_dict_set_item(msg, "Label", plist_new_string(LEN_NAME));
	plist_dict_set_item(msg, "Request", plist_new_string(request));
	return (msg);
}

/* A string item of a dictionary, or NULL (allocated). */
static char *
dict_string(plist_t dict, const char *key)
{
	plist_t	 node;
	char	*s = NULL;

	node = plist_dict_get_item(dict, key);
	if (node != NULL && plist_get_node_type(node) == PLIST_STRING)
		plist_get_string_val(node, &s);
	return (s);
}

/* Print "name: error E" for a reply with an Error, and say so. */
static int
ld_error(const char *name, plist_t reply)
{
	char	*err;

	if ((err = dict_string(reply, "Error")) == NULL)
		return (0);
	(void)printf("%s: error %s\n", name, err);
	free(err);
	return (1);
}

/* GetValue [Key]: print the value's keys (a dict) or the string. */
static void
ld_get_value(struct len_conn *c, const char *name, const char *key)
{
	plist_t		 msg, value, item;
	plist_dict_iter	 it = NULL;
	char		*k, *s;

	msg = ld_request("GetValue");
	if (key != NULL)
		plist_dict_set_item(msg, "Key", plist_new_string(key));
	ld_send(c, msg);
	msg = ld_recv(c);
	if (ld_error(name, msg)) {
		plist_free(msg);
		return;
	}
	if ((value = plist_dict_get_item(msg, "Value")) == NULL)
		die("GetValue: no Value");
	(void)printf("%s:", name);
	if (plist_get_node_type(value) == PLIST_DICT) {
		plist_dict_new_iter(value, &it);
		for (;;) {
			k = NULL;
			plist_dict_next_item(value, it, &k, &item);
			if (k == NULL)
				break;
			(void)printf(" %s", k);
			free(k);
		}
		free(it);
	} else if (plist_get_node_type(value) == PLIST_STRING) {
		plist_get_string_val(value, &s);
		(void)printf(" %s", s);
		free(s);
	}
	(void)printf("\n");
	plist_free(msg);
}

/* Load the pair record from a file, or from usbmuxd. */
static plist_t
record_load(const char *path, const char *udid)
{
	char		*buf = NULL;
	uint32_t	 len = 0;
	plist_t		 record = NULL;
	FILE		*f;
	long		 size;

	if (path != NULL) {
		if ((f = fopen(path, "rb")) == NULL ||
		    fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) <= 0 ||
		    size > LEN_MSG_MAX || fseek(f, 0, SEEK_SET) != 0)
			die(path);
		len = (uint32_t)size;
		if ((buf = malloc(len)) == NULL ||
		    fread(buf, 1, len, f) != len)
			die(path);
		(void)fclose(f);
	} else if (usbmuxd_read_pair_record(udid, &buf, &len) != 0)
		die("usbmuxd ReadPairRecord");
	if (len >= 8 && memcmp(buf, "bplist00", 8) == 0)
		plist_from_bin(buf, len, &record);
	else
		plist_from_xml(buf, len, &record);
	free(buf);
	if (record == NULL || plist_get_node_type(record) != PLIST_DICT)
		die("the pair record is not a dictionary");
	return (record);
}

/* Save the pair record as an XML plist. */
static void
record_save(plist_t record, const char *path)
{
	char		*xml = NULL;
	uint32_t	 len = 0;
	FILE		*f;

	plist_to_xml(record, &xml, &len);
	if (xml == NULL || (f = fopen(path, "wb")) == NULL ||
	    fwrite(xml, 1, len, f) != len || fclose(f) != 0)
		die(path);
	free(xml);
}

/* PEM data of the record as a BIO. */
static BIO *
record_bio(plist_t record, const char *key)
{
	plist_t		 node;
	char		*data = NULL;
	uint64_t	 len = 0;
	BIO		*bio;

	node = plist_dict_get_item(record, key);
	if (node == NULL || plist_get_node_type(node) != PLIST_DATA)
		die(key);
	plist_get_data_val(node, &data, &len);
	bio = BIO_new(BIO_s_mem());
	if (bio == NULL || BIO_write(bio, data, (int)len) != (int)len)
		die(key);
	free(data);
	return (bio);
}

/* Switch the connection to TLS with the HostCertificate. */
static void
tls_start(struct len_conn *c, plist_t record)
{
	SSL_CTX		*ctx;
	BIO		*bio;
	X509		*cert;
	EVP_PKEY	*key;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		die("SSL_CTX_new");
	/* Pair records are signed with SHA-1. */
	SSL_CTX_set_security_level(ctx, 0);
	bio = record_bio(record, "HostCertificate");
	cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	bio = record_bio(record, "HostPrivateKey");
	key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (cert == NULL || key == NULL ||
	    SSL_CTX_use_certificate(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, key) != 1)
		die("HostCertificate and HostPrivateKey");
	X509_free(cert);
	EVP_PKEY_free(key);
	if ((c->ssl = SSL_new(ctx)) == NULL)
		die("SSL_new");
	SSL_CTX_free(ctx);
	if (SSL_set_fd(c->ssl, c->fd) != 1 || SSL_connect(c->ssl) != 1)
		die("TLS handshake with the HostCertificate");
	(void)printf("tls: %s\n", SSL_get_version(c->ssl));
}

/* QueryType, then StartSession and TLS; exits if refused. */
static void
ld_session(struct len_conn *c, plist_t record)
{
	plist_t		 msg;
	char		*host_id, *s;

	ld_send(c, ld_request("QueryType"));
	msg = ld_recv(c);
	s = dict_string(msg, "Type");
	(void)printf("type: %s\n", s != NULL ? s : "?");
	free(s);
	plist_free(msg);

	if ((host_id = dict_string(record, "HostID")) == NULL)
		die("the pair record has no HostID");
	msg = ld_request("StartSession");
	plist_dict_set_item(msg, "HostID", plist_new_string(host_id));
	s = dict_string(record, "SystemBUID");
	if (s != NULL)
		plist_dict_set_item(msg, "SystemBUID", plist_new_string(s));
	free(s);
	free(host_id);
	ld_send(c, msg);
	msg = ld_recv(c);
	if (ld_error("session", msg))
		exit(1);
	(void)printf("session: started\n");
	if (plist_dict_get_item(msg, "EnableSessionSSL") != NULL)
		tls_start(c, record);
	plist_free(msg);
}

/* The lockdown command. */
static void
cmd_lockdown(uint32_t handle, plist_t record)
{
	struct len_conn	c;

	conn_open(&c, handle, LEN_LOCKDOWN_PORT);
	ld_get_value(&c, "public", NULL);
	ld_get_value(&c, "public SerialNumber", "SerialNumber");
	ld_session(&c, record);
	ld_get_value(&c, "session SerialNumber", "SerialNumber");
	ld_send(&c, ld_request("Goodbye"));
	SSL_free(c.ssl);
	(void)close(c.fd);
}

/* Send one AFC packet: args in the header part, payload after. */
static void
afc_send(struct len_conn *c, uint64_t op, const void *args, size_t alen,
    uint64_t plen)
{
	unsigned char	hdr[LEN_AFC_HDR];
	uint64_t	v[4];
	size_t		i, j;

	v[0] = LEN_AFC_HDR + alen + plen;
	v[1] = LEN_AFC_HDR + alen;
	v[2] = ++afc_num;
	v[3] = op;
	memcpy(hdr, LEN_AFC_MAGIC, 8);
	for (i = 0; i < 4; i++) {
		for (j = 0; j < 8; j++)
			hdr[8 + i * 8 + j] = (unsigned char)(v[i] >> (8 * j));
	}
	conn_write(c, hdr, sizeof(hdr));
	if (alen > 0)
		conn_write(c, args, alen);
}

/* Little-endian uint64 at p. */
static uint64_t
get64(const unsigned char *p)
{
	uint64_t	v = 0;
	int		i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return (v);
}

/*
 * Receive one AFC packet into *data (allocated, NUL-terminated);
 * returns the operation; *this is this_length - 40, *len the rest.
 */
static uint64_t
afc_recv(struct len_conn *c, unsigned char **data, size_t *this,
    size_t *len)
{
	unsigned char	hdr[LEN_AFC_HDR];
	uint64_t	entire, thislen;

	conn_read(c, hdr, sizeof(hdr));
	if (memcmp(hdr, LEN_AFC_MAGIC, 8) != 0)
		die("AFC magic");
	entire = get64(hdr + 8);
	thislen = get64(hdr + 16);
	if (thislen < LEN_AFC_HDR || entire < thislen ||
	    entire - LEN_AFC_HDR > LEN_MSG_MAX)
		die("AFC lengths");
	*this = (size_t)(thislen - LEN_AFC_HDR);
	*len = (size_t)(entire - thislen);
	if ((*data = malloc(*this + *len + 1)) == NULL)
		die("malloc");
	conn_read(c, *data, *this + *len);
	(*data)[*this + *len] = '\0';
	return (get64(hdr + 32));
}

/*
 * Print a DATA answer's strings, space-separated, and where they came:
 * "payload" when all of it follows this_length, as on a device.
 */
static void
afc_print(struct len_conn *c, const char *name)
{
	unsigned char	*data;
	size_t		 this, len, i;
	uint64_t	 op;

	op = afc_recv(c, &data, &this, &len);
	if (op == AFC_STATUS) {
		(void)printf("%s: status %" PRIu64 "\n", name,
		    this + len >= 8 ? get64(data) : UINT64_MAX);
		free(data);
		return;
	}
	if (op != AFC_DATA)
		die("AFC: not a DATA answer");
	(void)printf("%s: %s", name, this == 0 ? "payload" : "header");
	for (i = 0; i < this + len; i += strlen((char *)data + i) + 1)
		(void)printf(" %s", (char *)data + i);
	(void)printf("\n");
	free(data);
}

/* FILE_OPEN path (NUL-terminated, as every client sends it) for w. */
static uint64_t
afc_open(struct len_conn *c, const char *path)
{
	unsigned char	 args[8 + 256], *data;
	size_t		 plen = strlen(path) + 1, this, len;
	uint64_t	 h;

	if (plen > sizeof(args) - 8)
		die("path too long");
	memset(args, 0, 8);
	args[0] = 3;	/* w */
	memcpy(args + 8, path, plen);
	afc_send(c, AFC_FILE_OPEN, args, 8 + plen, 0);
	if (afc_recv(c, &data, &this, &len) != AFC_FILE_OPEN_RES ||
	    this + len < 8)
		die("FILE_OPEN");
	h = get64(data);
	free(data);
	return (h);
}

/* One FILE_WRITE of size bytes, sent a chunk at a time. */
static void
afc_write(struct len_conn *c, uint64_t h, uint64_t size)
{
	unsigned char	 args[8], *buf;
	uint64_t	 left;
	size_t		 n, i;

	for (i = 0; i < 8; i++)
		args[i] = (unsigned char)(h >> (8 * i));
	if ((buf = malloc(LEN_CHUNK)) == NULL)
		die("malloc");
	for (i = 0; i < LEN_CHUNK; i++)
		buf[i] = (unsigned char)(i * 7 + 1);
	afc_send(c, AFC_FILE_WRITE, args, sizeof(args), size);
	for (left = size; left > 0; left -= n) {
		n = left < LEN_CHUNK ? (size_t)left : LEN_CHUNK;
		conn_write(c, buf, n);
	}
	free(buf);
	afc_print(c, "write");
	afc_send(c, AFC_FILE_CLOSE, args, sizeof(args), 0);
	afc_print(c, "close");
}

/* The afc command. */
static void
cmd_afc(uint32_t handle, plist_t record, uint64_t size)
{
	struct len_conn	 ld, afc;
	plist_t		 msg, node;
	uint64_t	 port = 0, h;

	conn_open(&ld, handle, LEN_LOCKDOWN_PORT);
	ld_session(&ld, record);
	msg = ld_request("StartService");
	plist_dict_set_item(msg, "Service", plist_new_string("com.apple.afc"));
	ld_send(&ld, msg);
	msg = ld_recv(&ld);
	if (ld_error("service", msg))
		exit(1);
	if ((node = plist_dict_get_item(msg, "Port")) == NULL ||
	    plist_get_node_type(node) != PLIST_UINT)
		die("StartService: no Port");
	plist_get_uint_val(node, &port);
	plist_free(msg);

	conn_open(&afc, handle, (uint16_t)port);
	afc_send(&afc, AFC_GET_DEVINFO, NULL, 0, 0);
	afc_print(&afc, "devinfo");
	/* No NUL after these paths: go-ios sends them so. */
	afc_send(&afc, AFC_READ_DIR, "/DCIM/100APPLE", 14, 0);
	afc_print(&afc, "readdir");
	afc_send(&afc, AFC_GET_FILE_INFO, "/Downloads/notes.txt", 20, 0);
	afc_print(&afc, "fileinfo");
	if (size > 0) {
		h = afc_open(&afc, "/Downloads/lenient.bin");
		afc_write(&afc, h, size);
		afc_send(&afc, AFC_GET_FILE_INFO, "/Downloads/lenient.bin",
		    22, 0);
		afc_print(&afc, "written");
	}
	(void)close(afc.fd);
	SSL_free(ld.ssl);
	(void)close(ld.fd);
}

int
main(int argc, char **argv)
{
	usbmuxd_device_info_t	 dev;
	plist_t			 record;
	const char		*rpath = NULL, *wpath = NULL, *errstr;
	uint64_t		 size = 0;
	int			 ch;

	while ((ch = getopt(argc, argv, "r:w:")) != -1) {
		switch (ch) {
		case 'r':
			rpath = optarg;
			break;
		case 'w':
			wpath = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "afc") == 0) {
		if (argc != 3)
			usage();
		size = (uint64_t)strtonum(argv[2], 0, INT64_MAX, &errstr);
		if (errstr != NULL)
			usage();
	} else if (strcmp(argv[1], "lockdown") != 0 || argc != 2)
		usage();

	if (usbmuxd_get_device_by_udid(argv[0], &dev) != 1)
		die("no such device in usbmuxd");
	record = record_load(rpath, argv[0]);
	if (wpath != NULL)
		record_save(record, wpath);
	if (strcmp(argv[1], "afc") == 0)
		cmd_afc(dev.handle, record, size);
	else
		cmd_lockdown(dev.handle, record);
	plist_free(record);
	return (fflush(stdout) == 0 ? 0 : 1);
}
