/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Unit tests for linkqd's configuration file (daemon/config.c): the
 * defaults, every key and unit, each class of error with its exact line,
 * profile overrides and new profiles, auto-test lookups, CRLF files,
 * long lines, empty values, [hooks] and the splitting of its command,
 * and config_dump() read back unchanged.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "compat/compat.h"
#include "config.h"
#include "hooks.h"
#include "linkq.h"
#include "log.h"
#include "xmalloc.h"

#define KIB	UINT64_C(1024)
#define MIB	(1024 * KIB)
#define GIB	(1024 * MIB)
#define SEC	INT64_C(1000000)

static char	tmp_path[64];

/* Write len bytes of text to a new temporary file; return its path. */
static const char *
write_file(const char *text, size_t len)
{
	FILE	*f;
	int	 fd;

	(void)strlcpy(tmp_path, "/tmp/lq-test-config-XXXXXX",
	    sizeof(tmp_path));
	fd = mkstemp(tmp_path);
	assert_true(fd != -1);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return (tmp_path);
}

/* Read text as a config file; the file is removed afterwards. */
static struct config *
read_text(const char *text, char **cause)
{
	struct config	*cfg;
	const char	*path;

	path = write_file(text, strlen(text));
	cfg = config_read(path, 1, cause);
	(void)unlink(path);
	return (cfg);
}

/* Read text, which must be valid. */
static struct config *
read_ok(const char *text)
{
	struct config	*cfg;
	char		*cause = NULL;

	cfg = read_text(text, &cause);
	if (cfg == NULL)
		fail_msg("unexpected error: %s", cause);
	assert_null(cause);
	return (cfg);
}

/* Read text, which must fail at line with a message containing what. */
static void
read_error(const char *text, unsigned int line, const char *what)
{
	struct config	*cfg;
	char		*cause = NULL, *prefix;

	cfg = read_text(text, &cause);
	if (cfg != NULL)
		fail_msg("accepted: %s", text);
	assert_non_null(cause);
	xasprintf(&prefix, "%s:%u: ", tmp_path, line);
	if (strncmp(cause, prefix, strlen(prefix)) != 0 ||
	    strstr(cause + strlen(prefix), what) == NULL)
		fail_msg("got '%s', want '%s...%s'", cause, prefix, what);
	free(prefix);
	free(cause);
}

/* Return a config_dump() as a string. */
static char *
dump(const struct config *cfg)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*f;

	f = open_memstream(&buf, &len);
	assert_non_null(f);
	config_dump(cfg, f);
	assert_int_equal(fclose(f), 0);
	return (buf);
}

