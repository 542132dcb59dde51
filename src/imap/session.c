/*
 * session - one IMAP client connection: greeting, the command loop, the
 * command table and its state checks, literal admission, limits, logout.
 *
 * Input is read a line at a time (conn_readline, bounded) and fed to the
 * incremental parser; a literal's declared size is checked (APPEND:
 * message_size_limit and quota; others: IMAP_LITERAL_MAX, smaller before
 * login) before "+ OK" goes out, and its bytes are read with
 * conn_read_full in chunks. Too many bad commands end the session; so
 * does being idle longer than imap_idle_timeout. RFC 3501, RFC 7888.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/str.h"
#include "imap/imap_int.h"
#include "net/conn.h"

#define CMD_NOAUTH	0x01	/* allowed before login */
#define CMD_AUTH	0x02	/* allowed after login */
#define CMD_SELECTED	0x04	/* only with a mailbox selected */
#define CMD_UID		0x08	/* has a UID variant */
#define CMD_SELUID	(CMD_AUTH | CMD_SELECTED | CMD_UID)

struct imap_cmd {
	const char	*name;
	imap_cmd_fn	 fn;
	unsigned	 flags;
};

static const struct imap_cmd cmds[] = {
	{ "CAPABILITY",	imap_cmd_capability, CMD_NOAUTH | CMD_AUTH },
	{ "NOOP",	imap_cmd_noop, CMD_NOAUTH | CMD_AUTH },
	{ "LOGOUT",	imap_cmd_logout, CMD_NOAUTH | CMD_AUTH },
	{ "ID",		imap_cmd_id, CMD_NOAUTH | CMD_AUTH },
	{ "STARTTLS",	imap_cmd_starttls, CMD_NOAUTH },
	{ "LOGIN",	imap_cmd_login, CMD_NOAUTH },
	{ "AUTHENTICATE", imap_cmd_authenticate, CMD_NOAUTH },
	{ "ENABLE",	imap_cmd_enable, CMD_AUTH },
	{ "SELECT",	imap_cmd_select, CMD_AUTH },
	{ "EXAMINE",	imap_cmd_examine, CMD_AUTH },
	{ "CREATE",	imap_cmd_create, CMD_AUTH },
	{ "DELETE",	imap_cmd_delete, CMD_AUTH },
	{ "RENAME",	imap_cmd_rename, CMD_AUTH },
	{ "SUBSCRIBE",	imap_cmd_subscribe, CMD_AUTH },
	{ "UNSUBSCRIBE", imap_cmd_unsubscribe, CMD_AUTH },
	{ "LIST",	imap_cmd_list, CMD_AUTH },
	{ "LSUB",	imap_cmd_lsub, CMD_AUTH },
	{ "STATUS",	imap_cmd_status, CMD_AUTH },
	{ "NAMESPACE",	imap_cmd_namespace, CMD_AUTH },
	{ "APPEND",	imap_cmd_append, CMD_AUTH },
	{ "IDLE",	imap_cmd_idle, CMD_AUTH },
	{ "GETQUOTAROOT", imap_cmd_getquotaroot, CMD_AUTH },
	{ "GETQUOTA",	imap_cmd_getquota, CMD_AUTH },
	{ "SETQUOTA",	imap_cmd_setquota, CMD_AUTH },
	{ "CHECK",	imap_cmd_check, CMD_AUTH | CMD_SELECTED },
	{ "CLOSE",	imap_cmd_close, CMD_AUTH | CMD_SELECTED },
	{ "UNSELECT",	imap_cmd_unselect, CMD_AUTH | CMD_SELECTED },
	{ "EXPUNGE",	imap_cmd_expunge, CMD_SELUID },
	{ "SEARCH",	imap_cmd_search, CMD_SELUID },
	{ "SORT",	imap_cmd_sort, CMD_SELUID },
	{ "THREAD",	imap_cmd_thread, CMD_SELUID },
	{ "FETCH",	imap_cmd_fetch, CMD_SELUID },
	{ "STORE",	imap_cmd_store, CMD_SELUID },
	{ "COPY",	imap_cmd_copy, CMD_SELUID },
	{ "MOVE",	imap_cmd_move, CMD_SELUID },
};

