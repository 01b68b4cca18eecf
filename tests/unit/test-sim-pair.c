/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Unit tests for the simulator's pairing material (sim/pair.c): the
 * certificates follow libimobiledevice's recipe field for field, the
 * pair record is the binary plist libimobiledevice reads, the bytes pass
 * the very OpenSSL calls libimobiledevice 1.3.0 makes on them (legacy
 * RSA readers, SSL_CTX_use_RSAPrivateKey, a TLS handshake with its
 * client settings), save and load round-trip, bad files are refused and
 * left alone, and a real host's Pair record moves the trust to it.
 *
 * Two pairings are generated once for the whole group (RSA key
 * generation is the slow part); each test gets a private directory.
 */

/*
 * libimobiledevice reads DevicePublicKey with PEM_read_bio_RSAPublicKey
 * and RootPrivateKey with PEM_read_bio_RSAPrivateKey, and hands the key
 * to SSL_CTX_use_RSAPrivateKey; all are deprecated in OpenSSL 3. The
 * fidelity tests call exactly those, so the deprecation warnings (which
 * -Werror would turn into errors) are silenced in this file only.
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <plist/plist.h>

#include "compat/compat.h"
#include "log.h"
#include "pair.h"
#include "xmalloc.h"

#define UDID_A	"00008030-001A2B3C4D5E6F70"
#define UDID_B	"00008101-000C11D22E33F440"
#define BUID_A	"6A0F2E5B-3C1D-4E7F-8A9B-0C1D2E3F4A5B"

/* Two devices paired with two simulated hosts, and the test directory. */
static struct sim_pairing	pa, pb;
static char			tmpdir[64];

static const char *const record_keys[] = {
	"DeviceCertificate", "HostCertificate", "HostID", "HostPrivateKey",
	"RootCertificate", "RootPrivateKey", "SystemBUID", "WiFiMACAddress",
};

/* Generate the group's two pairings (the second with its own BUID). */
static int
group_setup(__unused void **state)
{
	char	*cause = NULL;

	if (pair_generate(&pa, UDID_A, BUID_A, &cause) != 0 ||
	    pair_generate(&pb, UDID_B, NULL, &cause) != 0) {
		print_error("pair_generate: %s\n", cause);
		free(cause);
		return (-1);
	}
	return (0);
}

/* Free the group's pairings. */
static int
group_teardown(__unused void **state)
{
	pair_release(&pa);
	pair_release(&pb);
	return (0);
}

/* Make the test's private directory. */
static int
setup(__unused void **state)
{
	(void)strlcpy(tmpdir, "/tmp/lq-test-sim-pair-XXXXXX",
	    sizeof(tmpdir));
	if (mkdtemp(tmpdir) == NULL)
		return (-1);
	return (0);
}

/* Remove the directory and the files in it. */
static int
teardown(__unused void **state)
{
	struct dirent	*de;
	DIR		*dir;
	int		 fd, ret = 0;

	if ((dir = opendir(tmpdir)) == NULL)
		return (-1);
	fd = dirfd(dir);
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(fd, de->d_name, 0) == -1)
			ret = -1;
	}
	(void)closedir(dir);
	if (rmdir(tmpdir) == -1)
		ret = -1;
	return (ret);
}

/* Return the number of entries in the test directory. */
static int
count_files(void)
{
	struct dirent	*de;
	DIR		*dir;
	int		 n = 0;

	assert_non_null(dir = opendir(tmpdir));
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	}
	(void)closedir(dir);
	return (n);
}

/* Return the path of a udid's file in the test directory, allocated. */
static char *
file_path(const char *udid)
{
	char	*path;

	xasprintf(&path, "%s/%s.plist", tmpdir, udid);
	return (path);
}

