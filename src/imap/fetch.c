/*
 * fetch - FETCH attribute parsing and CRLF conversion. See fetch.h.
 *
 * The section spec arrives as one atom from the command parser, brackets
 * and all ("BODY.PEEK[1.2.HEADER.FIELDS (From \"To\")]<0.512>"); it is
 * parsed here strictly: part numbers are nz-numbers (at most
 * FETCH_PART_MAX bytes), header field names are atoms or quoted strings
 * without ':' or control bytes, partial numbers fit 32 bits (RFC 3501
 * number). RFC 3501 6.4.5 and 9.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/str.h"
#include "core/xmalloc.h"
#include "imap/fetch.h"

static void
item_free(struct fetch_item *it)
{
	size_t i;

	for (i = 0; i < it->nfields; i++)
		free(it->fields[i]);
	free(it->fields);
	free(it->name);
	memset(it, 0, sizeof(*it));
}

void
fetch_spec_free(struct fetch_spec *spec)
{
	size_t i;

	for (i = 0; i < spec->n; i++)
		item_free(&spec->items[i]);
	free(spec->items);
	memset(spec, 0, sizeof(*spec));
}

static struct fetch_item *
add_item(struct fetch_spec *spec, enum fetch_kind kind)
{
	struct fetch_item *it;

	spec->items = xreallocarray(spec->items, spec->n + 1,
	    sizeof(*spec->items));
	it = &spec->items[spec->n++];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	switch (kind) {
	case FI_ENVELOPE:
	case FI_BODY:
	case FI_BODYSTRUCTURE:
	case FI_SECTION:
	case FI_RFC822:
	case FI_RFC822_HEADER:
	case FI_RFC822_TEXT:
		spec->need_data = true;
		break;
	default:
		break;
	}
	if (kind == FI_RFC822 || kind == FI_RFC822_TEXT)
		spec->sets_seen = true;
	return it;
}

static int
parse_u32(const char **sp, uint64_t *v)
{
	const char *s = *sp;
	uint64_t n = 0;

	if (*s < '0' || *s > '9')
		return -1;
	while (*s >= '0' && *s <= '9') {
		n = n * 10 + (uint64_t)(*s - '0');
		if (n > UINT32_MAX)
			return -1;
		s++;
	}
	*v = n;
	*sp = s;
	return 0;
}

static bool
field_char_ok(unsigned char ch)
{
	return ch > 0x20 && ch < 0x7f && ch != ':' && ch != '(' &&
	    ch != ')' && ch != '"' && ch != '\\' && ch != '[' && ch != ']';
}

/* parse_fields: " (A "B" C)" at s up to end; fills it->fields. */
static int
parse_fields(struct fetch_item *it, const char *s, const char *end)
{
	char name[256];
	size_t n;

	if (s >= end || *s++ != ' ')
		return -1;
	if (s >= end || *s++ != '(')
		return -1;
	for (;;) {
		while (s < end && *s == ' ')
			s++;
		if (s >= end)
			return -1;
		if (*s == ')') {
			s++;
			break;
		}
		n = 0;
		if (*s == '"') {
			s++;
			while (s < end && *s != '"') {
				if (*s == '\\' && s + 1 < end)
					s++;
				if (!field_char_ok((unsigned char)*s) ||
				    n + 1 >= sizeof(name))
					return -1;
				name[n++] = *s++;
			}
			if (s >= end)
				return -1;
			s++;
		} else {
			while (s < end && field_char_ok((unsigned char)*s)) {
				if (n + 1 >= sizeof(name))
					return -1;
				name[n++] = *s++;
			}
		}
		if (n == 0 || it->nfields >= FETCH_FIELDS_MAX)
			return -1;
		name[n] = '\0';
		it->fields = xreallocarray(it->fields, it->nfields + 1,
		    sizeof(*it->fields));
		it->fields[it->nfields++] = xstrdup(name);
	}
	if (it->nfields == 0 || s != end)
		return -1;
	return 0;
}

