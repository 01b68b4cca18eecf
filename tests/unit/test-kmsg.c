/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Unit tests for the kernel log parser (daemon/kmsg.c): the record
 * header and continuation lines, malformed records, splitting a file's
 * bytes into records, counting lost records, the three forms of port
 * names, and every message format of research/linux-usb-signals-and-
 * performance.md B1, written here from the kernel's format strings.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "compat/compat.h"
#include "kmsg.h"
#include "log.h"

/* Parse a string as a record. */
static int
parse(const char *s, struct kmsg_record *rec)
{
	return (kmsg_parse(s, strlen(s), rec));
}

static void
test_parse_header(void **state)
{
	struct kmsg_record	rec;

	(void)state;
	assert_int_equal(parse("3,122793,256982503404,-;usb usb2-port2: "
	    "Cannot enable. Maybe the USB cable is bad?\n", &rec), 0);
	assert_int_equal(rec.level, 3);
	assert_int_equal(rec.facility, 0);
	assert_true(rec.seq == 122793);
	assert_true(rec.usec == UINT64_C(256982503404));
	assert_int_equal(rec.cont, 0);
	assert_string_equal(rec.text, "usb usb2-port2: Cannot enable. Maybe "
	    "the USB cable is bad?");
	assert_string_equal(rec.subsystem, "");

	/* Facility 1 (user), a continuation flag, caller and more fields. */
	assert_int_equal(parse("14,5,6,c,caller=T123,more=x;hello", &rec),
	    0);
	assert_int_equal(rec.level, 6);
	assert_int_equal(rec.facility, 1);
	assert_int_equal(rec.cont, 1);
	assert_string_equal(rec.text, "hello");

	/* An empty text is a record. */
	assert_int_equal(parse("6,1,2,-;\n", &rec), 0);
	assert_string_equal(rec.text, "");
}

static void
test_parse_continuation(void **state)
{
	struct kmsg_record	rec;

	(void)state;
	assert_int_equal(parse("6,12,345,-;usb 1-4.3: USB disconnect, device "
	    "number 7\n SUBSYSTEM=usb\n DEVICE=c189:6\n", &rec), 0);
	assert_string_equal(rec.text, "usb 1-4.3: USB disconnect, device "
	    "number 7");
	assert_string_equal(rec.subsystem, "usb");
	assert_string_equal(rec.device, "c189:6");
	/* Without the last newline; unknown keys are skipped. */
	assert_int_equal(parse("3,1,2,-;x\n SUBSYSTEM=pci\n OTHER=1\n "
	    "DEVICE=+pci:0000:00:14.0", &rec), 0);
	assert_string_equal(rec.subsystem, "pci");
	assert_string_equal(rec.device, "+pci:0000:00:14.0");
}

static void
test_parse_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"\n",
		"hello\n",
		"6,1,2;text\n",			/* no flags field */
		"6,1,2,-text\n",		/* no ';' */
		"6,,2,-;text\n",
		"x,1,2,-;text\n",
		"6,1,2,-\n;text\n",		/* ';' only on a later line */
		"-6,1,2,-;text\n",
		"99999,1,2,-;text\n",		/* priority out of range */
		"6,99999999999999999999999,2,-;text\n",	/* overflow */
		"6,1,2,-;text\nnot a continuation\n",
		"6,1",
	};
	struct kmsg_record	rec;
	char			nul[] = "6,1,2,-;te\0xt\n";
	size_t			i;

	(void)state;
	for (i = 0; i < nitems(bad); i++) {
		if (parse(bad[i], &rec) != -1)
			fail_msg("accepted: \"%s\"", bad[i]);
	}
	assert_int_equal(kmsg_parse(nul, sizeof(nul) - 1, &rec), -1);
}

static void
test_parse_long(void **state)
{
	struct kmsg_record	rec;
	char			buf[4096];

	(void)state;
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "6,1,2,-;", 8);
	buf[sizeof(buf) - 1] = '\n';
	assert_int_equal(kmsg_parse(buf, sizeof(buf), &rec), 0);
	assert_int_equal(strlen(rec.text), KMSG_TEXT_MAX - 1);
}

