/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The device registry (contract in devices.h): a red-black tree of the
 * devices usbmuxd has reported since linkqd started. A device stays in
 * the tree when it goes away, marked detached, so that its history in
 * this process (how often it came and went) is kept; the store keeps it
 * for good.
 *
 * An attachment begins once the device's LocationID and speed are
 * known: libusbmuxd does not pass them on, so a job on the registry's
 * worker thread asks usbmuxd itself (muxquery.c), and the answer comes
 * back to the loop. The port is the sysfs directory of the device with
 * that bus and device number (devices_port_key()). A
 * device that comes back within the reattach window continues the
 * attachment it left: the two are linked and the first one's end is
 * recorded as a reset.
 *
 * Each attachment gets a worker thread and a device session (session.h)
 * for the blocking libimobiledevice calls. The first job identifies the
 * device without pairing it and removes the leftovers of earlier runs
 * from its folder; a device that does not trust this host stays
 * untested, with a status that says what the user must do, until an
 * API call pairs it. When the device goes, its run ends (a dropout)
 * and a last job closes the session; that job's completion frees the
 * worker, so the loop never waits on a blocked thread.
 *
 * Cable assignments are by port: the cable given for a port belongs to
 * the attachment there now, or to the next one, and stays with the
 * device until it is unplugged (a reset carries it over).
 */

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>
#include <sqlite3.h>

#include "cables.h"
#include "compat/compat.h"
#include "compat/tree.h"
#include "config.h"
#include "devices.h"
#include "events.h"
#include "kmsg.h"
#include "log.h"
#include "lq-status.h"
#include "lq-time.h"
#include "muxquery.h"
#include "run.h"
#include "session.h"
#include "store.h"
#include "sysfs.h"
#include "usb.h"
#include "usbmon.h"
#include "worker.h"
#include "xmalloc.h"

/* How often a pairing request asks whether Trust was tapped. */
#define PAIR_POLL_US		(1 * LQ_USEC_PER_SEC)
/* How long it asks before it gives up. */
#define PAIR_WAIT_US		(120 * LQ_USEC_PER_SEC)
/*
 * How long a device usbmuxd dropped may stay on the bus before it counts
 * as stranded: a user's unplug takes it off the bus at the same moment,
 * and libusb reports that a little after usbmuxd.
 */
#define STRAND_GRACE_US		(2 * LQ_USEC_PER_SEC)
/*
 * Every iPhone and iPad negotiates high speed at least; below that the
 * link fell back, whatever this device did elsewhere.
 */
#define SPEED_FLOOR_MBPS	480

/* Whether the device lets linkq test it. */
enum trust {
	TRUST_UNKNOWN,		/* being identified */
	TRUST_OK,
	TRUST_NOT_PAIRED,
	TRUST_LOCKED,
	TRUST_PENDING,		/* Trust prompt on screen */
	TRUST_ERROR		/* identification failed */
};

struct device {
	char			 udid[44];
	uint32_t		 handle;	/* usbmuxd id, if attached */
	uint32_t		 product_id;
	int			 network;
	int			 attached;
	unsigned int		 attaches;	/* times seen arriving */
	int64_t			 since_us;	/* wall clock, last change */
	int64_t			 store_id;	/* devices.id, or 0 */
	int64_t			 attachment_id;	/* current, or 0 */
	int64_t			 last_attachment_id; /* the one before */
	int64_t			 detached_us;	/* when it last left */
	uint32_t		 location_id;	/* of the attachment, or 0 */
	uint64_t		 speed_bps;
	int			 best_speed_mbps; /* seen in this process */
	int			 mode;		/* enum lq_device_mode, last */
	int			 bus;		/* of the attachment, or 0 */
	int			 devnum;
	int			 usb_only;	/* attached in a mode usbmuxd
						 * does not see (recovery,
						 * DFU): libusb's attachment */
	int			 stranded;	/* on the bus, out of usbmuxd */
	int			 strand_devnum;	/* to check after the grace */
	struct event		*strand_ev;
	int64_t			 port_id;	/* of the attachment, or 0 */
	char			 port_key[64];
	int64_t			 cable_id;	/* of the attachment, or 0 */
	char			 cable[LQ_LABEL_MAX + 1];

	/* While attached: the worker and session of the attachment. */
	struct worker		*worker;
	struct session		*session;
	enum trust		 trust;
	char			*trust_detail;	/* the library's words */
	struct session_info	 info;
	struct event		*pair_ev;	/* polls a pairing request */
	lq_mono_t		 pair_until;
	int			 pair_busy;	/* a pair job in flight */
	RB_ENTRY(device)	 entry;
};

/* Identify a device and remove its leftovers, on its worker. */
struct identify_job {
	struct worker_job	 job;		/* first: the worker's part */
	struct session		*session;
	char			 udid[44];
	int64_t			 attachment_id;
	int			 status;
	char			*detail;
	struct session_info	 info;
	unsigned int		 removed;
	int			 cleanup_status;
};

/* Ask the device to pair, on its worker. */
struct pair_job {
	struct worker_job	 job;
	struct session		*session;
	char			 udid[44];
	int64_t			 attachment_id;
	int			 status;
	char			*detail;
};

/* The last job of an attachment: close its session, free its worker. */
struct retire_job {
	struct worker_job	 job;
	struct session		*session;
	struct worker		*worker;
};

/* A LocationID query on the worker, for the device that arrived. */
struct locate_job {
	struct worker_job	 job;		/* first: the worker's part */
	char			 udid[44];
	uint32_t		 handle;
	struct mux_location	 found[64];
	size_t			 nfound;
	int			 ret;
	char			*cause;
	char			 sysfs_root[PATH_MAX];	/* a copy: loop's */
	char			 port[64];	/* the device's port key */
	int			 hub_depth;
};

/* Where an attachment begins, from usbmuxd and sysfs or from libusb. */
struct attach_where {
	char			 port[64];	/* port key */
	int			 hub_depth;	/* -1 unknown */
	int			 bus;
	int			 devnum;
	uint32_t		 location_id;	/* usbmuxd's, or 0 */
	int			 speed_mbps;	/* 0 unknown */
	int			 mode;		/* enum lq_device_mode */
	const char		*source;	/* "usbmuxd" or "libusb" */
};

static int	device_cmp(struct device *, struct device *);
static struct device *device_find(const char *);
static void	devices_locate(struct device *);
static void	devices_auto_test(struct device *);
static void	devices_detach(struct device *);
static void	devices_strand_clear(struct device *);
static void	devices_strand_watch(struct device *);
RB_HEAD(device_tree, device);
RB_GENERATE_STATIC(device_tree, device, entry, device_cmp)

static struct device_tree	 tree = RB_INITIALIZER(&tree);
static struct store		*store;
static void			(*store_touched)(void);
static struct worker		*locator;
static int64_t			 host_id;
static int64_t			 reattach_window_us;
static const struct config	*config;
static struct event_base	*base;
static unsigned int		 retiring;	/* retire jobs in flight */

/* Order devices by UDID. */
static int
device_cmp(struct device *a, struct device *b)
{
	return (strcmp(a->udid, b->udid));
}

/* Read /etc/machine-id, the host's stable identity. */
static void
devices_machine_id(char *buf, size_t size)
{
	FILE	*fp;

	(void)strlcpy(buf, "unknown-machine", size);
	if ((fp = fopen("/etc/machine-id", "r")) == NULL)
		return;
	if (fgets(buf, (int)size, fp) == NULL)
		(void)strlcpy(buf, "unknown-machine", size);
	buf[strcspn(buf, "\n")] = '\0';
	(void)fclose(fp);
}

