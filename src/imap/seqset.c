/*
 * seqset - IMAP sequence sets. See seqset.h.
 *
 * Input is untrusted: numbers are parsed strictly (no zero, no overflow),
 * the number of ranges is capped (SEQSET_MAX_RANGES).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "imap/seqset.h"

static int
parse_num(const char **sp, uint32_t *n_r)
{
	const char *s = *sp;
	uint64_t v = 0;

	if (*s == '*') {
		*n_r = SEQSET_STAR;
		*sp = s + 1;
		return 0;
	}
	if (*s < '1' || *s > '9')
		return -1;
	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return -1;
		s++;
	}
	*n_r = (uint32_t)v;
	*sp = s;
	return 0;
}

void
seqset_add(struct seqset *set, uint32_t lo, uint32_t hi)
{
	if (set->n == set->cap) {
		set->cap = set->cap ? set->cap * 2 : 4;
		set->r = xreallocarray(set->r, set->cap, sizeof(*set->r));
	}
	set->r[set->n].lo = lo;
	set->r[set->n].hi = hi;
	set->n++;
}

int
seqset_parse(const char *s, struct seqset *set)
{
	uint32_t a, b;

	memset(set, 0, sizeof(*set));
	for (;;) {
		if (parse_num(&s, &a) < 0)
			goto bad;
		b = a;
		if (*s == ':') {
			s++;
			if (parse_num(&s, &b) < 0)
				goto bad;
		}
		if (set->n >= SEQSET_MAX_RANGES)
			goto bad;
		seqset_add(set, a, b);
		if (*s == '\0')
			return 0;
		if (*s != ',')
			goto bad;
		s++;
	}
bad:
	seqset_free(set);
	return -1;
}

void
seqset_free(struct seqset *set)
{
	free(set->r);
	memset(set, 0, sizeof(*set));
}

static int
range_cmp(const void *a, const void *b)
{
	const struct seqrange *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	return 0;
}

void
seqset_resolve(struct seqset *set, uint32_t star)
{
	size_t i, o;
	uint32_t t;

	for (i = 0; i < set->n; i++) {
		if (set->r[i].lo == SEQSET_STAR)
			set->r[i].lo = star;
		if (set->r[i].hi == SEQSET_STAR)
			set->r[i].hi = star;
		if (set->r[i].lo > set->r[i].hi) {
			t = set->r[i].lo;
			set->r[i].lo = set->r[i].hi;
			set->r[i].hi = t;
		}
	}
	if (set->n < 2)
		return;
	qsort(set->r, set->n, sizeof(*set->r), range_cmp);
	o = 0;
	for (i = 1; i < set->n; i++) {
		if (set->r[o].hi == UINT32_MAX ||
		    set->r[i].lo <= set->r[o].hi + 1) {
			if (set->r[i].hi > set->r[o].hi)
				set->r[o].hi = set->r[i].hi;
		} else {
			set->r[++o] = set->r[i];
		}
	}
	set->n = o + 1;
}

bool
seqset_contains(const struct seqset *set, uint32_t n)
{
	size_t lo = 0, hi = set->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (n < set->r[mid].lo)
			hi = mid;
		else if (n > set->r[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

int
seqset_format(const struct seqset *set, char *dst, size_t dstlen)
{
	size_t i, off = 0;
	int k;

	if (dstlen == 0)
		return -1;
	dst[0] = '\0';
	for (i = 0; i < set->n; i++) {
		if (set->r[i].lo == set->r[i].hi)
			k = snprintf(dst + off, dstlen - off, "%s%u",
			    i ? "," : "", set->r[i].lo);
		else
			k = snprintf(dst + off, dstlen - off, "%s%u:%u",
			    i ? "," : "", set->r[i].lo, set->r[i].hi);
		if (k < 0 || (size_t)k >= dstlen - off)
			return -1;
		off += (size_t)k;
	}
	return 0;
}
