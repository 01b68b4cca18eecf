/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The device registry's insides, shared by the files that make it up
 * (contract in devices.h): devices.c keeps the registry and the
 * attachments, with usbmuxd's events and the sessions; devices-usb.c
 * takes libusb's topology (devices in recovery and DFU mode, stranded
 * devices); devices-kernel.c the kernel's log and usbmon; devices-api.c
 * answers the control API. Loop thread only, all of it.
 */

#ifndef LQ_DEVICES_INT_H
#define LQ_DEVICES_INT_H

#include <stdint.h>

#include <event2/event.h>

#include "compat/tree.h"
#include "linkq.h"
#include "lq-time.h"
#include "session.h"

struct child;
struct config;
struct run;
struct store;
struct usb_info;
struct worker;

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
	int			 identify_later; /* after a restore-watch */
	int			 strand_devnum;	/* to check after the grace */
	struct event		*strand_ev;
	struct event		*locate_ev;	/* asks usbmuxd again */
	int			 locate_tries;	/* for this attach */
	int64_t			 port_id;	/* of the attachment, or 0 */
	char			 port_key[64];
	int64_t			 cable_id;	/* of the attachment, or 0 */
	char			 cable[LQ_LABEL_MAX + 1];
	int			 cable_fixed;	/* by a fixed declaration */
	char			 last_cable[LQ_LABEL_MAX + 1];
					/* before it left its port: what
					 * linkq offers to confirm */

	/* While attached: the attachment's worker process (child.h). */
	struct child		*child;
	enum trust		 trust;
	char			*trust_detail;	/* the library's words */
	struct session_info	 info;
	struct event		*pair_ev;	/* polls a pairing request */
	lq_mono_t		 pair_until;
	int			 pair_busy;	/* a pair job in flight */
	RB_ENTRY(device)	 entry;
};
/* Where an attachment begins, from usbmuxd and sysfs or from libusb. */
struct attach_where {
	char			 port[64];	/* port key */
	int			 hub_depth;	/* -1 unknown */
	int			 bus;
	int			 devnum;
	uint32_t		 location_id;	/* usbmuxd's, or 0 */
	int			 speed_mbps;	/* 0 unknown */
	int			 speed_vague;	/* 480: maybe 10000 too */
	int			 mode;		/* enum lq_device_mode */
	const char		*source;	/* "usbmuxd" or "libusb" */
};
RB_HEAD(device_tree, device);
RB_PROTOTYPE(device_tree, device, entry, device_cmp)

/* What the registry's files share. */
struct registry {
	struct device_tree	 tree;		/* by UDID */
	struct store		*store;		/* or NULL */
	struct worker		*locator;	/* asks usbmuxd for locations */
	int64_t			 host_id;
	int64_t			 reattach_window_us;
	const struct config	*config;
	struct event_base	*base;
	unsigned int		 retiring;	/* retire jobs in flight */
};
extern struct registry	 reg;

/* devices.c: the registry and the attachments. */
struct device *device_find(const char *);
void	devices_event(struct device *, const char *, const char *,
	    const char *);
void	devices_store_cable(struct device *);
struct log_ctx;
/* The facts of a device for the journal (log.h). */
void	devices_log_ctx(const struct device *, struct log_ctx *);
const char *devices_trust_advice(enum trust);
enum trust	devices_trust_of(int);
struct run *devices_run(struct device *, const char *, char **);
void	devices_identify(struct device *);
/* Begin d's attachment where w says; end it (an unplug, unless back). */
void	devices_attach(struct device *, const struct attach_where *);
void	devices_detach(struct device *);

/* devices-usb.c: libusb's side. */
void	devices_where_usb(const struct usb_info *, struct attach_where *);
/* usbmuxd dropped d: watch whether it stays on the bus; or stop. */
void	devices_strand_watch(struct device *);
void	devices_strand_clear(struct device *);

#endif /* LQ_DEVICES_INT_H */
