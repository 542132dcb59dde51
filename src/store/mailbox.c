/*
 * mailbox - views of one Maildir folder: sync with the disk (UIDs from
 * dovecot-uidlist, new/ -> cur/), changes since the previous sync, flags,
 * expunge, copy, move, APPEND and STATUS (see mailbox.h).
 *
 * Input: directory entries and the uidlist, which other sessions and
 * processes (Dovecot, the CLI) change at any time: names are parsed with
 * mdname_parse() and skipped when invalid; a file gone between readdir
 * and open is normal (we look for its key again, else it was expunged).
 *
 * Cost: a warm sync of an unchanged folder is three stat(2)s (new/, cur/,
 * dovecot-keywords) plus the uidlist's; a changed folder costs a readdir
 * of new/ and cur/ and, when the uidlist changed, a re-read of it (not of
 * the messages). Records are matched to the uidlist with a hash table and
 * merged with the previous view in UID order: O(n).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/str.h"
#include "core/strnum.h"
#include "core/xmalloc.h"
#include "store/dotlock.h"
#include "store/keywords.h"
#include "store/mailbox.h"
#include "store/mdname.h"
#include "store/mstore_int.h"
#include "store/quota.h"
#include "store/uidlist.h"

#define SIZE_UNKNOWN	UINT64_MAX

/* record state bits */
#define R_IN_NEW	0x01	/* the file is in new/ */
#define R_GONE		0x02	/* vanished, kept by NO_EXPUNGE */
#define R_EXPUNGED	0x04	/* expunged by this view */

struct mrec {
	uint32_t	 uid;
	uint32_t	 kw;
	uint64_t	 size;
	uint64_t	 vsize;
	int64_t		 mtime;		/* 0: not known yet */
	const char	*name;		/* file name in new/ or cur/ */
	uint16_t	 keylen;
	uint8_t		 flags;		/* MBOX_F_* */
	uint8_t		 state;		/* R_* */
};

struct mbox {
	struct mstore	*st;
	char		 name[MSTORE_NAME_MAX + 1];
	char		 path[SPATH_MAX];
	unsigned	 oflags;
	struct mrec	*recs;
	uint32_t	 n;
	struct spool	 pool;
	uint32_t	 uidvalidity;
	uint32_t	 uidnext;
	struct keywords	 kw;
	uint32_t	 kw_mask;	/* indexes that have a name */
	struct stat	 kw_sb;
	struct uidlist	 ul;
	struct stat	 ul_sb;
	int		 ul_loaded;
	struct timespec	 new_mtime;
	struct timespec	 cur_mtime;
	int		 new_ok;	/* new_mtime trusted */
	int		 cur_ok;	/* cur_mtime trusted */
	int		 pending;	/* R_EXPUNGED/R_GONE records */
	int		 fresh;		/* being opened */
};

/* A directory entry found by a scan. */
struct sent {
	const char	*name;
	uint32_t	 keylen;
	uint32_t	 uid;
	uint8_t		 in_new;
	uint8_t		 used;
};

struct scan {
	struct sent	*v;
	size_t		 n;
	size_t		 cap;
	struct spool	 pool;
	int		 stable;	/* both dirs held still */
	int		 new_stable;
	int		 cur_stable;
	int		 partial;	/* a dir taken from the view */
	struct timespec	 new_mtime;
	struct timespec	 cur_mtime;
};

/* ------------------------------------------------------------------ */
/* hash of keys -> index                                               */

struct khash {
	uint32_t	*slot;		/* index + 1, 0 = empty */
	uint32_t	*hash;		/* full hash of the slot's key */
	size_t		 mask;
};

/* FNV-1a with a final avalanche (murmur3 fmix32) for the low bits. */
static uint32_t
khash_fn(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

static void
khash_init(struct khash *h, size_t n)
{
	size_t size = 16;

	while (size < n * 2)
		size *= 2;
	h->slot = xcalloc(size, sizeof(*h->slot));
	h->hash = xcalloc(size, sizeof(*h->hash));
	h->mask = size - 1;
}

static void
khash_free(struct khash *h)
{
	free(h->slot);
	free(h->hash);
	h->slot = NULL;
	h->hash = NULL;
}

/* Insert uidlist record i (keys are whole record names). */
static void
khash_put(struct khash *h, const struct uidlist *ul, size_t i)
{
	const char *k = ul->recs[i].name;
	uint32_t hv = khash_fn(k, strlen(k));
	size_t pos = hv & h->mask;

	while (h->slot[pos] != 0) {
		if (h->hash[pos] == hv &&
		    strcmp(ul->recs[h->slot[pos] - 1].name, k) == 0)
			return;	/* duplicate key: first wins */
		pos = (pos + 1) & h->mask;
	}
	h->slot[pos] = (uint32_t)i + 1;
	h->hash[pos] = hv;
}

/* Find key (n bytes) among uidlist records: index or -1. */
static long
khash_get(const struct khash *h, const struct uidlist *ul, const char *k,
    size_t n)
{
	uint32_t hv = khash_fn(k, n);
	size_t pos = hv & h->mask;

	while (h->slot[pos] != 0) {
		if (h->hash[pos] == hv) {
			const char *r = ul->recs[h->slot[pos] - 1].name;

			if (memcmp(r, k, n) == 0 && r[n] == '\0')
				return (long)h->slot[pos] - 1;
		}
		pos = (pos + 1) & h->mask;
	}
	return -1;
}

static void
khash_build(struct khash *h, const struct uidlist *ul)
{
	size_t i;

	khash_init(h, ul->n);
	for (i = 0; i < ul->n; i++)
		khash_put(h, ul, i);
}

/* ------------------------------------------------------------------ */
/* directory scans                                                     */

static int
ts_eq(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

static int
mbox_dir_mtime(const char *dir, const char *sub, struct timespec *ts)
{
	char path[SPATH_MAX];
	struct stat sb;

	if (spath(path, sizeof(path), "%s/%s", dir, sub) < 0 ||
	    stat(path, &sb) < 0)
		return -1;
	*ts = sb.st_mtim;
	return 0;
}

/*
 * Was mtime m set long enough before now that any later change gets a
 * different mtime? File systems with nanosecond stamps tick with the
 * kernel's coarse clock (a few ms): 50 ms is ample. Whole-second stamps
 * (nsec 0) need a full second.
 */
static int
mbox_stamp_old(const struct timespec *now, const struct timespec *m)
{
	int64_t d = ((int64_t)now->tv_sec - (int64_t)m->tv_sec) * 1000000000 +
	    ((int64_t)now->tv_nsec - (int64_t)m->tv_nsec);

	if (m->tv_nsec == 0)
		return d > 1100000000LL;
	return d > 50000000LL;
}

static void
scan_free(struct scan *sc)
{
	free(sc->v);
	spool_free(&sc->pool);
	memset(sc, 0, sizeof(*sc));
}

static enum ferr
scan_dir(struct scan *sc, const char *dir, const char *sub, int in_new)
{
	char path[SPATH_MAX];
	struct dirent *de;
	DIR *d;

	if (spath(path, sizeof(path), "%s/%s", dir, sub) < 0)
		return FERR_INVALID;
	d = opendir(path);
	if (d == NULL)
		return errno == ENOENT ? FERR_NOTFOUND : ferr_from_errno(errno);
	while ((de = readdir(d)) != NULL) {
		struct mdname mn;
		struct sent *e;

		if (de->d_name[0] == '.')
			continue;
		if (mdname_parse(de->d_name, &mn) < 0)
			continue;
		if (sc->n == sc->cap) {
			sc->cap = sc->cap == 0 ? 256 : sc->cap * 2;
			sc->v = xreallocarray(sc->v, sc->cap, sizeof(*sc->v));
		}
		e = &sc->v[sc->n++];
		e->name = spool_add(&sc->pool, de->d_name, strlen(de->d_name));
		e->keylen = (uint32_t)mn.keylen;
		e->uid = 0;
		e->in_new = (uint8_t)in_new;
		e->used = 0;
	}
	closedir(d);
	return FERR_NONE;
}

/*
 * Entries of one directory taken from the view instead of readdir: the
 * directory's mtime has not moved since the view's trusted scan.
 */
static void
scan_from_view(struct scan *sc, const struct mbox *mb, int in_new)
{
	uint32_t i;

	for (i = 0; i < mb->n; i++) {
		const struct mrec *r = &mb->recs[i];
		struct sent *e;

		if (r->state & (R_GONE | R_EXPUNGED))
			continue;
		if (((r->state & R_IN_NEW) != 0) != (in_new != 0))
			continue;
		if (sc->n == sc->cap) {
			sc->cap = sc->cap == 0 ? 256 : sc->cap * 2;
			sc->v = xreallocarray(sc->v, sc->cap, sizeof(*sc->v));
		}
		e = &sc->v[sc->n++];
		e->name = spool_add(&sc->pool, r->name, strlen(r->name));
		e->keylen = r->keylen;
		e->uid = r->uid;
		e->in_new = (uint8_t)in_new;
		e->used = 0;
	}
}

/*
 * Scan new/ and cur/ of dir. With a view whose stamps are trusted (and
 * not forced), a directory whose mtime did not move is taken from the
 * view: a delivery costs a readdir of new/ only.
 */
static enum ferr
scan_folder(struct scan *sc, const struct mbox *mb, const char *dir,
    int force)
{
	struct timespec n2, c2, start;
	enum ferr e = FERR_NONE;
	int keep_new, keep_cur;

	memset(sc, 0, sizeof(*sc));
	clock_gettime(CLOCK_REALTIME, &start);
	if (mbox_dir_mtime(dir, "new", &sc->new_mtime) < 0 ||
	    mbox_dir_mtime(dir, "cur", &sc->cur_mtime) < 0)
		return errno == ENOENT ? FERR_NOTFOUND : ferr_from_errno(errno);
	keep_new = !force && mb != NULL && mb->new_ok &&
	    ts_eq(&sc->new_mtime, &mb->new_mtime);
	keep_cur = !force && mb != NULL && mb->cur_ok &&
	    ts_eq(&sc->cur_mtime, &mb->cur_mtime);
	sc->partial = keep_new || keep_cur;
	if (keep_new)
		scan_from_view(sc, mb, 1);
	else
		e = scan_dir(sc, dir, "new", 1);
	if (e == FERR_NONE) {
		if (keep_cur)
			scan_from_view(sc, mb, 0);
		else
			e = scan_dir(sc, dir, "cur", 0);
	}
	if (e != FERR_NONE) {
		scan_free(sc);
		return e;
	}
	/* unchanged mtimes prove nothing if they are so recent that a
	 * change during the scan could have kept the same clock tick */
	sc->new_stable = mbox_dir_mtime(dir, "new", &n2) == 0 &&
	    ts_eq(&n2, &sc->new_mtime) && mbox_stamp_old(&start, &n2);
	sc->cur_stable = mbox_dir_mtime(dir, "cur", &c2) == 0 &&
	    ts_eq(&c2, &sc->cur_mtime) && mbox_stamp_old(&start, &c2);
	sc->stable = sc->new_stable && sc->cur_stable;
	return FERR_NONE;
}

/* Leading decimal number of s (at most n bytes), and bytes used. */
static uint64_t
key_num(const char *s, size_t n, size_t *used)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n && i < 19 && s[i] >= '0' && s[i] <= '9'; i++)
		v = v * 10 + (uint64_t)(s[i] - '0');
	*used = i;
	return v;
}

