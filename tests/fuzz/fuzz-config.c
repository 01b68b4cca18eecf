/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * libFuzzer harness: the configuration file (daemon/config.c, linkq.conf
 * (5)). config_read() takes a path, so each input is written to a file
 * of its own first. A file is either read, and then every profile and
 * port it gives can be looked up and the whole dumped, or refused with
 * a message that names the file; nothing may crash or leak.
 */

#include <sys/queue.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"
#include "log.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	 conf_path[64];
static FILE	*devnull;

static void
cleanup(void)
{
	(void)unlink(conf_path);
}

/*
 * A new file each time: ext4 flushes a file truncated and written again
 * at its close (auto_da_alloc), which made a run wait on the disk.
 */
static void
write_input(const uint8_t *data, size_t size)
{
	int	fd;

	(void)unlink(conf_path);
	if ((fd = open(conf_path, O_WRONLY | O_CREAT | O_EXCL, 0600)) == -1)
		fatal("open %s", conf_path);
	if (write(fd, data, size) != (ssize_t)size)
		fatal("write %s", conf_path);
	(void)close(fd);
}

/* What a configuration read says must be there to look up. */
static void
check(const struct config *cfg)
{
	const struct profile	*pr;
	const struct config_port *cp;

	TAILQ_FOREACH(pr, &cfg->profiles, entry) {
		if (config_profile(cfg, pr->name) == NULL ||
		    strlen(pr->name) > CONFIG_NAME_MAX)
			abort();
	}
	TAILQ_FOREACH(cp, &cfg->ports, entry)
		(void)config_auto_test(cfg, cp->port);
	(void)config_auto_test(cfg, "1-1");
	if (cfg->auto_test != NULL &&
	    config_profile(cfg, cfg->auto_test) == NULL)
		abort();	/* an auto-test names a profile that exists */
	config_dump(cfg, devnull);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config	*cfg;
	char		*cause;

	if (conf_path[0] == '\0') {
		fuzz_scratch_path(conf_path, sizeof(conf_path), "config",
		    ".conf");
		log_init(LOG_TO_STDERR, 0, "fuzz-config");
		if ((devnull = fopen("/dev/null", "w")) == NULL)
			fatal("/dev/null");
		(void)atexit(cleanup);
	}
	write_input(data, size);
	if ((cfg = config_read(conf_path, 1, &cause)) == NULL) {
		if (cause == NULL || strncmp(cause, conf_path,
		    strlen(conf_path)) != 0)
			abort();	/* a refusal names the file */
		free(cause);
		return (0);
	}
	if (cause != NULL)
		abort();
	check(cfg);
	config_free(cfg);
	return (0);
}
