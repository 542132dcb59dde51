/*
 * dkim - DKIM signatures, RFC 6376, with the algorithm update of RFC 8301
 * (no rsa-sha1; RSA keys of 1024 bits or more) and Ed25519 of RFC 8463
 * (the Ed25519 signature is made over the SHA-256 hash of the header
 * data, PureEdDSA).
 *
 * Input: untrusted messages and untrusted DNS records. Every tag value is
 * bounded (DKIM_* limits in dkim.h), at most DKIM_MAX_SIGS signatures are
 * evaluated, body hashes are shared between signatures with the same
 * canonicalization and l=, and the message is never copied: headers are
 * canonicalized into a bounded buffer, the body is streamed into the hash.
 *
 * l= is treated carefully: a signature whose l= leaves part of the body
 * unsigned is reported as "policy" (RFC 8601), not "pass", so DMARC
 * never relies on it; an l= beyond the body is a failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/str.h"
#include "core/xmalloc.h"
#include "mail/hdr.h"
#include "mailauth/dkim.h"
#include "mailauth/taglist.h"

#define DKIM_HDATA_MAX	(4 * 1024 * 1024)	/* canonical header data */
#define DKIM_FOLD	78

const char *
dkim_result_name(enum dkim_result r)
{
	switch (r) {
	case DKIM_NONE:
		return "none";
	case DKIM_PASS:
		return "pass";
	case DKIM_FAIL:
		return "fail";
	case DKIM_POLICY:
		return "policy";
	case DKIM_NEUTRAL:
		return "neutral";
	case DKIM_TEMPERROR:
		return "temperror";
	case DKIM_PERMERROR:
		return "permerror";
	}
	return "permerror";
}

/* ------------------------------------------------------------------ */
/* Parsing                                                             */

static bool
dkim_veq(const struct tag *t, const char *s)
{
	size_t n = strlen(s);

	return t->value_len == n && memcmp(t->value, s, n) == 0;
}

static bool
dkim_vieq(const char *v, size_t vn, const char *s)
{
	return vn == strlen(s) && str_ieqn(v, s, vn);
}