/*
 * Order new files as Dovecot does: by the delivery second, then the
 * microsecond of "<sec>.M<usec>...", then by the whole key; equal keys
 * (only) compare equal, so they are adjacent after sorting.
 */
static int
sent_keycmp(const void *a, const void *b)
{
	const struct sent *x = *(const struct sent *const *)a;
	const struct sent *y = *(const struct sent *const *)b;
	size_t n = x->keylen < y->keylen ? x->keylen : y->keylen;
	size_t ux, uy;
	uint64_t vx, vy;
	int c;

	vx = key_num(x->name, x->keylen, &ux);
	vy = key_num(y->name, y->keylen, &uy);
	if (ux > 0 && uy > 0 && vx != vy)
		return vx < vy ? -1 : 1;
	if (ux > 0 && uy > 0 && ux + 2 < x->keylen && uy + 2 < y->keylen &&
	    memcmp(x->name + ux, ".M", 2) == 0 &&
	    memcmp(y->name + uy, ".M", 2) == 0) {
		size_t ex, ey;

		vx = key_num(x->name + ux + 2, x->keylen - ux - 2, &ex);
		vy = key_num(y->name + uy + 2, y->keylen - uy - 2, &ey);
		if (ex > 0 && ey > 0 && vx != vy)
			return vx < vy ? -1 : 1;
	}
	c = memcmp(x->name, y->name, n);

	if (c != 0)
		return c;
	return x->keylen < y->keylen ? -1 : x->keylen > y->keylen;
}

/* ------------------------------------------------------------------ */
/* uidlist access                                                      */

/* Write ul through the held lock. */
static enum ferr
uidlist_write_locked(struct dotlock *l, const struct uidlist *ul)
{
	struct buf b;
	enum ferr e;

	buf_init(&b, UIDLIST_MAX_SIZE);
	if (uidlist_format(ul, &b) < 0) {
		buf_free(&b);
		dotlock_release(l);
		return FERR_LIMIT;
	}
	e = dotlock_replace(l, b.data, b.len);
	buf_free(&b);
	return e;
}

/*
 * Read the uidlist of dir under the held lock into ul (fresh), creating
 * a new one in memory (not yet written) when missing or corrupt.
 */
static enum ferr
uidlist_load_locked(const char *root, const char *dir, struct uidlist *ul,
    int *created_r)
{
	const char *why;
	int rc;

	*created_r = 0;
	uidlist_free(ul);
	rc = uidlist_read(dir, ul, NULL, &why);
	if (rc == 1)
		return FERR_NONE;
	if (rc < 0 && why == NULL)
		return ferr_from_errno(errno);
	if (rc < 0)
		log_warn("store uidlist corrupt dir=%s why=\"%s\": recreated "
		    "with a new UIDVALIDITY", dir, why);
	uidlist_free(ul);
	ul->uidvalidity = uidvalidity_next(root);
	uidlist_new_guid(ul->guid);
	*created_r = 1;
	return FERR_NONE;
}

static enum ferr
uidlist_lock_dir(const char *dir, struct dotlock *l)
{
	char path[SPATH_MAX];

	if (spath(path, sizeof(path), "%s/dovecot-uidlist", dir) < 0)
		return FERR_INVALID;
	return dotlock_take(l, path, DOTLOCK_STALE_SECS, DOTLOCK_WAIT_MS);
}

enum ferr
folder_place(const char *root, const char *dir,
    const struct place_item *items, size_t n, uint32_t *uids_r,
    uint32_t *uidvalidity_r)
{
	struct uidlist ul;
	struct dotlock l;
	enum ferr e;
	size_t i, done = 0;
	int created;

	e = uidlist_lock_dir(dir, &l);
	if (e != FERR_NONE)
		return e;
	uidlist_init(&ul);
	e = uidlist_load_locked(root, dir, &ul, &created);
	if (e != FERR_NONE)
		goto fail;
	for (i = 0; i < n; i++) {
		char to[SPATH_MAX];
		int rc;

		if (spath(to, sizeof(to), "%s/%s/%s", dir, items[i].sub,
		    items[i].name) < 0) {
			e = FERR_INVALID;
			goto undo;
		}
		rc = items[i].link ? link(items[i].from, to) :
		    rename(items[i].from, to);
		if (rc < 0) {
			e = ferr_from_errno(errno);
			goto undo;
		}
		done++;
	}
	for (i = 0; i < n; i++) {
		const char *colon = strchr(items[i].name, ':');
		size_t klen = colon != NULL ? (size_t)(colon - items[i].name) :
		    strlen(items[i].name);

		uids_r[i] = ul.nextuid;
		if (ul.nextuid == UINT32_MAX ||
		    uidlist_append_rec(&ul, ul.nextuid, items[i].name, klen,
		    NULL) < 0) {
			e = FERR_LIMIT;
			goto undo;
		}
	}
	*uidvalidity_r = ul.uidvalidity;
	e = uidlist_write_locked(&l, &ul);
	uidlist_free(&ul);
	if (e != FERR_NONE) {
		log_error("store uidlist write failed dir=%s error=%s", dir,
		    ferr_name(e));
		return e;
	}
	return FERR_NONE;
undo:
	while (done > 0) {
		char to[SPATH_MAX];

		done--;
		if (spath(to, sizeof(to), "%s/%s/%s", dir, items[done].sub,
		    items[done].name) < 0)
			continue;
		if (items[done].link)
			unlink(to);
		else
			(void)rename(to, items[done].from);
	}
fail:
	uidlist_free(&ul);
	dotlock_release(&l);
	return e;
}

/* ------------------------------------------------------------------ */
/* views                                                               */

static void
mbox_rec_from_name(struct mrec *r, const char *name, int in_new)
{
	struct mdname mn;

	r->name = name;
	r->size = SIZE_UNKNOWN;
	r->vsize = SIZE_UNKNOWN;
	r->mtime = 0;
	r->flags = 0;
	r->kw = 0;
	r->state = in_new ? R_IN_NEW : 0;
	if (mdname_parse(name, &mn) < 0)
		return;
	r->keylen = (uint16_t)mn.keylen;
	if (mn.has_size)
		r->size = mn.size;
	if (mn.has_vsize)
		r->vsize = mn.vsize;
	r->flags = (uint8_t)mn.flags;
	r->kw = mn.keywords;
}

/*
 * Indexes Dovecot left without a name get "" so callers can print the
 * list without NULL checks; their bits are masked out of messages.
 */
static void
mbox_kw_fixup(struct mbox *mb)
{
	size_t i;

	mb->kw_mask = 0;
	for (i = 0; i < mb->kw.count; i++) {
		if (mb->kw.names[i] != NULL && mb->kw.names[i][0] != '\0')
			mb->kw_mask |= 1u << i;
		else if (mb->kw.names[i] == NULL)
			mb->kw.names[i] = xstrdup("");
	}
}

static int
mbox_reload_keywords(struct mbox *mb)
{
	char path[SPATH_MAX];
	struct stat sb;
	struct keywords old = mb->kw;
	size_t i;
	int changed = 0;

	if (spath(path, sizeof(path), "%s/dovecot-keywords", mb->path) < 0)
		return 0;
	if (stat(path, &sb) < 0)
		memset(&sb, 0, sizeof(sb));
	if (sb.st_ino == mb->kw_sb.st_ino && sb.st_size == mb->kw_sb.st_size &&
	    ts_eq(&sb.st_mtim, &mb->kw_sb.st_mtim))
		return 0;
	mb->kw_sb = sb;
	keywords_init(&mb->kw);
	if (keywords_read(mb->path, &mb->kw, NULL) < 0)
		keywords_init(&mb->kw);
	mbox_kw_fixup(mb);
	for (i = 0; i < KEYWORDS_MAX; i++) {
		const char *a = old.names[i], *b = mb->kw.names[i];

		if ((a == NULL) != (b == NULL) ||
		    (a != NULL && strcmp(a, b) != 0))
			changed = 1;
	}
	keywords_free(&old);
	return changed;
}

/* Refresh mb->ul from disk when the file changed. */
static enum ferr
mbox_refresh_uidlist(struct mbox *mb)
{
	char path[SPATH_MAX];
	struct stat sb;
	const char *why;
	int rc;

	if (spath(path, sizeof(path), "%s/dovecot-uidlist", mb->path) < 0)
		return FERR_INVALID;
	if (stat(path, &sb) == 0 && mb->ul_loaded &&
	    sb.st_ino == mb->ul_sb.st_ino && sb.st_size == mb->ul_sb.st_size &&
	    ts_eq(&sb.st_mtim, &mb->ul_sb.st_mtim))
		return FERR_NONE;
	uidlist_free(&mb->ul);
	mb->ul_loaded = 0;
	rc = uidlist_read(mb->path, &mb->ul, &mb->ul_sb, &why);
	if (rc == 1) {
		mb->ul_loaded = 1;
		return FERR_NONE;
	}
	if (rc < 0 && why == NULL)
		return ferr_from_errno(errno);
	/* missing or corrupt: the locked path below recreates it */
	uidlist_free(&mb->ul);
	return FERR_NONE;
}

