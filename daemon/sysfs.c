/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Ports from sysfs (contract in sysfs.h). Only device directories are
 * looked at: root hubs are named usbN, interfaces carry a ':' (1-4.3:1.0),
 * and names starting with '.' are not the kernel's.
 */

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "compat/compat.h"
#include "sysfs.h"

/* The number in an attribute file, or -1. */
static int
sysfs_number(const char *dir, const char *name, const char *attr)
{
	char		 path[PATH_MAX], buf[32];
	const char	*errstr;
	ssize_t		 n;
	int		 fd, value;

	if (snprintf(path, sizeof(path), "%s/%s/%s", dir, name, attr) >=
	    (int)sizeof(path))
		return (-1);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	n = read(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	if (n <= 0)
		return (-1);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	value = (int)strtonum(buf, 0, 65535, &errstr);
	return (errstr != NULL ? -1 : value);
}

/* Find the port of (bus, devnum). */
int
sysfs_port_path(const char *root, int bus, int devnum, char *buf,
    size_t size)
{
	char		 dir[PATH_MAX];
	struct dirent	*de;
	DIR		*d;
	int		 ret = -1;

	if (snprintf(dir, sizeof(dir), "%s/bus/usb/devices", root) >=
	    (int)sizeof(dir) || (d = opendir(dir)) == NULL)
		return (-1);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || strchr(de->d_name, ':') != NULL ||
		    strncmp(de->d_name, "usb", 3) == 0)
			continue;
		if (sysfs_number(dir, de->d_name, "busnum") != bus ||
		    sysfs_number(dir, de->d_name, "devnum") != devnum)
			continue;
		if (strlcpy(buf, de->d_name, size) < size)
			ret = 0;
		break;
	}
	(void)closedir(d);
	return (ret);
}

/* The negotiated speed of the device on port, in Mb/s, or -1. */
int
sysfs_speed(const char *root, const char *port)
{
	char	dir[PATH_MAX];

	if (snprintf(dir, sizeof(dir), "%s/bus/usb/devices", root) >=
	    (int)sizeof(dir))
		return (-1);
	return (sysfs_number(dir, port, "speed"));
}
