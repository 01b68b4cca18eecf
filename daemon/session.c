/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Device sessions (contract in session.h): the one place where linkqd
 * calls libimobiledevice's connection, lockdown and pairing functions
 * and maps their errors to lq_status.
 *
 * DESIGN: linkq never pairs on its own (DESIGN.md, Safety), so the
 * lockdown handshake is done here step by step instead of with
 * lockdownd_client_new_with_handshake, which pairs whenever usbmuxd has
 * no pair record: connect, QueryType, GetValue ProductVersion (once per
 * device handle, so that TLS is not held down to 1.0, see
 * session_device_version), the HostID from usbmuxd's pair record (none:
 * not paired, stop), StartSession with TLS. Every blocking call is
 * made with its socket handed to session_watch(), so the loop can cut
 * it at the deadline; the watch is cleared before a client is freed,
 * so a descriptor number reused after the close is never shut down
 * (child-main.c).
 *
 * Closing a lockdown client with a session open makes libimobiledevice
 * send StopSession and wait up to 30 s for the answer. The session
 * sends it itself, watched, and when that is impossible (TLS failed,
 * the link is gone) shuts the socket down first so that the library's
 * own attempt fails at once. Writing to a socket that is shut down
 * raises SIGPIPE (OpenSSL writes with write(2)): the process must
 * ignore SIGPIPE, as linkqd and lq-probe do.
 *
 * The device's syslog is read between probes, never waited for: poll(2)
 * with no timeout says whether bytes are there, and only then is
 * syslog_relay_receive_with_timeout called (its timeout 0 would mean
 * none at all in libusbmuxd 2.0.2 socket_check_fd, so it gets 1 ms).
 */

#include <sys/socket.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libimobiledevice/afc.h>
#include <libimobiledevice/libimobiledevice.h>
#include <libimobiledevice/lockdown.h>
#include <libimobiledevice/syslog_relay.h>
#include <plist/plist.h>
#include <usbmuxd.h>

#include "compat/compat.h"
#include "devlog.h"
#include "lq-status.h"
#include "lq-time.h"
#include "session.h"
#include "xmalloc.h"

#define SESSION_LABEL		"linkqd"
#define SESSION_LOCKDOWN_TYPE	"com.apple.mobile.lockdown"

/* Connections whose socket was checked, remembered (session_conn_fd). */
#define SESSION_FD_CHECKED	4

struct session {
	char			*udid;
	char			*folder;	/* "/linkq", no trailing '/' */
	const struct session_watcher *watcher;	/* or NULL */
	idevice_t		 device;
	lockdownd_client_t	 lockdown;	/* with a session, or NULL */
	char			*session_id;	/* of lockdown's session */
	afc_client_t		 afc;
	int			 folder_made;	/* through this afc client */
	syslog_relay_client_t	 syslog;	/* the device's, or NULL */
	struct devlog		 devlog;	/* its partial line */
	int64_t			 devlog_looked_us; /* monotonic */
};

struct errname {
	int		 code;
	const char	*name;
};

static const struct errname idevice_errnames[] = {
	{ IDEVICE_E_INVALID_ARG, "invalid argument" },
	{ IDEVICE_E_UNKNOWN_ERROR, "unknown error" },
	{ IDEVICE_E_NO_DEVICE, "no device" },
	{ IDEVICE_E_NOT_ENOUGH_DATA, "not enough data" },
	{ IDEVICE_E_SSL_ERROR, "SSL error" },
	{ IDEVICE_E_TIMEOUT, "timeout" },
};

static const struct errname afc_errnames[] = {
	{ AFC_E_UNKNOWN_ERROR, "unknown error" },
	{ AFC_E_OP_HEADER_INVALID, "op header invalid" },
	{ AFC_E_NO_RESOURCES, "no resources" },
	{ AFC_E_READ_ERROR, "read error" },
	{ AFC_E_WRITE_ERROR, "write error" },
	{ AFC_E_UNKNOWN_PACKET_TYPE, "unknown packet type" },
	{ AFC_E_INVALID_ARG, "invalid argument" },
	{ AFC_E_OBJECT_NOT_FOUND, "object not found" },
	{ AFC_E_OBJECT_IS_DIR, "object is a directory" },
	{ AFC_E_PERM_DENIED, "permission denied" },
	{ AFC_E_SERVICE_NOT_CONNECTED, "service not connected" },
	{ AFC_E_OP_TIMEOUT, "operation timed out" },
	{ AFC_E_TOO_MUCH_DATA, "too much data" },
	{ AFC_E_END_OF_DATA, "end of data" },
	{ AFC_E_OP_NOT_SUPPORTED, "operation not supported" },
	{ AFC_E_OBJECT_EXISTS, "object exists" },
	{ AFC_E_OBJECT_BUSY, "object busy" },
	{ AFC_E_NO_SPACE_LEFT, "no space left" },
	{ AFC_E_OP_WOULD_BLOCK, "operation would block" },
	{ AFC_E_IO_ERROR, "I/O error" },
	{ AFC_E_OP_INTERRUPTED, "operation interrupted" },
	{ AFC_E_OP_IN_PROGRESS, "operation in progress" },
	{ AFC_E_INTERNAL_ERROR, "internal error" },
	{ AFC_E_MUX_ERROR, "usbmux error" },
	{ AFC_E_NO_MEM, "out of memory" },
	{ AFC_E_NOT_ENOUGH_DATA, "not enough data" },
	{ AFC_E_DIR_NOT_EMPTY, "directory not empty" },
};

