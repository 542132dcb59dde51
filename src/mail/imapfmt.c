/*
 * imapfmt - ENVELOPE, BODY and BODYSTRUCTURE strings. See imapfmt.h.
 *
 * Input: message bytes (untrusted) and the tree mime_parse built from
 * them. Output follows RFC 3501 7.4.2 and, where the RFC leaves a choice,
 * what Dovecot 2.3 answers for the same message (checked against a
 * throwaway Dovecot 2.3.19 instance; see tests/unit/check_mail_mime.c):
 * case of types and parameters kept, "charset" "us-ascii" added to text
 * parts without one, "7bit" when Content-Transfer-Encoding is absent,
 * Sender and Reply-To default to From, subjects and names cleaned of
 * folding and written as literals when that changed them. Recursion is
 * bounded by MIME_MAX_DEPTH. Nothing is allocated per byte.
 */
#include <stdio.h>
#include <string.h>

#include "mail/addrlist.h"
#include "mail/hdr.h"
#include "mail/imapfmt.h"

int
imapfmt_nstring(struct buf *out, const char *s, size_t n)
{
	size_t i, esc = 0, nul = 0, run;
	bool lit = false;

	if (s == NULL)
		return buf_append(out, "NIL", 3);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			esc++;
		else if (c == '\r' || c == '\n' || c >= 0x80)
			lit = true;
		else if (c == '\0')
			nul++;
	}
	if (esc > 4)
		lit = true;
	if (lit) {
		if (buf_printf(out, "{%zu}\r\n", n - nul) < 0)
			return -1;
	} else if (buf_putc(out, '"') < 0)
		return -1;
	if (buf_reserve(out, n + (lit ? 0 : esc + 1)) < 0)
		return -1;
	run = 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '\0' || (!lit && (c == '"' || c == '\\'))) {
			if (buf_append(out, s + run, i - run) < 0)
				return -1;
			run = i + 1;
			if (c != '\0' && (buf_putc(out, '\\') < 0 ||
			    buf_putc(out, c) < 0))
				return -1;
		}
	}
	if (buf_append(out, s + run, n - run) < 0)
		return -1;
	return lit ? 0 : buf_putc(out, '"');
}

static bool
imf_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* imf_insert: insert p[0..n) at offset pos of out. */
static int
imf_insert(struct buf *out, size_t pos, const char *p, size_t n)
{
	if (buf_reserve(out, n) < 0)
		return -1;
	memmove(out->data + pos + n, out->data + pos, out->len - pos);
	memcpy(out->data + pos, p, n);
	out->len += n;
	out->data[out->len] = '\0';
	return 0;
}

int
imapfmt_string_human(struct buf *out, const char *s, size_t n)
{
	size_t pos = out->len, i, len;
	bool space = false, modified = false, special = false;
	char hdr[32];
	int hn;

	if (buf_reserve(out, n + 2) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		char c = s[i];
		size_t run;

		if (imf_is_space(c)) {
			if (c != ' ' || space || out->len == pos)
				modified = true;
			space = true;
			continue;
		}
		if (space && out->len > pos && buf_putc(out, ' ') < 0)
			return -1;
		space = false;
		if (c == '\0') {
			c = (char)0x80;
			modified = true;
			if (buf_putc(out, c) < 0)
				return -1;
			continue;
		}
		/* a run of ordinary characters in one append */
		run = i;
		while (i < n && !imf_is_space(s[i]) && s[i] != '\0') {
			if (s[i] == '"' || s[i] == '\\' ||
			    (unsigned char)s[i] >= 0x80)
				special = true;
			i++;
		}
		if (buf_append(out, s + run, i - run) < 0)
			return -1;
		i--;
	}
	if (space)
		modified = true;	/* trailing white space dropped */
	len = out->len - pos;
	if (len == 0)
		return buf_append(out, "\"\"", 2);
	if (!modified && !special) {
		if (imf_insert(out, pos, "\"", 1) < 0)
			return -1;
		return buf_putc(out, '"');
	}
	hn = snprintf(hdr, sizeof(hdr), "{%zu}\r\n", len);
	return imf_insert(out, pos, hdr, (size_t)hn);
}

