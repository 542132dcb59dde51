/*
 * cache - a small process-wide cache of verified credentials, so repeated
 * logins by the same user (IMAP clients reconnecting, phones polling) cost
 * one hash lookup instead of an Argon2 computation.
 *
 * Keyed by account; holds a SHA-256 of (salt, password) and the stored
 * hash it was verified against, so a password change in the directory
 * invalidates it. Entries expire (default 300 s).
 */
#ifndef AUTH_CACHE_H
#define AUTH_CACHE_H

#include <stdbool.h>
#include <stddef.h>

/* auth_cache_check: true if (account, password) was verified against
 * exactly this stored hash within the TTL. */
bool auth_cache_check(const char *account, const char *stored,
    const char *password, size_t pwlen);
/* auth_cache_put: remember a successful verification (replaces the
 * account's entry). */
void auth_cache_put(const char *account, const char *stored,
    const char *password, size_t pwlen);
/* auth_cache_forget: drop the account (password changed, user removed). */
void auth_cache_forget(const char *account);
/* auth_cache_configure: TTL (default 300 s) and size (default 4096);
 * either 0 turns the cache off (check always misses). */
void auth_cache_configure(unsigned ttl_secs, size_t max_entries);

#endif
