/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Blame (include/lq-report.h): from the verdicts of each device with
 * each cable on each port, say which cables, ports and devices are at
 * fault, with the evidence in words, and which test to run next where
 * the results cannot tell.
 *
 * The rules compare a failed (cable, port) pair with the same cable on
 * other ports and other cables on the same port:
 * - the cable passes elsewhere, no cable passes on the port: the port;
 * - other cables pass on the port, the cable passes nowhere: the cable;
 * - both pass elsewhere: intermittent, one more test of the pair;
 * - neither: undetermined, test the cable on a known-good port or a
 *   known-good cable on the port.
 * A cable that fails on two ports or more where other cables pass is
 * bad even if it passed somewhere (a loose connector passes on a lucky
 * day), and so is a port where two cables or more fail that pass
 * elsewhere. A device that never passed and failed with two cables or
 * more on two ports or more is blamed itself, and its results are left
 * out of the cable and port rules, so one bad phone does not make a
 * drawer of good cables look bad.
 *
 * A failure the host side caused (the host controller failed, or the
 * port had an over-current) blames the port at once, and counts as
 * neither a pass nor a failure of the cable.
 *
 * MARGINAL counts as neither a pass nor a failure. Ports are told apart
 * by their names alone: where a database holds several benches, the
 * report names each port with its host ("1-1 on bench-2"), so that the
 * same path on two benches stays two ports here.
 */

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat/compat.h"
#include "lq-report.h"
#include "lq-verdict.h"
#include "xmalloc.h"

/*
 * qsort for arrays that may be empty and then NULL, which qsort itself
 * must not be given.
 */
static void
sort_n(void *v, size_t n, size_t size, int (*cmp)(const void *,
    const void *))
{
	if (n > 1)
		qsort(v, n, size, cmp);
}

/* A set of names, in order of arrival, without repeats. */
struct names {
	const char	**v;
	size_t		  n;
};

struct pair {
	const char	*cable;
	const char	*port;
	enum lq_verdict	 verdict;
	const char	*finding;	/* of a failure; NULL none */
};

enum pair_class {
	CLASS_NONE,		/* not a failure */
	CLASS_PORT,		/* the port's fault */
	CLASS_CABLE,		/* the cable's fault */
	CLASS_INTERMITTENT,	/* both pass elsewhere */
	CLASS_UNDETERMINED	/* neither does */
};

struct blame_ctx {
	struct pair	*pairs;
	size_t		 npairs;
	struct names	 cables, ports;
	int		*cable_bad, *port_bad;
	const char	**port_host;	/* by port: a cable tested when the
					 * host side failed, or NULL */
};

static void
names_add(struct names *s, const char *name)
{
	size_t	i;

	for (i = 0; i < s->n; i++) {
		if (strcmp(s->v[i], name) == 0)
			return;
	}
	s->v = xreallocarray(s->v, s->n + 1, sizeof(*s->v));
	s->v[s->n++] = name;
}

static size_t
names_find(const struct names *s, const char *name)
{
	size_t	i;

	for (i = 0; i < s->n; i++) {
		if (strcmp(s->v[i], name) == 0)
			return (i);
	}
	return (SIZE_MAX);
}

static int
cmp_name(const void *a, const void *b)
{
	return (strcmp(*(const char *const *)a, *(const char *const *)b));
}

#define JOIN_MAX	5	/* names in a list before "and N others" */

/*
 * "A-01", "A-01 and A-02", "A-01, A-02 and A-04", "A-01, A-02, A-03,
 * A-04 and 6 others"; the caller frees.
 */
static char *
names_join(const struct names *s)
{
	char	*out = xstrdup(""), *tmp;
	size_t	 i, shown = s->n > JOIN_MAX ? JOIN_MAX - 1 : s->n;

	for (i = 0; i < shown; i++) {
		(void)xasprintf(&tmp, "%s%s%s", out, i == 0 ? "" :
		    i + 1 == s->n ? " and " : ", ", s->v[i]);
		free(out);
		out = tmp;
	}
	if (shown < s->n) {
		(void)xasprintf(&tmp, "%s and %zu others", out, s->n - shown);
		free(out);
		out = tmp;
	}
	return (out);
}