/* Replace a file's contents. */
static void
write_file(const char *path, const void *data, size_t len)
{
	FILE	*f;

	assert_non_null(f = fopen(path, "w"));
	if (len > 0)
		assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Return a file's contents, allocated, and their size. */
static char *
read_file(const char *path, size_t *len)
{
	struct stat	 st;
	FILE		*f;
	char		*buf;

	assert_int_equal(stat(path, &st), 0);
	*len = (size_t)st.st_size;
	buf = xmalloc(*len + 1);
	assert_non_null(f = fopen(path, "r"));
	assert_int_equal(fread(buf, 1, *len, f), *len);
	(void)fclose(f);
	return (buf);
}

/* Fail unless every member of a pairing is NULL. */
static void
assert_empty(const struct sim_pairing *sp)
{
	struct sim_pairing	zero;

	memset(&zero, 0, sizeof(zero));
	assert_memory_equal(sp, &zero, sizeof(zero));
}

/* Return the pair record of a pairing parsed back into a dict. */
static plist_t
record_dict(const struct sim_pairing *sp)
{
	plist_t		 dict = NULL;
	char		*buf;
	uint32_t	 len;

	assert_int_equal(pair_record(sp, &buf, &len), 0);
	assert_true(len > 8);
	assert_memory_equal(buf, "bplist00", 8);
	plist_from_bin(buf, len, &dict);
	freezero(buf, len);
	assert_non_null(dict);
	assert_int_equal(plist_get_node_type(dict), PLIST_DICT);
	return (dict);
}

/* Return dict[key], which must be data, borrowed. */
static const char *
dict_data(plist_t dict, const char *key, size_t *len)
{
	plist_t		 node;
	const char	*data;
	uint64_t	 n = 0;

	node = plist_dict_get_item(dict, key);
	if (node == NULL || plist_get_node_type(node) != PLIST_DATA)
		fail_msg("%s: missing or not data", key);
	assert_non_null(data = plist_get_data_ptr(node, &n));
	*len = (size_t)n;
	return (data);
}

/* Return dict[key], which must be a string, borrowed. */
static const char *
dict_string(plist_t dict, const char *key)
{
	plist_t	node;

	node = plist_dict_get_item(dict, key);
	if (node == NULL || plist_get_node_type(node) != PLIST_STRING)
		fail_msg("%s: missing or not a string", key);
	return (plist_get_string_ptr(node, NULL));
}

/* Parse the PEM certificate in dict[key] as libimobiledevice does. */
static X509 *
dict_cert(plist_t dict, const char *key)
{
	const char	*data;
	size_t		 len;
	BIO		*bio;
	X509		*cert;

	data = dict_data(dict, key, &len);
	assert_true(len > 27);
	assert_memory_equal(data, "-----BEGIN CERTIFICATE-----\n", 28);
	assert_non_null(bio = BIO_new_mem_buf(data, (int)len));
	cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	assert_non_null(cert);
	return (cert);
}

/* Parse the PEM private key in dict[key] with the legacy RSA reader. */
static RSA *
dict_rsa_key(plist_t dict, const char *key)
{
	const char	*data;
	size_t		 len;
	BIO		*bio;
	RSA		*rsa;

	data = dict_data(dict, key, &len);
	assert_true(len > 28);
	assert_memory_equal(data, "-----BEGIN PRIVATE KEY-----\n", 28);
	assert_non_null(bio = BIO_new_mem_buf(data, (int)len));
	rsa = PEM_read_bio_RSAPrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	assert_non_null(rsa);
	return (rsa);
}

/* Whether an RSA key (private or public) is the same as an EVP key. */
static int
rsa_matches(RSA *rsa, EVP_PKEY *key)
{
	EVP_PKEY	*pkey;
	int		 eq;

	assert_non_null(pkey = EVP_PKEY_new());
	assert_int_equal(RSA_up_ref(rsa), 1);
	assert_int_equal(EVP_PKEY_assign_RSA(pkey, rsa), 1);
	eq = EVP_PKEY_eq(pkey, key) == 1;
	EVP_PKEY_free(pkey);
	return (eq);
}

/*
 * Return 1 if cert has the extension and it is critical, 0 if it is not
 * critical, -1 if it is absent.
 */
static int
ext_critical(X509 *cert, int nid)
{
	int	i;

	if ((i = X509_get_ext_by_NID(cert, nid, -1)) < 0)
		return (-1);
	return (X509_EXTENSION_get_critical(X509_get_ext(cert, i)));
}

/* Check what every certificate of the recipe shares. */
static void
assert_recipe(X509 *cert, EVP_PKEY *signer)
{
	int	days, secs;

	assert_int_equal(X509_get_version(cert), X509_VERSION_3);
	assert_int_equal(ASN1_INTEGER_get(X509_get0_serialNumber(cert)), 0);
	assert_int_equal(X509_NAME_entry_count(X509_get_subject_name(cert)),
	    0);
	assert_int_equal(X509_NAME_entry_count(X509_get_issuer_name(cert)),
	    0);
	assert_int_equal(X509_get_signature_nid(cert),
	    NID_sha1WithRSAEncryption);
	assert_int_equal(X509_verify(cert, signer), 1);
	assert_int_equal(ASN1_TIME_diff(&days, &secs,
	    X509_get0_notBefore(cert), X509_get0_notAfter(cert)), 1);
	assert_int_equal(days, 365 * 10);
	assert_int_equal(secs, 0);
	assert_int_equal(X509_cmp_current_time(X509_get0_notBefore(cert)),
	    -1);
}

/* Check an RSA 2048 key with e = 65537. */
static void
assert_rsa2048(EVP_PKEY *key)
{
	BIGNUM	*e = NULL;

	assert_int_equal(EVP_PKEY_get_base_id(key), EVP_PKEY_RSA);
	assert_int_equal(EVP_PKEY_get_bits(key), 2048);
	assert_int_equal(EVP_PKEY_get_bn_param(key, "e", &e), 1);
	assert_true(BN_is_word(e, 65537));
	BN_free(e);
}

/* Check a HostID or BUID: 36 chars, uppercase hex, dashes in place. */
static void
assert_uuid(const char *s)
{
	size_t	i;

	assert_non_null(s);
	assert_int_equal(strlen(s), 36);
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			assert_int_equal(s[i], '-');
		else if (strchr("0123456789ABCDEF", s[i]) == NULL ||
		    s[i] == '\0')
			fail_msg("%s: bad character at %zu", s, i);
	}
}

