/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * Cable assignments (contract in cables.h): a short list, one entry per
 * port with a cable, searched linearly; a bench has tens of ports.
 */

#include <stdlib.h>
#include <string.h>

#include "cables.h"
#include "compat/compat.h"
#include "compat/queue.h"
#include "linkq.h"
#include "xmalloc.h"

struct assignment {
	char			 port_key[64];
	char			 cable[LQ_LABEL_MAX + 1];
	int			 fixed;
	TAILQ_ENTRY(assignment)	 entry;
};
TAILQ_HEAD(assignments, assignment);

static struct assignments	assignments =
				    TAILQ_HEAD_INITIALIZER(assignments);

/* The assignment of a port, or NULL. */
static struct assignment *
cables_find(const char *port_key)
{
	struct assignment	*a;

	TAILQ_FOREACH(a, &assignments, entry) {
		if (strcmp(a->port_key, port_key) == 0)
			return (a);
	}
	return (NULL);
}

/* Assign or clear. */
void
cables_assign(const char *port_key, const char *label, int fixed)
{
	struct assignment	*a;

	if ((a = cables_find(port_key)) != NULL) {
		TAILQ_REMOVE(&assignments, a, entry);
		free(a);
	}
	if (label == NULL)
		return;
	a = xcalloc(1, sizeof(*a));
	(void)strlcpy(a->port_key, port_key, sizeof(a->port_key));
	(void)strlcpy(a->cable, label, sizeof(a->cable));
	a->fixed = fixed;
	TAILQ_INSERT_TAIL(&assignments, a, entry);
}

/* The label in the port. */
const char *
cables_of_port(const char *port_key, int *fixed)
{
	struct assignment	*a;

	if ((a = cables_find(port_key)) == NULL) {
		*fixed = 0;
		return (NULL);
	}
	*fixed = a->fixed;
	return (a->cable);
}

/* The device left the port. */
void
cables_release(const char *port_key)
{
	struct assignment	*a;

	if ((a = cables_find(port_key)) != NULL && !a->fixed)
		cables_assign(port_key, NULL, 0);
}

/* Forget them all. */
void
cables_clear(void)
{
	struct assignment	*a;

	while ((a = TAILQ_FIRST(&assignments)) != NULL) {
		TAILQ_REMOVE(&assignments, a, entry);
		free(a);
	}
}
