/*
 * fuzz_dkim_sig - DKIM-Signature tag lists, key records and DMARC
 * records on arbitrary bytes, then the input as a whole message through
 * dkim_verify (fake DNS with the RFC 8463 keys), header/body
 * canonicalization, Authentication-Results stripping and the whole
 * inbound check (mailauth_check with fake SPF/DMARC records).
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
	*n_r = 1;
	if (strncmp(name, "_dmarc.", 7) == 0) {
		(*txt_r)[0] = xstrdup("v=DMARC1; p=reject; sp=none; pct=50");
		return DNS_OK;
	}
	if (strstr(name, "._domainkey.") == NULL) {
		(*txt_r)[0] = xstrdup("v=spf1 ip4:192.0.2.0/24 a mx ptr "
		    "include:%{d2} ~all");
		return DNS_OK;
	}
	(*txt_r)[0] = xstrdup(name[0] == 'b' ?
	    "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=" :
	    "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWR"
	    "iGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutAC"
	    "DfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3"
	    "Ip3G+2kryOTIKT+l/K4w3QIDAQAB");
	return DNS_OK;
}

static enum dns_status
fz_addr(void *arg, const char *name, int family, struct dns_addr *out,
    size_t max, size_t *n_r)
{
	(void)arg;
	(void)name;
	(void)family;
	(void)out;
	(void)max;
	*n_r = 0;
	return DNS_NODATA;
}

static enum dns_status
fz_mx(void *arg, const char *name, struct dns_mx **mx_r, size_t *n_r)
{
	(void)arg;
	(void)name;
	*mx_r = NULL;
	*n_r = 0;
	return DNS_NXDOMAIN;
}

static enum dns_status
fz_ptr(void *arg, const struct dns_addr *a, char ***names_r, size_t *n_r)
{
	(void)arg;
	(void)a;
	*names_r = NULL;
	*n_r = 0;
	return DNS_TEMP;
}

static const struct resolve fz_dns = { fz_txt, fz_addr, fz_mx, fz_ptr,
    NULL };

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

	/* the whole inbound check on the input as a message */
	{
		struct mailauth_ctx mc;
		struct buf head;
		const char *reply;

		memset(&mc, 0, sizeof(mc));
		mc.hostname = "mx.example.net";
		mc.dns = &fz_dns;
		mc.dmarc_reject = true;
		mc.now = 1528637909;
		mc.pct_roll = (int)(size % 100);
		buf_init(&head, MAILAUTH_HEAD_MAX);
		(void)mailauth_check(&mc, "192.0.2.1", "helo.example",
		    size % 2 ? "" : "joe@football.example.com", s, size,
		    &head, &skip, &reply, NULL);
		if (skip > size)
			abort();
		buf_free(&head);
	}
	return 0;
}
