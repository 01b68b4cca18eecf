/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * linkq watch [PORT | -u UDID] [--cable LABEL] [--json] -- COMMAND...:
 * run a restore command (idevicerestore) while linkqd watches the link
 * passively, as a restore-watch run (daemon/watch.h), and record how
 * the command ended. The command's output passes through unchanged and
 * is read for its progress (restore-parse.h); linkq exits with the
 * command's own exit status, so that it is a drop-in in scripts.
 *
 * Pipes, not a pseudo-terminal: stdout and stderr stay apart and
 * byte for byte what the command wrote (a pty merges them and turns
 * \n into \r\n), and idevicerestore prints its progress bar whether or
 * not stdout is a terminal, flushing after each redraw. The cost is
 * that the command's stdio may hold other lines in a buffer for a
 * while; they are late, not lost.
 */

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "compat/compat.h"
#include "client.h"
#include "http.h"
#include "linkq.h"
#include "restore-parse.h"
#include "xmalloc.h"

/* How often the client tells linkqd it is still there (its lease: 90 s). */
#define WATCH_ALIVE_MS		15000
/* The most linkq waits for the run's end after the finish (linkqd: 2 s). */
#define WATCH_TAIL_MS		10000

static volatile sig_atomic_t	 watch_child;	/* pid, 0: none */
static struct sigaction		 watch_old[3];	/* INT, TERM, HUP */

/*
 * SIGINT or SIGTERM for linkq: the command's to act on. A Ctrl-C from
 * the terminal reached the command already (same process group); one
 * sent by kill(1) to linkq alone is passed on.
 */
static void
watch_signal(int sig, siginfo_t *si, void *unused)
{
	(void)unused;
	if (watch_child > 0 && (si == NULL || si->si_code == SI_USER ||
	    si->si_code == SI_QUEUE))
		(void)kill((pid_t)watch_child, sig);
}

static void
watch_signals(void)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = watch_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	(void)sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGINT, &sa, &watch_old[0]);
	(void)sigaction(SIGTERM, &sa, &watch_old[1]);
	(void)sigaction(SIGHUP, &sa, &watch_old[2]);
}

/* In the command: the signals as linkq found them (ignored stays so). */
static void
watch_default_signals(void)
{
	(void)sigaction(SIGINT, &watch_old[0], NULL);
	(void)sigaction(SIGTERM, &watch_old[1], NULL);
	(void)sigaction(SIGHUP, &watch_old[2], NULL);
}

/* The command line as one string, for the record. */
static char *
watch_command_line(int argc, char **argv)
{
	size_t	len = 1;
	char	*s;
	int	 i;

	for (i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	s = xcalloc(1, len);
	for (i = 0; i < argc; i++) {
		if (i > 0)
			(void)strlcat(s, " ", len);
		(void)strlcat(s, argv[i], len);
	}
	return (s);
}

/* Start the command with its stdout and stderr on pipes; pid or -1. */
static pid_t
watch_spawn(char **argv, int fds[2])
{
	int	out[2], err[2], ex[2], errnum;
	pid_t	pid;
	ssize_t	n;

	if (pipe(out) == -1 || pipe(err) == -1 || pipe(ex) == -1) {
		fprintf(stderr, "linkq: watch: pipe: %s\n", strerror(errno));
		return (-1);
	}
	(void)fcntl(ex[1], F_SETFD, FD_CLOEXEC);
	if ((pid = fork()) == -1) {
		fprintf(stderr, "linkq: watch: fork: %s\n", strerror(errno));
		return (-1);
	}
	if (pid == 0) {
		(void)dup2(out[1], STDOUT_FILENO);
		(void)dup2(err[1], STDERR_FILENO);
		(void)close(out[0]);
		(void)close(out[1]);
		(void)close(err[0]);
		(void)close(err[1]);
		(void)close(ex[0]);
		watch_default_signals();
		execvp(argv[0], argv);
		errnum = errno;
		if (write(ex[1], &errnum, sizeof(errnum)) == -1)
			_exit(126);
		_exit(127);
	}
	(void)close(out[1]);
	(void)close(err[1]);
	(void)close(ex[1]);
	/* The exec's error, if any, comes back on ex: a clear message. */
	n = read(ex[0], &errnum, sizeof(errnum));
	(void)close(ex[0]);
	if (n == (ssize_t)sizeof(errnum)) {
		fprintf(stderr, "linkq: watch: cannot run %s: %s\n", argv[0],
		    strerror(errnum));
		(void)close(out[0]);
		(void)close(err[0]);
		(void)waitpid(pid, NULL, 0);
		return (-1);
	}
	fds[0] = out[0];
	fds[1] = err[0];
	return (pid);
}

/* Write all of buf to fd, as the command wrote it. */
static void
watch_pass(int fd, const char *buf, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return;		/* a closed terminal: read on */
		}
		buf += n;
		len -= (size_t)n;
	}
}

