/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * property_list_service framing for the simulated services (contract
 * in plist-service.h).
 */

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <plist/plist.h>

#include "log.h"
#include "plist-service.h"
#include "xmalloc.h"

/* Read one dictionary message. */
plist_t
plist_service_read(struct sim_conn *conn, size_t max, const char *who)
{
	uint32_t	 be_len, len;
	char		*body;
	plist_t		 msg = NULL;

	if (conn_read(conn, &be_len, sizeof(be_len)) == -1)
		return (NULL);
	len = ntohl(be_len);
	if (len == 0 || len > max) {
		log_warnx("%s: message length %u out of range (1 to %zu)",
		    who, len, max);
		return (NULL);
	}
	body = xmalloc(len);
	if (conn_read(conn, body, len) == -1) {
		log_debug("%s: client left in the middle of a message", who);
		free(body);
		return (NULL);
	}
	plist_from_memory(body, len, &msg);
	free(body);
	if (msg == NULL || plist_get_node_type(msg) != PLIST_DICT) {
		log_warnx("%s: not a plist dictionary", who);
		plist_free(msg);
		return (NULL);
	}
	return (msg);
}

/* Send one message, length and body in a single write. */
int
plist_service_send(struct sim_conn *conn, plist_t msg)
{
	char		*xml = NULL, *buf;
	uint32_t	 xml_len = 0, be_len;
	int		 ret;

	plist_to_xml(msg, &xml, &xml_len);
	if (xml == NULL)
		return (-1);
	buf = xmalloc((size_t)xml_len + 4);
	be_len = htonl(xml_len);
	memcpy(buf, &be_len, 4);
	memcpy(buf + 4, xml, xml_len);
	ret = conn_write(conn, buf, (size_t)xml_len + 4);
	free(buf);
	free(xml);
	return (ret);
}

/* Return the string value of key in dict, allocated, or NULL. */
char *
plist_service_string(plist_t dict, const char *key)
{
	plist_t	 node;
	char	*value = NULL;

	node = plist_dict_get_item(dict, key);
	if (node != NULL && plist_get_node_type(node) == PLIST_STRING)
		plist_get_string_val(node, &value);
	return (value);
}
