/*
 * bounce - delivery status notifications (RFC 3464, RFC 3462/6522
 * multipart/report) for recipients that failed for good.
 */
#ifndef QUEUE_BOUNCE_H
#define QUEUE_BOUNCE_H

#include <stddef.h>
#include <time.h>

#include "core/buf.h"
#include "queue/qfile.h"

#define BOUNCE_HDR_MAX	(64 * 1024)	/* original headers quoted */

/*
 * bounce_build: the DSN for e's recipients that are bounced and not yet
 * notified, addressed to e->sender, with LF line ends, into out (reset
 * first). content/clen: the original message (its header section is
 * quoted as text/rfc822-headers). now: the Date. Returns the number of
 * recipients reported (0: nothing to say, out empty), -1 on buffer limit.
 */
int bounce_build(struct buf *out, const char *hostname, const struct qenv *e,
    const char *content, size_t clen, time_t now);

/* bounce_header_end: length of the header section of content (up to and
 * including the empty line, or all of it), capped at BOUNCE_HDR_MAX. */
size_t bounce_header_end(const char *content, size_t clen);

#endif
