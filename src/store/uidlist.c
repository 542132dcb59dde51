/*
 * uidlist - parse and write dovecot-uidlist (v3, v1 read), allocate
 * UIDVALIDITY (dovecot-uidvalidity). See uidlist.h.
 *
 * Input: a file any process with access to the Maildir can write:
 * parsed strictly (numbers via strnum, ascending UIDs, no '/' in names),
 * bounded by UIDLIST_MAX_SIZE.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "core/str.h"
#include "core/strnum.h"
#include "core/xmalloc.h"
#include "store/dotlock.h"
#include "store/spath.h"
#include "store/uidlist.h"

#define SPOOL_CHUNK	(64 * 1024)

struct spool_chunk {
	struct spool_chunk	*next;
	size_t			 used;
	size_t			 size;
	char			 data[];
};

const char *
spool_add(struct spool *sp, const char *s, size_t n)
{
	struct spool_chunk *c = sp->head;
	char *p;

	if (c == NULL || c->size - c->used < n + 1) {
		size_t size = n + 1 > SPOOL_CHUNK ? n + 1 : SPOOL_CHUNK;

		c = xmalloc(sizeof(*c) + size);
		c->size = size;
		c->used = 0;
		c->next = sp->head;
		sp->head = c;
	}
	p = c->data + c->used;
	memcpy(p, s, n);
	p[n] = '\0';
	c->used += n + 1;
	return p;
}

void
spool_free(struct spool *sp)
{
	while (sp->head != NULL) {
		struct spool_chunk *c = sp->head;

		sp->head = c->next;
		free(c);
	}
}

void
uidlist_init(struct uidlist *ul)
{
	memset(ul, 0, sizeof(*ul));
	ul->version = 3;
	ul->nextuid = 1;
}

void
uidlist_free(struct uidlist *ul)
{
	free(ul->recs);
	spool_free(&ul->pool);
	uidlist_init(ul);
}

int
uidlist_append_rec(struct uidlist *ul, uint32_t uid, const char *name,
    size_t namelen, const char *ext)
{
	struct uidlist_rec *r;

	if (uid == 0 || (ul->n > 0 && ul->recs[ul->n - 1].uid >= uid))
		return -1;
	if (ul->n == ul->cap) {
		ul->cap = ul->cap == 0 ? 64 : ul->cap * 2;
		ul->recs = xreallocarray(ul->recs, ul->cap, sizeof(*ul->recs));
	}
	r = &ul->recs[ul->n++];
	r->uid = uid;
	r->mark = 0;
	r->name = spool_add(&ul->pool, name, namelen);
	r->ext = ext != NULL && ext[0] != '\0' ?
	    spool_add(&ul->pool, ext, strlen(ext)) : NULL;
	if (uid >= ul->nextuid)
		ul->nextuid = uid == UINT32_MAX ? uid : uid + 1;
	return 0;
}

/* Check a name (n bytes): non-empty, no '/', no control bytes, no ':'. */
static int
uidlist_name_ok(const char *s, size_t n)
{
	return n > 0 && n <= 255 && memchr(s, '/', n) == NULL &&
	    !str_has_ctl(s, n);
}

/* Keys "Kval Kval ...": each key A-Z with a value without spaces. */
static int
uidlist_keys_ok(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		if (s[i] < 'A' || s[i] > 'Z')
			return 0;
		while (i < n && s[i] != ' ') {
			if ((unsigned char)s[i] < 0x21 ||
			    (unsigned char)s[i] > 0x7e)
				return 0;
			i++;
		}
		if (i < n)
			i++;	/* the space */
		if (i == n && s[n - 1] == ' ')
			return 0;
	}
	return 1;
}

