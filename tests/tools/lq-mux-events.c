/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * lq-mux-events: a usbmuxd Listen subscriber built on libusbmuxd alone,
 * for the integration tests. It prints one line per event, flushed at
 * once, until it is killed:
 *
 *	add 3 00008030-001A1C3E0A38802E
 *	remove 3
 *	paired 4
 */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <usbmuxd.h>

/* Print one event; runs on libusbmuxd's thread. */
static void
print_event(const usbmuxd_event_t *event, void *unused)
{
	(void)unused;
	switch (event->event) {
	case UE_DEVICE_ADD:
		(void)printf("add %u %s\n", event->device.handle,
		    event->device.udid);
		break;
	case UE_DEVICE_REMOVE:
		(void)printf("remove %u\n", event->device.handle);
		break;
	case UE_DEVICE_PAIRED:
		(void)printf("paired %u\n", event->device.handle);
		break;
	default:
		(void)printf("event %d %u\n", event->event,
		    event->device.handle);
		break;
	}
	(void)fflush(stdout);
}

int
main(void)
{
	usbmuxd_subscription_context_t	ctx;
	sigset_t			mask;
	int				sig;

	/* A custom socket path must be polled, not watched with inotify. */
	libusbmuxd_set_use_inotify(0);
	if (usbmuxd_events_subscribe(&ctx, print_event, NULL) != 0) {
		(void)fprintf(stderr, "lq-mux-events: cannot subscribe\n");
		return (1);
	}
	(void)sigemptyset(&mask);
	(void)sigaddset(&mask, SIGTERM);
	(void)sigaddset(&mask, SIGINT);
	(void)sigprocmask(SIG_BLOCK, &mask, NULL);
	(void)sigwait(&mask, &sig);
	(void)usbmuxd_events_unsubscribe(ctx);
	return (0);
}
