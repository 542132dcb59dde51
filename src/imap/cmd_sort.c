/*
 * cmd_sort - SORT and THREAD (RFC 5256), UID variants, and SORT's RETURN
 * options (ESORT, RFC 5267). The SEARCH program selects messages (see
 * cmd_search.c); each selected message's header is then read once through
 * the message-file mapping and reduced to its keys (bounded: subjects and
 * addresses to SORT_KEY_MAX bytes, THREAD_REFS_MAX references), and the
 * keys are sorted, O(n log n).
 */
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "core/xmalloc.h"
#include "imap/imap_int.h"
#include "imap/search.h"
#include "imap/sortkey.h"
#include "imap/thread.h"
#include "mail/hdr.h"
#include "mail/imapfmt.h"

#define SORT_KEY_MAX	1024
#define SORT_REFS_BYTES	4096	/* References bytes kept per message */

struct skey {
	uint32_t	 idx;		/* view index */
	uint32_t	 seq;
	uint32_t	 id;		/* seq or UID as written */
	uint64_t	 size;
	time_t		 arrival;
	time_t		 date;
	char		*subj;
	size_t		 subjlen;
	bool		 reply;
	char		*addr[3];	/* from, to, cc */
	size_t		 addrlen[3];
	char		*msgid;
	char		**refs;
	size_t		 nrefs;
};

#define NEED_SUBJ	0x01
#define NEED_DATE	0x02
#define NEED_ADDR	0x04
#define NEED_IDS	0x08
#define NEED_SIZE	0x10
#define NEED_ARRIVAL	0x20

static char *
key_dup(struct buf *b, size_t *len_r)
{
	size_t n = b->len > SORT_KEY_MAX ? SORT_KEY_MAX : b->len;
	char *p = xmalloc(n + 1);

	if (n > 0)
		memcpy(p, b->data, n);
	p[n] = '\0';
	*len_r = n;
	return p;
}

/* load: the keys of one message. */
static void
load(struct imap_session *s, struct skey *k, unsigned need)
{
	static const char *const addrhdr[3] = { "From", "To", "Cc" };
	struct imap_msgmap map;
	struct hdr_iter it;
	struct hdr_field f;
	struct buf b;
	bool date = false, have_refs = false, subj = false;
	bool addr[3] = { false, false, false };
	char **irt = NULL;
	size_t nirt = 0, i;
	uint64_t v;

	k->seq = k->idx + 1;
	k->id = s->uid ? mbox_msg_uid(s->mb, k->idx) : k->seq;
	if ((need & NEED_SIZE) && mbox_msg_vsize(s->mb, k->idx, &v) ==
	    FERR_NONE)
		k->size = v;
	if (need & (NEED_ARRIVAL | NEED_DATE))
		(void)mbox_msg_internaldate(s->mb, k->idx, &k->arrival);
	k->date = k->arrival;
	if ((need & (NEED_SUBJ | NEED_DATE | NEED_ADDR | NEED_IDS)) == 0)
		goto fill;
	if (imap_msg_map(s->mb, k->idx, &map) != FERR_NONE)
		goto fill;
	buf_init(&b, HDR_MAX_SIZE);
	hdr_iter_init(&it, map.data, map.len);
	while (hdr_iter_next(&it, &f) == 1) {
		if ((need & NEED_SUBJ) && !subj && hdr_name_is(&f, "Subject")) {
			subj = true;
			buf_reset(&b);
			if (sort_base_subject(f.value, f.value_len, &b,
			    &k->reply) == 0)
				k->subj = key_dup(&b, &k->subjlen);
		} else if ((need & NEED_DATE) && !date &&
		    hdr_name_is(&f, "Date")) {
			date = true;
			if (sort_sent_date(f.value, f.value_len, &k->date) < 0)
				k->date = k->arrival;
		} else if ((need & NEED_IDS) && k->msgid == NULL &&
		    hdr_name_is(&f, "Message-ID")) {
			char **ids = NULL;
			size_t nids = 0;

			thread_ids_parse(f.value, f.value_len, &ids, &nids, 1);
			if (nids > 0) {
				k->msgid = ids[0];
				free(ids);
			} else
				thread_ids_free(ids, nids);
		} else if ((need & NEED_IDS) && !have_refs &&
		    hdr_name_is(&f, "References")) {
			have_refs = true;
			thread_ids_parse(f.value, f.value_len, &k->refs,
			    &k->nrefs, THREAD_REFS_MAX);
		} else if ((need & NEED_IDS) && nirt == 0 &&
		    hdr_name_is(&f, "In-Reply-To")) {
			thread_ids_parse(f.value, f.value_len, &irt, &nirt, 0);
		} else if (need & NEED_ADDR) {
			for (i = 0; i < 3; i++) {
				if (addr[i] || !hdr_name_is(&f, addrhdr[i]))
					continue;
				addr[i] = true;
				buf_reset(&b);
				if (sort_addr_key(f.value, f.value_len,
				    &b) == 0)
					k->addr[i] = key_dup(&b,
					    &k->addrlen[i]);
			}
		}
	}
	buf_free(&b);
	imap_msg_unmap(&map);
	/* no References: the first msg-id of In-Reply-To */
	if (k->nrefs == 0 && nirt > 0) {
		k->refs = xmalloc(sizeof(*k->refs));
		k->refs[0] = irt[0];
		k->nrefs = 1;
		irt[0] = NULL;
	}
	thread_ids_free(irt, nirt);
	/* bounded memory: only the last SORT_REFS_BYTES of references */
	{
		size_t tot = 0, keep = k->nrefs;

		while (keep > 0 && tot + strlen(k->refs[keep - 1]) <=
		    SORT_REFS_BYTES)
			tot += strlen(k->refs[--keep]);
		if (keep > 0) {
			for (i = 0; i < keep; i++)
				free(k->refs[i]);
			memmove(k->refs, k->refs + keep,
			    (k->nrefs - keep) * sizeof(*k->refs));
			k->nrefs -= keep;
		}
	}
fill:
	if (k->subj == NULL)
		k->subj = xstrdup("");
	for (i = 0; i < 3; i++)
		if (k->addr[i] == NULL)
			k->addr[i] = xstrdup("");
}

