/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * systemd's notifications and journal (contract in service.h). The only
 * file that calls libsystemd; its errors end here: a notification that
 * cannot be sent is logged at debug level, since the manager then
 * cannot hear us anyway, and linkqd goes on.
 */

#include <sys/uio.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

#include "compat/compat.h"
#include "devices.h"
#include "log.h"
#include "lq-time.h"
#include "run.h"
#include "service.h"

/* STATUS= no more often than this, however many changes come. */
#define SERVICE_STATUS_US	(200 * 1000)
#define SERVICE_FIELD_MAX	256	/* a journal field but MESSAGE */
#define SERVICE_MESSAGE_MAX	1280	/* log.c's longest line, and more */

static struct {
	int		 on;		/* NOTIFY_SOCKET is set */
	int		 stopping;	/* STOPPING sent: no more STATUS */
	struct event	*watchdog_ev;
	struct event	*status_ev;
	char		 status[64];	/* the last STATUS= sent */
} svc;

static void	service_notify(const char *);
static void	service_status_text(char *, size_t);

/* Send one notification; an error is the manager's problem, not ours. */
static void
service_notify(const char *state)
{
	int	r;

	if (!svc.on)
		return;
	if ((r = sd_notify(0, state)) < 0)
		log_debug("sd_notify: %s", strerror(-r));
}

/* "2 devices, 1 run": what systemctl status shows. */
static void
service_status_text(char *buf, size_t len)
{
	unsigned int	ndev = devices_attached(), nrun = runs_running();

	(void)snprintf(buf, len, "%u device%s, %u run%s", ndev,
	    ndev == 1 ? "" : "s", nrun, nrun == 1 ? "" : "s");
}

/* Send STATUS= if it changed since the last one. */
static void
service_status_cb(evutil_socket_t fd, short what, void *unused)
{
	char	text[sizeof(svc.status)], line[sizeof(text) + 8];

	(void)fd;
	(void)what;
	(void)unused;
	service_status_text(text, sizeof(text));
	if (svc.stopping || strcmp(text, svc.status) == 0)
		return;
	(void)strlcpy(svc.status, text, sizeof(svc.status));
	(void)snprintf(line, sizeof(line), "STATUS=%s", text);
	service_notify(line);
}

/* The loop is alive: tell the watchdog. */
static void
service_watchdog_cb(evutil_socket_t fd, short what, void *unused)
{
	(void)fd;
	(void)what;
	(void)unused;
	service_notify("WATCHDOG=1");
}

/* Read the environment; arm the watchdog timer (service.h). */
void
service_init(struct event_base *base)
{
	struct timeval	 tv;
	uint64_t	 usec;
	int		 r;

	memset(&svc, 0, sizeof(svc));
	if (getenv("NOTIFY_SOCKET") == NULL)
		return;
	svc.on = 1;
	if ((svc.status_ev = evtimer_new(base, service_status_cb, NULL)) ==
	    NULL)
		fatalx("%s: evtimer_new", __func__);
	/* WATCHDOG_PID names us, or the pings would be another's. */
	if ((r = sd_watchdog_enabled(0, &usec)) <= 0) {
		if (r < 0)
			log_warnx("watchdog: WATCHDOG_USEC or WATCHDOG_PID is "
			    "malformed (%s); no pings", strerror(-r));
		return;
	}
	usec /= 2;
	tv.tv_sec = (time_t)(usec / LQ_USEC_PER_SEC);
	tv.tv_usec = (suseconds_t)(usec % LQ_USEC_PER_SEC);
	if ((svc.watchdog_ev = event_new(base, -1, EV_PERSIST,
	    service_watchdog_cb, NULL)) == NULL ||
	    event_add(svc.watchdog_ev, &tv) == -1)
		fatalx("%s: event_new", __func__);
	log_info("watchdog: a ping every %" PRIu64 " ms", usec / 1000);
}

