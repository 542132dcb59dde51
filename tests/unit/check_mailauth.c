/*
 * check_mailauth - DKIM canonicalization, tag lists, signature and key
 * record parsing, signing and verification (RFC 6376, RFC 8463 vectors),
 * with DNS records injected through a struct resolve.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "core/buf.h"
#include "core/str.h"
#include "core/xmalloc.h"
#include "mailauth/canon.h"
#include "mailauth/dkim.h"
#include "mailauth/resolve.h"
#include "mailauth/spf.h"
#include "mailauth/dmarc.h"
#include "mailauth/mailauth.h"
#include "mailauth/psl.h"
#include "mailauth/taglist.h"
#include "testutil.h"

/* ------------------------------------------------------------------ */
/* A DNS of fixed records                                               */

struct mock_rr {
	const char	*name;
	char		 type;		/* 'T' TXT, 'A', '6' AAAA, 'M' MX, 'P' */
	const char	*val;		/* NULL: a status only */
	enum dns_status	 st;
};

static const struct mock_rr *mock_rrs;
static unsigned mock_queries;

static enum dns_status
mock_find(const char *name, char type, const struct mock_rr **list,
    size_t *n_r)
{
	const struct mock_rr *r;
	size_t n = 0;
	bool exists = false;

	mock_queries++;
	for (r = mock_rrs; r != NULL && r->name != NULL; r++) {
		if (strcasecmp(r->name, name) != 0)
			continue;
		exists = true;
		if (r->type != type)
			continue;
		if (r->val == NULL)
			return r->st;
		list[n++] = r;
	}
	*n_r = n;
	if (n > 0)
		return DNS_OK;
	return exists ? DNS_NODATA : DNS_NXDOMAIN;
}

static enum dns_status
mock_txt(void *arg, const char *name, char ***txt_r, size_t *n_r)
{
	const struct mock_rr *l[64];
	enum dns_status st;
	size_t n = 0, i;

	(void)arg;
	*txt_r = NULL;
	*n_r = 0;
	st = mock_find(name, 'T', l, &n);
	if (st != DNS_OK)
		return st;
	*txt_r = xcalloc(n, sizeof(char *));
	for (i = 0; i < n; i++)
		(*txt_r)[i] = xstrdup(l[i]->val);
	*n_r = n;
	return DNS_OK;
}

static enum dns_status
mock_addr(void *arg, const char *name, int family, struct dns_addr *out,
    size_t max, size_t *n_r)
{
	const struct mock_rr *l[64];
	enum dns_status st;
	size_t n = 0, i;

	(void)arg;
	*n_r = 0;
	st = mock_find(name, family == AF_INET ? 'A' : '6', l, &n);
	if (st != DNS_OK)
		return st;
	for (i = 0; i < n && i < max; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].family = family;
		ck_assert_int_eq(inet_pton(family, l[i]->val, out[i].addr), 1);
	}
	*n_r = i;
	return DNS_OK;
}

static enum dns_status
mock_mx(void *arg, const char *name, struct dns_mx **mx_r, size_t *n_r)
{
	const struct mock_rr *l[64];
	enum dns_status st;
	size_t n = 0, i;

	(void)arg;
	*mx_r = NULL;
	*n_r = 0;
	st = mock_find(name, 'M', l, &n);
	if (st != DNS_OK)
		return st;
	*mx_r = xcalloc(n, sizeof(**mx_r));
	for (i = 0; i < n; i++) {
		(*mx_r)[i].pref = (uint16_t)(10 * i);
		str_copy((*mx_r)[i].host, l[i]->val, sizeof((*mx_r)[i].host));
	}
	*n_r = n;
	return DNS_OK;
}

static enum dns_status
mock_ptr(void *arg, const struct dns_addr *a, char ***names_r, size_t *n_r)
{
	char ip[64];

	inet_ntop(a->family, a->addr, ip, sizeof(ip));
	/* PTR records are keyed by the address text in this mock */
	{
		const struct mock_rr *l[64];
		enum dns_status st;
		size_t n = 0, i;

		(void)arg;
		*names_r = NULL;
		*n_r = 0;
		st = mock_find(ip, 'P', l, &n);
		if (st != DNS_OK)
			return st;
		*names_r = xcalloc(n, sizeof(char *));
		for (i = 0; i < n; i++)
			(*names_r)[i] = xstrdup(l[i]->val);
		*n_r = n;
	}
	return DNS_OK;
}

static const struct resolve mock_dns = {
	mock_txt, mock_addr, mock_mx, mock_ptr, NULL
};

/* LF message text -> CRLF copy (caller frees). */
static char *
crlf_of(const char *s, size_t *n_r)
{
	size_t n = strlen(s), i, o = 0;
	char *d = xmalloc(2 * n + 1);

	for (i = 0; i < n; i++) {
		if (s[i] == '\n')
			d[o++] = '\r';
		d[o++] = s[i];
	}
	d[o] = '\0';
	*n_r = o;
	return d;
}

/* ------------------------------------------------------------------ */
/* Canonicalization                                                    */

static void
hcanon(enum canon_alg a, const char *raw, bool crlf, const char *want)
{
	struct buf b;

	buf_init(&b, 4096);
	ck_assert_int_eq(canon_header(a, raw, strlen(raw), crlf, &b), 0);
	ck_assert_msg(b.len == strlen(want) && memcmp(b.data, want, b.len) ==
	    0, "canon of [%s]: got [%s] want [%s]", raw, buf_cstr(&b), want);
	buf_free(&b);
}

START_TEST(test_canon_header_rfc)
{
	/* RFC 6376 3.4.6 example */
	hcanon(CANON_RELAXED, "A: X\r\n", true, "a:X\r\n");
	hcanon(CANON_RELAXED, "B : Y\t\r\n\tZ  \r\n", true, "b:Y Z\r\n");
	hcanon(CANON_SIMPLE, "A: X\r\n", true, "A: X\r\n");
	hcanon(CANON_SIMPLE, "B : Y\t\r\n\tZ  \r\n", false,
	    "B : Y\t\r\n\tZ  ");
	/* LF line ends count as CRLF */
	hcanon(CANON_RELAXED, "B : Y\t\n\tZ  \n", true, "b:Y Z\r\n");
	hcanon(CANON_SIMPLE, "B : Y\t\n\tZ  \n", true, "B : Y\t\r\n\tZ  \r\n");
	/* case of the name, empty value, WSP only value */
	hcanon(CANON_RELAXED, "SUBJECT:\n", true, "subject:\r\n");
	hcanon(CANON_RELAXED, "Subject:   \t \n", true, "subject:\r\n");
	hcanon(CANON_RELAXED, "X-A:  a   b\tc \n", false, "x-a:a b c");
	/* a bare CR inside a value is an ordinary byte */
	hcanon(CANON_RELAXED, "X: a\rb\n", false, "x:a\rb");
}
END_TEST

struct sinkbuf {
	char	 d[8192];
	size_t	 n;
};

static void
sink(void *arg, const void *p, size_t n)
{
	struct sinkbuf *s = arg;

	ck_assert(s->n + n <= sizeof(s->d));
	memcpy(s->d + s->n, p, n);
	s->n += n;
}

/* whole and byte-at-a-time must agree */
static void
bcanon(enum canon_alg a, const char *body, const char *want)
{
	struct canon_body cb;
	struct sinkbuf s1, s2;
	size_t i, n = strlen(body);
	uint64_t t1, t2;

	s1.n = s2.n = 0;
	canon_body_init(&cb, a, sink, &s1, false, 0);
	canon_body_update(&cb, body, n);
	t1 = canon_body_final(&cb);
	canon_body_init(&cb, a, sink, &s2, false, 0);
	for (i = 0; i < n; i++)
		canon_body_update(&cb, body + i, 1);
	t2 = canon_body_final(&cb);
	ck_assert_msg(s1.n == strlen(want) && memcmp(s1.d, want, s1.n) == 0,
	    "body [%s] -> [%.*s] want [%s]", body, (int)s1.n, s1.d, want);
	ck_assert_uint_eq(s1.n, s2.n);
	ck_assert(memcmp(s1.d, s2.d, s1.n) == 0);
	ck_assert_uint_eq(t1, s1.n);
	ck_assert_uint_eq(t2, s2.n);
}

START_TEST(test_canon_body_rfc)
{
	/* RFC 6376 3.4.6 */
	const char *b = " C \r\nD \t E\r\n\r\n\r\n";

	bcanon(CANON_RELAXED, b, " C\r\nD E\r\n");
	bcanon(CANON_SIMPLE, b, " C \r\nD \t E\r\n");
	/* same with LF line ends */
	bcanon(CANON_RELAXED, " C \nD \t E\n\n\n", " C\r\nD E\r\n");
	bcanon(CANON_SIMPLE, " C \nD \t E\n\n\n", " C \r\nD \t E\r\n");
}
END_TEST

static const struct {
	enum canon_alg	 a;
	const char	*in;
	const char	*out;
} body_cases[] = {
	{ CANON_RELAXED, "", "" },
	{ CANON_SIMPLE, "", "\r\n" },
	{ CANON_RELAXED, "\n\n\n", "" },
	{ CANON_SIMPLE, "\r\n\r\n", "\r\n" },
	{ CANON_RELAXED, "x", "x\r\n" },		/* no final line end */
	{ CANON_SIMPLE, "x", "x\r\n" },
	{ CANON_RELAXED, "  \t \n", "" },		/* WSP only: empty */
	{ CANON_SIMPLE, "  \t \n", "  \t \r\n" },
	{ CANON_RELAXED, "a\n \n\nb\n", "a\r\n\r\n\r\nb\r\n" },
	{ CANON_RELAXED, "a\rb\n", "a\rb\r\n" },	/* bare CR kept */
	{ CANON_RELAXED, "a\r", "a\r\r\n" },
	{ CANON_SIMPLE, "a\r\n\r", "a\r\n\r\r\n" },
	{ CANON_RELAXED, "a  \t b\t\n", "a b\r\n" },
	{ CANON_RELAXED, "\tlead\n", " lead\r\n" },
	{ CANON_SIMPLE, "x\0y\n", "x" },		/* NUL: see below */
};

