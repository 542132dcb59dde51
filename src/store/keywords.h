/*
 * keywords - Dovecot's dovecot-keywords: "<index> <name>\n" lines, index
 * 0..25 standing for the file name letters a..z. Changed under the
 * dotlock "dovecot-keywords.lock", written by renaming the lock over it.
 */
#ifndef STORE_KEYWORDS_H
#define STORE_KEYWORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "core/err.h"

#define KEYWORDS_MAX	26

struct keywords {
	char	*names[KEYWORDS_MAX];	/* NULL: index unused */
	size_t	 count;			/* highest index + 1 */
};

void keywords_init(struct keywords *kw);
void keywords_free(struct keywords *kw);
/*
 * keywords_parse: parse file text (lines with a bad index, a duplicate
 * index or an invalid name are skipped, as a reader must not fail on
 * them). Returns the number of skipped lines.
 */
int keywords_parse(struct keywords *kw, const char *data, size_t len);
/* keywords_read: "<dir>/dovecot-keywords": 1 read, 0 absent, -1 error. */
int keywords_read(const char *dir, struct keywords *kw, struct stat *sb_r);
/* keywords_find: index of name (ASCII case-insensitive), or -1. */
int keywords_find(const struct keywords *kw, const char *name);
/* keywords_name_ok: name is an IMAP flag-keyword atom (no '\\', specials,
 * controls, 8-bit), 1..128 bytes. */
bool keywords_name_ok(const char *name);
/*
 * keywords_alloc: index of name in the folder at dir, adding it to
 * dovecot-keywords under its lock if absent (kw is reloaded from the file
 * first). FERR_LIMIT when all 26 are used, FERR_INVALID for a bad name.
 */
enum ferr keywords_alloc(const char *dir, struct keywords *kw,
    const char *name, unsigned *idx_r) __attribute__((warn_unused_result));

#endif
