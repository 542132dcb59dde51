/*
 * session - one POP3 connection from greeting to close: the state machine
 * (AUTHORIZATION, TRANSACTION, UPDATE; RFC 1939 3), the command dispatch
 * table, login through the directory, the maildrop lock, the snapshot of
 * INBOX and the UPDATE-state expunge.
 *
 * Trust: everything the client sends is untrusted; lines are bounded
 * (POP3_LINE_MAX, POP3_SASL_LINE_MAX), parsed by cmd.c, and never echoed
 * back except as numbers we parsed. Passwords are wiped from our buffers
 * after use and never logged.
 *
 * Dovecot compatibility (checked against Dovecot 2.3.19 pop3 with its
 * default settings): reply texts, UIDLs "%08x%08x" of UID and UIDVALIDITY
 * (through mbox_msg_pop3_uidl, which honours uidlist P overrides), sizes
 * are the CRLF ("W=") sizes, the order is UID order, RETR sets \Seen on
 * messages that lacked it (at QUIT, and also when the client disconnects
 * without QUIT, as Dovecot does), TOP does not, DELE expunges only at
 * QUIT, the read-write view moves new/ to cur/ at login.
 *
 * Limits: 10 minutes idle (RFC 1939 3), 10 bad commands in a row, 3 failed
 * logins per connection, then the connection is closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "auth/sasl.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/str.h"
#include "core/xmalloc.h"
#include "directory/dir.h"
#include "net/conn.h"
#include "pop3/cmd.h"
#include "pop3/pop3.h"
#include "pop3/stuff.h"
#include "store/mailbox.h"
#include "store/maildir.h"

#define POP3_IDLE_MS		(10 * 60 * 1000)	/* RFC 1939 3 */
#define POP3_TLS_HANDSHAKE_MS	(30 * 1000)
#define POP3_MAX_BAD		10
#define POP3_MAX_AUTH_FAILS	3
#define POP3_LOCK_NAME		"facteur-pop3.lock"
#define POP3_CHUNK		16384
#define POP3_PATH_MAX		4096

#define MSG_INTERNAL \
	"-ERR [SYS/TEMP] Internal error occurred. " \
	"Refer to server log for more information."
#define MSG_AUTH_FAILED		"-ERR [AUTH] Authentication failed."
#define MSG_AUTH_TEMP \
	"-ERR [SYS/TEMP] Temporary authentication failure."
#define MSG_PLAINTEXT \
	"-ERR [AUTH] Plaintext authentication disallowed on non-secure " \
	"(SSL/TLS) connections."

enum pop3_state {
	POP3_ST_AUTHZ = 0,
	POP3_ST_TRANS,
	POP3_ST_UPDATE
};

struct pop3_msg {
	uint64_t vsize;		/* CRLF size */
	bool	 deleted;	/* DELE'd in this session */
	bool	 seen;		/* RETR'd while not \Seen */
};

struct pop3_session {
	struct conn		*c;
	const struct pop3_server *srv;
	enum listen_kind	 kind;
	enum pop3_state		 state;
	char			 sid[17];
	char			 ip[64];
	bool			 tls;
	bool			 closing;	/* end after this */
	const char		*close_reason;

	struct buf		 line;
	struct buf		 out;

	/* AUTHORIZATION */
	char			 user[DIR_ADDR_MAX + 1]; /* USER */
	bool			 have_user;
	bool			 user_toolong;
	unsigned		 bad;
	unsigned		 auth_fails;

	/* TRANSACTION */
	char			 login[DIR_ADDR_MAX + 1];	/* email */
	char			 maildir[POP3_PATH_MAX];
	int			 lock_fd;
	struct mstore		*st;
	struct mbox		*mb;
	struct pop3_msg		*msgs;
	uint32_t		 nmsgs;
	uint64_t		 total;
	uint32_t		 ndeleted;
	uint64_t		 deleted_size;
	uint32_t		 retr_count;
	uint64_t		 retr_bytes;
	uint32_t		 top_count;
	uint64_t		 top_bytes;
	uint32_t		 expunged;	/* removed at QUIT */
	bool			 seen_dirty;	/* a msgs[].seen */
};

typedef int (*pop3_cmd_fn)(struct pop3_session *s, const struct pop3_cmd *cmd);

