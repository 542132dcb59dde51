/*
 * mime - the MIME structure of a message held in memory (RFC 2045, 2046,
 * 2231): one pass builds a flat array of parts with the offsets of each
 * part's header and body in the message bytes, their sizes and line
 * counts, and the parsed Content-* fields. Used for IMAP BODYSTRUCTURE,
 * BODY[section] and SEARCH. Pure: no I/O.
 *
 * Tree shape (as IMAP numbers parts, RFC 3501 6.4.5): part 0 is the whole
 * message (header + body). A multipart part's children are its body
 * parts; a message/rfc822 part has exactly one child, the embedded
 * message (header + body), whose own children follow the same rules.
 */
#ifndef MAIL_MIME_H
#define MAIL_MIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define MIME_MAX_DEPTH	99	/* nesting below the message (Dovecot: 100) */
#define MIME_MAX_PARTS	1000	/* parts per message */
#define MIME_MAX_PARAMS	64	/* parameters kept per header field */

/* part flags */
#define MIME_F_MULTIPART	0x01	/* has body parts as children */
#define MIME_F_RFC822		0x02	/* message/rfc822 with its child */
#define MIME_F_DEFAULT_TYPE	0x04	/* no usable Content-Type */
#define MIME_F_OVERFLOW		0x08	/* depth or part cap hit here */
#define MIME_F_NO_BOUNDARY	0x10	/* multipart without boundary */


#define MIME_NIL	UINT32_MAX

/* a string in the tree's pool; off == MIME_NIL when absent */
struct mime_str {
	uint32_t	off;
	uint32_t	len;
};

/* name is MIME_NIL for Content-Language entries */
struct mime_param {
	struct mime_str	name;
	struct mime_str	value;
};

struct mime_part {
	/* positions in the message: the header includes its empty line,
	 * except that a part with an empty body right before a boundary
	 * line loses its last line end, as Dovecot counts BODY[n.MIME] */
	size_t		hdr_off;
	size_t		hdr_size;
	size_t		hdr_lines;	/* LF count */
	size_t		hdr_bare_lf;	/* LFs not preceded by CR */
	size_t		body_off;
	size_t		body_size;
	size_t		body_lines;	/* LF count */
	size_t		body_bare_lf;
	int		parent;		/* index or -1 */
	int		child;		/* first child or -1 */
	int		next;		/* next sibling or -1 */
	unsigned	nchildren;
	unsigned	depth;
	unsigned	flags;
	/* Content-Type as written (case kept); MIME_NIL when absent */
	struct mime_str	type;
	struct mime_str	subtype;
	uint32_t	param;		/* first index in tree params */
	uint32_t	nparam;
	/* unfolded values, MIME_NIL when the field is absent */
	struct mime_str	cte;		/* Content-Transfer-Encoding */
	struct mime_str	id;
	struct mime_str	desc;
	struct mime_str	md5;
	struct mime_str	loc;
	struct mime_str	disp;		/* disposition type */
	uint32_t	dparam;
	uint32_t	ndparam;
	uint32_t	lang;		/* Content-Language tags (values) */
	uint32_t	nlang;
};

struct mime_tree {
	const char		*msg;
	size_t			 len;
	struct mime_part	*parts;
	unsigned		 nparts;
	unsigned		 cap;
	struct mime_param	*params;
	uint32_t		 nparams;
	uint32_t		 pcap;
	struct buf		 pool;
	bool			 overflow;	/* a cap was hit somewhere */
};

/* mime_tree_init: empty tree; mime_parse may be called many times. */
void mime_tree_init(struct mime_tree *t);
/* mime_tree_free: release memory; the tree may be initialised again. */
void mime_tree_free(struct mime_tree *t);

/*
 * mime_parse: build the tree of msg[0..len), which must stay valid while
 * the tree is used. Never fails on malformed input (unusable parts become
 * text/plain, caps mark MIME_F_OVERFLOW). Returns 0, or -1 if a string
 * pool limit was hit (the tree is still usable; some strings are NIL).
 */
int mime_parse(struct mime_tree *t, const char *msg, size_t len);

/* mime_str: pointer to s (not NUL-terminated) and its length, or NULL. */
const char *mime_str(const struct mime_tree *t, struct mime_str s,
    size_t *len_r);
/* mime_str_is: s equals the ASCII string v, case-insensitive. */
bool mime_str_is(const struct mime_tree *t, struct mime_str s,
    const char *v);

/*
 * mime_param_get: value of the Content-Type (disp false) or
 * Content-Disposition (disp true) parameter called name. RFC 2231
 * continuations are already joined; an extended value ("name*") keeps
 * its charset'lang'%XX form. 1 found (*v_r, *n_r), 0 not found.
 */
int mime_param_get(const struct mime_tree *t, const struct mime_part *p,
    bool disp, const char *name, const char **v_r, size_t *n_r);
/*
 * mime_param_decode: like mime_param_get but also looks for "name*",
 * decodes its %XX and converts from its charset; appends UTF-8 to out.
 * 1 found, 0 not found, -1 out full.
 */
int mime_param_decode(const struct mime_tree *t, const struct mime_part *p,
    bool disp, const char *name, struct buf *out);

enum mime_sec {
	MIME_SEC_BODY,		/* "1.2": the part's body (whole message for
				   message/rfc822 parts, all for "") */
	MIME_SEC_MIME,		/* "1.2.MIME": the part's own header */
	MIME_SEC_HEADER,	/* "HEADER", "1.2.HEADER" */
	MIME_SEC_TEXT		/* "TEXT", "1.2.TEXT" */
};

/*
 * mime_find: part for a dotted section number ("", "1", "1.2.3"; n bytes)
 * as RFC 3501 6.4.5 and Dovecot number them. 1 found, 0 no such part.
 */
int mime_find(const struct mime_tree *t, const char *sec, size_t n,
    int *idx_r);

/*
 * mime_section: byte range of an IMAP section spec such as "1.2", "3.MIME",
 * "2.HEADER", "TEXT", "" (whole message). HEADER.FIELDS variants are
 * reported as MIME_SEC_HEADER with *rest_r pointing at ".FIELDS...".
 * HEADER/TEXT on a non-message part is "no such part". Sets *off_r,
 * *len_r, *lf_r (bare LF count: CRLF size = len + lf). 1 / 0 / -1 (syntax).
 */
int mime_section(const struct mime_tree *t, const char *spec, size_t n,
    size_t *off_r, size_t *len_r, size_t *lf_r, enum mime_sec *kind_r,
    const char **rest_r);

/* mime_count_lf: LF count and bare-LF count of msg[a..b). */
void mime_count_lf(const char *msg, size_t a, size_t b, size_t *lines_r,
    size_t *bare_r);

#endif
