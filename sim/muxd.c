/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The simulated usbmuxd as a process: its settings, its listening
 * socket, the clients connected to it, and whether it runs at all.
 *
 * Debian starts usbmuxd 1.1.1 from udev (as a systemd service, which
 * enables exit) when an Apple device arrives, and udev runs
 * "usbmuxd -x" when one leaves (39-usbmuxd.rules.in at tag 1.1.1).
 * That sends SIGUSR1 to the running instance (main.c:545-553), which
 * exits at once if it has no device left, hidden ones included
 * (main.c:124-133, device_get_count(1)): no grace period. It closes its
 * clients (client_shutdown) but never unlinks its socket, which it
 * unlinks and binds again when it next starts (main.c:79-113). So
 * while it is gone the socket file is there and refuses connections.
 *
 * The main loop (linkq-sim.c) accepts on muxd_listen_fd(); any thread
 * that changes the socket writes to the wake-up eventfd so that the
 * loop polls the new one. Lock order: sim_lock, then muxd_mutex.
 */

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat/compat.h"
#include "log.h"
#include "sim.h"
#include "xmalloc.h"

static pthread_mutex_t		muxd_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct mux_settings	settings = { 1, 0, MUX_SPEEDS_111 };
static char			*socket_path;
static int			 wake_fd = -1;

/* Guarded by muxd_mutex. */
static int			 listen_fd = -1;
static int			 running;
static int			 closed;	/* muxd_close(): never again */
static TAILQ_HEAD(, muxd_client) clients = TAILQ_HEAD_INITIALIZER(clients);

/* Take the lock of the process state. */
static void
muxd_lock(void)
{
	if (pthread_mutex_lock(&muxd_mutex) != 0)
		fatalx("%s: pthread_mutex_lock", __func__);
}

/* Release it. */
static void
muxd_unlock(void)
{
	if (pthread_mutex_unlock(&muxd_mutex) != 0)
		fatalx("%s: pthread_mutex_unlock", __func__);
}

/*
 * Take the settings given; the rest are Debian 12's usbmuxd: preflight
 * on, 1.1.1's speeds, and no exit (it is udev's -x that asks for it).
 */
void
muxd_configure(const struct mux_settings *ms)
{
	mux_settings_merge(&settings, ms);
}

/* Whether usbmuxd runs its preflight (not started with -p). */
int
muxd_preflight(void)
{
	return (settings.preflight);
}

/* Whether usbmuxd exits when the last device leaves. */
int
muxd_exit_idle(void)
{
	return (settings.exit_idle);
}

/* How usbmuxd reports a SuperSpeed Plus link. */
enum mux_speeds
muxd_speeds(void)
{
	return ((enum mux_speeds)settings.speeds);
}

/* Tell the main loop that the socket changed. */
static void
muxd_wake(void)
{
	uint64_t	one = 1;

	if (write(wake_fd, &one, sizeof(one)) == -1 && errno != EAGAIN)
		log_warn("%s: eventfd", __func__);
}

/* Bind and listen on the socket path, replaced. Returns the fd. */
static int
muxd_bind(int first)
{
	struct sockaddr_un	sun;
	struct stat		sb;
	int			fd, probe;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, socket_path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		fatalx("socket path %s is too long", socket_path);
	if (lstat(socket_path, &sb) == 0) {
		if (!S_ISSOCK(sb.st_mode))
			fatalx("%s exists and is not a socket", socket_path);
		/* At start, a live socket is someone else's usbmuxd. */
		probe = first ? socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC,
		    0) : -1;
		if (probe != -1 && connect(probe, (struct sockaddr *)&sun,
		    sizeof(sun)) == 0)
			fatalx("%s: a usbmuxd already listens there",
			    socket_path);
		if (probe != -1)
			(void)close(probe);
		if (unlink(socket_path) == -1)
			fatal("unlink %s", socket_path);
	}
	/* Non-blocking: the loop may accept on a socket shut meanwhile. */
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		fatal("socket");
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		fatal("bind %s", socket_path);
	/* libusbmuxd connects non-blocking: a full backlog fails at once. */
	if (listen(fd, SOMAXCONN) == -1)
		fatal("listen %s", socket_path);
	return (fd);
}

/*
 * Start: bind the socket at path. A live socket there belongs to
 * someone else and is left alone; a stale one is replaced.
 */
