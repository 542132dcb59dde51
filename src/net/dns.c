/*
 * dns - stub resolver: query building, a defensive answer parser, UDP
 * with TCP fallback, and MX/A/AAAA/TXT lookups. See dns.h.
 *
 * Input trusted: nothing from the network. Every read is bounds-checked
 * against the packet; compression pointers must go strictly below every
 * earlier jump target of the same name and are capped (DNS_MAX_PTRS), so
 * a pointer loop ends in an error, never a spin. RFC 1035 4.1, 3.3;
 * RFC 2181 (TTL, CNAME); RFC 3596 (AAAA); RFC 7505 (null MX); RFC 7766
 * (TCP after TC).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/str.h"
#include "core/strnum.h"
#include "core/timeutil.h"
#include "core/xmalloc.h"
#include "net/dns.h"

#define DNS_HDR		12
#define DNS_UDP_MAX	4096
#define DNS_TCP_MAX	65535

#define DNS_MAX_NS	3	/* as the libc resolver (MAXNS) */

struct dns_server_cfg {
	struct sockaddr_storage	 ss[DNS_MAX_NS];
	socklen_t		 sslen[DNS_MAX_NS];
	int			 nservers;
	int			 timeout_ms;
	int			 tries;
	int			 configured;
};

/* Set once by dns_configure before threads start, then read-only. */
static struct dns_server_cfg dns_cfg;

static uint16_t
dns_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
dns_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/*
 * dns_read_name: the (possibly compressed) name at off into out (text,
 * lower-case, no trailing dot; "" for the root). *next_r gets the offset
 * just past the name in the original position. 0 or -1.
 */
static int
dns_read_name(const uint8_t *p, size_t n, size_t off, char *out,
    size_t *next_r)
{
	size_t pos = off, olen = 0, lowest = off;
	int ptrs = 0, jumped = 0;

	for (;;) {
		uint8_t c;

		if (pos >= n)
			return -1;
		c = p[pos];
		if ((c & 0xc0) == 0xc0) {
			size_t ptr;

			if (pos + 1 >= n)
				return -1;
			ptr = (size_t)(c & 0x3f) << 8 | p[pos + 1];
			if (!jumped)
				*next_r = pos + 2;
			/* strictly below anything seen: no loop possible */
			if (ptr >= lowest || ++ptrs > DNS_MAX_PTRS)
				return -1;
			lowest = ptr;
			jumped = 1;
			pos = ptr;
			continue;
		}
		if ((c & 0xc0) != 0)
			return -1;	/* 0x40 / 0x80: reserved label types */
		if (c == 0) {
			if (!jumped)
				*next_r = pos + 1;
			break;
		}
		if (pos + 1 + c > n)
			return -1;
		if (olen + (olen > 0 ? 1 : 0) + c > DNS_NAME_MAX)
			return -1;
		if (olen > 0)
			out[olen++] = '.';
		for (size_t i = 0; i < c; i++) {
			uint8_t b = p[pos + 1 + i];

			/* a NUL or a dot inside a label cannot be named in
			 * text form; refuse rather than misread */
			if (b == 0 || b == '.')
				return -1;
			if (b >= 'A' && b <= 'Z')
				b = (uint8_t)(b - 'A' + 'a');
			out[olen++] = (char)b;
		}
		pos += 1 + (size_t)c;
	}
	out[olen] = '\0';
	return 0;
}

static void
dns_rr_clear(struct dns_rr *rr)
{
	free(rr->txt);
	memset(rr, 0, sizeof(*rr));
}

void
dns_msg_free(struct dns_msg *m)
{
	for (size_t i = 0; i < m->nrrs; i++)
		free(m->rrs[i].txt);
	free(m->rrs);
	memset(m, 0, sizeof(*m));
}

/*
 * dns_parse_rdata: fill rr from rdata at [off, off+len). 1 kept, 0
 * unknown type (skipped), -1 malformed.
 */
