/*
 * conn - plain or TLS connection with deadlines and bounded line reads.
 *
 * The socket is non-blocking; every read and write waits with poll(2) up
 * to the connection's timeout, so a silent or slow peer can never hold a
 * thread for longer than that per operation. Input is read ahead into a
 * small buffer (allocated on first use, released while idle); output is
 * collected in a buffer and written on conn_flush() or past 16 KiB.
 *
 * Security: conn_starttls() drops everything read ahead before the
 * handshake, so commands a client pipelined after STARTTLS in plaintext
 * are never executed as if they came over TLS.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "core/timeutil.h"
#include "core/xmalloc.h"
#include "net/conn.h"
#include "net/tls_int.h"

#define CONN_RBUF_SIZE	4096
#define CONN_WFLUSH	16384

struct conn {
	int		 fd;
	SSL		*ssl;
	int		 timeout_ms;
	bool		 timed_out;
	bool		 verified;
	char		*rbuf;
	size_t		 rpos;
	size_t		 rlen;
	struct buf	 wbuf;
	char		 peer[INET6_ADDRSTRLEN];
	uint16_t	 peer_port;
	uint16_t	 local_port;
};

static void
conn_addr_text(const struct sockaddr_storage *ss, char *dst, size_t dstlen,
    uint16_t *port_r)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, dst, (socklen_t)dstlen);
		*port_r = ntohs(sin->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)ss;

		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
			inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12], dst,
			    (socklen_t)dstlen);
		else
			inet_ntop(AF_INET6, &sin6->sin6_addr, dst,
			    (socklen_t)dstlen);
		*port_r = ntohs(sin6->sin6_port);
	} else {
		snprintf(dst, dstlen, "local");
		*port_r = 0;
	}
}

struct conn *
conn_new(int fd)
{
	struct conn *c = xcalloc(1, sizeof(*c));
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fl, one = 1;

	c->fd = fd;
	c->timeout_ms = 300000;
	buf_init(&c->wbuf, BUF_UNLIMITED);
	fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
		conn_addr_text(&ss, c->peer, sizeof(c->peer), &c->peer_port);
	else
		snprintf(c->peer, sizeof(c->peer), "unknown");
	sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
		char tmp[INET6_ADDRSTRLEN];

		conn_addr_text(&ss, tmp, sizeof(tmp), &c->local_port);
	}
	return c;
}

void
conn_free(struct conn **cp)
{
	struct conn *c = *cp;

	if (c == NULL)
		return;
	if (c->ssl != NULL) {
		(void)SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
		ERR_clear_error();
	}
	if (c->fd >= 0)
		close(c->fd);
	free(c->rbuf);
	buf_free(&c->wbuf);
	free(c);
	*cp = NULL;
}

void
conn_set_timeout(struct conn *c, int ms)
{
	c->timeout_ms = ms;
}

int
conn_fd(const struct conn *c)
{
	return c->fd;
}

const char *
conn_peer_ip(const struct conn *c)
{
	return c->peer;
}

uint16_t
conn_peer_port(const struct conn *c)
{
	return c->peer_port;
}

uint16_t
conn_local_port(const struct conn *c)
{
	return c->local_port;
}

bool
conn_timed_out(const struct conn *c)
{
	return c->timed_out;
}

/* conn_poll: wait for events on the socket until deadline; 1 ready,
 * 0 timeout (sets timed_out), -1 error. */
static int
conn_poll(struct conn *c, short events, uint64_t deadline)
{
	for (;;) {
		struct pollfd pfd = { .fd = c->fd, .events = events };
		uint64_t now = time_mono_ms();
		int wait, rc;

		if (now >= deadline) {
			c->timed_out = true;
			return 0;
		}
		wait = (int)(deadline - now);
		rc = poll(&pfd, 1, wait);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (rc == 0) {
			c->timed_out = true;
			return 0;
		}
		return 1;
	}
}

