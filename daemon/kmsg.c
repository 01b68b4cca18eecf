/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The kernel's USB messages (contract in kmsg.h). The message texts are
 * the kernel's format strings as research/linux-usb-signals-and-
 * performance.md B1 quotes them (row numbers below are that table's);
 * they are matched by their fixed words, numbers parsed where the
 * format has them, since other kernel versions word a few of them
 * slightly differently.
 */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "compat/compat.h"
#include "compat/queue.h"
#include "follow.h"
#include "kmsg.h"
#include "sources.h"
#include "log.h"
#include "lq-time.h"
#include "xmalloc.h"

/* One read of /dev/kmsg: a record is at most 2048 bytes (B1). */
#define KMSG_BUF		8192
/* Records read per wake-up, so that a flood cannot starve the loop. */
#define KMSG_BATCH		64

/* A finding held until an unplug could have explained it. */
struct kmsg_held {
	struct kmsg_finding	 f;
	char			*text;
	int64_t			 wall_us;
	lq_mono_t		 due;
	TAILQ_ENTRY(kmsg_held)	 entry;
};
TAILQ_HEAD(kmsg_helds, kmsg_held);

static struct {
	struct event_base	*base;
	kmsg_fn			 fn;
	char			 status[PATH_MAX + 128];
	const char		*advice;	/* when unreadable */
	int			 fd;		/* the device */
	struct event		*ev;
	struct follow		*follow;	/* a file */
	struct event		*hold_ev;
	struct kmsg_helds	 held;
	char			 buf[KMSG_BUF];	/* one record (device) */
	int			 lost;		/* EPIPE seen (device) */
	int			 have_seq;
	uint64_t		 last_seq;
} k = { .fd = -1 };

/* Parse an unsigned decimal number ending at one of stop; -1 if none. */
static int
kmsg_number(const char **pp, const char *end, uint64_t *out)
{
	const char	*p = *pp;
	uint64_t	 v = 0;

	if (p >= end || *p < '0' || *p > '9')
		return (-1);
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return (-1);
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*pp = p;
	*out = v;
	return (0);
}

/* Copy a continuation line's KEY=value if it is one we keep. */
static void
kmsg_dict(const char *line, size_t len, struct kmsg_record *rec)
{
	if (len > 10 && strncmp(line, "SUBSYSTEM=", 10) == 0)
		(void)snprintf(rec->subsystem, sizeof(rec->subsystem),
		    "%.*s", (int)(len - 10), line + 10);
	else if (len > 7 && strncmp(line, "DEVICE=", 7) == 0)
		(void)snprintf(rec->device, sizeof(rec->device), "%.*s",
		    (int)(len - 7), line + 7);
}

/* Parse one record. */
int
kmsg_parse(const char *buf, size_t len, struct kmsg_record *rec)
{
	const char	*p = buf, *end = buf + len, *nl, *text;
	uint64_t	 prio;

	memset(rec, 0, sizeof(*rec));
	if (len == 0 || memchr(buf, '\0', len) != NULL)
		return (-1);
	if ((nl = memchr(buf, '\n', len)) == NULL)
		nl = end;
	/* "prio,seq,usec,flags[,more...];" */
	if (kmsg_number(&p, nl, &prio) == -1 || prio > 1023 ||
	    p >= nl || *p++ != ',' ||
	    kmsg_number(&p, nl, &rec->seq) == -1 || p >= nl || *p++ != ',' ||
	    kmsg_number(&p, nl, &rec->usec) == -1 || p >= nl || *p++ != ',')
		return (-1);
	rec->level = (int)(prio & 7);
	rec->facility = (int)(prio >> 3);
	/* Flags up to ',' or ';': '-' or 'c'; more fields may follow. */
	if (p < nl && *p == 'c')
		rec->cont = 1;
	if ((text = memchr(p, ';', (size_t)(nl - p))) == NULL)
		return (-1);
	text++;
	(void)snprintf(rec->text, sizeof(rec->text), "%.*s",
	    (int)(nl - text), text);

	/* Continuation lines: " KEY=value", each ending with a newline. */
	for (p = nl + 1; p < end; p = nl + 1) {
		if (*p != ' ')
			return (-1);
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		kmsg_dict(p + 1, (size_t)(nl - p - 1), rec);
	}
	return (0);
}

/* The length of the first whole record in buf, or 0. */
size_t
kmsg_record_end(const char *buf, size_t len)
{
	const char	*nl;
	size_t		 i;

	if ((nl = memchr(buf, '\n', len)) == NULL)
		return (0);
	i = (size_t)(nl - buf);
	while (i + 1 < len && buf[i + 1] == ' ') {
		if ((nl = memchr(buf + i + 1, '\n', len - i - 1)) == NULL)
			return (0);	/* a continuation line, half there */
		i = (size_t)(nl - buf);
	}
	return (i + 1);
}

/* Records lost between seq last and seq. */
uint64_t
kmsg_lost(uint64_t last, uint64_t seq)
{
	return (seq > last + 1 ? seq - last - 1 : 0);
}

/* Whether s is a port path: BUS-PORT[.PORT]... */
static int
kmsg_port_valid(const char *s)
{
	const char	*p = s;
	int		 digits = 0, dash = 0;

	for (; *p != '\0'; p++) {
		if (*p >= '0' && *p <= '9') {
			digits++;
			continue;
		}
		if (digits == 0 || (*p == '-' && dash) ||
		    (*p == '.' && !dash) || (*p != '-' && *p != '.'))
			return (0);
		dash |= *p == '-';
		digits = 0;
	}
	return (dash && digits > 0);
}

/* Whether port is parent or below it. */
int
kmsg_port_under(const char *port, const char *parent)
{
	size_t	len = strlen(parent);

	if (len == 0 || strncmp(port, parent, len) != 0)
		return (0);
	return (port[len] == '\0' || port[len] == '.');
}

/* The bus number of a port path, or -1. */
static int
kmsg_bus_of(const char *port)
{
	const char	*errstr;
	char		 bus[12];
	size_t		 n;

	n = strcspn(port, "-");
	if (n == 0 || n >= sizeof(bus))
		return (-1);
	(void)snprintf(bus, sizeof(bus), "%.*s", (int)n, port);
	n = (size_t)strtonum(bus, 1, 65535, &errstr);
	return (errstr != NULL ? -1 : (int)n);
}

/*
 * The device name of a "usb" message: usbN (a root hub), usbN-portM (a
 * root hub's port: port path N-M), B-P.P-portM (an external hub's port:
 * B-P.P.M), B-P.P (a device), B-P.P:C.I (an interface of it).
 */
static void
kmsg_usb_name(const char *name, struct kmsg_finding *f)
{
	const char	*errstr, *port;
	char		 tmp[KMSG_PORT_MAX];
	size_t		 n;

	(void)snprintf(tmp, sizeof(tmp), "%s", name);
	tmp[strcspn(tmp, ":")] = '\0';
	if ((port = strstr(tmp, "-port")) != NULL) {
		n = (size_t)(port - tmp);
		port += 5;
		(void)strtonum(port, 1, 255, &errstr);
		if (errstr != NULL)
			return;
		if (strncmp(tmp, "usb", 3) == 0)
			(void)snprintf(f->port, sizeof(f->port), "%.*s-%s",
			    (int)(n - 3), tmp + 3, port);
		else
			(void)snprintf(f->port, sizeof(f->port), "%.*s.%s",
			    (int)n, tmp, port);
	} else if (strncmp(tmp, "usb", 3) == 0) {
		f->bus = (int)strtonum(tmp + 3, 1, 65535, &errstr);
		if (errstr != NULL)
			f->bus = -1;
		return;
	} else
		(void)strlcpy(f->port, tmp, sizeof(f->port));
	if (!kmsg_port_valid(f->port)) {
		f->port[0] = '\0';
		return;
	}
	f->bus = kmsg_bus_of(f->port);
}

/*
 * Split "driver name: message" and note what the name says; NULL if
 * the driver is none of the USB core's or a host controller's.
 */
static const char *
kmsg_prefix(const char *text, struct kmsg_finding *f)
{
	const char	*sp, *colon, *errstr;
	char		 driver[32], name[KMSG_PORT_MAX];
	size_t		 len;

	if ((sp = strchr(text, ' ')) == NULL || sp == text ||
	    (size_t)(sp - text) >= sizeof(driver) ||
	    (colon = strstr(sp + 1, ": ")) == NULL || colon == sp + 1 ||
	    (size_t)(colon - sp - 1) >= sizeof(name) ||
	    memchr(sp + 1, ' ', (size_t)(colon - sp - 1)) != NULL)
		return (NULL);
	(void)snprintf(driver, sizeof(driver), "%.*s", (int)(sp - text),
	    text);
	(void)snprintf(name, sizeof(name), "%.*s", (int)(colon - sp - 1),
	    sp + 1);
	if (strcmp(driver, "usb") == 0)
		kmsg_usb_name(name, f);
	else if (strcmp(driver, "hub") == 0) {
		/* A hub's interface, B-P:1.0; a root hub's is B-0:1.0. */
		name[strcspn(name, ":")] = '\0';
		len = strlen(name);
		if (len > 2 && strcmp(name + len - 2, "-0") == 0) {
			name[len - 2] = '\0';
			f->bus = (int)strtonum(name, 1, 65535, &errstr);
			if (errstr != NULL)
				f->bus = -1;
		} else
			kmsg_usb_name(name, f);
	} else if (strstr(driver, "hci") != NULL)
		(void)strlcpy(f->controller, name, sizeof(f->controller));
	else
		return (NULL);
	return (colon + 2);
}

/* If s starts with lit, the rest of s; else NULL. */
static const char *
kmsg_starts(const char *s, const char *lit)
{
	size_t	len = strlen(lit);

	return (strncmp(s, lit, len) == 0 ? s + len : NULL);
}

/* The signed number at the start of s, or 0 if there is none. */
static int
kmsg_int(const char *s)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || errno != 0 || v < INT_MIN || v > INT_MAX)
		return (0);
	return ((int)v);
}

