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
#include <unistd.h>

#include <jansson.h>

#include "compat/compat.h"
#include "client.h"
#include "http.h"
#include "linkq.h"
#include "lq-table.h"
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

/* The device on port p: "1a2b3c4d iPhone (iPhone14,2), pending". */
static void
ports_device(json_t *p, json_t *devices, char *buf, size_t size)
{
	json_t		*d;
	const char	*udid;
	size_t		 n;

	if ((udid = client_str(p, "udid", NULL)) == NULL) {
		(void)strlcpy(buf, "-", size);
		return;
	}
	n = strlcpy(buf, client_udid_short(udid), size);
	d = device_of(devices, udid);
	if (json_object_get(d, "name") != NULL && n < size)
		n += (size_t)snprintf(buf + n, size - n, " %s (%s)",
		    client_str(d, "name", "?"), client_str(d, "product_type",
		    "?"));
	if (d != NULL && strcmp(client_str(d, "trust", "trusted"),
	    "trusted") != 0 && n < size)
		(void)snprintf(buf + n, size - n, ", %s",
		    client_str(d, "trust", "?"));
}

/* The ports as a table that fits the terminal, whole in a pipe. */
static void
ports_print(json_t *ports, json_t *devices)
{
	struct lq_table	*t = lq_table_new();
	json_t		*p;
	char		 dev[512];
	size_t		 i;

	lq_table_column(t, "PORT", 0);
	lq_table_column(t, "LABEL", LQ_TABLE_FLEX);
	lq_table_column(t, "CABLE", LQ_TABLE_FLEX);
	lq_table_column(t, "DEVICE", LQ_TABLE_FLEX);
	json_array_foreach(ports, i, p) {
		lq_table_row(t);
		lq_table_cell(t, NULL, "%s", client_str(p, "port", "?"));
		lq_table_cell(t, NULL, "%s", client_str(p, "label", "-"));
		lq_table_cell(t, NULL, "%s", client_str(p, "cable", "-"));
		ports_device(p, devices, dev, sizeof(dev));
		lq_table_cell(t, NULL, "%s", dev);
	}
	lq_table_print(stdout, t, lq_term_width(STDOUT_FILENO));
	lq_table_free(t);
}

int
cmd_ports(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLIENT_LONG_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	json_t		*reply = NULL, *devices = NULL;
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
	ports_print(json_object_get(reply, "ports"), devices);
out:
	json_decref(reply);
	json_decref(devices);
	return (ret);
}
