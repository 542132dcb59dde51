/*
 * mime - MIME structure of a message in memory. See mime.h.
 *
 * Input is untrusted message bytes, possibly malformed in every way. The
 * parser walks the message once, line by line (memchr), keeping a stack
 * of the active multipart boundaries; each part's byte range is found by
 * the first line that opens or closes any active boundary (innermost
 * first, prefix match as RFC 2046 5.1.1 boundaries are chosen not to be
 * prefixes of each other; the longest match wins, as in Dovecot). Work
 * is O(size x depth): the depth is capped at MIME_MAX_DEPTH and the
 * number of parts at MIME_MAX_PARTS; content past a cap stays in the
 * enclosing part's body. Memory: the part array, a parameter array and
 * one string pool, reused across messages.
 *
 * Field values follow what Dovecot reports in BODYSTRUCTURE: case is kept,
 * comments are dropped, quoted strings are unquoted, RFC 2231 sections
 * are joined ("name*" keeps the charset'lang'%XX form) and listed after
 * the plain parameters. A multipart without a usable boundary or without
 * any body part gets one empty text/plain child, as Dovecot does.
 * RFCs: 2045 5.1 (Content-Type), 2046 5.1 (multipart), 2183
 * (Content-Disposition), 2231 3-4 (parameter continuations), 3282
 * (Content-Language).
 */
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "core/xmalloc.h"
#include "mail/charset.h"
#include "mail/hdr.h"
#include "mail/mime.h"

#define MIME_POOL_MAX	(64u * 1024 * 1024)

struct mime_ctx {
	struct mime_tree	*t;
	const char		*m;
	size_t			 len;
	/* active boundaries, as offsets in the pool (which may move) */
	size_t			 bnd[MIME_MAX_DEPTH + 1];
	size_t			 bndlen[MIME_MAX_DEPTH + 1];
	int			 nbnd;
	int			 err;
	size_t			 notrim_at;	/* boundary line that a header
						   ran into, or SIZE_MAX */
};

/* a cursor over one header value */
struct mime_lex {
	const char	*s;
	size_t		 n;
	size_t		 i;
	bool		 open_cmt;	/* a comment ran to the end */
};

static const struct mime_str mime_nil = { MIME_NIL, 0 };

void
mime_tree_init(struct mime_tree *t)
{
	memset(t, 0, sizeof(*t));
	buf_init(&t->pool, MIME_POOL_MAX);
}

void
mime_tree_free(struct mime_tree *t)
{
	free(t->parts);
	free(t->params);
	buf_free(&t->pool);
	memset(t, 0, sizeof(*t));
	buf_init(&t->pool, MIME_POOL_MAX);
}

const char *
mime_str(const struct mime_tree *t, struct mime_str s, size_t *len_r)
{
	if (s.off == MIME_NIL || t->pool.data == NULL) {
		*len_r = 0;
		return s.off == MIME_NIL ? NULL : "";
	}
	*len_r = s.len;
	return t->pool.data + s.off;
}

bool
mime_str_is(const struct mime_tree *t, struct mime_str s, const char *v)
{
	size_t n, vn = strlen(v);
	const char *p = mime_str(t, s, &n);

	return p != NULL && n == vn && str_ieqn(p, v, n);
}

static struct mime_str
mime_pool_add(struct mime_ctx *c, const char *s, size_t n)
{
	struct mime_str r;
	struct buf *pool = &c->t->pool;

	if (pool->len + n >= MIME_NIL || buf_append(pool, s, n) < 0) {
		c->err = -1;
		return mime_nil;
	}
	r.off = (uint32_t)(pool->len - n);
	r.len = (uint32_t)n;
	return r;
}

void
mime_count_lf(const char *msg, size_t a, size_t b, size_t *lines_r,
    size_t *bare_r)
{
	size_t lines = 0, bare = 0, pos = a;
	const char *nl;

	while (pos < b) {
		nl = memchr(msg + pos, '\n', b - pos);
		if (nl == NULL)
			break;
		pos = (size_t)(nl - msg);
		lines++;
		if (pos == 0 || msg[pos - 1] != '\r')
			bare++;
		pos++;
	}
	*lines_r = lines;
	*bare_r = bare;
}

/* ---- lexing of structured header values (RFC 2045 / 5322) ---- */

static void
mime_lex_cfws(struct mime_lex *l)
{
	int depth = 0;

	while (l->i < l->n) {
		char c = l->s[l->i];

		if (depth > 0) {
			if (c == '\\' && l->i + 1 < l->n)
				l->i++;
			else if (c == '(')
				depth++;
			else if (c == ')')
				depth--;
			l->i++;
		} else if (c == '(') {
			depth = 1;
			l->i++;
		} else if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			l->i++;
		else
			break;
	}
	if (depth > 0)
		l->open_cmt = true;	/* ran to the end */
}

static bool
mime_is_tchar(unsigned char c)
{
	if (c <= ' ' || c == 0x7f)
		return false;
	switch (c) {
	case '(': case ')': case '<': case '>': case '@': case ',':
	case ';': case ':': case '\\': case '"': case '/': case '[':
	case ']': case '?': case '=':
		return false;
	default:
		return true;
	}
}

