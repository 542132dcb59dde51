/*
 * domain - virtual_domains: lookups and management.
 *
 * ISPmail has no unique key on virtual_domains.name, so add checks first
 * and delete removes every row of that name. Deleting a domain removes
 * its users and aliases explicitly (ISPmail's foreign keys cascade too,
 * but a hand-made MyISAM copy would not); Maildirs stay on disk.
 */
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "directory/dir.h"
#include "directory/dir_int.h"

static const char SQL_DOMAIN_EXISTS[] =
    "SELECT 1 FROM virtual_domains WHERE name = ? LIMIT 1";
static const char SQL_DOMAIN_ID[] =
    "SELECT id FROM virtual_domains WHERE name = ? ORDER BY id LIMIT 1";
static const char SQL_DOMAIN_ADD[] =
    "INSERT INTO virtual_domains (name) VALUES (?)";
static const char SQL_DOMAIN_DEL_ALIASES[] =
    "DELETE FROM virtual_aliases WHERE domain_id IN "
    "(SELECT id FROM virtual_domains WHERE name = ?)";
static const char SQL_DOMAIN_DEL_USERS[] =
    "DELETE FROM virtual_users WHERE domain_id IN "
    "(SELECT id FROM virtual_domains WHERE name = ?)";
static const char SQL_DOMAIN_DEL[] =
    "DELETE FROM virtual_domains WHERE name = ?";
static const char SQL_DOMAIN_LIST[] =
    "SELECT name FROM virtual_domains ORDER BY name";
static const char SQL_BEGIN[] = "START TRANSACTION";
static const char SQL_COMMIT[] = "COMMIT";
static const char SQL_ROLLBACK[] = "ROLLBACK";

int
dir_domain_is_local(struct dir *d, const char *domain)
{
	char key[DIR_ADDR_MAX + 1];
	struct dir_list l;
	struct db_val p[1];
	const char *why;
	int rc;

	if (dir_norm_lookup(domain, key, sizeof(key)) < 0)
		return 0;
	p[0] = DB_S(key);
	if (db_query(d, SQL_DOMAIN_EXISTS, p, 1, &l, NULL, NULL, &why) < 0) {
		log_warn("dir domain lookup failed: %s", why);
		return -1;
	}
	rc = l.nrows > 0;
	dir_list_free(&l);
	return rc;
}

int
dir_conn_domain_id(struct db_conn *c, const char *domain, int64_t *id_r,
    const char **error_r)
{
	struct dir_list l;
	struct db_val p[1];
	long long v;

	p[0] = DB_S(domain);
	if (db_run(c, SQL_DOMAIN_ID, true, p, 1, &l, NULL, NULL,
	    error_r) < 0)
		return -1;
	if (l.nrows == 0) {
		dir_list_free(&l);
		return 0;
	}
	v = strtoll(l.rows[0], NULL, 10);
	dir_list_free(&l);
	if (id_r != NULL)
		*id_r = v;
	return 1;
}

int
dir_domain_add(struct dir *d, const char *name, enum ferr *ferr_r,
    const char **error_r)
{
	char dom[DIR_ADDR_MAX + 1];
	struct db_status st;
	struct db_conn *c;
	struct db_val p[1];
	const char *why;
	int rc;

	if (dir_norm_domain(name, dom, sizeof(dom), &why) < 0)
		return dir_fail(ferr_r, FERR_INVALID, error_r, why);
	c = db_get(d, &why);
	if (c == NULL)
		return dir_fail(ferr_r, FERR_TEMP, error_r, why);
	rc = dir_conn_domain_id(c, dom, NULL, &why);
	if (rc != 0) {
		db_put(d, c);
		if (rc > 0)
			return dir_fail(ferr_r, FERR_EXISTS, error_r,
			    "domain already exists");
		return dir_fail(ferr_r, FERR_TEMP, error_r, why);
	}
	p[0] = DB_S(dom);
	rc = db_run(c, SQL_DOMAIN_ADD, true, p, 1, NULL, NULL, &st, &why);
	db_put(d, c);
	if (rc < 0)
		return dir_fail_db(ferr_r, &st, error_r, why);
	return dir_ok(ferr_r);
}

int
dir_domain_del(struct dir *d, const char *name, enum ferr *ferr_r,
    const char **error_r)
{
	char dom[DIR_ADDR_MAX + 1];
	struct db_status st;
	struct db_conn *c;
	struct db_val p[1];
	const char *why;
	uint64_t n = 0;

	if (dir_norm_lookup(name, dom, sizeof(dom)) < 0)
		return dir_fail(ferr_r, FERR_INVALID, error_r,
		    "invalid domain");
	c = db_get(d, &why);
	if (c == NULL)
		return dir_fail(ferr_r, FERR_TEMP, error_r, why);
	p[0] = DB_S(dom);
	if (db_run(c, SQL_BEGIN, true, NULL, 0, NULL, NULL, &st, &why) < 0 ||
	    db_run(c, SQL_DOMAIN_DEL_ALIASES, true, p, 1, NULL, NULL, &st,
	    &why) < 0 ||
	    db_run(c, SQL_DOMAIN_DEL_USERS, true, p, 1, NULL, NULL, &st,
	    &why) < 0 ||
	    db_run(c, SQL_DOMAIN_DEL, true, p, 1, NULL, &n, &st, &why) < 0) {
		const char *ignore;

		if (!db_conn_broken(c))
			(void)db_run(c, SQL_ROLLBACK, true, NULL, 0, NULL,
			    NULL, NULL, &ignore);
		db_put(d, c);
		return dir_fail_db(ferr_r, &st, error_r, why);
	}
	if (n == 0) {
		const char *ignore;

		(void)db_run(c, SQL_ROLLBACK, true, NULL, 0, NULL, NULL, NULL,
		    &ignore);
		db_put(d, c);
		return dir_fail(ferr_r, FERR_NOTFOUND, error_r,
		    "no such domain");
	}
	if (db_run(c, SQL_COMMIT, true, NULL, 0, NULL, NULL, &st, &why) < 0) {
		db_put(d, c);
		return dir_fail_db(ferr_r, &st, error_r, why);
	}
	db_put(d, c);
	return dir_ok(ferr_r);
}

int
dir_domain_list(struct dir *d, struct dir_list *l_r, const char **error_r)
{
	return db_query(d, SQL_DOMAIN_LIST, NULL, 0, l_r, NULL, NULL,
	    error_r);
}
