/*
 * mailbox - the store API the IMAP and POP3 servers program against.
 *
 * Two handles:
 *
 *   struct mstore   one user's Maildir (INBOX = the Maildir root, folders
 *                   are Maildir++ ".Name" directories, "." separator):
 *                   folder list, create/delete/rename, subscriptions,
 *                   quota, APPEND, STATUS.
 *   struct mbox     an open view of one folder (SELECT/EXAMINE, POP3
 *                   maildrop): a snapshot of its messages in UID order,
 *                   refreshed by mbox_sync(), which reports what changed
 *                   since the previous sync (EXISTS, EXPUNGE, FETCH FLAGS).
 *
 * On disk everything is Dovecot 2.3 compatible (FORMATS.md, docs/store.md):
 * dovecot-uidlist v3 (UIDs, UIDVALIDITY), dovecot-keywords, subscriptions,
 * maildirsize, "<base>,S=<size>,W=<vsize>:2,<flags>" file names.
 *
 * Mailbox names are IMAP names exactly as a client sends them in IMAP4rev1:
 * modified UTF-7 (RFC 3501 5.1.3), "." as hierarchy separator, "INBOX"
 * (any case) for the root. They are stored on disk as they are ("Sent" is
 * ".Sent", "Archive.2024" is ".Archive.2024"). Callers holding UTF-8 names
 * convert with utf7_from_utf8() (store/utf7.h) first.
 *
 * Threads: a struct mstore and the struct mbox views opened from it belong
 * to one thread (one session) at a time. Several sessions, in this process
 * or in others (Dovecot, the CLI), may use one Maildir concurrently: the
 * uidlist is changed only under its dotlock, files move by rename(2), and a
 * file vanishing between readdir and open is normal (the view rescans).
 * The notification registry (store_notify_*) is process-wide and
 * thread-safe.
 *
 * Sequence numbers: a view's messages are indexed 0..count-1 in ascending
 * UID order; IMAP sequence number = index + 1. Indexes only change in
 * mbox_sync() (and only as reported in its struct mbox_changes).
 *
 * Errors: enum ferr (core/err.h). FERR_NOTFOUND: no such mailbox, or the
 * message was expunged by someone else; FERR_QUOTA: user quota exceeded;
 * FERR_NOSPACE: disk full; FERR_TEMP: lock busy or transient system error;
 * FERR_INVALID: bad name or argument (a reason string says why where a
 * client could fix it); FERR_EXISTS: CREATE/RENAME target exists;
 * FERR_PERM: read-only view, or INBOX delete; FERR_LIMIT: too many
 * keywords (26 per mailbox) or a size limit; FERR_INTERNAL: see the log.
 */
#ifndef STORE_MAILBOX_H
#define STORE_MAILBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/buf.h"
#include "core/err.h"

/* Longest IMAP mailbox name accepted (bytes of modified UTF-7). */
#define MSTORE_NAME_MAX		200
/* Maximum hierarchy depth ("a.b.c" is 3). */
#define MSTORE_DEPTH_MAX	16
/* Dovecot's limit: keywords per mailbox, letters a..z in file names. */
#define MBOX_KEYWORDS_MAX	26
/* Longest keyword name accepted (IMAP atom). */
#define MBOX_KEYWORD_LEN_MAX	128
/* POP3 UIDL string buffer size (Dovecot default is 16 hex digits). */
#define MBOX_UIDL_MAX		128

/* System flags (bit mask). \Recent is session-local and read-only. */
#define MBOX_F_SEEN		0x01	/* maildir 'S' */
#define MBOX_F_ANSWERED		0x02	/* maildir 'R' */
#define MBOX_F_FLAGGED		0x04	/* maildir 'F' */
#define MBOX_F_DELETED		0x08	/* maildir 'T' */
#define MBOX_F_DRAFT		0x10	/* maildir 'D' */
#define MBOX_F_RECENT		0x20	/* \Recent: never on disk */
#define MBOX_F_STORABLE		0x1f	/* what mbox_store() sets */

struct mstore;
struct mbox;

/* ------------------------------------------------------------------ */
/* User store                                                          */

/*
 * mstore_open: a handle on the Maildir at root (from store_user_maildir();
 * the directory must exist: store_user_ensure() creates it). quota_bytes
 * is the user's limit (0 = none) from the directory; it is written into
 * maildirsize when that file disagrees. Returns FERR_NONE and *st_r, or
 * FERR_NOTFOUND (no Maildir) / FERR_INTERNAL. Free with mstore_close().
 */
