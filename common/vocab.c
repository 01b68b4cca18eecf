/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The words of linkq's vocabulary (include/linkq.h): probe kinds, event
 * kinds with their weight in a verdict, the table of the hard ones,
 * event sources and device modes. schema/0001-init.sql seeds the same
 * names; test-store checks that they agree, test-common the tables.
 */

#include <string.h>

#include "compat/compat.h"
#include "linkq.h"

/* Indexed by enum lq_probe_kind. */
static const char *const probe_kind_names[] = {
	[LQ_PROBE_MUX_CONNECT] = "mux-connect",
	[LQ_PROBE_LOCKDOWN_QUERY] = "lockdown-query",
	[LQ_PROBE_LOCKDOWN_HANDSHAKE] = "lockdown-handshake",
	[LQ_PROBE_AFC_ROUNDTRIP] = "afc-roundtrip",
	[LQ_PROBE_BULK] = "bulk",
	[LQ_PROBE_USB_CONTROL] = "usb-control",
};

static const struct lq_event_kind event_kinds[] = {
	{ "dropout", LQ_EVENT_HARD,
	    "device vanished from usbmuxd or a connection broke" },
	{ "stranded", LQ_EVENT_HARD,
	    "device on the USB bus but dropped by usbmuxd until replugged" },
	{ "reset", LQ_EVENT_HARD, "the kernel reset the device" },
	{ "reenumeration", LQ_EVENT_HARD,
	    "device re-enumerated on the same port (new device number)" },
	{ "link-error", LQ_EVENT_HARD,
	    "kernel reported a USB link error (-71, -84, -62, -75)" },
	{ "urb-error", LQ_EVENT_HARD,
	    "usbmon saw a transfer fail with a link error status" },
	{ "corruption", LQ_EVENT_HARD, "data read back differs" },
	{ "speed-fallback", LQ_EVENT_HARD,
	    "lower speed than this device negotiated elsewhere" },
	{ "enumeration-failure", LQ_EVENT_HARD,
	    "the kernel could not enumerate the device" },
	{ "emi-reenable", LQ_EVENT_HARD,
	    "the kernel re-enabled a port disabled by interference" },
	{ "over-current", LQ_EVENT_HARD, "over-current on the port" },
	{ "hc-failure", LQ_EVENT_HARD,
	    "the host controller failed (blames the port, not the cable)" },
	{ "timeout", LQ_EVENT_SOFT, "an operation missed its deadline" },
	{ "latency-outlier", LQ_EVENT_SOFT, "a round trip took far too long" },
	{ "speed-change", LQ_EVENT_INFO, "negotiated speed changed" },
	{ "mode-change", LQ_EVENT_INFO,
	    "device changed mode (normal, recovery, DFU)" },
	{ "pairing", LQ_EVENT_INFO,
	    "device untrusted, locked or waiting for Trust" },
	{ "unplug", LQ_EVENT_INFO, "device unplugged by the user" },
	{ "records-lost", LQ_EVENT_INFO,
	    "kernel log records were lost before linkqd read them" },
	{ "interrupted", LQ_EVENT_INFO,
	    "a run was interrupted by a shutdown or a crash of linkqd" },
	/*
	 * The phone's own AppleUSBDeviceMux counters, from its syslog
	 * (daemon/devlog.h). Errors growing during a run point at the
	 * link, yet they stay info, outside the verdict: what iOS counts
	 * as an error, and since when, is not documented; the statistics
	 * were only ever seen printed when the mux interface went down,
	 * so how a good link's counters move during a run is unknown; and
	 * they are not trials for the sequential test (soft). A real
	 * fault also shows in what the verdict counts: failed probes,
	 * dropouts, the kernel's link errors.
	 */
	{ "device-mux-stats", LQ_EVENT_INFO,
	    "the device's own USB mux counters, from its syslog" },
	{ "device-mux-errors", LQ_EVENT_INFO,
	    "the device's USB mux counted errors or duplicate packets" },
};

/*
 * Indexed by enum lq_hard_kind: which kinds are hard, whom each blames
 * and the words a technician reads in a FAIL (common/verdict.c). Every
 * name is a kind of class LQ_EVENT_HARD above, and every such kind is
 * here: test-common checks both ways.
 */
