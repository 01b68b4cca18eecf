/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Unit tests for what linkqd accepts from usbmuxd (daemon/muxproto.c):
 * its own requests read back, each header bound, and Listen messages
 * well-formed, malformed and of unknown types, with their reasons.
 */

#include <endian.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <plist/plist.h>

#include "compat/compat.h"
#include "log.h"
#include "muxproto.h"

/* A header of total, version, message, tag. */
static void
header(unsigned char *buf, uint32_t total, uint32_t version,
    uint32_t message, uint32_t tag)
{
	uint32_t	h[4];

	h[0] = htole32(total);
	h[1] = htole32(version);
	h[2] = htole32(message);
	h[3] = htole32(tag);
	memcpy(buf, h, sizeof(h));
}

/* Decode the XML of msg (freed); its result, and *cause kept. */
static int
decode(plist_t msg, struct muxproto_msg *m, char **cause)
{
	char		*xml = NULL;
	uint32_t	 len = 0;
	int		 ret;

	plist_to_xml(msg, &xml, &len);
	plist_free(msg);
	*cause = NULL;
	ret = muxproto_decode(xml, len, m, cause);
	free(xml);
	return (ret);
}

/* Properties of a USB device: DeviceID 7, product 0x12a8, serial s. */
static plist_t
attached(const char *serial, const char *conn)
{
	plist_t	msg, props;

	msg = plist_new_dict();
	plist_dict_set_item(msg, "MessageType", plist_new_string("Attached"));
	props = plist_new_dict();
	plist_dict_set_item(props, "DeviceID", plist_new_uint(7));
	plist_dict_set_item(props, "ProductID", plist_new_uint(0x12a8));
	if (serial != NULL)
		plist_dict_set_item(props, "SerialNumber",
		    plist_new_string(serial));
	plist_dict_set_item(props, "ConnectionType", plist_new_string(conn));
	plist_dict_set_item(msg, "Properties", props);
	return (msg);
}

/* Our own Listen request passes our own checks. */
static void
test_request(void **state)
{
	char		*buf, *cause = NULL;
	size_t		 len;
	uint32_t	 plen, tag;
	plist_t		 req;

	(void)state;
	muxproto_request("Listen", 42, &buf, &len);
	assert_int_equal(muxproto_header(buf, MUXPROTO_MAX_EVENT, &plen,
	    &tag, &cause), 0);
	assert_int_equal(tag, 42);
	assert_int_equal(plen + MUXPROTO_HEADER, len);
	req = muxproto_dict(buf + MUXPROTO_HEADER, plen, &cause);
	assert_non_null(req);
	plist_free(req);
	free(buf);
}

/* Lengths out of range and other protocols are refused, named. */
static void
test_header_bounds(void **state)
{
	unsigned char	 h[MUXPROTO_HEADER];
	uint32_t	 len, tag;
	char		*cause = NULL;

	(void)state;
	header(h, 17, 1, 8, 3);
	assert_int_equal(muxproto_header(h, 64, &len, &tag, &cause), 0);
	assert_int_equal(len, 1);
	header(h, 16, 1, 8, 0);
	assert_int_equal(muxproto_header(h, 64, &len, &tag, &cause), -1);
	assert_non_null(strstr(cause, "length 16 is out of range"));
	free(cause);
	header(h, 4, 1, 8, 0);
	assert_int_equal(muxproto_header(h, 64, &len, &tag, &cause), -1);
	free(cause);
	header(h, 65, 1, 8, 0);
	assert_int_equal(muxproto_header(h, 64, &len, &tag, &cause), -1);
	free(cause);
	header(h, UINT32_MAX, 1, 8, 0);
	assert_int_equal(muxproto_header(h, MUXPROTO_MAX_REPLY, &len, &tag,
	    &cause), -1);
	free(cause);
	header(h, 16, 0, 5, 0);
	assert_int_equal(muxproto_header(h, 64, &len, &tag, &cause), -1);
	assert_non_null(strstr(cause, "version 0, type 5"));
	free(cause);
}

