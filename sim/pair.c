/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Keys, certificates and the pair record of a simulated device
 * (contract in pair.h).
 *
 * DESIGN
 * The certificates are built call for call as libimobiledevice 1.3.0's
 * pair_record_generate_keys_and_certs (common/userpref.c, OpenSSL path)
 * builds them, extensions in the same order, because the bytes are what
 * a real pairing would have produced: serial 0, empty names, ten years
 * from now, SHA-1 signatures. Only OpenSSL 3 interfaces that are not
 * deprecated are used, so nothing here needs OPENSSL_API_COMPAT: the
 * PKCS#1 DevicePublicKey comes from an OSSL_ENCODER with the
 * "type-specific" structure rather than PEM_write_bio_RSAPublicKey.
 *
 * The save file is this module's own XML plist: it keeps what the pair
 * record does not (the device key, the udid, a version) and stays
 * readable with plistutil. Key bytes that pass through our buffers are
 * wiped before they are freed; copies inside libplist nodes are not,
 * libplist has no way to.
 */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <plist/plist.h>

#include "compat/compat.h"
#include "log.h"
#include "pair.h"
#include "xmalloc.h"

#define PAIR_RSA_BITS		2048
/* userpref.c's validity: 60 * 60 * 24 * 365 * 10 seconds from now. */
#define PAIR_VALIDITY		(60L * 60 * 24 * 365 * 10)
#define PAIR_UDID_MAX		64
#define PAIR_FILE_MAX		(1024 * 1024)
#define PAIR_FILE_VERSION	1

enum pair_cert_kind {
	PAIR_CERT_ROOT,
	PAIR_CERT_HOST,
	PAIR_CERT_DEVICE
};

static void	 pair_cause(char **, const char *, ...) printflike(2, 3);
static void	 pair_cause_ssl(char **, const char *, ...)
		    printflike(2, 3);
static const char *pair_ssl_error(char *, size_t);
static int	 pair_no_password(char *, int, int, void *);
static int	 pair_check_udid(const char *, char **);
static char	*pair_uuid(void);
static char	*pair_wifi_mac(const char *);
static int	 pair_cert_ext(X509 *, int, const char *);
static X509	*pair_cert_new(enum pair_cert_kind, EVP_PKEY *, EVP_PKEY *);
static char	*pair_bio_take(BIO *, size_t *);
static char	*pair_pem_cert(X509 *, size_t *);
static char	*pair_pem_key(EVP_PKEY *, size_t *);
static int	 pair_set_cert(plist_t, const char *, X509 *);
static int	 pair_set_key(plist_t, const char *, EVP_PKEY *);
static const char *pair_get_string(plist_t, const char *);
static const char *pair_get_data(plist_t, const char *, size_t *);
static X509	*pair_get_cert(plist_t, const char *, const char *, char **);
static EVP_PKEY	*pair_get_key(plist_t, const char *, const char *, char **);
static int	 pair_check_key(X509 *, EVP_PKEY *, const char *,
		    const char *, char **);
static int	 pair_from_file(struct sim_pairing *, plist_t, const char *,
		    const char *, char **);
static int	 pair_write_all(int, const char *, size_t);
static char	*pair_read_file(const char *, size_t *, int *, char **);
static void	 pair_host_free(struct sim_pair_host *);
static void	 pair_host_drop(struct sim_pairing *, size_t);
static void	 pair_host_add(struct sim_pairing *, char *, X509 *, X509 *);
static ssize_t	 pair_host_find(const struct sim_pairing *, const char *);
static int	 pair_save_others(plist_t, const struct sim_pairing *);
static int	 pair_load_others(struct sim_pairing *, plist_t,
		    const char *, char **);

/* Set *cause, if there is one, from a format. */
static void
pair_cause(char **cause, const char *fmt, ...)
{
	va_list	ap;

	if (cause == NULL)
		return;
	va_start(ap, fmt);
	(void)xvasprintf(cause, fmt, ap);
	va_end(ap);
}

/* Set *cause to a message followed by OpenSSL's last error. */
static void
pair_cause_ssl(char **cause, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg, err[256];

	va_start(ap, fmt);
	(void)xvasprintf(&msg, fmt, ap);
	va_end(ap);
	pair_cause(cause, "%s: %s", msg, pair_ssl_error(err, sizeof(err)));
	free(msg);
}

/* Describe OpenSSL's last error into buf and clear the thread's queue. */
static const char *
pair_ssl_error(char *buf, size_t size)
{
	unsigned long	e;

	if ((e = ERR_peek_last_error()) == 0)
		(void)strlcpy(buf, "unknown OpenSSL error", size);
	else
		ERR_error_string_n(e, buf, size);
	ERR_clear_error();
	return (buf);
}

/* Refuse to prompt for a PEM pass phrase (the default reads the tty). */
static int
pair_no_password(__unused char *buf, __unused int size,
    __unused int rwflag, __unused void *u)
{
	return (-1);
}

