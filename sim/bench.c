/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The simulated bench and its link model (contract in bench.h).
 *
 * DESIGN
 * A device on port P through cable C sees the fault profiles of the
 * three combined (fault_combine): the port's, the cable's (raised while
 * it is flexed) and its own, which follows it from port to port.
 * Byte-driven faults (a drop or a flipped bit every so many megabytes
 * on average) are drawn as exponential distances in bytes from the
 * device's byte stream; time-driven ones (per minute, and bursts)
 * as exponential delays from its time stream, scheduled on the clock
 * thread with the device's timer generation, so that a timer armed
 * before a change of plug or fault finds itself stale and does nothing.
 * Timers armed by a clock action count from when that action was due
 * (clock_base), not from when a busy clock thread got to it, so a
 * loaded machine replays a scenario in the same order.
 *
 * What a USB error does follows the real usbmuxd 1.1.1 (protocols.md
 * section 7): every connection to the device is cut and it is Detached.
 * Stranded, it stays on the bus but out of usbmuxd until unplugged or
 * reset; reset, the kernel resets it and after a delay it enumerates
 * again with a new device number and a new DeviceID.
 *
 * A device booted into recovery or DFU leaves the bus, and after the
 * reset delay enumerates again with that mode's product ID and serial
 * number string, which iBoot builds from the chip ID (CPID) and ECID;
 * it answers ep0 only and usbmuxd never sees it. A UDID of the modern
 * form 0000CPID-ECID (what the seed makes) gives both; any other UDID
 * gives CPID 8030 and an ECID hashed from it. What is on the bus is
 * shown by sysfs.c (--sysfs) and umockdev.c (--umockdev) alike.
 */

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "clock.h"
#include "compat/compat.h"
#include "evlog.h"
#include "hostfault.h"
#include "kernel.h"
#include "link.h"
#include "log.h"
#include "lq-time.h"
#include "rng.h"
#include "sim.h"
#include "sysfs.h"
#include "umockdev.h"
#include "xmalloc.h"

#define BENCH_RESET_DELAY_US	(1500 * LQ_USEC_PER_MSEC)
#define BENCH_MAX_BUS		128
#define BENCH_PID_RECOVERY	0x1281
#define BENCH_PID_DFU		0x1227
#define BENCH_CPID_DEFAULT	0x8030	/* A13, as iPhone12,1 */
#define BENCH_BURST_LEN		5	/* link errors in a burst */
#define BENCH_BURST_US		LQ_USEC_PER_SEC	/* spread over */

enum bench_timer {
	TIMER_DROP,
	TIMER_LINK_ERROR,
	TIMER_RESET,
	TIMER_STALL,
	TIMER_BURST,		/* a burst starts */
	TIMER_BURST_ERROR,	/* one link error of a burst */
	TIMER_COUNT
};

/* A hub shown to umockdev: "usb1" or an inner port path, "1-4". */
struct bench_hub {
	char				*name;
	TAILQ_ENTRY(bench_hub)		 entry;
};

/* All guarded by sim_lock(). */
static TAILQ_HEAD(, bench_port)		ports = TAILQ_HEAD_INITIALIZER(ports);
static TAILQ_HEAD(, bench_cable)	cables =
    TAILQ_HEAD_INITIALIZER(cables);
static TAILQ_HEAD(, bench_hub)		hubs = TAILQ_HEAD_INITIALIZER(hubs);
static uint64_t				bench_seed;
static int				last_devnum[BENCH_MAX_BUS];
static lq_mono_t			bench_start;

static void	bench_arm(struct sim_device *);
static void	bench_arm_one(struct sim_device *, enum bench_timer);
static void	bench_reenumerate_cb(void *, uint64_t);
static void	bench_timer_cb(void *, uint64_t);
static void	bench_burst(struct sim_device *);
static int	bench_drop_dir(struct sim_device *, enum fault_drop_mode, int,
		    int, char **);

/*
 * The link dropped a device in the middle of a transfer: a USB error on
 * the pipe of that direction, the URB ending with status.
 */
static void
bench_link_dropped(struct sim_device *dev, enum fault_drop_mode mode,
    int to_host, int status)
{
	char	*cause = NULL;

	(void)bench_drop_dir(dev, mode, to_host, status, &cause);
	free(cause);
}

/* Set the seed; remember when the bench started. */
void
bench_init(uint64_t seed)
{
	bench_seed = seed;
	bench_start = lq_mono_now();
	link_set_drop_handler(bench_link_dropped);
}

/* Add a port from its scenario description. */
void
bench_add_port(const struct scn_port *sp)
{
	struct bench_port	*p;

	p = xcalloc(1, sizeof(*p));
	p->name = xstrdup(sp->name);
	p->path = xstrdup(sp->path);
	p->label = sp->label != NULL ? xstrdup(sp->label) : NULL;
	p->bus = (int)strtol(sp->path, NULL, 10);
	if (p->bus < 1 || p->bus >= BENCH_MAX_BUS)
		fatalx("port %s: bad bus in path %s", sp->name, sp->path);
	p->hub_depth = sp->hub_depth;
	p->fault = sp->fault;
	sim_lock();
	TAILQ_INSERT_TAIL(&ports, p, entry);
	sim_unlock();
}