static const struct errname syslog_errnames[] = {
	{ SYSLOG_RELAY_E_INVALID_ARG, "invalid argument" },
	{ SYSLOG_RELAY_E_MUX_ERROR, "usbmux error" },
	{ SYSLOG_RELAY_E_SSL_ERROR, "SSL error" },
	{ SYSLOG_RELAY_E_NOT_ENOUGH_DATA, "not enough data" },
	{ SYSLOG_RELAY_E_TIMEOUT, "timeout" },
	{ SYSLOG_RELAY_E_UNKNOWN_ERROR, "unknown error" },
};

static const char *errname_find(const struct errname *, size_t, int);
static void	 session_vdetail(char **, const char *, int, const char *,
		    va_list) printflike(4, 0);
static int	 session_conn_fd(idevice_connection_t);
static int	 session_host_id(struct session *, char **, char **);
static int	 session_device_version(struct session *,
		    lockdownd_client_t, char **);
static int	 session_lockdown_open(struct session *, lockdownd_client_t *,
		    char **, char **);
static int	 session_lockdown_close(struct session *, lockdownd_client_t,
		    const char *, char **);
static int	 session_info_value(struct session *, lockdownd_client_t,
		    const char *, char *, size_t, char **);
static int	 session_syslog_fd(syslog_relay_client_t);
static int	 session_devlog_open(struct session *, char **);

/* Look a library error code up in a table. */
static const char *
errname_find(const struct errname *t, size_t n, int code)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (t[i].code == code)
			return (t[i].name);
	}
	return ("unknown code");
}

/* Set *detail, unless it is set: the first failure is the cause. */
static void
session_vdetail(char **detail, const char *name, int code, const char *fmt,
    va_list ap)
{
	char	*what;

	if (detail == NULL || *detail != NULL)
		return;
	xvasprintf(&what, fmt, ap);
	xasprintf(detail, "%s: %s (%d)", what, name, code);
	free(what);
}

/* Map an idevice_error_t. */
int
session_status_idevice(int error)
{
	switch (error) {
	case IDEVICE_E_SUCCESS:
		return (LQ_OK);
	case IDEVICE_E_INVALID_ARG:
		return (LQ_EINVAL);
	case IDEVICE_E_NO_DEVICE:
		return (LQ_ENODEVICE);
	case IDEVICE_E_UNKNOWN_ERROR:
		/*
		 * What idevice_connect returns when usbmuxd refuses the
		 * connection (device gone, port closed) and what a failed
		 * send returns.
		 */
		return (LQ_EDISCONNECTED);
	case IDEVICE_E_NOT_ENOUGH_DATA:
		return (LQ_EDISCONNECTED);
	case IDEVICE_E_SSL_ERROR:
		return (LQ_ETLS);
	case IDEVICE_E_TIMEOUT:
		return (LQ_ETIMEDOUT);
	default:
		return (LQ_EIO);
	}
}

/* Map a lockdownd_error_t. */
int
session_status_lockdown(int error)
{
	switch (error) {
	case LOCKDOWN_E_SUCCESS:
		return (LQ_OK);
	case LOCKDOWN_E_INVALID_ARG:
		return (LQ_EINVAL);
	case LOCKDOWN_E_PLIST_ERROR:
	case LOCKDOWN_E_DICT_ERROR:
	case LOCKDOWN_E_INVALID_RESPONSE:
		return (LQ_EPROTO);
	case LOCKDOWN_E_SSL_ERROR:
		return (LQ_ETLS);
	case LOCKDOWN_E_RECEIVE_TIMEOUT:
		return (LQ_ETIMEDOUT);
	case LOCKDOWN_E_MUX_ERROR:
		return (LQ_EDISCONNECTED);
	case LOCKDOWN_E_PASSWORD_PROTECTED:
	case LOCKDOWN_E_ESCROW_LOCKED:
		return (LQ_ELOCKED);
	case LOCKDOWN_E_PAIRING_DIALOG_RESPONSE_PENDING:
		return (LQ_EPAIRPENDING);
	/* A pair record libimobiledevice cannot use (no HostID). */
	case LOCKDOWN_E_INVALID_CONF:
	case LOCKDOWN_E_PAIRING_FAILED:
	case LOCKDOWN_E_USER_DENIED_PAIRING:
	case LOCKDOWN_E_MISSING_HOST_ID:
	case LOCKDOWN_E_INVALID_HOST_ID:
	case LOCKDOWN_E_MISSING_PAIR_RECORD:
	case LOCKDOWN_E_INVALID_PAIR_RECORD:
		return (LQ_ENOTPAIRED);
	case LOCKDOWN_E_PAIRING_PROHIBITED_OVER_THIS_CONNECTION:
	case LOCKDOWN_E_FMIP_PROTECTED:
	case LOCKDOWN_E_MC_PROTECTED:
	case LOCKDOWN_E_MC_CHALLENGE_REQUIRED:
		return (LQ_EPERM);
	default:
		/* Refusals: missing values, sessions, services, ... */
		return (LQ_ELOCKDOWN);
	}
}

