/*
 * session - one SMTP server session (RFC 5321) on 25, 465 or 587, from
 * the greeting to QUIT: command loop with a dispatch table and an
 * explicit state, STARTTLS (RFC 3207), AUTH PLAIN/LOGIN (RFC 4954) on
 * the submission ports only and only under TLS, MAIL/RCPT policy (no open
 * relay), DATA and BDAT (RFC 3030), pipelining (RFC 2920).
 *
 * Input: everything the client sends is untrusted. The session keeps its
 * own small read buffer over conn_read(), so that the bytes after the end
 * of DATA or of a BDAT chunk stay available as the next commands, and so
 * that plaintext pipelined after STARTTLS can be thrown away with the
 * conn's own buffer (never executed inside TLS).
 *
 * Limits: command line 512 octets (12288 for AUTH exchanges), at most
 * smtp_max_recipients per transaction, smtp_max_errors bad commands,
 * message_size_limit (data over it is read to its end, then refused),
 * RFC 5321 4.5.3.2 timeouts. Replies carry enhanced status codes (RFC
 * 2034, 3463) and are flushed only when no more input is pending, which
 * is what pipelining needs. Past half of smtp_max_errors each error costs
 * a second (address harvesting).
 *
 * Relay policy (Postfix reject_unauth_destination with
 * allow_untrusted_routing = no): unauthenticated clients reach local
 * domains only; %-hacks, bang paths, quoted '@'/'%', source routes and
 * address literals are "554 5.7.1 Relay access denied". Aliases that
 * point outside are forwarded through the queue for anyone.
 * <postmaster> and postmaster@ any local domain nobody has reach the
 * server's postmaster (RFC 5321 4.5.1), see sess_postmaster().
 *
 * Message text lines of any length are accepted and stored unchanged, as
 * Postfix does (it splits them only internally); only the total size is
 * limited. Bare LF is accepted as a line end (Postfix "normalize"); an
 * end-of-data lookalike made with bare CR or LF refuses the message
 * (550 5.5.2, see data.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "auth/sasl.h"
#include "core/buf.h"
#include "core/fsutil.h"
#include "core/events.h"
#include "core/log.h"
#include "core/str.h"
#include "core/timeutil.h"
#include "core/xmalloc.h"
#include "directory/dir.h"
#include "directory/dkimkeys.h"
#include "mail/addr.h"
#include "mail/hdr.h"
#include "mailauth/mailauth.h"
#include "net/conn.h"
#include "net/server.h"
#include "smtp/smtp.h"
#include "smtp/smtp_int.h"
#include "store/mailbox.h"
#include "store/maildir.h"

#define SESS_IN_MAX		8192
#define SESS_CMD_TIMEOUT	(5 * 60 * 1000)
#define SESS_DATA_BLOCK_TIMEOUT	(3 * 60 * 1000)
#define SESS_DATA_TOTAL_TIMEOUT	(10 * 60 * 1000)
#define SESS_RECEIVED_MAX	4096
#define SESS_SPOOL_AT		(256 * 1024)	/* then content goes to disk */

enum smtp_state {
	SMTP_S_CONNECTED = 0,	/* greeting sent, no HELO/EHLO yet */
	SMTP_S_READY,		/* HELO/EHLO done, no transaction */
	SMTP_S_MAIL,		/* MAIL accepted, no recipient yet */
	SMTP_S_RCPT,		/* at least one recipient accepted */
	SMTP_S_BDAT,		/* inside a BDAT chunk sequence */
	SMTP_S_QUIT		/* the session ends */
};

enum sess_in {
	IN_OK = 0,
	IN_TOOLONG,
	IN_EOF,
	IN_TIMEOUT,
	IN_ERROR
};

struct smtp_session {
	struct smtp_server *srv;
	const struct conf  *conf;
	struct conn	*c;
	enum listen_kind kind;
	enum smtp_state	 state;
	char		 sid[17];
	char		 ip[64];
	char		 helo[256];
	bool		 esmtp;
	bool		 tls;
	bool		 authed;
	char		 user[DIR_ADDR_MAX + 1];

	/* the transaction */
	char		 sender[ADDR_PATH_MAX * 2 + 3];
	bool		 smtputf8;
	bool		 eightbit;
	uint64_t	 declared_size;
	struct smtp_rcpt *rcpts;
	size_t		 nrcpts;
	size_t		 rcpts_cap;
	struct buf	 content;	/* content not yet spooled */
	int		 spool_fd;	/* unlinked file in queue_dir, or -1 */
	uint64_t	 spool_len;
	void		*spool_map;
	size_t		 spool_maplen;
	struct smtp_data data;
	bool		 bdat_failed;
	unsigned	 ntxn;

	/* counters for the disconnect line */
	unsigned	 ncmds;
	unsigned	 nerrors;
	unsigned	 nmsgs;
	unsigned	 nrcpt_ok;
	unsigned	 nrcpt_bad;
	const char	*end_reason;

	/* input: our own read-ahead over conn_read, and the current line */
	char		 in[SESS_IN_MAX];
	size_t		 in_off;
	size_t		 in_len;
	char		 line[SMTP_AUTH_LINE_MAX + 1];
	size_t		 line_len;
};

/* ------------------------------------------------------------------ */
/* State                                                               */

static const char *
smtp_state_name(enum smtp_state st)
{
	switch (st) {
	case SMTP_S_CONNECTED:
		return "connected";
	case SMTP_S_READY:
		return "ready";
	case SMTP_S_MAIL:
		return "mail";
	case SMTP_S_RCPT:
		return "rcpt";
	case SMTP_S_BDAT:
		return "bdat";
	case SMTP_S_QUIT:
		return "quit";
	}
	return "?";
}

/* Every state change goes through here (STYLE.md 14). */
static void
smtp_enter_state(struct smtp_session *s, enum smtp_state st)
{
	if (s->state != st)
		log_debug("%s smtp state %s -> %s", s->sid,
		    smtp_state_name(s->state), smtp_state_name(st));
	s->state = st;
}

/* ------------------------------------------------------------------ */
/* Content spool                                                       */

/*
 * Message content stays in memory up to SESS_SPOOL_AT, then goes to an
 * unlinked file in queue_dir (O_TMPFILE, else mkstemp + unlink), so a
 * large message costs page cache rather than session memory. At the end
 * the file is mapped and handed to delivery as one piece.
 */
static void
sess_spool_close(struct smtp_session *s)
{
	if (s->spool_map != NULL)
		munmap(s->spool_map, s->spool_maplen);
	s->spool_map = NULL;
	s->spool_maplen = 0;
	if (s->spool_fd >= 0)
		close(s->spool_fd);
	s->spool_fd = -1;
	s->spool_len = 0;
}

static int
sess_spool_open(struct smtp_session *s)
{
	const char *dir = s->conf->queue_dir;
	char path[4096];
	int fd;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 && errno != ENOENT && errno != EACCES) {
		if (snprintf(path, sizeof(path), "%s/.smtp-spool-XXXXXX",
		    dir) >= (int)sizeof(path))
			return -1;
		fd = mkostemp(path, O_CLOEXEC);
		if (fd >= 0)
			(void)unlink(path);
	}
	if (fd < 0)
		log_error("%s smtp spool dir=%s error=\"%s\"", s->sid, dir,
		    strerror(errno));
	return fd;
}

/* Move what is in memory to the spool file. 0 or -1. */
static int
sess_spool_flush(struct smtp_session *s)
{
	if (s->content.len == 0)
		return 0;
	if (s->spool_fd < 0) {
		s->spool_fd = sess_spool_open(s);
		if (s->spool_fd < 0)
			return -1;
	}
	if (fs_write_all(s->spool_fd, s->content.data, s->content.len) < 0) {
		log_error("%s smtp spool write error=\"%s\"", s->sid,
		    strerror(errno));
		return -1;
	}
	s->spool_len += s->content.len;
	buf_reset(&s->content);
	return 0;
}

