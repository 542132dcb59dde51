/*
 * http - the admin page: HTTPS on admin_listen, static files from
 * web_root and a JSON API under /api/ (api.c).
 */
#ifndef HTTP_HTTP_H
#define HTTP_HTTP_H

#include "net/server.h"

struct conf;
struct dir;
struct tls_ctx;

struct http_server {
	const struct conf *conf;
	struct dir	*dir;
	struct tls_ctx	*tls;
};

void http_session_run(struct conn *c, const struct session_info *si,
    void *arg);

#endif
