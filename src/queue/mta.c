/*
 * mta - SMTP client for outbound delivery (RFC 5321), one destination
 * domain per call: MX lookup (or the relayhost), connect with a
 * deadline, EHLO (HELO fallback), opportunistic STARTTLS (RFC 3207),
 * AUTH PLAIN to a relayhost only under TLS, PIPELINING (RFC 2920: MAIL
 * and every RCPT in one write), SIZE (RFC 1870), 8BITMIME (RFC 6152),
 * SMTPUTF8 (RFC 6531), then the content with CRLF and dot-stuffing.
 *
 * Policy choices (docs/queue.md):
 *  - STARTTLS is used whenever offered. If the TLS handshake fails, the
 *    same address is tried again in plaintext without STARTTLS, as
 *    Postfix does at smtp_tls_security_level=may; a relayhost requires
 *    TLS (no plaintext retry, the message is deferred).
 *  - An 8-bit body to a server without 8BITMIME is sent as is (Postfix
 *    does the same; a downgrade would need a MIME rewrite).
 *  - A message that needs SMTPUTF8 is bounced (5.6.7) by a server that
 *    lacks it; one larger than the announced SIZE is bounced (5.3.4).
 * Input trusted: nothing the remote server says. Reply lines are bounded
 * (MTA_LINE_MAX), multi-line replies capped, text kept for logs only
 * after log_esc by the caller.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/str.h"
#include "core/timeutil.h"
#include "core/xmalloc.h"
#include "net/conn.h"
#include "net/dns.h"
#include "queue/mta.h"

#define MTA_LINE_MAX	2048
#define MTA_REPLY_LINES	100
#define MTA_MAX_HOSTS	10	/* MX hosts tried per attempt */
#define MTA_MAX_ADDRS	4	/* addresses per host */
#define MTA_ADDR_LIMIT	10	/* addresses per attempt in all */

enum sess_rc {
	S_DONE,		/* every recipient has a result */
	S_NEXT,		/* try the next address; s->err says why */
	S_PLAIN		/* TLS handshake failed: retry without STARTTLS */
};

struct mta_sess {
	const struct mta_cfg	*cfg;
	struct mta_job		*job;
	struct conn		*c;
	struct buf		 line;
	char			 host[DNS_NAME_MAX + 1];
	char			 ip[INET6_ADDRSTRLEN];
	uint16_t		 port;
	bool			 relay;
	bool			 ext_starttls, ext_pipelining, ext_8bit;
	bool			 ext_utf8, ext_auth_plain, has_size;
	uint64_t		 ext_size;
	int			 code;			/* last reply */
	char			 text[QDIAG_MAX];	/* last reply text */
	/* why the last address failed, for deferral at the end */
	char			 err[QDIAG_MAX];
	char			 err_dsn[16];
	char			 err_mta[256];
};

void
mta_timeouts_default(struct mta_timeouts *to, int cap_ms)
{
	to->connect = 30 * 1000;
	to->greeting = 300 * 1000;
	to->cmd = 300 * 1000;
	to->mail = 300 * 1000;
	to->rcpt = 300 * 1000;
	to->data_init = 120 * 1000;
	to->data_block = 180 * 1000;
	to->data_term = 600 * 1000;
	if (cap_ms > 0) {
		int *f[] = { &to->connect, &to->greeting, &to->cmd, &to->mail,
		    &to->rcpt, &to->data_init, &to->data_block,
		    &to->data_term };

		for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
			if (*f[i] > cap_ms)
				*f[i] = cap_ms;
	}
}

uint64_t
mta_wire_size(const char *content, size_t clen)
{
	uint64_t n = 0;
	bool bol = true;

	for (size_t i = 0; i < clen; i++) {
		if (bol && content[i] == '.')
			n++;
		if (content[i] == '\n') {
			if (i == 0 || content[i - 1] != '\r')
				n++;
			bol = true;
		} else
			bol = false;
		n++;
	}
	if (!bol)
		n += 2;
	return n;
}

static bool
mta_has_8bit(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return true;
	return false;
}

