/*
 * check_store_mbox - the store on a real (temporary) Maildir: delivery,
 * user setup, mailbox views (sync, UIDs, flags seen by another view,
 * expunge, rescans after external renames), append/copy/move, folders
 * (create, rename including INBOX, delete, list), STATUS, notification.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "store/mailbox.h"
#include "store/maildir.h"
#include "store/mdname.h"
#include "store/uidlist.h"
#include "testutil.h"

static char tmpdir[256];
static char md[512];

static void
setup(void)
{
	strcpy(tmpdir, "/tmp/check_store_mbox.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	ck_assert_int_eq(store_user_maildir(tmpdir, "Bob@Example.ORG", md,
	    sizeof(md)), 0);
	ck_assert_int_eq(store_user_ensure(md), FERR_NONE);
}

static void
teardown(void)
{
	fs_rm_rf(tmpdir);
}

static int
count_dir(const char *dir, const char *sub)
{
	char path[1024];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	d = opendir(path);
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.')
			n++;
	}
	closedir(d);
	return n;
}

/* The single file name in dir/sub (test helper). */
static void
only_file(const char *dir, const char *sub, char *out, size_t outlen)
{
	char path[1024];
	struct dirent *de;
	DIR *d;

	out[0] = '\0';
	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	d = opendir(path);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.')
			snprintf(out, outlen, "%s", de->d_name);
	}
	closedir(d);
}

static void
deliver(const char *text)
{
	struct iovec iov;
	char name[256];

	iov.iov_base = (void *)text;
	iov.iov_len = strlen(text);
	ck_assert_int_eq(maildir_deliver(md, &iov, 1, 0, name, sizeof(name)),
	    FERR_NONE);
}

static struct mstore *
open_store(uint64_t quota)
{
	struct mstore *st;

	ck_assert_int_eq(mstore_open(md, quota, &st), FERR_NONE);
	return st;
}