static void
test_record_end(void **state)
{
	static const char	two[] = "6,1,2,-;a\n SUBSYSTEM=usb\n "
	    "DEVICE=c189:1\n3,2,3,-;b\n";
	static const char	half[] = "6,1,2,-;a\n SUBSYS";
	size_t			n;

	(void)state;
	n = kmsg_record_end(two, strlen(two));
	assert_int_equal(n, strlen("6,1,2,-;a\n SUBSYSTEM=usb\n "
	    "DEVICE=c189:1\n"));
	assert_int_equal(kmsg_record_end(two + n, strlen(two) - n),
	    strlen("3,2,3,-;b\n"));
	assert_int_equal(kmsg_record_end(half, strlen(half)), 0);
	assert_int_equal(kmsg_record_end("6,1,2,-;no newline", 18), 0);
	assert_int_equal(kmsg_record_end("", 0), 0);
}

static void
test_lost(void **state)
{
	(void)state;
	assert_true(kmsg_lost(10, 11) == 0);
	assert_true(kmsg_lost(10, 15) == 4);
	assert_true(kmsg_lost(10, 10) == 0);
	assert_true(kmsg_lost(10, 3) == 0);	/* went back: unknown */
}

/* Classify text; check the class, kind, port, errno and devnum. */
static void
check(const char *text, enum kmsg_class class, const char *kind,
    const char *port, int errnum, int devnum)
{
	struct kmsg_finding	f;
	enum kmsg_class		c;

	c = kmsg_classify(text, &f);
	if (c != class)
		fail_msg("\"%s\": class %d, not %d", text, c, class);
	if (class != KMSG_FINDING)
		return;
	if (f.kind == NULL || strcmp(f.kind, kind) != 0)
		fail_msg("\"%s\": kind %s, not %s", text,
		    f.kind != NULL ? f.kind : "none", kind);
	if (strcmp(f.port, port) != 0)
		fail_msg("\"%s\": port \"%s\", not \"%s\"", text, f.port,
		    port);
	if (f.errnum != errnum)
		fail_msg("\"%s\": errno %d, not %d", text, f.errnum, errnum);
	if (f.devnum != devnum)
		fail_msg("\"%s\": devnum %d, not %d", text, f.devnum, devnum);
}

static void
test_port_names(void **state)
{
	struct kmsg_finding	f;

	(void)state;
	check("usb 1-4.3: USB disconnect, device number 9", KMSG_FINDING,
	    "unplug", "1-4.3", 0, 9);
	check("usb 1-4-port3: Cannot enable. Maybe the USB cable is bad?",
	    KMSG_FINDING, "link-error", "1-4.3", 0, -1);
	check("usb usb1-port4: Cannot enable. Maybe the USB cable is bad?",
	    KMSG_FINDING, "link-error", "1-4", 0, -1);
	check("usb 2-1.2.4-port1: disabled by hub (EMI?), re-enabling...",
	    KMSG_FINDING, "emi-reenable", "2-1.2.4.1", 0, -1);
	check("usb 12-3: device descriptor read/64, error -71",
	    KMSG_FINDING, "link-error", "12-3", -71, -1);
	/* An interface's name is its device's port. */
	check("usb 1-4.3:1.0: config error", KMSG_FINDING, "link-error",
	    "1-4.3", 0, -1);
	assert_int_equal(kmsg_classify("usb 1-4.3: config error", &f),
	    KMSG_FINDING);
	assert_int_equal(f.bus, 1);
	assert_int_equal(f.hold, 1);

	/* Root hubs name a bus, not a port. */
	assert_int_equal(kmsg_classify("usb usb3: over-current condition",
	    &f), KMSG_FINDING);
	assert_string_equal(f.port, "");
	assert_int_equal(f.bus, 3);
	assert_int_equal(f.hold, 0);
	assert_int_equal(kmsg_classify("hub 2-0:1.0: over-current condition",
	    &f), KMSG_FINDING);
	assert_string_equal(f.port, "");
	assert_int_equal(f.bus, 2);
	check("hub 1-4:1.0: over-current condition", KMSG_FINDING,
	    "over-current", "1-4", 0, -1);

	/* Not port names: no port, and not ours for another driver. */
	assert_int_equal(kmsg_classify("usb x-y: config error", &f),
	    KMSG_FINDING);
	assert_string_equal(f.port, "");
	assert_int_equal(kmsg_classify("usb 1-: config error", &f),
	    KMSG_FINDING);
	assert_string_equal(f.port, "");
	assert_int_equal(kmsg_classify("usb usb1-port: config error", &f),
	    KMSG_FINDING);
	assert_string_equal(f.port, "");
	check("ipheth 1-4.3:1.2: config error", KMSG_NOT_OURS, NULL, "", 0,
	    -1);
	check("usb 1-4.3:config error", KMSG_NOT_OURS, NULL, "", 0, -1);
	check("nonsense", KMSG_NOT_OURS, NULL, "", 0, -1);
	check("", KMSG_NOT_OURS, NULL, "", 0, -1);
	check("usb : x", KMSG_NOT_OURS, NULL, "", 0, -1);

	assert_true(kmsg_port_under("1-4.3", "1-4"));
	assert_true(kmsg_port_under("1-4", "1-4"));
	assert_false(kmsg_port_under("1-43", "1-4"));
	assert_false(kmsg_port_under("1-4", "1-4.3"));
	assert_false(kmsg_port_under("1-4", ""));
}

