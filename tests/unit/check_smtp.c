/*
 * check_smtp - the SMTP server's pure parts: command-line parser, DATA /
 * BDAT content reader (smuggling variants, dot-stuffing, slicing), and
 * the Received header.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil.h"

#include "core/buf.h"
#include "smtp/smtp_int.h"

/* ------------------------------------------------------------------ */
/* Command parser                                                      */

struct cmd_case {
	const char	*line;
	size_t		 len;	/* 0: strlen(line) */
	enum smtp_cmd_err want;
	enum smtp_verb	 verb;	/* checked when want is OK */
};

static const struct cmd_case cmd_cases[] = {
	{ "EHLO client.example\r\n", 0, SMTP_CMD_OK, SMTP_V_EHLO },
	{ "ehlo   client.example\r\n", 0, SMTP_CMD_OK, SMTP_V_EHLO },
	{ "HeLo x\n", 0, SMTP_CMD_OK, SMTP_V_HELO },
	{ "EHLO\r\n", 0, SMTP_CMD_SYNTAX, SMTP_V_EHLO },
	{ "EHLO   \r\n", 0, SMTP_CMD_SYNTAX, SMTP_V_EHLO },
	{ "MAIL FROM:<a@b.example>\r\n", 0, SMTP_CMD_OK, SMTP_V_MAIL },
	{ "mail from:<a@b.example>\r\n", 0, SMTP_CMD_OK, SMTP_V_MAIL },
	{ "MAIL FROM: <a@b.example>\r\n", 0, SMTP_CMD_OK, SMTP_V_MAIL },
	{ "MAIL FROM:<>\r\n", 0, SMTP_CMD_OK, SMTP_V_MAIL },
	{ "MAIL FROM:a@b.example\r\n", 0, SMTP_CMD_OK, SMTP_V_MAIL },
	{ "MAIL FROM:<a@b.example> SIZE=100 BODY=8BITMIME\r\n", 0,
	    SMTP_CMD_OK, SMTP_V_MAIL },
	{ "MAIL FROM:<a@b.example> body=7bit size=0\r\n", 0, SMTP_CMD_OK,
	    SMTP_V_MAIL },
	{ "MAIL FROM:<a@b.example> AUTH=<>\r\n", 0, SMTP_CMD_OK,
	    SMTP_V_MAIL },
	{ "MAIL FROM:<a@b.example> SMTPUTF8\r\n", 0, SMTP_CMD_OK,
	    SMTP_V_MAIL },
	{ "MAIL FROM:<j\xc3\xb6rg@b.example> SMTPUTF8\r\n", 0, SMTP_CMD_OK,
	    SMTP_V_MAIL },
	{ "MAIL FROM:<j\xc3\xb6rg@b.example>\r\n", 0, SMTP_CMD_UTF8,
	    SMTP_V_MAIL },
	{ "MAIL FROM:<a@b.example> SIZE=abc\r\n", 0, SMTP_CMD_PARAM,
	    SMTP_V_MAIL },
	{ "MAIL FROM:<a@b.example> SIZE=\r\n", 0, SMTP_CMD_PARAM,
	    SMTP_V_MAIL },
	{ "MAIL FROM:<a@b.example> SIZE=1 SIZE=2\r\n", 0, SMTP_CMD_PARAM,
	    SMTP_V_MAIL },
	{ "MAIL FROM:<a@b.example> SIZE=999999999999999999999999\r\n", 0,
	    SMTP_CMD_PARAM, SMTP_V_MAIL },
	{ "MAIL FROM:<a@b.example> BODY=BINARYMIME\r\n", 0, SMTP_CMD_PARAM,
	    SMTP_V_MAIL },
	{ "MAIL FROM:<a@b.example> RET=HDRS\r\n", 0, SMTP_CMD_PARAM,
	    SMTP_V_MAIL },
	{ "MAIL FROM:<a@b.example> SMTPUTF8=yes\r\n", 0, SMTP_CMD_PARAM,
	    SMTP_V_MAIL },
	{ "MAIL FROM:<a@b.example> =x\r\n", 0, SMTP_CMD_PARAM, SMTP_V_MAIL },
	{ "MAIL FROM:<a@b.example>x\r\n", 0, SMTP_CMD_ADDR, SMTP_V_MAIL },
	{ "MAIL FROM:<a@b.example\r\n", 0, SMTP_CMD_ADDR, SMTP_V_MAIL },
	{ "MAIL FROM:<a b@b.example>\r\n", 0, SMTP_CMD_ADDR, SMTP_V_MAIL },
	{ "MAIL TO:<a@b.example>\r\n", 0, SMTP_CMD_SYNTAX, SMTP_V_MAIL },
	{ "MAIL FROM:\r\n", 0, SMTP_CMD_SYNTAX, SMTP_V_MAIL },
	{ "MAIL\r\n", 0, SMTP_CMD_SYNTAX, SMTP_V_MAIL },
	{ "RCPT TO:<bob@example.org>\r\n", 0, SMTP_CMD_OK, SMTP_V_RCPT },
	{ "rcpt to:<Postmaster>\r\n", 0, SMTP_CMD_OK, SMTP_V_RCPT },
	{ "RCPT TO:<>\r\n", 0, SMTP_CMD_ADDR, SMTP_V_RCPT },
	{ "RCPT TO:<bob@example.org> NOTIFY=SUCCESS,FAILURE "
	    "ORCPT=rfc822;bob@example.org\r\n", 0, SMTP_CMD_OK, SMTP_V_RCPT },
	{ "RCPT TO:<bob@example.org> NOTIFY=NEVER,SUCCESS\r\n", 0,
	    SMTP_CMD_PARAM, SMTP_V_RCPT },
	{ "RCPT TO:<bob@example.org> NOTIFY=SUCCESS,\r\n", 0,
	    SMTP_CMD_PARAM, SMTP_V_RCPT },
	{ "RCPT TO:<bob@example.org> SIZE=1\r\n", 0, SMTP_CMD_PARAM,
	    SMTP_V_RCPT },
	{ "RCPT TO:<@relay.example:bob@example.org>\r\n", 0, SMTP_CMD_OK,
	    SMTP_V_RCPT },
	{ "RCPT TO:<bob%other.example@example.org>\r\n", 0, SMTP_CMD_OK,
	    SMTP_V_RCPT },
	{ "RCPT TO:<bob@[192.0.2.1]>\r\n", 0, SMTP_CMD_OK, SMTP_V_RCPT },
	{ "RCPT FROM:<bob@example.org>\r\n", 0, SMTP_CMD_SYNTAX,
	    SMTP_V_RCPT },
	{ "DATA\r\n", 0, SMTP_CMD_OK, SMTP_V_DATA },
	{ "data \r\n", 0, SMTP_CMD_OK, SMTP_V_DATA },
	{ "DATA x\r\n", 0, SMTP_CMD_SYNTAX, SMTP_V_DATA },
	{ "BDAT 100\r\n", 0, SMTP_CMD_OK, SMTP_V_BDAT },
	{ "BDAT 0 LAST\r\n", 0, SMTP_CMD_OK, SMTP_V_BDAT },
	{ "bdat 12 last\r\n", 0, SMTP_CMD_OK, SMTP_V_BDAT },
	{ "BDAT\r\n", 0, SMTP_CMD_SYNTAX, SMTP_V_BDAT },
	{ "BDAT x\r\n", 0, SMTP_CMD_SYNTAX, SMTP_V_BDAT },
	{ "BDAT -1\r\n", 0, SMTP_CMD_SYNTAX, SMTP_V_BDAT },
	{ "BDAT 1 LASTX\r\n", 0, SMTP_CMD_SYNTAX, SMTP_V_BDAT },
	{ "BDAT 1 LAST x\r\n", 0, SMTP_CMD_SYNTAX, SMTP_V_BDAT },
	{ "BDAT 999999999999999999999999\r\n", 0, SMTP_CMD_SYNTAX,
	    SMTP_V_BDAT },
	{ "AUTH PLAIN AGJvYgBzZWNyZXQ=\r\n", 0, SMTP_CMD_OK, SMTP_V_AUTH },
	{ "auth login\r\n", 0, SMTP_CMD_OK, SMTP_V_AUTH },
	{ "AUTH\r\n", 0, SMTP_CMD_SYNTAX, SMTP_V_AUTH },
	{ "AUTH PLAIN a b\r\n", 0, SMTP_CMD_SYNTAX, SMTP_V_AUTH },
	{ "AUTH PL@IN\r\n", 0, SMTP_CMD_SYNTAX, SMTP_V_AUTH },
	{ "RSET\r\n", 0, SMTP_CMD_OK, SMTP_V_RSET },
	{ "RSET now\r\n", 0, SMTP_CMD_SYNTAX, SMTP_V_RSET },
	{ "NOOP\r\n", 0, SMTP_CMD_OK, SMTP_V_NOOP },
	{ "NOOP anything goes\r\n", 0, SMTP_CMD_OK, SMTP_V_NOOP },
	{ "QUIT\r\n", 0, SMTP_CMD_OK, SMTP_V_QUIT },
	{ "VRFY bob\r\n", 0, SMTP_CMD_OK, SMTP_V_VRFY },
	{ "VRFY\r\n", 0, SMTP_CMD_SYNTAX, SMTP_V_VRFY },
	{ "EXPN staff\r\n", 0, SMTP_CMD_OK, SMTP_V_EXPN },
	{ "HELP\r\n", 0, SMTP_CMD_OK, SMTP_V_HELP },
	{ "STARTTLS\r\n", 0, SMTP_CMD_OK, SMTP_V_STARTTLS },
	{ "StartTLS\n", 0, SMTP_CMD_OK, SMTP_V_STARTTLS },
	{ "STARTTLS x\r\n", 0, SMTP_CMD_SYNTAX, SMTP_V_STARTTLS },
	{ "GET / HTTP/1.1\r\n", 0, SMTP_CMD_OK, SMTP_V_WEB },
	{ "FOO\r\n", 0, SMTP_CMD_UNKNOWN, SMTP_V_UNKNOWN },
	{ "\r\n", 0, SMTP_CMD_UNKNOWN, SMTP_V_UNKNOWN },
	{ "", 0, SMTP_CMD_UNKNOWN, SMTP_V_UNKNOWN },
	{ "MAILFROM:<a@b.example>\r\n", 0, SMTP_CMD_UNKNOWN, SMTP_V_UNKNOWN },
	{ " MAIL FROM:<a@b.example>\r\n", 0, SMTP_CMD_UNKNOWN,
	    SMTP_V_UNKNOWN },
	/* control bytes, NUL included, are refused wherever they are */
	{ "NOOP\0x\r\n", 8, SMTP_CMD_SYNTAX, SMTP_V_UNKNOWN },
	{ "MAIL FROM:<a@b\0.example>\r\n", 26, SMTP_CMD_SYNTAX,
	    SMTP_V_UNKNOWN },
	{ "RSET\r\r\n", 0, SMTP_CMD_SYNTAX, SMTP_V_UNKNOWN },
	{ "HELO a\x1b[31m\r\n", 0, SMTP_CMD_SYNTAX, SMTP_V_UNKNOWN },
};

