/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The usb-control probe: three round trips on endpoint 0, one after the
 * other, GET_DESCRIPTOR(device), GET_DESCRIPTOR(configuration 0) and
 * GET_STATUS(device). Requests to the device itself need no interface,
 * so the probe runs beside usbmuxd, which has claimed the mux
 * interface, and it is the one probe a device in recovery or DFU mode
 * answers.
 *
 * It runs on the loop thread through libusb's asynchronous API (usb.h):
 * no worker, no blocking call. Each transfer has the probe's deadline
 * as its libusb timeout; the first that fails ends the probe with its
 * status. The result's detail is a JSON object with each transfer's
 * request, latency and libusb status. The handle is opened for the
 * probe and closed after it: an open handle on an unpollable node
 * (umockdev) would need servicing, and usbmuxd never sees it.
 *
 * Completion is always delivered from a libevent callback of its own,
 * never inside libusb's event handling or inside usbctl_start, so the
 * caller may start the next probe or close things from it.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>
#include <libusb.h>

#include "compat/compat.h"
#include "log.h"
#include "lq-status.h"
#include "lq-time.h"
#include "probe.h"
#include "usb.h"
#include "xmalloc.h"

#define USBCTL_STEPS		3
#define USBCTL_BUF		(LIBUSB_CONTROL_SETUP_SIZE + 256)

/* The requests, in order. */
static const struct usbctl_request {
	const char	*name;
	uint8_t		 request_type;
	uint8_t		 request;
	uint16_t	 value;
	uint16_t	 length;
} usbctl_requests[USBCTL_STEPS] = {
	{ "GET_DESCRIPTOR(device)", LIBUSB_ENDPOINT_IN,
	    LIBUSB_REQUEST_GET_DESCRIPTOR, LIBUSB_DT_DEVICE << 8,
	    LIBUSB_DT_DEVICE_SIZE },
	{ "GET_DESCRIPTOR(configuration)", LIBUSB_ENDPOINT_IN,
	    LIBUSB_REQUEST_GET_DESCRIPTOR, LIBUSB_DT_CONFIG << 8, 255 },
	{ "GET_STATUS(device)", LIBUSB_ENDPOINT_IN,
	    LIBUSB_REQUEST_GET_STATUS, 0, 2 },
};

struct usbctl {
	libusb_device_handle	*handle;
	struct libusb_transfer	*xfer;
	unsigned char		 buf[USBCTL_BUF];
	unsigned int		 timeout_ms;
	int			 step;		/* request in flight */
	int			 in_flight;
	int			 cancelled;
	lq_mono_t		 sent;
	json_t			*transfers;	/* what each one did */
	struct probe_result	*result;
	struct event		*done_ev;
	void			(*done)(void *);
	void			*arg;
};

const struct probe_ops probe_usb_control_ops = {
	LQ_PROBE_USB_CONTROL,
	NULL			/* runs on the loop: usbctl_start */
};

static void	usbctl_submit(struct usbctl *);

/* Whether the answer to step is what a USB device must send. */
static int
usbctl_answer_ok(int step, const unsigned char *data, int len)
{
	switch (step) {
	case 0:
		return (len == LIBUSB_DT_DEVICE_SIZE &&
		    data[0] == LIBUSB_DT_DEVICE_SIZE &&
		    data[1] == LIBUSB_DT_DEVICE &&
		    (data[8] | data[9] << 8) == USB_APPLE_VID);
	case 1:
		return (len >= LIBUSB_DT_CONFIG_SIZE &&
		    data[1] == LIBUSB_DT_CONFIG);
	default:
		return (len == 2);
	}
}

/* End the probe with status; deliver from done_ev. */
static void
usbctl_finish(struct usbctl *uc, int status, const char *why)
{
	json_t	*o;

	uc->result->status = status;
	o = json_object();
	(void)json_object_set_new(o, "transfers", uc->transfers);
	if (why != NULL)
		(void)json_object_set_new(o, "error", json_string(why));
	uc->transfers = NULL;
	uc->result->detail = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	event_active(uc->done_ev, EV_TIMEOUT, 0);
}

