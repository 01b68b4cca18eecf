/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The simulated lockdownd (protocols.md section 2): 4-byte big-endian
 * length framing around plists, QueryType, GetValue, ValidatePair, Pair,
 * Unpair, StartSession with the switch to TLS on the same socket, StopSession
 * and the return to plaintext, StartService and Goodbye.
 *
 * Every reply carries the Request it answers, which libimobiledevice
 * checks. The TLS server presents the device certificate and accepts
 * the root or the host certificate of any host the device trusts as the
 * client's, as a device does. Before StartSession only the public values
 * are readable (lockdown_public_keys). After StopSession the client
 * sends one close_notify and may go on in plaintext, so that record is
 * read exactly (OpenSSL's read-ahead stays off) and never answered with
 * a close_notify of ours, whose bytes would land in the middle of the
 * client's next message.
 *
 * A hostile device (hostile.h) answers every request with its kind's
 * malformed reply instead, whatever the request.
 */

#include <sys/time.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <plist/plist.h>

#include "compat/compat.h"
#include "log.h"
#include "bench.h"
#include "hostile.h"
#include "plist-service.h"
#include "sim.h"
#include "xmalloc.h"

/* Larger messages than this are not lockdown traffic; end the client. */
#define LOCKDOWN_MAX_MESSAGE	(1024 * 1024)

struct lockdown {
	struct sim_conn		*conn;
	struct sim_device	*dev;
	char			 session_id[40];	/* "" without one */
};

/* Services StartService knows, and what each port serves. */
static const struct {
	const char		*name;
	enum sim_service_kind	 kind;
} lockdown_services[] = {
	{ "com.apple.afc", SIM_SERVICE_AFC },
	{ "com.apple.syslog_relay", SIM_SERVICE_SYSLOG_RELAY },
	{ "com.apple.mobile.diagnostics_relay",
	    SIM_SERVICE_DIAGNOSTICS_RELAY },
};

/* Read one request; NULL on EOF, error or a malformed message. */
static plist_t
lockdown_read(struct lockdown *l)
{
	char	who[96];

	(void)snprintf(who, sizeof(who), "lockdown: %s", l->dev->udid);
	return (plist_service_read(l->conn, LOCKDOWN_MAX_MESSAGE, who));
}

/* A reply dictionary that names the request it answers. */
static plist_t
reply_new(const char *request)
{
	plist_t	msg;

	msg = plist_new_dict();
	plist_dict_set_item(msg, "Request", plist_new_string(request));
	return (msg);
}

/* Send a reply, freeing it. */
static int
reply_send(struct lockdown *l, plist_t msg)
{
	int	ret;

	ret = plist_service_send(l->conn, msg);
	plist_free(msg);
	return (ret);
}

/* Send {Request, Error: error}. */
static int
reply_error(struct lockdown *l, const char *request, const char *error)
{
	plist_t	msg;

	log_debug("lockdown: %s: %s: %s", l->dev->udid, request, error);
	msg = reply_new(request);
	plist_dict_set_item(msg, "Error", plist_new_string(error));
	return (reply_send(l, msg));
}

/* Send {Request, Result: Success}. */
static int
reply_success(struct lockdown *l, const char *request)
{
	plist_t	msg;

	msg = reply_new(request);
	plist_dict_set_item(msg, "Result", plist_new_string("Success"));
	return (reply_send(l, msg));
}

/* Set a string value. */
static void
set_string(plist_t dict, const char *key, const char *value)
{
	plist_dict_set_item(dict, key, plist_new_string(value));
}

/*
 * The values of the default domain: what `ideviceinfo` prints with no
 * options. Fixed identity, plus the live pairing key and the clock.
 */
static plist_t
lockdown_values(struct sim_device *dev)
{
	plist_t	 values;
	char	*pubkey = NULL;
	size_t	 pubkey_len = 0;
	char	 mac[32];

	values = plist_new_dict();
	set_string(values, "ActivationState", "Activated");
	plist_dict_set_item(values, "ActivationStateAcknowledged",
	    plist_new_bool(1));
	set_string(values, "BasebandVersion", "5.00.00");
	set_string(values, "BluetoothAddress", "a4:d9:31:00:00:02");
	plist_dict_set_item(values, "BoardId", plist_new_uint(4));
	set_string(values, "BuildVersion", dev->build_version);
	set_string(values, "CPUArchitecture", "arm64e");
	plist_dict_set_item(values, "ChipID", plist_new_uint(0x8030));
	set_string(values, "DeviceClass", "iPhone");
	set_string(values, "DeviceColor", "1");
	sim_lock();
	set_string(values, "DeviceName", dev->name);
	if (pair_device_public_key(&dev->pairing, &pubkey, &pubkey_len) == 0)
		plist_dict_set_item(values, "DevicePublicKey",
		    plist_new_data(pubkey, pubkey_len));
	(void)snprintf(mac, sizeof(mac), "%s", dev->pairing.wifi_mac);
	sim_unlock();
	free(pubkey);
	set_string(values, "FirmwareVersion", "iBoot-10151.102.3");
	set_string(values, "HardwareModel", dev->hardware_model);
	set_string(values, "HardwarePlatform", "t8030");
	plist_dict_set_item(values, "HasSiDP", plist_new_bool(1));
	set_string(values, "HumanReadableProductVersionString",
	    dev->product_version);
	set_string(values, "InternationalMobileEquipmentIdentity",
	    "356000000000002");
	set_string(values, "ModelNumber", "MWLT2");
	plist_dict_set_item(values, "PasswordProtected",
	    plist_new_bool(dev->trust == SIM_TRUST_LOCKED));
	set_string(values, "ProductName", "iPhone OS");
	set_string(values, "ProductType", dev->product_type);
	set_string(values, "ProductVersion", dev->product_version);
	set_string(values, "ProtocolVersion", "2");
	set_string(values, "RegionInfo", "LL/A");
	set_string(values, "SerialNumber", dev->serial);
	plist_dict_set_item(values, "TimeIntervalSince1970",
	    plist_new_real((double)time(NULL)));
	set_string(values, "TimeZone", "Etc/UTC");
	plist_dict_set_item(values, "UniqueChipID",
	    plist_new_uint(0x1A1C3E0A38802EULL));
	set_string(values, "UniqueDeviceID", dev->udid);
	set_string(values, "WiFiAddress", mac);
	return (values);
}

/*
 * The keys of the default domain that a device answers before
 * StartSession, to a host it may not trust yet: what libimobiledevice's
 * `ideviceinfo -s` (a plain lockdownd_client_new, no session) prints
 * for an unpaired phone. DevicePublicKey and WiFiAddress are among them
 * because a host needs them to pair at all (libimobiledevice 1.3.0
 * lockdown.c lockdownd_do_pair reads both before any session), and
 * pymobiledevice3 reads UniqueDeviceID, UniqueChipID, DevicePublicKey
 * and ProductType so on connecting (lockdown.py, LockdownClient
 * _initialize: all_values = get_value()). SerialNumber,
 * the IMEI, the clock and the rest need a session.
 */
static const char *const lockdown_public_keys[] = {
	"BasebandVersion", "BoardId", "BuildVersion", "CPUArchitecture",
	"ChipID", "DeviceClass", "DeviceColor", "DeviceName",
	"DevicePublicKey", "HardwareModel", "HasSiDP", "ProductName",
	"ProductType", "ProductVersion", "ProtocolVersion", "UniqueChipID",
	"UniqueDeviceID", "WiFiAddress",
};

/* Keep of the default domain's values what a device shows unpaired. */
static plist_t
lockdown_public(plist_t values)
{
	plist_t	pub, v;
	size_t	i;

	pub = plist_new_dict();
	for (i = 0; i < nitems(lockdown_public_keys); i++) {
		v = plist_dict_get_item(values, lockdown_public_keys[i]);
		if (v != NULL)
			plist_dict_set_item(pub, lockdown_public_keys[i],
			    plist_copy(v));
	}
	plist_free(values);
	return (pub);
}

/* The values of a named domain, or NULL for one we do not know. */
static plist_t
lockdown_domain(struct sim_device *dev, const char *domain)
{
	plist_t	values;

	(void)dev;
	values = plist_new_dict();
	if (strcmp(domain, "com.apple.disk_usage") == 0) {
		plist_dict_set_item(values, "TotalDiskCapacity",
		    plist_new_uint(UINT64_C(64000000000)));
		plist_dict_set_item(values, "TotalDataCapacity",
		    plist_new_uint(UINT64_C(58000000000)));
	} else if (strcmp(domain, "com.apple.mobile.battery") == 0) {
		plist_dict_set_item(values, "BatteryCurrentCapacity",
		    plist_new_uint(87));
		plist_dict_set_item(values, "BatteryIsCharging",
		    plist_new_bool(1));
	} else {
		plist_free(values);
		return (NULL);
	}
	return (values);
}

/* GetValue [Domain] [Key]. */
static int
lockdown_get_value(struct lockdown *l, plist_t req)
{
	plist_t	 values, value, msg;
	char	*domain, *key;
	int	 ret;

	domain = plist_service_string(req, "Domain");
	key = plist_service_string(req, "Key");
	/* Without a session no domain is readable, and only some keys. */
	if (domain != NULL)
		values = l->session_id[0] != '\0' ?
		    lockdown_domain(l->dev, domain) : NULL;
	else {
		values = lockdown_values(l->dev);
		if (l->session_id[0] == '\0')
			values = lockdown_public(values);
	}
	value = NULL;
	if (values != NULL && key != NULL) {
		value = plist_dict_get_item(values, key);
		if (value != NULL)
			value = plist_copy(value);
	} else if (values != NULL) {
		value = plist_copy(values);
	}
	plist_free(values);
	if (value == NULL)
		ret = reply_error(l, "GetValue", "MissingValue");
	else {
		msg = reply_new("GetValue");
		if (domain != NULL)
			set_string(msg, "Domain", domain);
		if (key != NULL)
			set_string(msg, "Key", key);
		plist_dict_set_item(msg, "Value", value);
		ret = reply_send(l, msg);
	}
	free(domain);
	free(key);
	return (ret);
}

/* Whether the host sending HostID is trusted. Takes the lock. */
static int
lockdown_trusted(struct lockdown *l, const char *host_id)
{
	int	ok;

	sim_lock();
	ok = l->dev->trust != SIM_TRUST_UNPAIRED && host_id != NULL &&
	    pair_host_id_matches(&l->dev->pairing, host_id);
	sim_unlock();
	return (ok);
}

/* Whether the request's PairRecord names the trusted host. */
static int
lockdown_record_trusted(struct lockdown *l, plist_t req)
{
	plist_t	 record;
	char	*host_id = NULL;
	int	 trusted;

	record = plist_dict_get_item(req, "PairRecord");
	if (record != NULL && plist_get_node_type(record) == PLIST_DICT)
		host_id = plist_service_string(record, "HostID");
	trusted = lockdown_trusted(l, host_id);
	free(host_id);
	return (trusted);
}

/* ValidatePair {PairRecord: {HostID...}}. */
static int
lockdown_validate_pair(struct lockdown *l, plist_t req)
{
	if (lockdown_record_trusted(l, req))
		return (reply_success(l, "ValidatePair"));
	return (reply_error(l, "ValidatePair", "InvalidHostID"));
}

/*
 * Pair: a locked device refuses; an unpaired one shows the Trust prompt
 * and answers PairingDialogResponsePending until the prompt is accepted
 * (through the control socket); then the host's record becomes trusted.
 */
static int
lockdown_pair(struct lockdown *l, plist_t req)
{
	struct sim_device	*dev = l->dev;
	const char		*error = NULL;
	plist_t			 record, msg;
	char			*cause = NULL, escrow[32];

	record = plist_dict_get_item(req, "PairRecord");
	if (record == NULL || plist_get_node_type(record) != PLIST_DICT)
		return (reply_error(l, "Pair", "MissingValue"));
	sim_lock();
	dev->pair_requests++;
	if (dev->trust == SIM_TRUST_LOCKED)
		error = "PasswordProtected";
	else if (dev->trust == SIM_TRUST_UNPAIRED && dev->trust_denied) {
		/* The user said no; the next Pair asks again. */
		dev->trust_denied = 0;
		dev->trust_prompt = 0;
		error = "UserDeniedPairing";
	} else if (dev->trust == SIM_TRUST_UNPAIRED && !dev->trust_accepted) {
		dev->trust_prompt = 1;
		error = "PairingDialogResponsePending";
	} else if (pair_accept_host(&dev->pairing, record, &cause) == -1)
		error = "InvalidPairRecord";
	else {
		/* Hosts before an unpairing are not trusted any more. */
		if (dev->trust == SIM_TRUST_UNPAIRED)
			pair_forget_others(&dev->pairing);
		dev->trust = SIM_TRUST_PAIRED;
		dev->trust_prompt = 0;
		if (dev->state_dir != NULL &&
		    pair_save(&dev->pairing, dev->state_dir, &cause) == -1)
			log_warnx("lockdown: %s: pairing not kept: %s",
			    dev->udid, cause);
	}
	sim_unlock();
	if (cause != NULL) {
		log_warnx("lockdown: %s: Pair: %s", dev->udid, cause);
		free(cause);
	}
	if (error != NULL)
		return (reply_error(l, "Pair", error));
	log_info("lockdown: %s: paired with a new host", dev->udid);
	msg = reply_new("Pair");
	memset(escrow, 0xe5, sizeof(escrow));
	plist_dict_set_item(msg, "EscrowBag",
	    plist_new_data(escrow, sizeof(escrow)));
	return (reply_send(l, msg));
}

/*
 * Unpair {PairRecord: {HostID}}: the device forgets that host. Other
 * hosts it trusts stay paired; with none left it is unpaired.
 */
static int
lockdown_unpair(struct lockdown *l, plist_t req)
{
	struct sim_device	*dev = l->dev;
	plist_t			 record;
	char			*host_id = NULL, *cause = NULL;
	int			 left;

	if (!lockdown_record_trusted(l, req))
		return (reply_error(l, "Unpair", "InvalidHostID"));
	record = plist_dict_get_item(req, "PairRecord");
	host_id = plist_service_string(record, "HostID");
	sim_lock();
	left = pair_forget_host(&dev->pairing, host_id);
	if (left <= 0) {
		dev->trust = SIM_TRUST_UNPAIRED;
		dev->trust_accepted = 0;
	} else if (dev->state_dir != NULL &&
	    pair_save(&dev->pairing, dev->state_dir, &cause) == -1)
		log_warnx("lockdown: %s: pairing not kept: %s", dev->udid,
		    cause);
	sim_unlock();
	free(cause);
	free(host_id);
	log_info("lockdown: %s: unpaired, %d host%s left", dev->udid,
	    left > 0 ? left : 0, left == 1 ? "" : "s");
	return (reply_success(l, "Unpair"));
}

/* Accept any client certificate in the handshake; checked after it. */
static int
lockdown_tls_verify(int ok, X509_STORE_CTX *ctx)
{
	(void)ok;
	(void)ctx;
	return (1);
}

/* A TLS server context with the device's certificate. Takes the lock. */
static SSL_CTX *
lockdown_tls_ctx(struct sim_device *dev)
{
	SSL_CTX	*ctx;
	int	 ok;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		return (NULL);
	/* Pair records made by libimobiledevice are signed with SHA-1. */
	SSL_CTX_set_security_level(ctx, 0);
	(void)SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
	(void)SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, lockdown_tls_verify);
	sim_lock();
	ok = SSL_CTX_use_certificate(ctx, dev->pairing.device_cert) == 1 &&
	    SSL_CTX_use_PrivateKey(ctx, dev->pairing.device_key) == 1;
	sim_unlock();
	if (!ok) {
		SSL_CTX_free(ctx);
		return (NULL);
	}
	return (ctx);
}

