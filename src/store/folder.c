/*
 * folder - a user's Maildir++ folders: open the store, check names, list,
 * create, delete, rename, subscriptions, quota (mailbox.h "User store").
 *
 * Input: mailbox names from IMAP clients, checked by mstore_name_check()
 * so that no name can leave the Maildir ("..", "/", "~", control bytes)
 * and every name maps to exactly one ".Name" directory. Directory
 * entries read back are checked the same way and skipped when invalid.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "core/log.h"
#include "core/str.h"
#include "core/xmalloc.h"
#include "store/mailbox.h"
#include "store/mstore_int.h"
#include "store/quota.h"
#include "store/subs.h"
#include "store/uidlist.h"
#include "store/utf7.h"

static atomic_uint folder_trash_counter;

enum ferr
mstore_open(const char *root, uint64_t quota_bytes, struct mstore **st_r)
{
	struct mstore *st;
	struct stat sb;

	*st_r = NULL;
	if (stat(root, &sb) < 0)
		return errno == ENOENT ? FERR_NOTFOUND : ferr_from_errno(errno);
	if (!S_ISDIR(sb.st_mode))
		return FERR_NOTFOUND;
	st = xcalloc(1, sizeof(*st));
	if (str_copy(st->root, root, sizeof(st->root)) >= sizeof(st->root)) {
		free(st);
		return FERR_INVALID;
	}
	st->quota = quota_bytes;
	*st_r = st;
	return FERR_NONE;
}

void
mstore_close(struct mstore **stp)
{
	free(*stp);
	*stp = NULL;
}

const char *
mstore_root(const struct mstore *st)
{
	return st->root;
}

bool
mstore_name_is_inbox(const char *name)
{
	return str_ieq(name, "INBOX");
}

int
mstore_name_check(const char *name, const char **why_r)
{
	size_t n, i, level = 0, depth = 1;

	*why_r = NULL;
	if (mstore_name_is_inbox(name))
		return 0;
	n = strnlen(name, MSTORE_NAME_MAX + 1);
	if (n == 0) {
		*why_r = "Empty mailbox name";
		return -1;
	}
	if (n > MSTORE_NAME_MAX) {
		*why_r = "Mailbox name too long";
		return -1;
	}
	if (name[0] == '~') {
		*why_r = "Mailbox name may not start with '~'";
		return -1;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 0x20 || c == 0x7f) {
			*why_r = "Control characters not allowed in "
			    "mailbox names";
			return -1;
		}
		if (c >= 0x80) {
			*why_r = "8-bit characters not allowed in mailbox "
			    "names (use modified UTF-7)";
			return -1;
		}
		if (c == '/' || c == '\\') {
			*why_r = "Characters '/' and '\\' not allowed in "
			    "mailbox names";
			return -1;
		}
		if (c == '*' || c == '%') {
			*why_r = "Wildcards not allowed in mailbox names";
			return -1;
		}
		if (c == '.') {
			if (level == 0) {
				*why_r = "Empty hierarchy level in mailbox "
				    "name";
				return -1;
			}
			level = 0;
			depth++;
			continue;
		}
		level++;
	}
	if (level == 0) {
		*why_r = "Empty hierarchy level in mailbox name";
		return -1;
	}
	if (depth > MSTORE_DEPTH_MAX) {
		*why_r = "Mailbox hierarchy too deep";
		return -1;
	}
	if (!utf7_valid(name)) {
		*why_r = "Invalid modified UTF-7 in mailbox name";
		return -1;
	}
	return 0;
}

void
folder_disk_name(const char *name, char *dst, size_t dstlen)
{
	if (str_ieqn(name, "INBOX.", 6)) {
		if (spath(dst, dstlen, "INBOX.%s", name + 6) < 0 &&
		    dstlen > 0)
			dst[0] = '\0';
		return;
	}
	str_copy(dst, name, dstlen);
}

enum ferr
mstore_folder_path(const struct mstore *st, const char *name, char *dst,
    size_t dstlen)
{
	char disk[MSTORE_NAME_MAX + 1];
	const char *why;

	if (mstore_name_check(name, &why) < 0)
		return FERR_INVALID;
	if (mstore_name_is_inbox(name)) {
		if (str_copy(dst, st->root, dstlen) >= dstlen)
			return FERR_INVALID;
		return FERR_NONE;
	}
	folder_disk_name(name, disk, sizeof(disk));
	if (spath(dst, dstlen, "%s/.%s", st->root, disk) < 0)
		return FERR_INVALID;
	return FERR_NONE;
}

enum ferr
folder_make(const char *root, const char *dir, bool is_root)
{
	/*
	 * cur/ last: store_user_ensure() takes an existing cur/ to mean a
	 * complete Maildir, so a delivery racing with the first one must
	 * never find cur/ before tmp/ and new/ exist.
	 */
	static const char *const subs[] = { "tmp", "new", "cur" };
	char path[SPATH_MAX];
	size_t i;
	int fd;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return ferr_from_errno(errno);
	for (i = 0; i < 3; i++) {
		if (spath(path, sizeof(path), "%s/%s", dir, subs[i]) < 0)
			return FERR_INVALID;
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			return ferr_from_errno(errno);
	}
	if (!is_root) {
		if (spath(path, sizeof(path), "%s/maildirfolder", dir) < 0)
			return FERR_INVALID;
		fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return ferr_from_errno(errno);
		close(fd);
	}
	if (spath(path, sizeof(path), "%s/dovecot-uidlist", dir) < 0)
		return FERR_INVALID;
	if (access(path, F_OK) < 0)
		return uidlist_create(dir, uidvalidity_next(root));
	return FERR_NONE;
}

