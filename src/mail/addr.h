/*
 * addr - RFC 5321 paths (MAIL FROM / RCPT TO arguments) and the pieces of
 * RFC 5322 addresses the servers need. Pure functions over bytes.
 *
 * Accepts: <local@domain>, <> (MAIL only), quoted local parts
 * ("a b"@example.org), UTF-8 local parts and domains (RFC 6531: only
 * when the caller allows SMTPUTF8 / sees 8-bit), source routes
 * (<@a,@b:user@c>, whose route is ignored as RFC 5321 4.1.2 says),
 * address literals ([192.0.2.1], [IPv6:...]).
 * Limits: local part 64 octets, domain 255, path 256 (RFC 5321 4.5.3.1).
 */
#ifndef MAIL_ADDR_H
#define MAIL_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#define ADDR_LOCAL_MAX	64
#define ADDR_DOMAIN_MAX	255
#define ADDR_PATH_MAX	256

struct addr_path {
	bool	null;		/* "<>" */
	bool	had_route;	/* a source route was present (and dropped) */
	bool	quoted;		/* local part was a quoted-string */
	bool	utf8;		/* some byte >= 0x80 */
	bool	ip_literal;	/* domain is [a.d.d.r] */
	/* local part as the unquoted value (quotes and backslashes removed)
	 * and domain lower-cased; addr = local@domain re-quoted if needed */
	char	local[ADDR_LOCAL_MAX * 2 + 1];
	char	domain[ADDR_DOMAIN_MAX + 1];
	char	addr[ADDR_PATH_MAX * 2 + 3];
};

/*
 * addr_parse_path: parse "<...>" at the start of s (n bytes). On success
 * returns 0 and sets *end_r to the offset just past '>'. Returns -1 with
 * a short reason in *why_r ("syntax", "too long", "8bit",...).
 * allow_null: accept "<>"; allow_utf8: accept bytes >= 0x80.
 */
int addr_parse_path(const char *s, size_t n, bool allow_null,
    bool allow_utf8, struct addr_path *p, size_t *end_r, const char **why_r);

/* addr_split: split "local@domain" at the last '@'. 0 or -1. */
int addr_split(const char *addr, char *local, size_t llen, char *domain,
    size_t dlen);
/*
 * addr_is_plain_mailbox: local part is usable as a Maildir directory name
 * and as an ISPmail lookup key: no '/', no '%', no '!', no '@', not "." or
 * "..", no control bytes. Used to refuse %-hacks and bang paths.
 */
bool addr_local_is_safe(const char *local);

#endif
