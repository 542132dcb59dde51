/*
 * db - the MariaDB connection pool and prepared statements; the only
 * file of facteur that includes <mysql.h> (MariaDB Connector/C).
 *
 * Pool: up to DB_POOL_MAX connections per struct dir, opened lazily on
 * first use, handed out under a mutex and condition variable. A
 * connection that saw a client-side error (2000-2999: server gone, lost
 * connection, timeout) is closed instead of going back to the pool, so
 * the next caller reconnects. Connections idle for DB_IDLE_PING seconds
 * are pinged before reuse (MariaDB's wait_timeout closes idle ones).
 * Connect, read and write timeouts are a few seconds, so a dead server
 * gives a fast temporary failure rather than a hung session.
 *
 * Every query is a prepared statement with bound parameters; statements
 * are cached per connection, keyed by the address of their SQL literal.
 * Results are read as strings of any length (truncated columns are
 * fetched again with a buffer of the right size).
 *
 * Threads: mysql_library_init runs once (pthread_once); each thread that
 * touches a connection calls mysql_thread_init lazily, and a pthread key
 * destructor calls mysql_thread_end when it exits, so callers' threads
 * need no setup of their own.
 *
 * Trust: the server's answers are trusted as far as their content goes
 * (it is our database) but never their size: rows and columns are capped.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/str.h"
#include "core/timeutil.h"
#include "core/xmalloc.h"
#include "directory/dir.h"
#include "directory/dir_int.h"

#define DB_STMT_CACHE	64
#define DB_COL_BUF	256
#define DB_MAX_COLS	32
#define DB_MAX_PARAMS	16
#define DB_PWFILE_MAX	4096

struct db_stmt {
	const char	*sql;
	MYSQL_STMT	*st;
};

struct db_conn {
	MYSQL		*my;
	bool		 broken;
	time_t		 last_used;
	struct db_stmt	 stmts[DB_STMT_CACHE];
	size_t		 nstmts;
	size_t		 next_evict;
};

static pthread_once_t db_once = PTHREAD_ONCE_INIT;
static pthread_key_t db_thread_key;
static int db_lib_ok;
static _Thread_local char db_errbuf[512];

static void
db_thread_end(void *arg)
{
	(void)arg;
	mysql_thread_end();
}

static void
db_lib_init(void)
{
	if (mysql_library_init(0, NULL, NULL) != 0)
		return;
	if (pthread_key_create(&db_thread_key, db_thread_end) != 0)
		return;
	db_lib_ok = 1;
}

/* db_thread_setup: library once, this thread once. 0 or -1. */
static int
db_thread_setup(void)
{
	pthread_once(&db_once, db_lib_init);
	if (!db_lib_ok)
		return -1;
	if (pthread_getspecific(db_thread_key) == NULL) {
		if (mysql_thread_init() != 0)
			return -1;
		(void)pthread_setspecific(db_thread_key, (void *)1);
	}
	return 0;
}

const char *
db_errf(const char *fmt, ...)
{
	char tmp[sizeof(db_errbuf)];
	va_list ap;

	/* via tmp: the arguments may point into db_errbuf itself */
	va_start(ap, fmt);
	(void)vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	memcpy(db_errbuf, tmp, sizeof(db_errbuf));
	return db_errbuf;
}

static enum ferr
db_code_ferr(unsigned code)
{
	switch (code) {
	case ER_DUP_ENTRY:
		return FERR_EXISTS;
	case ER_DATA_TOO_LONG:
	case ER_TRUNCATED_WRONG_VALUE_FOR_FIELD:
	case ER_WARN_DATA_OUT_OF_RANGE:
	case ER_BAD_NULL_ERROR:
		return FERR_INVALID;
	case ER_NO_REFERENCED_ROW:
	case ER_NO_REFERENCED_ROW_2:
		return FERR_NOTFOUND;
	default:
		return FERR_TEMP;
	}
}

static void
db_status_set(struct db_status *st, unsigned code)
{
	if (st == NULL)
		return;
	st->code = code;
	st->ferr = code == 0 ? FERR_NONE : db_code_ferr(code);
}

bool
db_bad_db(const struct db_status *st)
{
	return st != NULL && st->code == ER_BAD_DB_ERROR;
}