/* The configuration to follow from now on; cfg must outlive its use. */
void
devices_set_config(const struct config *cfg)
{
	config = cfg;
	reattach_window_us = cfg->reattach_window_us;
}

/*
 * Set the loop, the store, the function that says it has rows to
 * commit, and the configuration; start the worker that asks usbmuxd
 * for locations.
 */
void
devices_init(struct event_base *b, struct store *s, void (*touched)(void),
    const struct config *cfg)
{
	char	machine[64], host[256];

	base = b;
	store = s;
	store_touched = touched;
	devices_set_config(cfg);
	locator = worker_create("linkqd-locate");
	if (store == NULL)
		return;
	devices_machine_id(machine, sizeof(machine));
	if (gethostname(host, sizeof(host)) == -1)
		(void)strlcpy(host, "unknown-host", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	if ((host_id = store_host(store, machine, host)) < 0)
		host_id = 0;
	if (store_touched != NULL)
		store_touched();
}

/*
 * Worker thread: the port an attachment is on. usbmuxd's LocationID is
 * bus << 16 | device number, and the device number changes at every
 * plug; sysfs names the device's directory after its port path, which
 * does not. When sysfs has no such device (it left already, or sysfs
 * is not where the configuration says), the LocationID itself is the
 * key, marked as such, and the hub depth is unknown (-1).
 */
static void
devices_port_key(const char *sysfs_root, uint32_t location_id, char *buf,
    size_t size, int *hub_depth)
{
	const char	*p;

	if (sysfs_port_path(sysfs_root, (int)(location_id >> 16),
	    (int)(location_id & 0xffff), buf, size) == 0) {
		*hub_depth = 0;
		for (p = buf; *p != '\0'; p++)
			*hub_depth += *p == '.';
		return;
	}
	(void)snprintf(buf, size, "usbmuxd-location-0x%05x", location_id);
	*hub_depth = -1;
}

/* Find a device by UDID. */
static struct device *
device_find(const char *udid)
{
	struct device	key;

	(void)strlcpy(key.udid, udid, sizeof(key.udid));
	return (RB_FIND(device_tree, &tree, &key));
}

/* Worker thread: ask usbmuxd where its devices are. */
static void
devices_locate_run(struct worker_job *job)
{
	struct locate_job	*lj = (struct locate_job *)job;
	size_t			 i;

	lj->ret = muxquery_list(lj->found, nitems(lj->found), &lj->nfound,
	    &lj->cause);
	for (i = 0; lj->ret == 0 && i < lj->nfound; i++) {
		if (lj->found[i].handle == lj->handle)
			devices_port_key(lj->sysfs_root,
			    lj->found[i].location_id, lj->port,
			    sizeof(lj->port), &lj->hub_depth);
	}
}

/* Record an event of d's attachment. */
static void
devices_event(struct device *d, const char *source, const char *kind,
    const char *detail)
{
	struct store_event	se;

	memset(&se, 0, sizeof(se));
	se.source = source;
	se.kind = kind;
	se.host_id = host_id;
	se.port_id = d->port_id;
	se.attachment_id = d->attachment_id;
	se.detail = detail;
	(void)events_record(&se);
}

/* Write the cable label of d's attachment to the store. */
static void
devices_store_cable(struct device *d)
{
	d->cable_id = 0;
	if (store == NULL || d->attachment_id == 0 || d->cable[0] == '\0')
		return;
	if ((d->cable_id = store_cable(store, d->cable)) < 0) {
		d->cable_id = 0;
		return;
	}
	if (store_attachment_cable(store, d->attachment_id, d->cable_id) ==
	    0 && store_touched != NULL)
		store_touched();
}

/*
 * A new attachment of d takes the cable assigned to its port; after a
 * reset it keeps the cable it had, which moves to the new port key.
 */
static void
devices_take_cable(struct device *d, int reset)
{
	const char	*label;

	if ((label = cables_of_port(d->port_key)) != NULL)
		(void)strlcpy(d->cable, label, sizeof(d->cable));
	else if (reset && d->cable[0] != '\0')
		cables_assign(d->port_key, d->cable);
	else
		d->cable[0] = '\0';
	devices_store_cable(d);
}

/* d left its port: the port's assignment ends with it. */
static void
devices_leave_port(struct device *d)
{
	cables_assign(d->port_key, NULL);
}

/* What the user must do about d's trust, or NULL if nothing. */
static const char *
devices_trust_advice(enum trust trust)
{
	switch (trust) {
	case TRUST_UNKNOWN:
		return ("identifying the device");
	case TRUST_OK:
		return (NULL);
	case TRUST_NOT_PAIRED:
		return ("unlock the phone and tap Trust (linkq pair starts "
		    "the pairing)");
	case TRUST_LOCKED:
		return ("the phone is locked: unlock it, then tap Trust if "
		    "asked");
	case TRUST_PENDING:
		return ("unlock the phone and tap Trust on the prompt");
	case TRUST_ERROR:
		return ("the device did not answer lockdown; replug it");
	}
	return (NULL);
}

/* The trust state for a session status. */
static enum trust
devices_trust_of(int status)
{
	switch (status) {
	case LQ_OK:
		return (TRUST_OK);
	case LQ_ENOTPAIRED:
		return (TRUST_NOT_PAIRED);
	case LQ_ELOCKED:
		return (TRUST_LOCKED);
	case LQ_EPAIRPENDING:
		return (TRUST_PENDING);
	default:
		return (TRUST_ERROR);
	}
}

/* What d's runs need to know of it. */
static void
devices_target(struct device *d, struct run_target *t)
{
	memset(t, 0, sizeof(*t));
	(void)strlcpy(t->udid, d->udid, sizeof(t->udid));
	t->worker = d->worker;
	t->session = d->session;
	t->host_id = host_id;
	t->port_id = d->port_id;
	t->attachment_id = d->attachment_id;
	t->speed_mbps = (int)(d->speed_bps / 1000000);
	t->best_speed_mbps = d->best_speed_mbps;
	t->mode = d->mode;
	/* usb-control needs libusb to see the device where it is now. */
	if (usb_available() && usb_find(d->udid) != NULL) {
		t->bus = d->bus;
		t->devnum = d->devnum;
	}
}

/* Whether d can be tested now; if not, *cause says why. */
static int
devices_testable(struct device *d, char **cause)
{
	if (!d->attached) {
		xasprintf(cause, "device %s is not attached", d->udid);
		return (0);
	}
	if (d->network) {
		xasprintf(cause, "device %s is connected over the network; "
		    "linkq tests USB links only", d->udid);
		return (0);
	}
	if (d->usb_only && d->attachment_id != 0)
		return (1);	/* nothing to identify: endpoint 0 only */
	if (d->attachment_id == 0 || d->session == NULL) {
		xasprintf(cause, "device %s has only just attached; try "
		    "again in a moment", d->udid);
		return (0);
	}
	if (d->trust != TRUST_OK) {
		xasprintf(cause, "device %s cannot be tested yet: %s",
		    d->udid, devices_trust_advice(d->trust));
		return (0);
	}
	return (1);
}

/* Start profile name on d. */
static struct run *
devices_run(struct device *d, const char *name, char **cause)
{
	const struct profile	*pr;
	struct run_target	 t;

	if ((pr = config_profile(config, name)) == NULL) {
		xasprintf(cause, "no profile called %s; see linkq.conf(5)",
		    name);
		return (NULL);
	}
	if (!devices_testable(d, cause))
		return (NULL);
	devices_target(d, &t);
	return (run_start(config, pr, &t, cause));
}

/* Test d now if the configuration says so for its port. */
static void
devices_auto_test(struct device *d)
{
	const char	*profile;
	char		*cause;

	if ((profile = config_auto_test(config, d->port_key)) == NULL)
		return;
	if (devices_run(d, profile, &cause) == NULL) {
		log_warnx("device %s: auto-test %s: %s", d->udid, profile,
		    cause);
		free(cause);
	}
}

/* Worker thread: who is this device, and clear its folder. */
static void
devices_identify_run(struct worker_job *job)
{
	struct identify_job	*ij = (struct identify_job *)job;
	char			*detail = NULL;

	session_set_job(ij->session, job);
	ij->status = session_identify(ij->session, &ij->info, &ij->detail);
	if (ij->status == LQ_OK) {
		ij->cleanup_status = session_cleanup(ij->session,
		    &ij->removed, &detail);
		if (ij->cleanup_status != LQ_OK) {
			free(ij->detail);
			ij->detail = detail;
		} else
			free(detail);
	}
	session_close(ij->session);
	session_set_job(ij->session, NULL);
}

/* Loop thread: d is identified; test it if the configuration says so. */
static void
devices_identified(struct device *d, struct identify_job *ij)
{
	struct store_device	 sd;
	char			 detail[96];

	d->trust = devices_trust_of(ij->status);
	free(d->trust_detail);
	d->trust_detail = ij->detail != NULL ? xstrdup(ij->detail) : NULL;
	if (d->trust != TRUST_OK) {
		log_info("device %s: %s%s%s", d->udid,
		    devices_trust_advice(d->trust),
		    ij->detail != NULL ? ": " : "",
		    ij->detail != NULL ? ij->detail : "");
		return;
	}
	d->info = ij->info;
	memset(&sd, 0, sizeof(sd));
	sd.udid = d->udid;
	sd.name = d->info.name[0] != '\0' ? d->info.name : NULL;
	sd.product_type = d->info.product_type[0] != '\0' ?
	    d->info.product_type : NULL;
	sd.ios_version = d->info.ios_version[0] != '\0' ?
	    d->info.ios_version : NULL;
	sd.usb_serial = d->info.serial[0] != '\0' ? d->info.serial : NULL;
	sd.seen_us = lq_wall_now_us();
	if (store != NULL && store_device(store, &sd) > 0 &&
	    store_touched != NULL)
		store_touched();
	if (ij->cleanup_status != LQ_OK)
		log_warnx("device %s: leftovers not removed: %s", d->udid,
		    ij->detail != NULL ? ij->detail : "unknown error");
	else if (ij->removed > 0) {
		(void)snprintf(detail, sizeof(detail), "removed %u leftover "
		    "file%s of an earlier run", ij->removed,
		    ij->removed == 1 ? "" : "s");
		log_info("device %s: %s", d->udid, detail);
	}
	log_info("device %s: %s, %s, iOS %s", d->udid, d->info.name,
	    d->info.product_type, d->info.ios_version);
	devices_auto_test(d);
}

/* Loop thread: the identify job is back. */
static void
devices_identify_done(struct worker_job *job)
{
	struct identify_job	*ij = (struct identify_job *)job;
	struct device		*d;

	d = device_find(ij->udid);
	if (d != NULL && d->attachment_id == ij->attachment_id &&
	    d->session == ij->session)
		devices_identified(d, ij);
	free(ij->detail);
	free(ij);
}

/* Ask d's worker who d is and whether it trusts this host. */
static void
devices_identify(struct device *d)
{
	struct identify_job	*ij;

	d->trust = TRUST_UNKNOWN;
	ij = xcalloc(1, sizeof(*ij));
	worker_job_init(&ij->job, devices_identify_run,
	    devices_identify_done);
	ij->session = d->session;
	ij->attachment_id = d->attachment_id;
	(void)strlcpy(ij->udid, d->udid, sizeof(ij->udid));
	worker_submit(d->worker, &ij->job);
}

/* A new attachment: its worker and session, and identify the device. */
static void
devices_session_start(struct device *d)
{
	char	name[16];

	(void)snprintf(name, sizeof(name), "lq-%.12s", d->udid);
	d->worker = worker_create(name);
	d->session = session_new(d->udid, config->afc_folder);
	devices_identify(d);
}

/* Worker thread: close the session for good. */
static void
devices_retire_run(struct worker_job *job)
{
	struct retire_job	*rj = (struct retire_job *)job;

	session_close(rj->session);
}

/* Loop thread: the worker is idle for good; free it and the session. */
static void
devices_retire_done(struct worker_job *job)
{
	struct retire_job	*rj = (struct retire_job *)job;

	session_free(rj->session);
	worker_free(rj->worker);
	retiring--;
	free(rj);
}

/*
 * d's attachment ended: cut what its worker is doing and queue the last
 * job, whose completion frees the worker without blocking the loop.
 */
static void
devices_retire(struct device *d)
{
	struct retire_job	*rj;

	if (d->pair_ev != NULL) {
		event_free(d->pair_ev);
		d->pair_ev = NULL;
	}
	d->pair_busy = 0;
	if (d->worker == NULL)
		return;
	worker_cancel(d->worker);
	rj = xcalloc(1, sizeof(*rj));
	worker_job_init(&rj->job, devices_retire_run, devices_retire_done);
	rj->session = d->session;
	rj->worker = d->worker;
	retiring++;
	worker_submit(d->worker, &rj->job);
	d->worker = NULL;
	d->session = NULL;
	d->trust = TRUST_UNKNOWN;
}

/*
 * Whether a device back soon on port b is back where it left, port a:
 * a reset. Back on another port, it was moved. Ports keyed by their
 * LocationID change with every device number, so they cannot tell.
 */
static int
devices_same_port(const char *a, const char *b)
{
	static const char	loc[] = "usbmuxd-location-";

	if (strncmp(a, loc, sizeof(loc) - 1) == 0 &&
	    strncmp(b, loc, sizeof(loc) - 1) == 0)
		return (1);
	return (strcmp(a, b) == 0);
}

/*
 * The best speed d has negotiated on any port of this host before (the
 * store's memory), with that port; at least SPEED_FLOOR_MBPS.
 */
static int
devices_best_speed(struct device *d, char *port, size_t size)
{
	static const char	 sql[] = "SELECT a.speed_mbps, p.path "
	    "FROM attachments a JOIN ports p ON p.id = a.port_id "
	    "WHERE a.device_id = ? AND a.speed_mbps IS NOT NULL "
	    "ORDER BY a.speed_mbps DESC, a.id DESC LIMIT 1";
	sqlite3_stmt		*st;
	const char		*path;
	int			 best = d->best_speed_mbps;

	(void)strlcpy(port, "", size);
	if (store != NULL && d->store_id != 0 && sqlite3_prepare_v2(
	    store_handle(store), sql, -1, &st, NULL) == SQLITE_OK) {
		(void)sqlite3_bind_int64(st, 1, d->store_id);
		if (sqlite3_step(st) == SQLITE_ROW &&
		    sqlite3_column_int(st, 0) >= best) {
			best = sqlite3_column_int(st, 0);
			if ((path = (const char *)sqlite3_column_text(st,
			    1)) != NULL)
				(void)strlcpy(port, path, size);
		}
		(void)sqlite3_finalize(st);
	}
	return (best > SPEED_FLOOR_MBPS ? best : SPEED_FLOOR_MBPS);
}

/*
 * A speed below the best this device reached (or below high speed): a
 * speed-fallback finding of the new attachment, and the best speed its
 * runs are judged against.
 */
static void
devices_check_speed(struct device *d, const struct attach_where *w)
{
	char	detail[192], where[64];
	int	best;

	best = devices_best_speed(d, where, sizeof(where));
	if (w->speed_mbps > 0 && w->speed_mbps < best) {
		if (where[0] != '\0' && best > SPEED_FLOOR_MBPS)
			(void)snprintf(detail, sizeof(detail), "%d Mb/s on "
			    "%s; this device reached %d Mb/s on %s",
			    w->speed_mbps, w->port, best, where);
		else
			(void)snprintf(detail, sizeof(detail), "%d Mb/s on "
			    "%s; an iPhone negotiates %d Mb/s at least",
			    w->speed_mbps, w->port, SPEED_FLOOR_MBPS);
		devices_event(d, w->source, "speed-fallback", detail);
		log_warnx("device %s: %s", d->udid, detail);
	}
	d->best_speed_mbps = best > w->speed_mbps ? best : w->speed_mbps;
}

/*
 * d is back within the reattach window on the port it left, the
 * attachment before is prev: a re-enumeration (a reset, or usbmuxd
 * taking back a device it dropped), or, in another mode, a mode change
 * that is no fault.
 */
static void
devices_link(struct device *d, const struct attach_where *w, int64_t prev,
    int64_t now)
{
	const char	*kind;
	char		 detail[128];
	int		 mode_change = w->mode != d->mode;

	kind = mode_change ? "mode-change" : "reenumeration";
	(void)store_attachment_end(store, prev, d->detached_us,
	    mode_change ? "mode-change" : "reset");
	if (mode_change)
		(void)snprintf(detail, sizeof(detail), "%s to %s mode after "
		    "%lld ms", lq_device_mode_name(d->mode),
		    lq_device_mode_name(w->mode),
		    (long long)((now - d->detached_us) / 1000));
	else
		(void)snprintf(detail, sizeof(detail), "back after %lld ms "
		    "as device number %d", (long long)((now -
		    d->detached_us) / 1000), w->devnum);
	devices_event(d, w->source, kind, detail);
	log_info("device %s: %s, linked to attachment %lld", d->udid,
	    detail, (long long)prev);
}

/* Begin the attachment of d where w says. */
static void
devices_attach(struct device *d, const struct attach_where *w)
{
	struct store_attachment	 sa;
	int64_t			 port_id, now = lq_wall_now_us();

	d->location_id = w->location_id;
	d->speed_bps = (uint64_t)w->speed_mbps * 1000000;
	d->bus = w->bus;
	d->devnum = w->devnum;
	if (store == NULL || d->store_id == 0)
		return;
	if ((port_id = store_port(store, host_id, w->port, w->hub_depth)) <
	    0)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.device_id = d->store_id;
	sa.port_id = port_id;
	sa.mode = w->mode;
	sa.speed_mbps = w->speed_mbps;
	sa.bus = w->bus;
	sa.devnum = w->devnum;
	sa.location_id = w->location_id;
	sa.started_us = now;
	if (d->last_attachment_id != 0 && d->detached_us != 0 &&
	    now - d->detached_us <= reattach_window_us &&
	    devices_same_port(d->port_key, w->port))
		sa.previous_id = d->last_attachment_id;
	if ((d->attachment_id = store_attachment_begin(store, &sa)) < 0) {
		d->attachment_id = 0;
		return;
	}
	d->port_id = port_id;
	(void)strlcpy(d->port_key, w->port, sizeof(d->port_key));
	devices_take_cable(d, sa.previous_id != 0);
	if (sa.previous_id != 0)
		devices_link(d, w, sa.previous_id, now);
	devices_check_speed(d, w);
	if (store_touched != NULL)
		store_touched();
	log_info("device %s: attachment %lld on %s at %d Mb/s, %s mode",
	    d->udid, (long long)d->attachment_id, w->port, w->speed_mbps,
	    lq_device_mode_name(w->mode));
	if (sa.previous_id != 0 && w->mode == d->mode)
		run_device_back(sa.previous_id);
	d->mode = w->mode;
	if (d->usb_only)
		devices_auto_test(d);
	else
		devices_session_start(d);
}

/* Where d is, as libusb sees it. */
static void
devices_where_usb(const struct usb_info *u, struct attach_where *w)
{
	memset(w, 0, sizeof(*w));
	(void)strlcpy(w->port, u->port, sizeof(w->port));
	w->hub_depth = u->hub_depth;
	w->bus = u->bus;
	w->devnum = u->devnum;
	w->speed_mbps = u->speed_mbps;
	w->mode = u->mode;
	w->source = "libusb";
}

/* Loop thread: the locations are known; attach if still there. */
static void
devices_locate_done(struct worker_job *job)
{
	struct locate_job	*lj = (struct locate_job *)job;
	struct attach_where	 w;
	const struct usb_info	*u;
	struct device		*d;
	size_t			 i;

	d = device_find(lj->udid);
	if (lj->ret == -1)
		log_warnx("device %s: no location: %s", lj->udid, lj->cause);
	else if (d != NULL && d->attached && d->handle == lj->handle &&
	    d->attachment_id == 0) {
		for (i = 0; i < lj->nfound; i++) {
			if (lj->found[i].handle == lj->handle)
				break;
		}
		memset(&w, 0, sizeof(w));
		if ((u = usb_find(d->udid)) != NULL &&
		    u->mode == LQ_MODE_NORMAL)
			devices_where_usb(u, &w);	/* arrived meanwhile */
		else if (i < lj->nfound) {
			(void)strlcpy(w.port, lj->port, sizeof(w.port));
			w.hub_depth = lj->hub_depth;
			w.location_id = lj->found[i].location_id;
			w.bus = (int)(w.location_id >> 16);
			w.devnum = (int)(w.location_id & 0xffff);
			w.speed_mbps = (int)(lj->found[i].speed_bps /
			    1000000);
			w.mode = LQ_MODE_NORMAL;
			w.source = "usbmuxd";
		}
		if (w.source != NULL)
			devices_attach(d, &w);
		else
			log_warnx("device %s: usbmuxd did not list it",
			    lj->udid);
	}
	free(lj->cause);
	free(lj);
}

/* Ask, on the worker, where the device just attached is. */
static void
devices_locate(struct device *d)
{
	struct locate_job	*lj;

	if (locator == NULL)
		return;
	lj = xcalloc(1, sizeof(*lj));
	worker_job_init(&lj->job, devices_locate_run, devices_locate_done);
	(void)strlcpy(lj->udid, d->udid, sizeof(lj->udid));
	(void)strlcpy(lj->sysfs_root, config->sysfs_root,
	    sizeof(lj->sysfs_root));
	lj->handle = d->handle;
	worker_submit(locator, &lj->job);
}

/* A device appeared: remember it, write it to the store. */
static void
devices_add(const struct mux_event *ev)
{
	struct store_device	 sd;
	struct device		*d;

	if ((d = device_find(ev->udid)) == NULL) {
		d = xcalloc(1, sizeof(*d));
		(void)strlcpy(d->udid, ev->udid, sizeof(d->udid));
		RB_INSERT(device_tree, &tree, d);
	}
	d->handle = ev->handle;
	d->product_id = ev->product_id;
	d->network = ev->network;
	d->attached = 1;
	d->attaches++;
	d->since_us = lq_wall_now_us();
	log_info("device %s attached (usbmuxd id %u%s)", d->udid, d->handle,
	    d->network ? ", network: not tested" : "");
	if (store == NULL || d->network)
		return;
	memset(&sd, 0, sizeof(sd));
	sd.udid = d->udid;
	sd.seen_us = d->since_us;
	if ((d->store_id = store_device(store, &sd)) < 0)
		d->store_id = 0;
	else if (store_touched != NULL)
		store_touched();
	devices_strand_clear(d);
	devices_locate(d);
}

/* A device went away; usbmuxd names it by handle only. */
static void
devices_remove(const struct mux_event *ev)
{
	struct device	*d;

	RB_FOREACH(d, device_tree, &tree) {
		if (d->attached && !d->usb_only && d->handle == ev->handle)
			break;
	}
	if (d == NULL) {
		log_debug("usbmuxd removed unknown device id %u", ev->handle);
		return;
	}
	d->attached = 0;
	d->since_us = lq_wall_now_us();
	log_info("device %s detached (usbmuxd id %u)", d->udid, d->handle);
	if (d->attachment_id == 0)
		return;
	devices_strand_watch(d);
	devices_detach(d);
}

/* d's attachment ended: an unplug unless d is back within the window. */
static void
devices_detach(struct device *d)
{
	if (store_attachment_end(store, d->attachment_id, d->since_us,
	    "unplug") == 0 && store_touched != NULL)
		store_touched();
	run_device_gone(d->attachment_id);
	devices_retire(d);
	devices_leave_port(d);
	d->last_attachment_id = d->attachment_id;
	d->detached_us = d->since_us;
	d->attachment_id = 0;
	d->location_id = 0;
	d->speed_bps = 0;
	d->port_id = 0;
	d->bus = d->devnum = 0;
}

/* d is no longer a candidate for stranded. */
static void
devices_strand_clear(struct device *d)
{
	if (d->strand_ev != NULL)
		(void)evtimer_del(d->strand_ev);
	d->stranded = 0;
}

/*
 * The grace is over: if d is still on the bus as the same device, the
 * way usbmuxd left it, it is stranded (protocols.md 7): usbmuxd drops a
 * device after one failed transfer and takes it back only when it
 * re-enumerates. A hard failure of the attachment it left, and of that
 * attachment's run; only a replug brings it back.
 */
static void
devices_strand_cb(evutil_socket_t fd, short what, void *arg)
{
	struct device		*d = arg;
	const struct usb_info	*u;
	struct store_event	 se;
	char			 detail[192];

	(void)fd;
	(void)what;
	u = usb_find(d->udid);
	if (d->attached || u == NULL || u->mode != LQ_MODE_NORMAL ||
	    u->devnum != d->strand_devnum)
		return;
	d->stranded = 1;
	(void)snprintf(detail, sizeof(detail), "still on the USB bus at %s "
	    "(device number %d) %lld s after usbmuxd dropped it: replug "
	    "the cable", u->port, u->devnum,
	    (long long)(STRAND_GRACE_US / LQ_USEC_PER_SEC));
	log_warnx("device %s: stranded: %s", d->udid, detail);
	memset(&se, 0, sizeof(se));
	se.source = "libusb";
	se.kind = "stranded";
	se.host_id = host_id;
	se.port_id = store != NULL ? store_port(store, host_id, u->port,
	    u->hub_depth) : 0;
	se.attachment_id = d->last_attachment_id;
	se.detail = detail;
	(void)events_record(&se);
	if (store != NULL && d->last_attachment_id != 0 &&
	    store_attachment_end(store, d->last_attachment_id,
	    d->detached_us, "stranded") == 0 && store_touched != NULL)
		store_touched();
	run_device_stranded(d->last_attachment_id, detail);
}

/* usbmuxd dropped d: watch whether it stays on the bus. */
static void
devices_strand_watch(struct device *d)
{
	const struct usb_info	*u;
	struct timeval		 tv;

	if ((u = usb_find(d->udid)) == NULL || u->mode != LQ_MODE_NORMAL)
		return;
	if (d->strand_ev == NULL &&
	    (d->strand_ev = evtimer_new(base, devices_strand_cb, d)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	d->strand_devnum = u->devnum;
	tv.tv_sec = STRAND_GRACE_US / LQ_USEC_PER_SEC;
	tv.tv_usec = STRAND_GRACE_US % LQ_USEC_PER_SEC;
	if (evtimer_add(d->strand_ev, &tv) == -1)
		log_warnx("device %s: cannot watch for stranding", d->udid);
}

/* Find a device by a UDID libusb derived (case and dashes may differ). */
static struct device *
devices_find_usb(const char *udid)
{
	struct device	*d;

	RB_FOREACH(d, device_tree, &tree) {
		if (usb_udid_equal(d->udid, udid))
			return (d);
	}
	return (NULL);
}

/*
 * libusb sees a device arrive. In normal mode usbmuxd drives the
 * attachment (its Attached follows); out of it, usbmuxd never sees the
 * device, and the attachment is libusb's.
 */
static void
devices_usb_arrived(struct device *d, const struct usb_info *u)
{
	struct store_device	sd;
	struct attach_where	w;

	if (d != NULL && d->devnum != u->devnum)
		devices_strand_clear(d);	/* re-enumerated */
	if (u->mode == LQ_MODE_NORMAL || (d != NULL && d->attached))
		return;
	if (d == NULL) {
		d = xcalloc(1, sizeof(*d));
		(void)strlcpy(d->udid, u->udid, sizeof(d->udid));
		d->mode = u->mode;
		RB_INSERT(device_tree, &tree, d);
	}
	d->usb_only = 1;
	d->attached = 1;
	d->attaches++;
	d->handle = 0;
	d->product_id = u->product_id;
	d->since_us = lq_wall_now_us();
	log_info("device %s attached in %s mode on %s (libusb only)",
	    d->udid, lq_device_mode_name(u->mode), u->port);
	if (store == NULL)
		return;
	memset(&sd, 0, sizeof(sd));
	sd.udid = d->udid;
	sd.usb_serial = u->serial;
	sd.seen_us = d->since_us;
	if ((d->store_id = store_device(store, &sd)) < 0) {
		d->store_id = 0;
		return;
	}
	devices_where_usb(u, &w);
	devices_attach(d, &w);
}

/* libusb sees a device leave the bus. */
static void
devices_usb_left(struct device *d, const struct usb_info *u)
{
	devices_strand_clear(d);	/* off the bus: unplugged */
	if (!d->usb_only || !d->attached || d->devnum != u->devnum)
		return;
	d->attached = 0;
	d->usb_only = 0;
	d->since_us = lq_wall_now_us();
	log_info("device %s left the bus (%s mode)", d->udid,
	    lq_device_mode_name(d->mode));
	if (d->attachment_id != 0)
		devices_detach(d);
}

/* Take one report of the USB topology (a usb_fn). */
void
devices_usb_event(int arrived, const struct usb_info *u)
{
	struct device	*d;

	if (u->mode == -1 || u->udid[0] == '\0') {
		log_debug("usb %s: Apple device %04x without a UDID we can "
		    "name; not followed", u->port, u->product_id);
		return;
	}
	d = devices_find_usb(u->udid);
	if (arrived)
		devices_usb_arrived(d, u);
	else if (d != NULL)
		devices_usb_left(d, u);
}

/*
 * The attachment of d that a kernel message about its port belongs to:
 * the current one, or the one it left within the reattach window (the
 * kernel and usbmuxd tell of the same episode in either order); else 0.
 */
static int64_t
devices_kernel_attachment(struct device *d, int64_t now)
{
	if (d->attached && d->attachment_id != 0)
		return (d->attachment_id);
	if (!d->attached && d->last_attachment_id != 0 &&
	    now - d->detached_us <= reattach_window_us)
		return (d->last_attachment_id);
	return (0);
}

/* Whether finding f is about d's port (or the hub port above it). */
static int
devices_kernel_match(struct device *d, const struct kmsg_finding *f)
{
	char	bus[16];

	if (d->network || d->port_key[0] == '\0')
		return (0);
	if (f->port[0] != '\0')
		return (kmsg_port_under(d->port_key, f->port));
	/* The host controller or root hub: each device on its bus. */
	if (strcmp(f->kind, "hc-failure") != 0 &&
	    strcmp(f->kind, "over-current") != 0)
		return (0);
	if (f->bus < 0)
		return (1);	/* which bus is not known: all of them */
	(void)snprintf(bus, sizeof(bus), "%d-", f->bus);
	return (strncmp(d->port_key, bus, strlen(bus)) == 0);
}

/* Record one kernel event; add it to the run going on, if any. */
static void
devices_kernel_event(const struct kmsg_finding *f, const char *text,
    int64_t ts_us, int64_t port_id, int64_t attachment_id)
{
	struct store_event	 se;
	struct run		*r;

	memset(&se, 0, sizeof(se));
	se.ts_us = ts_us;
	se.source = "kmsg";
	se.kind = f->kind;
	se.host_id = host_id;
	se.port_id = port_id;
	se.attachment_id = attachment_id;
	se.errnum = f->errnum;
	se.detail = text;
	if (attachment_id != 0 && (r = run_episode(attachment_id)) != NULL)
		se.run_id = run_id(r);
	(void)events_record(&se);
	if (attachment_id != 0 && !f->disconnect)
		run_kernel_event(attachment_id, f->kind, f->errnum, f->port,
		    text);
}

/*
 * A finding of the kernel's log: an event of the port it names, once
 * for each attachment there (or once without one), and evidence of the
 * runs going on. A port is recorded even if no device is on it: a port
 * that fails to enumerate anything is worth knowing about.
 */
void
devices_kernel_finding(const struct kmsg_finding *f, const char *text,
    int64_t ts_us)
{
	struct device	*d;
	int64_t		 port_id = 0, att, devport;
	int		 n = 0, depth = -1;
	const char	*p;

	if (store == NULL)
		return;
	if (f->port[0] != '\0') {
		for (depth = 0, p = f->port; *p != '\0'; p++)
			depth += *p == '.';
		if ((port_id = store_port(store, host_id, f->port, depth)) < 0)
			port_id = 0;
	}
	RB_FOREACH(d, device_tree, &tree) {
		if (!devices_kernel_match(d, f) ||
		    (att = devices_kernel_attachment(d, ts_us)) == 0)
			continue;
		devport = port_id;
		if (devport == 0)
			devport = d->port_id != 0 ? d->port_id :
			    store_port(store, host_id, d->port_key, -1);
		devices_kernel_event(f, text, ts_us, devport < 0 ? 0 :
		    devport, att);
		n++;
	}
	if (n == 0)
		devices_kernel_event(f, text, ts_us, port_id, 0);
}

/* Take one usbmuxd event. */
void
devices_mux_event(const struct mux_event *ev, void *unused)
{
	(void)unused;
	switch (ev->kind) {
	case MUX_EVENT_ADD:
		devices_add(ev);
		break;
	case MUX_EVENT_REMOVE:
		devices_remove(ev);
		break;
	case MUX_EVENT_PAIRED:
		log_info("usbmuxd id %u: paired", ev->handle);
		break;
	}
}

/* Worker thread: ask the device to pair. */
static void
devices_pair_run(struct worker_job *job)
{
	struct pair_job	*pj = (struct pair_job *)job;

	session_set_job(pj->session, job);
	pj->status = session_pair(pj->session, &pj->detail);
	session_close(pj->session);
	session_set_job(pj->session, NULL);
}

static void	devices_pair_submit(struct device *);

/* The pairing poll timer fired: ask again. */
static void
devices_pair_cb(evutil_socket_t fd, short what, void *arg)
{
	struct device	*d = arg;

	(void)fd;
	(void)what;
	if (d->worker != NULL && !d->pair_busy)
		devices_pair_submit(d);
}

/* Loop thread: the device answered the pairing request. */
static void
devices_pair_done(struct worker_job *job)
{
	struct pair_job		*pj = (struct pair_job *)job;
	struct device		*d;
	struct timeval		 tv;

	d = device_find(pj->udid);
	if (d == NULL || d->attachment_id != pj->attachment_id ||
	    d->session != pj->session)
		goto out;
	d->pair_busy = 0;
	d->trust = devices_trust_of(pj->status);
	if (pj->status == LQ_OK) {
		devices_event(d, "user", "pairing", "the device now trusts "
		    "this host");
		devices_identify(d);
		goto out;
	}
	if (pj->status == LQ_ENOTPAIRED) {
		devices_event(d, "user", "pairing", "the user declined the "
		    "Trust prompt");
		goto out;
	}
	if ((pj->status == LQ_EPAIRPENDING || pj->status == LQ_ELOCKED) &&
	    !lq_mono_passed(d->pair_until, lq_mono_now())) {
		tv.tv_sec = PAIR_POLL_US / LQ_USEC_PER_SEC;
		tv.tv_usec = PAIR_POLL_US % LQ_USEC_PER_SEC;
		if (d->pair_ev == NULL)
			d->pair_ev = evtimer_new(base, devices_pair_cb, d);
		if (d->pair_ev == NULL || evtimer_add(d->pair_ev, &tv) == -1)
			log_warnx("device %s: cannot poll the pairing",
			    d->udid);
		goto out;
	}
	log_info("device %s: pairing ended: %s", d->udid,
	    pj->detail != NULL ? pj->detail : lq_strerror(pj->status));
out:
	free(pj->detail);
	free(pj);
}

/* Send a pairing request to d's worker. */
static void
devices_pair_submit(struct device *d)
{
	struct pair_job	*pj;

	pj = xcalloc(1, sizeof(*pj));
	worker_job_init(&pj->job, devices_pair_run, devices_pair_done);
	pj->session = d->session;
	pj->attachment_id = d->attachment_id;
	(void)strlcpy(pj->udid, d->udid, sizeof(pj->udid));
	d->pair_busy = 1;
	worker_submit(d->worker, &pj->job);
}

/* Find an attached device by UDID, else set *code and *cause. */
static struct device *
devices_attached_udid(const char *udid, int *code, char **cause)
{
	struct device	*d;

	if ((d = device_find(udid)) == NULL || !d->attached) {
		*code = 404;
		xasprintf(cause, "no attached device with UDID %s; "
		    "GET /v1/devices lists them", udid);
		return (NULL);
	}
	return (d);
}

/*
 * Start pairing the device: 202 while the Trust prompt waits, 200 if it
 * already trusts this host; else a 4xx code with *cause.
 */
int
devices_pair(const char *udid, char **message)
{
	struct device	*d;
	int		 code;

	if ((d = devices_attached_udid(udid, &code, message)) == NULL)
		return (code);
	if (d->network || d->session == NULL) {
		xasprintf(message, "device %s cannot be paired over this "
		    "connection yet; try again in a moment", udid);
		return (409);
	}
	if (d->trust == TRUST_OK) {
		xasprintf(message, "device %s already trusts this host", udid);
		return (200);
	}
	d->pair_until = lq_mono_add(lq_mono_now(), PAIR_WAIT_US);
	if (!d->pair_busy)
		devices_pair_submit(d);
	xasprintf(message, "unlock the phone and tap Trust; linkqd waits "
	    "%d s for the answer", (int)(PAIR_WAIT_US / LQ_USEC_PER_SEC));
	return (202);
}

/* Start a run: on the device with udid, or else the one on port_key. */
struct run *
devices_start_run(const char *udid, const char *port_key,
    const char *profile, const char *cable, int *code, char **cause)
{
	struct device	*d = NULL, *it;
	struct run	*r;

	*code = 404;
	if (udid != NULL)
		d = devices_attached_udid(udid, code, cause);
	else if (port_key != NULL) {
		RB_FOREACH(it, device_tree, &tree) {
			if (it->attached && strcmp(it->port_key, port_key) == 0)
				d = it;
		}
		if (d == NULL)
			xasprintf(cause, "no device on port %s; GET /v1/ports "
			    "lists them", port_key);
	} else {
		RB_FOREACH(it, device_tree, &tree) {
			if (!it->attached || it->network)
				continue;
			if (d != NULL) {
				*code = 400;
				xasprintf(cause, "several devices are "
				    "attached; say which by udid or port");
				return (NULL);
			}
			d = it;
		}
		if (d == NULL)
			xasprintf(cause, "no device is attached");
	}
	if (d == NULL)
		return (NULL);
	if (cable != NULL) {
		(void)strlcpy(d->cable, cable, sizeof(d->cable));
		devices_store_cable(d);
	}
	*code = 409;
	r = devices_run(d, profile, cause);
	if (r != NULL)
		*code = 201;
	return (r);
}

/* The run going on the device with udid, or NULL. */
struct run *
devices_active_run(const char *udid)
{
	struct device	*d;

	if ((d = device_find(udid)) == NULL || d->attachment_id == 0)
		return (NULL);
	return (run_active(d->attachment_id));
}

/*
 * Whether key can name a port: a sysfs port path such as 1-4.2, or
 * until the topology is read usbmuxd-location-0x10002; else *cause.
 */
static int
devices_port_key_valid(const char *key, char **cause)
{
	size_t	len = strlen(key);

	if (len == 0 || len >= sizeof(((struct device *)0)->port_key) ||
	    strspn(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789.-_") != len) {
		xasprintf(cause, "bad port \"%.64s\": a port is named as "
		    "GET /v1/ports shows it (letters, digits, '.', '-', '_')",
		    key);
		return (0);
	}
	return (1);
}

/*
 * Say which cable is in the port (NULL: none). It applies to the device
 * there now and to the next one, until that device is unplugged.
 */
int
devices_set_cable(const char *port_key, const char *cable, char **cause)
{
	struct device		*d;
	const char		*why;

	if (!devices_port_key_valid(port_key, cause))
		return (-1);
	if (cable != NULL && (why = lq_label_invalid(cable)) != NULL) {
		xasprintf(cause, "bad cable label: %s", why);
		return (-1);
	}
	cables_assign(port_key, cable);
	RB_FOREACH(d, device_tree, &tree) {
		if (d->attached && strcmp(d->port_key, port_key) == 0) {
			(void)strlcpy(d->cable, cable != NULL ? cable : "",
			    sizeof(d->cable));
			devices_store_cable(d);
		}
	}
	return (0);
}

/* Name a port. */
int
devices_set_port_label(const char *port_key, const char *label,
    char **cause)
{
	const char	*why;
	int64_t		 id;

	if (!devices_port_key_valid(port_key, cause))
		return (-1);
	if (label != NULL && (why = lq_label_invalid(label)) != NULL) {
		xasprintf(cause, "bad port label: %s", why);
		return (-1);
	}
	if (store == NULL || (id = store_port(store, host_id, port_key,
	    -1)) < 0 || store_port_label(store, id, label) == -1) {
		xasprintf(cause, "the database refused the label; see the log");
		return (-1);
	}
	if (store_touched != NULL)
		store_touched();
	return (0);
}

/* The ports of this host, with what is on them. */
json_t *
devices_ports_json(void)
{
	static const char	 sql[] = "SELECT path, label FROM ports "
	    "WHERE host_id = ? ORDER BY path";
	struct device		*d;
	sqlite3_stmt		*st;
	json_t			*list, *o;
	const char		*path, *label, *cable;

	list = json_array();
	if (store == NULL || sqlite3_prepare_v2(store_handle(store), sql, -1,
	    &st, NULL) != SQLITE_OK)
		return (list);
	(void)sqlite3_bind_int64(st, 1, host_id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		path = (const char *)sqlite3_column_text(st, 0);
		label = (const char *)sqlite3_column_text(st, 1);
		o = json_pack("{s:s}", "port", path);
		if (label != NULL)
			(void)json_object_set_new(o, "label",
			    json_string(label));
		if ((cable = cables_of_port(path)) != NULL)
			(void)json_object_set_new(o, "cable",
			    json_string(cable));
		RB_FOREACH(d, device_tree, &tree) {
			if (d->attached && strcmp(d->port_key, path) == 0)
				(void)json_object_set_new(o, "udid",
				    json_string(d->udid));
		}
		(void)json_array_append_new(list, o);
	}
	(void)sqlite3_finalize(st);
	return (list);
}

/* What is known of d through lockdown. */
static void
devices_json_info(struct device *d, json_t *o)
{
	if (d->info.name[0] != '\0')
		(void)json_object_set_new(o, "name",
		    json_string(d->info.name));
	if (d->info.product_type[0] != '\0')
		(void)json_object_set_new(o, "product_type",
		    json_string(d->info.product_type));
	if (d->info.ios_version[0] != '\0')
		(void)json_object_set_new(o, "ios_version",
		    json_string(d->info.ios_version));
}

/* The label the user gave d's port, if any. */
static void
devices_json_port_label(struct device *d, json_t *o)
{
	static const char	 sql[] = "SELECT label FROM ports WHERE id = ?";
	sqlite3_stmt		*st;
	const char		*label;

	if (store == NULL || d->port_id == 0 || sqlite3_prepare_v2(
	    store_handle(store), sql, -1, &st, NULL) != SQLITE_OK)
		return;
	(void)sqlite3_bind_int64(st, 1, d->port_id);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    (label = (const char *)sqlite3_column_text(st, 0)) != NULL)
		(void)json_object_set_new(o, "port_label", json_string(label));
	(void)sqlite3_finalize(st);
}

/* d's attachment: port, cable, trust, what to do, the run. */
static void
devices_json_attachment(struct device *d, json_t *o)
{
	static const char *const trust_names[] = {
		"identifying", "trusted", "not-paired", "locked",
		"pair-pending", "error"
	};
	const char	*advice, *verdict;
	struct run	*r;

	(void)json_object_set_new(o, "port", json_string(d->port_key));
	devices_json_port_label(d, o);
	(void)json_object_set_new(o, "mode",
	    json_string(lq_device_mode_name(d->mode)));
	if (d->devnum != 0) {
		(void)json_object_set_new(o, "bus", json_integer(d->bus));
		(void)json_object_set_new(o, "devnum",
		    json_integer(d->devnum));
	}
	if (d->cable[0] != '\0')
		(void)json_object_set_new(o, "cable", json_string(d->cable));
	if (d->usb_only) {
		(void)json_object_set_new(o, "action", json_string(
		    "lockdown and AFC are unavailable in this mode; linkq "
		    "tests endpoint 0 only (usb-control)"));
		goto run;
	}
	(void)json_object_set_new(o, "trust",
	    json_string(trust_names[d->trust]));
	if ((advice = devices_trust_advice(d->trust)) != NULL)
		(void)json_object_set_new(o, "action", json_string(advice));
	if (d->trust_detail != NULL && d->trust != TRUST_OK)
		(void)json_object_set_new(o, "detail",
		    json_string(d->trust_detail));
run:
	if ((r = run_active(d->attachment_id)) != NULL)
		(void)json_object_set_new(o, "run", run_json(r));
	if ((verdict = run_last_verdict(d->attachment_id)) != NULL)
		(void)json_object_set_new(o, "last_verdict",
		    json_string(verdict));
	usbmon_json(o, (int)(d->location_id >> 16),
	    (int)(d->location_id & 0xffff));
}

/* The devices as JSON. */
json_t *
devices_json(void)
{
	struct device	*d;
	json_t		*list, *o;

	list = json_array();
	RB_FOREACH(d, device_tree, &tree) {
		o = json_pack("{s:s, s:b, s:s, s:i, s:I, s:i}",
		    "udid", d->udid,
		    "attached", d->attached,
		    "connection", d->network ? "network" : "usb",
		    "product_id", (int)d->product_id,
		    "since_us", (json_int_t)d->since_us,
		    "attaches", (int)d->attaches);
		if (d->attached && !d->usb_only)
			(void)json_object_set_new(o, "usbmuxd_id",
			    json_integer(d->handle));
		if (d->stranded) {
			(void)json_object_set_new(o, "stranded",
			    json_true());
			(void)json_object_set_new(o, "port",
			    json_string(d->port_key));
			(void)json_object_set_new(o, "action", json_string(
			    "usbmuxd dropped the device after a USB error "
			    "and it is still on the bus: replug the cable"));
		}
		if (d->attachment_id != 0) {
			(void)json_object_set_new(o, "attachment_id",
			    json_integer(d->attachment_id));
			(void)json_object_set_new(o, "location_id",
			    json_integer(d->location_id));
			(void)json_object_set_new(o, "speed_mbps",
			    json_integer((json_int_t)(d->speed_bps /
			    1000000)));
			devices_json_attachment(d, o);
		}
		devices_json_info(d, o);
		(void)json_array_append_new(list, o);
	}
	return (list);
}

/* How many devices are attached now. */
unsigned int
devices_attached(void)
{
	struct device	*d;
	unsigned int	 n = 0;

	RB_FOREACH(d, device_tree, &tree)
		n += d->attached;
	return (n);
}

/*
 * Shutdown: retire every attachment's worker and wait, on the loop, for
 * the last jobs to come back (runs_shutdown() has cut their probes);
 * then stop the locator and forget every device.
 */
void
devices_clear(void)
{
	struct device		*d, *next;

	RB_FOREACH(d, device_tree, &tree)
		devices_retire(d);
	while (retiring > 0)
		if (event_base_loop(base, EVLOOP_ONCE) == -1)
			fatalx("%s: event_base_loop", __func__);
	worker_free(locator);
	locator = NULL;

	RB_FOREACH_SAFE(d, device_tree, &tree, next) {
		RB_REMOVE(device_tree, &tree, d);
		if (d->strand_ev != NULL)
			event_free(d->strand_ev);
		free(d->trust_detail);
		free(d);
	}
	cables_clear();
}

/*
 * The attachment of d with bus and devnum: its current one, or the one
 * it left within the reattach window (usbmuxd drops a device after the
 * failed transfer usbmon saw, before the burst is handed on); else 0.
 * *port_id and port get its port.
 */
static int64_t
devices_usbmon_attachment(struct device *d, int bus, int devnum,
    int64_t now, int64_t *port_id, char *port, size_t size)
{
	static const char	 sql[] = "SELECT a.port_id, p.path "
	    "FROM attachments a JOIN ports p ON p.id = a.port_id "
	    "WHERE a.id = ? AND a.bus = ? AND a.devnum = ?";
	sqlite3_stmt		*st;
	const char		*path;
	int64_t			 ids[2], id = 0;
	size_t			 i;

	if (d->network)
		return (0);
	ids[0] = d->attached ? d->attachment_id : 0;
	ids[1] = d->last_attachment_id != 0 && d->detached_us != 0 &&
	    now - d->detached_us <= reattach_window_us ?
	    d->last_attachment_id : 0;
	for (i = 0; i < nitems(ids) && id == 0; i++) {
		if (ids[i] == 0 || sqlite3_prepare_v2(store_handle(store),
		    sql, -1, &st, NULL) != SQLITE_OK)
			continue;
		(void)sqlite3_bind_int64(st, 1, ids[i]);
		(void)sqlite3_bind_int(st, 2, bus);
		(void)sqlite3_bind_int(st, 3, devnum);
		if (sqlite3_step(st) == SQLITE_ROW) {
			id = ids[i];
			*port_id = sqlite3_column_int64(st, 0);
			path = (const char *)sqlite3_column_text(st, 1);
			(void)strlcpy(port, path != NULL ? path : "", size);
		}
		(void)sqlite3_finalize(st);
	}
	return (id);
}

/*
 * A burst of link errors usbmon saw on bus/devnum: an urb-error event of
 * the attachment there and evidence of its run. A device linkqd does
 * not track (a keyboard's errors) records nothing.
 */
void
devices_usbmon_finding(int bus, int devnum, int status, int64_t ts_us,
    const char *detail)
{
	struct store_event	 se;
	struct device		*d;
	struct run		*r;
	char			 port[64];
	int64_t			 att = 0, port_id = 0;

	if (store == NULL)
		return;
	RB_FOREACH(d, device_tree, &tree) {
		if ((att = devices_usbmon_attachment(d, bus, devnum, ts_us,
		    &port_id, port, sizeof(port))) != 0)
			break;
	}
	if (d == NULL) {
		log_debug("usbmon: bus %d device %d is no attachment's: %s",
		    bus, devnum, detail);
		return;
	}
	memset(&se, 0, sizeof(se));
	se.ts_us = ts_us;
	se.source = "usbmon";
	se.kind = "urb-error";
	se.host_id = host_id;
	se.port_id = port_id;
	se.attachment_id = att;
	se.errnum = status;
	se.detail = detail;
	if ((r = run_episode(att)) != NULL)
		se.run_id = run_id(r);
	(void)events_record(&se);
	run_kernel_event(att, "urb-error", status, port, detail);
}
