/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The configuration file (contract in config.h, format in linkq.conf.5).
 *
 * libinih splits "key = value" lines, trims them and cuts ";" comments;
 * everything else is done here. Debian's inih 55 is built without
 * INI_HANDLER_LINENO, so its handler cannot know its line, and with
 * INI_MAX_LINE 200 on the stack, so a longer line would be split in two.
 * We therefore feed it through ini_parse_stream() with our own reader:
 * the reader reads whole lines with getline(), counts them, strips CR
 * (CRLF files), the BOM and leading blanks (which also disables inih's
 * indented continuation lines), rejects lines that inih would cut, and
 * handles section headers itself. inih calls the handler for a line
 * before it asks for the next, so the handler's line is the reader's.
 * After the first error the reader returns EOF, which stops inih.
 *
 * Keys are described by one table (type, field, range); the same table
 * prints the configuration back, so config_dump() always writes what
 * config_read() accepts.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "compat/compat.h"
#include "config.h"
#include "hooks.h"
#include "linkq.h"
#include "log.h"
#include "lq-time.h"
#include "xmalloc.h"

#define MS		LQ_USEC_PER_MSEC
#define SEC		LQ_USEC_PER_SEC
#define MINUTE		(60 * SEC)
#define HOUR		(60 * MINUTE)
#define KIB		UINT64_C(1024)
#define MIB		(1024 * KIB)
#define GIB		(1024 * MIB)
#define TIB		(1024 * GIB)

/* inih truncates key names to 49 characters (its MAX_NAME 50). */
#define CONFIG_KEY_MAX		48
/* The AFC folder name, "/" included. */
#define CONFIG_FOLDER_MAX	64
/* sizeof(struct sockaddr_un sun_path) - 1. */
#define CONFIG_SOCKET_MAX	107

enum config_section {
	SECTION_NONE,
	SECTION_DAEMON,
	SECTION_SAFETY,
	SECTION_VERDICT,
	SECTION_DEADLINES,
	SECTION_AUTO_TEST,
	SECTION_CABLES,
	SECTION_HOOKS,
	SECTION_PROFILE
};

static const char *const section_names[] = {
	[SECTION_NONE] = NULL,
	[SECTION_DAEMON] = "daemon",
	[SECTION_SAFETY] = "safety",
	[SECTION_VERDICT] = "verdict",
	[SECTION_DEADLINES] = "deadlines",
	[SECTION_AUTO_TEST] = "auto-test",
	[SECTION_CABLES] = "cables",
	[SECTION_HOOKS] = "hooks",
	[SECTION_PROFILE] = "profile"
};

enum config_type {
	TYPE_PATH,		/* absolute path, max: length */
	TYPE_FOLDER,		/* "/name" */
	TYPE_DURATION,		/* int64_t microseconds */
	TYPE_SIZE,		/* uint64_t or uint32_t bytes */
	TYPE_COUNT,		/* unsigned integer */
	TYPE_PERCENT,		/* "N%" */
	TYPE_PROB,		/* double, 0 < p < 1 */
	TYPE_BOOL,		/* int */
	TYPE_KINDS,		/* unsigned int bit set */
	TYPE_LISTEN,		/* char *, NULL: off (config_listen_addr) */
	TYPE_COMMAND,		/* a command line, as written */
	TYPE_EVENTS		/* unsigned int bit set of hook events */
};

/*
 * A key: where it lives (in struct config, or in struct profile for
 * SECTION_PROFILE), its type and its range (microseconds for durations,
 * bytes for sizes, characters for paths).
 */
struct config_key {
	enum config_section	 section;
	const char		*name;
	enum config_type	 type;
	size_t			 offset;
	size_t			 size;
	uint64_t		 min;
	uint64_t		 max;
};

#define CFG(f)	offsetof(struct config, f), sizeof(((struct config *)0)->f)
#define PRF(f)	offsetof(struct profile, f), sizeof(((struct profile *)0)->f)

static const struct config_key config_keys[] = {
	{ SECTION_DAEMON, "socket", TYPE_PATH, CFG(socket_path),
	  1, CONFIG_SOCKET_MAX },
	{ SECTION_DAEMON, "db", TYPE_PATH, CFG(db_path), 1, PATH_MAX - 1 },
	{ SECTION_DAEMON, "sysfs", TYPE_PATH, CFG(sysfs_root), 1,
	  PATH_MAX - 1 },
	{ SECTION_DAEMON, "kmsg", TYPE_PATH, CFG(kmsg_path), 1,
	  PATH_MAX - 1 },
	{ SECTION_DAEMON, "usbmon", TYPE_PATH, CFG(usbmon_path), 1,
	  PATH_MAX - 1 },
	{ SECTION_DAEMON, "flush", TYPE_DURATION, CFG(flush_us),
	  MS, MINUTE },
	{ SECTION_DAEMON, "client-timeout", TYPE_DURATION,
	  CFG(client_timeout_us), 100 * MS, HOUR },
	{ SECTION_DAEMON, "usbmuxd-retry", TYPE_DURATION,
	  CFG(usbmuxd_retry_us), 10 * MS, HOUR },
	{ SECTION_DAEMON, "reattach-window", TYPE_DURATION,
	  CFG(reattach_window_us), 0, HOUR },
	{ SECTION_DAEMON, "retention-days", TYPE_COUNT, CFG(retention_days),
	  0, 36500 },
	{ SECTION_DAEMON, "metrics-listen", TYPE_LISTEN, CFG(metrics_listen),
	  0, 0 },

	{ SECTION_SAFETY, "afc-folder", TYPE_FOLDER, CFG(afc_folder),
	  2, CONFIG_FOLDER_MAX },
	{ SECTION_SAFETY, "max-free-share", TYPE_PERCENT,
	  CFG(max_free_share_pct), 1, 100 },
	{ SECTION_SAFETY, "max-bytes", TYPE_SIZE, CFG(max_bytes), MIB, TIB },

	{ SECTION_VERDICT, "p0", TYPE_PROB, CFG(p0), 0, 0 },
	{ SECTION_VERDICT, "p1", TYPE_PROB, CFG(p1), 0, 0 },
	{ SECTION_VERDICT, "alpha", TYPE_PROB, CFG(alpha), 0, 0 },
	{ SECTION_VERDICT, "beta", TYPE_PROB, CFG(beta), 0, 0 },
	{ SECTION_VERDICT, "max-probes", TYPE_COUNT, CFG(max_probes),
	  1, 1000000000 },
	{ SECTION_VERDICT, "min-probes", TYPE_COUNT, CFG(min_probes),
	  0, 1000000000 },
	{ SECTION_VERDICT, "min-bulk", TYPE_SIZE, CFG(min_bulk_bytes),
	  0, TIB },
	{ SECTION_VERDICT, "marginal-upper", TYPE_PROB, CFG(marginal_upper),
	  0, 0 },

	{ SECTION_HOOKS, "command", TYPE_COMMAND, CFG(hook_command),
	  1, CONFIG_LINE_MAX },
	{ SECTION_HOOKS, "on", TYPE_EVENTS, CFG(hook_events), 0, 0 },
	{ SECTION_HOOKS, "shell", TYPE_BOOL, CFG(hook_shell), 0, 1 },
	{ SECTION_HOOKS, "timeout", TYPE_DURATION, CFG(hook_timeout_us),
	  SEC, HOUR },

	{ SECTION_PROFILE, "kinds", TYPE_KINDS, PRF(kinds), 0, 0 },
	{ SECTION_PROFILE, "duration", TYPE_DURATION, PRF(duration_us),
	  0, 720 * HOUR },
	{ SECTION_PROFILE, "bulk", TYPE_SIZE, PRF(bulk_bytes), 0, TIB },
	{ SECTION_PROFILE, "chunk", TYPE_SIZE, PRF(chunk_bytes),
	  KIB, 16 * MIB },
	{ SECTION_PROFILE, "interval", TYPE_DURATION, PRF(interval_us),
	  0, 24 * HOUR },
	{ SECTION_PROFILE, "handshake-every", TYPE_COUNT,
	  PRF(handshake_every), 0, 1000000 },
	{ SECTION_PROFILE, "stop-early", TYPE_BOOL, PRF(stop_early), 0, 1 },
	{ SECTION_PROFILE, "forever", TYPE_BOOL, PRF(forever), 0, 1 },
	{ SECTION_PROFILE, "triage", TYPE_BOOL, PRF(triage), 0, 1 },
	{ SECTION_PROFILE, "window", TYPE_DURATION, PRF(window_us),
	  0, 720 * HOUR },
	{ SECTION_PROFILE, "write-only", TYPE_BOOL, PRF(write_only), 0, 1 },
};

