/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * lq-usb-list: the Apple devices libusb sees, found with libusb's own
 * hotplug (LIBUSB_HOTPLUG_ENUMERATE), for the integration tests of
 * linkq-sim's umockdev testbed. One line per device:
 *
 *	1 5 1-4.2 480 12a8
 *
 * bus, device number, port path (bus and libusb_get_port_numbers),
 * speed in Mb/s and idProduct. Options:
 *
 *	-f	follow: after the list, "+ ..." for each arrival and
 *		"- bus devnum path" for each departure, until SIGTERM
 *	-s	open each device and add its serial number string (read
 *		over ep0) to its line
 *	-n N	open each device and send it N GET_STATUS requests, one
 *		at a time, printing "get-status I MICROSECONDS STATUS"
 *		with STATUS the libusb transfer status (COMPLETED, STALL,
 *		ERROR, TIMED_OUT, ...)
 *	-i SEC	open each device and let libusb's event loop idle on the
 *		handle for SEC seconds
 *	-t MS	timeout of each control transfer (default 1000)
 *
 * Every line is flushed at once. libusb's calls run on this one thread:
 * the hotplug callback only queues what it saw, and devices are opened
 * outside it, as libusb asks.
 */

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libusb.h>

#include "compat/compat.h"

#define APPLE_VID	0x05ac
#define QUEUE_MAX	64

struct options {
	int		 follow;
	int		 serial;
	long long	 status_n;
	long long	 idle_s;
	unsigned int	 timeout_ms;
};

static volatile sig_atomic_t	 quit;
static libusb_device		*queue[QUEUE_MAX];
static int			 nqueue;

/* SIGTERM, SIGINT: leave the follow loop. */
static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static __dead void
usage(void)
{
	(void)fprintf(stderr, "usage: lq-usb-list [-fs] [-i seconds] "
	    "[-n count] [-t ms]\n");
	exit(2);
}

