/*
 * canon - DKIM canonicalization (RFC 6376 3.4): "simple" and "relaxed"
 * for header fields and bodies. Messages inside facteur use LF line ends;
 * DKIM works on CRLF, so a LF (with or without a CR before it) counts as
 * one CRLF here and a CR not followed by LF is an ordinary byte.
 *
 * The body canonicalizer is incremental: feed any slicing of the body,
 * the output (hashed, never stored) is the same. It honours a length
 * limit (the l= tag): only the first `limit` canonical octets are hashed,
 * the total canonical length is counted regardless.
 */
#ifndef MAILAUTH_CANON_H
#define MAILAUTH_CANON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

enum canon_alg {
	CANON_SIMPLE = 0,
	CANON_RELAXED
};

/*
 * canon_header: append the canonical form of one whole header field
 * raw[0..n) (name, colon, value, folding, optional final line end) to
 * out, ending with CRLF when crlf is true. Relaxed: lower-cased name,
 * folding removed, WSP runs turned into one SP, WSP around the colon and
 * at the end removed. Simple: the bytes as they are, line ends as CRLF.
 * 0, or -1 when out is full.
 */
int canon_header(enum canon_alg alg, const char *raw, size_t n, bool crlf,
    struct buf *out) __attribute__((warn_unused_result));

/* Receives canonical body bytes (a hash update). */
typedef void canon_sink_fn(void *arg, const void *p, size_t n);

struct canon_body {
	enum canon_alg	 alg;
	canon_sink_fn	*sink;
	void		*arg;
	bool		 has_limit;
	uint64_t	 limit;		/* l=: octets to pass to sink */
	uint64_t	 emitted;	/* canonical octets produced so far */
	uint64_t	 pending_crlf;	/* line ends held back (trailing
					 * empty lines are dropped) */
	bool		 pending_wsp;	/* relaxed: WSP run not yet written */
	bool		 cr;		/* a CR waits for its LF */
	bool		 any;		/* some content was seen */
	char		 out[1024];	/* batches sink calls */
	size_t		 outlen;
};

/*
 * canon_body_init: start a body. has_limit/limit: the l= value (only the
 * first limit octets reach sink; canon_body_final still reports the full
 * length).
 */
void canon_body_init(struct canon_body *cb, enum canon_alg alg,
    canon_sink_fn *sink, void *arg, bool has_limit, uint64_t limit);
void canon_body_update(struct canon_body *cb, const char *p, size_t n);
/* canon_body_final: flush; returns the whole canonical body length. */
uint64_t canon_body_final(struct canon_body *cb);

#endif
