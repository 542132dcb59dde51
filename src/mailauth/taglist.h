/*
 * taglist - the "tag=value; tag=value" syntax of RFC 6376 3.2, shared by
 * DKIM-Signature fields, DKIM key records and DMARC records (RFC 7489
 * 6.4 uses the same grammar). Pure, bounded by its input.
 */
#ifndef MAILAUTH_TAGLIST_H
#define MAILAUTH_TAGLIST_H

#include <stdbool.h>
#include <stddef.h>

struct taglist {
	const char	*p;
	size_t		 n;
	size_t		 pos;
};

struct tag {
	const char	*name;
	size_t		 name_len;
	const char	*value;		/* surrounding FWS trimmed */
	size_t		 value_len;
	size_t		 raw_off;	/* just after '=' ... */
	size_t		 raw_len;	/* ... up to ';' or the end */
};

void taglist_init(struct taglist *t, const char *p, size_t n);
/*
 * taglist_next: 1 and *tag filled, 0 at the end, -1 on a syntax error
 * (bad tag name, no '=', a byte outside VALCHAR/FWS in a value, an
 * empty tag-spec such as ";;"). Names are not checked for duplicates.
 */
int taglist_next(struct taglist *t, struct tag *tag);
/* taglist_is: the tag's name equals name (case-sensitive, as RFC 6376). */
bool taglist_is(const struct tag *tag, const char *name);
/*
 * taglist_nofws: copy value without any FWS into dst (size dstlen,
 * NUL-terminated). Returns the length, or -1 if it does not fit.
 */
long taglist_nofws(const char *v, size_t n, char *dst, size_t dstlen);

#endif
