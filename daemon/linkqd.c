/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * linkqd: the link-qualification daemon. main() reads the options and
 * the configuration, opens the store, starts the control API and the
 * usbmuxd subscription, and runs the libevent loop on this thread until
 * SIGTERM or SIGINT; SIGHUP reloads the configuration, keeping the old
 * one if the new one is invalid.
 *
 * The store commits on a timer of its own (store_attach_loop), armed
 * when a write happens, so an idle daemon never wakes up.
 */

#include <sys/prctl.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>
#include <libusb.h>
#include <sqlite3.h>

#include "compat/compat.h"
#include "config.h"
#include "api.h"
#include "child.h"
#include "child-main.h"
#include "devices.h"
#include "events.h"
#include "hooks.h"
#include "kmsg.h"
#include "usb.h"
#include "linkq.h"
#include "log.h"
#include "lq-time.h"
#include "metrics.h"
#include "muxwatch.h"
#include "retention.h"
#include "run.h"
#include "service.h"
#include "store.h"
#include "usbmon.h"
#include "watch.h"
#include "worker.h"
#include "xmalloc.h"

struct linkqd {
	struct event_base	*base;
	struct config		*config;
	const char		*config_path;
	int			 config_required;	/* -f given */
	const char		*socket_override;	/* -s */
	const char		*db_override;		/* --db */
	struct store		*store;
	struct event		*signals[3];
	int			 nsignals;
};

static struct linkqd	 d;

/* The usage line; with -h, each option too, on standard output. */
static __dead void
usage(int help)
{
	FILE	*f = help ? stdout : stderr;

	(void)fprintf(f, "usage: linkqd [-dhnVv] [-f config] [-s socket] "
	    "[--db path]\n");
	if (help)
		(void)fprintf(f, "\n"
		    "  -d            stay in the foreground, log to standard "
		    "error\n"
		    "  -f config     read config (default %s)\n"
		    "  -h, --help    print this help and exit\n"
		    "  -n            check the configuration and exit (-nv "
		    "prints it)\n"
		    "  -s socket     listen on socket (default %s)\n"
		    "  -V, --version print the version and the libraries' "
		    "and exit\n"
		    "  -v            log more; -vv more still\n"
		    "  --db path     use the database at path (default %s)\n"
		    "\nSIGHUP reloads the configuration; SIGTERM stops. "
		    "See linkqd(8).\n", LINKQ_CONF, LINKQ_SOCKET,
		    LINKQ_DB);
	exit(help ? 0 : 2);
}

/* linkqd's version and those of the libraries it runs with. */
static __dead void
version(void)
{
	const struct libusb_version	*u = libusb_get_version();

	(void)printf("linkqd %s\n", LINKQ_VERSION);
	(void)printf("libevent %s\n", event_get_version());
	(void)printf("SQLite %s\n", sqlite3_libversion());
	(void)printf("libusb %u.%u.%u%s\n", u->major, u->minor, u->micro,
	    u->rc != NULL ? u->rc : "");
	(void)printf("jansson %s\n", jansson_version_str());
	/* libimobiledevice (1.3.0 in Debian 12) has no version call. */
	exit(0);
}

/*
 * A finding of the kernel's log goes to the devices; a "USB disconnect"
 * also tells usbmon that the link errors it holds for that device were
 * the unplug's.
 */
static void
linkqd_kernel_finding(const struct kmsg_finding *f, const char *text,
    int64_t ts_us)
{
	if (f->disconnect && f->bus > 0 && f->devnum > 0)
		usbmon_device_gone(f->bus, f->devnum);
	devices_kernel_finding(f, text, ts_us);
}

/*
 * Children hold none of linkqd's capabilities. The service unit gives
 * linkqd CAP_SYSLOG as an ambient capability, to read /dev/kmsg, and an
 * ambient capability survives execve(2) (capabilities(7)): without this
 * every worker and every hook command would hold it too. linkqd keeps
 * it in its own permitted and effective sets, where a reopen of
 * /dev/kmsg needs it.
 */
