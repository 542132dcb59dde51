/*
 * cmd_select - the selected state: SELECT, EXAMINE, CLOSE, UNSELECT
 * (RFC 3691), CHECK, EXPUNGE and UID EXPUNGE (RFC 4315), and the untagged
 * updates other sessions' changes cause (RFC 3501 7.3, 7.4, 5.2: EXPUNGE
 * is never sent during FETCH, STORE or SEARCH, the caller says whether it
 * may be).
 */
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "imap/imap_int.h"
#include "net/conn.h"

void
imap_unselect(struct imap_session *s)
{
	fetch_crlf_index_free(&s->ix);
	s->ix_mb = NULL;
	if (s->mb != NULL)
		mbox_close(&s->mb);
	s->exists = 0;
	s->recent = 0;
	if (s->state == IMAP_ST_SELECTED)
		s->state = IMAP_ST_AUTH;
}

int
imap_sync(struct imap_session *s, bool allow_expunge)
{
	struct mbox_changes ch;
	enum ferr e;
	size_t i;
	uint32_t idx;

	if (s->mb == NULL)
		return 0;
	memset(&ch, 0, sizeof(ch));
	e = mbox_sync(s->mb, allow_expunge ? 0 : MBOX_SYNC_NO_EXPUNGE, &ch);
	if (e != FERR_NONE) {
		log_warn("%s imap sync user=\"%s\" error=%s", s->sid, s->user,
		    ferr_name(e));
		return 0;
	}
	if (ch.uidvalidity_changed) {
		mbox_changes_free(&ch);
		imap_printf(s, "* BYE Mailbox was recreated, please "
		    "reconnect\r\n");
		s->close_reason = "uidvalidity changed";
		return -1;
	}
	for (i = 0; i < ch.nexpunged; i++) {
		imap_printf(s, "* %u EXPUNGE\r\n", ch.expunged_seq[i]);
		if (s->exists > 0)
			s->exists--;
	}
	if (ch.keywords_changed)
		imap_send_flags_lists(s);
	if (ch.exists != s->exists) {
		imap_printf(s, "* %u EXISTS\r\n", ch.exists);
		s->exists = ch.exists;
	}
	if (ch.recent != s->recent) {
		imap_printf(s, "* %u RECENT\r\n", ch.recent);
		s->recent = ch.recent;
	}
	for (i = 0; i < ch.nchanged; i++) {
		idx = ch.changed[i];
		if (idx >= mbox_count(s->mb))
			continue;
		imap_printf(s, "* %u FETCH (", idx + 1);
		if (s->uid)
			imap_printf(s, "UID %u ", mbox_msg_uid(s->mb, idx));
		imap_printf(s, "FLAGS ");
		imap_write_flags(s, mbox_msg_flags(s->mb, idx),
		    mbox_msg_keywords(s->mb, idx));
		imap_printf(s, ")\r\n");
	}
	mbox_changes_free(&ch);
	return 0;
}

int
imap_seqset_arg(struct imap_session *s, const struct imap_arg *a,
    bool uid, struct seqset *set, const char **why_r)
{
	uint32_t count = mbox_count(s->mb), star;
	size_t i;

	if (a->type != IMAP_ARG_ATOM || seqset_parse(a->str, set) < 0) {
		*why_r = "Invalid sequence set";
		return -1;
	}
	if (uid) {
		star = count > 0 ? mbox_msg_uid(s->mb, count - 1) : 0;
		seqset_resolve(set, star);
		return 0;
	}
	for (i = 0; i < set->n; i++) {
		/* "1:*" in an empty mailbox is common (clients syncing
		 * flags): an empty set, not an error */
		if (count == 0 && (set->r[i].lo == SEQSET_STAR ||
		    set->r[i].hi == SEQSET_STAR))
			continue;
		if ((set->r[i].lo != SEQSET_STAR && set->r[i].lo > count) ||
		    (set->r[i].hi != SEQSET_STAR && set->r[i].hi > count)) {
			seqset_free(set);
			*why_r = "[CLIENTBUG] Invalid messageset "
			    "(message number too large)";
			return -1;
		}
	}
	seqset_resolve(set, count);
	return 0;
}

uint32_t *
imap_seqset_indexes(struct imap_session *s, const struct seqset *set,
    bool uid, size_t *n_r)
{
	uint32_t *v = NULL, first, last, j;
	size_t n = 0, cap = 0, i;
	uint32_t count = mbox_count(s->mb);

	for (i = 0; i < set->n; i++) {
		if (uid) {
			if (mbox_uid_range(s->mb, set->r[i].lo, set->r[i].hi,
			    &first, &last) != 1)
				continue;
		} else {
			if (set->r[i].lo == 0 || set->r[i].lo > count)
				continue;
			first = set->r[i].lo - 1;
			last = set->r[i].hi > count ? count - 1 :
			    set->r[i].hi - 1;
		}
		for (j = first; j <= last; j++) {
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				v = xreallocarray(v, cap, sizeof(*v));
			}
			v[n++] = j;
			if (j == UINT32_MAX)
				break;
		}
	}
	*n_r = n;
	return v;
}

