/*
 * spf - RFC 7208 check_host().
 *
 * Input: untrusted records from DNS and untrusted MAIL FROM / HELO
 * strings. Limits: SPF_MAX_LOOKUPS DNS-querying terms (include, a, mx,
 * ptr, exists, redirect) per check including nested records, so include
 * loops end in permerror; SPF_MAX_VOID lookups that found nothing;
 * SPF_MAX_MX MX names per mx term (more is permerror) and SPF_MAX_PTR
 * PTR names (the rest ignored); SPF_MAX_TERMS terms and SPF_RECORD_MAX
 * bytes per record; macro expansions of at most SPF_EXPAND_MAX bytes,
 * cut to 253 octets from the left as 7.3 says.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/str.h"
#include "core/xmalloc.h"
#include "mailauth/spf.h"

const char *
spf_result_name(enum spf_result r)
{
	static const char *const names[] = { "none", "neutral", "pass",
	    "fail", "softfail", "temperror", "permerror" };

	if ((unsigned)r < sizeof(names) / sizeof(names[0]))
		return names[r];
	return "permerror";
}

int
spf_parse_ip(const char *s, struct dns_addr *a)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };

	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->addr) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->addr) == 1) {
		a->family = AF_INET6;
		if (memcmp(a->addr, mapped, 12) == 0) {
			memmove(a->addr, a->addr + 12, 4);
			memset(a->addr + 4, 0, 12);
			a->family = AF_INET;
		}
		return 0;
	}
	return -1;
}

/* ------------------------------------------------------------------ */
/* Macros (RFC 7208 7)                                                 */

static bool
spf_delim(char c)
{
	return strchr(".-+,/_=", c) != NULL && c != '\0';
}

