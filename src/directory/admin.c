/*
 * admin - facteur_admins: the accounts of the admin page.
 *
 * Names are any printable text (UTF-8 allowed, no control bytes), 1-100
 * characters, compared with the column's case-insensitive collation;
 * passwords are "{SCHEME}hash" like users'.
 */
#include <stdint.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/str.h"
#include "directory/dir.h"
#include "directory/dir_int.h"

static const char SQL_ADMIN_ADD[] =
    "INSERT INTO facteur_admins (name, password) VALUES (?, ?)";
static const char SQL_ADMIN_DEL[] =
    "DELETE FROM facteur_admins WHERE name = ?";
static const char SQL_ADMIN_LIST[] =
    "SELECT name, created FROM facteur_admins ORDER BY name";
static const char SQL_ADMIN_PASSWORD[] =
    "SELECT password FROM facteur_admins WHERE name = ?";

static int
admin_check_name(const char *name, const char **why_r)
{
	size_t chars;

	if (*name == '\0') {
		*why_r = "empty name";
		return -1;
	}
	if (str_has_ctl(name, strlen(name))) {
		*why_r = "control character in name";
		return -1;
	}
	chars = dir_utf8_chars(name);
	if (chars == SIZE_MAX) {
		*why_r = "name is not valid UTF-8";
		return -1;
	}
	if (chars > DIR_ADMIN_CHARS) {
		*why_r = "name longer than 100 characters";
		return -1;
	}
	return 0;
}

int
dir_admin_add(struct dir *d, const char *name, const char *pwhash,
    enum ferr *ferr_r, const char **error_r)
{
	struct db_status st;
	struct db_val p[2];
	const char *why;

	if (admin_check_name(name, &why) < 0)
		return dir_fail(ferr_r, FERR_INVALID, error_r, why);
	if (pwhash == NULL || *pwhash == '\0' || strlen(pwhash) > 255)
		return dir_fail(ferr_r, FERR_INVALID, error_r,
		    "password hash empty or too long");
	p[0] = DB_S(name);
	p[1] = DB_S(pwhash);
	if (db_query(d, SQL_ADMIN_ADD, p, 2, NULL, NULL, &st, &why) < 0) {
		if (st.ferr == FERR_EXISTS)
			why = "admin already exists";
		return dir_fail_db(ferr_r, &st, error_r, why);
	}
	return dir_ok(ferr_r);
}

int
dir_admin_del(struct dir *d, const char *name, enum ferr *ferr_r,
    const char **error_r)
{
	struct db_status st;
	struct db_val p[1];
	const char *why;
	uint64_t n = 0;

	p[0] = DB_S(name);
	if (db_query(d, SQL_ADMIN_DEL, p, 1, NULL, &n, &st, &why) < 0)
		return dir_fail_db(ferr_r, &st, error_r, why);
	if (n == 0)
		return dir_fail(ferr_r, FERR_NOTFOUND, error_r,
		    "no such admin");
	return dir_ok(ferr_r);
}

int
dir_admin_list(struct dir *d, struct dir_list *l_r, const char **error_r)
{
	return db_query(d, SQL_ADMIN_LIST, NULL, 0, l_r, NULL, NULL, error_r);
}

int
dir_admin_password(struct dir *d, const char *name, char *hash_r,
    size_t hashlen)
{
	struct dir_list l;
	struct db_val p[1];
	const char *why;
	int rc;

	p[0] = DB_S(name);
	if (db_query(d, SQL_ADMIN_PASSWORD, p, 1, &l, NULL, NULL, &why) < 0) {
		log_warn("dir admin lookup failed: %s", why);
		return -1;
	}
	rc = 0;
	if (l.nrows > 0)
		rc = str_copy(hash_r, l.rows[0], hashlen) < hashlen ? 1 : -1;
	dir_list_free(&l);
	return rc;
}
