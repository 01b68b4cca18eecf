/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The simulated devices: their identity, keys, filesystem, where they
 * are plugged, and the connections and service ports they have open.
 * Everything mutable is guarded by the one simulator lock (sim.h).
 */

#include <sys/socket.h>

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "afc.h"
#include "hostile.h"
#include "log.h"
#include "sim.h"
#include "xmalloc.h"

/* What the AFC filesystem reports as its size: a 64 GB phone. */
#define DEVICE_CAPACITY		(UINT64_C(64) * 1000 * 1000 * 1000)
#define DEVICE_FIRST_PORT	49152

static pthread_mutex_t		sim_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct sim_devices	devices = TAILQ_HEAD_INITIALIZER(devices);
static uint32_t			last_mux_id;

/* Take the simulator lock. */
void
sim_lock(void)
{
	if (pthread_mutex_lock(&sim_mutex) != 0)
		fatalx("%s: pthread_mutex_lock", __func__);
}

/* Release the simulator lock. */
void
sim_unlock(void)
{
	if (pthread_mutex_unlock(&sim_mutex) != 0)
		fatalx("%s: pthread_mutex_unlock", __func__);
}

/*
 * Make a device as the scenario describes it (udid filled in by the
 * caller) with its keys, loaded from state_dir when it holds them, else
 * generated and saved there, and a populated filesystem. index seeds
 * its random streams. The device starts unplugged. Returns NULL with
 * *cause set on failure.
 */
struct sim_device *
device_create(const struct scn_device *sd, const char *udid,
    const char *buid, const char *state_dir, uint64_t index, char **cause)
{
	struct sim_device	*dev;
	int			 loaded = 0;

	dev = xcalloc(1, sizeof(*dev));
	dev->bench_name = xstrdup(sd->name);
	dev->udid = xstrdup(udid);
	dev->name = xstrdup(sd->device_name != NULL ? sd->device_name :
	    "linkq-sim iPhone");
	dev->product_type = xstrdup(sd->product_type != NULL ?
	    sd->product_type : "iPhone12,1");
	dev->product_version = xstrdup(sd->version != NULL ? sd->version :
	    "17.4");
	dev->build_version = xstrdup("21E219");
	dev->hardware_model = xstrdup("N104AP");
	dev->serial = xstrdup("F2LZK0ABN72J");
	dev->product_id = 0x12a8;
	dev->max_speed_mbps = sd->max_speed_mbps > 0 ? sd->max_speed_mbps :
	    480;
	dev->index = index;
	dev->trust = sd->trust;
	hostile_set(dev, (enum hostile_kind)sd->hostile);
	dev->next_port = DEVICE_FIRST_PORT;
	TAILQ_INIT(&dev->ports);
	TAILQ_INIT(&dev->conns);

	if (state_dir != NULL) {
		dev->state_dir = xstrdup(state_dir);
		loaded = pair_load(&dev->pairing, state_dir, udid, cause);
		if (loaded == -1)
			goto fail;
	}
	if (!loaded) {
		if (pair_generate(&dev->pairing, udid, buid, cause) == -1)
			goto fail;
		if (state_dir != NULL &&
		    pair_save(&dev->pairing, state_dir, cause) == -1)
			goto fail;
	}
	dev->fs = afc_fs_create(DEVICE_CAPACITY);
	afc_fs_populate(dev->fs);

	sim_lock();
	TAILQ_INSERT_TAIL(&devices, dev, entry);
	sim_unlock();
	return (dev);

fail:
	pair_release(&dev->pairing);
	free(dev->bench_name);
	free(dev->state_dir);
	free(dev->udid);
	free(dev->name);
	free(dev->product_type);
	free(dev->product_version);
	free(dev->build_version);
	free(dev->hardware_model);
	free(dev->serial);
	free(dev);
	return (NULL);
}

/*
 * Make a device visible to usbmuxd: it gets a new DeviceID, as a real
 * device does each time it enumerates. The caller announces it
 * (Attached). Call with the lock held.
 */
