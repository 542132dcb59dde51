/*
 * dns - a small DNS stub resolver (RFC 1035): builds queries, parses
 * answers, and asks one recursive server over UDP with a TCP fallback
 * when the answer is truncated (RFC 7766).
 *
 * The parser (dns_parse) is pure: bytes in, a struct dns_msg out, so the
 * unit tests and the fuzz target call the same code as the resolver. It
 * trusts nothing: every length is checked against the packet, name
 * compression pointers must point backwards and are followed at most
 * DNS_MAX_PTRS times (no loops), names are capped at 255 octets.
 *
 * The server is dns_server from the configuration (ip[:port]) when set,
 * else the "nameserver" lines of /etc/resolv.conf (up to 3, tried in
 * turn), else 127.0.0.1.
 * Thread-safe once dns_configure() has run.
 */
#ifndef NET_DNS_H
#define NET_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_NAME_MAX	255	/* text form, without the trailing dot */
#define DNS_MAX_PTRS	32	/* compression pointers followed per name */
#define DNS_MAX_RRS	256	/* answer records kept per message */
#define DNS_CNAME_MAX	8	/* CNAME hops followed */

enum dns_type {
	DNS_T_A = 1,
	DNS_T_NS = 2,
	DNS_T_CNAME = 5,
	DNS_T_SOA = 6,
	DNS_T_PTR = 12,
	DNS_T_MX = 15,
	DNS_T_TXT = 16,
	DNS_T_AAAA = 28
};

/* Outcome of a lookup, as the queue and SPF need it. */
enum dns_status {
	DNS_OK = 0,	/* records found */
	DNS_NODATA,	/* the name exists, no record of that type */
	DNS_NXDOMAIN,	/* the name does not exist (RCODE 3) */
	DNS_TEMP,	/* SERVFAIL, timeout, network error: try later */
	DNS_FAIL	/* REFUSED, malformed answers, bad name: give up */
};

struct dns_rr {
	char		 name[DNS_NAME_MAX + 1];	/* owner, lower-case */
	uint16_t	 type;
	uint16_t	 class;
	uint32_t	 ttl;
	/* MX: preference and exchange; CNAME, NS, PTR: target in host */
	uint16_t	 pref;
	char		 host[DNS_NAME_MAX + 1];
	/* A (4 bytes), AAAA (16 bytes) */
	uint8_t		 addr[16];
	/* TXT: the character-strings concatenated (RFC 7208 3.3),
	 * malloc'ed, NUL-terminated (may hold NULs: use txtlen);
	 * nstrings counts them */
	char		*txt;
	size_t		 txtlen;
	size_t		 nstrings;
};

struct dns_msg {
	uint16_t	 id;
	bool		 qr;		/* a response */
	bool		 tc;		/* truncated */
	uint8_t		 rcode;
	uint16_t	 qtype;
	char		 qname[DNS_NAME_MAX + 1];	/* "" if no question */
	struct dns_rr	*rrs;		/* answer section only */
	size_t		 nrrs;
};

/*
 * dns_parse: parse a whole message of n bytes. Returns 0 and fills m
 * (free with dns_msg_free), or -1 with a static reason in *why_r (m is
 * left empty). Records of unknown types in the answer are skipped;
 * authority and additional sections are only checked for bounds.
 */
int dns_parse(const uint8_t *p, size_t n, struct dns_msg *m,
    const char **why_r);
void dns_msg_free(struct dns_msg *m);

/*
 * dns_build_query: a recursive query (RD set) for name/type into out.
 * Returns the length, or -1 if the name is invalid (empty label, label
 * over 63 octets, name over 253) or out is too small.
 */
int dns_build_query(uint8_t *out, size_t outlen, uint16_t id,
    const char *name, uint16_t type);

/* dns_name_valid: a host name usable in a query (see above). */
bool dns_name_valid(const char *name);

/*
 * dns_configure: server is "" (resolv.conf) or "ip", "ip:port",
 * "[ipv6]:port". timeout_ms per try, tries per query (UDP). 0 or -1 with
 * a reason. Call before threads start; may be called again in tests.
 */
int dns_configure(const char *server, int timeout_ms, int tries,
    const char **why_r);

/*
 * dns_query: ask the configured server. On DNS_OK and DNS_NODATA the
 * message is in m (free it); on other results m is empty. The answer's
 * id and question are checked against the query.
 */
enum dns_status dns_query(const char *name, uint16_t type,
    struct dns_msg *m);

/*
 * dns_collect: from m, the records of type for name, following CNAME
 * records in the answer (at most DNS_CNAME_MAX hops). Fills up to max
 * pointers into out (borrowed from m) and returns the count; *final_r
 * (may be NULL) gets the end of the CNAME chain (borrowed, or name).
 */
size_t dns_collect(const struct dns_msg *m, const char *name, uint16_t type,
    const struct dns_rr **out, size_t max, const char **final_r);

struct dns_mx {
	uint16_t	 pref;
	char		 host[DNS_NAME_MAX + 1];
};

/*
 * dns_lookup_mx: MX records of domain, sorted by preference, random
 * order among equal preferences (RFC 5321 5.1). *mx_r is malloc'ed
 * (free it) with *n_r entries. Returns DNS_OK, DNS_NODATA (no MX: the
 * caller uses the domain itself), DNS_NXDOMAIN, DNS_TEMP or DNS_FAIL.
 * A null MX (RFC 7505: one record, preference 0, ".") is DNS_OK with one
 * entry whose host is "".
 */
enum dns_status dns_lookup_mx(const char *domain, struct dns_mx **mx_r,
    size_t *n_r);

struct dns_addr {
	int		 family;	/* AF_INET or AF_INET6 */
	uint8_t		 addr[16];
};

/*
 * dns_lookup_addr: AAAA then A records of host (CNAMEs followed); up to
 * max into out, IPv6 first. A literal IP address is returned as is.
 * DNS_OK when at least one address was found; otherwise the "best"
 * status of the two lookups (TEMP over NODATA over NXDOMAIN).
 */
enum dns_status dns_lookup_addr(const char *host, struct dns_addr *out,
    size_t max, size_t *n_r);

/*
 * dns_lookup_txt: TXT records of name, each string concatenated; *txt_r
 * malloc'ed array of malloc'ed strings (free with dns_txt_free).
 */
enum dns_status dns_lookup_txt(const char *name, char ***txt_r, size_t *n_r);
void dns_txt_free(char **txt, size_t n);

/* dns_status_name: "ok", "nodata", "nxdomain", "temp", "fail". */
const char *dns_status_name(enum dns_status s);

#endif
