/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Unit tests for common/: logging, allocators, status codes, time and
 * the vocabulary tables. Behaviour that ends the process (fatal, an
 * allocation that cannot succeed) is checked in a forked child.
 */

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "compat/compat.h"
#include "compat/queue.h"
#include "compat/tree.h"
#include "linkq.h"
#include "log.h"
#include "lq-status.h"
#include "lq-time.h"
#include "xmalloc.h"

/*
 * Run fn with standard error redirected to a file and return what it
 * wrote (allocated) and, in *status, the exit status if it was run in a
 * child (fork != 0) or 0.
 */
static char *
capture_stderr(void (*fn)(void), int fork_it, int *status)
{
	char	 path[] = "/tmp/lq-test-stderr-XXXXXX";
	char	*out;
	int	 fd, saved, wstatus;
	off_t	 size;
	pid_t	 pid;

	fd = mkstemp(path);
	assert_true(fd != -1);
	(void)unlink(path);
	*status = 0;
	if (fork_it) {
		pid = fork();
		assert_true(pid != -1);
		if (pid == 0) {
			(void)dup2(fd, STDERR_FILENO);
			fn();
			_exit(0);
		}
		assert_int_equal(waitpid(pid, &wstatus, 0), pid);
		assert_true(WIFEXITED(wstatus));
		*status = WEXITSTATUS(wstatus);
	} else {
		saved = dup(STDERR_FILENO);
		(void)dup2(fd, STDERR_FILENO);
		fn();
		(void)dup2(saved, STDERR_FILENO);
		(void)close(saved);
	}
	size = lseek(fd, 0, SEEK_END);
	out = xcalloc(1, (size_t)size + 1);
	assert_int_equal(pread(fd, out, (size_t)size, 0), size);
	(void)close(fd);
	return (out);
}

static void
log_levels(void)
{
	log_init(LOG_TO_STDERR, 0, "/usr/sbin/lqtest");
	log_info("info %d", 1);
	log_debug("debug hidden");
	log_setverbose(1);
	log_debug("debug %s", "shown");
	log_trace("trace hidden");
	log_setverbose(2);
	log_trace("trace shown");
	log_setverbose(0);
}

static void
test_log_levels(void **state __unused)
{
	char	*out;
	int	 status;

	(void)unsetenv("JOURNAL_STREAM");
	out = capture_stderr(log_levels, 0, &status);
	assert_string_equal(out,
	    "lqtest: info 1\n"
	    "lqtest: debug shown\n"
	    "lqtest: trace shown\n");
	free(out);
}

static void
log_hostile(void)
{
	log_init(LOG_TO_STDERR, 0, "lqtest");
	log_warnx("name %s end", "evil\n\033[2Jname");
}

/* A string from a device cannot start a new line or reach the terminal. */
static void
test_log_escapes_control_characters(void **state __unused)
{
	char	*out;
	int	 status;

	out = capture_stderr(log_hostile, 0, &status);
	assert_string_equal(out, "lqtest: name evil\\012\\033[2Jname end\n");
	free(out);
}

static void
log_warn_errno(void)
{
	log_init(LOG_TO_STDERR, 0, "lqtest");
	errno = ENOENT;
	log_warn("open %s", "x");
	/* The caller's errno survives logging. */
	if (errno != ENOENT)
		log_warnx("errno changed to %d", errno);
}

static void
test_log_warn_appends_and_keeps_errno(void **state __unused)
{
	char	*out;
	int	 status;

	out = capture_stderr(log_warn_errno, 0, &status);
	assert_string_equal(out,
	    "lqtest: open x: No such file or directory\n");
	free(out);
}

/* Set JOURNAL_STREAM to name standard error, or, if off, another file. */
static void
set_journal_stream(int off)
{
	struct stat	st;
	char		buf[64];

	assert_int_equal(fstat(STDERR_FILENO, &st), 0);
	(void)snprintf(buf, sizeof(buf), "%ju:%ju", (uintmax_t)st.st_dev,
	    (uintmax_t)st.st_ino + (off ? 1 : 0));
	(void)setenv("JOURNAL_STREAM", buf, 1);
}

static void
log_journal(void)
{
	set_journal_stream(0);
	log_init(LOG_TO_STDERR, 0, "lqtest");
	log_warnx("w");
	log_info("i");
	(void)unsetenv("JOURNAL_STREAM");
	log_init(LOG_TO_STDERR, 0, "lqtest");
}

/* Under systemd, lines carry their syslog priority for journald. */
static void
test_log_journal_priorities(void **state __unused)
{
	char	*out;
	int	 status;

	out = capture_stderr(log_journal, 0, &status);
	assert_string_equal(out, "<4>w\n<6>i\n");
	free(out);
}