bool
mta_needs_smtputf8(const char *sender, const struct mta_rcpt *r, size_t n,
    bool asked, const char *content, size_t clen)
{
	if (mta_has_8bit(sender))
		return true;
	for (size_t i = 0; i < n; i++)
		if (mta_has_8bit(r[i].addr))
			return true;
	if (!asked)
		return false;
	/* UTF-8 header fields (RFC 6532) need it too; an ASCII message
	 * whose client merely said SMTPUTF8 does not */
	for (size_t i = 0; i < clen; i++) {
		if ((unsigned char)content[i] >= 0x80)
			return true;
		if (content[i] == '\n' && i + 1 < clen &&
		    (content[i + 1] == '\n' || (content[i + 1] == '\r' &&
		    i + 2 < clen && content[i + 2] == '\n')))
			break;
	}
	return false;
}

void
mta_reply_status(int code, const char *text, char *dsn, size_t len)
{
	int cls = code / 100;
	const char *p = text;
	size_t n = 0;

	/* x.y.z: class digit, 1-3 digits, 1-3 digits */
	if (p[0] - '0' == cls && p[1] == '.') {
		const char *q = p + 2;
		int parts = 0;

		while (parts < 2) {
			size_t d = 0;

			while (q[d] >= '0' && q[d] <= '9' && d < 4)
				d++;
			if (d == 0 || d > 3)
				break;
			q += d;
			parts++;
			if (parts == 1) {
				if (*q != '.')
					break;
				q++;
			}
		}
		if (parts == 2 && (*q == ' ' || *q == '\0')) {
			n = (size_t)(q - p);
			if (n < len) {
				memcpy(dsn, p, n);
				dsn[n] = '\0';
				return;
			}
		}
	}
	snprintf(dsn, len, "%d.0.0", cls >= 2 && cls <= 5 ? cls : 4);
}

static void
mta_set(struct mta_sess *s, struct mta_rcpt *r, enum mta_result res,
    const char *dsn, const char *diag)
{
	r->result = res;
	str_copy(r->dsn, dsn, sizeof(r->dsn));
	str_copy(r->diag, diag, sizeof(r->diag));
	str_copy(r->mta, s != NULL ? s->host : "", sizeof(r->mta));
}

/* the last reply as a result for r: 2xx sent, 4xx defer, 5xx bounce */
static void
mta_set_reply(struct mta_sess *s, struct mta_rcpt *r)
{
	char dsn[16];
	enum mta_result res;

	mta_reply_status(s->code, s->text + (strlen(s->text) > 4 ? 4 : 0),
	    dsn, sizeof(dsn));
	res = s->code >= 200 && s->code < 300 ? MTA_SENT :
	    s->code >= 500 && s->code < 600 ? MTA_BOUNCE : MTA_DEFER;
	mta_set(s, r, res, dsn, s->text);
}

static void
mta_set_all(struct mta_sess *s, struct mta_job *job, enum mta_result res,
    const char *dsn, const char *diag, bool only_undecided)
{
	for (size_t i = 0; i < job->nrcpts; i++) {
		if (only_undecided && job->rcpts[i].result != MTA_NONE)
			continue;
		mta_set(s, &job->rcpts[i], res, dsn, diag);
	}
}