/* Rows 1 to 21 of B1: the hub driver and USB core. */
static void
test_hub_formats(void **state)
{
	struct kmsg_finding	f;

	(void)state;
	/* 1, 2 */
	check("usb 1-1.2: new full-speed USB device number 4 using xhci_hcd",
	    KMSG_INFO, NULL, "", 0, -1);
	check("usb 3-1.1.1: reset SuperSpeed Plus Gen 2x1 USB device number "
	    "6 using xhci_hcd", KMSG_FINDING, "reset", "3-1.1.1", 0, 6);
	check("usb 1-2: reset high-speed USB device number 5 using ehci-pci",
	    KMSG_FINDING, "reset", "1-2", 0, 5);
	check("usb 2-1: reset SuperSpeed Gen 1 USB device number 3 using "
	    "xhci_hcd", KMSG_FINDING, "reset", "2-1", 0, 3);
	/* 3 */
	assert_int_equal(kmsg_classify("usb 1-2: USB disconnect, device "
	    "number 11", &f), KMSG_FINDING);
	assert_int_equal(f.disconnect, 1);
	assert_int_equal(f.devnum, 11);
	assert_int_equal(f.hold, 0);
	/* 4, 5, 6 */
	check("usb 1-1.2: device descriptor read/64, error -32",
	    KMSG_FINDING, "link-error", "1-1.2", -32, -1);
	check("usb 1-1.2: device descriptor read/8, error -110",
	    KMSG_FINDING, "link-error", "1-1.2", -110, -1);
	check("usb 1-1.2: device descriptor read/all, error -62",
	    KMSG_FINDING, "link-error", "1-1.2", -62, -1);
	/* 7 */
	check("usb 1-1.2: device not accepting address 6, error -71",
	    KMSG_FINDING, "link-error", "1-1.2", -71, 6);
	/* 8 */
	check("usb 1-1.2: Device not responding to setup address.",
	    KMSG_FINDING, "link-error", "1-1.2", -71, -1);
	check("usb 1-1.2: Device not responding to setup context.",
	    KMSG_FINDING, "link-error", "1-1.2", -71, -1);
	/* 9 */
	check("usb 1-1-port2: Cannot enable. Maybe the USB cable is bad?",
	    KMSG_FINDING, "link-error", "1-1.2", 0, -1);
	/* 10 */
	check("usb 1-1-port2: cannot reset (err = -110)", KMSG_FINDING,
	    "link-error", "1-1.2", -110, -1);
	check("usb usb2-port1: cannot warm reset (err = -19)", KMSG_FINDING,
	    "link-error", "2-1", -19, -1);
	/* 11 */
	check("usb 1-1-port2: attempt power cycle", KMSG_INFO, NULL, "", 0,
	    -1);
	/* 12 */
	check("usb 1-1-port2: unable to enumerate USB device", KMSG_FINDING,
	    "enumeration-failure", "1-1.2", 0, -1);
	/* 13 */
	check("usb usb1-port3: connect-debounce failed", KMSG_FINDING,
	    "link-error", "1-3", 0, -1);
	/* 14 */
	check("usb usb1-port3: disabled by hub (EMI?), re-enabling...",
	    KMSG_FINDING, "emi-reenable", "1-3", 0, -1);
	/* 15, 16 */
	check("usb usb1-port3: over-current condition", KMSG_FINDING,
	    "over-current", "1-3", 0, -1);
	check("usb usb1-port3: over-current change #4", KMSG_INFO, NULL, "",
	    0, -1);
	check("hub 1-0:1.0: over-current change", KMSG_INFO, NULL, "", 0,
	    -1);
	/* 17 */
	check("usb usb2-port1: config error", KMSG_FINDING, "link-error",
	    "2-1", 0, -1);
	/* 18 */
	check("usb 2-1: got a wrong device descriptor, warm reset device",
	    KMSG_FINDING, "link-error", "2-1", 0, -1);
	/* 19 */
	check("usb 1-4: not running at top speed; connect to a high speed "
	    "hub", KMSG_FINDING, "speed-fallback", "1-4", 0, -1);
	/* 20 */
	check("usb 1-4: hub failed to enable device, error -71",
	    KMSG_FINDING, "link-error", "1-4", -71, -1);
	check("usb 1-4: device reset changed ep0 maxpacket size!",
	    KMSG_FINDING, "link-error", "1-4", 0, -1);
	check("usb 1-4: Invalid ep0 maxpacket: 7", KMSG_FINDING,
	    "link-error", "1-4", 0, -1);
	/* 21: descriptor content, not evidence */
	check("usb 1-4: config 1 interface 0 altsetting 0 bulk endpoint 0x81 "
	    "has invalid maxpacket 64", KMSG_INFO, NULL, "", 0, -1);
	check("usb 1-4: config 1 interface 0 altsetting 0 endpoint 0x81 has "
	    "an invalid bInterval 0, changing to 7", KMSG_INFO, NULL, "", 0,
	    -1);
	/* 28: a link error counts, anything else does not */
	check("usb 1-4: usbfs: USBDEVFS_CONTROL failed cmd lsusb rqt 128 rq 6 "
	    "len 255 ret -71", KMSG_FINDING, "link-error", "1-4", -71, -1);
	check("usb 1-4: usbfs: USBDEVFS_CONTROL failed cmd lsusb rqt 128 rq 6 "
	    "len 255 ret -110", KMSG_INFO, NULL, "", 0, -1);
	/* Lines of an enumeration that went well are not ours. */
	check("usb 1-4: New USB device found, idVendor=05ac, idProduct=12a8, "
	    "bcdDevice=14.01", KMSG_NOT_OURS, NULL, "", 0, -1);
	check("usb 1-4: Product: iPhone", KMSG_NOT_OURS, NULL, "", 0, -1);
}

