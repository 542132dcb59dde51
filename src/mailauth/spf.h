/*
 * spf - Sender Policy Framework, RFC 7208: record parsing (spf_parse),
 * macro expansion (spf_expand) and check_host() (spf_check) with every
 * mechanism (all include a mx ptr ip4 ip6 exists) and modifier
 * (redirect, exp; unknown ones ignored), the limit of 10 DNS-querying
 * terms, 2 void lookups, 10 MX and 10 PTR names.
 *
 * DNS goes through a struct resolve (tests inject records); any DNS
 * failure is temperror, never a pass. exp= is checked for syntax but
 * never fetched: facteur does not reject on SPF alone, so it never
 * needs the explanation.
 */
#ifndef MAILAUTH_SPF_H
#define MAILAUTH_SPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mailauth/resolve.h"
#include "net/dns.h"

#define SPF_MAX_LOOKUPS	10	/* RFC 7208 4.6.4 */
#define SPF_MAX_VOID	2
#define SPF_MAX_MX	10
#define SPF_MAX_PTR	10
#define SPF_MAX_TERMS	64	/* terms per record */
#define SPF_RECORD_MAX	4096	/* bytes of one record */
#define SPF_EXPAND_MAX	1024	/* bytes of one macro expansion */

enum spf_result {
	SPF_NONE = 0,
	SPF_NEUTRAL,
	SPF_PASS,
	SPF_FAIL,
	SPF_SOFTFAIL,
	SPF_TEMPERROR,
	SPF_PERMERROR
};

/* spf_result_name: "none", "neutral", "pass", ... (RFC 8601 names). */
const char *spf_result_name(enum spf_result r);

enum spf_mech {
	SPF_M_ALL = 0,
	SPF_M_INCLUDE,
	SPF_M_A,
	SPF_M_MX,
	SPF_M_PTR,
	SPF_M_IP4,
	SPF_M_IP6,
	SPF_M_EXISTS
};

struct spf_term {
	char		 qual;		/* '+', '-', '~', '?' */
	enum spf_mech	 mech;
	const char	*spec;		/* domain-spec, unexpanded; NULL:
					 * the current domain */
	size_t		 spec_len;
	int		 cidr4;		/* 0-32 (32 when not given) */
	int		 cidr6;		/* 0-128 (128 when not given) */
	uint8_t		 ip[16];	/* ip4 (4 bytes) / ip6 */
};

/* A parsed record; pointers borrow the record text. */
struct spf_record {
	struct spf_term	 terms[SPF_MAX_TERMS];
	size_t		 nterms;
	const char	*redirect;	/* NULL: none */
	size_t		 redirect_len;
	const char	*exp;
	size_t		 exp_len;
};

/*
 * spf_parse: parse a whole record ("v=spf1 ..."). Any syntax error
 * anywhere is an error (RFC 7208 4.6): unknown mechanism, bad CIDR, bad
 * macro, bad domain-end, duplicate redirect/exp, qualifier on a
 * modifier, more than SPF_MAX_TERMS terms. 0, or -1 with a reason.
 */
int spf_parse(const char *rec, size_t n, struct spf_record *r,
    const char **why_r);

/* What macros expand to. */
struct spf_env {
	const char	*sender;	/* local@domain */
	const char	*helo;
	const char	*domain;	/* the current <domain> */
	struct dns_addr	 ip;
	const char	*receiver;	/* %{r} (exp only) */
	uint64_t	 now;		/* %{t} (exp only) */
};

/*
 * spf_expand: expand the macro-string spec[0..n) into out (size outlen,
 * NUL-terminated). exp: explanation context (%{c} %{r} %{t} allowed).
 * Returns the length, or -1 with a reason (syntax, or longer than
 * outlen). The result is not truncated to 253 octets here.
 */
long spf_expand(const char *spec, size_t n, const struct spf_env *env,
    bool exp, char *out, size_t outlen, const char **why_r);

/*
 * spf_check: check_host() for the client client_ip ("192.0.2.1",
 * "2001:db8::1") with MAIL FROM mail_from ("" or NULL for <>: the HELO
 * identity postmaster@helo is checked instead) and HELO helo.
 * *why_r gets a static reason for errors (may be NULL).
 */
enum spf_result spf_check(const struct resolve *dns, const char *client_ip,
    const char *helo, const char *mail_from, const char **why_r);

/* spf_parse_ip: "192.0.2.1" / "2001:db8::1" / IPv4-mapped IPv6 (as
 * IPv4) into a. 0 or -1. */
int spf_parse_ip(const char *s, struct dns_addr *a);

#endif