START_TEST(test_cmd_table)
{
	const struct cmd_case *tc = &cmd_cases[_i];
	size_t len = tc->len != 0 ? tc->len : strlen(tc->line);
	struct smtp_cmd cmd;
	const char *why = NULL;
	enum smtp_cmd_err e;

	e = smtp_cmd_parse(tc->line, len, &cmd, &why);
	ck_assert_msg(e == tc->want, "case %d \"%s\": got %d, want %d (%s)",
	    _i, tc->line, (int)e, (int)tc->want, why ? why : "");
	if (e != SMTP_CMD_OK)
		ck_assert_ptr_nonnull(why);
	if (e == SMTP_CMD_OK || tc->verb != SMTP_V_UNKNOWN)
		ck_assert_msg(cmd.verb == tc->verb, "case %d: verb %d want %d",
		    _i, (int)cmd.verb, (int)tc->verb);
}
END_TEST

static struct smtp_cmd
parse_ok(const char *line)
{
	struct smtp_cmd cmd;
	const char *why = NULL;

	ck_assert_int_eq(smtp_cmd_parse(line, strlen(line), &cmd, &why),
	    SMTP_CMD_OK);
	return cmd;
}

START_TEST(test_cmd_mail_params)
{
	struct smtp_cmd c;

	c = parse_ok("MAIL FROM:<Alice@Example.ORG> SIZE=12345 "
	    "BODY=8BITMIME SMTPUTF8\r\n");
	ck_assert_str_eq(c.path.addr, "Alice@example.org");
	ck_assert(c.has_size);
	ck_assert_uint_eq(c.size, 12345);
	ck_assert_int_eq(c.body, SMTP_BODY_8BITMIME);
	ck_assert(c.smtputf8);
	ck_assert(!c.path.null);

	c = parse_ok("MAIL FROM:<>\r\n");
	ck_assert(c.path.null);
	ck_assert(!c.has_size);
	ck_assert_int_eq(c.body, SMTP_BODY_NONE);

	c = parse_ok("MAIL FROM:bare@example.org SIZE=1\r\n");
	ck_assert_str_eq(c.path.addr, "bare@example.org");
	ck_assert_uint_eq(c.size, 1);

	c = parse_ok("RCPT TO:<@a.example,@b.example:bob@c.example>\r\n");
	ck_assert(c.path.had_route);
	ck_assert_str_eq(c.path.domain, "c.example");

	c = parse_ok("RCPT TO:<bob@[192.0.2.1]>\r\n");
	ck_assert(c.path.ip_literal);

	c = parse_ok("RCPT TO:<\"bob@evil\"@example.org>\r\n");
	ck_assert(c.path.quoted);
	ck_assert_str_eq(c.path.local, "bob@evil");

	c = parse_ok("RCPT TO:<postmaster>\r\n");
	ck_assert_str_eq(c.path.domain, "");
}
END_TEST

