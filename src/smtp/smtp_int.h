/*
 * smtp_int - the SMTP server's own pieces, shared by the files of
 * src/smtp/ and by its unit tests and fuzz targets (never by other
 * modules): the command-line parser (cmd.c), the DATA/BDAT content reader
 * (data.c) and the Received header (received.c), which are pure (no
 * sockets, no directory, no clock), and the delivery of a finished
 * transaction (deliver.c).
 */
#ifndef SMTP_SMTP_INT_H
#define SMTP_SMTP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/buf.h"
#include "directory/dir.h"
#include "mail/addr.h"

struct smtp_server;

/* RFC 5321 4.5.3.1.4: a command line is at most 512 octets with CRLF;
 * RFC 4954 4 raises it to 12288 for AUTH and its responses. */
#define SMTP_CMD_LINE_MAX	512
#define SMTP_AUTH_LINE_MAX	12288

/* ------------------------------------------------------------------ */
/* Command lines (cmd.c)                                               */

enum smtp_verb {
	SMTP_V_UNKNOWN = 0,
	SMTP_V_HELO,
	SMTP_V_EHLO,
	SMTP_V_MAIL,
	SMTP_V_RCPT,
	SMTP_V_DATA,
	SMTP_V_BDAT,
	SMTP_V_RSET,
	SMTP_V_NOOP,
	SMTP_V_QUIT,
	SMTP_V_VRFY,
	SMTP_V_EXPN,
	SMTP_V_HELP,
	SMTP_V_STARTTLS,
	SMTP_V_AUTH,
	SMTP_V_WEB,		/* GET, POST, CONNECT, ...: not a mail client */
	SMTP_V_COUNT
};

enum smtp_body {
	SMTP_BODY_NONE = 0,	/* not given */
	SMTP_BODY_7BIT,
	SMTP_BODY_8BITMIME
};

/*
 * What smtp_cmd_parse found wrong; the session maps it to a reply:
 *   SYNTAX     501 5.5.4   (arguments malformed)
 *   UNKNOWN    500 5.5.2   (no such command)
 *   ADDR       501 5.1.7 (MAIL) / 501 5.1.3 (RCPT), "why" says more
 *   PARAM      555 5.5.4   (unsupported or malformed ESMTP parameter)
 *   UTF8       553 5.6.7   (non-ASCII address without SMTPUTF8)
 */
enum smtp_cmd_err {
	SMTP_CMD_OK = 0,
	SMTP_CMD_SYNTAX,
	SMTP_CMD_UNKNOWN,
	SMTP_CMD_ADDR,
	SMTP_CMD_PARAM,
	SMTP_CMD_UTF8
};

struct smtp_cmd {
	enum smtp_verb	 verb;
	/* argument text after the verb and one or more spaces, line end
	 * removed; points into the caller's line (not NUL-terminated) */
	const char	*arg;
	size_t		 arglen;
	/* MAIL FROM / RCPT TO */
	struct addr_path path;
	bool		 has_size;
	uint64_t	 size;		/* SIZE= */
	enum smtp_body	 body;		/* BODY= */
	bool		 smtputf8;	/* SMTPUTF8 */
	/* BDAT */
	uint64_t	 chunk;
	bool		 last;
	/* AUTH: mechanism (upper-cased) and optional initial response */
	char		 mech[21];
	const char	*initial;
	size_t		 initial_len;
};

/*
 * smtp_cmd_parse: parse one command line (len bytes, the line terminator
 * "\r\n" or "\n" may be present and is ignored). Verbs are matched
 * case-insensitively; "MAIL FROM:" and "RCPT TO:" allow spaces after the
 * colon (as Postfix does); ESMTP parameters are keyword[=value] separated
 * by spaces. A NUL or other control byte in the line is a SYNTAX error.
 * Returns SMTP_CMD_OK and fills cmd (cmd->verb is set even on errors
 * other than UNKNOWN), or an error with a short reason in *why_r.
 */
enum smtp_cmd_err smtp_cmd_parse(const char *line, size_t len,
    struct smtp_cmd *cmd, const char **why_r);

/* smtp_verb_name: "MAIL", "RCPT", ..., "UNKNOWN". */
const char *smtp_verb_name(enum smtp_verb v);

/* ------------------------------------------------------------------ */
/* Message content (data.c)                                            */

/*
 * The DATA reader turns the SMTP byte stream into facteur's stored form:
 * dot-stuffing undone, CRLF turned into LF, every other byte (8-bit, NUL,
 * bare CR) kept as it came. It is fed any slicing of the input and
 * produces the same result.
 *
 * Smuggling (CVE-2023-51766 and friends): the end of DATA is recognised
 * only as "." alone on a line that both follows a CRLF and ends with a
 * CRLF. A bare LF ends a line like CRLF does (Postfix 3.9's
 * smtpd_forbid_bare_newline = normalize) but can never make the next
 * "." the end; such lookalikes ("\n.\n", "\n.\r\n", "\r\n.\n",
 * "\r.\r\n", "\r.\n") are counted in `smuggle` and the session refuses the
 * whole message with 550 5.5.2 once the real end is reached, so nothing
 * that another server might split into two messages is ever stored or
 * relayed.
 *
 * BDAT (raw mode): no dot handling and no end marker; the caller knows
 * the chunk sizes and calls smtp_data_finish() after the LAST chunk.
 *
 * Content beyond max is counted but not stored (over_limit); no memory
 * is used for it.
 */
