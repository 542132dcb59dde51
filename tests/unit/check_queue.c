/*
 * check_queue - the outbound queue's pure parts: envelope text round
 * trip and hostile envelopes, durable enqueue and start-up recovery,
 * retry schedule, DSN structure (RFC 3464), and the SMTP client helpers
 * (wire size with dot-stuffing, enhanced status codes).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <strings.h>
#include <sys/socket.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "core/buf.h"
#include "core/fsutil.h"
#include "queue/bounce.h"
#include "queue/mta.h"
#include "queue/qfile.h"

static char qdir[PATH_MAX];

static void
setup_dir(void)
{
	snprintf(qdir, sizeof(qdir), "/tmp/check_queue.%ld", (long)getpid());
	(void)fs_rm_rf(qdir);
	ck_assert_int_eq(qfile_init_dirs(qdir), 0);
}

static void
teardown_dir(void)
{
	(void)fs_rm_rf(qdir);
}

static void
make_env(struct qenv *e)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->id, sizeof(e->id), "%s", "0123abcdef");
	e->arrival = 1764085000;
	e->sender = strdup("alice@example.org");
	e->auth_user = strdup("alice@example.org");
	e->client_ip = strdup("192.0.2.1");
	e->smtputf8 = true;
	e->eightbit = false;
	e->size = 1234;
	qenv_add_rcpt(e, "bob@remote.example");
	qenv_add_rcpt(e, "\"odd guy\"@remote.example");
	qenv_add_rcpt(e, "carol@other.example");
	e->rcpts[1].state = QR_DEFERRED;
	e->rcpts[1].attempts = 3;
	e->rcpts[1].next_try = 1764086000;
	snprintf(e->rcpts[1].dsn, sizeof(e->rcpts[1].dsn), "4.2.0");
	free(e->rcpts[1].mta);
	e->rcpts[1].mta = strdup("mx.remote.example");
	free(e->rcpts[1].diag);
	e->rcpts[1].diag = strdup("451 4.2.0 100% full, try again\tlater");
	e->rcpts[2].state = QR_BOUNCED;
	e->rcpts[2].notified = true;
	snprintf(e->rcpts[2].dsn, sizeof(e->rcpts[2].dsn), "5.1.1");
	free(e->rcpts[2].diag);
	e->rcpts[2].diag = strdup("-");
}

START_TEST(test_env_roundtrip)
{
	struct qenv e, f;
	struct buf b;
	const char *why = NULL;

	make_env(&e);
	buf_init(&b, QENV_MAX);
	ck_assert_int_eq(qenv_format(&e, &b), 0);
	ck_assert_int_eq(qenv_parse(b.data, b.len, &f, &why), 0);
	ck_assert_str_eq(f.id, e.id);
	ck_assert_int_eq(f.arrival, e.arrival);
	ck_assert_str_eq(f.sender, "alice@example.org");
	ck_assert_str_eq(f.client_ip, "192.0.2.1");
	ck_assert(f.smtputf8);
	ck_assert(!f.eightbit);
	ck_assert_uint_eq(f.size, 1234);
	ck_assert_uint_eq(f.nrcpts, 3);
	ck_assert_str_eq(f.rcpts[1].addr, "\"odd guy\"@remote.example");
	ck_assert_int_eq(f.rcpts[1].state, QR_DEFERRED);
	ck_assert_uint_eq(f.rcpts[1].attempts, 3);
	ck_assert_int_eq(f.rcpts[1].next_try, 1764086000);
	ck_assert_str_eq(f.rcpts[1].dsn, "4.2.0");
	ck_assert_str_eq(f.rcpts[1].mta, "mx.remote.example");
	ck_assert_str_eq(f.rcpts[1].diag,
	    "451 4.2.0 100% full, try again\tlater");
	ck_assert_int_eq(f.rcpts[0].state, QR_PENDING);
	ck_assert_str_eq(f.rcpts[0].diag, "");
	ck_assert_int_eq(f.rcpts[2].state, QR_BOUNCED);
	ck_assert(f.rcpts[2].notified);
	ck_assert_str_eq(f.rcpts[2].diag, "-");
	/* the text is line-oriented: no raw space/tab inside fields */
	ck_assert_ptr_null(strstr(b.data, "odd guy"));
	ck_assert_ptr_nonnull(strstr(b.data, "\nend\n"));
	qenv_free(&f);
	qenv_free(&e);
	buf_free(&b);
}
END_TEST

START_TEST(test_env_null_sender)
{
	struct qenv e, f;
	struct buf b;
	const char *why;

	make_env(&e);
	free(e.sender);
	e.sender = strdup("");
	buf_init(&b, QENV_MAX);
	ck_assert_int_eq(qenv_format(&e, &b), 0);
	ck_assert_ptr_nonnull(strstr(b.data, "\nsender=-\n"));
	ck_assert_int_eq(qenv_parse(b.data, b.len, &f, &why), 0);
	ck_assert_str_eq(f.sender, "");
	qenv_free(&f);
	qenv_free(&e);
	buf_free(&b);
}
END_TEST

