/*
 * cmd_fetch - FETCH and UID FETCH (RFC 3501 6.4.5, 7.4.2).
 *
 * Message files are mapped read-only (msgmap.c), never copied whole onto
 * the heap; body sections stream from the mapping through the LF -> CRLF
 * conversion, so sizes and <partial> offsets are in CRLF octets as
 * clients count them. Only HEADER.FIELDS results and ENVELOPE /
 * BODYSTRUCTURE text are built in (bounded) buffers. A non-PEEK body
 * fetch sets \Seen (read-write views) and reports the new FLAGS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "imap/fetch.h"
#include "imap/imap_int.h"
#include "mail/hdr.h"
#include "mail/imapfmt.h"
#include "mail/mime.h"
#include "net/conn.h"

#define FETCH_FMT_MAX	(16 * 1024 * 1024)

struct fmsg {
	struct imap_msgmap	 map;
	bool			 mapped;
	struct mime_tree	 tree;
	bool			 parsed;
};

static void
emit_conn(void *ctx, const char *p, size_t n)
{
	struct imap_session *s = ctx;

	conn_write(s->c, p, n);
}

static const struct mime_tree *
tree_of(struct fmsg *fm)
{
	if (!fm->parsed) {
		mime_tree_init(&fm->tree);
		(void)mime_parse(&fm->tree, fm->map.data, fm->map.len);
		fm->parsed = true;
	}
	return &fm->tree;
}

/* Messages at least this big get a CRLF index when fetched in parts. */
#define FETCH_INDEX_MIN		(1024 * 1024)
#define FETCH_INDEX_STEP	(64 * 1024)

/*
 * write_whole_partial: BODY[]<origin.count> of a big message through the
 * session's CRLF index (built on the first chunk, reused for the next
 * ones of the same message).
 */
static void
write_whole_partial(struct imap_session *s, const struct fetch_item *it,
    const char *data, size_t len, uint32_t uid)
{
	uint64_t n;

	if (s->ix_mb != s->mb || s->ix_uid != uid || s->ix.vpos == NULL) {
		fetch_crlf_index_free(&s->ix);
		fetch_crlf_index_build(data, len, FETCH_INDEX_STEP, &s->ix);
		s->ix_mb = s->mb;
		s->ix_uid = uid;
	}
	n = it->origin >= s->ix.total ? 0 : s->ix.total - it->origin;
	if (n > it->count)
		n = it->count;
	imap_printf(s, "{%llu}\r\n", (unsigned long long)n);
	if (n > 0)
		fetch_crlf_copy_indexed(data, len, &s->ix, it->origin, n,
		    emit_conn, s);
}

/* write_literal_crlf: data as a literal in CRLF form with partial. */
static void
write_literal_crlf(struct imap_session *s, const struct fetch_item *it,
    const char *data, size_t len)
{
	uint64_t total, origin = 0, n;

	total = fetch_crlf_size(data, len);
	n = total;
	if (it != NULL && it->partial) {
		origin = it->origin;
		n = origin >= total ? 0 : total - origin;
		if (n > it->count)
			n = it->count;
	}
	imap_printf(s, "{%llu}\r\n", (unsigned long long)n);
	if (n > 0)
		fetch_crlf_copy(data, len, origin, n, emit_conn, s);
}

static bool
field_listed(const struct fetch_item *it, const struct hdr_field *f)
{
	size_t i;

	for (i = 0; i < it->nfields; i++)
		if (hdr_name_is(f, it->fields[i]))
			return true;
	return false;
}

/* write_fields: HEADER.FIELDS(.NOT) of the header block hdr[0..len). */
static void
write_fields(struct imap_session *s, const struct fetch_item *it,
    const char *hdr, size_t len)
{
	struct hdr_iter hi;
	struct hdr_field f;
	struct buf b;
	bool want;

	buf_init(&b, HDR_MAX_SIZE + 2);
	hdr_iter_init(&hi, hdr, len);
	while (hdr_iter_next(&hi, &f) == 1) {
		want = field_listed(it, &f);
		if (it->sec == FS_FIELDS_NOT)
			want = !want;
		if (!want)
			continue;
		if (buf_append(&b, hdr + f.off, f.len) < 0)
			break;
		if (f.len > 0 && hdr[f.off + f.len - 1] != '\n' &&
		    buf_putc(&b, '\n') < 0)
			break;
	}
	if (buf_putc(&b, '\n') < 0)
		b.len = 0;
	write_literal_crlf(s, it, b.data != NULL ? b.data : "", b.len);
	buf_free(&b);
}