enum ferr mstore_open(const char *root, uint64_t quota_bytes,
    struct mstore **st_r) __attribute__((warn_unused_result));
/* mstore_close: release the handle (NULLs *stp). Open views must be
 * closed first. */
void mstore_close(struct mstore **stp);
/* mstore_root: the Maildir root path (borrowed, lives with st). */
const char *mstore_root(const struct mstore *st);

/*
 * mstore_name_check: is name acceptable as a mailbox name to CREATE or
 * RENAME to? Refuses: empty, longer than MSTORE_NAME_MAX, empty levels
 * ("a..b", ".a", "a."), deeper than MSTORE_DEPTH_MAX, '/', '\\', a leading
 * '~', control bytes and DEL, bytes >= 0x80 (must be modified UTF-7),
 * invalid modified UTF-7, the IMAP wildcards '*' and '%'. "INBOX" itself
 * passes; "INBOX.x" is a folder ".INBOX.x" as in Dovecot. Returns 0, or
 * -1 with a static English reason in *why_r suitable for a NO reply.
 */
int mstore_name_check(const char *name, const char **why_r);

/*
 * mstore_name_is_inbox: name is "INBOX" in any case (the only
 * case-insensitive name, RFC 3501 5.1).
 */
bool mstore_name_is_inbox(const char *name);

/*
 * mstore_folder_path: directory of a folder: root for INBOX,
 * "<root>/.<name>" otherwise. Checks the name (FERR_INVALID) but not that
 * the folder exists. dst must hold PATH_MAX.
 */
enum ferr mstore_folder_path(const struct mstore *st, const char *name,
    char *dst, size_t dstlen);

/* Folder attributes from mstore_list(). */
#define MSTORE_A_NOSELECT	0x01	/* only a parent of real folders */
#define MSTORE_A_HASCHILDREN	0x02
#define MSTORE_A_SUBSCRIBED	0x04

struct mstore_folder {
	char		*name;		/* IMAP name (mUTF-7) */
	unsigned	 attrs;		/* MSTORE_A_* */
	const char	*special;	/* "\\Sent", "\\Drafts", "\\Junk",
					 * "\\Trash", "\\Archive" or NULL
					 * (static string, by name) */
};

/*
 * mstore_list: every folder of the Maildir, INBOX first, then the others
 * in byte order of their names. Parents that only exist through their
 * children ("a" for ".a.b") are listed with MSTORE_A_NOSELECT. Directory
 * entries that are not valid names (Dovecot's "..DOVECOT-TRASHED", bad
 * mUTF-7) are skipped. The caller matches LIST patterns. Returns
 * FERR_NONE with a malloc'd array freed by mstore_list_free().
 */
enum ferr mstore_list(struct mstore *st, struct mstore_folder **list_r,
    size_t *count_r) __attribute__((warn_unused_result));
void mstore_list_free(struct mstore_folder **listp, size_t count);

/*
 * mstore_exists: 1 if the folder exists as a directory (INBOX always),
 * 0 if not, -1 on error (bad name included).
 */
int mstore_exists(struct mstore *st, const char *name);

/*
 * mstore_create: create a folder with cur/ new/ tmp/, its maildirfolder
 * marker, and a dovecot-uidlist holding a fresh UIDVALIDITY (allocated
 * from dovecot-uidvalidity as Dovecot does). Missing parents are not
 * created as folders (Maildir++ needs none). A trailing "." (RFC 3501
 * "create a parent only") is accepted and ignored. FERR_EXISTS if it
 * exists (INBOX always exists); FERR_INVALID with *why_r for bad names.
 */
enum ferr mstore_create(struct mstore *st, const char *name,
    const char **why_r) __attribute__((warn_unused_result));

/*
 * mstore_delete: delete a folder and its messages (not its children, which
 * stay: Maildir++ has no real hierarchy). The directory is first renamed
 * out of sight, then removed. INBOX: FERR_PERM. FERR_NOTFOUND if absent.
 * Subscriptions are left alone (RFC 3501 6.3.4).
 */
enum ferr mstore_delete(struct mstore *st, const char *name,
    const char **why_r) __attribute__((warn_unused_result));