static void
test_defaults(__unused void **state)
{
	struct config		*cfg;
	const struct profile	*pr;
	const char		*names[] = { "quick", "standard", "restore",
				    "monitor", "wiggle" };
	char			*cause = NULL;
	size_t			 i = 0;

	cfg = config_read("/nonexistent/linkq.conf", 0, &cause);
	assert_non_null(cfg);
	assert_null(cause);
	assert_null(cfg->path);
	assert_string_equal(cfg->socket_path, LINKQ_SOCKET);
	assert_string_equal(cfg->db_path, LINKQ_DB);
	assert_int_equal(cfg->flush_us, 250000);
	assert_int_equal(cfg->usbmuxd_retry_us, SEC);
	assert_int_equal(cfg->reattach_window_us, 10 * SEC);
	assert_int_equal(cfg->retention_days, 365);
	assert_null(cfg->metrics_listen);
	assert_string_equal(cfg->afc_folder, "/linkq");
	assert_int_equal(cfg->max_free_share_pct, 10);
	assert_true(cfg->max_bytes == GIB);
	assert_true(cfg->p0 == 1e-3 && cfg->p1 == 1e-2);
	assert_true(cfg->alpha == 0.05 && cfg->beta == 0.05);
	assert_int_equal(cfg->max_probes, 3000);
	assert_int_equal(cfg->min_probes, 200);
	assert_true(cfg->min_bulk_bytes == 64 * MIB);
	assert_true(cfg->marginal_upper == 0.01);
	assert_int_equal(cfg->deadline_us[LQ_PROBE_MUX_CONNECT], 5 * SEC);
	assert_int_equal(cfg->deadline_us[LQ_PROBE_LOCKDOWN_QUERY], 5 * SEC);
	assert_int_equal(cfg->deadline_us[LQ_PROBE_LOCKDOWN_HANDSHAKE],
	    15 * SEC);
	assert_int_equal(cfg->deadline_us[LQ_PROBE_AFC_ROUNDTRIP], 10 * SEC);
	assert_int_equal(cfg->deadline_us[LQ_PROBE_BULK], 10 * SEC);
	assert_int_equal(cfg->deadline_us[LQ_PROBE_USB_CONTROL], 2 * SEC);
	assert_null(cfg->auto_test);
	assert_null(config_auto_test(cfg, "1-1"));

	TAILQ_FOREACH(pr, &cfg->profiles, entry) {
		assert_true(i < nitems(names));
		assert_string_equal(pr->name, names[i]);
		i++;
	}
	assert_int_equal(i, nitems(names));

	pr = config_profile(cfg, "quick");
	assert_non_null(pr);
	assert_int_equal(pr->kinds, 0x3e);
	assert_int_equal(pr->duration_us, 30 * SEC);
	assert_true(pr->bulk_bytes == 64 * MIB);
	assert_int_equal(pr->chunk_bytes, MIB);
	/* It keeps its 30 s, and its PASS says it is triage. */
	assert_int_equal(pr->stop_early, 0);
	assert_int_equal(pr->triage, 1);
	assert_int_equal(pr->forever, 0);
	pr = config_profile(cfg, "standard");
	assert_int_equal(pr->kinds, 0x7e);
	assert_int_equal(pr->duration_us, 300 * SEC);
	assert_true(pr->bulk_bytes == 256 * MIB);
	assert_int_equal(pr->stop_early, 0);
	assert_int_equal(pr->triage, 0);
	pr = config_profile(cfg, "restore");
	assert_int_equal(pr->kinds, PROFILE_KIND(LQ_PROBE_BULK));
	assert_true(pr->bulk_bytes == UINT64_C(8000000000));
	assert_int_equal(pr->chunk_bytes, 128 * KIB);
	assert_int_equal(pr->handshake_every, 10);
	assert_int_equal(pr->duration_us, 0);
	assert_int_equal(pr->stop_early, 0);
	/* A restore streams to the phone; nothing is read back. */
	assert_int_equal(pr->write_only, 1);
	pr = config_profile(cfg, "monitor");
	assert_int_equal(pr->kinds, PROFILE_KIND(LQ_PROBE_MUX_CONNECT) |
	    PROFILE_KIND(LQ_PROBE_LOCKDOWN_QUERY) |
	    PROFILE_KIND(LQ_PROBE_AFC_ROUNDTRIP));
	assert_int_equal(pr->interval_us, 10 * SEC);
	assert_int_equal(pr->forever, 1);
	assert_true(pr->bulk_bytes == 0);
	/* A verdict per hour, so a port that degrades over a day shows. */
	assert_int_equal(pr->window_us, 3600 * SEC);
	pr = config_profile(cfg, "wiggle");
	assert_int_equal(pr->window_us, 0);
	assert_int_equal(pr->kinds, PROFILE_KIND(LQ_PROBE_BULK));
	assert_int_equal(pr->forever, 1);
	assert_int_equal(pr->interval_us, 0);
	assert_null(config_profile(cfg, "nope"));
	config_free(cfg);
	config_free(NULL);

	/* The same through config_init() on an embedded struct. */
	{
		struct config	c;

		config_init(&c);
		assert_non_null(config_profile(&c, "wiggle"));
		config_release(&c);
	}
}

static void
test_absent_file(__unused void **state)
{
	struct config	*cfg;
	char		*cause = NULL;

	cfg = config_read("/nonexistent/linkq.conf", 1, &cause);
	assert_null(cfg);
	assert_string_equal(cause,
	    "/nonexistent/linkq.conf: No such file or directory");
	free(cause);

	/* Other open errors count even when the file is optional. */
	cfg = config_read("/dev/null/x", 0, &cause);
	assert_null(cfg);
	assert_string_equal(cause, "/dev/null/x: Not a directory");
	free(cause);

	/* A directory cannot be read. */
	cfg = config_read("/", 0, &cause);
	assert_null(cfg);
	assert_non_null(strstr(cause, "Is a directory"));
	free(cause);
}

