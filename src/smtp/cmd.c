/*
 * cmd - SMTP command-line parser (RFC 5321 4.1, ESMTP parameters of RFC
 * 1870 SIZE, RFC 6152 BODY, RFC 6531 SMTPUTF8, RFC 3030 BDAT, RFC 4954
 * AUTH).
 *
 * Input: one untrusted line as the client sent it (its terminator may be
 * present). Nothing is copied except into the fixed fields of struct
 * smtp_cmd; the argument points into the caller's line. Pure: no I/O, no
 * allocation. The length limits (512, 12288 for AUTH) are checked by the
 * reader before the line gets here.
 *
 * Leniency follows Postfix's defaults: verbs in any case, spaces after
 * "FROM:"/"TO:", a path without angle brackets, bare LF as terminator.
 * Strictness where it matters: control bytes (NUL included) are refused,
 * an ESMTP parameter we did not advertise is 555, SIZE must be digits.
 */
#include <string.h>

#include "core/str.h"
#include "core/strnum.h"
#include "smtp/smtp_int.h"

static const struct {
	const char	*name;
	enum smtp_verb	 verb;
} cmd_verbs[] = {
	{ "HELO", SMTP_V_HELO },
	{ "EHLO", SMTP_V_EHLO },
	{ "MAIL", SMTP_V_MAIL },
	{ "RCPT", SMTP_V_RCPT },
	{ "DATA", SMTP_V_DATA },
	{ "BDAT", SMTP_V_BDAT },
	{ "RSET", SMTP_V_RSET },
	{ "NOOP", SMTP_V_NOOP },
	{ "QUIT", SMTP_V_QUIT },
	{ "VRFY", SMTP_V_VRFY },
	{ "EXPN", SMTP_V_EXPN },
	{ "HELP", SMTP_V_HELP },
	{ "STARTTLS", SMTP_V_STARTTLS },
	{ "AUTH", SMTP_V_AUTH },
	/* what a browser or proxy sends to a mail port (Postfix's
	 * smtpd_forbidden_commands) */
	{ "GET", SMTP_V_WEB },
	{ "POST", SMTP_V_WEB },
	{ "PUT", SMTP_V_WEB },
	{ "HEAD", SMTP_V_WEB },
	{ "CONNECT", SMTP_V_WEB },
	{ "USER", SMTP_V_WEB },
};

const char *
smtp_verb_name(enum smtp_verb v)
{
	size_t i;

	if (v == SMTP_V_WEB)
		return "WEB";
	for (i = 0; i < sizeof(cmd_verbs) / sizeof(cmd_verbs[0]); i++)
		if (cmd_verbs[i].verb == v)
			return cmd_verbs[i].name;
	return "UNKNOWN";
}

static bool
cmd_is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* One "keyword[=value]" token: RFC 5321 esmtp-keyword / esmtp-value. */
static bool
cmd_param_split(const char *p, size_t n, size_t *klen_r, const char **v_r,
    size_t *vlen_r)
{
	size_t i;

	if (n == 0 || !cmd_is_alnum((unsigned char)p[0]))
		return false;
	for (i = 1; i < n && p[i] != '='; i++)
		if (!cmd_is_alnum((unsigned char)p[i]) && p[i] != '-')
			return false;
	*klen_r = i;
	if (i == n) {
		*v_r = NULL;
		*vlen_r = 0;
		return true;
	}
	*v_r = p + i + 1;
	*vlen_r = n - i - 1;
	if (*vlen_r == 0)
		return false;
	for (i = 0; i < *vlen_r; i++) {
		unsigned char c = (unsigned char)(*v_r)[i];

		/* RFC 6531 allows UTF-8 in esmtp-value */
		if (c < 0x21 || c == '=' || c == 0x7f)
			return false;
	}
	return true;
}

static bool
cmd_kw(const char *p, size_t klen, const char *kw)
{
	return strlen(kw) == klen && str_ieqn(p, kw, klen);
}

static bool
cmd_is_xtext(const char *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c < 0x21 || c > 0x7e)
			return false;
	}
	return true;
}

/* RFC 3461 NOTIFY: NEVER, or a list of SUCCESS, FAILURE, DELAY. */
static bool
cmd_notify_ok(const char *v, size_t n)
{
	size_t i = 0, j;
	bool never = false, other = false;

	while (i < n) {
		for (j = i; j < n && v[j] != ','; j++)
			;
		if (cmd_kw(v + i, j - i, "NEVER"))
			never = true;
		else if (cmd_kw(v + i, j - i, "SUCCESS") ||
		    cmd_kw(v + i, j - i, "FAILURE") ||
		    cmd_kw(v + i, j - i, "DELAY"))
			other = true;
		else
			return false;
		i = j + 1;
		if (j == n - 1)
			return false;	/* trailing comma */
	}
	return !(never && other);
}

