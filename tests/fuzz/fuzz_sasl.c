/*
 * fuzz_sasl - SASL PLAIN/LOGIN decoding and pw_verify on arbitrary
 * stored strings.
 *
 * The input is tried whole as a PLAIN response and a LOGIN field; then
 * up to its first NUL it is a stored hash and the rest the password.
 * Cost ceilings are lowered first (Argon2 at most 64 KiB and t=2, bcrypt
 * cost 5, SHA-crypt 5000 rounds, SCRAM 4096, small yescrypt), so mutated
 * hashes are parsed to the end and reach the libraries without the
 * fuzzer spending its time in 64 MiB Argon2 runs: anything costlier is
 * refused (-1) before any computation.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/sasl.h"
#include "auth/scheme.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_cheap_limits(void)
{
	static int done;
	struct pw_limits l;

	if (done)
		return;
	pw_get_limits(&l);
	l.argon2_max_kib = 64;
	l.argon2_max_t = 2;
	l.argon2_max_p = 2;
	l.bcrypt_max_cost = 5;
	l.sha_crypt_max_rounds = 5000;
	l.yescrypt_max_n = 7;	/* '5' */
	l.scram_max_iter = 4096;
	pw_set_limits(&l);
	done = 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sasl_plain r;
	char field[SASL_FIELD_MAX];
	const uint8_t *nul;
	char *stored;
	size_t slen;
	int v;

	fuzz_cheap_limits();
	if (size > 4096)
		return 0;

	if (sasl_plain_decode((const char *)data, size, &r) == 0) {
		if (r.authcid[0] == '\0' || r.passwd_len == 0 ||
		    r.passwd_len >= SASL_FIELD_MAX ||
		    strlen(r.passwd) != r.passwd_len)
			abort();
		sasl_wipe(&r);
	}
	if (sasl_b64_field((const char *)data, size, field,
	    sizeof(field)) > (long)sizeof(field) - 1)
		abort();
	(void)sasl_b64_field((const char *)data, size, field, 4);

	nul = memchr(data, '\0', size);
	slen = nul != NULL ? (size_t)(nul - data) : size;
	stored = malloc(slen + 1);
	if (stored == NULL)
		return 0;
	memcpy(stored, data, slen);
	stored[slen] = '\0';
	if (nul != NULL) {
		const char *pw = (const char *)nul + 1;
		size_t pwlen = size - slen - 1;

		v = pw_verify(stored, pw, pwlen);
	} else
		v = pw_verify(stored, "password", 8);
	if (v < -1 || v > 1)
		abort();
	(void)pw_is_current(stored);
	free(stored);
	return 0;
}
