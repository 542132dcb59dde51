/*
 * search - IMAP SEARCH keys: parser and evaluator. See search.h.
 *
 * Input is untrusted: nesting (SEARCH_DEPTH_MAX) and the number of keys
 * (SEARCH_KEYS_MAX) are capped; strings come from the command parser and
 * are already bounded by its literal limit. Message text is decoded into
 * buffers with ceilings (SEARCH_TEXT_MAX); past them the raw bytes are
 * searched instead. RFC 3501 6.4.4, RFC 2047, RFC 2045.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/str.h"
#include "core/strnum.h"
#include "core/xmalloc.h"
#include "imap/imap_int.h"
#include "imap/search.h"
#include "imap/seqset.h"
#include "mail/charset.h"
#include "mail/hdr.h"
#include "mail/mime.h"

#define SEARCH_TEXT_MAX	(32 * 1024 * 1024)
#define SEARCH_HDR_MAX	(256 * 1024)

enum sk {
	SK_ALL = 0,
	SK_AND,
	SK_OR,
	SK_NOT,
	SK_FLAG,	/* flag bit, want */
	SK_NEW,
	SK_OLD,
	SK_KEYWORD,	/* want */
	SK_SEQ,
	SK_UID,
	SK_LARGER,
	SK_SMALLER,
	SK_BEFORE,
	SK_ON,
	SK_SINCE,
	SK_SENTBEFORE,
	SK_SENTON,
	SK_SENTSINCE,
	SK_HEADER,	/* field s1, needle s2 */
	SK_BODY,
	SK_TEXT
};

struct search_key {
	enum sk			 type;
	unsigned		 flag;
	bool			 want;
	char			*s1;
	char			*s2;	/* folded needle */
	size_t			 l2;
	uint64_t		 num;
	time_t			 day;
	struct seqset		 set;
	long			 kwidx;	/* -1: unknown keyword */
	struct search_key	**kids;
	size_t			 nkids;
};

struct pstate {
	const char	*why;
	size_t		 nkeys;
};

static struct search_key *parse_key(const struct imap_arg *a, size_t n,
    size_t *i, unsigned depth, struct pstate *ps);

static struct search_key *
key_new(enum sk type)
{
	struct search_key *k = xcalloc(1, sizeof(*k));

	k->type = type;
	k->kwidx = -1;
	return k;
}

void
search_free(struct search_key **kp)
{
	struct search_key *k = *kp;
	size_t i;

	if (k == NULL)
		return;
	for (i = 0; i < k->nkids; i++)
		search_free(&k->kids[i]);
	free(k->kids);
	free(k->s1);
	free(k->s2);
	seqset_free(&k->set);
	free(k);
	*kp = NULL;
}

static void
add_kid(struct search_key *k, struct search_key *kid)
{
	k->kids = xreallocarray(k->kids, k->nkids + 1, sizeof(*k->kids));
	k->kids[k->nkids++] = kid;
}

int
search_charset(const struct imap_arg *args, size_t n)
{
	if (n < 1 || !imap_arg_is_atom_ci(&args[0], "CHARSET"))
		return 0;
	if (n < 2 || !imap_arg_is_string(&args[1]))
		return -1;
	if (str_ieq(args[1].str, "UTF-8") || str_ieq(args[1].str, "US-ASCII"))
		return 2;
	return -1;
}

/* fold_needle: case-folded copy for substring matching. */
static char *
fold_needle(const char *s, size_t n, size_t *len_r)
{
	struct buf b;

	buf_init(&b, 4 * n + 16);
	if (charset_fold_utf8(s, n, &b) < 0) {
		buf_reset(&b);
		if (buf_append(&b, s, n) < 0)
			b.len = 0;
	}
	return buf_steal(&b, len_r);
}

static const struct imap_arg *
next_arg(const struct imap_arg *a, size_t n, size_t *i, struct pstate *ps,
    const char *what)
{
	if (*i >= n) {
		ps->why = what;
		return NULL;
	}
	return &a[(*i)++];
}

