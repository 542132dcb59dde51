/*
 * quota - Maildir++ quota in "<root>/maildirsize", as Dovecot's "maildir"
 * quota backend keeps it:
 *
 *   <bytes>S[,<count>C]       limits ("0S": none)
 *   <bytes> <count>           totals, written on recalculation
 *   <+-bytes> <+-count>       appended (O_APPEND) per delivery/expunge
 *
 * Recalculated (sizes from ",S=" in every folder's file names, else
 * stat) when the file is missing, its limits differ from the configured
 * ones, a total is negative, it grew past 5120 bytes, or it is over quota
 * and older than 15 minutes.
 */
#ifndef STORE_QUOTA_H
#define STORE_QUOTA_H

#include <stdint.h>
#include <stddef.h>

#include "core/err.h"

#define QUOTA_FILE_MAX		5120
#define QUOTA_STALE_SECS	(15 * 60)

struct quota_state {
	uint64_t	bytes_limit;	/* 0: none */
	uint64_t	count_limit;	/* 0: none */
	int64_t		bytes;
	int64_t		count;
	int		lines;		/* lines after the limits */
};

/*
 * quota_parse: parse maildirsize text. Returns 0, or -1 when the file
 * must be recalculated (bad limit line, bad numbers, negative totals,
 * truncated line, too big).
 */
int quota_parse(const char *data, size_t len, struct quota_state *q);
/*
 * quota_get: current usage for the Maildir at root with the configured
 * byte limit (0 = none); recalculates and rewrites the file when needed.
 */
enum ferr quota_get(const char *root, uint64_t limit, struct quota_state *q)
    __attribute__((warn_unused_result));
/* quota_recalc: scan every folder and rewrite maildirsize. */
enum ferr quota_recalc(const char *root, uint64_t limit,
    struct quota_state *q) __attribute__((warn_unused_result));
/*
 * quota_check: FERR_QUOTA if adding bytes/count would exceed the limits,
 * FERR_NONE otherwise (also when limit is 0 and there is no file).
 */
enum ferr quota_check(const char *root, uint64_t limit, uint64_t bytes,
    uint64_t count) __attribute__((warn_unused_result));
/* quota_folder_usage: add the sizes and count of a folder's messages. */
void quota_folder_usage(const char *dir, int64_t *bytes, int64_t *count);
/*
 * quota_update: append "<bytes> <count>" to maildirsize (if it exists:
 * a missing file is recalculated by the next reader). Errors are logged
 * and ignored: the file is advisory and recalculated when wrong.
 */
void quota_update(const char *root, int64_t bytes, int64_t count);

#endif
