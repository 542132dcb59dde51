/*
 * psl - organizational domains (RFC 7489 3.2) from the public suffix
 * list, as Debian's publicsuffix package ships it:
 * /usr/share/publicsuffix/public_suffix_list.dat (ICANN and private
 * sections both count). Rules in Unicode (IDN TLDs) never match the
 * A-labels mail uses; such names fall back to the "*" rule.
 */
#ifndef MAILAUTH_PSL_H
#define MAILAUTH_PSL_H

#include <stddef.h>

#define PSL_DEFAULT_PATH "/usr/share/publicsuffix/public_suffix_list.dat"

/*
 * psl_load: read the list from path (NULL: PSL_DEFAULT_PATH), replacing
 * any list loaded before. Call before threads start (the worker, tests);
 * otherwise the first psl_org_domain() loads the default list once.
 * 0, or -1 (the "*" rule alone is used then: org = last two labels).
 */
int psl_load(const char *path);

/*
 * psl_org_domain: the organizational domain of domain (lower-cased,
 * without a trailing dot) into out. A public suffix itself is its own
 * organizational domain. 0, or -1 for an empty/too long name.
 */
int psl_org_domain(const char *domain, char *out, size_t outlen);

#endif