/* After a feed: spill to disk when the memory part is big enough. */
static void
sess_spool_maybe(struct smtp_session *s)
{
	if (s->content.len >= SESS_SPOOL_AT && sess_spool_flush(s) < 0)
		s->data.nomem = true;	/* answered 452 4.3.1 at the end */
}

/* The whole content as one piece. 0, or -1 (spool trouble). */
static int
sess_content(struct smtp_session *s, const char **p_r, size_t *len_r)
{
	void *m;

	if (s->spool_fd < 0) {
		*p_r = buf_cstr(&s->content);
		*len_r = s->content.len;
		return 0;
	}
	if (sess_spool_flush(s) < 0)
		return -1;
	m = mmap(NULL, (size_t)s->spool_len, PROT_READ, MAP_PRIVATE,
	    s->spool_fd, 0);
	if (m == MAP_FAILED) {
		log_error("%s smtp spool mmap error=\"%s\"", s->sid,
		    strerror(errno));
		return -1;
	}
	s->spool_map = m;
	s->spool_maplen = (size_t)s->spool_len;
	*p_r = m;
	*len_r = s->spool_maplen;
	return 0;
}

/* Start collecting the content of a new message. */
static void
sess_content_start(struct smtp_session *s, bool raw)
{
	uint64_t limit = s->conf->message_size_limit;

	sess_spool_close(s);
	buf_free(&s->content);
	buf_init(&s->content, limit + 1);
	smtp_data_init(&s->data, &s->content, limit, raw);
}

/* Forget the mail transaction (RSET, EHLO, after DATA). */
static void
sess_txn_reset(struct smtp_session *s)
{
	size_t i;

	for (i = 0; i < s->nrcpts; i++)
		free(s->rcpts[i].dests);
	free(s->rcpts);
	s->rcpts = NULL;
	s->nrcpts = 0;
	s->rcpts_cap = 0;
	s->sender[0] = '\0';
	s->smtputf8 = false;
	s->eightbit = false;
	s->declared_size = 0;
	s->bdat_failed = false;
	buf_free(&s->content);
	sess_spool_close(s);
	if (s->state == SMTP_S_MAIL || s->state == SMTP_S_RCPT ||
	    s->state == SMTP_S_BDAT)
		smtp_enter_state(s, SMTP_S_READY);
}

/* ------------------------------------------------------------------ */
/* Output                                                              */

static void
sess_reply(struct smtp_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
sess_reply(struct smtp_session *s, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 3)
		n = (int)(sizeof(line) - 3);
	line[n++] = '\r';
	line[n++] = '\n';
	(void)conn_write(s->c, line, (size_t)n);
}

static void
sess_flush(struct smtp_session *s)
{
	(void)conn_flush(s->c);
}

/* ------------------------------------------------------------------ */
/* Input                                                               */

static int
sess_timeout(const struct smtp_session *s, int v, int dflt)
{
	(void)s;
	return v > 0 ? v : dflt;
}

/* Refill the read-ahead when it is empty; replies go out first when the
 * client has nothing more in flight (RFC 2920 flushing). */
static enum sess_in
sess_fill(struct smtp_session *s)
{
	ssize_t r;

	if (s->in_off < s->in_len)
		return IN_OK;
	s->in_off = 0;
	s->in_len = 0;
	if (conn_pending(s->c) == 0 && conn_flush(s->c) < 0)
		return IN_ERROR;
	r = conn_read(s->c, s->in, sizeof(s->in));
	if (r > 0) {
		s->in_len = (size_t)r;
		return IN_OK;
	}
	if (r == 0)
		return IN_EOF;
	return conn_timed_out(s->c) ? IN_TIMEOUT : IN_ERROR;
}

/* One line (terminator kept) into s->line, at most max bytes; a longer
 * line is consumed to its LF and reported as IN_TOOLONG. */
static enum sess_in
sess_readline(struct smtp_session *s, size_t max)
{
	bool toolong = false;
	enum sess_in r;
	const char *lf;
	size_t take;

	s->line_len = 0;
	for (;;) {
		r = sess_fill(s);
		if (r != IN_OK)
			return r;
		lf = memchr(s->in + s->in_off, '\n', s->in_len - s->in_off);
		take = lf != NULL ? (size_t)(lf - (s->in + s->in_off)) + 1 :
		    s->in_len - s->in_off;
		if (!toolong && s->line_len + take > max)
			toolong = true;
		if (!toolong) {
			memcpy(s->line + s->line_len, s->in + s->in_off, take);
			s->line_len += take;
		}
		s->in_off += take;
		if (lf != NULL)
			break;
	}
	s->line[s->line_len] = '\0';
	return toolong ? IN_TOOLONG : IN_OK;
}

/* Read and throw away n bytes (a refused BDAT chunk). */
static enum sess_in
sess_skip(struct smtp_session *s, uint64_t n)
{
	enum sess_in r;
	size_t take;

	while (n > 0) {
		r = sess_fill(s);
		if (r != IN_OK)
			return r;
		take = s->in_len - s->in_off;
		if (take > n)
			take = (size_t)n;
		s->in_off += take;
		n -= take;
	}
	return IN_OK;
}

static void
sess_end_input(struct smtp_session *s, enum sess_in r)
{
	if (r == IN_TIMEOUT) {
		sess_reply(s, "421 4.4.2 %s Error: timeout exceeded",
		    s->conf->hostname);
		s->end_reason = "timeout";
	} else if (r == IN_EOF)
		s->end_reason = "eof";
	else
		s->end_reason = "error";
	smtp_enter_state(s, SMTP_S_QUIT);
}

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static bool
sess_submission(const struct smtp_session *s)
{
	return s->kind == LK_SMTPS || s->kind == LK_SUBMISSION;
}

/*
 * Count a client error (bad command, refused recipient, failed AUTH).
 * Past half of smtp_max_errors each further error costs the client one
 * second before it sees the reply (Postfix's smtpd_soft_error_limit and
 * smtpd_error_sleep_time), which slows down address harvesting; at the
 * limit the session ends with 421.
 */
static void
sess_error(struct smtp_session *s)
{
	uint32_t max = s->conf->smtp_max_errors;
	struct timespec ts = { 1, 0 };

	s->nerrors++;
	if (max > 0 && s->nerrors > max / 2 && s->nerrors < max)
		while (nanosleep(&ts, &ts) < 0)
			;
}

static const char *
sess_esc(char *dst, size_t dstlen, const char *src)
{
	return log_esc(dst, dstlen, src, strlen(src));
}

static void
sess_log_rcpt(struct smtp_session *s, const char *rcpt, const char *result,
    const char *reply)
{
	char f[DIR_ADDR_MAX * 4], t[DIR_ADDR_MAX * 4], r[256], h[128];

	sess_esc(f, sizeof(f), s->sender);
	sess_esc(t, sizeof(t), rcpt);
	sess_esc(r, sizeof(r), reply);
	sess_esc(h, sizeof(h), s->helo);
	if (strcmp(result, "accept") == 0)
		log_info("%s smtp rcpt result=accept from=<%s> to=<%s> "
		    "address=%s helo=\"%s\"", s->sid, f, t, s->ip, h);
	else {
		log_info("%s smtp rcpt result=%s from=<%s> to=<%s> "
		    "address=%s helo=\"%s\" reply=\"%s\"", s->sid, result, f,
		    t, s->ip, h, r);
		events_push("rejected", "<%s> from %s: %s", t, s->ip, r);
	}
}

