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

/*
 * match_dp: pattern p against name n by dynamic programming over suffixes
 * (O(len(p) * len(n)), no backtracking blow-up with many wildcards).
 * '*' matches anything, '%' anything but the separator '.'.
 */
static bool
match_dp(const char *p, const char *n)
{
	bool next[MSTORE_NAME_MAX * 2 + 2], cur[MSTORE_NAME_MAX * 2 + 2];
	size_t pl = strlen(p), nl = strlen(n), i, j;

	if (nl > MSTORE_NAME_MAX * 2 || pl > MSTORE_NAME_MAX * 2)
		return false;
	/* row for the empty pattern suffix */
	for (j = 0; j <= nl; j++)
		next[j] = j == nl;
	for (i = pl; i-- > 0;) {
		for (j = nl + 1; j-- > 0;) {
			if (p[i] == '*')
				cur[j] = next[j] || (j < nl && cur[j + 1]);
			else if (p[i] == '%')
				cur[j] = next[j] || (j < nl && n[j] != '.' &&
				    cur[j + 1]);
			else
				cur[j] = j < nl && p[i] == n[j] && next[j + 1];
		}
		memcpy(next, cur, (nl + 1) * sizeof(bool));
	}
	return next[0];
}

bool
imap_list_match(const char *pattern, const char *name)
{
	char pat[2 * (MSTORE_NAME_MAX + 1)];

	if (str_copy(pat, pattern, sizeof(pat)) >= sizeof(pat))
		return false;
	if (str_ieqn(pat, "INBOX", 5) && (pat[5] == '\0' || pat[5] == '.'))
		memcpy(pat, "INBOX", 5);
	return match_dp(pat, name);
}