/* A domain or selector: LDH labels (plus '_'), copied lower-case. */
static int
dkim_name(const char *v, size_t n, char *dst, size_t dstlen)
{
	size_t i;

	if (n == 0 || n >= dstlen || n > 253)
		return -1;
	for (i = 0; i < n; i++) {
		char c = v[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.'))
			return -1;
		if (c == '.' && (i == 0 || v[i - 1] == '.'))
			return -1;
		dst[i] = c;
	}
	if (dst[n - 1] == '.')
		return -1;
	dst[n] = '\0';
	return 0;
}

/* Strict decimal, at most 18 digits (l=, t=, x=: RFC allows 76 bits,
 * anything that large is absurd for mail). */
static int
dkim_num(const char *v, size_t n, uint64_t *r)
{
	uint64_t x = 0;
	size_t i;

	if (n == 0 || n > 18)
		return -1;
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	*r = x;
	return 0;
}

/* base64 with FWS removed into dst (max bytes). Length or -1. */
static long
dkim_b64(const char *v, size_t n, uint8_t *dst, size_t max)
{
	char *tmp;
	long len, out;

	if (n > max * 2 + 64)
		return -1;
	tmp = xmalloc(n + 1);
	len = taglist_nofws(v, n, tmp, n + 1);
	if (len < 0 || (size_t)len / 4 * 3 > max) {
		free(tmp);
		return -1;
	}
	out = len == 0 ? 0 : base64_decode(tmp, (size_t)len, dst);
	free(tmp);
	return out;
}

/* The first 8 characters of b= (header.b of RFC 6008). */
static void
dkim_b8(const char *v, size_t n, char b8[9])
{
	size_t i, o = 0;

	for (i = 0; i < n && o < 8; i++)
		if (strchr(" \t\r\n", v[i]) == NULL)
			b8[o++] = v[i];
	b8[o] = '\0';
}

enum {
	T_V = 1 << 0, T_A = 1 << 1, T_B = 1 << 2, T_BH = 1 << 3,
	T_C = 1 << 4, T_D = 1 << 5, T_H = 1 << 6, T_I = 1 << 7,
	T_L = 1 << 8, T_Q = 1 << 9, T_S = 1 << 10, T_T = 1 << 11,
	T_X = 1 << 12, T_Z = 1 << 13
};

static int
dkim_sig_h(const struct tag *t, struct dkim_sig *sig)
{
	size_t i = 0, n = t->value_len, s, e;
	const char *v = t->value;
	bool from = false;

	while (i <= n) {
		s = i;
		while (i < n && v[i] != ':')
			i++;
		e = i;
		while (s < e && strchr(" \t\r\n", v[s]) != NULL)
			s++;
		while (e > s && strchr(" \t\r\n", v[e - 1]) != NULL)
			e--;
		if (e == s || e - s > DKIM_HNAME_MAX ||
		    sig->nh >= DKIM_MAX_HNAMES)
			return -1;
		memcpy(sig->h[sig->nh], v + s, e - s);
		sig->h[sig->nh][e - s] = '\0';
		if (strchr(sig->h[sig->nh], ' ') != NULL ||
		    strchr(sig->h[sig->nh], '\t') != NULL)
			return -1;
		if (str_ieq(sig->h[sig->nh], "from"))
			from = true;
		sig->nh++;
		i++;	/* past ':' (or the end) */
	}
	return from ? 0 : -2;
}

int
dkim_sig_parse(const char *v, size_t n, struct dkim_sig *sig,
    const char **why_r)
{
	struct taglist tl;
	struct tag t;
	unsigned seen = 0, bit;
	const char *at, *dom;
	size_t dl, il;
	long r;
	int rc;

	memset(sig, 0, sizeof(*sig));
	if (n > DKIM_SIG_VALUE_MAX) {
		*why_r = "signature field too long";
		return -1;
	}
	taglist_init(&tl, v, n);
	while ((rc = taglist_next(&tl, &t)) == 1) {
		bit = 0;
		if (taglist_is(&t, "v"))
			bit = T_V;
		else if (taglist_is(&t, "a"))
			bit = T_A;
		else if (taglist_is(&t, "b"))
			bit = T_B;
		else if (taglist_is(&t, "bh"))
			bit = T_BH;
		else if (taglist_is(&t, "c"))
			bit = T_C;
		else if (taglist_is(&t, "d"))
			bit = T_D;
		else if (taglist_is(&t, "h"))
			bit = T_H;
		else if (taglist_is(&t, "i"))
			bit = T_I;
		else if (taglist_is(&t, "l"))
			bit = T_L;
		else if (taglist_is(&t, "q"))
			bit = T_Q;
		else if (taglist_is(&t, "s"))
			bit = T_S;
		else if (taglist_is(&t, "t"))
			bit = T_T;
		else if (taglist_is(&t, "x"))
			bit = T_X;
		else if (taglist_is(&t, "z"))
			bit = T_Z;
		if (bit == 0)
			continue;	/* unknown tags are ignored */
		if (seen & bit) {
			*why_r = "duplicate tag";
			return -1;
		}
		seen |= bit;
		switch (bit) {
		case T_V:
			if (!dkim_veq(&t, "1")) {
				*why_r = "unsupported version";
				return -1;
			}
			break;
		case T_A:
			if (dkim_veq(&t, "rsa-sha256"))
				sig->alg = DKIM_RSA_SHA256;
			else if (dkim_veq(&t, "ed25519-sha256"))
				sig->alg = DKIM_ED25519_SHA256;
			else if (dkim_veq(&t, "rsa-sha1")) {
				*why_r = "rsa-sha1 is not accepted (RFC 8301)";
				return -1;
			} else {
				*why_r = "unknown algorithm";
				return -1;
			}
			break;
		case T_B:
			r = dkim_b64(t.value, t.value_len, sig->b,
			    sizeof(sig->b));
			if (r <= 0) {
				*why_r = "bad b= value";
				return -1;
			}
			sig->blen = (size_t)r;
			sig->bval_off = t.raw_off;
			sig->bval_len = t.raw_len;
			dkim_b8(t.value, t.value_len, sig->b8);
			break;
		case T_BH:
			r = dkim_b64(t.value, t.value_len, sig->bh,
			    sizeof(sig->bh));
			if (r != 32) {
				*why_r = "bad bh= value";
				return -1;
			}
			sig->bhlen = (size_t)r;
			break;
		case T_C:
			if (dkim_veq(&t, "simple") ||
			    dkim_veq(&t, "simple/simple")) {
				sig->hcanon = CANON_SIMPLE;
				sig->bcanon = CANON_SIMPLE;
			} else if (dkim_veq(&t, "relaxed") ||
			    dkim_veq(&t, "relaxed/simple")) {
				sig->hcanon = CANON_RELAXED;
				sig->bcanon = CANON_SIMPLE;
			} else if (dkim_veq(&t, "simple/relaxed")) {
				sig->hcanon = CANON_SIMPLE;
				sig->bcanon = CANON_RELAXED;
			} else if (dkim_veq(&t, "relaxed/relaxed")) {
				sig->hcanon = CANON_RELAXED;
				sig->bcanon = CANON_RELAXED;
			} else {
				*why_r = "unknown canonicalization";
				return -1;
			}
			break;
		case T_D:
			if (dkim_name(t.value, t.value_len, sig->d,
			    sizeof(sig->d)) < 0) {
				*why_r = "bad d= domain";
				return -1;
			}
			break;
		case T_H:
			rc = dkim_sig_h(&t, sig);
			if (rc == -2) {
				*why_r = "From is not signed";
				return -1;
			}
			if (rc < 0) {
				*why_r = "bad h= list";
				return -1;
			}
			break;
		case T_I:
			if (t.value_len == 0 || t.value_len >= sizeof(sig->i) ||
			    memchr(t.value, '@', t.value_len) == NULL) {
				*why_r = "bad i= identity";
				return -1;
			}
			memcpy(sig->i, t.value, t.value_len);
			sig->i[t.value_len] = '\0';
			break;
		case T_L:
			if (dkim_num(t.value, t.value_len, &sig->l) < 0) {
				*why_r = "bad l= value";
				return -1;
			}
			sig->has_l = true;
			break;
		case T_Q: {
			/* a colon list that must offer dns/txt */
			const char *p = t.value, *e = t.value + t.value_len;
			bool ok = false;

			while (p < e) {
				const char *c = memchr(p, ':', (size_t)(e - p));
				size_t k = c != NULL ? (size_t)(c - p) :
				    (size_t)(e - p);

				if (dkim_vieq(p, k, "dns/txt"))
					ok = true;
				p += k + 1;
			}
			if (!ok) {
				*why_r = "unsupported q= method";
				return -1;
			}
			break;
		}
		case T_S:
			if (dkim_name(t.value, t.value_len, sig->s,
			    sizeof(sig->s)) < 0) {
				*why_r = "bad s= selector";
				return -1;
			}
			break;
		case T_T:
			if (dkim_num(t.value, t.value_len, &sig->t) < 0) {
				*why_r = "bad t= value";
				return -1;
			}
			sig->has_t = true;
			break;
		case T_X:
			if (dkim_num(t.value, t.value_len, &sig->x) < 0) {
				*why_r = "bad x= value";
				return -1;
			}
			sig->has_x = true;
			break;
		default:
			break;
		}
	}
	if (rc < 0) {
		*why_r = "tag list syntax";
		return -1;
	}
	if ((seen & (T_V | T_A | T_B | T_BH | T_D | T_H | T_S)) !=
	    (T_V | T_A | T_B | T_BH | T_D | T_H | T_S)) {
		*why_r = "a required tag is missing";
		return -1;
	}
	if (sig->has_t && sig->has_x && sig->x < sig->t) {
		*why_r = "x= before t=";
		return -1;
	}
	if (sig->i[0] == '\0') {
		snprintf(sig->i, sizeof(sig->i), "@%s", sig->d);
	} else {
		/* the i= domain is d= or a subdomain of it */
		at = strrchr(sig->i, '@');
		dom = at + 1;
		il = strlen(dom);
		dl = strlen(sig->d);
		if (!(str_ieq(dom, sig->d) || (il > dl &&
		    dom[il - dl - 1] == '.' && str_ieq(dom + il - dl,
		    sig->d)))) {
			*why_r = "i= is not within d=";
			return -1;
		}
	}
	return 0;
}

int
dkim_key_parse(const char *txt, size_t n, struct dkim_key *k,
    const char **why_r)
{
	struct taglist tl;
	struct tag t;
	bool first = true, havep = false, sha256 = true, email = true;
	long r;
	int rc;

	memset(k, 0, sizeof(*k));
	k->type = DKIM_K_RSA;
	taglist_init(&tl, txt, n);
	while ((rc = taglist_next(&tl, &t)) == 1) {
		if (taglist_is(&t, "v")) {
			if (!first || !dkim_veq(&t, "DKIM1")) {
				*why_r = "bad v= in key record";
				return -1;
			}
		} else if (taglist_is(&t, "k")) {
			if (dkim_veq(&t, "rsa"))
				k->type = DKIM_K_RSA;
			else if (dkim_veq(&t, "ed25519"))
				k->type = DKIM_K_ED25519;
			else {
				*why_r = "unknown key type";
				return -1;
			}
		} else if (taglist_is(&t, "h") || taglist_is(&t, "s") ||
		    taglist_is(&t, "t")) {
			const char *p = t.value, *e = t.value + t.value_len;
			bool h = taglist_is(&t, "h"), s = taglist_is(&t, "s");

			if (h)
				sha256 = false;
			if (s)
				email = false;
			while (p <= e) {
				const char *c = memchr(p, ':', (size_t)(e - p));
				size_t m = c != NULL ? (size_t)(c - p) :
				    (size_t)(e - p);
				const char *q = p;

				while (m > 0 && strchr(" \t\r\n", *q) != NULL) {
					q++;
					m--;
				}
				while (m > 0 && strchr(" \t\r\n", q[m - 1]) !=
				    NULL)
					m--;
				if (h && dkim_vieq(q, m, "sha256"))
					sha256 = true;
				if (s && (dkim_vieq(q, m, "*") ||
				    dkim_vieq(q, m, "email")))
					email = true;
				if (!h && !s && dkim_vieq(q, m, "y"))
					k->testing = true;
				if (!h && !s && dkim_vieq(q, m, "s"))
					k->strict = true;
				p += m + (size_t)(q - p) + 1;
			}
		} else if (taglist_is(&t, "p")) {
			if (havep) {
				*why_r = "duplicate p= in key record";
				return -1;
			}
			havep = true;
			r = dkim_b64(t.value, t.value_len, k->p, sizeof(k->p));
			if (r < 0) {
				*why_r = "bad p= in key record";
				return -1;
			}
			k->plen = (size_t)r;
		}
		first = false;
	}
	if (rc < 0) {
		*why_r = "key record syntax";
		return -1;
	}
	if (!havep) {
		*why_r = "no p= in key record";
		return -1;
	}
	if (!sha256) {
		*why_r = "key record does not allow sha256";
		return -1;
	}
	if (!email) {
		*why_r = "key record not for email";
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Hashing                                                             */

struct dkim_fields {
	struct hdr_field *f;
	size_t		 n;
};

static int
dkim_fields_load(const char *msg, size_t len, struct dkim_fields *fs)
{
	struct hdr_iter it;
	struct hdr_field f;
	size_t cap = 0;
	int r;

	fs->f = NULL;
	fs->n = 0;
	hdr_iter_init(&it, msg, len);
	while ((r = hdr_iter_next(&it, &f)) == 1) {
		if (fs->n == cap) {
			cap = cap == 0 ? 32 : cap * 2;
			fs->f = xreallocarray(fs->f, cap, sizeof(*fs->f));
		}
		fs->f[fs->n++] = f;
	}
	if (r < 0) {
		free(fs->f);
		fs->f = NULL;
		fs->n = 0;
		return -1;
	}
	return 0;
}

static bool
dkim_field_is(const struct hdr_field *f, const char *name)
{
	return f->name_len == strlen(name) &&
	    str_ieqn(f->name, name, f->name_len);
}

/*
 * The header data of RFC 6376 5.4.2 / 3.7: for each h= name, the last
 * not yet used instance (bottom-up), canonicalized with CRLF; absent
 * ones add nothing. Then the signature field sig[0..siglen) with the b=
 * value at [boff, boff+blen) left out, without a final CRLF.
 */
static int
dkim_hdata(const struct dkim_fields *fs, const char (*names)[DKIM_HNAME_MAX
    + 1], size_t nnames, enum canon_alg hc, const char *sig, size_t siglen,
    size_t boff, size_t blen, struct buf *out)
{
	bool *used;
	size_t i, j;
	char *tmp;
	int rc = -1;

	used = xcalloc(fs->n + 1, sizeof(*used));
	for (i = 0; i < nnames; i++) {
		for (j = fs->n; j > 0; j--) {
			const struct hdr_field *f = &fs->f[j - 1];

			if (used[j - 1] || !dkim_field_is(f, names[i]))
				continue;
			used[j - 1] = true;
			if (canon_header(hc, f->name, f->len, true, out) < 0)
				goto out;
			break;
		}
	}
	tmp = xmalloc(siglen + 1);
	memcpy(tmp, sig, boff);
	memcpy(tmp + boff, sig + boff + blen, siglen - boff - blen);
	rc = canon_header(hc, tmp, siglen - blen, false, out);
	free(tmp);
out:
	free(used);
	return rc;
}

static void
dkim_sink_md(void *arg, const void *p, size_t n)
{
	(void)EVP_DigestUpdate(arg, p, n);
}

/* SHA-256 of the canonical body; *total_r its full canonical length. */
static int
dkim_body_hash(const char *body, size_t n, enum canon_alg bc, bool has_l,
    uint64_t l, uint8_t out[32], uint64_t *total_r)
{
	struct canon_body *cb;
	EVP_MD_CTX *md;
	unsigned int mdlen = 0;
	int rc = -1;

	md = EVP_MD_CTX_new();
	if (md == NULL)
		return -1;
	cb = xmalloc(sizeof(*cb));
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1) {
		canon_body_init(cb, bc, dkim_sink_md, md, has_l, l);
		canon_body_update(cb, body, n);
		*total_r = canon_body_final(cb);
		if (EVP_DigestFinal_ex(md, out, &mdlen) == 1 && mdlen == 32)
			rc = 0;
	}
	free(cb);
	EVP_MD_CTX_free(md);
	return rc;
}

static int
dkim_sha256(const void *p, size_t n, uint8_t out[32])
{
	unsigned int len = 0;

	if (EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) != 1 || len != 32)
		return -1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Verification                                                        */

struct dkim_bcache {
	enum canon_alg	 bc;
	bool		 has_l;
	uint64_t	 l;
	uint8_t		 hash[32];
	uint64_t	 total;
};

/* The public key of k for algorithm alg; NULL with a reason. */
static EVP_PKEY *
dkim_pubkey(const struct dkim_key *k, enum dkim_alg alg, const char **why_r)
{
	const unsigned char *p = k->p;
	EVP_PKEY *pk;

	if (k->plen == 0) {
		*why_r = "key revoked";
		return NULL;
	}
	if ((alg == DKIM_RSA_SHA256) != (k->type == DKIM_K_RSA)) {
		*why_r = "key type does not match a=";
		return NULL;
	}
	if (k->type == DKIM_K_ED25519) {
		if (k->plen != 32) {
			*why_r = "bad ed25519 key";
			return NULL;
		}
		pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, k->p,
		    32);
		if (pk == NULL)
			*why_r = "bad ed25519 key";
		return pk;
	}
	pk = d2i_PUBKEY(NULL, &p, (long)k->plen);
	if (pk == NULL) {
		/* some publish a bare RSAPublicKey (PKCS#1) */
		p = k->p;
		pk = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)k->plen);
	}
	if (pk == NULL || EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA) {
		EVP_PKEY_free(pk);
		*why_r = "bad RSA key";
		return NULL;
	}
	if (EVP_PKEY_get_bits(pk) < DKIM_RSA_MIN_BITS ||
	    EVP_PKEY_get_bits(pk) > DKIM_RSA_MAX_BITS) {
		EVP_PKEY_free(pk);
		*why_r = "RSA key size not accepted";
		return NULL;
	}
	return pk;
}