/*
 * write_section: the body of a BODY[...] item (after "name "). Returns
 * 0, or -1 when the part does not exist (NIL written).
 */
static void
write_section(struct imap_session *s, struct fmsg *fm,
    const struct fetch_item *it, uint32_t uid)
{
	const char *msg = fm->map.data;
	size_t len = fm->map.len, body, off, plen, lf;
	char spec[FETCH_PART_MAX + 16];
	enum mime_sec kind;
	const char *rest;

	if (it->part[0] == '\0') {
		body = hdr_body_offset(msg, len, NULL);
		switch (it->sec) {
		case FS_ALL:
			if (it->partial && len >= FETCH_INDEX_MIN)
				write_whole_partial(s, it, msg, len, uid);
			else
				write_literal_crlf(s, it, msg, len);
			return;
		case FS_HEADER:
			write_literal_crlf(s, it, msg, body);
			return;
		case FS_FIELDS:
		case FS_FIELDS_NOT:
			write_fields(s, it, msg, body);
			return;
		case FS_TEXT:
			write_literal_crlf(s, it, msg + body, len - body);
			return;
		default:
			imap_printf(s, "NIL");
			return;
		}
	}
	switch (it->sec) {
	case FS_ALL:
		snprintf(spec, sizeof(spec), "%s", it->part);
		break;
	case FS_HEADER:
	case FS_FIELDS:
	case FS_FIELDS_NOT:
		snprintf(spec, sizeof(spec), "%s.HEADER", it->part);
		break;
	case FS_TEXT:
		snprintf(spec, sizeof(spec), "%s.TEXT", it->part);
		break;
	case FS_MIME:
		snprintf(spec, sizeof(spec), "%s.MIME", it->part);
		break;
	}
	if (mime_section(tree_of(fm), spec, strlen(spec), &off, &plen, &lf,
	    &kind, &rest) != 1 || off > len || plen > len - off) {
		imap_printf(s, "NIL");
		return;
	}
	if (it->sec == FS_FIELDS || it->sec == FS_FIELDS_NOT)
		write_fields(s, it, msg + off, plen);
	else
		write_literal_crlf(s, it, msg + off, plen);
}

static void
write_fmt(struct imap_session *s, struct buf *b)
{
	conn_write(s->c, b->data != NULL ? b->data : "NIL",
	    b->data != NULL ? b->len : 3);
}

/*
 * fetch_one: the FETCH response for view index idx. Returns FERR_NONE,
 * or FERR_NOTFOUND when the message has gone (nothing written).
 */