static void
test_every_key(__unused void **state)
{
	struct config		*cfg;
	const struct profile	*pr;

	cfg = read_ok(
	    "[daemon]\n"
	    "socket = /tmp/lq.sock\n"
	    "db = /tmp/lq.db\n"
	    "flush = 100ms\n"
	    "usbmuxd-retry = 2s\n"
	    "reattach-window = 1m\n"
	    "retention-days = 0\n"
	    "metrics-listen = 127.1.2.3:0\n"
	    "[safety]\n"
	    "afc-folder = /linkq-test\n"
	    "max-free-share = 25%\n"
	    "max-bytes = 2G\n"
	    "[verdict]\n"
	    "p0 = 0.002\n"
	    "p1 = 0.02\n"
	    "alpha = 0.01\n"
	    "beta = 0.1\n"
	    "max-probes = 5000\n"
	    "min-probes = 100\n"
	    "min-bulk = 128M\n"
	    "marginal-upper = 0.005\n"
	    "[deadlines]\n"
	    "mux-connect = 1s\n"
	    "lockdown-query = 2s\n"
	    "lockdown-handshake = 3s\n"
	    "afc-roundtrip = 4s\n"
	    "bulk = 5m\n"
	    "usb-control = 500ms\n"
	    "[auto-test]\n"
	    "default = quick\n"
	    "port 1-4.2 = restore\n"
	    "port   2-1 = off\n"
	    "[profile soak]\n"
	    "kinds = bulk lockdown-query\n"
	    "duration = 2h\n"
	    "bulk = 1G\n"
	    "chunk = 512K\n"
	    "interval = 5s\n"
	    "handshake-every = 7\n"
	    "stop-early = yes\n"
	    "forever = no\n");
	assert_non_null(cfg->path);
	assert_string_equal(cfg->socket_path, "/tmp/lq.sock");
	assert_string_equal(cfg->db_path, "/tmp/lq.db");
	assert_string_equal(cfg->metrics_listen, "127.1.2.3:0");
	assert_int_equal(cfg->flush_us, 100000);
	assert_int_equal(cfg->usbmuxd_retry_us, 2 * SEC);
	assert_int_equal(cfg->reattach_window_us, 60 * SEC);
	assert_int_equal(cfg->retention_days, 0);
	assert_string_equal(cfg->afc_folder, "/linkq-test");
	assert_int_equal(cfg->max_free_share_pct, 25);
	assert_true(cfg->max_bytes == 2 * GIB);
	assert_true(cfg->p0 == 0.002 && cfg->p1 == 0.02);
	assert_true(cfg->alpha == 0.01 && cfg->beta == 0.1);
	assert_int_equal(cfg->max_probes, 5000);
	assert_int_equal(cfg->min_probes, 100);
	assert_true(cfg->min_bulk_bytes == 128 * MIB);
	assert_true(cfg->marginal_upper == 0.005);
	assert_int_equal(cfg->deadline_us[LQ_PROBE_MUX_CONNECT], SEC);
	assert_int_equal(cfg->deadline_us[LQ_PROBE_LOCKDOWN_QUERY], 2 * SEC);
	assert_int_equal(cfg->deadline_us[LQ_PROBE_LOCKDOWN_HANDSHAKE],
	    3 * SEC);
	assert_int_equal(cfg->deadline_us[LQ_PROBE_AFC_ROUNDTRIP], 4 * SEC);
	assert_int_equal(cfg->deadline_us[LQ_PROBE_BULK], 300 * SEC);
	assert_int_equal(cfg->deadline_us[LQ_PROBE_USB_CONTROL], 500000);
	assert_string_equal(cfg->auto_test, "quick");
	assert_string_equal(config_auto_test(cfg, "1-4.2"), "restore");
	assert_null(config_auto_test(cfg, "2-1"));
	assert_string_equal(config_auto_test(cfg, "3-1"), "quick");
	assert_string_equal(config_auto_test(cfg, NULL), "quick");

	pr = config_profile(cfg, "soak");
	assert_non_null(pr);
	assert_int_equal(pr->kinds, PROFILE_KIND(LQ_PROBE_BULK) |
	    PROFILE_KIND(LQ_PROBE_LOCKDOWN_QUERY));
	assert_int_equal(pr->duration_us, 7200 * SEC);
	assert_true(pr->bulk_bytes == GIB);
	assert_int_equal(pr->chunk_bytes, 512 * KIB);
	assert_int_equal(pr->interval_us, 5 * SEC);
	assert_int_equal(pr->handshake_every, 7);
	assert_int_equal(pr->stop_early, 1);
	assert_int_equal(pr->forever, 0);
	assert_ptr_equal(TAILQ_LAST(&cfg->profiles, profiles), pr);
	config_free(cfg);
}