static int
uidlist_parse_header(struct uidlist *ul, const char *s, size_t n,
    const char **why_r)
{
	char extra[1024];
	size_t i = 0, xo = 0;
	int have_v = 0;

	if (n >= 2 && s[0] == '1' && s[1] == ' ') {
		/* "1 <uidvalidity> <nextuid>" */
		const char *sp = memchr(s + 2, ' ', n - 2);

		ul->version = 1;
		if (sp == NULL ||
		    str_to_u32n(s + 2, (size_t)(sp - s - 2),
		    &ul->uidvalidity) < 0 ||
		    str_to_u32n(sp + 1, n - (size_t)(sp + 1 - s),
		    &ul->nextuid) < 0) {
			*why_r = "bad version 1 header";
			return -1;
		}
		if (ul->nextuid == 0)
			ul->nextuid = 1;
		return 0;
	}
	if (n < 1 || s[0] != '3' || (n > 1 && s[1] != ' ')) {
		*why_r = "unsupported version";
		return -1;
	}
	ul->version = 3;
	i = 2;
	while (i < n) {
		const char *f = s + i, *e = memchr(f, ' ', n - i);
		size_t flen = e != NULL ? (size_t)(e - f) : n - i;

		if (flen == 0 || f[0] < 'A' || f[0] > 'Z') {
			*why_r = "bad header key";
			return -1;
		}
		if (f[0] == 'V') {
			if (str_to_u32n(f + 1, flen - 1,
			    &ul->uidvalidity) < 0) {
				*why_r = "bad UIDVALIDITY";
				return -1;
			}
			have_v = 1;
		} else if (f[0] == 'N') {
			if (str_to_u32n(f + 1, flen - 1, &ul->nextuid) < 0) {
				*why_r = "bad next UID";
				return -1;
			}
		} else if (f[0] == 'G' && flen - 1 < sizeof(ul->guid)) {
			memcpy(ul->guid, f + 1, flen - 1);
			ul->guid[flen - 1] = '\0';
		} else {
			if (str_has_ctl(f, flen) || xo + flen + 2 >
			    sizeof(extra)) {
				*why_r = "bad header field";
				return -1;
			}
			if (xo > 0)
				extra[xo++] = ' ';
			memcpy(extra + xo, f, flen);
			xo += flen;
		}
		i += flen + 1;
	}
	if (!have_v) {
		*why_r = "no UIDVALIDITY";
		return -1;
	}
	if (ul->nextuid == 0)
		ul->nextuid = 1;
	if (xo > 0)
		ul->hdr_extra = spool_add(&ul->pool, extra, xo);
	return 0;
}

static int
uidlist_parse_rec(struct uidlist *ul, const char *s, size_t n,
    const char **why_r)
{
	const char *sp = memchr(s, ' ', n), *name, *keys = NULL;
	size_t namelen, keyslen = 0;
	uint32_t uid;
	char extbuf[1024];

	if (sp == NULL || str_to_u32n(s, (size_t)(sp - s), &uid) < 0 ||
	    uid == 0) {
		*why_r = "bad UID";
		return -1;
	}
	name = sp + 1;
	namelen = n - (size_t)(name - s);
	if (ul->version == 3) {
		/* "[keys ]:name" */
		const char *colon;

		if (namelen > 0 && name[0] == ':') {
			name++;
			namelen--;
		} else {
			colon = NULL;
			for (const char *c = name; c + 1 < s + n; c++) {
				if (c[0] == ' ' && c[1] == ':') {
					colon = c;
					break;
				}
			}
			if (colon == NULL) {
				*why_r = "record without ' :'";
				return -1;
			}
			keys = name;
			keyslen = (size_t)(colon - name);
			name = colon + 2;
			namelen = n - (size_t)(name - s);
			if (!uidlist_keys_ok(keys, keyslen) ||
			    keyslen >= sizeof(extbuf)) {
				*why_r = "bad record keys";
				return -1;
			}
		}
	}
	if (!uidlist_name_ok(name, namelen)) {
		*why_r = "bad file name";
		return -1;
	}
	/* a name with its info part: strip it, as Dovecot's writer does */
	{
		const char *colon = memchr(name, ':', namelen);

		if (colon != NULL)
			namelen = (size_t)(colon - name);
		if (namelen == 0) {
			*why_r = "bad file name";
			return -1;
		}
	}
	if (keys != NULL) {
		memcpy(extbuf, keys, keyslen);
		extbuf[keyslen] = '\0';
	}
	if (uidlist_append_rec(ul, uid, name, namelen,
	    keys != NULL ? extbuf : NULL) < 0) {
		*why_r = "UIDs not ascending";
		return -1;
	}
	return 0;
}

