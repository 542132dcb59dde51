/*
 * scheme - Dovecot-compatible password schemes, "{SCHEME}hash".
 *
 * Input: the stored string comes from the user directory (trusted to be
 * well meant, not to be well formed) and the password from a client
 * (hostile). Every stored string is parsed before use; costs are capped
 * (struct pw_limits) so a bad row cannot stall a worker or eat memory.
 *
 * Facts followed from Dovecot's password scheme rules:
 *  - the scheme name is case-insensitive and may carry an encoding
 *    suffix ".HEX", ".B64" or ".BASE64"; an unknown suffix is an unknown
 *    scheme;
 *  - unsalted digests (SHA, SHA256, SHA512, LDAP-MD5) default to base64,
 *    PLAIN-MD5 to hex; without a suffix a string of exactly twice the
 *    digest length is read as hex, anything else as base64;
 *  - salted digests (SSHA, SSHA256, SSHA512, SMD5) are base64 (or the
 *    suffix's encoding) of digest(password || salt) || salt, salt not empty;
 *  - {MD5} is MD5-CRYPT when it starts with "$1$", PLAIN-MD5 otherwise;
 *  - SCRAM-SHA-1/SCRAM-SHA-256 hold "iter,salt,StoredKey,ServerKey"
 *    (base64, iter >= 4096), checked as RFC 5802 derives StoredKey;
 *  - ARGON2I/ARGON2ID hold the PHC string "$argon2id$v=19$m=,t=,p=$s$h";
 *    either name accepts either variant (the string says which).
 *
 * Argon2 parameters for new hashes are Dovecot's (libsodium "interactive"
 * limits, t raised to 3 as Dovecot does): ARGON2ID m=65536 KiB (64 MiB),
 * t=3, p=1; ARGON2I m=32768, t=4, p=1; 16-byte salt, 32-byte tag. They
 * match what `doveadm pw -s ARGON2ID` writes, so either server can verify
 * the other's hashes, cost about 0.2 s of one core here, and RFC 9106's
 * memory-constrained recommendation is of the same order (64 MiB, t=3).
 * Each computation holds m KiB, so they run under a memory budget
 * (default 128 MiB: two at once) that a login storm cannot exceed.
 *
 * crypt(3) strings go to libxcrypt (crypt_rn); accepted families: DES,
 * $1$, $5$, $6$, $2a$/$2b$/$2x$/$2y$ and $y$ (plain yescrypt), others
 * are refused as malformed.
 */
#include <argon2.h>
#include <crypt.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "auth/scheme.h"
#include "core/str.h"
#include "core/strnum.h"
#include "core/xmalloc.h"

#define PW_STORED_MAX		1024	/* longest stored string */
#define PW_SCHEME_NAME_MAX	32
#define PW_DIGEST_MAX		64	/* SHA-512 */
#define PW_NEW_SALT_LEN		16

#define ARGON2ID_M_KIB		65536
#define ARGON2ID_T		3
#define ARGON2I_M_KIB		32768
#define ARGON2I_T		4
#define ARGON2_P		1
#define ARGON2_SALT_LEN		16
#define ARGON2_TAG_LEN		32

#define BCRYPT_NEW_COST		10

enum pw_kind {
	PWK_ARGON2,	/* ARGON2I, ARGON2ID */
	PWK_CRYPT,	/* crypt(3) string, crypt_family restricts it */
	PWK_MD5,	/* $1$ -> MD5-CRYPT, else PLAIN-MD5 */
	PWK_DIGEST,	/* digest(password) */
	PWK_SALTED,	/* digest(password || salt) || salt */
	PWK_SCRAM,	/* iter,salt,StoredKey,ServerKey (RFC 5802) */
	PWK_PLAIN
};

enum pw_enc { ENC_NONE, ENC_B64, ENC_HEX };

enum crypt_family {
	CF_ANY, CF_DES, CF_MD5, CF_SHA256, CF_SHA512, CF_BCRYPT, CF_YESCRYPT
};

struct pw_scheme {
	const char		*name;
	enum pw_kind		 kind;
	enum pw_enc		 enc;		/* default encoding */
	const EVP_MD		*(*md)(void);	/* DIGEST, SALTED */
	enum crypt_family	 family;	/* CRYPT */
	argon2_type		 atype;		/* new ARGON2 */
};

