/*
 * fuzz_addr - addr_parse_path (MAIL FROM / RCPT TO paths) and the
 * RFC 5322 address-list parser behind ENVELOPE. The first byte picks
 * the flags. Invariants checked: results are NUL-terminated and within
 * their limits, a parsed path re-parses to the same address, and the
 * address list callback only sees sane strings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "mail/addr.h"
#include "mail/addrlist.h"
#include "mail/imapfmt.h"

static int
fuzz_cb(void *ctx, const struct addrlist_addr *a)
{
	size_t n = *(size_t *)ctx;

	if (a->mailbox != NULL && a->mailbox_len > 2 * n + 64)
		abort();
	if (a->kind == ADDRLIST_GROUP_END && a->mailbox != NULL)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct addr_path p, q;
	struct buf b;
	const char *why = NULL;
	size_t end = 0, end2;
	bool null_ok, utf8_ok;
	char l[ADDR_LOCAL_MAX * 2 + 3], d[ADDR_DOMAIN_MAX + 1];
	char re[sizeof(p.addr) + 2];

	if (size < 1)
		return 0;
	null_ok = (data[0] & 1) != 0;
	utf8_ok = (data[0] & 2) != 0;
	data++;
	size--;
	if (addr_parse_path((const char *)data, size, null_ok, utf8_ok, &p,
	    &end, &why) == 0) {
		if (end > size || end > ADDR_PATH_MAX)
			abort();
		if (strlen(p.local) > ADDR_LOCAL_MAX * 2 ||
		    strlen(p.domain) > ADDR_DOMAIN_MAX)
			abort();
		if (p.utf8 && !utf8_ok)
			abort();
		if (!p.null) {
			/* the normalised form parses to itself */
			size_t n = strlen(p.addr);

			re[0] = '<';
			memcpy(re + 1, p.addr, n);
			re[n + 1] = '>';
			if (addr_parse_path(re, n + 2, false, true, &q, &end2,
			    &why) != 0 || strcmp(q.addr, p.addr) != 0 ||
			    strcmp(q.local, p.local) != 0)
				abort();
			if (p.domain[0] != '\0' && addr_split(p.addr, l,
			    sizeof(l), d, sizeof(d)) != 0)
				abort();
			(void)addr_local_is_safe(p.local);
		}
	} else if (why == NULL)
		abort();
	(void)addrlist_parse((const char *)data, size, fuzz_cb, &size);
	buf_init(&b, 1024 * 1024);
	(void)imapfmt_addresses(&b, (const char *)data, size);
	buf_free(&b);
	return 0;
}