/* Add a cable from its scenario description. */
void
bench_add_cable(const struct scn_cable *sc)
{
	struct bench_cable	*c;

	c = xcalloc(1, sizeof(*c));
	c->name = xstrdup(sc->name);
	c->label = xstrdup(sc->label != NULL ? sc->label : sc->name);
	c->fault = sc->fault;
	sim_lock();
	TAILQ_INSERT_TAIL(&cables, c, entry);
	sim_unlock();
}

/* Make a device, with a UDID from the seed unless the scenario has one. */
struct sim_device *
bench_add_device(const struct scn_device *sd, const char *buid,
    const char *state_dir, char **cause)
{
	static uint64_t		 index;
	struct sim_device	*dev;
	char			 udid[64];
	uint64_t		 x;

	index++;
	if (sd->udid != NULL)
		(void)strlcpy(udid, sd->udid, sizeof(udid));
	else {
		x = rng_mix(bench_seed ^ rng_mix(index));
		(void)snprintf(udid, sizeof(udid), "00008030-%016llX",
		    (unsigned long long)x);
	}
	dev = device_create(sd, udid, buid, state_dir, index, cause);
	if (dev == NULL)
		return (NULL);
	sim_lock();
	dev->rng_bytes = rng_mix(bench_seed ^ rng_mix(2 * index)) | 1;
	dev->rng_time = rng_mix(bench_seed ^ rng_mix(2 * index + 1)) | 1;
	/* Apart from the others, so that ep0 traffic shifts no fault. */
	dev->rng_control = rng_mix(~bench_seed ^ rng_mix(index)) | 1;
	dev->own_fault = sd->fault;
	sim_unlock();
	return (dev);
}

/* Find a device by its bench name. */
struct sim_device *
bench_find_device(const char *name)
{
	struct sim_device	*dev;

	sim_lock();
	for (dev = device_first(); dev != NULL; dev = device_next(dev)) {
		if (strcmp(dev->bench_name, name) == 0)
			break;
	}
	sim_unlock();
	return (dev);
}

/* The port after p, or the first; NULL after the last. Lock held. */
struct bench_port *
bench_port_next(struct bench_port *p)
{
	return (p == NULL ? TAILQ_FIRST(&ports) : TAILQ_NEXT(p, entry));
}

/* Find a port by name. Call with the lock held. */
struct bench_port *
bench_port_find(const char *name)
{
	struct bench_port	*p;

	TAILQ_FOREACH(p, &ports, entry) {
		if (strcmp(p->name, name) == 0)
			return (p);
	}
	return (NULL);
}

/* Find a cable by name. Call with the lock held. */
static struct bench_cable *
bench_cable_find(const char *name)
{
	struct bench_cable	*c;

	TAILQ_FOREACH(c, &cables, entry) {
		if (strcmp(c->name, name) == 0)
			return (c);
	}
	return (NULL);
}

/*
 * Recombine the link's faults and let the link model draw afresh; void
 * the timers armed for the old faults. Call with the lock held.
 */
static void
bench_relink(struct sim_device *dev)
{
	struct fault	cable = dev->cable->fault;

	if (dev->cable->flex > 0)
		fault_scale(&cable, dev->cable->flex);
	fault_combine(&dev->fault, &dev->port->fault, &cable,
	    &dev->own_fault);
	link_relink(dev);
	dev->timer_gen++;
}

/* The next device number on a bus: 1 is the root hub; wraps at 127. */
int
bench_next_devnum(int bus)
{
	int	devnum;

	devnum = last_devnum[bus] >= 127 ? 2 : last_devnum[bus] + 1;
	if (devnum < 2)
		devnum = 2;
	last_devnum[bus] = devnum;
	return (devnum);
}

/*
 * One enumeration attempt that the link's enum-fail makes fail: the
 * hub driver's lines for a descriptor read that errs (hub.c). After the
 * second failure of four it power-cycles the port. Lock held.
 */
static void
bench_enumerate_fail(struct sim_device *dev, int speed, int attempt)
{
	static const int	 errors[] = { -71, -110, -32 };
	struct bench_port	*p = dev->port;
	char			 devt[32], port_dev[64];
	int			 err;

	err = errors[rng_next(&dev->rng_time) % nitems(errors)];
	(void)snprintf(devt, sizeof(devt), "+usb:%s", p->path);
	kernel_port_name(p->path, port_dev, sizeof(port_dev));
	kmsg(6, devt, "usb %s: new %s USB device number %d using xhci_hcd",
	    p->path, kernel_speed_words(speed), bench_next_devnum(p->bus));
	kmsg(3, devt, "usb %s: device descriptor read/64, error %d",
	    p->path, err);
	/* The failed GET_DESCRIPTOR on ep0, as usbmon shows it. */
	usbmon('C', "Ci", p->bus, last_devnum[p->bus], 0,
	    err == -110 ? -2 : err, 0);
	if (attempt == 2) {
		kmsg(3, NULL, "usb %s: Cannot enable. Maybe the USB cable is "
		    "bad?", port_dev);
		kmsg(6, NULL, "usb %s: attempt power cycle", port_dev);
	}
}

/* The product ID a device shows in its mode. */
static uint16_t
bench_usb_pid(const struct sim_device *dev)
{
	switch (dev->mode) {
	case SIM_MODE_RECOVERY:
		return (BENCH_PID_RECOVERY);
	case SIM_MODE_DFU:
		return (BENCH_PID_DFU);
	default:
		return (dev->product_id);
	}
}