/* Add a certificate's PEM to a dict as data. */
static void
set_cert(plist_t dict, const char *key, X509 *cert)
{
	BIO	*bio;
	char	*data;
	long	 len;

	assert_non_null(bio = BIO_new(BIO_s_mem()));
	assert_int_equal(PEM_write_bio_X509(bio, cert), 1);
	len = BIO_get_mem_data(bio, &data);
	plist_dict_set_item(dict, key, plist_new_data(data, (uint64_t)len));
	BIO_free(bio);
}

/* Add one extension the way libimobiledevice's userpref.c does. */
static void
lidm_ext(X509 *cert, int nid, const char *value)
{
	X509V3_CTX	 ctx;
	X509_EXTENSION	*ext;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, NULL, cert, NULL, NULL, 0);
	assert_non_null(ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value));
	assert_int_equal(X509_add_ext(cert, ext, -1), 1);
	X509_EXTENSION_free(ext);
}

/*
 * Build the DeviceCertificate a libimobiledevice host makes when it
 * pairs: over the DevicePublicKey that lockdownd served (read with
 * PEM_read_bio_RSAPublicKey), signed with the host's root key.
 */
static X509 *
lidm_device_cert(const struct sim_pairing *device, EVP_PKEY *root_key)
{
	EVP_PKEY	*pkey;
	X509		*cert;
	BIO		*bio;
	RSA		*rsa = NULL;
	char		*pem;
	size_t		 len;
	time_t		 now = time(NULL);

	assert_int_equal(pair_device_public_key(device, &pem, &len), 0);
	assert_non_null(bio = BIO_new_mem_buf(pem, (int)len));
	assert_non_null(PEM_read_bio_RSAPublicKey(bio, &rsa, NULL, NULL));
	BIO_free(bio);
	free(pem);

	assert_non_null(cert = X509_new());
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(cert), 0), 1);
	assert_int_equal(X509_set_version(cert, 2), 1);
	lidm_ext(cert, NID_basic_constraints, "critical,CA:FALSE");
	assert_non_null(ASN1_TIME_set(X509_getm_notBefore(cert), now));
	assert_non_null(ASN1_TIME_set(X509_getm_notAfter(cert),
	    now + 60 * 60 * 24 * 365 * 10));
	assert_non_null(pkey = EVP_PKEY_new());
	assert_int_equal(EVP_PKEY_assign_RSA(pkey, rsa), 1);
	assert_int_equal(X509_set_pubkey(cert, pkey), 1);
	EVP_PKEY_free(pkey);
	lidm_ext(cert, NID_subject_key_identifier, "hash");
	lidm_ext(cert, NID_key_usage,
	    "critical,digitalSignature,keyEncipherment");
	assert_true(X509_sign(cert, root_key, EVP_sha1()) > 0);
	return (cert);
}

/*
 * Return the PairRecord of a lockdownd Pair request from host to device,
 * as libimobiledevice sends it: the private keys stripped.
 */
static plist_t
pair_request(const struct sim_pairing *host, X509 *device_cert)
{
	plist_t	dict;

	dict = plist_new_dict();
	set_cert(dict, "DeviceCertificate", device_cert);
	set_cert(dict, "HostCertificate", host->host_cert);
	plist_dict_set_item(dict, "HostID", plist_new_string(host->host_id));
	set_cert(dict, "RootCertificate", host->root_cert);
	plist_dict_set_item(dict, "SystemBUID",
	    plist_new_string(host->system_buid));
	return (dict);
}

/* Copy the group's first pairing through a save and a load. */
static void
copy_pa(struct sim_pairing *sp)
{
	char	*cause = NULL;

	if (pair_save(&pa, tmpdir, &cause) != 0)
		fail_msg("pair_save: %s", cause);
	if (pair_load(sp, tmpdir, UDID_A, &cause) != 1)
		fail_msg("pair_load: %s", cause);
}

/* Every member is set, and the BUID given is the one kept. */
static void
test_generate(__unused void **state)
{
	assert_string_equal(pa.udid, UDID_A);
	assert_string_equal(pa.system_buid, BUID_A);
	assert_non_null(pa.host_id);
	assert_non_null(pa.wifi_mac);
	assert_non_null(pa.device_key);
	assert_non_null(pa.device_cert);
	assert_non_null(pa.root_key);
	assert_non_null(pa.root_cert);
	assert_non_null(pa.host_key);
	assert_non_null(pa.host_cert);
	assert_rsa2048(pa.device_key);
	assert_rsa2048(pa.root_key);
	assert_rsa2048(pa.host_key);
	assert_int_equal(EVP_PKEY_eq(pa.device_key, pb.device_key), 0);
	assert_int_equal(EVP_PKEY_eq(pa.root_key, pa.host_key), 0);
}

/* HostID (and a generated BUID) look like generate_uuid's. */
static void
test_host_id_format(__unused void **state)
{
	assert_uuid(pa.host_id);
	assert_uuid(pb.host_id);
	assert_uuid(pb.system_buid);
	assert_string_not_equal(pa.host_id, pb.host_id);
	assert_string_not_equal(pb.host_id, pb.system_buid);
}

