/*
 * spath - bounded path formatting (see spath.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "store/spath.h"

int
spath(char *dst, size_t dstlen, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(dst, dstlen, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= dstlen) {
		if (dstlen > 0)
			dst[0] = '\0';
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}
