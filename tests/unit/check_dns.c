/*
 * check_dns - the DNS stub resolver: query building and the answer
 * parser on handcrafted packets (MX, A, AAAA, TXT, CNAME chains,
 * compression), hostile packets (truncation, bad lengths, pointer loops,
 * forward pointers, reserved label types), and dns_collect.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include "testutil.h"
#include "net/dns.h"

/* a tiny packet builder */
struct pkt {
	uint8_t	 b[2048];
	size_t	 n;
};

static void
p8(struct pkt *p, unsigned v)
{
	p->b[p->n++] = (uint8_t)v;
}

static void
p16(struct pkt *p, unsigned v)
{
	p8(p, (v >> 8) & 0xff);
	p8(p, v & 0xff);
}

static void
p32(struct pkt *p, uint32_t v)
{
	p16(p, v >> 16);
	p16(p, v & 0xffff);
}

/* "mail.example.org" as labels, root-terminated */
static void
pname(struct pkt *p, const char *name)
{
	while (*name != '\0') {
		const char *dot = strchr(name, '.');
		size_t l = dot != NULL ? (size_t)(dot - name) : strlen(name);

		p8(p, (unsigned)l);
		memcpy(p->b + p->n, name, l);
		p->n += l;
		name += l;
		if (*name == '.')
			name++;
	}
	p8(p, 0);
}

static void
pptr(struct pkt *p, unsigned off)
{
	p16(p, 0xc000 | off);
}

static void
phdr(struct pkt *p, unsigned id, unsigned flags, unsigned qd, unsigned an,
    unsigned ns, unsigned ar)
{
	p->n = 0;
	p16(p, id);
	p16(p, flags);
	p16(p, qd);
	p16(p, an);
	p16(p, ns);
	p16(p, ar);
}

/* header + question for name/type; the question name is at offset 12 */
static void
pquery(struct pkt *p, unsigned an, const char *name, unsigned type)
{
	phdr(p, 0x1234, 0x8180, 1, an, 0, 0);
	pname(p, name);
	p16(p, type);
	p16(p, 1);
}

/* record header with owner = pointer to the question name */
static void
prr(struct pkt *p, unsigned type, unsigned rdlen)
{
	pptr(p, 12);
	p16(p, type);
	p16(p, 1);
	p32(p, 3600);
	p16(p, rdlen);
}

START_TEST(test_query_build)
{
	uint8_t out[512];
	int n = dns_build_query(out, sizeof(out), 0xabcd, "Example.org.",
	    DNS_T_MX);
	static const uint8_t want[] = {
		0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
		7, 'E', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'o', 'r', 'g', 0,
		0, 15, 0, 1
	};

	ck_assert_int_eq(n, (int)sizeof(want));
	ck_assert(memcmp(out, want, sizeof(want)) == 0);
}
END_TEST

START_TEST(test_query_bad_names)
{
	uint8_t out[512];
	char big[300];

	ck_assert_int_lt(dns_build_query(out, sizeof(out), 1, "", 1), 0);
	ck_assert_int_lt(dns_build_query(out, sizeof(out), 1, "a..b", 1), 0);
	ck_assert_int_lt(dns_build_query(out, sizeof(out), 1, ".a", 1), 0);
	ck_assert_int_lt(dns_build_query(out, sizeof(out), 1, "a b.org", 1),
	    0);
	memset(big, 'a', 64);
	big[64] = '\0';
	ck_assert_int_lt(dns_build_query(out, sizeof(out), 1, big, 1), 0);
	big[63] = '\0';
	ck_assert_int_gt(dns_build_query(out, sizeof(out), 1, big, 1), 0);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (size_t i = 50; i < sizeof(big) - 1; i += 50)
		big[i] = '.';
	ck_assert_int_lt(dns_build_query(out, sizeof(out), 1, big, 1), 0);
	/* too small an output buffer */
	ck_assert_int_lt(dns_build_query(out, 20, 1, "example.org", 1), 0);
}
END_TEST