static const struct imap_cmd *
cmd_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	return NULL;
}

static void
set_limits(struct imap_session *s)
{
	struct imap_parser_limits lim;

	if (s->state == IMAP_ST_NOAUTH) {
		lim.max_line = IMAP_LINE_MAX_PREAUTH;
		lim.max_depth = IMAP_DEPTH_MAX_PREAUTH;
		lim.max_args = IMAP_ARGS_MAX_PREAUTH;
	} else {
		lim.max_line = IMAP_LINE_MAX;
		lim.max_depth = IMAP_DEPTH_MAX;
		lim.max_args = IMAP_ARGS_MAX;
	}
	imap_parser_set_limits(s->parser, &lim);
}

static int
bye(struct imap_session *s, const char *text, const char *reason)
{
	imap_printf(s, "* BYE %s\r\n", text);
	conn_flush(s->c);
	s->close_reason = reason;
	return -1;
}

/* discard_literal: read and drop size bytes (a non-synchronizing
 * literal whose command already failed). 0 or -1 (connection lost). */
static int
discard_literal(struct imap_session *s, uint64_t size)
{
	char chunk[16384];
	size_t n;

	while (size > 0) {
		n = size > sizeof(chunk) ? sizeof(chunk) : (size_t)size;
		if (conn_read_full(s->c, chunk, n) < 0) {
			s->close_reason = "eof in literal";
			return -1;
		}
		size -= n;
	}
	return 0;
}

/*
 * stream_append: APPEND's message literal goes straight to a tmp/ file
 * through the store instead of memory. Returns 1 (literal consumed, the
 * parser has an IMAP_ARG_STREAMED argument), 0 (not streamed: the caller
 * handles the literal normally), -1 end the session.
 */
static int
stream_append(struct imap_session *s, uint64_t size, bool nonsync)
{
	const struct imap_arg *a;
	char name[MSTORE_NAME_MAX + 1], chunk[16384];
	const char *why;
	size_t n, i;
	enum ferr e, werr = FERR_NONE;

	if (s->st == NULL || s->append != NULL)
		return 0;
	a = imap_parser_partial_args(s->parser, &n);
	/* mailbox [flags] [date] then the literal */
	if (n < 1 || n > 3 || imap_mbname(&a[0], name, sizeof(name),
	    &why) < 0)
		return 0;
	for (i = 1; i < n; i++)
		if (a[i].type != IMAP_ARG_LIST && a[i].type != IMAP_ARG_QUOTED)
			return 0;
	if (!mstore_name_is_inbox(name) && mstore_name_check(name, &why) < 0)
		e = FERR_INVALID;
	else
		e = mstore_append_begin(s->st, name,
		    s->srv->conf->message_size_limit, &s->append);
	if (e != FERR_NONE) {
		s->append = NULL;
		if (!nonsync) {
			if (e == FERR_NOTFOUND)
				imap_tagged(s, "NO", "[TRYCREATE] Mailbox "
				    "doesn't exist: %s", name);
			else if (e == FERR_INVALID)
				imap_tagged(s, "NO", "[CANNOT] Invalid mailbox "
				    "name");
			else
				imap_no_ferr(s, e, NULL);
			imap_parser_literal_reject(s->parser);
			conn_flush(s->c);
			return 2;
		}
		/* the client sends the bytes anyway: drop them and let
		 * imap_cmd_append report the error */
		if (discard_literal(s, size) < 0)
			return -1;
		imap_parser_literal_streamed(s->parser);
		return 1;
	}
	if (!nonsync) {
		conn_puts(s->c, "+ OK\r\n");
		if (conn_flush(s->c) < 0)
			return -1;
	}
	while (size > 0) {
		n = size > sizeof(chunk) ? sizeof(chunk) : (size_t)size;
		if (conn_read_full(s->c, chunk, n) < 0) {
			mstore_append_abort(&s->append);
			s->close_reason = conn_timed_out(s->c) ?
			    "timeout in literal" : "eof in literal";
			return -1;
		}
		if (werr == FERR_NONE)
			werr = mstore_append_write(s->append, chunk, n);
		size -= n;
	}
	if (werr != FERR_NONE) {
		/* disk full or the like: imap_cmd_append reports it */
		log_warn("%s imap append write error=%s", s->sid,
		    ferr_name(werr));
		mstore_append_abort(&s->append);
	}
	imap_parser_literal_streamed(s->parser);
	return 1;
}

