/*
 * dir - the MariaDB user directory (ISPmail schema plus facteur's tables).
 *
 * The only module that sees <mysql.h>. A small pool of connections, opened
 * lazily and reopened after errors; every query is a prepared statement.
 * Thread-safe: every function may be called from any session thread.
 *
 * Return shapes: lookups 1 found / 0 not found / -1 error; actions 0 / -1.
 * On -1, *error_r (when not NULL) is a static string or this thread's
 * error buffer, valid until the same thread's next dir_* call; it is for
 * logs, and the error is temporary (DB unreachable) unless stated.
 *
 * Threads need no set-up: the MariaDB client library is initialised once
 * and per thread on first use, and released when the thread exits.
 * Addresses and domains are lower-cased (ASCII) before every lookup.
 * Limits of ISPmail's columns apply: domain 50 characters, addresses 100,
 * quota a signed 32-bit int (at most 2147483647 bytes).
 */
#ifndef DIRECTORY_DIR_H
#define DIRECTORY_DIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/conf.h"
#include "core/err.h"

#define DIR_ADDR_MAX 320	/* 64 local + @ + 255 domain */

struct dir;

struct dir_user {
	int64_t	 id;
	char	 email[DIR_ADDR_MAX + 1];	/* as stored, lower-case */
	char	 password[256];			/* "{SCHEME}hash" */
	uint64_t quota;				/* bytes, 0 = unlimited */
};

struct dir_dest {
	char	 addr[DIR_ADDR_MAX + 1];
	bool	 local;		/* a virtual_users mailbox here */
};

/*
 * dir_open: read the password file (db_password_file; may be absent or
 * empty for socket auth) and remember the connection settings. Connects
 * lazily; never fails because the server is down. NULL + error_r when
 * the password file exists but cannot be read.
 */
struct dir *dir_open(const struct conf *c, const char **error_r);
void dir_close(struct dir **d);
/* dir_ping: connect now. 0 or -1 with error_r (for `facteur check`). */
int dir_ping(struct dir *d, const char **error_r);

/* dir_domain_is_local: is domain (any case) in virtual_domains? 1/0/-1 */
int dir_domain_is_local(struct dir *d, const char *domain);
/* dir_user_lookup: by full address (any case). 1/0/-1 */
int dir_user_lookup(struct dir *d, const char *email, struct dir_user *u_r);

/*
 * dir_resolve: Postfix virtual alias semantics on the ISPmail tables, as
 * an ISPmail Postfix (virtual_alias_maps = alias-maps, email2email)
 * resolves a recipient, in this order for each address:
 *  - virtual_aliases rows with source = address (several rows fan out;
 *    destinations may be comma-separated lists);
 *  - else the user's own address, when it is a user (email2email): so a
 *    user's own address always reaches that user, unless an explicit
 *    alias row for it says otherwise (a forward; ISPmail's self row
 *    "a@x -> a@x" next to "a@x -> b@x" keeps a copy);
 *  - else the catch-all rows with source '@domain';
 *  - else the address itself: remote when its domain is not local;
 *    dropped (logged) when it is local and nobody has it.
 * Each destination is expanded again, recursively (limits: 20 levels,
 * 1000 results; past them -1, as Postfix defers); a destination equal to
 * the address being expanded is delivered as it is, not expanded again;
 * an address met twice is used once (duplicates removed, loops end).
 * A local destination is given as virtual_users stores it.
 * Returns 1 with *dests_r (malloc'ed array, caller frees) and *n_r >= 1,
 * 0 when the address is in a local domain but reaches nobody (550 5.1.1),
 * -1 temporary error. Callers check dir_domain_is_local first.
 */
int dir_resolve(struct dir *d, const char *addr, struct dir_dest **dests_r,
    size_t *n_r, const char **error_r);

/*
 * dir_sender_owned: may the authenticated user send as addr? True when addr
 * is the user's own address or an alias that resolves to the user
 * (dir_resolve; so the owner of a catch-all may use any otherwise unused
 * address of that domain). 1 yes / 0 no / -1 error.
 */
int dir_sender_owned(struct dir *d, const char *user_email, const char *addr);

enum dir_login {
	DIR_LOGIN_OK = 0,
	DIR_LOGIN_FAIL,		/* unknown user or wrong password */
	DIR_LOGIN_BLOCKED,	/* throttled: too many failures */
	DIR_LOGIN_TEMP		/* directory unreachable */
};
/*
 * dir_login: look the user up, verify the password (auth/scheme, with the
 * credential cache and the throttle), rehash to ARGON2ID after a success
 * with an older scheme when conf auth_rehash is on. ip is the client's
 * address for throttling. On OK fills u_r. Never logs the password.
 */