/* mime_lex_token: RFC 2045 token (8-bit tolerated). */
static bool
mime_lex_token(struct mime_lex *l, const char **p, size_t *n)
{
	size_t a = l->i;

	while (l->i < l->n && mime_is_tchar((unsigned char)l->s[l->i]))
		l->i++;
	*p = l->s + a;
	*n = l->i - a;
	return *n > 0;
}

/*
 * mime_lex_value: token or quoted-string; the unquoted value goes to the
 * pool. A stray value ("a b.txt") keeps its first word.
 */
static bool
mime_lex_value(struct mime_ctx *c, struct mime_lex *l, struct mime_str *v)
{
	const char *p;
	size_t n;

	if (l->i < l->n && l->s[l->i] == '"') {
		struct buf *pool = &c->t->pool;
		size_t start = pool->len;

		l->i++;
		while (l->i < l->n && l->s[l->i] != '"') {
			size_t run = l->i;
			char ch;

			/* copy a run of plain characters at once */
			while (l->i < l->n && l->s[l->i] != '"' &&
			    l->s[l->i] != '\\' && l->s[l->i] != '\r' &&
			    l->s[l->i] != '\n' && l->s[l->i] != '\0')
				l->i++;
			if (buf_append(pool, l->s + run, l->i - run) < 0)
				goto full;
			if (l->i >= l->n || l->s[l->i] == '"')
				break;
			ch = l->s[l->i];
			if (ch == '\\' && l->i + 1 < l->n) {
				l->i++;
				ch = l->s[l->i];
			}
			l->i++;
			if (ch == '\r' || ch == '\n')
				continue;
			if (ch == '\0') {
				if (buf_append(pool, "\xef\xbf\xbd", 3) < 0)
					goto full;
				continue;
			}
			if (buf_putc(pool, ch) < 0)
				goto full;
		}
		if (l->i >= l->n) {
			/* unterminated: not a value (Dovecot drops it) */
			pool->len = start;
			*v = mime_nil;
			return false;
		}
		l->i++;
		if (pool->len >= MIME_NIL) {
			c->err = -1;
			pool->len = start;
			*v = mime_nil;
			return false;
		}
		v->off = (uint32_t)start;
		v->len = (uint32_t)(pool->len - start);
		return true;
full:
		c->err = -1;
		pool->len = start;
		*v = mime_nil;
		return false;
	}
	/* an empty value ("boundary=") is "" for Dovecot */
	if (!mime_lex_token(l, &p, &n))
		n = 0;
	*v = mime_pool_add(c, p, n);
	return v->off != MIME_NIL;
}

struct mime_rawparam {
	const char	*name;		/* base name, without "*N*" */
	size_t		 namelen;
	const char	*raw;		/* the name as written */
	size_t		 rawlen;
	struct mime_str	 value;
	int		 section;	/* -1 plain, >= 0 RFC 2231 section */
	bool		 ext;		/* ends in '*': %XX encoded */
	bool		 is2231;
};

static int
mime_param_push(struct mime_ctx *c, struct mime_str name, struct mime_str v)
{
	struct mime_tree *t = c->t;

	if (t->nparams == t->pcap) {
		uint32_t ncap = t->pcap ? t->pcap * 2 : 32;

		if (t->pcap > UINT32_MAX / 4)
			return -1;
		t->params = xreallocarray(t->params, ncap, sizeof(*t->params));
		t->pcap = ncap;
	}
	t->params[t->nparams].name = name;
	t->params[t->nparams].value = v;
	t->nparams++;
	return 0;
}

static int
mime_raw_cmp(const void *a, const void *b)
{
	const struct mime_rawparam *x = a, *y = b;
	size_t n = x->namelen < y->namelen ? x->namelen : y->namelen;
	int r = strncasecmp(x->name, y->name, n);

	if (r != 0)
		return r;
	if (x->namelen != y->namelen)
		return x->namelen < y->namelen ? -1 : 1;
	return x->section - y->section;
}

/*
 * mime_params: parse *(";" attribute "=" value) from the cursor, join
 * RFC 2231 sections, and append them to the tree. Sets *first, *count.
 */
