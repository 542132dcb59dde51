/*
 * fuzz_uidlist - the store's parsers of files and names others write.
 * The first byte picks the parser (mod 6): dovecot-uidlist (with a
 * format/parse round trip that must give the same records), Maildir file
 * names (parse, rebuild, reparse), dovecot-keywords, subscriptions,
 * maildirsize, modified UTF-7 (decode, re-encode, must round trip).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "store/keywords.h"
#include "store/mdname.h"
#include "store/quota.h"
#include "store/subs.h"
#include "store/uidlist.h"
#include "store/utf7.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_uidlist(const char *p, size_t n)
{
	struct uidlist a, b;
	struct buf out;
	const char *why;
	size_t i;

	uidlist_init(&a);
	if (uidlist_parse(&a, p, n, &why) == 0) {
		buf_init(&out, 1 << 24);
		if (uidlist_format(&a, &out) == 0) {
			uidlist_init(&b);
			if (uidlist_parse(&b, out.data, out.len, &why) != 0)
				abort();
			if (b.n != a.n || b.uidvalidity != a.uidvalidity ||
			    b.nextuid != a.nextuid)
				abort();
			for (i = 0; i < a.n; i++) {
				if (a.recs[i].uid != b.recs[i].uid ||
				    strcmp(a.recs[i].name, b.recs[i].name) != 0)
					abort();
			}
			uidlist_free(&b);
		}
		buf_free(&out);
	}
	uidlist_free(&a);
}

static void
fuzz_mdname(const char *p, size_t n)
{
	char name[300], out[400];
	struct mdname a, b;

	if (n >= sizeof(name))
		return;
	memcpy(name, p, n);
	name[n] = '\0';
	if (mdname_parse(name, &a) < 0)
		return;
	if (mdname_with_flags(name, a.keylen, a.flags, a.keywords, a.other,
	    out, sizeof(out)) < 0)
		return;
	if (strlen(out) > MDNAME_MAX)
		return;
	if (mdname_parse(out, &b) < 0 || b.flags != a.flags ||
	    b.keywords != a.keywords || b.keylen != a.keylen ||
	    strlen(a.other) != strlen(b.other))
		abort();
	for (size_t i = 0; a.other[i] != '\0'; i++) {
		if (strchr(b.other, a.other[i]) == NULL)
			abort();
	}
}

static void
fuzz_utf7(const char *p, size_t n)
{
	char u8[2048], u7[4096];
	long a, b;

	a = utf7_to_utf8(p, n, u8, sizeof(u8));
	if (a < 0)
		return;
	b = utf7_from_utf8(u8, (size_t)a, u7, sizeof(u7));
	if (b < 0 || (size_t)b != n || memcmp(u7, p, n) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data + 1;
	size_t n;

	if (size < 1)
		return 0;
	n = size - 1;
	switch (data[0] % 6) {
	case 0:
		fuzz_uidlist(p, n);
		break;
	case 1:
		fuzz_mdname(p, n);
		break;
	case 2: {
		struct keywords kw;

		keywords_init(&kw);
		(void)keywords_parse(&kw, p, n);
		keywords_free(&kw);
		break;
	}
	case 3: {
		char **names;
		size_t cnt;
		int version;

		if (subs_parse(p, n, &names, &cnt, &version) == 0)
			subs_free(&names, cnt);
		break;
	}
	case 4: {
		struct quota_state q;

		(void)quota_parse(p, n, &q);
		break;
	}
	default:
		fuzz_utf7(p, n);
		break;
	}
	return 0;
}
