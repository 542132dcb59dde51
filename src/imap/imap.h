/*
 * imap - the IMAP4rev1 server (RFC 3501) with IDLE, UIDPLUS, MOVE,
 * SPECIAL-USE, NAMESPACE, LITERAL+, ENABLE, ID, UNSELECT, CHILDREN.
 *
 * The worker fills a struct imap_server once and registers
 * imap_session_run() as the handler of the LK_IMAPS and LK_IMAP listeners
 * with the struct as its argument. The struct is shared by all session
 * threads and must outlive them; it is only read.
 */
#ifndef IMAP_IMAP_H
#define IMAP_IMAP_H

#include "core/conf.h"
#include "net/conn.h"
#include "net/server.h"

struct dir;
struct tls_ctx;

struct imap_server {
	const struct conf	*conf;
	struct dir		*dir;
	struct tls_ctx		*tls;	/* NULL: no TLS (tests) */
};

/*
 * imap_session_run: serve one client connection to the end, then free c.
 * LK_IMAPS: TLS handshake first; LK_IMAP: plaintext with STARTTLS and
 * LOGINDISABLED until TLS is up. si->over_limit: "* BYE Too many
 * connections" and close.
 */
void imap_session_run(struct conn *c, const struct session_info *si,
    void *arg);

#endif
