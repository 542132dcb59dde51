/*
 * cmd_store - STORE and UID STORE (RFC 3501 6.4.6): FLAGS, +FLAGS, -FLAGS
 * and their .SILENT forms, with keywords allocated on first use (at most
 * 26 per mailbox, the Dovecot Maildir limit: NO [LIMIT] beyond).
 */
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "imap/imap_int.h"
#include "net/conn.h"

#define STORE_KW_MAX 64

int
imap_cmd_store(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	const char *kw[STORE_KW_MAX], *why, *item;
	const char *const *names;
	struct imap_arg flaglist;
	enum mbox_store_op op;
	struct seqset set;
	uint32_t *idx, mask = 0;
	size_t n, i, nkw, nkw_before;
	unsigned flags, k;
	bool silent;
	enum ferr e, err = FERR_NONE;
	int r;

	if (nargs < 3 || args[1].type != IMAP_ARG_ATOM)
		return imap_bad(s, "STORE needs a set, an item and flags");
	item = args[1].str;
	if (str_iprefix(item, "+FLAGS")) {
		op = MBOX_STORE_ADD;
		item += 6;
	} else if (str_iprefix(item, "-FLAGS")) {
		op = MBOX_STORE_REMOVE;
		item += 6;
	} else if (str_iprefix(item, "FLAGS")) {
		op = MBOX_STORE_SET;
		item += 5;
	} else {
		return imap_bad(s, "Invalid STORE item");
	}
	if (*item == '\0')
		silent = false;
	else if (str_ieq(item, ".SILENT"))
		silent = true;
	else
		return imap_bad(s, "Invalid STORE item");
	if (nargs == 3) {
		flaglist = args[2];
	} else {
		memset(&flaglist, 0, sizeof(flaglist));
		flaglist.type = IMAP_ARG_LIST;
		flaglist.list = (struct imap_arg *)(uintptr_t)&args[2];
		flaglist.count = nargs - 2;
	}
	if (imap_flags_parse(&flaglist, &flags, kw, STORE_KW_MAX, &nkw,
	    &why) < 0)
		return imap_bad(s, why);
	if (mbox_readonly(s->mb))
		return imap_tagged(s, "NO", "[CANNOT] Mailbox is "
		    "read-only");
	if (imap_seqset_arg(s, &args[0], s->uid, &set, &why) < 0)
		return imap_bad(s, why);
	nkw_before = mbox_keywords(s->mb, &names);
	for (i = 0; i < nkw; i++) {
		r = mbox_keyword_index(s->mb, kw[i], op != MBOX_STORE_REMOVE,
		    &k, &e);
		if (r < 0) {
			seqset_free(&set);
			if (e == FERR_LIMIT)
				return imap_tagged(s, "NO", "[LIMIT] Too many "
				    "keywords in this mailbox");
			return imap_no_ferr(s, e, NULL);
		}
		if (r == 1 && k < 32)
			mask |= 1u << k;
	}
	if (mbox_keywords(s->mb, &names) != nkw_before)
		imap_send_flags_lists(s);
	idx = imap_seqset_indexes(s, &set, s->uid, &n);
	seqset_free(&set);
	for (i = 0; i < n; i++) {
		e = mbox_store(s->mb, idx[i], op, flags, mask);
		if (e != FERR_NONE) {
			if (err == FERR_NONE)
				err = e;
			continue;
		}
		if (silent)
			continue;
		imap_printf(s, "* %u FETCH (", idx[i] + 1);
		if (s->uid)
			imap_printf(s, "UID %u ", mbox_msg_uid(s->mb, idx[i]));
		imap_printf(s, "FLAGS ");
		imap_write_flags(s, mbox_msg_flags(s->mb, idx[i]),
		    mbox_msg_keywords(s->mb, idx[i]));
		imap_printf(s, ")\r\n");
	}
	free(idx);
	if (imap_sync(s, s->uid) < 0)
		return -1;
	if (err == FERR_NOTFOUND)
		return imap_tagged(s, "NO", "Some of the messages no longer "
		    "exist.");
	if (err != FERR_NONE)
		return imap_no_ferr(s, err, NULL);
	imap_tagged(s, "OK", "Store completed.");
	return 0;
}