static const struct imap_arg *
next_string(const struct imap_arg *a, size_t n, size_t *i, struct pstate *ps)
{
	const struct imap_arg *x = next_arg(a, n, i, ps,
	    "Missing search string");

	if (x != NULL && !imap_arg_is_string(x)) {
		ps->why = "Search string expected";
		return NULL;
	}
	return x;
}

static struct search_key *
string_key(enum sk type, const char *field, const struct imap_arg *x)
{
	struct search_key *k = key_new(type);

	if (field != NULL)
		k->s1 = xstrdup(field);
	k->s2 = fold_needle(x->str, x->len, &k->l2);
	return k;
}

static const struct {
	const char	*name;
	unsigned	 flag;
	bool		 want;
} flagkeys[] = {
	{ "ANSWERED", MBOX_F_ANSWERED, true },
	{ "DELETED", MBOX_F_DELETED, true },
	{ "DRAFT", MBOX_F_DRAFT, true },
	{ "FLAGGED", MBOX_F_FLAGGED, true },
	{ "RECENT", MBOX_F_RECENT, true },
	{ "SEEN", MBOX_F_SEEN, true },
	{ "UNANSWERED", MBOX_F_ANSWERED, false },
	{ "UNDELETED", MBOX_F_DELETED, false },
	{ "UNDRAFT", MBOX_F_DRAFT, false },
	{ "UNFLAGGED", MBOX_F_FLAGGED, false },
	{ "UNSEEN", MBOX_F_SEEN, false },
};

static const struct {
	const char	*name;
	enum sk		 type;
} datekeys[] = {
	{ "BEFORE", SK_BEFORE },
	{ "ON", SK_ON },
	{ "SINCE", SK_SINCE },
	{ "SENTBEFORE", SK_SENTBEFORE },
	{ "SENTON", SK_SENTON },
	{ "SENTSINCE", SK_SENTSINCE },
};

static const struct {
	const char	*name;
	const char	*field;
} hdrkeys[] = {
	{ "BCC", "Bcc" },
	{ "CC", "Cc" },
	{ "FROM", "From" },
	{ "SUBJECT", "Subject" },
	{ "TO", "To" },
};

static struct search_key *
parse_list(const struct imap_arg *a, size_t n, unsigned depth,
    struct pstate *ps)
{
	struct search_key *k, *kid;
	size_t i = 0;

	if (n == 0) {
		ps->why = "Empty search list";
		return NULL;
	}
	k = key_new(SK_AND);
	while (i < n) {
		kid = parse_key(a, n, &i, depth + 1, ps);
		if (kid == NULL) {
			search_free(&k);
			return NULL;
		}
		add_kid(k, kid);
	}
	return k;
}

static struct search_key *
parse_key(const struct imap_arg *a, size_t n, size_t *i, unsigned depth,
    struct pstate *ps)
{
	const struct imap_arg *x, *y;
	struct search_key *k, *k1, *k2;
	const char *w;
	size_t j;

