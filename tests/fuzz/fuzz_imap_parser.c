/*
 * fuzz_imap_parser - the IMAP command parser fed in chunks whose sizes
 * come from the input, every literal accepted (up to a cap) or rejected;
 * each complete command is also run through the SEARCH, FETCH and
 * sequence-set parsers and the search evaluator on a small message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap/fetch.h"
#include "imap/parser.h"
#include "imap/search.h"
#include "imap/seqset.h"

static const char fmsg[] =
    "From: a@b.c\nSubject: =?utf-8?q?x=C3=A9?=\nDate: 1 Jan 2020 00:00 +0000\n"
    "Content-Type: multipart/mixed; boundary=q\n\n--q\n"
    "Content-Type: text/plain; charset=iso-8859-1\n"
    "Content-Transfer-Encoding: quoted-printable\n\nab=E9c\n--q--\n";

static void
use_command(struct imap_parser *p)
{
	const struct imap_arg *a;
	struct search_key *k;
	struct search_msg m;
	struct fetch_spec fs;
	struct seqset set;
	const char *why;
	size_t n;
	int skip;

	a = imap_parser_args(p, &n);
	if (strcmp(imap_parser_name(p), "SEARCH") == 0) {
		skip = search_charset(a, n);
		if (skip < 0 || (size_t)skip >= n)
			return;	/* as cmd_search.c: no program */
		k = search_parse(a + skip, n - (size_t)skip, &why);
		if (k == NULL)
			return;
		search_prepare(k, 3, 30, NULL, NULL);
		memset(&m, 0, sizeof(m));
		m.seq = 2;
		m.uid = 20;
		m.data = fmsg;
		m.len = sizeof(fmsg) - 1;
		(void)search_match(k, &m);
		search_free(&k);
	} else if (strcmp(imap_parser_name(p), "FETCH") == 0 && n >= 2) {
		if (fetch_parse(&a[1], true, &fs, &why) == 0)
			fetch_spec_free(&fs);
		if (a[0].type == IMAP_ARG_ATOM &&
		    seqset_parse(a[0].str, &set) == 0) {
			seqset_resolve(&set, 7);
			(void)seqset_contains(&set, 5);
			seqset_free(&set);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_parser_limits lim = { 4096, 16, 500 };
	struct imap_parser *p;
	enum imap_parse_rc rc;
	size_t off = 0, used, step;
	unsigned seed;

	if (size < 1)
		return 0;
	seed = data[0];
	data++;
	size--;
	p = imap_parser_new(&lim);
	while (off < size) {
		step = (seed % 7) + 1;
		seed = seed * 1103515245u + 12345u;
		if (step > size - off)
			step = size - off;
		rc = imap_parser_feed(p, (const char *)data + off, step, &used);
		off += used;
		switch (rc) {
		case IMAP_PARSE_NEED_MORE:
			break;
		case IMAP_PARSE_LITERAL:
			if ((seed & 48) == 16) {
				/* the caller reads the bytes itself (APPEND
				 * streaming): skip them here */
				uint64_t n = imap_parser_literal_size(p);

				(void)imap_parser_partial_args(p, &used);
				imap_parser_literal_streamed(p);
				off += n < size - off ? (size_t)n : size - off;
			} else if (imap_parser_literal_size(p) <= 8192 &&
			    (seed & 8) == 0)
				imap_parser_literal_accept(p);
			else
				imap_parser_literal_reject(p);
			break;
		case IMAP_PARSE_DONE:
			use_command(p);
			imap_parser_reset(p);
			break;
		case IMAP_PARSE_ERROR:
			(void)imap_parser_error(p);
			imap_parser_reset(p);
			break;
		}
	}
	imap_parser_free(&p);
	return 0;
}
