/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * report.txt, report.json and report.html of a bundle: `linkq report
 * --by pair`, kept to the (cable, port) pairs of the bundle's runs, with
 * the blame of its cables, ports and devices and the restores among its
 * runs.
 * A pair's row pools every run of that pair, as the report does; the
 * README says so, and runs.jsonl has each run's own verdict.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "compat/compat.h"
#include "bundle.h"
#include "client.h"
#include "lq-report.h"
#include "report-html.h"
#include "xmalloc.h"

/* Whether some run of b has string field key equal to s's. */
static int
report_in_runs(struct bundle *b, const char *key, const char *s)
{
	json_t	*run;
	size_t	 i;

	if (s == NULL)
		return (0);
	json_array_foreach(b->runs, i, run) {
		if (strcmp(client_str(run, key, ""), s) == 0)
			return (1);
	}
	return (0);
}

/* Whether some run of b was on cable (NULL: none said) and port. */
static int
report_pair_in_runs(struct bundle *b, const char *cable, const char *port)
{
	json_t		*run;
	const char	*c;
	size_t		 i;

	json_array_foreach(b->runs, i, run) {
		c = client_str(run, "cable", NULL);
		if (strcmp(client_str(run, "port", ""), port != NULL ? port :
		    "") == 0 && (c == NULL ? cable == NULL :
		    cable != NULL && strcmp(c, cable) == 0))
			return (1);
	}
	return (0);
}

/* Whether some run of b has id. */
static int
report_run_in_runs(struct bundle *b, json_int_t id)
{
	json_t	*run;
	size_t	 i;

	json_array_foreach(b->runs, i, run) {
		if (json_integer_value(json_object_get(run, "id")) == id)
			return (1);
	}
	return (0);
}

/* Keep in the array at key of o the entries keep says yes to. */
static void
report_keep(struct bundle *b, json_t *o, const char *key,
    int (*keep)(struct bundle *, json_t *))
{
	json_t	*a = json_object_get(o, key), *e;
	size_t	 i;

	for (i = json_array_size(a); i > 0; i--) {
		e = json_array_get(a, i - 1);
		if (!keep(b, e))
			(void)json_array_remove(a, i - 1);
	}
}

static int
keep_row(struct bundle *b, json_t *e)
{
	return (report_pair_in_runs(b, client_str(e, "cable", NULL),
	    client_str(e, "port", NULL)));
}

static int
keep_cable(struct bundle *b, json_t *e)
{
	return (report_in_runs(b, "cable", client_str(e, "name", NULL)));
}

static int
keep_port(struct bundle *b, json_t *e)
{
	return (report_in_runs(b, "port", client_str(e, "name", NULL)));
}

static int
keep_device(struct bundle *b, json_t *e)
{
	return (report_in_runs(b, "udid", client_str(e, "name", NULL)));
}

static int
keep_test(struct bundle *b, json_t *e)
{
	return (report_in_runs(b, "cable", client_str(e, "cable", NULL)) ||
	    report_in_runs(b, "port", client_str(e, "port", NULL)));
}

static int
keep_restore(struct bundle *b, json_t *e)
{
	return (report_run_in_runs(b, json_integer_value(json_object_get(e,
	    "run"))));
}

/* A restore blame names a device, or "CABLE on PORT". */
static int
keep_restore_blame(struct bundle *b, json_t *e)
{
	const char	*name = client_str(e, "name", "");
	json_t		*run;
	size_t		 i;

	json_array_foreach(b->runs, i, run) {
		if (strcmp(name, client_str(run, "udid", "")) == 0 ||
		    (strstr(name, client_str(run, "port", "\n")) != NULL &&
		    strstr(name, client_str(run, "cable", "\n")) != NULL))
			return (1);
	}
	return (0);
}

/* The report of o, kept to the bundle's runs (in place). */
static void
report_select(struct bundle *b, json_t *o)
{
	json_t	*blame = json_object_get(o, "blame");

	report_keep(b, o, "rows", keep_row);
	report_keep(b, o, "restores", keep_restore);
	report_keep(b, blame, "cables", keep_cable);
	report_keep(b, blame, "ports", keep_port);
	report_keep(b, blame, "devices", keep_device);
	report_keep(b, blame, "next_tests", keep_test);
	report_keep(b, blame, "restores", keep_restore_blame);
}

/* The report as linkq report prints it, into an allocated string. */
static char *
report_text(const struct lq_report *rep)
{
	char	*text;
	size_t	 len;
	FILE	*f;

	if ((f = open_memstream(&text, &len)) == NULL)
		return (NULL);
	lq_report_print_text(f, rep, 0, 0);
	lq_report_print_blame(f, rep, 0, 0);
	if (fclose(f) != 0)
		return (NULL);
	return (text);
}

/*
 * The report as linkq report --html writes it, its runs and timelines
 * from where the bundle reads, into an allocated string.
 */
static char *
report_page(struct bundle *b, const struct lq_report *rep)
{
	struct report_html_source	 src;
	char				*page;
	size_t				 len;
	FILE				*f;
	int				 ret;

	if (b->db != NULL)
		report_html_source_db(&src, b->db);
	else
		report_html_source_daemon(&src);
	if ((f = open_memstream(&page, &len)) == NULL)
		return (NULL);
	ret = report_html_write(f, rep, &src);
	if (fclose(f) != 0 || ret == -1) {
		free(page);
		return (NULL);
	}
	return (page);
}

/* Member name holding text, through the identifier table; 0 or -1. */
static int
report_member(struct bundle *b, const char *name, char *text)
{
	struct bundle_member	*m;

	if (text == NULL) {
		fprintf(stderr, "linkq: bundle: cannot make %s: %s\n", name,
		    strerror(errno));
		return (-1);
	}
	if ((m = bundle_member_new(b, name)) == NULL) {
		free(text);
		return (-1);
	}
	bundle_member_text(b, m, text);
	free(text);
	return (0);
}

int
bundle_report_members(struct bundle *b)
{
	struct bundle_member	*js;
	struct lq_report	*rep;
	json_t			*o, *doc;
	char			*cause;
	int			 ret = -1;

	if ((o = bundle_report(b)) == NULL)
		return (-1);
	report_select(b, o);
	if (lq_report_from_json(o, &rep, &cause) == -1) {
		fprintf(stderr, "linkq: the report: %s\n", cause);
		free(cause);
		json_decref(o);
		return (-1);
	}
	if (report_member(b, "report.txt", report_text(rep)) == -1 ||
	    report_member(b, "report.html", report_page(b, rep)) == -1 ||
	    (js = bundle_member_new(b, "report.json")) == NULL)
		goto out;
	/* As linkq report --json prints it. */
	doc = json_pack("{s:i}", "format_version", LQ_CLIENT_FORMAT_VERSION);
	(void)json_object_update(doc, o);
	bundle_member_json(b, js, doc);
	json_decref(doc);
	ret = 0;
out:
	lq_report_free(rep);
	json_decref(o);
	return (ret);
}
