/*
 * str - string helpers, base64 and hex. See str.h.
 */
#include <string.h>

#include "core/str.h"

size_t
str_copy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size > 0) {
		size_t c = n < size - 1 ? n : size - 1;

		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

static int
ascii_lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

char *
str_lower(char *s)
{
	char *p;

	for (p = s; *p != '\0'; p++)
		*p = (char)ascii_lower((unsigned char)*p);
	return s;
}

bool
str_ieq(const char *a, const char *b)
{
	while (*a != '\0' && *b != '\0') {
		if (ascii_lower((unsigned char)*a) !=
		    ascii_lower((unsigned char)*b))
			return false;
		a++;
		b++;
	}
	return *a == *b;
}

bool
str_ieqn(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (ascii_lower((unsigned char)a[i]) !=
		    ascii_lower((unsigned char)b[i]))
			return false;
		if (a[i] == '\0')
			return true;
	}
	return true;
}

bool
str_iprefix(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	return strlen(s) >= n && str_ieqn(s, prefix, n);
}

char *
str_trim(char *s)
{
	size_t n;
	char *p = s;

	while (*p == ' ' || *p == '\t')
		p++;
	if (p != s)
		memmove(s, p, strlen(p) + 1);
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

bool
str_has_ctl(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return true;
	}
	return false;
}

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t
base64_encoded_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

void
base64_encode(const void *src, size_t n, char *dst)
{
	const unsigned char *s = src;
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		dst[o++] = b64chars[s[i] >> 2];
		dst[o++] = b64chars[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
		dst[o++] = b64chars[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)];
		dst[o++] = b64chars[s[i + 2] & 63];
	}
	if (i < n) {
		dst[o++] = b64chars[s[i] >> 2];
		if (i + 1 < n) {
			dst[o++] = b64chars[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
			dst[o++] = b64chars[(s[i + 1] & 15) << 2];
		} else {
			dst[o++] = b64chars[(s[i] & 3) << 4];
			dst[o++] = '=';
		}
		dst[o++] = '=';
	}
	dst[o] = '\0';
}

static int
b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static long
base64_decode_impl(const char *src, size_t n, void *dst, int lax)
{
	unsigned char *d = dst;
	unsigned acc = 0;
	int bits = 0, pad = 0;
	size_t i, o = 0, nchars = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];
		int v;

		if (lax && (c == ' ' || c == '\t' || c == '\r' || c == '\n'))
			continue;
		if (c == '=') {
			pad++;
			nchars++;
			continue;
		}
		if (pad > 0)
			return -1;	/* data after padding */
		v = b64val(c);
		if (v < 0)
			return -1;
		nchars++;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			d[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (pad > 2)
		return -1;
	if (!lax && nchars % 4 != 0)
		return -1;
	if (bits >= 6)
		return -1;	/* a lone sextet cannot encode a byte */
	return (long)o;
}

long
base64_decode(const char *src, size_t n, void *dst)
{
	return base64_decode_impl(src, n, dst, 0);
}

long
base64_decode_lax(const char *src, size_t n, void *dst)
{
	return base64_decode_impl(src, n, dst, 1);
}

void
hex_encode(const void *src, size_t n, char *dst)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = src;
	size_t i;

	for (i = 0; i < n; i++) {
		dst[2 * i] = hex[s[i] >> 4];
		dst[2 * i + 1] = hex[s[i] & 15];
	}
	dst[2 * n] = '\0';
}
