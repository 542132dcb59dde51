/*
 * msgmap - a message file mapped read-only into memory, so FETCH and
 * SEARCH can hand its bytes to the mail/ parsers without copying a 50 MB
 * message onto the heap. Maildir files never change once delivered (flag
 * changes are renames, expunges unlinks), so the mapping stays valid
 * while it is held even if the file is expunged meanwhile.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "imap/imap_int.h"

enum ferr
imap_msg_map(struct mbox *mb, uint32_t idx, struct imap_msgmap *m)
{
	struct stat sb;
	enum ferr e;
	void *p;
	int fd;

	memset(m, 0, sizeof(*m));
	m->data = "";
	e = mbox_msg_open(mb, idx, &fd);
	if (e != FERR_NONE)
		return e;
	if (fstat(fd, &sb) < 0) {
		e = ferr_from_errno(errno);
		close(fd);
		return e;
	}
	if (sb.st_size <= 0) {
		close(fd);
		return FERR_NONE;
	}
	p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return FERR_INTERNAL;
	m->map = p;
	m->maplen = (size_t)sb.st_size;
	m->data = p;
	m->len = (size_t)sb.st_size;
	return FERR_NONE;
}

void
imap_msg_unmap(struct imap_msgmap *m)
{
	if (m->map != NULL)
		munmap(m->map, m->maplen);
	memset(m, 0, sizeof(*m));
	m->data = "";
}