static bool
dkim_check_sig(EVP_PKEY *pk, enum dkim_alg alg, const struct buf *data,
    const uint8_t *b, size_t blen)
{
	EVP_MD_CTX *md;
	uint8_t h[32];
	int r = 0;

	md = EVP_MD_CTX_new();
	if (md == NULL)
		return false;
	if (alg == DKIM_RSA_SHA256) {
		if (EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pk) ==
		    1)
			r = EVP_DigestVerify(md, b, blen,
			    (const unsigned char *)data->data, data->len);
	} else {
		if (dkim_sha256(data->data, data->len, h) == 0 &&
		    EVP_DigestVerifyInit(md, NULL, NULL, NULL, pk) == 1)
			r = EVP_DigestVerify(md, b, blen, h, sizeof(h));
	}
	EVP_MD_CTX_free(md);
	return r == 1;
}

/* Find the key record; DKIM_PASS with *k filled, or the error result. */
static enum dkim_result
dkim_fetch_key(const struct resolve *dns, const struct dkim_sig *sig,
    struct dkim_key *k, const char **why_r)
{
	char name[600], **txt = NULL;
	enum dns_status st;
	size_t n = 0, i;
	const char *why = "no key record";

	if ((size_t)snprintf(name, sizeof(name), "%s._domainkey.%s", sig->s,
	    sig->d) >= sizeof(name) || strlen(name) > 253) {
		*why_r = "key name too long";
		return DKIM_PERMERROR;
	}
	st = dns->txt(dns->arg, name, &txt, &n);
	if (st == DNS_TEMP || st == DNS_FAIL) {
		*why_r = "key lookup failed";
		return DKIM_TEMPERROR;
	}
	if (st != DNS_OK) {
		*why_r = "no key record";
		return DKIM_PERMERROR;
	}
	for (i = 0; i < n; i++) {
		if (dkim_key_parse(txt[i], strlen(txt[i]), k, &why) == 0) {
			dns_txt_free(txt, n);
			return DKIM_PASS;
		}
	}
	dns_txt_free(txt, n);
	*why_r = why;
	return DKIM_PERMERROR;
}

