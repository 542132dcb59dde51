/*
 * charset - convert message text to UTF-8, and fold UTF-8 for
 * case-insensitive search. See charset.h.
 *
 * Input is untrusted message text in whatever charset its label claims.
 * The common charsets are converted here with tables (single pass, no
 * allocation beyond the output buffer); anything else goes through
 * iconv(3) when libc knows the name. Malformed input never fails the
 * conversion: bad bytes become U+FFFD. Charset names are limited to 64
 * bytes of [A-Za-z0-9._:-] before they reach iconv_open.
 */
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "core/str.h"
#include "mail/charset.h"

enum cs_kind {
	CS_UNKNOWN,
	CS_UTF8,
	CS_LATIN1,
	CS_LATIN9,
	CS_CP1252,
	CS_ICONV
};

static const unsigned short cs_cp1252_hi[32] = {
	0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008d, 0x017d, 0x008f,
	0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178
};

static const struct {
	const char	*name;
	enum cs_kind	 kind;
} cs_names[] = {
	{ "utf-8", CS_UTF8 }, { "utf8", CS_UTF8 },
	{ "us-ascii", CS_UTF8 }, { "ascii", CS_UTF8 },
	{ "ansi_x3.4-1968", CS_UTF8 }, { "iso646-us", CS_UTF8 },
	{ "iso-8859-1", CS_LATIN1 }, { "iso8859-1", CS_LATIN1 },
	{ "iso_8859-1", CS_LATIN1 }, { "latin1", CS_LATIN1 },
	{ "l1", CS_LATIN1 }, { "iso-ir-100", CS_LATIN1 },
	{ "iso-8859-15", CS_LATIN9 }, { "iso8859-15", CS_LATIN9 },
	{ "iso_8859-15", CS_LATIN9 }, { "latin-9", CS_LATIN9 },
	{ "latin9", CS_LATIN9 },
	{ "windows-1252", CS_CP1252 }, { "cp1252", CS_CP1252 },
	{ "x-cp1252", CS_CP1252 },
};

static enum cs_kind
cs_lookup(const char *cs, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(cs_names) / sizeof(cs_names[0]); i++) {
		if (strlen(cs_names[i].name) == n &&
		    str_ieqn(cs_names[i].name, cs, n))
			return cs_names[i].kind;
	}
	if (n == 0 || n > 64)
		return CS_UNKNOWN;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)cs[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == ':'))
			return CS_UNKNOWN;
	}
	return CS_ICONV;
}

static int
cs_put_cp(struct buf *out, unsigned cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return buf_append(out, u, n);
}

size_t
charset_utf8_valid_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, k;

	if (n == 0)
		return 0;
	if (c < 0x80)
		return 1;
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
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (k = 2; k < len; k++)
		if (s[k] < 0x80 || s[k] > 0xbf)
			return 0;
	return len;
}

/* cs_utf8: copy valid UTF-8 runs, U+FFFD for each bad byte. */
static int
cs_utf8(const char *in, size_t n, struct buf *out)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t i = 0, run = 0, l;

	while (i < n) {
		l = charset_utf8_valid_len(s + i, n - i);
		if (l > 0) {
			i += l;
			continue;
		}
		if (buf_append(out, in + run, i - run) < 0 ||
		    cs_put_cp(out, 0xfffd) < 0)
			return -1;
		i++;
		run = i;
	}
	return buf_append(out, in + run, i - run);
}

static int
cs_8bit(enum cs_kind kind, const char *in, size_t n, struct buf *out)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t i, run = 0;
	unsigned cp;

	/* worst case 3 bytes per input byte: try to reserve once (if the
	 * max forbids it, the appends below report the overflow) */
	if (n < BUF_UNLIMITED / 3) {
		int r = buf_reserve(out, n * 3);

		(void)r;
	}
	for (i = 0; i < n; i++) {
		if (s[i] < 0x80)
			continue;
		if (buf_append(out, in + run, i - run) < 0)
			return -1;
		run = i + 1;
		cp = s[i];
		if (kind == CS_CP1252 && cp < 0xa0)
			cp = cs_cp1252_hi[cp - 0x80];
		else if (kind == CS_LATIN9) {
			switch (cp) {
			case 0xa4: cp = 0x20ac; break;
			case 0xa6: cp = 0x0160; break;
			case 0xa8: cp = 0x0161; break;
			case 0xb4: cp = 0x017d; break;
			case 0xb8: cp = 0x017e; break;
			case 0xbc: cp = 0x0152; break;
			case 0xbd: cp = 0x0153; break;
			case 0xbe: cp = 0x0178; break;
			default: break;
			}
		}
		if (cs_put_cp(out, cp) < 0)
			return -1;
	}
	return buf_append(out, in + run, n - run);
}