#define H "version=1\nid=abc\narrival=1\nsender=-\n"
#define R "rcpt=sent 0 0 0 a@b - - -\n"
static const char *const bad_envs[] = {
	"",
	"version=1\n",
	/* no end line: a torn write */
	H "rcpt=pending 0 0 0 a@b - - -\n",
	"version=2\nid=abc\narrival=1\nsender=-\n" R "end\n",
	"version=1\nid=a/b\narrival=1\nsender=-\n" R "end\n",
	"version=1\nid=abc\narrival=x\nsender=-\n" R "end\n",
	H "rcpt=sent 0 0 0 a@b - -\nend\n",		/* 7 fields */
	H "rcpt=lost 0 0 0 a@b - - -\nend\n",		/* bad state */
	H "rcpt=sent 0 0 2 a@b - - -\nend\n",		/* notified=2 */
	H "rcpt=sent 0 0 0 a@b - - - x\nend\n",	/* 9 fields */
	"version=1\nid=abc\narrival=1\nsender=%4\n" R "end\n",
	"version=1\nid=abc\narrival=1\nsender=%00\n" R "end\n",
	"version=1\nid=abc\narrival=1\nsender=%zz\n" R "end\n",
	H "rcpt=sent 0 0 0 - - - -\nend\n",		/* empty address */
	H "end\n",					/* no recipient */
	H "bogus=1\n" R "end\n",
	H R "end\nx=1\n",
	H "smtputf8=2\n" R "end\n",
	H "rcpt=sent 99999999999 0 0 a@b - - -\nend\n",
	"version=1\nnoequals\nend\n",
};
#undef H
#undef R

START_TEST(test_env_bad)
{
	struct qenv e;
	const char *why = NULL;
	const char *t = bad_envs[_i];

	ck_assert_msg(qenv_parse(t, strlen(t), &e, &why) == -1,
	    "accepted case %d", _i);
	ck_assert_ptr_nonnull(why);
	ck_assert_uint_eq(e.nrcpts, 0);
	ck_assert_ptr_null(e.sender);
}
END_TEST

START_TEST(test_env_nul_byte)
{
	static const char t[] = "version=1\nid=abc\narrival=1\nsender=-\n"
	    "rcpt=sent 0 0 0 a@b\0 - - -\nend\n";
	struct qenv e;
	const char *why;

	ck_assert_int_eq(qenv_parse(t, sizeof(t) - 1, &e, &why), -1);
}
END_TEST

START_TEST(test_esc)
{
	struct buf b;
	char *u;

	buf_init(&b, 1024);
	ck_assert_int_eq(qfile_esc(&b, "a b%c\x7f\xc3\xa9"), 0);
	ck_assert_str_eq(b.data, "a%20b%25c%7F\xc3\xa9");
	u = qfile_unesc(b.data, b.len);
	ck_assert_str_eq(u, "a b%c\x7f\xc3\xa9");
	free(u);
	buf_reset(&b);
	ck_assert_int_eq(qfile_esc(&b, "-"), 0);
	ck_assert_str_eq(b.data, "%2D");
	u = qfile_unesc("%2D", 3);
	ck_assert_str_eq(u, "-");
	free(u);
	ck_assert_ptr_null(qfile_unesc("%2", 2));
	ck_assert_ptr_null(qfile_unesc("%", 1));
	buf_free(&b);
}
END_TEST

START_TEST(test_valid_id)
{
	char big[QUEUE_ID_MAX + 2];

	ck_assert(qfile_valid_id("69264ab3a1b2c3d4e5f6"));
	ck_assert(!qfile_valid_id(""));
	ck_assert(!qfile_valid_id("../env/x"));
	ck_assert(!qfile_valid_id("abc.tmp"));
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert(!qfile_valid_id(big));
	big[QUEUE_ID_MAX] = '\0';
	ck_assert(qfile_valid_id(big));
}
END_TEST

/* retry steps "1m, 5m, 15m": after attempt 1 wait 1m, ..., then 15m */
static const struct {
	uint32_t attempts;
	uint64_t want;
} retry_cases[] = {
	{ 0, 60 }, { 1, 60 }, { 2, 300 }, { 3, 900 }, { 4, 900 },
	{ 100, 900 }, { UINT32_MAX, 900 },
};

START_TEST(test_retry_delay)
{
	static const uint64_t steps[] = { 60, 300, 900 };

	ck_assert_uint_eq(qfile_retry_delay(steps, 3,
	    retry_cases[_i].attempts), retry_cases[_i].want);
}
END_TEST

START_TEST(test_retry_delay_empty)
{
	static const uint64_t one[] = { 1 };

	ck_assert_uint_eq(qfile_retry_delay(NULL, 0, 5), 60);
	ck_assert_uint_eq(qfile_retry_delay(one, 1, 1), 1);
	ck_assert_uint_eq(qfile_retry_delay(one, 1, 7), 1);
}
END_TEST

