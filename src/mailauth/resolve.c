/*
 * resolve - struct resolve over net/dns.h: TXT and MX map directly, A and
 * AAAA of one family go through dns_query + dns_collect (CNAMEs
 * followed), PTR builds the in-addr.arpa / ip6.arpa name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/xmalloc.h"
#include "mailauth/resolve.h"

static enum dns_status
resolve_txt(void *arg, const char *name, char ***txt_r, size_t *n_r)
{
	(void)arg;
	return dns_lookup_txt(name, txt_r, n_r);
}

static enum dns_status
resolve_addr(void *arg, const char *name, int family, struct dns_addr *out,
    size_t max, size_t *n_r)
{
	const struct dns_rr *rrs[DNS_MAX_RRS];
	struct dns_msg m;
	enum dns_status st;
	uint16_t type = family == AF_INET6 ? DNS_T_AAAA : DNS_T_A;
	size_t n, i;

	(void)arg;
	*n_r = 0;
	memset(&m, 0, sizeof(m));
	st = dns_query(name, type, &m);
	if (st != DNS_OK && st != DNS_NODATA)
		return st;
	n = dns_collect(&m, name, type, rrs, DNS_MAX_RRS, NULL);
	for (i = 0; i < n && *n_r < max; i++) {
		out[*n_r].family = family;
		memcpy(out[*n_r].addr, rrs[i]->addr, 16);
		(*n_r)++;
	}
	dns_msg_free(&m);
	return n > 0 ? DNS_OK : DNS_NODATA;
}

static enum dns_status
resolve_mx(void *arg, const char *name, struct dns_mx **mx_r, size_t *n_r)
{
	(void)arg;
	return dns_lookup_mx(name, mx_r, n_r);
}

static enum dns_status
resolve_ptr(void *arg, const struct dns_addr *a, char ***names_r,
    size_t *n_r)
{
	const struct dns_rr *rrs[DNS_MAX_RRS];
	char name[DNS_NAME_MAX + 1], *p = name;
	struct dns_msg m;
	enum dns_status st;
	size_t n, i;
	int k;

	(void)arg;
	*names_r = NULL;
	*n_r = 0;
	if (a->family == AF_INET) {
		snprintf(name, sizeof(name), "%u.%u.%u.%u.in-addr.arpa",
		    a->addr[3], a->addr[2], a->addr[1], a->addr[0]);
	} else {
		static const char hex[] = "0123456789abcdef";

		for (k = 15; k >= 0; k--) {
			*p++ = hex[a->addr[k] & 15];
			*p++ = '.';
			*p++ = hex[a->addr[k] >> 4];
			*p++ = '.';
		}
		strcpy(p, "ip6.arpa");
	}
	memset(&m, 0, sizeof(m));
	st = dns_query(name, DNS_T_PTR, &m);
	if (st != DNS_OK && st != DNS_NODATA)
		return st;
	n = dns_collect(&m, name, DNS_T_PTR, rrs, DNS_MAX_RRS, NULL);
	if (n > 0) {
		*names_r = xcalloc(n, sizeof(char *));
		for (i = 0; i < n; i++)
			(*names_r)[i] = xstrdup(rrs[i]->host);
		*n_r = n;
	}
	dns_msg_free(&m);
	return n > 0 ? DNS_OK : DNS_NODATA;
}

static const struct resolve resolve_net = {
	resolve_txt, resolve_addr, resolve_mx, resolve_ptr, NULL
};

const struct resolve *
resolve_default(void)
{
	return &resolve_net;
}
