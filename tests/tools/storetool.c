/*
 * storetool - a tiny driver of the store library for the Dovecot interop
 * test (tests/integration/test_store_dovecot.py). Not installed, not a
 * CLI for users. Output is one JSON object per line.
 *
 *   storetool dump ROOT                     folders, status, messages
 *   storetool ensure ROOT
 *   storetool deliver ROOT FILE
 *   storetool append ROOT FOLDER FILE FLAGS KEYWORDS DATE
 *                    (FLAGS: letters of DFRST or "-"; KEYWORDS: a,b or "-")
 *   storetool flags ROOT FOLDER UID OP FLAGS KEYWORDS   (OP: + - =)
 *   storetool expunge ROOT FOLDER UID
 *   storetool sync ROOT FOLDER              read-write open (new/ -> cur/)
 *   storetool copy|move ROOT FOLDER UID DEST
 *   storetool create|delete|subscribe|unsubscribe ROOT NAME
 *   storetool rename ROOT FROM TO
 *
 * Build: cc -std=c11 -D_GNU_SOURCE -pthread -Isrc -o build-store/storetool
 *   tests/tools/storetool.c build-store/libfacteur.a -pthread
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "store/mailbox.h"
#include "store/maildir.h"

static void
jstr(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void
die(const char *what, enum ferr e)
{
	fprintf(stderr, "storetool: %s: %s\n", what, ferr_name(e));
	exit(1);
}

static char *
slurp(const char *path, size_t *len)
{
	struct buf b;

	buf_init(&b, 64 << 20);
	if (fs_read_file(path, &b) != 1) {
		fprintf(stderr, "storetool: cannot read %s\n", path);
		exit(1);
	}
	return buf_steal(&b, len);
}

static unsigned
parse_flags(const char *s)
{
	unsigned f = 0;

	if (strcmp(s, "-") == 0)
		return 0;
	for (; *s != '\0'; s++) {
		switch (*s) {
		case 'D': f |= MBOX_F_DRAFT; break;
		case 'F': f |= MBOX_F_FLAGGED; break;
		case 'R': f |= MBOX_F_ANSWERED; break;
		case 'S': f |= MBOX_F_SEEN; break;
		case 'T': f |= MBOX_F_DELETED; break;
		default: break;
		}
	}
	return f;
}

/* Split "a,b,c" (or "-") into v (max 26). */
static size_t
split_kw(char *s, char **v)
{
	size_t n = 0;
	char *p;

	if (strcmp(s, "-") == 0)
		return 0;
	for (p = strtok(s, ","); p != NULL && n < 26; p = strtok(NULL, ","))
		v[n++] = p;
	return n;
}

static void
print_flags(unsigned f)
{
	static const struct { unsigned f; const char *n; } map[] = {
		{ MBOX_F_ANSWERED, "\\\\Answered" },
		{ MBOX_F_FLAGGED, "\\\\Flagged" },
		{ MBOX_F_DELETED, "\\\\Deleted" },
		{ MBOX_F_SEEN, "\\\\Seen" },
		{ MBOX_F_DRAFT, "\\\\Draft" },
	};
	size_t i;
	int first = 1;

	putchar('[');
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (f & map[i].f) {
			printf("%s\"%s\"", first ? "" : ",", map[i].n);
			first = 0;
		}
	}
	putchar(']');
}