/* parse_section: the text between '[' and ']'. */
static int
parse_section(struct fetch_item *it, const char *s, const char *end)
{
	size_t n = 0;
	const char *kw;

	/* part number */
	while (s < end && *s >= '1' && *s <= '9') {
		while (s < end && *s >= '0' && *s <= '9') {
			if (n >= FETCH_PART_MAX)
				return -1;
			it->part[n++] = *s++;
		}
		if (s < end && *s == '.' && s + 1 < end && s[1] >= '1' &&
		    s[1] <= '9') {
			if (n >= FETCH_PART_MAX)
				return -1;
			it->part[n++] = *s++;
			continue;
		}
		break;
	}
	it->part[n] = '\0';
	if (s == end) {
		it->sec = FS_ALL;
		return 0;
	}
	if (n > 0 && *s++ != '.')
		return -1;
	kw = s;
	if ((size_t)(end - kw) >= 17 && str_ieqn(kw, "HEADER.FIELDS.NOT", 17)
	    && (kw + 17 == end || kw[17] == ' ')) {
		it->sec = FS_FIELDS_NOT;
		return parse_fields(it, kw + 17, end);
	}
	if ((size_t)(end - kw) >= 13 && str_ieqn(kw, "HEADER.FIELDS", 13) &&
	    (kw + 13 == end || kw[13] == ' ')) {
		it->sec = FS_FIELDS;
		return parse_fields(it, kw + 13, end);
	}
	if ((size_t)(end - kw) == 6 && str_ieqn(kw, "HEADER", 6)) {
		it->sec = FS_HEADER;
		return 0;
	}
	if ((size_t)(end - kw) == 4 && str_ieqn(kw, "TEXT", 4)) {
		it->sec = FS_TEXT;
		return 0;
	}
	if ((size_t)(end - kw) == 4 && str_ieqn(kw, "MIME", 4) && n > 0) {
		it->sec = FS_MIME;
		return 0;
	}
	return -1;
}

static void
make_name(struct fetch_item *it)
{
	static const char *const secname[] = { "", "HEADER", "HEADER.FIELDS",
	    "HEADER.FIELDS.NOT", "TEXT", "MIME" };
	struct buf b;
	size_t i, len;

	buf_init(&b, BUF_UNLIMITED);
	if (buf_printf(&b, "BODY[%s%s%s", it->part,
	    it->part[0] != '\0' && it->sec != FS_ALL ? "." : "",
	    secname[it->sec]) < 0)
		abort();
	if (it->sec == FS_FIELDS || it->sec == FS_FIELDS_NOT) {
		if (buf_puts(&b, " (") < 0)
			abort();
		for (i = 0; i < it->nfields; i++)
			if (buf_printf(&b, "%s%s", i ? " " : "",
			    it->fields[i]) < 0)
				abort();
		if (buf_putc(&b, ')') < 0)
			abort();
	}
	if (buf_putc(&b, ']') < 0)
		abort();
	it->name = buf_steal(&b, &len);
}

static int
parse_body_section(struct fetch_spec *spec, const char *w, bool peek)
{
	struct fetch_item *it;
	const char *open, *close, *s;
	bool q = false;

	open = strchr(w, '[');
	/* find the closing bracket outside quoted strings */
	for (close = open + 1; *close != '\0'; close++) {
		if (q) {
			if (*close == '\\' && close[1] != '\0')
				close++;
			else if (*close == '"')
				q = false;
		} else if (*close == '"') {
			q = true;
		} else if (*close == ']') {
			break;
		}
	}
	if (*close != ']')
		return -1;
	it = add_item(spec, FI_SECTION);
	it->peek = peek;
	if (!peek)
		spec->sets_seen = true;
	if (parse_section(it, open + 1, close) < 0)
		return -1;
	s = close + 1;
	if (*s == '<') {
		s++;
		if (parse_u32(&s, &it->origin) < 0 || *s++ != '.' ||
		    parse_u32(&s, &it->count) < 0 || it->count == 0 ||
		    *s++ != '>')
			return -1;
		it->partial = true;
	}
	if (*s != '\0')
		return -1;
	make_name(it);
	return 0;
}