static void
test_units(__unused void **state)
{
	struct config		*cfg;
	const struct profile	*pr;
	const char		*yes[] = { "yes", "true", "on" };
	const char		*no[] = { "no", "false", "off" };
	char			*text;
	size_t			 i;

	cfg = read_ok("[profile u]\nkinds = bulk\nduration = 0\n"
	    "bulk = 1T\nchunk = 4096\ninterval = 1h\n");
	pr = config_profile(cfg, "u");
	assert_int_equal(pr->duration_us, 0);
	assert_true(pr->bulk_bytes == 1024 * GIB);
	assert_int_equal(pr->chunk_bytes, 4096);
	assert_int_equal(pr->interval_us, 3600 * SEC);
	config_free(cfg);

	cfg = read_ok("[profile u]\nkinds = mux-connect\nduration = 90m\n"
	    "interval = 250ms\nbulk = 1000\n[safety]\nmax-bytes = 1024M\n"
	    "max-free-share = 100%\n");
	pr = config_profile(cfg, "u");
	assert_int_equal(pr->duration_us, 5400 * SEC);
	assert_int_equal(pr->interval_us, 250000);
	assert_true(pr->bulk_bytes == 1000);
	assert_true(cfg->max_bytes == GIB);
	assert_int_equal(cfg->max_free_share_pct, 100);
	config_free(cfg);

	for (i = 0; i < nitems(yes); i++) {
		xasprintf(&text, "[profile quick]\ntriage = %s\n"
		    "stop-early = %s\n[profile monitor]\nforever = %s\n",
		    no[i], yes[i], yes[i]);
		cfg = read_ok(text);
		assert_int_equal(config_profile(cfg, "quick")->triage, 0);
		assert_int_equal(config_profile(cfg, "quick")->stop_early, 1);
		assert_int_equal(config_profile(cfg, "monitor")->forever, 1);
		config_free(cfg);
		free(text);
	}

	cfg = read_ok("[verdict]\np0 = 1e-4\np1 = 0.5e-1\n");
	assert_true(cfg->p0 == 1e-4);
	config_free(cfg);
	read_error("[verdict]\np1 = .5\n", 2, "expected a probability");
}

struct error_case {
	const char	*text;
	unsigned int	 line;
	const char	*what;
};

