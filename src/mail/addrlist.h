/*
 * addrlist - RFC 5322 address lists (From, To, Cc, ...) as IMAP ENVELOPE
 * needs them: display name, source route, mailbox, host, and group
 * markers. Obsolete syntax (routes, dotted phrases, comments anywhere,
 * empty list elements) is tolerated the way Dovecot tolerates it;
 * encoded words in names are kept raw. Pure function over bytes.
 */
#ifndef MAIL_ADDRLIST_H
#define MAIL_ADDRLIST_H

#include <stddef.h>

enum addrlist_kind {
	ADDRLIST_MAILBOX,
	ADDRLIST_GROUP_START,	/* mailbox = group name, others NULL */
	ADDRLIST_GROUP_END	/* all NULL */
};

/*
 * One address. A NULL pointer means NIL. Strings are unquoted, and valid
 * only during the callback. A missing local part or domain is reported
 * as "MISSING_MAILBOX" / "MISSING_DOMAIN", an unterminated angle address
 * has host "SYNTAX_ERROR", a broken source route is "INVALID_ROUTE"
 * (Dovecot's spellings).
 */
struct addrlist_addr {
	enum addrlist_kind	 kind;
	const char		*name;
	size_t			 name_len;
	const char		*route;		/* "@a,@b" */
	size_t			 route_len;
	const char		*mailbox;
	size_t			 mailbox_len;
	const char		*host;
	size_t			 host_len;
};

/* callback: return 0 to go on, -1 to stop (addrlist_parse returns -1) */
typedef int addrlist_cb(void *ctx, const struct addrlist_addr *a);

/*
 * addrlist_parse: parse the (raw, possibly folded) field value v[0..n)
 * and call cb for each address and group marker. Returns the number of
 * callbacks made (0: the list is empty, IMAP NIL), or -1.
 */
int addrlist_parse(const char *v, size_t n, addrlist_cb *cb, void *ctx);

#endif
