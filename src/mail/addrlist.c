/*
 * addrlist - RFC 5322 3.4 address lists for IMAP ENVELOPE. See addrlist.h.
 *
 * Input is an untrusted header value. The parser never fails on bad
 * syntax: like Dovecot (whose ENVELOPE output clients are used to), it
 * reports what it could read with MISSING_MAILBOX / MISSING_DOMAIN /
 * SYNTAX_ERROR placeholders and stops at the first element it cannot
 * continue after. One scratch buffer per call (bounded by the value
 * size); linear in the value size. Group nesting is not allowed by the
 * RFC and is not followed.
 */
#include <stdbool.h>
#include <string.h>

#include "core/buf.h"
#include "mail/addrlist.h"

struct ap {
	const char	*s;
	size_t		 n;
	size_t		 i;
	struct buf	 tmp;
	size_t		 cmt_off;	/* last comment seen, in s */
	size_t		 cmt_len;
	bool		 have_cmt;
	bool		 broken;	/* unterminated quote or comment */
	bool		 in_group;
	bool		 empty_name;	/* emit "" rather than NIL */
	bool		 stop;		/* give up on the rest of the list */
	int		 count;
};

/* one address being built: offsets into ap.tmp, len == (size_t)-1: NIL */
struct ap_str {
	size_t	off;
	size_t	len;
};

#define AP_NIL ((size_t)-1)

static bool
ap_is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c >= 0x80)
		return true;
	switch (c) {
	case '!': case '#': case '$': case '%': case '&': case '\'':
	case '*': case '+': case '-': case '/': case '=': case '?':
	case '^': case '_': case '`': case '{': case '|': case '}':
	case '~':
		return true;
	default:
		return false;
	}
}

static void
ap_cfws(struct ap *a)
{
	while (a->i < a->n) {
		char c = a->s[a->i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			a->i++;
		} else if (c == '(') {
			int depth = 1;
			size_t start = ++a->i;

			while (a->i < a->n && depth > 0) {
				c = a->s[a->i];
				if (c == '\\' && a->i + 1 < a->n)
					a->i++;
				else if (c == '(')
					depth++;
				else if (c == ')')
					depth--;
				a->i++;
			}
			a->cmt_off = start;
			a->cmt_len = a->i - start - (depth == 0 ? 1 : 0);
			a->have_cmt = true;
			if (depth > 0)
				a->broken = true;	/* unterminated */
		} else
			break;
	}
}

static int
ap_put(struct ap *a, const char *p, size_t n)
{
	return buf_append(&a->tmp, p, n);
}

/* ap_quoted: quoted-string at a->s[a->i] == '"', unquoted into tmp */
static int
ap_quoted(struct ap *a)
{
	size_t mark = a->tmp.len;

	a->i++;
	while (a->i < a->n && a->s[a->i] != '"') {
		size_t run = a->i;
		char c;

		/* copy a run of plain characters at once */
		while (a->i < a->n && a->s[a->i] != '"' && a->s[a->i] != '\\' &&
		    a->s[a->i] != '\r' && a->s[a->i] != '\n' &&
		    a->s[a->i] != '\0')
			a->i++;
		if (ap_put(a, a->s + run, a->i - run) < 0)
			return -1;
		if (a->i >= a->n || a->s[a->i] == '"')
			break;
		c = a->s[a->i];

		if (c == '\\' && a->i + 1 < a->n) {
			a->i++;
			c = a->s[a->i];
		}
		a->i++;
		if (c == '\r' || c == '\n')
			continue;
		if (c == '\0') {
			if (ap_put(a, "\xef\xbf\xbd", 3) < 0)
				return -1;
			continue;
		}
		if (buf_putc(&a->tmp, c) < 0)
			return -1;
	}
	if (a->i >= a->n) {
		/* unterminated: the word does not count (Dovecot) */
		a->tmp.len = mark;
		if (mark > 0 && a->tmp.data[mark - 1] == ' ')
			a->tmp.len--;
		a->broken = true;
		return 0;
	}
	a->i++;
	return 0;
}

/* ap_atoms: a run of atext and '.', copied; returns bytes taken */
static size_t
ap_atoms(struct ap *a, int *err)
{
	size_t start = a->i;

	while (a->i < a->n && (ap_is_atext((unsigned char)a->s[a->i]) ||
	    a->s[a->i] == '.'))
		a->i++;
	if (ap_put(a, a->s + start, a->i - start) < 0)
		*err = -1;
	return a->i - start;
}

