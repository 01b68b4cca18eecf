/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * linkq drawer: a repair bench testing a drawer of cables with one
 * phone. For each cable it says what to plug where, waits for the phone
 * to appear (a new attachment), confirms the label (offered on a
 * terminal, taken in a pipe), says which cable is in the port (PUT
 * /v1/ports/P/cable), waits until the phone can be tested (wait.c), runs
 * the profile with the live progress line (follow.c), shows the verdict
 * large, and waits for the unplug before the next cable. Ctrl-C or
 * --count ends it with a summary (linkq(1) documents the exit status).
 * The session file (drawer-session.c) makes it resumable; the swap
 * (drawer-swap.c) tells a cable fault from a port fault; drawer-summary.c
 * shows the verdicts and the summary.
 */

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "compat/compat.h"
#include "client.h"
#include "drawer.h"
#include "follow.h"
#include "http.h"
#include "linkq.h"
#include "wait.h"
#include "xmalloc.h"

/* How a cable's turn ended. */
enum turn {
	TURN_DONE,		/* tested, or the step is done */
	TURN_STOPPED,		/* Ctrl-C */
	TURN_ERROR		/* said; the session ends with status 2 */
};

static volatile sig_atomic_t	drawer_stop;

static void
drawer_sigint(int sig)
{
	(void)sig;
	drawer_stop = 1;
}

/* SIGINT sets drawer_stop; restart says whether calls are restarted. */
static void
drawer_catch(int restart)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = drawer_sigint;
	sa.sa_flags = restart ? SA_RESTART : 0;
	(void)sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGINT, &sa, NULL);
}

/* The phone the drawer waits for and found. */
struct drawer_phone {
	const char	*port;		/* NULL: any */
	json_int_t	 last_att;	/* the attachment tested last */
	char		 udid[128];
	char		 at[DRAWER_PORT_LEN];
	json_int_t	 att;
};

/* Whether d is attached on USB (or stranded) at port. */
static int
phone_on(json_t *d, const char *port)
{
	if (strcmp(client_str(d, "port", ""), port) != 0)
		return (0);
	if (json_is_true(json_object_get(d, "stranded")))
		return (1);
	return (json_is_true(json_object_get(d, "attached")) &&
	    strcmp(client_str(d, "connection", ""), "usb") == 0);
}

/* A new attachment on the port asked for (any if none). */
static enum wait_state
appear_check(json_t *devices, void *arg, char *why, size_t size)
{
	struct drawer_phone	*p = arg;
	json_t			*d;
	json_int_t		 att;
	size_t			 i;

	json_array_foreach(devices, i, d) {
		att = json_integer_value(json_object_get(d,
		    "attachment_id"));
		if (!json_is_true(json_object_get(d, "attached")) ||
		    strcmp(client_str(d, "connection", ""), "usb") != 0 ||
		    att == 0 || att == p->last_att ||
		    client_str(d, "port", NULL) == NULL ||
		    (p->port != NULL && !phone_on(d, p->port)))
			continue;
		(void)strlcpy(p->udid, client_str(d, "udid", ""),
		    sizeof(p->udid));
		(void)strlcpy(p->at, client_str(d, "port", ""),
		    sizeof(p->at));
		p->att = att;
		return (WAIT_READY);
	}
	if (p->port != NULL)
		(void)snprintf(why, size, "the phone to be plugged into %s",
		    p->port);
	else
		(void)snprintf(why, size, "the phone to be plugged in");
	return (WAIT_MORE);
}

/* Nothing left on the port: the attachment ended with the unplug. */
static enum wait_state
gone_check(json_t *devices, void *arg, char *why, size_t size)
{
	struct drawer_phone	*p = arg;
	json_t			*d;
	size_t			 i;

	json_array_foreach(devices, i, d) {
		if (phone_on(d, p->at)) {
			(void)snprintf(why, size, "the phone to be unplugged "
			    "from %s", p->at);
			return (WAIT_MORE);
		}
	}
	return (WAIT_READY);
}

/*
 * The cable's label: on a terminal the technician takes the offer with
 * Enter or types the label on the cable; elsewhere the offer stands.
 * 0, or -1 on Ctrl-C or the end of input.
 */
