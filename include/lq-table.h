/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * The one table printer of linkq's text output (the report and the
 * client's lists): columns sized to their widest cell, two blanks
 * apart, and, given a width, made to fit it without losing a cell.
 * Flexible columns (names, labels, times) wrap first, at blanks where
 * they can; if the rest still does not fit, a row folds onto indented
 * continuation lines, its header alike. Numbers are never cut. With no
 * width (a pipe) each row is one line, the whole table.
 *
 * A table belongs to its caller and is used by one thread.
 */

#ifndef LQ_TABLE_H
#define LQ_TABLE_H

#include <stddef.h>
#include <stdio.h>

#include "compat/compat.h"

#define LQ_TABLE_RIGHT	0x01	/* right-aligned: numbers */
#define LQ_TABLE_FLEX	0x02	/* may wrap to fit the width */

struct lq_table;

struct lq_table	*lq_table_new(void);
void		 lq_table_free(struct lq_table *);
/*
 * Add a column: its header and LQ_TABLE_* flags; before any row. A
 * table whose headers are all "" prints no header line.
 */
void		 lq_table_column(struct lq_table *, const char *, int);
/* Start a row; the cells follow, left to right. */
void		 lq_table_row(struct lq_table *);
/* The next cell of the row; color, an escape sequence, or NULL. */
void		 lq_table_cell(struct lq_table *, const char *,
		    const char *, ...) printflike(3, 4);
/* A line under the row (a reason), indented and wrapped at blanks. */
void		 lq_table_note(struct lq_table *, const char *);
/* Print the table in width columns; 0: no limit. */
void		 lq_table_print(FILE *, const struct lq_table *, size_t);
/*
 * A line of text indented by indent, wrapped at blanks to width (0: no
 * limit), its continuation lines indented two more.
 */
void		 lq_text_wrap(FILE *, size_t, const char *, size_t);
/*
 * The width to fit on fd: COLUMNS when set, else the terminal's; 0 (no
 * limit) when fd is not a terminal, so that a pipe gets every line
 * whole.
 */
size_t		 lq_term_width(int);

#endif /* LQ_TABLE_H */