/* Startup is over (service.h). */
void
service_ready(void)
{
	char	line[128];

	if (!svc.on)
		return;
	service_status_text(svc.status, sizeof(svc.status));
	(void)snprintf(line, sizeof(line), "READY=1\nMAINPID=%ld\nSTATUS=%s",
	    (long)getpid(), svc.status);
	service_notify(line);
}

/* A device or run came or went (service.h). */
void
service_changed(void)
{
	struct timeval	tv = { 0, SERVICE_STATUS_US };

	if (!svc.on || svc.stopping || evtimer_pending(svc.status_ev, NULL))
		return;
	if (evtimer_add(svc.status_ev, &tv) == -1)
		log_debug("service: no status timer");
}

/* A reload begins (service.h). */
void
service_reloading(void)
{
	struct timespec	ts;
	char		line[64];

	/* Type=notify-reload wants the clock of the reload's start. */
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	(void)snprintf(line, sizeof(line), "RELOADING=1\nMONOTONIC_USEC=%"
	    PRId64, (int64_t)ts.tv_sec * LQ_USEC_PER_SEC +
	    ts.tv_nsec / 1000);
	service_notify(line);
}

/* The reload is over, good or not (service.h). */
void
service_reloaded(void)
{
	service_notify("READY=1");
}

/* Shutdown begins (service.h). */
void
service_stopping(void)
{
	/* The runs that end now would say STATUS again: no more. */
	svc.stopping = 1;
	service_notify("STOPPING=1\nSTATUS=stopping");
}

/* Free the timers (service.h). */
void
service_free(void)
{
	if (svc.watchdog_ev != NULL)
		event_free(svc.watchdog_ev);
	if (svc.status_ev != NULL)
		event_free(svc.status_ev);
	svc.watchdog_ev = svc.status_ev = NULL;
	svc.on = 0;
}

/*
 * The journal sink (log.h): the line as MESSAGE with its priority and
 * the facts as fields, RUN_ID, PORT, CABLE, UDID and VERDICT, those
 * that the message has. sd_journal_sendv may be called from any thread.
 */
static int
service_journal(int priority, const char *msg, const char *name,
    const struct log_ctx *ctx)
{
	struct iovec	 iov[8];
	char		 f[7][SERVICE_FIELD_MAX], m[SERVICE_MESSAGE_MAX];
	int		 n = 0;

#define SERVICE_FIELD(...) do {						\
	(void)snprintf(f[n], sizeof(f[n]), __VA_ARGS__);		\
	iov[n].iov_base = f[n];						\
	iov[n].iov_len = strlen(f[n]);					\
	n++;								\
} while (0)
	SERVICE_FIELD("PRIORITY=%d", priority & 7);
	SERVICE_FIELD("SYSLOG_IDENTIFIER=%s", name);
	if (ctx != NULL && ctx->run_id > 0)
		SERVICE_FIELD("RUN_ID=%" PRId64, ctx->run_id);
	if (ctx != NULL && ctx->port != NULL && *ctx->port != '\0')
		SERVICE_FIELD("PORT=%s", ctx->port);
	if (ctx != NULL && ctx->cable != NULL && *ctx->cable != '\0')
		SERVICE_FIELD("CABLE=%s", ctx->cable);
	if (ctx != NULL && ctx->udid != NULL && *ctx->udid != '\0')
		SERVICE_FIELD("UDID=%s", ctx->udid);
	if (ctx != NULL && ctx->verdict != NULL && *ctx->verdict != '\0')
		SERVICE_FIELD("VERDICT=%s", ctx->verdict);
#undef SERVICE_FIELD
	/* MESSAGE apart: it may be long. */
	(void)snprintf(m, sizeof(m), "MESSAGE=%s", msg);
	iov[n].iov_base = m;
	iov[n++].iov_len = strlen(m);
	return (sd_journal_sendv(iov, n) < 0 ? -1 : 0);
}

/* Install the journal sink when standard error is the journal. */
void
service_log_init(void)
{
	if (log_is_journal())
		log_set_journal(service_journal);
}
