/*
 * spath - bounded path formatting for the store: a path that does not fit
 * is an error (ENAMETOOLONG), never a silently truncated name.
 */
#ifndef STORE_SPATH_H
#define STORE_SPATH_H

#include <stddef.h>

#define SPATH_MAX	4096

/* spath: snprintf into dst; 0, or -1 with errno ENAMETOOLONG. */
int spath(char *dst, size_t dstlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), warn_unused_result));

#endif