/* imf_nstring_nolf: nstring with CR and LF removed (Dovecot's nolf). */
static int
imf_nstring_nolf(struct buf *out, const char *s, size_t n)
{
	struct buf tmp;
	size_t i;
	int r;

	if (s == NULL || (memchr(s, '\n', n) == NULL &&
	    memchr(s, '\r', n) == NULL))
		return imapfmt_nstring(out, s, n);
	buf_init(&tmp, n + 1);
	for (i = 0; i < n; i++) {
		if (s[i] != '\r' && s[i] != '\n') {
			if (buf_putc(&tmp, s[i]) < 0)
				break;
		} else if (i + 1 < n && s[i + 1] != ' ' && s[i + 1] != '\t' &&
		    s[i + 1] != '\r' && s[i + 1] != '\n') {
			if (buf_putc(&tmp, ' ') < 0)
				break;
		}
	}
	r = imapfmt_nstring(out, tmp.data != NULL ? tmp.data : "", tmp.len);
	buf_free(&tmp);
	return r;
}

struct imf_addr_ctx {
	struct buf	*out;
	bool		 in_group;
};

static int
imf_addr_cb(void *vctx, const struct addrlist_addr *a)
{
	struct imf_addr_ctx *c = vctx;
	struct buf *out = c->out;

	if (buf_putc(out, '(') < 0)
		return -1;
	if (a->name != NULL) {
		if (imapfmt_string_human(out, a->name, a->name_len) < 0)
			return -1;
	} else if (buf_puts(out, "NIL") < 0)
		return -1;
	if (buf_putc(out, ' ') < 0 ||
	    imapfmt_nstring(out, a->route, a->route_len) < 0 ||
	    buf_putc(out, ' ') < 0 ||
	    imapfmt_nstring(out, a->mailbox, a->mailbox_len) < 0 ||
	    buf_putc(out, ' ') < 0 ||
	    imapfmt_nstring(out, a->host, a->host_len) < 0 ||
	    buf_putc(out, ')') < 0)
		return -1;
	return 0;
}

int
imapfmt_addresses(struct buf *out, const char *v, size_t n)
{
	struct imf_addr_ctx c = { out, false };
	size_t pos = out->len;
	int r;

	if (v == NULL)
		return buf_puts(out, "NIL");
	if (buf_putc(out, '(') < 0)
		return -1;
	r = addrlist_parse(v, n, imf_addr_cb, &c);
	if (r < 0)
		return -1;
	if (r == 0) {
		out->len = pos;
		return buf_puts(out, "NIL");
	}
	return buf_putc(out, ')');
}

enum {
	ENV_DATE, ENV_SUBJECT, ENV_FROM, ENV_SENDER, ENV_REPLY_TO, ENV_TO,
	ENV_CC, ENV_BCC, ENV_IN_REPLY_TO, ENV_MESSAGE_ID, ENV_COUNT
};

static const char *const imf_env_names[ENV_COUNT] = {
	"date", "subject", "from", "sender", "reply-to", "to", "cc", "bcc",
	"in-reply-to", "message-id"
};

/* imf_list_empty: the address list holds no address (IMAP NIL) */
static int
imf_count_cb(void *ctx, const struct addrlist_addr *a)
{
	(void)ctx;
	(void)a;
	return -1;	/* one is enough */
}

static bool
imf_list_empty(const char *v, size_t n)
{
	return addrlist_parse(v, n, imf_count_cb, NULL) == 0;
}

#define ENV_MAX_REPEAT	16	/* repeated address fields kept */

struct imf_env {
	struct hdr_field	 last[ENV_COUNT];
	bool			 have[ENV_COUNT];
	struct hdr_field	 rep[ENV_COUNT][ENV_MAX_REPEAT];
	unsigned		 nrep[ENV_COUNT];
};

/* imf_env_list: the address lists of all fields of kind k as one list */
static int
imf_env_list(struct buf *out, const struct imf_env *e, int k)
{
	struct imf_addr_ctx c = { out, false };
	size_t pos = out->len;
	unsigned i;
	int n = 0, r;

	if (buf_putc(out, '(') < 0)
		return -1;
	for (i = 0; i < e->nrep[k]; i++) {
		r = addrlist_parse(e->rep[k][i].value, e->rep[k][i].value_len,
		    imf_addr_cb, &c);
		if (r < 0)
			return -1;
		n += r;
	}
	if (n == 0) {
		out->len = pos;
		return buf_puts(out, "NIL");
	}
	return buf_putc(out, ')');
}

static bool
imf_env_empty(const struct imf_env *e, int k)
{
	unsigned i;

	for (i = 0; i < e->nrep[k]; i++)
		if (!imf_list_empty(e->rep[k][i].value,
		    e->rep[k][i].value_len))
			return false;
	return true;
}