/*
 * mstore_rename: rename a folder and all its children ("a" -> "b" also
 * moves "a.x" to "b.x"), keeping UIDVALIDITY and UIDs (the directories
 * move as they are). Renaming INBOX (RFC 3501 6.3.5) creates the new
 * folder and moves every message of INBOX into it (they get new UIDs
 * there); INBOX stays, empty; INBOX's children are not moved. FERR_EXISTS
 * if the target (or a target child) exists; FERR_NOTFOUND if the source
 * does not; FERR_INVALID for a target inside the source ("a" -> "a.b").
 */
enum ferr mstore_rename(struct mstore *st, const char *from, const char *to,
    const char **why_r) __attribute__((warn_unused_result));

/*
 * mstore_subscriptions: the subscribed names (any, existing or not) from
 * "subscriptions" (Dovecot v1 or v2 file). Fills a malloc'd array of
 * malloc'd strings; free with mstore_strings_free().
 */
enum ferr mstore_subscriptions(struct mstore *st, char ***names_r,
    size_t *count_r) __attribute__((warn_unused_result));
void mstore_strings_free(char ***namesp, size_t count);
/*
 * mstore_subscribe: add (on) or remove a name from "subscriptions",
 * rewritten atomically under its lock, keeping the file's version
 * (v2 for a new file). Idempotent. The name is checked (not for
 * existence: RFC 3501 allows subscribing to anything valid).
 */
enum ferr mstore_subscribe(struct mstore *st, const char *name, bool on)
    __attribute__((warn_unused_result));

struct mbox_status {
	uint32_t	messages;
	uint32_t	recent;		/* messages still in new/ */
	uint32_t	uidnext;
	uint32_t	uidvalidity;
	uint32_t	unseen;		/* messages without \Seen */
	uint64_t	size;		/* sum of RFC822.SIZE */
};

/*
 * mstore_status: STATUS of a folder without keeping a view: reads the
 * uidlist and scans new/ and cur/ (assigning UIDs to new files under the
 * lock, as any sync does; new/ files are not moved). FERR_NOTFOUND if the
 * folder does not exist.
 */
enum ferr mstore_status(struct mstore *st, const char *name,
    struct mbox_status *status_r) __attribute__((warn_unused_result));
/*
 * mstore_status_items: the same, computing status_r->size only when
 * want_size (STATUS SIZE): a folder whose file names lack W= (not made by
 * Dovecot or facteur) needs every message read once for it.
 */
enum ferr mstore_status_items(struct mstore *st, const char *name,
    bool want_size, struct mbox_status *status_r)
    __attribute__((warn_unused_result));

/*
 * mstore_quota: usage and limits from maildirsize (recalculated from the
 * ",S=" sizes of every folder when missing, stale or inconsistent, as
 * Maildir++ says). A limit of 0 means none.
 */
enum ferr mstore_quota(struct mstore *st, uint64_t *bytes_used_r,
    uint64_t *bytes_limit_r, uint64_t *count_used_r,
    uint64_t *count_limit_r) __attribute__((warn_unused_result));
/*
 * mstore_quota_check: would adding `bytes` more (one message) exceed the
 * quota? FERR_NONE or FERR_QUOTA. IMAP calls it with a literal's declared
 * size before sending "+".
 */
enum ferr mstore_quota_check(struct mstore *st, uint64_t bytes)
    __attribute__((warn_unused_result));

/* ------------------------------------------------------------------ */
/* APPEND                                                              */

struct mstore_append;

/*
 * mstore_append_begin: start saving one message into folder name: opens a
 * tmp/ file (O_EXCL). Feed the bytes with mstore_append_write() (CRLF and
 * bare LF are both accepted; stored with LF line ends as Dovecot does),
 * then mstore_append_finish() or mstore_append_abort(). max_size bounds
 * the message (0 = none): writing past it gives FERR_LIMIT.
 * FERR_NOTFOUND if the folder does not exist.
 */
enum ferr mstore_append_begin(struct mstore *st, const char *name,
    uint64_t max_size, struct mstore_append **ap_r)
    __attribute__((warn_unused_result));
enum ferr mstore_append_write(struct mstore_append *ap, const void *data,
    size_t len) __attribute__((warn_unused_result));
/*
 * mstore_append_finish: fsync, check the quota (FERR_QUOTA), allocate the
 * keywords by name in the folder's dovecot-keywords (FERR_LIMIT beyond
 * 26, FERR_INVALID for a bad keyword), move the file into cur/ (or new/
 * when flags and keywords are empty) as "<base>,S=..,W=..:2,<flags>",
 * set its mtime to internal_date (0 = now) with utimes(2), and assign it
 * a UID under the uidlist lock. Fills *uid_r and *uidvalidity_r for
 * APPENDUID (RFC 4315). Frees ap (NULLs *app) whatever the outcome; on
 * failure nothing is left in tmp/, new/ or cur/. Signals the folder's
 * notification subscribers.
 */