static bool
spf_unreserved(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

/* The raw value of macro letter c into v (size vlen). 0 or -1. */
static int
spf_letter(char c, const struct spf_env *env, bool exp, char *v,
    size_t vlen)
{
	const char *at;
	char ip[INET6_ADDRSTRLEN];
	size_t i;

	switch (c) {
	case 's':
		str_copy(v, env->sender, vlen);
		return 0;
	case 'l':
		at = strrchr(env->sender, '@');
		if (at == NULL)
			str_copy(v, "postmaster", vlen);
		else
			snprintf(v, vlen, "%.*s", (int)(at - env->sender),
			    env->sender);
		return 0;
	case 'o':
		at = strrchr(env->sender, '@');
		str_copy(v, at != NULL ? at + 1 : env->sender, vlen);
		return 0;
	case 'd':
		str_copy(v, env->domain, vlen);
		return 0;
	case 'h':
		str_copy(v, env->helo != NULL ? env->helo : "", vlen);
		return 0;
	case 'v':
		str_copy(v, env->ip.family == AF_INET ? "in-addr" : "ip6",
		    vlen);
		return 0;
	case 'p':
		/* validated reverse name: RFC 7208 5.5 discourages it;
		 * "unknown" is what an implementation may use */
		str_copy(v, "unknown", vlen);
		return 0;
	case 'i':
		if (env->ip.family == AF_INET) {
			inet_ntop(AF_INET, env->ip.addr, v, (socklen_t)vlen);
			return 0;
		}
		if (vlen < 64)
			return -1;
		for (i = 0; i < 16; i++) {
			static const char hex[] = "0123456789abcdef";

			v[i * 4] = hex[env->ip.addr[i] >> 4];
			v[i * 4 + 1] = '.';
			v[i * 4 + 2] = hex[env->ip.addr[i] & 15];
			v[i * 4 + 3] = '.';
		}
		v[63] = '\0';
		return 0;
	case 'c':
		if (!exp)
			return -1;
		inet_ntop(env->ip.family, env->ip.addr, ip, sizeof(ip));
		str_copy(v, ip, vlen);
		return 0;
	case 'r':
		if (!exp)
			return -1;
		str_copy(v, env->receiver != NULL ? env->receiver : "unknown",
		    vlen);
		return 0;
	case 't':
		if (!exp)
			return -1;
		snprintf(v, vlen, "%llu", (unsigned long long)env->now);
		return 0;
	}
	return -1;
}

/* Append to out; -1 when it would overflow. */
static int
spf_put(char *out, size_t outlen, size_t *o, const char *p, size_t n)
{
	if (*o + n >= outlen)
		return -1;
	memcpy(out + *o, p, n);
	*o += n;
	out[*o] = '\0';
	return 0;
}

/* One %{...} expansion of body[0..n) (between the braces). */
static int
spf_expand_one(const char *body, size_t n, const struct spf_env *env,
    bool exp, char *out, size_t outlen, size_t *o)
{
	char letter, val[SPF_EXPAND_MAX], delims[16];
	const char *parts[SPF_EXPAND_MAX / 2 + 1];
	size_t plen[SPF_EXPAND_MAX / 2 + 1];
	size_t i = 1, np = 0, nd = 0, keep = 0, k, first, start;
	bool upper, rev = false, digits = false;

	if (n == 0)
		return -1;
	letter = body[0];
	upper = letter >= 'A' && letter <= 'Z';
	if (upper)
		letter = (char)(letter - 'A' + 'a');
	while (i < n && body[i] >= '0' && body[i] <= '9') {
		digits = true;
		keep = keep * 10 + (size_t)(body[i] - '0');
		if (keep > 1000)
			return -1;
		i++;
	}
	if (digits && keep == 0)
		return -1;
	if (i < n && (body[i] == 'r' || body[i] == 'R')) {
		rev = true;
		i++;
	}
	for (; i < n; i++) {
		if (!spf_delim(body[i]) || nd >= sizeof(delims) - 1)
			return -1;
		delims[nd++] = body[i];
	}
	delims[nd] = '\0';
	if (nd == 0) {
		delims[0] = '.';
		delims[1] = '\0';
	}
	if (spf_letter(letter, env, exp, val, sizeof(val)) < 0)
		return -1;
	/* split on any delimiter */
	start = 0;
	for (k = 0; ; k++) {
		if (val[k] == '\0' || strchr(delims, val[k]) != NULL) {
			parts[np] = val + start;
			plen[np] = k - start;
			np++;
			if (val[k] == '\0')
				break;
			start = k + 1;
		}
	}
	if (rev) {
		for (k = 0; k < np / 2; k++) {
			const char *tp = parts[k];
			size_t tl = plen[k];

			parts[k] = parts[np - 1 - k];
			plen[k] = plen[np - 1 - k];
			parts[np - 1 - k] = tp;
			plen[np - 1 - k] = tl;
		}
	}
	first = digits && keep < np ? np - keep : 0;
	for (k = first; k < np; k++) {
		if (k > first && spf_put(out, outlen, o, ".", 1) < 0)
			return -1;
		if (!upper) {
			if (spf_put(out, outlen, o, parts[k], plen[k]) < 0)
				return -1;
			continue;
		}
		for (i = 0; i < plen[k]; i++) {
			char esc[4];

			if (spf_unreserved(parts[k][i])) {
				if (spf_put(out, outlen, o, &parts[k][i], 1) <
				    0)
					return -1;
				continue;
			}
			snprintf(esc, sizeof(esc), "%%%02X",
			    (unsigned char)parts[k][i]);
			if (spf_put(out, outlen, o, esc, 3) < 0)
				return -1;
		}
	}
	return 0;
}

long
spf_expand(const char *spec, size_t n, const struct spf_env *env, bool exp,
    char *out, size_t outlen, const char **why_r)
{
	size_t i = 0, o = 0;
	const char *close;

	if (outlen == 0)
		return -1;
	out[0] = '\0';
	while (i < n) {
		unsigned char c = (unsigned char)spec[i];

		if (c != '%') {
			/* macro-literal: visible ASCII; exp also allows SP */
			if ((c < 0x21 || c > 0x7e) && !(exp && c == ' ')) {
				*why_r = "bad character in macro string";
				return -1;
			}
			if (spf_put(out, outlen, &o, spec + i, 1) < 0)
				goto toolong;
			i++;
			continue;
		}
		if (i + 1 >= n) {
			*why_r = "lone % in macro string";
			return -1;
		}
		switch (spec[i + 1]) {
		case '%':
			if (spf_put(out, outlen, &o, "%", 1) < 0)
				goto toolong;
			i += 2;
			continue;
		case '_':
			if (spf_put(out, outlen, &o, " ", 1) < 0)
				goto toolong;
			i += 2;
			continue;
		case '-':
			if (spf_put(out, outlen, &o, "%20", 3) < 0)
				goto toolong;
			i += 2;
			continue;
		case '{':
			break;
		default:
			*why_r = "bad macro";
			return -1;
		}
		close = memchr(spec + i + 2, '}', n - i - 2);
		if (close == NULL) {
			*why_r = "unterminated macro";
			return -1;
		}
		if (spf_expand_one(spec + i + 2, (size_t)(close - spec - i - 2),
		    env, exp, out, outlen, &o) < 0) {
			*why_r = "bad macro";
			return -1;
		}
		i = (size_t)(close - spec) + 1;
	}
	return (long)o;
toolong:
	*why_r = "macro expansion too long";
	return -1;
}

/* ------------------------------------------------------------------ */
/* Parsing (RFC 7208 4.6.1, 12)                                        */

static bool
spf_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* domain-end: "." toplabel ["."] or a macro-expand at the end. */
static bool
spf_domain_end_ok(const char *s, size_t n)
{
	size_t e = n, b, i;
	bool alpha = false;

	if (n == 0)
		return false;
	if (s[n - 1] == '}')
		return true;
	if (s[e - 1] == '.')
		e--;
	b = e;
	while (b > 0 && s[b - 1] != '.')
		b--;
	if (b == 0 || b == e)
		return false;	/* needs "." toplabel */
	for (i = b; i < e; i++) {
		if (!spf_alnum(s[i]) && s[i] != '-')
			return false;
		if (!(s[i] >= '0' && s[i] <= '9') && s[i] != '-')
			alpha = true;
	}
	if (s[b] == '-' || s[e - 1] == '-')
		return false;
	/* all-numeric top labels are not allowed unless a '-' is there */
	return alpha || memchr(s + b, '-', e - b) != NULL;
}

static bool
spf_spec_ok(const char *s, size_t n)
{
	static const struct spf_env dummy = { "l@d.example", "h.example",
	    "d.example", { AF_INET, { 192, 0, 2, 1 } }, NULL, 0 };
	char out[SPF_EXPAND_MAX];
	const char *why;

	if (spf_expand(s, n, &dummy, false, out, sizeof(out), &why) < 0)
		return false;
	return spf_domain_end_ok(s, n);
}

/* "/N" with no leading zero, N <= max; advances *i. */
static int
spf_cidr(const char *s, size_t n, size_t *i, int max, int *r)
{
	int v = 0;
	size_t start = *i;

	if (*i >= n || s[*i] < '0' || s[*i] > '9')
		return -1;
	if (s[*i] == '0' && *i + 1 < n && s[*i + 1] >= '0' && s[*i + 1] <= '9')
		return -1;
	while (*i < n && s[*i] >= '0' && s[*i] <= '9') {
		v = v * 10 + (s[*i] - '0');
		if (v > max || *i - start > 3)
			return -1;
		(*i)++;
	}
	*r = v;
	return 0;
}

/*
 * The optional dual-cidr-length at the end of t[0..*n): strips it,
 * sets cidr4/cidr6. Macro strings may hold '/', so the suffix is found
 * from the end: "/N", "//N" or "/N//N" of digits only.
 */
static int
spf_dual_cidr(const char *t, size_t *n, struct spf_term *term)
{
	size_t e = *n, b, i;

	b = e;
	while (b > 0 && t[b - 1] >= '0' && t[b - 1] <= '9')
		b--;
	if (b == e || b == 0 || t[b - 1] != '/')
		return 0;
	if (b >= 2 && t[b - 2] == '/') {
		i = b;
		if (spf_cidr(t, e, &i, 128, &term->cidr6) < 0)
			return -1;
		e = b - 2;
		*n = e;
		b = e;
		while (b > 0 && t[b - 1] >= '0' && t[b - 1] <= '9')
			b--;
		if (b == e || b == 0 || t[b - 1] != '/')
			return 0;
	}
	i = b;
	if (spf_cidr(t, e, &i, 32, &term->cidr4) < 0)
		return -1;
	*n = b - 1;
	return 0;
}

static int
spf_parse_term(const char *t, size_t n, struct spf_record *r,
    const char **why_r)
{
	static const struct {
		const char	*name;
		enum spf_mech	 mech;
	} mechs[] = {
		{ "all", SPF_M_ALL }, { "include", SPF_M_INCLUDE },
		{ "a", SPF_M_A }, { "mx", SPF_M_MX }, { "ptr", SPF_M_PTR },
		{ "ip4", SPF_M_IP4 }, { "ip6", SPF_M_IP6 },
		{ "exists", SPF_M_EXISTS },
	};
	struct spf_term *term;
	char qual = '+', ipbuf[64];
	size_t i = 0, nl, k;
	const char *arg;
	size_t arglen;
	bool hasarg;

	if (strchr("+-~?", t[0]) != NULL) {
		qual = t[0];
		i = 1;
	}
	nl = i;
	while (nl < n && (spf_alnum(t[nl]) || t[nl] == '-' || t[nl] == '_' ||
	    t[nl] == '.'))
		nl++;
	if (nl == i) {
		*why_r = "bad term";
		return -1;
	}
	if (nl < n && t[nl] == '=') {
		/* modifier */
		const char *v = t + nl + 1;
		size_t vl = n - nl - 1;

		if (i != 0 || !((t[0] >= 'a' && t[0] <= 'z') ||
		    (t[0] >= 'A' && t[0] <= 'Z'))) {
			*why_r = "bad modifier";
			return -1;
		}
		if (nl == 8 && str_ieqn(t, "redirect", 8)) {
			if (r->redirect != NULL) {
				*why_r = "two redirect modifiers";
				return -1;
			}
			if (!spf_spec_ok(v, vl)) {
				*why_r = "bad redirect domain";
				return -1;
			}
			r->redirect = v;
			r->redirect_len = vl;
		} else if (nl == 3 && str_ieqn(t, "exp", 3)) {
			if (r->exp != NULL) {
				*why_r = "two exp modifiers";
				return -1;
			}
			if (!spf_spec_ok(v, vl)) {
				*why_r = "bad exp domain";
				return -1;
			}
			r->exp = v;
			r->exp_len = vl;
		} else {
			static const struct spf_env dummy = { "l@d.example",
			    "h.example", "d.example",
			    { AF_INET, { 192, 0, 2, 1 } }, NULL, 0 };
			char out[SPF_EXPAND_MAX];

			/* unknown modifier: its value must still parse */
			if (spf_expand(v, vl, &dummy, false, out, sizeof(out),
			    why_r) < 0)
				return -1;
		}
		return 0;
	}
	if (r->nterms >= SPF_MAX_TERMS) {
		*why_r = "too many terms";
		return -1;
	}
	term = &r->terms[r->nterms];
	memset(term, 0, sizeof(*term));
	term->qual = qual;
	term->cidr4 = 32;
	term->cidr6 = 128;
	for (k = 0; k < sizeof(mechs) / sizeof(mechs[0]); k++)
		if (nl - i == strlen(mechs[k].name) &&
		    str_ieqn(t + i, mechs[k].name, nl - i))
			break;
	if (k == sizeof(mechs) / sizeof(mechs[0])) {
		*why_r = "unknown mechanism";
		return -1;
	}
	term->mech = mechs[k].mech;
	if (term->mech == SPF_M_A || term->mech == SPF_M_MX) {
		if (spf_dual_cidr(t, &n, term) < 0) {
			*why_r = "bad CIDR length";
			return -1;
		}
	}
	hasarg = nl < n && t[nl] == ':';
	arg = t + nl + 1;
	arglen = hasarg ? n - nl - 1 : 0;
	if (!hasarg && nl != n) {
		*why_r = "bad mechanism";
		return -1;
	}
	switch (term->mech) {
	case SPF_M_ALL:
		if (hasarg) {
			*why_r = "all takes no argument";
			return -1;
		}
		break;
	case SPF_M_INCLUDE:
	case SPF_M_EXISTS:
		if (!hasarg || !spf_spec_ok(arg, arglen)) {
			*why_r = "bad domain-spec";
			return -1;
		}
		term->spec = arg;
		term->spec_len = arglen;
		break;
	case SPF_M_A:
	case SPF_M_MX:
	case SPF_M_PTR:
		if (hasarg) {
			if (!spf_spec_ok(arg, arglen)) {
				*why_r = "bad domain-spec";
				return -1;
			}
			term->spec = arg;
			term->spec_len = arglen;
		}
		break;
	case SPF_M_IP4:
	case SPF_M_IP6: {
		size_t e = arglen, slash;
		int fam = term->mech == SPF_M_IP4 ? AF_INET : AF_INET6;

		if (!hasarg) {
			*why_r = "ip4/ip6 need an address";
			return -1;
		}
		slash = 0;
		while (slash < e && arg[slash] != '/')
			slash++;
		if (slash < e) {
			size_t ci = slash + 1;

			if (spf_cidr(arg, e, &ci, fam == AF_INET ? 32 : 128,
			    fam == AF_INET ? &term->cidr4 : &term->cidr6) <
			    0 || ci != e) {
				*why_r = "bad CIDR length";
				return -1;
			}
		}
		if (slash == 0 || slash >= sizeof(ipbuf)) {
			*why_r = "bad address";
			return -1;
		}
		memcpy(ipbuf, arg, slash);
		ipbuf[slash] = '\0';
		if (inet_pton(fam, ipbuf, term->ip) != 1) {
			*why_r = "bad address";
			return -1;
		}
		break;
	}
	}
	r->nterms++;
	return 0;
}

int
spf_parse(const char *rec, size_t n, struct spf_record *r,
    const char **why_r)
{
	size_t i, s;

	memset(r, 0, sizeof(*r));
	if (n > SPF_RECORD_MAX) {
		*why_r = "record too long";
		return -1;
	}
	if (n < 6 || !str_ieqn(rec, "v=spf1", 6) || (n > 6 && rec[6] != ' ')) {
		*why_r = "not an SPF record";
		return -1;
	}
	i = 6;
	while (i < n) {
		if (rec[i] != ' ') {
			*why_r = "bad separator";
			return -1;
		}
		while (i < n && rec[i] == ' ')
			i++;
		if (i >= n)
			break;
		s = i;
		while (i < n && rec[i] != ' ')
			i++;
		if (spf_parse_term(rec + s, i - s, r, why_r) < 0)
			return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Evaluation (RFC 7208 4, 5)                                          */

struct spf_ctx {
	const struct resolve *dns;
	struct dns_addr	 ip;
	const char	*sender;
	const char	*helo;
	unsigned	 lookups;
	unsigned	 voids;
	const char	*why;
	unsigned	 depth;
};

enum { M_NO = 0, M_YES, M_TEMP, M_PERM };

static bool
spf_cidr_match(const struct dns_addr *a, const uint8_t *net, int bits)
{
	size_t full = (size_t)bits / 8;
	int rest = bits % 8;
	uint8_t mask;

	if (memcmp(a->addr, net, full) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (uint8_t)(0xff << (8 - rest));
	return (a->addr[full] & mask) == (net[full] & mask);
}

/* Count one DNS-querying term; false (permerror) past the limit. */
static bool
spf_count(struct spf_ctx *c)
{
	if (++c->lookups > SPF_MAX_LOOKUPS) {
		c->why = "more than 10 DNS lookups";
		return false;
	}
	return true;
}

/* A lookup that found nothing; false (permerror) past the limit. */
static bool
spf_void(struct spf_ctx *c)
{
	if (++c->voids > SPF_MAX_VOID) {
		c->why = "more than 2 void lookups";
		return false;
	}
	return true;
}

/* Expand a domain-spec (or take the current domain) into out. */
static int
spf_target(struct spf_ctx *c, const char *domain, const char *spec,
    size_t len, char *out, size_t outlen)
{
	struct spf_env env;
	const char *why = NULL;
	char tmp[SPF_EXPAND_MAX];
	long n;
	size_t off = 0;

	if (spec == NULL) {
		str_copy(out, domain, outlen);
		return 0;
	}
	memset(&env, 0, sizeof(env));
	env.sender = c->sender;
	env.helo = c->helo;
	env.domain = domain;
	env.ip = c->ip;
	n = spf_expand(spec, len, &env, false, tmp, sizeof(tmp), &why);
	if (n < 0) {
		c->why = why;
		return -1;
	}
	if (n > 0 && tmp[n - 1] == '.')
		tmp[--n] = '\0';
	/* RFC 7208 7.3: drop labels from the left down to 253 octets */
	while ((size_t)n - off > 253) {
		const char *dot = strchr(tmp + off, '.');

		if (dot == NULL)
			break;
		off = (size_t)(dot - tmp) + 1;
	}
	str_copy(out, tmp + off, outlen);
	return 0;
}

/* a: any address of name (client family) inside the CIDR. */
static int
spf_match_a(struct spf_ctx *c, const char *name, int c4, int c6,
    bool count_void)
{
	struct dns_addr addrs[32];
	enum dns_status st;
	size_t n = 0, i;

	if (!dns_name_valid(name))
		return M_NO;
	st = c->dns->addr(c->dns->arg, name, c->ip.family, addrs, 32, &n);
	if (st == DNS_TEMP || st == DNS_FAIL) {
		c->why = "DNS lookup failed";
		return M_TEMP;
	}
	if (st != DNS_OK || n == 0) {
		if (count_void && !spf_void(c))
			return M_PERM;
		return M_NO;
	}
	for (i = 0; i < n; i++)
		if (spf_cidr_match(&c->ip, addrs[i].addr,
		    c->ip.family == AF_INET ? c4 : c6))
			return M_YES;
	return M_NO;
}

static int
spf_match_mx(struct spf_ctx *c, const char *name, int c4, int c6)
{
	struct dns_mx *mx = NULL;
	enum dns_status st;
	size_t n = 0, i;
	int r = M_NO, m;

	if (!dns_name_valid(name))
		return M_NO;
	st = c->dns->mx(c->dns->arg, name, &mx, &n);
	if (st == DNS_TEMP || st == DNS_FAIL) {
		c->why = "DNS lookup failed";
		return M_TEMP;
	}
	if (st != DNS_OK || n == 0) {
		free(mx);
		return spf_void(c) ? M_NO : M_PERM;
	}
	if (n > SPF_MAX_MX) {
		free(mx);
		c->why = "more than 10 MX names";
		return M_PERM;
	}
	for (i = 0; i < n && r == M_NO; i++) {
		if (mx[i].host[0] == '\0')
			continue;	/* null MX */
		m = spf_match_a(c, mx[i].host, c4, c6, false);
		if (m != M_NO)
			r = m;
	}
	free(mx);
	return r;
}

static int
spf_match_ptr(struct spf_ctx *c, const char *target)
{
	struct dns_addr addrs[32];
	enum dns_status st;
	char **names = NULL;
	size_t n = 0, i, j, na, tl = strlen(target);
	int r = M_NO;

	st = c->dns->ptr(c->dns->arg, &c->ip, &names, &n);
	if (st != DNS_OK) {
		/* RFC 7208 5.5: a DNS error here is simply no match */
		if ((st == DNS_NODATA || st == DNS_NXDOMAIN) && !spf_void(c))
			return M_PERM;
		return M_NO;
	}
	for (i = 0; i < n && i < SPF_MAX_PTR && r == M_NO; i++) {
		const char *nm = names[i];
		size_t nl = strlen(nm);

		if (nl > 0 && nm[nl - 1] == '.')
			nl--;
		if (!(nl == tl && str_ieqn(nm, target, tl)) &&
		    !(nl > tl && nm[nl - tl - 1] == '.' &&
		    str_ieqn(nm + nl - tl, target, tl)))
			continue;
		na = 0;
		if (c->dns->addr(c->dns->arg, nm, c->ip.family, addrs, 32,
		    &na) != DNS_OK)
			continue;
		for (j = 0; j < na; j++)
			if (memcmp(addrs[j].addr, c->ip.addr,
			    c->ip.family == AF_INET ? 4 : 16) == 0)
				r = M_YES;
	}
	dns_txt_free(names, n);
	return r;
}

static enum spf_result spf_check_host(struct spf_ctx *c, const char *domain);

static enum spf_result
spf_qual(char q)
{
	switch (q) {
	case '-':
		return SPF_FAIL;
	case '~':
		return SPF_SOFTFAIL;
	case '?':
		return SPF_NEUTRAL;
	default:
		return SPF_PASS;
	}
}

/* Fetch and parse the record of domain. SPF_PASS: *rec_r set (free). */
static enum spf_result
spf_fetch(struct spf_ctx *c, const char *domain, char **rec_r)
{
	char **txt = NULL;
	enum dns_status st;
	size_t n = 0, i, found = 0;

	*rec_r = NULL;
	st = c->dns->txt(c->dns->arg, domain, &txt, &n);
	if (st == DNS_TEMP || st == DNS_FAIL) {
		c->why = "DNS lookup failed";
		return SPF_TEMPERROR;
	}
	if (st != DNS_OK)
		return SPF_NONE;
	for (i = 0; i < n; i++) {
		if (strlen(txt[i]) >= 6 && str_ieqn(txt[i], "v=spf1", 6) &&
		    (txt[i][6] == '\0' || txt[i][6] == ' ')) {
			found++;
			if (*rec_r == NULL)
				*rec_r = xstrdup(txt[i]);
		}
	}
	dns_txt_free(txt, n);
	if (found > 1) {
		free(*rec_r);
		*rec_r = NULL;
		c->why = "more than one SPF record";
		return SPF_PERMERROR;
	}
	return found == 1 ? SPF_PASS : SPF_NONE;
}

static enum spf_result
spf_check_host(struct spf_ctx *c, const char *domain)
{
	struct spf_record *r;
	char *rec = NULL, target[DNS_NAME_MAX + 2];
	enum spf_result res, sub;
	const char *why = NULL;
	size_t i;
	int m;

	if (c->depth > SPF_MAX_LOOKUPS + 1) {
		c->why = "too deep";
		return SPF_PERMERROR;
	}
	c->depth++;
	r = NULL;
	if (!dns_name_valid(domain) || strchr(domain, '.') == NULL) {
		res = SPF_NONE;
		goto out;
	}
	res = spf_fetch(c, domain, &rec);
	if (res != SPF_PASS)
		goto out;
	r = xmalloc(sizeof(*r));
	if (spf_parse(rec, strlen(rec), r, &why) < 0) {
		c->why = why;
		res = SPF_PERMERROR;
		goto out;
	}
	for (i = 0; i < r->nterms; i++) {
		const struct spf_term *t = &r->terms[i];

		m = M_NO;
		if (t->mech != SPF_M_ALL && t->mech != SPF_M_IP4 &&
		    t->mech != SPF_M_IP6 && !spf_count(c)) {
			res = SPF_PERMERROR;
			goto out;
		}
		if (t->mech != SPF_M_ALL && t->mech != SPF_M_IP4 &&
		    t->mech != SPF_M_IP6 && spf_target(c, domain, t->spec,
		    t->spec_len, target, sizeof(target)) < 0) {
			res = SPF_PERMERROR;
			goto out;
		}
		switch (t->mech) {
		case SPF_M_ALL:
			m = M_YES;
			break;
		case SPF_M_IP4:
			if (c->ip.family == AF_INET &&
			    spf_cidr_match(&c->ip, t->ip, t->cidr4))
				m = M_YES;
			break;
		case SPF_M_IP6:
			if (c->ip.family == AF_INET6 &&
			    spf_cidr_match(&c->ip, t->ip, t->cidr6))
				m = M_YES;
			break;
		case SPF_M_A:
			m = spf_match_a(c, target, t->cidr4, t->cidr6, true);
			break;
		case SPF_M_MX:
			m = spf_match_mx(c, target, t->cidr4, t->cidr6);
			break;
		case SPF_M_PTR:
			m = spf_match_ptr(c, target);
			break;
		case SPF_M_EXISTS: {
			struct dns_addr a[4];
			size_t na = 0;
			enum dns_status st;

			if (!dns_name_valid(target)) {
				m = M_NO;
				break;
			}
			st = c->dns->addr(c->dns->arg, target, AF_INET, a, 4,
			    &na);
			if (st == DNS_TEMP || st == DNS_FAIL) {
				c->why = "DNS lookup failed";
				m = M_TEMP;
			} else if (st == DNS_OK && na > 0) {
				m = M_YES;
			} else {
				m = spf_void(c) ? M_NO : M_PERM;
			}
			break;
		}
		case SPF_M_INCLUDE:
			sub = spf_check_host(c, target);
			if (sub == SPF_PASS)
				m = M_YES;
			else if (sub == SPF_TEMPERROR)
				m = M_TEMP;
			else if (sub == SPF_PERMERROR)
				m = M_PERM;
			else if (sub == SPF_NONE) {
				if (c->why == NULL)
					c->why = "include of a domain without "
					    "SPF record";
				m = M_PERM;
			}
			break;
		}
		if (m == M_TEMP) {
			res = SPF_TEMPERROR;
			goto out;
		}
		if (m == M_PERM) {
			res = SPF_PERMERROR;
			goto out;
		}
		if (m == M_YES) {
			res = spf_qual(t->qual);
			goto out;
		}
	}
	if (r->redirect != NULL) {
		if (!spf_count(c) || spf_target(c, domain, r->redirect,
		    r->redirect_len, target, sizeof(target)) < 0) {
			res = SPF_PERMERROR;
			goto out;
		}
		res = spf_check_host(c, target);
		if (res == SPF_NONE) {
			if (c->why == NULL)
				c->why = "redirect to a domain without SPF "
				    "record";
			res = SPF_PERMERROR;
		}
		goto out;
	}
	res = SPF_NEUTRAL;
out:
	c->depth--;
	free(r);
	free(rec);
	return res;
}

enum spf_result
spf_check(const struct resolve *dns, const char *client_ip,
    const char *helo, const char *mail_from, const char **why_r)
{
	struct spf_ctx c;
	char sender[600], domain[DNS_NAME_MAX + 2];
	const char *at;
	enum spf_result r;
	size_t dl;

	memset(&c, 0, sizeof(c));
	c.dns = dns;
	c.helo = helo != NULL ? helo : "";
	if (why_r != NULL)
		*why_r = NULL;
	if (spf_parse_ip(client_ip, &c.ip) < 0) {
		if (why_r != NULL)
			*why_r = "bad client address";
		return SPF_PERMERROR;
	}
	if (mail_from == NULL || *mail_from == '\0') {
		snprintf(sender, sizeof(sender), "postmaster@%s", c.helo);
	} else if (mail_from[0] == '@' || strchr(mail_from, '@') == NULL) {
		snprintf(sender, sizeof(sender), "postmaster@%s",
		    mail_from[0] == '@' ? mail_from + 1 : mail_from);
	} else {
		str_copy(sender, mail_from, sizeof(sender));
	}
	c.sender = sender;
	at = strrchr(sender, '@');
	str_copy(domain, at + 1, sizeof(domain));
	dl = strlen(domain);
	if (dl > 0 && domain[dl - 1] == '.')
		domain[dl - 1] = '\0';
	r = spf_check_host(&c, domain);
	if (why_r != NULL)
		*why_r = c.why;
	return r;
}