/* Does the file at path end with a newline (no partial last line)? */
static int
mbox_ends_with_nl(const char *path, off_t size)
{
	char c = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = pread(fd, &c, 1, size - 1);
	close(fd);
	return n == 1 && c == '\n';
}

/*
 * Append records for new UIDs to the uidlist (held lock): what Dovecot
 * does too, leaving the header's N behind (readers take the larger of N
 * and the last UID + 1). Releases the lock.
 */
static enum ferr
mbox_append_uidlist(struct dotlock *l, const char *path,
    struct sent **todo, size_t ntodo, uint32_t first)
{
	struct buf b;
	enum ferr e = FERR_NONE;
	uint32_t uid = first;
	size_t i;
	int fd;

	buf_init(&b, UIDLIST_MAX_SIZE);
	for (i = 0; i < ntodo; i++) {
		if (i > 0 && sent_keycmp(&todo[i - 1], &todo[i]) == 0)
			continue;
		if (buf_printf(&b, "%u :%.*s\n", uid, (int)todo[i]->keylen,
		    todo[i]->name) < 0) {
			e = FERR_LIMIT;
			goto out;
		}
		uid++;
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0) {
		e = ferr_from_errno(errno);
		goto out;
	}
	if (fs_write_all(fd, b.data, b.len) < 0 || fdatasync(fd) < 0)
		e = ferr_from_errno(errno);
	if (close(fd) < 0 && e == FERR_NONE)
		e = ferr_from_errno(errno);
out:
	buf_free(&b);
	dotlock_release(l);
	return e;
}

/*
 * Give UIDs to scanned entries without one, under the lock. New records
 * are appended to the uidlist when it is a clean version 3 file; it is
 * rewritten (dropping records of files gone, when the scan was complete
 * and stable) when it must be converted or a quarter of its records are
 * stale. Updates mb->ul.
 */
static enum ferr
mbox_assign_uids(struct mbox *mb, struct scan *sc, uint32_t pre_next)
{
	char path[SPATH_MAX];
	struct dotlock l;
	struct uidlist loaded, out, *src;
	struct khash h;
	struct sent **todo = NULL;
	struct stat sb;
	size_t i, ntodo = 0, stale = 0;
	enum ferr e;
	int created = 0, exists;

	if (spath(path, sizeof(path), "%s/dovecot-uidlist", mb->path) < 0)
		return FERR_INVALID;
	e = uidlist_lock_dir(mb->path, &l);
	if (e != FERR_NONE)
		return e;
	uidlist_init(&loaded);
	exists = stat(path, &sb) == 0;
	if (exists && mb->ul_loaded && sb.st_ino == mb->ul_sb.st_ino &&
	    sb.st_size == mb->ul_sb.st_size &&
	    ts_eq(&sb.st_mtim, &mb->ul_sb.st_mtim)) {
		/* unchanged since we read it: entries already carry the
		 * UIDs it gives */
		src = &mb->ul;
		for (i = 0; i < src->n; i++)
			src->recs[i].mark = 0;
		todo = xcalloc(sc->n + 1, sizeof(*todo));
		for (i = 0; i < sc->n; i++) {
			size_t k;

			if (sc->v[i].uid != 0 &&
			    uidlist_find(src, sc->v[i].uid, &k))
				src->recs[k].mark = 1;
			else {
				sc->v[i].uid = 0;
				todo[ntodo++] = &sc->v[i];
			}
		}
	} else {
		e = uidlist_load_locked(mb->st->root, mb->path, &loaded,
		    &created);
		if (e != FERR_NONE) {
			dotlock_release(&l);
			return e;
		}
		src = &loaded;
		khash_build(&h, src);
		for (i = 0; i < src->n; i++)
			src->recs[i].mark = 0;
		todo = xcalloc(sc->n + 1, sizeof(*todo));
		for (i = 0; i < sc->n; i++) {
			long k = khash_get(&h, src, sc->v[i].name,
			    sc->v[i].keylen);

			if (k >= 0) {
				sc->v[i].uid = src->recs[k].uid;
				src->recs[k].mark = 1;
			} else {
				sc->v[i].uid = 0;
				todo[ntodo++] = &sc->v[i];
			}
		}
		khash_free(&h);
	}
	if (ntodo > 0)
		qsort(todo, ntodo, sizeof(*todo), sent_keycmp);
	for (i = 0; i < src->n; i++) {
		if (!src->recs[i].mark && sc->stable && !sc->partial &&
		    src->recs[i].uid < pre_next && !created)
			stale++;
	}
	/* the common case: append */
	if (exists && !created && src->version == 3 && sb.st_size > 0 &&
	    stale * 4 <= src->n && ntodo > 0 &&
	    mbox_ends_with_nl(path, sb.st_size)) {
		uint32_t first = src->nextuid;

		if ((uint64_t)first + ntodo >= UINT32_MAX) {
			free(todo);
			uidlist_free(&loaded);
			dotlock_release(&l);
			return FERR_LIMIT;
		}
		e = mbox_append_uidlist(&l, path, todo, ntodo, first);
		if (e == FERR_NONE) {
			for (i = 0; i < ntodo; i++) {
				if (i > 0 && sent_keycmp(&todo[i - 1],
				    &todo[i]) == 0) {
					todo[i]->uid = todo[i - 1]->uid;
					continue;
				}
				todo[i]->uid = src->nextuid;
				(void)uidlist_append_rec(src, src->nextuid,
				    todo[i]->name, todo[i]->keylen, NULL);
			}
			if (src != &mb->ul) {
				uidlist_free(&mb->ul);
				mb->ul = loaded;
				uidlist_init(&loaded);
			}
			mb->ul_loaded = 1;
			if (stat(path, &mb->ul_sb) < 0)
				memset(&mb->ul_sb, 0, sizeof(mb->ul_sb));
		}
		free(todo);
		uidlist_free(&loaded);
		return e;
	}
	/* rewrite: kept records, then the new ones */
	uidlist_init(&out);
	out.uidvalidity = src->uidvalidity;
	out.nextuid = src->nextuid;
	memcpy(out.guid, src->guid, sizeof(out.guid));
	if (src->hdr_extra != NULL)
		out.hdr_extra = spool_add(&out.pool, src->hdr_extra,
		    strlen(src->hdr_extra));
	for (i = 0; i < src->n; i++) {
		const struct uidlist_rec *r = &src->recs[i];

		/* a record whose file we did not see: drop it only when
		 * the scan is trustworthy and the record predates it */
		if (!r->mark && sc->stable && !sc->partial &&
		    r->uid < pre_next && !created)
			continue;
		(void)uidlist_append_rec(&out, r->uid, r->name,
		    strlen(r->name), r->ext);
	}
	out.nextuid = src->nextuid;
	for (i = 0; i < ntodo; i++) {
		uint32_t uid = out.nextuid;

		/* the same key twice in one scan (new/ and cur/ during a
		 * move): one UID; sorted by key, so they are adjacent */
		if (i > 0 && sent_keycmp(&todo[i - 1], &todo[i]) == 0) {
			todo[i]->uid = todo[i - 1]->uid;
			continue;
		}
		if (uid == UINT32_MAX ||
		    uidlist_append_rec(&out, uid, todo[i]->name,
		    todo[i]->keylen, NULL) < 0) {
			e = FERR_LIMIT;
			break;
		}
		todo[i]->uid = uid;
	}
	free(todo);
	uidlist_free(&loaded);
	if (e != FERR_NONE) {
		uidlist_free(&out);
		dotlock_release(&l);
		return e;
	}
	e = uidlist_write_locked(&l, &out);
	if (e != FERR_NONE) {
		uidlist_free(&out);
		return e;
	}
	uidlist_free(&mb->ul);
	mb->ul = out;
	mb->ul_loaded = 1;
	if (stat(path, &mb->ul_sb) < 0)
		memset(&mb->ul_sb, 0, sizeof(mb->ul_sb));
	return FERR_NONE;
}

/* Move a new/ file to cur/ (adding ":2,"); returns the new name or NULL. */
static const char *
mbox_move_new(struct mbox *mb, struct spool *pool, const char *name)
{
	char from[SPATH_MAX], to[SPATH_MAX], nn[MDNAME_MAX + 4];

	if (strchr(name, ':') != NULL) {
		if (spath(nn, sizeof(nn), "%s", name) < 0)
			return NULL;
	} else if (spath(nn, sizeof(nn), "%s:2,", name) < 0)
		return NULL;
	if (spath(from, sizeof(from), "%s/new/%s", mb->path, name) < 0 ||
	    spath(to, sizeof(to), "%s/cur/%s", mb->path, nn) < 0)
		return NULL;
	if (rename(from, to) < 0)
		return NULL;
	return spool_add(pool, nn, strlen(nn));
}

static void
changes_push(uint32_t **v, size_t *n, size_t *cap, uint32_t x)
{
	if (*n == *cap) {
		*cap = *cap == 0 ? 16 : *cap * 2;
		*v = xreallocarray(*v, *cap, sizeof(**v));
	}
	(*v)[(*n)++] = x;
}

static void
changes_expunge(struct mbox_changes *ch, size_t *cap, uint32_t seq,
    uint32_t uid)
{
	if (ch->nexpunged == *cap) {
		*cap = *cap == 0 ? 16 : *cap * 2;
		ch->expunged_seq = xreallocarray(ch->expunged_seq, *cap,
		    sizeof(*ch->expunged_seq));
		ch->expunged_uid = xreallocarray(ch->expunged_uid, *cap,
		    sizeof(*ch->expunged_uid));
	}
	ch->expunged_seq[ch->nexpunged] = seq;
	ch->expunged_uid[ch->nexpunged] = uid;
	ch->nexpunged++;
}

void
mbox_changes_free(struct mbox_changes *ch)
{
	if (ch == NULL)
		return;
	free(ch->expunged_seq);
	free(ch->expunged_uid);
	free(ch->changed);
	memset(ch, 0, sizeof(*ch));
}

/*
 * Merge the view with a fresh scan (entries with UIDs). Builds the new
 * record array in UID order and fills ch.
 */
