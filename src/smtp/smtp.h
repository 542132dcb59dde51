/*
 * smtp - the SMTP server: port 25 (MX, STARTTLS offered), 465 (implicit
 * TLS submission, RFC 8314) and 587 (submission, STARTTLS required before
 * AUTH, RFC 6409), delivering into local Maildirs and handing remote
 * recipients (authenticated relaying, external alias targets) to the
 * outbound queue.
 *
 * The worker (cli/serve.c) fills one struct smtp_server, registers
 * smtp_session_run as the handler of the three SMTP listeners with the
 * server as arg, and registers smtp_deliver_local with the queue so that
 * bounces to local senders land in their Maildirs.
 */
#ifndef SMTP_SMTP_H
#define SMTP_SMTP_H

#include <stddef.h>
#include <sys/uio.h>

#include "core/conf.h"
#include "core/err.h"
#include "net/server.h"

struct dir;
struct tls_ctx;

struct smtp_server {
	const struct conf *conf;	/* hostname, limits, mail_root */
	struct dir	*dir;		/* thread-safe directory handle */
	struct tls_ctx	*tls;		/* server context; NULL: no TLS at
					 * all (STARTTLS not offered, 465
					 * and AUTH unusable) */
	/*
	 * Timeouts in ms; 0 means the RFC 5321 4.5.3.2 values: 5 min per
	 * command, 3 min per DATA/BDAT read, 10 min to the final dot.
	 * Only tests change them.
	 */
	int		 cmd_timeout_ms;
	int		 data_block_timeout_ms;
	int		 data_total_timeout_ms;
};

/*
 * smtp_session_run: the listener handler (server_handler_fn). Runs one
 * SMTP session to its end and frees the conn. arg is the struct
 * smtp_server *. LK_SMTPS sessions start with the TLS handshake; an
 * over-limit session gets "421 4.7.0" and is closed.
 */
void smtp_session_run(struct conn *c, const struct session_info *si,
    void *arg);

/*
 * smtp_deliver_local: queue_local_fn for bounces (DSNs) and other
 * locally generated mail: resolve rcpt through the directory (aliases
 * included) and store one copy per local mailbox with Return-Path
 * <sender> and Delivered-To headers prepended to the iov content (LF line
 * ends, as the queue keeps it); alias targets outside are queued again.
 * arg is the struct smtp_server *. Returns FERR_NONE when every target
 * took it, FERR_NOTFOUND (no such local address), FERR_QUOTA, or
 * FERR_TEMP / FERR_NOSPACE / FERR_INTERNAL (try again later).
 */
enum ferr smtp_deliver_local(const char *sender, const char *rcpt,
    const struct iovec *iov, int iovcnt, void *arg);

#endif