/* The Wi-Fi address is a lowercase, locally administered unicast one. */
static void
test_wifi_mac(__unused void **state)
{
	unsigned int	 o[6];
	char		 again[18];
	int		 n = 0;

	assert_int_equal(strlen(pa.wifi_mac), 17);
	assert_int_equal(sscanf(pa.wifi_mac, "%2x:%2x:%2x:%2x:%2x:%2x%n",
	    &o[0], &o[1], &o[2], &o[3], &o[4], &o[5], &n), 6);
	assert_int_equal(n, 17);
	(void)snprintf(again, sizeof(again),
	    "%02x:%02x:%02x:%02x:%02x:%02x", o[0], o[1], o[2], o[3], o[4],
	    o[5]);
	assert_string_equal(again, pa.wifi_mac);
	assert_int_equal(o[0] & 0x03, 0x02);
	assert_string_not_equal(pa.wifi_mac, pb.wifi_mac);
}

/* The record is a bplist00 dict with exactly the eight keys. */
static void
test_record_keys(__unused void **state)
{
	plist_t		 dict;
	const char	*data;
	size_t		 i, len;

	dict = record_dict(&pa);
	assert_int_equal(plist_dict_get_size(dict), nitems(record_keys));
	for (i = 0; i < nitems(record_keys); i++) {
		if (plist_dict_get_item(dict, record_keys[i]) == NULL)
			fail_msg("%s missing", record_keys[i]);
	}
	assert_string_equal(dict_string(dict, "HostID"), pa.host_id);
	assert_string_equal(dict_string(dict, "SystemBUID"), BUID_A);
	assert_string_equal(dict_string(dict, "WiFiMACAddress"), pa.wifi_mac);
	data = dict_data(dict, "RootPrivateKey", &len);
	assert_memory_equal(data, "-----BEGIN PRIVATE KEY-----\n", 28);
	assert_memory_equal(data + len - 26, "-----END PRIVATE KEY-----\n", 26);
	data = dict_data(dict, "HostPrivateKey", &len);
	assert_memory_equal(data, "-----BEGIN PRIVATE KEY-----\n", 28);
	data = dict_data(dict, "DeviceCertificate", &len);
	assert_memory_equal(data + len - 26, "-----END CERTIFICATE-----\n", 26);
	plist_free(dict);
}

/* RootCertificate: self-signed SHA-1, serial 0, CA:TRUE critical. */
static void
test_root_cert(__unused void **state)
{
	plist_t	 dict;
	X509	*cert;

	dict = record_dict(&pa);
	cert = dict_cert(dict, "RootCertificate");
	assert_int_equal(X509_cmp(cert, pa.root_cert), 0);
	assert_recipe(cert, pa.root_key);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(cert), pa.root_key),
	    1);
	assert_int_equal(X509_get_ext_count(cert), 1);
	assert_int_equal(ext_critical(cert, NID_basic_constraints), 1);
	assert_true(X509_check_ca(cert) >= 1);
	assert_true(X509_get_extension_flags(cert) & EXFLAG_SS);
	X509_free(cert);
	plist_free(dict);
}

/* HostCertificate: CA:FALSE critical, keyUsage critical, root-signed. */
static void
test_host_cert(__unused void **state)
{
	plist_t	 dict;
	X509	*cert;

	dict = record_dict(&pa);
	cert = dict_cert(dict, "HostCertificate");
	assert_recipe(cert, pa.root_key);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(cert), pa.host_key),
	    1);
	assert_int_equal(X509_get_ext_count(cert), 2);
	assert_int_equal(OBJ_obj2nid(X509_EXTENSION_get_object(
	    X509_get_ext(cert, 0))), NID_basic_constraints);
	assert_int_equal(OBJ_obj2nid(X509_EXTENSION_get_object(
	    X509_get_ext(cert, 1))), NID_key_usage);
	assert_int_equal(ext_critical(cert, NID_basic_constraints), 1);
	assert_int_equal(ext_critical(cert, NID_key_usage), 1);
	assert_int_equal(X509_check_ca(cert), 0);
	assert_int_equal(X509_get_key_usage(cert),
	    KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT);
	assert_null(X509_get0_subject_key_id(cert));
	X509_free(cert);
	plist_free(dict);
}

/* DeviceCertificate: over device_key, SKI hash, root-signed. */
static void
test_device_cert(__unused void **state)
{
	plist_t			 dict;
	X509			*cert;
	const ASN1_OCTET_STRING	*ski;
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen;

	dict = record_dict(&pa);
	cert = dict_cert(dict, "DeviceCertificate");
	assert_recipe(cert, pa.root_key);
	assert_int_equal(X509_verify(cert, pa.host_key), 0);
	ERR_clear_error();
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(cert), pa.device_key),
	    1);
	assert_int_equal(X509_check_private_key(cert, pa.device_key), 1);
	assert_int_equal(X509_get_ext_count(cert), 3);
	assert_int_equal(OBJ_obj2nid(X509_EXTENSION_get_object(
	    X509_get_ext(cert, 0))), NID_basic_constraints);
	assert_int_equal(OBJ_obj2nid(X509_EXTENSION_get_object(
	    X509_get_ext(cert, 1))), NID_subject_key_identifier);
	assert_int_equal(OBJ_obj2nid(X509_EXTENSION_get_object(
	    X509_get_ext(cert, 2))), NID_key_usage);
	assert_int_equal(ext_critical(cert, NID_basic_constraints), 1);
	assert_int_equal(ext_critical(cert, NID_subject_key_identifier), 0);
	assert_int_equal(ext_critical(cert, NID_key_usage), 1);
	assert_int_equal(X509_check_ca(cert), 0);
	assert_int_equal(X509_get_key_usage(cert),
	    KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT);
	assert_non_null(ski = X509_get0_subject_key_id(cert));
	assert_int_equal(X509_pubkey_digest(cert, EVP_sha1(), md, &mdlen), 1);
	assert_int_equal(ASN1_STRING_length(ski), mdlen);
	assert_memory_equal(ASN1_STRING_get0_data(ski), md, mdlen);
	X509_free(cert);
	plist_free(dict);
}

