/*
 * user - virtual_users: lookups, management and login.
 *
 * Addresses are lower-cased before every lookup (ISPmail stores them in
 * lower case; the column's case-insensitive collation would match anyway).
 * quota is ISPmail's int(11): bytes, 0 = unlimited, at most 2147483647;
 * larger values are refused, negative ones read as unlimited.
 *
 * dir_login: throttle check, lookup, credential cache, then pw_verify.
 * An unknown user is verified against a dummy ARGON2ID hash so that the
 * answer takes about as long as for a real one (no user enumeration by
 * timing). Old schemes are rehashed to ARGON2ID after a success when
 * auth_rehash is on; the update only applies if the stored hash did not
 * change in between. The password is never logged.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "auth/cache.h"
#include "auth/scheme.h"
#include "auth/throttle.h"
#include "core/err.h"
#include "core/log.h"
#include "core/str.h"
#include "core/strnum.h"
#include "core/xmalloc.h"
#include "directory/dir.h"
#include "directory/dir_int.h"

static const char SQL_USER_GET[] =
    "SELECT id, email, password, quota FROM virtual_users "
    "WHERE email = ? ORDER BY id LIMIT 1";
static const char SQL_USER_EMAIL[] =
    "SELECT email FROM virtual_users WHERE email = ? ORDER BY id LIMIT 1";
static const char SQL_USER_ADD[] =
    "INSERT INTO virtual_users (domain_id, email, password, quota) "
    "VALUES (?, ?, ?, ?)";
static const char SQL_USER_DEL[] =
    "DELETE FROM virtual_users WHERE email = ?";
static const char SQL_USER_SETPW[] =
    "UPDATE virtual_users SET password = ? WHERE email = ?";
static const char SQL_USER_REHASH[] =
    "UPDATE virtual_users SET password = ? WHERE email = ? AND "
    "password = ?";
static const char SQL_USER_SETQUOTA[] =
    "UPDATE virtual_users SET quota = ? WHERE email = ?";
static const char SQL_USER_LIST[] =
    "SELECT email, quota FROM virtual_users ORDER BY email";
static const char SQL_USER_LIST_DOMAIN[] =
    "SELECT u.email, u.quota FROM virtual_users u "
    "JOIN virtual_domains d ON u.domain_id = d.id "
    "WHERE d.name = ? ORDER BY u.email";

static pthread_once_t user_dummy_once = PTHREAD_ONCE_INIT;
static char *user_dummy_hash;

static void
user_dummy_init(void)
{
	static const char pw[] = "facteur dummy password for timing";
	const char *why = NULL;

	user_dummy_hash = pw_hash(NULL, pw, sizeof(pw) - 1, &why);
	if (user_dummy_hash == NULL)
		log_warn("dir cannot make the dummy hash: %s",
		    why != NULL ? why : "unknown");
}

static uint64_t
user_quota_parse(const char *s)
{
	uint64_t q;

	if (*s == '-' || str_to_u64(s, &q) < 0)
		return 0;
	return q;
}

int
dir_conn_user_email(struct db_conn *c, const char *email, char *stored_r,
    size_t storedlen, const char **error_r)
{
	struct dir_list l;
	struct db_val p[1];
	int rc = 0;

	p[0] = DB_S(email);
	if (db_run(c, SQL_USER_EMAIL, true, p, 1, &l, NULL, NULL,
	    error_r) < 0)
		return -1;
	if (l.nrows > 0) {
		rc = 1;
		/* the stored spelling (the collation may have matched another
		 * case of a non-ASCII letter); the query's as a fallback */
		if (str_copy(stored_r, l.rows[0], storedlen) >= storedlen)
			str_copy(stored_r, email, storedlen);
		str_lower(stored_r);
	}
	dir_list_free(&l);
	return rc;
}

int
dir_user_lookup(struct dir *d, const char *email, struct dir_user *u_r)
{
	char key[DIR_ADDR_MAX + 1];
	struct dir_list l;
	struct db_val p[1];
	const char *why;

	if (dir_norm_lookup(email, key, sizeof(key)) < 0)
		return 0;
	p[0] = DB_S(key);
	if (db_query(d, SQL_USER_GET, p, 1, &l, NULL, NULL, &why) < 0) {
		log_warn("dir user lookup failed: %s", why);
		return -1;
	}
	if (l.nrows == 0) {
		dir_list_free(&l);
		return 0;
	}
	if (u_r != NULL) {
		memset(u_r, 0, sizeof(*u_r));
		u_r->id = strtoll(l.rows[0], NULL, 10);
		str_copy(u_r->email, l.rows[1], sizeof(u_r->email));
		str_lower(u_r->email);
		if (str_copy(u_r->password, l.rows[2],
		    sizeof(u_r->password)) >= sizeof(u_r->password)) {
			/* cannot be a hash we know; make it fail safely */
			char e[128];

			log_warn("dir user \"%s\": password hash too long",
			    log_esc(e, sizeof(e), u_r->email,
			    strlen(u_r->email)));
			u_r->password[0] = '\0';
		}
		u_r->quota = user_quota_parse(l.rows[3]);
	}
	dir_list_free(&l);
	return 1;
}

