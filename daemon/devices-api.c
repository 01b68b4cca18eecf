/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The registry's answers to the control API (devices.h): pairing on
 * request, starting runs, cables and port labels, and the devices and
 * ports as JSON. Loop thread.
 */



#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "cables.h"
#include "child.h"
#include "compat/compat.h"
#include "config.h"
#include "devices.h"
#include "devices-int.h"
#include "linkq.h"
#include "log.h"
#include "lq-status.h"
#include "lq-time.h"
#include "run.h"
#include "store.h"
#include "usbmon.h"
#include "watch.h"
#include "xmalloc.h"

/* How often a pairing request asks whether Trust was tapped. */
#define PAIR_POLL_US		(1 * LQ_USEC_PER_SEC)
/* How long it asks before it gives up. */
#define PAIR_WAIT_US		(120 * LQ_USEC_PER_SEC)
/* Ask the device to pair, in its worker process: job.rep.status. */
struct pair_job {
	struct child_job	 job;
	struct child		*child;
	char			 udid[44];
	int64_t			 attachment_id;
};

/* A port sought among the database's (devices_port_known). */
struct port_seek {
	const char	*key;
	int		 found;
};

static void	devices_pair_submit(struct device *);

/* The pairing poll timer fired: ask again. */
static void
devices_pair_cb(evutil_socket_t fd, short what, void *arg)
{
	struct device	*d = arg;

	(void)fd;
	(void)what;
	if (d->child != NULL && !d->pair_busy)
		devices_pair_submit(d);
}

/* Loop thread: the device answered the pairing request. */
static void
devices_pair_done(struct child_job *job)
{
	struct pair_job		*pj = (struct pair_job *)job;
	struct device		*d;
	struct timeval		 tv;
	int			 status = job->rep.status, known;

	d = device_find(pj->udid);
	if (d == NULL || d->attachment_id != pj->attachment_id ||
	    d->child != pj->child)
		goto out;
	d->pair_busy = 0;
	/*
	 * usbmuxd's Paired may have had the device identified, trusted,
	 * while this poll waited behind that job: nothing to do again.
	 */
	known = d->trust == TRUST_OK;
	d->trust = devices_trust_of(status);
	if (status == LQ_OK) {
		devices_event(d, "user", "pairing", "the device now trusts "
		    "this host");
		if (!known)
			devices_identify(d);
		goto out;
	}
	if (status == LQ_ENOTPAIRED) {
		devices_event(d, "user", "pairing", "the user declined the "
		    "Trust prompt");
		goto out;
	}
	if ((status == LQ_EPAIRPENDING || status == LQ_ELOCKED) &&
	    !lq_mono_passed(d->pair_until, lq_mono_now())) {
		tv.tv_sec = PAIR_POLL_US / LQ_USEC_PER_SEC;
		tv.tv_usec = PAIR_POLL_US % LQ_USEC_PER_SEC;
		if (d->pair_ev == NULL)
			d->pair_ev = evtimer_new(reg.base, devices_pair_cb, d);
		if (d->pair_ev == NULL || evtimer_add(d->pair_ev, &tv) == -1)
			log_warnx("device %s: cannot poll the pairing",
			    d->udid);
		goto out;
	}
	log_info("device %s: pairing ended: %s", d->udid,
	    job->detail != NULL ? job->detail : lq_strerror(status));
out:
	free(job->detail);
	free(job->devlog_detail);
	free(pj);
}

/* Send a pairing request to d's worker process. */
static void
devices_pair_submit(struct device *d)
{
	struct pair_job	*pj;

	pj = xcalloc(1, sizeof(*pj));
	child_job_init(&pj->job, MSG_JOB_PAIR, devices_pair_done);
	pj->child = d->child;
	pj->attachment_id = d->attachment_id;
	(void)strlcpy(pj->udid, d->udid, sizeof(pj->udid));
	d->pair_busy = 1;
	child_submit(d->child, &pj->job);
}

/* Find an attached device by UDID, else set *status and *cause. */
static struct device *
devices_attached_udid(const char *udid, int *status, char **cause)
{
	struct device	*d;

	if ((d = device_find(udid)) == NULL || !d->attached) {
		*status = LQ_ENOTFOUND;
		xasprintf(cause, "no attached device with UDID %s; "
		    "linkq status lists them", udid);
		return (NULL);
	}
	return (d);
}

/*
 * Start pairing the device: LQ_EPAIRPENDING while the Trust prompt
 * waits, LQ_OK if it already trusts this host; else an error status.
 * *message says which, in every case.
 */