START_TEST(test_cmd_args)
{
	struct smtp_cmd c;

	c = parse_ok("EHLO  mail.example.net  \r\n");
	ck_assert_uint_eq(c.arglen, strlen("mail.example.net"));
	ck_assert(memcmp(c.arg, "mail.example.net", c.arglen) == 0);

	c = parse_ok("BDAT 4096 LAST\r\n");
	ck_assert_uint_eq(c.chunk, 4096);
	ck_assert(c.last);
	c = parse_ok("BDAT 18446744073709551615\r\n");
	ck_assert_uint_eq(c.chunk, UINT64_MAX);
	ck_assert(!c.last);

	c = parse_ok("auth plain AGJvYgBzZWNyZXQ=\r\n");
	ck_assert_str_eq(c.mech, "PLAIN");
	ck_assert_uint_eq(c.initial_len, 16);
	ck_assert(memcmp(c.initial, "AGJvYgBzZWNyZXQ=", 16) == 0);
	c = parse_ok("AUTH LOGIN\r\n");
	ck_assert_str_eq(c.mech, "LOGIN");
	ck_assert_ptr_null(c.initial);
	c = parse_ok("AUTH PLAIN =\r\n");
	ck_assert_uint_eq(c.initial_len, 1);
}
END_TEST

/* Overlong and hostile lines never crash and never read past len. */
START_TEST(test_cmd_overlong)
{
	char *line;
	struct smtp_cmd c;
	const char *why;
	size_t n = 70000, i;

	line = malloc(n);
	ck_assert_ptr_nonnull(line);
	memcpy(line, "MAIL FROM:<", 11);
	for (i = 11; i < n; i++)
		line[i] = 'a';
	ck_assert_int_eq(smtp_cmd_parse(line, n, &c, &why), SMTP_CMD_ADDR);
	memcpy(line, "RCPT TO:<a@", 11);
	ck_assert_int_eq(smtp_cmd_parse(line, n, &c, &why), SMTP_CMD_ADDR);
	memcpy(line, "BDAT 1", 6);
	ck_assert_int_eq(smtp_cmd_parse(line, n, &c, &why), SMTP_CMD_SYNTAX);
	memcpy(line, "AUTH ", 5);
	ck_assert_int_eq(smtp_cmd_parse(line, n, &c, &why), SMTP_CMD_SYNTAX);
	/* every prefix of a good line parses without reading beyond it */
	{
		const char *good = "MAIL FROM:<a@b.example> SIZE=10 "
		    "BODY=8BITMIME\r\n";

		for (i = 0; i <= strlen(good); i++) {
			char *copy = malloc(i + 1);

			memcpy(copy, good, i);
			(void)smtp_cmd_parse(copy, i, &c, &why);
			free(copy);
		}
	}
	free(line);
}
END_TEST