/* The words of a hook's command at most. */
#define CONFIG_WORDS_MAX	64

/* Deadlines: one key per probe kind, each in this range. */
#define DEADLINE_MIN		MS
#define DEADLINE_MAX		HOUR

/* A key or section already seen, and where. */
struct config_seen {
	char		*name;
	unsigned int	 line;
};

/* The state of one config_read(). */
struct config_parse {
	struct config		*cfg;
	const char		*file;
	FILE			*f;
	char			*buf;
	size_t			 bufsize;
	unsigned int		 line;
	char			*error;

	enum config_section	 section;
	char			*section_name;	/* for messages */
	unsigned int		 section_line;
	struct profile		*profile;	/* [profile NAME] */
	int			 profile_new;
	int			 profile_kinds;	/* kinds was given */

	struct config_seen	*keys;		/* in this section */
	size_t			 nkeys;
	struct config_seen	*sections;
	size_t			 nsections;

	/* Lines of keys checked against each other at the end. */
	unsigned int		 p0_line, p1_line, alpha_line, beta_line;
	unsigned int		 min_probes_line, max_probes_line;
	unsigned int		 auto_test_line;
	unsigned int		 hooks_line;	/* a [hooks] key, or 0 */
	unsigned int		 hook_command_line;
};

static struct profile *config_add_profile(struct config *, const char *);
static int	 config_error(struct config_parse *, unsigned int,
		    const char *, ...) printflike(3, 4);
static void	 config_seen_clear(struct config_seen **, size_t *);
static const struct config_seen *config_seen_find(
		    const struct config_seen *, size_t, const char *);
static void	 config_seen_add(struct config_seen **, size_t *,
		    const char *, unsigned int);
static int	 config_parse_duration(const char *, int64_t *);
static int	 config_parse_size(const char *, uint64_t *);
static int	 config_parse_count(const char *, uint64_t *);
static int	 config_parse_prob(const char *, double *);
static int	 config_parse_bool(const char *, int *);
static int	 config_parse_kinds(struct config_parse *, const char *,
		    unsigned int *);
static int	 config_parse_events(struct config_parse *, const char *,
		    unsigned int *);
static char	**config_split_command(const char *, const char **);
static void	 config_format_events(char *, size_t, unsigned int);
static int	 config_valid_name(const char *);
static int	 config_valid_port(const char *);
static void	 config_format_duration(char *, size_t, int64_t);
static void	 config_format_size(char *, size_t, uint64_t);
static void	 config_format_double(char *, size_t, double);
static void	 config_format_kinds(char *, size_t, unsigned int);
static void	 config_expected(const struct config_key *, char *, size_t);
static int	 config_set(struct config_parse *, const struct config_key *,
		    void *, const char *);
static int	 config_set_deadline(struct config_parse *, const char *,
		    const char *);
static int	 config_set_auto_test(struct config_parse *, const char *,
		    const char *);
static int	 config_end_section(struct config_parse *);
static int	 config_begin_section(struct config_parse *, char *);
static int	 config_end(struct config_parse *);
static char	*config_reader_cb(char *, int, void *);
static int	 config_handler_cb(void *, const char *, const char *,
		    const char *);
static void	 config_dump_key(const struct config_key *, const void *,
		    FILE *);

/* Append a profile called name to cfg, every key 0 or no. */
static struct profile *
config_add_profile(struct config *cfg, const char *name)
{
	struct profile	*pr;

	pr = xcalloc(1, sizeof(*pr));
	pr->name = xstrdup(name);
	TAILQ_INSERT_TAIL(&cfg->profiles, pr, entry);
	return (pr);
}

/* Every probe kind, as PROFILE_KIND bits. */
#define ALL_KINDS	(PROFILE_KIND(LQ_PROBE_KIND_MAX + 1) - 2)

/*
 * The built-in profiles, as linkq.conf(5) lists them with what a PASS
 * of each rules out. Each keeps its word: a run lasts its duration and
 * moves at least its bulk bytes each way.
 */
static const struct profile_default {
	const char	*name;
	unsigned int	 kinds;
	int64_t		 duration_us;
	uint64_t	 bulk_bytes;
	uint32_t	 chunk_bytes;
	int64_t		 interval_us;
	unsigned int	 handshake_every;
	int		 forever;
	int		 triage;
	int64_t		 window_us;
	int		 write_only;
} profile_defaults[] = {
	{ "quick", ALL_KINDS & ~PROFILE_KIND(LQ_PROBE_USB_CONTROL), 30 * SEC,
	  64 * MIB, MIB, 0, 0, 0, 1, 0, 0 },
	{ "standard", ALL_KINDS, 300 * SEC, 256 * MIB, MIB, 0, 0, 0, 0, 0,
	  0 },
	{ "restore", PROFILE_KIND(LQ_PROBE_BULK), 0, UINT64_C(8000000000),
	  128 * KIB, 0, 10, 0, 0, 0, 1 },
	{ "monitor", PROFILE_KIND(LQ_PROBE_MUX_CONNECT) |
	  PROFILE_KIND(LQ_PROBE_LOCKDOWN_QUERY) |
	  PROFILE_KIND(LQ_PROBE_AFC_ROUNDTRIP), 0, 0, MIB, 10 * SEC, 0, 1, 0,
	  3600 * SEC, 0 },
	{ "wiggle", PROFILE_KIND(LQ_PROBE_BULK), 0, 256 * MIB, MIB, 0, 0, 1,
	  0, 0, 0 },
};

/* Add the built-in profiles to cfg. */
static void
config_add_defaults(struct config *cfg)
{
	const struct profile_default	*d;
	struct profile			*pr;
	size_t				 i;

	for (i = 0; i < nitems(profile_defaults); i++) {
		d = &profile_defaults[i];
		pr = config_add_profile(cfg, d->name);
		pr->kinds = d->kinds;
		pr->duration_us = d->duration_us;
		pr->bulk_bytes = d->bulk_bytes;
		pr->chunk_bytes = d->chunk_bytes;
		pr->interval_us = d->interval_us;
		pr->handshake_every = d->handshake_every;
		pr->forever = d->forever;
		pr->triage = d->triage;
		pr->window_us = d->window_us;
		pr->write_only = d->write_only;
	}
}

