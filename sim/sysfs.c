/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Simulated sysfs (contract in sysfs.h). The attribute files hold what
 * the kernel's would, one value and a newline each: speed in Mb/s as
 * the kernel writes it ("1.5", "12", "480", "5000", "10000"), ids in
 * four hex digits.
 */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat/compat.h"
#include "log.h"
#include "sysfs.h"
#include "xmalloc.h"

static char	*devices_dir;	/* DIR/bus/usb/devices, or NULL: off */

/* mkdir -p of path. */
static int
sysfs_mkdirs(char *path)
{
	char	*p;

	for (p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) == -1 && errno != EEXIST)
			return (-1);
		*p = '/';
	}
	if (mkdir(path, 0755) == -1 && errno != EEXIST)
		return (-1);
	return (0);
}

/* Create the devices directory below root. */
int
sysfs_open(const char *root, char **cause)
{
	if (root == NULL)
		return (0);
	xasprintf(&devices_dir, "%s/bus/usb/devices", root);
	if (sysfs_mkdirs(devices_dir) == -1) {
		xasprintf(cause, "%s: %s", devices_dir, strerror(errno));
		free(devices_dir);
		devices_dir = NULL;
		return (-1);
	}
	return (0);
}

/* dir/name into buf; -1 if it does not fit. */
static int
sysfs_join(char *buf, size_t size, const char *dir, const char *name)
{
	int	n;

	n = snprintf(buf, size, "%s/%s", dir, name);
	return (n < 0 || (size_t)n >= size ? -1 : 0);
}

/* Write one attribute file in dir. */
static int
sysfs_attr(const char *dir, const char *name, const char *value)
{
	char	path[PATH_MAX], line[128];
	int	fd, len, ret = 0;

	if (sysfs_join(path, sizeof(path), dir, name) == -1)
		return (-1);
	len = snprintf(line, sizeof(line), "%s\n", value);
	if (len < 0 || (size_t)len >= sizeof(line))
		return (-1);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1)
		return (-1);
	if (write(fd, line, (size_t)len) != len)
		ret = -1;
	if (close(fd) == -1)
		ret = -1;
	return (ret);
}

/* Remove dir and the attribute files in it. */
static void
sysfs_rmdir(const char *dir)
{
	static const char *const names[] = {
		"busnum", "devnum", "devpath", "speed", "idVendor",
		"idProduct", "serial", "product", "manufacturer"
	};
	char	path[PATH_MAX];
	size_t	i;

	for (i = 0; i < nitems(names); i++) {
		if (sysfs_join(path, sizeof(path), dir, names[i]) == 0)
			(void)unlink(path);
	}
	(void)rmdir(dir);
}

/* Add a device: write it under a hidden name, then rename it in. */
void
sysfs_add(const char *port_path, int bus, int devnum, int speed_mbps,
    uint16_t product_id, const char *product, const char *serial)
{
	char		 tmp[PATH_MAX], dir[PATH_MAX], v[32];
	const char	*devpath;

	if (devices_dir == NULL)
		return;
	if (snprintf(tmp, sizeof(tmp), "%s/.%s.new", devices_dir,
	    port_path) >= (int)sizeof(tmp) ||
	    sysfs_join(dir, sizeof(dir), devices_dir, port_path) == -1) {
		log_warnx("sysfs: %s: path too long", port_path);
		return;
	}
	sysfs_rmdir(tmp);
	sysfs_rmdir(dir);
	if (mkdir(tmp, 0755) == -1) {
		log_warn("sysfs: %s", tmp);
		return;
	}
	devpath = strchr(port_path, '-');
	(void)snprintf(v, sizeof(v), "%d", bus);
	if (sysfs_attr(tmp, "busnum", v) == -1)
		goto fail;
	(void)snprintf(v, sizeof(v), "%d", devnum);
	if (sysfs_attr(tmp, "devnum", v) == -1 ||
	    sysfs_attr(tmp, "devpath", devpath != NULL ? devpath + 1 :
	    port_path) == -1)
		goto fail;
	if (speed_mbps == 1)
		(void)strlcpy(v, "1.5", sizeof(v));
	else
		(void)snprintf(v, sizeof(v), "%d", speed_mbps);
	if (sysfs_attr(tmp, "speed", v) == -1 ||
	    sysfs_attr(tmp, "idVendor", "05ac") == -1)
		goto fail;
	(void)snprintf(v, sizeof(v), "%04x", product_id);
	if (sysfs_attr(tmp, "idProduct", v) == -1 ||
	    sysfs_attr(tmp, "serial", serial) == -1 ||
	    sysfs_attr(tmp, "product", product) == -1 ||
	    sysfs_attr(tmp, "manufacturer", "Apple Inc.") == -1)
		goto fail;
	if (rename(tmp, dir) == 0)
		return;
fail:
	log_warn("sysfs: %s", dir);
	sysfs_rmdir(tmp);
}

/* Write an attribute of the hub port that port_path hangs off. */
void
sysfs_port_attr(const char *port_path, const char *name, const char *value)
{
	char		 dir[PATH_MAX];
	const char	*dot, *dash;
	int		 n;

	if (devices_dir == NULL || (dash = strchr(port_path, '-')) == NULL)
		return;
	/* The hub's interface: "1-4:1.0", or the root hub's "1-0:1.0". */
	if ((dot = strrchr(port_path, '.')) != NULL)
		n = snprintf(dir, sizeof(dir), "%s/%.*s:1.0/%.*s-port%s",
		    devices_dir, (int)(dot - port_path), port_path,
		    (int)(dot - port_path), port_path, dot + 1);
	else
		n = snprintf(dir, sizeof(dir), "%s/%.*s-0:1.0/usb%.*s-port%s",
		    devices_dir, (int)(dash - port_path), port_path,
		    (int)(dash - port_path), port_path, dash + 1);
	if (n < 0 || (size_t)n >= sizeof(dir) || sysfs_mkdirs(dir) == -1 ||
	    sysfs_attr(dir, name, value) == -1)
		log_warn("sysfs: %s/%s", port_path, name);
}

/* Remove a device. */
void
sysfs_remove(const char *port_path)
{
	char	dir[PATH_MAX];

	if (devices_dir == NULL)
		return;
	if (sysfs_join(dir, sizeof(dir), devices_dir, port_path) == 0)
		sysfs_rmdir(dir);
}
