/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The simulated usbmuxd: its client protocol (protocols.md section 1),
 * the Listen subscribers, the pair records it keeps, and the relay of a
 * Connect to the device's lockdownd or service port.
 *
 * Each client connection runs mux_serve() on its own thread. Requests
 * are 16-byte little-endian headers followed by an XML plist; replies
 * echo the request's tag and are XML too, as libusbmuxd parses nothing
 * else. After a successful Connect the same socket carries the device's
 * byte stream, which this thread then serves as the device.
 */

#include <sys/socket.h>
#include <sys/uio.h>

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <plist/plist.h>

#include "afc.h"
#include "compat/compat.h"
#include "link.h"
#include "log.h"
#include "plist-service.h"
#include "rng.h"
#include "services.h"
#include "sim.h"
#include "xmalloc.h"

#define MUX_HEADER_SIZE		16
#define MUX_VERSION_PLIST	1
#define MUX_MESSAGE_PLIST	8
/* usbmuxd closes a client whose message is larger (client.c). */
#define MUX_MAX_MESSAGE		(64 * 1024)

/* A client that sent Listen. */
struct mux_listener {
	int				 fd;
	unsigned int			 id;
	char				*prog_name;
	char				*client_version;
	uint64_t			 lib_version;
	TAILQ_ENTRY(mux_listener)	 entry;
};
TAILQ_HEAD(mux_listeners, mux_listener);

/* A pair record usbmuxd keeps for a UDID. */
struct mux_record {
	char			*udid;
	char			*data;
	uint32_t		 len;
	TAILQ_ENTRY(mux_record)	 entry;
};
TAILQ_HEAD(mux_records, mux_record);

/* All guarded by sim_lock(). */
static struct mux_listeners	listeners = TAILQ_HEAD_INITIALIZER(listeners);
static struct mux_records	records = TAILQ_HEAD_INITIALIZER(records);
static unsigned int		last_listener_id;
static char			*buid;

/*
 * What usbmuxd can send wrong, for the control socket's usbmuxd-garbage
 * (linkq-sim(1)). One name per kind, in the order of the enum.
 */
enum mux_garbage {
	MUX_GARBAGE_HUGE_LENGTH,	/* a header claiming ~4 GiB */
	MUX_GARBAGE_SHORT_LENGTH,	/* a length below the header's */
	MUX_GARBAGE_TRUNCATED,		/* half of a message */
	MUX_GARBAGE_NOT_PLIST,		/* a payload of text */
	MUX_GARBAGE_WRONG_TYPE,		/* a plist array, not a dict */
	MUX_GARBAGE_BAD_MESSAGE,	/* a legacy Detached with no body */
	MUX_GARBAGE_UNKNOWN_TYPE,	/* a MessageType nobody knows */
	MUX_GARBAGE_BAD_ATTACHED,	/* Attached with keys of wrong types */
	MUX_GARBAGE_RANDOM		/* 256 random bytes */
};
static const char *const mux_garbage_names[] = {
	"huge-length", "short-length", "truncated", "not-plist",
	"wrong-type", "bad-message", "unknown-type", "bad-attached", "random"
};

/* Garbage owed to the next ListDevices requests. Guarded by sim_lock(). */
static int			garbage_list_count;
static enum mux_garbage		garbage_list_kind;
static int			garbage_list_close;
static uint64_t			garbage_seed = 1;

static struct mux_record *mux_record_find(const char *);

/* Set the BUID that ReadBUID answers. */
void
mux_init(const char *system_buid)
{
	buid = xstrdup(system_buid);
}

/* Return the BUID. */
const char *
mux_buid(void)
{
	return (buid);
}

/*
 * Read exactly len bytes from a blocking socket. Returns len, or how
 * many bytes came before EOF or an error (0: the peer had gone).
 */