static int
dns_parse_rdata(const uint8_t *p, size_t n, size_t off, size_t len,
    struct dns_rr *rr)
{
	size_t end = off + len, next;

	switch (rr->type) {
	case DNS_T_A:
		if (len != 4)
			return -1;
		memcpy(rr->addr, p + off, 4);
		return 1;
	case DNS_T_AAAA:
		if (len != 16)
			return -1;
		memcpy(rr->addr, p + off, 16);
		return 1;
	case DNS_T_MX:
		if (len < 3)
			return -1;
		rr->pref = dns_get16(p + off);
		if (dns_read_name(p, end, off + 2, rr->host, &next) < 0 ||
		    next != end)
			return -1;
		return 1;
	case DNS_T_CNAME:
	case DNS_T_NS:
	case DNS_T_PTR:
		if (dns_read_name(p, end, off, rr->host, &next) < 0 ||
		    next != end)
			return -1;
		return 1;
	case DNS_T_TXT: {
		size_t pos = off, tl = 0;

		/* first pass: check the strings fill rdata exactly */
		while (pos < end) {
			size_t sl = p[pos];

			if (pos + 1 + sl > end)
				return -1;
			tl += sl;
			pos += 1 + sl;
			rr->nstrings++;
		}
		rr->txt = xmalloc(tl + 1);
		rr->txtlen = 0;
		for (pos = off; pos < end; pos += 1 + (size_t)p[pos]) {
			memcpy(rr->txt + rr->txtlen, p + pos + 1, p[pos]);
			rr->txtlen += p[pos];
		}
		rr->txt[rr->txtlen] = '\0';
		return 1;
	}
	default:
		(void)n;
		return 0;
	}
}

int
dns_parse(const uint8_t *p, size_t n, struct dns_msg *m, const char **why_r)
{
	size_t off, qd, an, ns, ar;
	char scratch[DNS_NAME_MAX + 1];

	memset(m, 0, sizeof(*m));
	if (n < DNS_HDR) {
		*why_r = "short header";
		return -1;
	}
	m->id = dns_get16(p);
	m->qr = (p[2] & 0x80) != 0;
	m->tc = (p[2] & 0x02) != 0;
	m->rcode = p[3] & 0x0f;
	qd = dns_get16(p + 4);
	an = dns_get16(p + 6);
	ns = dns_get16(p + 8);
	ar = dns_get16(p + 10);
	off = DNS_HDR;
	for (size_t i = 0; i < qd; i++) {
		size_t next;

		if (dns_read_name(p, n, off, i == 0 ? m->qname : scratch,
		    &next) < 0 || next + 4 > n) {
			if (m->tc && i > 0)
				return 0;
			*why_r = "bad question";
			m->qname[0] = '\0';
			return -1;
		}
		if (i == 0)
			m->qtype = dns_get16(p + next);
		off = next + 4;
	}
	if (m->tc)
		return 0;	/* the caller retries over TCP */
	if (an > 0)
		m->rrs = xcalloc(an < DNS_MAX_RRS ? an : DNS_MAX_RRS,
		    sizeof(*m->rrs));
	for (size_t i = 0; i < an + ns + ar; i++) {
		struct dns_rr rr;
		size_t next, rdlen;
		int rc;

		memset(&rr, 0, sizeof(rr));
		if (dns_read_name(p, n, off, rr.name, &next) < 0 ||
		    next + 10 > n) {
			*why_r = "bad record header";
			goto bad;
		}
		rr.type = dns_get16(p + next);
		rr.class = dns_get16(p + next + 2);
		rr.ttl = dns_get32(p + next + 4);
		rdlen = dns_get16(p + next + 8);
		off = next + 10;
		if (off + rdlen > n) {
			*why_r = "record data past the end";
			goto bad;
		}
		if (i >= an) {
			off += rdlen;
			continue;	/* authority/additional: bounds only */
		}
		rc = dns_parse_rdata(p, n, off, rdlen, &rr);
		if (rc < 0) {
			dns_rr_clear(&rr);
			*why_r = "bad record data";
			goto bad;
		}
		off += rdlen;
		if (rc == 0 || rr.class != 1 || m->nrrs >= DNS_MAX_RRS) {
			dns_rr_clear(&rr);
			continue;
		}
		m->rrs[m->nrrs++] = rr;
	}
	return 0;
bad:
	dns_msg_free(m);
	return -1;
}

