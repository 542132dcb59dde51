/*
 * conn - one connection type for every protocol, plain or TLS: blocking
 * style reads and writes with deadlines over a non-blocking socket,
 * bounded line reads, buffered output, and a STARTTLS upgrade that throws
 * away any plaintext the client sent after the STARTTLS command (so it can
 * never be executed inside TLS: RFC 3207 5, CVE-2011-0411 style attacks).
 *
 * The only place (with tls.c) that sees OpenSSL types. One thread uses a
 * conn at a time.
 */
#ifndef NET_CONN_H
#define NET_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "core/buf.h"

struct conn;
struct tls_ctx;

enum conn_rc {
	CONN_LINE = 0,	/* a line is in the buffer */
	CONN_TOOLONG,	/* line exceeded max; rest up to LF discarded */
	CONN_EOF,	/* peer closed (no partial line returned) */
	CONN_TIMEOUT,
	CONN_ERROR
};

/* conn_new: wrap an accepted or connected socket (made non-blocking). */
struct conn *conn_new(int fd);
/* conn_free: shut TLS down politely, close the socket, NULL *c. */
void conn_free(struct conn **c);

/* conn_set_timeout: deadline in ms for each following read or write. */
void conn_set_timeout(struct conn *c, int ms);
int conn_fd(const struct conn *c);
/* conn_peer_ip: text address of the peer ("192.0.2.1", "2001:db8::1";
 * IPv4-mapped IPv6 shown as IPv4). conn_local_port: our port. */
const char *conn_peer_ip(const struct conn *c);
uint16_t conn_peer_port(const struct conn *c);
uint16_t conn_local_port(const struct conn *c);

/*
 * conn_readline: read one line into line (reset first), including its
 * terminator: the line ends at LF; the bytes kept are exactly what was
 * sent, so callers can tell "\r\n" from a bare "\n". At most max bytes
 * (terminator included); a longer line returns CONN_TOOLONG after
 * discarding through its LF (line then holds its first max bytes).
 */
enum conn_rc conn_readline(struct conn *c, struct buf *line, size_t max);
/*
 * conn_read: up to n bytes, from the read-ahead buffer first, else one
 * read from the socket. Returns bytes (> 0), 0 at EOF, -1 error/timeout
 * (conn_timed_out() tells which).
 */
ssize_t conn_read(struct conn *c, void *p, size_t n);
/* conn_read_full: exactly n bytes. 0, or -1 on EOF/error/timeout. */
int conn_read_full(struct conn *c, void *p, size_t n);
bool conn_timed_out(const struct conn *c);
/* conn_pending: bytes already received but not yet consumed (includes
 * TLS records decrypted but unread). Used for pipelining decisions. */
size_t conn_pending(const struct conn *c);
/*
 * conn_wait: wait until input is readable (or buffered), or extra_fd (if
 * >= 0) is readable, or timeout_ms passes. Returns 1 input, 2 extra_fd,
 * 0 timeout, -1 error.
 */
int conn_wait(struct conn *c, int extra_fd, int timeout_ms);

/* Output is buffered; conn_write flushes by itself past 16 KiB.
 * Return 0 or -1 (error/timeout: the connection is dead). */
int conn_write(struct conn *c, const void *p, size_t n);
int conn_puts(struct conn *c, const char *s);
int conn_printf(struct conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int conn_flush(struct conn *c);

/*
 * conn_starttls: server side TLS handshake (also used right after accept
 * for implicit TLS). Discards any buffered plaintext input first. 0 or -1
 * (handshake failed; the conn must be closed). On success, *error_r
 * untouched; on failure a short reason for the log.
 */
int conn_starttls(struct conn *c, struct tls_ctx *ctx, const char **error_r);
/*
 * conn_tls_connect: client side handshake (queue, relayhost). sni may be
 * NULL. Verification is opportunistic: the result is recorded, not
 * enforced (conn_tls_verified()). 0 or -1.
 */
int conn_tls_connect(struct conn *c, struct tls_ctx *ctx, const char *sni,
    const char **error_r);
bool conn_is_tls(const struct conn *c);
bool conn_tls_verified(const struct conn *c);
/* conn_tls_info: "TLSv1.3" and "TLS_AES_256_GCM_SHA384", bits; false if
 * not TLS. */
bool conn_tls_info(const struct conn *c, const char **version_r,
    const char **cipher_r, int *bits_r);
/* conn_release_buffers: give idle memory back (read-ahead and TLS
 * buffers); called before long waits such as IMAP IDLE. */
void conn_release_buffers(struct conn *c);

#endif
