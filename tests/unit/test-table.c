/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The table printer (common/table.c): whole rows with no width, the
 * same bytes as the printf tables it replaced; in a width, no line
 * longer and no character lost, flexible columns wrapped at blanks,
 * rows folded; no header line when no column is named; notes and text
 * wrapped.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "compat/compat.h"
#include "lq-table.h"

/* What t prints in width, as a string the caller frees. */
static char *
printed(const struct lq_table *t, size_t width)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*f;

	f = open_memstream(&buf, &len);
	assert_non_null(f);
	lq_table_print(f, t, width);
	assert_int_equal(fclose(f), 0);
	return (buf);
}

/* The longest line of s, colour escapes not counted. */
static size_t
longest(const char *s)
{
	size_t	n = 0, max = 0;

	for (; *s != '\0'; s++) {
		if (*s == '\033') {
			s += strcspn(s, "m");
			continue;
		}
		n = *s == '\n' ? 0 : n + 1;
		if (n > max)
			max = n;
	}
	return (max);
}

/* Counts of each character but blanks and newlines. */
static void
census(const char *s, size_t count[256])
{
	memset(count, 0, 256 * sizeof(*count));
	for (; *s != '\0'; s++) {
		if (*s != ' ' && *s != '\n')
			count[(unsigned char)*s]++;
	}
}

static struct lq_table *
wide_table(void)
{
	struct lq_table	*t = lq_table_new();
	int		 i;

	lq_table_column(t, "CABLE", LQ_TABLE_FLEX);
	lq_table_column(t, "PORT", LQ_TABLE_FLEX);
	lq_table_column(t, "VERDICT", 0);
	lq_table_column(t, "PROBES", LQ_TABLE_RIGHT);
	lq_table_column(t, "FAILS", LQ_TABLE_RIGHT);
	lq_table_column(t, "MB/s p50/p5", LQ_TABLE_RIGHT);
	lq_table_column(t, "LAST TESTED", LQ_TABLE_FLEX);
	for (i = 0; i < 3; i++) {
		lq_table_row(t);
		lq_table_cell(t, NULL, "C-%02d-a-long-cable-label", i);
		lq_table_cell(t, NULL, "1-%d (desk hub, port %d)", i, i);
		lq_table_cell(t, i == 2 ? "\033[31m" : NULL, "%s",
		    i == 2 ? "FAIL" : "PASS");
		lq_table_cell(t, NULL, "%d", 1000 * (i + 1));
		lq_table_cell(t, NULL, "%d", i * 7);
		lq_table_cell(t, NULL, "%.1f/%.1f", 24.5, 20.1);
		lq_table_cell(t, NULL, "2026-12-06 21:0%d:00.123", i);
		if (i == 2)
			lq_table_note(t, "data read back differed from what "
			    "was written (7 corruptions)");
	}
	return (t);
}

/* No width: each row one line, aligned, no trailing blanks. */
static void
test_pipe(void **state)
{
	struct lq_table	*t = lq_table_new();
	char		*s;

	(void)state;
	lq_table_column(t, "RUN", LQ_TABLE_RIGHT);
	lq_table_column(t, "PORT", 0);
	lq_table_column(t, "LABEL", LQ_TABLE_FLEX);
	lq_table_row(t);
	lq_table_cell(t, NULL, "7");
	lq_table_cell(t, NULL, "1-1");
	lq_table_cell(t, NULL, "front left");
	lq_table_row(t);
	lq_table_cell(t, NULL, "12");
	lq_table_cell(t, NULL, "1-4.3");
	lq_table_cell(t, NULL, "-");
	lq_table_note(t, "a reason");
	s = printed(t, 0);
	assert_string_equal(s,
	    "RUN  PORT   LABEL\n"
	    "  7  1-1    front left\n"
	    " 12  1-4.3  -\n"
	    "    a reason\n");
	free(s);
	lq_table_free(t);
}

/* In any width, no line longer and every character kept. */
static void
test_widths(void **state)
{
	struct lq_table	*t = wide_table();
	size_t		 whole[256], fitted[256], w;
	char		*s;

	(void)state;
	s = printed(t, 0);
	census(s, whole);
	assert_true(longest(s) > 100);
	free(s);
	for (w = 20; w <= 200; w += 10) {
		s = printed(t, w);
		census(s, fitted);
		if (longest(s) > w)
			fail_msg("%zu columns: %s", w, s);
		assert_memory_equal(whole, fitted, sizeof(whole));
		free(s);
	}
	lq_table_free(t);
}

/* Wide enough: the same as with no width. */
static void
test_fits(void **state)
{
	struct lq_table	*t = wide_table();
	char		*a, *b;

	(void)state;
	a = printed(t, 0);
	b = printed(t, longest(a));
	assert_string_equal(a, b);
	free(a);
	free(b);
	lq_table_free(t);
}

/* A flexible cell wraps at its blanks; a number is never split. */
static void
test_wrap(void **state)
{
	struct lq_table	*t = lq_table_new();
	char		*s;

	(void)state;
	lq_table_column(t, "PORT", LQ_TABLE_FLEX);
	lq_table_column(t, "FAILS", LQ_TABLE_RIGHT);
	lq_table_row(t);
	lq_table_cell(t, NULL, "1-1 front left");
	lq_table_cell(t, NULL, "12345");
	s = printed(t, 17);
	assert_string_equal(s,
	    "PORT        FAILS\n"
	    "1-1 front   12345\n"
	    "left\n");
	free(s);
	lq_table_free(t);
}

/* Too many columns for the width: the row folds, its header alike. */
static void
test_fold(void **state)
{
	struct lq_table	*t = lq_table_new();
	char		*s;

	(void)state;
	lq_table_column(t, "AAAA", 0);
	lq_table_column(t, "BBBB", LQ_TABLE_RIGHT);
	lq_table_column(t, "CCCC", LQ_TABLE_RIGHT);
	lq_table_row(t);
	lq_table_cell(t, NULL, "a");
	lq_table_cell(t, NULL, "1");
	lq_table_cell(t, NULL, "22");
	s = printed(t, 12);
	assert_string_equal(s,
	    "AAAA  BBBB\n"
	    "  CCCC\n"
	    "a        1\n"
	    "    22\n");
	free(s);
	lq_table_free(t);
}

/* No column named: no header line; an empty first column indents. */
static void
test_headless(void **state)
{
	struct lq_table	*t = lq_table_new();
	char		*s;

	(void)state;
	lq_table_column(t, "", 0);
	lq_table_column(t, "", 0);
	lq_table_column(t, "", LQ_TABLE_FLEX);
	lq_table_row(t);
	lq_table_cell(t, NULL, "%s", "");
	lq_table_cell(t, NULL, "cable");
	lq_table_cell(t, NULL, "bad");
	s = printed(t, 0);
	assert_string_equal(s, "  cable  bad\n");
	free(s);
	lq_table_free(t);
}

static void
test_text_wrap(void **state)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*f;

	(void)state;
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	lq_text_wrap(f, 2, "one two three four", 12);
	lq_text_wrap(f, 2, "one two three four", 0);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(buf,
	    "  one two\n"
	    "    three\n"
	    "    four\n"
	    "  one two three four\n");
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pipe),
		cmocka_unit_test(test_widths),
		cmocka_unit_test(test_fits),
		cmocka_unit_test(test_wrap),
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_headless),
		cmocka_unit_test(test_text_wrap),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
