/*
 * json - flat JSON object parser and string writer. See json.h.
 * Input: untrusted request bodies (already bounded by the HTTP layer).
 */
#include <stdint.h>
#include <string.h>

#include "http/json.h"

struct jp {
	const char	*s;
	size_t		 n;
	size_t		 i;
};

static void
jp_ws(struct jp *p)
{
	while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' ||
	    p->s[p->i] == '\r' || p->s[p->i] == '\n'))
		p->i++;
}

static int
jp_hex4(struct jp *p, unsigned *v)
{
	unsigned r = 0;
	int k;

	if (p->i + 4 > p->n)
		return -1;
	for (k = 0; k < 4; k++) {
		char c = p->s[p->i++];

		r <<= 4;
		if (c >= '0' && c <= '9')
			r |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			r |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			r |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*v = r;
	return 0;
}

static int
jp_put(char *dst, size_t dstlen, size_t *o, unsigned cp)
{
	char tmp[4];
	size_t k, len;

	if (cp < 0x80) {
		tmp[0] = (char)cp;
		len = 1;
	} else if (cp < 0x800) {
		tmp[0] = (char)(0xc0 | (cp >> 6));
		tmp[1] = (char)(0x80 | (cp & 0x3f));
		len = 2;
	} else if (cp < 0x10000) {
		tmp[0] = (char)(0xe0 | (cp >> 12));
		tmp[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		tmp[2] = (char)(0x80 | (cp & 0x3f));
		len = 3;
	} else {
		tmp[0] = (char)(0xf0 | (cp >> 18));
		tmp[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		tmp[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		tmp[3] = (char)(0x80 | (cp & 0x3f));
		len = 4;
	}
	if (*o + len >= dstlen)
		return -1;
	for (k = 0; k < len; k++)
		dst[(*o)++] = tmp[k];
	return 0;
}

/* utf8_len: length of a valid UTF-8 sequence at s (n bytes), or 0. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	unsigned cp;
	size_t len, k;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (k = 1; k < len; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[k] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static int
jp_string(struct jp *p, char *dst, size_t dstlen)
{
	size_t o = 0;

	if (p->i >= p->n || p->s[p->i] != '"')
		return -1;
	p->i++;
	while (p->i < p->n) {
		unsigned char c = (unsigned char)p->s[p->i];

		if (c == '"') {
			p->i++;
			dst[o] = '\0';
			return 0;
		}
		if (c < 0x20)
			return -1;
		if (c == '\\') {
			unsigned cp;

			if (++p->i >= p->n)
				return -1;
			c = (unsigned char)p->s[p->i++];
			switch (c) {
			case '"': cp = '"'; break;
			case '\\': cp = '\\'; break;
			case '/': cp = '/'; break;
			case 'b': cp = 8; break;
			case 'f': cp = 12; break;
			case 'n': cp = 10; break;
			case 'r': cp = 13; break;
			case 't': cp = 9; break;
			case 'u':
				if (jp_hex4(p, &cp) < 0)
					return -1;
				if (cp >= 0xd800 && cp <= 0xdbff) {
					unsigned lo;

					if (p->i + 2 > p->n ||
					    p->s[p->i] != '\\' ||
					    p->s[p->i + 1] != 'u')
						return -1;
					p->i += 2;
					if (jp_hex4(p, &lo) < 0 ||
					    lo < 0xdc00 || lo > 0xdfff)
						return -1;
					cp = 0x10000 + ((cp - 0xd800) << 10) +
					    (lo - 0xdc00);
				} else if (cp >= 0xdc00 && cp <= 0xdfff) {
					return -1;
				}
				if (cp == 0)
					return -1;	/* no NUL in values */
				break;
			default:
				return -1;
			}
			if (jp_put(dst, dstlen, &o, cp) < 0)
				return -1;
			continue;
		}
		{
			size_t len = utf8_len((const unsigned char *)p->s +
			    p->i, p->n - p->i);

			if (len == 0 || o + len >= dstlen)
				return -1;
			memcpy(dst + o, p->s + p->i, len);
			o += len;
			p->i += len;
		}
	}
	return -1;
}