static const char *
pop3_state_name(enum pop3_state st)
{
	switch (st) {
	case POP3_ST_AUTHZ:
		return "authorization";
	case POP3_ST_TRANS:
		return "transaction";
	case POP3_ST_UPDATE:
		return "update";
	}
	return "?";
}

/* set_state: every state change goes through here (for the log). */
static void
set_state(struct pop3_session *s, enum pop3_state st)
{
	log_debug("%s pop3 state from=%s to=%s", s->sid,
	    pop3_state_name(s->state), pop3_state_name(st));
	s->state = st;
}

/* reply: one response line; CRLF appended. A write error closes. */
static void reply(struct pop3_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
reply(struct pop3_session *s, const char *fmt, ...)
{
	char line[600];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(line) - 3)
		n = (int)(sizeof(line) - 3);
	line[n++] = '\r';
	line[n++] = '\n';
	if (conn_write(s->c, line, (size_t)n) < 0) {
		s->closing = true;
		if (s->close_reason == NULL)
			s->close_reason = "write error";
	}
}

static void
wipe_line(struct pop3_session *s)
{
	if (s->line.data != NULL && s->line.len > 0)
		explicit_bzero(s->line.data, s->line.len);
}

/* n_strip: drop the line's CRLF or LF (the buffer stays NUL-terminated). */
static void
n_strip(struct buf *b)
{
	while (b->len > 0 &&
	    (b->data[b->len - 1] == '\n' || b->data[b->len - 1] == '\r'))
		b->len--;
	if (b->data != NULL)
		b->data[b->len] = '\0';
}

static void
sleep_ms(uint32_t ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ------------------------------------------------------------------ */
/* maildrop: lock, snapshot, update                                     */

/*
 * lock_maildrop: flock(2) on <maildir>/facteur-pop3.lock, held for the
 * whole session. flock conflicts between two open file descriptions even
 * in one process, so it covers our own threads as well as other facteur
 * processes, and the kernel drops it if the process dies (no stale
 * locks). 1 locked, 0 busy, -1 error.
 */
static int
lock_maildrop(struct pop3_session *s)
{
	char path[POP3_PATH_MAX + 32];
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", s->maildir,
	    POP3_LOCK_NAME) >= sizeof(path))
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		log_error("%s pop3 lock-failed path=\"%s\" error=\"%s\"",
		    s->sid, path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		close(fd);
		if (e == EWOULDBLOCK)
			return 0;
		log_error("%s pop3 lock-failed path=\"%s\" error=\"%s\"",
		    s->sid, path, strerror(e));
		return -1;
	}
	s->lock_fd = fd;
	return 1;
}

static void
maildrop_close(struct pop3_session *s)
{
	if (s->mb != NULL)
		mbox_close(&s->mb);
	if (s->st != NULL)
		mstore_close(&s->st);
	free(s->msgs);
	s->msgs = NULL;
	s->nmsgs = 0;
	if (s->lock_fd >= 0) {
		close(s->lock_fd);
		s->lock_fd = -1;
	}
}

/*
 * snapshot: the message list and sizes of the freshly opened view. A
 * message expunged by someone else while we read sizes makes us sync and
 * start over (a few times). FERR_NONE or the error.
 */
static enum ferr
snapshot(struct pop3_session *s)
{
	enum ferr e = FERR_NONE;
	uint32_t i, n;
	int tries;

	for (tries = 0; tries < 3; tries++) {
		n = mbox_count(s->mb);
		free(s->msgs);
		s->msgs = n > 0 ? xcalloc(n, sizeof(*s->msgs)) : NULL;
		s->nmsgs = n;
		s->total = 0;
		for (i = 0; i < n; i++) {
			e = mbox_msg_vsize(s->mb, i, &s->msgs[i].vsize);
			if (e != FERR_NONE)
				break;
			s->total += s->msgs[i].vsize;
		}
		if (e != FERR_NOTFOUND)
			return e;
		e = mbox_sync(s->mb, MBOX_SYNC_FORCE, NULL);
		if (e != FERR_NONE)
			return e;
		e = FERR_NOTFOUND;
	}
	return e;
}

/*
 * maildrop_open: after a successful login. Replies itself on failure
 * and returns -1; 0 when the session may enter TRANSACTION.
 */