START_TEST(test_parse_mx)
{
	struct pkt p;
	struct dns_msg m;
	const char *why = NULL;
	size_t rd;

	pquery(&p, 2, "example.org", DNS_T_MX);
	/* 10 mx1.example.org (compressed suffix), 20 mx2.other.net */
	prr(&p, DNS_T_MX, 2 + 4 + 2);
	p16(&p, 10);
	p8(&p, 3);
	memcpy(p.b + p.n, "mx1", 3);
	p.n += 3;
	pptr(&p, 12);
	rd = p.n;
	prr(&p, DNS_T_MX, 0);
	p16(&p, 20);
	pname(&p, "MX2.Other.NET");
	/* patch the second rdlen */
	p.b[rd + 10] = 0;
	p.b[rd + 11] = (uint8_t)(p.n - rd - 12);
	ck_assert_int_eq(dns_parse(p.b, p.n, &m, &why), 0);
	ck_assert_uint_eq(m.id, 0x1234);
	ck_assert(m.qr);
	ck_assert(!m.tc);
	ck_assert_uint_eq(m.rcode, 0);
	ck_assert_str_eq(m.qname, "example.org");
	ck_assert_uint_eq(m.qtype, DNS_T_MX);
	ck_assert_uint_eq(m.nrrs, 2);
	ck_assert_str_eq(m.rrs[0].name, "example.org");
	ck_assert_uint_eq(m.rrs[0].pref, 10);
	ck_assert_str_eq(m.rrs[0].host, "mx1.example.org");
	ck_assert_uint_eq(m.rrs[0].ttl, 3600);
	ck_assert_uint_eq(m.rrs[1].pref, 20);
	ck_assert_str_eq(m.rrs[1].host, "mx2.other.net");
	dns_msg_free(&m);
}
END_TEST

START_TEST(test_parse_null_mx)
{
	struct pkt p;
	struct dns_msg m;
	const char *why;

	pquery(&p, 1, "nomail.example", DNS_T_MX);
	prr(&p, DNS_T_MX, 3);
	p16(&p, 0);
	p8(&p, 0);
	ck_assert_int_eq(dns_parse(p.b, p.n, &m, &why), 0);
	ck_assert_uint_eq(m.nrrs, 1);
	ck_assert_uint_eq(m.rrs[0].pref, 0);
	ck_assert_str_eq(m.rrs[0].host, "");
	dns_msg_free(&m);
}
END_TEST

START_TEST(test_parse_a_aaaa)
{
	struct pkt p;
	struct dns_msg m;
	const char *why;
	uint8_t v6[16];

	pquery(&p, 2, "host.example", DNS_T_A);
	prr(&p, DNS_T_A, 4);
	p8(&p, 192);
	p8(&p, 0);
	p8(&p, 2);
	p8(&p, 7);
	prr(&p, DNS_T_AAAA, 16);
	inet_pton(AF_INET6, "2001:db8::25", v6);
	memcpy(p.b + p.n, v6, 16);
	p.n += 16;
	ck_assert_int_eq(dns_parse(p.b, p.n, &m, &why), 0);
	ck_assert_uint_eq(m.nrrs, 2);
	ck_assert_uint_eq(m.rrs[0].type, DNS_T_A);
	ck_assert(memcmp(m.rrs[0].addr, "\xc0\x00\x02\x07", 4) == 0);
	ck_assert_uint_eq(m.rrs[1].type, DNS_T_AAAA);
	ck_assert(memcmp(m.rrs[1].addr, v6, 16) == 0);
	dns_msg_free(&m);
}
END_TEST

START_TEST(test_parse_a_bad_len)
{
	struct pkt p;
	struct dns_msg m;
	const char *why;

	pquery(&p, 1, "host.example", DNS_T_A);
	prr(&p, DNS_T_A, 5);
	p32(&p, 0x01020304);
	p8(&p, 5);
	ck_assert_int_eq(dns_parse(p.b, p.n, &m, &why), -1);
	ck_assert_uint_eq(m.nrrs, 0);
	ck_assert_ptr_null(m.rrs);
	pquery(&p, 1, "host.example", DNS_T_AAAA);
	prr(&p, DNS_T_AAAA, 4);
	p32(&p, 0x01020304);
	ck_assert_int_eq(dns_parse(p.b, p.n, &m, &why), -1);
}
END_TEST

