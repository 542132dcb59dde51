/*
 * mailauth - the inbound check (SPF + DKIM + DMARC into one
 * Authentication-Results field, RFC 8601) and outbound signing that the
 * SMTP server calls.
 *
 * Input: an untrusted message and envelope. The header block is walked
 * with mail/hdr.h (bounded by HDR_MAX_FIELDS / HDR_MAX_SIZE); From
 * addresses with mail/addrlist.h. Up to MAILAUTH_MAX_FROM distinct From
 * domains are evaluated for DMARC and the strictest outcome wins, so a
 * second From field cannot dodge a p=reject.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "core/timeutil.h"
#include "core/xmalloc.h"
#include "mail/addrlist.h"
#include "mail/hdr.h"
#include "mailauth/mailauth.h"

#define MAILAUTH_MAX_FROM	4

static const char mailauth_reject[] =
    "550 5.7.1 Message rejected per DMARC policy of the From domain";

/* ------------------------------------------------------------------ */
/* From domains                                                        */

struct ma_from {
	char	(*doms)[256];
	size_t	 max;
	size_t	 n;
};

static int
ma_from_cb(void *arg, const struct addrlist_addr *a)
{
	struct ma_from *f = arg;
	char d[256];
	size_t i;

	if (a->kind != ADDRLIST_MAILBOX || a->host == NULL ||
	    a->host_len == 0 || a->host_len >= sizeof(d))
		return 0;
	memcpy(d, a->host, a->host_len);
	d[a->host_len] = '\0';
	str_lower(d);
	if (strchr(d, '.') == NULL || !dns_name_valid(d))
		return 0;
	for (i = 0; i < f->n; i++)
		if (strcmp(f->doms[i], d) == 0)
			return 0;
	if (f->n < f->max)
		str_copy(f->doms[f->n++], d, 256);
	return 0;
}

size_t
mailauth_from_domains(const char *msg, size_t len, char (*doms)[256],
    size_t max)
{
	struct hdr_iter it;
	struct hdr_field f;
	struct ma_from mf;

	mf.doms = doms;
	mf.max = max;
	mf.n = 0;
	hdr_iter_init(&it, msg, len);
	while (hdr_iter_next(&it, &f) == 1) {
		if (!hdr_name_is(&f, "from"))
			continue;
		(void)addrlist_parse(f.value, f.value_len, ma_from_cb, &mf);
	}
	return mf.n;
}

/* ------------------------------------------------------------------ */
/* Authentication-Results                                              */

/* A comment's text: parentheses and backslashes dropped. */
static int
ma_comment(struct buf *b, const char *s)
{
	if (buf_puts(b, " (") < 0)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s == '(' || *s == ')' || *s == '\\' ||
		    (unsigned char)*s < 0x20)
			continue;
		if (buf_putc(b, *s) < 0)
			return -1;
	}
	return buf_putc(b, ')');
}

int
mailauth_ar_format(const char *id, const struct mailauth_results *r,
    struct buf *out)
{
	const struct dmarc_outcome *dm = &r->dmarc;
	size_t i;

	if (buf_printf(out, "Authentication-Results: %s;\n\tspf=%s", id,
	    spf_result_name(r->spf)) < 0)
		return -1;
	if (r->spf_why != NULL && ma_comment(out, r->spf_why) < 0)
		return -1;
	if (r->spf_domain[0] != '\0' && buf_printf(out, " %s=%s",
	    r->spf_helo ? "smtp.helo" : "smtp.mailfrom", r->spf_domain) < 0)
		return -1;
	if (r->ndkim == 0 && buf_puts(out, ";\n\tdkim=none") < 0)
		return -1;
	for (i = 0; i < r->ndkim; i++) {
		const struct dkim_verdict *v = &r->dkim[i];

		if (buf_printf(out, ";\n\tdkim=%s",
		    dkim_result_name(v->result)) < 0)
			return -1;
		if (v->why != NULL && ma_comment(out, v->why) < 0)
			return -1;
		if (v->d[0] != '\0' && buf_printf(out, " header.d=%s", v->d) <
		    0)
			return -1;
		if (v->s[0] != '\0' && buf_printf(out, " header.s=%s", v->s) <
		    0)
			return -1;
		if (v->alg_known && buf_printf(out, " header.a=%s",
		    v->alg == DKIM_RSA_SHA256 ? "rsa-sha256" :
		    "ed25519-sha256") < 0)
			return -1;
		if (v->b8[0] != '\0' && buf_printf(out, " header.b=\"%s\"",
		    v->b8) < 0)
			return -1;
	}
	if (buf_printf(out, ";\n\tdmarc=%s", dmarc_result_name(dm->result)) <
	    0)
		return -1;
	if (dm->result == DMARC_PASS || dm->result == DMARC_FAIL) {
		if (buf_printf(out, " (p=%s dis=%s%s)",
		    dmarc_policy_name(dm->requested),
		    dmarc_policy_name(dm->result == DMARC_FAIL ? dm->policy :
		    DMARC_P_NONE), dm->sampled_out ? " pct" : "") < 0)
			return -1;
	} else if (dm->why != NULL && ma_comment(out, dm->why) < 0) {
		return -1;
	}
	if (dm->from[0] != '\0' && buf_printf(out, " header.from=%s",
	    dm->from) < 0)
		return -1;
	return buf_putc(out, '\n');
}

