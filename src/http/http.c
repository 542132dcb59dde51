/*
 * http - the admin page's HTTPS server (RFC 9110/9112 subset).
 *
 * One thread per connection like every other protocol; implicit TLS;
 * HTTP/1.1 keep-alive. Limits: request head 16 KiB and 64 fields, whole
 * head within 20 s (slowloris), body 64 KiB (413 beyond), 30 s idle
 * between requests, 100 requests per connection. Every response carries
 * the security headers (CSP without inline script, frame-ancestors
 * 'none', HSTS, nosniff, no referrer).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/conf.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "http/http_int.h"
#include "http/json.h"
#include "net/conn.h"

#define HTTP_HEAD_SECS		20
#define HTTP_IDLE_MS		30000
#define HTTP_MAX_REQUESTS	100
#define HTTP_DRAIN_MAX		(1024 * 1024)

const char *
http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	}
	return "Unknown";
}

void
http_resp_init(struct http_resp *r)
{
	memset(r, 0, sizeof(*r));
	r->status = 200;
	r->content_type = "application/json";
	buf_init(&r->body, 8 * 1024 * 1024);
}

void
http_resp_free(struct http_resp *r)
{
	buf_free(&r->body);
}

void
http_resp_header(struct http_resp *r, const char *fmt, ...)
{
	size_t n = strlen(r->extra);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->extra + n, sizeof(r->extra) - n, fmt, ap);
	va_end(ap);
	n = strlen(r->extra);
	if (n + 3 <= sizeof(r->extra))
		memcpy(r->extra + n, "\r\n", 3);
}

void
http_resp_error(struct http_resp *r, int status, const char *text)
{
	r->status = status;
	r->content_type = "application/json";
	r->no_store = true;
	buf_reset(&r->body);
	if (buf_puts(&r->body, "{\"error\":") < 0 ||
	    json_str(&r->body, text) < 0 ||
	    buf_puts(&r->body, "}") < 0)
		buf_reset(&r->body);
}

static int
http_send(struct conn *c, struct http_resp *r, bool close)
{
	char date[64];

	time_fmt_rfc5322(date, time(NULL));
	conn_printf(c, "HTTP/1.1 %d %s\r\n", r->status,
	    http_reason(r->status));
	conn_printf(c, "Date: %s\r\nServer: facteur\r\n", date);
	conn_puts(c, "Content-Security-Policy: default-src 'self'; "
	    "script-src 'self'; style-src 'self'; img-src 'self' data:; "
	    "connect-src 'self'; object-src 'none'; base-uri 'none'; "
	    "form-action 'self'; frame-ancestors 'none'\r\n"
	    "X-Frame-Options: DENY\r\n"
	    "Strict-Transport-Security: max-age=31536000\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Referrer-Policy: no-referrer\r\n"
	    "Cross-Origin-Opener-Policy: same-origin\r\n");
	if (r->status != 304 && r->status != 204)
		conn_printf(c, "Content-Type: %s\r\nContent-Length: %zu\r\n",
		    r->content_type, r->body.len);
	if (r->no_store)
		conn_puts(c, "Cache-Control: no-store\r\n");
	if (r->extra[0] != '\0')
		conn_puts(c, r->extra);
	if (close)
		conn_puts(c, "Connection: close\r\n");
	conn_puts(c, "\r\n");
	if (!r->head_only && r->status != 304 && r->status != 204 &&
	    r->body.len > 0)
		conn_write(c, r->body.data, r->body.len);
	return conn_flush(c);
}

/* http_read_head: collect lines up to the empty one. 0 ok, -1 EOF or
 * error (close quietly), or an HTTP status to answer with. */
