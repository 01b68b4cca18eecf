/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * What identifies a phone in an evidence bundle (its UDID, the UDID as
 * the USB serial number spells it, its USB or Apple serial number, its
 * name) and its replacement: HMAC-SHA-256 under a key drawn at random
 * for one bundle and never written, so the same identifier becomes the
 * same token throughout the bundle (rows still join) and a different
 * one in any other bundle, and a reader without the key cannot test a
 * guess. A token is the kind and 16 hex digits: udid-0123456789abcdef.
 *
 * Replacement is by text, ignoring case, in JSON string values, CSV
 * fields and kernel lines alike, so a serial number the kernel printed
 * goes too: a UDID or serial number wherever it appears, a name
 * wherever it stands as a word (the characters either side are not
 * letters or digits), so that a phone named "iPhone" leaves the model
 * "iPhone12,1" alone. With keep (--keep-ids) nothing is replaced.
 *
 * One struct bundle_ids per bundle, one thread.
 */

#ifndef LQ_BUNDLE_IDS_H
#define LQ_BUNDLE_IDS_H

#include <jansson.h>

struct bundle_ids;

/* A new table; NULL with *cause if no key could be drawn. */
struct bundle_ids *bundle_ids_new(int, char **);
void	 bundle_ids_free(struct bundle_ids *);
/*
 * Add the identifiers of dev, an object with udid, usb_serial and name
 * (GET /v1/runs/ID/device).
 */
void	 bundle_ids_device(struct bundle_ids *, json_t *);
/* s with every identifier replaced (allocated). */
char	*bundle_ids_text(const struct bundle_ids *, const char *);
/* Replace in place in every string value of o, at any depth. */
void	 bundle_ids_json(const struct bundle_ids *, json_t *);
/* Whether ids are kept as they are. */
int	 bundle_ids_kept(const struct bundle_ids *);
/* How many identifiers are replaced. */
size_t	 bundle_ids_count(const struct bundle_ids *);

#endif /* LQ_BUNDLE_IDS_H */
