/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The metrics of GET /metrics (contract in metrics.h).
 *
 * A scrape every 15 s must stay cheap on a database of 100k runs and
 * 10M probes: nothing here scans a table but the one grouped query at
 * the start. Runs and events are counted as they happen, by attachment
 * (or port, for an event with no attachment), in a short pending list;
 * a scrape (or a list grown long) names each of them once by primary
 * key lookups, port path and cable label, and adds them to the (port,
 * cable) pair they name, kept sorted in a tree for the output. The
 * lookups run after the store's journal is committed (store_read), so
 * a row written a moment ago is found; one that is not found (commits
 * failing) stays pending and shows at a later scrape.
 *
 * Families are written in the order of their names, each with its HELP
 * and TYPE once; series within a family in the order of their labels.
 * A pair's counters are all written, zeros included, from the moment
 * the pair is known, so that the first run or error of a pair is an
 * increase that rate() and increase() see, not a new series.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "compat/compat.h"
#include "compat/queue.h"
#include "compat/tree.h"
#include "devices.h"
#include "linkq.h"
#include "log.h"
#include "lq-status.h"
#include "lq-time.h"
#include "lq-verdict.h"
#include "metrics.h"
#include "muxquery.h"
#include "run.h"
#include "sources.h"
#include "store.h"
#include "xmalloc.h"

/* Pending attachments named at once when there are this many. */
#define METRICS_PENDING_MAX	64
#define METRICS_PORT_MAX	64

/*
 * The verdict label, indexed by enum lq_verdict: lower case, as label
 * values are by convention; "none" for a run that ended without one
 * (cancelled, interrupted, an error).
 */
static const char *const verdict_labels[] = {
	[LQ_VERDICT_NONE] = "none",
	[LQ_VERDICT_PASS] = "pass",
	[LQ_VERDICT_MARGINAL] = "marginal",
	[LQ_VERDICT_FAIL] = "fail"
};
#define NVERDICTS	nitems(verdict_labels)

/*
 * Probe latency buckets, in seconds, one set for every kind so that
 * kinds add up (research: linux-usb-signals-and-performance.md, A2-A4,
 * and real-usbmuxd.md):
 * - 0.1 to 1 ms: usb-control's GET_DESCRIPTOR takes 0.1-0.5 ms on a
 *   healthy high-speed link, 1 ms and more at full speed (A3);
 * - 2.5 to 100 ms: a usbmux request costs tens of ms (29-39 ms measured
 *   against the real usbmuxd), mux-connect and lockdown-query live here;
 * - 0.25 to 1 s: the TLS handshake and AFC round trips of large chunks;
 * - 2.5, 5, 10 s: the default deadlines (usb-control 2 s, mux-connect
 *   and lockdown-query 5 s, afc-roundtrip and bulk 10 s, handshake
 *   15 s): a probe cut at its deadline lands in the bucket above it;
 * - 30 s to 600 s: bulk probes, 64 MiB each way at 20-35 MB/s takes 4
 *   to 7 s, at a full-speed fallback's 1 MB/s two minutes, and a
 *   restore's 8 GB 4 to 6.5 minutes (A4).
 */
static const char *const latency_le[] = {
	"0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01",
	"0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "30",
	"60", "120", "300", "600"
};
#define NLATENCY	nitems(latency_le)

/*
 * Bulk throughput buckets, in bytes per second (decimal MB/s as the
 * research gives them, A2): 1 MB/s is a full-speed fallback, 5-8 MB/s
 * what the simulator and umockdev move, 20-35 MB/s a healthy
 * high-speed link through usbmux, 42 MB/s the real high-speed ceiling
 * and 53.248 MB/s the theoretical one; 100 and 300 MB/s only a
 * SuperSpeed link reaches.
 */
static const char *const throughput_le[] = {
	"500000", "1000000", "2000000", "5000000", "8000000", "12000000",
	"16000000", "20000000", "25000000", "30000000", "35000000",
	"42000000", "53248000", "100000000", "300000000"
};
#define NTHROUGHPUT	nitems(throughput_le)

/* The bounds above as numbers, for counting (metrics_init). */
static double	latency_bounds[NLATENCY];
static double	throughput_bounds[NTHROUGHPUT];