/* Pass the command's output through and read it, until both close. */
static void
watch_follow(int fds[2], struct restore_parse *rp, const char *alive)
{
	struct pollfd	pfd[2];
	char		buf[4096];
	ssize_t		n;
	json_t		*reply;
	long		code;
	int		i, open = 2;

	for (i = 0; i < 2; i++) {
		pfd[i].fd = fds[i];
		pfd[i].events = POLLIN;
	}
	while (open > 0) {
		if ((n = poll(pfd, 2, WATCH_ALIVE_MS)) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (n == 0) {
			reply = NULL;
			if (http_json("POST", alive, NULL, &code, &reply) == 0)
				json_decref(reply);
			continue;
		}
		for (i = 0; i < 2; i++) {
			if (pfd[i].fd == -1 || pfd[i].revents == 0)
				continue;
			if ((n = read(pfd[i].fd, buf, sizeof(buf))) > 0) {
				watch_pass(i == 0 ? STDOUT_FILENO :
				    STDERR_FILENO, buf, (size_t)n);
				restore_parse_feed(rp, i, buf, (size_t)n);
			} else if (n == 0 || errno != EINTR) {
				(void)close(pfd[i].fd);
				pfd[i].fd = -1;
				open--;
			}
		}
	}
	restore_parse_end(rp);
}

/* Wait for the command; its wait status. */
static int
watch_wait(pid_t pid)
{
	int	status;

	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR)
			return (-1);
	}
	return (status);
}

/* The run's events as "kind: detail" lines, the expected ones left out. */
static void
watch_print_events(FILE *f, json_t *run)
{
	json_t	*ev;
	size_t	 i;

	json_array_foreach(json_object_get(run, "events"), i, ev) {
		if (json_is_true(json_object_get(ev, "expected")))
			continue;
		fprintf(f, "    %s: %s\n", client_str(ev, "kind", "?"),
		    client_str(ev, "detail", ""));
	}
}

/* The summary, on stderr: stdout is the command's. */
static void
watch_summary(json_t *run, const struct restore_parse *rp)
{
	json_int_t	 links;
	const char	*outcome = client_str(run, "outcome", "none");
	char		 line[512];

	links = json_integer_value(json_object_get(run, "link_events"));
	client_restore_outcome(run, rp->step[0] != '\0' ? rp->step : NULL,
	    line, sizeof(line));
	fprintf(stderr, "linkq: run %lld (restore-watch): restore %s\n",
	    (long long)json_integer_value(json_object_get(run, "id")), line);
	if (rp->error[0] != '\0')
		fprintf(stderr, "    last error: %s\n", rp->error);
	fprintf(stderr, "    link events on %s: %lld%s\n",
	    client_str(run, "port", "?"), (long long)links,
	    links == 0 ? " (a clean link)" : "");
	watch_print_events(stderr, run);
	if (links > 0 && strcmp(outcome, "ok") != 0)
		fprintf(stderr, "    blame: the link (cable or port); "
		    "linkq report weighs it with the other runs\n");
	else if (strcmp(outcome, "ok") != 0)
		fprintf(stderr, "    the link was clean: linkq report tells "
		    "whether this step fails on other cables and ports\n");
}

/*
 * linkqd takes the port's events for a moment after the finish (the
 * kernel's report of what ended the command): wait for the run's end,
 * WATCH_TAIL_MS at most, and return its JSON (run, or a newer one).
 */
static json_t *
watch_tail(json_int_t id, json_t *run)
{
	json_t	*reply;
	char	 path[64];
	long	 code;
	int	 waited;

	(void)snprintf(path, sizeof(path), "/v1/runs/%lld", (long long)id);
	for (waited = 0; run != NULL && waited < WATCH_TAIL_MS &&
	    strcmp(client_str(run, "state", ""), "finishing") == 0;
	    waited += 200) {
		(void)poll(NULL, 0, 200);
		reply = NULL;
		if (http_json("GET", path, NULL, &code, &reply) == -1 ||
		    code != 200) {
			json_decref(reply);
			break;
		}
		json_decref(run);
		run = reply;
	}
	return (run);
}

