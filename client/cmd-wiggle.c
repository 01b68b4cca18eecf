/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * linkq wiggle: continuous bulk through the cable while the technician
 * flexes it, one line a second (throughput, the mean time a bulk chunk
 * took, errors so far), and a mark with the time, and the bell on a
 * terminal, on every new error, so that the bend that did it can be
 * told. Ctrl-C is the normal end: the run is stopped (POST
 * /v1/runs/ID/stop), not cancelled, and decided on what it saw; the
 * exit status is that of test.
 *
 * The lines scroll instead of being redrawn in place: the history of
 * the last seconds is what tells which bend it was.
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "compat/compat.h"
#include "client.h"
#include "follow.h"
#include "http.h"
#include "linkq.h"
#include "lq-time.h"
#include "target.h"
#include "wait.h"
#include "xmalloc.h"

/* Marks kept for the summary; more are counted, not listed. */
#define WIGGLE_MARKS_KEPT	8

struct wiggle {
	json_int_t	 run;
	json_int_t	 last_event;	/* the run's events printed */
	json_int_t	 last_ms;	/* elapsed at the last line */
	int		 tty;
	json_int_t	 errors;	/* failures and stalls, last line */
	unsigned int	 nmarks;
	json_int_t	 marks_us[WIGGLE_MARKS_KEPT];
};

/* Failed probes and stalls: what a bend shows as. */
static json_int_t
wiggle_errors(json_t *o)
{
	return (json_integer_value(json_object_get(o, "failures")) +
	    json_integer_value(json_object_get(o, "stalls")));
}

/*
 * One error event of the run, under the marks, at its own time; the
 * informational ones (the phone's mux counters) are not errors.
 */
static int
wiggle_event(json_t *ev, void *arg)
{
	const struct lq_event_kind	*k;
	char				 when[32], text[512];

	(void)arg;
	k = lq_event_kind_find(client_str(ev, "kind", ""));
	if (k != NULL && k->class == LQ_EVENT_INFO)
		return (0);
	client_time(json_integer_value(json_object_get(ev, "ts_us")), when,
	    sizeof(when));
	client_event_text(ev, text, sizeof(text));
	printf("    %s %s\n", when + 11, text);
	return (0);
}

/*
 * The run's events not printed yet: what the errors were, at the time
 * linkqd saw them (timeouts, stalls, the kernel's link errors). They
 * reach the API with the database's next commit, so a mark may come a
 * line before its event.
 */
static void
wiggle_events(struct wiggle *w)
{
	json_t	*reply;
	long	 status;

	if (client_events(w->last_event, w->run, wiggle_event, w,
	    &w->last_event, &status, &reply) == -1)
		json_decref(reply);
}

/* One line a second; a mark when errors grew since the last. */
static void
wiggle_line(json_t *o, void *arg)
{
	struct wiggle	*w = arg;
	json_t		*chunk = json_object_get(o, "chunk_ms");
	json_int_t	 errors = wiggle_errors(o), now_us, ms_now;
	char		 when[32], ms[24];

	/* Following again after Ctrl-C starts with the line just shown. */
	ms_now = json_integer_value(json_object_get(o, "elapsed_ms"));
	if (w->last_ms > 0 && ms_now - w->last_ms < 500 &&
	    errors == w->errors)
		return;
	w->last_ms = ms_now;

	if (json_is_number(chunk))
		(void)snprintf(ms, sizeof(ms), "%7.1f ms",
		    json_number_value(chunk));
	else
		(void)strlcpy(ms, "      - ms", sizeof(ms));
	printf("%7.1fs %7.1f MB/s  chunk %s  errors %lld",
	    (double)ms_now / 1000.0,
	    json_number_value(json_object_get(o, "last_mb_s")), ms,
	    (long long)errors);
	if (errors > w->errors) {
		now_us = lq_wall_now_us();
		client_time(now_us, when, sizeof(when));
		printf("  <<< %lld new at %s%s", (long long)(errors -
		    w->errors), when, w->tty ? "\a" : "");
		if (w->nmarks < WIGGLE_MARKS_KEPT)
			w->marks_us[w->nmarks] = now_us;
		w->nmarks++;
	}
	w->errors = errors;
	printf("\n");
	wiggle_events(w);
	(void)fflush(stdout);
}

/*
 * A run that failed on its own ended on a hard error (a dropout, a
 * reset, a kernel link error): that is a mark too, the last one.
 */
static void
wiggle_mark_end(struct wiggle *w, json_t *end)
{
	json_int_t	 now_us;
	char		 when[32];

	if (strcmp(client_str(end, "verdict", ""), "FAIL") != 0)
		return;
	now_us = lq_wall_now_us();
	client_time(now_us, when, sizeof(when));
	printf("<<< failed at %s%s\n", when, w->tty ? "\a" : "");
	if (w->nmarks < WIGGLE_MARKS_KEPT)
		w->marks_us[w->nmarks] = now_us;
	w->nmarks++;
}