/* After a parse error: d= and s= as far as they can be read, for the
 * report (header.d lets DMARC reports name the signer). */
static void
dkim_salvage(const char *v, size_t n, struct dkim_verdict *vd)
{
	struct taglist tl;
	struct tag t;

	taglist_init(&tl, v, n);
	while (taglist_next(&tl, &t) == 1) {
		if (taglist_is(&t, "d") && dkim_name(t.value, t.value_len,
		    vd->d, sizeof(vd->d)) < 0)
			vd->d[0] = '\0';
		if (taglist_is(&t, "s") && dkim_name(t.value, t.value_len,
		    vd->s, sizeof(vd->s)) < 0)
			vd->s[0] = '\0';
	}
}

static void
dkim_verify_one(const struct resolve *dns, const char *msg, size_t len,
    const struct dkim_fields *fs, size_t fi, time_t now,
    struct dkim_bcache *bc, size_t *nbc, struct dkim_verdict *v)
{
	const struct hdr_field *f = &fs->f[fi];
	struct dkim_sig *sig;
	struct dkim_key *key;
	struct dkim_bcache *c = NULL;
	EVP_PKEY *pk = NULL;
	struct buf data;
	size_t boff, i;
	const char *why = NULL;
	enum dkim_result r;

	memset(v, 0, sizeof(*v));
	sig = xcalloc(1, sizeof(*sig));
	key = xcalloc(1, sizeof(*key));	/* testing = false until fetched */
	buf_init(&data, DKIM_HDATA_MAX);
	if (dkim_sig_parse(f->value, f->value_len, sig, &why) < 0) {
		v->result = DKIM_PERMERROR;
		v->why = why;
		dkim_salvage(f->value, f->value_len, v);
		goto out;
	}
	v->alg = sig->alg;
	v->alg_known = true;
	str_copy(v->d, sig->d, sizeof(v->d));
	str_copy(v->s, sig->s, sizeof(v->s));
	str_copy(v->i, sig->i, sizeof(v->i));
	str_copy(v->b8, sig->b8, sizeof(v->b8));
	if (sig->has_x && (uint64_t)now > sig->x) {
		v->result = DKIM_FAIL;
		v->why = "signature expired";
		goto out;
	}
	r = dkim_fetch_key(dns, sig, key, &why);
	if (r != DKIM_PASS) {
		v->result = r;
		v->why = why;
		goto out;
	}
	if (key->strict) {
		const char *at = strrchr(sig->i, '@');

		if (at == NULL || !str_ieq(at + 1, sig->d)) {
			v->result = DKIM_PERMERROR;
			v->why = "key requires i= domain equal to d=";
			goto out;
		}
	}
	pk = dkim_pubkey(key, sig->alg, &why);
	if (pk == NULL) {
		v->result = DKIM_PERMERROR;
		v->why = why;
		goto out;
	}