START_TEST(test_next_due_done)
{
	struct qenv e;

	make_env(&e);
	/* rcpt 0 pending (due 0) */
	ck_assert_int_eq(qenv_next_due(&e), 0);
	ck_assert(!qenv_done(&e));
	e.rcpts[0].state = QR_SENT;
	ck_assert_int_eq(qenv_next_due(&e), 1764086000);
	e.rcpts[1].state = QR_BOUNCED;
	e.rcpts[1].notified = false;
	ck_assert_int_eq(qenv_next_due(&e), 0);
	ck_assert(!qenv_done(&e));
	e.rcpts[1].notified = true;
	ck_assert_int_eq(qenv_next_due(&e), INT64_MAX);
	ck_assert(qenv_done(&e));
	qenv_free(&e);
}
END_TEST

static enum ferr
enqueue_simple(const char *content, char *id, size_t idlen)
{
	const char *rcpts[] = { "bob@remote.example", "eve@other.example" };
	struct iovec iov[2];
	struct queue_msg_in m;
	size_t half = strlen(content) / 2;

	iov[0].iov_base = (void *)(uintptr_t)content;
	iov[0].iov_len = half;
	iov[1].iov_base = (void *)(uintptr_t)(content + half);
	iov[1].iov_len = strlen(content) - half;
	memset(&m, 0, sizeof(m));
	m.sender = "alice@example.org";
	m.rcpts = rcpts;
	m.nrcpts = 2;
	m.iov = iov;
	m.iovcnt = 2;
	m.eightbit = 1;
	m.auth_user = "alice@example.org";
	m.client_ip = "192.0.2.9";
	return qfile_enqueue(qdir, &m, 1764085000, id, idlen);
}