static const struct error_case error_cases[] = {
	/* Structure. */
	{ "socket = /x\n", 1, "outside any section" },
	{ "[daemon]\n\n[nope]\n", 3, "unknown section [nope]; expected" },
	{ "[daemon\n", 1, "without ']'" },
	{ "[daemon] x\n", 1, "unexpected text after ']'" },
	{ "[daemon]\nflush\n", 2, "expected 'key = value'" },
	{ "[daemon]\nflush: 1s\n", 2, "expected 'key = value'" },
	{ "[daemon]\n= 1s\n", 2, "no key before '='" },
	{ "[daemon]\nflush = 1s\n[safety]\n[daemon]\n", 4,
	  "section [daemon] is given twice (first at line 1)" },
	{ "[daemon]\nflush = 1s\n# c\nflush = 2s\n", 4,
	  "[daemon] flush is given twice (first at line 2)" },
	{ "[daemon]\nfoo = 1\n", 2, "[daemon] unknown key 'foo'" },
	{ "[daemon]\nflush =\n", 2, "[daemon] flush: empty value" },
	{ "[daemon]\nflush = ; nothing\n", 2, "[daemon] flush: empty value" },
	{ "[profile x]\nkinds =\n", 2, "kinds: empty value" },

	/* Values. */
	{ "[daemon]\nflush = 5\n", 2, "flush: invalid value '5'; expected "
	  "a duration from 1ms to 1m" },
	{ "[daemon]\nflush = 5 s\n", 2, "invalid value '5 s'" },
	{ "[daemon]\nflush = 2m\n", 2, "invalid value '2m'" },
	{ "[daemon]\nflush = 0\n", 2, "invalid value '0'" },
	{ "[daemon]\nflush = -1s\n", 2, "invalid value '-1s'" },
	{ "[daemon]\nflush = 99999999999999999999s\n", 2, "invalid value" },
	{ "[daemon]\nflush = 9223372036854775807h\n", 2, "invalid value" },
	{ "[daemon]\nsocket = run/linkq.sock\n", 2, "expected an absolute "
	  "path" },
	{ "[daemon]\nretention-days = 1e3\n", 2, "expected a whole number "
	  "from 0 to 36500" },
	{ "[daemon]\nretention-days = 36501\n", 2, "invalid value" },
	{ "[daemon]\nmetrics-listen = 192.168.1.2:9477\n", 2,
	  "metrics-listen: invalid value '192.168.1.2:9477': not a loopback "
	  "address" },
	{ "[daemon]\nmetrics-listen = 0.0.0.0:9477\n", 2,
	  "not a loopback address" },
	{ "[daemon]\nmetrics-listen = [::]:9477\n", 2,
	  "not a loopback address" },
	{ "[daemon]\nmetrics-listen = [::ffff:127.0.0.1]:9477\n", 2,
	  "not a loopback address" },
	{ "[daemon]\nmetrics-listen = localhost:9477\n", 2,
	  "expected ADDRESS:PORT" },
	{ "[daemon]\nmetrics-listen = 127.0.0.1\n", 2,
	  "expected ADDRESS:PORT" },
	{ "[daemon]\nmetrics-listen = 127.0.0.1:\n", 2,
	  "expected ADDRESS:PORT" },
	{ "[daemon]\nmetrics-listen = 127.0.0.1:65536\n", 2,
	  "the port must be from 0 to 65535" },
	{ "[daemon]\nmetrics-listen = 127.0.0.1:-1\n", 2,
	  "expected ADDRESS:PORT" },
	{ "[daemon]\nmetrics-listen = ::1:9477\n", 2,
	  "expected ADDRESS:PORT" },
	{ "[safety]\nafc-folder = /linkq/sub\n", 2, "one folder below" },
	{ "[safety]\nafc-folder = /..\n", 2, "one folder below" },
	{ "[safety]\nafc-folder = /\n", 2, "one folder below" },
	{ "[safety]\nafc-folder = linkq\n", 2, "one folder below" },
	{ "[safety]\nmax-free-share = 10\n", 2, "expected a percentage "
	  "from 1% to 100%" },
	{ "[safety]\nmax-free-share = 0%\n", 2, "invalid value '0%'" },
	{ "[safety]\nmax-free-share = 101%\n", 2, "invalid value" },
	{ "[safety]\nmax-bytes = 1X\n", 2, "expected a size from 1M to 1T" },
	{ "[safety]\nmax-bytes = 1k\n", 2, "invalid value '1k'" },
	{ "[safety]\nmax-bytes = 2T\n", 2, "invalid value '2T'" },
	{ "[safety]\nmax-bytes = 99999999999T\n", 2, "invalid value" },
	{ "[verdict]\np0 = 0\n", 2, "p0: invalid value '0'; expected a "
	  "probability" },
	{ "[verdict]\np0 = 1\n", 2, "invalid value '1'" },
	{ "[verdict]\np0 = nan\n", 2, "invalid value 'nan'" },
	{ "[verdict]\np0 = 0x0.1\n", 2, "invalid value" },
	{ "[verdict]\np0 = 1%\n", 2, "invalid value" },
	{ "[profile quick]\nstop-early = maybe\n", 2, "expected yes, no, "
	  "true, false, on or off" },
	{ "[profile quick]\nchunk = 512\n", 2, "expected a size from 1K to "
	  "16M" },
	{ "[profile quick]\nkinds = bulk warp\n", 2, "unknown probe kind "
	  "'warp'; expected some of: mux-connect lockdown-query" },
	{ "[profile quick]\nkinds = bulk bulk\n", 2, "'bulk' is listed "
	  "twice" },
	{ "[deadlines]\nwarp = 1s\n", 2, "[deadlines] unknown key 'warp'; "
	  "expected a probe kind" },
	{ "[deadlines]\nbulk = 0\n", 2, "[deadlines] bulk: invalid value "
	  "'0'; expected a duration from 1ms to 1h" },

	/* Profiles. */
	{ "[profile Bad!]\n", 1, "invalid profile name 'Bad!'" },
	{ "[profile off]\n", 1, "invalid profile name 'off'" },
	{ "[profile]\n", 1, "invalid profile name ''" },
	{ "[profilex y]\n", 1, "unknown section" },
	{ "[profile aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]\n", 1,
	  "invalid profile name" },
	{ "[daemon]\n[profile new]\nduration = 1m\n[safety]\n", 2,
	  "[profile new]: a new profile needs kinds" },
	{ "[profile new]\nduration = 1m\n", 1, "a new profile needs kinds" },
	{ "[profile new]\nkinds = bulk\n", 1, "bulk must be set" },
	{ "[profile new]\nkinds = bulk\nbulk = 1M\n", 1,
	  "chunk must be set" },
	{ "[profile monitor]\nkinds = bulk\n", 1, "bulk must be set" },
	{ "[profile quick]\nwindow = 1h\n", 1, "a window is for a profile "
	  "that runs forever" },
	{ "[cables]\nwarp = A-01\n", 2, "[cables] unknown key 'warp'; "
	  "expected port PATH (such as port 1-4.2)" },
	{ "[cables]\nport 1-x = A-01\n", 2, "[cables] port 1-x: invalid "
	  "port path '1-x'" },
	{ "[cables]\nport 1-1 = A-01\nport 1-1 = A-02\n", 3, "[cables] "
	  "port 1-1 is given twice (first at line 2)" },
	{ "[cables]\nport 1-1 =  A\x01\n", 2, "[cables] port 1-1: invalid "
	  "label" },
	{ "[profile wiggle]\nduration = 1m\n", 1, "forever and a duration "
	  "contradict" },
	{ "[profile quick]\nforever = yes\n", 1, "forever and a duration" },
	{ "[profile quick]\nforever = yes\nduration = 0\nstop-early = yes\n",
	  1, "forever and stop-early contradict" },
	{ "[profile quick]\nkinds = bulk\n[profile quick]\n", 3,
	  "section [profile quick] is given twice (first at line 1)" },

	/* Auto-test. */
	{ "[auto-test]\ndefault = nope\n", 2, "[auto-test] default: "
	  "unknown profile 'nope'" },
	{ "[auto-test]\ndefault = off\nport 1-2 = x\n[profile y]\n"
	  "kinds = bulk\nbulk = 1M\nchunk = 1M\n", 3,
	  "port 1-2: unknown profile 'x'" },
	{ "[auto-test]\nport 1-2 = quick\nport  1-2 = off\n", 3,
	  "port 1-2 is given twice (first at line 2)" },
	{ "[auto-test]\nport 1-x = quick\n", 2, "invalid port path '1-x'" },
	{ "[auto-test]\nport 1-2. = quick\n", 2, "invalid port path" },
	{ "[auto-test]\nport = quick\n", 2, "unknown key 'port'" },
	{ "[auto-test]\nports 1-2 = quick\n", 2, "unknown key 'ports 1-2'" },
	{ "[auto-test]\ndefault = a b\n", 2, "expected off or a profile "
	  "name" },

	/* Hooks: the command's line, whichever key comes last. */
	{ "[hooks]\non = fail\n", 2, "[hooks] has settings but no command" },
	{ "[hooks]\n# x\ncommand = x y\non = fail\n", 3, "[hooks] command: "
	  "the program 'x' must be an absolute path" },
	{ "[hooks]\ncommand = /bin/x 'a\n", 2, "a single quote is not "
	  "closed" },
	{ "[hooks]\ncommand = /bin/x \"a\\\"\n", 2, "a double quote is not "
	  "closed" },
	{ "[hooks]\ncommand = /bin/x a\\\n", 2, "ends with a backslash" },
	{ "[hooks]\ncommand = /x 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 "
	  "18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 "
	  "40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59 60 61 "
	  "62 63 64\n", 2, "more than 64 words" },
	{ "[hooks]\ncommand = /bin/x\non = fail, warp\n", 3, "[hooks] on: "
	  "unknown event 'warp'; expected some of: fail, marginal, stranded, "
	  "degraded" },
	{ "[hooks]\ncommand = /bin/x\non = fail fail\n", 3, "'fail' is "
	  "listed twice" },
	{ "[hooks]\ncommand = /bin/x\non = ,\n", 3, "no event given" },
	{ "[hooks]\ncommand = /bin/x\ntimeout = 500ms\n", 3, "expected a "
	  "duration from 1s to 1h" },
	{ "[hooks]\ncommand = /bin/x\nshell = maybe\n", 3, "expected yes" },

	/* Contradictions, at the line of the later key. */
	{ "[verdict]\np1 = 0.01\np0 = 0.01\n", 3, "p0 (0.01) must be less "
	  "than p1 (0.01)" },
	{ "[verdict]\np0 = 0.5\n\n", 2, "must be less than p1" },
	{ "[verdict]\nalpha = 0.5\n# x\nbeta = 0.6\n", 4, "alpha + beta" },
	{ "[verdict]\nmin-probes = 4000\n", 2, "min-probes (4000) must not "
	  "be above max-probes (3000)" },

	/* Line numbers count comments, blanks and CRLF lines. */
	{ "; c\r\n# c\r\n\r\n[daemon]\r\n  flush = 1s\r\nflush = 1s\r\n", 6,
	  "flush is given twice (first at line 5)" },
};

