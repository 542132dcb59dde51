/*
 * fuzz_smtp_data - the DATA/BDAT reader on arbitrary bytes. Checks the
 * properties the server relies on: slicing never changes the result, the
 * end of DATA is only ever "<CRLF>.<CRLF>" (or "." CRLF at the start),
 * the output never exceeds the limit, and the counted size is right.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "smtp/smtp_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
	struct buf	 out;
	struct smtp_data d;
	size_t		 used;
	int		 done;
};

static void
run(struct run *r, const char *p, size_t n, bool raw, uint64_t max,
    const uint8_t *steps, size_t nsteps)
{
	size_t off = 0, k = 0, used;

	buf_init(&r->out, BUF_UNLIMITED);
	smtp_data_init(&r->d, &r->out, max, raw);
	r->done = 0;
	while (off < n) {
		size_t take = n - off;

		if (nsteps > 0) {
			size_t s = 1 + steps[k++ % nsteps] % 16;

			if (take > s)
				take = s;
		}
		r->done = smtp_data_feed(&r->d, p + off, take, &used);
		if (used > take)
			abort();
		off += used;
		if (r->done)
			break;
		if (used != take)
			abort();
	}
	if (raw)
		smtp_data_finish(&r->d);
	r->used = off;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t zero = 0;
	struct run a, b;
	const char *p;
	size_t n, nsteps;
	uint64_t max;
	bool raw;

	if (size < 3)
		return 0;
	raw = data[0] & 1;
	max = (data[0] & 2) ? (uint64_t)data[1] * 4 : (1u << 20);
	nsteps = data[2] % 8;
	if (size < 3 + nsteps)
		return 0;
	p = (const char *)data + 3 + nsteps;
	n = size - 3 - nsteps;

	run(&a, p, n, raw, max, NULL, 0);
	/* no steps given: byte at a time */
	run(&b, p, n, raw, max, nsteps > 0 ? data + 3 : &zero,
	    nsteps > 0 ? nsteps : 1);
	if (a.out.len != b.out.len ||
	    memcmp(buf_cstr(&a.out), buf_cstr(&b.out), a.out.len) != 0 ||
	    a.done != b.done || a.used != b.used ||
	    a.d.smuggle != b.d.smuggle || a.d.size != b.d.size)
		abort();
	if (a.out.len > max || (!a.d.over_limit && a.d.size != a.out.len))
		abort();
	if (raw && a.done && a.used != n)
		abort();
	if (!raw && a.done) {
		/* the end: ".\r\n" at the start or right after "\r\n" */
		if (a.used < 3 || memcmp(p + a.used - 3, ".\r\n", 3) != 0)
			abort();
		if (a.used > 3 && (a.used < 5 ||
		    memcmp(p + a.used - 5, "\r\n", 2) != 0))
			abort();
	}
	buf_free(&a.out);
	buf_free(&b.out);
	return 0;
}