static const struct pw_scheme pw_schemes[] = {
	{ "ARGON2ID", PWK_ARGON2, ENC_NONE, NULL, CF_ANY, Argon2_id },
	{ "ARGON2I", PWK_ARGON2, ENC_NONE, NULL, CF_ANY, Argon2_i },
	{ "SHA512-CRYPT", PWK_CRYPT, ENC_NONE, NULL, CF_SHA512, Argon2_id },
	{ "SHA256-CRYPT", PWK_CRYPT, ENC_NONE, NULL, CF_SHA256, Argon2_id },
	{ "BLF-CRYPT", PWK_CRYPT, ENC_NONE, NULL, CF_BCRYPT, Argon2_id },
	{ "MD5-CRYPT", PWK_CRYPT, ENC_NONE, NULL, CF_MD5, Argon2_id },
	{ "DES-CRYPT", PWK_CRYPT, ENC_NONE, NULL, CF_DES, Argon2_id },
	{ "CRYPT", PWK_CRYPT, ENC_NONE, NULL, CF_ANY, Argon2_id },
	{ "MD5", PWK_MD5, ENC_HEX, EVP_md5, CF_MD5, Argon2_id },
	{ "PLAIN-MD5", PWK_DIGEST, ENC_HEX, EVP_md5, CF_ANY, Argon2_id },
	{ "LDAP-MD5", PWK_DIGEST, ENC_B64, EVP_md5, CF_ANY, Argon2_id },
	{ "SMD5", PWK_SALTED, ENC_B64, EVP_md5, CF_ANY, Argon2_id },
	{ "SHA", PWK_DIGEST, ENC_B64, EVP_sha1, CF_ANY, Argon2_id },
	{ "SHA1", PWK_DIGEST, ENC_B64, EVP_sha1, CF_ANY, Argon2_id },
	{ "SHA256", PWK_DIGEST, ENC_B64, EVP_sha256, CF_ANY, Argon2_id },
	{ "SHA512", PWK_DIGEST, ENC_B64, EVP_sha512, CF_ANY, Argon2_id },
	{ "SSHA", PWK_SALTED, ENC_B64, EVP_sha1, CF_ANY, Argon2_id },
	{ "SSHA256", PWK_SALTED, ENC_B64, EVP_sha256, CF_ANY, Argon2_id },
	{ "SSHA512", PWK_SALTED, ENC_B64, EVP_sha512, CF_ANY, Argon2_id },
	{ "SCRAM-SHA-1", PWK_SCRAM, ENC_NONE, EVP_sha1, CF_ANY, Argon2_id },
	{ "SCRAM-SHA-256", PWK_SCRAM, ENC_NONE, EVP_sha256, CF_ANY,
	    Argon2_id },
	{ "PLAIN", PWK_PLAIN, ENC_NONE, NULL, CF_ANY, Argon2_id },
	{ "CLEAR", PWK_PLAIN, ENC_NONE, NULL, CF_ANY, Argon2_id },
	{ "CLEARTEXT", PWK_PLAIN, ENC_NONE, NULL, CF_ANY, Argon2_id },
};

/* A parsed stored string: scheme, encoding, and the part after '}'. */
struct pw_parsed {
	const struct pw_scheme	*scheme;
	enum pw_enc		 enc;
	bool			 enc_given;	/* suffix present */
	const char		*body;
	size_t			 bodylen;
};

/* Parsed Argon2 PHC string. */
struct pw_argon2 {
	argon2_type	type;
	uint32_t	version;
	uint32_t	m_kib;
	uint32_t	t;
	uint32_t	p;
};

static struct pw_limits pw_lim = {
	.argon2_max_kib = 1048576,
	.argon2_max_t = 16,
	.argon2_max_p = 16,
	.argon2_budget_kib = 2 * ARGON2ID_M_KIB,
	.bcrypt_max_cost = 16,
	.sha_crypt_max_rounds = 1000000,
	.yescrypt_max_n = 14,
	.scram_max_iter = 1000000,
};

/* The Argon2 memory budget: a counting semaphore weighted by KiB. */
static pthread_mutex_t pw_argon2_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pw_argon2_cond = PTHREAD_COND_INITIALIZER;
static uint64_t pw_argon2_inuse_kib;
static uint64_t pw_argon2_peak_kib;

static const char crypt_b64[] =
    "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

