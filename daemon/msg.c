/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Framing of the loop's messages to and from worker processes (the
 * protocol in msg.h). A message is one iovec (header, fixed payload,
 * then each string's length and bytes), sent with sendmmsg(2), which
 * takes several at once: one wake-up of the reader for a batch.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "xmalloc.h"

int
msg_pack(struct msg_out *o, uint32_t type, uint32_t id, const void *fix,
    size_t len, const char *const *strs, size_t nstr)
{
	size_t	i, n = 0, room;

	if (nstr > MSG_STRS_MAX ||
	    len > MSG_MAX - MSG_STRS_MAX * sizeof(o->slen[0])) {
		errno = EINVAL;
		return (-1);
	}
	o->hdr.type = type;
	o->hdr.id = id;
	o->hdr.nstr = (uint32_t)nstr;
	o->hdr.len = (uint32_t)len;
	o->iov[n].iov_base = &o->hdr;
	o->iov[n++].iov_len = sizeof(o->hdr);
	o->iov[n].iov_base = (void *)(uintptr_t)fix;
	o->iov[n++].iov_len = len;
	for (i = 0; i < nstr; i++) {
		room = MSG_MAX - o->hdr.len - sizeof(o->slen[i]);
		if (strs[i] == NULL)
			o->slen[i] = MSG_STR_NONE;
		else
			o->slen[i] = (uint32_t)(strlen(strs[i]) < room ?
			    strlen(strs[i]) : room);
		o->iov[n].iov_base = &o->slen[i];
		o->iov[n++].iov_len = sizeof(o->slen[i]);
		o->iov[n].iov_base = (void *)(uintptr_t)strs[i];
		o->iov[n++].iov_len = o->slen[i] == MSG_STR_NONE ? 0 :
		    o->slen[i];
		o->hdr.len += sizeof(o->slen[i]) +
		    (uint32_t)o->iov[n - 1].iov_len;
	}
	o->niov = n;
	return (0);
}

int
msg_send_packed(int fd, struct msg_out *o, size_t n)
{
	struct mmsghdr	mm[MSG_BATCH_MAX];
	size_t		i, done = 0;
	int		sent;

	if (n > MSG_BATCH_MAX) {
		errno = EINVAL;
		return (-1);
	}
	memset(mm, 0, sizeof(mm));
	for (i = 0; i < n; i++) {
		mm[i].msg_hdr.msg_iov = o[i].iov;
		mm[i].msg_hdr.msg_iovlen = o[i].niov;
	}
	/* A blocking socket may still take fewer than all. */
	while (done < n) {
		sent = sendmmsg(fd, mm + done, (unsigned int)(n - done),
		    MSG_NOSIGNAL);
		if (sent == -1 && errno == EINTR)
			continue;
		if (sent == -1)
			return (-1);
		done += (size_t)sent;
	}
	return (0);
}

int
msg_send(int fd, uint32_t type, uint32_t id, const void *fix, size_t len,
    const char *const *strs, size_t nstr)
{
	struct msg_out	o;

	if (msg_pack(&o, type, id, fix, len, strs, nstr) == -1)
		return (-1);
	return (msg_send_packed(fd, &o, 1));
}

/* Whether a packet of n bytes (the whole, if cut) frames hdr right. */
static int
msg_framed(const struct msg_hdr *hdr, size_t n, size_t room)
{
	return (n >= sizeof(*hdr) && n <= room &&
	    hdr->len == n - sizeof(*hdr) && hdr->nstr <= MSG_STRS_MAX);
}

int
msg_recv(int fd, struct msg *m, int flags)
{
	ssize_t	n;

	do
		n = recv(fd, m, sizeof(*m), flags | MSG_TRUNC);
	while (n == -1 && errno == EINTR);
	if (n <= 0)
		return ((int)n);
	/* MSG_TRUNC: n is the packet's whole length, even if cut. */
	if (!msg_framed(&m->hdr, (size_t)n, sizeof(*m))) {
		errno = EPROTO;
		return (-1);
	}
	return (1);
}

int
msg_recv_small(int fd, struct msg_small *m, size_t n, int flags)
{
	struct mmsghdr	mm[MSG_BATCH_MAX];
	struct iovec	iov[MSG_BATCH_MAX];
	size_t		i;
	int		got;

	if (n > MSG_BATCH_MAX) {
		errno = EINVAL;
		return (-1);
	}
	memset(mm, 0, sizeof(mm));
	for (i = 0; i < n; i++) {
		iov[i].iov_base = &m[i];
		iov[i].iov_len = sizeof(m[i]);
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	do
		got = recvmmsg(fd, mm, (unsigned int)n, flags, NULL);
	while (got == -1 && errno == EINTR);
	if (got <= 0)
		return (got);
	for (i = 0; i < (size_t)got; i++) {
		/* A packet of no bytes is the end of the stream. */
		if (mm[i].msg_len == 0)
			return (i == 0 ? 0 : (int)i);
		if ((mm[i].msg_hdr.msg_flags & MSG_TRUNC) ||
		    !msg_framed(&m[i].hdr, mm[i].msg_len, sizeof(m[i]))) {
			errno = EPROTO;
			return (-1);
		}
	}
	return (got);
}

void
msg_from_small(struct msg *m, const struct msg_small *sm)
{
	memcpy(m, sm, sizeof(sm->hdr) + sm->hdr.len);
}

/* Free the first n strings of strs and clear them. */
static void
msg_free_strs(char **strs, size_t n)
{
	while (n-- > 0) {
		free(strs[n]);
		strs[n] = NULL;
	}
}

int
msg_get(const struct msg *m, void *fix, size_t len, char **strs,
    size_t nstr)
{
	const unsigned char	*p = m->data, *end = m->data + m->hdr.len;
	uint32_t		 slen;
	size_t			 i;

	if (m->hdr.nstr != nstr || m->hdr.len < len)
		return (-1);
	p += len;
	for (i = 0; i < nstr; i++) {
		strs[i] = NULL;
		if ((size_t)(end - p) < sizeof(slen))
			goto bad;
		memcpy(&slen, p, sizeof(slen));
		p += sizeof(slen);
		if (slen == MSG_STR_NONE)
			continue;
		if ((size_t)(end - p) < slen)
			goto bad;
		strs[i] = xmalloc((size_t)slen + 1);
		memcpy(strs[i], p, slen);
		strs[i][slen] = '\0';
		p += slen;
	}
	if (p == end) {
		/* Only a message of the right shape touches fix. */
		memcpy(fix, m->data, len);
		return (0);
	}
bad:
	msg_free_strs(strs, i + (i < nstr));
	return (-1);
}