/* Map an afc_error_t. */
int
session_status_afc(int error)
{
	switch (error) {
	case AFC_E_SUCCESS:
		return (LQ_OK);
	case AFC_E_OP_HEADER_INVALID:
	case AFC_E_UNKNOWN_PACKET_TYPE:
		return (LQ_EPROTO);
	case AFC_E_READ_ERROR:
	case AFC_E_WRITE_ERROR:
	case AFC_E_IO_ERROR:
	case AFC_E_OP_INTERRUPTED:
		return (LQ_EIO);
	case AFC_E_INVALID_ARG:
		return (LQ_EINVAL);
	case AFC_E_OBJECT_NOT_FOUND:
		return (LQ_ENOTFOUND);
	case AFC_E_PERM_DENIED:
		return (LQ_EPERM);
	case AFC_E_OP_TIMEOUT:
		return (LQ_ETIMEDOUT);
	case AFC_E_OP_NOT_SUPPORTED:
		return (LQ_EUNSUPPORTED);
	case AFC_E_OBJECT_EXISTS:
		return (LQ_EEXIST);
	case AFC_E_OBJECT_BUSY:
	case AFC_E_OP_WOULD_BLOCK:
	case AFC_E_OP_IN_PROGRESS:
		return (LQ_EBUSY);
	case AFC_E_NO_SPACE_LEFT:
		return (LQ_ENOSPACE);
	/*
	 * Client side: the connection failed, timed out (30 s) or closed
	 * in the middle of a packet.
	 */
	case AFC_E_SERVICE_NOT_CONNECTED:
	case AFC_E_MUX_ERROR:
	case AFC_E_NOT_ENOUGH_DATA:
		return (LQ_EDISCONNECTED);
	case AFC_E_NO_MEM:
		return (LQ_EINTERNAL);
	default:
		return (LQ_EAFC);
	}
}

/* Map a syslog_relay_error_t. */
int
session_status_syslog(int error)
{
	switch (error) {
	case SYSLOG_RELAY_E_SUCCESS:
		return (LQ_OK);
	case SYSLOG_RELAY_E_INVALID_ARG:
		return (LQ_EINVAL);
	case SYSLOG_RELAY_E_SSL_ERROR:
		return (LQ_ETLS);
	case SYSLOG_RELAY_E_TIMEOUT:
		return (LQ_ETIMEDOUT);
	/*
	 * A connection usbmuxd refused, or one closed or cut: 1.3.0 maps
	 * every other idevice error to unknown.
	 */
	case SYSLOG_RELAY_E_MUX_ERROR:
	case SYSLOG_RELAY_E_NOT_ENOUGH_DATA:
	case SYSLOG_RELAY_E_UNKNOWN_ERROR:
		return (LQ_EDISCONNECTED);
	default:
		return (LQ_EIO);
	}
}

/* Map error and set *detail to "what: the error (code)"; return status. */
int
session_idevice_error(char **detail, int error, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	session_vdetail(detail, errname_find(idevice_errnames,
	    nitems(idevice_errnames), error), error, fmt, ap);
	va_end(ap);
	return (session_status_idevice(error));
}

/* As session_idevice_error, for a lockdownd_error_t. */
int
session_lockdown_error(char **detail, int error, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	session_vdetail(detail, lockdownd_strerror(error), error, fmt, ap);
	va_end(ap);
	return (session_status_lockdown(error));
}

/* As session_idevice_error, for an afc_error_t. */
int
session_afc_error(char **detail, int error, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	session_vdetail(detail, errname_find(afc_errnames,
	    nitems(afc_errnames), error), error, fmt, ap);
	va_end(ap);
	return (session_status_afc(error));
}

/* As session_idevice_error, for a syslog_relay_error_t. */
int
session_syslog_error(char **detail, int error, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	session_vdetail(detail, errname_find(syslog_errnames,
	    nitems(syslog_errnames), error), error, fmt, ap);
	va_end(ap);
	return (session_status_syslog(error));
}

/* Create a session for the device udid and its folder on the phone. */
struct session *
session_new(const char *udid, const char *folder)
{
	struct session	*s;
	size_t		 len;

	s = xcalloc(1, sizeof(*s));
	s->udid = xstrdup(udid);
	s->folder = xstrdup(folder);
	len = strlen(s->folder);
	while (len > 1 && s->folder[len - 1] == '/')
		s->folder[--len] = '\0';
	return (s);
}

/* Close the connections and free s. NULL-safe. */
void
session_free(struct session *s)
{
	if (s == NULL)
		return;
	session_close(s);
	session_devlog_stop(s);
	free(s->udid);
	free(s->folder);
	free(s);
}

/* Set the watcher of the job that runs now, or NULL. */
void
session_set_watcher(struct session *s, const struct session_watcher *w)
{
	s->watcher = w;
}

/* Hand fd (or -1 for none) to the deadline. */
void
session_watch(struct session *s, int fd)
{
	if (s->watcher != NULL && s->watcher->watch != NULL)
		s->watcher->watch(s->watcher->arg, fd);
}

/* Whether the job running on the session was cancelled. */
int
session_cancelled(struct session *s)
{
	return (s->watcher != NULL && s->watcher->cancelled != NULL &&
	    s->watcher->cancelled(s->watcher->arg));
}