/* Rows 22 to 29 of B1: host controllers; they name no port. */
static void
test_hcd_formats(void **state)
{
	struct kmsg_finding	f;

	(void)state;
	/* 26: the death counts once, at usb_hc_died's line. */
	assert_int_equal(kmsg_classify("xhci_hcd 0000:00:14.0: HC died; "
	    "cleaning up", &f), KMSG_FINDING);
	assert_string_equal(f.kind, "hc-failure");
	assert_string_equal(f.controller, "0000:00:14.0");
	assert_string_equal(f.port, "");
	assert_int_equal(f.bus, -1);
	check("xhci_hcd 0000:00:14.0: xHCI host controller not responding, "
	    "assume dead", KMSG_INFO, NULL, "", 0, -1);
	check("xhci-hcd xhci-hcd.0.auto: xHCI host not responding to stop "
	    "endpoint command", KMSG_INFO, NULL, "", 0, -1);
	check("ehci-pci 0000:00:1d.0: HC died; cleaning up", KMSG_FINDING,
	    "hc-failure", "", 0, -1);
	/* 22, 24, 25 */
	check("xhci_hcd 0000:01:00.0: WARN Event TRB for slot 9 ep 10 with "
	    "no TDs queued?", KMSG_INFO, NULL, "", 0, -1);
	check("xhci_hcd 0000:01:00.0: Event TRB for slot 9 ep 10 with no TDs "
	    "queued", KMSG_INFO, NULL, "", 0, -1);
	check("xhci_hcd 0000:01:00.0: WARN: TRB error for slot 2 ep 3 on "
	    "endpoint", KMSG_INFO, NULL, "", 0, -1);
	check("xhci_hcd 0000:01:00.0: ERROR Transfer event TRB DMA ptr not "
	    "part of current TD ep_index 2 comp_code 13", KMSG_INFO, NULL, "",
	    0, -1);
	/* 23 */
	check("xhci_hcd 0000:00:14.0: Transfer error for slot 3 ep 2 on "
	    "endpoint", KMSG_FINDING, "link-error", "", -71, -1);
	check("xhci_hcd 0000:00:14.0: Split transaction error for slot 3 ep "
	    "2", KMSG_FINDING, "link-error", "", -71, -1);
	check("xhci_hcd 0000:00:14.0: Babble error for slot 3 ep 2 on "
	    "endpoint", KMSG_FINDING, "link-error", "", -75, -1);
	check("xhci_hcd 0000:00:14.0: Stalled endpoint for slot 3 ep 2",
	    KMSG_INFO, NULL, "", 0, -1);
	/* 27 */
	check("xhci_hcd 0000:00:14.0: Timeout while waiting for setup device "
	    "command", KMSG_FINDING, "link-error", "", -62, -1);
	check("xhci_hcd 0000:00:14.0: Setup ERROR: setup address command for "
	    "slot 4.", KMSG_FINDING, "link-error", "", 0, -1);
	check("xhci_hcd 0000:00:14.0: ERROR: unexpected setup context command "
	    "completion code 0x11.", KMSG_FINDING, "link-error", "", 0, -1);
	/* 29 */
	check("ehci-pci 0000:00:1d.0: devpath 1.4 ep1in 3strikes",
	    KMSG_FINDING, "link-error", "", -71, -1);
	/* Other controller lines are not ours. */
	check("xhci_hcd 0000:00:14.0: new USB bus registered, assigned bus "
	    "number 1", KMSG_NOT_OURS, NULL, "", 0, -1);
}