/* A finding of kind, held if an unplug makes it too. */
static enum kmsg_class
kmsg_found(struct kmsg_finding *f, const char *kind, int errnum, int hold)
{
	f->kind = kind;
	f->errnum = errnum;
	f->hold = hold;
	return (KMSG_FINDING);
}

/* Whether an errno is a link error's (B2: -71, -84, -62, -75). */
static int
kmsg_link_errno(int e)
{
	return (e == -71 || e == -84 || e == -62 || e == -75);
}

/* Messages of the hub driver and USB core on a device or port. */
static enum kmsg_class
kmsg_classify_usb(const char *m, struct kmsg_finding *f)
{
	const char	*r;

	/* 1, 2: "new|reset <speed> USB device number N using HCD". */
	if ((r = strstr(m, " USB device number ")) != NULL &&
	    (strncmp(m, "new ", 4) == 0 || strncmp(m, "reset ", 6) == 0)) {
		f->devnum = kmsg_int(r + 19);
		if (m[0] == 'n')
			return (KMSG_INFO);
		return (kmsg_found(f, "reset", 0, 0));
	}
	/* 3 */
	if ((r = kmsg_starts(m, "USB disconnect, device number ")) != NULL) {
		f->devnum = kmsg_int(r);
		f->disconnect = 1;
		return (kmsg_found(f, "unplug", 0, 0));
	}
	/* 4, 5, 6 */
	if ((r = kmsg_starts(m, "device descriptor read/")) != NULL &&
	    (r = strstr(r, ", error ")) != NULL)
		return (kmsg_found(f, "link-error", kmsg_int(r + 8), 1));
	/* 7 */
	if ((r = kmsg_starts(m, "device not accepting address ")) != NULL) {
		f->devnum = kmsg_int(r);
		if ((r = strstr(r, ", error ")) != NULL)
			return (kmsg_found(f, "link-error", kmsg_int(r + 8),
			    1));
		return (kmsg_found(f, "link-error", 0, 1));
	}
	/* 8: xHCI gets a transaction error and returns -EPROTO. */
	if (kmsg_starts(m, "Device not responding to setup ") != NULL)
		return (kmsg_found(f, "link-error", -71, 1));
	/* 9 */
	if (kmsg_starts(m, "Cannot enable. Maybe the USB cable is bad?") !=
	    NULL)
		return (kmsg_found(f, "link-error", 0, 1));
	/* 10 */
	if ((r = kmsg_starts(m, "cannot reset (err = ")) != NULL ||
	    (r = kmsg_starts(m, "cannot warm reset (err = ")) != NULL)
		return (kmsg_found(f, "link-error", kmsg_int(r), 1));
	/*
	 * 11: the hub driver's own errors before it (9, 4-7) are the
	 * evidence; counting the escalation too would count them twice.
	 */
	if (kmsg_starts(m, "attempt power cycle") != NULL)
		return (KMSG_INFO);
	/* 12 */
	if (kmsg_starts(m, "unable to enumerate USB device") != NULL)
		return (kmsg_found(f, "enumeration-failure", 0, 1));
	/* 13 */
	if (kmsg_starts(m, "connect-debounce failed") != NULL)
		return (kmsg_found(f, "link-error", 0, 1));
	/* 14 */
	if (kmsg_starts(m, "disabled by hub (EMI?), re-enabling...") != NULL)
		return (kmsg_found(f, "emi-reenable", 0, 1));
	/* 16 (debug level) comes with 15: count the condition once. */
	if (kmsg_starts(m, "over-current change") != NULL)
		return (KMSG_INFO);
	/* 15: a power fault blames the port, not the cable. */
	if (kmsg_starts(m, "over-current condition") != NULL)
		return (kmsg_found(f, "over-current", 0, 0));
	/* 17, 18 */
	if (kmsg_starts(m, "config error") != NULL ||
	    kmsg_starts(m, "got a wrong device descriptor, warm reset "
	    "device") != NULL)
		return (kmsg_found(f, "link-error", 0, 1));
	/* 19 */
	if (kmsg_starts(m, "not running at top speed; connect to a high "
	    "speed hub") != NULL)
		return (kmsg_found(f, "speed-fallback", 0, 0));
	/* 20 */
	if ((r = kmsg_starts(m, "hub failed to enable device, error ")) !=
	    NULL)
		return (kmsg_found(f, "link-error", kmsg_int(r), 1));
	if (kmsg_starts(m, "device reset changed ep0 maxpacket size!") !=
	    NULL || kmsg_starts(m, "Invalid ep0 maxpacket: ") != NULL)
		return (kmsg_found(f, "link-error", 0, 1));
	/* 21: the descriptors' content, not the link's quality. */
	if (kmsg_starts(m, "config ") != NULL && strstr(m, " interface ") !=
	    NULL && strstr(m, " endpoint ") != NULL)
		return (KMSG_INFO);
	/* 28: a program's usbfs control transfer; only link errors count. */
	if (kmsg_starts(m, "usbfs: USBDEVFS_CONTROL failed ") != NULL &&
	    (r = strstr(m, " ret ")) != NULL) {
		if (kmsg_link_errno(kmsg_int(r + 5)))
			return (kmsg_found(f, "link-error", kmsg_int(r + 5),
			    1));
		return (KMSG_INFO);
	}
	return (KMSG_NOT_OURS);
}