static void
log_journal_elsewhere(void)
{
	set_journal_stream(1);
	log_init(LOG_TO_STDERR, 0, "lqtest");
	log_warnx("w");
	(void)unsetenv("JOURNAL_STREAM");
	log_init(LOG_TO_STDERR, 0, "lqtest");
}

/*
 * A program whose standard error was redirected inherits its service's
 * JOURNAL_STREAM: that names another stream, so lines are plain.
 */
static void
test_log_journal_stream_of_another(void **state __unused)
{
	char	*out;
	int	 status;

	out = capture_stderr(log_journal_elsewhere, 0, &status);
	assert_string_equal(out, "lqtest: w\n");
	free(out);
}

static void
test_log_journal_stream_parse(void **state __unused)
{
	assert_true(log_journal_stream_is("8:1234", 8, 1234));
	assert_false(log_journal_stream_is("8:1234", 8, 1235));
	assert_false(log_journal_stream_is("9:1234", 8, 1234));
	assert_false(log_journal_stream_is(NULL, 8, 1234));
	assert_false(log_journal_stream_is("", 0, 0));
	assert_false(log_journal_stream_is("8:", 8, 0));
	assert_false(log_journal_stream_is(":1234", 0, 1234));
	assert_false(log_journal_stream_is("8:1234x", 8, 1234));
	assert_false(log_journal_stream_is("-8:1234", 8, 1234));
	assert_false(log_journal_stream_is("8:-1234", 8, 1234));
	assert_false(log_journal_stream_is("99999999999999999999999:1", 0,
	    1));
}

/* What the test sink got last; it refuses when sink_refuse is set. */
static char	sink_line[256];
static char	sink_fields[256];
static int	sink_refuse;

static int
test_sink(int priority, const char *msg, const char *name,
    const struct log_ctx *ctx)
{
	(void)snprintf(sink_line, sizeof(sink_line), "%d %s %s", priority,
	    name, msg);
	if (ctx == NULL)
		(void)strlcpy(sink_fields, "-", sizeof(sink_fields));
	else
		(void)snprintf(sink_fields, sizeof(sink_fields),
		    "%lld %s %s %s %s", (long long)ctx->run_id,
		    ctx->port != NULL ? ctx->port : "-",
		    ctx->cable != NULL ? ctx->cable : "-",
		    ctx->udid != NULL ? ctx->udid : "-",
		    ctx->verdict != NULL ? ctx->verdict : "-");
	return (sink_refuse ? -1 : 0);
}

static void
log_sink_lines(void)
{
	struct log_ctx	ctx = { 7, "1-1", "C-01", "UDID", "PASS" };

	/* Not the journal: the sink is not used, the text is log_info's. */
	log_set_journal(test_sink);
	log_init(LOG_TO_STDERR, 0, "lqtest");
	log_fields(LOG_INFO, &ctx, "run %d done", 7);
	set_journal_stream(0);
	log_init(LOG_TO_STDERR, 0, "lqtest");
	log_fields(LOG_INFO, &ctx, "run %d done", 7);
	sink_refuse = 1;
	log_fields(LOG_WARNING, NULL, "refused");
	sink_refuse = 0;
	log_set_journal(NULL);
	(void)unsetenv("JOURNAL_STREAM");
	log_init(LOG_TO_STDERR, 0, "lqtest");
}

/*
 * log_fields hands the facts to the journal sink when stderr is the
 * journal, prints the plain line otherwise, and a refused message goes
 * to standard error after all.
 */
static void
test_log_fields_sink(void **state __unused)
{
	char	*out;
	int	 status;

	sink_line[0] = sink_fields[0] = '\0';
	out = capture_stderr(log_sink_lines, 0, &status);
	assert_string_equal(out, "lqtest: run 7 done\n<4>refused\n");
	assert_string_equal(sink_line, "4 lqtest refused");
	assert_string_equal(sink_fields, "-");
	free(out);
}

static void
log_sink_fields(void)
{
	struct log_ctx	ctx = { 7, "1-1", "C-01", "UDID", "PASS" };

	log_set_journal(test_sink);
	set_journal_stream(0);
	log_init(LOG_TO_STDERR, 0, "lqtest");
	log_fields(LOG_INFO, &ctx, "run %d done", 7);
	log_set_journal(NULL);
	(void)unsetenv("JOURNAL_STREAM");
	log_init(LOG_TO_STDERR, 0, "lqtest");
}