/* The product string a device shows in its mode. */
static const char *
bench_usb_product(const struct sim_device *dev)
{
	switch (dev->mode) {
	case SIM_MODE_RECOVERY:
		return ("Apple Mobile Device (Recovery Mode)");
	case SIM_MODE_DFU:
		return ("Apple Mobile Device (DFU Mode)");
	default:
		return ("iPhone");
	}
}

/*
 * The chip ID and ECID of a device: from a UDID 0000CPID-ECID, else
 * CPID 8030 and an ECID hashed from the UDID (FNV-1a, then mixed).
 */
static void
bench_chip(const char *udid, unsigned int *cpid, uint64_t *ecid)
{
	uint64_t	h = UINT64_C(0xcbf29ce484222325);
	size_t		i;

	if (strlen(udid) == 25 && strncmp(udid, "0000", 4) == 0 &&
	    udid[8] == '-' && strspn(udid + 4, "0123456789ABCDEFabcdef") ==
	    4 && strspn(udid + 9, "0123456789ABCDEFabcdef") == 16) {
		*cpid = (unsigned int)strtoul(udid + 4, NULL, 16);
		*ecid = strtoull(udid + 9, NULL, 16);
		return;
	}
	for (i = 0; udid[i] != '\0'; i++) {
		h ^= (unsigned char)udid[i];
		h *= UINT64_C(0x100000001b3);
	}
	*cpid = BENCH_CPID_DEFAULT;
	/* Real ECIDs have their top bits clear. */
	*ecid = rng_mix(h) & UINT64_C(0x000fffffffffffff);
}

/*
 * The serial number string of a device in its mode: the UDID without
 * dashes, or iBoot's description of the chip in recovery and DFU.
 */
static void
bench_usb_serial(const struct sim_device *dev, char *buf, size_t size)
{
	unsigned int	cpid;
	uint64_t	ecid;
	size_t		i, j;

	if (dev->mode == SIM_MODE_NORMAL) {
		for (i = j = 0; dev->udid[i] != '\0' && j + 1 < size; i++)
			if (dev->udid[i] != '-')
				buf[j++] = dev->udid[i];
		buf[j] = '\0';
		return;
	}
	bench_chip(dev->udid, &cpid, &ecid);
	if (dev->mode == SIM_MODE_RECOVERY)
		(void)snprintf(buf, size, "CPID:%04X CPRV:11 CPFM:03 SCEP:01 "
		    "BDID:0C ECID:%016llX IBFL:3C SRNM:[%s]", cpid,
		    (unsigned long long)ecid, dev->serial);
	else
		(void)snprintf(buf, size, "CPID:%04X CPRV:11 CPFM:03 SCEP:01 "
		    "BDID:0C ECID:%016llX IBFL:3C SRTG:[iBoot-10151.121.1]",
		    cpid, (unsigned long long)ecid);
}

/*
 * Put the enumerated device on the bus: sysfs and umockdev show it.
 * Lock held.
 */
static void
bench_usb_add(struct sim_device *dev, int speed, const char *serial)
{
	struct umockdev_dev	ud;

	dev->on_bus = 1;
	dev->usb_gen++;
	sysfs_add(dev->port->path, dev->bus, dev->devnum, speed,
	    bench_usb_pid(dev), bench_usb_product(dev), serial);
	memset(&ud, 0, sizeof(ud));
	ud.dev = dev;
	ud.usb_gen = dev->usb_gen;
	ud.path = dev->port->path;
	ud.bus = dev->bus;
	ud.devnum = dev->devnum;
	ud.speed_mbps = speed;
	ud.mode = dev->mode;
	ud.product_id = bench_usb_pid(dev);
	ud.product = bench_usb_product(dev);
	ud.serial = serial;
	umockdev_add(&ud);
}

/*
 * Take the device off the bus: the kernel's line, and sysfs and
 * umockdev drop it. Nothing if it is not on the bus. Lock held.
 */
static void
bench_usb_remove(struct sim_device *dev)
{
	char	devt[32];

	if (!dev->on_bus)
		return;
	kernel_devt(dev->bus, dev->devnum, devt, sizeof(devt));
	kmsg(6, devt, "usb %s: USB disconnect, device number %d",
	    dev->port->path, dev->devnum);
	dev->on_bus = 0;
	dev->usb_gen++;
	sysfs_remove(dev->port->path);
	umockdev_remove(dev->port->path);
}

/*
 * Enumerate the device on its port: up to four attempts, as the hub
 * driver makes, each failing with the link's enum-fail probability;
 * then a device number, the kernel's lines and, in normal mode, a new
 * usbmuxd DeviceID. Returns -1 if every attempt failed: the device sits
 * on the port but the host never sees it. Lock held.
 */