void
pw_get_limits(struct pw_limits *l)
{
	*l = pw_lim;
}

void
pw_set_limits(const struct pw_limits *l)
{
	pw_lim = *l;
}

static void
pw_argon2_acquire(uint32_t kib)
{
	pthread_mutex_lock(&pw_argon2_lock);
	while (pw_argon2_inuse_kib > 0 &&
	    pw_argon2_inuse_kib + kib > pw_lim.argon2_budget_kib)
		pthread_cond_wait(&pw_argon2_cond, &pw_argon2_lock);
	pw_argon2_inuse_kib += kib;
	if (pw_argon2_inuse_kib > pw_argon2_peak_kib)
		pw_argon2_peak_kib = pw_argon2_inuse_kib;
	pthread_mutex_unlock(&pw_argon2_lock);
}

static void
pw_argon2_release(uint32_t kib)
{
	pthread_mutex_lock(&pw_argon2_lock);
	pw_argon2_inuse_kib -= kib;
	pthread_cond_broadcast(&pw_argon2_cond);
	pthread_mutex_unlock(&pw_argon2_lock);
}

uint64_t
pw_argon2_peak(bool reset)
{
	uint64_t peak;

	pthread_mutex_lock(&pw_argon2_lock);
	peak = pw_argon2_peak_kib;
	if (reset)
		pw_argon2_peak_kib = pw_argon2_inuse_kib;
	pthread_mutex_unlock(&pw_argon2_lock);
	return peak;
}

static const struct pw_scheme *
pw_scheme_lookup(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(pw_schemes) / sizeof(pw_schemes[0]); i++) {
		if (strlen(pw_schemes[i].name) == len &&
		    str_ieqn(pw_schemes[i].name, name, len))
			return &pw_schemes[i];
	}
	return NULL;
}

/*
 * pw_parse: split stored into scheme and body. Returns 0, or -1 for an
 * unknown scheme or suffix, or a string we cannot read.
 */
static int
pw_parse(const char *stored, struct pw_parsed *r)
{
	const char *end, *dot;
	size_t len, namelen;

	memset(r, 0, sizeof(*r));
	if (stored == NULL)
		return -1;
	len = strnlen(stored, PW_STORED_MAX + 1);
	if (len == 0 || len > PW_STORED_MAX)
		return -1;
	if (stored[0] == '$') {
		/* unprefixed: crypt(3), or a bare Argon2 PHC string */
		if (strncmp(stored, "$argon2", 7) == 0)
			r->scheme = pw_scheme_lookup("ARGON2ID", 8);
		else
			r->scheme = pw_scheme_lookup("CRYPT", 5);
		r->body = stored;
		r->bodylen = len;
		return 0;
	}
	if (stored[0] != '{')
		return -1;
	end = memchr(stored, '}', len);
	if (end == NULL || end == stored + 1 ||
	    (size_t)(end - stored) > PW_SCHEME_NAME_MAX)
		return -1;
	namelen = (size_t)(end - stored - 1);
	dot = memchr(stored + 1, '.', namelen);
	if (dot != NULL) {
		const char *sfx = dot + 1;
		size_t sfxlen = (size_t)(end - sfx);

		if (sfxlen == 3 && str_ieqn(sfx, "HEX", 3))
			r->enc = ENC_HEX;
		else if ((sfxlen == 3 && str_ieqn(sfx, "B64", 3)) ||
		    (sfxlen == 6 && str_ieqn(sfx, "BASE64", 6)))
			r->enc = ENC_B64;
		else
			return -1;
		r->enc_given = true;
		namelen = (size_t)(dot - stored - 1);
	}
	r->scheme = pw_scheme_lookup(stored + 1, namelen);
	if (r->scheme == NULL)
		return -1;
	if (r->enc_given && (r->scheme->kind == PWK_ARGON2 ||
	    r->scheme->kind == PWK_CRYPT || r->scheme->kind == PWK_MD5 ||
	    r->scheme->kind == PWK_SCRAM))
		return -1;	/* these are text already */
	if (!r->enc_given)
		r->enc = r->scheme->enc;
	r->body = end + 1;
	r->bodylen = len - (size_t)(end + 1 - stored);
	return 0;
}