int
devices_pair(const char *udid, char **message)
{
	struct device	*d;
	int		 status;

	if ((d = devices_attached_udid(udid, &status, message)) == NULL)
		return (status);
	if (d->network || d->child == NULL) {
		xasprintf(message, "device %s cannot be paired over this "
		    "connection yet; try again in a moment", udid);
		return (LQ_EBUSY);
	}
	if (d->trust == TRUST_OK) {
		xasprintf(message, "device %s already trusts this host", udid);
		return (LQ_OK);
	}
	d->pair_until = lq_mono_add(lq_mono_now(), PAIR_WAIT_US);
	if (!d->pair_busy)
		devices_pair_submit(d);
	xasprintf(message, "unlock the phone and tap Trust; linkqd waits "
	    "%d s for the answer", (int)(PAIR_WAIT_US / LQ_USEC_PER_SEC));
	return (LQ_EPAIRPENDING);
}

/*
 * The device a run is for: the one with udid, or else the one on
 * port_key, or else the only one. NULL with *status and *cause.
 */
static struct device *
devices_pick(const char *udid, const char *port_key, int *status,
    char **cause)
{
	struct device	*d = NULL, *it;

	*status = LQ_ENOTFOUND;
	if (udid != NULL)
		d = devices_attached_udid(udid, status, cause);
	else if (port_key != NULL) {
		RB_FOREACH(it, device_tree, &reg.tree) {
			if (it->attached && strcmp(it->port_key, port_key) == 0)
				d = it;
		}
		if (d == NULL)
			xasprintf(cause, "no device on port %s; linkq ports "
			    "lists them", port_key);
	} else {
		RB_FOREACH(it, device_tree, &reg.tree) {
			if (!it->attached || it->network)
				continue;
			if (d != NULL) {
				*status = LQ_EINVAL;
				xasprintf(cause, "several devices are "
				    "attached; say which by udid or port");
				return (NULL);
			}
			d = it;
		}
		if (d == NULL) {
			*status = LQ_ENODEVICE;
			xasprintf(cause, "no device is attached");
		}
	}
	return (d);
}

/* Say that the cable of d's attachment is cable (NULL: unchanged). */
static void
devices_pick_cable(struct device *d, const char *cable)
{
	if (cable == NULL)
		return;
	(void)strlcpy(d->cable, cable, sizeof(d->cable));
	d->cable_fixed = 0;
	devices_store_cable(d);
}

/*
 * Start a run by UDID, else port, else the only device; NULL with
 * *status and *cause if it cannot start.
 */
struct run *
devices_start_run(const char *udid, const char *port_key,
    const char *profile, const char *cable, int *status, char **cause)
{
	struct device	*d;
	struct run	*r;

	if ((d = devices_pick(udid, port_key, status, cause)) == NULL)
		return (NULL);
	devices_pick_cable(d, cable);
	/* The device's state or the profile's name forbids it. */
	*status = LQ_EBUSY;
	if ((r = devices_run(d, profile, cause)) != NULL)
		*status = LQ_OK;
	else if (reg.store != NULL && store_failing(reg.store))
		*status = LQ_ESTORE;	/* not the device's fault: the disk's */
	return (r);
}

/*
 * Start watching the device picked as for a run, in any mode: a restore
 * may begin with the phone in recovery mode already.
 */
struct watch *
devices_start_watch(const char *udid, const char *port_key,
    const char *cable, const char *command, int *status, char **cause)
{
	struct device	*d;
	struct watch	*w;

	if ((d = devices_pick(udid, port_key, status, cause)) == NULL)
		return (NULL);
	devices_pick_cable(d, cable);
	*status = LQ_EBUSY;
	if (d->attachment_id != 0 && run_active(d->attachment_id) != NULL) {
		xasprintf(cause, "run %lld is going on on %s; wait for it or "
		    "cancel it before the restore",
		    (long long)run_id(run_active(d->attachment_id)),
		    d->port_key);
		return (NULL);
	}
	if ((w = watch_start(d->udid, d->port_key, d->port_id,
	    d->attachment_id, command, cause)) != NULL)
		*status = LQ_OK;
	else if (reg.store != NULL && store_failing(reg.store))
		*status = LQ_ESTORE;
	return (w);
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
		    "linkq ports shows it (letters, digits, '.', '-', '_')",
		    key);
		return (0);
	}
	return (1);
}

/* Tell store_ports_each's walk whether a port is the one sought. */
static void
devices_port_match(const char *path, const char *label, void *arg)
{
	struct port_seek	*ps = arg;

	(void)label;
	if (strcmp(path, ps->key) == 0)
		ps->found = 1;
}

/*
 * Whether the port is one this host has: a device is or was there (the
 * database keeps each port seen), or [cables] names it; else *cause.
 * Checked before anything is written, so a typo leaves no row behind.
 */
