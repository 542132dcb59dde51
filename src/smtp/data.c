/*
 * data - the DATA / BDAT content reader: a byte-level state machine that
 * undoes dot-stuffing (RFC 5321 4.5.2), turns CRLF into LF (facteur's
 * stored form, as Dovecot stores Maildir files) and finds the end of
 * DATA.
 *
 * Input: untrusted bytes in any slicing; the state carries everything
 * between calls, so feeding byte by byte gives the same output as one
 * chunk. Every byte that is not part of a CRLF or of stuffing is kept as
 * sent (8-bit, NUL, bare CR).
 *
 * Security (SMTP smuggling): the end of DATA is <CRLF>.<CRLF> and nothing
 * else. A bare LF ends a text line (it becomes LF like a CRLF, Postfix's
 * "normalize"), but a "." line next to a bare LF or a bare CR is never the
 * end: it is kept as content and counted in d->smuggle, and so is a bare
 * CR followed by "." and a line end. The session refuses any message with
 * such a lookalike (550 5.5.2), so what another MTA might read as two
 * messages is neither stored nor forwarded.
 *
 * Limit: content beyond d->max is counted (d->size) but not stored.
 */
#include <string.h>

#include "smtp/smtp_int.h"

enum data_state {
	D_BOL = 0,	/* at the start of a line */
	D_DOT,		/* "." at the start of a line, held back */
	D_DOT_CR,	/* ".\r" at the start of a line, held back */
	D_TEXT,		/* inside a line */
	D_CR,		/* CR inside a line, held back */
	D_CRDOT		/* bare CR then "." were just emitted */
};

void
smtp_data_init(struct smtp_data *d, struct buf *out, uint64_t max, bool raw)
{
	memset(d, 0, sizeof(*d));
	d->st = D_BOL;
	d->raw = raw;
	d->prev_crlf = true;	/* the command line before it */
	d->out = out;
	d->max = max;
}

static void
data_emit(struct smtp_data *d, const char *p, size_t n)
{
	if (n == 0)
		return;
	d->size += n;
	if (d->over_limit || d->nomem)
		return;
	if (d->size > d->max) {
		/* keep exactly the first max bytes, however it was sliced */
		d->over_limit = true;
		n -= (size_t)(d->size - d->max);
	}
	if (n > 0 && buf_append(d->out, p, n) < 0)
		d->nomem = true;
}

static void
data_line_end(struct smtp_data *d, bool crlf)
{
	data_emit(d, "\n", 1);
	d->lines++;
	if (!crlf)
		d->bare_lf++;
	d->prev_crlf = crlf;
	d->st = D_BOL;
}

/* Emit the run of ordinary bytes starting at p[i]; returns its end. */
static size_t
data_text_run(struct smtp_data *d, const char *p, size_t n, size_t i)
{
	size_t j;

	for (j = i; j < n; j++) {
		unsigned char c = (unsigned char)p[j];

		if (c == '\r' || c == '\n')
			break;
		if (c == '\0')
			d->nul++;
		else if (c >= 0x80)
			d->eightbit++;
	}
	data_emit(d, p + i, j - i);
	return j;
}

/* A bare CR was seen and c follows it: emit the CR, set the next state;
 * returns true when c itself was consumed. */
static bool
data_bare_cr(struct smtp_data *d, char c)
{
	d->bare_cr++;
	data_emit(d, "\r", 1);
	if (c == '\r') {
		d->st = D_CR;
		return true;
	}
	if (c == '.') {
		data_emit(d, ".", 1);
		d->st = D_CRDOT;
		return true;
	}
	d->st = D_TEXT;
	return false;
}

int
smtp_data_feed(struct smtp_data *d, const char *p, size_t n, size_t *used_r)
{
	size_t i = 0;

	while (i < n && !d->done) {
		char c = p[i];

		switch (d->st) {
		case D_BOL:
			if (c == '.') {
				d->st = D_DOT;
				i++;
			} else
				d->st = D_TEXT;
			break;
		case D_TEXT:
			if (c == '\r') {
				d->st = D_CR;
				i++;
			} else if (c == '\n') {
				data_line_end(d, false);
				i++;
			} else
				i = data_text_run(d, p, n, i);
			break;
		case D_CR:
			if (c == '\n') {
				data_line_end(d, true);
				i++;
			} else if (data_bare_cr(d, c))
				i++;
			break;
		case D_CRDOT:
			/* "\r." then a line end: a lookalike */
			if (c == '\r' || c == '\n')
				d->smuggle++;
			d->st = D_TEXT;
			break;
		case D_DOT:
			if (c == '\r') {
				d->st = D_DOT_CR;
				i++;
			} else if (c == '\n') {
				/* ".\n": never the end */
				if (!d->raw)
					d->smuggle++;
				data_emit(d, ".", 1);
				data_line_end(d, false);
				i++;
			} else {
				/* stuffed: the first dot goes (DATA only) */
				if (d->raw)
					data_emit(d, ".", 1);
				d->st = D_TEXT;
			}
			break;
		case D_DOT_CR:
			if (c == '\n') {
				i++;
				if (!d->raw && d->prev_crlf) {
					d->done = true;
					break;
				}
				/* "\n.\r\n" */
				if (!d->raw)
					d->smuggle++;
				data_emit(d, ".", 1);
				data_line_end(d, true);
				break;
			}
			/* ".\r" + more: a stuffed line starting with CR */
			if (d->raw)
				data_emit(d, ".", 1);
			if (data_bare_cr(d, c))
				i++;
			break;
		}
	}
	d->wire += i;
	*used_r = i;
	return d->done ? 1 : 0;
}

void
smtp_data_finish(struct smtp_data *d)
{
	switch (d->st) {
	case D_CR:
		d->bare_cr++;
		data_emit(d, "\r", 1);
		break;
	case D_DOT:
		data_emit(d, ".", 1);
		break;
	case D_DOT_CR:
		d->bare_cr++;
		data_emit(d, ".\r", 2);
		break;
	default:
		break;
	}
	d->st = D_TEXT;
	d->done = true;
}
