/*
 * json - the small JSON the admin API needs (RFC 8259): request bodies
 * are one flat object whose values are strings, numbers, booleans or null;
 * replies are written with json_str() escaping. Strict: duplicate keys,
 * nesting, trailing garbage, bad escapes, bad UTF-8 are errors.
 */
#ifndef HTTP_JSON_H
#define HTTP_JSON_H

#include <stddef.h>

#include "core/buf.h"

#define JSON_MAX_KEYS	32
#define JSON_KEY_MAX	64
#define JSON_VAL_MAX	4096

struct json_kv {
	char	key[JSON_KEY_MAX];
	char	val[JSON_VAL_MAX];	/* strings decoded to UTF-8; numbers
					 * and true/false/null as written */
	int	is_string;
};

struct json_obj {
	struct json_kv	kv[JSON_MAX_KEYS];
	size_t		n;
};

/* json_parse_object: 0, or -1 with *why_r. */
int json_parse_object(const char *s, size_t n, struct json_obj *o,
    const char **why_r);
/* json_get: the string value of key, or NULL (absent or not a string). */
const char *json_get(const struct json_obj *o, const char *key);
/* json_get_raw: any value's text (numbers, booleans), or NULL. */
const char *json_get_raw(const struct json_obj *o, const char *key);
/* json_str: append s as a JSON string literal (quoted, escaped; bytes
 * that are not valid UTF-8 become U+FFFD). Returns 0/-1 (buffer max). */
int json_str(struct buf *b, const char *s);

#endif