/* The authserv-id of an Authentication-Results value is id. */
static bool
ma_ar_claims(const char *v, size_t n, const char *id)
{
	size_t i = 0, s, depth;

	for (;;) {
		while (i < n && strchr(" \t\r\n", v[i]) != NULL)
			i++;
		if (i < n && v[i] == '(') {
			depth = 0;
			for (; i < n; i++) {
				if (v[i] == '\\' && i + 1 < n) {
					i++;
					continue;
				}
				if (v[i] == '(')
					depth++;
				else if (v[i] == ')' && --depth == 0) {
					i++;
					break;
				}
			}
			continue;
		}
		break;
	}
	s = i;
	while (i < n && strchr(" \t\r\n;(", v[i]) == NULL)
		i++;
	return i - s == strlen(id) && i > s && str_ieqn(v + s, id, i - s);
}

int
mailauth_ar_strip(const char *id, const char *msg, size_t len,
    struct buf *out, size_t *skip_r)
{
	struct hdr_iter it;
	struct hdr_field f;
	size_t pos = 0, last = 0;
	bool any = false;
	int r;

	*skip_r = 0;
	/* first pass: where is the last field to drop? */
	hdr_iter_init(&it, msg, len);
	while ((r = hdr_iter_next(&it, &f)) == 1) {
		if (hdr_name_is(&f, "authentication-results") &&
		    ma_ar_claims(f.value, f.value_len, id)) {
			any = true;
			last = f.off + f.len;
		}
	}
	if (r < 0)
		return -1;
	if (!any)
		return 0;
	hdr_iter_init(&it, msg, last);
	while (hdr_iter_next(&it, &f) == 1) {
		if (!hdr_name_is(&f, "authentication-results") ||
		    !ma_ar_claims(f.value, f.value_len, id))
			continue;
		if (buf_append(out, msg + pos, f.off - pos) < 0)
			return -1;
		pos = f.off + f.len;
	}
	if (buf_append(out, msg + pos, last - pos) < 0)
		return -1;
	*skip_r = last;
	return 1;
}

/* ------------------------------------------------------------------ */
/* DNS for one message: once a lookup timed out, the resolver is taken
 * as down and the remaining lookups fail at once (temperror) instead of
 * each waiting for its own timeout. A quick SERVFAIL does not count.  */

#define MA_DNS_SLOW_MS	1500

struct ma_dns {
	const struct resolve *real;
	bool		 down;
};

static enum dns_status
ma_note(struct ma_dns *m, uint64_t t0, enum dns_status st)
{
	if (st == DNS_TEMP && time_mono_ms() - t0 >= MA_DNS_SLOW_MS)
		m->down = true;
	return st;
}

static enum dns_status
ma_txt(void *arg, const char *name, char ***txt_r, size_t *n_r)
{
	struct ma_dns *m = arg;
	uint64_t t0 = time_mono_ms();

	*txt_r = NULL;
	*n_r = 0;
	if (m->down)
		return DNS_TEMP;
	return ma_note(m, t0, m->real->txt(m->real->arg, name, txt_r, n_r));
}

static enum dns_status
ma_addr(void *arg, const char *name, int family, struct dns_addr *out,
    size_t max, size_t *n_r)
{
	struct ma_dns *m = arg;
	uint64_t t0 = time_mono_ms();

	*n_r = 0;
	if (m->down)
		return DNS_TEMP;
	return ma_note(m, t0, m->real->addr(m->real->arg, name, family, out,
	    max, n_r));
}

static enum dns_status
ma_mx(void *arg, const char *name, struct dns_mx **mx_r, size_t *n_r)
{
	struct ma_dns *m = arg;
	uint64_t t0 = time_mono_ms();

	*mx_r = NULL;
	*n_r = 0;
	if (m->down)
		return DNS_TEMP;
	return ma_note(m, t0, m->real->mx(m->real->arg, name, mx_r, n_r));
}