START_TEST(test_parse_txt_multi)
{
	struct pkt p;
	struct dns_msg m;
	const char *why;

	pquery(&p, 2, "example.org", DNS_T_TXT);
	/* "v=spf1 " + "-all" as two strings, then an empty TXT */
	prr(&p, DNS_T_TXT, 1 + 7 + 1 + 4);
	p8(&p, 7);
	memcpy(p.b + p.n, "v=spf1 ", 7);
	p.n += 7;
	p8(&p, 4);
	memcpy(p.b + p.n, "-all", 4);
	p.n += 4;
	prr(&p, DNS_T_TXT, 1);
	p8(&p, 0);
	ck_assert_int_eq(dns_parse(p.b, p.n, &m, &why), 0);
	ck_assert_uint_eq(m.nrrs, 2);
	ck_assert_uint_eq(m.rrs[0].nstrings, 2);
	ck_assert_uint_eq(m.rrs[0].txtlen, 11);
	ck_assert_str_eq(m.rrs[0].txt, "v=spf1 -all");
	ck_assert_uint_eq(m.rrs[1].nstrings, 1);
	ck_assert_uint_eq(m.rrs[1].txtlen, 0);
	dns_msg_free(&m);
}
END_TEST

START_TEST(test_parse_txt_overrun)
{
	struct pkt p;
	struct dns_msg m;
	const char *why;

	pquery(&p, 1, "example.org", DNS_T_TXT);
	/* a string length that runs past rdlen (but not the packet) */
	prr(&p, DNS_T_TXT, 3);
	p8(&p, 10);
	p8(&p, 'a');
	p8(&p, 'b');
	for (int i = 0; i < 20; i++)
		p8(&p, 'x');
	ck_assert_int_eq(dns_parse(p.b, p.n, &m, &why), -1);
}
END_TEST

START_TEST(test_parse_cname_chain)
{
	struct pkt p;
	struct dns_msg m;
	const char *why, *final;
	const struct dns_rr *out[8];
	size_t off_alias, n;

	/* www.example.org CNAME alias.example.org; alias CNAME
	 * real.example.net; real.example.net A 192.0.2.1 */
	pquery(&p, 3, "www.example.org", DNS_T_A);
	prr(&p, DNS_T_CNAME, 8);
	off_alias = p.n;
	p8(&p, 5);
	memcpy(p.b + p.n, "alias", 5);
	p.n += 5;
	pptr(&p, 16);	/* "example.org" inside the question */
	pptr(&p, (unsigned)off_alias);
	p16(&p, DNS_T_CNAME);
	p16(&p, 1);
	p32(&p, 60);
	p16(&p, 18);
	pname(&p, "real.example.net");
	pname(&p, "real.example.net");
	p16(&p, DNS_T_A);
	p16(&p, 1);
	p32(&p, 60);
	p16(&p, 4);
	p32(&p, 0xc0000201);
	ck_assert_int_eq(dns_parse(p.b, p.n, &m, &why), 0);
	ck_assert_uint_eq(m.nrrs, 3);
	ck_assert_str_eq(m.rrs[0].host, "alias.example.org");
	ck_assert_str_eq(m.rrs[1].name, "alias.example.org");
	n = dns_collect(&m, "WWW.example.org.", DNS_T_A, out, 8, &final);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(final, "real.example.net");
	ck_assert(memcmp(out[0]->addr, "\xc0\x00\x02\x01", 4) == 0);
	/* a type absent at the end of the chain: final tells where */
	n = dns_collect(&m, "www.example.org", DNS_T_AAAA, out, 8, &final);
	ck_assert_uint_eq(n, 0);
	ck_assert_str_eq(final, "real.example.net");
	dns_msg_free(&m);
}
END_TEST

