/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The drawer's session file (drawer.h): prefix, next number, profile,
 * ports, each cable's result, the swap under way and what swaps found.
 * It keeps the summary's facts itself because linkqd forgets its runs
 * at a restart (GET /v1/runs/ID). Written to a temporary file next to
 * it and renamed over it, so that a crash leaves the old or the new
 * one, never half of either.
 */

#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "compat/compat.h"
#include "client.h"
#include "drawer.h"
#include "xmalloc.h"

int
drawer_session_default(char *buf, size_t size)
{
	const char	*state = getenv("XDG_STATE_HOME"), *home;
	int		 n;

	if (state != NULL && state[0] == '/')
		n = snprintf(buf, size, "%s/linkq/drawer.json", state);
	else if ((home = getenv("HOME")) != NULL && home[0] != '\0')
		n = snprintf(buf, size, "%s/.local/state/linkq/drawer.json",
		    home);
	else {
		fprintf(stderr, "linkq: drawer: neither XDG_STATE_HOME nor "
		    "HOME is set: name a file with --session FILE\n");
		return (-1);
	}
	if (n < 0 || (size_t)n >= size) {
		fprintf(stderr, "linkq: drawer: the session file's path is "
		    "too long: name one with --session FILE\n");
		return (-1);
	}
	return (0);
}

/* Make the directories above path, as mkdir -p; -1 said. */
static int
session_mkdirs(const char *path)
{
	char	dir[1024], *p;

	(void)strlcpy(dir, path, sizeof(dir));
	if ((p = strrchr(dir, '/')) == NULL || p == dir)
		return (0);
	*p = '\0';
	for (p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) == -1 && errno != EEXIST)
			goto fail;
		*p = '/';
	}
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		goto fail;
	return (0);
fail:
	fprintf(stderr, "linkq: drawer: cannot make %s: %s\n", dir,
	    strerror(errno));
	return (-1);
}

json_t *
drawer_result_json(const struct drawer_result *r)
{
	return (json_pack("{s:s, s:s, s:I, s:s, s:s, s:o, s:b}",
	    "label", r->label, "port", r->port, "run", r->run,
	    "verdict", r->verdict, "reason", r->reason,
	    "mb_s", r->mb_s >= 0 ? json_real(r->mb_s) : json_null(),
	    "swap", r->swap));
}

static void
copy_str(json_t *o, const char *key, char *buf, size_t size)
{
	(void)strlcpy(buf, client_str(o, key, ""), size);
}

static void
load_results(struct drawer_session *s, json_t *a)
{
	struct drawer_result	*r;
	json_t			*o, *mb;
	size_t			 i;

	json_array_foreach(a, i, o) {
		r = drawer_session_add(s);
		copy_str(o, "label", r->label, sizeof(r->label));
		copy_str(o, "port", r->port, sizeof(r->port));
		copy_str(o, "verdict", r->verdict, sizeof(r->verdict));
		copy_str(o, "reason", r->reason, sizeof(r->reason));
		r->run = json_integer_value(json_object_get(o, "run"));
		mb = json_object_get(o, "mb_s");
		r->mb_s = json_is_number(mb) ? json_number_value(mb) : -1;
		r->swap = json_is_true(json_object_get(o, "swap"));
	}
}

static void
load_findings(struct drawer_session *s, json_t *a)
{
	struct drawer_finding	*f;
	json_t			*o;
	size_t			 i;

	json_array_foreach(a, i, o) {
		f = drawer_session_finding(s);
		copy_str(o, "cable", f->cable, sizeof(f->cable));
		copy_str(o, "port", f->port, sizeof(f->port));
		copy_str(o, "fault", f->fault, sizeof(f->fault));
		copy_str(o, "text", f->text, sizeof(f->text));
	}
}

static void
load_steps(struct drawer_session *s, json_t *root)
{
	json_t	*o, *sw;
	size_t	 i;

	json_array_foreach(json_object_get(root, "steps"), i, o) {
		if (s->nsteps == DRAWER_STEPS_MAX)
			break;
		copy_str(o, "label", s->steps[s->nsteps].label,
		    sizeof(s->steps[0].label));
		copy_str(o, "port", s->steps[s->nsteps].port,
		    sizeof(s->steps[0].port));
		s->nsteps++;
	}
	if ((sw = json_object_get(root, "swap")) == NULL || !json_is_object(sw))
		return;
	s->swap.active = 1;
	copy_str(sw, "cable", s->swap.cable, sizeof(s->swap.cable));
	copy_str(sw, "port", s->swap.port, sizeof(s->swap.port));
	copy_str(sw, "other", s->swap.other, sizeof(s->swap.other));
	copy_str(sw, "good", s->swap.good, sizeof(s->swap.good));
}