bool
dns_name_valid(const char *name)
{
	size_t len = strlen(name), lab = 0;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '.') {
			if (lab == 0)
				return false;
			lab = 0;
			continue;
		}
		if (c <= 0x20 || c == 0x7f)
			return false;
		if (++lab > 63)
			return false;
	}
	return lab > 0;
}

int
dns_build_query(uint8_t *out, size_t outlen, uint16_t id, const char *name,
    uint16_t type)
{
	size_t len, off = DNS_HDR, i, start;

	if (!dns_name_valid(name))
		return -1;
	len = strlen(name);
	if (name[len - 1] == '.')
		len--;
	if (outlen < DNS_HDR + len + 2 + 4)
		return -1;
	memset(out, 0, DNS_HDR);
	out[0] = (uint8_t)(id >> 8);
	out[1] = (uint8_t)id;
	out[2] = 0x01;		/* RD */
	out[5] = 1;		/* QDCOUNT */
	start = 0;
	for (i = 0; i <= len; i++) {
		if (i == len || name[i] == '.') {
			out[off++] = (uint8_t)(i - start);
			memcpy(out + off, name + start, i - start);
			off += i - start;
			start = i + 1;
		}
	}
	out[off++] = 0;
	out[off++] = (uint8_t)(type >> 8);
	out[off++] = (uint8_t)type;
	out[off++] = 0;
	out[off++] = 1;		/* IN */
	return (int)off;
}

/*
 * dns_parse_server: "ip", "ip:port", "[ip6]:port", bare "ip6". 0 or -1.
 */
static int
dns_parse_server(const char *s, struct sockaddr_storage *ss,
    socklen_t *len_r)
{
	char host[128];
	const char *port = NULL, *colon;
	uint32_t pn = 53;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL || (size_t)(rb - s - 1) >= sizeof(host))
			return -1;
		memcpy(host, s + 1, (size_t)(rb - s - 1));
		host[rb - s - 1] = '\0';
		if (rb[1] == ':')
			port = rb + 2;
		else if (rb[1] != '\0')
			return -1;
	} else {
		colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') == NULL) {
			if ((size_t)(colon - s) >= sizeof(host))
				return -1;
			memcpy(host, s, (size_t)(colon - s));
			host[colon - s] = '\0';
			port = colon + 1;
		} else if (str_copy(host, s, sizeof(host)) >= sizeof(host))
			return -1;
	}
	if (port != NULL && (str_to_u32(port, &pn) < 0 || pn == 0 ||
	    pn > 65535))
		return -1;
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)pn);
		*len_r = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)pn);
		*len_r = sizeof(*sin6);
		return 0;
	}
	return -1;
}

/*
 * dns_resolv_conf: the nameservers of /etc/resolv.conf (at most
 * DNS_MAX_NS) into cfg; a bare IPv6 address is taken as such (no port).
 */
static void
dns_resolv_conf(struct dns_server_cfg *cfg)
{
	FILE *f = fopen("/etc/resolv.conf", "re");
	char line[512];

	if (f == NULL)
		return;
	while (cfg->nservers < DNS_MAX_NS &&
	    fgets(line, sizeof(line), f) != NULL) {
		char *p = line, *e, v6[140];
		int n = cfg->nservers;

		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, "nameserver", 10) != 0 ||
		    (p[10] != ' ' && p[10] != '\t'))
			continue;
		p += 10;
		while (*p == ' ' || *p == '\t')
			p++;
		e = p;
		while (*e != '\0' && *e != ' ' && *e != '\t' && *e != '\n' &&
		    *e != '%')
			e++;
		*e = '\0';
		if (strchr(p, ':') != NULL) {
			snprintf(v6, sizeof(v6), "[%.128s]", p);
			p = v6;
		}
		if (dns_parse_server(p, &cfg->ss[n], &cfg->sslen[n]) == 0)
			cfg->nservers++;
	}
	fclose(f);
}

