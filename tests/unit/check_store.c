/*
 * check_store - the store's pure parsers and small file formats: Maildir
 * file names, modified UTF-7, dovecot-uidlist, dovecot-keywords,
 * subscriptions, maildirsize, mailbox name checks, dotlock.
 * (Views, delivery and folders: check_store_mbox.c.)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "store/dotlock.h"
#include "store/keywords.h"
#include "store/mailbox.h"
#include "store/mdname.h"
#include "store/quota.h"
#include "store/subs.h"
#include "store/uidlist.h"
#include "store/utf7.h"
#include "testutil.h"

static char tmpdir[256];

static void
mk_tmpdir(void)
{
	strcpy(tmpdir, "/tmp/check_store.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void
rm_tmpdir(void)
{
	fs_rm_rf(tmpdir);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static char *
read_text(const char *path)
{
	struct buf b;

	buf_init(&b, 1 << 20);
	ck_assert_int_eq(fs_read_file(path, &b), 1);
	return buf_steal(&b, NULL);
}

/* ---- mdname ---- */

static const struct {
	const char	*name;
	int		 ok;
	size_t		 keylen;
	int		 has_size;
	uint64_t	 size;
	int		 has_vsize;
	uint64_t	 vsize;
	unsigned	 flags;
	uint32_t	 kw;
	const char	*other;
} mdnames[] = {
	{ "1700000000.M12P34.host", 1, 22, 0, 0, 0, 0, 0, 0, "" },
	{ "1700000000.M12P34.host,S=1234,W=1260:2,S", 1, 36, 1, 1234, 1,
	    1260, MBOX_F_SEEN, 0, "" },
	{ "1700000000.M12P34.host,S=5:2,DFRST", 1, 26, 1, 5, 0, 0,
	    MBOX_F_DRAFT | MBOX_F_FLAGGED | MBOX_F_ANSWERED | MBOX_F_SEEN |
	    MBOX_F_DELETED, 0, "" },
	{ "a,W=7,S=3:2,Sac", 1, 9, 1, 3, 1, 7, MBOX_F_SEEN, 5, "" },
	{ "a:2,PSz", 1, 1, 0, 0, 0, 0, MBOX_F_SEEN, 1u << 25, "P" },
	{ "a:2,", 1, 1, 0, 0, 0, 0, 0, 0, "" },
	{ "a:1,xyz", 1, 1, 0, 0, 0, 0, 0, 0, "" },
	{ "a,X=foo,S=10", 1, 12, 1, 10, 0, 0, 0, 0, "" },
	{ "a,S=,W=1", 0, 0, 0, 0, 0, 0, 0, 0, "" },
	{ "a,S=12x", 0, 0, 0, 0, 0, 0, 0, 0, "" },
	{ "a,S=-1", 0, 0, 0, 0, 0, 0, 0, 0, "" },
	{ "a,S=99999999999999999999999", 0, 0, 0, 0, 0, 0, 0, 0, "" },
	{ ".hidden", 0, 0, 0, 0, 0, 0, 0, 0, "" },
	{ "", 0, 0, 0, 0, 0, 0, 0, 0, "" },
	{ ":2,S", 0, 0, 0, 0, 0, 0, 0, 0, "" },
	{ "a\tb", 0, 0, 0, 0, 0, 0, 0, 0, "" },
	{ "a/b", 0, 0, 0, 0, 0, 0, 0, 0, "" },
};

START_TEST(test_mdname_parse)
{
	struct mdname mn;
	int rc = mdname_parse(mdnames[_i].name, &mn);

	ck_assert_msg((rc == 0) == mdnames[_i].ok, "%s", mdnames[_i].name);
	if (!mdnames[_i].ok)
		return;
	ck_assert_uint_eq(mn.keylen, mdnames[_i].keylen);
	ck_assert_int_eq(mn.has_size, mdnames[_i].has_size);
	ck_assert_uint_eq(mn.size, mdnames[_i].size);
	ck_assert_int_eq(mn.has_vsize, mdnames[_i].has_vsize);
	ck_assert_uint_eq(mn.vsize, mdnames[_i].vsize);
	ck_assert_uint_eq(mn.flags, mdnames[_i].flags);
	ck_assert_uint_eq(mn.keywords, mdnames[_i].kw);
	ck_assert_str_eq(mn.other, mdnames[_i].other);
}
END_TEST

