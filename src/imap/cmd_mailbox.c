/*
 * cmd_mailbox - mailbox management: CREATE, DELETE, RENAME, SUBSCRIBE,
 * UNSUBSCRIBE, LIST (with the RFC 5258 selection and return options
 * clients use for SPECIAL-USE, RFC 6154, and CHILDREN, RFC 3348), LSUB,
 * STATUS, NAMESPACE (RFC 2342).
 *
 * Every name a client gives is checked by mstore_name_check() before the
 * store sees it: traversal ("..", "/", leading "~"), control bytes and bad
 * modified UTF-7 get a NO with the reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/str.h"
#include "imap/imap_int.h"
#include "net/conn.h"

/* name_arg: a mailbox name argument, checked. 0 or -1 (NO sent). */
static int
name_arg(struct imap_session *s, const struct imap_arg *a, char *name,
    size_t len, bool allow_inbox)
{
	const char *why;

	if (imap_mbname(a, name, len, &why) < 0) {
		imap_tagged(s, "NO", "[CANNOT] %s", why);
		return -1;
	}
	if (mstore_name_is_inbox(name)) {
		if (allow_inbox)
			return 0;
		imap_tagged(s, "NO", "[CANNOT] Not allowed for INBOX");
		return -1;
	}
	if (mstore_name_check(name, &why) < 0) {
		imap_tagged(s, "NO", "[CANNOT] Invalid mailbox name: %s", why);
		return -1;
	}
	return 0;
}

int
imap_cmd_create(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	char name[MSTORE_NAME_MAX + 2];
	const char *why = NULL;
	size_t len;
	enum ferr e;

	if (nargs != 1)
		return imap_bad(s, "CREATE needs a mailbox name");
	if (imap_mbname(&args[0], name, sizeof(name), &why) < 0)
		return imap_tagged(s, "NO", "[CANNOT] %s", why);
	len = strlen(name);
	/* "create a parent only": a trailing separator is dropped */
	if (len > 1 && name[len - 1] == '.')
		name[len - 1] = '\0';
	if (mstore_name_is_inbox(name))
		return imap_tagged(s, "NO", "[ALREADYEXISTS] Mailbox already "
		    "exists");
	if (mstore_name_check(name, &why) < 0)
		return imap_tagged(s, "NO", "[CANNOT] Invalid mailbox name: "
		    "%s", why);
	e = mstore_create(s->st, name, &why);
	if (e == FERR_EXISTS)
		return imap_tagged(s, "NO", "[ALREADYEXISTS] Mailbox already "
		    "exists");
	if (e == FERR_INVALID)
		return imap_tagged(s, "NO", "[CANNOT] %s",
		    why != NULL ? why : "Invalid mailbox name");
	if (e != FERR_NONE)
		return imap_no_ferr(s, e, NULL);
	imap_tagged(s, "OK", "Create completed.");
	return 0;
}

int
imap_cmd_delete(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	char name[MSTORE_NAME_MAX + 1];
	const char *why = NULL;
	enum ferr e;

	if (nargs != 1)
		return imap_bad(s, "DELETE needs a mailbox name");
	if (name_arg(s, &args[0], name, sizeof(name), false) < 0)
		return 0;
	if (s->mb != NULL && strcmp(mbox_name(s->mb), name) == 0) {
		imap_unselect(s);
		imap_printf(s, "* OK [CLOSED] Mailbox closed.\r\n");
	}
	e = mstore_delete(s->st, name, &why);
	if (e == FERR_NOTFOUND)
		return imap_tagged(s, "NO", "[NONEXISTENT] Mailbox doesn't "
		    "exist: %s", name);
	if (e == FERR_INVALID || e == FERR_PERM)
		return imap_tagged(s, "NO", "[CANNOT] %s",
		    why != NULL ? why : "Cannot delete this mailbox");
	if (e != FERR_NONE)
		return imap_no_ferr(s, e, NULL);
	imap_tagged(s, "OK", "Delete completed.");
	return 0;
}

