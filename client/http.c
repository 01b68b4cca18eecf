/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * HTTP/1.1 to linkqd's unix socket through libcurl.
 *
 * libcurl and not libevent's evhttp: the evhttp client of libevent 2.1
 * (Debian 12) cannot use a connected AF_UNIX socket, since its connect
 * path resets the bufferevent and closes the descriptor it was given,
 * then resolves a host name; unix sockets came to the evhttp client in
 * 2.2. libcurl speaks HTTP over a unix socket by design
 * (CURLOPT_UNIX_SOCKET_PATH), the very client the tests and the manual
 * use as curl --unix-socket.
 *
 * The client is one request at a time and blocks; Ctrl-C during a
 * stream sets a flag that the transfer callbacks see within a second
 * (linkqd sends a progress line every second, and libcurl calls the
 * progress callback at least as often).
 */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "compat/compat.h"
#include "http.h"
#include "linkq.h"
#include "xmalloc.h"

/* No reply of the API comes near this; a stream line neither. */
#define HTTP_MAX_REPLY	(16 * 1024 * 1024)

struct http_xfer {
	CURL		*curl;
	char		*buf;
	size_t		 len;
	size_t		 size;
	long		 status;
	http_line_cb	 cb;		/* NULL: keep the whole body */
	void		*arg;
	int		 stopped;	/* cb asked to stop */
	int		 overflow;
};

static char			*socket_path;
static volatile sig_atomic_t	 interrupted;

void
http_init(const char *path)
{
	if (curl_global_init(CURL_GLOBAL_NOTHING) != 0) {
		fprintf(stderr, "linkq: cannot initialise libcurl\n");
		exit(2);
	}
	socket_path = xstrdup(path);
}

void
http_cleanup(void)
{
	free(socket_path);
	socket_path = NULL;
	curl_global_cleanup();
}

static void
http_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* Append data to the transfer's buffer; -1 past the cap. */
static int
http_append(struct http_xfer *x, const char *data, size_t len)
{
	size_t	need;

	if (len > HTTP_MAX_REPLY - x->len) {
		x->overflow = 1;
		return (-1);
	}
	need = x->len + len + 1;
	if (need > x->size) {
		x->size = need < 4096 ? 4096 : need * 2;
		x->buf = xreallocarray(x->buf, 1, x->size);
	}
	memcpy(x->buf + x->len, data, len);
	x->len += len;
	x->buf[x->len] = '\0';
	return (0);
}

/* Hand the complete lines in the buffer to the callback. */
static void
http_lines(struct http_xfer *x)
{
	char	*nl;
	size_t	 n, used = 0;

	while (!x->stopped && (nl = memchr(x->buf + used, '\n',
	    x->len - used)) != NULL) {
		n = (size_t)(nl - (x->buf + used));
		*nl = '\0';
		if (n > 0 && x->buf[used + n - 1] == '\r')
			x->buf[used + --n] = '\0';
		if (n > 0 && x->cb(x->buf + used, n, x->arg) == -1)
			x->stopped = 1;
		used = (size_t)(nl - x->buf) + 1;
	}
	memmove(x->buf, x->buf + used, x->len - used);
	x->len -= used;
	if (x->buf != NULL)
		x->buf[x->len] = '\0';
}

static size_t
http_write_cb(char *data, size_t size, size_t n, void *arg)
{
	struct http_xfer	*x = arg;
	size_t			 len = size * n;

	if (interrupted || x->stopped)
		return (0);
	if (x->status == 0)
		(void)curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE,
		    &x->status);
	if (http_append(x, data, len) == -1)
		return (0);
	/* An error reply is one JSON object, kept whole. */
	if (x->cb != NULL && x->status < 400)
		http_lines(x);
	return (x->stopped ? 0 : len);
}

static int
http_progress_cb(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	(void)arg;
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return (interrupted ? 1 : 0);
}

/*
 * Say why linkqd cannot be reached and end: nothing else can be done.
 * The connect errno is mapped here, once: a socket the user may not
 * open is a group membership to fix, not a daemon to start.
 */
static __dead void
http_unreachable(long oserr, CURLcode rc)
{
	if (oserr == EACCES || oserr == EPERM)
		fprintf(stderr, "linkq: permission denied on %s: add yourself "
		    "to group linkq (sudo usermod -aG linkq $USER) and log in "
		    "again\n", socket_path);
	else
		fprintf(stderr, "linkq: cannot reach linkqd at %s: %s; start "
		    "it with 'linkqd' (or -s SOCKET)\n", socket_path,
		    oserr != 0 ? strerror((int)oserr) :
		    curl_easy_strerror(rc));
	exit(2);
}

/*
 * Run one transfer; 0 when a reply came, -1 on a transport error
 * (printed), HTTP_INTERRUPTED on SIGINT.
 */
