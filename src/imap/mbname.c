/*
 * mbname - mailbox names as clients send them: INBOX case folding and
 * LIST pattern matching (RFC 3501 5.1, 6.3.8). Validation of the name
 * itself (traversal, mUTF-7) is mstore_name_check()'s job.
 */
#include <string.h>

#include "core/str.h"
#include "imap/imap_int.h"

int
imap_mbname(const struct imap_arg *a, char *dst, size_t dstlen,
    const char **why_r)
{
	if (!imap_arg_is_string(a)) {
		*why_r = "Mailbox name expected";
		return -1;
	}
	if (imap_arg_has_nul(a)) {
		*why_r = "NUL byte in mailbox name";
		return -1;
	}
	if (a->len >= dstlen || a->len > MSTORE_NAME_MAX) {
		*why_r = "Mailbox name too long";
		return -1;
	}
	memcpy(dst, a->str, a->len + 1);
	if (str_ieqn(dst, "INBOX", 5) && (dst[5] == '\0' || dst[5] == '.'))
		memcpy(dst, "INBOX", 5);
	return 0;
}

static bool
match_at(const char *p, const char *n)
{
	for (;;) {
		if (*p == '\0')
			return *n == '\0';
		if (*p == '*') {
			p++;
			for (;;) {
				if (match_at(p, n))
					return true;
				if (*n == '\0')
					return false;
				n++;
			}
		}
		if (*p == '%') {
			p++;
			for (;;) {
				if (match_at(p, n))
					return true;
				if (*n == '\0' || *n == '.')
					return false;
				n++;
			}
		}
		if (*n == '\0' || *p != *n)
			return false;
		p++;
		n++;
	}
}

bool
imap_list_match(const char *pattern, const char *name)
{
	char pat[2 * (MSTORE_NAME_MAX + 1)];
	size_t stars = 0;
	const char *q;

	/* guard against exponential backtracking: few wildcards only */
	for (q = pattern; *q != '\0'; q++)
		if (*q == '*' || *q == '%')
			stars++;
	if (stars > 10)
		return false;
	if (str_copy(pat, pattern, sizeof(pat)) >= sizeof(pat))
		return false;
	if (str_ieqn(pat, "INBOX", 5) && (pat[5] == '\0' || pat[5] == '.'))
		memcpy(pat, "INBOX", 5);
	return match_at(pat, name);
}
