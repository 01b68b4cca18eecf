/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * linkq-sim: a usbmuxd and the iPhones behind it, speaking the real
 * protocols, so that linkqd and libimobiledevice's own tools run without
 * a phone. main() parses the command line, makes the devices, binds the
 * usbmuxd socket, announces it on standard output and accepts clients,
 * each on a thread of its own (conn.h), until SIGTERM or SIGINT. With
 * --umockdev it also keeps a umockdev testbed (umockdev.h), announced
 * as UMOCKDEV_DIR=... before the socket.
 */

#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat/compat.h"
#include "linkq.h"
#include "log.h"
#include "bench.h"
#include "clock.h"
#include "control.h"
#include "kernel.h"
#include "link.h"
#include "scenario.h"
#include "sim.h"
#include "sysfs.h"
#include "umockdev.h"
#include "xmalloc.h"

#define SIM_THREAD_STACK	(256 * 1024)

struct sim_options {
	const char	*socket_path;
	const char	*control_path;
	const char	*kmsg_path;
	const char	*usbmon_path;
	const char	*state_dir;
	const char	*sysfs_root;
	const char	*send;
	struct mux_settings mux;	/* --usbmuxd */
	int		 no_timeline;
	int		 no_ceiling;
	int		 umockdev;
	const char	*scenario;
	int		 has_seed;
	uint64_t	 seed;
	int		 verbose;
};

static __dead void
usage(void)
{
	(void)fprintf(stderr, "usage: linkq-sim [-v] [--control PATH] "
	    "[--kmsg PATH] [--no-ceiling] [--seed N]\n"
	    "                 [--socket PATH] [--no-timeline] [--state DIR] "
	    "[--sysfs DIR]\n"
	    "                 [--umockdev] [--usbmon PATH] "
	    "[--usbmuxd SETTINGS] [scenario]\n"
	    "       linkq-sim --control PATH --send JSON\n");
	exit(2);
}

/* A UUID-shaped string from the seeded generator, uppercase. */
static void
sim_uuid(char *buf, size_t size)
{
	unsigned int	r[4];
	size_t		i;

	for (i = 0; i < nitems(r); i++)
		r[i] = (unsigned int)random();
	(void)snprintf(buf, size, "%08X-%04X-%04X-%04X-%04X%08X", r[0],
	    r[1] >> 16, r[1] & 0xffff, r[2] >> 16, r[2] & 0xffff, r[3]);
}

/*
 * Read the BUID kept in the state directory, or make one (and keep it
 * there) so that pair records stay valid across restarts.
 */
static char *
sim_buid(const char *state_dir)
{
	char	 buf[64], *path;
	FILE	*fp;
	size_t	 n;

	sim_uuid(buf, sizeof(buf));
	if (state_dir == NULL)
		return (xstrdup(buf));
	xasprintf(&path, "%s/buid", state_dir);
	if ((fp = fopen(path, "r")) != NULL) {
		n = fread(buf, 1, sizeof(buf) - 1, fp);
		buf[n] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		(void)fclose(fp);
		if (strlen(buf) != 36)
			fatalx("%s: not a BUID; remove it to make a new one",
			    path);
	} else if (errno == ENOENT) {
		if ((fp = fopen(path, "w")) == NULL ||
		    fprintf(fp, "%s\n", buf) < 0 || fclose(fp) == EOF)
			fatal("%s", path);
	} else
		fatal("%s", path);
	free(path);
	return (xstrdup(buf));
}

/* Thread body: serve one usbmuxd client. */
static void *
sim_client_thread(void *arg)
{
	int	fd = *(int *)arg;

	free(arg);
	mux_serve(fd);
	return (NULL);
}

/* Start a detached, small-stack thread for a new client. */
static void
sim_start_client(int fd)
{
	pthread_attr_t	 attr;
	pthread_t	 tid;
	int		*arg;

	arg = xmalloc(sizeof(*arg));
	*arg = fd;
	if (pthread_attr_init(&attr) != 0 ||
	    pthread_attr_setstacksize(&attr, SIM_THREAD_STACK) != 0 ||
	    pthread_attr_setdetachstate(&attr,
	    PTHREAD_CREATE_DETACHED) != 0)
		fatalx("pthread_attr");
	if (pthread_create(&tid, &attr, sim_client_thread, arg) != 0) {
		log_warnx("cannot start a thread for a client; closing it");
		(void)close(fd);
		free(arg);
	}
	(void)pthread_attr_destroy(&attr);
}

/*
 * Accept clients until a terminating signal arrives. usbmuxd's socket
 * comes and goes (muxd.c): poll whichever it is now, -1 while usbmuxd
 * has exited, and look again when muxd.c says it changed.
 */
