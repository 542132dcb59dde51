/*
 * schema - `facteur db init`: create or upgrade the database from sql/.
 *
 * Steps: connect (when the database does not exist yet, connect without
 * one and CREATE DATABASE IF NOT EXISTS, utf8mb4, if the configured user
 * may); take a named lock so two runs cannot interleave; run schema.sql
 * (CREATE TABLE IF NOT EXISTS only, harmless on an ISPmail database);
 * then every migrations/NNN_name.sql whose number is not yet in
 * facteur_schema_version, in numeric order, each in a transaction that
 * ends by recording its number. MariaDB commits DDL implicitly, so the
 * transaction only makes the record atomic with the last DML; migrations
 * are therefore written to be re-runnable (IF NOT EXISTS).
 *
 * SQL files are split by us, not by a SQL parser: a statement ends with
 * ';' as the last non-blank character of a line; lines whose first
 * non-blank characters are "--" are comments. So no ';' may end a line
 * inside a string literal, and there is no DELIMITER (see sql/README).
 * Files are trusted (they ship with facteur) but capped at 1 MiB.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/str.h"
#include "core/strnum.h"
#include "core/xmalloc.h"
#include "directory/dir.h"
#include "directory/dir_int.h"

#define SCHEMA_FILE_MAX		(1024 * 1024)
#define SCHEMA_MIGRATIONS_MAX	1000
#define SCHEMA_LOCK_WAIT	30	/* seconds */

static const char SQL_GET_LOCK[] = "SELECT GET_LOCK('facteur_schema', ?)";
static const char SQL_RELEASE_LOCK[] =
    "SELECT RELEASE_LOCK('facteur_schema')";
static const char SQL_VERSIONS[] = "SELECT version FROM facteur_schema_version";
static const char SQL_RECORD[] =
    "INSERT INTO facteur_schema_version (version) VALUES (?)";
static const char SQL_BEGIN[] = "START TRANSACTION";
static const char SQL_COMMIT[] = "COMMIT";
static const char SQL_ROLLBACK[] = "ROLLBACK";

#define ER_NO_SUCH_TABLE_CODE	1146

struct migration {
	uint32_t	 version;
	char		*name;
};

int
dir_sql_next(const char *text, size_t len, size_t *pos, unsigned *lineno,
    struct buf *stmt, unsigned *first_r)
{
	buf_reset(stmt);
	*first_r = 0;
	while (*pos < len) {
		const char *p = text + *pos;
		const char *nl = memchr(p, '\n', len - *pos);
		size_t n = nl != NULL ? (size_t)(nl - p) : len - *pos;
		const char *s = p, *e = p + n;
		bool done;

		*pos += n + (nl != NULL ? 1 : 0);
		(*lineno)++;
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t' ||
		    e[-1] == '\r'))
			e--;
		if (s == e || (e - s >= 2 && s[0] == '-' && s[1] == '-'))
			continue;
		done = e[-1] == ';';
		if (done)
			e--;
		if (e > s) {
			if (stmt->len == 0)
				*first_r = *lineno;
			if (buf_append(stmt, s, (size_t)(e - s)) < 0 ||
			    buf_putc(stmt, '\n') < 0)
				return -1;
		}
		if (done && stmt->len > 0)
			return 1;
	}
	/* the last statement may lack its ';' */
	return stmt->len > 0 ? 1 : 0;
}

/*
 * schema_run_file: run every statement of path on c. Returns 0, or -1
 * with error_r naming the file and the statement's first line.
 */
static int
schema_run_file(struct db_conn *c, const char *path, const char *label,
    const char **error_r)
{
	struct buf file, stmt;
	const char *why;
	unsigned lineno = 0, first = 0;
	size_t pos = 0;
	int rc;

	buf_init(&file, SCHEMA_FILE_MAX);
	rc = fs_read_file(path, &file);
	if (rc <= 0) {
		*error_r = db_errf("%s: %s", path, rc == 0 ?
		    "No such file or directory" : errno == EFBIG ?
		    "file too large" : strerror(errno));
		buf_free(&file);
		return -1;
	}
	buf_init(&stmt, SCHEMA_FILE_MAX);
	for (;;) {
		rc = dir_sql_next(buf_cstr(&file), file.len, &pos, &lineno,
		    &stmt, &first);
		if (rc == 0)
			break;
		if (rc < 0) {
			*error_r = db_errf("%s:%u: statement too long", label,
			    lineno);
			break;
		}
		rc = db_run(c, buf_cstr(&stmt), false, NULL, 0, NULL, NULL,
		    NULL, &why);
		if (rc < 0) {
			*error_r = db_errf("%s:%u: %s", label, first, why);
			break;
		}
	}
	buf_free(&stmt);
	buf_free(&file);
	return rc < 0 ? -1 : 0;
}

