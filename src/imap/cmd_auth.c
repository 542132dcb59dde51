/*
 * cmd_auth - STARTTLS (RFC 3501 6.2.1; port 143 only), LOGIN, and
 * AUTHENTICATE PLAIN (RFC 4616) and LOGIN, with SASL-IR (RFC 4959).
 *
 * Passwords never reach a log line. Failures are delayed by
 * auth_fail_delay_ms and throttled by dir_login; the log line for a
 * failure is fail2ban-friendly:
 *   warn <sid> imap auth result=fail user="x" address=192.0.2.1
 * Before TLS on the plain port LOGIN and AUTHENTICATE are refused
 * (LOGINDISABLED), so a password is never sent in clear.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth/sasl.h"
#include "core/log.h"
#include "core/str.h"
#include "imap/imap_int.h"
#include "net/conn.h"
#include "store/maildir.h"

static void
fail_delay(struct imap_session *s)
{
	uint32_t ms = s->srv->conf->auth_fail_delay_ms;
	struct timespec ts;

	if (ms == 0)
		return;
	if (ms > 60000)
		ms = 60000;
	conn_flush(s->c);
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0)
		;
}

static bool
plaintext_refused(struct imap_session *s)
{
	return !s->tls && s->srv->tls != NULL;
}

/*
 * do_login: check the credentials and set up the user's store.
 * Returns 0 to go on, -1 to end the session.
 */
static int
do_login(struct imap_session *s, const char *user, const char *pass,
    size_t passlen)
{
	struct dir_user u;
	enum dir_login r;
	enum ferr e;
	char esc[DIR_ADDR_MAX * 2], root[4096], cap[512];

	log_esc(esc, sizeof(esc), user, strlen(user));
	r = dir_login(s->srv->dir, user, pass, passlen, s->ip, &u);
	switch (r) {
	case DIR_LOGIN_OK:
		break;
	case DIR_LOGIN_TEMP:
		log_warn("%s imap auth result=tempfail user=\"%s\" address=%s",
		    s->sid, esc, s->ip);
		imap_tagged(s, "NO", "[UNAVAILABLE] Temporary authentication "
		    "failure, try again later");
		return 0;
	case DIR_LOGIN_BLOCKED:
	case DIR_LOGIN_FAIL:
	default:
		log_warn("%s imap auth result=%s user=\"%s\" address=%s",
		    s->sid, r == DIR_LOGIN_BLOCKED ? "blocked" : "fail", esc,
		    s->ip);
		fail_delay(s);
		imap_tagged(s, "NO", "[AUTHENTICATIONFAILED] Authentication "
		    "failed.");
		if (++s->nauthfail >= IMAP_AUTHFAIL_MAX) {
			imap_printf(s, "* BYE Too many authentication "
			    "failures\r\n");
			s->close_reason = "too many auth failures";
			return -1;
		}
		return 0;
	}
	if (store_user_maildir(s->srv->conf->mail_root, u.email, root,
	    sizeof(root)) < 0) {
		log_error("%s imap login user=\"%s\" unusable maildir name",
		    s->sid, esc);
		imap_tagged(s, "NO", "[SERVERBUG] Internal error occurred, "
		    "see server log");
		return 0;
	}
	e = store_user_ensure(root);
	if (e == FERR_NONE)
		e = mstore_open(root, u.quota, &s->st);
	if (e != FERR_NONE) {
		log_error("%s imap login user=\"%s\" maildir error=%s", s->sid,
		    esc, ferr_name(e));
		imap_no_ferr(s, e == FERR_NOTFOUND ? FERR_INTERNAL : e, NULL);
		return 0;
	}
	str_copy(s->user, u.email, sizeof(s->user));
	s->quota = u.quota;
	s->state = IMAP_ST_AUTH;
	log_info("%s imap login user=\"%s\" address=%s tls=%s", s->sid,
	    s->user, s->ip, s->tls ? "yes" : "no");
	imap_capability(s, cap, sizeof(cap));
	imap_tagged(s, "OK", "[CAPABILITY %s] Logged in", cap);
	return 0;
}

int
imap_cmd_starttls(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	const char *why = NULL;

	(void)args;
	if (nargs != 0)
		return imap_bad(s, "STARTTLS takes no arguments");
	if (s->tls || s->kind != LK_IMAP || s->srv->tls == NULL)
		return imap_bad(s, "TLS is already active or not "
		    "available");
	imap_tagged(s, "OK", "Begin TLS negotiation now.");
	if (conn_flush(s->c) < 0)
		return -1;
	if (conn_starttls(s->c, s->srv->tls, &why) < 0) {
		log_info("%s imap starttls failed address=%s reason=\"%s\"",
		    s->sid, s->ip, why != NULL ? why : "?");
		s->close_reason = "tls handshake failed";
		return -1;
	}
	s->tls = true;
	return 0;
}

int
imap_cmd_login(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	if (nargs != 2 || !imap_arg_is_string(&args[0]) ||
	    !imap_arg_is_string(&args[1]))
		return imap_bad(s, "LOGIN needs user name and password");
	if (plaintext_refused(s)) {
		imap_tagged(s, "NO", "[PRIVACYREQUIRED] Plaintext "
		    "authentication disallowed without TLS (use STARTTLS)");
		return 0;
	}
	if (imap_arg_has_nul(&args[0]) || args[0].len == 0 ||
	    args[0].len > DIR_ADDR_MAX || imap_arg_has_nul(&args[1])) {
		fail_delay(s);
		imap_tagged(s, "NO", "[AUTHENTICATIONFAILED] Authentication "
		    "failed.");
		return 0;
	}
	return do_login(s, args[0].str, args[1].str, args[1].len);
}

