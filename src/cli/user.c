/*
 * user - `facteur user add|del|passwd|quota|list|verify [-c FILE] ...`.
 *
 * add EMAIL [--quota SIZE]  password on stdin, stored {ARGON2ID}; the
 *                           domain must be local; creates the Maildir
 *                           and, when run as root, hands it to run_user
 * del EMAIL                 removes the mailbox; the Maildir stays on
 *                           disk (said on stderr)
 * passwd EMAIL              new password from stdin
 * quota EMAIL SIZE          set the quota (0 = unlimited)
 * list [DOMAIN]             email and quota (bytes) per line
 * verify EMAIL              diagnostic like `doveadm auth test`: checks
 *                           the password on stdin through the same login
 *                           path as IMAP/SMTP (may rehash an old scheme);
 *                           exit 0 when it matches, 1 when not
 *
 * SIZE takes k, M, G suffixes (binary). ISPmail stores the quota in a
 * signed 32-bit column: at most 2147483647 bytes.
 */
#include <errno.h>
#include <ftw.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "auth/scheme.h"
#include "cli/cli.h"
#include "cli/cli_dir.h"
#include "core/strnum.h"
#include "directory/dir.h"
#include "store/maildir.h"

#define USER_USAGE \
	"user add|del|passwd|quota|list|verify [-c FILE] EMAIL " \
	"[--quota BYTES]"
#define USER_PATH_MAX	4096

static uid_t user_chown_uid;
static gid_t user_chown_gid;

static int
user_chown_one(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (lchown(path, user_chown_uid, user_chown_gid) < 0)
		return -1;
	return 0;
}

/* user_chown_tree: path and everything under it, no symlink following */
static int
user_chown_tree(const char *path)
{
	return nftw(path, user_chown_one, 16, FTW_PHYS);
}

/*
 * user_maildir: create the new user's Maildir; as root, give the user's
 * directory tree and its domain directory to run_user. Problems are
 * reported but do not undo the user: the server creates a missing
 * Maildir at first delivery.
 */
static void
user_maildir(const struct cli_args *a, const char *email, const char *what)
{
	char md[USER_PATH_MAX], udir[USER_PATH_MAX], ddir[USER_PATH_MAX];
	char msg[USER_PATH_MAX + 128], *slash;
	struct passwd *pw;
	struct stat st;
	bool new_root;
	enum ferr e;

	/* a mail_root made just now (as root) must go to run_user too */
	new_root = stat(a->conf.mail_root, &st) < 0 && errno == ENOENT;
	if (store_user_maildir(a->conf.mail_root, email, md, sizeof(md)) <
	    0) {
		(void)cli_err(what, "address cannot name a Maildir; none "
		    "created");
		return;
	}
	e = store_user_ensure(md);
	if (e != FERR_NONE) {
		snprintf(msg, sizeof(msg), "user added, but Maildir %s not "
		    "created: %s", md, ferr_name(e));
		(void)cli_err(what, msg);
		return;
	}
	if (geteuid() != 0)
		return;
	pw = getpwnam(a->conf.run_user);
	if (pw == NULL) {
		snprintf(msg, sizeof(msg), "run_user %s does not exist; "
		    "Maildir %s left owned by root", a->conf.run_user, md);
		(void)cli_err(what, msg);
		return;
	}
	user_chown_uid = pw->pw_uid;
	user_chown_gid = pw->pw_gid;
	/* md = <mail_root>/<domain>/<local>/Maildir */
	snprintf(udir, sizeof(udir), "%s", md);
	slash = strrchr(udir, '/');
	if (slash != NULL)
		*slash = '\0';
	snprintf(ddir, sizeof(ddir), "%s", udir);
	slash = strrchr(ddir, '/');
	if (slash != NULL)
		*slash = '\0';
	if ((new_root && lchown(a->conf.mail_root, pw->pw_uid,
	    pw->pw_gid) < 0) || lchown(ddir, pw->pw_uid, pw->pw_gid) < 0 ||
	    user_chown_tree(udir) < 0) {
		snprintf(msg, sizeof(msg), "cannot give %s to %s: %s", udir,
		    a->conf.run_user, strerror(errno));
		(void)cli_err(what, msg);
	}
}

static int
user_parse_quota(const char *s, uint64_t *q_r, const char *what)
{
	if (str_to_size(s, q_r) < 0) {
		(void)cli_err(what, "quota: expected a size in bytes (suffix "
		    "k, M, G)");
		return CLI_USAGE;
	}
	return CLI_OK;
}

/* user_password: read and hash; NULL after printing the error */
static char *
user_password(const char *what)
{
	const char *why = NULL;
	char *pw, *h;

	pw = cli_read_password("Password: ");
	if (pw == NULL) {
		(void)cli_err(what, "no password on stdin (one line, not "
		    "empty, no NUL byte, at most 4096 bytes)");
		return NULL;
	}
	h = pw_hash(NULL, pw, strlen(pw), &why);
	explicit_bzero(pw, strlen(pw));
	free(pw);
	if (h == NULL)
		(void)cli_err(what, why != NULL ? why : "cannot hash");
	return h;
}