enum dir_login
dir_login(struct dir *d, const char *user, const char *pass, size_t passlen,
    const char *ip, struct dir_user *u_r)
{
	char key[DIR_ADDR_MAX + 1], esc[128];
	struct dir_user u;
	bool valid;
	int rc;

	if (ip == NULL)
		ip = "";
	/* made on the first login of any kind, so that its cost does not
	 * tell the first unknown user apart */
	pthread_once(&user_dummy_once, user_dummy_init);
	valid = dir_norm_lookup(user, key, sizeof(key)) == 0;
	if (!valid)
		str_copy(key, "(invalid)", sizeof(key));
	if (throttle_blocked(ip, key))
		return DIR_LOGIN_BLOCKED;
	rc = valid ? dir_user_lookup(d, key, &u) : 0;
	if (rc < 0)
		return DIR_LOGIN_TEMP;
	if (rc == 0) {
		if (user_dummy_hash != NULL)
			(void)pw_verify(user_dummy_hash, pass, passlen);
		throttle_fail(ip, key);
		return DIR_LOGIN_FAIL;
	}
	log_esc(esc, sizeof(esc), u.email, strlen(u.email));
	if (!auth_cache_check(u.email, u.password, pass, passlen)) {
		rc = u.password[0] == '\0' ? -1 :
		    pw_verify(u.password, pass, passlen);
		if (rc < 0)
			log_warn("dir user \"%s\": unusable password hash "
			    "(unknown scheme or malformed)", esc);
		if (rc != 1) {
			throttle_fail(ip, key);
			return DIR_LOGIN_FAIL;
		}
		auth_cache_put(u.email, u.password, pass, passlen);
	}
	throttle_success(ip, key);
	if (d->auth_rehash && !pw_is_current(u.password)) {
		struct db_val p[3];
		const char *why = NULL;
		char *h;

		h = pw_hash(NULL, pass, passlen, &why);
		if (h == NULL) {
			log_warn("dir user \"%s\": rehash failed: %s", esc,
			    why != NULL ? why : "unknown");
		} else if (strlen(h) >= sizeof(u.password)) {
			log_warn("dir user \"%s\": new hash too long", esc);
		} else {
			p[0] = DB_S(h);
			p[1] = DB_S(u.email);
			p[2] = DB_S(u.password);
			if (db_query(d, SQL_USER_REHASH, p, 3, NULL, NULL,
			    NULL, &why) < 0) {
				log_warn("dir user \"%s\": rehash not stored: "
				    "%s", esc, why);
			} else {
				log_info("dir user \"%s\": password rehashed "
				    "to ARGON2ID", esc);
				str_copy(u.password, h, sizeof(u.password));
				auth_cache_put(u.email, u.password, pass,
				    passlen);
			}
		}
		if (h != NULL) {
			explicit_bzero(h, strlen(h));
			free(h);
		}
	}
	if (u_r != NULL)
		*u_r = u;
	return DIR_LOGIN_OK;
}

/* user_check_quota: ISPmail's int(11) limit */
static int
user_check_quota(uint64_t quota, enum ferr *ferr_r, const char **error_r)
{
	if (quota > DIR_QUOTA_MAX)
		return dir_fail(ferr_r, FERR_INVALID, error_r,
		    "quota too large: ISPmail's virtual_users.quota is a "
		    "signed 32-bit int(11), at most 2147483647 bytes "
		    "(2 GiB - 1); use 0 for unlimited");
	return 0;
}