/*
 * ap_phrase: obs-phrase into tmp, words separated by one space and dots
 * kept, as Dovecot's rfc822_parse_phrase. CFWS before must be skipped.
 */
static int
ap_phrase(struct ap *a, struct ap_str *out)
{
	int err = 0;

	out->off = a->tmp.len;
	out->len = 0;
	if (a->i >= a->n || a->s[a->i] == '.')
		return 0;
	for (;;) {
		char c = a->s[a->i];

		if (c == '"') {
			if (ap_quoted(a) < 0)
				return -1;
		} else if (ap_atoms(a, &err) == 0)
			break;
		if (err < 0)
			return -1;
		ap_cfws(a);
		if (a->i >= a->n)
			break;
		c = a->s[a->i];
		if (!ap_is_atext((unsigned char)c) && c != '"' && c != '.')
			break;
		if (buf_putc(&a->tmp, ' ') < 0)
			return -1;
	}
	out->len = a->tmp.len - out->off;
	return 0;
}

/* ap_dot_next: go on with a dotted word list after CFWS? */
static bool
ap_dot_next(const struct ap *a, size_t mark)
{
	if (a->i >= a->n)
		return false;
	if (a->s[a->i] == '.')
		return true;
	/* the words so far ended with a dot: another word may follow */
	return a->tmp.len > mark && a->tmp.data[a->tmp.len - 1] == '.';
}

/* ap_local: local-part, word *("." word), unquoted into tmp */
static int
ap_local(struct ap *a, struct ap_str *out)
{
	int err = 0;

	out->off = a->tmp.len;
	ap_cfws(a);
	for (;;) {
		if (a->i >= a->n)
			break;
		if (a->s[a->i] == '"') {
			if (ap_quoted(a) < 0)
				return -1;
		} else if (ap_atoms(a, &err) == 0)
			break;
		if (err < 0)
			return -1;
		ap_cfws(a);
		if (!ap_dot_next(a, out->off))
			break;
	}
	out->len = a->tmp.len - out->off;
	return 0;
}

/* ap_domain: dot-atom or domain-literal (kept with brackets) into tmp */
static int
ap_domain(struct ap *a, struct ap_str *out, bool *bad)
{
	int err = 0;

	*bad = false;
	out->off = a->tmp.len;
	ap_cfws(a);
	if (a->i < a->n && a->s[a->i] == '[') {
		size_t start = a->i;

		while (a->i < a->n && a->s[a->i] != ']') {
			if (a->s[a->i] == '\\' && a->i + 1 < a->n)
				a->i++;
			a->i++;
		}
		if (a->i < a->n)
			a->i++;
		for (size_t k = start; k < a->i; k++) {
			if (a->s[k] == '\r' || a->s[k] == '\n')
				continue;
			if (buf_putc(&a->tmp, a->s[k]) < 0)
				return -1;
		}
	} else {
		for (;;) {
			if (ap_atoms(a, &err) == 0)
				break;
			if (err < 0)
				return -1;
			ap_cfws(a);
			if (!ap_dot_next(a, out->off))
				break;
		}
	}
	ap_cfws(a);
	out->len = a->tmp.len - out->off;
	if (out->len > 0 && a->tmp.data[out->off] != '[') {
		const char *d = a->tmp.data + out->off;
		size_t k;

		/* dot-atom: no empty label (Dovecot: MISSING_DOMAIN) */
		if (d[0] == '.' || d[out->len - 1] == '.')
			*bad = true;
		for (k = 1; k < out->len; k++)
			if (d[k] == '.' && d[k - 1] == '.')
				*bad = true;
	}
	return 0;
}

