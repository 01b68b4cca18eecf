/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * A simulated device's pairing material: the device key pair, the host's
 * root and host certificates and keys, and the pair record built from
 * them exactly as libimobiledevice 1.3.0 builds it (userpref.c; research
 * notes, protocols.md 2.5-2.8), so that the real library cannot tell the
 * simulator from an iPhone.
 *
 * A struct sim_pairing describes one device, the host it paired with
 * last and the hosts it trusted before (others). pair_generate() makes
 * both halves at once (the simulator plays the host too, so that
 * ReadPairRecord can answer without a pairing round);
 * pair_accept_host() later replaces the host half with a real host's
 * when it sends lockdownd's Pair request. Every member is owned
 * by the struct; pair_release() frees them all.
 *
 * Invariants after a successful pair_generate, pair_load or
 * pair_accept_host: udid, host_id, system_buid, device_key, device_cert,
 * root_cert and host_cert are non-NULL; root_key and host_key are either
 * both set (the simulator generated the host half) or both NULL (a real
 * host paired and kept its keys); wifi_mac may be NULL only in a file
 * that had none.
 *
 * Errors: functions with a char **cause return -1 and set *cause to an
 * allocated message (the caller frees it) on failure; the others log
 * with log_warnx and return -1. A NULL cause is allowed and means "no
 * message". Allocation failures end the process (xmalloc.h).
 *
 * Threads: there is no locking. The read-only functions (pair_record,
 * pair_device_public_key, pair_save, pair_is_trusted_root,
 * pair_host_id_matches) may run on several threads at once; anything
 * that changes the struct (pair_accept_host, pair_release) needs the
 * caller to exclude them, and so does pair_forget_host.
 */

#ifndef LQ_SIM_PAIR_H
#define LQ_SIM_PAIR_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <plist/plist.h>

/*
 * A host the device trusted before the current one: a phone keeps a
 * pair record per HostID, and a second host pairing does not make it
 * forget the first (pymobiledevice3 lockdown.py unpair takes a host_id
 * for that reason; go-ios and libimobiledevice each keep their own
 * record of the same phone).
 */
struct sim_pair_host {
	char		*host_id;
	X509		*root_cert;
	X509		*host_cert;
};

/* The earlier hosts kept at most; a further one drops the oldest. */
#define PAIR_HOSTS_MAX	16

struct sim_pairing {
	char		*udid;
	char		*host_id;	/* as generate_uuid: 36 chars */
	char		*system_buid;	/* usbmuxd's answer to ReadBUID */
	EVP_PKEY	*device_key;	/* RSA 2048 */
	X509		*device_cert;	/* signed by root */
	EVP_PKEY	*root_key;	/* NULL once a real host paired */
	X509		*root_cert;
	EVP_PKEY	*host_key;	/* NULL once a real host paired */
	X509		*host_cert;
	char		*wifi_mac;	/* "aa:bb:cc:dd:ee:ff" from udid */
	struct sim_pair_host *others;	/* earlier hosts, oldest first */
	size_t		 nothers;
};

/*
 * Generate everything a paired device and its host share, following
 * libimobiledevice's userpref.c recipe: RSA 2048 keys with e = 65537;
 * a root certificate (v3, serial 0, no subject or issuer name, ten years,
 * basicConstraints critical CA:TRUE, self-signed with SHA-1); a host
 * certificate (CA:FALSE critical, keyUsage critical digitalSignature and
 * keyEncipherment, signed by the root with SHA-1); a device certificate
 * over the device key (CA:FALSE critical, subjectKeyIdentifier hash,
 * keyUsage as the host's, signed by the root with SHA-1). host_id is a
 * fresh random UUID; system_buid is copied, or a fresh UUID if NULL;
 * wifi_mac is a locally administered unicast address hashed from the
 * udid. The udid may hold only [A-Za-z0-9-] (as usbmuxd demands) and
 * names the save file. *sp is overwritten without being read, so release
 * any earlier content first. Returns 0, or -1 with *cause and *sp all
 * NULL.
 */
int	pair_generate(struct sim_pairing *, const char *, const char *,
	    char **);
/*
 * Free every member and set it to NULL; NULL members and a NULL pointer
 * are fine. The struct itself is the caller's.
 */
void	pair_release(struct sim_pairing *);

