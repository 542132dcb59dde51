/*
 * check_directory - the parts of the directory that need no database:
 * what is accepted as a domain, a mailbox address, an alias destination
 * (and the stored lower-case form), UTF-8 counting, identifier quoting,
 * and dir_open's handling of the password file. The database side is
 * covered by tests/integration/test_directory.py and test_cli.py.
 */
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/conf.h"
#include "directory/dir.h"
#include "directory/dir_int.h"
#include "testutil.h"

struct norm_case {
	const char	*in;
	const char	*out;	/* NULL: refused */
};

static const struct norm_case domain_cases[] = {
	{ "example.org", "example.org" },
	{ "Example.ORG", "example.org" },
	{ "a-b.c-d.example", "a-b.c-d.example" },
	{ "localhost", "localhost" },
	{ "xn--bcher-kva.example", "xn--bcher-kva.example" },
	{ "b\xc3\xbc" "cher.example", "b\xc3\xbc" "cher.example" },
	{ "123.example", "123.example" },
	{ "", NULL },
	{ ".", NULL },
	{ "a..b", NULL },
	{ ".a.b", NULL },
	{ "a.b.", NULL },
	{ "-a.b", NULL },
	{ "a-.b", NULL },
	{ "a b.org", NULL },
	{ "a_b.org", NULL },
	{ "a;b.org", NULL },
	{ "a'b.org", NULL },
	{ "a/b.org", NULL },
	{ "a\\b.org", NULL },
	{ "a@b.org", NULL },
	{ "a\tb.org", NULL },
	{ "a\x7f" "b.org", NULL },
	{ "\xff\xfe.org", NULL },		/* not UTF-8 */
	{ "\xc0\xaf.org", NULL },		/* overlong '/' */
	{ "\xed\xa0\x80.org", NULL },		/* surrogate */
	{ "\xf4\x90\x80\x80.org", NULL },	/* > U+10FFFF */
	{ "\xe2\x82", NULL },			/* truncated */
	/* 50 characters is ISPmail's limit */
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.org",
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.org" },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.org", NULL },
	/* a 64-byte label */
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	  NULL },
};

START_TEST(test_norm_domain)
{
	const struct norm_case *c = &domain_cases[_i];
	char out[DIR_ADDR_MAX + 1];
	const char *why = NULL;
	int rc;

	rc = dir_norm_domain(c->in, out, sizeof(out), &why);
	if (c->out == NULL) {
		ck_assert_msg(rc == -1, "accepted \"%s\"", c->in);
		ck_assert_ptr_nonnull(why);
	} else {
		ck_assert_msg(rc == 0, "refused \"%s\": %s", c->in, why);
		ck_assert_str_eq(out, c->out);
	}
}
END_TEST

#define A32 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define A64 A32 A32
#define B31 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static const struct norm_case email_cases[] = {
	{ "bob@example.org", "bob@example.org" },
	{ "Bob.Smith@Example.ORG", "bob.smith@example.org" },
	{ "o'brien@example.org", "o'brien@example.org" },
	{ "x';drop@example.org", "x';drop@example.org" },
	{ "quo\"te@example.org", "quo\"te@example.org" },
	{ "back\\slash@example.org", "back\\slash@example.org" },
	{ "a+tag@example.org", "a+tag@example.org" },
	{ "\xc3\x9c" "ber@example.org", "\xc3\x9c" "ber@example.org" },
	{ ".hidden@example.org", ".hidden@example.org" },
	{ "", NULL },
	{ "bob", NULL },
	{ "@example.org", NULL },
	{ "bob@", NULL },
	{ ".@example.org", NULL },
	{ "..@example.org", NULL },
	{ "a b@example.org", NULL },
	{ "a/b@example.org", NULL },
	{ "a%b@example.org", NULL },
	{ "a!b@example.org", NULL },
	{ "a,b@example.org", NULL },
	{ "a\nb@example.org", NULL },
	{ "a\rb@example.org", NULL },
	{ "a@b@example.org", NULL },
	{ "bob@exa mple.org", NULL },
	{ "\xff@example.org", NULL },
	/* 64-byte local part is the most RFC 5321 allows */
	{ A64 "@x.org", A64 "@x.org" },
	{ A64 "a@x.org", NULL },
	/* 100 characters in all is ISPmail's virtual_users.email */
	{ A64 "@" B31 ".org", A64 "@" B31 ".org" },
	{ A64 "@b" B31 ".org", NULL },
};

