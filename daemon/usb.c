/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The USB topology through libusb (contract in usb.h).
 *
 * libusb's file descriptors come and go (a device handle adds its node);
 * each gets a libevent event while libusb keeps it. A descriptor that
 * epoll refuses (EPERM: a regular file, as umockdev's device nodes are)
 * is always ready for poll(2); it is serviced by a 1 ms timer that runs
 * only while a transfer is in flight. On Linux libusb keeps its timeouts
 * in a timerfd, so no timer of ours is needed for them; where it does
 * not, the next timeout arms one.
 *
 * Hotplug callbacks run inside libusb_handle_events, where libusb must
 * not be re-entered for I/O; they only copy what they see into a queue,
 * and a libevent callback delivers it.
 */

#include <sys/epoll.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <libusb.h>

#include "compat/compat.h"
#include "compat/queue.h"
#include "linkq.h"
#include "log.h"
#include "lq-status.h"
#include "sources.h"
#include "usb.h"
#include "xmalloc.h"

/* How often an unpollable device node is serviced while busy. */
#define USB_SPIN_US	1000

/* A descriptor libusb asked us to watch. */
struct usb_fd {
	int			 fd;
	struct event		*ev;		/* NULL: unpollable */
	TAILQ_ENTRY(usb_fd)	 entry;
};
TAILQ_HEAD(usb_fds, usb_fd);

/* A device on the bus now. */
struct usb_dev {
	libusb_device		*dev;		/* referenced */
	struct usb_info		 info;
	TAILQ_ENTRY(usb_dev)	 entry;
};
TAILQ_HEAD(usb_devs, usb_dev);

/* A hotplug report waiting for delivery. */
struct usb_report {
	int			 arrived;
	libusb_device		*dev;		/* referenced */
	TAILQ_ENTRY(usb_report)	 entry;
};
TAILQ_HEAD(usb_reports, usb_report);

static libusb_context		*ctx;
static struct event_base	*base;
static usb_fn			 notify;
static char			 sysfs_root[PATH_MAX];
static char			 status[160] = "unavailable: not started";
static struct usb_fds		 fds = TAILQ_HEAD_INITIALIZER(fds);
static struct usb_devs		 devs = TAILQ_HEAD_INITIALIZER(devs);
static struct usb_reports	 reports = TAILQ_HEAD_INITIALIZER(reports);
static struct event		*deliver_ev;
static struct event		*spin_ev;	/* unpollable nodes */
static struct event		*timeout_ev;	/* libusb without timerfd */
static libusb_hotplug_callback_handle hotplug;
static unsigned int		 unpollable;	/* fds without an event */
static unsigned int		 in_flight;	/* transfers */
static int			 epoll_probe = -1;
static sigset_t			 loop_mask;	/* the loop thread's */

static void	usb_handle(void);

/* The mode of an Apple product ID (usb.h). */
int
usb_mode_of_product(uint16_t pid)
{
	if (pid >= 0x1290 && pid <= 0x12af)
		return (LQ_MODE_NORMAL);
	if (pid >= 0x1280 && pid <= 0x1283)
		return (LQ_MODE_RECOVERY);
	if (pid == 0x1227)
		return (LQ_MODE_DFU);
	if (pid == 0x1222)
		return (LQ_MODE_WTF);
	return (-1);
}

/* Whether s is n hex digits and nothing else. */
static int
usb_is_hex(const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return (0);
	}
	return (s[n] == '\0');
}

/* The hex value after "KEY:" in a recovery serial; -1 if none. */
static int
usb_serial_field(const char *serial, const char *key, unsigned long long *v)
{
	const char	*p;
	char		*end;
	size_t		 len = strlen(key);

	for (p = serial; (p = strstr(p, key)) != NULL; p += len) {
		if ((p != serial && p[-1] != ' ') || p[len] != ':')
			continue;
		errno = 0;
		*v = strtoull(p + len + 1, &end, 16);
		if (errno != 0 || end == p + len + 1 ||
		    (*end != ' ' && *end != '\0'))
			return (-1);
		return (0);
	}
	return (-1);
}

