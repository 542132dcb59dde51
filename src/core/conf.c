/*
 * conf - facteur.conf parser.
 *
 * Input: a file written by the administrator (trusted, but checked: every
 * error names file and line). Limits: lines up to 4096 bytes, file up to
 * 1 MiB.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/conf.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/str.h"
#include "core/strnum.h"
#include "core/xmalloc.h"

#define CONF_LINE_MAX	4096
#define CONF_FILE_MAX	(1024 * 1024)

enum conf_type {
	CT_STR, CT_LISTEN, CT_SIZE, CT_U32, CT_DURATION, CT_DURLIST, CT_BOOL,
	CT_LOGLEVEL, CT_TLSVER, CT_HOSTPORT, CT_DMARC
};

struct conf_key {
	const char	*name;
	enum conf_type	 type;
	size_t		 off;
	const char	*def;
};

#define K(n, t, d) { #n, t, offsetof(struct conf, n), d }
static const struct conf_key conf_keys[] = {
	K(hostname, CT_STR, "localhost"),
	K(smtp_listen, CT_LISTEN, "[::]:25"),
	K(smtps_listen, CT_LISTEN, "[::]:465"),
	K(submission_listen, CT_LISTEN, "[::]:587"),
	K(imaps_listen, CT_LISTEN, "[::]:993"),
	K(imap_listen, CT_LISTEN, ""),
	K(pop3s_listen, CT_LISTEN, "[::]:995"),
	K(pop3_listen, CT_LISTEN, ""),
	K(admin_listen, CT_LISTEN, "[::]:8443"),
	K(tls_cert, CT_STR, "/etc/facteur/tls/fullchain.pem"),
	K(tls_key, CT_STR, "/etc/facteur/tls/privkey.pem"),
	K(tls_min_version, CT_TLSVER, "TLSv1.2"),
	K(db_socket, CT_STR, "/run/mysqld/mysqld.sock"),
	K(db_host, CT_STR, ""),
	K(db_port, CT_U32, "3306"),
	K(db_name, CT_STR, "mailserver"),
	K(db_user, CT_STR, "facteur"),
	K(db_password_file, CT_STR, "/etc/facteur/db.password"),
	K(mail_root, CT_STR, "/var/vmail"),
	K(queue_dir, CT_STR, "/var/spool/facteur"),
	K(web_root, CT_STR, "/usr/share/facteur/web"),
	K(run_user, CT_STR, "vmail"),
	K(message_size_limit, CT_SIZE, "52428800"),
	K(max_connections, CT_U32, "10000"),
	K(max_connections_per_ip, CT_U32, "50"),
	K(relayhost, CT_HOSTPORT, ""),
	K(relayhost_auth_file, CT_STR, ""),
	K(queue_retry, CT_DURLIST, "1m, 5m, 15m, 30m, 1h, 2h, 4h"),
	K(queue_lifetime, CT_DURATION, "5d"),
	K(dns_server, CT_HOSTPORT, ""),
	K(log_level, CT_LOGLEVEL, "info"),
	K(auth_rehash, CT_BOOL, "yes"),
	K(auth_fail_delay_ms, CT_U32, "2000"),
	K(smtp_max_recipients, CT_U32, "1000"),
	K(smtp_max_errors, CT_U32, "20"),
	K(imap_idle_timeout, CT_DURATION, "30m"),
	K(dkim_sign, CT_BOOL, "yes"),
	K(dmarc_reject_policy, CT_DMARC, "reject"),
};
#undef K

#define CONF_NKEYS (sizeof(conf_keys) / sizeof(conf_keys[0]))

static int
conf_parse_bool(const char *v, bool *r)
{
	if (str_ieq(v, "yes") || str_ieq(v, "true") || strcmp(v, "1") == 0 ||
	    str_ieq(v, "on")) {
		*r = true;
		return 0;
	}
	if (str_ieq(v, "no") || str_ieq(v, "false") || strcmp(v, "0") == 0 ||
	    str_ieq(v, "off")) {
		*r = false;
		return 0;
	}
	return -1;
}

/* conf_check_hostport: "host:port", "[v6]:port"; port 1-65535. */
static int
conf_check_hostport(const char *v, int need_port)
{
	const char *colon;
	uint32_t port;

	if (*v == '[') {
		const char *end = strchr(v, ']');

		if (end == NULL || end == v + 1)
			return -1;
		if (end[1] == '\0')
			return need_port ? -1 : 0;
		if (end[1] != ':')
			return -1;
		colon = end + 1;
	} else {
		colon = strrchr(v, ':');
		if (colon == NULL)
			return need_port ? -1 : 0;
		if (colon == v || strchr(v, ':') != colon)
			return -1;
	}
	if (str_to_u32(colon + 1, &port) < 0 || port == 0 || port > 65535)
		return -1;
	return 0;
}