static int
count_files(const char *sub)
{
	char p[PATH_MAX * 2];
	DIR *d;
	struct dirent *de;
	int n = 0;

	snprintf(p, sizeof(p), "%s/%s", qdir, sub);
	d = opendir(p);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

START_TEST(test_enqueue_load)
{
	static const char msg[] = "Subject: hi\n\nbody\n.line\n";
	char id[QUEUE_ID_MAX + 1], path[PATH_MAX];
	struct qenv e;
	struct buf b;
	const char *why;

	ck_assert_int_eq(enqueue_simple(msg, id, sizeof(id)), FERR_NONE);
	ck_assert(qfile_valid_id(id));
	ck_assert_int_eq(qenv_load(qdir, id, &e, &why), 1);
	ck_assert_str_eq(e.sender, "alice@example.org");
	ck_assert_uint_eq(e.nrcpts, 2);
	ck_assert_int_eq(e.rcpts[0].state, QR_PENDING);
	ck_assert_uint_eq(e.size, strlen(msg));
	ck_assert(e.eightbit);
	ck_assert_int_eq(e.arrival, 1764085000);
	/* the content is byte-identical */
	qfile_path(path, sizeof(path), qdir, "msg", id);
	buf_init(&b, 4096);
	ck_assert_int_eq(fs_read_file(path, &b), 1);
	ck_assert_buf_str(b.data, b.len, msg);
	buf_free(&b);
	/* a state change survives a save + load */
	e.rcpts[0].state = QR_SENT;
	ck_assert_int_eq(qenv_save(qdir, &e), 0);
	qenv_free(&e);
	ck_assert_int_eq(qenv_load(qdir, id, &e, &why), 1);
	ck_assert_int_eq(e.rcpts[0].state, QR_SENT);
	qenv_free(&e);
	ck_assert_int_eq(count_files("tmp"), 0);
	ck_assert_int_eq(qenv_load(qdir, "ffffffff", &e, &why), 0);
	ck_assert_int_eq(qenv_load(qdir, "../x", &e, &why), -1);
	/* list and remove */
	{
		char **ids;
		size_t n;

		ck_assert_int_eq(qfile_list(qdir, &ids, &n), 0);
		ck_assert_uint_eq(n, 1);
		ck_assert_str_eq(ids[0], id);
		qfile_list_free(ids, n);
	}
	/* qenv_update replaces only while the message exists */
	ck_assert_int_eq(qenv_load(qdir, id, &e, &why), 1);
	e.rcpts[1].state = QR_DEFERRED;
	ck_assert_int_eq(qenv_update(qdir, &e), 1);
	ck_assert_int_eq(count_files("tmp"), 0);
	ck_assert_int_eq(qfile_remove(qdir, id), 0);
	ck_assert_int_eq(count_files("msg"), 0);
	ck_assert_int_eq(count_files("env"), 0);
	/* a late rewrite (worker or `queue retry`) does not resurrect it */
	ck_assert_int_eq(qenv_update(qdir, &e), 0);
	ck_assert_int_eq(count_files("env"), 0);
	ck_assert_int_eq(count_files("tmp"), 0);
	qenv_free(&e);
}
END_TEST

START_TEST(test_enqueue_no_rcpt)
{
	struct queue_msg_in m;
	char id[QUEUE_ID_MAX + 1];

	memset(&m, 0, sizeof(m));
	m.sender = "";
	ck_assert_int_eq(qfile_enqueue(qdir, &m, 1, id, sizeof(id)),
	    FERR_INVALID);
	ck_assert_int_eq(count_files("msg"), 0);
}
END_TEST

static void
touch(const char *sub, const char *name, const char *text)
{
	char p[PATH_MAX * 2];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s/%s", qdir, sub, name);
	f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

START_TEST(test_recover)
{
	char id1[QUEUE_ID_MAX + 1], id2[QUEUE_ID_MAX + 1];
	struct qenv e;
	const char *why;

	ck_assert_int_eq(enqueue_simple("A: 1\n\nx\n", id1, sizeof(id1)),
	    FERR_NONE);
	ck_assert_int_eq(enqueue_simple("A: 2\n\ny\n", id2, sizeof(id2)),
	    FERR_NONE);
	/* a crash mid-enqueue: content without envelope, a temp file;
	 * and an orphan envelope */
	touch("msg", "0000partial", "half a message");
	touch("tmp", "0000partial.env.1234", "version=1\n");
	touch("env", "0000orphan", "version=1\n");
	ck_assert_int_eq(qfile_recover(qdir), 2);
	ck_assert_int_eq(count_files("tmp"), 0);
	ck_assert_int_eq(count_files("msg"), 2);
	ck_assert_int_eq(count_files("env"), 2);
	ck_assert_int_eq(qenv_load(qdir, id1, &e, &why), 1);
	qenv_free(&e);
	ck_assert_int_eq(qenv_load(qdir, id2, &e, &why), 1);
	qenv_free(&e);
	/* idempotent */
	ck_assert_int_eq(qfile_recover(qdir), 2);
}
END_TEST

/* structural checks on the DSN text */
static const char *
find_after(const char *hay, const char *needle, const char *after)
{
	const char *p = strstr(after != NULL ? after : hay, needle);

	ck_assert_msg(p != NULL, "missing \"%s\"", needle);
	return p + strlen(needle);
}

START_TEST(test_dsn_structure)
{
	static const char orig[] = "From: alice@example.org\n"
	    "To: bob@remote.example\nSubject: report\n\nsecret body\n";
	struct qenv e;
	struct buf b;
	const char *p, *boundary_line;
	char boundary[512], marker[600];
	size_t bl;
	int n;

	make_env(&e);
	/* rcpt 0 bounced by a server; rcpt 2 already notified; rcpt 1
	 * expired with a DNS-level reason (no remote MTA) */
	e.rcpts[0].state = QR_BOUNCED;
	snprintf(e.rcpts[0].dsn, sizeof(e.rcpts[0].dsn), "5.1.1");
	free(e.rcpts[0].mta);
	e.rcpts[0].mta = strdup("mx.remote.example");
	free(e.rcpts[0].diag);
	e.rcpts[0].diag = strdup("550 5.1.1 <bob@remote.example>: no such"
	    "\r\nInjected: header");
	e.rcpts[1].state = QR_BOUNCED;
	free(e.rcpts[1].mta);
	e.rcpts[1].mta = strdup("");
	buf_init(&b, 1 << 20);
	n = bounce_build(&b, "mail.example.org", &e, orig, strlen(orig),
	    1764090000);
	ck_assert_int_eq(n, 2);
	p = b.data;
	/* top-level headers */
	find_after(p, "From: Mail Delivery System <MAILER-DAEMON@"
	    "mail.example.org>\n", NULL);
	find_after(p, "To: <alice@example.org>\n", NULL);
	find_after(p, "Auto-Submitted: auto-replied\n", NULL);
	find_after(p, "MIME-Version: 1.0\n", NULL);
	boundary_line = find_after(p, "Content-Type: multipart/report; "
	    "report-type=delivery-status;\n\tboundary=\"", NULL);
	bl = strcspn(boundary_line, "\"");
	ck_assert_uint_lt(bl, sizeof(boundary));
	memcpy(boundary, boundary_line, bl);
	boundary[bl] = '\0';
	/* three parts in order, then the close delimiter at the end */
	snprintf(marker, sizeof(marker), "\n--%s\n", boundary);
	p = find_after(b.data, marker, NULL);
	ck_assert(strncmp(p, "Content-Description: Notification\n"
	    "Content-Type: text/plain", 58) == 0);
	p = find_after(b.data, "<bob@remote.example>: host mx.remote.example "
	    "said: 550 5.1.1", p);
	p = find_after(b.data, marker, p);
	p = find_after(b.data, "Content-Type: message/delivery-status\n\n",
	    p);
	ck_assert(strncmp(p, "Reporting-MTA: dns; mail.example.org\n", 37)
	    == 0);
	p = find_after(b.data, "Arrival-Date: ", p);
	p = find_after(b.data, "\n\nFinal-Recipient: rfc822; "
	    "bob@remote.example\nAction: failed\nStatus: 5.1.1\n"
	    "Remote-MTA: dns; mx.remote.example\n"
	    "Diagnostic-Code: smtp; 550 5.1.1 <bob@remote.example>: no such"
	    "  Injected: header\n", p);
	p = find_after(b.data, "\nFinal-Recipient: rfc822; \"odd guy\"@"
	    "remote.example\nAction: failed\nStatus: 4.2.0\n"
	    "Diagnostic-Code: X-Facteur; 451 4.2.0 100% full, try again "
	    "later\n", p);
	p = find_after(b.data, marker, p);
	p = find_after(b.data, "Content-Type: text/rfc822-headers\n\n", p);
	{
		static const char hdrs[] = "From: alice@example.org\n"
		    "To: bob@remote.example\nSubject: report\n\n";

		ck_assert(strncmp(p, hdrs, sizeof(hdrs) - 1) == 0);
	}
	snprintf(marker, sizeof(marker), "\n--%s--\n", boundary);
	p = find_after(b.data, marker, p);
	ck_assert_str_eq(p, "");
	/* the already-notified recipient and the body are not in it */
	ck_assert_ptr_null(strstr(b.data, "carol@other.example"));
	ck_assert_ptr_null(strstr(b.data, "secret body"));
	/* no header injection from the remote text */
	ck_assert_ptr_null(strstr(b.data, "\nInjected:"));
	ck_assert_ptr_null(strchr(b.data, '\r'));
	buf_free(&b);
	qenv_free(&e);
}
END_TEST

START_TEST(test_dsn_utf8_global)
{
	struct qenv e;
	struct buf b;

	make_env(&e);
	free(e.rcpts[0].addr);
	e.rcpts[0].addr = strdup("j\xc3\xb6rg@remote.example");
	e.rcpts[0].state = QR_BOUNCED;
	snprintf(e.rcpts[0].dsn, sizeof(e.rcpts[0].dsn), "5.6.7");
	buf_init(&b, 1 << 20);
	ck_assert_int_eq(bounce_build(&b, "h", &e, "A: b\n\n", 6, 1), 1);
	ck_assert_ptr_nonnull(strstr(b.data, "Content-Type: message/"
	    "global-delivery-status\n"));
	ck_assert_ptr_nonnull(strstr(b.data, "Final-Recipient: utf-8; "
	    "j\xc3\xb6rg@remote.example\n"));
	buf_free(&b);
	qenv_free(&e);
}
END_TEST

START_TEST(test_dsn_nothing)
{
	struct qenv e;
	struct buf b;

	make_env(&e);
	e.rcpts[2].notified = true;	/* the only bounce is reported */
	buf_init(&b, 1 << 20);
	ck_assert_int_eq(bounce_build(&b, "h", &e, "", 0, 1), 0);
	ck_assert_uint_eq(b.len, 0);
	buf_free(&b);
	qenv_free(&e);
}
END_TEST

START_TEST(test_header_end)
{
	ck_assert_uint_eq(bounce_header_end("A: b\n\nbody", 10), 5);
	ck_assert_uint_eq(bounce_header_end("A: b\nC: d\n", 10), 10);
	ck_assert_uint_eq(bounce_header_end("A: b\r\n\r\nx", 9), 6);
	ck_assert_uint_eq(bounce_header_end("", 0), 0);
}
END_TEST

START_TEST(test_wire_size)
{
	/* "a\n.b\n" -> "a\r\n..b\r\n" = 8; no final LF adds CRLF */
	ck_assert_uint_eq(mta_wire_size("a\n.b\n", 5), 8);
	ck_assert_uint_eq(mta_wire_size("a", 1), 3);
	ck_assert_uint_eq(mta_wire_size("", 0), 0);
	ck_assert_uint_eq(mta_wire_size("a\r\nb\r\n", 6), 6);
	ck_assert_uint_eq(mta_wire_size(".\n", 2), 4);
}
END_TEST

static const struct {
	int code;
	const char *text;
	const char *want;
} status_cases[] = {
	{ 250, "2.1.5 Ok", "2.1.5" },
	{ 550, "5.1.1 <x>: Recipient address rejected", "5.1.1" },
	{ 451, "4.7.1 try later", "4.7.1" },
	{ 550, "Mailbox unavailable", "5.0.0" },
	{ 450, "5.1.1 class mismatch", "4.0.0" },
	{ 250, "", "2.0.0" },
	{ 552, "5.3.4", "5.3.4" },
	{ 550, "5.1.1234 too long", "5.0.0" },
	{ 550, "5.1. x", "5.0.0" },
	{ 421, "4.4.2 bye", "4.4.2" },
	{ 999, "junk", "4.0.0" },
};

START_TEST(test_reply_status)
{
	char dsn[16];

	mta_reply_status(status_cases[_i].code, status_cases[_i].text, dsn,
	    sizeof(dsn));
	ck_assert_str_eq(dsn, status_cases[_i].want);
}
END_TEST

START_TEST(test_needs_smtputf8)
{
	struct mta_rcpt r[2];

	memset(r, 0, sizeof(r));
	r[0].addr = "bob@example.org";
	r[1].addr = "j\xc3\xb6rg@example.org";
	static const char ascii[] = "Subject: hi\n\nd\xc3\xa9j\xc3\xa0\n";
	static const char utf8h[] = "Subject: d\xc3\xa9j\xc3\xa0\n\nx\n";

	ck_assert(!mta_needs_smtputf8("a@b", r, 1, false, "", 0));
	ck_assert(mta_needs_smtputf8("a@b", r, 2, false, "", 0));
	ck_assert(mta_needs_smtputf8("\xc3\xa9@b", r, 1, false, "", 0));
	/* 8-bit body only: not needed even when the client asked */
	ck_assert(!mta_needs_smtputf8("a@b", r, 1, true, ascii,
	    sizeof(ascii) - 1));
	/* UTF-8 header: needed only when the client used SMTPUTF8 */
	ck_assert(mta_needs_smtputf8("a@b", r, 1, true, utf8h,
	    sizeof(utf8h) - 1));
	ck_assert(!mta_needs_smtputf8("a@b", r, 1, false, utf8h,
	    sizeof(utf8h) - 1));
}
END_TEST

START_TEST(test_timeouts)
{
	struct mta_timeouts to;

	mta_timeouts_default(&to, 0);
	ck_assert_int_eq(to.greeting, 300000);
	ck_assert_int_eq(to.mail, 300000);
	ck_assert_int_eq(to.rcpt, 300000);
	ck_assert_int_eq(to.data_init, 120000);
	ck_assert_int_eq(to.data_block, 180000);
	ck_assert_int_eq(to.data_term, 600000);
	mta_timeouts_default(&to, 5000);
	ck_assert_int_eq(to.data_term, 5000);
	ck_assert_int_eq(to.greeting, 5000);
}
END_TEST


/*
 * A scripted SMTP server on 127.0.0.1 for the client: one connection,
 * replies chosen by command prefix; "CLOSE" hangs up instead.
 */
struct fake_rule {
	const char	*prefix;
	const char	*reply;
};

struct fake {
	int			 lfd;
	uint16_t		 port;
	const char		*greeting;
	const struct fake_rule	*rules;
	const char		*data_reply;
	char			 got[65536];	/* everything the client sent */
	size_t			 gotlen;
	pthread_t		 th;
};

static int
fake_send(int fd, const char *s)
{
	if (strcmp(s, "CLOSE") == 0)
		return -1;
	return write(fd, s, strlen(s)) < 0 ? -1 : 0;
}

static void *
fake_main(void *arg)
{
	struct fake *f = arg;
	char line[4096];
	size_t ll = 0;
	int fd, data = 0;

	fd = accept(f->lfd, NULL, NULL);
	if (fd < 0)
		return NULL;
	if (fake_send(fd, f->greeting) < 0)
		goto out;
	for (;;) {
		char c;
		ssize_t r = read(fd, &c, 1);

		if (r <= 0)
			break;
		if (f->gotlen < sizeof(f->got) - 1)
			f->got[f->gotlen++] = c;
		if (ll < sizeof(line) - 1)
			line[ll++] = c;
		if (c != '\n')
			continue;
		line[ll] = '\0';
		ll = 0;
		if (data) {
			if (strcmp(line, ".\r\n") == 0) {
				data = 0;
				if (fake_send(fd, f->data_reply) < 0)
					break;
			}
			continue;
		}
		for (const struct fake_rule *r2 = f->rules; r2->prefix != NULL;
		    r2++) {
			if (strncasecmp(line, r2->prefix,
			    strlen(r2->prefix)) != 0)
				continue;
			if (fake_send(fd, r2->reply) < 0)
				goto out;
			if (strncmp(r2->reply, "354", 3) == 0)
				data = 1;
			break;
		}
	}
out:
	close(fd);
	return NULL;
}

static void
fake_start(struct fake *f)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);

	f->gotlen = 0;
	f->lfd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(f->lfd, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(f->lfd, (struct sockaddr *)&sin, sizeof(sin)),
	    0);
	ck_assert_int_eq(listen(f->lfd, 1), 0);
	ck_assert_int_eq(getsockname(f->lfd, (struct sockaddr *)&sin, &sl),
	    0);
	f->port = ntohs(sin.sin_port);
	ck_assert_int_eq(pthread_create(&f->th, NULL, fake_main, f), 0);
}