static void
mta_fail(struct mta_sess *s, const char *dsn, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* record why this address failed (for a deferral if none works) */
static void
mta_fail(struct mta_sess *s, const char *dsn, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
	str_copy(s->err_dsn, dsn, sizeof(s->err_dsn));
	str_copy(s->err_mta, s->host, sizeof(s->err_mta));
}

/*
 * mta_read_reply: one (multi-line) reply within timeout_ms. Returns the
 * code (s->code, s->text "250 text...") or -1 (s->err set).
 */
static int
mta_read_reply(struct mta_sess *s, int timeout_ms, const char *what)
{
	size_t tl = 0;

	conn_set_timeout(s->c, timeout_ms);
	s->text[0] = '\0';
	for (int n = 0; n < MTA_REPLY_LINES; n++) {
		enum conn_rc rc = conn_readline(s->c, &s->line, MTA_LINE_MAX);
		char *l;
		size_t len;
		int code;

		if (rc == CONN_TOOLONG)
			rc = CONN_LINE;	/* keep the start, as Postfix does */
		if (rc != CONN_LINE) {
			mta_fail(s, "4.4.2", "lost connection with %s[%s] while"
			    " %s%s", s->host, s->ip, what,
			    rc == CONN_TIMEOUT ? " (timeout)" : "");
			return -1;
		}
		l = s->line.data;
		len = s->line.len;
		while (len > 0 && (l[len - 1] == '\n' || l[len - 1] == '\r'))
			len--;
		l[len] = '\0';
		if (len < 3 || l[0] < '2' || l[0] > '5' || l[1] < '0' ||
		    l[1] > '9' || l[2] < '0' || l[2] > '9' ||
		    (len > 3 && l[3] != ' ' && l[3] != '-')) {
			mta_fail(s, "4.5.0", "malformed reply from %s[%s] while"
			    " %s", s->host, s->ip, what);
			return -1;
		}
		code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
		if (n == 0) {
			tl = str_copy(s->text, l, sizeof(s->text));
		} else if (code != s->code) {
			mta_fail(s, "4.5.0", "inconsistent reply codes from "
			    "%s[%s]", s->host, s->ip);
			return -1;
		} else if (tl < sizeof(s->text) - 1 && len > 4) {
			tl += str_copy(s->text + tl, " ", sizeof(s->text) - tl);
			if (tl < sizeof(s->text))
				tl += str_copy(s->text + tl, l + 4,
				    sizeof(s->text) - tl);
		}
		if (tl >= sizeof(s->text))
			tl = sizeof(s->text) - 1;
		s->code = code;
		/* EHLO keywords: each line after the first */
		if (n > 0 && strcmp(what, "receiving the EHLO reply") == 0) {
			const char *kw = l + 4;

			if (str_ieq(kw, "STARTTLS"))
				s->ext_starttls = true;
			else if (str_ieq(kw, "PIPELINING"))
				s->ext_pipelining = true;
			else if (str_ieq(kw, "8BITMIME"))
				s->ext_8bit = true;
			else if (str_ieq(kw, "SMTPUTF8"))
				s->ext_utf8 = true;
			else if (str_iprefix(kw, "SIZE")) {
				unsigned long long v = 0;

				s->has_size = true;
				if (kw[4] == ' ' &&
				    sscanf(kw + 5, "%llu", &v) == 1)
					s->ext_size = v;
			} else if (str_iprefix(kw, "AUTH ") ||
			    str_iprefix(kw, "AUTH=")) {
				char tmp[256];

				str_copy(tmp, kw + 5, sizeof(tmp));
				str_lower(tmp);
				if (strstr(tmp, "plain") != NULL)
					s->ext_auth_plain = true;
			}
		}
		if (len == 3 || l[3] == ' ')
			return code;
	}
	mta_fail(s, "4.5.0", "reply too long from %s[%s]", s->host, s->ip);
	return -1;
}

static int
mta_cmd(struct mta_sess *s, int timeout_ms, const char *what,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* send one command line and read its reply: code or -1 */
static int
mta_cmd(struct mta_sess *s, int timeout_ms, const char *what,
    const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(cmd) - 2)
		return -1;
	conn_set_timeout(s->c, timeout_ms);
	if (conn_printf(s->c, "%s\r\n", cmd) < 0 || conn_flush(s->c) < 0) {
		mta_fail(s, "4.4.2", "lost connection with %s[%s] while "
		    "sending %s", s->host, s->ip, what);
		return -1;
	}
	return mta_read_reply(s, timeout_ms, what);
}

static int
mta_ehlo(struct mta_sess *s)
{
	int code;

	s->ext_starttls = s->ext_pipelining = s->ext_8bit = false;
	s->ext_utf8 = s->ext_auth_plain = s->has_size = false;
	s->ext_size = 0;
	code = mta_cmd(s, s->cfg->to.cmd, "receiving the EHLO reply",
	    "EHLO %s", s->cfg->hostname);
	if (code < 0)
		return -1;
	if (code / 100 == 2)
		return 0;
	code = mta_cmd(s, s->cfg->to.cmd, "receiving the HELO reply",
	    "HELO %s", s->cfg->hostname);
	if (code < 0)
		return -1;
	if (code / 100 != 2) {
		mta_fail(s, code / 100 == 5 ? "5.5.0" : "4.5.0",
		    "host %s[%s] refused to talk to me: %s", s->host, s->ip,
		    s->text);
		return -1;
	}
	return 0;
}

static int
mta_connect(struct mta_sess *s, const struct dns_addr *a)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t sl;
	struct pollfd pfd;
	int fd, err = 0;
	socklen_t el = sizeof(err);

	memset(&ss, 0, sizeof(ss));
	if (a->family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(s->port);
		memcpy(&sin->sin_addr, a->addr, 4);
		sl = sizeof(*sin);
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(s->port);
		memcpy(&sin6->sin6_addr, a->addr, 16);
		sl = sizeof(*sin6);
	}
	inet_ntop(a->family, a->addr, s->ip, sizeof(s->ip));
	fd = socket(a->family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		mta_fail(s, "4.4.1", "connect to %s[%s]:%u: %s", s->host,
		    s->ip, s->port, strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		if (errno != EINPROGRESS) {
			err = errno;
			goto fail;
		}
		pfd.fd = fd;
		pfd.events = POLLOUT;
		for (;;) {
			int rc = poll(&pfd, 1, s->cfg->to.connect);

			if (rc < 0 && errno == EINTR)
				continue;
			if (rc <= 0) {
				err = rc == 0 ? ETIMEDOUT : errno;
				goto fail;
			}
			break;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
			err = errno;
		if (err != 0)
			goto fail;
	}
	s->c = conn_new(fd);
	return 0;
fail:
	close(fd);
	mta_fail(s, "4.4.1", "connect to %s[%s]:%u: %s", s->host, s->ip,
	    s->port, strerror(err));
	return -1;
}

static void
mta_quit(struct mta_sess *s)
{
	if (s->c == NULL)
		return;
	conn_set_timeout(s->c, 5000);
	if (conn_puts(s->c, "QUIT\r\n") == 0 && conn_flush(s->c) == 0)
		(void)conn_readline(s->c, &s->line, MTA_LINE_MAX);
}

/* the content: LF -> CRLF, a leading '.' doubled, then the final dot */
static int
mta_send_content(struct mta_sess *s)
{
	const char *p = s->job->content, *end = p + s->job->clen;

	conn_set_timeout(s->c, s->cfg->to.data_block);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);

		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (*p == '.' && len > 0 && conn_write(s->c, ".", 1) < 0)
			return -1;
		if (conn_write(s->c, p, len) < 0 ||
		    conn_write(s->c, "\r\n", 2) < 0)
			return -1;
		p = nl != NULL ? nl + 1 : end;
	}
	conn_set_timeout(s->c, s->cfg->to.data_term);
	if (conn_write(s->c, ".\r\n", 3) < 0 || conn_flush(s->c) < 0)
		return -1;
	return 0;
}

