/*
 * msearch - substring tests for IMAP SEARCH. See msearch.h.
 *
 * Input: untrusted message bytes and their MIME tree. Matching is on
 * UTF-8 folded by charset_fold_utf8 (ASCII, Latin, Greek, Cyrillic
 * simple case pairs) with memmem, which glibc implements in linear time,
 * so a search is linear in the message size. Decoded parts are capped at
 * MSEARCH_PART_MAX bytes (-1 past it). Unknown charsets are searched as
 * if they were UTF-8.
 */
#include <string.h>

#include "core/str.h"
#include "mail/charset.h"
#include "mail/hdr.h"
#include "mail/msearch.h"

void
msearch_init(struct msearch *s, const char *needle, size_t n)
{
	buf_init(&s->needle, BUF_UNLIMITED);
	buf_init(&s->dec, MSEARCH_PART_MAX);
	buf_init(&s->utf8, MSEARCH_PART_MAX * 2);
	buf_init(&s->fold, MSEARCH_PART_MAX * 2);
	if (charset_fold_utf8(needle, n, &s->needle) < 0)
		buf_reset(&s->needle);
}

void
msearch_free(struct msearch *s)
{
	buf_free(&s->needle);
	buf_free(&s->dec);
	buf_free(&s->utf8);
	buf_free(&s->fold);
}

/* ms_match: folded copy of utf8 text contains the needle */
static int
ms_match(struct msearch *s, const char *p, size_t n)
{
	buf_reset(&s->fold);
	if (s->needle.len == 0)
		return 1;
	if (charset_fold_utf8(p, n, &s->fold) < 0)
		return -1;
	return memmem(s->fold.data != NULL ? s->fold.data : "", s->fold.len,
	    s->needle.data, s->needle.len) != NULL;
}

int
msearch_header(struct msearch *s, const char *msg, size_t len,
    const char *name)
{
	struct hdr_iter it;
	struct hdr_field f;
	int r;

	hdr_iter_init(&it, msg, len);
	while (hdr_iter_next(&it, &f) > 0) {
		if (name != NULL && !hdr_name_is(&f, name))
			continue;
		buf_reset(&s->utf8);
		if (hdr_decode_2047(f.value, f.value_len, &s->utf8) < 0)
			return -1;
		r = ms_match(s, s->utf8.data != NULL ? s->utf8.data : "",
		    s->utf8.len);
		if (r != 0)
			return r;
	}
	return 0;
}

static int
ms_hexval(char c)
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
msearch_qp_decode(const char *in, size_t n, struct buf *out)
{
	size_t i, run = 0;

	if (buf_reserve(out, n) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		size_t j;
		int hi, lo;

		if (in[i] != '=')
			continue;
		if (buf_append(out, in + run, i - run) < 0)
			return -1;
		/* soft line break: "=" [WSP] (CR)LF */
		j = i + 1;
		while (j < n && (in[j] == ' ' || in[j] == '\t'))
			j++;
		if (j < n && in[j] == '\r' && j + 1 < n && in[j + 1] == '\n')
			j++;
		if (j == n || in[j] == '\n') {
			i = j;
			run = j < n ? j + 1 : n;
			continue;
		}
		hi = i + 1 < n ? ms_hexval(in[i + 1]) : -1;
		lo = i + 2 < n ? ms_hexval(in[i + 2]) : -1;
		if (hi >= 0 && lo >= 0) {
			if (buf_putc(out, (char)(hi * 16 + lo)) < 0)
				return -1;
			i += 2;
			run = i + 1;
		} else
			run = i;	/* keep the '=' as it is */
	}
	return buf_append(out, in + run, n - run);
}

/* ms_part: search one leaf part's decoded body */
static int
ms_part(struct msearch *s, const struct mime_tree *t,
    const struct mime_part *p)
{
	const char *body = t->msg + p->body_off, *cs, *text;
	size_t n = p->body_size, csn, tn;
	int r;

	buf_reset(&s->dec);
	buf_reset(&s->utf8);
	text = body;
	tn = n;
	if (mime_str_is(t, p->cte, "base64")) {
		long dn;

		if (buf_reserve(&s->dec, n / 4 * 3 + 4) < 0)
			return -1;
		dn = base64_decode_lax(body, n, s->dec.data);
		if (dn < 0)
			dn = 0;
		s->dec.len = (size_t)dn;
		text = s->dec.data;
		tn = s->dec.len;
	} else if (mime_str_is(t, p->cte, "quoted-printable")) {
		if (msearch_qp_decode(body, n, &s->dec) < 0)
			return -1;
		text = s->dec.data != NULL ? s->dec.data : "";
		tn = s->dec.len;
	}
	if (mime_param_get(t, p, false, "charset", &cs, &csn) == 0) {
		cs = "utf-8";
		csn = 5;
	}
	r = charset_to_utf8(cs, csn, text, tn, &s->utf8);
	if (r < 0)
		return -1;
	if (r == 0 && charset_to_utf8("utf-8", 5, text, tn, &s->utf8) < 0)
		return -1;
	return ms_match(s, s->utf8.data != NULL ? s->utf8.data : "",
	    s->utf8.len);
}

int
msearch_body(struct msearch *s, const struct mime_tree *t)
{
	unsigned i;
	int r;

	for (i = 0; i < t->nparts; i++) {
		const struct mime_part *p = &t->parts[i];

		if ((p->flags & (MIME_F_MULTIPART | MIME_F_RFC822)) != 0)
			continue;
		if ((p->flags & MIME_F_DEFAULT_TYPE) == 0 &&
		    !mime_str_is(t, p->type, "text") &&
		    !mime_str_is(t, p->type, "message"))
			continue;
		r = ms_part(s, t, p);
		if (r != 0)
			return r;
	}
	return 0;
}

int
msearch_text(struct msearch *s, const struct mime_tree *t)
{
	int r;

	if (t->nparts == 0)
		return 0;
	r = msearch_header(s, t->msg, t->parts[0].hdr_size, NULL);
	if (r != 0)
		return r;
	return msearch_body(s, t);
}