START_TEST(test_collect_cname_loop)
{
	struct pkt p;
	struct dns_msg m;
	const char *why, *final;
	const struct dns_rr *out[4];

	/* a.example CNAME b.example, b.example CNAME a.example */
	pquery(&p, 2, "a.example", DNS_T_A);
	prr(&p, DNS_T_CNAME, 11);
	pname(&p, "b.example");
	pname(&p, "b.example");
	p16(&p, DNS_T_CNAME);
	p16(&p, 1);
	p32(&p, 1);
	p16(&p, 11);
	pname(&p, "a.example");
	ck_assert_int_eq(dns_parse(p.b, p.n, &m, &why), 0);
	ck_assert_uint_eq(m.nrrs, 2);
	ck_assert_uint_eq(dns_collect(&m, "a.example", DNS_T_A, out, 4,
	    &final), 0);
	dns_msg_free(&m);
}
END_TEST

START_TEST(test_parse_pointer_loop)
{
	struct pkt p;
	struct dns_msg m;
	const char *why = NULL;

	/* the answer's owner name points at itself */
	pquery(&p, 1, "example.org", DNS_T_A);
	pptr(&p, (unsigned)p.n);
	p16(&p, DNS_T_A);
	p16(&p, 1);
	p32(&p, 1);
	p16(&p, 4);
	p32(&p, 1);
	ck_assert_int_eq(dns_parse(p.b, p.n, &m, &why), -1);
	ck_assert_ptr_nonnull(why);
}
END_TEST

START_TEST(test_parse_pointer_pingpong)
{
	struct pkt p;
	struct dns_msg m;
	const char *why;
	size_t a;

	/* label "x" then a pointer back to the label: x.x.x.x... */
	pquery(&p, 1, "example.org", DNS_T_A);
	a = p.n;
	p8(&p, 1);
	p8(&p, 'x');
	pptr(&p, (unsigned)a);
	p16(&p, DNS_T_A);
	p16(&p, 1);
	p32(&p, 1);
	p16(&p, 4);
	p32(&p, 1);
	ck_assert_int_eq(dns_parse(p.b, p.n, &m, &why), -1);
}
END_TEST

START_TEST(test_parse_pointer_forward)
{
	struct pkt p;
	struct dns_msg m;
	const char *why;

	/* a pointer to a later offset is refused */
	phdr(&p, 1, 0x8180, 1, 0, 0, 0);
	pptr(&p, 14);
	pname(&p, "example.org");
	p16(&p, 1);
	p16(&p, 1);
	ck_assert_int_eq(dns_parse(p.b, p.n, &m, &why), -1);
}
END_TEST

START_TEST(test_parse_reserved_label)
{
	struct pkt p;
	struct dns_msg m;
	const char *why;

	phdr(&p, 1, 0x8180, 1, 0, 0, 0);
	p8(&p, 0x41);	/* 01xxxxxx: extended label type */
	p8(&p, 'a');
	p8(&p, 0);
	p16(&p, 1);
	p16(&p, 1);
	ck_assert_int_eq(dns_parse(p.b, p.n, &m, &why), -1);
}
END_TEST

START_TEST(test_parse_name_too_long)
{
	struct pkt p;
	struct dns_msg m;
	const char *why;

	phdr(&p, 1, 0x8180, 1, 0, 0, 0);
	for (int i = 0; i < 5; i++) {
		p8(&p, 63);
		memset(p.b + p.n, 'a', 63);
		p.n += 63;
	}
	p8(&p, 0);
	p16(&p, 1);
	p16(&p, 1);
	ck_assert_int_eq(dns_parse(p.b, p.n, &m, &why), -1);
}
END_TEST

START_TEST(test_parse_nul_in_label)
{
	struct pkt p;
	struct dns_msg m;
	const char *why;

	phdr(&p, 1, 0x8180, 1, 0, 0, 0);
	p8(&p, 3);
	p8(&p, 'a');
	p8(&p, 0);
	p8(&p, 'b');
	p8(&p, 0);
	p16(&p, 1);
	p16(&p, 1);
	ck_assert_int_eq(dns_parse(p.b, p.n, &m, &why), -1);
}
END_TEST