static enum dns_status
ma_ptr(void *arg, const struct dns_addr *a, char ***names_r, size_t *n_r)
{
	struct ma_dns *m = arg;
	uint64_t t0 = time_mono_ms();

	*names_r = NULL;
	*n_r = 0;
	if (m->down)
		return DNS_TEMP;
	return ma_note(m, t0, m->real->ptr(m->real->arg, a, names_r, n_r));
}

/* ------------------------------------------------------------------ */
/* The check                                                           */

/* a worse DMARC outcome than b (to keep the strictest of several) */
static bool
ma_worse(const struct dmarc_outcome *a, const struct dmarc_outcome *b)
{
	static const int rank[] = { 1, 0, 4, 3, 2 };	/* by result */

	if (a->result == DMARC_FAIL && b->result == DMARC_FAIL)
		return a->policy > b->policy;
	return rank[a->result] > rank[b->result];
}

enum mailauth_verdict
mailauth_check(const struct mailauth_ctx *ctx, const char *client_ip,
    const char *helo, const char *mail_from, const char *msg, size_t len,
    struct buf *head_r, size_t *skip_r, const char **smtp_reply_r,
    struct mailauth_results *res_r)
{
	struct ma_dns md = { ctx->dns != NULL ? ctx->dns : resolve_default(),
	    false };
	const struct resolve wrap = { ma_txt, ma_addr, ma_mx, ma_ptr, &md };
	const struct resolve *dns = &wrap;
	struct mailauth_results *r = res_r;
	struct dmarc_input in;
	struct dmarc_outcome dm;
	char froms[MAILAUTH_MAX_FROM][256];
	enum mailauth_verdict v = MAILAUTH_ACCEPT;
	size_t nfrom, i, hlen;
	const char *at;
	time_t now = ctx->now != 0 ? ctx->now : time(NULL);

	*skip_r = 0;
	*smtp_reply_r = NULL;
	if (r == NULL)
		r = xmalloc(sizeof(*r));
	memset(r, 0, sizeof(*r));

	/* SPF: MAIL FROM, or the HELO identity for the null sender */
	if (mail_from == NULL)
		mail_from = "";
	r->spf = spf_check(dns, client_ip, helo, mail_from, &r->spf_why);
	at = strrchr(mail_from, '@');
	if (*mail_from == '\0') {
		r->spf_helo = true;
		if (helo != NULL && dns_name_valid(helo))
			str_copy(r->spf_domain, helo, sizeof(r->spf_domain));
	} else if (at != NULL && dns_name_valid(at + 1)) {
		str_copy(r->spf_domain, at + 1, sizeof(r->spf_domain));
	}
	str_lower(r->spf_domain);

	if (dkim_verify(dns, msg, len, now, r->dkim, DKIM_MAX_SIGS,
	    &r->ndkim) < 0)
		r->ndkim = 0;

	memset(&in, 0, sizeof(in));
	in.spf = r->spf;
	in.spf_domain = r->spf_domain;
	in.dkim = r->dkim;
	in.ndkim = r->ndkim;
	nfrom = mailauth_from_domains(msg, len, froms, MAILAUTH_MAX_FROM);
	if (nfrom == 0) {
		dmarc_evaluate(dns, &in, ctx->pct_roll, &r->dmarc);
	}
	for (i = 0; i < nfrom; i++) {
		in.from_domain = froms[i];
		dmarc_evaluate(dns, &in, ctx->pct_roll, &dm);
		if (i == 0 || ma_worse(&dm, &r->dmarc))
			r->dmarc = dm;
	}
	if (ctx->dmarc_reject && r->dmarc.result == DMARC_FAIL &&
	    r->dmarc.policy == DMARC_P_REJECT) {
		v = MAILAUTH_REJECT;
		*smtp_reply_r = mailauth_reject;
	}

	hlen = head_r->len;
	if (mailauth_ar_format(ctx->hostname, r, head_r) < 0 ||
	    mailauth_ar_strip(ctx->hostname, msg, len, head_r, skip_r) < 0) {
		/* no room (a header block near HDR_MAX_SIZE): deliver
		 * unmarked rather than lose the mail */
		head_r->len = hlen;
		if (head_r->data != NULL)
			head_r->data[hlen] = '\0';
		*skip_r = 0;
	}
	if (res_r == NULL)
		free(r);
	return v;
}

int
mailauth_sign(const struct mailauth_key *k, const char *msg, size_t len,
    time_t now, struct buf *sig_r, const char **why_r)
{
	struct dkim_signer sg;

	memset(&sg, 0, sizeof(sg));
	sg.domain = k->domain;
	sg.selector = k->selector;
	sg.pem = k->pem;
	sg.t = now != 0 ? now : time(NULL);
	return dkim_sign(&sg, msg, len, sig_r, why_r);
}