/* Messages of a host controller driver; they name no port. */
static enum kmsg_class
kmsg_classify_hcd(const char *m, struct kmsg_finding *f)
{
	const char	*r;

	/*
	 * 26: every device on the controller is lost; not the cable. One
	 * death is told in up to three lines: a command that timed out,
	 * xhci_hc_died's "assume dead" (xhci-ring.c), and the "HC died"
	 * of usb_hc_died (hcd.c), which xhci_hc_died calls and which every
	 * controller driver's death ends in. Only that one counts, so one
	 * death is one failure; xhci_hc_died skips it only while the
	 * controller is being removed, which is no fault of it.
	 */
	if (kmsg_starts(m, "HC died; cleaning up") != NULL)
		return (kmsg_found(f, "hc-failure", 0, 0));
	if (kmsg_starts(m, "xHCI host controller not responding, assume "
	    "dead") != NULL ||
	    kmsg_starts(m, "xHCI host not responding to stop endpoint "
	    "command") != NULL)
		return (KMSG_INFO);
	/* 23 (debug level), completion codes mapped as xhci-ring.c does. */
	if (kmsg_starts(m, "Transfer error for slot ") != NULL ||
	    kmsg_starts(m, "Split transaction error for slot ") != NULL)
		return (kmsg_found(f, "link-error", -71, 1));
	if (kmsg_starts(m, "Babble error for slot ") != NULL)
		return (kmsg_found(f, "link-error", -75, 1));
	/* 23: a stall is a device's answer, not a link fault (B, 4). */
	if (kmsg_starts(m, "Stalled endpoint for slot ") != NULL)
		return (KMSG_INFO);
	/* 22, 24, 25: driver or ring trouble, not evidence of a cable. */
	if (strstr(m, "Event TRB for slot ") != NULL ||
	    kmsg_starts(m, "WARN: TRB error for slot ") != NULL ||
	    kmsg_starts(m, "ERROR Transfer event TRB DMA ptr not part of "
	    "current TD") != NULL)
		return (KMSG_INFO);
	/* 27: enumeration-time controller errors. */
	if (kmsg_starts(m, "Timeout while waiting for setup device "
	    "command") != NULL)
		return (kmsg_found(f, "link-error", -62, 1));
	if (kmsg_starts(m, "Setup ERROR: setup ") != NULL ||
	    kmsg_starts(m, "ERROR: unexpected setup ") != NULL)
		return (kmsg_found(f, "link-error", 0, 1));
	/* 29 (EHCI, debug level): three strikes are -EPROTO. */
	if (kmsg_starts(m, "devpath ") != NULL &&
	    (r = strstr(m, " 3strikes")) != NULL && r[9] == '\0')
		return (kmsg_found(f, "link-error", -71, 1));
	return (KMSG_NOT_OURS);
}