static void
keys_free(struct skey *k, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		free(k[i].subj);
		for (j = 0; j < 3; j++)
			free(k[i].addr[j]);
		free(k[i].msgid);
		thread_ids_free(k[i].refs, k[i].nrefs);
	}
	free(k);
}

/* keys: run the search program (after the criteria/charset) and load the
 * matches' keys; NULL after a tagged reply. */
static struct skey *
keys(struct imap_session *s, const struct imap_arg *args, size_t nargs,
    unsigned need, size_t *n_r)
{
	struct search_key *prog;
	struct skey *k;
	uint32_t *res;
	size_t i, n;

	if (nargs < 1 || !imap_arg_is_string(&args[0]))
		return imap_bad(s, "Charset expected"), NULL;
	if (!str_ieq(args[0].str, "UTF-8") && !str_ieq(args[0].str,
	    "US-ASCII")) {
		imap_tagged(s, "NO", "[BADCHARSET (UTF-8 US-ASCII)] "
		    "Unsupported charset");
		return NULL;
	}
	if (nargs < 2)
		return imap_bad(s, "Missing search program"), NULL;
	prog = imap_search_prog(s, args + 1, nargs - 1);
	if (prog == NULL)
		return NULL;
	res = imap_search_run(s, prog, &n);
	search_free(&prog);
	k = xcalloc(n + 1, sizeof(*k));
	for (i = 0; i < n; i++) {
		k[i].idx = res[i];
		load(s, &k[i], need);
	}
	free(res);
	*n_r = n;
	return k;
}

static int
cmp_keys(const void *a, const void *b, void *ctx)
{
	const struct sort_program *p = ctx;
	const struct skey *x = a, *y = b;
	size_t i;
	int r = 0, ai;

	for (i = 0; i < p->n && r == 0; i++) {
		switch (p->crit[i]) {
		case SORT_ARRIVAL:
			r = x->arrival < y->arrival ? -1 :
			    x->arrival > y->arrival;
			break;
		case SORT_DATE:
			r = x->date < y->date ? -1 : x->date > y->date;
			break;
		case SORT_SIZE:
			r = x->size < y->size ? -1 : x->size > y->size;
			break;
		case SORT_SUBJECT:
			r = sort_strcmp(x->subj, x->subjlen, y->subj,
			    y->subjlen);
			break;
		case SORT_FROM:
		case SORT_TO:
		case SORT_CC:
			ai = p->crit[i] == SORT_FROM ? 0 :
			    p->crit[i] == SORT_TO ? 1 : 2;
			r = sort_strcmp(x->addr[ai], x->addrlen[ai],
			    y->addr[ai], y->addrlen[ai]);
			break;
		}
		if (p->reverse[i])
			r = -r;
	}
	if (r == 0)
		r = x->seq < y->seq ? -1 : x->seq > y->seq;
	return r;
}

static unsigned
sort_needs(const struct sort_program *p)
{
	unsigned need = 0;
	size_t i;

	for (i = 0; i < p->n; i++) {
		switch (p->crit[i]) {
		case SORT_ARRIVAL:
			need |= NEED_ARRIVAL;
			break;
		case SORT_DATE:
			need |= NEED_DATE;
			break;
		case SORT_SIZE:
			need |= NEED_SIZE;
			break;
		case SORT_SUBJECT:
			need |= NEED_SUBJ;
			break;
		default:
			need |= NEED_ADDR;
			break;
		}
	}
	return need;
}