/* Fill cfg with the compiled-in defaults; config_release() frees it. */
void
config_init(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->path = NULL;
	cfg->socket_path = xstrdup(LINKQ_SOCKET);
	cfg->db_path = xstrdup(LINKQ_DB);
	cfg->sysfs_root = xstrdup("/sys");
	cfg->kmsg_path = xstrdup("/dev/kmsg");
	cfg->usbmon_path = xstrdup("/sys/kernel/debug/usb/usbmon/0u");
	cfg->flush_us = 250 * MS;
	cfg->client_timeout_us = 30 * SEC;
	cfg->usbmuxd_retry_us = SEC;
	cfg->reattach_window_us = 10 * SEC;
	cfg->retention_days = 365;

	cfg->afc_folder = xstrdup("/linkq");
	cfg->max_free_share_pct = 10;
	cfg->max_bytes = GIB;

	cfg->p0 = 1e-3;
	cfg->p1 = 1e-2;
	cfg->alpha = 0.05;
	cfg->beta = 0.05;
	cfg->max_probes = 3000;
	cfg->min_probes = 200;
	cfg->min_bulk_bytes = 64 * MIB;
	cfg->marginal_upper = 0.01;

	cfg->deadline_us[LQ_PROBE_MUX_CONNECT] = 5 * SEC;
	cfg->deadline_us[LQ_PROBE_LOCKDOWN_QUERY] = 5 * SEC;
	cfg->deadline_us[LQ_PROBE_LOCKDOWN_HANDSHAKE] = 15 * SEC;
	cfg->deadline_us[LQ_PROBE_AFC_ROUNDTRIP] = 10 * SEC;
	cfg->deadline_us[LQ_PROBE_BULK] = 10 * SEC;
	cfg->deadline_us[LQ_PROBE_USB_CONTROL] = 2 * SEC;

	cfg->auto_test = NULL;
	TAILQ_INIT(&cfg->ports);
	TAILQ_INIT(&cfg->cables);

	cfg->hook_events = HOOK_EVENTS_DEFAULT;
	cfg->hook_timeout_us = 30 * SEC;

	TAILQ_INIT(&cfg->profiles);
	config_add_defaults(cfg);
}

/* Free what cfg holds, leaving it unusable until config_init(). */
void
config_release(struct config *cfg)
{
	struct profile		*pr;
	struct config_port	*cp;
	struct config_cable	*cc;
	size_t			 i;

	free(cfg->path);
	free(cfg->socket_path);
	free(cfg->db_path);
	free(cfg->sysfs_root);
	free(cfg->kmsg_path);
	free(cfg->usbmon_path);
	free(cfg->metrics_listen);
	free(cfg->afc_folder);
	free(cfg->auto_test);
	free(cfg->hook_command);
	for (i = 0; cfg->hook_argv != NULL && cfg->hook_argv[i] != NULL; i++)
		free(cfg->hook_argv[i]);
	free(cfg->hook_argv);
	while ((cp = TAILQ_FIRST(&cfg->ports)) != NULL) {
		TAILQ_REMOVE(&cfg->ports, cp, entry);
		free(cp->port);
		free(cp->profile);
		free(cp);
	}
	while ((cc = TAILQ_FIRST(&cfg->cables)) != NULL) {
		TAILQ_REMOVE(&cfg->cables, cc, entry);
		free(cc->port);
		free(cc->label);
		free(cc);
	}
	while ((pr = TAILQ_FIRST(&cfg->profiles)) != NULL) {
		TAILQ_REMOVE(&cfg->profiles, pr, entry);
		free(pr->name);
		free(pr);
	}
	memset(cfg, 0, sizeof(*cfg));
}

/* Free a config from config_read(); NULL is a no-op. */
void
config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	config_release(cfg);
	free(cfg);
}

/* Return the profile called name, or NULL. */
const struct profile *
config_profile(const struct config *cfg, const char *name)
{
	const struct profile	*pr;

	TAILQ_FOREACH(pr, &cfg->profiles, entry) {
		if (strcmp(pr->name, name) == 0)
			return (pr);
	}
	return (NULL);
}

/* The profiles' names, "quick, restore, ...", for a message. */
void
config_profile_names(const struct config *cfg, char *buf, size_t size)
{
	const struct profile	*pr;

	buf[0] = '\0';
	TAILQ_FOREACH(pr, &cfg->profiles, entry) {
		if (buf[0] != '\0')
			(void)strlcat(buf, ", ", size);
		(void)strlcat(buf, pr->name, size);
	}
}

/*
 * Return the name of the profile to start when a device attaches on
 * port_path (NULL: the default only), or NULL for none.
 */
const char *
config_auto_test(const struct config *cfg, const char *port_path)
{
	const struct config_port	*cp;

	if (port_path != NULL) {
		TAILQ_FOREACH(cp, &cfg->ports, entry) {
			if (strcmp(cp->port, port_path) == 0)
				return (cp->profile);
		}
	}
	return (cfg->auto_test);
}

/* Record the first error, at line (0: the current line); return 0. */
static int
config_error(struct config_parse *p, unsigned int line, const char *fmt,
    ...)
{
	va_list	 ap;
	char	*msg;

	if (p->error != NULL)
		return (0);
	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	xasprintf(&p->error, "%s:%u: %s", p->file, line != 0 ? line :
	    p->line, msg);
	free(msg);
	return (0);
}

/* Forget a list of seen names. */
static void
config_seen_clear(struct config_seen **list, size_t *n)
{
	size_t	i;

	for (i = 0; i < *n; i++)
		free((*list)[i].name);
	free(*list);
	*list = NULL;
	*n = 0;
}

/* Return the entry called name in a list of seen names, or NULL. */
static const struct config_seen *
config_seen_find(const struct config_seen *list, size_t n, const char *name)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (strcmp(list[i].name, name) == 0)
			return (&list[i]);
	}
	return (NULL);
}

/* Add name, seen at line, to a list. */
static void
config_seen_add(struct config_seen **list, size_t *n, const char *name,
    unsigned int line)
{
	*list = xreallocarray(*list, *n + 1, sizeof(**list));
	(*list)[*n].name = xstrdup(name);
	(*list)[*n].line = line;
	(*n)++;
}

/*
 * Split s into a leading run of digits, as a number, and what follows
 * it (*unit, possibly ""). -1 if there are no digits or too many.
 */
static int
config_split_number(const char *s, long long *v, const char **unit)
{
	char		 digits[20];
	const char	*errstr;
	size_t		 n;

	n = strspn(s, "0123456789");
	if (n == 0 || n >= sizeof(digits))
		return (-1);
	memcpy(digits, s, n);
	digits[n] = '\0';
	*v = strtonum(digits, 0, LLONG_MAX, &errstr);
	if (errstr != NULL)
		return (-1);
	*unit = s + n;
	return (0);
}

/* Parse "0" or digits with a unit ms, s, m or h into microseconds. */
static int
config_parse_duration(const char *s, int64_t *us)
{
	const char	*unit;
	long long	 v;
	int64_t		 mul;

	if (config_split_number(s, &v, &unit) == -1)
		return (-1);
	if (*unit == '\0') {
		if (v != 0)
			return (-1);
		*us = 0;
		return (0);
	}
	if (strcmp(unit, "ms") == 0)
		mul = MS;
	else if (strcmp(unit, "s") == 0)
		mul = SEC;
	else if (strcmp(unit, "m") == 0)
		mul = MINUTE;
	else if (strcmp(unit, "h") == 0)
		mul = HOUR;
	else
		return (-1);
	if (v > INT64_MAX / mul)
		return (-1);
	*us = v * mul;
	return (0);
}

/* Parse bytes, or digits with a binary unit K, M, G or T. */
static int
config_parse_size(const char *s, uint64_t *bytes)
{
	const char	*unit;
	long long	 v;
	uint64_t	 mul;

	if (config_split_number(s, &v, &unit) == -1)
		return (-1);
	if (*unit == '\0')
		mul = 1;
	else if (strcmp(unit, "K") == 0)
		mul = KIB;
	else if (strcmp(unit, "M") == 0)
		mul = MIB;
	else if (strcmp(unit, "G") == 0)
		mul = GIB;
	else if (strcmp(unit, "T") == 0)
		mul = TIB;
	else
		return (-1);
	if ((uint64_t)v > UINT64_MAX / mul)
		return (-1);
	*bytes = (uint64_t)v * mul;
	return (0);
}

/* Parse a plain unsigned decimal number. */
static int
config_parse_count(const char *s, uint64_t *v)
{
	const char	*errstr;
	long long	 n;

	if (*s == '\0' || strspn(s, "0123456789") != strlen(s))
		return (-1);
	n = strtonum(s, 0, LLONG_MAX, &errstr);
	if (errstr != NULL)
		return (-1);
	*v = (uint64_t)n;
	return (0);
}