static void
mta_reset_results(struct mta_job *job)
{
	for (size_t i = 0; i < job->nrcpts; i++)
		job->rcpts[i].result = MTA_NONE;
}

/*
 * mta_transaction: MAIL, RCPT..., DATA on an open, greeted session.
 * S_DONE with every recipient decided, or S_NEXT (connection lost
 * before the data was handed over; results reset).
 */
static enum sess_rc
mta_transaction(struct mta_sess *s)
{
	struct mta_job *job = s->job;
	const struct mta_cfg *cfg = s->cfg;
	char params[128] = "";
	size_t accepted = 0, plen = 0;
	uint64_t wsize = mta_wire_size(job->content, job->clen);
	int code;

	if (s->has_size && s->ext_size > 0 && wsize > s->ext_size) {
		char why[QDIAG_MAX];

		snprintf(why, sizeof(why), "message size %llu exceeds size "
		    "limit %llu of server %s[%s]", (unsigned long long)wsize,
		    (unsigned long long)s->ext_size, s->host, s->ip);
		mta_set_all(s, job, MTA_BOUNCE, "5.3.4", why, false);
		return S_DONE;
	}
	if (job->needs_utf8 && !s->ext_utf8) {
		char why[QDIAG_MAX];

		snprintf(why, sizeof(why), "SMTPUTF8 is required, but was "
		    "not offered by host %s[%s]", s->host, s->ip);
		mta_set_all(s, job, MTA_BOUNCE, "5.6.7", why, false);
		return S_DONE;
	}
	if (s->has_size)
		plen += (size_t)snprintf(params + plen, sizeof(params) - plen,
		    " SIZE=%llu", (unsigned long long)wsize);
	if (job->eightbit && s->ext_8bit)
		plen += (size_t)snprintf(params + plen, sizeof(params) - plen,
		    " BODY=8BITMIME");
	if ((job->smtputf8 || job->needs_utf8) && s->ext_utf8)
		plen += (size_t)snprintf(params + plen, sizeof(params) - plen,
		    " SMTPUTF8");
	conn_set_timeout(s->c, cfg->to.mail);
	if (conn_printf(s->c, "MAIL FROM:<%s>%s\r\n", job->sender,
	    params) < 0)
		goto lost;
	if (!s->ext_pipelining) {
		if (conn_flush(s->c) < 0)
			goto lost;
	} else {
		for (size_t i = 0; i < job->nrcpts; i++)
			if (conn_printf(s->c, "RCPT TO:<%s>\r\n",
			    job->rcpts[i].addr) < 0)
				goto lost;
		if (conn_flush(s->c) < 0)
			goto lost;
	}
	code = mta_read_reply(s, cfg->to.mail, "receiving the MAIL reply");
	if (code < 0)
		goto reset;
	if (code / 100 != 2) {
		/* the whole transaction fails; with pipelining the RCPT
		 * replies (503 most likely) still have to be read */
		char text[QDIAG_MAX];
		int mcode = code;

		str_copy(text, s->text, sizeof(text));
		if (s->ext_pipelining)
			for (size_t i = 0; i < job->nrcpts; i++)
				if (mta_read_reply(s, cfg->to.rcpt,
				    "receiving the RCPT reply") < 0)
					break;
		s->code = mcode;
		str_copy(s->text, text, sizeof(s->text));
		for (size_t i = 0; i < job->nrcpts; i++)
			mta_set_reply(s, &job->rcpts[i]);
		return S_DONE;
	}
	for (size_t i = 0; i < job->nrcpts; i++) {
		struct mta_rcpt *r = &job->rcpts[i];

		if (!s->ext_pipelining) {
			code = mta_cmd(s, cfg->to.rcpt, "receiving the RCPT "
			    "reply", "RCPT TO:<%s>", r->addr);
		} else
			code = mta_read_reply(s, cfg->to.rcpt,
			    "receiving the RCPT reply");
		if (code < 0)
			goto reset;
		if (code / 100 == 2) {
			accepted++;
			continue;	/* decided after the data */
		}
		mta_set_reply(s, r);
	}
	if (accepted == 0)
		return S_DONE;
	code = mta_cmd(s, cfg->to.data_init, "receiving the DATA reply",
	    "DATA");
	if (code < 0)
		goto reset;
	if (code != 354) {
		for (size_t i = 0; i < job->nrcpts; i++)
			if (job->rcpts[i].result == MTA_NONE)
				mta_set_reply(s, &job->rcpts[i]);
		return S_DONE;
	}
	if (mta_send_content(s) < 0) {
		mta_fail(s, "4.4.2", "lost connection with %s[%s] while "
		    "sending message body", s->host, s->ip);
		goto reset;
	}
	code = mta_read_reply(s, cfg->to.data_term, "receiving the "
	    "end-of-data reply");
	if (code < 0) {
		/* the server may have it: RFC 1047. Defer; duplicates are
		 * possible but nothing is lost */
		char why[QDIAG_MAX + 64];

		snprintf(why, sizeof(why), "%.400s (message may be "
		    "delivered more than once)", s->err);
		mta_set_all(s, job, MTA_DEFER, "4.4.2", why, true);
		return S_DONE;
	}
	for (size_t i = 0; i < job->nrcpts; i++)
		if (job->rcpts[i].result == MTA_NONE)
			mta_set_reply(s, &job->rcpts[i]);
	return S_DONE;
lost:
	mta_fail(s, "4.4.2", "lost connection with %s[%s] while sending "
	    "MAIL FROM", s->host, s->ip);
reset:
	mta_reset_results(job);
	return S_NEXT;
}