/* DevicePublicKey is PKCS#1 PEM that the legacy reader takes back. */
static void
test_device_public_key(__unused void **state)
{
	static const char	 head[] = "-----BEGIN RSA PUBLIC KEY-----\n";
	static const char	 tail[] = "-----END RSA PUBLIC KEY-----\n";
	char			*pem;
	size_t			 len;
	BIO			*bio;
	RSA			*rsa;

	assert_int_equal(pair_device_public_key(&pa, &pem, &len), 0);
	assert_true(len > sizeof(head) + sizeof(tail));
	assert_memory_equal(pem, head, sizeof(head) - 1);
	assert_memory_equal(pem + len - (sizeof(tail) - 1), tail,
	    sizeof(tail) - 1);
	assert_null(memchr(pem, '\0', len));
	assert_non_null(bio = BIO_new_mem_buf(pem, (int)len));
	rsa = PEM_read_bio_RSAPublicKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	assert_non_null(rsa);
	assert_null(RSA_get0_d(rsa));
	assert_true(rsa_matches(rsa, pa.device_key));
	assert_false(rsa_matches(rsa, pb.device_key));
	RSA_free(rsa);
	free(pem);
}

/* libimobiledevice's key reader takes RootPrivateKey and HostPrivateKey. */
static void
test_private_keys_legacy(__unused void **state)
{
	plist_t	 dict;
	RSA	*rsa;

	dict = record_dict(&pa);
	rsa = dict_rsa_key(dict, "RootPrivateKey");
	assert_non_null(RSA_get0_d(rsa));
	assert_true(rsa_matches(rsa, pa.root_key));
	RSA_free(rsa);
	rsa = dict_rsa_key(dict, "HostPrivateKey");
	assert_true(rsa_matches(rsa, pa.host_key));
	RSA_free(rsa);
	plist_free(dict);
}

/*
 * Return a client context set up as libimobiledevice 1.3.0 sets it up
 * (idevice.c): security level 0, RootCertificate and RootPrivateKey from
 * the record through the legacy RSA calls, no server verification.
 */
static SSL_CTX *
lidm_client_ctx(const struct sim_pairing *sp)
{
	plist_t	 dict;
	SSL_CTX	*ctx;
	X509	*cert;
	RSA	*rsa;

	dict = record_dict(sp);
	assert_non_null(ctx = SSL_CTX_new(TLS_method()));
	SSL_CTX_set_security_level(ctx, 0);
	assert_int_equal(SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION), 1);
	cert = dict_cert(dict, "RootCertificate");
	assert_int_equal(SSL_CTX_use_certificate(ctx, cert), 1);
	rsa = dict_rsa_key(dict, "RootPrivateKey");
	assert_int_equal(SSL_CTX_use_RSAPrivateKey(ctx, rsa), 1);
	assert_int_equal(SSL_CTX_check_private_key(ctx), 1);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	RSA_free(rsa);
	X509_free(cert);
	plist_free(dict);
	return (ctx);
}

/* Accept any client certificate; trust is decided after the handshake. */
static int
verify_any(__unused int ok, __unused X509_STORE_CTX *ctx)
{
	return (1);
}

/*
 * The record's root certificate and key load into an SSL_CTX the way
 * libimobiledevice loads them, and a handshake with a device-side server
 * (DeviceCertificate and device_key, client certificate required) works;
 * the server then recognises the client certificate as the trusted root.
 */
static void
test_tls_handshake(__unused void **state)
{
	SSL_CTX	*cctx, *sctx;
	SSL	*c, *s;
	BIO	*cbio, *sbio;
	X509	*peer;
	int	 i, cdone = 0, sdone = 0, r;

	cctx = lidm_client_ctx(&pa);
	assert_non_null(sctx = SSL_CTX_new(TLS_method()));
	SSL_CTX_set_security_level(sctx, 0);
	assert_int_equal(SSL_CTX_use_certificate(sctx, pa.device_cert), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(sctx, pa.device_key), 1);
	assert_int_equal(SSL_CTX_check_private_key(sctx), 1);
	SSL_CTX_set_verify(sctx, SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_any);

	assert_non_null(c = SSL_new(cctx));
	assert_non_null(s = SSL_new(sctx));
	assert_int_equal(BIO_new_bio_pair(&cbio, 0, &sbio, 0), 1);
	SSL_set_bio(c, cbio, cbio);
	SSL_set_bio(s, sbio, sbio);
	SSL_set_connect_state(c);
	SSL_set_accept_state(s);
	for (i = 0; i < 100 && !(cdone && sdone); i++) {
		if (!cdone) {
			r = SSL_do_handshake(c);
			if (r == 1)
				cdone = 1;
			else if (SSL_get_error(c, r) != SSL_ERROR_WANT_READ)
				fail_msg("client handshake failed");
		}
		if (!sdone) {
			r = SSL_do_handshake(s);
			if (r == 1)
				sdone = 1;
			else if (SSL_get_error(s, r) != SSL_ERROR_WANT_READ)
				fail_msg("server handshake failed");
		}
	}
	assert_true(cdone && sdone);
	assert_non_null(peer = SSL_get0_peer_certificate(s));
	assert_true(pair_is_trusted_root(&pa, peer));
	assert_false(pair_is_trusted_root(&pb, peer));

	SSL_free(c);
	SSL_free(s);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}

