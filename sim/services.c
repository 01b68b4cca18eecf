/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The simulated device's com.apple.syslog_relay and
 * com.apple.mobile.diagnostics_relay services (contract in services.h;
 * wire formats from libimobiledevice 1.3.0 src/syslog_relay.c,
 * src/diagnostics_relay.c and src/property_list_service.c).
 *
 * SYSLOG
 * On connect the device sends SYSLOG_BURST ordinary lines and one
 * statistics line, so that a client sees output at once, then an
 * ordinary line every 200 to 500 ms and a statistics line every
 * SYSLOG_STATS_INTERVAL_MS. Every message is written whole, with one
 * conn_write, as the text, "\n" and a NUL: idevicesyslog ends a message
 * at the NUL and prints the text as it is, newline included. A line is
 *
 *	Nov 25 15:40:01 linkq-sim-iPhone SpringBoard(FrontBoard)[58]
 *	    <Notice>: message text
 *
 * (on one line): the local wall-clock time as "%b %e %H:%M:%S", which
 * puts blanks in columns 3, 6 and 15 as idevicesyslog expects; the host
 * name, which is DeviceName with blanks turned into dashes and anything
 * but letters, digits and dashes dropped, as iOS derives it; the process
 * with its subsystem in brackets and its pid; the level; the message.
 * The statistics line is exactly
 *
 *	<stamp> <host> kernel[0] <Notice>: AppleUSBDeviceMux::reportStats:
 *	    USB2.0 reads R, errors RE; writes W, errors WE; duplicate
 *	    packets D
 *
 * (on one line), with "USB3.0" when the device is plugged at 5 Gb/s or
 * more, and R, RE, W, WE and D the decimal values of mux_reads,
 * mux_read_errors, mux_writes, mux_write_errors and mux_duplicates at
 * that moment. Ordinary lines never mention AppleUSBDeviceMux.
 *
 * Between lines the thread waits in poll() on the socket instead of
 * sleeping, so that a client that hangs up, or a cut socket, ends the
 * stream at once rather than at the next failed write. The client sends
 * nothing; what it might send is read and dropped. These services never
 * turn TLS on, which is what makes reading the socket directly safe.
 *
 * DIAGNOSTICS
 * Each message is a 4-byte big-endian length and an XML plist (binary
 * is accepted too), at most DIAG_MAX_MESSAGE bytes. A request is a
 * dictionary with a "Request" string; a reply is {Status} or {Status,
 * Diagnostics}; libimobiledevice tells "Success", "Failure" and
 * "UnknownRequest" apart, and its tools fail on anything but "Success".
 * Answered: All, GasGauge, WiFi, NAND and HDMI (the Diagnostics dict
 * holds one sub-dict per area), MobileGestalt (the MobileGestaltKeys we
 * know; from iOS 17.4 on only the status MobileGestaltDeprecated),
 * IORegistry (the battery entry by EntryName or EntryClass
 * "AppleARMPMUCharger" or "AppleSmartBattery", or a small tree for any
 * plane), Goodbye (then the connection ends), and Restart, Shutdown and
 * Sleep, which are only acknowledged: the simulated device does not
 * restart, shut down or sleep yet. After Restart or Shutdown with
 * WaitForDisconnect the device waits for the client to leave, as a real
 * one does before acting, so the client's Goodbye is still answered;
 * otherwise, and after Sleep, the connection ends after the reply. Any
 * other request is answered with Status "UnknownRequest".
 */

#include <sys/socket.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <plist/plist.h>

#include "compat/compat.h"
#include "log.h"
#include "plist-service.h"
#include "lq-time.h"
#include "xmalloc.h"

#include "services.h"
#include "sim.h"

#define SYSLOG_LINE_MAX		512
#define SYSLOG_HOST_MAX		64
#define SYSLOG_BURST		4
#define SYSLOG_GAP_MIN_MS	200
#define SYSLOG_GAP_MAX_MS	500
/* ConnectionSpeed from which the kernel calls the link USB 3. */
#define SYSLOG_USB3_BPS		UINT64_C(5000000000)

/* Larger messages than this are not diagnostics traffic. */
#define DIAG_MAX_MESSAGE	(1024 * 1024)

