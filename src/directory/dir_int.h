/*
 * dir_int - shared by the files of src/directory only (like Dovecot's
 * -private.h): the connection pool and the prepared-statement helpers.
 * Nothing outside src/directory includes this; <mysql.h> stays in db.c.
 */
#ifndef DIRECTORY_DIR_INT_H
#define DIRECTORY_DIR_INT_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/err.h"
#include "directory/dir.h"

#define DB_POOL_MAX		8	/* connections per process */
#define DB_CONNECT_TIMEOUT	3	/* seconds */
#define DB_IO_TIMEOUT		5	/* seconds, read and write */
#define DB_ADMIN_IO_TIMEOUT	300	/* schema changes may take a while */
#define DB_POOL_WAIT		10	/* seconds to wait for a free conn */
#define DB_IDLE_PING		30	/* ping a conn idle longer than this */
#define DB_MAX_ROWS		10000000 /* cap on one result set */
#define DB_RETRY_MAX_MS		1000	/* retry only failures faster than */
#define DB_DOWN_HOLD_MS		1000	/* after a failed connect, fail fast */

/* ISPmail column widths, in characters */
#define DIR_DOMAIN_CHARS	50
#define DIR_EMAIL_CHARS		100
#define DIR_ADMIN_CHARS		100
#define DIR_QUOTA_MAX		2147483647ULL	/* int(11): signed 32-bit */

struct db_conn;

struct dir {
	char		*socket;	/* NULL when db_host is set */
	char		*host;
	unsigned	 port;
	char		*name;
	char		*user;
	char		*password;
	bool		 auth_rehash;

	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	struct db_conn	*idle[DB_POOL_MAX];
	size_t		 nidle;
	size_t		 nopen;		/* idle + borrowed */
	uint64_t	 down_until_ms;	/* fail fast until (time_mono_ms) */
	char		 down_why[256];	/* the connect error that set it */
};

enum db_type { DB_STR, DB_I64 };

struct db_val {
	enum db_type	 type;
	const char	*s;
	int64_t		 i;
};

#define DB_S(x)	((struct db_val){ DB_STR, (x), 0 })
#define DB_I(x)	((struct db_val){ DB_I64, NULL, (int64_t)(x) })

/* What went wrong in the last db_* call (for ferr mapping). */
struct db_status {
	unsigned	 code;		/* MariaDB error number, 0 = none */
	enum ferr	 ferr;		/* TEMP, EXISTS, INVALID, NOTFOUND... */
};

/*
 * db_get / db_put: borrow a pooled connection (connected, lazily opened,
 * pinged after a long idle time) and give it back. broken: close it
 * instead of pooling it. db_get returns NULL with error_r when no
 * connection can be made (DB down) or none frees up in DB_POOL_WAIT.
 */
struct db_conn *db_get(struct dir *d, const char **error_r);
/* db_get_checked: the same, but a pooled connection is pinged first
 * (for the retry after a lost connection). */
struct db_conn *db_get_checked(struct dir *d, const char **error_r);
void db_put(struct dir *d, struct db_conn *c);

/*
 * db_run: prepare (cached per connection, keyed by the sql pointer, so
 * pass string literals; or pass cache = false), bind params, execute.
 * When rows_r is not NULL the result set is read into it as strings
 * (NULL becomes ""). affected_r: affected (found) rows of a DML
 * statement. Returns 0, or -1 with error_r (thread-local text, valid
 * until this thread's next db_* call) and st (when not NULL) filled.
 * A connection error marks c broken (db_put then closes it).
 */
int db_run(struct db_conn *c, const char *sql, bool cache,
    const struct db_val *p, size_t np, struct dir_list *rows_r,
    uint64_t *affected_r, struct db_status *st, const char **error_r);

/*
 * db_query: db_get + db_run + db_put, retrying once on a fresh
 * connection when a SELECT or a prepare failed because the connection
 * was broken. Same returns as db_run.
 */
int db_query(struct dir *d, const char *sql, const struct db_val *p,
    size_t np, struct dir_list *rows_r, uint64_t *affected_r,
    struct db_status *st, const char **error_r);