static size_t
mux_read_full(int fd, void *buf, size_t len)
{
	unsigned char	*p = buf;
	ssize_t		 n;
	size_t		 done = 0;

	while (done < len) {
		n = read(fd, p + done, len - done);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	return (done);
}

/*
 * Send one message: header and XML body in a single sendmsg, so that a
 * client reading the header with one recv gets all of it. flags may add
 * MSG_DONTWAIT for notifications sent while holding the lock.
 */
static int
mux_send(int fd, uint32_t tag, plist_t msg, int flags)
{
	struct msghdr	 mh;
	struct iovec	 iov[2];
	uint32_t	 hdr[4], xml_len = 0;
	char		*xml = NULL;
	size_t		 total;
	ssize_t		 n;

	plist_to_xml(msg, &xml, &xml_len);
	if (xml == NULL)
		return (-1);
	total = MUX_HEADER_SIZE + (size_t)xml_len;
	hdr[0] = htole32((uint32_t)total);
	hdr[1] = htole32(MUX_VERSION_PLIST);
	hdr[2] = htole32(MUX_MESSAGE_PLIST);
	hdr[3] = htole32(tag);
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = xml;
	iov[1].iov_len = xml_len;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = 2;
	do
		n = sendmsg(fd, &mh, MSG_NOSIGNAL | flags);
	while (n == -1 && errno == EINTR);
	free(xml);
	return (n == (ssize_t)total ? 0 : -1);
}

/* Send {MessageType: Result, Number: code}. */
static int
mux_send_result(int fd, uint32_t tag, uint64_t code)
{
	plist_t	msg;
	int	ret;

	msg = plist_new_dict();
	plist_dict_set_item(msg, "MessageType", plist_new_string("Result"));
	plist_dict_set_item(msg, "Number", plist_new_uint(code));
	ret = mux_send(fd, tag, msg, 0);
	plist_free(msg);
	return (ret);
}

/* Get an unsigned integer value of key in dict: 0 or -1 if absent. */
static int
dict_uint(plist_t dict, const char *key, uint64_t *value)
{
	plist_t	node;

	node = plist_dict_get_item(dict, key);
	if (node == NULL || plist_get_node_type(node) != PLIST_UINT)
		return (-1);
	plist_get_uint_val(node, value);
	return (0);
}

/*
 * Read one request. Returns the plist (a dict with a MessageType), or
 * NULL on EOF or a malformed message, which ends the connection.
 */
static plist_t
mux_read_request(int fd, uint32_t *tag)
{
	uint32_t	 hdr[4], len;
	char		*body;
	plist_t		 msg = NULL;
	size_t		 got;

	if ((got = mux_read_full(fd, hdr, sizeof(hdr))) != sizeof(hdr)) {
		if (got > 0)
			log_warnx("mux: fd %d: connection closed in the middle "
			    "of a header (%zu of %d bytes)", fd, got,
			    MUX_HEADER_SIZE);
		return (NULL);
	}
	len = le32toh(hdr[0]);
	*tag = le32toh(hdr[3]);
	if (len <= MUX_HEADER_SIZE || len > MUX_MAX_MESSAGE) {
		log_warnx("mux: fd %d: message length %u out of range", fd,
		    len);
		return (NULL);
	}
	if (le32toh(hdr[1]) != MUX_VERSION_PLIST ||
	    le32toh(hdr[2]) != MUX_MESSAGE_PLIST) {
		log_warnx("mux: fd %d: version %u message %u: only plist "
		    "messages are supported", fd, le32toh(hdr[1]),
		    le32toh(hdr[2]));
		return (NULL);
	}
	body = xmalloc(len - MUX_HEADER_SIZE);
	if (mux_read_full(fd, body, len - MUX_HEADER_SIZE) !=
	    len - MUX_HEADER_SIZE) {
		log_warnx("mux: fd %d: connection closed in the middle of a "
		    "%u-byte message", fd, len);
		free(body);
		return (NULL);
	}
	plist_from_xml(body, len - MUX_HEADER_SIZE, &msg);
	free(body);
	if (msg == NULL || plist_get_node_type(msg) != PLIST_DICT ||
	    plist_get_node_type(plist_dict_get_item(msg, "MessageType")) !=
	    PLIST_STRING) {
		log_warnx("mux: fd %d: not a usbmuxd plist request", fd);
		plist_free(msg);
		return (NULL);
	}
	return (msg);
}

/*
 * ConnectionSpeed as usbmuxd maps libusb's speed of the device. 1.1.1
 * knows low, full, high and SuperSpeed and reports anything else as
 * high speed (usb.c:525-540 at tag 1.1.1), so a phone on a 10 Gb/s
 * link says 480000000; upstream reports 10 Gb/s since a2dceac (2024).
 */
static uint64_t
mux_speed(const struct sim_device *dev)
{
	switch (dev->speed_bps / 1000000) {
	case 1:
		return (UINT64_C(1500000));
	case 12:
		return (UINT64_C(12000000));
	case 5000:
		return (UINT64_C(5000000000));
	case 10000:
		if (muxd_speeds() == MUX_SPEEDS_UPSTREAM)
			return (UINT64_C(10000000000));
		return (UINT64_C(480000000));
	default:
		return (UINT64_C(480000000));
	}
}

/* The Properties of a plugged device, as usbmuxd fills them. */
static plist_t
mux_properties(struct sim_device *dev)
{
	plist_t	props;

	props = plist_new_dict();
	plist_dict_set_item(props, "ConnectionSpeed",
	    plist_new_uint(mux_speed(dev)));
	plist_dict_set_item(props, "ConnectionType", plist_new_string("USB"));
	plist_dict_set_item(props, "DeviceID", plist_new_uint(dev->mux_id));
	plist_dict_set_item(props, "LocationID",
	    plist_new_uint((uint64_t)dev->bus << 16 | (uint64_t)dev->devnum));
	plist_dict_set_item(props, "ProductID",
	    plist_new_uint(dev->product_id));
	plist_dict_set_item(props, "SerialNumber",
	    plist_new_string(dev->udid));
	return (props);
}

/* An Attached message for dev. Call with the lock held. */
static plist_t
mux_attached(struct sim_device *dev)
{
	plist_t	msg;

	msg = plist_new_dict();
	plist_dict_set_item(msg, "MessageType", plist_new_string("Attached"));
	plist_dict_set_item(msg, "DeviceID", plist_new_uint(dev->mux_id));
	plist_dict_set_item(msg, "Properties", mux_properties(dev));
	return (msg);
}

/*
 * Send msg to every listener; one that cannot take it at once is cut
 * (its thread then removes it). Call with the lock held.
 */
static void
mux_broadcast(plist_t msg)
{
	struct mux_listener	*l;

	TAILQ_FOREACH(l, &listeners, entry) {
		if (mux_send(l->fd, 0, msg, MSG_DONTWAIT) == -1) {
			log_warnx("mux: listener %u: cannot notify, "
			    "dropping it", l->id);
			(void)shutdown(l->fd, SHUT_RDWR);
		}
	}
}

/*
 * Make dev visible and send Attached: usbmuxd's client_device_add
 * (client.c:992-1002 at 1.1.1). Until then ListDevices and a new Listen
 * leave it out (device_get_list(0, ...)). Call with the lock held.
 */
void
mux_show_locked(struct sim_device *dev)
{
	plist_t	msg;

	dev->visible = 1;
	msg = mux_attached(dev);
	mux_broadcast(msg);
	plist_free(msg);
}

/*
 * dev was plugged. udev starts usbmuxd for it if it had exited
 * (39-usbmuxd.rules); usbmuxd then runs its preflight, which decides
 * when the device is shown (preflight.c), or, started with -p, shows it
 * at once (preflight.c:359-361).
 */
void
mux_notify_attached(struct sim_device *dev)
{
	sim_lock();
	if (dev->plugged && !dev->visible) {
		if (muxd_start())
			device_mux_restarted(dev);
		if (muxd_preflight())
			preflight_device_add(dev);
		else
			mux_show_locked(dev);
	}
	sim_unlock();
}

/* Send a Detached or Paired message for a DeviceID. Lock held. */
static void
mux_notify_id_locked(const char *type, uint32_t id)
{
	plist_t	msg;

	msg = plist_new_dict();
	plist_dict_set_item(msg, "MessageType", plist_new_string(type));
	plist_dict_set_item(msg, "DeviceID", plist_new_uint(id));
	mux_broadcast(msg);
	plist_free(msg);
}

/* Send a Detached or Paired message for a DeviceID to the listeners. */
static void
mux_notify_id(const char *type, uint32_t id)
{
	sim_lock();
	mux_notify_id_locked(type, id);
	sim_unlock();
}

/*
 * Send Paired: usbmuxd's client_device_paired (client.c:1016-1026),
 * to every listener, whether the device is visible yet or not. Call with
 * the lock held.
 */
void
mux_paired_locked(uint32_t id)
{
	mux_notify_id_locked("Paired", id);
}

/* Tell the listeners that the device with this DeviceID is gone. */
void
mux_notify_detached(uint32_t id)
{
	mux_notify_id("Detached", id);
}

/* Store or replace the pair record of udid. */
int
mux_record_put(const char *udid, const char *data, uint32_t len)
{
	sim_lock();
	mux_record_put_locked(udid, data, len);
	sim_unlock();
	return (0);
}

/* Store or replace the pair record of udid. Call with the lock held. */
void
mux_record_put_locked(const char *udid, const char *data, uint32_t len)
{
	struct mux_record	*r;

	TAILQ_FOREACH(r, &records, entry) {
		if (strcmp(r->udid, udid) == 0)
			break;
	}
	if (r == NULL) {
		r = xcalloc(1, sizeof(*r));
		r->udid = xstrdup(udid);
		TAILQ_INSERT_TAIL(&records, r, entry);
	}
	free(r->data);
	r->data = xmalloc(len > 0 ? len : 1);
	memcpy(r->data, data, len);
	r->len = len;
}

/* Find the record of udid. Call with the lock held. */
static struct mux_record *
mux_record_find(const char *udid)
{
	struct mux_record	*r;

	TAILQ_FOREACH(r, &records, entry) {
		if (strcmp(r->udid, udid) == 0)
			return (r);
	}
	return (NULL);
}

/*
 * Whether usbmuxd holds a record for dev that dev trusts: what decides
 * whether StartSession with the record's HostID succeeds. Lock held.
 */
int
mux_record_trusted_locked(struct sim_device *dev)
{
	struct mux_record	*r;
	plist_t			 rec = NULL;
	char			*host_id;
	int			 ok;

	if (dev->trust == SIM_TRUST_UNPAIRED ||
	    (r = mux_record_find(dev->udid)) == NULL)
		return (0);
	plist_from_memory(r->data, r->len, &rec);
	if (rec == NULL)
		return (0);
	host_id = plist_service_string(rec, "HostID");
	ok = host_id != NULL && pair_host_id_matches(&dev->pairing, host_id);
	free(host_id);
	plist_free(rec);
	return (ok);
}

/* How many Listen requests usbmuxd has answered since it started. */
unsigned int
mux_listens(void)
{
	unsigned int	n;

	sim_lock();
	n = last_listener_id;
	sim_unlock();
	return (n);
}

/*
 * A message frame: the header says total (which garbage may make a
 * lie), then len bytes of payload. Returns the bytes and their count.
 */
static char *
mux_frame(uint32_t version, uint32_t message, uint32_t tag,
    uint32_t total, const void *payload, size_t len, size_t *out_len)
{
	uint32_t	 hdr[4];
	char		*buf;

	hdr[0] = htole32(total);
	hdr[1] = htole32(version);
	hdr[2] = htole32(message);
	hdr[3] = htole32(tag);
	*out_len = sizeof(hdr) + len;
	buf = xmalloc(*out_len);
	memcpy(buf, hdr, sizeof(hdr));
	if (len > 0)
		memcpy(buf + sizeof(hdr), payload, len);
	return (buf);
}

/* A plist message, whole, or only its first half (truncated). */
static char *
mux_frame_plist(uint32_t tag, plist_t msg, int half, size_t *out_len)
{
	char		*xml = NULL, *buf;
	uint32_t	 xml_len = 0;

	plist_to_xml(msg, &xml, &xml_len);
	plist_free(msg);
	if (xml == NULL)
		fatalx("%s: plist_to_xml", __func__);
	buf = mux_frame(MUX_VERSION_PLIST, MUX_MESSAGE_PLIST, tag,
	    MUX_HEADER_SIZE + xml_len, xml, half ? xml_len / 2 : xml_len,
	    out_len);
	free(xml);
	return (buf);
}

/* The bytes of one kind of garbage. Call with the lock held (seed). */
static char *
mux_garbage_bytes(enum mux_garbage kind, uint32_t tag, size_t *len)
{
	static const char	 text[] = "this is not a plist\n";
	plist_t			 msg, props;
	char			*buf;
	size_t			 i;

	switch (kind) {
	case MUX_GARBAGE_HUGE_LENGTH:
		return (mux_frame(MUX_VERSION_PLIST, MUX_MESSAGE_PLIST, tag,
		    UINT32_C(0xfffffff0), "<?xml", 5, len));
	case MUX_GARBAGE_SHORT_LENGTH:
		return (mux_frame(MUX_VERSION_PLIST, MUX_MESSAGE_PLIST, tag,
		    4, NULL, 0, len));
	case MUX_GARBAGE_NOT_PLIST:
		return (mux_frame(MUX_VERSION_PLIST, MUX_MESSAGE_PLIST, tag,
		    MUX_HEADER_SIZE + sizeof(text) - 1, text,
		    sizeof(text) - 1, len));
	case MUX_GARBAGE_BAD_MESSAGE:
		/* Binary protocol's DEVICE_REMOVE (5), no DeviceID after. */
		return (mux_frame(0, 5, tag, MUX_HEADER_SIZE, NULL, 0, len));
	case MUX_GARBAGE_RANDOM:
		buf = xmalloc(256);
		for (i = 0; i < 256; i++)
			buf[i] = (char)(rng_next(&garbage_seed) >> 56);
		*len = 256;
		return (buf);
	case MUX_GARBAGE_TRUNCATED:
		msg = plist_new_dict();
		plist_dict_set_item(msg, "MessageType",
		    plist_new_string("Detached"));
		plist_dict_set_item(msg, "DeviceID", plist_new_uint(1));
		return (mux_frame_plist(tag, msg, 1, len));
	case MUX_GARBAGE_WRONG_TYPE:
		msg = plist_new_array();
		plist_array_append_item(msg, plist_new_string("Attached"));
		return (mux_frame_plist(tag, msg, 0, len));
	case MUX_GARBAGE_UNKNOWN_TYPE:
		msg = plist_new_dict();
		plist_dict_set_item(msg, "MessageType",
		    plist_new_string("Rumour"));
		return (mux_frame_plist(tag, msg, 0, len));
	case MUX_GARBAGE_BAD_ATTACHED:
		msg = plist_new_dict();
		plist_dict_set_item(msg, "MessageType",
		    plist_new_string("Attached"));
		plist_dict_set_item(msg, "DeviceID", plist_new_string("one"));
		props = plist_new_dict();
		plist_dict_set_item(props, "DeviceID", plist_new_string("one"));
		plist_dict_set_item(props, "ConnectionType",
		    plist_new_string("USB"));
		plist_dict_set_item(msg, "Properties", props);
		return (mux_frame_plist(tag, msg, 0, len));
	}
	fatalx("%s: kind %d", __func__, (int)kind);
}

/* Send one kind of garbage on fd. 0 or -1. */
static int
mux_garbage_send(int fd, uint32_t tag, enum mux_garbage kind)
{
	char	*buf;
	size_t	 len;
	ssize_t	 n;

	sim_lock();
	buf = mux_garbage_bytes(kind, tag, &len);
	sim_unlock();
	do
		n = send(fd, buf, len, MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	free(buf);
	return (n == (ssize_t)len ? 0 : -1);
}

/*
 * usbmuxd sends garbage: now on every Listen connection (to NULL or
 * "listeners"), or instead of the next count ListDevices answers (to
 * "list-devices"); then closes that connection, or goes on as if
 * nothing happened. 0, or -1 with *cause.
 */
int
mux_garbage(const char *name, const char *to, long long count,
    int close_after, char **cause)
{
	struct mux_listener	*l;
	enum mux_garbage	 kind;
	char			*buf;
	size_t			 i, len;
	int			 n = 0;

	for (i = 0; i < nitems(mux_garbage_names); i++) {
		if (name != NULL && strcmp(name, mux_garbage_names[i]) == 0)
			break;
	}
	if (i == nitems(mux_garbage_names)) {
		xasprintf(cause, "usbmuxd-garbage needs a \"kind\": "
		    "huge-length, short-length, truncated, not-plist, "
		    "wrong-type, bad-message, unknown-type, bad-attached or "
		    "random");
		return (-1);
	}
	kind = (enum mux_garbage)i;
	if (to != NULL && strcmp(to, "list-devices") == 0) {
		if (count < 1 || count > 1000) {
			xasprintf(cause, "usbmuxd-garbage to list-devices "
			    "needs a \"count\" from 1 to 1000");
			return (-1);
		}
		sim_lock();
		garbage_list_count = (int)count;
		garbage_list_kind = kind;
		garbage_list_close = close_after;
		sim_unlock();
		return (0);
	}
	if (to != NULL && strcmp(to, "listeners") != 0) {
		xasprintf(cause, "usbmuxd-garbage goes \"to\" listeners or "
		    "list-devices, not %s", to);
		return (-1);
	}
	sim_lock();
	TAILQ_FOREACH(l, &listeners, entry) {
		buf = mux_garbage_bytes(kind, 0, &len);
		if (send(l->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT) !=
		    (ssize_t)len)
			log_warnx("mux: listener %u: garbage not sent whole",
			    l->id);
		free(buf);
		if (close_after)
			(void)shutdown(l->fd, SHUT_RDWR);
		n++;
	}
	sim_unlock();
	if (n == 0) {
		xasprintf(cause, "no client has sent Listen: nobody to send "
		    "garbage to");
		return (-1);
	}
	log_info("mux: %s garbage sent to %d listener%s", name, n,
	    n == 1 ? "" : "s");
	return (0);
}

/* ListDevices: every visible device, as Attached entries. */
static int
mux_list_devices(int fd, uint32_t tag)
{
	struct sim_device	*dev;
	plist_t			 msg, list;
	int			 ret;

	sim_lock();
	if (garbage_list_count > 0) {
		garbage_list_count--;
		sim_unlock();
		ret = mux_garbage_send(fd, tag, garbage_list_kind);
		/* Closing ends mux_serve's loop, which closes fd. */
		return (garbage_list_close ? -1 : ret);
	}
	msg = plist_new_dict();
	list = plist_new_array();
	for (dev = device_first(); dev != NULL; dev = device_next(dev)) {
		if (dev->plugged && dev->visible)
			plist_array_append_item(list, mux_attached(dev));
	}
	sim_unlock();
	plist_dict_set_item(msg, "DeviceList", list);
	ret = mux_send(fd, tag, msg, 0);
	plist_free(msg);
	return (ret);
}

/*
 * Listen: answer, announce every plugged device and from then on every
 * change, until the client goes away. Registering under the lock that
 * device changes take means no event is missed or sent twice.
 */
static void
mux_listen(int fd, uint32_t tag, plist_t req)
{
	struct mux_listener	*l;
	struct sim_device	*dev;
	plist_t			 msg;
	char			 buf[256];
	ssize_t			 n;

	if (mux_send_result(fd, tag, MUX_RESULT_OK) == -1)
		return;
	l = xcalloc(1, sizeof(*l));
	l->fd = fd;
	if ((l->prog_name = plist_service_string(req, "ProgName")) == NULL)
		l->prog_name = xstrdup("");
	if ((l->client_version = plist_service_string(req,
	    "ClientVersionString")) == NULL)
		l->client_version = xstrdup("");
	(void)dict_uint(req, "kLibUSBMuxVersion", &l->lib_version);

	sim_lock();
	l->id = ++last_listener_id;
	for (dev = device_first(); dev != NULL; dev = device_next(dev)) {
		if (!dev->plugged || !dev->visible)
			continue;
		msg = mux_attached(dev);
		(void)mux_send(fd, 0, msg, MSG_DONTWAIT);
		plist_free(msg);
	}
	TAILQ_INSERT_TAIL(&listeners, l, entry);
	sim_unlock();

	/* A listener sends nothing more; wait for it to go away. */
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n > 0 || (n == -1 && errno == EINTR))
			continue;
		break;
	}

	sim_lock();
	TAILQ_REMOVE(&listeners, l, entry);
	sim_unlock();
	free(l->prog_name);
	free(l->client_version);
	free(l);
}