/* Check that a udid is usable as usbmuxd's record id and a file name. */
static int
pair_check_udid(const char *udid, char **cause)
{
	size_t	len;

	if (udid == NULL || (len = strlen(udid)) == 0) {
		pair_cause(cause, "empty udid");
		return (-1);
	}
	if (len > PAIR_UDID_MAX) {
		pair_cause(cause, "udid longer than %d characters",
		    PAIR_UDID_MAX);
		return (-1);
	}
	if (strspn(udid, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-") != len) {
		pair_cause(cause, "udid %s: only letters, digits and '-'",
		    udid);
		return (-1);
	}
	return (0);
}

/*
 * Return a random UUID-shaped string as libimobiledevice's generate_uuid
 * makes it: 36 characters, uppercase hex, dashes at 8, 13, 18 and 23,
 * all other digits random (no version nibble). NULL if RAND_bytes fails.
 */
static char *
pair_uuid(void)
{
	static const char	 hex[] = "0123456789ABCDEF";
	unsigned char		 rnd[32];
	char			*uuid;
	size_t			 i, n = 0;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return (NULL);
	uuid = xmalloc(37);
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			uuid[i] = '-';
		else
			uuid[i] = hex[rnd[n++] & 0xf];
	}
	uuid[36] = '\0';
	explicit_bzero(rnd, sizeof(rnd));
	return (uuid);
}

/*
 * Return the Wi-Fi MAC address of a udid: the first six bytes of its
 * SHA-256, made unicast and locally administered, so that the simulator
 * never claims a vendor's address. NULL if the digest fails.
 */
static char *
pair_wifi_mac(const char *udid)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen;
	char		*mac;

	if (EVP_Digest(udid, strlen(udid), md, &mdlen, EVP_sha256(),
	    NULL) != 1 || mdlen < 6)
		return (NULL);
	md[0] = (md[0] & 0xfc) | 0x02;
	xasprintf(&mac, "%02x:%02x:%02x:%02x:%02x:%02x", md[0], md[1],
	    md[2], md[3], md[4], md[5]);
	return (mac);
}

/* Add one extension from its configuration string, as userpref.c does. */
static int
pair_cert_ext(X509 *cert, int nid, const char *value)
{
	X509V3_CTX	 ctx;
	X509_EXTENSION	*ext;
	int		 ret;

	/* No configuration database; the subject is the certificate. */
	X509V3_set_ctx(&ctx, NULL, cert, NULL, NULL, 0);
	if ((ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value)) == NULL)
		return (-1);
	ret = X509_add_ext(cert, ext, -1) == 1 ? 0 : -1;
	X509_EXTENSION_free(ext);
	return (ret);
}

/*
 * Build and sign one certificate of the pairing over subject's public
 * key with signer's private key. The order of the calls is userpref.c's,
 * which fixes the order of the extensions in the DER. Returns NULL with
 * OpenSSL's error queue set on failure.
 */
static X509 *
pair_cert_new(enum pair_cert_kind kind, EVP_PKEY *subject,
    EVP_PKEY *signer)
{
	X509	*cert;
	time_t	 now;

	if ((cert = X509_new()) == NULL)
		return (NULL);
	now = time(NULL);
	if (ASN1_INTEGER_set(X509_get_serialNumber(cert), 0) != 1 ||
	    X509_set_version(cert, X509_VERSION_3) != 1)
		goto fail;
	switch (kind) {
	case PAIR_CERT_ROOT:
		if (pair_cert_ext(cert, NID_basic_constraints,
		    "critical,CA:TRUE") != 0)
			goto fail;
		break;
	case PAIR_CERT_HOST:
		if (pair_cert_ext(cert, NID_basic_constraints,
		    "critical,CA:FALSE") != 0 ||
		    pair_cert_ext(cert, NID_key_usage,
		    "critical,digitalSignature,keyEncipherment") != 0)
			goto fail;
		break;
	case PAIR_CERT_DEVICE:
		if (pair_cert_ext(cert, NID_basic_constraints,
		    "critical,CA:FALSE") != 0)
			goto fail;
		break;
	}
	if (ASN1_TIME_set(X509_getm_notBefore(cert), now) == NULL ||
	    ASN1_TIME_set(X509_getm_notAfter(cert), now + PAIR_VALIDITY) ==
	    NULL || X509_set_pubkey(cert, subject) != 1)
		goto fail;
	/* The key identifier hashes the public key, so it comes after. */
	if (kind == PAIR_CERT_DEVICE &&
	    (pair_cert_ext(cert, NID_subject_key_identifier, "hash") != 0 ||
	    pair_cert_ext(cert, NID_key_usage,
	    "critical,digitalSignature,keyEncipherment") != 0))
		goto fail;
	if (X509_sign(cert, signer, EVP_sha1()) <= 0)
		goto fail;
	return (cert);

fail:
	X509_free(cert);
	return (NULL);
}

/* Copy a memory BIO's contents into an allocated buffer; NULL if empty. */
static char *
pair_bio_take(BIO *bio, size_t *len)
{
	char	*data, *buf;
	long	 n;

	if ((n = BIO_get_mem_data(bio, &data)) <= 0)
		return (NULL);
	buf = xmalloc((size_t)n);
	memcpy(buf, data, (size_t)n);
	*len = (size_t)n;
	return (buf);
}

/* Return a certificate as PEM "CERTIFICATE", allocated; NULL on error. */
static char *
pair_pem_cert(X509 *cert, size_t *len)
{
	BIO	*bio;
	char	*buf = NULL;

	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return (NULL);
	if (PEM_write_bio_X509(bio, cert) == 1)
		buf = pair_bio_take(bio, len);
	BIO_free(bio);
	return (buf);
}

