/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The device registry (contract in devices.h): a red-black tree of the
 * devices usbmuxd has reported since linkqd started. A device stays in
 * the tree when it goes away, marked detached, so that its history in
 * this process (how often it came and went) is kept; the store keeps it
 * for good.
 *
 * An attachment begins once the device's port and speed are known:
 * from libusb (usb.c) when it sees the device; else, as libusbmuxd does
 * not pass them on, a job on the registry's worker thread asks usbmuxd
 * itself for the LocationID (muxquery.c) and the port is the sysfs
 * directory of the device with that bus and device number
 * (devices_port_key()). A device that comes back within the reattach
 * window continues the attachment it left: the two are linked and the
 * first one's end is recorded as a reset, or as a mode change. A speed
 * below the device's best is a speed-fallback finding.
 *
 * Each attachment gets a worker process (child.h), which holds the
 * device session (session.h) for the blocking libimobiledevice calls,
 * so that a phone that crashes or hangs the library costs a job, not
 * linkqd; the locator alone, which talks to usbmuxd and not to a phone,
 * stays a worker thread (worker.h). The first job identifies the
 * device without pairing it and removes the leftovers of earlier runs
 * from its folder; a device that does not trust this host stays
 * untested, with a status that says what the user must do, until an
 * API call pairs it. When the device goes, its run ends (a dropout)
 * and a last job closes the session; that job's completion (or the
 * process's death, or its kill at its deadline) frees the worker, so
 * the loop never waits on a blocked call.
 *
 * Cable assignments are by port: the cable given for a port belongs to
 * the attachment there now, or to the next one, and stays with the
 * device until it leaves. An unplug is never a reset (issue 13): a
 * device back on its port within the reattach window may be through
 * another cable, so its cable is unconfirmed until somebody says, and
 * nothing of the new attachment is charged to the old cable; only a
 * cable declared fixed to its port stays. The two attachments are
 * linked, as history, but the first ended with an unplug, and the run
 * it had is not given a reset.
 *
 * The registry's other files (devices-int.h): devices-usb.c (libusb's
 * topology: recovery and DFU attachments, stranded devices),
 * devices-kernel.c (kernel log and usbmon findings), devices-api.c (the
 * control API's requests and JSON).
 */

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/event.h>

#include "cables.h"
#include "child.h"
#include "compat/compat.h"
#include "config.h"
#include "devices.h"
#include "devices-int.h"
#include "events.h"
#include "linkq.h"
#include "log.h"
#include "lq-status.h"
#include "lq-time.h"
#include "muxquery.h"
#include "run.h"
#include "service.h"
#include "store.h"
#include "sysfs.h"
#include "usb.h"
#include "watch.h"
#include "worker.h"
#include "xmalloc.h"

/*
 * Every iPhone and iPad negotiates high speed at least; below that the
 * link fell back, whatever this device did elsewhere.
 */
#define SPEED_FLOOR_MBPS	480

/*
 * Identify a device and remove its leftovers, in its worker process;
 * the answer is in job.rep (child.h).
 */
struct identify_job {
	struct child_job	 job;		/* first: the worker's part */
	struct child		*child;
	char			 udid[44];
	int64_t			 attachment_id;
};
/* The last job of an attachment: close its session, free its worker. */
struct retire_job {
	struct child_job	 job;
	struct child		*child;
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
	int			 sysfs_speed;	/* the kernel's, or -1 */
	int			 tries;		/* before this one */
};

/*
 * A ListDevices that failed (usbmuxd busy, restarting, or answering
 * garbage) or did not list the device is asked again, a few times, a
 * moment apart: without a location the device gets no attachment and
 * cannot be tested until it attaches again.
 */
#define DEVICES_LOCATE_TRIES	4
#define DEVICES_LOCATE_RETRY_US	(500 * 1000)

static int	device_cmp(struct device *, struct device *);
static void	devices_locate(struct device *, int);
static void	devices_auto_test(struct device *);
RB_GENERATE(device_tree, device, entry, device_cmp)

struct registry	reg = { .tree = RB_INITIALIZER(&reg.tree) };

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

/*
 * The configuration to follow from now on; cfg must outlive its use.
 * Its fixed cables ([cables]) are declared, as linkq cable --fixed
 * would: at start and at each reload, which adds or changes them; one
 * taken out of the file stays until it is cleared.
 */
void
devices_set_config(const struct config *cfg)
{
	const struct config_cable	*cc;
	char				*cause;

	reg.config = cfg;
	reg.reattach_window_us = cfg->reattach_window_us;
	TAILQ_FOREACH(cc, &cfg->cables, entry) {
		if (devices_set_cable(cc->port, cc->label, 1, &cause) !=
		    LQ_OK) {
			log_warnx("[cables] port %s: %s", cc->port, cause);
			free(cause);
		}
	}
}

/*
 * Set the loop, the store, the function that says it has rows to
 * commit, and the configuration; start the worker that asks usbmuxd
 * for locations.
 */
void
devices_init(struct event_base *b, struct store *s,
    const struct config *cfg)
{
	char	machine[64], host[256];

	reg.base = b;
	reg.store = s;
	devices_set_config(cfg);
	reg.locator = worker_create("linkqd-locate");
	if (reg.store == NULL)
		return;
	devices_machine_id(machine, sizeof(machine));
	if (gethostname(host, sizeof(host)) == -1)
		(void)strlcpy(host, "unknown-host", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	if ((reg.host_id = store_host(reg.store, machine, host)) < 0)
		reg.host_id = 0;
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
struct device *
device_find(const char *udid)
{
	struct device	key;

	(void)strlcpy(key.udid, udid, sizeof(key.udid));
	return (RB_FIND(device_tree, &reg.tree, &key));
}

/* Worker thread: ask usbmuxd where its devices are. */
static void
devices_locate_run(struct worker_job *job)
{
	struct locate_job	*lj = (struct locate_job *)job;
	size_t			 i;

	lj->sysfs_speed = -1;
	lj->ret = muxquery_list(lj->found, nitems(lj->found), &lj->nfound,
	    &lj->cause);
	for (i = 0; lj->ret == 0 && i < lj->nfound; i++) {
		if (lj->found[i].handle != lj->handle)
			continue;
		devices_port_key(lj->sysfs_root, lj->found[i].location_id,
		    lj->port, sizeof(lj->port), &lj->hub_depth);
		if (lj->hub_depth != -1)
			lj->sysfs_speed = sysfs_speed(lj->sysfs_root,
			    lj->port);
	}
}

/* Record an event of d's attachment. */
void
devices_event(struct device *d, const char *source, const char *kind,
    const char *detail)
{
	struct store_event	se;

	memset(&se, 0, sizeof(se));
	se.source = source;
	se.kind = kind;
	se.host_id = reg.host_id;
	se.port_id = d->port_id;
	se.attachment_id = d->attachment_id;
	se.detail = detail;
	(void)events_record(&se);
}

/* Write the cable label of d's attachment to the store. */
void
devices_store_cable(struct device *d)
{
	d->cable_id = 0;
	if (reg.store == NULL || d->attachment_id == 0 || d->cable[0] == '\0')
		return;
	if ((d->cable_id = store_cable(reg.store, d->cable)) < 0) {
		d->cable_id = 0;
		return;
	}
	(void)store_attachment_cable(reg.store, d->attachment_id, d->cable_id,
	    d->cable_fixed);
}

/*
 * A new attachment of d takes the cable assigned to its port, if any:
 * one said since d left, or one declared fixed. Else it has none.
 */
static void
devices_take_cable(struct device *d)
{
	const char	*label;

	if ((label = cables_of_port(d->port_key, &d->cable_fixed)) != NULL)
		(void)strlcpy(d->cable, label, sizeof(d->cable));
	else
		d->cable[0] = '\0';
	devices_store_cable(d);
}

/* d left its port: the port's assignment ends with it, unless fixed. */
static void
devices_leave_port(struct device *d)
{
	cables_release(d->port_key);
	if (d->cable[0] != '\0')
		(void)strlcpy(d->last_cable, d->cable, sizeof(d->last_cable));
	d->cable[0] = '\0';
	d->cable_fixed = 0;
}

/* What the user must do about d's trust, or NULL if nothing. */
const char *
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
enum trust
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
	t->child = d->child;
	t->host_id = reg.host_id;
	t->port_id = d->port_id;
	t->attachment_id = d->attachment_id;
	t->speed_mbps = (int)(d->speed_bps / 1000000);
	t->best_speed_mbps = d->best_speed_mbps;
	t->mode = d->mode;
	(void)strlcpy(t->port, d->port_key, sizeof(t->port));
	(void)strlcpy(t->cable, d->cable, sizeof(t->cable));
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
	if (d->attachment_id == 0 || d->child == NULL) {
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
struct run *
devices_run(struct device *d, const char *name, char **cause)
{
	const struct profile	*pr;
	struct run_target	 t;
	char			 names[512];

	if ((pr = config_profile(reg.config, name)) == NULL) {
		config_profile_names(reg.config, names, sizeof(names));
		xasprintf(cause, "no profile called %s; the profiles are: %s "
		    "(linkq.conf(5) tells how to add one)", name, names);
		return (NULL);
	}
	if (!devices_testable(d, cause))
		return (NULL);
	/* A restore is going on: nothing may disturb it. */
	if (d->port_id != 0 && watch_on_port(d->port_id) != NULL) {
		xasprintf(cause, "port %s is being watched around a restore "
		    "(linkq watch); no test runs there until it ends",
		    d->port_key);
		return (NULL);
	}
	devices_target(d, &t);
	return (run_start(reg.config, pr, &t, cause));
}

/* Test d now if the configuration says so for its port. */
static void
devices_auto_test(struct device *d)
{
	const char	*profile;
	char		*cause;

	if ((profile = config_auto_test(reg.config, d->port_key)) == NULL)
		return;
	if (devices_run(d, profile, &cause) == NULL) {
		log_warnx("device %s: auto-test %s: %s", d->udid, profile,
		    cause);
		free(cause);
	}
}

/* Loop thread: d is identified; test it if the configuration says so. */
static void
devices_identified(struct device *d, struct identify_job *ij)
{
	struct store_device	 sd;
	char			 detail[96];

	const struct msg_done	*rep = &ij->job.rep;
	const char		*why = ij->job.detail;

	d->trust = devices_trust_of(rep->status);
	free(d->trust_detail);
	d->trust_detail = why != NULL ? xstrdup(why) : NULL;
	if (d->trust != TRUST_OK) {
		log_info("device %s: %s%s%s", d->udid,
		    devices_trust_advice(d->trust), why != NULL ? ": " : "",
		    why != NULL ? why : "");
		return;
	}
	d->info = rep->info;
	memset(&sd, 0, sizeof(sd));
	sd.udid = d->udid;
	sd.name = d->info.name[0] != '\0' ? d->info.name : NULL;
	sd.product_type = d->info.product_type[0] != '\0' ?
	    d->info.product_type : NULL;
	sd.ios_version = d->info.ios_version[0] != '\0' ?
	    d->info.ios_version : NULL;
	sd.usb_serial = d->info.serial[0] != '\0' ? d->info.serial : NULL;
	sd.seen_us = lq_wall_now_us();
	if (reg.store != NULL)
		(void)store_device(reg.store, &sd);
	if (rep->cleanup_status != LQ_OK)
		log_warnx("device %s: leftovers not removed: %s", d->udid,
		    why != NULL ? why : "unknown error");
	else if (rep->removed > 0) {
		(void)snprintf(detail, sizeof(detail), "removed %u leftover "
		    "file%s of an earlier run", rep->removed,
		    rep->removed == 1 ? "" : "s");
		log_info("device %s: %s", d->udid, detail);
	}
	log_info("device %s: %s, %s, iOS %s", d->udid, d->info.name,
	    d->info.product_type, d->info.ios_version);
	devices_auto_test(d);
}

/* Loop thread: the identify job is back. */
static void
devices_identify_done(struct child_job *job)
{
	struct identify_job	*ij = (struct identify_job *)job;
	struct device		*d;

	d = device_find(ij->udid);
	if (d != NULL && d->attachment_id == ij->attachment_id &&
	    d->child == ij->child)
		devices_identified(d, ij);
	free(job->detail);
	free(job->devlog_detail);
	free(ij);
}

/* Ask d's worker process who d is and whether it trusts this host. */
void
devices_identify(struct device *d)
{
	struct identify_job	*ij;

	d->trust = TRUST_UNKNOWN;
	ij = xcalloc(1, sizeof(*ij));
	child_job_init(&ij->job, MSG_JOB_IDENTIFY, devices_identify_done);
	ij->child = d->child;
	ij->attachment_id = d->attachment_id;
	(void)strlcpy(ij->udid, d->udid, sizeof(ij->udid));
	child_submit(d->child, &ij->job);
}

/*
 * A new attachment: its worker process (started with the first job)
 * and identify the device.
 */
static void
devices_session_start(struct device *d)
{
	d->child = child_new(d->udid, reg.config->afc_folder);
	/* A restore goes on there: not a word to the phone until it ends. */
	if (d->port_id != 0 && watch_on_port(d->port_id) != NULL) {
		log_info("device %s: on a watched port; identified after the "
		    "restore", d->udid);
		d->identify_later = 1;
		return;
	}
	devices_identify(d);
}

/* The watch of port_id ended: identify the devices it kept quiet. */
void
devices_watch_ended(int64_t port_id)
{
	struct device	*d;

	RB_FOREACH(d, device_tree, &reg.tree) {
		if (!d->identify_later || d->port_id != port_id)
			continue;
		d->identify_later = 0;
		if (d->attached && d->child != NULL)
			devices_identify(d);
	}
}

/* Loop thread: the worker is idle for good (or dead); free it. */
static void
devices_retire_done(struct child_job *job)
{
	struct retire_job	*rj = (struct retire_job *)job;

	child_free(rj->child);
	reg.retiring--;
	free(job->detail);
	free(job->devlog_detail);
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
	if (d->child == NULL)
		return;
	child_cancel(d->child);
	rj = xcalloc(1, sizeof(*rj));
	child_job_init(&rj->job, MSG_JOB_CLOSE, devices_retire_done);
	rj->child = d->child;
	reg.retiring++;
	child_submit(d->child, &rj->job);
	d->child = NULL;
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
	char	path[sizeof(((struct device *)0)->port_key)];
	int	best = d->best_speed_mbps, speed;

	(void)strlcpy(port, "", size);
	if (reg.store != NULL && d->store_id != 0 &&
	    store_device_best_speed(reg.store, d->store_id, &speed, path,
	    sizeof(path)) == 1 && speed >= best) {
		best = speed;
		(void)strlcpy(port, path, size);
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
	/* 1.1.1's 480 of a 10 Gb/s link is no fallback from 10 Gb/s. */
	if (w->speed_vague && best > 5000)
		log_info("device %s: usbmuxd says %d Mb/s on %s, as it says "
		    "of any link faster than 5 Gb/s: no speed finding",
		    d->udid, w->speed_mbps, w->port);
	else if (w->speed_mbps > 0 && w->speed_mbps < best) {
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
 * attachment before is prev. In another mode that is a mode change, no
 * fault. In the same mode it left usbmuxd (or libusb, or the kernel
 * said "USB disconnect") and came back: an unplug and a replug as far
 * as anything here can tell, maybe with another cable, never a reset.
 * A reset is what the kernel says it is ("reset ... USB device
 * number", kmsg.c).
 */
static void
devices_link(struct device *d, const struct attach_where *w, int64_t prev,
    int64_t now)
{
	char	detail[128];

	if (w->mode == d->mode) {
		log_info("device %s: back on %s after %lld ms as device "
		    "number %d, a replug: linked to attachment %lld", d->udid,
		    w->port, (long long)((now - d->detached_us) / 1000),
		    w->devnum, (long long)prev);
		return;
	}
	(void)store_attachment_end(reg.store, prev, d->detached_us,
	    "mode-change");
	(void)snprintf(detail, sizeof(detail), "%s to %s mode after %lld ms",
	    lq_device_mode_name(d->mode), lq_device_mode_name(w->mode),
	    (long long)((now - d->detached_us) / 1000));
	devices_event(d, w->source, "mode-change", detail);
	log_info("device %s: %s, linked to attachment %lld", d->udid,
	    detail, (long long)prev);
}

/* Begin the attachment of d where w says. */
void
devices_attach(struct device *d, const struct attach_where *w)
{
	struct store_attachment	 sa;
	struct log_ctx		 ctx;
	int64_t			 port_id, now = lq_wall_now_us();

	d->location_id = w->location_id;
	d->speed_bps = (uint64_t)w->speed_mbps * 1000000;
	d->bus = w->bus;
	d->devnum = w->devnum;
	if (reg.store == NULL || d->store_id == 0)
		return;
	if ((port_id = store_port(reg.store, reg.host_id, w->port,
	    w->hub_depth)) < 0)
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
	    now - d->detached_us <= reg.reattach_window_us &&
	    devices_same_port(d->port_key, w->port))
		sa.previous_id = d->last_attachment_id;
	if ((d->attachment_id = store_attachment_begin(reg.store, &sa)) < 0) {
		d->attachment_id = 0;
		return;
	}
	d->port_id = port_id;
	(void)strlcpy(d->port_key, w->port, sizeof(d->port_key));
	devices_take_cable(d);
	if (sa.previous_id != 0)
		devices_link(d, w, sa.previous_id, now);
	devices_check_speed(d, w);
	devices_log_ctx(d, &ctx);
	log_fields(LOG_INFO, &ctx, "device %s: attachment %lld on %s at %d "
	    "Mb/s, %s mode", d->udid, (long long)d->attachment_id, w->port,
	    w->speed_mbps, lq_device_mode_name(w->mode));
	d->mode = w->mode;
	if (d->usb_only)
		devices_auto_test(d);
	else
		devices_session_start(d);
}

/*
 * The speed of an attachment usbmuxd reported: the kernel's where sysfs
 * has it, as usbmuxd's ConnectionSpeed is coarser. usbmuxd 1.1.1 maps
 * every libusb speed it does not know to 480 Mb/s (usb.c:525-540 at
 * tag 1.1.1), a 10 Gb/s link included, so without sysfs its 480 says
 * "high speed or faster".
 */
static void
devices_where_speed(struct attach_where *w, uint64_t mux_bps, int sysfs_mbps)
{
	int	mux_mbps = (int)(mux_bps / 1000000);

	if (sysfs_mbps >= 12) {
		if (sysfs_mbps != mux_mbps)
			log_debug("%s: usbmuxd says %d Mb/s, the kernel %d",
			    w->port, mux_mbps, sysfs_mbps);
		w->speed_mbps = sysfs_mbps;
		return;
	}
	w->speed_mbps = mux_mbps;
	w->speed_vague = mux_mbps == SPEED_FLOOR_MBPS;
}


/* The retry timer of a locate: ask again if the device still waits. */
static void
devices_locate_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct device	*d = arg;

	(void)fd;
	(void)what;
	if (d->attached && d->attachment_id == 0)
		devices_locate(d, d->locate_tries);
}

/* Ask usbmuxd again where d is, unless it has had its tries. */
static void
devices_locate_again(struct device *d, const struct locate_job *lj)
{
	struct timeval	tv;

	if (d == NULL || !d->attached || d->handle != lj->handle ||
	    d->attachment_id != 0)
		return;
	if (lj->tries + 1 >= DEVICES_LOCATE_TRIES) {
		log_warnx("device %s: no location after %d tries; it is "
		    "tested once it attaches again", lj->udid,
		    DEVICES_LOCATE_TRIES);
		return;
	}
	d->locate_tries = lj->tries + 1;
	if (d->locate_ev == NULL && (d->locate_ev = evtimer_new(reg.base,
	    devices_locate_retry_cb, d)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	tv.tv_sec = DEVICES_LOCATE_RETRY_US / 1000000;
	tv.tv_usec = DEVICES_LOCATE_RETRY_US % 1000000;
	if (evtimer_add(d->locate_ev, &tv) == -1)
		fatalx("%s: evtimer_add", __func__);
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
	if (lj->ret == -1) {
		log_warnx("device %s: no location: %s", lj->udid, lj->cause);
		devices_locate_again(d, lj);
	} else if (d != NULL && d->attached && d->handle == lj->handle &&
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
			devices_where_speed(&w, lj->found[i].speed_bps,
			    lj->sysfs_speed);
			w.mode = LQ_MODE_NORMAL;
			w.source = "usbmuxd";
		}
		if (w.source != NULL)
			devices_attach(d, &w);
		else {
			log_warnx("device %s: usbmuxd did not list it",
			    lj->udid);
			devices_locate_again(d, lj);
		}
	}
	free(lj->cause);
	free(lj);
}

/* Ask, on the worker, where the device just attached is. */
static void
devices_locate(struct device *d, int tries)
{
	struct locate_job	*lj;

	if (reg.locator == NULL)
		return;
	lj = xcalloc(1, sizeof(*lj));
	worker_job_init(&lj->job, devices_locate_run, devices_locate_done);
	(void)strlcpy(lj->udid, d->udid, sizeof(lj->udid));
	(void)strlcpy(lj->sysfs_root, reg.config->sysfs_root,
	    sizeof(lj->sysfs_root));
	lj->handle = d->handle;
	lj->tries = tries;
	worker_submit(reg.locator, &lj->job);
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
		RB_INSERT(device_tree, &reg.tree, d);
	}
	d->handle = ev->handle;
	d->product_id = ev->product_id;
	d->network = ev->network;
	d->attached = 1;
	d->attaches++;
	d->since_us = lq_wall_now_us();
	log_info("device %s attached (usbmuxd id %u%s)", d->udid, d->handle,
	    d->network ? ", network: not tested" : "");
	if (reg.store == NULL || d->network)
		return;
	memset(&sd, 0, sizeof(sd));
	sd.udid = d->udid;
	sd.seen_us = d->since_us;
	if ((d->store_id = store_device(reg.store, &sd)) < 0)
		d->store_id = 0;
	devices_strand_clear(d);
	devices_locate(d, 0);
}

/* A device went away; usbmuxd names it by handle only. */
static void
devices_remove(const struct mux_event *ev)
{
	struct log_ctx	 ctx;
	struct device	*d;

	RB_FOREACH(d, device_tree, &reg.tree) {
		if (d->attached && !d->usb_only && d->handle == ev->handle)
			break;
	}
	if (d == NULL) {
		log_debug("usbmuxd removed unknown device id %u", ev->handle);
		return;
	}
	d->attached = 0;
	d->since_us = lq_wall_now_us();
	if (d->locate_ev != NULL)
		(void)evtimer_del(d->locate_ev);
	devices_log_ctx(d, &ctx);
	log_fields(LOG_INFO, &ctx, "device %s detached (usbmuxd id %u)",
	    d->udid, d->handle);
	if (d->attachment_id == 0)
		return;
	devices_strand_watch(d);
	devices_detach(d);
}

/* d's attachment ended: an unplug unless d is back within the window. */
void
devices_detach(struct device *d)
{
	(void)store_attachment_end(reg.store, d->attachment_id, d->since_us,
	    "unplug");
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

/*
 * usbmuxd saved a pair record for a device: its preflight paired it
 * when the user tapped Trust (or a pairing of our own completed). A
 * device still waiting for trust is identified again, and tested then
 * if its port says so; linkqd itself pairs nothing here.
 */
static void
devices_paired(const struct mux_event *ev)
{
	struct device	*d;

	RB_FOREACH(d, device_tree, &reg.tree) {
		if (d->attached && !d->usb_only && d->handle == ev->handle)
			break;
	}
	if (d == NULL) {
		log_info("usbmuxd id %u: paired", ev->handle);
		return;
	}
	log_info("device %s: paired (usbmuxd id %u)", d->udid, ev->handle);
	if (d->child != NULL && d->trust != TRUST_OK && !d->pair_busy)
		devices_identify(d);
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
		devices_paired(ev);
		break;
	}
	service_changed();
}

/* The facts of d for the journal (log.h). */
void
devices_log_ctx(const struct device *d, struct log_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->udid = d->udid;
	ctx->port = d->port_key;
	ctx->cable = d->cable;
}

/*
 * Shutdown: retire every attachment's worker and wait, on the loop, for
 * the last jobs to come back (runs_shutdown() has cut their probes); a
 * worker process stuck in the library is killed at its grace deadline
 * (child.h), so this never waits on it for long. Then stop the locator
 * and forget every device.
 */
void
devices_clear(void)
{
	struct device		*d, *next;

	RB_FOREACH(d, device_tree, &reg.tree)
		devices_retire(d);
	while (reg.retiring > 0)
		if (event_base_loop(reg.base, EVLOOP_ONCE) == -1)
			fatalx("%s: event_base_loop", __func__);
	worker_free(reg.locator);
	reg.locator = NULL;

	RB_FOREACH_SAFE(d, device_tree, &reg.tree, next) {
		RB_REMOVE(device_tree, &reg.tree, d);
		if (d->strand_ev != NULL)
			event_free(d->strand_ev);
		if (d->locate_ev != NULL)
			event_free(d->locate_ev);
		free(d->trust_detail);
		free(d);
	}
	cables_clear();
}
