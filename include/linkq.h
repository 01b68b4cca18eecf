/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The vocabulary shared by linkqd, linkq, linkq-sim and the database:
 * version, default paths, probe kinds, event kinds and device modes
 * (DESIGN.md, Vocabulary). The names here are the words used on the
 * command line, in the control API and in the schema.
 *
 * Probe kinds are stored by number (probes.kind), event kinds and modes
 * by name; schema/0001-init.sql seeds the same tables, and a unit test
 * checks that the two agree. Append, never renumber.
 */

#ifndef LINKQ_H
#define LINKQ_H

#ifndef LINKQ_VERSION
#define LINKQ_VERSION		"0.1.0-dev"
#endif

#ifndef LINKQ_CONF
#define LINKQ_CONF		"/etc/linkq/linkq.conf"
#endif
#ifndef LINKQ_SOCKET
#define LINKQ_SOCKET		"/run/linkq/linkq.sock"
#endif
#ifndef LINKQ_DB
#define LINKQ_DB		"/var/lib/linkq/linkq.db"
#endif

enum lq_probe_kind {
	LQ_PROBE_MUX_CONNECT = 1,
	LQ_PROBE_LOCKDOWN_QUERY = 2,
	LQ_PROBE_LOCKDOWN_HANDSHAKE = 3,
	LQ_PROBE_AFC_ROUNDTRIP = 4,
	LQ_PROBE_BULK = 5,
	LQ_PROBE_USB_CONTROL = 6
};
#define LQ_PROBE_KIND_MAX	LQ_PROBE_USB_CONTROL

const char	*lq_probe_kind_name(int);
int		 lq_probe_kind_from_name(const char *);

/*
 * How much an event weighs in a verdict: a hard signal fails a run at
 * once, a soft one feeds the sequential test, info is recorded only.
 */
enum lq_event_class {
	LQ_EVENT_HARD,
	LQ_EVENT_SOFT,
	LQ_EVENT_INFO
};

struct lq_event_kind {
	const char		*name;
	enum lq_event_class	 class;
	const char		*description;
};

const struct lq_event_kind *lq_event_kinds(unsigned int *);
const struct lq_event_kind *lq_event_kind_find(const char *);
const char	*lq_event_class_name(enum lq_event_class);

/*
 * The hard event kinds: the one list of which event kinds are hard
 * (a unit test holds it to the class of each kind above). The run's
 * counters (struct lq_run_evidence), the verdict's reasons and the
 * report's sums are indexed by it and loop over it. The order is the
 * order of the verdict's reasons: faults of the host side first, as
 * they change how the others read. Not stored: the store has names.
 */
enum lq_hard_kind {
	LQ_HARD_HC_FAILURE,
	LQ_HARD_OVER_CURRENT,
	LQ_HARD_DROPOUT,
	LQ_HARD_STRANDED,
	LQ_HARD_RESET,
	LQ_HARD_REENUMERATION,
	LQ_HARD_LINK_ERROR,
	LQ_HARD_URB_ERROR,
	LQ_HARD_CORRUPTION,
	LQ_HARD_SPEED_FALLBACK,
	LQ_HARD_ENUM_FAILURE,
	LQ_HARD_EMI_REENABLE,
	LQ_HARD_MAX
};

/* What a hard event points at, as a technician is told. */
enum lq_hard_blame {
	LQ_HARD_BLAMES_LINK,	/* the link: the cable or the port */
	LQ_HARD_BLAMES_PORT,	/* the port or its hub's power */
	LQ_HARD_BLAMES_HOST	/* the host controller: port or computer */
};

/*
 * The words of a hard kind in a verdict. reason has one "%s", and no
 * other '%', for how often: "once", "3 times"; once, where it is not
 * NULL, is the sentence for a single event, when reason's grammar
 * needs a plural. Those of link-error and urb-error get the status
 * after them, corruption's %s is "1 corruption", and a speed below the
 * device's best has a sentence of its own (common/verdict.c).
 */
struct lq_hard {
	const char		*name;		/* the event kind */
	enum lq_hard_blame	 blames;
	const char		*reason;
	const char		*once;
};

/* Indexed by enum lq_hard_kind, LQ_HARD_MAX entries. */
const struct lq_hard *lq_hard_kinds(void);
/* The hard kind called name, or -1 if it is not one. */
int		 lq_hard_from_name(const char *);

/* Where an event was observed: usbmuxd, libusb, kmsg, usbmon, probe... */
int		 lq_event_source_valid(const char *);

enum lq_device_mode {
	LQ_MODE_NORMAL,
	LQ_MODE_RECOVERY,
	LQ_MODE_DFU,
	LQ_MODE_WTF
};

const char	*lq_device_mode_name(enum lq_device_mode);
int		 lq_device_mode_from_name(const char *);

/* Cable and port labels, as the user names them (A-03, front-left). */
#define LQ_LABEL_MAX	64
const char	*lq_label_invalid(const char *);

#endif /* LINKQ_H */
