/*
 * addr - RFC 5321 paths as they appear in MAIL FROM / RCPT TO, and the
 * checks that decide whether a local part may become a Maildir path.
 *
 * Input is untrusted bytes straight off the wire. The parser is strict:
 * it accepts exactly the RFC 5321 4.1.2 grammar (Path, Mailbox, Dot-string,
 * Quoted-string, Domain, address-literal), plus RFC 6531 UTF-8 in atoms,
 * quoted strings and domain labels when the caller allows it, and the
 * "<Postmaster>" recipient without a domain (RFC 5321 4.1.1.3), which is
 * returned with an empty domain. Everything else is refused with a short
 * reason. UTF-8 must be well formed (no overlongs, surrogates, or code
 * points past U+10FFFF). Limits are those of RFC 5321 4.5.3.1: local
 * part 64 octets as written on the wire, domain 255, whole path 256
 * counting the angle brackets and any source route.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "mail/addr.h"

struct addr_cur {
	const unsigned char	*s;
	size_t			 n;
	size_t			 i;
};

static bool
addr_is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	switch (c) {
	case '!': case '#': case '$': case '%': case '&': case '\'':
	case '*': case '+': case '-': case '/': case '=': case '?':
	case '^': case '_': case '`': case '{': case '|': case '}':
	case '~':
		return true;
	default:
		return false;
	}
}

static bool
addr_is_letdig(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/*
 * addr_utf8_len: length of the well-formed UTF-8 sequence starting at
 * s[0] (a byte >= 0x80) within n bytes, or 0 if it is not well formed.
 */
static size_t
addr_utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len, k;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (n < len)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (k = 2; k < len; k++)
		if (s[k] < 0x80 || s[k] > 0xbf)
			return 0;
	return len;
}

/*
 * addr_take_utf8: if the cursor is on a byte >= 0x80, consume one UTF-8
 * character. Returns 1 consumed, 0 not 8-bit, -1 malformed.
 */
static int
addr_take_utf8(struct addr_cur *c, bool *utf8)
{
	size_t len;

	if (c->i >= c->n || c->s[c->i] < 0x80)
		return 0;
	len = addr_utf8_len(c->s + c->i, c->n - c->i);
	if (len == 0)
		return -1;
	c->i += len;
	*utf8 = true;
	return 1;
}

/*
 * addr_domain: parse Domain or address-literal at the cursor. Copies it
 * lower-cased into p->domain. Returns 0 or -1 with *why set.
 */
static int
addr_domain(struct addr_cur *c, struct addr_path *p, bool *utf8,
    const char **why)
{
	size_t start = c->i, len, label;
	int r;

	if (c->i < c->n && c->s[c->i] == '[') {
		char lit[ADDR_DOMAIN_MAX + 1];
		unsigned char a6[16];
		size_t ls;

		c->i++;
		ls = c->i;
		while (c->i < c->n && c->s[c->i] != ']') {
			unsigned char ch = c->s[c->i];

			if (ch < 33 || ch > 126 || ch == '[' || ch == '\\') {
				*why = "syntax";
				return -1;
			}
			c->i++;
		}
		if (c->i >= c->n) {
			*why = "syntax";
			return -1;
		}
		len = c->i - ls;
		c->i++;
		if (len + 2 > ADDR_DOMAIN_MAX) {
			*why = "too long";
			return -1;
		}
		memcpy(lit, c->s + ls, len);
		lit[len] = '\0';
		if (len > 5 && strncasecmp(lit, "IPv6:", 5) == 0) {
			if (inet_pton(AF_INET6, lit + 5, a6) != 1) {
				*why = "bad address literal";
				return -1;
			}
		} else if (strspn(lit, "0123456789.") != len ||
		    inet_pton(AF_INET, lit, a6) != 1) {
			/* General-address-literal: no other tag is defined */
			*why = "bad address literal";
			return -1;
		}
		p->ip_literal = true;
	} else {
		label = 0;
		for (;;) {
			size_t ls = c->i;

			/* sub-domain = Let-dig [Ldh-str] (or a U-label) */
			while (c->i < c->n) {
				unsigned char ch = c->s[c->i];

				if (addr_is_letdig(ch) || ch == '-') {
					c->i++;
					continue;
				}
				r = addr_take_utf8(c, utf8);
				if (r < 0) {
					*why = "bad utf-8";
					return -1;
				}
				if (r == 0)
					break;
			}
			label = c->i - ls;
			if (label == 0 || c->s[ls] == '-' ||
			    c->s[c->i - 1] == '-') {
				*why = "syntax";
				return -1;
			}
			if (label > 63) {
				*why = "too long";
				return -1;
			}
			if (c->i < c->n && c->s[c->i] == '.') {
				c->i++;
				continue;
			}
			break;
		}
	}
	len = c->i - start;
	if (len > ADDR_DOMAIN_MAX) {
		*why = "too long";
		return -1;
	}
	memcpy(p->domain, c->s + start, len);
	p->domain[len] = '\0';
	for (size_t k = 0; k < len; k++)
		if (p->domain[k] >= 'A' && p->domain[k] <= 'Z')
			p->domain[k] += 'a' - 'A';
	return 0;
}