static void
mime_params(struct mime_ctx *c, struct mime_lex *l, uint32_t *first,
    uint32_t *count)
{
	struct mime_rawparam raw[MIME_MAX_PARAMS];
	size_t nraw = 0, i, j;
	const char *p;
	size_t n;

	*first = c->t->nparams;
	*count = 0;
	for (;;) {
		struct mime_rawparam *r;

		mime_lex_cfws(l);
		if (l->i >= l->n)
			break;
		if (l->s[l->i] != ';') {
			/* junk after a value: skip to the next ';' */
			while (l->i < l->n && l->s[l->i] != ';')
				l->i++;
			continue;
		}
		l->i++;
		mime_lex_cfws(l);
		/* a broken attribute ends the list, as in Dovecot (which
		 * takes an empty name before '=') */
		if (!mime_lex_token(l, &p, &n) &&
		    (l->i >= l->n || l->s[l->i] != '='))
			break;
		mime_lex_cfws(l);
		if (l->i >= l->n || l->s[l->i] != '=')
			break;
		l->i++;
		mime_lex_cfws(l);
		if (nraw == MIME_MAX_PARAMS)
			break;
		r = &raw[nraw];
		if (!mime_lex_value(c, l, &r->value))
			break;
		r->name = p;
		r->namelen = n;
		r->raw = p;
		r->rawlen = n;
		r->section = -1;
		r->ext = false;
		r->is2231 = false;
		/* name*, name*N, name*N* */
		if (n > 1 && p[n - 1] == '*') {
			r->ext = true;
			r->is2231 = true;
			n--;
		}
		j = n;
		while (j > 0 && p[j - 1] >= '0' && p[j - 1] <= '9')
			j--;
		if (j < n && j > 1 && p[j - 1] == '*' && n - j <= 3) {
			r->section = 0;
			for (i = j; i < n; i++)
				r->section = r->section * 10 + (p[i] - '0');
			r->is2231 = true;
			n = j - 1;
		} else if (r->ext)
			r->section = 0;
		if (r->is2231)
			r->namelen = n;
		nraw++;
	}
	if (l->open_cmt) {
		/* an unterminated comment voids the list (Dovecot) */
		c->t->nparams = *first;
		return;
	}
	/* plain parameters first, in order */
	for (i = 0; i < nraw; i++) {
		if (raw[i].is2231)
			continue;
		if (mime_param_push(c, mime_pool_add(c, raw[i].name,
		    raw[i].namelen), raw[i].value) < 0)
			return;
	}
	/* then the RFC 2231 ones, grouped by name and ordered by section */
	j = 0;
	for (i = 0; i < nraw; i++)
		if (raw[i].is2231)
			raw[j++] = raw[i];
	nraw = j;
	if (nraw > 1)
		qsort(raw, nraw, sizeof(raw[0]), mime_raw_cmp);
	for (i = 0; i < nraw; i = j) {
		struct buf *pool = &c->t->pool;
		struct mime_str name, v;
		bool ext = false;
		size_t start;

		for (j = i; j < nraw && raw[j].namelen == raw[i].namelen &&
		    strncasecmp(raw[j].name, raw[i].name, raw[i].namelen) == 0;
		    j++)
			ext = ext || raw[j].ext;
		if (raw[i].section != 0) {
			/* no section 0: not a continuation, names kept */
			size_t k;

			for (k = i; k < j; k++)
				if (mime_param_push(c, mime_pool_add(c,
				    raw[k].raw, raw[k].rawlen),
				    raw[k].value) < 0)
					return;
			continue;
		}
		start = pool->len;
		if (buf_append(pool, raw[i].name, raw[i].namelen) < 0 ||
		    (ext && buf_putc(pool, '*') < 0)) {
			c->err = -1;
			return;
		}
		name.off = (uint32_t)start;
		name.len = (uint32_t)(pool->len - start);
		start = pool->len;
		/* an extended value needs its charset'lang' prefix */
		if (ext && !raw[i].ext && buf_append(pool, "''", 2) < 0) {
			c->err = -1;
			return;
		}
		for (size_t k = i; k < j; k++) {
			size_t vn;
			const char *vp = mime_str(c->t, raw[k].value, &vn);

			/* pool may move: copy through a bounded append */
			if (vp == NULL)
				continue;
			if (buf_reserve(pool, vn) < 0) {
				c->err = -1;
				return;
			}
			vp = pool->data + raw[k].value.off;
			memmove(pool->data + pool->len, vp, vn);
			pool->len += vn;
			pool->data[pool->len] = '\0';
		}
		if (pool->len >= MIME_NIL) {
			c->err = -1;
			return;
		}
		v.off = (uint32_t)start;
		v.len = (uint32_t)(pool->len - start);
		if (mime_param_push(c, name, v) < 0)
			return;
	}
	*count = c->t->nparams - *first;
}

static void
mime_field_ctype(struct mime_ctx *c, struct mime_part *p, const char *v,
    size_t n)
{
	struct mime_lex l = { v, n, 0, false };
	const char *tp = "", *sp = "";
	size_t tn = 0, sn = 0;
	bool ok = false;

	/* type ["/" subtype], then the end or ';'; anything else makes the
	 * whole field "" "" without parameters (what Dovecot reports); a
	 * comment left open after the type alone still leaves the type */
	mime_lex_cfws(&l);
	if (mime_lex_token(&l, &tp, &tn)) {
		mime_lex_cfws(&l);
		if (l.i < l.n && l.s[l.i] == '/') {
			l.i++;
			mime_lex_cfws(&l);
			ok = mime_lex_token(&l, &sp, &sn);
			mime_lex_cfws(&l);
			ok = ok && !l.open_cmt &&
			    (l.i == l.n || l.s[l.i] == ';');
		} else
			ok = l.i == l.n;	/* "text" alone, nothing else */
	}
	p->flags &= ~MIME_F_DEFAULT_TYPE;
	if (!ok) {
		p->type = mime_pool_add(c, "", 0);
		p->subtype = mime_pool_add(c, "", 0);
		return;
	}
	p->type = mime_pool_add(c, tp, tn);
	p->subtype = mime_pool_add(c, sp, sn);
	mime_params(c, &l, &p->param, &p->nparam);
}