static int
maildrop_open(struct pop3_session *s, const struct dir_user *u)
{
	enum ferr e;
	int r;

	if (store_user_maildir(s->srv->conf->mail_root, u->email,
	    s->maildir, sizeof(s->maildir)) < 0) {
		log_error("%s pop3 maildrop-failed user=\"%s\" "
		    "error=\"unusable address for a Maildir\"", s->sid,
		    s->login);
		reply(s, MSG_INTERNAL);
		return -1;
	}
	e = store_user_ensure(s->maildir);
	if (e != FERR_NONE) {
		log_error("%s pop3 maildrop-failed user=\"%s\" error=%s",
		    s->sid, s->login, ferr_name(e));
		reply(s, MSG_INTERNAL);
		return -1;
	}
	r = lock_maildrop(s);
	if (r == 0) {
		log_info("%s pop3 login result=inuse address=%s user=\"%s\"",
		    s->sid, s->ip, s->login);
		reply(s, "-ERR [IN-USE] Mailbox is locked by another POP3 "
		    "session.");
		return -1;
	}
	if (r < 0) {
		reply(s, "-ERR [SYS/TEMP] Failed to create POP3 session "
		    "lock.");
		return -1;
	}
	e = mstore_open(s->maildir, u->quota, &s->st);
	if (e == FERR_NONE)
		e = mbox_open(s->st, "INBOX", 0, &s->mb);
	if (e == FERR_NONE)
		e = snapshot(s);
	if (e != FERR_NONE) {
		log_error("%s pop3 maildrop-failed user=\"%s\" error=%s",
		    s->sid, s->login, ferr_name(e));
		maildrop_close(s);
		reply(s, "-ERR [SYS/TEMP] Couldn't open INBOX.");
		return -1;
	}
	return 0;
}

/*
 * apply_seen: set \Seen on the messages RETR'd in this session (not on
 * deleted ones when they are about to go).
 */
static void
apply_seen(struct pop3_session *s, bool skip_deleted)
{
	uint32_t i;
	enum ferr e;

	if (!s->seen_dirty || s->mb == NULL)
		return;
	for (i = 0; i < s->nmsgs; i++) {
		if (!s->msgs[i].seen || (skip_deleted && s->msgs[i].deleted))
			continue;
		e = mbox_store(s->mb, i, MBOX_STORE_ADD, MBOX_F_SEEN, 0);
		if (e != FERR_NONE && e != FERR_NOTFOUND)
			log_warn("%s pop3 seen-failed user=\"%s\" uid=%" PRIu32
			    " error=%s", s->sid, s->login,
			    mbox_msg_uid(s->mb, i), ferr_name(e));
		s->msgs[i].seen = false;
	}
	s->seen_dirty = false;
}

/* update: the UPDATE state (RFC 1939 6). 0, or -1 if some failed. */
static int
update(struct pop3_session *s)
{
	uint32_t i;
	enum ferr e;
	int rc = 0;

	apply_seen(s, true);
	for (i = 0; i < s->nmsgs; i++) {
		if (!s->msgs[i].deleted)
			continue;
		e = mbox_expunge(s->mb, i);
		if (e == FERR_NONE || e == FERR_NOTFOUND) {
			s->expunged++;
			continue;
		}
		log_error("%s pop3 expunge-failed user=\"%s\" uid=%" PRIu32
		    " error=%s", s->sid, s->login, mbox_msg_uid(s->mb, i),
		    ferr_name(e));
		rc = -1;
	}
	if (s->expunged > 0 && mbox_sync(s->mb, 0, NULL) != FERR_NONE)
		log_debug("%s pop3 sync after expunge failed", s->sid);
	return rc;
}

/* ------------------------------------------------------------------ */
/* authentication                                                       */

static void
log_user(char *dst, size_t dstlen, const char *user)
{
	log_esc(dst, dstlen, user, strlen(user));
}

/*
 * do_login: verify user/pass and open the maildrop. Replies in every
 * case. mech is "USER" or "PLAIN" (for the log).
 */