static void
mbox_merge(struct mbox *mb, struct scan *sc, unsigned flags,
    struct mbox_changes *ch, size_t *ecap, size_t *ccap)
{
	struct spool pool = { 0 };
	struct mrec *nr;
	struct khash h;
	size_t i, j, nn = 0, cap;
	uint32_t oldmax = mb->n > 0 ? mb->recs[mb->n - 1].uid : 0;
	int rw_move = !(mb->oflags & (MBOX_OPEN_RO | MBOX_OPEN_NO_NEW_MOVE));
	struct sent **byuid;
	size_t nb = 0;

	/* scan entries in UID order, via the uidlist order */
	for (i = 0; i < sc->n; i++) {
		if (sc->v[i].uid == 0)
			break;
	}
	if (i < sc->n)
		khash_build(&h, &mb->ul);
	else
		memset(&h, 0, sizeof(h));
	for (i = 0; i < mb->ul.n; i++)
		mb->ul.recs[i].mark = UINT32_MAX;
	byuid = xcalloc(sc->n + 1, sizeof(*byuid));
	for (i = 0; i < sc->n; i++) {
		long k;

		if (sc->v[i].uid == 0) {
			k = khash_get(&h, &mb->ul, sc->v[i].name,
			    sc->v[i].keylen);
			if (k < 0)
				continue;	/* no UID yet: next sync */
			sc->v[i].uid = mb->ul.recs[k].uid;
		}
		if (!uidlist_find(&mb->ul, sc->v[i].uid, &j))
			continue;
		if (mb->ul.recs[j].mark != UINT32_MAX)
			continue;	/* duplicate key: first wins */
		mb->ul.recs[j].mark = (uint32_t)i;
	}
	khash_free(&h);
	for (i = 0; i < mb->ul.n; i++) {
		if (mb->ul.recs[i].mark != UINT32_MAX)
			byuid[nb++] = &sc->v[mb->ul.recs[i].mark];
	}
	cap = nb + mb->n + 1;
	nr = xcalloc(cap, sizeof(*nr));
	i = 0;
	j = 0;
	ch->new_first = UINT32_MAX;
	while (i < mb->n || j < nb) {
		struct mrec *o = i < mb->n ? &mb->recs[i] : NULL;
		struct sent *s = j < nb ? byuid[j] : NULL;

		if (o != NULL && (s == NULL || o->uid < s->uid ||
		    (o->state & R_EXPUNGED))) {
			int same = s != NULL && s->uid == o->uid;

			if (!(o->state & (R_EXPUNGED | R_GONE)) &&
			    !sc->stable) {
				/* not seen, but the directories changed
				 * during the scan: it may have been moving
				 * between new/ and cur/. Keep it; a stable
				 * scan decides. */
				nr[nn] = *o;
				nr[nn].name = spool_add(&pool, o->name,
				    strlen(o->name));
				nn++;
				i++;
				continue;
			}
			/* gone from disk, or expunged by us */
			if (flags & MBOX_SYNC_NO_EXPUNGE) {
				nr[nn] = *o;
				nr[nn].name = spool_add(&pool, o->name,
				    strlen(o->name));
				if (!(o->state & R_EXPUNGED))
					nr[nn].state |= R_GONE;
				nn++;
			} else {
				changes_expunge(ch, ecap, (uint32_t)i + 1,
				    o->uid);
			}
			i++;
			if (same)
				j++;
			continue;
		}
		if (o != NULL && s != NULL && o->uid == s->uid) {
			struct mrec r;

			mbox_rec_from_name(&r, spool_add(&pool, s->name,
			    strlen(s->name)), s->in_new);
			r.uid = s->uid;
			r.mtime = o->mtime;
			if (r.size == SIZE_UNKNOWN)
				r.size = o->size;
			if (r.vsize == SIZE_UNKNOWN)
				r.vsize = o->vsize;
			r.flags |= o->flags & MBOX_F_RECENT;
			if ((r.state & R_IN_NEW) && rw_move) {
				const char *moved = mbox_move_new(mb, &pool,
				    s->name);

				/* the first read-write view to take it
				 * out of new/ gets \Recent */
				if (moved != NULL) {
					r.name = moved;
					r.state &= (uint8_t)~R_IN_NEW;
					r.flags |= MBOX_F_RECENT;
				}
			}
			if ((r.flags & MBOX_F_STORABLE) !=
			    (o->flags & MBOX_F_STORABLE) || r.kw != o->kw)
				changes_push(&ch->changed, &ch->nchanged,
				    ccap, (uint32_t)nn);
			nr[nn++] = r;
			i++;
			j++;
			continue;
		}
		/* s only: new, or (in a view not yet shown to anyone) one
		 * that a previous scan missed */
		if (s->uid > oldmax || mb->fresh) {
			struct mrec r;

			mbox_rec_from_name(&r, spool_add(&pool, s->name,
			    strlen(s->name)), s->in_new);
			r.uid = s->uid;
			if (r.state & R_IN_NEW) {
				r.flags |= MBOX_F_RECENT;
				if (rw_move) {
					const char *moved = mbox_move_new(mb,
					    &pool, s->name);

					if (moved != NULL) {
						r.name = moved;
						r.state &= (uint8_t)~R_IN_NEW;
					}
				}
			}
			if (ch->new_first == UINT32_MAX)
				ch->new_first = (uint32_t)nn;
			nr[nn++] = r;
		}
		/* else: a UID below what the view has seen appeared late;
		 * IMAP can't show it in this session */
		j++;
	}
	free(byuid);
	free(mb->recs);
	spool_free(&mb->pool);
	mb->recs = nr;
	mb->n = (uint32_t)nn;
	mb->pool = pool;
	mb->pending = 0;
	for (i = 0; i < nn; i++) {
		if (nr[i].state & (R_EXPUNGED | R_GONE))
			mb->pending = 1;
	}
	if (ch->new_first == UINT32_MAX)
		ch->new_first = (uint32_t)nn;
	/* EXPUNGE responses must go out in descending order */
	for (i = 0; i < ch->nexpunged / 2; i++) {
		uint32_t t = ch->expunged_seq[i];

		ch->expunged_seq[i] = ch->expunged_seq[ch->nexpunged - 1 - i];
		ch->expunged_seq[ch->nexpunged - 1 - i] = t;
	}
}

static void snap_publish(const struct mbox *mb);

/* Report pending own expunges without a rescan. */
static void
mbox_drop_expunged(struct mbox *mb, unsigned flags, struct mbox_changes *ch,
    size_t *ecap)
{
	size_t i, o = 0;

	if (!mb->pending || (flags & MBOX_SYNC_NO_EXPUNGE))
		return;
	for (i = 0; i < mb->n; i++) {
		if (mb->recs[i].state & (R_EXPUNGED | R_GONE)) {
			changes_expunge(ch, ecap, (uint32_t)i + 1,
			    mb->recs[i].uid);
			continue;
		}
		mb->recs[o++] = mb->recs[i];
	}
	mb->n = (uint32_t)o;
	mb->pending = 0;
	for (i = 0; i < ch->nexpunged / 2; i++) {
		uint32_t t = ch->expunged_seq[i];

		ch->expunged_seq[i] = ch->expunged_seq[ch->nexpunged - 1 - i];
		ch->expunged_seq[ch->nexpunged - 1 - i] = t;
	}
}

/* Find the UIDs of scanned entries, assigning new ones when needed. */
static enum ferr
mbox_scan_uids(struct mbox *mb, struct scan *sc, uint32_t pre_next,
    int *assigned_r)
{
	int need_assign = 0;
	size_t i;

	if (!mb->ul_loaded)
		need_assign = 1;
	else {
		struct khash h;
		int built = 0;

		/* entries taken from the view already have their UID */
		for (i = 0; i < sc->n; i++) {
			long k;

			if (sc->v[i].uid != 0)
				continue;
			if (!built) {
				khash_build(&h, &mb->ul);
				built = 1;
			}
			k = khash_get(&h, &mb->ul, sc->v[i].name,
			    sc->v[i].keylen);
			if (k < 0)
				need_assign = 1;
			else
				sc->v[i].uid = mb->ul.recs[k].uid;
		}
		if (built)
			khash_free(&h);
	}
	*assigned_r = need_assign;
	if (!need_assign)
		return FERR_NONE;
	return mbox_assign_uids(mb, sc, pre_next);
}

static int
uid_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Does the scan lack a message the view has (and did not expunge)? */
static int
mbox_scan_misses(const struct mbox *mb, const struct scan *sc)
{
	uint32_t *u = xcalloc(sc->n + 1, sizeof(*u));
	size_t i, j = 0, nu = 0;
	int miss = 0;

	for (i = 0; i < sc->n; i++) {
		if (sc->v[i].uid != 0)
			u[nu++] = sc->v[i].uid;
	}
	qsort(u, nu, sizeof(*u), uid_cmp);
	for (i = 0; i < mb->n && !miss; i++) {
		if (mb->recs[i].state & (R_EXPUNGED | R_GONE))
			continue;
		while (j < nu && u[j] < mb->recs[i].uid)
			j++;
		if (j == nu || u[j] != mb->recs[i].uid)
			miss = 1;
	}
	free(u);
	return miss;
}

