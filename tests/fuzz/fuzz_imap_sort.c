/*
 * fuzz_imap_sort - the SORT/THREAD key extractors on untrusted header
 * values (base subject, sent date, address key, msg-id lists), then both
 * threading algorithms on messages made from the input's lines
 * ("subject<TAB>message-id<TAB>references<TAB>date").
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "imap/sortkey.h"
#include "imap/thread.h"

#define FUZZ_MSGS_MAX	200

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* split: up to 4 tab-separated fields of line [p, eol) */
static void
split(const char *p, const char *eol, const char *f[4], size_t fl[4])
{
	const char *t;
	int i;

	for (i = 0; i < 4; i++) {
		f[i] = p;
		t = memchr(p, '\t', (size_t)(eol - p));
		if (t == NULL || i == 3)
			t = eol;
		fl[i] = (size_t)(t - p);
		p = t < eol ? t + 1 : eol;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *end = s + size, *p, *eol;
	const char *f[4];
	size_t fl[4], n = 0, i, nid = 0;
	struct thread_msg *m;
	struct buf b, *subj;
	char **list = NULL;
	time_t t;

	buf_init(&b, 1 << 20);
	(void)sort_base_subject(s, size, &b, NULL);
	buf_reset(&b);
	(void)sort_addr_key(s, size, &b);
	(void)sort_sent_date(s, size, &t);
	(void)thread_ids_parse(s, size, &list, &nid, 3);
	thread_ids_free(list, nid);

	m = xcalloc(FUZZ_MSGS_MAX, sizeof(*m));
	subj = xcalloc(FUZZ_MSGS_MAX, sizeof(*subj));
	for (p = s; p < end && n < FUZZ_MSGS_MAX; p = eol + 1) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		split(p, eol, f, fl);
		buf_init(&subj[n], 1 << 16);
		if (sort_base_subject(f[0], fl[0], &subj[n], &m[n].reply) < 0)
			buf_reset(&subj[n]);
		m[n].subj = subj[n].len > 0 ? subj[n].data : "";
		m[n].subjlen = subj[n].len;
		m[n].id = m[n].seq = (uint32_t)n + 1;
		list = NULL;
		nid = 0;
		(void)thread_ids_parse(f[1], fl[1], &list, &nid, 1);
		m[n].msgid = nid > 0 ? list[0] : NULL;
		free(list);
		(void)thread_ids_parse(f[2], fl[2], &m[n].refs, &m[n].nrefs,
		    THREAD_REFS_MAX);
		if (sort_sent_date(f[3], fl[3], &m[n].date) < 0)
			m[n].date = (time_t)(fl[3] % 7);
		n++;
		if (eol == end)
			break;
	}
	buf_reset(&b);
	(void)thread_references(m, n, &b);
	buf_reset(&b);
	(void)thread_orderedsubject(m, n, &b);
	for (i = 0; i < n; i++) {
		buf_free(&subj[i]);
		free((char *)m[i].msgid);
		thread_ids_free(m[i].refs, m[i].nrefs);
	}
	free(subj);
	free(m);
	buf_free(&b);
	return 0;
}