static int
send_done(struct imap_session *s, struct buf *out, const char *what)
{
	if (buf_puts(out, "\r\n") < 0) {
		buf_free(out);
		return imap_tagged(s, "NO", "Result too large");
	}
	imap_write(s, out->data, out->len);
	buf_free(out);
	if (imap_sync(s, s->uid) < 0)
		return -1;
	imap_tagged(s, "OK", "%s completed.", what);
	return 0;
}

int
imap_cmd_sort(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	struct sort_program p;
	struct skey *k;
	struct buf out;
	const char *why;
	uint32_t *ids;
	size_t n, i;
	unsigned opts = 0;
	bool esort = false;
	int bad = 0;

	if (nargs >= 2 && imap_arg_is_atom_ci(&args[0], "RETURN")) {
		if (esearch_return_parse(&args[1], &opts) < 0)
			return imap_bad(s, "Unsupported RETURN option");
		esort = true;
		args += 2;
		nargs -= 2;
	}
	if (nargs < 1)
		return imap_bad(s, "Sort criteria expected");
	if (sort_program_parse(&args[0], &p, &why) < 0)
		return imap_bad(s, why);
	k = keys(s, args + 1, nargs - 1, sort_needs(&p), &n);
	if (k == NULL)
		return 0;
	qsort_r(k, n, sizeof(*k), cmp_keys, &p);
	ids = xreallocarray(NULL, n + 1, sizeof(*ids));
	for (i = 0; i < n; i++)
		ids[i] = k[i].id;
	keys_free(k, n);
	buf_init(&out, BUF_UNLIMITED);
	if (esort) {
		/* RFC 5267: MIN/MAX are the first/last in sort order, and
		 * ALL is the sorted list as a sequence set */
		if (buf_puts(&out, "* ESEARCH (TAG ") < 0 ||
		    imapfmt_nstring(&out, s->tag, strlen(s->tag)) < 0 ||
		    buf_puts(&out, ")") < 0 ||
		    (s->uid && buf_puts(&out, " UID") < 0))
			bad = -1;
		if (!bad && (opts & ESR_MIN) && n > 0)
			bad = buf_printf(&out, " MIN %u", ids[0]);
		if (!bad && (opts & ESR_MAX) && n > 0)
			bad = buf_printf(&out, " MAX %u", ids[n - 1]);
		if (!bad && (opts & ESR_ALL) && n > 0) {
			bad = buf_puts(&out, " ALL ");
			if (!bad)
				bad = seqset_compress(&out, ids, n);
		}
		if (!bad && (opts & ESR_COUNT))
			bad = buf_printf(&out, " COUNT %zu", n);
	} else {
		bad = buf_puts(&out, "* SORT");
		for (i = 0; i < n && bad == 0; i++)
			bad = buf_printf(&out, " %u", ids[i]);
	}
	free(ids);
	if (bad < 0) {
		buf_free(&out);
		return imap_tagged(s, "NO", "Result too large");
	}
	return send_done(s, &out, "Sort");
}

int
imap_cmd_thread(struct imap_session *s, const struct imap_arg *args,
    size_t nargs)
{
	struct thread_msg *tm;
	struct skey *k;
	struct buf out;
	size_t n, i;
	bool refs;
	int rc;

	if (nargs < 1 || args[0].type != IMAP_ARG_ATOM)
		return imap_bad(s, "Threading algorithm expected");
	if (str_ieq(args[0].str, "REFERENCES"))
		refs = true;
	else if (str_ieq(args[0].str, "ORDEREDSUBJECT"))
		refs = false;
	else
		return imap_bad(s, "Unsupported threading algorithm");
	k = keys(s, args + 1, nargs - 1, NEED_SUBJ | NEED_DATE |
	    (refs ? NEED_IDS : 0), &n);
	if (k == NULL)
		return 0;
	tm = xcalloc(n + 1, sizeof(*tm));
	for (i = 0; i < n; i++) {
		tm[i].id = k[i].id;
		tm[i].seq = k[i].seq;
		tm[i].date = k[i].date;
		tm[i].subj = k[i].subj;
		tm[i].subjlen = k[i].subjlen;
		tm[i].reply = k[i].reply;
		tm[i].msgid = k[i].msgid;
		tm[i].refs = k[i].refs;
		tm[i].nrefs = k[i].nrefs;
	}
	buf_init(&out, BUF_UNLIMITED);
	rc = buf_puts(&out, n > 0 ? "* THREAD " : "* THREAD");
	if (rc == 0)
		rc = refs ? thread_references(tm, n, &out) :
		    thread_orderedsubject(tm, n, &out);
	free(tm);
	keys_free(k, n);
	if (rc < 0) {
		buf_free(&out);
		return imap_tagged(s, "NO", "Result too large");
	}
	return send_done(s, &out, "Thread");
}
