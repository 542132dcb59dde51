/*
 * tls - TLS contexts (OpenSSL 3): a server context from the configured
 * certificate chain and key, TLS 1.2+ with strong ciphers only, and a
 * client context for outbound delivery.
 */
#ifndef NET_TLS_H
#define NET_TLS_H

struct tls_ctx;

/* tls_init: once per process before threads start. */
void tls_init(void);
/*
 * tls_server_new: load cert (full chain PEM) and key. min_version
 * "TLSv1.2" or "TLSv1.3". NULL + error_r (static text plus the OpenSSL
 * reason) when the files are missing, unreadable or do not match.
 */
struct tls_ctx *tls_server_new(const char *cert, const char *key,
    const char *min_version, const char **error_r);
/* tls_client_new: for outbound SMTP; loads the system CA store. */
struct tls_ctx *tls_client_new(const char **error_r);
void tls_ctx_free(struct tls_ctx **ctx);

#endif
