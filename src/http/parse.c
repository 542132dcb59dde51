/*
 * parse - HTTP/1.1 request head parser. See parse.h.
 *
 * Input: untrusted bytes from the network. Every field is copied with a
 * length check; a field too long for its slot is an error (431), never
 * silently truncated. Obsolete line folding is refused (RFC 9112 5.2).
 */
#include <string.h>

#include "core/str.h"
#include "core/strnum.h"
#include "http/parse.h"

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* parse_pct: percent-decode n bytes into dst (size dstlen); refuses
 * NUL, bad escapes and overflow. 0 or -1. */
static int
parse_pct(const char *s, size_t n, char *dst, size_t dstlen)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			int h, l;

			if (i + 2 >= n)
				return -1;
			h = hexval((unsigned char)s[i + 1]);
			l = hexval((unsigned char)s[i + 2]);
			if (h < 0 || l < 0)
				return -1;
			c = h * 16 + l;
			i += 2;
		}
		if (c == 0 || o + 1 >= dstlen)
			return -1;
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return 0;
}

static int
is_tchar(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int
parse_copy(char *dst, size_t dstlen, const char *v, size_t n)
{
	if (n >= dstlen)
		return -1;
	memcpy(dst, v, n);
	dst[n] = '\0';
	return 0;
}

static int
parse_request_line(const char *s, size_t n, struct http_req *r,
    const char **why_r)
{
	const char *sp1, *sp2, *target, *q;
	size_t mlen, tlen;

	sp1 = memchr(s, ' ', n);
	if (sp1 == NULL) {
		*why_r = "bad request line";
		return 400;
	}
	mlen = (size_t)(sp1 - s);
	if (mlen == 0 || mlen >= sizeof(r->method)) {
		*why_r = "bad method";
		return 400;
	}
	memcpy(r->method, s, mlen);
	r->method[mlen] = '\0';
	for (size_t i = 0; i < mlen; i++) {
		if (!is_tchar((unsigned char)r->method[i])) {
			*why_r = "bad method";
			return 400;
		}
	}
	target = sp1 + 1;
	sp2 = memchr(target, ' ', n - (size_t)(target - s));
	if (sp2 == NULL) {
		*why_r = "bad request line";
		return 400;
	}
	tlen = (size_t)(sp2 - target);
	if (tlen > HTTP_TARGET_MAX) {
		*why_r = "target too long";
		return 414;
	}
	if (tlen == 0 || target[0] != '/') {
		*why_r = "target must be an absolute path";
		return 400;
	}
	for (size_t i = 0; i < tlen; i++) {
		unsigned char c = (unsigned char)target[i];

		if (c <= 0x20 || c >= 0x7f) {
			*why_r = "bad byte in target";
			return 400;
		}
	}
	q = memchr(target, '?', tlen);
	if (parse_pct(target, q ? (size_t)(q - target) : tlen, r->path,
	    sizeof(r->path)) < 0) {
		*why_r = "bad percent-encoding in path";
		return 400;
	}
	if (q != NULL) {
		if (parse_copy(r->query, sizeof(r->query), q + 1,
		    tlen - (size_t)(q + 1 - target)) < 0) {
			*why_r = "query too long";
			return 414;
		}
	}
	n -= (size_t)(sp2 + 1 - s);
	s = sp2 + 1;
	if (n != 8 || memcmp(s, "HTTP/1.", 7) != 0 || s[7] < '0' ||
	    s[7] > '9') {
		*why_r = "unsupported HTTP version";
		return n >= 5 && memcmp(s, "HTTP/", 5) == 0 ? 505 : 400;
	}
	r->minor = s[7] - '0';
	r->close = r->minor == 0;
	return 0;
}

static int
parse_field(const char *name, size_t nlen, const char *v, size_t vlen,
    struct http_req *r, const char **why_r)
{
	if (nlen == 4 && str_ieqn(name, "host", 4)) {
		if (r->host[0] != '\0') {
			*why_r = "duplicate Host";
			return 400;
		}
		if (parse_copy(r->host, sizeof(r->host), v, vlen) < 0)
			goto toolong;
	} else if (nlen == 6 && str_ieqn(name, "cookie", 6)) {
		if (parse_copy(r->cookie, sizeof(r->cookie), v, vlen) < 0)
			goto toolong;
	} else if (nlen == 14 && str_ieqn(name, "content-length", 14)) {
		uint64_t cl;

		if (str_to_u64n(v, vlen, &cl) < 0 ||
		    (r->has_length && cl != r->content_length)) {
			*why_r = "bad Content-Length";
			return 400;
		}
		r->content_length = cl;
		r->has_length = true;
	} else if (nlen == 17 && str_ieqn(name, "transfer-encoding", 17)) {
		*why_r = "Transfer-Encoding not supported";
		return 501;
	} else if (nlen == 12 && str_ieqn(name, "content-type", 12)) {
		if (parse_copy(r->content_type, sizeof(r->content_type), v,
		    vlen) < 0)
			goto toolong;
	} else if (nlen == 10 && str_ieqn(name, "connection", 10)) {
		if (vlen == 5 && str_ieqn(v, "close", 5))
			r->close = true;
		else if (vlen == 10 && str_ieqn(v, "keep-alive", 10))
			r->close = false;
	} else if (nlen == 13 && str_ieqn(name, "if-none-match", 13)) {
		if (parse_copy(r->if_none_match, sizeof(r->if_none_match), v,
		    vlen) < 0)
			goto toolong;
	} else if (nlen == 6 && str_ieqn(name, "origin", 6)) {
		if (parse_copy(r->origin, sizeof(r->origin), v, vlen) < 0)
			goto toolong;
	} else if (nlen == 12 && str_ieqn(name, "x-csrf-token", 12)) {
		if (parse_copy(r->csrf, sizeof(r->csrf), v, vlen) < 0)
			goto toolong;
	}
	return 0;
toolong:
	*why_r = "header field too large";
	return 431;
}

int
http_parse_head(const char *head, size_t len, struct http_req *r,
    const char **why_r)
{
	size_t pos = 0, nfields = 0;
	int first = 1, rc;

	memset(r, 0, sizeof(*r));
	if (len > HTTP_HEAD_MAX) {
		*why_r = "request head too large";
		return 431;
	}
	while (pos < len) {
		const char *line = head + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t n;

		if (nl == NULL) {
			*why_r = "unterminated line";
			return 400;
		}
		n = (size_t)(nl - line);
		pos += n + 1;
		if (n > 0 && line[n - 1] == '\r')
			n--;
		if (memchr(line, '\0', n) != NULL || memchr(line, '\r', n)) {
			*why_r = "control byte in head";
			return 400;
		}
		if (first) {
			first = 0;
			rc = parse_request_line(line, n, r, why_r);
			if (rc != 0)
				return rc;
			continue;
		}
		if (n == 0)
			break;	/* end of head */
		if (line[0] == ' ' || line[0] == '\t') {
			*why_r = "obsolete line folding";
			return 400;
		}
		if (++nfields > HTTP_HDR_MAX) {
			*why_r = "too many header fields";
			return 431;
		}
		{
			const char *colon = memchr(line, ':', n);
			const char *v;
			size_t nlen, vlen;

			if (colon == NULL || colon == line) {
				*why_r = "bad header field";
				return 400;
			}
			nlen = (size_t)(colon - line);
			for (size_t i = 0; i < nlen; i++) {
				if (!is_tchar((unsigned char)line[i])) {
					*why_r = "bad header field name";
					return 400;
				}
			}
			v = colon + 1;
			vlen = n - nlen - 1;
			while (vlen > 0 && (*v == ' ' || *v == '\t')) {
				v++;
				vlen--;
			}
			while (vlen > 0 && (v[vlen - 1] == ' ' ||
			    v[vlen - 1] == '\t'))
				vlen--;
			rc = parse_field(line, nlen, v, vlen, r, why_r);
			if (rc != 0)
				return rc;
		}
	}
	if (first) {
		*why_r = "empty request";
		return 400;
	}
	if (r->minor >= 1 && r->host[0] == '\0') {
		*why_r = "missing Host";
		return 400;
	}
	return 0;
}

int
http_cookie_get(const struct http_req *r, const char *name, char *dst,
    size_t dstlen)
{
	const char *p = r->cookie;
	size_t nlen = strlen(name);

	while (*p != '\0') {
		const char *end = strchr(p, ';');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		while (n > 0 && *p == ' ') {
			p++;
			n--;
		}
		if (n > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
			size_t vlen = n - nlen - 1;

			if (vlen >= dstlen)
				return 0;
			memcpy(dst, p + nlen + 1, vlen);
			dst[vlen] = '\0';
			return 1;
		}
		if (end == NULL)
			break;
		p = end + 1;
	}
	return 0;
}