static int
bench_enumerate(struct sim_device *dev)
{
	struct bench_port	*p = dev->port;
	char			 devt[32], port_dev[64], serial[128];
	int			 speed, devnum, attempt;

	/*
	 * Without data lines the host sees no pull-up on D+ (nor a
	 * SuperSpeed receiver): no connect, so not a line in the log.
	 */
	if (dev->fault.charge_only) {
		evlog_add("charge-only %s", dev->bench_name);
		return (-1);
	}
	/* A dead controller notices nothing plugged into its ports. */
	if (hostfault_bus_dead(p->bus)) {
		evlog_add("dead-bus %s %d", dev->bench_name, p->bus);
		return (-1);
	}
	speed = dev->max_speed_mbps;
	if (dev->fault.speed_mbps > 0 && dev->fault.speed_mbps < speed)
		speed = dev->fault.speed_mbps;
	/* iBoot's USB stack is high-speed at most. */
	if (dev->mode != SIM_MODE_NORMAL && speed > 480)
		speed = 480;
	/* A bad link can fail the high-speed handshake (chirp). */
	if (dev->fault.fallback > 0 && speed > 12 &&
	    rng_unit(&dev->rng_time) < dev->fault.fallback)
		speed = 12;
	for (attempt = 1; attempt <= 4; attempt++) {
		if (dev->fault.enum_fail <= 0 ||
		    rng_unit(&dev->rng_time) >= dev->fault.enum_fail)
			break;
		bench_enumerate_fail(dev, speed, attempt);
	}
	if (attempt > 4) {
		kernel_port_name(p->path, port_dev, sizeof(port_dev));
		kmsg(3, NULL, "usb %s: unable to enumerate USB device",
		    port_dev);
		evlog_add("enumeration-failed %s", dev->bench_name);
		return (-1);
	}

	devnum = bench_next_devnum(p->bus);
	/* Before the device node exists the kernel names it by path. */
	(void)snprintf(devt, sizeof(devt), "+usb:%s", p->path);
	kmsg(6, devt, "usb %s: new %s USB device number %d using xhci_hcd",
	    p->path, kernel_speed_words(speed), devnum);
	/*
	 * hub.c check_highspeed, before the device is announced: a USB 2.0
	 * device on full speed while the host has a high-speed hub (every
	 * xHCI root hub is one) and that has a device qualifier, as an
	 * iPhone has.
	 */
	if (speed == 12 && dev->max_speed_mbps > 12)
		kmsg(6, devt, "usb %s: not running at top speed; connect to "
		    "a high speed hub", p->path);
	if (dev->mode == SIM_MODE_NORMAL)
		device_plug(dev, p->bus, devnum, (uint64_t)speed * 1000000);
	else {
		/* On the bus, but not a device usbmuxd takes. */
		dev->bus = p->bus;
		dev->devnum = devnum;
		dev->speed_bps = (uint64_t)speed * 1000000;
	}
	kernel_devt(dev->bus, dev->devnum, devt, sizeof(devt));
	bench_usb_serial(dev, serial, sizeof(serial));
	kmsg(6, devt, "usb %s: New USB device found, idVendor=05ac, "
	    "idProduct=%04x, bcdDevice=%s", p->path, bench_usb_pid(dev),
	    dev->mode == SIM_MODE_NORMAL ? "14.01" : " 0.00");
	kmsg(6, devt, "usb %s: New USB device strings: Mfr=1, Product=2, "
	    "SerialNumber=3", p->path);
	kmsg(6, devt, "usb %s: Product: %s", p->path,
	    bench_usb_product(dev));
	kmsg(6, devt, "usb %s: Manufacturer: Apple Inc.", p->path);
	kmsg(6, devt, "usb %s: SerialNumber: %s", p->path, serial);
	bench_usb_add(dev, speed, serial);
	return (0);
}

/* Show a hub to umockdev unless it is shown already. Lock held. */
static void
bench_hub(const char *name, const char *parent, int bus, int speed)
{
	struct bench_hub	*h;

	TAILQ_FOREACH(h, &hubs, entry) {
		if (strcmp(h->name, name) == 0)
			return;
	}
	h = xcalloc(1, sizeof(*h));
	h->name = xstrdup(name);
	TAILQ_INSERT_TAIL(&hubs, h, entry);
	umockdev_add_hub(name, parent, bus, parent == NULL ? 1 :
	    bench_next_devnum(bus), speed);
}

/*
 * Show the hubs on the way to every port to umockdev, parents first:
 * the root hub (device 1) and then each inner component of the path,
 * with device numbers taken from its bus. They run at SuperSpeed if
 * any device does, else at high speed.
 */
void
bench_add_hubs(void)
{
	struct bench_port	*p;
	struct sim_device	*dev;
	const char		*dot;
	char			 name[64], parent[64];
	int			 speed = 480;

	if (umockdev_root() == NULL)
		return;
	sim_lock();
	for (dev = device_first(); dev != NULL; dev = device_next(dev))
		if (dev->max_speed_mbps >= 5000)
			speed = 5000;
	TAILQ_FOREACH(p, &ports, entry) {
		(void)snprintf(name, sizeof(name), "usb%d", p->bus);
		bench_hub(name, NULL, p->bus, speed);
		for (dot = strchr(p->path, '.'); dot != NULL;
		    dot = strchr(dot + 1, '.')) {
			(void)strlcpy(parent, name, sizeof(parent));
			(void)snprintf(name, sizeof(name), "%.*s",
			    (int)(dot - p->path), p->path);
			bench_hub(name, parent, p->bus, speed);
		}
	}
	sim_unlock();
}

