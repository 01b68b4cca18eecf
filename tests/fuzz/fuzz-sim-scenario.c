/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * libFuzzer harness: the simulator's scenario parser (sim/scenario.c,
 * linkq-sim(1) SCENARIOS). The input is a scenario's text; it is either
 * parsed, and then each fault it gives is formatted and parsed back to
 * the same, or refused with "NAME:LINE: what" for a cause. Each line is
 * also given to fault_parse() and mux_settings_parse(), as the control
 * socket gives them. Nothing may crash or leak.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define NAME	"fuzz.scn"

/*
 * A fault written out must read back, and say the same when written
 * again (the text rounds rates, so the structs may differ).
 */
static void
fault_round_trip(const struct fault *f)
{
	struct fault	 back;
	char		*s, *again, *cause;

	s = fault_format(f);
	memset(&back, 0, sizeof(back));
	if (fault_parse(&back, s, &cause) == -1) {
		free(cause);
		abort();
	}
	again = fault_format(&back);
	if (strcmp(s, again) != 0)
		abort();
	free(again);
	free(s);
}

static void
parsed(const struct scenario *scn)
{
	const struct scn_device	*d;
	const struct scn_port	*p;
	const struct scn_cable	*c;
	const struct scn_event	*ev;
	int64_t			 last = INT64_MIN;

	TAILQ_FOREACH(d, &scn->devices, entry)
		fault_round_trip(&d->fault);
	TAILQ_FOREACH(p, &scn->ports, entry)
		fault_round_trip(&p->fault);
	TAILQ_FOREACH(c, &scn->cables, entry)
		fault_round_trip(&c->fault);
	TAILQ_FOREACH(ev, &scn->events, entry) {
		if (ev->at_us < last)
			abort();	/* sorted by time */
		last = ev->at_us;
	}
}

/* Each line as the control socket's fault and usbmuxd settings. */
static void
lines(const char *text)
{
	struct fault		 f;
	struct mux_settings	 ms;
	char			*copy, *p, *line, *cause;

	if ((copy = strdup(text)) == NULL)
		return;
	for (p = copy; (line = strsep(&p, "\n")) != NULL; ) {
		memset(&f, 0, sizeof(f));
		if (fault_parse(&f, line, &cause) == -1)
			free(cause);
		else
			fault_round_trip(&f);
		mux_settings_init(&ms);
		if (mux_settings_parse(&ms, line, &cause) == -1)
			free(cause);
	}
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scenario	*scn;
	char		*text, *cause;

	if ((text = malloc(size + 1)) == NULL)
		return (0);
	memcpy(text, data, size);
	text[size] = '\0';
	if ((scn = scenario_parse(text, NAME, &cause)) == NULL) {
		if (cause == NULL || strncmp(cause, NAME ":",
		    strlen(NAME ":")) != 0)
			abort();	/* a refusal names file and line */
		free(cause);
	} else {
		parsed(scn);
		scenario_free(scn);
	}
	lines(text);
	free(text);
	return (0);
}