/* Client errors (CR_*, 2000-2999) and a killed connection or a server
 * shutting down mean the connection is unusable. */
static bool
db_code_is_conn(unsigned code)
{
	return (code >= 2000 && code < 3000) || code == ER_SERVER_SHUTDOWN ||
	    code == ER_CONNECTION_KILLED || code == ER_QUERY_INTERRUPTED;
}

int
db_quote_ident(const char *name, char *dst, size_t dstlen)
{
	size_t o = 0;
	const unsigned char *p;

	if (*name == '\0' || strlen(name) > 64)
		return -1;
	if (dstlen < 3)
		return -1;
	dst[o++] = '`';
	for (p = (const unsigned char *)name; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return -1;
		if (o + 3 >= dstlen)
			return -1;
		if (*p == '`')
			dst[o++] = '`';
		dst[o++] = (char)*p;
	}
	dst[o++] = '`';
	dst[o] = '\0';
	return 0;
}

/* --- dir_open / dir_close --- */

static char *
db_read_password(const char *path, const char **error_r)
{
	struct buf b;
	char *pw;
	int rc;

	if (path == NULL || *path == '\0')
		return xstrdup("");
	buf_init(&b, DB_PWFILE_MAX);
	rc = fs_read_file(path, &b);
	if (rc < 0) {
		*error_r = db_errf("%s: %s", path, errno == EFBIG ?
		    "file too large" : strerror(errno));
		buf_free(&b);
		return NULL;
	}
	if (rc == 0) {
		buf_free(&b);
		return xstrdup("");
	}
	pw = xstrdup(buf_cstr(&b));
	buf_free(&b);
	/* the first line, without its line end */
	pw[strcspn(pw, "\r\n")] = '\0';
	return pw;
}

struct dir *
dir_open(const struct conf *c, const char **error_r)
{
	pthread_condattr_t ca;
	const char *dummy;
	struct dir *d;
	char *pw;

	if (error_r == NULL)
		error_r = &dummy;
	pw = db_read_password(c->db_password_file, error_r);
	if (pw == NULL)
		return NULL;
	d = xcalloc(1, sizeof(*d));
	if (c->db_host != NULL && *c->db_host != '\0') {
		d->host = xstrdup(c->db_host);
		d->port = c->db_port;
	} else {
		d->socket = xstrdup(c->db_socket != NULL ? c->db_socket :
		    "/run/mysqld/mysqld.sock");
	}
	d->name = xstrdup(c->db_name != NULL ? c->db_name : "mailserver");
	d->user = xstrdup(c->db_user != NULL ? c->db_user : "facteur");
	d->password = pw;
	d->auth_rehash = c->auth_rehash;
	pthread_mutex_init(&d->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->cv, &ca);
	pthread_condattr_destroy(&ca);
	return d;
}

void
db_conn_close(struct db_conn *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nstmts; i++)
		mysql_stmt_close(c->stmts[i].st);
	if (c->my != NULL)
		mysql_close(c->my);
	free(c);
}

void
dir_close(struct dir **dp)
{
	struct dir *d = *dp;
	size_t i;

	if (d == NULL)
		return;
	*dp = NULL;
	pthread_mutex_lock(&d->mu);
	for (i = 0; i < d->nidle; i++)
		db_conn_close(d->idle[i]);
	d->nidle = 0;
	pthread_mutex_unlock(&d->mu);
	pthread_mutex_destroy(&d->mu);
	pthread_cond_destroy(&d->cv);
	free(d->socket);
	free(d->host);
	free(d->name);
	free(d->user);
	if (d->password != NULL) {
		explicit_bzero(d->password, strlen(d->password));
		free(d->password);
	}
	free(d);
}

/* --- connecting --- */

static struct db_conn *
db_connect(struct dir *d, bool with_db, unsigned io_timeout,
    struct db_status *st, const char **error_r)
{
	unsigned ct = DB_CONNECT_TIMEOUT;
	struct db_conn *c;
	my_bool off = 0;
	MYSQL *my;