static void
test_log_fields_to_journal(void **state __unused)
{
	char	*out;
	int	 status;

	out = capture_stderr(log_sink_fields, 0, &status);
	assert_string_equal(out, "");
	assert_string_equal(sink_line, "6 lqtest run 7 done");
	assert_string_equal(sink_fields, "7 1-1 C-01 UDID PASS");
	free(out);
}

static void
call_fatalx(void)
{
	log_init(LOG_TO_STDERR, 0, "lqtest");
	fatalx("cannot go on: %s", "reason");
}

static void
test_fatalx_exits(void **state __unused)
{
	char	*out;
	int	 status;

	out = capture_stderr(call_fatalx, 1, &status);
	assert_int_equal(status, 1);
	assert_string_equal(out, "lqtest: fatal: cannot go on: reason\n");
	free(out);
}

static void
call_fatal(void)
{
	log_init(LOG_TO_STDERR, 0, "lqtest");
	errno = EACCES;
	fatal("bind %s", "/run/x");
}

static void
test_fatal_appends_errno(void **state __unused)
{
	char	*out;
	int	 status;

	out = capture_stderr(call_fatal, 1, &status);
	assert_int_equal(status, 1);
	assert_string_equal(out,
	    "lqtest: fatal: bind /run/x: Permission denied\n");
	free(out);
}

static void
overflowing_alloc(void)
{
	log_init(LOG_TO_STDERR, 0, "lqtest");
	(void)xreallocarray(NULL, SIZE_MAX / 2, 4);
}

/* An allocation that overflows dies instead of returning a short block. */
static void
test_xreallocarray_overflow_is_fatal(void **state __unused)
{
	char	*out;
	int	 status;

	out = capture_stderr(overflowing_alloc, 1, &status);
	assert_int_equal(status, 1);
	assert_non_null(strstr(out, "fatal: xreallocarray"));
	free(out);
}

static void
zero_alloc(void)
{
	log_init(LOG_TO_STDERR, 0, "lqtest");
	(void)xmalloc(0);
}

static void
test_xmalloc_zero_is_fatal(void **state __unused)
{
	char	*out;
	int	 status;

	out = capture_stderr(zero_alloc, 1, &status);
	assert_int_equal(status, 1);
	assert_string_equal(out, "lqtest: fatal: xmalloc: zero size\n");
	free(out);
}

static void
short_snprintf(void)
{
	char	buf[4];

	log_init(LOG_TO_STDERR, 0, "lqtest");
	(void)xsnprintf(buf, sizeof(buf), "%s", "toolong");
}

static void
test_xsnprintf_truncation_is_fatal(void **state __unused)
{
	char	*out;
	int	 status;

	out = capture_stderr(short_snprintf, 1, &status);
	assert_int_equal(status, 1);
	assert_non_null(strstr(out, "do not fit in 4"));
	free(out);
}

static void
test_xmalloc_family(void **state __unused)
{
	char	*s, *t;
	int	*v;
	size_t	 i;

	assert_int_equal(xasprintf(&s, "%s-%03d", "A", 7), 5);
	assert_string_equal(s, "A-007");
	t = xstrndup(s, 2);
	assert_string_equal(t, "A-");
	free(t);
	t = xstrdup(s);
	assert_ptr_not_equal(t, s);
	assert_string_equal(t, s);
	free(t);
	free(s);

	v = xcalloc(4, sizeof(*v));
	for (i = 0; i < 4; i++)
		assert_int_equal(v[i], 0);
	v[3] = 42;
	v = xrecallocarray(v, 4, 100, sizeof(*v));
	assert_int_equal(v[3], 42);
	for (i = 4; i < 100; i++)
		assert_int_equal(v[i], 0);
	free(v);
}

static void
test_compat_strings(void **state __unused)
{
	char		 buf[6];
	const char	*errstr;

	assert_int_equal(strlcpy(buf, "cable-A03", sizeof(buf)), 9);
	assert_string_equal(buf, "cable");
	assert_int_equal(strlcat(buf, "x", sizeof(buf)), 6);
	assert_string_equal(buf, "cable");

	assert_int_equal(strtonum("480", 1, 20000, &errstr), 480);
	assert_null(errstr);
	assert_int_equal(strtonum("0", 1, 20000, &errstr), 0);
	assert_string_equal(errstr, "too small");
	assert_int_equal(strtonum("12abc", 1, 20000, &errstr), 0);
	assert_string_equal(errstr, "invalid");
	assert_int_equal(nitems(buf), 6);
}

struct node {
	int			 key;
	RB_ENTRY(node)		 entry;
	TAILQ_ENTRY(node)	 qentry;
};
RB_HEAD(node_tree, node);
TAILQ_HEAD(node_list, node);

