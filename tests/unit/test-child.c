/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Unit tests for the worker processes: the framing (daemon/msg.c) and
 * the supervisor (daemon/child.c) on a real libevent base, with this
 * test program as the worker (child.c spawns /proc/self/exe, and main
 * turns into child_main for the worker argument, as linkqd's does).
 * Jobs that need no phone: close, and probes of a kind that does not
 * exist, or a mux-connect to a fake usbmuxd that never answers (the
 * worker blocks in libusbmuxd). The loop runs with a deadline until
 * the expected done() calls arrived; nothing waits with a bare sleep.
 */

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "child-main.h"
#include "child.h"
#include "compat/compat.h"
#include "linkq.h"
#include "log.h"
#include "lq-status.h"
#include "msg.h"
#include "xmalloc.h"

#define DEADLINE_SEC	20
#define UDID		"00008030-001A1C3E0A38802E"

struct test_job {
	struct child_job	 job;
	int			 index;
};

static struct event_base	*base;
static int			 ndone;
static int			 done_index[16];
static struct msg_done		 done_rep[16];
static char			*done_detail[16];

static int
setup(void **state)
{
	(void)state;
	if ((base = event_base_new()) == NULL)
		return (-1);
	children_init(base, 1);
	ndone = 0;
	memset(done_index, 0, sizeof(done_index));
	return (0);
}

static int
teardown(void **state)
{
	int	i;

	(void)state;
	children_shutdown();
	for (i = 0; i < ndone; i++)
		free(done_detail[i]);
	event_base_free(base);
	base = NULL;
	return (0);
}

/* done(): record the order and the answer, free the job. */
static void
record_done(struct child_job *job)
{
	struct test_job	*tj = (struct test_job *)job;

	if (ndone < (int)nitems(done_index)) {
		done_index[ndone] = tj->index;
		done_rep[ndone] = job->rep;
		done_detail[ndone] = job->detail;
		ndone++;
	} else
		free(job->detail);
	free(job->devlog_detail);
	free(tj);
}

/* A job of type; a probe of kind, with flags. */
static struct test_job *
new_job(int index, int type, int kind, uint32_t flags)
{
	struct test_job	*tj;

	tj = xcalloc(1, sizeof(*tj));
	child_job_init(&tj->job, type, record_done);
	tj->job.req.kind = kind;
	tj->job.req.flags = flags;
	tj->index = index;
	return (tj);
}

/* Run the loop until n done() calls, or fail at the deadline. */
static void
loop_until(int n)
{
	time_t	end = time(NULL) + DEADLINE_SEC;

	while (ndone < n) {
		if (time(NULL) > end)
			fail_msg("%d of %d jobs back", ndone, n);
		assert_int_not_equal(event_base_loop(base, EVLOOP_ONCE), -1);
	}
}

/* A message survives the socket: fixed payload, strings, NULL. */
static void
test_msg_roundtrip(void **state)
{
	const char	*strs[2] = { "what failed", NULL };
	struct msg	*m;
	struct msg_done	 in, out;
	char		*got[2];
	int		 sv[2];

	(void)state;
	m = xmalloc(sizeof(*m));
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	memset(&in, 0, sizeof(in));
	in.status = LQ_ECORRUPT;
	in.bytes_in = 1234567;
	(void)strlcpy(in.info.name, "Phone", sizeof(in.info.name));
	assert_int_equal(msg_send(sv[0], MSG_DONE, 7, &in, sizeof(in), strs,
	    2), 0);
	assert_int_equal(msg_recv(sv[1], m, 0), 1);
	assert_int_equal(m->hdr.type, MSG_DONE);
	assert_int_equal(m->hdr.id, 7);
	assert_int_equal(msg_get(m, &out, sizeof(out), got, 2), 0);
	assert_memory_equal(&in, &out, sizeof(in));
	assert_string_equal(got[0], "what failed");
	assert_null(got[1]);
	free(got[0]);

	/* The wrong shape is refused, with nothing allocated. */
	assert_int_equal(msg_get(m, &out, sizeof(out), got, 1), -1);
	{
		unsigned char	more[sizeof(out) + 1];

		memset(more, 0xa5, sizeof(more));
		assert_int_equal(msg_get(m, more, sizeof(more), got, 2), -1);
		assert_int_equal(more[0], 0xa5);	/* untouched */
	}

	/* A string longer than a message is cut to fit. */
	{
		char	*big = xmalloc(MSG_MAX * 2);
		const char *one[1];

		memset(big, 'x', MSG_MAX * 2 - 1);
		big[MSG_MAX * 2 - 1] = '\0';
		one[0] = big;
		assert_int_equal(msg_send(sv[0], MSG_DONE, 8, &in,
		    sizeof(in), one, 1), 0);
		assert_int_equal(msg_recv(sv[1], m, 0), 1);
		assert_int_equal(msg_get(m, &out, sizeof(out), got, 1), 0);
		assert_true(strlen(got[0]) < MSG_MAX);
		assert_true(strlen(got[0]) > MSG_MAX / 2);
		free(got[0]);
		free(big);
	}

	/* A packet whose header lies about its length. */
	{
		struct msg_hdr	hdr = { MSG_DONE, 100, 1, 0 };

		assert_int_equal(send(sv[0], &hdr, sizeof(hdr), 0),
		    (ssize_t)sizeof(hdr));
		assert_int_equal(msg_recv(sv[1], m, 0), -1);
		assert_int_equal(errno, EPROTO);
		assert_int_equal(send(sv[0], &hdr, 3, 0), 3);
		assert_int_equal(msg_recv(sv[1], m, 0), -1);
		assert_int_equal(errno, EPROTO);
	}

	/* The end of the stream. */
	(void)close(sv[0]);
	assert_int_equal(msg_recv(sv[1], m, 0), 0);
	(void)close(sv[1]);
	free(m);
}

/* A close with no process answers without starting one. */
static void
test_close_idle(void **state)
{
	struct child	*c;

	(void)state;
	c = child_new(UDID, "/linkq");
	child_submit(c, &new_job(0, MSG_JOB_CLOSE, 0, 0)->job);
	assert_int_equal(ndone, 0);	/* never inside child_submit */
	loop_until(1);
	assert_int_equal(done_rep[0].status, LQ_OK);
	assert_int_equal(child_pid(c), -1);
	child_free(c);
}

/*
 * Jobs come back in order from one process; a probe behind one that
 * failed does not run until one comes with MSG_JOB_GO.
 */
static void
test_order_halt(void **state)
{
	struct child	*c;
	pid_t		 pid;
	int		 i;

	(void)state;
	c = child_new(UDID, "/linkq");
	child_submit(c, &new_job(0, MSG_JOB_PROBE, 99, MSG_JOB_GO)->job);
	child_submit(c, &new_job(1, MSG_JOB_PROBE, 99, 0)->job);
	child_submit(c, &new_job(2, MSG_JOB_PROBE, 99, MSG_JOB_GO)->job);
	child_submit(c, &new_job(3, MSG_JOB_CLOSE, 0, 0)->job);
	pid = child_pid(c);
	assert_true(pid > 0);
	loop_until(4);
	for (i = 0; i < 4; i++)
		assert_int_equal(done_index[i], i);
	assert_int_equal(done_rep[0].status, LQ_EINVAL);
	assert_string_equal(done_detail[0],
	    "no such probe in the worker process");
	assert_int_equal(done_rep[0].halted, 1);
	assert_int_equal(done_rep[1].ran, 0);		/* halted */
	assert_int_equal(done_rep[2].status, LQ_EINVAL);	/* ran */
	assert_int_equal(done_rep[3].status, LQ_OK);
	assert_int_equal(child_pid(c), pid);
	child_free(c);
}

/* A worker killed from outside is reaped; the next job gets a new one. */
static void
test_restart(void **state)
{
	struct child	*c;
	pid_t		 pid;
	time_t		 end = time(NULL) + DEADLINE_SEC;

	(void)state;
	c = child_new(UDID, "/linkq");
	child_submit(c, &new_job(0, MSG_JOB_PROBE, 99, MSG_JOB_GO)->job);
	loop_until(1);
	pid = child_pid(c);
	assert_int_equal(kill(pid, SIGKILL), 0);
	while (child_pid(c) != -1) {
		assert_true(time(NULL) <= end);
		assert_int_not_equal(event_base_loop(base, EVLOOP_ONCE), -1);
	}
	/* Reaped: no such process any more. */
	assert_int_equal(kill(pid, 0), -1);
	child_submit(c, &new_job(1, MSG_JOB_PROBE, 99, MSG_JOB_GO)->job);
	assert_true(child_pid(c) > 0 && child_pid(c) != pid);
	loop_until(2);
	assert_int_equal(done_rep[1].status, LQ_EINVAL);
	child_free(c);
}

/*
 * A stopped worker does not answer a cancel: it is killed at the grace
 * deadline, and its queued jobs come back not run, with the reason.
 */
static void
test_stopped_killed(void **state)
{
	struct child	*c;

	(void)state;
	c = child_new(UDID, "/linkq");
	child_submit(c, &new_job(0, MSG_JOB_PROBE, 99, MSG_JOB_GO)->job);
	loop_until(1);
	assert_int_equal(kill(child_pid(c), SIGSTOP), 0);
	child_submit(c, &new_job(1, MSG_JOB_PROBE, 99, MSG_JOB_GO)->job);
	child_submit(c, &new_job(2, MSG_JOB_CLOSE, 0, 0)->job);
	child_cancel(c);
	loop_until(3);
	assert_int_equal(done_index[1], 1);
	assert_int_equal(done_rep[1].ran, 0);
	assert_int_equal(done_rep[1].status, LQ_ECANCELED);
	assert_string_equal(done_detail[1], "the worker process did not "
	    "answer by its deadline and was killed");
	assert_int_equal(done_rep[2].status, LQ_ECANCELED);
	assert_int_equal(child_pid(c), -1);
	child_free(c);
}

/*
 * Messages packed and sent in one batch (a worker's held results)
 * arrive as separate packets, in order, each with its own payload.
 */
static void
test_msg_batch(void **state)
{
	const char	*none[2] = { NULL, NULL };
	struct msg_out	 out[MSG_BATCH_MAX];
	struct msg_done	 in[MSG_BATCH_MAX], got;
	struct msg	*m;
	char		*strs[2];
	int		 sv[2], i;

	(void)state;
	m = xmalloc(sizeof(*m));
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	for (i = 0; i < MSG_BATCH_MAX; i++) {
		memset(&in[i], 0, sizeof(in[i]));
		in[i].latency_us = 1000 + i;
		in[i].ended_us = 5000 + i;
		assert_int_equal(msg_pack(&out[i], MSG_DONE, 100 + i, &in[i],
		    sizeof(in[i]), none, 2), 0);
	}
	assert_int_equal(msg_send_packed(sv[0], out, MSG_BATCH_MAX), 0);
	for (i = 0; i < MSG_BATCH_MAX; i++) {
		assert_int_equal(msg_recv(sv[1], m, MSG_DONTWAIT), 1);
		assert_int_equal(m->hdr.type, MSG_DONE);
		assert_int_equal(m->hdr.id, 100 + i);
		assert_int_equal(msg_get(m, &got, sizeof(got), strs, 2), 0);
		assert_null(strs[0]);
		assert_null(strs[1]);
		assert_int_equal(got.latency_us, 1000 + i);
		assert_int_equal(got.ended_us, 5000 + i);
	}
	assert_int_equal(msg_recv(sv[1], m, MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
	/* More than a batch is refused whole. */
	assert_int_equal(msg_send_packed(sv[0], out, MSG_BATCH_MAX + 1), -1);
	assert_int_equal(errno, EINVAL);

	/* The worker's side: a batch of jobs in one recvmmsg. */
	{
		struct msg_small	 small[MSG_BATCH_MAX];
		struct msg_job		 job, back;
		char			 big[MSG_SMALL_MAX + 1];

		memset(&job, 0, sizeof(job));
		for (i = 0; i < 3; i++) {
			job.kind = i;
			assert_int_equal(msg_send(sv[0], MSG_JOB, 200 + i, &job,
			    sizeof(job), NULL, 0), 0);
		}
		assert_int_equal(msg_recv_small(sv[1], small, MSG_BATCH_MAX,
		    MSG_DONTWAIT), 3);
		for (i = 0; i < 3; i++) {
			assert_int_equal(small[i].hdr.id, 200 + i);
			msg_from_small(m, &small[i]);
			assert_int_equal(msg_get(m, &back, sizeof(back), NULL,
			    0), 0);
			assert_int_equal(back.kind, i);
		}
		assert_int_equal(msg_recv_small(sv[1], small, MSG_BATCH_MAX,
		    MSG_DONTWAIT), -1);
		assert_int_equal(errno, EAGAIN);
		/* Longer than a job or a cancel can be: broken. */
		memset(big, 'x', sizeof(big));
		assert_int_equal(msg_send(sv[0], MSG_JOB, 9, big, sizeof(big),
		    NULL, 0), 0);
		assert_int_equal(msg_recv_small(sv[1], small, MSG_BATCH_MAX,
		    MSG_DONTWAIT), -1);
		assert_int_equal(errno, EPROTO);
		/* The loop's end closed: the end of the stream. */
		(void)close(sv[0]);
		assert_int_equal(msg_recv_small(sv[1], small, MSG_BATCH_MAX,
		    MSG_DONTWAIT), 0);
	}
	(void)close(sv[1]);
	free(m);
}

/* A fake usbmuxd at path that accepts and never answers; its socket. */
static int
mute_usbmuxd(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	(void)strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	(void)unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd != -1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(fd, 8), 0);
	return (fd);
}

/*
 * A worker that dies in a probe (an abort in the library): the probe
 * ran and failed with the signal; the one queued behind never ran.
 */
static void
test_crash_in_probe(void **state)
{
	struct child	*c;
	struct test_job	*first;
	char		 path[64], env[80];
	time_t		 end = time(NULL) + DEADLINE_SEC;
	int		 fd;

	(void)state;
	(void)snprintf(path, sizeof(path), "/tmp/test-child.%ld",
	    (long)getpid());
	fd = mute_usbmuxd(path);
	(void)snprintf(env, sizeof(env), "UNIX:%s", path);
	assert_int_equal(setenv("USBMUXD_SOCKET_ADDRESS", env, 1), 0);
	c = child_new(UDID, "/linkq");
	first = new_job(0, MSG_JOB_PROBE, LQ_PROBE_MUX_CONNECT, MSG_JOB_GO);
	child_submit(c, &first->job);
	child_submit(c, &new_job(1, MSG_JOB_PROBE, LQ_PROBE_MUX_CONNECT,
	    0)->job);
	/* Started (its page says so): it waits on the mute usbmuxd. */
	while (ndone == 0 && child_running(c, NULL) != first->job.id) {
		assert_true(time(NULL) <= end);
		assert_int_not_equal(event_base_loop(base, EVLOOP_NONBLOCK),
		    -1);
		(void)usleep(1000);	/* the page makes no event: poll */
	}
	assert_int_equal(ndone, 0);
	/* SIGABRT: the sanitizers catch SIGSEGV and exit instead. */
	assert_int_equal(kill(child_pid(c), SIGABRT), 0);
	loop_until(2);
	assert_int_equal(done_rep[0].ran, 1);
	assert_int_equal(done_rep[0].status, LQ_EPROTO);
	assert_non_null(strstr(done_detail[0], "the worker process died "
	    "(signal 6"));
	assert_int_equal(done_rep[1].ran, 0);
	assert_int_equal(done_rep[1].status, LQ_ECANCELED);
	child_free(c);
	(void)close(fd);
	(void)unlink(path);
	(void)unsetenv("USBMUXD_SOCKET_ADDRESS");
}

int
main(int argc, char **argv)
{
	struct sigaction	sa;
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_msg_roundtrip),
		cmocka_unit_test(test_msg_batch),
		cmocka_unit_test_setup_teardown(test_close_idle, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_order_halt, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_restart, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stopped_killed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_crash_in_probe, setup,
		    teardown),
	};

	/* The worker processes child.c starts are this program. */
	if (argc > 1 && strcmp(argv[1], CHILD_ARG) == 0)
		child_main(argc, argv);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		return (1);
	log_init(LOG_TO_STDERR, 0, "test-child");
	return (cmocka_run_group_tests_name("child", tests, NULL, NULL));
}
