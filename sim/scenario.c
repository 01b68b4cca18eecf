/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Scenario files (contract in scenario.h, grammar in linkq-sim(1),
 * SCENARIOS): the bench's devices, ports and cables, their link fault
 * profiles, and the timeline.
 *
 * DESIGN
 * A file is checked in three passes and the first error ends it. Each
 * line is split into words (quotes and escapes undone, comments
 * dropped) and parsed on its own, so syntax errors come in file order.
 * Then every event's names are looked up, because a name may be
 * declared after the event that uses it; the error reported is the one
 * of the earliest line. Last, the timeline is played in time order
 * (file order for equal times) to catch plugs and unplugs that cannot
 * happen. Declarations, UDIDs and port paths live in one red-black tree
 * for the length of the parse, which also holds the state of that play.
 *
 * fault_parse uses the same word splitter and key table, so the control
 * socket takes fault parameters with exactly the syntax of a file.
 */

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat/compat.h"
#include "compat/queue.h"
#include "compat/tree.h"
#include "lq-time.h"
#include "xmalloc.h"

#include "hostile.h"
#include "scenario.h"

#define SCN_LINE_MAX		4096	/* bytes, without the newline */
#define SCN_FILE_MAX		(16 * 1024 * 1024)
#define SCN_MS_MAX		3600000.0	/* one hour */
#define SCN_TIME_MAX_US		(INT64_C(8760) * 3600 * LQ_USEC_PER_SEC)
#define SCN_BUS_MAX		127
#define SCN_PATH_PORT_MAX	255
#define SCN_PATH_PORTS		7	/* port numbers in a path */
#define SCN_VERSION_MIN		10
#define SCN_SPEEDS		"12, 480, 5000 or 10000"
#define SCN_MAX_SPEEDS		"480, 5000 or 10000"
#define SCN_COUNT_MAX		1000
#define SCN_FLEX_FACTOR		50.0	/* a wiggle: 50 times the rates */
#define SCN_FLEX_FACTOR_MAX	1e6

/* One word of a line: its text unquoted, where it was in the raw line. */
struct scn_word {
	char		*text;
	size_t		 start;
	size_t		 end;		/* one past its last raw byte */
};

struct scn_words {
	char		*buf;		/* every word, NUL-terminated */
	struct scn_word	*w;
	size_t		 n;
	size_t		 size;
};

enum fault_type {
	FAULT_T_MS,		/* milliseconds in, int64_t microseconds */
	FAULT_T_RATE,		/* double >= 0 */
	FAULT_T_CAP,		/* double >= 0, 0: no cap */
	FAULT_T_PROB,		/* double in [0, 1] */
	FAULT_T_SPEED,		/* int, one of SCN_SPEEDS */
	FAULT_T_MODE,		/* enum fault_drop_mode */
	FAULT_T_COUNT,		/* int from 0 to SCN_COUNT_MAX */
	FAULT_T_DATA		/* yes or no, int charge_only */
};

/* The fault keys, in the order fault_format prints them. */
static const struct fault_key {
	const char	*name;
	enum fault_type	 type;
	size_t		 off;
} fault_keys[] = {
	{ "latency-ms", FAULT_T_MS, offsetof(struct fault, latency_us) },
	{ "jitter-ms", FAULT_T_MS, offsetof(struct fault, jitter_us) },
	{ "cap-mbps", FAULT_T_CAP, offsetof(struct fault, cap_mb_s) },
	{ "speed", FAULT_T_SPEED, offsetof(struct fault, speed_mbps) },
	{ "drop-per-mb", FAULT_T_RATE, offsetof(struct fault, drop_per_mb) },
	{ "drop-per-min", FAULT_T_RATE,
	    offsetof(struct fault, drop_per_min) },
	{ "drop-mode", FAULT_T_MODE, offsetof(struct fault, drop_mode) },
	{ "reset-delay-ms", FAULT_T_MS,
	    offsetof(struct fault, reset_delay_us) },
	{ "link-error-per-min", FAULT_T_RATE,
	    offsetof(struct fault, link_error_per_min) },
	{ "reset-per-min", FAULT_T_RATE,
	    offsetof(struct fault, reset_per_min) },
	{ "stall-per-min", FAULT_T_RATE,
	    offsetof(struct fault, stall_per_min) },
	{ "stall-ms", FAULT_T_MS, offsetof(struct fault, stall_us) },
	{ "corrupt-per-mb", FAULT_T_RATE,
	    offsetof(struct fault, corrupt_per_mb) },
	{ "enum-fail", FAULT_T_PROB, offsetof(struct fault, enum_fail) },
	{ "control-stall", FAULT_T_PROB,
	    offsetof(struct fault, control_stall) },
	{ "control-error", FAULT_T_PROB,
	    offsetof(struct fault, control_error) },
	{ "control-timeout", FAULT_T_PROB,
	    offsetof(struct fault, control_timeout) },
	{ "retry-rate", FAULT_T_PROB, offsetof(struct fault, retry_rate) },
	{ "fallback", FAULT_T_PROB, offsetof(struct fault, fallback) },

	{ "burst-per-min", FAULT_T_RATE,
	    offsetof(struct fault, burst_per_min) },
	{ "burst-len", FAULT_T_COUNT, offsetof(struct fault, burst_len) },
	{ "burst-ms", FAULT_T_MS, offsetof(struct fault, burst_us) },
	{ "drop-per-mb-out", FAULT_T_RATE,
	    offsetof(struct fault, drop_per_mb_out) },
	{ "corrupt-out-per-mb", FAULT_T_RATE,
	    offsetof(struct fault, corrupt_out_per_mb) },
	{ "data", FAULT_T_DATA, offsetof(struct fault, charge_only) },
};

static const char *const sim_mode_names[] = {
	"normal", "recovery", "dfu"
};

enum scn_kind {
	SCN_KIND_DEVICE,
	SCN_KIND_PORT,
	SCN_KIND_CABLE,
	SCN_KIND_UDID,		/* owner: the device */
	SCN_KIND_PATH		/* owner: the port */
};

static const char *const scn_kind_names[] = {
	"device", "port", "cable", "udid", "path"
};

/* A declared name, and its state while the timeline is played. */
struct scn_decl {
	enum scn_kind		 kind;
	const char		*name;		/* borrowed from the scenario */
	const char		*owner;		/* UDID, PATH */
	int			 line;
	struct scn_decl		*holder;	/* port, cable: device in it */
	struct scn_decl		*port;		/* device: where it is */
	struct scn_decl		*cable;
	int			 plug_line;	/* device: its last plug */
	RB_ENTRY(scn_decl)	 entry;
};
RB_HEAD(scn_decls, scn_decl);

struct scn_parser {
	struct scenario		*scn;
	struct scn_decls	 decls;
	struct scn_event	*tail;		/* last event, latest time */
	int			 line;
	int			 seed_line;
	int			 usbmuxd_line;
	char			*cause;
};

static int	 scn_decl_cmp(const struct scn_decl *,
		    const struct scn_decl *);
RB_PROTOTYPE_STATIC(scn_decls, scn_decl, entry, scn_decl_cmp);

static int	 scn_error(struct scn_parser *, int, const char *, ...)
		    printflike(3, 4);
static int	 scn_error_take(struct scn_parser *, int, char *);
static int	 scn_split(struct scn_words *, const char *, size_t,
		    char **);
static void	 scn_words_free(struct scn_words *);
static int	 scn_keyval(struct scn_words *, size_t, size_t, char **,
		    char **, char **);
static int	 scn_number(const char *, double *);

static const struct fault_key *fault_key_find(const char *);
static char	*fault_key_names(void);
static int	 fault_set(struct fault *, const struct fault_key *,
		    const char *, char **);
static double	 fault_min_nonzero(double, double);

static struct scn_decl *scn_lookup(struct scn_parser *, enum scn_kind,
		    const char *);
static int	 scn_declare(struct scn_parser *, enum scn_kind,
		    const char *, const char *);
static void	 scn_decls_free(struct scn_parser *);
static int	 scn_name_ok(const char *);
static int	 scn_check_name(struct scn_parser *, struct scn_words *,
		    const char *, const char *);
static int	 scn_udid_ok(const char *);
static int	 scn_product_ok(const char *);
static int	 scn_small_number(const char **, int);
static int	 scn_version(const char *);
static int	 scn_path(const char *, const char **);
static int	 scn_unknown_key(struct scn_parser *, const char *,
		    const char *, const char *, int);
static int	 scn_time(const char *, int64_t *, char **);

static int	 scn_stmt_seed(struct scn_parser *, struct scn_words *);
static int	 scn_stmt_usbmuxd(struct scn_parser *, struct scn_words *);
static int	 mux_settings_set(struct mux_settings *, const char *,
		    const char *, char **);