START_TEST(test_user_maildir)
{
	char out[512];

	ck_assert_int_eq(store_user_maildir("/var/vmail", "Bob@Example.org",
	    out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/var/vmail/example.org/bob/Maildir");
	ck_assert_int_eq(store_user_maildir("/v", "../x@example.org", out,
	    sizeof(out)), -1);
	ck_assert_int_eq(store_user_maildir("/v", "..@example.org", out,
	    sizeof(out)), -1);
	ck_assert_int_eq(store_user_maildir("/v", "a@..", out, sizeof(out)),
	    -1);
	ck_assert_int_eq(store_user_maildir("/v", "a@.x", out, sizeof(out)),
	    -1);
	ck_assert_int_eq(store_user_maildir("/v", "a\n@x", out, sizeof(out)),
	    -1);
	ck_assert_int_eq(store_user_maildir("/v", "nobody", out, sizeof(out)),
	    -1);
	ck_assert_int_eq(store_user_maildir("/v", "@x", out, sizeof(out)), -1);
	ck_assert_int_eq(store_user_maildir("/v", "a@", out, sizeof(out)), -1);
	ck_assert_int_eq(store_user_maildir("/v", "a@b", out, 8), -1);
}
END_TEST

START_TEST(test_ensure)
{
	char path[1024];
	struct mstore *st;
	char **subs;
	size_t n;

	snprintf(path, sizeof(path), "%s/.Sent/maildirfolder", md);
	ck_assert_int_eq(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/.Junk/cur", md);
	ck_assert_int_eq(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/dovecot-uidlist", md);
	ck_assert_int_eq(access(path, F_OK), 0);
	st = open_store(0);
	ck_assert_int_eq(mstore_subscriptions(st, &subs, &n), FERR_NONE);
	ck_assert_uint_eq(n, 5);
	mstore_strings_free(&subs, n);
	mstore_close(&st);
	/* idempotent */
	ck_assert_int_eq(store_user_ensure(md), FERR_NONE);
}
END_TEST

START_TEST(test_deliver)
{
	const char *msg = "From: a@b\nSubject: hi\n\nbody\n";
	struct iovec iov[2];
	char name[256], path[1024], want[64];
	struct mdname mn;
	struct buf b;

	iov[0].iov_base = (void *)msg;
	iov[0].iov_len = 10;
	iov[1].iov_base = (void *)(msg + 10);
	iov[1].iov_len = strlen(msg) - 10;
	ck_assert_int_eq(maildir_deliver(md, iov, 2, 0, name, sizeof(name)),
	    FERR_NONE);
	ck_assert_int_eq(mdname_parse(name, &mn), 0);
	ck_assert(mn.has_size && mn.has_vsize);
	ck_assert_uint_eq(mn.size, strlen(msg));
	ck_assert_uint_eq(mn.vsize, strlen(msg) + 4);	/* 4 LFs */
	snprintf(want, sizeof(want), ",S=%zu,W=%zu", strlen(msg),
	    strlen(msg) + 4);
	ck_assert_ptr_nonnull(strstr(name, want));
	ck_assert_ptr_null(strchr(name, ':'));
	snprintf(path, sizeof(path), "%s/new/%s", md, name);
	buf_init(&b, 4096);
	ck_assert_int_eq(fs_read_file(path, &b), 1);
	ck_assert_str_eq(buf_cstr(&b), msg);
	buf_free(&b);
	ck_assert_int_eq(count_dir(md, "tmp"), 0);
}
END_TEST

START_TEST(test_deliver_quota)
{
	char big[2000], name[256];
	struct iovec iov;
	char path[1024];
	struct buf b;

	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = '\n';
	iov.iov_base = big;
	iov.iov_len = sizeof(big);
	ck_assert_int_eq(maildir_deliver(md, &iov, 1, 5000, name,
	    sizeof(name)), FERR_NONE);
	ck_assert_int_eq(maildir_deliver(md, &iov, 1, 5000, name,
	    sizeof(name)), FERR_NONE);
	ck_assert_int_eq(maildir_deliver(md, &iov, 1, 5000, name,
	    sizeof(name)), FERR_QUOTA);
	ck_assert_int_eq(count_dir(md, "new"), 2);
	ck_assert_int_eq(count_dir(md, "tmp"), 0);
	snprintf(path, sizeof(path), "%s/maildirsize", md);
	buf_init(&b, 4096);
	ck_assert_int_eq(fs_read_file(path, &b), 1);
	/* created (recalculated) at the first check, then appended */
	ck_assert_str_eq(buf_cstr(&b), "5000S\n0 0\n2000 1\n2000 1\n");
	buf_free(&b);
}
END_TEST

START_TEST(test_sync_uids)
{
	struct mstore *st = open_store(0);
	struct mbox *mb, *mb2;
	struct mbox_changes ch;
	uint64_t vs;
	uint32_t idx;
	char uidl[MBOX_UIDL_MAX];
	struct buf b;

	deliver("Subject: 1\n\none\n");
	deliver("Subject: 2\n\ntwo\n");
	deliver("Subject: 3\n\nthree\n");
	ck_assert_int_eq(mbox_open(st, "inbox", 0, &mb), FERR_NONE);
	ck_assert_str_eq(mbox_name(mb), "INBOX");
	ck_assert_uint_eq(mbox_count(mb), 3);
	ck_assert_uint_eq(mbox_msg_uid(mb, 0), 1);
	ck_assert_uint_eq(mbox_msg_uid(mb, 2), 3);
	ck_assert_uint_eq(mbox_uidnext(mb), 4);
	ck_assert_uint_ne(mbox_uidvalidity(mb), 0);
	ck_assert_uint_eq(mbox_recent_count(mb), 3);
	ck_assert_uint_eq(mbox_unseen_count(mb), 3);
	ck_assert(mbox_msg_flags(mb, 0) & MBOX_F_RECENT);
	/* rw view moved them to cur/ */
	ck_assert_int_eq(count_dir(md, "new"), 0);
	ck_assert_int_eq(count_dir(md, "cur"), 3);
	ck_assert_int_eq(mbox_msg_vsize(mb, 2, &vs), FERR_NONE);
	ck_assert_uint_eq(vs, strlen("Subject: 3\n\nthree\n") + 3);
	buf_init(&b, 4096);
	ck_assert_int_eq(mbox_msg_read(mb, 1, &b), FERR_NONE);
	ck_assert_str_eq(buf_cstr(&b), "Subject: 2\n\ntwo\n");
	buf_free(&b);
	buf_init(&b, 4);
	ck_assert_int_eq(mbox_msg_read(mb, 1, &b), FERR_LIMIT);
	buf_free(&b);
	mbox_msg_pop3_uidl(mb, 0, uidl, sizeof(uidl));
	{
		char want[32];

		snprintf(want, sizeof(want), "%08x%08x", 1u,
		    mbox_uidvalidity(mb));
		ck_assert_str_eq(uidl, want);
	}
	ck_assert_int_eq(mbox_find_uid(mb, 2, &idx), 1);
	ck_assert_uint_eq(idx, 1);
	ck_assert_int_eq(mbox_find_uid(mb, 9, &idx), 0);

	/* a second view: same UIDs, nothing recent for it */
	ck_assert_int_eq(mbox_open(st, "INBOX", 0, &mb2), FERR_NONE);
	ck_assert_uint_eq(mbox_count(mb2), 3);
	ck_assert_uint_eq(mbox_recent_count(mb2), 0);
	ck_assert_uint_eq(mbox_uidvalidity(mb2), mbox_uidvalidity(mb));

	/* flags set in one view are seen as changes by the other */
	ck_assert_int_eq(mbox_store(mb, 1, MBOX_STORE_ADD,
	    MBOX_F_SEEN | MBOX_F_FLAGGED, 0), FERR_NONE);
	ck_assert_uint_eq(mbox_msg_flags(mb, 1) & MBOX_F_STORABLE,
	    MBOX_F_SEEN | MBOX_F_FLAGGED);
	ck_assert_int_eq(mbox_sync(mb2, MBOX_SYNC_FORCE, &ch), FERR_NONE);
	ck_assert_uint_eq(ch.nchanged, 1);
	ck_assert_uint_eq(ch.changed[0], 1);
	ck_assert_uint_eq(ch.nexpunged, 0);
	ck_assert_uint_eq(ch.exists, 3);
	mbox_changes_free(&ch);
	ck_assert_uint_eq(mbox_msg_flags(mb2, 1), MBOX_F_SEEN |
	    MBOX_F_FLAGGED);
	/* our own change is not reported back to us */
	ck_assert_int_eq(mbox_sync(mb, MBOX_SYNC_FORCE, &ch), FERR_NONE);
	ck_assert_uint_eq(ch.nchanged, 0);
	mbox_changes_free(&ch);

	/* expunge in mb: both see it */
	ck_assert_int_eq(mbox_expunge(mb, 0), FERR_NONE);
	ck_assert_int_eq(mbox_sync(mb, MBOX_SYNC_NO_EXPUNGE, &ch), FERR_NONE);
	ck_assert_uint_eq(ch.nexpunged, 0);
	ck_assert_uint_eq(mbox_count(mb), 3);
	ck_assert(mbox_msg_expunged(mb, 0));
	mbox_changes_free(&ch);
	ck_assert_int_eq(mbox_sync(mb, 0, &ch), FERR_NONE);
	ck_assert_uint_eq(ch.nexpunged, 1);
	ck_assert_uint_eq(ch.expunged_seq[0], 1);
	ck_assert_uint_eq(ch.expunged_uid[0], 1);
	ck_assert_uint_eq(mbox_count(mb), 2);
	mbox_changes_free(&ch);
	ck_assert_int_eq(mbox_sync(mb2, 0, &ch), FERR_NONE);
	ck_assert_uint_eq(ch.nexpunged, 1);
	ck_assert_uint_eq(ch.expunged_uid[0], 1);
	ck_assert_uint_eq(mbox_count(mb2), 2);
	mbox_changes_free(&ch);

	/* new delivery: EXISTS with UID 4 */
	deliver("Subject: 4\n\nfour\n");
	ck_assert_int_eq(mbox_sync(mb2, 0, &ch), FERR_NONE);
	ck_assert_uint_eq(ch.exists, 3);
	ck_assert_uint_eq(ch.new_first, 2);
	ck_assert_uint_eq(mbox_msg_uid(mb2, 2), 4);
	ck_assert(mbox_msg_flags(mb2, 2) & MBOX_F_RECENT);
	mbox_changes_free(&ch);
	ck_assert_int_eq(mbox_sync(mb, 0, &ch), FERR_NONE);
	ck_assert_uint_eq(ch.exists, 3);
	ck_assert(!(mbox_msg_flags(mb, 2) & MBOX_F_RECENT));
	mbox_changes_free(&ch);
	mbox_close(&mb);
	mbox_close(&mb2);

	/* reopen: UIDs are stable */
	ck_assert_int_eq(mbox_open(st, "INBOX", MBOX_OPEN_RO, &mb), FERR_NONE);
	ck_assert_uint_eq(mbox_count(mb), 3);
	ck_assert_uint_eq(mbox_msg_uid(mb, 0), 2);
	ck_assert_uint_eq(mbox_msg_uid(mb, 2), 4);
	ck_assert_uint_eq(mbox_msg_flags(mb, 0), MBOX_F_SEEN |
	    MBOX_F_FLAGGED);
	ck_assert_int_eq(mbox_store(mb, 0, MBOX_STORE_ADD, MBOX_F_SEEN, 0),
	    FERR_PERM);
	mbox_close(&mb);
	mstore_close(&st);
}
END_TEST

START_TEST(test_external_rename)
{
	struct mstore *st = open_store(0);
	struct mbox *mb;
	struct mbox_changes ch;
	char name[256], from[1024], to[1024];
	int fd;

	deliver("Subject: x\n\nx\n");
	ck_assert_int_eq(mbox_open(st, "INBOX", 0, &mb), FERR_NONE);
	only_file(md, "cur", name, sizeof(name));
	/* another process sets \Seen + \Answered by renaming */
	snprintf(from, sizeof(from), "%s/cur/%s", md, name);
	snprintf(to, sizeof(to), "%s/cur/%.*sRS", md,
	    (int)strlen(name), name);
	ck_assert_int_eq(rename(from, to), 0);
	/* the view's name is stale: open finds the file by its key */
	ck_assert_int_eq(mbox_msg_open(mb, 0, &fd), FERR_NONE);
	close(fd);
	ck_assert_int_eq(mbox_store(mb, 0, MBOX_STORE_ADD, MBOX_F_FLAGGED, 0),
	    FERR_NONE);
	ck_assert_int_eq(mbox_sync(mb, MBOX_SYNC_FORCE, &ch), FERR_NONE);
	/* R and S from the other process were kept */
	ck_assert_uint_eq(mbox_msg_flags(mb, 0) & MBOX_F_STORABLE,
	    MBOX_F_SEEN | MBOX_F_ANSWERED | MBOX_F_FLAGGED);
	mbox_changes_free(&ch);
	only_file(md, "cur", name, sizeof(name));
	ck_assert_ptr_nonnull(strstr(name, ":2,FRS"));
	/* expunged externally */
	snprintf(from, sizeof(from), "%s/cur/%s", md, name);
	ck_assert_int_eq(unlink(from), 0);
	ck_assert_int_eq(mbox_msg_open(mb, 0, &fd), FERR_NOTFOUND);
	ck_assert_int_eq(mbox_sync(mb, MBOX_SYNC_FORCE, &ch), FERR_NONE);
	ck_assert_uint_eq(ch.nexpunged, 1);
	ck_assert_uint_eq(mbox_count(mb), 0);
	mbox_changes_free(&ch);
	mbox_close(&mb);
	mstore_close(&st);
}
END_TEST

START_TEST(test_keywords_store)
{
	struct mstore *st = open_store(0);
	struct mbox *mb, *mb2;
	struct mbox_changes ch;
	const char *const *names;
	unsigned k1, k2;
	enum ferr e;
	char name[256];

	deliver("Subject: x\n\nx\n");
	ck_assert_int_eq(mbox_open(st, "INBOX", 0, &mb), FERR_NONE);
	ck_assert_int_eq(mbox_open(st, "INBOX", 0, &mb2), FERR_NONE);
	ck_assert_int_eq(mbox_keyword_index(mb, "Work", false, &k1, &e), 0);
	ck_assert_int_eq(mbox_keyword_index(mb, "$Forwarded", true, &k1, &e),
	    1);
	ck_assert_int_eq(mbox_keyword_index(mb, "Work", true, &k2, &e), 1);
	ck_assert_uint_eq(k1, 0);
	ck_assert_uint_eq(k2, 1);
	ck_assert_int_eq(mbox_keyword_index(mb, "bad kw", true, &k2, &e), -1);
	ck_assert_int_eq(e, FERR_INVALID);
	ck_assert_int_eq(mbox_store(mb, 0, MBOX_STORE_SET, MBOX_F_SEEN,
	    (1u << k1) | (1u << k2)), FERR_NONE);
	only_file(md, "cur", name, sizeof(name));
	ck_assert_ptr_nonnull(strstr(name, ":2,Sab"));
	ck_assert_int_eq(mbox_sync(mb2, 0, &ch), FERR_NONE);
	ck_assert(ch.keywords_changed);
	ck_assert_uint_eq(ch.nchanged, 1);
	ck_assert_uint_eq(mbox_keywords(mb2, &names), 2);
	ck_assert_str_eq(names[1], "Work");
	ck_assert_uint_eq(mbox_msg_keywords(mb2, 0), 3);
	mbox_changes_free(&ch);
	ck_assert_int_eq(mbox_store(mb, 0, MBOX_STORE_REMOVE, 0, 1u << k1),
	    FERR_NONE);
	ck_assert_uint_eq(mbox_msg_keywords(mb, 0), 2);
	mbox_close(&mb);
	mbox_close(&mb2);
	mstore_close(&st);
}
END_TEST

START_TEST(test_append_copy_move)
{
	struct mstore *st = open_store(0);
	struct mbox *mb, *sent;
	const char *kws[] = { "Work" };
	uint32_t uid, uidv, uids[2], idx[2] = { 0, 1 };
	time_t date;
	uint64_t sz, vsz;
	struct buf b;
	struct mbox_status s;

	ck_assert_int_eq(mstore_append_mem(st, "Sent",
	    "Subject: a\r\n\r\nA\r\n",
	    17, MBOX_F_SEEN, kws, 1, 1000000000, &uid, &uidv), FERR_NONE);
	ck_assert_uint_eq(uid, 1);
	ck_assert_int_eq(mstore_append_mem(st, "Sent", "Subject: b\n\nB\n",
	    14, 0, NULL, 0, 0, &uid, &uidv), FERR_NONE);
	ck_assert_uint_eq(uid, 2);
	ck_assert_int_eq(mstore_append_mem(st, "Nope", "x", 1, 0, NULL, 0, 0,
	    &uid, &uidv), FERR_NOTFOUND);
	ck_assert_int_eq(mbox_open(st, "Sent", 0, &sent), FERR_NONE);
	ck_assert_uint_eq(mbox_uidvalidity(sent), uidv);
	ck_assert_uint_eq(mbox_count(sent), 2);
	ck_assert_int_eq(mbox_msg_internaldate(sent, 0, &date), FERR_NONE);
	ck_assert_int_eq(date, 1000000000);
	ck_assert_int_eq(mbox_msg_size(sent, 0, &sz), FERR_NONE);
	ck_assert_int_eq(mbox_msg_vsize(sent, 0, &vsz), FERR_NONE);
	ck_assert_uint_eq(sz, 14);	/* stored with LF */
	ck_assert_uint_eq(vsz, 17);
	buf_init(&b, 1024);
	ck_assert_int_eq(mbox_msg_read(sent, 0, &b), FERR_NONE);
	ck_assert_str_eq(buf_cstr(&b), "Subject: a\n\nA\n");
	buf_free(&b);
	ck_assert_uint_eq(mbox_msg_flags(sent, 0) & MBOX_F_STORABLE,
	    MBOX_F_SEEN);
	ck_assert_uint_eq(mbox_msg_keywords(sent, 0), 1);

	/* copy both to Trash: new UIDs, flags and keyword names kept */
	ck_assert_int_eq(mbox_copy(sent, idx, 2, "Trash", uids, &uidv),
	    FERR_NONE);
	ck_assert_uint_eq(uids[0], 1);
	ck_assert_uint_eq(uids[1], 2);
	ck_assert_int_eq(mbox_open(st, "Trash", 0, &mb), FERR_NONE);
	ck_assert_uint_eq(mbox_uidvalidity(mb), uidv);
	ck_assert_uint_eq(mbox_count(mb), 2);
	ck_assert_uint_eq(mbox_msg_flags(mb, 0) & MBOX_F_STORABLE,
	    MBOX_F_SEEN);
	{
		const char *const *names;

		ck_assert_uint_eq(mbox_keywords(mb, &names), 1);
		ck_assert_str_eq(names[0], "Work");
		ck_assert_uint_eq(mbox_msg_keywords(mb, 0), 1);
	}
	mbox_close(&mb);
	ck_assert_int_eq(mbox_copy(sent, idx, 1, "Nope", uids, &uidv),
	    FERR_NOTFOUND);

	/* move one to Archive: gone from Sent after sync */
	ck_assert_int_eq(mbox_move(sent, idx + 1, 1, "Archive", uids, &uidv),
	    FERR_NONE);
	ck_assert_uint_eq(uids[0], 1);
	{
		struct mbox_changes ch;

		ck_assert_int_eq(mbox_sync(sent, 0, &ch), FERR_NONE);
		ck_assert_uint_eq(ch.nexpunged, 1);
		ck_assert_uint_eq(ch.expunged_seq[0], 2);
		mbox_changes_free(&ch);
	}
	ck_assert_int_eq(mstore_status(st, "Archive", &s), FERR_NONE);
	ck_assert_uint_eq(s.messages, 1);
	ck_assert_uint_eq(s.uidnext, 2);
	ck_assert_uint_eq(s.unseen, 1);
	ck_assert_int_eq(mstore_status(st, "Trash", &s), FERR_NONE);
	ck_assert_uint_eq(s.messages, 2);
	ck_assert_uint_eq(s.unseen, 1);
	ck_assert_uint_eq(s.size, 17 + 17);
	mbox_close(&sent);
	mstore_close(&st);
}
END_TEST

START_TEST(test_append_quota)
{
	struct mstore *st = open_store(100);
	uint32_t uid, uidv;
	char big[80];

	memset(big, 'x', sizeof(big));
	ck_assert_int_eq(mstore_quota_check(st, 101), FERR_QUOTA);
	ck_assert_int_eq(mstore_append_mem(st, "INBOX", big, sizeof(big), 0,
	    NULL, 0, 0, &uid, &uidv), FERR_NONE);
	ck_assert_int_eq(mstore_append_mem(st, "INBOX", big, sizeof(big), 0,
	    NULL, 0, 0, &uid, &uidv), FERR_QUOTA);
	ck_assert_int_eq(count_dir(md, "new") + count_dir(md, "cur"), 1);
	ck_assert_int_eq(count_dir(md, "tmp"), 0);
	{
		uint64_t bu, bl, cu, cl;

		ck_assert_int_eq(mstore_quota(st, &bu, &bl, &cu, &cl),
		    FERR_NONE);
		ck_assert_uint_eq(bu, 80);
		ck_assert_uint_eq(bl, 100);
		ck_assert_uint_eq(cu, 1);
	}
	mstore_close(&st);
}
END_TEST

START_TEST(test_folders)
{
	struct mstore *st = open_store(0);
	struct mstore_folder *list;
	size_t n, i;
	const char *why;
	char path[1024];

	ck_assert_int_eq(mstore_create(st, "Work", &why), FERR_NONE);
	ck_assert_int_eq(mstore_create(st, "Work.2024", &why), FERR_NONE);
	ck_assert_int_eq(mstore_create(st, "Deep.er.x", &why), FERR_NONE);
	ck_assert_int_eq(mstore_create(st, "Work", &why), FERR_EXISTS);
	ck_assert_int_eq(mstore_create(st, "INBOX", &why), FERR_EXISTS);
	ck_assert_int_eq(mstore_create(st, "a/../../x", &why), FERR_INVALID);
	ck_assert_ptr_nonnull(why);
	ck_assert_int_eq(mstore_create(st, "Parent.", &why), FERR_NONE);
	snprintf(path, sizeof(path), "%s/.Work.2024/maildirfolder", md);
	ck_assert_int_eq(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/.Parent", md);
	ck_assert_int_eq(access(path, F_OK), 0);
	ck_assert_int_eq(mstore_exists(st, "Work.2024"), 1);
	ck_assert_int_eq(mstore_exists(st, "Deep"), 0);

	ck_assert_int_eq(mstore_list(st, &list, &n), FERR_NONE);
	ck_assert_str_eq(list[0].name, "INBOX");
	for (i = 0; i < n; i++) {
		if (strcmp(list[i].name, "Deep") == 0)
			ck_assert(list[i].attrs & MSTORE_A_NOSELECT);
		if (strcmp(list[i].name, "Work") == 0)
			ck_assert(list[i].attrs & MSTORE_A_HASCHILDREN);
		if (strcmp(list[i].name, "Sent") == 0) {
			ck_assert(list[i].attrs & MSTORE_A_SUBSCRIBED);
			ck_assert_str_eq(list[i].special, "\\Sent");
		}
	}
	/* INBOX Sent Drafts Junk Trash Archive Work Work.2024 Deep Deep.er
	 * Deep.er.x Parent */
	ck_assert_uint_eq(n, 12);
	mstore_list_free(&list, n);

	/* rename with children */
	ck_assert_int_eq(mstore_rename(st, "Work", "Job", &why), FERR_NONE);
	ck_assert_int_eq(mstore_exists(st, "Job.2024"), 1);
	ck_assert_int_eq(mstore_exists(st, "Work"), 0);
	ck_assert_int_eq(mstore_rename(st, "Job", "Job.sub", &why),
	    FERR_INVALID);
	ck_assert_int_eq(mstore_rename(st, "Job", "Sent", &why), FERR_EXISTS);
	ck_assert_int_eq(mstore_rename(st, "Nope", "X", &why), FERR_NOTFOUND);

	/* delete */
	ck_assert_int_eq(mstore_delete(st, "Job", &why), FERR_NONE);
	ck_assert_int_eq(mstore_exists(st, "Job"), 0);
	ck_assert_int_eq(mstore_exists(st, "Job.2024"), 1);
	ck_assert_int_eq(mstore_delete(st, "Job", &why), FERR_NOTFOUND);
	ck_assert_int_eq(mstore_delete(st, "INBOX", &why), FERR_PERM);

	/* subscriptions */
	ck_assert_int_eq(mstore_subscribe(st, "Job.2024", true), FERR_NONE);
	ck_assert_int_eq(mstore_subscribe(st, "../x", true), FERR_INVALID);
	mstore_close(&st);
}
END_TEST

START_TEST(test_rename_inbox)
{
	struct mstore *st = open_store(0);
	struct mbox *mb;
	const char *why;

	deliver("Subject: 1\n\n1\n");
	deliver("Subject: 2\n\n2\n");
	ck_assert_int_eq(mbox_open(st, "INBOX", 0, &mb), FERR_NONE);
	mbox_close(&mb);
	deliver("Subject: 3\n\n3\n");
	ck_assert_int_eq(mstore_rename(st, "INBOX", "Old", &why), FERR_NONE);
	ck_assert_int_eq(mbox_open(st, "Old", 0, &mb), FERR_NONE);
	ck_assert_uint_eq(mbox_count(mb), 3);
	ck_assert_uint_eq(mbox_msg_uid(mb, 2), 3);
	mbox_close(&mb);
	ck_assert_int_eq(mbox_open(st, "INBOX", 0, &mb), FERR_NONE);
	ck_assert_uint_eq(mbox_count(mb), 0);
	ck_assert_uint_eq(mbox_uidnext(mb), 3);	/* UIDs never reused */
	mbox_close(&mb);
	mstore_close(&st);
}
END_TEST

START_TEST(test_uidlist_kept_records)
{
	/* a uidlist written by Dovecot: unknown header keys and record keys
	 * survive our rewrite; P override is used for POP3 */
	struct mstore *st = open_store(0);
	struct mbox *mb;
	char path[1024], uidl[MBOX_UIDL_MAX];
	struct buf b;
	FILE *f;

	snprintf(path, sizeof(path), "%s/cur/100.M1P1.host,S=5,W=6:2,S", md);
	f = fopen(path, "w");
	fputs("abcd\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/dovecot-uidlist", md);
	f = fopen(path, "w");
	fputs("3 V1234 N8 Gabcdefabcdefabcdefabcdefabcdefab Zfoo\n"
	    "7 Pmy-old-uidl Gx :100.M1P1.host,S=5,W=6\n", f);
	fclose(f);
	deliver("Subject: new\n\nnew\n");
	ck_assert_int_eq(mbox_open(st, "INBOX", 0, &mb), FERR_NONE);
	ck_assert_uint_eq(mbox_uidvalidity(mb), 1234);
	ck_assert_uint_eq(mbox_count(mb), 2);
	ck_assert_uint_eq(mbox_msg_uid(mb, 0), 7);
	ck_assert_uint_eq(mbox_msg_uid(mb, 1), 8);
	ck_assert_uint_eq(mbox_msg_flags(mb, 0), MBOX_F_SEEN);
	mbox_msg_pop3_uidl(mb, 0, uidl, sizeof(uidl));
	ck_assert_str_eq(uidl, "my-old-uidl");
	mbox_msg_pop3_uidl(mb, 1, uidl, sizeof(uidl));
	ck_assert_str_eq(uidl, "00000008000004d2");
	mbox_close(&mb);
	buf_init(&b, 4096);
	ck_assert_int_eq(fs_read_file(path, &b), 1);
	/* appended as Dovecot does: the header's N is left behind */
	ck_assert(strncmp(buf_cstr(&b),
	    "3 V1234 N8 Gabcdefabcdefabcdefabcdefabcdefab Zfoo\n"
	    "7 Pmy-old-uidl Gx :100.M1P1.host,S=5,W=6\n8 :", 93) == 0);
	buf_free(&b);
	mstore_close(&st);
}
END_TEST

START_TEST(test_notify)
{
	struct pollfd pfd;
	int fd;

	fd = store_notify_subscribe(md);
	ck_assert_int_ge(fd, 0);
	pfd.fd = fd;
	pfd.events = POLLIN;
	ck_assert_int_eq(poll(&pfd, 1, 0), 0);
	deliver("Subject: n\n\nn\n");
	ck_assert_int_eq(poll(&pfd, 1, 1000), 1);
	store_notify_drain(fd);
	ck_assert_int_eq(poll(&pfd, 1, 0), 0);
	/* another process: a plain rename into new/ (inotify) */
	{
		char a[1024], b[1024];
		FILE *f;

		snprintf(a, sizeof(a), "%s/tmp/ext", md);
		snprintf(b, sizeof(b), "%s/new/123.M1P99.other", md);
		f = fopen(a, "w");
		fputs("x\n", f);
		fclose(f);
		ck_assert_int_eq(rename(a, b), 0);
	}
	ck_assert_int_eq(poll(&pfd, 1, 1000), 1);
	store_notify_unsubscribe(fd);
}
END_TEST

START_TEST(test_many)
{
	/* 1000 messages: UIDs in order, a warm sync reports nothing */
	struct mstore *st = open_store(0);
	struct mbox *mb;
	struct mbox_changes ch;
	uint32_t first, last;
	int i;

	for (i = 0; i < 1000; i++)
		deliver("Subject: m\n\nm\n");
	ck_assert_int_eq(mbox_open(st, "INBOX", 0, &mb), FERR_NONE);
	ck_assert_uint_eq(mbox_count(mb), 1000);
	for (i = 0; i < 1000; i++)
		ck_assert_uint_eq(mbox_msg_uid(mb, (uint32_t)i),
		    (uint32_t)i + 1);
	ck_assert_int_eq(mbox_sync(mb, 0, &ch), FERR_NONE);
	ck_assert_uint_eq(ch.nexpunged + ch.nchanged, 0);
	ck_assert_uint_eq(ch.exists, 1000);
	mbox_changes_free(&ch);
	ck_assert_int_eq(mbox_uid_range(mb, 10, 19, &first, &last), 1);
	ck_assert_uint_eq(first, 9);
	ck_assert_uint_eq(last, 18);
	ck_assert_int_eq(mbox_uid_range(mb, 3000, 4000, &first, &last), 0);
	mbox_close(&mb);
	mstore_close(&st);
}
END_TEST

START_TEST(test_snapshot)
{
	/* a second SELECT may reuse the first view's scan, but only while
	 * the directories and the uidlist are unchanged */
	struct mstore *st = open_store(0);
	struct mbox *a, *b, *c;
	struct timespec ts = { 0, 150 * 1000 * 1000 };
	char name[256], from[1024], to[1024];

	deliver("Subject: 1\n\n1\n");
	deliver("Subject: 2\n\n2\n");
	ck_assert_int_eq(mbox_open(st, "INBOX", 0, &a), FERR_NONE);
	mbox_close(&a);
	nanosleep(&ts, NULL);
	ck_assert_int_eq(mbox_open(st, "INBOX", 0, &a), FERR_NONE);
	ck_assert_int_eq(mbox_open(st, "INBOX", 0, &b), FERR_NONE);
	ck_assert_uint_eq(mbox_count(b), 2);
	ck_assert_uint_eq(mbox_msg_uid(b, 1), 2);
	ck_assert_uint_eq(mbox_uidvalidity(b), mbox_uidvalidity(a));
	ck_assert_uint_eq(mbox_recent_count(b), 0);
	/* another process flags one message */
	only_file(md, "cur", name, sizeof(name));
	snprintf(from, sizeof(from), "%s/cur/%s", md, name);
	snprintf(to, sizeof(to), "%s/cur/%sF", md, name);
	ck_assert_int_eq(rename(from, to), 0);
	ck_assert_int_eq(mbox_open(st, "INBOX", MBOX_OPEN_RO, &c), FERR_NONE);
	ck_assert_uint_eq(mbox_count(c), 2);
	ck_assert_uint_eq((mbox_msg_flags(c, 0) | mbox_msg_flags(c, 1)) &
	    MBOX_F_FLAGGED, MBOX_F_FLAGGED);
	mbox_close(&c);
	/* a delivery after the snapshot: a new read-write view starts from
	 * the snapshot, reads new/ and takes the message with \Recent */
	nanosleep(&ts, NULL);
	ck_assert_int_eq(mbox_sync(a, 0, NULL), FERR_NONE);
	deliver("Subject: 3\n\n3\n");
	ck_assert_int_eq(mbox_open(st, "INBOX", 0, &c), FERR_NONE);
	ck_assert_uint_eq(mbox_count(c), 3);
	ck_assert_uint_eq(mbox_msg_uid(c, 2), 3);
	ck_assert_uint_eq(mbox_recent_count(c), 1);
	ck_assert(mbox_msg_flags(c, 2) & MBOX_F_RECENT);
	ck_assert_int_eq(count_dir(md, "new"), 0);
	mbox_close(&a);
	mbox_close(&b);
	mbox_close(&c);
	mstore_close(&st);
}
END_TEST

START_TEST(test_gone_kept_then_reported)
{
	struct mstore *st = open_store(0);
	struct mbox *mb;
	struct mbox_changes ch;
	struct timespec ts = { 0, 120 * 1000 * 1000 };
	char name[256], path[1024];
	int fd;

	deliver("Subject: 1\n\n1\n");
	ck_assert_int_eq(mbox_open(st, "INBOX", 0, &mb), FERR_NONE);
	only_file(md, "cur", name, sizeof(name));
	snprintf(path, sizeof(path), "%s/cur/%s", md, name);
	ck_assert_int_eq(unlink(path), 0);
	nanosleep(&ts, NULL);
	/* FETCH-time sync: still there, but gone */
	ck_assert_int_eq(mbox_sync(mb, MBOX_SYNC_NO_EXPUNGE, &ch), FERR_NONE);
	ck_assert_uint_eq(ch.nexpunged, 0);
	ck_assert_uint_eq(mbox_count(mb), 1);
	ck_assert(mbox_msg_expunged(mb, 0));
	ck_assert_int_eq(mbox_msg_open(mb, 0, &fd), FERR_NOTFOUND);
	ck_assert_int_eq(mbox_store(mb, 0, MBOX_STORE_ADD, MBOX_F_SEEN, 0),
	    FERR_NOTFOUND);
	mbox_changes_free(&ch);
	/* directories unchanged since: the next full sync reports it */
	ck_assert_int_eq(mbox_sync(mb, 0, &ch), FERR_NONE);
	ck_assert_uint_eq(ch.nexpunged, 1);
	ck_assert_uint_eq(ch.expunged_uid[0], 1);
	ck_assert_uint_eq(mbox_count(mb), 0);
	mbox_changes_free(&ch);
	mbox_close(&mb);
	mstore_close(&st);
}
END_TEST

START_TEST(test_uidlist_v1_folder)
{
	/* a Courier-era version 1 list is read, and rewritten as v3 when
	 * new files need UIDs */
	struct mstore *st = open_store(0);
	struct mbox *mb;
	char path[1024];
	struct buf b;
	FILE *f;

	snprintf(path, sizeof(path), "%s/cur/100.M1P1.old:2,S", md);
	f = fopen(path, "w");
	fputs("old\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/dovecot-uidlist", md);
	f = fopen(path, "w");
	fputs("1 777 5\n4 100.M1P1.old\n", f);
	fclose(f);
	deliver("Subject: new\n\nnew\n");
	ck_assert_int_eq(mbox_open(st, "INBOX", 0, &mb), FERR_NONE);
	ck_assert_uint_eq(mbox_uidvalidity(mb), 777);
	ck_assert_uint_eq(mbox_count(mb), 2);
	ck_assert_uint_eq(mbox_msg_uid(mb, 0), 4);
	ck_assert_uint_eq(mbox_msg_uid(mb, 1), 5);
	ck_assert_uint_eq(mbox_uidnext(mb), 6);
	mbox_close(&mb);
	buf_init(&b, 4096);
	ck_assert_int_eq(fs_read_file(path, &b), 1);
	ck_assert(strncmp(buf_cstr(&b), "3 V777 N6\n4 :100.M1P1.old\n5 :",
	    29) == 0);
	buf_free(&b);
	mstore_close(&st);
}
END_TEST

START_TEST(test_stale_uidlist_lock)
{
	/* a dovecot-uidlist.lock left by a crashed process (mtime 3 min
	 * ago) is taken over; a fresh one makes the sync wait */
	struct mstore *st = open_store(0);
	struct mbox *mb;
	char path[1024];
	struct timeval tv[2];
	FILE *f;

	deliver("Subject: 1\n\n1\n");
	snprintf(path, sizeof(path), "%s/dovecot-uidlist.lock", md);
	f = fopen(path, "w");
	fclose(f);
	tv[0].tv_sec = tv[1].tv_sec = time(NULL) - 180;
	tv[0].tv_usec = tv[1].tv_usec = 0;
	ck_assert_int_eq(utimes(path, tv), 0);
	ck_assert_int_eq(mbox_open(st, "INBOX", 0, &mb), FERR_NONE);
	ck_assert_uint_eq(mbox_count(mb), 1);
	ck_assert_int_ne(access(path, F_OK), 0);
	mbox_close(&mb);
	mstore_close(&st);
}
END_TEST

START_TEST(test_status)
{
	struct mstore *st = open_store(0);
	struct mbox_status s;
	struct mbox *mb;

	deliver("Subject: 1\n\n1\n");
	deliver("Subject: 2\n\n2\n");
	ck_assert_int_eq(mstore_status(st, "INBOX", &s), FERR_NONE);
	ck_assert_uint_eq(s.messages, 2);
	ck_assert_uint_eq(s.recent, 2);	/* still in new/ */
	ck_assert_uint_eq(s.unseen, 2);
	ck_assert_uint_eq(s.uidnext, 3);
	ck_assert_uint_eq(s.size, 2 * (14 + 3));
	/* STATUS moves nothing */
	ck_assert_int_eq(count_dir(md, "new"), 2);
	/* again (now possibly from the snapshot) */
	ck_assert_int_eq(mstore_status_items(st, "INBOX", false, &s),
	    FERR_NONE);
	ck_assert_uint_eq(s.recent, 2);
	ck_assert_uint_eq(s.size, 0);
	ck_assert_int_eq(mbox_open(st, "INBOX", 0, &mb), FERR_NONE);
	ck_assert_uint_eq(mbox_recent_count(mb), 2);
	ck_assert_int_eq(mbox_store(mb, 0, MBOX_STORE_ADD, MBOX_F_SEEN, 0),
	    FERR_NONE);
	mbox_close(&mb);
	ck_assert_int_eq(mstore_status(st, "INBOX", &s), FERR_NONE);
	ck_assert_uint_eq(s.recent, 0);
	ck_assert_uint_eq(s.unseen, 1);
	ck_assert_int_eq(mstore_status(st, "Nope", &s), FERR_NOTFOUND);
	ck_assert_int_eq(mstore_status(st, "../x", &s), FERR_INVALID);
	mstore_close(&st);
}
END_TEST

static void *
thr_deliver(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < 150; i++)
		deliver("Subject: d\n\nd\n");
	return NULL;
}

static void *
thr_append(void *arg)
{
	struct mstore *st = arg;
	uint32_t uid, uidv;
	int i;

	for (i = 0; i < 100; i++)
		ck_assert_int_eq(mstore_append_mem(st, "INBOX", "S: a\r\n\r\n",
		    9, i % 2 ? MBOX_F_SEEN : 0, NULL, 0, 0, &uid, &uidv),
		    FERR_NONE);
	return NULL;
}

static void *
thr_sync(void *arg)
{
	struct mstore *st = arg;
	struct mbox *mb;
	int i;

	ck_assert_int_eq(mbox_open(st, "INBOX", 0, &mb), FERR_NONE);
	for (i = 0; i < 200; i++) {
		uint32_t k;

		struct mbox_changes ch;

		ck_assert_int_eq(mbox_sync(mb, i % 3 == 0 ?
		    MBOX_SYNC_FORCE : 0, &ch), FERR_NONE);
		/* nobody expunges: a message moving between new/ and cur/
		 * must never look expunged */
		ck_assert_uint_eq(ch.nexpunged, 0);
		mbox_changes_free(&ch);
		for (k = 1; k < mbox_count(mb); k++)
			ck_assert_uint_lt(mbox_msg_uid(mb, k - 1),
			    mbox_msg_uid(mb, k));
		if (mbox_count(mb) > 0) {
			enum ferr e = mbox_store(mb, mbox_count(mb) - 1,
			    MBOX_STORE_ADD, MBOX_F_FLAGGED, 0);

			/* the other session may have expunged... none here */
			ck_assert_int_eq(e, FERR_NONE);
		}
	}
	mbox_close(&mb);
	return NULL;
}

START_TEST(test_concurrent)
{
	/* deliveries, APPENDs and two syncing sessions at once: every
	 * message ends up with exactly one UID, none lost */
	struct mstore *st1 = open_store(0), *st2 = open_store(0);
	struct mstore *st3 = open_store(0);
	pthread_t a, b, c, d;
	struct mbox *mb;
	uint32_t i;

	ck_assert_int_eq(pthread_create(&a, NULL, thr_deliver, NULL), 0);
	ck_assert_int_eq(pthread_create(&b, NULL, thr_append, st1), 0);
	ck_assert_int_eq(pthread_create(&c, NULL, thr_sync, st2), 0);
	ck_assert_int_eq(pthread_create(&d, NULL, thr_sync, st3), 0);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	pthread_join(c, NULL);
	pthread_join(d, NULL);
	ck_assert_int_eq(mbox_open(st1, "INBOX", 0, &mb), FERR_NONE);
	ck_assert_uint_eq(mbox_count(mb), 250);
	for (i = 0; i < 250; i++)
		ck_assert_uint_eq(mbox_msg_uid(mb, i), i + 1);
	ck_assert_uint_eq(mbox_uidnext(mb), 251);
	mbox_close(&mb);
	mstore_close(&st1);
	mstore_close(&st2);
	mstore_close(&st3);
}
END_TEST

START_TEST(test_keyword_gap)
{
	/* dovecot-keywords with an unused index: no NULL name, the
	 * nameless letter is not reported but survives +FLAGS */
	struct mstore *st = open_store(0);
	struct mbox *mb;
	const char *const *names;
	char path[1024], name[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/dovecot-keywords", md);
	f = fopen(path, "w");
	fputs("0 Alpha\n2 Gamma\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/cur/100.M1P1.h,S=2,W=3:2,Sabc", md);
	f = fopen(path, "w");
	fputs("x\n", f);
	fclose(f);
	ck_assert_int_eq(mbox_open(st, "INBOX", 0, &mb), FERR_NONE);
	ck_assert_uint_eq(mbox_keywords(mb, &names), 3);
	ck_assert_str_eq(names[0], "Alpha");
	ck_assert_str_eq(names[1], "");
	ck_assert_str_eq(names[2], "Gamma");
	ck_assert_uint_eq(mbox_msg_keywords(mb, 0), 5);
	ck_assert_int_eq(mbox_store(mb, 0, MBOX_STORE_ADD, MBOX_F_FLAGGED, 0),
	    FERR_NONE);
	only_file(md, "cur", name, sizeof(name));
	ck_assert_ptr_nonnull(strstr(name, ":2,FSabc"));
	mbox_close(&mb);
	mstore_close(&st);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("store_mbox");
	TCase *tc;

	tc = tcase_create("maildir");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_user_maildir);
	tcase_add_test(tc, test_ensure);
	tcase_add_test(tc, test_deliver);
	tcase_add_test(tc, test_deliver_quota);
	tcase_add_test(tc, test_sync_uids);
	tcase_add_test(tc, test_external_rename);
	tcase_add_test(tc, test_keywords_store);
	tcase_add_test(tc, test_keyword_gap);
	tcase_add_test(tc, test_append_copy_move);
	tcase_add_test(tc, test_append_quota);
	tcase_add_test(tc, test_folders);
	tcase_add_test(tc, test_rename_inbox);
	tcase_add_test(tc, test_uidlist_kept_records);
	tcase_add_test(tc, test_notify);
	tcase_add_test(tc, test_status);
	tcase_add_test(tc, test_snapshot);
	tcase_add_test(tc, test_gone_kept_then_reported);
	tcase_add_test(tc, test_uidlist_v1_folder);
	tcase_add_test(tc, test_stale_uidlist_lock);
	tcase_add_test(tc, test_concurrent);
	tcase_add_test(tc, test_many);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(make_suite)