/* The UDID a serial number names (usb.h). */
int
usb_udid_of_serial(const char *serial, char *buf, size_t size)
{
	unsigned long long	cpid, ecid;
	int			n;

	if (usb_is_hex(serial, 24))
		n = snprintf(buf, size, "%.8s-%.16s", serial, serial + 8);
	else if (usb_is_hex(serial, 40))
		n = snprintf(buf, size, "%s", serial);
	else if (usb_serial_field(serial, "CPID", &cpid) == 0 &&
	    usb_serial_field(serial, "ECID", &ecid) == 0 &&
	    cpid <= 0xffffffffULL)
		n = snprintf(buf, size, "%08llX-%016llX", cpid, ecid);
	else
		return (-1);
	return (n < 0 || (size_t)n >= size ? -1 : 0);
}

/* Whether two UDIDs name the same device (usb.h). */
int
usb_udid_equal(const char *a, const char *b)
{
	for (;;) {
		while (*a == '-')
			a++;
		while (*b == '-')
			b++;
		if (*a == '\0' || *b == '\0')
			return (*a == *b);
		if (toupper((unsigned char)*a) != toupper((unsigned char)*b))
			return (0);
		a++;
		b++;
	}
}

/* A libusb error code as an lq_status (the one place it is mapped). */
int
usb_status_of_error(int err)
{
	switch (err) {
	case LIBUSB_SUCCESS:
		return (LQ_OK);
	case LIBUSB_ERROR_TIMEOUT:
		return (LQ_ETIMEDOUT);
	case LIBUSB_ERROR_NO_DEVICE:
	case LIBUSB_ERROR_NOT_FOUND:
		return (LQ_ENODEVICE);
	case LIBUSB_ERROR_ACCESS:
		return (LQ_EPERM);
	case LIBUSB_ERROR_BUSY:
		return (LQ_EBUSY);
	case LIBUSB_ERROR_INTERRUPTED:
		return (LQ_ECANCELED);
	case LIBUSB_ERROR_NO_MEM:
	case LIBUSB_ERROR_INVALID_PARAM:
	case LIBUSB_ERROR_NOT_SUPPORTED:
		return (LQ_EINTERNAL);
	default:
		return (LQ_EUSB);
	}
}

/* A transfer's status as an lq_status. */
int
usb_status_of_transfer(enum libusb_transfer_status st)
{
	switch (st) {
	case LIBUSB_TRANSFER_COMPLETED:
		return (LQ_OK);
	case LIBUSB_TRANSFER_TIMED_OUT:
		return (LQ_ETIMEDOUT);
	case LIBUSB_TRANSFER_CANCELLED:
		return (LQ_ECANCELED);
	case LIBUSB_TRANSFER_NO_DEVICE:
		return (LQ_ENODEVICE);
	case LIBUSB_TRANSFER_STALL:
		return (LQ_EUSB);
	/*
	 * libusb's linux backend reports the kernel's -71, -84, -62 (and
	 * the host's -70, -63) as ERROR and -75 as OVERFLOW, and cannot
	 * tell them apart (research/linux-usb-signals-and-performance.md,
	 * libusb statuses): on a request every device supports, a link
	 * error.
	 */
	case LIBUSB_TRANSFER_ERROR:
	case LIBUSB_TRANSFER_OVERFLOW:
		return (LQ_ELINK);
	}
	return (LQ_EUSB);
}

/* A transfer's status in words, for details. */
const char *
usb_transfer_status_name(enum libusb_transfer_status st)
{
	switch (st) {
	case LIBUSB_TRANSFER_COMPLETED:
		return ("completed");
	case LIBUSB_TRANSFER_TIMED_OUT:
		return ("timed out");
	case LIBUSB_TRANSFER_CANCELLED:
		return ("cancelled");
	case LIBUSB_TRANSFER_NO_DEVICE:
		return ("no device");
	case LIBUSB_TRANSFER_STALL:
		return ("stall");
	case LIBUSB_TRANSFER_ERROR:
		return ("error (link error such as -71)");
	case LIBUSB_TRANSFER_OVERFLOW:
		return ("overflow");
	}
	return ("unknown");
}

