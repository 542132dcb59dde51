/*
 * alias - virtual_aliases: recipient resolution and management.
 *
 * dir_resolve follows what Postfix does with ISPmail's
 *   virtual_alias_maps = mysql:virtual-alias-maps, mysql:email2email
 * for one recipient address A (lower-cased):
 *   1. rows with source = A (several rows fan out; a destination column
 *      may also hold a comma-separated list);
 *   2. else, if A is a user (email2email), A itself: a user's own address
 *      always reaches that user when no explicit alias says otherwise;
 *   3. else the catch-all rows with source = '@domain-of-A';
 *   4. else A as it is: a remote address, or nobody when A's domain is
 *      local (that branch is dropped and logged).
 * Every destination is expanded again the same way. A destination equal
 * to the address being expanded is not expanded again but delivered as
 * it is (ISPmail's "a@x -> a@x" plus "a@x -> b@x" keeps a copy in a's
 * mailbox and forwards one). An address already expanded in this
 * resolution is skipped, which removes duplicates and ends loops.
 * Limits: nesting 20 levels, 1000 results, 5000 queries; past them the
 * resolution fails temporarily (as Postfix defers), and the log says why.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/str.h"
#include "core/timeutil.h"
#include "core/xmalloc.h"
#include "directory/dir.h"
#include "directory/dir_int.h"

#define RESOLVE_DEPTH_MAX	20
#define RESOLVE_RESULTS_MAX	1000
#define RESOLVE_LOOKUPS_MAX	5000

static const char SQL_ALIAS_DESTS[] =
    "SELECT destination FROM virtual_aliases WHERE source = ? ORDER BY id";
static const char SQL_ALIAS_EXISTS[] =
    "SELECT 1 FROM virtual_aliases WHERE source = ? AND destination = ? "
    "LIMIT 1";
static const char SQL_ALIAS_ADD[] =
    "INSERT INTO virtual_aliases (domain_id, source, destination) "
    "VALUES (?, ?, ?)";
static const char SQL_ALIAS_DEL_ONE[] =
    "DELETE FROM virtual_aliases WHERE source = ? AND destination = ?";
static const char SQL_ALIAS_DEL_ALL[] =
    "DELETE FROM virtual_aliases WHERE source = ?";
static const char SQL_ALIAS_LIST[] =
    "SELECT source, destination FROM virtual_aliases "
    "ORDER BY source, destination";
static const char SQL_ALIAS_LIST_SOURCE[] =
    "SELECT source, destination FROM virtual_aliases WHERE source = ? "
    "ORDER BY destination";
static const char SQL_ALIAS_LIST_DOMAIN[] =
    "SELECT a.source, a.destination FROM virtual_aliases a "
    "JOIN virtual_domains d ON a.domain_id = d.id WHERE d.name = ? "
    "ORDER BY a.source, a.destination";
static const char SQL_DOMAIN_LOCAL[] =
    "SELECT 1 FROM virtual_domains WHERE name = ? LIMIT 1";

struct resolve {
	struct db_conn	*c;
	struct dir_dest	*out;
	size_t		 n, cap;
	char		**seen;
	size_t		 nseen, capseen;
	size_t		 lookups;
	const char	*why;
	const char	*top;		/* the address asked about, for logs */
};

static bool
resolve_seen(struct resolve *r, const char *addr)
{
	size_t i;

	for (i = 0; i < r->nseen; i++)
		if (strcmp(r->seen[i], addr) == 0)
			return true;
	if (r->nseen == r->capseen) {
		r->capseen = r->capseen == 0 ? 16 : r->capseen * 2;
		r->seen = xreallocarray(r->seen, r->capseen, sizeof(char *));
	}
	r->seen[r->nseen++] = xstrdup(addr);
	return false;
}

static int
resolve_add(struct resolve *r, const char *addr, bool local)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (str_ieq(r->out[i].addr, addr))
			return 0;
	if (r->n >= RESOLVE_RESULTS_MAX) {
		r->why = "alias expands to more than 1000 addresses";
		return -1;
	}
	if (r->n == r->cap) {
		r->cap = r->cap == 0 ? 4 : r->cap * 2;
		r->out = xreallocarray(r->out, r->cap, sizeof(*r->out));
	}
	str_copy(r->out[r->n].addr, addr, sizeof(r->out[r->n].addr));
	r->out[r->n].local = local;
	r->n++;
	return 0;
}