/* Append to an allocated string. */
static void printflike(2, 3)
append(char **s, const char *fmt, ...)
{
	va_list	 ap;
	char	*more, *tmp;

	va_start(ap, fmt);
	(void)xvasprintf(&more, fmt, ap);
	va_end(ap);
	(void)xasprintf(&tmp, "%s%s", *s != NULL ? *s : "", more);
	free(*s);
	free(more);
	*s = tmp;
}

/*
 * After "X failed on Y": what the failure was, in its first reason's
 * words, so that the blame line names the finding (a speed, a dropout,
 * a link error) and not only the verdict.
 */
static void
finding_append(char **s, const struct pair *p)
{
	if (p->finding != NULL && p->finding[0] != '\0')
		append(s, " (%s)", p->finding);
}

/* The ports other than port where cable passed, or cables on port. */
static void
passed_with(const struct blame_ctx *b, const char *cable, const char *port,
    int want_ports, struct names *out)
{
	size_t	i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < b->npairs; i++) {
		if (b->pairs[i].verdict != LQ_VERDICT_PASS)
			continue;
		if (want_ports && strcmp(b->pairs[i].cable, cable) == 0 &&
		    strcmp(b->pairs[i].port, port) != 0)
			names_add(out, b->pairs[i].port);
		if (!want_ports && strcmp(b->pairs[i].port, port) == 0 &&
		    strcmp(b->pairs[i].cable, cable) != 0)
			names_add(out, b->pairs[i].cable);
	}
	if (out->n > 1)
		sort_n(out->v, out->n, sizeof(*out->v), cmp_name);
}

static enum pair_class
classify(const struct blame_ctx *b, const struct pair *p)
{
	struct names	elsewhere, others;
	int		ce, po;

	if (p->verdict != LQ_VERDICT_FAIL)
		return (CLASS_NONE);
	passed_with(b, p->cable, p->port, 1, &elsewhere);
	passed_with(b, p->cable, p->port, 0, &others);
	ce = elsewhere.n > 0;
	po = others.n > 0;
	free(elsewhere.v);
	free(others.v);
	if (ce && !po)
		return (CLASS_PORT);
	if (po && !ce)
		return (CLASS_CABLE);
	return (ce ? CLASS_INTERMITTENT : CLASS_UNDETERMINED);
}

static int
cmp_null_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return ((a != NULL) - (b != NULL));
	return (strcmp(a, b));
}

static int
cmp_cell(const void *a, const void *b)
{
	const struct lq_blame_cell	*x = a, *y = b;
	int				 c;

	if ((c = cmp_null_str(x->cable, y->cable)) != 0)
		return (c);
	if ((c = cmp_null_str(x->port, y->port)) != 0)
		return (c);
	return (cmp_null_str(x->device, y->device));
}

static void
item_set(struct lq_blame_item *it, const char *name, enum lq_blame_state st,
    char *evidence)
{
	it->name = xstrdup(name);
	it->state = st;
	it->evidence = evidence;
}

static int
cmp_item(const void *a, const void *b)
{
	static const int	rank[] = { 2, 0, 1 };	/* bad, unknown, good */
	const struct lq_blame_item	*x = a, *y = b;

	if (x->state != y->state)
		return (rank[x->state] - rank[y->state]);
	return (strcmp(x->name, y->name));
}

/* What the results say of one cable (is_cable) or port. */
static void
judge(const struct blame_ctx *b, const char *name, int is_cable,
    struct lq_blame_item *it)
{
	struct names	 passed, failed, seen;
	const char	*other;
	char		*ev = NULL, *list;
	size_t		 i, k;
	int		 bad, intermittent = 0, unexplained = 0, pass;
	int		 explained;

