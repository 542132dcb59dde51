/*
 * tls - OpenSSL 3 contexts for the servers and the outbound client.
 *
 * Server: TLS 1.2 minimum (configurable to 1.3), forward-secret AEAD
 * ciphers only for 1.2, server cipher preference, no renegotiation, no
 * compression, no session tickets kept across processes (each worker
 * restart rotates the ticket key by OpenSSL's default). The full chain
 * from tls_cert is served.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "core/xmalloc.h"
#include "net/tls.h"
#include "net/tls_int.h"

#define TLS12_CIPHERS "ECDHE-ECDSA-AES128-GCM-SHA256:" \
	"ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:" \
	"ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:" \
	"ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:" \
	"DHE-RSA-AES256-GCM-SHA384"

void
tls_init(void)
{
	OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS |
	    OPENSSL_INIT_LOAD_CRYPTO_STRINGS, NULL);
}

static const char *
tls_errstr(const char *what)
{
	static __thread char buf[256];
	unsigned long e = ERR_get_error();
	char reason[160];

	if (e == 0)
		return what;
	ERR_error_string_n(e, reason, sizeof(reason));
	ERR_clear_error();
	snprintf(buf, sizeof(buf), "%s: %s", what, reason);
	return buf;
}

struct tls_ctx *
tls_server_new(const char *cert, const char *key, const char *min_version,
    const char **error_r)
{
	struct tls_ctx *t;
	SSL_CTX *ctx;

	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		*error_r = tls_errstr("SSL_CTX_new");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx,
	    strcmp(min_version, "TLSv1.3") == 0 ? TLS1_3_VERSION :
	    TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_NO_TICKET);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
	    SSL_MODE_ENABLE_PARTIAL_WRITE);
	if (SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1) {
		*error_r = tls_errstr("cipher list");
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"facteur",
	    7);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		*error_r = tls_errstr("cannot load tls_cert");
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		*error_r = tls_errstr("cannot load tls_key");
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		*error_r = tls_errstr("tls_key does not match tls_cert");
		SSL_CTX_free(ctx);
		return NULL;
	}
	t = xcalloc(1, sizeof(*t));
	t->ctx = ctx;
	t->server = 1;
	return t;
}

struct tls_ctx *
tls_client_new(const char **error_r)
{
	struct tls_ctx *t;
	SSL_CTX *ctx;

	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL) {
		*error_r = tls_errstr("SSL_CTX_new");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
	    SSL_MODE_ENABLE_PARTIAL_WRITE);
	/* opportunistic: verify, record the result, do not abort */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	(void)SSL_CTX_set_default_verify_paths(ctx);
	t = xcalloc(1, sizeof(*t));
	t->ctx = ctx;
	t->server = 0;
	return t;
}

void
tls_ctx_free(struct tls_ctx **ctx)
{
	if (*ctx == NULL)
		return;
	SSL_CTX_free((*ctx)->ctx);
	free(*ctx);
	*ctx = NULL;
}