/* Parse a probability, strictly between 0 and 1, in decimal notation. */
static int
config_parse_prob(const char *s, double *p)
{
	char	*end;
	double	 v;

	if (*s == '\0' || strspn(s, "0123456789.eE+-") != strlen(s) ||
	    !isdigit((unsigned char)*s))
		return (-1);
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !isfinite(v) || v <= 0 || v >= 1)
		return (-1);
	*p = v;
	return (0);
}

/* Parse yes, no, true, false, on or off. */
static int
config_parse_bool(const char *s, int *b)
{
	if (strcmp(s, "yes") == 0 || strcmp(s, "true") == 0 ||
	    strcmp(s, "on") == 0)
		*b = 1;
	else if (strcmp(s, "no") == 0 || strcmp(s, "false") == 0 ||
	    strcmp(s, "off") == 0)
		*b = 0;
	else
		return (-1);
	return (0);
}

/* Parse a space-separated list of probe kind names. */
static int
config_parse_kinds(struct config_parse *p, const char *s,
    unsigned int *kinds)
{
	char		 all[256], *copy, *cp, *word;
	unsigned int	 set = 0;
	int		 kind, ret = -1;

	config_format_kinds(all, sizeof(all), ~0U);
	cp = copy = xstrdup(s);
	while ((word = strsep(&cp, " \t")) != NULL) {
		if (*word == '\0')
			continue;
		if ((kind = lq_probe_kind_from_name(word)) == -1) {
			config_error(p, 0, "[%s] kinds: unknown probe kind "
			    "'%s'; expected some of: %s", p->section_name,
			    word, all);
			goto out;
		}
		if (set & PROFILE_KIND(kind)) {
			config_error(p, 0, "[%s] kinds: '%s' is listed twice",
			    p->section_name, word);
			goto out;
		}
		set |= PROFILE_KIND(kind);
	}
	if (set == 0) {
		config_error(p, 0, "[%s] kinds: no probe kind given; expected "
		    "some of: %s", p->section_name, all);
		goto out;
	}
	*kinds = set;
	ret = 0;
out:
	free(copy);
	return (ret);
}

/*
 * Parse a list of hook event names (hooks.h), separated by commas or
 * blanks.
 */
static int
config_parse_events(struct config_parse *p, const char *s,
    unsigned int *events)
{
	char		 all[128], *copy, *cp, *word;
	unsigned int	 set = 0;
	int		 e, ret = -1;

	config_format_events(all, sizeof(all), ~0U);
	cp = copy = xstrdup(s);
	while ((word = strsep(&cp, ", \t")) != NULL) {
		if (*word == '\0')
			continue;
		if ((e = hook_event_from_name(word)) == -1) {
			config_error(p, 0, "[hooks] on: unknown event '%s'; "
			    "expected some of: %s", word, all);
			goto out;
		}
		if (set & HOOK_EVENT_BIT(e)) {
			config_error(p, 0, "[hooks] on: '%s' is listed twice",
			    word);
			goto out;
		}
		set |= HOOK_EVENT_BIT(e);
	}
	if (set == 0) {
		config_error(p, 0, "[hooks] on: no event given; expected some "
		    "of: %s", all);
		goto out;
	}
	*events = set;
	ret = 0;
out:
	free(copy);
	return (ret);
}

/* Free what config_split_command returned. */
static void
config_words_free(char **words)
{
	size_t	i;

	for (i = 0; words != NULL && words[i] != NULL; i++)
		free(words[i]);
	free(words);
}

/*
 * Take one word at s into word (as long as s at most); return what
 * follows it, or NULL with *why. Inside '...' everything is kept; inside
 * "..." everything but \" and \\, which stand for " and \; elsewhere a
 * backslash keeps the next character and a blank ends the word.
 */
static const char *
config_split_word(const char *s, char *word, const char **why)
{
	const char	*end;
	size_t		 len = 0;

	while (*s != '\0' && *s != ' ' && *s != '\t') {
		if (*s == '\'') {
			if ((end = strchr(s + 1, '\'')) == NULL) {
				*why = "a single quote is not closed";
				return (NULL);
			}
			memcpy(word + len, s + 1, (size_t)(end - s - 1));
			len += (size_t)(end - s - 1);
			s = end + 1;
		} else if (*s == '"') {
			for (s++; *s != '"'; s++) {
				if (*s == '\0') {
					*why = "a double quote is not closed";
					return (NULL);
				}
				if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
					s++;
				word[len++] = *s;
			}
			s++;
		} else if (*s == '\\') {
			if (s[1] == '\0') {
				*why = "it ends with a backslash";
				return (NULL);
			}
			word[len++] = s[1];
			s += 2;
		} else
			word[len++] = *s++;
	}
	word[len] = '\0';
	return (s);
}

/*
 * Split a hook's command line into words, without a shell (linkq.conf(5),
 * HOOKS): the words, or NULL with *why.
 */
static char **
config_split_command(const char *s, const char **why)
{
	char	**words = NULL, *word;
	size_t	  n = 0;

	word = xmalloc(strlen(s) + 1);
	for (;;) {
		s += strspn(s, " \t");
		if (*s == '\0')
			break;
		if (n == CONFIG_WORDS_MAX) {
			*why = "it has more than 64 words";
			goto bad;
		}
		if ((s = config_split_word(s, word, why)) == NULL)
			goto bad;
		words = xreallocarray(words, n + 2, sizeof(*words));
		words[n++] = xstrdup(word);
		words[n] = NULL;
	}
	free(word);
	if (n == 0) {
		*why = "it has no words";
		return (NULL);
	}
	return (words);
bad:
	free(word);
	config_words_free(words);
	return (NULL);
}