	memset(&passed, 0, sizeof(passed));
	memset(&failed, 0, sizeof(failed));
	bad = is_cable ? b->cable_bad[names_find(&b->cables, name)] :
	    b->port_bad[names_find(&b->ports, name)];
	/*
	 * A bad one's evidence is the failures nothing else explains; only
	 * if there are none (it is bad by the two-failures rule on ports
	 * that are bad too), all of them.
	 */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < b->npairs; i++) {
			const struct pair	*p = &b->pairs[i];

			if (strcmp(is_cable ? p->cable : p->port, name) != 0)
				continue;
			other = is_cable ? p->port : p->cable;
			if (pass == 0 && p->verdict == LQ_VERDICT_PASS)
				names_add(&passed, other);
			if (p->verdict != LQ_VERDICT_FAIL)
				continue;
			if (pass == 0)
				names_add(&failed, other);
			k = names_find(is_cable ? &b->ports : &b->cables,
			    other);
			explained = is_cable ? b->port_bad[k] :
			    b->cable_bad[k];
			if (pass == 0 && !explained) {
				unexplained++;
				intermittent += classify(b, p) ==
				    CLASS_INTERMITTENT;
			}
			if (!bad || (pass == 0 && explained))
				continue;
			passed_with(b, p->cable, p->port, !is_cable, &seen);
			list = names_join(&seen);
			if (is_cable) {
				append(&ev, "%s%s failed on %s",
				    ev != NULL ? "; " : "", name, p->port);
				finding_append(&ev, p);
				if (seen.n > 0)
					append(&ev, ", where %s passed", list);
			} else {
				append(&ev, "%s%s failed on %s",
				    ev != NULL ? "; " : "", p->cable, name);
				finding_append(&ev, p);
				if (seen.n > 0)
					append(&ev, " but passed on %s", list);
			}
			free(list);
			free(seen.v);
		}
		if (!bad || ev != NULL)
			break;
	}
	if (bad && !is_cable && b->port_host[names_find(&b->ports, name)] !=
	    NULL) {
		free(ev);
		(void)xasprintf(&ev, "the host controller failed or the port "
		    "had an over-current while %s was tested on %s: the port "
		    "or its controller is at fault, not the cable",
		    b->port_host[names_find(&b->ports, name)], name);
		item_set(it, name, LQ_BLAME_BAD, ev);
	} else if (bad) {
		if (!is_cable) {
			passed_with(b, "", name, 0, &seen);
			if (seen.n == 0)
				append(&ev, "; no cable has passed on %s",
				    name);
			free(seen.v);
		}
		item_set(it, name, LQ_BLAME_BAD, ev);
	} else if (unexplained == 0 && passed.n > 0) {
		list = names_join(&passed);
		(void)xasprintf(&ev, "passed %s %s", is_cable ? "on" : "with",
		    list);
		free(list);
		if (failed.n > 0) {
			list = names_join(&failed);
			append(&ev, "; its failures with %s are theirs", list);
			free(list);
		}
		item_set(it, name, LQ_BLAME_GOOD, ev);
	} else if (unexplained == 0) {
		item_set(it, name, LQ_BLAME_UNKNOWN, xstrdup(failed.n > 0 ?
		    "failed only where the other side is to blame" :
		    "no pass or failure yet, only marginal results or "
		    "failures of the host side"));
	} else {
		list = names_join(&failed);
		(void)xasprintf(&ev, "failed %s %s", is_cable ? "on" : "with",
		    list);
		free(list);
		if (intermittent > 0) {
			list = names_join(&passed);
			append(&ev, " but passed %s %s: needs one more test",
			    is_cable ? "on" : "with", list);
			free(list);
		} else
			append(&ev, "; nothing to compare with yet");
		item_set(it, name, LQ_BLAME_UNKNOWN, ev);
	}
	free(passed.v);
	free(failed.v);
}

