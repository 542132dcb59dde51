/*
 * sortkey - ESEARCH result formatting and the SORT/THREAD message keys.
 * See sortkey.h. Pure functions over bytes; inputs are untrusted header
 * values (bounded by the header iterator's limits) and parsed arguments.
 * RFC 4731, RFC 5256 2.1 and 3, RFC 5322 3.3.
 */
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "core/xmalloc.h"
#include "imap/sortkey.h"
#include "mail/addrlist.h"
#include "mail/hdr.h"

int
esearch_return_parse(const struct imap_arg *a, unsigned *opts_r)
{
	unsigned o = 0;
	size_t i;

	if (a->type != IMAP_ARG_LIST)
		return -1;
	for (i = 0; i < a->count; i++) {
		const struct imap_arg *x = &a->list[i];

		if (imap_arg_is_atom_ci(x, "MIN"))
			o |= ESR_MIN;
		else if (imap_arg_is_atom_ci(x, "MAX"))
			o |= ESR_MAX;
		else if (imap_arg_is_atom_ci(x, "COUNT"))
			o |= ESR_COUNT;
		else if (imap_arg_is_atom_ci(x, "ALL"))
			o |= ESR_ALL;
		else
			return -1;
	}
	*opts_r = o == 0 ? ESR_ALL : o;
	return 0;
}

int
seqset_compress(struct buf *out, const uint32_t *v, size_t n)
{
	size_t i = 0, j;

	while (i < n) {
		j = i;
		while (j + 1 < n && v[j + 1] == v[j] + 1)
			j++;
		if (buf_printf(out, i == 0 ? "%u" : ",%u", v[i]) < 0)
			return -1;
		if (j > i && buf_printf(out, ":%u", v[j]) < 0)
			return -1;
		i = j + 1;
	}
	return 0;
}

int
esearch_format(struct buf *out, unsigned opts, const uint32_t *v, size_t n)
{
	if ((opts & ESR_MIN) && n > 0 && buf_printf(out, " MIN %u", v[0]) < 0)
		return -1;
	if ((opts & ESR_MAX) && n > 0 &&
	    buf_printf(out, " MAX %u", v[n - 1]) < 0)
		return -1;
	if ((opts & ESR_ALL) && n > 0) {
		if (buf_puts(out, " ALL ") < 0 ||
		    seqset_compress(out, v, n) < 0)
			return -1;
	}
	if ((opts & ESR_COUNT) && buf_printf(out, " COUNT %zu", n) < 0)
		return -1;
	return 0;
}

/* --- base subject (RFC 5256 2.1) --- */

static bool
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* blob_end: s[p] == '[' starts a subj-blob ending before e: the offset
 * past "]" and its trailing WSP, or 0. */
static size_t
blob_end(const char *s, size_t p, size_t e)
{
	size_t q;

	if (p >= e || s[p] != '[')
		return 0;
	for (q = p + 1; q < e && s[q] != ']'; q++)
		if (s[q] == '[' || s[q] == '\0')
			return 0;
	if (q >= e)
		return 0;
	q++;
	while (q < e && is_wsp(s[q]))
		q++;
	return q;
}

/* leader_end: a subj-refwd leader (with blobs before it) at p: the
 * offset past its ":", or 0. */
static size_t
leader_end(const char *s, size_t p, size_t e)
{
	size_t q;

	while (p < e && s[p] == '[') {
		q = blob_end(s, p, e);
		if (q == 0)
			return 0;
		p = q;
	}
	if (p + 2 <= e && str_ieqn(s + p, "re", 2))
		p += 2;
	else if (p + 2 <= e && str_ieqn(s + p, "fw", 2)) {
		p += 2;
		if (p < e && (s[p] == 'd' || s[p] == 'D'))
			p++;
	} else
		return 0;
	while (p < e && is_wsp(s[p]))
		p++;
	if (p < e && s[p] == '[') {
		q = blob_end(s, p, e);
		if (q == 0)
			return 0;
		p = q;
	}
	if (p >= e || s[p] != ':')
		return 0;
	return p + 1;
}

