/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The one boundary with systemd's service manager (sd_notify(3)): READY,
 * STATUS ("2 devices, 1 run"), RELOADING, STOPPING and the watchdog's
 * pings. Loop thread only. With NOTIFY_SOCKET unset (linkqd not started
 * by systemd, or by a unit that is not Type=notify) every call does
 * nothing.
 *
 * The watchdog pings come from a timer on the loop at half the interval
 * systemd asks for (WATCHDOG_USEC), so a loop that is stuck stops them
 * and systemd restarts linkqd: a thread of its own would ping on.
 */

#ifndef LQ_SERVICE_H
#define LQ_SERVICE_H

#include <event2/event.h>

/* Read the environment; arm the watchdog timer if systemd wants one. */
void	 service_init(struct event_base *);
/* Startup is over: the API listens and usbmuxd is followed. */
void	 service_ready(void);
/*
 * A device or a run came or went: STATUS is sent again, at most once
 * per SERVICE_STATUS_US whatever the burst, and only if it changed.
 */
void	 service_changed(void);
/* Around a SIGHUP reload. */
void	 service_reloading(void);
void	 service_reloaded(void);
/* Shutdown begins. */
void	 service_stopping(void);
/* Free the timers (after service_stopping, before the loop goes). */
void	 service_free(void);
/*
 * When standard error is the journal (JOURNAL_STREAM names it,
 * systemd.exec(5)), install the sink that logs through sd_journal_send
 * with fields (log.h). Before threads start.
 */
void	 service_log_init(void);

#endif /* LQ_SERVICE_H */