/* A histogram: the count of each bucket (not cumulative), +Inf last. */
struct metrics_histogram {
	uint64_t	*buckets;
	uint64_t	 count;
	double		 sum;
};

/* The counters of one (port, cable) pair, named. */
struct metrics_pair {
	char		 port[METRICS_PORT_MAX];
	char		 cable[LQ_LABEL_MAX + 1];
	uint64_t	 runs[NVERDICTS];
	uint64_t	*events;	/* by index in lq_event_kinds() */
	RB_ENTRY(metrics_pair) entry;
};
RB_HEAD(metrics_pairs, metrics_pair);

/* What an attachment (or a port, attachment 0) counted, not yet named. */
struct metrics_pending {
	int64_t		 attachment_id;
	int64_t		 port_id;
	uint64_t	 runs[NVERDICTS];
	uint64_t	*events;
	TAILQ_ENTRY(metrics_pending) entry;
};
TAILQ_HEAD(metrics_pendings, metrics_pending);

static struct {
	struct store		*store;
	int64_t			 host_id;
	int64_t			 started_us;
	const struct lq_event_kind *kinds;
	unsigned int		 nkinds;
	struct metrics_pairs	 pairs;
	struct metrics_pendings	 pending;
	unsigned int		 npending;
	unsigned int		 fold_at;	/* npending that names */
	struct metrics_histogram latency[LQ_PROBE_KIND_MAX + 1];
	uint64_t		 failures[LQ_PROBE_KIND_MAX + 1];
	struct metrics_histogram throughput;
} m = {
	.fold_at = METRICS_PENDING_MAX,
	.pairs = RB_INITIALIZER(&m.pairs),
	.pending = TAILQ_HEAD_INITIALIZER(m.pending)
};

static int
metrics_pair_cmp(const struct metrics_pair *a, const struct metrics_pair *b)
{
	int	c;

	if ((c = strcmp(a->port, b->port)) != 0)
		return (c);
	return (strcmp(a->cable, b->cable));
}
RB_GENERATE_STATIC(metrics_pairs, metrics_pair, entry, metrics_pair_cmp)

/* The pair of port and cable, made if new. */
static struct metrics_pair *
metrics_pair(const char *port, const char *cable)
{
	struct metrics_pair	 find, *p;

	(void)strlcpy(find.port, port, sizeof(find.port));
	(void)strlcpy(find.cable, cable, sizeof(find.cable));
	if ((p = RB_FIND(metrics_pairs, &m.pairs, &find)) != NULL)
		return (p);
	p = xcalloc(1, sizeof(*p));
	memcpy(p->port, find.port, sizeof(p->port));
	memcpy(p->cable, find.cable, sizeof(p->cable));
	p->events = xcalloc(m.nkinds, sizeof(*p->events));
	RB_INSERT(metrics_pairs, &m.pairs, p);
	return (p);
}

/* The index of a verdict name ("PASS"; NULL or "": none). */
static unsigned int
metrics_verdict(const char *name)
{
	int	v;

	if (name == NULL || *name == '\0' ||
	    (v = lq_verdict_from_name(name)) < 0 || (size_t)v >= NVERDICTS)
		return (LQ_VERDICT_NONE);
	return ((unsigned int)v);
}

/* One row of the seed: runs of a pair with a verdict. */
static void
metrics_seed_cb(const char *port, const char *cable, const char *verdict,
    int64_t runs, void *unused)
{
	(void)unused;
	if (port == NULL || runs < 0)
		return;
	metrics_pair(port, cable != NULL ? cable : "")->
	    runs[metrics_verdict(verdict)] += (uint64_t)runs;
}

/* A histogram of n buckets. */
static void
metrics_histogram_init(struct metrics_histogram *h, size_t n)
{
	h->buckets = xcalloc(n + 1, sizeof(*h->buckets));
}

/* Count v in h, whose bucket bounds are bounds (n of them). */
static void
metrics_observe(struct metrics_histogram *h, const double *bounds,
    size_t n, double v)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (v <= bounds[i])
			break;
	}
	h->buckets[i]++;
	h->count++;
	h->sum += v;
}

