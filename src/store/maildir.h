/*
 * maildir - user Maildirs under mail_root and durable delivery into them,
 * on-disk compatible with Dovecot (see ../shared/FORMATS.md):
 *
 *   <mail_root>/<domain>/<local>/Maildir/{cur,new,tmp}
 *   new/<sec>.M<usec>P<pid>.<host>,S=<size>,W=<crlf size>
 *
 * Messages are stored with LF line ends (as Dovecot stores them); S= is
 * the file size, W= the size with every LF counted as CRLF, which is what
 * IMAP RFC822.SIZE and POP3 report.
 */
#ifndef STORE_MAILDIR_H
#define STORE_MAILDIR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "core/err.h"

/*
 * store_user_maildir: "<mail_root>/<domain>/<local>/Maildir" for email
 * (lower-cased). Returns 0, or -1 when the address cannot name a
 * directory safely ('/', "..", control bytes, empty parts) or is too long.
 */
int store_user_maildir(const char *mail_root, const char *email, char *dst,
    size_t dstlen);

/*
 * store_user_ensure: create the Maildir (0700) with cur/new/tmp and, for
 * a new user, the special-use folders Drafts, Sent, Junk, Trash, Archive
 * (each with its maildirfolder marker) subscribed in "subscriptions".
 * Idempotent and cheap when the Maildir exists. FERR_NONE or an error.
 */
enum ferr store_user_ensure(const char *maildir);

/*
 * maildir_deliver: store one message durably in <maildir>/new: tmp/ with
 * O_EXCL, write the iov pieces, fsync, rename into new/, fsync new/.
 * The pieces must already use LF line ends. quota: the user's limit in
 * bytes (0 = none), enforced with maildirsize (Maildir++), which is then
 * updated. On success fills name_r (base file name) and returns
 * FERR_NONE; on any failure nothing is left in new/ or tmp/:
 * FERR_QUOTA (over quota), FERR_NOSPACE (disk full), FERR_TEMP,
 * FERR_INTERNAL.
 */
enum ferr maildir_deliver(const char *maildir, const struct iovec *iov,
    int iovcnt, uint64_t quota, char *name_r, size_t namelen);

#endif
