/*
 * check_pop3 - the POP3 command parser (pop3/cmd.h) and the multi-line
 * response encoder (pop3/stuff.h): RFC 1939 commands in any case, message
 * numbers, hostile lines (NUL, control bytes, overlong numbers, noise),
 * CRLF conversion, dot-stuffing and TOP line limits, fed whole and byte by
 * byte.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"

#include "core/buf.h"
#include "pop3/cmd.h"
#include "pop3/stuff.h"

/* ---------------------------------------------------------------- */
/* parser: good lines                                                 */

struct good_case {
	const char	*line;
	size_t		 len;		/* 0: strlen */
	enum pop3_cmd_id id;
	const char	*arg;		/* NULL: no argument expected */
	int		 has_msg;
	uint32_t	 msg;
	uint64_t	 lines;
};

static const struct good_case good[] = {
	{ "CAPA\r\n", 0, POP3_CMD_CAPA, NULL, 0, 0, 0 },
	{ "capa\r\n", 0, POP3_CMD_CAPA, NULL, 0, 0, 0 },
	{ "CaPa\n", 0, POP3_CMD_CAPA, NULL, 0, 0, 0 },
	{ "QUIT", 0, POP3_CMD_QUIT, NULL, 0, 0, 0 },
	{ "NOOP junk\r\n", 0, POP3_CMD_NOOP, NULL, 0, 0, 0 },
	{ "STAT\r\n", 0, POP3_CMD_STAT, NULL, 0, 0, 0 },
	{ "RSET\r\n", 0, POP3_CMD_RSET, NULL, 0, 0, 0 },
	{ "STLS\r\n", 0, POP3_CMD_STLS, NULL, 0, 0, 0 },
	{ "USER bob@example.org\r\n", 0, POP3_CMD_USER, "bob@example.org",
	    0, 0, 0 },
	{ "user bob  \r\n", 0, POP3_CMD_USER, "bob", 0, 0, 0 },
	{ "PASS secret\r\n", 0, POP3_CMD_PASS, "secret", 0, 0, 0 },
	{ "PASS two words \r\n", 0, POP3_CMD_PASS, "two words ", 0, 0, 0 },
	{ "PASS \r\n", 0, POP3_CMD_PASS, "", 0, 0, 0 },
	{ "PASS caf\xc3\xa9\r\n", 0, POP3_CMD_PASS, "caf\xc3\xa9", 0, 0, 0 },
	{ "AUTH\r\n", 0, POP3_CMD_AUTH, "", 0, 0, 0 },
	{ "AUTH PLAIN\r\n", 0, POP3_CMD_AUTH, "PLAIN", 0, 0, 0 },
	{ "AUTH PLAIN AGJvYgBzZWNyZXQ=\r\n", 0, POP3_CMD_AUTH,
	    "PLAIN AGJvYgBzZWNyZXQ=", 0, 0, 0 },
	{ "LIST\r\n", 0, POP3_CMD_LIST, NULL, 0, 0, 0 },
	{ "LIST 1\r\n", 0, POP3_CMD_LIST, NULL, 1, 1, 0 },
	{ "list  12 \r\n", 0, POP3_CMD_LIST, NULL, 1, 12, 0 },
	{ "LIST 0\r\n", 0, POP3_CMD_LIST, NULL, 1, 0, 0 },
	{ "LIST 4294967295\r\n", 0, POP3_CMD_LIST, NULL, 1, 4294967295u, 0 },
	{ "UIDL\r\n", 0, POP3_CMD_UIDL, NULL, 0, 0, 0 },
	{ "UIDL 3\r\n", 0, POP3_CMD_UIDL, NULL, 1, 3, 0 },
	{ "RETR 7\r\n", 0, POP3_CMD_RETR, NULL, 1, 7, 0 },
	{ "retr 007\r\n", 0, POP3_CMD_RETR, NULL, 1, 7, 0 },
	{ "DELE 2\n", 0, POP3_CMD_DELE, NULL, 1, 2, 0 },
	{ "TOP 1 0\r\n", 0, POP3_CMD_TOP, NULL, 1, 1, 0 },
	{ "TOP 1 10\r\n", 0, POP3_CMD_TOP, NULL, 1, 1, 10 },
	{ "top 5   3\r\n", 0, POP3_CMD_TOP, NULL, 1, 5, 3 },
	{ "TOP 1 18446744073709551615\r\n", 0, POP3_CMD_TOP, NULL, 1, 1,
	    UINT64_MAX },
};

