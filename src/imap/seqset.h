/*
 * seqset - IMAP sequence sets (RFC 3501 9, sequence-set): "1,3:5,7:*",
 * reversed ranges ("5:3"), "*" for the largest number in use, used both
 * for message sequence numbers and for UIDs.
 */
#ifndef IMAP_SEQSET_H
#define IMAP_SEQSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SEQSET_STAR	0		/* "*" before resolution (0 is
					 * never a valid nz-number) */
#define SEQSET_MAX_RANGES 100000

struct seqrange {
	uint32_t lo;
	uint32_t hi;
};

struct seqset {
	struct seqrange	*r;
	size_t		 n;
	size_t		 cap;
};

/*
 * seqset_parse: parse s (NUL-terminated). Numbers are 1..4294967295
 * (nz-number, RFC 3501 9); "*" is kept as SEQSET_STAR. Returns
 * 0, or -1 on bad syntax (set->n == 0 then).
 */
int seqset_parse(const char *s, struct seqset *set);
void seqset_free(struct seqset *set);

/*
 * seqset_resolve: replace "*" by star (the highest sequence number or
 * UID; 0 when the mailbox is empty), order each range, sort and merge.
 * After this, seqset_contains() is a binary search.
 */
void seqset_resolve(struct seqset *set, uint32_t star);
/* seqset_contains: n is in the resolved set. */
bool seqset_contains(const struct seqset *set, uint32_t n);
/* seqset_add: append a range (lo <= hi) to an unresolved set. */
void seqset_add(struct seqset *set, uint32_t lo, uint32_t hi);
/*
 * seqset_format: write a resolved, merged set as "1:3,7" into dst; 0, or
 * -1 if dst is too small. Used for COPYUID/APPENDUID sets.
 */
int seqset_format(const struct seqset *set, char *dst, size_t dstlen);

#endif
