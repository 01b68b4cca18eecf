/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The umockdev testbed (contract in umockdev.h).
 *
 * DESIGN
 * Every device is one umockdev record: sysfs attributes as the kernel
 * writes them, udev properties, a node file and the "descriptors" blob
 * libusb reads (the device descriptor followed by every configuration,
 * protocols.md 4.4). A device's node gets an ioctl handler of its own,
 * attached before the record is added, so that a process which sees
 * the "add" uevent can open the node at once, and detached when the
 * device leaves. What ep0 answers (descriptors, strings, the current
 * configuration) lives in the handler's node, struct umd_node, made
 * when the device enumerates and never changed but for the
 * configuration, which only the worker thread touches.
 *
 * usbdevfs as libusb 1.0.26 uses it: SUBMITURB takes a control URB at
 * once and asks the link model (link_control) what becomes of it and
 * when it is due; REAPURBNDELAY hands back the URB due first, or
 * EAGAIN. A preloaded process polls its node, a regular file, which is
 * always ready, so it reaps again and again and a late URB needs no
 * timer. The calls that wait (a blocking REAPURB, USBDEVFS_CONTROL)
 * are completed later from a GLib timeout source on the worker's
 * context: nothing on the worker thread sleeps, and it takes the
 * simulator lock only in link_control and to rewrite one attribute.
 *
 * Ownership: a node is counted (refs, C11 atomics, so that the thread
 * sanitizer sees its hand-over): one reference while it is on the bus
 * (the nodes list), one held by its handler (freed when the handler
 * is finalized, after its last client) and one by each client's state.
 * A client's state (struct umd_client: its URBs) hangs off the umockdev
 * client object and goes with it, on the worker thread.
 */

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat/compat.h"
#include "compat/queue.h"
#include "link.h"
#include "log.h"
#include "lq-time.h"
#include "sim.h"
#include "umockdev.h"
#include "xmalloc.h"

#ifdef LQ_HAVE_UMOCKDEV

#include <sys/ioctl.h>

#include <linux/usbdevice_fs.h>

#include <umockdev.h>

#define UMD_DESC_MAX		512
#define UMD_CONFIGS_MAX		4
#define UMD_STRINGS		8	/* indexes 1-7 */
#define UMD_NEVER		INT64_MAX
/* What a blocking USBDEVFS_CONTROL with no timeout waits: the kernel's
 * USB_CTRL_GET_TIMEOUT, not forever, as the caller's signals are
 * blocked while it waits on us. */
#define UMD_CONTROL_WAIT_MS	5000
#define UMD_VID_APPLE		0x05ac
#define UMD_VID_LINUX		0x1d6b
#define UMD_VID_GENESYS		0x05e3

/* A descriptor set: the device descriptor, then each configuration. */
struct umd_desc {
	uint8_t		 b[UMD_DESC_MAX];
	size_t		 len;
	size_t		 cfg_off[UMD_CONFIGS_MAX];
	size_t		 cfg_len[UMD_CONFIGS_MAX];
	int		 ncfg;
	int		 overflow;
};

/* A device node and what its ep0 answers. */
struct umd_node {
	atomic_int		 refs;
	atomic_int		 gone;		/* left the bus */
	atomic_ullong		 ioctls;	/* answered, for -vv */
	char			*path;		/* port path */
	char			*syspath;	/* in /sys/devices */
	char			*devnode;	/* /dev/bus/usb/001/005 */
	struct sim_device	*dev;
	uint64_t		 usb_gen;
	UMockdevIoctlBase	*handler;	/* ours while on the bus */
	struct umd_desc		 desc;
	char			*strings[UMD_STRINGS];
	int			 config;	/* worker thread's */
	TAILQ_ENTRY(umd_node)	 entry;		/* locked */
};

/* A submitted URB, until reaped. */
struct umd_urb {
	UMockdevIoctlData	*urb;		/* the client's, resolved */
	UMockdevIoctlData	*buf;		/* its buffer, resolved */
	gulong			 addr;		/* where the client has it */
	int			 in;
	int64_t			 due_us;	/* UMD_NEVER: a timeout */
	int			 status;	/* 0 or -errno */
	int			 actual;	/* data bytes */
	uint8_t			*data;		/* IN: what the device sends */
	TAILQ_ENTRY(umd_urb)	 entry;
};
TAILQ_HEAD(umd_urbs, umd_urb);

/* One open file of a node: its URBs. Worker thread only. */
struct umd_client {
	struct umd_node		*node;
	struct umd_urbs		 urbs;
};

/* A call that completes later. Worker thread only. */
struct umd_wait {
	UMockdevIoctlClient	*client;	/* a reference */
	struct umd_client	*c;
	int			 reap;		/* REAPURB, else a result */
	long			 res;
	int			 err;
};

/* Set at umockdev_open; the list is locked. */
static UMockdevTestbed		*testbed;
static char			*root;
static TAILQ_HEAD(, umd_node)	 nodes = TAILQ_HEAD_INITIALIZER(nodes);

static void	umd_reap(UMockdevIoctlClient *, struct umd_client *, int);

/* Append bytes to a descriptor set. */
static void
umd_put(struct umd_desc *d, const uint8_t *p, size_t n)
{
	if (d->len + n > sizeof(d->b)) {
		d->overflow = 1;
		return;
	}
	memcpy(d->b + d->len, p, n);
	d->len += n;
}