/* Classify the text of a record. */
enum kmsg_class
kmsg_classify(const char *text, struct kmsg_finding *f)
{
	const char	*m;

	memset(f, 0, sizeof(*f));
	f->bus = -1;
	f->devnum = -1;
	if ((m = kmsg_prefix(text, f)) == NULL)
		return (KMSG_NOT_OURS);
	if (f->controller[0] != '\0')
		return (kmsg_classify_hcd(m, f));
	return (kmsg_classify_usb(m, f));
}

/* The reader. */

/* What to do about an error opening the kernel's log. */
static const char *
kmsg_advice(int errnum)
{
	switch (errnum) {
	case EACCES:
	case EPERM:
		return ("run linkqd with CAP_SYSLOG or as root (the systemd "
		    "unit does), or set kernel.dmesg_restrict=0");
	case ENOENT:
		return ("the path does not exist: check kmsg in linkq.conf's "
		    "[daemon] section (/dev/kmsg)");
	default:
		return ("check kmsg in linkq.conf's [daemon] section "
		    "(/dev/kmsg)");
	}
}

/* Say why the reader stopped or never started. */
static void
kmsg_unreadable(const char *path, const char *why)
{
	(void)snprintf(k.status, sizeof(k.status), "unreadable: %s: %s",
	    path, why);
	log_warnx("kmsg: %s: %s; linkqd goes on without the kernel's USB "
	    "messages", path, why);
}