/* ------------------------------------------------------------------ */
/* DATA reader                                                         */

struct data_res {
	char	*out;
	size_t	 outlen;
	int	 done;
	size_t	 used;
	struct smtp_data d;
};

/* Feed in slices of `step` bytes (0: all at once; -1: pseudo-random). */
static struct data_res
data_run(const char *in, size_t n, bool raw, uint64_t max, int step)
{
	struct data_res r;
	struct buf *out = malloc(sizeof(*out));
	size_t off = 0, used;
	unsigned seed = 12345;

	memset(&r, 0, sizeof(r));
	buf_init(out, BUF_UNLIMITED);
	smtp_data_init(&r.d, out, max, raw);
	while (off < n) {
		size_t take = n - off;

		if (step > 0 && take > (size_t)step)
			take = (size_t)step;
		if (step < 0) {
			seed = seed * 1103515245u + 12345u;
			take = 1 + (seed >> 16) % 7;
			if (take > n - off)
				take = n - off;
		}
		r.done = smtp_data_feed(&r.d, in + off, take, &used);
		ck_assert_uint_le(used, take);
		off += used;
		if (r.done)
			break;
		ck_assert_uint_eq(used, take);
	}
	if (raw)
		smtp_data_finish(&r.d);
	r.used = off;
	r.outlen = out->len;
	r.out = malloc(out->len + 1);
	memcpy(r.out, buf_cstr(out), out->len + 1);
	buf_free(out);
	free(out);
	r.d.out = NULL;
	return r;
}