START_TEST(test_norm_email)
{
	const struct norm_case *c = &email_cases[_i];
	char out[DIR_ADDR_MAX + 1];
	const char *why = NULL;
	int rc;

	rc = dir_norm_email(c->in, out, sizeof(out), &why);
	if (c->out == NULL) {
		ck_assert_msg(rc == -1, "accepted \"%s\"", c->in);
		ck_assert_ptr_nonnull(why);
	} else {
		ck_assert_msg(rc == 0, "refused \"%s\": %s", c->in, why);
		ck_assert_str_eq(out, c->out);
	}
}
END_TEST

static const struct norm_case dest_cases[] = {
	/* kept as given: remote local parts may be case-sensitive */
	{ "Someone@Remote.Example", "Someone@Remote.Example" },
	{ "o\"q\\z@\xc3\xa9lan.example", "o\"q\\z@\xc3\xa9lan.example" },
	{ "x@a-very-long-remote-domain-name-that-is-over-fifty-chars.example",
	  "x@a-very-long-remote-domain-name-that-is-over-fifty-chars.example" },
	{ "a@b.org,c@d.org", NULL },
	{ "a b@c.org", NULL },
	{ "nodomain", NULL },
	{ "@c.org", NULL },
	{ "a@", NULL },
	{ "a@b..org", NULL },
};

START_TEST(test_norm_dest)
{
	const struct norm_case *c = &dest_cases[_i];
	char out[DIR_ADDR_MAX + 1];
	const char *why = NULL;
	int rc;

	rc = dir_norm_dest(c->in, out, sizeof(out), &why);
	if (c->out == NULL) {
		ck_assert_msg(rc == -1, "accepted \"%s\"", c->in);
	} else {
		ck_assert_msg(rc == 0, "refused \"%s\": %s", c->in, why);
		ck_assert_str_eq(out, c->out);
	}
}
END_TEST