/* The device descriptor. */
static void
umd_device_desc(struct umd_desc *d, int speed, int class, int proto,
    uint16_t vid, uint16_t pid, uint16_t bcd, int nconf)
{
	uint16_t	usb = speed >= 5000 ? 0x0320 : 0x0200;
	uint8_t		b[18];

	if (class == 9 && speed >= 5000)
		usb = 0x0300;
	b[0] = 18;
	b[1] = 1;			/* DEVICE */
	b[2] = usb & 0xff;
	b[3] = usb >> 8;
	b[4] = (uint8_t)class;
	b[5] = 0;
	b[6] = (uint8_t)proto;
	b[7] = speed >= 5000 ? 9 : 64;	/* 2^9 at SuperSpeed */
	b[8] = vid & 0xff;
	b[9] = vid >> 8;
	b[10] = pid & 0xff;
	b[11] = pid >> 8;
	b[12] = bcd & 0xff;
	b[13] = bcd >> 8;
	b[14] = class == 9 ? 0 : 1;	/* iManufacturer */
	b[15] = class == 9 ? 0 : 2;	/* iProduct */
	b[16] = class == 9 ? 0 : 3;	/* iSerialNumber */
	b[17] = (uint8_t)nconf;
	umd_put(d, b, sizeof(b));
}

/* Start a configuration; umd_config_end fills in its length. */
static void
umd_config(struct umd_desc *d, int nifaces, int iconf, int attrs,
    int power)
{
	uint8_t	b[9];

	if (d->ncfg == UMD_CONFIGS_MAX) {
		d->overflow = 1;
		return;
	}
	d->cfg_off[d->ncfg++] = d->len;
	b[0] = 9;
	b[1] = 2;			/* CONFIGURATION */
	b[2] = b[3] = 0;		/* wTotalLength, below */
	b[4] = (uint8_t)nifaces;
	b[5] = (uint8_t)d->ncfg;	/* bConfigurationValue */
	b[6] = (uint8_t)iconf;
	b[7] = (uint8_t)attrs;
	b[8] = (uint8_t)power;		/* 2 mA units */
	umd_put(d, b, sizeof(b));
}

/* Close the configuration started last: its wTotalLength. */
static void
umd_config_end(struct umd_desc *d)
{
	size_t	off, len;

	if (d->ncfg == 0 || d->overflow)
		return;
	off = d->cfg_off[d->ncfg - 1];
	len = d->len - off;
	d->cfg_len[d->ncfg - 1] = len;
	d->b[off + 2] = len & 0xff;
	d->b[off + 3] = (uint8_t)(len >> 8);
}

/* An interface descriptor. */
static void
umd_iface(struct umd_desc *d, int num, int alt, int neps, int class,
    int sub, int proto)
{
	uint8_t	b[9] = { 9, 4, (uint8_t)num, (uint8_t)alt, (uint8_t)neps,
		    (uint8_t)class, (uint8_t)sub, (uint8_t)proto, 0 };

	umd_put(d, b, sizeof(b));
}

/* An endpoint descriptor: attrs 2 bulk, 3 interrupt. */
static void
umd_ep(struct umd_desc *d, int addr, int attrs, int maxp, int interval)
{
	uint8_t	b[7] = { 7, 5, (uint8_t)addr, (uint8_t)attrs,
		    (uint8_t)(maxp & 0xff), (uint8_t)(maxp >> 8),
		    (uint8_t)interval };

	umd_put(d, b, sizeof(b));
}

/* The packet size of a bulk endpoint at a speed. */
static int
umd_bulk_size(int speed)
{
	if (speed >= 5000)
		return (1024);
	return (speed >= 480 ? 512 : 64);
}

/* The PTP interface every iPhone configuration starts with. */
static void
umd_ptp(struct umd_desc *d, int speed)
{
	umd_iface(d, 0, 0, 3, 6, 1, 1);
	umd_ep(d, 0x81, 2, umd_bulk_size(speed), 0);
	umd_ep(d, 0x02, 2, umd_bulk_size(speed), 0);
	umd_ep(d, 0x83, 3, 64, 10);
}

/*
 * An iPhone's descriptors in its mode. In iOS, four configurations,
 * usbmuxd's interface (0xff/0xfe/0x02) in the third and the fourth;
 * in recovery iBoot's two vendor interfaces, the second with a bulk
 * pair in its alternate setting 1 (what libirecovery selects); in DFU
 * one DFU interface (0xfe/0x01) and its functional descriptor.
 */
static void
umd_iphone_desc(struct umd_desc *d, const struct umockdev_dev *ud)
{
	static const uint8_t	dfu_func[9] = {
		9, 0x21, 0x0b, 0x00, 0x00, 0x00, 0x08, 0x10, 0x01
	};
	int			bulk = umd_bulk_size(ud->speed_mbps), i;

	switch (ud->mode) {
	case SIM_MODE_RECOVERY:
		umd_device_desc(d, ud->speed_mbps, 0, 0, UMD_VID_APPLE,
		    ud->product_id, 0x0000, 1);
		umd_config(d, 2, 0, 0xc0, 0xfa);
		umd_iface(d, 0, 0, 0, 0xff, 0xff, 0);
		umd_iface(d, 1, 0, 0, 0xff, 0xff, 0);
		umd_iface(d, 1, 1, 2, 0xff, 0xff, 0);
		umd_ep(d, 0x04, 2, bulk, 0);
		umd_ep(d, 0x85, 2, bulk, 0);
		umd_config_end(d);
		break;
	case SIM_MODE_DFU:
		umd_device_desc(d, ud->speed_mbps, 0, 0, UMD_VID_APPLE,
		    ud->product_id, 0x0000, 1);
		umd_config(d, 1, 0, 0xc0, 0xfa);
		umd_iface(d, 0, 0, 0, 0xfe, 0x01, 0);
		umd_put(d, dfu_func, sizeof(dfu_func));
		umd_config_end(d);
		break;
	default:
		umd_device_desc(d, ud->speed_mbps, 0, 0, UMD_VID_APPLE,
		    ud->product_id, 0x1401, 4);
		for (i = 1; i <= 4; i++) {
			umd_config(d, i == 1 || i == 2 ? 1 : i - 1, 3 + i,
			    0xc0, 0xfa);
			if (i == 2)
				umd_iface(d, 0, 0, 0, 0xff, 0xf0, 0);
			else
				umd_ptp(d, ud->speed_mbps);
			if (i >= 3) {
				umd_iface(d, 1, 0, 2, 0xff, 0xfe, 2);
				umd_ep(d, 0x04, 2, bulk, 0);
				umd_ep(d, 0x85, 2, bulk, 0);
			}
			if (i == 4) {
				umd_iface(d, 2, 0, 2, 0xff, 0xfd, 1);
				umd_ep(d, 0x06, 2, bulk, 0);
				umd_ep(d, 0x87, 2, bulk, 0);
			}
			umd_config_end(d);
		}
		break;
	}
}

