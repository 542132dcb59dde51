/*
 * api - the admin page's JSON API under /api/.
 *
 * Authentication: POST /api/login with {"user","password"}: a name
 * without '@' is an admin (facteur_admins), an address is a mailbox user
 * who may only change their own password. A server-side session is kept
 * (websess.c) behind an HttpOnly, Secure, SameSite=Strict cookie.
 * Every state-changing request (POST, DELETE) needs the session's CSRF
 * token in X-CSRF-Token and a JSON Content-Type; an Origin header, when
 * sent, must name this host. Login failures are delayed and throttled
 * per IP and per account (auth/throttle).
 *
 * The server is the authority: every value is validated here, whatever
 * the page checked. Replies are JSON with <, > and & escaped.
 *
 *   GET    /api/session            who am I (401 when not logged in)
 *   POST   /api/login  /api/logout
 *   GET    /api/dashboard
 *   GET    /api/domains            POST {name}      DELETE ?name=&confirm=
 *   GET    /api/domains/dns?name=  records to publish + what DNS says now
 *   GET    /api/users[?domain=]    POST {email,password,quota}
 *   POST   /api/users/password {email,password[,current]}
 *   POST   /api/users/quota {email,quota}            DELETE ?email=
 *   GET    /api/aliases            POST {source,destinations}
 *                                  DELETE ?source=[&destination=]
 *   GET    /api/queue              POST /api/queue/retry {id}  DELETE ?id=
 *   GET    /api/admins             POST {name,password} DELETE ?name=
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "auth/scheme.h"
#include "auth/throttle.h"
#include "core/conf.h"
#include "core/events.h"
#include "core/log.h"
#include "core/str.h"
#include "core/strnum.h"
#include "directory/dir.h"
#include "directory/dkimkeys.h"
#include "http/http_int.h"
#include "http/json.h"
#include "mailauth/dkim.h"
#include "net/dns.h"
#include "queue/qfile.h"
#include "queue/queue.h"
#include "store/maildir.h"
#include "store/quota.h"

#define API_COOKIE	"facteur_session"
#define API_PW_MIN	8
#define API_PW_MAX	1024

static time_t api_started;

struct api_call {
	struct http_ctx		*x;
	const struct http_req	*req;
	struct json_obj		 body;
	bool			 has_body;
	struct websess		 sess;
	bool			 logged_in;
	struct http_resp	*r;
};

/* Reply writers: a reply that outgrows its buffer (8 MiB) is replaced
 * by a 500 in http_api(), so the individual appends need no checks. */
static __thread bool api_overflow;

static void
bput(struct buf *b, const char *s)
{
	if (buf_puts(b, s) < 0)
		api_overflow = true;
}

static void bprintf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
bprintf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (buf_vprintf(b, fmt, ap) < 0)
		api_overflow = true;
	va_end(ap);
}

static void
bjson(struct buf *b, const char *s)
{
	if (json_str(b, s) < 0)
		api_overflow = true;
}

/* ---- small helpers --------------------------------------------------- */

static int
api_query(const struct http_req *req, const char *key, char *dst,
    size_t dstlen)
{
	const char *p = req->query;
	size_t klen = strlen(key);

	while (*p != '\0') {
		const char *amp = strchr(p, '&');
		size_t n = amp ? (size_t)(amp - p) : strlen(p);

		if (n > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
			const char *v = p + klen + 1;
			size_t vlen = n - klen - 1, i, o = 0;

			for (i = 0; i < vlen; i++) {
				int c = (unsigned char)v[i];

				if (c == '+')
					c = ' ';
				else if (c == '%' && i + 2 < vlen) {
					char hx[3] = { v[i + 1], v[i + 2], 0 };
					char *end;

					c = (int)strtol(hx, &end, 16);
					if (*end != '\0')
						return -1;
					i += 2;
				} else if (c == '%') {
					return -1;
				}
				if (c == 0 || o + 1 >= dstlen)
					return -1;
				dst[o++] = (char)c;
			}
			dst[o] = '\0';
			return 1;
		}
		if (amp == NULL)
			break;
		p = amp + 1;
	}
	return 0;
}

