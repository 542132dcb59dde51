/*
 * dkimkeys - the keys a message from a domain is signed with: the newest
 * key of each algorithm in facteur_dkim_keys, so mail can carry both an
 * rsa-sha256 and an ed25519-sha256 signature (RFC 8463 6: receivers
 * that ignore Ed25519 still see the RSA one). Added for the SMTP server
 * and `facteur dkim sign` next to dkim.c's management functions.
 */
#ifndef DIRECTORY_DKIMKEYS_H
#define DIRECTORY_DKIMKEYS_H

#include <stddef.h>

#include "directory/dir.h"

#define DIR_DKIM_SIGNING_MAX	4	/* algorithms kept per domain */

/*
 * dir_dkim_signing_keys: the newest key of each algorithm of domain
 * (any case), newest first, up to max into keys (each freed with
 * dir_dkim_key_free). Returns 1 (*n_r >= 1), 0 (no key), -1 (directory
 * error, logged).
 */
int dir_dkim_signing_keys(struct dir *d, const char *domain,
    struct dir_dkim_key *keys, size_t max, size_t *n_r);

#endif