struct data_case {
	const char	*name;
	const char	*in;
	size_t		 inlen;		/* 0: strlen */
	bool		 raw;
	const char	*want;
	size_t		 wantlen;	/* 0: strlen */
	int		 done;
	size_t		 rest;		/* bytes left after the end */
	uint64_t	 smuggle;
	uint64_t	 bare_lf;
	uint64_t	 bare_cr;
};

#define S(x) x, sizeof(x) - 1

static const struct data_case data_cases[] = {
	{ "simple", S("Subject: x\r\n\r\nbody\r\n.\r\n"), false,
	    S("Subject: x\n\nbody\n"), 1, 0, 0, 0, 0 },
	{ "empty", S(".\r\n"), false, S(""), 1, 0, 0, 0, 0 },
	{ "stuffing", S("..hidden\r\n...\r\n. x\r\n.\r\n"), false,
	    S(".hidden\n..\n x\n"), 1, 0, 0, 0, 0 },
	{ "pipelined rest", S("x\r\n.\r\nQUIT\r\n"), false, S("x\n"), 1, 6,
	    0, 0, 0 },
	{ "not ended", S("abc\r\n.\r"), false, S("abc\n"), 0, 0, 0, 0, 0 },
	{ "not ended 2", S("abc\r\n."), false, S("abc\n"), 0, 0, 0, 0, 0 },
	{ "no final crlf", S("abc.\r\n"), false, S("abc.\n"), 0, 0, 0, 0, 0 },
	/* smuggling: none of these ends the message */
	{ "LF.LF", S("a\n.\nMAIL FROM:<x@y>\r\n.\r\n"), false,
	    S("a\n.\nMAIL FROM:<x@y>\n"), 1, 0, 1, 2, 0 },
	{ "LF.CRLF", S("a\n.\r\nRCPT TO:<x@y>\r\n.\r\n"), false,
	    S("a\n.\nRCPT TO:<x@y>\n"), 1, 0, 1, 1, 0 },
	{ "CRLF.LF", S("a\r\n.\nDATA\r\n.\r\n"), false, S("a\n.\nDATA\n"),
	    1, 0, 1, 1, 0 },
	{ "CR.CRLF", S("a\r.\r\nQUIT\r\n.\r\n"), false,
	    S("a\r.\nQUIT\n"), 1, 0, 1, 0, 1 },
	{ "CR.LF", S("a\r.\nb\r\n.\r\n"), false, S("a\r.\nb\n"), 1, 0, 1,
	    1, 1 },
	{ "CR.CR", S("a\r.\rb\r\n.\r\n"), false, S("a\r.\rb\n"), 1, 0, 1,
	    0, 2 },
	{ "LF.CR.CRLF", S("a\r\n.\r.\r\n.\r\n"), false, S("a\n\r.\n"), 1, 0,
	    1, 0, 1 },
	/* bare LF alone is normalised and counted, not refused */
	{ "bare LF text", S("a\nb\n\r\n.\r\n"), false, S("a\nb\n\n"), 1, 0,
	    0, 2, 0 },
	{ "bare CR text", S("a\rb\r\n.\r\n"), false, S("a\rb\n"), 1, 0, 0,
	    0, 1 },
	{ "CR CR LF", S("a\r\r\n.\r\n"), false, S("a\r\n"), 1, 0, 0, 0, 1 },
	{ "8bit and NUL", S("\xff\x00\xe9t\xc3\xa9\r\n.\r\n"), false,
	    S("\xff\x00\xe9t\xc3\xa9\n"), 1, 0, 0, 0, 0 },
	{ "dot CR x", S(".\rx\r\n.\r\n"), false, S("\rx\n"), 1, 0, 0, 0, 1 },
	/* BDAT: raw bytes, no dot handling, CRLF -> LF */
	{ "raw", S("a\r\n.\r\n..b\r\n"), true, S("a\n.\n..b\n"), 0, 0, 0, 0,
	    0 },
	{ "raw no final eol", S("abc"), true, S("abc"), 0, 0, 0, 0, 0 },
	{ "raw trailing CR", S("abc\r"), true, S("abc\r"), 0, 0, 0, 0, 1 },
	{ "raw trailing dot", S("a\r\n."), true, S("a\n."), 0, 0, 0, 0, 0 },
	{ "raw CR.CRLF", S("a\r.\r\n"), true, S("a\r.\n"), 0, 0, 1, 0, 1 },
	{ "raw bare LF dot", S("a\n.\nb"), true, S("a\n.\nb"), 0, 0, 0, 2,
	    0 },
};