/* Plug a device into a port through a cable. */
int
bench_plug(struct sim_device *dev, const char *port, const char *cable,
    char **cause)
{
	struct bench_port	*p;
	struct bench_cable	*c;

	*cause = NULL;
	sim_lock();
	p = bench_port_find(port);
	c = bench_cable_find(cable);
	if (dev->port != NULL)
		xasprintf(cause, "device %s is already plugged into port %s",
		    dev->bench_name, dev->port->name);
	else if (p == NULL)
		xasprintf(cause, "no port called %s", port);
	else if (c == NULL)
		xasprintf(cause, "no cable called %s", cable);
	else if (p->device != NULL)
		xasprintf(cause, "port %s is taken by device %s", port,
		    p->device->bench_name);
	else if (c->device != NULL)
		xasprintf(cause, "cable %s is in use by device %s", cable,
		    c->device->bench_name);
	else {
		dev->port = p;
		dev->cable = c;
		p->device = dev;
		c->device = dev;
		dev->stranded = 0;
		dev->placement++;
		bench_relink(dev);
		evlog_add("plug %s %s %s", dev->bench_name, p->name,
		    c->name);
		if (bench_enumerate(dev) == 0) {
			if (dev->mode == SIM_MODE_NORMAL)
				evlog_add("attach %s speed=%llu",
				    dev->bench_name, (unsigned long long)
				    (dev->speed_bps / 1000000));
			else
				evlog_add("enumerate %s %s speed=%llu",
				    dev->bench_name, sim_mode_name(dev->mode),
				    (unsigned long long)(dev->speed_bps /
				    1000000));
			bench_arm(dev);
		}
	}
	sim_unlock();
	if (*cause != NULL)
		return (-1);
	mux_notify_attached(dev);
	return (0);
}

/*
 * Take the device out of usbmuxd (cut its connections). Returns the
 * DeviceID to announce as Detached, or 0. Call with the lock held.
 */
static uint32_t
bench_detach(struct sim_device *dev)
{
	uint32_t	id;

	if (!dev->plugged)
		return (0);
	id = dev->mux_id;
	device_unplug(dev);
	return (id);
}

/* Unplug a device, as a user pulling the cable. */
int
bench_unplug(struct sim_device *dev, char **cause)
{
	uint32_t	id = 0;

	*cause = NULL;
	sim_lock();
	if (dev->port == NULL)
		xasprintf(cause, "device %s is not plugged in",
		    dev->bench_name);
	else {
		/* A stranded device is still on the bus; one that never
		 * enumerated is not. */
		if (dev->plugged || dev->stranded) {
			/*
			 * Pulling a cable makes the host controller fail
			 * the transfers in flight with a protocol error
			 * before the hub notices: a burst of -71, then
			 * -108 as the device is shut down.
			 */
			usbmon('C', "Bi", dev->bus, dev->devnum, 1, -71, 0);
			usbmon('C', "Bo", dev->bus, dev->devnum, 2, -71, 0);
			usbmon('C', "Bi", dev->bus, dev->devnum, 1, -108, 0);
		}
		bench_usb_remove(dev);
		id = bench_detach(dev);
		dev->port->device = NULL;
		dev->cable->device = NULL;
		dev->port = NULL;
		dev->cable = NULL;
		dev->stranded = 0;
		dev->placement++;
		dev->timer_gen++;
		evlog_add("unplug %s", dev->bench_name);
	}
	sim_unlock();
	if (*cause != NULL)
		return (-1);
	if (id != 0)
		mux_notify_detached(id);
	muxd_udev_remove();
	return (0);
}

/*
 * A USB error on a bulk pipe: usbmuxd drops the device. Stranded, it
 * stays so until unplugged; reset, it comes back after a delay.
 */
int
bench_drop(struct sim_device *dev, enum fault_drop_mode mode, char **cause)
{
	return (bench_drop_dir(dev, mode, 1, -71, cause));
}

/*
 * The device enumerates again after its reset delay, if it is still on
 * its port then. Call with the lock held.
 */
static void
bench_reenumerate_later(struct sim_device *dev)
{
	int64_t	delay;

	delay = dev->fault.reset_delay_us > 0 ? dev->fault.reset_delay_us :
	    BENCH_RESET_DELAY_US;
	clock_at(lq_mono_add(clock_base(), delay), bench_reenumerate_cb, dev,
	    dev->placement);
}

/*
 * A USB error on the pipe of one direction: to_host (the device writes,
 * the host's IN pipe) or not (the device reads, the host's OUT pipe);
 * its URB ends with status (-71, -84).
 */
static int
bench_drop_dir(struct sim_device *dev, enum fault_drop_mode mode,
    int to_host, int status, char **cause)
{
	char		devt[32];
	uint32_t	id = 0;

	*cause = NULL;
	sim_lock();
	if (dev->port == NULL || (!dev->plugged && mode ==
	    FAULT_DROP_STRANDED))
		xasprintf(cause, "device %s is not attached",
		    dev->bench_name);
	else {
		if (to_host) {
			usbmon('C', "Bi", dev->bus, dev->devnum, 1, status,
			    0);
			atomic_fetch_add(&dev->mux_write_errors, 1);
		} else {
			usbmon('C', "Bo", dev->bus, dev->devnum, 2, status,
			    0);
			atomic_fetch_add(&dev->mux_read_errors, 1);
		}
		id = bench_detach(dev);
		dev->placement++;
		dev->timer_gen++;
		if (mode == FAULT_DROP_STRANDED) {
			dev->stranded = 1;
			evlog_add("drop %s stranded", dev->bench_name);
		} else {
			dev->stranded = 0;
			kernel_devt(dev->bus, dev->devnum, devt, sizeof(devt));
			kmsg(6, devt, "usb %s: reset %s USB device number %d "
			    "using xhci_hcd", dev->port->path,
			    kernel_speed_words((int)(dev->speed_bps /
			    1000000)), dev->devnum);
			evlog_add("drop %s reset", dev->bench_name);
			bench_reenumerate_later(dev);
		}
	}
	sim_unlock();
	if (*cause != NULL)
		return (-1);
	if (id != 0)
		mux_notify_detached(id);
	return (0);
}