enum ferr
mbox_sync(struct mbox *mb, unsigned flags, struct mbox_changes *chp)
{
	struct mbox_changes chl, *ch = chp != NULL ? chp : &chl;
	struct timespec nm, cm, now;
	struct scan sc;
	size_t ecap = 0, ccap = 0;
	uint32_t pre_next, oldv = mb->uidvalidity;
	int need_assign = 0, tries;
	enum ferr e;

	memset(ch, 0, sizeof(*ch));
	ch->keywords_changed = mbox_reload_keywords(mb) != 0;
	if (mbox_dir_mtime(mb->path, "new", &nm) < 0 ||
	    mbox_dir_mtime(mb->path, "cur", &cm) < 0) {
		e = errno == ENOENT ? FERR_NOTFOUND : ferr_from_errno(errno);
		goto out;
	}
	if (!(flags & MBOX_SYNC_FORCE) && mb->new_ok && mb->cur_ok &&
	    ts_eq(&nm, &mb->new_mtime) && ts_eq(&cm, &mb->cur_mtime)) {
		/* unchanged directories: only our own expunges */
		mbox_drop_expunged(mb, flags, ch, &ecap);
		e = FERR_NONE;
		goto out;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	e = mbox_refresh_uidlist(mb);
	if (e != FERR_NONE)
		goto out;
	pre_next = mb->ul_loaded ? mb->ul.nextuid : 1;
	/*
	 * A file moving between new/ and cur/ during the two readdirs can be
	 * missed. When a scan that did not provably hold still misses
	 * messages of the view, wait out the clock tick and scan again (a
	 * few times); what is still missing then is kept, not reported as
	 * expunged, until a stable scan decides.
	 */
	for (tries = 0;; tries++) {
		e = scan_folder(&sc, mb, mb->path,
		    (flags & MBOX_SYNC_FORCE) != 0 || tries > 0);
		if (e != FERR_NONE)
			goto out;
		need_assign = 0;
		e = mbox_scan_uids(mb, &sc, pre_next, &need_assign);
		if (e != FERR_NONE) {
			scan_free(&sc);
			goto out;
		}
		if (sc.stable || tries == 3 || !mbox_scan_misses(mb, &sc))
			break;
		scan_free(&sc);
		{
			struct timespec ts = { 0, 60 * 1000 * 1000 };

			nanosleep(&ts, NULL);
		}
	}
	mbox_merge(mb, &sc, flags, ch, &ecap, &ccap);
	/* trust the stamps only when the scan was stable and the
	 * directories were not modified within the file system's clock
	 * granularity (a change in the same tick would not move them) */
	mb->new_mtime = sc.new_mtime;
	mb->cur_mtime = sc.cur_mtime;
	mb->new_ok = sc.new_stable && mbox_stamp_old(&now, &sc.new_mtime);
	mb->cur_ok = sc.cur_stable && mbox_stamp_old(&now, &sc.cur_mtime);
	/* our own moves from new/ changed the directories */
	if (mb->new_ok || mb->cur_ok) {
		struct timespec n2, c2;

		if (mbox_dir_mtime(mb->path, "new", &n2) < 0 ||
		    !ts_eq(&n2, &sc.new_mtime))
			mb->new_ok = 0;
		if (mbox_dir_mtime(mb->path, "cur", &c2) < 0 ||
		    !ts_eq(&c2, &sc.cur_mtime))
			mb->cur_ok = 0;
	}
	scan_free(&sc);
	mb->uidvalidity = mb->ul.uidvalidity;
	mb->uidnext = mb->ul.nextuid;
	if (mb->n > 0 && mb->uidnext <= mb->recs[mb->n - 1].uid)
		mb->uidnext = mb->recs[mb->n - 1].uid + 1;
	if (oldv != 0 && oldv != mb->uidvalidity)
		ch->uidvalidity_changed = true;
	snap_publish(mb);
	e = FERR_NONE;
out:
	ch->exists = mb->n;
	ch->recent = mbox_recent_count(mb);
	if (ch->new_first > mb->n || e != FERR_NONE)
		ch->new_first = mb->n;
	if (chp == NULL || e != FERR_NONE)
		mbox_changes_free(ch);
	if (chp != NULL && e != FERR_NONE) {
		chp->exists = mb->n;
		chp->new_first = mb->n;
	}
	return e;
}

/* ------------------------------------------------------------------ */
/* shared snapshots: a SELECT of a folder another view opened recently */

#define SNAP_MAX	16

struct snap {
	char		 path[SPATH_MAX];
	struct timespec	 new_mtime;
	struct timespec	 cur_mtime;
	struct stat	 ul_sb;
	struct mrec	*recs;
	uint32_t	 n;
	int		 new_ok;
	int		 cur_ok;
	struct spool	 pool;
	struct uidlist	 ul;
	uint32_t	 uidvalidity;
	uint32_t	 uidnext;
	uint64_t	 used;
};

static pthread_mutex_t snap_mu = PTHREAD_MUTEX_INITIALIZER;
static struct snap *snaps[SNAP_MAX];
static uint64_t snap_tick;

static void
snap_copy_ul(struct uidlist *dst, const struct uidlist *src)
{
	size_t i;

	uidlist_init(dst);
	dst->version = src->version;
	dst->uidvalidity = src->uidvalidity;
	memcpy(dst->guid, src->guid, sizeof(dst->guid));
	if (src->hdr_extra != NULL)
		dst->hdr_extra = spool_add(&dst->pool, src->hdr_extra,
		    strlen(src->hdr_extra));
	dst->recs = xreallocarray(NULL, src->n + 1, sizeof(*dst->recs));
	dst->cap = src->n + 1;
	for (i = 0; i < src->n; i++)
		(void)uidlist_append_rec(dst, src->recs[i].uid,
		    src->recs[i].name, strlen(src->recs[i].name),
		    src->recs[i].ext);
	dst->nextuid = src->nextuid;
}

static struct mrec *
snap_copy_recs(struct spool *pool, const struct mrec *src, uint32_t n)
{
	struct mrec *r = xcalloc((size_t)n + 1, sizeof(*r));
	uint32_t i;

	for (i = 0; i < n; i++) {
		r[i] = src[i];
		r[i].name = spool_add(pool, src[i].name, strlen(src[i].name));
		r[i].flags &= (uint8_t)~MBOX_F_RECENT;
	}
	return r;
}

static void
snap_free(struct snap *sn)
{
	free(sn->recs);
	spool_free(&sn->pool);
	uidlist_free(&sn->ul);
	free(sn);
}

/* Keep a copy of a freshly synced view for the next mbox_open(). */
static void
snap_publish(const struct mbox *mb)
{
	struct snap *sn;
	size_t i, slot = 0;

	if (!mb->ul_loaded || mb->pending || (!mb->new_ok && !mb->cur_ok))
		return;
	sn = xcalloc(1, sizeof(*sn));
	str_copy(sn->path, mb->path, sizeof(sn->path));
	sn->new_mtime = mb->new_mtime;
	sn->cur_mtime = mb->cur_mtime;
	sn->ul_sb = mb->ul_sb;
	sn->recs = snap_copy_recs(&sn->pool, mb->recs, mb->n);
	sn->n = mb->n;
	sn->new_ok = mb->new_ok;
	sn->cur_ok = mb->cur_ok;
	snap_copy_ul(&sn->ul, &mb->ul);
	sn->uidvalidity = mb->uidvalidity;
	sn->uidnext = mb->uidnext;
	pthread_mutex_lock(&snap_mu);
	sn->used = ++snap_tick;
	for (i = 0; i < SNAP_MAX; i++) {
		if (snaps[i] == NULL || strcmp(snaps[i]->path, sn->path) == 0) {
			slot = i;
			break;
		}
		if (snaps[i]->used < snaps[slot]->used)
			slot = i;
	}
	if (snaps[slot] != NULL)
		snap_free(snaps[slot]);
	snaps[slot] = sn;
	pthread_mutex_unlock(&snap_mu);
}

/*
 * Start a new view from the folder's snapshot, if any: the caller then
 * syncs normally, which re-reads only what changed since (nothing, or
 * new/ after a delivery). Returns 1 with *uidv_r the snapshot's
 * UIDVALIDITY, else 0.
 */
static int
snap_take(struct mbox *mb, uint32_t *uidv_r)
{
	size_t i;
	int ok = 0;

	pthread_mutex_lock(&snap_mu);
	for (i = 0; i < SNAP_MAX; i++) {
		struct snap *sn = snaps[i];

		if (sn == NULL || strcmp(sn->path, mb->path) != 0)
			continue;
		mb->recs = snap_copy_recs(&mb->pool, sn->recs, sn->n);
		mb->n = sn->n;
		uidlist_free(&mb->ul);
		snap_copy_ul(&mb->ul, &sn->ul);
		mb->ul_loaded = 1;
		mb->ul_sb = sn->ul_sb;
		mb->new_mtime = sn->new_mtime;
		mb->cur_mtime = sn->cur_mtime;
		mb->new_ok = sn->new_ok;
		mb->cur_ok = sn->cur_ok;
		mb->uidvalidity = sn->uidvalidity;
		mb->uidnext = sn->uidnext;
		*uidv_r = sn->uidvalidity;
		sn->used = ++snap_tick;
		ok = 1;
		break;
	}
	pthread_mutex_unlock(&snap_mu);
	return ok;
}

/* Forget the view's records (a snapshot that turned out unusable). */
static void
mbox_reset(struct mbox *mb)
{
	free(mb->recs);
	mb->recs = NULL;
	mb->n = 0;
	spool_free(&mb->pool);
	uidlist_free(&mb->ul);
	mb->ul_loaded = 0;
	memset(&mb->ul_sb, 0, sizeof(mb->ul_sb));
	mb->new_ok = 0;
	mb->cur_ok = 0;
	mb->uidvalidity = 0;
	mb->pending = 0;
}

enum ferr
mbox_open(struct mstore *st, const char *name, unsigned flags,
    struct mbox **mb_r)
{
	struct mbox *mb;
	struct stat sb;
	enum ferr e;

	*mb_r = NULL;
	mb = xcalloc(1, sizeof(*mb));
	mb->st = st;
	mb->oflags = flags;
	uidlist_init(&mb->ul);
	keywords_init(&mb->kw);
	str_copy(mb->name, mstore_name_is_inbox(name) ? "INBOX" : name,
	    sizeof(mb->name));
	e = mstore_folder_path(st, name, mb->path, sizeof(mb->path));
	if (e == FERR_NONE && (stat(mb->path, &sb) < 0 ||
	    !S_ISDIR(sb.st_mode)))
		e = FERR_NOTFOUND;
	mb->fresh = 1;
	if (e == FERR_NONE) {
		uint32_t uidv = 0;

		if (snap_take(mb, &uidv)) {
			e = mbox_sync(mb, 0, NULL);
			if (e != FERR_NONE || mb->uidvalidity != uidv) {
				/* recreated meanwhile: start from scratch */
				mbox_reset(mb);
				e = FERR_NONE;
			} else
				goto done;
		}
		e = mbox_sync(mb, MBOX_SYNC_FORCE, NULL);
	}
done:
	mb->fresh = 0;
	if (e != FERR_NONE) {
		mbox_close(&mb);
		return e;
	}
	*mb_r = mb;
	return FERR_NONE;
}

void
mbox_close(struct mbox **mbp)
{
	struct mbox *mb = *mbp;

	if (mb == NULL)
		return;
	free(mb->recs);
	spool_free(&mb->pool);
	uidlist_free(&mb->ul);
	keywords_free(&mb->kw);
	free(mb);
	*mbp = NULL;
}

uint32_t
mbox_count(const struct mbox *mb)
{
	return mb->n;
}

uint32_t
mbox_uidvalidity(const struct mbox *mb)
{
	return mb->uidvalidity;
}

uint32_t
mbox_uidnext(const struct mbox *mb)
{
	return mb->uidnext;
}

uint32_t
mbox_recent_count(const struct mbox *mb)
{
	uint32_t i, c = 0;

	for (i = 0; i < mb->n; i++) {
		if (mb->recs[i].flags & MBOX_F_RECENT)
			c++;
	}
	return c;
}

uint32_t
mbox_unseen_count(const struct mbox *mb)
{
	uint32_t i, c = 0;

	for (i = 0; i < mb->n; i++) {
		if (!(mb->recs[i].flags & MBOX_F_SEEN))
			c++;
	}
	return c;
}

long
mbox_first_unseen(const struct mbox *mb)
{
	uint32_t i;

	for (i = 0; i < mb->n; i++) {
		if (!(mb->recs[i].flags & MBOX_F_SEEN))
			return (long)i;
	}
	return -1;
}

bool
mbox_readonly(const struct mbox *mb)
{
	return (mb->oflags & MBOX_OPEN_RO) != 0;
}

const char *
mbox_name(const struct mbox *mb)
{
	return mb->name;
}

const char *
mbox_path(const struct mbox *mb)
{
	return mb->path;
}

int
mbox_find_uid(const struct mbox *mb, uint32_t uid, uint32_t *idx_r)
{
	uint32_t lo = 0, hi = mb->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (mb->recs[mid].uid == uid) {
			*idx_r = mid;
			return 1;
		}
		if (mb->recs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

int
mbox_uid_range(const struct mbox *mb, uint32_t lo, uint32_t hi,
    uint32_t *first_r, uint32_t *last_r)
{
	uint32_t a = 0, b = mb->n, first;

	if (lo > hi)
		return 0;
	while (a < b) {
		uint32_t mid = a + (b - a) / 2;

		if (mb->recs[mid].uid < lo)
			a = mid + 1;
		else
			b = mid;
	}
	first = a;
	if (first >= mb->n || mb->recs[first].uid > hi)
		return 0;
	b = mb->n;
	while (a < b) {
		uint32_t mid = a + (b - a) / 2;

		if (mb->recs[mid].uid <= hi)
			a = mid + 1;
		else
			b = mid;
	}
	*first_r = first;
	*last_r = a - 1;
	return 1;
}

uint32_t
mbox_msg_uid(const struct mbox *mb, uint32_t idx)
{
	return idx < mb->n ? mb->recs[idx].uid : 0;
}

unsigned
mbox_msg_flags(const struct mbox *mb, uint32_t idx)
{
	return idx < mb->n ? mb->recs[idx].flags : 0;
}

uint32_t
mbox_msg_keywords(const struct mbox *mb, uint32_t idx)
{
	return idx < mb->n ? mb->recs[idx].kw & mb->kw_mask : 0;
}

bool
mbox_msg_expunged(const struct mbox *mb, uint32_t idx)
{
	return idx >= mb->n ||
	    (mb->recs[idx].state & (R_GONE | R_EXPUNGED)) != 0;
}

static int
mbox_rec_path(const struct mbox *mb, const struct mrec *r, char *dst,
    size_t dstlen)
{
	return spath(dst, dstlen, "%s/%s/%s", mb->path,
	    (r->state & R_IN_NEW) ? "new" : "cur", r->name);
}

/*
 * The file of r vanished under its name: look for its key in cur/ and
 * new/ (renamed by another session). Updates r->name (not its flags: the
 * next sync reports the change). 1 found, 0 gone, -1 error.
 */
static int
mbox_relocate(struct mbox *mb, struct mrec *r)
{
	static const char *const subs[] = { "cur", "new" };
	size_t i;

	if (r->state & (R_GONE | R_EXPUNGED))
		return 0;
	for (i = 0; i < 2; i++) {
		char dir[SPATH_MAX];
		struct dirent *de;
		DIR *d;

		if (spath(dir, sizeof(dir), "%s/%s", mb->path, subs[i]) < 0)
			return -1;
		d = opendir(dir);
		if (d == NULL)
			continue;
		while ((de = readdir(d)) != NULL) {
			if (strncmp(de->d_name, r->name, r->keylen) == 0 &&
			    (de->d_name[r->keylen] == ':' ||
			    de->d_name[r->keylen] == '\0')) {
				r->name = spool_add(&mb->pool, de->d_name,
				    strlen(de->d_name));
				if (i == 1)
					r->state |= R_IN_NEW;
				else
					r->state &= (uint8_t)~R_IN_NEW;
				closedir(d);
				return 1;
			}
		}
		closedir(d);
	}
	return 0;
}

enum ferr
mbox_msg_open(struct mbox *mb, uint32_t idx, int *fd_r)
{
	struct mrec *r;
	char path[SPATH_MAX];
	int tries;

	*fd_r = -1;
	if (idx >= mb->n)
		return FERR_NOTFOUND;
	r = &mb->recs[idx];
	if (r->state & (R_GONE | R_EXPUNGED))
		return FERR_NOTFOUND;
	for (tries = 0; tries < 3; tries++) {
		int fd;

		if (mbox_rec_path(mb, r, path, sizeof(path)) < 0)
			return FERR_INVALID;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			*fd_r = fd;
			return FERR_NONE;
		}
		if (errno != ENOENT)
			return ferr_from_errno(errno);
		if (mbox_relocate(mb, r) <= 0)
			return FERR_NOTFOUND;
	}
	return FERR_NOTFOUND;
}

enum ferr
mbox_msg_path(struct mbox *mb, uint32_t idx, char *dst, size_t dstlen)
{
	if (idx >= mb->n || (mb->recs[idx].state & (R_GONE | R_EXPUNGED)))
		return FERR_NOTFOUND;
	if (mbox_rec_path(mb, &mb->recs[idx], dst, dstlen) < 0)
		return FERR_INVALID;
	return FERR_NONE;
}

/* Size from the uidlist record's key k, if any. */
static int
mbox_ul_size(const struct mbox *mb, uint32_t uid, char k, uint64_t *v)
{
	char val[32];
	size_t j;

	if (!mb->ul_loaded || !uidlist_find(&mb->ul, uid, &j))
		return 0;
	if (uidlist_rec_key(&mb->ul.recs[j], k, val, sizeof(val)) != 1)
		return 0;
	return str_to_u64(val, v) == 0;
}

static enum ferr
mbox_stat(struct mbox *mb, struct mrec *r)
{
	char path[SPATH_MAX];
	struct stat sb;
	int tries;

	for (tries = 0; tries < 3; tries++) {
		if (mbox_rec_path(mb, r, path, sizeof(path)) < 0)
			return FERR_INVALID;
		if (stat(path, &sb) == 0) {
			if (r->size == SIZE_UNKNOWN)
				r->size = (uint64_t)sb.st_size;
			r->mtime = (int64_t)sb.st_mtime;
			if (r->mtime == 0)
				r->mtime = 1;
			return FERR_NONE;
		}
		if (errno != ENOENT)
			return ferr_from_errno(errno);
		if (mbox_relocate(mb, r) <= 0)
			return FERR_NOTFOUND;
	}
	return FERR_NOTFOUND;
}

enum ferr
mbox_msg_size(struct mbox *mb, uint32_t idx, uint64_t *size_r)
{
	struct mrec *r;
	enum ferr e;

	if (idx >= mb->n)
		return FERR_NOTFOUND;
	r = &mb->recs[idx];
	if (r->size == SIZE_UNKNOWN && !mbox_ul_size(mb, r->uid, 'S',
	    &r->size)) {
		r->size = SIZE_UNKNOWN;
		e = mbox_stat(mb, r);
		if (e != FERR_NONE)
			return e;
	}
	*size_r = r->size;
	return FERR_NONE;
}

enum ferr
mbox_msg_vsize(struct mbox *mb, uint32_t idx, uint64_t *vsize_r)
{
	struct mrec *r;
	char chunk[65536];
	uint64_t size = 0, lfs = 0;
	int fd, prev = -1;
	enum ferr e;

	if (idx >= mb->n)
		return FERR_NOTFOUND;
	r = &mb->recs[idx];
	if (r->vsize != SIZE_UNKNOWN) {
		*vsize_r = r->vsize;
		return FERR_NONE;
	}
	if (mbox_ul_size(mb, r->uid, 'W', &r->vsize)) {
		*vsize_r = r->vsize;
		return FERR_NONE;
	}
	r->vsize = SIZE_UNKNOWN;
	e = mbox_msg_open(mb, idx, &fd);
	if (e != FERR_NONE)
		return e;
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk)), i;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			e = ferr_from_errno(errno);
			close(fd);
			return e;
		}
		if (n == 0)
			break;
		for (i = 0; i < n; i++) {
			if (chunk[i] == '\n' && prev != '\r')
				lfs++;
			prev = (unsigned char)chunk[i];
		}
		size += (uint64_t)n;
	}
	close(fd);
	r->vsize = size + lfs;
	if (r->size == SIZE_UNKNOWN)
		r->size = size;
	*vsize_r = r->vsize;
	return FERR_NONE;
}

