/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Logging in the OpenBSD daemon manner: log_warn appends strerror(errno),
 * log_warnx does not; fatal and fatalx log and exit(1).
 *
 * Destination: with log_init(LOG_TO_STDERR, ...) messages go to standard
 * error, prefixed with the program name, or with the syslog priority
 * ("<4>") when standard error is the journal (JOURNAL_STREAM is set), so
 * that journald files each line at the right level. Otherwise they go to
 * syslog(3) with the given facility.
 *
 * Levels: warnings and info are always written; log_debug needs verbosity
 * 1 (-v) and log_trace verbosity 2 (-vv).
 *
 * Every function preserves errno, formats the message once on the stack
 * (no static buffers), escapes control characters so that a device name
 * or a peer's bytes cannot forge log lines, and emits it with one write,
 * so it is safe to call from any thread.
 */

#ifndef LQ_LOG_H
#define LQ_LOG_H

#include <stdarg.h>

#include "compat/compat.h"

enum log_dest {
	LOG_TO_STDERR,
	LOG_TO_SYSLOG
};

void	log_init(enum log_dest, int, const char *);
void	log_setverbose(int);
int	log_getverbose(void);
void	log_warn(const char *, ...) printflike(1, 2);
void	log_warnx(const char *, ...) printflike(1, 2);
void	log_info(const char *, ...) printflike(1, 2);
void	log_debug(const char *, ...) printflike(1, 2);
void	log_trace(const char *, ...) printflike(1, 2);
void	vlog(int, const char *, va_list) printflike(2, 0);
__dead void fatal(const char *, ...) printflike(1, 2);
__dead void fatalx(const char *, ...) printflike(1, 2);

#endif /* LQ_LOG_H */