/*
 * Return a private key as unencrypted PKCS#8 PEM ("PRIVATE KEY"), as
 * userpref.c's PEM_write_bio_PrivateKey writes it, allocated; NULL on
 * error. The BIO is a secure-heap one, cleared when freed; the caller
 * should wipe the buffer too.
 */
static char *
pair_pem_key(EVP_PKEY *key, size_t *len)
{
	BIO	*bio;
	char	*buf = NULL;

	if ((bio = BIO_new(BIO_s_secmem())) == NULL)
		return (NULL);
	if (PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL,
	    NULL) == 1)
		buf = pair_bio_take(bio, len);
	BIO_free(bio);
	return (buf);
}

/* Set dict[key] to a certificate's PEM as data. */
static int
pair_set_cert(plist_t dict, const char *key, X509 *cert)
{
	char	*pem;
	size_t	 len;

	if ((pem = pair_pem_cert(cert, &len)) == NULL)
		return (-1);
	plist_dict_set_item(dict, key, plist_new_data(pem, len));
	free(pem);
	return (0);
}

/* Set dict[key] to a private key's PKCS#8 PEM as data. */
static int
pair_set_key(plist_t dict, const char *key, EVP_PKEY *pkey)
{
	char	*pem;
	size_t	 len;

	if ((pem = pair_pem_key(pkey, &len)) == NULL)
		return (-1);
	plist_dict_set_item(dict, key, plist_new_data(pem, len));
	freezero(pem, len);
	return (0);
}

/* Return dict[key] if it is a string (borrowed from dict), else NULL. */
static const char *
pair_get_string(plist_t dict, const char *key)
{
	plist_t	node;

	node = plist_dict_get_item(dict, key);
	if (node == NULL || plist_get_node_type(node) != PLIST_STRING)
		return (NULL);
	return (plist_get_string_ptr(node, NULL));
}

/* Return dict[key] if it is data (borrowed from dict), else NULL. */
static const char *
pair_get_data(plist_t dict, const char *key, size_t *len)
{
	plist_t		 node;
	const char	*data;
	uint64_t	 n = 0;

	node = plist_dict_get_item(dict, key);
	if (node == NULL || plist_get_node_type(node) != PLIST_DATA)
		return (NULL);
	if ((data = plist_get_data_ptr(node, &n)) == NULL || n == 0 ||
	    n > INT_MAX)
		return (NULL);
	*len = (size_t)n;
	return (data);
}

/* Parse the PEM certificate in dict[key]; where names the dict. */
static X509 *
pair_get_cert(plist_t dict, const char *key, const char *where,
    char **cause)
{
	const char	*data;
	size_t		 len;
	BIO		*bio;
	X509		*cert;

	if ((data = pair_get_data(dict, key, &len)) == NULL) {
		pair_cause(cause, "%s: no %s data", where, key);
		return (NULL);
	}
	if ((bio = BIO_new_mem_buf(data, (int)len)) == NULL) {
		pair_cause_ssl(cause, "%s: %s", where, key);
		return (NULL);
	}
	cert = PEM_read_bio_X509(bio, NULL, pair_no_password, NULL);
	BIO_free(bio);
	if (cert == NULL)
		pair_cause_ssl(cause, "%s: %s", where, key);
	return (cert);
}

/* Parse the PEM private key in dict[key]; where names the dict. */
static EVP_PKEY *
pair_get_key(plist_t dict, const char *key, const char *where,
    char **cause)
{
	const char	*data;
	size_t		 len;
	BIO		*bio;
	EVP_PKEY	*pkey;

	if ((data = pair_get_data(dict, key, &len)) == NULL) {
		pair_cause(cause, "%s: no %s data", where, key);
		return (NULL);
	}
	if ((bio = BIO_new_mem_buf(data, (int)len)) == NULL) {
		pair_cause_ssl(cause, "%s: %s", where, key);
		return (NULL);
	}
	pkey = PEM_read_bio_PrivateKey(bio, NULL, pair_no_password, NULL);
	BIO_free(bio);
	if (pkey == NULL)
		pair_cause_ssl(cause, "%s: %s", where, key);
	return (pkey);
}

/* Check that a private key is the one its certificate carries. */
static int
pair_check_key(X509 *cert, EVP_PKEY *pkey, const char *name,
    const char *where, char **cause)
{
	if (X509_check_private_key(cert, pkey) != 1) {
		pair_cause_ssl(cause, "%s: %sPrivateKey does not match "
		    "%sCertificate", where, name, name);
		return (-1);
	}
	return (0);
}

/*
 * Fill p, which is all NULL, from a save file's dict. Returns 0, or -1
 * with *cause and p partly filled (the caller releases it).
 */