int
dir_user_add(struct dir *d, const char *email, const char *pwhash,
    uint64_t quota, enum ferr *ferr_r, const char **error_r)
{
	char addr[DIR_ADDR_MAX + 1];
	struct db_status st;
	struct db_conn *c;
	struct db_val p[4];
	const char *why;
	int64_t did;
	int rc;

	if (dir_norm_email(email, addr, sizeof(addr), &why) < 0)
		return dir_fail(ferr_r, FERR_INVALID, error_r, why);
	if (user_check_quota(quota, ferr_r, error_r) < 0)
		return -1;
	if (pwhash == NULL || *pwhash == '\0' || strlen(pwhash) > 150)
		return dir_fail(ferr_r, FERR_INVALID, error_r,
		    "password hash empty or longer than 150 characters");
	c = db_get(d, &why);
	if (c == NULL)
		return dir_fail(ferr_r, FERR_TEMP, error_r, why);
	rc = dir_conn_domain_id(c, dir_domain_of(addr), &did, &why);
	if (rc <= 0) {
		db_put(d, c);
		if (rc == 0)
			return dir_fail(ferr_r, FERR_NOTFOUND, error_r,
			    "unknown domain (add it first with "
			    "`facteur domain add`)");
		return dir_fail(ferr_r, FERR_TEMP, error_r, why);
	}
	p[0] = DB_I(did);
	p[1] = DB_S(addr);
	p[2] = DB_S(pwhash);
	p[3] = DB_I(quota);
	rc = db_run(c, SQL_USER_ADD, true, p, 4, NULL, NULL, &st, &why);
	db_put(d, c);
	if (rc < 0) {
		if (st.ferr == FERR_EXISTS)
			why = "user already exists";
		return dir_fail_db(ferr_r, &st, error_r, why);
	}
	return dir_ok(ferr_r);
}

/* user_update: run a one-row DML on email; NOTFOUND when no row */
static int
user_update(struct dir *d, const char *sql, const struct db_val *p,
    size_t np, enum ferr *ferr_r, const char **error_r)
{
	struct db_status st;
	const char *why;
	uint64_t n = 0;

	if (db_query(d, sql, p, np, NULL, &n, &st, &why) < 0)
		return dir_fail_db(ferr_r, &st, error_r, why);
	if (n == 0)
		return dir_fail(ferr_r, FERR_NOTFOUND, error_r,
		    "no such user");
	return dir_ok(ferr_r);
}

int
dir_user_del(struct dir *d, const char *email, enum ferr *ferr_r,
    const char **error_r)
{
	char key[DIR_ADDR_MAX + 1];
	struct db_val p[1];

	if (dir_norm_lookup(email, key, sizeof(key)) < 0)
		return dir_fail(ferr_r, FERR_NOTFOUND, error_r,
		    "no such user");
	p[0] = DB_S(key);
	if (user_update(d, SQL_USER_DEL, p, 1, ferr_r, error_r) < 0)
		return -1;
	auth_cache_forget(key);
	return 0;
}

int
dir_user_set_password(struct dir *d, const char *email, const char *pwhash,
    enum ferr *ferr_r, const char **error_r)
{
	char key[DIR_ADDR_MAX + 1];
	struct db_val p[2];

	if (pwhash == NULL || *pwhash == '\0' || strlen(pwhash) > 150)
		return dir_fail(ferr_r, FERR_INVALID, error_r,
		    "password hash empty or longer than 150 characters");
	if (dir_norm_lookup(email, key, sizeof(key)) < 0)
		return dir_fail(ferr_r, FERR_NOTFOUND, error_r,
		    "no such user");
	p[0] = DB_S(pwhash);
	p[1] = DB_S(key);
	if (user_update(d, SQL_USER_SETPW, p, 2, ferr_r, error_r) < 0)
		return -1;
	auth_cache_forget(key);
	return 0;
}

int
dir_user_set_quota(struct dir *d, const char *email, uint64_t quota,
    enum ferr *ferr_r, const char **error_r)
{
	char key[DIR_ADDR_MAX + 1];
	struct db_val p[2];

	if (user_check_quota(quota, ferr_r, error_r) < 0)
		return -1;
	if (dir_norm_lookup(email, key, sizeof(key)) < 0)
		return dir_fail(ferr_r, FERR_NOTFOUND, error_r,
		    "no such user");
	p[0] = DB_I(quota);
	p[1] = DB_S(key);
	return user_update(d, SQL_USER_SETQUOTA, p, 2, ferr_r, error_r);
}

int
dir_user_list(struct dir *d, const char *domain_or_null,
    struct dir_list *l_r, const char **error_r)
{
	char key[DIR_ADDR_MAX + 1];
	struct db_val p[1];
	size_t i;
	int rc;

	if (domain_or_null == NULL) {
		rc = db_query(d, SQL_USER_LIST, NULL, 0, l_r, NULL, NULL,
		    error_r);
	} else {
		if (dir_norm_lookup(domain_or_null, key, sizeof(key)) < 0) {
			memset(l_r, 0, sizeof(*l_r));
			l_r->ncols = 2;
			return 0;
		}
		p[0] = DB_S(key);
		rc = db_query(d, SQL_USER_LIST_DOMAIN, p, 1, l_r, NULL, NULL,
		    error_r);
	}
	if (rc < 0)
		return -1;
	/* negative quotas (hand-edited rows) read as unlimited */
	for (i = 0; i < l_r->nrows; i++) {
		char **q = &l_r->rows[i * l_r->ncols + 1];

		if ((*q)[0] == '-') {
			free(*q);
			*q = xstrdup("0");
		}
	}
	return 0;
}
