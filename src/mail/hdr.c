/*
 * hdr - header fields of a message in memory. See hdr.h.
 *
 * Input is untrusted message bytes. Every scan is a single forward pass
 * using memchr for line ends; nothing is allocated except the caller's
 * output buffer (and one scratch buffer per hdr_decode_2047 call). The
 * iterator stops after HDR_MAX_FIELDS fields or HDR_MAX_SIZE bytes.
 * RFCs: 5322 2.2 (fields, folding), 2047 (encoded words), 2231 5
 * (language suffix on an encoded word's charset, ignored).
 */
#include <string.h>

#include "core/str.h"
#include "mail/charset.h"
#include "mail/hdr.h"

static bool
hdr_is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

size_t
hdr_body_offset(const char *msg, size_t len, size_t *hdr_end_r)
{
	size_t pos = 0;
	const char *nl;

	while (pos < len) {
		if (msg[pos] == '\n') {
			if (hdr_end_r != NULL)
				*hdr_end_r = pos;
			return pos + 1;
		}
		if (msg[pos] == '\r' && pos + 1 < len && msg[pos + 1] == '\n') {
			if (hdr_end_r != NULL)
				*hdr_end_r = pos;
			return pos + 2;
		}
		nl = memchr(msg + pos, '\n', len - pos);
		if (nl == NULL)
			break;
		pos = (size_t)(nl - msg) + 1;
	}
	if (hdr_end_r != NULL)
		*hdr_end_r = len;
	return len;
}

void
hdr_iter_init(struct hdr_iter *it, const char *msg, size_t len)
{
	it->msg = msg;
	it->end = len;
	it->pos = 0;
	it->nfields = 0;
	it->overflow = false;
}

int
hdr_iter_next(struct hdr_iter *it, struct hdr_field *f)
{
	const char *m = it->msg;

	for (;;) {
		size_t pos = it->pos, fend, colon, vend, nend;
		const char *nl;

		if (pos >= it->end)
			return 0;
		if (m[pos] == '\n' || (m[pos] == '\r' && pos + 1 < it->end &&
		    m[pos + 1] == '\n')) {
			it->pos = it->end;
			return 0;
		}
		if (it->nfields >= HDR_MAX_FIELDS || pos >= HDR_MAX_SIZE) {
			it->overflow = true;
			it->pos = it->end;
			return -1;
		}
		/* the field runs until a line end not followed by WSP */
		fend = pos;
		for (;;) {
			nl = memchr(m + fend, '\n', it->end - fend);
			if (nl == NULL) {
				fend = it->end;
				break;
			}
			fend = (size_t)(nl - m) + 1;
			if (fend >= it->end || !hdr_is_wsp(m[fend]))
				break;
		}
		it->pos = fend;
		if (hdr_is_wsp(m[pos]))
			continue;	/* continuation without a field */
		nl = memchr(m + pos, '\n', fend - pos);
		nend = nl != NULL ? (size_t)(nl - m) : fend;
		nl = memchr(m + pos, ':', nend - pos);
		if (nl == NULL)
			continue;	/* not a field */
		colon = (size_t)(nl - m);
		nend = colon;
		while (nend > pos && hdr_is_wsp(m[nend - 1]))
			nend--;		/* obs-optional: "Subject :" */
		if (nend == pos)
			continue;
		vend = fend;
		if (vend > colon + 1 && m[vend - 1] == '\n')
			vend--;
		/* every CR before the line end goes (as in Dovecot) */
		while (vend > colon + 1 && m[vend - 1] == '\r')
			vend--;
		colon++;
		while (colon < vend && hdr_is_wsp(m[colon]))
			colon++;
		f->name = m + pos;
		f->name_len = nend - pos;
		f->value = m + colon;
		f->value_len = vend - colon;
		f->off = pos;
		f->len = fend - pos;
		it->nfields++;
		return 1;
	}
}

bool
hdr_name_is(const struct hdr_field *f, const char *name)
{
	size_t n = strlen(name);

	return f->name_len == n && str_ieqn(f->name, name, n);
}

int
hdr_find(const char *msg, size_t len, const char *name, struct hdr_field *f)
{
	struct hdr_iter it;

	hdr_iter_init(&it, msg, len);
	while (hdr_iter_next(&it, f) > 0) {
		if (hdr_name_is(f, name))
			return 1;
	}
	return 0;
}

int
hdr_value_nul(const char *v, size_t n, struct buf *tmp, const char **v_r,
    size_t *n_r)
{
	size_t i, run = 0;

	*v_r = v;
	*n_r = n;
	if (n == 0 || memchr(v, '\0', n) == NULL)
		return 0;
	buf_reset(tmp);
	for (i = 0; i < n; i++) {
		if (v[i] != '\0')
			continue;
		if (buf_append(tmp, v + run, i - run) < 0 ||
		    buf_append(tmp, "\xef\xbf\xbd", 3) < 0)
			return -1;
		run = i + 1;
	}
	if (buf_append(tmp, v + run, n - run) < 0)
		return -1;
	*v_r = tmp->data;
	*n_r = tmp->len;
	return 0;
}

static bool
hdr_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* hdr_put_raw: append s[0..n) without CR, LF and NUL. */
static int
hdr_put_raw(struct buf *out, const char *s, size_t n)
{
	size_t i, run = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0') {
			if (buf_append(out, s + run, i - run) < 0)
				return -1;
			run = i + 1;
		}
	}
	return buf_append(out, s + run, n - run);
}

int
hdr_unfold(const char *value, size_t n, struct buf *out)
{
	size_t a = 0;

	while (a < n && hdr_is_space(value[a]))
		a++;
	while (n > a && hdr_is_space(value[n - 1]))
		n--;
	if (buf_reserve(out, 0) < 0)
		return -1;
	return hdr_put_raw(out, value + a, n - a);
}