/* Serve the device's side of a connected stream. */
static void
mux_relay(int fd, struct sim_device *dev, uint16_t port,
    enum sim_service_kind kind)
{
	struct sim_conn		conn;
	struct sim_link_conn	lc;

	memset(&conn, 0, sizeof(conn));
	conn.fd = fd;
	conn.dev = dev;
	lc.conn = &conn;
	device_add_conn(dev, &lc);
	if (port == LOCKDOWN_PORT)
		lockdown_serve(&conn, dev);
	else if (kind == SIM_SERVICE_AFC)
		afc_serve(&conn, dev->fs);
	else if (kind == SIM_SERVICE_SYSLOG_RELAY)
		syslog_relay_serve(&conn, dev);
	else if (kind == SIM_SERVICE_DIAGNOSTICS_RELAY)
		diagnostics_relay_serve(&conn, dev);
	else
		log_warnx("mux: device %s: service on port %u is not "
		    "simulated", dev->udid, port);
	device_remove_conn(dev, &lc);
}

/*
 * Connect: find the device and the port, answer, and become the device's
 * end of the stream. Returns 1 when the connection was taken over.
 */
static int
mux_connect(int fd, uint32_t tag, plist_t req)
{
	struct sim_device	*dev;
	enum sim_service_kind	 kind = SIM_SERVICE_AFC;
	uint64_t		 id, raw_port;
	uint16_t		 port;
	uint64_t		 result = MUX_RESULT_OK;

	if (dict_uint(req, "DeviceID", &id) == -1 ||
	    dict_uint(req, "PortNumber", &raw_port) == -1) {
		(void)mux_send_result(fd, tag, MUX_RESULT_BADCOMMAND);
		return (0);
	}
	/* libusbmuxd sends htons(port) as a plain integer. */
	port = ntohs((uint16_t)raw_port);

	sim_lock();
	dev = device_find_mux_id((uint32_t)id);
	if (dev == NULL)
		result = MUX_RESULT_BADDEV;
	else if (port != LOCKDOWN_PORT &&
	    device_take_service(dev, port, &kind) == -1)
		result = MUX_RESULT_CONNREFUSED;
	sim_unlock();
	/*
	 * The SYN crosses the device's link and its SYN/ACK or RST comes
	 * back: a round trip that waits out a stall and fails if the link
	 * drops the device meanwhile, as usbmuxd then refuses the Connect.
	 */
	if (dev != NULL)
		log_debug("mux: fd %d: Connect to device %llu port %u: "
		    "handshake on the link", fd, (unsigned long long)id, port);
	if (dev != NULL && link_round_trip(dev) == -1 &&
	    result == MUX_RESULT_OK) {
		log_info("mux: fd %d: Connect to device %llu port %u: the "
		    "device left during the handshake", fd,
		    (unsigned long long)id, port);
		(void)mux_send_result(fd, tag, MUX_RESULT_CONNREFUSED);
		return (0);
	}
	if (result != MUX_RESULT_OK) {
		log_info("mux: fd %d: Connect to device %llu port %u: %s", fd,
		    (unsigned long long)id, port, result == MUX_RESULT_BADDEV ?
		    "no such device" : "connection refused");
		(void)mux_send_result(fd, tag, result);
		return (0);
	}
	if (mux_send_result(fd, tag, MUX_RESULT_OK) == -1)
		return (1);
	mux_relay(fd, dev, port, kind);
	return (1);
}