START_TEST(test_data_table)
{
	const struct data_case *tc = &data_cases[_i];
	static const int steps[] = { 0, 1, 2, 3, -1 };
	size_t k;

	for (k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
		struct data_res r = data_run(tc->in, tc->inlen, tc->raw,
		    1 << 20, steps[k]);

		ck_assert_msg(r.outlen == tc->wantlen &&
		    memcmp(r.out, tc->want, tc->wantlen) == 0,
		    "%s step %d: content differs (len %zu want %zu)",
		    tc->name, steps[k], r.outlen, tc->wantlen);
		ck_assert_msg(r.done == tc->done, "%s step %d: done %d",
		    tc->name, steps[k], r.done);
		if (tc->done)
			ck_assert_msg(tc->inlen - r.used == tc->rest,
			    "%s: rest %zu want %zu", tc->name,
			    tc->inlen - r.used, tc->rest);
		ck_assert_msg(r.d.smuggle == tc->smuggle,
		    "%s step %d: smuggle %llu want %llu", tc->name, steps[k],
		    (unsigned long long)r.d.smuggle,
		    (unsigned long long)tc->smuggle);
		ck_assert_msg(r.d.bare_lf == tc->bare_lf,
		    "%s: bare_lf %llu", tc->name,
		    (unsigned long long)r.d.bare_lf);
		ck_assert_msg(r.d.bare_cr == tc->bare_cr,
		    "%s: bare_cr %llu", tc->name,
		    (unsigned long long)r.d.bare_cr);
		ck_assert_uint_eq(r.d.size, r.outlen);
		free(r.out);
	}
}
END_TEST

START_TEST(test_data_counters)
{
	struct data_res r = data_run(S("\xff\x00\xe9t\r\n.\r\n"), false,
	    1000, 0);

	ck_assert_uint_eq(r.d.nul, 1);
	ck_assert_uint_eq(r.d.eightbit, 2);
	ck_assert_uint_eq(r.d.lines, 1);
	ck_assert(!r.d.over_limit);
	free(r.out);
}
END_TEST

/* Text lines far beyond 998 octets are kept whole (not truncated). */
START_TEST(test_data_long_line)
{
	size_t n = 100000, i;
	char *in = malloc(n + 5);
	struct data_res r;

	for (i = 0; i < n; i++)
		in[i] = (char)('a' + i % 26);
	memcpy(in + n, "\r\n.\r\n", 5);
	r = data_run(in, n + 5, false, 1 << 20, 0);
	ck_assert_int_eq(r.done, 1);
	ck_assert_uint_eq(r.outlen, n + 1);
	ck_assert(memcmp(r.out, in, n) == 0);
	ck_assert_int_eq(r.out[n], '\n');
	free(r.out);
	r = data_run(in, n + 5, false, 1 << 20, 997);
	ck_assert_uint_eq(r.outlen, n + 1);
	free(r.out);
	free(in);
}
END_TEST

