/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The simulated kernel's log and usbmon text interface (contract and file
 * kinds in kernel.h; formats in linux-usb-signals-and-performance.md,
 * B1 and B2).
 */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernel.h"
#include "log.h"
#include "lq-time.h"
#include "xmalloc.h"

#define KMSG_RECORD_MAX	2048	/* PRINTK_MESSAGE_MAX */

static pthread_mutex_t	kernel_mutex = PTHREAD_MUTEX_INITIALIZER;
static int		kmsg_fd = -1;
static int		usbmon_fd = -1;
static uint64_t		kmsg_seq;
static uint64_t		urb_tag = UINT64_C(0xffff888004a3c000);

/* Open path for appending, creating it empty. */
static int
kernel_open_one(const char *path, char **cause)
{
	int	fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
	    0644);
	if (fd == -1)
		xasprintf(cause, "%s: %s", path, strerror(errno));
	return (fd);
}

/* Open the kmsg and usbmon outputs. */
int
kernel_open(const char *kmsg_path, const char *usbmon_path, char **cause)
{
	if (kmsg_path != NULL &&
	    (kmsg_fd = kernel_open_one(kmsg_path, cause)) == -1)
		return (-1);
	if (usbmon_path != NULL &&
	    (usbmon_fd = kernel_open_one(usbmon_path, cause)) == -1)
		return (-1);
	return (0);
}

/* Append one whole record with a single write. */
static void
kernel_write(int fd, const char *buf, size_t len)
{
	if (write(fd, buf, len) != (ssize_t)len)
		log_warn("kernel: write");
}

/* Write a kmsg record. */
void
kmsg(int level, const char *device, const char *fmt, ...)
{
	char		text[KMSG_RECORD_MAX], rec[KMSG_RECORD_MAX + 128];
	va_list		ap;
	int		len;

	va_start(ap, fmt);
	(void)vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	log_debug("kmsg: %s", text);
	if (kmsg_fd == -1)
		return;
	if (pthread_mutex_lock(&kernel_mutex) != 0)
		fatalx("%s: lock", __func__);
	/* Facility 0 (kernel), so the priority is the level. */
	len = snprintf(rec, sizeof(rec), "%d,%llu,%lld,-;%s\n", level,
	    (unsigned long long)kmsg_seq++, (long long)lq_mono_now().us,
	    text);
	if (len > 0 && device != NULL && (size_t)len < sizeof(rec))
		len += snprintf(rec + len, sizeof(rec) - (size_t)len,
		    " SUBSYSTEM=usb\n DEVICE=%s\n", device);
	if (len > 0 && (size_t)len < sizeof(rec))
		kernel_write(kmsg_fd, rec, (size_t)len);
	if (pthread_mutex_unlock(&kernel_mutex) != 0)
		fatalx("%s: unlock", __func__);
}

/* Write a usbmon text event. */
void
usbmon(char type, const char *xfer, int bus, int devnum, int ep, int status,
    int length)
{
	char		line[160];
	uint32_t	stamp;
	lq_mono_t	now;
	int		len;

	if (usbmon_fd == -1)
		return;
	now = lq_mono_now();
	/* usbmon's stamp wraps every 4096 s. */
	stamp = (uint32_t)((now.us / 1000000 & 0xfff) * 1000000 +
	    now.us % 1000000);
	if (pthread_mutex_lock(&kernel_mutex) != 0)
		fatalx("%s: lock", __func__);
	urb_tag += 0x40;
	len = snprintf(line, sizeof(line), "%llx %u %c %s:%d:%03d:%d %d %d\n",
	    (unsigned long long)urb_tag, stamp, type, xfer, bus, devnum, ep,
	    status, length);
	if (len > 0 && (size_t)len < sizeof(line))
		kernel_write(usbmon_fd, line, (size_t)len);
	if (pthread_mutex_unlock(&kernel_mutex) != 0)
		fatalx("%s: unlock", __func__);
}

/* The kernel's name of the hub port a device path hangs off. */
void
kernel_port_name(const char *path, char *buf, size_t size)
{
	const char	*dot, *dash;

	if ((dot = strrchr(path, '.')) != NULL)
		(void)snprintf(buf, size, "%.*s-port%s", (int)(dot - path),
		    path, dot + 1);
	else if ((dash = strchr(path, '-')) != NULL)
		(void)snprintf(buf, size, "usb%.*s-port%s", (int)(dash - path),
		    path, dash + 1);
	else
		(void)snprintf(buf, size, "%s", path);
}

/* The character device of a USB device, as kmsg's DEVICE= names it. */
void
kernel_devt(int bus, int devnum, char *buf, size_t size)
{
	(void)snprintf(buf, size, "c189:%d", (bus - 1) * 128 + devnum - 1);
}

/* The speed words of "new ... USB device number" (hub.c, common.c). */
const char *
kernel_speed_words(int mbps)
{
	switch (mbps) {
	case 12:
		return ("full-speed");
	case 5000:
		return ("SuperSpeed");
	case 10000:
		return ("SuperSpeed Plus Gen 2x1");
	default:
		return ("high-speed");
	}
}