/* Tell the watcher how far the running probe has come. */
void
session_progress(struct session *s, const struct probe_progress *p)
{
	if (s->watcher != NULL && s->watcher->progress != NULL)
		s->watcher->progress(s->watcher->arg, p);
}

/* Drop the AFC client, the lockdown session and the device handle. */
void
session_close(struct session *s)
{
	if (s->afc != NULL) {
		session_watch(s, -1);
		(void)afc_client_free(s->afc);
		s->afc = NULL;
	}
	s->folder_made = 0;
	if (s->lockdown != NULL) {
		(void)session_lockdown_close(s, s->lockdown, s->session_id,
		    NULL);
		s->lockdown = NULL;
	}
	free(s->session_id);
	s->session_id = NULL;
	/* After a reset the device has a new usbmuxd id: look it up anew. */
	if (s->device != NULL) {
		(void)idevice_free(s->device);
		s->device = NULL;
	}
}

/* The folder path of a file name. */
void
session_path(struct session *s, const char *name, char *buf, size_t len)
{
	xsnprintf(buf, len, "%s/%s", s->folder, name);
}

/*
 * The descriptor of a connection, if it is a stream socket: a check
 * that the private layouts below were followed to the right place.
 * The last few connections found good are remembered (per thread), as
 * a probe asks for its socket every time and each getsockopt(2) is a
 * system call in the probe's own round trip.
 */
static int
session_conn_fd(idevice_connection_t conn)
{
	static _Thread_local struct {
		idevice_connection_t	 conn;
		int			 fd;
	}			 good[SESSION_FD_CHECKED];
	static _Thread_local u_int	 next;
	socklen_t		 len;
	u_int			 i;
	int			 fd = -1, type;

	if (conn == NULL ||
	    idevice_connection_get_fd(conn, &fd) != IDEVICE_E_SUCCESS ||
	    fd < 0)
		return (-1);
	for (i = 0; i < SESSION_FD_CHECKED; i++)
		if (good[i].conn == conn && good[i].fd == fd)
			return (fd);
	len = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1 ||
	    type != SOCK_STREAM)
		return (-1);
	good[next].conn = conn;
	good[next].fd = fd;
	next = (next + 1) % SESSION_FD_CHECKED;
	return (fd);
}

/*
 * libimobiledevice 1.3.0 has no getter for a client's socket, which the
 * deadline must be able to shut down. Its private structs, as of the
 * 1.3.0 tag, begin with the way down to the connection:
 * src/lockdown.h struct lockdownd_client_private { property_list_
 * service_client_t parent; ... }, src/property_list_service.h
 * { service_client_t parent; }, src/service.h struct
 * service_client_private { idevice_connection_t connection; },
 * src/afc.h struct afc_client_private { service_client_t parent; ... },
 * src/syslog_relay.h struct syslog_relay_client_private {
 * service_client_t parent; THREAD_T worker; }. Only the first members
 * are followed, only in the three functions below; the public
 * idevice_connection_get_fd does the rest. Check these again when the
 * library version changes.
 */
struct lidm_service_head {
	idevice_connection_t			 connection;
};
struct lidm_plist_service_head {
	struct lidm_service_head		*parent;
};
struct lidm_lockdown_head {
	struct lidm_plist_service_head		*parent;
};
struct lidm_afc_head {
	struct lidm_service_head		*parent;
};
struct lidm_syslog_head {
	struct lidm_service_head		*parent;
};

/* The socket of a lockdown client, or -1. */
int
session_lockdown_fd(lockdownd_client_t client)
{
	const struct lidm_lockdown_head	*ld = (const void *)client;

	if (ld == NULL || ld->parent == NULL || ld->parent->parent == NULL)
		return (-1);
	return (session_conn_fd(ld->parent->parent->connection));
}

/* The socket of an AFC client, or -1. */
int
session_afc_fd(afc_client_t client)
{
	const struct lidm_afc_head	*afc = (const void *)client;

	if (afc == NULL || afc->parent == NULL)
		return (-1);
	return (session_conn_fd(afc->parent->connection));
}

/* The socket of a syslog_relay client, or -1. */
static int
session_syslog_fd(syslog_relay_client_t client)
{
	const struct lidm_syslog_head	*sl = (const void *)client;

	if (sl == NULL || sl->parent == NULL)
		return (-1);
	return (session_conn_fd(sl->parent->connection));
}

/* The device handle, looked up through usbmuxd on first use. */
int
session_device(struct session *s, idevice_t *device, char **detail)
{
	idevice_error_t	ie;

	*device = NULL;
	if (s->device == NULL) {
		ie = idevice_new_with_options(&s->device, s->udid,
		    IDEVICE_LOOKUP_USBMUX);
		if (ie != IDEVICE_E_SUCCESS) {
			s->device = NULL;
			return (session_idevice_error(detail, ie,
			    "idevice_new_with_options %s", s->udid));
		}
	}
	*device = s->device;
	return (LQ_OK);
}

/*
 * The HostID of usbmuxd's pair record for the device: LQ_ENOTPAIRED if
 * there is none. Reading it never creates one.
 */