static int	 scn_stmt_device(struct scn_parser *, struct scn_words *);
static int	 scn_stmt_port(struct scn_parser *, struct scn_words *);
static int	 scn_stmt_cable(struct scn_parser *, struct scn_words *);
static void	 scn_insert_event(struct scn_parser *, struct scn_event *);
static int	 scn_stmt_at(struct scn_parser *, struct scn_words *,
		    const char *);
static int	 scn_stmt_at_host(struct scn_parser *, struct scn_words *,
		    struct scn_event *);
static int	 scn_hub_ok(const char *);
static char	*scn_hub_names(struct scn_parser *, struct scn_event *,
		    const char *);
static int	 scn_line(struct scn_parser *, const char *, size_t);

static struct scn_decl *scn_need(struct scn_parser *, enum scn_kind,
		    const char *, const char *, char **);
static char	*scn_event_names(struct scn_parser *, struct scn_event *);
static int	 scn_check_names(struct scn_parser *);
static int	 scn_check_timeline(struct scn_parser *);

/* Order declarations by kind, then name. */
static int
scn_decl_cmp(const struct scn_decl *a, const struct scn_decl *b)
{
	if (a->kind != b->kind)
		return (a->kind < b->kind ? -1 : 1);
	return (strcmp(a->name, b->name));
}

RB_GENERATE_STATIC(scn_decls, scn_decl, entry, scn_decl_cmp);

/* Set the parser's error to "FILE:LINE: message"; return -1. */
static int
scn_error(struct scn_parser *p, int line, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	(void)xvasprintf(&msg, fmt, ap);
	va_end(ap);
	free(p->cause);
	(void)xasprintf(&p->cause, "%s:%d: %s", p->scn->file, line, msg);
	free(msg);
	return (-1);
}

/* Report an error message made elsewhere, taking ownership of it. */
static int
scn_error_take(struct scn_parser *p, int line, char *msg)
{
	(void)scn_error(p, line, "%s", msg);
	free(msg);
	return (-1);
}

/*
 * Split len bytes at s into words: blanks separate words, '#' outside
 * quotes ends the line, and double quotes group blanks into a word,
 * with \" and \\ as the only escapes inside them.
 */
static int
scn_split(struct scn_words *ws, const char *s, size_t len, char **cause)
{
	size_t	 i = 0, start, quote = 0;
	char	*out, *word;
	int	 quoted;

	memset(ws, 0, sizeof(*ws));
	/* A word and its NUL never outgrow its raw bytes and a separator. */
	ws->buf = out = xmalloc(len + 1);
	for (;;) {
		while (i < len && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i == len || s[i] == '#')
			break;
		start = i;
		word = out;
		quoted = 0;
		while (i < len) {
			if (!quoted &&
			    (s[i] == ' ' || s[i] == '\t' || s[i] == '#'))
				break;
			if (s[i] == '"') {
				quoted = !quoted;
				quote = i++;
				continue;
			}
			if (quoted && s[i] == '\\') {
				if (i + 1 == len ||
				    (s[i + 1] != '"' && s[i + 1] != '\\')) {
					(void)xasprintf(cause, "column %zu: "
					    "unknown escape in quotes; only "
					    "\\\" and \\\\ are allowed", i + 1);
					return (-1);
				}
				i++;
			}
			*out++ = s[i++];
		}
		if (quoted) {
			(void)xasprintf(cause, "unterminated quote: the \" at "
			    "column %zu has no closing \"", quote + 1);
			return (-1);
		}
		*out++ = '\0';
		if (ws->n == ws->size) {
			ws->size = ws->size == 0 ? 8 : ws->size * 2;
			ws->w = xreallocarray(ws->w, ws->size,
			    sizeof(*ws->w));
		}
		ws->w[ws->n].text = word;
		ws->w[ws->n].start = start;
		ws->w[ws->n].end = i;
		ws->n++;
	}
	return (0);
}

/* Free the words of a line. */
static void
scn_words_free(struct scn_words *ws)
{
	free(ws->buf);
	free(ws->w);
	memset(ws, 0, sizeof(*ws));
}

/*
 * Split word i, which must be KEY=VALUE with both parts non-empty and a
 * key not among the words from first to i (split already).
 */
static int
scn_keyval(struct scn_words *ws, size_t first, size_t i, char **key,
    char **val, char **cause)
{
	char	*eq, *word = ws->w[i].text;
	size_t	 j;

	if ((eq = strchr(word, '=')) == NULL) {
		(void)xasprintf(cause, "\"%s\" is not KEY=VALUE", word);
		return (-1);
	}
	if (eq == word) {
		(void)xasprintf(cause, "\"%s\" has no key before '='", word);
		return (-1);
	}
	*eq = '\0';
	if (eq[1] == '\0') {
		(void)xasprintf(cause, "%s= has no value: write %s=VALUE",
		    word, word);
		return (-1);
	}
	for (j = first; j < i; j++) {
		if (strcmp(ws->w[j].text, word) == 0) {
			(void)xasprintf(cause, "key %s is given twice; give "
			    "it once", word);
			return (-1);
		}
	}
	*key = word;
	*val = eq + 1;
	return (0);
}

/*
 * Parse a decimal number (digits, an optional fraction and exponent,
 * an optional '-'); no hex, inf or nan. Returns 0, -1 if s is not such
 * a number, or -2 if it does not fit a finite double.
 */
static int
scn_number(const char *s, double *out)
{
	const char	*p = s;
	char		*end;
	double		 v;
	int		 digits = 0;

	if (*p == '-')
		p++;
	for (; isdigit((unsigned char)*p); p++)
		digits++;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			digits++;
	if (digits == 0)
		return (-1);
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!isdigit((unsigned char)*p))
			return (-1);
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p != '\0')
		return (-1);
	errno = 0;
	v = strtod(s, &end);
	if (end != p)
		return (-1);
	if (errno == ERANGE || !isfinite(v))
		return (-2);
	*out = v == 0 ? 0 : v;		/* no -0 */
	return (0);
}

/* Find a fault key by name. */
static const struct fault_key *
fault_key_find(const char *name)
{
	size_t	i;

	for (i = 0; i < nitems(fault_keys); i++)
		if (strcmp(fault_keys[i].name, name) == 0)
			return (&fault_keys[i]);
	return (NULL);
}

/* List the fault keys, "latency-ms, jitter-ms, ..." (allocated). */
static char *
fault_key_names(void)
{
	char	*s, *t;
	size_t	 i;

	s = xstrdup(fault_keys[0].name);
	for (i = 1; i < nitems(fault_keys); i++) {
		(void)xasprintf(&t, "%s, %s", s, fault_keys[i].name);
		free(s);
		s = t;
	}
	return (s);
}

/* Set one fault field from its text value. */
static int
fault_set(struct fault *f, const struct fault_key *fk, const char *val,
    char **cause)
{
	const char	*k = fk->name, *errstr;
	void		*field = (char *)f + fk->off;
	double		 v = 0;
	long long	 n;
	int		 rc = 0;

	switch (fk->type) {
	case FAULT_T_MS:
	case FAULT_T_RATE:
	case FAULT_T_CAP:
	case FAULT_T_PROB:
		rc = scn_number(val, &v);
		break;
	case FAULT_T_SPEED:
		n = strtonum(val, 0, INT_MAX, &errstr);
		/* 0 lifts a limit set earlier (control socket, fault). */
		if (errstr != NULL || (n != 0 && n != 12 && n != 480 &&
		    n != 5000 && n != 10000)) {
			(void)xasprintf(cause, "%s=%s: expected %s (Mb/s), "
			    "or 0 for no limit", k, val, SCN_SPEEDS);
			return (-1);
		}
		*(int *)field = (int)n;
		return (0);
	case FAULT_T_MODE:
		if (strcmp(val, "stranded") == 0)
			*(enum fault_drop_mode *)field = FAULT_DROP_STRANDED;
		else if (strcmp(val, "reset") == 0)
			*(enum fault_drop_mode *)field = FAULT_DROP_RESET;
		else {
			(void)xasprintf(cause, "%s=%s: expected stranded or "
			    "reset", k, val);
			return (-1);
		}
		return (0);
	case FAULT_T_COUNT:
		n = strtonum(val, 0, SCN_COUNT_MAX, &errstr);
		if (errstr != NULL) {
			(void)xasprintf(cause, "%s=%s: expected a whole number "
			    "from 0 to %d", k, val, SCN_COUNT_MAX);
			return (-1);
		}
		*(int *)field = (int)n;
		return (0);
	case FAULT_T_DATA:
		/* Stored as its absence, so that zero is the usual cable. */
		if (strcmp(val, "yes") != 0 && strcmp(val, "no") != 0) {
			(void)xasprintf(cause, "%s=%s: expected yes or no "
			    "(no: a charge-only cable)", k, val);
			return (-1);
		}
		*(int *)field = strcmp(val, "no") == 0;
		return (0);
	}

	if (rc == -1) {
		(void)xasprintf(cause, "%s=%s: not a number; expected %s", k,
		    val, fk->type == FAULT_T_MS ?
		    "milliseconds such as 20 or 0.5" :
		    fk->type == FAULT_T_CAP ?
		    "megabytes per second such as 35" :
		    fk->type == FAULT_T_PROB ?
		    "a probability from 0 to 1 such as 0.5" :
		    "a rate such as 0.002 or 6");
		return (-1);
	}
	if (rc == -2) {
		(void)xasprintf(cause, "%s=%s: number out of range", k, val);
		return (-1);
	}
	if (v < 0) {
		(void)xasprintf(cause, "%s=%s: must not be negative", k, val);
		return (-1);
	}
	switch (fk->type) {
	case FAULT_T_MS:
		if (v > SCN_MS_MAX) {
			(void)xasprintf(cause, "%s=%s: at most %.0f (one "
			    "hour)", k, val, SCN_MS_MAX);
			return (-1);
		}
		*(int64_t *)field = (int64_t)(v * 1000.0 + 0.5);
		break;
	case FAULT_T_PROB:
		if (v > 1) {
			(void)xasprintf(cause, "%s=%s: a probability is at "
			    "most 1", k, val);
			return (-1);
		}
		*(double *)field = v;
		break;
	default:
		/* A cap of 0 is no cap: it lifts one set earlier. */
		*(double *)field = v;
		break;
	}
	return (0);
}

