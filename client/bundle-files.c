/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The members of a bundle (bundle.h): runs, devices, events, kernel
 * lines, what the phones' syslogs gave, probes, versions, linkqd's
 * configuration as its API shows it, and README.txt, which says what
 * each holds and what it could not hold. Every line goes through the
 * identifier table before it is written.
 */

#include <sys/utsname.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <sqlite3.h>
#include <zlib.h>

#include "compat/compat.h"
#include "bundle.h"
#include "bundle-ids.h"
#include "bundle-tar.h"
#include "client.h"
#include "linkq.h"
#include "xmalloc.h"

/* What a run's events and probes are written with. */
struct files_run {
	struct bundle		*b;
	json_t			*run;
	struct bundle_member	*events, *kernel, *syslog, *probes;
};

void
bundle_time(int64_t us, char *buf, size_t size)
{
	struct tm	tm;
	time_t		t = (time_t)(us / 1000000);
	size_t		n;

	if (us <= 0 || gmtime_r(&t, &tm) == NULL ||
	    (n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm)) == 0) {
		(void)strlcpy(buf, "-", size);
		return;
	}
	(void)snprintf(buf + n, size - n, ".%03dZ", (int)(us / 1000 % 1000));
}

struct bundle_member *
bundle_member_new(struct bundle *b, const char *name)
{
	struct bundle_member	*m;

	if (b->nmembers == BUNDLE_MEMBERS_MAX)
		abort();	/* a fixed set of names, below */
	m = &b->members[b->nmembers];
	if ((m->f = tmpfile()) == NULL) {
		fprintf(stderr, "linkq: a temporary file for %s: %s\n", name,
		    strerror(errno));
		return (NULL);
	}
	m->name = name;
	b->nmembers++;
	return (m);
}

void
bundle_member_text(struct bundle *b, struct bundle_member *m,
    const char *s)
{
	char	*out = bundle_ids_text(b->ids, s);

	(void)fputs(out, m->f);
	free(out);
}

void
bundle_member_printf(struct bundle *b, struct bundle_member *m,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	(void)xvasprintf(&s, fmt, ap);
	va_end(ap);
	bundle_member_text(b, m, s);
	free(s);
}

void
bundle_member_json(struct bundle *b, struct bundle_member *m, json_t *o)
{
	json_t	*copy = json_deep_copy(o);
	char	*s;

	bundle_ids_json(b->ids, copy);
	s = json_dumps(copy, JSON_COMPACT | JSON_REAL_PRECISION(6));
	json_decref(copy);
	if (s == NULL)
		return;
	(void)fprintf(m->f, "%s\n", s);
	free(s);
}

/* A CSV field (RFC 4180): quoted when it must be. */
static void
files_csv(FILE *f, const char *s)
{
	if (s == NULL)
		return;
	if (strpbrk(s, ",\"\r\n") == NULL) {
		(void)fputs(s, f);
		return;
	}
	(void)fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			(void)fputc('"', f);
		(void)fputc(*s, f);
	}
	(void)fputc('"', f);
}

/* One probe as a line of probes.csv. */
static int
files_probe(json_t *p, void *arg)
{
	struct files_run	*fr = arg;
	char			*line;
	size_t			 len;
	FILE			*f;

	if ((f = open_memstream(&line, &len)) == NULL)
		return (-1);
	(void)fprintf(f, "%lld,%lld,%s,%lld,%lld,%lld,%s,%lld,",
	    (long long)json_integer_value(json_object_get(fr->run, "id")),
	    (long long)json_integer_value(json_object_get(p, "id")),
	    client_str(p, "kind", "?"),
	    (long long)json_integer_value(json_object_get(p, "ts_us")),
	    (long long)json_integer_value(json_object_get(p, "latency_us")),
	    (long long)json_integer_value(json_object_get(p, "bytes")),
	    client_str(p, "status", "?"),
	    (long long)json_integer_value(json_object_get(p, "status_code")));
	files_csv(f, client_str(p, "detail", NULL));
	(void)fputc('\n', f);
	(void)fclose(f);
	bundle_member_text(fr->b, fr->probes, line);
	free(line);
	fr->b->nprobes++;
	return (0);
}

/* An event as a line of text: time, run, where, kind, errno, detail. */
static void
files_event_line(struct files_run *fr, struct bundle_member *m, json_t *ev)
{
	char	when[40], where[256];

	bundle_time(json_integer_value(json_object_get(ev, "ts_us")), when,
	    sizeof(when));
	client_where(ev, where, sizeof(where));
	bundle_member_printf(fr->b, m, "%s run %lld %s: %s", when,
	    (long long)json_integer_value(json_object_get(fr->run, "id")),
	    where, client_str(ev, "kind", "?"));
	if (json_is_integer(json_object_get(ev, "errno")))
		bundle_member_printf(fr->b, m, " (errno %lld)",
		    (long long)json_integer_value(json_object_get(ev,
		    "errno")));
	bundle_member_printf(fr->b, m, ": %s\n", client_str(ev, "detail",
	    "-"));
}

/* One event: events.jsonl, and kernel.txt or device-syslog.txt. */
static int
files_event(json_t *ev, void *arg)
{
	struct files_run	*fr = arg;
	const char		*source, *kind;
	json_t			*o;

	/* The run's device, so events join devices and runs by it. */
	o = json_copy(ev);
	(void)json_object_set(o, "udid", json_object_get(fr->run, "udid"));
	bundle_member_json(fr->b, fr->events, o);
	json_decref(o);
	fr->b->nevents++;
	source = client_str(ev, "source", "");
	kind = client_str(ev, "kind", "");
	if (strcmp(source, "kmsg") == 0) {
		files_event_line(fr, fr->kernel, ev);
		fr->b->nkernel++;
	} else if (strncmp(kind, "device-mux-", 11) == 0) {
		files_event_line(fr, fr->syslog, ev);
		fr->b->nsyslog++;
	}
	return (0);
}