/* Save then load gives the same pairing and the same record bytes. */
static void
test_save_load(__unused void **state)
{
	struct sim_pairing	 p;
	struct stat		 st;
	char			*cause = NULL, *path, *r1, *r2;
	uint32_t		 l1, l2;

	assert_int_equal(pair_save(&pa, tmpdir, &cause), 0);
	assert_null(cause);
	path = file_path(UDID_A);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(count_files(), 1);

	/* A second save replaces the file and leaves no temporary behind. */
	assert_int_equal(pair_save(&pa, tmpdir, &cause), 0);
	assert_int_equal(count_files(), 1);

	assert_int_equal(pair_load(&p, tmpdir, UDID_A, &cause), 1);
	assert_null(cause);
	assert_string_equal(p.udid, pa.udid);
	assert_string_equal(p.host_id, pa.host_id);
	assert_string_equal(p.system_buid, pa.system_buid);
	assert_string_equal(p.wifi_mac, pa.wifi_mac);
	assert_int_equal(X509_cmp(p.device_cert, pa.device_cert), 0);
	assert_int_equal(X509_cmp(p.root_cert, pa.root_cert), 0);
	assert_int_equal(X509_cmp(p.host_cert, pa.host_cert), 0);
	assert_int_equal(EVP_PKEY_eq(p.device_key, pa.device_key), 1);
	assert_int_equal(EVP_PKEY_eq(p.root_key, pa.root_key), 1);
	assert_int_equal(EVP_PKEY_eq(p.host_key, pa.host_key), 1);

	assert_int_equal(pair_record(&pa, &r1, &l1), 0);
	assert_int_equal(pair_record(&p, &r2, &l2), 0);
	assert_int_equal(l1, l2);
	assert_memory_equal(r1, r2, l1);
	freezero(r1, l1);
	freezero(r2, l2);
	pair_release(&p);
	assert_empty(&p);
	free(path);
}

/* No file: 0, nothing set, no cause. */
static void
test_load_missing(__unused void **state)
{
	struct sim_pairing	 p;
	char			*cause = NULL;

	memset(&p, 0xa5, sizeof(p));
	assert_int_equal(pair_load(&p, tmpdir, UDID_A, &cause), 0);
	assert_null(cause);
	assert_empty(&p);
	assert_int_equal(count_files(), 0);
}

/* Load a file with these contents: -1, a cause, the file untouched. */
static void
assert_load_fails(const void *data, size_t len)
{
	struct sim_pairing	 p;
	char			*cause = NULL, *path, *after;
	size_t			 alen;

	path = file_path(UDID_A);
	write_file(path, data, len);
	memset(&p, 0xa5, sizeof(p));
	assert_int_equal(pair_load(&p, tmpdir, UDID_A, &cause), -1);
	assert_non_null(cause);
	assert_true(strlen(cause) > 0);
	assert_empty(&p);
	after = read_file(path, &alen);
	assert_int_equal(alen, len);
	if (len > 0)
		assert_memory_equal(after, data, len);
	free(after);
	free(cause);
	free(path);
}

/* Load the saved file of the first pairing as a dict. */
static plist_t
saved_dict(void)
{
	plist_t	 dict = NULL;
	char	*cause = NULL, *path, *xml;
	size_t	 len;

	assert_int_equal(pair_save(&pa, tmpdir, &cause), 0);
	path = file_path(UDID_A);
	xml = read_file(path, &len);
	plist_from_xml(xml, (uint32_t)len, &dict);
	assert_non_null(dict);
	freezero(xml, len);
	free(path);
	return (dict);
}

/* Load a changed copy of the saved dict and expect a refusal. */
static void
assert_dict_fails(plist_t dict)
{
	char		*xml = NULL;
	uint32_t	 len = 0;

	plist_to_xml(dict, &xml, &len);
	assert_non_null(xml);
	assert_load_fails(xml, len);
	free(xml);
	plist_free(dict);
}

