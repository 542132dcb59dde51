/*
 * bounce - build RFC 3464 delivery status notifications.
 *
 * Shape (RFC 6522 multipart/report, report-type=delivery-status):
 *   1. text/plain: what happened, per recipient, for people;
 *   2. message/delivery-status: Reporting-MTA, Arrival-Date, then per
 *      recipient Final-Recipient, Action: failed, Status, Remote-MTA
 *      (when a server answered), Diagnostic-Code;
 *   3. text/rfc822-headers: the original header section (not the body,
 *      so a bounce never re-sends a large or sensitive body).
 * Recipients with UTF-8 addresses make it an RFC 6533 report
 * (message/global-delivery-status, "utf-8" address type).
 * The DSN itself goes out with a null sender (RFC 5321 4.5.5); the
 * caller never builds one for a null-sender message.
 * Input trusted: diagnostic text comes from remote servers; control
 * bytes are replaced by spaces so it cannot inject header lines.
 */
#include <stdio.h>
#include <string.h>

#include "core/timeutil.h"
#include "queue/bounce.h"

size_t
bounce_header_end(const char *content, size_t clen)
{
	size_t i;

	for (i = 0; i < clen && i < BOUNCE_HDR_MAX; i++) {
		if (content[i] != '\n')
			continue;
		if (i + 1 < clen && content[i + 1] == '\n')
			return i + 1;
		if (i + 2 < clen && content[i + 1] == '\r' &&
		    content[i + 2] == '\n')
			return i + 1;
	}
	return i;
}

/* remote text into out: control bytes become spaces */
static int
bounce_put_clean(struct buf *out, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (buf_putc(out, c < 0x20 || c == 0x7f ? ' ' : (char)c) < 0)
			return -1;
	}
	return 0;
}

static bool
bounce_is_utf8(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return true;
	return false;
}

int
bounce_build(struct buf *out, const char *hostname, const struct qenv *e,
    const char *content, size_t clen, time_t now)
{
	char date[64], arrival[64], boundary[QUEUE_ID_MAX + 300];
	size_t hlen, nrep = 0;
	bool global = false;

	buf_reset(out);
	for (size_t i = 0; i < e->nrcpts; i++) {
		if (e->rcpts[i].state == QR_BOUNCED && !e->rcpts[i].notified) {
			nrep++;
			if (bounce_is_utf8(e->rcpts[i].addr))
				global = true;
		}
	}
	if (nrep == 0)
		return 0;
	time_fmt_rfc5322(date, now);
	time_fmt_rfc5322(arrival, (time_t)e->arrival);
	snprintf(boundary, sizeof(boundary), "%s.%lld/%s", e->id,
	    (long long)now, hostname);
	if (buf_printf(out,
	    "From: Mail Delivery System <MAILER-DAEMON@%s>\n"
	    "To: <%s>\n"
	    "Subject: Undelivered Mail Returned to Sender\n"
	    "Date: %s\n"
	    "Message-ID: <%s.%lld.bounce@%s>\n"
	    "Auto-Submitted: auto-replied\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/report; report-type=delivery-status;\n"
	    "\tboundary=\"%s\"\n"
	    "\n"
	    "This is a MIME-encapsulated message.\n"
	    "\n"
	    "--%s\n"
	    "Content-Description: Notification\n"
	    "Content-Type: text/plain; charset=utf-8\n"
	    "\n"
	    "This is the mail system at host %s.\n"
	    "\n"
	    "I'm sorry to have to inform you that your message could not\n"
	    "be delivered to one or more recipients.\n"
	    "\n",
	    hostname, e->sender, date, e->id, (long long)now, hostname,
	    boundary, boundary, hostname) < 0)
		return -1;
	for (size_t i = 0; i < e->nrcpts; i++) {
		const struct qrcpt *r = &e->rcpts[i];

		if (r->state != QR_BOUNCED || r->notified)
			continue;
		if (buf_printf(out, "<%s>: ", r->addr) < 0)
			return -1;
		if (r->mta[0] != '\0' && (buf_puts(out, "host ") < 0 ||
		    bounce_put_clean(out, r->mta) < 0 ||
		    buf_puts(out, " said: ") < 0))
			return -1;
		if (bounce_put_clean(out, r->diag[0] != '\0' ? r->diag :
		    "delivery failed") < 0 || buf_puts(out, "\n\n") < 0)
			return -1;
	}
	/* UTF-8 addresses need RFC 6533's global report and "utf-8"
	 * address type */
	if (buf_printf(out,
	    "--%s\n"
	    "Content-Description: Delivery report\n"
	    "Content-Type: message/%sdelivery-status\n"
	    "\n"
	    "Reporting-MTA: dns; %s\n"
	    "X-Facteur-Queue-ID: %s\n"
	    "Arrival-Date: %s\n",
	    boundary, global ? "global-" : "", hostname, e->id, arrival) < 0)
		return -1;
	for (size_t i = 0; i < e->nrcpts; i++) {
		const struct qrcpt *r = &e->rcpts[i];
		const char *status = r->dsn[0] != '\0' ? r->dsn : "5.0.0";

		if (r->state != QR_BOUNCED || r->notified)
			continue;
		if (buf_printf(out, "\nFinal-Recipient: %s; %s\n"
		    "Action: failed\nStatus: %s\n",
		    bounce_is_utf8(r->addr) ? "utf-8" : "rfc822", r->addr,
		    status) < 0)
			return -1;
		if (r->mta[0] != '\0') {
			if (buf_puts(out, "Remote-MTA: dns; ") < 0 ||
			    bounce_put_clean(out, r->mta) < 0 ||
			    buf_puts(out, "\nDiagnostic-Code: smtp; ") < 0)
				return -1;
		} else if (buf_puts(out, "Diagnostic-Code: X-Facteur; ") < 0)
			return -1;
		if (bounce_put_clean(out, r->diag[0] != '\0' ? r->diag :
		    "delivery failed") < 0 || buf_putc(out, '\n') < 0)
			return -1;
	}
	hlen = bounce_header_end(content, clen);
	if (buf_printf(out,
	    "\n--%s\n"
	    "Content-Description: Undelivered Message Headers\n"
	    "Content-Type: text/rfc822-headers\n"
	    "\n", boundary) < 0 ||
	    buf_append(out, content, hlen) < 0)
		return -1;
	if (hlen > 0 && content[hlen - 1] != '\n' && buf_putc(out, '\n') < 0)
		return -1;
	if (buf_printf(out, "\n--%s--\n", boundary) < 0)
		return -1;
	return (int)nrep;
}