static void
mime_field_disp(struct mime_ctx *c, struct mime_part *p, const char *v,
    size_t n)
{
	struct mime_lex l = { v, n, 0, false };
	const char *tp;
	size_t tn;

	mime_lex_cfws(&l);
	if (!mime_lex_token(&l, &tp, &tn))
		tn = 0;		/* Dovecot: ("" params) */
	p->disp = mime_pool_add(c, tp, tn);
	mime_params(c, &l, &p->dparam, &p->ndparam);
}

static void
mime_field_lang(struct mime_ctx *c, struct mime_part *p, const char *v,
    size_t n)
{
	struct mime_lex l = { v, n, 0, false };
	const char *tp;
	size_t tn;

	p->lang = c->t->nparams;
	p->nlang = 0;
	for (;;) {
		mime_lex_cfws(&l);
		if (l.i >= l.n)
			break;
		if (l.s[l.i] == ',') {
			l.i++;
			continue;
		}
		if (!mime_lex_token(&l, &tp, &tn)) {
			l.i++;
			continue;
		}
		if (p->nlang >= MIME_MAX_PARAMS)
			continue;
		if (mime_param_push(c, mime_nil, mime_pool_add(c, tp, tn)) < 0)
			break;
		p->nlang++;
	}
}

/* mime_field_text: the value with CR, LF and NUL removed (Dovecot keeps
 * trailing white space) */
static struct mime_str
mime_field_text(struct mime_ctx *c, const char *v, size_t n)
{
	struct buf *pool = &c->t->pool;
	size_t start = pool->len, i;
	struct mime_str r;

	for (i = 0; i < n; i++) {
		if (v[i] == '\r' || v[i] == '\n' || v[i] == '\0')
			continue;
		if (buf_putc(pool, v[i]) < 0) {
			pool->len = start;
			c->err = -1;
			return mime_nil;
		}
	}
	if (pool->len >= MIME_NIL) {
		pool->len = start;
		c->err = -1;
		return mime_nil;
	}
	r.off = (uint32_t)start;
	r.len = (uint32_t)(pool->len - start);
	return r;
}

/* mime_field_cte: a token alone (comments allowed), else absent */
static struct mime_str
mime_field_cte(struct mime_ctx *c, const char *v, size_t n)
{
	struct mime_lex l = { v, n, 0, false };
	const char *tp;
	size_t tn;

	mime_lex_cfws(&l);
	if (!mime_lex_token(&l, &tp, &tn))
		return mime_nil;
	mime_lex_cfws(&l);
	if (l.i < l.n)
		return mime_nil;
	return mime_pool_add(c, tp, tn);
}

/* mime_fields: the Content-* fields of the header at [a, b). */
static void
mime_fields(struct mime_ctx *c, int idx, size_t a, size_t b)
{
	struct hdr_iter it;
	struct hdr_field f;
	struct mime_part *p = &c->t->parts[idx];
	bool have_ct = false, have_lang = false, have_disp = false;
	bool have_mv = false;
	struct buf nul;

	buf_init(&nul, b - a + 64);
	hdr_iter_init(&it, c->m + a, b - a);
	while (hdr_iter_next(&it, &f) > 0) {
		/* NULs: U+FFFD in text fields; structured ones stop there */
		if ((hdr_name_is(&f, "content-id") ||
		    hdr_name_is(&f, "content-description") ||
		    hdr_name_is(&f, "content-md5") ||
		    hdr_name_is(&f, "content-location")) &&
		    hdr_value_nul(f.value, f.value_len, &nul, &f.value,
		    &f.value_len) < 0)
			continue;
		if (hdr_name_is(&f, "mime-version"))
			have_mv = true;
		if (f.name_len < 8 || !str_ieqn(f.name, "content-", 8))
			continue;
		if (hdr_name_is(&f, "content-type")) {
			if (!have_ct)
				mime_field_ctype(c, p, f.value, f.value_len);
			have_ct = true;
		} else if (hdr_name_is(&f, "content-transfer-encoding")) {
			if (p->cte.off == MIME_NIL)
				p->cte = mime_field_cte(c, f.value,
				    f.value_len);
		} else if (hdr_name_is(&f, "content-id")) {
			if (p->id.off == MIME_NIL)
				p->id = mime_field_text(c, f.value,
				    f.value_len);
		} else if (hdr_name_is(&f, "content-description")) {
			if (p->desc.off == MIME_NIL)
				p->desc = mime_field_text(c, f.value,
				    f.value_len);
		} else if (hdr_name_is(&f, "content-md5")) {
			if (p->md5.off == MIME_NIL)
				p->md5 = mime_field_text(c, f.value,
				    f.value_len);
		} else if (hdr_name_is(&f, "content-location")) {
			if (p->loc.off == MIME_NIL)
				p->loc = mime_field_text(c, f.value,
				    f.value_len);
		} else if (hdr_name_is(&f, "content-disposition")) {
			if (!have_disp)
				mime_field_disp(c, p, f.value, f.value_len);
			have_disp = true;
		} else if (hdr_name_is(&f, "content-language")) {
			if (!have_lang)
				mime_field_lang(c, p, f.value, f.value_len);
			have_lang = true;
		}
	}
	buf_free(&nul);
	if (it.overflow)
		p->flags |= MIME_F_OVERFLOW;
	if (!have_ct && !have_mv && (p->parent < 0 ||
	    (c->t->parts[p->parent].flags & MIME_F_RFC822) != 0)) {
		/* a message without MIME-Version or Content-Type is not
		 * MIME: its Content-* fields mean nothing (as Dovecot) */
		p->cte = p->id = p->desc = p->md5 = p->loc = p->disp = mime_nil;
		p->ndparam = 0;
		p->nlang = 0;
	}
}