int
uidlist_parse(struct uidlist *ul, const char *data, size_t len,
    const char **why_r)
{
	const char *p = data, *end = data + len, *nl;
	int first = 1;

	*why_r = NULL;
	if (memchr(data, '\0', len) != NULL) {
		*why_r = "NUL byte";
		return -1;
	}
	while (p < end) {
		size_t n;

		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL) {
			if (first) {
				*why_r = "unterminated header";
				return -1;
			}
			break;	/* partial last line: being appended */
		}
		n = (size_t)(nl - p);
		if (first) {
			if (uidlist_parse_header(ul, p, n, why_r) < 0)
				return -1;
			first = 0;
		} else if (n > 0) {
			if (uidlist_parse_rec(ul, p, n, why_r) < 0)
				return -1;
		}
		p = nl + 1;
	}
	if (first) {
		*why_r = "empty file";
		return -1;
	}
	return 0;
}

int
uidlist_format(const struct uidlist *ul, struct buf *out)
{
	size_t i;

	if (buf_printf(out, "3 V%u N%u", ul->uidvalidity, ul->nextuid) < 0)
		return -1;
	if (ul->guid[0] != '\0' && buf_printf(out, " G%s", ul->guid) < 0)
		return -1;
	if (ul->hdr_extra != NULL && buf_printf(out, " %s",
	    ul->hdr_extra) < 0)
		return -1;
	if (buf_putc(out, '\n') < 0)
		return -1;
	for (i = 0; i < ul->n; i++) {
		const struct uidlist_rec *r = &ul->recs[i];

		if (buf_printf(out, "%u %s%s:%s\n", r->uid,
		    r->ext != NULL ? r->ext : "", r->ext != NULL ? " " : "",
		    r->name) < 0)
			return -1;
	}
	return 0;
}