static void
fake_stop(struct fake *f)
{
	pthread_join(f->th, NULL);
	close(f->lfd);
	f->got[f->gotlen] = '\0';
}

static const char fake_msg[] = "Subject: t\n\nline\n.dot\n..two\n";

/* deliver fake_msg to rcpts through the fake server */
static void
fake_deliver(struct fake *f, struct mta_rcpt *r, size_t n)
{
	struct mta_cfg cfg;
	struct mta_job job;

	fake_start(f);
	memset(&cfg, 0, sizeof(cfg));
	cfg.hostname = "client.test";
	cfg.port = f->port;
	mta_timeouts_default(&cfg.to, 2000);
	memset(&job, 0, sizeof(job));
	job.queue_id = "testid";
	job.sender = "a@example.org";
	job.domain = "[127.0.0.1]";
	job.rcpts = r;
	job.nrcpts = n;
	job.content = fake_msg;
	job.clen = sizeof(fake_msg) - 1;
	mta_deliver(&cfg, &job);
	fake_stop(f);
}

static const struct fake_rule rules_ok[] = {
	{ "EHLO", "250-fake\r\n250-PIPELINING\r\n250-SIZE 1000\r\n"
	    "250 8BITMIME\r\n" },
	{ "MAIL", "250 2.1.0 ok\r\n" },
	{ "RCPT TO:<bad@", "550 5.1.1 no such user\r\n" },
	{ "RCPT TO:<later@", "451 4.2.0 try later\r\n" },
	{ "RCPT", "250 2.1.5 ok\r\n" },
	{ "DATA", "354 go\r\n" },
	{ "QUIT", "221 bye\r\n" },
	{ NULL, NULL }
};