struct hdr_ew {
	const char	*cs;		/* charset (language suffix cut) */
	size_t		 cslen;
	char		 enc;		/* 'B' or 'Q' */
	const char	*text;
	size_t		 textlen;
	size_t		 len;		/* whole encoded word */
};

/* hdr_ew_parse: "=?cs?e?text?=" at s (n bytes). true if well formed. */
static bool
hdr_ew_parse(const char *s, size_t n, struct hdr_ew *w)
{
	size_t i = 2, q;

	if (n < 8 || s[0] != '=' || s[1] != '?')
		return false;
	while (i < n && s[i] != '?') {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c >= 0x7f || c == '(' || c == ')' ||
		    c == '"' || c == '=')
			return false;
		i++;
	}
	if (i == 2 || i + 3 >= n || s[i + 2] != '?')
		return false;
	w->cs = s + 2;
	w->cslen = i - 2;
	q = 0;
	while (q < w->cslen && w->cs[q] != '*')
		q++;
	w->cslen = q;
	switch (s[i + 1]) {
	case 'b': case 'B':
		w->enc = 'B';
		break;
	case 'q': case 'Q':
		w->enc = 'Q';
		break;
	default:
		return false;
	}
	i += 3;
	w->text = s + i;
	while (i < n && s[i] != '?') {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c >= 0x7f)
			return false;
		i++;
	}
	if (i + 1 >= n || s[i + 1] != '=')
		return false;
	w->textlen = (size_t)(s + i - w->text);
	w->len = i + 2;
	return w->cslen > 0;
}

static int
hdr_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool
hdr_b64_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '='))
			return false;
	}
	return true;
}

/* hdr_ew_decode: append the decoded bytes of w to tmp. */
static int
hdr_ew_decode(const struct hdr_ew *w, struct buf *tmp)
{
	size_t i;

	if (w->enc == 'B') {
		long r;

		if (buf_reserve(tmp, w->textlen / 4 * 3 + 3) < 0)
			return -1;
		r = base64_decode_lax(w->text, w->textlen,
		    tmp->data + tmp->len);
		if (r > 0) {
			tmp->len += (size_t)r;
			tmp->data[tmp->len] = '\0';
		}
		return 0;
	}
	for (i = 0; i < w->textlen; i++) {
		char c = w->text[i];

		if (c == '_')
			c = ' ';
		else if (c == '=' && i + 2 < w->textlen) {
			int hi = hdr_hexval(w->text[i + 1]);
			int lo = hdr_hexval(w->text[i + 2]);

			if (hi >= 0 && lo >= 0) {
				c = (char)(hi * 16 + lo);
				i += 2;
			}
		}
		if (buf_putc(tmp, c) < 0)
			return -1;
	}
	return 0;
}

/* hdr_flush: convert the pending decoded bytes of cur into out. */
static int
hdr_flush(const struct hdr_ew *cur, struct buf *tmp, struct buf *out)
{
	int r;

	if (tmp->len == 0)
		return 0;	/* an encoded word that decodes to nothing */
	r = charset_to_utf8(cur->cs, cur->cslen, tmp->data, tmp->len, out);
	buf_reset(tmp);
	return r < 0 ? -1 : 0;
}

int
hdr_decode_2047(const char *value, size_t n, struct buf *out)
{
	struct buf tmp;
	struct hdr_ew w, cur;
	size_t i = 0, ws = 0, wsn = 0;
	bool have_cur = false, prev_ew = false;
	int ret = 0;

	buf_init(&tmp, n + 16);
	while (i < n && hdr_is_space(value[i]))
		i++;
	while (n > i && hdr_is_space(value[n - 1]))
		n--;
	memset(&cur, 0, sizeof(cur));
	if (buf_reserve(out, n - i) < 0)
		return -1;
	while (i < n) {
		char c = value[i];

		if (c == '=' && i + 1 < n && value[i + 1] == '?' &&
		    hdr_ew_parse(value + i, n - i, &w) &&
		    (w.enc != 'B' || hdr_b64_ok(w.text, w.textlen)) &&
		    charset_is_known(w.cs, w.cslen)) {
			/* adjacent words in one charset are joined before
			 * conversion: a character may be split between them */
			if (have_cur && (cur.cslen != w.cslen ||
			    !str_ieqn(cur.cs, w.cs, w.cslen))) {
				if (hdr_flush(&cur, &tmp, out) < 0) {
					ret = -1;
					break;
				}
				have_cur = false;
			}
			/* white space between two encoded words vanishes */
			if (!prev_ew && wsn > 0 &&
			    hdr_put_raw(out, value + ws, wsn) < 0) {
				ret = -1;
				break;
			}
			if (hdr_ew_decode(&w, &tmp) < 0) {
				ret = -1;
				break;
			}
			cur = w;
			have_cur = true;
			prev_ew = true;
			wsn = 0;
			i += w.len;
			continue;
		}
		if (hdr_is_space(c)) {
			if (wsn == 0)
				ws = i;
			wsn = i + 1 - ws;
			i++;
			continue;
		}
		if (have_cur) {
			if (hdr_flush(&cur, &tmp, out) < 0) {
				ret = -1;
				break;
			}
			have_cur = false;
		}
		if (wsn > 0 && hdr_put_raw(out, value + ws, wsn) < 0) {
			ret = -1;
			break;
		}
		wsn = 0;
		prev_ew = false;
		if (c != '\0' && buf_putc(out, c) < 0) {
			ret = -1;
			break;
		}
		i++;
	}
	if (ret == 0 && have_cur && hdr_flush(&cur, &tmp, out) < 0)
		ret = -1;
	buf_free(&tmp);
	return ret;
}
