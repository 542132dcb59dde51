/*
 * charset - conversion of message text to UTF-8 for searching and display.
 * Built in: utf-8, us-ascii, iso-8859-1, iso-8859-15, windows-1252 (and
 * their usual aliases). Other names are tried through iconv(3) from libc.
 */
#ifndef MAIL_CHARSET_H
#define MAIL_CHARSET_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

/*
 * charset_to_utf8: append in[0..n) converted from charset (cs, cslen
 * bytes, case-insensitive) to out. Invalid input bytes become U+FFFD.
 * Returns 1 converted, 0 unknown charset (nothing appended), -1 when out
 * would exceed its max.
 */
int charset_to_utf8(const char *cs, size_t cslen, const char *in, size_t n,
    struct buf *out) __attribute__((warn_unused_result));

/* charset_is_known: charset_to_utf8 would convert this charset. */
bool charset_is_known(const char *cs, size_t cslen);

/*
 * charset_utf8_valid_len: length of the well-formed UTF-8 sequence at
 * s[0] (1 for ASCII), or 0 if malformed.
 */
size_t charset_utf8_valid_len(const unsigned char *s, size_t n);

/*
 * charset_fold_utf8: append a case-folded copy of UTF-8 text for
 * case-insensitive matching (ASCII, Latin-1, Latin Extended-A, Greek and
 * Cyrillic simple case pairs). Invalid bytes are copied as they are.
 */
int charset_fold_utf8(const char *in, size_t n, struct buf *out)
    __attribute__((warn_unused_result));

#endif
