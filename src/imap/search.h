/*
 * search - the IMAP SEARCH program (RFC 3501 6.4.4): parsing the keys from
 * parsed command arguments into a tree, and evaluating it on one message
 * at a time. Pure: the caller supplies each message's metadata and, when
 * search_needs_text() says so, its bytes (LF or CRLF line ends).
 *
 * String keys match case-insensitively as substrings (RFC 3501), after
 * RFC 2047 decoding of headers and transfer-decoding plus charset
 * conversion of text bodies. CHARSET UTF-8 and US-ASCII are accepted.
 */
#ifndef IMAP_SEARCH_H
#define IMAP_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "imap/parser.h"

#define SEARCH_DEPTH_MAX	64
#define SEARCH_KEYS_MAX		1000

struct search_key;

/* One message as the evaluator sees it. */
struct search_msg {
	uint32_t	 seq;		/* 1-based */
	uint32_t	 uid;
	unsigned	 flags;		/* MBOX_F_*, with RECENT */
	uint32_t	 keywords;	/* bit i = keyword index i */
	uint64_t	 size;		/* RFC822.SIZE (CRLF size) */
	time_t		 internaldate;
	const char	*data;		/* message bytes or NULL */
	size_t		 len;
};

/*
 * search_parse: args[0..n) after "SEARCH" (and after the CHARSET pair,
 * which the caller strips with search_charset()). Returns the program, or
 * NULL with *why_r (static text for a BAD reply).
 */
struct search_key *search_parse(const struct imap_arg *args, size_t n,
    const char **why_r);
void search_free(struct search_key **kp);

/*
 * search_charset: if args start with "CHARSET x", check x and return how
 * many arguments to skip (2), else 0. -1 if the charset is unsupported
 * (reply NO [BADCHARSET (UTF-8 US-ASCII)]).
 */
int search_charset(const struct imap_arg *args, size_t n);

/*
 * search_prepare: resolve the program against the mailbox: "*" in
 * sequence sets (max_seq) and UID sets (max_uid), keyword names to
 * indexes through kw_index (1 found with *idx_r, 0 unknown: never
 * matches).
 */
void search_prepare(struct search_key *k, uint32_t max_seq,
    uint32_t max_uid, int (*kw_index)(void *ctx, const char *name,
    unsigned *idx_r), void *ctx);

/* search_needs_text: the message bytes are needed (headers/body/dates). */
bool search_needs_text(const struct search_key *k);

#define SEARCH_NEED_TEXT	0x01	/* data/len */
#define SEARCH_NEED_DATE	0x02	/* internaldate */
#define SEARCH_NEED_SIZE	0x04	/* size */
/* search_needs: which search_msg fields the program reads (others may
 * be left zero, saving a stat(2) per message). */
unsigned search_needs(const struct search_key *k);

/* search_match: 1 match, 0 not. */
int search_match(const struct search_key *k, const struct search_msg *m);

/*
 * search_rfc5322_date: the day of a Date: header value ("Tue, 1 Jul 2003
 * 10:52:37 +0200"), as midnight UTC of the day as written (time and zone
 * ignored, as SENTON etc. want). 0 or -1.
 */
int search_rfc5322_date(const char *v, size_t n, time_t *day_r);

#endif
