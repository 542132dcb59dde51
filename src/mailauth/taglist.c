/*
 * taglist - RFC 6376 3.2 tag lists:
 *   tag-list  = tag-spec *( ";" tag-spec ) [ ";" ]
 *   tag-spec  = [FWS] tag-name [FWS] "=" [FWS] tag-value [FWS]
 *   tag-name  = ALPHA *ALNUMPUNC          (ALNUMPUNC = ALPHA / DIGIT / "_")
 *   tag-value = [ tval *( 1*(WSP / FWS) tval ) ], tval = 1*VALCHAR,
 *   VALCHAR   = %x21-3A / %x3C-7E
 * Input is untrusted (headers, DNS); nothing is copied.
 */
#include <string.h>

#include "mailauth/taglist.h"

static bool
tl_fws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
tl_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

void
taglist_init(struct taglist *t, const char *p, size_t n)
{
	t->p = p;
	t->n = n;
	t->pos = 0;
}

int
taglist_next(struct taglist *t, struct tag *tag)
{
	const char *p = t->p;
	size_t i = t->pos, vs, ve;

	while (i < t->n && tl_fws(p[i]))
		i++;
	if (i >= t->n) {
		t->pos = i;
		return 0;
	}
	if (!tl_alpha(p[i]))
		return -1;
	tag->name = p + i;
	while (i < t->n && (tl_alpha(p[i]) || (p[i] >= '0' && p[i] <= '9') ||
	    p[i] == '_'))
		i++;
	tag->name_len = (size_t)(p + i - tag->name);
	while (i < t->n && tl_fws(p[i]))
		i++;
	if (i >= t->n || p[i] != '=')
		return -1;
	i++;
	tag->raw_off = i;
	while (i < t->n && p[i] != ';') {
		unsigned char c = (unsigned char)p[i];

		if (!tl_fws(p[i]) && (c < 0x21 || c > 0x7e))
			return -1;
		i++;
	}
	tag->raw_len = i - tag->raw_off;
	vs = tag->raw_off;
	ve = i;
	while (vs < ve && tl_fws(p[vs]))
		vs++;
	while (ve > vs && tl_fws(p[ve - 1]))
		ve--;
	tag->value = p + vs;
	tag->value_len = ve - vs;
	if (i < t->n)
		i++;	/* the ';' */
	t->pos = i;
	return 1;
}

bool
taglist_is(const struct tag *tag, const char *name)
{
	size_t n = strlen(name);

	return tag->name_len == n && memcmp(tag->name, name, n) == 0;
}

long
taglist_nofws(const char *v, size_t n, char *dst, size_t dstlen)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (tl_fws(v[i]))
			continue;
		if (o + 1 >= dstlen)
			return -1;
		dst[o++] = v[i];
	}
	if (dstlen == 0)
		return -1;
	dst[o] = '\0';
	return (long)o;
}
