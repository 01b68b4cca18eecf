/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * linkq cable PORT LABEL, linkq cable PORT --clear: which cable is in a
 * port (PUT and DELETE /v1/ports/PORT/cable). linkq cables: the ports
 * with their labels, cables and devices (GET /v1/ports).
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "compat/compat.h"
#include "client.h"
#include "http.h"
#include "linkq.h"
#include "xmalloc.h"

int
cmd_cable(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLIENT_LONG_OPTIONS,
		{ "clear", no_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 }
	};
	json_t		*body = NULL, *reply = NULL;
	const char	*port, *label = NULL, *why;
	char		*path, *esc;
	long		 code;
	int		 ch, clear = 0, ret = LQ_EXIT_USAGE;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (ch == 'c')
			clear = 1;
		else
			client_option("cable", ch);
	}
	argc -= optind;
	argv += optind;
	if (argc != (clear ? 1 : 2))
		return (client_usage("cable"));
	port = argv[0];
	if (!clear) {
		label = argv[1];
		/* The daemon checks too; saying it here needs no daemon. */
		if ((why = lq_label_invalid(label)) != NULL) {
			fprintf(stderr, "linkq: bad cable label: %s\n", why);
			return (LQ_EXIT_USAGE);
		}
		body = json_pack("{s:s}", "cable", label);
	}

	esc = http_escape(port);
	(void)xasprintf(&path, "/v1/ports/%s/cable", esc);
	free(esc);
	if (http_json(clear ? "DELETE" : "PUT", path, body, &code,
	    &reply) == -1)
		goto out;
	if (code != 200) {
		ret = client_api_error(reply, code);
		goto out;
	}
	if (opt_json)
		client_print_json(reply);
	else if (clear)
		printf("%s: no cable assigned\n", port);
	else
		printf("%s: cable %s\n", port, label);
	ret = 0;
out:
	free(path);
	json_decref(body);
	json_decref(reply);
	return (ret);
}

int
cmd_cables(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLIENT_LONG_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	json_t		*reply = NULL, *p;
	const char	*s;
	char		 udid[9];
	long		 code;
	size_t		 i;
	int		 ch, ret = LQ_EXIT_USAGE;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1)
		client_option("cables", ch);
	if (optind != argc)
		return (client_usage("cables"));

	if (http_json("GET", "/v1/ports", NULL, &code, &reply) == -1)
		goto out;
	if (code != 200) {
		ret = client_api_error(reply, code);
		goto out;
	}
	ret = 0;
	if (opt_json) {
		client_print_json(reply);
		goto out;
	}
	printf("%-12s %-16s %-16s %s\n", "PORT", "LABEL", "CABLE", "DEVICE");
	json_array_foreach(json_object_get(reply, "ports"), i, p) {
		udid[0] = '\0';
		if ((s = json_string_value(json_object_get(p, "udid"))) != NULL)
			(void)strlcpy(udid, client_udid_short(s),
			    sizeof(udid));
		s = json_string_value(json_object_get(p, "port"));
		printf("%-12s ", s != NULL ? s : "?");
		s = json_string_value(json_object_get(p, "label"));
		printf("%-16s ", s != NULL ? s : "-");
		s = json_string_value(json_object_get(p, "cable"));
		printf("%-16s %s\n", s != NULL ? s : "-",
		    udid[0] != '\0' ? udid : "-");
	}
out:
	json_decref(reply);
	return (ret);
}
