/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Unit tests for what daemon/usb.c decides without a bus: the mode of
 * an Apple product id, the UDID a USB serial number names (normal,
 * older and recovery/DFU serials), UDID comparison, and the mapping of
 * libusb's statuses to lq_status.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "linkq.h"
#include "lq-status.h"
#include "usb.h"

/* Product ids: normal 0x1290-0x12af, recovery 0x1280-0x1283, DFU, WTF. */
static void
test_mode_of_product(void **state)
{
	(void)state;
	assert_int_equal(usb_mode_of_product(0x1290), LQ_MODE_NORMAL);
	assert_int_equal(usb_mode_of_product(0x12a8), LQ_MODE_NORMAL);
	assert_int_equal(usb_mode_of_product(0x12af), LQ_MODE_NORMAL);
	assert_int_equal(usb_mode_of_product(0x1280), LQ_MODE_RECOVERY);
	assert_int_equal(usb_mode_of_product(0x1281), LQ_MODE_RECOVERY);
	assert_int_equal(usb_mode_of_product(0x1283), LQ_MODE_RECOVERY);
	assert_int_equal(usb_mode_of_product(0x1227), LQ_MODE_DFU);
	assert_int_equal(usb_mode_of_product(0x1222), LQ_MODE_WTF);
	assert_int_equal(usb_mode_of_product(0x12b0), -1);
	assert_int_equal(usb_mode_of_product(0x1284), -1);
	assert_int_equal(usb_mode_of_product(0x8600), -1);
}

/* A modern serial is the UDID without its dash; an older one is it. */
static void
test_udid_of_normal_serial(void **state)
{
	char	buf[44];

	(void)state;
	assert_int_equal(usb_udid_of_serial("00008030001A2C3D4E5F802E", buf,
	    sizeof(buf)), 0);
	assert_string_equal(buf, "00008030-001A2C3D4E5F802E");
	assert_int_equal(usb_udid_of_serial(
	    "0123456789abcdef0123456789abcdef01234567", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "0123456789abcdef0123456789abcdef01234567");
	/* Neither length, or not hex: no UDID. */
	assert_int_equal(usb_udid_of_serial("00008030001A2C3D4E5F802", buf,
	    sizeof(buf)), -1);
	assert_int_equal(usb_udid_of_serial("00008030001A2C3D4E5F802EX", buf,
	    sizeof(buf)), -1);
	assert_int_equal(usb_udid_of_serial("0000803G001A2C3D4E5F802E", buf,
	    sizeof(buf)), -1);
	assert_int_equal(usb_udid_of_serial("", buf, sizeof(buf)), -1);
	/* Too small a buffer is refused, not cut. */
	assert_int_equal(usb_udid_of_serial("00008030001A2C3D4E5F802E", buf,
	    10), -1);
}

/* Recovery and DFU serials carry CPID and ECID. */
static void
test_udid_of_recovery_serial(void **state)
{
	char	buf[44];

	(void)state;
	assert_int_equal(usb_udid_of_serial("CPID:8030 CPRV:11 CPFM:03 "
	    "SCEP:01 BDID:0C ECID:001A2C3D4E5F802E IBFL:3C SRNM:[F2LXXXXX]",
	    buf, sizeof(buf)), 0);
	assert_string_equal(buf, "00008030-001A2C3D4E5F802E");
	/* DFU: fewer fields, lower case hex, ECID first. */
	assert_int_equal(usb_udid_of_serial("ECID:1a2c3d4e5f802e CPID:8101",
	    buf, sizeof(buf)), 0);
	assert_string_equal(buf, "00008101-001A2C3D4E5F802E");
	/* A key inside another (SCPID) does not count. */
	assert_int_equal(usb_udid_of_serial("SCPID:8030 ECID:1", buf,
	    sizeof(buf)), -1);
	assert_int_equal(usb_udid_of_serial("CPID:8030 SRNM:[X]", buf,
	    sizeof(buf)), -1);
	assert_int_equal(usb_udid_of_serial("CPID:zz ECID:1", buf,
	    sizeof(buf)), -1);
	assert_int_equal(usb_udid_of_serial("CPID:123456789 ECID:1", buf,
	    sizeof(buf)), -1);
}

static void
test_udid_equal(void **state)
{
	(void)state;
	assert_true(usb_udid_equal("00008030-001A2C3D4E5F802E",
	    "00008030001a2c3d4e5f802e"));
	assert_true(usb_udid_equal("abc", "ABC"));
	assert_false(usb_udid_equal("00008030-001A2C3D4E5F802E",
	    "00008030-001A2C3D4E5F802F"));
	assert_false(usb_udid_equal("00008030-001A2C3D4E5F802E",
	    "00008030-001A2C3D4E5F802"));
	assert_false(usb_udid_equal("", "0"));
}

/* Every libusb status maps once, to the status a run understands. */
static void
test_status_mapping(void **state)
{
	(void)state;
	assert_int_equal(usb_status_of_transfer(LIBUSB_TRANSFER_COMPLETED),
	    LQ_OK);
	assert_int_equal(usb_status_of_transfer(LIBUSB_TRANSFER_TIMED_OUT),
	    LQ_ETIMEDOUT);
	assert_int_equal(usb_status_of_transfer(LIBUSB_TRANSFER_STALL),
	    LQ_EUSB);
	/* The kernel's -71, -84, -62 (ERROR) and -75 (OVERFLOW). */
	assert_int_equal(usb_status_of_transfer(LIBUSB_TRANSFER_ERROR),
	    LQ_ELINK);
	assert_int_equal(usb_status_of_transfer(LIBUSB_TRANSFER_OVERFLOW),
	    LQ_ELINK);
	assert_int_equal(usb_status_of_transfer(LIBUSB_TRANSFER_NO_DEVICE),
	    LQ_ENODEVICE);
	assert_int_equal(usb_status_of_transfer(LIBUSB_TRANSFER_CANCELLED),
	    LQ_ECANCELED);
	assert_int_equal(usb_status_of_error(LIBUSB_SUCCESS), LQ_OK);
	assert_int_equal(usb_status_of_error(LIBUSB_ERROR_TIMEOUT),
	    LQ_ETIMEDOUT);
	assert_int_equal(usb_status_of_error(LIBUSB_ERROR_NO_DEVICE),
	    LQ_ENODEVICE);
	assert_int_equal(usb_status_of_error(LIBUSB_ERROR_ACCESS), LQ_EPERM);
	assert_int_equal(usb_status_of_error(LIBUSB_ERROR_IO), LQ_EUSB);
	assert_int_equal(usb_status_of_error(LIBUSB_ERROR_PIPE), LQ_EUSB);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mode_of_product),
		cmocka_unit_test(test_udid_of_normal_serial),
		cmocka_unit_test(test_udid_of_recovery_serial),
		cmocka_unit_test(test_udid_equal),
		cmocka_unit_test(test_status_mapping),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
