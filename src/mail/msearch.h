/*
 * msearch - the content tests of IMAP SEARCH (RFC 3501 6.4.4: HEADER,
 * SUBJECT, FROM..., BODY, TEXT) over message bytes: case-insensitive
 * substring search in RFC 2047-decoded header values and in body text
 * decoded from base64 / quoted-printable and converted to UTF-8.
 *
 * A struct msearch holds the folded needle and scratch buffers, so one
 * SEARCH over many messages allocates only while buffers grow.
 */
#ifndef MAIL_MSEARCH_H
#define MAIL_MSEARCH_H

#include <stddef.h>

#include "core/buf.h"
#include "mail/mime.h"

#define MSEARCH_PART_MAX	(64u * 1024 * 1024)	/* decoded part */

struct msearch {
	struct buf	needle;		/* folded UTF-8 */
	struct buf	dec;		/* transfer-decoded bytes */
	struct buf	utf8;		/* converted to UTF-8 */
	struct buf	fold;		/* folded haystack */
};

/*
 * msearch_init: prepare a search for needle (UTF-8, n bytes; the IMAP
 * layer converts from the SEARCH CHARSET first).
 */
void msearch_init(struct msearch *s, const char *needle, size_t n);
void msearch_free(struct msearch *s);

/*
 * msearch_header: does the header of msg[0..len) have a field called
 * name (any field when name is NULL) whose decoded value contains the
 * needle? An empty needle matches any such field (SEARCH HEADER x "").
 * 1 yes, 0 no, -1 a buffer limit was hit.
 */
int msearch_header(struct msearch *s, const char *msg, size_t len,
    const char *name);

/*
 * msearch_body: does the decoded text of any text or message leaf
 * part of t contain the needle? 1 / 0 / -1.
 */
int msearch_body(struct msearch *s, const struct mime_tree *t);

/*
 * msearch_text: the header of the message, or its body (SEARCH TEXT).
 * 1 / 0 / -1.
 */
int msearch_text(struct msearch *s, const struct mime_tree *t);

/*
 * msearch_qp_decode: append the quoted-printable decoding of in[0..n)
 * (RFC 2045 6.7; soft line breaks removed, bad escapes kept). 0 / -1.
 */
int msearch_qp_decode(const char *in, size_t n, struct buf *out)
    __attribute__((warn_unused_result));

#endif
