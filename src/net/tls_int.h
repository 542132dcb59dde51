/* tls_int - private to net/: the OpenSSL context behind struct tls_ctx. */
#ifndef NET_TLS_INT_H
#define NET_TLS_INT_H

#include <openssl/ssl.h>

struct tls_ctx {
	SSL_CTX	*ctx;
	int	 server;
};

#endif