static int
session_host_id(struct session *s, char **host_id, char **detail)
{
	plist_t		 record = NULL, node;
	char		*data = NULL;
	uint32_t	 size = 0;
	int		 ret, rv;

	*host_id = NULL;
	ret = usbmuxd_read_pair_record(s->udid, &data, &size);
	if (ret == -ENOENT) {
		if (detail != NULL && *detail == NULL)
			xasprintf(detail, "usbmuxd has no pair record for "
			    "%s: this host was never trusted (linkq pair)",
			    s->udid);
		return (LQ_ENOTPAIRED);
	}
	if (ret < 0) {
		if (detail != NULL && *detail == NULL)
			xasprintf(detail, "usbmuxd_read_pair_record %s: %s",
			    s->udid, strerror(-ret));
		return (LQ_ENOMUX);
	}
	if (ret > 0 || data == NULL || size == 0) {
		free(data);
		if (detail != NULL && *detail == NULL)
			xasprintf(detail, "usbmuxd_read_pair_record %s: "
			    "no record data in the answer", s->udid);
		return (LQ_EPROTO);
	}
	if (plist_is_binary(data, size))
		plist_from_bin(data, size, &record);
	else
		plist_from_xml(data, size, &record);
	free(data);
	node = record != NULL ? plist_dict_get_item(record, "HostID") : NULL;
	if (node != NULL && plist_get_node_type(node) == PLIST_STRING) {
		plist_get_string_val(node, host_id);
		rv = *host_id != NULL ? LQ_OK : LQ_EINTERNAL;
	} else {
		if (detail != NULL && *detail == NULL)
			xasprintf(detail, "the pair record of %s has no "
			    "HostID: pair again (linkq pair)", s->udid);
		rv = LQ_ENOTPAIRED;
	}
	plist_free(record);
	return (rv);
}

/*
 * libimobiledevice 1.3.0 reads the iOS version, which decides the TLS
 * versions it offers (idevice.c: TLS 1.0 only for iOS below 10 or an
 * unknown version), in lockdownd_client_new_with_handshake alone, and
 * that function pairs. Ask for ProductVersion as it does, once per
 * device handle, and store it where it would, in the private struct
 * idevice_private of the 1.3.0 tag (src/idevice.h: char *udid; uint32_t
 * mux_id; enum conn_type; void *conn_data; int version). The head is
 * checked first: our UDID, a usbmuxd connection, no version yet; if it
 * does not match, nothing is written and TLS stays at 1.0.
 */
struct lidm_device_head {
	char		*udid;
	uint32_t	 mux_id;
	int		 conn_type;	/* 1: CONNECTION_USBMUXD */
	void		*conn_data;
	int		 version;
};

/* Tell libimobiledevice the iOS version of the device, as above. */
static int
session_device_version(struct session *s, lockdownd_client_t client,
    char **detail)
{
	struct lidm_device_head	*head = (void *)s->device;
	plist_t			 value = NULL;
	lockdownd_error_t	 le;
	char			*version = NULL;
	int			 v[3] = { 0, 0, 0 };

	if (head->udid == NULL || strcmp(head->udid, s->udid) != 0 ||
	    head->conn_type != 1 || head->version != 0)
		return (LQ_OK);
	le = lockdownd_get_value(client, NULL, "ProductVersion", &value);
	if (le != LOCKDOWN_E_SUCCESS)
		return (session_lockdown_error(detail, le,
		    "lockdownd_get_value ProductVersion"));
	if (value != NULL && plist_get_node_type(value) == PLIST_STRING)
		plist_get_string_val(value, &version);
	plist_free(value);
	if (version != NULL &&
	    sscanf(version, "%d.%d.%d", &v[0], &v[1], &v[2]) >= 2 &&
	    v[0] > 0 && v[0] < 256 && v[1] >= 0 && v[1] < 256 &&
	    v[2] >= 0 && v[2] < 256)
		head->version = (v[0] << 16) | (v[1] << 8) | v[2];
	free(version);
	return (LQ_OK);
}

/*
 * A new lockdown client with a session (connect, QueryType, the pair
 * record's HostID, StartSession with TLS); never pairs. Its socket is
 * watched from the connect to the end of the TLS handshake, which has
 * no timeout of its own. On success *session_id is the session's.
 */
static int
session_lockdown_open(struct session *s, lockdownd_client_t *clientp,
    char **session_id, char **detail)
{
	lockdownd_client_t	 client = NULL;
	lockdownd_error_t	 le;
	idevice_t		 device;
	char			*type = NULL, *host_id = NULL, *sid = NULL;
	int			 rv;

	*clientp = NULL;
	*session_id = NULL;
	if ((rv = session_device(s, &device, detail)) != LQ_OK)
		return (rv);
	le = lockdownd_client_new(device, &client, SESSION_LABEL);
	if (le != LOCKDOWN_E_SUCCESS)
		return (session_lockdown_error(detail, le,
		    "lockdownd_client_new %s", s->udid));
	session_watch(s, session_lockdown_fd(client));
	if ((le = lockdownd_query_type(client, &type)) != LOCKDOWN_E_SUCCESS) {
		rv = session_lockdown_error(detail, le, "lockdownd_query_type");
		goto fail;
	}
	if (strcmp(type, SESSION_LOCKDOWN_TYPE) != 0) {
		if (detail != NULL && *detail == NULL)
			xasprintf(detail, "lockdownd_query_type: %s, not "
			    SESSION_LOCKDOWN_TYPE, type);
		rv = LQ_EPROTO;
		goto fail;
	}
	if ((rv = session_device_version(s, client, detail)) != LQ_OK)
		goto fail;
	if ((rv = session_host_id(s, &host_id, detail)) != LQ_OK)
		goto fail;
	le = lockdownd_start_session(client, host_id, &sid, NULL);
	if (le != LOCKDOWN_E_SUCCESS) {
		rv = session_lockdown_error(detail, le,
		    "lockdownd_start_session");
		free(sid);
		goto fail;
	}
	session_watch(s, -1);
	free(type);
	free(host_id);
	*clientp = client;
	*session_id = sid;
	return (LQ_OK);
fail:
	(void)session_lockdown_close(s, client, NULL, NULL);
	free(type);
	free(host_id);
	return (rv);
}