START_TEST(test_norm_small_buffers)
{
	char out[8];
	const char *why = NULL;

	/* never writes past dstlen, refuses instead */
	ck_assert_int_eq(dir_norm_domain("example.org", out, sizeof(out),
	    &why), -1);
	ck_assert_int_eq(dir_norm_email("a@example.org", out, sizeof(out),
	    &why), -1);
	ck_assert_int_eq(dir_norm_dest("a@example.org", out, sizeof(out),
	    &why), -1);
	ck_assert_int_eq(dir_norm_lookup("a@example.org", out, sizeof(out)),
	    -1);
	ck_assert_int_eq(dir_norm_lookup("a@b.c", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "a@b.c");
}
END_TEST

START_TEST(test_norm_lookup)
{
	char out[DIR_ADDR_MAX + 1], big[DIR_ADDR_MAX + 2];

	ck_assert_int_eq(dir_norm_lookup("MiXeD@Example.ORG", out,
	    sizeof(out)), 0);
	ck_assert_str_eq(out, "mixed@example.org");
	/* UTF-8 is left alone (the collation compares it) */
	ck_assert_int_eq(dir_norm_lookup("\xc3\x9c@X.org", out, sizeof(out)),
	    0);
	ck_assert_str_eq(out, "\xc3\x9c@x.org");
	ck_assert_int_eq(dir_norm_lookup("", out, sizeof(out)), -1);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(dir_norm_lookup(big, out, sizeof(out)), -1);
	ck_assert_str_eq(dir_domain_of("a@b@c.org"), "c.org");
	ck_assert_ptr_null(dir_domain_of("nodomain"));
}
END_TEST

START_TEST(test_utf8_chars)
{
	ck_assert_uint_eq(dir_utf8_chars(""), 0);
	ck_assert_uint_eq(dir_utf8_chars("abc"), 3);
	ck_assert_uint_eq(dir_utf8_chars("\xc3\xa9t\xc3\xa9"), 3);
	ck_assert_uint_eq(dir_utf8_chars("\xe7\xae\xa1\xe7\x90\x86"), 2);
	ck_assert_uint_eq(dir_utf8_chars("\xf0\x9f\x93\xac"), 1);
	ck_assert_uint_eq(dir_utf8_chars("\x80"), SIZE_MAX);
	ck_assert_uint_eq(dir_utf8_chars("\xc3"), SIZE_MAX);
	ck_assert_uint_eq(dir_utf8_chars("\xe0\x80\x80"), SIZE_MAX);
	ck_assert_uint_eq(dir_utf8_chars("\xf8\x88\x80\x80\x80"), SIZE_MAX);
}
END_TEST

START_TEST(test_quote_ident)
{
	char out[80];

	ck_assert_int_eq(db_quote_ident("mailserver", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "`mailserver`");
	ck_assert_int_eq(db_quote_ident("a`b; DROP", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "`a``b; DROP`");
	ck_assert_int_eq(db_quote_ident("", out, sizeof(out)), -1);
	ck_assert_int_eq(db_quote_ident("a\nb", out, sizeof(out)), -1);
	ck_assert_int_eq(db_quote_ident("abc", out, 4), -1);
	ck_assert_int_eq(db_quote_ident(
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    out, sizeof(out)), -1);
}
END_TEST

START_TEST(test_open_password_file)
{
	char path[] = "/tmp/check_directory.XXXXXX";
	const char *why = NULL;
	struct conf c;
	struct dir *d;
	int fd;

	conf_defaults(&c);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "s3cret\r\nignored\n", 16), 16);
	close(fd);
	free(c.db_password_file);
	c.db_password_file = strdup(path);
	/* opening never connects: no server is needed */
	d = dir_open(&c, &why);
	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(d->password, "s3cret");
	ck_assert_ptr_nonnull(d->socket);
	ck_assert_ptr_null(d->host);
	dir_close(&d);
	ck_assert_ptr_null(d);
	unlink(path);
	/* a missing file means "no password" (socket auth) */
	d = dir_open(&c, &why);
	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(d->password, "");
	dir_close(&d);
	/* db_host wins over db_socket */
	free(c.db_host);
	c.db_host = strdup("127.0.0.1");
	d = dir_open(&c, &why);
	ck_assert_ptr_nonnull(d);
	ck_assert_ptr_null(d->socket);
	ck_assert_str_eq(d->host, "127.0.0.1");
	ck_assert_uint_eq(d->port, 3306);
	dir_close(&d);
	/* unreadable: a directory */
	free(c.db_password_file);
	c.db_password_file = strdup("/");
	d = dir_open(&c, &why);
	ck_assert_ptr_null(d);
	ck_assert_ptr_nonnull(why);
	conf_free(&c);
}
END_TEST

START_TEST(test_dead_server_fails_fast)
{
	const char *why = NULL;
	struct dir_dest *dests = NULL;
	struct dir_user u;
	struct conf c;
	struct dir *d;
	size_t n = 9;

	conf_defaults(&c);
	free(c.db_socket);
	c.db_socket = strdup("/nonexistent/facteur-check.sock");
	free(c.db_password_file);
	c.db_password_file = strdup("");
	d = dir_open(&c, &why);
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(dir_ping(d, &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "cannot connect"));
	ck_assert_int_eq(dir_domain_is_local(d, "example.org"), -1);
	ck_assert_int_eq(dir_user_lookup(d, "a@example.org", &u), -1);
	ck_assert_int_eq(dir_resolve(d, "a@example.org", &dests, &n, &why),
	    -1);
	ck_assert_ptr_null(dests);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(dir_login(d, "a@example.org", "pw", 2, "192.0.2.1",
	    &u), DIR_LOGIN_TEMP);
	dir_close(&d);
	conf_free(&c);
}
END_TEST

/* split text into statements joined by "|", each "LINE:stmt" */
static void
split_all(const char *text, char *out, size_t outlen, size_t max)
{
	struct buf stmt;
	unsigned lineno = 0, first = 0;
	size_t pos = 0;
	int rc;

	out[0] = '\0';
	buf_init(&stmt, max);
	for (;;) {
		char one[256];

		rc = dir_sql_next(text, strlen(text), &pos, &lineno, &stmt,
		    &first);
		if (rc != 1)
			break;
		snprintf(one, sizeof(one), "%s%u:%s", out[0] != '\0' ? "|" :
		    "", first, buf_cstr(&stmt));
		strncat(out, one, outlen - strlen(out) - 1);
	}
	if (rc < 0)
		strncat(out, "|TOOLONG", outlen - strlen(out) - 1);
	buf_free(&stmt);
}

struct split_case {
	const char	*in;
	const char	*out;
};

static const struct split_case split_cases[] = {
	{ "", "" },
	{ "\n\n  \n", "" },
	{ "-- only a comment\n", "" },
	{ "SELECT 1;", "1:SELECT 1\n" },
	{ "SELECT 1;\nSELECT 2;\n", "1:SELECT 1\n|2:SELECT 2\n" },
	/* statements span lines; indentation and CR are dropped */
	{ "CREATE TABLE t (\r\n\tid int\r\n);\r\n",
	  "1:CREATE TABLE t (\nid int\n)\n" },
	/* comments and blank lines inside and between */
	{ "-- head\n\nA\n-- mid\nB;\n\n-- tail\n",
	  "3:A\nB\n" },
	/* ';' not at a line end does not split */
	{ "INSERT INTO t VALUES ('a;b');\n",
	  "1:INSERT INTO t VALUES ('a;b')\n" },
	{ "A; B;\n", "1:A; B\n" },
	/* trailing blanks after ';' */
	{ "A;   \t\nB;", "1:A\n|2:B\n" },
	/* the last statement may lack ';', even before a comment */
	{ "A;\nB\n-- end\n", "1:A\n|2:B\n" },
	/* empty statements are skipped */
	{ ";\n  ;\nA;\n", "3:A\n" },
	/* "--" not at a line start is SQL text */
	{ "SELECT 1 -- x\n;\n", "1:SELECT 1 -- x\n" },
	/* a NUL-free line without any newline */
	{ "A", "1:A\n" },
};

START_TEST(test_sql_split)
{
	const struct split_case *c = &split_cases[_i];
	char out[1024];

	split_all(c->in, out, sizeof(out), 4096);
	ck_assert_str_eq(out, c->out);
}
END_TEST

START_TEST(test_sql_split_limit)
{
	char out[1024];

	split_all("AAAAAAAAAA\nBBBBBBBBBB;\n", out, sizeof(out), 8);
	ck_assert_str_eq(out, "|TOOLONG");
	split_all("AAAA;\nBBBBBBBBBBBB;\n", out, sizeof(out), 8);
	ck_assert_str_eq(out, "1:AAAA\n|TOOLONG");
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("directory");
	TCase *tc = tcase_create("names");

	tcase_add_loop_test(tc, test_norm_domain, 0,
	    sizeof(domain_cases) / sizeof(domain_cases[0]));
	tcase_add_loop_test(tc, test_norm_email, 0,
	    sizeof(email_cases) / sizeof(email_cases[0]));
	tcase_add_loop_test(tc, test_norm_dest, 0,
	    sizeof(dest_cases) / sizeof(dest_cases[0]));
	tcase_add_test(tc, test_norm_small_buffers);
	tcase_add_test(tc, test_norm_lookup);
	tcase_add_test(tc, test_utf8_chars);
	tcase_add_test(tc, test_quote_ident);
	suite_add_tcase(s, tc);
	tc = tcase_create("sql");
	tcase_add_loop_test(tc, test_sql_split, 0,
	    sizeof(split_cases) / sizeof(split_cases[0]));
	tcase_add_test(tc, test_sql_split_limit);
	suite_add_tcase(s, tc);
	tc = tcase_create("open");
	tcase_add_test(tc, test_open_password_file);
	tcase_add_test(tc, test_dead_server_fails_fast);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(make_suite)