/*
 * After a reset or a reboot into another mode: the device enumerates
 * again, if still on its port.
 */
static void
bench_reenumerate_cb(void *arg, uint64_t placement)
{
	struct sim_device	*dev = arg;

	sim_lock();
	if (dev->placement != placement || dev->port == NULL) {
		sim_unlock();
		return;
	}
	bench_usb_remove(dev);
	dev->placement++;
	bench_relink(dev);
	if (bench_enumerate(dev) == 0) {
		evlog_add("reenumerate %s", dev->bench_name);
		bench_arm(dev);
	}
	sim_unlock();
	mux_notify_attached(dev);
}

/*
 * A link-error episode that does not drop the device: the hub port
 * is disabled by interference and re-enabled, the kernel's reset of the
 * device meets a -71 once, and usbmon sees a transfer fail.
 */
int
bench_link_error(struct sim_device *dev, char **cause)
{
	char	port_dev[64], devt[32];

	*cause = NULL;
	sim_lock();
	if (dev->port == NULL || !dev->plugged)
		xasprintf(cause, "device %s is not attached",
		    dev->bench_name);
	else {
		kernel_port_name(dev->port->path, port_dev,
		    sizeof(port_dev));
		kernel_devt(dev->bus, dev->devnum, devt, sizeof(devt));
		/*
		 * The hub re-enables the port by resetting the device,
		 * which keeps its number; the first descriptor read of
		 * the reset fails on the bad link, the retry succeeds.
		 */
		kmsg(3, NULL, "usb %s: disabled by hub (EMI?), "
		    "re-enabling...", port_dev);
		kmsg(6, devt, "usb %s: reset %s USB device number %d using "
		    "xhci_hcd", dev->port->path, kernel_speed_words((int)(
		    dev->speed_bps / 1000000)), dev->devnum);
		kmsg(3, devt, "usb %s: device descriptor read/64, error -71",
		    dev->port->path);
		/* EPROTO or EILSEQ, as host controllers report either. */
		usbmon('C', "Bi", dev->bus, dev->devnum, 1,
		    rng_next(&dev->rng_time) % 2 ? -71 : -84, 0);
		atomic_fetch_add(&dev->mux_read_errors, 1);
		evlog_add("link-error %s", dev->bench_name);
	}
	sim_unlock();
	return (*cause != NULL ? -1 : 0);
}

/*
 * A burst starts: its link errors fall at uniform instants within its
 * length, as interference from a motor or a wiggled plug comes in
 * clusters rather than evenly. They share the device's timer
 * generation, so a replug or fault change ends a burst. Lock held.
 */
static void
bench_burst(struct sim_device *dev)
{
	int64_t	span;
	int	i, len;

	len = dev->fault.burst_len > 0 ? dev->fault.burst_len :
	    BENCH_BURST_LEN;
	span = dev->fault.burst_us > 0 ? dev->fault.burst_us :
	    BENCH_BURST_US;
	evlog_add("burst %s %d in %lldms", dev->bench_name, len,
	    (long long)(span / 1000));
	for (i = 0; i < len; i++)
		clock_at(lq_mono_add(clock_base(), (int64_t)(rng_unit(
		    &dev->rng_time) * (double)span)), bench_timer_cb, dev,
		    dev->timer_gen * TIMER_COUNT + TIMER_BURST_ERROR);
}

/* A time-driven fault falls due. */
static void
bench_timer_cb(void *arg, uint64_t cookie)
{
	struct sim_device	*dev = arg;
	enum bench_timer	 kind;
	enum fault_drop_mode	 mode;
	char			*cause = NULL;
	int			 rearm = 0;

	kind = (enum bench_timer)(cookie % TIMER_COUNT);
	sim_lock();
	if (cookie / TIMER_COUNT != dev->timer_gen || !dev->plugged) {
		sim_unlock();
		return;
	}
	mode = dev->fault.drop_mode;
	if (kind == TIMER_STALL) {
		dev->stall_until_us = lq_mono_now().us +
		    dev->fault.stall_us;
		evlog_add("stall %s %lldms", dev->bench_name,
		    (long long)(dev->fault.stall_us / 1000));
		rearm = 1;
	}
	if (kind == TIMER_BURST) {
		bench_burst(dev);
		rearm = 1;
	}
	sim_unlock();
	switch (kind) {
	case TIMER_DROP:
		(void)bench_drop(dev, mode, &cause);
		break;
	case TIMER_RESET:
		(void)bench_drop(dev, FAULT_DROP_RESET, &cause);
		break;
	case TIMER_LINK_ERROR:
		(void)bench_link_error(dev, &cause);
		rearm = 1;
		break;
	case TIMER_BURST_ERROR:
		(void)bench_link_error(dev, &cause);
		break;
	default:
		break;
	}
	free(cause);
	if (!rearm)
		return;
	sim_lock();
	if (cookie / TIMER_COUNT == dev->timer_gen)
		bench_arm_one(dev, kind);
	sim_unlock();
}