/* A hub's descriptors: one configuration, the hub interface. */
static void
umd_hub_desc(struct umd_desc *d, int root_hub, int speed)
{
	uint16_t	vid, pid;

	if (root_hub) {
		vid = UMD_VID_LINUX;
		pid = speed >= 5000 ? 0x0003 : 0x0002;
	} else {
		vid = UMD_VID_GENESYS;
		pid = speed >= 5000 ? 0x0620 : 0x0610;
	}
	umd_device_desc(d, speed, 9, speed >= 5000 ? 3 : 1, vid, pid,
	    root_hub ? 0x0618 : 0x9301, 1);
	umd_config(d, 1, 0, root_hub ? 0xe0 : 0xc0, 0);
	umd_iface(d, 0, 0, 1, 9, 0, 0);
	umd_ep(d, 0x81, 3, 4, 12);
	umd_config_end(d);
}

/*
 * The sysfs path of a device or hub: "usb1" is a root hub, "1-4.2"
 * hangs off hub 1-4, which hangs off usb1.
 */
static char *
umd_syspath(const char *name, int bus)
{
	GString		*s;
	const char	*dot;

	s = g_string_new("/sys/devices/");
	if (strncmp(name, "usb", 3) == 0) {
		g_string_append(s, name);
		return (g_string_free(s, FALSE));
	}
	g_string_append_printf(s, "usb%d", bus);
	for (dot = strchr(name, '.'); dot != NULL; dot = strchr(dot + 1,
	    '.'))
		g_string_append_printf(s, "/%.*s", (int)(dot - name), name);
	g_string_append_printf(s, "/%s", name);
	return (g_string_free(s, FALSE));
}

/* Append the fields every USB device record has. */
static void
umd_record(GString *s, const char *syspath, int bus, int devnum,
    int speed, const char *devpath, uint16_t vid, uint16_t pid,
    uint16_t bcd, int class, int config, const struct umd_desc *d)
{
	size_t	i;

	g_string_append_printf(s, "P: %s\n", syspath + strlen("/sys"));
	g_string_append_printf(s, "N: bus/usb/%03d/%03d\n", bus, devnum);
	g_string_append(s, "E: SUBSYSTEM=usb\nE: DEVTYPE=usb_device\n"
	    "E: DRIVER=usb\n");
	g_string_append_printf(s, "E: DEVNAME=/dev/bus/usb/%03d/%03d\n",
	    bus, devnum);
	g_string_append_printf(s, "E: BUSNUM=%03d\nE: DEVNUM=%03d\n", bus,
	    devnum);
	g_string_append_printf(s, "E: PRODUCT=%x/%x/%x\n", vid, pid, bcd);
	g_string_append_printf(s, "E: TYPE=%d/0/0\n", class);
	g_string_append_printf(s, "A: busnum=%d\\n\nA: devnum=%d\\n\n", bus,
	    devnum);
	g_string_append_printf(s, "A: devpath=%s\\n\n", devpath);
	if (speed == 1)
		g_string_append(s, "A: speed=1.5\\n\n");
	else
		g_string_append_printf(s, "A: speed=%d\\n\n", speed);
	g_string_append_printf(s, "A: idVendor=%04x\\n\nA: idProduct=%04x\\n\n",
	    vid, pid);
	g_string_append_printf(s, "A: bcdDevice=%04x\\n\n", bcd);
	g_string_append_printf(s, "A: bDeviceClass=%02x\\n\n", class);
	g_string_append_printf(s, "A: bMaxPacketSize0=%d\\n\n",
	    speed >= 5000 ? 9 : 64);
	g_string_append_printf(s, "A: bNumConfigurations=%d\\n\n", d->ncfg);
	g_string_append_printf(s, "A: bConfigurationValue=%d\\n\n", config);
	g_string_append_printf(s, "A: version=%s\\n\n", speed >= 5000 ?
	    " 3.20" : " 2.00");
	g_string_append(s, "H: descriptors=");
	for (i = 0; i < d->len; i++)
		g_string_append_printf(s, "%02X", d->b[i]);
	g_string_append(s, "\n");
}

/* Append a text attribute; umockdev unescapes \\ and \n. */
static void
umd_attr(GString *s, const char *name, const char *value)
{
	g_string_append_printf(s, "A: %s=", name);
	for (; *value != '\0'; value++) {
		if (*value == '\\')
			g_string_append(s, "\\\\");
		else if (*value == '\n')
			g_string_append(s, "\\n");
		else
			g_string_append_c(s, *value);
	}
	g_string_append(s, "\\n\n");
}