static int
schema_mig_cmp(const void *a, const void *b)
{
	const struct migration *x = a, *y = b;

	return x->version < y->version ? -1 : x->version > y->version;
}

/* schema_migrations: NNN_*.sql files of dir, sorted. -1 on error. */
static int
schema_migrations(const char *dir, struct migration **m_r, size_t *n_r,
    const char **error_r)
{
	struct migration *m = NULL;
	struct dirent *de;
	size_t n = 0, cap = 0, i;
	DIR *dp;

	*m_r = NULL;
	*n_r = 0;
	dp = opendir(dir);
	if (dp == NULL) {
		if (errno == ENOENT)
			return 0;
		*error_r = db_errf("%s: %s", dir, strerror(errno));
		return -1;
	}
	for (;;) {
		const char *name;
		size_t len, digits = 0;
		uint32_t v;

		de = readdir(dp);
		if (de == NULL)
			break;
		name = de->d_name;
		len = strlen(name);

		while (name[digits] >= '0' && name[digits] <= '9')
			digits++;
		if (digits == 0 || name[digits] != '_' || len < 5 ||
		    strcmp(name + len - 4, ".sql") != 0)
			continue;
		if (str_to_u32n(name, digits, &v) < 0 || v == 0) {
			*error_r = db_errf("%s/%s: bad migration number", dir,
			    name);
			goto fail;
		}
		if (n == SCHEMA_MIGRATIONS_MAX) {
			*error_r = db_errf("%s: too many migrations", dir);
			goto fail;
		}
		if (n == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			m = xreallocarray(m, cap, sizeof(*m));
		}
		m[n].version = v;
		m[n].name = xstrdup(name);
		n++;
	}
	closedir(dp);
	dp = NULL;
	if (n > 1)
		qsort(m, n, sizeof(*m), schema_mig_cmp);
	for (i = 1; i < n; i++) {
		if (m[i].version == m[i - 1].version) {
			*error_r = db_errf("%s: %s and %s have the same "
			    "number", dir, m[i - 1].name, m[i].name);
			goto fail;
		}
	}
	*m_r = m;
	*n_r = n;
	return 0;
fail:
	if (dp != NULL)
		closedir(dp);
	for (i = 0; i < n; i++)
		free(m[i].name);
	free(m);
	return -1;
}

/* schema_connect: connect, creating the database when it is missing */
static struct db_conn *
schema_connect(struct dir *d, const char **error_r)
{
	char ident[200], *sql;
	struct db_status st;
	struct db_conn *c;
	const char *why;
	int rc;

	c = db_connect_admin(d, true, &st, error_r);
	if (c != NULL || !db_bad_db(&st))
		return c;
	if (db_quote_ident(d->name, ident, sizeof(ident)) < 0) {
		*error_r = "db_name is not a usable database name";
		return NULL;
	}
	c = db_connect_admin(d, false, &st, error_r);
	if (c == NULL)
		return NULL;
	/* an identifier cannot be a parameter; it is quoted above */
	sql = xasprintf("CREATE DATABASE IF NOT EXISTS %s CHARACTER SET "
	    "utf8mb4 COLLATE utf8mb4_uca1400_as_ci", ident);
	rc = db_run(c, sql, false, NULL, 0, NULL, NULL, &st, &why);
	free(sql);
	db_conn_close(c);
	if (rc < 0) {
		*error_r = db_errf("cannot create database %s: %s", ident,
		    why);
		return NULL;
	}
	log_info("dir created database %s", ident);
	return db_connect_admin(d, true, &st, error_r);
}