/* Apply "key=value ..." fault parameters to f; f is unchanged on error. */
int
fault_parse(struct fault *f, const char *s, char **cause)
{
	struct scn_words	 ws;
	struct fault		 tmp = *f;
	const struct fault_key	*fk;
	char			*key, *val, *names, *msg = NULL;
	size_t			 i;

	if (scn_split(&ws, s, strlen(s), &msg) != 0)
		goto fail;
	for (i = 0; i < ws.n; i++) {
		if (scn_keyval(&ws, 0, i, &key, &val, &msg) != 0)
			goto fail;
		if ((fk = fault_key_find(key)) == NULL) {
			names = fault_key_names();
			(void)xasprintf(&msg, "unknown fault key %s; the keys "
			    "are %s", key, names);
			free(names);
			goto fail;
		}
		if (fault_set(&tmp, fk, val, &msg) != 0)
			goto fail;
	}
	scn_words_free(&ws);
	*f = tmp;
	return (0);

fail:
	scn_words_free(&ws);
	if (cause != NULL)
		*cause = msg;
	else
		free(msg);
	return (-1);
}

/* Return the smaller of two values where 0 means "no limit". */
static double
fault_min_nonzero(double a, double b)
{
	if (a == 0)
		return (b);
	if (b == 0)
		return (a);
	return (a < b ? a : b);
}

/* Combine two fault profiles into out (may alias either). */
static void
fault_combine_two(struct fault *out, const struct fault *p,
    const struct fault *c)
{
	struct fault	f;

	memset(&f, 0, sizeof(f));
	f.latency_us = p->latency_us + c->latency_us;
	f.jitter_us = p->jitter_us + c->jitter_us;
	f.cap_mb_s = fault_min_nonzero(p->cap_mb_s, c->cap_mb_s);
	f.speed_mbps = (int)fault_min_nonzero(p->speed_mbps, c->speed_mbps);
	f.drop_per_mb = p->drop_per_mb + c->drop_per_mb;
	f.drop_per_min = p->drop_per_min + c->drop_per_min;
	f.drop_mode = (p->drop_mode == FAULT_DROP_RESET ||
	    c->drop_mode == FAULT_DROP_RESET) ? FAULT_DROP_RESET :
	    FAULT_DROP_STRANDED;
	f.reset_delay_us = p->reset_delay_us > c->reset_delay_us ?
	    p->reset_delay_us : c->reset_delay_us;
	f.link_error_per_min = p->link_error_per_min + c->link_error_per_min;
	f.reset_per_min = p->reset_per_min + c->reset_per_min;
	f.stall_per_min = p->stall_per_min + c->stall_per_min;
	f.stall_us = p->stall_us > c->stall_us ? p->stall_us : c->stall_us;
	f.corrupt_per_mb = p->corrupt_per_mb + c->corrupt_per_mb;
	/* An attempt fails if either side makes it fail. */
	f.enum_fail = 1 - (1 - p->enum_fail) * (1 - c->enum_fail);
	f.control_stall = 1 - (1 - p->control_stall) *
	    (1 - c->control_stall);
	f.control_error = 1 - (1 - p->control_error) *
	    (1 - c->control_error);
	f.control_timeout = 1 - (1 - p->control_timeout) *
	    (1 - c->control_timeout);
	/* A packet is retried if either side garbles it. */
	f.retry_rate = 1 - (1 - p->retry_rate) * (1 - c->retry_rate);
	f.fallback = 1 - (1 - p->fallback) * (1 - c->fallback);

	f.burst_per_min = p->burst_per_min + c->burst_per_min;
	f.burst_len = p->burst_len > c->burst_len ? p->burst_len :
	    c->burst_len;
	f.burst_us = p->burst_us > c->burst_us ? p->burst_us : c->burst_us;
	f.drop_per_mb_out = p->drop_per_mb_out + c->drop_per_mb_out;
	f.corrupt_out_per_mb = p->corrupt_out_per_mb +
	    c->corrupt_out_per_mb;
	/* Power only on either side: no data line gets through. */
	f.charge_only = p->charge_only || c->charge_only;
	*out = f;
}

/*
 * Combine the faults of port p, cable c and device d into out (may
 * alias any). Every rule is associative, so the order does not matter:
 * a worn connector on the phone adds to whatever cable it is on.
 */
void
fault_combine(struct fault *out, const struct fault *p,
    const struct fault *c, const struct fault *d)
{
	struct fault	pc;

	fault_combine_two(&pc, p, c);
	fault_combine_two(out, &pc, d);
}

/* A probability of failing once, as if tried factor times. */
static double
fault_scale_prob(double p, double factor)
{
	return (p <= 0 ? 0 : 1 - pow(1 - p, factor));
}

/*
 * Raise the rates of f as if its faults came factor times as often
 * (flex): what happens per megabyte or per minute is multiplied and a
 * probability of failing becomes that of failing in factor tries. The
 * shape (latency, cap, speed, lengths) is left alone.
 */
void
fault_scale(struct fault *f, double factor)
{
	f->drop_per_mb *= factor;
	f->drop_per_min *= factor;
	f->link_error_per_min *= factor;
	f->reset_per_min *= factor;
	f->stall_per_min *= factor;
	f->corrupt_per_mb *= factor;
	f->enum_fail = fault_scale_prob(f->enum_fail, factor);
	f->control_stall = fault_scale_prob(f->control_stall, factor);
	f->control_error = fault_scale_prob(f->control_error, factor);
	f->control_timeout = fault_scale_prob(f->control_timeout, factor);
	f->burst_per_min *= factor;
	f->drop_per_mb_out *= factor;
	f->corrupt_out_per_mb *= factor;
	f->retry_rate = fault_scale_prob(f->retry_rate, factor);
	f->fallback = fault_scale_prob(f->fallback, factor);
}

/* Whether port path is below hub ("1-4") or the root hub "usbN". */
int
scn_path_under(const char *path, const char *hub)
{
	size_t	len;

	if (strncmp(hub, "usb", 3) == 0) {
		len = strlen(hub + 3);
		return (len > 0 && strncmp(path, hub + 3, len) == 0 &&
		    path[len] == '-');
	}
	len = strlen(hub);
	return (strncmp(path, hub, len) == 0 && path[len] == '.');
}

/* The mode called name. */
int
sim_mode_parse(const char *name, enum sim_mode *mode)
{
	size_t	i;

	for (i = 0; i < nitems(sim_mode_names); i++) {
		if (strcmp(sim_mode_names[i], name) == 0) {
			*mode = (enum sim_mode)i;
			return (0);
		}
	}
	return (-1);
}

/* The name of a mode. */
const char *
sim_mode_name(enum sim_mode mode)
{
	if ((size_t)mode >= nitems(sim_mode_names))
		return ("unknown");
	return (sim_mode_names[mode]);
}