int
dns_configure(const char *server, int timeout_ms, int tries,
    const char **why_r)
{
	struct dns_server_cfg cfg;

	memset(&cfg, 0, sizeof(cfg));
	if (server == NULL || *server == '\0') {
		dns_resolv_conf(&cfg);
		if (cfg.nservers == 0 && dns_parse_server("127.0.0.1",
		    &cfg.ss[0], &cfg.sslen[0]) == 0)
			cfg.nservers = 1;
	} else {
		if (dns_parse_server(server, &cfg.ss[0], &cfg.sslen[0]) < 0) {
			*why_r = "dns server: expected ip[:port]";
			return -1;
		}
		cfg.nservers = 1;
	}
	cfg.timeout_ms = timeout_ms > 0 ? timeout_ms : 2000;
	cfg.tries = tries > 0 ? tries : 3;
	cfg.configured = 1;
	dns_cfg = cfg;
	return 0;
}

static uint16_t
dns_random16(void)
{
	uint16_t r = 0;

	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		r = (uint16_t)(time_mono_ms() ^ (uint64_t)getpid());
	return r;
}

static int
dns_wait_fd(int fd, short ev, uint64_t deadline)
{
	struct pollfd pfd;
	uint64_t now = time_mono_ms();
	int rc;

	if (now >= deadline)
		return 0;
	pfd.fd = fd;
	pfd.events = ev;
	pfd.revents = 0;
	rc = poll(&pfd, 1, (int)(deadline - now));
	if (rc < 0 && errno == EINTR)
		return dns_wait_fd(fd, ev, deadline);
	return rc;
}

/* the answer matches the query: id, QR, same question */
static int
dns_answer_matches(const struct dns_msg *m, uint16_t id, const char *name,
    uint16_t type)
{
	char want[DNS_NAME_MAX + 1];
	size_t len;

	len = str_copy(want, name, sizeof(want));
	if (len > 0 && want[len - 1] == '.')
		want[len - 1] = '\0';
	/* some servers (dnslib among them) send a truncated answer with an
	 * empty question section: the id is enough to switch to TCP, whose
	 * answer is then checked in full */
	if (m->tc && m->qname[0] == '\0' && m->qtype == 0)
		return m->id == id && m->qr;
	return m->id == id && m->qr && m->qtype == type &&
	    str_ieq(m->qname, want);
}