/* schema_applied: the recorded versions (none when the table is new) */
static int
schema_applied(struct db_conn *c, struct dir_list *l, const char **error_r)
{
	struct db_status st;
	const char *why;

	if (db_run(c, SQL_VERSIONS, false, NULL, 0, l, NULL, &st, &why) == 0)
		return 0;
	if (st.code == ER_NO_SUCH_TABLE_CODE) {
		memset(l, 0, sizeof(*l));
		return 0;
	}
	*error_r = why;
	return -1;
}

static bool
schema_is_applied(const struct dir_list *l, uint32_t v)
{
	size_t i;
	uint32_t got;

	for (i = 0; i < l->nrows; i++)
		if (str_to_u32(l->rows[i * l->ncols], &got) == 0 && got == v)
			return true;
	return false;
}

static int
schema_migrate(struct db_conn *c, const char *sqldir, const char **error_r)
{
	struct migration *m;
	struct dir_list done;
	char *mdir, *path, *label;
	const char *why;
	size_t n, i;
	int rc = 0;

	mdir = xasprintf("%s/migrations", sqldir);
	if (schema_migrations(mdir, &m, &n, error_r) < 0) {
		free(mdir);
		return -1;
	}
	for (i = 0; i < n && rc == 0; i++) {
		struct db_val p[1];

		/* re-read each time: the first migration creates the table */
		if (schema_applied(c, &done, error_r) < 0) {
			rc = -1;
			break;
		}
		if (schema_is_applied(&done, m[i].version)) {
			dir_list_free(&done);
			continue;
		}
		dir_list_free(&done);
		path = xasprintf("%s/%s", mdir, m[i].name);
		label = xasprintf("migrations/%s", m[i].name);
		p[0] = DB_I(m[i].version);
		if (db_run(c, SQL_BEGIN, false, NULL, 0, NULL, NULL, NULL,
		    &why) < 0 ||
		    schema_run_file(c, path, label, &why) < 0 ||
		    db_run(c, SQL_RECORD, false, p, 1, NULL, NULL, NULL,
		    &why) < 0 ||
		    db_run(c, SQL_COMMIT, false, NULL, 0, NULL, NULL, NULL,
		    &why) < 0) {
			const char *ignore;

			*error_r = why;
			if (!db_conn_broken(c))
				(void)db_run(c, SQL_ROLLBACK, false, NULL, 0,
				    NULL, NULL, NULL, &ignore);
			rc = -1;
		} else {
			log_info("dir applied %s", label);
		}
		free(path);
		free(label);
	}
	for (i = 0; i < n; i++)
		free(m[i].name);
	free(m);
	free(mdir);
	return rc;
}

int
dir_schema_init(struct dir *d, const char *sqldir, const char **error_r)
{
	struct db_conn *c;
	struct dir_list l;
	struct db_val p[1];
	const char *dummy, *why;
	char *path, saved[512];
	int rc;

	if (error_r == NULL)
		error_r = &dummy;
	c = schema_connect(d, error_r);
	if (c == NULL)
		return -1;
	p[0] = DB_I(SCHEMA_LOCK_WAIT);
	if (db_run(c, SQL_GET_LOCK, false, p, 1, &l, NULL, NULL, &why) < 0) {
		*error_r = why;
		db_conn_close(c);
		return -1;
	}
	rc = l.nrows == 1 && strcmp(l.rows[0], "1") == 0;
	dir_list_free(&l);
	if (!rc) {
		*error_r = "another `facteur db init` holds the schema lock";
		db_conn_close(c);
		return -1;
	}
	path = xasprintf("%s/schema.sql", sqldir);
	rc = schema_run_file(c, path, "schema.sql", error_r);
	free(path);
	if (rc == 0)
		rc = schema_migrate(c, sqldir, error_r);
	if (rc < 0)
		str_copy(saved, *error_r, sizeof(saved));
	if (!db_conn_broken(c))
		(void)db_run(c, SQL_RELEASE_LOCK, false, NULL, 0, NULL, NULL,
		    NULL, &why);
	db_conn_close(c);
	if (rc < 0)
		*error_r = db_errf("%s", saved);
	return rc;
}