static int
confirm_label(const char *port, const char *offer, char *buf, size_t len)
{
	const char	*why;
	size_t		 n;

	(void)strlcpy(buf, offer, len);
	if (!ask_possible())
		return (0);
	drawer_catch(0);
	for (;;) {
		printf("Cable in %s: Enter for %s, or type its label: ", port,
		    offer);
		(void)fflush(stdout);
		if (fgets(buf, (int)len, stdin) == NULL) {
			clearerr(stdin);
			printf("\n");
			drawer_catch(1);
			return (-1);
		}
		n = strcspn(buf, "\r\n");
		buf[n] = '\0';
		if (n == 0) {
			(void)strlcpy(buf, offer, len);
			break;
		}
		if ((why = lq_label_invalid(buf)) == NULL)
			break;
		printf("%s; try again\n", why);
	}
	drawer_catch(1);
	return (0);
}

/* PUT /v1/ports/PORT/cable: the cable in the port is label. */
static int
assign_cable(const char *port, const char *label)
{
	json_t	*body, *reply;
	char	*esc, *path;
	int	 ret;

	esc = http_escape(port);
	(void)xasprintf(&path, "/v1/ports/%s/cable", esc);
	free(esc);
	body = json_pack("{s:s}", "cable", label);
	ret = client_call("PUT", path, body, &reply);
	json_decref(body);
	json_decref(reply);
	free(path);
	return (ret);
}

/* The bulk median of label on port since the run started, or -1. */
static double
bulk_mb_s(const char *label, const char *port, json_int_t started_us)
{
	json_t		*report, *row, *v;
	char		 path[96];
	double		 mb = -1;
	size_t		 i;

	(void)snprintf(path, sizeof(path), "/v1/report?by=pair&since=%lld",
	    (long long)(started_us / 1000000));
	if (client_call("GET", path, NULL, &report) == -1)
		return (-1);
	json_array_foreach(json_object_get(report, "rows"), i, row) {
		v = json_object_get(row, "bulk_mb_s_p50");
		if (strcmp(client_str(row, "cable", ""), label) == 0 &&
		    strcmp(client_str(row, "port", ""), port) == 0 &&
		    json_is_number(v)) {
			mb = json_number_value(v);
			break;
		}
	}
	json_decref(report);
	return (mb);
}

/* The result of a run's end object into r. */
static void
result_fill(struct drawer_result *r, json_t *end)
{
	const char	*v = client_str(end, "verdict", NULL);
	json_t		*reasons = json_object_get(end, "reasons");

	if (json_is_string(json_object_get(end, "not_recorded")))
		v = NULL;
	(void)strlcpy(r->verdict, v != NULL ? v : "-", sizeof(r->verdict));
	if (json_is_string(json_array_get(reasons, 0)))
		(void)strlcpy(r->reason, json_string_value(json_array_get(
		    reasons, 0)), sizeof(r->reason));
	else if (json_is_string(json_object_get(end, "error")))
		(void)strlcpy(r->reason, client_str(end, "error", ""),
		    sizeof(r->reason));
	else if (v == NULL)
		(void)snprintf(r->reason, sizeof(r->reason), "no verdict: "
		    "the run ended %s", client_str(end, "state", "without "
		    "one"));
}

/* Say what to plug where. */
static void
say_plug(const char *label, const char *port, int swap)
{
	if (opt_json)
		drawer_json_line("plug", json_pack("{s:s, s:o, s:b}", "label",
		    label, "port", port != NULL ? json_string(port) :
		    json_null(), "swap", swap));
	else if (port != NULL)
		printf("plug cable %s into %s\n", label, port);
	else
		printf("plug cable %s into any port\n", label);
	(void)fflush(stdout);
}