/* ---- structure ---- */

static int
mime_new_part(struct mime_ctx *c, int parent, unsigned depth)
{
	struct mime_tree *t = c->t;
	struct mime_part *p;

	if (t->nparts >= MIME_MAX_PARTS) {
		t->overflow = true;
		return -1;
	}
	if (t->nparts == t->cap) {
		unsigned ncap = t->cap ? t->cap * 2 : 8;

		t->parts = xreallocarray(t->parts, ncap, sizeof(*t->parts));
		t->cap = ncap;
	}
	p = &t->parts[t->nparts];
	memset(p, 0, sizeof(*p));
	p->parent = parent;
	p->child = -1;
	p->next = -1;
	p->depth = depth;
	p->flags = MIME_F_DEFAULT_TYPE;
	p->type = mime_nil;
	p->subtype = mime_nil;
	p->cte = p->id = p->desc = p->md5 = p->loc = p->disp = mime_nil;
	return (int)t->nparts++;
}

/*
 * mime_bnd_match: boundary index matched by the line at pos, or -1. The
 * line only has to start with "--" boundary; when several active
 * boundaries match, the longest wins, then the innermost (Dovecot's
 * rule, so that nested boundaries that are prefixes of each other work).
 */
static int
mime_bnd_match(const struct mime_ctx *c, size_t pos, bool *close_r)
{
	const char *m = c->m;
	int i, best = -1;

	if (c->len - pos < 2 || m[pos] != '-' || m[pos + 1] != '-')
		return -1;
	for (i = c->nbnd - 1; i >= 0; i--) {
		const char *b = c->t->pool.data + c->bnd[i];
		size_t bl = c->bndlen[i];

		if (bl > c->len - pos - 2 ||
		    (best >= 0 && bl <= c->bndlen[best]))
			continue;
		/* first byte inline: most lines fail here */
		if (bl > 0 && b[0] != m[pos + 2])
			continue;
		if (memcmp(m + pos + 2, b, bl) == 0)
			best = i;
	}
	if (best >= 0) {
		size_t q = pos + 2 + c->bndlen[best];

		*close_r = q + 1 < c->len && m[q] == '-' && m[q + 1] == '-';
	}
	return best;
}

/*
 * mime_scan: from line start pos, the start of the first boundary line
 * (*hit_r its index) or len (*hit_r = -1).
 */
static size_t
mime_scan(const struct mime_ctx *c, size_t pos, int *hit_r, bool *close_r)
{
	const char *nl;

	*hit_r = -1;
	*close_r = false;
	if (c->nbnd == 0)
		return c->len;
	while (pos < c->len) {
		*hit_r = mime_bnd_match(c, pos, close_r);
		if (*hit_r >= 0)
			return pos;
		nl = memchr(c->m + pos, '\n', c->len - pos);
		if (nl == NULL)
			break;
		pos = (size_t)(nl - c->m) + 1;
	}
	*hit_r = -1;
	return c->len;
}

static size_t
mime_next_line(const struct mime_ctx *c, size_t pos)
{
	const char *nl = memchr(c->m + pos, '\n', c->len - pos);

	return nl == NULL ? c->len : (size_t)(nl - c->m) + 1;
}

/* mime_set_body: body of idx is [a, end) minus the line end that belongs
 * to the boundary line at end when hit (unless a header already owns it,
 * as Dovecot counts: see notrim_at). */
static void
mime_set_body(struct mime_ctx *c, int idx, size_t a, size_t end, int hit)
{
	struct mime_part *p = &c->t->parts[idx];

	if (hit >= 0 && end == a) {
		/* empty body: the line end before the boundary is the
		 * header's, for the enclosing parts too; but the header
		 * section itself stops before it (this is how Dovecot
		 * counts BODY[n.MIME] and HEADER) */
		c->notrim_at = end;
		if (p->hdr_size > 0 &&
		    c->m[p->hdr_off + p->hdr_size - 1] == '\n') {
			p->hdr_size--;
			if (p->hdr_size > 0 &&
			    c->m[p->hdr_off + p->hdr_size - 1] == '\r')
				p->hdr_size--;
			mime_count_lf(c->m, p->hdr_off, p->hdr_off +
			    p->hdr_size, &p->hdr_lines, &p->hdr_bare_lf);
		}
	} else if (hit >= 0 && end != c->notrim_at &&
	    c->m[end - 1] == '\n') {
		end--;
		if (end > a && c->m[end - 1] == '\r')
			end--;
	}
	p->body_off = a;
	p->body_size = end - a;
	mime_count_lf(c->m, a, end, &p->body_lines, &p->body_bare_lf);
}

