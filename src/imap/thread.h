/*
 * thread - THREAD=ORDEREDSUBJECT and THREAD=REFERENCES (RFC 5256 4) over
 * an array of messages already reduced to their keys, and the msg-id
 * lists of References / In-Reply-To. Pure: the output is the thread
 * response's data, "(1 2)(3 (4)(5))", appended to a buffer.
 */
#ifndef IMAP_THREAD_H
#define IMAP_THREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/buf.h"

#define THREAD_REFS_MAX	100	/* last References kept per message */
#define THREAD_ID_MAX	512	/* longer msg-ids are ignored */

struct thread_msg {
	uint32_t	  id;		/* number written (seq or UID) */
	uint32_t	  seq;		/* ties on date */
	time_t		  date;		/* sent date (RFC 5256) */
	const char	 *subj;		/* base subject */
	size_t		  subjlen;
	bool		  reply;	/* subject was a reply/forward */
	const char	 *msgid;	/* NULL: none */
	char		**refs;		/* parent ids, oldest first */
	size_t		  nrefs;
};

/*
 * thread_ids_parse: the msg-ids ("<x@y>", brackets kept) of a References
 * or In-Reply-To value, appended to *ids_r, *n_r (malloc'd copies). Only
 * the last max are kept (all when max is 0); ids longer than THREAD_ID_MAX
 * are skipped. Returns how many were found.
 */
size_t thread_ids_parse(const char *v, size_t n, char ***ids_r, size_t *n_r,
    size_t max);
void thread_ids_free(char **ids, size_t n);

/* thread_orderedsubject, thread_references: append the threads of
 * m[0..n) to out. 0, or -1 if out is full. */
int thread_orderedsubject(const struct thread_msg *m, size_t n,
    struct buf *out);
int thread_references(const struct thread_msg *m, size_t n, struct buf *out);

#endif
