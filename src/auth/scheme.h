/*
 * scheme - Dovecot-style password hashes, "{SCHEME}hash".
 *
 * New hashes are {ARGON2ID} (libargon2, encoded "$argon2id$v=19$m=...").
 * Verified: ARGON2ID, ARGON2I, SHA512-CRYPT, SHA256-CRYPT, BLF-CRYPT,
 * MD5-CRYPT, SSHA512, SSHA256, SSHA, SHA512, SHA256, SHA, CRYPT, PLAIN,
 * CLEAR, SCRAM-SHA-1, SCRAM-SHA-256, SMD5, PLAIN-MD5, LDAP-MD5, and
 * unprefixed crypt(3) strings ("$6$...", "$2y$...", "$1$...").
 * Comparisons are constant-time.
 */
#ifndef AUTH_SCHEME_H
#define AUTH_SCHEME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * pw_verify: check password (pwlen bytes, may hold any byte but NUL)
 * against stored. Returns 1 match, 0 mismatch, -1 unknown scheme or a
 * malformed hash (logged by the caller as a directory problem).
 * A stored hash whose cost exceeds the limits below is malformed (-1).
 * A password holding a NUL byte never matches (0).
 */
int pw_verify(const char *stored, const char *password, size_t pwlen);
/*
 * pw_hash: hash password with scheme ("ARGON2ID" default when NULL;
 * also ARGON2I, SHA512-CRYPT, SHA256-CRYPT, BLF-CRYPT, SSHA512, SSHA256,
 * PLAIN). Returns a malloc'ed "{SCHEME}..." string or NULL (unknown
 * scheme, or library failure) with a reason in *error_r.
 */
char *pw_hash(const char *scheme, const char *password, size_t pwlen,
    const char **error_r);
/* pw_hash_supported: true when pw_hash accepts scheme (case-insensitive). */
bool pw_hash_supported(const char *scheme);
/* pw_is_current: true when stored is {ARGON2ID} with at least the
 * default cost (m=65536, t=3), so no rehash is needed. */
bool pw_is_current(const char *stored);

/*
 * Cost ceilings for stored hashes, so one bad directory row (or a fuzzer)
 * cannot make a login take minutes or gigabytes. Process-wide: set them
 * before threads start. argon2_budget_kib bounds the memory of all
 * Argon2 computations running at once (a computation larger than the
 * budget runs alone).
 */
struct pw_limits {
	uint32_t argon2_max_kib;	/* m= ceiling (default 1 GiB) */
	uint32_t argon2_max_t;		/* t= ceiling (default 16) */
	uint32_t argon2_max_p;		/* p= ceiling (default 16) */
	uint32_t argon2_budget_kib;	/* default 2 x 64 MiB */
	uint32_t bcrypt_max_cost;	/* $2y$NN$ ceiling (default 16) */
	uint32_t sha_crypt_max_rounds;	/* $6$rounds= ceiling (1000000) */
	uint32_t scram_max_iter;	/* SCRAM PBKDF2 rounds (1000000) */
	uint32_t yescrypt_max_n;	/* N of "$y$jNr$" as a crypt base-64
					   digit (default 14, 'C' = -R 8) */
};

/* pw_get_limits / pw_set_limits: read or replace the ceilings. */
void pw_get_limits(struct pw_limits *l);
void pw_set_limits(const struct pw_limits *l);
/* pw_argon2_peak: most KiB held by Argon2 computations at once since
 * the last reset (for tests and stats). */
uint64_t pw_argon2_peak(bool reset);

#endif
