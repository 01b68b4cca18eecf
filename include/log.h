/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Logging in the OpenBSD daemon manner: log_warn appends strerror(errno),
 * log_warnx does not; fatal and fatalx log and exit(1).
 *
 * Destination: with log_init(LOG_TO_STDERR, ...) messages go to standard
 * error, prefixed with the program name, or with the syslog priority
 * ("<4>") when standard error is the journal (JOURNAL_STREAM names it), so
 * that journald files each line at the right level. Otherwise they go to
 * syslog(3) with the given facility.
 *
 * Levels: warnings and info are always written; log_debug needs verbosity
 * 1 (-v) and log_trace verbosity 2 (-vv).
 *
 * Structured fields: log_fields() logs a message about a run or a device
 * with its facts (struct log_ctx). Through a journal sink installed with
 * log_set_journal (linkqd's service.c, so that neither linkq nor
 * linkq-sim needs libsystemd) they become journal fields; elsewhere the
 * line is the same text as log_info's.
 *
 * Every function preserves errno, formats the message once on the stack
 * (no static buffers), escapes control characters so that a device name
 * or a peer's bytes cannot forge log lines, and emits it with one write,
 * so it is safe to call from any thread.
 */

#ifndef LQ_LOG_H
#define LQ_LOG_H

#include <stdarg.h>
#include <stdint.h>
#include <sys/types.h>

#include "compat/compat.h"

enum log_dest {
	LOG_TO_STDERR,
	LOG_TO_SYSLOG
};

/* The facts a message is about; 0 or NULL where there is none. */
struct log_ctx {
	int64_t		 run_id;
	const char	*port;
	const char	*cable;
	const char	*udid;
	const char	*verdict;
};

/*
 * A journal sink: gets the priority, the escaped line, the program name
 * and the facts (NULL for a plain message); returns -1 if the journal
 * refused it, and the line goes to standard error then. Any thread.
 */
typedef int	(*log_journal_fn)(int, const char *, const char *,
		    const struct log_ctx *);

void	log_init(enum log_dest, int, const char *);
/* Whether standard error is the journal (set by log_init). */
int	log_is_journal(void);
/* Whether JOURNAL_STREAM's "dev:ino" names this device and inode. */
int	log_journal_stream_is(const char *, dev_t, ino_t);
/* Install the sink, used while standard error is the journal. */
void	log_set_journal(log_journal_fn);
void	log_fields(int, const struct log_ctx *, const char *, ...)
	    printflike(3, 4);
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
