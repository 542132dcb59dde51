/*
 * fuzz_qenv - the queue envelope parser (qenv_parse) on arbitrary bytes,
 * and a format/parse round trip of whatever it accepts: what is written
 * must read back the same.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/buf.h"
#include "queue/qfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qenv e, f;
	struct buf b;
	const char *why;

	if (qenv_parse((const char *)data, size, &e, &why) < 0)
		return 0;
	buf_init(&b, QENV_MAX);
	if (qenv_format(&e, &b) == 0) {
		if (qenv_parse(b.data, b.len, &f, &why) < 0)
			__builtin_trap();
		if (f.nrcpts != e.nrcpts || strcmp(f.sender, e.sender) != 0)
			__builtin_trap();
		for (size_t i = 0; i < e.nrcpts; i++)
			if (strcmp(f.rcpts[i].addr, e.rcpts[i].addr) != 0 ||
			    strcmp(f.rcpts[i].diag, e.rcpts[i].diag) != 0 ||
			    f.rcpts[i].state != e.rcpts[i].state)
				__builtin_trap();
		qenv_free(&f);
	}
	buf_free(&b);
	qenv_free(&e);
	return 0;
}