static void
test_errors(__unused void **state)
{
	size_t	i;

	for (i = 0; i < nitems(error_cases); i++)
		read_error(error_cases[i].text, error_cases[i].line,
		    error_cases[i].what);
}

static void
test_nul_byte(__unused void **state)
{
	static const char	 text[] = "[daemon]\nflush = 1s\0x\n";
	struct config		*cfg;
	const char		*path;
	char			*cause = NULL;

	path = write_file(text, sizeof(text) - 1);
	cfg = config_read(path, 1, &cause);
	(void)unlink(path);
	assert_null(cfg);
	assert_non_null(strstr(cause, ":2: NUL byte in line"));
	free(cause);
}

static void
test_profile_override_and_new(__unused void **state)
{
	struct config		*cfg;
	const struct profile	*pr;

	cfg = read_ok(
	    "[profile restore]\n"
	    "bulk = 16G\n"
	    "[profile mine]\n"
	    "kinds = mux-connect\n");
	pr = config_profile(cfg, "restore");
	assert_true(pr->bulk_bytes == 16 * GIB);
	/* The other keys keep their defaults. */
	assert_int_equal(pr->chunk_bytes, 128 * KIB);
	assert_int_equal(pr->handshake_every, 10);
	assert_int_equal(pr->kinds, PROFILE_KIND(LQ_PROBE_BULK));

	/* A new profile starts empty. */
	pr = config_profile(cfg, "mine");
	assert_int_equal(pr->kinds, PROFILE_KIND(LQ_PROBE_MUX_CONNECT));
	assert_int_equal(pr->duration_us, 0);
	assert_true(pr->bulk_bytes == 0);
	assert_int_equal(pr->chunk_bytes, 0);
	assert_int_equal(pr->interval_us, 0);
	assert_int_equal(pr->handshake_every, 0);
	assert_int_equal(pr->stop_early, 0);
	assert_int_equal(pr->forever, 0);
	config_free(cfg);

	/* Monitor asking for bulk needs only a size (chunk is 1M). */
	cfg = read_ok("[profile monitor]\nkinds = mux-connect bulk\n"
	    "bulk = 8M\n");
	pr = config_profile(cfg, "monitor");
	assert_int_equal(pr->chunk_bytes, MIB);
	config_free(cfg);

	/* A profile defined after the auto-test that names it. */
	cfg = read_ok("[auto-test]\nport 1-1 = later\n[profile later]\n"
	    "kinds = usb-control\n");
	assert_string_equal(config_auto_test(cfg, "1-1"), "later");
	assert_null(config_auto_test(cfg, "1-2"));
	config_free(cfg);
}

