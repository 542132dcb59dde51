/*
 * fuzz_smtp_cmd - the SMTP command-line parser on arbitrary bytes: no
 * crash, no read past the given length, a reason for every refusal.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/smtp_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_cmd cmd;
	const char *why = NULL;
	enum smtp_cmd_err e;
	char *copy;

	/* an exact-size heap copy, so ASan sees any overread */
	copy = malloc(size > 0 ? size : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	e = smtp_cmd_parse(copy, size, &cmd, &why);
	if (e != SMTP_CMD_OK && why == NULL)
		abort();
	if (e == SMTP_CMD_OK) {
		if (cmd.arg < copy || cmd.arg + cmd.arglen > copy + size)
			abort();
		if ((cmd.verb == SMTP_V_MAIL || cmd.verb == SMTP_V_RCPT) &&
		    strlen(cmd.path.addr) >= sizeof(cmd.path.addr))
			abort();
		if (cmd.verb == SMTP_V_AUTH && cmd.initial != NULL &&
		    cmd.initial + cmd.initial_len > copy + size)
			abort();
	}
	free(copy);
	return 0;
}