/* Arm one time-driven fault if its rate is set. Lock held. */
static void
bench_arm_one(struct sim_device *dev, enum bench_timer kind)
{
	double	rate = 0;

	switch (kind) {
	case TIMER_DROP:
		rate = dev->fault.drop_per_min;
		break;
	case TIMER_LINK_ERROR:
		rate = dev->fault.link_error_per_min;
		break;
	case TIMER_RESET:
		rate = dev->fault.reset_per_min;
		break;
	case TIMER_STALL:
		rate = dev->fault.stall_us > 0 ? dev->fault.stall_per_min : 0;
		break;
	case TIMER_BURST:
		rate = dev->fault.burst_per_min;
		break;
	default:
		break;
	}
	if (rate <= 0)
		return;
	clock_at(lq_mono_add(clock_base(), (int64_t)rng_exp(&dev->rng_time,
	    60e6 / rate)), bench_timer_cb, dev,
	    dev->timer_gen * TIMER_COUNT + kind);
}

/* Arm every time-driven fault of a plugged device. Lock held. */
static void
bench_arm(struct sim_device *dev)
{
	int	kind;

	for (kind = 0; kind < TIMER_COUNT; kind++)
		bench_arm_one(dev, (enum bench_timer)kind);
}

/* Stop the device's link for ms milliseconds from now. */
int
bench_stall(struct sim_device *dev, int64_t ms, char **cause)
{
	*cause = NULL;
	sim_lock();
	if (dev->port == NULL || !dev->plugged)
		xasprintf(cause, "device %s is not attached",
		    dev->bench_name);
	else {
		dev->stall_until_us = lq_mono_now().us + ms * 1000;
		evlog_add("stall %s %lldms", dev->bench_name,
		    (long long)ms);
	}
	sim_unlock();
	return (*cause != NULL ? -1 : 0);
}

/* A device's faults changed: recombine and rearm. Lock held. */
static void
bench_refault(struct sim_device *dev)
{
	if (dev == NULL || dev->port == NULL)
		return;
	bench_relink(dev);
	if (dev->plugged)
		bench_arm(dev);
}

/* Find a device by its bench name. Call with the lock held. */
static struct sim_device *
bench_device_find_locked(const char *name)
{
	struct sim_device	*dev;

	for (dev = device_first(); dev != NULL; dev = device_next(dev))
		if (strcmp(dev->bench_name, name) == 0)
			return (dev);
	return (NULL);
}

/*
 * Apply fault parameters to every port below a hub, as a fault of the
 * hub itself (its power, its upstream cable) reaches them all. Returns
 * how many ports. Lock held.
 */
static int
bench_set_hub_fault(const char *hub, const char *params, char **cause)
{
	struct bench_port	*p;
	struct fault		 copy;
	int			 n = 0;

	TAILQ_FOREACH(p, &ports, entry) {
		if (!scn_path_under(p->path, hub))
			continue;
		copy = p->fault;
		if (fault_parse(&copy, params, cause) == -1)
			return (-1);
		p->fault = copy;
		bench_refault(p->device);
		n++;
	}
	if (n == 0)
		xasprintf(cause, "no port, cable or device called %s, nor a "
		    "port below a hub %s", hub, hub);
	return (n == 0 ? -1 : n);
}

/*
 * Change the faults of a port, a cable, a device (its own connector,
 * which follows it) or every port below a hub: "key=value ...".
 */
int
bench_set_fault(const char *name, const char *params, char **cause)
{
	struct bench_port	*p;
	struct bench_cable	*c;
	struct fault		*f, copy;
	struct sim_device	*dev = NULL;

	*cause = NULL;
	sim_lock();
	if ((p = bench_port_find(name)) != NULL) {
		f = &p->fault;
		dev = p->device;
	} else if ((c = bench_cable_find(name)) != NULL) {
		f = &c->fault;
		dev = c->device;
	} else if ((dev = bench_device_find_locked(name)) != NULL)
		f = &dev->own_fault;
	else {
		if (bench_set_hub_fault(name, params, cause) == -1) {
			sim_unlock();
			return (-1);
		}
		evlog_add("fault %s %s", name, params);
		sim_unlock();
		return (0);
	}
	copy = *f;
	if (fault_parse(&copy, params, cause) == -1) {
		sim_unlock();
		return (-1);
	}
	*f = copy;
	evlog_add("fault %s %s", name, params);
	bench_refault(dev);
	sim_unlock();
	return (0);
}

/* The end of a flex, unless a later flex of the cable replaced it. */
static void
bench_flex_end_cb(void *arg, uint64_t gen)
{
	struct bench_cable	*c = arg;

	sim_lock();
	if (c->flex_gen == gen && c->flex > 0) {
		c->flex = 0;
		evlog_add("flex-end %s", c->name);
		bench_refault(c->device);
	}
	sim_unlock();
}