static int
jp_scalar(struct jp *p, char *dst, size_t dstlen)
{
	size_t start = p->i, len;

	while (p->i < p->n) {
		char c = p->s[p->i];

		if (!((c >= '0' && c <= '9') || c == '-' || c == '+' ||
		    c == '.' || c == 'e' || c == 'E' || (c >= 'a' && c <= 'z')))
			break;
		p->i++;
	}
	len = p->i - start;
	if (len == 0 || len >= dstlen)
		return -1;
	memcpy(dst, p->s + start, len);
	dst[len] = '\0';
	if (strcmp(dst, "true") == 0 || strcmp(dst, "false") == 0 ||
	    strcmp(dst, "null") == 0)
		return 0;
	/* a number: -?digits(.digits)?([eE][+-]?digits)? */
	{
		const char *q = dst;

		if (*q == '-')
			q++;
		if (*q < '0' || *q > '9')
			return -1;
		if (*q == '0' && q[1] >= '0' && q[1] <= '9')
			return -1;
		while (*q >= '0' && *q <= '9')
			q++;
		if (*q == '.') {
			q++;
			if (*q < '0' || *q > '9')
				return -1;
			while (*q >= '0' && *q <= '9')
				q++;
		}
		if (*q == 'e' || *q == 'E') {
			q++;
			if (*q == '+' || *q == '-')
				q++;
			if (*q < '0' || *q > '9')
				return -1;
			while (*q >= '0' && *q <= '9')
				q++;
		}
		return *q == '\0' ? 0 : -1;
	}
}

int
json_parse_object(const char *s, size_t n, struct json_obj *o,
    const char **why_r)
{
	struct jp p = { s, n, 0 };

	o->n = 0;
	jp_ws(&p);
	if (p.i >= n || s[p.i] != '{') {
		*why_r = "expected a JSON object";
		return -1;
	}
	p.i++;
	jp_ws(&p);
	if (p.i < n && s[p.i] == '}') {
		p.i++;
		goto end;
	}
	for (;;) {
		struct json_kv *kv;
		size_t k;

		if (o->n == JSON_MAX_KEYS) {
			*why_r = "too many keys";
			return -1;
		}
		kv = &o->kv[o->n];
		jp_ws(&p);
		if (jp_string(&p, kv->key, sizeof(kv->key)) < 0) {
			*why_r = "bad key";
			return -1;
		}
		for (k = 0; k < o->n; k++) {
			if (strcmp(o->kv[k].key, kv->key) == 0) {
				*why_r = "duplicate key";
				return -1;
			}
		}
		jp_ws(&p);
		if (p.i >= n || s[p.i] != ':') {
			*why_r = "expected ':'";
			return -1;
		}
		p.i++;
		jp_ws(&p);
		if (p.i < n && s[p.i] == '"') {
			if (jp_string(&p, kv->val, sizeof(kv->val)) < 0) {
				*why_r = "bad string value";
				return -1;
			}
			kv->is_string = 1;
		} else {
			if (jp_scalar(&p, kv->val, sizeof(kv->val)) < 0) {
				*why_r = "bad value (only strings, numbers, "
				    "booleans, null)";
				return -1;
			}
			kv->is_string = 0;
		}
		o->n++;
		jp_ws(&p);
		if (p.i < n && s[p.i] == ',') {
			p.i++;
			continue;
		}
		if (p.i < n && s[p.i] == '}') {
			p.i++;
			break;
		}
		*why_r = "expected ',' or '}'";
		return -1;
	}
end:
	jp_ws(&p);
	if (p.i != n) {
		*why_r = "trailing data after the object";
		return -1;
	}
	return 0;
}

const char *
json_get(const struct json_obj *o, const char *key)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		if (o->kv[i].is_string && strcmp(o->kv[i].key, key) == 0)
			return o->kv[i].val;
	return NULL;
}

const char *
json_get_raw(const struct json_obj *o, const char *key)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		if (strcmp(o->kv[i].key, key) == 0)
			return o->kv[i].val;
	return NULL;
}

int
json_str(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), i = 0;

	if (buf_putc(b, '"') < 0)
		return -1;
	while (i < n) {
		unsigned char c = u[i];
		int rc = 0;

		if (c == '"' || c == '\\') {
			char esc[2] = { '\\', (char)c };

			rc = buf_append(b, esc, 2);
			i++;
		} else if (c < 0x20 || c == 0x7f || c == '<' || c == '>' ||
		    c == '&') {
			/* also escape <>& so a reply can never be HTML */
			char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4],
			    hex[c & 15] };

			rc = buf_append(b, esc, 6);
			i++;
		} else if (c < 0x80) {
			rc = buf_putc(b, (char)c);
			i++;
		} else {
			size_t len = utf8_len(u + i, n - i);

			if (len == 0) {
				rc = buf_puts(b, "\\ufffd");
				i++;
			} else {
				rc = buf_append(b, s + i, len);
				i += len;
			}
		}
		if (rc < 0)
			return -1;
	}
	return buf_putc(b, '"');
}
