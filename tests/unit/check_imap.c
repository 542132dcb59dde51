/*
 * check_imap - unit tests for the IMAP server's pure parts: the
 * incremental command parser (fed byte by byte), sequence sets, SEARCH
 * parsing and evaluation on synthetic messages, FETCH attribute parsing,
 * CRLF conversion with partial ranges, dates, LIST patterns and response
 * formatting.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "imap/fetch.h"
#include "imap/imap_int.h"
#include "imap/parser.h"
#include "imap/search.h"
#include "imap/seqset.h"
#include "net/conn.h"
#include "testutil.h"

static const struct imap_parser_limits lim_default = { 65536, 100, 10000 };

/*
 * feed_all: feed s to p one byte at a time (or whole when bytewise is
 * false), accepting every literal. Returns the final event.
 */
static enum imap_parse_rc
feed_all(struct imap_parser *p, const char *s, size_t n, bool bytewise)
{
	enum imap_parse_rc rc = IMAP_PARSE_NEED_MORE;
	size_t off = 0, used, step;

	while (off < n) {
		step = bytewise ? 1 : n - off;
		rc = imap_parser_feed(p, s + off, step, &used);
		off += used;
		if (rc == IMAP_PARSE_LITERAL) {
			imap_parser_literal_accept(p);
			continue;
		}
		if (rc != IMAP_PARSE_NEED_MORE)
			return rc;
		if (bytewise)
			ck_assert_uint_eq(used, 1);
	}
	return rc;
}

START_TEST(parser_simple)
{
	for (int bw = 0; bw < 2; bw++) {
		struct imap_parser *p = imap_parser_new(&lim_default);
		const char *cmd = "a1 login \"bob\" {6}\r\nse\"c\0t\r\n";
		const struct imap_arg *a;
		size_t n;

		ck_assert_int_eq(feed_all(p, cmd, 30, bw), IMAP_PARSE_DONE);
		ck_assert_str_eq(imap_parser_tag(p), "a1");
		ck_assert_str_eq(imap_parser_name(p), "LOGIN");
		a = imap_parser_args(p, &n);
		ck_assert_uint_eq(n, 2);
		ck_assert_int_eq(a[0].type, IMAP_ARG_QUOTED);
		ck_assert_str_eq(a[0].str, "bob");
		ck_assert_int_eq(a[1].type, IMAP_ARG_LITERAL);
		ck_assert_uint_eq(a[1].len, 6);
		ck_assert(memcmp(a[1].str, "se\"c\0t", 6) == 0);
		ck_assert(imap_arg_has_nul(&a[1]));
		imap_parser_free(&p);
		ck_assert_ptr_null(p);
	}
}
END_TEST

START_TEST(parser_lists_and_sections)
{
	struct imap_parser *p = imap_parser_new(&lim_default);
	const char *cmd = "t UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS "
	    "(From \"To\")]<0.100> (a (b (c))) NIL)\r\n";
	const struct imap_arg *a;
	size_t n;

	ck_assert_int_eq(feed_all(p, cmd, strlen(cmd), true), IMAP_PARSE_DONE);
	ck_assert_str_eq(imap_parser_name(p), "UID");
	a = imap_parser_args(p, &n);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(a[0].str, "FETCH");
	ck_assert_str_eq(a[1].str, "1:*");
	ck_assert_int_eq(a[2].type, IMAP_ARG_LIST);
	ck_assert_uint_eq(a[2].count, 4);
	ck_assert_str_eq(a[2].list[1].str,
	    "BODY.PEEK[HEADER.FIELDS (From \"To\")]<0.100>");
	ck_assert_int_eq(a[2].list[2].type, IMAP_ARG_LIST);
	ck_assert_uint_eq(a[2].list[2].list[1].list[1].count, 1);
	ck_assert(imap_arg_is_nil(&a[2].list[3]));
	imap_parser_free(&p);
}
END_TEST

START_TEST(parser_literal_plus)
{
	struct imap_parser *p = imap_parser_new(&lim_default);
	const char *cmd = "A003 APPEND saved-messages (\\Seen) {5+}\r\nhello"
	    " {3}\r\nabc\r\n";
	enum imap_parse_rc rc;
	size_t used, off = 0, n, lits = 0;
	const struct imap_arg *a;

	for (;;) {
		rc = imap_parser_feed(p, cmd + off, 1, &used);
		off += used;
		if (rc == IMAP_PARSE_LITERAL) {
			if (lits++ == 0) {
				ck_assert_uint_eq(
				    imap_parser_literal_size(p), 5);
				ck_assert(imap_parser_literal_nonsync(p));
			} else {
				ck_assert_uint_eq(
				    imap_parser_literal_size(p), 3);
				ck_assert(!imap_parser_literal_nonsync(p));
			}
			/* feeding while a literal is pending is an error */
			ck_assert_int_eq(imap_parser_feed(p, "x", 1, &used),
			    IMAP_PARSE_ERROR);
			imap_parser_literal_accept(p);
			continue;
		}
		if (rc != IMAP_PARSE_NEED_MORE)
			break;
	}
	ck_assert_int_eq(rc, IMAP_PARSE_DONE);
	ck_assert_uint_eq(off, strlen(cmd));
	a = imap_parser_args(p, &n);
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(a[2].str, "hello");
	ck_assert_str_eq(a[3].str, "abc");
	imap_parser_free(&p);
}
END_TEST