static void
do_login(struct pop3_session *s, const char *user, const char *pass,
    size_t passlen, const char *mech)
{
	struct dir_user u;
	enum dir_login r;
	char euser[DIR_ADDR_MAX * 4 + 8];

	log_user(euser, sizeof(euser), user);
	memset(&u, 0, sizeof(u));
	r = dir_login(s->srv->dir, user, pass, passlen, s->ip, &u);
	switch (r) {
	case DIR_LOGIN_OK:
		break;
	case DIR_LOGIN_TEMP:
		log_error("%s pop3 auth result=tempfail address=%s user=\"%s\" "
		    "mech=%s", s->sid, s->ip, euser, mech);
		reply(s, MSG_AUTH_TEMP);
		return;
	case DIR_LOGIN_FAIL:
	case DIR_LOGIN_BLOCKED:
	default:
		log_warn("%s pop3 auth result=%s address=%s user=\"%s\" "
		    "mech=%s", s->sid,
		    r == DIR_LOGIN_BLOCKED ? "blocked" : "permfail", s->ip,
		    euser, mech);
		/* flush what came before, then make the client wait */
		if (conn_flush(s->c) < 0) {
			s->closing = true;
			return;
		}
		sleep_ms(s->srv->conf->auth_fail_delay_ms);
		reply(s, MSG_AUTH_FAILED);
		if (++s->auth_fails >= POP3_MAX_AUTH_FAILS) {
			s->closing = true;
			s->close_reason = "too many authentication failures";
		}
		return;
	}
	explicit_bzero(u.password, sizeof(u.password));
	str_copy(s->login, u.email, sizeof(s->login));
	log_user(euser, sizeof(euser), s->login);
	if (maildrop_open(s, &u) < 0) {
		s->login[0] = '\0';
		return;
	}
	log_info("%s pop3 login result=ok address=%s user=\"%s\" mech=%s "
	    "tls=%s msgs=%" PRIu32 " size=%" PRIu64, s->sid, s->ip, euser,
	    mech, s->tls ? "yes" : "no", s->nmsgs, s->total);
	set_state(s, POP3_ST_TRANS);
	reply(s, "+OK Logged in.");
}

static int
cmd_user(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	s->user_toolong = cmd->arglen >= sizeof(s->user);
	if (!s->user_toolong) {
		memcpy(s->user, cmd->arg, cmd->arglen);
		s->user[cmd->arglen] = '\0';
	} else {
		s->user[0] = '\0';
	}
	s->have_user = true;
	reply(s, "+OK");
	return 0;
}

static int
cmd_pass(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	char pass[POP3_LINE_MAX];
	size_t n = cmd->arglen;

	if (!s->have_user) {
		reply(s, "-ERR No username given.");
		return -1;
	}
	s->have_user = false;
	if (n >= sizeof(pass))
		n = sizeof(pass) - 1;
	memcpy(pass, cmd->arg, n);
	pass[n] = '\0';
	wipe_line(s);
	if (s->user_toolong) {
		/* cannot be a user of ours; fail the same slow way */
		do_login(s, "", pass, n, "USER");
	} else {
		do_login(s, s->user, pass, n, "USER");
	}
	explicit_bzero(pass, sizeof(pass));
	return 0;
}

/*
 * auth_plain: finish AUTH PLAIN with the base64 response b64[0..n).
 */
static void
auth_plain(struct pop3_session *s, const char *b64, size_t n)
{
	struct sasl_plain sp;

	if (sasl_plain_decode(b64, n, &sp) < 0 ||
	    (sp.authzid[0] != '\0' && strcmp(sp.authzid, sp.authcid) != 0)) {
		/* malformed, or asks to act as someone else: fail as a
		 * wrong password does (no oracle) */
		sasl_wipe(&sp);
		do_login(s, "", "", 0, "PLAIN");
		return;
	}
	do_login(s, sp.authcid, sp.passwd, sp.passwd_len, "PLAIN");
	sasl_wipe(&sp);
}