/* Speed in Mb/s. */
static int
usb_speed_mbps(int speed)
{
	switch (speed) {
	case LIBUSB_SPEED_LOW:
		return (1);
	case LIBUSB_SPEED_FULL:
		return (12);
	case LIBUSB_SPEED_HIGH:
		return (480);
	case LIBUSB_SPEED_SUPER:
		return (5000);
	case LIBUSB_SPEED_SUPER_PLUS:
		return (10000);
	default:
		return (0);
	}
}

/* The serial number from sysfs; "" if it cannot be read. */
static void
usb_read_serial(const char *port, char *buf, size_t size)
{
	char	 path[PATH_MAX];
	FILE	*fp;
	int	 n;

	buf[0] = '\0';
	n = snprintf(path, sizeof(path), "%s/bus/usb/devices/%s/serial",
	    sysfs_root, port);
	if (n < 0 || (size_t)n >= sizeof(path))
		return;
	if ((fp = fopen(path, "r")) == NULL) {
		usb_restore_mask();
		return;
	}
	if (fgets(buf, (int)size, fp) == NULL)
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	(void)fclose(fp);
	usb_restore_mask();
}

/* Describe dev; -1 if it is not an Apple device we can name. */
static int
usb_describe(libusb_device *dev, struct usb_info *info)
{
	struct libusb_device_descriptor	dd;
	uint8_t				ports[8];
	int				n, i, len;

	memset(info, 0, sizeof(*info));
	if (libusb_get_device_descriptor(dev, &dd) != 0 ||
	    dd.idVendor != USB_APPLE_VID)
		return (-1);
	info->bus = libusb_get_bus_number(dev);
	info->devnum = libusb_get_device_address(dev);
	info->product_id = dd.idProduct;
	info->mode = usb_mode_of_product(dd.idProduct);
	info->speed_mbps = usb_speed_mbps(libusb_get_device_speed(dev));
	n = libusb_get_port_numbers(dev, ports, (int)sizeof(ports));
	if (n <= 0)
		return (-1);
	len = snprintf(info->port, sizeof(info->port), "%d-%d", info->bus,
	    ports[0]);
	for (i = 1; i < n && len > 0 && (size_t)len < sizeof(info->port);
	    i++)
		len += snprintf(info->port + len, sizeof(info->port) - len,
		    ".%d", ports[i]);
	if (len < 0 || (size_t)len >= sizeof(info->port))
		return (-1);
	info->hub_depth = n - 1;
	usb_read_serial(info->port, info->serial, sizeof(info->serial));
	if (usb_udid_of_serial(info->serial, info->udid,
	    sizeof(info->udid)) == -1)
		info->udid[0] = '\0';
	return (0);
}

/* Hotplug (inside libusb): queue the report for the loop. */
static int LIBUSB_CALL
usb_hotplug_cb(libusb_context *c, libusb_device *dev,
    libusb_hotplug_event event, void *arg)
{
	struct usb_report	*rp;

	(void)c;
	(void)arg;
	rp = xcalloc(1, sizeof(*rp));
	rp->arrived = event == LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED;
	rp->dev = libusb_ref_device(dev);
	TAILQ_INSERT_TAIL(&reports, rp, entry);
	event_active(deliver_ev, EV_TIMEOUT, 0);
	return (0);
}

/* Find the device we know by its libusb device. */
static struct usb_dev *
usb_dev_find(libusb_device *dev)
{
	struct usb_dev	*ud;

	TAILQ_FOREACH(ud, &devs, entry) {
		if (ud->dev == dev)
			return (ud);
	}
	return (NULL);
}