static int
conf_set(struct conf *c, const struct conf_key *k, const char *v,
    const char **why_r)
{
	void *field = (char *)c + k->off;
	uint64_t u64;
	uint32_t u32;

	switch (k->type) {
	case CT_STR:
		break;
	case CT_LISTEN:
		if (*v != '\0' && conf_check_hostport(v, 1) < 0) {
			*why_r = "expected [address]:port or address:port";
			return -1;
		}
		break;
	case CT_HOSTPORT:
		if (*v != '\0' && conf_check_hostport(v, 0) < 0) {
			*why_r = "expected host[:port]";
			return -1;
		}
		break;
	case CT_TLSVER:
		if (strcmp(v, "TLSv1.2") != 0 && strcmp(v, "TLSv1.3") != 0) {
			*why_r = "expected TLSv1.2 or TLSv1.3";
			return -1;
		}
		break;
	case CT_DMARC:
		if (strcmp(v, "reject") != 0 && strcmp(v, "accept") != 0) {
			*why_r = "expected reject or accept";
			return -1;
		}
		break;
	case CT_SIZE:
		if (str_to_size(v, &u64) < 0) {
			*why_r = "expected a size in bytes (suffix k, M, G)";
			return -1;
		}
		*(uint64_t *)field = u64;
		return 0;
	case CT_U32:
		if (str_to_u32(v, &u32) < 0) {
			*why_r = "expected a non-negative integer";
			return -1;
		}
		*(uint32_t *)field = u32;
		return 0;
	case CT_DURATION:
		if (str_to_duration(v, &u64) < 0) {
			*why_r = "expected a duration (30s, 5m, 2h, 5d)";
			return -1;
		}
		*(uint64_t *)field = u64;
		return 0;
	case CT_BOOL: {
		bool b;

		if (conf_parse_bool(v, &b) < 0) {
			*why_r = "expected yes or no";
			return -1;
		}
		if (k->off == offsetof(struct conf, dkim_sign))
			*(uint32_t *)field = b;
		else
			*(bool *)field = b;
		return 0;
	}
	case CT_LOGLEVEL: {
		enum log_level lvl;

		if (log_level_parse(v, &lvl) < 0) {
			*why_r = "expected debug, info, warn or error";
			return -1;
		}
		*(int *)field = (int)lvl;
		return 0;
	}
	case CT_DURLIST: {
		char *copy = xstrdup(v), *save = NULL, *tok;
		size_t n = 0;

		for (tok = strtok_r(copy, ", \t", &save); tok != NULL;
		    tok = strtok_r(NULL, ", \t", &save)) {
			if (n == CONF_MAX_RETRY) {
				free(copy);
				*why_r = "too many steps (at most 32)";
				return -1;
			}
			if (str_to_duration(tok, &u64) < 0 || u64 == 0) {
				free(copy);
				*why_r = "expected a list of durations (1m, 5m, 1h)";
				return -1;
			}
			c->queue_retry[n++] = u64;
		}
		free(copy);
		if (n == 0) {
			*why_r = "expected at least one duration";
			return -1;
		}
		c->queue_retry_count = n;
		return 0;
	}
	}
	free(*(char **)field);
	*(char **)field = xstrdup(v);
	return 0;
}