/*
 * sasl_read: send "+ <challenge>" and read the client's response line
 * (CRLF stripped) into line. Returns 1 with a response, 0 when the
 * client cancelled ("*", BAD sent) or the line was too long (BAD sent),
 * -1 when the connection is gone.
 */
static int
sasl_read(struct imap_session *s, const char *challenge, struct buf *line)
{
	enum conn_rc crc;

	imap_printf(s, "+ %s\r\n", challenge);
	if (conn_flush(s->c) < 0)
		return -1;
	crc = conn_readline(s->c, line, 8192);
	if (crc == CONN_TOOLONG) {
		imap_bad(s, "Response too long");
		return 0;
	}
	if (crc != CONN_LINE) {
		s->close_reason = "eof in authenticate";
		return -1;
	}
	while (line->len > 0 && (line->data[line->len - 1] == '\n' ||
	    line->data[line->len - 1] == '\r'))
		line->len--;
	line->data[line->len] = '\0';
	if (line->len == 1 && line->data[0] == '*') {
		imap_tagged(s, "BAD", "Authentication aborted");
		return 0;
	}
	return 1;
}

static int
auth_failed(struct imap_session *s)
{
	log_warn("%s imap auth result=fail user=\"\" address=%s", s->sid,
	    s->ip);
	fail_delay(s);
	imap_tagged(s, "NO", "[AUTHENTICATIONFAILED] Authentication failed.");
	if (++s->nauthfail >= IMAP_AUTHFAIL_MAX) {
		imap_printf(s, "* BYE Too many authentication failures\r\n");
		s->close_reason = "too many auth failures";
		return -1;
	}
	return 0;
}

/* auth_login: SASL LOGIN (draft-murchison-sasl-login), as Dovecot and
 * ISPmail offer it: user name and password, each base64 on its own
 * line after a challenge. */
static int
auth_login(struct imap_session *s, const struct imap_arg *ir)
{
	char user[SASL_FIELD_MAX], pass[SASL_FIELD_MAX];
	struct buf line;
	long ul, pl;
	int r, rc;

	buf_init(&line, 8192);
	if (ir != NULL) {
		ul = sasl_b64_field(ir->str, ir->len, user, sizeof(user));
	} else {
		r = sasl_read(s, "VXNlcm5hbWU6", &line);	/* Username: */
		if (r <= 0) {
			buf_free(&line);
			return r;
		}
		ul = sasl_b64_field(line.data, line.len, user, sizeof(user));
	}
	r = sasl_read(s, "UGFzc3dvcmQ6", &line);		/* Password: */
	if (r <= 0) {
		buf_free(&line);
		explicit_bzero(user, sizeof(user));
		return r;
	}
	pl = sasl_b64_field(line.data, line.len, pass, sizeof(pass));
	if (line.data != NULL)
		explicit_bzero(line.data, line.len);
	buf_free(&line);
	if (ul <= 0 || pl < 0 || memchr(user, '\0', (size_t)ul) != NULL)
		rc = auth_failed(s);
	else
		rc = do_login(s, user, pass, (size_t)pl);
	explicit_bzero(pass, sizeof(pass));
	return rc;
}

int
imap_cmd_authenticate(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	struct sasl_plain sp;
	struct buf line;
	const char *resp;
	size_t rlen;
	int rc;

	if (nargs < 1 || nargs > 2 || args[0].type != IMAP_ARG_ATOM)
		return imap_bad(s, "AUTHENTICATE needs a mechanism");
	if (!str_ieq(args[0].str, "PLAIN") && !str_ieq(args[0].str, "LOGIN"))
		return imap_tagged(s, "NO", "[CANNOT] Unsupported "
		    "authentication mechanism");
	if (plaintext_refused(s))
		return imap_tagged(s, "NO", "[PRIVACYREQUIRED] Plaintext "
		    "authentication disallowed without TLS (use STARTTLS)");
	if (nargs == 2 && !imap_arg_is_string(&args[1]))
		return imap_bad(s, "Invalid initial response");
	if (str_ieq(args[0].str, "LOGIN"))
		return auth_login(s, nargs == 2 ? &args[1] : NULL);
	buf_init(&line, 8192);
	if (nargs == 2) {
		resp = args[1].str;
		rlen = args[1].len;
	} else {
		rc = sasl_read(s, "", &line);
		if (rc <= 0) {
			buf_free(&line);
			return rc;
		}
		resp = line.data;
		rlen = line.len;
	}
	rc = sasl_plain_decode(resp, rlen, &sp);
	if (line.data != NULL)
		explicit_bzero(line.data, line.len);
	buf_free(&line);
	if (rc < 0 || (sp.authzid[0] != '\0' &&
	    !str_ieq(sp.authzid, sp.authcid))) {
		sasl_wipe(&sp);
		return auth_failed(s);
	}
	rc = do_login(s, sp.authcid, sp.passwd, sp.passwd_len);
	sasl_wipe(&sp);
	return rc;
}