/* Take one hotplug report. */
static void
usb_report(struct usb_report *rp)
{
	struct usb_dev	*ud;
	struct usb_info	 info;

	ud = usb_dev_find(rp->dev);
	if (rp->arrived) {
		if (ud != NULL || usb_describe(rp->dev, &info) == -1)
			return;
		ud = xcalloc(1, sizeof(*ud));
		ud->dev = libusb_ref_device(rp->dev);
		ud->info = info;
		TAILQ_INSERT_TAIL(&devs, ud, entry);
		log_debug("usb %s: %04x at device number %d, %d Mb/s%s%s",
		    info.port, info.product_id, info.devnum, info.speed_mbps,
		    info.udid[0] != '\0' ? ", " : "", info.udid);
		notify(1, &ud->info);
		return;
	}
	if (ud == NULL)
		return;
	TAILQ_REMOVE(&devs, ud, entry);
	log_debug("usb %s: device number %d left", ud->info.port,
	    ud->info.devnum);
	notify(0, &ud->info);
	libusb_unref_device(ud->dev);
	free(ud);
}

/* Deliver the queued hotplug reports, in order. */
static void
usb_deliver_cb(evutil_socket_t fd, short what, void *arg)
{
	struct usb_report	*rp;

	(void)fd;
	(void)what;
	(void)arg;
	while ((rp = TAILQ_FIRST(&reports)) != NULL) {
		TAILQ_REMOVE(&reports, rp, entry);
		usb_report(rp);
		libusb_unref_device(rp->dev);
		free(rp);
	}
}

/* Arm the timer for libusb's next timeout, where it has no timerfd. */
static void
usb_arm_timeout(void)
{
	struct timeval	tv;

	if (timeout_ev == NULL)
		return;
	if (libusb_get_next_timeout(ctx, &tv) == 1)
		(void)evtimer_add(timeout_ev, &tv);
	else
		(void)evtimer_del(timeout_ev);
}

/* Service an unpollable node while transfers are in flight. */
static void
usb_arm_spin(void)
{
	struct timeval	tv = { 0, USB_SPIN_US };

	if (unpollable > 0 && in_flight > 0)
		(void)evtimer_add(spin_ev, &tv);
	else
		(void)evtimer_del(spin_ev);
}

/*
 * Put back the loop thread's signal mask after a call into libusb or a
 * file under /sys. umockdev 0.17's preload, which the tests and the demo
 * run linkqd under, blocks every signal around such calls and restores
 * the mask saved in one variable for all threads: two threads at once
 * can leave the loop with SIGTERM blocked for good, and linkqd could no
 * longer be stopped. Elsewhere this is a no-op.
 */
void
usb_restore_mask(void)
{
	(void)pthread_sigmask(SIG_SETMASK, &loop_mask, NULL);
}

/* Let libusb do what is ready, without waiting. */
static void
usb_handle(void)
{
	struct timeval	zero = { 0, 0 };
	int		r;

	r = libusb_handle_events_timeout_completed(ctx, &zero, NULL);
	usb_restore_mask();
	if (r != 0 && r != LIBUSB_ERROR_INTERRUPTED)
		log_debug("libusb: %s", libusb_error_name(r));
	usb_arm_timeout();
	usb_arm_spin();
}

static void
usb_event_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	usb_handle();
}

/* Whether epoll can watch fd; a regular file it cannot. */
static int
usb_pollable(int fd)
{
	struct epoll_event	ee;

	if (epoll_probe == -1)
		return (1);
	memset(&ee, 0, sizeof(ee));
	ee.events = EPOLLIN;
	if (epoll_ctl(epoll_probe, EPOLL_CTL_ADD, fd, &ee) == -1)
		return (errno != EPERM);
	(void)epoll_ctl(epoll_probe, EPOLL_CTL_DEL, fd, &ee);
	return (1);
}

