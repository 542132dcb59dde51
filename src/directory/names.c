/*
 * names - what the directory accepts as a domain, a mailbox address or an
 * alias, and the lower-case form it stores and looks up.
 *
 * Input: names typed by an administrator (CLI, admin page) or addresses
 * from SMTP sessions (untrusted). Pure functions, no database.
 *
 * Rules, kept close to ISPmail's columns and to what a Maildir path can
 * hold (the store builds <mail_root>/<domain>/<local>/Maildir):
 *  - domain: dot-separated labels of letters, digits and '-' (not at a
 *    label's ends) or UTF-8 (IDN U-labels), 1-63 bytes each; lower-cased;
 *    at most 50 characters (virtual_domains.name is varchar(50)).
 *  - mailbox local part: 1-64 bytes of printable ASCII or UTF-8, without
 *    space, '/', '@', '%', '!' or ','; not "." or ".."; quotes, ';' and
 *    backslashes are fine (they are data, never SQL: every query is a
 *    prepared statement). The whole address is at most 100 characters
 *    (virtual_users.email is varchar(100)).
 */
#include <stdint.h>
#include <string.h>

#include "core/str.h"
#include "directory/dir.h"
#include "directory/dir_int.h"

#define NAMES_LOCAL_MAX	64
#define NAMES_DOMAIN_MAX 255

size_t
dir_utf8_chars(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;

	while (*p != '\0') {
		uint32_t cp;
		int more, i;

		if (*p < 0x80) {
			p++;
			n++;
			continue;
		}
		if (*p >= 0xc2 && *p <= 0xdf) {
			more = 1;
			cp = *p & 0x1f;
		} else if (*p >= 0xe0 && *p <= 0xef) {
			more = 2;
			cp = *p & 0x0f;
		} else if (*p >= 0xf0 && *p <= 0xf4) {
			more = 3;
			cp = *p & 0x07;
		} else {
			return SIZE_MAX;
		}
		for (i = 1; i <= more; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return SIZE_MAX;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((more == 2 && cp < 0x800) || (more == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return SIZE_MAX;
		p += more + 1;
		n++;
	}
	return n;
}

/* names_domain: check and lower-case a domain of at most maxchars */
static int
names_domain(const char *in, char *dst, size_t dstlen, size_t maxchars,
    const char **why_r)
{
	size_t len = strlen(in), i, label = 0;
	size_t chars;

	if (len == 0) {
		*why_r = "empty domain";
		return -1;
	}
	if (len > NAMES_DOMAIN_MAX || len >= dstlen) {
		*why_r = "domain too long";
		return -1;
	}
	chars = dir_utf8_chars(in);
	if (chars == SIZE_MAX) {
		*why_r = "domain is not valid UTF-8";
		return -1;
	}
	if (chars > maxchars) {
		*why_r = maxchars == DIR_DOMAIN_CHARS ?
		    "domain longer than 50 characters (ISPmail's "
		    "virtual_domains.name)" : "domain too long";
		return -1;
	}
	for (i = 0; i <= len; i++) {
		unsigned char ch = (unsigned char)in[i];

		if (ch == '.' || ch == '\0') {
			if (label == 0) {
				*why_r = "empty label in domain";
				return -1;
			}
			if (in[i - 1] == '-') {
				*why_r = "domain label ends with '-'";
				return -1;
			}
			label = 0;
			continue;
		}
		if (label == 0 && ch == '-') {
			*why_r = "domain label starts with '-'";
			return -1;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch >= 0x80)) {
			*why_r = "invalid character in domain";
			return -1;
		}
		if (++label > 63) {
			*why_r = "domain label longer than 63 bytes";
			return -1;
		}
	}
	memcpy(dst, in, len + 1);
	str_lower(dst);
	return 0;
}

int
dir_norm_domain(const char *in, char *dst, size_t dstlen, const char **why_r)
{
	return names_domain(in, dst, dstlen, DIR_DOMAIN_CHARS, why_r);
}

/* names_local: a mailbox local part we store */
static int
names_local(const char *in, size_t len, const char **why_r)
{
	size_t i;

	if (len == 0) {
		*why_r = "empty local part";
		return -1;
	}
	if (len > NAMES_LOCAL_MAX) {
		*why_r = "local part longer than 64 bytes";
		return -1;
	}
	if ((len == 1 && in[0] == '.') ||
	    (len == 2 && in[0] == '.' && in[1] == '.')) {
		*why_r = "local part cannot be \".\" or \"..\"";
		return -1;
	}
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)in[i];

		if (ch <= 0x20 || ch == 0x7f) {
			*why_r = "space or control character in address";
			return -1;
		}
		if (ch == '/' || ch == '@' || ch == '%' || ch == '!' ||
		    ch == ',') {
			*why_r = "address contains '/', '@', '%', '!' or ','";
			return -1;
		}
	}
	return 0;
}

int
dir_norm_email(const char *in, char *dst, size_t dstlen, const char **why_r)
{
	const char *at = strrchr(in, '@');
	size_t llen, chars;

	if (at == NULL) {
		*why_r = "expected user@domain";
		return -1;
	}
	llen = (size_t)(at - in);
	if (strlen(in) >= dstlen || strlen(in) > DIR_ADDR_MAX) {
		*why_r = "address too long";
		return -1;
	}
	chars = dir_utf8_chars(in);
	if (chars == SIZE_MAX) {
		*why_r = "address is not valid UTF-8";
		return -1;
	}
	if (names_local(in, llen, why_r) < 0)
		return -1;
	if (names_domain(at + 1, dst + llen + 1, dstlen - llen - 1,
	    DIR_DOMAIN_CHARS, why_r) < 0)
		return -1;
	if (chars > DIR_EMAIL_CHARS) {
		*why_r = "address longer than 100 characters (ISPmail's "
		    "virtual_users.email)";
		return -1;
	}
	memcpy(dst, in, llen);
	dst[llen] = '@';
	str_lower(dst);
	return 0;
}

int
dir_norm_lookup(const char *in, char *dst, size_t dstlen)
{
	size_t len = strlen(in);

	if (len == 0 || len >= dstlen || len > DIR_ADDR_MAX)
		return -1;
	memcpy(dst, in, len + 1);
	str_lower(dst);
	return 0;
}

const char *
dir_domain_of(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at != NULL ? at + 1 : NULL;
}

/* dir_norm_dest: an alias destination: any address, kept as given
 * (remote local parts may be case-sensitive), at most 100 characters. */
int
dir_norm_dest(const char *in, char *dst, size_t dstlen, const char **why_r)
{
	const char *at = strrchr(in, '@');
	char dom[NAMES_DOMAIN_MAX + 1];
	size_t chars;

	if (at == NULL || at == in) {
		*why_r = "expected user@domain";
		return -1;
	}
	if (strlen(in) >= dstlen || strlen(in) > DIR_ADDR_MAX) {
		*why_r = "address too long";
		return -1;
	}
	chars = dir_utf8_chars(in);
	if (chars == SIZE_MAX) {
		*why_r = "address is not valid UTF-8";
		return -1;
	}
	if (chars > DIR_EMAIL_CHARS) {
		*why_r = "address longer than 100 characters (ISPmail's "
		    "virtual_aliases.destination)";
		return -1;
	}
	if (names_local(in, (size_t)(at - in), why_r) < 0)
		return -1;
	if (names_domain(at + 1, dom, sizeof(dom), NAMES_DOMAIN_MAX,
	    why_r) < 0)
		return -1;
	memcpy(dst, in, strlen(in) + 1);
	return 0;
}