enum ferr mstore_append_finish(struct mstore_append **app, unsigned flags,
    const char *const *keywords, size_t nkeywords, time_t internal_date,
    uint32_t *uid_r, uint32_t *uidvalidity_r)
    __attribute__((warn_unused_result));
/* mstore_append_abort: drop the tmp/ file and free ap (NULLs *app). */
void mstore_append_abort(struct mstore_append **app);

/*
 * mstore_append_mem: one-shot APPEND of a message in memory (CRLF or LF).
 */
enum ferr mstore_append_mem(struct mstore *st, const char *name,
    const void *data, size_t len, unsigned flags,
    const char *const *keywords, size_t nkeywords, time_t internal_date,
    uint32_t *uid_r, uint32_t *uidvalidity_r)
    __attribute__((warn_unused_result));

/* ------------------------------------------------------------------ */
/* Views (SELECT / EXAMINE / POP3)                                     */

#define MBOX_OPEN_RO		0x01	/* EXAMINE: changes nothing
					 * except to assign UIDs */
#define MBOX_OPEN_NO_NEW_MOVE	0x02	/* rw, new/ left alone */

/*
 * mbox_open: open a view of folder name and do the first sync (UIDs
 * assigned under the lock). Read-write views move files from new/ to cur/
 * as Dovecot does, and those messages are \Recent in this view only
 * (docs/store.md: \Recent is "first view to see it in new/"). Read-only
 * views see new/ messages as \Recent without moving them. When another
 * view of the same folder in this process synced it recently and new/,
 * cur/ and the uidlist have not changed since, its snapshot is copied
 * instead of scanning (a SELECT of a big folder costs milliseconds).
 * FERR_NOTFOUND if the folder does not exist. Close with mbox_close().
 */
enum ferr mbox_open(struct mstore *st, const char *name, unsigned flags,
    struct mbox **mb_r) __attribute__((warn_unused_result));
void mbox_close(struct mbox **mbp);

/* Read-only accessors of the current snapshot. */
uint32_t mbox_count(const struct mbox *mb);
uint32_t mbox_uidvalidity(const struct mbox *mb);
uint32_t mbox_uidnext(const struct mbox *mb);
uint32_t mbox_recent_count(const struct mbox *mb);
uint32_t mbox_unseen_count(const struct mbox *mb);
/* mbox_first_unseen: index of the first message without \Seen, or -1. */
long mbox_first_unseen(const struct mbox *mb);
bool mbox_readonly(const struct mbox *mb);
/* mbox_name: the IMAP name the view was opened with (borrowed). */
const char *mbox_name(const struct mbox *mb);
/* mbox_path: the folder directory (borrowed). */
const char *mbox_path(const struct mbox *mb);

#define MBOX_SYNC_NO_EXPUNGE	0x01	/* keep expunged messages
					 * (marked gone) and report none:
					 * for FETCH, STORE, SEARCH and UID
					 * variants (RFC 3501 7.4.1) */
#define MBOX_SYNC_FORCE		0x02	/* rescan even if the dirs'
					 * mtimes say nothing changed */

/* What mbox_sync() found, to turn into untagged responses. */
struct mbox_changes {
	/* expunged messages, as sequence numbers that can be sent in the
	 * given order as "* n EXPUNGE" (descending, so each number is valid
	 * when sent), and the same messages' UIDs (QRESYNC VANISHED) */
	uint32_t	*expunged_seq;
	uint32_t	*expunged_uid;
	size_t		 nexpunged;
	/* indexes (after the expunges) of older messages whose flags or
	 * keywords changed by another session or process: "* n FETCH
	 * (FLAGS ...)" */
	uint32_t	*changed;
	size_t		 nchanged;
	uint32_t	 exists;	/* count now (EXISTS if changed) */
	uint32_t	 recent;	/* \Recent count now */
	uint32_t	 new_first;	/* index of the first new message */
	bool		 keywords_changed; /* send a new FLAGS list */
	bool		 uidvalidity_changed; /* the mailbox was recreated:
					    * the session must BYE */
};

