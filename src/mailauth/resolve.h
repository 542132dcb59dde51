/*
 * resolve - the DNS lookups DKIM, SPF and DMARC need, behind function
 * pointers so unit tests can inject records. resolve_default() goes
 * through net/dns.h (the configured dns_server, with its timeouts).
 *
 * Every function returns a dns_status: DNS_OK with results, DNS_NODATA
 * or DNS_NXDOMAIN (nothing), DNS_TEMP (timeout, SERVFAIL: the caller
 * reports temperror, never a pass), DNS_FAIL (malformed: treated like
 * TEMP by SPF/DKIM, since a broken answer proves nothing).
 */
#ifndef MAILAUTH_RESOLVE_H
#define MAILAUTH_RESOLVE_H

#include <stddef.h>

#include "net/dns.h"

struct resolve {
	/* TXT records of name; *txt_r as dns_lookup_txt (dns_txt_free) */
	enum dns_status (*txt)(void *arg, const char *name, char ***txt_r,
	    size_t *n_r);
	/* A (family AF_INET) or AAAA (AF_INET6) records of name, up to
	 * max into out */
	enum dns_status (*addr)(void *arg, const char *name, int family,
	    struct dns_addr *out, size_t max, size_t *n_r);
	/* MX records of name; *mx_r malloc'ed (free) */
	enum dns_status (*mx)(void *arg, const char *name,
	    struct dns_mx **mx_r, size_t *n_r);
	/* PTR names of the address a; *names_r as TXT (dns_txt_free) */
	enum dns_status (*ptr)(void *arg, const struct dns_addr *a,
	    char ***names_r, size_t *n_r);
	void	*arg;
};

/* resolve_default: lookups through net/dns.h (static, shared). */
const struct resolve *resolve_default(void);

#endif
