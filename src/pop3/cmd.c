/*
 * cmd - POP3 command line parser. See cmd.h.
 *
 * Input is untrusted and unbounded in content (the session bounds its
 * length): any byte may appear, NUL included. Keywords are matched
 * case-insensitively against a fixed table (RFC 1939 3); control bytes
 * anywhere in the line are refused; bytes >= 0x80 are allowed in
 * arguments (UTF-8 user names and passwords). Message numbers and line
 * counts are strict decimal (no sign, no spaces inside) and range-checked
 * against 32 and 64 bits; the session checks them against its maildrop.
 */
#include <string.h>

#include "core/str.h"
#include "core/strnum.h"
#include "pop3/cmd.h"

enum cmd_args {
	ARGS_NONE,		/* nothing (anything given is ignored) */
	ARGS_OPT_MSG,		/* [msg] */
	ARGS_MSG,		/* msg */
	ARGS_MSG_LINES,		/* msg n */
	ARGS_WORD,		/* one required argument (USER) */
	ARGS_OPT_TEXT,		/* optional text (AUTH [mech [resp]]) */
	ARGS_RAW		/* the rest of the line, as is (PASS) */
};

struct cmd_def {
	const char	*name;
	enum pop3_cmd_id id;
	enum cmd_args	 args;
	unsigned	 flags;
};

#define BOTH	(POP3_CF_AUTHZ | POP3_CF_TRANS)

static const struct cmd_def cmd_table[] = {
	{ "CAPA", POP3_CMD_CAPA, ARGS_NONE, BOTH },
	{ "USER", POP3_CMD_USER, ARGS_WORD,
	    POP3_CF_AUTHZ | POP3_CF_CLEARTEXT },
	{ "PASS", POP3_CMD_PASS, ARGS_RAW,
	    POP3_CF_AUTHZ | POP3_CF_CLEARTEXT },
	{ "AUTH", POP3_CMD_AUTH, ARGS_OPT_TEXT,
	    POP3_CF_AUTHZ | POP3_CF_CLEARTEXT },
	{ "STLS", POP3_CMD_STLS, ARGS_NONE, POP3_CF_AUTHZ },
	{ "QUIT", POP3_CMD_QUIT, ARGS_NONE, BOTH },
	{ "STAT", POP3_CMD_STAT, ARGS_NONE, POP3_CF_TRANS },
	{ "LIST", POP3_CMD_LIST, ARGS_OPT_MSG, POP3_CF_TRANS },
	{ "RETR", POP3_CMD_RETR, ARGS_MSG, POP3_CF_TRANS },
	{ "DELE", POP3_CMD_DELE, ARGS_MSG, POP3_CF_TRANS },
	{ "NOOP", POP3_CMD_NOOP, ARGS_NONE, POP3_CF_TRANS },
	{ "RSET", POP3_CMD_RSET, ARGS_NONE, POP3_CF_TRANS },
	{ "TOP", POP3_CMD_TOP, ARGS_MSG_LINES, POP3_CF_TRANS },
	{ "UIDL", POP3_CMD_UIDL, ARGS_OPT_MSG, POP3_CF_TRANS },
};

#define CMD_COUNT (sizeof(cmd_table) / sizeof(cmd_table[0]))
/* Longest keyword we look up; anything longer is unknown at once. */
#define KEYWORD_MAX 4

const char *
pop3_cmd_name(enum pop3_cmd_id id)
{
	size_t i;

	for (i = 0; i < CMD_COUNT; i++) {
		if (cmd_table[i].id == id)
			return cmd_table[i].name;
	}
	return "";
}

static const struct cmd_def *
cmd_lookup(const char *kw, size_t n)
{
	size_t i;

	if (n == 0 || n > KEYWORD_MAX)
		return NULL;
	for (i = 0; i < CMD_COUNT; i++) {
		if (strlen(cmd_table[i].name) == n &&
		    str_ieqn(kw, cmd_table[i].name, n))
			return &cmd_table[i];
	}
	return NULL;
}

/* Length of s[0..n) without its trailing spaces. */
static size_t
rtrim_len(const char *s, size_t n)
{
	while (n > 0 && s[n - 1] == ' ')
		n--;
	return n;
}

/*
 * parse_number: a decimal number at s[0..n) ending at a space or the end.
 * Returns the digits consumed (> 0) or 0 with *why_r.
 */