/* The battery of an iPhone 11 after a year and a half of use. */
#define BATTERY_CYCLE_COUNT	312
#define BATTERY_DESIGN_MAH	3110
#define BATTERY_FULL_MAH	2797
#define BATTERY_PERCENT		87	/* as lockdown's battery domain */

/* One ordinary syslog message. */
struct syslog_msg {
	const char	*proc;		/* "name(subsystem)[pid]" */
	const char	*level;		/* Notice, Warning, Error, Debug */
	const char	*text;
};

static const struct syslog_msg syslog_msgs[] = {
	{ "SpringBoard(FrontBoard)[58]", "Notice",
	    "[FBSystemService] Received request to activate "
	    "com.apple.Preferences" },
	{ "SpringBoard(SpringBoardHome)[58]", "Notice",
	    "Icon list layout changed: 4 columns, 6 rows" },
	{ "backboardd(CoreBrightness)[67]", "Notice",
	    "Brightness: 0.452, lux: 212.0" },
	{ "kernel[0]", "Notice",
	    "AppleARMPMUCharger: USB input current limit 500 mA" },
	{ "kernel[0]", "Notice",
	    "AppleSmartBatteryManager: cycle count 312, full charge "
	    "2797 mAh" },
	{ "locationd[73]", "Notice",
	    "{\"msg\":\"client authorization\", "
	    "\"client\":\"com.apple.weather\", \"auth\":\"WhenInUse\"}" },
	{ "wifid(WiFiPolicy)[44]", "Notice",
	    "WiFiDeviceManager: RSSI -54 dBm on channel 36, rate 866 Mb/s" },
	{ "powerd[51]", "Notice",
	    "Battery 87%, external power connected, charging" },
	{ "lockdownd[47]", "Notice",
	    "spawn_xpc_service: launching com.apple.syslog_relay" },
	{ "mDNSResponder[101]", "Notice",
	    "mDNS_Execute: interface en0 active, 3 services registered" },
	{ "CommCenter[83]", "Notice",
	    "#I Signal strength: bars 4, rssi -87 dBm" },
	{ "symptomsd(SymptomEvaluator)[120]", "Warning",
	    "NBSM: TCP progress score 20, problem ratio 0.2 (baseline 0.1)" },
	{ "dasd[103]", "Error",
	    "Activity com.apple.photoanalysisd.backgroundanalysis deferred: "
	    "device in use" },
	{ "UserEventAgent(com.apple.netsvcproxy)[33]", "Debug",
	    "netsvcproxy: no change in network configuration" },
};

/* The state of one syslog stream. */
struct syslog_stream {
	struct sim_conn		*conn;
	struct sim_device	*dev;
	char			 host[SYSLOG_HOST_MAX];
	uint64_t		 rng;	/* xorshift64 state, never 0 */
	size_t			 last;	/* syslog_msgs index sent last */
};

/* Return the next number of the stream's own generator. */
static uint64_t
syslog_random(struct syslog_stream *s)
{
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return (s->rng);
}

/* Derive the syslog host name from DeviceName. */
static void
syslog_host(struct sim_device *dev, char *host, size_t size)
{
	const char	*p;
	char		*name;
	size_t		 n = 0;

	name = device_name(dev);
	for (p = name; *p != '\0' && n + 1 < size; p++) {
		if (*p == ' ')
			host[n++] = '-';
		else if (isalnum((unsigned char)*p) || *p == '-')
			host[n++] = *p;
	}
	host[n] = '\0';
	free(name);
	if (n == 0)
		(void)strlcpy(host, "iPhone", size);
}

/* Send one message with the current time, "\n" and its NUL. */
static int
syslog_send(struct syslog_stream *s, const char *proc, const char *level,
    const char *text)
{
	char		 stamp[32], line[SYSLOG_LINE_MAX];
	struct tm	 tm;
	time_t		 now;
	int		 len;

	now = time(NULL);
	if (localtime_r(&now, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm) == 0)
		(void)strlcpy(stamp, "Jan  1 00:00:00", sizeof(stamp));
	len = xsnprintf(line, sizeof(line), "%s %s %s <%s>: %s\n", stamp,
	    s->host, proc, level, text);
	/* The NUL snprintf wrote is the message's end on the wire. */
	return (conn_write(s->conn, line, (size_t)len + 1));
}