static enum ferr
fetch_one(struct imap_session *s, const struct fetch_spec *spec,
    uint32_t idx)
{
	const struct fetch_item *it;
	struct fmsg fm;
	struct buf b;
	char date[64];
	uint64_t vsize;
	time_t t;
	size_t i, body;
	bool first = true, want_flags = false, seen_set = false;
	unsigned flags;
	enum ferr e;

	memset(&fm, 0, sizeof(fm));
	if (spec->need_data) {
		e = imap_msg_map(s->mb, idx, &fm.map);
		if (e != FERR_NONE)
			return e;
		fm.mapped = true;
	}
	flags = mbox_msg_flags(s->mb, idx);
	if (spec->sets_seen && !mbox_readonly(s->mb) &&
	    (flags & MBOX_F_SEEN) == 0) {
		if (mbox_store(s->mb, idx, MBOX_STORE_ADD, MBOX_F_SEEN, 0) ==
		    FERR_NONE)
			seen_set = true;
	}
	for (i = 0; i < spec->n; i++)
		if (spec->items[i].kind == FI_FLAGS)
			want_flags = true;
	buf_init(&b, FETCH_FMT_MAX);
	imap_printf(s, "* %u FETCH (", idx + 1);
	for (i = 0; i < spec->n; i++) {
		it = &spec->items[i];
		if (!first)
			conn_write(s->c, " ", 1);
		first = false;
		switch (it->kind) {
		case FI_FLAGS:
			imap_printf(s, "FLAGS ");
			imap_write_flags(s, mbox_msg_flags(s->mb, idx),
			    mbox_msg_keywords(s->mb, idx));
			break;
		case FI_UID:
			imap_printf(s, "UID %u", mbox_msg_uid(s->mb, idx));
			break;
		case FI_INTERNALDATE:
			if (mbox_msg_internaldate(s->mb, idx, &t) != FERR_NONE)
				t = 0;
			time_fmt_imap(date, t);
			imap_printf(s, "INTERNALDATE \"%s\"", date);
			break;
		case FI_SIZE:
			if (mbox_msg_vsize(s->mb, idx, &vsize) != FERR_NONE)
				vsize = 0;
			imap_printf(s, "RFC822.SIZE %llu",
			    (unsigned long long)vsize);
			break;
		case FI_ENVELOPE:
			buf_reset(&b);
			imap_printf(s, "ENVELOPE ");
			if (imapfmt_envelope(&b, fm.map.data, fm.map.len) < 0) {
				/* never send a truncated item */
				log_warn("%s imap fetch envelope too large",
				    s->sid);
				imap_printf(s, "NIL");
				break;
			}
			write_fmt(s, &b);
			break;
		case FI_BODY:
		case FI_BODYSTRUCTURE:
			buf_reset(&b);
			imap_printf(s, "%s ", it->kind == FI_BODY ? "BODY" :
			    "BODYSTRUCTURE");
			if (imapfmt_body(&b, tree_of(&fm), 0,
			    it->kind == FI_BODYSTRUCTURE) < 0) {
				log_warn("%s imap fetch bodystructure too "
				    "large", s->sid);
				imap_printf(s, "NIL");
				break;
			}
			write_fmt(s, &b);
			break;
		case FI_SECTION:
			conn_puts(s->c, it->name);
			if (it->partial)
				imap_printf(s, "<%llu>",
				    (unsigned long long)it->origin);
			conn_write(s->c, " ", 1);
			write_section(s, &fm, it, mbox_msg_uid(s->mb, idx));
			break;
		case FI_RFC822:
			imap_printf(s, "RFC822 ");
			write_literal_crlf(s, NULL, fm.map.data, fm.map.len);
			break;
		case FI_RFC822_HEADER:
			body = hdr_body_offset(fm.map.data, fm.map.len, NULL);
			imap_printf(s, "RFC822.HEADER ");
			write_literal_crlf(s, NULL, fm.map.data, body);
			break;
		case FI_RFC822_TEXT:
			body = hdr_body_offset(fm.map.data, fm.map.len, NULL);
			imap_printf(s, "RFC822.TEXT ");
			write_literal_crlf(s, NULL, fm.map.data + body,
			    fm.map.len - body);
			break;
		}
	}
	if (seen_set && !want_flags) {
		imap_printf(s, " FLAGS ");
		imap_write_flags(s, mbox_msg_flags(s->mb, idx),
		    mbox_msg_keywords(s->mb, idx));
	}
	imap_printf(s, ")\r\n");
	buf_free(&b);
	if (fm.parsed)
		mime_tree_free(&fm.tree);
	if (fm.mapped)
		imap_msg_unmap(&fm.map);
	return FERR_NONE;
}

int
imap_cmd_fetch(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	struct fetch_spec spec;
	struct seqset set;
	const char *why;
	uint32_t *idx;
	size_t n, i;
	enum ferr e;
	bool gone = false;

	if (nargs != 2 && !(nargs == 3 && args[2].type == IMAP_ARG_LIST))
		return imap_bad(s, "FETCH needs a set and attributes");
	if (nargs == 3)
		return imap_bad(s, "FETCH modifiers are not supported");
	if (fetch_parse(&args[1], s->uid, &spec, &why) < 0)
		return imap_bad(s, why);
	if (imap_seqset_arg(s, &args[0], s->uid, &set, &why) < 0) {
		fetch_spec_free(&spec);
		return imap_bad(s, why);
	}
	idx = imap_seqset_indexes(s, &set, s->uid, &n);
	seqset_free(&set);
	for (i = 0; i < n; i++) {
		if (mbox_msg_expunged(s->mb, idx[i])) {
			gone = true;
			continue;
		}
		e = fetch_one(s, &spec, idx[i]);
		if (e == FERR_NOTFOUND)
			gone = true;
		else if (e != FERR_NONE)
			log_warn("%s imap fetch uid=%u error=%s", s->sid,
			    mbox_msg_uid(s->mb, idx[i]), ferr_name(e));
	}
	free(idx);
	fetch_spec_free(&spec);
	if (imap_sync(s, s->uid) < 0)
		return -1;
	if (gone)
		return imap_tagged(s, "NO", "[EXPUNGEISSUED] Some of the "
		    "requested messages no longer exist.");
	imap_tagged(s, "OK", "Fetch completed.");
	return 0;
}