START_TEST(test_parse_good)
{
	const struct good_case *g = &good[_i];
	struct pop3_cmd cmd;
	const char *why = NULL;
	size_t len = g->len != 0 ? g->len : strlen(g->line);
	enum pop3_parse r;

	r = pop3_cmd_parse(g->line, len, &cmd, &why);
	ck_assert_msg(r == POP3_PARSE_OK, "%s: rc %d (%s)", g->line, r, why);
	ck_assert_int_eq(cmd.id, g->id);
	ck_assert_str_eq(cmd.name, pop3_cmd_name(g->id));
	if (g->arg != NULL)
		ck_assert_buf_str(cmd.arg, cmd.arglen, g->arg);
	ck_assert_int_eq(cmd.has_msg, g->has_msg);
	if (g->has_msg)
		ck_assert_uint_eq(cmd.msg, g->msg);
	ck_assert_uint_eq(cmd.lines, g->lines);
}
END_TEST

/* ---------------------------------------------------------------- */
/* parser: bad lines                                                  */

struct bad_case {
	const char	*line;
	size_t		 len;		/* 0: strlen */
	enum pop3_parse	 rc;
	enum pop3_cmd_id id;		/* known keyword or NONE */
	const char	*why;
};

static const struct bad_case bad[] = {
	{ "", 0, POP3_PARSE_UNKNOWN, POP3_CMD_NONE, "Unknown command." },
	{ "\r\n", 0, POP3_PARSE_UNKNOWN, POP3_CMD_NONE, "Unknown command." },
	{ " STAT\r\n", 0, POP3_PARSE_UNKNOWN, POP3_CMD_NONE,
	    "Unknown command." },
	{ "FOO\r\n", 0, POP3_PARSE_UNKNOWN, POP3_CMD_NONE,
	    "Unknown command." },
	{ "APOP bob 0123\r\n", 0, POP3_PARSE_UNKNOWN, POP3_CMD_NONE,
	    "Unknown command." },
	{ "STATUS\r\n", 0, POP3_PARSE_UNKNOWN, POP3_CMD_NONE,
	    "Unknown command." },
	{ "STA\r\n", 0, POP3_PARSE_UNKNOWN, POP3_CMD_NONE,
	    "Unknown command." },
	{ "ST\xc3\x81T\r\n", 0, POP3_PARSE_UNKNOWN, POP3_CMD_NONE,
	    "Unknown command." },
	/* NUL inside the keyword and inside arguments */
	{ "ST\0T\r\n", 6, POP3_PARSE_UNKNOWN, POP3_CMD_NONE,
	    "Invalid characters in command." },
	{ "STAT\0\r\n", 7, POP3_PARSE_UNKNOWN, POP3_CMD_NONE,
	    "Invalid characters in command." },
	{ "PASS se\0cret\r\n", 14, POP3_PARSE_SYNTAX, POP3_CMD_PASS,
	    "Invalid characters in command." },
	{ "USER bob\0\r\n", 11, POP3_PARSE_SYNTAX, POP3_CMD_USER,
	    "Invalid characters in command." },
	/* other control bytes: bare CR, tab, DEL, ESC */
	{ "RETR 1\r\r\n", 0, POP3_PARSE_SYNTAX, POP3_CMD_RETR,
	    "Invalid characters in command." },
	{ "LIST\t1\r\n", 0, POP3_PARSE_UNKNOWN, POP3_CMD_NONE,
	    "Invalid characters in command." },
	{ "USER b\x7fob\r\n", 0, POP3_PARSE_SYNTAX, POP3_CMD_USER,
	    "Invalid characters in command." },
	{ "PASS \x1b[2J\r\n", 0, POP3_PARSE_SYNTAX, POP3_CMD_PASS,
	    "Invalid characters in command." },
	{ "RETR 1\nRETR 2\n", 0, POP3_PARSE_SYNTAX, POP3_CMD_RETR,
	    "Invalid characters in command." },
	/* missing arguments */
	{ "USER\r\n", 0, POP3_PARSE_SYNTAX, POP3_CMD_USER,
	    "Missing argument." },
	{ "USER   \r\n", 0, POP3_PARSE_SYNTAX, POP3_CMD_USER,
	    "Missing argument." },
	{ "RETR\r\n", 0, POP3_PARSE_SYNTAX, POP3_CMD_RETR,
	    "Missing message number." },
	{ "DELE \r\n", 0, POP3_PARSE_SYNTAX, POP3_CMD_DELE,
	    "Missing message number." },
	{ "TOP\r\n", 0, POP3_PARSE_SYNTAX, POP3_CMD_TOP,
	    "Missing message number." },
	{ "TOP 1\r\n", 0, POP3_PARSE_SYNTAX, POP3_CMD_TOP,
	    "Missing number of lines." },
	{ "TOP 1 \r\n", 0, POP3_PARSE_SYNTAX, POP3_CMD_TOP,
	    "Missing number of lines." },
	/* bad numbers */
	{ "RETR x\r\n", 0, POP3_PARSE_SYNTAX, POP3_CMD_RETR,
	    "Invalid message number." },
	{ "RETR -1\r\n", 0, POP3_PARSE_SYNTAX, POP3_CMD_RETR,
	    "Invalid message number." },
	{ "RETR +1\r\n", 0, POP3_PARSE_SYNTAX, POP3_CMD_RETR,
	    "Invalid message number." },
	{ "RETR 1x\r\n", 0, POP3_PARSE_SYNTAX, POP3_CMD_RETR,
	    "Invalid message number." },
	{ "RETR 0x10\r\n", 0, POP3_PARSE_SYNTAX, POP3_CMD_RETR,
	    "Invalid message number." },
	{ "LIST 4294967296\r\n", 0, POP3_PARSE_SYNTAX, POP3_CMD_LIST,
	    "Message number too large." },
	{ "LIST 99999999999999999999999999\r\n", 0, POP3_PARSE_SYNTAX,
	    POP3_CMD_LIST, "Message number too large." },
	{ "LIST 1 2\r\n", 0, POP3_PARSE_SYNTAX, POP3_CMD_LIST,
	    "Noise after message number." },
	{ "DELE 1 1\r\n", 0, POP3_PARSE_SYNTAX, POP3_CMD_DELE,
	    "Noise after message number." },
	{ "TOP 1 x\r\n", 0, POP3_PARSE_SYNTAX, POP3_CMD_TOP,
	    "Invalid number of lines." },
	{ "TOP 1 -1\r\n", 0, POP3_PARSE_SYNTAX, POP3_CMD_TOP,
	    "Invalid number of lines." },
	{ "TOP 1 18446744073709551616\r\n", 0, POP3_PARSE_SYNTAX,
	    POP3_CMD_TOP, "Invalid number of lines." },
	{ "TOP 1 2 3\r\n", 0, POP3_PARSE_SYNTAX, POP3_CMD_TOP,
	    "Noise after number of lines." },
	{ "TOP x 2\r\n", 0, POP3_PARSE_SYNTAX, POP3_CMD_TOP,
	    "Invalid message number." },
};