/* Arm the hold timer for the oldest held finding. */
static void
kmsg_hold_arm(void)
{
	struct kmsg_held	*h;
	struct timeval		 tv;
	int64_t			 left;

	if ((h = TAILQ_FIRST(&k.held)) == NULL) {
		(void)evtimer_del(k.hold_ev);
		return;
	}
	left = lq_mono_sub(h->due, lq_mono_now());
	if (left < 0)
		left = 0;
	tv.tv_sec = left / LQ_USEC_PER_SEC;
	tv.tv_usec = left % LQ_USEC_PER_SEC;
	if (evtimer_add(k.hold_ev, &tv) == -1)
		log_warnx("kmsg: cannot arm the hold timer");
}

/* Free a held finding. */
static void
kmsg_held_free(struct kmsg_held *h)
{
	TAILQ_REMOVE(&k.held, h, entry);
	free(h->text);
	free(h);
}

/* Held findings whose time is up go on. */
static void
kmsg_hold_cb(evutil_socket_t fd, short what, void *unused)
{
	struct kmsg_held	*h;
	lq_mono_t		 now = lq_mono_now();

	(void)fd;
	(void)what;
	(void)unused;
	while ((h = TAILQ_FIRST(&k.held)) != NULL &&
	    lq_mono_passed(h->due, now)) {
		k.fn(&h->f, h->text, h->wall_us);
		kmsg_held_free(h);
	}
	kmsg_hold_arm();
}