START_TEST(test_mdname_long)
{
	char name[400];
	struct mdname mn;

	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	ck_assert_int_eq(mdname_parse(name, &mn), -1);
	name[255] = '\0';
	ck_assert_int_eq(mdname_parse(name, &mn), 0);
	/* too many unknown flag letters */
	strcpy(name, "a:2,ABCEGHIJKLMNOPQUVWXYZ0123456789!#");
	ck_assert_int_eq(mdname_parse(name, &mn), -1);
}
END_TEST

START_TEST(test_mdname_build)
{
	char out[300];
	struct mdname mn;
	const char *in = "1.M2P3.h,S=10,W=12:2,PTa";

	ck_assert_int_eq(mdname_parse(in, &mn), 0);
	ck_assert_int_gt(mdname_with_flags(in, mn.keylen,
	    MBOX_F_SEEN | MBOX_F_FLAGGED | MBOX_F_DRAFT, (1u << 2) | 1,
	    mn.other, out, sizeof(out)), 0);
	/* ASCII order: D F P S a c; unknown P kept, T dropped */
	ck_assert_str_eq(out, "1.M2P3.h,S=10,W=12:2,DFPSac");
	ck_assert_int_gt(mdname_with_flags(in, mn.keylen, 0, 0, "", out,
	    sizeof(out)), 0);
	ck_assert_str_eq(out, "1.M2P3.h,S=10,W=12:2,");
	ck_assert_int_eq(mdname_with_flags(in, mn.keylen, 0, 0, "", out, 10),
	    -1);
}
END_TEST

START_TEST(test_mdname_base)
{
	char a[256], b[256];
	struct mdname mn;

	ck_assert_int_gt(mdname_new_base(a, sizeof(a)), 0);
	ck_assert_int_gt(mdname_new_base(b, sizeof(b)), 0);
	ck_assert_str_ne(a, b);
	ck_assert_ptr_null(strchr(a, '/'));
	ck_assert_ptr_null(strchr(a, ':'));
	ck_assert_ptr_null(strchr(a, ','));
	ck_assert_int_eq(mdname_parse(a, &mn), 0);
	ck_assert_ptr_nonnull(strstr(a, ".M"));
	ck_assert_int_eq(mdname_new_base(a, 5), -1);
}
END_TEST

/* ---- utf7 ---- */

static const struct {
	const char	*utf8;
	const char	*utf7;
} utf7_pairs[] = {
	{ "INBOX", "INBOX" },
	{ "a&b", "a&-b" },
	{ "&", "&-" },
	{ "Entw\xc3\xbcrfe", "Entw&APw-rfe" },
	{ "\xe5\x8f\xb0\xe5\x8c\x97", "&U,BTFw-" },
	{ "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac"
	    "\xe8\xaa\x9e", "~peter/mail/&U,BTFw-/&ZeVnLIqe-" },
	{ "\xf0\x9f\x98\x80", "&2D3eAA-" },
	{ "caf\xc3\xa9 cr\xc3\xa8me", "caf&AOk- cr&AOg-me" },
};

START_TEST(test_utf7_roundtrip)
{
	char out[256];
	long n;

	n = utf7_from_utf8(utf7_pairs[_i].utf8, strlen(utf7_pairs[_i].utf8),
	    out, sizeof(out));
	ck_assert_int_ge(n, 0);
	ck_assert_str_eq(out, utf7_pairs[_i].utf7);
	n = utf7_to_utf8(utf7_pairs[_i].utf7, strlen(utf7_pairs[_i].utf7),
	    out, sizeof(out));
	ck_assert_int_ge(n, 0);
	ck_assert_str_eq(out, utf7_pairs[_i].utf8);
	ck_assert(utf7_valid(utf7_pairs[_i].utf7));
}
END_TEST

