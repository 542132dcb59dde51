/*
 * dotlock - Dovecot-compatible dot-locks: "<file>.lock" created with
 * O_EXCL; a lock whose mtime is older than the stale time is taken over
 * (Dovecot: 120 s for dovecot-uidlist and dovecot-keywords). The holder
 * may replace the file atomically by writing the new contents into the
 * lock file and renaming it over the file (what Dovecot does).
 */
#ifndef STORE_DOTLOCK_H
#define STORE_DOTLOCK_H

#include <stddef.h>

#include "core/err.h"

#define DOTLOCK_STALE_SECS	120
#define DOTLOCK_WAIT_MS		10000

struct dotlock {
	int	fd;		/* the lock file, -1 when not held */
	int	held;		/* the lock file is ours */
	char	path[4096];	/* "<file>.lock" */
	char	target[4096];	/* "<file>" */
};

/*
 * dotlock_take: lock file (its path, without ".lock"), waiting up to
 * wait_ms and taking over a lock older than stale_secs. FERR_NONE,
 * FERR_TEMP (busy), or another error from errno (FERR_NOTFOUND when the
 * directory is gone).
 */
enum ferr dotlock_take(struct dotlock *l, const char *file, int stale_secs,
    int wait_ms) __attribute__((warn_unused_result));
/*
 * dotlock_replace: write data into the lock file, fdatasync it and rename
 * it over the target; releases the lock. FERR_NONE or an error (the lock
 * is released either way).
 */
enum ferr dotlock_replace(struct dotlock *l, const void *data, size_t len)
    __attribute__((warn_unused_result));
/* dotlock_release: remove the lock file without touching the target. */
void dotlock_release(struct dotlock *l);

#endif
