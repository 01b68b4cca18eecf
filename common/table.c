/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The table printer of lq-table.h. A table keeps its cells as strings;
 * the layout is made at print time for the width given: natural widths,
 * then the flexible columns narrowed, then the columns that still do
 * not fit folded onto continuation lines, then the room a fold left
 * given back to the flexible columns. A cell wider than its column
 * wraps; none is cut, so a count is always there to read.
 *
 * Widths count characters, not bytes (UTF-8 in labels), and never the
 * colour escapes, which are kept apart from the text.
 */

#include <sys/ioctl.h>
#include <sys/param.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "compat/compat.h"
#include "lq-table.h"
#include "xmalloc.h"

#define TABLE_MAXCOLS	24
#define TABLE_GAP	2	/* blanks between columns */
#define TABLE_FOLD	2	/* indent of a folded row's continuation */
#define TABLE_NOTE	4	/* indent of a note */
#define TABLE_FLEX_MIN	8	/* a flexible column narrows no further */

struct table_row {
	char		*cell[TABLE_MAXCOLS];
	const char	*color[TABLE_MAXCOLS];
	int		 ncells;
	char		**notes;
	size_t		 nnotes;
};

/* rows[0] is the header. */
struct lq_table {
	int			 flags[TABLE_MAXCOLS];
	int			 ncols;
	struct table_row	*rows;
	size_t			 nrows;
};

struct table_layout {
	size_t	 width[TABLE_MAXCOLS];
	int	 first[TABLE_MAXCOLS + 1];	/* each group's first column,
						 * then ncols */
	int	 ngroups;
};

struct lq_table *
lq_table_new(void)
{
	struct lq_table	*t = xcalloc(1, sizeof(*t));

	t->rows = xcalloc(1, sizeof(*t->rows));
	t->nrows = 1;
	return (t);
}

void
lq_table_free(struct lq_table *t)
{
	size_t	i, j;
	int	c;

	if (t == NULL)
		return;
	for (i = 0; i < t->nrows; i++) {
		for (c = 0; c < t->rows[i].ncells; c++)
			free(t->rows[i].cell[c]);
		for (j = 0; j < t->rows[i].nnotes; j++)
			free(t->rows[i].notes[j]);
		free(t->rows[i].notes);
	}
	free(t->rows);
	free(t);
}

void
lq_table_column(struct lq_table *t, const char *head, int flags)
{
	if (t->ncols == TABLE_MAXCOLS || t->nrows != 1)
		return;
	t->flags[t->ncols++] = flags;
	t->rows[0].cell[t->rows[0].ncells++] = xstrdup(head);
}

void
lq_table_row(struct lq_table *t)
{
	t->rows = xreallocarray(t->rows, t->nrows + 1, sizeof(*t->rows));
	memset(&t->rows[t->nrows++], 0, sizeof(*t->rows));
}

void
lq_table_cell(struct lq_table *t, const char *color, const char *fmt, ...)
{
	struct table_row	*r = &t->rows[t->nrows - 1];
	va_list			 ap;

	if (t->nrows == 1 || r->ncells == t->ncols)
		return;
	va_start(ap, fmt);
	(void)xvasprintf(&r->cell[r->ncells], fmt, ap);
	va_end(ap);
	r->color[r->ncells++] = color;
}

void
lq_table_note(struct lq_table *t, const char *text)
{
	struct table_row	*r = &t->rows[t->nrows - 1];

	r->notes = xreallocarray(r->notes, r->nnotes + 1, sizeof(*r->notes));
	r->notes[r->nnotes++] = xstrdup(text);
}

/* The characters of s's first n bytes, UTF-8 continuations not counted. */
static size_t
text_nwidth(const char *s, size_t n)
{
	size_t	i, w = 0;

	for (i = 0; i < n && s[i] != '\0'; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			w++;
	}
	return (w);
}

static size_t
text_width(const char *s)
{
	return (text_nwidth(s, SIZE_MAX));
}