	if (depth > SEARCH_DEPTH_MAX) {
		ps->why = "Search program too deep";
		return NULL;
	}
	if (++ps->nkeys > SEARCH_KEYS_MAX) {
		ps->why = "Search program too long";
		return NULL;
	}
	x = next_arg(a, n, i, ps, "Missing search key");
	if (x == NULL)
		return NULL;
	if (x->type == IMAP_ARG_LIST)
		return parse_list(x->list, x->count, depth, ps);
	if (x->type != IMAP_ARG_ATOM) {
		ps->why = "Search key expected";
		return NULL;
	}
	w = x->str;
	if ((w[0] >= '0' && w[0] <= '9') || w[0] == '*') {
		k = key_new(SK_SEQ);
		if (seqset_parse(w, &k->set) < 0) {
			search_free(&k);
			ps->why = "Invalid sequence set";
			return NULL;
		}
		return k;
	}
	if (str_ieq(w, "ALL"))
		return key_new(SK_ALL);
	if (str_ieq(w, "NEW"))
		return key_new(SK_NEW);
	if (str_ieq(w, "OLD"))
		return key_new(SK_OLD);
	for (j = 0; j < sizeof(flagkeys) / sizeof(flagkeys[0]); j++) {
		if (str_ieq(w, flagkeys[j].name)) {
			k = key_new(SK_FLAG);
			k->flag = flagkeys[j].flag;
			k->want = flagkeys[j].want;
			return k;
		}
	}
	for (j = 0; j < sizeof(datekeys) / sizeof(datekeys[0]); j++) {
		if (!str_ieq(w, datekeys[j].name))
			continue;
		y = next_string(a, n, i, ps);
		if (y == NULL)
			return NULL;
		k = key_new(datekeys[j].type);
		if (imap_date_parse(y->str, &k->day) < 0) {
			search_free(&k);
			ps->why = "Invalid search date";
			return NULL;
		}
		return k;
	}
	for (j = 0; j < sizeof(hdrkeys) / sizeof(hdrkeys[0]); j++) {
		if (!str_ieq(w, hdrkeys[j].name))
			continue;
		y = next_string(a, n, i, ps);
		if (y == NULL)
			return NULL;
		return string_key(SK_HEADER, hdrkeys[j].field, y);
	}
	if (str_ieq(w, "HEADER")) {
		x = next_string(a, n, i, ps);
		if (x == NULL)
			return NULL;
		y = next_string(a, n, i, ps);
		if (y == NULL)
			return NULL;
		if (x->len == 0 || memchr(x->str, ':', x->len) != NULL ||
		    str_has_ctl(x->str, x->len) || x->len > 256) {
			ps->why = "Invalid header field name";
			return NULL;
		}
		return string_key(SK_HEADER, x->str, y);
	}
	if (str_ieq(w, "BODY") || str_ieq(w, "TEXT")) {
		y = next_string(a, n, i, ps);
		if (y == NULL)
			return NULL;
		return string_key(str_ieq(w, "BODY") ? SK_BODY : SK_TEXT,
		    NULL, y);
	}
	if (str_ieq(w, "KEYWORD") || str_ieq(w, "UNKEYWORD")) {
		y = next_arg(a, n, i, ps, "Missing keyword");
		if (y == NULL)
			return NULL;
		if (y->type != IMAP_ARG_ATOM || y->len > 256) {
			ps->why = "Invalid keyword";
			return NULL;
		}
		k = key_new(SK_KEYWORD);
		k->s1 = xstrdup(y->str);
		k->want = str_ieq(w, "KEYWORD");
		return k;
	}
	if (str_ieq(w, "LARGER") || str_ieq(w, "SMALLER")) {
		y = next_arg(a, n, i, ps, "Missing size");
		if (y == NULL)
			return NULL;
		k = key_new(str_ieq(w, "LARGER") ? SK_LARGER : SK_SMALLER);
		if (y->type != IMAP_ARG_ATOM ||
		    str_to_u64(y->str, &k->num) < 0) {
			search_free(&k);
			ps->why = "Invalid size";
			return NULL;
		}
		return k;
	}
	if (str_ieq(w, "UID")) {
		y = next_arg(a, n, i, ps, "Missing UID set");
		if (y == NULL)
			return NULL;
		k = key_new(SK_UID);
		if (y->type != IMAP_ARG_ATOM ||
		    seqset_parse(y->str, &k->set) < 0) {
			search_free(&k);
			ps->why = "Invalid UID set";
			return NULL;
		}
		return k;
	}
	if (str_ieq(w, "NOT")) {
		k1 = parse_key(a, n, i, depth + 1, ps);
		if (k1 == NULL)
			return NULL;
		k = key_new(SK_NOT);
		add_kid(k, k1);
		return k;
	}
	if (str_ieq(w, "OR")) {
		k1 = parse_key(a, n, i, depth + 1, ps);
		if (k1 == NULL)
			return NULL;
		k2 = parse_key(a, n, i, depth + 1, ps);
		if (k2 == NULL) {
			search_free(&k1);
			return NULL;
		}
		k = key_new(SK_OR);
		add_kid(k, k1);
		add_kid(k, k2);
		return k;
	}
	ps->why = "Unknown search key";
	return NULL;
}