static int
parse_one(struct fetch_spec *spec, const struct imap_arg *a)
{
	static const struct {
		const char	*name;
		enum fetch_kind	 kind;
	} simple[] = {
		{ "FLAGS", FI_FLAGS },
		{ "INTERNALDATE", FI_INTERNALDATE },
		{ "RFC822.SIZE", FI_SIZE },
		{ "ENVELOPE", FI_ENVELOPE },
		{ "UID", FI_UID },
		{ "BODY", FI_BODY },
		{ "BODYSTRUCTURE", FI_BODYSTRUCTURE },
		{ "RFC822", FI_RFC822 },
		{ "RFC822.HEADER", FI_RFC822_HEADER },
		{ "RFC822.TEXT", FI_RFC822_TEXT },
	};
	const char *w;
	size_t i;

	if (a->type != IMAP_ARG_ATOM)
		return -1;
	if (spec->n >= FETCH_ITEMS_MAX)
		return -1;
	w = a->str;
	for (i = 0; i < sizeof(simple) / sizeof(simple[0]); i++) {
		if (str_ieq(w, simple[i].name)) {
			add_item(spec, simple[i].kind);
			return 0;
		}
	}
	if (str_iprefix(w, "BODY.PEEK["))
		return parse_body_section(spec, w, true);
	if (str_iprefix(w, "BODY["))
		return parse_body_section(spec, w, false);
	return -1;
}

int
fetch_parse(const struct imap_arg *a, bool uid, struct fetch_spec *spec,
    const char **why_r)
{
	size_t i;
	bool has_uid = false;

	memset(spec, 0, sizeof(*spec));
	*why_r = "Invalid fetch attribute";
	if (a->type == IMAP_ARG_ATOM && (str_ieq(a->str, "ALL") ||
	    str_ieq(a->str, "FAST") || str_ieq(a->str, "FULL"))) {
		add_item(spec, FI_FLAGS);
		add_item(spec, FI_INTERNALDATE);
		add_item(spec, FI_SIZE);
		if (!str_ieq(a->str, "FAST"))
			add_item(spec, FI_ENVELOPE);
		if (str_ieq(a->str, "FULL"))
			add_item(spec, FI_BODY);
	} else if (a->type == IMAP_ARG_LIST) {
		if (a->count == 0)
			return -1;
		for (i = 0; i < a->count; i++) {
			if (parse_one(spec, &a->list[i]) < 0) {
				fetch_spec_free(spec);
				return -1;
			}
		}
	} else if (parse_one(spec, a) < 0) {
		fetch_spec_free(spec);
		return -1;
	}
	for (i = 0; i < spec->n; i++)
		if (spec->items[i].kind == FI_UID)
			has_uid = true;
	if (uid && !has_uid) {
		/* RFC 3501 6.4.8: UID FETCH always returns UID; put it
		 * first, where clients expect it */
		add_item(spec, FI_UID);
		memmove(spec->items + 1, spec->items,
		    (spec->n - 1) * sizeof(*spec->items));
		memset(&spec->items[0], 0, sizeof(spec->items[0]));
		spec->items[0].kind = FI_UID;
	}
	return 0;
}

uint64_t
fetch_crlf_size(const char *data, size_t len)
{
	uint64_t n = len;
	const char *p = data, *end = data + len, *lf;

	while (p < end) {
		lf = memchr(p, '\n', (size_t)(end - p));
		if (lf == NULL)
			break;
		if (lf == data || lf[-1] != '\r')
			n++;
		p = lf + 1;
	}
	return n;
}

/* emit_window: emit the part of piece [vpos, vpos+n) inside the window
 * [skip, skip+count). */