START_TEST(test_parse_bad)
{
	const struct bad_case *b = &bad[_i];
	struct pop3_cmd cmd;
	const char *why = NULL;
	size_t len = b->len != 0 ? b->len : strlen(b->line);
	enum pop3_parse r;

	r = pop3_cmd_parse(b->line, len, &cmd, &why);
	ck_assert_msg(r == b->rc, "case %d: rc %d, want %d", _i, r, b->rc);
	ck_assert_int_eq(cmd.id, b->id);
	ck_assert_ptr_nonnull(why);
	ck_assert_str_eq(why, b->why);
}
END_TEST

/* Every state flag is right: who may run where, who carries passwords. */
START_TEST(test_parse_flags)
{
	static const struct {
		const char	*line;
		unsigned	 flags;
	} t[] = {
		{ "CAPA", POP3_CF_AUTHZ | POP3_CF_TRANS },
		{ "QUIT", POP3_CF_AUTHZ | POP3_CF_TRANS },
		{ "USER a", POP3_CF_AUTHZ | POP3_CF_CLEARTEXT },
		{ "PASS a", POP3_CF_AUTHZ | POP3_CF_CLEARTEXT },
		{ "AUTH PLAIN", POP3_CF_AUTHZ | POP3_CF_CLEARTEXT },
		{ "STLS", POP3_CF_AUTHZ },
		{ "STAT", POP3_CF_TRANS },
		{ "LIST", POP3_CF_TRANS },
		{ "RETR 1", POP3_CF_TRANS },
		{ "DELE 1", POP3_CF_TRANS },
		{ "NOOP", POP3_CF_TRANS },
		{ "RSET", POP3_CF_TRANS },
		{ "TOP 1 1", POP3_CF_TRANS },
		{ "UIDL", POP3_CF_TRANS },
	};
	struct pop3_cmd cmd;
	const char *why;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ck_assert_int_eq(pop3_cmd_parse(t[i].line, strlen(t[i].line),
		    &cmd, &why), POP3_PARSE_OK);
		ck_assert_uint_eq(cmd.flags, t[i].flags);
	}
	ck_assert_str_eq(pop3_cmd_name(POP3_CMD_NONE), "");
	ck_assert_str_eq(pop3_cmd_name(POP3_CMD_UIDL), "UIDL");
}
END_TEST

