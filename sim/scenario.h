/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Scenario files: the devices, ports and cables of a simulated bench and
 * a timeline of what happens to them (linkq-sim(1), SCENARIOS).
 *
 *	# a bench with one bad cable
 *	device phone udid=00008030-001A1C3E0A38802E name="Bench iPhone"
 *	port left path=1-1 label="front-left" hub-depth=0
 *	cable good label=A-01
 *	cable bad label=A-02 drop-per-mb=0.002 drop-mode=stranded
 *	at 0s plug phone left good
 *	at 30s unplug phone
 *	at 31s plug phone left bad
 *	at 90s fault bad corrupt-per-mb=0.01
 *
 * One statement per line; '#' starts a comment; words are separated by
 * blanks; a value with blanks is double-quoted. Names (the second word
 * of device, port and cable) are what the timeline and the control
 * socket use. Every error names the file and line.
 */

#ifndef LQ_SIM_SCENARIO_H
#define LQ_SIM_SCENARIO_H

#include <stdint.h>

#include "compat/queue.h"

/* What a device runs, and so how it shows on USB. */
enum sim_mode {
	SIM_MODE_NORMAL,	/* iOS: in usbmuxd, product ID its own */
	SIM_MODE_RECOVERY,	/* iBoot recovery, 0x1281, ep0 only */
	SIM_MODE_DFU		/* DFU, 0x1227, ep0 only */
};

enum fault_drop_mode {
	FAULT_DROP_STRANDED,	/* gone from usbmuxd until a replug */
	FAULT_DROP_RESET	/* kernel reset, re-enumerates */
};

/*
 * A link fault profile, on a port, a cable or a device (its worn
 * connector); when a device D sits on port P through cable C the three
 * combine (fault_combine). A field left
 * unset by the file keeps its zero value, which means "no such fault"
 * (speed 0: no limit of its own).
 */
struct fault {
	int64_t			latency_us;	/* per round trip */
	int64_t			jitter_us;	/* uniform 0..jitter added */
	double			cap_mb_s;	/* 0: no bandwidth cap */
	int			speed_mbps;	/* 0, 12, 480, 5000, 10000 */
	double			drop_per_mb;	/* USB errors on bulk pipes */
	double			drop_per_min;
	enum fault_drop_mode	drop_mode;
	int64_t			reset_delay_us;	/* re-enumeration after reset */
	double			link_error_per_min; /* kmsg line, no drop */
	double			reset_per_min;
	double			stall_per_min;
	int64_t			stall_us;	/* length of one stall */
	double			corrupt_per_mb;	/* bit flips in AFC reads */
	double			enum_fail;	/* P(an enumeration fails) */
	double			control_stall;	/* P(ep0 STALLs a request) */
	double			control_error;	/* P(it ends -EPROTO) */
	double			control_timeout; /* P(it never ends) */

	/* A marginal link (issue 14): kept last so that merges stay easy. */
	double			retry_rate;	/* P(a packet is retried) */
	double			fallback;	/* P(enumerated at 12 Mb/s) */

	/* Bursts, the OUT pipe on its own, and cables without data. */
	double			burst_per_min;	/* bursts of link errors */
	int			burst_len;	/* link errors in one */
	int64_t			burst_us;	/* spread over this long */
	double			drop_per_mb_out; /* drops, OUT pipe only */
	double			corrupt_out_per_mb; /* flips on the way out */
	int			charge_only;	/* data=no: power only */
};

enum sim_trust {
	SIM_TRUST_PAIRED,	/* trusts the host of its pair record */
	SIM_TRUST_UNPAIRED,	/* Pair shows the Trust prompt */
	SIM_TRUST_LOCKED	/* passcode locked: Pair is refused */
};

struct scn_device {
	char			*name;
	char			*udid;		/* NULL: derived from seed */
	char			*device_name;	/* DeviceName; NULL: default */
	char			*product_type;	/* NULL: "iPhone12,1" */
	char			*version;	/* NULL: "17.4"; >= 10 */
	enum sim_trust		 trust;
	int			 max_speed_mbps; /* 480 (Lightning) or 5000+ */
	struct fault		 fault;		/* its own connector's */
	int			 hostile;	/* enum hostile_kind */
	TAILQ_ENTRY(scn_device)	 entry;
};

struct scn_port {
	char			*name;
	char			*path;		/* "1-4.2": bus 1, ports 4, 2 */
	char			*label;		/* NULL: none */
	int			 hub_depth;	/* dots in the path, or given */
	struct fault		 fault;
	TAILQ_ENTRY(scn_port)	 entry;
};

struct scn_cable {
	char			*name;
	char			*label;		/* NULL: the name */
	struct fault		 fault;
	TAILQ_ENTRY(scn_cable)	 entry;
};