static bool
api_domain_ok(const char *d)
{
	size_t n = strlen(d), label = 0, i;

	if (n == 0 || n > 253 || d[0] == '.' || d[n - 1] == '.' ||
	    strchr(d, '.') == NULL)
		return false;
	for (i = 0; i < n; i++) {
		char c = d[i];

		if (c == '.') {
			if (label == 0 || d[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-'))
			return false;
		if (c == '-' && label == 0)
			return false;
		if (++label > 63)
			return false;
	}
	return true;
}

/* api_addr_ok: local@domain with a dot-atom-ish local part (no quoting,
 * no '/', '%', '!', control or space), or "@domain" when catchall. */
static bool
api_addr_ok(const char *a, bool catchall)
{
	const char *at = strrchr(a, '@');
	size_t llen, i;

	if (at == NULL || strlen(a) > DIR_ADDR_MAX)
		return false;
	llen = (size_t)(at - a);
	if (llen == 0)
		return catchall && api_domain_ok(at + 1);
	if (llen > 64 || a[0] == '.' || at[-1] == '.')
		return false;
	for (i = 0; i < llen; i++) {
		unsigned char c = (unsigned char)a[i];

		if (c <= 0x20 || c == 0x7f || strchr("\"(),:;<>@[\\]/%!", c))
			return false;
		if (c == '.' && a[i + 1] == '.')
			return false;
	}
	return api_domain_ok(at + 1);
}

static void
api_ok(struct api_call *a)
{
	a->r->status = 200;
	buf_reset(&a->r->body);
	bput(&a->r->body, "{\"ok\":true}");
}

static void
api_dir_fail(struct api_call *a, enum ferr fe, const char *err)
{
	switch (fe) {
	case FERR_EXISTS:
		http_resp_error(a->r, 409, err ? err : "already exists");
		break;
	case FERR_NOTFOUND:
		http_resp_error(a->r, 404, err ? err : "not found");
		break;
	case FERR_INVALID:
		http_resp_error(a->r, 422, err ? err : "invalid value");
		break;
	default:
		log_warn("%016llx http directory error: %s", a->x->sid,
		    err ? err : "unknown");
		http_resp_error(a->r, 503, "the user directory is unavailable; "
		    "try again");
		break;
	}
}

static const char *
api_field(struct api_call *a, const char *key)
{
	const char *v = a->has_body ? json_get(&a->body, key) : NULL;

	if (v == NULL) {
		char msg[96];

		snprintf(msg, sizeof(msg), "missing field \"%s\"", key);
		http_resp_error(a->r, 422, msg);
	}
	return v;
}

static bool
api_need_admin(struct api_call *a)
{
	if (!a->logged_in) {
		http_resp_error(a->r, 401, "login required");
		return false;
	}
	if (!a->sess.admin) {
		http_resp_error(a->r, 403, "administrators only");
		return false;
	}
	return true;
}

static bool
api_password_ok(struct api_call *a, const char *pw)
{
	size_t n = strlen(pw);

	if (n < API_PW_MIN || n > API_PW_MAX) {
		http_resp_error(a->r, 422, "the password must have 8 to 1024 "
		    "characters");
		return false;
	}
	return true;
}

/* api_hash_password: the {ARGON2ID} hash of pw, or NULL with the
 * error reply set (malloc'ed: the caller frees). */
static char *
api_hash_password(struct api_call *a, const char *pw)
{
	const char *err = NULL;
	char *hash = pw_hash(NULL, pw, strlen(pw), &err);

	if (hash == NULL)
		http_resp_error(a->r, 500, "cannot hash the password");
	return hash;
}

/* ---- login ----------------------------------------------------------- */

static void
api_session_json(struct api_call *a, const struct websess *s)
{
	struct buf *b = &a->r->body;

	buf_reset(b);
	bput(b, "{\"name\":");
	bjson(b, s->name);
	bprintf(b, ",\"admin\":%s,\"csrf\":\"%s\",\"version\":",
	    s->admin ? "true" : "false", s->csrf);
	bjson(b, FACTEUR_VERSION);
	bput(b, "}");
}

static void
api_login(struct api_call *a)
{
	const struct conf *c = a->x->srv->conf;
	const char *user, *pw;
	char key[400];
	struct websess s;
	bool ok = false, admin = false, temp = false;

	user = api_field(a, "user");
	if (user == NULL)
		return;
	pw = api_field(a, "password");
	if (pw == NULL)
		return;
	snprintf(key, sizeof(key), "web:%s", user);
	if (throttle_blocked(a->x->ip, key)) {
		log_warn("%016llx http auth result=blocked user=\"%s\" "
		    "address=%s", a->x->sid, "(hidden)", a->x->ip);
		usleep(c->auth_fail_delay_ms * 1000);
		http_resp_error(a->r, 429, "too many failed logins; wait a few "
		    "minutes");
		return;
	}
	if (strchr(user, '@') == NULL) {
		char hash[512];
		int rc = dir_admin_password(a->x->srv->dir, user, hash,
		    sizeof(hash));

		if (rc < 0)
			temp = true;
		else if (rc == 1 && pw_verify(hash, pw, strlen(pw)) == 1)
			ok = admin = true;
		else if (rc == 0)	/* same cost for unknown names */
			(void)pw_verify("{SSHA256}AAAAAAAAAAAAAAAAAAAAAAAAAAAA"
			    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", pw,
			    strlen(pw));
	} else {
		struct dir_user u;

		switch (dir_login(a->x->srv->dir, user, pw, strlen(pw),
		    a->x->ip, &u)) {
		case DIR_LOGIN_OK:
			ok = true;
			break;
		case DIR_LOGIN_TEMP:
			temp = true;
			break;
		default:
			break;
		}
	}
	if (temp) {
		http_resp_error(a->r, 503, "the user directory is unavailable; "
		    "try again");
		return;
	}
	if (!ok) {
		char esc[128];

		throttle_fail(a->x->ip, key);
		log_warn("%016llx http auth result=fail user=\"%s\" address=%s",
		    a->x->sid, log_esc(esc, sizeof(esc), user, strlen(user)),
		    a->x->ip);
		events_push("auth-fail", "admin page login failed for %s from "
		    "%s", esc, a->x->ip);
		usleep(c->auth_fail_delay_ms * 1000);
		http_resp_error(a->r, 401, "wrong name or password");
		return;
	}
	throttle_success(a->x->ip, key);
	if (websess_new(user, admin, &s) < 0) {
		http_resp_error(a->r, 503, "too many sessions; try later");
		return;
	}
	log_info("%016llx http auth result=ok user=\"%s\" admin=%d address=%s",
	    a->x->sid, s.name, admin, a->x->ip);
	http_resp_header(a->r, "Set-Cookie: " API_COOKIE "=%s; Path=/; "
	    "Secure; HttpOnly; SameSite=Strict; Max-Age=43200", s.token);
	api_session_json(a, &s);
}

static void
api_logout(struct api_call *a)
{
	if (a->logged_in)
		websess_del(a->sess.token);
	http_resp_header(a->r, "Set-Cookie: " API_COOKIE "=; Path=/; Secure; "
	    "HttpOnly; SameSite=Strict; Max-Age=0");
	api_ok(a);
}

/* ---- dashboard ------------------------------------------------------- */

static size_t
api_count(struct dir *d, int which)
{
	struct dir_list l = { 0 };
	const char *err = NULL;
	size_t n = 0;
	int rc;

	if (which == 0)
		rc = dir_domain_list(d, &l, &err);
	else if (which == 1)
		rc = dir_user_list(d, NULL, &l, &err);
	else
		rc = dir_alias_list(d, NULL, &l, &err);
	if (rc == 0)
		n = l.nrows;
	dir_list_free(&l);
	return n;
}

static void
api_dashboard(struct api_call *a)
{
	struct buf *b = &a->r->body;
	struct event ev[20];
	char **ids = NULL;
	size_t nids = 0, n, i;
	struct dir *d = a->x->srv->dir;

	if (!api_need_admin(a))
		return;
	(void)qfile_list(a->x->srv->conf->queue_dir, &ids, &nids);
	qfile_list_free(ids, nids);
	buf_reset(b);
	bput(b, "{\"version\":");
	bjson(b, FACTEUR_VERSION);
	bprintf(b, ",\"uptime\":%ld,\"domains\":%zu,\"users\":%zu,"
	    "\"aliases\":%zu,\"queue\":%zu,\"delivered\":%lu,"
	    "\"rejected\":%lu,\"hostname\":", (long)(time(NULL) - api_started),
	    api_count(d, 0), api_count(d, 1), api_count(d, 2), nids,
	    events_count("delivered"), events_count("rejected"));
	bjson(b, a->x->srv->conf->hostname);
	bput(b, ",\"events\":[");
	n = events_recent(ev, sizeof(ev) / sizeof(ev[0]));
	for (i = 0; i < n; i++) {
		bprintf(b, "%s{\"when\":%ld,\"kind\":", i ? "," : "",
		    (long)ev[i].when);
		bjson(b, ev[i].kind);
		bput(b, ",\"text\":");
		bjson(b, ev[i].text);
		bput(b, "}");
	}
	bput(b, "]}");
}

/* ---- domains --------------------------------------------------------- */

static void
api_domains_get(struct api_call *a)
{
	struct dir_list l = { 0 }, u = { 0 };
	struct buf *b = &a->r->body;
	const char *err = NULL;
	size_t i, j;

	if (!api_need_admin(a))
		return;
	if (dir_domain_list(a->x->srv->dir, &l, &err) < 0 ||
	    dir_user_list(a->x->srv->dir, NULL, &u, &err) < 0) {
		dir_list_free(&l);
		dir_list_free(&u);
		api_dir_fail(a, FERR_TEMP, err);
		return;
	}
	buf_reset(b);
	bput(b, "[");
	for (i = 0; i < l.nrows; i++) {
		const char *name = l.rows[i * l.ncols];
		size_t users = 0;

		for (j = 0; j < u.nrows; j++) {
			const char *at = strrchr(u.rows[j * u.ncols], '@');

			if (at != NULL && str_ieq(at + 1, name))
				users++;
		}
		bput(b, i ? ",{\"name\":" : "{\"name\":");
		bjson(b, name);
		bprintf(b, ",\"users\":%zu}", users);
	}
	bput(b, "]");
	dir_list_free(&l);
	dir_list_free(&u);
}

static void
api_domains_post(struct api_call *a)
{
	const char *name, *err = NULL;
	enum ferr fe = FERR_NONE;
	char lower[256];

	if (!api_need_admin(a))
		return;
	name = api_field(a, "name");
	if (name == NULL)
		return;
	if (!api_domain_ok(name)) {
		http_resp_error(a->r, 422, "not a valid domain name");
		return;
	}
	str_copy(lower, name, sizeof(lower));
	str_lower(lower);
	if (dir_domain_add(a->x->srv->dir, lower, &fe, &err) < 0) {
		api_dir_fail(a, fe, err);
		return;
	}
	log_info("%016llx http domain-add name=%s by=\"%s\"", a->x->sid,
	    lower, a->sess.name);
	a->r->status = 201;
	api_ok(a);
	a->r->status = 201;
}

static void
api_domains_delete(struct api_call *a)
{
	char name[256], confirm[256];
	const char *err = NULL;
	enum ferr fe = FERR_NONE;

	if (!api_need_admin(a))
		return;
	if (api_query(a->req, "name", name, sizeof(name)) != 1 ||
	    !api_domain_ok(name)) {
		http_resp_error(a->r, 422, "not a valid domain name");
		return;
	}
	if (api_query(a->req, "confirm", confirm, sizeof(confirm)) != 1 ||
	    !str_ieq(confirm, name)) {
		http_resp_error(a->r, 422, "confirm by repeating the domain "
		    "name: deleting it deletes its users and aliases");
		return;
	}
	if (dir_domain_del(a->x->srv->dir, name, &fe, &err) < 0) {
		api_dir_fail(a, fe, err);
		return;
	}
	log_info("%016llx http domain-del name=%s by=\"%s\"", a->x->sid, name,
	    a->sess.name);
	api_ok(a);
}

static bool
api_same_nospace(const char *a, const char *b)
{
	for (;;) {
		while (*a == ' ' || *a == '\t')
			a++;
		while (*b == ' ' || *b == '\t')
			b++;
		if (*a != *b)
			return false;
		if (*a == '\0')
			return true;
		a++;
		b++;
	}
}

static void
api_dns_expect(struct buf *b, const char *type, const char *name,
    const char *want, char **have, size_t nhave, const char *status)
{
	size_t i;
	bool found = false;

	bput(b, "{\"type\":");
	bjson(b, type);
	bput(b, ",\"name\":");
	bjson(b, name);
	bput(b, ",\"value\":");
	bjson(b, want);
	bput(b, ",\"current\":[");
	for (i = 0; i < nhave; i++) {
		bput(b, i ? "," : "");
		bjson(b, have[i]);
		if (strcmp(type, "MX") == 0) {
			size_t hl = strlen(have[i]);

			if (str_ieq(have[i], want) || (hl > 0 &&
			    have[i][hl - 1] == '.' && hl - 1 == strlen(want) &&
			    str_ieqn(have[i], want, hl - 1)))
				found = true;
		} else if (strstr(name, "._domainkey.") != NULL) {
			/* DKIM: the same key, whatever the spacing */
			if (api_same_nospace(have[i], want))
				found = true;
		} else {
			/* a record of the same kind: v=spf1 / v=DMARC1 */
			const char *sp = strchr(want, ' ');
			size_t tag = sp ? (size_t)(sp - want) : strlen(want);

			if (str_ieqn(have[i], want, tag))
				found = true;
		}
	}
	bprintf(b, "],\"lookup\":\"%s\",\"ok\":%s}", status,
	    found ? "true" : "false");
}

/* api_dns_dkim: one TXT record per signing key of domain (DKIM). */
static void
api_dns_dkim(struct api_call *a, struct buf *b, const char *domain)
{
	struct dir_dkim_key keys[DIR_DKIM_SIGNING_MAX];
	size_t n = 0, i;

	if (dir_dkim_signing_keys(a->x->srv->dir, domain, keys,
	    DIR_DKIM_SIGNING_MAX, &n) != 1)
		return;
	for (i = 0; i < n; i++) {
		char rrname[400], **txt = NULL;
		size_t ntxt = 0;
		enum dns_status st;
		struct buf want;

		buf_init(&want, 8192);
		snprintf(rrname, sizeof(rrname), "%s._domainkey.%s",
		    keys[i].selector, domain);
		if (dkim_key_txt(keys[i].private_key, &want) == 0) {
			st = dns_lookup_txt(rrname, &txt, &ntxt);
			bput(b, ",");
			api_dns_expect(b, "TXT", rrname, buf_cstr(&want), txt,
			    ntxt, dns_status_name(st));
			dns_txt_free(txt, ntxt);
		}
		buf_free(&want);
		dir_dkim_key_free(&keys[i]);
	}
}

static void
api_domains_dns(struct api_call *a)
{
	const struct conf *c = a->x->srv->conf;
	struct buf *b = &a->r->body;
	char name[256], want[600], dmarc_name[300];
	char **txt = NULL, **dm = NULL, *mxs[16];
	size_t ntxt = 0, ndm = 0, nmx = 0, i, nspf = 0;
	struct dns_mx *mx = NULL;
	enum dns_status st_mx, st_txt, st_dm;
	char *spf[16];

	if (!api_need_admin(a))
		return;
	if (api_query(a->req, "name", name, sizeof(name)) != 1 ||
	    !api_domain_ok(name)) {
		http_resp_error(a->r, 422, "not a valid domain name");
		return;
	}
	st_mx = dns_lookup_mx(name, &mx, &nmx);
	for (i = 0; i < nmx && i < 16; i++)
		mxs[i] = mx[i].host;
	if (nmx > 16)
		nmx = 16;
	st_txt = dns_lookup_txt(name, &txt, &ntxt);
	for (i = 0; i < ntxt && nspf < 16; i++)
		if (strncmp(txt[i], "v=spf1", 6) == 0)
			spf[nspf++] = txt[i];
	snprintf(dmarc_name, sizeof(dmarc_name), "_dmarc.%s", name);
	st_dm = dns_lookup_txt(dmarc_name, &dm, &ndm);
	buf_reset(b);
	bput(b, "{\"domain\":");
	bjson(b, name);
	bput(b, ",\"records\":[");
	api_dns_expect(b, "MX", name, c->hostname, mxs, nmx,
	    dns_status_name(st_mx));
	bput(b, ",");
	api_dns_expect(b, "TXT", name, "v=spf1 mx -all", spf, nspf,
	    dns_status_name(st_txt));
	bput(b, ",");
	snprintf(want, sizeof(want), "v=DMARC1; p=quarantine; rua=mailto:"
	    "postmaster@%s", name);
	api_dns_expect(b, "TXT", dmarc_name, want, dm, ndm,
	    dns_status_name(st_dm));
	api_dns_dkim(a, b, name);
	bput(b, "]}");
	free(mx);
	dns_txt_free(txt, ntxt);
	dns_txt_free(dm, ndm);
}

/* ---- users ----------------------------------------------------------- */

static void
api_users_get(struct api_call *a)
{
	const struct conf *c = a->x->srv->conf;
	struct dir_list l = { 0 };
	struct buf *b = &a->r->body;
	char domain[256];
	const char *err = NULL;
	size_t i;
	int hasdom;

	if (!api_need_admin(a))
		return;
	hasdom = api_query(a->req, "domain", domain, sizeof(domain)) == 1;
	if (dir_user_list(a->x->srv->dir, hasdom ? domain : NULL, &l,
	    &err) < 0) {
		api_dir_fail(a, FERR_TEMP, err);
		return;
	}
	buf_reset(b);
	bput(b, "[");
	for (i = 0; i < l.nrows; i++) {
		const char *email = l.rows[i * l.ncols];
		uint64_t quota = 0;
		char md[4096];
		struct quota_state q;
		long long used = -1;

		if (l.ncols > 1)
			if (str_to_u64(l.rows[i * l.ncols + 1], &quota) < 0)
				quota = 0;
		if (store_user_maildir(c->mail_root, email, md,
		    sizeof(md)) == 0 && access(md, F_OK) == 0 &&
		    quota_get(md, quota, &q) == FERR_NONE)
			used = q.bytes;
		bput(b, i ? ",{\"email\":" : "{\"email\":");
		bjson(b, email);
		bprintf(b, ",\"quota\":%llu,\"used\":%lld}",
		    (unsigned long long)quota, used);
	}
	bput(b, "]");
	dir_list_free(&l);
}

static int
api_quota_value(struct api_call *a, uint64_t *q_r)
{
	const char *v = a->has_body ? json_get_raw(&a->body, "quota") : NULL;

	*q_r = 0;
	if (v == NULL || *v == '\0' || strcmp(v, "null") == 0)
		return 0;
	if (str_to_size(v, q_r) < 0 || *q_r > 2147483647ULL) {
		http_resp_error(a->r, 422, "quota must be a number of bytes "
		    "(suffix k, M, G), at most 2G (0 = none)");
		return -1;
	}
	return 0;
}

static void
api_users_post(struct api_call *a)
{
	const struct conf *c = a->x->srv->conf;
	const char *email, *pw, *err = NULL;
	char lower[DIR_ADDR_MAX + 1], md[4096], *hash;
	enum ferr fe = FERR_NONE;
	uint64_t quota;

	if (!api_need_admin(a))
		return;
	email = api_field(a, "email");
	if (email == NULL)
		return;
	pw = api_field(a, "password");
	if (pw == NULL)
		return;
	if (!api_addr_ok(email, false)) {
		http_resp_error(a->r, 422, "not a valid mailbox address");
		return;
	}
	if (!api_password_ok(a, pw) || api_quota_value(a, &quota) < 0)
		return;
	str_copy(lower, email, sizeof(lower));
	str_lower(lower);
	hash = api_hash_password(a, pw);
	if (hash == NULL)
		return;
	if (dir_user_add(a->x->srv->dir, lower, hash, quota, &fe, &err) < 0) {
		free(hash);
		api_dir_fail(a, fe, err);
		return;
	}
	free(hash);
	if (store_user_maildir(c->mail_root, lower, md, sizeof(md)) == 0)
		(void)store_user_ensure(md);
	log_info("%016llx http user-add email=%s by=\"%s\"", a->x->sid, lower,
	    a->sess.name);
	api_ok(a);
	a->r->status = 201;
}

static void
api_users_password(struct api_call *a)
{
	const char *email, *pw, *err = NULL;
	enum ferr fe = FERR_NONE;
	char *hash;

	if (!a->logged_in) {
		http_resp_error(a->r, 401, "login required");
		return;
	}
	email = api_field(a, "email");
	if (email == NULL)
		return;
	pw = api_field(a, "password");
	if (pw == NULL)
		return;
	if (!a->sess.admin) {
		const char *cur = json_get(&a->body, "current");
		struct dir_user u;

		if (!str_ieq(email, a->sess.name)) {
			http_resp_error(a->r, 403, "you may only change your "
			    "own password");
			return;
		}
		if (cur == NULL || dir_login(a->x->srv->dir, a->sess.name, cur,
		    strlen(cur), a->x->ip, &u) != DIR_LOGIN_OK) {
			usleep(a->x->srv->conf->auth_fail_delay_ms * 1000);
			http_resp_error(a->r, 403, "the current password is "
			    "wrong");
			return;
		}
	}
	if (!api_password_ok(a, pw))
		return;
	hash = api_hash_password(a, pw);
	if (hash == NULL)
		return;
	if (dir_user_set_password(a->x->srv->dir, email, hash, &fe,
	    &err) < 0) {
		free(hash);
		api_dir_fail(a, fe, err);
		return;
	}
	free(hash);
	/* a changed password ends the other sessions of that account */
	websess_del_name_except(email, a->sess.token);
	log_info("%016llx http user-passwd email=\"%s\" by=\"%s\"", a->x->sid,
	    email, a->sess.name);
	api_ok(a);
}

static void
api_users_quota(struct api_call *a)
{
	const char *email, *err = NULL;
	enum ferr fe = FERR_NONE;
	uint64_t quota;

	if (!api_need_admin(a))
		return;
	email = api_field(a, "email");
	if (email == NULL || api_quota_value(a, &quota) < 0)
		return;
	if (dir_user_set_quota(a->x->srv->dir, email, quota, &fe, &err) < 0) {
		api_dir_fail(a, fe, err);
		return;
	}
	api_ok(a);
}

static void
api_users_delete(struct api_call *a)
{
	char email[DIR_ADDR_MAX + 1];
	const char *err = NULL;
	enum ferr fe = FERR_NONE;

	if (!api_need_admin(a))
		return;
	if (api_query(a->req, "email", email, sizeof(email)) != 1) {
		http_resp_error(a->r, 422, "missing email");
		return;
	}
	if (dir_user_del(a->x->srv->dir, email, &fe, &err) < 0) {
		api_dir_fail(a, fe, err);
		return;
	}
	websess_del_name(email);
	log_info("%016llx http user-del email=\"%s\" by=\"%s\" (Maildir kept)",
	    a->x->sid, email, a->sess.name);
	api_ok(a);
}

/* ---- aliases --------------------------------------------------------- */

static void
api_list_json(struct api_call *a, const struct dir_list *l,
    const char *const *names)
{
	struct buf *b = &a->r->body;
	size_t i, j;

	buf_reset(b);
	bput(b, "[");
	for (i = 0; i < l->nrows; i++) {
		bput(b, i ? ",{" : "{");
		for (j = 0; j < l->ncols && names[j] != NULL; j++) {
			bprintf(b, "%s\"%s\":", j ? "," : "",
			    names[j]);
			bjson(b, l->rows[i * l->ncols + j]);
		}
		bput(b, "}");
	}
	bput(b, "]");
}

static void
api_aliases_get(struct api_call *a)
{
	static const char *const names[] = { "source", "destination", NULL };
	struct dir_list l = { 0 };
	const char *err = NULL;

	if (!api_need_admin(a))
		return;
	if (dir_alias_list(a->x->srv->dir, NULL, &l, &err) < 0) {
		api_dir_fail(a, FERR_TEMP, err);
		return;
	}
	api_list_json(a, &l, names);
	dir_list_free(&l);
}

static void
api_aliases_post(struct api_call *a)
{
	const char *src, *dests, *err = NULL;
	char lower[DIR_ADDR_MAX + 1], *copy, *save = NULL, *tok;
	enum ferr fe = FERR_NONE;
	int added = 0;

	if (!api_need_admin(a))
		return;
	src = api_field(a, "source");
	if (src == NULL)
		return;
	dests = api_field(a, "destinations");
	if (dests == NULL)
		return;
	if (!api_addr_ok(src, true)) {
		http_resp_error(a->r, 422, "the source must be user@domain or "
		    "@domain (catch-all)");
		return;
	}
	str_copy(lower, src, sizeof(lower));
	str_lower(lower);
	copy = strdup(dests);
	if (copy == NULL) {
		http_resp_error(a->r, 500, "out of memory");
		return;
	}
	/* validate every destination before adding any */
	for (tok = strtok_r(copy, ", \t\r\n", &save); tok != NULL;
	    tok = strtok_r(NULL, ", \t\r\n", &save)) {
		if (!api_addr_ok(tok, false)) {
			char msg[400], esc[200];

			snprintf(msg, sizeof(msg), "not a valid address: %s",
			    log_esc(esc, sizeof(esc), tok, strlen(tok)));
			http_resp_error(a->r, 422, msg);
			free(copy);
			return;
		}
		added++;
	}
	free(copy);
	if (added == 0) {
		http_resp_error(a->r, 422, "give at least one destination");
		return;
	}
	copy = strdup(dests);
	save = NULL;
	for (tok = strtok_r(copy, ", \t\r\n", &save); tok != NULL;
	    tok = strtok_r(NULL, ", \t\r\n", &save)) {
		if (dir_alias_add(a->x->srv->dir, lower, tok, &fe, &err) < 0 &&
		    fe != FERR_EXISTS) {
			free(copy);
			api_dir_fail(a, fe, err);
			return;
		}
	}
	free(copy);
	log_info("%016llx http alias-add source=\"%s\" by=\"%s\"", a->x->sid,
	    lower, a->sess.name);
	api_ok(a);
	a->r->status = 201;
}

static void
api_aliases_delete(struct api_call *a)
{
	char src[DIR_ADDR_MAX + 1], dst[DIR_ADDR_MAX + 1];
	const char *err = NULL;
	enum ferr fe = FERR_NONE;
	int hasdst;

	if (!api_need_admin(a))
		return;
	if (api_query(a->req, "source", src, sizeof(src)) != 1) {
		http_resp_error(a->r, 422, "missing source");
		return;
	}
	hasdst = api_query(a->req, "destination", dst, sizeof(dst)) == 1;
	if (dir_alias_del(a->x->srv->dir, src, hasdst ? dst : NULL, &fe,
	    &err) < 0) {
		api_dir_fail(a, fe, err);
		return;
	}
	api_ok(a);
}

/* ---- queue ----------------------------------------------------------- */

static void
api_queue_get(struct api_call *a)
{
	const char *qdir = a->x->srv->conf->queue_dir;
	struct buf *b = &a->r->body;
	char **ids = NULL;
	size_t n = 0, i, j, shown = 0;

	if (!api_need_admin(a))
		return;
	if (qfile_list(qdir, &ids, &n) < 0) {
		http_resp_error(a->r, 500, "cannot read the queue");
		return;
	}
	buf_reset(b);
	bput(b, "[");
	for (i = 0; i < n && shown < 500; i++) {
		struct qenv e;
		const char *why = NULL;

		if (qenv_load(qdir, ids[i], &e, &why) != 1)
			continue;
		bput(b, shown++ ? ",{\"id\":" : "{\"id\":");
		bjson(b, e.id);
		bput(b, ",\"sender\":");
		bjson(b, e.sender);
		bprintf(b, ",\"size\":%llu,\"arrival\":%lld,"
		    "\"rcpts\":[", (unsigned long long)e.size,
		    (long long)e.arrival);
		for (j = 0; j < e.nrcpts; j++) {
			const struct qrcpt *r = &e.rcpts[j];

			bput(b, j ? ",{\"addr\":" : "{\"addr\":");
			bjson(b, r->addr);
			bprintf(b, ",\"state\":\"%s\",\"attempts\":%u,"
			    "\"next\":%lld,\"diag\":",
			    qrcpt_state_name(r->state), r->attempts,
			    (long long)r->next_try);
			bjson(b, r->diag != NULL ? r->diag : "");
			bput(b, "}");
		}
		bput(b, "]}");
		qenv_free(&e);
	}
	bput(b, "]");
	qfile_list_free(ids, n);
}

static void
api_queue_retry(struct api_call *a)
{
	const char *qdir = a->x->srv->conf->queue_dir;
	const char *id, *why = NULL;
	struct qenv e;
	size_t j;

	if (!api_need_admin(a))
		return;
	id = api_field(a, "id");
	if (id == NULL)
		return;
	if (!qfile_valid_id(id) || qenv_load(qdir, id, &e, &why) != 1) {
		http_resp_error(a->r, 404, "no such queued message");
		return;
	}
	for (j = 0; j < e.nrcpts; j++)
		if (e.rcpts[j].state == QR_DEFERRED ||
		    e.rcpts[j].state == QR_PENDING)
			e.rcpts[j].next_try = 0;
	/* qenv_update: never brings back a message delivered meanwhile */
	switch (qenv_update(qdir, &e)) {
	case 1:
		break;
	case 0:
		qenv_free(&e);
		http_resp_error(a->r, 404, "the message left the queue "
		    "meanwhile");
		return;
	default:
		qenv_free(&e);
		http_resp_error(a->r, 500, "cannot update the queue entry");
		return;
	}
	qenv_free(&e);
	queue_kick();
	log_info("%016llx http queue-retry id=%s by=\"%s\"", a->x->sid, id,
	    a->sess.name);
	api_ok(a);
}

static void
api_queue_delete(struct api_call *a)
{
	char id[QUEUE_ID_MAX + 1];

	if (!api_need_admin(a))
		return;
	if (api_query(a->req, "id", id, sizeof(id)) != 1 ||
	    !qfile_valid_id(id)) {
		http_resp_error(a->r, 422, "bad queue id");
		return;
	}
	if (qfile_remove(a->x->srv->conf->queue_dir, id) < 0) {
		http_resp_error(a->r, 404, "no such queued message");
		return;
	}
	log_info("%016llx http queue-delete id=%s by=\"%s\"", a->x->sid, id,
	    a->sess.name);
	api_ok(a);
}

/* ---- admins ---------------------------------------------------------- */

static void
api_admins_get(struct api_call *a)
{
	static const char *const names[] = { "name", NULL };
	struct dir_list l = { 0 };
	const char *err = NULL;

	if (!api_need_admin(a))
		return;
	if (dir_admin_list(a->x->srv->dir, &l, &err) < 0) {
		api_dir_fail(a, FERR_TEMP, err);
		return;
	}
	api_list_json(a, &l, names);
	dir_list_free(&l);
}

static bool
api_admin_name_ok(const char *n)
{
	size_t i, len = strlen(n);

	if (len == 0 || len > 64)
		return false;
	for (i = 0; i < len; i++) {
		char c = n[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_'))
			return false;
	}
	return true;
}

static void
api_admins_post(struct api_call *a)
{
	const char *name, *pw, *err = NULL;
	enum ferr fe = FERR_NONE;
	char *hash;

	if (!api_need_admin(a))
		return;
	name = api_field(a, "name");
	if (name == NULL)
		return;
	pw = api_field(a, "password");
	if (pw == NULL)
		return;
	if (!api_admin_name_ok(name)) {
		http_resp_error(a->r, 422, "admin names use letters, digits, "
		    "'.', '-' and '_' (at most 64)");
		return;
	}
	if (!api_password_ok(a, pw))
		return;
	hash = api_hash_password(a, pw);
	if (hash == NULL)
		return;
	if (dir_admin_add(a->x->srv->dir, name, hash, &fe, &err) < 0) {
		free(hash);
		api_dir_fail(a, fe, err);
		return;
	}
	free(hash);
	api_ok(a);
	a->r->status = 201;
}

static void
api_admins_delete(struct api_call *a)
{
	char name[128];
	const char *err = NULL;
	enum ferr fe = FERR_NONE;

	if (!api_need_admin(a))
		return;
	if (api_query(a->req, "name", name, sizeof(name)) != 1) {
		http_resp_error(a->r, 422, "missing name");
		return;
	}
	if (strcmp(name, a->sess.name) == 0) {
		http_resp_error(a->r, 409, "you cannot delete your own account");
		return;
	}
	if (dir_admin_del(a->x->srv->dir, name, &fe, &err) < 0) {
		api_dir_fail(a, fe, err);
		return;
	}
	websess_del_name(name);
	api_ok(a);
}

/* ---- dispatch -------------------------------------------------------- */

struct api_route {
	const char	*method;
	const char	*path;
	void		(*fn)(struct api_call *);
};

static const struct api_route api_routes[] = {
	{ "POST", "/api/login", api_login },
	{ "POST", "/api/logout", api_logout },
	{ "GET", "/api/dashboard", api_dashboard },
	{ "GET", "/api/domains", api_domains_get },
	{ "POST", "/api/domains", api_domains_post },
	{ "DELETE", "/api/domains", api_domains_delete },
	{ "GET", "/api/domains/dns", api_domains_dns },
	{ "GET", "/api/users", api_users_get },
	{ "POST", "/api/users", api_users_post },
	{ "POST", "/api/users/password", api_users_password },
	{ "POST", "/api/users/quota", api_users_quota },
	{ "DELETE", "/api/users", api_users_delete },
	{ "GET", "/api/aliases", api_aliases_get },
	{ "POST", "/api/aliases", api_aliases_post },
	{ "DELETE", "/api/aliases", api_aliases_delete },
	{ "GET", "/api/queue", api_queue_get },
	{ "POST", "/api/queue/retry", api_queue_retry },
	{ "DELETE", "/api/queue", api_queue_delete },
	{ "GET", "/api/admins", api_admins_get },
	{ "POST", "/api/admins", api_admins_post },
	{ "DELETE", "/api/admins", api_admins_delete },
};

/* api_origin_ok: no Origin, or Origin "https://<Host>". */
static bool
api_origin_ok(const struct http_req *req)
{
	char want[300];

	if (req->origin[0] == '\0')
		return true;
	snprintf(want, sizeof(want), "https://%s", req->host);
	return str_ieq(req->origin, want);
}

void
http_api(struct http_ctx *x, const struct http_req *req, const char *body,
    size_t bodylen, struct http_resp *r)
{
	struct api_call a;
	char token[WEBSESS_TOKEN_LEN + 8];
	bool path_known = false, changing;
	size_t i;

	if (api_started == 0)
		api_started = time(NULL);
	memset(&a, 0, sizeof(a));
	a.x = x;
	a.req = req;
	a.r = r;
	r->no_store = true;
	r->head_only = false;
	if (http_cookie_get(req, API_COOKIE, token, sizeof(token)) == 1 &&
	    websess_get(token, &a.sess) == 1)
		a.logged_in = true;
	if (strcmp(req->path, "/api/session") == 0 &&
	    strcmp(req->method, "GET") == 0) {
		if (!a.logged_in)
			http_resp_error(r, 401, "login required");
		else
			api_session_json(&a, &a.sess);
		return;
	}
	changing = strcmp(req->method, "GET") != 0 &&
	    strcmp(req->method, "HEAD") != 0;
	for (i = 0; i < sizeof(api_routes) / sizeof(api_routes[0]); i++) {
		const struct api_route *rt = &api_routes[i];

		if (strcmp(rt->path, req->path) != 0)
			continue;
		path_known = true;
		if (strcmp(rt->method, req->method) != 0)
			continue;
		if (changing) {
			if (!api_origin_ok(req)) {
				http_resp_error(r, 403, "cross-origin request "
				    "refused");
				return;
			}
			if (strcmp(req->method, "POST") == 0 &&
			    strncmp(req->content_type, "application/json",
			    16) != 0) {
				http_resp_error(r, 415, "send JSON "
				    "(Content-Type: application/json)");
				return;
			}
			if (rt->fn != api_login) {
				if (!a.logged_in) {
					http_resp_error(r, 401,
					    "login required");
					return;
				}
				if (strlen(req->csrf) != 32 ||
				    CRYPTO_memcmp(req->csrf, a.sess.csrf,
				    32) != 0) {
					http_resp_error(r, 403, "missing or "
					    "wrong CSRF token");
					return;
				}
			}
			if (strcmp(req->method, "POST") == 0) {
				const char *why = NULL;

				if (json_parse_object(body, bodylen, &a.body,
				    &why) < 0) {
					char msg[128];

					snprintf(msg, sizeof(msg), "bad JSON: "
					    "%s", why);
					http_resp_error(r, 400, msg);
					return;
				}
				a.has_body = true;
			}
		}
		api_overflow = false;
		rt->fn(&a);
		if (api_overflow)
			http_resp_error(r, 500, "reply too large");
		return;
	}
	if (path_known) {
		http_resp_error(r, 405, "method not allowed");
		return;
	}
	http_resp_error(r, 404, "no such API endpoint");
}
