/*
 * cmd_search - SEARCH and UID SEARCH (RFC 3501 6.4.4) with ESEARCH's
 * RETURN options (RFC 4731): the program is parsed by search.c, resolved
 * against the view, and run on every message; message bytes are mapped
 * only when a key needs them. imap_search_prog/imap_search_run are shared
 * with SORT and THREAD.
 */
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "imap/imap_int.h"
#include "imap/search.h"
#include "imap/sortkey.h"
#include "mail/imapfmt.h"
#include "net/conn.h"

static int
kw_lookup(void *ctx, const char *name, unsigned *idx_r)
{
	struct mbox *mb = ctx;
	enum ferr e;

	return mbox_keyword_index(mb, name, false, idx_r, &e);
}

struct search_key *
imap_search_prog(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	struct search_key *prog;
	const char *why;
	uint32_t count = mbox_count(s->mb);
	int skip;

	skip = search_charset(args, nargs);
	if (skip < 0) {
		imap_tagged(s, "NO", "[BADCHARSET (UTF-8 US-ASCII)] "
		    "Unsupported charset");
		return NULL;
	}
	if ((size_t)skip >= nargs) {
		imap_bad(s, "Missing search program");
		return NULL;
	}
	prog = search_parse(args + skip, nargs - (size_t)skip, &why);
	if (prog == NULL) {
		imap_bad(s, why);
		return NULL;
	}
	search_prepare(prog, count, count > 0 ?
	    mbox_msg_uid(s->mb, count - 1) : 0, kw_lookup, s->mb);
	return prog;
}

uint32_t *
imap_search_run(struct imap_session *s, const struct search_key *prog,
    size_t *n_r)
{
	struct search_msg m;
	struct imap_msgmap map;
	uint32_t i, count = mbox_count(s->mb), *res;
	unsigned needs = search_needs(prog);
	bool text = (needs & SEARCH_NEED_TEXT) != 0;
	size_t n = 0;
	uint64_t vsize;

	res = xreallocarray(NULL, count > 0 ? count : 1, sizeof(*res));
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
			if (imap_msg_map(s->mb, i, &map) != FERR_NONE)
				continue;
			m.data = map.data;
			m.len = map.len;
		}
		if (search_match(prog, &m))
			res[n++] = i;
		if (text)
			imap_msg_unmap(&map);
	}
	*n_r = n;
	return res;
}

int
imap_cmd_search(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	struct search_key *prog;
	struct buf out;
	uint32_t *res;
	size_t i, n;
	unsigned opts = 0;
	bool esearch = false;

	if (nargs >= 2 && imap_arg_is_atom_ci(&args[0], "RETURN")) {
		if (esearch_return_parse(&args[1], &opts) < 0)
			return imap_bad(s, "Unsupported RETURN option");
		esearch = true;
		args += 2;
		nargs -= 2;
	}
	prog = imap_search_prog(s, args, nargs);
	if (prog == NULL)
		return 0;
	res = imap_search_run(s, prog, &n);
	search_free(&prog);
	for (i = 0; i < n; i++)
		res[i] = s->uid ? mbox_msg_uid(s->mb, res[i]) : res[i] + 1;
	buf_init(&out, BUF_UNLIMITED);
	if (esearch) {
		if (buf_puts(&out, "* ESEARCH (TAG ") < 0 ||
		    imapfmt_nstring(&out, s->tag, strlen(s->tag)) < 0 ||
		    buf_puts(&out, ")") < 0 ||
		    (s->uid && buf_puts(&out, " UID") < 0) ||
		    esearch_format(&out, opts, res, n) < 0)
			out.len = 0;
	} else {
		if (buf_puts(&out, "* SEARCH") < 0)
			out.len = 0;
		for (i = 0; i < n && out.len > 0; i++)
			if (buf_printf(&out, " %u", res[i]) < 0)
				out.len = 0;
	}
	free(res);
	if (out.len == 0 || buf_puts(&out, "\r\n") < 0) {
		buf_free(&out);
		return imap_tagged(s, "NO", "Search result too large");
	}
	imap_write(s, out.data, out.len);
	buf_free(&out);
	if (imap_sync(s, s->uid) < 0)
		return -1;
	imap_tagged(s, "OK", "Search completed.");
	return 0;
}