/* mime_empty_child: the empty text/plain part Dovecot reports for a
 * multipart that has none. */
static void
mime_empty_child(struct mime_ctx *c, int idx, size_t at)
{
	int ch = mime_new_part(c, idx, c->t->parts[idx].depth + 1);
	struct mime_part *p;

	if (ch < 0)
		return;
	p = &c->t->parts[ch];
	p->hdr_off = at;
	p->body_off = at;
	c->t->parts[idx].child = ch;
	c->t->parts[idx].nchildren = 1;
}

/* mime_empty_container: a multipart or message/rfc822 part cut off by a
 * boundary still gets its (empty) child, as Dovecot reports it */
static void
mime_empty_container(struct mime_ctx *c, int idx, size_t at)
{
	struct mime_part *p = &c->t->parts[idx];
	int ch;

	if (p->depth >= MIME_MAX_DEPTH)
		return;
	if (mime_str_is(c->t, p->type, "multipart") && p->subtype.len > 0) {
		p->flags |= MIME_F_MULTIPART;
		mime_empty_child(c, idx, at);
	} else if (mime_str_is(c->t, p->type, "message") &&
	    mime_str_is(c->t, p->subtype, "rfc822")) {
		ch = mime_new_part(c, idx, p->depth + 1);
		if (ch < 0)
			return;
		p = &c->t->parts[idx];
		p->flags |= MIME_F_RFC822;
		p->child = ch;
		p->nchildren = 1;
		c->t->parts[ch].hdr_off = at;
		c->t->parts[ch].body_off = at;
	}
}

static size_t mime_part(struct mime_ctx *, int, size_t, int *, bool *);

static size_t
mime_multipart(struct mime_ctx *c, int idx, size_t b, size_t bn,
    int *hit_r, bool *close_r)
{
	size_t body = c->t->parts[idx].body_off, pos, after, end;
	int my, hit, last = -1, ch;
	bool close;

	c->bnd[c->nbnd] = b;
	c->bndlen[c->nbnd] = bn;
	my = c->nbnd++;
	pos = mime_scan(c, body, &hit, &close);
	for (;;) {
		if (hit != my || close)
			break;
		after = mime_next_line(c, pos);
		/* a delimiter line cut by the end of the message ends the
		 * part before it but opens none (Dovecot) */
		if (after == c->len && c->m[c->len - 1] != '\n')
			break;
		ch = mime_new_part(c, idx, c->t->parts[idx].depth + 1);
		if (ch < 0) {
			/* part cap: the rest stays in this body */
			c->t->parts[idx].flags |= MIME_F_OVERFLOW;
			pos = mime_scan(c, after, &hit, &close);
			continue;
		}
		if (last < 0)
			c->t->parts[idx].child = ch;
		else
			c->t->parts[last].next = ch;
		c->t->parts[idx].nchildren++;
		last = ch;
		pos = mime_part(c, ch, after, &hit, &close);
	}
	c->nbnd--;
	if (hit == my) {
		/* closing delimiter: the epilogue runs to an outer boundary;
		 * with no epilogue the delimiter keeps its line end */
		after = mime_next_line(c, pos);
		end = mime_scan(c, after, &hit, &close);
		if (end == after && hit >= 0)
			c->notrim_at = end;
	} else
		end = pos;
	if (c->t->parts[idx].nchildren == 0)
		mime_empty_child(c, idx, body);
	mime_set_body(c, idx, body, end, hit);
	*hit_r = hit;
	*close_r = close;
	return end;
}

/*
 * mime_part: parse the part (or message) whose header starts at off.
 * Returns where it ends: the start of the boundary line that ended it
 * (*hit_r = its stack index) or len (*hit_r = -1).
 */
