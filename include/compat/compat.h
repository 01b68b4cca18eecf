/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Portability glue for glibc: the BSD attribute macros the code base uses,
 * and the BSD string and number functions glibc lacks (strlcpy, strlcat,
 * strtonum, freezero), taken from libbsd rather than copied into the tree.
 */

#ifndef LQ_COMPAT_H
#define LQ_COMPAT_H

#include <stddef.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>

#ifndef __dead
#define __dead		__attribute__((__noreturn__))
#endif
#ifndef __unused
#define __unused	__attribute__((__unused__))
#endif
#ifndef printflike
#define printflike(a, b) __attribute__((__format__(__printf__, a, b)))
#endif
#ifndef nitems
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#endif

#endif /* LQ_COMPAT_H */