void
metrics_init(struct store *s, int64_t host_id)
{
	lq_mono_t	t0;
	size_t		i;
	int		k;

	for (i = 0; i < NLATENCY; i++)
		latency_bounds[i] = strtod(latency_le[i], NULL);
	for (i = 0; i < NTHROUGHPUT; i++)
		throughput_bounds[i] = strtod(throughput_le[i], NULL);
	m.store = s;
	m.host_id = host_id;
	m.started_us = lq_wall_now_us();
	m.kinds = lq_event_kinds(&m.nkinds);
	for (k = 1; k <= LQ_PROBE_KIND_MAX; k++)
		metrics_histogram_init(&m.latency[k], NLATENCY);
	metrics_histogram_init(&m.throughput, NTHROUGHPUT);
	if (s == NULL)
		return;
	t0 = lq_mono_now();
	if (store_verdict_counts_each(s, host_id, metrics_seed_cb, NULL) ==
	    -1)
		log_warnx("metrics: the runs by verdict start from 0: the "
		    "database could not be read");
	log_debug("metrics: runs by verdict read in %lld ms",
	    (long long)(lq_mono_sub(lq_mono_now(), t0) / 1000));
}

/* The pending entry of an attachment (or a port), made if new. */
static struct metrics_pending *
metrics_pending(int64_t attachment_id, int64_t port_id)
{
	struct metrics_pending	*p;

	TAILQ_FOREACH(p, &m.pending, entry) {
		if (p->attachment_id == attachment_id &&
		    (attachment_id != 0 || p->port_id == port_id))
			return (p);
	}
	p = xcalloc(1, sizeof(*p));
	p->attachment_id = attachment_id;
	p->port_id = port_id;
	p->events = xcalloc(m.nkinds, sizeof(*p->events));
	TAILQ_INSERT_TAIL(&m.pending, p, entry);
	m.npending++;
	return (p);
}

/*
 * Name what is pending and add it to its pair. What has an attachment
 * or port that the database does not hold (yet) stays.
 */
static void
metrics_fold(void)
{
	struct metrics_pending	*p, *next;
	struct metrics_pair	*pair;
	char			 port[METRICS_PORT_MAX];
	char			 cable[LQ_LABEL_MAX + 1];
	unsigned int		 i;
	int			 found;

	TAILQ_FOREACH_SAFE(p, &m.pending, entry, next) {
		port[0] = cable[0] = '\0';
		found = 1;
		if (m.store == NULL)
			found = 0;
		else if (p->attachment_id != 0)
			found = store_attachment_where(m.store,
			    p->attachment_id, port, sizeof(port), cable,
			    sizeof(cable));
		else if (p->port_id != 0)
			found = store_port_path(m.store, p->port_id, port,
			    sizeof(port));
		if (found != 1)
			continue;
		pair = metrics_pair(port, cable);
		for (i = 0; i < NVERDICTS; i++)
			pair->runs[i] += p->runs[i];
		for (i = 0; i < m.nkinds; i++)
			pair->events[i] += p->events[i];
		TAILQ_REMOVE(&m.pending, p, entry);
		m.npending--;
		free(p->events);
		free(p);
	}
}

/*
 * Name what is pending once the list is long, so that it stays short.
 * While the database takes no commits, what is new cannot be named:
 * the next try waits for the list to double, not for the next event.
 */
static void
metrics_pending_check(void)
{
	if (m.npending < m.fold_at)
		return;
	metrics_fold();
	m.fold_at = m.npending * 2 > METRICS_PENDING_MAX ? m.npending * 2 :
	    METRICS_PENDING_MAX;
}

void
metrics_run_end(int64_t attachment_id, int64_t port_id, const char *verdict)
{
	metrics_pending(attachment_id, port_id)->
	    runs[metrics_verdict(verdict)]++;
	metrics_pending_check();
}

void
metrics_probe(int kind, int64_t latency_us, int64_t bytes, int status)
{
	double	seconds;

	if (kind < 1 || kind > LQ_PROBE_KIND_MAX || latency_us < 0 ||
	    m.throughput.buckets == NULL)	/* before metrics_init() */
		return;
	seconds = (double)latency_us / LQ_USEC_PER_SEC;
	metrics_observe(&m.latency[kind], latency_bounds, NLATENCY,
	    seconds);
	if (status != LQ_OK)
		m.failures[kind]++;
	/* A failed bulk probe's rate says how far it got, not the link's. */
	else if (kind == LQ_PROBE_BULK && latency_us > 0 && bytes > 0)
		metrics_observe(&m.throughput, throughput_bounds, NTHROUGHPUT,
		    (double)bytes / seconds);
}

