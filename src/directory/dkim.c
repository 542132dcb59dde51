/*
 * dkim - facteur_dkim_keys: DKIM signing keys per (domain, selector), so
 * every process reads the same keys and the admin page can show them.
 *
 * Input: names from the CLI or admin page and PEM text produced by
 * facteur itself. Domains are lower-cased; selectors are DNS labels
 * (letters, digits, '-', '_' and dots between labels, at most 63).
 * The private key never goes to a log.
 */
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/str.h"
#include "core/xmalloc.h"
#include "directory/dir.h"
#include "directory/dir_int.h"

#define DKIM_PEM_MAX	16384

static const char SQL_DKIM_ADD[] =
    "INSERT INTO facteur_dkim_keys (domain, selector, algorithm, "
    "private_key) VALUES (?, ?, ?, ?)";
static const char SQL_DKIM_DEL[] =
    "DELETE FROM facteur_dkim_keys WHERE domain = ? AND selector = ?";
static const char SQL_DKIM_LIST[] =
    "SELECT domain, selector, algorithm, created FROM facteur_dkim_keys "
    "ORDER BY domain, selector";
static const char SQL_DKIM_NEWEST[] =
    "SELECT domain, selector, algorithm, private_key FROM "
    "facteur_dkim_keys WHERE domain = ? ORDER BY created DESC, id DESC "
    "LIMIT 1";
static const char SQL_DKIM_ONE[] =
    "SELECT domain, selector, algorithm, private_key FROM "
    "facteur_dkim_keys WHERE domain = ? AND selector = ?";

static int
dkim_check_selector(const char *s, const char **why_r)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 63) {
		*why_r = "selector must be 1-63 characters";
		return -1;
	}
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    (c == '.' && i > 0 && i + 1 < n && s[i - 1] != '.'))) {
			*why_r = "selector may hold letters, digits, '-', '_' "
			    "and inner dots";
			return -1;
		}
	}
	return 0;
}

int
dir_dkim_add(struct dir *d, const char *domain, const char *selector,
    const char *algorithm, const char *pem, enum ferr *ferr_r,
    const char **error_r)
{
	char dom[DIR_ADDR_MAX + 1];
	struct db_status st;
	struct db_val p[4];
	const char *why;

	if (dir_norm_domain(domain, dom, sizeof(dom), &why) < 0 ||
	    dkim_check_selector(selector, &why) < 0)
		return dir_fail(ferr_r, FERR_INVALID, error_r, why);
	if (algorithm == NULL || *algorithm == '\0' || strlen(algorithm) > 32)
		return dir_fail(ferr_r, FERR_INVALID, error_r,
		    "bad algorithm name");
	if (pem == NULL || *pem == '\0' || strlen(pem) > DKIM_PEM_MAX)
		return dir_fail(ferr_r, FERR_INVALID, error_r,
		    "private key empty or too large");
	p[0] = DB_S(dom);
	p[1] = DB_S(selector);
	p[2] = DB_S(algorithm);
	p[3] = DB_S(pem);
	if (db_query(d, SQL_DKIM_ADD, p, 4, NULL, NULL, &st, &why) < 0) {
		if (st.ferr == FERR_EXISTS)
			why = "a key with this selector exists for the domain";
		return dir_fail_db(ferr_r, &st, error_r, why);
	}
	return dir_ok(ferr_r);
}

int
dir_dkim_del(struct dir *d, const char *domain, const char *selector,
    enum ferr *ferr_r, const char **error_r)
{
	char dom[DIR_ADDR_MAX + 1];
	struct db_status st;
	struct db_val p[2];
	const char *why;
	uint64_t n = 0;

	if (dir_norm_lookup(domain, dom, sizeof(dom)) < 0)
		return dir_fail(ferr_r, FERR_NOTFOUND, error_r, "no such key");
	p[0] = DB_S(dom);
	p[1] = DB_S(selector);
	if (db_query(d, SQL_DKIM_DEL, p, 2, NULL, &n, &st, &why) < 0)
		return dir_fail_db(ferr_r, &st, error_r, why);
	if (n == 0)
		return dir_fail(ferr_r, FERR_NOTFOUND, error_r, "no such key");
	return dir_ok(ferr_r);
}

int
dir_dkim_list(struct dir *d, struct dir_list *l_r, const char **error_r)
{
	return db_query(d, SQL_DKIM_LIST, NULL, 0, l_r, NULL, NULL, error_r);
}

int
dir_dkim_get(struct dir *d, const char *domain, const char *selector,
    struct dir_dkim_key *k_r)
{
	char dom[DIR_ADDR_MAX + 1];
	struct dir_list l;
	struct db_val p[2];
	const char *why;
	int rc;

	memset(k_r, 0, sizeof(*k_r));
	if (dir_norm_lookup(domain, dom, sizeof(dom)) < 0)
		return 0;
	p[0] = DB_S(dom);
	if (selector != NULL) {
		p[1] = DB_S(selector);
		rc = db_query(d, SQL_DKIM_ONE, p, 2, &l, NULL, NULL, &why);
	} else {
		rc = db_query(d, SQL_DKIM_NEWEST, p, 1, &l, NULL, NULL, &why);
	}
	if (rc < 0) {
		log_warn("dir dkim key lookup failed: %s", why);
		return -1;
	}
	if (l.nrows == 0) {
		dir_list_free(&l);
		return 0;
	}
	str_copy(k_r->domain, l.rows[0], sizeof(k_r->domain));
	str_copy(k_r->selector, l.rows[1], sizeof(k_r->selector));
	str_copy(k_r->algorithm, l.rows[2], sizeof(k_r->algorithm));
	/* hand the PEM over without a copy */
	k_r->private_key = l.rows[3];
	l.rows[3] = xstrdup("");
	dir_list_free(&l);
	return 1;
}

void
dir_dkim_key_free(struct dir_dkim_key *k)
{
	if (k->private_key != NULL) {
		explicit_bzero(k->private_key, strlen(k->private_key));
		free(k->private_key);
	}
	k->private_key = NULL;
}