/* db_slow: true when more than DB_RETRY_MAX_MS passed since t0_ms
 * (time_mono_ms): a failure that slow was a timeout, not worth a retry. */
bool db_slow(uint64_t t0_ms);

/* db_connect_admin: a dedicated connection with long timeouts (schema
 * changes). with_db: select db_name; else connect without a database.
 * NULL + error_r + st on failure. Close with db_conn_close. */
struct db_conn *db_connect_admin(struct dir *d, bool with_db,
    struct db_status *st, const char **error_r);
void db_conn_close(struct db_conn *c);
/* db_conn_broken: true once a connection-level error happened on c. */
bool db_conn_broken(const struct db_conn *c);

/* db_errf: format into this thread's error buffer; returns it. */
const char *db_errf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
/* db_bad_db: true when st says "unknown database" (ER_BAD_DB_ERROR). */
bool db_bad_db(const struct db_status *st);
/* db_quote_ident: `name` with backticks doubled; 0, or -1 when it does
 * not fit dstlen or holds bytes we refuse in a database name. */
int db_quote_ident(const char *name, char *dst, size_t dstlen);

/* --- validation and normalisation (names.c) --- */
/* dir_utf8_chars: characters in s (UTF-8), or SIZE_MAX when s is not
 * valid UTF-8. */
size_t dir_utf8_chars(const char *s);
/* dir_norm_domain: lower-case copy of a domain name if it is one we
 * store (LDH labels or UTF-8, no dots at the ends, <= 50 characters).
 * 0 or -1 with why_r. */
int dir_norm_domain(const char *in, char *dst, size_t dstlen,
    const char **why_r);
/* dir_norm_email: lower-case "local@domain" with a safe local part (no
 * control bytes, space, '/', '@', '%', '!'; not "." or "..") and a valid
 * domain, <= 100 characters. 0 or -1 with why_r. */
int dir_norm_email(const char *in, char *dst, size_t dstlen,
    const char **why_r);
/* dir_norm_lookup: lower-case copy of any address for a lookup; -1 when
 * too long or empty (then the lookup simply finds nothing). */
int dir_norm_lookup(const char *in, char *dst, size_t dstlen);
/* dir_norm_dest: an alias destination, any address, kept as given;
 * at most 100 characters, no ',' (one destination per row). */
int dir_norm_dest(const char *in, char *dst, size_t dstlen,
    const char **why_r);
/* dir_domain_of: pointer to the part after the last '@', or NULL. */
const char *dir_domain_of(const char *addr);

/* dir_fail: set *ferr_r (when not NULL) and *error_r; returns -1.
 * dir_fail_db: the same from a db_status. dir_ok: *ferr_r = NONE, 0. */
int dir_fail(enum ferr *ferr_r, enum ferr e, const char **error_r,
    const char *why);
int dir_fail_db(enum ferr *ferr_r, const struct db_status *st,
    const char **error_r, const char *why);
int dir_ok(enum ferr *ferr_r);

/*
 * dir_sql_next: the next statement of a SQL file in text (len bytes),
 * starting at *pos (advanced), counting lines in *lineno. Rules (see
 * sql/README): a statement ends with ';' as the last non-blank character
 * of a line; lines starting with "--" and blank lines are skipped; the
 * last statement may lack its ';'; empty statements are skipped. The
 * statement goes into stmt (reset first; lines joined by LF, without
 * the ';'), its first line into *first_r. Returns 1 a statement, 0 end
 * of text, -1 statement larger than stmt's max.
 */
struct buf;
int dir_sql_next(const char *text, size_t len, size_t *pos, unsigned *lineno,
    struct buf *stmt, unsigned *first_r);

/* --- lookups that reuse one borrowed connection (alias.c, user.c) --- */
/* dir_conn_user_email: is email a user? 1 with its stored address
 * (ASCII lower-cased) in stored_r / 0 / -1. */
int dir_conn_user_email(struct db_conn *c, const char *email, char *stored_r,
    size_t storedlen, const char **error_r);
int dir_conn_domain_id(struct db_conn *c, const char *domain, int64_t *id_r,
    const char **error_r);

#endif
