/*
 * sasl - SASL PLAIN (RFC 4616) and LOGIN response decoding.
 *
 * Input: the client's base64 response, hostile. Decoding is strict
 * (RFC 4648 alphabet, padding required, no whitespace); the response is
 * refused before decoding when it could not fit three fields of
 * SASL_FIELD_MAX - 1 bytes. PLAIN is "[authzid] NUL authcid NUL passwd":
 * exactly two NULs, authcid and passwd not empty (RFC 4616 "1*SAFE"),
 * and no control characters in authzid or authcid (they reach logs and
 * the directory). Every temporary copy of a secret is wiped.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "auth/sasl.h"
#include "core/str.h"
#include "core/xmalloc.h"

/* the longest decoded PLAIN message: three full fields and two NULs */
#define SASL_PLAIN_MAX	(3 * (SASL_FIELD_MAX - 1) + 2)

static int
sasl_copy_field(char *dst, const unsigned char *src, size_t n, bool is_id)
{
	if (n >= SASL_FIELD_MAX)
		return -1;
	if (is_id && str_has_ctl((const char *)src, n))
		return -1;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

int
sasl_plain_decode(const char *b64, size_t n, struct sasl_plain *r)
{
	unsigned char raw[(SASL_PLAIN_MAX + 2) / 3 * 3 + 3];
	const unsigned char *nul1, *nul2, *end;
	long len;
	int ret = -1;

	memset(r, 0, sizeof(*r));
	if (b64 == NULL || n == 0 || n % 4 != 0 ||
	    n > base64_encoded_len(SASL_PLAIN_MAX))
		return -1;
	len = base64_decode(b64, n, raw);
	if (len <= 0)
		goto out;
	end = raw + len;
	nul1 = memchr(raw, '\0', (size_t)len);
	if (nul1 == NULL)
		goto out;
	nul2 = memchr(nul1 + 1, '\0', (size_t)(end - (nul1 + 1)));
	if (nul2 == NULL)
		goto out;
	if (memchr(nul2 + 1, '\0', (size_t)(end - (nul2 + 1))) != NULL)
		goto out;	/* a third NUL: passwd may not hold one */
	if (nul2 == nul1 + 1 || nul2 + 1 == end)
		goto out;	/* empty authcid or passwd */
	if (sasl_copy_field(r->authzid, raw, (size_t)(nul1 - raw), true) < 0 ||
	    sasl_copy_field(r->authcid, nul1 + 1,
	    (size_t)(nul2 - (nul1 + 1)), true) < 0 ||
	    sasl_copy_field(r->passwd, nul2 + 1,
	    (size_t)(end - (nul2 + 1)), false) < 0)
		goto out;
	r->passwd_len = (size_t)(end - (nul2 + 1));
	ret = 0;
out:
	explicit_bzero(raw, sizeof(raw));
	if (ret < 0)
		sasl_wipe(r);
	return ret;
}

long
sasl_b64_field(const char *b64, size_t n, char *dst, size_t dstlen)
{
	unsigned char *raw;
	long len;

	if (dst == NULL || dstlen == 0)
		return -1;
	dst[0] = '\0';
	if (b64 == NULL || n % 4 != 0)
		return -1;
	if (n == 0)
		return 0;
	/* padding takes at most 2 bytes off n/4*3 */
	if (n / 4 * 3 - 2 > dstlen - 1)
		return -1;
	raw = xmalloc(n / 4 * 3);
	len = base64_decode(b64, n, raw);
	if (len < 0 || (size_t)len > dstlen - 1 ||
	    memchr(raw, '\0', (size_t)len) != NULL) {
		len = -1;
	} else {
		memcpy(dst, raw, (size_t)len);
		dst[len] = '\0';
	}
	explicit_bzero(raw, n / 4 * 3);
	free(raw);
	return len;
}

void
sasl_wipe(struct sasl_plain *r)
{
	explicit_bzero(r, sizeof(*r));
}
