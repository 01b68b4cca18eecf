/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Unit tests for the hooks (daemon/hooks.c) on a real libevent base:
 * the event names, and the bounds: of HOOKS_RUNNING_MAX +
 * HOOKS_QUEUED_MAX + 1 events at once, the last is dropped, never more
 * than HOOKS_RUNNING_MAX commands run at once, and the queued ones all
 * run once a slot frees. The commands are sh scripts that record what
 * they see in a temporary directory and wait for a file; the loop runs
 * with a deadline until the files say what is expected.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "compat/compat.h"
#include "config.h"
#include "hooks.h"
#include "log.h"
#include "xmalloc.h"

#define DEADLINE_SEC	20
#define NHOOKS		(HOOKS_RUNNING_MAX + HOOKS_QUEUED_MAX)

static struct event_base	*base;
static char			 dir[64];

/* The number of lines of file name in dir (0 if it is absent). */
static int
lines(const char *name)
{
	char	 path[128];
	FILE	*f;
	int	 c, n = 0;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "r")) == NULL)
		return (0);
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	(void)fclose(f);
	return (n);
}

/* Run the loop until file name has n lines, or fail at the deadline. */
static void
loop_until_lines(const char *name, int n)
{
	struct timespec	pause = { 0, 10 * 1000 * 1000 };
	time_t		deadline = time(NULL) + DEADLINE_SEC;

	while (lines(name) < n) {
		if (time(NULL) > deadline)
			fail_msg("%s has %d lines, not %d", name, lines(name),
			    n);
		(void)event_base_loop(base, EVLOOP_NONBLOCK);
		(void)nanosleep(&pause, NULL);
	}
}

static void
test_names(__unused void **state)
{
	int	e;

	for (e = 0; e <= HOOK_EVENT_MAX; e++)
		assert_int_equal(hook_event_from_name(hook_event_name(e)), e);
	assert_string_equal(hook_event_name(HOOK_DEGRADED), "degraded");
	assert_null(hook_event_name(HOOK_EVENT_MAX + 1));
	assert_int_equal(hook_event_from_name("FAIL"), -1);
}

static void
test_bounds(__unused void **state)
{
	static const char	*files[] = { "started", "counts", "ended",
				    "go" };
	struct config		 cfg;
	struct hook_facts	 f;
	char			 path[128], seen[NHOOKS + 1] = { 0 };
	FILE			*fp;
	int			 i, n, most = 0;

	(void)strlcpy(dir, "/tmp/lq-test-hooks-XXXXXX", sizeof(dir));
	assert_non_null(mkdtemp(dir));
	config_init(&cfg);
	/*
	 * Each records its run, how many run now (itself included, others
	 * starting at the same moment perhaps too: never fewer), waits
	 * for "go", and records its end before it exits.
	 */
	xasprintf(&cfg.hook_command, "cd %s && echo $LINKQ_RUN >> started "
	    "&& echo $(($(wc -l < started) - $(cat ended 2>/dev/null | "
	    "wc -l))) >> counts && while [ ! -e go ]; do sleep 0.02; done "
	    "&& echo $LINKQ_RUN >> ended", dir);
	cfg.hook_shell = 1;
	cfg.hook_events = HOOK_EVENT_BIT(HOOK_FAIL);
	hooks_init(base, &cfg);
	assert_true(hooks_wanted(HOOK_FAIL));
	assert_false(hooks_wanted(HOOK_MARGINAL));

	memset(&f, 0, sizeof(f));
	f.event = HOOK_FAIL;
	f.verdict = "FAIL";
	for (i = 1; i <= NHOOKS + 1; i++) {
		f.run_id = i;
		hooks_fire(&f);
	}
	loop_until_lines("started", HOOKS_RUNNING_MAX);

	(void)snprintf(path, sizeof(path), "%s/go", dir);
	assert_non_null(fp = fopen(path, "w"));
	(void)fclose(fp);
	loop_until_lines("ended", NHOOKS);
	hooks_shutdown();

	/* Each of the first NHOOKS ran once; the last was dropped. */
	assert_int_equal(lines("started"), NHOOKS);
	(void)snprintf(path, sizeof(path), "%s/started", dir);
	assert_non_null(fp = fopen(path, "r"));
	while (fscanf(fp, "%d", &n) == 1) {
		assert_true(n >= 1 && n <= NHOOKS);
		assert_false(seen[n]);
		seen[n] = 1;
	}
	(void)fclose(fp);
	(void)snprintf(path, sizeof(path), "%s/counts", dir);
	assert_non_null(fp = fopen(path, "r"));
	while (fscanf(fp, "%d", &n) == 1)
		most = n > most ? n : most;
	(void)fclose(fp);
	assert_true(most >= 1 && most <= HOOKS_RUNNING_MAX);

	for (i = 0; i < (int)nitems(files); i++) {
		(void)snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		assert_int_equal(unlink(path), 0);
	}
	assert_int_equal(rmdir(dir), 0);
	hooks_set_config(NULL);
	config_release(&cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_bounds),
	};

	log_init(LOG_TO_STDERR, 0, "test-hooks");
	if ((base = event_base_new()) == NULL)
		return (1);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