static void
dump_folder(struct mstore *st, const struct mstore_folder *f)
{
	struct mbox *mb;
	const char *const *kw;
	size_t nkw;
	uint32_t i;
	enum ferr e;

	printf("{\"type\":\"folder\",\"name\":");
	jstr(f->name);
	printf(",\"noselect\":%s,\"children\":%s,\"subscribed\":%s}\n",
	    f->attrs & MSTORE_A_NOSELECT ? "true" : "false",
	    f->attrs & MSTORE_A_HASCHILDREN ? "true" : "false",
	    f->attrs & MSTORE_A_SUBSCRIBED ? "true" : "false");
	if (f->attrs & MSTORE_A_NOSELECT)
		return;
	e = mbox_open(st, f->name, MBOX_OPEN_RO, &mb);
	if (e != FERR_NONE)
		die(f->name, e);
	printf("{\"type\":\"status\",\"name\":");
	jstr(f->name);
	printf(",\"uidvalidity\":%u,\"uidnext\":%u,\"messages\":%u,"
	    "\"unseen\":%u}\n", mbox_uidvalidity(mb), mbox_uidnext(mb),
	    mbox_count(mb), mbox_unseen_count(mb));
	nkw = mbox_keywords(mb, &kw);
	for (i = 0; i < mbox_count(mb); i++) {
		uint64_t size = 0, vsize = 0;
		uint32_t k = mbox_msg_keywords(mb, i);
		time_t date = 0;
		char uidl[MBOX_UIDL_MAX];
		size_t j;
		int first = 1;

		(void)mbox_msg_size(mb, i, &size);
		(void)mbox_msg_vsize(mb, i, &vsize);
		(void)mbox_msg_internaldate(mb, i, &date);
		mbox_msg_pop3_uidl(mb, i, uidl, sizeof(uidl));
		printf("{\"type\":\"msg\",\"folder\":");
		jstr(f->name);
		printf(",\"uid\":%u,\"flags\":", mbox_msg_uid(mb, i));
		print_flags(mbox_msg_flags(mb, i));
		printf(",\"keywords\":[");
		for (j = 0; j < nkw; j++) {
			if ((k & (1u << j)) && kw[j] != NULL) {
				printf("%s", first ? "" : ",");
				jstr(kw[j]);
				first = 0;
			}
		}
		printf("],\"size\":%llu,\"vsize\":%llu,\"date\":%lld,"
		    "\"uidl\":", (unsigned long long)size,
		    (unsigned long long)vsize, (long long)date);
		jstr(uidl);
		printf("}\n");
	}
	mbox_close(&mb);
}

static uint32_t
find_idx(struct mbox *mb, const char *uidstr)
{
	uint32_t idx;

	if (!mbox_find_uid(mb, (uint32_t)strtoul(uidstr, NULL, 10), &idx)) {
		fprintf(stderr, "storetool: no uid %s\n", uidstr);
		exit(1);
	}
	return idx;
}