static size_t
parse_number(const char *s, size_t n, uint64_t max, uint64_t *v_r,
    const char *bad, const char *big, const char **why_r)
{
	size_t d = 0;
	uint64_t v;

	while (d < n && s[d] >= '0' && s[d] <= '9')
		d++;
	if (d == 0 || (d < n && s[d] != ' ')) {
		*why_r = bad;
		return 0;
	}
	if (str_to_u64n(s, d, &v) < 0 || v > max) {
		*why_r = big;
		return 0;
	}
	*v_r = v;
	return d;
}

static enum pop3_parse
parse_args(const struct cmd_def *def, const char *a, size_t n,
    struct pop3_cmd *cmd, const char **why_r)
{
	uint64_t v;
	size_t d, t;

	switch (def->args) {
	case ARGS_NONE:
		/* ignored, as Dovecot does ("NOOP x" is +OK): clients
		 * that add junk here are harmless */
		(void)n;
		return POP3_PARSE_OK;
	case ARGS_RAW:
		cmd->arg = a;
		cmd->arglen = n;
		return POP3_PARSE_OK;
	case ARGS_WORD:
	case ARGS_OPT_TEXT:
		t = rtrim_len(a, n);
		if (t == 0 && def->args == ARGS_WORD) {
			*why_r = "Missing argument.";
			return POP3_PARSE_SYNTAX;
		}
		cmd->arg = a;
		cmd->arglen = t;
		return POP3_PARSE_OK;
	case ARGS_OPT_MSG:
	case ARGS_MSG:
	case ARGS_MSG_LINES:
		break;
	}

	/* tolerate extra spaces before the number, as Dovecot does */
	while (n > 0 && *a == ' ') {
		a++;
		n--;
	}
	t = rtrim_len(a, n);
	if (t == 0) {
		if (def->args == ARGS_OPT_MSG)
			return POP3_PARSE_OK;
		*why_r = "Missing message number.";
		return POP3_PARSE_SYNTAX;
	}
	d = parse_number(a, t, UINT32_MAX, &v, "Invalid message number.",
	    "Message number too large.", why_r);
	if (d == 0)
		return POP3_PARSE_SYNTAX;
	cmd->has_msg = true;
	cmd->msg = (uint32_t)v;
	a += d;
	t -= d;
	if (def->args != ARGS_MSG_LINES) {
		if (t != 0) {
			*why_r = "Noise after message number.";
			return POP3_PARSE_SYNTAX;
		}
		return POP3_PARSE_OK;
	}
	/* TOP msg n: one or more spaces, then the line count */
	while (t > 0 && *a == ' ') {
		a++;
		t--;
	}
	if (t == 0) {
		*why_r = "Missing number of lines.";
		return POP3_PARSE_SYNTAX;
	}
	d = parse_number(a, t, UINT64_MAX, &v, "Invalid number of lines.",
	    "Invalid number of lines.", why_r);
	if (d == 0)
		return POP3_PARSE_SYNTAX;
	if (d != t) {
		*why_r = "Noise after number of lines.";
		return POP3_PARSE_SYNTAX;
	}
	cmd->lines = v;
	return POP3_PARSE_OK;
}

enum pop3_parse
pop3_cmd_parse(const char *line, size_t len, struct pop3_cmd *cmd_r,
    const char **why_r)
{
	const struct cmd_def *def;
	size_t i, kw;

	memset(cmd_r, 0, sizeof(*cmd_r));
	cmd_r->id = POP3_CMD_NONE;
	cmd_r->name = "";
	cmd_r->arg = "";
	*why_r = "Unknown command.";

	/* the terminator: CRLF, or a bare LF as many clients send */
	if (len > 0 && line[len - 1] == '\n') {
		len--;
		if (len > 0 && line[len - 1] == '\r')
			len--;
	}

	for (kw = 0; kw < len && line[kw] != ' '; kw++)
		;
	def = cmd_lookup(line, kw);
	if (def != NULL) {
		cmd_r->id = def->id;
		cmd_r->name = def->name;
		cmd_r->flags = def->flags;
	}

	/* no control bytes anywhere: NUL, CR, LF, DEL, ... */
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)line[i];

		if (ch < 0x20 || ch == 0x7f) {
			*why_r = "Invalid characters in command.";
			return def != NULL ? POP3_PARSE_SYNTAX :
			    POP3_PARSE_UNKNOWN;
		}
	}
	if (def == NULL)
		return POP3_PARSE_UNKNOWN;

	/* one space separates keyword and arguments (RFC 1939 3) */
	if (kw < len)
		kw++;
	return parse_args(def, line + kw, len - kw, cmd_r, why_r);
}
