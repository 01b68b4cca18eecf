/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * linkq-sim's model of the world: simulated devices, where they are
 * plugged, the pair records its usbmuxd keeps, and the clients listening
 * for device events. See conn.h for the threading design.
 *
 * Locking: one mutex (sim_lock) guards the device list and the fields of
 * every device marked "locked" below; mux.c keeps its listeners and pair
 * records under the same lock. Devices are made at start and live until
 * the program ends, so a connection may keep a pointer to its device
 * without a reference count. Code holding the lock never blocks on a
 * socket: notifications are sent with MSG_DONTWAIT.
 */

#ifndef LQ_SIM_H
#define LQ_SIM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "compat/queue.h"
#include "conn.h"
#include "pair.h"
#include "scenario.h"

struct afc_fs;
struct bench_port;
struct bench_cable;

/* File layering: device.c knows devices; mux.c (usbmuxd) and lockdown.c
 * use device.c; linkq-sim.c sets everything up. */

/* usbmuxd's result codes (usbmuxd-proto.h). */
#define MUX_RESULT_OK		0
#define MUX_RESULT_BADCOMMAND	1
#define MUX_RESULT_BADDEV	2
#define MUX_RESULT_CONNREFUSED	3

#define LOCKDOWN_PORT		62078

/* A connection relayed to a device, so that a dropout can cut it. */
struct sim_link_conn {
	struct sim_conn			*conn;
	TAILQ_ENTRY(sim_link_conn)	 entry;
};
TAILQ_HEAD(sim_link_conns, sim_link_conn);

enum sim_service_kind {
	SIM_SERVICE_AFC,
	SIM_SERVICE_SYSLOG_RELAY,
	SIM_SERVICE_DIAGNOSTICS_RELAY
};



/* A service port handed out by StartService, good for one Connect. */
struct sim_service_port {
	uint16_t			 port;
	enum sim_service_kind		 kind;
	TAILQ_ENTRY(sim_service_port)	 entry;
};
TAILQ_HEAD(sim_service_ports, sim_service_port);

struct sim_device {
	/* Fixed at start. */
	char			*udid;		/* usbmuxd's SerialNumber */
	/* DeviceName: SetValue changes it under sim_lock (device_name). */
	char			*name;
	char			*product_type;	/* "iPhone12,1" */
	char			*product_version; /* "17.4" */
	char			*build_version;
	char			*hardware_model;
	char			*serial;	/* Apple's SerialNumber value */
	uint16_t		 product_id;	/* USB idProduct */
	struct afc_fs		*fs;		/* own locking */

	char			*bench_name;	/* in scenarios and control */
	int			 max_speed_mbps;
	uint64_t		 index;		/* seeds its random streams */

	/* Locked by sim_lock. */
	struct sim_pairing	 pairing;
	char			*state_dir;	/* where pairing is kept */
	enum sim_trust		 trust;
	int			 trust_prompt;	/* Pair asked, not answered */
	int			 trust_accepted; /* answered yes */
	int			 trust_denied;	/* answered no */
	int			 pair_requests;	/* Pair from clients */
	int			 plugged;
	int			 visible;	/* usbmuxd announced it */
	int			 preflight_wait; /* usbmuxd waits for Trust */
	uint32_t		 mux_id;	/* DeviceID while plugged */
	int			 bus;
	int			 devnum;
	uint64_t		 speed_bps;	/* ConnectionSpeed */
	uint16_t		 next_port;
	struct sim_service_ports ports;
	struct sim_link_conns	 conns;

	/* Where it is (bench.c) and how its link behaves (link.c). Locked. */
	struct bench_port	*port;		/* NULL: not on any port */
	struct bench_cable	*cable;
	int			 stranded;	/* on the bus, not in usbmuxd */
	int			 on_bus;	/* enumerated, in any mode */
	enum sim_mode		 mode;		/* kept across replugs */
	uint64_t		 usb_gen;	/* bumped on and off the bus */
	uint64_t		 placement;	/* bumped at every change */
	uint64_t		 timer_gen;	/* bumped to void timers */
	struct fault		 fault;		/* port and cable combined */
	uint64_t		 rng_bytes;	/* streams for byte-driven */
	uint64_t		 rng_time;	/* and time-driven faults, */
	uint64_t		 rng_control;	/* and the control pipe */
	double			 busy_until_us;	/* fractional: many small */
	int64_t			 stall_until_us; /* transfers add up */
	double			 bytes_to_drop;
	double			 bytes_to_corrupt;
	double			 bytes_to_retry; /* next packet retried */
	/* The device's own faults, and the OUT pipe's distances. Locked. */
	struct fault		 own_fault;	/* its connector: follows it */
	double			 bytes_to_drop_out;
	double			 bytes_to_corrupt_out;