/*
 * A disconnect of port: what it held goes on at once, marked as before
 * the unplug. A burst of errors right before "USB disconnect" may be
 * the contacts parting (research/linux-usb-signals-and-performance.md,
 * usbmon statuses), but it may as well be the cable's last faults, and
 * they happened in the run they happened in: evidence of it, with the
 * words that say when, never silently dropped (issue 13).
 */
static void
kmsg_hold_unplugged(const char *port)
{
	struct kmsg_held	*h, *next;
	char			*text;
	unsigned int		 n = 0;

	TAILQ_FOREACH_SAFE(h, &k.held, entry, next) {
		if (!kmsg_port_under(h->f.port, port))
			continue;
		xasprintf(&text, "before an unplug: %s", h->text);
		k.fn(&h->f, text, h->wall_us);
		free(text);
		kmsg_held_free(h);
		n++;
	}
	if (n > 0) {
		log_info("kmsg: %u kernel error%s on %s came before an "
		    "unplug", n, n == 1 ? "" : "s", port);
		kmsg_hold_arm();
	}
}

/* One record: classify it and pass, hold or drop what it says. */
static void
kmsg_record(const char *buf, size_t len, int device)
{
	struct kmsg_record	 rec;
	struct kmsg_finding	 f;
	struct kmsg_held	*h;
	char			 detail[96];
	uint64_t		 lost;

	if (kmsg_parse(buf, len, &rec) == -1) {
		log_debug("kmsg: malformed record: %.*s", (int)(len > 80 ? 80 :
		    len), buf);
		return;
	}
	if (device && k.lost) {
		k.lost = 0;
		memset(&f, 0, sizeof(f));
		f.kind = "records-lost";
		f.bus = f.devnum = -1;
		lost = k.have_seq ? kmsg_lost(k.last_seq, rec.seq) : 0;
		if (lost > 0)
			(void)snprintf(detail, sizeof(detail), "%llu kernel "
			    "log records lost before linkqd read them",
			    (unsigned long long)lost);
		else
			(void)snprintf(detail, sizeof(detail), "kernel log "
			    "records lost before linkqd read them");
		f.errnum = 0;
		k.fn(&f, detail, lq_wall_now_us());
	}
	k.last_seq = rec.seq;
	k.have_seq = 1;
	switch (kmsg_classify(rec.text, &f)) {
	case KMSG_NOT_OURS:
		return;
	case KMSG_INFO:
		log_debug("kmsg: %s", rec.text);
		return;
	case KMSG_FINDING:
		break;
	}
	if (f.disconnect && f.port[0] != '\0')
		kmsg_hold_unplugged(f.port);
	if (f.hold && f.port[0] != '\0') {
		h = xcalloc(1, sizeof(*h));
		h->f = f;
		h->text = xstrdup(rec.text);
		h->wall_us = lq_wall_now_us();
		h->due = lq_mono_add(lq_mono_now(), KMSG_HOLD_US);
		TAILQ_INSERT_TAIL(&k.held, h, entry);
		if (h == TAILQ_FIRST(&k.held))
			kmsg_hold_arm();
		return;
	}
	k.fn(&f, rec.text, lq_wall_now_us());
}