/* Send an ordinary message picked at random, not the last one again. */
static int
syslog_send_ordinary(struct syslog_stream *s)
{
	const struct syslog_msg	*m;
	size_t			 i;

	i = syslog_random(s) % nitems(syslog_msgs);
	if (i == s->last)
		i = (i + 1) % nitems(syslog_msgs);
	s->last = i;
	m = &syslog_msgs[i];
	return (syslog_send(s, m->proc, m->level, m->text));
}

/* Send the AppleUSBDeviceMux statistics line. */
static int
syslog_send_stats(struct syslog_stream *s)
{
	struct sim_device	*dev = s->dev;
	char			 text[256];
	int			 usb3;

	sim_lock();
	usb3 = dev->speed_bps >= SYSLOG_USB3_BPS;
	sim_unlock();
	(void)xsnprintf(text, sizeof(text), "AppleUSBDeviceMux::reportStats: "
	    "USB%s reads %ju, errors %ju; writes %ju, errors %ju; duplicate "
	    "packets %ju", usb3 ? "3.0" : "2.0",
	    (uintmax_t)atomic_load(&dev->mux_reads),
	    (uintmax_t)atomic_load(&dev->mux_read_errors),
	    (uintmax_t)atomic_load(&dev->mux_writes),
	    (uintmax_t)atomic_load(&dev->mux_write_errors),
	    (uintmax_t)atomic_load(&dev->mux_duplicates));
	return (syslog_send(s, "kernel[0]", "Notice", text));
}

/*
 * Wait up to us microseconds for the client to hang up. Returns 0 when
 * the time is up or the client sent something (dropped), -1 when it is
 * gone or the connection was cut.
 */
static int
syslog_wait(struct syslog_stream *s, int64_t us)
{
	struct pollfd	pfd;
	char		buf[256];
	ssize_t		n;
	int		r;

	pfd.fd = s->conn->fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	r = poll(&pfd, 1, (int)((us + 999) / 1000));
	if (r == -1)
		return (errno == EINTR ? 0 : -1);
	if (r == 0)
		return (0);
	n = recv(pfd.fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n > 0 || (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR)))
		return (0);
	return (-1);
}

/* Return a pause between ordinary lines, in microseconds. */
static int64_t
syslog_gap_us(struct syslog_stream *s)
{
	uint64_t	ms;

	ms = SYSLOG_GAP_MIN_MS + syslog_random(s) %
	    (SYSLOG_GAP_MAX_MS - SYSLOG_GAP_MIN_MS + 1);
	return ((int64_t)ms * LQ_USEC_PER_MSEC);
}

/*
 * Serve com.apple.syslog_relay until the client goes away or the
 * connection is cut. Runs on the connection's thread.
 */
void
syslog_relay_serve(struct sim_conn *conn, struct sim_device *dev)
{
	struct syslog_stream	 s;
	lq_mono_t		 now, next_line, next_stats, deadline;
	int64_t			 stats_us;
	int			 i, ret = 0;

	memset(&s, 0, sizeof(s));
	s.conn = conn;
	s.dev = dev;
	syslog_host(dev, s.host, sizeof(s.host));
	/* Its own generator: the seeded random() stays reproducible. */
	s.rng = (uint64_t)lq_mono_now().us ^ (uint64_t)(uintptr_t)conn;
	if (s.rng == 0)
		s.rng = 1;
	s.last = nitems(syslog_msgs);
	stats_us = SYSLOG_STATS_INTERVAL_MS * LQ_USEC_PER_MSEC;
	log_debug("syslog_relay: %s: streaming as %s", dev->udid, s.host);

	for (i = 0; i < SYSLOG_BURST && ret == 0; i++)
		ret = syslog_send_ordinary(&s);
	if (ret == 0)
		ret = syslog_send_stats(&s);
	now = lq_mono_now();
	next_line = lq_mono_add(now, syslog_gap_us(&s));
	next_stats = lq_mono_add(now, stats_us);
	while (ret == 0) {
		now = lq_mono_now();
		if (lq_mono_passed(next_stats, now)) {
			ret = syslog_send_stats(&s);
			next_stats = lq_mono_add(now, stats_us);
		} else if (lq_mono_passed(next_line, now)) {
			ret = syslog_send_ordinary(&s);
			next_line = lq_mono_add(now, syslog_gap_us(&s));
		} else {
			deadline = lq_mono_cmp(next_line, next_stats) < 0 ?
			    next_line : next_stats;
			ret = syslog_wait(&s, lq_mono_sub(deadline, now));
		}
	}
	log_debug("syslog_relay: %s: client gone", dev->udid);
}

