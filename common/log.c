/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Logging to standard error or syslog (contract in include/log.h).
 *
 * Each message is formatted into a buffer on the caller's stack and goes
 * out with a single write(2) or syslog(3) call, so concurrent threads
 * never interleave within a line. The settings are written once by
 * log_init before any thread starts; the verbosity is an atomic so that
 * a reload on the loop thread may change it while workers log.
 */

#include <sys/stat.h>
#include <sys/uio.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX	1024

static enum log_dest	 log_dest = LOG_TO_STDERR;
static int		 log_journal;	/* stderr is the systemd journal */
static log_journal_fn	 log_sink;	/* fields to it, when journal */
static const char	*log_name = "linkq";
static atomic_int	 log_verbose;

static void	log_emit(int, const char *, const char *,
		    const struct log_ctx *);
static size_t	log_escape(char *, size_t, const char *);
static int	log_stderr_is_journal(void);

/*
 * Set where messages go and the verbosity. Call once, before starting
 * threads. name must outlive the process (argv[0] or a literal).
 */
void
log_init(enum log_dest dest, int verbose, const char *name)
{
	const char	*slash;

	if (name != NULL) {
		slash = strrchr(name, '/');
		log_name = slash != NULL ? slash + 1 : name;
	}
	log_dest = dest;
	log_journal = log_stderr_is_journal();
	atomic_store(&log_verbose, verbose);
	if (dest == LOG_TO_SYSLOG)
		openlog(log_name, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

/*
 * Whether JOURNAL_STREAM ("dev:ino", systemd.exec(5)) names dev and ino:
 * a program started by a service inherits the variable even when its
 * standard error was redirected to a file.
 */
int
log_journal_stream_is(const char *env, dev_t dev, ino_t ino)
{
	uintmax_t	 d, i;
	char		*end;

	if (env == NULL || *env < '0' || *env > '9')
		return (0);
	errno = 0;
	d = strtoumax(env, &end, 10);
	if (errno != 0 || *end != ':' || end[1] < '0' || end[1] > '9')
		return (0);
	i = strtoumax(end + 1, &end, 10);
	if (errno != 0 || *end != '\0')
		return (0);
	return (d == (uintmax_t)dev && i == (uintmax_t)ino);
}

/* Whether our standard error is the stream JOURNAL_STREAM names. */
static int
log_stderr_is_journal(void)
{
	struct stat	st;

	if (fstat(STDERR_FILENO, &st) == -1)
		return (0);
	return (log_journal_stream_is(getenv("JOURNAL_STREAM"), st.st_dev,
	    st.st_ino));
}

/* Whether standard error is the journal. */
int
log_is_journal(void)
{
	return (log_journal);
}

/* Install the journal sink; call before threads start, as log_init. */
void
log_set_journal(log_journal_fn fn)
{
	log_sink = fn;
}

/* Change the verbosity at run time. */
void
log_setverbose(int verbose)
{
	atomic_store(&log_verbose, verbose);
}

/* Return the verbosity. */
int
log_getverbose(void)
{
	return (atomic_load(&log_verbose));
}

/*
 * Copy src to dst, writing non-printable bytes as \ooo so that a name read
 * from a device cannot inject a line break or a terminal escape. Returns
 * the length written; the result is always terminated.
 */
static size_t
log_escape(char *dst, size_t size, const char *src)
{
	size_t		n = 0;
	unsigned char	c;

	for (; *src != '\0' && n + 1 < size; src++) {
		c = (unsigned char)*src;
		if (c >= 0x20 && c != 0x7f) {
			dst[n++] = (char)c;
			continue;
		}
		if (n + 4 >= size)
			break;
		(void)snprintf(dst + n, size - n, "\\%03o", c);
		n += 4;
	}
	dst[n] = '\0';
	return (n);
}

/*
 * Write one finished line to the destination with a single call: the
 * journal sink if there is one and standard error is the journal.
 */
static void
log_emit(int priority, const char *prefix, const char *msg,
    const struct log_ctx *ctx)
{
	struct iovec	iov[5];
	char		pri[8], line[LOG_LINE_MAX + 16];
	int		n = 0;

	if (log_journal && log_sink != NULL) {
		(void)snprintf(line, sizeof(line), "%s%s", prefix, msg);
		if (log_sink(priority, line, log_name, ctx) == 0)
			return;
	}
	if (log_dest == LOG_TO_SYSLOG) {
		syslog(priority, "%s%s", prefix, msg);
		return;
	}
	if (log_journal) {
		(void)snprintf(pri, sizeof(pri), "<%d>", priority & 7);
		iov[n].iov_base = pri;
		iov[n++].iov_len = strlen(pri);
	} else {
		iov[n].iov_base = (void *)(uintptr_t)log_name;
		iov[n++].iov_len = strlen(log_name);
		iov[n].iov_base = (void *)(uintptr_t)": ";
		iov[n++].iov_len = 2;
	}
	iov[n].iov_base = (void *)(uintptr_t)prefix;
	iov[n++].iov_len = strlen(prefix);
	iov[n].iov_base = (void *)(uintptr_t)msg;
	iov[n++].iov_len = strlen(msg);
	iov[n].iov_base = (void *)(uintptr_t)"\n";
	iov[n++].iov_len = 1;
	/* A failed log write has nowhere to be reported. */
	if (writev(STDERR_FILENO, iov, n) == -1)
		return;
}

/*
 * Format, append the message of errnum unless it is 0, escape and emit.
 * errno is the caller's to preserve.
 */
static void
log_vemit(int priority, const char *prefix, int errnum,
    const struct log_ctx *ctx, const char *fmt, va_list ap)
{
	char	raw[LOG_LINE_MAX], msg[LOG_LINE_MAX], err[128];

	(void)vsnprintf(raw, sizeof(raw), fmt, ap);
	if (errnum != 0) {
		/* strerror is not thread-safe; the GNU strerror_r is. */
		(void)strlcat(raw, ": ", sizeof(raw));
		(void)strlcat(raw, strerror_r(errnum, err, sizeof(err)),
		    sizeof(raw));
	}
	(void)log_escape(msg, sizeof(msg), raw);
	log_emit(priority, prefix, msg, ctx);
}

/* Log at a syslog priority; preserves errno. */
void
vlog(int priority, const char *fmt, va_list ap)
{
	int	saved_errno = errno;

	log_vemit(priority, "", 0, NULL, fmt, ap);
	errno = saved_errno;
}

/*
 * Log a message about a run or a device at a syslog priority, with its
 * facts as journal fields when there is a journal; preserves errno.
 */
void
log_fields(int priority, const struct log_ctx *ctx, const char *fmt, ...)
{
	va_list	ap;
	int	saved_errno = errno;

	if ((priority & 7) == LOG_DEBUG && atomic_load(&log_verbose) < 1)
		return;
	va_start(ap, fmt);
	log_vemit(priority, "", 0, ctx, fmt, ap);
	va_end(ap);
	errno = saved_errno;
}

/* Log a warning followed by the message of the current errno. */
void
log_warn(const char *fmt, ...)
{
	va_list	ap;
	int	saved_errno = errno;

	va_start(ap, fmt);
	log_vemit(LOG_WARNING, "", saved_errno, NULL, fmt, ap);
	va_end(ap);
	errno = saved_errno;
}

/* Log a warning. */
void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap);
	va_end(ap);
}

/* Log an informational message. */
void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap);
	va_end(ap);
}

/* Log a debugging message when verbosity is at least 1. */
void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	if (atomic_load(&log_verbose) < 1)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

/* Log a detailed trace message when verbosity is at least 2. */
void
log_trace(const char *fmt, ...)
{
	va_list	ap;

	if (atomic_load(&log_verbose) < 2)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

/* Log a critical message with the current errno and exit. */
void
fatal(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vemit(LOG_CRIT, "fatal: ", errno, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}

/* Log a critical message and exit. */
void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vemit(LOG_CRIT, "fatal: ", 0, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
