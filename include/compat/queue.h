/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * BSD queue(3) macros. glibc's <sys/queue.h> lacks the _SAFE iterators
 * (TAILQ_FOREACH_SAFE and friends), so use the complete BSD header that
 * libbsd installs; every file includes this one instead of choosing.
 */

#ifndef LQ_COMPAT_QUEUE_H
#define LQ_COMPAT_QUEUE_H

#include <bsd/sys/queue.h>

#endif /* LQ_COMPAT_QUEUE_H */
