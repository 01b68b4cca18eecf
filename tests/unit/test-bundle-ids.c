/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The identifier table of linkq bundle (client/bundle-ids.c): a UDID,
 * its no-dash USB serial form and a serial number are replaced wherever
 * they appear, a name wherever it stands as a word, in any case, by one
 * token each, the same within a table and not across tables; a name
 * inside a longer word stays; --keep-ids replaces nothing.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "compat/compat.h"
#include "bundle-ids.h"

#define UDID	"00008030-001A2B3C4D5E6F70"
#define PLAIN	"00008030001A2B3C4D5E6F70"
#define SERIAL	"F2LZK0ABN72J"

static struct bundle_ids *
table(int keep, const char *name)
{
	struct bundle_ids	*ids;
	json_t			*dev;
	char			*cause = NULL;

	ids = bundle_ids_new(keep, &cause);
	assert_non_null(ids);
	dev = json_pack("{s:s, s:s, s:s}", "udid", UDID, "usb_serial",
	    SERIAL, "name", name);
	bundle_ids_device(ids, dev);
	json_decref(dev);
	return (ids);
}

/* The token of the UDID in ids. */
static char *
token(struct bundle_ids *ids)
{
	return (bundle_ids_text(ids, UDID));
}

static void
test_replaced(void **state)
{
	struct bundle_ids	*ids = table(0, "Bench iPhone");
	char			*t, *s;

	(void)state;
	assert_int_equal(bundle_ids_count(ids), 4);
	t = token(ids);
	assert_int_equal(strlen(t), strlen("udid-") + 16);
	assert_memory_equal(t, "udid-", 5);
	s = bundle_ids_text(ids, "usb 1-1: SerialNumber: " PLAIN);
	assert_null(strstr(s, PLAIN));
	assert_non_null(strstr(s, t));
	free(s);
	s = bundle_ids_text(ids, "lower " "00008030-001a2b3c4d5e6f70" ", "
	    SERIAL ", Bench iPhone.");
	assert_null(strcasestr(s, UDID));
	assert_null(strstr(s, SERIAL));
	assert_null(strstr(s, "Bench iPhone"));
	assert_non_null(strstr(s, t));
	assert_non_null(strstr(s, "serial-"));
	assert_non_null(strstr(s, "name-"));
	free(s);
	free(t);
	bundle_ids_free(ids);
}

static void
test_words(void **state)
{
	struct bundle_ids	*ids = table(0, "iPhone");
	char			*s;

	(void)state;
	s = bundle_ids_text(ids, "iPhone12,1 is an iPhone; X" SERIAL);
	assert_non_null(strstr(s, "iPhone12,1 is an name-"));
	assert_null(strstr(s, SERIAL));
	assert_non_null(strstr(s, "Xserial-"));
	free(s);
	bundle_ids_free(ids);
}

static void
test_json(void **state)
{
	struct bundle_ids	*ids = table(0, "Bench iPhone");
	json_t			*o;
	char			*t;

	(void)state;
	t = token(ids);
	o = json_pack("{s:s, s:[s, {s:s}], s:i}", "udid", UDID, "list",
	    "x " PLAIN, "deep", "Bench iPhone", "n", 7);
	bundle_ids_json(ids, o);
	assert_string_equal(json_string_value(json_object_get(o, "udid")), t);
	assert_null(strstr(json_string_value(json_array_get(json_object_get(o,
	    "list"), 0)), PLAIN));
	assert_memory_equal(json_string_value(json_object_get(
	    json_array_get(json_object_get(o, "list"), 1), "deep")),
	    "name-", 5);
	json_decref(o);
	free(t);
	bundle_ids_free(ids);
}

static void
test_tables(void **state)
{
	struct bundle_ids	*a = table(0, "x"), *b = table(0, "x");
	char			*ta, *ta2, *tb;

	(void)state;
	ta = token(a);
	ta2 = token(a);
	tb = token(b);
	assert_string_equal(ta, ta2);
	assert_string_not_equal(ta, tb);
	free(ta);
	free(ta2);
	free(tb);
	bundle_ids_free(a);
	bundle_ids_free(b);
}

static void
test_keep(void **state)
{
	struct bundle_ids	*ids = table(1, "Bench iPhone");
	char			*s;

	(void)state;
	assert_true(bundle_ids_kept(ids));
	s = bundle_ids_text(ids, UDID " " SERIAL " Bench iPhone");
	assert_string_equal(s, UDID " " SERIAL " Bench iPhone");
	free(s);
	bundle_ids_free(ids);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replaced),
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_keep),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
