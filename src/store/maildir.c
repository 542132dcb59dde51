/*
 * maildir - user Maildir paths, first-time setup, and durable delivery
 * into new/ (see maildir.h), plus the tmp/ writer shared with APPEND.
 *
 * Durability (STYLE.md 15): tmp/ O_EXCL, write, fsync, close, rename into
 * new/, fsync new/; on any failure the tmp/ and new/ files are removed.
 * Input: the message bytes (already LF) and an address from the
 * directory, which is still checked before it names a directory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "core/log.h"
#include "core/str.h"
#include "core/xmalloc.h"
#include "store/mailbox.h"
#include "store/maildir.h"
#include "store/mdname.h"
#include "store/mstore_int.h"
#include "store/quota.h"
#include "store/subs.h"

#define MAILDIR_TMP_DELETE_SECS	(36 * 60 * 60)
#define MDWRITER_STAGE		65536

static atomic_uint maildir_deliveries;

/* One address part usable as a directory name. */
static int
maildir_part_ok(const char *s, size_t n)
{
	if (n == 0 || n > 255)
		return 0;
	if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return 0;
	if (memchr(s, '/', n) != NULL || memchr(s, '\\', n) != NULL ||
	    str_has_ctl(s, n))
		return 0;
	return 1;
}

int
store_user_maildir(const char *mail_root, const char *email, char *dst,
    size_t dstlen)
{
	char addr[512];
	const char *at;
	size_t n = strnlen(email, sizeof(addr));

	if (n >= sizeof(addr) || memchr(email, '\0', n + 1) == NULL)
		return -1;
	memcpy(addr, email, n + 1);
	str_lower(addr);
	at = strrchr(addr, '@');
	if (at == NULL || !maildir_part_ok(addr, (size_t)(at - addr)) ||
	    !maildir_part_ok(at + 1, strlen(at + 1)) || at[1] == '.')
		return -1;
	if (spath(dst, dstlen, "%s/%s/%.*s/Maildir", mail_root, at + 1,
	    (int)(at - addr), addr) < 0)
		return -1;
	return 0;
}

enum ferr
store_user_ensure(const char *maildir)
{
	static const char *const special[] = {
		"Drafts", "Sent", "Junk", "Trash", "Archive"
	};
	char path[SPATH_MAX];
	struct stat sb;
	enum ferr e;
	size_t i;

	if (spath(path, sizeof(path), "%s/cur", maildir) < 0)
		return FERR_INVALID;
	if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
		return FERR_NONE;
	if (fs_mkdir_p(maildir, 0700) < 0)
		return ferr_from_errno(errno);
	e = folder_make(maildir, maildir, true);
	if (e != FERR_NONE)
		return e;
	for (i = 0; i < sizeof(special) / sizeof(special[0]); i++) {
		if (spath(path, sizeof(path), "%s/.%s", maildir,
		    special[i]) < 0)
			return FERR_INVALID;
		e = folder_make(maildir, path, false);
		if (e != FERR_NONE)
			return e;
		e = subs_set(maildir, special[i], true);
		if (e != FERR_NONE)
			return e;
	}
	return FERR_NONE;
}

enum ferr
mdwriter_open(struct mdwriter *w, const char *dir, int convert, uint64_t max)
{
	int tries;

	memset(w, 0, sizeof(*w));
	w->fd = -1;
	w->prev = -1;
	w->convert = convert;
	w->max = max;
	if (str_copy(w->dir, dir, sizeof(w->dir)) >= sizeof(w->dir))
		return FERR_INVALID;
	for (tries = 0; tries < 5; tries++) {
		if (mdname_new_base(w->base, sizeof(w->base)) < 0 ||
		    spath(w->tmppath, sizeof(w->tmppath), "%s/tmp/%s", dir,
		    w->base) < 0)
			return FERR_INVALID;
		w->fd = open(w->tmppath, O_WRONLY | O_CREAT | O_EXCL |
		    O_CLOEXEC, 0600);
		if (w->fd >= 0)
			break;
		if (errno != EEXIST)
			return errno == ENOENT ? FERR_NOTFOUND :
			    ferr_from_errno(errno);
	}
	if (w->fd < 0)
		return FERR_TEMP;
	if (convert)
		w->stage = xmalloc(MDWRITER_STAGE);
	return FERR_NONE;
}

/* Write n bytes as they are, counting sizes. */
static enum ferr
mdwriter_raw(struct mdwriter *w, const char *p, size_t n)
{
	size_t i;

	if (n == 0)
		return FERR_NONE;
	if (w->max != 0 && w->size + n > w->max)
		return FERR_LIMIT;
	for (i = 0; i < n; i++) {
		if (p[i] == '\n' && w->prev != '\r')
			w->vsize++;
		w->prev = (unsigned char)p[i];
	}
	if (fs_write_all(w->fd, p, n) < 0)
		return ferr_from_errno(errno);
	w->size += n;
	w->vsize += n;
	return FERR_NONE;
}

