/*
 * keywords - read and extend dovecot-keywords (see keywords.h).
 *
 * Input: a file others write; bounded to 64 KiB, bad lines skipped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "core/str.h"
#include "core/strnum.h"
#include "core/xmalloc.h"
#include "store/dotlock.h"
#include "store/spath.h"
#include "store/keywords.h"

#define KEYWORDS_FILE_MAX	(64 * 1024)

void
keywords_init(struct keywords *kw)
{
	memset(kw, 0, sizeof(*kw));
}

void
keywords_free(struct keywords *kw)
{
	size_t i;

	for (i = 0; i < KEYWORDS_MAX; i++)
		free(kw->names[i]);
	keywords_init(kw);
}

bool
keywords_name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > 128 || name[0] == '\\')
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
			return false;
	}
	return true;
}

int
keywords_parse(struct keywords *kw, const char *data, size_t len)
{
	const char *p = data, *end = data + len;
	int skipped = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *sp;
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		uint32_t idx;
		char name[129];

		sp = memchr(p, ' ', n);
		if (n == 0) {
			/* empty line */
		} else if (sp == NULL ||
		    str_to_u32n(p, (size_t)(sp - p), &idx) < 0 ||
		    idx >= KEYWORDS_MAX || kw->names[idx] != NULL ||
		    (size_t)(p + n - sp - 1) >= sizeof(name)) {
			skipped++;
		} else {
			memcpy(name, sp + 1, (size_t)(p + n - sp - 1));
			name[p + n - sp - 1] = '\0';
			if (!keywords_name_ok(name) ||
			    keywords_find(kw, name) >= 0)
				skipped++;
			else {
				kw->names[idx] = xstrdup(name);
				if (idx + 1 > kw->count)
					kw->count = idx + 1;
			}
		}
		p += n + 1;
	}
	return skipped;
}

int
keywords_read(const char *dir, struct keywords *kw, struct stat *sb_r)
{
	char path[4096];
	struct buf b;
	int rc;

	keywords_free(kw);
	if (spath(path, sizeof(path), "%s/dovecot-keywords", dir) < 0)
		return -1;
	if (sb_r != NULL && stat(path, sb_r) < 0) {
		if (errno != ENOENT)
			return -1;
		memset(sb_r, 0, sizeof(*sb_r));
	}
	buf_init(&b, KEYWORDS_FILE_MAX);
	rc = fs_read_file(path, &b);
	if (rc == 1)
		(void)keywords_parse(kw, b.data != NULL ? b.data : "", b.len);
	buf_free(&b);
	return rc;
}

int
keywords_find(const struct keywords *kw, const char *name)
{
	size_t i;

	for (i = 0; i < kw->count; i++) {
		if (kw->names[i] != NULL && str_ieq(kw->names[i], name))
			return (int)i;
	}
	return -1;
}

enum ferr
keywords_alloc(const char *dir, struct keywords *kw, const char *name,
    unsigned *idx_r)
{
	char path[4096];
	struct dotlock l;
	struct buf out;
	enum ferr e;
	size_t i;
	int idx;

	if (!keywords_name_ok(name))
		return FERR_INVALID;
	idx = keywords_find(kw, name);
	if (idx >= 0) {
		*idx_r = (unsigned)idx;
		return FERR_NONE;
	}
	if (spath(path, sizeof(path), "%s/dovecot-keywords", dir) < 0)
		return FERR_INVALID;
	e = dotlock_take(&l, path, DOTLOCK_STALE_SECS, DOTLOCK_WAIT_MS);
	if (e != FERR_NONE)
		return e;
	if (keywords_read(dir, kw, NULL) < 0) {
		dotlock_release(&l);
		return ferr_from_errno(errno);
	}
	idx = keywords_find(kw, name);
	if (idx >= 0) {
		dotlock_release(&l);
		*idx_r = (unsigned)idx;
		return FERR_NONE;
	}
	for (i = 0; i < KEYWORDS_MAX && kw->names[i] != NULL; i++)
		;
	if (i == KEYWORDS_MAX) {
		dotlock_release(&l);
		return FERR_LIMIT;
	}
	kw->names[i] = xstrdup(name);
	if (i + 1 > kw->count)
		kw->count = i + 1;
	buf_init(&out, KEYWORDS_FILE_MAX);
	for (i = 0; i < kw->count; i++) {
		if (kw->names[i] != NULL &&
		    buf_printf(&out, "%zu %s\n", i, kw->names[i]) < 0) {
			buf_free(&out);
			dotlock_release(&l);
			return FERR_INTERNAL;
		}
	}
	e = dotlock_replace(&l, out.data, out.len);
	buf_free(&out);
	if (e == FERR_NONE)
		*idx_r = (unsigned)keywords_find(kw, name);
	return e;
}
