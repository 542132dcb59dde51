/*
 * stuff - CRLF conversion, dot-stuffing and the TOP line limit for POP3
 * multi-line responses. See stuff.h.
 *
 * The input is a message file: any bytes, LF or CRLF line ends, maybe no
 * final line end. A CR not followed by LF passes through unchanged (as
 * Dovecot sends it), so the bytes sent for RETR number exactly the W=
 * virtual size whenever the message ends with a line end.
 *
 * TOP (RFC 1939 7): the header, the blank line that ends it, then at most
 * n lines of the body. A message without a blank line is all header and
 * is sent whole.
 */
#include "pop3/stuff.h"

void
pop3_stuff_init(struct pop3_stuff *s, uint64_t body_lines)
{
	s->lines_left = body_lines;
	s->bol = true;
	s->last_cr = false;
	s->line_empty = true;
	s->in_body = false;
	s->done = false;
	s->out = 0;
}

/* end_line: account for a line end just written; may set done. */
static void
end_line(struct pop3_stuff *s)
{
	if (!s->in_body) {
		if (s->line_empty) {
			s->in_body = true;
			if (s->lines_left == 0)
				s->done = true;
		}
	} else if (s->lines_left != POP3_STUFF_ALL) {
		if (s->lines_left > 0)
			s->lines_left--;
		if (s->lines_left == 0)
			s->done = true;
	}
	s->bol = true;
	s->line_empty = true;
}

int
pop3_stuff_feed(struct pop3_stuff *s, const char *in, size_t n,
    struct buf *out)
{
	size_t i, start = 0;

	if (s->done)
		return 0;
	for (i = 0; i < n && !s->done; i++) {
		char ch = in[i];

		if (ch == '\n') {
			/* flush the run before the LF, then the line end */
			if (buf_append(out, in + start, i - start) < 0)
				return -1;
			s->out += i - start;
			if (!s->last_cr) {
				if (buf_append(out, "\r\n", 2) < 0)
					return -1;
				s->out += 2;
			} else {
				if (buf_putc(out, '\n') < 0)
					return -1;
				s->out += 1;
			}
			start = i + 1;
			s->last_cr = false;
			end_line(s);
			continue;
		}
		if (s->bol && ch == '.') {
			/* flush, then the extra dot; the '.' itself goes
			 * out with the next run */
			if (buf_append(out, in + start, i - start) < 0 ||
			    buf_putc(out, '.') < 0)
				return -1;
			s->out += i - start + 1;
			start = i;
		}
		s->bol = false;
		if (ch != '\r')
			s->line_empty = false;
		s->last_cr = ch == '\r';
	}
	if (buf_append(out, in + start, i - start) < 0)
		return -1;
	s->out += i - start;
	return 0;
}

int
pop3_stuff_end(struct pop3_stuff *s, struct buf *out)
{
	if (!s->bol) {
		/* the message ended inside a line: finish it (a lone CR
		 * already sent just gets its LF) */
		if (s->last_cr) {
			if (buf_putc(out, '\n') < 0)
				return -1;
		} else if (buf_append(out, "\r\n", 2) < 0) {
			return -1;
		}
		s->bol = true;
	}
	return buf_append(out, ".\r\n", 3);
}