static void
sim_loop(int sig_fd)
{
	struct pollfd			pfd[3];
	struct signalfd_siginfo		si;
	int				fd, listen_fd;

	pfd[0].events = POLLIN;
	pfd[1].fd = sig_fd;
	pfd[1].events = POLLIN;
	pfd[2].fd = muxd_wake_fd();
	pfd[2].events = POLLIN;
	for (;;) {
		pfd[0].fd = listen_fd = muxd_listen_fd();
		if (poll(pfd, 3, -1) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (pfd[1].revents & POLLIN) {
			if (read(sig_fd, &si, sizeof(si)) == sizeof(si))
				log_info("signal %u: exiting", si.ssi_signo);
			return;
		}
		if (pfd[2].revents & POLLIN) {
			muxd_woken();
			continue;
		}
		if (listen_fd == -1 || !(pfd[0].revents & POLLIN))
			continue;
		fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd == -1) {
			/* EINVAL, EBADF: usbmuxd exited meanwhile. */
			if (errno != EINTR && errno != EAGAIN &&
			    errno != ECONNABORTED && errno != EINVAL &&
			    errno != EBADF)
				log_warn("accept");
			continue;
		}
		sim_start_client(fd);
	}
}

/* The default socket path: private to this user, never usbmuxd's own. */
static char *
sim_default_socket(void)
{
	const char	*tmp;
	char		*dir, *path;

	if ((tmp = getenv("TMPDIR")) == NULL || *tmp == '\0')
		tmp = "/tmp";
	xasprintf(&dir, "%s/linkq-sim-%ld", tmp, (long)getuid());
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		fatal("mkdir %s", dir);
	xasprintf(&path, "%s/usbmuxd", dir);
	free(dir);
	return (path);
}

/*
 * The bench without a scenario file: one paired, healthy device plugged
 * into port 1-1 through cable sim-good at once.
 */
static struct scenario *
sim_default_scenario(void)
{
	struct scenario	*scn;
	char		*cause;

	scn = scenario_parse("device phone\n"
	    "port 1-1 path=1-1\n"
	    "cable sim-good\n"
	    "at 0s plug phone 1-1 sim-good\n", "(default)", &cause);
	if (scn == NULL)
		fatalx("default scenario: %s", cause);
	return (scn);
}

