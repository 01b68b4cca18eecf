/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * What the harnesses that hand their input to a function taking a path
 * share: a scratch file of this process, in memory where possible.
 */

#ifndef LQ_FUZZ_H
#define LQ_FUZZ_H

#include <stdio.h>
#include <unistd.h>

/*
 * The path of this process's scratch file named name and ending in ext:
 * in /dev/shm when it can be written, since a file rewritten on every
 * input makes a disk's journal the bottleneck; else in /tmp.
 */
static inline void
fuzz_scratch_path(char *buf, size_t size, const char *name,
    const char *ext)
{
	const char	*dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" :
			    "/tmp";

	(void)snprintf(buf, size, "%s/lq-fuzz-%s-%ld%s", dir, name,
	    (long)getpid(), ext);
}

#endif /* LQ_FUZZ_H */