/*
 * addr_local: parse Local-part (Dot-string or Quoted-string) into
 * p->local as its unquoted value. Returns 0 or -1 with *why.
 */
static int
addr_local(struct addr_cur *c, struct addr_path *p, bool *utf8,
    const char **why)
{
	size_t start = c->i, o = 0;
	int r;

	if (c->i < c->n && c->s[c->i] == '"') {
		p->quoted = true;
		c->i++;
		for (;;) {
			unsigned char ch;

			if (c->i >= c->n) {
				*why = "syntax";
				return -1;
			}
			ch = c->s[c->i];
			if (ch == '"')
				break;
			if (ch == '\\') {
				/* quoted-pairSMTP = %d92 %d32-126 */
				if (c->i + 1 >= c->n || c->s[c->i + 1] < 32 ||
				    c->s[c->i + 1] > 126) {
					*why = "syntax";
					return -1;
				}
				ch = c->s[c->i + 1];
				c->i += 2;
			} else if (ch >= 0x80) {
				size_t at = c->i;

				r = addr_take_utf8(c, utf8);
				if (r < 0) {
					*why = "bad utf-8";
					return -1;
				}
				if (c->i - start > ADDR_LOCAL_MAX) {
					*why = "too long";
					return -1;
				}
				memcpy(p->local + o, c->s + at, c->i - at);
				o += c->i - at;
				continue;
			} else if (ch < 32 || ch > 126) {
				*why = "syntax";
				return -1;
			} else
				c->i++;
			if (c->i - start > ADDR_LOCAL_MAX) {
				*why = "too long";
				return -1;
			}
			p->local[o++] = (char)ch;
		}
		c->i++;
		if (o == 0) {
			*why = "empty local part";
			return -1;
		}
	} else {
		bool atom_empty = true;

		while (c->i < c->n) {
			unsigned char ch = c->s[c->i];

			if (addr_is_atext(ch)) {
				atom_empty = false;
				c->i++;
			} else if (ch == '.') {
				if (atom_empty) {
					*why = "syntax";
					return -1;
				}
				atom_empty = true;
				c->i++;
			} else {
				r = addr_take_utf8(c, utf8);
				if (r < 0) {
					*why = "bad utf-8";
					return -1;
				}
				if (r == 0)
					break;
				atom_empty = false;
			}
			if (c->i - start > ADDR_LOCAL_MAX) {
				*why = "too long";
				return -1;
			}
		}
		if (atom_empty) {
			/* empty local part, or a trailing dot */
			*why = "syntax";
			return -1;
		}
		o = c->i - start;
		memcpy(p->local, c->s + start, o);
	}
	if (c->i - start > ADDR_LOCAL_MAX) {
		*why = "too long";
		return -1;
	}
	p->local[o] = '\0';
	return 0;
}

/* addr_is_dot_string: can local be written without quotes? */
static bool
addr_is_dot_string(const char *local)
{
	const unsigned char *s = (const unsigned char *)local;
	bool empty = true;

	for (; *s != '\0'; s++) {
		if (*s == '.') {
			if (empty)
				return false;
			empty = true;
		} else if (addr_is_atext(*s) || *s >= 0x80)
			empty = false;
		else
			return false;
	}
	return !empty;
}