/* the EHLO/HELO reply names us: "250 <our hostname> ..." */
static bool
mta_loops_back(const struct mta_sess *s)
{
	const char *name = s->text + (strlen(s->text) > 4 ? 4 : 3);
	size_t hl = strlen(s->cfg->hostname);

	return hl > 0 && str_ieqn(name, s->cfg->hostname, hl) &&
	    (name[hl] == '\0' || name[hl] == ' ');
}

/* SNI names a host, never an address (RFC 6066 3) */
static const char *
mta_sni(const char *host)
{
	uint8_t tmp[16];

	if (inet_pton(AF_INET, host, tmp) == 1 ||
	    inet_pton(AF_INET6, host, tmp) == 1)
		return NULL;
	return host;
}

static enum sess_rc
mta_session(struct mta_sess *s, const struct dns_addr *a, bool allow_tls)
{
	const struct mta_cfg *cfg = s->cfg;
	const char *why;
	enum sess_rc rc = S_NEXT;
	int code;

	str_copy(s->job->tls, "none", sizeof(s->job->tls));
	if (mta_connect(s, a) < 0)
		return S_NEXT;
	snprintf(s->job->relay, sizeof(s->job->relay), "%s[%s]:%u", s->host,
	    s->ip, s->port);
	if (s->relay && s->port == 465) {
		if (cfg->tls == NULL) {
			mta_fail(s, "4.7.5", "no TLS client context for "
			    "%s[%s]", s->host, s->ip);
			goto out;
		}
		conn_set_timeout(s->c, cfg->to.greeting);
		if (conn_tls_connect(s->c, cfg->tls, mta_sni(s->host),
		    &why) < 0) {
			mta_fail(s, "4.7.5", "TLS handshake with %s[%s] "
			    "failed: %s", s->host, s->ip, why);
			goto out;
		}
	}
	code = mta_read_reply(s, cfg->to.greeting, "receiving the initial "
	    "server greeting");
	if (code < 0)
		goto out;
	if (code != 220) {
		mta_fail(s, code / 100 == 5 ? "5.0.0" : "4.0.0", "host %s[%s]"
		    " refused to talk to me: %s", s->host, s->ip, s->text);
		mta_quit(s);
		goto out;
	}
	if (mta_ehlo(s) < 0)
		goto out;
	if (mta_loops_back(s)) {
		char loop[QDIAG_MAX];

		/* an MX (or relayhost) pointing back at us: refuse, as
		 * Postfix does, rather than ping-pong the message */
		snprintf(loop, sizeof(loop), "mail for %s loops back to "
		    "myself", s->relay ? s->host : s->job->domain);
		mta_set_all(s, s->job, MTA_BOUNCE, "5.4.6", loop, false);
		mta_quit(s);
		rc = S_DONE;
		goto out;
	}
	if (!conn_is_tls(s->c) && s->ext_starttls && cfg->tls != NULL &&
	    allow_tls) {
		code = mta_cmd(s, cfg->to.cmd, "receiving the STARTTLS reply",
		    "STARTTLS");
		if (code < 0)
			goto out;
		if (code == 220) {
			conn_set_timeout(s->c, cfg->to.cmd);
			if (conn_tls_connect(s->c, cfg->tls,
			    mta_sni(s->host), &why) < 0) {
				mta_fail(s, "4.7.5", "TLS handshake with "
				    "%s[%s] failed: %s", s->host, s->ip, why);
				rc = s->relay ? S_NEXT : S_PLAIN;
				goto out;
			}
			if (mta_ehlo(s) < 0)
				goto out;
		}
	}
	if (s->relay && !conn_is_tls(s->c)) {
		mta_fail(s, "4.7.4", "TLS is required, but was not offered "
		    "by host %s[%s]", s->host, s->ip);
		mta_quit(s);
		goto out;
	}
	if (conn_is_tls(s->c)) {
		const char *ver, *cipher;
		int bits;

		if (conn_tls_info(s->c, &ver, &cipher, &bits))
			str_copy(s->job->tls, ver, sizeof(s->job->tls));
	}
	if (s->relay && cfg->relay_user != NULL && cfg->relay_user[0] != '\0') {
		size_t ul = strlen(cfg->relay_user);
		size_t pl = strlen(cfg->relay_pass);
		char *raw, *b64;

		if (!s->ext_auth_plain) {
			mta_fail(s, "4.7.0", "host %s[%s] offers no AUTH PLAIN",
			    s->host, s->ip);
			mta_quit(s);
			goto out;
		}
		raw = xmalloc(ul + pl + 2);
		raw[0] = '\0';
		memcpy(raw + 1, cfg->relay_user, ul);
		raw[ul + 1] = '\0';
		memcpy(raw + ul + 2, cfg->relay_pass, pl);
		b64 = xmalloc(base64_encoded_len(ul + pl + 2) + 1);
		base64_encode(raw, ul + pl + 2, b64);
		explicit_bzero(raw, ul + pl + 2);
		free(raw);
		code = mta_cmd(s, cfg->to.cmd, "receiving the AUTH reply",
		    "AUTH PLAIN %s", b64);
		explicit_bzero(b64, strlen(b64));
		free(b64);
		if (code < 0)
			goto out;
		if (code != 235) {
			mta_fail(s, "4.7.8", "SASL authentication failed; "
			    "server %s[%s] said: %s", s->host, s->ip,
			    s->text);
			mta_quit(s);
			goto out;
		}
	}
	rc = mta_transaction(s);
	if (rc == S_DONE)
		mta_quit(s);
out:
	if (s->c != NULL)
		conn_free(&s->c);
	return rc;
}