static enum smtp_cmd_err
cmd_mail_param(struct smtp_cmd *cmd, const char *p, size_t n,
    const char **why_r)
{
	size_t klen, vlen;
	const char *v;

	if (!cmd_param_split(p, n, &klen, &v, &vlen)) {
		*why_r = "malformed parameter";
		return SMTP_CMD_PARAM;
	}
	if (cmd_kw(p, klen, "SIZE")) {
		if (cmd->has_size || v == NULL || vlen > 20 ||
		    str_to_u64n(v, vlen, &cmd->size) < 0) {
			*why_r = "bad SIZE";
			return SMTP_CMD_PARAM;
		}
		cmd->has_size = true;
	} else if (cmd_kw(p, klen, "BODY")) {
		if (cmd->body != SMTP_BODY_NONE || v == NULL) {
			*why_r = "bad BODY";
			return SMTP_CMD_PARAM;
		}
		if (cmd_kw(v, vlen, "7BIT"))
			cmd->body = SMTP_BODY_7BIT;
		else if (cmd_kw(v, vlen, "8BITMIME"))
			cmd->body = SMTP_BODY_8BITMIME;
		else {
			/* BINARYMIME is not advertised */
			*why_r = "unsupported BODY";
			return SMTP_CMD_PARAM;
		}
	} else if (cmd_kw(p, klen, "SMTPUTF8")) {
		if (v != NULL || cmd->smtputf8) {
			*why_r = "bad SMTPUTF8";
			return SMTP_CMD_PARAM;
		}
		cmd->smtputf8 = true;
	} else if (cmd_kw(p, klen, "AUTH")) {
		/* RFC 4954 5: accepted, not trusted, not passed on */
		if (v == NULL || !cmd_is_xtext(v, vlen)) {
			*why_r = "bad AUTH";
			return SMTP_CMD_PARAM;
		}
	} else {
		*why_r = "unsupported parameter";
		return SMTP_CMD_PARAM;
	}
	return SMTP_CMD_OK;
}

static enum smtp_cmd_err
cmd_rcpt_param(const char *p, size_t n, const char **why_r)
{
	size_t klen, vlen;
	const char *v;

	if (!cmd_param_split(p, n, &klen, &v, &vlen)) {
		*why_r = "malformed parameter";
		return SMTP_CMD_PARAM;
	}
	/* DSN (RFC 3461) is not advertised, but senders that add NOTIFY
	 * and ORCPT anyway are common: check the syntax, ignore them. */
	if (cmd_kw(p, klen, "NOTIFY")) {
		if (v == NULL || !cmd_notify_ok(v, vlen)) {
			*why_r = "bad NOTIFY";
			return SMTP_CMD_PARAM;
		}
	} else if (cmd_kw(p, klen, "ORCPT")) {
		if (v == NULL || memchr(v, ';', vlen) == NULL ||
		    !cmd_is_xtext(v, vlen)) {
			*why_r = "bad ORCPT";
			return SMTP_CMD_PARAM;
		}
	} else {
		*why_r = "unsupported parameter";
		return SMTP_CMD_PARAM;
	}
	return SMTP_CMD_OK;
}

/* "FROM:" / "TO:" then the path and its parameters. */
static enum smtp_cmd_err
cmd_path(struct smtp_cmd *cmd, const char *kw, bool is_mail,
    const char **why_r)
{
	const char *a = cmd->arg;
	size_t n = cmd->arglen, kwlen = strlen(kw), i, end, tok;
	char tmp[ADDR_PATH_MAX + 3];
	enum smtp_cmd_err e;

	if (n < kwlen || !str_ieqn(a, kw, kwlen)) {
		*why_r = is_mail ? "Syntax: MAIL FROM:<address>" :
		    "Syntax: RCPT TO:<address>";
		return SMTP_CMD_SYNTAX;
	}
	i = kwlen;
	while (i < n && a[i] == ' ')
		i++;
	if (i == n) {
		*why_r = is_mail ? "Syntax: MAIL FROM:<address>" :
		    "Syntax: RCPT TO:<address>";
		return SMTP_CMD_SYNTAX;
	}
	if (a[i] == '<') {
		if (addr_parse_path(a + i, n - i, is_mail, true, &cmd->path,
		    &end, why_r) < 0)
			return SMTP_CMD_ADDR;
		i += end;
	} else {
		/* a path without brackets, as Postfix accepts by default */
		for (tok = i; tok < n && a[tok] != ' '; tok++)
			;
		if (tok - i > ADDR_PATH_MAX) {
			*why_r = "too long";
			return SMTP_CMD_ADDR;
		}
		tmp[0] = '<';
		memcpy(tmp + 1, a + i, tok - i);
		tmp[tok - i + 1] = '>';
		if (addr_parse_path(tmp, tok - i + 2, is_mail, true,
		    &cmd->path, &end, why_r) < 0)
			return SMTP_CMD_ADDR;
		if (end != tok - i + 2) {
			*why_r = "syntax";
			return SMTP_CMD_ADDR;
		}
		i = tok;
	}
	if (i < n && a[i] != ' ') {
		*why_r = "garbage after address";
		return SMTP_CMD_ADDR;
	}
	while (i < n) {
		size_t s;

		while (i < n && a[i] == ' ')
			i++;
		if (i == n)
			break;
		for (s = i; i < n && a[i] != ' '; i++)
			;
		e = is_mail ? cmd_mail_param(cmd, a + s, i - s, why_r) :
		    cmd_rcpt_param(a + s, i - s, why_r);
		if (e != SMTP_CMD_OK)
			return e;
	}
	/* for RCPT the session checks the transaction's SMTPUTF8 */
	if (is_mail && cmd->path.utf8 && !cmd->smtputf8) {
		*why_r = "non-ASCII address without SMTPUTF8";
		return SMTP_CMD_UTF8;
	}
	return SMTP_CMD_OK;
}