static size_t
mime_part(struct mime_ctx *c, int idx, size_t off, int *hit_r,
    bool *close_r)
{
	struct mime_part *p;
	size_t pos = off, hdr_end = c->len, body = c->len, end;
	size_t b = 0, bn = 0;
	int hit = -1;
	bool close = false;
	unsigned depth;

	/* header: up to the empty line, or a boundary line */
	while (pos < c->len) {
		if (c->m[pos] == '\n' || (c->m[pos] == '\r' &&
		    pos + 1 < c->len && c->m[pos + 1] == '\n')) {
			hdr_end = pos;
			body = pos + (c->m[pos] == '\n' ? 1 : 2);
			break;
		}
		if (c->nbnd > 0) {
			hit = mime_bnd_match(c, pos, &close);
			if (hit >= 0) {
				/* the header keeps the line end before the
				 * boundary, and so do the bodies that end
				 * here (Dovecot counts it so) */
				hdr_end = body = pos;
				break;
			}
		}
		pos = mime_next_line(c, pos);
	}
	p = &c->t->parts[idx];
	p->hdr_off = off;
	p->hdr_size = body - off;
	mime_count_lf(c->m, off, body, &p->hdr_lines, &p->hdr_bare_lf);
	p->body_off = body;
	mime_fields(c, idx, off, hdr_end);
	p = &c->t->parts[idx];
	depth = p->depth;
	if ((p->flags & MIME_F_DEFAULT_TYPE) != 0 && p->parent >= 0 &&
	    (c->t->parts[p->parent].flags & MIME_F_MULTIPART) != 0 &&
	    mime_str_is(c->t, c->t->parts[p->parent].subtype, "digest")) {
		/* RFC 2046 5.1.5: the default in a digest is message/rfc822 */
		p->type = mime_pool_add(c, "message", 7);
		p->subtype = mime_pool_add(c, "rfc822", 6);
		p->flags &= ~MIME_F_DEFAULT_TYPE;
	}
	if (hit >= 0) {
		/* header cut by a boundary: an empty body, and the header
		 * section without the line end that ends it */
		*hit_r = hit;
		*close_r = close;
		c->notrim_at = SIZE_MAX;
		mime_set_body(c, idx, body, body, hit);
		mime_empty_container(c, idx, body);
		return body;
	}
	if (mime_str_is(c->t, p->type, "multipart") && p->subtype.len > 0) {
		if (depth >= MIME_MAX_DEPTH || c->nbnd >= MIME_MAX_DEPTH) {
			p->flags |= MIME_F_OVERFLOW;
			c->t->overflow = true;
		} else {
			const char *v;
			size_t vn;

			bool have_b = false;

			/* an empty boundary="" is still one (Dovecot) */
			if (mime_param_get(c->t, p, false, "boundary", &v,
			    &vn) > 0) {
				b = (size_t)(v - c->t->pool.data);
				bn = vn;
				have_b = true;
			}
			p->flags |= MIME_F_MULTIPART;
			if (!have_b) {
				/* Dovecot: one empty text/plain part */
				p->flags |= MIME_F_NO_BOUNDARY;
				mime_empty_child(c, idx, body);
				end = mime_scan(c, body, hit_r, close_r);
				mime_set_body(c, idx, body, end, *hit_r);
				return end;
			}
			return mime_multipart(c, idx, b, bn, hit_r, close_r);
		}
	} else if (mime_str_is(c->t, p->type, "message") &&
	    mime_str_is(c->t, p->subtype, "rfc822")) {
		int ch = -1;

		if (depth >= MIME_MAX_DEPTH) {
			p->flags |= MIME_F_OVERFLOW;
			c->t->overflow = true;
		} else
			ch = mime_new_part(c, idx, depth + 1);
		if (ch >= 0) {
			c->t->parts[idx].child = ch;
			c->t->parts[idx].nchildren = 1;
			c->t->parts[idx].flags |= MIME_F_RFC822;
			end = mime_part(c, ch, body, hit_r, close_r);
			mime_set_body(c, idx, body, end, *hit_r);
			return end;
		}
	}
	end = mime_scan(c, body, hit_r, close_r);
	mime_set_body(c, idx, body, end, *hit_r);
	return end;
}

int
mime_parse(struct mime_tree *t, const char *msg, size_t len)
{
	struct mime_ctx c;
	int hit, root;
	bool close;

	t->msg = msg;
	t->len = len;
	t->nparts = 0;
	t->nparams = 0;
	t->overflow = false;
	buf_reset(&t->pool);
	memset(&c, 0, sizeof(c));
	c.t = t;
	c.m = msg;
	c.len = len;
	c.notrim_at = SIZE_MAX;
	root = mime_new_part(&c, -1, 0);
	(void)mime_part(&c, root, 0, &hit, &close);
	return c.err;
}

int
mime_param_get(const struct mime_tree *t, const struct mime_part *p,
    bool disp, const char *name, const char **v_r, size_t *n_r)
{
	uint32_t first = disp ? p->dparam : p->param;
	uint32_t n = disp ? p->ndparam : p->nparam;
	uint32_t i;

	for (i = first; i < first + n; i++) {
		if (mime_str_is(t, t->params[i].name, name)) {
			*v_r = mime_str(t, t->params[i].value, n_r);
			return *v_r != NULL;
		}
	}
	return 0;
}