/* Start the profile on the phone and follow it; 0 with *end, or a turn. */
static enum turn
run_profile(struct drawer_session *s, struct drawer_phone *p,
    json_t **end)
{
	json_t		*body;
	json_int_t	 id;
	int		 ret, how;

	*end = NULL;
	body = json_pack("{s:s}", "profile", s->profile);
	id = wait_run_start(body, p->udid, WAIT_FOREVER, &ret);
	json_decref(body);
	if (id == -1)
		return (wait_interrupted() || drawer_stop ? TURN_STOPPED :
		    TURN_ERROR);
	how = follow_run(id, NULL, NULL, end);
	if (how == FOLLOW_INTERRUPTED) {
		/* A cancelled run is no evidence: it is not recorded. */
		follow_cancel(id);
		return (TURN_STOPPED);
	}
	return (how == FOLLOW_END ? TURN_DONE : TURN_ERROR);
}

/* One cable's turn: plug, label, run, verdict; the result recorded. */
static enum turn
drawer_turn(struct drawer_session *s, struct drawer_phone *p,
    const char *offer, const char *port, int swap, int *numbered)
{
	struct drawer_result	*r;
	json_t			*end = NULL;
	char			 label[LQ_LABEL_MAX + 2];
	enum turn		 t;

	say_plug(offer, port, swap);
	p->port = port;
	if (wait_devices(appear_check, p, WAIT_FOREVER) != 0)
		return (wait_interrupted() ? TURN_STOPPED : TURN_ERROR);
	if (confirm_label(p->at, offer, label, sizeof(label)) == -1)
		return (TURN_STOPPED);
	*numbered = strcmp(label, offer) == 0;
	if (assign_cable(p->at, label) == -1)
		return (TURN_ERROR);
	if (opt_json)
		drawer_json_line("plugged", json_pack("{s:s, s:s, s:s}",
		    "label", label, "port", p->at, "udid", p->udid));
	else
		printf("cable %s is in %s\n", label, p->at);
	if (drawer_stop)
		return (TURN_STOPPED);
	if ((t = run_profile(s, p, &end)) != TURN_DONE) {
		json_decref(end);
		return (t);
	}
	p->last_att = p->att;
	r = drawer_session_add(s);
	(void)strlcpy(r->label, label, sizeof(r->label));
	(void)strlcpy(r->port, p->at, sizeof(r->port));
	r->run = json_integer_value(json_object_get(end, "id"));
	r->swap = swap;
	result_fill(r, end);
	r->mb_s = bulk_mb_s(label, p->at, json_integer_value(
	    json_object_get(end, "started_us")));
	if (opt_json)
		drawer_json_line("result", drawer_result_json(r));
	else
		drawer_show_verdict(r, end);
	json_decref(end);
	return (TURN_DONE);
}

/*
 * A phone already in a port at the start is through a cable nobody
 * named: it is unplugged first, so that every test is of a cable the
 * drawer asked for.
 */
static enum turn
drawer_start_unplugged(struct drawer_session *s, struct drawer_phone *p,
    const char *next)
{
	json_t		*reply, *d;
	size_t		 i, k;
	const char	*port;

	if (client_call("GET", "/v1/devices", NULL, &reply) == -1)
		return (TURN_ERROR);
	p->at[0] = '\0';
	json_array_foreach(json_object_get(reply, "devices"), i, d) {
		if ((port = client_str(d, "port", NULL)) == NULL ||
		    !phone_on(d, port))
			continue;
		for (k = 0; k < s->nports; k++) {
			if (strcmp(s->ports[k], port) == 0)
				break;
		}
		if (s->nports == 0 || k < s->nports) {
			(void)strlcpy(p->at, port, sizeof(p->at));
			break;
		}
	}
	json_decref(reply);
	if (p->at[0] == '\0')
		return (TURN_DONE);
	if (opt_json)
		drawer_json_line("unplug", json_pack("{s:s, s:s}", "port",
		    p->at, "next", next));
	else
		printf("the phone is in %s already: unplug it; next: %s\n",
		    p->at, next);
	(void)fflush(stdout);
	if (wait_devices(gone_check, p, WAIT_FOREVER) != 0)
		return (wait_interrupted() ? TURN_STOPPED : TURN_ERROR);
	return (TURN_DONE);
}

/* "D-" and 7: "D-07". */
static void
drawer_label(const struct drawer_session *s, int n, char *buf, size_t len)
{
	(void)snprintf(buf, len, "%s%02d", s->prefix, n);
}