/* Describe f as "key=value ..." of its non-zero fields (allocated). */
char *
fault_format(const struct fault *f)
{
	const struct fault_key	*fk;
	const char		*field;
	char			*s, *t, value[64];
	size_t			 i;

	s = xstrdup("");
	for (i = 0; i < nitems(fault_keys); i++) {
		fk = &fault_keys[i];
		field = (const char *)f + fk->off;
		switch (fk->type) {
		case FAULT_T_MS:
			if (*(const int64_t *)(const void *)field == 0)
				continue;
			(void)xsnprintf(value, sizeof(value), "%g",
			    (double)*(const int64_t *)(const void *)field /
			    1000.0);
			break;
		case FAULT_T_RATE:
		case FAULT_T_CAP:
		case FAULT_T_PROB:
			if (*(const double *)(const void *)field == 0)
				continue;
			(void)xsnprintf(value, sizeof(value), "%g",
			    *(const double *)(const void *)field);
			break;
		case FAULT_T_SPEED:
			if (*(const int *)(const void *)field == 0)
				continue;
			(void)xsnprintf(value, sizeof(value), "%d",
			    *(const int *)(const void *)field);
			break;
		case FAULT_T_MODE:
			if (*(const enum fault_drop_mode *)(const void *)field
			    != FAULT_DROP_RESET)
				continue;
			(void)strlcpy(value, "reset", sizeof(value));
			break;
		case FAULT_T_COUNT:
			if (*(const int *)(const void *)field == 0)
				continue;
			(void)xsnprintf(value, sizeof(value), "%d",
			    *(const int *)(const void *)field);
			break;
		case FAULT_T_DATA:
			if (*(const int *)(const void *)field == 0)
				continue;
			(void)strlcpy(value, "no", sizeof(value));
			break;
		}
		(void)xasprintf(&t, "%s%s%s=%s", s, *s == '\0' ? "" : " ",
		    fk->name, value);
		free(s);
		s = t;
	}
	return (s);
}

/* Find a declaration. */
static struct scn_decl *
scn_lookup(struct scn_parser *p, enum scn_kind kind, const char *name)
{
	struct scn_decl	key;

	key.kind = kind;
	key.name = name;
	return (RB_FIND(scn_decls, &p->decls, &key));
}

/*
 * Declare name (borrowed: it must live as long as the scenario); a name
 * already declared of that kind is an error naming the first line.
 */
static int
scn_declare(struct scn_parser *p, enum scn_kind kind, const char *name,
    const char *owner)
{
	struct scn_decl	*d, *old;
	const char	*what = scn_kind_names[kind], *whose;

	d = xcalloc(1, sizeof(*d));
	d->kind = kind;
	d->name = name;
	d->owner = owner;
	d->line = p->line;
	if ((old = RB_INSERT(scn_decls, &p->decls, d)) == NULL)
		return (0);
	free(d);
	if (owner == NULL)
		return (scn_error(p, p->line, "%s %s is already declared at "
		    "line %d; names of %ss must differ", what, name,
		    old->line, what));
	whose = kind == SCN_KIND_UDID ? "device" : "port";
	return (scn_error(p, p->line, "%s %s is already %s %s's (line %d); "
	    "each %s needs its own", what, name, whose, old->owner,
	    old->line, whose));
}

/* Free the declarations. */
static void
scn_decls_free(struct scn_parser *p)
{
	struct scn_decl	*d, *next;

	RB_FOREACH_SAFE(d, scn_decls, &p->decls, next) {
		RB_REMOVE(scn_decls, &p->decls, d);
		free(d);
	}
}

/* Check that a name is made of [A-Za-z0-9_.-]. */
static int
scn_name_ok(const char *s)
{
	if (*s == '\0')
		return (0);
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' &&
		    *s != '-')
			return (0);
	return (1);
}

/* Check the NAME word of a device, port or cable statement. */
static int
scn_check_name(struct scn_parser *p, struct scn_words *ws,
    const char *what, const char *usage)
{
	const char	*name;

	if (ws->n < 2)
		return (scn_error(p, p->line, "%s needs a name: %s", what,
		    usage));
	name = ws->w[1].text;
	if (strchr(name, '=') != NULL)
		return (scn_error(p, p->line, "%s needs a name before its "
		    "keys: %s", what, usage));
	if (!scn_name_ok(name))
		return (scn_error(p, p->line, "bad %s name \"%s\": use "
		    "letters, digits, '_', '.' and '-'", what, name));
	return (0);
}

/* Check a UDID: 8 and 16 letters or digits joined by '-', or 40 hex. */
static int
scn_udid_ok(const char *s)
{
	size_t	i, len = strlen(s);

	if (len == 40) {
		for (i = 0; i < len; i++)
			if (!isxdigit((unsigned char)s[i]))
				return (0);
		return (1);
	}
	if (len != 25)
		return (0);
	for (i = 0; i < len; i++) {
		if (i == 8 ? s[i] != '-' : !isalnum((unsigned char)s[i]))
			return (0);
	}
	return (1);
}

/* Check a ProductType: letters, digits, ',' and digits ("iPhone12,1"). */
static int
scn_product_ok(const char *s)
{
	const char	*p = s;

	while (isalpha((unsigned char)*p))
		p++;
	if (p == s || !isdigit((unsigned char)*p))
		return (0);
	while (isdigit((unsigned char)*p))
		p++;
	if (*p++ != ',' || !isdigit((unsigned char)*p))
		return (0);
	while (isdigit((unsigned char)*p))
		p++;
	return (*p == '\0');
}

/*
 * Read one number of a path or version at *sp: 1 to 3 digits, no
 * leading zero unless it is "0", at most max. Returns -1 if bad.
 */
static int
scn_small_number(const char **sp, int max)
{
	const char	*s = *sp;
	int		 v = 0, n = 0;

	while (isdigit((unsigned char)s[n])) {
		if (n == 3)
			return (-1);
		v = v * 10 + (s[n] - '0');
		n++;
	}
	if (n == 0 || (n > 1 && s[0] == '0') || v > max)
		return (-1);
	*sp = s + n;
	return (v);
}

/*
 * Check a version, MAJOR.MINOR[.PATCH]. Returns the major version, or
 * -1 if s is not a version.
 */
static int
scn_version(const char *s)
{
	int	major, i;

	if ((major = scn_small_number(&s, 999)) == -1)
		return (-1);
	for (i = 0; i < 2 && *s == '.'; i++) {
		s++;
		if (scn_small_number(&s, 999) == -1)
			return (-1);
	}
	if (i == 0 || *s != '\0')
		return (-1);
	return (major);
}

/*
 * Check a port path, BUS-PORT[.PORT...]. Returns the number of '.', or
 * -1 with *why set to what is wrong.
 */
static int
scn_path(const char *s, const char **why)
{
	int	ports = 0;

	if (scn_small_number(&s, SCN_BUS_MAX) < 1) {
		*why = "the bus must be a number from 1 to 127";
		return (-1);
	}
	if (*s++ != '-') {
		*why = "the bus must be followed by '-'";
		return (-1);
	}
	for (;;) {
		if (scn_small_number(&s, SCN_PATH_PORT_MAX) < 1) {
			*why = "each port must be a number from 1 to 255, "
			    "without leading zeros";
			return (-1);
		}
		if (++ports > SCN_PATH_PORTS) {
			*why = "a path has at most 7 ports";
			return (-1);
		}
		if (*s == '\0')
			return (ports - 1);
		if (*s++ != '.') {
			*why = "ports must be separated by '.'";
			return (-1);
		}
	}
}

/* Report an unknown key of a statement, listing the valid ones. */
static int
scn_unknown_key(struct scn_parser *p, const char *what, const char *key,
    const char *own, int faults)
{
	char	*names;
	int	 rc;

	if (!faults)
		return (scn_error(p, p->line, "unknown %s key %s; the keys "
		    "are %s", what, key, own));
	names = fault_key_names();
	rc = scn_error(p, p->line, "unknown %s key %s; the keys are %s and "
	    "the fault keys %s", what, key, own, names);
	free(names);
	return (rc);
}

/* Parse "seed N". */
static int
scn_stmt_seed(struct scn_parser *p, struct scn_words *ws)
{
	const char	*errstr;
	long long	 n;

	if (p->seed_line != 0)
		return (scn_error(p, p->line, "seed is already given at line "
		    "%d; give it once", p->seed_line));
	if (ws->n != 2)
		return (scn_error(p, p->line, "seed takes one number: seed "
		    "N"));
	n = strtonum(ws->w[1].text, 0, LLONG_MAX, &errstr);
	if (errstr != NULL)
		return (scn_error(p, p->line, "seed %s: expected a whole "
		    "number from 0 to %lld", ws->w[1].text, LLONG_MAX));
	p->scn->has_seed = 1;
	p->scn->seed = (uint64_t)n;
	p->seed_line = p->line;
	return (0);
}