/* imf_env_write: the envelope from collected fields */
static int
imf_env_write(struct buf *out, const struct imf_env *e)
{
	int k, src;

	if (buf_putc(out, '(') < 0)
		return -1;
	if (imf_nstring_nolf(out, e->have[ENV_DATE] ?
	    e->last[ENV_DATE].value : NULL, e->have[ENV_DATE] ?
	    e->last[ENV_DATE].value_len : 0) < 0 || buf_putc(out, ' ') < 0)
		return -1;
	if (!e->have[ENV_SUBJECT]) {
		if (buf_puts(out, "NIL") < 0)
			return -1;
	} else if (imapfmt_string_human(out, e->last[ENV_SUBJECT].value,
	    e->last[ENV_SUBJECT].value_len) < 0)
		return -1;
	for (k = ENV_FROM; k <= ENV_BCC; k++) {
		src = k;
		if ((k == ENV_SENDER || k == ENV_REPLY_TO) &&
		    imf_env_empty(e, k))
			src = ENV_FROM;
		if (buf_putc(out, ' ') < 0 || imf_env_list(out, e, src) < 0)
			return -1;
	}
	for (k = ENV_IN_REPLY_TO; k <= ENV_MESSAGE_ID; k++) {
		if (buf_putc(out, ' ') < 0 ||
		    imf_nstring_nolf(out, e->have[k] ? e->last[k].value : NULL,
		    e->have[k] ? e->last[k].value_len : 0) < 0)
			return -1;
	}
	return buf_putc(out, ')');
}

int
imapfmt_envelope(struct buf *out, const char *hdr, size_t len)
{
	struct imf_env e;
	struct hdr_iter it;
	struct hdr_field f;
	struct buf nul;
	int k, r;

	memset(e.have, 0, sizeof(e.have));
	memset(e.nrep, 0, sizeof(e.nrep));
	/* callers may pass the whole message: only the header counts */
	(void)hdr_body_offset(hdr, len, &len);
	/* NULs in values become U+FFFD (as Dovecot): copies go to nul,
	 * reserved once for the worst case so that it never moves */
	buf_init(&nul, 3 * len + 64);
	hdr_iter_init(&it, hdr, len);
	while (hdr_iter_next(&it, &f) > 0) {
		for (k = 0; k < ENV_COUNT; k++) {
			if (!hdr_name_is(&f, imf_env_names[k]))
				continue;
			/* address lists keep their NULs: the address parser
			 * stops atoms there (as Dovecot's does) */
			if ((k < ENV_FROM || k > ENV_BCC) &&
			    memchr(f.value, '\0', f.value_len) != NULL) {
				size_t at = nul.len, i;

				/* the values add up to at most len bytes,
				 * 3 * len after replacement: reserve once */
				if (nul.data == NULL &&
				    buf_reserve(&nul, 3 * len + 16) < 0)
					break;
				for (i = 0; i < f.value_len; i++) {
					char ch = f.value[i];

					if (ch != '\0')
						nul.data[nul.len++] = ch;
					else {
						memcpy(nul.data + nul.len,
						    "\xef\xbf\xbd", 3);
						nul.len += 3;
					}
				}
				f.value = nul.data + at;
				f.value_len = nul.len - at;
			}
			/* Dovecot: the last one wins, address lists add up */
			e.last[k] = f;
			e.have[k] = true;
			if (e.nrep[k] < ENV_MAX_REPEAT)
				e.rep[k][e.nrep[k]++] = f;
			break;
		}
	}
	r = imf_env_write(out, &e);
	buf_free(&nul);
	return r;
}

static int
imf_str(struct buf *out, const struct mime_tree *t, struct mime_str s)
{
	size_t n;
	const char *p = mime_str(t, s, &n);

	return imapfmt_nstring(out, p, n);
}

/* imf_params: ("name" "value" ...) or NIL; add_charset for text parts */
static int
imf_params(struct buf *out, const struct mime_tree *t, uint32_t first,
    uint32_t n, bool add_charset)
{
	uint32_t i;

	if (n == 0 && !add_charset)
		return buf_puts(out, "NIL");
	if (buf_putc(out, '(') < 0)
		return -1;
	for (i = first; i < first + n; i++) {
		if (i > first && buf_putc(out, ' ') < 0)
			return -1;
		if (imf_str(out, t, t->params[i].name) < 0 ||
		    buf_putc(out, ' ') < 0 ||
		    imf_str(out, t, t->params[i].value) < 0)
			return -1;
		if (mime_str_is(t, t->params[i].name, "charset"))
			add_charset = false;
	}
	if (add_charset && buf_printf(out, "%s\"charset\" \"us-ascii\"",
	    n > 0 ? " " : "") < 0)
		return -1;
	return buf_putc(out, ')');
}

