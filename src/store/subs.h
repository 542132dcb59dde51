/*
 * subs - Dovecot's "subscriptions" file at the Maildir root.
 *
 * Version 2 (new files): "V\t2\n\n" then one name per line, hierarchy
 * levels separated by TAB, each level tab-escaped (\001 -> \0011,
 * \t -> \001t, \r -> \001r, \n -> \001n). Version 1 (no header): one
 * name per line with the "." separator; kept as v1 when rewritten, as
 * Dovecot does. Names are returned in IMAP form ("." separator).
 * Rewritten under the dotlock "subscriptions.lock".
 */
#ifndef STORE_SUBS_H
#define STORE_SUBS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

#define SUBS_FILE_MAX	(1024 * 1024)

/*
 * subs_parse: parse file text into a malloc'd array of malloc'd names
 * (duplicates and empty or undecodable lines dropped). *version_r is 1 or
 * 2. Returns 0, or -1 for an unknown version header.
 */
int subs_parse(const char *data, size_t len, char ***names_r, size_t *n_r,
    int *version_r);
/* subs_format: text of names in the given version appended to out. */
int subs_format(char *const *names, size_t n, int version, struct buf *out);
/* subs_read: parse "<root>/subscriptions" (absent = empty, version 2). */
enum ferr subs_read(const char *root, char ***names_r, size_t *n_r,
    int *version_r) __attribute__((warn_unused_result));
/* subs_set: add or remove name, rewriting the file under its lock. */
enum ferr subs_set(const char *root, const char *name, bool on)
    __attribute__((warn_unused_result));
/* subs_free: free an array from subs_parse/subs_read. */
void subs_free(char ***namesp, size_t n);

#endif