/* Settings none of which is given. */
void
mux_settings_init(struct mux_settings *ms)
{
	ms->preflight = -1;
	ms->exit_idle = -1;
	ms->speeds = -1;
}

/* Take every setting given in from. */
void
mux_settings_merge(struct mux_settings *ms, const struct mux_settings *from)
{
	if (from->preflight != -1)
		ms->preflight = from->preflight;
	if (from->exit_idle != -1)
		ms->exit_idle = from->exit_idle;
	if (from->speeds != -1)
		ms->speeds = from->speeds;
}

/* Set one usbmuxd setting. Returns 0, or -1 with *cause allocated. */
static int
mux_settings_set(struct mux_settings *ms, const char *key, const char *val,
    char **cause)
{
	int	*flag, yes;

	if (strcmp(key, "speeds") == 0) {
		if (strcmp(val, "1.1.1") == 0)
			ms->speeds = MUX_SPEEDS_111;
		else if (strcmp(val, "upstream") == 0)
			ms->speeds = MUX_SPEEDS_UPSTREAM;
		else {
			xasprintf(cause, "speeds=%s: expected 1.1.1 or "
			    "upstream", val);
			return (-1);
		}
		return (0);
	}
	if (strcmp(key, "preflight") == 0)
		flag = &ms->preflight;
	else if (strcmp(key, "exit") == 0)
		flag = &ms->exit_idle;
	else {
		xasprintf(cause, "unknown usbmuxd key %s; the keys are "
		    "preflight, exit and speeds", key);
		return (-1);
	}
	if (strcmp(val, "yes") == 0)
		yes = 1;
	else if (strcmp(val, "no") == 0)
		yes = 0;
	else {
		xasprintf(cause, "%s=%s: expected yes or no", key, val);
		return (-1);
	}
	*flag = yes;
	return (0);
}

/* Apply "KEY=VALUE ..." (blanks or commas between) to ms. */
int
mux_settings_parse(struct mux_settings *ms, const char *text, char **cause)
{
	struct mux_settings	 copy = *ms;
	char			*buf, *p, *word, *eq;
	int			 rc = 0;

	p = buf = xstrdup(text);
	while (rc == 0 && (word = strsep(&p, " \t,")) != NULL) {
		if (*word == '\0')
			continue;
		if ((eq = strchr(word, '=')) == NULL || eq == word ||
		    eq[1] == '\0') {
			xasprintf(cause, "\"%s\" is not KEY=VALUE", word);
			rc = -1;
			break;
		}
		*eq = '\0';
		rc = mux_settings_set(&copy, word, eq + 1, cause);
	}
	free(buf);
	if (rc == 0)
		*ms = copy;
	return (rc);
}

/* Parse "usbmuxd KEY=VALUE ...": how the simulated usbmuxd behaves. */
static int
scn_stmt_usbmuxd(struct scn_parser *p, struct scn_words *ws)
{
	char	*key, *val, *msg;
	size_t	 i;

	if (p->usbmuxd_line != 0)
		return (scn_error(p, p->line, "usbmuxd is already given at "
		    "line %d; give it once", p->usbmuxd_line));
	if (ws->n < 2)
		return (scn_error(p, p->line, "usbmuxd takes settings: "
		    "usbmuxd [preflight=yes|no] [exit=yes|no] "
		    "[speeds=1.1.1|upstream]"));
	for (i = 1; i < ws->n; i++) {
		if (scn_keyval(ws, 1, i, &key, &val, &msg) != 0 ||
		    mux_settings_set(&p->scn->mux, key, val, &msg) != 0)
			return (scn_error_take(p, p->line, msg));
	}
	p->usbmuxd_line = p->line;
	return (0);
}

/* Parse "device NAME [KEY=VALUE ...]". */
static int
scn_stmt_device(struct scn_parser *p, struct scn_words *ws)
{
	struct scn_device	*d;
	const struct fault_key	*fk;
	char			*key, *val, *msg;
	const char		*errstr;
	long long		 n;
	size_t			 i;
	int			 major;
	enum hostile_kind	 hk;

	if (scn_check_name(p, ws, "device", "device NAME [udid=U] "
	    "[name=\"Device Name\"] [product=P] [version=V] [trust=T] "
	    "[max-speed=S] [hostile=KIND] [FAULT-KEY=VALUE ...]") != 0)
		return (-1);
	d = xcalloc(1, sizeof(*d));
	d->name = xstrdup(ws->w[1].text);
	d->trust = SIM_TRUST_PAIRED;
	d->max_speed_mbps = 480;
	TAILQ_INSERT_TAIL(&p->scn->devices, d, entry);
	if (scn_declare(p, SCN_KIND_DEVICE, d->name, NULL) != 0)
		return (-1);

	for (i = 2; i < ws->n; i++) {
		if (scn_keyval(ws, 2, i, &key, &val, &msg) != 0)
			return (scn_error_take(p, p->line, msg));
		if (strcmp(key, "udid") == 0) {
			if (!scn_udid_ok(val))
				return (scn_error(p, p->line, "bad udid %s: "
				    "expected 8 and 16 letters or digits "
				    "joined by '-' (00008030-001A1C3E0A38802E) "
				    "or 40 hex digits", val));
			d->udid = xstrdup(val);
		} else if (strcmp(key, "name") == 0)
			d->device_name = xstrdup(val);
		else if (strcmp(key, "product") == 0) {
			if (!scn_product_ok(val))
				return (scn_error(p, p->line, "bad product "
				    "\"%s\": expected a ProductType such as "
				    "iPhone12,1", val));
			d->product_type = xstrdup(val);
		} else if (strcmp(key, "version") == 0) {
			if ((major = scn_version(val)) == -1)
				return (scn_error(p, p->line, "bad version "
				    "\"%s\": expected MAJOR.MINOR[.PATCH] "
				    "such as 17.4", val));
			if (major < SCN_VERSION_MIN)
				return (scn_error(p, p->line, "version %s is "
				    "too old: iOS %d or later is simulated",
				    val, SCN_VERSION_MIN));
			d->version = xstrdup(val);
		} else if (strcmp(key, "trust") == 0) {
			if (strcmp(val, "paired") == 0)
				d->trust = SIM_TRUST_PAIRED;
			else if (strcmp(val, "unpaired") == 0)
				d->trust = SIM_TRUST_UNPAIRED;
			else if (strcmp(val, "locked") == 0)
				d->trust = SIM_TRUST_LOCKED;
			else
				return (scn_error(p, p->line, "trust=%s: "
				    "expected paired, unpaired or locked",
				    val));
		} else if (strcmp(key, "max-speed") == 0) {
			n = strtonum(val, 0, INT_MAX, &errstr);
			if (errstr != NULL ||
			    (n != 480 && n != 5000 && n != 10000))
				return (scn_error(p, p->line, "max-speed=%s: "
				    "expected %s (Mb/s)", val,
				    SCN_MAX_SPEEDS));
			d->max_speed_mbps = (int)n;
		} else if (strcmp(key, "hostile") == 0) {
			if (hostile_parse(val, &hk, &msg) != 0)
				return (scn_error_take(p, p->line, msg));
			d->hostile = (int)hk;
		} else if ((fk = fault_key_find(key)) != NULL) {
			/* The phone's own connector: it follows the phone. */
			if (fault_set(&d->fault, fk, val, &msg) != 0)
				return (scn_error_take(p, p->line, msg));
		} else
			return (scn_unknown_key(p, "device", key, "udid, "
			    "name, product, version, trust, max-speed, hostile",
			    1));
	}
	if (d->udid != NULL &&
	    scn_declare(p, SCN_KIND_UDID, d->udid, d->name) != 0)
		return (-1);
	return (0);
}

