/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The device's USB mux counters from its syslog (contract in devlog.h).
 * Lines are matched by their fixed words, strictly: a line that is
 * almost one of ours is not read at all rather than read wrong.
 */

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "devlog.h"

#define DEVLOG_STATS_PREFIX	"AppleUSBDeviceMux::reportStats:"
#define DEVLOG_MUX_PREFIX	"USB mux: "
#define DEVLOG_DUP_TEXT		"detected duplicate packet"
#define DEVLOG_MUX_DRIVER	"AppleUSBDeviceMux"

/* Skip the literal lit at *p; 1 if it was there. */
static int
devlog_lit(const char **p, const char *lit)
{
	size_t	n = strlen(lit);

	if (strncmp(*p, lit, n) != 0)
		return (0);
	*p += n;
	return (1);
}

/* A decimal number at *p that fits in 64 bits; 1 if there was one. */
static int
devlog_num(const char **p, uint64_t *v)
{
	const char	*s = *p;
	uint64_t	 n = 0;
	unsigned int	 d;

	if (*s < '0' || *s > '9')
		return (0);
	for (; *s >= '0' && *s <= '9'; s++) {
		d = (unsigned int)(*s - '0');
		if (n > (UINT64_MAX - d) / 10)
			return (0);
		n = n * 10 + d;
	}
	*v = n;
	*p = s;
	return (1);
}

/* Whether only blanks are left at p. */
static int
devlog_end(const char *p)
{
	return (p[strspn(p, " \t")] == '\0');
}

/*
 * Find the message of a syslog_relay line, after "<process> <Level>: ",
 * and the process token. 0 if the line has no such head.
 */
static int
devlog_split(char *line, const char **proc, const char **msg)
{
	char	*lt, *gt, *sp;

	for (lt = strchr(line, '<'); lt != NULL; lt = strchr(lt + 1, '<')) {
		if (lt == line || lt[-1] != ' ')
			continue;
		gt = lt + 1;
		while ((*gt >= 'A' && *gt <= 'Z') || (*gt >= 'a' &&
		    *gt <= 'z'))
			gt++;
		if (gt == lt + 1 || gt[0] != '>' || gt[1] != ':' ||
		    gt[2] != ' ')
			continue;
		lt[-1] = '\0';
		sp = strrchr(line, ' ');
		*proc = sp != NULL ? sp + 1 : line;
		*msg = gt + 3;
		return (1);
	}
	return (0);
}

/* The one-line form after "reportStats: ". */
static int
devlog_parse_stats(const char *p, struct devlog_stats *s)
{
	if (devlog_lit(&p, "USB2.0 "))
		s->usb = 2;
	else if (devlog_lit(&p, "USB3.0 "))
		s->usb = 3;
	else
		return (0);
	return (devlog_lit(&p, "reads ") && devlog_num(&p, &s->reads) &&
	    devlog_lit(&p, ", errors ") && devlog_num(&p, &s->read_errors) &&
	    devlog_lit(&p, "; writes ") && devlog_num(&p, &s->writes) &&
	    devlog_lit(&p, ", errors ") && devlog_num(&p, &s->write_errors) &&
	    devlog_lit(&p, "; duplicate packets ") &&
	    devlog_num(&p, &s->duplicates) && devlog_end(p));
}

/* "R reads / RE errors, W writes / WE errors" after "USB mux: ". */
static int
devlog_parse_rw(const char *p, struct devlog_stats *s)
{
	return (devlog_num(&p, &s->reads) && devlog_lit(&p, " reads / ") &&
	    devlog_num(&p, &s->read_errors) && devlog_lit(&p, " errors, ") &&
	    devlog_num(&p, &s->writes) && devlog_lit(&p, " writes / ") &&
	    devlog_num(&p, &s->write_errors) && devlog_lit(&p, " errors") &&
	    devlog_end(p));
}

/* "S short packets, D dups" after "USB mux: ". */
static int
devlog_parse_packets(const char *p, struct devlog_stats *s)
{
	if (!devlog_num(&p, &s->short_packets) ||
	    !devlog_lit(&p, " short packets, ") ||
	    !devlog_num(&p, &s->duplicates) || !devlog_lit(&p, " dups") ||
	    !devlog_end(p))
		return (0);
	s->has_short = 1;
	return (1);
}

/* "detected duplicate packet. Expected E received R", numbers optional. */
static void
devlog_parse_dup(const char *msg, struct devlog_line *l)
{
	const char	*p;

	if ((p = strstr(msg, "Expected ")) == NULL)
		return;
	p += strlen("Expected ");
	if (devlog_num(&p, &l->expected) && devlog_lit(&p, " received ") &&
	    devlog_num(&p, &l->received))
		l->has_seq = 1;
	else
		l->expected = 0;
}