/* What device-syslog.txt says before its lines. */
static const char files_syslog_head[] =
    "# What the phones' own syslogs gave during these runs.\n"
    "#\n"
    "# linkqd reads a phone's syslog (com.apple.syslog_relay) during a\n"
    "# run only for the USB mux counters that AppleUSBDeviceMux prints,\n"
    "# and keeps what it finds as events (device-mux-stats,\n"
    "# device-mux-errors). It does not keep the syslog's lines, so no\n"
    "# excerpt of them exists to put here: the lines below are those\n"
    "# events, with the counters as linkqd read them.\n";

/* runs.jsonl, events.jsonl, kernel.txt, device-syslog.txt, probes.csv. */
static int
files_runs(struct bundle *b)
{
	struct files_run	 fr;
	struct bundle_member	*runs;
	size_t			 i;

	memset(&fr, 0, sizeof(fr));
	fr.b = b;
	if ((runs = bundle_member_new(b, "runs.jsonl")) == NULL ||
	    (fr.events = bundle_member_new(b, "events.jsonl")) == NULL ||
	    (fr.kernel = bundle_member_new(b, "kernel.txt")) == NULL ||
	    (fr.syslog = bundle_member_new(b, "device-syslog.txt")) == NULL ||
	    (fr.probes = bundle_member_new(b, "probes.csv")) == NULL)
		return (-1);
	bundle_member_text(b, fr.syslog, files_syslog_head);
	bundle_member_text(b, fr.probes, "run_id,probe_id,kind,ts_us,"
	    "latency_us,bytes,status,status_code,detail\n");
	json_array_foreach(b->runs, i, fr.run) {
		bundle_member_json(b, runs, fr.run);
		if (bundle_events(b, json_integer_value(json_object_get(fr.run,
		    "id")), files_event, &fr) == -1 ||
		    bundle_probes(b, json_integer_value(json_object_get(fr.run,
		    "id")), files_probe, &fr) == -1)
			return (-1);
	}
	if (b->nkernel == 0)
		bundle_member_text(b, fr.kernel, "# linkqd recorded no kernel "
		    "line as an event of these runs.\n");
	return (0);
}

static int
files_devices(struct bundle *b)
{
	struct bundle_member	*m;
	json_t			*d;
	size_t			 i;

	if ((m = bundle_member_new(b, "devices.jsonl")) == NULL)
		return (-1);
	json_array_foreach(b->devices, i, d)
		bundle_member_json(b, m, d);
	return (0);
}

/* versions.txt: linkq, its libraries, linkqd if asked, the system. */
static int
files_versions(struct bundle *b)
{
	struct bundle_member	*m;
	struct utsname		 u;

	if ((m = bundle_member_new(b, "versions.txt")) == NULL)
		return (-1);
	bundle_member_printf(b, m, "linkq %s\n", LINKQ_VERSION);
	bundle_member_printf(b, m, "  jansson %s, SQLite %s, %s, zlib %s, "
	    "%s\n", JANSSON_VERSION, sqlite3_libversion(), curl_version(),
	    zlibVersion(), OpenSSL_version(OPENSSL_VERSION));
	if (b->db != NULL)
		bundle_member_printf(b, m, "linkqd: not asked (the bundle was "
		    "made from the database file %s)\n", b->db_file);
	else if (b->status == NULL)
		bundle_member_text(b, m, "linkqd: did not answer GET "
		    "/v1/status\n");
	else
		bundle_member_printf(b, m, "linkqd %s (up %llds; kmsg %s, usb "
		    "%s, usbmon %s, usbmuxd %s)\n",
		    client_str(b->status, "version", "?"),
		    (long long)json_integer_value(json_object_get(b->status,
		    "uptime_s")), client_str(b->status, "kmsg", "?"),
		    client_str(b->status, "usb", "?"),
		    client_str(b->status, "usbmon", "?"),
		    client_str(b->status, "usbmuxd", "?"));
	if (b->status != NULL)
		bundle_member_text(b, m, "  (its libraries: its API does not "
		    "tell them)\n");
	if (uname(&u) == 0)
		bundle_member_printf(b, m, "system (where the bundle was "
		    "made): %s %s %s\n", u.sysname, u.release, u.machine);
	return (0);
}

/* config.json: what linkqd's API shows of its configuration. */
static int
files_config(struct bundle *b)
{
	struct bundle_member	*m;
	json_t			*o;

	if (b->db != NULL)
		return (0);
	if ((m = bundle_member_new(b, "config.json")) == NULL)
		return (-1);
	o = json_pack("{s:O?, s:O?}", "status", b->status, "profiles",
	    json_object_get(b->profiles, "profiles"));
	bundle_member_json(b, m, o);
	json_decref(o);
	return (0);
}

int
bundle_write_members(struct bundle *b)
{
	if (files_runs(b) == -1 || files_devices(b) == -1 ||
	    bundle_report_members(b) == -1 || files_versions(b) == -1 ||
	    files_config(b) == -1)
		return (-1);
	return (0);
}

void
bundle_members_free(struct bundle *b)
{
	size_t	i;

	for (i = 0; i < b->nmembers; i++) {
		if (b->members[i].f != NULL)
			(void)fclose(b->members[i].f);
	}
	b->nmembers = 0;
}