/* Add a record; warn if umockdev refuses it. */
static int
umd_add_record(const char *record)
{
	GError	*err = NULL;

	if (!umockdev_testbed_add_from_string(testbed, record, &err)) {
		log_warnx("umockdev: %s", err != NULL ? err->message :
		    "record refused");
		g_clear_error(&err);
		return (-1);
	}
	return (0);
}

/* Drop a reference to a node. */
static void
umd_node_unref(struct umd_node *n)
{
	int	i;

	if (atomic_fetch_sub(&n->refs, 1) != 1)
		return;
	log_debug("umockdev: %s (%s): %llu ioctls", n->devnode, n->path,
	    (unsigned long long)atomic_load(&n->ioctls));
	for (i = 0; i < UMD_STRINGS; i++)
		free(n->strings[i]);
	free(n->path);
	g_free(n->syspath);
	free(n->devnode);
	free(n);
}

/* The handler's reference, dropped when it is finalized. */
static void
umd_node_unref_cb(gpointer arg)
{
	umd_node_unref(arg);
}

/* Free a client's state and its URBs. */
static void
umd_urb_free(struct umd_urb *u)
{
	g_object_unref(u->urb);
	if (u->buf != NULL)
		g_object_unref(u->buf);
	free(u->data);
	free(u);
}

/* A client is gone: its URBs with it. */
static void
umd_client_free(gpointer arg)
{
	struct umd_client	*c = arg;
	struct umd_urb		*u;

	while ((u = TAILQ_FIRST(&c->urbs)) != NULL) {
		TAILQ_REMOVE(&c->urbs, u, entry);
		umd_urb_free(u);
	}
	umd_node_unref(c->node);
	free(c);
}

/* The state of a client, made at its first call. */
static struct umd_client *
umd_client_get(UMockdevIoctlClient *client, struct umd_node *n)
{
	struct umd_client	*c;

	if ((c = g_object_get_data(G_OBJECT(client), "linkq-umd")) != NULL)
		return (c);
	c = xcalloc(1, sizeof(*c));
	c->node = n;
	atomic_fetch_add(&n->refs, 1);
	TAILQ_INIT(&c->urbs);
	g_object_set_data_full(G_OBJECT(client), "linkq-umd", c,
	    umd_client_free);
	return (c);
}

/* Complete a call, unless its client has gone away meanwhile. */
static void
umd_complete(UMockdevIoctlClient *client, long res, int err)
{
	if (umockdev_ioctl_client_get_connected(client))
		umockdev_ioctl_client_complete(client, res, err);
}

/* A timeout source's end: drop its reference to the client. */
static void
umd_wait_free(gpointer arg)
{
	struct umd_wait	*w = arg;

	g_object_unref(w->client);
	free(w);
}

/* A waiting call falls due. */
static gboolean
umd_wait_cb(gpointer arg)
{
	struct umd_wait	*w = arg;

	if (w->reap)
		umd_reap(w->client, w->c, 1);
	else
		umd_complete(w->client, w->res, w->err);
	return (G_SOURCE_REMOVE);
}

/* Finish a call at due_us (or now): reap again, or complete. */
static void
umd_later(UMockdevIoctlClient *client, struct umd_client *c, int reap,
    int64_t due_us, long res, int err)
{
	struct umd_wait	*w;
	GSource		*src;
	int64_t		 wait_us;

	wait_us = due_us - lq_mono_now().us;
	if (!reap && wait_us <= 0) {
		umd_complete(client, res, err);
		return;
	}
	w = xcalloc(1, sizeof(*w));
	w->client = g_object_ref(client);
	w->c = c;
	w->reap = reap;
	w->res = res;
	w->err = err;
	/* The worker runs its context as the thread default. */
	src = g_timeout_source_new(wait_us > 0 ? (guint)((wait_us + 999) /
	    1000) : 0);
	g_source_set_callback(src, umd_wait_cb, w, umd_wait_free);
	(void)g_source_attach(src, g_main_context_get_thread_default());
	g_source_unref(src);
}

/*
 * The answer to a standard request on ep0: the data (at most max
 * bytes) into out and its length, or -1 for a STALL. Worker thread.
 */
static int
umd_answer(struct umd_node *n, const uint8_t *setup, uint8_t *out,
    size_t max)
{
	const struct umd_desc	*d = &n->desc;
	const uint8_t		*src = NULL;
	const char		*str;
	uint8_t			 tmp[256];
	unsigned int		 value, idx;
	size_t			 len = 0, i;

	value = (unsigned int)(setup[2] | setup[3] << 8);
	idx = value & 0xff;
	switch (setup[0] << 8 | setup[1]) {
	case 0x8006:			/* GET_DESCRIPTOR */
		switch (value >> 8) {
		case 1:
			src = d->b;
			len = 18;
			break;
		case 2:
			if (idx >= (unsigned int)d->ncfg)
				return (-1);
			src = d->b + d->cfg_off[idx];
			len = d->cfg_len[idx];
			break;
		case 3:
			if (idx == 0) {
				/* Language IDs: US English. */
				tmp[0] = 4;
				tmp[1] = 3;
				tmp[2] = 0x09;
				tmp[3] = 0x04;
				len = 4;
			} else if (idx < UMD_STRINGS &&
			    (str = n->strings[idx]) != NULL) {
				/* UTF-16LE of ASCII, at most 126 units. */
				for (i = 0; str[i] != '\0' && i < 126; i++) {
					tmp[2 + 2 * i] = (uint8_t)str[i];
					tmp[3 + 2 * i] = 0;
				}
				len = 2 + 2 * i;
				tmp[0] = (uint8_t)len;
				tmp[1] = 3;
			} else
				return (-1);
			src = tmp;
			break;
		default:
			return (-1);
		}
		break;
	case 0x8000:			/* GET_STATUS, device: self-powered */
		tmp[0] = 1;
		tmp[1] = 0;
		src = tmp;
		len = 2;
		break;
	case 0x8100:			/* GET_STATUS, interface */
	case 0x8200:			/* GET_STATUS, endpoint */
		tmp[0] = tmp[1] = 0;
		src = tmp;
		len = 2;
		break;
	case 0x8008:			/* GET_CONFIGURATION */
		tmp[0] = (uint8_t)n->config;
		src = tmp;
		len = 1;
		break;
	case 0x0009:			/* SET_CONFIGURATION */
		if (value > (unsigned int)d->ncfg)
			return (-1);
		n->config = (int)value;
		break;
	case 0x0001:			/* CLEAR_FEATURE */
	case 0x0003:			/* SET_FEATURE */
	case 0x0201:
	case 0x0203:
	case 0x010b:			/* SET_INTERFACE */
		break;
	default:
		return (-1);
	}
	if (len > max)
		len = max;
	if (len > 0)
		memcpy(out, src, len);
	return ((int)len);
}