static int
do_select(struct imap_session *s, const struct imap_arg *args, size_t nargs,
    bool ro)
{
	char name[MSTORE_NAME_MAX + 1];
	const char *why;
	enum ferr e;
	long unseen;

	if (nargs != 1)
		return imap_bad(s, "Mailbox name expected");
	if (imap_mbname(&args[0], name, sizeof(name), &why) < 0)
		return imap_tagged(s, "NO", "%s", why);
	/* RFC 3501 6.3.1: a failed SELECT leaves no mailbox selected */
	if (s->mb != NULL) {
		imap_unselect(s);
		imap_printf(s, "* OK [CLOSED] Previous mailbox closed.\r\n");
	}
	if (!mstore_name_is_inbox(name) && mstore_name_check(name, &why) < 0)
		return imap_tagged(s, "NO", "[CANNOT] %s", why);
	e = mbox_open(s->st, name, ro ? MBOX_OPEN_RO : 0, &s->mb);
	if (e != FERR_NONE) {
		if (e == FERR_NOTFOUND)
			return imap_tagged(s, "NO", "[NONEXISTENT] Mailbox "
			    "doesn't exist: %s", name);
		return imap_no_ferr(s, e, NULL);
	}
	s->state = IMAP_ST_SELECTED;
	s->exists = mbox_count(s->mb);
	s->recent = mbox_recent_count(s->mb);
	imap_send_flags_lists(s);
	imap_printf(s, "* %u EXISTS\r\n", s->exists);
	imap_printf(s, "* %u RECENT\r\n", s->recent);
	unseen = mbox_first_unseen(s->mb);
	if (unseen >= 0)
		imap_printf(s, "* OK [UNSEEN %ld] First unseen.\r\n",
		    unseen + 1);
	imap_printf(s, "* OK [UIDVALIDITY %u] UIDs valid\r\n",
	    mbox_uidvalidity(s->mb));
	imap_printf(s, "* OK [UIDNEXT %u] Predicted next UID\r\n",
	    mbox_uidnext(s->mb));
	imap_tagged(s, "OK", "[%s] %s completed.",
	    mbox_readonly(s->mb) ? "READ-ONLY" : "READ-WRITE",
	    ro ? "Examine" : "Select");
	return 0;
}

int
imap_cmd_select(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	return do_select(s, args, nargs, false);
}

int
imap_cmd_examine(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	return do_select(s, args, nargs, true);
}

/*
 * expunge_deleted: remove \Deleted messages (those in only, if set).
 * Returns FERR_NONE or the first error.
 */
static enum ferr
expunge_deleted(struct imap_session *s, const struct seqset *only)
{
	uint32_t i, n = mbox_count(s->mb);
	enum ferr e, first = FERR_NONE;

	for (i = 0; i < n; i++) {
		if ((mbox_msg_flags(s->mb, i) & MBOX_F_DELETED) == 0)
			continue;
		if (only != NULL &&
		    !seqset_contains(only, mbox_msg_uid(s->mb, i)))
			continue;
		log_debug("%s imap expunge uid=%u", s->sid,
		    mbox_msg_uid(s->mb, i));
		e = mbox_expunge(s->mb, i);
		if (e != FERR_NONE && e != FERR_NOTFOUND && first == FERR_NONE)
			first = e;
	}
	return first;
}

int
imap_cmd_close(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	enum ferr e = FERR_NONE;

	(void)args;
	if (nargs != 0)
		return imap_bad(s, "CLOSE takes no arguments");
	if (!mbox_readonly(s->mb)) {
		/* see \Deleted set by other sessions too; CLOSE sends no
		 * untagged responses, so the changes are not reported */
		e = mbox_sync(s->mb, 0, NULL);
		if (e == FERR_NONE)
			e = expunge_deleted(s, NULL);
	}
	if (e == FERR_NONE && !mbox_readonly(s->mb))
		e = mbox_sync(s->mb, 0, NULL);
	imap_unselect(s);
	if (e != FERR_NONE)
		log_warn("%s imap close expunge error=%s", s->sid,
		    ferr_name(e));
	imap_tagged(s, "OK", "Close completed.");
	return 0;
}

int
imap_cmd_unselect(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	(void)args;
	if (nargs != 0)
		return imap_bad(s, "UNSELECT takes no arguments");
	imap_unselect(s);
	imap_tagged(s, "OK", "Unselect completed.");
	return 0;
}

int
imap_cmd_check(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	(void)args;
	if (nargs != 0)
		return imap_bad(s, "CHECK takes no arguments");
	if (imap_sync(s, true) < 0)
		return -1;
	imap_tagged(s, "OK", "Check completed.");
	return 0;
}

int
imap_cmd_expunge(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	struct seqset set;
	const char *why;
	enum ferr e;

	memset(&set, 0, sizeof(set));
	if (s->uid) {
		if (nargs != 1)
			return imap_bad(s, "UID EXPUNGE needs a UID set");
		if (imap_seqset_arg(s, &args[0], true, &set, &why) < 0)
			return imap_bad(s, why);
	} else if (nargs != 0) {
		return imap_bad(s, "EXPUNGE takes no arguments");
	}
	if (mbox_readonly(s->mb)) {
		seqset_free(&set);
		imap_tagged(s, "NO", "[CANNOT] Mailbox is read-only");
		return 0;
	}
	/* pick up \Deleted flags other sessions set since the last sync */
	if (imap_sync(s, true) < 0) {
		seqset_free(&set);
		return -1;
	}
	e = expunge_deleted(s, s->uid ? &set : NULL);
	seqset_free(&set);
	if (imap_sync(s, true) < 0)
		return -1;
	if (e != FERR_NONE)
		return imap_no_ferr(s, e, NULL);
	imap_tagged(s, "OK", "Expunge completed.");
	return 0;
}
