/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Allocators that never return NULL: on failure they log and exit through
 * fatal(). A daemon under systemd with Restart=on-failure is better dead
 * than limping on after an allocation failure. Safe on any thread.
 *
 * A zero size is a programmer error and ends the process too, so callers
 * never have to wonder whether malloc(0) returned NULL or a pointer.
 */

#ifndef LQ_XMALLOC_H
#define LQ_XMALLOC_H

#include <stdarg.h>
#include <stddef.h>

#include "compat/compat.h"

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
void	*xrecallocarray(void *, size_t, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
int	 xasprintf(char **, const char *, ...) printflike(2, 3);
int	 xvasprintf(char **, const char *, va_list) printflike(2, 0);
/* Like snprintf, but a truncated result is a programmer error. */
int	 xsnprintf(char *, size_t, const char *, ...) printflike(3, 4);

#endif /* LQ_XMALLOC_H */