static int
cmd_auth(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	const char *mech = cmd->arg, *resp = NULL;
	size_t mlen = cmd->arglen, rlen = 0, i;
	enum conn_rc rc;

	s->have_user = false;
	if (cmd->arglen == 0) {
		/* old style mechanism discovery (before CAPA) */
		reply(s, "+OK");
		reply(s, "PLAIN");
		reply(s, ".");
		return 0;
	}
	for (i = 0; i < cmd->arglen; i++) {
		if (cmd->arg[i] == ' ') {
			mlen = i;
			resp = cmd->arg + i + 1;
			rlen = cmd->arglen - i - 1;
			break;
		}
	}
	if (mlen != 5 || !str_ieqn(mech, "PLAIN", 5)) {
		reply(s, "-ERR [AUTH] Unsupported authentication mechanism.");
		return -1;
	}
	if (resp != NULL) {
		/* initial response (RFC 5034 4); "=" is an empty one */
		auth_plain(s, resp, rlen);
		wipe_line(s);
		return 0;
	}
	reply(s, "+ ");
	if (conn_flush(s->c) < 0) {
		s->closing = true;
		return 0;
	}
	rc = conn_readline(s->c, &s->line, POP3_SASL_LINE_MAX);
	if (rc == CONN_TOOLONG) {
		wipe_line(s);
		reply(s, "-ERR [AUTH] Authentication failed.");
		return -1;
	}
	if (rc != CONN_LINE) {
		s->closing = true;
		s->close_reason = rc == CONN_TIMEOUT ? "timeout" :
		    "disconnected during AUTH";
		return 0;
	}
	n_strip(&s->line);
	if (s->line.len == 1 && s->line.data[0] == '*') {
		reply(s, "-ERR Authentication aborted by client.");
		return -1;
	}
	auth_plain(s, s->line.data, s->line.len);
	wipe_line(s);
	return 0;
}

/* ------------------------------------------------------------------ */
/* other AUTHORIZATION commands                                         */

static bool
stls_offered(const struct pop3_session *s)
{
	return s->kind == LK_POP3 && !s->tls && s->srv->tls != NULL;
}

static int
cmd_capa(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	(void)cmd;
	reply(s, "+OK");
	reply(s, "CAPA");
	reply(s, "TOP");
	reply(s, "UIDL");
	reply(s, "RESP-CODES");
	reply(s, "PIPELINING");
	reply(s, "AUTH-RESP-CODE");
	if (s->state == POP3_ST_AUTHZ) {
		if (stls_offered(s))
			reply(s, "STLS");
		/* credentials only over TLS, so only offered there */
		if (s->tls) {
			reply(s, "USER");
			reply(s, "SASL PLAIN");
		}
	}
	reply(s, "IMPLEMENTATION facteur");
	reply(s, ".");
	return 0;
}

static int
cmd_stls(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	const char *why = NULL;

	(void)cmd;
	if (s->tls) {
		reply(s, "-ERR TLS is already active.");
		return -1;
	}
	if (!stls_offered(s)) {
		reply(s, "-ERR TLS support isn't enabled.");
		return -1;
	}
	reply(s, "+OK Begin TLS negotiation now.");
	if (conn_flush(s->c) < 0) {
		s->closing = true;
		return 0;
	}
	conn_set_timeout(s->c, POP3_TLS_HANDSHAKE_MS);
	/* conn_starttls drops any plaintext pipelined after STLS */
	if (conn_starttls(s->c, s->srv->tls, &why) < 0) {
		log_info("%s pop3 tls-failed address=%s reason=\"%s\"",
		    s->sid, s->ip, why != NULL ? why : "?");
		s->closing = true;
		s->close_reason = "TLS handshake failed";
		return 0;
	}
	conn_set_timeout(s->c, POP3_IDLE_MS);
	s->tls = true;
	/* RFC 2595 4: forget what was said in the clear */
	s->have_user = false;
	s->user[0] = '\0';
	return 0;
}

static int
cmd_quit(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	(void)cmd;
	s->closing = true;
	s->close_reason = "quit";
	if (s->state == POP3_ST_AUTHZ) {
		reply(s, "+OK Logging out");
		return 0;
	}
	set_state(s, POP3_ST_UPDATE);
	if (update(s) < 0) {
		reply(s, "-ERR [SYS/TEMP] Some deleted messages were not "
		    "removed.");
		return 0;
	}
	if (s->ndeleted > 0)
		reply(s, "+OK Logging out, messages deleted.");
	else
		reply(s, "+OK Logging out.");
	return 0;
}

/* ------------------------------------------------------------------ */
/* TRANSACTION                                                          */

/*
 * get_msg: the index of the message a command names, or -1 after the
 * error reply (no such message, or deleted).
 */
static int
get_msg(struct pop3_session *s, const struct pop3_cmd *cmd, uint32_t *idx_r)
{
	if (cmd->msg == 0 || cmd->msg > s->nmsgs) {
		reply(s, "-ERR There's no message %" PRIu32 ".", cmd->msg);
		return -1;
	}
	if (s->msgs[cmd->msg - 1].deleted) {
		reply(s, "-ERR Message is deleted.");
		return -1;
	}
	*idx_r = cmd->msg - 1;
	return 0;
}

