/*
 * resp - writing IMAP responses: tagged replies, strings (quoted or
 * literal, RFC 3501 4.3), the capability list, and the one mapping of
 * enum ferr to IMAP response codes (RFC 5530).
 *
 * Output is buffered in the conn; it goes out at conn_flush (the session
 * flushes before reading the next command) or past 16 KiB.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/str.h"
#include "imap/imap_int.h"
#include "net/conn.h"

int
imap_write(struct imap_session *s, const void *p, size_t n)
{
	return conn_write(s->c, p, n);
}

int
imap_printf(struct imap_session *s, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	return conn_write(s->c, line, (size_t)n);
}

int
imap_tagged(struct imap_session *s, const char *status, const char *fmt,
    ...)
{
	char text[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0)
		text[0] = '\0';
	imap_printf(s, "%s %s %s\r\n", s->tag != NULL ? s->tag : "*",
	    status, text);
	return 0;
}

int
imap_bad(struct imap_session *s, const char *text)
{
	s->nbad++;
	imap_tagged(s, "BAD", "%s", text);
	return 0;
}

static bool
needs_literal(const char *p, size_t n)
{
	size_t i;

	if (n > 1024)
		return true;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch < 0x20 || ch >= 0x7f)
			return true;
	}
	return false;
}

int
imap_write_string(struct imap_session *s, const char *p, size_t n)
{
	char hdr[32];
	size_t i, start;

	if (needs_literal(p, n)) {
		snprintf(hdr, sizeof(hdr), "{%zu}\r\n", n);
		if (conn_puts(s->c, hdr) < 0)
			return -1;
		return conn_write(s->c, p, n);
	}
	if (conn_write(s->c, "\"", 1) < 0)
		return -1;
	start = 0;
	for (i = 0; i < n; i++) {
		if (p[i] != '"' && p[i] != '\\')
			continue;
		if (conn_write(s->c, p + start, i - start) < 0 ||
		    conn_write(s->c, "\\", 1) < 0)
			return -1;
		start = i;
	}
	if (conn_write(s->c, p + start, n - start) < 0)
		return -1;
	return conn_write(s->c, "\"", 1);
}

int
imap_write_nstring(struct imap_session *s, const char *p, size_t n)
{
	if (p == NULL)
		return conn_write(s->c, "NIL", 3);
	return imap_write_string(s, p, n);
}

const char *
imap_ferr_code(enum ferr e)
{
	switch (e) {
	case FERR_NONE:
		return NULL;
	case FERR_TEMP:
		return "UNAVAILABLE";
	case FERR_NOTFOUND:
		return "NONEXISTENT";
	case FERR_QUOTA:
	case FERR_NOSPACE:
		return "OVERQUOTA";
	case FERR_INVALID:
		return "CANNOT";
	case FERR_PERM:
		return "NOPERM";
	case FERR_LIMIT:
		return "LIMIT";
	case FERR_EXISTS:
		return "ALREADYEXISTS";
	case FERR_INTERNAL:
	default:
		return "SERVERBUG";
	}
}

int
imap_no_ferr(struct imap_session *s, enum ferr e, const char *text)
{
	const char *code = imap_ferr_code(e);

	if (e == FERR_INTERNAL || text == NULL) {
		switch (e) {
		case FERR_TEMP:
			text = "Temporary failure, try again later";
			break;
		case FERR_NOTFOUND:
			text = "No such mailbox or message";
			break;
		case FERR_QUOTA:
			text = "Quota exceeded";
			break;
		case FERR_NOSPACE:
			text = "Not enough disk space";
			break;
		case FERR_PERM:
			text = "Permission denied";
			break;
		case FERR_LIMIT:
			text = "Limit reached";
			break;
		case FERR_EXISTS:
			text = "Already exists";
			break;
		case FERR_INVALID:
			text = "Invalid request";
			break;
		default:
			text = "Internal error occurred, see server log";
			break;
		}
	}
	if (code == NULL)
		imap_tagged(s, "NO", "%s", text);
	else
		imap_tagged(s, "NO", "[%s] %s", code, text);
	return 0;
}

void
imap_capability(const struct imap_session *s, char *dst, size_t dstlen)
{
	bool plain_ok = s->tls || s->srv->tls == NULL;

	if (s->state == IMAP_ST_NOAUTH) {
		snprintf(dst, dstlen, "IMAP4rev1 SASL-IR ID ENABLE IDLE "
		    "LITERAL+%s%s",
		    (!s->tls && s->kind == LK_IMAP && s->srv->tls != NULL) ?
		    " STARTTLS LOGINDISABLED" : "",
		    plain_ok ? " AUTH=PLAIN AUTH=LOGIN" : "");
		return;
	}
	snprintf(dst, dstlen, "IMAP4rev1 SASL-IR ID ENABLE IDLE LITERAL+ "
	    "NAMESPACE UIDPLUS MOVE SPECIAL-USE UNSELECT CHILDREN QUOTA "
	    "ESEARCH SORT ESORT THREAD=ORDEREDSUBJECT THREAD=REFERENCES "
	    "LIST-STATUS APPENDLIMIT=%llu",
	    (unsigned long long)s->srv->conf->message_size_limit);
}
