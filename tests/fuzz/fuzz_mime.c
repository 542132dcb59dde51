/*
 * fuzz_mime - the whole FETCH pipeline over one message: mime_parse,
 * BODYSTRUCTURE, BODY, ENVELOPE (top level and embedded messages),
 * section lookup, RFC 2047 decoding of every header field and the
 * SEARCH helpers. Invariants: every part's ranges lie inside the
 * message, children nest inside their parent, and the output buffer's
 * ceiling is honoured.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "mail/hdr.h"
#include "mail/imapfmt.h"
#include "mail/mime.h"
#include "mail/msearch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const specs[] = {
	"", "1", "2", "1.2", "2.1", "1.MIME", "2.HEADER", "2.TEXT",
	"1.1.1", "HEADER", "TEXT", "3.2.1.MIME", "1.HEADER.FIELDS (a)"
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *msg = (const char *)data;
	struct mime_tree t;
	struct buf b;
	struct hdr_iter it;
	struct hdr_field f;
	struct msearch s;
	unsigned i;

	mime_tree_init(&t);
	(void)mime_parse(&t, msg, size);
	if (t.nparts < 1 || t.nparts > MIME_MAX_PARTS)
		abort();
	for (i = 0; i < t.nparts; i++) {
		const struct mime_part *p = &t.parts[i];

		if (p->hdr_off + p->hdr_size > size ||
		    p->body_off + p->body_size > size ||
		    p->hdr_off + p->hdr_size > p->body_off ||
		    p->body_bare_lf > p->body_lines ||
		    p->body_lines > p->body_size)
			abort();
		if (p->parent >= 0) {
			const struct mime_part *q = &t.parts[p->parent];

			if (p->hdr_off < q->body_off ||
			    p->body_off + p->body_size >
			    q->body_off + q->body_size)
				abort();
		}
	}
	buf_init(&b, 4 * 1024 * 1024);
	if (imapfmt_body(&b, &t, 0, true) == 0 && b.len > b.max)
		abort();
	buf_reset(&b);
	(void)imapfmt_body(&b, &t, 0, false);
	buf_reset(&b);
	(void)imapfmt_envelope(&b, msg, size);
	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		size_t off, len, lf;
		enum mime_sec kind;
		const char *rest;

		if (mime_section(&t, specs[i], strlen(specs[i]), &off, &len,
		    &lf, &kind, &rest) == 1 && off + len > size)
			abort();
	}
	hdr_iter_init(&it, msg, size);
	while (hdr_iter_next(&it, &f) > 0) {
		buf_reset(&b);
		(void)hdr_decode_2047(f.value, f.value_len, &b);
	}
	buf_free(&b);
	msearch_init(&s, "\xc3\xa9t\xc3\xa9", 5);
	(void)msearch_text(&s, &t);
	msearch_free(&s);
	mime_tree_free(&t);
	return 0;
}