static int
pw_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* pw_hex_decode: dst holds n/2 bytes. Returns length or -1. */
static long
pw_hex_decode(const char *src, size_t n, unsigned char *dst)
{
	size_t i;

	if (n % 2 != 0)
		return -1;
	for (i = 0; i < n; i += 2) {
		int hi = pw_hexval((unsigned char)src[i]);
		int lo = pw_hexval((unsigned char)src[i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		dst[i / 2] = (unsigned char)(hi << 4 | lo);
	}
	return (long)(n / 2);
}

/*
 * pw_decode: body -> bytes into dst (PW_STORED_MAX bytes). Without a
 * suffix a fixed-size digest is read as hex when its length says so.
 */
static long
pw_decode(const struct pw_parsed *p, size_t fixed, unsigned char *dst)
{
	enum pw_enc enc = p->enc;
	long n;

	if (!p->enc_given && fixed > 0)
		enc = p->bodylen == fixed * 2 ? ENC_HEX : ENC_B64;
	switch (enc) {
	case ENC_HEX:
		n = pw_hex_decode(p->body, p->bodylen, dst);
		if (n >= 0 || p->enc_given)
			return n;
		/* guessed hex but was not: some lengths fit both */
		return base64_decode(p->body, p->bodylen, dst);
	case ENC_B64:
		return base64_decode(p->body, p->bodylen, dst);
	case ENC_NONE:
	default:
		memcpy(dst, p->body, p->bodylen);
		return (long)p->bodylen;
	}
}

static int
pw_digest2(const EVP_MD *md, const void *a, size_t alen, const void *b,
    size_t blen, unsigned char *out)
{
	EVP_MD_CTX *ctx;
	unsigned int outlen;
	int ok;

	ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return -1;
	ok = EVP_DigestInit_ex(ctx, md, NULL) == 1 &&
	    EVP_DigestUpdate(ctx, a, alen) == 1 &&
	    (blen == 0 || EVP_DigestUpdate(ctx, b, blen) == 1) &&
	    EVP_DigestFinal_ex(ctx, out, &outlen) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

static int
pw_verify_digest(const struct pw_parsed *p, const EVP_MD *md, bool salted,
    const char *password, size_t pwlen)
{
	unsigned char raw[PW_STORED_MAX], calc[PW_DIGEST_MAX];
	size_t dlen = (size_t)EVP_MD_get_size(md);
	long n;
	int ret;

	n = pw_decode(p, salted ? 0 : dlen, raw);
	if (n < 0)
		return -1;
	if (salted ? (size_t)n <= dlen : (size_t)n != dlen)
		return -1;
	if (pw_digest2(md, password, pwlen, raw + dlen, (size_t)n - dlen,
	    calc) < 0)
		return -1;
	ret = CRYPTO_memcmp(calc, raw, dlen) == 0 ? 1 : 0;
	OPENSSL_cleanse(calc, sizeof(calc));
	return ret;
}

static int
pw_verify_plain(const struct pw_parsed *p, const char *password,
    size_t pwlen)
{
	unsigned char raw[PW_STORED_MAX];
	unsigned char h1[PW_DIGEST_MAX], h2[PW_DIGEST_MAX];
	long n;
	int ret;

	n = pw_decode(p, 0, raw);
	if (n < 0)
		return -1;
	/* compare digests so the time does not depend on where they differ
	 * nor on the stored length */
	if (pw_digest2(EVP_sha256(), raw, (size_t)n, NULL, 0, h1) < 0 ||
	    pw_digest2(EVP_sha256(), password, pwlen, NULL, 0, h2) < 0)
		return -1;
	ret = CRYPTO_memcmp(h1, h2, 32) == 0 && (size_t)n == pwlen ? 1 : 0;
	OPENSSL_cleanse(raw, sizeof(raw));
	return ret;
}

static bool
pw_crypt_char(char c)
{
	return c != '\0' && strchr(crypt_b64, c) != NULL;
}

/* pw_crypt_sha_ok: no "rounds=N$" at s, or N within the ceiling. */
static bool
pw_crypt_sha_ok(const char *s)
{
	uint64_t v = 0;
	size_t i;

	if (strncmp(s, "rounds=", 7) != 0)
		return true;
	s += 7;
	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (i > 10)
			return false;
	}
	return i > 0 && s[i] == '$' && v <= pw_lim.sha_crypt_max_rounds;
}

/* pw_crypt_family_of: which family s belongs to, or -1 if refused. */
static int
pw_crypt_family_of(const char *s, size_t len)
{
	size_t i;

	if (len == 13 && s[0] != '$') {
		for (i = 0; i < 13; i++)
			if (!pw_crypt_char(s[i]))
				return -1;
		return CF_DES;
	}
	if (strncmp(s, "$1$", 3) == 0)
		return CF_MD5;
	if (strncmp(s, "$5$", 3) == 0)
		return pw_crypt_sha_ok(s + 3) ? CF_SHA256 : -1;
	if (strncmp(s, "$6$", 3) == 0)
		return pw_crypt_sha_ok(s + 3) ? CF_SHA512 : -1;
	if (len >= 7 && s[0] == '$' && s[1] == '2' &&
	    strchr("abxy", s[2]) != NULL && s[2] != '\0' && s[3] == '$') {
		unsigned cost;

		if (s[4] < '0' || s[4] > '9' || s[5] < '0' || s[5] > '9' ||
		    s[6] != '$')
			return -1;
		cost = (unsigned)(s[4] - '0') * 10 + (unsigned)(s[5] - '0');
		return cost <= pw_lim.bcrypt_max_cost ? CF_BCRYPT : -1;
	}
	if (strncmp(s, "$y$", 3) == 0) {
		const char *n;

		/* only the plain "$y$j<N><r>$" form: flags, N and r */
		if (len < 7 || s[3] != 'j' || s[6] != '$' ||
		    !pw_crypt_char(s[4]) || !pw_crypt_char(s[5]))
			return -1;
		n = strchr(crypt_b64, s[4]);
		if ((uint32_t)(n - crypt_b64) > pw_lim.yescrypt_max_n ||
		    strchr(crypt_b64, s[5]) - crypt_b64 > 31)
			return -1;
		return CF_YESCRYPT;
	}
	return -1;
}

/*
 * pw_crypt_complete: a whole hash, not a bare setting or a truncated
 * one: the part after the last '$' has its family's length.
 */
static bool
pw_crypt_complete(const char *s, size_t len, int fam)
{
	const char *h = strrchr(s, '$');
	size_t hlen, i, want;

	switch (fam) {
	case CF_DES:
		return true;	/* length checked by pw_crypt_family_of */
	case CF_BCRYPT:
		return len == 60;
	case CF_MD5:
		want = 22;
		break;
	case CF_SHA256:
	case CF_YESCRYPT:
		want = 43;
		break;
	case CF_SHA512:
		want = 86;
		break;
	default:
		return false;
	}
	hlen = len - (size_t)(h + 1 - s);
	if (hlen != want)
		return false;
	for (i = 0; i < hlen; i++)
		if (!pw_crypt_char(h[1 + i]))
			return false;
	return true;
}

/* pw_verify_crypt: password is pwlen bytes, not NUL-terminated. */
static int
pw_verify_crypt(const char *setting, size_t len, enum crypt_family want,
    const char *password, size_t pwlen)
{
	struct crypt_data *cd;
	const char *out;
	char *pw;
	int fam, ret;

	fam = pw_crypt_family_of(setting, len);
	if (fam < 0 || (want != CF_ANY && fam != (int)want))
		return -1;
	if (!pw_crypt_complete(setting, len, fam))
		return -1;
	/* crypt(3) wants a C string; the caller checked for NULs */
	pw = xmalloc(pwlen + 1);
	memcpy(pw, password, pwlen);
	pw[pwlen] = '\0';
	cd = xcalloc(1, sizeof(*cd));
	out = crypt_rn(pw, setting, cd, (int)sizeof(*cd));
	if (out == NULL || out[0] == '*')
		ret = -1;
	else if (strlen(out) != len)
		ret = 0;
	else
		ret = CRYPTO_memcmp(out, setting, len) == 0 ? 1 : 0;
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	OPENSSL_cleanse(pw, pwlen + 1);
	free(pw);
	return ret;
}

static int
pw_parse_u32(const char **sp, const char *key, uint32_t *r)
{
	const char *s = *sp;
	uint64_t v = 0;
	size_t i, klen = strlen(key);

	if (strncmp(s, key, klen) != 0)
		return -1;
	s += klen;
	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		if (i >= 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (i == 0 || v > UINT32_MAX || (i > 1 && s[0] == '0'))
		return -1;
	*r = (uint32_t)v;
	*sp = s + i;
	return 0;
}

static bool
pw_b64_nopad_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '+' || c == '/'))
			return false;
	}
	return n % 4 != 1;
}