static void
test_syntax(__unused void **state)
{
	struct config	*cfg;

	/* BOM, CRLF, indentation, inline comments, blanks in headers. */
	cfg = read_ok("\xef\xbb\xbf# linkq\r\n"
	    "[ daemon ]   ; the daemon\r\n"
	    "\tflush = 1s ; one second\r\n"
	    "    retention-days = 30\r\n"
	    "[profile   quick ]\r\n"
	    "  kinds = bulk   mux-connect\r\n"
	    "[auto-test]\r\n"
	    "default=quick\r\n"
	    "port\t1-4.2 = off");
	assert_int_equal(cfg->flush_us, SEC);
	assert_int_equal(cfg->retention_days, 30);
	assert_int_equal(config_profile(cfg, "quick")->kinds,
	    PROFILE_KIND(LQ_PROBE_BULK) | PROFILE_KIND(LQ_PROBE_MUX_CONNECT));
	assert_string_equal(cfg->auto_test, "quick");
	assert_null(config_auto_test(cfg, "1-4.2"));
	config_free(cfg);

	/* An empty file and one of comments only give the defaults. */
	cfg = read_ok("");
	assert_int_equal(cfg->flush_us, 250000);
	config_free(cfg);
	cfg = read_ok("# nothing\n;\n\n");
	config_free(cfg);
	/* An empty section is allowed. */
	cfg = read_ok("[daemon]\n[safety]\n");
	config_free(cfg);
}

static void
test_long_lines(__unused void **state)
{
	struct config	*cfg;
	char		*text, *line;
	size_t		 n;

	/* A long comment is fine, and line numbers stay right after it. */
	line = xmalloc(5001);
	memset(line, 'x', 5000);
	line[0] = '#';
	line[5000] = '\0';
	xasprintf(&text, "%s\n[daemon]\n%s\nflush = 2s\nfoo = 1\n", line,
	    line);
	read_error(text, 5, "unknown key 'foo'");
	free(text);

	/* A value line of CONFIG_LINE_MAX characters is read whole. */
	n = CONFIG_LINE_MAX - strlen("db = /");
	memset(line, 'd', n);
	line[n] = '\0';
	xasprintf(&text, "[daemon]\ndb = /%s\n", line);
	cfg = read_ok(text);
	assert_int_equal(strlen(cfg->db_path), n + 1);
	config_free(cfg);
	free(text);

	/* One more is refused, with its length. */
	xasprintf(&text, "[daemon]\ndb = /%sd\n", line);
	read_error(text, 2, "line too long (199 characters; at most 198)");
	free(text);

	/* A socket path longer than sun_path. */
	memset(line, 's', 120);
	line[120] = '\0';
	xasprintf(&text, "[daemon]\nsocket = /%s\n", line);
	read_error(text, 2, "at most 107 characters");
	free(text);

	/* A long key. */
	memset(line, 'k', 60);
	line[60] = '\0';
	xasprintf(&text, "[daemon]\n%s = 1\n", line);
	read_error(text, 2, "key too long");
	free(text);
	free(line);
}

/* Whether cfg's hook command has exactly the words given, NULL ended. */
static void
assert_words(const struct config *cfg, ...)
{
	va_list		 ap;
	const char	*w;
	size_t		 i = 0;

	assert_non_null(cfg->hook_argv);
	va_start(ap, cfg);
	while ((w = va_arg(ap, const char *)) != NULL) {
		assert_non_null(cfg->hook_argv[i]);
		assert_string_equal(cfg->hook_argv[i], w);
		i++;
	}
	va_end(ap);
	assert_null(cfg->hook_argv[i]);
}

