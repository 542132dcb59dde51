/*
 * mta - the queue's SMTP client: deliver one message to the recipients
 * of one destination domain (or the relayhost) in one transaction.
 */
#ifndef QUEUE_MTA_H
#define QUEUE_MTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "queue/qfile.h"

struct tls_ctx;

enum mta_result {
	MTA_NONE = 0,	/* not decided yet (internal) */
	MTA_SENT,
	MTA_DEFER,
	MTA_BOUNCE
};

struct mta_rcpt {
	const char	*addr;
	enum mta_result	 result;
	char		 dsn[16];		/* "2.0.0", "4.4.1", ... */
	char		 diag[QDIAG_MAX];	/* reply text or reason */
	char		 mta[256];		/* remote host that answered */
};

/* RFC 5321 4.5.3.2 timeouts, in milliseconds */
struct mta_timeouts {
	int	 connect;
	int	 greeting;	/* initial 220: 5 min */
	int	 cmd;		/* EHLO, STARTTLS, AUTH, RSET, QUIT */
	int	 mail;		/* 5 min */
	int	 rcpt;		/* 5 min */
	int	 data_init;	/* 2 min */
	int	 data_block;	/* 3 min */
	int	 data_term;	/* final dot: 10 min */
};

struct mta_cfg {
	const char		*hostname;	/* EHLO name */
	const char		*relay_host;	/* NULL or "" = MX lookup */
	uint16_t		 relay_port;
	const char		*relay_user;	/* NULL = no AUTH */
	const char		*relay_pass;
	uint16_t		 port;		/* MX port: 25 (tests: other) */
	struct tls_ctx		*tls;		/* NULL: never STARTTLS */
	struct mta_timeouts	 to;
};

struct mta_job {
	const char	*queue_id;
	const char	*sender;
	const char	*domain;
	struct mta_rcpt	*rcpts;
	size_t		 nrcpts;
	const char	*content;	/* LF line ends */
	size_t		 clen;
	bool		 smtputf8;	/* the client asked for SMTPUTF8 */
	bool		 needs_utf8;	/* cannot go without SMTPUTF8 */
	bool		 eightbit;
	/* out: for log lines */
	char		 relay[320];	/* "mx.example[192.0.2.1]:25", "none" */
	char		 tls[32];	/* "TLSv1.3" or "none" */
};

/* mta_timeouts_default: RFC 5321 values, each capped at cap_ms if > 0. */
void mta_timeouts_default(struct mta_timeouts *to, int cap_ms);

/*
 * mta_deliver: look up the destination, connect, and try to hand the
 * message over; every recipient ends with a result (SENT, DEFER or
 * BOUNCE), a DSN status and a diagnostic.
 */
void mta_deliver(const struct mta_cfg *cfg, struct mta_job *job);

/*
 * mta_wire_size: bytes the content takes on the wire (CRLF line ends,
 * dot-stuffing), for the SIZE check.
 */
uint64_t mta_wire_size(const char *content, size_t clen);

/*
 * mta_needs_smtputf8: the message cannot be relayed without SMTPUTF8:
 * non-ASCII in the sender or a recipient address, or (when the client
 * asked for SMTPUTF8) in the header section of content.
 */
bool mta_needs_smtputf8(const char *sender, const struct mta_rcpt *r,
    size_t n, bool asked, const char *content, size_t clen);

/*
 * mta_reply_status: the enhanced status code of a reply (code + text):
 * the one the server gave (RFC 3463 "x.y.z" at the start of text) when
 * its class matches the reply code, else "2.0.0"/"4.0.0"/"5.0.0".
 */
void mta_reply_status(int code, const char *text, char *dsn, size_t len);

#endif
