/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * linkqd's configuration: the INI file linkq.conf(5), parsed with libinih,
 * and the compiled-in defaults that make the file optional (DESIGN.md,
 * Profiles, Verdict, Safety, Storage).
 *
 * Lifetime: config_read() parses a file into a fresh struct config that
 * the caller owns and releases with config_free(). A reload on SIGHUP
 * reads the new file into a new struct and swaps it in only on success,
 * so the running configuration survives an invalid file. A config is
 * never changed after it is returned; strings and profiles returned by
 * the functions below are borrowed and live as long as the config.
 *
 * Errors: config_read() returns NULL and sets *cause (the caller frees
 * it) to "FILE:LINE: message" for the first error in the file, or to
 * "FILE: reason" when the file cannot be opened or read. Parsing stops at
 * the first error. A missing file is an error only when required.
 *
 * Units: all durations are microseconds (int64_t, like lq-time.h), all
 * sizes bytes. The file spells them with units (linkq.conf(5)).
 *
 * Threads: a config is immutable once returned, so workers may read the
 * profile of their run while the loop holds a reference to the config.
 */

#ifndef LQ_CONFIG_H
#define LQ_CONFIG_H

#include <sys/queue.h>

#include <sys/socket.h>

#include <stdint.h>
#include <stdio.h>

#include "linkq.h"

/* The longest profile name, not counting the NUL. */
#define CONFIG_NAME_MAX		32

/* The longest line of the file inih accepts (its INI_MAX_LINE - 2). */
#define CONFIG_LINE_MAX		198

/* A test plan; DESIGN.md, Profiles. */
struct profile {
	char		*name;		/* [A-Za-z0-9_-], 1..CONFIG_NAME_MAX */
	unsigned int	 kinds;		/* bit (1 << kind) per lq_probe_kind */
	int64_t		 duration_us;	/* 0: until the evidence decides */
	uint64_t	 bulk_bytes;	/* per bulk probe, each way */
	uint32_t	 chunk_bytes;	/* AFC write/read size per call */
	int64_t		 interval_us;	/* pause between probe cycles */
	unsigned int	 handshake_every; /* handshake every N cycles; 0: no */
	int		 stop_early;	/* the SPRT may end the run early */
	int		 forever;	/* runs until cancelled */
	int		 triage;	/* its PASS rules out only frequent
					 * faults, and says so */
	int64_t		 window_us;	/* forever: a verdict per window;
					 * 0: none */
	int		 write_only;	/* bulk to the phone only, nothing
					 * read back: a restore's stream */
	TAILQ_ENTRY(profile) entry;
};
TAILQ_HEAD(profiles, profile);

/* Bit of a probe kind in struct profile kinds. */
#define PROFILE_KIND(k)		(1U << (k))

/* Auto-test on attach for one port: [auto-test] port PATH = PROFILE|off. */
struct config_port {
	char		*port;		/* sysfs port path, such as 1-4.2 */
	char		*profile;	/* NULL: off */
	unsigned int	 line;		/* in the file, for messages */
	TAILQ_ENTRY(config_port) entry;
};
TAILQ_HEAD(config_ports, config_port);

/*
 * A cable declared fixed to a port: [cables] port PATH = LABEL. A farm
 * wires one cable per port for good; the cable stays with the port
 * across unplugs (cables.h).
 */
struct config_cable {
	char		*port;		/* sysfs port path */
	char		*label;		/* the cable's label */
	unsigned int	 line;		/* in the file, for messages */
	TAILQ_ENTRY(config_cable) entry;
};
TAILQ_HEAD(config_cables, config_cable);

struct config {
	char		*path;		/* file read; NULL: defaults only */

	/* [daemon] */
	char		*socket_path;	/* socket; default LINKQ_SOCKET */
	char		*db_path;	/* db; default LINKQ_DB */
	char		*sysfs_root;	/* where sysfs is; "/sys" */
	char		*kmsg_path;	/* kernel log; "/dev/kmsg" */
	char		*usbmon_path;	/* usbmon; debugfs's 0u text file */
	int64_t		 flush_us;	/* store commit interval; 250 ms */
	int64_t		 client_timeout_us; /* API client's whole request,
					 * a reply's stalled write; 30 s */
	int64_t		 usbmuxd_retry_us; /* reconnect interval; 1 s */
	int64_t		 reattach_window_us; /* same UDID back within: 10 s */
	unsigned int	 retention_days; /* prune raw rows; 0: never; 365 */
	char		*metrics_listen; /* loopback ADDRESS:PORT of the
					 * read-only TCP listener; NULL:
					 * off (the default) */

	/* [safety] */
	char		*afc_folder;	/* "/linkq": one component below / */
	unsigned int	 max_free_share_pct; /* of the free space; 10 */
	uint64_t	 max_bytes;	/* stored on a phone at most; 1 GiB */

	/* [verdict]: Wald SPRT on soft failures and minimum evidence. */
	double		 p0;		/* acceptable failure rate; 1e-3 */
	double		 p1;		/* unacceptable failure rate; 1e-2 */
	double		 alpha;		/* false FAIL risk; 0.05 */
	double		 beta;		/* false PASS risk; 0.05 */
	uint64_t	 max_probes;	/* truncation; 3000 */
	uint64_t	 min_probes;	/* before a PASS; 200 */
	uint64_t	 min_bulk_bytes; /* before a PASS; 64 MiB */
	double		 marginal_upper; /* 95% upper bound above: MARGINAL */

	/*
	 * [deadlines], indexed by enum lq_probe_kind (0 unused): mux-connect
	 * 5 s, lockdown-query 5 s, lockdown-handshake 15 s, afc-roundtrip
	 * 10 s, bulk 10 s without a chunk moved, usb-control 2 s.
	 */
	int64_t		 deadline_us[LQ_PROBE_KIND_MAX + 1];

	/* [auto-test] */
	char		*auto_test;	/* default profile; NULL: off */
	struct config_ports ports;	/* per-port overrides, file order */

	/* [cables] */
	struct config_cables cables;	/* fixed, file order */

	/* [hooks] (hooks.h) */
	char		*hook_command;	/* as written; NULL: no hooks */
	char		**hook_argv;	/* its words (shell = no), or NULL */
	unsigned int	 hook_events;	/* HOOK_EVENT_BIT set */
	int		 hook_shell;	/* through /bin/sh -c */
	int64_t		 hook_timeout_us; /* SIGTERM after it; 30 s */

	/* Always quick, standard, restore, monitor, wiggle, then any new. */
	struct profiles	 profiles;
};

void		 config_init(struct config *);
void		 config_release(struct config *);
struct config	*config_read(const char *, int, char **);
void		 config_free(struct config *);
const struct profile *config_profile(const struct config *, const char *);
/* The profiles' names, comma separated, cut to the buffer. */
void		 config_profile_names(const struct config *, char *, size_t);
const char	*config_auto_test(const struct config *, const char *);
void		 config_dump(const struct config *, FILE *);
/*
 * The loopback address of a metrics-listen value: 0 with the address
 * and its length, or -1 with *why (static) saying what is wrong.
 */
int		 config_listen_addr(const char *, struct sockaddr_storage *,
		    socklen_t *, const char **);

#endif /* LQ_CONFIG_H */