/* conn_raw_read: read from socket or TLS; > 0 bytes, 0 EOF, -1 error. */
static ssize_t
conn_raw_read(struct conn *c, void *p, size_t n)
{
	uint64_t deadline = time_mono_ms() + (uint64_t)c->timeout_ms;

	for (;;) {
		short ev = POLLIN;

		if (c->ssl != NULL) {
			int r, e;

			ERR_clear_error();
			r = SSL_read(c->ssl, p, n > INT32_MAX ? INT32_MAX :
			    (int)n);
			if (r > 0)
				return r;
			e = SSL_get_error(c->ssl, r);
			if (e == SSL_ERROR_ZERO_RETURN)
				return 0;
			if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 &&
			    (errno == 0 || r == 0))
				return 0;
			if (e == SSL_ERROR_WANT_WRITE)
				ev = POLLOUT;
			else if (e != SSL_ERROR_WANT_READ)
				return -1;
		} else {
			ssize_t r = read(c->fd, p, n);

			if (r >= 0)
				return r;
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -1;
		}
		if (conn_poll(c, ev, deadline) <= 0)
			return -1;
	}
}

static int
conn_raw_write(struct conn *c, const void *p, size_t n)
{
	uint64_t deadline = time_mono_ms() + (uint64_t)c->timeout_ms;
	const char *s = p;

	while (n > 0) {
		short ev = POLLOUT;

		if (c->ssl != NULL) {
			int w, e;

			ERR_clear_error();
			w = SSL_write(c->ssl, s, n > INT32_MAX ? INT32_MAX :
			    (int)n);
			if (w > 0) {
				s += w;
				n -= (size_t)w;
				continue;
			}
			e = SSL_get_error(c->ssl, w);
			if (e == SSL_ERROR_WANT_READ)
				ev = POLLIN;
			else if (e != SSL_ERROR_WANT_WRITE)
				return -1;
		} else {
			ssize_t w = send(c->fd, s, n, MSG_NOSIGNAL);

			if (w >= 0) {
				s += w;
				n -= (size_t)w;
				continue;
			}
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -1;
		}
		if (conn_poll(c, ev, deadline) <= 0)
			return -1;
	}
	return 0;
}

/* conn_fill: refill the read-ahead buffer; > 0, 0 EOF, -1 error. */
static ssize_t
conn_fill(struct conn *c)
{
	ssize_t r;

	if (c->rbuf == NULL)
		c->rbuf = xmalloc(CONN_RBUF_SIZE);
	c->rpos = 0;
	c->rlen = 0;
	r = conn_raw_read(c, c->rbuf, CONN_RBUF_SIZE);
	if (r > 0)
		c->rlen = (size_t)r;
	return r;
}

enum conn_rc
conn_readline(struct conn *c, struct buf *line, size_t max)
{
	bool toolong = false;

	buf_reset(line);
	for (;;) {
		const char *start, *nl;
		size_t avail, take;
		ssize_t r;

		if (c->rpos < c->rlen) {
			start = c->rbuf + c->rpos;
			avail = c->rlen - c->rpos;
			nl = memchr(start, '\n', avail);
			take = nl != NULL ? (size_t)(nl - start) + 1 : avail;
			if (!toolong) {
				if (line->len + take > max ||
				    buf_append(line, start, take) < 0) {
					size_t room = max > line->len ?
					    max - line->len : 0;

					if (room > take)
						room = take;
					if (buf_append(line, start, room) < 0) {
						/* line buffer smaller than max */
					}
					toolong = true;
				}
			}
			c->rpos += take;
			if (nl != NULL)
				return toolong ? CONN_TOOLONG : CONN_LINE;
		}
		r = conn_fill(c);
		if (r == 0)
			return CONN_EOF;
		if (r < 0)
			return c->timed_out ? CONN_TIMEOUT : CONN_ERROR;
	}
}