void
metrics_event(const struct store_event *ev)
{
	unsigned int	i;

	for (i = 0; i < m.nkinds; i++) {
		if (strcmp(m.kinds[i].name, ev->kind) == 0)
			break;
	}
	if (i == m.nkinds)
		return;
	metrics_pending(ev->attachment_id, ev->attachment_id != 0 ? 0 :
	    ev->port_id)->events[i]++;
	metrics_pending_check();
}

/*
 * Append a label value escaped as the format wants: backslash, double
 * quote and newline.
 */
static void
metrics_escape(struct evbuffer *buf, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			(void)evbuffer_add(buf, "\\\\", 2);
		else if (*s == '"')
			(void)evbuffer_add(buf, "\\\"", 2);
		else if (*s == '\n')
			(void)evbuffer_add(buf, "\\n", 2);
		else
			(void)evbuffer_add(buf, s, 1);
	}
}

/* HELP and TYPE of a family. */
static void
metrics_family(struct evbuffer *buf, const char *name, const char *type,
    const char *help)
{
	(void)evbuffer_add_printf(buf, "# HELP %s %s\n# TYPE %s %s\n", name,
	    help, name, type);
}

/* The port and cable labels of a pair, with a comma after them. */
static void
metrics_pair_labels(struct evbuffer *buf, const struct metrics_pair *p)
{
	(void)evbuffer_add_printf(buf, "port=\"");
	metrics_escape(buf, p->port);
	(void)evbuffer_add_printf(buf, "\",cable=\"");
	metrics_escape(buf, p->cable);
	(void)evbuffer_add_printf(buf, "\",");
}

/* The series of one histogram, with labels (may be "") before le. */
static void
metrics_histogram_write(struct evbuffer *buf, const char *name,
    const char *labels, const struct metrics_histogram *h,
    const char *const *le, size_t n)
{
	const char	*comma = *labels != '\0' ? "," : "";
	const char	*open = *labels != '\0' ? "{" : "";
	const char	*close = *labels != '\0' ? "}" : "";
	uint64_t	 cum = 0;
	size_t		 i;

	for (i = 0; i < n; i++) {
		cum += h->buckets[i];
		(void)evbuffer_add_printf(buf, "%s_bucket{%s%sle=\"%s\"} "
		    "%llu\n", name, labels, comma, le[i],
		    (unsigned long long)cum);
	}
	(void)evbuffer_add_printf(buf, "%s_bucket{%s%sle=\"+Inf\"} %llu\n"
	    "%s_sum%s%s%s %.15g\n%s_count%s%s%s %llu\n", name, labels, comma,
	    (unsigned long long)h->count, name, open, labels, close, h->sum,
	    name, open, labels, close, (unsigned long long)h->count);
}

/* One series of a family without labels. */
static void
metrics_value(struct evbuffer *buf, const char *name, long long v)
{
	(void)evbuffer_add_printf(buf, "%s %lld\n", name, v);
}

/*
 * The writers of the families, one each, called with the family's
 * name after its HELP and TYPE.
 */
static void
metrics_build_info(struct evbuffer *buf, const char *name)
{
	(void)evbuffer_add_printf(buf, "%s{version=\"", name);
	metrics_escape(buf, LINKQ_VERSION);
	(void)evbuffer_add_printf(buf, "\"} 1\n");
}

static void
metrics_throughput(struct evbuffer *buf, const char *name)
{
	metrics_histogram_write(buf, name, "", &m.throughput, throughput_le,
	    NTHROUGHPUT);
}

static void
metrics_devices_attached(struct evbuffer *buf, const char *name)
{
	metrics_value(buf, name, (long long)devices_attached());
}

/*
 * Whether a pair shows events of kind i: the hard and soft kinds always
 * (zeros too), the info kinds once they happened.
 */
static int
metrics_event_shown(const struct metrics_pair *p, unsigned int i)
{
	return (m.kinds[i].class != LQ_EVENT_INFO || p->events[i] > 0);
}

