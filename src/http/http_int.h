/*
 * http_int - shared by the files of src/http/.
 */
#ifndef HTTP_INT_H
#define HTTP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "core/buf.h"
#include "http/http.h"
#include "http/parse.h"

#define HTTP_BODY_MAX	(64 * 1024)

/* A response being built by a handler. */
struct http_resp {
	int		 status;
	const char	*content_type;
	struct buf	 body;
	char		 extra[1024];	/* extra header lines, CRLF-ended */
	bool		 no_store;	/* Cache-Control: no-store */
	bool		 head_only;	/* HEAD: headers, no body */
};

struct http_ctx {
	struct http_server	*srv;
	struct conn		*c;
	const char		*ip;
	unsigned long long	 sid;
};

const char *http_reason(int status);
void http_resp_init(struct http_resp *r);
void http_resp_free(struct http_resp *r);
/* http_resp_error: a JSON {"error": text} reply with status. */
void http_resp_error(struct http_resp *r, int status, const char *text);
void http_resp_header(struct http_resp *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* static.c: serve GET/HEAD of a file under web_root. */
void http_static(struct http_ctx *x, const struct http_req *req,
    struct http_resp *r);
/* api.c: everything under /api/. */
void http_api(struct http_ctx *x, const struct http_req *req,
    const char *body, size_t bodylen, struct http_resp *r);

/* websess.c: server-side login sessions. */
#define WEBSESS_TOKEN_LEN 64	/* hex chars of 256 random bits */
struct websess {
	char	token[WEBSESS_TOKEN_LEN + 1];
	char	csrf[33];
	char	name[321];	/* admin name or mailbox address */
	bool	admin;		/* false: mailbox user (own password only) */
	time_t	created;
	time_t	last;
};
/* websess_new: create; fills s. 0 or -1 (table full of live sessions). */
int websess_new(const char *name, bool admin, struct websess *s_r);
/* websess_get: look up a live session by token, refreshing it. 1/0. */
int websess_get(const char *token, struct websess *s_r);
void websess_del(const char *token);
/* websess_del_name: revoke every session of name (password changed). */
void websess_del_name(const char *name);
/* websess_del_name_except: the same, but keep the session keep_token. */
void websess_del_name_except(const char *name, const char *keep_token);

#endif