/* Run the server side of the TLS handshake on the connection. */
static int
lockdown_tls_start(struct lockdown *l)
{
	SSL_CTX		*ctx;
	SSL		*ssl;
	X509		*peer;
	unsigned long	 err;
	int		 trusted;

	if ((ctx = lockdown_tls_ctx(l->dev)) == NULL) {
		log_warnx("lockdown: %s: cannot set up TLS", l->dev->udid);
		return (-1);
	}
	ssl = SSL_new(ctx);
	SSL_CTX_free(ctx);	/* ssl holds its own reference */
	if (ssl == NULL || SSL_set_fd(ssl, l->conn->fd) != 1 ||
	    SSL_accept(ssl) != 1) {
		err = ERR_get_error();
		log_warnx("lockdown: %s: TLS handshake failed: %s",
		    l->dev->udid, err != 0 ? ERR_error_string(err, NULL) :
		    "connection closed");
		ERR_clear_error();
		SSL_free(ssl);
		return (-1);
	}
	peer = SSL_get0_peer_certificate(ssl);
	sim_lock();
	trusted = peer != NULL && pair_is_trusted_cert(&l->dev->pairing,
	    peer);
	sim_unlock();
	if (!trusted) {
		log_warnx("lockdown: %s: TLS client certificate is neither "
		    "the root nor the host certificate of a paired host",
		    l->dev->udid);
		SSL_free(ssl);
		return (-1);
	}
	log_debug("lockdown: %s: TLS session %s", l->dev->udid,
	    SSL_get_version(ssl));
	l->conn->ssl = ssl;
	return (0);
}

