/*
 * cmd_any - commands valid in every state: CAPABILITY, NOOP, LOGOUT,
 * ID (RFC 2971), and ENABLE (RFC 5161; nothing to enable yet).
 */
#include <string.h>

#include "core/log.h"
#include "imap/imap_int.h"
#include "net/conn.h"

int
imap_cmd_capability(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	char cap[512];

	(void)args;
	if (nargs != 0)
		return imap_bad(s, "CAPABILITY takes no arguments");
	imap_capability(s, cap, sizeof(cap));
	imap_printf(s, "* CAPABILITY %s\r\n", cap);
	return imap_tagged(s, "OK", "Capability completed.") < 0 ? -1 : 0;
}

int
imap_cmd_noop(struct imap_session *s, const struct imap_arg *args, size_t nargs)
{
	(void)args;
	if (nargs != 0)
		return imap_bad(s, "NOOP takes no arguments");
	if (s->state == IMAP_ST_SELECTED && imap_sync(s, true) < 0)
		return -1;
	imap_tagged(s, "OK", "NOOP completed.");
	return 0;
}

int
imap_cmd_logout(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	(void)args;
	(void)nargs;
	imap_printf(s, "* BYE Logging out\r\n");
	imap_tagged(s, "OK", "Logout completed.");
	s->state = IMAP_ST_LOGOUT;
	s->close_reason = "logout";
	return 0;
}

int
imap_cmd_id(struct imap_session *s, const struct imap_arg *args, size_t nargs)
{
	char name[128], val[128];
	const struct imap_arg *l;
	size_t i;

	if (nargs != 1 || (args[0].type != IMAP_ARG_LIST &&
	    !imap_arg_is_nil(&args[0])))
		return imap_bad(s, "ID needs a list or NIL");
	l = &args[0];
	if (l->type == IMAP_ARG_LIST && (l->count % 2 != 0 || l->count > 60))
		return imap_bad(s, "Invalid ID list");
	if (l->type == IMAP_ARG_LIST) {
		for (i = 0; i + 1 < l->count; i += 2) {
			if (!imap_arg_is_string(&l->list[i]))
				return imap_bad(s, "Invalid ID list");
			if (imap_arg_is_nil(&l->list[i + 1]) ||
			    !imap_arg_is_string(&l->list[i + 1]))
				continue;
			log_esc(name, sizeof(name), l->list[i].str,
			    l->list[i].len);
			log_esc(val, sizeof(val), l->list[i + 1].str,
			    l->list[i + 1].len);
			log_debug("%s imap id %s=\"%s\"", s->sid, name, val);
		}
	}
	imap_printf(s, "* ID (\"name\" \"facteur\" \"version\" \"%s\")\r\n",
	    FACTEUR_VERSION);
	imap_tagged(s, "OK", "ID completed.");
	return 0;
}

int
imap_cmd_enable(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	size_t i;

	if (nargs == 0)
		return imap_bad(s, "ENABLE needs capabilities");
	for (i = 0; i < nargs; i++)
		if (args[i].type != IMAP_ARG_ATOM)
			return imap_bad(s, "Invalid capability");
	/* no ENABLE-able extension is implemented yet (CONDSTORE, QRESYNC
	 * and UTF8=ACCEPT are for later): ENABLED lists none */
	imap_printf(s, "* ENABLED\r\n");
	imap_tagged(s, "OK", "Enabled.");
	return 0;
}
