/*
 * fuzz_dkim_sig - DKIM-Signature tag lists, key records and DMARC
 * records on arbitrary bytes, then the input as a whole message through
 * dkim_verify (fake DNS with the RFC 8463 keys), header/body
 * canonicalization and Authentication-Results stripping.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "mailauth/canon.h"
#include "mailauth/dkim.h"
#include "mailauth/dmarc.h"
#include "mailauth/mailauth.h"
#include "mailauth/resolve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static enum dns_status
fz_txt(void *arg, const char *name, char ***txt_r, size_t *n_r)
{
	(void)arg;
	*txt_r = xcalloc(1, sizeof(char *));
	(*txt_r)[0] = xstrdup(name[0] == 'b' ?
	    "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=" :
	    "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWR"
	    "iGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutAC"
	    "DfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3"
	    "Ip3G+2kryOTIKT+l/K4w3QIDAQAB");
	*n_r = 1;
	return DNS_OK;
}

static const struct resolve fz_dns = { fz_txt, NULL, NULL, NULL, NULL };

static void
fz_sink(void *arg, const void *p, size_t n)
{
	size_t *total = arg;

	(void)p;
	*total += n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *why;
	struct dkim_sig *sig;
	struct dkim_key key;
	struct dmarc_record dm;
	struct dkim_verdict v[DKIM_MAX_SIGS];
	struct canon_body cb;
	struct buf b;
	size_t n = 0, total = 0, skip;
	uint64_t len;

	sig = xmalloc(sizeof(*sig));
	(void)dkim_sig_parse(s, size, sig, &why);
	free(sig);
	(void)dkim_key_parse(s, size, &key, &why);
	(void)dmarc_parse(s, size, &dm, &why);

	buf_init(&b, 1 << 20);
	(void)canon_header(CANON_RELAXED, s, size, true, &b);
	buf_reset(&b);
	(void)canon_header(CANON_SIMPLE, s, size, false, &b);
	canon_body_init(&cb, size % 2 ? CANON_RELAXED : CANON_SIMPLE, fz_sink,
	    &total, size % 3 == 0, size / 2);
	canon_body_update(&cb, s, size);
	len = canon_body_final(&cb);
	if (total > len)
		abort();

	(void)dkim_verify(&fz_dns, s, size, 1528637909, v, DKIM_MAX_SIGS, &n);
	buf_reset(&b);
	(void)mailauth_ar_strip("mx.example.net", s, size, &b, &skip);
	if (skip > size)
		abort();
	buf_free(&b);
	return 0;
}