/* imf_ext: disposition, language, location (shared by both kinds) */
static int
imf_ext(struct buf *out, const struct mime_tree *t,
    const struct mime_part *p)
{
	uint32_t i;

	if (buf_putc(out, ' ') < 0)
		return -1;
	if (p->disp.off == MIME_NIL) {
		if (buf_puts(out, "NIL") < 0)
			return -1;
	} else if (buf_putc(out, '(') < 0 || imf_str(out, t, p->disp) < 0 ||
	    buf_putc(out, ' ') < 0 ||
	    imf_params(out, t, p->dparam, p->ndparam, false) < 0 ||
	    buf_putc(out, ')') < 0)
		return -1;
	if (buf_putc(out, ' ') < 0)
		return -1;
	if (p->nlang == 0) {
		if (buf_puts(out, "NIL") < 0)
			return -1;
	} else {
		if (buf_putc(out, '(') < 0)
			return -1;
		for (i = p->lang; i < p->lang + p->nlang; i++) {
			if ((i > p->lang && buf_putc(out, ' ') < 0) ||
			    imf_str(out, t, t->params[i].value) < 0)
				return -1;
		}
		if (buf_putc(out, ')') < 0)
			return -1;
	}
	if (buf_putc(out, ' ') < 0 || imf_str(out, t, p->loc) < 0)
		return -1;
	return 0;
}

int
imapfmt_body(struct buf *out, const struct mime_tree *t, int idx,
    bool extended)
{
	const struct mime_part *p = &t->parts[idx];
	bool text, rfc822, deftype;
	int ch;

	if (buf_putc(out, '(') < 0)
		return -1;
	if ((p->flags & MIME_F_MULTIPART) != 0) {
		for (ch = p->child; ch >= 0; ch = t->parts[ch].next)
			if (imapfmt_body(out, t, ch, extended) < 0)
				return -1;
		if (buf_putc(out, ' ') < 0 || imf_str(out, t, p->subtype) < 0)
			return -1;
		if (extended && (buf_putc(out, ' ') < 0 ||
		    imf_params(out, t, p->param, p->nparam, false) < 0 ||
		    imf_ext(out, t, p) < 0))
			return -1;
		return buf_putc(out, ')');
	}
	rfc822 = (p->flags & MIME_F_RFC822) != 0 && p->child >= 0;
	deftype = (p->flags & MIME_F_DEFAULT_TYPE) != 0;
	if (!rfc822 && (mime_str_is(t, p->type, "multipart") ||
	    ((p->flags & MIME_F_OVERFLOW) != 0 &&
	    mime_str_is(t, p->type, "message")))) {
		/* a container we could not open (past the caps, or
		 * "multipart" without a subtype): opaque data */
		if (buf_puts(out, "\"application\" \"octet-stream\"") < 0)
			return -1;
		text = false;
	} else if (deftype) {
		if (buf_puts(out, "\"text\" \"plain\"") < 0)
			return -1;
		text = true;
	} else {
		if (imf_str(out, t, p->type) < 0 || buf_putc(out, ' ') < 0 ||
		    imf_str(out, t, p->subtype) < 0)
			return -1;
		text = mime_str_is(t, p->type, "text");
	}
	if (buf_putc(out, ' ') < 0 ||
	    imf_params(out, t, p->param, p->nparam, text) < 0 ||
	    buf_putc(out, ' ') < 0 || imf_str(out, t, p->id) < 0 ||
	    buf_putc(out, ' ') < 0 || imf_str(out, t, p->desc) < 0 ||
	    buf_putc(out, ' ') < 0)
		return -1;
	if (p->cte.off == MIME_NIL || p->cte.len == 0) {
		if (buf_puts(out, "\"7bit\"") < 0)
			return -1;
	} else if (imf_str(out, t, p->cte) < 0)
		return -1;
	if (buf_printf(out, " %zu", p->body_size + p->body_bare_lf) < 0)
		return -1;
	if (rfc822) {
		const struct mime_part *m = &t->parts[p->child];

		if (buf_putc(out, ' ') < 0 ||
		    imapfmt_envelope(out, t->msg + m->hdr_off,
		    m->hdr_size) < 0 || buf_putc(out, ' ') < 0 ||
		    imapfmt_body(out, t, p->child, extended) < 0 ||
		    buf_printf(out, " %zu", p->body_lines) < 0)
			return -1;
	} else if (text && buf_printf(out, " %zu", p->body_lines) < 0)
		return -1;
	if (extended && (buf_putc(out, ' ') < 0 ||
	    imf_str(out, t, p->md5) < 0 || imf_ext(out, t, p) < 0))
		return -1;
	return buf_putc(out, ')');
}