int
sort_base_subject(const char *v, size_t n, struct buf *out, bool *reply_r)
{
	struct buf dec;
	char *s;
	size_t i, len, b, e, q;
	bool reply = false, changed;
	int rc = -1;

	buf_init(&dec, HDR_MAX_SIZE);
	if (hdr_decode_2047(v, n, &dec) < 0)
		goto done;
	/* (1) white space: tabs and line ends to SP, runs to one SP */
	s = dec.data;
	for (i = 0, len = 0; i < dec.len; i++) {
		char c = s[i];

		if (c == '\t' || c == '\r' || c == '\n')
			c = ' ';
		if (c == ' ' && len > 0 && s[len - 1] == ' ')
			continue;
		s[len++] = c;
	}
	b = 0;
	e = len;
	for (;;) {
		/* (2) trailers: "(fwd)" and white space */
		for (;;) {
			while (e > b && is_wsp(s[e - 1]))
				e--;
			if (e - b >= 5 && str_ieqn(s + e - 5, "(fwd)", 5)) {
				e -= 5;
				reply = true;
				continue;
			}
			break;
		}
		/* (3)-(5) leaders and blobs */
		do {
			changed = false;
			for (;;) {
				if (b < e && is_wsp(s[b])) {
					b++;
					changed = true;
					continue;
				}
				q = leader_end(s, b, e);
				if (q == 0)
					break;
				b = q;
				reply = true;
				changed = true;
			}
			q = blob_end(s, b, e);
			if (q != 0 && q < e) {
				b = q;
				changed = true;
			}
		} while (changed);
		/* (6) "[fwd: ...]" wrapper */
		if (e - b >= 6 && str_ieqn(s + b, "[fwd:", 5) &&
		    s[e - 1] == ']') {
			b += 5;
			e--;
			reply = true;
			continue;
		}
		break;
	}
	if (e > b && buf_append(out, s + b, e - b) < 0)
		goto done;
	if (reply_r != NULL)
		*reply_r = reply;
	rc = 0;
done:
	buf_free(&dec);
	return rc;
}

int
sort_strcmp(const char *a, size_t an, const char *b, size_t bn)
{
	size_t i;
	unsigned char x, y;

	for (i = 0; i < an && i < bn; i++) {
		x = (unsigned char)a[i];
		y = (unsigned char)b[i];
		if (x >= 'a' && x <= 'z')
			x -= 32;
		if (y >= 'a' && y <= 'z')
			y -= 32;
		if (x != y)
			return x < y ? -1 : 1;
	}
	if (an == bn)
		return 0;
	return an < bn ? -1 : 1;
}

/* --- sent date (RFC 5322 3.3, obsolete forms tolerated) --- */