static void
test_hooks(__unused void **state)
{
	struct config	*cfg;

	/* None by default; the defaults of the other keys. */
	cfg = read_ok("[hooks]\n");
	assert_null(cfg->hook_command);
	assert_null(cfg->hook_argv);
	assert_int_equal(cfg->hook_events, HOOK_EVENTS_DEFAULT);
	assert_int_equal(cfg->hook_shell, 0);
	assert_int_equal(cfg->hook_timeout_us, 30 * SEC);
	config_free(cfg);

	/* Words: quotes and backslashes; nothing else is special. */
	cfg = read_ok("[hooks]\ncommand = /bin/x  'a b'\t\"c \\\" \\\\ d\" "
	    "e\\ f g'h'\"i\" $(id) a|b * ~ >o \\' ''\n"
	    "on = marginal,degraded\ntimeout = 2m\n");
	assert_words(cfg, "/bin/x", "a b", "c \" \\ d", "e f", "ghi",
	    "$(id)", "a|b", "*", "~", ">o", "'", "", NULL);
	assert_int_equal(cfg->hook_events, HOOK_EVENT_BIT(HOOK_MARGINAL) |
	    HOOK_EVENT_BIT(HOOK_DEGRADED));
	assert_int_equal(cfg->hook_timeout_us, 120 * SEC);
	config_free(cfg);

	/* Through a shell: the line as written, not split. */
	cfg = read_ok("[hooks]\ncommand = echo \"$LINKQ_EVENT\" > /tmp/f\n"
	    "shell = yes\n");
	assert_string_equal(cfg->hook_command,
	    "echo \"$LINKQ_EVENT\" > /tmp/f");
	assert_null(cfg->hook_argv);
	assert_int_equal(cfg->hook_shell, 1);
	config_free(cfg);
}

static void
test_round_trip(__unused void **state)
{
	struct config	*cfg, *back;
	char		*one, *two;

	/* Defaults. */
	cfg = config_read("/nonexistent/linkq.conf", 0, &one);
	assert_non_null(cfg);
	one = dump(cfg);
	back = read_ok(one);
	two = dump(back);
	/* Only the first line (the source) differs. */
	assert_string_equal(strchr(one, '\n'), strchr(two, '\n'));
	assert_non_null(strstr(one, "bulk = 8000000000\n"));
	assert_non_null(strstr(one, "chunk = 128K\n"));
	assert_non_null(strstr(one, "flush = 250ms\n"));
	assert_non_null(strstr(one, "p0 = 0.001\n"));
	assert_non_null(strstr(one, "default = off\n"));
	config_free(cfg);
	config_free(back);
	free(one);
	free(two);

	/* Everything changed. */
	cfg = read_ok(
	    "[daemon]\nsocket = /tmp/s\nflush = 1500ms\n"
	    "reattach-window = 0\n"
	    "[safety]\nmax-bytes = 1536M\nmax-free-share = 3%\n"
	    "[verdict]\np0 = 0.0001234567891234567\np1 = 0.3\n"
	    "min-bulk = 1000\n"
	    "[deadlines]\nbulk = 45m\n"
	    "[auto-test]\ndefault = z\nport 1-1 = off\nport 2-3.4 = quick\n"
	    "[cables]\nport 1-4.2 = F-07\nport  2-1 = farm cable 2\n"
	    "[hooks]\ncommand = /bin/x 'a b' \"c\"\non = degraded fail\n"
	    "timeout = 90s\n"
	    "[profile z]\nkinds = usb-control afc-roundtrip\n"
	    "interval = 61s\n[profile wiggle]\nchunk = 100K\n");
	one = dump(cfg);
	back = read_ok(one);
	two = dump(back);
	assert_string_equal(strchr(one, '\n'), strchr(two, '\n'));
	assert_true(back->p0 == cfg->p0);
	assert_string_equal(config_auto_test(back, "2-3.4"), "quick");
	assert_null(config_auto_test(back, "1-1"));
	assert_string_equal(config_auto_test(back, "9-9"), "z");
	assert_non_null(config_profile(back, "z"));
	assert_non_null(strstr(one, "flush = 1500ms\n"));
	assert_non_null(strstr(one, "max-bytes = 1536M\n"));
	assert_non_null(strstr(one, "bulk = 45m\n"));
	/* The fixed cables, in the file's order. */
	assert_non_null(strstr(one, "[cables]\nport 1-4.2 = F-07\n"
	    "port 2-1 = farm cable 2\n"));
	assert_string_equal(TAILQ_FIRST(&back->cables)->label, "F-07");
	assert_non_null(strstr(one, "[hooks]\ncommand = /bin/x 'a b' \"c\"\n"
	    "on = fail, degraded\nshell = no\ntimeout = 90s\n"));
	assert_words(back, "/bin/x", "a b", "c", NULL);
	config_free(cfg);
	config_free(back);
	free(one);
	free(two);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_absent_file),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_profile_override_and_new),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_hooks),
		cmocka_unit_test(test_round_trip),
	};

	log_init(LOG_TO_STDERR, 0, "test-config");
	return (cmocka_run_group_tests_name("config", tests, NULL, NULL));
}