/* one exchange over TCP; 1 got an answer into m, 0 timeout/error */
static int
dns_tcp(int srv, const uint8_t *q, size_t qlen, uint16_t id,
    const char *name, uint16_t type, struct dns_msg *m)
{
	uint64_t deadline = time_mono_ms() + (uint64_t)dns_cfg.timeout_ms * 2;
	uint8_t lenb[2], *ans = NULL;
	uint8_t out[2 + 512];
	size_t got, want;
	int fd, ok = 0;
	const char *why;

	fd = socket(dns_cfg.ss[srv].ss_family, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0);
	if (fd < 0)
		return 0;
	if (connect(fd, (struct sockaddr *)&dns_cfg.ss[srv],
	    dns_cfg.sslen[srv]) < 0 && errno != EINPROGRESS)
		goto out;
	if (dns_wait_fd(fd, POLLOUT, deadline) <= 0)
		goto out;
	{
		int err = 0;
		socklen_t el = sizeof(err);

		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 ||
		    err != 0)
			goto out;
	}
	if (qlen > sizeof(out) - 2)
		goto out;
	out[0] = (uint8_t)(qlen >> 8);
	out[1] = (uint8_t)qlen;
	memcpy(out + 2, q, qlen);
	for (got = 0; got < qlen + 2;) {
		ssize_t w = send(fd, out + got, qlen + 2 - got, MSG_NOSIGNAL);

		if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (dns_wait_fd(fd, POLLOUT, deadline) <= 0)
				goto out;
			continue;
		}
		if (w <= 0)
			goto out;
		got += (size_t)w;
	}
	/* length prefix, then the message */
	for (int phase = 0; phase < 2; phase++) {
		uint8_t *dst = phase == 0 ? lenb : ans;

		want = phase == 0 ? 2 : (size_t)dns_get16(lenb);
		if (phase == 1) {
			if (want < DNS_HDR)
				goto out;
			ans = xmalloc(want);
			dst = ans;
		}
		for (got = 0; got < want;) {
			ssize_t r = recv(fd, dst + got, want - got, 0);

			if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
				if (dns_wait_fd(fd, POLLIN, deadline) <= 0)
					goto out;
				continue;
			}
			if (r <= 0)
				goto out;
			got += (size_t)r;
		}
	}
	if (dns_parse(ans, want, m, &why) == 0) {
		if (dns_answer_matches(m, id, name, type))
			ok = 1;
		else
			dns_msg_free(m);
	}
out:
	free(ans);
	close(fd);
	return ok;
}

/*
 * dns_exchange: UDP tries (rotating over the servers), TCP on
 * truncation. 1 answer in m, 0 no answer (timeout or network error).
 */