/*
 * pw_argon2_parse: "$argon2(i|id)$[v=N$]m=N,t=N,p=N$salt$hash", costs
 * within the limits. Returns 0 or -1.
 */
static int
pw_argon2_parse(const char *s, struct pw_argon2 *a)
{
	const char *salt, *hash;

	if (strncmp(s, "$argon2id$", 10) == 0) {
		a->type = Argon2_id;
		s += 10;
	} else if (strncmp(s, "$argon2i$", 9) == 0) {
		a->type = Argon2_i;
		s += 9;
	} else
		return -1;
	a->version = ARGON2_VERSION_10;
	if (strncmp(s, "v=", 2) == 0) {
		if (pw_parse_u32(&s, "v=", &a->version) < 0 || *s++ != '$')
			return -1;
		if (a->version != ARGON2_VERSION_10 &&
		    a->version != ARGON2_VERSION_13)
			return -1;
	}
	if (pw_parse_u32(&s, "m=", &a->m_kib) < 0 || *s++ != ',' ||
	    pw_parse_u32(&s, "t=", &a->t) < 0 || *s++ != ',' ||
	    pw_parse_u32(&s, "p=", &a->p) < 0 || *s++ != '$')
		return -1;
	if (a->p < 1 || a->p > pw_lim.argon2_max_p ||
	    a->t < 1 || a->t > pw_lim.argon2_max_t ||
	    a->m_kib < 8 * a->p || a->m_kib > pw_lim.argon2_max_kib)
		return -1;
	salt = s;
	hash = strchr(salt, '$');
	if (hash == NULL || !pw_b64_nopad_ok(salt, (size_t)(hash - salt)))
		return -1;
	hash++;
	if (!pw_b64_nopad_ok(hash, strlen(hash)))
		return -1;
	/* libargon2's own minimums: 8-byte salt, 4-byte tag */
	if ((size_t)(hash - 1 - salt) < 11 || strlen(hash) < 6)
		return -1;
	return 0;
}

