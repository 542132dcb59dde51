/*
 * cmd - the POP3 command parser (RFC 1939, RFC 2449, RFC 2595, RFC 5034):
 * one command line in, a command id and its checked arguments out. Pure:
 * no sockets, no state, so the unit tests and the fuzz target call the
 * same function the session does.
 *
 * The command table also carries, per command, the states it is valid in
 * and whether it carries a password, so the session checks both in one
 * place.
 */
#ifndef POP3_CMD_H
#define POP3_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Longest command line read, CRLF included. RFC 2449 raised RFC 1939's
 * 47 octets to 255; we allow 512 (as the brief and Dovecot's comment say),
 * enough for USER/PASS with long passwords and for AUTH PLAIN with an
 * initial response of ordinary credentials.
 */
#define POP3_LINE_MAX		512
/* Longest SASL continuation line (base64 of up to 3 * SASL_FIELD_MAX). */
#define POP3_SASL_LINE_MAX	2100

enum pop3_cmd_id {
	POP3_CMD_NONE = 0,
	POP3_CMD_CAPA,
	POP3_CMD_USER,
	POP3_CMD_PASS,
	POP3_CMD_AUTH,
	POP3_CMD_STLS,
	POP3_CMD_QUIT,
	POP3_CMD_STAT,
	POP3_CMD_LIST,
	POP3_CMD_RETR,
	POP3_CMD_DELE,
	POP3_CMD_NOOP,
	POP3_CMD_RSET,
	POP3_CMD_TOP,
	POP3_CMD_UIDL,
	POP3_CMD_COUNT
};

/* Command flags (struct pop3_cmd.flags). */
#define POP3_CF_AUTHZ		0x01	/* valid in AUTHORIZATION */
#define POP3_CF_TRANS		0x02	/* valid in TRANSACTION */
#define POP3_CF_CLEARTEXT	0x04	/* carries credentials: refused on
					 * a plain connection (port 110
					 * before STLS) */

struct pop3_cmd {
	enum pop3_cmd_id id;
	unsigned	 flags;		/* POP3_CF_* */
	const char	*name;		/* canonical name ("RETR"),
					 * static; "" for POP3_CMD_NONE */
	/*
	 * The argument text (USER, PASS, AUTH), pointing into the parsed
	 * line, arglen bytes, not NUL-terminated. PASS keeps every byte after
	 * the single space (passwords may hold or end in spaces, RFC 1939
	 * 7); USER and AUTH are trimmed of trailing spaces.
	 */
	const char	*arg;
	size_t		 arglen;
	bool		 has_msg;	/* a message number was given */
	uint32_t	 msg;		/* 1-based, range unchecked */
	uint64_t	 lines;		/* TOP: body lines */
};

enum pop3_parse {
	POP3_PARSE_OK = 0,
	POP3_PARSE_UNKNOWN,	/* no such command (or an empty line) */
	POP3_PARSE_SYNTAX	/* known command, bad arguments or bytes */
};

/*
 * pop3_cmd_parse: parse one line of len bytes (a trailing "\r\n" or "\n"
 * is removed; bytes may be anything, NULs included). The keyword is
 * case-insensitive. On POP3_PARSE_OK fills *cmd_r (its pointers borrow
 * from line). Otherwise *why_r is a static reply text without the "-ERR "
 * ("Unknown command.", "Invalid message number.", ...), and cmd_r->id /
 * name still tell which command it was when the keyword was known.
 */
enum pop3_parse pop3_cmd_parse(const char *line, size_t len,
    struct pop3_cmd *cmd_r, const char **why_r);

/* pop3_cmd_name: canonical name of a command id ("" for NONE). */
const char *pop3_cmd_name(enum pop3_cmd_id id);

#endif