/* Attached as usbmuxd sends it, the UDID given its dash. */
static void
test_attached(void **state)
{
	struct muxproto_msg	 m;
	char			*cause;

	(void)state;
	assert_int_equal(decode(attached("00008030000A1B2C3D4E5F60", "USB"),
	    &m, &cause), 0);
	assert_int_equal(m.kind, MUXPROTO_EVENT);
	assert_int_equal(m.ev.kind, MUX_EVENT_ADD);
	assert_int_equal(m.ev.handle, 7);
	assert_int_equal(m.ev.product_id, 0x12a8);
	assert_string_equal(m.ev.udid, "00008030-000A1B2C3D4E5F60");
	assert_int_equal(m.ev.network, 0);
	assert_int_equal(decode(attached(
	    "0123456789abcdef0123456789abcdef01234567", "Network"), &m,
	    &cause), 0);
	assert_int_equal(m.ev.network, 1);
}

/* Attached without what libusbmuxd would need is refused. */
static void
test_attached_bad(void **state)
{
	struct muxproto_msg	 m;
	char			*cause, longer[64];

	(void)state;
	assert_int_equal(decode(attached(NULL, "USB"), &m, &cause), -1);
	assert_string_equal(cause, "Attached without a string SerialNumber");
	free(cause);
	assert_int_equal(decode(attached("abc", "Bluetooth"), &m, &cause),
	    -1);
	assert_non_null(strstr(cause, "ConnectionType \"Bluetooth\""));
	free(cause);
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	assert_int_equal(decode(attached(longer, "USB"), &m, &cause), -1);
	free(cause);
	assert_int_equal(decode(attached("", "USB"), &m, &cause), -1);
	free(cause);
}

/* Result, Detached, Paired; an unknown type is told apart. */
static void
test_others(void **state)
{
	struct muxproto_msg	 m;
	plist_t			 msg;
	char			*cause;

	(void)state;
	msg = plist_new_dict();
	plist_dict_set_item(msg, "MessageType", plist_new_string("Result"));
	plist_dict_set_item(msg, "Number", plist_new_uint(0));
	assert_int_equal(decode(msg, &m, &cause), 0);
	assert_int_equal(m.kind, MUXPROTO_RESULT);
	assert_int_equal(m.number, 0);

	msg = plist_new_dict();
	plist_dict_set_item(msg, "MessageType", plist_new_string("Paired"));
	plist_dict_set_item(msg, "DeviceID", plist_new_uint(3));
	assert_int_equal(decode(msg, &m, &cause), 0);
	assert_int_equal(m.ev.kind, MUX_EVENT_PAIRED);
	assert_int_equal(m.ev.handle, 3);

	msg = plist_new_dict();
	plist_dict_set_item(msg, "MessageType", plist_new_string("Detached"));
	plist_dict_set_item(msg, "DeviceID", plist_new_string("3"));
	assert_int_equal(decode(msg, &m, &cause), -1);
	assert_string_equal(cause, "Detached without an integer DeviceID");
	free(cause);

	msg = plist_new_dict();
	plist_dict_set_item(msg, "MessageType", plist_new_string("Rumour"));
	assert_int_equal(decode(msg, &m, &cause), 0);
	assert_int_equal(m.kind, MUXPROTO_OTHER);
	assert_string_equal(m.type, "Rumour");

	msg = plist_new_array();
	assert_int_equal(decode(msg, &m, &cause), -1);
	assert_string_equal(cause, "payload is a plist but not a dict");
	free(cause);
	assert_int_equal(muxproto_decode("not a plist", 11, &m, &cause), -1);
	assert_string_equal(cause, "payload of 11 bytes is not an XML plist");
	free(cause);
}

/*
 * A string with a NUL byte in it is refused, not passed to libplist
 * 2.2's plist_get_string_val, whose assertion aborts (fuzz-muxproto).
 */
static void
test_string_with_nul(void **state)
{
	static const char	 xml[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<plist version=\"1.0\"><dict>"
	    "<key>MessageType</key><string>Det\0ached</string>"
	    "<key>DeviceID</key><integer>3</integer>"
	    "</dict></plist>\n";
	struct muxproto_msg	 m;
	char			*cause = NULL;

	(void)state;
	assert_int_equal(muxproto_decode(xml, sizeof(xml) - 1, &m, &cause),
	    -1);
	assert_non_null(cause);
	free(cause);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_header_bounds),
		cmocka_unit_test(test_attached),
		cmocka_unit_test(test_attached_bad),
		cmocka_unit_test(test_others),
		cmocka_unit_test(test_string_with_nul),
	};

	log_init(LOG_TO_STDERR, 0, "test-muxproto");
	return (cmocka_run_group_tests_name("muxproto", tests, NULL, NULL));
}