	/* body hash, shared between signatures hashing the same way */
	for (i = 0; i < *nbc; i++) {
		if (bc[i].bc == sig->bcanon && bc[i].has_l == sig->has_l &&
		    (!sig->has_l || bc[i].l == sig->l))
			c = &bc[i];
	}
	if (c == NULL) {
		size_t bo = hdr_body_offset(msg, len, NULL);

		c = &bc[(*nbc)++];
		c->bc = sig->bcanon;
		c->has_l = sig->has_l;
		c->l = sig->l;
		if (dkim_body_hash(msg + bo, len - bo, sig->bcanon,
		    sig->has_l, sig->l, c->hash, &c->total) < 0) {
			memset(c->hash, 0, sizeof(c->hash));
			c->total = 0;
		}
	}
	if (sig->has_l && sig->l > c->total) {
		v->result = DKIM_FAIL;
		v->why = "l= is longer than the body";
		goto out;
	}
	if (memcmp(c->hash, sig->bh, 32) != 0) {
		v->result = DKIM_FAIL;
		v->why = "body hash did not verify";
		goto out;
	}

	/* header hash: b= blanked in the field itself */
	boff = (size_t)(f->value - f->name) + sig->bval_off;
	if (dkim_hdata(fs, (const char (*)[DKIM_HNAME_MAX + 1])sig->h,
	    sig->nh, sig->hcanon, f->name, f->len, boff, sig->bval_len,
	    &data) < 0) {
		v->result = DKIM_PERMERROR;
		v->why = "header too large";
		goto out;
	}
	if (!dkim_check_sig(pk, sig->alg, &data, sig->b, sig->blen)) {
		v->result = DKIM_FAIL;
		v->why = "signature did not verify";
		goto out;
	}
	if (sig->has_l && sig->l < c->total) {
		v->result = DKIM_POLICY;
		v->why = "l= leaves part of the body unsigned";
		goto out;
	}
	v->result = DKIM_PASS;
out:
	if (key->testing && v->result != DKIM_TEMPERROR &&
	    v->result != DKIM_PERMERROR) {
		v->result = DKIM_NEUTRAL;
		v->why = "key in test mode";
	}
	EVP_PKEY_free(pk);
	buf_free(&data);
	free(key);
	free(sig);
}