static int
ap_emit(struct ap *a, enum addrlist_kind kind, struct ap_str name,
    struct ap_str route, struct ap_str mbox, struct ap_str host,
    addrlist_cb *cb, void *ctx)
{
	struct addrlist_addr ad;
	const char *b = a->tmp.data != NULL ? a->tmp.data : "";

	memset(&ad, 0, sizeof(ad));
	ad.kind = kind;
	if (name.len != AP_NIL && (name.len > 0 || a->empty_name)) {
		ad.name = b + name.off;
		ad.name_len = name.len;
	}
	a->empty_name = false;
	if (route.len != AP_NIL && route.len > 0) {
		ad.route = b + route.off;
		ad.route_len = route.len;
	}
	if (kind == ADDRLIST_MAILBOX) {
		if (mbox.len == AP_NIL || mbox.len == 0) {
			ad.mailbox = "MISSING_MAILBOX";
			ad.mailbox_len = strlen(ad.mailbox);
		} else {
			ad.mailbox = b + mbox.off;
			ad.mailbox_len = mbox.len;
		}
		if (host.len == AP_NIL) {
			ad.host = "SYNTAX_ERROR";
			ad.host_len = strlen(ad.host);
		} else if (host.len == 0) {
			ad.host = "MISSING_DOMAIN";
			ad.host_len = strlen(ad.host);
		} else {
			ad.host = b + host.off;
			ad.host_len = host.len;
		}
	} else if (kind == ADDRLIST_GROUP_START) {
		ad.mailbox = b + mbox.off;
		ad.mailbox_len = mbox.len;
	}
	a->count++;
	return cb(ctx, &ad);
}

/* ap_mailbox: name-addr or addr-spec, then emit */
static int
ap_mailbox(struct ap *a, addrlist_cb *cb, void *ctx)
{
	struct ap_str name = { 0, AP_NIL }, route = { 0, AP_NIL };
	struct ap_str mbox = { 0, 0 }, host = { 0, 0 };
	size_t start = a->i;
	bool quoted, hbad = false;

	buf_reset(&a->tmp);
	a->have_cmt = false;
	ap_cfws(a);
	if (ap_phrase(a, &name) < 0)
		return -1;
	ap_cfws(a);
	if (a->i < a->n && a->s[a->i] == '<') {
		/* name-addr */
		a->i++;
		ap_cfws(a);
		if (a->i < a->n && a->s[a->i] == '@') {
			bool bad = false, dbad;

			route.off = a->tmp.len;
			while (a->i < a->n && a->s[a->i] == '@') {
				struct ap_str d;

				if (a->tmp.len > route.off &&
				    buf_putc(&a->tmp, ',') < 0)
					return -1;
				if (buf_putc(&a->tmp, '@') < 0)
					return -1;
				a->i++;
				if (ap_domain(a, &d, &dbad) < 0)
					return -1;
				if (d.len == 0 || dbad) {
					bad = true;
					break;
				}
				while (a->i < a->n && a->s[a->i] == ',') {
					a->i++;
					ap_cfws(a);
				}
			}
			if (!bad && a->i < a->n && a->s[a->i] == ':')
				a->i++;
			else
				bad = true;
			route.len = a->tmp.len - route.off;
			if (bad) {
				/* Dovecot's placeholder for a broken route */
				route.off = a->tmp.len;
				if (ap_put(a, "INVALID_ROUTE", 13) < 0)
					return -1;
				route.len = 13;
			}
		}
		if (ap_local(a, &mbox) < 0)
			return -1;
		if (a->i < a->n && a->s[a->i] == '@') {
			a->i++;
			if (ap_domain(a, &host, &hbad) < 0)
				return -1;
			if (host.len == 0) {
				hbad = true;	/* "<u@>": Dovecot stops */
				a->stop = true;
			}
		} else
			host.len = 0;
		if (a->i < a->n && a->s[a->i] == '>' && !hbad)
			a->i++;
		else
			host.len = AP_NIL;
		ap_cfws(a);
		if (a->broken)
			host.len = AP_NIL;	/* comment left open */
		return ap_emit(a, ADDRLIST_MAILBOX, name, route, mbox, host,
		    cb, ctx);
	}
	/* addr-spec: read again as local-part "@" domain */
	a->i = start;
	buf_reset(&a->tmp);
	a->have_cmt = false;
	a->broken = false;
	ap_cfws(a);
	quoted = a->i < a->n && a->s[a->i] == '"';
	a->have_cmt = false;
	if (ap_local(a, &mbox) < 0)
		return -1;
	name.len = AP_NIL;
	if (a->i < a->n && a->s[a->i] == '@') {
		a->i++;
		if (ap_domain(a, &host, &hbad) < 0)
			return -1;
		if (hbad || a->broken) {
			/* a bad domain (or a comment left open after it)
			 * loses the domain only */
			if (a->broken)
				a->have_cmt = false;
			host.len = 0;
			a->broken = false;
		}
	} else if (a->i < a->n && a->s[a->i] != ',' &&
	    !(a->in_group && a->s[a->i] == ';')) {
		/* words that are no address: Dovecot keeps the phrase as
		 * the display name of a missing mailbox, unless the phrase
		 * is just the local part (then: a mailbox, no domain) */
		a->i = start;
		ap_cfws(a);
		if (ap_phrase(a, &name) < 0)
			return -1;
		host.len = 0;
		if (name.len == mbox.len && (mbox.len == 0 ||
		    memcmp(a->tmp.data + name.off, a->tmp.data + mbox.off,
		    mbox.len) == 0) && !a->broken) {
			name.len = AP_NIL;
		} else {
			if (name.len == 0)
				name.len = AP_NIL;
			mbox.len = 0;
		}
		return ap_emit(a, ADDRLIST_MAILBOX, name, route, mbox, host,
		    cb, ctx);
	} else if (quoted && !a->have_cmt) {
		/* a lone quoted string is a display name (Dovecot), even
		 * an empty one */
		name = mbox;
		mbox.len = 0;
		a->empty_name = !a->broken;
	}
	ap_cfws(a);
	if (a->broken) {
		/* Dovecot gives up on the whole address */
		name.len = AP_NIL;
		mbox.len = 0;
		host.len = 0;
	} else if (a->have_cmt) {
		name.off = a->tmp.len;
		if (ap_put(a, a->s + a->cmt_off, a->cmt_len) < 0)
			return -1;
		name.len = a->cmt_len;
	}
	return ap_emit(a, ADDRLIST_MAILBOX, name, route, mbox, host, cb, ctx);
}

