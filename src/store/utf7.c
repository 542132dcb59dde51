/*
 * utf7 - IMAP modified UTF-7 (RFC 3501 5.1.3) <-> UTF-8, strict both ways.
 *
 * Input: mailbox names from clients and from directory entries: untrusted.
 * Output is bounded by the caller's buffer; nothing is allocated.
 */
#include <stdint.h>
#include <string.h>

#include "store/utf7.h"

static const char utf7_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int
utf7_b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == ',')
		return 63;
	return -1;
}

/* Append code point cp as UTF-8; -1 if no room. */
static int
utf7_put_utf8(char *dst, size_t dstlen, size_t *o, uint32_t cp)
{
	unsigned char b[4];
	size_t n, i;

	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xc0 | (cp >> 6));
		b[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xe0 | (cp >> 12));
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (unsigned char)(0xf0 | (cp >> 18));
		b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	if (*o + n >= dstlen)
		return -1;
	for (i = 0; i < n; i++)
		dst[(*o)++] = (char)b[i];
	return 0;
}

long
utf7_to_utf8(const char *src, size_t n, char *dst, size_t dstlen)
{
	size_t i = 0, o = 0;
	int prev_shift_end = 0;

	if (dstlen == 0)
		return -1;
	while (i < n) {
		unsigned char c = (unsigned char)src[i];
		uint32_t bits = 0, hi = 0;
		int nbits = 0, nchars = 0;

		if (c < 0x20 || c > 0x7e)
			return -1;
		if (c != '&') {
			if (o + 1 >= dstlen)
				return -1;
			dst[o++] = (char)c;
			i++;
			prev_shift_end = 0;
			continue;
		}
		i++;
		if (i < n && src[i] == '-') {
			if (o + 1 >= dstlen)
				return -1;
			dst[o++] = '&';
			i++;
			prev_shift_end = 0;
			continue;
		}
		if (prev_shift_end)
			return -1;	/* "&..-&..-" must be one shift */
		for (;;) {
			int v;

			if (i >= n)
				return -1;	/* unterminated */
			if (src[i] == '-') {
				i++;
				break;
			}
			v = utf7_b64val((unsigned char)src[i]);
			if (v < 0)
				return -1;
			i++;
			bits = (bits << 6) | (uint32_t)v;
			nbits += 6;
			if (nbits < 16)
				continue;
			nbits -= 16;
			{
				uint32_t u = (bits >> nbits) & 0xffff;

				bits &= (1u << nbits) - 1;
				nchars++;
				if (hi != 0) {
					if (u < 0xdc00 || u > 0xdfff)
						return -1;
					u = 0x10000 + ((hi - 0xd800) << 10) +
					    (u - 0xdc00);
					hi = 0;
				} else if (u >= 0xd800 && u <= 0xdbff) {
					hi = u;
					continue;
				} else if (u >= 0xdc00 && u <= 0xdfff)
					return -1;
				/* printable ASCII must not be encoded;
				 * controls are refused in names */
				if (u < 0x80 && (u >= 0x20 && u <= 0x7e))
					return -1;
				if (u < 0x20 || u == 0x7f)
					return -1;
				if (utf7_put_utf8(dst, dstlen, &o, u) < 0)
					return -1;
			}
		}
		/* empty shift, lone high surrogate, 6+ leftover bits or
		 * nonzero padding are all invalid */
		if (nchars == 0 || hi != 0 || nbits >= 6 || bits != 0)
			return -1;
		prev_shift_end = 1;
	}
	dst[o] = '\0';
	return (long)o;
}

/* Decode one UTF-8 sequence at s (n bytes left); 0 or -1. */
static int
utf7_get_utf8(const unsigned char *s, size_t n, uint32_t *cp, size_t *len)
{
	uint32_t c;
	size_t need, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		*len = 1;
		return 0;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		c = s[0] & 0x1f;
		need = 1;
	} else if ((s[0] & 0xf0) == 0xe0) {
		c = s[0] & 0x0f;
		need = 2;
	} else if ((s[0] & 0xf8) == 0xf0) {
		c = s[0] & 0x07;
		need = 3;
	} else
		return -1;
	if (n < need + 1)
		return -1;
	for (i = 1; i <= need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		c = (c << 6) | (s[i] & 0x3f);
	}
	/* overlong, surrogates, out of range */
	if ((need == 1 && c < 0x80) || (need == 2 && c < 0x800) ||
	    (need == 3 && c < 0x10000) || c > 0x10ffff ||
	    (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*cp = c;
	*len = need + 1;
	return 0;
}

long
utf7_from_utf8(const char *src, size_t n, char *dst, size_t dstlen)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0, o = 0;

	if (dstlen == 0)
		return -1;
	while (i < n) {
		uint32_t cp, bits = 0;
		size_t len;
		int nbits = 0;

		if (s[i] < 0x80) {
			if (s[i] < 0x20 || s[i] == 0x7f)
				return -1;
			if (o + (s[i] == '&' ? 2 : 1) >= dstlen)
				return -1;
			dst[o++] = (char)s[i];
			if (s[i] == '&')
				dst[o++] = '-';
			i++;
			continue;
		}
		if (o + 1 >= dstlen)
			return -1;
		dst[o++] = '&';
		while (i < n && s[i] >= 0x80) {
			uint32_t u[2];
			int k, nu;

			if (utf7_get_utf8(s + i, n - i, &cp, &len) < 0)
				return -1;
			i += len;
			if (cp >= 0x10000) {
				cp -= 0x10000;
				u[0] = 0xd800 + (cp >> 10);
				u[1] = 0xdc00 + (cp & 0x3ff);
				nu = 2;
			} else {
				u[0] = cp;
				nu = 1;
			}
			for (k = 0; k < nu; k++) {
				bits = (bits << 16) | u[k];
				nbits += 16;
				while (nbits >= 6) {
					nbits -= 6;
					if (o + 1 >= dstlen)
						return -1;
					dst[o++] = utf7_b64[(bits >> nbits) &
					    0x3f];
				}
				bits &= (1u << nbits) - 1;
			}
		}
		if (nbits > 0) {
			if (o + 1 >= dstlen)
				return -1;
			dst[o++] = utf7_b64[(bits << (6 - nbits)) & 0x3f];
		}
		if (o + 1 >= dstlen)
			return -1;
		dst[o++] = '-';
	}
	dst[o] = '\0';
	return (long)o;
}

bool
utf7_valid(const char *src)
{
	char tmp[1024];
	size_t n = strlen(src);

	if (n >= sizeof(tmp) / 2)
		return false;
	/* decoded UTF-8 is at most 3/2 of... bounded: 1024 is ample for
	 * names under 512 bytes */
	return utf7_to_utf8(src, n, tmp, sizeof(tmp)) >= 0;
}