int
dkim_verify(const struct resolve *dns, const char *msg, size_t len,
    time_t now, struct dkim_verdict *out, size_t max, size_t *n_r)
{
	struct dkim_bcache bc[DKIM_MAX_SIGS];
	struct dkim_fields fs;
	size_t i, nbc = 0;

	*n_r = 0;
	if (max > DKIM_MAX_SIGS)
		max = DKIM_MAX_SIGS;
	if (dkim_fields_load(msg, len, &fs) < 0)
		return -1;
	for (i = 0; i < fs.n && *n_r < max; i++) {
		if (!dkim_field_is(&fs.f[i], "DKIM-Signature"))
			continue;
		dkim_verify_one(dns, msg, len, &fs, i, now, bc, &nbc,
		    &out[*n_r]);
		(*n_r)++;
	}
	free(fs.f);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Signing                                                             */

/* Signed when present; oversigned (one more entry) when marked. */
static const struct {
	const char	*name;
	bool		 over;
} dkim_sign_set[] = {
	{ "from", true },
	{ "reply-to", true },
	{ "subject", true },
	{ "date", true },
	{ "message-id", true },
	{ "to", true },
	{ "cc", true },
	{ "mime-version", true },
	{ "content-type", true },
	{ "content-transfer-encoding", true },
	{ "sender", false },
	{ "in-reply-to", false },
	{ "references", false },
	{ "content-id", false },
	{ "content-description", false },
	{ "content-language", false },
	{ "list-id", false },
	{ "list-help", false },
	{ "list-unsubscribe", false },
	{ "list-unsubscribe-post", false },
	{ "list-subscribe", false },
	{ "list-post", false },
	{ "list-owner", false },
	{ "list-archive", false },
	{ "autocrypt", false },
	{ "openpgp", false },
};

/* Folding writer: words separated by SP, or by LF TAB past DKIM_FOLD. */
struct dkim_fold {
	struct buf	*b;
	size_t		 col;
	int		 err;
};

static void
dkim_word(struct dkim_fold *f, const char *w, bool sp)
{
	size_t n = strlen(w);

	if (f->col > 1 && f->col + (sp ? 1 : 0) + n > DKIM_FOLD) {
		if (buf_puts(f->b, "\n\t") < 0)
			f->err = -1;
		f->col = 8;
	} else if (sp) {
		if (buf_putc(f->b, ' ') < 0)
			f->err = -1;
		f->col++;
	}
	if (buf_puts(f->b, w) < 0)
		f->err = -1;
	f->col += n;
}

static EVP_PKEY *
dkim_load_private(const char *pem)
{
	EVP_PKEY *pk;
	BIO *bio;

	bio = BIO_new_mem_buf(pem, -1);
	if (bio == NULL)
		return NULL;
	pk = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	return pk;
}

/* The h= names to sign, into names (max DKIM_MAX_HNAMES). */
static size_t
dkim_pick_headers(const struct dkim_fields *fs,
    char (*names)[DKIM_HNAME_MAX + 1])
{
	size_t i, j, k, cnt, nn = 0;

	for (i = 0; i < sizeof(dkim_sign_set) / sizeof(dkim_sign_set[0]);
	    i++) {
		cnt = 0;
		for (j = 0; j < fs->n; j++)
			if (dkim_field_is(&fs->f[j], dkim_sign_set[i].name))
				cnt++;
		if (cnt > 4)
			cnt = 4;
		if (dkim_sign_set[i].over)
			cnt++;
		for (k = 0; k < cnt && nn < DKIM_MAX_HNAMES; k++)
			str_copy(names[nn++], dkim_sign_set[i].name,
			    DKIM_HNAME_MAX + 1);
	}
	return nn;
}

/* Parse a caller's raw h= value into names. Count or -1. */
static long
dkim_split_hlist(const char *hl, char (*names)[DKIM_HNAME_MAX + 1])
{
	struct dkim_sig *tmp;
	struct tag t;
	long n;

	tmp = xcalloc(1, sizeof(*tmp));
	memset(&t, 0, sizeof(t));
	t.value = hl;
	t.value_len = strlen(hl);
	if (dkim_sig_h(&t, tmp) != 0) {
		free(tmp);
		return -1;
	}
	memcpy(names, tmp->h, sizeof(tmp->h));
	n = (long)tmp->nh;
	free(tmp);
	return n;
}

static int
dkim_do_sign(EVP_PKEY *pk, enum dkim_alg alg, const struct buf *data,
    uint8_t *sig, size_t *siglen)
{
	EVP_MD_CTX *md;
	uint8_t h[32];
	int r = 0;

	md = EVP_MD_CTX_new();
	if (md == NULL)
		return -1;
	if (alg == DKIM_RSA_SHA256) {
		if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pk) == 1)
			r = EVP_DigestSign(md, sig, siglen,
			    (const unsigned char *)data->data, data->len);
	} else {
		if (dkim_sha256(data->data, data->len, h) == 0 &&
		    EVP_DigestSignInit(md, NULL, NULL, NULL, pk) == 1)
			r = EVP_DigestSign(md, sig, siglen, h, sizeof(h));
	}
	EVP_MD_CTX_free(md);
	return r == 1 ? 0 : -1;
}