/* libusb has a new descriptor to watch. */
static void LIBUSB_CALL
usb_fd_added(int fd, short events, void *arg)
{
	struct usb_fd	*uf;
	short		 what = EV_PERSIST;

	(void)arg;
	uf = xcalloc(1, sizeof(*uf));
	uf->fd = fd;
	if (events & POLLIN)
		what |= EV_READ;
	if (events & POLLOUT)
		what |= EV_WRITE;
	if (usb_pollable(fd)) {
		uf->ev = event_new(base, fd, what, usb_event_cb, NULL);
		if (uf->ev == NULL || event_add(uf->ev, NULL) == -1)
			fatalx("%s: cannot watch libusb fd %d", __func__, fd);
	} else
		unpollable++;
	TAILQ_INSERT_TAIL(&fds, uf, entry);
	usb_arm_spin();
}

/* libusb no longer needs a descriptor. */
static void LIBUSB_CALL
usb_fd_removed(int fd, void *arg)
{
	struct usb_fd	*uf;

	(void)arg;
	TAILQ_FOREACH(uf, &fds, entry) {
		if (uf->fd == fd)
			break;
	}
	if (uf == NULL)
		return;
	TAILQ_REMOVE(&fds, uf, entry);
	if (uf->ev != NULL)
		event_free(uf->ev);
	else
		unpollable--;
	free(uf);
	usb_arm_spin();
}

static void
usb_spin_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	usb_handle();
}

/* Watch the descriptors libusb has now. */
static void
usb_watch_existing(void)
{
	const struct libusb_pollfd	**pfds;
	size_t				  i;

	if ((pfds = libusb_get_pollfds(ctx)) == NULL)
		return;
	for (i = 0; pfds[i] != NULL; i++)
		usb_fd_added(pfds[i]->fd, pfds[i]->events, NULL);
	libusb_free_pollfds(pfds);
}

/* Give up on libusb, saying why. */
static int
usb_unavailable(const char *why, int err)
{
	(void)snprintf(status, sizeof(status), "unavailable: %s%s%s", why,
	    err != 0 ? ": " : "", err != 0 ? libusb_strerror(err) : "");
	log_warnx("usb topology %s; ports come from usbmuxd and sysfs "
	    "only", status);
	usb_stop();
	return (-1);
}

