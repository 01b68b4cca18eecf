/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The protocol between linkqd's loop and a device's worker process
 * (child.h, child-main.h), after OpenBSD's imsg: small framed messages
 * on a SOCK_SEQPACKET socketpair, one message per packet, so a message
 * is never split or merged and needs no reassembly.
 *
 * A message is a header {type, len, id, nstr}, a fixed payload (a
 * struct of this header, copied as is: both ends are the same linkqd
 * executable) and nstr strings, each a 32-bit length and its bytes
 * without the NUL; MSG_STR_NONE as length is a NULL string. id names
 * the job a message is about. Nothing else crosses: no pointers, no
 * descriptors.
 *
 * The messages (direction, fixed payload, strings):
 *
 *	MSG_JOB		loop -> child	struct msg_job		none
 *	MSG_CANCEL	loop -> child	struct msg_cancel	none
 *	MSG_PROGRESS	child -> loop	struct probe_progress	none
 *	MSG_DONE	child -> loop	struct msg_done		detail,
 *								devlog detail
 *
 * Every MSG_JOB gets exactly one MSG_DONE, in the order sent, unless
 * the child dies first (child.h says what then). A job sent with
 * MSG_JOB_HOLD that worked may have its MSG_DONE held back while the
 * jobs queued behind it run, up to MSG_HOLD_MAX results, until the first
 * has waited MSG_HOLD_US (checked between jobs, so longer while a job
 * blocks), and sent with the others in one batch (child-main.c): the
 * loop wakes once for several quick probes. MSG_DONE's ended_us says
 * when the job ended, which is when the next one queued started.
 * MSG_PROGRESS comes while a probe runs, at most every MSG_PROGRESS_US
 * as its bulk chunks complete, and only about the oldest job whose
 * MSG_DONE has not been sent.
 *
 * Besides the socket, the child has a page of shared memory (struct
 * msg_shared), where it says which job it is running, so that when it
 * dies the loop knows which job it died in, even with results held.
 *
 * Either end treats a message it cannot parse (wrong length, unknown
 * type) as the end of the other: the loop kills the child; the child
 * exits.
 */

#ifndef LQ_MSG_H
#define LQ_MSG_H

#include <sys/uio.h>

#include <stddef.h>
#include <stdint.h>

#include "devlog.h"
#include "probe.h"
#include "session.h"

/* The largest message; strings are cut to fit. */
#define MSG_MAX			(64 * 1024)
#define MSG_STR_NONE		UINT32_MAX
#define MSG_STRS_MAX		2
/* How often a running probe reports its progress at most. */
#define MSG_PROGRESS_US		(100 * 1000)

/*
 * How long, and for how many jobs, the results of MSG_JOB_HOLD jobs
 * may wait to be sent together; the most messages sent at once.
 */
#define MSG_HOLD_US		(5 * 1000)
#define MSG_HOLD_MAX		16
#define MSG_BATCH_MAX		MSG_HOLD_MAX

enum msg_type {
	MSG_JOB = 1,
	MSG_CANCEL,
	MSG_PROGRESS,
	MSG_DONE
};

/* What a job asks of the child. */
enum msg_job_type {
	MSG_JOB_IDENTIFY = 1,	/* session_identify, then session_cleanup */
	MSG_JOB_PAIR,		/* session_pair */
	MSG_JOB_PROBE,		/* one probe, then the device's syslog */
	MSG_JOB_CLOSE		/* session_close, session_devlog_stop */
};

struct msg_hdr {
	uint32_t	 type;		/* enum msg_type */
	uint32_t	 len;		/* bytes after the header */
	uint32_t	 id;		/* the job's */
	uint32_t	 nstr;
};

/* MSG_JOB. */
struct msg_job {
	int32_t		 type;		/* enum msg_job_type */
	int32_t		 kind;		/* probe: enum lq_probe_kind */
	int32_t		 epoch;		/* child.c: cancels before it */
	uint32_t	 flags;
#define MSG_JOB_GO		0x1	/* probe: run even after a failure */
#define MSG_JOB_DEVLOG		0x2	/* probe: read the syslog after */
#define MSG_JOB_DEVLOG_FRESH	0x4	/* probe: the run's first read */
#define MSG_JOB_HOLD		0x8	/* probe: its MSG_DONE may wait */
	struct probe_plan plan;		/* probe */
};

