/*
 * mstore_int - what the store's own files share about struct mstore and
 * folder creation. Not for other modules: they use mailbox.h.
 */
#ifndef STORE_MSTORE_INT_H
#define STORE_MSTORE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "store/spath.h"

struct mstore {
	char		root[SPATH_MAX];
	uint64_t	quota;		/* bytes, 0 = none */
};

/*
 * folder_make: create dir (a folder directory, or the Maildir root when
 * is_root) with cur/ new/ tmp/ (0700), the maildirfolder marker for a
 * folder, and a dovecot-uidlist with a UIDVALIDITY allocated from root.
 * Existing parts are kept. FERR_NONE or an error from errno.
 */
enum ferr folder_make(const char *root, const char *dir, bool is_root)
    __attribute__((warn_unused_result));

/*
 * folder_disk_name: the IMAP name as stored on disk for a non-INBOX name:
 * a first level spelled "inbox" in any case becomes "INBOX". dst holds
 * MSTORE_NAME_MAX + 1.
 */
void folder_disk_name(const char *name, char *dst, size_t dstlen);

/*
 * mdwriter - one message being written into a folder's tmp/: unique
 * name, O_EXCL, optional CRLF -> LF conversion, sizes counted on the way
 * (vsize = size + number of bare LFs), ceiling max (0 = none).
 */
struct mdwriter {
	int		fd;
	char		dir[SPATH_MAX];		/* the folder */
	char		tmppath[SPATH_MAX];
	char		base[256];
	uint64_t	size;
	uint64_t	vsize;
	uint64_t	max;
	int		convert;	/* CRLF -> LF */
	int		pending_cr;
	int		prev;		/* last byte, -1 at start */
	char		*stage;		/* conversion buffer */
	size_t		 staged;
};

enum ferr mdwriter_open(struct mdwriter *w, const char *dir, int convert,
    uint64_t max) __attribute__((warn_unused_result));
enum ferr mdwriter_write(struct mdwriter *w, const void *p, size_t n)
    __attribute__((warn_unused_result));
/* mdwriter_finish: flush, fsync and close; the file stays in tmp/. */
enum ferr mdwriter_finish(struct mdwriter *w)
    __attribute__((warn_unused_result));
/* mdwriter_abort: close and unlink the tmp file. */
void mdwriter_abort(struct mdwriter *w);
/* mdwriter_final_name: "<base>,S=<size>,W=<vsize>" into dst. */
int mdwriter_final_name(const struct mdwriter *w, char *dst, size_t dstlen);
/*
 * A file to place into a folder under its uidlist lock: from is renamed
 * (or hard-linked when link is set) to "<dir>/<sub>/<name>".
 */
struct place_item {
	const char	*from;
	const char	*sub;		/* "cur" or "new" */
	const char	*name;		/* final file name */
	int		 link;
};

/*
 * folder_place: take dir's uidlist lock, put every item in place, give
 * each a UID (uids_r, n entries) in dovecot-uidlist, release. On failure
 * of any item the ones already placed are undone and nothing is
 * assigned. Creates the uidlist (UIDVALIDITY from root) if missing.
 */
enum ferr folder_place(const char *root, const char *dir,
    const struct place_item *items, size_t n, uint32_t *uids_r,
    uint32_t *uidvalidity_r) __attribute__((warn_unused_result));

/* maildir_tmp_cleanup: remove tmp/ files older than 36 hours. */
void maildir_tmp_cleanup(const char *dir);

#endif