enum dir_login dir_login(struct dir *d, const char *user, const char *pass,
    size_t passlen, const char *ip, struct dir_user *u_r);

/* --- management (CLI, admin page); 0 ok / -1 with error_r; FERR_* in
 * *ferr_r when not NULL (EXISTS, NOTFOUND, INVALID, TEMP) --- */
struct dir_list {		/* rows of strings */
	char	**rows;		/* each row: cols strings */
	size_t	  nrows;
	size_t	  ncols;
};
void dir_list_free(struct dir_list *l);

int dir_domain_add(struct dir *d, const char *name, enum ferr *ferr_r,
    const char **error_r);
int dir_domain_del(struct dir *d, const char *name, enum ferr *ferr_r,
    const char **error_r);
int dir_domain_list(struct dir *d, struct dir_list *l_r, const char **error_r);
int dir_user_add(struct dir *d, const char *email, const char *pwhash,
    uint64_t quota, enum ferr *ferr_r, const char **error_r);
int dir_user_del(struct dir *d, const char *email, enum ferr *ferr_r,
    const char **error_r);
int dir_user_set_password(struct dir *d, const char *email,
    const char *pwhash, enum ferr *ferr_r, const char **error_r);
int dir_user_set_quota(struct dir *d, const char *email, uint64_t quota,
    enum ferr *ferr_r, const char **error_r);
/* columns: email, quota */
int dir_user_list(struct dir *d, const char *domain_or_null,
    struct dir_list *l_r, const char **error_r);
int dir_alias_add(struct dir *d, const char *source, const char *dest,
    enum ferr *ferr_r, const char **error_r);
/* dest NULL: every row of source */
int dir_alias_del(struct dir *d, const char *source, const char *dest,
    enum ferr *ferr_r, const char **error_r);
/* columns: source, destination. source_or_null: NULL for every alias,
 * an address or '@domain' for that source's rows, a bare domain name for
 * every alias of that domain. */
int dir_alias_list(struct dir *d, const char *source_or_null,
    struct dir_list *l_r, const char **error_r);
int dir_admin_add(struct dir *d, const char *name, const char *pwhash,
    enum ferr *ferr_r, const char **error_r);
int dir_admin_del(struct dir *d, const char *name, enum ferr *ferr_r,
    const char **error_r);
/* columns: name, created ('YYYY-MM-DD HH:MM:SS') */
int dir_admin_list(struct dir *d, struct dir_list *l_r, const char **error_r);
/* dir_admin_password: stored hash of an admin. 1/0/-1 */
int dir_admin_password(struct dir *d, const char *name, char *hash_r,
    size_t hashlen);

/* --- DKIM signing keys (facteur_dkim_keys) --- */
struct dir_dkim_key {
	char	 domain[256];
	char	 selector[64];
	char	 algorithm[33];		/* "rsa-sha256", "ed25519-sha256" */
	char	*private_key;		/* PEM, malloc'ed: dir_dkim_key_free */
};
/* dir_dkim_add: store a key; EXISTS when (domain, selector) has one. */
int dir_dkim_add(struct dir *d, const char *domain, const char *selector,
    const char *algorithm, const char *pem, enum ferr *ferr_r,
    const char **error_r);
int dir_dkim_del(struct dir *d, const char *domain, const char *selector,
    enum ferr *ferr_r, const char **error_r);
/* columns: domain, selector, algorithm, created */
int dir_dkim_list(struct dir *d, struct dir_list *l_r, const char **error_r);
/*
 * dir_dkim_get: the newest key of domain (any case), or the key with
 * that selector when selector is not NULL. 1 found (k_r filled; free with
 * dir_dkim_key_free) / 0 none / -1 error.
 */
int dir_dkim_get(struct dir *d, const char *domain, const char *selector,
    struct dir_dkim_key *k_r);
void dir_dkim_key_free(struct dir_dkim_key *k);

/*
 * dir_schema_init: create or upgrade the schema from sqldir (schema.sql,
 * then migrations/NNN_*.sql not yet applied, recorded in
 * facteur_schema_version). Works on an existing ISPmail database: tables
 * already there are kept. 0 or -1 with error_r.
 */
int dir_schema_init(struct dir *d, const char *sqldir, const char **error_r);

#endif