/*
 * literal_admit: the parser saw "{n}" or "{n+}". Decide before "+ OK".
 * Returns 1 accepted (bytes to be fed), 2 consumed already (streamed or
 * rejected with a reply), 0 rejected (reply sent, parser reset), -1 end
 * the session.
 */
static int
literal_admit(struct imap_session *s)
{
	struct imap_parser *p = s->parser;
	uint64_t size = imap_parser_literal_size(p);
	bool nonsync = imap_parser_literal_nonsync(p);
	bool append = strcmp(imap_parser_name(p), "APPEND") == 0;
	uint64_t max;
	enum ferr e;
	int r;

	s->tag = imap_parser_tag(p);
	if (s->state == IMAP_ST_NOAUTH)
		max = IMAP_LITERAL_MAX_PREAUTH;
	else if (append)
		max = s->srv->conf->message_size_limit;
	else
		max = IMAP_LITERAL_MAX;
	if (!append && size <= max) {
		s->litbytes += size;
		if (s->litbytes > IMAP_LITERALS_TOTAL_MAX)
			max = 0;
	}
	if (size > max) {
		if (append)
			imap_tagged(s, "NO", "[TOOBIG] Message too large "
			    "(limit is %llu bytes)", (unsigned long long)max);
		else
			imap_tagged(s, "BAD", "[TOOBIG] Literal too large");
		imap_parser_literal_reject(p);
		if (nonsync)
			return bye(s, "[TOOBIG] Literal too large, "
			    "disconnecting", "literal too large");
		conn_flush(s->c);
		return 0;
	}
	if (append && s->st != NULL && size > 0) {
		e = mstore_quota_check(s->st, size);
		if (e == FERR_QUOTA) {
			imap_tagged(s, "NO", "[OVERQUOTA] Quota exceeded");
			imap_parser_literal_reject(p);
			if (nonsync)
				return bye(s, "Quota exceeded during "
				    "non-synchronizing literal",
				    "over quota literal");
			conn_flush(s->c);
			return 0;
		}
		r = stream_append(s, size, nonsync);
		if (r < 0)
			return -1;
		if (r == 2)
			return 0;
		if (r == 1)
			return 2;
	}
	imap_parser_literal_accept(p);
	if (!nonsync) {
		conn_puts(s->c, "+ OK\r\n");
		if (conn_flush(s->c) < 0)
			return -1;
	}
	return 1;
}

static int
read_literal(struct imap_session *s, uint64_t size)
{
	char chunk[16384];
	size_t n, used;

	while (size > 0) {
		n = size > sizeof(chunk) ? sizeof(chunk) : (size_t)size;
		if (conn_read_full(s->c, chunk, n) < 0) {
			s->close_reason = conn_timed_out(s->c) ?
			    "timeout in literal" : "eof in literal";
			return -1;
		}
		imap_parser_feed(s->parser, chunk, n, &used);
		size -= n;
	}
	return 0;
}

/*
 * read_command: read until the parser has a whole command. Returns 1 with
 * a command, 0 when an error reply was sent (read again), -1 to end.
 */