/* MSG_CANCEL: every job of an epoch below this one is cancelled. */
struct msg_cancel {
	int32_t		 epoch;
};

/* MSG_DONE. Fields a job type does not fill stay zero. */
struct msg_done {
	int32_t		 status;	/* enum lq_status */
	int32_t		 ran;		/* probe: run() was called */
	int32_t		 in_time;	/* probe: returned before a cut */
	int32_t		 halted;	/* probe: the next must not run */
	int64_t		 ts_us;		/* probe: wall clock at its start */
	int64_t		 latency_us;
	int64_t		 ended_us;	/* monotonic, in the child */
	uint64_t	 bytes_out;
	uint64_t	 bytes_in;
	int64_t		 corrupt_offset;
	int32_t		 cleanup_status; /* identify */
	uint32_t	 removed;	/* identify: leftover files */
	int32_t		 devlog_status;	/* probe */
	struct session_info info;	/* identify */
	struct devlog_found devlog;	/* probe */
};

/*
 * The shared page: the child writes, the loop reads once the child is
 * dead. started_us is written before running.
 */
struct msg_shared {
	uint32_t	 running;	/* the job's id, or 0 between jobs */
	int64_t		 started_us;	/* monotonic: when it started */
};

/* A message as received. */
struct msg {
	struct msg_hdr	 hdr;
	unsigned char	 data[MSG_MAX];
};

/*
 * One message laid out for msg_send_packed: the header, lengths and
 * iovec are its own, the payload and strings stay the caller's until
 * it is sent. It must not move once packed.
 */
struct msg_out {
	struct msg_hdr	 hdr;
	uint32_t	 slen[MSG_STRS_MAX];
	struct iovec	 iov[2 + 2 * MSG_STRS_MAX];
	size_t		 niov;
};

/*
 * Lay out one message in o, as msg_send does. 0, or -1 with errno
 * EINVAL.
 */
int	 msg_pack(struct msg_out *, uint32_t, uint32_t, const void *, size_t,
	    const char *const *, size_t);

/*
 * Send n (at most MSG_BATCH_MAX) packed messages on fd with one
 * sendmmsg(2) where the socket takes them. 0, or -1 with errno set.
 */
int	 msg_send_packed(int, struct msg_out *, size_t);

/*
 * Send one message on fd: the fixed payload of len bytes and nstr
 * strings (NULL allowed), cut to fit MSG_MAX. 0, or -1 with errno set
 * (EAGAIN on a full non-blocking socket). Either side.
 */
int	 msg_send(int, uint32_t, uint32_t, const void *, size_t,
	    const char *const *, size_t);
/*
 * Receive one message into m (flags as recv(2): MSG_DONTWAIT). 1, 0
 * at the end of the stream, or -1 with errno set; EPROTO for a packet
 * whose header does not match its length.
 */
int	 msg_recv(int, struct msg *, int);

/*
 * Receive up to n messages of at most MSG_SMALL_MAX bytes each (the
 * loop's: jobs and cancels) with one recvmmsg(2), into m[0..]; flags
 * as recvmmsg: MSG_DONTWAIT, or MSG_WAITFORONE to wait for the first.
 * The count, 0 at the end of the stream, or -1 with errno set; EPROTO
 * for a packet too long or whose header does not match its length.
 */
#define MSG_SMALL_MAX		512
struct msg_small {
	struct msg_hdr	 hdr;
	unsigned char	 data[MSG_SMALL_MAX];
};
int	 msg_recv_small(int, struct msg_small *, size_t, int);

/* Copy a small message into m, for msg_get. */
void	 msg_from_small(struct msg *, const struct msg_small *);
/*
 * Take m's payload apart: exactly len bytes of fixed payload into fix
 * and exactly nstr strings, each allocated into strs[i] (NULL for
 * none). 0, or -1 if the message does not have that shape (nothing
 * allocated then, fix untouched).
 */
int	 msg_get(const struct msg *, void *, size_t, char **, size_t);

#endif /* LQ_MSG_H */