static int
devices_port_known(const char *port_key, char **cause)
{
	const struct config_cable	*cc;
	struct device			*d;
	struct port_seek		 ps = { port_key, 0 };

	RB_FOREACH(d, device_tree, &reg.tree) {
		if (strcmp(d->port_key, port_key) == 0)
			return (1);
	}
	TAILQ_FOREACH(cc, &reg.config->cables, entry) {
		if (strcmp(cc->port, port_key) == 0)
			return (1);
	}
	if (reg.store != NULL)
		(void)store_ports_each(reg.store, reg.host_id,
		    devices_port_match, &ps);
	if (!ps.found)
		xasprintf(cause, "no port %s on this host: linkqd has never "
		    "seen a device there and linkq.conf does not name it; "
		    "plug a phone into it first, or name it in [cables] "
		    "(linkq ports lists the ports)", port_key);
	return (ps.found);
}

/*
 * Say which cable is in the port (NULL: none). It applies to the device
 * there now and to the next one, until that device is unplugged; a
 * fixed one until it is cleared.
 */
int
devices_set_cable(const char *port_key, const char *cable, int fixed,
    char **cause)
{
	struct device		*d;
	const char		*why;

	if (!devices_port_key_valid(port_key, cause))
		return (LQ_EINVAL);
	if (cable != NULL && (why = lq_label_invalid(cable)) != NULL) {
		xasprintf(cause, "bad cable label: %s", why);
		return (LQ_EINVAL);
	}
	/* Clearing stays open to any port: it undoes an old mistake. */
	if (cable != NULL && !devices_port_known(port_key, cause))
		return (LQ_ENOTFOUND);
	cables_assign(port_key, cable, cable != NULL && fixed);
	RB_FOREACH(d, device_tree, &reg.tree) {
		if (d->attached && strcmp(d->port_key, port_key) == 0) {
			(void)strlcpy(d->cable, cable != NULL ? cable : "",
			    sizeof(d->cable));
			d->cable_fixed = cable != NULL && fixed;
			devices_store_cable(d);
			run_cable_changed(d->attachment_id, d->cable);
		}
	}
	return (LQ_OK);
}

/* Name a port. */
int
devices_set_port_label(const char *port_key, const char *label,
    char **cause)
{
	const char	*why;
	int64_t		 id;

	if (!devices_port_key_valid(port_key, cause))
		return (LQ_EINVAL);
	if (label != NULL && (why = lq_label_invalid(label)) != NULL) {
		xasprintf(cause, "bad port label: %s", why);
		return (LQ_EINVAL);
	}
	if (label != NULL && !devices_port_known(port_key, cause))
		return (LQ_ENOTFOUND);
	if (reg.store == NULL || (id = store_port(reg.store, reg.host_id,
	    port_key, -1)) < 0 ||
	    store_port_label(reg.store, id, label) == -1) {
		xasprintf(cause, "the database refused the label; see the log");
		return (LQ_ESTORE);
	}
	return (LQ_OK);
}

/* One port of this host, with what is on it, into the list arg. */
static void
devices_port_json(const char *path, const char *label, void *arg)
{
	struct device	*d;
	json_t		*o;
	const char	*cable;
	int		 fixed;

	o = json_pack("{s:s}", "port", path);
	if (label != NULL)
		(void)json_object_set_new(o, "label", json_string(label));
	if ((cable = cables_of_port(path, &fixed)) != NULL) {
		(void)json_object_set_new(o, "cable", json_string(cable));
		if (fixed)
			(void)json_object_set_new(o, "cable_fixed",
			    json_true());
	}
	RB_FOREACH(d, device_tree, &reg.tree) {
		if (d->attached && strcmp(d->port_key, path) == 0)
			(void)json_object_set_new(o, "udid",
			    json_string(d->udid));
	}
	(void)json_array_append_new(arg, o);
}

/* The ports of this host, with what is on them. */
json_t *
devices_ports_json(void)
{
	json_t	*list;

	list = json_array();
	if (reg.store != NULL)
		(void)store_ports_each(reg.store, reg.host_id,
		    devices_port_json, list);
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
	char	label[LQ_LABEL_MAX + 1];

	if (reg.store != NULL && d->port_id != 0 &&
	    store_port_label_get(reg.store, d->port_id, label,
	    sizeof(label)) == 1)
		(void)json_object_set_new(o, "port_label", json_string(label));
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
	if (d->cable_fixed)
		(void)json_object_set_new(o, "cable_fixed", json_true());
	if (d->cable[0] == '\0' && d->last_cable[0] != '\0')
		(void)json_object_set_new(o, "last_cable",
		    json_string(d->last_cable));
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
	RB_FOREACH(d, device_tree, &reg.tree) {
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

/* This host's id in the store. */
int64_t
devices_host_id(void)
{
	return (reg.host_id);
}

/* How many devices are attached now. */
unsigned int
devices_attached(void)
{
	struct device	*d;
	unsigned int	 n = 0;

	RB_FOREACH(d, device_tree, &reg.tree)
		n += d->attached;
	return (n);
}