static void
test_add(struct lq_blame *out, const char *cable, const char *port,
    char *why)
{
	size_t	i;

	for (i = 0; i < out->ntests; i++) {
		if (((cable == NULL && out->tests[i].cable == NULL) ||
		    (cable != NULL && out->tests[i].cable != NULL &&
		    strcmp(cable, out->tests[i].cable) == 0)) &&
		    ((port == NULL && out->tests[i].port == NULL) ||
		    (port != NULL && out->tests[i].port != NULL &&
		    strcmp(port, out->tests[i].port) == 0))) {
			free(why);
			return;
		}
	}
	out->tests = xreallocarray(out->tests, out->ntests + 1,
	    sizeof(*out->tests));
	out->tests[out->ntests].cable = cable != NULL ? xstrdup(cable) : NULL;
	out->tests[out->ntests].port = port != NULL ? xstrdup(port) : NULL;
	out->tests[out->ntests].why = why;
	out->ntests++;
}

/* The first good item of v other than not, or NULL. */
static const char *
first_good(const struct lq_blame_item *v, size_t n, const char *not)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (v[i].state == LQ_BLAME_GOOD && strcmp(v[i].name, not) != 0)
			return (v[i].name);
	}
	return (NULL);
}

static void
judge_devices(const struct lq_blame_cell *cells, size_t n,
    struct lq_blame *out, int *dev_bad, struct names *devices)
{
	struct names	cables, ports;
	char		*c, *p, *ev;
	size_t		i, d;
	int		pass, allfail;

	out->devices = xcalloc(devices->n + 1, sizeof(*out->devices));
	out->ndevices = devices->n;
	for (d = 0; d < devices->n; d++) {
		memset(&cables, 0, sizeof(cables));
		memset(&ports, 0, sizeof(ports));
		pass = 0;
		allfail = 1;
		for (i = 0; i < n; i++) {
			if (strcmp(cells[i].device, devices->v[d]) != 0)
				continue;
			names_add(&cables, cells[i].cable);
			names_add(&ports, cells[i].port);
			pass |= cells[i].verdict == LQ_VERDICT_PASS;
			allfail &= cells[i].verdict == LQ_VERDICT_FAIL;
		}
		sort_n(cables.v, cables.n, sizeof(*cables.v), cmp_name);
		sort_n(ports.v, ports.n, sizeof(*ports.v), cmp_name);
		c = names_join(&cables);
		p = names_join(&ports);
		if (allfail && cables.n >= 2 && ports.n >= 2) {
			dev_bad[d] = 1;
			(void)xasprintf(&ev, "failed with every cable (%s) on "
			    "every port (%s)", c, p);
			item_set(&out->devices[d], devices->v[d],
			    LQ_BLAME_BAD, ev);
		} else if (pass) {
			(void)xasprintf(&ev, "passed at least once; tested "
			    "with %s on %s", c, p);
			item_set(&out->devices[d], devices->v[d],
			    LQ_BLAME_GOOD, ev);
		} else {
			(void)xasprintf(&ev, "no pass yet with %s on %s", c,
			    p);
			item_set(&out->devices[d], devices->v[d],
			    LQ_BLAME_UNKNOWN, ev);
		}
		free(c);
		free(p);
		free(cables.v);
		free(ports.v);
	}
}

void
lq_blame_build(const struct lq_blame_cell *cells, size_t n,
    struct lq_blame *out)
{
	struct blame_ctx	 b;
	struct names		 devices;
	struct names		 seen;
	struct lq_blame_cell	*sorted;
	const struct pair	*p;
	const char		*good;
	char			*why;
	int			*dev_bad;
	size_t			 i, j, k;
	enum pair_class		 cl;
	enum lq_verdict		 v;