/* Reply to RCPT with a refusal, and log it. */
static void
sess_rcpt_refuse(struct smtp_session *s, const char *rcpt,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
sess_rcpt_refuse(struct smtp_session *s, const char *rcpt,
    const char *fmt, ...)
{
	char reply[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reply, sizeof(reply), fmt, ap);
	va_end(ap);
	sess_reply(s, "%s", reply);
	sess_log_rcpt(s, rcpt, reply[0] == '4' ? "tempfail" : "reject",
	    reply);
	s->nrcpt_bad++;
	if (reply[0] == '5')
		sess_error(s);
}

/*
 * Would one more message of add bytes put the local user email over
 * quota? 1 fits, 0 over quota, -1 temporary (directory down). Store
 * problems (no Maildir yet, unreadable maildirsize) count as fits: the
 * delivery itself enforces the quota again.
 */
static int
sess_quota_fits(struct smtp_session *s, const char *email, uint64_t add)
{
	struct dir_user u;
	struct mstore *st = NULL;
	char path[4096];
	enum ferr e;
	int r;

	r = dir_user_lookup(s->srv->dir, email, &u);
	if (r < 0)
		return -1;
	if (r == 0 || u.quota == 0)
		return 1;
	if (store_user_maildir(s->conf->mail_root, u.email, path,
	    sizeof(path)) < 0)
		return 1;
	if (mstore_open(path, u.quota, &st) != FERR_NONE)
		return 1;
	e = mstore_quota_check(st, add > 0 ? add : 1);
	mstore_close(&st);
	return e == FERR_QUOTA ? 0 : 1;
}

/* ------------------------------------------------------------------ */
/* Commands                                                            */

static void
cmd_helo(struct smtp_session *s, struct smtp_cmd *cmd)
{
	if (cmd->arglen >= sizeof(s->helo)) {
		sess_reply(s, "501 5.5.4 Error: hostname too long");
		sess_error(s);
		return;
	}
	sess_txn_reset(s);
	memcpy(s->helo, cmd->arg, cmd->arglen);
	s->helo[cmd->arglen] = '\0';
	s->esmtp = cmd->verb == SMTP_V_EHLO;
	smtp_enter_state(s, SMTP_S_READY);
	if (!s->esmtp) {
		sess_reply(s, "250 %s", s->conf->hostname);
		return;
	}
	sess_reply(s, "250-%s", s->conf->hostname);
	sess_reply(s, "250-PIPELINING");
	sess_reply(s, "250-SIZE %" PRIu64, s->conf->message_size_limit);
	if (!s->tls && s->srv->tls != NULL)
		sess_reply(s, "250-STARTTLS");
	if (sess_submission(s) && s->tls && !s->authed)
		sess_reply(s, "250-AUTH PLAIN LOGIN");
	sess_reply(s, "250-ENHANCEDSTATUSCODES");
	sess_reply(s, "250-8BITMIME");
	sess_reply(s, "250-SMTPUTF8");
	sess_reply(s, "250 CHUNKING");
}

static void
cmd_mail(struct smtp_session *s, struct smtp_cmd *cmd)
{
	char esc[DIR_ADDR_MAX * 4];
	int r;

	if (s->state != SMTP_S_READY) {
		sess_reply(s, "503 5.5.1 Error: nested MAIL command");
		sess_error(s);
		return;
	}
	if (sess_submission(s) && !s->authed) {
		sess_reply(s, "530 5.7.0 Authentication required");
		sess_error(s);
		return;
	}
	if (cmd->has_size && cmd->size > s->conf->message_size_limit) {
		sess_reply(s, "552 5.3.4 Message size exceeds fixed limit");
		return;
	}
	if (s->authed && !cmd->path.null) {
		r = dir_sender_owned(s->srv->dir, s->user, cmd->path.addr);
		if (r < 0) {
			sess_reply(s, "451 4.3.0 <%s>: Sender address "
			    "rejected: Temporary lookup failure",
			    cmd->path.addr);
			return;
		}
		if (r == 0) {
			sess_reply(s, "553 5.7.1 <%s>: Sender address "
			    "rejected: not owned by user %s", cmd->path.addr,
			    s->user);
			log_warn("%s smtp mail result=reject from=<%s> "
			    "user=\"%s\" address=%s reason=\"not owned\"",
			    s->sid, sess_esc(esc, sizeof(esc),
			    cmd->path.addr), s->user, s->ip);
			sess_error(s);
			return;
		}
	}
	str_copy(s->sender, cmd->path.null ? "" : cmd->path.addr,
	    sizeof(s->sender));
	s->smtputf8 = cmd->smtputf8;
	s->eightbit = cmd->body == SMTP_BODY_8BITMIME;
	s->declared_size = cmd->has_size ? cmd->size : 0;
	smtp_enter_state(s, SMTP_S_MAIL);
	sess_reply(s, "250 2.1.0 Ok");
}

static void
sess_rcpt_add(struct smtp_session *s, const char *addr,
    struct dir_dest *dests, size_t ndests)
{
	struct smtp_rcpt *r;

	if (s->nrcpts == s->rcpts_cap) {
		s->rcpts_cap = s->rcpts_cap == 0 ? 8 : s->rcpts_cap * 2;
		s->rcpts = xreallocarray(s->rcpts, s->rcpts_cap,
		    sizeof(*s->rcpts));
	}
	r = &s->rcpts[s->nrcpts++];
	str_copy(r->addr, addr, sizeof(r->addr));
	r->dests = dests;
	r->ndests = ndests;
}

/*
 * The server's own postmaster (RFC 5321 4.5.1): postmaster at the
 * hostname when that is a local domain, else at its nearest local parent
 * domain (mail.example.org -> example.org), as Postfix reaches
 * postmaster@$myhostname. 1 with the address in addr_r, 0 none, -1 the
 * directory failed.
 */
static int
sess_postmaster(struct smtp_session *s, char *addr_r, size_t len)
{
	const char *d = s->conf->hostname;
	int r;

	for (;;) {
		r = dir_domain_is_local(s->srv->dir, d);
		if (r < 0)
			return -1;
		if (r == 1) {
			snprintf(addr_r, len, "postmaster@%s", d);
			return 1;
		}
		d = strchr(d, '.');
		if (d == NULL || strchr(d + 1, '.') == NULL)
			return 0;
		d++;
	}
}

/*
 * postmaster@<a local domain> that nobody has reaches the server's
 * postmaster (RFC 5321 4.5.1 wants it at every domain served). 1 with
 * dests, 0 not found either, -1 temporary.
 */
static int
sess_postmaster_dests(struct smtp_session *s, const char *addr,
    struct dir_dest **dests_r, size_t *n_r, const char **why_r)
{
	char pm[DIR_ADDR_MAX + 1];
	int r;

	r = sess_postmaster(s, pm, sizeof(pm));
	if (r <= 0 || strcasecmp(pm, addr) == 0)
		return r < 0 ? -1 : 0;
	return dir_resolve(s->srv->dir, pm, dests_r, n_r, why_r);
}

static void
cmd_rcpt(struct smtp_session *s, struct smtp_cmd *cmd)
{
	struct addr_path *p = &cmd->path;
	struct dir_dest *dests = NULL;
	const char *why = NULL;
	char addr[sizeof(p->addr)];
	size_t n = 0, i;
	int r;

	if (s->state != SMTP_S_MAIL && s->state != SMTP_S_RCPT) {
		sess_reply(s, "503 5.5.1 Error: need MAIL command");
		sess_error(s);
		return;
	}
	if (s->nrcpts >= s->conf->smtp_max_recipients) {
		sess_reply(s, "452 4.5.3 Error: too many recipients");
		return;
	}
	if (p->utf8 && !s->smtputf8) {
		sess_reply(s, "553 5.6.7 <%s>: non-ASCII address requires "
		    "SMTPUTF8", p->addr);
		sess_error(s);
		return;
	}
	if (p->domain[0] == '\0') {
		/* RFC 5321 4.1.1.3 <postmaster>: ours */
		r = sess_postmaster(s, addr, sizeof(addr));
		if (r < 0) {
			sess_rcpt_refuse(s, "postmaster", "451 4.3.0 "
			    "<postmaster>: Temporary lookup failure");
			return;
		}
		if (r == 0 || addr_split(addr, p->local, sizeof(p->local),
		    p->domain, sizeof(p->domain)) < 0) {
			sess_rcpt_refuse(s, "postmaster", "550 5.1.1 "
			    "<postmaster>: "
			    "Recipient address rejected: User unknown");
			return;
		}
	} else
		str_copy(addr, p->addr, sizeof(addr));

	/*
	 * No open relay (Postfix reject_unauth_destination with
	 * allow_untrusted_routing = no): an unauthenticated client reaches
	 * local domains only, and never through sender-specified routing
	 * (%-hack, bang path, quoted '@', source route) or an IP literal.
	 */
	if (!s->authed && (p->had_route || p->ip_literal ||
	    !addr_local_is_safe(p->local))) {
		sess_rcpt_refuse(s, addr, "554 5.7.1 <%s>: Relay access "
		    "denied", addr);
		return;
	}
	if (p->ip_literal) {
		sess_rcpt_refuse(s, addr, "550 5.1.2 <%s>: Recipient address "
		    "rejected: address literals are not supported", addr);
		return;
	}
	r = dir_domain_is_local(s->srv->dir, p->domain);
	if (r < 0) {
		sess_rcpt_refuse(s, addr, "451 4.3.0 <%s>: Temporary lookup "
		    "failure", addr);
		return;
	}
	if (r == 0) {
		if (!s->authed) {
			sess_rcpt_refuse(s, addr, "554 5.7.1 <%s>: Relay "
			    "access denied", addr);
			return;
		}
		/* authenticated relaying: the queue takes it */
		dests = xcalloc(1, sizeof(*dests));
		str_copy(dests->addr, addr, sizeof(dests->addr));
		dests->local = false;
		sess_rcpt_add(s, addr, dests, 1);
		goto accept;
	}
	if (!addr_local_is_safe(p->local)) {
		sess_rcpt_refuse(s, addr, "550 5.1.1 <%s>: Recipient address "
		    "rejected: User unknown in virtual mailbox table", addr);
		return;
	}
	r = dir_resolve(s->srv->dir, addr, &dests, &n, &why);
	if (r == 0 && strcasecmp(p->local, "postmaster") == 0)
		r = sess_postmaster_dests(s, addr, &dests, &n, &why);
	if (r < 0) {
		if (why != NULL)
			log_warn("%s smtp directory error=\"%s\"", s->sid, why);
		sess_rcpt_refuse(s, addr, "451 4.3.0 <%s>: Temporary lookup "
		    "failure", addr);
		return;
	}
	if (r == 0) {
		sess_rcpt_refuse(s, addr, "550 5.1.1 <%s>: Recipient address "
		    "rejected: User unknown in virtual mailbox table", addr);
		return;
	}
	for (i = 0; i < n; i++) {
		if (!dests[i].local)
			continue;
		r = sess_quota_fits(s, dests[i].addr, s->declared_size);
		if (r < 0) {
			free(dests);
			sess_rcpt_refuse(s, addr, "451 4.3.0 <%s>: Temporary "
			    "lookup failure", addr);
			return;
		}
		if (r == 0) {
			free(dests);
			sess_rcpt_refuse(s, addr, "552 5.2.2 <%s>: Recipient "
			    "address rejected: Mailbox is over quota", addr);
			return;
		}
	}
	sess_rcpt_add(s, addr, dests, n);
accept:
	s->nrcpt_ok++;
	smtp_enter_state(s, SMTP_S_RCPT);
	sess_log_rcpt(s, addr, "accept", "");
	sess_reply(s, "250 2.1.5 Ok");
}

/* DKIM-sign content with the newest key of each algorithm of domain
 * into out; nothing when the domain has no key. */
static void
sess_dkim_sign(struct smtp_session *s, const char *domain,
    const char *content, size_t len, struct buf *out)
{
	struct dir_dkim_key k[DIR_DKIM_SIGNING_MAX];
	struct mailauth_key mk;
	const char *why = NULL;
	size_t n = 0, i;

	if (dir_dkim_signing_keys(s->srv->dir, domain, k,
	    DIR_DKIM_SIGNING_MAX, &n) < 0)
		log_warn("%s smtp dkim domain=%s result=tempfail "
		    "reason=\"directory unavailable\"", s->sid, domain);
	for (i = 0; i < n; i++) {
		mk.domain = k[i].domain;
		mk.selector = k[i].selector;
		mk.pem = k[i].private_key;
		if (mailauth_sign(&mk, content, len, 0, out, &why) < 0)
			log_warn("%s smtp dkim domain=%s selector=%s "
			    "result=error reason=\"%s\"", s->sid, domain,
			    k[i].selector, why);
		else
			log_info("%s smtp dkim signed domain=%s selector=%s",
			    s->sid, k[i].domain, k[i].selector);
		dir_dkim_key_free(&k[i]);
	}
}

/*
 * The domain to sign with, or NULL for no signature. A signature says
 * "this domain vouches for this message", so it is given only where that
 * is known to be true:
 *  - an authenticated submission: the From domain, and only when it is
 *    the domain of the envelope sender the user was proven to own (MAIL
 *    FROM passed dir_sender_owned); a null sender, or a From in another
 *    domain, gets no signature;
 *  - mail an alias forwards to a remote address: the forwarding domain,
 *    except when that is also the From domain and the message did not
 *    pass DMARC on the way in: signing it would turn a spoofed From into
 *    an aligned, passing one.
 */
static const char *
sess_dkim_domain(struct smtp_session *s, const char *content, size_t len,
    bool dmarc_pass, char dom[256])
{
	char doms[1][256];
	const char *at;
	size_t i, j, nfrom;

	nfrom = mailauth_from_domains(content, len, doms, 1);
	if (s->authed) {
		at = strrchr(s->sender, '@');
		if (at == NULL || nfrom != 1 || !str_ieq(at + 1, doms[0]))
			return NULL;
		str_copy(dom, doms[0], 256);
		return dom;
	}
	for (i = 0; i < s->nrcpts; i++) {
		for (j = 0; j < s->rcpts[i].ndests; j++) {
			if (s->rcpts[i].dests[j].local)
				continue;
			at = strrchr(s->rcpts[i].addr, '@');
			if (at == NULL)
				return NULL;
			if (!dmarc_pass && (nfrom != 1 ||
			    str_ieq(at + 1, doms[0])))
				return NULL;
			str_copy(dom, at + 1, 256);
			return dom;
		}
	}
	return NULL;
}

/* The message is complete: check what the reader flagged, deliver. */
static void
sess_finish_message(struct smtp_session *s)
{
	struct smtp_received rh;
	struct smtp_txn t;
	struct buf hdr;
	char txn_id[32], reply[512];
	const char *ver = NULL, *cipher = NULL, *content;
	size_t content_len, ma_skip = 0;
	struct buf ma, dk;
	char dkdom[256];
	int bits = 0;
	bool ok, dmarc_pass = false;
	char *owned = NULL;

	buf_init(&ma, MAILAUTH_HEAD_MAX);
	buf_init(&dk, 64 * 1024);
	s->ntxn++;
	snprintf(txn_id, sizeof(txn_id), "%s-%u", s->sid, s->ntxn);
	if (s->data.smuggle > 0) {
		log_warn("%s smtp data result=reject address=%s "
		    "reason=\"bare CR/LF next to a dot line (SMTP smuggling "
		    "attempt)\" count=%" PRIu64, s->sid, s->ip,
		    s->data.smuggle);
		sess_reply(s, "550 5.5.2 Error: bare <CR> or <LF> next to a "
		    "\".\" line; message refused");
		goto done;
	}
	if (s->data.over_limit) {
		log_info("%s smtp data result=reject address=%s "
		    "reason=\"too big\" size=%" PRIu64, s->sid, s->ip,
		    s->data.size);
		sess_reply(s, "552 5.3.4 Message size exceeds fixed limit");
		goto done;
	}
	if (s->data.nomem) {
		sess_reply(s, "452 4.3.1 Insufficient system storage");
		goto done;
	}
	if (sess_content(s, &content, &content_len) < 0) {
		sess_reply(s, "452 4.3.1 Insufficient system storage");
		goto done;
	}
	if (smtp_hops(content, content_len) >= SMTP_MAX_HOPS) {
		log_warn("%s smtp data result=reject address=%s "
		    "reason=\"too many hops (mail loop)\"", s->sid, s->ip);
		sess_reply(s, "554 5.4.6 Too many hops: mail forwarding loop");
		goto done;
	}
	if (s->data.bare_lf > 0)
		log_info("%s smtp data bare_lf=%" PRIu64 " normalized",
		    s->sid, s->data.bare_lf);

	/*
	 * Submissions: a missing Date or Message-ID is added (RFC 6409
	 * 8.2, 8.3, as Postfix does for its own clients), before anything
	 * is signed.
	 */
	if (s->authed) {
		struct hdr_field hf;
		bool need_date = hdr_find(content, content_len, "date",
		    &hf) != 1;
		bool need_id = hdr_find(content, content_len, "message-id",
		    &hf) != 1;

		if (need_date || need_id) {
			struct buf add;
			char date[64];
			bool bad = false;

			buf_init(&add, content_len + 1024);
			time_fmt_rfc5322(date, time(NULL));
			if (need_date && buf_printf(&add, "Date: %s\n",
			    date) < 0)
				bad = true;
			if (need_id && buf_printf(&add, "Message-ID: <%s@%s>\n",
			    txn_id, s->conf->hostname) < 0)
				bad = true;
			if (bad || buf_append(&add, content, content_len) < 0) {
				buf_free(&add);
				sess_reply(s, "452 4.3.1 Insufficient system "
				    "storage");
				goto done;
			}
			owned = buf_steal(&add, &content_len);
			content = owned;
		}
	}

	/*
	 * Nobody may bring in an Authentication-Results field that claims
	 * to be ours, on any port; a header too big to read through (more
	 * than 10,000 fields or 1 MiB) could hide one, and is refused.
	 */
	if (mailauth_ar_strip(s->conf->hostname, content, content_len, &ma,
	    &ma_skip) < 0) {
		log_info("%s smtp data result=reject address=%s "
		    "reason=\"header too large\"", s->sid, s->ip);
		sess_reply(s, "552 5.6.0 Message header too large");
		goto done;
	}
	/* port 25: SPF, DKIM, DMARC into Authentication-Results */
	if (s->kind == LK_SMTP && !s->authed) {
		struct mailauth_ctx mc;
		struct mailauth_results *res = xcalloc(1, sizeof(*res));
		const char *mreply = NULL;
		enum mailauth_verdict v;

		buf_reset(&ma);		/* mailauth_check strips again */
		ma_skip = 0;
		memset(&mc, 0, sizeof(mc));
		mc.hostname = s->conf->hostname;
		mc.dmarc_reject = strcmp(s->conf->dmarc_reject_policy,
		    "reject") == 0;
		mc.pct_roll = -1;
		v = mailauth_check(&mc, s->ip, s->helo, s->sender, content,
		    content_len, &ma, &ma_skip, &mreply, res);
		dmarc_pass = res->dmarc.result == DMARC_PASS;
		free(res);
		if (v == MAILAUTH_REJECT) {
			log_info("%s smtp data result=reject address=%s "
			    "reason=\"DMARC policy\"", s->sid, s->ip);
			sess_reply(s, "%s", mreply);
			goto done;
		}
	}
	/* submissions and forwarded mail: DKIM signatures (the stripped
	 * Authentication-Results fields are never signed, so signing the
	 * content as received is right for what is stored) */
	if (s->conf->dkim_sign && sess_dkim_domain(s, content, content_len,
	    dmarc_pass, dkdom) != NULL)
		sess_dkim_sign(s, dkdom, content, content_len, &dk);

	memset(&rh, 0, sizeof(rh));
	rh.helo = s->helo;
	rh.client_ip = s->ip;
	rh.hostname = s->conf->hostname;
	if (conn_tls_info(s->c, &ver, &cipher, &bits)) {
		rh.tls_version = ver;
		rh.tls_cipher = cipher;
		rh.tls_bits = bits;
	}
	rh.esmtp = s->esmtp;
	rh.authenticated = s->authed;
	rh.smtputf8 = s->smtputf8;
	rh.id = txn_id;
	rh.rcpt = s->nrcpts == 1 ? s->rcpts[0].addr : NULL;
	rh.when = time(NULL);
	buf_init(&hdr, SESS_RECEIVED_MAX + dk.len + ma.len);
	if (smtp_received_fmt(&hdr, &rh) < 0 ||
	    (dk.len > 0 && buf_append(&hdr, dk.data, dk.len) < 0) ||
	    (ma.len > 0 && buf_append(&hdr, ma.data, ma.len) < 0)) {
		buf_free(&hdr);
		sess_reply(s, "451 4.3.0 Error: internal error");
		goto done;
	}

	memset(&t, 0, sizeof(t));
	t.sid = s->sid;
	t.client_ip = s->ip;
	t.txn_id = txn_id;
	t.sender = s->sender;
	t.smtputf8 = s->smtputf8;
	t.eightbit = s->eightbit || s->data.eightbit > 0;
	t.auth_user = s->authed ? s->user : NULL;
	t.rcpts = s->rcpts;
	t.nrcpts = s->nrcpts;
	t.received = buf_cstr(&hdr);
	t.received_len = hdr.len;
	t.content = content + ma_skip;
	t.content_len = content_len - ma_skip;
	ok = smtp_deliver_txn(s->srv, &t, reply, sizeof(reply));
	buf_free(&hdr);
	if (ok)
		s->nmsgs++;
	log_msg(ok ? LOG_INFO : LOG_WARN, "%s smtp message id=%s size=%zu "
	    "rcpts=%zu address=%s reply=\"%s\"", s->sid, txn_id, content_len,
	    s->nrcpts, s->ip, reply);
	sess_reply(s, "%s", reply);
done:
	free(owned);
	buf_free(&ma);
	buf_free(&dk);
	sess_txn_reset(s);
}

static bool
sess_data_ready(struct smtp_session *s)
{
	if (s->state == SMTP_S_RCPT)
		return true;
	if (s->state == SMTP_S_MAIL)
		sess_reply(s, "554 5.5.1 Error: no valid recipients");
	else if (s->state == SMTP_S_BDAT)
		sess_reply(s, "503 5.5.1 Error: BDAT transaction in progress");
	else if (s->state == SMTP_S_READY)
		sess_reply(s, "503 5.5.1 Error: need RCPT command");
	else
		sess_reply(s, "503 5.5.1 Error: send HELO/EHLO first");
	sess_error(s);
	return false;
}

static void
cmd_data(struct smtp_session *s, struct smtp_cmd *cmd)
{
	int block = sess_timeout(s, s->srv->data_block_timeout_ms,
	    SESS_DATA_BLOCK_TIMEOUT);
	int total = sess_timeout(s, s->srv->data_total_timeout_ms,
	    SESS_DATA_TOTAL_TIMEOUT);
	uint64_t start;
	enum sess_in r;
	size_t used;
	int r2;

	(void)cmd;
	if (!sess_data_ready(s))
		return;
	sess_content_start(s, false);
	sess_reply(s, "354 End data with <CR><LF>.<CR><LF>");
	conn_set_timeout(s->c, block);
	start = time_mono_ms();
	for (;;) {
		if (s->in_off == s->in_len &&
		    time_mono_ms() - start > (uint64_t)total) {
			sess_end_input(s, IN_TIMEOUT);
			return;
		}
		r = sess_fill(s);
		if (r != IN_OK) {
			sess_end_input(s, r);
			return;
		}
		r2 = smtp_data_feed(&s->data, s->in + s->in_off,
		    s->in_len - s->in_off, &used);
		s->in_off += used;
		sess_spool_maybe(s);
		if (r2 == 1)
			break;
	}
	conn_set_timeout(s->c, sess_timeout(s, s->srv->cmd_timeout_ms,
	    SESS_CMD_TIMEOUT));
	sess_finish_message(s);
}

static void
cmd_bdat(struct smtp_session *s, struct smtp_cmd *cmd)
{
	int block = sess_timeout(s, s->srv->data_block_timeout_ms,
	    SESS_DATA_BLOCK_TIMEOUT);
	uint64_t left = cmd->chunk, limit = s->conf->message_size_limit;
	enum sess_in r;
	size_t take, used;

	conn_set_timeout(s->c, block);
	if (s->state == SMTP_S_CONNECTED) {
		r = sess_skip(s, left);
		if (r != IN_OK)
			goto input_end;
		sess_reply(s, "503 5.5.1 Error: send HELO/EHLO first");
		sess_error(s);
		goto out;
	}
	if (s->kind == LK_SUBMISSION && !s->tls) {
		r = sess_skip(s, left);
		if (r != IN_OK)
			goto input_end;
		sess_reply(s, "530 5.7.0 Must issue a STARTTLS command first");
		sess_error(s);
		goto out;
	}
	if (s->state != SMTP_S_RCPT && s->state != SMTP_S_BDAT) {
		r = sess_skip(s, left);
		if (r != IN_OK)
			goto input_end;
		(void)sess_data_ready(s);
		goto out;
	}
	if (s->state == SMTP_S_RCPT) {
		sess_content_start(s, true);
		s->bdat_failed = false;
		smtp_enter_state(s, SMTP_S_BDAT);
	}
	if (s->bdat_failed || s->data.wire > limit ||
	    left > limit - s->data.wire) {	/* no wrap-around */
		/* declared sizes are not believed, but an honest one over
		 * the limit needs no reading into memory */
		r = sess_skip(s, left);
		if (r != IN_OK)
			goto input_end;
		s->bdat_failed = true;
		sess_reply(s, "552 5.3.4 Message size exceeds fixed limit");
		if (cmd->last)
			sess_txn_reset(s);
		goto out;
	}
	while (left > 0) {
		r = sess_fill(s);
		if (r != IN_OK)
			goto input_end;
		take = s->in_len - s->in_off;
		if (take > left)
			take = (size_t)left;
		(void)smtp_data_feed(&s->data, s->in + s->in_off, take, &used);
		s->in_off += used;
		left -= used;
		sess_spool_maybe(s);
	}
	if (cmd->last) {
		smtp_data_finish(&s->data);
		conn_set_timeout(s->c, sess_timeout(s, s->srv->cmd_timeout_ms,
		    SESS_CMD_TIMEOUT));
		sess_finish_message(s);
		return;
	}
	sess_reply(s, "250 2.0.0 Ok: %" PRIu64 " octets received",
	    cmd->chunk);
out:
	conn_set_timeout(s->c, sess_timeout(s, s->srv->cmd_timeout_ms,
	    SESS_CMD_TIMEOUT));
	return;
input_end:
	sess_end_input(s, r);
}

static void
cmd_rset(struct smtp_session *s, struct smtp_cmd *cmd)
{
	(void)cmd;
	sess_txn_reset(s);
	sess_reply(s, "250 2.0.0 Ok");
}

static void
cmd_noop(struct smtp_session *s, struct smtp_cmd *cmd)
{
	(void)cmd;
	sess_reply(s, "250 2.0.0 Ok");
}

static void
cmd_quit(struct smtp_session *s, struct smtp_cmd *cmd)
{
	(void)cmd;
	sess_reply(s, "221 2.0.0 Bye");
	s->end_reason = "quit";
	smtp_enter_state(s, SMTP_S_QUIT);
}

static void
cmd_vrfy(struct smtp_session *s, struct smtp_cmd *cmd)
{
	(void)cmd;
	/* never confirms or denies a user (address harvesting) */
	sess_reply(s, "252 2.0.0 Cannot VRFY user, but will accept message "
	    "and attempt delivery");
}

static void
cmd_expn(struct smtp_session *s, struct smtp_cmd *cmd)
{
	(void)cmd;
	sess_reply(s, "502 5.5.1 Error: EXPN is disabled");
}

static void
cmd_help(struct smtp_session *s, struct smtp_cmd *cmd)
{
	(void)cmd;
	sess_reply(s, "214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA BDAT "
	    "RSET NOOP QUIT VRFY HELP STARTTLS AUTH; see RFC 5321");
}

static void
cmd_web(struct smtp_session *s, struct smtp_cmd *cmd)
{
	(void)cmd;
	log_warn("%s smtp non-smtp command from address=%s", s->sid, s->ip);
	sess_reply(s, "500 5.5.1 Error: non-SMTP command");
	s->end_reason = "non-smtp";
	smtp_enter_state(s, SMTP_S_QUIT);
}

static void
cmd_starttls(struct smtp_session *s, struct smtp_cmd *cmd)
{
	const char *why = "unknown", *ver = NULL, *cipher = NULL;
	size_t dropped;
	int bits = 0;

	(void)cmd;
	if (s->tls) {
		sess_reply(s, "554 5.5.1 Error: TLS already active");
		sess_error(s);
		return;
	}
	if (s->srv->tls == NULL) {
		sess_reply(s, "502 5.5.1 Error: command not implemented");
		sess_error(s);
		return;
	}
	/* RFC 3207 5: nothing sent before the handshake may be used */
	dropped = s->in_len - s->in_off;
	if (dropped > 0)
		log_warn("%s smtp starttls address=%s discarded=%zu "
		    "reason=\"plaintext pipelined after STARTTLS\"", s->sid,
		    s->ip, dropped);
	s->in_off = 0;
	s->in_len = 0;
	sess_reply(s, "220 2.0.0 Ready to start TLS");
	if (conn_flush(s->c) < 0) {
		s->end_reason = "error";
		smtp_enter_state(s, SMTP_S_QUIT);
		return;
	}
	if (conn_starttls(s->c, s->srv->tls, &why) < 0) {
		log_warn("%s smtp tls result=fail address=%s reason=\"%s\"",
		    s->sid, s->ip, why);
		s->end_reason = "tls";
		smtp_enter_state(s, SMTP_S_QUIT);
		return;
	}
	/* RFC 3207 4.2: forget everything learnt in plaintext */
	s->tls = true;
	sess_txn_reset(s);
	s->helo[0] = '\0';
	s->esmtp = false;
	smtp_enter_state(s, SMTP_S_CONNECTED);
	if (conn_tls_info(s->c, &ver, &cipher, &bits))
		log_info("%s smtp tls address=%s version=%s cipher=%s "
		    "bits=%d", s->sid, s->ip, ver, cipher, bits);
}

/* Read one AUTH response line; NULL after an error reply (or EOF). */
static const char *
sess_auth_read(struct smtp_session *s, const char *challenge, size_t *len_r)
{
	enum sess_in r;
	size_t n;

	sess_reply(s, "334 %s", challenge);
	r = sess_readline(s, SMTP_AUTH_LINE_MAX);
	if (r == IN_TOOLONG) {
		sess_reply(s, "500 5.5.6 Authentication exchange line is too "
		    "long");
		sess_error(s);
		return NULL;
	}
	if (r != IN_OK) {
		sess_end_input(s, r);
		return NULL;
	}
	n = s->line_len;
	if (n > 0 && s->line[n - 1] == '\n')
		n--;
	if (n > 0 && s->line[n - 1] == '\r')
		n--;
	s->line[n] = '\0';
	if (n == 1 && s->line[0] == '*') {
		sess_reply(s, "501 5.7.0 Authentication aborted");
		sess_error(s);
		return NULL;
	}
	*len_r = n;
	return s->line;
}

static void
sess_auth_delay(struct smtp_session *s)
{
	struct timespec ts;
	uint32_t ms = s->conf->auth_fail_delay_ms;

	if (ms == 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0)
		;
}

static void
sess_auth_result(struct smtp_session *s, const char *mech,
    const char *user, enum dir_login res, const struct dir_user *u)
{
	char esc[SASL_FIELD_MAX * 4];

	sess_esc(esc, sizeof(esc), user);
	switch (res) {
	case DIR_LOGIN_OK:
		s->authed = true;
		str_copy(s->user, u->email, sizeof(s->user));
		log_info("%s smtp auth result=ok user=\"%s\" address=%s "
		    "mech=%s", s->sid, esc, s->ip, mech);
		sess_reply(s, "235 2.7.0 Authentication successful");
		return;
	case DIR_LOGIN_FAIL:
		log_warn("%s smtp auth result=fail user=\"%s\" address=%s "
		    "mech=%s", s->sid, esc, s->ip, mech);
		sess_auth_delay(s);
		sess_reply(s, "535 5.7.8 Error: authentication failed");
		break;
	case DIR_LOGIN_BLOCKED:
		log_warn("%s smtp auth result=blocked user=\"%s\" address=%s "
		    "mech=%s", s->sid, esc, s->ip, mech);
		sess_auth_delay(s);
		sess_reply(s, "454 4.7.0 Temporary authentication failure: "
		    "too many failed attempts, try again later");
		break;
	case DIR_LOGIN_TEMP:
		log_warn("%s smtp auth result=tempfail user=\"%s\" "
		    "address=%s mech=%s", s->sid, esc, s->ip, mech);
		sess_reply(s, "454 4.7.0 Temporary authentication failure");
		break;
	}
	sess_error(s);
}

static void
cmd_auth(struct smtp_session *s, struct smtp_cmd *cmd)
{
	struct sasl_plain sp;
	struct dir_user u;
	enum dir_login res;
	const char *resp;
	size_t n;
	long l;

	if (!sess_submission(s)) {
		sess_reply(s, "503 5.5.1 Error: authentication not enabled");
		sess_error(s);
		return;
	}
	if (!s->tls) {
		sess_reply(s, "530 5.7.0 Must issue a STARTTLS command first");
		sess_error(s);
		return;
	}
	if (s->authed) {
		sess_reply(s, "503 5.5.1 Error: already authenticated");
		sess_error(s);
		return;
	}
	memset(&sp, 0, sizeof(sp));
	memset(&u, 0, sizeof(u));
	if (strcmp(cmd->mech, "PLAIN") == 0) {
		if (cmd->initial != NULL) {
			resp = cmd->initial;
			n = cmd->initial_len;
		} else {
			resp = sess_auth_read(s, "", &n);
			if (resp == NULL)
				return;
		}
		if (sasl_plain_decode(resp, n, &sp) < 0) {
			sess_reply(s, "501 5.5.2 Error: malformed SASL PLAIN "
			    "response");
			sess_error(s);
			goto out;
		}
		if (sp.authzid[0] != '\0' &&
		    strcasecmp(sp.authzid, sp.authcid) != 0) {
			res = DIR_LOGIN_FAIL;
		} else
			res = dir_login(s->srv->dir, sp.authcid, sp.passwd,
			    sp.passwd_len, s->ip, &u);
		sess_auth_result(s, "PLAIN", sp.authcid, res, &u);
	} else if (strcmp(cmd->mech, "LOGIN") == 0) {
		if (cmd->initial != NULL) {
			resp = cmd->initial;
			n = cmd->initial_len;
		} else {
			/* "Username:" */
			resp = sess_auth_read(s, "VXNlcm5hbWU6", &n);
			if (resp == NULL)
				return;
		}
		l = sasl_b64_field(resp, n, sp.authcid, sizeof(sp.authcid));
		if (l <= 0) {
			sess_reply(s, "501 5.5.2 Error: malformed SASL LOGIN "
			    "response");
			sess_error(s);
			goto out;
		}
		/* "Password:" */
		resp = sess_auth_read(s, "UGFzc3dvcmQ6", &n);
		if (resp == NULL)
			goto out;
		l = sasl_b64_field(resp, n, sp.passwd, sizeof(sp.passwd));
		if (l < 0) {
			sess_reply(s, "501 5.5.2 Error: malformed SASL LOGIN "
			    "response");
			sess_error(s);
			goto out;
		}
		sp.passwd_len = (size_t)l;
		res = dir_login(s->srv->dir, sp.authcid, sp.passwd,
		    sp.passwd_len, s->ip, &u);
		sess_auth_result(s, "LOGIN", sp.authcid, res, &u);
	} else {
		sess_reply(s, "504 5.5.4 Error: unsupported authentication "
		    "mechanism");
		sess_error(s);
	}
out:
	sasl_wipe(&sp);
	explicit_bzero(s->line, sizeof(s->line));
	explicit_bzero(u.password, sizeof(u.password));
}

/* ------------------------------------------------------------------ */
/* Dispatch                                                            */

#define CMD_NEEDS_HELO	0x01	/* 503 before HELO/EHLO */
#define CMD_NO_TXN	0x02	/* 503 inside a mail transaction */
#define CMD_SUB_TLS	0x04	/* on 587: 530 until STARTTLS */
#define CMD_NO_BDAT	0x08	/* 503 between BDAT chunks */

struct smtp_cmd_def {
	enum smtp_verb	 verb;
	void		(*fn)(struct smtp_session *, struct smtp_cmd *);
	unsigned	 flags;
};

static const struct smtp_cmd_def cmd_table[] = {
	{ SMTP_V_HELO, cmd_helo, CMD_NO_BDAT },
	{ SMTP_V_EHLO, cmd_helo, CMD_NO_BDAT },
	{ SMTP_V_MAIL, cmd_mail, CMD_NEEDS_HELO | CMD_SUB_TLS | CMD_NO_BDAT },
	{ SMTP_V_RCPT, cmd_rcpt, CMD_NEEDS_HELO | CMD_SUB_TLS | CMD_NO_BDAT },
	{ SMTP_V_DATA, cmd_data, CMD_NEEDS_HELO | CMD_SUB_TLS | CMD_NO_BDAT },
	/* BDAT checks for itself: a refused chunk must still be read */
	{ SMTP_V_BDAT, cmd_bdat, 0 },
	{ SMTP_V_RSET, cmd_rset, 0 },
	{ SMTP_V_NOOP, cmd_noop, 0 },
	{ SMTP_V_QUIT, cmd_quit, 0 },
	{ SMTP_V_VRFY, cmd_vrfy, CMD_NO_BDAT },
	{ SMTP_V_EXPN, cmd_expn, CMD_NO_BDAT },
	{ SMTP_V_HELP, cmd_help, 0 },
	{ SMTP_V_STARTTLS, cmd_starttls, CMD_NEEDS_HELO | CMD_NO_TXN },
	{ SMTP_V_AUTH, cmd_auth, CMD_NEEDS_HELO | CMD_NO_TXN | CMD_SUB_TLS },
	{ SMTP_V_WEB, cmd_web, 0 },
};

static void
sess_parse_error(struct smtp_session *s, const struct smtp_cmd *cmd,
    enum smtp_cmd_err e, const char *why)
{
	switch (e) {
	case SMTP_CMD_UNKNOWN:
		sess_reply(s, "500 5.5.2 Error: command not recognized");
		break;
	case SMTP_CMD_ADDR:
		if (cmd->verb == SMTP_V_MAIL)
			sess_reply(s, "501 5.1.7 Bad sender address syntax "
			    "(%s)", why);
		else
			sess_reply(s, "501 5.1.3 Bad recipient address syntax "
			    "(%s)", why);
		break;
	case SMTP_CMD_PARAM:
		sess_reply(s, "555 5.5.4 Error: %s", why);
		break;
	case SMTP_CMD_UTF8:
		sess_reply(s, "553 5.6.7 Error: %s", why);
		break;
	default:
		sess_reply(s, "501 5.5.4 %s", why);
		break;
	}
	sess_error(s);
}

static void
sess_dispatch(struct smtp_session *s)
{
	const struct smtp_cmd_def *def = NULL;
	struct smtp_cmd cmd;
	enum smtp_cmd_err e;
	const char *why = "syntax error";
	size_t i;

	e = smtp_cmd_parse(s->line, s->line_len, &cmd, &why);
	if (e != SMTP_CMD_OK) {
		sess_parse_error(s, &cmd, e, why);
		return;
	}
	for (i = 0; i < sizeof(cmd_table) / sizeof(cmd_table[0]); i++)
		if (cmd_table[i].verb == cmd.verb)
			def = &cmd_table[i];
	if (def == NULL) {
		sess_reply(s, "502 5.5.1 Error: command not implemented");
		sess_error(s);
		return;
	}
	if ((def->flags & CMD_NO_BDAT) && s->state == SMTP_S_BDAT) {
		sess_reply(s, "503 5.5.1 Error: BDAT transaction in progress");
		sess_error(s);
		return;
	}
	if ((def->flags & CMD_NEEDS_HELO) && s->state == SMTP_S_CONNECTED) {
		sess_reply(s, "503 5.5.1 Error: send HELO/EHLO first");
		sess_error(s);
		return;
	}
	if ((def->flags & CMD_SUB_TLS) && s->kind == LK_SUBMISSION &&
	    !s->tls) {
		sess_reply(s, "530 5.7.0 Must issue a STARTTLS command first");
		sess_error(s);
		return;
	}
	if ((def->flags & CMD_NO_TXN) && s->state != SMTP_S_READY &&
	    s->state != SMTP_S_CONNECTED) {
		sess_reply(s, "503 5.5.1 Error: MAIL transaction in progress");
		sess_error(s);
		return;
	}
	def->fn(s, &cmd);
}

/* ------------------------------------------------------------------ */
/* The session                                                         */

static void
sess_loop(struct smtp_session *s)
{
	enum sess_in r;

	while (s->state != SMTP_S_QUIT) {
		if (s->nerrors >= s->conf->smtp_max_errors &&
		    s->conf->smtp_max_errors > 0) {
			log_warn("%s smtp too many errors address=%s errors=%u",
			    s->sid, s->ip, s->nerrors);
			sess_reply(s, "421 4.7.0 %s Error: too many errors",
			    s->conf->hostname);
			s->end_reason = "errors";
			break;
		}
		r = sess_readline(s, SMTP_AUTH_LINE_MAX);
		if (r == IN_TOOLONG) {
			s->ncmds++;
			sess_reply(s, "500 5.5.2 Error: line too long");
			sess_error(s);
			continue;
		}
		if (r != IN_OK) {
			sess_end_input(s, r);
			break;
		}
		s->ncmds++;
		if (s->line_len > SMTP_CMD_LINE_MAX &&
		    !str_iprefix(s->line, "AUTH ")) {
			sess_reply(s, "500 5.5.2 Error: line too long");
			sess_error(s);
			continue;
		}
		sess_dispatch(s);
	}
}

void
smtp_session_run(struct conn *c, const struct session_info *si, void *arg)
{
	struct smtp_server *srv = arg;
	struct smtp_session *s;
	const char *why = "unknown", *ver = NULL, *cipher = NULL;
	int bits = 0;

	s = xcalloc(1, sizeof(*s));
	s->srv = srv;
	s->conf = srv->conf;
	s->c = c;
	s->kind = si->kind;
	s->state = SMTP_S_CONNECTED;
	s->end_reason = "eof";
	snprintf(s->sid, sizeof(s->sid), "%016" PRIx64, log_session_id());
	str_copy(s->ip, conn_peer_ip(c), sizeof(s->ip));
	buf_init(&s->content, 0);
	s->spool_fd = -1;
	conn_set_timeout(c, sess_timeout(s, srv->cmd_timeout_ms,
	    SESS_CMD_TIMEOUT));
	log_info("%s smtp connect address=%s port=%u listener=%s", s->sid,
	    s->ip, (unsigned)conn_peer_port(c), listen_kind_name(si->kind));

	if (si->over_limit) {
		log_warn("%s smtp reject address=%s reason=\"%s\"", s->sid,
		    s->ip, si->limit_reason != NULL ? si->limit_reason :
		    "connection limit");
		sess_reply(s, "421 4.7.0 %s Error: too many connections",
		    s->conf->hostname);
		sess_flush(s);
		s->end_reason = "limit";
		goto out;
	}
	if (si->kind == LK_SMTPS) {
		if (srv->tls == NULL ||
		    conn_starttls(c, srv->tls, &why) < 0) {
			log_warn("%s smtp tls result=fail address=%s "
			    "reason=\"%s\"", s->sid, s->ip,
			    srv->tls == NULL ? "no TLS context" : why);
			s->end_reason = "tls";
			goto out;
		}
		s->tls = true;
		if (conn_tls_info(c, &ver, &cipher, &bits))
			log_info("%s smtp tls address=%s version=%s "
			    "cipher=%s bits=%d", s->sid, s->ip, ver, cipher,
			    bits);
	}
	sess_reply(s, "220 %s ESMTP facteur", s->conf->hostname);
	sess_loop(s);
	sess_flush(s);
out:
	log_info("%s smtp disconnect address=%s reason=%s commands=%u "
	    "errors=%u messages=%u rcpt_ok=%u rcpt_rejected=%u%s%s", s->sid,
	    s->ip, s->end_reason, s->ncmds, s->nerrors, s->nmsgs,
	    s->nrcpt_ok, s->nrcpt_bad, s->authed ? " user=" : "",
	    s->authed ? s->user : "");
	sess_txn_reset(s);
	explicit_bzero(s->line, sizeof(s->line));
	free(s);
	conn_free(&c);
}