enum ferr
mbox_msg_internaldate(struct mbox *mb, uint32_t idx, time_t *date_r)
{
	struct mrec *r;
	enum ferr e;

	if (idx >= mb->n)
		return FERR_NOTFOUND;
	r = &mb->recs[idx];
	if (r->mtime == 0) {
		e = mbox_stat(mb, r);
		if (e != FERR_NONE)
			return e;
	}
	*date_r = (time_t)r->mtime;
	return FERR_NONE;
}

enum ferr
mbox_msg_read(struct mbox *mb, uint32_t idx, struct buf *out)
{
	char chunk[65536];
	enum ferr e;
	int fd;

	e = mbox_msg_open(mb, idx, &fd);
	if (e != FERR_NONE)
		return e;
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			e = ferr_from_errno(errno);
			break;
		}
		if (n == 0)
			break;
		if (buf_append(out, chunk, (size_t)n) < 0) {
			e = FERR_LIMIT;
			break;
		}
	}
	close(fd);
	return e;
}

/* Expand a Dovecot 2.3 UIDL format (%u %v %f %g with [0][width][X]). */
static void
mbox_uidl_format(const char *fmt, uint32_t uid, uint32_t uidv,
    const char *fname, size_t fnlen, const char *guid, char *dst,
    size_t dstlen)
{
	size_t o = 0;
	const char *p;

	for (p = fmt; *p != '\0' && o + 1 < dstlen; p++) {
		char spec[16], tmp[MBOX_UIDL_MAX];
		int zero = 0, width = 0, hex = 0, n = 0;

		if (*p != '%') {
			dst[o++] = *p;
			continue;
		}
		p++;
		if (*p == '0') {
			zero = 1;
			p++;
		}
		while (*p >= '0' && *p <= '9' && width < 64)
			width = width * 10 + (*p++ - '0');
		if (*p == 'X' || *p == 'x') {
			hex = *p;
			p++;
		}
		if (*p == '\0')
			break;
		switch (*p) {
		case 'u':
		case 'v':
			snprintf(spec, sizeof(spec), "%%%s%d%s",
			    zero ? "0" : "", width, hex == 'X' ? "X" :
			    hex == 'x' ? "x" : "u");
			n = snprintf(tmp, sizeof(tmp), spec,
			    *p == 'u' ? uid : uidv);
			break;
		case 'f':
			n = snprintf(tmp, sizeof(tmp), "%.*s", (int)fnlen,
			    fname);
			break;
		case 'g':
			n = snprintf(tmp, sizeof(tmp), "%s", guid);
			break;
		case '%':
			n = snprintf(tmp, sizeof(tmp), "%%");
			break;
		default:
			n = 0;
			break;
		}
		if (n < 0)
			n = 0;
		if ((size_t)n >= sizeof(tmp))
			n = (int)sizeof(tmp) - 1;
		if (o + (size_t)n >= dstlen)
			break;
		memcpy(dst + o, tmp, (size_t)n);
		o += (size_t)n;
	}
	dst[o] = '\0';
}

