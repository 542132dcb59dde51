/*
 * imapfmt - IMAP FETCH items derived from message bytes: ENVELOPE, BODY
 * and BODYSTRUCTURE (RFC 3501 7.4.2), written the way Dovecot writes them
 * so that clients moving from Dovecot see the same answers. Sizes are in
 * CRLF octets (stored messages use LF: size = bytes + bare LFs).
 * All functions append to a struct buf and return 0, or -1 when the
 * buffer's max would be exceeded (the buffer then holds a partial item).
 */
#ifndef MAIL_IMAPFMT_H
#define MAIL_IMAPFMT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "mail/mime.h"

/*
 * imapfmt_envelope: "(date subject from sender reply-to to cc bcc
 * in-reply-to message-id)" for the header block at hdr[0..len) (len may
 * run into the body; parsing stops at the empty line).
 */
int imapfmt_envelope(struct buf *out, const char *hdr, size_t len)
    __attribute__((warn_unused_result));

/*
 * imapfmt_body: BODYSTRUCTURE (extended true) or BODY (false) of part idx
 * of a parsed tree (0: the whole message).
 */
int imapfmt_body(struct buf *out, const struct mime_tree *t, int idx,
    bool extended) __attribute__((warn_unused_result));

/*
 * imapfmt_addresses: an ENVELOPE address list "((name adl mailbox host)
 * ...)" or NIL for the raw field value v[0..n).
 */
int imapfmt_addresses(struct buf *out, const char *v, size_t n)
    __attribute__((warn_unused_result));

/*
 * imapfmt_nstring: s[0..n) as an IMAP string, or NIL when s is NULL:
 * quoted with \ and " escaped, or a literal {n}\r\n... when it holds CR,
 * LF, 8-bit bytes or more than 4 characters needing escapes (Dovecot's
 * rule). NUL bytes are dropped.
 */
int imapfmt_nstring(struct buf *out, const char *s, size_t n)
    __attribute__((warn_unused_result));

/*
 * imapfmt_string_human: s as a string for people (subjects, names):
 * folding and runs of white space become one space, leading and trailing
 * space go, NUL becomes 0x80; quoted if nothing changed and no " \ or
 * 8-bit, otherwise a literal (Dovecot's imap_append_string_for_humans).
 */
int imapfmt_string_human(struct buf *out, const char *s, size_t n)
    __attribute__((warn_unused_result));

#endif
