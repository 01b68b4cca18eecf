/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The swap that tells a cable fault from a port fault (drawer.h). After
 * a new cable fails on a port, the blame engine (GET /v1/report, its
 * blame) may already know which is at fault: the port passed with
 * other cables (the cable), or the cable passed elsewhere while nothing
 * passes on the port (the port). If it does not, the drawer asks for the
 * two tests that tell: the failed cable on another port, and a cable
 * that passed on the failed port. What they showed is said in words
 * that claim no more than the two results.
 */

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "compat/compat.h"
#include "client.h"
#include "drawer.h"

void
drawer_json_line(const char *type, json_t *o)
{
	json_t	*line = json_pack("{s:s}", "type", type);

	(void)json_object_update(line, o);
	client_print_json(line);
	(void)fflush(stdout);
	json_decref(line);
	json_decref(o);
}

/* The blame item called name in list, or NULL. */
static json_t *
blame_item(json_t *list, const char *name)
{
	json_t	*it;
	size_t	 i;

	json_array_foreach(list, i, it) {
		if (strcmp(client_str(it, "name", ""), name) == 0)
			return (it);
	}
	return (NULL);
}

static void
finding_add(struct drawer_session *s, const char *cable, const char *port,
    const char *fault, const char *text)
{
	struct drawer_finding	*f = drawer_session_finding(s);

	(void)strlcpy(f->cable, cable, sizeof(f->cable));
	(void)strlcpy(f->port, port, sizeof(f->port));
	(void)strlcpy(f->fault, fault, sizeof(f->fault));
	(void)strlcpy(f->text, text, sizeof(f->text));
	if (opt_json)
		drawer_json_line("finding", json_pack("{s:s, s:s, s:s, s:s}",
		    "cable", cable, "port", port, "fault", fault, "text",
		    text));
	else
		printf("%s\n", text);
	(void)fflush(stdout);
}

/* A cable of the session that passed, the newest first, not label. */
static const char *
good_cable(const struct drawer_session *s, const char *label)
{
	size_t	i;

	for (i = s->nresults; i-- > 0;) {
		if (strcmp(s->results[i].verdict, "PASS") == 0 &&
		    strcmp(s->results[i].label, label) != 0)
			return (s->results[i].label);
	}
	return (NULL);
}

/* Another port of the session than port. */
static const char *
other_port(const struct drawer_session *s, const char *port)
{
	size_t	i;

	for (i = 0; i < s->nports; i++) {
		if (strcmp(s->ports[i], port) != 0)
			return (s->ports[i]);
	}
	return (NULL);
}

static void
step_add(struct drawer_session *s, const char *label, const char *port)
{
	if (s->nsteps == DRAWER_STEPS_MAX)
		return;
	(void)strlcpy(s->steps[s->nsteps].label, label,
	    sizeof(s->steps[0].label));
	(void)strlcpy(s->steps[s->nsteps].port, port,
	    sizeof(s->steps[0].port));
	s->nsteps++;
}

/* The blame engine settles it: say so. 1 if it did. */
static int
blame_settles(struct drawer_session *s, const struct drawer_result *r,
    json_t *blame)
{
	json_t		*c, *p;
	const char	*cs, *ps;
	char		 text[DRAWER_TEXT_LEN];

	c = blame_item(json_object_get(blame, "cables"), r->label);
	p = blame_item(json_object_get(blame, "ports"), r->port);
	cs = client_str(c, "state", "unknown");
	ps = client_str(p, "state", "unknown");
	if (strcmp(cs, "bad") == 0 && strcmp(ps, "bad") != 0) {
		(void)snprintf(text, sizeof(text), "%s failed on %s: the "
		    "cable (%s)", r->label, r->port, client_str(c, "evidence",
		    ""));
		finding_add(s, r->label, r->port, "cable", text);
		return (1);
	}
	if (strcmp(ps, "bad") == 0 && strcmp(cs, "bad") != 0) {
		(void)snprintf(text, sizeof(text), "%s failed on %s: the "
		    "port (%s)", r->label, r->port, client_str(p, "evidence",
		    ""));
		finding_add(s, r->label, r->port, "port", text);
		return (1);
	}
	return (0);
}