static void
linkqd_keep_capabilities(void)
{
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1)
		log_warn("cannot clear the ambient capabilities; workers and "
		    "hooks inherit them");
}

/* Read the configuration with the command line's overrides applied. */
static struct config *
linkqd_read_config(char **cause)
{
	struct config	*c;

	if ((c = config_read(d.config_path, d.config_required, cause)) ==
	    NULL)
		return (NULL);
	if (d.socket_override != NULL) {
		free(c->socket_path);
		c->socket_path = xstrdup(d.socket_override);
	}
	if (d.db_override != NULL) {
		free(c->db_path);
		c->db_path = xstrdup(d.db_override);
	}
	return (c);
}

/* SIGTERM, SIGINT: leave the loop; main shuts down in order. */
static void
linkqd_exit_cb(evutil_socket_t sig, short what, void *unused)
{
	(void)what;
	(void)unused;
	log_info("signal %d: shutting down", (int)sig);
	service_stopping();
	(void)event_base_loopexit(d.base, NULL);
}

/* Whether two settings that may be unset (NULL) are the same. */
static int
linkqd_same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (strcmp(a, b) == 0);
}

/* SIGHUP: reload the configuration; keep the old one on any error. */
static void
linkqd_reload_cb(evutil_socket_t sig, short what, void *unused)
{
	struct config	*c;
	char		*cause;

	(void)sig;
	(void)what;
	(void)unused;
	service_reloading();
	if ((c = linkqd_read_config(&cause)) == NULL) {
		log_warnx("reload: %s; keeping the running configuration",
		    cause);
		free(cause);
		service_reloaded();
		return;
	}
	if (strcmp(c->socket_path, d.config->socket_path) != 0 ||
	    strcmp(c->db_path, d.config->db_path) != 0 ||
	    strcmp(c->kmsg_path, d.config->kmsg_path) != 0 ||
	    strcmp(c->usbmon_path, d.config->usbmon_path) != 0 ||
	    !linkqd_same(c->metrics_listen, d.config->metrics_listen))
		log_warnx("reload: a new socket, database, kmsg or usbmon path "
		    "or metrics-listen takes effect at the next start");
	/* The paths in use stay those of the running configuration. */
	free(c->socket_path);
	c->socket_path = xstrdup(d.config->socket_path);
	free(c->metrics_listen);
	c->metrics_listen = d.config->metrics_listen != NULL ?
	    xstrdup(d.config->metrics_listen) : NULL;
	free(c->db_path);
	c->db_path = xstrdup(d.config->db_path);
	config_free(d.config);
	d.config = c;
	devices_set_config(c);
	hooks_set_config(c);
	store_set_interval(d.store, c->flush_us);
	api_set_config(c);
	retention_set_days(c->retention_days);
	log_info("reload: configuration %s read", c->path != NULL ?
	    c->path : "(defaults)");
	service_reloaded();
}

/* Route libevent's own messages into our log. */
static void
linkqd_event_log_cb(int severity, const char *msg)
{
	if (severity >= EVENT_LOG_WARN)
		log_warnx("libevent: %s", msg);
	else
		log_debug("libevent: %s", msg);
}