static int
cmd_stat(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	(void)cmd;
	reply(s, "+OK %" PRIu32 " %" PRIu64, s->nmsgs - s->ndeleted,
	    s->total - s->deleted_size);
	return 0;
}

static int
cmd_list(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	uint32_t i;

	if (cmd->has_msg) {
		if (get_msg(s, cmd, &i) < 0)
			return -1;
		reply(s, "+OK %" PRIu32 " %" PRIu64, i + 1, s->msgs[i].vsize);
		return 0;
	}
	reply(s, "+OK %" PRIu32 " messages:", s->nmsgs - s->ndeleted);
	for (i = 0; i < s->nmsgs && !s->closing; i++) {
		if (!s->msgs[i].deleted)
			reply(s, "%" PRIu32 " %" PRIu64, i + 1,
			    s->msgs[i].vsize);
	}
	reply(s, ".");
	return 0;
}

static int
cmd_uidl(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	char uidl[MBOX_UIDL_MAX];
	uint32_t i;

	if (cmd->has_msg) {
		if (get_msg(s, cmd, &i) < 0)
			return -1;
		mbox_msg_pop3_uidl(s->mb, i, uidl, sizeof(uidl));
		reply(s, "+OK %" PRIu32 " %s", i + 1, uidl);
		return 0;
	}
	reply(s, "+OK");
	for (i = 0; i < s->nmsgs && !s->closing; i++) {
		if (s->msgs[i].deleted)
			continue;
		mbox_msg_pop3_uidl(s->mb, i, uidl, sizeof(uidl));
		reply(s, "%" PRIu32 " %s", i + 1, uidl);
	}
	reply(s, ".");
	return 0;
}

/*
 * send_msg: RETR (lines == POP3_STUFF_ALL) or TOP. Replies itself.
 * Returns 0, or -1 for a client-visible error before any data was sent.
 * An error in the middle of the data closes the connection (the client
 * cannot tell a truncated message from a whole one otherwise).
 */
static int
send_msg(struct pop3_session *s, uint32_t idx, uint64_t lines,
    uint64_t *bytes_r)
{
	struct pop3_stuff st;
	char *chunk;
	enum ferr e;
	ssize_t n;
	int fd;

	e = mbox_msg_open(s->mb, idx, &fd);
	if (e == FERR_NOTFOUND) {
		reply(s, "-ERR Message %" PRIu32 " expunged.", idx + 1);
		return -1;
	}
	if (e != FERR_NONE) {
		log_error("%s pop3 open-failed user=\"%s\" uid=%" PRIu32
		    " error=%s", s->sid, s->login, mbox_msg_uid(s->mb, idx),
		    ferr_name(e));
		reply(s, MSG_INTERNAL);
		return -1;
	}
	if (lines == POP3_STUFF_ALL)
		reply(s, "+OK %" PRIu64 " octets", s->msgs[idx].vsize);
	else
		reply(s, "+OK");

	chunk = xmalloc(POP3_CHUNK);
	pop3_stuff_init(&st, lines);
	while (!s->closing && !st.done) {
		n = read(fd, chunk, POP3_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_error("%s pop3 read-failed user=\"%s\" uid=%" PRIu32
			    " error=\"%s\"", s->sid, s->login,
			    mbox_msg_uid(s->mb, idx), strerror(errno));
			s->closing = true;
			s->close_reason = "message read error";
			break;
		}
		if (n == 0)
			break;
		buf_reset(&s->out);
		if (pop3_stuff_feed(&st, chunk, (size_t)n, &s->out) < 0 ||
		    conn_write(s->c, s->out.data, s->out.len) < 0) {
			s->closing = true;
			s->close_reason = "write error";
		}
	}
	free(chunk);
	close(fd);
	if (s->closing) {
		buf_free(&s->out);
		return 0;
	}
	buf_reset(&s->out);
	if (pop3_stuff_end(&st, &s->out) < 0 ||
	    conn_write(s->c, s->out.data, s->out.len) < 0) {
		s->closing = true;
		s->close_reason = "write error";
	}
	*bytes_r += st.out;
	/* give the 32 KiB back: an idle session should be small */
	buf_free(&s->out);
	return 0;
}

