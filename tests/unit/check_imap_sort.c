/*
 * check_imap_sort - unit tests for ESEARCH result formatting (RFC 4731),
 * SORT keys (RFC 5256 2.1 base subject, sent dates, address keys,
 * criteria) and THREAD=ORDEREDSUBJECT / THREAD=REFERENCES (RFC 5256 4).
 */
#include <stdio.h>
#include <string.h>

#include "imap/sortkey.h"
#include "imap/thread.h"
#include "testutil.h"

/* buf_is: the buffer holds exactly s (an empty buffer has no data) */
#define buf_is(b, s) ck_assert_str_eq((b)->len > 0 ? buf_cstr(b) : "", (s))

/* --- base subject --- */

static const struct {
	const char	*in;
	const char	*out;
	bool		 reply;
} subj_cases[] = {
	{ "hello", "hello", false },
	{ "Re: hello", "hello", true },
	{ "RE: Re: re: hello", "hello", true },
	{ "Fwd: hello", "hello", true },
	{ "Fw: hello", "hello", true },
	{ "fwd:hello", "hello", true },
	{ "Fwd : hello", "hello", true },
	{ "Re[2]: hello", "hello", true },
	{ "Re: [list] hello", "hello", true },
	{ "[list] Re: hello", "hello", true },
	{ "[list] hello", "hello", false },
	{ "[a][b] hello", "hello", false },
	{ "[blob]", "[blob]", false },
	{ "hello (fwd)", "hello", true },
	{ "hello (fwd) (FWD)  ", "hello", true },
	{ "[fwd: hello]", "hello", true },
	{ "[Fwd: Re: hello]", "hello", true },
	{ "Re: [fwd: hello (fwd)]", "hello", true },
	{ "  multiple   spaces\there ", "multiple spaces here", false },
	{ "folded\r\n line", "folded line", false },
	{ "=?UTF-8?B?w6ljb2xl?= test", "\xc3\xa9" "cole test", false },
	{ "Re: =?ISO-8859-1?Q?caf=E9?=", "caf\xc3\xa9", true },
	{ "", "", false },
	{ "Re:", "", true },
	{ "Reply: x", "Reply: x", false },
	{ "Ref: x", "Ref: x", false },
	{ "[[[[", "[[[[", false },
	{ "[unterminated hello", "[unterminated hello", false },
	{ "Re: Re", "Re", true },
	{ "(fwd)", "", true },
};

START_TEST(base_subject)
{
	struct buf b;
	bool reply = !subj_cases[_i].reply;

	buf_init(&b, 4096);
	ck_assert_int_eq(sort_base_subject(subj_cases[_i].in,
	    strlen(subj_cases[_i].in), &b, &reply), 0);
	buf_is(&b, subj_cases[_i].out);
	ck_assert_int_eq(reply, subj_cases[_i].reply);
	buf_free(&b);
}
END_TEST

START_TEST(base_subject_hostile)
{
	struct buf b;
	char big[20000];
	size_t i;

	/* NUL bytes, long runs of leaders, brackets */
	buf_init(&b, 1024 * 1024);
	ck_assert_int_eq(sort_base_subject("a\0b", 3, &b, NULL), 0);
	buf_reset(&b);
	for (i = 0; i + 4 <= sizeof(big); i += 4)
		memcpy(big + i, "Re: ", 4);
	ck_assert_int_eq(sort_base_subject(big, sizeof(big), &b, NULL), 0);
	ck_assert_uint_eq(b.len, 0);
	buf_reset(&b);
	memset(big, '[', sizeof(big));
	ck_assert_int_eq(sort_base_subject(big, sizeof(big), &b, NULL), 0);
	ck_assert_uint_eq(b.len, sizeof(big));
	buf_free(&b);
}
END_TEST