/* resolve_rows: destinations of source, or NULL rows on none; -1 error */
static int
resolve_rows(struct resolve *r, const char *source, struct dir_list *l)
{
	struct db_val p[1];

	if (++r->lookups > RESOLVE_LOOKUPS_MAX) {
		r->why = "alias expansion needs more than 5000 lookups";
		return -1;
	}
	p[0] = DB_S(source);
	return db_run(r->c, SQL_ALIAS_DESTS, true, p, 1, l, NULL, NULL,
	    &r->why);
}

static int
resolve_domain_local(struct resolve *r, const char *domain)
{
	struct dir_list l;
	struct db_val p[1];
	int rc;

	if (++r->lookups > RESOLVE_LOOKUPS_MAX) {
		r->why = "alias expansion needs more than 5000 lookups";
		return -1;
	}
	p[0] = DB_S(domain);
	if (db_run(r->c, SQL_DOMAIN_LOCAL, true, p, 1, &l, NULL, NULL,
	    &r->why) < 0)
		return -1;
	rc = l.nrows > 0;
	dir_list_free(&l);
	return rc;
}

/* resolve_final: deliver addr as it is (user, remote, or nobody) */
static int
resolve_final(struct resolve *r, const char *addr, int is_user)
{
	const char *dom = dir_domain_of(addr);
	char stored[DIR_ADDR_MAX + 1];
	int rc;

	if (is_user < 0) {
		r->lookups++;
		is_user = dir_conn_user_email(r->c, addr, stored,
		    sizeof(stored), &r->why);
		if (is_user < 0)
			return -1;
		if (is_user)
			return resolve_add(r, stored, true);
	}
	if (dom == NULL || *dom == '\0')
		return 0;
	rc = resolve_domain_local(r, dom);
	if (rc < 0)
		return -1;
	if (rc > 0) {
		char e1[128], e2[128];

		/* a local address nobody owns: Postfix bounces this one */
		log_info("dir alias of \"%s\" reaches unknown local address "
		    "\"%s\"; dropped",
		    log_esc(e1, sizeof(e1), r->top, strlen(r->top)),
		    log_esc(e2, sizeof(e2), addr, strlen(addr)));
		return 0;
	}
	return resolve_add(r, addr, false);
}

static int resolve_expand(struct resolve *, const char *, int);

/* resolve_dests: expand every destination of the rows in l */
static int
resolve_dests(struct resolve *r, const char *addr, struct dir_list *l,
    int depth)
{
	size_t i;

	for (i = 0; i < l->nrows; i++) {
		char *list = l->rows[i * l->ncols], *save = NULL, *tok;

		for (tok = strtok_r(list, ",", &save); tok != NULL;
		    tok = strtok_r(NULL, ",", &save)) {
			char dest[DIR_ADDR_MAX + 1];
			const char *at;

			tok = str_trim(tok);
			if (*tok == '\0')
				continue;
			if (dir_norm_lookup(tok, dest, sizeof(dest)) < 0) {
				log_warn("dir alias destination too long; "
				    "skipped");
				continue;
			}
			at = strrchr(dest, '@');
			if (at == NULL || at == dest || at[1] == '\0') {
				char e[128];

				log_warn("dir alias destination \"%s\" is "
				    "not user@domain; skipped",
				    log_esc(e, sizeof(e), dest, strlen(dest)));
				continue;
			}
			if (strcmp(dest, addr) == 0) {
				if (resolve_final(r, dest, -1) < 0)
					return -1;
				continue;
			}
			if (resolve_expand(r, dest, depth + 1) < 0)
				return -1;
		}
	}
	return 0;
}