/*
 * Stop the session (session_id, or NULL if none or it failed) and free
 * client. Returns the status of StopSession.
 */
static int
session_lockdown_close(struct session *s, lockdownd_client_t client,
    const char *session_id, char **detail)
{
	lockdownd_error_t	le;
	int			fd, rv = LQ_OK;

	fd = session_lockdown_fd(client);
	if (session_id != NULL) {
		session_watch(s, fd);
		le = lockdownd_stop_session(client, session_id);
		if (le != LOCKDOWN_E_SUCCESS)
			rv = session_lockdown_error(detail, le,
			    "lockdownd_stop_session");
	}
	session_watch(s, -1);
	/*
	 * lockdownd_client_free would send StopSession itself after a
	 * failed one or a failed TLS handshake, and wait 30 s unwatched.
	 */
	if ((session_id == NULL || rv != LQ_OK) && fd != -1)
		(void)shutdown(fd, SHUT_RDWR);
	(void)lockdownd_client_free(client);
	return (rv);
}

/* The session's lockdown client, with the handshake done on first use. */
int
session_lockdown(struct session *s, lockdownd_client_t *client,
    char **detail)
{
	int	rv;

	*client = NULL;
	if (s->lockdown == NULL) {
		rv = session_lockdown_open(s, &s->lockdown, &s->session_id,
		    detail);
		if (rv != LQ_OK)
			return (rv);
	}
	*client = s->lockdown;
	return (LQ_OK);
}

/* The session's AFC client, started through its lockdown session. */
int
session_afc(struct session *s, afc_client_t *afc, char **detail)
{
	lockdownd_service_descriptor_t	 svc = NULL;
	lockdownd_client_t		 client;
	lockdownd_error_t		 le;
	afc_error_t			 ae;
	idevice_t			 device;
	int				 rv;

	*afc = NULL;
	if (s->afc == NULL) {
		if ((rv = session_lockdown(s, &client, detail)) != LQ_OK ||
		    (rv = session_device(s, &device, detail)) != LQ_OK)
			return (rv);
		session_watch(s, session_lockdown_fd(client));
		le = lockdownd_start_service(client, AFC_SERVICE_NAME, &svc);
		session_watch(s, -1);
		if (le != LOCKDOWN_E_SUCCESS)
			return (session_lockdown_error(detail, le,
			    "lockdownd_start_service " AFC_SERVICE_NAME));
		ae = afc_client_new(device, svc, &s->afc);
		(void)lockdownd_service_descriptor_free(svc);
		if (ae != AFC_E_SUCCESS) {
			s->afc = NULL;
			return (session_afc_error(detail, ae,
			    "afc_client_new"));
		}
	}
	*afc = s->afc;
	return (LQ_OK);
}

/* The session's AFC client, with the folder made on first use. */
int
session_folder(struct session *s, afc_client_t *afc, char **detail)
{
	afc_error_t	ae;
	int		rv;

	if ((rv = session_afc(s, afc, detail)) != LQ_OK)
		return (rv);
	if (!s->folder_made) {
		session_watch(s, session_afc_fd(*afc));
		ae = afc_make_directory(*afc, s->folder);
		session_watch(s, -1);
		if (ae != AFC_E_SUCCESS) {
			*afc = NULL;
			return (session_afc_error(detail, ae,
			    "afc_make_directory %s", s->folder));
		}
		s->folder_made = 1;
	}
	return (LQ_OK);
}

/* A full lockdown handshake on a new client, closed again. */
int
session_handshake(struct session *s, char **detail)
{
	lockdownd_client_t	 client;
	char			*sid;
	int			 rv;

	if ((rv = session_lockdown_open(s, &client, &sid, detail)) != LQ_OK)
		return (rv);
	rv = session_lockdown_close(s, client, sid, detail);
	free(sid);
	return (rv);
}

/* One string value into buf: left empty if the device has none. */
static int
session_info_value(struct session *s, lockdownd_client_t client,
    const char *key, char *buf, size_t len, char **detail)
{
	lockdownd_error_t	 le;
	plist_t			 value = NULL;
	char			*str = NULL;

	buf[0] = '\0';
	session_watch(s, session_lockdown_fd(client));
	le = lockdownd_get_value(client, NULL, key, &value);
	session_watch(s, -1);
	if (le == LOCKDOWN_E_MISSING_VALUE || le == LOCKDOWN_E_MISSING_KEY)
		return (LQ_OK);
	if (le != LOCKDOWN_E_SUCCESS)
		return (session_lockdown_error(detail, le,
		    "lockdownd_get_value %s", key));
	if (value != NULL && plist_get_node_type(value) == PLIST_STRING)
		plist_get_string_val(value, &str);
	if (str != NULL)
		(void)strlcpy(buf, str, len);
	free(str);
	plist_free(value);
	return (LQ_OK);
}