int
imap_cmd_rename(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	char from[MSTORE_NAME_MAX + 1], to[MSTORE_NAME_MAX + 1];
	const char *why = NULL;
	enum ferr e;

	if (nargs != 2)
		return imap_bad(s, "RENAME needs two mailbox names");
	if (name_arg(s, &args[0], from, sizeof(from), true) < 0 ||
	    name_arg(s, &args[1], to, sizeof(to), false) < 0)
		return 0;
	if (s->mb != NULL && strcmp(mbox_name(s->mb), from) == 0 &&
	    !mstore_name_is_inbox(from)) {
		imap_unselect(s);
		imap_printf(s, "* OK [CLOSED] Mailbox closed.\r\n");
	}
	e = mstore_rename(s->st, from, to, &why);
	switch (e) {
	case FERR_NONE:
		imap_tagged(s, "OK", "Rename completed.");
		break;
	case FERR_NOTFOUND:
		imap_tagged(s, "NO", "[NONEXISTENT] Mailbox doesn't exist: %s",
		    from);
		break;
	case FERR_EXISTS:
		imap_tagged(s, "NO", "[ALREADYEXISTS] Target mailbox already "
		    "exists");
		break;
	case FERR_INVALID:
		imap_tagged(s, "NO", "[CANNOT] %s",
		    why != NULL ? why : "Cannot rename");
		break;
	default:
		imap_no_ferr(s, e, NULL);
		break;
	}
	return 0;
}

static int
do_subscribe(struct imap_session *s, const struct imap_arg *args,
    size_t nargs, bool on)
{
	char name[MSTORE_NAME_MAX + 1];
	enum ferr e;

	if (nargs != 1)
		return imap_bad(s, "Mailbox name expected");
	if (name_arg(s, &args[0], name, sizeof(name), true) < 0)
		return 0;
	e = mstore_subscribe(s->st, name, on);
	if (e != FERR_NONE)
		return imap_no_ferr(s, e, NULL);
	imap_tagged(s, "OK", "%s completed.", on ? "Subscribe" :
	    "Unsubscribe");
	return 0;
}

int
imap_cmd_subscribe(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	return do_subscribe(s, args, nargs, true);
}

int
imap_cmd_unsubscribe(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	return do_subscribe(s, args, nargs, false);
}

#define LSEL_SUBSCRIBED	0x01
#define LSEL_SPECIAL	0x02
#define LRET_SUBSCRIBED	0x04
#define LRET_CHILDREN	0x08
#define LRET_SPECIAL	0x10

static bool status_items_ok(const struct imap_arg *l, bool *size_r);
static enum ferr status_send(struct imap_session *s, const char *name,
    const struct imap_arg *l, bool want_size);

static bool
subscribed(char **subs, size_t nsubs, const char *name)
{
	size_t i;

	for (i = 0; i < nsubs; i++)
		if (strcmp(subs[i], name) == 0 ||
		    (mstore_name_is_inbox(subs[i]) &&
		    mstore_name_is_inbox(name)))
			return true;
	return false;
}

static bool
match_any(const char *ref, const struct imap_arg *pats, size_t npats,
    const char *name)
{
	char full[2 * (MSTORE_NAME_MAX + 1)];
	size_t i;

	for (i = 0; i < npats; i++) {
		snprintf(full, sizeof(full), "%s%s", ref, pats[i].str);
		if (imap_list_match(full, name))
			return true;
	}
	return false;
}

static void
list_line(struct imap_session *s, const char *cmd, const char *name,
    const char *attrs)
{
	imap_printf(s, "* %s (%s) \".\" ", cmd, attrs);
	imap_write_string(s, name, strlen(name));
	imap_printf(s, "\r\n");
}

/*
 * lsub_parents: RFC 3501 6.3.9: when "%" stops a pattern above a
 * subscribed name ("a.b" subscribed, pattern "%"), its unsubscribed
 * parent ("a") is listed with \Noselect. Each parent once.
 */