/* Read one request; NULL on EOF, error or a malformed message. */
static plist_t
diag_read(struct sim_conn *conn, struct sim_device *dev)
{
	char	who[96];

	(void)snprintf(who, sizeof(who), "diagnostics_relay: %s", dev->udid);
	return (plist_service_read(conn, DIAG_MAX_MESSAGE, who));
}

/* Send one message. Takes ownership of msg. */
static int
diag_send(struct sim_conn *conn, plist_t msg)
{
	int	ret;

	ret = plist_service_send(conn, msg);
	plist_free(msg);
	return (ret);
}

/* A reply {Status: status}, with Diagnostics when that is not NULL. */
static plist_t
diag_reply(const char *status, plist_t diagnostics)
{
	plist_t	msg;

	msg = plist_new_dict();
	if (diagnostics != NULL)
		plist_dict_set_item(msg, "Diagnostics", diagnostics);
	plist_dict_set_item(msg, "Status", plist_new_string(status));
	return (msg);
}

/* Say whether the boolean key of dict is present and true. */
static int
diag_bool(plist_t dict, const char *key)
{
	plist_t	node;
	uint8_t	value = 0;

	node = plist_dict_get_item(dict, key);
	if (node != NULL && plist_get_node_type(node) == PLIST_BOOLEAN)
		plist_get_bool_val(node, &value);
	return (value != 0);
}

/* Set an unsigned integer value. */
static void
set_uint(plist_t dict, const char *key, uint64_t value)
{
	plist_dict_set_item(dict, key, plist_new_uint(value));
}

/* Set a string value. */
static void
set_string(plist_t dict, const char *key, const char *value)
{
	plist_dict_set_item(dict, key, plist_new_string(value));
}

/* The GasGauge area. */
static plist_t
diag_gas_gauge(void)
{
	plist_t	d;

	d = plist_new_dict();
	set_uint(d, "CurrentCapacity", BATTERY_PERCENT);
	set_uint(d, "CycleCount", BATTERY_CYCLE_COUNT);
	set_uint(d, "DesignCapacity", BATTERY_DESIGN_MAH);
	set_uint(d, "FullChargeCapacity", BATTERY_FULL_MAH);
	set_string(d, "Status", "Success");
	return (d);
}

/* One of the simple areas: {Status: Success} and a detail or two. */
static plist_t
diag_area(const char *area)
{
	plist_t	d;

	d = plist_new_dict();
	if (strcmp(area, "WiFi") == 0)
		plist_dict_set_item(d, "Active", plist_new_bool(1));
	else if (strcmp(area, "HDMI") == 0)
		set_string(d, "Connection", "Unknown");
	set_string(d, "Status", "Success");
	return (d);
}

/*
 * The Diagnostics of All, GasGauge, HDMI, NAND or WiFi: a dictionary
 * with one sub-dictionary per area. NULL for another request.
 */
static plist_t
diag_areas(const char *request)
{
	static const char	*const areas[] = { "HDMI", "NAND", "WiFi" };
	plist_t			 d;
	size_t			 i;
	int			 all;

	all = strcmp(request, "All") == 0;
	d = plist_new_dict();
	if (all || strcmp(request, "GasGauge") == 0)
		plist_dict_set_item(d, "GasGauge", diag_gas_gauge());
	for (i = 0; i < nitems(areas); i++) {
		if (all || strcmp(request, areas[i]) == 0)
			plist_dict_set_item(d, areas[i], diag_area(areas[i]));
	}
	if (plist_dict_get_size(d) == 0) {
		plist_free(d);
		return (NULL);
	}
	return (d);
}