static int
pw_verify_argon2(const char *body, const char *password, size_t pwlen)
{
	struct pw_argon2 a;
	int rc;

	if (pw_argon2_parse(body, &a) < 0)
		return -1;
	pw_argon2_acquire(a.m_kib);
	rc = argon2_verify(body, password, pwlen, a.type);
	pw_argon2_release(a.m_kib);
	if (rc == ARGON2_OK)
		return 1;
	if (rc == ARGON2_VERIFY_MISMATCH)
		return 0;
	return -1;
}

/*
 * pw_verify_scram: Dovecot's SCRAM-SHA-1/-256 entry "iter,salt,StoredKey,
 * ServerKey" (base64 fields, 4096 <= iter). The password matches when
 * H(HMAC(PBKDF2(password, salt, iter), "Client Key")) is StoredKey.
 */
static int
pw_verify_scram(const struct pw_parsed *p, const EVP_MD *md,
    const char *password, size_t pwlen)
{
	unsigned char salt[PW_STORED_MAX], key[2][PW_STORED_MAX];
	unsigned char salted[PW_DIGEST_MAX], ck[PW_DIGEST_MAX];
	unsigned char sk[PW_DIGEST_MAX];
	const char *f[4], *end = p->body + p->bodylen, *c;
	size_t flen[4], dlen = (size_t)EVP_MD_get_size(md);
	unsigned int cklen;
	uint32_t iter;
	long saltlen, n;
	int i, ret;

	f[0] = p->body;
	for (i = 0; i < 4; i++) {
		c = memchr(f[i], ',', (size_t)(end - f[i]));
		if ((c == NULL) != (i == 3))
			return -1;
		if (c == NULL)
			c = end;
		flen[i] = (size_t)(c - f[i]);
		if (flen[i] == 0)
			return -1;
		if (i < 3)
			f[i + 1] = c + 1;
	}
	if (str_to_u32n(f[0], flen[0], &iter) < 0 || iter < 4096 ||
	    iter > pw_lim.scram_max_iter)
		return -1;
	saltlen = base64_decode(f[1], flen[1], salt);
	if (saltlen <= 0)
		return -1;
	for (i = 2; i < 4; i++) {
		n = base64_decode(f[i], flen[i], key[i - 2]);
		if (n < 0 || (size_t)n != dlen)
			return -1;	/* StoredKey, ServerKey */
	}
	if (PKCS5_PBKDF2_HMAC(password, (int)pwlen, salt, (int)saltlen,
	    (int)iter, md, (int)dlen, salted) != 1 ||
	    HMAC(md, salted, (int)dlen, (const unsigned char *)"Client Key",
	    10, ck, &cklen) == NULL ||
	    pw_digest2(md, ck, dlen, NULL, 0, sk) < 0)
		ret = -1;
	else
		ret = CRYPTO_memcmp(sk, key[0], dlen) == 0 ? 1 : 0;
	OPENSSL_cleanse(salted, sizeof(salted));
	OPENSSL_cleanse(ck, sizeof(ck));
	return ret;
}