static int
dns_exchange(const char *name, uint16_t type, struct dns_msg *m)
{
	uint8_t q[DNS_HDR + 260 + 4], ans[DNS_UDP_MAX];
	uint16_t id = dns_random16();
	int qlen;
	const char *why;

	qlen = dns_build_query(q, sizeof(q), id, name, type);
	if (qlen < 0 || dns_cfg.nservers == 0)
		return 0;
	for (int t = 0; t < dns_cfg.tries * dns_cfg.nservers; t++) {
		int srv = t % dns_cfg.nservers, fd;
		uint64_t deadline = time_mono_ms() +
		    (uint64_t)dns_cfg.timeout_ms;

		fd = socket(dns_cfg.ss[srv].ss_family, SOCK_DGRAM |
		    SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			return 0;
		/* connected: only the server's datagrams reach us */
		if (connect(fd, (struct sockaddr *)&dns_cfg.ss[srv],
		    dns_cfg.sslen[srv]) < 0 ||
		    send(fd, q, (size_t)qlen, 0) < 0) {
			close(fd);
			continue;
		}
		while (dns_wait_fd(fd, POLLIN, deadline) > 0) {
			ssize_t r = recv(fd, ans, sizeof(ans), 0);

			if (r < 0)
				break;	/* ICMP unreachable etc: next try */
			if (dns_parse(ans, (size_t)r, m, &why) < 0)
				continue;
			if (!dns_answer_matches(m, id, name, type)) {
				dns_msg_free(m);
				continue;
			}
			close(fd);
			if (m->tc) {
				dns_msg_free(m);
				return dns_tcp(srv, q, (size_t)qlen, id, name,
				    type, m);
			}
			return 1;
		}
		close(fd);
	}
	return 0;
}

enum dns_status
dns_query(const char *name, uint16_t type, struct dns_msg *m)
{
	const char *why;

	memset(m, 0, sizeof(*m));
	if (!dns_name_valid(name))
		return DNS_FAIL;
	if (!dns_cfg.configured && dns_configure("", 0, 0, &why) < 0)
		return DNS_TEMP;
	if (!dns_exchange(name, type, m))
		return DNS_TEMP;
	switch (m->rcode) {
	case 0:
		return DNS_OK;
	case 3:
		dns_msg_free(m);
		return DNS_NXDOMAIN;
	default:
		/* SERVFAIL, REFUSED, FORMERR...: a resolver problem is never
		 * a reason to bounce mail */
		dns_msg_free(m);
		return DNS_TEMP;
	}
}

size_t
dns_collect(const struct dns_msg *m, const char *name, uint16_t type,
    const struct dns_rr **out, size_t max, const char **final_r)
{
	const char *cur = name;
	char want[DNS_NAME_MAX + 1];
	size_t n = 0, len;

	len = str_copy(want, name, sizeof(want));
	if (len > 0 && len < sizeof(want) && want[len - 1] == '.')
		want[len - 1] = '\0';
	cur = want;
	for (int hop = 0; hop <= DNS_CNAME_MAX; hop++) {
		const char *next = NULL;

		for (size_t i = 0; i < m->nrrs; i++) {
			if (!str_ieq(m->rrs[i].name, cur))
				continue;
			if (m->rrs[i].type == type && n < max)
				out[n++] = &m->rrs[i];
			else if (m->rrs[i].type == DNS_T_CNAME &&
			    type != DNS_T_CNAME && next == NULL)
				next = m->rrs[i].host;
		}
		if (n > 0 || next == NULL)
			break;
		cur = next;
	}
	if (final_r != NULL)
		*final_r = cur == want ? name : cur;
	return n;
}

/*
 * dns_lookup_rrs: query, collect, and re-query the end of a CNAME chain
 * the server did not resolve in its answer. On DNS_OK, out points into m.
 */
static enum dns_status
dns_lookup_rrs(const char *name, uint16_t type, struct dns_msg *m,
    const struct dns_rr **out, size_t max, size_t *n_r)
{
	char cur[DNS_NAME_MAX + 1];

	*n_r = 0;
	if (str_copy(cur, name, sizeof(cur)) >= sizeof(cur))
		return DNS_FAIL;
	for (int hop = 0; hop < DNS_CNAME_MAX; hop++) {
		const char *final;
		enum dns_status st;
		size_t n;

		st = dns_query(cur, type, m);
		if (st != DNS_OK)
			return st;
		n = dns_collect(m, cur, type, out, max, &final);
		if (n > 0) {
			*n_r = n;
			return DNS_OK;
		}
		if (final == cur || str_ieq(final, cur)) {
			dns_msg_free(m);
			return DNS_NODATA;
		}
		if (str_copy(cur, final, sizeof(cur)) >= sizeof(cur)) {
			dns_msg_free(m);
			return DNS_FAIL;
		}
		dns_msg_free(m);
	}
	return DNS_FAIL;
}

struct dns_mx_sort {
	struct dns_mx	 mx;
	uint32_t	 key;
};

static int
dns_mx_cmp(const void *a, const void *b)
{
	const struct dns_mx_sort *x = a, *y = b;

	if (x->mx.pref != y->mx.pref)
		return x->mx.pref < y->mx.pref ? -1 : 1;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return 0;
}

enum dns_status
dns_lookup_mx(const char *domain, struct dns_mx **mx_r, size_t *n_r)
{
	const struct dns_rr *rr[DNS_MAX_RRS];
	struct dns_msg m;
	struct dns_mx_sort *s;
	enum dns_status st;
	size_t n, k = 0;

	*mx_r = NULL;
	*n_r = 0;
	st = dns_lookup_rrs(domain, DNS_T_MX, &m, rr, DNS_MAX_RRS, &n);
	if (st != DNS_OK)
		return st;
	/* RFC 7505: a single "0 ." record says "no mail here" */
	if (n == 1 && rr[0]->host[0] == '\0') {
		*mx_r = xcalloc(1, sizeof(**mx_r));
		(*mx_r)[0].pref = rr[0]->pref;
		*n_r = 1;
		dns_msg_free(&m);
		return DNS_OK;
	}
	s = xcalloc(n, sizeof(*s));
	for (size_t i = 0; i < n; i++) {
		if (rr[i]->host[0] == '\0')
			continue;	/* a "." among real MXs: ignore it */
		s[k].mx.pref = rr[i]->pref;
		str_copy(s[k].mx.host, rr[i]->host, sizeof(s[k].mx.host));
		if (getrandom(&s[k].key, sizeof(s[k].key), 0) !=
		    (ssize_t)sizeof(s[k].key))
			s[k].key = (uint32_t)i;
		k++;
	}
	dns_msg_free(&m);
	if (k == 0) {
		free(s);
		return DNS_NODATA;
	}
	qsort(s, k, sizeof(*s), dns_mx_cmp);
	*mx_r = xcalloc(k, sizeof(**mx_r));
	for (size_t i = 0; i < k; i++)
		(*mx_r)[i] = s[i].mx;
	*n_r = k;
	free(s);
	return DNS_OK;
}

/* which failure tells the caller most: TEMP must never become a bounce */
static int
dns_status_rank(enum dns_status s)
{
	switch (s) {
	case DNS_TEMP:
		return 3;
	case DNS_NODATA:
		return 2;
	case DNS_FAIL:
		return 1;
	default:
		return 0;
	}
}

enum dns_status
dns_lookup_addr(const char *host, struct dns_addr *out, size_t max,
    size_t *n_r)
{
	static const uint16_t types[2] = { DNS_T_AAAA, DNS_T_A };
	enum dns_status best = DNS_NXDOMAIN;
	size_t k = 0;

	*n_r = 0;
	if (max == 0)
		return DNS_FAIL;
	if (inet_pton(AF_INET, host, out[0].addr) == 1) {
		out[0].family = AF_INET;
		*n_r = 1;
		return DNS_OK;
	}
	if (inet_pton(AF_INET6, host, out[0].addr) == 1) {
		out[0].family = AF_INET6;
		*n_r = 1;
		return DNS_OK;
	}
	for (int t = 0; t < 2; t++) {
		const struct dns_rr *rr[DNS_MAX_RRS];
		struct dns_msg m;
		enum dns_status st;
		size_t n;

		st = dns_lookup_rrs(host, types[t], &m, rr, DNS_MAX_RRS, &n);
		if (dns_status_rank(st) > dns_status_rank(best))
			best = st;
		if (st != DNS_OK)
			continue;
		for (size_t i = 0; i < n && k < max; i++) {
			out[k].family = types[t] == DNS_T_A ? AF_INET :
			    AF_INET6;
			memcpy(out[k].addr, rr[i]->addr,
			    types[t] == DNS_T_A ? 4 : 16);
			k++;
		}
		dns_msg_free(&m);
	}
	*n_r = k;
	return k > 0 ? DNS_OK : best;
}

enum dns_status
dns_lookup_txt(const char *name, char ***txt_r, size_t *n_r)
{
	const struct dns_rr *rr[DNS_MAX_RRS];
	struct dns_msg m;
	enum dns_status st;
	size_t n;

	*txt_r = NULL;
	*n_r = 0;
	st = dns_lookup_rrs(name, DNS_T_TXT, &m, rr, DNS_MAX_RRS, &n);
	if (st != DNS_OK)
		return st;
	*txt_r = xcalloc(n, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		(*txt_r)[i] = xstrndup(rr[i]->txt, rr[i]->txtlen);
	*n_r = n;
	dns_msg_free(&m);
	return DNS_OK;
}

void
dns_txt_free(char **txt, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(txt[i]);
	free(txt);
}

const char *
dns_status_name(enum dns_status s)
{
	switch (s) {
	case DNS_OK:
		return "ok";
	case DNS_NODATA:
		return "nodata";
	case DNS_NXDOMAIN:
		return "nxdomain";
	case DNS_TEMP:
		return "temp";
	case DNS_FAIL:
		return "fail";
	}
	return "?";
}