void
mbox_msg_pop3_uidl(const struct mbox *mb, uint32_t idx, char *dst,
    size_t dstlen)
{
	const struct mrec *r;
	char fmt[MBOX_UIDL_MAX], guid[MBOX_UIDL_MAX];
	size_t j;
	int have_rec;

	if (dstlen == 0)
		return;
	dst[0] = '\0';
	if (idx >= mb->n)
		return;
	r = &mb->recs[idx];
	have_rec = mb->ul_loaded && uidlist_find(&mb->ul, r->uid, &j);
	if (have_rec && uidlist_rec_key(&mb->ul.recs[j], 'P', dst,
	    dstlen) == 1)
		return;
	if (mb->ul_loaded && uidlist_hdr_key(&mb->ul, 'P', fmt,
	    sizeof(fmt)) == 1) {
		const char *base = r->name;
		size_t blen = strcspn(base, ",:");

		if (!have_rec || uidlist_rec_key(&mb->ul.recs[j], 'G', guid,
		    sizeof(guid)) != 1)
			snprintf(guid, sizeof(guid), "%.*s", (int)blen, base);
		mbox_uidl_format(fmt, r->uid, mb->uidvalidity, base, blen,
		    guid, dst, dstlen);
		return;
	}
	snprintf(dst, dstlen, "%08x%08x", r->uid, mb->uidvalidity);
}

size_t
mbox_keywords(const struct mbox *mb, const char *const **names_r)
{
	*names_r = (const char *const *)mb->kw.names;
	return mb->kw.count;
}

int
mbox_keyword_index(struct mbox *mb, const char *name, bool create,
    unsigned *idx_r, enum ferr *err_r)
{
	int k = keywords_find(&mb->kw, name);
	enum ferr e;

	*err_r = FERR_NONE;
	if (k >= 0) {
		*idx_r = (unsigned)k;
		return 1;
	}
	if (!create)
		return 0;
	e = keywords_alloc(mb->path, &mb->kw, name, idx_r);
	mbox_kw_fixup(mb);
	if (e != FERR_NONE) {
		*err_r = e;
		return -1;
	}
	/* our own change: don't report it as a FLAGS change */
	{
		char path[SPATH_MAX];

		if (spath(path, sizeof(path), "%s/dovecot-keywords",
		    mb->path) == 0 && stat(path, &mb->kw_sb) < 0)
			memset(&mb->kw_sb, 0, sizeof(mb->kw_sb));
	}
	return 1;
}

enum ferr
mbox_store(struct mbox *mb, uint32_t idx, enum mbox_store_op op,
    unsigned flags, uint32_t keywords)
{
	struct mrec *r;
	struct mdname mn;
	char from[SPATH_MAX], to[SPATH_MAX], nn[MDNAME_MAX + 1];
	unsigned nf;
	uint32_t nk;
	int tries;

	if (mb->oflags & MBOX_OPEN_RO)
		return FERR_PERM;
	if (idx >= mb->n)
		return FERR_NOTFOUND;
	r = &mb->recs[idx];
	if (r->state & (R_GONE | R_EXPUNGED))
		return FERR_NOTFOUND;
	flags &= MBOX_F_STORABLE;
	for (tries = 0; tries < 3; tries++) {
		unsigned cur;

		/* start from the file's flags: another session may have
		 * changed them since our last sync */
		if (mdname_parse(r->name, &mn) < 0)
			return FERR_INTERNAL;
		cur = mn.flags & MBOX_F_STORABLE;
		switch (op) {
		case MBOX_STORE_SET:
			nf = flags;
			nk = keywords;
			break;
		case MBOX_STORE_ADD:
			nf = cur | flags;
			nk = mn.keywords | keywords;
			break;
		default:
			nf = cur & ~flags;
			nk = mn.keywords & ~keywords;
			break;
		}
		if (mdname_with_flags(r->name, mn.keylen, nf, nk, mn.other, nn,
		    sizeof(nn)) < 0)
			return FERR_LIMIT;
		if (mbox_rec_path(mb, r, from, sizeof(from)) < 0 ||
		    spath(to, sizeof(to), "%s/cur/%s", mb->path, nn) < 0)
			return FERR_INVALID;
		if (strcmp(from, to) == 0) {
			r->flags = (uint8_t)(nf | (r->flags & MBOX_F_RECENT));
			r->kw = nk;
			return FERR_NONE;
		}
		if (rename(from, to) == 0) {
			r->name = spool_add(&mb->pool, nn, strlen(nn));
			r->state &= (uint8_t)~R_IN_NEW;
			r->flags = (uint8_t)(nf | (r->flags & MBOX_F_RECENT));
			r->kw = nk;
			store_notify_signal(mb->path);
			return FERR_NONE;
		}
		if (errno != ENOENT)
			return ferr_from_errno(errno);
		if (mbox_relocate(mb, r) <= 0)
			return FERR_NOTFOUND;
	}
	return FERR_TEMP;
}

enum ferr
mbox_expunge(struct mbox *mb, uint32_t idx)
{
	struct mrec *r;
	char path[SPATH_MAX];
	uint64_t size = 0;
	int tries;

	if (mb->oflags & MBOX_OPEN_RO)
		return FERR_PERM;
	if (idx >= mb->n)
		return FERR_NOTFOUND;
	r = &mb->recs[idx];
	if (r->state & (R_GONE | R_EXPUNGED))
		return FERR_NONE;
	if (mbox_msg_size(mb, idx, &size) != FERR_NONE)
		size = 0;
	for (tries = 0; tries < 3; tries++) {
		if (mbox_rec_path(mb, r, path, sizeof(path)) < 0)
			return FERR_INVALID;
		if (unlink(path) == 0) {
			quota_update(mb->st->root, -(int64_t)size, -1);
			break;
		}
		if (errno != ENOENT)
			return ferr_from_errno(errno);
		if (mbox_relocate(mb, r) <= 0)
			break;	/* already gone: fine */
	}
	r->state |= R_EXPUNGED;
	mb->pending = 1;
	store_notify_signal(mb->path);
	return FERR_NONE;
}

/* Map keyword bits of the view to the destination folder's indexes. */
static enum ferr
mbox_map_keywords(struct mbox *mb, const char *destdir, struct keywords *dkw,
    uint32_t kw, uint32_t *out_r)
{
	uint32_t out = 0;
	unsigned i, di;
	enum ferr e;

	for (i = 0; i < KEYWORDS_MAX; i++) {
		if (!(kw & (1u << i)))
			continue;
		if (i >= mb->kw.count || mb->kw.names[i] == NULL ||
		    mb->kw.names[i][0] == '\0')
			continue;	/* unnamed letter: dropped */
		e = keywords_alloc(destdir, dkw, mb->kw.names[i], &di);
		if (e != FERR_NONE)
			return e;
		out |= 1u << di;
	}
	*out_r = out;
	return FERR_NONE;
}