static int
user_add(struct dir *d, const struct cli_args *a, const char *what)
{
	const char *why = NULL;
	uint64_t quota = 0;
	char *h;
	int rc;

	if (a->quota != NULL) {
		rc = user_parse_quota(a->quota, &quota, what);
		if (rc != CLI_OK)
			return rc;
	}
	h = user_password(what);
	if (h == NULL)
		return CLI_ERR;
	rc = dir_user_add(d, a->pos[0], h, quota, NULL, &why);
	free(h);
	if (rc < 0)
		return cli_err(what, why);
	user_maildir(a, a->pos[0], what);
	return CLI_OK;
}

static int
user_del(struct dir *d, const struct cli_args *a, const char *what)
{
	char md[USER_PATH_MAX], msg[USER_PATH_MAX + 64];
	const char *why = NULL;

	if (dir_user_del(d, a->pos[0], NULL, &why) < 0)
		return cli_err(what, why);
	if (store_user_maildir(a->conf.mail_root, a->pos[0], md,
	    sizeof(md)) == 0) {
		struct stat st;

		if (stat(md, &st) == 0) {
			snprintf(msg, sizeof(msg), "user removed; Maildir "
			    "kept on disk at %s (delete it by hand)", md);
			fprintf(stderr, "facteur: %s: %s\n", what, msg);
		}
	}
	return CLI_OK;
}

static int
user_verify(struct dir *d, const struct cli_args *a, const char *what)
{
	enum dir_login r;
	struct dir_user u;
	char *pw;

	pw = cli_read_password("Password: ");
	if (pw == NULL)
		return cli_err(what, "no password on stdin");
	r = dir_login(d, a->pos[0], pw, strlen(pw), "cli", &u);
	explicit_bzero(pw, strlen(pw));
	free(pw);
	switch (r) {
	case DIR_LOGIN_OK:
		return CLI_OK;
	case DIR_LOGIN_FAIL:
		return cli_err(what, "unknown user or wrong password");
	case DIR_LOGIN_BLOCKED:
		return cli_err(what, "too many failures; blocked for now");
	case DIR_LOGIN_TEMP:
	default:
		return cli_err(what, "directory unreachable (see `facteur "
		    "check`)");
	}
}

static int
user_list(struct dir *d, const struct cli_args *a, const char *what)
{
	const char *why = NULL;
	struct dir_list l;
	int rc;

	if (a->npos == 1) {
		rc = dir_domain_is_local(d, a->pos[0]);
		if (rc < 0)
			return cli_err(what, "directory unreachable (see "
			    "`facteur check`)");
		if (rc == 0)
			return cli_err(what, "unknown domain");
	}
	if (dir_user_list(d, a->npos == 1 ? a->pos[0] : NULL, &l, &why) < 0)
		return cli_err(what, why);
	cli_print_list(&l);
	dir_list_free(&l);
	return CLI_OK;
}

int
cli_user(int argc, char **argv)
{
	struct cli_args a;
	struct dir *d;
	const char *why = NULL;
	const char *act;
	char what[512];
	uint64_t q = 0;
	bool ok;
	int rc;

	rc = cli_args_parse(argc, argv, USER_USAGE, true, &a);
	if (rc != CLI_OK)
		return rc;
	act = a.action;
	ok = (strcmp(act, "add") == 0 && a.npos == 1) ||
	    (strcmp(act, "del") == 0 && a.npos == 1 && a.quota == NULL) ||
	    (strcmp(act, "passwd") == 0 && a.npos == 1 && a.quota == NULL) ||
	    (strcmp(act, "verify") == 0 && a.npos == 1 && a.quota == NULL) ||
	    (strcmp(act, "quota") == 0 && ((a.npos == 2 && a.quota == NULL) ||
	    (a.npos == 1 && a.quota != NULL))) ||
	    (strcmp(act, "list") == 0 && a.npos <= 1 && a.quota == NULL);
	if (!ok) {
		cli_args_free(&a);
		return cli_usage(USER_USAGE);
	}
	cli_what(&a, a.npos > 0 ? a.pos[0] : NULL, what, sizeof(what));
	/* check the quota before touching the directory */
	if (strcmp(act, "quota") == 0) {
		rc = user_parse_quota(a.npos == 2 ? a.pos[1] : a.quota, &q,
		    what);
		if (rc != CLI_OK) {
			cli_args_free(&a);
			return rc;
		}
	}
	d = cli_dir_open(&a);
	if (d == NULL) {
		cli_args_free(&a);
		return CLI_ERR;
	}
	if (strcmp(act, "add") == 0) {
		rc = user_add(d, &a, what);
	} else if (strcmp(act, "del") == 0) {
		rc = user_del(d, &a, what);
	} else if (strcmp(act, "passwd") == 0) {
		char *h = user_password(what);

		rc = CLI_ERR;
		if (h != NULL) {
			rc = CLI_OK;
			if (dir_user_set_password(d, a.pos[0], h, NULL,
			    &why) < 0)
				rc = cli_err(what, why);
			free(h);
		}
	} else if (strcmp(act, "quota") == 0) {
		rc = CLI_OK;
		if (dir_user_set_quota(d, a.pos[0], q, NULL, &why) < 0)
			rc = cli_err(what, why);
	} else if (strcmp(act, "verify") == 0) {
		rc = user_verify(d, &a, what);
	} else {
		rc = user_list(d, &a, what);
	}
	dir_close(&d);
	cli_args_free(&a);
	return rc;
}
