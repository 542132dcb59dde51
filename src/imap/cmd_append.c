/*
 * cmd_append - APPEND (RFC 3501 6.3.11) with flags, internal date and
 * APPENDUID (RFC 4315). The literal's size was already checked against
 * message_size_limit and the quota by the session before "+ OK" (or before
 * it was read, for LITERAL+), so here the message is in memory and
 * bounded.
 */
#include <string.h>

#include "core/log.h"
#include "imap/imap_int.h"
#include "net/conn.h"

#define APPEND_KW_MAX 32

int
imap_cmd_append(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	char name[MSTORE_NAME_MAX + 1];
	const char *kw[APPEND_KW_MAX], *why;
	const struct imap_arg *msg;
	unsigned flags = 0;
	size_t nkw = 0, i = 1;
	time_t date = 0;
	uint32_t uid = 0, uidv = 0;
	enum ferr e;
	int ex;

	if (nargs < 2)
		return imap_bad(s, "APPEND needs a mailbox and a message");
	if (args[i].type == IMAP_ARG_LIST) {
		if (imap_flags_parse(&args[i], &flags, kw, APPEND_KW_MAX, &nkw,
		    &why) < 0)
			return imap_bad(s, why);
		i++;
	}
	if (i < nargs && args[i].type == IMAP_ARG_QUOTED) {
		if (imap_datetime_parse(args[i].str, &date) < 0)
			return imap_bad(s, "Invalid internal date");
		i++;
	}
	if (i + 1 != nargs || (args[i].type != IMAP_ARG_LITERAL &&
	    args[i].type != IMAP_ARG_QUOTED &&
	    args[i].type != IMAP_ARG_STREAMED)) {
		if (i + 1 < nargs)
			return imap_bad(s, "MULTIAPPEND is not supported");
		return imap_bad(s, "APPEND needs a message literal");
	}
	msg = &args[i];
	if (imap_mbname(&args[0], name, sizeof(name), &why) < 0)
		return imap_tagged(s, "NO", "[CANNOT] %s", why);
	if (!mstore_name_is_inbox(name) && mstore_name_check(name, &why) < 0)
		return imap_tagged(s, "NO", "[CANNOT] Invalid mailbox name: "
		    "%s", why);
	if (msg->len == 0)
		return imap_tagged(s, "NO", "Can't save a zero byte "
		    "message.");
	if (msg->len > s->srv->conf->message_size_limit)
		return imap_tagged(s, "NO", "[TOOBIG] Message too large");
	if (msg->type == IMAP_ARG_STREAMED && s->append != NULL) {
		/* the session already wrote the bytes to a tmp/ file */
		e = mstore_append_finish(&s->append, flags, kw, nkw, date,
		    &uid, &uidv);
	} else {
		ex = mstore_exists(s->st, name);
		if (ex == 0)
			return imap_tagged(s, "NO", "[TRYCREATE] Mailbox "
			    "doesn't exist: %s", name);
		if (msg->type == IMAP_ARG_STREAMED)
			return imap_no_ferr(s, FERR_INTERNAL, NULL);
		e = mstore_append_mem(s->st, name, msg->str, msg->len, flags,
		    kw, nkw, date, &uid, &uidv);
	}
	switch (e) {
	case FERR_NONE:
		break;
	case FERR_NOTFOUND:
		return imap_tagged(s, "NO", "[TRYCREATE] Mailbox doesn't "
		    "exist: %s", name);
	case FERR_QUOTA:
	case FERR_NOSPACE:
		return imap_tagged(s, "NO", "[OVERQUOTA] Quota exceeded");
	case FERR_LIMIT:
		return imap_tagged(s, "NO", "[LIMIT] Too many keywords or "
		    "message too large");
	default:
		return imap_no_ferr(s, e, NULL);
	}
	if (s->mb != NULL && imap_sync(s, true) < 0)
		return -1;
	imap_tagged(s, "OK", "[APPENDUID %u %u] Append completed.", uidv, uid);
	return 0;
}