int
dkim_sign(const struct dkim_signer *sg, const char *msg, size_t len,
    struct buf *out, const char **why_r)
{
	char (*names)[DKIM_HNAME_MAX + 1] = NULL;
	char d[256], s[256], word[600], bh64[64], *b64 = NULL;
	struct dkim_fields fs = { NULL, 0 };
	struct dkim_fold fo;
	struct buf hdr, data;
	EVP_PKEY *pk;
	enum dkim_alg alg;
	uint8_t bh[32], sig[DKIM_B_MAX];
	uint64_t total;
	size_t nn = 0, i, siglen = sizeof(sig), bo, pos, blen;
	long r;
	int rc = -1;

	buf_init(&hdr, 64 * 1024);
	buf_init(&data, DKIM_HDATA_MAX);
	if (dkim_name(sg->domain, strlen(sg->domain), d, sizeof(d)) < 0 ||
	    dkim_name(sg->selector, strlen(sg->selector), s, sizeof(s)) < 0) {
		*why_r = "bad domain or selector";
		return -1;
	}
	pk = dkim_load_private(sg->pem);
	if (pk == NULL) {
		*why_r = "unusable private key";
		return -1;
	}
	if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA) {
		alg = DKIM_RSA_SHA256;
	} else if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_ED25519) {
		alg = DKIM_ED25519_SHA256;
	} else {
		*why_r = "key is neither RSA nor Ed25519";
		goto out;
	}
	if (dkim_fields_load(msg, len, &fs) < 0) {
		*why_r = "header too large";
		goto out;
	}
	for (i = 0; i < fs.n; i++)
		if (dkim_field_is(&fs.f[i], "from"))
			break;
	if (i == fs.n) {
		*why_r = "no From field";
		goto out;
	}
	names = xcalloc(DKIM_MAX_HNAMES, sizeof(*names));
	if (sg->hlist != NULL) {
		r = dkim_split_hlist(sg->hlist, names);
		if (r < 0) {
			*why_r = "bad header list";
			goto out;
		}
		nn = (size_t)r;
	} else {
		nn = dkim_pick_headers(&fs, names);
	}

	bo = hdr_body_offset(msg, len, NULL);
	if (dkim_body_hash(msg + bo, len - bo, CANON_RELAXED, false, 0, bh,
	    &total) < 0) {
		*why_r = "hash error";
		goto out;
	}
	base64_encode(bh, sizeof(bh), bh64);

	/* the field with an empty b=, folded */
	fo.b = &hdr;
	fo.err = 0;
	if (buf_puts(&hdr, "DKIM-Signature:") < 0)
		goto full;
	fo.col = 15;
	dkim_word(&fo, "v=1;", true);
	dkim_word(&fo, alg == DKIM_RSA_SHA256 ? "a=rsa-sha256;" :
	    "a=ed25519-sha256;", true);
	dkim_word(&fo, "c=relaxed/relaxed;", true);
	snprintf(word, sizeof(word), "d=%s;", d);
	dkim_word(&fo, word, true);
	if (sg->identity != NULL) {
		if (strlen(sg->identity) > 500 ||
		    str_has_ctl(sg->identity, strlen(sg->identity)) ||
		    strchr(sg->identity, ';') != NULL) {
			*why_r = "bad identity";
			goto out;
		}
		snprintf(word, sizeof(word), "i=%s;", sg->identity);
		dkim_word(&fo, word, true);
	}
	if (sg->q)
		dkim_word(&fo, "q=dns/txt;", true);
	snprintf(word, sizeof(word), "s=%s;", s);
	dkim_word(&fo, word, true);
	snprintf(word, sizeof(word), "t=%llu;", (unsigned long long)sg->t);
	dkim_word(&fo, word, true);
	if (sg->expire > 0) {
		snprintf(word, sizeof(word), "x=%llu;", (unsigned long long)
		    ((uint64_t)sg->t + sg->expire));
		dkim_word(&fo, word, true);
	}
	if (sg->l) {
		snprintf(word, sizeof(word), "l=%llu;",
		    (unsigned long long)total);
		dkim_word(&fo, word, true);
	}
	if (sg->hlist != NULL) {
		/* as given; fold at its spaces only */
		const char *p = sg->hlist;
		bool first = true;

		while (*p != '\0') {
			size_t k = strcspn(p, " ");

			if (k > 0) {
				snprintf(word, sizeof(word), "%s%.*s%s",
				    first ? "h=" : "", (int)k, p,
				    p[k] == '\0' ? ";" : "");
				dkim_word(&fo, word, true);
				first = false;
			}
			p += k;
			while (*p == ' ')
				p++;
		}
	} else {
		for (i = 0; i < nn; i++) {
			snprintf(word, sizeof(word), "%s%s%s", i == 0 ? "h=" :
			    "", names[i], i + 1 == nn ? ";" : ":");
			dkim_word(&fo, word, i == 0);
		}
	}
	snprintf(word, sizeof(word), "bh=%s;", bh64);
	dkim_word(&fo, word, true);
	dkim_word(&fo, "b=", true);
	if (fo.err < 0)
		goto full;

	if (dkim_hdata(&fs, (const char (*)[DKIM_HNAME_MAX + 1])names, nn,
	    CANON_RELAXED, hdr.data, hdr.len, hdr.len, 0, &data) < 0) {
		*why_r = "header too large";
		goto out;
	}
	if (dkim_do_sign(pk, alg, &data, sig, &siglen) < 0) {
		*why_r = "signing failed";
		goto out;
	}
	b64 = xmalloc(base64_encoded_len(siglen) + 1);
	base64_encode(sig, siglen, b64);
	blen = strlen(b64);
	/* the signature: fill the line, then whole folded lines */
	pos = 0;
	while (pos < blen) {
		size_t room = fo.col < DKIM_FOLD ? DKIM_FOLD - fo.col : 0;

		if (room < 8) {
			if (buf_puts(&hdr, "\n\t") < 0)
				goto full;
			fo.col = 8;
			room = DKIM_FOLD - fo.col;
		}
		if (room > blen - pos)
			room = blen - pos;
		if (buf_append(&hdr, b64 + pos, room) < 0)
			goto full;
		pos += room;
		fo.col += room;
	}
	if (buf_putc(&hdr, '\n') < 0 || buf_append(out, hdr.data, hdr.len) < 0)
		goto full;
	rc = 0;
	goto out;