enum scn_action {
	SCN_PLUG,	/* device port cable */
	SCN_UNPLUG,	/* device */
	SCN_FAULT,	/* port or cable name, new fault fields */
	SCN_TRUST,	/* device, accept or deny the Trust prompt */
	SCN_MODE,	/* device, normal, recovery or dfu */
	SCN_FLEX,	/* cable, for dur_us, rates times factor */
	SCN_HC_DIED,	/* bus: its host controller dies */
	SCN_HC_RECOVER,	/* bus: it comes back */
	SCN_OVER_CURRENT, /* port name or hub path */
	SCN_HUB_RESET	/* hub path: every device below it */
};

struct scn_event {
	int64_t			 at_us;		/* from the start */
	enum scn_action		 action;
	char			*device;	/* PLUG, UNPLUG, TRUST, MODE */
	char			*port;		/* PLUG */
	char			*cable;		/* PLUG */
	char			*target;	/* FAULT, FLEX, OVER_CURRENT,
						 * HUB_RESET: what it hits */
	char			*params;	/* FAULT: "key=value ..." */
	int			 accept;	/* TRUST */
	enum sim_mode		 mode;		/* MODE */
	int64_t			 dur_us;	/* FLEX */
	double			 factor;	/* FLEX */
	int			 bus;		/* HC_DIED, HC_RECOVER */
	int			 line;		/* for messages */
	TAILQ_ENTRY(scn_event)	 entry;
};

/* Which ConnectionSpeed usbmuxd reports for a SuperSpeed Plus link. */
enum mux_speeds {
	MUX_SPEEDS_111,		/* 1.1.1: 480 Mb/s (usb.c, no SUPER_PLUS) */
	MUX_SPEEDS_UPSTREAM	/* since a2dceac (2024): 10 Gb/s */
};

/*
 * How the simulated usbmuxd behaves, where real setups differ: the
 * "usbmuxd" statement and linkq-sim --usbmuxd. -1: not given.
 */
struct mux_settings {
	int			 preflight;	/* usbmuxd without -p */
	int			 exit_idle;	/* udev's "usbmuxd -x" */
	int			 speeds;	/* enum mux_speeds */
};

struct scenario {
	char				*file;
	int				 has_seed;
	uint64_t			 seed;
	struct mux_settings		 mux;
	TAILQ_HEAD(, scn_device)	 devices;
	TAILQ_HEAD(, scn_port)		 ports;
	TAILQ_HEAD(, scn_cable)		 cables;
	TAILQ_HEAD(, scn_event)		 events;	/* sorted by at_us */
};

/*
 * Parse a scenario file. Returns the scenario, or NULL with *cause set
 * to "FILE:LINE: what is wrong" (allocated; the caller frees it).
 */
struct scenario	*scenario_load(const char *, char **);
/* Parse scenario text; the name (a file name) is used in messages. */
struct scenario	*scenario_parse(const char *, const char *, char **);
void		 scenario_free(struct scenario *);

/*
 * Apply "key=value ..." fault parameters to f, as a scenario line or the
 * control socket gives them. Returns 0, or -1 with *cause allocated.
 */
int		 fault_parse(struct fault *, const char *, char **);
/* The fault seen by device d on port p through cable c. */
void		 fault_combine(struct fault *, const struct fault *,
		    const struct fault *, const struct fault *);
/* Raise f's rates and probabilities as if factor times as often. */
void		 fault_scale(struct fault *, double);
/*
 * Whether a port path is below hub, a hub path ("1-4": 1-4.1, 1-4.2.3)
 * or a bus's root hub ("usb1": every port on bus 1).
 */
int		 scn_path_under(const char *, const char *);
/* Describe f as "key=value ..." of its non-zero fields (allocated). */
char		*fault_format(const struct fault *);
/*
 * Apply "KEY=VALUE" settings of usbmuxd (preflight=yes|no, exit=yes|no,
 * speeds=1.1.1|upstream), separated by blanks or commas, to ms. Returns
 * 0, or -1 with *cause allocated.
 */
int		 mux_settings_parse(struct mux_settings *, const char *,
		    char **);
/* Settings none of which is given. */
void		 mux_settings_init(struct mux_settings *);
/* Take every setting given in from. */
void		 mux_settings_merge(struct mux_settings *,
		    const struct mux_settings *);
/* The mode called name ("normal", "recovery", "dfu"): 0, or -1. */
int		 sim_mode_parse(const char *, enum sim_mode *);
/* The name of a mode. */
const char	*sim_mode_name(enum sim_mode);

#endif /* LQ_SIM_SCENARIO_H */