/*
 * Write the pairing to DIR/<udid>.plist: an XML plist with the strings
 * and the PEM certificates and PKCS#8 keys as data (it holds private
 * keys: mode 0600). The file is written to a temporary file in DIR,
 * synced and renamed over the old one, so a reader sees the old or the
 * new file, never half of one. DIR must exist. Returns 0, or -1 with
 * *cause.
 */
int	pair_save(const struct sim_pairing *, const char *, char **);
/*
 * Read DIR/<udid>.plist as pair_save wrote it into *sp, which is
 * overwritten without being read. Returns 1 when loaded; 0 when there is
 * no such file; -1 with *cause when the file cannot be read or is not a
 * valid pairing (not a plist, a key missing, a certificate or key that
 * does not parse, a key that does not match its certificate, another
 * udid). On 0 and -1 *sp is all NULL. A bad file is never touched: the
 * caller decides whether to stop or to regenerate.
 */
int	pair_load(struct sim_pairing *, const char *, const char *, char **);

/*
 * Build the pair record as libimobiledevice stores it and usbmuxd's
 * ReadPairRecord serves it: a binary plist (bplist00) dict with
 * DeviceCertificate, HostCertificate, HostID, HostPrivateKey,
 * RootCertificate, RootPrivateKey, SystemBUID and WiFiMACAddress;
 * certificates as PEM "CERTIFICATE" data, private keys as PKCS#8 PEM
 * ("BEGIN PRIVATE KEY") data. HostPrivateKey and RootPrivateKey are left
 * out when the keys are NULL (a real host paired; the record it saved
 * through SavePairRecord is the one to serve then), WiFiMACAddress when
 * wifi_mac is NULL. On success *buf is allocated (free it with free(),
 * it holds private keys: freezero() is better) and *len is its size.
 * Returns 0, or -1 (logged) with *buf NULL.
 */
int	pair_record(const struct sim_pairing *, char **, uint32_t *);
/*
 * DevicePublicKey as lockdownd's GetValue returns it: the device public
 * key as PKCS#1 PEM ("-----BEGIN RSA PUBLIC KEY-----"), which
 * libimobiledevice reads with PEM_read_bio_RSAPublicKey. *buf is
 * allocated and not NUL-terminated; *len is its size. Returns 0, or -1
 * (logged) with *buf NULL.
 */
int	pair_device_public_key(const struct sim_pairing *, char **,
	    size_t *);

/*
 * Accept the PairRecord dict of a lockdownd Pair request from a host that
 * pairs for real. It must carry HostID and SystemBUID (strings) and
 * RootCertificate, HostCertificate and DeviceCertificate (PEM data); the
 * device certificate must be over our device_key, and it and the host
 * certificate must be signed by the root. Other keys are ignored. On
 * success host_id, system_buid, root_cert, host_cert and device_cert
 * become the host's, root_key and host_key become NULL (the host keeps
 * them) and 0 is returned; the previous host, unless it had the same
 * HostID, joins the earlier hosts, which stay trusted. A malformed
 * record returns -1 with *cause and leaves *sp as it was. The record
 * is only read, never kept.
 */
int	pair_accept_host(struct sim_pairing *, plist_t, char **);
/*
 * Whether a TLS client certificate is exactly our trusted root_cert (the
 * same DER); 0 for a NULL certificate or when none is trusted.
 */
int	pair_is_trusted_root(const struct sim_pairing *, X509 *);
/*
 * Whether a TLS client certificate is the root or the host certificate
 * of the current host or of an earlier one (the same DER).
 * libimobiledevice 1.3.0 presents the RootCertificate (idevice.c
 * idevice_connection_enable_ssl); pymobiledevice3 (lockdown.py ssl_file)
 * and go-ios present the HostCertificate with the HostPrivateKey, and a
 * device takes both.
 */
int	pair_is_trusted_cert(const struct sim_pairing *, X509 *);
/* Whether a StartSession HostID is the current or an earlier host's. */
int	pair_host_id_matches(const struct sim_pairing *, const char *);
/*
 * Forget the host host_id (lockdownd's Unpair). An earlier host is
 * dropped; the current one is replaced by the latest earlier host, whose
 * keys the device never had (root_key and host_key become NULL). Returns
 * the number of hosts still trusted: 0 when host_id was the only one,
 * which then stays in *sp for ReadPairRecord; -1 if it is not trusted.
 */
int	pair_forget_host(struct sim_pairing *, const char *);
/* Forget every earlier host: an unpaired device trusts none of them. */
void	pair_forget_others(struct sim_pairing *);

#endif /* LQ_SIM_PAIR_H */