static int
cs_iconv(const char *cs, size_t cslen, const char *in, size_t n,
    struct buf *out)
{
	char name[65], chunk[1024];
	iconv_t cd;
	char *ip = (char *)(uintptr_t)in;
	size_t il = n;
	int ret = 1;

	memcpy(name, cs, cslen);
	name[cslen] = '\0';
	cd = iconv_open("UTF-8", name);
	if (cd == (iconv_t)-1)
		return 0;
	while (il > 0) {
		char *op = chunk;
		size_t ol = sizeof(chunk);
		size_t r = iconv(cd, &ip, &il, &op, &ol);
		int e = errno;

		if (buf_append(out, chunk, sizeof(chunk) - ol) < 0) {
			ret = -1;
			break;
		}
		if (r != (size_t)-1)
			continue;
		if (e == E2BIG)
			continue;
		/* EILSEQ or EINVAL: replace one byte and go on */
		if (cs_put_cp(out, 0xfffd) < 0) {
			ret = -1;
			break;
		}
		ip++;
		il--;
		iconv(cd, NULL, NULL, NULL, NULL);
	}
	iconv_close(cd);
	return ret;
}

bool
charset_is_known(const char *cs, size_t cslen)
{
	enum cs_kind k = cs_lookup(cs, cslen);
	char name[65];
	iconv_t cd;

	if (k == CS_UNKNOWN)
		return false;
	if (k != CS_ICONV)
		return true;
	memcpy(name, cs, cslen);
	name[cslen] = '\0';
	cd = iconv_open("UTF-8", name);
	if (cd == (iconv_t)-1)
		return false;
	iconv_close(cd);
	return true;
}

int
charset_to_utf8(const char *cs, size_t cslen, const char *in, size_t n,
    struct buf *out)
{
	enum cs_kind k = cs_lookup(cs, cslen);

	switch (k) {
	case CS_UTF8:
		return cs_utf8(in, n, out) < 0 ? -1 : 1;
	case CS_LATIN1:
	case CS_LATIN9:
	case CS_CP1252:
		return cs_8bit(k, in, n, out) < 0 ? -1 : 1;
	case CS_ICONV:
		return cs_iconv(cs, cslen, in, n, out);
	case CS_UNKNOWN:
	default:
		return 0;
	}
}

/* cs_fold_cp: simple lower-case mapping of the common scripts. */
static unsigned
cs_fold_cp(unsigned cp)
{
	if (cp >= 'A' && cp <= 'Z')
		return cp + 32;
	if (cp < 0xc0)
		return cp;
	if (cp <= 0xde && cp != 0xd7)
		return cp + 32;
	if (cp >= 0x100 && cp <= 0x137 && (cp & 1) == 0)
		return cp + 1;
	if (cp >= 0x139 && cp <= 0x148 && (cp & 1) == 1)
		return cp + 1;
	if (cp >= 0x14a && cp <= 0x177 && (cp & 1) == 0)
		return cp + 1;
	if (cp == 0x178)
		return 0xff;
	if ((cp == 0x179 || cp == 0x17b || cp == 0x17d))
		return cp + 1;
	if (cp >= 0x391 && cp <= 0x3ab && cp != 0x3a2)
		return cp + 32;
	if (cp >= 0x410 && cp <= 0x42f)
		return cp + 32;
	if (cp >= 0x400 && cp <= 0x40f)
		return cp + 80;
	return cp;
}

int
charset_fold_utf8(const char *in, size_t n, struct buf *out)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t i = 0, l, run = 0;
	unsigned cp, f;

	if (buf_reserve(out, n) < 0)
		return -1;
	while (i < n) {
		if (s[i] < 0x80) {
			if (s[i] >= 'A' && s[i] <= 'Z') {
				if (buf_append(out, in + run, i - run) < 0 ||
				    buf_putc(out, (char)(s[i] + 32)) < 0)
					return -1;
				run = i + 1;
			}
			i++;
			continue;
		}
		l = charset_utf8_valid_len(s + i, n - i);
		if (l < 2) {
			i++;
			continue;
		}
		if (l == 2)
			cp = ((s[i] & 0x1fu) << 6) | (s[i + 1] & 0x3fu);
		else if (l == 3)
			cp = ((s[i] & 0x0fu) << 12) |
			    ((s[i + 1] & 0x3fu) << 6) | (s[i + 2] & 0x3fu);
		else
			cp = 0x10000;	/* no folding above the BMP */
		f = cs_fold_cp(cp);
		if (f != cp) {
			if (buf_append(out, in + run, i - run) < 0 ||
			    cs_put_cp(out, f) < 0)
				return -1;
			run = i + l;
		}
		i += l;
	}
	return buf_append(out, in + run, n - run);
}