static const char *const utf7_bad[] = {
	"&",		/* unterminated */
	"&U,BTFw",	/* unterminated */
	"&AGE-",	/* 'a' encoded: must be literal */
	"&Jjo!",	/* bad base64 char */
	"&U,BTFw-&ZeVnLIqe-",	/* adjacent shifts */
	"&2D0-",	/* lone high surrogate */
	"&3gA-",	/* lone low surrogate */
	"&APx-\x80",	/* 8-bit byte */
	"a\tb",		/* control */
	"&APy-",	/* nonzero padding bits */
	"&AAA-",	/* U+0000 */
	"&AAAA-",	/* leftover bits */
};

START_TEST(test_utf7_invalid)
{
	char out[64];

	ck_assert_msg(utf7_to_utf8(utf7_bad[_i], strlen(utf7_bad[_i]), out,
	    sizeof(out)) == -1, "%s", utf7_bad[_i]);
	ck_assert(!utf7_valid(utf7_bad[_i]));
}
END_TEST

START_TEST(test_utf7_bad_utf8)
{
	char out[64];

	ck_assert_int_eq(utf7_from_utf8("\xc3", 1, out, sizeof(out)), -1);
	ck_assert_int_eq(utf7_from_utf8("\xc0\xaf", 2, out, sizeof(out)), -1);
	ck_assert_int_eq(utf7_from_utf8("\xed\xa0\x80", 3, out, sizeof(out)),
	    -1);
	ck_assert_int_eq(utf7_from_utf8("a\nb", 3, out, sizeof(out)), -1);
	/* too small */
	ck_assert_int_eq(utf7_from_utf8("Entw\xc3\xbcrfe", 9, out, 6), -1);
	ck_assert_int_eq(utf7_to_utf8("Entw&APw-rfe", 12, out, 4), -1);
}
END_TEST

/* ---- mailbox names ---- */

static const struct {
	const char	*name;
	int		 ok;
} mbnames[] = {
	{ "INBOX", 1 }, { "inbox", 1 }, { "Sent", 1 }, { "Archive.2024", 1 },
	{ "Entw&APw-rfe", 1 }, { "a b", 1 }, { "INBOX.sub", 1 },
	{ "", 0 }, { "..", 0 }, { ".a", 0 }, { "a.", 0 }, { "a..b", 0 },
	{ "a/b", 0 }, { "../etc", 0 }, { "~root", 0 }, { "a\\b", 0 },
	{ "a\nb", 0 }, { "a\x7f", 0 }, { "caf\xc3\xa9", 0 }, { "a*", 0 },
	{ "a%", 0 }, { "&AGE-", 0 }, { "a&", 0 },
	{ "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q", 0 },
};

START_TEST(test_name_check)
{
	const char *why = NULL;
	int rc = mstore_name_check(mbnames[_i].name, &why);

	ck_assert_msg((rc == 0) == mbnames[_i].ok, "%s", mbnames[_i].name);
	if (rc < 0)
		ck_assert_ptr_nonnull(why);
}
END_TEST

START_TEST(test_name_long)
{
	char n[MSTORE_NAME_MAX + 2];
	const char *why;

	memset(n, 'x', sizeof(n) - 1);
	n[sizeof(n) - 1] = '\0';
	ck_assert_int_eq(mstore_name_check(n, &why), -1);
	n[MSTORE_NAME_MAX] = '\0';
	ck_assert_int_eq(mstore_name_check(n, &why), 0);
}
END_TEST

/* ---- uidlist ---- */