static int
node_cmp(struct node *a, struct node *b)
{
	return (a->key < b->key ? -1 : a->key > b->key);
}
RB_GENERATE_STATIC(node_tree, node, entry, node_cmp)

/* The vendored-by-package BSD macros are complete (the _SAFE loops). */
static void
test_compat_queue_tree(void **state __unused)
{
	struct node_tree	 tree = RB_INITIALIZER(&tree);
	struct node_list	 list = TAILQ_HEAD_INITIALIZER(list);
	struct node		 nodes[5], *n, *tmp, key;
	int			 i, prev = -1;

	for (i = 0; i < 5; i++) {
		nodes[i].key = (i * 3) % 5;
		assert_null(RB_INSERT(node_tree, &tree, &nodes[i]));
		TAILQ_INSERT_TAIL(&list, &nodes[i], qentry);
	}
	RB_FOREACH(n, node_tree, &tree) {
		assert_true(n->key > prev);
		prev = n->key;
	}
	key.key = 4;
	assert_non_null(RB_FIND(node_tree, &tree, &key));
	TAILQ_FOREACH_SAFE(n, &list, qentry, tmp) {
		if (n->key % 2 == 0)
			TAILQ_REMOVE(&list, n, qentry);
	}
	i = 0;
	TAILQ_FOREACH(n, &list, qentry)
		i++;
	assert_int_equal(i, 2);
}

/* Every status has a distinct name and message and round-trips. */
static void
test_status_table(void **state __unused)
{
	int	code, other;

	for (code = LQ_OK; code >= LQ_STATUS_MIN; code--) {
		assert_true(lq_status_valid(code));
		assert_string_not_equal(lq_strerror(code), "unknown status");
		assert_int_equal(lq_status_from_name(lq_status_name(code)),
		    code);
		for (other = code - 1; other >= LQ_STATUS_MIN; other--) {
			assert_string_not_equal(lq_status_name(code),
			    lq_status_name(other));
			assert_string_not_equal(lq_strerror(code),
			    lq_strerror(other));
		}
	}
	assert_false(lq_status_valid(1));
	assert_false(lq_status_valid(LQ_STATUS_MIN - 1));
	assert_string_equal(lq_status_name(LQ_STATUS_MIN - 1), "unknown");
	assert_string_equal(lq_strerror(99), "unknown status");
	assert_int_equal(lq_status_from_name("no-such-status"), 1);
	assert_string_equal(lq_status_name(LQ_ETIMEDOUT), "timeout");
}

static void
test_vocabulary(void **state __unused)
{
	const struct lq_event_kind	*kinds;
	unsigned int			 n, i, j;
	int				 kind;

	for (kind = 1; kind <= LQ_PROBE_KIND_MAX; kind++)
		assert_int_equal(lq_probe_kind_from_name(
		    lq_probe_kind_name(kind)), kind);
	assert_null(lq_probe_kind_name(0));
	assert_null(lq_probe_kind_name(LQ_PROBE_KIND_MAX + 1));
	assert_int_equal(lq_probe_kind_from_name("bulk"), LQ_PROBE_BULK);
	assert_int_equal(lq_probe_kind_from_name("Bulk"), -1);

	kinds = lq_event_kinds(&n);
	assert_true(n > 10);
	for (i = 0; i < n; i++) {
		assert_ptr_equal(lq_event_kind_find(kinds[i].name),
		    &kinds[i]);
		for (j = i + 1; j < n; j++)
			assert_string_not_equal(kinds[i].name, kinds[j].name);
	}
	assert_int_equal(lq_event_kind_find("link-error")->class,
	    LQ_EVENT_HARD);
	assert_int_equal(lq_event_kind_find("unplug")->class, LQ_EVENT_INFO);
	assert_null(lq_event_kind_find("nonsense"));

	assert_true(lq_event_source_valid("kmsg"));
	assert_false(lq_event_source_valid("kernel"));
	assert_int_equal(lq_device_mode_from_name("dfu"), LQ_MODE_DFU);
	assert_string_equal(lq_device_mode_name(LQ_MODE_RECOVERY),
	    "recovery");
	assert_int_equal(lq_device_mode_from_name("DFU"), -1);
}

/*
 * The hard kinds' table is the list of the hard event kinds: each entry
 * is an event kind of class hard, each such kind has an entry, and its
 * words are a sentence with one "%s" (verdict.c fills it without printf).
 */