/* Resolve a pointer in a client's memory; NULL on error. */
static UMockdevIoctlData *
umd_resolve(UMockdevIoctlData *d, size_t off, size_t len)
{
	GError			*err = NULL;
	UMockdevIoctlData	*r;

	r = umockdev_ioctl_data_resolve(d, off, len, &err);
	if (err != NULL) {
		log_debug("umockdev: resolve: %s", err->message);
		g_clear_error(&err);
		if (r != NULL)
			g_object_unref(r);
		return (NULL);
	}
	return (r);
}

/* USBDEVFS_SUBMITURB: take a control URB on ep0. */
static void
umd_submit(UMockdevIoctlClient *client, struct umd_client *c,
    UMockdevIoctlData *arg)
{
	struct umd_node		*n = c->node;
	struct usbdevfs_urb	 urb;
	struct umd_urb		*u;
	UMockdevIoctlData	*ud, *bd = NULL;
	enum link_ctrl		 fate;
	const uint8_t		*setup;
	size_t			 wlength;
	int			 len;

	if ((ud = umd_resolve(arg, 0, sizeof(urb))) == NULL) {
		umd_complete(client, -1, EFAULT);
		return;
	}
	memcpy(&urb, ud->data, sizeof(urb));
	/* Only ep0 is modelled: other endpoints do not exist. */
	if ((urb.endpoint & 0x7f) != 0) {
		g_object_unref(ud);
		umd_complete(client, -1, ENOENT);
		return;
	}
	if (urb.type != USBDEVFS_URB_TYPE_CONTROL || urb.buffer_length < 8 ||
	    (bd = umd_resolve(ud, offsetof(struct usbdevfs_urb, buffer),
	    (size_t)urb.buffer_length)) == NULL) {
		g_object_unref(ud);
		umd_complete(client, -1, EINVAL);
		return;
	}
	setup = bd->data;
	wlength = (size_t)(setup[6] | setup[7] << 8);
	if (8 + wlength > (size_t)urb.buffer_length) {
		g_object_unref(bd);
		g_object_unref(ud);
		umd_complete(client, -1, EINVAL);
		return;
	}
	u = xcalloc(1, sizeof(*u));
	u->urb = ud;
	u->buf = bd;
	u->addr = ud->client_addr;
	u->in = (setup[0] & 0x80) != 0;
	fate = link_control(n->dev, n->usb_gen, u->in, &u->due_us);
	switch (fate) {
	case LINK_CTRL_GONE:
		umd_urb_free(u);
		umd_complete(client, -1, ENODEV);
		return;
	case LINK_CTRL_OK:
		u->data = xmalloc(wlength > 0 ? wlength : 1);
		if ((len = umd_answer(n, setup, u->data, wlength)) == -1)
			u->status = -EPIPE;
		else
			u->actual = u->in ? len : (int)wlength;
		break;
	case LINK_CTRL_STALL:
		u->status = -EPIPE;
		break;
	case LINK_CTRL_ERROR:
		u->status = -EPROTO;
		break;
	case LINK_CTRL_TIMEOUT:
		u->due_us = UMD_NEVER;
		break;
	}
	TAILQ_INSERT_TAIL(&c->urbs, u, entry);
	umd_complete(client, 0, 0);
}

/*
 * USBDEVFS_REAPURB[NDELAY]: hand back the URB due first. With none due
 * a blocking reap waits for the next one (or, if none will ever be due,
 * fails as a non-blocking one: the caller cannot be interrupted).
 */