static int
mime_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
mime_param_decode(const struct mime_tree *t, const struct mime_part *p,
    bool disp, const char *name, struct buf *out)
{
	char ext[80];
	const char *v, *q1, *q2;
	size_t n, i;
	struct buf raw;
	int r;

	if (strlen(name) + 2 <= sizeof(ext)) {
		memcpy(ext, name, strlen(name));
		ext[strlen(name)] = '*';
		ext[strlen(name) + 1] = '\0';
		if (mime_param_get(t, p, disp, ext, &v, &n) > 0)
			goto extended;
	}
	if (mime_param_get(t, p, disp, name, &v, &n) == 0)
		return 0;
	/* plain values may still carry RFC 2047 words (common in the wild) */
	return hdr_decode_2047(v, n, out) < 0 ? -1 : 1;
extended:
	q1 = memchr(v, '\'', n);
	q2 = q1 != NULL ? memchr(q1 + 1, '\'', n - (size_t)(q1 + 1 - v)) :
	    NULL;
	if (q2 == NULL)
		return buf_append(out, v, n) < 0 ? -1 : 1;
	buf_init(&raw, n);
	for (i = (size_t)(q2 + 1 - v); i < n; i++) {
		char c = v[i];

		if (c == '%' && i + 2 < n && mime_hexval(v[i + 1]) >= 0 &&
		    mime_hexval(v[i + 2]) >= 0) {
			c = (char)(mime_hexval(v[i + 1]) * 16 +
			    mime_hexval(v[i + 2]));
			i += 2;
		}
		if (buf_putc(&raw, c) < 0) {
			buf_free(&raw);
			return -1;
		}
	}
	r = charset_to_utf8(v, (size_t)(q1 - v), raw.data != NULL ? raw.data :
	    "", raw.len, out);
	if (r == 0)
		r = buf_append(out, raw.data != NULL ? raw.data : "",
		    raw.len) < 0 ? -1 : 1;
	buf_free(&raw);
	return r;
}

/* ---- sections ---- */

int
mime_find(const struct mime_tree *t, const char *sec, size_t n, int *idx_r)
{
	size_t i = 0;
	int cur = 0;

	if (t->nparts == 0)
		return 0;
	while (i < n) {
		unsigned long num = 0;
		size_t d = i;
		const struct mime_part *p = &t->parts[cur];
		bool more;

		while (i < n && sec[i] >= '0' && sec[i] <= '9' && i - d < 9)
			num = num * 10 + (unsigned long)(sec[i++] - '0');
		if (i == d || num == 0)
			return 0;
		if (i < n && sec[i] != '.')
			return 0;
		if (i < n && ++i == n)
			return 0;	/* trailing dot */
		more = i < n;
		if ((p->flags & MIME_F_MULTIPART) != 0) {
			int ch = p->child;

			while (ch >= 0 && num > 1) {
				ch = t->parts[ch].next;
				num--;
			}
			if (ch < 0)
				return 0;
			cur = ch;
		} else if (num != 1)
			return 0;
		else if (more && (p->flags & MIME_F_RFC822) == 0)
			return 0;
		p = &t->parts[cur];
		/* more numbers go inside a message/rfc822 part's message */
		if (more && (p->flags & MIME_F_RFC822) != 0 && p->child >= 0)
			cur = p->child;
	}
	*idx_r = cur;
	return 1;
}

int
mime_section(const struct mime_tree *t, const char *spec, size_t n,
    size_t *off_r, size_t *len_r, size_t *lf_r, enum mime_sec *kind_r,
    const char **rest_r)
{
	size_t i = 0, numlen;
	int idx;
	const struct mime_part *p;
	const char *word;
	size_t wn, lines;

	/* the dotted number ends before the first non-digit word */
	while (i < n && ((spec[i] >= '0' && spec[i] <= '9') || spec[i] == '.'))
		i++;
	numlen = i;
	word = spec + i;
	wn = n - i;
	if (numlen > 0 && wn > 0) {
		if (spec[numlen - 1] != '.')
			return -1;
		numlen--;
	} else if (numlen > 0 && spec[numlen - 1] == '.')
		return -1;
	if (mime_find(t, spec, numlen, &idx) == 0)
		return 0;
	p = &t->parts[idx];
	*rest_r = spec + n;
	if (wn == 0) {
		*kind_r = MIME_SEC_BODY;
		if (numlen == 0) {
			*off_r = 0;
			*len_r = t->len;
		} else {
			*off_r = p->body_off;
			*len_r = p->body_size;
		}
	} else if (wn == 4 && str_ieqn(word, "MIME", 4)) {
		if (numlen == 0)
			return -1;
		*kind_r = MIME_SEC_MIME;
		*off_r = p->hdr_off;
		*len_r = p->hdr_size;
	} else if ((wn == 4 && str_ieqn(word, "TEXT", 4)) ||
	    (wn >= 6 && str_ieqn(word, "HEADER", 6))) {
		bool text = str_ieqn(word, "TEXT", 4);

		if (numlen > 0) {
			if ((p->flags & MIME_F_RFC822) == 0 || p->child < 0)
				return 0;
			p = &t->parts[p->child];
		}
		if (text) {
			*kind_r = MIME_SEC_TEXT;
			*off_r = p->body_off;
			*len_r = p->body_size;
		} else {
			*kind_r = MIME_SEC_HEADER;
			*off_r = p->hdr_off;
			*len_r = p->hdr_size;
			*rest_r = word + 6;
			if (wn > 6 && word[6] != '.')
				return -1;
		}
	} else
		return -1;
	mime_count_lf(t->msg, *off_r, *off_r + *len_r, &lines, lf_r);
	return 1;
}