static int
resolve_expand(struct resolve *r, const char *addr, int depth)
{
	char catchall[DIR_ADDR_MAX + 2], stored[DIR_ADDR_MAX + 1];
	const char *dom;
	struct dir_list l;
	int rc, is_user;

	if (resolve_seen(r, addr))
		return 0;
	if (depth > RESOLVE_DEPTH_MAX) {
		r->why = "alias nesting deeper than 20 levels";
		return -1;
	}
	/* 1. exact alias rows */
	if (resolve_rows(r, addr, &l) < 0)
		return -1;
	if (l.nrows > 0) {
		rc = resolve_dests(r, addr, &l, depth);
		dir_list_free(&l);
		return rc;
	}
	dir_list_free(&l);
	/* 2. the user's own address, as stored */
	r->lookups++;
	is_user = dir_conn_user_email(r->c, addr, stored, sizeof(stored),
	    &r->why);
	if (is_user < 0)
		return -1;
	if (is_user)
		return resolve_add(r, stored, true);
	/* 3. the catch-all of the domain */
	dom = dir_domain_of(addr);
	if (dom != NULL && *dom != '\0' && addr[0] != '@') {
		(void)snprintf(catchall, sizeof(catchall), "@%s", dom);
		if (resolve_rows(r, catchall, &l) < 0)
			return -1;
		if (l.nrows > 0) {
			rc = resolve_dests(r, addr, &l, depth);
			dir_list_free(&l);
			return rc;
		}
		dir_list_free(&l);
	}
	/* 4. as it is */
	return resolve_final(r, addr, 0);
}

static void
resolve_free(struct resolve *r)
{
	size_t i;

	for (i = 0; i < r->nseen; i++)
		free(r->seen[i]);
	free(r->seen);
	free(r->out);
	memset(r, 0, sizeof(*r));
}

int
dir_resolve(struct dir *d, const char *addr, struct dir_dest **dests_r,
    size_t *n_r, const char **error_r)
{
	char key[DIR_ADDR_MAX + 1];
	struct resolve r;
	const char *dummy;
	int attempt, rc = -1;

	if (error_r == NULL)
		error_r = &dummy;
	*dests_r = NULL;
	*n_r = 0;
	if (dir_norm_lookup(addr, key, sizeof(key)) < 0 ||
	    strchr(key, '@') == NULL || key[0] == '@')
		return 0;
	for (attempt = 0;; attempt++) {
		uint64_t t0 = time_mono_ms();

		memset(&r, 0, sizeof(r));
		r.top = key;
		r.c = attempt == 0 ? db_get(d, error_r) :
		    db_get_checked(d, error_r);
		if (r.c == NULL)
			return -1;
		rc = resolve_expand(&r, key, 0);
		if (rc == 0 || !db_conn_broken(r.c) || attempt > 0 ||
		    db_slow(t0))
			break;
		/* the connection died under us: start again once */
		db_put(d, r.c);
		resolve_free(&r);
	}
	db_put(d, r.c);
	if (rc < 0) {
		/* the caller logs it, with its session id */
		*error_r = r.why != NULL ? r.why : "alias resolution failed";
		resolve_free(&r);
		return -1;
	}
	if (r.n == 0) {
		resolve_free(&r);
		return 0;
	}
	*dests_r = r.out;
	*n_r = r.n;
	r.out = NULL;
	resolve_free(&r);
	return 1;
}

int
dir_sender_owned(struct dir *d, const char *user_email, const char *addr)
{
	struct dir_dest *dests;
	const char *why;
	size_t n, i;
	int rc;

	if (str_ieq(user_email, addr))
		return 1;
	rc = dir_resolve(d, addr, &dests, &n, &why);
	if (rc <= 0)
		return rc;
	rc = 0;
	for (i = 0; i < n; i++)
		if (dests[i].local && str_ieq(dests[i].addr, user_email))
			rc = 1;
	free(dests);
	return rc;
}

/* --- management --- */

/* alias_source: '@domain' or user@domain, lower-cased, into src; the
 * domain part into dom. */
static int
alias_source(const char *in, char *src, size_t srclen, const char **why_r)
{
	if (in[0] == '@') {
		if (srclen < 2)
			return -1;
		src[0] = '@';
		return dir_norm_domain(in + 1, src + 1, srclen - 1, why_r);
	}
	return dir_norm_email(in, src, srclen, why_r);
}