/* Over the limit: read to the end, counted, not stored past max. */
START_TEST(test_data_limit)
{
	struct data_res r;

	r = data_run(S("0123456789abcdef\r\n.\r\nNOOP\r\n"), false, 10, 1);
	ck_assert_int_eq(r.done, 1);
	ck_assert(r.d.over_limit);
	ck_assert_uint_eq(r.d.size, 17);
	ck_assert_uint_le(r.outlen, 10);
	ck_assert_uint_eq(r.used, sizeof("0123456789abcdef\r\n.\r\n") - 1);
	free(r.out);

	r = data_run(S("0123456789\r\n.\r\n"), false, 11, 0);
	ck_assert(!r.d.over_limit);
	ck_assert_uint_eq(r.outlen, 11);
	free(r.out);
}
END_TEST

/* Random input: any slicing gives the same result as one chunk. */
START_TEST(test_data_slicing_random)
{
	static const char alphabet[] = { '\r', '\n', '.', 'a', '\0', '\xff' };
	unsigned seed = 4242;
	int round;

	for (round = 0; round < 300; round++) {
		char in[64];
		size_t n = 1 + (size_t)round % 63, i;
		struct data_res a, b, c;

		for (i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			in[i] = alphabet[(seed >> 16) % sizeof(alphabet)];
		}
		a = data_run(in, n, round % 2 == 1, 1 << 20, 0);
		b = data_run(in, n, round % 2 == 1, 1 << 20, 1);
		c = data_run(in, n, round % 2 == 1, 1 << 20, -1);
		ck_assert_uint_eq(a.outlen, b.outlen);
		ck_assert_uint_eq(a.outlen, c.outlen);
		ck_assert(memcmp(a.out, b.out, a.outlen) == 0);
		ck_assert(memcmp(a.out, c.out, a.outlen) == 0);
		ck_assert_int_eq(a.done, b.done);
		ck_assert_int_eq(a.done, c.done);
		ck_assert_uint_eq(a.used, b.used);
		ck_assert_uint_eq(a.d.smuggle, b.d.smuggle);
		ck_assert_uint_eq(a.d.smuggle, c.d.smuggle);
		/* the only end is CRLF "." CRLF after a CRLF (or at start) */
		if (a.done && !(round % 2)) {
			ck_assert_uint_ge(a.used, 3);
			ck_assert(memcmp(in + a.used - 3, ".\r\n", 3) == 0);
			ck_assert(a.used == 3 ||
			    memcmp(in + a.used - 5, "\r\n", 2) == 0);
		}
		free(a.out);
		free(b.out);
		free(c.out);
	}
}
END_TEST

/* ------------------------------------------------------------------ */
/* Received header                                                     */

static char *
received(const struct smtp_received *r)
{
	struct buf b;
	char *s;

	buf_init(&b, 4096);
	ck_assert_int_eq(smtp_received_fmt(&b, r), 0);
	s = strdup(buf_cstr(&b));
	buf_free(&b);
	return s;
}

START_TEST(test_received_tls)
{
	struct smtp_received r;
	char *s;

	setenv("TZ", "UTC", 1);
	tzset();
	memset(&r, 0, sizeof(r));
	r.helo = "client.example";
	r.client_ip = "192.0.2.1";
	r.hostname = "mail.example.org";
	r.tls_version = "TLSv1.3";
	r.tls_cipher = "TLS_AES_256_GCM_SHA384";
	r.tls_bits = 256;
	r.esmtp = true;
	r.authenticated = true;
	r.id = "3f9a2c1e7b00d412-1";
	r.rcpt = "bob@example.org";
	r.when = 1764084844;	/* 2025-11-25 15:34:04 UTC */
	s = received(&r);
	ck_assert_str_eq(s,
	    "Received: from client.example ([192.0.2.1])\n"
	    "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 "
	    "(256/256 bits))\n"
	    "\tby mail.example.org (facteur) with ESMTPSA id "
	    "3f9a2c1e7b00d412-1\n"
	    "\tfor <bob@example.org>; Tue, 25 Nov 2025 15:34:04 +0000\n");
	free(s);
}
END_TEST

