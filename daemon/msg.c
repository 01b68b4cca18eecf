/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Framing of the loop's messages to and from worker processes (the
 * protocol in msg.h). One sendmsg(2) of an iovec per message: header,
 * fixed payload, then each string's length and bytes.
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
msg_send(int fd, uint32_t type, uint32_t id, const void *fix, size_t len,
    const char *const *strs, size_t nstr)
{
	struct iovec	 iov[2 + 2 * MSG_STRS_MAX];
	struct msghdr	 mh;
	struct msg_hdr	 hdr;
	uint32_t	 slen[MSG_STRS_MAX];
	size_t		 i, n = 0, room;

	if (nstr > MSG_STRS_MAX ||
	    len > MSG_MAX - MSG_STRS_MAX * sizeof(slen[0])) {
		errno = EINVAL;
		return (-1);
	}
	hdr.type = type;
	hdr.id = id;
	hdr.nstr = (uint32_t)nstr;
	hdr.len = (uint32_t)len;
	iov[n].iov_base = &hdr;
	iov[n++].iov_len = sizeof(hdr);
	iov[n].iov_base = (void *)(uintptr_t)fix;
	iov[n++].iov_len = len;
	for (i = 0; i < nstr; i++) {
		room = MSG_MAX - hdr.len - sizeof(slen[i]);
		if (strs[i] == NULL)
			slen[i] = MSG_STR_NONE;
		else
			slen[i] = (uint32_t)(strlen(strs[i]) < room ?
			    strlen(strs[i]) : room);
		iov[n].iov_base = &slen[i];
		iov[n++].iov_len = sizeof(slen[i]);
		iov[n].iov_base = (void *)(uintptr_t)strs[i];
		iov[n++].iov_len = slen[i] == MSG_STR_NONE ? 0 : slen[i];
		hdr.len += sizeof(slen[i]) + (uint32_t)iov[n - 1].iov_len;
	}
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = n;
	if (sendmsg(fd, &mh, MSG_NOSIGNAL) == -1)
		return (-1);
	return (0);
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
	if ((size_t)n < sizeof(m->hdr) || (size_t)n > sizeof(*m) ||
	    m->hdr.len != (size_t)n - sizeof(m->hdr) ||
	    m->hdr.nstr > MSG_STRS_MAX) {
		errno = EPROTO;
		return (-1);
	}
	return (1);
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