/* The IORegistry properties of the battery charger. */
static plist_t
diag_battery_entry(void)
{
	plist_t	d;

	d = plist_new_dict();
	set_uint(d, "AppleRawCurrentCapacity",
	    BATTERY_FULL_MAH * BATTERY_PERCENT / 100);
	set_uint(d, "AppleRawMaxCapacity", BATTERY_FULL_MAH);
	plist_dict_set_item(d, "BatteryInstalled", plist_new_bool(1));
	set_uint(d, "CurrentCapacity", BATTERY_PERCENT);
	set_uint(d, "CycleCount", BATTERY_CYCLE_COUNT);
	set_uint(d, "DesignCapacity", BATTERY_DESIGN_MAH);
	plist_dict_set_item(d, "ExternalConnected", plist_new_bool(1));
	plist_dict_set_item(d, "FullyCharged", plist_new_bool(0));
	plist_dict_set_item(d, "IsCharging", plist_new_bool(1));
	set_uint(d, "MaxCapacity", 100);
	set_uint(d, "Temperature", 2950);	/* centi-degrees C */
	set_uint(d, "Voltage", 4215);		/* mV */
	return (d);
}

/* A small IORegistry tree: the root, the board, the charger. */
static plist_t
diag_ioreg_tree(struct sim_device *dev)
{
	plist_t	root, board, charger, children;

	charger = diag_battery_entry();
	set_string(charger, "IOObjectClass", "AppleARMPMUCharger");
	set_string(charger, "IORegistryEntryName", "AppleARMPMUCharger");
	children = plist_new_array();
	plist_array_append_item(children, charger);
	board = plist_new_dict();
	set_string(board, "IOObjectClass", "AppleARMPE");
	set_string(board, "IORegistryEntryName", dev->hardware_model);
	plist_dict_set_item(board, "IORegistryEntryChildren", children);
	children = plist_new_array();
	plist_array_append_item(children, board);
	root = plist_new_dict();
	set_string(root, "IOObjectClass", "IORegistryEntry");
	set_string(root, "IORegistryEntryName", "Root");
	plist_dict_set_item(root, "IORegistryEntryChildren", children);
	return (root);
}

/* Say whether name names the battery entry. */
static int
diag_is_battery(const char *name)
{
	return (name != NULL && (strcmp(name, "AppleARMPMUCharger") == 0 ||
	    strcmp(name, "AppleSmartBattery") == 0));
}

/*
 * IORegistry: by EntryName or EntryClass (idevicediagnostics ioregentry
 * sends both, one of them empty), or the tree of any plane.
 */
static plist_t
diag_ioregistry(struct sim_device *dev, plist_t req)
{
	plist_t	 d;
	char	*name, *cls;
	int	 by_entry, battery;

	name = plist_service_string(req, "EntryName");
	cls = plist_service_string(req, "EntryClass");
	by_entry = (name != NULL && *name != '\0') ||
	    (cls != NULL && *cls != '\0');
	battery = diag_is_battery(name) || diag_is_battery(cls);
	free(name);
	free(cls);
	if (by_entry && !battery)
		return (diag_reply("Failure", NULL));
	d = plist_new_dict();
	plist_dict_set_item(d, "IORegistry", battery ? diag_battery_entry() :
	    diag_ioreg_tree(dev));
	return (diag_reply("Success", d));
}

/* The MobileGestalt value of key, or NULL for a key we do not know. */
static plist_t
diag_gestalt_value(struct sim_device *dev, const char *key)
{
	static const struct {
		const char	*key;
		const char	*value;
	} fixed[] = {
		{ "CPUArchitecture", "arm64e" },
		{ "DeviceClass", "iPhone" },
		{ "RegionInfo", "LL/A" },
	};
	plist_t	 value;
	char	*name;
	size_t	 i;

	if (strcmp(key, "BuildVersion") == 0)
		return (plist_new_string(dev->build_version));
	if (strcmp(key, "DeviceName") == 0 ||
	    strcmp(key, "UserAssignedDeviceName") == 0) {
		name = device_name(dev);
		value = plist_new_string(name);
		free(name);
		return (value);
	}
	if (strcmp(key, "HWModelStr") == 0)
		return (plist_new_string(dev->hardware_model));
	if (strcmp(key, "ProductType") == 0)
		return (plist_new_string(dev->product_type));
	if (strcmp(key, "ProductVersion") == 0)
		return (plist_new_string(dev->product_version));
	if (strcmp(key, "SerialNumber") == 0)
		return (plist_new_string(dev->serial));
	if (strcmp(key, "UniqueDeviceID") == 0)
		return (plist_new_string(dev->udid));
	for (i = 0; i < nitems(fixed); i++) {
		if (strcmp(key, fixed[i].key) == 0)
			return (plist_new_string(fixed[i].value));
	}
	return (NULL);
}