struct smtp_data {
	int		 st;		/* internal state */
	bool		 raw;		/* BDAT: no dot handling */
	bool		 prev_crlf;	/* the previous line ended in CRLF */
	bool		 done;
	struct buf	*out;		/* receives the content (LF ends) */
	uint64_t	 max;		/* content bytes allowed */
	uint64_t	 size;		/* content bytes produced (LF ends) */
	uint64_t	 wire;		/* input bytes consumed */
	uint64_t	 lines;
	uint64_t	 bare_lf;	/* lines ended by a bare LF */
	uint64_t	 bare_cr;	/* CR not followed by LF */
	uint64_t	 nul;		/* NUL bytes */
	uint64_t	 eightbit;	/* bytes >= 0x80 */
	uint64_t	 smuggle;	/* end-of-data lookalikes */
	bool		 over_limit;	/* size > max */
	bool		 nomem;		/* out refused to grow below max */
};

/* smtp_data_init: start reading one message into out (reset by the
 * caller); raw for BDAT. */
void smtp_data_init(struct smtp_data *d, struct buf *out, uint64_t max,
    bool raw);
/*
 * smtp_data_feed: consume bytes. Returns 1 when the end of DATA was
 * reached (then *used_r < n is possible: the rest is the next command),
 * 0 when more input is needed (*used_r == n). In raw mode never 1.
 */
int smtp_data_feed(struct smtp_data *d, const char *p, size_t n,
    size_t *used_r);
/* smtp_data_finish: raw mode end (after BDAT LAST): flush a pending CR. */
void smtp_data_finish(struct smtp_data *d);

/* ------------------------------------------------------------------ */
/* Received header (received.c)                                        */

struct smtp_received {
	const char	*helo;		/* as the client sent it, or NULL */
	const char	*client_ip;	/* "192.0.2.1" or "2001:db8::1" */
	const char	*hostname;	/* ours */
	const char	*tls_version;	/* NULL: no TLS */
	const char	*tls_cipher;
	int		 tls_bits;
	bool		 esmtp;		/* EHLO (else HELO) */
	bool		 authenticated;
	bool		 smtputf8;
	const char	*id;		/* transaction id (atext) */
	const char	*rcpt;		/* the one recipient, or NULL */
	time_t		 when;
};

/*
 * smtp_received_fmt: append a folded "Received:" header (LF line ends)
 * to out. The with-protocol follows RFC 3848 / RFC 6531: SMTP, ESMTP,
 * ESMTPS, ESMTPA, ESMTPSA, UTF8SMTP, UTF8SMTPS, UTF8SMTPA, UTF8SMTPSA.
 * The HELO name is reduced to safe characters. 0, or -1 when out is full.
 */
int smtp_received_fmt(struct buf *out, const struct smtp_received *r)
    __attribute__((warn_unused_result));

/* smtp_with_proto: the RFC 3848 protocol name for these flags. */
const char *smtp_with_proto(bool esmtp, bool tls, bool auth, bool utf8);

/*
 * smtp_hops: the number of "Received:" fields (any case) in the header
 * section of msg (LF or CRLF line ends; the header ends at the first
 * empty line). RFC 5321 6.3 loop detection: the session refuses a
 * message that already has SMTP_MAX_HOPS, as with its own Received it
 * would exceed Postfix's hopcount_limit (50).
 */
#define SMTP_MAX_HOPS	50
unsigned smtp_hops(const char *msg, size_t len);

/* ------------------------------------------------------------------ */
/* Delivery (deliver.c)                                                */

/* One accepted RCPT: the address as given and where it resolved to. */
struct smtp_rcpt {
	char		 addr[ADDR_PATH_MAX * 2 + 3];
	struct dir_dest	*dests;		/* malloc'ed (dir_resolve) */
	size_t		 ndests;
};

/* A finished transaction, ready to be stored and queued. */
struct smtp_txn {
	const char	*sid;		/* session id (hex) for logs */
	const char	*client_ip;
	const char	*txn_id;	/* as in the Received header */
	const char	*sender;	/* "" = <> */
	bool		 smtputf8;
	bool		 eightbit;
	const char	*auth_user;	/* NULL: not authenticated */
	const struct smtp_rcpt *rcpts;
	size_t		 nrcpts;
	const char	*received;	/* the Received header (LF ends) */
	size_t		 received_len;
	const char	*content;	/* the message (LF ends) */
	size_t		 content_len;
};

/*
 * smtp_deliver_txn: hand every remote target (authenticated relaying,
 * alias destinations outside) to the queue in one entry, then store one
 * copy per distinct local mailbox (Return-Path, Delivered-To, Received
 * prepended). Writes the one reply RFC 5321 allows for DATA into reply
 * (no CRLF):
 *   all stored/queued       250 2.0.0
 *   queue failed            451 4.3.0 / 452 4.3.1 (nothing stored yet)
 *   a mailbox failed for any other reason (temporary, permissions,
 *   internal), even if others took it
 *                           451 4.3.0 (452 4.3.1 disk full): the client
 *                           retries; mailboxes that
 *                           already have it get a duplicate, the lesser
 *                           evil against losing mail
 *   only over-quota / vanished mailboxes failed: 552 5.2.2 when nothing
 *   was delivered, else 451 4.2.2 (the retry meets the RCPT-time quota
 *   check, so the sender gets a proper bounce for those alone)
 * Returns true when the reply is 250.
 */
bool smtp_deliver_txn(struct smtp_server *srv, const struct smtp_txn *t,
    char *reply, size_t replylen);

#endif