struct search_key *
search_parse(const struct imap_arg *args, size_t n, const char **why_r)
{
	struct pstate ps = { NULL, 0 };
	struct search_key *k;

	k = parse_list(args, n, 0, &ps);
	if (k == NULL)
		*why_r = ps.why != NULL ? ps.why : "Invalid search program";
	return k;
}

void
search_prepare(struct search_key *k, uint32_t max_seq, uint32_t max_uid,
    int (*kw_index)(void *ctx, const char *name, unsigned *idx_r),
    void *ctx)
{
	unsigned idx;
	size_t i;

	switch (k->type) {
	case SK_SEQ:
		seqset_resolve(&k->set, max_seq);
		break;
	case SK_UID:
		seqset_resolve(&k->set, max_uid);
		break;
	case SK_KEYWORD:
		k->kwidx = -1;
		if (kw_index != NULL && kw_index(ctx, k->s1, &idx) == 1 &&
		    idx < 32)
			k->kwidx = (long)idx;
		break;
	default:
		break;
	}
	for (i = 0; i < k->nkids; i++)
		search_prepare(k->kids[i], max_seq, max_uid, kw_index, ctx);
}

bool
search_needs_text(const struct search_key *k)
{
	size_t i;

	switch (k->type) {
	case SK_SENTBEFORE:
	case SK_SENTON:
	case SK_SENTSINCE:
	case SK_HEADER:
	case SK_BODY:
	case SK_TEXT:
		return true;
	default:
		break;
	}
	for (i = 0; i < k->nkids; i++)
		if (search_needs_text(k->kids[i]))
			return true;
	return false;
}

unsigned
search_needs(const struct search_key *k)
{
	unsigned r = 0;
	size_t i;

	switch (k->type) {
	case SK_BEFORE:
	case SK_ON:
	case SK_SINCE:
		r |= SEARCH_NEED_DATE;
		break;
	case SK_LARGER:
	case SK_SMALLER:
		r |= SEARCH_NEED_SIZE;
		break;
	default:
		break;
	}
	if (search_needs_text(k))
		r |= SEARCH_NEED_TEXT;
	for (i = 0; i < k->nkids; i++)
		r |= search_needs(k->kids[i]);
	return r;
}

static long long
civil_days(int y, int m, int d)
{
	long long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* day_of: midnight UTC of t's calendar day in the local zone (the zone
 * INTERNALDATE is shown in). */
static time_t
day_of(time_t t)
{
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL)
		return t - t % 86400;
	return (time_t)(civil_days(tm.tm_year + 1900, tm.tm_mon + 1,
	    tm.tm_mday) * 86400LL);
}

int
search_rfc5322_date(const char *v, size_t n, time_t *day_r)
{
	static const char *const mon[12] = { "jan", "feb", "mar", "apr",
	    "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec" };
	size_t i = 0;
	int d = 0, m, y = 0, nd = 0;

	/* optional "Day," */
	while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == '\r' ||
	    v[i] == '\n'))
		i++;
	if (i + 4 <= n && v[i + 3] == ',')
		i += 4;
	while (i < n && (v[i] == ' ' || v[i] == '\t'))
		i++;
	while (i < n && v[i] >= '0' && v[i] <= '9' && nd < 2) {
		d = d * 10 + (v[i++] - '0');
		nd++;
	}
	if (nd == 0 || d < 1 || d > 31)
		return -1;
	while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == '-'))
		i++;
	if (i + 3 > n)
		return -1;
	for (m = 0; m < 12; m++)
		if (str_ieqn(v + i, mon[m], 3))
			break;
	if (m == 12)
		return -1;
	i += 3;
	while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == '-'))
		i++;
	nd = 0;
	while (i < n && v[i] >= '0' && v[i] <= '9' && nd < 4) {
		y = y * 10 + (v[i++] - '0');
		nd++;
	}
	if (nd == 2)
		y += y < 50 ? 2000 : 1900;
	else if (nd == 3)
		y += 1900;
	else if (nd != 4)
		return -1;
	*day_r = (time_t)(civil_days(y, m + 1, d) * 86400LL);
	return 0;
}