/* Parse one line. */
enum devlog_kind
devlog_parse(const char *text, size_t len, struct devlog_line *l)
{
	char		 line[DEVLOG_LINE_MAX];
	const char	*proc, *msg, *p;

	memset(l, 0, sizeof(*l));
	l->kind = DEVLOG_NONE;
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	if (len >= sizeof(line))
		return (l->kind);
	memcpy(line, text, len);
	line[len] = '\0';
	if (!devlog_split(line, &proc, &msg))
		return (l->kind);
	/* "kernel[0]", or "kernel(AppleUSBDeviceMux)[0]" in newer logs. */
	if (strncmp(proc, "kernel", 6) != 0 ||
	    (proc[6] != '[' && proc[6] != '('))
		return (l->kind);

	p = msg;
	if (devlog_lit(&p, DEVLOG_STATS_PREFIX)) {
		p += strspn(p, " ");
		if (devlog_lit(&p, "USB mux statistics:") && devlog_end(p))
			l->kind = DEVLOG_STATS_HEAD;
		else if (devlog_parse_stats(p, &l->stats))
			l->kind = DEVLOG_STATS;
	} else if (devlog_lit(&p, DEVLOG_MUX_PREFIX)) {
		if (devlog_parse_rw(p, &l->stats))
			l->kind = DEVLOG_STATS_RW;
		else {
			memset(&l->stats, 0, sizeof(l->stats));
			if (devlog_parse_packets(p, &l->stats))
				l->kind = DEVLOG_STATS_PACKETS;
			else
				memset(&l->stats, 0, sizeof(l->stats));
		}
	} else if (strstr(msg, DEVLOG_DUP_TEXT) != NULL &&
	    (strstr(proc, DEVLOG_MUX_DRIVER) != NULL ||
	    strstr(msg, DEVLOG_MUX_DRIVER) != NULL)) {
		l->kind = DEVLOG_DUPLICATE;
		devlog_parse_dup(msg, l);
	}
	if (l->kind == DEVLOG_NONE)
		memset(&l->stats, 0, sizeof(l->stats));
	return (l->kind);
}

/* Forget any partial line. */
void
devlog_reset(struct devlog *d)
{
	memset(d, 0, sizeof(*d));
}

/* One whole line of the stream. */
static void
devlog_line(struct devlog *d, struct devlog_found *f)
{
	struct devlog_line	l;

	switch (devlog_parse(d->line, d->len, &l)) {
	case DEVLOG_STATS:
		f->stats = l.stats;
		f->nstats++;
		d->stage = 0;
		break;
	case DEVLOG_STATS_HEAD:
		memset(&d->part, 0, sizeof(d->part));
		d->stage = 1;
		break;
	case DEVLOG_STATS_RW:
		if (d->stage != 1)
			break;
		d->part.reads = l.stats.reads;
		d->part.read_errors = l.stats.read_errors;
		d->part.writes = l.stats.writes;
		d->part.write_errors = l.stats.write_errors;
		d->stage = 2;
		break;
	case DEVLOG_STATS_PACKETS:
		if (d->stage != 2)
			break;
		d->part.short_packets = l.stats.short_packets;
		d->part.duplicates = l.stats.duplicates;
		d->part.has_short = 1;
		f->stats = d->part;
		f->nstats++;
		d->stage = 0;
		break;
	case DEVLOG_DUPLICATE:
		if (f->ndups++ == 0)
			f->dup = l;
		break;
	case DEVLOG_NONE:
		break;
	}
}

/* Feed bytes of the stream. */
void
devlog_input(struct devlog *d, const char *buf, size_t len,
    struct devlog_found *f)
{
	size_t	i;
	char	c;

	f->bytes += len;
	for (i = 0; i < len; i++) {
		c = buf[i];
		if (c == '\0' || c == '\n') {
			if (!d->overlong && d->len > 0)
				devlog_line(d, f);
			d->len = 0;
			d->overlong = 0;
		} else if (d->overlong)
			continue;
		else if (d->len + 1 < sizeof(d->line))
			d->line[d->len++] = c;
		else
			d->overlong = 1;
	}
}

/* Whether any counter of s is below that of last: they restarted. */
static int
devlog_went_back(const struct devlog_stats *last,
    const struct devlog_stats *s)
{
	return (s->reads < last->reads ||
	    s->read_errors < last->read_errors ||
	    s->writes < last->writes ||
	    s->write_errors < last->write_errors ||
	    s->duplicates < last->duplicates ||
	    (s->has_short && last->has_short &&
	    s->short_packets < last->short_packets));
}