static void
lsub_parents(struct imap_session *s, const char *ref,
    const struct imap_arg *pats, size_t npats, char **subs, size_t nsubs)
{
	char parent[MSTORE_NAME_MAX + 1], *dot;
	size_t i, j;
	bool seen;

	for (i = 0; i < nsubs; i++) {
		/* only where the pattern stops above the name ("%"); with
		 * "*" the name itself is listed and its parent is not */
		if (match_any(ref, pats, npats, subs[i]))
			continue;
		if (str_copy(parent, subs[i], sizeof(parent)) >=
		    sizeof(parent))
			continue;
		for (;;) {
			dot = strrchr(parent, '.');
			if (dot == NULL)
				break;
			*dot = '\0';
			if (subscribed(subs, nsubs, parent) ||
			    !match_any(ref, pats, npats, parent))
				continue;
			/* listed already for an earlier subscription? */
			seen = false;
			for (j = 0; j < i && !seen; j++)
				if (strncmp(subs[j], parent, strlen(parent)) ==
				    0 && subs[j][strlen(parent)] == '.' &&
				    !match_any(ref, pats, npats, subs[j]))
					seen = true;
			if (!seen)
				list_line(s, "LSUB", parent, "\\Noselect");
		}
	}
}

static int
do_list(struct imap_session *s, const struct imap_arg *args, size_t nargs,
    bool lsub)
{
	struct mstore_folder *fl = NULL;
	size_t nf = 0, nsubs = 0, i, npats, j;
	char **subs = NULL;
	const struct imap_arg *pats;
	const char *ref;
	const struct imap_arg *status = NULL;	/* LIST-STATUS items */
	unsigned opts = 0;
	char attrs[256];
	enum ferr e;
	bool sub, any, status_size = false;

	if (!lsub && nargs >= 1 && args[0].type == IMAP_ARG_LIST) {
		for (i = 0; i < args[0].count; i++) {
			if (imap_arg_is_atom_ci(&args[0].list[i],
			    "SUBSCRIBED"))
				opts |= LSEL_SUBSCRIBED | LRET_SUBSCRIBED;
			else if (imap_arg_is_atom_ci(&args[0].list[i],
			    "SPECIAL-USE"))
				opts |= LSEL_SPECIAL | LRET_SPECIAL;
			else if (!imap_arg_is_atom_ci(&args[0].list[i],
			    "REMOTE") && !imap_arg_is_atom_ci(
			    &args[0].list[i], "RECURSIVEMATCH"))
				return imap_bad(s, "Unknown LIST selection "
				    "option");
		}
		args++;
		nargs--;
	}
	if (!lsub && nargs == 4 && imap_arg_is_atom_ci(&args[2], "RETURN") &&
	    args[3].type == IMAP_ARG_LIST) {
		for (i = 0; i < args[3].count; i++) {
			if (imap_arg_is_atom_ci(&args[3].list[i],
			    "SUBSCRIBED"))
				opts |= LRET_SUBSCRIBED;
			else if (imap_arg_is_atom_ci(&args[3].list[i],
			    "CHILDREN"))
				opts |= LRET_CHILDREN;
			else if (imap_arg_is_atom_ci(&args[3].list[i],
			    "SPECIAL-USE"))
				opts |= LRET_SPECIAL;
			else if (imap_arg_is_atom_ci(&args[3].list[i],
			    "STATUS") && i + 1 < args[3].count &&
			    status == NULL) {
				/* RFC 5819 */
				status = &args[3].list[++i];
				if (!status_items_ok(status, &status_size))
					return imap_bad(s, "Invalid STATUS "
					    "item");
			} else
				return imap_bad(s, "Unknown LIST return "
				    "option");
		}
		nargs = 2;
	}
	if (nargs != 2 || !imap_arg_is_string(&args[0]))
		return imap_bad(s, "LIST needs a reference and a pattern");
	ref = args[0].str;
	if (args[1].type == IMAP_ARG_LIST && !lsub) {
		pats = args[1].list;
		npats = args[1].count;
	} else {
		pats = &args[1];
		npats = 1;
	}
	for (j = 0; j < npats; j++)
		if (!imap_arg_is_string(&pats[j]) || imap_arg_has_nul(&pats[j])
		    || pats[j].len > MSTORE_NAME_MAX)
			return imap_bad(s, "Invalid pattern");
	if (strlen(ref) > MSTORE_NAME_MAX)
		return imap_bad(s, "Invalid reference");
	if (npats == 1 && pats[0].len == 0) {
		/* the hierarchy delimiter and root */
		imap_printf(s, "* %s (\\Noselect) \".\" \"\"\r\n",
		    lsub ? "LSUB" : "LIST");
		imap_tagged(s, "OK", "%s completed.", lsub ? "Lsub" : "List");
		return 0;
	}
	e = mstore_list(s->st, &fl, &nf);
	if (e == FERR_NONE)
		e = mstore_subscriptions(s->st, &subs, &nsubs);
	if (e != FERR_NONE) {
		mstore_list_free(&fl, nf);
		return imap_no_ferr(s, e, NULL);
	}
	for (i = 0; i < nf; i++) {
		if (!match_any(ref, pats, npats, fl[i].name))
			continue;
		sub = subscribed(subs, nsubs, fl[i].name);
		if (lsub || (opts & LSEL_SUBSCRIBED)) {
			if (!sub)
				continue;
		}
		if ((opts & LSEL_SPECIAL) && fl[i].special == NULL)
			continue;
		attrs[0] = '\0';
		any = false;
		if (fl[i].attrs & MSTORE_A_NOSELECT) {
			strcat(attrs, "\\Noselect");
			any = true;
		}
		if (!lsub) {
			if (any)
				strcat(attrs, " ");
			strcat(attrs, (fl[i].attrs & MSTORE_A_HASCHILDREN) ?
			    "\\HasChildren" : "\\HasNoChildren");
			any = true;
			if (fl[i].special != NULL) {
				strcat(attrs, " ");
				strcat(attrs, fl[i].special);
			}
			if (sub && (opts & LRET_SUBSCRIBED))
				strcat(attrs, " \\Subscribed");
		}
		list_line(s, lsub ? "LSUB" : "LIST", fl[i].name, attrs);
		/* RFC 5819: STATUS after each selectable mailbox; errors
		 * leave it out */
		if (status != NULL && !(fl[i].attrs & MSTORE_A_NOSELECT))
			(void)status_send(s, fl[i].name, status, status_size);
	}
	/* subscribed names without a folder */
	if (lsub || (opts & LSEL_SUBSCRIBED)) {
		for (i = 0; i < nsubs; i++) {
			bool exists = false;

			for (j = 0; j < nf; j++)
				if (strcmp(fl[j].name, subs[i]) == 0)
					exists = true;
			if (exists || !match_any(ref, pats, npats, subs[i]))
				continue;
			list_line(s, lsub ? "LSUB" : "LIST", subs[i], lsub ?
			    "" : "\\Subscribed \\NonExistent");
		}
	}
	if (lsub)
		lsub_parents(s, ref, pats, npats, subs, nsubs);
	mstore_list_free(&fl, nf);
	mstore_strings_free(&subs, nsubs);
	imap_tagged(s, "OK", "%s completed.", lsub ? "Lsub" : "List");
	return 0;
}

