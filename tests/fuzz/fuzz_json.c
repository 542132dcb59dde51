/*
 * fuzz_json - the admin API's flat JSON object parser and string writer
 * on arbitrary bytes. Checks: a reason with every refusal; on success at
 * most JSON_MAX_KEYS NUL-terminated keys and values, json_get/json_get_raw
 * find each key, and every pair written back with json_str() parses again
 * to the same key and value. The input itself (up to its first NUL) is
 * written with json_str() and must parse back: unchanged when it is ASCII.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "http/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct json_obj o, o2;

static void
roundtrip(const struct json_kv *kv)
{
	struct buf b;
	const char *why = NULL;

	buf_init(&b, 64 * 1024);
	if (buf_putc(&b, '{') < 0 || json_str(&b, kv->key) < 0 ||
	    buf_putc(&b, ':') < 0)
		abort();
	if (kv->is_string) {
		if (json_str(&b, kv->val) < 0)
			abort();
	} else if (buf_puts(&b, kv->val) < 0) {
		abort();
	}
	if (buf_putc(&b, '}') < 0)
		abort();
	if (json_parse_object(b.data, b.len, &o2, &why) < 0)
		abort();
	if (o2.n != 1 || strcmp(o2.kv[0].key, kv->key) != 0 ||
	    strcmp(o2.kv[0].val, kv->val) != 0 ||
	    o2.kv[0].is_string != kv->is_string)
		abort();
	buf_free(&b);
}

static void
write_input(const uint8_t *data, size_t size)
{
	struct buf b;
	const char *why = NULL, *v;
	char *s;
	size_t n, i;
	int ascii = 1;

	s = malloc(size + 1);
	if (s == NULL)
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	n = strlen(s);
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			ascii = 0;
	buf_init(&b, 64 * 1024);
	if (buf_puts(&b, "{\"k\":") < 0 || json_str(&b, s) < 0 ||
	    buf_putc(&b, '}') < 0)
		abort();
	/* invalid bytes become U+FFFD (3 bytes): sure to fit below this */
	if (3 * n < JSON_VAL_MAX - 1) {
		if (json_parse_object(b.data, b.len, &o2, &why) < 0)
			abort();
		v = json_get(&o2, "k");
		if (v == NULL || (ascii && strcmp(v, s) != 0))
			abort();
		/* nothing json_str writes may open an HTML tag */
		if (memchr(b.data, '<', b.len) != NULL)
			abort();
	}
	buf_free(&b);
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why = NULL;
	char *copy;
	size_t i;

	copy = malloc(size > 0 ? size : 1);
	if (copy == NULL)
		return 0;
	if (size > 0)
		memcpy(copy, data, size);
	if (json_parse_object(copy, size, &o, &why) < 0) {
		if (why == NULL || why[0] == '\0')
			abort();
	} else {
		if (o.n > JSON_MAX_KEYS)
			abort();
		for (i = 0; i < o.n; i++) {
			const struct json_kv *kv = &o.kv[i];

			if (memchr(kv->key, '\0', sizeof(kv->key)) == NULL ||
			    memchr(kv->val, '\0', sizeof(kv->val)) == NULL)
				abort();
			if (json_get_raw(&o, kv->key) != kv->val)
				abort();
			if (kv->is_string && json_get(&o, kv->key) != kv->val)
				abort();
			roundtrip(kv);
		}
	}
	free(copy);
	write_input(data, size);
	return 0;
}
