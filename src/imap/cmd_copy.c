/*
 * cmd_copy - COPY, MOVE (RFC 6851) and their UID forms, answering with
 * COPYUID (RFC 4315 UIDPLUS). A missing target gets NO [TRYCREATE]; a
 * copy over quota NO [OVERQUOTA] (nothing is copied then).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "imap/imap_int.h"
#include "net/conn.h"

/* uid_pairs_format: "src-set dst-set" for COPYUID, runs compressed where
 * both sides are consecutive. 0 or -1 (too long for out). */
static int
uid_pairs_format(const uint32_t *src, const uint32_t *dst, size_t n,
    struct buf *a, struct buf *b)
{
	size_t i = 0, j;

	while (i < n) {
		j = i;
		while (j + 1 < n && src[j + 1] == src[j] + 1 &&
		    dst[j + 1] == dst[j] + 1)
			j++;
		if (j == i) {
			if (buf_printf(a, "%s%u", i ? "," : "", src[i]) < 0 ||
			    buf_printf(b, "%s%u", i ? "," : "", dst[i]) < 0)
				return -1;
		} else {
			if (buf_printf(a, "%s%u:%u", i ? "," : "", src[i],
			    src[j]) < 0 || buf_printf(b, "%s%u:%u",
			    i ? "," : "", dst[i], dst[j]) < 0)
				return -1;
		}
		i = j + 1;
	}
	return 0;
}

static int
do_copy(struct imap_session *s, const struct imap_arg *args, size_t nargs,
    bool move)
{
	char name[MSTORE_NAME_MAX + 1];
	const char *why;
	struct seqset set;
	uint32_t *idx, *src, *dst, uidv = 0;
	struct buf a, b;
	size_t n, i;
	enum ferr e;
	int ex;

	if (nargs != 2)
		return imap_bad(s, "Sequence set and mailbox expected");
	if (imap_mbname(&args[1], name, sizeof(name), &why) < 0)
		return imap_tagged(s, "NO", "[CANNOT] %s", why);
	if (!mstore_name_is_inbox(name) && mstore_name_check(name, &why) < 0)
		return imap_tagged(s, "NO", "[CANNOT] Invalid mailbox name: "
		    "%s", why);
	if (imap_seqset_arg(s, &args[0], s->uid, &set, &why) < 0)
		return imap_bad(s, why);
	if (move && mbox_readonly(s->mb)) {
		seqset_free(&set);
		return imap_tagged(s, "NO", "[CANNOT] Mailbox is "
		    "read-only");
	}
	ex = mstore_exists(s->st, name);
	if (ex == 0) {
		seqset_free(&set);
		return imap_tagged(s, "NO", "[TRYCREATE] Mailbox doesn't "
		    "exist: %s", name);
	}
	idx = imap_seqset_indexes(s, &set, s->uid, &n);
	seqset_free(&set);
	if (n == 0) {
		free(idx);
		if (imap_sync(s, true) < 0)
			return -1;
		return imap_tagged(s, "OK", "No messages found.");
	}
	if (move && strcmp(name, mbox_name(s->mb)) == 0) {
		free(idx);
		return imap_tagged(s, "NO", "[CANNOT] Source and destination "
		    "are the same mailbox");
	}
	src = calloc(n, sizeof(*src));
	dst = calloc(n, sizeof(*dst));
	if (src == NULL || dst == NULL) {
		free(idx);
		free(src);
		free(dst);
		return imap_no_ferr(s, FERR_INTERNAL, NULL);
	}
	for (i = 0; i < n; i++)
		src[i] = mbox_msg_uid(s->mb, idx[i]);
	if (move)
		e = mbox_move(s->mb, idx, n, name, dst, &uidv);
	else
		e = mbox_copy(s->mb, idx, n, name, dst, &uidv);
	free(idx);
	if (e != FERR_NONE) {
		free(src);
		free(dst);
		if (e == FERR_NOTFOUND && mstore_exists(s->st, name) == 0)
			return imap_tagged(s, "NO", "[TRYCREATE] Mailbox "
			    "doesn't exist: %s", name);
		if (e == FERR_NOTFOUND)
			return imap_tagged(s, "NO", "[EXPUNGEISSUED] Some of "
			    "the requested messages no longer exist");
		if (e == FERR_QUOTA || e == FERR_NOSPACE)
			return imap_tagged(s, "NO", "[OVERQUOTA] Quota "
			    "exceeded");
		return imap_no_ferr(s, e, NULL);
	}
	buf_init(&a, 1024 * 1024);
	buf_init(&b, 1024 * 1024);
	if (uid_pairs_format(src, dst, n, &a, &b) < 0) {
		buf_reset(&a);
		buf_reset(&b);
	}
	free(src);
	free(dst);
	if (move) {
		if (a.len > 0)
			imap_printf(s, "* OK [COPYUID %u ", uidv);
		if (a.len > 0) {
			conn_write(s->c, a.data, a.len);
			conn_write(s->c, " ", 1);
			conn_write(s->c, b.data, b.len);
			conn_puts(s->c, "] Moved UIDs.\r\n");
		}
		if (imap_sync(s, true) < 0) {
			buf_free(&a);
			buf_free(&b);
			return -1;
		}
		imap_tagged(s, "OK", "Move completed.");
	} else {
		if (imap_sync(s, true) < 0) {
			buf_free(&a);
			buf_free(&b);
			return -1;
		}
		if (a.len > 0) {
			imap_printf(s, "%s OK [COPYUID %u ", s->tag, uidv);
			conn_write(s->c, a.data, a.len);
			conn_write(s->c, " ", 1);
			conn_write(s->c, b.data, b.len);
			conn_puts(s->c, "] Copy completed.\r\n");
		} else {
			imap_tagged(s, "OK", "Copy completed.");
		}
	}
	buf_free(&a);
	buf_free(&b);
	return 0;
}

int
imap_cmd_copy(struct imap_session *s, const struct imap_arg *args, size_t nargs)
{
	return do_copy(s, args, nargs, false);
}

int
imap_cmd_move(struct imap_session *s, const struct imap_arg *args, size_t nargs)
{
	return do_copy(s, args, nargs, true);
}