/*
 * Ask linkqd to stop run id, as the technician's Ctrl-C means: no new
 * probe, the one in flight ends and counts. 0, or -1 if it could not
 * (the error printed): it may have ended by itself meanwhile.
 */
static int
wiggle_stop(json_int_t id)
{
	json_t	*reply = NULL;
	char	*path;
	long	 code;
	int	 ret = -1;

	(void)xasprintf(&path, "/v1/runs/%lld/stop", (long long)id);
	if (http_json("POST", path, NULL, &code, &reply) == 0) {
		if (code == 200) {
			if (!opt_json)
				printf("stopping: the probe in flight ends "
				    "first (Ctrl-C again cancels)\n");
			ret = 0;
		} else
			(void)client_api_error(reply, code);
	}
	json_decref(reply);
	free(path);
	return (ret);
}

/* What the wiggling came to, before the verdict. */
static void
wiggle_summary(const struct wiggle *w, json_t *run)
{
	json_int_t	 ms, bytes;
	unsigned int	 i;
	char		 when[32];

	ms = json_integer_value(json_object_get(run, "elapsed_ms"));
	bytes = json_integer_value(json_object_get(run, "bulk_bytes"));
	printf("wiggled %.0f s: %.1f MB moved, %.1f MB/s on average, ",
	    (double)ms / 1000.0, (double)bytes / 1e6, ms > 0 ?
	    (double)bytes / 1e3 / (double)ms : 0.0);
	if (w->nmarks == 0) {
		printf("no error\n");
		return;
	}
	printf("%u error mark%s:", w->nmarks, w->nmarks == 1 ? "" : "s");
	for (i = 0; i < w->nmarks && i < WIGGLE_MARKS_KEPT; i++) {
		client_time(w->marks_us[i], when, sizeof(when));
		printf(" %s", when + 11);	/* the time of day */
	}
	printf("%s\n", w->nmarks > WIGGLE_MARKS_KEPT ? " ..." : "");
}

/*
 * Follow run id to its end: Ctrl-C stops it and the following goes on
 * to the end it then comes to; a second Ctrl-C cancels it.
 */
static int
wiggle_follow(json_int_t id, struct wiggle *w)
{
	json_t	*end = NULL;
	int	 how, ret;

	how = follow_run(id, wiggle_line, w, &end);
	if (how == FOLLOW_INTERRUPTED) {
		(void)wiggle_stop(id);
		how = follow_run(id, wiggle_line, w, &end);
	}
	if (how == FOLLOW_INTERRUPTED) {
		follow_cancel(id);
		return (LQ_EXIT_USAGE);
	}
	if (how != FOLLOW_END)
		return (LQ_EXIT_USAGE);
	if (!opt_json) {
		wiggle_mark_end(w, end);
		wiggle_events(w);
		wiggle_summary(w, end);
	}
	ret = follow_verdict(end, w->tty);
	json_decref(end);
	return (ret);
}

int
cmd_wiggle(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLIENT_LONG_OPTIONS,
		TARGET_LONG_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	struct target_opts	 o;
	struct wait_target	 wt;
	struct qualify_target	 target;
	struct wiggle		 w;
	json_t			*body;
	json_int_t		 id;
	int			 ch, ret;

	target_init(&o, "wiggle");
	while ((ch = getopt_long(argc, argv, "h" TARGET_SHORT_OPTIONS,
	    longopts, NULL)) != -1) {
		if (!target_option("wiggle", ch, optarg, &o))
			client_option("wiggle", ch);
	}
	if ((ret = target_args("wiggle", argc - optind, argv + optind,
	    &o)) != 0)
		return (ret);
	if ((ret = target_ready(&o, &wt, &target)) != 0)
		return (ret);
	body = json_pack("{s:s}", "profile", o.profile);
	if (o.cable != NULL)
		(void)json_object_set_new(body, "cable", json_string(o.cable));
	id = wait_run_start(body, wt.udid, o.wait, &ret);
	json_decref(body);
	if (id == -1)
		return (ret);

	memset(&w, 0, sizeof(w));
	w.run = id;
	w.tty = !opt_json && isatty(STDOUT_FILENO);
	if (!opt_json) {
		printf("run %lld: bulk through the cable on %s until Ctrl-C; "
		    "flex it along its length and at both plugs\n",
		    (long long)id, wt.port);
		(void)fflush(stdout);
	}
	return (wiggle_follow(id, &w));
}