/*
 * Drop TLS after StopSession: consume the client's close_notify and go
 * back to plaintext without sending one of ours.
 */
static int
lockdown_tls_stop(struct lockdown *l)
{
	SSL	*ssl = l->conn->ssl;
	char	 c;
	int	 r, err;

	r = SSL_read(ssl, &c, 1);
	err = SSL_get_error(ssl, r);
	ERR_clear_error();
	SSL_set_quiet_shutdown(ssl, 1);
	SSL_free(ssl);
	l->conn->ssl = NULL;
	/* Anything but a clean close_notify: the client has gone. */
	return (r <= 0 && err == SSL_ERROR_ZERO_RETURN ? 0 : -1);
}

/* StartSession {HostID, SystemBUID}: reply, then switch to TLS. */
static int
lockdown_start_session(struct lockdown *l, plist_t req)
{
	plist_t		 msg;
	char		*host_id;
	unsigned char	 r[16];
	size_t		 i;

	host_id = plist_service_string(req, "HostID");
	if (!lockdown_trusted(l, host_id)) {
		free(host_id);
		return (reply_error(l, "StartSession", "InvalidHostID"));
	}
	free(host_id);
	if (l->session_id[0] != '\0')
		return (reply_error(l, "StartSession", "SessionActive"));
	for (i = 0; i < sizeof(r); i++)
		r[i] = (unsigned char)random();
	(void)snprintf(l->session_id, sizeof(l->session_id),
	    "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-"
	    "%02X%02X%02X%02X%02X%02X", r[0], r[1], r[2], r[3], r[4], r[5],
	    r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);

	msg = reply_new("StartSession");
	set_string(msg, "SessionID", l->session_id);
	plist_dict_set_item(msg, "EnableSessionSSL", plist_new_bool(1));
	if (reply_send(l, msg) == -1)
		return (-1);
	/* The client's ClientHello follows the reply at once. */
	return (lockdown_tls_start(l));
}