static int
pair_from_file(struct sim_pairing *p, plist_t dict, const char *path,
    const char *udid, char **cause)
{
	plist_t		 node;
	const char	*s;
	uint64_t	 version = 0;

	node = plist_dict_get_item(dict, "Version");
	if (node != NULL && plist_get_node_type(node) == PLIST_UINT)
		plist_get_uint_val(node, &version);
	if (version != PAIR_FILE_VERSION) {
		pair_cause(cause, "%s: not a version %d pairing file", path,
		    PAIR_FILE_VERSION);
		return (-1);
	}
	if ((s = pair_get_string(dict, "UDID")) == NULL ||
	    strcmp(s, udid) != 0) {
		pair_cause(cause, "%s: UDID is not %s", path, udid);
		return (-1);
	}
	p->udid = xstrdup(s);
	if ((s = pair_get_string(dict, "HostID")) == NULL || *s == '\0') {
		pair_cause(cause, "%s: no HostID", path);
		return (-1);
	}
	p->host_id = xstrdup(s);
	if ((s = pair_get_string(dict, "SystemBUID")) == NULL) {
		pair_cause(cause, "%s: no SystemBUID", path);
		return (-1);
	}
	p->system_buid = xstrdup(s);
	if ((s = pair_get_string(dict, "WiFiMACAddress")) != NULL)
		p->wifi_mac = xstrdup(s);

	if ((p->device_cert = pair_get_cert(dict, "DeviceCertificate", path,
	    cause)) == NULL ||
	    (p->root_cert = pair_get_cert(dict, "RootCertificate", path,
	    cause)) == NULL ||
	    (p->host_cert = pair_get_cert(dict, "HostCertificate", path,
	    cause)) == NULL)
		return (-1);
	if ((p->device_key = pair_get_key(dict, "DevicePrivateKey", path,
	    cause)) == NULL ||
	    pair_check_key(p->device_cert, p->device_key, "Device", path,
	    cause) != 0)
		return (-1);

	if (pair_load_others(p, dict, path, cause) != 0)
		return (-1);

	/* The host's keys are there only if the simulator made them. */
	if (plist_dict_get_item(dict, "RootPrivateKey") == NULL &&
	    plist_dict_get_item(dict, "HostPrivateKey") == NULL)
		return (0);
	if ((p->root_key = pair_get_key(dict, "RootPrivateKey", path,
	    cause)) == NULL ||
	    pair_check_key(p->root_cert, p->root_key, "Root", path,
	    cause) != 0 ||
	    (p->host_key = pair_get_key(dict, "HostPrivateKey", path,
	    cause)) == NULL ||
	    pair_check_key(p->host_cert, p->host_key, "Host", path,
	    cause) != 0)
		return (-1);
	return (0);
}

/* Add the earlier hosts to a save file's dict as OtherHosts. */
static int
pair_save_others(plist_t dict, const struct sim_pairing *sp)
{
	plist_t	array, h;
	size_t	i;

	if (sp->nothers == 0)
		return (0);
	array = plist_new_array();
	plist_dict_set_item(dict, "OtherHosts", array);
	for (i = 0; i < sp->nothers; i++) {
		h = plist_new_dict();
		plist_array_append_item(array, h);
		plist_dict_set_item(h, "HostID",
		    plist_new_string(sp->others[i].host_id));
		if (pair_set_cert(h, "RootCertificate",
		    sp->others[i].root_cert) != 0 ||
		    pair_set_cert(h, "HostCertificate",
		    sp->others[i].host_cert) != 0)
			return (-1);
	}
	return (0);
}

/* Read the earlier hosts of a save file's dict, if it has any. */
static int
pair_load_others(struct sim_pairing *p, plist_t dict, const char *path,
    char **cause)
{
	plist_t		 array, h;
	const char	*id;
	X509		*root, *host;
	uint32_t	 i, n;

	array = plist_dict_get_item(dict, "OtherHosts");
	if (array == NULL)
		return (0);
	if (plist_get_node_type(array) != PLIST_ARRAY) {
		pair_cause(cause, "%s: OtherHosts is not an array", path);
		return (-1);
	}
	n = plist_array_get_size(array);
	for (i = 0; i < n; i++) {
		h = plist_array_get_item(array, i);
		if (plist_get_node_type(h) != PLIST_DICT ||
		    (id = pair_get_string(h, "HostID")) == NULL ||
		    *id == '\0') {
			pair_cause(cause, "%s: OtherHosts %u: no HostID",
			    path, i);
			return (-1);
		}
		if ((root = pair_get_cert(h, "RootCertificate", path,
		    cause)) == NULL)
			return (-1);
		if ((host = pair_get_cert(h, "HostCertificate", path,
		    cause)) == NULL) {
			X509_free(root);
			return (-1);
		}
		pair_host_add(p, xstrdup(id), root, host);
	}
	return (0);
}

/* Write all of buf to fd. */
static int
pair_write_all(int fd, const char *buf, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		buf += n;
		len -= (size_t)n;
	}
	return (0);
}

/*
 * Read a whole regular file of at most PAIR_FILE_MAX bytes. Returns the
 * contents (allocated) and their size; NULL with *missing set if there
 * is no file, or NULL with *cause on any other failure.
 */