	memset(out, 0, sizeof(*out));
	memset(&b, 0, sizeof(b));
	memset(&devices, 0, sizeof(devices));
	/* In name order, so that the words never depend on the input's. */
	sorted = xcalloc(n + 1, sizeof(*sorted));
	if (n > 0)
		memcpy(sorted, cells, n * sizeof(*cells));
	sort_n(sorted, n, sizeof(*sorted), cmp_cell);
	cells = sorted;
	for (i = 0; i < n; i++) {
		if (cells[i].cable != NULL && cells[i].port != NULL &&
		    cells[i].device != NULL)
			names_add(&devices, cells[i].device);
	}
	sort_n(devices.v, devices.n, sizeof(*devices.v), cmp_name);
	dev_bad = xcalloc(devices.n + 1, sizeof(*dev_bad));
	judge_devices(cells, n, out, dev_bad, &devices);

	/* Pairs from the devices not to blame: any failure fails it. */
	b.pairs = xcalloc(n + 1, sizeof(*b.pairs));
	for (i = 0; i < n; i++) {
		if (cells[i].cable == NULL || cells[i].port == NULL ||
		    cells[i].device == NULL ||
		    dev_bad[names_find(&devices, cells[i].device)])
			continue;
		for (j = 0; j < b.npairs; j++) {
			if (strcmp(b.pairs[j].cable, cells[i].cable) == 0 &&
			    strcmp(b.pairs[j].port, cells[i].port) == 0)
				break;
		}
		v = cells[i].verdict;
		if (v == LQ_VERDICT_FAIL && cells[i].host_faults > 0)
			v = LQ_VERDICT_NONE;	/* the host's, below */
		if (j == b.npairs) {
			b.pairs[j].cable = cells[i].cable;
			b.pairs[j].port = cells[i].port;
			b.pairs[j].verdict = v;
			b.npairs++;
			names_add(&b.cables, cells[i].cable);
			names_add(&b.ports, cells[i].port);
		} else if (v == LQ_VERDICT_FAIL || (v == LQ_VERDICT_PASS &&
		    b.pairs[j].verdict != LQ_VERDICT_FAIL))
			b.pairs[j].verdict = v;
		if (v == LQ_VERDICT_FAIL && b.pairs[j].finding == NULL)
			b.pairs[j].finding = cells[i].finding;
	}
	if (b.cables.n > 1)
		sort_n(b.cables.v, b.cables.n, sizeof(*b.cables.v), cmp_name);
	if (b.ports.n > 1)
		sort_n(b.ports.v, b.ports.n, sizeof(*b.ports.v), cmp_name);
	b.cable_bad = xcalloc(b.cables.n + 1, sizeof(int));
	b.port_bad = xcalloc(b.ports.n + 1, sizeof(int));
	b.port_host = xcalloc(b.ports.n + 1, sizeof(*b.port_host));
	for (i = 0; i < n; i++) {
		if (cells[i].verdict != LQ_VERDICT_FAIL ||
		    cells[i].host_faults == 0 || cells[i].cable == NULL ||
		    cells[i].port == NULL || cells[i].device == NULL ||
		    dev_bad[names_find(&devices, cells[i].device)] ||
		    (k = names_find(&b.ports, cells[i].port)) == SIZE_MAX ||
		    b.port_host[k] != NULL)
			continue;
		b.port_host[k] = cells[i].cable;
		b.port_bad[k] = 1;
	}

