/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Two lockdown services of the simulated device, as libimobiledevice
 * 1.3.0 (idevicesyslog, idevicediagnostics) talks to them.
 *
 * com.apple.syslog_relay streams the device's syslog and never reads:
 * each message is one line of text ending in "\n", followed by a NUL
 * byte, which is where the client splits messages. Among ordinary
 * lines, every SYSLOG_STATS_INTERVAL_MS (and once on connect) the
 * kernel reports the device's AppleUSBDeviceMux counters (struct
 * sim_device), on one line, in this exact form:
 *
 *	<time> <host> kernel[0] <Notice>: AppleUSBDeviceMux::reportStats:
 *	    USB2.0 reads R, errors RE; writes W, errors WE; duplicate
 *	    packets D
 *
 * "USB3.0" at 5 Gb/s or more; the numbers are mux_reads,
 * mux_read_errors, mux_writes, mux_write_errors and mux_duplicates in
 * decimal (details in services.c).
 *
 * com.apple.mobile.diagnostics_relay is a property list service: 4-byte
 * big-endian length, then an XML plist, in both directions.
 *
 * THREADS
 * Each function serves one connection on that connection's thread,
 * blocking, until the client goes away, the connection is cut (its
 * socket shut down) or the client sends something malformed, logged
 * with log_warnx. Both borrow their arguments; the caller still closes
 * the connection.
 */

#ifndef LQ_SIM_SERVICES_H
#define LQ_SIM_SERVICES_H

struct sim_conn;
struct sim_device;

/* Milliseconds between two AppleUSBDeviceMux statistics lines. */
#define SYSLOG_STATS_INTERVAL_MS	2000

/* Serve com.apple.syslog_relay: stream syslog lines until cut. */
void	syslog_relay_serve(struct sim_conn *, struct sim_device *);
/* Serve com.apple.mobile.diagnostics_relay until Goodbye or EOF. */
void	diagnostics_relay_serve(struct sim_conn *, struct sim_device *);

#endif /* LQ_SIM_SERVICES_H */
