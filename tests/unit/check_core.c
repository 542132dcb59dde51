/*
 * check_core - config parser, bounded buffers, strict numbers, base64,
 * log escaping and durable writes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/conf.h"
#include "core/err.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/str.h"
#include "core/strnum.h"
#include "testutil.h"

static int
parse(const char *text, struct conf *c, char *err, size_t errlen)
{
	conf_defaults(c);
	return conf_parse_text(c, "t.conf", text, strlen(text), err, errlen);
}

START_TEST(conf_defaults_match_design)
{
	struct conf c;

	conf_defaults(&c);
	ck_assert_str_eq(c.smtp_listen, "[::]:25");
	ck_assert_str_eq(c.imap_listen, "");
	ck_assert_str_eq(c.mail_root, "/var/vmail");
	ck_assert_uint_eq(c.message_size_limit, 52428800);
	ck_assert_uint_eq(c.max_connections_per_ip, 50);
	ck_assert_uint_eq(c.queue_retry_count, 7);
	ck_assert_uint_eq(c.queue_retry[0], 60);
	ck_assert_uint_eq(c.queue_retry[6], 4 * 3600);
	ck_assert_uint_eq(c.queue_lifetime, 5 * 86400);
	ck_assert_str_eq(c.run_user, "vmail");
	conf_free(&c);
}
END_TEST

START_TEST(conf_parses_values_comments_and_spaces)
{
	struct conf c;
	char err[256];
	const char *text =
	    "# comment line\n"
	    "\n"
	    "hostname = mx.example.org   # trailing comment\n"
	    "  smtp_listen=127.0.0.1:2525\r\n"
	    "imaps_listen =\n"
	    "message_size_limit = 10M\n"
	    "queue_retry = 1s,2s 3m\n"
	    "queue_lifetime = 2h\n"
	    "log_level = debug\n"
	    "hostname = last.example.org\n";

	ck_assert_int_eq(parse(text, &c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.hostname, "last.example.org");
	ck_assert_str_eq(c.smtp_listen, "127.0.0.1:2525");
	ck_assert_str_eq(c.imaps_listen, "");
	ck_assert_uint_eq(c.message_size_limit, 10 * 1024 * 1024);
	ck_assert_uint_eq(c.queue_retry_count, 3);
	ck_assert_uint_eq(c.queue_retry[2], 180);
	ck_assert_uint_eq(c.queue_lifetime, 7200);
	ck_assert_int_eq(c.log_level, LOG_DEBUG);
	conf_free(&c);
}
END_TEST

static const struct {
	const char *text;
	const char *err;
} conf_bad[] = {
	{ "hostname = a\nbogus_key = 1\n", "t.conf:2: unknown key \"bogus_key\"" },
	{ "smtp_listen = 25\n", "t.conf:1: smtp_listen: expected" },
	{ "smtp_listen = [::1]:99999\n", "t.conf:1: smtp_listen: expected" },
	{ "message_size_limit = -5\n", "t.conf:1: message_size_limit: expected" },
	{ "message_size_limit = 10Q\n", "t.conf:1: message_size_limit" },
	{ "max_connections = 1e3\n", "t.conf:1: max_connections" },
	{ "\n\nqueue_retry = \n", "t.conf:3: queue_retry" },
	{ "queue_retry = 1m, 0s\n", "t.conf:1: queue_retry" },
	{ "tls_min_version = SSLv3\n", "t.conf:1: tls_min_version" },
	{ "log_level = loud\n", "t.conf:1: log_level" },
	{ "auth_rehash = maybe\n", "t.conf:1: auth_rehash" },
	{ "just some words\n", "t.conf:1: expected key = value" },
	{ "max_connections = 99999999999\n", "t.conf:1: max_connections" },
};

START_TEST(conf_rejects_bad_lines)
{
	struct conf c;
	char err[256];

	err[0] = '\0';
	ck_assert_int_eq(parse(conf_bad[_i].text, &c, err, sizeof(err)), -1);
	ck_assert_msg(strncmp(err, conf_bad[_i].err,
	    strlen(conf_bad[_i].err)) == 0, "got \"%s\", want prefix \"%s\"",
	    err, conf_bad[_i].err);
	conf_free(&c);
}
END_TEST

START_TEST(conf_rejects_nul_and_long_lines)
{
	struct conf c;
	char err[256];
	char text[] = "hostname = a\0b\n";
	char *big = malloc(6000);

	conf_defaults(&c);
	ck_assert_int_eq(conf_parse_text(&c, "t.conf", text, sizeof(text) - 1,
	    err, sizeof(err)), -1);
	ck_assert_str_eq(err, "t.conf:1: NUL byte in line");
	memset(big, 'a', 5999);
	big[5999] = '\n';
	ck_assert_int_eq(conf_parse_text(&c, "t.conf", big, 6000, err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, "t.conf:1: line too long");
	free(big);
	conf_free(&c);
}
END_TEST

START_TEST(conf_load_missing_file)
{
	struct conf c;
	char err[256];

	ck_assert_int_eq(conf_load(&c, "/nonexistent/facteur.conf", err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err,
	    "/nonexistent/facteur.conf: No such file or directory");
	conf_free(&c);
}
END_TEST

START_TEST(buf_respects_max)
{
	struct buf b;

	buf_init(&b, 8);
	ck_assert_int_eq(buf_append(&b, "12345678", 8), 0);
	ck_assert_int_eq(buf_putc(&b, 'x'), -1);
	ck_assert_uint_eq(b.len, 8);
	ck_assert_str_eq(buf_cstr(&b), "12345678");
	buf_consume(&b, 3);
	ck_assert_str_eq(buf_cstr(&b), "45678");
	ck_assert_int_eq(buf_printf(&b, "%d", 123), 0);
	ck_assert_int_eq(buf_printf(&b, "%d", 1), -1);
	ck_assert_str_eq(buf_cstr(&b), "45678123");
	buf_free(&b);
	ck_assert_str_eq(buf_cstr(&b), "");
}
END_TEST

START_TEST(buf_reserve_on_empty_is_a_string)
{
	struct buf b;

	/* an empty IMAP literal {0} reserves 0 bytes and is read as "" */
	buf_init(&b, 0);
	ck_assert_int_eq(buf_reserve(&b, 0), 0);
	ck_assert_ptr_nonnull(b.data);
	ck_assert_str_eq(b.data, "");
	buf_free(&b);
	buf_init(&b, 100);
	ck_assert_int_eq(buf_reserve(&b, 50), 0);
	ck_assert_str_eq(b.data, "");
	buf_free(&b);
}
END_TEST

