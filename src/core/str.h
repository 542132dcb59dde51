/*
 * str - small string helpers: bounded copy, case-insensitive ASCII
 * compares, trimming, base64 and hex.
 */
#ifndef CORE_STR_H
#define CORE_STR_H

#include <stdbool.h>
#include <stddef.h>

/* str_copy: strlcpy semantics; returns strlen(src) (>= size: truncated). */
size_t str_copy(char *dst, const char *src, size_t size);
/* str_lower: ASCII lower-case in place; returns s. */
char *str_lower(char *s);
/* str_ieq / str_ieqn: ASCII case-insensitive equality. */
bool str_ieq(const char *a, const char *b);
bool str_ieqn(const char *a, const char *b, size_t n);
/* str_iprefix: s starts with prefix (ASCII, case-insensitive). */
bool str_iprefix(const char *s, const char *prefix);
/* str_trim: strip ASCII spaces and tabs at both ends in place; returns s. */
char *str_trim(char *s);
/* str_has_ctl: true if any byte < 0x20 or 0x7f in the first n bytes. */
bool str_has_ctl(const char *s, size_t n);

/* base64 (RFC 4648, with padding). Encoded length for n bytes. */
size_t base64_encoded_len(size_t n);
/* base64_encode: writes base64_encoded_len(n)+1 bytes (NUL-terminated). */
void base64_encode(const void *src, size_t n, char *dst);
/*
 * base64_decode: decode strictly (padding required, no whitespace);
 * dst must hold n/4*3 bytes. Returns decoded length or -1 on bad input.
 */
long base64_decode(const char *src, size_t n, void *dst);
/* base64_decode_lax: like base64_decode but skips whitespace (CR, LF,
 * space, tab) and accepts missing padding, as MIME bodies need. */
long base64_decode_lax(const char *src, size_t n, void *dst);

/* hex_encode: lower-case; dst holds 2*n+1 bytes. */
void hex_encode(const void *src, size_t n, char *dst);

#endif
