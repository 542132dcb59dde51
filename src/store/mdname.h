/*
 * mdname - Dovecot Maildir file names:
 *
 *   <base>[,S=<size>][,W=<vsize>][,<other>...][:2,<flags>]
 *
 * The "key" of a name is everything before the ':' info separator: it is
 * what dovecot-uidlist records and what stays the same when flags change.
 * Flags after ":2," are sorted by ASCII: D draft, F flagged, R answered,
 * S seen, T deleted, a..z keywords (dovecot-keywords index 0..25); other
 * letters are kept as they are.
 */
#ifndef STORE_MDNAME_H
#define STORE_MDNAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest file name we handle (NAME_MAX). */
#define MDNAME_MAX	255

struct mdname {
	size_t		keylen;		/* bytes before ':' */
	bool		has_size;	/* ,S= present */
	bool		has_vsize;	/* ,W= present */
	bool		has_info;	/* ":2," present */
	uint64_t	size;
	uint64_t	vsize;
	unsigned	flags;		/* MBOX_F_* (mailbox.h) */
	uint32_t	keywords;	/* bit i = letter 'a'+i */
	char		other[32];	/* other flag letters */
};

/*
 * mdname_parse: parse a file name (NUL-terminated). Returns 0, or -1 for
 * names that cannot be messages: empty, starting with '.', longer than
 * MDNAME_MAX, containing '/' or control bytes, a bad S=/W= number, or
 * more than 31 unknown flag letters.
 */
int mdname_parse(const char *name, struct mdname *p);

/*
 * mdname_with_flags: build "<key>:2,<sorted flags>" from the key of name
 * (keylen bytes), flags, keywords and the other letters. Returns the
 * length, or -1 if dst (dstlen) is too small.
 */
int mdname_with_flags(const char *name, size_t keylen, unsigned flags,
    uint32_t keywords, const char *other, char *dst, size_t dstlen);

/*
 * mdname_new_base: a fresh unique base "<sec>.M<usec>P<pid>Q<n>.<host>"
 * (n: a per-process counter, so names never repeat within a process even
 * in one microsecond; Dovecot uses the same Q field). The host name has
 * '/' and ':' escaped as \057 and \072 as Dovecot does. Returns the length
 * or -1 if dst is too small.
 */
int mdname_new_base(char *dst, size_t dstlen);

/* mdname_flag_letters: the letters of flags/keywords/other in ASCII order
 * into dst (>= 64 bytes). */
void mdname_flag_letters(unsigned flags, uint32_t keywords,
    const char *other, char *dst);

#endif