int
imap_cmd_list(struct imap_session *s, const struct imap_arg *args, size_t nargs)
{
	return do_list(s, args, nargs, false);
}

int
imap_cmd_lsub(struct imap_session *s, const struct imap_arg *args, size_t nargs)
{
	return do_list(s, args, nargs, true);
}

/* status_items_ok: a STATUS item list (RFC 3501, RFC 8438 SIZE, RFC 7889
 * APPENDLIMIT); *size_r tells whether SIZE is asked for. */
static bool
status_items_ok(const struct imap_arg *l, bool *size_r)
{
	static const char *const items[] = { "MESSAGES", "RECENT",
	    "UIDNEXT", "UIDVALIDITY", "UNSEEN", "SIZE", "APPENDLIMIT" };
	const struct imap_arg *it;
	size_t i, k;

	*size_r = false;
	if (l->type != IMAP_ARG_LIST || l->count == 0)
		return false;
	for (i = 0; i < l->count; i++) {
		it = &l->list[i];
		if (it->type != IMAP_ARG_ATOM)
			return false;
		for (k = 0; k < sizeof(items) / sizeof(items[0]); k++)
			if (str_ieq(it->str, items[k]))
				break;
		if (k == sizeof(items) / sizeof(items[0]))
			return false;
		if (k == 5)
			*size_r = true;
	}
	return true;
}

