/*
 * subs - read and rewrite the subscriptions file (see subs.h).
 *
 * Input: a file others write; bounded by SUBS_FILE_MAX, lines with
 * control bytes (after unescaping) dropped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "core/str.h"
#include "core/xmalloc.h"
#include "store/dotlock.h"
#include "store/spath.h"
#include "store/subs.h"

void
subs_free(char ***namesp, size_t n)
{
	size_t i;

	if (*namesp == NULL)
		return;
	for (i = 0; i < n; i++)
		free((*namesp)[i]);
	free(*namesp);
	*namesp = NULL;
}

static void
subs_push(char ***names, size_t *n, size_t *cap, char *s)
{
	size_t i;

	for (i = 0; i < *n; i++) {
		if (strcmp((*names)[i], s) == 0) {
			free(s);
			return;
		}
	}
	if (*n == *cap) {
		*cap = *cap == 0 ? 16 : *cap * 2;
		*names = xreallocarray(*names, *cap, sizeof(**names));
	}
	(*names)[(*n)++] = s;
}

/* Decode one v2 line (n bytes): TAB -> '.', \001x unescaped. */
static char *
subs_decode_v2(const char *s, size_t n)
{
	char *out = xmalloc(n + 1);
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '\t')
			c = '.';
		else if (c == '\001') {
			if (++i == n) {
				free(out);
				return NULL;
			}
			switch (s[i]) {
			case '1': c = '\001'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'n': c = '\n'; break;
			default: c = s[i]; break;
			}
		}
		out[o++] = c;
	}
	out[o] = '\0';
	if (o == 0 || str_has_ctl(out, o)) {
		free(out);
		return NULL;
	}
	return out;
}

int
subs_parse(const char *data, size_t len, char ***names_r, size_t *n_r,
    int *version_r)
{
	const char *p = data, *end = data + len;
	size_t cap = 0;
	int version = 1;

	*names_r = NULL;
	*n_r = 0;
	if (len >= 2 && data[0] == 'V' && data[1] == '\t') {
		const char *nl = memchr(data, '\n', len);

		if (nl == NULL || nl - data != 3 || data[2] != '2')
			return -1;
		version = 2;
		p = nl + 1;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		char *s = NULL;

		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > 0) {
			if (version == 2)
				s = subs_decode_v2(p, n);
			else if (!str_has_ctl(p, n) &&
			    memchr(p, '\0', n) == NULL)
				s = xstrndup(p, n);
		}
		if (s != NULL)
			subs_push(names_r, n_r, &cap, s);
		p += (nl != NULL ? (size_t)(nl - p) : n) + 1;
	}
	*version_r = version;
	return 0;
}

int
subs_format(char *const *names, size_t n, int version, struct buf *out)
{
	size_t i;

	if (version == 2 && buf_puts(out, "V\t2\n\n") < 0)
		return -1;
	for (i = 0; i < n; i++) {
		const char *c;

		if (version != 2) {
			if (buf_printf(out, "%s\n", names[i]) < 0)
				return -1;
			continue;
		}
		for (c = names[i]; *c != '\0'; c++) {
			int rc;

			switch (*c) {
			case '.': rc = buf_putc(out, '\t'); break;
			case '\001': rc = buf_puts(out, "\0011"); break;
			case '\t': rc = buf_puts(out, "\001t"); break;
			case '\r': rc = buf_puts(out, "\001r"); break;
			case '\n': rc = buf_puts(out, "\001n"); break;
			default: rc = buf_putc(out, *c); break;
			}
			if (rc < 0)
				return -1;
		}
		if (buf_putc(out, '\n') < 0)
			return -1;
	}
	return 0;
}

enum ferr
subs_read(const char *root, char ***names_r, size_t *n_r, int *version_r)
{
	char path[4096];
	struct buf b;
	int rc;

	*names_r = NULL;
	*n_r = 0;
	*version_r = 2;
	if (spath(path, sizeof(path), "%s/subscriptions", root) < 0)
		return FERR_INVALID;
	buf_init(&b, SUBS_FILE_MAX);
	rc = fs_read_file(path, &b);
	if (rc < 0) {
		int saved = errno;

		buf_free(&b);
		return ferr_from_errno(saved);
	}
	if (rc == 1 && subs_parse(b.data != NULL ? b.data : "", b.len,
	    names_r, n_r, version_r) < 0) {
		buf_free(&b);
		return FERR_INTERNAL;
	}
	buf_free(&b);
	return FERR_NONE;
}

enum ferr
subs_set(const char *root, const char *name, bool on)
{
	char path[4096];
	char **names = NULL;
	size_t n = 0, i, cap;
	struct dotlock l;
	struct buf out;
	enum ferr e;
	int version, found = -1;

	if (spath(path, sizeof(path), "%s/subscriptions", root) < 0)
		return FERR_INVALID;
	e = dotlock_take(&l, path, DOTLOCK_STALE_SECS, DOTLOCK_WAIT_MS);
	if (e != FERR_NONE)
		return e;
	e = subs_read(root, &names, &n, &version);
	if (e != FERR_NONE) {
		dotlock_release(&l);
		return e;
	}
	for (i = 0; i < n; i++) {
		if (strcmp(names[i], name) == 0)
			found = (int)i;
	}
	if ((found >= 0) == on) {
		subs_free(&names, n);
		dotlock_release(&l);
		return FERR_NONE;
	}
	if (on) {
		cap = n;
		subs_push(&names, &n, &cap, xstrdup(name));
	} else {
		free(names[found]);
		memmove(&names[found], &names[found + 1],
		    (n - (size_t)found - 1) * sizeof(*names));
		n--;
	}
	buf_init(&out, SUBS_FILE_MAX);
	if (subs_format(names, n, version, &out) < 0) {
		buf_free(&out);
		subs_free(&names, n);
		dotlock_release(&l);
		return FERR_LIMIT;
	}
	e = dotlock_replace(&l, out.data != NULL ? out.data : "", out.len);
	buf_free(&out);
	subs_free(&names, n);
	return e;
}