int
dir_alias_add(struct dir *d, const char *source, const char *dest,
    enum ferr *ferr_r, const char **error_r)
{
	char src[DIR_ADDR_MAX + 2], dst[DIR_ADDR_MAX + 1];
	struct db_status st;
	struct db_conn *c;
	struct dir_list l;
	struct db_val p[3];
	const char *why;
	int64_t did;
	int rc;

	if (alias_source(source, src, sizeof(src), &why) < 0)
		return dir_fail(ferr_r, FERR_INVALID, error_r, why);
	if (dir_norm_dest(dest, dst, sizeof(dst), &why) < 0)
		return dir_fail(ferr_r, FERR_INVALID, error_r, why);
	c = db_get(d, &why);
	if (c == NULL)
		return dir_fail(ferr_r, FERR_TEMP, error_r, why);
	rc = dir_conn_domain_id(c, dir_domain_of(src), &did, &why);
	if (rc <= 0) {
		db_put(d, c);
		if (rc == 0)
			return dir_fail(ferr_r, FERR_NOTFOUND, error_r,
			    "the source's domain is not a local domain "
			    "(add it first with `facteur domain add`)");
		return dir_fail(ferr_r, FERR_TEMP, error_r, why);
	}
	p[0] = DB_S(src);
	p[1] = DB_S(dst);
	if (db_run(c, SQL_ALIAS_EXISTS, true, p, 2, &l, NULL, &st,
	    &why) < 0) {
		db_put(d, c);
		return dir_fail_db(ferr_r, &st, error_r, why);
	}
	rc = l.nrows > 0;
	dir_list_free(&l);
	if (rc) {
		db_put(d, c);
		return dir_fail(ferr_r, FERR_EXISTS, error_r,
		    "alias already exists");
	}
	p[0] = DB_I(did);
	p[1] = DB_S(src);
	p[2] = DB_S(dst);
	rc = db_run(c, SQL_ALIAS_ADD, true, p, 3, NULL, NULL, &st, &why);
	db_put(d, c);
	if (rc < 0)
		return dir_fail_db(ferr_r, &st, error_r, why);
	return dir_ok(ferr_r);
}

int
dir_alias_del(struct dir *d, const char *source, const char *dest,
    enum ferr *ferr_r, const char **error_r)
{
	char src[DIR_ADDR_MAX + 1];
	struct db_status st;
	struct db_val p[2];
	const char *why;
	uint64_t n = 0;
	int rc;

	if (dir_norm_lookup(source, src, sizeof(src)) < 0)
		return dir_fail(ferr_r, FERR_NOTFOUND, error_r,
		    "no such alias");
	p[0] = DB_S(src);
	if (dest != NULL) {
		p[1] = DB_S(dest);
		rc = db_query(d, SQL_ALIAS_DEL_ONE, p, 2, NULL, &n, &st, &why);
	} else {
		rc = db_query(d, SQL_ALIAS_DEL_ALL, p, 1, NULL, &n, &st, &why);
	}
	if (rc < 0)
		return dir_fail_db(ferr_r, &st, error_r, why);
	if (n == 0)
		return dir_fail(ferr_r, FERR_NOTFOUND, error_r,
		    "no such alias");
	return dir_ok(ferr_r);
}

int
dir_alias_list(struct dir *d, const char *source_or_null,
    struct dir_list *l_r, const char **error_r)
{
	char key[DIR_ADDR_MAX + 1];
	struct db_val p[1];

	if (source_or_null == NULL)
		return db_query(d, SQL_ALIAS_LIST, NULL, 0, l_r, NULL, NULL,
		    error_r);
	if (dir_norm_lookup(source_or_null, key, sizeof(key)) < 0) {
		memset(l_r, 0, sizeof(*l_r));
		l_r->ncols = 2;
		return 0;
	}
	p[0] = DB_S(key);
	return db_query(d, strchr(key, '@') != NULL ? SQL_ALIAS_LIST_SOURCE :
	    SQL_ALIAS_LIST_DOMAIN, p, 1, l_r, NULL, NULL, error_r);
}
