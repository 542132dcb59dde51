/*
 * fuzz_dirnames - the directory's name checks (src/directory/names.c) and
 * the SQL file splitter (schema.c) on arbitrary bytes: addresses from SMTP sessions reach dir_norm_lookup and
 * the management checks reach whatever an admin page user types. Every
 * accepted name must be NUL-terminated, fit the buffer, be lower-case
 * ASCII where it was upper-case, and stay within ISPmail's limits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "directory/dir.h"
#include "directory/dir_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_check(const char *out, size_t cap, size_t maxchars)
{
	size_t len = strnlen(out, cap), i;

	if (len >= cap)
		abort();
	if (dir_utf8_chars(out) > maxchars)
		abort();
	for (i = 0; i < len; i++)
		if ((unsigned char)out[i] < 0x20)
			abort();
}

/* the SQL file splitter: statements are never empty nor larger than
 * their buffer, and the position only moves forward */
static void
fuzz_sql(const char *text, size_t len)
{
	struct buf stmt;
	unsigned lineno = 0, first;
	size_t pos = 0, last = 0;
	int rc;

	buf_init(&stmt, 256);
	for (;;) {
		rc = dir_sql_next(text, len, &pos, &lineno, &stmt, &first);
		if (rc <= 0)
			break;
		if (stmt.len == 0 || stmt.len > 256 || first == 0 ||
		    first > lineno || pos < last || pos > len)
			abort();
		last = pos;
	}
	buf_free(&stmt);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char in[1024], out[DIR_ADDR_MAX + 1], small[16];
	const char *why;
	size_t i;

	if (size >= sizeof(in))
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	(void)dir_utf8_chars(in);
	why = NULL;
	if (dir_norm_domain(in, out, sizeof(out), &why) == 0) {
		fuzz_check(out, sizeof(out), 50);
		for (i = 0; out[i] != '\0'; i++)
			if (out[i] >= 'A' && out[i] <= 'Z')
				abort();
	} else if (why == NULL) {
		abort();
	}
	why = NULL;
	if (dir_norm_email(in, out, sizeof(out), &why) == 0) {
		fuzz_check(out, sizeof(out), 100);
		if (strchr(out, '@') == NULL || strchr(out, '/') != NULL)
			abort();
	} else if (why == NULL) {
		abort();
	}
	if (dir_norm_dest(in, out, sizeof(out), &why) == 0) {
		fuzz_check(out, sizeof(out), 100);
		if (strchr(out, ',') != NULL)
			abort();
	}
	if (dir_norm_lookup(in, out, sizeof(out)) == 0)
		(void)dir_domain_of(out);
	(void)dir_norm_email(in, small, sizeof(small), &why);
	(void)dir_norm_domain(in, small, sizeof(small), &why);
	(void)dir_norm_dest(in, small, sizeof(small), &why);
	(void)db_quote_ident(in, small, sizeof(small));
	fuzz_sql((const char *)data, size);
	return 0;
}