	db_status_set(st, 0);
	if (db_thread_setup() < 0) {
		db_status_set(st, CR_UNKNOWN_ERROR);
		*error_r = "cannot initialise the MariaDB client library";
		return NULL;
	}
	my = mysql_init(NULL);
	if (my == NULL) {
		db_status_set(st, CR_OUT_OF_MEMORY);
		*error_r = "mysql_init failed (out of memory)";
		return NULL;
	}
	mysql_optionsv(my, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
	mysql_optionsv(my, MYSQL_OPT_READ_TIMEOUT, &io_timeout);
	mysql_optionsv(my, MYSQL_OPT_WRITE_TIMEOUT, &io_timeout);
	mysql_optionsv(my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_optionsv(my, MYSQL_OPT_RECONNECT, &off);
	if (d->host != NULL) {
		/* db_host means TCP, even "localhost" (which the client
		 * library would otherwise take as its default socket) */
		unsigned proto = MYSQL_PROTOCOL_TCP;

		mysql_optionsv(my, MYSQL_OPT_PROTOCOL, &proto);
	}
	if (mysql_real_connect(my, d->host, d->user, d->password,
	    with_db ? d->name : NULL, d->host != NULL ? d->port : 0,
	    d->socket, CLIENT_FOUND_ROWS) == NULL) {
		db_status_set(st, mysql_errno(my));
		if (d->socket != NULL)
			*error_r = db_errf("cannot connect to MariaDB at %s "
			    "as %s: %s", d->socket, d->user, mysql_error(my));
		else
			*error_r = db_errf("cannot connect to MariaDB at "
			    "%s:%u as %s: %s", d->host, d->port, d->user,
			    mysql_error(my));
		mysql_close(my);
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->my = my;
	c->last_used = time(NULL);
	return c;
}

struct db_conn *
db_connect_admin(struct dir *d, bool with_db, struct db_status *st,
    const char **error_r)
{
	return db_connect(d, with_db, DB_ADMIN_IO_TIMEOUT, st, error_r);
}

bool
db_conn_broken(const struct db_conn *c)
{
	return c->broken;
}

/* db_get_impl: see db_get; check: ping any pooled connection first (a
 * retry after a lost connection: its pool mates are likely dead too) */
static struct db_conn *
db_get_impl(struct dir *d, bool check, const char **error_r)
{
	struct db_conn *c = NULL;
	struct timespec until;
	time_t now;

	if (db_thread_setup() < 0) {
		*error_r = "cannot initialise the MariaDB client library";
		return NULL;
	}
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += DB_POOL_WAIT;
	pthread_mutex_lock(&d->mu);
	if (d->nidle == 0 && time_mono_ms() < d->down_until_ms) {
		/* a connect failed a moment ago: do not pile up behind the
		 * connect timeout, answer "temporary failure" at once */
		*error_r = db_errf("%s", d->down_why);
		pthread_mutex_unlock(&d->mu);
		return NULL;
	}
	while (d->nidle == 0 && d->nopen >= DB_POOL_MAX) {
		if (pthread_cond_timedwait(&d->cv, &d->mu, &until) ==
		    ETIMEDOUT && d->nidle == 0 && d->nopen >= DB_POOL_MAX) {
			pthread_mutex_unlock(&d->mu);
			*error_r = "all database connections are busy";
			return NULL;
		}
	}
	if (d->nidle > 0)
		c = d->idle[--d->nidle];
	else
		d->nopen++;
	pthread_mutex_unlock(&d->mu);

	now = time(NULL);
	if (c != NULL && (check || now - c->last_used > DB_IDLE_PING) &&
	    mysql_ping(c->my) != 0) {
		db_conn_close(c);
		c = NULL;
	}
	if (c == NULL) {
		c = db_connect(d, true, DB_IO_TIMEOUT, NULL, error_r);
		pthread_mutex_lock(&d->mu);
		if (c == NULL) {
			d->nopen--;
			d->down_until_ms = time_mono_ms() + DB_DOWN_HOLD_MS;
			str_copy(d->down_why, *error_r, sizeof(d->down_why));
			pthread_cond_signal(&d->cv);
		} else {
			d->down_until_ms = 0;
		}
		pthread_mutex_unlock(&d->mu);
	}
	return c;
}

struct db_conn *
db_get(struct dir *d, const char **error_r)
{
	return db_get_impl(d, false, error_r);
}

struct db_conn *
db_get_checked(struct dir *d, const char **error_r)
{
	return db_get_impl(d, true, error_r);
}

void
db_put(struct dir *d, struct db_conn *c)
{
	if (c == NULL)
		return;
	c->last_used = time(NULL);
	if (c->broken) {
		db_conn_close(c);
		c = NULL;
	}
	pthread_mutex_lock(&d->mu);
	if (c != NULL && d->nidle < DB_POOL_MAX)
		d->idle[d->nidle++] = c;
	else {
		if (c != NULL)
			db_conn_close(c);
		d->nopen--;
	}
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
}

int
dir_ping(struct dir *d, const char **error_r)
{
	struct db_conn *c;
	const char *dummy;

	if (error_r == NULL)
		error_r = &dummy;
	c = db_get(d, error_r);
	if (c == NULL)
		return -1;
	if (mysql_ping(c->my) != 0) {
		*error_r = db_errf("MariaDB: %s", mysql_error(c->my));
		c->broken = true;
		db_put(d, c);
		return -1;
	}
	db_put(d, c);
	return 0;
}

/* --- statements --- */

/* db_stmt_fail: record the statement's error; mark the conn if needed */
static int
db_stmt_fail(struct db_conn *c, MYSQL_STMT *st, const char *what,
    struct db_status *status, const char **error_r)
{
	unsigned code = st != NULL ? mysql_stmt_errno(st) :
	    mysql_errno(c->my);
	const char *msg = st != NULL ? mysql_stmt_error(st) :
	    mysql_error(c->my);

	if (code == 0) {
		code = CR_UNKNOWN_ERROR;
		msg = "unknown error";
	}
	db_status_set(status, code);
	if (db_code_is_conn(code))
		c->broken = true;
	*error_r = db_errf("MariaDB %s: %s (%u)", what, msg, code);
	return -1;
}

/* db_stmt_lookup: the cached prepared statement for sql, or a new one */
static MYSQL_STMT *
db_stmt_prepare(struct db_conn *c, const char *sql, bool cache,
    struct db_status *status, const char **error_r)
{
	MYSQL_STMT *st;
	size_t i;

	if (cache) {
		for (i = 0; i < c->nstmts; i++)
			if (c->stmts[i].sql == sql)
				return c->stmts[i].st;
	}
	st = mysql_stmt_init(c->my);
	if (st == NULL) {
		(void)db_stmt_fail(c, NULL, "statement", status, error_r);
		return NULL;
	}
	if (mysql_stmt_prepare(st, sql, strlen(sql)) != 0) {
		(void)db_stmt_fail(c, st, "prepare", status, error_r);
		mysql_stmt_close(st);
		return NULL;
	}
	if (!cache)
		return st;
	if (c->nstmts < DB_STMT_CACHE) {
		i = c->nstmts++;
	} else {
		i = c->next_evict;
		c->next_evict = (c->next_evict + 1) % DB_STMT_CACHE;
		mysql_stmt_close(c->stmts[i].st);
	}
	c->stmts[i].sql = sql;
	c->stmts[i].st = st;
	return st;
}

/* Result binding for one fetch loop; on the heap, as session threads
 * have small stacks. */
struct db_rowbuf {
	MYSQL_BIND	 b[DB_MAX_COLS];
	unsigned long	 len[DB_MAX_COLS];
	my_bool		 isnull[DB_MAX_COLS];
	my_bool		 trunc[DB_MAX_COLS];
	char		 buf[DB_MAX_COLS][DB_COL_BUF];
};

/* db_fetch_cell: column i of the current row as a new string */
static int
db_fetch_cell(MYSQL_STMT *st, struct db_rowbuf *rb, unsigned i, char **out)
{
	MYSQL_BIND one;
	unsigned long got = 0;
	char *big;

	if (rb->isnull[i]) {
		*out = xstrdup("");
		return 0;
	}
	if (rb->len[i] < DB_COL_BUF) {
		*out = xstrndup(rb->buf[i], rb->len[i]);
		return 0;
	}
	/* truncated: fetch this column again with room for all of it */
	big = xmalloc((size_t)rb->len[i] + 1);
	memset(&one, 0, sizeof(one));
	one.buffer_type = MYSQL_TYPE_STRING;
	one.buffer = big;
	one.buffer_length = rb->len[i] + 1;
	one.length = &got;
	if (mysql_stmt_fetch_column(st, &one, i, 0) != 0) {
		free(big);
		*out = xstrdup("");
		return -1;
	}
	big[got < rb->len[i] ? got : rb->len[i]] = '\0';
	*out = big;
	return 0;
}

/* db_fetch_rows: read every row of st's result as strings into l */
static int
db_fetch_rows(struct db_conn *c, MYSQL_STMT *st, unsigned ncols,
    struct dir_list *l, struct db_status *status, const char **error_r)
{
	struct db_rowbuf *rb;
	size_t cap = 0;
	unsigned i;
	int rc = 0, fetch;

	rb = xcalloc(1, sizeof(*rb));
	for (i = 0; i < ncols; i++) {
		rb->b[i].buffer_type = MYSQL_TYPE_STRING;
		rb->b[i].buffer = rb->buf[i];
		rb->b[i].buffer_length = DB_COL_BUF;
		rb->b[i].length = &rb->len[i];
		rb->b[i].is_null = &rb->isnull[i];
		rb->b[i].error = &rb->trunc[i];
	}
	l->ncols = ncols;
	if (mysql_stmt_bind_result(st, rb->b) != 0) {
		free(rb);
		return db_stmt_fail(c, st, "bind result", status, error_r);
	}
	for (;;) {
		char **row;
		int bad = 0;

		fetch = mysql_stmt_fetch(st);
		if (fetch == MYSQL_NO_DATA)
			break;
		if (fetch == 1) {
			rc = db_stmt_fail(c, st, "fetch", status, error_r);
			break;
		}
		if (l->nrows >= DB_MAX_ROWS) {
			*error_r = "result too large";
			db_status_set(status, CR_UNKNOWN_ERROR);
			c->broken = true;	/* rows left unread */
			rc = -1;
			break;
		}
		if (l->nrows == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			l->rows = xreallocarray(l->rows, cap * ncols,
			    sizeof(char *));
		}
		row = l->rows + l->nrows * ncols;
		for (i = 0; i < ncols; i++)
			if (db_fetch_cell(st, rb, i, &row[i]) < 0)
				bad = 1;
		l->nrows++;
		if (bad) {
			rc = db_stmt_fail(c, st, "fetch", status, error_r);
			break;
		}
	}
	free(rb);
	return rc;
}

int
db_run(struct db_conn *c, const char *sql, bool cache,
    const struct db_val *p, size_t np, struct dir_list *rows_r,
    uint64_t *affected_r, struct db_status *status, const char **error_r)
{
	MYSQL_BIND pb[DB_MAX_PARAMS];
	unsigned long plen[DB_MAX_PARAMS];
	long long pint[DB_MAX_PARAMS];
	MYSQL_RES *meta;
	MYSQL_STMT *st;
	unsigned ncols = 0;
	size_t i;
	int rc = 0;

	db_status_set(status, 0);
	if (rows_r != NULL)
		memset(rows_r, 0, sizeof(*rows_r));
	if (np > DB_MAX_PARAMS) {
		*error_r = "too many parameters";
		db_status_set(status, CR_UNKNOWN_ERROR);
		return -1;
	}
	st = db_stmt_prepare(c, sql, cache, status, error_r);
	if (st == NULL)
		return -1;
	if (mysql_stmt_param_count(st) != np) {
		*error_r = db_errf("statement expects %lu parameters, got %zu",
		    mysql_stmt_param_count(st), np);
		db_status_set(status, CR_UNKNOWN_ERROR);
		rc = -1;
		goto done;
	}
	memset(pb, 0, sizeof(pb));
	for (i = 0; i < np; i++) {
		if (p[i].type == DB_STR) {
			plen[i] = strlen(p[i].s);
			pb[i].buffer_type = MYSQL_TYPE_STRING;
			pb[i].buffer = (void *)(uintptr_t)p[i].s;
			pb[i].buffer_length = plen[i];
			pb[i].length = &plen[i];
		} else {
			pint[i] = p[i].i;
			pb[i].buffer_type = MYSQL_TYPE_LONGLONG;
			pb[i].buffer = &pint[i];
		}
	}
	if (np > 0 && mysql_stmt_bind_param(st, pb) != 0) {
		rc = db_stmt_fail(c, st, "bind", status, error_r);
		goto done;
	}
	if (mysql_stmt_execute(st) != 0) {
		rc = db_stmt_fail(c, st, "query", status, error_r);
		goto done;
	}
	meta = mysql_stmt_result_metadata(st);
	if (meta != NULL) {
		ncols = mysql_num_fields(meta);
		mysql_free_result(meta);
	}
	if (ncols > DB_MAX_COLS) {
		*error_r = "too many columns";
		db_status_set(status, CR_UNKNOWN_ERROR);
		c->broken = true;	/* unread result: drop the conn */
		rc = -1;
		goto done;
	}
	if (ncols > 0 && rows_r != NULL) {
		rc = db_fetch_rows(c, st, ncols, rows_r, status, error_r);
		if (rc < 0)
			dir_list_free(rows_r);
	} else if (ncols > 0) {
		/* nobody wants the rows: read and drop them */
		do {
			rc = mysql_stmt_fetch(st);
		} while (rc == 0 || rc == MYSQL_DATA_TRUNCATED);
		rc = rc == MYSQL_NO_DATA ? 0 :
		    db_stmt_fail(c, st, "fetch", status, error_r);
	}
	if (affected_r != NULL) {
		my_ulonglong n = mysql_stmt_affected_rows(st);

		*affected_r = n == (my_ulonglong)-1 ? 0 : (uint64_t)n;
	}
done:
	if (ncols > 0)
		(void)mysql_stmt_free_result(st);
	if (!cache)
		mysql_stmt_close(st);
	return rc;
}

bool
db_slow(uint64_t t0_ms)
{
	return time_mono_ms() - t0_ms >= DB_RETRY_MAX_MS;
}

static bool
db_is_select(const char *sql)
{
	while (*sql == ' ' || *sql == '\t' || *sql == '\n')
		sql++;
	return str_iprefix(sql, "SELECT");
}

int
db_query(struct dir *d, const char *sql, const struct db_val *p, size_t np,
    struct dir_list *rows_r, uint64_t *affected_r, struct db_status *st,
    const char **error_r)
{
	struct db_status local;
	struct db_conn *c;
	const char *dummy;
	int attempt, rc = -1;

	if (error_r == NULL)
		error_r = &dummy;
	if (st == NULL)
		st = &local;
	for (attempt = 0; attempt < 2; attempt++) {
		uint64_t t0 = time_mono_ms();

		c = attempt == 0 ? db_get(d, error_r) :
		    db_get_checked(d, error_r);
		if (c == NULL) {
			db_status_set(st, CR_CONNECTION_ERROR);
			return -1;
		}
		rc = db_run(c, sql, true, p, np, rows_r, affected_r, st,
		    error_r);
		if (rc == 0 || !c->broken) {
			db_put(d, c);
			return rc;
		}
		db_put(d, c);
		/* the connection died: a read is safe to repeat, unless it
		 * died of a timeout (a hung server would hang us twice) */
		if (!db_is_select(sql) || db_slow(t0))
			break;
		log_warn("dir connection lost, retrying: %s", *error_r);
	}
	return rc;
}

void
dir_list_free(struct dir_list *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->nrows * l->ncols; i++)
		free(l->rows[i]);
	free(l->rows);
	l->rows = NULL;
	l->nrows = 0;
	l->ncols = 0;
}

int
dir_fail(enum ferr *ferr_r, enum ferr e, const char **error_r,
    const char *why)
{
	if (ferr_r != NULL)
		*ferr_r = e;
	if (error_r != NULL)
		*error_r = why;
	return -1;
}

int
dir_fail_db(enum ferr *ferr_r, const struct db_status *st,
    const char **error_r, const char *why)
{
	return dir_fail(ferr_r, st->ferr == FERR_NONE ? FERR_TEMP : st->ferr,
	    error_r, why);
}

int
dir_ok(enum ferr *ferr_r)
{
	if (ferr_r != NULL)
		*ferr_r = FERR_NONE;
	return 0;
}