/* status_send: "* STATUS name (...)" for a checked item list. */
static enum ferr
status_send(struct imap_session *s, const char *name,
    const struct imap_arg *l, bool want_size)
{
	struct mbox_status st;
	const struct imap_arg *it;
	char out[512];
	size_t i, off = 0;
	enum ferr e;
	int k;

	e = mstore_status_items(s->st, name, want_size, &st);
	if (e != FERR_NONE)
		return e;
	out[0] = '\0';
	for (i = 0; i < l->count && off < sizeof(out); i++) {
		it = &l->list[i];
		if (str_ieq(it->str, "MESSAGES"))
			k = snprintf(out + off, sizeof(out) - off,
			    "%sMESSAGES %u", i ? " " : "", st.messages);
		else if (str_ieq(it->str, "RECENT"))
			k = snprintf(out + off, sizeof(out) - off,
			    "%sRECENT %u", i ? " " : "", st.recent);
		else if (str_ieq(it->str, "UIDNEXT"))
			k = snprintf(out + off, sizeof(out) - off,
			    "%sUIDNEXT %u", i ? " " : "", st.uidnext);
		else if (str_ieq(it->str, "UIDVALIDITY"))
			k = snprintf(out + off, sizeof(out) - off,
			    "%sUIDVALIDITY %u", i ? " " : "", st.uidvalidity);
		else if (str_ieq(it->str, "UNSEEN"))
			k = snprintf(out + off, sizeof(out) - off,
			    "%sUNSEEN %u", i ? " " : "", st.unseen);
		else if (str_ieq(it->str, "APPENDLIMIT"))
			k = snprintf(out + off, sizeof(out) - off,
			    "%sAPPENDLIMIT %llu", i ? " " : "",
			    (unsigned long long)
			    s->srv->conf->message_size_limit);
		else
			k = snprintf(out + off, sizeof(out) - off,
			    "%sSIZE %llu", i ? " " : "",
			    (unsigned long long)st.size);
		if (k < 0)
			break;
		off += (size_t)k;
	}
	imap_printf(s, "* STATUS ");
	imap_write_string(s, name, strlen(name));
	imap_printf(s, " (%s)\r\n", out);
	return FERR_NONE;
}

int
imap_cmd_status(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	char name[MSTORE_NAME_MAX + 1];
	bool want_size;
	enum ferr e;

	if (nargs != 2 || args[1].type != IMAP_ARG_LIST ||
	    args[1].count == 0)
		return imap_bad(s, "STATUS needs a mailbox and a list");
	if (name_arg(s, &args[0], name, sizeof(name), true) < 0)
		return 0;
	if (!status_items_ok(&args[1], &want_size))
		return imap_bad(s, "Invalid STATUS item");
	e = status_send(s, name, &args[1], want_size);
	if (e == FERR_NOTFOUND)
		return imap_tagged(s, "NO", "[NONEXISTENT] Mailbox doesn't "
		    "exist: %s", name);
	if (e != FERR_NONE)
		return imap_no_ferr(s, e, NULL);
	imap_tagged(s, "OK", "Status completed.");
	return 0;
}

int
imap_cmd_namespace(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	(void)args;
	if (nargs != 0)
		return imap_bad(s, "NAMESPACE takes no arguments");
	imap_printf(s, "* NAMESPACE ((\"\" \".\")) NIL NIL\r\n");
	imap_tagged(s, "OK", "Namespace completed.");
	return 0;
}