static int
read_command(struct imap_session *s, struct buf *line)
{
	enum imap_parse_rc rc;
	enum conn_rc crc;
	size_t off, used, max;
	int a;

	max = s->state == IMAP_ST_NOAUTH ? IMAP_LINE_MAX_PREAUTH :
	    IMAP_LINE_MAX;
	for (;;) {
		crc = conn_readline(s->c, line, max + 2);
		if (crc == CONN_TIMEOUT)
			return bye(s, "Autologout; idle for too long",
			    "idle timeout");
		if (crc == CONN_EOF) {
			s->close_reason = "eof";
			return -1;
		}
		if (crc == CONN_ERROR) {
			s->close_reason = "read error";
			return -1;
		}
		if (crc == CONN_TOOLONG) {
			imap_parser_reset(s->parser);
			s->nbad++;
			imap_printf(s, "* BAD [TOOBIG] Command line too "
			    "long\r\n");
			return 0;
		}
		off = 0;
		while (off < line->len) {
			rc = imap_parser_feed(s->parser, line->data + off,
			    line->len - off, &used);
			off += used;
			switch (rc) {
			case IMAP_PARSE_NEED_MORE:
				break;
			case IMAP_PARSE_DONE:
				return 1;
			case IMAP_PARSE_ERROR:
				s->tag = imap_parser_tag(s->parser);
				if (s->tag[0] == '\0')
					s->tag = "*";
				imap_bad(s, imap_parser_error(s->parser));
				imap_parser_reset(s->parser);
				return 0;
			case IMAP_PARSE_LITERAL:
				a = literal_admit(s);
				if (a <= 0)
					return a;
				if (a == 2)
					break;
				if (read_literal(s,
				    imap_parser_literal_size(s->parser)) < 0)
					return -1;
				break;
			}
		}
	}
}

static int
dispatch(struct imap_session *s)
{
	const struct imap_arg *args;
	const struct imap_cmd *cmd;
	const char *name;
	size_t nargs;
	char uname[IMAP_CMDNAME_MAX + 1];

	s->tag = imap_parser_tag(s->parser);
	name = imap_parser_name(s->parser);
	args = imap_parser_args(s->parser, &nargs);
	s->uid = false;
	if (strcmp(name, "UID") == 0) {
		if (nargs < 1 || args[0].type != IMAP_ARG_ATOM ||
		    args[0].len > IMAP_CMDNAME_MAX)
			return imap_bad(s, "UID needs a command");
		str_copy(uname, args[0].str, sizeof(uname));
		for (char *q = uname; *q != '\0'; q++)
			if (*q >= 'a' && *q <= 'z')
				*q = (char)(*q - 'a' + 'A');
		cmd = cmd_find(uname);
		if (cmd == NULL || (cmd->flags & CMD_UID) == 0)
			return imap_bad(s, "Unknown UID command");
		s->uid = true;
		args++;
		nargs--;
	} else {
		cmd = cmd_find(name);
	}
	if (cmd == NULL)
		return imap_bad(s, "Unknown command");
	/* the name only: arguments may hold passwords */
	log_debug("%s imap command %s%s", s->sid, s->uid ? "UID " : "",
	    cmd->name);
	switch (s->state) {
	case IMAP_ST_NOAUTH:
		if ((cmd->flags & CMD_NOAUTH) == 0)
			return imap_bad(s, "Please log in first");
		break;
	case IMAP_ST_AUTH:
		if ((cmd->flags & CMD_AUTH) == 0)
			return imap_bad(s, "Already logged in");
		if (cmd->flags & CMD_SELECTED)
			return imap_bad(s, "No mailbox selected");
		break;
	case IMAP_ST_SELECTED:
		if ((cmd->flags & CMD_AUTH) == 0)
			return imap_bad(s, "Already logged in");
		break;
	default:
		return -1;
	}
	return cmd->fn(s, args, nargs);
}

static void
session_free(struct imap_session *s)
{
	if (s->append != NULL)
		mstore_append_abort(&s->append);
	imap_unselect(s);
	if (s->st != NULL)
		mstore_close(&s->st);
	imap_parser_free(&s->parser);
}