/* What linkq-sim writes (sim/bench.c), as whole records. */
static void
test_simulator_records(void **state)
{
	static const char	buf[] =
	    "6,0,100,-;usb 1-1: new high-speed USB device number 2 using "
	    "xhci_hcd\n SUBSYSTEM=usb\n DEVICE=+usb:1-1\n"
	    "3,1,200,-;usb usb1-port1: disabled by hub (EMI?), "
	    "re-enabling...\n"
	    "6,2,300,-;usb 1-1: USB disconnect, device number 2\n "
	    "SUBSYSTEM=usb\n DEVICE=c189:1\n";
	static const char *const kinds[] = { NULL, "emi-reenable", "unplug" };
	struct kmsg_record	 rec;
	struct kmsg_finding	 f;
	size_t			 off = 0, n, i = 0;

	(void)state;
	while ((n = kmsg_record_end(buf + off, sizeof(buf) - 1 - off)) > 0) {
		assert_true(i < nitems(kinds));
		assert_int_equal(kmsg_parse(buf + off, n, &rec), 0);
		assert_true(rec.seq == i);
		if (kinds[i] == NULL)
			assert_int_equal(kmsg_classify(rec.text, &f),
			    KMSG_INFO);
		else {
			assert_int_equal(kmsg_classify(rec.text, &f),
			    KMSG_FINDING);
			assert_string_equal(f.kind, kinds[i]);
			assert_string_equal(f.port, "1-1");
		}
		off += n;
		i++;
	}
	assert_int_equal(i, nitems(kinds));
	assert_int_equal(off, sizeof(buf) - 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_header),
		cmocka_unit_test(test_parse_continuation),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_parse_long),
		cmocka_unit_test(test_record_end),
		cmocka_unit_test(test_lost),
		cmocka_unit_test(test_port_names),
		cmocka_unit_test(test_hub_formats),
		cmocka_unit_test(test_hcd_formats),
		cmocka_unit_test(test_simulator_records),
	};

	log_init(LOG_TO_STDERR, 0, "test-kmsg");
	return (cmocka_run_group_tests_name("kmsg", tests, NULL, NULL));
}