/* ReadPairRecord: the stored record, or ENOENT. */
static int
mux_read_pair_record(int fd, uint32_t tag, plist_t req)
{
	struct mux_record	*r;
	char			*udid;
	plist_t			 msg;
	int			 ret;

	if ((udid = plist_service_string(req, "PairRecordID")) == NULL)
		return (mux_send_result(fd, tag, EINVAL));
	msg = NULL;
	sim_lock();
	if ((r = mux_record_find(udid)) != NULL) {
		msg = plist_new_dict();
		plist_dict_set_item(msg, "PairRecordData",
		    plist_new_data(r->data, r->len));
	}
	sim_unlock();
	free(udid);
	if (msg == NULL)
		return (mux_send_result(fd, tag, ENOENT));
	ret = mux_send(fd, tag, msg, 0);
	plist_free(msg);
	return (ret);
}

/* Whether a record id is a UDID usbmuxd accepts ([A-Za-z0-9-]). */
static int
mux_udid_valid(const char *udid)
{
	if (*udid == '\0')
		return (0);
	return (strspn(udid, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(udid));
}

/* SavePairRecord: store it and, for a plugged device, send Paired. */
static int
mux_save_pair_record(int fd, uint32_t tag, plist_t req)
{
	char		*udid, *data = NULL;
	uint64_t	 len = 0, id = 0;
	plist_t		 node;
	int		 plugged;

	udid = plist_service_string(req, "PairRecordID");
	node = plist_dict_get_item(req, "PairRecordData");
	if (udid == NULL || !mux_udid_valid(udid) || node == NULL ||
	    plist_get_node_type(node) != PLIST_DATA) {
		free(udid);
		return (mux_send_result(fd, tag, EINVAL));
	}
	plist_get_data_val(node, &data, &len);
	(void)mux_record_put(udid, data, (uint32_t)len);
	free(data);
	free(udid);
	if (mux_send_result(fd, tag, MUX_RESULT_OK) == -1)
		return (-1);
	if (dict_uint(req, "DeviceID", &id) == 0 && id > 0) {
		sim_lock();
		plugged = device_find_mux_id((uint32_t)id) != NULL;
		sim_unlock();
		if (plugged)
			mux_notify_id("Paired", (uint32_t)id);
	}
	return (0);
}

/* DeletePairRecord: forget it, or ENOENT. */
static int
mux_delete_pair_record(int fd, uint32_t tag, plist_t req)
{
	struct mux_record	*r;
	char			*udid;

	if ((udid = plist_service_string(req, "PairRecordID")) == NULL)
		return (mux_send_result(fd, tag, EINVAL));
	sim_lock();
	if ((r = mux_record_find(udid)) != NULL) {
		TAILQ_REMOVE(&records, r, entry);
		free(r->udid);
		free(r->data);
		free(r);
	}
	sim_unlock();
	free(udid);
	return (mux_send_result(fd, tag, r != NULL ? MUX_RESULT_OK : ENOENT));
}

/* ReadBUID. */
static int
mux_read_buid(int fd, uint32_t tag)
{
	plist_t	msg;
	int	ret;

	msg = plist_new_dict();
	plist_dict_set_item(msg, "BUID", plist_new_string(buid));
	ret = mux_send(fd, tag, msg, 0);
	plist_free(msg);
	return (ret);
}

/* ListListeners: who is subscribed. */
static int
mux_list_listeners(int fd, uint32_t tag)
{
	struct mux_listener	*l;
	plist_t			 msg, list, item;
	char			 id[64];
	int			 ret;

	list = plist_new_array();
	sim_lock();
	TAILQ_FOREACH(l, &listeners, entry) {
		item = plist_new_dict();
		plist_dict_set_item(item, "Blacklisted", plist_new_bool(0));
		plist_dict_set_item(item, "ConnType", plist_new_uint(0));
		(void)snprintf(id, sizeof(id), "%u-%s", l->id, l->prog_name);
		plist_dict_set_item(item, "ID String", plist_new_string(id));
		plist_dict_set_item(item, "ProgName",
		    plist_new_string(l->prog_name));
		plist_dict_set_item(item, "kLibUSBMuxVersion",
		    plist_new_uint(l->lib_version));
		plist_array_append_item(list, item);
	}
	sim_unlock();
	msg = plist_new_dict();
	plist_dict_set_item(msg, "ListenerList", list);
	ret = mux_send(fd, tag, msg, 0);
	plist_free(msg);
	return (ret);
}

/*
 * Serve one usbmuxd client until it goes away, sends something
 * malformed, or turns into a Listen or Connect stream. Closes fd.
 */
void
mux_serve(int fd)
{
	struct conn_live live;
	struct muxd_client client;
	plist_t		 req;
	char		*type;
	uint32_t	 tag;
	int		 ret = 0, done = 0, registered;

	conn_live_add(&live, fd);
	/* Accepted just before usbmuxd exited: it is gone already. */
	registered = muxd_client_add(&client, fd) == 0;
	done = !registered;
	while (!done && ret == 0 && (req = mux_read_request(fd, &tag)) !=
	    NULL) {
		/* mux_read_request checked that MessageType is a string. */
		type = plist_service_string(req, "MessageType");
		if (strcmp(type, "ListDevices") == 0)
			ret = mux_list_devices(fd, tag);
		else if (strcmp(type, "Listen") == 0) {
			mux_listen(fd, tag, req);
			done = 1;
		} else if (strcmp(type, "Connect") == 0)
			done = mux_connect(fd, tag, req);
		else if (strcmp(type, "ReadBUID") == 0)
			ret = mux_read_buid(fd, tag);
		else if (strcmp(type, "ReadPairRecord") == 0)
			ret = mux_read_pair_record(fd, tag, req);
		else if (strcmp(type, "SavePairRecord") == 0)
			ret = mux_save_pair_record(fd, tag, req);
		else if (strcmp(type, "DeletePairRecord") == 0)
			ret = mux_delete_pair_record(fd, tag, req);
		else if (strcmp(type, "ListListeners") == 0)
			ret = mux_list_listeners(fd, tag);
		else {
			log_warnx("mux: fd %d: unknown request \"%s\"", fd,
			    type);
			ret = mux_send_result(fd, tag, MUX_RESULT_BADCOMMAND);
		}
		free(type);
		plist_free(req);
	}
	/*
	 * Free this thread's OpenSSL state (its error queue, for one) now:
	 * once conn_live_remove() returns, shutdown may end the process
	 * before the thread-exit handlers that would free it have run.
	 */
	OPENSSL_thread_stop();
	if (registered)
		muxd_client_remove(&client);
	conn_live_remove(&live);
	(void)close(fd);
}