START_TEST(test_mta_mixed_results)
{
	struct fake f = { .greeting = "220 fake ESMTP\r\n", .rules = rules_ok,
	    .data_reply = "250 2.0.0 queued\r\n" };
	struct mta_rcpt r[3];

	memset(r, 0, sizeof(r));
	r[0].addr = "good@x.test";
	r[1].addr = "bad@x.test";
	r[2].addr = "later@x.test";
	fake_deliver(&f, r, 3);
	ck_assert_int_eq(r[0].result, MTA_SENT);
	ck_assert_str_eq(r[0].dsn, "2.0.0");
	ck_assert_str_eq(r[0].diag, "250 2.0.0 queued");
	ck_assert_int_eq(r[1].result, MTA_BOUNCE);
	ck_assert_str_eq(r[1].dsn, "5.1.1");
	ck_assert_str_eq(r[1].diag, "550 5.1.1 no such user");
	ck_assert_int_eq(r[2].result, MTA_DEFER);
	ck_assert_str_eq(r[2].dsn, "4.2.0");
	/* pipelined: MAIL and all RCPTs before the first reply is read;
	 * SIZE given; CRLF and dot-stuffing on the wire */
	ck_assert_ptr_nonnull(strstr(f.got, "MAIL FROM:<a@example.org> "
	    "SIZE="));
	ck_assert_ptr_nonnull(strstr(f.got, "\r\nRCPT TO:<good@x.test>\r\n"
	    "RCPT TO:<bad@x.test>\r\nRCPT TO:<later@x.test>\r\nDATA\r\n"));
	ck_assert_ptr_nonnull(strstr(f.got, "Subject: t\r\n\r\nline\r\n"
	    "..dot\r\n...two\r\n.\r\nQUIT\r\n"));
}
END_TEST