/* Parse "port NAME path=P [KEY=VALUE ...]". */
static int
scn_stmt_port(struct scn_parser *p, struct scn_words *ws)
{
	struct scn_port		*pt;
	const struct fault_key	*fk;
	char			*key, *val, *msg;
	const char		*errstr, *why;
	long long		 n;
	size_t			 i;
	int			 dots = 0, depth = -1;

	if (scn_check_name(p, ws, "port", "port NAME path=BUS-PORT[.PORT...] "
	    "[label=L] [hub-depth=N] [FAULT-KEY=VALUE ...]") != 0)
		return (-1);
	pt = xcalloc(1, sizeof(*pt));
	pt->name = xstrdup(ws->w[1].text);
	TAILQ_INSERT_TAIL(&p->scn->ports, pt, entry);
	if (scn_declare(p, SCN_KIND_PORT, pt->name, NULL) != 0)
		return (-1);

	for (i = 2; i < ws->n; i++) {
		if (scn_keyval(ws, 2, i, &key, &val, &msg) != 0)
			return (scn_error_take(p, p->line, msg));
		if (strcmp(key, "path") == 0) {
			if ((dots = scn_path(val, &why)) == -1)
				return (scn_error(p, p->line, "bad path %s: "
				    "%s; expected BUS-PORT[.PORT...] such as "
				    "1-4.2", val, why));
			pt->path = xstrdup(val);
		} else if (strcmp(key, "label") == 0)
			pt->label = xstrdup(val);
		else if (strcmp(key, "hub-depth") == 0) {
			n = strtonum(val, 0, SCN_PATH_PORTS - 1, &errstr);
			if (errstr != NULL)
				return (scn_error(p, p->line, "hub-depth=%s: "
				    "expected a number from 0 to %d", val,
				    SCN_PATH_PORTS - 1));
			depth = (int)n;
		} else if ((fk = fault_key_find(key)) != NULL) {
			if (fault_set(&pt->fault, fk, val, &msg) != 0)
				return (scn_error_take(p, p->line, msg));
		} else
			return (scn_unknown_key(p, "port", key, "path, label, "
			    "hub-depth", 1));
	}
	if (pt->path == NULL)
		return (scn_error(p, p->line, "port %s has no path: add "
		    "path=BUS-PORT[.PORT...] such as path=1-4.2", pt->name));
	pt->hub_depth = depth != -1 ? depth : dots;
	return (scn_declare(p, SCN_KIND_PATH, pt->path, pt->name));
}

/* Parse "cable NAME [label=L] [KEY=VALUE ...]". */
static int
scn_stmt_cable(struct scn_parser *p, struct scn_words *ws)
{
	struct scn_cable	*c;
	const struct fault_key	*fk;
	char			*key, *val, *msg;
	size_t			 i;

	if (scn_check_name(p, ws, "cable", "cable NAME [label=L] "
	    "[FAULT-KEY=VALUE ...]") != 0)
		return (-1);
	c = xcalloc(1, sizeof(*c));
	c->name = xstrdup(ws->w[1].text);
	TAILQ_INSERT_TAIL(&p->scn->cables, c, entry);
	if (scn_declare(p, SCN_KIND_CABLE, c->name, NULL) != 0)
		return (-1);

	for (i = 2; i < ws->n; i++) {
		if (scn_keyval(ws, 2, i, &key, &val, &msg) != 0)
			return (scn_error_take(p, p->line, msg));
		if (strcmp(key, "label") == 0)
			c->label = xstrdup(val);
		else if ((fk = fault_key_find(key)) != NULL) {
			if (fault_set(&c->fault, fk, val, &msg) != 0)
				return (scn_error_take(p, p->line, msg));
		} else
			return (scn_unknown_key(p, "cable", key, "label", 1));
	}
	return (0);
}

/*
 * Parse a time: a number and a unit, ms, s, m or h. Returns 0, or -1
 * with *cause set.
 */
static int
scn_time(const char *s, int64_t *us, char **cause)
{
	const char	*unit;
	char		*num;
	double		 v, mult;
	int		 rc;

	if (*s == '-') {
		(void)xasprintf(cause, "time %s is negative; times count "
		    "from the start, such as 0s or 1.5s", s);
		return (-1);
	}
	unit = s + strspn(s, "0123456789.");
	num = xstrndup(s, (size_t)(unit - s));
	rc = scn_number(num, &v);
	free(num);
	if (rc != 0) {
		(void)xasprintf(cause, "bad time %s: expected a number and a "
		    "unit, such as 250ms, 1.5s, 2m or 1h", s);
		return (-1);
	}
	if (*unit == '\0') {
		(void)xasprintf(cause, "time %s has no unit: write %sms, %ss, "
		    "%sm or %sh", s, s, s, s, s);
		return (-1);
	}
	if (strcmp(unit, "ms") == 0)
		mult = (double)LQ_USEC_PER_MSEC;
	else if (strcmp(unit, "s") == 0)
		mult = (double)LQ_USEC_PER_SEC;
	else if (strcmp(unit, "m") == 0)
		mult = 60.0 * (double)LQ_USEC_PER_SEC;
	else if (strcmp(unit, "h") == 0)
		mult = 3600.0 * (double)LQ_USEC_PER_SEC;
	else {
		(void)xasprintf(cause, "bad time %s: unknown unit \"%s\"; "
		    "the units are ms, s, m and h", s, unit);
		return (-1);
	}
	v *= mult;
	if (v > (double)SCN_TIME_MAX_US) {
		(void)xasprintf(cause, "time %s is too late: at most 8760h "
		    "(one year)", s);
		return (-1);
	}
	*us = (int64_t)(v + 0.5);
	return (0);
}

/* Insert ev after every event at the same time or earlier. */
static void
scn_insert_event(struct scn_parser *p, struct scn_event *ev)
{
	struct scn_event	*e;

	if (p->tail == NULL || p->tail->at_us <= ev->at_us) {
		TAILQ_INSERT_TAIL(&p->scn->events, ev, entry);
		p->tail = ev;
		return;
	}
	TAILQ_FOREACH(e, &p->scn->events, entry) {
		if (e->at_us > ev->at_us) {
			TAILQ_INSERT_BEFORE(e, ev, entry);
			return;
		}
	}
}

/* Parse "at TIME ACTION ..."; raw is the line, for fault parameters. */
static int
scn_stmt_at(struct scn_parser *p, struct scn_words *ws, const char *raw)
{
	struct scn_event	*ev;
	struct fault		 scratch;
	const char		*action;
	char			*msg, *params;
	int64_t			 at_us;

	if (ws->n < 3)
		return (scn_error(p, p->line, "at needs a time and an action: "
		    "at TIME plug|unplug|fault|trust|mode|flex|hc-died|"
		    "hc-recover|over-current|hub-reset ..."));
	if (scn_time(ws->w[1].text, &at_us, &msg) != 0)
		return (scn_error_take(p, p->line, msg));
	action = ws->w[2].text;

	ev = xcalloc(1, sizeof(*ev));
	ev->at_us = at_us;
	ev->line = p->line;
	if (strcmp(action, "plug") == 0) {
		if (ws->n != 6)
			goto usage;
		ev->action = SCN_PLUG;
		ev->device = xstrdup(ws->w[3].text);
		ev->port = xstrdup(ws->w[4].text);
		ev->cable = xstrdup(ws->w[5].text);
	} else if (strcmp(action, "unplug") == 0) {
		if (ws->n != 4)
			goto usage;
		ev->action = SCN_UNPLUG;
		ev->device = xstrdup(ws->w[3].text);
	} else if (strcmp(action, "trust") == 0) {
		if (ws->n != 5)
			goto usage;
		ev->action = SCN_TRUST;
		ev->device = xstrdup(ws->w[3].text);
		if (strcmp(ws->w[4].text, "accept") == 0)
			ev->accept = 1;
		else if (strcmp(ws->w[4].text, "deny") != 0) {
			free(ev->device);
			free(ev);
			return (scn_error(p, p->line, "trust %s: expected "
			    "accept or deny", ws->w[4].text));
		}
	} else if (strcmp(action, "mode") == 0) {
		if (ws->n != 5)
			goto usage;
		ev->action = SCN_MODE;
		if (sim_mode_parse(ws->w[4].text, &ev->mode) == -1) {
			free(ev);
			return (scn_error(p, p->line, "mode %s: expected "
			    "normal, recovery or dfu", ws->w[4].text));
		}
		ev->device = xstrdup(ws->w[3].text);
	} else if (strcmp(action, "fault") == 0) {
		if (ws->n < 5)
			goto usage;
		params = xstrndup(raw + ws->w[4].start,
		    ws->w[ws->n - 1].end - ws->w[4].start);
		memset(&scratch, 0, sizeof(scratch));
		if (fault_parse(&scratch, params, &msg) != 0) {
			free(params);
			free(ev);
			return (scn_error_take(p, p->line, msg));
		}
		ev->action = SCN_FAULT;
		ev->target = xstrdup(ws->w[3].text);
		ev->params = params;
	} else if (strcmp(action, "flex") == 0 ||
	    strcmp(action, "hc-died") == 0 ||
	    strcmp(action, "hc-recover") == 0 ||
	    strcmp(action, "over-current") == 0 ||
	    strcmp(action, "hub-reset") == 0) {
		if (scn_stmt_at_host(p, ws, ev) != 0) {
			free(ev);
			return (-1);
		}
	} else {
		free(ev);
		return (scn_error(p, p->line, "unknown action \"%s\"; the "
		    "actions are plug, unplug, fault, trust, mode, flex, "
		    "hc-died, hc-recover, over-current and hub-reset",
		    action));
	}
	scn_insert_event(p, ev);
	return (0);

usage:
	free(ev);
	if (strcmp(action, "plug") == 0)
		return (scn_error(p, p->line, "plug takes three names: at "
		    "TIME plug DEVICE PORT CABLE"));
	if (strcmp(action, "unplug") == 0)
		return (scn_error(p, p->line, "unplug takes one name: at TIME "
		    "unplug DEVICE"));
	if (strcmp(action, "trust") == 0)
		return (scn_error(p, p->line, "trust takes a device and an "
		    "answer: at TIME trust DEVICE accept|deny"));
	if (strcmp(action, "mode") == 0)
		return (scn_error(p, p->line, "mode takes a device and a "
		    "mode: at TIME mode DEVICE normal|recovery|dfu"));
	return (scn_error(p, p->line, "fault takes a port, cable, device "
	    "or hub and parameters: at TIME fault PORT|CABLE|DEVICE|HUB "
	    "KEY=VALUE ..."));
}

