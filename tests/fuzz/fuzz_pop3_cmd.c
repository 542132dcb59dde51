/*
 * fuzz_pop3_cmd - the POP3 command parser on arbitrary lines, and the
 * RETR/TOP encoder on arbitrary message bytes. Checks the parser's
 * promises: borrowed pointers stay inside the line, a message number is
 * set only with has_msg, and the encoder's output always ends in ".\r\n"
 * with every LF preceded by CR.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "pop3/cmd.h"
#include "pop3/stuff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *line = (const char *)data;
	struct pop3_cmd cmd;
	struct pop3_stuff st;
	struct buf out;
	const char *why = NULL;
	enum pop3_parse r;
	size_t i, step;
	uint64_t lines;

	r = pop3_cmd_parse(line, size, &cmd, &why);
	if (r == POP3_PARSE_OK) {
		if (cmd.arglen > 0 && (cmd.arg < line ||
		    cmd.arg + cmd.arglen > line + size))
			abort();
		if (!cmd.has_msg && cmd.msg != 0)
			abort();
		if (cmd.id == POP3_CMD_NONE)
			abort();
	} else if (why == NULL) {
		abort();
	}

	/* the same bytes as a message, TOP n from the first byte */
	lines = size > 0 ? data[0] % 8 : 0;
	if (size > 0 && data[0] >= 0x80)
		lines = POP3_STUFF_ALL;
	step = size > 1 ? (size_t)data[1] % 13 + 1 : 1;
	buf_init(&out, 4 * size + 16);
	pop3_stuff_init(&st, lines);
	for (i = 0; i < size; i += step) {
		size_t n = size - i < step ? size - i : step;

		if (pop3_stuff_feed(&st, line + i, n, &out) < 0)
			abort();
	}
	if (pop3_stuff_end(&st, &out) < 0)
		abort();
	if (out.len < 3 || memcmp(out.data + out.len - 3, ".\r\n", 3) != 0)
		abort();
	for (i = 0; i < out.len; i++) {
		if (out.data[i] == '\n' && (i == 0 || out.data[i - 1] != '\r'))
			abort();
	}
	if (st.out + 3 > out.len)
		abort();
	buf_free(&out);
	return 0;
}