/* Add a persistent signal event. */
static void
linkqd_signal(int sig, event_callback_fn fn)
{
	struct event	*ev;

	if ((size_t)d.nsignals >= nitems(d.signals) ||
	    (ev = evsignal_new(d.base, sig, fn, NULL)) == NULL ||
	    event_add(ev, NULL) == -1)
		fatalx("cannot handle signal %d", sig);
	d.signals[d.nsignals++] = ev;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct sigaction	 sa;
	char			*cause;
	int			 ch, debug = 0, check_only = 0, verbose = 0;

	/* A device's worker process (child-main.h), started by child.c. */
	if (argc > 1 && strcmp(argv[1], CHILD_ARG) == 0)
		child_main(argc, argv);

	d.config_path = LINKQ_CONF;
	while ((ch = getopt_long(argc, argv, "df:hns:Vv", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'd':
			debug = 1;
			break;
		case 'D':
			d.db_override = optarg;
			break;
		case 'f':
			d.config_path = optarg;
			d.config_required = 1;
			break;
		case 'h':
			usage(1);
		case 'n':
			check_only = 1;
			break;
		case 's':
			d.socket_override = optarg;
			break;
		case 'V':
			version();
		case 'v':
			verbose++;
			break;
		default:
			usage(0);
		}
	}
	if (optind != argc)
		usage(0);

	log_init(LOG_TO_STDERR, verbose, "linkqd");
	if ((d.config = linkqd_read_config(&cause)) == NULL) {
		(void)fprintf(stderr, "linkqd: %s\n", cause);
		return (1);
	}
	if (check_only) {
		if (verbose > 0)
			config_dump(d.config, stdout);
		(void)fprintf(stderr, "linkqd: configuration %s is valid\n",
		    d.config->path != NULL ? d.config->path : "(defaults)");
		return (0);
	}
	if (!debug)
		log_init(LOG_TO_SYSLOG, verbose, "linkqd");
	service_log_init();
	linkqd_keep_capabilities();
	log_info("linkqd %s starting: libevent %s, SQLite %s", LINKQ_VERSION,
	    event_get_version(), sqlite3_libversion());

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		fatal("sigaction");
	event_set_log_callback(linkqd_event_log_cb);
	if ((d.base = event_base_new()) == NULL)
		fatalx("event_base_new");
	linkqd_signal(SIGTERM, linkqd_exit_cb);
	linkqd_signal(SIGINT, linkqd_exit_cb);
	linkqd_signal(SIGHUP, linkqd_reload_cb);
	service_init(d.base);

	if ((d.store = store_open(d.config->db_path, 0, &cause)) == NULL)
		fatalx("%s", cause);
	store_attach_loop(d.store, d.base, d.config->flush_us);
	if (worker_init(d.base) == -1)
		fatalx("cannot start the worker machinery");
	children_init(d.base, debug);
	hooks_init(d.base, d.config);
	events_init(d.store);
	runs_init(d.base, d.store);
	watch_init(d.base, d.store);
	devices_init(d.base, d.store, d.config);
	metrics_init(d.store, devices_host_id());
	kmsg_start(d.base, d.config->kmsg_path, linkqd_kernel_finding);
	usbmon_start(d.base, d.config->usbmon_path, devices_usbmon_finding);
	(void)usb_start(d.base, d.config->sysfs_root, devices_usb_event);
	retention_start(d.base, d.store, d.config->retention_days);
	api_set_config(d.config);
	api_set_store(d.store);
	if (api_start(d.base, d.config->socket_path, d.config->db_path,
	    &cause) == -1)
		fatalx("%s", cause);
	if (d.config->metrics_listen != NULL &&
	    api_listen_tcp(d.config->metrics_listen, &cause) == -1)
		fatalx("%s", cause);
	if (muxwatch_start(d.base, d.config->usbmuxd_retry_us,
	    devices_mux_event, NULL) == -1)
		fatalx("cannot follow usbmuxd's devices");
	log_info("listening on %s", d.config->socket_path);
	service_ready();

	if (event_base_dispatch(d.base) == -1)
		fatalx("event_base_dispatch");

	/*
	 * In order: no new devices, no kernel messages and no usbmon (what
	 * they held back is dropped); running runs end interrupted, with
	 * their probes cut (those on the loop are let back); the streams
	 * end before evhttp goes; the workers finish and their last jobs
	 * come back while the store is still open; then the runs can go,
	 * and the store commits last.
	 */
	muxwatch_stop();
	kmsg_stop();
	usbmon_stop();
	/* No hook starts from here on; those running are ended now. */
	hooks_shutdown();
	runs_shutdown();
	watch_shutdown();
	usb_drain();
	events_done();
	api_stop();
	devices_clear();
	children_shutdown();
	worker_shutdown();
	runs_free();
	watch_free();
	usb_stop();
	retention_stop();
	metrics_free();
	service_free();
	store_close(d.store);
	while (d.nsignals > 0)
		event_free(d.signals[--d.nsignals]);
	event_base_free(d.base);
	config_free(d.config);
	log_info("stopped");
	return (0);
}