/* try every address of host; S_DONE when a session decided everything */
static enum sess_rc
mta_try_host(struct mta_sess *s, const char *host, int *budget,
    enum dns_status *st_r)
{
	struct dns_addr addrs[MTA_MAX_ADDRS];
	size_t n = 0;

	str_copy(s->host, host, sizeof(s->host));
	*st_r = dns_lookup_addr(host, addrs, MTA_MAX_ADDRS, &n);
	if (*st_r != DNS_OK) {
		mta_fail(s, *st_r == DNS_TEMP ? "4.4.3" : "4.4.4",
		    "Host or domain name not found. Name service error for "
		    "name=%s type=A: %s", host,
		    *st_r == DNS_TEMP ? "Host not found, try again" :
		    "Host not found");
		return S_NEXT;
	}
	for (size_t i = 0; i < n && *budget > 0; i++) {
		enum sess_rc rc;

		(*budget)--;
		rc = mta_session(s, &addrs[i], true);
		if (rc == S_PLAIN) {
			log_warn("%s smtp-out tls-failed relay=%s[%s]:%u, "
			    "retrying without STARTTLS", s->job->queue_id,
			    s->host, s->ip, s->port);
			rc = mta_session(s, &addrs[i], false);
		}
		if (rc == S_DONE)
			return S_DONE;
	}
	return S_NEXT;
}

