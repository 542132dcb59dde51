/*
 * pop3 - the POP3 server (RFC 1939, CAPA RFC 2449, STLS RFC 2595, AUTH
 * RFC 5034) on the user's INBOX, Dovecot-compatible: same UIDLs, same
 * replies where clients or scripts may look at them.
 *
 * Listeners: LK_POP3S (995, implicit TLS) and LK_POP3 (110, STLS; USER,
 * PASS and AUTH refused until TLS is up). One session per mailbox at a
 * time, across processes (flock on "facteur-pop3.lock" in the Maildir).
 * A session works on a snapshot of INBOX taken at login; DELE takes effect
 * at QUIT only; RETR marks a message \Seen (applied at QUIT, and also when
 * the connection drops, as Dovecot's default does); TOP does not.
 */
#ifndef POP3_POP3_H
#define POP3_POP3_H

#include "core/conf.h"
#include "net/server.h"

struct dir;
struct tls_ctx;

/* Shared by every session of the process; set up before serving. */
struct pop3_server {
	const struct conf *conf;	/* mail_root, auth_fail_delay_ms */
	struct dir	  *dir;		/* directory (dir_login) */
	struct tls_ctx	  *tls;		/* NULL: no TLS
					 * (995 then refuses, 110 offers
					 * no STLS) */
};

/*
 * pop3_session_run: the server_handler_fn for LK_POP3S and LK_POP3; arg
 * is a struct pop3_server *. Runs the whole session on the calling
 * thread and frees the conn before returning.
 */
void pop3_session_run(struct conn *c, const struct session_info *si,
    void *arg);

#endif
