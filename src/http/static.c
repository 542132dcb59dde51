/*
 * static - files of the admin page from web_root.
 *
 * Only GET and HEAD; "/" is index.html. A path with a "." segment start
 * (.., hidden files), a NUL or a backslash is refused; the resolved path
 * (symlinks followed by realpath) must stay under web_root, and only
 * regular files are served. Strong ETags (mtime and size) answer
 * If-None-Match with 304; Cache-Control: no-cache makes browsers
 * revalidate, so an upgrade shows at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/conf.h"
#include "http/http_int.h"

#define STATIC_MAX (4 * 1024 * 1024)

static const struct {
	const char *ext;
	const char *type;
} static_types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".json", "application/json" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
	{ ".txt", "text/plain; charset=utf-8" },
	{ ".webmanifest", "application/manifest+json" },
};

static const char *
static_type(const char *path)
{
	const char *dot = strrchr(path, '.');
	size_t i;

	if (dot == NULL)
		return "application/octet-stream";
	for (i = 0; i < sizeof(static_types) / sizeof(static_types[0]); i++)
		if (strcmp(dot, static_types[i].ext) == 0)
			return static_types[i].type;
	return "application/octet-stream";
}

static int
static_path_ok(const char *p)
{
	if (p[0] != '/' || strchr(p, '\\') != NULL)
		return 0;
	for (; *p != '\0'; p++) {
		if (p[0] == '/' && p[1] == '.')
			return 0;
		if ((unsigned char)*p < 0x20)
			return 0;
	}
	return 1;
}

void
http_static(struct http_ctx *x, const struct http_req *req,
    struct http_resp *r)
{
	char root[PATH_MAX], want[PATH_MAX * 2], real[PATH_MAX], etag[64];
	const char *path = req->path;
	struct stat st;
	size_t rootlen;
	int fd;

	if (strcmp(req->method, "GET") != 0 &&
	    strcmp(req->method, "HEAD") != 0) {
		http_resp_error(r, 405, "method not allowed");
		http_resp_header(r, "Allow: GET, HEAD");
		return;
	}
	r->head_only = strcmp(req->method, "HEAD") == 0;
	if (strcmp(path, "/") == 0)
		path = "/index.html";
	if (!static_path_ok(path)) {
		http_resp_error(r, 404, "not found");
		return;
	}
	if (realpath(x->srv->conf->web_root, root) == NULL) {
		http_resp_error(r, 404, "not found");
		return;
	}
	snprintf(want, sizeof(want), "%s%s", root, path);
	if (realpath(want, real) == NULL) {
		http_resp_error(r, 404, "not found");
		return;
	}
	rootlen = strlen(root);
	if (strncmp(real, root, rootlen) != 0 || real[rootlen] != '/') {
		http_resp_error(r, 404, "not found");
		return;
	}
	fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > STATIC_MAX) {
		if (fd >= 0)
			close(fd);
		http_resp_error(r, 404, "not found");
		return;
	}
	snprintf(etag, sizeof(etag), "\"%lx-%lx\"", (long)st.st_mtime,
	    (long)st.st_size);
	http_resp_header(r, "ETag: %s", etag);
	http_resp_header(r, "Cache-Control: no-cache");
	r->content_type = static_type(real);
	if (req->if_none_match[0] != '\0' &&
	    strcmp(req->if_none_match, etag) == 0) {
		r->status = 304;
		close(fd);
		return;
	}
	if (buf_reserve(&r->body, (size_t)st.st_size) < 0) {
		close(fd);
		http_resp_error(r, 500, "file too large");
		return;
	}
	{
		size_t got = 0;

		while (got < (size_t)st.st_size) {
			ssize_t n = read(fd, r->body.data + got,
			    (size_t)st.st_size - got);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			got += (size_t)n;
		}
		r->body.len = got;
		r->body.data[got] = '\0';
	}
	close(fd);
	r->status = 200;
}