START_TEST(casemap_cmp)
{
	ck_assert_int_eq(sort_strcmp("abc", 3, "ABC", 3), 0);
	ck_assert_int_lt(sort_strcmp("abc", 3, "abd", 3), 0);
	ck_assert_int_lt(sort_strcmp("ab", 2, "abc", 3), 0);
	ck_assert_int_gt(sort_strcmp("b", 1, "A", 1), 0);
	ck_assert_int_eq(sort_strcmp("", 0, "", 0), 0);
}
END_TEST

/* --- dates --- */

static const struct {
	const char	*in;
	long long	 t;	/* -1: error */
} date_cases[] = {
	{ "Tue, 1 Jul 2003 10:52:37 +0200", 1057049557LL },
	{ "1 Jul 2003 10:52:37 +0200", 1057049557LL },
	{ "Tue, 01 Jul 2003 08:52:37 GMT", 1057049557LL },
	{ "Tue, 1 Jul 2003 03:52:37 EST", 1057049557LL },
	{ "Tue, 1 Jul 2003 08:52 +0000", 1057049520LL },
	{ "Tue, 1 Jul 03 08:52:37 +0000 (UTC)", 1057049557LL },
	{ "  (comment) Tue, 1 Jul 2003 08:52:37 -0000", 1057049557LL },
	{ "Thu, 1 Jan 1970 00:00:00 +0000", 0 },
	{ "", -1 },
	{ "garbage", -1 },
	{ "Tue, 32 Jul 2003 10:00:00 +0000", -1 },
	{ "Tue, 1 Foo 2003 10:00:00 +0000", -1 },
	{ "Tue, 1 Jul 2003 25:00:00 +0000", -1 },
	{ "Tue, 1 Jul", -1 },
};

START_TEST(sent_date)
{
	time_t t = 12345;
	int rc = sort_sent_date(date_cases[_i].in, strlen(date_cases[_i].in),
	    &t);

	if (date_cases[_i].t < 0)
		ck_assert_int_eq(rc, -1);
	else {
		ck_assert_int_eq(rc, 0);
		ck_assert_int_eq((long long)t, date_cases[_i].t);
	}
}
END_TEST

/* --- addresses --- */

static const struct {
	const char	*in;
	const char	*out;
} addr_cases[] = {
	{ "Alice <alice@example.org>, bob@example.org", "alice" },
	{ "bob@example.org", "bob" },
	{ "\"Doe, John\" <jdoe@x.test>", "jdoe" },
	{ "Group: a@b.test, c@d.test;", "a" },
	{ "undisclosed-recipients:;", "" },
	{ "", "" },
	{ "<<<", "" },
};

START_TEST(addr_key)
{
	struct buf b;

	buf_init(&b, 4096);
	ck_assert_int_eq(sort_addr_key(addr_cases[_i].in,
	    strlen(addr_cases[_i].in), &b), 0);
	if (strcmp(addr_cases[_i].in, "<<<") != 0)
		buf_is(&b, addr_cases[_i].out);
	buf_free(&b);
}
END_TEST

/* --- argument helpers --- */

static struct imap_arg *
atoms(const char *const *w, size_t n)
{
	struct imap_arg *a = calloc(n + 1, sizeof(*a));
	size_t i;

	for (i = 0; i < n; i++) {
		a[i].type = IMAP_ARG_ATOM;
		a[i].str = (char *)w[i];
		a[i].len = strlen(w[i]);
	}
	return a;
}

static struct imap_arg
list_of(const char *const *w, size_t n)
{
	struct imap_arg l;

	memset(&l, 0, sizeof(l));
	l.type = IMAP_ARG_LIST;
	l.list = atoms(w, n);
	l.count = n;
	return l;
}

