/*
 * fuzz_dns - the DNS answer parser (dns_parse) and the CNAME-following
 * collector on arbitrary bytes: no crash, no leak, no endless loop on
 * compression pointer games.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "net/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t types[] = { DNS_T_A, DNS_T_AAAA, DNS_T_MX,
	    DNS_T_TXT, DNS_T_CNAME };
	struct dns_msg m;
	const struct dns_rr *out[DNS_MAX_RRS];
	const char *why, *final;

	if (dns_parse(data, size, &m, &why) < 0)
		return 0;
	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		size_t n = dns_collect(&m, m.qname[0] != '\0' ? m.qname :
		    "example.org", types[t], out, DNS_MAX_RRS, &final);

		for (size_t i = 0; i < n; i++) {
			/* touch what a caller reads */
			if (out[i]->type == DNS_T_TXT && out[i]->txt != NULL &&
			    out[i]->txtlen > 0 &&
			    out[i]->txt[out[i]->txtlen] != '\0')
				__builtin_trap();
			if (strlen(out[i]->host) > DNS_NAME_MAX)
				__builtin_trap();
		}
		if (strlen(final) > DNS_NAME_MAX)
			__builtin_trap();
	}
	dns_msg_free(&m);
	return 0;
}
