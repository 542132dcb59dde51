/*
 * hdr - RFC 5322 header fields of a message held in memory: iteration,
 * the header/body boundary, lookup by name, unfolding, and RFC 2047
 * encoded-word decoding to UTF-8. Pure functions over bytes; LF and CRLF
 * line ends are both accepted (messages are stored with LF).
 */
#ifndef MAIL_HDR_H
#define MAIL_HDR_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

/* Limits applied by the iterator (not by hdr_body_offset). */
#define HDR_MAX_FIELDS	10000		/* fields per header block */
#define HDR_MAX_SIZE	(1024 * 1024)	/* bytes of one header block */

/*
 * One header field. All pointers borrow the message bytes and live as long
 * as they do. value is the raw value after the ':' (leading WSP skipped),
 * up to but not including the line end that ends the field (and any CRs
 * before it); it still holds any folding line ends. off/len cover the
 * whole field including its final line end.
 */
struct hdr_field {
	const char	*name;
	size_t		 name_len;
	const char	*value;
	size_t		 value_len;
	size_t		 off;
	size_t		 len;
};

struct hdr_iter {
	const char	*msg;
	size_t		 end;		/* end of the header block */
	size_t		 pos;
	unsigned	 nfields;
	bool		 overflow;	/* a limit was hit */
};

/*
 * hdr_body_offset: offset of the body in msg[0..len): just past the first
 * empty line (LF or CRLF). If there is no empty line, the whole message is
 * header and len is returned. *hdr_end_r (may be NULL) gets the offset
 * where the header fields end (the empty line itself, or len).
 */
size_t hdr_body_offset(const char *msg, size_t len, size_t *hdr_end_r);

/*
 * hdr_iter_init: iterate the fields of the header block msg[0..len)
 * (len may cover the whole message; iteration stops at the empty line).
 */
void hdr_iter_init(struct hdr_iter *it, const char *msg, size_t len);
/*
 * hdr_iter_next: 1 and *f filled, 0 at the end of the header, -1 when
 * HDR_MAX_FIELDS or HDR_MAX_SIZE was exceeded (it->overflow set; the
 * iterator then stays at the end). Lines that are not fields (no ':',
 * or a continuation before any field) are skipped.
 */
int hdr_iter_next(struct hdr_iter *it, struct hdr_field *f);

/*
 * hdr_find: the first field called name (case-insensitive) in the header
 * of msg. Returns 1 found, 0 not found.
 */
int hdr_find(const char *msg, size_t len, const char *name,
    struct hdr_field *f);

/* hdr_name_is: field name equals name, ASCII case-insensitive. */
bool hdr_name_is(const struct hdr_field *f, const char *name);

/*
 * hdr_value_nul: a field value with each NUL byte replaced by U+FFFD (as
 * Dovecot's header parser does). Without NULs *v_r = v and nothing is
 * copied; otherwise the copy is made in tmp (reset first). 0 or -1.
 */
int hdr_value_nul(const char *v, size_t n, struct buf *tmp, const char **v_r,
    size_t *n_r) __attribute__((warn_unused_result));

/*
 * hdr_unfold: append value with folding line ends (CR, LF) removed and
 * leading/trailing WSP trimmed. NUL bytes are dropped. 0 or -1 (buf max).
 */
int hdr_unfold(const char *value, size_t n, struct buf *out)
    __attribute__((warn_unused_result));

/*
 * hdr_decode_2047: append the unfolded value with RFC 2047 encoded words
 * decoded to UTF-8 (B and Q; charsets per charset_to_utf8). White space
 * between two adjacent encoded words is dropped. Malformed words and words
 * in unknown charsets are kept as they are. 0, or -1 if out is full.
 */
int hdr_decode_2047(const char *value, size_t n, struct buf *out)
    __attribute__((warn_unused_result));

#endif
