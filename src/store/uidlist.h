/*
 * uidlist - Dovecot's dovecot-uidlist: the UIDs of a Maildir folder.
 *
 *   3 V<uidvalidity> N<nextuid> G<guid hex>[ <key><value>...]
 *   <uid>[ <key><value>...] :<file name key>
 *
 * Version 1 ("1 <uidvalidity> <nextuid>" / "<uid> <name>") is read and
 * written back as version 3. Unknown header keys are kept and written
 * back; record keys (S size, W vsize, P POP3 UIDL, O POP3 order, G GUID,
 * any A-Z) are kept verbatim. The record's name is the file name up to the
 * ':' info separator. Changes are made under the dotlock
 * "dovecot-uidlist.lock" (store/dotlock.h) and written by renaming the
 * lock file over the list.
 */
#ifndef STORE_UIDLIST_H
#define STORE_UIDLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/err.h"

/* Largest uidlist file we read (1 GiB: ~10 million messages). */
#define UIDLIST_MAX_SIZE	(1024UL * 1024 * 1024)

struct spool_chunk;

/* Pointer-stable string storage, freed in one call. */
struct spool {
	struct spool_chunk	*head;
};

const char *spool_add(struct spool *sp, const char *s, size_t n);
void spool_free(struct spool *sp);

struct uidlist_rec {
	uint32_t	 uid;
	uint32_t	 mark;		/* free for the caller's use */
	const char	*name;		/* key: name before ":2," */
	const char	*ext;		/* "Kval Kval" or NULL */
};

struct uidlist {
	unsigned		 version;	/* as read: 1 or 3 */
	uint32_t		 uidvalidity;
	uint32_t		 nextuid;
	char			 guid[33];	/* "" if none */
	const char		*hdr_extra;	/* other keys or NULL */
	struct uidlist_rec	*recs;		/* ascending UID */
	size_t			 n;
	size_t			 cap;
	struct spool		 pool;
};

void uidlist_init(struct uidlist *ul);
void uidlist_free(struct uidlist *ul);

/*
 * uidlist_parse: parse file contents into ul (which must be freshly
 * initialised). An unterminated last line is ignored (a writer appending
 * right now). Returns 0, or -1 with a reason: bad version, bad header,
 * non-ascending or zero UIDs, '/' or control bytes in a name, empty name,
 * keys not A-Z, garbage. nextuid becomes at least last UID + 1.
 */
int uidlist_parse(struct uidlist *ul, const char *data, size_t len,
    const char **why_r);
/* uidlist_format: version 3 text of ul appended to out. 0 or -1 (max). */
int uidlist_format(const struct uidlist *ul, struct buf *out);

/* uidlist_append_rec: add a record; uid must exceed the last one. The
 * strings are copied. Bumps nextuid. 0, or -1 if uid is not ascending. */
int uidlist_append_rec(struct uidlist *ul, uint32_t uid, const char *name,
    size_t namelen, const char *ext);
/* uidlist_find: index of uid (bsearch): 1 found, 0 not. */
int uidlist_find(const struct uidlist *ul, uint32_t uid, size_t *idx_r);
/*
 * uidlist_rec_key: value of record key k (e.g. 'P') into dst: 1 found,
 * 0 not (or too long for dst).
 */
int uidlist_rec_key(const struct uidlist_rec *r, char k, char *dst,
    size_t dstlen);
/* uidlist_hdr_key: same for a header key in hdr_extra. */
int uidlist_hdr_key(const struct uidlist *ul, char k, char *dst,
    size_t dstlen);

/*
 * uidlist_read: read and parse "<dir>/dovecot-uidlist". Returns 1 read,
 * 0 absent, -1 error (corrupt: *why_r says why; I/O: errno). sb_r (may be
 * NULL) gets the file's stat.
 */
int uidlist_read(const char *dir, struct uidlist *ul, struct stat *sb_r,
    const char **why_r);
/* uidlist_new_guid: 32 random lower-case hex digits into dst[33]. */
void uidlist_new_guid(char dst[33]);

/*
 * uidvalidity_next: allocate a UIDVALIDITY for a new folder from
 * "<root>/dovecot-uidvalidity" (%08x) and its companion
 * dovecot-uidvalidity.<%08x> file, as Dovecot does: max(last + 1, now).
 */
uint32_t uidvalidity_next(const char *root);

/*
 * uidlist_create: write a new empty list (version 3, the given
 * UIDVALIDITY, N1, a new GUID) in dir unless one exists. FERR_NONE.
 */
enum ferr uidlist_create(const char *dir, uint32_t uidvalidity)
    __attribute__((warn_unused_result));

#endif