static int
http_read_head(struct conn *c, struct buf *head, int first)
{
	uint64_t start = time_mono_ms();
	struct buf line;
	int rc = 0;

	buf_init(&line, HTTP_HEAD_MAX);
	buf_reset(head);
	conn_set_timeout(c, first ? 10000 : HTTP_IDLE_MS);
	for (;;) {
		enum conn_rc cr = conn_readline(c, &line, HTTP_HEAD_MAX);

		conn_set_timeout(c, 10000);
		if (cr == CONN_TOOLONG) {
			rc = 431;
			break;
		}
		if (cr != CONN_LINE) {
			rc = head->len > 0 && cr == CONN_TIMEOUT ? 408 : -1;
			break;
		}
		if (head->len == 0 && (line.len == 1 || (line.len == 2 &&
		    line.data[0] == '\r')))
			continue;	/* RFC 9112 2.2: skip leading CRLF */
		if (buf_append(head, line.data, line.len) < 0) {
			rc = 431;
			break;
		}
		if (line.len == 1 || (line.len == 2 && line.data[0] == '\r'))
			break;
		if (time_mono_ms() - start > HTTP_HEAD_SECS * 1000) {
			rc = 408;
			break;
		}
	}
	buf_free(&line);
	return rc;
}

void
http_session_run(struct conn *c, const struct session_info *si, void *arg)
{
	struct http_ctx x;
	struct buf head, body;
	const char *err = NULL;
	int nreq;

	x.srv = arg;
	x.c = c;
	x.ip = conn_peer_ip(c);
	x.sid = (unsigned long long)log_session_id();
	if (si->over_limit) {
		conn_free(&c);
		return;
	}
	conn_set_timeout(c, 10000);
	if (conn_starttls(c, x.srv->tls, &err) < 0) {
		log_info("%016llx http tls-failed address=%s reason=\"%s\"",
		    x.sid, x.ip, err);
		conn_free(&c);
		return;
	}
	buf_init(&head, HTTP_HEAD_MAX);
	buf_init(&body, HTTP_BODY_MAX);
	for (nreq = 0; nreq < HTTP_MAX_REQUESTS; nreq++) {
		struct http_req req;
		struct http_resp resp;
		const char *why = NULL;
		int rc;
		bool close;

		rc = http_read_head(c, &head, nreq == 0);
		if (rc < 0)
			break;
		http_resp_init(&resp);
		if (rc == 0)
			rc = http_parse_head(head.data, head.len, &req, &why);
		else
			why = rc == 408 ? "request head too slow" :
			    "request head too large";
		if (rc != 0) {
			log_info("%016llx http bad-request address=%s "
			    "status=%d reason=\"%s\"", x.sid, x.ip, rc, why);
			http_resp_error(&resp, rc, why);
			http_send(c, &resp, true);
			http_resp_free(&resp);
			break;
		}
		close = req.close || nreq + 1 == HTTP_MAX_REQUESTS;
		buf_reset(&body);
		if (req.has_length && req.content_length > HTTP_BODY_MAX) {
			/* read a moderately large body first, so the client
			 * (still sending) can see the 413 instead of a reset */
			if (req.content_length <= HTTP_DRAIN_MAX) {
				char sink[4096];
				uint64_t left = req.content_length;

				while (left > 0) {
					ssize_t n = conn_read(c, sink, left <
					    sizeof(sink) ? left : sizeof(sink));

					if (n <= 0)
						break;
					left -= (uint64_t)n;
				}
			}
			http_resp_error(&resp, 413, "request body too large");
			http_send(c, &resp, true);
			http_resp_free(&resp);
			break;
		}
		if (req.has_length && req.content_length > 0) {
			if (buf_reserve(&body, req.content_length) < 0 ||
			    conn_read_full(c, body.data,
			    req.content_length) < 0) {
				http_resp_free(&resp);
				break;
			}
			body.len = req.content_length;
			body.data[body.len] = '\0';
		}
		if (strncmp(req.path, "/api/", 5) == 0) {
			http_api(&x, &req, body.data != NULL ? body.data : "",
			    body.len, &resp);
		} else {
			http_static(&x, &req, &resp);
		}
		log_debug("%016llx http request address=%s method=%s "
		    "status=%d", x.sid, x.ip, req.method, resp.status);
		rc = http_send(c, &resp, close);
		http_resp_free(&resp);
		if (rc < 0 || close)
			break;
	}
	buf_free(&head);
	buf_free(&body);
	conn_free(&c);
}
