/*
 * xmalloc - allocation that never returns NULL.
 *
 * Out of memory is not a condition a mail server can handle mid-session;
 * these helpers abort with a log line instead, so that plain names can
 * reserve their error returns for real errors (STYLE.md 7).
 */
#ifndef CORE_XMALLOC_H
#define CORE_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
/* xreallocarray: like reallocarray(3), aborts on overflow or OOM. */
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* xasprintf: allocate a formatted string; caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