static enum ferr
mbox_transfer(struct mbox *mb, const uint32_t *idx, size_t n,
    const char *dest, uint32_t *uids_r, uint32_t *uidvalidity_r, int move)
{
	char destdir[SPATH_MAX];
	struct place_item *items;
	char (*froms)[SPATH_MAX] = NULL;
	char (*names)[MDNAME_MAX + 1] = NULL;
	struct keywords dkw;
	struct stat sb;
	uint64_t total = 0;
	enum ferr e;
	size_t i;

	if (move && (mb->oflags & MBOX_OPEN_RO))
		return FERR_PERM;
	e = mstore_folder_path(mb->st, dest, destdir, sizeof(destdir));
	if (e != FERR_NONE)
		return e;
	if (stat(destdir, &sb) < 0 || !S_ISDIR(sb.st_mode))
		return FERR_NOTFOUND;
	if (move && strcmp(destdir, mb->path) == 0)
		return FERR_INVALID;
	if (n == 0) {
		*uidvalidity_r = 0;
		return FERR_NONE;
	}
	keywords_init(&dkw);
	(void)keywords_read(destdir, &dkw, NULL);
	items = xcalloc(n, sizeof(*items));
	froms = xcalloc(n, sizeof(*froms));
	names = xcalloc(n, sizeof(*names));
	for (i = 0; i < n; i++) {
		struct mrec *r;
		struct mdname mn;
		uint64_t size, vsize;
		uint32_t dk;
		char base[MDNAME_MAX + 1];
		int fd;

		if (idx[i] >= mb->n) {
			e = FERR_NOTFOUND;
			goto out;
		}
		r = &mb->recs[idx[i]];
		/* make sure the file is where we think (relocates) */
		e = mbox_msg_open(mb, idx[i], &fd);
		if (e != FERR_NONE)
			goto out;
		close(fd);
		e = mbox_msg_size(mb, idx[i], &size);
		if (e == FERR_NONE)
			e = mbox_msg_vsize(mb, idx[i], &vsize);
		if (e == FERR_NONE)
			e = mbox_map_keywords(mb, destdir, &dkw, r->kw, &dk);
		if (e != FERR_NONE)
			goto out;
		total += size;
		if (mdname_parse(r->name, &mn) < 0) {
			e = FERR_INTERNAL;
			goto out;
		}
		if (move) {
			/* keep the key: it stays unique */
			if (spath(base, sizeof(base), "%.*s", (int)mn.keylen,
			    r->name) < 0) {
				e = FERR_INVALID;
				goto out;
			}
		} else {
			char nb[256];

			if (mdname_new_base(nb, sizeof(nb)) < 0 ||
			    spath(base, sizeof(base), "%s,S=%" PRIu64 ",W=%"
			    PRIu64, nb, size, vsize) < 0) {
				e = FERR_INVALID;
				goto out;
			}
		}
		if (mdname_with_flags(base, strlen(base), r->flags &
		    MBOX_F_STORABLE, dk, mn.other, names[i],
		    sizeof(names[i])) < 0 ||
		    mbox_rec_path(mb, r, froms[i], sizeof(froms[i])) < 0) {
			e = FERR_INVALID;
			goto out;
		}
		items[i].from = froms[i];
		items[i].sub = "cur";
		items[i].name = names[i];
		items[i].link = !move;
	}
	if (!move && mb->st->quota != 0) {
		e = quota_check(mb->st->root, mb->st->quota, total, n);
		if (e != FERR_NONE)
			goto out;
	}
	e = folder_place(mb->st->root, destdir, items, n, uids_r,
	    uidvalidity_r);
	if (e != FERR_NONE && !move && (e == FERR_PERM || e == FERR_INTERNAL)) {
		/* hard links refused (EXDEV, EPERM): copy the bytes */
		for (i = 0; i < n; i++) {
			struct mdwriter w;
			struct buf b;

			buf_init(&b, BUF_UNLIMITED);
			e = mbox_msg_read(mb, idx[i], &b);
			if (e == FERR_NONE)
				e = mdwriter_open(&w, destdir, 0, 0);
			if (e == FERR_NONE) {
				e = mdwriter_write(&w, b.data, b.len);
				if (e == FERR_NONE)
					e = mdwriter_finish(&w);
				if (e != FERR_NONE)
					mdwriter_abort(&w);
				else
					str_copy(froms[i], w.tmppath,
					    sizeof(froms[i]));
			}
			buf_free(&b);
			if (e != FERR_NONE)
				goto out;
			items[i].link = 0;
		}
		e = folder_place(mb->st->root, destdir, items, n, uids_r,
		    uidvalidity_r);
		if (e != FERR_NONE)
			for (i = 0; i < n; i++)
				unlink(froms[i]);
	}
	if (e != FERR_NONE)
		goto out;
	{
		char cur[SPATH_MAX];

		if (spath(cur, sizeof(cur), "%s/cur", destdir) == 0)
			(void)fs_fsync_dir(cur);
	}
	if (move) {
		for (i = 0; i < n; i++)
			mb->recs[idx[i]].state |= R_EXPUNGED;
		mb->pending = 1;
		store_notify_signal(mb->path);
	} else
		quota_update(mb->st->root, (int64_t)total, (int64_t)n);
	store_notify_signal(destdir);
out:
	keywords_free(&dkw);
	free(items);
	free(froms);
	free(names);
	return e;
}

enum ferr
mbox_copy(struct mbox *mb, const uint32_t *idx, size_t n, const char *dest,
    uint32_t *uids_r, uint32_t *uidvalidity_r)
{
	return mbox_transfer(mb, idx, n, dest, uids_r, uidvalidity_r, 0);
}

enum ferr
mbox_move(struct mbox *mb, const uint32_t *idx, size_t n, const char *dest,
    uint32_t *uids_r, uint32_t *uidvalidity_r)
{
	return mbox_transfer(mb, idx, n, dest, uids_r, uidvalidity_r, 1);
}

/* ------------------------------------------------------------------ */
/* STATUS and APPEND                                                   */

enum ferr
mstore_status(struct mstore *st, const char *name, struct mbox_status *s)
{
	return mstore_status_items(st, name, true, s);
}

enum ferr
mstore_status_items(struct mstore *st, const char *name, bool want_size,
    struct mbox_status *s)
{
	struct mbox *mb;
	enum ferr e;
	uint32_t i;

	memset(s, 0, sizeof(*s));
	e = mbox_open(st, name, MBOX_OPEN_RO, &mb);
	if (e != FERR_NONE)
		return e;
	s->messages = mb->n;
	for (i = 0; i < mb->n; i++) {
		if (mb->recs[i].state & R_IN_NEW)
			s->recent++;
	}
	s->uidnext = mb->uidnext;
	s->uidvalidity = mb->uidvalidity;
	s->unseen = mbox_unseen_count(mb);
	for (i = 0; want_size && i < mb->n; i++) {
		uint64_t v;

		if (mbox_msg_vsize(mb, i, &v) == FERR_NONE)
			s->size += v;
	}
	mbox_close(&mb);
	return FERR_NONE;
}

struct mstore_append {
	struct mstore	*st;
	struct mdwriter	 w;
};

enum ferr
mstore_append_begin(struct mstore *st, const char *name, uint64_t max_size,
    struct mstore_append **ap_r)
{
	struct mstore_append *ap;
	char dir[SPATH_MAX];
	struct stat sb;
	enum ferr e;

	*ap_r = NULL;
	e = mstore_folder_path(st, name, dir, sizeof(dir));
	if (e != FERR_NONE)
		return e;
	if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode))
		return FERR_NOTFOUND;
	ap = xcalloc(1, sizeof(*ap));
	ap->st = st;
	e = mdwriter_open(&ap->w, dir, 1, max_size);
	if (e != FERR_NONE) {
		free(ap);
		return e;
	}
	*ap_r = ap;
	return FERR_NONE;
}

enum ferr
mstore_append_write(struct mstore_append *ap, const void *data, size_t len)
{
	return mdwriter_write(&ap->w, data, len);
}

void
mstore_append_abort(struct mstore_append **app)
{
	if (*app == NULL)
		return;
	mdwriter_abort(&(*app)->w);
	free(*app);
	*app = NULL;
}

enum ferr
mstore_append_finish(struct mstore_append **app, unsigned flags,
    const char *const *keywords, size_t nkeywords, time_t internal_date,
    uint32_t *uid_r, uint32_t *uidvalidity_r)
{
	struct mstore_append *ap = *app;
	struct place_item item;
	struct keywords kw;
	char base[MDNAME_MAX + 1], name[MDNAME_MAX + 1], sub[SPATH_MAX];
	uint32_t kwbits = 0;
	enum ferr e;
	size_t i;

	*app = NULL;
	keywords_init(&kw);
	e = mdwriter_finish(&ap->w);
	if (e == FERR_NONE && ap->st->quota != 0)
		e = quota_check(ap->st->root, ap->st->quota, ap->w.size, 1);
	if (e == FERR_NONE && nkeywords > 0) {
		(void)keywords_read(ap->w.dir, &kw, NULL);
		for (i = 0; i < nkeywords && e == FERR_NONE; i++) {
			unsigned k;

			e = keywords_alloc(ap->w.dir, &kw, keywords[i], &k);
			if (e == FERR_NONE)
				kwbits |= 1u << k;
		}
	}
	keywords_free(&kw);
	flags &= MBOX_F_STORABLE;
	if (e == FERR_NONE && mdwriter_final_name(&ap->w, base,
	    sizeof(base)) < 0)
		e = FERR_INVALID;
	if (e == FERR_NONE) {
		if (flags == 0 && kwbits == 0)
			e = spath(name, sizeof(name), "%s", base) < 0 ?
			    FERR_INVALID : FERR_NONE;
		else if (mdname_with_flags(base, strlen(base), flags, kwbits,
		    "", name, sizeof(name)) < 0)
			e = FERR_INVALID;
	}
	if (e == FERR_NONE && internal_date != 0) {
		struct timeval tv[2];

		tv[0].tv_sec = time(NULL);
		tv[0].tv_usec = 0;
		tv[1].tv_sec = internal_date;
		tv[1].tv_usec = 0;
		if (utimes(ap->w.tmppath, tv) < 0)
			e = ferr_from_errno(errno);
	}
	if (e == FERR_NONE) {
		item.from = ap->w.tmppath;
		item.sub = flags == 0 && kwbits == 0 ? "new" : "cur";
		item.name = name;
		item.link = 0;
		e = folder_place(ap->st->root, ap->w.dir, &item, 1, uid_r,
		    uidvalidity_r);
	}
	if (e != FERR_NONE) {
		mdwriter_abort(&ap->w);
		free(ap);
		return e;
	}
	if (spath(sub, sizeof(sub), "%s/%s", ap->w.dir, item.sub) == 0)
		(void)fs_fsync_dir(sub);
	quota_update(ap->st->root, (int64_t)ap->w.size, 1);
	store_notify_signal(ap->w.dir);
	free(ap);
	return FERR_NONE;
}

enum ferr
mstore_append_mem(struct mstore *st, const char *name, const void *data,
    size_t len, unsigned flags, const char *const *keywords,
    size_t nkeywords, time_t internal_date, uint32_t *uid_r,
    uint32_t *uidvalidity_r)
{
	struct mstore_append *ap;
	enum ferr e;

	e = mstore_append_begin(st, name, 0, &ap);
	if (e != FERR_NONE)
		return e;
	e = mstore_append_write(ap, data, len);
	if (e != FERR_NONE) {
		mstore_append_abort(&ap);
		return e;
	}
	return mstore_append_finish(&ap, flags, keywords, nkeywords,
	    internal_date, uid_r, uidvalidity_r);
}