static void
umd_reap(UMockdevIoctlClient *client, struct umd_client *c, int block)
{
	struct umd_urb		*u, *best = NULL;
	struct usbdevfs_urb	*urb;
	UMockdevIoctlData	*ptr;
	int64_t			 now, next = UMD_NEVER;
	int			 gone;

	now = lq_mono_now().us;
	gone = atomic_load(&c->node->gone);
	TAILQ_FOREACH(u, &c->urbs, entry) {
		/* A device that leaves kills what is in flight. */
		if (gone && u->due_us > now) {
			u->due_us = now;
			u->status = -ESHUTDOWN;
			u->actual = 0;
		}
		if (u->due_us <= now) {
			if (best == NULL || u->due_us < best->due_us)
				best = u;
		} else if (u->due_us < next)
			next = u->due_us;
	}
	if (best == NULL) {
		if (gone)
			umd_complete(client, -1, ENODEV);
		else if (block && next != UMD_NEVER)
			umd_later(client, c, 1, next, 0, 0);
		else
			umd_complete(client, -1, EAGAIN);
		return;
	}
	ptr = umd_resolve(umockdev_ioctl_client_get_arg(client), 0,
	    sizeof(void *));
	if (ptr == NULL) {
		umd_complete(client, -1, EFAULT);
		return;
	}
	TAILQ_REMOVE(&c->urbs, best, entry);
	urb = (struct usbdevfs_urb *)(void *)best->urb->data;
	urb->status = best->status;
	urb->actual_length = best->actual;
	if (best->in && best->actual > 0)
		memcpy(best->buf->data + 8, best->data, (size_t)best->actual);
	(void)umockdev_ioctl_data_set_ptr(ptr, 0, best->urb);
	g_object_unref(ptr);
	umd_urb_free(best);
	umd_complete(client, 0, 0);
}

/* USBDEVFS_DISCARDURB: a URB still in flight ends -ENOENT. */
static void
umd_discard(UMockdevIoctlClient *client, struct umd_client *c,
    UMockdevIoctlData *arg)
{
	struct umd_urb	*u;
	gulong		 addr;
	int64_t		 now;

	memcpy(&addr, arg->data, sizeof(addr));
	now = lq_mono_now().us;
	TAILQ_FOREACH(u, &c->urbs, entry) {
		if (u->addr != addr)
			continue;
		/* One that completed waits to be reaped: too late. */
		if (u->due_us <= now)
			break;
		u->due_us = now;
		u->status = -ENOENT;
		u->actual = 0;
		umd_complete(client, 0, 0);
		return;
	}
	umd_complete(client, -1, EINVAL);
}

/* USBDEVFS_CONTROL: a synchronous control transfer, answered when due. */
static void
umd_control(UMockdevIoctlClient *client, struct umd_client *c,
    UMockdevIoctlData *arg)
{
	struct umd_node			*n = c->node;
	struct usbdevfs_ctrltransfer	 ct;
	UMockdevIoctlData		*cd, *dd = NULL;
	enum link_ctrl			 fate;
	uint8_t				 setup[8], *data;
	int64_t				 due;
	long				 res = 0;
	int				 err = 0, len;

	if ((cd = umd_resolve(arg, 0, sizeof(ct))) == NULL) {
		umd_complete(client, -1, EFAULT);
		return;
	}
	memcpy(&ct, cd->data, sizeof(ct));
	if (ct.wLength > 0 && (dd = umd_resolve(cd,
	    offsetof(struct usbdevfs_ctrltransfer, data), ct.wLength)) ==
	    NULL) {
		g_object_unref(cd);
		umd_complete(client, -1, EFAULT);
		return;
	}
	setup[0] = ct.bRequestType;
	setup[1] = ct.bRequest;
	setup[2] = ct.wValue & 0xff;
	setup[3] = (uint8_t)(ct.wValue >> 8);
	setup[4] = ct.wIndex & 0xff;
	setup[5] = (uint8_t)(ct.wIndex >> 8);
	setup[6] = ct.wLength & 0xff;
	setup[7] = (uint8_t)(ct.wLength >> 8);
	fate = link_control(n->dev, n->usb_gen, ct.bRequestType & 0x80,
	    &due);
	switch (fate) {
	case LINK_CTRL_GONE:
		res = -1;
		err = ENODEV;
		due = 0;
		break;
	case LINK_CTRL_OK:
		data = xmalloc(ct.wLength > 0 ? ct.wLength : 1);
		if ((len = umd_answer(n, setup, data, ct.wLength)) == -1) {
			res = -1;
			err = EPIPE;
		} else if (ct.bRequestType & 0x80) {
			/* The resolved buffer goes back at completion. */
			if (len > 0)
				memcpy(dd->data, data, (size_t)len);
			res = len;
		} else
			res = ct.wLength;
		free(data);
		break;
	case LINK_CTRL_STALL:
		res = -1;
		err = EPIPE;
		break;
	case LINK_CTRL_ERROR:
		res = -1;
		err = EPROTO;
		break;
	case LINK_CTRL_TIMEOUT:
		res = -1;
		err = ETIMEDOUT;
		due = lq_mono_now().us + (int64_t)(ct.timeout > 0 ?
		    ct.timeout : UMD_CONTROL_WAIT_MS) * 1000;
		break;
	}
	if (dd != NULL)
		g_object_unref(dd);
	g_object_unref(cd);
	umd_later(client, c, 0, due, res, err);
}

/* USBDEVFS_SETCONFIGURATION: and sysfs's bConfigurationValue with it. */
static void
umd_set_config(UMockdevIoctlClient *client, struct umd_client *c,
    UMockdevIoctlData *arg)
{
	struct umd_node		*n = c->node;
	UMockdevIoctlData	*vd;
	unsigned int		 value;
	char			 buf[16];

	if ((vd = umd_resolve(arg, 0, sizeof(value))) == NULL) {
		umd_complete(client, -1, EFAULT);
		return;
	}
	memcpy(&value, vd->data, sizeof(value));
	g_object_unref(vd);
	if (value > (unsigned int)n->desc.ncfg) {
		umd_complete(client, -1, EINVAL);
		return;
	}
	n->config = (int)value;
	(void)snprintf(buf, sizeof(buf), "%u\n", value);
	sim_lock();
	if (!atomic_load(&n->gone))
		umockdev_testbed_set_attribute(testbed, n->syspath,
		    "bConfigurationValue", buf);
	sim_unlock();
	umd_complete(client, 0, 0);
}