START_TEST(test_received_plain)
{
	struct smtp_received r;
	char *s;

	setenv("TZ", "UTC", 1);
	tzset();
	memset(&r, 0, sizeof(r));
	r.helo = "evil)\r\nX-Injected: yes";
	r.client_ip = "2001:db8::1";
	r.hostname = "mx.example.org";
	r.esmtp = false;
	r.id = "00-2";
	r.when = 0;
	s = received(&r);
	ck_assert_str_eq(s,
	    "Received: from evil???X-Injected:?yes ([IPv6:2001:db8::1])\n"
	    "\tby mx.example.org (facteur) with SMTP id 00-2;\n"
	    "\tThu, 1 Jan 1970 00:00:00 +0000\n");
	free(s);
}
END_TEST

START_TEST(test_with_proto)
{
	ck_assert_str_eq(smtp_with_proto(false, true, true, true), "SMTP");
	ck_assert_str_eq(smtp_with_proto(true, false, false, false), "ESMTP");
	ck_assert_str_eq(smtp_with_proto(true, true, false, false), "ESMTPS");
	ck_assert_str_eq(smtp_with_proto(true, false, true, false), "ESMTPA");
	ck_assert_str_eq(smtp_with_proto(true, true, true, false),
	    "ESMTPSA");
	ck_assert_str_eq(smtp_with_proto(true, true, true, true),
	    "UTF8SMTPSA");
	ck_assert_str_eq(smtp_with_proto(true, false, false, true),
	    "UTF8SMTP");
}
END_TEST

START_TEST(test_received_full)
{
	struct smtp_received r;
	struct buf b;

	memset(&r, 0, sizeof(r));
	r.helo = "h";
	r.client_ip = "192.0.2.1";
	r.hostname = "mx";
	r.id = "1";
	buf_init(&b, 20);
	ck_assert_int_eq(smtp_received_fmt(&b, &r), -1);
	buf_free(&b);
}
END_TEST

START_TEST(test_hops)
{
	const char *m1 = "Received: a\nreceived: b\n\tcont\nX: y\n"
	    "RECEIVED:c\n\nReceived: in the body\n";
	const char *m2 = "Subject: x\r\nReceived: a\r\n\r\nReceived: b\r\n";
	const char *m3 = "\nReceived: body only\n";
	const char *m4 = "X-Received: no\nReceived";

	ck_assert_uint_eq(smtp_hops(m1, strlen(m1)), 3);
	ck_assert_uint_eq(smtp_hops(m2, strlen(m2)), 1);
	ck_assert_uint_eq(smtp_hops(m3, strlen(m3)), 0);
	ck_assert_uint_eq(smtp_hops(m4, strlen(m4)), 0);
	ck_assert_uint_eq(smtp_hops("", 0), 0);
	/* the count stops at len, even inside a field name */
	ck_assert_uint_eq(smtp_hops(m1, 5), 0);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("smtp");
	TCase *tc;

	tc = tcase_create("cmd");
	tcase_add_loop_test(tc, test_cmd_table, 0,
	    sizeof(cmd_cases) / sizeof(cmd_cases[0]));
	tcase_add_test(tc, test_cmd_mail_params);
	tcase_add_test(tc, test_cmd_args);
	tcase_add_test(tc, test_cmd_overlong);
	suite_add_tcase(s, tc);

	tc = tcase_create("data");
	tcase_add_loop_test(tc, test_data_table, 0,
	    sizeof(data_cases) / sizeof(data_cases[0]));
	tcase_add_test(tc, test_data_counters);
	tcase_add_test(tc, test_data_long_line);
	tcase_add_test(tc, test_data_limit);
	tcase_add_test(tc, test_data_slicing_random);
	suite_add_tcase(s, tc);

	tc = tcase_create("received");
	tcase_add_test(tc, test_received_tls);
	tcase_add_test(tc, test_received_plain);
	tcase_add_test(tc, test_with_proto);
	tcase_add_test(tc, test_received_full);
	tcase_add_test(tc, test_hops);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(make_suite)