static const struct fake_rule rules_big[] = {
	{ "EHLO", "250-fake\r\n250 SIZE 10\r\n" },
	{ "QUIT", "221 bye\r\n" },
	{ NULL, NULL }
};

START_TEST(test_mta_size_refused)
{
	struct fake f = { .greeting = "220 fake\r\n", .rules = rules_big,
	    .data_reply = "250 ok\r\n" };
	struct mta_rcpt r[1];

	memset(r, 0, sizeof(r));
	r[0].addr = "x@x.test";
	fake_deliver(&f, r, 1);
	ck_assert_int_eq(r[0].result, MTA_BOUNCE);
	ck_assert_str_eq(r[0].dsn, "5.3.4");
	ck_assert_ptr_null(strstr(f.got, "MAIL"));
}
END_TEST

static const struct fake_rule rules_closed_after_dot[] = {
	{ "EHLO", "250 fake\r\n" },
	{ "MAIL", "250 ok\r\n" },
	{ "RCPT", "250 ok\r\n" },
	{ "DATA", "354 go\r\n" },
	{ NULL, NULL }
};

START_TEST(test_mta_lost_after_dot_defers)
{
	struct fake f = { .greeting = "220 fake\r\n",
	    .rules = rules_closed_after_dot, .data_reply = "CLOSE" };
	struct mta_rcpt r[1];

	memset(r, 0, sizeof(r));
	r[0].addr = "x@x.test";
	fake_deliver(&f, r, 1);
	ck_assert_int_eq(r[0].result, MTA_DEFER);
	ck_assert_ptr_nonnull(strstr(r[0].diag, "more than once"));
	/* no pipelining offered: one command at a time */
	ck_assert_ptr_nonnull(strstr(f.got, "MAIL FROM:<a@example.org>\r\n"
	    "RCPT TO:<x@x.test>\r\nDATA\r\n"));
}
END_TEST

/* hostile or broken servers: every recipient deferred, never sent */
static const struct {
	const char	*greeting;
	const char	*ehlo;
	const char	*mail;
	const char	*want_diag;
} bad_servers[] = {
	{ "hello there\r\n", "250 x\r\n", "250 ok\r\n", "malformed reply" },
	{ "421 4.3.2 busy\r\n", "250 x\r\n", "250 ok\r\n",
	    "refused to talk to me: 421 4.3.2 busy" },
	{ "220-one\r\n230 two\r\n", "250 x\r\n", "250 ok\r\n",
	    "inconsistent reply codes" },
	{ "220 x\r\n", "CLOSE", "250 ok\r\n", "lost connection" },
	{ "220 x\r\n", "250 x\r\n", "452 4.3.1 full\r\n", "452 4.3.1 full" },
	{ "220 x\r\n", "250 x\r\n", "CLOSE", "lost connection" },
	{ "220 x\r\n", "25\r\n", "250 ok\r\n", "malformed reply" },
	{ "220 x\r\n", "2500 x\r\n", "250 ok\r\n", "malformed reply" },
	{ "CLOSE", "250 x\r\n", "250 ok\r\n", "lost connection" },
};