static int
cmd_retr(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	uint32_t i;

	if (get_msg(s, cmd, &i) < 0)
		return -1;
	if (send_msg(s, i, POP3_STUFF_ALL, &s->retr_bytes) < 0)
		return -1;
	s->retr_count++;
	if ((mbox_msg_flags(s->mb, i) & MBOX_F_SEEN) == 0) {
		s->msgs[i].seen = true;
		s->seen_dirty = true;
	}
	return 0;
}

static int
cmd_top(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	uint32_t i;
	uint64_t lines = cmd->lines;

	if (get_msg(s, cmd, &i) < 0)
		return -1;
	if (lines == POP3_STUFF_ALL)
		lines--;	/* still "all", but a TOP: no "octets" */
	if (send_msg(s, i, lines, &s->top_bytes) < 0)
		return -1;
	s->top_count++;
	return 0;
}

static int
cmd_dele(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	uint32_t i;

	if (get_msg(s, cmd, &i) < 0)
		return -1;
	s->msgs[i].deleted = true;
	s->ndeleted++;
	s->deleted_size += s->msgs[i].vsize;
	reply(s, "+OK Marked to be deleted.");
	return 0;
}

static int
cmd_noop(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	(void)cmd;
	reply(s, "+OK");
	return 0;
}

static int
cmd_rset(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	uint32_t i;

	(void)cmd;
	for (i = 0; i < s->nmsgs; i++) {
		s->msgs[i].deleted = false;
		s->msgs[i].seen = false;
	}
	s->ndeleted = 0;
	s->deleted_size = 0;
	s->seen_dirty = false;
	reply(s, "+OK");
	return 0;
}

/* ------------------------------------------------------------------ */
/* dispatch and the session loop                                        */

static const pop3_cmd_fn cmd_handlers[POP3_CMD_COUNT] = {
	[POP3_CMD_CAPA] = cmd_capa,
	[POP3_CMD_USER] = cmd_user,
	[POP3_CMD_PASS] = cmd_pass,
	[POP3_CMD_AUTH] = cmd_auth,
	[POP3_CMD_STLS] = cmd_stls,
	[POP3_CMD_QUIT] = cmd_quit,
	[POP3_CMD_STAT] = cmd_stat,
	[POP3_CMD_LIST] = cmd_list,
	[POP3_CMD_RETR] = cmd_retr,
	[POP3_CMD_DELE] = cmd_dele,
	[POP3_CMD_NOOP] = cmd_noop,
	[POP3_CMD_RSET] = cmd_rset,
	[POP3_CMD_TOP] = cmd_top,
	[POP3_CMD_UIDL] = cmd_uidl,
};

/* dispatch: one command line. Returns 0 good, -1 a bad command. */
static int
dispatch(struct pop3_session *s)
{
	struct pop3_cmd cmd;
	const char *why;
	enum pop3_parse pr;
	unsigned need;

	pr = pop3_cmd_parse(s->line.data, s->line.len, &cmd, &why);
	if (pr == POP3_PARSE_UNKNOWN) {
		reply(s, "-ERR %s", why);
		return -1;
	}
	/* the state check comes before argument errors: a client in the
	 * wrong state learns that first */
	need = s->state == POP3_ST_AUTHZ ? POP3_CF_AUTHZ : POP3_CF_TRANS;
	if ((cmd.flags & need) == 0) {
		reply(s, "-ERR Command not allowed in this state.");
		return -1;
	}
	if ((cmd.flags & POP3_CF_CLEARTEXT) != 0 && !s->tls) {
		wipe_line(s);
		log_info("%s pop3 auth result=refused reason=cleartext "
		    "address=%s", s->sid, s->ip);
		reply(s, MSG_PLAINTEXT);
		return -1;
	}
	if (pr != POP3_PARSE_OK) {
		if (cmd.id == POP3_CMD_PASS)
			wipe_line(s);
		reply(s, "-ERR %s", why);
		return -1;
	}
	return cmd_handlers[cmd.id](s, &cmd);
}

