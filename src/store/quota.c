/*
 * quota - Maildir++ maildirsize (see quota.h).
 *
 * Input: a small file others append to; bounded (QUOTA_FILE_MAX), any
 * inconsistency leads to a recalculation rather than an error.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/strnum.h"
#include "store/dotlock.h"
#include "store/spath.h"
#include "store/mdname.h"
#include "store/quota.h"

/* Parse a signed decimal of n bytes. */
static int
quota_s64(const char *s, size_t n, int64_t *v)
{
	uint64_t u;
	int neg = 0;

	if (n > 0 && (s[0] == '-' || s[0] == '+')) {
		neg = s[0] == '-';
		s++;
		n--;
	}
	if (str_to_u64n(s, n, &u) < 0 || u > INT64_MAX)
		return -1;
	*v = neg ? -(int64_t)u : (int64_t)u;
	return 0;
}

int
quota_parse(const char *data, size_t len, struct quota_state *q)
{
	const char *p = data, *end = data + len, *nl, *c;

	memset(q, 0, sizeof(*q));
	if (len > QUOTA_FILE_MAX || memchr(data, '\0', len) != NULL)
		return -1;
	nl = memchr(p, '\n', len);
	if (nl == NULL)
		return -1;
	/* limit line: items "<n>S" / "<n>C" separated by ',' */
	c = p;
	while (c < nl) {
		const char *e = memchr(c, ',', (size_t)(nl - c));
		uint64_t v;

		if (e == NULL)
			e = nl;
		if (e - c < 2 || str_to_u64n(c, (size_t)(e - c - 1), &v) < 0)
			return -1;
		if (e[-1] == 'S')
			q->bytes_limit = v;
		else if (e[-1] == 'C')
			q->count_limit = v;
		else
			return -1;
		c = e + 1;
	}
	p = nl + 1;
	while (p < end) {
		const char *sp;
		int64_t b, n;

		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			return -1;	/* truncated append */
		sp = memchr(p, ' ', (size_t)(nl - p));
		if (sp == NULL || quota_s64(p, (size_t)(sp - p), &b) < 0 ||
		    quota_s64(sp + 1, (size_t)(nl - sp - 1), &n) < 0)
			return -1;
		q->bytes += b;
		q->count += n;
		q->lines++;
		p = nl + 1;
	}
	if (q->bytes < 0 || q->count < 0 || q->lines == 0)
		return -1;
	return 0;
}

/* Add the sizes of the files in dir (cur or new). */
static void
quota_scan_dir(const char *dir, int64_t *bytes, int64_t *count)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		struct mdname mn;
		struct stat sb;
		char path[4096];

		if (de->d_name[0] == '.')
			continue;
		if (mdname_parse(de->d_name, &mn) < 0)
			continue;
		if (mn.has_size) {
			*bytes += (int64_t)mn.size;
			(*count)++;
			continue;
		}
		if (spath(path, sizeof(path), "%s/%s", dir, de->d_name) < 0)
			continue;
		if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
			*bytes += (int64_t)sb.st_size;
			(*count)++;
		}
	}
	closedir(d);
}

void
quota_folder_usage(const char *dir, int64_t *bytes, int64_t *count)
{
	char sub[4096];

	if (spath(sub, sizeof(sub), "%s/cur", dir) == 0)
		quota_scan_dir(sub, bytes, count);
	if (spath(sub, sizeof(sub), "%s/new", dir) == 0)
		quota_scan_dir(sub, bytes, count);
}

enum ferr
quota_recalc(const char *root, uint64_t limit, struct quota_state *q)
{
	char path[4096], text[128];
	struct dotlock l;
	struct dirent *de;
	enum ferr e;
	DIR *d;
	int n;

	memset(q, 0, sizeof(*q));
	q->bytes_limit = limit;
	quota_folder_usage(root, &q->bytes, &q->count);
	d = opendir(root);
	if (d == NULL)
		return ferr_from_errno(errno);
	while ((de = readdir(d)) != NULL) {
		char sub[4096];
		struct stat sb;

		/* ".Name" folders; "..X" (trash of a delete) is not one */
		if (de->d_name[0] != '.' || de->d_name[1] == '\0' ||
		    de->d_name[1] == '.')
			continue;
		if (spath(sub, sizeof(sub), "%s/%s", root, de->d_name) < 0)
			continue;
		if (stat(sub, &sb) < 0 || !S_ISDIR(sb.st_mode))
			continue;
		quota_folder_usage(sub, &q->bytes, &q->count);
	}
	closedir(d);
	q->lines = 1;
	if (spath(path, sizeof(path), "%s/maildirsize", root) < 0)
		return FERR_INVALID;
	e = dotlock_take(&l, path, DOTLOCK_STALE_SECS, 2000);
	if (e != FERR_NONE)
		return FERR_NONE;	/* someone else recalculates */
	n = snprintf(text, sizeof(text), "%" PRIu64 "S\n%" PRId64 " %" PRId64
	    "\n", limit, q->bytes, q->count);
	e = dotlock_replace(&l, text, (size_t)n);
	if (e != FERR_NONE)
		log_warn("store quota rewrite failed path=%s error=%s", path,
		    ferr_name(e));
	return FERR_NONE;
}

enum ferr
quota_get(const char *root, uint64_t limit, struct quota_state *q)
{
	char path[4096];
	struct buf b;
	struct stat sb;
	int rc, bad;

	if (spath(path, sizeof(path), "%s/maildirsize", root) < 0)
		return FERR_INVALID;
	buf_init(&b, QUOTA_FILE_MAX + 1);
	rc = fs_read_file(path, &b);
	bad = rc != 1 || quota_parse(b.data != NULL ? b.data : "", b.len,
	    q) < 0;
	buf_free(&b);
	if (rc < 0 && errno != EFBIG)
		return ferr_from_errno(errno);
	if (!bad && q->bytes_limit == limit && q->count_limit == 0) {
		int over = limit != 0 && (uint64_t)q->bytes > limit;

		if (!over || (q->lines <= 1))
			return FERR_NONE;
		if (stat(path, &sb) == 0 &&
		    time(NULL) - sb.st_mtime < QUOTA_STALE_SECS)
			return FERR_NONE;
	}
	return quota_recalc(root, limit, q);
}

enum ferr
quota_check(const char *root, uint64_t limit, uint64_t bytes, uint64_t count)
{
	struct quota_state q;
	enum ferr e;

	(void)count;
	if (limit == 0)
		return FERR_NONE;
	e = quota_get(root, limit, &q);
	if (e != FERR_NONE)
		return e;
	if ((uint64_t)q.bytes + bytes > limit)
		return FERR_QUOTA;
	return FERR_NONE;
}

void
quota_update(const char *root, int64_t bytes, int64_t count)
{
	char path[4096], line[64];
	int fd, n;

	if (spath(path, sizeof(path), "%s/maildirsize", root) < 0)
		return;
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return;
	n = snprintf(line, sizeof(line), "%" PRId64 " %" PRId64 "\n", bytes,
	    count);
	if (fs_write_all(fd, line, (size_t)n) < 0)
		log_warn("store quota update failed path=%s errno=%d", path,
		    errno);
	close(fd);
}