START_TEST(test_uidlist_v3)
{
	const char *text =
	    "3 V1720755020 N5 G0123456789abcdef0123456789abcdef X1 Yfoo\n"
	    "1 :1.M1P1.h,S=10,W=12\n"
	    "2 W30 Pold-uidl :2.M1P1.h,S=20\n"
	    "4 G00aa :4.M1P1.h\n";
	struct uidlist ul;
	struct buf b;
	const char *why;
	char v[64];
	size_t idx;

	uidlist_init(&ul);
	ck_assert_int_eq(uidlist_parse(&ul, text, strlen(text), &why), 0);
	ck_assert_uint_eq(ul.version, 3);
	ck_assert_uint_eq(ul.uidvalidity, 1720755020u);
	ck_assert_uint_eq(ul.nextuid, 5);
	ck_assert_str_eq(ul.guid, "0123456789abcdef0123456789abcdef");
	ck_assert_str_eq(ul.hdr_extra, "X1 Yfoo");
	ck_assert_uint_eq(ul.n, 3);
	ck_assert_str_eq(ul.recs[1].name, "2.M1P1.h,S=20");
	ck_assert_int_eq(uidlist_rec_key(&ul.recs[1], 'P', v, sizeof(v)), 1);
	ck_assert_str_eq(v, "old-uidl");
	ck_assert_int_eq(uidlist_rec_key(&ul.recs[1], 'W', v, sizeof(v)), 1);
	ck_assert_str_eq(v, "30");
	ck_assert_int_eq(uidlist_rec_key(&ul.recs[0], 'P', v, sizeof(v)), 0);
	ck_assert_int_eq(uidlist_rec_key(&ul.recs[2], 'G', v, sizeof(v)), 1);
	ck_assert_int_eq(uidlist_hdr_key(&ul, 'Y', v, sizeof(v)), 1);
	ck_assert_str_eq(v, "foo");
	ck_assert_int_eq(uidlist_find(&ul, 4, &idx), 1);
	ck_assert_uint_eq(idx, 2);
	ck_assert_int_eq(uidlist_find(&ul, 3, &idx), 0);
	buf_init(&b, 1 << 20);
	ck_assert_int_eq(uidlist_format(&ul, &b), 0);
	ck_assert_str_eq(buf_cstr(&b), text);
	buf_free(&b);
	uidlist_free(&ul);
}
END_TEST

START_TEST(test_uidlist_v1)
{
	const char *text = "1 1234 7\n3 a.b.c\n6 d.e.f:2,S\n";
	struct uidlist ul;
	struct buf b;
	const char *why;

	uidlist_init(&ul);
	ck_assert_int_eq(uidlist_parse(&ul, text, strlen(text), &why), 0);
	ck_assert_uint_eq(ul.version, 1);
	ck_assert_uint_eq(ul.uidvalidity, 1234);
	ck_assert_uint_eq(ul.nextuid, 7);
	ck_assert_uint_eq(ul.n, 2);
	ck_assert_str_eq(ul.recs[1].name, "d.e.f");
	buf_init(&b, 1 << 20);
	ck_assert_int_eq(uidlist_format(&ul, &b), 0);
	ck_assert_str_eq(buf_cstr(&b), "3 V1234 N7\n3 :a.b.c\n6 :d.e.f\n");
	buf_free(&b);
	uidlist_free(&ul);
}
END_TEST

START_TEST(test_uidlist_nextuid_bump)
{
	const char *text = "3 V1 N2\n5 :x\n";
	struct uidlist ul;
	const char *why;

	uidlist_init(&ul);
	ck_assert_int_eq(uidlist_parse(&ul, text, strlen(text), &why), 0);
	ck_assert_uint_eq(ul.nextuid, 6);
	uidlist_free(&ul);
	/* a partial last line (a writer appending) is ignored */
	text = "3 V1 N2\n1 :x\n2 :y";
	uidlist_init(&ul);
	ck_assert_int_eq(uidlist_parse(&ul, text, strlen(text), &why), 0);
	ck_assert_uint_eq(ul.n, 1);
	uidlist_free(&ul);
}
END_TEST

