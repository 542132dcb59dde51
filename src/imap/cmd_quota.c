/*
 * cmd_quota - GETQUOTAROOT, GETQUOTA and SETQUOTA (RFC 2087 / RFC 9208
 * QUOTA): one quota root "" per user, the Maildir++ maildirsize limit from
 * the directory. STORAGE is reported in units of 1024 octets. Clients
 * (Thunderbird) show it to the user; nobody may change it over IMAP.
 */
#include <string.h>

#include "imap/imap_int.h"
#include "net/conn.h"

static int
quota_line(struct imap_session *s)
{
	uint64_t used, limit, cused, climit;
	enum ferr e;

	e = mstore_quota(s->st, &used, &limit, &cused, &climit);
	if (e != FERR_NONE)
		return -1;
	if (limit == 0 && climit == 0)
		return 0;
	imap_printf(s, "* QUOTA \"\" (");
	if (limit != 0)
		imap_printf(s, "STORAGE %llu %llu",
		    (unsigned long long)((used + 1023) / 1024),
		    (unsigned long long)(limit / 1024));
	if (climit != 0)
		imap_printf(s, "%sMESSAGE %llu %llu", limit != 0 ? " " : "",
		    (unsigned long long)cused, (unsigned long long)climit);
	imap_printf(s, ")\r\n");
	return 1;
}

int
imap_cmd_getquotaroot(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	char name[MSTORE_NAME_MAX + 1];
	uint64_t used, limit, cused, climit;
	const char *why;
	enum ferr e;

	if (nargs != 1)
		return imap_bad(s, "GETQUOTAROOT needs a mailbox");
	if (imap_mbname(&args[0], name, sizeof(name), &why) < 0)
		return imap_tagged(s, "NO", "[CANNOT] %s", why);
	if (mstore_exists(s->st, name) != 1)
		return imap_tagged(s, "NO", "[NONEXISTENT] Mailbox doesn't "
		    "exist: %s", name);
	e = mstore_quota(s->st, &used, &limit, &cused, &climit);
	if (e != FERR_NONE)
		return imap_no_ferr(s, e, NULL);
	imap_printf(s, "* QUOTAROOT ");
	imap_write_string(s, name, strlen(name));
	if (limit != 0 || climit != 0)
		imap_printf(s, " \"\"");
	imap_printf(s, "\r\n");
	(void)quota_line(s);
	imap_tagged(s, "OK", "Getquotaroot completed.");
	return 0;
}

int
imap_cmd_getquota(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	int r;

	if (nargs != 1 || !imap_arg_is_string(&args[0]))
		return imap_bad(s, "GETQUOTA needs a quota root");
	if (args[0].len != 0)
		return imap_tagged(s, "NO", "[NONEXISTENT] No such quota "
		    "root");
	r = quota_line(s);
	if (r < 0)
		return imap_no_ferr(s, FERR_TEMP, NULL);
	if (r == 0)
		return imap_tagged(s, "NO", "[NONEXISTENT] No quota");
	imap_tagged(s, "OK", "Getquota completed.");
	return 0;
}

int
imap_cmd_setquota(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	(void)args;
	(void)nargs;
	imap_tagged(s, "NO", "[NOPERM] Quota is set by the administrator");
	return 0;
}