/* Bad files of every kind give -1 and a cause and are left alone. */
static void
test_load_corrupt(__unused void **state)
{
	static const char	 garbage[] = "this is not a property list\n";
	static const char	 badpem[] = "-----BEGIN CERTIFICATE-----\n"
				    "AAAA\n-----END CERTIFICATE-----\n";
	plist_t			 dict, node;
	char			*path, *xml;
	size_t			 len;

	assert_load_fails(garbage, sizeof(garbage) - 1);
	assert_load_fails("", 0);

	/* The saved file cut in half. */
	plist_free(saved_dict());
	path = file_path(UDID_A);
	xml = read_file(path, &len);
	assert_load_fails(xml, len / 2);
	freezero(xml, len);
	free(path);

	dict = saved_dict();
	plist_dict_remove_item(dict, "DeviceCertificate");
	assert_dict_fails(dict);

	dict = saved_dict();
	plist_dict_set_item(dict, "RootCertificate",
	    plist_new_data(badpem, sizeof(badpem) - 1));
	assert_dict_fails(dict);

	dict = saved_dict();
	plist_dict_set_item(dict, "HostID", plist_new_uint(7));
	assert_dict_fails(dict);

	dict = saved_dict();
	plist_dict_set_item(dict, "UDID", plist_new_string(UDID_B));
	assert_dict_fails(dict);

	dict = saved_dict();
	plist_dict_set_item(dict, "Version", plist_new_uint(2));
	assert_dict_fails(dict);

	/* A device key that is not the certificate's. */
	dict = saved_dict();
	node = plist_dict_get_item(dict, "RootPrivateKey");
	plist_dict_set_item(dict, "DevicePrivateKey", plist_copy(node));
	assert_dict_fails(dict);

	/* One host key without the other. */
	dict = saved_dict();
	plist_dict_remove_item(dict, "HostPrivateKey");
	assert_dict_fails(dict);

	/* An XML plist that is not a dict. */
	dict = plist_new_array();
	assert_dict_fails(dict);
}

/* A udid that could escape the directory is refused everywhere. */
static void
test_bad_udid(__unused void **state)
{
	struct sim_pairing	 p;
	char			*cause = NULL;

	assert_int_equal(pair_load(&p, tmpdir, "../etc/passwd", &cause), -1);
	assert_non_null(cause);
	free(cause);
	cause = NULL;
	assert_int_equal(pair_load(&p, tmpdir, "", &cause), -1);
	assert_non_null(cause);
	free(cause);
	cause = NULL;
	assert_int_equal(pair_generate(&p, "a/b", NULL, &cause), -1);
	assert_non_null(cause);
	assert_empty(&p);
	free(cause);
	cause = NULL;
	assert_int_equal(pair_generate(&p, UDID_A "x" UDID_A UDID_A, NULL,
	    &cause), -1);
	assert_non_null(cause);
	free(cause);
	assert_int_equal(pair_load(&p, tmpdir, "x y", NULL), -1);
}

/* A real host's Pair record moves trust and HostID to that host. */
static void
test_accept_host(__unused void **state)
{
	struct sim_pairing	 p, q;
	plist_t			 req, dict;
	X509			*dev;
	char			*cause = NULL;

	copy_pa(&p);
	assert_true(pair_is_trusted_root(&p, pa.root_cert));
	assert_false(pair_is_trusted_root(&p, pb.root_cert));
	assert_true(pair_host_id_matches(&p, pa.host_id));
	assert_false(pair_host_id_matches(&p, pb.host_id));

	/* Host B pairs with device A as libimobiledevice would. */
	dev = lidm_device_cert(&p, pb.root_key);
	req = pair_request(&pb, dev);
	if (pair_accept_host(&p, req, &cause) != 0)
		fail_msg("pair_accept_host: %s", cause);
	assert_null(cause);
	assert_true(pair_is_trusted_root(&p, pb.root_cert));
	assert_false(pair_is_trusted_root(&p, pa.root_cert));
	assert_true(pair_host_id_matches(&p, pb.host_id));
	/* A device keeps trusting the host it paired with before. */
	assert_true(pair_host_id_matches(&p, pa.host_id));
	assert_int_equal(p.nothers, 1);
	assert_true(pair_is_trusted_cert(&p, pa.root_cert));
	assert_true(pair_is_trusted_cert(&p, pa.host_cert));
	assert_true(pair_is_trusted_cert(&p, pb.host_cert));
	assert_false(pair_is_trusted_cert(&p, dev));
	assert_string_equal(p.system_buid, pb.system_buid);
	assert_int_equal(X509_cmp(p.device_cert, dev), 0);
	assert_int_equal(X509_cmp(p.host_cert, pb.host_cert), 0);
	assert_null(p.root_key);
	assert_null(p.host_key);
	assert_int_equal(EVP_PKEY_eq(p.device_key, pa.device_key), 1);
	assert_string_equal(p.udid, UDID_A);
	assert_string_equal(p.wifi_mac, pa.wifi_mac);

	/* The record now lacks the keys the host kept. */
	dict = record_dict(&p);
	assert_int_equal(plist_dict_get_size(dict), 6);
	assert_null(plist_dict_get_item(dict, "RootPrivateKey"));
	assert_null(plist_dict_get_item(dict, "HostPrivateKey"));
	assert_string_equal(dict_string(dict, "HostID"), pb.host_id);
	plist_free(dict);

	/* And the new state survives a save and a load. */
	assert_int_equal(pair_save(&p, tmpdir, &cause), 0);
	assert_int_equal(pair_load(&q, tmpdir, UDID_A, &cause), 1);
	assert_true(pair_is_trusted_root(&q, pb.root_cert));
	assert_true(pair_host_id_matches(&q, pb.host_id));
	assert_true(pair_host_id_matches(&q, pa.host_id));
	assert_true(pair_is_trusted_cert(&q, pa.host_cert));
	assert_null(q.root_key);
	assert_null(q.host_key);

	/* Unpair forgets one host at a time; the last one stays put. */
	assert_int_equal(pair_forget_host(&q, pb.host_id), 1);
	assert_false(pair_host_id_matches(&q, pb.host_id));
	assert_true(pair_host_id_matches(&q, pa.host_id));
	assert_true(pair_is_trusted_root(&q, pa.root_cert));
	assert_int_equal(pair_forget_host(&q, pb.host_id), -1);
	assert_int_equal(pair_forget_host(&q, pa.host_id), 0);

	pair_release(&q);
	pair_release(&p);
	plist_free(req);
	X509_free(dev);
}