static const char *const uidlist_bad[] = {
	"",
	"3 V1 N2",			/* unterminated header */
	"2 V1 N1\n",			/* unsupported version */
	"3 N1\n",			/* no V */
	"3 Vx N1\n",			/* bad number */
	"3 V1 N1 lower\n",		/* bad key */
	"3 V1 N1\n2 :a\n1 :b\n",	/* descending */
	"3 V1 N1\n1 :a\n1 :b\n",	/* duplicate uid */
	"3 V1 N1\n0 :a\n",		/* zero uid */
	"3 V1 N1\n1 :a/b\n",		/* slash */
	"3 V1 N1\n1 :\n",		/* empty name */
	"3 V1 N1\n1 a\n",		/* no " :" */
	"3 V1 N1\n1 s12 :a\n",		/* key not A-Z */
	"3 V1 N1\nx :a\n",		/* garbage uid */
	"3 V1 N1\n-1 :a\n",
	"3 V1 N1\n1 :a\tb\n",		/* control */
	"1 5\n",			/* v1 short header */
	"3 V1 N1\n99999999999 :a\n",	/* overflow */
};

START_TEST(test_uidlist_bad)
{
	struct uidlist ul;
	const char *why = NULL;

	uidlist_init(&ul);
	ck_assert_msg(uidlist_parse(&ul, uidlist_bad[_i],
	    strlen(uidlist_bad[_i]), &why) == -1, "%d", _i);
	ck_assert_ptr_nonnull(why);
	uidlist_free(&ul);
}
END_TEST

START_TEST(test_uidlist_nul)
{
	const char text[] = "3 V1 N1\n1 :a\0b\n";
	struct uidlist ul;
	const char *why;

	uidlist_init(&ul);
	ck_assert_int_eq(uidlist_parse(&ul, text, sizeof(text) - 1, &why), -1);
	uidlist_free(&ul);
}
END_TEST

START_TEST(test_uidlist_file)
{
	struct uidlist ul;
	const char *why;
	char path[512];
	char *text;

	mk_tmpdir();
	uidlist_init(&ul);
	ck_assert_int_eq(uidlist_read(tmpdir, &ul, NULL, &why), 0);
	ck_assert_int_eq(uidlist_create(tmpdir, 4242), FERR_NONE);
	ck_assert_int_eq(uidlist_read(tmpdir, &ul, NULL, &why), 1);
	ck_assert_uint_eq(ul.uidvalidity, 4242);
	ck_assert_uint_eq(ul.nextuid, 1);
	ck_assert_uint_eq(strlen(ul.guid), 32);
	uidlist_free(&ul);
	/* create again does not overwrite */
	ck_assert_int_eq(uidlist_create(tmpdir, 1), FERR_NONE);
	snprintf(path, sizeof(path), "%s/dovecot-uidlist", tmpdir);
	text = read_text(path);
	ck_assert(strncmp(text, "3 V4242 N1 G", 12) == 0);
	free(text);
	rm_tmpdir();
}
END_TEST

START_TEST(test_uidvalidity_next)
{
	char path[512];
	uint32_t a, b;
	char *text;

	mk_tmpdir();
	a = uidvalidity_next(tmpdir);
	b = uidvalidity_next(tmpdir);
	ck_assert_uint_ge(a, (uint32_t)time(NULL) - 5);
	ck_assert_uint_eq(b, a + 1);
	snprintf(path, sizeof(path), "%s/dovecot-uidvalidity", tmpdir);
	text = read_text(path);
	{
		char want[16];

		snprintf(want, sizeof(want), "%08x", b);
		ck_assert_str_eq(text, want);
		snprintf(path, sizeof(path), "%s/dovecot-uidvalidity.%s",
		    tmpdir, want);
		ck_assert_int_eq(access(path, F_OK), 0);
	}
	free(text);
	rm_tmpdir();
}
END_TEST

/* ---- dotlock ---- */