/* An overlong line (the session cuts at POP3_LINE_MAX) still parses
 * safely whatever it holds; a long argument is returned whole. */
START_TEST(test_parse_overlong)
{
	static char line[POP3_LINE_MAX * 4];
	struct pop3_cmd cmd;
	const char *why;
	size_t n;

	memcpy(line, "PASS ", 5);
	memset(line + 5, 'a', sizeof(line) - 5);
	ck_assert_int_eq(pop3_cmd_parse(line, sizeof(line), &cmd, &why),
	    POP3_PARSE_OK);
	ck_assert_uint_eq(cmd.arglen, sizeof(line) - 5);

	memcpy(line, "RETR ", 5);
	memset(line + 5, '9', sizeof(line) - 5);
	ck_assert_int_eq(pop3_cmd_parse(line, sizeof(line), &cmd, &why),
	    POP3_PARSE_SYNTAX);
	ck_assert_str_eq(why, "Message number too large.");

	/* a keyword made of thousands of letters is just unknown */
	memset(line, 'X', sizeof(line));
	ck_assert_int_eq(pop3_cmd_parse(line, sizeof(line), &cmd, &why),
	    POP3_PARSE_UNKNOWN);

	/* every single byte value as a one-byte line: no crash, and only
	 * nothing parses */
	for (n = 0; n < 256; n++) {
		char ch = (char)n;

		ck_assert_int_ne(pop3_cmd_parse(&ch, 1, &cmd, &why),
		    POP3_PARSE_OK);
	}
}
END_TEST

/* ---------------------------------------------------------------- */
/* encoder                                                            */

/* encode: msg through pop3_stuff with chunks of step bytes (0: whole). */
static void
encode(const char *msg, size_t len, uint64_t lines, size_t step,
    struct buf *out, uint64_t *counted_r)
{
	struct pop3_stuff st;
	size_t off = 0;

	buf_init(out, 1 << 20);
	pop3_stuff_init(&st, lines);
	if (step == 0)
		step = len > 0 ? len : 1;
	while (off < len) {
		size_t n = len - off < step ? len - off : step;

		ck_assert_int_eq(pop3_stuff_feed(&st, msg + off, n, out), 0);
		off += n;
	}
	*counted_r = st.out;
	ck_assert_int_eq(pop3_stuff_end(&st, out), 0);
}

struct enc_case {
	const char	*in;
	uint64_t	 lines;
	const char	*want;
	size_t		 inlen;		/* 0: strlen */
	size_t		 wantlen;
};

static const struct enc_case enc[] = {
	/* LF -> CRLF, CRLF kept, the terminator added */
	{ "a\nb\n", POP3_STUFF_ALL, "a\r\nb\r\n.\r\n", 0, 0 },
	{ "a\r\nb\r\n", POP3_STUFF_ALL, "a\r\nb\r\n.\r\n", 0, 0 },
	{ "a\r\nb\n", POP3_STUFF_ALL, "a\r\nb\r\n.\r\n", 0, 0 },
	/* no final line end: one is added before the dot */
	{ "a\nb", POP3_STUFF_ALL, "a\r\nb\r\n.\r\n", 0, 0 },
	{ "", POP3_STUFF_ALL, ".\r\n", 0, 0 },
	/* dot-stuffing at the start of any line, first one included */
	{ ".\n", POP3_STUFF_ALL, "..\r\n.\r\n", 0, 0 },
	{ "S: x\n\n.hidden\n..two\n.\nx.y\n", POP3_STUFF_ALL,
	    "S: x\r\n\r\n..hidden\r\n...two\r\n..\r\nx.y\r\n.\r\n", 0, 0 },
	{ ".a\r\n.b", POP3_STUFF_ALL, "..a\r\n..b\r\n.\r\n", 0, 0 },
	/* a lone CR passes through; a final lone CR gets its LF */
	{ "a\rb\n", POP3_STUFF_ALL, "a\rb\r\n.\r\n", 0, 0 },
	{ "a\r", POP3_STUFF_ALL, "a\r\n.\r\n", 0, 0 },
	/* NUL bytes are message data like any other */
	{ "a\0b\n", POP3_STUFF_ALL, "a\0b\r\n.\r\n", 4, 8 },
	/* TOP */
	{ "H: 1\nH: 2\n\nb1\nb2\nb3\n", 0, "H: 1\r\nH: 2\r\n\r\n.\r\n", 0, 0 },
	{ "H: 1\nH: 2\n\nb1\nb2\nb3\n", 1,
	    "H: 1\r\nH: 2\r\n\r\nb1\r\n.\r\n", 0, 0 },
	{ "H: 1\nH: 2\n\nb1\nb2\nb3\n", 2,
	    "H: 1\r\nH: 2\r\n\r\nb1\r\nb2\r\n.\r\n", 0, 0 },
	{ "H: 1\nH: 2\n\nb1\nb2\nb3\n", 99,
	    "H: 1\r\nH: 2\r\n\r\nb1\r\nb2\r\nb3\r\n.\r\n", 0, 0 },
	{ "H: 1\r\n\r\n.b1\r\nb2\r\n", 1, "H: 1\r\n\r\n..b1\r\n.\r\n", 0, 0 },
	{ "H: 1\nno blank line", 0, "H: 1\r\nno blank line\r\n.\r\n", 0, 0 },
	{ "\nbody\n", 0, "\r\n.\r\n", 0, 0 },
	{ "H: 1\n\nb1", 5, "H: 1\r\n\r\nb1\r\n.\r\n", 0, 0 },
	/* blank body lines count as lines */
	{ "H: 1\n\n\n\nb3\n", 2, "H: 1\r\n\r\n\r\n\r\n.\r\n", 0, 0 },
};

