/*
 * parse - HTTP/1.1 request head parser (RFC 9112), pure and bounded:
 * the caller collects the head (request line and header fields, up to the
 * empty line) and hands it over whole; the parser never allocates.
 *
 * Limits: head HTTP_HEAD_MAX bytes, HTTP_HDR_MAX fields, target 2048
 * bytes. Only what the admin page needs is kept: method, path, query,
 * version, Host, Cookie, Content-Length, Content-Type, Connection,
 * If-None-Match, Origin, X-CSRF-Token. Transfer-Encoding is refused (the
 * API takes bodies with Content-Length only), which also rules out
 * request smuggling through CL/TE disagreement.
 */
#ifndef HTTP_PARSE_H
#define HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_HEAD_MAX	16384
#define HTTP_HDR_MAX	64
#define HTTP_TARGET_MAX	2048

struct http_req {
	char	 method[16];
	char	 path[HTTP_TARGET_MAX + 1];	/* percent-decoded, no query */
	char	 query[HTTP_TARGET_MAX + 1];
	int	 minor;				/* HTTP/1.<minor> */
	char	 host[256];
	char	 cookie[2048];
	char	 content_type[128];
	char	 if_none_match[128];
	char	 origin[256];
	char	 csrf[128];
	uint64_t content_length;
	bool	 has_length;
	bool	 close;		/* Connection: close, or HTTP/1.0 without
				 * keep-alive */
};

/*
 * http_parse_head: parse len bytes (request line + fields + CRLF CRLF or
 * LF LF). Returns 0, or the HTTP status to answer with (400 bad syntax,
 * 414 target too long, 431 too many/too large fields, 501 unsupported
 * Transfer-Encoding, 505 version) and *why_r for the log.
 */
int http_parse_head(const char *head, size_t len, struct http_req *r,
    const char **why_r);
/* http_cookie_get: value of cookie name in r->cookie into dst. 1/0. */
int http_cookie_get(const struct http_req *r, const char *name, char *dst,
    size_t dstlen);

#endif
