/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * linkq port PORT --label NAME, linkq port PORT --clear-label: name a
 * port (PUT /v1/ports/PORT), so that a bench's "front-left" is what the
 * user reads instead of a sysfs path. linkq ports: the ports by name,
 * with the device on each (GET /v1/ports and GET /v1/devices).
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
cmd_port(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLIENT_LONG_OPTIONS,
		{ "clear-label", no_argument, NULL, 'c' },
		{ "label", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 }
	};
	json_t		*body = NULL, *reply = NULL;
	const char	*port, *label = NULL, *why;
	char		*path, *esc;
	int		 ch, clear = 0, ret = LQ_EXIT_USAGE;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			clear = 1;
			break;
		case 'l':
			label = optarg;
			break;
		default:
			client_option("port", ch);
			break;
		}
	}
	argc -= optind;
	argv += optind;
	/* Exactly one of --label and --clear-label. */
	if (argc != 1 || clear == (label != NULL))
		return (client_usage("port"));
	port = argv[0];
	if (label != NULL) {
		/* The daemon checks too; saying it here needs no daemon. */
		if ((why = lq_label_invalid(label)) != NULL) {
			fprintf(stderr, "linkq: bad port label: %s\n", why);
			return (LQ_EXIT_USAGE);
		}
		body = json_pack("{s:s}", "label", label);
	} else
		body = json_pack("{s:n}", "label");

	esc = http_escape(port);
	(void)xasprintf(&path, "/v1/ports/%s", esc);
	free(esc);
	if (client_call("PUT", path, body, &reply) == -1)
		goto out;
	if (opt_json)
		client_print_json(reply);
	else if (clear)
		printf("%s: no label\n", port);
	else
		printf("%s: label %s\n", port, label);
	ret = 0;
out:
	free(path);
	json_decref(body);
	json_decref(reply);
	return (ret);
}

/* The device with udid in linkqd's list, or NULL. */
static json_t *
device_of(json_t *devices, const char *udid)
{
	json_t	*d;
	size_t	 i;

	json_array_foreach(json_object_get(devices, "devices"), i, d) {
		if (strcmp(client_str(d, "udid", ""), udid) == 0)
			return (d);
	}
	return (NULL);
}

int
cmd_ports(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLIENT_LONG_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	json_t		*reply = NULL, *devices = NULL, *p, *d;
	const char	*udid;
	char		 shortid[9];
	size_t		 i;
	int		 ch, ret = LQ_EXIT_USAGE;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1)
		client_option("ports", ch);
	if (optind != argc)
		return (client_usage("ports"));

	if (client_call("GET", "/v1/ports", NULL, &reply) == -1)
		goto out;
	if (opt_json) {
		client_print_json(reply);
		ret = 0;
		goto out;
	}
	if (client_call("GET", "/v1/devices", NULL, &devices) == -1)
		goto out;
	ret = 0;
	if (json_array_size(json_object_get(reply, "ports")) == 0) {
		printf("no port has had a device yet\n");
		goto out;
	}
	printf("%-12s %-16s %-16s %s\n", "PORT", "LABEL", "CABLE", "DEVICE");
	json_array_foreach(json_object_get(reply, "ports"), i, p) {
		printf("%-12s %-16s %-16s ", client_str(p, "port", "?"),
		    client_str(p, "label", "-"), client_str(p, "cable", "-"));
		if ((udid = client_str(p, "udid", NULL)) == NULL) {
			printf("-\n");
			continue;
		}
		(void)strlcpy(shortid, client_udid_short(udid),
		    sizeof(shortid));
		printf("%s", shortid);
		d = device_of(devices, udid);
		if (json_object_get(d, "name") != NULL)
			printf(" %s (%s)", client_str(d, "name", "?"),
			    client_str(d, "product_type", "?"));
		if (d != NULL && strcmp(client_str(d, "trust", "trusted"),
		    "trusted") != 0)
			printf(", %s", client_str(d, "trust", "?"));
		printf("\n");
	}
out:
	json_decref(reply);
	json_decref(devices);
	return (ret);
}
