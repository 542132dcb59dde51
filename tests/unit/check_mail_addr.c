/*
 * check_mail_addr - RFC 5321 paths (addr_parse_path), addr_split,
 * addr_local_is_safe. Tables of good and hostile paths.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "mail/addr.h"
#include "testutil.h"

#define A64 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define L63 "lllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllll"

struct good_case {
	const char	*in;
	size_t		 inlen;		/* 0: strlen */
	bool		 null_ok;
	bool		 utf8_ok;
	const char	*local;
	const char	*domain;
	const char	*addr;
	size_t		 end;
	unsigned	 flags;		/* G_* below */
};

#define G_NULL	0x01
#define G_ROUTE	0x02
#define G_QUOTE	0x04
#define G_UTF8	0x08
#define G_IPLIT	0x10

static const struct good_case good[] = {
	{ "<bob@example.org>", 0, false, false, "bob", "example.org",
	    "bob@example.org", 17, 0 },
	{ "<Bob.Smith@EXAMPLE.Org> SIZE=1000", 0, false, false, "Bob.Smith",
	    "example.org", "Bob.Smith@example.org", 23, 0 },
	{ "<>", 0, true, false, "", "", "", 2, G_NULL },
	{ "<> BODY=8BITMIME", 0, true, false, "", "", "", 2, G_NULL },
	{ "<\"a b\"@example.org>", 0, false, false, "a b", "example.org",
	    "\"a b\"@example.org", 19, G_QUOTE },
	/* a quoted local part that needs no quotes is normalised */
	{ "<\"bob\"@example.org>", 0, false, false, "bob", "example.org",
	    "bob@example.org", 19, G_QUOTE },
	{ "<\"a@b\"@example.org>", 0, false, false, "a@b", "example.org",
	    "\"a@b\"@example.org", 19, G_QUOTE },
	{ "<\"a\\\"b\\\\c\"@x.org>", 0, false, false, "a\"b\\c", "x.org",
	    "\"a\\\"b\\\\c\"@x.org", 17, G_QUOTE },
	{ "<@relay.example,@hop.example:bob@example.org>", 0, false, false,
	    "bob", "example.org", "bob@example.org", 45, G_ROUTE },
	{ "<@relay.example:bob@example.org>", 0, false, false, "bob",
	    "example.org", "bob@example.org", 32, G_ROUTE },
	{ "<bob@[192.0.2.1]>", 0, false, false, "bob", "[192.0.2.1]",
	    "bob@[192.0.2.1]", 17, G_IPLIT },
	{ "<bob@[IPv6:2001:db8::1]>", 0, false, false, "bob",
	    "[ipv6:2001:db8::1]", "bob@[ipv6:2001:db8::1]", 24, G_IPLIT },
	{ "<Postmaster>", 0, false, false, "Postmaster", "", "Postmaster", 12,
	    0 },
	{ "<j\xc3\xb6rg@ex\xc3\xa4mple.org>", 0, false, true, "j\xc3\xb6rg",
	    "ex\xc3\xa4mple.org", "j\xc3\xb6rg@ex\xc3\xa4mple.org", 20,
	    G_UTF8 },
	{ "<\"j\xc3\xb6 rg\"@example.org>", 0, false, true, "j\xc3\xb6 rg",
	    "example.org", "\"j\xc3\xb6 rg\"@example.org", 22,
	    G_UTF8 | G_QUOTE },
	/* %-hack and bang paths parse (they are valid dot-strings) but
	 * addr_local_is_safe refuses them, see below */
	{ "<user%other.example@relay.example>", 0, false, false,
	    "user%other.example", "relay.example",
	    "user%other.example@relay.example", 34, 0 },
	{ "<host!user@example.org>", 0, false, false, "host!user",
	    "example.org", "host!user@example.org", 23, 0 },
	{ "<first.last+tag@sub.example.co.uk>", 0, false, false,
	    "first.last+tag", "sub.example.co.uk",
	    "first.last+tag@sub.example.co.uk", 34, 0 },
	{ "<" A64 "@example.org>", 0, false, false, A64, "example.org",
	    A64 "@example.org", 78, 0 },
	{ "<a@" L63 ".org>", 0, false, false, "a", L63 ".org", "a@" L63 ".org",
	    71, 0 },
	{ "<x@a-b.c0>", 0, false, false, "x", "a-b.c0", "x@a-b.c0", 10, 0 },
};

struct bad_case {
	const char	*in;
	size_t		 inlen;
	bool		 null_ok;
	bool		 utf8_ok;
	const char	*why;
};

