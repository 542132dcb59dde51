/*
 * canon - DKIM canonicalization, RFC 6376 3.4.1-3.4.4.
 *
 * Input: header fields and bodies of untrusted messages, LF or CRLF line
 * ends, any bytes (NUL included). Output goes to a bounded buf (headers)
 * or to a sink in batches (bodies); nothing is kept per line, so a huge
 * body costs no memory. Lines are never joined or split beyond what the
 * RFC says.
 */
#include <string.h>

#include "mailauth/canon.h"

static bool
canon_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* Append raw[0..n) converting each LF (after an optional CR) to CRLF. */
static int
canon_crlf(const char *p, size_t n, struct buf *out)
{
	size_t i, start = 0;

	for (i = 0; i < n; i++) {
		if (p[i] != '\n')
			continue;
		if (i > start && p[i - 1] == '\r') {
			if (buf_append(out, p + start, i + 1 - start) < 0)
				return -1;
		} else {
			if (buf_append(out, p + start, i - start) < 0 ||
			    buf_append(out, "\r\n", 2) < 0)
				return -1;
		}
		start = i + 1;
	}
	return buf_append(out, p + start, n - start);
}

/* n without the final line end of raw (LF or CRLF), if any. */
static size_t
canon_strip_eol(const char *raw, size_t n)
{
	if (n > 0 && raw[n - 1] == '\n') {
		n--;
		if (n > 0 && raw[n - 1] == '\r')
			n--;
	}
	return n;
}

static int
canon_header_relaxed(const char *raw, size_t n, struct buf *out)
{
	const char *colon;
	size_t nend, i;
	bool wsp = false, started = false;

	colon = memchr(raw, ':', n);
	if (colon == NULL)
		nend = n;
	else
		nend = (size_t)(colon - raw);
	/* the name: lower-cased, WSP before the colon dropped */
	while (nend > 0 && canon_wsp(raw[nend - 1]))
		nend--;
	for (i = 0; i < nend; i++) {
		char c = raw[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (buf_putc(out, c) < 0)
			return -1;
	}
	if (buf_putc(out, ':') < 0)
		return -1;
	if (colon == NULL)
		return 0;
	for (i = (size_t)(colon - raw) + 1; i < n; i++) {
		char c = raw[i];

		/* unfold: line ends vanish, a bare CR is an ordinary byte */
		if (c == '\n')
			continue;
		if (c == '\r' && i + 1 < n && raw[i + 1] == '\n')
			continue;
		if (canon_wsp(c)) {
			wsp = true;
			continue;
		}
		if (wsp && started && buf_putc(out, ' ') < 0)
			return -1;
		wsp = false;
		started = true;
		if (buf_putc(out, c) < 0)
			return -1;
	}
	return 0;
}

int
canon_header(enum canon_alg alg, const char *raw, size_t n, bool crlf,
    struct buf *out)
{
	n = canon_strip_eol(raw, n);
	if (alg == CANON_RELAXED) {
		if (canon_header_relaxed(raw, n, out) < 0)
			return -1;
	} else {
		if (canon_crlf(raw, n, out) < 0)
			return -1;
	}
	if (crlf && buf_append(out, "\r\n", 2) < 0)
		return -1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Body                                                                */

static void
canon_flush(struct canon_body *cb)
{
	if (cb->outlen > 0)
		cb->sink(cb->arg, cb->out, cb->outlen);
	cb->outlen = 0;
}

/* One canonical octet: counted always, passed on within the limit. */
static void
canon_emit(struct canon_body *cb, char c)
{
	if (!cb->has_limit || cb->emitted < cb->limit) {
		if (cb->outlen == sizeof(cb->out))
			canon_flush(cb);
		cb->out[cb->outlen++] = c;
	}
	cb->emitted++;
}

void
canon_body_init(struct canon_body *cb, enum canon_alg alg,
    canon_sink_fn *sink, void *arg, bool has_limit, uint64_t limit)
{
	memset(cb, 0, sizeof(*cb));
	cb->alg = alg;
	cb->sink = sink;
	cb->arg = arg;
	cb->has_limit = has_limit;
	cb->limit = limit;
}

/* A content byte (not a line end): write what was held back first. */
static void
canon_content(struct canon_body *cb, char c)
{
	for (; cb->pending_crlf > 0; cb->pending_crlf--) {
		canon_emit(cb, '\r');
		canon_emit(cb, '\n');
	}
	if (cb->pending_wsp) {
		canon_emit(cb, ' ');
		cb->pending_wsp = false;
	}
	canon_emit(cb, c);
	cb->any = true;
}

static void
canon_eol(struct canon_body *cb)
{
	/* trailing WSP of a relaxed line is dropped; the line end waits:
	 * empty lines at the end of the body must vanish */
	cb->pending_wsp = false;
	cb->pending_crlf++;
}

/* A run of ordinary content bytes, nothing held back: copied in bulk. */
static void
canon_span(struct canon_body *cb, const char *p, size_t n)
{
	uint64_t room;
	size_t k;

	room = !cb->has_limit ? n : cb->emitted >= cb->limit ? 0 :
	    cb->limit - cb->emitted;
	if (room > n)
		room = n;
	while (room > 0) {
		if (cb->outlen == sizeof(cb->out))
			canon_flush(cb);
		k = sizeof(cb->out) - cb->outlen;
		if (k > room)
			k = (size_t)room;
		memcpy(cb->out + cb->outlen, p, k);
		cb->outlen += k;
		p += k;
		room -= k;
	}
	cb->emitted += n;
	cb->any = true;
}

void
canon_body_update(struct canon_body *cb, const char *p, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		char c = p[i];

		if (!cb->cr && cb->pending_crlf == 0 && !cb->pending_wsp) {
			for (j = i; j < n; j++) {
				c = p[j];
				if (c == '\r' || c == '\n' ||
				    (cb->alg == CANON_RELAXED && canon_wsp(c)))
					break;
			}
			if (j > i) {
				canon_span(cb, p + i, j - i);
				i = j - 1;
				continue;
			}
		}

		if (cb->cr) {
			cb->cr = false;
			if (c == '\n') {
				canon_eol(cb);
				continue;
			}
			canon_content(cb, '\r');
		}
		if (c == '\r') {
			cb->cr = true;
		} else if (c == '\n') {
			canon_eol(cb);
		} else if (cb->alg == CANON_RELAXED && canon_wsp(c)) {
			cb->pending_wsp = true;
		} else {
			canon_content(cb, c);
		}
	}
}

uint64_t
canon_body_final(struct canon_body *cb)
{
	if (cb->cr) {
		cb->cr = false;
		canon_content(cb, '\r');
	}
	/* a non-empty body ends with exactly one CRLF (added if missing);
	 * an empty body is "" (relaxed) or one CRLF (simple) */
	if (cb->any || cb->alg == CANON_SIMPLE) {
		canon_emit(cb, '\r');
		canon_emit(cb, '\n');
	}
	cb->pending_crlf = 0;
	cb->pending_wsp = false;
	canon_flush(cb);
	return cb->emitted;
}