static const struct lq_hard hard_kinds[LQ_HARD_MAX] = {
	[LQ_HARD_HC_FAILURE] = { "hc-failure", LQ_HARD_BLAMES_HOST,
	    "the host controller failed %s: that points to the port or the "
	    "computer, not the cable", NULL },
	[LQ_HARD_OVER_CURRENT] = { "over-current", LQ_HARD_BLAMES_PORT,
	    "over-current on the port %s: that points to the port or the "
	    "hub's power, not the cable", NULL },
	[LQ_HARD_DROPOUT] = { "dropout", LQ_HARD_BLAMES_LINK,
	    "the device dropped out %s", NULL },
	[LQ_HARD_STRANDED] = { "stranded", LQ_HARD_BLAMES_LINK,
	    "the device was stranded %s: usbmuxd dropped it after a failed "
	    "transfer, only a replug brings it back", NULL },
	[LQ_HARD_RESET] = { "reset", LQ_HARD_BLAMES_LINK,
	    "the kernel reset the device %s", NULL },
	[LQ_HARD_REENUMERATION] = { "reenumeration", LQ_HARD_BLAMES_LINK,
	    "the device re-enumerated %s (it reset and came back with a new "
	    "device number)", NULL },
	[LQ_HARD_LINK_ERROR] = { "link-error", LQ_HARD_BLAMES_LINK,
	    "the kernel reported USB link errors %s",
	    "the kernel reported a USB link error" },
	[LQ_HARD_URB_ERROR] = { "urb-error", LQ_HARD_BLAMES_LINK,
	    "USB transfers failed with link errors %s",
	    "a USB transfer failed with a link error" },
	[LQ_HARD_CORRUPTION] = { "corruption", LQ_HARD_BLAMES_LINK,
	    "data read back differed from what was written (%s)", NULL },
	[LQ_HARD_SPEED_FALLBACK] = { "speed-fallback", LQ_HARD_BLAMES_LINK,
	    "the link fell back to a lower speed %s", NULL },
	[LQ_HARD_ENUM_FAILURE] = { "enumeration-failure",
	    LQ_HARD_BLAMES_LINK,
	    "the computer could not enumerate (recognise) the device %s",
	    NULL },
	[LQ_HARD_EMI_REENABLE] = { "emi-reenable", LQ_HARD_BLAMES_LINK,
	    "the port was disabled by interference or a loose contact and "
	    "re-enabled %s", NULL },
};

static const char *const event_sources[] = {
	"usbmuxd", "libusb", "kmsg", "usbmon", "probe", "daemon", "user"
};

/* Indexed by enum lq_device_mode. */
static const char *const device_mode_names[] = {
	[LQ_MODE_NORMAL] = "normal",
	[LQ_MODE_RECOVERY] = "recovery",
	[LQ_MODE_DFU] = "dfu",
	[LQ_MODE_WTF] = "wtf",
};

/* Return the name of a probe kind, or NULL if kind is not one. */
const char *
lq_probe_kind_name(int kind)
{
	if (kind < 1 || kind > LQ_PROBE_KIND_MAX)
		return (NULL);
	return (probe_kind_names[kind]);
}

/* Return the probe kind called name, or -1. */
int
lq_probe_kind_from_name(const char *name)
{
	int	kind;

	for (kind = 1; kind <= LQ_PROBE_KIND_MAX; kind++) {
		if (strcmp(probe_kind_names[kind], name) == 0)
			return (kind);
	}
	return (-1);
}

/* Return the table of event kinds and its length in *count. */
const struct lq_event_kind *
lq_event_kinds(unsigned int *count)
{
	*count = nitems(event_kinds);
	return (event_kinds);
}

/* Return the event kind called name, or NULL. */
const struct lq_event_kind *
lq_event_kind_find(const char *name)
{
	size_t	i;

	for (i = 0; i < nitems(event_kinds); i++) {
		if (strcmp(event_kinds[i].name, name) == 0)
			return (&event_kinds[i]);
	}
	return (NULL);
}

/* Return the table of hard kinds, indexed by enum lq_hard_kind. */
const struct lq_hard *
lq_hard_kinds(void)
{
	return (hard_kinds);
}

/* Return the hard kind called name, or -1 (NULL is none). */
int
lq_hard_from_name(const char *name)
{
	int	k;

	if (name == NULL)
		return (-1);
	for (k = 0; k < LQ_HARD_MAX; k++) {
		if (strcmp(hard_kinds[k].name, name) == 0)
			return (k);
	}
	return (-1);
}

/* Return the stored name of an event class. */
const char *
lq_event_class_name(enum lq_event_class class)
{
	switch (class) {
	case LQ_EVENT_HARD:
		return ("hard");
	case LQ_EVENT_SOFT:
		return ("soft");
	case LQ_EVENT_INFO:
		return ("info");
	}
	return ("unknown");
}

/* Say whether name is a known event source. */
int
lq_event_source_valid(const char *name)
{
	size_t	i;

	for (i = 0; i < nitems(event_sources); i++) {
		if (strcmp(event_sources[i], name) == 0)
			return (1);
	}
	return (0);
}

/* Return the name of a device mode. */
const char *
lq_device_mode_name(enum lq_device_mode mode)
{
	if ((unsigned int)mode >= nitems(device_mode_names))
		return ("unknown");
	return (device_mode_names[mode]);
}

/* Return the mode called name, or -1. */
int
lq_device_mode_from_name(const char *name)
{
	size_t	i;

	for (i = 0; i < nitems(device_mode_names); i++) {
		if (strcmp(device_mode_names[i], name) == 0)
			return ((int)i);
	}
	return (-1);
}

/*
 * Why a cable or port label is unusable, or NULL if it is fine: 1 to
 * LQ_LABEL_MAX bytes of printable text (UTF-8 allowed), no control
 * characters, no leading or trailing blank.
 */
const char *
lq_label_invalid(const char *label)
{
	const unsigned char	*p;
	size_t			 len;

	if (label == NULL || (len = strlen(label)) == 0)
		return ("a label must not be empty");
	if (len > LQ_LABEL_MAX)
		return ("a label is at most 64 bytes long");
	for (p = (const unsigned char *)label; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return ("a label must not contain control characters");
	}
	if (label[0] == ' ' || label[len - 1] == ' ')
		return ("a label must not begin or end with a blank");
	return (NULL);
}
