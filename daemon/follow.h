/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Following a stream of text records on the loop, for kmsg.c and
 * usbmon.c: a regular file that a writer appends to (linkq-sim's --kmsg
 * and --usbmon files), or the read end of a pipe that a thread of ours
 * writes. Neither is busy-polled: the file wakes the loop through
 * inotify(7) IN_MODIFY (as `tail -F` does) and is read from wherever
 * the caller left its offset, and from its start again if it shrinks
 * (the simulator started again); the pipe wakes it when readable.
 *
 * The bytes read are cut into records by the caller's end function and
 * each whole record is handed on; a record longer than the buffer is
 * skipped with a warning. Loop thread only. A follower owns its file
 * descriptors and its buffer; follow_free() releases them.
 */

#ifndef LQ_FOLLOW_H
#define LQ_FOLLOW_H

#include <stddef.h>

#include <event2/event.h>

struct follow;

struct follow_cb {
	const char	*name;		/* for the log: "kmsg" */
	size_t		 max;		/* the buffer: longest record kept */
	/* The length of the first whole record of buf, or 0 if none. */
	size_t		(*end)(const char *, size_t);
	/* One whole record, with its newline. */
	void		(*record)(const char *, size_t, void *);
	/*
	 * Reading failed, or the pipe's writer closed it: the follower
	 * has stopped and calls nothing more. The function may free it.
	 */
	void		(*error)(const char *, void *);
	void		*arg;
};

/*
 * Follow the regular file path, open non-blocking on fd. Takes fd, also
 * on failure. NULL, *cause saying why (not allocated), if inotify
 * refuses the watch.
 */
struct follow	*follow_file(struct event_base *, const char *, int,
		    const struct follow_cb *, const char **);
/* Follow the non-blocking read end fd of a pipe; takes fd. */
struct follow	*follow_pipe(struct event_base *, int,
		    const struct follow_cb *);
/* Stop following, close the descriptors, free f (NULL is fine). */
void		 follow_free(struct follow *);

#endif /* LQ_FOLLOW_H */