/* every prefix of a good packet is either an error or parses cleanly */
START_TEST(test_parse_truncated_everywhere)
{
	struct pkt p;
	struct dns_msg m;
	const char *why;

	pquery(&p, 2, "example.org", DNS_T_MX);
	prr(&p, DNS_T_MX, 2 + 6);
	p16(&p, 5);
	p8(&p, 3);
	memcpy(p.b + p.n, "mx1", 3);
	p.n += 3;
	pptr(&p, 12);
	prr(&p, DNS_T_TXT, 4);
	p8(&p, 3);
	memcpy(p.b + p.n, "abc", 3);
	p.n += 3;
	for (size_t n = 0; n < p.n; n++) {
		uint8_t *copy = malloc(n + 1);

		memcpy(copy, p.b, n);
		ck_assert_msg(dns_parse(copy, n, &m, &why) == -1,
		    "prefix %zu parsed", n);
		free(copy);
	}
	ck_assert_int_eq(dns_parse(p.b, p.n, &m, &why), 0);
	ck_assert_uint_eq(m.nrrs, 2);
	dns_msg_free(&m);
}
END_TEST

START_TEST(test_parse_tc_flag)
{
	struct pkt p;
	struct dns_msg m;
	const char *why;

	/* TC set: answers claimed but absent; only the header matters */
	phdr(&p, 7, 0x8380, 1, 5, 0, 0);
	pname(&p, "big.example");
	p16(&p, DNS_T_TXT);
	p16(&p, 1);
	ck_assert_int_eq(dns_parse(p.b, p.n, &m, &why), 0);
	ck_assert(m.tc);
	ck_assert_uint_eq(m.nrrs, 0);
	ck_assert_str_eq(m.qname, "big.example");
	dns_msg_free(&m);
}
END_TEST

START_TEST(test_parse_rcode_and_short)
{
	struct pkt p;
	struct dns_msg m;
	const char *why;

	phdr(&p, 9, 0x8183, 1, 0, 0, 0);
	pname(&p, "nx.example");
	p16(&p, DNS_T_MX);
	p16(&p, 1);
	ck_assert_int_eq(dns_parse(p.b, p.n, &m, &why), 0);
	ck_assert_uint_eq(m.rcode, 3);
	dns_msg_free(&m);
	ck_assert_int_eq(dns_parse(p.b, 11, &m, &why), -1);
	ck_assert_int_eq(dns_parse(p.b, 0, &m, &why), -1);
}
END_TEST

START_TEST(test_parse_skips_unknown_and_sections)
{
	struct pkt p;
	struct dns_msg m;
	const char *why;

	/* an answer of unknown type 99, one A, an authority SOA-ish blob,
	 * an additional A: only the answer A is kept */
	phdr(&p, 1, 0x8180, 1, 2, 1, 1);
	pname(&p, "example.org");
	p16(&p, DNS_T_A);
	p16(&p, 1);
	prr(&p, 99, 3);
	p8(&p, 1);
	p8(&p, 2);
	p8(&p, 3);
	prr(&p, DNS_T_A, 4);
	p32(&p, 0x7f000002);
	prr(&p, DNS_T_SOA, 2);
	p16(&p, 0);
	prr(&p, DNS_T_A, 4);
	p32(&p, 0x7f000003);
	ck_assert_int_eq(dns_parse(p.b, p.n, &m, &why), 0);
	ck_assert_uint_eq(m.nrrs, 1);
	ck_assert(memcmp(m.rrs[0].addr, "\x7f\x00\x00\x02", 4) == 0);
	dns_msg_free(&m);
	/* authority record running past the end */
	p.n -= 2;
	ck_assert_int_eq(dns_parse(p.b, p.n, &m, &why), -1);
}
END_TEST