/* Tell linkqd how the command ended; the run's JSON or NULL. */
static json_t *
watch_finish(json_int_t id, int status, const struct restore_parse *rp,
    const char *command)
{
	json_t	*body, *reply;
	char	 path[64];

	body = json_object();
	if (WIFEXITED(status))
		(void)json_object_set_new(body, "exit_status",
		    json_integer(WEXITSTATUS(status)));
	else
		(void)json_object_set_new(body, "signal",
		    json_integer(WIFSIGNALED(status) ? WTERMSIG(status) : 1));
	if (rp->percent_tenths >= 0)
		(void)json_object_set_new(body, "percent",
		    json_real(rp->percent_tenths / 10.0));
	if (rp->step[0] != '\0')
		(void)json_object_set_new(body, "step", json_string(rp->step));
	(void)json_object_set_new(body, "command", json_string(command));
	(void)snprintf(path, sizeof(path), "/v1/runs/%lld/finish",
	    (long long)id);
	if (client_call("POST", path, body, &reply) == -1)
		reply = NULL;
	json_decref(body);
	return (watch_tail(id, reply));
}

/* Start the run; its id, or -1 (said). */
static json_int_t
watch_start(const char *udid, const char *port, const char *cable,
    const char *command)
{
	json_t		*body, *reply = NULL;
	json_int_t	 id;
	long		 code;

	body = json_pack("{s:s, s:s}", "kind", "restore-watch", "command",
	    command);
	if (udid != NULL)
		(void)json_object_set_new(body, "udid", json_string(udid));
	if (port != NULL)
		(void)json_object_set_new(body, "port", json_string(port));
	if (cable != NULL)
		(void)json_object_set_new(body, "cable", json_string(cable));
	if (http_json("POST", "/v1/runs", body, &code, &reply) == -1) {
		json_decref(body);
		return (-1);
	}
	json_decref(body);
	if (code != 201) {
		(void)client_api_error(reply, code);
		json_decref(reply);
		return (-1);
	}
	id = json_integer_value(json_object_get(reply, "id"));
	json_decref(reply);
	return (id);
}

/* Index of the first "--" in argv, or -1. */
static int
watch_dashdash(int argc, char **argv)
{
	int	i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return (i);
	}
	return (-1);
}

/* The exit status of linkq: the command's, or 128 + its signal. */
static int
watch_exit(int status)
{
	if (WIFEXITED(status))
		return (WEXITSTATUS(status));
	if (WIFSIGNALED(status))
		return (128 + WTERMSIG(status));
	return (LQ_EXIT_USAGE);
}

int
cmd_watch(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLIENT_LONG_OPTIONS,
		{ "cable", required_argument, NULL, 'c' },
		{ "udid", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 }
	};
	struct restore_parse	 rp;
	const char		*cable = NULL, *udid = NULL, *port = NULL;
	const char		*why;
	char			*command, alive[64];
	char			**cmd;
	json_t			*run;
	json_int_t		 id;
	pid_t			 pid;
	int			 ch, dd, ncmd, fds[2], status;

	if (argc == 2 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0))
		client_option("watch", 'h');
	if ((dd = watch_dashdash(argc, argv)) == -1 || dd == argc - 1) {
		fprintf(stderr, "linkq: watch: give the command after --, "
		    "such as: linkq watch -- idevicerestore -e FILE.ipsw\n");
		return (client_usage("watch"));
	}
	cmd = argv + dd + 1;
	ncmd = argc - dd - 1;
	argc = dd;
	while ((ch = getopt_long(argc, argv, "hu:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			cable = optarg;
			break;
		case 'u':
			udid = optarg;
			break;
		default:
			client_option("watch", ch);
			break;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1 || (argc == 1 && udid != NULL))
		return (client_usage("watch"));
	if (argc == 1)
		port = argv[0];
	if (cable != NULL && (why = lq_label_invalid(cable)) != NULL) {
		fprintf(stderr, "linkq: bad cable label: %s\n", why);
		return (LQ_EXIT_USAGE);
	}

	command = watch_command_line(ncmd, cmd);
	if ((id = watch_start(udid, port, cable, command)) == -1) {
		free(command);
		return (LQ_EXIT_USAGE);
	}
	fprintf(stderr, "linkq: watching the link as run %lld; running %s\n",
	    (long long)id, cmd[0]);
	(void)snprintf(alive, sizeof(alive), "/v1/runs/%lld/alive",
	    (long long)id);
	restore_parse_init(&rp);
	watch_signals();
	(void)fflush(NULL);
	if ((pid = watch_spawn(cmd, fds)) == -1) {
		/* It never ran: status 127, as a shell says. */
		status = 127 << 8;
	} else {
		watch_child = pid;
		watch_follow(fds, &rp, alive);
		status = watch_wait(pid);
		watch_child = 0;
	}
	run = watch_finish(id, status, &rp, command);
	free(command);
	if (run != NULL) {
		if (opt_json)
			client_print_json(run);
		else
			watch_summary(run, &rp);
		json_decref(run);
	}
	return (watch_exit(status));
}