START_TEST(esearch_return)
{
	static const char *const w1[] = { "MIN", "max", "COUNT" };
	static const char *const w2[] = { "SAVE" };
	struct imap_arg l;
	unsigned o;

	l = list_of(w1, 3);
	ck_assert_int_eq(esearch_return_parse(&l, &o), 0);
	ck_assert_uint_eq(o, ESR_MIN | ESR_MAX | ESR_COUNT);
	free(l.list);
	l = list_of(w1, 0);
	ck_assert_int_eq(esearch_return_parse(&l, &o), 0);
	ck_assert_uint_eq(o, ESR_ALL);
	free(l.list);
	l = list_of(w2, 1);
	ck_assert_int_eq(esearch_return_parse(&l, &o), -1);
	free(l.list);
	l.type = IMAP_ARG_ATOM;
	l.str = (char *)"MIN";
	l.len = 3;
	l.list = NULL;
	ck_assert_int_eq(esearch_return_parse(&l, &o), -1);
}
END_TEST

START_TEST(esearch_fmt)
{
	static const uint32_t v[] = { 1, 2, 3, 5, 7, 8, 10 };
	struct buf b;

	buf_init(&b, 4096);
	ck_assert_int_eq(esearch_format(&b, ESR_MIN | ESR_MAX | ESR_COUNT |
	    ESR_ALL, v, 7), 0);
	ck_assert_str_eq(buf_cstr(&b),
	    " MIN 1 MAX 10 ALL 1:3,5,7:8,10 COUNT 7");
	buf_reset(&b);
	ck_assert_int_eq(esearch_format(&b, ESR_MIN | ESR_MAX | ESR_COUNT |
	    ESR_ALL, v, 0), 0);
	ck_assert_str_eq(buf_cstr(&b), " COUNT 0");
	buf_reset(&b);
	ck_assert_int_eq(esearch_format(&b, ESR_ALL, v + 3, 1), 0);
	ck_assert_str_eq(buf_cstr(&b), " ALL 5");
	buf_free(&b);
	/* a full buffer fails */
	buf_init(&b, 8);
	ck_assert_int_eq(esearch_format(&b, ESR_ALL, v, 7), -1);
	buf_free(&b);
}
END_TEST

START_TEST(sort_criteria)
{
	static const char *const ok[] = { "REVERSE", "date", "SUBJECT",
	    "ARRIVAL", "CC", "FROM", "SIZE", "TO" };
	static const char *const rr[] = { "REVERSE", "REVERSE", "DATE" };
	static const char *const r1[] = { "DATE", "REVERSE" };
	static const char *const bad[] = { "FOO" };
	struct sort_program p;
	struct imap_arg l;
	const char *why;

	l = list_of(ok, 8);
	ck_assert_int_eq(sort_program_parse(&l, &p, &why), 0);
	ck_assert_uint_eq(p.n, 7);
	ck_assert_int_eq(p.crit[0], SORT_DATE);
	ck_assert(p.reverse[0]);
	ck_assert(!p.reverse[1]);
	ck_assert_int_eq(p.crit[6], SORT_TO);
	free(l.list);
	l = list_of(rr, 3);
	ck_assert_int_eq(sort_program_parse(&l, &p, &why), -1);
	free(l.list);
	l = list_of(r1, 2);
	ck_assert_int_eq(sort_program_parse(&l, &p, &why), -1);
	free(l.list);
	l = list_of(bad, 1);
	ck_assert_int_eq(sort_program_parse(&l, &p, &why), -1);
	free(l.list);
	l = list_of(bad, 0);
	ck_assert_int_eq(sort_program_parse(&l, &p, &why), -1);
	free(l.list);
}
END_TEST

/* --- msg-ids --- */