void
mta_deliver(const struct mta_cfg *cfg, struct mta_job *job)
{
	struct mta_sess s;
	struct dns_mx *mx = NULL;
	size_t nmx = 0;
	enum dns_status st, ast = DNS_OK;
	int budget = MTA_ADDR_LIMIT;

	memset(&s, 0, sizeof(s));
	s.cfg = cfg;
	s.job = job;
	buf_init(&s.line, MTA_LINE_MAX + 16);
	str_copy(job->relay, "none", sizeof(job->relay));
	str_copy(job->tls, "none", sizeof(job->tls));
	mta_reset_results(job);
	str_copy(s.err_dsn, "4.4.1", sizeof(s.err_dsn));
	str_copy(s.err, "no route to the destination", sizeof(s.err));

	if (cfg->relay_host != NULL && cfg->relay_host[0] != '\0') {
		s.relay = true;
		s.port = cfg->relay_port;
		(void)mta_try_host(&s, cfg->relay_host, &budget, &ast);
		goto finish;
	}
	s.port = cfg->port;
	if (job->domain[0] == '[') {
		/* address literal: [192.0.2.1] or [IPv6:2001:db8::1] */
		char lit[DNS_NAME_MAX + 1];
		size_t l = str_copy(lit, job->domain + 1, sizeof(lit));

		if (l > 0 && l < sizeof(lit) && lit[l - 1] == ']')
			lit[l - 1] = '\0';
		(void)mta_try_host(&s, str_iprefix(lit, "IPv6:") ? lit + 5 :
		    lit, &budget, &ast);
		goto finish;
	}
	if (!dns_name_valid(job->domain)) {
		char why[QDIAG_MAX];

		snprintf(why, sizeof(why), "bad destination domain \"%.255s\"",
		    job->domain);
		mta_set_all(NULL, job, MTA_BOUNCE, "5.1.2", why, false);
		goto out;
	}
	st = dns_lookup_mx(job->domain, &mx, &nmx);
	switch (st) {
	case DNS_OK:
		if (nmx == 1 && mx[0].host[0] == '\0') {
			char why[QDIAG_MAX];

			snprintf(why, sizeof(why), "Domain %s does not accept "
			    "mail (nullMX)", job->domain);
			mta_set_all(NULL, job, MTA_BOUNCE, "5.1.10", why,
			    false);
			goto out;
		}
		for (size_t i = 0; i < nmx && i < MTA_MAX_HOSTS &&
		    budget > 0; i++)
			if (mta_try_host(&s, mx[i].host, &budget, &ast) ==
			    S_DONE)
				goto out;
		break;
	case DNS_NODATA:
		/* no MX: the domain itself is the implicit MX (RFC 5321
		 * 5.1); no address either means no mail route at all */
		if (mta_try_host(&s, job->domain, &budget, &ast) == S_DONE)
			goto out;
		if (ast == DNS_NODATA || ast == DNS_NXDOMAIN ||
		    ast == DNS_FAIL) {
			char why[QDIAG_MAX];

			snprintf(why, sizeof(why), "Host or domain name not "
			    "found. Name service error for name=%s type=A: "
			    "Host not found", job->domain);
			mta_set_all(NULL, job, MTA_BOUNCE, "5.4.4", why,
			    true);
			goto out;
		}
		break;
	case DNS_NXDOMAIN: {
		char why[QDIAG_MAX];

		snprintf(why, sizeof(why), "Host or domain name not found. "
		    "Name service error for name=%s type=MX: Host not found",
		    job->domain);
		mta_set_all(NULL, job, MTA_BOUNCE, "5.1.2", why, false);
		goto out;
	}
	default: {
		char why[QDIAG_MAX];

		snprintf(why, sizeof(why), "Host or domain name not found. "
		    "Name service error for name=%s type=MX: Host not found, "
		    "try again", job->domain);
		mta_set_all(NULL, job, MTA_DEFER, "4.4.3", why, false);
		goto out;
	}
	}
finish:
	/* nobody took the message: defer with the last reason */
	for (size_t i = 0; i < job->nrcpts; i++) {
		struct mta_rcpt *r = &job->rcpts[i];

		if (r->result != MTA_NONE)
			continue;
		r->result = MTA_DEFER;
		str_copy(r->dsn, s.err_dsn[0] == '4' ? s.err_dsn : "4.4.1",
		    sizeof(r->dsn));
		str_copy(r->diag, s.err, sizeof(r->diag));
		str_copy(r->mta, s.err_mta, sizeof(r->mta));
	}
out:
	free(mx);
	buf_free(&s.line);
}