int
mstore_exists(struct mstore *st, const char *name)
{
	char path[SPATH_MAX];
	struct stat sb;

	if (mstore_name_is_inbox(name))
		return 1;
	if (mstore_folder_path(st, name, path, sizeof(path)) != FERR_NONE)
		return -1;
	if (stat(path, &sb) < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	return S_ISDIR(sb.st_mode) ? 1 : 0;
}

enum ferr
mstore_create(struct mstore *st, const char *name, const char **why_r)
{
	char path[SPATH_MAX], nm[MSTORE_NAME_MAX + 2];
	size_t n;
	struct stat sb;

	*why_r = NULL;
	if (str_copy(nm, name, sizeof(nm)) >= sizeof(nm)) {
		*why_r = "Mailbox name too long";
		return FERR_INVALID;
	}
	n = strlen(nm);
	if (n > 1 && nm[n - 1] == '.')
		nm[n - 1] = '\0';	/* RFC 3501 6.3.3: "foo." */
	if (mstore_name_is_inbox(nm)) {
		*why_r = "Mailbox already exists";
		return FERR_EXISTS;
	}
	if (mstore_name_check(nm, why_r) < 0)
		return FERR_INVALID;
	if (mstore_folder_path(st, nm, path, sizeof(path)) != FERR_NONE)
		return FERR_INVALID;
	if (mkdir(path, 0700) < 0) {
		if (errno == EEXIST && stat(path, &sb) == 0) {
			*why_r = "Mailbox already exists";
			return FERR_EXISTS;
		}
		return ferr_from_errno(errno);
	}
	return folder_make(st->root, path, false);
}

/* Collected directory names (IMAP form) for list/rename. */
struct folder_names {
	char	**v;
	size_t	  n;
	size_t	  cap;
};

static void
folder_names_add(struct folder_names *fn, const char *s, size_t len)
{
	if (fn->n == fn->cap) {
		fn->cap = fn->cap == 0 ? 32 : fn->cap * 2;
		fn->v = xreallocarray(fn->v, fn->cap, sizeof(*fn->v));
	}
	fn->v[fn->n++] = xstrndup(s, len);
}

static void
folder_names_free(struct folder_names *fn)
{
	size_t i;

	for (i = 0; i < fn->n; i++)
		free(fn->v[i]);
	free(fn->v);
	memset(fn, 0, sizeof(*fn));
}

static int
folder_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read the folder directories of root (valid names only). */
static enum ferr
folder_scan(const char *root, struct folder_names *fn)
{
	struct dirent *de;
	DIR *d = opendir(root);

	if (d == NULL)
		return ferr_from_errno(errno);
	while ((de = readdir(d)) != NULL) {
		const char *why;
		char path[SPATH_MAX];
		struct stat sb;

		if (de->d_name[0] != '.' || de->d_name[1] == '\0' ||
		    de->d_name[1] == '.')
			continue;
		if (mstore_name_check(de->d_name + 1, &why) < 0 ||
		    mstore_name_is_inbox(de->d_name + 1))
			continue;
		if (de->d_type != DT_DIR) {
			if (spath(path, sizeof(path), "%s/%s", root,
			    de->d_name) < 0 || stat(path, &sb) < 0 ||
			    !S_ISDIR(sb.st_mode))
				continue;
		}
		folder_names_add(fn, de->d_name + 1, strlen(de->d_name + 1));
	}
	closedir(d);
	return FERR_NONE;
}

/* Lower bound of key in sorted v. */
static size_t
folder_lbound(char *const *v, size_t n, const char *key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(v[mid], key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static const char *
folder_special(const char *name)
{
	static const char *const map[][2] = {
		{ "Drafts", "\\Drafts" }, { "Sent", "\\Sent" },
		{ "Junk", "\\Junk" }, { "Trash", "\\Trash" },
		{ "Archive", "\\Archive" },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (strcmp(name, map[i][0]) == 0)
			return map[i][1];
	}
	return NULL;
}

enum ferr
mstore_list(struct mstore *st, struct mstore_folder **list_r, size_t *count_r)
{
	struct folder_names fn = { 0 }, all = { 0 };
	struct mstore_folder *out;
	char **subs = NULL;
	size_t nsubs = 0, i;
	int version;
	enum ferr e;

	*list_r = NULL;
	*count_r = 0;
	e = folder_scan(st->root, &fn);
	if (e != FERR_NONE)
		return e;
	if (subs_read(st->root, &subs, &nsubs, &version) != FERR_NONE)
		nsubs = 0;
	if (nsubs > 1)
		qsort(subs, nsubs, sizeof(*subs), folder_strcmp);
	/* add missing parents: "a" and "a.b" for "a.b.c" */
	for (i = 0; i < fn.n; i++) {
		const char *s = fn.v[i], *dot;

		folder_names_add(&all, s, strlen(s));
		for (dot = strchr(s, '.'); dot != NULL;
		    dot = strchr(dot + 1, '.'))
			folder_names_add(&all, s, (size_t)(dot - s));
	}
	folder_names_free(&fn);
	if (all.n > 0)
		qsort(all.v, all.n, sizeof(*all.v), folder_strcmp);
	out = xcalloc(all.n + 1, sizeof(*out));
	out[0].name = xstrdup("INBOX");
	*count_r = 1;
	for (i = 0; i < all.n; i++) {
		char key[MSTORE_NAME_MAX + 2];
		size_t k;
		int real = 0;

		if (i > 0 && strcmp(all.v[i], all.v[i - 1]) == 0)
			continue;
		/* parents may have been added many times; a folder is
		 * real if its directory exists */
		{
			char path[SPATH_MAX];
			struct stat sb;

			if (spath(path, sizeof(path), "%s/.%s", st->root,
			    all.v[i]) == 0 && stat(path, &sb) == 0 &&
			    S_ISDIR(sb.st_mode))
				real = 1;
		}
		if (mstore_name_is_inbox(all.v[i]))
			continue;
		out[*count_r].name = xstrdup(all.v[i]);
		out[*count_r].attrs = real ? 0 : MSTORE_A_NOSELECT;
		out[*count_r].special = folder_special(all.v[i]);
		if (spath(key, sizeof(key), "%s.", all.v[i]) == 0) {
			k = folder_lbound(all.v, all.n, key);
			if (k < all.n &&
			    strncmp(all.v[k], key, strlen(key)) == 0)
				out[*count_r].attrs |= MSTORE_A_HASCHILDREN;
		}
		(*count_r)++;
	}
	/* INBOX children are ".INBOX.x" */
	{
		size_t k = folder_lbound(all.v, all.n, "INBOX.");

		if (k < all.n && strncmp(all.v[k], "INBOX.", 6) == 0)
			out[0].attrs |= MSTORE_A_HASCHILDREN;
	}
	for (i = 0; i < *count_r; i++) {
		size_t k = folder_lbound(subs, nsubs, out[i].name);

		if (k < nsubs && strcmp(subs[k], out[i].name) == 0)
			out[i].attrs |= MSTORE_A_SUBSCRIBED;
	}
	folder_names_free(&all);
	subs_free(&subs, nsubs);
	*list_r = out;
	return FERR_NONE;
}

void
mstore_list_free(struct mstore_folder **listp, size_t count)
{
	size_t i;

	if (*listp == NULL)
		return;
	for (i = 0; i < count; i++)
		free((*listp)[i].name);
	free(*listp);
	*listp = NULL;
}

/* Move a directory out of sight and remove it; returns its usage. */
static enum ferr
folder_remove_dir(const char *root, const char *path)
{
	char trash[SPATH_MAX];
	int64_t bytes = 0, count = 0;

	if (spath(trash, sizeof(trash), "%s/..facteur-deleted.%ld.%u", root,
	    (long)getpid(), atomic_fetch_add(&folder_trash_counter, 1)) < 0)
		return FERR_INVALID;
	if (rename(path, trash) < 0)
		return errno == ENOENT ? FERR_NOTFOUND : ferr_from_errno(errno);
	quota_folder_usage(trash, &bytes, &count);
	if (fs_rm_rf(trash) < 0)
		log_warn("store delete: cannot remove %s errno=%d", trash,
		    errno);
	if (count > 0)
		quota_update(root, -bytes, -count);
	return FERR_NONE;
}

enum ferr
mstore_delete(struct mstore *st, const char *name, const char **why_r)
{
	char path[SPATH_MAX];
	enum ferr e;

	*why_r = NULL;
	if (mstore_name_is_inbox(name)) {
		*why_r = "INBOX can't be deleted";
		return FERR_PERM;
	}
	if (mstore_name_check(name, why_r) < 0)
		return FERR_INVALID;
	e = mstore_folder_path(st, name, path, sizeof(path));
	if (e != FERR_NONE)
		return e;
	e = folder_remove_dir(st->root, path);
	if (e == FERR_NOTFOUND)
		*why_r = "Mailbox doesn't exist";
	if (e == FERR_NONE)
		store_notify_signal(path);
	return e;
}

/* Move every message file of INBOX (cur/ and new/) into folder dir. */
static enum ferr
folder_move_inbox(const char *root, const char *dir)
{
	static const char *const subs[] = { "cur", "new" };
	size_t i;

	for (i = 0; i < 2; i++) {
		char from[SPATH_MAX], to[SPATH_MAX];
		struct dirent *de;
		DIR *d;

		if (spath(from, sizeof(from), "%s/%s", root, subs[i]) < 0)
			return FERR_INVALID;
		d = opendir(from);
		if (d == NULL)
			return ferr_from_errno(errno);
		while ((de = readdir(d)) != NULL) {
			char a[SPATH_MAX], b[SPATH_MAX];

			if (de->d_name[0] == '.')
				continue;
			if (spath(a, sizeof(a), "%s/%s", from,
			    de->d_name) < 0 ||
			    spath(b, sizeof(b), "%s/%s/%s", dir, subs[i],
			    de->d_name) < 0)
				continue;
			if (rename(a, b) < 0 && errno != ENOENT) {
				int saved = errno;

				closedir(d);
				return ferr_from_errno(saved);
			}
		}
		closedir(d);
		if (spath(to, sizeof(to), "%s/%s", dir, subs[i]) == 0)
			(void)fs_fsync_dir(to);
	}
	return FERR_NONE;
}

enum ferr
mstore_rename(struct mstore *st, const char *from, const char *to,
    const char **why_r)
{
	char fdisk[MSTORE_NAME_MAX + 1], tdisk[MSTORE_NAME_MAX + 1];
	char path[SPATH_MAX];
	struct folder_names fn = { 0 };
	struct stat sb;
	size_t i, flen, nmove = 0;
	enum ferr e;

	*why_r = NULL;
	if (mstore_name_check(from, why_r) < 0 ||
	    mstore_name_check(to, why_r) < 0)
		return FERR_INVALID;
	if (mstore_name_is_inbox(to)) {
		*why_r = "Target mailbox already exists";
		return FERR_EXISTS;
	}
	if (mstore_name_is_inbox(from)) {
		e = mstore_create(st, to, why_r);
		if (e != FERR_NONE)
			return e;
		if (mstore_folder_path(st, to, path, sizeof(path)) != FERR_NONE)
			return FERR_INVALID;
		e = folder_move_inbox(st->root, path);
		store_notify_signal(st->root);
		return e;
	}
	folder_disk_name(from, fdisk, sizeof(fdisk));
	folder_disk_name(to, tdisk, sizeof(tdisk));
	flen = strlen(fdisk);
	if (strncmp(tdisk, fdisk, flen) == 0 &&
	    (tdisk[flen] == '.' || tdisk[flen] == '\0')) {
		*why_r = strcmp(tdisk, fdisk) == 0 ?
		    "Target mailbox already exists" :
		    "Can't rename mailbox under itself";
		return tdisk[flen] == '\0' ? FERR_EXISTS : FERR_INVALID;
	}
	e = folder_scan(st->root, &fn);
	if (e != FERR_NONE)
		return e;
	/* the source and its children; check every target first */
	for (i = 0; i < fn.n; i++) {
		const char *s = fn.v[i];
		char target[SPATH_MAX];

		if (strncmp(s, fdisk, flen) != 0 ||
		    (s[flen] != '\0' && s[flen] != '.'))
			continue;
		if (strlen(tdisk) + strlen(s + flen) > MSTORE_NAME_MAX ||
		    spath(target, sizeof(target), "%s/.%s%s", st->root,
		    tdisk, s + flen) < 0) {
			*why_r = "Mailbox name too long";
			folder_names_free(&fn);
			return FERR_INVALID;
		}
		if (lstat(target, &sb) == 0) {
			*why_r = "Target mailbox already exists";
			folder_names_free(&fn);
			return FERR_EXISTS;
		}
		nmove++;
	}
	if (nmove == 0) {
		folder_names_free(&fn);
		*why_r = "Mailbox doesn't exist";
		return FERR_NOTFOUND;
	}
	for (i = 0; i < fn.n; i++) {
		const char *s = fn.v[i];
		char src[SPATH_MAX], dst[SPATH_MAX];

		if (strncmp(s, fdisk, flen) != 0 ||
		    (s[flen] != '\0' && s[flen] != '.'))
			continue;
		if (spath(src, sizeof(src), "%s/.%s", st->root, s) < 0 ||
		    spath(dst, sizeof(dst), "%s/.%s%s", st->root, tdisk,
		    s + flen) < 0)
			continue;
		if (rename(src, dst) < 0) {
			e = ferr_from_errno(errno);
			log_warn("store rename %s failed errno=%d", src, errno);
			break;
		}
		store_notify_signal(src);
	}
	folder_names_free(&fn);
	return e;
}

enum ferr
mstore_subscriptions(struct mstore *st, char ***names_r, size_t *count_r)
{
	int version;

	return subs_read(st->root, names_r, count_r, &version);
}

void
mstore_strings_free(char ***namesp, size_t count)
{
	subs_free(namesp, count);
}

enum ferr
mstore_subscribe(struct mstore *st, const char *name, bool on)
{
	char disk[MSTORE_NAME_MAX + 1];
	const char *why;

	if (mstore_name_check(name, &why) < 0)
		return FERR_INVALID;
	if (mstore_name_is_inbox(name))
		return subs_set(st->root, "INBOX", on);
	folder_disk_name(name, disk, sizeof(disk));
	return subs_set(st->root, disk, on);
}

enum ferr
mstore_quota(struct mstore *st, uint64_t *bytes_used_r,
    uint64_t *bytes_limit_r, uint64_t *count_used_r, uint64_t *count_limit_r)
{
	struct quota_state q;
	enum ferr e;

	e = quota_get(st->root, st->quota, &q);
	if (e != FERR_NONE)
		return e;
	*bytes_used_r = q.bytes > 0 ? (uint64_t)q.bytes : 0;
	*count_used_r = q.count > 0 ? (uint64_t)q.count : 0;
	*bytes_limit_r = st->quota;
	*count_limit_r = q.count_limit;
	return FERR_NONE;
}

enum ferr
mstore_quota_check(struct mstore *st, uint64_t bytes)
{
	return quota_check(st->root, st->quota, bytes, 1);
}