static void
metrics_events(struct evbuffer *buf, const char *name)
{
	struct metrics_pair	*p;
	unsigned int		 i;

	RB_FOREACH(p, metrics_pairs, &m.pairs) {
		for (i = 0; i < m.nkinds; i++) {
			if (!metrics_event_shown(p, i))
				continue;
			(void)evbuffer_add_printf(buf, "%s{", name);
			metrics_pair_labels(buf, p);
			(void)evbuffer_add_printf(buf, "kind=\"%s\"} %llu\n",
			    m.kinds[i].name, (unsigned long long)p->events[i]);
		}
	}
}

/* One port of this host for linkq_port_info. */
static void
metrics_port_info_cb(const char *path, const char *label, void *arg)
{
	struct evbuffer	*buf = arg;

	(void)evbuffer_add_printf(buf, "linkq_port_info{port=\"");
	metrics_escape(buf, path);
	(void)evbuffer_add_printf(buf, "\",port_label=\"");
	metrics_escape(buf, label != NULL ? label : "");
	(void)evbuffer_add_printf(buf, "\"} 1\n");
}

static void
metrics_port_info(struct evbuffer *buf, const char *name)
{
	(void)name;
	if (m.store != NULL)
		(void)store_ports_each(m.store, m.host_id,
		    metrics_port_info_cb, buf);
}

static void
metrics_probe_duration(struct evbuffer *buf, const char *name)
{
	char	labels[64];
	int	k;

	for (k = 1; k <= LQ_PROBE_KIND_MAX; k++) {
		xsnprintf(labels, sizeof(labels), "kind=\"%s\"",
		    lq_probe_kind_name(k));
		metrics_histogram_write(buf, name, labels, &m.latency[k],
		    latency_le, NLATENCY);
	}
}

static void
metrics_probe_failures(struct evbuffer *buf, const char *name)
{
	int	k;

	for (k = 1; k <= LQ_PROBE_KIND_MAX; k++)
		(void)evbuffer_add_printf(buf, "%s{kind=\"%s\"} %llu\n", name,
		    lq_probe_kind_name(k), (unsigned long long)m.failures[k]);
}

static void
metrics_runs_active(struct evbuffer *buf, const char *name)
{
	metrics_value(buf, name, (long long)runs_running());
}

static void
metrics_runs(struct evbuffer *buf, const char *name)
{
	struct metrics_pair	*p;
	unsigned int		 v;

	RB_FOREACH(p, metrics_pairs, &m.pairs) {
		for (v = 0; v < NVERDICTS; v++) {
			(void)evbuffer_add_printf(buf, "%s{", name);
			metrics_pair_labels(buf, p);
			(void)evbuffer_add_printf(buf, "verdict=\"%s\"} %llu\n",
			    verdict_labels[v], (unsigned long long)p->runs[v]);
		}
	}
}

/* Where metrics_source_line() writes, and the family's name. */
struct metrics_family_out {
	struct evbuffer	*buf;
	const char	*name;
};

static void
metrics_source_line(const char *source, int verdicts,
    const struct source_state *st, void *arg)
{
	struct metrics_family_out	*out = arg;

	(void)verdicts;
	(void)evbuffer_add_printf(out->buf, "%s{source=\"%s\"} %d\n",
	    out->name, source, st->on);
}

/* One series per evidence source of sources.c's table. */
static void
metrics_source_up(struct evbuffer *buf, const char *name)
{
	struct metrics_family_out	out = { buf, name };

	sources_each(metrics_source_line, &out);
}

static void
metrics_store_pending(struct evbuffer *buf, const char *name)
{
	struct store_health	h;

	memset(&h, 0, sizeof(h));
	if (m.store != NULL)
		store_health(m.store, &h);
	metrics_value(buf, name, (long long)h.pending);
}

static void
metrics_store_recording(struct evbuffer *buf, const char *name)
{
	struct store_health	h;

	memset(&h, 0, sizeof(h));
	if (m.store != NULL)
		store_health(m.store, &h);
	metrics_value(buf, name, m.store != NULL && h.problem == NULL);
}