/* Whether the device trusts this host, and what it is. */
int
session_identify(struct session *s, struct session_info *info,
    char **detail)
{
	lockdownd_client_t	 client;
	char			*sid;
	int			 rv;

	memset(info, 0, sizeof(*info));
	if ((rv = session_lockdown_open(s, &client, &sid, detail)) != LQ_OK)
		return (rv);
	if ((rv = session_info_value(s, client, "DeviceName", info->name,
	    sizeof(info->name), detail)) == LQ_OK &&
	    (rv = session_info_value(s, client, "ProductType",
	    info->product_type, sizeof(info->product_type), detail)) ==
	    LQ_OK &&
	    (rv = session_info_value(s, client, "ProductVersion",
	    info->ios_version, sizeof(info->ios_version), detail)) == LQ_OK)
		rv = session_info_value(s, client, "SerialNumber",
		    info->serial, sizeof(info->serial), detail);
	if (rv == LQ_OK)
		rv = session_lockdown_close(s, client, sid, detail);
	else
		(void)session_lockdown_close(s, client, sid, NULL);
	free(sid);
	return (rv);
}

/* Remove every entry of the folder; count them in *removed. */
int
session_cleanup(struct session *s, unsigned int *removed, char **detail)
{
	afc_client_t	  afc;
	afc_error_t	  ae;
	char		**list = NULL, path[1024];
	size_t		  i;
	int		  rv, fd;

	*removed = 0;
	if ((rv = session_afc(s, &afc, detail)) != LQ_OK)
		return (rv);
	fd = session_afc_fd(afc);
	session_watch(s, fd);
	ae = afc_read_directory(afc, s->folder, &list);
	if (ae == AFC_E_OBJECT_NOT_FOUND) {
		session_watch(s, -1);
		return (LQ_OK);
	}
	if (ae != AFC_E_SUCCESS) {
		session_watch(s, -1);
		return (session_afc_error(detail, ae, "afc_read_directory %s",
		    s->folder));
	}
	for (i = 0; list != NULL && list[i] != NULL; i++) {
		if (strcmp(list[i], ".") == 0 || strcmp(list[i], "..") == 0)
			continue;
		/* A name that is not one entry of the folder is not ours. */
		if (list[i][0] == '\0' || strchr(list[i], '/') != NULL ||
		    strlen(s->folder) + 1 + strlen(list[i]) >= sizeof(path)) {
			if (detail != NULL && *detail == NULL)
				xasprintf(detail, "afc_read_directory %s: "
				    "unusable name \"%s\"", s->folder,
				    list[i]);
			if (rv == LQ_OK)
				rv = LQ_EPROTO;
			continue;
		}
		session_path(s, list[i], path, sizeof(path));
		ae = afc_remove_path(afc, path);
		if (ae == AFC_E_SUCCESS)
			(*removed)++;
		else if (rv == LQ_OK)
			rv = session_afc_error(detail, ae,
			    "afc_remove_path %s", path);
	}
	session_watch(s, -1);
	(void)afc_dictionary_free(list);
	return (rv);
}

/*
 * Write len bytes of buf through handle, looping on partial writes.
 * The caller watches the AFC socket.
 */
int
session_afc_write(afc_client_t afc, uint64_t handle, const char *path,
    const void *buf, size_t len, char **detail)
{
	const char	*p = buf;
	afc_error_t	 ae;
	uint32_t	 n, w;

	while (len > 0) {
		n = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
		w = 0;
		ae = afc_file_write(afc, handle, p, n, &w);
		if (ae != AFC_E_SUCCESS)
			return (session_afc_error(detail, ae,
			    "afc_file_write %s", path));
		/*
		 * When its send fails, 1.3.0 still says success with the
		 * bytes it sent less the header size: nothing sent wraps
		 * round to almost 4 GB.
		 */
		if (w == 0 || w > n) {
			if (detail != NULL && *detail == NULL)
				xasprintf(detail, "afc_file_write %s: %" PRIu32
				    " of %" PRIu32 " bytes sent", path,
				    w > n ? 0 : w, n);
			return (LQ_EDISCONNECTED);
		}
		p += w;
		len -= w;
	}
	return (LQ_OK);
}

/*
 * Read up to len bytes into buf through handle, looping until len or
 * the end of the file; *got says how many came. The caller watches.
 */
int
session_afc_read(afc_client_t afc, uint64_t handle, const char *path,
    void *buf, size_t len, size_t *got, char **detail)
{
	char		*p = buf;
	afc_error_t	 ae;
	uint32_t	 n, r;

	*got = 0;
	while (*got < len) {
		n = len - *got > UINT32_MAX ? UINT32_MAX :
		    (uint32_t)(len - *got);
		r = 0;
		ae = afc_file_read(afc, handle, p + *got, n, &r);
		if (ae != AFC_E_SUCCESS)
			return (session_afc_error(detail, ae,
			    "afc_file_read %s", path));
		if (r == 0 || r > n)
			break;
		*got += r;
	}
	return (LQ_OK);
}

