/*
 * fsutil - file system helpers shared by the Maildir store and the queue,
 * above all the durable write: tmp file (O_EXCL), write, fsync, close,
 * rename into place, fsync the directory (STYLE.md 15). Nothing is
 * reported as written before the data and the name are both on disk.
 */
#ifndef CORE_FSUTIL_H
#define CORE_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "core/buf.h"

/* fs_write_all: write(2) until done, retrying EINTR. 0 or -1 (errno). */
int fs_write_all(int fd, const void *p, size_t n);
/* fs_fsync_dir: open dir O_DIRECTORY and fsync it. 0 or -1 (errno). */
int fs_fsync_dir(const char *dir);
/* fs_mkdir_p: mkdir -p with mode for each created level. 0 or -1. */
int fs_mkdir_p(const char *path, mode_t mode);
/*
 * fs_read_file: read a whole file into out (which must be initialised with
 * its max). Returns 1 read, 0 file does not exist, -1 error (errno;
 * EFBIG when larger than the buffer's max).
 */
int fs_read_file(const char *path, struct buf *out);
/*
 * fs_write_file_atomic: write data to "<path>.tmp.<pid>.<rand>", fsync,
 * rename over path, fsync the directory. 0 or -1 (errno; the temp file is
 * removed on failure).
 */
int fs_write_file_atomic(const char *path, const void *data, size_t len,
    mode_t mode);
/* fs_dirname: copy the directory part of path into dst ("." if none). */
void fs_dirname(const char *path, char *dst, size_t dstlen);
/* fs_rm_rf: remove a tree (no symlink following). 0 or -1. */
int fs_rm_rf(const char *path);

#endif