/* contains: needle (already folded) in the folded text. */
static bool
contains(const char *hay, size_t n, const char *needle, size_t nl)
{
	if (nl == 0)
		return true;
	return memmem(hay, n, needle, nl) != NULL;
}

static bool
folded_contains(const char *text, size_t n, const char *needle, size_t nl)
{
	struct buf f;
	bool r;

	if (nl == 0)
		return true;
	buf_init(&f, SEARCH_TEXT_MAX);
	if (charset_fold_utf8(text, n, &f) < 0) {
		/* too big to fold: plain search of the raw text */
		buf_free(&f);
		return memmem(text, n, needle, nl) != NULL;
	}
	r = contains(f.data != NULL ? f.data : "", f.len, needle, nl);
	buf_free(&f);
	return r;
}

static bool
match_header(const struct search_key *k, const char *msg, size_t len)
{
	struct hdr_iter it;
	struct hdr_field f;
	struct buf v;
	bool r = false;

	hdr_iter_init(&it, msg, len);
	buf_init(&v, SEARCH_HDR_MAX);
	while (!r && hdr_iter_next(&it, &f) == 1) {
		if (!hdr_name_is(&f, k->s1))
			continue;
		buf_reset(&v);
		if (hdr_decode_2047(f.value, f.value_len, &v) < 0) {
			buf_reset(&v);
			if (buf_append(&v, f.value, f.value_len > 65536 ?
			    65536 : f.value_len) < 0)
				continue;
		}
		r = folded_contains(v.data != NULL ? v.data : "", v.len,
		    k->s2, k->l2);
	}
	buf_free(&v);
	return r;
}

static size_t
qp_decode(const char *in, size_t n, char *out)
{
	size_t i = 0, o = 0;
	int h1, h2;

	while (i < n) {
		if (in[i] != '=') {
			out[o++] = in[i++];
			continue;
		}
		if (i + 1 < n && in[i + 1] == '\n') {
			i += 2;
			continue;
		}
		if (i + 2 < n && in[i + 1] == '\r' && in[i + 2] == '\n') {
			i += 3;
			continue;
		}
		if (i + 2 < n) {
			h1 = (in[i + 1] >= '0' && in[i + 1] <= '9') ?
			    in[i + 1] - '0' : (in[i + 1] | 0x20) >= 'a' &&
			    (in[i + 1] | 0x20) <= 'f' ?
			    (in[i + 1] | 0x20) - 'a' + 10 : -1;
			h2 = (in[i + 2] >= '0' && in[i + 2] <= '9') ?
			    in[i + 2] - '0' : (in[i + 2] | 0x20) >= 'a' &&
			    (in[i + 2] | 0x20) <= 'f' ?
			    (in[i + 2] | 0x20) - 'a' + 10 : -1;
			if (h1 >= 0 && h2 >= 0) {
				out[o++] = (char)(h1 * 16 + h2);
				i += 3;
				continue;
			}
		}
		out[o++] = in[i++];
	}
	return o;
}

/* part_text_contains: decoded, charset-converted text of a leaf part. */
static bool
part_text_contains(const struct mime_tree *t, const struct mime_part *p,
    const char *needle, size_t nl)
{
	const char *body = t->msg + p->body_off, *cs;
	size_t blen = p->body_size, cslen = 0;
	char *dec = NULL;
	long dl;
	struct buf u;
	bool r;

	if (mime_str_is(t, p->cte, "base64")) {
		dec = malloc(blen / 4 * 3 + 4);
		if (dec == NULL)
			return false;
		dl = base64_decode_lax(body, blen, dec);
		if (dl >= 0) {
			body = dec;
			blen = (size_t)dl;
		}
	} else if (mime_str_is(t, p->cte, "quoted-printable")) {
		dec = malloc(blen + 1);
		if (dec == NULL)
			return false;
		blen = qp_decode(body, blen, dec);
		body = dec;
	}
	if (mime_param_get(t, p, false, "charset", &cs, &cslen) == 1 &&
	    cslen > 0 && !(cslen == 5 && str_ieqn(cs, "utf-8", 5))) {
		buf_init(&u, SEARCH_TEXT_MAX);
		if (charset_to_utf8(cs, cslen, body, blen, &u) == 1) {
			r = folded_contains(u.data != NULL ? u.data : "",
			    u.len, needle, nl);
			buf_free(&u);
			free(dec);
			return r;
		}
		buf_free(&u);
	}
	r = folded_contains(body, blen, needle, nl);
	free(dec);
	return r;
}