static enum smtp_cmd_err
cmd_bdat(struct smtp_cmd *cmd, const char **why_r)
{
	const char *a = cmd->arg;
	size_t n = cmd->arglen, i;

	for (i = 0; i < n && a[i] >= '0' && a[i] <= '9'; i++)
		;
	if (i == 0 || i > 20 || str_to_u64n(a, i, &cmd->chunk) < 0)
		goto bad;
	while (i < n && a[i] == ' ')
		i++;
	if (i < n) {
		if (n - i != 4 || !str_ieqn(a + i, "LAST", 4))
			goto bad;
		cmd->last = true;
	}
	return SMTP_CMD_OK;
bad:
	*why_r = "Syntax: BDAT count [LAST]";
	return SMTP_CMD_SYNTAX;
}

static enum smtp_cmd_err
cmd_auth(struct smtp_cmd *cmd, const char **why_r)
{
	const char *a = cmd->arg;
	size_t n = cmd->arglen, i;

	for (i = 0; i < n && a[i] != ' '; i++) {
		if (!cmd_is_alnum((unsigned char)a[i]) && a[i] != '-' &&
		    a[i] != '_')
			goto bad;
	}
	if (i == 0 || i >= sizeof(cmd->mech))
		goto bad;
	memcpy(cmd->mech, a, i);
	cmd->mech[i] = '\0';
	for (size_t k = 0; k < i; k++)
		if (cmd->mech[k] >= 'a' && cmd->mech[k] <= 'z')
			cmd->mech[k] = (char)(cmd->mech[k] - 'a' + 'A');
	if (i < n) {
		i++;
		if (i == n || memchr(a + i, ' ', n - i) != NULL)
			goto bad;
		cmd->initial = a + i;
		cmd->initial_len = n - i;
	}
	return SMTP_CMD_OK;
bad:
	*why_r = "Syntax: AUTH mechanism [initial-response]";
	return SMTP_CMD_SYNTAX;
}

enum smtp_cmd_err
smtp_cmd_parse(const char *line, size_t len, struct smtp_cmd *cmd,
    const char **why_r)
{
	size_t i, vlen;

	memset(cmd, 0, sizeof(*cmd));
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			*why_r = "control character in command";
			return SMTP_CMD_SYNTAX;
		}
	}
	/* trailing spaces are noise (some clients send "DATA ") */
	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	for (vlen = 0; vlen < len && line[vlen] != ' '; vlen++)
		;
	for (i = 0; i < sizeof(cmd_verbs) / sizeof(cmd_verbs[0]); i++) {
		if (strlen(cmd_verbs[i].name) == vlen &&
		    str_ieqn(line, cmd_verbs[i].name, vlen)) {
			cmd->verb = cmd_verbs[i].verb;
			break;
		}
	}
	if (cmd->verb == SMTP_V_UNKNOWN) {
		*why_r = "command not recognized";
		return SMTP_CMD_UNKNOWN;
	}
	i = vlen;
	while (i < len && line[i] == ' ')
		i++;
	cmd->arg = line + i;
	cmd->arglen = len - i;

	switch (cmd->verb) {
	case SMTP_V_HELO:
	case SMTP_V_EHLO:
		if (cmd->arglen == 0) {
			*why_r = cmd->verb == SMTP_V_HELO ?
			    "Syntax: HELO hostname" : "Syntax: EHLO hostname";
			return SMTP_CMD_SYNTAX;
		}
		return SMTP_CMD_OK;
	case SMTP_V_MAIL:
		return cmd_path(cmd, "FROM:", true, why_r);
	case SMTP_V_RCPT:
		return cmd_path(cmd, "TO:", false, why_r);
	case SMTP_V_BDAT:
		return cmd_bdat(cmd, why_r);
	case SMTP_V_AUTH:
		return cmd_auth(cmd, why_r);
	case SMTP_V_DATA:
	case SMTP_V_RSET:
	case SMTP_V_QUIT:
	case SMTP_V_STARTTLS:
		if (cmd->arglen != 0) {
			*why_r = "no arguments allowed";
			return SMTP_CMD_SYNTAX;
		}
		return SMTP_CMD_OK;
	case SMTP_V_VRFY:
	case SMTP_V_EXPN:
		if (cmd->arglen == 0) {
			*why_r = "argument required";
			return SMTP_CMD_SYNTAX;
		}
		return SMTP_CMD_OK;
	default:
		return SMTP_CMD_OK;
	}
}