/* Whether s names a hub: a port path ("1-4") or a root hub ("usb1"). */
static int
scn_hub_ok(const char *s)
{
	const char	*why;

	if (strncmp(s, "usb", 3) == 0) {
		s += 3;
		return (scn_small_number(&s, SCN_BUS_MAX) >= 1 && *s == '\0');
	}
	return (scn_path(s, &why) != -1);
}

/*
 * Parse the actions that hit the host's side or wiggle a cable:
 *	flex CABLE DURATION [FACTOR]
 *	hc-died BUS, hc-recover BUS
 *	over-current PORT|HUB, hub-reset HUB
 * Names are checked later (scn_event_names), like every event's.
 */
static int
scn_stmt_at_host(struct scn_parser *p, struct scn_words *ws,
    struct scn_event *ev)
{
	const char	*action = ws->w[2].text, *errstr;
	char		*msg;
	double		 v;

	if (strcmp(action, "flex") == 0) {
		if (ws->n != 5 && ws->n != 6)
			return (scn_error(p, p->line, "flex takes a cable, a "
			    "duration and maybe a factor: at TIME flex CABLE "
			    "DURATION [FACTOR], such as flex A-02 10s 50"));
		if (scn_time(ws->w[4].text, &ev->dur_us, &msg) != 0)
			return (scn_error_take(p, p->line, msg));
		if (ev->dur_us <= 0)
			return (scn_error(p, p->line, "flex %s: the duration "
			    "must be more than 0", ws->w[4].text));
		ev->factor = SCN_FLEX_FACTOR;
		if (ws->n == 6) {
			if (scn_number(ws->w[5].text, &v) != 0 || v < 1 ||
			    v > SCN_FLEX_FACTOR_MAX)
				return (scn_error(p, p->line, "flex factor %s: "
				    "expected a number from 1 to %.0f",
				    ws->w[5].text, SCN_FLEX_FACTOR_MAX));
			ev->factor = v;
		}
		ev->action = SCN_FLEX;
		ev->target = xstrdup(ws->w[3].text);
		return (0);
	}
	if (strcmp(action, "hc-died") == 0 ||
	    strcmp(action, "hc-recover") == 0) {
		if (ws->n != 4)
			return (scn_error(p, p->line, "%s takes a bus number: "
			    "at TIME %s BUS", action, action));
		ev->bus = (int)strtonum(ws->w[3].text, 1, SCN_BUS_MAX,
		    &errstr);
		if (errstr != NULL)
			return (scn_error(p, p->line, "%s %s: expected a bus "
			    "number from 1 to %d", action, ws->w[3].text,
			    SCN_BUS_MAX));
		ev->action = action[3] == 'd' ? SCN_HC_DIED : SCN_HC_RECOVER;
		return (0);
	}
	if (ws->n != 4)
		return (scn_error(p, p->line, "%s takes one %s: at TIME %s %s",
		    action, action[0] == 'o' ? "port or hub" : "hub", action,
		    action[0] == 'o' ? "PORT|HUB" : "HUB"));
	if (strcmp(action, "hub-reset") == 0 && !scn_hub_ok(ws->w[3].text))
		return (scn_error(p, p->line, "hub-reset %s: expected a hub "
		    "as a port path such as 1-4, or a root hub such as usb1",
		    ws->w[3].text));
	ev->action = action[0] == 'o' ? SCN_OVER_CURRENT : SCN_HUB_RESET;
	ev->target = xstrdup(ws->w[3].text);
	return (0);
}

/* Parse one line of len bytes. */
static int
scn_line(struct scn_parser *p, const char *s, size_t len)
{
	struct scn_words	 ws;
	const char		*stmt;
	char			*msg;
	int			 rc;

	if (len > 0 && s[len - 1] == '\r')
		len--;
	if (len > SCN_LINE_MAX)
		return (scn_error(p, p->line, "line is %zu bytes long; at most "
		    "%d are allowed", len, SCN_LINE_MAX));
	if (scn_split(&ws, s, len, &msg) != 0) {
		scn_words_free(&ws);
		return (scn_error_take(p, p->line, msg));
	}
	if (ws.n == 0) {
		scn_words_free(&ws);
		return (0);
	}
	stmt = ws.w[0].text;
	if (strcmp(stmt, "seed") == 0)
		rc = scn_stmt_seed(p, &ws);
	else if (strcmp(stmt, "device") == 0)
		rc = scn_stmt_device(p, &ws);
	else if (strcmp(stmt, "port") == 0)
		rc = scn_stmt_port(p, &ws);
	else if (strcmp(stmt, "cable") == 0)
		rc = scn_stmt_cable(p, &ws);
	else if (strcmp(stmt, "at") == 0)
		rc = scn_stmt_at(p, &ws, s);
	else if (strcmp(stmt, "usbmuxd") == 0)
		rc = scn_stmt_usbmuxd(p, &ws);
	else
		rc = scn_error(p, p->line, "unknown statement \"%s\"; the "
		    "statements are seed, usbmuxd, device, port, cable and "
		    "at", stmt);
	scn_words_free(&ws);
	return (rc);
}

/*
 * Look up name as a kind the event needs. Returns it, or NULL with *msg
 * set (naming the kind the name has, if it has another).
 */
static struct scn_decl *
scn_need(struct scn_parser *p, enum scn_kind kind, const char *name,
    const char *action, char **msg)
{
	struct scn_decl	*d;
	enum scn_kind	 k;

	if ((d = scn_lookup(p, kind, name)) != NULL)
		return (d);
	for (k = SCN_KIND_DEVICE; k <= SCN_KIND_CABLE; k++) {
		if ((d = scn_lookup(p, k, name)) != NULL) {
			(void)xasprintf(msg, "%s: %s is a %s (line %d), not "
			    "a %s", action, name, scn_kind_names[k], d->line,
			    scn_kind_names[kind]);
			return (NULL);
		}
	}
	(void)xasprintf(msg, "%s: no %s named %s is declared; add a line "
	    "\"%s %s ...\"", action, scn_kind_names[kind], name,
	    scn_kind_names[kind], name);
	return (NULL);
}

/* Check the names one event uses. Returns NULL or a message. */
static char *
scn_event_names(struct scn_parser *p, struct scn_event *ev)
{
	struct scn_decl	*port, *cable, *dev;
	struct scn_port	*pt;
	char		*msg = NULL;

	switch (ev->action) {
	case SCN_PLUG:
		if (scn_need(p, SCN_KIND_DEVICE, ev->device, "plug",
		    &msg) == NULL ||
		    scn_need(p, SCN_KIND_PORT, ev->port, "plug",
		    &msg) == NULL ||
		    scn_need(p, SCN_KIND_CABLE, ev->cable, "plug",
		    &msg) == NULL)
			return (msg);
		break;
	case SCN_UNPLUG:
	case SCN_TRUST:
	case SCN_MODE:
		(void)scn_need(p, SCN_KIND_DEVICE, ev->device,
		    ev->action == SCN_UNPLUG ? "unplug" :
		    ev->action == SCN_TRUST ? "trust" : "mode", &msg);
		break;
	case SCN_FAULT:
		port = scn_lookup(p, SCN_KIND_PORT, ev->target);
		cable = scn_lookup(p, SCN_KIND_CABLE, ev->target);
		dev = scn_lookup(p, SCN_KIND_DEVICE, ev->target);
		if (port != NULL && cable != NULL)
			(void)xasprintf(&msg, "fault: %s is both a port (line "
			    "%d) and a cable (line %d); rename one",
			    ev->target, port->line, cable->line);
		else if (dev != NULL && (port != NULL || cable != NULL))
			(void)xasprintf(&msg, "fault: %s is both a device "
			    "(line %d) and a %s (line %d); rename one",
			    ev->target, dev->line, port != NULL ? "port" :
			    "cable", port != NULL ? port->line : cable->line);
		else if (port == NULL && cable == NULL && dev == NULL)
			msg = scn_hub_names(p, ev, "fault");
		break;
	case SCN_FLEX:
		(void)scn_need(p, SCN_KIND_CABLE, ev->target, "flex", &msg);
		break;
	case SCN_OVER_CURRENT:
		if (scn_lookup(p, SCN_KIND_PORT, ev->target) == NULL)
			msg = scn_hub_names(p, ev, "over-current");
		break;
	case SCN_HUB_RESET:
		msg = scn_hub_names(p, ev, "hub-reset");
		break;
	case SCN_HC_DIED:
	case SCN_HC_RECOVER:
		TAILQ_FOREACH(pt, &p->scn->ports, entry)
			if (strtol(pt->path, NULL, 10) == ev->bus)
				break;
		if (pt == NULL)
			(void)xasprintf(&msg, "%s: no port is on bus %d",
			    ev->action == SCN_HC_DIED ? "hc-died" :
			    "hc-recover", ev->bus);
		break;
	}
	return (msg);
}

