/*
 * fuzz_imap_search - a SEARCH program (first line of the input) evaluated
 * on a message (the rest): exercises header decoding, transfer decoding
 * (base64, quoted-printable), charset conversion and the date parsers
 * that SEARCH runs on untrusted message bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap/parser.h"
#include "imap/search.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_parser_limits lim = { 4096, 16, 200 };
	struct imap_parser *p;
	const struct imap_arg *a;
	struct search_key *k;
	struct search_msg m;
	const uint8_t *nl;
	const char *why;
	size_t n, used, plen;
	int skip;

	nl = memchr(data, '\n', size);
	if (nl == NULL)
		return 0;
	plen = (size_t)(nl - data) + 1;
	p = imap_parser_new(&lim);
	if (imap_parser_feed(p, "t SEARCH ", 9, &used) != IMAP_PARSE_NEED_MORE ||
	    imap_parser_feed(p, (const char *)data, plen, &used) !=
	    IMAP_PARSE_DONE) {
		imap_parser_free(&p);
		return 0;
	}
	a = imap_parser_args(p, &n);
	skip = search_charset(a, n);
	if (skip >= 0 && (size_t)skip < n) {	/* as cmd_search.c */
		k = search_parse(a + skip, n - (size_t)skip, &why);
		if (k != NULL) {
			search_prepare(k, 5, 50, NULL, NULL);
			memset(&m, 0, sizeof(m));
			m.seq = 3;
			m.uid = 30;
			m.size = size - plen;
			m.data = (const char *)data + plen;
			m.len = size - plen;
			(void)search_match(k, &m);
			(void)search_needs_text(k);
			search_free(&k);
		}
	}
	imap_parser_free(&p);
	return 0;
}