/* Is name a valid profile name? */
static int
config_valid_name(const char *name)
{
	size_t	len;

	len = strlen(name);
	if (len == 0 || len > CONFIG_NAME_MAX)
		return (0);
	if (strspn(name, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != len)
		return (0);
	return (strcmp(name, "off") != 0);
}

/* Is s a sysfs USB port path: BUS-PORT[.PORT]...? */
static int
config_valid_port(const char *s)
{
	size_t	n;

	if ((n = strspn(s, "0123456789")) == 0 || n > 3 || s[n] != '-')
		return (0);
	s += n + 1;
	for (;;) {
		if ((n = strspn(s, "0123456789")) == 0 || n > 3)
			return (0);
		s += n;
		if (*s == '\0')
			return (1);
		if (*s++ != '.')
			return (0);
	}
}

/* Format a duration in the largest unit that is exact. */
static void
config_format_duration(char *buf, size_t len, int64_t us)
{
	if (us == 0)
		xsnprintf(buf, len, "0");
	else if (us % HOUR == 0)
		xsnprintf(buf, len, "%lldh", (long long)(us / HOUR));
	else if (us % MINUTE == 0)
		xsnprintf(buf, len, "%lldm", (long long)(us / MINUTE));
	else if (us % SEC == 0)
		xsnprintf(buf, len, "%llds", (long long)(us / SEC));
	else
		xsnprintf(buf, len, "%lldms", (long long)(us / MS));
}

/* Format a size in T, G or M if exact, K below 1G if exact, or bytes. */
static void
config_format_size(char *buf, size_t len, uint64_t bytes)
{
	if (bytes != 0 && bytes % TIB == 0)
		xsnprintf(buf, len, "%lluT", (unsigned long long)(bytes / TIB));
	else if (bytes != 0 && bytes % GIB == 0)
		xsnprintf(buf, len, "%lluG", (unsigned long long)(bytes / GIB));
	else if (bytes != 0 && bytes % MIB == 0)
		xsnprintf(buf, len, "%lluM", (unsigned long long)(bytes / MIB));
	else if (bytes != 0 && bytes % KIB == 0 && bytes < GIB)
		xsnprintf(buf, len, "%lluK", (unsigned long long)(bytes / KIB));
	else
		xsnprintf(buf, len, "%llu", (unsigned long long)bytes);
}

/* Format a double with the fewest digits that read back the same. */
static void
config_format_double(char *buf, size_t len, double v)
{
	xsnprintf(buf, len, "%.15g", v);
	if (strtod(buf, NULL) != v)
		xsnprintf(buf, len, "%.17g", v);
}

/* Format a set of probe kinds as names separated by spaces. */
static void
config_format_kinds(char *buf, size_t len, unsigned int kinds)
{
	int	k;

	*buf = '\0';
	for (k = 1; k <= LQ_PROBE_KIND_MAX; k++) {
		if ((kinds & PROFILE_KIND(k)) == 0)
			continue;
		if (*buf != '\0')
			(void)strlcat(buf, " ", len);
		if (strlcat(buf, lq_probe_kind_name(k), len) >= len)
			fatalx("%s: buffer too small", __func__);
	}
}

/* Format a set of hook events as names separated by commas. */
static void
config_format_events(char *buf, size_t len, unsigned int events)
{
	int	e;

	*buf = '\0';
	for (e = 0; e <= HOOK_EVENT_MAX; e++) {
		if ((events & HOOK_EVENT_BIT(e)) == 0)
			continue;
		if (*buf != '\0')
			(void)strlcat(buf, ", ", len);
		if (strlcat(buf, hook_event_name(e), len) >= len)
			fatalx("%s: buffer too small", __func__);
	}
}

/* Describe the values a key accepts. */
static void
config_expected(const struct config_key *k, char *buf, size_t len)
{
	char	lo[32], hi[32];

	switch (k->type) {
	case TYPE_PATH:
		xsnprintf(buf, len, "an absolute path of at most %llu "
		    "characters", (unsigned long long)k->max);
		break;
	case TYPE_FOLDER:
		xsnprintf(buf, len, "one folder below the AFC root, such as "
		    "/linkq (letters, digits, '.', '_', '-'; at most %llu "
		    "characters)", (unsigned long long)k->max);
		break;
	case TYPE_DURATION:
		config_format_duration(lo, sizeof(lo), (int64_t)k->min);
		config_format_duration(hi, sizeof(hi), (int64_t)k->max);
		xsnprintf(buf, len, "a duration from %s to %s: a whole "
		    "number with a unit ms, s, m or h", lo, hi);
		break;
	case TYPE_SIZE:
		config_format_size(lo, sizeof(lo), k->min);
		config_format_size(hi, sizeof(hi), k->max);
		xsnprintf(buf, len, "a size from %s to %s: bytes, or a whole "
		    "number with K, M, G or T (1K = 1024)", lo, hi);
		break;
	case TYPE_COUNT:
		xsnprintf(buf, len, "a whole number from %llu to %llu",
		    (unsigned long long)k->min, (unsigned long long)k->max);
		break;
	case TYPE_PERCENT:
		xsnprintf(buf, len, "a percentage from %llu%% to %llu%%, such "
		    "as 10%%", (unsigned long long)k->min,
		    (unsigned long long)k->max);
		break;
	case TYPE_PROB:
		xsnprintf(buf, len, "a probability between 0 and 1 "
		    "(exclusive), such as 0.01");
		break;
	case TYPE_BOOL:
		xsnprintf(buf, len, "yes, no, true, false, on or off");
		break;
	case TYPE_KINDS:
		xsnprintf(buf, len, "probe kind names");
		break;
	case TYPE_LISTEN:
		xsnprintf(buf, len, "off, or a loopback address and a port "
		    "such as 127.0.0.1:9477 or [::1]:9477 (port 0: any free "
		    "one)");
		break;
	case TYPE_COMMAND:
		xsnprintf(buf, len, "a command line without control "
		    "characters");
		break;
	case TYPE_EVENTS:
		xsnprintf(buf, len, "hook event names");
		break;
	}
}

/*
 * The address of "ADDRESS:PORT" for metrics-listen, which must be a
 * loopback one: 127.0.0.0/8 or [::1]. The API has no authentication
 * and the metrics tell about a bench, so nothing off this host may
 * reach them. 0 with *ss, or -1 with *why (static).
 */
int
config_listen_addr(const char *s, struct sockaddr_storage *ss,
    socklen_t *len, const char **why)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	char			 host[INET6_ADDRSTRLEN + 2];
	const char		*colon, *errstr;
	long long		 port;
	size_t			 n;

	*why = "expected ADDRESS:PORT, such as 127.0.0.1:9477 or "
	    "[::1]:9477";
	if ((colon = strrchr(s, ':')) == NULL ||
	    (n = (size_t)(colon - s)) == 0 || n >= sizeof(host) ||
	    colon[1] == '\0' || strspn(colon + 1, "0123456789") !=
	    strlen(colon + 1))
		return (-1);
	port = strtonum(colon + 1, 0, 65535, &errstr);
	if (errstr != NULL) {
		*why = "the port must be from 0 to 65535";
		return (-1);
	}
	memcpy(host, s, n);
	host[n] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[' && host[n - 1] == ']') {
		host[n - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &sin6->sin6_addr) != 1)
			return (-1);
		if (!IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
			goto remote;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*sin6);
		return (0);
	}
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
		return (-1);
	if ((ntohl(sin->sin_addr.s_addr) >> 24) != 127)
		goto remote;
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	*len = sizeof(*sin);
	return (0);
remote:
	*why = "not a loopback address: linkqd's API has no "
	    "authentication, so it listens only on 127.0.0.0/8 or [::1] "
	    "(put a proxy in front to reach it from elsewhere)";
	return (-1);
}

