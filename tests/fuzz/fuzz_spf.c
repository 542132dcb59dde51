/*
 * fuzz_spf - SPF record parsing, macro expansion and check_host() on
 * arbitrary bytes. The fake DNS answers every TXT query with the input
 * itself, so include/redirect recurse into the same record: the lookup
 * limits must end every evaluation, with no crash, leak or long loop.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/xmalloc.h"
#include "mailauth/resolve.h"
#include "mailauth/spf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *fz_rec;

static enum dns_status
fz_txt(void *arg, const char *name, char ***txt_r, size_t *n_r)
{
	(void)arg;
	if (name[0] == 't')
		return DNS_TEMP;
	*txt_r = xcalloc(1, sizeof(char *));
	(*txt_r)[0] = xstrdup(fz_rec);
	*n_r = 1;
	return DNS_OK;
}

static enum dns_status
fz_addr(void *arg, const char *name, int family, struct dns_addr *out,
    size_t max, size_t *n_r)
{
	(void)arg;
	*n_r = 0;
	if (max == 0 || strlen(name) % 3 == 0)
		return DNS_NXDOMAIN;
	memset(out, 0, sizeof(*out));
	out->family = family;
	out->addr[0] = 192;
	out->addr[3] = (uint8_t)strlen(name);
	*n_r = 1;
	return DNS_OK;
}

static enum dns_status
fz_mx(void *arg, const char *name, struct dns_mx **mx_r, size_t *n_r)
{
	size_t n = strlen(name) % 13, i;

	(void)arg;
	*mx_r = NULL;
	*n_r = 0;
	if (n == 0)
		return DNS_NODATA;
	*mx_r = xcalloc(n, sizeof(**mx_r));
	for (i = 0; i < n; i++)
		strcpy((*mx_r)[i].host, i == 0 ? "mx.example.org" : "a.example");
	*n_r = n;
	return DNS_OK;
}

static enum dns_status
fz_ptr(void *arg, const struct dns_addr *a, char ***names_r, size_t *n_r)
{
	(void)arg;
	(void)a;
	*names_r = xcalloc(2, sizeof(char *));
	(*names_r)[0] = xstrdup("host.example.org");
	(*names_r)[1] = xstrdup("example.org.");
	*n_r = 2;
	return DNS_OK;
}

static const struct resolve fz_dns = { fz_txt, fz_addr, fz_mx, fz_ptr,
    NULL };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spf_record *r;
	struct spf_env env;
	char out[SPF_EXPAND_MAX], *s;
	const char *why;

	if (size > SPF_RECORD_MAX + 16)
		return 0;
	s = xmalloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	r = xmalloc(sizeof(*r));
	(void)spf_parse(s, size, r, &why);
	memset(&env, 0, sizeof(env));
	env.sender = "strong-bad@email.example.com";
	env.helo = "mx.example.org";
	env.domain = "email.example.com";
	(void)spf_parse_ip(size % 2 ? "192.0.2.3" : "2001:db8::cb01", &env.ip);
	(void)spf_expand(s, size, &env, size % 3 == 0, out, sizeof(out),
	    &why);
	/* evaluate the input as the record of every domain */
	fz_rec = s;
	(void)spf_check(&fz_dns, size % 2 ? "192.0.2.3" : "2001:db8::1",
	    "helo.example", "user@example.org", &why);
	free(r);
	free(s);
	return 0;
}