void
muxd_open(const char *path)
{
	socket_path = xstrdup(path);
	if ((wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		fatal("eventfd");
	muxd_lock();
	listen_fd = muxd_bind(1);
	running = 1;
	muxd_unlock();
}

/* At exit: close the socket and remove it. */
void
muxd_close(void)
{
	muxd_lock();
	if (listen_fd != -1)
		(void)close(listen_fd);
	listen_fd = -1;
	running = 0;
	closed = 1;
	muxd_unlock();
	/* No bind from now on (muxd_start): the path can go. */
	(void)unlink(socket_path);
	free(socket_path);
	socket_path = NULL;
}

/* The socket to accept on, or -1 while usbmuxd is not running. */
int
muxd_listen_fd(void)
{
	int	fd;

	muxd_lock();
	fd = listen_fd;
	muxd_unlock();
	return (fd);
}

/* The eventfd the main loop polls for changes of the socket. */
int
muxd_wake_fd(void)
{
	return (wake_fd);
}

/* The main loop saw the wake-up. */
void
muxd_woken(void)
{
	uint64_t	n;

	if (read(wake_fd, &n, sizeof(n)) == -1 && errno != EAGAIN)
		log_warn("%s: eventfd", __func__);
}

/* Whether usbmuxd runs now. */
int
muxd_running(void)
{
	int	r;

	muxd_lock();
	r = running;
	muxd_unlock();
	return (r);
}

/*
 * Register a client connection so that usbmuxd's exit can close it.
 * Returns -1 if usbmuxd exited since it was accepted.
 */
int
muxd_client_add(struct muxd_client *c, int fd)
{
	int	ret = -1;

	c->fd = fd;
	muxd_lock();
	if (running) {
		TAILQ_INSERT_TAIL(&clients, c, entry);
		ret = 0;
	}
	muxd_unlock();
	return (ret);
}

/* Forget a client; call before closing its socket. */
void
muxd_client_remove(struct muxd_client *c)
{
	muxd_lock();
	TAILQ_REMOVE(&clients, c, entry);
	muxd_unlock();
}

/*
 * A device was plugged: udev starts usbmuxd if it is not running. It
 * unlinks the socket left behind and binds it again (main.c:79-113)
 * before it looks for devices, so the socket is there before the
 * device is announced. Returns 1 if it started. Call with the sim lock
 * held.
 */
int
muxd_start(void)
{
	int	started = 0;

	muxd_lock();
	/*
	 * Not once the process is shutting down: the clock thread, which
	 * stops after muxd_close(), may still re-enumerate a device.
	 */
	if (!running && !closed) {
		listen_fd = muxd_bind(0);
		running = started = 1;
		log_info("usbmuxd: started again for a plugged device");
		muxd_wake();
	}
	muxd_unlock();
	return (started);
}

/*
 * usbmuxd is restarted by hand (systemctl restart): it closes every
 * client and its socket and binds it again at once. The devices it
 * shows stay, announced again to whoever sends Listen. 0, or -1 with
 * *cause while it is not running.
 */
int
muxd_restart(char **cause)
{
	struct muxd_client	*c;
	int			 ret = 0;

	muxd_lock();
	if (running) {
		TAILQ_FOREACH(c, &clients, entry)
			(void)shutdown(c->fd, SHUT_RDWR);
		(void)close(listen_fd);
		listen_fd = muxd_bind(0);
		log_info("usbmuxd: restarted");
		muxd_wake();
	} else {
		xasprintf(cause, "usbmuxd is not running (it exited when the "
		    "last device left): plug one in to start it");
		ret = -1;
	}
	muxd_unlock();
	return (ret);
}

/* Whether usbmuxd has a device, hidden or not. Sim lock held. */
static int
muxd_has_device(void)
{
	struct sim_device	*dev;

	for (dev = device_first(); dev != NULL; dev = device_next(dev)) {
		if (dev->plugged)
			return (1);
	}
	return (0);
}

/*
 * udev saw a device leave and ran "usbmuxd -x": with exit enabled and
 * no device left, usbmuxd closes every client (client_shutdown) and its
 * listening socket and exits. The socket file stays (1.1.1 never
 * unlinks it), so connecting is refused until the next plug.
 */
void
muxd_udev_remove(void)
{
	struct muxd_client	*c;

	if (!settings.exit_idle)
		return;
	sim_lock();
	muxd_lock();
	if (running && !muxd_has_device()) {
		running = 0;
		TAILQ_FOREACH(c, &clients, entry)
			(void)shutdown(c->fd, SHUT_RDWR);
		(void)close(listen_fd);
		listen_fd = -1;
		log_info("usbmuxd: no device left, exiting (usbmuxd -x)");
		muxd_wake();
	}
	muxd_unlock();
	sim_unlock();
}