START_TEST(test_stuff)
{
	const struct enc_case *e = &enc[_i];
	size_t len = e->inlen != 0 ? e->inlen : strlen(e->in);
	size_t want = e->wantlen != 0 ? e->wantlen : strlen(e->want);
	size_t step;
	struct buf out;
	uint64_t counted;

	/* whole, then every chunk size from 1 byte up */
	for (step = 0; step <= len + 1; step++) {
		encode(e->in, len, e->lines, step, &out, &counted);
		ck_assert_msg(out.len == want &&
		    memcmp(out.data, e->want, want) == 0,
		    "case %d step %zu: got \"%.*s\"", _i, step, (int)out.len,
		    out.data);
		/* counted bytes: everything but the final ".\r\n" */
		ck_assert_uint_le(counted, want - 3);
		buf_free(&out);
	}
}
END_TEST

/* For a message with line ends, RETR sends exactly its W= size (every
 * LF counted as CRLF) plus one '.' per stuffed line, then ".\r\n". */
START_TEST(test_stuff_vsize)
{
	static char msg[70000];
	struct buf out;
	uint64_t counted, vsize = 0, dots = 0;
	size_t i;
	bool bol = true;

	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (i % 61 == 60) ? '\n' : (i % 7 == 0 ? '.' :
		    (char)('a' + i % 26));
	msg[sizeof(msg) - 1] = '\n';
	for (i = 0; i < sizeof(msg); i++) {
		vsize += msg[i] == '\n' ? 2 : 1;
		if (bol && msg[i] == '.')
			dots++;
		bol = msg[i] == '\n';
	}
	encode(msg, sizeof(msg), POP3_STUFF_ALL, 4096, &out, &counted);
	ck_assert_uint_eq(counted, vsize + dots);
	ck_assert_uint_eq(out.len, counted + 3);
	ck_assert(memcmp(out.data + out.len - 5, "\r\n.\r\n", 5) == 0);
	buf_free(&out);
}
END_TEST

/* A full output buffer is reported, never overrun. */
START_TEST(test_stuff_full)
{
	struct pop3_stuff st;
	struct buf out;

	buf_init(&out, 4);
	pop3_stuff_init(&st, POP3_STUFF_ALL);
	ck_assert_int_eq(pop3_stuff_feed(&st, "abcdefgh\n", 9, &out), -1);
	ck_assert_uint_le(out.len, 4);
	buf_free(&out);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("pop3");
	TCase *tc;

	tc = tcase_create("parser");
	tcase_add_loop_test(tc, test_parse_good, 0,
	    (int)(sizeof(good) / sizeof(good[0])));
	tcase_add_loop_test(tc, test_parse_bad, 0,
	    (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, test_parse_flags);
	tcase_add_test(tc, test_parse_overlong);
	suite_add_tcase(s, tc);

	tc = tcase_create("stuff");
	tcase_add_loop_test(tc, test_stuff, 0,
	    (int)(sizeof(enc) / sizeof(enc[0])));
	tcase_add_test(tc, test_stuff_vsize);
	tcase_add_test(tc, test_stuff_full);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(make_suite)
