/*
 * conf - facteur.conf: "key = value" lines, '#' comments, Postfix main.cf
 * style. Unknown keys and bad values are errors naming file and line.
 * Every key has a default (see conf/facteur.conf); a key given twice keeps
 * the last value, as Postfix does.
 *
 * To add a key: a field in struct conf, a row in conf.c's table, a line
 * with its default and a comment in conf/facteur.conf.
 */
#ifndef CORE_CONF_H
#define CORE_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONF_MAX_RETRY 32

struct conf {
	char	*path;			/* file it was read from */
	char	*hostname;
	char	*smtp_listen;		/* "" = disabled */
	char	*smtps_listen;
	char	*submission_listen;
	char	*imaps_listen;
	char	*imap_listen;
	char	*pop3s_listen;
	char	*pop3_listen;
	char	*admin_listen;
	char	*tls_cert;
	char	*tls_key;
	char	*tls_min_version;	/* "TLSv1.2" or "TLSv1.3" */
	char	*db_socket;
	char	*db_host;
	uint32_t db_port;
	char	*db_name;
	char	*db_user;
	char	*db_password_file;
	char	*mail_root;
	char	*queue_dir;
	char	*web_root;
	char	*run_user;
	uint64_t message_size_limit;
	uint32_t max_connections;
	uint32_t max_connections_per_ip;
	char	*relayhost;		/* "" or host:port */
	char	*relayhost_auth_file;	/* "user:password" one line */
	uint64_t queue_retry[CONF_MAX_RETRY];	/* seconds */
	size_t	 queue_retry_count;
	uint64_t queue_lifetime;	/* seconds */
	char	*dns_server;		/* "" or ip[:port] */
	int	 log_level;		/* enum log_level */
	bool	 auth_rehash;		/* rehash old schemes to ARGON2ID */
	uint32_t auth_fail_delay_ms;	/* delay before an auth failure reply */
	uint32_t smtp_max_recipients;
	uint32_t smtp_max_errors;
	uint64_t imap_idle_timeout;	/* seconds, RFC 3501: >= 30 min */
	uint32_t dkim_sign;		/* bool as 0/1 */
	char	*dmarc_reject_policy;	/* "reject" or "accept" */
};

/* conf_defaults: fill c with every default (allocated strings). */
void conf_defaults(struct conf *c);
/*
 * conf_load: defaults, then the file. Returns 0, or -1 with a message
 * "FILE:LINE: why" (or "FILE: why") in err (size errlen).
 */
int conf_load(struct conf *c, const char *path, char *err, size_t errlen);
/* conf_parse_text: like conf_load on an in-memory text (for tests/fuzz). */
int conf_parse_text(struct conf *c, const char *name, const char *text,
    size_t len, char *err, size_t errlen);
void conf_free(struct conf *c);
/* conf_default_path: $FACTEUR_CONF or /etc/facteur/facteur.conf. */
const char *conf_default_path(void);

#endif