/* A connect(2) to usbmuxd's unix socket: it answers or refuses at once. */
static void
metrics_usbmuxd(struct evbuffer *buf, const char *name)
{
	char	*cause = NULL;
	int	 up;

	up = muxquery_reachable(&cause) == MUXQUERY_UP;
	free(cause);
	metrics_value(buf, name, up);
}

static void
metrics_start_time(struct evbuffer *buf, const char *name)
{
	(void)evbuffer_add_printf(buf, "%s %lld.%06lld\n", name,
	    (long long)(m.started_us / LQ_USEC_PER_SEC),
	    (long long)(m.started_us % LQ_USEC_PER_SEC));
}

/*
 * Every family, in the order of their names: what linkqd(8), METRICS,
 * lists. process_start_time_seconds has the name every Prometheus
 * client library gives it, which dashboards and alerts expect.
 */
static const struct {
	const char	*name;
	const char	*type;
	const char	*help;
	void		 (*write)(struct evbuffer *, const char *);
} families[] = {
	{ "linkq_build_info", "gauge",
	  "Always 1; the version of linkqd in a label.",
	  metrics_build_info },
	{ "linkq_bulk_throughput_bytes_per_second", "histogram",
	  "Bytes moved per second (both ways) by each bulk probe that "
	  "succeeded, since linkqd started.", metrics_throughput },
	{ "linkq_devices_attached", "gauge",
	  "Devices attached now (usbmuxd's and those libusb alone sees).",
	  metrics_devices_attached },
	{ "linkq_events_total", "counter",
	  "Events recorded since linkqd started, by port, cable and kind.",
	  metrics_events },
	{ "linkq_port_info", "gauge",
	  "Always 1; the label a person gave each port of this host.",
	  metrics_port_info },
	{ "linkq_probe_duration_seconds", "histogram",
	  "Time each probe took, failed ones included, by kind, since "
	  "linkqd started.", metrics_probe_duration },
	{ "linkq_probe_failures_total", "counter",
	  "Probes that failed, by kind, since linkqd started.",
	  metrics_probe_failures },
	{ "linkq_runs_active", "gauge", "Qualification runs going on now.",
	  metrics_runs_active },
	{ "linkq_runs_total", "counter",
	  "Qualification runs ended on this host, by port, cable and "
	  "verdict, as the database holds them.", metrics_runs },
	{ "linkq_source_up", "gauge",
	  "1 while linkqd reads an evidence source (usbmuxd, libusb: the USB "
	  "topology, kmsg: the kernel's log, usbmon: transfer errors, "
	  "device syslog: the phone's USB counters), else 0.",
	  metrics_source_up },
	{ "linkq_store_pending_writes", "gauge",
	  "Writes waiting for the database; they grow while it takes none.",
	  metrics_store_pending },
	{ "linkq_store_recording", "gauge",
	  "1 while the database takes linkqd's writes, else 0.",
	  metrics_store_recording },
	{ "linkq_usbmuxd_connected", "gauge",
	  "1 while usbmuxd answers on its socket, else 0.",
	  metrics_usbmuxd },
	{ "process_start_time_seconds", "gauge",
	  "When linkqd started, in seconds since the epoch.",
	  metrics_start_time },
};

void
metrics_write(struct evbuffer *buf)
{
	size_t	i;

	metrics_fold();
	for (i = 0; i < nitems(families); i++) {
		metrics_family(buf, families[i].name, families[i].type,
		    families[i].help);
		families[i].write(buf, families[i].name);
	}
}

void
metrics_free(void)
{
	struct metrics_pair	*p;
	struct metrics_pending	*q;
	int			 k;

	while ((p = RB_MIN(metrics_pairs, &m.pairs)) != NULL) {
		RB_REMOVE(metrics_pairs, &m.pairs, p);
		free(p->events);
		free(p);
	}
	while ((q = TAILQ_FIRST(&m.pending)) != NULL) {
		TAILQ_REMOVE(&m.pending, q, entry);
		free(q->events);
		free(q);
	}
	m.npending = 0;
	for (k = 1; k <= LQ_PROBE_KIND_MAX; k++) {
		free(m.latency[k].buckets);
		m.latency[k].buckets = NULL;
	}
	free(m.throughput.buckets);
	m.throughput.buckets = NULL;
	m.store = NULL;
}