	/* The pair rules, then two failures where the other side passes. */
	for (i = 0; i < b.npairs; i++) {
		cl = classify(&b, &b.pairs[i]);
		if (cl == CLASS_CABLE)
			b.cable_bad[names_find(&b.cables,
			    b.pairs[i].cable)] = 1;
		if (cl == CLASS_PORT)
			b.port_bad[names_find(&b.ports, b.pairs[i].port)] = 1;
	}
	for (k = 0; k < b.cables.n; k++) {
		size_t	nf = 0;

		for (i = 0; i < b.npairs; i++) {
			p = &b.pairs[i];
			if (p->verdict != LQ_VERDICT_FAIL ||
			    strcmp(p->cable, b.cables.v[k]) != 0)
				continue;
			passed_with(&b, p->cable, p->port, 0, &seen);
			nf += seen.n > 0;
			free(seen.v);
		}
		if (nf >= 2)
			b.cable_bad[k] = 1;
	}
	for (k = 0; k < b.ports.n; k++) {
		size_t	nf = 0;

		for (i = 0; i < b.npairs; i++) {
			p = &b.pairs[i];
			if (p->verdict != LQ_VERDICT_FAIL ||
			    strcmp(p->port, b.ports.v[k]) != 0)
				continue;
			passed_with(&b, p->cable, p->port, 1, &seen);
			nf += seen.n > 0;
			free(seen.v);
		}
		if (nf >= 2)
			b.port_bad[k] = 1;
	}

	out->cables = xcalloc(b.cables.n + 1, sizeof(*out->cables));
	out->ncables = b.cables.n;
	for (k = 0; k < b.cables.n; k++)
		judge(&b, b.cables.v[k], 1, &out->cables[k]);
	out->ports = xcalloc(b.ports.n + 1, sizeof(*out->ports));
	out->nports = b.ports.n;
	for (k = 0; k < b.ports.n; k++)
		judge(&b, b.ports.v[k], 0, &out->ports[k]);

	/* The failures nothing explains: what to test next. */
	for (i = 0; i < b.npairs; i++) {
		p = &b.pairs[i];
		cl = classify(&b, p);
		if (cl == CLASS_NONE ||
		    b.cable_bad[names_find(&b.cables, p->cable)] ||
		    b.port_bad[names_find(&b.ports, p->port)])
			continue;
		if (cl == CLASS_INTERMITTENT) {
			(void)xasprintf(&why, "%s passed elsewhere and %s "
			    "passed with other cables: once more tells a "
			    "fault that comes and goes from a fluke",
			    p->cable, p->port);
			test_add(out, p->cable, p->port, why);
			continue;
		}
		good = first_good(out->ports, out->nports, p->port);
		(void)xasprintf(&why, "tells whether %s is bad%s", p->cable,
		    good != NULL ? " (a port known to work)" : "");
		test_add(out, p->cable, good, why);
		good = first_good(out->cables, out->ncables, p->cable);
		(void)xasprintf(&why, "tells whether %s is bad%s", p->port,
		    good != NULL ? " (a cable known to work)" : "");
		test_add(out, good, p->port, why);
	}
	sort_n(out->cables, out->ncables, sizeof(*out->cables), cmp_item);
	sort_n(out->ports, out->nports, sizeof(*out->ports), cmp_item);
	sort_n(out->devices, out->ndevices, sizeof(*out->devices), cmp_item);

	free(b.pairs);
	free(b.cables.v);
	free(b.ports.v);
	free(b.cable_bad);
	free(b.port_bad);
	free(b.port_host);
	free(devices.v);
	free(dev_bad);
	free(sorted);
}

static void
items_clear(struct lq_blame_item *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].evidence);
	}
	free(v);
}

void
lq_blame_clear(struct lq_blame *b)
{
	size_t	i;

	items_clear(b->cables, b->ncables);
	items_clear(b->ports, b->nports);
	items_clear(b->devices, b->ndevices);
	for (i = 0; i < b->ntests; i++) {
		free(b->tests[i].cable);
		free(b->tests[i].port);
		free(b->tests[i].why);
	}
	free(b->tests);
	memset(b, 0, sizeof(*b));
}

const char *
lq_blame_state_name(enum lq_blame_state st)
{
	switch (st) {
	case LQ_BLAME_GOOD:
		return ("good");
	case LQ_BLAME_BAD:
		return ("bad");
	default:
		return ("unknown");
	}
}