START_TEST(test_mta_bad_server)
{
	struct fake_rule rules[] = {
		{ "EHLO", bad_servers[_i].ehlo },
		{ "HELO", "CLOSE" },
		{ "MAIL", bad_servers[_i].mail },
		{ "RCPT", "250 ok\r\n" },
		{ "QUIT", "221 bye\r\n" },
		{ NULL, NULL }
	};
	struct fake f = { .greeting = bad_servers[_i].greeting,
	    .rules = rules, .data_reply = "250 ok\r\n" };
	struct mta_rcpt r[1];

	memset(r, 0, sizeof(r));
	r[0].addr = "x@x.test";
	fake_deliver(&f, r, 1);
	ck_assert_int_eq(r[0].result, MTA_DEFER);
	ck_assert_uint_eq(r[0].dsn[0], '4');
	ck_assert_msg(strstr(r[0].diag, bad_servers[_i].want_diag) != NULL,
	    "case %d: diag \"%s\"", _i, r[0].diag);
	ck_assert_ptr_null(strstr(f.got, "DATA"));
}
END_TEST

START_TEST(test_mta_mail_5xx_bounces_all)
{
	struct fake_rule rules[] = {
		{ "EHLO", "250-x\r\n250 PIPELINING\r\n" },
		{ "MAIL", "553 5.7.1 sender rejected\r\n" },
		{ "RCPT", "503 5.5.1 need MAIL\r\n" },
		{ "QUIT", "221 bye\r\n" },
		{ NULL, NULL }
	};
	struct fake f = { .greeting = "220 x\r\n", .rules = rules,
	    .data_reply = "250 ok\r\n" };
	struct mta_rcpt r[2];

	memset(r, 0, sizeof(r));
	r[0].addr = "x@x.test";
	r[1].addr = "y@x.test";
	fake_deliver(&f, r, 2);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(r[i].result, MTA_BOUNCE);
		ck_assert_str_eq(r[i].dsn, "5.7.1");
		ck_assert_str_eq(r[i].diag, "553 5.7.1 sender rejected");
	}
	ck_assert_ptr_null(strstr(f.got, "DATA"));
}
END_TEST

START_TEST(test_mta_connect_refused)
{
	struct mta_cfg cfg;
	struct mta_job job;
	struct mta_rcpt r[1];
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd;

	/* a port nobody listens on: bind without listen, note it, close */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	close(fd);
	memset(&cfg, 0, sizeof(cfg));
	cfg.hostname = "client.test";
	cfg.port = ntohs(sin.sin_port);
	mta_timeouts_default(&cfg.to, 2000);
	memset(&job, 0, sizeof(job));
	memset(r, 0, sizeof(r));
	r[0].addr = "x@x.test";
	job.queue_id = "t";
	job.sender = "";
	job.domain = "[127.0.0.1]";
	job.rcpts = r;
	job.nrcpts = 1;
	job.content = "";
	mta_deliver(&cfg, &job);
	ck_assert_int_eq(r[0].result, MTA_DEFER);
	ck_assert_str_eq(r[0].dsn, "4.4.1");
	ck_assert_ptr_nonnull(strstr(r[0].diag, "Connection refused"));
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("queue");
	TCase *tc = tcase_create("envelope");

	tcase_add_test(tc, test_env_roundtrip);
	tcase_add_test(tc, test_env_null_sender);
	tcase_add_loop_test(tc, test_env_bad, 0,
	    (int)(sizeof(bad_envs) / sizeof(bad_envs[0])));
	tcase_add_test(tc, test_env_nul_byte);
	tcase_add_test(tc, test_esc);
	tcase_add_test(tc, test_valid_id);
	tcase_add_test(tc, test_next_due_done);
	suite_add_tcase(s, tc);
	tc = tcase_create("files");
	tcase_add_checked_fixture(tc, setup_dir, teardown_dir);
	tcase_add_test(tc, test_enqueue_load);
	tcase_add_test(tc, test_enqueue_no_rcpt);
	tcase_add_test(tc, test_recover);
	suite_add_tcase(s, tc);
	tc = tcase_create("retry");
	tcase_add_loop_test(tc, test_retry_delay, 0,
	    (int)(sizeof(retry_cases) / sizeof(retry_cases[0])));
	tcase_add_test(tc, test_retry_delay_empty);
	suite_add_tcase(s, tc);
	tc = tcase_create("dsn");
	tcase_add_test(tc, test_dsn_structure);
	tcase_add_test(tc, test_dsn_nothing);
	tcase_add_test(tc, test_dsn_utf8_global);
	tcase_add_test(tc, test_header_end);
	suite_add_tcase(s, tc);
	tc = tcase_create("mta");
	tcase_add_test(tc, test_wire_size);
	tcase_add_loop_test(tc, test_reply_status, 0,
	    (int)(sizeof(status_cases) / sizeof(status_cases[0])));
	tcase_add_test(tc, test_needs_smtputf8);
	tcase_add_test(tc, test_timeouts);
	suite_add_tcase(s, tc);
	tc = tcase_create("smtp-client");
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_mta_mixed_results);
	tcase_add_test(tc, test_mta_size_refused);
	tcase_add_test(tc, test_mta_lost_after_dot_defers);
	tcase_add_loop_test(tc, test_mta_bad_server, 0,
	    (int)(sizeof(bad_servers) / sizeof(bad_servers[0])));
	tcase_add_test(tc, test_mta_mail_5xx_bounces_all);
	tcase_add_test(tc, test_mta_connect_refused);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(make_suite)