/* Say to unplug, naming what comes next, and wait for it. */
static enum turn
drawer_unplug(struct drawer_session *s, struct drawer_phone *p, int last)
{
	char	next[LQ_LABEL_MAX + 8];

	if (s->nsteps > 0)
		(void)strlcpy(next, s->steps[0].label, sizeof(next));
	else if (last)
		next[0] = '\0';
	else
		drawer_label(s, s->next, next, sizeof(next));
	if (opt_json)
		drawer_json_line("unplug", json_pack("{s:s, s:o}", "port",
		    p->at, "next", next[0] != '\0' ? json_string(next) :
		    json_null()));
	else if (next[0] != '\0')
		printf("unplug it; next: %s\n", next);
	else
		printf("unplug it; that was the last\n");
	(void)fflush(stdout);
	if (wait_devices(gone_check, p, WAIT_FOREVER) != 0)
		return (wait_interrupted() ? TURN_STOPPED : TURN_ERROR);
	return (TURN_DONE);
}

/* The session's settings from the options, after a --resume's load. */
struct drawer_opts {
	const char	*prefix, *profile, *session;
	int		 start, count, resume;
	char		**ports;
	int		 nports;
};

static int
drawer_setup(struct drawer_session *s, const struct drawer_opts *o)
{
	struct drawer_session	 old;
	char			 probe[LQ_LABEL_MAX + 8];
	const char		*why;
	int			 loaded, i;

	memset(s, 0, sizeof(*s));
	if (o->session != NULL)
		(void)strlcpy(s->path, o->session, sizeof(s->path));
	else if (drawer_session_default(s->path, sizeof(s->path)) == -1)
		return (-1);
	memset(&old, 0, sizeof(old));
	(void)strlcpy(old.path, s->path, sizeof(old.path));
	if ((loaded = drawer_session_load(&old)) == -1 && o->resume)
		return (-1);
	if (o->resume && loaded == 1) {
		*s = old;
		s->finished = 0;
		if (!opt_json)
			printf("resuming the drawer session in %s: %zu "
			    "test%s so far, next %s%02d\n", s->path,
			    s->nresults, s->nresults == 1 ? "" : "s",
			    s->prefix, s->next);
	} else {
		if (o->resume)
			fprintf(stderr, "linkq: drawer: no session in %s to "
			    "resume: a new one starts\n", s->path);
		else if (loaded == 1 && !old.finished && old.nresults > 0)
			fprintf(stderr, "linkq: drawer: an unfinished session "
			    "of %zu test%s in %s is replaced (--resume "
			    "continues one)\n", old.nresults, old.nresults ==
			    1 ? "" : "s", s->path);
		drawer_session_free(&old);
		(void)strlcpy(s->prefix, "D-", sizeof(s->prefix));
		(void)strlcpy(s->profile, "quick", sizeof(s->profile));
		s->next = 1;
	}
	if (o->prefix != NULL)
		(void)strlcpy(s->prefix, o->prefix, sizeof(s->prefix));
	if (o->profile != NULL)
		(void)strlcpy(s->profile, o->profile, sizeof(s->profile));
	if (o->start >= 0)
		s->next = o->start;
	if (o->nports > 0) {
		s->nports = 0;
		for (i = 0; i < o->nports; i++)
			(void)strlcpy(s->ports[s->nports++], o->ports[i],
			    sizeof(s->ports[0]));
	}
	drawer_label(s, s->next, probe, sizeof(probe));
	if ((why = lq_label_invalid(probe)) != NULL) {
		fprintf(stderr, "linkq: drawer: the labels would be like "
		    "\"%s\": %s\n", probe, why);
		return (-1);
	}
	return (drawer_session_save(s));
}

/*
 * The port of the next new cable: the ports in turn, so that each has
 * results with several cables for the blame engine to compare.
 */
static const char *
drawer_port(const struct drawer_session *s)
{
	size_t	i, n = 0;

	if (s->nports == 0)
		return (NULL);
	for (i = 0; i < s->nresults; i++)
		n += !s->results[i].swap;
	return (s->ports[n % s->nports]);
}

