/*
 * sasl - decoding of SASL PLAIN (RFC 4616) and LOGIN responses, shared by
 * SMTP AUTH, IMAP AUTHENTICATE and POP3 AUTH.
 */
#ifndef AUTH_SASL_H
#define AUTH_SASL_H

#include <stddef.h>

#define SASL_FIELD_MAX 512

struct sasl_plain {
	char	authzid[SASL_FIELD_MAX];
	char	authcid[SASL_FIELD_MAX];
	char	passwd[SASL_FIELD_MAX];
	size_t	passwd_len;
};

/*
 * sasl_plain_decode: b64 is the client's base64 response (n bytes).
 * Returns 0, or -1 on bad base64, missing NULs, a field too long or an
 * empty authcid. "=" (empty response) is -1 here; callers handle it.
 */
int sasl_plain_decode(const char *b64, size_t n, struct sasl_plain *r);
/* sasl_b64_field: decode one base64 LOGIN field into dst (NUL-terminated,
 * at most dstlen-1 bytes). Returns length or -1. */
long sasl_b64_field(const char *b64, size_t n, char *dst, size_t dstlen);
/* sasl_wipe: explicit_bzero the secrets in r. */
void sasl_wipe(struct sasl_plain *r);

#endif