void
imap_session_run(struct conn *c, const struct session_info *si, void *arg)
{
	const struct imap_server *srv = arg;
	struct imap_session s;
	struct imap_parser_limits lim;
	struct buf line;
	const char *why = NULL;
	char cap[512];
	uint64_t timeout;
	unsigned nbad;
	int rc;

	memset(&s, 0, sizeof(s));
	s.c = c;
	s.srv = srv;
	s.kind = si->kind;
	snprintf(s.sid, sizeof(s.sid), "%016llx",
	    (unsigned long long)log_session_id());
	str_copy(s.ip, conn_peer_ip(c), sizeof(s.ip));
	timeout = srv->conf->imap_idle_timeout;
	if (timeout == 0 || timeout > 24 * 3600)
		timeout = 30 * 60;
	s.idle_secs = timeout;
	conn_set_timeout(c, (int)(timeout * 1000));

	if (si->over_limit) {
		log_info("%s imap refused reason=\"%s\" address=%s", s.sid,
		    si->limit_reason != NULL ? si->limit_reason : "limit",
		    s.ip);
		if (si->kind == LK_IMAPS && srv->tls != NULL) {
			conn_set_timeout(c, 10000);
			if (conn_starttls(c, srv->tls, &why) < 0) {
				conn_free(&c);
				return;
			}
		}
		conn_puts(c, "* BYE Too many connections\r\n");
		conn_flush(c);
		conn_free(&c);
		return;
	}
	if (si->kind == LK_IMAPS && srv->tls != NULL) {
		conn_set_timeout(c, 30000);
		if (conn_starttls(c, srv->tls, &why) < 0) {
			log_info("%s imap tls-failed address=%s reason=\"%s\"",
			    s.sid, s.ip, why != NULL ? why : "?");
			conn_free(&c);
			return;
		}
		s.tls = true;
		conn_set_timeout(c, (int)(timeout * 1000));
	}
	log_info("%s imap connect address=%s port=%u tls=%s", s.sid, s.ip,
	    (unsigned)conn_local_port(c), s.tls ? "yes" : "no");

	lim.max_line = IMAP_LINE_MAX_PREAUTH;
	lim.max_depth = IMAP_DEPTH_MAX_PREAUTH;
	lim.max_args = IMAP_ARGS_MAX_PREAUTH;
	s.parser = imap_parser_new(&lim);
	buf_init(&line, IMAP_LINE_MAX + 2);

	imap_capability(&s, cap, sizeof(cap));
	imap_printf(&s, "* OK [CAPABILITY %s] facteur ready.\r\n", cap);
	for (;;) {
		if (conn_flush(c) < 0) {
			s.close_reason = "write error";
			break;
		}
		if (s.nbad >= IMAP_BAD_MAX) {
			bye(&s, "Too many invalid commands", "too many errors");
			break;
		}
		set_limits(&s);
		/* nothing pipelined: give the buffers back while the client
		 * thinks (idle connections dominate memory) */
		if (conn_pending(c) == 0)
			conn_release_buffers(c);
		s.tag = NULL;
		s.litbytes = 0;
		rc = read_command(&s, &line);
		if (rc < 0)
			break;
		if (rc == 0) {
			if (s.append != NULL)
				mstore_append_abort(&s.append);
			continue;
		}
		nbad = s.nbad;
		rc = dispatch(&s);
		/* the limit is on bad commands in a row: a long session
		 * with an odd unsupported command now and then goes on */
		if (s.nbad == nbad)
			s.nbad = 0;
		imap_parser_reset(s.parser);
		if (line.cap > 8192)
			buf_free(&line);	/* keep idle sessions small */
		if (s.append != NULL)
			mstore_append_abort(&s.append);
		if (rc < 0 || s.state == IMAP_ST_LOGOUT)
			break;
	}
	conn_flush(c);
	if (s.close_reason == NULL)
		s.close_reason = s.state == IMAP_ST_LOGOUT ? "logout" :
		    "closed";
	if (s.user[0] != '\0')
		log_info("%s imap disconnect user=\"%s\" address=%s "
		    "reason=\"%s\"", s.sid, s.user, s.ip, s.close_reason);
	else
		log_info("%s imap disconnect address=%s reason=\"%s\"", s.sid,
		    s.ip, s.close_reason);
	buf_free(&line);
	session_free(&s);
	conn_free(&c);
}