START_TEST(strnum_is_strict)
{
	uint64_t v;
	uint32_t u;

	ck_assert_int_eq(str_to_u64("18446744073709551615", &v), 0);
	ck_assert(v == UINT64_MAX);
	ck_assert_int_eq(str_to_u64("18446744073709551616", &v), -1);
	ck_assert_int_eq(str_to_u64("", &v), -1);
	ck_assert_int_eq(str_to_u64(" 1", &v), -1);
	ck_assert_int_eq(str_to_u64("+1", &v), -1);
	ck_assert_int_eq(str_to_u64("1 ", &v), -1);
	ck_assert_int_eq(str_to_u32("4294967296", &u), -1);
	ck_assert_int_eq(str_to_size("2G", &v), 0);
	ck_assert(v == 2ULL << 30);
	ck_assert_int_eq(str_to_duration("5d", &v), 0);
	ck_assert(v == 432000);
	ck_assert_int_eq(str_to_duration("m", &v), -1);
}
END_TEST

START_TEST(base64_round_trip_and_strictness)
{
	char enc[64], dec[64];
	long n;

	base64_encode("\0user\0pass", 10, enc);
	ck_assert_str_eq(enc, "AHVzZXIAcGFzcw==");
	n = base64_decode(enc, strlen(enc), dec);
	ck_assert_int_eq(n, 10);
	ck_assert(memcmp(dec, "\0user\0pass", 10) == 0);
	ck_assert_int_eq(base64_decode("AHVzZXIAcGFzcw=", 15, dec), -1);
	ck_assert_int_eq(base64_decode("AH*z", 4, dec), -1);
	ck_assert_int_eq(base64_decode("AA==AA==", 8, dec), -1);
	ck_assert_int_eq(base64_decode_lax("aGVs\r\nbG8", 9, dec), 5);
	ck_assert(memcmp(dec, "hello", 5) == 0);
}
END_TEST

START_TEST(log_esc_makes_untrusted_text_safe)
{
	char out[32];

	log_esc(out, sizeof(out), "a\"b\\c\r\n\x01", 8);
	ck_assert_str_eq(out, "a\\x22b\\x5cc\\x0d\\x0a\\x01");
	log_esc(out, 12, "0123456789abcdef", 16);
	ck_assert_str_eq(out, "01234567...");
}
END_TEST

START_TEST(fs_atomic_write_replaces_file)
{
	char dir[] = "/tmp/check_core.XXXXXX";
	char path[256];
	struct buf b;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f", dir);
	ck_assert_int_eq(fs_write_file_atomic(path, "one", 3, 0600), 0);
	ck_assert_int_eq(fs_write_file_atomic(path, "two!", 4, 0600), 0);
	buf_init(&b, 16);
	ck_assert_int_eq(fs_read_file(path, &b), 1);
	ck_assert_str_eq(buf_cstr(&b), "two!");
	buf_free(&b);
	buf_init(&b, 2);
	ck_assert_int_eq(fs_read_file(path, &b), -1);
	ck_assert_int_eq(errno, EFBIG);
	buf_free(&b);
	ck_assert_int_eq(fs_rm_rf(dir), 0);
	ck_assert_int_eq(access(dir, F_OK), -1);
}
END_TEST

START_TEST(ferr_maps_errno)
{
	ck_assert_int_eq(ferr_from_errno(ENOSPC), FERR_NOSPACE);
	ck_assert_int_eq(ferr_from_errno(EDQUOT), FERR_NOSPACE);
	ck_assert_int_eq(ferr_from_errno(ENOENT), FERR_NOTFOUND);
	ck_assert_str_eq(ferr_name(FERR_QUOTA), "quota");
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("core");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, conf_defaults_match_design);
	tcase_add_test(tc, conf_parses_values_comments_and_spaces);
	tcase_add_loop_test(tc, conf_rejects_bad_lines, 0,
	    sizeof(conf_bad) / sizeof(conf_bad[0]));
	tcase_add_test(tc, conf_rejects_nul_and_long_lines);
	tcase_add_test(tc, conf_load_missing_file);
	tcase_add_test(tc, buf_respects_max);
	tcase_add_test(tc, buf_reserve_on_empty_is_a_string);
	tcase_add_test(tc, strnum_is_strict);
	tcase_add_test(tc, base64_round_trip_and_strictness);
	tcase_add_test(tc, log_esc_makes_untrusted_text_safe);
	tcase_add_test(tc, fs_atomic_write_replaces_file);
	tcase_add_test(tc, ferr_maps_errno);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(make_suite)