full:
	*why_r = "signature field too large";
out:
	free(b64);
	free(names);
	free(fs.f);
	buf_free(&hdr);
	buf_free(&data);
	EVP_PKEY_free(pk);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Keys                                                                */

static int
dkim_txt_of(EVP_PKEY *pk, struct buf *txt_r)
{
	unsigned char *der = NULL, raw[32];
	size_t rawlen = sizeof(raw);
	char *b64;
	int n, rc;

	if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_ED25519) {
		if (EVP_PKEY_get_raw_public_key(pk, raw, &rawlen) != 1)
			return -1;
		b64 = xmalloc(base64_encoded_len(rawlen) + 1);
		base64_encode(raw, rawlen, b64);
		rc = buf_printf(txt_r, "v=DKIM1; k=ed25519; p=%s", b64);
		free(b64);
		return rc;
	}
	if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA)
		return -1;
	n = i2d_PUBKEY(pk, &der);
	if (n <= 0)
		return -1;
	b64 = xmalloc(base64_encoded_len((size_t)n) + 1);
	base64_encode(der, (size_t)n, b64);
	OPENSSL_free(der);
	rc = buf_printf(txt_r, "v=DKIM1; k=rsa; p=%s", b64);
	free(b64);
	return rc;
}

int
dkim_key_txt(const char *pem, struct buf *txt_r)
{
	EVP_PKEY *pk;
	int rc;

	pk = dkim_load_private(pem);
	if (pk == NULL)
		return -1;
	rc = dkim_txt_of(pk, txt_r);
	EVP_PKEY_free(pk);
	return rc;
}

int
dkim_keygen(enum dkim_keytype type, struct buf *pem_r, struct buf *txt_r)
{
	EVP_PKEY *pk;
	BIO *bio;
	char *p;
	long n;
	int rc = -1;

	if (type == DKIM_K_RSA)
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	else
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (pk == NULL)
		return -1;
	bio = BIO_new(BIO_s_mem());
	if (bio != NULL && PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0,
	    NULL, NULL) == 1) {
		n = BIO_get_mem_data(bio, &p);
		if (n > 0 && buf_append(pem_r, p, (size_t)n) == 0 &&
		    dkim_txt_of(pk, txt_r) == 0)
			rc = 0;
	}
	BIO_free(bio);
	EVP_PKEY_free(pk);
	return rc;
}