START_TEST(ids_parse)
{
	char **ids = NULL;
	size_t n = 0;

	ck_assert_uint_eq(thread_ids_parse("<a@b> <c@d>\r\n <e@f>", 20, &ids,
	    &n, 0), 3);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(ids[0], "<a@b>");
	ck_assert_str_eq(ids[2], "<e@f>");
	thread_ids_free(ids, n);
	ids = NULL;
	n = 0;
	ck_assert_uint_eq(thread_ids_parse("<a@b", 4, &ids, &n, 0), 0);
	ck_assert_uint_eq(thread_ids_parse("garbage <>", 10, &ids, &n, 0), 0);
	ck_assert_uint_eq(thread_ids_parse("< a@b\r\n >", 10, &ids, &n, 0), 1);
	ck_assert_str_eq(ids[0], "<a@b>");
	thread_ids_free(ids, n);
	ids = NULL;
	n = 0;
	/* only the last max are kept */
	ck_assert_uint_eq(thread_ids_parse("<1@x><2@x><3@x>", 15, &ids, &n,
	    2), 3);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(ids[0], "<2@x>");
	ck_assert_str_eq(ids[1], "<3@x>");
	thread_ids_free(ids, n);
	ids = NULL;
	n = 0;
	ck_assert_uint_eq(thread_ids_parse("<<<<a@b>", 8, &ids, &n, 0), 1);
	ck_assert_str_eq(ids[0], "<a@b>");
	thread_ids_free(ids, n);
	ids = NULL;
	n = 0;
	/* an overlong id is skipped, the next one kept */
	{
		char big[THREAD_ID_MAX + 40];

		memset(big, 'x', sizeof(big));
		big[0] = '<';
		memcpy(big + sizeof(big) - 12, "@y> <ok@z>", 10);
		ck_assert_uint_eq(thread_ids_parse(big, sizeof(big) - 2, &ids,
		    &n, 0), 1);
		ck_assert_uint_eq(n, 1);
		ck_assert_str_eq(ids[0], "<ok@z>");
		thread_ids_free(ids, n);
	}
}
END_TEST

/* --- threads --- */

struct tcase_msg {
	const char	*subj;
	long		 date;
	const char	*msgid;
	const char	*refs;
};

static char *
run_thread(const struct tcase_msg *c, size_t n, bool refs)
{
	struct thread_msg *m = calloc(n + 1, sizeof(*m));
	struct buf b, sb;
	size_t i, *off = calloc(n + 1, sizeof(*off));
	char *out;
	int rc;

	buf_init(&sb, 1 << 20);
	for (i = 0; i < n; i++) {
		off[i] = sb.len;
		ck_assert_int_eq(sort_base_subject(c[i].subj, strlen(c[i].subj),
		    &sb, &m[i].reply), 0);
		m[i].subjlen = sb.len - off[i];
	}
	for (i = 0; i < n; i++) {
		m[i].id = m[i].seq = (uint32_t)i + 1;
		m[i].date = c[i].date;
		m[i].subj = sb.data != NULL ? sb.data + off[i] : "";
		m[i].msgid = c[i].msgid;
		if (c[i].refs != NULL)
			thread_ids_parse(c[i].refs, strlen(c[i].refs),
			    &m[i].refs, &m[i].nrefs, THREAD_REFS_MAX);
	}
	buf_init(&b, 1 << 24);
	rc = refs ? thread_references(m, n, &b) :
	    thread_orderedsubject(m, n, &b);
	ck_assert_int_eq(rc, 0);
	out = strdup(b.len > 0 ? buf_cstr(&b) : "");
	for (i = 0; i < n; i++)
		thread_ids_free(m[i].refs, m[i].nrefs);
	buf_free(&b);
	buf_free(&sb);
	free(m);
	free(off);
	return out;
}

#define THREAD_EQ(cases, refs, want) do {				\
	char *got_ = run_thread(cases, sizeof(cases) / sizeof(cases[0]),\
	    refs);							\
	ck_assert_str_eq(got_, want);					\
	free(got_);							\
} while (0)

START_TEST(orderedsubject)
{
	static const struct tcase_msg c[] = {
		{ "a", 10, NULL, NULL },
		{ "b", 5, NULL, NULL },
		{ "Re: a", 20, NULL, NULL },
		{ "A", 15, NULL, NULL },
		{ "c", 30, NULL, NULL },
		{ "Re: c", 40, NULL, NULL },
	};
	static const struct tcase_msg same_date[] = {
		{ "x", 10, NULL, NULL },
		{ "x", 10, NULL, NULL },
	};

	THREAD_EQ(c, false, "(2)(1 (4)(3))(5 6)");
	THREAD_EQ(same_date, false, "(1 2)");
	{
		char *got = run_thread(c, 0, false);

		ck_assert_str_eq(got, "");
		free(got);
	}
}
END_TEST

