/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * usbmuxd 1.1.1's preflight: before it shows a new device to its
 * clients, usbmuxd talks to the device's lockdownd itself, and pairs an
 * unpaired phone, which makes the phone show the Trust prompt at plug
 * time without any client asking (src/preflight.c at tag 1.1.1,
 * preflight_worker_handle_device_add). When Attached is sent depends on
 * the device:
 *
 *  - paired: StartSession with usbmuxd's record succeeds; Attached
 *    after it (preflight.c:177-186).
 *  - not paired, iOS 7 or later: usbmuxd sends Pair. If that succeeds
 *    (the setup screen pairs without asking) Attached follows
 *    (:234-242); otherwise (the Trust prompt is showing, or the phone
 *    is passcode locked: PasswordProtected) usbmuxd starts the
 *    insecure_notification_proxy, sends Attached anyway ("make device
 *    visible anyways", :283-284) and waits for the phone's
 *    request_pair notification, sent when the user taps Trust. Then it
 *    pairs (:102-119); libimobiledevice saves the record through
 *    usbmuxd's SavePairRecord with the DeviceID, which sends Paired to
 *    every listener (client.c:773-812, 1016-1026). Don't Trust sends
 *    nothing: usbmuxd waits until the device leaves (:286-289).
 *  - iOS 6 and older pair at once and get Attached after a
 *    ValidatePair, or after a failed Pair (:296-334); and a device
 *    whose lockdownd cannot be reached is never shown (:153-157). The
 *    simulator has neither (scenario versions start at 10).
 *
 * The simulator's usbmuxd is its own process: it "talks" to the device
 * by looking at its state under the lock rather than over a socket, so
 * no lockdown request of preflight shows in pair_requests.
 */

#include <stdint.h>
#include <stdlib.h>

#include "log.h"
#include "sim.h"

/*
 * usbmuxd's lockdownd_pair succeeded: the device trusts the host half
 * of its pairing, which becomes usbmuxd's record, saved through
 * SavePairRecord, which sends Paired. The simulator generated that
 * half with the device; when a real host has replaced it (linkq pair,
 * then Unpair) usbmuxd makes new keys. Lock held.
 */
static int
preflight_paired(struct sim_device *dev)
{
	char		*record, *cause = NULL;
	uint32_t	 len;

	if (dev->pairing.host_key == NULL) {
		pair_release(&dev->pairing);
		if (pair_generate(&dev->pairing, dev->udid, mux_buid(),
		    &cause) == -1) {
			log_warnx("preflight: %s: %s", dev->udid, cause);
			free(cause);
			return (-1);
		}
	}
	if (pair_record(&dev->pairing, &record, &len) == -1)
		return (-1);
	dev->trust = SIM_TRUST_PAIRED;
	dev->trust_prompt = 0;
	if (dev->state_dir != NULL &&
	    pair_save(&dev->pairing, dev->state_dir, &cause) == -1) {
		log_warnx("preflight: %s: pairing not kept: %s", dev->udid,
		    cause);
		free(cause);
	}
	mux_record_put_locked(dev->udid, record, len);
	free(record);
	log_info("preflight: %s: paired, record saved", dev->udid);
	mux_paired_locked(dev->mux_id);
	return (0);
}

/*
 * usbmuxd's Pair, answered as lockdown.c answers a client's: 0 once
 * paired, -1 with the prompt showing, refused, or locked. Lock held.
 */
static int
preflight_pair(struct sim_device *dev)
{
	if (dev->trust == SIM_TRUST_LOCKED)
		return (-1);		/* PasswordProtected */
	if (dev->trust == SIM_TRUST_UNPAIRED && dev->trust_denied) {
		dev->trust_denied = 0;	/* UserDeniedPairing */
		dev->trust_prompt = 0;
		return (-1);
	}
	if (dev->trust == SIM_TRUST_UNPAIRED && !dev->trust_accepted) {
		dev->trust_prompt = 1;	/* PairingDialogResponsePending */
		log_info("preflight: %s: Trust prompt showing", dev->udid);
		return (-1);
	}
	return (preflight_paired(dev));
}

/* usbmuxd found a new device: preflight it, then show it. Lock held. */
void
preflight_device_add(struct sim_device *dev)
{
	if (mux_record_trusted_locked(dev)) {
		mux_show_locked(dev);		/* StartSession success */
		return;
	}
	if (preflight_pair(dev) == 0) {
		mux_show_locked(dev);		/* Pair success */
		return;
	}
	log_info("preflight: %s: waiting for the user to trust this "
	    "computer", dev->udid);
	dev->preflight_wait = 1;
	mux_show_locked(dev);
}

/*
 * The user answered the Trust prompt. Tapping Trust makes the phone
 * post request_pair, on which a waiting preflight pairs; its Pair
 * fails only on a locked phone. Either way the preflight is over.
 * Don't Trust posts nothing. Lock held.
 */
void
preflight_trust_answered(struct sim_device *dev)
{
	if (!dev->plugged || !dev->preflight_wait)
		return;
	if (dev->trust_denied) {
		dev->trust_prompt = 0;
		return;
	}
	dev->preflight_wait = 0;
	if (dev->trust == SIM_TRUST_LOCKED) {
		log_info("preflight: %s: Pair refused, the phone is locked",
		    dev->udid);
		return;
	}
	(void)preflight_paired(dev);
}
