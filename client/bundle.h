/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * linkq bundle: the evidence of a run, a cable or a port in one
 * .tar.gz (cmd-bundle.c). bundle-source.c reads the history through
 * linkqd or from a database file (--db), the same data either way;
 * bundle-files.c writes the members, every line through the
 * identifier table (bundle-ids.h); bundle-tar.h packs them.
 *
 * Everything is read into temporary files before the archive is
 * begun: linkqd going away ends the client (http.h), and must not leave
 * a half-written archive behind. One struct bundle, one thread.
 */

#ifndef LQ_BUNDLE_H
#define LQ_BUNDLE_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "compat/compat.h"

struct sqlite3;
struct bundle_ids;

/* What the bundle holds: one run, or the runs of a cable or a port. */
struct bundle_select {
	int64_t		 run;		/* 0: by cable or port */
	const char	*cable;
	const char	*port;
};

/* A member being filled: written here, packed at the end. */
struct bundle_member {
	const char	*name;		/* in the bundle's directory */
	FILE		*f;		/* a tmpfile(3) */
};

#define BUNDLE_MEMBERS_MAX	16

struct bundle {
	const char		*db_file;	/* --db, else NULL */
	struct sqlite3		*db;
	struct bundle_ids	*ids;
	struct bundle_select	 sel;
	char			 what[128];	/* "run 8", "cable A-01" */
	json_t			*runs;		/* selected, oldest first */
	int			 truncated;	/* more runs than taken */
	json_t			*devices;	/* their devices, raw */
	json_t			*status;	/* GET /v1/status, or NULL */
	json_t			*profiles;	/* GET /v1/profiles, or NULL */
	int64_t			 made_us;
	uint64_t		 nevents, nkernel, nsyslog, nprobes;
	struct bundle_member	 members[BUNDLE_MEMBERS_MAX];
	size_t			 nmembers;
};

/* bundle-source.c. Each prints its error and returns -1. */
/* The selected runs into b->runs; 0 if none (message printed: 2). */
int	 bundle_select_runs(struct bundle *);
/* The devices of b->runs into b->devices, and into the id table. */
int	 bundle_devices(struct bundle *);
/* Each event of run, oldest first, to cb. */
int	 bundle_events(struct bundle *, int64_t,
	    int (*)(json_t *, void *), void *);
/* Each probe of run, oldest first, to cb. */
int	 bundle_probes(struct bundle *, int64_t,
	    int (*)(json_t *, void *), void *);
/* The report by pair, as GET /v1/report gives it (new reference). */
json_t	*bundle_report(struct bundle *);
/* linkqd's status and profiles, where linkqd is asked (not with --db). */
void	 bundle_daemon_info(struct bundle *);

/* bundle-files.c: the members. */
int	 bundle_write_members(struct bundle *);
/* A new member of the bundle, or NULL (error printed). */
struct bundle_member *bundle_member_new(struct bundle *, const char *);
/* Text into m, its identifiers replaced. */
void	 bundle_member_text(struct bundle *, struct bundle_member *,
	    const char *);
void	 bundle_member_printf(struct bundle *, struct bundle_member *,
	    const char *, ...) printflike(3, 4);
/* o as one line of JSON into m, identifiers replaced (o unchanged). */
void	 bundle_member_json(struct bundle *, struct bundle_member *,
	    json_t *);
/* An epoch microsecond as 2026-12-06T21:50:00.123Z. */
void	 bundle_time(int64_t, char *, size_t);

/* bundle-report.c: report.txt and report.json of the selection. */
int	 bundle_report_members(struct bundle *);
void	 bundle_members_free(struct bundle *);

/* bundle-readme.c: README.txt, once the members are written. */
char	*bundle_readme(struct bundle *);

#endif /* LQ_BUNDLE_H */