START_TEST(test_dotlock)
{
	struct dotlock l1, l2;
	char file[512], lock[512];
	struct timeval tv[2];
	char *text;

	mk_tmpdir();
	snprintf(file, sizeof(file), "%s/f", tmpdir);
	snprintf(lock, sizeof(lock), "%s/f.lock", tmpdir);
	ck_assert_int_eq(dotlock_take(&l1, file, 120, 1000), FERR_NONE);
	ck_assert_int_eq(access(lock, F_OK), 0);
	/* busy: times out */
	ck_assert_int_eq(dotlock_take(&l2, file, 120, 50), FERR_TEMP);
	ck_assert_int_eq(dotlock_replace(&l1, "hello\n", 6), FERR_NONE);
	ck_assert_int_ne(access(lock, F_OK), 0);
	text = read_text(file);
	ck_assert_str_eq(text, "hello\n");
	free(text);
	/* a stale lock (mtime 200 s ago) is taken over */
	write_file(lock, "");
	tv[0].tv_sec = tv[1].tv_sec = time(NULL) - 200;
	tv[0].tv_usec = tv[1].tv_usec = 0;
	ck_assert_int_eq(utimes(lock, tv), 0);
	ck_assert_int_eq(dotlock_take(&l2, file, 120, 50), FERR_NONE);
	dotlock_release(&l2);
	ck_assert_int_ne(access(lock, F_OK), 0);
	/* release never removes a lock we don't hold */
	write_file(lock, "");
	dotlock_release(&l2);
	ck_assert_int_eq(access(lock, F_OK), 0);
	rm_tmpdir();
}
END_TEST

/* ---- keywords ---- */

START_TEST(test_keywords)
{
	const char *text = "0 $Forwarded\n1 Junk\n3 Work\n"
	    "30 bad\nx y\n2 bad name\n4 Junk\n\n";
	struct keywords kw;
	unsigned idx;
	char *out, path[512];

	keywords_init(&kw);
	ck_assert_int_eq(keywords_parse(&kw, text, strlen(text)), 4);
	ck_assert_uint_eq(kw.count, 4);
	ck_assert_str_eq(kw.names[0], "$Forwarded");
	ck_assert_ptr_null(kw.names[2]);
	ck_assert_int_eq(keywords_find(&kw, "work"), 3);
	ck_assert_int_eq(keywords_find(&kw, "none"), -1);
	keywords_free(&kw);
	ck_assert(!keywords_name_ok("\\Seen"));
	ck_assert(!keywords_name_ok("a b"));
	ck_assert(!keywords_name_ok("a(b"));
	ck_assert(!keywords_name_ok(""));
	ck_assert(keywords_name_ok("$Label1"));

	mk_tmpdir();
	snprintf(path, sizeof(path), "%s/dovecot-keywords", tmpdir);
	write_file(path, "0 $Forwarded\n2 Work\n");
	keywords_init(&kw);
	ck_assert_int_eq(keywords_alloc(tmpdir, &kw, "Work", &idx), FERR_NONE);
	ck_assert_uint_eq(idx, 2);
	ck_assert_int_eq(keywords_alloc(tmpdir, &kw, "New", &idx), FERR_NONE);
	ck_assert_uint_eq(idx, 1);	/* first free index */
	ck_assert_int_eq(keywords_alloc(tmpdir, &kw, "bad name", &idx),
	    FERR_INVALID);
	out = read_text(path);
	ck_assert_str_eq(out, "0 $Forwarded\n1 New\n2 Work\n");
	free(out);
	for (int i = 0; i < 23; i++) {
		char n[16];

		snprintf(n, sizeof(n), "k%d", i);
		ck_assert_int_eq(keywords_alloc(tmpdir, &kw, n, &idx),
		    FERR_NONE);
	}
	ck_assert_int_eq(keywords_alloc(tmpdir, &kw, "toomany", &idx),
	    FERR_LIMIT);
	keywords_free(&kw);
	rm_tmpdir();
}
END_TEST

/* ---- subscriptions ---- */