/*
 * The target of an event that may be a hub: some declared port must be
 * below it. Returns NULL or a message.
 */
static char *
scn_hub_names(struct scn_parser *p, struct scn_event *ev,
    const char *action)
{
	struct scn_port	*pt;
	char		*msg = NULL;

	if (!scn_hub_ok(ev->target)) {
		(void)xasprintf(&msg, "%s: no %s named %s is declared, and it "
		    "is not a hub path such as 1-4 or usb1", action,
		    strcmp(action, "fault") == 0 ?
		    "port, cable or device" : "port", ev->target);
		return (msg);
	}
	TAILQ_FOREACH(pt, &p->scn->ports, entry)
		if (scn_path_under(pt->path, ev->target))
			return (NULL);
	(void)xasprintf(&msg, "%s: no declared port is below hub %s", action,
	    ev->target);
	return (msg);
}

/* Check every event's names; report the error of the earliest line. */
static int
scn_check_names(struct scn_parser *p)
{
	struct scn_event	*ev;
	char			*msg, *first = NULL;
	int			 line = 0;

	TAILQ_FOREACH(ev, &p->scn->events, entry) {
		if ((msg = scn_event_names(p, ev)) == NULL)
			continue;
		if (first == NULL || ev->line < line) {
			free(first);
			first = msg;
			line = ev->line;
		} else
			free(msg);
	}
	if (first == NULL)
		return (0);
	return (scn_error_take(p, line, first));
}

/* Play the timeline in time order; refuse what cannot happen. */
static int
scn_check_timeline(struct scn_parser *p)
{
	struct scn_event	*ev;
	struct scn_decl		*d, *port, *cable;

	TAILQ_FOREACH(ev, &p->scn->events, entry) {
		if (ev->action != SCN_PLUG && ev->action != SCN_UNPLUG)
			continue;
		d = scn_lookup(p, SCN_KIND_DEVICE, ev->device);
		if (ev->action == SCN_UNPLUG) {
			if (d->port == NULL)
				return (scn_error(p, ev->line, "unplug: "
				    "device %s is not plugged in at that time; "
				    "plug it first", d->name));
			d->port->holder = NULL;
			d->cable->holder = NULL;
			d->port = d->cable = NULL;
			continue;
		}
		port = scn_lookup(p, SCN_KIND_PORT, ev->port);
		cable = scn_lookup(p, SCN_KIND_CABLE, ev->cable);
		if (d->port != NULL)
			return (scn_error(p, ev->line, "plug: device %s is "
			    "already plugged into port %s (line %d); unplug "
			    "it first", d->name, d->port->name, d->plug_line));
		if (port->holder != NULL)
			return (scn_error(p, ev->line, "plug: port %s already "
			    "holds device %s (line %d); unplug it first",
			    port->name, port->holder->name,
			    port->holder->plug_line));
		if (cable->holder != NULL)
			return (scn_error(p, ev->line, "plug: cable %s is "
			    "already in port %s with device %s (line %d); "
			    "unplug it first", cable->name,
			    cable->holder->port->name, cable->holder->name,
			    cable->holder->plug_line));
		d->port = port;
		d->cable = cable;
		d->plug_line = ev->line;
		port->holder = cable->holder = d;
	}
	return (0);
}

/* Parse scenario text; name is used in messages. */
struct scenario *
scenario_parse(const char *text, const char *name, char **cause)
{
	struct scn_parser	 p;
	const char		*s = text, *nl;
	size_t			 len;

	memset(&p, 0, sizeof(p));
	RB_INIT(&p.decls);
	p.scn = xcalloc(1, sizeof(*p.scn));
	p.scn->file = xstrdup(name);
	mux_settings_init(&p.scn->mux);
	TAILQ_INIT(&p.scn->devices);
	TAILQ_INIT(&p.scn->ports);
	TAILQ_INIT(&p.scn->cables);
	TAILQ_INIT(&p.scn->events);

	while (*s != '\0') {
		if (p.line == INT_MAX) {
			(void)scn_error(&p, p.line, "too many lines");
			goto fail;
		}
		p.line++;
		nl = strchr(s, '\n');
		len = nl != NULL ? (size_t)(nl - s) : strlen(s);
		if (scn_line(&p, s, len) != 0)
			goto fail;
		if (nl == NULL)
			break;
		s = nl + 1;
	}
	if (scn_check_names(&p) != 0 || scn_check_timeline(&p) != 0)
		goto fail;
	scn_decls_free(&p);
	return (p.scn);

fail:
	scn_decls_free(&p);
	scenario_free(p.scn);
	if (cause != NULL)
		*cause = p.cause;
	else
		free(p.cause);
	return (NULL);
}

/* Read and parse a scenario file. */
struct scenario *
scenario_load(const char *path, char **cause)
{
	struct scenario	*scn = NULL;
	FILE		*fp;
	char		*buf, *nul, *msg = NULL;
	size_t		 len = 0, size = 8192, n, i;
	int		 line;

	if ((fp = fopen(path, "r")) == NULL) {
		(void)xasprintf(&msg, "%s: %s", path, strerror(errno));
		goto out;
	}
	buf = xmalloc(size);
	for (;;) {
		if (len == size - 1) {
			buf = xreallocarray(buf, size, 2);
			size *= 2;
		}
		if ((n = fread(buf + len, 1, size - 1 - len, fp)) == 0)
			break;
		len += n;
		if (len > SCN_FILE_MAX) {
			(void)xasprintf(&msg, "%s: larger than %d bytes; is "
			    "this a scenario file?", path, SCN_FILE_MAX);
			goto done;
		}
	}
	if (ferror(fp)) {
		(void)xasprintf(&msg, "%s: %s", path, strerror(errno));
		goto done;
	}
	buf[len] = '\0';
	if ((nul = memchr(buf, '\0', len)) != NULL) {
		line = 1;
		for (i = 0; buf + i < nul; i++)
			line += buf[i] == '\n';
		(void)xasprintf(&msg, "%s:%d: a NUL byte: this is not a text "
		    "file", path, line);
		goto done;
	}
	scn = scenario_parse(buf, path, &msg);

done:
	free(buf);
	(void)fclose(fp);
out:
	if (cause != NULL)
		*cause = msg;
	else
		free(msg);
	return (scn);
}

/* Free a scenario; NULL is allowed. */
void
scenario_free(struct scenario *scn)
{
	struct scn_device	*d;
	struct scn_port		*pt;
	struct scn_cable	*c;
	struct scn_event	*ev;

	if (scn == NULL)
		return;
	while ((d = TAILQ_FIRST(&scn->devices)) != NULL) {
		TAILQ_REMOVE(&scn->devices, d, entry);
		free(d->name);
		free(d->udid);
		free(d->device_name);
		free(d->product_type);
		free(d->version);
		free(d);
	}
	while ((pt = TAILQ_FIRST(&scn->ports)) != NULL) {
		TAILQ_REMOVE(&scn->ports, pt, entry);
		free(pt->name);
		free(pt->path);
		free(pt->label);
		free(pt);
	}
	while ((c = TAILQ_FIRST(&scn->cables)) != NULL) {
		TAILQ_REMOVE(&scn->cables, c, entry);
		free(c->name);
		free(c->label);
		free(c);
	}
	while ((ev = TAILQ_FIRST(&scn->events)) != NULL) {
		TAILQ_REMOVE(&scn->events, ev, entry);
		free(ev->device);
		free(ev->port);
		free(ev->cable);
		free(ev->target);
		free(ev->params);
		free(ev);
	}
	free(scn->file);
	free(scn);
}
