/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Why a file cannot be made at a path, said as what to fix: the
 * directory that does not exist, or that this user may not write in.
 * For startup errors (the control socket, the database), where the
 * library's own words ("No such file or directory", "unable to open
 * database file") do not name the directory. Any thread; no state.
 */

#ifndef LQ_DIRCHECK_H
#define LQ_DIRCHECK_H

#include <stddef.h>

/* What is wrong with path's directory. */
enum dircheck {
	DIRCHECK_OK,		/* exists, and we may make files in it */
	DIRCHECK_MISSING,	/* it does not exist, or is no directory */
	DIRCHECK_DENIED		/* we may not reach it or make files in it */
};

/*
 * Check the directory of path; unless DIRCHECK_OK, write into why a
 * sentence naming the directory, the problem and, for DIRCHECK_DENIED,
 * the user ("directory /run/linkq is not writable by user nobody (uid
 * 65534)"). dir gets the directory's path.
 */
enum dircheck	 dircheck(const char *, char *, size_t, char *, size_t);

#endif /* LQ_DIRCHECK_H */
