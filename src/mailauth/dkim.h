/*
 * dkim - DomainKeys Identified Mail (RFC 6376) with rsa-sha256 and
 * ed25519-sha256 (RFC 8463); rsa-sha1 is refused (RFC 8301).
 *
 * Pure pieces: DKIM-Signature parsing (dkim_sig_parse), key record
 * parsing (dkim_key_parse). Signing (dkim_sign) returns the header field
 * to put in front of the message. Verification (dkim_verify) gets its
 * key records through a struct resolve, so tests inject them.
 *
 * Messages are facteur's internal form (LF line ends; CRLF accepted):
 * canonicalization converts while hashing (mailauth/canon.h).
 */
#ifndef MAILAUTH_DKIM_H
#define MAILAUTH_DKIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/buf.h"
#include "mailauth/canon.h"
#include "mailauth/resolve.h"

#define DKIM_MAX_HNAMES	64	/* h= entries accepted */
#define DKIM_HNAME_MAX	64	/* one header name in h= */
#define DKIM_SIG_VALUE_MAX 16384 /* a DKIM-Signature value, bytes */
#define DKIM_B_MAX	1024	/* b= decoded: RSA up to 8192 bits */
#define DKIM_P_MAX	2048	/* p= decoded */
#define DKIM_MAX_SIGS	8	/* signatures evaluated per message */
#define DKIM_RSA_MIN_BITS 1024	/* RFC 8301: verifiers accept 1024-4096 */
#define DKIM_RSA_MAX_BITS 8192

enum dkim_alg {
	DKIM_RSA_SHA256 = 0,
	DKIM_ED25519_SHA256
};

struct dkim_sig {
	enum dkim_alg	 alg;
	enum canon_alg	 hcanon;
	enum canon_alg	 bcanon;
	char		 d[256];		/* lower-cased */
	char		 s[256];
	char		 i[512];		/* "@d" when absent */
	char		 h[DKIM_MAX_HNAMES][DKIM_HNAME_MAX + 1];
	size_t		 nh;
	uint8_t		 bh[64];
	size_t		 bhlen;
	uint8_t		 b[DKIM_B_MAX];
	size_t		 blen;
	char		 b8[9];			/* b= start, for header.b */
	bool		 has_l;
	uint64_t	 l;
	bool		 has_t;
	uint64_t	 t;
	bool		 has_x;
	uint64_t	 x;
	/* where the b= value (with its surrounding FWS) sits in the
	 * parsed value, to blank it when hashing the field itself */
	size_t		 bval_off;
	size_t		 bval_len;
};

/*
 * dkim_sig_parse: parse the value of a DKIM-Signature field (after the
 * colon). Strict: v=1 first-class, required tags v a b bh d h s, no
 * duplicate tag, h= must hold "from", i= within d=, x >= t, known a= and
 * c=. Unknown tags are ignored (RFC 6376 3.2). Returns 0, or -1 with a
 * static reason.
 */
int dkim_sig_parse(const char *v, size_t n, struct dkim_sig *sig,
    const char **why_r);

enum dkim_keytype {
	DKIM_K_RSA = 0,
	DKIM_K_ED25519
};

struct dkim_key {
	enum dkim_keytype type;
	uint8_t		 p[DKIM_P_MAX];
	size_t		 plen;		/* 0: revoked (p= empty) */
	bool		 testing;	/* t=y */
	bool		 strict;	/* t=s: i= domain must equal d= */
};

/*
 * dkim_key_parse: a key record (TXT at SELECTOR._domainkey.DOMAIN):
 * v=DKIM1 (first when present), k=rsa|ed25519, h= (must allow sha256),
 * s= (must allow email), t=, p= (required, may be empty). 0, or -1 with
 * a static reason.
 */
int dkim_key_parse(const char *txt, size_t n, struct dkim_key *k,
    const char **why_r);

/* Results as RFC 8601 2.7.1 names them. */
enum dkim_result {
	DKIM_NONE = 0,
	DKIM_PASS,
	DKIM_FAIL,
	DKIM_POLICY,	/* verified, but l= leaves part of the body unsigned */
	DKIM_NEUTRAL,	/* key in test mode (t=y): as if unsigned */
	DKIM_TEMPERROR,
	DKIM_PERMERROR
};

/* dkim_result_name: "none", "pass", "fail", "policy", ... */
const char *dkim_result_name(enum dkim_result r);

/* The outcome for one DKIM-Signature field. */
struct dkim_verdict {
	enum dkim_result result;
	const char	*why;		/* static; NULL on a clean pass */
	enum dkim_alg	 alg;
	bool		 alg_known;
	char		 d[256];	/* "" when the field did not parse */
	char		 s[256];
	char		 i[512];
	char		 b8[9];
};

/*
 * dkim_verify: check up to max (<= DKIM_MAX_SIGS) DKIM-Signature fields
 * of msg[0..len), topmost first. Key records come from dns. now is the
 * time for x= checks. Fills out[0..*n_r); *n_r = 0: not signed.
 * Returns 0, or -1 when the header block is unusable (too big).
 */
int dkim_verify(const struct resolve *dns, const char *msg, size_t len,
    time_t now, struct dkim_verdict *out, size_t max, size_t *n_r);

/* How to sign. */
struct dkim_signer {
	const char	*domain;	/* d= */
	const char	*selector;	/* s= */
	const char	*pem;		/* private key, PEM (PKCS#8 or
					 * traditional RSA) */
	const char	*hlist;		/* NULL: facteur's header set; else
					 * the h= value to use as is */
	const char	*identity;	/* i= or NULL */
	bool		 q;		/* write q=dns/txt */
	time_t		 t;		/* t= (signing time) */
	uint64_t	 expire;	/* x= t + expire; 0: no x= */
	bool		 l;		/* write l= (tests, diagnostics
					 * only: l= invites appending) */
};

/*
 * dkim_sign: sign msg[0..len) (relaxed/relaxed; rsa-sha256 or
 * ed25519-sha256 after the key type) and append the whole folded
 * "DKIM-Signature: ..." field with LF line ends to out. The default
 * header set signs From, To, Cc, Subject, Date, Message-ID, Reply-To,
 * In-Reply-To, References, MIME and List headers present, and oversigns
 * From, To, Cc, Subject, Date, Message-ID, Reply-To and the MIME headers
 * (one more h= entry than instances, so none can be added later).
 * Returns 0, or -1 with a static reason (bad key, no From, out full).
 */
int dkim_sign(const struct dkim_signer *sg, const char *msg, size_t len,
    struct buf *out, const char **why_r);

/*
 * dkim_keygen: a new key: RSA 2048 (rsa) or Ed25519. The PEM (PKCS#8)
 * is appended to pem_r, the DNS TXT value ("v=DKIM1; k=...; p=...") to
 * txt_r. 0 or -1.
 */
int dkim_keygen(enum dkim_keytype type, struct buf *pem_r,
    struct buf *txt_r);

/*
 * dkim_key_txt: the TXT value that publishes the public half of the
 * private key pem. 0 or -1.
 */
int dkim_key_txt(const char *pem, struct buf *txt_r);

#endif