void
device_plug(struct sim_device *dev, int bus, int devnum, uint64_t speed_bps)
{
	dev->plugged = 1;
	dev->mux_id = ++last_mux_id;
	dev->bus = bus;
	dev->devnum = devnum;
	dev->speed_bps = speed_bps;
}

/*
 * usbmuxd started again for dev: a new process numbers its devices from
 * 1 (device_init sets next_device_id = 1, device.c:1002 at tag 1.1.1),
 * and dev is its only one. Call with the lock held.
 */
void
device_mux_restarted(struct sim_device *dev)
{
	last_mux_id = 0;
	dev->mux_id = ++last_mux_id;
}

/*
 * Take a device out of usbmuxd: cut every connection relayed to it and
 * forget its service ports, as usbmuxd does before it sends Detached
 * (which is the caller's to send). Call with the lock held.
 */
void
device_unplug(struct sim_device *dev)
{
	struct sim_link_conn	*lc;
	struct sim_service_port	*sp;

	dev->plugged = 0;
	dev->visible = 0;
	/* usbmuxd's preflight stops waiting (preflight_device_remove_cb). */
	dev->preflight_wait = 0;
	/* Blocked reads and writes on the sockets return at once. */
	TAILQ_FOREACH(lc, &dev->conns, entry)
		(void)shutdown(lc->conn->fd, SHUT_RDWR);
	while ((sp = TAILQ_FIRST(&dev->ports)) != NULL) {
		TAILQ_REMOVE(&dev->ports, sp, entry);
		free(sp);
	}
}

/* Find a plugged device by usbmuxd DeviceID. Call with the lock held. */
struct sim_device *
device_find_mux_id(uint32_t id)
{
	struct sim_device	*dev;

	TAILQ_FOREACH(dev, &devices, entry) {
		if (dev->plugged && dev->mux_id == id)
			return (dev);
	}
	return (NULL);
}

/* Iterate over all devices. Call with the lock held. */
struct sim_device *
device_first(void)
{
	return (TAILQ_FIRST(&devices));
}

/* Return the device after dev, or NULL. Call with the lock held. */
struct sim_device *
device_next(struct sim_device *dev)
{
	return (TAILQ_NEXT(dev, entry));
}

/* Register a connection relayed to dev, so that unplugging cuts it. */
void
device_add_conn(struct sim_device *dev, struct sim_link_conn *lc)
{
	sim_lock();
	TAILQ_INSERT_TAIL(&dev->conns, lc, entry);
	sim_unlock();
}

/* Forget a relayed connection that has ended. */
void
device_remove_conn(struct sim_device *dev, struct sim_link_conn *lc)
{
	sim_lock();
	TAILQ_REMOVE(&dev->conns, lc, entry);
	sim_unlock();
}

/*
 * Open a service port for StartService; it accepts one Connect. Call
 * with the lock held. Returns the port.
 */
uint16_t
device_add_service(struct sim_device *dev, enum sim_service_kind kind)
{
	struct sim_service_port	*sp;

	sp = xcalloc(1, sizeof(*sp));
	sp->kind = kind;
	sp->port = dev->next_port++;
	if (dev->next_port < DEVICE_FIRST_PORT)
		dev->next_port = DEVICE_FIRST_PORT;
	TAILQ_INSERT_TAIL(&dev->ports, sp, entry);
	return (sp->port);
}

/*
 * Consume the service port port: returns 0 and its kind, or -1 if no
 * service listens there. Call with the lock held.
 */
int
device_take_service(struct sim_device *dev, uint16_t port,
    enum sim_service_kind *kind)
{
	struct sim_service_port	*sp;

	TAILQ_FOREACH(sp, &dev->ports, entry) {
		if (sp->port == port) {
			*kind = sp->kind;
			TAILQ_REMOVE(&dev->ports, sp, entry);
			free(sp);
			return (0);
		}
	}
	return (-1);
}

/* Copy the DeviceName, which lockdown's SetValue may change. */
char *
device_name(struct sim_device *dev)
{
	char	*name;

	sim_lock();
	name = xstrdup(dev->name);
	sim_unlock();
	return (name);
}