static void
session_summary(struct pop3_session *s)
{
	char euser[DIR_ADDR_MAX * 4 + 8];

	if (s->login[0] == '\0') {
		log_info("%s pop3 disconnect address=%s reason=\"%s\" "
		    "state=%s", s->sid, s->ip, s->close_reason,
		    pop3_state_name(s->state));
		return;
	}
	log_user(euser, sizeof(euser), s->login);
	log_info("%s pop3 disconnect user=\"%s\" address=%s reason=\"%s\" "
	    "state=%s retr=%" PRIu32 " retr_bytes=%" PRIu64 " top=%" PRIu32
	    " top_bytes=%" PRIu64 " dele=%" PRIu32 " deleted=%" PRIu32
	    " msgs=%" PRIu32 " size=%" PRIu64, s->sid, euser, s->ip,
	    s->close_reason, pop3_state_name(s->state), s->retr_count,
	    s->retr_bytes, s->top_count, s->top_bytes, s->ndeleted,
	    s->expunged, s->nmsgs, s->total);
}

static void
session_loop(struct pop3_session *s)
{
	enum conn_rc rc;

	reply(s, "+OK facteur ready.");
	while (!s->closing) {
		/* PIPELINING (RFC 2449): answer a batch, flush once */
		if (conn_pending(s->c) == 0 && conn_flush(s->c) < 0) {
			s->close_reason = "write error";
			break;
		}
		rc = conn_readline(s->c, &s->line, POP3_LINE_MAX);
		switch (rc) {
		case CONN_LINE:
			break;
		case CONN_TOOLONG:
			wipe_line(s);
			reply(s, "-ERR Line too long.");
			s->bad++;
			goto check_bad;
		case CONN_TIMEOUT:
			reply(s, "-ERR Disconnected for inactivity.");
			s->close_reason = "timeout";
			s->closing = true;
			continue;
		case CONN_EOF:
			s->close_reason = "disconnected";
			s->closing = true;
			continue;
		case CONN_ERROR:
		default:
			s->close_reason = "connection error";
			s->closing = true;
			continue;
		}
		if (dispatch(s) < 0)
			s->bad++;
		else
			s->bad = 0;
check_bad:
		if (s->bad >= POP3_MAX_BAD && !s->closing) {
			reply(s, "-ERR Too many bad commands.");
			s->close_reason = "too many bad commands";
			s->closing = true;
		}
	}
	(void)conn_flush(s->c);
}

void
pop3_session_run(struct conn *c, const struct session_info *si, void *arg)
{
	const struct pop3_server *srv = arg;
	struct pop3_session *s;
	const char *why = NULL;

	s = xcalloc(1, sizeof(*s));
	s->c = c;
	s->srv = srv;
	s->kind = si->kind;
	s->state = POP3_ST_AUTHZ;
	s->lock_fd = -1;
	snprintf(s->sid, sizeof(s->sid), "%016llx",
	    (unsigned long long)log_session_id());
	str_copy(s->ip, conn_peer_ip(c), sizeof(s->ip));

	if (si->kind == LK_POP3S) {
		conn_set_timeout(c, POP3_TLS_HANDSHAKE_MS);
		if (srv->tls == NULL ||
		    conn_starttls(c, srv->tls, &why) < 0) {
			log_info("%s pop3 tls-failed address=%s reason=\"%s\"",
			    s->sid, s->ip, srv->tls == NULL ? "no TLS context" :
			    why != NULL ? why : "?");
			goto out;
		}
		s->tls = true;
	}
	conn_set_timeout(c, POP3_IDLE_MS);
	if (si->over_limit) {
		log_info("%s pop3 refused reason=\"%s\" address=%s", s->sid,
		    si->limit_reason != NULL ? si->limit_reason : "limit",
		    s->ip);
		reply(s, "-ERR [SYS/TEMP] Too many connections");
		(void)conn_flush(c);
		goto out;
	}
	log_info("%s pop3 connect address=%s port=%u tls=%s", s->sid, s->ip,
	    (unsigned)conn_local_port(c), s->tls ? "yes" : "no");

	buf_init(&s->line, POP3_SASL_LINE_MAX + 1);
	buf_init(&s->out, 2 * POP3_CHUNK + 16);
	session_loop(s);
	if (s->state == POP3_ST_TRANS) {
		/* no QUIT: keep the \Seen flags (as Dovecot), delete
		 * nothing (RFC 1939 6) */
		apply_seen(s, false);
	}
	if (s->close_reason == NULL)
		s->close_reason = "closed";
	session_summary(s);
	maildrop_close(s);
	wipe_line(s);
	buf_free(&s->line);
	buf_free(&s->out);
out:
	explicit_bzero(s->user, sizeof(s->user));
	free(s);
	conn_free(&c);
}
