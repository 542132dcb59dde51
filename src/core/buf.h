/*
 * buf - a growable byte buffer with a ceiling fixed at creation.
 *
 * Every buffer that holds untrusted input has a maximum; growing past it
 * is an error the caller sees (-1), never a silent realloc or truncation
 * (STYLE.md 9, after curl's dynbuf). The data is always NUL-terminated
 * one past len, so text can be used as a C string (binary may hold NULs).
 */
#ifndef CORE_BUF_H
#define CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;	/* NULL until the first append */
	size_t	 len;	/* bytes used, excluding the trailing NUL */
	size_t	 cap;	/* bytes allocated */
	size_t	 max;	/* ceiling for len */
};

#define BUF_UNLIMITED ((size_t)-1 / 2)

/* buf_init: empty buffer that may grow to max bytes. Allocates nothing. */
void buf_init(struct buf *b, size_t max);
/* buf_free: release the memory; the buffer is empty and reusable after. */
void buf_free(struct buf *b);
/* buf_reset: len = 0, keeps the allocation. */
void buf_reset(struct buf *b);
/* Returns 0, or -1 when the result would exceed max (buffer unchanged). */
int buf_reserve(struct buf *b, size_t extra) __attribute__((warn_unused_result));
int buf_append(struct buf *b, const void *p, size_t n) __attribute__((warn_unused_result));
int buf_puts(struct buf *b, const char *s) __attribute__((warn_unused_result));
int buf_putc(struct buf *b, char c) __attribute__((warn_unused_result));
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), warn_unused_result));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
    __attribute__((warn_unused_result));
/* buf_cstr: the contents as a NUL-terminated string ("" when empty). */
const char *buf_cstr(const struct buf *b);
/* buf_consume: drop the first n bytes (n <= len). */
void buf_consume(struct buf *b, size_t n);
/* buf_steal: hand the allocation to the caller (never NULL), buffer empties. */
char *buf_steal(struct buf *b, size_t *len_r);

#endif