/* An ioctl on a device's node. Runs on umockdev's worker thread. */
static gboolean
umd_ioctl_cb(UMockdevIoctlBase *handler, UMockdevIoctlClient *client,
    gpointer arg)
{
	struct umd_node		*n = arg;
	struct umd_client	*c;
	UMockdevIoctlData	*a, *d;
	gulong			 req;
	uint32_t		 caps;

	(void)handler;
	atomic_fetch_add(&n->ioctls, 1);
	c = umd_client_get(client, n);
	req = umockdev_ioctl_client_get_request(client);
	a = umockdev_ioctl_client_get_arg(client);
	if (atomic_load(&n->gone) && req != USBDEVFS_REAPURB &&
	    req != USBDEVFS_REAPURBNDELAY) {
		umd_complete(client, -1, ENODEV);
		return (TRUE);
	}
	switch (req) {
	case USBDEVFS_GET_CAPABILITIES:
		if ((d = umd_resolve(a, 0, sizeof(caps))) == NULL) {
			umd_complete(client, -1, EFAULT);
			break;
		}
		caps = USBDEVFS_CAP_ZERO_PACKET |
		    USBDEVFS_CAP_BULK_CONTINUATION |
		    USBDEVFS_CAP_NO_PACKET_SIZE_LIM |
		    USBDEVFS_CAP_BULK_SCATTER_GATHER |
		    USBDEVFS_CAP_REAP_AFTER_DISCONNECT;
		memcpy(d->data, &caps, sizeof(caps));
		g_object_unref(d);
		umd_complete(client, 0, 0);
		break;
	case USBDEVFS_SUBMITURB:
		umd_submit(client, c, a);
		break;
	case USBDEVFS_REAPURB:
		umd_reap(client, c, 1);
		break;
	case USBDEVFS_REAPURBNDELAY:
		umd_reap(client, c, 0);
		break;
	case USBDEVFS_DISCARDURB:
		umd_discard(client, c, a);
		break;
	case USBDEVFS_CONTROL:
		umd_control(client, c, a);
		break;
	case USBDEVFS_SETCONFIGURATION:
		umd_set_config(client, c, a);
		break;
	case USBDEVFS_CLAIMINTERFACE:
	case USBDEVFS_RELEASEINTERFACE:
	case USBDEVFS_SETINTERFACE:
	case USBDEVFS_CLEAR_HALT:
	case USBDEVFS_RESETEP:
	case USBDEVFS_RESET:
	case USBDEVFS_DISCONNECT_CLAIM:
		umd_complete(client, 0, 0);
		break;
	case USBDEVFS_GETDRIVER:
	case USBDEVFS_IOCTL:
		/* No kernel driver is bound to an interface. */
		umd_complete(client, -1, ENODATA);
		break;
	default:
		log_debug("umockdev: %s: ioctl 0x%lx not emulated",
		    n->devnode, (unsigned long)req);
		umd_complete(client, -1, ENOTTY);
		break;
	}
	return (TRUE);
}

/* Make the testbed; the simulator must run under the preload. */
int
umockdev_open(char **cause)
{
	/*
	 * umockdev asks whether /sys is redirected, which it is only
	 * under the preload and once UMOCKDEV_DIR is set, and keeps the
	 * answer: make the testbed first.
	 */
	testbed = umockdev_testbed_new();
	if (!umockdev_in_mock_environment()) {
		g_object_unref(testbed);
		testbed = NULL;
		*cause = xstrdup("--umockdev needs umockdev's preload library:"
		    " run linkq-sim under umockdev-wrapper (umockdev-wrapper "
		    "linkq-sim --umockdev ...)");
		return (-1);
	}
	root = umockdev_testbed_get_root_dir(testbed);
	return (0);
}

/* The testbed's directory, or NULL. */
const char *
umockdev_root(void)
{
	return (root);
}

/* Add a root hub or a hub. */
void
umockdev_add_hub(const char *name, const char *parent, int bus,
    int devnum, int speed)
{
	struct umd_desc	 d;
	GString		*s;
	char		*syspath;
	const char	*dash;

	if (testbed == NULL)
		return;
	memset(&d, 0, sizeof(d));
	umd_hub_desc(&d, parent == NULL, speed);
	syspath = umd_syspath(name, bus);
	s = g_string_new(NULL);
	dash = strchr(name, '-');
	umd_record(s, syspath, bus, devnum, speed, parent == NULL ? "0" :
	    (dash != NULL ? dash + 1 : name), d.b[8] | d.b[9] << 8,
	    (uint16_t)(d.b[10] | d.b[11] << 8), (uint16_t)(d.b[12] |
	    d.b[13] << 8), 9, 1, &d);
	umd_attr(s, "maxchild", "4");
	if (parent == NULL) {
		umd_attr(s, "manufacturer", "Linux 6.18.0 xhci-hcd");
		umd_attr(s, "product", "xHCI Host Controller");
	} else {
		umd_attr(s, "manufacturer", "GenesysLogic");
		umd_attr(s, "product", speed >= 5000 ? "USB3.1 Hub" :
		    "USB2.1 Hub");
	}
	if (umd_add_record(s->str) == 0)
		log_debug("umockdev: hub %s at %s", name, syspath);
	(void)g_string_free(s, TRUE);
	g_free(syspath);
}