void
conf_defaults(struct conf *c)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < CONF_NKEYS; i++) {
		const char *why = NULL;

		if (conf_set(c, &conf_keys[i], conf_keys[i].def, &why) < 0)
			fatalx("conf: bad built-in default for %s: %s",
			    conf_keys[i].name, why);
	}
	c->path = xstrdup("(defaults)");
}

int
conf_parse_text(struct conf *c, const char *name, const char *text,
    size_t len, char *err, size_t errlen)
{
	size_t pos = 0;
	unsigned lineno = 0;

	free(c->path);
	c->path = xstrdup(name);
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		char line[CONF_LINE_MAX + 1], *eq, *key, *val, *hash;
		const char *why = NULL;
		size_t i;

		lineno++;
		if (n > CONF_LINE_MAX) {
			snprintf(err, errlen, "%s:%u: line too long", name,
			    lineno);
			return -1;
		}
		if (memchr(text + pos, '\0', n) != NULL) {
			snprintf(err, errlen, "%s:%u: NUL byte in line", name,
			    lineno);
			return -1;
		}
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos += n + (nl ? 1 : 0);
		if (n > 0 && line[n - 1] == '\r')
			line[n - 1] = '\0';
		hash = strchr(line, '#');
		if (hash != NULL)
			*hash = '\0';
		str_trim(line);
		if (line[0] == '\0')
			continue;
		eq = strchr(line, '=');
		if (eq == NULL) {
			snprintf(err, errlen, "%s:%u: expected key = value",
			    name, lineno);
			return -1;
		}
		*eq = '\0';
		key = str_trim(line);
		val = str_trim(eq + 1);
		for (i = 0; i < CONF_NKEYS; i++)
			if (strcmp(conf_keys[i].name, key) == 0)
				break;
		if (i == CONF_NKEYS) {
			char esc[128];

			snprintf(err, errlen, "%s:%u: unknown key \"%s\"",
			    name, lineno, log_esc(esc, sizeof(esc), key,
			    strlen(key)));
			return -1;
		}
		if (conf_set(c, &conf_keys[i], val, &why) < 0) {
			snprintf(err, errlen, "%s:%u: %s: %s", name, lineno,
			    key, why);
			return -1;
		}
	}
	return 0;
}

int
conf_load(struct conf *c, const char *path, char *err, size_t errlen)
{
	struct buf b;
	int rc;

	conf_defaults(c);
	buf_init(&b, CONF_FILE_MAX);
	rc = fs_read_file(path, &b);
	if (rc <= 0) {
		snprintf(err, errlen, "%s: %s", path,
		    rc == 0 ? "No such file or directory" :
		    errno == EFBIG ? "file too large" : strerror(errno));
		buf_free(&b);
		return -1;
	}
	rc = conf_parse_text(c, path, buf_cstr(&b), b.len, err, errlen);
	buf_free(&b);
	return rc;
}

void
conf_free(struct conf *c)
{
	size_t i;

	for (i = 0; i < CONF_NKEYS; i++) {
		enum conf_type t = conf_keys[i].type;

		if (t == CT_STR || t == CT_LISTEN || t == CT_HOSTPORT ||
		    t == CT_TLSVER || t == CT_DMARC) {
			char **f = (char **)((char *)c + conf_keys[i].off);

			free(*f);
			*f = NULL;
		}
	}
	free(c->path);
	c->path = NULL;
}

const char *
conf_default_path(void)
{
	const char *p = getenv("FACTEUR_CONF");

	return p != NULL && *p != '\0' ? p : "/etc/facteur/facteur.conf";
}
