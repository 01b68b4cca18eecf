/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Unit tests for daemon/dircheck.c: which directory is wrong with a
 * path, and the sentence that names it. (A directory closed to the user
 * needs another user than root: tests/integration/073.)
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "compat/compat.h"
#include "dircheck.h"

static void
test_dircheck_missing(void **state __unused)
{
	char	dir[256], why[512];

	assert_int_equal(dircheck("/nonexistent-lq/sub/linkq.db", dir,
	    sizeof(dir), why, sizeof(why)), DIRCHECK_MISSING);
	assert_string_equal(dir, "/nonexistent-lq/sub");
	assert_string_equal(why,
	    "directory /nonexistent-lq/sub does not exist");
	/* A file where a directory should be. */
	assert_int_equal(dircheck("/dev/null/linkq.sock", dir, sizeof(dir),
	    why, sizeof(why)), DIRCHECK_MISSING);
	assert_string_equal(dir, "/dev/null");
}

static void
test_dircheck_ok(void **state __unused)
{
	char	tmp[] = "/tmp/lq-dircheck-XXXXXX", path[64], dir[256];
	char	why[512];

	assert_non_null(mkdtemp(tmp));
	(void)snprintf(path, sizeof(path), "%s/linkq.db", tmp);
	assert_int_equal(dircheck(path, dir, sizeof(dir), why, sizeof(why)),
	    DIRCHECK_OK);
	assert_string_equal(dir, tmp);
	assert_int_equal(rmdir(tmp), 0);
	/* A bare name is in the working directory; /name in the root. */
	(void)dircheck("linkq.db", dir, sizeof(dir), why, sizeof(why));
	assert_string_equal(dir, ".");
	(void)dircheck("/linkq.db", dir, sizeof(dir), why, sizeof(why));
	assert_string_equal(dir, "/");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dircheck_missing),
		cmocka_unit_test(test_dircheck_ok),
	};

	return (cmocka_run_group_tests_name("dircheck", tests, NULL, NULL));
}