/* " (+n)" of one counter against the first sample, or "". */
static const char *
devlog_delta(char *buf, size_t size, const struct devlog_stats *base,
    uint64_t now, uint64_t then)
{
	if (base == NULL)
		return ("");
	(void)snprintf(buf, size, " (+%" PRIu64 ")", now - then);
	return (buf);
}

/*
 * "what: USB2.0 reads R (+r), read errors ...": the counters of s and,
 * with base, their growth since it.
 */
static void
devlog_format(struct devlog_event *ev, const char *kind, const char *what,
    const struct devlog_stats *s, const struct devlog_stats *base)
{
	char	d[6][32], shorts[64];

	shorts[0] = '\0';
	if (s->has_short)
		(void)snprintf(shorts, sizeof(shorts), ", short packets %"
		    PRIu64 "%s", s->short_packets, devlog_delta(d[5],
		    sizeof(d[5]), base != NULL && base->has_short ? base :
		    NULL, s->short_packets, base != NULL ?
		    base->short_packets : 0));
	ev->kind = kind;
	(void)snprintf(ev->detail, sizeof(ev->detail), "%s: %sreads %" PRIu64
	    "%s, read errors %" PRIu64 "%s, writes %" PRIu64 "%s, write "
	    "errors %" PRIu64 "%s, duplicate packets %" PRIu64 "%s%s", what,
	    s->usb == 3 ? "USB3.0 " : s->usb == 2 ? "USB2.0 " : "",
	    s->reads, devlog_delta(d[0], sizeof(d[0]), base, s->reads,
	    base != NULL ? base->reads : 0),
	    s->read_errors, devlog_delta(d[1], sizeof(d[1]), base,
	    s->read_errors, base != NULL ? base->read_errors : 0),
	    s->writes, devlog_delta(d[2], sizeof(d[2]), base, s->writes,
	    base != NULL ? base->writes : 0),
	    s->write_errors, devlog_delta(d[3], sizeof(d[3]), base,
	    s->write_errors, base != NULL ? base->write_errors : 0),
	    s->duplicates, devlog_delta(d[4], sizeof(d[4]), base,
	    s->duplicates, base != NULL ? base->duplicates : 0), shorts);
}

/*
 * Take one read's findings. Only growth of the error and duplicate
 * counters makes an event between the first sample and the end of the
 * run: reads and writes grow with every transfer, and a sample every
 * few seconds of a long run would bury everything else in the log.
 */
int
devlog_track(struct devlog_track *t, const struct devlog_found *f,
    struct devlog_event *ev)
{
	const struct devlog_stats	*s = &f->stats;
	const struct devlog_line	*dup = &f->dup;
	char				 more[48];
	int				 n = 0, grew;

	if (f->nstats > 0) {
		if (t->samples == 0) {
			t->base = t->last = *s;
			t->samples = 1;
			devlog_format(&ev[n++], DEVLOG_KIND_STATS,
			    "first sample", s, NULL);
		} else if (devlog_went_back(&t->last, s)) {
			t->restarts++;
			t->base = t->last = *s;
			t->samples = 1;
			devlog_format(&ev[n++], DEVLOG_KIND_STATS,
			    "the counters went back (the device restarted "
			    "them); new first sample", s, NULL);
		} else {
			grew = s->read_errors > t->last.read_errors ||
			    s->write_errors > t->last.write_errors ||
			    s->duplicates > t->last.duplicates;
			t->last = *s;
			t->samples++;
			if (grew)
				devlog_format(&ev[n++], DEVLOG_KIND_ERRORS,
				    "errors grew", s, &t->base);
		}
	}
	if (f->ndups > 0) {
		t->dups += f->ndups;
		more[0] = '\0';
		if (f->ndups > 1)
			(void)snprintf(more, sizeof(more), " (%u such lines)",
			    f->ndups);
		ev[n].kind = DEVLOG_KIND_ERRORS;
		if (dup->has_seq)
			(void)snprintf(ev[n].detail, sizeof(ev[n].detail),
			    "the device detected a duplicate packet: "
			    "expected %" PRIu64 ", received %" PRIu64 "%s",
			    dup->expected, dup->received, more);
		else
			(void)snprintf(ev[n].detail, sizeof(ev[n].detail),
			    "the device detected a duplicate packet%s", more);
		n++;
	}
	return (n);
}

/* The run's summary. */
int
devlog_track_end(const struct devlog_track *t, struct devlog_event *ev)
{
	char	what[96];

	if (t->samples < 2)
		return (0);
	(void)snprintf(what, sizeof(what), "%s, %u samples",
	    t->restarts > 0 ? "since the counters went back" : "over the run",
	    t->samples);
	devlog_format(ev, DEVLOG_KIND_STATS, what, &t->last, &t->base);
	return (1);
}
