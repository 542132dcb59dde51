/*
 * sortkey - the pure parts of ESEARCH (RFC 4731), SORT and THREAD
 * (RFC 5256): RETURN options, sequence-set compression of results, base
 * subject extraction (RFC 5256 2.1), sent dates, address sort keys and
 * the SORT criteria list.
 */
#ifndef IMAP_SORTKEY_H
#define IMAP_SORTKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/buf.h"
#include "imap/parser.h"

/* ESEARCH RETURN options */
#define ESR_MIN		0x01
#define ESR_MAX		0x02
#define ESR_COUNT	0x04
#define ESR_ALL		0x08

/*
 * esearch_return_parse: the list after RETURN. An empty list means ALL
 * (RFC 4731 3.1). Returns 0 with *opts_r, or -1 (unknown option, e.g.
 * SAVE, or not a list).
 */
int esearch_return_parse(const struct imap_arg *a, unsigned *opts_r);

/*
 * esearch_format: append " MIN a MAX b ALL set COUNT n" as opts ask for
 * (Dovecot's order; RFC 4731 sets none),
 * for the ascending numbers v[0..n). MIN, MAX and ALL are left out when
 * nothing matched (COUNT 0 is kept). 0, or -1 if out is full.
 */
int esearch_format(struct buf *out, unsigned opts, const uint32_t *v,
    size_t n);

/* seqset_compress: append "1:3,5" for the ascending numbers v[0..n). */
int seqset_compress(struct buf *out, const uint32_t *v, size_t n);

/*
 * sort_base_subject: RFC 5256 2.1 base subject of a raw Subject value
 * (encoded words decoded to UTF-8, white space folded, "(fwd)" trailers,
 * "Re:"/"Fw:"/"Fwd:" leaders with blobs, "[fwd: ...]" wrappers removed).
 * Appends to out (reset by the caller). *reply_r (may be NULL) tells
 * whether a reply/forward marker was removed (THREAD=REFERENCES 4.6).
 * 0, or -1 if out is full.
 */
int sort_base_subject(const char *v, size_t n, struct buf *out,
    bool *reply_r);

/* sort_strcmp: i;ascii-casemap comparison of two byte strings. */
int sort_strcmp(const char *a, size_t an, const char *b, size_t bn);

/*
 * sort_sent_date: a Date: header value ("Tue, 1 Jul 2003 10:52:37 +0200",
 * seconds and the day name optional, obsolete zones accepted) as UTC
 * time. 0, or -1 if it cannot be parsed.
 */
int sort_sent_date(const char *v, size_t n, time_t *t_r);

/*
 * sort_addr_key: the addr-mailbox (local part) of the first mailbox in an
 * address list value, appended to out ("" when there is none). 0 or -1.
 */
int sort_addr_key(const char *v, size_t n, struct buf *out);

/* SORT criteria (RFC 5256 3) */
enum sort_crit {
	SORT_ARRIVAL = 0,
	SORT_CC,
	SORT_DATE,
	SORT_FROM,
	SORT_SIZE,
	SORT_SUBJECT,
	SORT_TO
};

#define SORT_CRIT_MAX	16

struct sort_program {
	enum sort_crit	 crit[SORT_CRIT_MAX];
	bool		 reverse[SORT_CRIT_MAX];
	size_t		 n;
};

/*
 * sort_program_parse: the parenthesised criteria list. Returns 0, or -1
 * with *why_r (static text for BAD).
 */
int sort_program_parse(const struct imap_arg *a, struct sort_program *p,
    const char **why_r);

#endif