/* Expect a Pair record to be refused with p left as it was. */
static void
assert_accept_fails(struct sim_pairing *p, plist_t req)
{
	char	*cause = NULL;

	assert_int_equal(pair_accept_host(p, req, &cause), -1);
	assert_non_null(cause);
	assert_true(pair_is_trusted_root(p, pa.root_cert));
	assert_true(pair_host_id_matches(p, pa.host_id));
	assert_string_equal(p->system_buid, pa.system_buid);
	assert_non_null(p->root_key);
	assert_non_null(p->host_key);
	assert_int_equal(X509_cmp(p->device_cert, pa.device_cert), 0);
	assert_int_equal(ERR_peek_error(), 0);
	free(cause);
	plist_free(req);
}

/* Malformed Pair records are refused and change nothing. */
static void
test_accept_malformed(__unused void **state)
{
	static const char	 badpem[] = "-----BEGIN CERTIFICATE-----\n"
				    "AAAA\n-----END CERTIFICATE-----\n";
	struct sim_pairing	 p;
	plist_t			 req;
	X509			*dev;

	copy_pa(&p);
	dev = lidm_device_cert(&p, pb.root_key);

	assert_accept_fails(&p, plist_new_string("not a dict"));

	req = pair_request(&pb, dev);
	plist_dict_remove_item(req, "HostID");
	assert_accept_fails(&p, req);

	req = pair_request(&pb, dev);
	plist_dict_set_item(req, "HostID", plist_new_data("x", 1));
	assert_accept_fails(&p, req);

	req = pair_request(&pb, dev);
	plist_dict_remove_item(req, "SystemBUID");
	assert_accept_fails(&p, req);

	req = pair_request(&pb, dev);
	plist_dict_set_item(req, "RootCertificate",
	    plist_new_data(badpem, sizeof(badpem) - 1));
	assert_accept_fails(&p, req);

	req = pair_request(&pb, dev);
	plist_dict_set_item(req, "HostCertificate",
	    plist_new_string("-----BEGIN CERTIFICATE-----"));
	assert_accept_fails(&p, req);

	req = pair_request(&pb, dev);
	plist_dict_remove_item(req, "DeviceCertificate");
	assert_accept_fails(&p, req);

	/* B's own device certificate is over another device's key. */
	assert_accept_fails(&p, pair_request(&pb, pb.device_cert));

	/* Our key, but signed by a root other than the one sent. */
	req = pair_request(&pa, dev);
	assert_accept_fails(&p, req);

	/* A host certificate that the root did not sign. */
	req = pair_request(&pb, dev);
	set_cert(req, "HostCertificate", pa.host_cert);
	assert_accept_fails(&p, req);

	assert_int_equal(pair_accept_host(&p, NULL, NULL), -1);

	X509_free(dev);
	pair_release(&p);
}

/* NULL and incomplete pairings are handled, not crashed on. */
static void
test_null_safe(__unused void **state)
{
	struct sim_pairing	 p;
	char			*buf, *cause = NULL;
	uint32_t		 len;
	size_t			 size;

	memset(&p, 0, sizeof(p));
	pair_release(NULL);
	pair_release(&p);
	assert_empty(&p);
	assert_int_equal(pair_record(&p, &buf, &len), -1);
	assert_null(buf);
	assert_int_equal(pair_device_public_key(&p, &buf, &size), -1);
	assert_null(buf);
	p.udid = xstrdup(UDID_A);
	assert_int_equal(pair_save(&p, tmpdir, &cause), -1);
	assert_non_null(cause);
	assert_int_equal(count_files(), 0);
	free(cause);
	pair_release(&p);
	assert_false(pair_is_trusted_root(&pa, NULL));
	assert_false(pair_is_trusted_root(&p, pa.root_cert));
	assert_false(pair_host_id_matches(&pa, NULL));
	assert_false(pair_host_id_matches(&p, pa.host_id));
	assert_false(pair_host_id_matches(&pa, ""));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_generate, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_host_id_format, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_wifi_mac, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_record_keys, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_root_cert, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_host_cert, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_device_cert, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_device_public_key, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_private_keys_legacy,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_handshake, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_save_load, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_load_missing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_load_corrupt, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_udid, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_accept_host, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_accept_malformed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_null_safe, setup,
		    teardown),
	};

	log_init(LOG_TO_STDERR, 0, "test-sim-pair");
	return (cmocka_run_group_tests(tests, group_setup, group_teardown));
}