/*
 * Wiggle a cable: for us microseconds its fault rates are factor times
 * what they are (fault_scale), then what they were. A clean cable stays
 * clean: flexing finds the faults a cable has, it makes none up. A new
 * flex of the same cable replaces the one going on.
 */
int
bench_flex(const char *name, int64_t us, double factor, char **cause)
{
	struct bench_cable	*c;

	*cause = NULL;
	sim_lock();
	if ((c = bench_cable_find(name)) == NULL) {
		xasprintf(cause, "no cable called %s", name);
		sim_unlock();
		return (-1);
	}
	c->flex = factor;
	c->flex_gen++;
	evlog_add("flex-start %s factor=%g for=%lldms", c->name, factor,
	    (long long)(us / 1000));
	bench_refault(c->device);
	clock_at(lq_mono_add(clock_base(), us), bench_flex_end_cb, c,
	    c->flex_gen);
	sim_unlock();
	return (0);
}

/* Cut a device's power or host: off the bus, out of usbmuxd. */
uint32_t
bench_power_off(struct sim_device *dev)
{
	uint32_t	id;

	if (dev->on_bus && dev->plugged) {
		/* What was in flight ends -ESHUTDOWN as the device goes. */
		usbmon('C', "Bi", dev->bus, dev->devnum, 1, -108, 0);
		usbmon('C', "Bo", dev->bus, dev->devnum, 2, -108, 0);
	}
	bench_usb_remove(dev);
	id = bench_detach(dev);
	dev->stranded = 0;
	dev->placement++;
	dev->timer_gen++;
	return (id);
}

/* Power or host is back: enumerate after the reset delay. */
void
bench_power_on(struct sim_device *dev)
{
	bench_reenumerate_later(dev);
}

/* Answer the Trust prompt of a device. */
int
bench_trust(struct sim_device *dev, int accept, char **cause)
{
	*cause = NULL;
	sim_lock();
	dev->trust_accepted = accept;
	dev->trust_denied = !accept;
	evlog_add("trust %s %s", dev->bench_name, accept ? "accept" :
	    "deny");
	preflight_trust_answered(dev);
	sim_unlock();
	return (0);
}

/*
 * Boot a device into a mode. On a port it leaves usbmuxd and the bus at
 * once and enumerates again after the reset delay; off a port it
 * enumerates in that mode when next plugged.
 */
int
bench_mode(struct sim_device *dev, enum sim_mode mode, char **cause)
{
	uint32_t	id = 0;

	*cause = NULL;
	sim_lock();
	if (dev->mode == mode)
		xasprintf(cause, "device %s is in %s mode already",
		    dev->bench_name, sim_mode_name(mode));
	else {
		dev->mode = mode;
		evlog_add("mode %s %s", dev->bench_name,
		    sim_mode_name(mode));
		if (dev->port != NULL) {
			id = bench_detach(dev);
			dev->stranded = 0;
			bench_usb_remove(dev);
			dev->placement++;
			dev->timer_gen++;
			bench_reenumerate_later(dev);
		}
	}
	sim_unlock();
	if (*cause != NULL)
		return (-1);
	if (id != 0) {
		mux_notify_detached(id);
		muxd_udev_remove();
	}
	return (0);
}

/* A timeline event of the scenario falls due. */
static void
bench_timeline_cb(void *arg, uint64_t unused)
{
	const struct scn_event	*e = arg;
	struct sim_device	*dev = NULL;
	char			*cause = NULL;
	int			 ret = 0;

	(void)unused;
	if (e->device != NULL && (dev = bench_find_device(e->device)) ==
	    NULL)
		fatalx("scenario line %d: no device %s", e->line, e->device);
	switch (e->action) {
	case SCN_PLUG:
		ret = bench_plug(dev, e->port, e->cable, &cause);
		break;
	case SCN_UNPLUG:
		ret = bench_unplug(dev, &cause);
		break;
	case SCN_FAULT:
		ret = bench_set_fault(e->target, e->params, &cause);
		break;
	case SCN_TRUST:
		ret = bench_trust(dev, e->accept, &cause);
		break;
	case SCN_MODE:
		ret = bench_mode(dev, e->mode, &cause);
		break;
	case SCN_FLEX:
		ret = bench_flex(e->target, e->dur_us, e->factor, &cause);
		break;
	case SCN_HC_DIED:
		ret = hostfault_hc_died(e->bus, &cause);
		break;
	case SCN_HC_RECOVER:
		ret = hostfault_hc_recover(e->bus, &cause);
		break;
	case SCN_OVER_CURRENT:
		ret = hostfault_over_current(e->target, &cause);
		break;
	case SCN_HUB_RESET:
		ret = hostfault_hub_reset(e->target, &cause);
		break;
	}
	if (ret == -1) {
		log_warnx("scenario line %d: %s", e->line, cause);
		free(cause);
	}
}

/*
 * Schedule the timeline; the scenario must outlive the program. What
 * happens at 0s happens now, before the socket is announced, so that a
 * client that connects at once finds the bench as the file says.
 */
void
bench_schedule(const struct scenario *scn)
{
	struct scn_event	*e;

	TAILQ_FOREACH(e, &scn->events, entry) {
		if (e->at_us == 0)
			bench_timeline_cb(e, 0);
		else
			clock_at(lq_mono_add(bench_start, e->at_us),
			    bench_timeline_cb, e, 0);
	}
}