/* Stop reading after an error; what is held still goes on. */
static void
kmsg_close(void)
{
	if (k.ev != NULL) {
		event_free(k.ev);
		k.ev = NULL;
	}
	if (k.fd != -1)
		(void)close(k.fd);
	k.fd = -1;
	follow_free(k.follow);
	k.follow = NULL;
}

/* /dev/kmsg is readable: one record per read(2). */
static void
kmsg_device_cb(evutil_socket_t fd, short what, void *unused)
{
	ssize_t	n;
	int	i;

	(void)what;
	(void)unused;
	for (i = 0; i < KMSG_BATCH; i++) {
		if ((n = read(fd, k.buf, sizeof(k.buf))) > 0) {
			kmsg_record(k.buf, (size_t)n, 1);
			continue;
		}
		if (n == 0 || errno == EAGAIN || errno == EINTR)
			return;
		if (errno == EPIPE) {
			/* Overwritten before we read them; counted by
			 * the seq of the next record. */
			k.lost = 1;
			continue;
		}
		kmsg_unreadable("kmsg", strerror(errno));
		kmsg_close();
		return;
	}
}

/* A whole record of the file. */
static void
kmsg_file_record(const char *buf, size_t len, void *unused)
{
	(void)unused;
	kmsg_record(buf, len, 0);
}

/* The file could not be read on. */
static void
kmsg_file_error(const char *why, void *unused)
{
	(void)unused;
	kmsg_unreadable("kmsg", why);
	kmsg_close();
}

/* Start reading path. */
void
kmsg_start(struct event_base *base, const char *path, kmsg_fn fn)
{
	static const struct follow_cb cb = {
		"kmsg", KMSG_BUF, kmsg_record_end, kmsg_file_record,
		kmsg_file_error, NULL
	};
	struct stat	 st;
	const char	*cause;

	k.base = base;
	k.fn = fn;
	TAILQ_INIT(&k.held);
	if ((k.hold_ev = evtimer_new(base, kmsg_hold_cb, NULL)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	if ((k.fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		k.advice = kmsg_advice(errno);
		kmsg_unreadable(path, strerror(errno));
		return;
	}
	if (fstat(k.fd, &st) == -1) {
		kmsg_unreadable(path, strerror(errno));
		kmsg_close();
		return;
	}
	/* Records from before the start are not this run's. */
	if (lseek(k.fd, 0, SEEK_END) == -1) {
		kmsg_unreadable(path, strerror(errno));
		kmsg_close();
		return;
	}
	if (S_ISCHR(st.st_mode)) {
		if ((k.ev = event_new(base, k.fd, EV_READ | EV_PERSIST,
		    kmsg_device_cb, NULL)) == NULL ||
		    event_add(k.ev, NULL) == -1)
			fatalx("%s: event_new", __func__);
	} else if (S_ISREG(st.st_mode)) {
		k.follow = follow_file(base, path, k.fd, &cb, &cause);
		k.fd = -1;	/* the follower's now */
		if (k.follow == NULL) {
			kmsg_unreadable(path, cause);
			return;
		}
	} else {
		kmsg_unreadable(path, "neither a character device nor a "
		    "regular file");
		kmsg_close();
		return;
	}
	(void)snprintf(k.status, sizeof(k.status), "reading %s", path);
	log_info("kmsg: reading %s", path);
}

/* Stop reading; drop what is held. */
void
kmsg_stop(void)
{
	kmsg_close();
	while (!TAILQ_EMPTY(&k.held))
		kmsg_held_free(TAILQ_FIRST(&k.held));
	if (k.hold_ev != NULL) {
		event_free(k.hold_ev);
		k.hold_ev = NULL;
	}
}

/* What the reader is doing. */
const char *
kmsg_status(void)
{
	return (k.status[0] != '\0' ? k.status : "not started");
}

/* The reader as an evidence source (sources.h). */
void
kmsg_source(struct source_state *st)
{
	if (strncmp(k.status, "reading ", 8) != 0) {
		source_off(st, kmsg_status(), k.advice != NULL ? k.advice :
		    kmsg_advice(0));
		return;
	}
	st->on = 1;
	(void)strlcpy(st->reason, k.status, sizeof(st->reason));
}