START_TEST(parser_literal_reject_then_next)
{
	struct imap_parser *p = imap_parser_new(&lim_default);
	const char *s = "a APPEND INBOX {99999999}\r\nb NOOP\r\n";
	size_t used, off = 0;
	enum imap_parse_rc rc;

	rc = imap_parser_feed(p, s, strlen(s), &used);
	ck_assert_int_eq(rc, IMAP_PARSE_LITERAL);
	ck_assert_uint_eq(imap_parser_literal_size(p), 99999999);
	off = used;
	imap_parser_literal_reject(p);
	rc = imap_parser_feed(p, s + off, strlen(s) - off, &used);
	ck_assert_int_eq(rc, IMAP_PARSE_DONE);
	ck_assert_str_eq(imap_parser_tag(p), "b");
	ck_assert_str_eq(imap_parser_name(p), "NOOP");
	imap_parser_free(&p);
}
END_TEST

START_TEST(parser_quoted_escapes)
{
	struct imap_parser *p = imap_parser_new(&lim_default);
	const char *s = "x SELECT \"a\\\"b\\\\c\"\r\n";
	const struct imap_arg *a;
	size_t n;

	ck_assert_int_eq(feed_all(p, s, strlen(s), true), IMAP_PARSE_DONE);
	a = imap_parser_args(p, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(a[0].str, "a\"b\\c");
	imap_parser_free(&p);
}
END_TEST

/* Bad input: each must give ERROR (after consuming through LF), with the
 * tag kept when it was read, and the parser must recover. */
static const struct {
	const char	*in;
	const char	*tag;
} bad_inputs[] = {
	{ "a SELECT \"abc\r\n", "a" },		/* unterminated quote */
	{ "a SELECT \"a\\b\"\r\n", "a" },	/* bad escape */
	{ "a LIST (a (b)\r\n", "a" },		/* missing ) */
	{ "a LIST a)\r\n", "a" },		/* stray ) */
	{ "a FETCH 1 BODY[HEADER\r\n", "a" },	/* missing ] */
	{ "a X {12a}\r\n", "a" },		/* bad literal */
	{ "a X {99999999999999999999}\r\n", "a" },
	{ "a X \x01\r\n", "a" },		/* control char */
	{ "a X \xff\r\n", "a" },		/* 8-bit atom */
	{ "a X a\0b\r\n", "a" },		/* NUL */
	{ "+bad X\r\n", "" },			/* bad tag */
	{ "a\r\n", "a" },			/* no command */
	{ "a X \"q\" \r \n", "a" },		/* CR without LF */
	{ "a X (((((\r\n", "a" },		/* too deep (limit 4) */
};

START_TEST(parser_bad_input)
{
	struct imap_parser_limits lim = { 64, 4, 8 };
	struct imap_parser *p = imap_parser_new(&lim);
	const char *in = bad_inputs[_i].in;
	size_t len = strlen(in), used, off = 0;
	enum imap_parse_rc rc = IMAP_PARSE_NEED_MORE;

	if (_i == 9)
		len = 9;	/* embedded NUL */
	while (off < len) {
		rc = imap_parser_feed(p, in + off, 1, &used);
		off += used;
		if (rc != IMAP_PARSE_NEED_MORE)
			break;
	}
	ck_assert_int_eq(rc, IMAP_PARSE_ERROR);
	ck_assert_uint_eq(off, len);	/* skipped through LF */
	ck_assert_str_eq(imap_parser_tag(p), bad_inputs[_i].tag);
	ck_assert_ptr_nonnull(imap_parser_error(p));
	imap_parser_reset(p);
	ck_assert_int_eq(feed_all(p, "n NOOP\r\n", 8, true), IMAP_PARSE_DONE);
	ck_assert_str_eq(imap_parser_name(p), "NOOP");
	imap_parser_free(&p);
}
END_TEST

START_TEST(parser_limits)
{
	struct imap_parser_limits lim = { 32, 4, 5 };
	struct imap_parser *p = imap_parser_new(&lim);
	char big[200];
	size_t used;

	memset(big, 'a', sizeof(big));
	memcpy(big, "t X ", 4);
	big[198] = '\r';
	big[199] = '\n';
	ck_assert_int_eq(imap_parser_feed(p, big, sizeof(big), &used),
	    IMAP_PARSE_ERROR);
	ck_assert_uint_eq(used, sizeof(big));
	ck_assert_str_eq(imap_parser_error(p), "Line too long");
	imap_parser_reset(p);
	/* too many arguments */
	ck_assert_int_eq(feed_all(p, "t X a b c d e f g\r\n", 19, false),
	    IMAP_PARSE_ERROR);
	imap_parser_reset(p);
	/* empty lines are ignored, bare LF accepted */
	ck_assert_int_eq(feed_all(p, "\r\n\nt NOOP\n", 10, true),
	    IMAP_PARSE_DONE);
	imap_parser_free(&p);
}
END_TEST

START_TEST(seqset_basic)
{
	struct seqset s;
	char out[128];

	ck_assert_int_eq(seqset_parse("1,3:5,9:7,20:*", &s), 0);
	seqset_resolve(&s, 25);
	ck_assert(seqset_contains(&s, 1));
	ck_assert(!seqset_contains(&s, 2));
	ck_assert(seqset_contains(&s, 4));
	ck_assert(seqset_contains(&s, 8));
	ck_assert(!seqset_contains(&s, 10));
	ck_assert(seqset_contains(&s, 25));
	ck_assert(!seqset_contains(&s, 26));
	ck_assert_int_eq(seqset_format(&s, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "1,3:5,7:9,20:25");
	ck_assert_int_eq(seqset_format(&s, out, 5), -1);
	seqset_free(&s);
	/* "*" larger than the mailbox's highest: N:* with N > max */
	ck_assert_int_eq(seqset_parse("100:*", &s), 0);
	seqset_resolve(&s, 50);
	ck_assert(seqset_contains(&s, 50));
	ck_assert(seqset_contains(&s, 100));
	ck_assert(!seqset_contains(&s, 49));
	seqset_free(&s);
	/* the largest nz-number is valid (RFC 3501 9) */
	ck_assert_int_eq(seqset_parse("1:4294967295", &s), 0);
	seqset_resolve(&s, 7);
	ck_assert(seqset_contains(&s, 7));
	ck_assert(seqset_contains(&s, 4294967295u));
	seqset_free(&s);
	/* "n:*" with n above the highest UID still means that UID */
	ck_assert_int_eq(seqset_parse("4294967295:*", &s), 0);
	seqset_resolve(&s, 7);
	ck_assert(seqset_contains(&s, 7));
	ck_assert(!seqset_contains(&s, 6));
	seqset_free(&s);
	/* merging adjacent ranges */
	ck_assert_int_eq(seqset_parse("1:2,3,4:6,6", &s), 0);
	seqset_resolve(&s, 10);
	ck_assert_uint_eq(s.n, 1);
	seqset_free(&s);
}
END_TEST

static const char *const seqset_bad[] = {
	"", "0", "1:0", ",", "1,", "1::2", "a", "1:2:3", "-1", "4294967296",
	"99999999999", "1 2", "*:", ":*", "1,,2",
};

START_TEST(seqset_invalid)
{
	struct seqset s;

	ck_assert_int_eq(seqset_parse(seqset_bad[_i], &s), -1);
	ck_assert_uint_eq(s.n, 0);
}
END_TEST

/* --- search --- */

static const char msg1[] =
    "From: Alice Example <alice@example.org>\n"
    "To: bob@example.org\n"
    "Subject: =?ISO-8859-1?Q?Caf=E9?= meeting\n"
    "Date: Tue, 24 Nov 2026 23:30:00 -0800\n"
    "X-Custom: Blue\n"
    "\n"
    "Hello Bob, bring the STRAWBERRIES.\n";

static const char msg2[] =
    "From: carol@example.net\n"
    "Subject: report\n"
    "Date: 1 Jan 2020 10:00:00 +0000\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/alternative; boundary=b\n"
    "\n"
    "--b\n"
    "Content-Type: text/plain; charset=iso-8859-1\n"
    "Content-Transfer-Encoding: quoted-printable\n"
    "\n"
    "na=EFve text\n"
    "--b\n"
    "Content-Type: text/html\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "PGI+YmFuYW5hPC9iPg==\n"
    "--b--\n";

static int
parse_args(struct imap_parser **pp, const char *line,
    const struct imap_arg **a, size_t *n)
{
	*pp = imap_parser_new(&lim_default);
	if (feed_all(*pp, line, strlen(line), false) != IMAP_PARSE_DONE)
		return -1;
	*a = imap_parser_args(*pp, n);
	return 0;
}

static int
kw_index(void *ctx, const char *name, unsigned *idx_r)
{
	(void)ctx;
	if (strcasecmp(name, "$Work") == 0) {
		*idx_r = 2;
		return 1;
	}
	return 0;
}

static const struct {
	const char	*prog;
	int		 m1;	/* expected for msg1 (seq 1, uid 10) */
	int		 m2;	/* expected for msg2 (seq 2, uid 20) */
} search_cases[] = {
	{ "ALL", 1, 1 },
	{ "SUBJECT \"café\"", 1, 0 },
	{ "SUBJECT \"CAFÉ\"", 1, 0 },
	{ "SUBJECT report", 0, 1 },
	{ "FROM alice", 1, 0 },
	{ "TO bob", 1, 0 },
	{ "HEADER X-Custom blue", 1, 0 },
	{ "HEADER X-Custom \"\"", 1, 0 },
	{ "BODY strawberries", 1, 0 },
	{ "BODY \"NAÏVE\"", 0, 1 },
	{ "BODY banana", 0, 1 },
	{ "TEXT meeting", 1, 0 },
	{ "TEXT banana", 0, 1 },
	{ "SEEN", 1, 0 },
	{ "UNSEEN", 0, 1 },
	{ "NEW", 0, 1 },
	{ "OLD", 1, 0 },
	{ "RECENT", 0, 1 },
	{ "FLAGGED", 0, 1 },
	{ "DELETED", 0, 0 },
	{ "UNDELETED", 1, 1 },
	{ "KEYWORD $Work", 1, 0 },
	{ "UNKEYWORD $Work", 0, 1 },
	{ "KEYWORD $Nope", 0, 0 },
	{ "UNKEYWORD $Nope", 1, 1 },
	{ "LARGER 500", 0, 1 },
	{ "SMALLER 500", 1, 0 },
	{ "1", 1, 0 },
	{ "2:*", 0, 1 },
	{ "*", 0, 1 },
	{ "UID 10", 1, 0 },
	{ "UID 15:*", 0, 1 },
	{ "NOT SEEN", 0, 1 },
	{ "OR SEEN FLAGGED", 1, 1 },
	{ "OR (SEEN SUBJECT report) FLAGGED", 0, 1 },
	{ "(SEEN FROM alice)", 1, 0 },
	{ "SENTON 24-Nov-2026", 1, 0 },
	{ "SENTBEFORE 1-Jan-2021", 0, 1 },
	{ "SENTSINCE 2-Jan-2020", 1, 0 },
	{ "BEFORE 1-Jan-2021", 0, 1 },
	{ "SINCE 1-Jan-2021", 1, 0 },
	{ "ON 10-Feb-2026", 1, 0 },
	{ "NOT NOT ALL", 1, 1 },
	{ "CHARSET UTF-8 SUBJECT meeting", 1, 0 },
};

START_TEST(search_eval)
{
	struct imap_parser *p;
	const struct imap_arg *a;
	struct search_key *k;
	struct search_msg m[2];
	const char *why = NULL;
	char line[512];
	size_t n;
	int skip;

	snprintf(line, sizeof(line), "t SEARCH %s\r\n", search_cases[_i].prog);
	ck_assert_int_eq(parse_args(&p, line, &a, &n), 0);
	skip = search_charset(a, n);
	ck_assert_int_ge(skip, 0);
	k = search_parse(a + skip, n - (size_t)skip, &why);
	ck_assert_msg(k != NULL, "%s: %s", search_cases[_i].prog, why);
	search_prepare(k, 2, 20, kw_index, NULL);
	memset(m, 0, sizeof(m));
	m[0].seq = 1;
	m[0].uid = 10;
	m[0].flags = MBOX_F_SEEN;
	m[0].keywords = 1u << 2;
	m[0].size = 300;
	m[0].internaldate = 1770724800;	/* 10-Feb-2026 12:00 UTC */
	m[0].data = msg1;
	m[0].len = strlen(msg1);
	m[1].seq = 2;
	m[1].uid = 20;
	m[1].flags = MBOX_F_RECENT | MBOX_F_FLAGGED;
	m[1].size = 900;
	m[1].internaldate = 1577880000;	/* 1-Jan-2020 */
	m[1].data = msg2;
	m[1].len = strlen(msg2);
	ck_assert_msg(search_match(k, &m[0]) == search_cases[_i].m1,
	    "%s on msg1", search_cases[_i].prog);
	ck_assert_msg(search_match(k, &m[1]) == search_cases[_i].m2,
	    "%s on msg2", search_cases[_i].prog);
	/* what the program reads is declared, so callers can skip work */
	if (strstr(search_cases[_i].prog, "LARGER") != NULL)
		ck_assert(search_needs(k) & SEARCH_NEED_SIZE);
	if (strcmp(search_cases[_i].prog, "ON 10-Feb-2026") == 0)
		ck_assert_uint_eq(search_needs(k), SEARCH_NEED_DATE);
	if (strcmp(search_cases[_i].prog, "SEEN") == 0)
		ck_assert_uint_eq(search_needs(k), 0);
	search_free(&k);
	ck_assert_ptr_null(k);
	imap_parser_free(&p);
}
END_TEST

static const char *const search_bad[] = {
	"FOO", "SUBJECT", "HEADER X", "BEFORE 32-Jan-2020", "BEFORE 1-Foo-2020",
	"LARGER x", "LARGER", "UID x", "OR SEEN", "NOT", "()", "0:3",
	"KEYWORD", "SINCE \"1-Jan-20\"", "HEADER \"A:B\" x",
};

START_TEST(search_invalid)
{
	struct imap_parser *p;
	const struct imap_arg *a;
	const char *why = NULL;
	char line[256];
	size_t n;

	snprintf(line, sizeof(line), "t SEARCH %s\r\n", search_bad[_i]);
	ck_assert_int_eq(parse_args(&p, line, &a, &n), 0);
	ck_assert_ptr_null(search_parse(a, n, &why));
	ck_assert_ptr_nonnull(why);
	imap_parser_free(&p);
}
END_TEST

START_TEST(search_charsets_and_depth)
{
	struct imap_parser *p;
	const struct imap_arg *a;
	const char *why;
	char line[4096];
	size_t n, i, off;

	ck_assert_int_eq(parse_args(&p, "t SEARCH CHARSET KOI8-R ALL\r\n", &a,
	    &n), 0);
	ck_assert_int_eq(search_charset(a, n), -1);
	imap_parser_free(&p);
	ck_assert_int_eq(parse_args(&p, "t SEARCH CHARSET us-ascii ALL\r\n",
	    &a, &n), 0);
	ck_assert_int_eq(search_charset(a, n), 2);
	imap_parser_free(&p);
	/* NOT NOT NOT ... beyond the depth cap */
	off = (size_t)snprintf(line, sizeof(line), "t SEARCH");
	for (i = 0; i < 200; i++)
		off += (size_t)snprintf(line + off, sizeof(line) - off, " NOT");
	snprintf(line + off, sizeof(line) - off, " ALL\r\n");
	ck_assert_int_eq(parse_args(&p, line, &a, &n), 0);
	ck_assert_ptr_null(search_parse(a, n, &why));
	imap_parser_free(&p);
}
END_TEST

START_TEST(search_dates)
{
	time_t t;

	ck_assert_int_eq(search_rfc5322_date("Tue, 1 Jul 2003 10:52:37 +0200",
	    30, &t), 0);
	ck_assert_int_eq(t, 1057017600);
	ck_assert_int_eq(search_rfc5322_date("1 Jul 03 10:52", 14, &t), 0);
	ck_assert_int_eq(t, 1057017600);
	ck_assert_int_eq(search_rfc5322_date("garbage", 7, &t), -1);
	ck_assert_int_eq(imap_date_parse("1-Jul-2003", &t), 0);
	ck_assert_int_eq(t, 1057017600);
	ck_assert_int_eq(imap_date_parse("01-jul-2003", &t), 0);
	ck_assert_int_eq(imap_date_parse("1-Jul-2003 ", &t), -1);
	ck_assert_int_eq(imap_datetime_parse("01-Jul-2003 10:52:37 +0200",
	    &t), 0);
	ck_assert_int_eq(t, 1057017600 + 8 * 3600 + 52 * 60 + 37);
	ck_assert_int_eq(imap_datetime_parse(" 1-Jul-2003 10:52:37 -0000",
	    &t), 0);
	ck_assert_int_eq(imap_datetime_parse("01-Jul-2003 25:52:37 +0200",
	    &t), -1);
	ck_assert_int_eq(imap_datetime_parse("01-Jul-2003 10:52:37", &t), -1);
}
END_TEST

/* --- fetch --- */

static int
parse_fetch(const char *attrs, bool uid, struct fetch_spec *spec,
    const char **why)
{
	struct imap_parser *p;
	const struct imap_arg *a;
	char line[1024];
	size_t n;
	int r;

	snprintf(line, sizeof(line), "t FETCH 1 %s\r\n", attrs);
	if (parse_args(&p, line, &a, &n) < 0) {
		imap_parser_free(&p);
		*why = "parse";
		return -1;
	}
	ck_assert_uint_eq(n, 2);
	r = fetch_parse(&a[1], uid, spec, why);
	imap_parser_free(&p);
	return r;
}

START_TEST(fetch_sections)
{
	struct fetch_spec sp;
	const char *why;

	ck_assert_int_eq(parse_fetch("(UID BODY.PEEK[1.2.HEADER.FIELDS.NOT "
	    "(Subject \"From\")]<10.20> BODY[] BODY[3.MIME] BODY[TEXT] "
	    "RFC822.SIZE)", false, &sp, &why), 0);
	ck_assert_uint_eq(sp.n, 6);
	ck_assert_int_eq(sp.items[1].kind, FI_SECTION);
	ck_assert(sp.items[1].peek);
	ck_assert_str_eq(sp.items[1].part, "1.2");
	ck_assert_int_eq(sp.items[1].sec, FS_FIELDS_NOT);
	ck_assert_uint_eq(sp.items[1].nfields, 2);
	ck_assert_str_eq(sp.items[1].fields[1], "From");
	ck_assert(sp.items[1].partial);
	ck_assert_uint_eq(sp.items[1].origin, 10);
	ck_assert_uint_eq(sp.items[1].count, 20);
	ck_assert_str_eq(sp.items[1].name,
	    "BODY[1.2.HEADER.FIELDS.NOT (Subject From)]");
	ck_assert_str_eq(sp.items[2].name, "BODY[]");
	ck_assert_int_eq(sp.items[3].sec, FS_MIME);
	ck_assert_str_eq(sp.items[3].name, "BODY[3.MIME]");
	ck_assert_str_eq(sp.items[4].name, "BODY[TEXT]");
	ck_assert(sp.need_data);
	ck_assert(sp.sets_seen);
	fetch_spec_free(&sp);

	ck_assert_int_eq(parse_fetch("FAST", true, &sp, &why), 0);
	ck_assert_uint_eq(sp.n, 4);
	ck_assert_int_eq(sp.items[0].kind, FI_UID);
	ck_assert(!sp.need_data);
	ck_assert(!sp.sets_seen);
	fetch_spec_free(&sp);

	ck_assert_int_eq(parse_fetch("FULL", false, &sp, &why), 0);
	ck_assert_uint_eq(sp.n, 5);
	fetch_spec_free(&sp);

	ck_assert_int_eq(parse_fetch("(FLAGS RFC822.HEADER)", false, &sp,
	    &why), 0);
	ck_assert(!sp.sets_seen);
	fetch_spec_free(&sp);
}
END_TEST

static const char *const fetch_bad[] = {
	"FOO", "BODY[", "BODY[MIME]", "BODY[0]", "BODY[1.0]", "BODY[HEADER.X]",
	"BODY[HEADER.FIELDS]", "BODY[HEADER.FIELDS ()]",
	"BODY[HEADER.FIELDS (a:b)]", "BODY[]<1>", "BODY[]<1.0>",
	"BODY[]<x.1>", "BODY[]<1.99999999999>", "BODY[]x", "()", "(ALL)",
	"BODY[TEXT.1]", "BODY[1.]", "\"FLAGS\"",
};

START_TEST(fetch_invalid)
{
	struct fetch_spec sp;
	const char *why = NULL;

	ck_assert_msg(parse_fetch(fetch_bad[_i], false, &sp, &why) == -1,
	    "%s accepted", fetch_bad[_i]);
}
END_TEST

struct collect {
	char	buf[256];
	size_t	len;
};

static void
collect_emit(void *ctx, const char *p, size_t n)
{
	struct collect *c = ctx;

	ck_assert(c->len + n < sizeof(c->buf));
	memcpy(c->buf + c->len, p, n);
	c->len += n;
}

START_TEST(fetch_crlf)
{
	const char *src = "ab\ncd\r\nef\n\ng";
	const char *want = "ab\r\ncd\r\nef\r\n\r\ng";
	size_t wlen = strlen(want), skip, count;
	struct collect c;
	uint64_t n;

	ck_assert_uint_eq(fetch_crlf_size(src, strlen(src)), wlen);
	/* every window of the CRLF form, including ones starting between
	 * an inserted CR and its LF */
	for (skip = 0; skip <= wlen + 1; skip++) {
		for (count = 0; count <= wlen + 2; count++) {
			memset(&c, 0, sizeof(c));
			n = fetch_crlf_copy(src, strlen(src), skip, count,
			    collect_emit, &c);
			size_t exp = skip >= wlen ? 0 : wlen - skip;

			if (exp > count)
				exp = count;
			ck_assert_uint_eq(n, exp);
			ck_assert_uint_eq(c.len, exp);
			ck_assert(memcmp(c.buf, want + (skip < wlen ? skip :
			    wlen), exp) == 0);
		}
	}
	ck_assert_uint_eq(fetch_crlf_size("\n", 1), 2);
	ck_assert_uint_eq(fetch_crlf_size("", 0), 0);
}
END_TEST

START_TEST(fetch_crlf_indexed)
{
	static const char *const srcs[] = {
		"ab\ncd\r\nef\n\ng", "\n\n\n", "\r\n\r\n", "abc",
		"\na\r\n\nbb\n\r\r\n\n", "",
	};
	struct fetch_crlf_index ix;
	struct collect a, b;
	size_t k, step, skip, count, len;
	uint64_t na, nb;

	for (k = 0; k < sizeof(srcs) / sizeof(srcs[0]); k++) {
		len = strlen(srcs[k]);
		for (step = 1; step <= 6; step++) {
			fetch_crlf_index_build(srcs[k], len, step, &ix);
			ck_assert_uint_eq(ix.total,
			    fetch_crlf_size(srcs[k], len));
			for (skip = 0; skip <= ix.total + 1; skip++) {
				for (count = 0; count <= ix.total + 1;
				    count++) {
					memset(&a, 0, sizeof(a));
					memset(&b, 0, sizeof(b));
					na = fetch_crlf_copy(srcs[k], len, skip,
					    count, collect_emit, &a);
					nb = fetch_crlf_copy_indexed(srcs[k],
					    len, &ix, skip, count,
					    collect_emit, &b);
					ck_assert_uint_eq(na, nb);
					ck_assert_uint_eq(a.len, b.len);
					ck_assert(memcmp(a.buf, b.buf,
					    a.len) == 0);
				}
			}
			fetch_crlf_index_free(&ix);
			ck_assert_ptr_null(ix.vpos);
		}
	}
}
END_TEST

/* --- names, patterns --- */

static const struct {
	const char	*pat;
	const char	*name;
	bool		 match;
} list_cases[] = {
	{ "*", "INBOX", true },
	{ "*", "a.b.c", true },
	{ "%", "a", true },
	{ "%", "a.b", false },
	{ "a.%", "a.b", true },
	{ "a.%", "a.b.c", false },
	{ "a*", "a.b.c", true },
	{ "inbox", "INBOX", true },
	{ "Inbox.%", "INBOX.x", true },
	{ "sent", "Sent", false },
	{ "S%t", "Sent", true },
	{ "", "INBOX", false },
	{ "*%*%*%*%*%*%*%*%*%*%*%*%", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaab", true },
	{ "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*c", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", false },
	{ "a%b", "a.b", false },
	{ "a*b", "a.x.b", true },
	{ "%.%", "a.b", true },
};

START_TEST(list_patterns)
{
	ck_assert_msg(imap_list_match(list_cases[_i].pat,
	    list_cases[_i].name) == list_cases[_i].match, "%s vs %s",
	    list_cases[_i].pat, list_cases[_i].name);
}
END_TEST

/* --- response formatting through a real conn over a socketpair --- */

static size_t
drain(int fd, char *buf, size_t max)
{
	ssize_t n = read(fd, buf, max - 1);

	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	return (size_t)n;
}

START_TEST(resp_strings)
{
	struct imap_session s;
	char out[512];
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	memset(&s, 0, sizeof(s));
	s.c = conn_new(sv[0]);
	s.tag = "a1";
	conn_set_timeout(s.c, 1000);
	imap_write_string(&s, "plain", 5);
	conn_write(s.c, " ", 1);
	imap_write_string(&s, "q\"b\\s", 5);
	conn_write(s.c, " ", 1);
	imap_write_string(&s, "caf\xc3\xa9", 5);
	conn_write(s.c, " ", 1);
	imap_write_nstring(&s, NULL, 0);
	conn_write(s.c, " ", 1);
	imap_write_string(&s, "", 0);
	conn_flush(s.c);
	drain(sv[1], out, sizeof(out));
	ck_assert_str_eq(out, "\"plain\" \"q\\\"b\\\\s\" {5}\r\ncaf\xc3\xa9 NIL "
	    "\"\"");
	imap_no_ferr(&s, FERR_TEMP, NULL);
	imap_no_ferr(&s, FERR_INTERNAL, "secret detail");
	imap_no_ferr(&s, FERR_QUOTA, NULL);
	conn_flush(s.c);
	drain(sv[1], out, sizeof(out));
	ck_assert_ptr_nonnull(strstr(out, "a1 NO [UNAVAILABLE] "));
	ck_assert_ptr_nonnull(strstr(out, "a1 NO [SERVERBUG] Internal error"));
	ck_assert_ptr_null(strstr(out, "secret"));
	ck_assert_ptr_nonnull(strstr(out, "a1 NO [OVERQUOTA] "));
	s.nbad = 0;
	imap_bad(&s, "oops");
	ck_assert_uint_eq(s.nbad, 1);
	conn_flush(s.c);
	drain(sv[1], out, sizeof(out));
	ck_assert_str_eq(out, "a1 BAD oops\r\n");
	conn_free(&s.c);
	close(sv[1]);
}
END_TEST

START_TEST(ferr_codes)
{
	ck_assert_ptr_null(imap_ferr_code(FERR_NONE));
	ck_assert_str_eq(imap_ferr_code(FERR_TEMP), "UNAVAILABLE");
	ck_assert_str_eq(imap_ferr_code(FERR_NOTFOUND), "NONEXISTENT");
	ck_assert_str_eq(imap_ferr_code(FERR_QUOTA), "OVERQUOTA");
	ck_assert_str_eq(imap_ferr_code(FERR_NOSPACE), "OVERQUOTA");
	ck_assert_str_eq(imap_ferr_code(FERR_PERM), "NOPERM");
	ck_assert_str_eq(imap_ferr_code(FERR_LIMIT), "LIMIT");
	ck_assert_str_eq(imap_ferr_code(FERR_EXISTS), "ALREADYEXISTS");
	ck_assert_str_eq(imap_ferr_code(FERR_INTERNAL), "SERVERBUG");
}
END_TEST

START_TEST(flags_parse)
{
	struct imap_parser *p;
	const struct imap_arg *a;
	const char *kw[4], *why;
	unsigned flags;
	size_t n, nkw;

	ck_assert_int_eq(parse_args(&p, "t X (\\Seen \\deleted Junk junk "
	    "\\Draft)\r\n", &a, &n), 0);
	ck_assert_int_eq(imap_flags_parse(&a[0], &flags, kw, 4, &nkw, &why),
	    0);
	ck_assert_uint_eq(flags, MBOX_F_SEEN | MBOX_F_DELETED | MBOX_F_DRAFT);
	ck_assert_uint_eq(nkw, 1);	/* keywords compare case-insensitively */
	imap_parser_free(&p);
	ck_assert_int_eq(parse_args(&p, "t X (\\Recent)\r\n", &a, &n), 0);
	ck_assert_int_eq(imap_flags_parse(&a[0], &flags, kw, 4, &nkw, &why),
	    -1);
	imap_parser_free(&p);
	ck_assert_int_eq(parse_args(&p, "t X (\\Bogus)\r\n", &a, &n), 0);
	ck_assert_int_eq(imap_flags_parse(&a[0], &flags, kw, 4, &nkw, &why),
	    -1);
	imap_parser_free(&p);
	ck_assert_int_eq(parse_args(&p, "t X (a b c d e)\r\n", &a, &n), 0);
	ck_assert_int_eq(imap_flags_parse(&a[0], &flags, kw, 4, &nkw, &why),
	    -1);
	imap_parser_free(&p);
	ck_assert(imap_atom_valid("$Label1", 7));
	ck_assert(!imap_atom_valid("a b", 3));
	ck_assert(!imap_atom_valid("a%", 2));
	ck_assert(!imap_atom_valid("", 0));
}
END_TEST

START_TEST(mbname_inbox_case)
{
	struct imap_parser *p;
	const struct imap_arg *a;
	const char *why;
	char name[MSTORE_NAME_MAX + 1];
	size_t n;

	static const char line[] = "t X inbox \"InBox.Sub\" Inboxes "
	    "{3}\r\na\0b\r\n";

	p = imap_parser_new(&lim_default);
	ck_assert_int_eq(feed_all(p, line, sizeof(line) - 1, true),
	    IMAP_PARSE_DONE);
	a = imap_parser_args(p, &n);
	ck_assert_uint_eq(n, 4);
	ck_assert_int_eq(imap_mbname(&a[0], name, sizeof(name), &why), 0);
	ck_assert_str_eq(name, "INBOX");
	ck_assert_int_eq(imap_mbname(&a[1], name, sizeof(name), &why), 0);
	ck_assert_str_eq(name, "INBOX.Sub");
	ck_assert_int_eq(imap_mbname(&a[2], name, sizeof(name), &why), 0);
	ck_assert_str_eq(name, "Inboxes");
	ck_assert_int_eq(imap_mbname(&a[3], name, sizeof(name), &why), -1);
	imap_parser_free(&p);
}
END_TEST

START_TEST(parser_empty_literal_and_strings)
{
	struct imap_parser *p = imap_parser_new(&lim_default);
	const char *cmd = "t X {0}\r\n \"\" ()\r\n";
	const struct imap_arg *a;
	size_t n;

	ck_assert_int_eq(feed_all(p, cmd, strlen(cmd), true),
	    IMAP_PARSE_DONE);
	a = imap_parser_args(p, &n);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(a[0].type, IMAP_ARG_LITERAL);
	ck_assert_uint_eq(a[0].len, 0);
	ck_assert_int_eq(a[1].type, IMAP_ARG_QUOTED);
	ck_assert_uint_eq(a[1].len, 0);
	ck_assert_int_eq(a[2].type, IMAP_ARG_LIST);
	ck_assert_uint_eq(a[2].count, 0);
	imap_parser_free(&p);
}
END_TEST

START_TEST(parser_streamed_literal)
{
	struct imap_parser *p = imap_parser_new(&lim_default);
	const char *head = "a APPEND Drafts (\\Draft) {5}\r\n";
	const struct imap_arg *a;
	size_t n, used;

	ck_assert_int_eq(imap_parser_feed(p, head, strlen(head), &used),
	    IMAP_PARSE_LITERAL);
	a = imap_parser_partial_args(p, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(a[0].str, "Drafts");
	imap_parser_literal_streamed(p);
	/* the caller read the 5 bytes itself; the line goes on */
	ck_assert_int_eq(imap_parser_feed(p, "\r\n", 2, &used),
	    IMAP_PARSE_DONE);
	a = imap_parser_args(p, &n);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(a[2].type, IMAP_ARG_STREAMED);
	ck_assert_uint_eq(a[2].len, 5);
	ck_assert(!imap_arg_is_string(&a[2]));
	ck_assert(!imap_arg_has_nul(&a[2]));
	imap_parser_free(&p);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("imap");
	TCase *tc;

	tc = tcase_create("parser");
	tcase_add_test(tc, parser_simple);
	tcase_add_test(tc, parser_lists_and_sections);
	tcase_add_test(tc, parser_literal_plus);
	tcase_add_test(tc, parser_literal_reject_then_next);
	tcase_add_test(tc, parser_quoted_escapes);
	tcase_add_loop_test(tc, parser_bad_input, 0,
	    sizeof(bad_inputs) / sizeof(bad_inputs[0]));
	tcase_add_test(tc, parser_limits);
	tcase_add_test(tc, parser_empty_literal_and_strings);
	tcase_add_test(tc, parser_streamed_literal);
	suite_add_tcase(s, tc);

	tc = tcase_create("seqset");
	tcase_add_test(tc, seqset_basic);
	tcase_add_loop_test(tc, seqset_invalid, 0,
	    sizeof(seqset_bad) / sizeof(seqset_bad[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("search");
	tcase_add_loop_test(tc, search_eval, 0,
	    sizeof(search_cases) / sizeof(search_cases[0]));
	tcase_add_loop_test(tc, search_invalid, 0,
	    sizeof(search_bad) / sizeof(search_bad[0]));
	tcase_add_test(tc, search_charsets_and_depth);
	tcase_add_test(tc, search_dates);
	suite_add_tcase(s, tc);

	tc = tcase_create("fetch");
	tcase_add_test(tc, fetch_sections);
	tcase_add_loop_test(tc, fetch_invalid, 0,
	    sizeof(fetch_bad) / sizeof(fetch_bad[0]));
	tcase_add_test(tc, fetch_crlf);
	tcase_add_test(tc, fetch_crlf_indexed);
	suite_add_tcase(s, tc);

	tc = tcase_create("misc");
	tcase_add_loop_test(tc, list_patterns, 0,
	    sizeof(list_cases) / sizeof(list_cases[0]));
	tcase_add_test(tc, resp_strings);
	tcase_add_test(tc, ferr_codes);
	tcase_add_test(tc, flags_parse);
	tcase_add_test(tc, mbname_inbox_case);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(make_suite)