/*
 * mbox_sync: bring the view up to date with the disk. A warm sync of an
 * unchanged mailbox costs a stat(2) of new/, cur/ and dovecot-keywords;
 * otherwise the changed directory is re-read (names, not the files). New
 * files get UIDs in the uidlist under its dotlock (FERR_TEMP if the lock
 * stays busy for 10 s while not stale); a read-write view moves new/ to
 * cur/. Expunges marked by mbox_expunge() and files vanished from disk are
 * reported and removed from the view, unless MBOX_SYNC_NO_EXPUNGE. A file
 * another session is moving from new/ to cur/ during the scan is never
 * reported as expunged: the sync may then wait up to 3 x 60 ms and rescan.
 * ch may be NULL; otherwise it is filled (free with mbox_changes_free()).
 * On error the view is left as it was and ch is empty (exists = count).
 */
enum ferr mbox_sync(struct mbox *mb, unsigned flags, struct mbox_changes *ch)
    __attribute__((warn_unused_result));
void mbox_changes_free(struct mbox_changes *ch);

/*
 * mbox_find_uid: index of the message with this UID: 1 found (*idx_r),
 * 0 not in the view. O(log n).
 */
int mbox_find_uid(const struct mbox *mb, uint32_t uid, uint32_t *idx_r);
/*
 * mbox_uid_range: indexes [*first_r, *last_r] of the messages whose UIDs
 * are in [lo, hi]: 1, or 0 if none. O(log n).
 */
int mbox_uid_range(const struct mbox *mb, uint32_t lo, uint32_t hi,
    uint32_t *first_r, uint32_t *last_r);

/* Per message (idx < mbox_count(); no checks beyond an assert). */
uint32_t mbox_msg_uid(const struct mbox *mb, uint32_t idx);
/* mbox_msg_flags: MBOX_F_* including \Recent (session-local). */
unsigned mbox_msg_flags(const struct mbox *mb, uint32_t idx);
/* mbox_msg_keywords: bit i set = keyword i of mbox_keywords() (letters
 * without a name in dovecot-keywords are left out). */
uint32_t mbox_msg_keywords(const struct mbox *mb, uint32_t idx);
/* mbox_msg_expunged: gone from disk but kept by MBOX_SYNC_NO_EXPUNGE. */
bool mbox_msg_expunged(const struct mbox *mb, uint32_t idx);
/*
 * mbox_msg_size: physical size (bytes on disk, LF line ends), from S= or
 * the uidlist, else stat(2). mbox_msg_vsize: RFC822.SIZE / POP3 size, the
 * size with CRLF line ends, from W= or the uidlist, else computed by
 * reading the file once and remembered (written to the uidlist on its
 * next rewrite). FERR_NOTFOUND if the message was expunged meanwhile.
 */
enum ferr mbox_msg_size(struct mbox *mb, uint32_t idx, uint64_t *size_r);
enum ferr mbox_msg_vsize(struct mbox *mb, uint32_t idx, uint64_t *vsize_r);
/* mbox_msg_internaldate: the file's mtime (as Dovecot), stat'd lazily. */
enum ferr mbox_msg_internaldate(struct mbox *mb, uint32_t idx,
    time_t *date_r);
/*
 * mbox_msg_path: current full path of the message file. It may be renamed
 * or unlinked at any time by others: prefer mbox_msg_open().
 */
enum ferr mbox_msg_path(struct mbox *mb, uint32_t idx, char *dst,
    size_t dstlen);
/*
 * mbox_msg_open: open the message read-only (O_CLOEXEC); if the file was
 * renamed by another session (flags changed) the directory is rescanned
 * for its base name and the open retried. FERR_NOTFOUND if expunged.
 * The caller reads or mmap(2)s the fd (content has LF line ends) and
 * closes it.
 */
enum ferr mbox_msg_open(struct mbox *mb, uint32_t idx, int *fd_r)
    __attribute__((warn_unused_result));
/*
 * mbox_msg_read: the whole message into out (initialised by the caller
 * with its ceiling). FERR_LIMIT if larger than out's max.
 */
enum ferr mbox_msg_read(struct mbox *mb, uint32_t idx, struct buf *out)
    __attribute__((warn_unused_result));
/*
 * mbox_msg_pop3_uidl: POP3 UIDL as Dovecot 2.3 gives it: the record's P
 * override from the uidlist if any, else the uidlist header's P format if
 * any (%u uid, %v uidvalidity, %f base file name, %g GUID, with Dovecot's
 * %08Xu style modifiers), else "%08x%08x" of UID and UIDVALIDITY.
 * dst holds MBOX_UIDL_MAX.
 */
