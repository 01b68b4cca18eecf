/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * What each job does in the worker process (child-main.h): the
 * blocking libimobiledevice work that the loop's job code (devices.c,
 * devices-api.c, run.c) asks for. Results go into the job's msg_done;
 * nothing here touches anything of the loop's process.
 */

#include <stdlib.h>
#include <string.h>

#include "child-main.h"
#include "linkq.h"
#include "lq-status.h"
#include "lq-time.h"
#include "msg.h"
#include "probe.h"
#include "session.h"
#include "xmalloc.h"

/* Who the device is, and clear its folder. */
static void
child_identify(struct session *s, struct msg_done *done, char **detail)
{
	char	*more = NULL;

	done->status = session_identify(s, &done->info, detail);
	if (done->status == LQ_OK) {
		done->cleanup_status = session_cleanup(s, &done->removed,
		    &more);
		if (done->cleanup_status != LQ_OK) {
			free(*detail);
			*detail = more;
		} else
			free(more);
	}
	session_close(s);
}

/*
 * One probe, then the device's syslog. A probe queued behind one that
 * failed does not run: the loop has yet to see the failure and decide
 * (a lost connection waits for usbmuxd's word). One sent with nothing
 * in flight carries MSG_JOB_GO.
 */
static void
child_probe(struct session *s, const struct msg_job *job,
    struct msg_done *done, char **detail, char **devlog_detail, int *halt)
{
	const struct probe_ops	*ops;
	struct probe_progress	 progress;
	struct probe_result	 result;
	lq_mono_t		 started;

	if (job->flags & MSG_JOB_GO)
		*halt = 0;
	if (*halt)
		return;
	ops = probe_ops_find(job->kind);
	if (ops == NULL || ops->run == NULL) {
		done->status = LQ_EINVAL;
		*detail = xstrdup("no such probe in the worker process");
		*halt = done->halted = 1;
		return;
	}
	done->ran = 1;
	done->ts_us = lq_wall_now_us();
	started = lq_mono_now();
	/*
	 * No message says that it started: the loop knows from when the
	 * job before it ended (MSG_DONE's ended_us), or from its sending.
	 */
	memset(&progress, 0, sizeof(progress));
	progress.moved_us = started.us;
	probe_result_init(&result);
	(void)ops->run(s, &job->plan, &progress, &result);
	done->latency_us = lq_mono_sub(lq_mono_now(), started);
	done->in_time = !session_cancelled(s);
	done->status = result.status;
	done->bytes_out = result.bytes_out;
	done->bytes_in = result.bytes_in;
	done->corrupt_offset = result.corrupt_offset;
	*detail = result.detail;
	/*
	 * Side evidence, whose errors never fail the probe. The stream is
	 * started only after a probe that worked, as that may block.
	 */
	if (job->flags & MSG_JOB_DEVLOG)
		done->devlog_status = session_devlog(s,
		    (job->flags & MSG_JOB_DEVLOG_FRESH ?
		    SESSION_DEVLOG_FRESH : 0) |
		    (result.status == LQ_OK ? SESSION_DEVLOG_OPEN : 0),
		    &done->devlog, devlog_detail);
	/*
	 * A failed probe, or a failed syslog read, may leave a connection
	 * half way: start afresh. So does a cut that came as the probe's
	 * last answer did: the probe worked, but the socket it shut down
	 * (the session's lockdown connection, say) would fail the next.
	 */
	if (result.status != LQ_OK || done->devlog_status != LQ_OK ||
	    session_cancelled(s)) {
		session_close(s);
		*halt = 1;
		done->halted = 1;
	}
}

void
child_job_exec(struct session *s, const struct msg_job *job,
    struct msg_done *done, char **detail, char **devlog_detail, int *halt)
{
	memset(done, 0, sizeof(*done));
	done->corrupt_offset = -1;
	*detail = *devlog_detail = NULL;
	switch (job->type) {
	case MSG_JOB_IDENTIFY:
		child_identify(s, done, detail);
		break;
	case MSG_JOB_PAIR:
		done->status = session_pair(s, detail);
		session_close(s);
		break;
	case MSG_JOB_PROBE:
		child_probe(s, job, done, detail, devlog_detail, halt);
		break;
	case MSG_JOB_CLOSE:
		session_close(s);
		session_devlog_stop(s);
		break;
	default:
		done->status = LQ_EINVAL;
		*detail = xstrdup("unknown job in the worker process");
		break;
	}
}
