/* SPDX-License-Identifier: ISC */
/* Copyright (c) 2026 The linkq authors */

/*
 * BSD tree(3) macros (red-black and splay trees). glibc has no
 * <sys/tree.h>; libbsd installs the BSD one.
 */

#ifndef LQ_COMPAT_TREE_H
#define LQ_COMPAT_TREE_H

#include <bsd/sys/tree.h>

#endif /* LQ_COMPAT_TREE_H */