ssize_t
conn_read(struct conn *c, void *p, size_t n)
{
	if (n == 0)
		return 0;
	if (c->rpos < c->rlen) {
		size_t take = c->rlen - c->rpos;

		if (take > n)
			take = n;
		memcpy(p, c->rbuf + c->rpos, take);
		c->rpos += take;
		return (ssize_t)take;
	}
	return conn_raw_read(c, p, n);
}

int
conn_read_full(struct conn *c, void *p, size_t n)
{
	char *d = p;

	while (n > 0) {
		ssize_t r = conn_read(c, d, n);

		if (r <= 0)
			return -1;
		d += r;
		n -= (size_t)r;
	}
	return 0;
}

size_t
conn_pending(const struct conn *c)
{
	size_t n = c->rlen - c->rpos;

	if (c->ssl != NULL)
		n += (size_t)SSL_pending(c->ssl);
	return n;
}

int
conn_wait(struct conn *c, int extra_fd, int timeout_ms)
{
	struct pollfd pfd[2];
	int n = 1, rc;

	if (conn_pending(c) > 0)
		return 1;
	pfd[0].fd = c->fd;
	pfd[0].events = POLLIN;
	pfd[0].revents = 0;
	if (extra_fd >= 0) {
		pfd[1].fd = extra_fd;
		pfd[1].events = POLLIN;
		pfd[1].revents = 0;
		n = 2;
	}
	do {
		rc = poll(pfd, (nfds_t)n, timeout_ms);
	} while (rc < 0 && errno == EINTR);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return 0;
	if (pfd[0].revents != 0)
		return 1;
	return 2;
}

int
conn_flush(struct conn *c)
{
	int rc;

	if (c->wbuf.len == 0)
		return 0;
	rc = conn_raw_write(c, c->wbuf.data, c->wbuf.len);
	buf_reset(&c->wbuf);
	if (c->wbuf.cap > 4 * CONN_WFLUSH)
		buf_free(&c->wbuf);
	return rc;
}

int
conn_write(struct conn *c, const void *p, size_t n)
{
	if (n >= CONN_WFLUSH) {
		if (conn_flush(c) < 0)
			return -1;
		return conn_raw_write(c, p, n);
	}
	if (buf_append(&c->wbuf, p, n) < 0)
		return -1;
	if (c->wbuf.len >= CONN_WFLUSH)
		return conn_flush(c);
	return 0;
}

int
conn_puts(struct conn *c, const char *s)
{
	return conn_write(c, s, strlen(s));
}