/* Inside libusb: one transfer is back. */
static void LIBUSB_CALL
usbctl_transfer_cb(struct libusb_transfer *xfer)
{
	struct usbctl	*uc = xfer->user_data;
	const struct usbctl_request *rq = &usbctl_requests[uc->step];
	int64_t		 us = lq_mono_sub(lq_mono_now(), uc->sent);
	json_t		*t;
	char		 why[160];
	int		 status;

	uc->in_flight = 0;
	usb_transfer_end();
	t = json_object();
	(void)json_object_set_new(t, "request", json_string(rq->name));
	(void)json_object_set_new(t, "latency_us", json_integer(us));
	(void)json_object_set_new(t, "status", json_string(
	    usb_transfer_status_name(xfer->status)));
	(void)json_array_append_new(uc->transfers, t);
	status = uc->cancelled ? LQ_ECANCELED :
	    usb_status_of_transfer(xfer->status);
	if (status != LQ_OK) {
		(void)snprintf(why, sizeof(why), "%s: %s", rq->name,
		    uc->cancelled ? "cut" :
		    usb_transfer_status_name(xfer->status));
		usbctl_finish(uc, status, why);
		return;
	}
	if (!usbctl_answer_ok(uc->step, libusb_control_transfer_get_data(xfer),
	    xfer->actual_length)) {
		(void)snprintf(why, sizeof(why), "%s: malformed answer of %d "
		    "bytes", rq->name, xfer->actual_length);
		usbctl_finish(uc, LQ_EPROTO, why);
		return;
	}
	if (++uc->step == USBCTL_STEPS) {
		usbctl_finish(uc, LQ_OK, NULL);
		return;
	}
	usbctl_submit(uc);
}

/* Send the request of the current step. */
static void
usbctl_submit(struct usbctl *uc)
{
	const struct usbctl_request *rq = &usbctl_requests[uc->step];
	char	why[160];
	int	r;

	libusb_fill_control_setup(uc->buf, rq->request_type, rq->request,
	    rq->value, 0, rq->length);
	libusb_fill_control_transfer(uc->xfer, uc->handle, uc->buf,
	    usbctl_transfer_cb, uc, uc->timeout_ms);
	uc->sent = lq_mono_now();
	r = libusb_submit_transfer(uc->xfer);
	usb_restore_mask();
	if (r != 0) {
		(void)snprintf(why, sizeof(why), "%s: cannot submit: %s",
		    rq->name, libusb_strerror(r));
		usbctl_finish(uc, usb_status_of_error(r), why);
		return;
	}
	uc->in_flight = 1;
	usb_transfer_begin();
}

/* Loop: the probe is over; close up and tell the caller. */
static void
usbctl_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct usbctl	*uc = arg;

	(void)fd;
	(void)what;
	uc->done(uc->arg);
	if (uc->handle != NULL) {
		libusb_close(uc->handle);
		usb_restore_mask();
	}
	libusb_free_transfer(uc->xfer);
	json_decref(uc->transfers);
	event_free(uc->done_ev);
	free(uc);
}

/* Start a usb-control probe (probe.h). */
struct usbctl *
usbctl_start(int bus, int devnum, int64_t timeout_us,
    struct probe_result *result, void (*done)(void *), void *arg)
{
	struct usbctl	*uc;
	char		 why[128];
	int		 st;

	uc = xcalloc(1, sizeof(*uc));
	uc->result = result;
	uc->done = done;
	uc->arg = arg;
	uc->timeout_ms = timeout_us > 0 ? (unsigned int)(timeout_us / 1000) :
	    0;
	uc->transfers = json_array();
	if ((uc->done_ev = event_new(usb_event_base(), -1, 0, usbctl_done_cb,
	    uc)) == NULL || (uc->xfer = libusb_alloc_transfer(0)) == NULL)
		fatalx("%s: out of memory", __func__);
	if ((st = usb_open(bus, devnum, &uc->handle)) != LQ_OK) {
		(void)snprintf(why, sizeof(why), "cannot open the device at "
		    "bus %d device number %d: %s", bus, devnum,
		    lq_strerror(st));
		usbctl_finish(uc, st, why);
		return (uc);
	}
	usbctl_submit(uc);
	return (uc);
}

/* Cut the probe: its transfer is cancelled; done is still called once. */
void
usbctl_cancel(struct usbctl *uc)
{
	uc->cancelled = 1;
	if (uc->in_flight) {
		(void)libusb_cancel_transfer(uc->xfer);
		usb_restore_mask();
	}
}
