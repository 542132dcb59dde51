/*
 * mailauth - what the SMTP server calls: the inbound checks (SPF, DKIM,
 * DMARC) of a message received on port 25, summed up in one
 * Authentication-Results header (RFC 8601), and DKIM signing of mail
 * submitted by authenticated users or forwarded.
 *
 * Both work on facteur's internal message form (LF line ends) and never
 * copy the message body. Thread-safe; DNS through net/dns.h unless the
 * context injects another struct resolve.
 *
 * Inbound, after DATA and before delivery:
 *
 *	struct mailauth_ctx mc = { .hostname = conf->hostname,
 *	    .dmarc_reject = strcmp(conf->dmarc_reject_policy, "reject") == 0,
 *	    .pct_roll = -1 };
 *	struct buf head;  size_t skip;  const char *reply;
 *	buf_init(&head, MAILAUTH_HEAD_MAX);
 *	if (mailauth_check(&mc, ip, helo, sender, msg, len, &head, &skip,
 *	    &reply, NULL) == MAILAUTH_REJECT)
 *		-> reply (550 5.7.1 ...), nothing delivered
 *	else
 *		-> store head, then msg + skip (head replaces the first skip
 *		   bytes: our own Authentication-Results on top, and any
 *		   older ones claiming our hostname removed)
 */
#ifndef MAILAUTH_MAILAUTH_H
#define MAILAUTH_MAILAUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "core/buf.h"
#include "mailauth/dkim.h"
#include "mailauth/dmarc.h"
#include "mailauth/resolve.h"
#include "mailauth/spf.h"

/* Room for head_r: our header plus a rewritten header block. */
#define MAILAUTH_HEAD_MAX	(1024 * 1024 + 8192)

struct mailauth_ctx {
	const char	*hostname;	/* authserv-id: conf hostname */
	const struct resolve *dns;	/* NULL: net/dns.h */
	bool		 dmarc_reject;	/* dmarc_reject_policy = reject */
	time_t		 now;		/* 0: time(NULL) */
	int		 pct_roll;	/* -1: random; 0-99 for tests */
};

enum mailauth_verdict {
	MAILAUTH_ACCEPT = 0,	/* deliver, with the header */
	MAILAUTH_REJECT		/* DMARC p=reject failed: refuse */
};

/* Every result, for diagnostics and tests. */
struct mailauth_results {
	enum spf_result	 spf;
	const char	*spf_why;
	bool		 spf_helo;		/* identity was the HELO */
	char		 spf_domain[256];
	struct dkim_verdict dkim[DKIM_MAX_SIGS];
	size_t		 ndkim;
	struct dmarc_outcome dmarc;
};

/*
 * mailauth_check: SPF for (client_ip, helo, mail_from; "" or NULL is the
 * null sender), every DKIM signature (up to DKIM_MAX_SIGS), DMARC for
 * the From domain(s). Appends to head_r the Authentication-Results
 * field (LF line ends) and, when the message holds older
 * Authentication-Results fields claiming ctx->hostname, a copy of its
 * first *skip_r bytes without them; the caller stores head_r then
 * msg + *skip_r. *skip_r is 0 when nothing had to go.
 * Returns MAILAUTH_REJECT (and a static "550 5.7.1 ..." in
 * *smtp_reply_r) only for a DMARC failure under p=reject (after pct=)
 * with ctx->dmarc_reject; everything else is accepted and marked
 * (*smtp_reply_r = NULL). A DNS failure is a temperror in the header,
 * never a pass and never a rejection. res_r may be NULL.
 */
enum mailauth_verdict mailauth_check(const struct mailauth_ctx *ctx,
    const char *client_ip, const char *helo, const char *mail_from,
    const char *msg, size_t len, struct buf *head_r, size_t *skip_r,
    const char **smtp_reply_r, struct mailauth_results *res_r);

/*
 * mailauth_ar_format: append the Authentication-Results field for r
 * with authserv-id id to out. 0, or -1 when out is full.
 */
int mailauth_ar_format(const char *id, const struct mailauth_results *r,
    struct buf *out) __attribute__((warn_unused_result));

/*
 * mailauth_ar_strip: when msg has Authentication-Results fields whose
 * authserv-id is id (case-insensitive), append msg[0..*skip_r) without
 * them to out and return 1; else 0 (*skip_r = 0, out untouched);
 * -1 when out is full or the header is unusable.
 */
int mailauth_ar_strip(const char *id, const char *msg, size_t len,
    struct buf *out, size_t *skip_r);

/*
 * mailauth_from_domains: the domains of the addresses in the From
 * field(s) of msg, distinct, lower-cased, up to max into doms (each
 * 256 bytes). Returns the count (0: no From address).
 */
size_t mailauth_from_domains(const char *msg, size_t len, char (*doms)[256],
    size_t max);

/* A signing key as the directory keeps it (dir_dkim_get). */
struct mailauth_key {
	const char	*domain;
	const char	*selector;
	const char	*pem;		/* private key */
};

/*
 * mailauth_sign: sign msg with k (rsa-sha256 or ed25519-sha256 after
 * the key; relaxed/relaxed; From, Subject, Date, To, Cc, Message-ID,
 * Reply-To and MIME headers oversigned) at time now (0: time(NULL)).
 * Appends "DKIM-Signature: ...\n" to sig_r: the caller puts it in front
 * of the message. 0, or -1 with a static reason.
 */
int mailauth_sign(const struct mailauth_key *k, const char *msg, size_t len,
    time_t now, struct buf *sig_r, const char **why_r);

#endif
