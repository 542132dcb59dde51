/*
 * received - the trace header the server prepends to every message
 * (RFC 5321 4.4), with the with-protocol names of RFC 3848 and RFC 6531
 * and the TLS comment in the form Postfix writes, which log tools and
 * people already read:
 *
 *   Received: from helo.example ([192.0.2.1])
 *   	(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))
 *   	by mail.example.org (facteur) with ESMTPS id 3f9a2c1e7b00d412-1
 *   	for <bob@example.org>; Wed, 25 Nov 2026 15:34:04 +0000
 *
 * The HELO name is untrusted: only letters, digits and ".-_:[]" and
 * UTF-8 bytes are copied, anything else becomes '?', at most 255 bytes.
 * No reverse DNS is looked up, so the TCP-info is the address literal.
 */
#include <string.h>

#include "core/str.h"
#include "core/timeutil.h"
#include "smtp/smtp_int.h"

const char *
smtp_with_proto(bool esmtp, bool tls, bool auth, bool utf8)
{
	static const char *const names[2][4] = {
		{ "ESMTP", "ESMTPA", "ESMTPS", "ESMTPSA" },
		{ "UTF8SMTP", "UTF8SMTPA", "UTF8SMTPS", "UTF8SMTPSA" },
	};

	if (!esmtp)
		return "SMTP";
	return names[utf8 ? 1 : 0][(tls ? 2 : 0) + (auth ? 1 : 0)];
}

/* 8-bit bytes only in a SMTPUTF8 message (RFC 6532), else '?' */
static void
received_helo(const char *helo, bool utf8, char *dst, size_t dstlen)
{
	size_t i, o = 0;

	if (helo == NULL || *helo == '\0')
		helo = "unknown";
	for (i = 0; helo[i] != '\0' && o + 1 < dstlen; i++) {
		unsigned char c = (unsigned char)helo[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '-' ||
		    c == '_' || c == ':' || c == '[' || c == ']' ||
		    (c >= 0x80 && utf8))
			dst[o++] = (char)c;
		else
			dst[o++] = '?';
	}
	dst[o] = '\0';
}

int
smtp_received_fmt(struct buf *out, const struct smtp_received *r)
{
	char helo[256], date[64];
	bool v6 = strchr(r->client_ip, ':') != NULL;

	received_helo(r->helo, r->smtputf8, helo, sizeof(helo));
	time_fmt_rfc5322(date, r->when);
	if (buf_printf(out, "Received: from %s ([%s%s])\n", helo,
	    v6 ? "IPv6:" : "", r->client_ip) < 0)
		return -1;
	if (r->tls_version != NULL &&
	    buf_printf(out, "\t(using %s with cipher %s (%d/%d bits))\n",
	    r->tls_version, r->tls_cipher != NULL ? r->tls_cipher : "unknown",
	    r->tls_bits, r->tls_bits) < 0)
		return -1;
	if (buf_printf(out, "\tby %s (facteur) with %s id %s", r->hostname,
	    smtp_with_proto(r->esmtp, r->tls_version != NULL,
	    r->authenticated, r->smtputf8), r->id) < 0)
		return -1;
	if (r->rcpt != NULL) {
		if (buf_printf(out, "\n\tfor <%s>; %s\n", r->rcpt, date) < 0)
			return -1;
	} else if (buf_printf(out, ";\n\t%s\n", date) < 0)
		return -1;
	return 0;
}

unsigned
smtp_hops(const char *msg, size_t len)
{
	unsigned hops = 0;
	size_t i = 0;
	const char *lf;

	while (i < len) {
		if (msg[i] == '\n' || (msg[i] == '\r' && i + 1 < len &&
		    msg[i + 1] == '\n'))
			break;		/* end of the header section */
		if (len - i >= 9 && str_ieqn(msg + i, "Received:", 9))
			hops++;
		lf = memchr(msg + i, '\n', len - i);
		if (lf == NULL)
			break;
		i = (size_t)(lf - msg) + 1;
	}
	return hops;
}
