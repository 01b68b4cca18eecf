/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Identifiers replaced by keyed hashes in a bundle (contract in
 * bundle-ids.h).
 */

#include <sys/random.h>

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "compat/compat.h"
#include "bundle-ids.h"
#include "xmalloc.h"

#define IDS_KEY_LEN	32
#define IDS_HEX		16	/* hex digits of a token */

struct bundle_id {
	char	*raw;
	char	*token;
	int	 word;	/* replaced only where it stands as a word */
};

struct bundle_ids {
	int			 keep;
	unsigned char		 key[IDS_KEY_LEN];
	struct bundle_id	*v;
	size_t			 n;
};

struct bundle_ids *
bundle_ids_new(int keep, char **cause)
{
	struct bundle_ids	*ids;
	ssize_t			 n;

	ids = xcalloc(1, sizeof(*ids));
	ids->keep = keep;
	if (keep)
		return (ids);
	while ((n = getrandom(ids->key, sizeof(ids->key), 0)) == -1 &&
	    errno == EINTR)
		;
	if (n != (ssize_t)sizeof(ids->key)) {
		(void)xasprintf(cause, "no random key for the hashes: %s",
		    n == -1 ? strerror(errno) : "short read");
		free(ids);
		return (NULL);
	}
	return (ids);
}

void
bundle_ids_free(struct bundle_ids *ids)
{
	size_t	i;

	if (ids == NULL)
		return;
	for (i = 0; i < ids->n; i++) {
		free(ids->v[i].raw);
		free(ids->v[i].token);
	}
	free(ids->v);
	explicit_bzero(ids->key, sizeof(ids->key));
	free(ids);
}

/* The token of value: kind-HMAC(key, canonical), hex, shortened. */
static char *
ids_token(const struct bundle_ids *ids, const char *kind,
    const char *canonical)
{
	unsigned char	 mac[EVP_MAX_MD_SIZE];
	unsigned int	 len = 0, i;
	char		 hex[IDS_HEX + 1], *lower, *token;

	/* Case-blind, as the matching is. */
	lower = xstrdup(canonical);
	for (i = 0; lower[i] != '\0'; i++)
		lower[i] = (char)tolower((unsigned char)lower[i]);
	if (HMAC(EVP_sha256(), ids->key, sizeof(ids->key),
	    (const unsigned char *)lower, strlen(lower), mac, &len) == NULL ||
	    len * 2 < IDS_HEX)
		abort();	/* SHA-256 is in every libcrypto */
	free(lower);
	for (i = 0; i < IDS_HEX / 2; i++)
		(void)snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	(void)xasprintf(&token, "%s-%s", kind, hex);
	return (token);
}

/*
 * Add raw, replaced by kind's token of canonical; once each. A name is
 * replaced only as a word, so that "iPhone" spares "iPhone12,1"; a
 * UDID or serial number anywhere, glued to other text or not.
 */
static void
ids_add(struct bundle_ids *ids, const char *kind, const char *raw,
    const char *canonical, int word)
{
	size_t	i;

	if (raw == NULL || *raw == '\0')
		return;
	for (i = 0; i < ids->n; i++) {
		if (strcasecmp(ids->v[i].raw, raw) == 0)
			return;
	}
	ids->v = xreallocarray(ids->v, ids->n + 1, sizeof(*ids->v));
	ids->v[ids->n].raw = xstrdup(raw);
	ids->v[ids->n].token = ids_token(ids, kind, canonical);
	ids->v[ids->n].word = word;
	ids->n++;
}

/* Longest first, so that no identifier is cut by a shorter one. */
static int
ids_cmp(const void *a, const void *b)
{
	size_t	x = strlen(((const struct bundle_id *)a)->raw);
	size_t	y = strlen(((const struct bundle_id *)b)->raw);

	return (x < y ? 1 : x > y ? -1 : 0);
}

void
bundle_ids_device(struct bundle_ids *ids, json_t *dev)
{
	const char	*udid, *serial, *name;
	char		*plain, *p;

	if (ids->keep)
		return;
	udid = json_string_value(json_object_get(dev, "udid"));
	serial = json_string_value(json_object_get(dev, "usb_serial"));
	name = json_string_value(json_object_get(dev, "name"));
	if (udid != NULL) {
		ids_add(ids, "udid", udid, udid, 0);
		/* The USB serial number of a current iPhone: no dash. */
		plain = xstrdup(udid);
		for (p = plain; (p = strchr(p, '-')) != NULL; )
			memmove(p, p + 1, strlen(p));
		ids_add(ids, "udid", plain, udid, 0);
		free(plain);
	}
	ids_add(ids, "serial", serial, serial, 0);
	ids_add(ids, "name", name, name, 1);
	qsort(ids->v, ids->n, sizeof(*ids->v), ids_cmp);
}

/* Whether s[-1] and s[len] leave the match a word of its own. */
static int
ids_word(const char *start, const char *s, size_t len)
{
	if (s > start && isalnum((unsigned char)s[-1]))
		return (0);
	return (!isalnum((unsigned char)s[len]));
}

/* in with each raw of one id replaced (allocated). */
static char *
ids_replace(const struct bundle_id *id, const char *in)
{
	const char	*p = in, *m;
	size_t		 rlen = strlen(id->raw), tlen = strlen(id->token);
	size_t		 len = strlen(in), n = 0;
	char		*out;

	/* Matches do not overlap: at most len / rlen of them. */
	out = xmalloc(len + (len / rlen) * tlen + 1);
	while ((m = strcasestr(p, id->raw)) != NULL) {
		memcpy(out + n, p, (size_t)(m - p));
		n += (size_t)(m - p);
		if (!id->word || ids_word(in, m, rlen)) {
			memcpy(out + n, id->token, tlen);
			n += tlen;
			p = m + rlen;
		} else {
			out[n++] = *m;
			p = m + 1;
		}
	}
	memcpy(out + n, p, strlen(p) + 1);
	return (out);
}

char *
bundle_ids_text(const struct bundle_ids *ids, const char *s)
{
	char	*cur, *next;
	size_t	 i;

	cur = xstrdup(s);
	for (i = 0; i < ids->n; i++) {
		next = ids_replace(&ids->v[i], cur);
		free(cur);
		cur = next;
	}
	return (cur);
}

void
bundle_ids_json(const struct bundle_ids *ids, json_t *o)
{
	const char	*key;
	json_t		*v;
	char		*s;
	size_t		 i;

	if (ids->n == 0)
		return;
	if (json_is_object(o)) {
		json_object_foreach(o, key, v)
			bundle_ids_json(ids, v);
	} else if (json_is_array(o)) {
		json_array_foreach(o, i, v)
			bundle_ids_json(ids, v);
	} else if (json_is_string(o)) {
		s = bundle_ids_text(ids, json_string_value(o));
		(void)json_string_set(o, s);
		free(s);
	}
}

int
bundle_ids_kept(const struct bundle_ids *ids)
{
	return (ids->keep);
}

size_t
bundle_ids_count(const struct bundle_ids *ids)
{
	return (ids->n);
}