static void
test_hard_kinds(void **state __unused)
{
	const struct lq_event_kind	*kinds, *ek;
	const struct lq_hard		*hard;
	const char			*at;
	unsigned int			 n, i, nhard = 0;
	int				 k;

	hard = lq_hard_kinds();
	for (k = 0; k < LQ_HARD_MAX; k++) {
		assert_non_null(hard[k].name);
		ek = lq_event_kind_find(hard[k].name);
		assert_non_null(ek);
		assert_int_equal(ek->class, LQ_EVENT_HARD);
		assert_int_equal(lq_hard_from_name(hard[k].name), k);
		assert_non_null(hard[k].reason);
		at = strstr(hard[k].reason, "%s");
		assert_non_null(at);
		assert_ptr_equal(strchr(hard[k].reason, '%'), at);
		assert_null(strchr(at + 2, '%'));
		if (hard[k].once != NULL)
			assert_null(strchr(hard[k].once, '%'));
	}
	kinds = lq_event_kinds(&n);
	for (i = 0; i < n; i++) {
		if (kinds[i].class != LQ_EVENT_HARD)
			continue;
		nhard++;
		k = lq_hard_from_name(kinds[i].name);
		assert_true(k >= 0 && k < LQ_HARD_MAX);
		assert_string_equal(hard[k].name, kinds[i].name);
	}
	assert_int_equal(nhard, LQ_HARD_MAX);

	assert_int_equal(lq_hard_from_name("timeout"), -1);
	assert_int_equal(lq_hard_from_name("unplug"), -1);
	assert_int_equal(lq_hard_from_name("Dropout"), -1);
	assert_int_equal(lq_hard_from_name(NULL), -1);
	assert_int_equal(lq_hard_from_name("dropout"), LQ_HARD_DROPOUT);
	assert_int_equal(lq_hard_from_name("enumeration-failure"),
	    LQ_HARD_ENUM_FAILURE);
	/* The host side, blamed as such; everything else is the link's. */
	for (k = 0; k < LQ_HARD_MAX; k++) {
		if (k == LQ_HARD_HC_FAILURE)
			assert_int_equal(hard[k].blames, LQ_HARD_BLAMES_HOST);
		else if (k == LQ_HARD_OVER_CURRENT)
			assert_int_equal(hard[k].blames, LQ_HARD_BLAMES_PORT);
		else
			assert_int_equal(hard[k].blames, LQ_HARD_BLAMES_LINK);
	}
}

static void
test_time(void **state __unused)
{
	lq_mono_t	a, b, c;
	int64_t		wall;

	a = lq_mono_now();
	b = lq_mono_now();
	assert_true(lq_mono_cmp(a, b) <= 0);
	assert_true(lq_mono_sub(b, a) >= 0);

	c = lq_mono_add(a, 250 * LQ_USEC_PER_MSEC);
	assert_int_equal(lq_mono_sub(c, a), 250000);
	assert_int_equal(lq_mono_cmp(c, a), 1);
	assert_int_equal(lq_mono_cmp(a, c), -1);
	assert_int_equal(lq_mono_cmp(a, a), 0);
	assert_true(lq_mono_passed(a, c));
	assert_false(lq_mono_passed(c, a));
	assert_true(lq_mono_passed(a, a));

	/* Microseconds since the epoch, not seconds or nanoseconds. */
	wall = lq_wall_now_us();
	assert_true(wall / LQ_USEC_PER_SEC - (int64_t)time(NULL) <= 1);
	assert_true((int64_t)time(NULL) - wall / LQ_USEC_PER_SEC <= 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log_levels),
		cmocka_unit_test(test_log_escapes_control_characters),
		cmocka_unit_test(test_log_warn_appends_and_keeps_errno),
		cmocka_unit_test(test_log_journal_priorities),
		cmocka_unit_test(test_log_journal_stream_of_another),
		cmocka_unit_test(test_log_journal_stream_parse),
		cmocka_unit_test(test_log_fields_sink),
		cmocka_unit_test(test_log_fields_to_journal),
		cmocka_unit_test(test_fatalx_exits),
		cmocka_unit_test(test_fatal_appends_errno),
		cmocka_unit_test(test_xreallocarray_overflow_is_fatal),
		cmocka_unit_test(test_xmalloc_zero_is_fatal),
		cmocka_unit_test(test_xsnprintf_truncation_is_fatal),
		cmocka_unit_test(test_xmalloc_family),
		cmocka_unit_test(test_compat_strings),
		cmocka_unit_test(test_compat_queue_tree),
		cmocka_unit_test(test_status_table),
		cmocka_unit_test(test_vocabulary),
		cmocka_unit_test(test_hard_kinds),
		cmocka_unit_test(test_time),
	};

	return (cmocka_run_group_tests_name("common", tests, NULL, NULL));
}