/* Build the bench of a scenario and start its timeline. */
static void
sim_build(const struct sim_options *o, struct scenario *scn)
{
	struct scn_device	*sd;
	struct scn_port		*sp;
	struct scn_cable	*sc;
	struct sim_device	*dev;
	char			*cause, *record;
	uint32_t		 len;

	TAILQ_FOREACH(sp, &scn->ports, entry)
		bench_add_port(sp);
	TAILQ_FOREACH(sc, &scn->cables, entry)
		bench_add_cable(sc);
	TAILQ_FOREACH(sd, &scn->devices, entry) {
		dev = bench_add_device(sd, mux_buid(), o->state_dir, &cause);
		if (dev == NULL)
			fatalx("device %s: %s", sd->name, cause);
		if (sd->trust == SIM_TRUST_UNPAIRED)
			continue;
		/* usbmuxd keeps the record of a host that paired before. */
		if (pair_record(&dev->pairing, &record, &len) == -1)
			fatalx("device %s: cannot encode its pair record",
			    sd->name);
		(void)mux_record_put(dev->udid, record, len);
		free(record);
	}
	bench_add_hubs();
	clock_start();
	if (!o->no_timeline)
		bench_schedule(scn);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "control", required_argument, NULL, 'c' },
		{ "kmsg", required_argument, NULL, 'k' },
		{ "no-ceiling", no_argument, NULL, 'C' },
		{ "no-timeline", no_argument, NULL, 'N' },
		{ "seed", required_argument, NULL, 'S' },
		{ "send", required_argument, NULL, 'x' },
		{ "socket", required_argument, NULL, 's' },
		{ "state", required_argument, NULL, 't' },
		{ "sysfs", required_argument, NULL, 'y' },
		{ "umockdev", no_argument, NULL, 'U' },
		{ "usbmon", required_argument, NULL, 'u' },
		{ "usbmuxd", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct sim_options	 o;
	struct scenario		*scn;
	struct sigaction	 sa;

	sigset_t		 mask;
	const char		*errstr;
	char			*buid, *socket_path, *cause;
	int			 ch, sig_fd;

	memset(&o, 0, sizeof(o));
	o.seed = 1;
	mux_settings_init(&o.mux);
	while ((ch = getopt_long(argc, argv, "hv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o.control_path = optarg;
			break;
		case 'k':
			o.kmsg_path = optarg;
			break;
		case 'C':
			o.no_ceiling = 1;
			break;
		case 'N':
			o.no_timeline = 1;
			break;
		case 'S':
			o.seed = (uint64_t)strtonum(optarg, 0, LLONG_MAX,
			    &errstr);
			if (errstr != NULL) {
				(void)fprintf(stderr, "linkq-sim: --seed "
				    "%s: %s\n", optarg, errstr);
				exit(2);
			}
			o.has_seed = 1;
			break;
		case 'u':
			o.usbmon_path = optarg;
			break;
		case 'M':
			if (mux_settings_parse(&o.mux, optarg, &cause) == -1) {
				(void)fprintf(stderr, "linkq-sim: --usbmuxd: "
				    "%s\n", cause);
				exit(2);
			}
			break;
		case 'y':
			o.sysfs_root = optarg;
			break;
		case 'U':
			o.umockdev = 1;
			break;
		case 'x':
			o.send = optarg;
			break;
		case 's':
			o.socket_path = optarg;
			break;
		case 't':
			o.state_dir = optarg;
			break;
		case 'v':
			o.verbose++;
			break;
		default:
			usage();
		}
	}
	if (argc - optind > 1)
		usage();
	if (optind < argc)
		o.scenario = argv[optind];
	log_init(LOG_TO_STDERR, o.verbose, "linkq-sim");
	if (o.send != NULL) {
		if (o.control_path == NULL) {
			(void)fprintf(stderr, "linkq-sim: --send needs "
			    "--control PATH\n");
			exit(2);
		}
		return (control_send(o.control_path, o.send));
	}
	if (o.scenario != NULL) {
		if ((scn = scenario_load(o.scenario, &cause)) == NULL) {
			(void)fprintf(stderr, "linkq-sim: %s\n", cause);
			exit(2);
		}
	} else
		scn = sim_default_scenario();
	if (!o.has_seed && scn->has_seed)
		o.seed = scn->seed;
	/* The command line wins over the scenario, setting by setting. */
	muxd_configure(&scn->mux);
	muxd_configure(&o.mux);
	srandom((unsigned int)o.seed);
	bench_init(o.seed);
	link_set_ceiling(!o.no_ceiling);
	if (kernel_open(o.kmsg_path, o.usbmon_path, &cause) == -1 ||
	    sysfs_open(o.sysfs_root, &cause) == -1)
		fatalx("%s", cause);

	/* Signals: clients' threads never see them; the loop reads them. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		fatal("sigaction");
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (pthread_sigmask(SIG_BLOCK, &mask, NULL) != 0)
		fatalx("pthread_sigmask");
	if ((sig_fd = signalfd(-1, &mask, SFD_CLOEXEC)) == -1)
		fatal("signalfd");
	/* After the mask: umockdev's worker thread inherits it. */
	if (o.umockdev && umockdev_open(&cause) == -1) {
		(void)fprintf(stderr, "linkq-sim: %s\n", cause);
		exit(1);
	}

	if (o.state_dir != NULL && mkdir(o.state_dir, 0700) == -1 &&
	    errno != EEXIST)
		fatal("mkdir %s", o.state_dir);
	buid = sim_buid(o.state_dir);
	mux_init(buid);
	free(buid);
	/* Bound before the timeline starts: a plug at 0s may restart it. */
	socket_path = o.socket_path != NULL ? xstrdup(o.socket_path) :
	    sim_default_socket();
	muxd_open(socket_path);
	sim_build(&o, scn);
	if (o.control_path != NULL &&
	    control_start(o.control_path, &cause) == -1)
		fatalx("%s", cause);

	if (umockdev_root() != NULL)
		(void)printf("UMOCKDEV_DIR=%s\n", umockdev_root());
	(void)printf("USBMUXD_SOCKET_ADDRESS=UNIX:%s\n", socket_path);
	if (fflush(stdout) == EOF)
		fatal("stdout");

	sim_loop(sig_fd);
	/*
	 * Shut down in order: no new clients, no more timeline (it points
	 * into the scenario), then cut every client and wait for its
	 * thread, so that nothing runs while the process exits.
	 */
	muxd_close();
	control_stop();
	clock_stop();
	if (conn_live_drain(5000) > 0)
		log_warnx("some clients did not finish in 5 s");
	umockdev_close();
	scenario_free(scn);
	if (o.control_path != NULL)
		(void)unlink(o.control_path);
	free(socket_path);
	return (0);
}