/* addr_build: p->addr = local@domain, quoting the local part if needed. */
static void
addr_build(struct addr_path *p)
{
	size_t o = 0;
	const char *s;

	if (addr_is_dot_string(p->local)) {
		o = strlen(p->local);
		memcpy(p->addr, p->local, o);
	} else {
		p->addr[o++] = '"';
		for (s = p->local; *s != '\0'; s++) {
			if (*s == '"' || *s == '\\')
				p->addr[o++] = '\\';
			p->addr[o++] = *s;
		}
		p->addr[o++] = '"';
	}
	if (p->domain[0] != '\0') {
		p->addr[o++] = '@';
		memcpy(p->addr + o, p->domain, strlen(p->domain));
		o += strlen(p->domain);
	}
	p->addr[o] = '\0';
}

/* addr_route: skip A-d-l ":" (source route), already at '@'. */
static int
addr_route(struct addr_cur *c, struct addr_path *p, bool *utf8,
    const char **why)
{
	for (;;) {
		if (c->i >= c->n || c->s[c->i] != '@') {
			*why = "syntax";
			return -1;
		}
		c->i++;
		if (addr_domain(c, p, utf8, why) < 0)
			return -1;
		if (c->i < c->n && c->s[c->i] == ',') {
			c->i++;
			continue;
		}
		if (c->i < c->n && c->s[c->i] == ':') {
			c->i++;
			p->had_route = true;
			return 0;
		}
		*why = "syntax";
		return -1;
	}
}

int
addr_parse_path(const char *s, size_t n, bool allow_null, bool allow_utf8,
    struct addr_path *p, size_t *end_r, const char **why_r)
{
	struct addr_cur c;
	bool utf8 = false;
	const char *why = "syntax";

	memset(p, 0, sizeof(*p));
	c.s = (const unsigned char *)s;
	c.n = n;
	c.i = 0;
	if (n < 2 || s[0] != '<')
		goto fail;
	c.i = 1;
	if (s[1] == '>') {
		if (!allow_null) {
			why = "null path not allowed";
			goto fail;
		}
		p->null = true;
		*end_r = 2;
		return 0;
	}
	if (s[1] == '@' && addr_route(&c, p, &utf8, &why) < 0)
		goto fail;
	if (addr_local(&c, p, &utf8, &why) < 0)
		goto fail;
	if (c.i < c.n && c.s[c.i] == '@') {
		c.i++;
		if (addr_domain(&c, p, &utf8, &why) < 0)
			goto fail;
	} else if (strcasecmp(p->local, "postmaster") == 0 && !p->quoted &&
	    !p->had_route) {
		/* RFC 5321 4.1.1.3: RCPT TO:<Postmaster> has no domain */
		p->domain[0] = '\0';
	} else {
		why = "missing domain";
		goto fail;
	}
	if (c.i >= c.n || c.s[c.i] != '>') {
		why = "syntax";
		goto fail;
	}
	c.i++;
	if (c.i > ADDR_PATH_MAX) {
		why = "too long";
		goto fail;
	}
	if (utf8 && !allow_utf8) {
		why = "8bit";
		goto fail;
	}
	p->utf8 = utf8;
	addr_build(p);
	*end_r = c.i;
	return 0;
fail:
	memset(p, 0, sizeof(*p));
	*why_r = why;
	return -1;
}

int
addr_split(const char *addr, char *local, size_t llen, char *domain,
    size_t dlen)
{
	const char *at = strrchr(addr, '@');
	size_t ln, dn;

	if (at == NULL)
		return -1;
	ln = (size_t)(at - addr);
	dn = strlen(at + 1);
	if (ln == 0 || dn == 0 || ln >= llen || dn >= dlen)
		return -1;
	memcpy(local, addr, ln);
	local[ln] = '\0';
	memcpy(domain, at + 1, dn + 1);
	return 0;
}

bool
addr_local_is_safe(const char *local)
{
	const unsigned char *s = (const unsigned char *)local;

	if (*s == '\0' || strcmp(local, ".") == 0 || strcmp(local, "..") == 0)
		return false;
	for (; *s != '\0'; s++) {
		if (*s < 0x20 || *s == 0x7f || *s == '/' || *s == '%' ||
		    *s == '!' || *s == '@')
			return false;
	}
	return true;
}