/* The bytes of s's first w characters. */
static size_t
text_bytes(const char *s, size_t w)
{
	size_t	i;

	for (i = 0; s[i] != '\0'; i++) {
		if (((unsigned char)s[i] & 0xc0) == 0x80)
			continue;
		if (w == 0)
			break;
		w--;
	}
	return (i);
}

/*
 * The first piece of s that fits w characters: all of it, else up to
 * its last blank within w, else w characters. *next is the rest, its
 * leading blanks skipped. Returns the piece's length in bytes.
 */
static size_t
text_piece(const char *s, size_t w, const char **next)
{
	size_t	n, len;

	if (text_width(s) <= w) {
		len = strlen(s);
		*next = s + len;
		return (len);
	}
	n = text_bytes(s, w);
	for (len = n; len > 0 && s[len] != ' '; len--)
		;
	if (len == 0)
		len = n > 0 ? n : text_bytes(s, 1);
	*next = s + len;
	while (**next == ' ')
		(*next)++;
	while (len > 0 && s[len - 1] == ' ')
		len--;
	return (len);
}

static size_t
column_natural(const struct lq_table *t, int c)
{
	size_t	i, w, max = 0;

	for (i = 0; i < t->nrows; i++) {
		if (c < t->rows[i].ncells &&
		    (w = text_width(t->rows[i].cell[c])) > max)
			max = w;
	}
	return (max);
}

/*
 * The narrowest a column may be: a flexible one, TABLE_FLEX_MIN or its
 * header, whichever is wider, so that no header word is split.
 */
static size_t
column_min(const struct lq_table *t, int c, size_t natural)
{
	if (!(t->flags[c] & LQ_TABLE_FLEX))
		return (natural);
	return (MIN(natural, MAX(TABLE_FLEX_MIN,
	    text_width(t->rows[0].cell[c]))));
}

/* Narrow the flexible columns, widest first, until total fits width. */
static void
layout_narrow(const struct lq_table *t, struct table_layout *lo,
    size_t total, size_t width)
{
	size_t	min[TABLE_MAXCOLS];
	int	c, widest;

	for (c = 0; c < t->ncols; c++)
		min[c] = column_min(t, c, lo->width[c]);
	while (total > width) {
		widest = -1;
		for (c = 0; c < t->ncols; c++) {
			if (lo->width[c] > min[c] && (widest == -1 ||
			    lo->width[c] > lo->width[widest]))
				widest = c;
		}
		if (widest == -1)
			return;
		lo->width[widest]--;
		total--;
	}
}

/* Group the columns into lines of at most width; the first unindented. */
static void
layout_fold(const struct lq_table *t, struct table_layout *lo, size_t width)
{
	size_t	used = 0, indent = 0;
	int	c;

	lo->ngroups = 0;
	for (c = 0; c < t->ncols; c++) {
		if (c == 0 || indent + used + TABLE_GAP + lo->width[c] >
		    width) {
			if (c > 0)
				indent = TABLE_FOLD;
			lo->first[lo->ngroups++] = c;
			used = lo->width[c];
		} else
			used += TABLE_GAP + lo->width[c];
		/* A column wider than a line alone wraps: its cells do. */
		if (indent + lo->width[c] > width)
			lo->width[c] = width > indent ? width - indent : 1;
	}
	lo->first[lo->ngroups] = t->ncols;
}

/* Give each line's room back to its flexible columns, up to natural. */
static void
layout_widen(struct table_layout *lo, const size_t *natural, size_t width)
{
	size_t	used;
	int	g, c, more;

	for (g = 0; g < lo->ngroups; g++) {
		used = g > 0 ? TABLE_FOLD : 0;
		for (c = lo->first[g]; c < lo->first[g + 1]; c++)
			used += (c > lo->first[g] ? TABLE_GAP : 0) +
			    lo->width[c];
		do {
			more = 0;
			for (c = lo->first[g]; c < lo->first[g + 1] &&
			    used < width; c++) {
				if (lo->width[c] < natural[c]) {
					lo->width[c]++;
					used++;
					more = 1;
				}
			}
		} while (more && used < width);
	}
}