int
addrlist_parse(const char *v, size_t n, addrlist_cb *cb, void *ctx)
{
	struct ap a;
	int ret = 0;

	memset(&a, 0, sizeof(a));
	a.s = v;
	a.n = n;
	buf_init(&a.tmp, 2 * n + 64);
	for (;;) {
		size_t start;
		struct ap_str gname;
		struct ap_str nil = { 0, AP_NIL };

		ap_cfws(&a);
		if (a.i >= a.n)
			break;
		/* group: display-name ":" [mailbox-list] ";" */
		start = a.i;
		buf_reset(&a.tmp);
		if (ap_phrase(&a, &gname) < 0) {
			ret = -1;
			break;
		}
		ap_cfws(&a);
		if (gname.len > 0 && a.i < a.n && a.s[a.i] == ':') {
			a.i++;
			if (ap_emit(&a, ADDRLIST_GROUP_START, nil, nil, gname,
			    nil, cb, ctx) < 0) {
				ret = -1;
				break;
			}
			a.in_group = true;
			for (;;) {
				ap_cfws(&a);
				if (a.i >= a.n || a.s[a.i] == ';')
					break;
				if (ap_mailbox(&a, cb, ctx) < 0) {
					ret = -1;
					break;
				}
				ap_cfws(&a);
				if (a.i < a.n && a.s[a.i] == ',') {
					a.i++;
					continue;
				}
				break;
			}
			a.in_group = false;
			if (ret < 0)
				break;
			if (a.i < a.n && a.s[a.i] == ';')
				a.i++;
			if (ap_emit(&a, ADDRLIST_GROUP_END, nil, nil, nil, nil,
			    cb, ctx) < 0) {
				ret = -1;
				break;
			}
		} else {
			a.i = start;
			if (ap_mailbox(&a, cb, ctx) < 0) {
				ret = -1;
				break;
			}
		}
		ap_cfws(&a);
		if (a.stop)
			break;
		if (a.i < a.n && a.s[a.i] == ',') {
			struct ap_str none = { 0, 0 };

			a.i++;
			a.broken = false;
			ap_cfws(&a);
			if (a.i < a.n)
				continue;
			/* a comment left open in the last element still
			 * counts as an (empty) address for Dovecot */
			if (a.broken && ap_emit(&a, ADDRLIST_MAILBOX, nil, nil,
			    none, none, cb, ctx) < 0)
				ret = -1;
			break;
		}
		break;
	}
	buf_free(&a.tmp);
	return ret < 0 ? -1 : a.count;
}