int
drawer_session_load(struct drawer_session *s)
{
	json_error_t	 err;
	json_t		*root, *p;
	size_t		 i;

	if ((root = json_load_file(s->path, 0, &err)) == NULL) {
		if (access(s->path, F_OK) == -1 && errno == ENOENT)
			return (0);
		fprintf(stderr, "linkq: drawer: %s: %s (line %d); start a "
		    "new session without --resume\n", s->path, err.text,
		    err.line);
		return (-1);
	}
	if (!json_is_object(root)) {
		fprintf(stderr, "linkq: drawer: %s is not a drawer session; "
		    "start a new one without --resume\n", s->path);
		json_decref(root);
		return (-1);
	}
	copy_str(root, "prefix", s->prefix, sizeof(s->prefix));
	copy_str(root, "profile", s->profile, sizeof(s->profile));
	s->next = (int)json_integer_value(json_object_get(root, "next"));
	if (s->next < 0)
		s->next = 0;
	json_array_foreach(json_object_get(root, "ports"), i, p) {
		if (s->nports == DRAWER_PORTS_MAX || !json_is_string(p))
			continue;
		(void)strlcpy(s->ports[s->nports++], json_string_value(p),
		    sizeof(s->ports[0]));
	}
	load_results(s, json_object_get(root, "cables"));
	load_findings(s, json_object_get(root, "findings"));
	load_steps(s, root);
	s->finished = json_is_true(json_object_get(root, "finished"));
	json_decref(root);
	return (1);
}

static json_t *
session_json(const struct drawer_session *s)
{
	const struct drawer_finding	*f;
	json_t				*root, *a;
	size_t				 i;

	root = json_pack("{s:i, s:s, s:i, s:s, s:b}", "version", 1,
	    "prefix", s->prefix, "next", s->next, "profile", s->profile,
	    "finished", s->finished);
	a = json_array();
	for (i = 0; i < s->nports; i++)
		(void)json_array_append_new(a, json_string(s->ports[i]));
	(void)json_object_set_new(root, "ports", a);
	a = json_array();
	for (i = 0; i < s->nresults; i++)
		(void)json_array_append_new(a,
		    drawer_result_json(&s->results[i]));
	(void)json_object_set_new(root, "cables", a);
	a = json_array();
	for (i = 0; i < s->nfindings; i++) {
		f = &s->findings[i];
		(void)json_array_append_new(a, json_pack("{s:s, s:s, s:s, "
		    "s:s}", "cable", f->cable, "port", f->port, "fault",
		    f->fault, "text", f->text));
	}
	(void)json_object_set_new(root, "findings", a);
	a = json_array();
	for (i = 0; i < s->nsteps; i++)
		(void)json_array_append_new(a, json_pack("{s:s, s:s}",
		    "label", s->steps[i].label, "port", s->steps[i].port));
	(void)json_object_set_new(root, "steps", a);
	if (s->swap.active)
		(void)json_object_set_new(root, "swap", json_pack("{s:s, s:s, "
		    "s:s, s:s}", "cable", s->swap.cable, "port", s->swap.port,
		    "other", s->swap.other, "good", s->swap.good));
	return (root);
}

int
drawer_session_save(const struct drawer_session *s)
{
	json_t	*root;
	char	 tmp[1100];
	int	 ret = -1;

	if (session_mkdirs(s->path) == -1)
		return (-1);
	(void)snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", s->path,
	    (long)getpid());
	root = session_json(s);
	if (json_dump_file(root, tmp, JSON_INDENT(1)) == -1)
		fprintf(stderr, "linkq: drawer: cannot write %s\n", tmp);
	else if (rename(tmp, s->path) == -1)
		fprintf(stderr, "linkq: drawer: cannot rename %s to %s: %s\n",
		    tmp, s->path, strerror(errno));
	else
		ret = 0;
	if (ret == -1)
		(void)unlink(tmp);
	json_decref(root);
	return (ret);
}

struct drawer_result *
drawer_session_add(struct drawer_session *s)
{
	struct drawer_result	*r;

	s->results = xreallocarray(s->results, s->nresults + 1,
	    sizeof(*s->results));
	r = &s->results[s->nresults++];
	memset(r, 0, sizeof(*r));
	r->mb_s = -1;
	return (r);
}

struct drawer_finding *
drawer_session_finding(struct drawer_session *s)
{
	struct drawer_finding	*f;

	s->findings = xreallocarray(s->findings, s->nfindings + 1,
	    sizeof(*s->findings));
	f = &s->findings[s->nfindings++];
	memset(f, 0, sizeof(*f));
	return (f);
}

void
drawer_session_free(struct drawer_session *s)
{
	free(s->results);
	free(s->findings);
	s->results = NULL;
	s->findings = NULL;
	s->nresults = s->nfindings = 0;
}