static bool
match_body(const struct search_key *k, const char *msg, size_t len,
    bool text)
{
	struct mime_tree t;
	const struct mime_part *p;
	size_t hdr_end;
	unsigned i;
	bool r = false;

	if (k->l2 == 0)
		return true;
	if (text) {
		hdr_end = hdr_body_offset(msg, len, NULL);
		if (folded_contains(msg, hdr_end, k->s2, k->l2))
			return true;
	}
	mime_tree_init(&t);
	(void)mime_parse(&t, msg, len);
	for (i = 0; i < t.nparts && !r; i++) {
		p = &t.parts[i];
		if (p->flags & (MIME_F_MULTIPART | MIME_F_RFC822))
			continue;
		if (p->type.off != MIME_NIL && !mime_str_is(&t, p->type,
		    "text") && !mime_str_is(&t, p->type, "message"))
			continue;
		if (p->body_off > len || p->body_size > len - p->body_off)
			continue;
		r = part_text_contains(&t, p, k->s2, k->l2);
	}
	mime_tree_free(&t);
	return r;
}

static bool
sent_day(const struct search_msg *m, time_t *day_r)
{
	struct hdr_field f;

	if (m->data == NULL || hdr_find(m->data, m->len, "Date", &f) != 1)
		return false;
	return search_rfc5322_date(f.value, f.value_len, day_r) == 0;
}

int
search_match(const struct search_key *k, const struct search_msg *m)
{
	time_t day;
	size_t i;

	switch (k->type) {
	case SK_ALL:
		return 1;
	case SK_AND:
		for (i = 0; i < k->nkids; i++)
			if (!search_match(k->kids[i], m))
				return 0;
		return 1;
	case SK_OR:
		return search_match(k->kids[0], m) ||
		    search_match(k->kids[1], m);
	case SK_NOT:
		return !search_match(k->kids[0], m);
	case SK_FLAG:
		return ((m->flags & k->flag) != 0) == k->want;
	case SK_NEW:
		return (m->flags & MBOX_F_RECENT) &&
		    !(m->flags & MBOX_F_SEEN);
	case SK_OLD:
		return !(m->flags & MBOX_F_RECENT);
	case SK_KEYWORD:
		if (k->kwidx < 0)
			return !k->want;
		return ((m->keywords >> k->kwidx) & 1) == (k->want ? 1u : 0u);
	case SK_SEQ:
		return seqset_contains(&k->set, m->seq);
	case SK_UID:
		return seqset_contains(&k->set, m->uid);
	case SK_LARGER:
		return m->size > k->num;
	case SK_SMALLER:
		return m->size < k->num;
	case SK_BEFORE:
		return day_of(m->internaldate) < k->day;
	case SK_ON:
		return day_of(m->internaldate) == k->day;
	case SK_SINCE:
		return day_of(m->internaldate) >= k->day;
	case SK_SENTBEFORE:
		return sent_day(m, &day) && day < k->day;
	case SK_SENTON:
		return sent_day(m, &day) && day == k->day;
	case SK_SENTSINCE:
		return sent_day(m, &day) && day >= k->day;
	case SK_HEADER:
		return m->data != NULL && match_header(k, m->data, m->len);
	case SK_BODY:
		return m->data != NULL && match_body(k, m->data, m->len,
		    false);
	case SK_TEXT:
		return m->data != NULL && match_body(k, m->data, m->len,
		    true);
	}
	return 0;
}