static long long
days_from_civil(long long y, unsigned m, unsigned d)
{
	long long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

static void
skip_cfws(const char *v, size_t n, size_t *i)
{
	int depth;

	for (;;) {
		while (*i < n && (v[*i] == ' ' || v[*i] == '\t' ||
		    v[*i] == '\r' || v[*i] == '\n'))
			(*i)++;
		if (*i >= n || v[*i] != '(')
			return;
		depth = 0;
		while (*i < n) {
			if (v[*i] == '(')
				depth++;
			else if (v[*i] == ')' && --depth == 0) {
				(*i)++;
				break;
			}
			(*i)++;
		}
	}
}

static int
read_num(const char *v, size_t n, size_t *i, unsigned maxdig, int *out)
{
	unsigned nd = 0;
	int x = 0;

	while (*i < n && v[*i] >= '0' && v[*i] <= '9' && nd < maxdig) {
		x = x * 10 + (v[*i] - '0');
		(*i)++;
		nd++;
	}
	*out = x;
	return (int)nd;
}

int
sort_sent_date(const char *v, size_t n, time_t *t_r)
{
	static const char *const mon[12] = { "jan", "feb", "mar", "apr",
	    "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec" };
	static const struct {
		const char	*name;
		int		 mins;
	} zones[] = {
		{ "UT", 0 }, { "GMT", 0 }, { "Z", 0 },
		{ "EST", -300 }, { "EDT", -240 }, { "CST", -360 },
		{ "CDT", -300 }, { "MST", -420 }, { "MDT", -360 },
		{ "PST", -480 }, { "PDT", -420 },
	};
	size_t i = 0, zl, k;
	int d, m, y, hh = 0, mm = 0, ss = 0, nd, zone = 0, z;
	long long t;

	skip_cfws(v, n, &i);
	if (i + 3 < n && v[i + 3] == ',')
		i += 4;
	else if (i < n && (v[i] < '0' || v[i] > '9')) {
		/* a day name without its comma */
		while (i < n && v[i] != ' ' && v[i] != ',')
			i++;
		if (i < n && v[i] == ',')
			i++;
	}
	skip_cfws(v, n, &i);
	if (read_num(v, n, &i, 2, &d) == 0 || d < 1 || d > 31)
		return -1;
	skip_cfws(v, n, &i);
	if (i < n && v[i] == '-')
		i++;
	if (i + 3 > n)
		return -1;
	for (m = 0; m < 12; m++)
		if (str_ieqn(v + i, mon[m], 3))
			break;
	if (m == 12)
		return -1;
	i += 3;
	while (i < n && ((v[i] >= 'a' && v[i] <= 'z') ||
	    (v[i] >= 'A' && v[i] <= 'Z')))
		i++;	/* "June" */
	skip_cfws(v, n, &i);
	if (i < n && v[i] == '-')
		i++;
	nd = read_num(v, n, &i, 4, &y);
	if (nd == 2)
		y += y < 50 ? 2000 : 1900;
	else if (nd == 3)
		y += 1900;
	else if (nd != 4)
		return -1;
	skip_cfws(v, n, &i);
	if (read_num(v, n, &i, 2, &hh) > 0) {
		if (i >= n || v[i] != ':')
			return -1;
		i++;
		if (read_num(v, n, &i, 2, &mm) == 0)
			return -1;
		if (i < n && v[i] == ':') {
			i++;
			if (read_num(v, n, &i, 2, &ss) == 0)
				return -1;
		}
		if (hh > 23 || mm > 59 || ss > 60)
			return -1;
		skip_cfws(v, n, &i);
		if (i < n && (v[i] == '+' || v[i] == '-')) {
			size_t i0 = i + 1;

			if (read_num(v, n, &i0, 4, &z) == 4 && z % 100 < 60) {
				zone = (z / 100) * 60 + z % 100;
				if (v[i] == '-')
					zone = -zone;
			}
		} else {
			for (zl = 0; i + zl < n && ((v[i + zl] >= 'A' &&
			    v[i + zl] <= 'Z') || (v[i + zl] >= 'a' &&
			    v[i + zl] <= 'z')); zl++)
				;
			for (k = 0; k < sizeof(zones) / sizeof(zones[0]); k++)
				if (strlen(zones[k].name) == zl &&
				    str_ieqn(v + i, zones[k].name, zl))
					zone = zones[k].mins;
		}
	}
	t = days_from_civil(y, (unsigned)m + 1, (unsigned)d) * 86400LL +
	    hh * 3600LL + mm * 60LL + ss - zone * 60LL;
	*t_r = (time_t)t;
	return 0;
}

/* --- addresses --- */

struct addr_ctx {
	struct buf	*out;
	bool		 done;
	bool		 full;
};

static int
first_mailbox(void *ctx, const struct addrlist_addr *a)
{
	struct addr_ctx *c = ctx;

	if (a->kind != ADDRLIST_MAILBOX || a->mailbox == NULL)
		return 0;
	if (buf_append(c->out, a->mailbox, a->mailbox_len) < 0)
		c->full = true;
	c->done = true;
	return -1;
}

int
sort_addr_key(const char *v, size_t n, struct buf *out)
{
	struct addr_ctx c = { out, false, false };

	(void)addrlist_parse(v, n, first_mailbox, &c);
	return c.full ? -1 : 0;
}

/* --- SORT criteria --- */

int
sort_program_parse(const struct imap_arg *a, struct sort_program *p,
    const char **why_r)
{
	static const struct {
		const char	*name;
		enum sort_crit	 c;
	} keys[] = {
		{ "ARRIVAL", SORT_ARRIVAL }, { "CC", SORT_CC },
		{ "DATE", SORT_DATE }, { "FROM", SORT_FROM },
		{ "SIZE", SORT_SIZE }, { "SUBJECT", SORT_SUBJECT },
		{ "TO", SORT_TO },
	};
	size_t i, k;
	bool rev = false;

	memset(p, 0, sizeof(*p));
	if (a->type != IMAP_ARG_LIST || a->count == 0) {
		*why_r = "Sort criteria list expected";
		return -1;
	}
	for (i = 0; i < a->count; i++) {
		const struct imap_arg *x = &a->list[i];

		if (imap_arg_is_atom_ci(x, "REVERSE")) {
			if (rev) {
				*why_r = "REVERSE REVERSE";
				return -1;
			}
			rev = true;
			continue;
		}
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (imap_arg_is_atom_ci(x, keys[k].name))
				break;
		if (k == sizeof(keys) / sizeof(keys[0])) {
			*why_r = "Unknown sort criterion";
			return -1;
		}
		if (p->n >= SORT_CRIT_MAX) {
			*why_r = "Too many sort criteria";
			return -1;
		}
		p->crit[p->n] = keys[k].c;
		p->reverse[p->n] = rev;
		p->n++;
		rev = false;
	}
	if (rev) {
		*why_r = "REVERSE without a criterion";
		return -1;
	}
	return 0;
}
