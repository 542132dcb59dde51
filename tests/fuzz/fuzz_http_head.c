/*
 * fuzz_http_head - the admin HTTP request head parser (http_parse_head) on
 * arbitrary bytes, then http_cookie_get on whatever Cookie it kept. Checks
 * the parser's promises: only the documented statuses, a reason with
 * every refusal, and on success NUL-terminated fields inside their slots,
 * an absolute path without NUL, HTTP/1.x and Host for 1.1.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TERMINATED(f)	(memchr((f), '\0', sizeof(f)) != NULL)

static void
check_ok(const struct http_req *r, size_t size)
{
	char val[64];
	static const char *const names[] = { "facteur_session", "a", "",
	    "x=y" };
	size_t i;

	if (!TERMINATED(r->method) || !TERMINATED(r->path) ||
	    !TERMINATED(r->query) || !TERMINATED(r->host) ||
	    !TERMINATED(r->cookie) || !TERMINATED(r->content_type) ||
	    !TERMINATED(r->if_none_match) || !TERMINATED(r->origin) ||
	    !TERMINATED(r->csrf))
		abort();
	if (r->method[0] == '\0' || r->path[0] != '/')
		abort();
	if (r->minor < 0 || r->minor > 9)
		abort();
	if (r->minor >= 1 && r->host[0] == '\0')
		abort();
	/* nothing kept can be longer than the input */
	if (strlen(r->path) > size || strlen(r->cookie) > size)
		abort();
	if (!r->has_length && r->content_length != 0)
		abort();
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		memset(val, 'Z', sizeof(val));
		if (http_cookie_get(r, names[i], val, sizeof(val)) == 1) {
			if (memchr(val, '\0', sizeof(val)) == NULL)
				abort();
			if (strlen(val) > strlen(r->cookie))
				abort();
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_req r;
	const char *why = NULL;
	char *copy;
	int rc;

	/* an exact-size heap copy, so any read past len is caught */
	copy = malloc(size > 0 ? size : 1);
	if (copy == NULL)
		return 0;
	if (size > 0)
		memcpy(copy, data, size);
	rc = http_parse_head(copy, size, &r, &why);
	switch (rc) {
	case 0:
		check_ok(&r, size);
		break;
	case 400:
	case 414:
	case 431:
	case 501:
	case 505:
		if (why == NULL || why[0] == '\0')
			abort();
		break;
	default:
		abort();
	}
	free(copy);
	return 0;
}