int
pw_verify(const char *stored, const char *password, size_t pwlen)
{
	struct pw_parsed p;
	const struct pw_scheme *s;
	bool has_nul;
	int ret;

	if (pw_parse(stored, &p) < 0)
		return -1;
	if (password == NULL)
		return pw_verify(stored, "", 0) < 0 ? -1 : 0;
	/* a NUL would cut the password short for crypt(3): such a password
	 * is checked like any other (same errors, same time) but never
	 * matches */
	has_nul = memchr(password, '\0', pwlen) != NULL;
	s = p.scheme;
	switch (s->kind) {
	case PWK_ARGON2:
		ret = pw_verify_argon2(p.body, password, pwlen);
		break;
	case PWK_CRYPT:
		ret = pw_verify_crypt(p.body, p.bodylen, s->family, password,
		    pwlen);
		break;
	case PWK_MD5:
		if (strncmp(p.body, "$1$", 3) == 0)
			ret = pw_verify_crypt(p.body, p.bodylen, CF_MD5,
			    password, pwlen);
		else
			ret = pw_verify_digest(&p, s->md(), false, password,
			    pwlen);
		break;
	case PWK_DIGEST:
	case PWK_SALTED:
		ret = pw_verify_digest(&p, s->md(), s->kind == PWK_SALTED,
		    password, pwlen);
		break;
	case PWK_SCRAM:
		ret = pw_verify_scram(&p, s->md(), password, pwlen);
		break;
	case PWK_PLAIN:
	default:
		ret = pw_verify_plain(&p, password, pwlen);
		break;
	}
	if (has_nul && ret == 1)
		ret = 0;
	return ret;
}

static char *
pw_hash_argon2(const struct pw_scheme *s, const char *password,
    size_t pwlen, const char **error_r)
{
	unsigned char salt[ARGON2_SALT_LEN];
	uint32_t m, t;
	size_t enclen;
	char *enc, *out;
	int rc;

	m = s->atype == Argon2_id ? ARGON2ID_M_KIB : ARGON2I_M_KIB;
	t = s->atype == Argon2_id ? ARGON2ID_T : ARGON2I_T;
	if (RAND_bytes(salt, sizeof(salt)) != 1) {
		*error_r = "random number generator failed";
		return NULL;
	}
	enclen = argon2_encodedlen(t, m, ARGON2_P, sizeof(salt),
	    ARGON2_TAG_LEN, s->atype);
	enc = xmalloc(enclen);
	pw_argon2_acquire(m);
	rc = argon2_hash(t, m, ARGON2_P, password, pwlen, salt, sizeof(salt),
	    NULL, ARGON2_TAG_LEN, enc, enclen, s->atype, ARGON2_VERSION_13);
	pw_argon2_release(m);
	if (rc != ARGON2_OK) {
		*error_r = argon2_error_message(rc);
		free(enc);
		return NULL;
	}
	out = xasprintf("{%s}%s", s->name, enc);
	free(enc);
	return out;
}