/* StopSession {SessionID}. */
static int
lockdown_stop_session(struct lockdown *l, plist_t req)
{
	char	*session_id;
	int	 match;

	session_id = plist_service_string(req, "SessionID");
	match = session_id != NULL && l->session_id[0] != '\0' &&
	    strcmp(session_id, l->session_id) == 0;
	free(session_id);
	if (!match)
		return (reply_error(l, "StopSession", "InvalidSessionID"));
	if (reply_success(l, "StopSession") == -1)
		return (-1);
	l->session_id[0] = '\0';
	if (l->conn->ssl != NULL)
		return (lockdown_tls_stop(l));
	return (0);
}

/* StartService {Service}: open a port for one Connect. */
static int
lockdown_start_service(struct lockdown *l, plist_t req)
{
	plist_t		 msg;
	char		*name;
	size_t		 i;
	uint16_t	 port;
	int		 ret;

	name = plist_service_string(req, "Service");
	if (name == NULL)
		return (reply_error(l, "StartService", "MissingService"));
	if (l->session_id[0] == '\0') {
		free(name);
		return (reply_error(l, "StartService", "SessionInactive"));
	}
	for (i = 0; i < nitems(lockdown_services); i++) {
		if (strcmp(name, lockdown_services[i].name) == 0)
			break;
	}
	if (i == nitems(lockdown_services)) {
		free(name);
		return (reply_error(l, "StartService", "InvalidService"));
	}
	sim_lock();
	port = device_add_service(l->dev, lockdown_services[i].kind);
	sim_unlock();
	msg = reply_new("StartService");
	set_string(msg, "Service", name);
	plist_dict_set_item(msg, "Port", plist_new_uint(port));
	ret = reply_send(l, msg);
	free(name);
	return (ret);
}