static char *
pair_read_file(const char *path, size_t *len, int *missing, char **cause)
{
	struct stat	 st;
	char		*buf = NULL;
	size_t		 done = 0;
	ssize_t		 n;
	int		 fd;

	*missing = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		if (errno == ENOENT)
			*missing = 1;
		else
			pair_cause(cause, "%s: %s", path, strerror(errno));
		return (NULL);
	}
	if (fstat(fd, &st) == -1) {
		pair_cause(cause, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		pair_cause(cause, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_size <= 0 || st.st_size > PAIR_FILE_MAX) {
		pair_cause(cause, "%s: size %lld out of range", path,
		    (long long)st.st_size);
		goto out;
	}
	*len = (size_t)st.st_size;
	buf = xmalloc(*len);
	while (done < *len) {
		n = read(fd, buf + done, *len - done);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			pair_cause(cause, "%s: %s", path, n == 0 ?
			    "file shrank while read" : strerror(errno));
			freezero(buf, *len);
			buf = NULL;
			goto out;
		}
		done += (size_t)n;
	}

out:
	(void)close(fd);
	return (buf);
}

/* Free an earlier host's members. */
static void
pair_host_free(struct sim_pair_host *h)
{
	free(h->host_id);
	X509_free(h->root_cert);
	X509_free(h->host_cert);
	memset(h, 0, sizeof(*h));
}

/* Drop the earlier host at index i, keeping the others' order. */
static void
pair_host_drop(struct sim_pairing *sp, size_t i)
{
	pair_host_free(&sp->others[i]);
	memmove(&sp->others[i], &sp->others[i + 1],
	    (sp->nothers - i - 1) * sizeof(*sp->others));
	sp->nothers--;
}

/* Add an earlier host, taking its members; the oldest goes when full. */
static void
pair_host_add(struct sim_pairing *sp, char *host_id, X509 *root,
    X509 *host)
{
	struct sim_pair_host	*h;

	if (sp->nothers == PAIR_HOSTS_MAX)
		pair_host_drop(sp, 0);
	sp->others = xreallocarray(sp->others, sp->nothers + 1,
	    sizeof(*sp->others));
	h = &sp->others[sp->nothers++];
	h->host_id = host_id;
	h->root_cert = root;
	h->host_cert = host;
}

/* The index of the earlier host host_id, or -1. */
static ssize_t
pair_host_find(const struct sim_pairing *sp, const char *host_id)
{
	size_t	i;

	for (i = 0; i < sp->nothers; i++) {
		if (strcmp(sp->others[i].host_id, host_id) == 0)
			return ((ssize_t)i);
	}
	return (-1);
}

/*
 * A new 2048-bit RSA key: the next unused one of the key pool, or a
 * generated one. The pool is a directory of PEM private keys named
 * key-0.pem, key-1.pem and so on (LINKQ_SIM_KEY_POOL, linkq-sim(1)),
 * which a test suite makes once: generating a key costs about a quarter
 * of a second of CPU and every simulated device needs three, so fifty
 * test scripts spent minutes on it. A key is only random material, so
 * taking it from a file changes nothing a client sees; each one is
 * handed out once per process, and past the end of the pool, or on a
 * file that is not such a key, keys are generated as without a pool.
 * Any thread.
 */
static EVP_PKEY *
pair_rsa_key(void)
{
	static atomic_uint	 next;
	const char		*pool;
	char			 path[PATH_MAX];
	BIO			*bio;
	EVP_PKEY		*pkey = NULL;
	int			 n;

	pool = getenv("LINKQ_SIM_KEY_POOL");
	if (pool == NULL || *pool == '\0')
		return (EVP_RSA_gen(PAIR_RSA_BITS));
	n = snprintf(path, sizeof(path), "%s/key-%u.pem", pool,
	    atomic_fetch_add(&next, 1));
	if (n < 0 || (size_t)n >= sizeof(path) ||
	    (bio = BIO_new_file(path, "r")) == NULL) {
		ERR_clear_error();
		return (EVP_RSA_gen(PAIR_RSA_BITS));
	}
	pkey = PEM_read_bio_PrivateKey(bio, NULL, pair_no_password, NULL);
	BIO_free(bio);
	if (pkey == NULL || !EVP_PKEY_is_a(pkey, "RSA") ||
	    EVP_PKEY_get_bits(pkey) != PAIR_RSA_BITS) {
		log_warnx("%s: not a %d-bit RSA private key; generating one",
		    path, PAIR_RSA_BITS);
		EVP_PKEY_free(pkey);
		ERR_clear_error();
		return (EVP_RSA_gen(PAIR_RSA_BITS));
	}
	return (pkey);
}

/* Generate a device and its host's keys and certificates. */
int
pair_generate(struct sim_pairing *sp, const char *udid,
    const char *system_buid, char **cause)
{
	struct sim_pairing	p;
	int			ret = -1;

	memset(sp, 0, sizeof(*sp));
	memset(&p, 0, sizeof(p));
	if (pair_check_udid(udid, cause) != 0)
		goto out;
	p.udid = xstrdup(udid);
	if ((p.host_id = pair_uuid()) == NULL ||
	    (system_buid == NULL && (p.system_buid = pair_uuid()) == NULL)) {
		pair_cause_ssl(cause, "RAND_bytes");
		goto out;
	}
	if (system_buid != NULL)
		p.system_buid = xstrdup(system_buid);
	if ((p.wifi_mac = pair_wifi_mac(udid)) == NULL) {
		pair_cause_ssl(cause, "SHA-256 of the udid");
		goto out;
	}
	if ((p.device_key = pair_rsa_key()) == NULL ||
	    (p.root_key = pair_rsa_key()) == NULL ||
	    (p.host_key = pair_rsa_key()) == NULL) {
		pair_cause_ssl(cause, "RSA key generation");
		goto out;
	}
	if ((p.root_cert = pair_cert_new(PAIR_CERT_ROOT, p.root_key,
	    p.root_key)) == NULL ||
	    (p.host_cert = pair_cert_new(PAIR_CERT_HOST, p.host_key,
	    p.root_key)) == NULL ||
	    (p.device_cert = pair_cert_new(PAIR_CERT_DEVICE, p.device_key,
	    p.root_key)) == NULL) {
		pair_cause_ssl(cause, "certificate");
		goto out;
	}
	*sp = p;
	memset(&p, 0, sizeof(p));
	ret = 0;

out:
	pair_release(&p);
	return (ret);
}