START_TEST(references_basic)
{
	static const struct tcase_msg c[] = {
		{ "s", 1, "<a@x>", NULL },
		{ "Re: s", 2, "<b@x>", "<a@x>" },
		{ "Re: s", 3, "<c@x>", "<a@x> <b@x>" },
		{ "Re: s", 4, "<d@x>", "<a@x>" },
		{ "t", 5, "<e@x>", NULL },
	};

	THREAD_EQ(c, true, "(1 (2 3)(4))(5)");
}
END_TEST

START_TEST(references_dummies)
{
	/* two replies to a missing message: a dummy root with both */
	static const struct tcase_msg two[] = {
		{ "one", 1, "<b@x>", "<gone@x>" },
		{ "two", 2, "<c@x>", "<gone@x>" },
	};
	/* one reply to a missing message: promoted to the root */
	static const struct tcase_msg one[] = {
		{ "one", 1, "<b@x>", "<gone@x>" },
	};
	/* a missing message in the middle of a chain is spliced out */
	static const struct tcase_msg mid[] = {
		{ "p", 1, "<a@x>", NULL },
		{ "q", 2, "<c@x>", "<a@x> <gone@x>" },
		{ "r", 3, "<d@x>", "<a@x> <gone@x>" },
	};

	THREAD_EQ(two, true, "((1)(2))");
	THREAD_EQ(one, true, "(1)");
	THREAD_EQ(mid, true, "(1 (2)(3))");
}
END_TEST

START_TEST(references_loops)
{
	static const struct tcase_msg loop[] = {
		{ "u", 1, "<a@x>", "<b@x>" },
		{ "v", 2, "<b@x>", "<a@x>" },
	};
	static const struct tcase_msg self[] = {
		{ "u", 1, "<a@x>", "<a@x>" },
	};
	static const struct tcase_msg dup[] = {
		{ "u", 1, "<a@x>", NULL },
		{ "v", 2, "<a@x>", NULL },
		{ "Re: u", 3, "<c@x>", "<a@x>" },
	};
	static const struct tcase_msg cyc[] = {
		{ "u", 1, "<a@x>", "<c@x> <b@x>" },
		{ "v", 2, "<b@x>", "<a@x> <c@x>" },
		{ "w", 3, "<c@x>", "<b@x> <a@x>" },
	};
	char *got;

	THREAD_EQ(loop, true, "(2 1)");
	THREAD_EQ(self, true, "(1)");
	THREAD_EQ(dup, true, "(1 3)(2)");
	got = run_thread(cyc, 3, true);
	/* every message exactly once, whatever the shape */
	ck_assert_ptr_nonnull(strchr(got, '1'));
	ck_assert_ptr_nonnull(strchr(got, '2'));
	ck_assert_ptr_nonnull(strchr(got, '3'));
	free(got);
}
END_TEST

