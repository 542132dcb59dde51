/*
 * utf7 - IMAP modified UTF-7 mailbox names (RFC 3501 5.1.3), strict.
 *
 * Printable US-ASCII 0x20..0x7e except '&' stands for itself; "&-" is
 * '&'; other characters are UTF-16 in modified base64 (',' for '/')
 * between '&' and '-'. Strict means: no printable ASCII encoded in base64,
 * no empty "&-" shift other than '&', no adjacent shifts ("&AAA-&AAA-"),
 * no bad padding bits, no lone surrogates, no raw bytes >= 0x80 or
 * control characters in the encoded form.
 */
#ifndef STORE_UTF7_H
#define STORE_UTF7_H

#include <stdbool.h>
#include <stddef.h>

/*
 * utf7_to_utf8: decode modified UTF-7 src (n bytes) into dst (dstlen
 * bytes, NUL-terminated). Returns the output length, or -1 if src is not
 * strictly valid or dst is too small.
 */
long utf7_to_utf8(const char *src, size_t n, char *dst, size_t dstlen);
/*
 * utf7_from_utf8: encode UTF-8 src (n bytes; must be valid UTF-8 without
 * control characters) into modified UTF-7. Returns the length, or -1 on
 * invalid UTF-8 or a too small dst.
 */
long utf7_from_utf8(const char *src, size_t n, char *dst, size_t dstlen);
/* utf7_valid: src (NUL-terminated) is strictly valid modified UTF-7. */
bool utf7_valid(const char *src);

#endif