/*
 * SetValue {Domain?, Key, Value}: in a session, the default domain's
 * DeviceName takes a string, as on a device (pymobiledevice3 lockdown.py
 * set_value; libimobiledevice 1.3.0 idevicename). Other keys a device
 * takes have nothing to change here, so they are acknowledged alone.
 */
static int
lockdown_set_value(struct lockdown *l, plist_t req)
{
	plist_t	 value;
	char	*domain, *key, *name = NULL;
	int	 ret;

	if (l->session_id[0] == '\0')
		return (reply_error(l, "SetValue", "SessionInactive"));
	domain = plist_service_string(req, "Domain");
	key = plist_service_string(req, "Key");
	value = plist_dict_get_item(req, "Value");
	if (key == NULL || value == NULL)
		ret = reply_error(l, "SetValue", "MissingValue");
	else if (domain == NULL && strcmp(key, "DeviceName") == 0) {
		if (plist_get_node_type(value) == PLIST_STRING)
			plist_get_string_val(value, &name);
		if (name == NULL || *name == '\0')
			ret = reply_error(l, "SetValue", "InvalidValue");
		else {
			sim_lock();
			free(l->dev->name);
			l->dev->name = name;
			name = NULL;
			sim_unlock();
			ret = reply_success(l, "SetValue");
		}
	} else
		ret = reply_success(l, "SetValue");
	free(name);
	free(domain);
	free(key);
	return (ret);
}