static void
layout_make(const struct lq_table *t, size_t width, struct table_layout *lo)
{
	size_t	natural[TABLE_MAXCOLS], total = 0;
	int	c;

	memset(lo, 0, sizeof(*lo));
	for (c = 0; c < t->ncols; c++) {
		natural[c] = lo->width[c] = column_natural(t, c);
		total += natural[c] + (c > 0 ? TABLE_GAP : 0);
	}
	lo->ngroups = 1;
	lo->first[1] = t->ncols;
	if (width == 0 || total <= width)
		return;
	layout_narrow(t, lo, total, width);
	layout_fold(t, lo, width);
	layout_widen(lo, natural, width);
}

/*
 * One group of a row's columns, as many lines as its wrapped cells
 * need. Padding is held back until text follows, so that no line ends
 * in blanks.
 */
static void
print_group(FILE *f, const struct table_row *r, const struct lq_table *t,
    const struct table_layout *lo, int g)
{
	const char	*at[TABLE_MAXCOLS], *next;
	size_t		 pad, len, w;
	int		 c, more;

	for (c = lo->first[g]; c < lo->first[g + 1]; c++)
		at[c] = c < r->ncells ? r->cell[c] : "";
	do {
		pad = g > 0 ? TABLE_FOLD : 0;
		more = 0;
		for (c = lo->first[g]; c < lo->first[g + 1]; c++) {
			if (c > lo->first[g])
				pad += TABLE_GAP;
			len = text_piece(at[c], lo->width[c], &next);
			w = text_nwidth(at[c], len);
			if (t->flags[c] & LQ_TABLE_RIGHT)
				pad += lo->width[c] - MIN(w, lo->width[c]);
			if (len > 0) {
				fprintf(f, "%*s%s%.*s%s", (int)pad, "",
				    r->color[c] != NULL ? r->color[c] : "",
				    (int)len, at[c],
				    r->color[c] != NULL ? "\033[0m" : "");
				pad = 0;
			}
			if (!(t->flags[c] & LQ_TABLE_RIGHT))
				pad += lo->width[c] - MIN(w, lo->width[c]);
			at[c] = next;
			more |= *next != '\0';
		}
		fputc('\n', f);
	} while (more);
}

void
lq_text_wrap(FILE *f, size_t indent, const char *s, size_t width)
{
	const char	*next;
	size_t		 len, at = indent;

	if (width == 0) {
		fprintf(f, "%*s%s\n", (int)indent, "", s);
		return;
	}
	do {
		len = text_piece(s, width > at + 1 ? width - at : 1, &next);
		fprintf(f, "%*s%.*s\n", (int)at, "", (int)len, s);
		at = indent + 2;
		s = next;
	} while (*s != '\0');
}

/* Whether the table has a header line: some column is named. */
static int
table_headed(const struct lq_table *t)
{
	int	c;

	for (c = 0; c < t->rows[0].ncells; c++) {
		if (t->rows[0].cell[c][0] != '\0')
			return (1);
	}
	return (0);
}

void
lq_table_print(FILE *f, const struct lq_table *t, size_t width)
{
	struct table_layout	 lo;
	size_t			 i, j;
	int			 g;

	layout_make(t, width, &lo);
	for (i = table_headed(t) ? 0 : 1; i < t->nrows; i++) {
		for (g = 0; g < lo.ngroups; g++)
			print_group(f, &t->rows[i], t, &lo, g);
		for (j = 0; j < t->rows[i].nnotes; j++)
			lq_text_wrap(f, TABLE_NOTE, t->rows[i].notes[j],
			    width);
	}
}

size_t
lq_term_width(int fd)
{
	struct winsize	 ws;
	const char	*env, *errstr;
	long long	 n;

	if (!isatty(fd))
		return (0);
	if ((env = getenv("COLUMNS")) != NULL && *env != '\0') {
		n = strtonum(env, 1, 100000, &errstr);
		if (errstr == NULL)
			return ((size_t)n);
	}
	if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return (ws.ws_col);
	return (80);
}