START_TEST(references_subjects)
{
	/* no references: grouped by base subject */
	static const struct tcase_msg reply[] = {
		{ "hello", 1, "<a@x>", NULL },
		{ "Re: hello", 2, "<b@x>", NULL },
		{ "other", 3, NULL, NULL },
	};
	static const struct tcase_msg peers[] = {
		{ "x", 1, "<a@x>", NULL },
		{ "x", 2, "<b@x>", NULL },
	};
	/* a reply older than its original still goes under it */
	static const struct tcase_msg misorder[] = {
		{ "Re: y", 1, "<a@x>", NULL },
		{ "y", 2, "<b@x>", NULL },
	};
	/* a dummy thread absorbs a message with its subject */
	static const struct tcase_msg dummy[] = {
		{ "z", 1, "<b@x>", "<gone@x>" },
		{ "z", 2, "<c@x>", "<gone@x>" },
		{ "Re: z", 3, "<d@x>", NULL },
	};
	/* empty subjects are never merged */
	static const struct tcase_msg empty[] = {
		{ "", 1, "<a@x>", NULL },
		{ "", 2, "<b@x>", NULL },
	};

	THREAD_EQ(reply, true, "(1 2)(3)");
	THREAD_EQ(peers, true, "((1)(2))");
	THREAD_EQ(misorder, true, "(2 1)");
	THREAD_EQ(dummy, true, "((1)(2)(3))");
	THREAD_EQ(empty, true, "(1)(2)");
}
END_TEST

START_TEST(references_long_chain)
{
	enum { N = 20000 };
	struct tcase_msg *c = calloc(N, sizeof(*c));
	char (*ids)[32] = calloc(N, sizeof(*ids));
	char (*refs)[32] = calloc(N, sizeof(*refs));
	char *got;
	size_t i;

	for (i = 0; i < N; i++) {
		snprintf(ids[i], sizeof(ids[i]), "<%zu@x>", i);
		c[i].subj = i == 0 ? "s" : "Re: s";
		c[i].date = (long)i;
		c[i].msgid = ids[i];
		if (i > 0) {
			snprintf(refs[i], sizeof(refs[i]), "<%zu@x>", i - 1);
			c[i].refs = refs[i];
		}
	}
	got = run_thread(c, N, true);
	ck_assert(strncmp(got, "(1 2 3 4 ", 9) == 0);
	ck_assert(strcmp(got + strlen(got) - 7, " 20000)") == 0);
	free(got);
	/* and a wide one: all replies to the first */
	for (i = 1; i < N; i++)
		c[i].refs = ids[0];
	got = run_thread(c, N, true);
	ck_assert(strncmp(got, "(1 (2)(3)", 9) == 0);
	free(got);
	free(c);
	free(ids);
	free(refs);
}
END_TEST

/* many subject groups of two peers each: one dummy per group, linear */
START_TEST(references_many_groups)
{
	enum { N = 40000 };
	struct tcase_msg *c = calloc(N, sizeof(*c));
	char (*subj)[32] = calloc(N, sizeof(*subj));
	char *got;
	size_t i;

	for (i = 0; i < N; i++) {
		snprintf(subj[i], sizeof(subj[i]), "s%zu", i / 2);
		c[i].subj = subj[i];
		c[i].date = (long)i;
	}
	got = run_thread(c, N, true);
	ck_assert(strncmp(got, "((1)(2))((3)(4))", 16) == 0);
	free(got);
	got = run_thread(c, N, false);
	ck_assert(strncmp(got, "(1 2)(3 4)", 10) == 0);
	free(got);
	free(c);
	free(subj);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("imap_sort");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, base_subject, 0,
	    sizeof(subj_cases) / sizeof(subj_cases[0]));
	tcase_add_test(tc, base_subject_hostile);
	tcase_add_test(tc, casemap_cmp);
	tcase_add_loop_test(tc, sent_date, 0,
	    sizeof(date_cases) / sizeof(date_cases[0]));
	tcase_add_loop_test(tc, addr_key, 0,
	    sizeof(addr_cases) / sizeof(addr_cases[0]));
	tcase_add_test(tc, esearch_return);
	tcase_add_test(tc, esearch_fmt);
	tcase_add_test(tc, sort_criteria);
	tcase_add_test(tc, ids_parse);
	tcase_add_test(tc, orderedsubject);
	tcase_add_test(tc, references_basic);
	tcase_add_test(tc, references_dummies);
	tcase_add_test(tc, references_loops);
	tcase_add_test(tc, references_subjects);
	tcase_add_test(tc, references_long_chain);
	tcase_add_test(tc, references_many_groups);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(make_suite)