void mbox_msg_pop3_uidl(const struct mbox *mb, uint32_t idx, char *dst,
    size_t dstlen);

/*
 * mbox_keywords: the folder's keyword names (index = bit), borrowed until
 * the next mbox_sync() or mbox_keyword_index(); returns the count (<= 26,
 * highest used index + 1). Never NULL: an index left unused in
 * dovecot-keywords is "" (skip it when printing); mbox_msg_keywords()
 * never reports its bit.
 */
size_t mbox_keywords(const struct mbox *mb, const char *const **names_r);
/*
 * mbox_keyword_index: index of keyword name (case-insensitive, RFC 3501):
 * 1 found, 0 not found (and not created), -1 error. With create, allocates
 * it in dovecot-keywords (FERR_LIMIT beyond 26 is -1 with *err_r set).
 */
int mbox_keyword_index(struct mbox *mb, const char *name, bool create,
    unsigned *idx_r, enum ferr *err_r);

enum mbox_store_op {
	MBOX_STORE_SET,		/* FLAGS */
	MBOX_STORE_ADD,		/* +FLAGS */
	MBOX_STORE_REMOVE	/* -FLAGS */
};

/*
 * mbox_store: change the flags (MBOX_F_STORABLE bits) and keywords
 * (bitmask of mbox_keywords() indexes) of one message by renaming its
 * file; unknown flag letters in the name are kept. The view's snapshot
 * is updated at once, so the change is not reported back to this view by
 * the next sync, but other views see it. FERR_PERM in a read-only view;
 * FERR_NOTFOUND if the message was expunged meanwhile. Removing \Recent
 * or setting it is ignored.
 */
enum ferr mbox_store(struct mbox *mb, uint32_t idx, enum mbox_store_op op,
    unsigned flags, uint32_t keywords) __attribute__((warn_unused_result));

/*
 * mbox_expunge: unlink the message file now (updating maildirsize) and
 * mark it expunged; the next mbox_sync() without NO_EXPUNGE reports it
 * and removes it from the view. For IMAP EXPUNGE: call for every \Deleted
 * message, then sync. A file already gone is not an error.
 */
enum ferr mbox_expunge(struct mbox *mb, uint32_t idx)
    __attribute__((warn_unused_result));

/*
 * mbox_copy: copy messages (indexes into mb) into folder dest, keeping
 * flags (not \Recent) and keyword names (allocated in the destination).
 * Files are hard-linked when possible, else copied. uids_r (n entries)
 * gets the new UIDs in the same order and *uidvalidity_r the
 * destination's UIDVALIDITY (COPYUID, RFC 4315). Quota: FERR_QUOTA if the
 * sum would exceed it, and then nothing is copied. FERR_NOTFOUND if dest
 * does not exist or a source message was expunged meanwhile (nothing
 * copied). dest may be the view's own folder.
 */
enum ferr mbox_copy(struct mbox *mb, const uint32_t *idx, size_t n,
    const char *dest, uint32_t *uids_r, uint32_t *uidvalidity_r)
    __attribute__((warn_unused_result));
/*
 * mbox_move: like mbox_copy but rename(2)s the files into dest (RFC 6851)
 * and marks the sources expunged (reported by the next sync). Quota is
 * unchanged (same user). dest must differ from the view's folder.
 */
enum ferr mbox_move(struct mbox *mb, const uint32_t *idx, size_t n,
    const char *dest, uint32_t *uids_r, uint32_t *uidvalidity_r)
    __attribute__((warn_unused_result));

/* ------------------------------------------------------------------ */
/* Change notification (IMAP IDLE)                                     */

/*
 * store_notify_subscribe: an fd (eventfd, non-blocking, CLOEXEC) that
 * becomes readable within about a second of a change in the folder at
 * path (the folder directory, e.g. mbox_path()): deliveries, appends,
 * flag changes and expunges by this process (store_notify_signal) and by
 * other processes (inotify on new/ and cur/ from one background thread,
 * started on first use). Wakeups may be spurious: the session syncs and
 * sends only what changed. Returns the fd or -1. Release with
 * store_notify_unsubscribe(fd), which closes it.
 */
int store_notify_subscribe(const char *path);
void store_notify_unsubscribe(int fd);
/* store_notify_drain: read the fd empty (after poll(2) said readable). */
void store_notify_drain(int fd);
/* store_notify_signal: wake every subscriber of the folder at path. The
 * store calls it itself after its own changes. */
void store_notify_signal(const char *path);

#endif