/* Microseconds on the monotonic clock. */
static int64_t
now_us(void)
{
	struct timespec	ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

/* The port path of a device, "1-4.2", as sysfs names it. */
static void
port_path(libusb_device *dev, char *buf, size_t size)
{
	uint8_t	ports[8];
	int	n, i, len;

	len = snprintf(buf, size, "%u", libusb_get_bus_number(dev));
	n = libusb_get_port_numbers(dev, ports, (int)sizeof(ports));
	for (i = 0; i < n && len > 0 && (size_t)len < size; i++)
		len += snprintf(buf + len, size - (size_t)len, "%c%u",
		    i == 0 ? '-' : '.', ports[i]);
	if (n <= 0)
		(void)strlcat(buf, "-?", size);
}

/* The speed of a device in Mb/s, as sysfs writes it. */
static const char *
speed_mbps(libusb_device *dev)
{
	switch (libusb_get_device_speed(dev)) {
	case LIBUSB_SPEED_LOW:
		return ("1.5");
	case LIBUSB_SPEED_FULL:
		return ("12");
	case LIBUSB_SPEED_HIGH:
		return ("480");
	case LIBUSB_SPEED_SUPER:
		return ("5000");
	case LIBUSB_SPEED_SUPER_PLUS:
		return ("10000");
	default:
		return ("0");
	}
}

/* The name of a transfer status. */
static const char *
status_name(enum libusb_transfer_status status)
{
	switch (status) {
	case LIBUSB_TRANSFER_COMPLETED:
		return ("COMPLETED");
	case LIBUSB_TRANSFER_ERROR:
		return ("ERROR");
	case LIBUSB_TRANSFER_TIMED_OUT:
		return ("TIMED_OUT");
	case LIBUSB_TRANSFER_CANCELLED:
		return ("CANCELLED");
	case LIBUSB_TRANSFER_STALL:
		return ("STALL");
	case LIBUSB_TRANSFER_NO_DEVICE:
		return ("NO_DEVICE");
	case LIBUSB_TRANSFER_OVERFLOW:
		return ("OVERFLOW");
	default:
		return ("UNKNOWN");
	}
}

/* A transfer is done: note it for the loop waiting on it. */
static void LIBUSB_CALL
transfer_done(struct libusb_transfer *xfer)
{
	*(int *)xfer->user_data = 1;
}

/* Send n GET_STATUS requests one after the other; print each. */
static void
get_status_loop(libusb_context *ctx, libusb_device_handle *h,
    const struct options *o)
{
	struct libusb_transfer	*xfer;
	unsigned char		 buf[LIBUSB_CONTROL_SETUP_SIZE + 2];
	long long		 i;
	int64_t			 start;
	int			 done, r;

	if ((xfer = libusb_alloc_transfer(0)) == NULL)
		return;
	for (i = 1; i <= o->status_n && !quit; i++) {
		libusb_fill_control_setup(buf, LIBUSB_ENDPOINT_IN |
		    LIBUSB_REQUEST_TYPE_STANDARD | LIBUSB_RECIPIENT_DEVICE,
		    LIBUSB_REQUEST_GET_STATUS, 0, 0, 2);
		done = 0;
		libusb_fill_control_transfer(xfer, h, buf, transfer_done,
		    &done, o->timeout_ms);
		start = now_us();
		if ((r = libusb_submit_transfer(xfer)) != 0) {
			(void)printf("get-status %lld 0 %s\n", i,
			    libusb_error_name(r));
			(void)fflush(stdout);
			break;
		}
		while (!done) {
			r = libusb_handle_events_completed(ctx, &done);
			if (r != 0 && r != LIBUSB_ERROR_INTERRUPTED)
				break;
		}
		(void)printf("get-status %lld %lld %s\n", i,
		    (long long)(now_us() - start),
		    status_name(xfer->status));
		(void)fflush(stdout);
	}
	libusb_free_transfer(xfer);
}

/* Let the event loop idle with the handle open for o->idle_s seconds. */
static void
idle_loop(libusb_context *ctx, const struct options *o)
{
	struct timeval	tv = { 0, 100000 };
	int64_t		end;

	end = now_us() + o->idle_s * 1000000;
	while (now_us() < end && !quit)
		(void)libusb_handle_events_timeout_completed(ctx, &tv, NULL);
}

/* Print one device's line; open it for what the options ask. */
static void
report(libusb_context *ctx, libusb_device *dev, const struct options *o,
    const char *prefix)
{
	struct libusb_device_descriptor	 dd;
	libusb_device_handle		*h = NULL;
	unsigned char			 serial[256];
	char				 path[64];
	int				 r, need_open;

	if (libusb_get_device_descriptor(dev, &dd) != 0)
		return;
	port_path(dev, path, sizeof(path));
	(void)printf("%s%u %u %s %s %04x", prefix,
	    libusb_get_bus_number(dev), libusb_get_device_address(dev),
	    path, speed_mbps(dev), dd.idProduct);
	need_open = o->serial || o->status_n > 0 || o->idle_s > 0;
	if (need_open && (r = libusb_open(dev, &h)) != 0) {
		(void)printf(" open:%s\n", libusb_error_name(r));
		(void)fflush(stdout);
		return;
	}
	if (o->serial) {
		r = libusb_get_string_descriptor_ascii(h, dd.iSerialNumber,
		    serial, (int)sizeof(serial));
		if (r >= 0)
			(void)printf(" %s", serial);
		else
			(void)printf(" serial:%s", libusb_error_name(r));
	}
	(void)printf("\n");
	(void)fflush(stdout);
	if (o->status_n > 0)
		get_status_loop(ctx, h, o);
	if (o->idle_s > 0)
		idle_loop(ctx, o);
	if (h != NULL)
		libusb_close(h);
}

/* Hotplug: queue arrivals (opened outside); print departures. */
static int LIBUSB_CALL
hotplug_cb(libusb_context *ctx, libusb_device *dev,
    libusb_hotplug_event event, void *arg)
{
	char	path[64];

	(void)ctx;
	(void)arg;
	if (event == LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED) {
		if (nqueue < QUEUE_MAX)
			queue[nqueue++] = libusb_ref_device(dev);
		return (0);
	}
	port_path(dev, path, sizeof(path));
	(void)printf("- %u %u %s\n", libusb_get_bus_number(dev),
	    libusb_get_device_address(dev), path);
	(void)fflush(stdout);
	return (0);
}

/* Report and release what the hotplug callback queued. */
static void
drain(libusb_context *ctx, const struct options *o, const char *prefix)
{
	int	i;

	for (i = 0; i < nqueue; i++) {
		report(ctx, queue[i], o, prefix);
		libusb_unref_device(queue[i]);
	}
	nqueue = 0;
}

int
main(int argc, char **argv)
{
	struct options			 o;
	struct sigaction		 sa;
	struct timeval			 tv = { 1, 0 };
	libusb_context			*ctx;
	libusb_hotplug_callback_handle	 cb;
	const char			*errstr;
	int				 ch, r;

	memset(&o, 0, sizeof(o));
	o.timeout_ms = 1000;
	while ((ch = getopt(argc, argv, "fi:n:st:")) != -1) {
		switch (ch) {
		case 'f':
			o.follow = 1;
			break;
		case 'i':
			o.idle_s = strtonum(optarg, 1, 3600, &errstr);
			if (errstr != NULL)
				usage();
			break;
		case 'n':
			o.status_n = strtonum(optarg, 1, 1000000, &errstr);
			if (errstr != NULL)
				usage();
			break;
		case 's':
			o.serial = 1;
			break;
		case 't':
			o.timeout_ms = (unsigned int)strtonum(optarg, 1, 600000,
			    &errstr);
			if (errstr != NULL)
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);

	if ((r = libusb_init(&ctx)) != 0) {
		(void)fprintf(stderr, "lq-usb-list: libusb_init: %s\n",
		    libusb_error_name(r));
		return (1);
	}
	if (!libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG)) {
		(void)fprintf(stderr, "lq-usb-list: libusb has no hotplug\n");
		libusb_exit(ctx);
		return (1);
	}
	r = libusb_hotplug_register_callback(ctx,
	    LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED |
	    LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT, LIBUSB_HOTPLUG_ENUMERATE,
	    APPLE_VID, LIBUSB_HOTPLUG_MATCH_ANY, LIBUSB_HOTPLUG_MATCH_ANY,
	    hotplug_cb, NULL, &cb);
	if (r != 0) {
		(void)fprintf(stderr, "lq-usb-list: hotplug: %s\n",
		    libusb_error_name(r));
		libusb_exit(ctx);
		return (1);
	}
	drain(ctx, &o, "");
	while (o.follow && !quit) {
		r = libusb_handle_events_timeout_completed(ctx, &tv, NULL);
		if (r != 0 && r != LIBUSB_ERROR_INTERRUPTED) {
			(void)fprintf(stderr, "lq-usb-list: %s\n",
			    libusb_error_name(r));
			break;
		}
		drain(ctx, &o, "+ ");
	}
	libusb_hotplug_deregister_callback(ctx, cb);
	libusb_exit(ctx);
	return (0);
}