START_TEST(test_mx_rdata_trailing)
{
	struct pkt p;
	struct dns_msg m;
	const char *why;

	/* rdlen longer than the name: trailing junk is an error */
	pquery(&p, 1, "example.org", DNS_T_MX);
	prr(&p, DNS_T_MX, 2 + 2 + 1);
	p16(&p, 1);
	pptr(&p, 12);
	p8(&p, 0);
	ck_assert_int_eq(dns_parse(p.b, p.n, &m, &why), -1);
}
END_TEST

START_TEST(test_configure)
{
	const char *why;

	ck_assert_int_eq(dns_configure("127.0.0.1:5353", 100, 1, &why), 0);
	ck_assert_int_eq(dns_configure("[::1]:53", 100, 1, &why), 0);
	ck_assert_int_eq(dns_configure("::1", 100, 1, &why), 0);
	ck_assert_int_eq(dns_configure("192.0.2.1", 100, 1, &why), 0);
	ck_assert_int_eq(dns_configure("dns.example:53", 100, 1, &why), -1);
	ck_assert_int_eq(dns_configure("127.0.0.1:0", 100, 1, &why), -1);
	ck_assert_int_eq(dns_configure("127.0.0.1:99999", 100, 1, &why), -1);
	ck_assert_int_eq(dns_configure("[::1", 100, 1, &why), -1);
}
END_TEST

/* no server listening: a timeout is DNS_TEMP, never a bounce */
START_TEST(test_query_timeout_is_temp)
{
	const char *why;
	struct dns_msg m;
	struct dns_mx *mx;
	size_t n;

	ck_assert_int_eq(dns_configure("127.0.0.1:9", 100, 1, &why), 0);
	ck_assert_int_eq(dns_query("example.org", DNS_T_MX, &m), DNS_TEMP);
	ck_assert_int_eq(dns_lookup_mx("example.org", &mx, &n), DNS_TEMP);
	ck_assert_ptr_null(mx);
	ck_assert_int_eq(dns_query("bad..name", DNS_T_MX, &m), DNS_FAIL);
}
END_TEST

START_TEST(test_addr_literal)
{
	struct dns_addr a[2];
	size_t n;

	ck_assert_int_eq(dns_lookup_addr("127.0.0.2", a, 2, &n), DNS_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(a[0].family, AF_INET);
	ck_assert_int_eq(dns_lookup_addr("::1", a, 2, &n), DNS_OK);
	ck_assert_int_eq(a[0].family, AF_INET6);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("dns");
	TCase *tc = tcase_create("build");

	tcase_add_test(tc, test_query_build);
	tcase_add_test(tc, test_query_bad_names);
	tcase_add_test(tc, test_configure);
	suite_add_tcase(s, tc);
	tc = tcase_create("parse");
	tcase_add_test(tc, test_parse_mx);
	tcase_add_test(tc, test_parse_null_mx);
	tcase_add_test(tc, test_parse_a_aaaa);
	tcase_add_test(tc, test_parse_a_bad_len);
	tcase_add_test(tc, test_parse_txt_multi);
	tcase_add_test(tc, test_parse_txt_overrun);
	tcase_add_test(tc, test_parse_cname_chain);
	tcase_add_test(tc, test_collect_cname_loop);
	tcase_add_test(tc, test_parse_tc_flag);
	tcase_add_test(tc, test_parse_rcode_and_short);
	tcase_add_test(tc, test_parse_skips_unknown_and_sections);
	tcase_add_test(tc, test_mx_rdata_trailing);
	suite_add_tcase(s, tc);
	tc = tcase_create("hostile");
	tcase_add_test(tc, test_parse_pointer_loop);
	tcase_add_test(tc, test_parse_pointer_pingpong);
	tcase_add_test(tc, test_parse_pointer_forward);
	tcase_add_test(tc, test_parse_reserved_label);
	tcase_add_test(tc, test_parse_name_too_long);
	tcase_add_test(tc, test_parse_nul_in_label);
	tcase_add_test(tc, test_parse_truncated_everywhere);
	suite_add_tcase(s, tc);
	tc = tcase_create("resolver");
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_query_timeout_is_temp);
	tcase_add_test(tc, test_addr_literal);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(make_suite)