static int
http_perform(struct http_xfer *x, const char *method, const char *path,
    const char *body)
{
	struct curl_slist	*headers = NULL;
	char			*url;
	CURLcode		 rc;
	long			 oserr = 0;

	if ((x->curl = curl_easy_init()) == NULL) {
		fprintf(stderr, "linkq: cannot initialise libcurl\n");
		return (-1);
	}
	(void)xasprintf(&url, "http://linkq%s", path);
	(void)curl_easy_setopt(x->curl, CURLOPT_UNIX_SOCKET_PATH,
	    socket_path);
	(void)curl_easy_setopt(x->curl, CURLOPT_URL, url);
	(void)curl_easy_setopt(x->curl, CURLOPT_NOSIGNAL, 1L);
	(void)curl_easy_setopt(x->curl, CURLOPT_CONNECTTIMEOUT, 10L);
	(void)curl_easy_setopt(x->curl, CURLOPT_USERAGENT,
	    "linkq/" LINKQ_VERSION);
	(void)curl_easy_setopt(x->curl, CURLOPT_WRITEFUNCTION, http_write_cb);
	(void)curl_easy_setopt(x->curl, CURLOPT_WRITEDATA, x);
	(void)curl_easy_setopt(x->curl, CURLOPT_NOPROGRESS, 0L);
	(void)curl_easy_setopt(x->curl, CURLOPT_XFERINFOFUNCTION,
	    http_progress_cb);
	if (strcmp(method, "GET") != 0)
		(void)curl_easy_setopt(x->curl, CURLOPT_CUSTOMREQUEST, method);
	if (body != NULL) {
		headers = curl_slist_append(headers,
		    "Content-Type: application/json");
		(void)curl_easy_setopt(x->curl, CURLOPT_HTTPHEADER, headers);
		(void)curl_easy_setopt(x->curl, CURLOPT_POSTFIELDS, body);
	} else if (strcmp(method, "POST") == 0)
		(void)curl_easy_setopt(x->curl, CURLOPT_POSTFIELDS, "");
	rc = curl_easy_perform(x->curl);
	(void)curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &x->status);
	(void)curl_easy_getinfo(x->curl, CURLINFO_OS_ERRNO, &oserr);
	curl_easy_cleanup(x->curl);
	curl_slist_free_all(headers);
	free(url);
	if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && x->stopped))
		return (0);
	if (interrupted)
		return (HTTP_INTERRUPTED);
	if (rc == CURLE_COULDNT_CONNECT)
		http_unreachable(oserr, rc);
	if (x->overflow)
		fprintf(stderr, "linkq: the reply from linkqd is larger "
		    "than %d bytes\n", HTTP_MAX_REPLY);
	else
		fprintf(stderr, "linkq: linkqd at %s: %s\n", socket_path,
		    curl_easy_strerror(rc));
	return (-1);
}

/* The buffer as JSON, or NULL. */
static json_t *
http_decode(const struct http_xfer *x)
{
	if (x->len == 0)
		return (NULL);
	return (json_loadb(x->buf, x->len, 0, NULL));
}

int
http_json(const char *method, const char *path, json_t *body,
    long *status, json_t **reply)
{
	struct http_xfer	 x;
	char			*text = NULL;
	int			 ret;

	memset(&x, 0, sizeof(x));
	*reply = NULL;
	if (body != NULL && (text = json_dumps(body, JSON_COMPACT)) == NULL) {
		fprintf(stderr, "linkq: cannot encode the request\n");
		return (-1);
	}
	ret = http_perform(&x, method, path, text);
	free(text);
	*status = x.status;
	if (ret == 0 && (*reply = http_decode(&x)) == NULL) {
		fprintf(stderr, "linkq: linkqd answered %s %s with %ld and "
		    "no JSON\n", method, path, x.status);
		ret = -1;
	}
	free(x.buf);
	return (ret == 0 ? 0 : -1);
}

int
http_stream(const char *path, http_line_cb cb, void *arg, long *status,
    json_t **reply)
{
	struct http_xfer	 x;
	struct sigaction	 sa, old;
	int			 ret;

	memset(&x, 0, sizeof(x));
	x.cb = cb;
	x.arg = arg;
	*reply = NULL;

	/* No SA_RESTART: the wait in libcurl returns at once. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = http_sigint;
	(void)sigemptyset(&sa.sa_mask);
	interrupted = 0;
	(void)sigaction(SIGINT, &sa, &old);
	ret = http_perform(&x, "GET", path, NULL);
	(void)sigaction(SIGINT, &old, NULL);
	/* The caller's next request, a cancel, must not stop at once. */
	interrupted = 0;

	*status = x.status;
	if (ret == 0 && x.status >= 400)
		*reply = http_decode(&x);
	else if (ret == 0 && !x.stopped && x.len > 0)
		(void)cb(x.buf, x.len, arg);	/* a last line without \n */
	free(x.buf);
	if (ret == HTTP_INTERRUPTED)
		return (HTTP_INTERRUPTED);
	return (ret == 0 ? HTTP_DONE : HTTP_FAILED);
}

const char *
http_error_message(json_t *reply, long status)
{
	const char	*m;

	m = json_string_value(json_object_get(json_object_get(reply,
	    "error"), "message"));
	if (m != NULL)
		return (m);
	return (status >= 400 ? "linkqd refused the request" :
	    "unexpected answer from linkqd");
}

char *
http_escape(const char *s)
{
	char	*e, *copy;

	if ((e = curl_easy_escape(NULL, s, 0)) == NULL) {
		fprintf(stderr, "linkq: out of memory\n");
		exit(2);
	}
	copy = xstrdup(e);
	curl_free(e);
	return (copy);
}