START_TEST(test_canon_body_cases)
{
	if (body_cases[_i].in[0] == 'x' && body_cases[_i].in[1] == '\0' &&
	    body_cases[_i].out[1] == '\0')
		return;	/* the NUL row is tested in test_canon_body_nul */
	bcanon(body_cases[_i].a, body_cases[_i].in, body_cases[_i].out);
}
END_TEST

START_TEST(test_canon_body_nul)
{
	struct canon_body cb;
	struct sinkbuf s;

	s.n = 0;
	canon_body_init(&cb, CANON_RELAXED, sink, &s, false, 0);
	canon_body_update(&cb, "a\0b \n", 5);
	ck_assert_uint_eq(canon_body_final(&cb), 5);
	ck_assert(memcmp(s.d, "a\0b\r\n", 5) == 0);
}
END_TEST

START_TEST(test_canon_body_limit)
{
	struct canon_body cb;
	struct sinkbuf s;

	s.n = 0;
	canon_body_init(&cb, CANON_RELAXED, sink, &s, true, 4);
	canon_body_update(&cb, "abc\ndef\n", 8);
	ck_assert_uint_eq(canon_body_final(&cb), 10);
	ck_assert_uint_eq(s.n, 4);
	ck_assert(memcmp(s.d, "abc\r", 4) == 0);
	/* l=0: nothing hashed */
	s.n = 0;
	canon_body_init(&cb, CANON_SIMPLE, sink, &s, true, 0);
	canon_body_update(&cb, "abc\n", 4);
	ck_assert_uint_eq(canon_body_final(&cb), 5);
	ck_assert_uint_eq(s.n, 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Tag lists                                                           */

START_TEST(test_taglist)
{
	static const char v[] = " v = 1 ;\r\n a=x y\t; b=;c=3;";
	struct taglist tl;
	struct tag t;

	taglist_init(&tl, v, strlen(v));
	ck_assert_int_eq(taglist_next(&tl, &t), 1);
	ck_assert(taglist_is(&t, "v"));
	ck_assert_buf_str(t.value, t.value_len, "1");
	ck_assert_int_eq(taglist_next(&tl, &t), 1);
	ck_assert_buf_str(t.value, t.value_len, "x y");
	ck_assert_int_eq(taglist_next(&tl, &t), 1);
	ck_assert(taglist_is(&t, "b"));
	ck_assert_uint_eq(t.value_len, 0);
	ck_assert_int_eq(taglist_next(&tl, &t), 1);
	ck_assert_int_eq(taglist_next(&tl, &t), 0);
}
END_TEST

static const char *const bad_taglists[] = {
	"=1", "1a=2", "a", "a=1;;b=2", "a 1", "a=\x01", "a=\x80",
	"a=b\0c", ";", "a=1; =2",
};

START_TEST(test_taglist_bad)
{
	const char *s = bad_taglists[_i];
	size_t n = strcmp(s, "a=b") == 0 ? 5 : strlen(s);
	struct taglist tl;
	struct tag t;
	int r;

	if (strncmp(s, "a=b", 3) == 0)
		n = 5;	/* with the NUL byte */
	taglist_init(&tl, s, n);
	while ((r = taglist_next(&tl, &t)) == 1)
		;
	ck_assert_msg(r == -1, "[%s] accepted", s);
}
END_TEST

/* ------------------------------------------------------------------ */
/* RFC 8463 Appendix A                                                  */

static const char rfc8463_msg[] =
    "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\n"
    " d=football.example.com; i=@football.example.com;\n"
    " q=dns/txt; s=brisbane; t=1528637909; h=from : to :\n"
    " subject : date : message-id : from : subject : date;\n"
    " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\n"
    " b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus\n"
    " Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==\n"
    "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\n"
    " d=football.example.com; i=@football.example.com;\n"
    " q=dns/txt; s=test; t=1528637909; h=from : to : subject :\n"
    " date : message-id : from : subject : date;\n"
    " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\n"
    " b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3\n"
    " DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz\n"
    " dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=\n"
    "From: Joe SixPack <joe@football.example.com>\n"
    "To: Suzie Q <suzie@shopping.example.net>\n"
    "Subject: Is dinner ready?\n"
    "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\n"
    "Message-ID: <20030712040037.46341.5F8J@football.example.com>\n"
    "\n"
    "Hi.\n"
    "\n"
    "We lost the game.  Are you hungry yet?\n"
    "\n"
    "Joe.\n";

#define RFC8463_ED_TXT \
    "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
#define RFC8463_RSA_TXT \
    "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWR" \
    "iGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutAC" \
    "DfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3" \
    "Ip3G+2kryOTIKT+l/K4w3QIDAQAB"

/* RFC 8463 A.2: the Ed25519 private key (seed), as PKCS#8 PEM */
static const char rfc8463_ed_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
    "-----END PRIVATE KEY-----\n";

static const struct mock_rr rfc8463_dns[] = {
	{ "brisbane._domainkey.football.example.com", 'T', RFC8463_ED_TXT,
	    DNS_OK },
	{ "test._domainkey.football.example.com", 'T', RFC8463_RSA_TXT,
	    DNS_OK },
	{ NULL, 0, NULL, DNS_OK }
};

static void
verify2(const char *msg, size_t len, enum dkim_result r0,
    enum dkim_result r1)
{
	struct dkim_verdict v[DKIM_MAX_SIGS];
	size_t n = 0;

	ck_assert_int_eq(dkim_verify(&mock_dns, msg, len, 1528637909, v,
	    DKIM_MAX_SIGS, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_msg(v[0].result == r0, "ed25519: %s (%s)",
	    dkim_result_name(v[0].result), v[0].why ? v[0].why : "");
	ck_assert_msg(v[1].result == r1, "rsa: %s (%s)",
	    dkim_result_name(v[1].result), v[1].why ? v[1].why : "");
}

START_TEST(test_rfc8463_verify)
{
	struct dkim_verdict v[DKIM_MAX_SIGS];
	size_t n = 0, cl;
	char *c;

	mock_rrs = rfc8463_dns;
	verify2(rfc8463_msg, strlen(rfc8463_msg), DKIM_PASS, DKIM_PASS);
	/* the wire form (CRLF) verifies the same */
	c = crlf_of(rfc8463_msg, &cl);
	verify2(c, cl, DKIM_PASS, DKIM_PASS);
	free(c);
	ck_assert_int_eq(dkim_verify(&mock_dns, rfc8463_msg,
	    strlen(rfc8463_msg), 1528637909, v, DKIM_MAX_SIGS, &n), 0);
	ck_assert_str_eq(v[0].d, "football.example.com");
	ck_assert_str_eq(v[0].s, "brisbane");
	ck_assert_str_eq(v[0].b8, "/gCrinpc");
	ck_assert_int_eq(v[0].alg, DKIM_ED25519_SHA256);
	ck_assert_int_eq(v[1].alg, DKIM_RSA_SHA256);
}
END_TEST

/* Replace the first occurrence of from by to in the RFC message. */
static char *
rfc_edit(const char *from, const char *to, size_t *n_r)
{
	const char *p = strstr(rfc8463_msg, from);
	size_t pre, n;
	char *d;

	ck_assert_ptr_nonnull(p);
	pre = (size_t)(p - rfc8463_msg);
	n = strlen(rfc8463_msg) - strlen(from) + strlen(to);
	d = xmalloc(n + 1);
	memcpy(d, rfc8463_msg, pre);
	memcpy(d + pre, to, strlen(to));
	strcpy(d + pre + strlen(to), p + strlen(from));
	*n_r = n;
	return d;
}

static const struct {
	const char	*from;
	const char	*to;
	enum dkim_result r;
} tamper[] = {
	/* body */
	{ "We lost", "We won", DKIM_FAIL },
	/* a signed header */
	{ "Is dinner ready?", "Is lunch ready?", DKIM_FAIL },
	/* relaxed: whitespace and case changes do not matter */
	{ "Subject: Is dinner", "subject:    Is   dinner", DKIM_PASS },
	{ "Hi.\n", "Hi.   \n", DKIM_PASS },
	{ "Joe.\n", "Joe.\n\n\n\n", DKIM_PASS },
	/* an added second Subject is covered by the oversigning */
	{ "Subject: Is", "Subject: Buy now\nSubject: Is", DKIM_FAIL },
	/* unsigned headers may be added */
	{ "From: Joe", "X-Spam: no\nFrom: Joe", DKIM_PASS },
	/* message-id is signed once: a second one above it is ignored */
	{ "Message-ID:", "Message-ID: <x@y>\nMessage-ID:", DKIM_PASS },
	{ "Message-ID: <2003", "Message-ID: <1003", DKIM_FAIL },
};

START_TEST(test_rfc8463_tamper)
{
	size_t n;
	char *m;

	mock_rrs = rfc8463_dns;
	m = rfc_edit(tamper[_i].from, tamper[_i].to, &n);
	verify2(m, n, tamper[_i].r, tamper[_i].r);
	free(m);
}
END_TEST

START_TEST(test_rfc8463_dns_errors)
{
	static const struct mock_rr temp[] = {
		{ "brisbane._domainkey.football.example.com", 'T', NULL,
		    DNS_TEMP },
		{ "test._domainkey.football.example.com", 'T', NULL,
		    DNS_FAIL },
		{ NULL, 0, NULL, DNS_OK }
	};
	static const struct mock_rr none[] = {
		{ "test._domainkey.football.example.com", 'T',
		    "v=spf1 -all", DNS_OK },
		{ NULL, 0, NULL, DNS_OK }
	};
	static const struct mock_rr revoked[] = {
		{ "brisbane._domainkey.football.example.com", 'T',
		    "v=DKIM1; k=ed25519; p=", DNS_OK },
		{ "test._domainkey.football.example.com", 'T',
		    "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwI"
		    "aaPcHURo=", DNS_OK },
		{ NULL, 0, NULL, DNS_OK }
	};
	static const struct mock_rr testing[] = {
		{ "brisbane._domainkey.football.example.com", 'T',
		    RFC8463_ED_TXT "; t=y", DNS_OK },
		{ "test._domainkey.football.example.com", 'T',
		    RFC8463_RSA_TXT "; t=s:y", DNS_OK },
		{ NULL, 0, NULL, DNS_OK }
	};

	mock_rrs = temp;
	verify2(rfc8463_msg, strlen(rfc8463_msg), DKIM_TEMPERROR,
	    DKIM_TEMPERROR);
	mock_rrs = none;
	verify2(rfc8463_msg, strlen(rfc8463_msg), DKIM_PERMERROR,
	    DKIM_PERMERROR);
	/* revoked key; key of the wrong type */
	mock_rrs = revoked;
	verify2(rfc8463_msg, strlen(rfc8463_msg), DKIM_PERMERROR,
	    DKIM_PERMERROR);
	/* t=y: as if unsigned */
	mock_rrs = testing;
	verify2(rfc8463_msg, strlen(rfc8463_msg), DKIM_NEUTRAL, DKIM_NEUTRAL);
}
END_TEST

START_TEST(test_rfc8463_sign_same_bytes)
{
	struct dkim_signer sg;
	struct buf out;
	const char *why = NULL, *body, *b;

	/* signing the RFC message with the RFC key and tags gives the
	 * RFC's ed25519 signature: Ed25519 is deterministic */
	body = strstr(rfc8463_msg, "From: Joe");
	memset(&sg, 0, sizeof(sg));
	sg.domain = "football.example.com";
	sg.selector = "brisbane";
	sg.pem = rfc8463_ed_pem;
	sg.hlist = "from : to : subject : date : message-id : from : "
	    "subject : date";
	sg.identity = "@football.example.com";
	sg.q = true;
	sg.t = 1528637909;
	buf_init(&out, 8192);
	ck_assert_msg(dkim_sign(&sg, body, strlen(body), &out, &why) == 0,
	    "%s", why);
	b = strstr(buf_cstr(&out), " b=");
	ck_assert_ptr_nonnull(b);
	{
		char flat[200];

		ck_assert_int_ge(taglist_nofws(b + 3, strlen(b + 3), flat,
		    sizeof(flat)), 0);
		ck_assert_str_eq(flat, "/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9Od"
		    "qQehSwhEIug4D11BusFa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==");
	}
	ck_assert(strstr(buf_cstr(&out),
	    "bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;") != NULL);
	buf_free(&out);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Signature and key record parsing                                    */

#define SIG_OK "v=1; a=rsa-sha256; d=example.org; s=sel; h=from:to; " \
    "bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=; b=AAAA"

START_TEST(test_sig_parse_ok)
{
	struct dkim_sig *s = xmalloc(sizeof(*s));
	const char *why = NULL;

	ck_assert_msg(dkim_sig_parse(SIG_OK, strlen(SIG_OK), s, &why) == 0,
	    "%s", why);
	ck_assert_str_eq(s->d, "example.org");
	ck_assert_str_eq(s->i, "@example.org");
	ck_assert_uint_eq(s->nh, 2);
	ck_assert_str_eq(s->h[1], "to");
	ck_assert_int_eq(s->hcanon, CANON_SIMPLE);
	ck_assert_int_eq(s->bcanon, CANON_SIMPLE);
	ck_assert(!s->has_l);
	free(s);
}
END_TEST

static const char *const bad_sigs[] = {
	"",
	"v=1",
	/* each required tag missing in turn */
	"a=rsa-sha256; d=example.org; s=sel; h=from; bh=2jUSOH9NhtVGCQWNr9BrIA"
	    "PreKQjO6Sn7XIkfJVOzv8=; b=AAAA",
	"v=1; d=example.org; s=sel; h=from; bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6S"
	    "n7XIkfJVOzv8=; b=AAAA",
	"v=1; a=rsa-sha256; s=sel; h=from; bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn"
	    "7XIkfJVOzv8=; b=AAAA",
	"v=1; a=rsa-sha256; d=example.org; h=from; bh=2jUSOH9NhtVGCQWNr9BrIAPr"
	    "eKQjO6Sn7XIkfJVOzv8=; b=AAAA",
	"v=1; a=rsa-sha256; d=example.org; s=sel; bh=2jUSOH9NhtVGCQWNr9BrIAPre"
	    "KQjO6Sn7XIkfJVOzv8=; b=AAAA",
	"v=1; a=rsa-sha256; d=example.org; s=sel; h=from; b=AAAA",
	"v=1; a=rsa-sha256; d=example.org; s=sel; h=from; bh=2jUSOH9NhtVGCQWNr"
	    "9BrIAPreKQjO6Sn7XIkfJVOzv8=",
	SIG_OK "; v=1",					/* duplicate */
	SIG_OK "; a=rsa-sha1",
	"v=2; a=rsa-sha256; d=example.org; s=sel; h=from; bh=2jUSOH9NhtVGCQWNr"
	    "9BrIAPreKQjO6Sn7XIkfJVOzv8=; b=AAAA",
	"v=1; a=rsa-sha1; d=example.org; s=sel; h=from; bh=2jUSOH9NhtVGCQWNr9B"
	    "rIAPreKQjO6Sn7XIkfJVOzv8=; b=AAAA",
	"v=1; a=rsa-sha256; d=example.org; s=sel; h=to:subject; bh=2jUSOH9NhtV"
	    "GCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=; b=AAAA",	/* no from */
	SIG_OK "; i=joe@evil.example",
	SIG_OK "; i=joe@xexample.org",
	SIG_OK "; i=nodomain",
	SIG_OK "; c=relaxed/fancy",
	SIG_OK "; l=-1",
	SIG_OK "; l=99999999999999999999999",
	SIG_OK "; t=20; x=10",
	SIG_OK "; q=http",
	"v=1; a=rsa-sha256; d=exa mple.org; s=sel; h=from; bh=2jUSOH9NhtVGCQWN"
	    "r9BrIAPreKQjO6Sn7XIkfJVOzv8=; b=AAAA",
	"v=1; a=rsa-sha256; d=example..org; s=sel; h=from; bh=2jUSOH9NhtVGCQWN"
	    "r9BrIAPreKQjO6Sn7XIkfJVOzv8=; b=AAAA",
	"v=1; a=rsa-sha256; d=example.org; s=sel; h=from::to; bh=2jUSOH9NhtVGC"
	    "QWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=; b=AAAA",
	"v=1; a=rsa-sha256; d=example.org; s=sel; h=from; bh=c2hvcnQ=; b=AAAA",
	"v=1; a=rsa-sha256; d=example.org; s=sel; h=from; bh=2jUSOH9NhtVGCQWNr"
	    "9BrIAPreKQjO6Sn7XIkfJVOzv8=; b=!!!!",
	"v=1; a=rsa-sha256; d=example.org; s=sel; h=from; bh=2jUSOH9NhtVGCQWNr"
	    "9BrIAPreKQjO6Sn7XIkfJVOzv8=; b=",
	"garbage",
	"v=1; a=rsa-sha256;; d=example.org",
};

START_TEST(test_sig_parse_bad)
{
	struct dkim_sig *s = xmalloc(sizeof(*s));
	const char *why = NULL;

	ck_assert_msg(dkim_sig_parse(bad_sigs[_i], strlen(bad_sigs[_i]), s,
	    &why) == -1, "accepted: %s", bad_sigs[_i]);
	ck_assert_ptr_nonnull(why);
	free(s);
}
END_TEST

START_TEST(test_sig_parse_hostile)
{
	struct dkim_sig *s = xmalloc(sizeof(*s));
	const char *why = NULL;
	char *big;
	size_t i;

	/* a NUL byte in the middle */
	ck_assert_int_eq(dkim_sig_parse("v=1\0; a=rsa-sha256", 19, s, &why),
	    -1);
	/* overlong value */
	big = xmalloc(DKIM_SIG_VALUE_MAX + 100);
	memset(big, 'a', DKIM_SIG_VALUE_MAX + 99);
	big[DKIM_SIG_VALUE_MAX + 99] = '\0';
	memcpy(big, "x=", 2);
	ck_assert_int_eq(dkim_sig_parse(big, strlen(big), s, &why), -1);
	/* too many h= names */
	strcpy(big, "v=1; a=rsa-sha256; d=e.org; s=s; bh=2jUSOH9NhtVGCQWNr9BrI"
	    "APreKQjO6Sn7XIkfJVOzv8=; b=AAAA; h=from");
	for (i = 0; i < DKIM_MAX_HNAMES + 1; i++)
		strcat(big, ":to");
	ck_assert_int_eq(dkim_sig_parse(big, strlen(big), s, &why), -1);
	/* huge b= */
	strcpy(big, "v=1; a=rsa-sha256; d=e.org; s=s; bh=2jUSOH9NhtVGCQWNr9BrI"
	    "APreKQjO6Sn7XIkfJVOzv8=; h=from; b=");
	for (i = 0; i < 3000; i++)
		strcat(big, "AAAA");
	ck_assert_int_eq(dkim_sig_parse(big, strlen(big), s, &why), -1);
	free(big);
	free(s);
}
END_TEST

static const struct {
	const char	*txt;
	int		 ok;
	int		 type;
	int		 testing;
} keys[] = {
	{ RFC8463_ED_TXT, 1, DKIM_K_ED25519, 0 },
	{ RFC8463_RSA_TXT, 1, DKIM_K_RSA, 0 },
	{ "p=MIGfMA0", 0, 0, 0 },			/* bad base64 length */
	{ "k=rsa; p=", 1, DKIM_K_RSA, 0 },		/* revoked */
	{ "v=DKIM1; t=y:s; p=", 1, DKIM_K_RSA, 1 },
	{ "k=rsa; v=DKIM1; p=", 0, 0, 0 },		/* v= not first */
	{ "v=DKIM2; p=", 0, 0, 0 },
	{ "v=DKIM1; k=dsa; p=", 0, 0, 0 },
	{ "v=DKIM1; h=sha1; p=", 0, 0, 0 },
	{ "v=DKIM1; h=sha1:sha256; p=", 1, DKIM_K_RSA, 0 },
	{ "v=DKIM1; s=web; p=", 0, 0, 0 },
	{ "v=DKIM1; s=web:email; p=", 1, DKIM_K_RSA, 0 },
	{ "v=DKIM1; k=rsa", 0, 0, 0 },			/* no p= */
	{ "v=DKIM1; p=; p=", 0, 0, 0 },
	{ "v=DKIM1; n=any notes here; p=", 1, DKIM_K_RSA, 0 },
	{ "", 0, 0, 0 },
	{ "v=DKIM1;; p=", 0, 0, 0 },
};

START_TEST(test_key_parse)
{
	struct dkim_key k;
	const char *why = NULL;
	int r;

	r = dkim_key_parse(keys[_i].txt, strlen(keys[_i].txt), &k, &why);
	ck_assert_msg((r == 0) == (keys[_i].ok == 1), "[%s]: %d %s",
	    keys[_i].txt, r, why ? why : "");
	if (r == 0) {
		ck_assert_int_eq(k.type, keys[_i].type);
		ck_assert_int_eq(k.testing, keys[_i].testing);
	}
}
END_TEST

/* ------------------------------------------------------------------ */
/* Round trips with fresh keys                                         */

static const char plain_msg[] =
    "From: Alice <alice@example.org>\n"
    "To: bob@example.net\n"
    "Subject: hello there\n"
    "Date: Wed, 25 Nov 2026 16:00:00 +0000\n"
    "Message-ID: <1@example.org>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "\n"
    "Hello Bob,\n"
    "  indented line with trailing space   \n"
    "\n"
    "Alice\n";

static char rt_txt[2048];
static struct mock_rr rt_dns[] = {
	{ "sel._domainkey.example.org", 'T', rt_txt, DNS_OK },
	{ NULL, 0, NULL, DNS_OK }
};

/* sign plain_msg (+ extra body after signing), verify, return result */
static enum dkim_result
roundtrip(enum dkim_keytype type, bool l, const char *append,
    const char *edit_from, const char *edit_to)
{
	struct dkim_signer sg;
	struct dkim_verdict v[DKIM_MAX_SIGS];
	struct buf pem, txt, msg;
	const char *why = NULL;
	size_t n = 0;
	char *p;

	buf_init(&pem, 16384);
	buf_init(&txt, 2048);
	buf_init(&msg, 1 << 20);
	ck_assert_int_eq(dkim_keygen(type, &pem, &txt), 0);
	str_copy(rt_txt, buf_cstr(&txt), sizeof(rt_txt));
	memset(&sg, 0, sizeof(sg));
	sg.domain = "Example.ORG";
	sg.selector = "sel";
	sg.pem = buf_cstr(&pem);
	sg.t = 1764086400;
	sg.l = l;
	ck_assert_msg(dkim_sign(&sg, plain_msg, strlen(plain_msg), &msg,
	    &why) == 0, "%s", why);
	ck_assert(strncmp(buf_cstr(&msg), "DKIM-Signature: v=1; a=", 23) ==
	    0);
	/* every line of the field is at most 78 columns */
	{
		const char *s = buf_cstr(&msg), *e;

		while ((e = strchr(s, '\n')) != NULL && *s != 'F') {
			ck_assert_int_le(e - s, 78 + 8);
			s = e + 1;
		}
	}
	ck_assert_int_eq(buf_puts(&msg, plain_msg), 0);
	if (append != NULL)
		ck_assert_int_eq(buf_puts(&msg, append), 0);
	if (edit_from != NULL) {
		p = strstr(msg.data, edit_from);
		ck_assert_ptr_nonnull(p);
		ck_assert_uint_eq(strlen(edit_from), strlen(edit_to));
		memcpy(p, edit_to, strlen(edit_to));
	}
	mock_rrs = rt_dns;
	ck_assert_int_eq(dkim_verify(&mock_dns, msg.data, msg.len,
	    1764086400, v, DKIM_MAX_SIGS, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(v[0].d, "example.org");
	buf_free(&pem);
	buf_free(&txt);
	buf_free(&msg);
	return v[0].result;
}

START_TEST(test_roundtrip)
{
	enum dkim_keytype t = _i == 0 ? DKIM_K_RSA : DKIM_K_ED25519;

	ck_assert_int_eq(roundtrip(t, false, NULL, NULL, NULL), DKIM_PASS);
	ck_assert_int_eq(roundtrip(t, false, "P.S. appended\n", NULL, NULL),
	    DKIM_FAIL);
	/* l=: appended content makes it "policy", never "pass" */
	ck_assert_int_eq(roundtrip(t, true, NULL, NULL, NULL), DKIM_PASS);
	ck_assert_int_eq(roundtrip(t, true, "P.S. appended\n", NULL, NULL),
	    DKIM_POLICY);
	/* tampering inside the signed part still fails */
	ck_assert_int_eq(roundtrip(t, true, "P.S.\n", "Hello Bob",
	    "Hello Eve"), DKIM_FAIL);
	/* oversigned headers cannot be added */
	ck_assert_int_eq(roundtrip(t, false, NULL, "To: bob@example.net\n",
	    "Cc: bob@example.net\n"), DKIM_FAIL);
	ck_assert_int_eq(roundtrip(t, false, NULL, "Subject: hello",
	    "subject: hello"), DKIM_PASS);
}
END_TEST

START_TEST(test_sign_no_from)
{
	struct dkim_signer sg;
	struct buf pem, txt, out;
	const char *why = NULL;

	buf_init(&pem, 16384);
	buf_init(&txt, 2048);
	buf_init(&out, 8192);
	ck_assert_int_eq(dkim_keygen(DKIM_K_ED25519, &pem, &txt), 0);
	memset(&sg, 0, sizeof(sg));
	sg.domain = "example.org";
	sg.selector = "s";
	sg.pem = buf_cstr(&pem);
	ck_assert_int_eq(dkim_sign(&sg, "To: x\n\nbody\n", 12, &out, &why),
	    -1);
	sg.pem = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----";
	ck_assert_int_eq(dkim_sign(&sg, plain_msg, strlen(plain_msg), &out,
	    &why), -1);
	sg.pem = buf_cstr(&pem);
	sg.selector = "bad selector";
	ck_assert_int_eq(dkim_sign(&sg, plain_msg, strlen(plain_msg), &out,
	    &why), -1);
	ck_assert_uint_eq(out.len, 0);
	/* the TXT of a PEM is the TXT keygen printed */
	{
		struct buf t2;

		buf_init(&t2, 2048);
		ck_assert_int_eq(dkim_key_txt(buf_cstr(&pem), &t2), 0);
		ck_assert_str_eq(buf_cstr(&t2), buf_cstr(&txt));
		buf_free(&t2);
	}
	buf_free(&pem);
	buf_free(&txt);
	buf_free(&out);
}
END_TEST

START_TEST(test_verify_unsigned_and_broken)
{
	static const char m1[] = "From: a@b.example\n\nhi\n";
	static const char m2[] = "DKIM-Signature: v=1; a=rsa-sha1; d=b.example"
	    "\nFrom: a@b.example\n\nhi\n";
	struct dkim_verdict v[DKIM_MAX_SIGS];
	size_t n = 9;

	mock_rrs = rfc8463_dns;
	ck_assert_int_eq(dkim_verify(&mock_dns, m1, strlen(m1), 0, v,
	    DKIM_MAX_SIGS, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(dkim_verify(&mock_dns, m2, strlen(m2), 0, v,
	    DKIM_MAX_SIGS, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(v[0].result, DKIM_PERMERROR);
	ck_assert_str_eq(v[0].d, "b.example");
	/* expired */
	{
		size_t cl;
		char *c = rfc_edit("t=1528637909; h=from : to :\n",
		    "t=1528637909; x=1528637910; h=from : to :\n", &cl);

		ck_assert_int_eq(dkim_verify(&mock_dns, c, cl, 1528637999, v,
		    DKIM_MAX_SIGS, &n), 0);
		ck_assert_int_eq(v[0].result, DKIM_FAIL);
		ck_assert_str_eq(v[0].why, "signature expired");
		free(c);
	}
}
END_TEST


/* ------------------------------------------------------------------ */
/* SPF                                                                 */

static const struct {
	const char	*spec;
	const char	*want;
} macros4[] = {
	/* RFC 7208 7.4 */
	{ "%{s}", "strong-bad@email.example.com" },
	{ "%{o}", "email.example.com" },
	{ "%{d}", "email.example.com" },
	{ "%{d4}", "email.example.com" },
	{ "%{d3}", "email.example.com" },
	{ "%{d2}", "example.com" },
	{ "%{d1}", "com" },
	{ "%{dr}", "com.example.email" },
	{ "%{d2r}", "example.email" },
	{ "%{l}", "strong-bad" },
	{ "%{l-}", "strong.bad" },
	{ "%{lr}", "strong-bad" },
	{ "%{lr-}", "bad.strong" },
	{ "%{l1r-}", "strong" },
	{ "%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com" },
	{ "%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com" },
	{ "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}",
	    "bad.strong.lp.3.2.0.192.in-addr._spf.example.com" },
	{ "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}",
	    "3.2.0.192.in-addr.strong.lp._spf.example.com" },
	{ "%{d2}.trusted-domains.example.net",
	    "example.com.trusted-domains.example.net" },
	{ "%%%_%-", "% %20" },
	{ "%{L}", "strong-bad" },
	{ "%{S}", "strong-bad%40email.example.com" },
	{ "%{h}", "mx.example.org" },
	{ "%{p}", "unknown" },
	{ "%{d999}", "email.example.com" },
};

static void
env4(struct spf_env *e)
{
	memset(e, 0, sizeof(*e));
	e->sender = "strong-bad@email.example.com";
	e->domain = "email.example.com";
	e->helo = "mx.example.org";
	ck_assert_int_eq(spf_parse_ip("192.0.2.3", &e->ip), 0);
}

START_TEST(test_spf_macro_rfc)
{
	struct spf_env e;
	const char *why = NULL;
	char out[SPF_EXPAND_MAX];
	long n;

	env4(&e);
	n = spf_expand(macros4[_i].spec, strlen(macros4[_i].spec), &e, false,
	    out, sizeof(out), &why);
	ck_assert_msg(n >= 0, "%s: %s", macros4[_i].spec, why);
	ck_assert_str_eq(out, macros4[_i].want);
	ck_assert_uint_eq((size_t)n, strlen(out));
}
END_TEST

START_TEST(test_spf_macro_ip6)
{
	struct spf_env e;
	const char *why = NULL;
	char out[SPF_EXPAND_MAX];
	static const char sp[] = "%{ir}.%{v}._spf.%{d2}";

	env4(&e);
	ck_assert_int_eq(spf_parse_ip("2001:db8::cb01", &e.ip), 0);
	ck_assert_int_ge(spf_expand(sp, strlen(sp), &e, false, out,
	    sizeof(out), &why), 0);
	ck_assert_str_eq(out, "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0"
	    ".8.b.d.0.1.0.0.2.ip6._spf.example.com");
	/* %{c} %{t} %{r} only in explanations */
	ck_assert_int_ge(spf_expand("%{c}", 4, &e, true, out, sizeof(out),
	    &why), 0);
	ck_assert_str_eq(out, "2001:db8::cb01");
	ck_assert_int_eq(spf_expand("%{c}", 4, &e, false, out, sizeof(out),
	    &why), -1);
}
END_TEST

static const char *const bad_macros[] = {
	"%", "%a", "%{", "%{d", "%{}", "%{x}", "%{d0}", "%{d1r1}", "%{d:}",
	"%{t}", "%{r}", "a b", "\x80", "%{d2r.-+,/_=.-+,/_=.-+,/_=}",
	"a\001",
};

START_TEST(test_spf_macro_bad)
{
	struct spf_env e;
	const char *why = NULL;
	char out[SPF_EXPAND_MAX];

	env4(&e);
	ck_assert_msg(spf_expand(bad_macros[_i], strlen(bad_macros[_i]), &e,
	    false, out, sizeof(out), &why) == -1, "[%s] accepted",
	    bad_macros[_i]);
}
END_TEST

START_TEST(test_spf_macro_long)
{
	struct spf_env e;
	const char *why = NULL;
	char out[64], *spec;
	size_t i;

	env4(&e);
	/* output bounded by outlen */
	ck_assert_int_eq(spf_expand("%{s}%{s}%{s}", 12, &e, false, out,
	    sizeof(out), &why), -1);
	spec = xmalloc(5000);
	for (i = 0; i < 1000; i++)
		memcpy(spec + i * 4, "%{S}", 4);
	{
		char big[SPF_EXPAND_MAX];

		ck_assert_int_eq(spf_expand(spec, 4000, &e, false, big,
		    sizeof(big), &why), -1);
	}
	free(spec);
}
END_TEST

static const struct {
	const char	*rec;
	int		 ok;
} spf_recs[] = {
	{ "v=spf1", 1 },
	{ "v=spf1 ", 1 },
	{ "V=SPF1 IP4:192.0.2.1 -ALL", 1 },
	{ "v=spf1 a mx ptr ?all", 1 },
	{ "v=spf1 foo=bar -all", 1 },
	{ "v=spf1 a:foo.example//64 mx/24 a/24//64 -all", 1 },
	{ "v=spf1 include:_spf.%{d} exists:%{ir}.x.example", 1 },
	{ "v=spf1 ip6:2001:db8::/32 ip4:10.0.0.0/8 ~all", 1 },
	{ "v=spf1 redirect=_spf.example.com", 1 },
	{ "v=spf1 exp=explain.%{d} -all", 1 },
	{ "v=spf1 include:foo.example. -all", 1 },
	{ "v=spf1  a   -all", 1 },
	{ "v=spf10", 0 },
	{ "v=spf2 -all", 0 },
	{ "spf1 -all", 0 },
	{ "v=spf1 -redirect=x.example", 0 },
	{ "v=spf1 redirect=a.example redirect=b.example", 0 },
	{ "v=spf1 exp=a.example exp=b.example", 0 },
	{ "v=spf1 ip4:192.0.2.1/33", 0 },
	{ "v=spf1 ip4:192.0.2", 0 },
	{ "v=spf1 ip4:192.0.2.1/", 0 },
	{ "v=spf1 ip6:2001:db8::/129", 0 },
	{ "v=spf1 ip6:192.0.2.1", 0 },
	{ "v=spf1 a:example.com/01", 0 },
	{ "v=spf1 include", 0 },
	{ "v=spf1 include:", 0 },
	{ "v=spf1 all:x.example", 0 },
	{ "v=spf1 include:%{z}.example", 0 },
	{ "v=spf1 include:foo", 0 },
	{ "v=spf1 include:foo.123", 0 },
	{ "v=spf1 exists:%{ir", 0 },
	{ "v=spf1 \x80", 0 },
	{ "v=spf1 +", 0 },
	{ "v=spf1 foo:bar.example", 0 },
	{ "v=spf1 -all\t", 0 },
	{ "v=spf1 =x", 0 },
	{ "v=spf1 1x=y", 0 },
};

START_TEST(test_spf_parse)
{
	struct spf_record *r = xmalloc(sizeof(*r));
	const char *why = NULL;
	int rc;

	rc = spf_parse(spf_recs[_i].rec, strlen(spf_recs[_i].rec), r, &why);
	ck_assert_msg((rc == 0) == (spf_recs[_i].ok == 1), "[%s]: %d %s",
	    spf_recs[_i].rec, rc, why ? why : "");
	free(r);
}
END_TEST

START_TEST(test_spf_parse_limits)
{
	struct spf_record *r = xmalloc(sizeof(*r));
	const char *why = NULL;
	char *rec = xmalloc(SPF_RECORD_MAX * 2);
	size_t i;

	strcpy(rec, "v=spf1");
	for (i = 0; i < SPF_MAX_TERMS; i++)
		strcat(rec, " a");
	ck_assert_int_eq(spf_parse(rec, strlen(rec), r, &why), 0);
	ck_assert_uint_eq(r->nterms, SPF_MAX_TERMS);
	strcat(rec, " -all");
	ck_assert_int_eq(spf_parse(rec, strlen(rec), r, &why), -1);
	memset(rec, 'a', SPF_RECORD_MAX + 10);
	memcpy(rec, "v=spf1 a:", 9);
	rec[SPF_RECORD_MAX + 10] = '\0';
	ck_assert_int_eq(spf_parse(rec, strlen(rec), r, &why), -1);
	/* a NUL inside */
	ck_assert_int_eq(spf_parse("v=spf1 a\0 -all", 14, r, &why), -1);
	free(rec);
	free(r);
}
END_TEST

static const struct mock_rr spf_dns[] = {
	{ "example.com", 'T', "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 "
	    "a mx -all", DNS_OK },
	{ "example.com", 'T', "some other text", DNS_OK },
	{ "example.com", 'A', "198.51.100.1", DNS_OK },
	{ "example.com", 'M', "mx.example.com", DNS_OK },
	{ "mx.example.com", 'A', "198.51.100.2", DNS_OK },
	{ "mx.example.com", '6', "2001:db9::25", DNS_OK },
	{ "softfail.example", 'T', "v=spf1 ~all", DNS_OK },
	{ "neutral.example", 'T', "v=spf1 ?all", DNS_OK },
	{ "empty.example", 'T', "v=spf1", DNS_OK },
	{ "none.example", 'A', "198.51.100.9", DNS_OK },
	{ "two.example", 'T', "v=spf1 -all", DNS_OK },
	{ "two.example", 'T', "v=spf1 +all", DNS_OK },
	{ "bad.example", 'T', "v=spf1 foo:bar -all", DNS_OK },
	{ "temp.example", 'T', NULL, DNS_TEMP },
	{ "incl.example", 'T', "v=spf1 include:example.com -all", DNS_OK },
	{ "inclsoft.example", 'T', "v=spf1 include:softfail.example ?all",
	    DNS_OK },
	{ "loop.example", 'T', "v=spf1 include:loop2.example -all", DNS_OK },
	{ "loop2.example", 'T', "v=spf1 include:loop.example -all", DNS_OK },
	{ "self.example", 'T', "v=spf1 include:self.example -all", DNS_OK },
	{ "many.example", 'T', "v=spf1 a:h.example a:h.example a:h.example "
	    "a:h.example a:h.example a:h.example a:h.example a:h.example "
	    "a:h.example a:h.example a:h.example +all", DNS_OK },
	{ "ten.example", 'T', "v=spf1 a:h.example a:h.example a:h.example "
	    "a:h.example a:h.example a:h.example a:h.example a:h.example "
	    "a:h.example a:h.example +all", DNS_OK },
	{ "h.example", 'A', "203.0.113.250", DNS_OK },
	{ "void.example", 'T', "v=spf1 a:v1.example a:v2.example "
	    "a:v3.example +all", DNS_OK },
	{ "void2.example", 'T', "v=spf1 a:v1.example a:v2.example +all",
	    DNS_OK },
	{ "redir.example", 'T', "v=spf1 redirect=example.com", DNS_OK },
	{ "redirall.example", 'T', "v=spf1 ?all redirect=example.com",
	    DNS_OK },
	{ "redirnone.example", 'T', "v=spf1 redirect=none.example", DNS_OK },
	{ "inclnone.example", 'T', "v=spf1 include:none.example -all",
	    DNS_OK },
	{ "incltemp.example", 'T', "v=spf1 include:temp.example -all",
	    DNS_OK },
	{ "mxtemp.example", 'T', "v=spf1 mx -all", DNS_OK },
	{ "mxtemp.example", 'M', NULL, DNS_TEMP },
	{ "atemp.example", 'T', "v=spf1 a:t.example -all", DNS_OK },
	{ "t.example", 'A', NULL, DNS_TEMP },
	{ "macro.example", 'T', "v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d} -all",
	    DNS_OK },
	{ "3.2.0.192.joe._spf.macro.example", 'A', "127.0.0.2", DNS_OK },
	{ "ptr.example", 'T', "v=spf1 ptr -all", DNS_OK },
	{ "192.0.2.77", 'P', "host.ptr.example", DNS_OK },
	{ "192.0.2.78", 'P', "host.ptr.example", DNS_OK },
	{ "host.ptr.example", 'A', "192.0.2.77", DNS_OK },
	{ "cidr.example", 'T', "v=spf1 a:example.com/24 -all", DNS_OK },
	{ "cidr6.example", 'T', "v=spf1 mx//48 -all", DNS_OK },
	{ "cidr6.example", 'M', "mx.example.com", DNS_OK },
	{ "mail.helo.example", 'T', "v=spf1 a -all", DNS_OK },
	{ "mail.helo.example", 'A', "192.0.2.25", DNS_OK },
	{ "manymx.example", 'T', "v=spf1 mx -all", DNS_OK },
	{ "manymx.example", 'M', "m1.example", DNS_OK },
	{ "manymx.example", 'M', "m2.example", DNS_OK },
	{ "manymx.example", 'M', "m3.example", DNS_OK },
	{ "manymx.example", 'M', "m4.example", DNS_OK },
	{ "manymx.example", 'M', "m5.example", DNS_OK },
	{ "manymx.example", 'M', "m6.example", DNS_OK },
	{ "manymx.example", 'M', "m7.example", DNS_OK },
	{ "manymx.example", 'M', "m8.example", DNS_OK },
	{ "manymx.example", 'M', "m9.example", DNS_OK },
	{ "manymx.example", 'M', "m10.example", DNS_OK },
	{ "manymx.example", 'M', "m11.example", DNS_OK },
	{ NULL, 0, NULL, DNS_OK }
};

static const struct {
	const char	*ip;
	const char	*from;
	const char	*helo;
	enum spf_result	 want;
} spf_cases[] = {
	{ "192.0.2.5", "joe@example.com", "x", SPF_PASS },
	{ "2001:db8::1", "joe@example.com", "x", SPF_PASS },
	{ "::ffff:192.0.2.5", "joe@example.com", "x", SPF_PASS },
	{ "198.51.100.1", "joe@example.com", "x", SPF_PASS },	/* a */
	{ "198.51.100.2", "joe@example.com", "x", SPF_PASS },	/* mx */
	{ "2001:db9::25", "joe@example.com", "x", SPF_PASS },	/* mx AAAA */
	{ "203.0.113.9", "joe@example.com", "x", SPF_FAIL },
	{ "203.0.113.9", "joe@EXAMPLE.COM", "x", SPF_FAIL },
	{ "203.0.113.9", "joe@softfail.example", "x", SPF_SOFTFAIL },
	{ "203.0.113.9", "joe@neutral.example", "x", SPF_NEUTRAL },
	{ "203.0.113.9", "joe@empty.example", "x", SPF_NEUTRAL },
	{ "203.0.113.9", "joe@none.example", "x", SPF_NONE },
	{ "203.0.113.9", "joe@nxdomain.example", "x", SPF_NONE },
	{ "203.0.113.9", "joe@localhost", "x", SPF_NONE },
	{ "203.0.113.9", "joe@two.example", "x", SPF_PERMERROR },
	{ "203.0.113.9", "joe@bad.example", "x", SPF_PERMERROR },
	{ "203.0.113.9", "joe@temp.example", "x", SPF_TEMPERROR },
	{ "192.0.2.5", "joe@incl.example", "x", SPF_PASS },
	{ "203.0.113.9", "joe@incl.example", "x", SPF_FAIL },
	/* include: a softfail inside is "no match" */
	{ "203.0.113.9", "joe@inclsoft.example", "x", SPF_NEUTRAL },
	{ "203.0.113.9", "joe@loop.example", "x", SPF_PERMERROR },
	{ "203.0.113.9", "joe@self.example", "x", SPF_PERMERROR },
	{ "203.0.113.9", "joe@many.example", "x", SPF_PERMERROR },
	{ "203.0.113.9", "joe@ten.example", "x", SPF_PASS },
	{ "203.0.113.250", "joe@many.example", "x", SPF_PASS },
	{ "203.0.113.9", "joe@void.example", "x", SPF_PERMERROR },
	{ "203.0.113.9", "joe@void2.example", "x", SPF_PASS },
	{ "192.0.2.9", "joe@redir.example", "x", SPF_PASS },
	{ "203.0.113.9", "joe@redir.example", "x", SPF_FAIL },
	{ "203.0.113.9", "joe@redirall.example", "x", SPF_NEUTRAL },
	{ "203.0.113.9", "joe@redirnone.example", "x", SPF_PERMERROR },
	{ "203.0.113.9", "joe@inclnone.example", "x", SPF_PERMERROR },
	{ "203.0.113.9", "joe@incltemp.example", "x", SPF_TEMPERROR },
	{ "203.0.113.9", "joe@mxtemp.example", "x", SPF_TEMPERROR },
	{ "203.0.113.9", "joe@atemp.example", "x", SPF_TEMPERROR },
	{ "192.0.2.3", "joe@macro.example", "x", SPF_PASS },
	{ "192.0.2.3", "joe-x@macro.example", "x", SPF_PASS },
	{ "192.0.2.3", "jim@macro.example", "x", SPF_FAIL },
	{ "192.0.2.4", "joe@macro.example", "x", SPF_FAIL },
	{ "192.0.2.77", "joe@ptr.example", "x", SPF_PASS },
	{ "192.0.2.78", "joe@ptr.example", "x", SPF_FAIL },
	{ "198.51.100.200", "joe@cidr.example", "x", SPF_PASS },
	{ "198.51.101.1", "joe@cidr.example", "x", SPF_FAIL },
	{ "2001:db9:0:ffff::1", "joe@cidr6.example", "x", SPF_PASS },
	{ "2001:db9:1::1", "joe@cidr6.example", "x", SPF_FAIL },
	/* null sender: the HELO identity */
	{ "192.0.2.25", "", "mail.helo.example", SPF_PASS },
	{ "192.0.2.26", NULL, "mail.helo.example", SPF_FAIL },
	{ "192.0.2.26", "", "[192.0.2.26]", SPF_NONE },
	{ "203.0.113.9", "joe@manymx.example", "x", SPF_PERMERROR },
	{ "not-an-ip", "joe@example.com", "x", SPF_PERMERROR },
};

START_TEST(test_spf_check)
{
	const char *why = NULL;
	enum spf_result r;

	mock_rrs = spf_dns;
	r = spf_check(&mock_dns, spf_cases[_i].ip, spf_cases[_i].helo,
	    spf_cases[_i].from, &why);
	ck_assert_msg(r == spf_cases[_i].want, "%s from %s: got %s (%s), "
	    "want %s", spf_cases[_i].ip, spf_cases[_i].from ?
	    spf_cases[_i].from : "NULL", spf_result_name(r), why ? why : "",
	    spf_result_name(spf_cases[_i].want));
}
END_TEST

START_TEST(test_spf_loop_bounded)
{
	/* an include loop costs at most the lookup limit in queries */
	mock_rrs = spf_dns;
	mock_queries = 0;
	ck_assert_int_eq(spf_check(&mock_dns, "203.0.113.9", "x",
	    "a@loop.example", NULL), SPF_PERMERROR);
	ck_assert_uint_le(mock_queries, SPF_MAX_LOOKUPS + 2);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Public suffix list, DMARC                                           */

static const struct {
	const char	*in;
	const char	*org;
} orgs[] = {
	{ "example.com", "example.com" },
	{ "mail.example.com", "example.com" },
	{ "a.b.c.Example.COM.", "example.com" },
	{ "example.co.uk", "example.co.uk" },
	{ "a.b.example.co.uk", "example.co.uk" },
	{ "co.uk", "co.uk" },
	{ "com", "com" },
	{ "foo.bar.ck", "foo.bar.ck" },		/* *.ck */
	{ "www.ck", "www.ck" },			/* !www.ck */
	{ "a.www.ck", "www.ck" },
	{ "x.y.github.io", "y.github.io" },	/* private section */
	{ "a.b.unknowntld", "b.unknowntld" },	/* the "*" rule */
};

START_TEST(test_psl)
{
	char out[256];

	ck_assert_int_eq(psl_load(NULL), 0);
	ck_assert_int_eq(psl_org_domain(orgs[_i].in, out, sizeof(out)), 0);
	ck_assert_str_eq(out, orgs[_i].org);
}
END_TEST

START_TEST(test_psl_bad)
{
	char out[256], big[400];

	ck_assert_int_eq(psl_org_domain("", out, sizeof(out)), -1);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(psl_org_domain(big, out, sizeof(out)), -1);
	/* a list that cannot be read: last two labels */
	ck_assert_int_eq(psl_load("/nonexistent/psl.dat"), -1);
	ck_assert_int_eq(psl_org_domain("a.b.example.co.uk", out,
	    sizeof(out)), 0);
	ck_assert_str_eq(out, "example.co.uk");
	ck_assert_int_eq(psl_load(NULL), 0);
}
END_TEST

static const struct {
	const char	*txt;
	int		 ok;
	int		 p;
	int		 sp;
	unsigned	 pct;
} dmarcs[] = {
	{ "v=DMARC1; p=reject", 1, DMARC_P_REJECT, DMARC_P_REJECT, 100 },
	{ "v=DMARC1;p=quarantine;sp=none;pct=20", 1, DMARC_P_QUARANTINE,
	    DMARC_P_NONE, 20 },
	{ "v=DMARC1; p=none; rua=mailto:d@example.com", 1, DMARC_P_NONE,
	    DMARC_P_NONE, 100 },
	{ "v=DMARC1; p=REJECT", 1, DMARC_P_REJECT, DMARC_P_REJECT, 100 },
	{ "v=DMARC1; p=reject; pct=101", 1, DMARC_P_REJECT, DMARC_P_REJECT,
	    100 },
	{ "v=DMARC1; p=reject; pct=x", 1, DMARC_P_REJECT, DMARC_P_REJECT,
	    100 },
	{ "v=DMARC1; p=bogus; rua=mailto:a@b.example", 1, DMARC_P_NONE,
	    DMARC_P_NONE, 100 },
	{ "v=DMARC1; rua=mailto:a@b.example", 1, DMARC_P_NONE, DMARC_P_NONE,
	    100 },
	{ "v=DMARC1; p=bogus", 0, 0, 0, 0 },
	{ "v=DMARC1; p=reject; sp=bogus", 0, 0, 0, 0 },
	{ "v=DMARC1", 0, 0, 0, 0 },
	{ "p=reject; v=DMARC1", 0, 0, 0, 0 },
	{ "v=dmarc1; p=reject", 0, 0, 0, 0 },
	{ "v=spf1 -all", 0, 0, 0, 0 },
	{ "", 0, 0, 0, 0 },
	/* RFC 7489 6.3: later syntax errors are ignored */
	{ "v=DMARC1; p=reject;; x", 1, DMARC_P_REJECT, DMARC_P_REJECT, 100 },
};

START_TEST(test_dmarc_parse)
{
	struct dmarc_record r;
	const char *why = NULL;
	int rc;

	rc = dmarc_parse(dmarcs[_i].txt, strlen(dmarcs[_i].txt), &r, &why);
	ck_assert_msg((rc == 0) == (dmarcs[_i].ok == 1), "[%s] %d %s",
	    dmarcs[_i].txt, rc, why ? why : "");
	if (rc == 0) {
		ck_assert_int_eq(r.p, dmarcs[_i].p);
		ck_assert_int_eq(r.sp, dmarcs[_i].sp);
		ck_assert_uint_eq(r.pct, dmarcs[_i].pct);
	}
}
END_TEST

static const struct mock_rr dmarc_dns[] = {
	{ "_dmarc.example.com", 'T', "v=DMARC1; p=reject; sp=quarantine",
	    DNS_OK },
	{ "_dmarc.strict.example", 'T', "v=DMARC1; p=reject; aspf=s; adkim=s",
	    DNS_OK },
	{ "_dmarc.pct.example", 'T', "v=DMARC1; p=reject; pct=50", DNS_OK },
	{ "_dmarc.temp.example", 'T', NULL, DNS_TEMP },
	{ "_dmarc.two.example", 'T', "v=DMARC1; p=reject", DNS_OK },
	{ "_dmarc.two.example", 'T', "v=DMARC1; p=none", DNS_OK },
	{ "_dmarc.sub.own.example", 'T', "v=DMARC1; p=none", DNS_OK },
	{ "_dmarc.own.example", 'T', "v=DMARC1; p=reject", DNS_OK },
	{ NULL, 0, NULL, DNS_OK }
};

static const struct {
	const char	*from;
	enum spf_result	 spf;
	const char	*spf_domain;
	const char	*dkim_d;	/* a passing signature, or NULL */
	int		 roll;
	enum dmarc_result want;
	enum dmarc_policy policy;
} dmarc_cases[] = {
	{ "example.com", SPF_PASS, "example.com", NULL, 0, DMARC_PASS,
	    DMARC_P_NONE },
	{ "example.com", SPF_PASS, "bounces.example.com", NULL, 0, DMARC_PASS,
	    DMARC_P_NONE },
	{ "example.com", SPF_PASS, "evil.example", NULL, 0, DMARC_FAIL,
	    DMARC_P_REJECT },
	{ "example.com", SPF_FAIL, "example.com", NULL, 0, DMARC_FAIL,
	    DMARC_P_REJECT },
	{ "example.com", SPF_FAIL, "example.com", "mail.example.com", 0,
	    DMARC_PASS, DMARC_P_NONE },
	{ "example.com", SPF_TEMPERROR, "example.com", NULL, 0, DMARC_FAIL,
	    DMARC_P_REJECT },
	/* a subdomain without its own record: sp= of the org */
	{ "news.example.com", SPF_NONE, "x.example", NULL, 0, DMARC_FAIL,
	    DMARC_P_QUARANTINE },
	{ "news.example.com", SPF_PASS, "example.com", NULL, 0, DMARC_PASS,
	    DMARC_P_NONE },
	/* its own record wins over the org's */
	{ "sub.own.example", SPF_FAIL, "sub.own.example", NULL, 0, DMARC_FAIL,
	    DMARC_P_NONE },
	{ "strict.example", SPF_PASS, "mail.strict.example", NULL, 0,
	    DMARC_FAIL, DMARC_P_REJECT },
	{ "strict.example", SPF_FAIL, "x", "mail.strict.example", 0,
	    DMARC_FAIL, DMARC_P_REJECT },
	{ "strict.example", SPF_FAIL, "x", "strict.example", 0, DMARC_PASS,
	    DMARC_P_NONE },
	{ "pct.example", SPF_FAIL, "x", NULL, 49, DMARC_FAIL,
	    DMARC_P_REJECT },
	{ "pct.example", SPF_FAIL, "x", NULL, 50, DMARC_FAIL,
	    DMARC_P_QUARANTINE },
	{ "temp.example", SPF_PASS, "temp.example", NULL, 0, DMARC_TEMPERROR,
	    DMARC_P_NONE },
	{ "two.example", SPF_FAIL, "x", NULL, 0, DMARC_NONE, DMARC_P_NONE },
	{ "nodmarc.example", SPF_FAIL, "x", NULL, 0, DMARC_NONE,
	    DMARC_P_NONE },
	{ "", SPF_FAIL, "x", NULL, 0, DMARC_PERMERROR, DMARC_P_NONE },
};

START_TEST(test_dmarc_eval)
{
	struct dmarc_input in;
	struct dmarc_outcome o;
	struct dkim_verdict v;

	mock_rrs = dmarc_dns;
	memset(&in, 0, sizeof(in));
	memset(&v, 0, sizeof(v));
	in.from_domain = dmarc_cases[_i].from;
	in.spf = dmarc_cases[_i].spf;
	in.spf_domain = dmarc_cases[_i].spf_domain;
	if (dmarc_cases[_i].dkim_d != NULL) {
		v.result = DKIM_PASS;
		str_copy(v.d, dmarc_cases[_i].dkim_d, sizeof(v.d));
		in.dkim = &v;
		in.ndkim = 1;
	}
	dmarc_evaluate(&mock_dns, &in, dmarc_cases[_i].roll, &o);
	ck_assert_msg(o.result == dmarc_cases[_i].want, "%s: %s",
	    dmarc_cases[_i].from, dmarc_result_name(o.result));
	ck_assert_msg(o.policy == dmarc_cases[_i].policy, "%s: policy %s",
	    dmarc_cases[_i].from, dmarc_policy_name(o.policy));
}
END_TEST

START_TEST(test_dmarc_dkim_policy_not_counted)
{
	struct dmarc_input in;
	struct dmarc_outcome o;
	struct dkim_verdict v;

	/* a partial-body (l=) signature or a test-mode key gives no
	 * DMARC credit */
	mock_rrs = dmarc_dns;
	memset(&in, 0, sizeof(in));
	memset(&v, 0, sizeof(v));
	in.from_domain = "example.com";
	in.spf = SPF_FAIL;
	in.spf_domain = "example.com";
	str_copy(v.d, "example.com", sizeof(v.d));
	in.dkim = &v;
	in.ndkim = 1;
	v.result = DKIM_POLICY;
	dmarc_evaluate(&mock_dns, &in, 0, &o);
	ck_assert_int_eq(o.result, DMARC_FAIL);
	v.result = DKIM_NEUTRAL;
	dmarc_evaluate(&mock_dns, &in, 0, &o);
	ck_assert_int_eq(o.result, DMARC_FAIL);
}
END_TEST

/* ------------------------------------------------------------------ */
/* mailauth_check and Authentication-Results                           */

static const struct mock_rr full_dns[] = {
	{ "brisbane._domainkey.football.example.com", 'T', RFC8463_ED_TXT,
	    DNS_OK },
	{ "test._domainkey.football.example.com", 'T', RFC8463_RSA_TXT,
	    DNS_OK },
	{ "football.example.com", 'T', "v=spf1 ip4:192.0.2.0/24 -all",
	    DNS_OK },
	{ "_dmarc.football.example.com", 'T', "v=DMARC1; p=reject", DNS_OK },
	{ NULL, 0, NULL, DNS_OK }
};

START_TEST(test_check_pass)
{
	struct mailauth_ctx mc;
	struct mailauth_results *r = xmalloc(sizeof(*r));
	struct buf head;
	const char *reply = "x";
	size_t skip = 9;

	mock_rrs = full_dns;
	memset(&mc, 0, sizeof(mc));
	mc.hostname = "mx.example.net";
	mc.dns = &mock_dns;
	mc.dmarc_reject = true;
	mc.now = 1528637909;
	buf_init(&head, MAILAUTH_HEAD_MAX);
	ck_assert_int_eq(mailauth_check(&mc, "192.0.2.1", "mail.football."
	    "example.com", "joe@football.example.com", rfc8463_msg,
	    strlen(rfc8463_msg), &head, &skip, &reply, r), MAILAUTH_ACCEPT);
	ck_assert_ptr_null(reply);
	ck_assert_uint_eq(skip, 0);
	ck_assert_str_eq(buf_cstr(&head),
	    "Authentication-Results: mx.example.net;\n"
	    "\tspf=pass smtp.mailfrom=football.example.com;\n"
	    "\tdkim=pass header.d=football.example.com header.s=brisbane "
	    "header.a=ed25519-sha256 header.b=\"/gCrinpc\";\n"
	    "\tdkim=pass header.d=football.example.com header.s=test "
	    "header.a=rsa-sha256 header.b=\"F45dVWDf\";\n"
	    "\tdmarc=pass (p=reject dis=none) header.from=football.example.com"
	    "\n");
	ck_assert_int_eq(r->dmarc.result, DMARC_PASS);
	ck_assert(r->dmarc.spf_aligned);
	ck_assert(r->dmarc.dkim_aligned);
	buf_free(&head);
	free(r);
}
END_TEST

START_TEST(test_check_reject)
{
	struct mailauth_ctx mc;
	struct buf head;
	const char *reply = NULL;
	size_t skip, n;
	char *m;

	/* spoofed: body changed, sent from elsewhere */
	mock_rrs = full_dns;
	m = rfc_edit("We lost", "We won!", &n);
	memset(&mc, 0, sizeof(mc));
	mc.hostname = "mx.example.net";
	mc.dns = &mock_dns;
	mc.dmarc_reject = true;
	mc.now = 1528637909;
	buf_init(&head, MAILAUTH_HEAD_MAX);
	ck_assert_int_eq(mailauth_check(&mc, "203.0.113.5", "evil.example",
	    "joe@football.example.com", m, n, &head, &skip, &reply, NULL),
	    MAILAUTH_REJECT);
	ck_assert_ptr_nonnull(reply);
	ck_assert(strncmp(reply, "550 5.7.1 ", 10) == 0);
	ck_assert(strstr(buf_cstr(&head), "spf=fail") != NULL);
	ck_assert(strstr(buf_cstr(&head), "dkim=fail (body hash did not "
	    "verify)") != NULL);
	ck_assert(strstr(buf_cstr(&head), "dmarc=fail (p=reject dis=reject)")
	    != NULL);
	/* dmarc_reject_policy = accept: marked, delivered */
	mc.dmarc_reject = false;
	buf_reset(&head);
	ck_assert_int_eq(mailauth_check(&mc, "203.0.113.5", "evil.example",
	    "joe@football.example.com", m, n, &head, &skip, &reply, NULL),
	    MAILAUTH_ACCEPT);
	ck_assert_ptr_null(reply);
	/* a second From field with a harmless domain does not help */
	free(m);
	m = rfc_edit("From: Joe", "From: x@nodmarc.example\nFrom: Joe", &n);
	mc.dmarc_reject = true;
	buf_reset(&head);
	ck_assert_int_eq(mailauth_check(&mc, "203.0.113.5", "evil.example",
	    "x@nodmarc.example", m, n, &head, &skip, &reply, NULL),
	    MAILAUTH_REJECT);
	free(m);
	buf_free(&head);
}
END_TEST

START_TEST(test_check_temperror)
{
	static const struct mock_rr down[] = {
		{ "brisbane._domainkey.football.example.com", 'T', NULL,
		    DNS_TEMP },
		{ "test._domainkey.football.example.com", 'T', NULL,
		    DNS_TEMP },
		{ "football.example.com", 'T', NULL, DNS_TEMP },
		{ "_dmarc.football.example.com", 'T', NULL, DNS_TEMP },
		{ NULL, 0, NULL, DNS_OK }
	};
	struct mailauth_ctx mc;
	struct mailauth_results *r = xmalloc(sizeof(*r));
	struct buf head;
	const char *reply = NULL;
	size_t skip;

	mock_rrs = down;
	memset(&mc, 0, sizeof(mc));
	mc.hostname = "mx.example.net";
	mc.dns = &mock_dns;
	mc.dmarc_reject = true;
	buf_init(&head, MAILAUTH_HEAD_MAX);
	ck_assert_int_eq(mailauth_check(&mc, "192.0.2.1", "h.example",
	    "joe@football.example.com", rfc8463_msg, strlen(rfc8463_msg),
	    &head, &skip, &reply, r), MAILAUTH_ACCEPT);
	ck_assert_int_eq(r->spf, SPF_TEMPERROR);
	ck_assert_int_eq(r->dkim[0].result, DKIM_TEMPERROR);
	ck_assert_int_eq(r->dmarc.result, DMARC_TEMPERROR);
	ck_assert(strstr(buf_cstr(&head), "pass") == NULL);
	buf_free(&head);
	free(r);
}
END_TEST

START_TEST(test_ar_strip)
{
	static const char m[] =
	    "Received: from a\n"
	    "Authentication-Results: MX.example.net; spf=pass\n"
	    "Authentication-Results: other.example; dkim=pass\n"
	    "Authentication-Results: (comment) mx.example.net 1;\n"
	    "\tdkim=pass header.d=bank.example\n"
	    "Authentication-Results: mx.example.net.evil; dkim=pass\n"
	    "Subject: hi\n"
	    "\n"
	    "Authentication-Results: mx.example.net; in the body\n";
	struct buf out;
	size_t skip = 0;

	buf_init(&out, 4096);
	ck_assert_int_eq(mailauth_ar_strip("mx.example.net", m, strlen(m),
	    &out, &skip), 1);
	ck_assert_str_eq(buf_cstr(&out),
	    "Received: from a\n"
	    "Authentication-Results: other.example; dkim=pass\n");
	ck_assert_str_eq(m + skip,
	    "Authentication-Results: mx.example.net.evil; dkim=pass\n"
	    "Subject: hi\n"
	    "\n"
	    "Authentication-Results: mx.example.net; in the body\n");
	buf_reset(&out);
	ck_assert_int_eq(mailauth_ar_strip("mx.other.net", m, strlen(m),
	    &out, &skip), 0);
	ck_assert_uint_eq(skip, 0);
	ck_assert_uint_eq(out.len, 0);
	buf_free(&out);
}
END_TEST

START_TEST(test_from_domains)
{
	static const char m[] =
	    "From: \"A, B\" <a@Example.COM>, c@example.com, d@other.example\n"
	    "From: undisclosed:;\n"
	    "To: z@z.example\n"
	    "\n"
	    "From: body@body.example\n";
	char d[4][256];

	ck_assert_uint_eq(mailauth_from_domains(m, strlen(m), d, 4), 2);
	ck_assert_str_eq(d[0], "example.com");
	ck_assert_str_eq(d[1], "other.example");
	ck_assert_uint_eq(mailauth_from_domains("To: x@y.example\n\n", 17, d,
	    4), 0);
}
END_TEST

START_TEST(test_hostile_records)
{
	struct dkim_key k;
	struct dmarc_record d;
	const char *why = NULL;
	struct buf out;
	size_t skip;
	char *big;

	/* NUL bytes and truncation */
	ck_assert_int_eq(dkim_key_parse("v=DKIM1; p=\0AAAA", 16, &k, &why),
	    -1);
	ck_assert_int_eq(dkim_key_parse("v=DKIM1; p", 10, &k, &why), -1);
	ck_assert_int_eq(dmarc_parse("v=DMARC1; p=re\0ject", 19, &d, &why),
	    -1);
	ck_assert_int_eq(dmarc_parse("v=DMARC1; p=", 12, &d, &why), -1);
	ck_assert_int_eq(dmarc_parse("v=DMAR", 6, &d, &why), -1);
	/* a huge p= */
	big = xmalloc(20000);
	memset(big, 'A', 19999);
	big[19999] = '\0';
	memcpy(big, "v=DKIM1; p=", 11);
	ck_assert_int_eq(dkim_key_parse(big, strlen(big), &k, &why), -1);
	free(big);
	/* header without a colon, empty field */
	buf_init(&out, 4096);
	ck_assert_int_eq(canon_header(CANON_RELAXED, "NoColon\n", 8, true,
	    &out), 0);
	ck_assert_str_eq(buf_cstr(&out), "nocolon:\r\n");
	buf_reset(&out);
	/* Authentication-Results with broken comments */
	{
		static const char m[] =
		    "Authentication-Results: ((( mx.example.net; x\n"
		    "Authentication-Results: (a\\) mx.example.net; x\n"
		    "Authentication-Results: \\\n"
		    "Authentication-Results:\n"
		    "\n";

		ck_assert_int_eq(mailauth_ar_strip("mx.example.net", m,
		    strlen(m), &out, &skip), 0);
		ck_assert_uint_eq(skip, 0);
	}
	buf_free(&out);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("mailauth");
	TCase *tc;

	tc = tcase_create("canon");
	tcase_add_test(tc, test_canon_header_rfc);
	tcase_add_test(tc, test_canon_body_rfc);
	tcase_add_loop_test(tc, test_canon_body_cases, 0,
	    sizeof(body_cases) / sizeof(body_cases[0]));
	tcase_add_test(tc, test_canon_body_nul);
	tcase_add_test(tc, test_canon_body_limit);
	suite_add_tcase(s, tc);

	tc = tcase_create("taglist");
	tcase_add_test(tc, test_taglist);
	tcase_add_loop_test(tc, test_taglist_bad, 0,
	    sizeof(bad_taglists) / sizeof(bad_taglists[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("dkim_parse");
	tcase_add_test(tc, test_sig_parse_ok);
	tcase_add_loop_test(tc, test_sig_parse_bad, 0,
	    sizeof(bad_sigs) / sizeof(bad_sigs[0]));
	tcase_add_test(tc, test_sig_parse_hostile);
	tcase_add_loop_test(tc, test_key_parse, 0,
	    sizeof(keys) / sizeof(keys[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("dkim_rfc8463");
	tcase_add_test(tc, test_rfc8463_verify);
	tcase_add_loop_test(tc, test_rfc8463_tamper, 0,
	    sizeof(tamper) / sizeof(tamper[0]));
	tcase_add_test(tc, test_rfc8463_dns_errors);
	tcase_add_test(tc, test_rfc8463_sign_same_bytes);
	suite_add_tcase(s, tc);

	tc = tcase_create("dkim_roundtrip");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_roundtrip, 0, 2);
	tcase_add_test(tc, test_sign_no_from);
	tcase_add_test(tc, test_verify_unsigned_and_broken);
	suite_add_tcase(s, tc);

	tc = tcase_create("spf");
	tcase_add_loop_test(tc, test_spf_macro_rfc, 0,
	    sizeof(macros4) / sizeof(macros4[0]));
	tcase_add_test(tc, test_spf_macro_ip6);
	tcase_add_loop_test(tc, test_spf_macro_bad, 0,
	    sizeof(bad_macros) / sizeof(bad_macros[0]));
	tcase_add_test(tc, test_spf_macro_long);
	tcase_add_loop_test(tc, test_spf_parse, 0,
	    sizeof(spf_recs) / sizeof(spf_recs[0]));
	tcase_add_test(tc, test_spf_parse_limits);
	tcase_add_loop_test(tc, test_spf_check, 0,
	    sizeof(spf_cases) / sizeof(spf_cases[0]));
	tcase_add_test(tc, test_spf_loop_bounded);
	suite_add_tcase(s, tc);

	tc = tcase_create("dmarc");
	tcase_add_loop_test(tc, test_psl, 0, sizeof(orgs) / sizeof(orgs[0]));
	tcase_add_test(tc, test_psl_bad);
	tcase_add_loop_test(tc, test_dmarc_parse, 0,
	    sizeof(dmarcs) / sizeof(dmarcs[0]));
	tcase_add_loop_test(tc, test_dmarc_eval, 0,
	    sizeof(dmarc_cases) / sizeof(dmarc_cases[0]));
	tcase_add_test(tc, test_dmarc_dkim_policy_not_counted);
	suite_add_tcase(s, tc);

	tc = tcase_create("check");
	tcase_add_test(tc, test_check_pass);
	tcase_add_test(tc, test_check_reject);
	tcase_add_test(tc, test_check_temperror);
	tcase_add_test(tc, test_ar_strip);
	tcase_add_test(tc, test_from_domains);
	tcase_add_test(tc, test_hostile_records);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(make_suite)
