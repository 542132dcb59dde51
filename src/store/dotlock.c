/*
 * dotlock - O_EXCL dot-locks with stale takeover (see dotlock.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "store/dotlock.h"

enum ferr
dotlock_take(struct dotlock *l, const char *file, int stale_secs, int wait_ms)
{
	int waited = 0, sleep_ms = 2;

	l->fd = -1;
	l->held = 0;
	if ((size_t)snprintf(l->path, sizeof(l->path), "%s.lock", file) >=
	    sizeof(l->path) ||
	    (size_t)snprintf(l->target, sizeof(l->target), "%s", file) >=
	    sizeof(l->target))
		return FERR_INVALID;
	for (;;) {
		struct stat sb;
		struct timespec ts;

		l->fd = open(l->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		    0600);
		if (l->fd >= 0) {
			l->held = 1;
			return FERR_NONE;
		}
		if (errno != EEXIST)
			return ferr_from_errno(errno);
		if (stat(l->path, &sb) == 0 &&
		    time(NULL) - sb.st_mtime > stale_secs) {
			/* stale: the holder died; take it over */
			if (unlink(l->path) == 0 || errno == ENOENT)
				continue;
		}
		if (waited >= wait_ms)
			return FERR_TEMP;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)sleep_ms * 1000000L;
		nanosleep(&ts, NULL);
		waited += sleep_ms;
		if (sleep_ms < 50)
			sleep_ms *= 2;
	}
}

enum ferr
dotlock_replace(struct dotlock *l, const void *data, size_t len)
{
	enum ferr e = FERR_NONE;

	if (l->fd < 0 || !l->held)
		return FERR_INTERNAL;
	if (fs_write_all(l->fd, data, len) < 0 || fdatasync(l->fd) < 0) {
		e = ferr_from_errno(errno);
		goto fail;
	}
	if (close(l->fd) < 0) {
		l->fd = -1;
		e = ferr_from_errno(errno);
		goto fail;
	}
	l->fd = -1;
	if (rename(l->path, l->target) < 0) {
		e = ferr_from_errno(errno);
		goto fail;
	}
	l->held = 0;
	return FERR_NONE;
fail:
	dotlock_release(l);
	return e == FERR_NONE ? FERR_INTERNAL : e;
}

void
dotlock_release(struct dotlock *l)
{
	if (l->fd >= 0) {
		close(l->fd);
		l->fd = -1;
	}
	if (l->held)
		unlink(l->path);
	l->held = 0;
}