/* Add an enumerated device, its node answering usbdevfs. */
void
umockdev_add(const struct umockdev_dev *ud)
{
	struct umd_node	*n;
	GString		*s;
	GError		*err = NULL;
	const char	*dash;

	if (testbed == NULL)
		return;
	TAILQ_FOREACH(n, &nodes, entry) {
		if (strcmp(n->path, ud->path) == 0) {
			log_warnx("umockdev: %s is on the bus already",
			    ud->path);
			return;
		}
	}
	n = xcalloc(1, sizeof(*n));
	atomic_init(&n->refs, 1);
	atomic_init(&n->gone, 0);
	atomic_init(&n->ioctls, 0);
	n->path = xstrdup(ud->path);
	n->syspath = umd_syspath(ud->path, ud->bus);
	xasprintf(&n->devnode, "/dev/bus/usb/%03d/%03d", ud->bus,
	    ud->devnum);
	n->dev = ud->dev;
	n->usb_gen = ud->usb_gen;
	umd_iphone_desc(&n->desc, ud);
	if (n->desc.overflow)
		fatalx("umockdev: descriptors of %s overflow", ud->path);
	n->config = ud->mode == SIM_MODE_NORMAL ? 4 : 1;
	n->strings[1] = xstrdup("Apple Inc.");
	n->strings[2] = xstrdup(ud->product);
	n->strings[3] = xstrdup(ud->serial);
	if (ud->mode == SIM_MODE_NORMAL) {
		n->strings[4] = xstrdup("PTP");
		n->strings[5] = xstrdup("iPod USB Interface");
		n->strings[6] = xstrdup("PTP + Apple Mobile Device");
		n->strings[7] = xstrdup("PTP + Apple Mobile Device + "
		    "Apple USB Ethernet");
	}

	/* The handler first, so that the node answers once it shows. */
	n->handler = umockdev_ioctl_base_new();
	atomic_fetch_add(&n->refs, 1);
	g_object_set_data_full(G_OBJECT(n->handler), "linkq-node", n,
	    umd_node_unref_cb);
	(void)g_signal_connect(n->handler, "handle-ioctl",
	    G_CALLBACK(umd_ioctl_cb), n);
	if (!umockdev_testbed_attach_ioctl(testbed, n->devnode, n->handler,
	    &err)) {
		log_warnx("umockdev: %s: %s", n->devnode, err != NULL ?
		    err->message : "cannot attach");
		g_clear_error(&err);
	}

	s = g_string_new(NULL);
	dash = strchr(ud->path, '-');
	umd_record(s, n->syspath, ud->bus, ud->devnum, ud->speed_mbps,
	    dash != NULL ? dash + 1 : ud->path, UMD_VID_APPLE,
	    ud->product_id, (uint16_t)(n->desc.b[12] | n->desc.b[13] << 8),
	    0, n->config, &n->desc);
	umd_attr(s, "maxchild", "0");
	umd_attr(s, "manufacturer", n->strings[1]);
	umd_attr(s, "product", n->strings[2]);
	umd_attr(s, "serial", n->strings[3]);
	if (umd_add_record(s->str) == -1) {
		(void)umockdev_testbed_detach_ioctl(testbed, n->devnode, NULL);
		g_object_unref(n->handler);
		umd_node_unref(n);
	} else
		TAILQ_INSERT_TAIL(&nodes, n, entry);
	(void)g_string_free(s, TRUE);
}

/* Remove the device at a port path. */
void
umockdev_remove(const char *path)
{
	struct umd_node	*n;
	GError		*err = NULL;

	if (testbed == NULL)
		return;
	TAILQ_FOREACH(n, &nodes, entry) {
		if (strcmp(n->path, path) == 0)
			break;
	}
	if (n == NULL)
		return;
	TAILQ_REMOVE(&nodes, n, entry);
	atomic_store(&n->gone, 1);
	/* The uevent needs the device's files: before they go. */
	umockdev_testbed_uevent(testbed, n->syspath, "remove");
	umockdev_testbed_remove_device(testbed, n->syspath);
	if (!umockdev_testbed_detach_ioctl(testbed, n->devnode, &err)) {
		log_warnx("umockdev: %s: %s", n->devnode, err != NULL ?
		    err->message : "cannot detach");
		g_clear_error(&err);
	}
	g_object_unref(n->handler);
	n->handler = NULL;
	umd_node_unref(n);
}

/* Remove the testbed: umockdev deletes its directory. */
void
umockdev_close(void)
{
	struct umd_node	*n;

	if (testbed == NULL)
		return;
	/* The worker thread may still answer a call: it finds them gone. */
	sim_lock();
	while ((n = TAILQ_FIRST(&nodes)) != NULL) {
		TAILQ_REMOVE(&nodes, n, entry);
		atomic_store(&n->gone, 1);
		g_object_unref(n->handler);
		umd_node_unref(n);
	}
	sim_unlock();
	g_object_unref(testbed);
	testbed = NULL;
	g_free(root);
	root = NULL;
}

#else /* !LQ_HAVE_UMOCKDEV */

/* Built without umockdev: --umockdev cannot work. */
int
umockdev_open(char **cause)
{
	*cause = xstrdup("--umockdev: linkq-sim was built without umockdev "
	    "(install libumockdev-dev and rebuild)");
	return (-1);
}

/* No testbed. */
const char *
umockdev_root(void)
{
	return (NULL);
}

/* The rest does nothing. */
void
umockdev_add_hub(const char *name, const char *parent, int bus,
    int devnum, int speed)
{
	(void)name;
	(void)parent;
	(void)bus;
	(void)devnum;
	(void)speed;
}

void
umockdev_add(const struct umockdev_dev *ud)
{
	(void)ud;
}

void
umockdev_remove(const char *path)
{
	(void)path;
}

void
umockdev_close(void)
{
}

#endif /* LQ_HAVE_UMOCKDEV */