int
uidlist_find(const struct uidlist *ul, uint32_t uid, size_t *idx_r)
{
	size_t lo = 0, hi = ul->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ul->recs[mid].uid == uid) {
			*idx_r = mid;
			return 1;
		}
		if (ul->recs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* Find key k in a "Kval Kval" string. */
static int
uidlist_key_in(const char *s, char k, char *dst, size_t dstlen)
{
	while (s != NULL && *s != '\0') {
		const char *e = strchr(s, ' ');
		size_t n = e != NULL ? (size_t)(e - s) : strlen(s);

		if (s[0] == k) {
			if (n - 1 >= dstlen)
				return 0;
			memcpy(dst, s + 1, n - 1);
			dst[n - 1] = '\0';
			return 1;
		}
		s = e != NULL ? e + 1 : NULL;
	}
	return 0;
}

int
uidlist_rec_key(const struct uidlist_rec *r, char k, char *dst,
    size_t dstlen)
{
	return uidlist_key_in(r->ext, k, dst, dstlen);
}

int
uidlist_hdr_key(const struct uidlist *ul, char k, char *dst, size_t dstlen)
{
	return uidlist_key_in(ul->hdr_extra, k, dst, dstlen);
}

int
uidlist_read(const char *dir, struct uidlist *ul, struct stat *sb_r,
    const char **why_r)
{
	char path[4096];
	struct buf b;
	struct stat sb;
	int fd, rc = -1;

	*why_r = NULL;
	if ((size_t)snprintf(path, sizeof(path), "%s/dovecot-uidlist", dir) >=
	    sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &sb) < 0) {
		close(fd);
		return -1;
	}
	if ((uint64_t)sb.st_size > UIDLIST_MAX_SIZE) {
		close(fd);
		errno = EFBIG;
		return -1;
	}
	buf_init(&b, UIDLIST_MAX_SIZE);
	if (buf_reserve(&b, (size_t)sb.st_size + 1) < 0) {
		close(fd);
		errno = EFBIG;
		return -1;
	}
	for (;;) {
		ssize_t r;

		if (buf_reserve(&b, 65536) < 0) {
			errno = EFBIG;
			goto out;
		}
		r = read(fd, b.data + b.len, b.cap - b.len - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		if (r == 0)
			break;
		b.len += (size_t)r;
	}
	b.data[b.len] = '\0';
	if (uidlist_parse(ul, b.data, b.len, why_r) < 0) {
		errno = EINVAL;
		goto out;
	}
	if (sb_r != NULL)
		*sb_r = sb;
	rc = 1;
out:
	{
		int saved = errno;

		close(fd);
		buf_free(&b);
		errno = saved;
	}
	return rc;
}

void
uidlist_new_guid(char dst[33])
{
	unsigned char r[16];
	size_t got = 0;

	while (got < sizeof(r)) {
		ssize_t n = getrandom(r + got, sizeof(r) - got, 0);

		if (n <= 0) {
			/* never expected; still unique enough */
			memset(r + got, 0, sizeof(r) - got);
			r[0] ^= (unsigned char)time(NULL);
			r[1] ^= (unsigned char)getpid();
			break;
		}
		got += (size_t)n;
	}
	hex_encode(r, sizeof(r), dst);
}

uint32_t
uidvalidity_next(const char *root)
{
	char path[4096], oldc[4096], newc[4096];
	struct buf b;
	uint32_t cur = 0, next, now = (uint32_t)time(NULL);
	char txt[16];

	if (spath(path, sizeof(path), "%s/dovecot-uidvalidity", root) < 0)
		return (uint32_t)time(NULL);
	buf_init(&b, 64);
	if (fs_read_file(path, &b) == 1 && b.len >= 8) {
		char hex[9];
		unsigned long v;
		char *end;

		memcpy(hex, b.data, 8);
		hex[8] = '\0';
		v = strtoul(hex, &end, 16);
		if (*end == '\0')
			cur = (uint32_t)v;
	}
	buf_free(&b);
	next = cur < now ? now : cur + 1;
	if (next == 0)
		next = 1;
	if (spath(oldc, sizeof(oldc), "%s/dovecot-uidvalidity.%08x", root,
	    cur) < 0 || spath(newc, sizeof(newc),
	    "%s/dovecot-uidvalidity.%08x", root, next) < 0)
		return next;
	if (cur == 0 || rename(oldc, newc) < 0) {
		int fd = open(newc, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

		if (fd >= 0)
			close(fd);
		if (cur != 0)
			unlink(oldc);
	}
	snprintf(txt, sizeof(txt), "%08x", next);
	(void)fs_write_file_atomic(path, txt, 8, 0600);
	return next;
}

enum ferr
uidlist_create(const char *dir, uint32_t uidvalidity)
{
	char path[4096], text[128], guid[33];
	struct dotlock l;
	struct stat sb;
	enum ferr e;
	int n;

	if (spath(path, sizeof(path), "%s/dovecot-uidlist", dir) < 0)
		return FERR_INVALID;
	if (stat(path, &sb) == 0)
		return FERR_NONE;
	e = dotlock_take(&l, path, DOTLOCK_STALE_SECS, DOTLOCK_WAIT_MS);
	if (e != FERR_NONE)
		return e;
	if (stat(path, &sb) == 0) {
		dotlock_release(&l);
		return FERR_NONE;
	}
	uidlist_new_guid(guid);
	n = snprintf(text, sizeof(text), "3 V%u N1 G%s\n", uidvalidity, guid);
	return dotlock_replace(&l, text, (size_t)n);
}
