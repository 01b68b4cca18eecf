/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * A device session: the libimobiledevice connections one attachment's
 * worker keeps open between probes (a device handle, a live lockdown
 * session with TLS, an AFC client on it, the device's syslog stream
 * during a run), and the jobs done once per attachment: identify the
 * device without pairing it, remove the leftovers of earlier runs, pair
 * on request.
 *
 * This is the boundary with libimobiledevice and libusbmuxd: every
 * idevice_error_t, lockdownd_error_t, afc_error_t and
 * syslog_relay_error_t is mapped to an lq_status here and nowhere else,
 * with a detail string for people.
 *
 * Process: sessions live in the attachment's worker process
 * (child-main.h), never in the loop's process, since a broken phone can
 * make libimobiledevice crash or spin; one thread uses a session. Files
 * on the phone are only ever made, read, listed and removed inside the
 * session's folder (DESIGN.md, Safety).
 */

#ifndef LQ_SESSION_H
#define LQ_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include <libimobiledevice/afc.h>
#include <libimobiledevice/libimobiledevice.h>
#include <libimobiledevice/lockdown.h>

#include "compat/compat.h"

/* What one session_devlog() reads at most. */
#define SESSION_DEVLOG_BYTES	(256 * 1024)
#define SESSION_DEVLOG_US	(20 * 1000)
#define SESSION_DEVLOG_EVERY_US	(1000)

struct devlog_found;
struct probe_progress;
struct session;

/*
 * Who watches the job that runs on a session (the worker process's main
 * loop, child-main.c): watch gets the socket the next blocking call
 * waits on, or -1, so that a cancel can shut it down (shutdown(2)) and
 * the call returns; cancelled says whether the job was cancelled;
 * progress gets the counters of a probe as its chunks complete. Any of
 * them may be NULL. The session only calls them; arg is theirs.
 */
struct session_watcher {
	void	(*watch)(void *, int);
	int	(*cancelled)(void *);
	void	(*progress)(void *, const struct probe_progress *);
	void	*arg;
};

/* Filled by session_identify(); strings empty when unknown. */
struct session_info {
	char		 name[128];
	char		 product_type[32];
	char		 ios_version[32];
	char		 serial[64];
};

/* udid of the device, folder such as "/linkq" (one level below /). */
struct session	*session_new(const char *, const char *);
void		 session_free(struct session *);

/* The watcher of the job that runs now, or NULL for none. */
void		 session_set_watcher(struct session *,
		    const struct session_watcher *);
/* The socket the next blocking call waits on, or -1 for none. */
void		 session_watch(struct session *, int);
/* A probe's counters moved (watcher's progress). */
void		 session_progress(struct session *,
		    const struct probe_progress *);
/*
 * Drop every connection but the device's syslog stream, which
 * session_devlog_stop() ends; the next call opens fresh ones.
 */
void		 session_close(struct session *);
/* Whether the watched job was cancelled; 0 without a watcher. */
int		 session_cancelled(struct session *);

/*
 * Each returns an lq_status; on failure *detail (if detail is not NULL)
 * is an allocated sentence the caller frees. The handles belong to the
 * session and stay valid until session_close().
 */
int	 session_device(struct session *, idevice_t *, char **);
int	 session_lockdown(struct session *, lockdownd_client_t *, char **);
int	 session_afc(struct session *, afc_client_t *, char **);
/* session_afc, and the folder made (afc_make_directory) on first use. */
int	 session_folder(struct session *, afc_client_t *, char **);
/*
 * Write all of a buffer through an open AFC file handle (looping on
 * partial writes), or read up to its size until the end of the file
 * (*got bytes came). The file path names the file in *detail. The
 * caller watches the AFC socket.
 */
int	 session_afc_write(afc_client_t, uint64_t, const char *,
	    const void *, size_t, char **);
int	 session_afc_read(afc_client_t, uint64_t, const char *, void *,
	    size_t, size_t *, char **);
/* Socket of a live client, watched before each blocking call; or -1. */
int	 session_lockdown_fd(lockdownd_client_t);
int	 session_afc_fd(afc_client_t);
/*
 * A new lockdown client with the full handshake (connect, QueryType,
 * StartSession, TLS), closed again; it never pairs. The TLS handshake
 * has no timeout of its own: the socket is watched throughout.
 */
int	 session_handshake(struct session *, char **);
/* The folder path of a file name: "/linkq/" name. */
void	 session_path(struct session *, const char *, char *, size_t);

/*
 * Read what the device's syslog (com.apple.syslog_relay) sent since the
 * last call into *found (devlog.h; the caller zeroes it), without
 * waiting for more: at most SESSION_DEVLOG_BYTES or SESSION_DEVLOG_US,
 * whichever comes first, never when the job was cancelled, and not
 * again within SESSION_DEVLOG_EVERY_US of the last look (the lines
 * wait in the socket; a quick probe would otherwise pay a poll(2)
 * between every two round trips). Flags:
 * SESSION_DEVLOG_FRESH drops a stream left open before (by an earlier
 * run) with what it holds unread; SESSION_DEVLOG_OPEN starts the
 * stream, if it is not open, through the lockdown session, which
 * blocks (watched) until the device answers. Without it a closed
 * stream reads nothing. On a failure to start or read the stream is
 * closed and the status returned, with *detail; the other connections
 * are left as they are. The stream outlives session_close(), so that
 * a failed probe does not end it.
 */
#define SESSION_DEVLOG_FRESH	0x1
#define SESSION_DEVLOG_OPEN	0x2
int	 session_devlog(struct session *, int, struct devlog_found *,
	    char **);
/* End the device's syslog stream, if it is open. */
void	 session_devlog_stop(struct session *);

/*
 * Whether the device trusts this host, and what it is. LQ_ENOTPAIRED
 * (no pair record, or the device refuses it), LQ_ELOCKED (passcode
 * locked), LQ_EPAIRPENDING (Trust prompt showing), or LQ_OK with info.
 */
int	 session_identify(struct session *, struct session_info *, char **);
/* Remove every file in the folder; *removed counts them. */
int	 session_cleanup(struct session *, unsigned int *, char **);
/*
 * Ask the device to pair: LQ_EPAIRPENDING while the Trust prompt waits
 * (call again to see the answer), LQ_OK once paired, LQ_ENOTPAIRED if
 * the user declined, LQ_ELOCKED if the phone is locked.
 */
int	 session_pair(struct session *, char **);

int	 session_status_idevice(int);	/* idevice_error_t */
int	 session_status_lockdown(int);	/* lockdownd_error_t */
int	 session_status_afc(int);	/* afc_error_t */
int	 session_status_syslog(int);	/* syslog_relay_error_t */
/*
 * Map a library error as above and, if detail is not NULL and *detail
 * not yet set (the first failure is the cause), set *detail to the
 * formatted call, the library's name for the error and its code.
 */
int	 session_idevice_error(char **, int, const char *, ...)
	    printflike(3, 4);
int	 session_lockdown_error(char **, int, const char *, ...)
	    printflike(3, 4);
int	 session_afc_error(char **, int, const char *, ...)
	    printflike(3, 4);
int	 session_syslog_error(char **, int, const char *, ...)
	    printflike(3, 4);

#endif /* LQ_SESSION_H */