/*
 * Whether the device runs iOS 17.4 or later, where diagnostics_relay
 * answers MobileGestalt with the status MobileGestaltDeprecated and no
 * values (pymobiledevice3 services/diagnostics.py mobilegestalt raises
 * DeprecationError on it; appium-ios-device checks for the same status,
 * "iOS >= 17.4"). The outer Status stays Success.
 */
static int
diag_gestalt_deprecated(const struct sim_device *dev)
{
	int	major = 0, minor = 0;

	if (sscanf(dev->product_version, "%d.%d", &major, &minor) < 1)
		return (0);
	return (major > 17 || (major == 17 && minor >= 4));
}

/* MobileGestalt {MobileGestaltKeys: [...]}: the keys we know. */
static plist_t
diag_mobile_gestalt(struct sim_device *dev, plist_t req)
{
	plist_t		 keys, key, value, mg, d;
	char		*name;
	uint32_t	 i, n;

	keys = plist_dict_get_item(req, "MobileGestaltKeys");
	if (keys == NULL || plist_get_node_type(keys) != PLIST_ARRAY)
		return (diag_reply("Failure", NULL));
	mg = plist_new_dict();
	if (diag_gestalt_deprecated(dev)) {
		set_string(mg, "Status", "MobileGestaltDeprecated");
		d = plist_new_dict();
		plist_dict_set_item(d, "MobileGestalt", mg);
		return (diag_reply("Success", d));
	}
	n = plist_array_get_size(keys);
	for (i = 0; i < n; i++) {
		key = plist_array_get_item(keys, i);
		if (plist_get_node_type(key) != PLIST_STRING)
			continue;
		name = NULL;
		plist_get_string_val(key, &name);
		if (name != NULL &&
		    (value = diag_gestalt_value(dev, name)) != NULL)
			plist_dict_set_item(mg, name, value);
		free(name);
	}
	set_string(mg, "Status", "Success");
	d = plist_new_dict();
	plist_dict_set_item(d, "MobileGestalt", mg);
	return (diag_reply("Success", d));
}

/*
 * Serve com.apple.mobile.diagnostics_relay until Goodbye, the client
 * leaves or sends something malformed. Runs on the connection's thread.
 */
void
diagnostics_relay_serve(struct sim_conn *conn, struct sim_device *dev)
{
	plist_t		 req, reply, d;
	char		*request;
	int		 ret = 0, done = 0;

	while (ret == 0 && !done && (req = diag_read(conn, dev)) != NULL) {
		request = plist_service_string(req, "Request");
		if (request == NULL) {
			log_warnx("%s: %s: message without Request",
			    __func__, dev->udid);
			plist_free(req);
			break;
		}
		log_debug("diagnostics_relay: %s: %s", dev->udid, request);
		if (strcmp(request, "Goodbye") == 0) {
			reply = diag_reply("Success", NULL);
			done = 1;
		} else if (strcmp(request, "Restart") == 0 ||
		    strcmp(request, "Shutdown") == 0) {
			log_info("diagnostics_relay: %s: %s acknowledged; the "
			    "simulated device does not act on it", dev->udid,
			    request);
			reply = diag_reply("Success", NULL);
			done = !diag_bool(req, "WaitForDisconnect");
		} else if (strcmp(request, "Sleep") == 0) {
			log_info("diagnostics_relay: %s: Sleep acknowledged; "
			    "the simulated device does not sleep", dev->udid);
			reply = diag_reply("Success", NULL);
			done = 1;
		} else if (strcmp(request, "IORegistry") == 0)
			reply = diag_ioregistry(dev, req);
		else if (strcmp(request, "MobileGestalt") == 0)
			reply = diag_mobile_gestalt(dev, req);
		else if ((d = diag_areas(request)) != NULL)
			reply = diag_reply("Success", d);
		else
			reply = diag_reply("UnknownRequest", NULL);
		ret = diag_send(conn, reply);
		free(request);
		plist_free(req);
	}
}
