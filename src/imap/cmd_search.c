/*
 * cmd_search - SEARCH and UID SEARCH (RFC 3501 6.4.4): the program is
 * parsed by search.c, resolved against the view, and run on every
 * message; message bytes are mapped only when a key needs them.
 */
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "imap/imap_int.h"
#include "imap/search.h"
#include "net/conn.h"

static int
kw_lookup(void *ctx, const char *name, unsigned *idx_r)
{
	struct mbox *mb = ctx;
	enum ferr e;

	return mbox_keyword_index(mb, name, false, idx_r, &e);
}

int
imap_cmd_search(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	struct search_key *prog;
	struct search_msg m;
	struct imap_msgmap map;
	const char *why;
	uint32_t i, count = mbox_count(s->mb);
	unsigned needs;
	bool text;
	int skip;
	enum ferr e;
	uint64_t vsize;

	skip = search_charset(args, nargs);
	if (skip < 0)
		return imap_tagged(s, "NO", "[BADCHARSET (UTF-8 US-ASCII)] "
		    "Unsupported charset");
	if (skip >= 0 && (size_t)skip >= nargs)
		return imap_bad(s, "Missing search program");
	prog = search_parse(args + skip, nargs - (size_t)skip, &why);
	if (prog == NULL)
		return imap_bad(s, why);
	search_prepare(prog, count, count > 0 ?
	    mbox_msg_uid(s->mb, count - 1) : 0, kw_lookup, s->mb);
	needs = search_needs(prog);
	text = (needs & SEARCH_NEED_TEXT) != 0;
	imap_printf(s, "* SEARCH");
	for (i = 0; i < count; i++) {
		if (mbox_msg_expunged(s->mb, i))
			continue;
		memset(&m, 0, sizeof(m));
		m.seq = i + 1;
		m.uid = mbox_msg_uid(s->mb, i);
		m.flags = mbox_msg_flags(s->mb, i);
		m.keywords = mbox_msg_keywords(s->mb, i);
		if ((needs & SEARCH_NEED_SIZE) &&
		    mbox_msg_vsize(s->mb, i, &vsize) == FERR_NONE)
			m.size = vsize;
		if (needs & SEARCH_NEED_DATE)
			(void)mbox_msg_internaldate(s->mb, i, &m.internaldate);
		memset(&map, 0, sizeof(map));
		if (text) {
			e = imap_msg_map(s->mb, i, &map);
			if (e != FERR_NONE)
				continue;
			m.data = map.data;
			m.len = map.len;
		}
		if (search_match(prog, &m))
			imap_printf(s, " %u", s->uid ? m.uid : m.seq);
		if (text)
			imap_msg_unmap(&map);
	}
	imap_printf(s, "\r\n");
	search_free(&prog);
	if (imap_sync(s, s->uid) < 0)
		return -1;
	imap_tagged(s, "OK", "Search completed.");
	return 0;
}