static void
emit_window(const char *p, size_t n, uint64_t *vpos, uint64_t skip,
    uint64_t end, uint64_t *out, void (*emit)(void *, const char *, size_t),
    void *ctx)
{
	uint64_t a = *vpos, b = *vpos + n, lo, hi;

	*vpos = b;
	lo = a > skip ? a : skip;
	hi = b < end ? b : end;
	if (lo >= hi)
		return;
	emit(ctx, p + (lo - a), (size_t)(hi - lo));
	*out += hi - lo;
}

/* crlf_copy_from: the copy loop starting at raw offset start, whose CRLF
 * offset is vstart (data itself is the whole message, for the CR check
 * before an LF at start). */
static uint64_t
crlf_copy_from(const char *data, size_t len, size_t start, uint64_t vstart,
    uint64_t skip, uint64_t count,
    void (*emit)(void *ctx, const char *p, size_t n), void *ctx)
{
	const char *p = data + start, *end = data + len, *lf;
	uint64_t vpos = vstart, out = 0, wend;

	wend = count > UINT64_MAX - skip ? UINT64_MAX : skip + count;
	while (p < end && vpos < wend) {
		lf = memchr(p, '\n', (size_t)(end - p));
		if (lf == NULL) {
			emit_window(p, (size_t)(end - p), &vpos, skip, wend,
			    &out, emit, ctx);
			break;
		}
		if (lf > data && lf[-1] == '\r') {
			emit_window(p, (size_t)(lf + 1 - p), &vpos, skip,
			    wend, &out, emit, ctx);
		} else {
			emit_window(p, (size_t)(lf - p), &vpos, skip, wend,
			    &out, emit, ctx);
			emit_window("\r\n", 2, &vpos, skip, wend, &out, emit,
			    ctx);
		}
		p = lf + 1;
	}
	return out;
}

uint64_t
fetch_crlf_copy(const char *data, size_t len, uint64_t skip, uint64_t count,
    void (*emit)(void *ctx, const char *p, size_t n), void *ctx)
{
	return crlf_copy_from(data, len, 0, 0, skip, count, emit, ctx);
}

void
fetch_crlf_index_build(const char *data, size_t len, size_t step,
    struct fetch_crlf_index *ix)
{
	const char *p = data, *end = data + len, *lf;
	uint64_t bare = 0;
	size_t k = 1;

	memset(ix, 0, sizeof(*ix));
	ix->step = step > 0 ? step : 65536;
	ix->n = len / ix->step + 1;
	ix->vpos = xcalloc(ix->n, sizeof(*ix->vpos));
	ix->vpos[0] = 0;
	while (p < end) {
		lf = memchr(p, '\n', (size_t)(end - p));
		if (lf == NULL)
			lf = end;
		/* checkpoints up to and including lf's offset: bare LFs
		 * strictly before them are counted so far */
		while (k < ix->n && k * ix->step <= (size_t)(lf - data)) {
			ix->vpos[k] = k * ix->step + bare;
			k++;
		}
		if (lf == end)
			break;
		if (lf == data || lf[-1] != '\r')
			bare++;
		p = lf + 1;
	}
	while (k < ix->n) {
		ix->vpos[k] = k * ix->step + bare;
		k++;
	}
	ix->total = len + bare;
}

void
fetch_crlf_index_free(struct fetch_crlf_index *ix)
{
	free(ix->vpos);
	memset(ix, 0, sizeof(*ix));
}

uint64_t
fetch_crlf_copy_indexed(const char *data, size_t len,
    const struct fetch_crlf_index *ix, uint64_t skip, uint64_t count,
    void (*emit)(void *ctx, const char *p, size_t n), void *ctx)
{
	size_t lo = 0, hi = ix->n, mid;

	/* the last checkpoint whose CRLF offset is <= skip */
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (ix->vpos[mid] <= skip)
			lo = mid;
		else
			hi = mid;
	}
	if (lo * ix->step > len)
		lo = 0;
	return crlf_copy_from(data, len, lo * ix->step, ix->vpos[lo], skip,
	    count, emit, ctx);
}