static const struct bad_case bad[] = {
	{ "", 0, true, true, "syntax" },
	{ "<", 0, true, true, "syntax" },
	{ "bob@example.org", 0, true, true, "syntax" },
	{ "<bob@example.org", 0, true, true, "syntax" },
	{ "<bob@example.org >", 0, true, true, "syntax" },
	{ " <bob@example.org>", 0, true, true, "syntax" },
	{ "<>", 0, false, true, "null path not allowed" },
	{ "<bob>", 0, true, true, "missing domain" },
	{ "<\"Postmaster\">", 0, true, true, "missing domain" },
	{ "<@example.org>", 0, true, true, "syntax" },
	{ "<bob@>", 0, true, true, "syntax" },
	{ "<bob@-example.org>", 0, true, true, "syntax" },
	{ "<bob@example-.org>", 0, true, true, "syntax" },
	{ "<bob@example..org>", 0, true, true, "syntax" },
	{ "<bob@example.org.>", 0, true, true, "syntax" },
	{ "<bob@exa_mple.org>", 0, true, true, "syntax" },
	{ "<.bob@x.org>", 0, true, true, "syntax" },
	{ "<bob.@x.org>", 0, true, true, "syntax" },
	{ "<bo..b@x.org>", 0, true, true, "syntax" },
	{ "<bob @x.org>", 0, true, true, "missing domain" },
	{ "<bob@ex ample.org>", 0, true, true, "syntax" },
	{ "<bo(comment)b@x.org>", 0, true, true, "missing domain" },
	{ "<a@b@c.org>", 0, true, true, "syntax" },
	{ "<j\xc3\xb6rg@example.org>", 0, true, false, "8bit" },
	{ "<bob@ex\xc3\xa4mple.org>", 0, true, false, "8bit" },
	{ "<\xc3\x28@x.org>", 0, true, true, "bad utf-8" },
	{ "<\xc0\xaf@x.org>", 0, true, true, "bad utf-8" },
	{ "<\xed\xa0\x80@x.org>", 0, true, true, "bad utf-8" },
	{ "<\xf4\x90\x80\x80@x.org>", 0, true, true, "bad utf-8" },
	{ "<bob@x.org\xc3>", 0, true, true, "bad utf-8" },
	{ "<bo\0b@x.org>", 12, true, true, "missing domain" },
	{ "<bob@x.o\0rg>", 12, true, true, "syntax" },
	{ "<\"bo\0b\"@x.org>", 14, true, true, "syntax" },
	{ "<\"a\x01" "b\"@x.org>", 0, true, true, "syntax" },
	{ "<\"a\\\x01" "b\"@x.org>", 0, true, true, "syntax" },
	{ "<\"unterminated@x.org>", 0, true, true, "syntax" },
	{ "<\"\"@x.org>", 0, true, true, "empty local part" },
	{ "<a" A64 "@example.org>", 0, true, true, "too long" },
	{ "<\"" A64 "\"@example.org>", 0, true, true, "too long" },
	{ "<a@" L63 "l.org>", 0, true, true, "too long" },
	{ "<bob@[300.1.1.1]>", 0, true, true, "bad address literal" },
	{ "<bob@[1.2.3]>", 0, true, true, "bad address literal" },
	{ "<bob@[IPv6:zz::1]>", 0, true, true, "bad address literal" },
	{ "<bob@[tag:foo]>", 0, true, true, "bad address literal" },
	{ "<bob@[192.0.2.1>", 0, true, true, "syntax" },
	{ "<@a.org:>", 0, true, true, "syntax" },
	{ "<@a.org,b.org:x@y.org>", 0, true, true, "syntax" },
	{ "<@a.org x@y.org>", 0, true, true, "syntax" },
};

START_TEST(test_path_good)
{
	const struct good_case *c = &good[_i];
	struct addr_path p;
	size_t end = 0, n = c->inlen ? c->inlen : strlen(c->in);
	const char *why = NULL;
	int r = addr_parse_path(c->in, n, c->null_ok, c->utf8_ok, &p, &end,
	    &why);

	ck_assert_msg(r == 0, "%s: %s", c->in, why ? why : "?");
	ck_assert_str_eq(p.local, c->local);
	ck_assert_str_eq(p.domain, c->domain);
	ck_assert_str_eq(p.addr, c->addr);
	ck_assert_uint_eq(end, c->end);
	ck_assert(p.null == ((c->flags & G_NULL) != 0));
	ck_assert(p.had_route == ((c->flags & G_ROUTE) != 0));
	ck_assert(p.quoted == ((c->flags & G_QUOTE) != 0));
	ck_assert(p.utf8 == ((c->flags & G_UTF8) != 0));
	ck_assert(p.ip_literal == ((c->flags & G_IPLIT) != 0));
}
END_TEST

START_TEST(test_path_bad)
{
	const struct bad_case *c = &bad[_i];
	struct addr_path p;
	size_t end = 12345, n = c->inlen ? c->inlen : strlen(c->in);
	const char *why = NULL;
	int r = addr_parse_path(c->in, n, c->null_ok, c->utf8_ok, &p, &end,
	    &why);

	ck_assert_msg(r == -1, "accepted: %s", c->in);
	ck_assert_ptr_nonnull(why);
	ck_assert_str_eq(why, c->why);
	ck_assert_uint_eq(end, 12345);
	ck_assert_str_eq(p.addr, "");
}
END_TEST