static enum ferr
mdwriter_flush(struct mdwriter *w)
{
	enum ferr e = mdwriter_raw(w, w->stage, w->staged);

	w->staged = 0;
	return e;
}

enum ferr
mdwriter_write(struct mdwriter *w, const void *data, size_t n)
{
	const char *p = data;
	size_t i;
	enum ferr e;

	if (!w->convert)
		return mdwriter_raw(w, p, n);
	for (i = 0; i < n; i++) {
		if (w->staged + 2 > MDWRITER_STAGE) {
			e = mdwriter_flush(w);
			if (e != FERR_NONE)
				return e;
		}
		if (w->pending_cr) {
			w->pending_cr = 0;
			if (p[i] != '\n')
				w->stage[w->staged++] = '\r';
		}
		if (p[i] == '\r') {
			w->pending_cr = 1;
			continue;
		}
		w->stage[w->staged++] = p[i];
	}
	return FERR_NONE;
}

enum ferr
mdwriter_finish(struct mdwriter *w)
{
	enum ferr e;

	if (w->convert) {
		if (w->pending_cr) {
			w->pending_cr = 0;
			w->stage[w->staged++] = '\r';
		}
		e = mdwriter_flush(w);
		if (e != FERR_NONE)
			return e;
	}
	if (fsync(w->fd) < 0)
		return ferr_from_errno(errno);
	if (close(w->fd) < 0) {
		w->fd = -1;
		return ferr_from_errno(errno);
	}
	w->fd = -1;
	free(w->stage);
	w->stage = NULL;
	return FERR_NONE;
}

void
mdwriter_abort(struct mdwriter *w)
{
	if (w->fd >= 0) {
		close(w->fd);
		w->fd = -1;
	}
	if (w->tmppath[0] != '\0')
		unlink(w->tmppath);
	w->tmppath[0] = '\0';
	free(w->stage);
	w->stage = NULL;
}

int
mdwriter_final_name(const struct mdwriter *w, char *dst, size_t dstlen)
{
	return spath(dst, dstlen, "%s,S=%" PRIu64 ",W=%" PRIu64, w->base,
	    w->size, w->vsize);
}

void
maildir_tmp_cleanup(const char *dir)
{
	char tmp[SPATH_MAX];
	struct dirent *de;
	time_t now = time(NULL);
	DIR *d;

	if (spath(tmp, sizeof(tmp), "%s/tmp", dir) < 0)
		return;
	d = opendir(tmp);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char path[SPATH_MAX];
		struct stat sb;

		if (de->d_name[0] == '.')
			continue;
		if (spath(path, sizeof(path), "%s/%s", tmp, de->d_name) < 0 ||
		    lstat(path, &sb) < 0 || !S_ISREG(sb.st_mode))
			continue;
		if (now - sb.st_mtime > MAILDIR_TMP_DELETE_SECS &&
		    now - sb.st_ctime > MAILDIR_TMP_DELETE_SECS)
			unlink(path);
	}
	closedir(d);
}

enum ferr
maildir_deliver(const char *maildir, const struct iovec *iov, int iovcnt,
    uint64_t quota, char *name_r, size_t namelen)
{
	struct mdwriter w;
	char final[SPATH_MAX], name[MDNAME_MAX + 1], newdir[SPATH_MAX];
	uint64_t total = 0;
	enum ferr e;
	int i;

	for (i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	if (quota != 0) {
		e = quota_check(maildir, quota, total, 1);
		if (e != FERR_NONE)
			return e;
	}
	if (atomic_fetch_add(&maildir_deliveries, 1) % 128 == 0)
		maildir_tmp_cleanup(maildir);
	e = mdwriter_open(&w, maildir, 0, 0);
	if (e != FERR_NONE)
		return e;
	for (i = 0; i < iovcnt; i++) {
		e = mdwriter_write(&w, iov[i].iov_base, iov[i].iov_len);
		if (e != FERR_NONE)
			goto fail;
	}
	e = mdwriter_finish(&w);
	if (e != FERR_NONE)
		goto fail;
	if (mdwriter_final_name(&w, name, sizeof(name)) < 0 ||
	    spath(final, sizeof(final), "%s/new/%s", maildir, name) < 0 ||
	    spath(newdir, sizeof(newdir), "%s/new", maildir) < 0) {
		e = FERR_INVALID;
		goto fail;
	}
	if (rename(w.tmppath, final) < 0) {
		e = ferr_from_errno(errno);
		goto fail;
	}
	w.tmppath[0] = '\0';
	if (fs_fsync_dir(newdir) < 0) {
		e = ferr_from_errno(errno);
		unlink(final);
		goto fail;
	}
	quota_update(maildir, (int64_t)w.size, 1);
	if (str_copy(name_r, name, namelen) >= namelen)
		log_warn("store deliver: name buffer too small");
	store_notify_signal(maildir);
	return FERR_NONE;
fail:
	mdwriter_abort(&w);
	if (e == FERR_NONE)
		e = FERR_INTERNAL;
	return e;
}