int
conn_printf(struct conn *c, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = buf_vprintf(&c->wbuf, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return -1;
	if (c->wbuf.len >= CONN_WFLUSH)
		return conn_flush(c);
	return 0;
}

static int
conn_handshake(struct conn *c, int server, const char **error_r)
{
	uint64_t deadline = time_mono_ms() + (uint64_t)c->timeout_ms;

	for (;;) {
		int r, e;
		short ev;

		ERR_clear_error();
		r = server ? SSL_accept(c->ssl) : SSL_connect(c->ssl);
		if (r == 1)
			return 0;
		e = SSL_get_error(c->ssl, r);
		if (e == SSL_ERROR_WANT_READ)
			ev = POLLIN;
		else if (e == SSL_ERROR_WANT_WRITE)
			ev = POLLOUT;
		else {
			static __thread char why[200];
			unsigned long ee = ERR_get_error();

			if (ee != 0)
				ERR_error_string_n(ee, why, sizeof(why));
			else
				snprintf(why, sizeof(why),
				    "handshake failed (connection closed)");
			ERR_clear_error();
			*error_r = why;
			return -1;
		}
		if (conn_poll(c, ev, deadline) <= 0) {
			*error_r = c->timed_out ? "handshake timed out" :
			    "handshake poll error";
			return -1;
		}
	}
}

int
conn_starttls(struct conn *c, struct tls_ctx *ctx, const char **error_r)
{
	if (c->ssl != NULL) {
		*error_r = "TLS already active";
		return -1;
	}
	if (conn_flush(c) < 0) {
		*error_r = "write failed";
		return -1;
	}
	/* never let plaintext sent before the handshake count as TLS input */
	c->rpos = 0;
	c->rlen = 0;
	c->ssl = SSL_new(ctx->ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
		*error_r = "SSL_new failed";
		return -1;
	}
	return conn_handshake(c, 1, error_r);
}

int
conn_tls_connect(struct conn *c, struct tls_ctx *ctx, const char *sni,
    const char **error_r)
{
	if (c->ssl != NULL) {
		*error_r = "TLS already active";
		return -1;
	}
	if (conn_flush(c) < 0) {
		*error_r = "write failed";
		return -1;
	}
	c->rpos = 0;
	c->rlen = 0;
	c->ssl = SSL_new(ctx->ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
		*error_r = "SSL_new failed";
		return -1;
	}
	if (sni != NULL && *sni != '\0') {
		SSL_set_tlsext_host_name(c->ssl, sni);
		(void)SSL_set1_host(c->ssl, sni);
	}
	if (conn_handshake(c, 0, error_r) < 0)
		return -1;
	c->verified = SSL_get_verify_result(c->ssl) == X509_V_OK &&
	    SSL_get0_peer_certificate(c->ssl) != NULL;
	return 0;
}

bool
conn_is_tls(const struct conn *c)
{
	return c->ssl != NULL;
}

bool
conn_tls_verified(const struct conn *c)
{
	return c->verified;
}

bool
conn_tls_info(const struct conn *c, const char **version_r,
    const char **cipher_r, int *bits_r)
{
	const SSL_CIPHER *ciph;

	if (c->ssl == NULL)
		return false;
	ciph = SSL_get_current_cipher(c->ssl);
	*version_r = SSL_get_version(c->ssl);
	*cipher_r = ciph != NULL ? SSL_CIPHER_get_name(ciph) : "unknown";
	*bits_r = ciph != NULL ? SSL_CIPHER_get_bits(ciph, NULL) : 0;
	return true;
}

/*
 * conn_trim_stack: give back the stack pages below the current frame.
 * A session's deepest moment (TLS handshake, login, a big FETCH) leaves
 * its stack pages resident for the life of the thread; idle connections
 * dominate memory, so before a long wait the dead part of the stack is
 * returned with MADV_DONTNEED (it reads back as zeros if ever reused).
 * A margin below the frame is kept for the calls the wait itself makes.
 */
#define CONN_STACK_MARGIN (4 * 1024)

static __thread uintptr_t conn_stack_lo;

static void
conn_trim_stack(void)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	uintptr_t start, end;

	if (conn_stack_lo == 0) {
		pthread_attr_t a;
		void *lo = NULL;
		size_t sz = 0;

		if (pthread_getattr_np(pthread_self(), &a) != 0)
			return;
		if (pthread_attr_getstack(&a, &lo, &sz) != 0)
			lo = NULL;
		pthread_attr_destroy(&a);
		if (lo == NULL)
			return;
		conn_stack_lo = (uintptr_t)lo;
	}
	start = (conn_stack_lo + page - 1) & ~(page - 1);
	if (sp < start + CONN_STACK_MARGIN + page)
		return;
	end = (sp - CONN_STACK_MARGIN) & ~(page - 1);
	if (end > start)
		(void)madvise((void *)start, end - start, MADV_DONTNEED);
}

void
conn_release_buffers(struct conn *c)
{
	conn_trim_stack();
	if (c->rpos >= c->rlen && c->rbuf != NULL) {
		free(c->rbuf);
		c->rbuf = NULL;
		c->rpos = 0;
		c->rlen = 0;
	}
	if (c->wbuf.len == 0)
		buf_free(&c->wbuf);
}
