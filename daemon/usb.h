/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The USB topology through libusb: every Apple device (vendor 0x05ac) on
 * the bus with its port path, device number, negotiated speed and mode,
 * followed by hotplug. usbmuxd tells linkqd nothing of the link itself,
 * and sees no device in recovery or DFU mode at all; libusb sees them
 * all, including one that usbmuxd dropped after a USB error (stranded).
 *
 * libusb runs on the loop thread: its file descriptors are libevent
 * events, its hotplug callbacks are queued and handed to the caller's
 * function from a libevent callback (never from inside libusb), and its
 * transfers are asynchronous (usb_open() for probe-usb-control.c). A
 * device node that cannot be polled (umockdev's are regular files) is
 * handled on a short timer, and only while a transfer is in flight, so
 * an idle linkqd never spins. libusb's own udev thread is libusb's.
 *
 * Everything here is loop thread only.
 */

#ifndef LQ_USB_H
#define LQ_USB_H

#include <stdint.h>

#include <event2/event.h>
#include <libusb.h>

#define USB_APPLE_VID	0x05ac

/* An Apple device on the bus, as libusb and sysfs describe it. */
struct usb_info {
	int		 bus;
	int		 devnum;
	char		 port[32];	/* port path: "1-4.2" */
	int		 hub_depth;	/* hubs between it and the root */
	int		 speed_mbps;	/* 1 (low, 1.5), 12, 480, 5000...;
					 * 0 unknown */
	uint16_t	 product_id;
	int		 mode;		/* enum lq_device_mode, or -1: not
					 * an iPhone-like device */
	char		 serial[128];	/* iSerialNumber, from sysfs */
	char		 udid[44];	/* derived from serial, or "" */
};

/* Told of each arrival (1) and departure (0), from the loop. */
typedef void	(*usb_fn)(int, const struct usb_info *);

/*
 * Start following the bus: enumerate, then hotplug; sysfs_root is where
 * the serial numbers are read (config [daemon] sysfs). Returns 0, or -1
 * when libusb is not usable here (usb_status() says why); linkqd goes on
 * without topology then.
 */
int		 usb_start(struct event_base *, const char *, usb_fn);
/* Shutdown: let cancelled transfers come back (blocks up to 2 s). */
void		 usb_drain(void);
void		 usb_stop(void);
/* The loop libusb runs on. */
struct event_base *usb_event_base(void);
/* Whether libusb is watching the bus. */
int		 usb_available(void);
/* "watching", or "unavailable: <why>". */
const char	*usb_status(void);
/* The same, with what to do, for GET /v1/status (sources.h). */
struct source_state;
void		 usb_source(struct source_state *);
/* The device on the bus now with this UDID (any mode), or NULL. */
const struct usb_info *usb_find(const char *);

/*
 * For probes: open the device at bus/devnum (libusb_open, no interface
 * claimed). 0, or an lq_status. Transfers submitted on the handle must
 * be counted with usb_transfer_begin/_end, so that a device node that
 * cannot be polled is serviced while they are in flight.
 */
int		 usb_open(int, int, libusb_device_handle **);
/* After a libusb call on the loop: put its signal mask back (usb.c). */
void		 usb_restore_mask(void);
void		 usb_transfer_begin(void);
void		 usb_transfer_end(void);
/* Map a libusb transfer status or error code to an lq_status. */
int		 usb_status_of_transfer(enum libusb_transfer_status);
int		 usb_status_of_error(int);
const char	*usb_transfer_status_name(enum libusb_transfer_status);

/* The mode of an Apple product ID: enum lq_device_mode, or -1. */
int		 usb_mode_of_product(uint16_t);
/*
 * The UDID a device's USB serial number names: a normal-mode serial is
 * the UDID without its dash (24 hex digits, modern) or the UDID itself
 * (40 hex, older); recovery and DFU serials carry CPID and ECID, which
 * make the modern UDID "%08X-%016X". Returns 0, or -1 if it names none.
 */
int		 usb_udid_of_serial(const char *, char *, size_t);
/* Whether two UDIDs are the same device (case and dashes aside). */
int		 usb_udid_equal(const char *, const char *);

#endif /* LQ_USB_H */