int
drawer_swap_plan(struct drawer_session *s, const struct drawer_result *r)
{
	json_t		*report;
	const char	*other, *good;

	if (s->nports < 2 || r->swap || s->swap.active ||
	    strcmp(r->verdict, "FAIL") != 0)
		return (0);
	if (client_call("GET", "/v1/report?by=cable", NULL, &report) == -1)
		return (-1);
	if (blame_settles(s, r, json_object_get(report, "blame"))) {
		json_decref(report);
		return (0);
	}
	json_decref(report);
	if ((other = other_port(s, r->port)) == NULL)
		return (0);
	good = good_cable(s, r->label);
	memset(&s->swap, 0, sizeof(s->swap));
	s->swap.active = 1;
	(void)strlcpy(s->swap.cable, r->label, sizeof(s->swap.cable));
	(void)strlcpy(s->swap.port, r->port, sizeof(s->swap.port));
	(void)strlcpy(s->swap.other, other, sizeof(s->swap.other));
	(void)strlcpy(s->swap.good, good != NULL ? good : "",
	    sizeof(s->swap.good));
	step_add(s, r->label, other);
	if (good != NULL)
		step_add(s, good, r->port);
	if (opt_json)
		drawer_json_line("swap", json_pack("{s:s, s:s, s:s, s:o}",
		    "cable", r->label, "port", r->port, "other", other,
		    "good", good != NULL ? json_string(good) : json_null()));
	else if (good != NULL)
		printf("%s failed on %s: try %s on %s and a good cable (%s) "
		    "on %s\n", r->label, r->port, r->label, other, good,
		    r->port);
	else
		printf("%s failed on %s: try %s on %s (no cable has passed "
		    "yet to try on %s)\n", r->label, r->port, r->label, other,
		    r->port);
	(void)fflush(stdout);
	return (0);
}

/* The verdict of the newest swap step of label on port, or NULL. */
static const char *
swap_verdict(const struct drawer_session *s, const char *label,
    const char *port)
{
	size_t	i;

	if (label[0] == '\0')
		return (NULL);
	for (i = s->nresults; i-- > 0;) {
		if (s->results[i].swap &&
		    strcmp(s->results[i].label, label) == 0 &&
		    strcmp(s->results[i].port, port) == 0)
			return (s->results[i].verdict);
	}
	return (NULL);
}

void
drawer_swap_outcome(struct drawer_session *s)
{
	const struct drawer_swap	*w = &s->swap;
	const char			*cv, *gv;
	char				 text[DRAWER_TEXT_LEN];
	const char			*fault = "";
	int				 cf, gf;

	if (!w->active || s->nsteps > 0)
		return;
	cv = swap_verdict(s, w->cable, w->other);
	gv = swap_verdict(s, w->good, w->port);
	cf = cv != NULL && strcmp(cv, "FAIL") == 0;
	gf = gv != NULL && strcmp(gv, "FAIL") == 0;
	if (cf && (gv == NULL || !gf)) {
		(void)snprintf(text, sizeof(text), "%s fails on both ports "
		    "(%s and %s): the cable", w->cable, w->port, w->other);
		fault = "cable";
	} else if (gf && cv != NULL && strcmp(cv, "PASS") == 0) {
		(void)snprintf(text, sizeof(text), "%s fails with %s too, "
		    "and %s passed on %s: the port", w->port, w->good,
		    w->cable, w->other);
		fault = "port";
	} else if (gf && cf)
		(void)snprintf(text, sizeof(text), "%s failed on %s and %s "
		    "failed on %s: the swap cannot tell; the phone may be at "
		    "fault", w->cable, w->other, w->good, w->port);
	else if (gf)
		(void)snprintf(text, sizeof(text), "%s fails with %s too: "
		    "%s cannot be judged by the swap", w->port, w->good,
		    w->cable);
	else if (cv != NULL && strcmp(cv, "PASS") == 0)
		(void)snprintf(text, sizeof(text), "%s passed on %s%s%s%s%s: "
		    "the failure on %s did not repeat (intermittent: retest "
		    "or retire %s)", w->cable, w->other, gv != NULL ?
		    " and " : "", gv != NULL ? w->good : "", gv != NULL ?
		    " on " : "", gv != NULL ? w->port : "", w->port,
		    w->cable);
	else
		(void)snprintf(text, sizeof(text), "the swap after %s failed "
		    "on %s showed nothing decisive", w->cable, w->port);
	finding_add(s, w->cable, w->port, fault, text);
	memset(&s->swap, 0, sizeof(s->swap));
}

int
drawer_swap_cleared(const struct drawer_session *s,
    const struct drawer_result *r)
{
	size_t	i;

	for (i = 0; i < s->nfindings; i++) {
		if (strcmp(s->findings[i].port, r->port) == 0 &&
		    strcmp(s->findings[i].fault, "port") == 0)
			return (1);
	}
	return (0);
}