	/*
	 * AppleUSBDeviceMux's counters, as the device's syslog reports
	 * them: updated without the lock by conn.c and the link model.
	 */
	atomic_uint_fast64_t	 mux_reads;
	atomic_uint_fast64_t	 mux_read_errors;
	atomic_uint_fast64_t	 mux_writes;
	atomic_uint_fast64_t	 mux_write_errors;
	atomic_uint_fast64_t	 mux_duplicates;

	/* A hostile phone's kind and its malformed replies (hostile.h). */
	atomic_int		 hostile;	/* enum hostile_kind */
	atomic_uint_fast64_t	 hostile_replies;

	TAILQ_ENTRY(sim_device)	 entry;
};
TAILQ_HEAD(sim_devices, sim_device);

/* device.c */
void		 sim_lock(void);
void		 sim_unlock(void);
/* A copy of the DeviceName, taken under the lock; free it. */
char		*device_name(struct sim_device *);
struct sim_device *device_create(const struct scn_device *, const char *,
		    const char *, const char *, uint64_t, char **);
void		 device_plug(struct sim_device *, int, int, uint64_t);
void		 device_unplug(struct sim_device *);
void		 device_mux_restarted(struct sim_device *);
struct sim_device *device_find_mux_id(uint32_t);
struct sim_device *device_first(void);
struct sim_device *device_next(struct sim_device *);
void		 device_add_conn(struct sim_device *, struct sim_link_conn *);
void		 device_remove_conn(struct sim_device *,
		    struct sim_link_conn *);
uint16_t	 device_add_service(struct sim_device *,
		    enum sim_service_kind);
int		 device_take_service(struct sim_device *, uint16_t,
		    enum sim_service_kind *);

/* mux.c */
void		 mux_init(const char *);
const char	*mux_buid(void);
void		 mux_serve(int);
int		 mux_record_put(const char *, const char *, uint32_t);
void		 mux_record_put_locked(const char *, const char *, uint32_t);
int		 mux_record_trusted_locked(struct sim_device *);
void		 mux_notify_attached(struct sim_device *);
void		 mux_notify_detached(uint32_t);
void		 mux_show_locked(struct sim_device *);
void		 mux_paired_locked(uint32_t);
int		 mux_garbage(const char *, const char *, long long, int,
		    char **);
unsigned int	 mux_listens(void);

/*
 * muxd.c: usbmuxd as a process. Its settings are fixed before the
 * first client; muxd_open binds the socket at start. With exit=yes it
 * exits (closes its clients and its socket) when udev says the last
 * device left, and muxd_start brings it back at the next plug, but not
 * after muxd_close, at the process's exit.
 */
struct muxd_client {
	int				 fd;
	TAILQ_ENTRY(muxd_client)	 entry;
};
void		 muxd_configure(const struct mux_settings *);
int		 muxd_preflight(void);
int		 muxd_exit_idle(void);
enum mux_speeds	 muxd_speeds(void);
void		 muxd_open(const char *);
void		 muxd_close(void);
int		 muxd_listen_fd(void);
int		 muxd_wake_fd(void);
void		 muxd_woken(void);
int		 muxd_running(void);
int		 muxd_client_add(struct muxd_client *, int);
void		 muxd_client_remove(struct muxd_client *);
int		 muxd_start(void);
int		 muxd_restart(char **);
void		 muxd_udev_remove(void);

/*
 * preflight.c: what usbmuxd 1.1.1 does with a new device before it
 * shows it, and when the user answers the Trust prompt. Lock held.
 */
void		 preflight_device_add(struct sim_device *);
void		 preflight_trust_answered(struct sim_device *);

/* lockdown.c */
void		 lockdown_serve(struct sim_conn *, struct sim_device *);

#endif /* LQ_SIM_H */
