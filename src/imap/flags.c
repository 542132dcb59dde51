/*
 * flags - IMAP system flags and keywords: parsing flag lists from clients
 * (STORE, APPEND) and writing them back (FETCH FLAGS, FLAGS,
 * PERMANENTFLAGS). RFC 3501 2.3.2.
 */
#include <string.h>

#include "core/str.h"
#include "imap/imap_int.h"
#include "net/conn.h"

static const struct {
	const char	*name;
	unsigned	 bit;
} sysflags[] = {
	{ "\\Seen", MBOX_F_SEEN },
	{ "\\Answered", MBOX_F_ANSWERED },
	{ "\\Flagged", MBOX_F_FLAGGED },
	{ "\\Deleted", MBOX_F_DELETED },
	{ "\\Draft", MBOX_F_DRAFT },
	{ "\\Recent", MBOX_F_RECENT },
};

bool
imap_atom_valid(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > MBOX_KEYWORD_LEN_MAX)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch <= 0x20 || ch >= 0x7f)
			return false;
		if (strchr("(){%*\"\\]", ch) != NULL)
			return false;
	}
	return true;
}

static int
one_flag(const struct imap_arg *a, unsigned *flags, const char **kw,
    size_t kwmax, size_t *nkw, const char **why_r)
{
	size_t i;

	if (a->type != IMAP_ARG_ATOM) {
		*why_r = "Flags must be atoms";
		return -1;
	}
	if (a->str[0] == '\\') {
		for (i = 0; i < sizeof(sysflags) / sizeof(sysflags[0]); i++) {
			if (!str_ieq(a->str, sysflags[i].name))
				continue;
			if (sysflags[i].bit == MBOX_F_RECENT) {
				*why_r = "\\Recent flag cannot be changed";
				return -1;
			}
			*flags |= sysflags[i].bit;
			return 0;
		}
		*why_r = "Invalid system flag";
		return -1;
	}
	if (!imap_atom_valid(a->str, a->len)) {
		*why_r = "Invalid keyword";
		return -1;
	}
	for (i = 0; i < *nkw; i++)
		if (str_ieq(kw[i], a->str))
			return 0;
	if (*nkw >= kwmax) {
		*why_r = "Too many keywords";
		return -1;
	}
	kw[(*nkw)++] = a->str;
	return 0;
}

int
imap_flags_parse(const struct imap_arg *a, unsigned *flags_r,
    const char **kw_r, size_t kwmax, size_t *nkw_r, const char **why_r)
{
	size_t i;

	*flags_r = 0;
	*nkw_r = 0;
	if (a->type != IMAP_ARG_LIST)
		return one_flag(a, flags_r, kw_r, kwmax, nkw_r, why_r);
	for (i = 0; i < a->count; i++)
		if (one_flag(&a->list[i], flags_r, kw_r, kwmax, nkw_r,
		    why_r) < 0)
			return -1;
	return 0;
}

int
imap_write_flags(struct imap_session *s, unsigned flags, uint32_t keywords)
{
	const char *const *names = NULL;
	size_t i, nkw = 0;
	bool first = true;

	if (s->mb != NULL)
		nkw = mbox_keywords(s->mb, &names);
	conn_write(s->c, "(", 1);
	for (i = 0; i < sizeof(sysflags) / sizeof(sysflags[0]); i++) {
		if ((flags & sysflags[i].bit) == 0)
			continue;
		if (!first)
			conn_write(s->c, " ", 1);
		conn_puts(s->c, sysflags[i].name);
		first = false;
	}
	for (i = 0; i < nkw && i < 32; i++) {
		/* NULL: an index Dovecot left unused */
		if ((keywords & (1u << i)) == 0 || names[i] == NULL)
			continue;
		if (!first)
			conn_write(s->c, " ", 1);
		conn_puts(s->c, names[i]);
		first = false;
	}
	return conn_write(s->c, ")", 1);
}

int
imap_send_flags_lists(struct imap_session *s)
{
	const char *const *names = NULL;
	size_t i, nkw;

	nkw = mbox_keywords(s->mb, &names);
	conn_puts(s->c, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen "
	    "\\Draft");
	for (i = 0; i < nkw; i++) {
		if (names[i] == NULL)
			continue;
		conn_write(s->c, " ", 1);
		conn_puts(s->c, names[i]);
	}
	conn_puts(s->c, ")\r\n");
	if (mbox_readonly(s->mb))
		return conn_puts(s->c, "* OK [PERMANENTFLAGS ()] "
		    "Read-only mailbox\r\n");
	conn_puts(s->c, "* OK [PERMANENTFLAGS (\\Answered \\Flagged "
	    "\\Deleted \\Seen \\Draft");
	for (i = 0; i < nkw; i++) {
		if (names[i] == NULL)
			continue;
		conn_write(s->c, " ", 1);
		conn_puts(s->c, names[i]);
	}
	if (nkw < MBOX_KEYWORDS_MAX)
		conn_puts(s->c, " \\*");
	return conn_puts(s->c, ")] Flags permitted\r\n");
}