START_TEST(test_subs_parse)
{
	const char *v2 = "V\t2\n\nINBOX\nArchive\t2024\nodd\001tname\n\n"
	    "Archive\t2024\n";
	const char *v1 = "INBOX\nArchive.2024\nSent\n";
	char **names;
	size_t n;
	int version;
	struct buf b;

	ck_assert_int_eq(subs_parse(v2, strlen(v2), &names, &n, &version), 0);
	ck_assert_int_eq(version, 2);
	/* the TAB-escaped name decodes to a control byte: dropped */
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(names[0], "INBOX");
	ck_assert_str_eq(names[1], "Archive.2024");
	subs_free(&names, n);

	ck_assert_int_eq(subs_parse(v1, strlen(v1), &names, &n, &version), 0);
	ck_assert_int_eq(version, 1);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(names[1], "Archive.2024");
	buf_init(&b, 4096);
	ck_assert_int_eq(subs_format(names, n, 1, &b), 0);
	ck_assert_str_eq(buf_cstr(&b), v1);
	buf_reset(&b);
	ck_assert_int_eq(subs_format(names, n, 2, &b), 0);
	ck_assert_str_eq(buf_cstr(&b), "V\t2\n\nINBOX\nArchive\t2024\nSent\n");
	buf_free(&b);
	subs_free(&names, n);

	ck_assert_int_eq(subs_parse("V\t3\n\n", 5, &names, &n, &version), -1);
}
END_TEST

START_TEST(test_subs_file)
{
	char **names;
	size_t n;
	int version;
	char path[512], *text;

	mk_tmpdir();
	ck_assert_int_eq(subs_set(tmpdir, "Sent", true), FERR_NONE);
	ck_assert_int_eq(subs_set(tmpdir, "Archive.2024", true), FERR_NONE);
	ck_assert_int_eq(subs_set(tmpdir, "Sent", true), FERR_NONE);
	snprintf(path, sizeof(path), "%s/subscriptions", tmpdir);
	text = read_text(path);
	ck_assert_str_eq(text, "V\t2\n\nSent\nArchive\t2024\n");
	free(text);
	ck_assert_int_eq(subs_set(tmpdir, "Sent", false), FERR_NONE);
	ck_assert_int_eq(subs_read(tmpdir, &names, &n, &version), FERR_NONE);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(names[0], "Archive.2024");
	subs_free(&names, n);
	/* a v1 file stays v1 */
	write_file(path, "INBOX\nTrash\n");
	ck_assert_int_eq(subs_set(tmpdir, "Work.Sub", true), FERR_NONE);
	text = read_text(path);
	ck_assert_str_eq(text, "INBOX\nTrash\nWork.Sub\n");
	free(text);
	rm_tmpdir();
}
END_TEST

/* ---- maildirsize ---- */

static const struct {
	const char	*text;
	int		 ok;
	uint64_t	 bl;
	uint64_t	 cl;
	int64_t		 bytes;
	int64_t		 count;
} qtexts[] = {
	{ "1000S\n100 2\n", 1, 1000, 0, 100, 2 },
	{ "1000S,10C\n100 2\n50 1\n-20 -1\n", 1, 1000, 10, 130, 2 },
	{ "0S\n0 0\n", 1, 0, 0, 0, 0 },
	{ "1000S\n", 0, 0, 0, 0, 0 },			/* no totals */
	{ "1000S\n100 2\n-200 -1\n", 0, 0, 0, 0, 0 },	/* negative */
	{ "1000X\n100 2\n", 0, 0, 0, 0, 0 },
	{ "1000S\n100 2\n5 1", 0, 0, 0, 0, 0 },		/* truncated */
	{ "1000S\n100\n", 0, 0, 0, 0, 0 },
	{ "garbage", 0, 0, 0, 0, 0 },
	{ "S\n1 1\n", 0, 0, 0, 0, 0 },
};

START_TEST(test_quota_parse)
{
	struct quota_state q;
	int rc = quota_parse(qtexts[_i].text, strlen(qtexts[_i].text), &q);

	ck_assert_msg((rc == 0) == qtexts[_i].ok, "%s", qtexts[_i].text);
	if (rc < 0)
		return;
	ck_assert_uint_eq(q.bytes_limit, qtexts[_i].bl);
	ck_assert_uint_eq(q.count_limit, qtexts[_i].cl);
	ck_assert_int_eq(q.bytes, qtexts[_i].bytes);
	ck_assert_int_eq(q.count, qtexts[_i].count);
}
END_TEST