/* Parse value for key k into the object at base. */
static int
config_set(struct config_parse *p, const struct config_key *k, void *base,
    const char *value)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	char			 expected[256];
	void			*field = (char *)base + k->offset;
	const char		*name;
	uint64_t		 u;
	int64_t			 d;
	double			 x;
	size_t			 len, n;
	int			 b;

	switch (k->type) {
	case TYPE_PATH:
		len = strlen(value);
		if (*value != '/' || len > k->max)
			goto bad;
		for (n = 0; n < len; n++) {
			if (iscntrl((unsigned char)value[n]))
				goto bad;
		}
		free(*(char **)field);
		*(char **)field = xstrdup(value);
		break;
	case TYPE_FOLDER:
		len = strlen(value);
		name = value + 1;
		if (*value != '/' || len < k->min || len > k->max ||
		    strspn(name, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != len - 1 ||
		    strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			goto bad;
		free(*(char **)field);
		*(char **)field = xstrdup(value);
		break;
	case TYPE_DURATION:
		if (config_parse_duration(value, &d) == -1 ||
		    d < (int64_t)k->min || d > (int64_t)k->max)
			goto bad;
		*(int64_t *)field = d;
		break;
	case TYPE_SIZE:
	case TYPE_COUNT:
	case TYPE_PERCENT:
		if (k->type == TYPE_SIZE) {
			if (config_parse_size(value, &u) == -1)
				goto bad;
		} else if (k->type == TYPE_COUNT) {
			if (config_parse_count(value, &u) == -1)
				goto bad;
		} else {
			len = strlen(value);
			if (len < 2 || len > 4 || value[len - 1] != '%' ||
			    strspn(value, "0123456789") != len - 1)
				goto bad;
			memcpy(expected, value, len - 1);
			expected[len - 1] = '\0';
			if (config_parse_count(expected, &u) == -1)
				goto bad;
		}
		if (u < k->min || u > k->max)
			goto bad;
		if (k->size == sizeof(uint64_t))
			*(uint64_t *)field = u;
		else if (k->size == sizeof(uint32_t))
			*(uint32_t *)field = (uint32_t)u;
		else
			fatalx("%s: %s: bad field size", __func__, k->name);
		break;
	case TYPE_PROB:
		if (config_parse_prob(value, &x) == -1)
			goto bad;
		*(double *)field = x;
		break;
	case TYPE_BOOL:
		if (config_parse_bool(value, &b) == -1)
			goto bad;
		*(int *)field = b;
		break;
	case TYPE_KINDS:
		if (config_parse_kinds(p, value, (unsigned int *)field) == -1)
			return (-1);
		break;
	case TYPE_LISTEN:
		free(*(char **)field);
		*(char **)field = NULL;
		if (strcmp(value, "off") == 0)
			break;
		if (config_listen_addr(value, &ss, &sslen, &name) == -1) {
			config_error(p, 0, "[%s] %s: invalid value '%s': %s",
			    p->section_name, k->name, value, name);
			return (-1);
		}
		*(char **)field = xstrdup(value);
		break;
	case TYPE_COMMAND:
		len = strlen(value);
		for (n = 0; n < len; n++) {
			if (iscntrl((unsigned char)value[n]) &&
			    value[n] != '\t')
				goto bad;
		}
		free(*(char **)field);
		*(char **)field = xstrdup(value);
		break;
	case TYPE_EVENTS:
		if (config_parse_events(p, value, (unsigned int *)field) == -1)
			return (-1);
		break;
	}
	return (0);

bad:
	config_expected(k, expected, sizeof(expected));
	config_error(p, 0, "[%s] %s: invalid value '%s'; expected %s",
	    p->section_name, k->name, value, expected);
	return (-1);
}

/* Set the deadline of the probe kind called name. */
static int
config_set_deadline(struct config_parse *p, const char *name,
    const char *value)
{
	char	kinds[256], lo[32], hi[32];
	int64_t	us;
	int	kind;

	if ((kind = lq_probe_kind_from_name(name)) == -1) {
		config_format_kinds(kinds, sizeof(kinds), ~0U);
		return (config_error(p, 0, "[deadlines] unknown key '%s'; "
		    "expected a probe kind: %s", name, kinds) - 1);
	}
	if (config_parse_duration(value, &us) == -1 || us < DEADLINE_MIN ||
	    us > DEADLINE_MAX) {
		config_format_duration(lo, sizeof(lo), DEADLINE_MIN);
		config_format_duration(hi, sizeof(hi), DEADLINE_MAX);
		return (config_error(p, 0, "[deadlines] %s: invalid value "
		    "'%s'; expected a duration from %s to %s: a whole number "
		    "with a unit ms, s, m or h", name, value, lo, hi) - 1);
	}
	p->cfg->deadline_us[kind] = us;
	return (0);
}

/*
 * The path of a key "port PATH", with any blanks between the two, or
 * NULL once the error is said; others names the other keys allowed.
 */
static const char *
config_port_key(struct config_parse *p, const char *name,
    const char *others)
{
	const char	*port;

	port = name + strcspn(name, " \t");
	if ((size_t)(port - name) != 4 || strncmp(name, "port", 4) != 0 ||
	    *port == '\0') {
		(void)config_error(p, 0, "[%s] unknown key '%s'; expected "
		    "%sport PATH (such as port 1-4.2)", p->section_name, name,
		    others);
		return (NULL);
	}
	port += strspn(port, " \t");
	if (!config_valid_port(port)) {
		(void)config_error(p, 0, "[%s] %s: invalid port path '%s'; "
		    "expected BUS-PORT[.PORT]..., such as 1-4.2",
		    p->section_name, name, port);
		return (NULL);
	}
	return (port);
}

/* Declare the cable of one port fixed: port PATH = LABEL. */
static int
config_set_cable(struct config_parse *p, const char *name,
    const char *value)
{
	struct config_cable	*cc;
	const char		*port, *why;

	if ((port = config_port_key(p, name, "")) == NULL)
		return (-1);
	if ((why = lq_label_invalid(value)) != NULL)
		return (config_error(p, 0, "[cables] %s: invalid label "
		    "'%s': %s", name, value, why) - 1);
	TAILQ_FOREACH(cc, &p->cfg->cables, entry) {
		if (strcmp(cc->port, port) == 0)
			return (config_error(p, 0, "[cables] port %s is "
			    "given twice (first at line %u)", port,
			    cc->line) - 1);
	}
	cc = xcalloc(1, sizeof(*cc));
	cc->port = xstrdup(port);
	cc->label = xstrdup(value);
	cc->line = p->line;
	TAILQ_INSERT_TAIL(&p->cfg->cables, cc, entry);
	return (0);
}

/* Set the default auto-test or that of one port. */
static int
config_set_auto_test(struct config_parse *p, const char *name,
    const char *value)
{
	struct config		*cfg = p->cfg;
	struct config_port	*cp;
	const char		*port;
	char			*profile = NULL;

	if (strcmp(value, "off") != 0) {
		if (!config_valid_name(value)) {
			return (config_error(p, 0, "[auto-test] %s: invalid "
			    "value '%s'; expected off or a profile name",
			    name, value) - 1);
		}
		profile = xstrdup(value);
	}
	if (strcmp(name, "default") == 0) {
		free(cfg->auto_test);
		cfg->auto_test = profile;
		p->auto_test_line = p->line;
		return (0);
	}

	if ((port = config_port_key(p, name, "default or ")) == NULL) {
		free(profile);
		return (-1);
	}
	TAILQ_FOREACH(cp, &cfg->ports, entry) {
		if (strcmp(cp->port, port) == 0) {
			free(profile);
			return (config_error(p, 0, "[auto-test] port %s is "
			    "given twice (first at line %u)", port,
			    cp->line) - 1);
		}
	}
	cp = xcalloc(1, sizeof(*cp));
	cp->port = xstrdup(port);
	cp->profile = profile;
	cp->line = p->line;
	TAILQ_INSERT_TAIL(&cfg->ports, cp, entry);
	return (0);
}

/* Check the section just read (a profile must be complete). */
static int
config_end_section(struct config_parse *p)
{
	struct profile	*pr = p->profile;
	unsigned int	 line = p->section_line;

	config_seen_clear(&p->keys, &p->nkeys);
	if (p->section != SECTION_PROFILE || p->error != NULL)
		return (p->error == NULL ? 0 : -1);
	p->profile = NULL;
	if (p->profile_new && !p->profile_kinds)
		return (config_error(p, line, "[profile %s]: a new profile "
		    "needs kinds", pr->name) - 1);
	if ((pr->kinds & PROFILE_KIND(LQ_PROBE_BULK)) && pr->bulk_bytes == 0)
		return (config_error(p, line, "[profile %s]: kinds include "
		    "bulk, so bulk must be set and above 0", pr->name) - 1);
	if ((pr->kinds & PROFILE_KIND(LQ_PROBE_BULK)) && pr->chunk_bytes == 0)
		return (config_error(p, line, "[profile %s]: kinds include "
		    "bulk, so chunk must be set", pr->name) - 1);
	if (pr->forever && pr->duration_us != 0)
		return (config_error(p, line, "[profile %s]: forever and a "
		    "duration contradict; set duration = 0 or forever = no",
		    pr->name) - 1);
	if (pr->forever && pr->stop_early)
		return (config_error(p, line, "[profile %s]: forever and "
		    "stop-early contradict; set one of them to no",
		    pr->name) - 1);
	if (pr->window_us != 0 && !pr->forever)
		return (config_error(p, line, "[profile %s]: a window is for "
		    "a profile that runs forever; set forever = yes or "
		    "window = 0", pr->name) - 1);
	return (0);
}

/* Start the section named in s ("[...]" without the brackets). */
static int
config_begin_section(struct config_parse *p, char *s)
{
	const struct config_seen	*seen;
	struct profile			*pr;
	char				*name, *end;
	int				 i;

	if (config_end_section(p) == -1)
		return (-1);

	/* Trim blanks inside the brackets. */
	s += strspn(s, " \t");
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';

	p->section = SECTION_NONE;
	for (i = SECTION_DAEMON; i < SECTION_PROFILE; i++) {
		if (strcmp(s, section_names[i]) == 0)
			p->section = i;
	}
	if (p->section == SECTION_NONE) {
		name = s + strcspn(s, " \t");
		if ((size_t)(name - s) != 7 || strncmp(s, "profile", 7) != 0)
			return (config_error(p, 0, "unknown section [%s]; "
			    "expected [daemon], [safety], [verdict], "
			    "[deadlines], [auto-test], [cables], [hooks] "
			    "or [profile NAME]",
			    s) - 1);
		name += strspn(name, " \t");
		if (!config_valid_name(name))
			return (config_error(p, 0, "[%s]: invalid profile "
			    "name '%s'; expected 1 to %d letters, digits, "
			    "'_' or '-' (and not off)", s, name,
			    CONFIG_NAME_MAX) - 1);
		p->section = SECTION_PROFILE;
		free(p->section_name);
		xasprintf(&p->section_name, "profile %s", name);
	} else {
		free(p->section_name);
		p->section_name = xstrdup(s);
	}

	if ((seen = config_seen_find(p->sections, p->nsections,
	    p->section_name)) != NULL)
		return (config_error(p, 0, "section [%s] is given twice "
		    "(first at line %u)", p->section_name, seen->line) - 1);
	config_seen_add(&p->sections, &p->nsections, p->section_name,
	    p->line);
	p->section_line = p->line;

	if (p->section == SECTION_PROFILE) {
		name = p->section_name + 8;
		TAILQ_FOREACH(pr, &p->cfg->profiles, entry) {
			if (strcmp(pr->name, name) == 0)
				break;
		}
		p->profile_new = (pr == NULL);
		p->profile_kinds = 0;
		if (pr == NULL)
			pr = config_add_profile(p->cfg, name);
		p->profile = pr;
	}
	return (0);
}

/*
 * Check [hooks]: a command if anything is set, and one that splits
 * into words, the first an absolute path, unless a shell runs it.
 */
static int
config_end_hooks(struct config_parse *p)
{
	struct config	*cfg = p->cfg;
	const char	*why = NULL;

	if (cfg->hook_command == NULL) {
		if (p->hooks_line == 0)
			return (0);
		return (config_error(p, p->hooks_line, "[hooks] has settings "
		    "but no command; add command = /path/to/program, or "
		    "remove the section") - 1);
	}
	if (cfg->hook_shell)
		return (0);
	if ((cfg->hook_argv = config_split_command(cfg->hook_command,
	    &why)) == NULL)
		return (config_error(p, p->hook_command_line, "[hooks] "
		    "command: cannot split it into words: %s; quote with "
		    "'...' or \"...\" (linkq.conf(5), HOOKS)", why) - 1);
	if (cfg->hook_argv[0][0] != '/')
		return (config_error(p, p->hook_command_line, "[hooks] "
		    "command: the program '%s' must be an absolute path, "
		    "such as /usr/local/bin/linkq-alert: no shell searches "
		    "PATH (shell = no)", cfg->hook_argv[0]) - 1);
	return (0);
}

/* Check what can only be checked once the whole file is read. */
static int
config_end(struct config_parse *p)
{
	struct config		*cfg = p->cfg;
	struct config_port	*cp;
	unsigned int		 line;

	if (config_end_section(p) == -1)
		return (-1);

	if (cfg->p0 >= cfg->p1) {
		line = p->p0_line > p->p1_line ? p->p0_line : p->p1_line;
		return (config_error(p, line, "[verdict] p0 (%g) must be "
		    "less than p1 (%g)", cfg->p0, cfg->p1) - 1);
	}
	if (cfg->alpha + cfg->beta >= 1) {
		line = p->alpha_line > p->beta_line ? p->alpha_line :
		    p->beta_line;
		return (config_error(p, line, "[verdict] alpha + beta (%g + "
		    "%g) must be less than 1", cfg->alpha, cfg->beta) - 1);
	}
	if (cfg->min_probes > cfg->max_probes) {
		line = p->min_probes_line > p->max_probes_line ?
		    p->min_probes_line : p->max_probes_line;
		return (config_error(p, line, "[verdict] min-probes (%llu) "
		    "must not be above max-probes (%llu)",
		    (unsigned long long)cfg->min_probes,
		    (unsigned long long)cfg->max_probes) - 1);
	}

	if (cfg->auto_test != NULL &&
	    config_profile(cfg, cfg->auto_test) == NULL)
		return (config_error(p, p->auto_test_line, "[auto-test] "
		    "default: unknown profile '%s'; define [profile %s] or "
		    "use off", cfg->auto_test, cfg->auto_test) - 1);
	TAILQ_FOREACH(cp, &cfg->ports, entry) {
		if (cp->profile != NULL &&
		    config_profile(cfg, cp->profile) == NULL)
			return (config_error(p, cp->line, "[auto-test] port "
			    "%s: unknown profile '%s'; define [profile %s] or "
			    "use off", cp->port, cp->profile,
			    cp->profile) - 1);
	}
	return (config_end_hooks(p));
}

/*
 * Read the next line for inih: whole, counted, without CR, BOM or leading
 * blanks; section headers are handled here and passed on as "[s]".
 */
static char *
config_reader_cb(char *str, int num, void *arg)
{
	struct config_parse	*p = arg;
	ssize_t			 n;
	size_t			 len;
	char			*s, *end, *eq;

	if (p->error != NULL)
		return (NULL);
	errno = 0;
	if ((n = getline(&p->buf, &p->bufsize, p->f)) == -1) {
		if (ferror(p->f)) {
			xasprintf(&p->error, "%s: %s", p->file,
			    strerror(errno != 0 ? errno : EIO));
		}
		return (NULL);
	}
	p->line++;
	s = p->buf;
	if (memchr(s, '\0', (size_t)n) != NULL) {
		config_error(p, 0, "NUL byte in line");
		return (NULL);
	}
	if (n > 0 && s[n - 1] == '\n')
		s[--n] = '\0';
	if (n > 0 && s[n - 1] == '\r')
		s[--n] = '\0';
	if (p->line == 1 && strncmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;
	s += strspn(s, " \t");
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	len = (size_t)(end - s);

	if (len == 0 || *s == '#' || *s == ';') {
		*str = '\0';
		return (str);
	}
	if (*s == '[') {
		if ((end = strchr(s, ']')) == NULL) {
			config_error(p, 0, "section header without ']'");
			return (NULL);
		}
		*end++ = '\0';
		end += strspn(end, " \t");
		if (*end != '\0' && *end != '#' && *end != ';') {
			config_error(p, 0, "unexpected text after ']': '%s'",
			    end);
			return (NULL);
		}
		if (config_begin_section(p, s + 1) == -1)
			return (NULL);
		(void)strlcpy(str, "[s]", num);
		return (str);
	}
	if (len > CONFIG_LINE_MAX || (int)len >= num) {
		config_error(p, 0, "line too long (%zu characters; at most "
		    "%d)", len, CONFIG_LINE_MAX);
		return (NULL);
	}
	if ((eq = strchr(s, '=')) == NULL || strcspn(s, "=:") <
	    (size_t)(eq - s)) {
		config_error(p, 0, "expected 'key = value', a [section] "
		    "or a comment");
		return (NULL);
	}
	if (eq == s) {
		config_error(p, 0, "no key before '='");
		return (NULL);
	}
	if ((size_t)(eq - s) > CONFIG_KEY_MAX) {
		config_error(p, 0, "key too long (at most %d characters)",
		    CONFIG_KEY_MAX);
		return (NULL);
	}
	(void)strlcpy(str, s, num);
	return (str);
}

/* Apply one "name = value" of the current section. */
static int
config_handler_cb(void *arg, __unused const char *section, const char *name,
    const char *value)
{
	struct config_parse		*p = arg;
	const struct config_key		*k;
	const struct config_seen	*seen;
	void				*base;
	size_t				 i;

	if (p->error != NULL)
		return (0);
	if (p->section == SECTION_NONE)
		return (config_error(p, 0, "'%s' is outside any section; "
		    "start with a [section]", name));
	if ((seen = config_seen_find(p->keys, p->nkeys, name)) != NULL)
		return (config_error(p, 0, "[%s] %s is given twice (first at "
		    "line %u)", p->section_name, name, seen->line));
	config_seen_add(&p->keys, &p->nkeys, name, p->line);
	if (*value == '\0')
		return (config_error(p, 0, "[%s] %s: empty value",
		    p->section_name, name));

	if (p->section == SECTION_DEADLINES)
		return (config_set_deadline(p, name, value) == 0);
	if (p->section == SECTION_AUTO_TEST)
		return (config_set_auto_test(p, name, value) == 0);
	if (p->section == SECTION_CABLES)
		return (config_set_cable(p, name, value) == 0);

	for (i = 0; i < nitems(config_keys); i++) {
		k = &config_keys[i];
		if (k->section == p->section && strcmp(k->name, name) == 0)
			break;
	}
	if (i == nitems(config_keys))
		return (config_error(p, 0, "[%s] unknown key '%s'",
		    p->section_name, name));
	base = p->section == SECTION_PROFILE ? (void *)p->profile :
	    (void *)p->cfg;
	if (config_set(p, k, base, value) == -1)
		return (0);

	if (p->section == SECTION_PROFILE && k->type == TYPE_KINDS)
		p->profile_kinds = 1;
	if (p->section == SECTION_HOOKS && p->hooks_line == 0)
		p->hooks_line = p->line;
	if (k->type == TYPE_COMMAND)
		p->hook_command_line = p->line;
	if (strcmp(name, "p0") == 0)
		p->p0_line = p->line;
	else if (strcmp(name, "p1") == 0)
		p->p1_line = p->line;
	else if (strcmp(name, "alpha") == 0)
		p->alpha_line = p->line;
	else if (strcmp(name, "beta") == 0)
		p->beta_line = p->line;
	else if (strcmp(name, "min-probes") == 0)
		p->min_probes_line = p->line;
	else if (strcmp(name, "max-probes") == 0)
		p->max_probes_line = p->line;
	return (1);
}

/*
 * Read the configuration at path (NULL: LINKQ_CONF) into a new config.
 * A missing file gives the defaults unless required. Returns NULL and
 * sets *cause on error.
 */
struct config *
config_read(const char *path, int required, char **cause)
{
	struct config_parse	 p;
	struct config		*cfg;
	FILE			*f;
	int			 ret;

	*cause = NULL;
	if (path == NULL)
		path = LINKQ_CONF;
	cfg = xcalloc(1, sizeof(*cfg));
	config_init(cfg);
	if ((f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT && !required)
			return (cfg);
		xasprintf(cause, "%s: %s", path, strerror(errno));
		config_free(cfg);
		return (NULL);
	}
	cfg->path = xstrdup(path);

	memset(&p, 0, sizeof(p));
	p.cfg = cfg;
	p.file = path;
	p.f = f;
	p.section_name = xstrdup("");
	ret = ini_parse_stream(config_reader_cb, &p, config_handler_cb, &p);
	if (p.error == NULL && ret > 0)
		config_error(&p, (unsigned int)ret, "syntax error");
	else if (p.error == NULL && ret < 0)
		xasprintf(&p.error, "%s: cannot parse (inih error %d)", path,
		    ret);
	if (p.error == NULL)
		(void)config_end(&p);

	(void)fclose(f);
	free(p.buf);
	free(p.section_name);
	config_seen_clear(&p.keys, &p.nkeys);
	config_seen_clear(&p.sections, &p.nsections);
	if (p.error != NULL) {
		*cause = p.error;
		config_free(cfg);
		return (NULL);
	}
	return (cfg);
}

/* Print key k of the object at base as "name = value". */
static void
config_dump_key(const struct config_key *k, const void *base, FILE *f)
{
	const void	*field = (const char *)base + k->offset;
	char		 buf[256];
	uint64_t	 u;

	u = 0;
	if (k->type == TYPE_SIZE || k->type == TYPE_COUNT ||
	    k->type == TYPE_PERCENT) {
		if (k->size == sizeof(uint64_t))
			u = *(const uint64_t *)field;
		else
			u = *(const uint32_t *)field;
	}
	/* A new profile without bulk has no chunk: leave it unset. */
	if (k->type == TYPE_SIZE && u == 0 && k->min > 0)
		return;
	switch (k->type) {
	case TYPE_PATH:
	case TYPE_FOLDER:
		(void)fprintf(f, "%s = %s\n", k->name,
		    *(char *const *)field);
		return;
	case TYPE_LISTEN:
		(void)fprintf(f, "%s = %s\n", k->name,
		    *(char *const *)field != NULL ? *(char *const *)field :
		    "off");
		return;
	case TYPE_DURATION:
		config_format_duration(buf, sizeof(buf),
		    *(const int64_t *)field);
		break;
	case TYPE_SIZE:
		config_format_size(buf, sizeof(buf), u);
		break;
	case TYPE_COUNT:
		xsnprintf(buf, sizeof(buf), "%llu", (unsigned long long)u);
		break;
	case TYPE_PERCENT:
		xsnprintf(buf, sizeof(buf), "%llu%%", (unsigned long long)u);
		break;
	case TYPE_PROB:
		config_format_double(buf, sizeof(buf),
		    *(const double *)field);
		break;
	case TYPE_BOOL:
		xsnprintf(buf, sizeof(buf), "%s",
		    *(const int *)field ? "yes" : "no");
		break;
	case TYPE_KINDS:
		config_format_kinds(buf, sizeof(buf),
		    *(const unsigned int *)field);
		break;
	case TYPE_COMMAND:
		(void)fprintf(f, "%s = %s\n", k->name,
		    *(char *const *)field);
		return;
	case TYPE_EVENTS:
		config_format_events(buf, sizeof(buf),
		    *(const unsigned int *)field);
		break;
	}
	(void)fprintf(f, "%s = %s\n", k->name, buf);
}

/* Print the effective configuration as a linkq.conf that reads back. */
void
config_dump(const struct config *cfg, FILE *f)
{
	const struct profile		*pr;
	const struct config_port	*cp;
	const struct config_cable	*cc;
	char				 buf[32];
	size_t				 i;
	int				 s, kind;

	(void)fprintf(f, "# linkq.conf: the effective configuration (%s)\n",
	    cfg->path != NULL ? cfg->path : "compiled-in defaults");
	for (s = SECTION_DAEMON; s <= SECTION_VERDICT; s++) {
		(void)fprintf(f, "\n[%s]\n", section_names[s]);
		for (i = 0; i < nitems(config_keys); i++) {
			if ((int)config_keys[i].section == s)
				config_dump_key(&config_keys[i], cfg, f);
		}
	}

	(void)fprintf(f, "\n[deadlines]\n");
	for (kind = 1; kind <= LQ_PROBE_KIND_MAX; kind++) {
		config_format_duration(buf, sizeof(buf),
		    cfg->deadline_us[kind]);
		(void)fprintf(f, "%s = %s\n", lq_probe_kind_name(kind), buf);
	}

	(void)fprintf(f, "\n[auto-test]\ndefault = %s\n",
	    cfg->auto_test != NULL ? cfg->auto_test : "off");
	TAILQ_FOREACH(cp, &cfg->ports, entry) {
		(void)fprintf(f, "port %s = %s\n", cp->port,
		    cp->profile != NULL ? cp->profile : "off");
	}

	(void)fprintf(f, "\n[cables]\n");
	TAILQ_FOREACH(cc, &cfg->cables, entry)
		(void)fprintf(f, "port %s = %s\n", cc->port, cc->label);

	/* Without a command, [hooks] is empty: its keys need one. */
	(void)fprintf(f, "\n[hooks]\n");
	for (i = 0; cfg->hook_command != NULL && i < nitems(config_keys);
	    i++) {
		if (config_keys[i].section == SECTION_HOOKS)
			config_dump_key(&config_keys[i], cfg, f);
	}

	TAILQ_FOREACH(pr, &cfg->profiles, entry) {
		(void)fprintf(f, "\n[profile %s]\n", pr->name);
		for (i = 0; i < nitems(config_keys); i++) {
			if (config_keys[i].section == SECTION_PROFILE)
				config_dump_key(&config_keys[i], pr, f);
		}
	}
}