/* The loop: cables until Ctrl-C, --count or an error. */
static int
drawer_loop(struct drawer_session *s, int count)
{
	struct drawer_phone	 phone;
	char			 offer[LQ_LABEL_MAX + 8];
	const char		*port;
	int			 tested = 0, swap, numbered, status;
	enum turn		 t = TURN_DONE;

	memset(&phone, 0, sizeof(phone));
	if (s->nsteps > 0)
		(void)strlcpy(offer, s->steps[0].label, sizeof(offer));
	else
		drawer_label(s, s->next, offer, sizeof(offer));
	t = drawer_start_unplugged(s, &phone, offer);
	while (t == TURN_DONE && !drawer_stop) {
		if (s->nsteps == 0 && s->swap.active) {
			drawer_swap_outcome(s);
			(void)drawer_session_save(s);
		}
		if (s->nsteps == 0 && count > 0 && tested >= count)
			break;
		if ((swap = s->nsteps > 0)) {
			(void)strlcpy(offer, s->steps[0].label, sizeof(offer));
			port = s->steps[0].port;
		} else {
			drawer_label(s, s->next, offer, sizeof(offer));
			port = drawer_port(s);
		}
		numbered = 0;
		if ((t = drawer_turn(s, &phone, offer, port, swap,
		    &numbered)) != TURN_DONE)
			break;
		if (swap)
			memmove(&s->steps[0], &s->steps[1],
			    --s->nsteps * sizeof(s->steps[0]));
		else {
			tested++;
			if (numbered)
				s->next++;
		}
		if (drawer_swap_plan(s, &s->results[s->nresults - 1]) == -1)
			t = TURN_ERROR;
		(void)drawer_session_save(s);
		if (t == TURN_ERROR)
			break;
		if ((t = drawer_unplug(s, &phone, s->nsteps == 0 &&
		    count > 0 && tested >= count)) != TURN_DONE)
			break;
	}
	if (s->nsteps == 0)
		drawer_swap_outcome(s);
	status = drawer_status(s);
	drawer_summary(s, status);
	s->finished = s->nsteps == 0;
	(void)drawer_session_save(s);
	return (t == TURN_ERROR ? LQ_EXIT_USAGE : status);
}

/* A number option in [0, max]; -1 said. */
static int
drawer_number(const char *opt, const char *arg, int min, int max)
{
	const char	*errstr;
	int		 n;

	n = (int)strtonum(arg, min, max, &errstr);
	if (errstr != NULL) {
		fprintf(stderr, "linkq: drawer: %s takes a number from %d to "
		    "%d, not \"%s\"\n", opt, min, max, arg);
		return (-1);
	}
	return (n);
}

int
cmd_drawer(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLIENT_LONG_OPTIONS,
		{ "count", required_argument, NULL, 'n' },
		{ "prefix", required_argument, NULL, 'P' },
		{ "profile", required_argument, NULL, 'p' },
		{ "resume", no_argument, NULL, 'r' },
		{ "session", required_argument, NULL, 'S' },
		{ "start", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	struct drawer_session	 s;
	struct drawer_opts	 o;
	int			 ch, ret;

	memset(&o, 0, sizeof(o));
	o.start = -1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			if ((o.count = drawer_number("--count", optarg, 1,
			    9999)) == -1)
				return (client_usage("drawer"));
			break;
		case 'P':
			o.prefix = optarg;
			break;
		case 'p':
			o.profile = optarg;
			break;
		case 'r':
			o.resume = 1;
			break;
		case 'S':
			o.session = optarg;
			break;
		case 's':
			if ((o.start = drawer_number("--start", optarg, 0,
			    99999)) == -1)
				return (client_usage("drawer"));
			break;
		default:
			client_option("drawer", ch);
			break;
		}
	}
	o.ports = argv + optind;
	o.nports = argc - optind;
	if (o.nports > DRAWER_PORTS_MAX) {
		fprintf(stderr, "linkq: drawer: at most %d ports\n",
		    DRAWER_PORTS_MAX);
		return (client_usage("drawer"));
	}
	if (drawer_setup(&s, &o) == -1) {
		drawer_session_free(&s);
		return (LQ_EXIT_USAGE);
	}
	drawer_stop = 0;
	drawer_catch(1);
	ret = drawer_loop(&s, o.count);
	drawer_session_free(&s);
	return (ret);
}