/* Ask the device to pair with this host. */
int
session_pair(struct session *s, char **detail)
{
	lockdownd_client_t	client = NULL;
	lockdownd_error_t	le;
	idevice_t		device;
	int			rv;

	if ((rv = session_device(s, &device, detail)) != LQ_OK)
		return (rv);
	le = lockdownd_client_new(device, &client, SESSION_LABEL);
	if (le != LOCKDOWN_E_SUCCESS)
		return (session_lockdown_error(detail, le,
		    "lockdownd_client_new %s", s->udid));
	session_watch(s, session_lockdown_fd(client));
	le = lockdownd_pair(client, NULL);
	(void)session_lockdown_close(s, client, NULL, NULL);
	switch (le) {
	case LOCKDOWN_E_SUCCESS:
		return (LQ_OK);
	case LOCKDOWN_E_PAIRING_DIALOG_RESPONSE_PENDING:
		if (detail != NULL && *detail == NULL)
			xasprintf(detail, "lockdownd_pair: the Trust prompt "
			    "is waiting on %s: unlock the phone, tap Trust, "
			    "then pair again", s->udid);
		return (LQ_EPAIRPENDING);
	case LOCKDOWN_E_USER_DENIED_PAIRING:
		if (detail != NULL && *detail == NULL)
			xasprintf(detail, "lockdownd_pair: the user tapped "
			    "Don't Trust on %s", s->udid);
		return (LQ_ENOTPAIRED);
	case LOCKDOWN_E_PASSWORD_PROTECTED:
		if (detail != NULL && *detail == NULL)
			xasprintf(detail, "lockdownd_pair: %s is locked "
			    "with a passcode: unlock it and pair again",
			    s->udid);
		return (LQ_ELOCKED);
	default:
		return (session_lockdown_error(detail, le, "lockdownd_pair"));
	}
}

/* End the syslog stream, if it is open. */
void
session_devlog_stop(struct session *s)
{
	if (s->syslog == NULL)
		return;
	(void)syslog_relay_client_free(s->syslog);
	s->syslog = NULL;
}

/* Start the syslog stream through the lockdown session. */
static int
session_devlog_open(struct session *s, char **detail)
{
	lockdownd_service_descriptor_t	 svc = NULL;
	lockdownd_client_t		 client;
	lockdownd_error_t		 le;
	syslog_relay_error_t		 se;
	idevice_t			 device;
	int				 rv;

	if ((rv = session_lockdown(s, &client, detail)) != LQ_OK ||
	    (rv = session_device(s, &device, detail)) != LQ_OK)
		return (rv);
	session_watch(s, session_lockdown_fd(client));
	le = lockdownd_start_service(client, SYSLOG_RELAY_SERVICE_NAME, &svc);
	session_watch(s, -1);
	if (le != LOCKDOWN_E_SUCCESS)
		return (session_lockdown_error(detail, le,
		    "lockdownd_start_service " SYSLOG_RELAY_SERVICE_NAME));
	se = syslog_relay_client_new(device, svc, &s->syslog);
	(void)lockdownd_service_descriptor_free(svc);
	if (se != SYSLOG_RELAY_E_SUCCESS) {
		s->syslog = NULL;
		return (session_syslog_error(detail, se,
		    "syslog_relay_client_new"));
	}
	devlog_reset(&s->devlog);
	return (LQ_OK);
}

/* Read what the device's syslog has sent, without waiting for more. */
int
session_devlog(struct session *s, int flags, struct devlog_found *found,
    char **detail)
{
	char			buf[16384];
	struct pollfd		pfd;
	syslog_relay_error_t	se;
	lq_mono_t		end;
	uint32_t		got;
	int			fd, rv;

	if (flags & SESSION_DEVLOG_FRESH)
		session_devlog_stop(s);
	if (session_cancelled(s))
		return (LQ_OK);
	if (s->syslog == NULL) {
		if ((flags & SESSION_DEVLOG_OPEN) == 0)
			return (LQ_OK);
		if ((rv = session_devlog_open(s, detail)) != LQ_OK)
			return (rv);
	} else if (lq_mono_now().us - s->devlog_looked_us <
	    SESSION_DEVLOG_EVERY_US)
		return (LQ_OK);
	s->devlog_looked_us = lq_mono_now().us;
	end = lq_mono_add(lq_mono_now(), SESSION_DEVLOG_US);
	/* Without its socket, each read waits the 1 ms for nothing. */
	fd = session_syslog_fd(s->syslog);
	while (found->bytes < SESSION_DEVLOG_BYTES && !session_cancelled(s)) {
		if (fd != -1) {
			pfd.fd = fd;
			pfd.events = POLLIN;
			pfd.revents = 0;
			if (poll(&pfd, 1, 0) != 1)
				break;
		}
		got = 0;
		se = syslog_relay_receive_with_timeout(s->syslog, buf,
		    sizeof(buf), &got, 1);
		if (se == SYSLOG_RELAY_E_TIMEOUT)
			break;
		if (se != SYSLOG_RELAY_E_SUCCESS) {
			session_devlog_stop(s);
			return (session_syslog_error(detail, se,
			    "syslog_relay_receive_with_timeout"));
		}
		if (got == 0 || got > sizeof(buf))
			break;
		devlog_input(&s->devlog, buf, got, found);
		if (lq_mono_passed(end, lq_mono_now()))
			break;
	}
	return (LQ_OK);
}