/* Start following the bus (usb.h). */
int
usb_start(struct event_base *b, const char *root, usb_fn fn)
{
	int	r;

	base = b;
	notify = fn;
	(void)strlcpy(sysfs_root, root, sizeof(sysfs_root));
	(void)pthread_sigmask(SIG_SETMASK, NULL, &loop_mask);
	if ((r = libusb_init(&ctx)) != 0) {
		ctx = NULL;
		return (usb_unavailable("libusb_init", r));
	}
	if (!libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG))
		return (usb_unavailable("no hotplug support", 0));
	epoll_probe = epoll_create1(EPOLL_CLOEXEC);
	deliver_ev = event_new(base, -1, 0, usb_deliver_cb, NULL);
	spin_ev = evtimer_new(base, usb_spin_cb, NULL);
	if (deliver_ev == NULL || spin_ev == NULL)
		fatalx("%s: event_new", __func__);
	if (!libusb_pollfds_handle_timeouts(ctx) &&
	    (timeout_ev = evtimer_new(base, usb_spin_cb, NULL)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	libusb_set_pollfd_notifiers(ctx, usb_fd_added, usb_fd_removed, NULL);
	usb_watch_existing();
	r = libusb_hotplug_register_callback(ctx,
	    LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED |
	    LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT, LIBUSB_HOTPLUG_ENUMERATE,
	    USB_APPLE_VID, LIBUSB_HOTPLUG_MATCH_ANY,
	    LIBUSB_HOTPLUG_MATCH_ANY, usb_hotplug_cb, NULL, &hotplug);
	if (r != LIBUSB_SUCCESS)
		return (usb_unavailable("hotplug", r));
	(void)strlcpy(status, "watching", sizeof(status));
	log_info("usb topology: watching the bus through libusb %d.%d.%d",
	    libusb_get_version()->major, libusb_get_version()->minor,
	    libusb_get_version()->micro);
	return (0);
}

/* Stop following the bus; forget every device. */
void
usb_stop(void)
{
	struct usb_report	*rp;
	struct usb_dev		*ud;
	struct usb_fd		*uf;

	while ((rp = TAILQ_FIRST(&reports)) != NULL) {
		TAILQ_REMOVE(&reports, rp, entry);
		libusb_unref_device(rp->dev);
		free(rp);
	}
	while ((ud = TAILQ_FIRST(&devs)) != NULL) {
		TAILQ_REMOVE(&devs, ud, entry);
		libusb_unref_device(ud->dev);
		free(ud);
	}
	if (ctx != NULL) {
		libusb_set_pollfd_notifiers(ctx, NULL, NULL, NULL);
		libusb_exit(ctx);	/* deregisters the hotplug callback */
		ctx = NULL;
	}
	while ((uf = TAILQ_FIRST(&fds)) != NULL) {
		TAILQ_REMOVE(&fds, uf, entry);
		if (uf->ev != NULL)
			event_free(uf->ev);
		free(uf);
	}
	if (deliver_ev != NULL)
		event_free(deliver_ev);
	if (spin_ev != NULL)
		event_free(spin_ev);
	if (timeout_ev != NULL)
		event_free(timeout_ev);
	deliver_ev = spin_ev = timeout_ev = NULL;
	if (epoll_probe != -1)
		(void)close(epoll_probe);
	epoll_probe = -1;
	unpollable = in_flight = 0;
}

struct event_base *
usb_event_base(void)
{
	return (base);
}

int
usb_available(void)
{
	return (ctx != NULL);
}

const char *
usb_status(void)
{
	return (status);
}

/* libusb as an evidence source (sources.h). */
void
usb_source(struct source_state *st)
{
	if (strcmp(status, "watching") != 0) {
		source_off(st, status, "give linkqd's user access to "
		    "/dev/bus/usb (the udev rule of the systemd unit does); "
		    "ports come from usbmuxd and sysfs meanwhile");
		return;
	}
	st->on = 1;
	(void)strlcpy(st->reason, "watching the bus (hotplug)",
	    sizeof(st->reason));
}

/* The device with this UDID on the bus now (usb.h). */
const struct usb_info *
usb_find(const char *udid)
{
	struct usb_dev	*ud;

	TAILQ_FOREACH(ud, &devs, entry) {
		if (ud->info.udid[0] != '\0' &&
		    usb_udid_equal(ud->info.udid, udid))
			return (&ud->info);
	}
	return (NULL);
}

/* Open the device at bus/devnum (usb.h). */
int
usb_open(int bus, int devnum, libusb_device_handle **handle)
{
	struct usb_dev	*ud;
	int		 r;

	*handle = NULL;
	if (ctx == NULL)
		return (LQ_EUNSUPPORTED);
	TAILQ_FOREACH(ud, &devs, entry) {
		if (ud->info.bus == bus && ud->info.devnum == devnum)
			break;
	}
	if (ud == NULL)
		return (LQ_ENODEVICE);
	r = libusb_open(ud->dev, handle);
	usb_restore_mask();
	if (r != 0) {
		*handle = NULL;
		return (usb_status_of_error(r));
	}
	return (LQ_OK);
}

/*
 * Shutdown: give the transfers cancelled by the runs' cut (at most 2 s)
 * the chance to come back, and their probes' completions to run.
 */
void
usb_drain(void)
{
	struct timeval	tv = { 0, 100000 };
	int		i;

	if (ctx == NULL)
		return;
	for (i = 0; in_flight > 0 && i < 20; i++)
		(void)libusb_handle_events_timeout_completed(ctx, &tv, NULL);
	(void)event_base_loop(base, EVLOOP_NONBLOCK);
}

void
usb_transfer_begin(void)
{
	in_flight++;
	usb_arm_spin();
}

void
usb_transfer_end(void)
{
	if (in_flight > 0)
		in_flight--;
	usb_arm_spin();
}