static char *
pw_hash_crypt(const struct pw_scheme *s, const char *password,
    size_t pwlen, const char **error_r)
{
	unsigned char rnd[PW_NEW_SALT_LEN];
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd;
	const char *prefix, *h;
	unsigned long count;
	char *out = NULL, *pw;

	switch (s->family) {
	case CF_SHA512:
		prefix = "$6$";
		count = 0;	/* libxcrypt's default, 5000 rounds */
		break;
	case CF_SHA256:
		prefix = "$5$";
		count = 0;
		break;
	case CF_BCRYPT:
		prefix = "$2y$";	/* the variant every Dovecot reads */
		count = BCRYPT_NEW_COST;
		break;
	default:
		*error_r = "scheme not supported for new hashes";
		return NULL;
	}
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		*error_r = "random number generator failed";
		return NULL;
	}
	if (crypt_gensalt_rn(prefix, count, (const char *)rnd, sizeof(rnd),
	    setting, sizeof(setting)) == NULL) {
		*error_r = "crypt_gensalt failed";
		return NULL;
	}
	pw = xmalloc(pwlen + 1);
	memcpy(pw, password, pwlen);
	pw[pwlen] = '\0';
	cd = xcalloc(1, sizeof(*cd));
	h = crypt_rn(pw, setting, cd, (int)sizeof(*cd));
	if (h == NULL || h[0] == '*')
		*error_r = "crypt failed";
	else
		out = xasprintf("{%s}%s", s->name, h);
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	OPENSSL_cleanse(pw, pwlen + 1);
	free(pw);
	return out;
}

static char *
pw_hash_salted(const struct pw_scheme *s, const char *password,
    size_t pwlen, const char **error_r)
{
	unsigned char raw[PW_DIGEST_MAX + PW_NEW_SALT_LEN];
	size_t dlen = (size_t)EVP_MD_get_size(s->md());
	char enc[(PW_DIGEST_MAX + PW_NEW_SALT_LEN + 2) / 3 * 4 + 1];

	if (RAND_bytes(raw + dlen, PW_NEW_SALT_LEN) != 1) {
		*error_r = "random number generator failed";
		return NULL;
	}
	if (pw_digest2(s->md(), password, pwlen, raw + dlen, PW_NEW_SALT_LEN,
	    raw) < 0) {
		*error_r = "digest failed";
		return NULL;
	}
	base64_encode(raw, dlen + PW_NEW_SALT_LEN, enc);
	return xasprintf("{%s}%s", s->name, enc);
}

bool
pw_hash_supported(const char *scheme)
{
	static const char *const ok[] = { "ARGON2ID", "ARGON2I",
	    "SHA512-CRYPT", "SHA256-CRYPT", "BLF-CRYPT", "SSHA512", "SSHA256",
	    "PLAIN" };
	size_t i;

	if (scheme == NULL)
		return true;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (str_ieq(scheme, ok[i]))
			return true;
	return false;
}

char *
pw_hash(const char *scheme, const char *password, size_t pwlen,
    const char **error_r)
{
	const struct pw_scheme *s;
	const char *dummy;

	if (error_r == NULL)
		error_r = &dummy;
	if (scheme == NULL)
		scheme = "ARGON2ID";
	s = pw_scheme_lookup(scheme, strlen(scheme));
	if (s == NULL) {
		*error_r = "unknown password scheme";
		return NULL;
	}
	if (!pw_hash_supported(scheme)) {
		*error_r = "scheme not supported for new hashes";
		return NULL;
	}
	if (password == NULL || memchr(password, '\0', pwlen) != NULL) {
		*error_r = "password holds a NUL byte";
		return NULL;
	}
	switch (s->kind) {
	case PWK_ARGON2:
		return pw_hash_argon2(s, password, pwlen, error_r);
	case PWK_CRYPT:
		return pw_hash_crypt(s, password, pwlen, error_r);
	case PWK_SALTED:
		if (s->md == EVP_sha512 || s->md == EVP_sha256)
			return pw_hash_salted(s, password, pwlen, error_r);
		break;
	case PWK_PLAIN:
		if (strcmp(s->name, "PLAIN") == 0)
			return xasprintf("{PLAIN}%.*s", (int)pwlen, password);
		break;
	default:
		break;
	}
	*error_r = "scheme not supported for new hashes";
	return NULL;
}

bool
pw_is_current(const char *stored)
{
	struct pw_argon2 a;

	if (stored == NULL || !str_iprefix(stored, "{ARGON2ID}"))
		return false;
	if (pw_argon2_parse(stored + 10, &a) < 0)
		return false;
	return a.type == Argon2_id && a.version == ARGON2_VERSION_13 &&
	    a.m_kib >= ARGON2ID_M_KIB && a.t >= ARGON2ID_T;
}