int
main(int argc, char **argv)
{
	struct mstore *st;
	const char *cmd, *why = NULL;
	enum ferr e;

	if (argc < 3) {
		fprintf(stderr, "usage: storetool CMD ROOT ...\n");
		return 2;
	}
	cmd = argv[1];
	if (strcmp(cmd, "ensure") == 0) {
		e = store_user_ensure(argv[2]);
		if (e != FERR_NONE)
			die("ensure", e);
		return 0;
	}
	if (strcmp(cmd, "deliver") == 0 && argc == 4) {
		struct iovec iov;
		char name[256];
		size_t len;

		iov.iov_base = slurp(argv[3], &len);
		iov.iov_len = len;
		e = maildir_deliver(argv[2], &iov, 1, 0, name, sizeof(name));
		if (e != FERR_NONE)
			die("deliver", e);
		printf("{\"name\":");
		jstr(name);
		printf("}\n");
		free(iov.iov_base);
		return 0;
	}
	e = mstore_open(argv[2], 0, &st);
	if (e != FERR_NONE)
		die("open", e);
	if (strcmp(cmd, "dump") == 0) {
		struct mstore_folder *list;
		size_t n, i;

		e = mstore_list(st, &list, &n);
		if (e != FERR_NONE)
			die("list", e);
		for (i = 0; i < n; i++)
			dump_folder(st, &list[i]);
		mstore_list_free(&list, n);
	} else if (strcmp(cmd, "append") == 0 && argc == 8) {
		char *kwv[26];
		size_t len, nkw = split_kw(argv[6], kwv);
		char *data = slurp(argv[4], &len);
		uint32_t uid, uidv;

		e = mstore_append_mem(st, argv[3], data, len,
		    parse_flags(argv[5]), (const char *const *)kwv, nkw,
		    (time_t)strtoll(argv[7], NULL, 10), &uid, &uidv);
		if (e != FERR_NONE)
			die("append", e);
		printf("{\"uid\":%u,\"uidvalidity\":%u}\n", uid, uidv);
		free(data);
	} else if (strcmp(cmd, "flags") == 0 && argc == 8) {
		struct mbox *mb;
		char *kwv[26];
		size_t nkw = split_kw(argv[7], kwv), i;
		uint32_t bits = 0, idx;
		enum mbox_store_op op = argv[5][0] == '+' ? MBOX_STORE_ADD :
		    argv[5][0] == '-' ? MBOX_STORE_REMOVE : MBOX_STORE_SET;

		e = mbox_open(st, argv[3], 0, &mb);
		if (e != FERR_NONE)
			die("open", e);
		idx = find_idx(mb, argv[4]);
		for (i = 0; i < nkw; i++) {
			unsigned k;
			enum ferr ke;

			if (mbox_keyword_index(mb, kwv[i], true, &k, &ke) != 1)
				die("keyword", ke);
			bits |= 1u << k;
		}
		e = mbox_store(mb, idx, op, parse_flags(argv[6]), bits);
		if (e != FERR_NONE)
			die("store", e);
		mbox_close(&mb);
	} else if (strcmp(cmd, "expunge") == 0 && argc == 5) {
		struct mbox *mb;

		e = mbox_open(st, argv[3], 0, &mb);
		if (e != FERR_NONE)
			die("open", e);
		e = mbox_expunge(mb, find_idx(mb, argv[4]));
		if (e == FERR_NONE)
			e = mbox_sync(mb, 0, NULL);
		if (e != FERR_NONE)
			die("expunge", e);
		mbox_close(&mb);
	} else if (strcmp(cmd, "sync") == 0 && argc == 4) {
		struct mbox *mb;

		e = mbox_open(st, argv[3], 0, &mb);
		if (e != FERR_NONE)
			die("open", e);
		printf("{\"messages\":%u,\"recent\":%u}\n", mbox_count(mb),
		    mbox_recent_count(mb));
		mbox_close(&mb);
	} else if ((strcmp(cmd, "copy") == 0 || strcmp(cmd, "move") == 0) &&
	    argc == 6) {
		struct mbox *mb;
		uint32_t idx, uid, uidv;

		e = mbox_open(st, argv[3], 0, &mb);
		if (e != FERR_NONE)
			die("open", e);
		idx = find_idx(mb, argv[4]);
		e = cmd[0] == 'c' ? mbox_copy(mb, &idx, 1, argv[5], &uid,
		    &uidv) : mbox_move(mb, &idx, 1, argv[5], &uid, &uidv);
		if (e == FERR_NONE)
			e = mbox_sync(mb, 0, NULL);
		if (e != FERR_NONE)
			die(cmd, e);
		printf("{\"uid\":%u,\"uidvalidity\":%u}\n", uid, uidv);
		mbox_close(&mb);
	} else if (strcmp(cmd, "create") == 0 && argc == 4) {
		e = mstore_create(st, argv[3], &why);
	} else if (strcmp(cmd, "delete") == 0 && argc == 4) {
		e = mstore_delete(st, argv[3], &why);
	} else if (strcmp(cmd, "rename") == 0 && argc == 5) {
		e = mstore_rename(st, argv[3], argv[4], &why);
	} else if (strcmp(cmd, "subscribe") == 0 && argc == 4) {
		e = mstore_subscribe(st, argv[3], true);
	} else if (strcmp(cmd, "unsubscribe") == 0 && argc == 4) {
		e = mstore_subscribe(st, argv[3], false);
	} else {
		fprintf(stderr, "storetool: bad command\n");
		return 2;
	}
	if (e != FERR_NONE) {
		fprintf(stderr, "storetool: %s: %s%s%s\n", cmd, ferr_name(e),
		    why != NULL ? ": " : "", why != NULL ? why : "");
		return 1;
	}
	mstore_close(&st);
	return 0;
}
