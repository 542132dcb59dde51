/*
 * stuff - turn a stored message (LF line ends, as Maildir keeps it) into
 * the bytes of a POP3 multi-line response (RFC 1939 3): every line ends
 * in CRLF (a CRLF already there is kept, a bare LF gets its CR), a line
 * starting with '.' gets one more '.', and the response ends with
 * ".\r\n". For TOP it stops after the header, the blank line and n body
 * lines. Incremental: the message is fed in chunks of any size, so the
 * session streams a large message with a small buffer. Pure (no I/O).
 */
#ifndef POP3_STUFF_H
#define POP3_STUFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* Body line count meaning "the whole message" (RETR). */
#define POP3_STUFF_ALL	UINT64_MAX

struct pop3_stuff {
	uint64_t lines_left;	/* body lines still to send (TOP) */
	bool	 bol;		/* next byte starts a line */
	bool	 last_cr;	/* previous byte was CR */
	bool	 line_empty;	/* line has no bytes yet but CR */
	bool	 in_body;	/* blank line after header sent */
	bool	 done;		/* TOP limit reached: ignore rest */
	uint64_t out;		/* message bytes produced (not the ".") */
};

/* pop3_stuff_init: body_lines for TOP, POP3_STUFF_ALL for RETR. */
void pop3_stuff_init(struct pop3_stuff *s, uint64_t body_lines);
/*
 * pop3_stuff_feed: encode in[0..n) onto out. Returns 0, or -1 when out
 * reached its ceiling (out is then unchanged from the failed append on;
 * give it room for at least 2 * n + 2 bytes per call). Once s->done, the
 * input is ignored.
 */
int pop3_stuff_feed(struct pop3_stuff *s, const char *in, size_t n,
    struct buf *out) __attribute__((warn_unused_result));
/*
 * pop3_stuff_end: finish the response: a CRLF if the message did not end
 * with a line end, then ".\r\n". 0 or -1 (out full).
 */
int pop3_stuff_end(struct pop3_stuff *s, struct buf *out)
    __attribute__((warn_unused_result));

#endif
