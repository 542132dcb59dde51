/*
 * check_http - the admin page's request head parser and JSON parser on
 * good and hostile input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "http/json.h"
#include "http/parse.h"
#include "testutil.h"

static int
head(const char *text, struct http_req *r)
{
	const char *why = NULL;

	return http_parse_head(text, strlen(text), r, &why);
}

START_TEST(parse_simple_get)
{
	struct http_req r;

	ck_assert_int_eq(head("GET /app.js?x=1&y=%41 HTTP/1.1\r\n"
	    "Host: localhost:8443\r\nCookie: a=1; facteur_session=abc\r\n"
	    "If-None-Match: \"1-2\"\r\nX-CSRF-Token: tok\r\n\r\n", &r), 0);
	ck_assert_str_eq(r.method, "GET");
	ck_assert_str_eq(r.path, "/app.js");
	ck_assert_str_eq(r.query, "x=1&y=%41");
	ck_assert_int_eq(r.minor, 1);
	ck_assert_str_eq(r.host, "localhost:8443");
	ck_assert_str_eq(r.if_none_match, "\"1-2\"");
	ck_assert_str_eq(r.csrf, "tok");
	ck_assert(!r.close);
	{
		char v[64];

		ck_assert_int_eq(http_cookie_get(&r, "facteur_session", v,
		    sizeof(v)), 1);
		ck_assert_str_eq(v, "abc");
		ck_assert_int_eq(http_cookie_get(&r, "facteur", v, sizeof(v)),
		    0);
	}
}
END_TEST

START_TEST(parse_post_with_length_and_lf_only)
{
	struct http_req r;

	ck_assert_int_eq(head("POST /api/login HTTP/1.1\nHost: x\n"
	    "Content-Length: 42\nContent-Type: application/json\n"
	    "Connection: close\n\n", &r), 0);
	ck_assert(r.has_length);
	ck_assert_uint_eq(r.content_length, 42);
	ck_assert(r.close);
}
END_TEST

START_TEST(parse_http10_closes_by_default)
{
	struct http_req r;

	ck_assert_int_eq(head("GET / HTTP/1.0\r\n\r\n", &r), 0);
	ck_assert(r.close);
	ck_assert_int_eq(head("GET / HTTP/1.0\r\nConnection: keep-alive\r\n"
	    "\r\n", &r), 0);
	ck_assert(!r.close);
}
END_TEST

static const struct {
	const char	*text;
	int		 status;
} bad_heads[] = {
	{ "", 400 },
	{ "GET\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\n\r\n", 400 },			/* no Host */
	{ "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505 },
	{ "GET / FOO/1.1\r\nHost: x\r\n\r\n", 400 },
	{ "GET http://evil/ HTTP/1.1\r\nHost: x\r\n\r\n", 400 },
	{ "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", 400 },
	{ "GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n", 400 },
	{ "GET /%00 HTTP/1.1\r\nHost: x\r\n\r\n", 400 },
	{ "GET /% HTTP/1.1\r\nHost: x\r\n\r\n", 400 },
	{ "G(T / HTTP/1.1\r\nHost: x\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: x\r\n: v\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: x\r\nnocolon\r\n\r\n", 400 },
	{ "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400 },
	{ "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
	    "Content-Length: 2\r\n\r\n", 400 },
	{ "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999"
	    "\r\n\r\n", 400 },
	{ "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
	    501 },
	{ "GET / HTTP/1.1\r\nHost: x\rY: z\r\n\r\n", 400 },
};

START_TEST(parse_rejects_bad_heads)
{
	struct http_req r;

	ck_assert_int_eq(head(bad_heads[_i].text, &r), bad_heads[_i].status);
}
END_TEST

START_TEST(parse_limits)
{
	struct http_req r;
	struct buf b;
	const char *why = NULL;
	int i;

	/* a target over 2048 bytes: 414 */
	buf_init(&b, 1 << 20);
	ck_assert_int_eq(buf_puts(&b, "GET /"), 0);
	for (i = 0; i < 3000; i++)
		ck_assert_int_eq(buf_putc(&b, 'a'), 0);
	ck_assert_int_eq(buf_puts(&b, " HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
	ck_assert_int_eq(http_parse_head(b.data, b.len, &r, &why), 414);
	/* 65 fields: 431 */
	buf_reset(&b);
	ck_assert_int_eq(buf_puts(&b, "GET / HTTP/1.1\r\nHost: x\r\n"), 0);
	for (i = 0; i < 64; i++)
		ck_assert_int_eq(buf_printf(&b, "X-%d: y\r\n", i), 0);
	ck_assert_int_eq(buf_puts(&b, "\r\n"), 0);
	ck_assert_int_eq(http_parse_head(b.data, b.len, &r, &why), 431);
	/* a Cookie larger than its slot: 431, not truncated */
	buf_reset(&b);
	ck_assert_int_eq(buf_puts(&b, "GET / HTTP/1.1\r\nHost: x\r\nCookie: "),
	    0);
	for (i = 0; i < 3000; i++)
		ck_assert_int_eq(buf_putc(&b, 'c'), 0);
	ck_assert_int_eq(buf_puts(&b, "\r\n\r\n"), 0);
	ck_assert_int_eq(http_parse_head(b.data, b.len, &r, &why), 431);
	/* the whole head over 16 KiB: 431 */
	ck_assert_int_eq(http_parse_head(b.data, HTTP_HEAD_MAX + 1, &r, &why),
	    431);
	buf_free(&b);
}
END_TEST

START_TEST(parse_nul_in_head)
{
	struct http_req r;
	const char text[] = "GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n";
	const char *why = NULL;

	ck_assert_int_eq(http_parse_head(text, sizeof(text) - 1, &r, &why),
	    400);
}
END_TEST

static int
obj(const char *s, struct json_obj *o)
{
	const char *why = NULL;

	return json_parse_object(s, strlen(s), o, &why);
}

START_TEST(json_flat_objects)
{
	static struct json_obj o;

	ck_assert_int_eq(obj(" { \"user\" : \"b\\u00e9b\\n\", \"n\": -1.5e3,"
	    " \"t\": true, \"z\": null, \"e\": \"\\ud83d\\ude00\" } ", &o), 0);
	ck_assert_uint_eq(o.n, 5);
	ck_assert_str_eq(json_get(&o, "user"), "b\xc3\xa9" "b\n");
	ck_assert_ptr_null(json_get(&o, "n"));
	ck_assert_str_eq(json_get_raw(&o, "n"), "-1.5e3");
	ck_assert_str_eq(json_get_raw(&o, "t"), "true");
	ck_assert_str_eq(json_get(&o, "e"), "\xf0\x9f\x98\x80");
	ck_assert_int_eq(obj("{}", &o), 0);
	ck_assert_uint_eq(o.n, 0);
}
END_TEST

static const char *const json_bad[] = {
	"", "[]", "\"x\"", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}",
	"{\"a\":1 \"b\":2}", "{\"a\":{\"b\":1}}", "{\"a\":[1]}",
	"{\"a\":1}x", "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}",
	"{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00\"}", "{\"a\":\"\\u0000\"}",
	"{\"a\":\"tab\there\"}", "{\"a\":\"\xff\"}", "{\"a\":\"\xc0\xaf\"}",
	"{\"a\":\"\xed\xa0\x80\"}", "{\"a\":01}", "{\"a\":1.}", "{\"a\":-}",
	"{\"a\":tru}", "{\"a\":1,\"a\":2}", "{a:1}", "{\"a\":\"unterminated}",
};

START_TEST(json_rejects_bad_input)
{
	static struct json_obj o;

	ck_assert_msg(obj(json_bad[_i], &o) == -1, "accepted: %s",
	    json_bad[_i]);
}
END_TEST

START_TEST(json_limits)
{
	static struct json_obj o;
	struct buf b;
	int i;

	buf_init(&b, 1 << 20);
	ck_assert_int_eq(buf_putc(&b, '{'), 0);
	for (i = 0; i < JSON_MAX_KEYS + 1; i++)
		ck_assert_int_eq(buf_printf(&b, "%s\"k%d\":1", i ? "," : "", i),
		    0);
	ck_assert_int_eq(buf_putc(&b, '}'), 0);
	ck_assert_int_eq(obj(b.data, &o), -1);
	buf_reset(&b);
	ck_assert_int_eq(buf_puts(&b, "{\"a\":\""), 0);
	for (i = 0; i < JSON_VAL_MAX; i++)
		ck_assert_int_eq(buf_putc(&b, 'v'), 0);
	ck_assert_int_eq(buf_puts(&b, "\"}"), 0);
	ck_assert_int_eq(obj(b.data, &o), -1);
	buf_free(&b);
}
END_TEST

START_TEST(json_writer_escapes)
{
	struct buf b;

	buf_init(&b, 1024);
	ck_assert_int_eq(json_str(&b, "<script>\"a\\b\"&\x01\xff\xc3\xa9"), 0);
	ck_assert_str_eq(buf_cstr(&b), "\"\\u003cscript\\u003e\\\"a\\\\b\\\""
	    "\\u0026\\u0001\\ufffd\xc3\xa9\"");
	buf_free(&b);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("parse");
	TCase *tj = tcase_create("json");

	tcase_add_test(tc, parse_simple_get);
	tcase_add_test(tc, parse_post_with_length_and_lf_only);
	tcase_add_test(tc, parse_http10_closes_by_default);
	tcase_add_loop_test(tc, parse_rejects_bad_heads, 0,
	    sizeof(bad_heads) / sizeof(bad_heads[0]));
	tcase_add_test(tc, parse_limits);
	tcase_add_test(tc, parse_nul_in_head);
	tcase_add_test(tj, json_flat_objects);
	tcase_add_loop_test(tj, json_rejects_bad_input, 0,
	    sizeof(json_bad) / sizeof(json_bad[0]));
	tcase_add_test(tj, json_limits);
	tcase_add_test(tj, json_writer_escapes);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, tj);
	return s;
}

TEST_MAIN(make_suite)
