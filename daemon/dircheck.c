/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Why a file cannot be made at a path (contract in dircheck.h).
 */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "compat/compat.h"
#include "dircheck.h"

/* path's directory into dir: "." for a bare name, "/" for /name. */
static void
dircheck_dirname(const char *path, char *dir, size_t len)
{
	char	*slash;

	(void)strlcpy(dir, path, len);
	if ((slash = strrchr(dir, '/')) == NULL)
		(void)strlcpy(dir, ".", len);
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
}

/* The effective user's name, for the message; "uid N" if it has none. */
static void
dircheck_user(char *buf, size_t len)
{
	struct passwd	 pw, *res = NULL;
	char		 pwbuf[1024];
	uid_t		 uid = geteuid();

	if (getpwuid_r(uid, &pw, pwbuf, sizeof(pwbuf), &res) == 0 &&
	    res != NULL)
		(void)snprintf(buf, len, "user %s (uid %lu)", res->pw_name,
		    (unsigned long)uid);
	else
		(void)snprintf(buf, len, "uid %lu", (unsigned long)uid);
}

/* Check the directory of path (dircheck.h). */
enum dircheck
dircheck(const char *path, char *dir, size_t dirlen, char *why,
    size_t whylen)
{
	struct stat	st;
	char		user[160];
	int		errnum;

	dircheck_dirname(path, dir, dirlen);
	if (stat(dir, &st) == -1) {
		if (errno == ENOENT || errno == ENOTDIR) {
			(void)snprintf(why, whylen, "directory %s does not "
			    "exist", dir);
			return (DIRCHECK_MISSING);
		}
		errnum = errno;
		dircheck_user(user, sizeof(user));
		(void)snprintf(why, whylen, "directory %s cannot be reached by "
		    "%s: %s", dir, user, strerror(errnum));
		return (DIRCHECK_DENIED);
	}
	if (!S_ISDIR(st.st_mode)) {
		(void)snprintf(why, whylen, "%s is not a directory", dir);
		return (DIRCHECK_MISSING);
	}
	/* The effective ids, which make the file; root passes always. */
	if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) == 0)
		return (DIRCHECK_OK);
	dircheck_user(user, sizeof(user));
	(void)snprintf(why, whylen, "directory %s is not writable by %s", dir,
	    user);
	return (DIRCHECK_DENIED);
}