/*
 * EnterRecovery: acknowledge, then reboot into recovery mode, as
 * libimobiledevice's lockdownd_enter_recovery and pymobiledevice3's
 * enter_recovery expect (lockdown.py: a plain request, a reply with
 * Result). The device leaves the bus, which ends this connection.
 */
static int
lockdown_enter_recovery(struct lockdown *l)
{
	char	*cause = NULL;

	if (reply_success(l, "EnterRecovery") == -1)
		return (-1);
	log_info("lockdown: %s: entering recovery mode", l->dev->udid);
	if (bench_mode(l->dev, SIM_MODE_RECOVERY, &cause) == -1) {
		log_warnx("lockdown: %s: EnterRecovery: %s", l->dev->udid,
		    cause);
		free(cause);
	}
	return (-1);
}

/*
 * Serve lockdownd on a connection until the client leaves, says
 * Goodbye, or sends something malformed. Runs on the connection's
 * thread.
 */
void
lockdown_serve(struct sim_conn *conn, struct sim_device *dev)
{
	struct lockdown		 l;
	plist_t			 req, msg;
	char			*request;
	enum hostile_kind	 kind;
	int			 ret = 0;

	memset(&l, 0, sizeof(l));
	l.conn = conn;
	l.dev = dev;
	while (ret == 0 && (req = lockdown_read(&l)) != NULL) {
		request = plist_service_string(req, "Request");
		if ((kind = hostile_lockdown(dev)) != HOSTILE_NONE)
			ret = hostile_lockdown_send(conn, kind, request);
		else if (request == NULL) {
			log_warnx("lockdown: %s: message without Request",
			    dev->udid);
			ret = -1;
		} else if (strcmp(request, "QueryType") == 0) {
			msg = reply_new("QueryType");
			set_string(msg, "Type", "com.apple.mobile.lockdown");
			ret = reply_send(&l, msg);
		} else if (strcmp(request, "GetValue") == 0)
			ret = lockdown_get_value(&l, req);
		else if (strcmp(request, "ValidatePair") == 0)
			ret = lockdown_validate_pair(&l, req);
		else if (strcmp(request, "Pair") == 0)
			ret = lockdown_pair(&l, req);
		else if (strcmp(request, "Unpair") == 0)
			ret = lockdown_unpair(&l, req);
		else if (strcmp(request, "StartSession") == 0)
			ret = lockdown_start_session(&l, req);
		else if (strcmp(request, "StopSession") == 0)
			ret = lockdown_stop_session(&l, req);
		else if (strcmp(request, "StartService") == 0)
			ret = lockdown_start_service(&l, req);
		else if (strcmp(request, "SetValue") == 0)
			ret = lockdown_set_value(&l, req);
		else if (strcmp(request, "EnterRecovery") == 0)
			ret = lockdown_enter_recovery(&l);
		else if (strcmp(request, "Goodbye") == 0) {
			(void)reply_success(&l, "Goodbye");
			ret = -1;
		} else {
			log_warnx("lockdown: %s: unknown request \"%s\"",
			    dev->udid, request);
			ret = reply_error(&l, request, "InvalidRequest");
		}
		free(request);
		plist_free(req);
	}
	if (conn->ssl != NULL) {
		SSL_set_quiet_shutdown(conn->ssl, 1);
		SSL_free(conn->ssl);
		conn->ssl = NULL;
	}
}