/* path = "<" 64-octet local "@" domain ">", domain of dlen octets */
static size_t
long_path(char *in, size_t dlen)
{
	size_t o = 0, k;

	in[o++] = '<';
	memcpy(in + o, A64, 64);
	o += 64;
	in[o++] = '@';
	for (k = 0; k < dlen; k++)
		in[o++] = (k % 64 == 63) ? '.' : 'd';
	in[o++] = '>';
	return o;
}

START_TEST(test_path_total_limit)
{
	char in[400];
	struct addr_path p;
	size_t end, n;
	const char *why;

	n = long_path(in, 189);
	ck_assert_uint_eq(n, 256);
	ck_assert_int_eq(addr_parse_path(in, n, false, false, &p, &end, &why),
	    0);
	ck_assert_uint_eq(end, 256);
	ck_assert_uint_eq(strlen(p.addr), 254);
	n = long_path(in, 190);
	ck_assert_int_eq(addr_parse_path(in, n, false, false, &p, &end, &why),
	    -1);
	ck_assert_str_eq(why, "too long");
}
END_TEST

/* every prefix of a good path is rejected, never read past n */
START_TEST(test_path_truncated)
{
	const char *in = "<@r.example:\"a b\"@[IPv6:2001:db8::1]>";
	struct addr_path p;
	size_t end, n;
	const char *why;

	for (n = 0; n < strlen(in); n++) {
		char *copy = malloc(n + 1);

		memcpy(copy, in, n);
		ck_assert_int_eq(addr_parse_path(copy, n, true, true, &p, &end,
		    &why), -1);
		free(copy);
	}
	ck_assert_int_eq(addr_parse_path(in, strlen(in), true, true, &p, &end,
	    &why), 0);
}
END_TEST

START_TEST(test_split)
{
	char l[65], d[256];

	ck_assert_int_eq(addr_split("bob@example.org", l, sizeof(l), d,
	    sizeof(d)), 0);
	ck_assert_str_eq(l, "bob");
	ck_assert_str_eq(d, "example.org");
	/* split at the last '@': quoted local parts may hold one */
	ck_assert_int_eq(addr_split("\"a@b\"@example.org", l, sizeof(l), d,
	    sizeof(d)), 0);
	ck_assert_str_eq(l, "\"a@b\"");
	ck_assert_str_eq(d, "example.org");
	ck_assert_int_eq(addr_split("nodomain", l, sizeof(l), d, sizeof(d)),
	    -1);
	ck_assert_int_eq(addr_split("@example.org", l, sizeof(l), d,
	    sizeof(d)), -1);
	ck_assert_int_eq(addr_split("bob@", l, sizeof(l), d, sizeof(d)), -1);
	ck_assert_int_eq(addr_split("bob@example.org", l, 3, d, sizeof(d)),
	    -1);
	ck_assert_int_eq(addr_split("bob@example.org", l, 4, d, 11), -1);
	ck_assert_int_eq(addr_split("bob@example.org", l, 4, d, 12), 0);
}
END_TEST

static const struct {
	const char	*local;
	bool		 safe;
} safe_cases[] = {
	{ "bob", true },
	{ "first.last+tag", true },
	{ "j\xc3\xb6rg", true },
	{ "a b", true },
	{ "", false },
	{ ".", false },
	{ "..", false },
	{ "../etc", false },
	{ "a/b", false },
	{ "user%other.example", false },
	{ "host!user", false },
	{ "a@b", false },
	{ "a\nb", false },
	{ "a\rb", false },
	{ "a\x7f", false },
	{ "\x01", false },
};

START_TEST(test_local_safe)
{
	ck_assert_msg(addr_local_is_safe(safe_cases[_i].local) ==
	    safe_cases[_i].safe, "case %d", _i);
}
END_TEST

/* what the SMTP server does: parse, then decide on the mailbox path */
START_TEST(test_parse_then_safe)
{
	struct addr_path p;
	size_t end;
	const char *why;

	ck_assert_int_eq(addr_parse_path("<\"../x\"@example.org>", 20, false,
	    false, &p, &end, &why), 0);
	ck_assert_str_eq(p.local, "../x");
	ck_assert(!addr_local_is_safe(p.local));
	ck_assert_int_eq(addr_parse_path("<\"a/b\"@example.org>", 19, false,
	    false, &p, &end, &why), 0);
	ck_assert(!addr_local_is_safe(p.local));
	ck_assert_int_eq(addr_parse_path("<\"..\"@example.org>", 18, false,
	    false, &p, &end, &why), 0);
	ck_assert(!addr_local_is_safe(p.local));
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("mail_addr");
	TCase *tc = tcase_create("path");

	tcase_add_loop_test(tc, test_path_good, 0,
	    (int)(sizeof(good) / sizeof(good[0])));
	tcase_add_loop_test(tc, test_path_bad, 0,
	    (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, test_path_total_limit);
	tcase_add_test(tc, test_path_truncated);
	suite_add_tcase(s, tc);
	tc = tcase_create("split");
	tcase_add_test(tc, test_split);
	tcase_add_loop_test(tc, test_local_safe, 0,
	    (int)(sizeof(safe_cases) / sizeof(safe_cases[0])));
	tcase_add_test(tc, test_parse_then_safe);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(make_suite)