START_TEST(test_quota_file)
{
	struct quota_state q;
	char path[512], *text;

	mk_tmpdir();
	snprintf(path, sizeof(path), "%s/cur", tmpdir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/new", tmpdir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/.Sent", tmpdir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/.Sent/cur", tmpdir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/cur/1.M1P1.h,S=100:2,S", tmpdir);
	write_file(path, "x");
	snprintf(path, sizeof(path), "%s/new/2.M1P1.h", tmpdir);
	write_file(path, "12345");
	snprintf(path, sizeof(path), "%s/.Sent/cur/3.M1P1.h,S=50:2,", tmpdir);
	write_file(path, "y");
	/* missing file: recalculated */
	ck_assert_int_eq(quota_get(tmpdir, 1000, &q), FERR_NONE);
	ck_assert_int_eq(q.bytes, 155);
	ck_assert_int_eq(q.count, 3);
	snprintf(path, sizeof(path), "%s/maildirsize", tmpdir);
	text = read_text(path);
	ck_assert_str_eq(text, "1000S\n155 3\n");
	free(text);
	quota_update(tmpdir, 20, 1);
	quota_update(tmpdir, -5, -1);
	text = read_text(path);
	ck_assert_str_eq(text, "1000S\n155 3\n20 1\n-5 -1\n");
	free(text);
	ck_assert_int_eq(quota_get(tmpdir, 1000, &q), FERR_NONE);
	ck_assert_int_eq(q.bytes, 170);
	ck_assert_int_eq(quota_check(tmpdir, 1000, 830, 1), FERR_NONE);
	ck_assert_int_eq(quota_check(tmpdir, 1000, 831, 1), FERR_QUOTA);
	ck_assert_int_eq(quota_check(tmpdir, 0, 1u << 30, 1), FERR_NONE);
	/* a changed limit forces a recalculation */
	ck_assert_int_eq(quota_get(tmpdir, 2000, &q), FERR_NONE);
	ck_assert_int_eq(q.bytes, 155);
	text = read_text(path);
	ck_assert_str_eq(text, "2000S\n155 3\n");
	free(text);
	rm_tmpdir();
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc;

	tc = tcase_create("mdname");
	tcase_add_loop_test(tc, test_mdname_parse, 0,
	    sizeof(mdnames) / sizeof(mdnames[0]));
	tcase_add_test(tc, test_mdname_long);
	tcase_add_test(tc, test_mdname_build);
	tcase_add_test(tc, test_mdname_base);
	suite_add_tcase(s, tc);

	tc = tcase_create("utf7");
	tcase_add_loop_test(tc, test_utf7_roundtrip, 0,
	    sizeof(utf7_pairs) / sizeof(utf7_pairs[0]));
	tcase_add_loop_test(tc, test_utf7_invalid, 0,
	    sizeof(utf7_bad) / sizeof(utf7_bad[0]));
	tcase_add_test(tc, test_utf7_bad_utf8);
	suite_add_tcase(s, tc);

	tc = tcase_create("names");
	tcase_add_loop_test(tc, test_name_check, 0,
	    sizeof(mbnames) / sizeof(mbnames[0]));
	tcase_add_test(tc, test_name_long);
	suite_add_tcase(s, tc);

	tc = tcase_create("uidlist");
	tcase_add_test(tc, test_uidlist_v3);
	tcase_add_test(tc, test_uidlist_v1);
	tcase_add_test(tc, test_uidlist_nextuid_bump);
	tcase_add_loop_test(tc, test_uidlist_bad, 0,
	    sizeof(uidlist_bad) / sizeof(uidlist_bad[0]));
	tcase_add_test(tc, test_uidlist_nul);
	tcase_add_test(tc, test_uidlist_file);
	tcase_add_test(tc, test_uidvalidity_next);
	tcase_add_test(tc, test_dotlock);
	suite_add_tcase(s, tc);

	tc = tcase_create("files");
	tcase_add_test(tc, test_keywords);
	tcase_add_test(tc, test_subs_parse);
	tcase_add_test(tc, test_subs_file);
	tcase_add_loop_test(tc, test_quota_parse, 0,
	    sizeof(qtexts) / sizeof(qtexts[0]));
	tcase_add_test(tc, test_quota_file);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(make_suite)