/* Free a pairing's members. */
void
pair_release(struct sim_pairing *sp)
{
	if (sp == NULL)
		return;
	free(sp->udid);
	free(sp->host_id);
	free(sp->system_buid);
	EVP_PKEY_free(sp->device_key);
	X509_free(sp->device_cert);
	EVP_PKEY_free(sp->root_key);
	X509_free(sp->root_cert);
	EVP_PKEY_free(sp->host_key);
	X509_free(sp->host_cert);
	free(sp->wifi_mac);
	while (sp->nothers > 0)
		pair_host_free(&sp->others[--sp->nothers]);
	free(sp->others);
	memset(sp, 0, sizeof(*sp));
}

/* Save a pairing to DIR/<udid>.plist. */
int
pair_save(const struct sim_pairing *sp, const char *dir, char **cause)
{
	plist_t		 dict = NULL;
	char		*xml = NULL, *path = NULL, *tmp = NULL;
	uint32_t	 xmllen = 0;
	int		 fd = -1, ret = -1;

	if (pair_check_udid(sp->udid, cause) != 0)
		return (-1);
	if (sp->host_id == NULL || sp->system_buid == NULL ||
	    sp->device_key == NULL || sp->device_cert == NULL ||
	    sp->root_cert == NULL || sp->host_cert == NULL ||
	    (sp->root_key == NULL) != (sp->host_key == NULL)) {
		pair_cause(cause, "%s: incomplete pairing", sp->udid);
		return (-1);
	}

	dict = plist_new_dict();
	plist_dict_set_item(dict, "Version", plist_new_uint(PAIR_FILE_VERSION));
	plist_dict_set_item(dict, "UDID", plist_new_string(sp->udid));
	plist_dict_set_item(dict, "HostID", plist_new_string(sp->host_id));
	plist_dict_set_item(dict, "SystemBUID",
	    plist_new_string(sp->system_buid));
	if (sp->wifi_mac != NULL)
		plist_dict_set_item(dict, "WiFiMACAddress",
		    plist_new_string(sp->wifi_mac));
	if (pair_set_cert(dict, "DeviceCertificate", sp->device_cert) != 0 ||
	    pair_set_key(dict, "DevicePrivateKey", sp->device_key) != 0 ||
	    pair_set_cert(dict, "RootCertificate", sp->root_cert) != 0 ||
	    pair_set_cert(dict, "HostCertificate", sp->host_cert) != 0 ||
	    (sp->root_key != NULL &&
	    (pair_set_key(dict, "RootPrivateKey", sp->root_key) != 0 ||
	    pair_set_key(dict, "HostPrivateKey", sp->host_key) != 0)) ||
	    pair_save_others(dict, sp) != 0) {
		pair_cause_ssl(cause, "%s: PEM encoding", sp->udid);
		goto out;
	}
	plist_to_xml(dict, &xml, &xmllen);
	if (xml == NULL || xmllen == 0) {
		pair_cause(cause, "%s: plist_to_xml failed", sp->udid);
		goto out;
	}

	xasprintf(&path, "%s/%s.plist", dir, sp->udid);
	xasprintf(&tmp, "%s/.%s.plist.XXXXXX", dir, sp->udid);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		pair_cause(cause, "%s: %s", tmp, strerror(errno));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	if (fchmod(fd, S_IRUSR | S_IWUSR) == -1 ||
	    pair_write_all(fd, xml, xmllen) == -1 || fsync(fd) == -1) {
		pair_cause(cause, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) == -1) {
		fd = -1;
		pair_cause(cause, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		pair_cause(cause, "%s: %s", path, strerror(errno));
		goto out;
	}
	ret = 0;

out:
	if (fd != -1)
		(void)close(fd);
	if (ret != 0 && tmp != NULL)
		(void)unlink(tmp);
	if (xml != NULL) {
		explicit_bzero(xml, xmllen);
		plist_to_xml_free(xml);
	}
	plist_free(dict);
	free(path);
	free(tmp);
	return (ret);
}

/* Load a pairing from DIR/<udid>.plist. */
int
pair_load(struct sim_pairing *sp, const char *dir, const char *udid,
    char **cause)
{
	struct sim_pairing	 p;
	plist_t			 dict = NULL;
	char			*path = NULL, *buf = NULL;
	size_t			 len = 0;
	int			 missing, ret = -1;

	memset(sp, 0, sizeof(*sp));
	memset(&p, 0, sizeof(p));
	if (pair_check_udid(udid, cause) != 0)
		return (-1);
	xasprintf(&path, "%s/%s.plist", dir, udid);
	if ((buf = pair_read_file(path, &len, &missing, cause)) == NULL) {
		if (missing)
			ret = 0;
		goto out;
	}
	plist_from_xml(buf, (uint32_t)len, &dict);
	if (dict == NULL || plist_get_node_type(dict) != PLIST_DICT) {
		pair_cause(cause, "%s: not an XML property list dict", path);
		goto out;
	}
	if (pair_from_file(&p, dict, path, udid, cause) != 0)
		goto out;
	*sp = p;
	memset(&p, 0, sizeof(p));
	ret = 1;

out:
	pair_release(&p);
	plist_free(dict);
	if (buf != NULL)
		freezero(buf, len);
	free(path);
	return (ret);
}

/* Build the binary pair record that ReadPairRecord serves. */
int
pair_record(const struct sim_pairing *sp, char **buf, uint32_t *len)
{
	plist_t		 dict = NULL;
	char		*bin = NULL, err[256];
	uint32_t	 binlen = 0;
	int		 ret = -1;

	*buf = NULL;
	*len = 0;
	if (sp->udid == NULL || sp->host_id == NULL ||
	    sp->system_buid == NULL || sp->device_cert == NULL ||
	    sp->root_cert == NULL || sp->host_cert == NULL) {
		log_warnx("%s: incomplete pairing", __func__);
		return (-1);
	}

	/* The keys in the order a saved record lists them. */
	dict = plist_new_dict();
	if (pair_set_cert(dict, "DeviceCertificate", sp->device_cert) != 0 ||
	    pair_set_cert(dict, "HostCertificate", sp->host_cert) != 0) {
		log_warnx("%s: %s: PEM encoding: %s", __func__, sp->udid,
		    pair_ssl_error(err, sizeof(err)));
		goto out;
	}
	plist_dict_set_item(dict, "HostID", plist_new_string(sp->host_id));
	if ((sp->host_key != NULL &&
	    pair_set_key(dict, "HostPrivateKey", sp->host_key) != 0) ||
	    pair_set_cert(dict, "RootCertificate", sp->root_cert) != 0 ||
	    (sp->root_key != NULL &&
	    pair_set_key(dict, "RootPrivateKey", sp->root_key) != 0)) {
		log_warnx("%s: %s: PEM encoding: %s", __func__, sp->udid,
		    pair_ssl_error(err, sizeof(err)));
		goto out;
	}
	plist_dict_set_item(dict, "SystemBUID",
	    plist_new_string(sp->system_buid));
	if (sp->wifi_mac != NULL)
		plist_dict_set_item(dict, "WiFiMACAddress",
		    plist_new_string(sp->wifi_mac));

	plist_to_bin(dict, &bin, &binlen);
	if (bin == NULL || binlen == 0) {
		log_warnx("%s: %s: plist_to_bin failed", __func__, sp->udid);
		goto out;
	}
	*buf = xmalloc(binlen);
	memcpy(*buf, bin, binlen);
	*len = binlen;
	ret = 0;

out:
	if (bin != NULL) {
		explicit_bzero(bin, binlen);
		plist_to_bin_free(bin);
	}
	plist_free(dict);
	return (ret);
}

/* Encode the device public key as PKCS#1 PEM, for GetValue. */
int
pair_device_public_key(const struct sim_pairing *sp, char **buf,
    size_t *len)
{
	OSSL_ENCODER_CTX	*ectx = NULL;
	unsigned char		*data = NULL;
	size_t			 n = 0;
	char			 err[256];
	int			 ret = -1;

	*buf = NULL;
	*len = 0;
	if (sp->device_key == NULL) {
		log_warnx("%s: no device key", __func__);
		return (-1);
	}
	/* "type-specific": RSAPublicKey (PKCS#1), not SubjectPublicKeyInfo. */
	ectx = OSSL_ENCODER_CTX_new_for_pkey(sp->device_key,
	    EVP_PKEY_PUBLIC_KEY, "PEM", "type-specific", NULL);
	if (ectx == NULL || OSSL_ENCODER_CTX_get_num_encoders(ectx) == 0 ||
	    OSSL_ENCODER_to_data(ectx, &data, &n) != 1 || n == 0) {
		log_warnx("%s: %s", __func__, pair_ssl_error(err, sizeof(err)));
		goto out;
	}
	*buf = xmalloc(n);
	memcpy(*buf, data, n);
	*len = n;
	ret = 0;

out:
	OPENSSL_free(data);
	OSSL_ENCODER_CTX_free(ectx);
	return (ret);
}

/* Take over the host half of the pairing from a Pair request's record. */
int
pair_accept_host(struct sim_pairing *sp, plist_t record, char **cause)
{
	const char	*host_id, *buid;
	X509		*root = NULL, *host = NULL, *device = NULL;
	EVP_PKEY	*root_pub;
	ssize_t		 i;
	int		 ret = -1;

	if (record == NULL || plist_get_node_type(record) != PLIST_DICT) {
		pair_cause(cause, "PairRecord is not a dictionary");
		return (-1);
	}
	if (sp->device_key == NULL) {
		pair_cause(cause, "no device key to pair");
		return (-1);
	}
	if ((host_id = pair_get_string(record, "HostID")) == NULL ||
	    *host_id == '\0') {
		pair_cause(cause, "PairRecord: no HostID");
		return (-1);
	}
	if ((buid = pair_get_string(record, "SystemBUID")) == NULL ||
	    *buid == '\0') {
		pair_cause(cause, "PairRecord: no SystemBUID");
		return (-1);
	}
	if ((root = pair_get_cert(record, "RootCertificate", "PairRecord",
	    cause)) == NULL ||
	    (host = pair_get_cert(record, "HostCertificate", "PairRecord",
	    cause)) == NULL ||
	    (device = pair_get_cert(record, "DeviceCertificate", "PairRecord",
	    cause)) == NULL)
		goto out;
	if (EVP_PKEY_eq(X509_get0_pubkey(device), sp->device_key) != 1) {
		ERR_clear_error();
		pair_cause(cause, "PairRecord: DeviceCertificate is not over "
		    "this device's public key");
		goto out;
	}
	if ((root_pub = X509_get0_pubkey(root)) == NULL) {
		pair_cause_ssl(cause, "PairRecord: RootCertificate key");
		goto out;
	}
	if (X509_verify(device, root_pub) != 1) {
		pair_cause_ssl(cause, "PairRecord: DeviceCertificate is not "
		    "signed by RootCertificate");
		goto out;
	}
	if (X509_verify(host, root_pub) != 1) {
		pair_cause_ssl(cause, "PairRecord: HostCertificate is not "
		    "signed by RootCertificate");
		goto out;
	}

	/* The earlier host stays trusted; the same HostID pairs anew. */
	while ((i = pair_host_find(sp, host_id)) != -1)
		pair_host_drop(sp, (size_t)i);
	if (strcmp(sp->host_id, host_id) != 0) {
		pair_host_add(sp, sp->host_id, sp->root_cert, sp->host_cert);
		sp->host_id = NULL;
		sp->root_cert = sp->host_cert = NULL;
	}
	free(sp->host_id);
	sp->host_id = xstrdup(host_id);
	free(sp->system_buid);
	sp->system_buid = xstrdup(buid);
	X509_free(sp->root_cert);
	sp->root_cert = root;
	X509_free(sp->host_cert);
	sp->host_cert = host;
	X509_free(sp->device_cert);
	sp->device_cert = device;
	root = host = device = NULL;
	EVP_PKEY_free(sp->root_key);
	sp->root_key = NULL;
	EVP_PKEY_free(sp->host_key);
	sp->host_key = NULL;
	ret = 0;

out:
	X509_free(root);
	X509_free(host);
	X509_free(device);
	return (ret);
}

/* Whether cert is the trusted root certificate. */
int
pair_is_trusted_root(const struct sim_pairing *sp, X509 *cert)
{
	if (sp == NULL || sp->root_cert == NULL || cert == NULL)
		return (0);
	return (X509_cmp(sp->root_cert, cert) == 0);
}

/* Whether cert is a trusted host's root or host certificate. */
int
pair_is_trusted_cert(const struct sim_pairing *sp, X509 *cert)
{
	const struct sim_pair_host	*h;
	size_t				 i;

	if (sp == NULL || cert == NULL)
		return (0);
	if ((sp->root_cert != NULL && X509_cmp(sp->root_cert, cert) == 0) ||
	    (sp->host_cert != NULL && X509_cmp(sp->host_cert, cert) == 0))
		return (1);
	for (i = 0; i < sp->nothers; i++) {
		h = &sp->others[i];
		if (X509_cmp(h->root_cert, cert) == 0 ||
		    X509_cmp(h->host_cert, cert) == 0)
			return (1);
	}
	return (0);
}

/* Whether a StartSession HostID is a trusted host's. */
int
pair_host_id_matches(const struct sim_pairing *sp, const char *host_id)
{
	if (sp == NULL || sp->host_id == NULL || host_id == NULL)
		return (0);
	return (strcmp(sp->host_id, host_id) == 0 ||
	    pair_host_find(sp, host_id) != -1);
}

/* Forget one trusted host; the latest earlier one may take its place. */
int
pair_forget_host(struct sim_pairing *sp, const char *host_id)
{
	struct sim_pair_host	*h;
	ssize_t			 i;

	if (sp == NULL || sp->host_id == NULL || host_id == NULL)
		return (-1);
	if ((i = pair_host_find(sp, host_id)) != -1) {
		pair_host_drop(sp, (size_t)i);
		return ((int)sp->nothers + 1);
	}
	if (strcmp(sp->host_id, host_id) != 0)
		return (-1);
	if (sp->nothers == 0)
		return (0);
	h = &sp->others[--sp->nothers];
	free(sp->host_id);
	X509_free(sp->root_cert);
	X509_free(sp->host_cert);
	EVP_PKEY_free(sp->root_key);
	EVP_PKEY_free(sp->host_key);
	sp->host_id = h->host_id;
	sp->root_cert = h->root_cert;
	sp->host_cert = h->host_cert;
	sp->root_key = sp->host_key = NULL;
	memset(h, 0, sizeof(*h));
	return ((int)sp->nothers + 1);
}

/* Forget the earlier hosts. */
void
pair_forget_others(struct sim_pairing *sp)
{
	while (sp->nothers > 0)
		pair_host_drop(sp, sp->nothers - 1);
}
